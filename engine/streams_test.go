package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/shards"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func streamDef(name string) *catalog.Table {
	def := tableDef(name, false)
	def.Stream = catalog.Stream{Enabled: true, ViewType: "NEW_AND_OLD_IMAGES"}
	return def
}

func openClock(t *testing.T, dir string, c *clock) *Engine {
	t.Helper()
	e, err := Open(Options{Dir: dir, Now: c.now, StreamShardPeriod: time.Hour, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func putN(t *testing.T, e *Engine, table string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := e.PutItem(PutRequest{Table: table, Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i))}}); err != nil {
			t.Fatal(err)
		}
	}
}

// coverage checks that the shards of a stream, per table shard, chain
// parent to child with contiguous sequence ranges from the first one's
// start, and returns the number of stream shards per table shard.
func coverage(t *testing.T, e *Engine, table uint32, label string) map[shards.ID]int {
	t.Helper()
	all, err := e.StreamShards(table, label)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(all, func(a, b StreamShard) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	}) {
		t.Fatalf("shards not in id order: %+v", all)
	}
	last := map[shards.ID]StreamShard{}
	n := map[shards.ID]int{}
	for _, s := range all {
		if prev, ok := last[s.Shard]; ok {
			if !prev.Closed || s.Parent != prev.ID || s.Start != prev.End+1 {
				t.Fatalf("shard %s does not continue %+v: %+v", s.ID, prev, s)
			}
		} else if s.Parent != "" {
			t.Fatalf("first shard %s names a parent", s.ID)
		}
		last[s.Shard] = s
		n[s.Shard]++
	}
	for sh, s := range last {
		if s.Closed {
			t.Fatalf("table shard %d has no open stream shard", sh)
		}
	}
	return n
}

// TestStreamRollover checks the lineage: the first change past the period
// closes a shard's stream shard and opens its child, lazily and per shard,
// and the lineage survives a restart.
func TestStreamRollover(t *testing.T) {
	dir, c := t.TempDir(), newClock()
	e := openClock(t, dir, c)
	info := mustCreate(t, e, streamDef("s"))
	label := info.Stream.Label
	putN(t, e, "s", 0, 20)
	if n := coverage(t, e, info.ID, label); n[0] != 1 || n[1] != 1 {
		t.Fatalf("before the period: %v stream shards per shard", n)
	}
	c.add(time.Hour)
	putN(t, e, "s", 20, 20)
	c.add(30 * time.Minute)
	putN(t, e, "s", 40, 20)
	if n := coverage(t, e, info.ID, label); n[0] != 2 || n[1] != 2 {
		t.Fatalf("after one period: %v stream shards per shard", n)
	}
	e.Close()
	e = openClock(t, dir, c)
	defer e.Close()
	c.add(time.Hour)
	putN(t, e, "s", 60, 20)
	if n := coverage(t, e, info.ID, label); n[0] != 3 || n[1] != 3 {
		t.Fatalf("after a restart and another period: %v stream shards per shard", n)
	}
	// Every record of the table is in exactly one stream shard.
	all, _ := e.StreamShards(info.ID, label)
	for _, sh := range []shards.ID{0, 1} {
		total := shards.Seq(0)
		for _, s := range all {
			if s.Shard == sh {
				end := s.End
				if !s.Closed {
					end = e.LastSeq(info.ID, sh)
				}
				total += end - s.Start + 1
			}
		}
		if total != e.LastSeq(info.ID, sh) {
			t.Errorf("shard %d: stream shards cover %d records of %d", sh, total, e.LastSeq(info.ID, sh))
		}
	}
}

// TestStreamEnableDisable checks that each enable is a new stream starting
// after the last change, that disabling closes its shards, and that the
// streams of a deleted table stay listed for the retention window.
func TestStreamEnableDisable(t *testing.T) {
	c := newClock()
	e := openClock(t, t.TempDir(), c)
	defer e.Close()
	info := mustCreate(t, e, tableDef("t", false))
	putN(t, e, "t", 0, 10)
	enable := func(on bool) TableInfo {
		t.Helper()
		c.add(time.Second)
		in, err := e.UpdateTable("t", func(d *catalog.Table) error {
			d.Stream.Enabled = on
			if on {
				d.Stream.ViewType = "KEYS_ONLY"
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	first := enable(true).Stream.Label
	all, _ := e.StreamShards(info.ID, first)
	for _, s := range all {
		if s.Start != e.LastSeq(info.ID, s.Shard)+1 {
			t.Fatalf("a new stream starts at %d, after %d", s.Start, e.LastSeq(info.ID, s.Shard))
		}
	}
	putN(t, e, "t", 10, 10)
	if in := enable(false); in.Stream.Enabled || in.Stream.Label != first {
		t.Fatalf("after disable: %+v", in.Stream)
	}
	putN(t, e, "t", 20, 10) // not in any stream
	all, _ = e.StreamShards(info.ID, first)
	records := 0
	for _, s := range all {
		if !s.Closed {
			t.Fatalf("disabled stream has an open shard %+v", s)
		}
		records += int(s.End - s.Start + 1)
	}
	if records != 10 {
		t.Fatalf("disabled stream covers %d records, want 10", records)
	}
	second := enable(true).Stream.Label
	if second == first {
		t.Fatal("re-enable kept the label")
	}
	streams := e.Streams()
	if len(streams) != 2 || streams[0].Label != first || streams[0].Current || !streams[1].Current {
		t.Fatalf("streams %+v", streams)
	}
	if _, err := e.DeleteTable("t"); err != nil {
		t.Fatal(err)
	}
	streams = e.Streams()
	if len(streams) != 2 || streams[1].Current || streams[1].Disabled.IsZero() {
		t.Fatalf("streams of the deleted table %+v", streams)
	}
	all, _ = e.StreamShards(info.ID, second)
	for _, s := range all {
		if !s.Closed {
			t.Fatalf("deleted table's stream has an open shard %+v", s)
		}
	}
	c.add(25 * time.Hour)
	if streams := e.Streams(); len(streams) != 0 {
		t.Fatalf("streams past retention: %+v", streams)
	}
}

// TestSplitShard splits a shard of a table with a stream: the counters stay
// right, later changes go to the children with sequence numbers after the
// parent's, the lineage names the parent, and all of it survives a restart.
func TestSplitShard(t *testing.T) {
	dir, c := t.TempDir(), newClock()
	e := openClock(t, dir, c)
	info := mustCreate(t, e, streamDef("s"))
	putN(t, e, "s", 0, 200)
	before, _ := e.DescribeTable("s")
	parentLast := e.LastSeq(info.ID, 0)
	spans, err := e.SplitShard("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := spans.Check(); err != nil || len(spans) != 3 || spans[0].ID != 2 || spans[1].ID != 3 || spans[0].Parent != 0 {
		t.Fatalf("map after the split: %+v, %v", spans, err)
	}
	if _, err := e.SplitShard("s", 0); err == nil {
		t.Error("split a shard that is no longer current")
	}
	after, _ := e.DescribeTable("s")
	if after.ItemCount != before.ItemCount || after.SizeBytes != before.SizeBytes {
		t.Fatalf("counters %d/%d after the split, %d/%d before", after.ItemCount, after.SizeBytes, before.ItemCount, before.SizeBytes)
	}
	var rec recorder
	cancel := e.ChangeLog().Subscribe(rec.add)
	putN(t, e, "s", 200, 100) // updates of existing items (same keys) and new ones
	putN(t, e, "s", 0, 50)
	cancel()
	for _, ch := range rec.all() {
		switch ch.Shard {
		case 2, 3:
			if ch.Seq <= parentLast {
				t.Fatalf("child %d record %d not after the parent's last %d", ch.Shard, ch.Seq, parentLast)
			}
		case 1:
		default:
			t.Fatalf("record in shard %d after the split", ch.Shard)
		}
	}
	check := func(e *Engine) {
		t.Helper()
		all, err := e.StreamShards(info.ID, info.Stream.Label)
		if err != nil {
			t.Fatal(err)
		}
		var parent StreamShard
		children := 0
		for _, s := range all {
			if s.Shard == 0 {
				parent = s
			}
		}
		for _, s := range all {
			if s.Shard == 2 || s.Shard == 3 {
				children++
				if s.Parent != parent.ID || s.Start != parent.End+1 || !parent.Closed {
					t.Fatalf("child %+v of %+v", s, parent)
				}
			}
		}
		if children != 2 {
			t.Fatalf("%d child stream shards: %+v", children, all)
		}
		in, _ := e.DescribeTable("s")
		if in.ItemCount != 300 {
			t.Fatalf("item count %d, want 300", in.ItemCount)
		}
		for i := range 300 {
			if getItem(t, e, "s", key(fmt.Sprint("k", i))) == "" {
				t.Fatalf("item k%d lost", i)
			}
		}
	}
	check(e)
	e.Close()
	e = openClock(t, dir, c)
	defer e.Close()
	check(e)
	putN(t, e, "s", 300, 10)
	if in, _ := e.DescribeTable("s"); in.ItemCount != 310 {
		t.Fatalf("after a restart: %d items", in.ItemCount)
	}
	if spans, err := e.SplitShard("s", 3); err != nil || len(spans) != 4 || spans[1].ID != 4 || spans[2].ID != 5 {
		t.Fatalf("second split: %+v, %v", spans, err)
	}
}
