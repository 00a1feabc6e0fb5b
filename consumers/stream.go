package consumers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/shards"
)

// readChanges reads a table's stream in order from stream sequence start
// (1: its first record) with an ordered consumer and hands its change
// records to apply in batches of at most most. Messages arrive as
// JetStream pushes them; a batch is the first one with every other
// delivered until linger passed (0: those already delivered, so the reader
// trails the stream by one batch at most and waits for nothing), or until
// it holds most. Every 100 ms it calls check. It returns nil once ctx ends,
// or the first error of check or apply.
//
// apply must not keep the slice: the next batch reuses it. The GSI indexer
// and the TTL reaper read with it.
func readChanges(ctx context.Context, stream jetstream.Stream, start uint64, most int, linger time.Duration,
	check func() error, apply func([]engine.IndexChange) error) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if start > 1 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	msgs := make(chan jetstream.Msg, most)
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
	closed := cc.Closed()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	wait := time.NewTimer(linger)
	wait.Stop()
	batch := make([]jetstream.Msg, 0, most)
	changes := make([]engine.IndexChange, 0, most)
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
			return errors.New("the stream's consumer stopped")
		case <-tick.C:
			if err := check(); err != nil {
				return err
			}
			continue
		case first = <-msgs:
		}
		batch = append(batch[:0], first)
		if linger > 0 {
			wait.Reset(linger)
		}
	fill:
		for len(batch) < most {
			if linger > 0 {
				select {
				case m := <-msgs:
					batch = append(batch, m)
				case <-wait.C:
					break fill
				case <-ctx.Done():
					return nil
				}
				continue
			}
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		wait.Stop()
		changes = changes[:0]
		for _, m := range batch {
			c, ok, err := readChange(m)
			if err != nil {
				return err
			}
			if ok {
				changes = append(changes, c)
			}
		}
		if len(changes) > 0 {
			if err := apply(changes); err != nil {
				return err
			}
		}
	}
}

// readChange reads a change record from a stream message; ok is false for
// a message that is not one (no shard subject or sequence header).
func readChange(m jetstream.Msg) (engine.IndexChange, bool, error) {
	md, err := m.Metadata()
	if err != nil {
		return engine.IndexChange{}, false, err
	}
	subj := m.Subject()
	sh, err := strconv.ParseUint(subj[strings.LastIndexByte(subj, '.')+1:], 10, 32)
	if err != nil {
		return engine.IndexChange{}, false, nil
	}
	seq, err := shards.ParseSeq(m.Headers().Get(event.HdrSequence))
	if err != nil {
		return engine.IndexChange{}, false, nil
	}
	old, new, err := event.Images(m.Data())
	if err != nil {
		return engine.IndexChange{}, false, err
	}
	return engine.IndexChange{Shard: shards.ID(sh), Seq: seq, Old: old, New: new, Stream: md.Sequence.Stream}, true, nil
}
