package search

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// benchRecord is the i-th insert of a new item, findable by its word.
func benchRecord(i int) sinks.Record {
	id := fmt.Sprintf("item-%d", i)
	img := fmt.Sprintf(`{"id":{"S":%q},"price":{"N":"%d.5"},"title":{"S":"a reasonably plain title for item number %d with word w%dx"}}`, id, i%1000, i, i)
	return put(shards.ID(i%4), shards.Seq(i/4+1), id, img)
}

func benchWord(i int) string { return fmt.Sprintf("w%dx", i) }

// BenchmarkWrite measures throughput at 100 records per Write (each Write
// durable before it returns).
func BenchmarkWrite(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close(context.Background())
	const batch = 100
	n := 0
	b.ResetTimer()
	for b.Loop() {
		recs := make([]sinks.Record, batch)
		for j := range recs {
			recs[j] = benchRecord(n)
			n++
		}
		if err := s.Write(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFreshness writes one record per Write and measures the time
// from calling Write to a Search that finds it (a Write that returned is
// durable and visible, so one Search suffices).
func BenchmarkFreshness(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close(context.Background())
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if err := s.Write(ctx, []sinks.Record{benchRecord(i)}); err != nil {
			b.Fatal(err)
		}
		res, err := s.Search(ctx, Query{Query: benchWord(i)})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Items) != 1 {
			b.Fatalf("item %d not found after its Write", i)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	reportLatency(b, lat)
}

// BenchmarkFreshnessAt1000 offers 1,000 records a second, the way the
// runtime would: a writer takes whatever arrived since its last Write as
// one batch, then searches for the batch's last record. A record's
// latency runs from its arrival to that search's answer. It runs for
// b.N records (so -benchtime 3000x is three seconds of load).
func BenchmarkFreshnessAt1000(b *testing.B) {
	s := open(b, b.TempDir())
	defer s.Close(context.Background())
	ctx := context.Background()
	const rate = 1000
	n := b.N
	arrivals := make(chan int, n)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := range n {
			// Record i is due at start + i ms; a late producer catches up.
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			arrivals <- i
		}
		close(arrivals)
	}()
	arrived := make([]time.Time, n)
	var lat []time.Duration
	var batches int
	for done := false; !done; {
		i, ok := <-arrivals
		if !ok {
			break
		}
		batch := []int{i}
	more:
		for {
			select {
			case j, ok := <-arrivals:
				if !ok {
					done = true
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		recs := make([]sinks.Record, len(batch))
		for k, j := range batch {
			arrived[j] = start.Add(time.Duration(j) * time.Second / rate)
			recs[k] = benchRecord(j)
		}
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		last := batch[len(batch)-1]
		res, err := s.Search(ctx, Query{Query: benchWord(last)})
		if err != nil || len(res.Items) != 1 {
			b.Fatalf("item %d not found after its Write: %v", last, err)
		}
		now := time.Now()
		for _, j := range batch {
			lat = append(lat, now.Sub(arrived[j]))
		}
		batches++
	}
	b.ReportMetric(float64(n)/float64(batches), "records/batch")
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}
