package dynamodb

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// BenchmarkReplicate applies changes to a Sluice destination (fsync
// durability) in batches of 100, as one shard's lane would: b.N records,
// puts of ~200-byte items, over 10,000 items. The target is 2,000
// records/s with Concurrency 16.
func BenchmarkReplicate(b *testing.B) {
	url := startSluice(b)
	for _, conc := range []int{16, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) { benchReplicate(b, url, conc) })
	}
}

func benchReplicate(b *testing.B, url string, conc int) {
	c := client(url)
	table := createTable(b, c)
	s, err := New(Options{Endpoint: url, Table: table, Concurrency: conc})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)

	const items = 10_000
	recs := make([]sinks.Record, b.N)
	start := time.Now()
	for i := range recs {
		r := sinks.Record{Table: sinktest.Table}
		r.Shard, r.Seq, r.Name = 0, shards.Seq(i+1), event.Modify
		r.Time = start.Add(time.Duration(i) * time.Microsecond)
		pk := fmt.Sprintf("item-%05d", (i*7919)%items)
		r.Keys = fmt.Appendf(nil, `{"pk":{"S":%q}}`, pk)
		r.New = fmt.Appendf(nil, `{"n":{"N":"%d"},"payload":{"S":"%0150d"},"pk":{"S":%q}}`, i, i, pk)
		recs[i] = r
	}
	b.ResetTimer()
	for batch := range slices.Chunk(recs, 100) {
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
