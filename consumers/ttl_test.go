package consumers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// ttlClock is a clock tests set; it never moves by itself.
type ttlClock struct{ ns atomic.Int64 }

func newTTLClock(t time.Time) *ttlClock {
	c := &ttlClock{}
	c.set(t)
	return c
}

func (c *ttlClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *ttlClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *ttlClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// ttlRig runs an engine's relay and TTL reaper (and, if asked, GSI
// indexer) in process on an embedded JetStream.
type ttlRig struct {
	t      *testing.T
	e      *engine.Engine
	bus    *bus.Bus
	clock  *ttlClock
	reaper *TTLReaper
	stop   func()
}

// startTTL starts the relay and a reaper of e with the given interval
// (Pass alone reaps when it is an hour).
func startTTL(t *testing.T, e *engine.Engine, b *bus.Bus, clock *ttlClock, interval time.Duration, gsi bool) *ttlRig {
	t.Helper()
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	r := NewTTLReaper(e, b.JetStream(), TTLOptions{Now: clock.now, Interval: interval})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	wg.Go(func() { _ = r.Run(ctx) })
	if gsi {
		wg.Go(func() { _ = NewGSIIndexer(e, b.JetStream(), nil).Run(ctx) })
	}
	rig := &ttlRig{t: t, e: e, bus: b, clock: clock, reaper: r}
	var once sync.Once
	rig.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(rig.stop)
	return rig
}

// startTTLTable opens an engine at the test clock's start with table "t"
// (TTL on "exp") and starts its relay and a reaper with the given interval.
func startTTLTable(t *testing.T, interval time.Duration) (*ttlRig, time.Time) {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	clock := newTTLClock(now)
	e := openTTLEngine(t, t.TempDir(), clock)
	ttlCreate(t, e, ttlTable("t", true))
	return startTTL(t, e, cdctest.StartBus(t), clock, interval, false), now
}

func openTTLEngine(t *testing.T, dir string, clock *ttlClock) *engine.Engine {
	t.Helper()
	e, err := engine.Open(engine.Options{Dir: dir, Relaxed: true, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func ttlTable(name string, ttl bool) *catalog.Table {
	def := &catalog.Table{
		Name:                 name,
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
	}
	if ttl {
		def.TTL = catalog.TTL{Enabled: true, Attribute: "exp"}
	}
	return def
}

func ttlCreate(t testing.TB, e *engine.Engine, def *catalog.Table) engine.TableInfo {
	t.Helper()
	info, err := e.CreateTable(def)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// waitIndex waits until the table's expiry index has applied every change
// committed so far.
func (r *ttlRig) waitIndex(table string) {
	r.t.Helper()
	if err := r.e.WaitTTL(table, 10*time.Second); err != nil {
		r.t.Fatal(err)
	}
}

// pass reaps once after the index caught up and returns how many items
// went.
func (r *ttlRig) pass(table string) int {
	r.t.Helper()
	r.waitIndex(table)
	n, err := r.reaper.Pass()
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *ttlRig) put(table string, item attr.Item) {
	r.t.Helper()
	if _, err := r.e.PutItem(engine.PutRequest{Table: table, Item: item}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *ttlRig) exists(table string, key attr.Item) bool {
	r.t.Helper()
	res, err := r.e.GetItem(engine.GetRequest{Table: table, Key: key})
	if err != nil {
		r.t.Fatal(err)
	}
	return res.Item != nil
}

// ttlRemoves records the subjects (item keys) of the REMOVE records
// made by the service.
type ttlRemoves struct {
	mu   sync.Mutex
	keys []string
}

func watchTTLRemoves(t *testing.T, e *engine.Engine) *ttlRemoves {
	s := &ttlRemoves{}
	t.Cleanup(e.ChangeLog().Subscribe(func(cs []engine.Change) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range cs {
			env, err := event.Decode(c.Data)
			if err != nil {
				panic(err)
			}
			data := string(env.Data)
			if strings.Contains(data, `"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}`) {
				if !strings.Contains(data, `"eventName":"REMOVE"`) {
					panic("a service record that is not a REMOVE: " + data)
				}
				s.keys = append(s.keys, env.Header(event.HdrSubject))
			}
		}
	}))
	return s
}

func (s *ttlRemoves) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func ttlNum(t testing.TB, s string) attr.Value {
	t.Helper()
	n, err := attr.ParseNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return attr.N(n)
}

func ttlSecs(t testing.TB, n int64) attr.Value { return ttlNum(t, fmt.Sprint(n)) }

// TestTTLReaper expires items with a test clock: past TTLs go, future ones,
// non-numbers and values more than five years old stay, and each deletion
// is a REMOVE record by the service.
func TestTTLReaper(t *testing.T) {
	rig, now := startTTLTable(t, time.Hour)
	removes := watchTTLRemoves(t, rig.e)
	items := map[string]attr.Value{
		"past":       ttlSecs(t, now.Unix()-10),
		"now":        ttlSecs(t, now.Unix()),
		"future":     ttlSecs(t, now.Unix()+10),
		"string":     attr.S("1000"),
		"ancient":    ttlSecs(t, now.Add(-6*365*24*time.Hour).Unix()),
		"fractional": ttlNum(t, "1799999999.5"),
	}
	for k, v := range items {
		rig.put("t", attr.Item{"pk": attr.S(k), "exp": v})
	}
	rig.put("t", attr.Item{"pk": attr.S("none")})
	if n := rig.pass("t"); n != 3 {
		t.Fatalf("first pass deleted %d; want past, now, fractional", n)
	}
	for k := range items {
		gone := !rig.exists("t", attr.Item{"pk": attr.S(k)})
		if want := k == "past" || k == "now" || k == "fractional"; gone != want {
			t.Errorf("item %s: deleted %v, want %v", k, gone, want)
		}
	}
	if n := removes.count(); n != 3 {
		t.Errorf("%d REMOVE records by the service, want 3: %q", n, removes.keys)
	}
	// Metrics: nothing behind, three deleted; once the clock passes
	// "future", it is overdue by the time passed.
	rig.waitIndex("t")
	if got := ttlMetrics(t, rig.reaper); got != "lag 0, deleted 3, overdue 0" {
		t.Errorf("metrics %s", got)
	}
	rig.clock.add(20 * time.Second)
	if got := ttlMetrics(t, rig.reaper); got != "lag 0, deleted 3, overdue 10" {
		t.Errorf("metrics before the second pass %s", got)
	}
	if n := rig.pass("t"); n != 1 {
		t.Fatalf("second pass deleted %d; want future", n)
	}
	if rig.exists("t", attr.Item{"pk": attr.S("none")}) != true {
		t.Error("the item without a TTL went")
	}
}

// TestTTLReaperBound runs the reaper on its own: once the clock passes
// their expiry, items go within the 2-second bound (the clock is moved,
// nothing sleeps until an expiry).
func TestTTLReaperBound(t *testing.T) {
	rig, now := startTTLTable(t, 100*time.Millisecond)
	for i := range 100 {
		rig.put("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()+5)})
	}
	rig.waitIndex("t")
	rig.clock.add(4 * time.Second)
	time.Sleep(300 * time.Millisecond) // three intervals: nothing is due yet
	if info, _ := rig.e.DescribeTable("t"); info.ItemCount != 100 {
		t.Fatalf("%d items left before the expiry", info.ItemCount)
	}
	rig.clock.add(time.Second)
	start := time.Now()
	for {
		info, err := rig.e.DescribeTable("t")
		if err != nil {
			t.Fatal(err)
		}
		if info.ItemCount == 0 {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%d items left 2 s after their expiry", info.ItemCount)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("100 items expired %s after their expiry", time.Since(start).Round(time.Millisecond))
}

// TestTTLReaperLaterExpiry updates an item to a later expiry after the
// reaper read its entry and before it deletes: the condition keeps it, the
// others go, and it expires at its new time.
func TestTTLReaperLaterExpiry(t *testing.T) {
	rig, now := startTTLTable(t, time.Hour)
	for i := range 10 {
		rig.put("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()-1)})
	}
	var raced atomic.Int32
	rig.reaper.beforeExpire = func(_ uint32, due []engine.TTLEntry) {
		if raced.Add(1) != 1 {
			return
		}
		if !slices.ContainsFunc(due, func(d engine.TTLEntry) bool { return d.Key()["pk"].S == "k3" }) {
			t.Error("k3 not due")
		}
		rig.put("t", attr.Item{"pk": attr.S("k3"), "exp": ttlSecs(t, now.Unix()+60)})
	}
	if n := rig.pass("t"); n != 9 {
		t.Fatalf("deleted %d, want 9", n)
	}
	if !rig.exists("t", attr.Item{"pk": attr.S("k3")}) {
		t.Fatal("k3, updated to a later expiry, was deleted")
	}
	rig.reaper.beforeExpire = nil
	if n := rig.pass("t"); n != 0 {
		t.Fatalf("deleted %d before k3's new expiry", n)
	}
	rig.clock.add(time.Minute)
	if n := rig.pass("t"); n != 1 || rig.exists("t", attr.Item{"pk": attr.S("k3")}) {
		t.Fatalf("deleted %d at k3's new expiry", n)
	}
}

// TestTTLReaperCountsAsItGoes checks that the deleted-items metric counts
// deletions while a pass goes on, not only when it ends: by the time the
// pass reads its third page of due entries, the first page's deletions
// are counted.
func TestTTLReaperCountsAsItGoes(t *testing.T) {
	rig, now := startTTLTable(t, time.Hour)
	const n = 3 * ttlPage
	for i := range n {
		rig.put("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()-1)})
	}
	pages := 0
	rig.reaper.beforeExpire = func(uint32, []engine.TTLEntry) {
		if pages++; pages != 3 {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var deleted float64
			m := ttlMetrics(t, rig.reaper)
			if _, err := fmt.Sscanf(m[strings.Index(m, "deleted"):], "deleted %g", &deleted); err != nil {
				t.Fatalf("%q: %v", m, err)
			}
			if deleted > 0 {
				if deleted >= n {
					t.Errorf("metrics %s before the third page was deleted", m)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("metrics %s on the third page: the first page's deletions are not counted", m)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := rig.pass("t"); got != n {
		t.Fatalf("deleted %d, want %d", got, n)
	}
	if m := ttlMetrics(t, rig.reaper); !strings.Contains(m, fmt.Sprintf("deleted %d,", n)) {
		t.Errorf("metrics %s after the pass, want %d deleted", m, n)
	}
}

// TestTTLReaperIndexes expires items of a table with an LSI and a GSI:
// the LSI entries go with the items, and the GSI indexer applies the
// REMOVE records.
func TestTTLReaperIndexes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := newTTLClock(now)
	e := openTTLEngine(t, t.TempDir(), clock)
	def := ttlTable("t", true)
	def.KeySchema = append(def.KeySchema, catalog.KeyElement{Name: "sk", KeyType: "RANGE"})
	def.AttributeDefinitions = append(def.AttributeDefinitions,
		catalog.AttributeDefinition{Name: "sk", Type: "S"}, catalog.AttributeDefinition{Name: "g", Type: "S"})
	def.LSIs = []catalog.Index{{Name: "by-exp", KeySchema: []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}, {Name: "g", KeyType: "RANGE"}},
		Projection: catalog.Projection{Type: "ALL"}}}
	def.GSIs = []catalog.Index{{Name: "by-g", KeySchema: []catalog.KeyElement{{Name: "g", KeyType: "HASH"}},
		Projection: catalog.Projection{Type: "KEYS_ONLY"}}}
	ttlCreate(t, e, def)
	rig := startTTL(t, e, cdctest.StartBus(t), clock, time.Hour, true)
	for i := range 20 {
		exp := now.Unix() - 1
		if i%2 == 0 {
			exp = now.Unix() + 100
		}
		rig.put("t", attr.Item{"pk": attr.S("p"), "sk": attr.S(fmt.Sprint("s", i)), "g": attr.S("x"), "exp": ttlSecs(t, exp)})
	}
	if err := e.WaitGSI("t", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	count := func(index string, hash attr.Value) int {
		t.Helper()
		res, err := e.Query(engine.QueryRequest{Table: "t", Index: index, Hash: hash, Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Count
	}
	if n := count("by-g", attr.S("x")); n != 20 {
		t.Fatalf("GSI holds %d entries, want 20", n)
	}
	if n := rig.pass("t"); n != 10 {
		t.Fatalf("deleted %d, want 10", n)
	}
	if n := count("by-exp", attr.S("p")); n != 10 {
		t.Errorf("LSI holds %d entries after the deletions, want 10", n)
	}
	if err := e.WaitGSI("t", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := count("by-g", attr.S("x")); n != 10 {
		t.Errorf("GSI holds %d entries after the deletions, want 10", n)
	}
}

// TestTTLReaperRestart stops the reaper and the engine, changes items
// while the reaper is down, and starts both again: the index resumes from
// its checkpoint, and every record is applied exactly once.
func TestTTLReaperRestart(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := newTTLClock(now)
	dir := t.TempDir()
	b := cdctest.StartBus(t)
	e := openTTLEngine(t, dir, clock)
	info := ttlCreate(t, e, ttlTable("t", true))
	rig := startTTL(t, e, b, clock, time.Hour, false)
	rig.waitIndex("t") // built while empty: every record comes from the stream
	want := map[string]string{}
	put := func(rig *ttlRig, i int, exp int64) {
		k := fmt.Sprint("k", i)
		rig.put("t", attr.Item{"pk": attr.S(k), "exp": ttlSecs(t, exp)})
		want[k] = fmt.Sprint(exp)
	}
	for i := range 300 {
		put(rig, i%100, now.Unix()+int64(i))
	}
	rig.waitIndex("t")
	rig.stop()
	first := rig.reaper.applied.Load()
	if pos, err := e.TTLStreamPosition(info.ID); err != nil || pos != 300 {
		t.Fatalf("checkpoint at stream sequence %d, %v; want 300", pos, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = openTTLEngine(t, dir, clock)
	// Changes while the reaper is down: it must find them in the stream.
	stopRelay := startRelay(t, e, b)
	down := &ttlRig{t: t, e: e, clock: clock}
	for i := range 50 {
		put(down, i, now.Unix()+1000+int64(i))
	}
	stopRelay()
	rig = startTTL(t, e, b, clock, time.Hour, false)
	for i := 50; i < 80; i++ {
		put(rig, i, now.Unix()+2000+int64(i))
	}
	rig.waitIndex("t")
	var records int64
	for _, p := range e.ChangeLog().Positions() {
		if p.TableID == info.ID {
			records += int64(p.Last)
		}
	}
	if got := first + rig.reaper.applied.Load(); got != records || records != 380 {
		t.Errorf("applied %d + %d records of %d (want 380)", first, rig.reaper.applied.Load(), records)
	}
	due, err := e.ExpiredTTL(info.ID, now.Add(time.Hour), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range due {
		if _, dup := got[d.Key()["pk"].S]; dup {
			t.Errorf("two entries for %s", d.Key()["pk"].S)
		}
		got[d.Key()["pk"].S] = string(d.Expiry)
	}
	if !maps.Equal(got, want) {
		t.Errorf("index after the restart differs: %d entries, want %d", len(got), len(want))
	}
}

// TestTTLReaperSkipped: a record the expiry index needs is gone from the
// stream (deleted by hand here; records expire unread the same way) while
// the reaper is down; once back, it rebuilds the index from the table
// rather than go on without the record, and reaps every item due.
func TestTTLReaperSkipped(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := newTTLClock(now)
	b := cdctest.StartBus(t)
	e := openTTLEngine(t, t.TempDir(), clock)
	info := ttlCreate(t, e, ttlTable("t", true))
	rig := startTTL(t, e, b, clock, time.Hour, false)
	rig.waitIndex("t") // built while empty: every record comes from the stream
	rig.stop()

	for i := range 40 {
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()-1)}}); err != nil {
			t.Fatal(err)
		}
	}
	stream := relayed(t, e, b, info.ID, 40)
	if err := stream.DeleteMsg(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	rig = startTTL(t, e, b, clock, time.Hour, false)
	if n := rig.pass("t"); n != 40 {
		t.Fatalf("deleted %d of 40 due items, one of whose records left the stream", n)
	}
}

// TestTTLReaperBackfill enables TTL on a table that has items: the reaper
// builds its index from them; disabling TTL drops the index; enabling it
// on another attribute builds one for that.
func TestTTLReaperBackfill(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := newTTLClock(now)
	e := openTTLEngine(t, t.TempDir(), clock)
	info := ttlCreate(t, e, ttlTable("t", false))
	rig := startTTL(t, e, cdctest.StartBus(t), clock, time.Hour, false)
	for i := range 100 {
		rig.put("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()-int64(i%2)), "alt": ttlSecs(t, now.Unix()+int64(i%2))})
	}
	setTTL := func(ttl catalog.TTL) {
		t.Helper()
		if _, err := e.UpdateTable("t", func(d *catalog.Table) error { d.TTL = ttl; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setTTL(catalog.TTL{Enabled: true, Attribute: "exp"})
	if n := rig.pass("t"); n != 100 {
		t.Fatalf("deleted %d of the items there before TTL, want 100", n)
	}
	for i := range 100 {
		rig.put("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": ttlSecs(t, now.Unix()-1), "alt": ttlSecs(t, now.Unix()+int64(i%2))})
	}
	rig.waitIndex("t")
	setTTL(catalog.TTL{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids, err := e.TTLIndexes()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids, info.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the index of a table whose TTL was disabled is still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := rig.reaper.Pass(); err != nil || n != 0 {
		t.Fatalf("deleted %d, %v with TTL disabled", n, err)
	}
	setTTL(catalog.TTL{Enabled: true, Attribute: "alt"})
	if n := rig.pass("t"); n != 50 {
		t.Fatalf("deleted %d by the new attribute, want 50", n)
	}
	for i := range 100 {
		if gone := !rig.exists("t", attr.Item{"pk": attr.S(fmt.Sprint("k", i))}); gone != (i%2 == 0) {
			t.Errorf("k%d deleted %v", i, gone)
		}
	}
}

// ttlMetrics scrapes a reaper's metrics of table "t".
func ttlMetrics(t *testing.T, r *TTLReaper) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != "t" {
				t.Fatalf("metric %s labelled %v", mf.GetName(), m.GetLabel())
			}
			v[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return fmt.Sprintf("lag %g, deleted %g, overdue %g", v["sluice_ttl_lag_records"],
		v["sluice_ttl_deleted_items_total"], v["sluice_ttl_oldest_overdue_seconds"])
}

// TestTTLPace: while foreground writes commit, the reaper's deletions
// keep to its busy rate, shared by its callers; otherwise they go at
// once. A pace that would wait returns false on an ended context, so the
// test waits for no timer.
func TestTTLPace(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name       string
		opts       TTLOptions
		foreground bool
		want       []bool // pace(ended, 100) in turn
	}{
		{"idle", TTLOptions{BusyRate: 1}, false, []bool{true, true, true}},
		{"busy", TTLOptions{BusyRate: 1000}, true, []bool{true, false, false}},
		{"busy, default rate", TTLOptions{}, true, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewTTLReaper(nil, nil, tc.opts)
			if tc.opts.BusyRate == 0 && r.busyRate != TTLBusyRate {
				t.Fatalf("busy rate %v, want TTLBusyRate", r.busyRate)
			}
			if tc.foreground {
				r.foreground.Store(time.Now().UnixNano())
			}
			for i, want := range tc.want {
				if got := r.pace(ended, 100); got != want {
					t.Fatalf("pace %d: %v, want %v", i, got, want)
				}
			}
		})
	}
}
