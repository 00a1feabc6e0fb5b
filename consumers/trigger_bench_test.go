package consumers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// BenchmarkTriggerThroughput measures how many records per second a
// trigger delivers to a trivial function at batch size 100 (issue 7's
// target: >= 20,000/s to a webhook). The table's stream is filled first;
// the clock runs from the trigger's creation to the last record's arrival.
//
//	go test -run '^$' -bench TriggerThroughput -benchtime 1x ./consumers/
func BenchmarkTriggerThroughput(b *testing.B) {
	for _, tgt := range []string{config.TargetCloudEvents, config.TargetLambda} {
		b.Run(tgt, func(b *testing.B) {
			const n = 100_000
			f := newBenchFixture(b)
			fill(b, f, n)
			var got atomic.Int64
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodOptions {
					w.Header().Set("WebHook-Allowed-Origin", "*")
					return
				}
				body, _ := io.ReadAll(r.Body)
				// Count records without decoding: each has one eventSourceARN.
				c := int64(countOf(body, `"eventSourceARN"`))
				if got.Add(c) == n {
					close(done)
				}
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				def := trigger("bench", "orders", srv.URL)
				def.Target = tgt
				def.BatchSize = intp(100)
				def.ParallelizationFactor = intp(4)
				if _, err := f.trg.Create(f.ctx, def); err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(2 * time.Minute):
					b.Fatalf("delivered %d of %d", got.Load(), n)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
			}
		})
	}
}

// BenchmarkTriggerLatency measures commit-to-invocation latency at batch
// size 1 (issue 7's target: p99 <= 20 ms): a writer puts one item every
// 2 ms and the function notes when each arrives.
//
//	go test -run '^$' -bench TriggerLatency -benchtime 1x ./consumers/
func BenchmarkTriggerLatency(b *testing.B) {
	f := newBenchFixture(b)
	const n = 3000
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		const key = `"Keys":{"pk":{"S":"`
		if i := indexOf(body, key); i >= 0 {
			rest := body[i+len(key):]
			if j := indexOf(rest, `"`); j >= 0 {
				mu.Lock()
				arrived[string(rest[:j])] = now
				mu.Unlock()
			}
		}
		io.WriteString(w, "null")
	}))
	defer srv.Close()
	def := trigger("lat", "orders", srv.URL)
	def.BatchSize = intp(1)
	def.StartingPosition = config.Latest
	if _, err := f.trg.Create(f.ctx, def); err != nil {
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the consumer exists
	b.ResetTimer()
	for range b.N {
		committed := make(map[string]time.Time, n)
		tick := time.NewTicker(2 * time.Millisecond)
		for i := range n {
			<-tick.C
			k := fmt.Sprint("k", i)
			if _, err := f.e.PutItem(engine.PutRequest{Table: "orders", Item: attr.Item{"pk": attr.S(k)}}); err != nil {
				b.Fatal(err)
			}
			committed[k] = time.Now()
		}
		tick.Stop()
		deadline := time.Now().Add(30 * time.Second)
		var lat []time.Duration
		for {
			mu.Lock()
			if len(arrived) >= n || time.Now().After(deadline) {
				for k, c := range committed {
					if a, ok := arrived[k]; ok {
						lat = append(lat, a.Sub(c))
					}
				}
				clear(arrived)
				mu.Unlock()
				break
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
		if len(lat) < n {
			b.Fatalf("%d of %d arrived", len(lat), n)
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(q(1), "max-ms")
	}
}

// newBenchFixture runs the engine as the server does by default: fsync
// durability, 4 shards.
func newBenchFixture(b *testing.B) *fixture {
	return newFixtureOpts(b, engine.Options{Shards: 4}, "orders")
}

// fill puts n items into the orders table, from 8 writers.
func fill(b *testing.B, f *fixture, n int) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := f.e.PutItem(engine.PutRequest{Table: "orders", Item: attr.Item{
					"pk": attr.S(fmt.Sprint("k", i)), "v": attr.N(num(i)), "body": attr.S("a typical small order record"),
				}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func indexOf(b []byte, s string) int { return bytes.Index(b, []byte(s)) }

func countOf(b []byte, s string) int { return bytes.Count(b, []byte(s)) }
