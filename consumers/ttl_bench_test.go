//go:build unix

package consumers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// ttlBenchRig is an engine with fsync durability, its relay on an
// embedded JetStream, a test clock, and a TTL reaper that can be started
// and stopped.
type ttlBenchRig struct {
	b      *testing.B
	e      *engine.Engine
	bus    *bus.Bus
	clock  *ttlClock
	cancel func()
	wg     sync.WaitGroup
}

func newTTLBenchRig(b *testing.B, now time.Time) *ttlBenchRig {
	clock := newTTLClock(now)
	e, err := engine.Open(engine.Options{Dir: b.TempDir(), Now: clock.now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	r := &ttlBenchRig{b: b, e: e, bus: cdctest.StartBus(b), clock: clock}
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: r.bus.JetStream()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	b.Cleanup(func() { r.stopReaper(); cancel(); wg.Wait() })
	return r
}

// startReaper runs a reaper with the given interval until stopReaper.
func (r *ttlBenchRig) startReaper(interval time.Duration) *TTLReaper {
	reaper := NewTTLReaper(r.e, r.bus.JetStream(), TTLOptions{Now: r.clock.now, Interval: interval})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Go(func() { _ = reaper.Run(ctx) })
	return reaper
}

func (r *ttlBenchRig) stopReaper() {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	r.wg.Wait()
}

func (r *ttlBenchRig) createTable(name string, ttl bool) {
	def := &catalog.Table{
		Name:                 name,
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
	}
	if ttl {
		def.TTL = catalog.TTL{Enabled: true, Attribute: "exp"}
	}
	if _, err := r.e.CreateTable(def); err != nil {
		r.b.Fatal(err)
	}
}

// benchItem is a 150-byte item with a TTL.
func benchItem(b *testing.B, pk string, exp int64) attr.Item {
	return attr.Item{"pk": attr.S(pk), "exp": ttlSecs(b, exp), "payload": attr.S(strings.Repeat("x", 120))}
}

// putFresh puts into table an item with the next key of seq ("f1",
// "f2", ...), due an hour after now.
func (r *ttlBenchRig) putFresh(table string, seq *atomic.Int64, now time.Time) error {
	k := fmt.Sprint("f", seq.Add(1))
	_, err := r.e.PutItem(engine.PutRequest{Table: table, Item: benchItem(r.b, k, now.Unix()+3600)})
	return err
}

// fill writes n items with TTL exp to table, 25 to a BatchWriteItem, from
// 8 writers.
func (r *ttlBenchRig) fill(table, prefix string, n int, exp int64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				start := int(next.Add(25)) - 25
				if start >= n {
					return
				}
				var ops []engine.BatchWriteOp
				for i := start; i < min(start+25, n); i++ {
					ops = append(ops, engine.BatchWriteOp{Table: table, Item: benchItem(r.b, fmt.Sprint(prefix, i), exp)})
				}
				if _, err := r.e.BatchWrite(engine.BatchWriteRequest{Ops: ops}); err != nil {
					r.b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func (r *ttlBenchRig) items(table string) int64 {
	info, err := r.e.DescribeTable(table)
	if err != nil {
		r.b.Fatal(err)
	}
	return info.ItemCount
}

// BenchmarkTTLReap measures how fast the reaper deletes 50,000 expired
// items (fsync durability, relay in process): the index is built first,
// then the clock passes their expiry and one Pass deletes them all.
// Issue 6 asks for >= 5,000 items/s.
//
//	go test -run '^$' -bench TTLReap -benchtime 1x ./consumers/
func BenchmarkTTLReap(b *testing.B) {
	const n = 50_000
	now := time.Unix(1_800_000_000, 0)
	for b.Loop() {
		b.StopTimer()
		r := newTTLBenchRig(b, now)
		r.createTable("t", true)
		reaper := r.startReaper(time.Hour)
		r.fill("t", "k", n, now.Unix()+10)
		if err := r.e.WaitTTL("t", time.Minute); err != nil {
			b.Fatal(err)
		}
		r.clock.add(10 * time.Second)
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		deleted, err := reaper.Pass()
		took := time.Since(start)
		if err != nil || deleted != n || r.items("t") != 0 {
			b.Fatalf("deleted %d of %d, %v", deleted, n, err)
		}
		// The deletions' records reach the stream and come back to the
		// index (which drops the entries) after Pass returns.
		if err := r.e.WaitTTL("t", time.Minute); err != nil {
			b.Fatal(err)
		}
		cpu = cpuTime() - cpu
		b.ReportMetric(float64(n)/took.Seconds(), "items/s")
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/item")
		r.stopReaper()
	}
}

// BenchmarkTTLForeground measures PutItem throughput (4 and 16 writers,
// fsync durability, relay in process: 16 writers saturate two cores, the
// worst case for a reaper that needs CPU too) in alternating rounds of
// three kinds:
// "plain", to a table without TTL while the reaper has nothing to do (as
// if it did not run); "idle", to a table with TTL whose items carry one,
// so the reaper keeps their expiry index, with nothing due; and "reaping",
// the same while the reaper deletes a backlog of expired items of another
// table (the test clock is set before or after the backlog's expiry). It
// reports each throughput, the ratios reaping/idle (what deleting costs
// the writers) and reaping/plain (what TTL costs them in all), and the
// items reaped a second. Issue 6 asks that the reaper not slow foreground
// writes by more than 20 % (ratio >= 0.8) while it deletes >= 5,000
// items/s.
//
//	go test -run '^$' -bench TTLForeground -benchtime 1x ./consumers/
func BenchmarkTTLForeground(b *testing.B) {
	for _, writers := range []int{4, 16} {
		b.Run(fmt.Sprint("writers=", writers), func(b *testing.B) { benchTTLForeground(b, writers) })
	}
}

func benchTTLForeground(b *testing.B, writers int) {
	const (
		backlog = 200_000
		round   = time.Second
		rounds  = 6 // of each kind, interleaved so that the machine's other load spreads evenly
	)
	now := time.Unix(1_800_000_000, 0)
	for b.Loop() {
		b.StopTimer()
		r := newTTLBenchRig(b, now)
		r.createTable("bg", true)
		r.createTable("fg", true)
		r.createTable("plain", false)
		r.startReaper(100 * time.Millisecond)
		r.fill("bg", "k", backlog, now.Unix()+10)
		if err := r.e.WaitTTL("bg", time.Minute); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		var seq atomic.Int64
		puts := func(table string) float64 {
			var done atomic.Int64
			stop := time.Now().Add(round)
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for time.Now().Before(stop) {
						if err := r.putFresh(table, &seq, now); err != nil {
							b.Error(err)
							return
						}
						done.Add(1)
					}
				})
			}
			wg.Wait()
			return float64(done.Load()) / round.Seconds()
		}
		// Throughputs (a second) and the process's CPU time (seconds a
		// second) of each kind of round.
		var plain, idle, reaping, reaped, cpuPlain, cpuIdle, cpuReaping float64
		for i := range 3 * rounds {
			switch i % 3 {
			case 0:
				r.clock.set(now) // nothing due
				time.Sleep(100 * time.Millisecond)
				c := cpuTime()
				plain += puts("plain") / rounds
				cpuPlain += (cpuTime() - c).Seconds() / round.Seconds() / rounds
			case 1:
				c := cpuTime()
				idle += puts("fg") / rounds
				cpuIdle += (cpuTime() - c).Seconds() / round.Seconds() / rounds
			case 2:
				before := r.items("bg")
				r.clock.set(now.Add(10 * time.Second)) // the backlog is due
				c := cpuTime()
				reaping += puts("fg") / rounds
				cpuReaping += (cpuTime() - c).Seconds() / round.Seconds() / rounds
				reaped += float64(before-r.items("bg")) / round.Seconds() / rounds
				if r.items("bg") == 0 {
					b.Fatal("the backlog ran out during a round")
				}
			}
		}
		b.ReportMetric(plain, "puts/s-plain")
		b.ReportMetric(idle, "puts/s-idle")
		b.ReportMetric(reaping, "puts/s-reaping")
		b.ReportMetric(reaping/idle, "ratio-idle")
		b.ReportMetric(reaping/plain, "ratio-plain")
		b.ReportMetric(reaped, "reaped/s")
		// CPU per put, and per item reaped (what the reaping rounds used
		// beyond their puts at the idle rounds' cost): the machine's other
		// load moves the throughputs, these much less.
		perPut := cpuIdle / idle
		b.ReportMetric(cpuPlain/plain*1e6, "cpu-µs/put-plain")
		b.ReportMetric(perPut*1e6, "cpu-µs/put")
		b.ReportMetric((cpuReaping-reaping*perPut)/reaped*1e6, "cpu-µs/reaped")
		r.stopReaper()
	}
}

// BenchmarkTTLIndex measures the CPU a TTL table's writes spend on their
// expiry index: PutItem at a fixed 4,000 a second (4 writers, fsync
// durability, relay in process), in alternating one-second rounds to a
// table without TTL and to one with TTL while the reaper keeps its index
// (nothing due). At a fixed rate the machine's other load moves the CPU
// per put much less than it moves throughputs.
//
//	go test -run '^$' -bench TTLIndex -benchtime 1x ./consumers/
func BenchmarkTTLIndex(b *testing.B) {
	const (
		writers = 4
		rate    = 4000 // puts a second, all writers together
		rounds  = 8    // of each kind
	)
	now := time.Unix(1_800_000_000, 0)
	for b.Loop() {
		b.StopTimer()
		r := newTTLBenchRig(b, now)
		r.createTable("ttl", true)
		r.createTable("plain", false)
		r.startReaper(100 * time.Millisecond)
		b.StartTimer()
		var seq atomic.Int64
		// cpuPerPut writes to table for a second at the rate and returns
		// the process's CPU time per put, counting the records' upkeep
		// after the last put.
		cpuPerPut := func(table string) float64 {
			c := cpuTime()
			start := time.Now()
			var done atomic.Int64
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := w; i < rate; i += writers {
						time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
						if err := r.putFresh(table, &seq, now); err != nil {
							b.Error(err)
							return
						}
						done.Add(1)
					}
				})
			}
			wg.Wait()
			time.Sleep(50 * time.Millisecond)
			return (cpuTime() - c).Seconds() / float64(done.Load()) * 1e6
		}
		var plain, ttl float64
		for range rounds {
			plain += cpuPerPut("plain") / rounds
			ttl += cpuPerPut("ttl") / rounds
		}
		b.ReportMetric(plain, "cpu-µs/put-plain")
		b.ReportMetric(ttl, "cpu-µs/put-ttl")
		b.ReportMetric(ttl-plain, "cpu-µs/put-index")
		r.stopReaper()
	}
}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
