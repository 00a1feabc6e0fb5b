package cdc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/shards"
)

func openEngine(t *testing.T, dir string) *engine.Engine {
	t.Helper()
	e, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func createTable(t *testing.T, e *engine.Engine, name string) uint32 {
	t.Helper()
	in, err := e.CreateTable(&catalog.Table{
		Name:                 name,
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func put(t *testing.T, e *engine.Engine, table, key string, v int) {
	t.Helper()
	n, _ := attr.ParseNumber(fmt.Sprint(v))
	if _, err := e.PutItem(engine.PutRequest{Table: table, Item: attr.Item{"pk": attr.S(key), "v": attr.N(n)}}); err != nil {
		t.Fatal(err)
	}
}

// startRelay runs a relay until the test (or stop) ends.
func startRelay(t *testing.T, e *engine.Engine, b *bus.Bus) (stop func()) {
	t.Helper()
	r, err := NewRelay(Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// streamRecords reads every message of a table's stream, in stream order.
func streamRecords(t *testing.T, b *bus.Bus, tableID uint32, want int) []jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	var s jetstream.Stream
	for {
		var err error
		s, err = b.JetStream().Stream(ctx, StreamName(tableID))
		if err == nil {
			info, err := s.Info(ctx)
			if err == nil && int(info.State.Msgs) >= want {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream of table %d did not reach %d messages", tableID, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	info, _ := s.Info(ctx)
	var out []jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *m)
	}
	return out
}

// checkOnceInOrder asserts that per subject the ce-sequence values are 1..n.
func checkOnceInOrder(t *testing.T, msgs []jetstream.RawStreamMsg) map[string]int {
	t.Helper()
	next := map[string]shards.Seq{}
	for _, m := range msgs {
		seq, err := shards.ParseSeq(m.Header.Get(event.HdrSequence))
		if err != nil {
			t.Fatal(err)
		}
		if seq != next[m.Subject]+1 {
			t.Fatalf("%s: got seq %d after %d", m.Subject, seq, next[m.Subject])
		}
		next[m.Subject] = seq
		if m.Header.Get(event.HdrSpecVersion) != "1.0" || m.Header.Get(event.HdrID) == "" {
			t.Fatalf("not a CloudEvent: %v", m.Header)
		}
	}
	out := map[string]int{}
	for k, v := range next {
		out[k] = int(v)
	}
	return out
}

func TestRelayPublishesInOrder(t *testing.T) {
	e := openEngine(t, t.TempDir())
	defer e.Close()
	b := cdctest.StartBus(t)
	id := createTable(t, e, "orders.v1") // a dot, which a subject could not hold
	startRelay(t, e, b)
	const n = 300
	for i := range n {
		put(t, e, "orders.v1", fmt.Sprintf("k%d", i%40), i)
	}
	msgs := streamRecords(t, b, id, n)
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	checkOnceInOrder(t, msgs)
}

// TestRelayRestartNoDuplicates stops the relay while writes go on, starts a
// new one, and checks the stream holds every record exactly once.
func TestRelayRestartNoDuplicates(t *testing.T) {
	dir := t.TempDir()
	e := openEngine(t, dir)
	b := cdctest.StartBus(t)
	id := createTable(t, e, "t")
	stop := startRelay(t, e, b)
	for i := range 100 {
		put(t, e, "t", fmt.Sprintf("k%d", i), i)
	}
	stop()
	for i := 100; i < 200; i++ { // committed while no relay runs
		put(t, e, "t", fmt.Sprintf("k%d", i), i)
	}
	e.Close()
	e = openEngine(t, dir) // the change log is all the new relay has
	defer e.Close()
	startRelay(t, e, b)
	for i := 200; i < 250; i++ {
		put(t, e, "t", fmt.Sprintf("k%d", i), i)
	}
	streamRecords(t, b, id, 250)
	time.Sleep(200 * time.Millisecond) // let any duplicate arrive
	msgs := streamRecords(t, b, id, 250)
	if len(msgs) != 250 {
		t.Fatalf("%d messages, want 250", len(msgs))
	}
	checkOnceInOrder(t, msgs)
}

// TestRelayRepublishesLostTail deletes the stream (as a lost JetStream store
// would) and checks the relay rebuilds it from the change log.
func TestRelayRepublishesLostTail(t *testing.T) {
	e := openEngine(t, t.TempDir())
	defer e.Close()
	b := cdctest.StartBus(t)
	id := createTable(t, e, "t")
	stop := startRelay(t, e, b)
	for i := range 50 {
		put(t, e, "t", fmt.Sprintf("k%d", i), i)
	}
	streamRecords(t, b, id, 50)
	stop()
	if err := b.JetStream().DeleteStream(context.Background(), StreamName(id)); err != nil {
		t.Fatal(err)
	}
	startRelay(t, e, b)
	msgs := streamRecords(t, b, id, 50)
	if len(msgs) != 50 {
		t.Fatalf("%d messages after rebuild, want 50", len(msgs))
	}
	checkOnceInOrder(t, msgs)
}

func TestRelayTrimsPastRetention(t *testing.T) {
	e := openEngine(t, t.TempDir())
	defer e.Close()
	b := cdctest.StartBus(t)
	id := createTable(t, e, "t")
	for i := range 20 {
		put(t, e, "t", fmt.Sprintf("k%d", i), i)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, err := NewRelay(Options{Log: e.ChangeLog(), JS: b.JetStream(), Now: clock, TrimInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	streamRecords(t, b, id, 20)
	// Nothing is past retention yet: the change log keeps everything.
	time.Sleep(50 * time.Millisecond)
	if n := walCount(t, e, id); n != 20 {
		t.Fatalf("trimmed within retention: %d records left", n)
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for walCount(t, e, id) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("change log not trimmed: %d records left", walCount(t, e, id))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func walCount(t *testing.T, e *engine.Engine, id uint32) int {
	n := 0
	for _, p := range e.ChangeLog().Positions() {
		if p.TableID != id {
			continue
		}
		recs, err := e.ChangeLog().Read(id, p.Shard, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		n += len(recs)
	}
	return n
}

// TestRelayReclaimsDeletedTables checks that nothing of a deleted table
// outlives retention: its change log, its publisher, its JetStream stream
// and the definition kept for its DynamoDB stream, with or without one,
// while a live table keeps all of it.
func TestRelayReclaimsDeletedTables(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	start := time.Now()
	now := start
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, err := engine.Open(engine.Options{Dir: dir, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	b := cdctest.StartBus(t)
	ids := map[string]uint32{}
	for _, name := range []string{"live", "plain", "streamed"} {
		def := &catalog.Table{
			Name:                 name,
			KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
			AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
			BillingMode:          catalog.PayPerRequest,
		}
		if name == "streamed" {
			def.Stream = catalog.Stream{Enabled: true, ViewType: "NEW_IMAGE"}
		}
		in, err := e.CreateTable(def)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = in.ID
		// Two keys: some of the table's shards stay empty, which must not
		// keep a deleted table alive.
		put(t, e, name, "a", 1)
		put(t, e, name, "b", 2)
	}
	r, err := NewRelay(Options{Log: e.ChangeLog(), JS: b.JetStream(), Now: clock, TrimInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	for _, id := range ids {
		streamRecords(t, b, id, 2)
	}
	for _, name := range []string{"plain", "streamed"} {
		if _, err := e.DeleteTable(name); err != nil {
			t.Fatal(err)
		}
	}
	// Within retention everything stays: the records for consumers, and the
	// deleted table's DynamoDB stream for readers.
	time.Sleep(100 * time.Millisecond)
	for name, id := range ids {
		if _, err := b.JetStream().Stream(ctx, StreamName(id)); err != nil {
			t.Fatalf("stream of %s gone within retention: %v", name, err)
		}
	}
	if !hasStream(e, "streamed") {
		t.Fatal("deleted table's stream not listed within retention")
	}

	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	// JetStream's MaxAge runs on the wall clock: purging stands in for it.
	for _, name := range []string{"plain", "streamed"} {
		s, err := b.JetStream().Stream(ctx, StreamName(ids[name]))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Purge(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errPlain := b.JetStream().Stream(ctx, StreamName(ids["plain"]))
		_, errStreamed := b.JetStream().Stream(ctx, StreamName(ids["streamed"]))
		if errors.Is(errPlain, jetstream.ErrStreamNotFound) && errors.Is(errStreamed, jetstream.ErrStreamNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted tables' streams not deleted: %v, %v", errPlain, errStreamed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.mu.Lock()
	_, plainRelay := r.mu.tables[ids["plain"]]
	_, streamedRelay := r.mu.tables[ids["streamed"]]
	_, liveRelay := r.mu.tables[ids["live"]]
	r.mu.Unlock()
	if plainRelay || streamedRelay || !liveRelay {
		t.Fatalf("publishers: plain %v, streamed %v, live %v; want only live", plainRelay, streamedRelay, liveRelay)
	}
	for _, p := range e.ChangeLog().Positions() {
		if p.TableID != ids["live"] {
			t.Fatalf("a deleted table's shard is still logged: %+v", p)
		}
	}
	// The live table lost nothing but what retention trims.
	if _, err := b.JetStream().Stream(ctx, StreamName(ids["live"])); err != nil {
		t.Fatalf("live table's stream: %v", err)
	}
	cancel()
	<-done
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The definition kept for the deleted table's stream is gone from the
	// store: reopened with the clock turned back, it is not listed.
	mu.Lock()
	now = start
	mu.Unlock()
	e, err = engine.Open(engine.Options{Dir: dir, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if hasStream(e, "streamed") {
		t.Fatal("deleted table's stream definition survived retention")
	}
	if !e.ChangeLog().Live(ids["live"]) || e.ChangeLog().Live(ids["plain"]) {
		t.Fatal("Live is wrong")
	}
}

func hasStream(e *engine.Engine, table string) bool {
	for _, s := range e.Streams() {
		if s.Table == table {
			return true
		}
	}
	return false
}
