package perf

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// BenchmarkTTLForeground measures issue 7's "the TTL reaper deletes at
// least 5,000 expired items a second without slowing foreground writes by
// more than 20 %" as a user sees it: the real server on its defaults, 16
// SDK clients putting items (with an expiry an hour away) to a TTL table,
// in rounds that alternate among
//
//   - plain: the same puts to a table without TTL, nothing due anywhere;
//   - idle: puts to the TTL table, nothing due anywhere;
//   - reaping: puts to the TTL table while the reaper deletes a backlog of
//     expired items from another table.
//
// Before each cycle the backlog table gets a chunk of items due a few
// seconds later (BatchWriteItem), enough to keep the reaper busy through the
// reaping round; the plain and idle rounds run before they are due. It
// reports the puts a second of each kind, the ratios reaping/idle (what the
// reaper costs the writes) and reaping/plain (that and the expiry index's
// upkeep), the items reaped a second during the reaping rounds, and the
// server's CPU per put in idle rounds and per item reaped.
//
//	go test -run '^$' -bench TTLForeground -benchtime 1x ./test/perf/
func BenchmarkTTLForeground(b *testing.B) {
	const (
		round  = 3 * time.Second
		warmup = 500 * time.Millisecond // of each round, not counted
		cycles = 5
		// reaperStart is when, after the backlog falls due, a reaping
		// round's window starts: the reaper has made its first pass.
		reaperStart = 1200 * time.Millisecond
		// chunk outlasts a reaping round at TTLBusyRate (5,500 a second).
		chunk = 30_000
	)
	for b.Loop() {
		b.StopTimer()
		srv := sluicetest.Start(b, sluicetest.Options{})
		db := srv.DynamoDB()
		ctx := b.Context()
		createTable(b, db, "plain", false)
		for _, t := range []string{"foreground", "backlog"} {
			createTable(b, db, t, false)
			if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(t),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)},
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()

		var seq atomic.Int64
		// puts writes to table from the clients, from now until a round
		// after from, and returns the puts a second completed in that
		// round and the server's CPU time in it.
		puts := func(table string, from time.Time) (rate float64, cpu time.Duration) {
			var done atomic.Int64
			stop := from.Add(round)
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for time.Now().Before(stop) {
						i := seq.Add(1)
						it := item(fmt.Sprint("f", i), int(i))
						it["exp"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}
						if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
							b.Error(err)
							return
						}
						if t := time.Now(); !t.Before(from) && t.Before(stop) {
							done.Add(1)
						}
					}
				})
			}
			time.Sleep(time.Until(from))
			cpu0 := serverCPU(b, srv.PID)
			time.Sleep(time.Until(stop))
			cpu = serverCPU(b, srv.PID) - cpu0
			wg.Wait()
			return float64(done.Load()) / round.Seconds(), cpu
		}
		// Sums over the cycles: puts and items reaped a second, and the
		// server's CPU seconds a second.
		var plain, idle, reaping, reaped, cpuIdle, cpuReaping float64
		for c := range cycles {
			// Due once the chunk is written and the plain and idle rounds
			// are over (TTL has a resolution of a second).
			due := time.Now().Add(2*(round+warmup) + 5*time.Second).Truncate(time.Second).Add(time.Second)
			fill(ctx, b, db, "backlog", fmt.Sprint("c", c, "-"), chunk, due.Unix())
			if time.Until(due) < 2*(round+warmup) {
				b.Fatalf("writing the backlog took too long: %s left before it is due", time.Until(due))
			}
			p, _ := puts("plain", time.Now().Add(warmup))
			i, cpu := puts("foreground", time.Now().Add(warmup))
			if time.Now().After(due) {
				b.Fatal("the backlog fell due before the reaping round")
			}
			// The items expire once the time is past their second, and
			// the reaper passes every second (--ttl-interval): it is at
			// work by the window, and the writes keep it at its pace
			// for foreground load from its start.
			time.Sleep(time.Until(due) - warmup)
			var before, left int64
			start := due.Add(reaperStart)
			go func() {
				time.Sleep(time.Until(start))
				before = itemCount(ctx, b, db, "backlog")
			}()
			r, rcpu := puts("foreground", start)
			left = itemCount(ctx, b, db, "backlog")
			if before == 0 || left == 0 {
				b.Fatalf("the backlog ran out: %d items at the start of the reaping round, %d at its end", before, left)
			}
			reaped += float64(before-left) / round.Seconds()
			plain += p
			idle += i
			reaping += r
			cpuIdle += cpu.Seconds() / round.Seconds()
			cpuReaping += rcpu.Seconds() / round.Seconds()
			// Let the reaper finish the chunk before the next cycle's rounds.
			for itemCount(ctx, b, db, "backlog") > 0 {
				time.Sleep(200 * time.Millisecond)
			}
		}
		b.ReportMetric(plain/cycles, "puts/s-plain")
		b.ReportMetric(idle/cycles, "puts/s-idle")
		b.ReportMetric(reaping/cycles, "puts/s-reaping")
		b.ReportMetric(reaping/idle, "ratio-idle")
		b.ReportMetric(reaping/plain, "ratio-plain")
		b.ReportMetric(reaped/cycles, "reaped/s")
		// The server's CPU per put in idle rounds, and per item reaped:
		// what the reaping rounds used beyond their puts at that cost.
		perPut := cpuIdle / idle
		b.ReportMetric(perPut*1e6, "server-µs/put")
		b.ReportMetric((cpuReaping-reaping*perPut)/reaped*1e6, "server-µs/reaped")
	}
}

// fill writes n items keyed prefix0..prefix(n-1), expiring at exp (Unix
// seconds), with BatchWriteItem from the clients.
func fill(ctx context.Context, b *testing.B, db *dynamodb.Client, table, prefix string, n int, exp int64) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				first := int(next.Add(25)) - 25
				if first >= n {
					return
				}
				var reqs []types.WriteRequest
				for j := first; j < min(first+25, n); j++ {
					it := item(prefix+strconv.Itoa(j), j)
					it["exp"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(exp, 10)}
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
				}
				in := &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}
				for {
					out, err := db.BatchWriteItem(ctx, in)
					if err != nil {
						b.Error(err)
						return
					}
					if len(out.UnprocessedItems) == 0 {
						break
					}
					in.RequestItems = out.UnprocessedItems
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// itemCount is the table's ItemCount (Sluice keeps it current).
func itemCount(ctx context.Context, b *testing.B, db *dynamodb.Client, table string) int64 {
	b.Helper()
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToInt64(out.Table.ItemCount)
}
