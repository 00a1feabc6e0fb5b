package cdctest

import (
	"context"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/bus"
)

// closeTimeout bounds the cleanup's Close; a healthy bus closes in
// milliseconds.
const closeTimeout = 10 * time.Second

// StartBus starts an embedded JetStream in t.TempDir(), reachable in-process
// only, and registers its Close with t.Cleanup. It fails the test if the bus
// does not start or does not close cleanly.
func StartBus(t testing.TB) *bus.Bus {
	t.Helper()
	b, err := bus.Start(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting bus: %v", err)
	}
	// Registered after t.TempDir's cleanup, so it runs before the directory
	// is removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("closing bus: %v", err)
		}
	})
	return b
}
