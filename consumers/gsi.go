// Package consumers holds the stream consumers built into Sluice. The first
// is the GSI indexer, which keeps global secondary indexes from the change
// stream.
package consumers

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/engine"
)

// GSIIndexer keeps the global secondary indexes of every table from its
// change stream on JetStream. For each table with GSIs it reads the table's
// stream in order with an ordered consumer and hands the records to
// engine.ApplyGSI in batches; ApplyGSI writes the index entries together
// with the position they reach (per shard, and the stream sequence), in
// one batch. That position, in Pebble beside the entries, is the indexer's
// durable state: after a restart it resumes after the stream sequence it
// recorded, and a record it meets again is skipped by its shard sequence,
// so no change is applied twice or lost. (A JetStream durable consumer
// would keep a second copy of the position, not atomic with the entries.)
// Changes the stream lost before the indexer read them (it was behind by
// more than the retention, say after a crash and a restart days later)
// show as a gap in their shard's sequence numbers when the shard's next
// record comes, or, on a shard that stays idle, once the change log has
// dropped them too (engine.GSILostChanges, every gsiLostEvery): the GSIs
// that needed them are then backfilled again.
type GSIIndexer struct {
	e   *engine.Engine
	js  jetstream.JetStream
	log *slog.Logger

	mu      sync.Mutex
	running map[uint32]context.CancelFunc
}

// NewGSIIndexer returns an indexer of e's tables on js.
func NewGSIIndexer(e *engine.Engine, js jetstream.JetStream, log *slog.Logger) *GSIIndexer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &GSIIndexer{e: e, js: js, log: log, running: map[uint32]context.CancelFunc{}}
}

// gsiBatch bounds the records applied in one batch.
const gsiBatch = 512

// gsiLostEvery is how often the indexer of a table asks the engine for
// changes lost on idle shards (engine.GSILostChanges): a lookup per shard.
const gsiLostEvery = 5 * time.Second

// Run indexes until ctx ends: every poll it starts a reader for each table
// that has GSIs and stops those of tables that no longer have any.
func (g *GSIIndexer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		tables := g.e.TablesWithGSIs()
		g.mu.Lock()
		for id, stop := range g.running {
			if _, ok := tables[id]; !ok {
				stop()
				delete(g.running, id)
			}
		}
		for id, name := range tables {
			if _, ok := g.running[id]; ok {
				continue
			}
			tctx, stop := context.WithCancel(ctx)
			g.running[id] = stop
			wg.Add(1)
			go func() {
				defer wg.Done()
				g.table(tctx, id, name)
			}()
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// table indexes one table until ctx ends, restarting its reader after any
// failure.
func (g *GSIIndexer) table(ctx context.Context, id uint32, name string) {
	for ctx.Err() == nil {
		err := g.backfill(id)
		if err == nil {
			err = g.read(ctx, id)
		}
		if ctx.Err() != nil {
			return
		}
		var gap *engine.GSIGapError
		if errors.As(err, &gap) {
			// The GSIs lack changes the stream no longer has: rebuild
			// them (at the top of the loop), then go on from the record
			// after the gap, which their backfill covers.
			if err = g.e.RebackfillGSIs(id, gap.Indexes); err == nil {
				continue
			}
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			g.log.Warn("GSI indexer restarting", "table", name, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// read consumes the table's stream from after the recorded position.
func (g *GSIIndexer) read(ctx context.Context, id uint32) error {
	stream, err := g.js.Stream(ctx, cdc.StreamName(id))
	if err != nil {
		return err
	}
	pos, err := g.e.GSIStreamPosition(id)
	if err != nil {
		return err
	}
	// Backfills run on this goroutine, between batches and every 100 ms,
	// so that they never interleave with applying changes. So does the
	// look for lost changes, first 100 ms after the start.
	backfill := func() error { return g.backfill(id) }
	var looked time.Time
	check := func() error {
		if err := backfill(); err != nil {
			return err
		}
		if time.Since(looked) < gsiLostEvery {
			return nil
		}
		looked = time.Now()
		return g.e.GSILostChanges(id)
	}
	return readChanges(ctx, stream, pos+1, gsiBatch, check, func(changes []engine.IndexChange) error {
		if err := backfill(); err != nil {
			return err
		}
		_, err := g.e.ApplyGSI(id, changes)
		return err
	})
}

// backfill fills the table's GSIs that were added to it (UpdateTable), on
// the goroutine that applies its changes, so that the two never
// interleave (engine.BackfillGSI).
func (g *GSIIndexer) backfill(id uint32) error {
	for _, name := range g.e.BackfillingGSIs(id) {
		if err := g.e.BackfillGSI(id, name); err != nil {
			return err
		}
	}
	return nil
}
