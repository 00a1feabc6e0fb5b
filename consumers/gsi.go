// Package consumers holds the stream consumers built into Sluice. The first
// is the GSI indexer, which keeps global secondary indexes from the change
// stream.
package consumers

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/shards"
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
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if pos > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: pos + 1}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	// Messages arrive as JetStream pushes them; each round applies the
	// first one with every other already delivered, so the index trails
	// the stream by one batch at most and waits for nothing.
	msgs := make(chan jetstream.Msg, gsiBatch)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-rctx.Done():
		}
	})
	if err != nil {
		return err
	}
	defer func() {
		stop() // first: frees a callback blocked on a full channel
		cc.Stop()
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case <-cc.Closed():
			return errors.New("the stream's consumer stopped")
		case <-tick.C:
			if err := g.backfill(id); err != nil {
				return err
			}
			continue
		case first = <-msgs:
		}
		batch := []jetstream.Msg{first}
	drain:
		for len(batch) < gsiBatch {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		changes := make([]engine.GSIChange, 0, len(batch))
		for _, m := range batch {
			c, ok, err := gsiChange(m)
			if err != nil {
				return err
			}
			if ok {
				changes = append(changes, c)
			}
		}
		if err := g.backfill(id); err != nil {
			return err
		}
		if len(changes) > 0 {
			if _, err := g.e.ApplyGSI(id, changes); err != nil {
				return err
			}
		}
	}
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

// gsiChange reads a change record from a stream message; ok is false for a
// message that is not one (no shard subject or sequence header).
func gsiChange(m jetstream.Msg) (engine.GSIChange, bool, error) {
	md, err := m.Metadata()
	if err != nil {
		return engine.GSIChange{}, false, err
	}
	subj := m.Subject()
	sh, err := strconv.ParseUint(subj[strings.LastIndexByte(subj, '.')+1:], 10, 32)
	if err != nil {
		return engine.GSIChange{}, false, nil
	}
	seq, err := shards.ParseSeq(m.Headers().Get(event.HdrSequence))
	if err != nil {
		return engine.GSIChange{}, false, nil
	}
	old, new, err := event.Images(m.Data())
	if err != nil {
		return engine.GSIChange{}, false, err
	}
	return engine.GSIChange{Shard: shards.ID(sh), Seq: seq, Old: old, New: new, Stream: md.Sequence.Stream}, true, nil
}
