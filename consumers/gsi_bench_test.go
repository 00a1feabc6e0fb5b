package consumers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// BenchmarkGSILag writes 2,000 items a second for three seconds (fsync
// durability, relay and indexer in process) and measures, for each write,
// the time from its commit until the GSI indexer has applied it. Issue 5
// asks for p99 <= 10 ms.
//
//	go test -run '^$' -bench GSILag -benchtime 1x ./consumers/
func BenchmarkGSILag(b *testing.B) {
	r := newGSIRig(b, false, "ALL")
	e := r.e
	r.index()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	type pos struct {
		sh  shards.ID
		seq shards.Seq
	}
	var mu sync.Mutex
	committed := map[pos]time.Time{}
	applied := map[pos]time.Time{}
	cancelSub := e.ChangeLog().Subscribe(func(cs []engine.Change) {
		now := time.Now()
		mu.Lock()
		for _, c := range cs {
			committed[pos{c.Shard, c.Seq}] = now
		}
		mu.Unlock()
	})
	defer cancelSub()
	// Watch the indexer's positions.
	wg.Go(func() {
		last := map[shards.ID]shards.Seq{}
		for ctx.Err() == nil {
			for sh := range shards.ID(4) {
				p, err := e.GSIPosition(r.table, sh)
				if err != nil {
					return
				}
				if p > last[sh] {
					now := time.Now()
					mu.Lock()
					for s := last[sh] + 1; s <= p; s++ {
						applied[pos{sh, s}] = now
					}
					mu.Unlock()
					last[sh] = p
				}
			}
			time.Sleep(200 * time.Microsecond)
		}
	})
	time.Sleep(500 * time.Millisecond) // the stream and the consumer start
	for b.Loop() {
		tick := time.NewTicker(500 * time.Microsecond)
		var writers sync.WaitGroup
		for i := range 6000 {
			<-tick.C
			writers.Go(func() {
				_, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "g": attr.S(fmt.Sprint("g", i%100))}})
				if err != nil {
					b.Error(err)
				}
			})
		}
		tick.Stop()
		writers.Wait()
	}
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	var lags []time.Duration
	for p, c := range committed {
		a, ok := applied[p]
		if !ok {
			b.Fatalf("change %d/%d never applied", p.sh, p.seq)
		}
		lags = append(lags, max(0, a.Sub(c)))
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lags)), "writes")
}
