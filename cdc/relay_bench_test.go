package cdc

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// BenchmarkRelay measures what publishing a change record costs: 50,000
// records (items of about 200 bytes, as ddbbench's) are committed while no
// relay runs, then a relay publishes them from the change log into the
// embedded JetStream. It reports the process's CPU per record, the relay's
// reading, encoding and publishing and JetStream's storing, with nothing
// else running.
//
//	go test -run '^$' -bench Relay -benchtime 5x ./cdc/
func BenchmarkRelay(b *testing.B) {
	const records = 50_000
	var cpu, wall time.Duration
	for b.Loop() {
		e, err := engine.Open(engine.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		bs := cdctest.StartBus(b)
		in, err := e.CreateTable(&catalog.Table{
			Name:                 "relay",
			KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
			AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
			BillingMode:          catalog.PayPerRequest,
		})
		if err != nil {
			b.Fatal(err)
		}
		val := attr.S(strings.Repeat("v", 160))
		for i := 0; i < records; i += engine.MaxBatchWrites {
			var ops []engine.BatchWriteOp
			for j := i; j < i+engine.MaxBatchWrites; j++ {
				ops = append(ops, engine.BatchWriteOp{Table: "relay", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", j)), "val": val}})
			}
			if _, err := e.BatchWrite(engine.BatchWriteRequest{Ops: ops}); err != nil {
				b.Fatal(err)
			}
		}
		r, err := NewRelay(Options{Log: e.ChangeLog(), JS: bs.JetStream()})
		if err != nil {
			b.Fatal(err)
		}
		cpu0, start := cpuTime(), time.Now()
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		for {
			s, err := bs.JetStream().Stream(ctx, StreamName(in.ID))
			if err == nil {
				if info, err := s.Info(ctx); err == nil && info.State.Msgs >= records {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		cpu += cpuTime() - cpu0
		wall += time.Since(start)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N * records)
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/n, "cpu-µs/record")
	b.ReportMetric(n/wall.Seconds(), "records/s")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
