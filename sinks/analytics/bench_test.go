package analytics

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// orders returns n changes of order items with ten attributes each (keys,
// strings, an integer, a decimal, a boolean, a string set and a map) over 4
// shards, committed step apart from start. Every 50th is a removal.
func orders(n int, start time.Time, step time.Duration) []sinks.Record {
	out := make([]sinks.Record, n)
	seq := map[shards.ID]shards.Seq{}
	for i := range out {
		sh := shards.ID(i % 4)
		seq[sh]++
		keys := fmt.Sprintf(`{"pk":{"S":"customer-%d"},"sk":{"N":"%d"}}`, i%997, i)
		amount, err := attr.ParseNumber(fmt.Sprintf("%d.%02d", i%1000, i%100))
		if err != nil {
			panic(err)
		}
		img := fmt.Sprintf(`{"pk":{"S":"customer-%d"},"sk":{"N":"%d"},"status":{"S":"%s"},"amount":{"N":"%s"},`+
			`"quantity":{"N":"%d"},"paid":{"BOOL":%t},"created":{"S":"2026-11-21T08:%02d:%02dZ"},"email":{"S":"c%d@example.com"},`+
			`"tags":{"SS":["new","web"]},"address":{"M":{"city":{"S":"Lyon"},"zip":{"S":"69001"}}}}`,
			i%997, i, []string{"NEW", "PAID", "SHIPPED"}[i%3], amount, i%7+1, i%2 == 0, i%60, i%60, i%997)
		name := event.Modify
		switch {
		case i%50 == 49:
			name, img = event.Remove, ""
		case i%10 == 0:
			name = event.Insert
		}
		out[i] = rec(sh, seq[sh], start.Add(time.Duration(i)*step), name, keys, img)
		out[i].Who.RequestID = fmt.Sprintf("req-%d", i)
	}
	return out
}

// BenchmarkWrite writes batches of 1,000 changes (and, to show what the
// batch size costs, of 100 and 10,000), each a durable file: the manifest,
// the file and their directories are fsynced. The target is 50,000
// records/s with batches of 1,000.
//
//	go test ./sinks/analytics/ -run '^$' -bench Write -benchtime 2s
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1000, 100, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchmarkWrite(b, size) })
	}
}

func benchmarkWrite(b *testing.B, size int) {
	ctx := context.Background()
	dir := b.TempDir()
	if d := os.Getenv("ANALYTICS_BENCH_DIR"); d != "" { // a disk other than TMPDIR's
		dir = d
	}
	s := mustNew(b, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	// Committed 20µs apart: what 50,000 writes a second look like.
	recs := orders(size, time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC), 20*time.Microsecond)
	per := map[shards.ID]int{}
	for _, r := range recs {
		per[r.Shard]++
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		// The same changes again, with the next sequence numbers.
		for i := range recs {
			recs[i].Seq += shards.Seq(per[recs[i].Shard])
		}
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		n += size
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
