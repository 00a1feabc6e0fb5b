package consumers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// startRelay runs a relay of e on b until stop, or the test's end.
func startRelay(t testing.TB, e *engine.Engine, b *bus.Bus) (stop func()) {
	t.Helper()
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// relayed runs a relay of e on b until table's stream holds n records,
// and returns the stream.
func relayed(t *testing.T, e *engine.Engine, b *bus.Bus, table uint32, n uint64) jetstream.Stream {
	t.Helper()
	defer startRelay(t, e, b)()
	return waitStream(t, b, table, n)
}

// waitStream returns table's stream once its last sequence is n.
func waitStream(t testing.TB, b *bus.Bus, table uint32, n uint64) jetstream.Stream {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stream, err := b.JetStream().Stream(ctx, cdc.StreamName(table))
		if err == nil {
			info, err := stream.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.LastSeq == n {
				return stream
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream of table %d does not reach %d records: %v", table, n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// polled is what pollChanges handed its apply.
type polled struct {
	mu      sync.Mutex
	changes []engine.IndexChange
	batches []int
}

func (p *polled) apply(cs []engine.IndexChange) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes = append(p.changes, cs...)
	p.batches = append(p.batches, len(cs))
	return nil
}

func (p *polled) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.changes)
}

// poll runs pollChanges from start (at most 100 records a fetch, every
// 5 ms) until it has handed over want records, or returned.
func poll(t *testing.T, stream jetstream.Stream, start uint64, want int) (*polled, error) {
	t.Helper()
	p := &polled{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- pollChanges(ctx, stream, "test", start, 100, 5*time.Millisecond, func() error { return nil }, p.apply)
	}()
	deadline := time.After(10 * time.Second)
	for p.len() < want {
		select {
		case err := <-done:
			return p, err
		case <-deadline:
			t.Fatalf("pollChanges handed over %d records of %d", p.len(), want)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	return p, <-done
}

// TestPollChanges reads a table's stream with pollChanges: every record
// once and in stream order, in fetches of at most the batch size, from
// the start or from a later record, picking up what is stored while it
// waits; its consumer goes with it.
func TestPollChanges(t *testing.T) {
	e := openTTLEngine(t, t.TempDir(), newTTLClock(time.Now()))
	info := ttlCreate(t, e, ttlTable("t", false))
	b := cdctest.StartBus(t)
	put := func(i int) {
		t.Helper()
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i%300)), "n": ttlSecs(t, int64(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 450 {
		put(i)
	}
	startRelay(t, e, b)
	stream := waitStream(t, b, info.ID, 450)

	check := func(p *polled, first uint64, n int) {
		t.Helper()
		if len(p.changes) != n {
			t.Fatalf("%d records, want %d", len(p.changes), n)
		}
		last := map[shards.ID]shards.Seq{}
		for i, c := range p.changes {
			if c.Stream != first+uint64(i) {
				t.Fatalf("record %d has stream sequence %d, want %d", i, c.Stream, first+uint64(i))
			}
			if c.Seq <= last[c.Shard] {
				t.Fatalf("shard %d: sequence %d after %d", c.Shard, c.Seq, last[c.Shard])
			}
			last[c.Shard] = c.Seq
			if c.New == nil {
				t.Fatalf("record %d has no new image", first+uint64(i))
			}
		}
		for _, n := range p.batches {
			if n > 100 {
				t.Fatalf("a batch of %d records, more than a fetch", n)
			}
		}
	}
	p, err := poll(t, stream, 1, 450)
	if err != nil {
		t.Fatal(err)
	}
	check(p, 1, 450)
	modified := 0
	for _, c := range p.changes {
		if c.Old != nil {
			modified++
		}
	}
	if modified != 150 {
		t.Errorf("%d records with an old image, want 150", modified)
	}

	// From a later record, with more stored while it waits.
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(20 * time.Millisecond)
		for i := 450; i < 500; i++ {
			put(i)
		}
	}()
	p, err = poll(t, stream, 401, 100)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	check(p, 401, 100)

	names := stream.ConsumerNames(context.Background())
	for name := range names.Name() {
		t.Errorf("consumer %s outlived its reader", name)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestPollChangesGap: a record missing from the stream (expired, or
// deleted by hand) ends the reader with errStreamSkipped, and nothing
// after the gap is applied.
func TestPollChangesGap(t *testing.T) {
	e := openTTLEngine(t, t.TempDir(), newTTLClock(time.Now()))
	info := ttlCreate(t, e, ttlTable("t", false))
	b := cdctest.StartBus(t)
	for i := range 250 {
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	stream := relayed(t, e, b, info.ID, 250)
	if err := stream.DeleteMsg(context.Background(), 150); err != nil {
		t.Fatal(err)
	}
	p, err := poll(t, stream, 1, 250)
	if !errors.Is(err, errStreamSkipped) {
		t.Fatalf("reading past a gap: %v, want errStreamSkipped", err)
	}
	if len(p.changes) != 100 || p.changes[99].Stream != 100 {
		t.Fatalf("applied %d records before the gap's fetch, want the 100 of the first", len(p.changes))
	}
}
