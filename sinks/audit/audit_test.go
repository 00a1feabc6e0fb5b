package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// env is an audit log in a temporary directory.
type env struct {
	dir    string
	broken atomic.Bool
}

func (e *env) Open() sinks.Sink {
	s, err := New(Options{Dir: e.dir, Table: sinktest.Table})
	if err != nil {
		panic(err)
	}
	s.fault = func() error {
		if e.broken.Load() {
			return errors.New("disk full")
		}
		return nil
	}
	return s
}

func (e *env) Break() { e.broken.Store(true) }
func (e *env) Heal()  { e.broken.Store(false) }

func (e *env) State(t *testing.T) sinktest.State {
	path := filepath.Join(e.dir, sinktest.Table+".jsonl")
	if _, err := Verify(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the log does not verify: %v", err)
	}
	st := sinktest.State{Applied: map[sinks.Key]int{}, Order: map[sinktest.ShardKey][]shards.Seq{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var l struct {
			Table string    `json:"table"`
			Shard shards.ID `json:"shard"`
			Seq   string    `json:"seq"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		seq, err := shards.ParseSeq(l.Seq)
		if err != nil {
			t.Fatal(err)
		}
		st.Applied[sinks.Key{Table: l.Table, Shard: l.Shard, Seq: seq}]++
		sk := sinktest.ShardKey{Table: l.Table, Shard: l.Shard}
		st.Order[sk] = append(st.Order[sk], seq)
	}
	return st
}

func TestSinkConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Env { return &env{dir: t.TempDir()} })
}

// write writes recs to a fresh log in dir and returns its path.
func write(t *testing.T, dir string, recs []sinks.Record) string {
	t.Helper()
	s, err := New(Options{Dir: dir, Table: sinktest.Table})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return s.Path()
}

// TestLines: each line names the change and who made it, a TTL deletion
// the service.
func TestLines(t *testing.T) {
	recs := sinktest.Records(10, time.Unix(1_800_000_000, 0))
	recs[9].Who.Service = true
	path := write(t, t.TempDir(), recs)
	b, _ := os.ReadFile(path)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10", len(lines))
	}
	var first, last map[string]any
	_ = json.Unmarshal(lines[0], &first)
	_ = json.Unmarshal(lines[9], &last)
	who := first["who"].(map[string]any)
	if first["eventName"] != "INSERT" || who["accessKeyId"] != "AKID" || who["requestId"] != "req-0" || who["sourceAddress"] != "127.0.0.1:1" {
		t.Errorf("first line: %s", lines[0])
	}
	if w := last["who"].(map[string]any); w["type"] != "Service" || w["principalId"] != "dynamodb.amazonaws.com" {
		t.Errorf("TTL line: %s", lines[9])
	}
}

// TestVerify: every way of tampering with a log is found, at the first
// bad line.
func TestVerify(t *testing.T) {
	recs := sinktest.Records(8, time.Unix(1_800_000_000, 0))
	for _, tc := range []struct {
		name   string
		tamper func(lines [][]byte) [][]byte
		line   int64 // 0: the log verifies
	}{
		{"intact", func(l [][]byte) [][]byte { return l }, 0},
		{"altered", func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"AKID"`), []byte(`"EVIL"`), 1)
			return l
		}, 5},
		{"removed", func(l [][]byte) [][]byte { return slices.Delete(l, 2, 3) }, 3},
		{"reordered", func(l [][]byte) [][]byte { l[4], l[5] = l[5], l[4]; return l }, 5},
		{"inserted", func(l [][]byte) [][]byte { return slices.Insert(l, 6, l[1]) }, 7},
		{"last altered", func(l [][]byte) [][]byte {
			l[7] = bytes.Replace(l[7], []byte(`"AKID"`), []byte(`"EVIL"`), 1)
			return l
		}, 8},
		{"last removed", func(l [][]byte) [][]byte { return l[:7] }, 8},
		{"truncated line", func(l [][]byte) [][]byte { l[7] = l[7][:10]; return l }, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, t.TempDir(), recs)
			b, _ := os.ReadFile(path)
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			out := bytes.Join(tc.tamper(lines), []byte("\n"))
			if tc.name != "truncated line" {
				out = append(out, '\n')
			}
			if err := os.WriteFile(path, out, 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(path)
			var ve *VerifyError
			switch {
			case tc.line == 0 && err != nil:
				t.Fatalf("Verify = %v", err)
			case tc.line != 0 && !errors.As(err, &ve):
				t.Fatalf("Verify = %v, want a *VerifyError at line %d", err, tc.line)
			case tc.line != 0 && ve.Line != tc.line:
				t.Errorf("Verify = %v, want line %d", err, tc.line)
			}
		})
	}
}

// TestCrashMidLine: a line cut short by a crash is dropped on Connect and
// written again whole.
func TestCrashMidLine(t *testing.T) {
	dir := t.TempDir()
	recs := sinktest.Records(6, time.Unix(1_800_000_000, 0))
	path := write(t, dir, recs[:5])
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"table":"Orders","shard":1,"se`)
	f.Close()
	write(t, dir, recs)
	if n, err := Verify(path); err != nil || n != 6 {
		t.Fatalf("Verify = %d, %v; want 6 lines", n, err)
	}
}

func BenchmarkWrite(b *testing.B) {
	recs := sinktest.Records(1000, time.Unix(1_800_000_000, 0))
	s, _ := New(Options{Dir: b.TempDir(), Table: sinktest.Table})
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	b.ResetTimer()
	start := time.Now()
	written := 0
	for i := range b.N {
		// Fresh sequence numbers each round, so nothing is skipped.
		for j := range recs {
			recs[j].Seq = shards.Seq(i*1000 + j + 1)
		}
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		written += len(recs)
	}
	b.ReportMetric(float64(written)/time.Since(start).Seconds(), "records/s")
}
