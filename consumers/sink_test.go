package consumers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/audit"
)

// TestAuditSinkExactlyOnce: an audit sink gets every change once, in a log
// that verifies, through restarts of the runtime and a pause.
func TestAuditSinkExactlyOnce(t *testing.T) {
	f := newFixture(t, "orders")
	dir := t.TempDir()
	if _, err := f.trg.CreateSink(f.ctx, config.Sink{Name: "aud", Table: "orders", Type: config.SinkAudit, Path: dir}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		f.put("orders", fmt.Sprint("k", i%25), i)
		switch i {
		case 80, 200:
			f.restart()
		case 120:
			if _, err := f.trg.SetSinkEnabled(f.ctx, "aud", false); err != nil {
				t.Fatal(err)
			}
		case 150:
			if _, err := f.trg.SetSinkEnabled(f.ctx, "aud", true); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, "orders.jsonl")
	var lines int64
	var verr error
	deadline := time.Now().Add(15 * time.Second)
	for lines, verr = audit.Verify(path); verr != nil || lines < n; lines, verr = audit.Verify(path) {
		if time.Now().After(deadline) {
			info, _ := f.trg.GetSink(f.ctx, "aud")
			t.Fatalf("the log has %d lines (%v), want %d; sink %+v", lines, verr, n, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if lines, err := audit.Verify(path); err != nil || lines != n {
		t.Fatalf("Verify = %d, %v; want %d lines", lines, err, n)
	}
	b, _ := os.ReadFile(path)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l struct {
			Shard int    `json:"shard"`
			Seq   string `json:"seq"`
		}
		json.Unmarshal([]byte(line), &l)
		k := fmt.Sprint(l.Shard, "/", l.Seq)
		if seen[k] {
			t.Fatalf("record %s twice", k)
		}
		seen[k] = true
	}
	info, err := f.trg.GetSink(f.ctx, "aud")
	if err != nil || info.State != "Enabled" {
		t.Fatalf("GetSink = %+v, %v", info, err)
	}
	if _, err := f.trg.DeleteSink(f.ctx, "aud"); err != nil {
		t.Fatal(err)
	}
	if all, _ := f.trg.ListSinks(f.ctx, ""); len(all) != 0 {
		t.Errorf("ListSinks after DeleteSink: %+v", all)
	}
}

// stateSink is a sink that keeps item state in memory, as a search index
// or a replica does; it counts snapshot records.
type stateSink struct {
	mu        sync.Mutex
	items     map[string]string
	snapshots int
	resets    int
}

func (s *stateSink) Connect(context.Context) error { return nil }
func (s *stateSink) Close(context.Context) error   { return nil }
func (s *stateSink) Reset(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets++
	clear(s.items)
	return nil
}
func (s *stateSink) Write(_ context.Context, b []sinks.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range b {
		if r.Seq == 0 {
			s.snapshots++
		}
		if r.New == nil {
			delete(s.items, string(r.Keys))
		} else {
			s.items[string(r.Keys)] = string(r.New)
		}
	}
	return nil
}

// TestSinkSnapshot: a search or replication sink created on a table that
// already has items copies them, then follows the stream from where it
// stood before the copy, and ends equal to the table.
func TestSinkSnapshot(t *testing.T) {
	f := newFixture(t, "orders")
	for i := range 200 {
		f.put("orders", fmt.Sprint("k", i%60), i)
	}
	ss := &stateSink{items: map[string]string{}}
	f.stop()
	rt, err := OpenRuntime(f.ctx, f.e, f.js, Declared{}, nil, RuntimeOptions{
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		NewSink: func(*config.Sink) (sinks.Sink, error) { return ss, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.trg = rt
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = rt.Run(ctx) })
	f.stop = func() { cancel(); wg.Wait() }
	if _, err := rt.CreateSink(f.ctx, config.Sink{Name: "idx", Table: "orders", Type: config.SinkSearch, Fields: []string{"v"}}); err != nil {
		t.Fatal(err)
	}
	// Writes during and after the copy.
	for i := 200; i < 300; i++ {
		f.put("orders", fmt.Sprint("k", i%70), i)
		if i%10 == 0 {
			if _, err := f.e.DeleteItem(engine.DeleteRequest{Table: "orders", Key: attr.Item{"pk": attr.S(fmt.Sprint("k", i%70))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := func() map[string]string {
		out := map[string]string{}
		page, err := f.e.Scan(engine.ScanRequest{Table: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		for _, js := range page.Items {
			var item attr.Item
			item.UnmarshalJSON(js)
			k, _ := json.Marshal(attr.Item{"pk": item["pk"]})
			out[string(k)] = string(js)
		}
		return out
	}()
	waitFor(t, "the sink to equal the table", func() bool {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if len(ss.items) != len(want) {
			return false
		}
		for k, v := range want {
			if ss.items[k] != v {
				return false
			}
		}
		return true
	})
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// The copy sees the 60 items there before, and perhaps some written
	// while it ran (the stream replays those too).
	if ss.snapshots < 60 || ss.resets != 1 {
		t.Errorf("snapshot records %d (want at least the 60 items there before), resets %d", ss.snapshots, ss.resets)
	}
}
