package bus_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/bus"
)

// BenchmarkPublishSync measures one synchronous JetStream publish over the
// in-process connection to a file-backed stream: the relay's per-record
// latency when it does not pipeline.
func BenchmarkPublishSync(b *testing.B) {
	bs := start(b, bus.Options{Dir: b.TempDir()})
	ctx := b.Context()
	if _, err := bs.EnsureStream(ctx, testStream); err != nil {
		b.Fatal(err)
	}
	js := bs.JetStream()
	data := make([]byte, 1024) // a typical small change record
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := js.Publish(ctx, "sluice.t.items.0", data, jetstream.WithExpectStream(testStream.Name)); err != nil {
			b.Fatal(err)
		}
	}
}
