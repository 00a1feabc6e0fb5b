package consumers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// gsiRig is an engine with table "t" (pk S) and its GSI "by-g" on g (S),
// its relay on an embedded JetStream running until the test ends, and a
// GSI indexer started and stopped by the test.
type gsiRig struct {
	t     testing.TB
	e     *engine.Engine
	bus   *bus.Bus
	table uint32
}

// newGSIRig opens the engine with relaxed durability (fsync unless
// relaxed is false) and projects the GSI as projection (KEYS_ONLY, ALL).
func newGSIRig(t testing.TB, relaxed bool, projection string) *gsiRig {
	t.Helper()
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Relaxed: relaxed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	info, err := e.CreateTable(&catalog.Table{
		Name:                 "t",
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}, {Name: "g", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
		GSIs: []catalog.Index{{Name: "by-g", KeySchema: []catalog.KeyElement{{Name: "g", KeyType: "HASH"}},
			Projection: catalog.Projection{Type: projection}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &gsiRig{t: t, e: e, bus: cdctest.StartBus(t), table: info.ID}
	startRelay(t, e, r.bus)
	return r
}

// index runs an indexer until stop, or the test's end.
func (r *gsiRig) index() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = NewGSIIndexer(r.e, r.bus.JetStream(), nil).Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	r.t.Cleanup(stop)
	return stop
}

func (r *gsiRig) put(k, g string) {
	r.t.Helper()
	if _, err := r.e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(k), "g": attr.S(g)}}); err != nil {
		r.t.Fatal(err)
	}
}

// waitCounts waits until the GSI's partitions named hold want items each.
func (r *gsiRig) waitCounts(want map[string]int) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]int{}
		for g := range want {
			res, err := r.e.Query(engine.QueryRequest{Table: "t", Index: "by-g", Hash: attr.S(g), Forward: true})
			if err != nil {
				r.t.Fatal(err)
			}
			got[g] = res.Count
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("GSI partitions hold %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gsi describes the GSI: its definition and its entry count.
func (r *gsiRig) gsi() (catalog.Index, int64) {
	r.t.Helper()
	desc, err := r.e.DescribeTable("t")
	if err != nil {
		r.t.Fatal(err)
	}
	return desc.Table.GSIs[0], desc.GSIs["by-g"].Items
}

// waitRebuilt waits until the GSI is ACTIVE again after a new backfill.
// Its entries are right a moment before that: the backfill rewrites them,
// then marks the GSI.
func (r *gsiRig) waitRebuilt() {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ix, _ := r.gsi()
		if !ix.Backfilling && ix.Status == catalog.StatusActive && ix.Through != nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the GSI was not backfilled again: backfilling %v, status %s, backfilled through %v", ix.Backfilling, ix.Status, ix.Through)
		}
	}
}

// TestGSIIndexer runs the relay and the indexer in process (so -race sees
// them): writers change items of a table with a GSI, and the GSI ends equal
// to the table, including after the indexer restarts.
func TestGSIIndexer(t *testing.T) {
	r := newGSIRig(t, true, "KEYS_ONLY")
	stop := r.index()
	for i := range 200 {
		r.put(fmt.Sprint("k", i%50), fmt.Sprint("g", i%7))
		if i == 100 {
			stop() // the indexer stops and resumes from its position
			stop = r.index()
		}
	}
	want := map[string]int{}
	for g := range 7 {
		want[fmt.Sprint("g", g)] = 0
	}
	for i := 150; i < 200; i++ {
		want[fmt.Sprint("g", i%7)]++
	}
	r.waitCounts(want)
}

// loseChanges indexes 60 items in GSI partition "a". Then, while the
// indexer is down, 30 of them move to "b" (stream sequences 61 to 90), and
// the stream loses their changes up to through.
func (r *gsiRig) loseChanges(through uint64) {
	r.t.Helper()
	stop := r.index()
	for i := range 60 {
		r.put(fmt.Sprint("k", i), "a")
	}
	r.waitCounts(map[string]int{"a": 60})
	stop()
	for i := range 30 {
		r.put(fmt.Sprint("k", i), "b")
	}
	stream := waitStream(r.t, r.bus, r.table, 90)
	for seq := uint64(61); seq <= through; seq++ {
		if err := stream.DeleteMsg(context.Background(), seq); err != nil {
			r.t.Fatal(err)
		}
	}
}

// TestGSIIndexerGap: changes the stream lost before the indexer read them
// (deleted from it here; records the indexer was too far behind for expire
// the same way) leave a gap in their shards' sequence numbers; when the
// shards' next records come, the indexer backfills the GSI again rather
// than go on without them.
func TestGSIIndexerGap(t *testing.T) {
	r := newGSIRig(t, true, "KEYS_ONLY")
	r.loseChanges(75)
	// Later changes on every shard reveal the gaps.
	for i := range 40 {
		r.put(fmt.Sprint("n", i), "c")
	}
	r.index()
	r.waitRebuilt()
	r.waitCounts(map[string]int{"a": 30, "b": 30, "c": 40})
	if _, n := r.gsi(); n != 100 {
		t.Errorf("GSI counts %d entries, want 100", n)
	}
}

// TestGSIIndexerLostOnIdleShards: changes the indexer never read leave the
// stream and then the change log (both past retention, here by hand), and
// no later record comes on their shards to show a gap. The indexer finds
// them gone all the same and backfills the GSI again.
func TestGSIIndexerLostOnIdleShards(t *testing.T) {
	r := newGSIRig(t, true, "KEYS_ONLY")
	r.loseChanges(90)
	lg := r.e.ChangeLog()
	for _, p := range lg.Positions() {
		if p.TableID == r.table {
			if err := lg.Trim(p.TableID, p.Shard, p.Last); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.index()
	r.waitRebuilt()
	r.waitCounts(map[string]int{"a": 30, "b": 30})
	// The lost changes no longer count as behind: a strongly consistent
	// read does not wait for them (the next look moves the positions).
	if err := r.e.WaitGSI("t", 2*gsiLostEvery); err != nil {
		t.Fatal(err)
	}
}

// TestGSIIndexerSplit: a split's children continue their parent's
// sequence numbers, which is no gap: the GSI follows them without a new
// backfill (which would leave it backfilled through some changes).
func TestGSIIndexerSplit(t *testing.T) {
	r := newGSIRig(t, true, "KEYS_ONLY")
	r.index()
	for i := range 200 {
		if i == 100 {
			if _, err := r.e.SplitShard("t", 0); err != nil {
				t.Fatal(err)
			}
		}
		r.put(fmt.Sprint("k", i), "a")
	}
	if err := r.e.WaitGSI("t", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	r.waitCounts(map[string]int{"a": 200})
	if ix, _ := r.gsi(); ix.Through != nil {
		t.Errorf("the split made the GSI backfill again (through %v)", ix.Through)
	}
}
