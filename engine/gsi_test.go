package engine

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// gsiTableDef is a table pk (S) with a GSI "by-city" on city (S) and score
// (N), projecting KEYS_ONLY.
func gsiTableDef(name string) *catalog.Table {
	def := readTableDef(name, "")
	def.AttributeDefinitions = append(def.AttributeDefinitions,
		catalog.AttributeDefinition{Name: "city", Type: "S"}, catalog.AttributeDefinition{Name: "score", Type: "N"})
	def.GSIs = []catalog.Index{{
		Name:       "by-city",
		KeySchema:  []catalog.KeyElement{{Name: "city", KeyType: "HASH"}, {Name: "score", KeyType: "RANGE"}},
		Projection: catalog.Projection{Type: "KEYS_ONLY"},
	}}
	return def
}

func gsiEntries(t *testing.T, e *Engine, id uint32) []string {
	t.Helper()
	p := keycodec.GSIPrefix(id, 0)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		v, _ := it.Value()
		_, js, _ := decodeStored(v)
		out = append(out, string(js))
	}
	slices.Sort(out)
	return out
}

// TestApplyGSI applies change records to a GSI: entries follow the images,
// sparse items have none, records at or below the applied position are
// skipped, and the positions are kept.
func TestApplyGSI(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, gsiTableDef("g"))
	it := func(pk, city, score string) []byte {
		item := attr.Item{"pk": attr.S(pk)}
		if city != "" {
			item["city"] = attr.S(city)
		}
		if score != "" {
			item["score"] = num(t, score)
		}
		return attr.AppendItemJSON(nil, item)
	}
	apply := func(cs ...IndexChange) int {
		t.Helper()
		n, err := e.ApplyGSI(info.ID, cs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := apply(
		IndexChange{Shard: 0, Seq: 1, New: it("a", "Oslo", "3"), Stream: 1},
		IndexChange{Shard: 1, Seq: 1, New: it("b", "Rome", "5"), Stream: 2},
		IndexChange{Shard: 0, Seq: 2, New: it("c", "Oslo", ""), Stream: 3}, // sparse: no score
	); n != 3 {
		t.Fatalf("applied %d of 3", n)
	}
	want := []string{`{"city":{"S":"Oslo"},"pk":{"S":"a"},"score":{"N":"3"}}`, `{"city":{"S":"Rome"},"pk":{"S":"b"},"score":{"N":"5"}}`}
	if got := gsiEntries(t, e, info.ID); !slices.Equal(got, want) {
		t.Fatalf("entries %q", got)
	}
	// A move, a removal, and replays of applied records.
	if n := apply(
		IndexChange{Shard: 0, Seq: 1, New: it("a", "Oslo", "3"), Stream: 1},
		IndexChange{Shard: 0, Seq: 3, Old: it("a", "Oslo", "3"), New: it("a", "Lima", "4"), Stream: 4},
		IndexChange{Shard: 1, Seq: 2, Old: it("b", "Rome", "5"), Stream: 5},
	); n != 2 {
		t.Fatalf("applied %d of 2 new records", n)
	}
	if got := gsiEntries(t, e, info.ID); len(got) != 1 || !strings.Contains(got[0], "Lima") {
		t.Fatalf("after a move and a removal: %q", got)
	}
	if in, _ := e.DescribeTable("g"); in.GSIs["by-city"].Items != 1 || in.GSIs["by-city"].Bytes != 3+8+7 { // pk a, city Lima, score 4
		t.Errorf("GSI stats %+v, want 1 entry of 18 bytes", in.GSIs["by-city"])
	}
	if pos, _ := e.GSIPosition(info.ID, 0); pos != 3 {
		t.Errorf("shard 0 at %d, want 3", pos)
	}
	if pos, _ := e.GSIStreamPosition(info.ID); pos != 5 {
		t.Errorf("stream position %d, want 5", pos)
	}
	res, err := e.Query(QueryRequest{Table: "g", Index: "by-city", Hash: attr.S("Lima"), Forward: true})
	if err != nil || res.Count != 1 || !strings.Contains(string(res.Items[0]), `"pk":{"S":"a"}`) {
		t.Fatalf("Query on the GSI: %q, %v", res.Items, err)
	}
	if res.LastKey != nil {
		t.Errorf("LastKey %v", res.LastKey)
	}
	page, err := e.Scan(ScanRequest{Table: "g", Index: "by-city", Limit: 1})
	if err != nil || page.Count != 1 || page.LastKey["city"].S != "Lima" || page.LastKey["pk"].S != "a" {
		t.Fatalf("Scan of the GSI: %+v, %v", page, err)
	}
}

// TestDeleteTableDropsGSIMeta checks that DeleteTable takes the GSIs'
// counters and the indexer's positions with the table, and that the
// indexer applies nothing to the dropped table.
func TestDeleteTableDropsGSIMeta(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, gsiTableDef("g"))
	item := attr.AppendItemJSON(nil, attr.Item{"pk": attr.S("a"), "city": attr.S("Oslo"), "score": num(t, "1")})
	if _, err := e.ApplyGSI(info.ID, []IndexChange{{Shard: 0, Seq: 1, New: item, Stream: 1}}); err != nil {
		t.Fatal(err)
	}
	meta := func() int {
		n := 0
		for _, kind := range []byte{metaGSIStats, metaGSIApplied} {
			p := keycodec.MetaKey(info.ID, kind)
			it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
			if err != nil {
				t.Fatal(err)
			}
			for ok := it.First(); ok; ok = it.Next() {
				n++
			}
			it.Close()
		}
		return n
	}
	if meta() == 0 {
		t.Fatal("no GSI counters or positions written")
	}
	if _, err := e.DeleteTable("g"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ApplyGSI(info.ID, []IndexChange{{Shard: 0, Seq: 2, New: item, Stream: 2}}); err != nil {
		t.Fatal(err)
	}
	if n := meta(); n != 0 {
		t.Fatalf("%d GSI meta records outlive the table", n)
	}
}

// BenchmarkBackfill fills a GSI added to a table of BACKFILL_ITEMS items
// (default 100,000, about 200 bytes each). Issue 5 asks for a million in
// under 60 s:
//
//	BACKFILL_ITEMS=1000000 go test -run '^$' -bench Backfill -benchtime 1x ./engine/
func BenchmarkBackfill(b *testing.B) {
	n := 100_000
	if s := os.Getenv("BACKFILL_ITEMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e, err := Open(Options{Dir: b.TempDir(), Relaxed: true})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	info, err := e.CreateTable(readTableDef("t", ""))
	if err != nil {
		b.Fatal(err)
	}
	pad := attr.S(strings.Repeat("x", 150))
	for i := 0; i < n; i += MaxBatchWrites {
		var ops []BatchWriteOp
		for j := i; j < min(i+MaxBatchWrites, n); j++ {
			ops = append(ops, BatchWriteOp{Table: "t", Item: attr.Item{
				"pk": attr.S(fmt.Sprint("k", j)), "g": attr.S(fmt.Sprint("g", j%1000)), "pad": pad,
			}})
		}
		if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := e.UpdateTable("t", func(d *catalog.Table) error {
			d.AttributeDefinitions = append(d.AttributeDefinitions, catalog.AttributeDefinition{Name: "g", Type: "S"})
			d.GSIs = []catalog.Index{{Name: "by-g", KeySchema: []catalog.KeyElement{{Name: "g", KeyType: "HASH"}},
				Projection: catalog.Projection{Type: "KEYS_ONLY"}, Status: catalog.StatusCreating, Backfilling: true}}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := e.BackfillGSI(info.ID, "by-g"); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "backfill-s")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "items/s")
	}
}

// TestGSIGap decides which records come after changes the GSIs lack.
func TestGSIGap(t *testing.T) {
	def := &catalog.Table{ID: 7, ShardBits: 2, GSIs: []catalog.Index{
		{Name: "old"}, // created with the table
		{Name: "added", Through: map[uint32]uint64{1: 50}}, // backfilled through 50 of shard 1
		{Name: "filling", Backfilling: true},
	}}
	// Recorded positions: shard 1 at 10, shard 5 (a split's child) at 30.
	recorded := map[shards.ID]shards.Seq{1: 10, 5: 30}
	read := func(sh shards.ID) (shards.Seq, bool, error) {
		seq, ok := recorded[sh]
		return seq, ok, nil
	}
	for _, tc := range []struct {
		name    string
		batch   []IndexChange // taken in order before the last, which is checked
		want    []string      // the GSIs that lack changes, nil if none do
		wantGap [2]shards.Seq
	}{
		{name: "next", batch: []IndexChange{{Shard: 1, Seq: 11}}},
		{name: "replayed", batch: []IndexChange{{Shard: 1, Seq: 9}}},
		{name: "gap", batch: []IndexChange{{Shard: 1, Seq: 40}}, want: []string{"old"}, wantGap: [2]shards.Seq{10, 40}},
		{name: "gap past the backfill", batch: []IndexChange{{Shard: 1, Seq: 60}}, want: []string{"old", "added"}, wantGap: [2]shards.Seq{10, 60}},
		{name: "gap inside the batch", batch: []IndexChange{{Shard: 1, Seq: 11}, {Shard: 1, Seq: 12}, {Shard: 1, Seq: 14}}, want: []string{"old"}, wantGap: [2]shards.Seq{12, 14}},
		{name: "first shard from the start", batch: []IndexChange{{Shard: 2, Seq: 1}}},
		{name: "first shard after a gap", batch: []IndexChange{{Shard: 2, Seq: 3}}, want: []string{"old", "added"}, wantGap: [2]shards.Seq{0, 3}},
		{name: "child with a position", batch: []IndexChange{{Shard: 5, Seq: 33}}, want: []string{"old", "added"}, wantGap: [2]shards.Seq{30, 33}},
		{name: "child without one", batch: []IndexChange{{Shard: 6, Seq: 70}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos := trackApplied(read, nil)
			var err error
			for i, c := range tc.batch {
				if err = gsiGap(def, pos, c); err != nil && i < len(tc.batch)-1 {
					t.Fatalf("record %d: %v", i, err)
				}
				if _, terr := pos.take(c.Shard, c.Seq, 0); terr != nil {
					t.Fatal(terr)
				}
			}
			var gap *GSIGapError
			if !errors.As(err, &gap) {
				if tc.want != nil || err != nil {
					t.Fatalf("got %v, want a gap for %v", err, tc.want)
				}
				return
			}
			if !slices.Equal(gap.Indexes, tc.want) || gap.After != tc.wantGap[0] || gap.Next != tc.wantGap[1] || gap.Table != 7 {
				t.Fatalf("got %+v, want %v after %d before %d", gap, tc.want, tc.wantGap[0], tc.wantGap[1])
			}
		})
	}
}

// TestGSIRebuildInPlace: an ACTIVE GSI that backfills again (it lacks
// changes the stream lost) keeps answering for the items it held all along
// while its entries are rewritten, and ends with exactly the entries of
// the table: those of items changed or deleted meanwhile are swept.
func TestGSIRebuildInPlace(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, gsiTableDef("g"))
	const n, changed, deleted = 2500, 100, 100 // more than two backfill batches
	var items []attr.Item
	for i := range n {
		items = append(items, attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "city": attr.S("a"), "score": num(t, strconv.Itoa(i))})
	}
	putAll(t, e, "g", items)
	rebuild := func() {
		t.Helper()
		if err := e.RebackfillGSIs(info.ID, []string{"by-city"}); err != nil {
			t.Fatal(err)
		}
		if err := e.BackfillGSI(info.ID, "by-city"); err != nil {
			t.Fatal(err)
		}
	}
	rebuild()
	count := func(city string) int {
		t.Helper()
		c := 0
		for _, js := range gsiEntries(t, e, info.ID) {
			if strings.Contains(js, `"city":{"S":"`+city+`"}`) {
				c++
			}
		}
		return c
	}
	if got := count("a"); got != n {
		t.Fatalf("first backfill: %d entries, want %d", got, n)
	}

	// Changes the GSI never gets: items move to city b, others go.
	for i := range changed {
		putAll(t, e, "g", []attr.Item{{"pk": attr.S(fmt.Sprint("k", i)), "city": attr.S("b"), "score": num(t, "1")}})
	}
	for i := changed; i < changed+deleted; i++ {
		if _, err := e.DeleteItem(DeleteRequest{Table: "g", Key: attr.Item{"pk": attr.S(fmt.Sprint("k", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	steps := 0
	e.backfillStep = func() {
		steps++
		if got := count("a"); got < n-changed-deleted {
			t.Errorf("after %d batches of the rebuild the GSI holds %d of the %d items it always held", steps, got, n-changed-deleted)
		}
	}
	rebuild()
	e.backfillStep = nil
	if steps < 2 {
		t.Fatalf("the rebuild committed %d intermediate batches; the test needs more", steps)
	}
	if a, b := count("a"), count("b"); a != n-changed-deleted || b != changed {
		t.Errorf("after the rebuild: %d entries in a, %d in b; want %d and %d", a, b, n-changed-deleted, changed)
	}
	in, err := e.DescribeTable("g")
	if err != nil {
		t.Fatal(err)
	}
	if in.GSIs["by-city"].Items != n-deleted {
		t.Errorf("GSI stats after the rebuild: %+v, want %d items", in.GSIs, n-deleted)
	}
}

// TestGSILostChanges finds changes the GSIs still need that neither the
// change log nor, so, the stream holds any more, on shards whose next
// record may never come.
func TestGSILostChanges(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, gsiTableDef("g"))
	var items []attr.Item
	for i := range 40 {
		items = append(items, attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "city": attr.S("a"), "score": num(t, strconv.Itoa(i))})
	}
	putAll(t, e, "g", items)
	lasts := e.lastSeqs(info.ID)
	if len(lasts) < 2 || lasts[0] < 3 || lasts[1] < 3 {
		t.Fatalf("the test needs three records on shards 0 and 1: %v", lasts)
	}
	lost := func(wantAfter, wantNext shards.Seq, wantShard shards.ID) {
		t.Helper()
		err := e.GSILostChanges(info.ID)
		var gap *GSIGapError
		if wantNext == 0 {
			if err != nil {
				t.Fatalf("got %v, want no lost changes", err)
			}
			return
		}
		if !errors.As(err, &gap) || gap.Shard != wantShard || gap.After != wantAfter || gap.Next != wantNext ||
			!slices.Equal(gap.Indexes, []string{"by-city"}) {
			t.Fatalf("got %v, want changes %d to %d of shard %d lost for by-city", err, wantAfter+1, wantNext-1, wantShard)
		}
	}
	trim := func(sh shards.ID, through shards.Seq) {
		t.Helper()
		if err := e.ChangeLog().Trim(info.ID, sh, through); err != nil {
			t.Fatal(err)
		}
	}

	// The indexer has read nothing, but the log holds every record.
	lost(0, 0, 0)
	// The log of shard 0 lost records 1 and 2.
	trim(0, 2)
	lost(0, 3, 0)
	// The indexer had applied them: nothing is lost.
	if _, err := e.ApplyGSI(info.ID, []IndexChange{
		{Shard: 0, Seq: 1, New: attr.AppendItemJSON(nil, items[0])},
		{Shard: 0, Seq: 2, New: attr.AppendItemJSON(nil, items[1])},
	}); err != nil {
		t.Fatal(err)
	}
	lost(0, 0, 0)
	// The whole log of shard 1 is gone: its records to the last are lost.
	trim(1, lasts[1])
	lost(0, lasts[1]+1, 1)
	position := func(sh shards.ID, want shards.Seq) {
		t.Helper()
		if got, err := e.GSIPosition(info.ID, sh); err != nil || got != want {
			t.Fatalf("shard %d's GSI position is %d (%v), want %d", sh, got, err, want)
		}
	}
	// A new backfill will cover them: no GSI needs them any more, and
	// none will ever get them, so the shard's position moves past them.
	position(1, 0)
	if err := e.RebackfillGSIs(info.ID, []string{"by-city"}); err != nil {
		t.Fatal(err)
	}
	lost(0, 0, 0)
	position(1, lasts[1])
	position(0, 2) // its log still holds the records after 2
	if err := e.BackfillGSI(info.ID, "by-city"); err != nil {
		t.Fatal(err)
	}
	lost(0, 0, 0)
	position(1, lasts[1])
	// A shard only looked at gets no position: a split's child must
	// have none until its first record (gsiGap).
	if _, recorded, err := e.readPosition(gsiAppliedKey(info.ID, 2), "GSI", info.ID, 2); err != nil || recorded {
		t.Errorf("shard 2, never applied, has a GSI position (%v)", err)
	}
}
