package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

func openFake(t *testing.T, f *fakeDB, conc int) *Sink {
	t.Helper()
	s, err := New(Options{Endpoint: f.srv.URL, Table: "t", Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// shuffled returns n records of the given items, each item's in order
// (increasing seq and time), items interleaved at random.
func shuffled(rng *rand.Rand, prefix string, items, n int) []sinks.Record {
	seq := map[string]shards.Seq{}
	var out []sinks.Record
	for i := range n {
		pk := fmt.Sprintf("%s%d", prefix, rng.IntN(items))
		seq[pk]++
		v := i
		if rng.IntN(5) == 0 {
			v = -1
		}
		out = append(out, change(pk, v, i, 0, seq[pk]))
	}
	return out
}

// wantOrder returns, per item, the rep values of recs in order.
func wantOrder(recs []sinks.Record) map[string][]string {
	out := map[string][]string{}
	for _, r := range recs {
		pk := string(r.Keys[len(`{"pk":{"S":"`) : len(r.Keys)-len(`"}}`)])
		out[pk] = append(out[pk], RepValue(r.Time, r.Shard, r.Seq))
	}
	return out
}

// TestOrderAndConcurrency: one item's records go one at a time in order;
// different items go in parallel, at most Concurrency at once across
// concurrent Writes.
func TestOrderAndConcurrency(t *testing.T) {
	f := newFake(t)
	f.delay = time.Millisecond
	const conc = 6
	s := openFake(t, f, conc)
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := shuffled(rng, "a", 30, 300), shuffled(rng, "b", 3, 100)
	var wg sync.WaitGroup
	for _, recs := range [][]sinks.Record{a, b} {
		wg.Go(func() {
			for batch := range slices.Chunk(recs, 100) {
				if err := s.Write(context.Background(), batch); err != nil {
					t.Errorf("Write: %v", err)
				}
			}
		})
	}
	wg.Wait()
	want := wantOrder(append(slices.Clone(a), b...))
	got := f.applied()
	for pk, reps := range want {
		if !slices.Equal(got[pk], reps) {
			t.Errorf("item %s: applied %v, want %v", pk, got[pk], reps)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d items written, want %d", len(got), len(want))
	}
	if f.mu.maxPerKey != 1 {
		t.Errorf("up to %d requests of one item in flight, want 1", f.mu.maxPerKey)
	}
	if m := f.maxInFlight.Load(); m > conc || m < 2 {
		t.Errorf("up to %d requests in flight, want 2..%d", m, conc)
	}
}

// TestErrors: what each answer of the destination makes of Write.
func TestErrors(t *testing.T) {
	type want int
	const (
		ok want = iota
		backOff
		batch
		whole
	)
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   want
		after  time.Duration
	}{
		{"condition failed", 400, errorBody("ConditionalCheckFailedException"), ok, 0},
		{"provisioned throughput", 400, errorBody("ProvisionedThroughputExceededException"), backOff, throttledBackOff},
		{"throttling", 400, errorBody("ThrottlingException"), backOff, throttledBackOff},
		{"request limit", 400, errorBody("RequestLimitExceeded"), backOff, throttledBackOff},
		{"transaction conflict", 400, errorBody("TransactionConflictException"), backOff, throttledBackOff},
		{"internal error", 500, errorBody("InternalServerError"), backOff, unavailableBackOff},
		{"bare 503", 503, "", backOff, unavailableBackOff},
		{"bare 502", 502, "<html>bad gateway</html>", backOff, unavailableBackOff},
		{"validation", 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"Item size has exceeded the maximum allowed size"}`, batch, 0},
		{"serialization", 400, errorBody("SerializationException"), batch, 0},
		{"item collection", 400, errorBody("ItemCollectionSizeLimitExceededException"), batch, 0},
		{"no table", 400, errorBody("ResourceNotFoundException"), whole, 0},
		{"access denied", 400, errorBody("AccessDeniedException"), whole, 0},
		{"bare 404", 404, "", whole, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.answer = func(op, pk, rep string) (int, string) {
				if pk == "bad" {
					return tc.status, tc.body
				}
				return 0, ""
			}
			s := openFake(t, f, 4)
			recs := []sinks.Record{change("a", 1, 1, 0, 1), change("bad", 1, 2, 0, 2), change("bad", 2, 3, 0, 3), change("c", 1, 4, 0, 4)}
			err := s.Write(context.Background(), recs)
			var bo *sinks.BackOffError
			var be *sinks.BatchError
			switch tc.want {
			case ok:
				if err != nil {
					t.Errorf("Write = %v, want nil", err)
				}
			case backOff:
				if !errors.As(err, &bo) || !errors.Is(err, sinks.ErrBackOff) || bo.After != tc.after {
					t.Errorf("Write = %v, want a back-off of %s", err, tc.after)
				}
			case batch:
				if !errors.As(err, &be) {
					t.Fatalf("Write = %v, want a *sinks.BatchError", err)
				}
				if !errors.Is(be.Failed[1], ErrRejected) || !errors.Is(be.Failed[2], errNotApplied) || be.Lowest() != 1 {
					t.Errorf("BatchError.Failed = %v, want record 1 rejected and 2 not applied", be.Failed)
				}
				if _, ok := be.Failed[0]; ok {
					t.Errorf("BatchError.Failed = %v names record 0, which was applied", be.Failed)
				}
			case whole:
				if err == nil || errors.As(err, &be) || errors.Is(err, sinks.ErrBackOff) || errors.Is(err, ErrRejected) {
					t.Errorf("Write = %v, want an error for the whole batch", err)
				}
			}
		})
	}
}

// TestStopAtFirstFailure: after a record fails, no request starts: the
// failed item's later records are never sent, and every record not applied
// is named in the BatchError.
func TestStopAtFirstFailure(t *testing.T) {
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			f := newFake(t)
			f.delay = time.Millisecond
			bad := RepValue(t0.Add(50*time.Millisecond), 0, 0)
			f.answer = func(op, pk, rep string) (int, string) {
				if rep == bad {
					return http.StatusBadRequest, errorBody("ValidationException")
				}
				return 0, ""
			}
			s := openFake(t, f, conc)
			rng := rand.New(rand.NewPCG(3, 4))
			recs := shuffled(rng, "k", 8, 200)
			failAt := 50
			recs[failAt].Seq = 0 // the record with rep value bad
			err := s.Write(context.Background(), recs)
			var be *sinks.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("Write = %v, want a *sinks.BatchError", err)
			}
			if !errors.Is(be.Failed[failAt], ErrRejected) {
				t.Errorf("record %d: %v, want ErrRejected", failAt, be.Failed[failAt])
			}
			applied := map[string]bool{}
			for _, reps := range f.applied() {
				for _, r := range reps {
					applied[r] = true
				}
			}
			for i, r := range recs {
				_, failed := be.Failed[i]
				rep := RepValue(r.Time, r.Shard, r.Seq)
				if failed == applied[rep] {
					t.Errorf("record %d: applied %v, named failed %v", i, applied[rep], failed)
				}
				if i > failAt && string(r.Keys) == string(recs[failAt].Keys) && applied[rep] {
					t.Errorf("record %d of the failed item applied after the failure", i)
				}
			}
			if conc == 1 && be.Lowest() != failAt {
				t.Errorf("lowest failed record %d, want %d", be.Lowest(), failAt)
			}
		})
	}
}

// TestInvalidRecord: a record that is not a valid change is rejected
// without a request.
func TestInvalidRecord(t *testing.T) {
	f := newFake(t)
	s := openFake(t, f, 2)
	noImage := change("a", 1, 1, 0, 1)
	noImage.New = nil
	badJSON := change("b", 1, 1, 0, 2)
	badJSON.New = []byte(`{"n":{"N":5}}`)
	badValue := change("c", 1, 1, 0, 3)
	badValue.New = []byte(`{"n":{}}`)
	badKeys := change("d", -1, 1, 0, 4)
	badKeys.Keys = []byte(`[]`)
	for i, r := range []sinks.Record{noImage, badJSON, badValue, badKeys} {
		err := s.Write(context.Background(), []sinks.Record{r})
		var be *sinks.BatchError
		if !errors.As(err, &be) || !errors.Is(be.Failed[0], ErrRejected) {
			t.Errorf("record %d: Write = %v, want it rejected", i, err)
		}
	}
	if len(f.mu.bodies) != 0 {
		t.Errorf("requests sent for invalid records: %q", f.mu.bodies)
	}
}

// TestCancel: a cancelled context ends Write with its error.
func TestCancel(t *testing.T) {
	f := newFake(t)
	f.delay = 50 * time.Millisecond
	s := openFake(t, f, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.Write(ctx, shuffled(rand.New(rand.NewPCG(5, 6)), "x", 4, 40))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write = %v, want context.DeadlineExceeded", err)
	}
}

// TestCloseLeaksNoGoroutines: once Write returned and the sink is closed,
// nothing of it runs (workers, connections).
func TestCloseLeaksNoGoroutines(t *testing.T) {
	f := newFake(t)
	f.delay = time.Millisecond
	before := runtime.NumGoroutine()
	s, err := New(Options{Endpoint: f.srv.URL, Table: "t", Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, shuffled(rand.New(rand.NewPCG(7, 8)), "g", 20, 200)); err != nil {
		t.Fatal(err)
	}
	running := runtime.NumGoroutine()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var after int
	for range 100 {
		if after = runtime.NumGoroutine(); after <= before {
			t.Logf("goroutines: %d before, %d after Write, %d after Close", before, running, after)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf)
}
