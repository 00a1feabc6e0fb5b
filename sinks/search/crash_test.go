package search

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// The crash test runs the sink in a child process (this test binary again)
// that writes the suite's records in batches and prints how many are
// acknowledged after each Write; the parent kills it with SIGKILL at some
// point, reopens the index, and checks that everything acknowledged is
// there, marks included. The next child starts from the last acknowledged
// record, as the runtime would from its checkpoint.
const (
	crashDirEnv   = "SLUICE_SEARCH_CRASH_DIR"
	crashFromEnv  = "SLUICE_SEARCH_CRASH_FROM"
	crashRecords  = 3000
	crashBatch    = 7
	crashCycles   = 4
	crashStartAck = 40 // acknowledged records before the first kill
)

func crashRecs() []sinks.Record {
	return sinktest.Records(crashRecords, time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
}

func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	recs := crashRecs()
	from := 0
	for cycle := range crashCycles {
		killAt := from + crashStartAck + cycle*37
		acked, finished := runCrashChild(t, dir, from, killAt)
		if acked < from {
			t.Fatalf("cycle %d: child acknowledged %d records, fewer than it started from (%d)", cycle, acked, from)
		}
		st := crashState(t, dir)
		// The index holds the acknowledged records and perhaps some
		// batches after them (durable, not yet acknowledged) — never less.
		ok := false
		for m := acked; m <= len(recs) && !ok; m += crashBatch {
			ok = st.matches(recs[:m])
			if finished {
				break
			}
		}
		if !ok {
			t.Fatalf("cycle %d: after a kill at %d acknowledged records the index (marks %v, %d items) holds no prefix of the records from there on",
				cycle, acked, st.marks, len(st.items))
		}
		from = acked
		if finished {
			break
		}
	}
	// The last child runs to the end.
	if acked, finished := runCrashChild(t, dir, from, -1); !finished || acked != len(recs) {
		t.Fatalf("the last child acknowledged %d of %d records, finished %v", acked, len(recs), finished)
	}
	if st := crashState(t, dir); !st.matches(recs) {
		t.Fatalf("after all the records the index holds marks %v and %d items", st.marks, len(st.items))
	}
}

// runCrashChild runs a child that writes recs[from:] and kills it once it
// acknowledged killAt records (never if killAt < 0). It returns the last
// count acknowledged and whether the child finished.
func runCrashChild(t *testing.T, dir string, from, killAt int) (acked int, finished bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashFromEnv+"="+strconv.Itoa(from))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked = from
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "acked "); ok {
			if acked, err = strconv.Atoi(n); err != nil {
				t.Fatalf("child printed %q", line)
			}
			if killAt >= 0 && acked >= killAt {
				_ = cmd.Process.Kill() // SIGKILL
				break
			}
		}
		if line == "finished" {
			finished = true
		}
	}
	_, _ = bufio.NewReader(out).WriteTo(devNull{})
	err = cmd.Wait()
	if finished && err != nil {
		t.Fatalf("child: %v", err)
	}
	return acked, finished
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// crashChild writes the records from $SLUICE_SEARCH_CRASH_FROM on, and
// prints the count acknowledged after each Write.
func crashChild(dir string) {
	from, err := strconv.Atoi(os.Getenv(crashFromEnv))
	if err != nil {
		panic(err)
	}
	s, err := New(Options{Dir: dir, Table: sinktest.Table, Fields: []string{"title", "n"}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		panic(err)
	}
	recs := crashRecs()
	for i := from; i < len(recs); i += crashBatch {
		end := min(i+crashBatch, len(recs))
		if err := s.Write(ctx, recs[i:end]); err != nil {
			panic(err)
		}
		fmt.Printf("acked %d\n", end)
	}
	if err := s.Close(ctx); err != nil {
		panic(err)
	}
	fmt.Println("finished")
	os.Exit(0)
}

type crashIndex struct {
	marks map[shards.ID]shards.Seq
	items map[string]string
}

func crashState(t *testing.T, dir string) crashIndex {
	t.Helper()
	s, err := New(Options{Dir: dir, Table: sinktest.Table, Fields: []string{"title", "n"}})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, s)
	defer closeSink(t, s)
	return crashIndex{marks: s.Position(), items: dump(t, s)}
}

// matches reports whether the index holds exactly what recs leave.
func (c crashIndex) matches(recs []sinks.Record) bool {
	marks := map[shards.ID]shards.Seq{}
	items := map[string]string{}
	for _, r := range recs {
		marks[r.Shard] = max(marks[r.Shard], r.Seq)
		if r.New == nil {
			delete(items, string(r.Keys))
		} else {
			items[string(r.Keys)] = string(r.New)
		}
	}
	return maps.Equal(marks, c.marks) && maps.Equal(items, c.items)
}
