package consumers

import (
	"context"
	"errors"
	"fmt"
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
// records to apply in batches of at most most: JetStream pushes each
// record as it is stored, and a batch is the first one waiting with every
// other already delivered, so the reader trails the stream by one batch at
// most and waits for nothing. Every 100 ms it calls check. It returns nil
// once ctx ends, or the first error of check or apply.
//
// apply must not keep the slice: the next batch reuses it. The GSI indexer
// reads with it: a GSI's lag is what its readers see.
func readChanges(ctx context.Context, stream jetstream.Stream, start uint64, most int,
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
	batch := make([]jetstream.Msg, 0, most)
	var changes []engine.IndexChange
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
	fill:
		for len(batch) < most {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if changes, err = appendChanges(changes[:0], batch, nil); err != nil {
			return err
		}
		if len(changes) > 0 {
			if err := apply(changes); err != nil {
				return err
			}
		}
	}
}

// errStreamSkipped is pollChanges' error when the stream handed it a
// record after a gap: records it needed are no longer there.
var errStreamSkipped = errors.New("the stream skipped records")

// pollChanges is readChanges for a reader that may trail the stream by
// every: it fetches, with a pull consumer, the records stored since its
// last fetch (at most most, at once again if there were that many), then
// waits every before the next. JetStream then hands it its records in
// bursts, some fifty fetches a second until it falls behind, where a
// pushed record wakes a goroutine or two on each side per record
// (BenchmarkTTLForeground: half the CPU a TTL table's write spends on its
// index). desc describes the consumer to whoever lists the stream's
// consumers. A record after a gap in the stream's sequence (deleted, or
// expired unread) ends it with errStreamSkipped: the gap is for good.
//
// The TTL reaper reads with it: its expiry index only needs to be ready
// by the next pass.
func pollChanges(ctx context.Context, stream jetstream.Stream, desc string, start uint64, most int, every time.Duration,
	check func() error, apply func([]engine.IndexChange) error) error {
	cfg := jetstream.ConsumerConfig{
		Description:   desc,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// Nothing to acknowledge: the reader keeps its own position, and
		// a reader that stops takes its consumer with it (or the server
		// does, once it has been idle for InactiveThreshold).
		AckPolicy:         jetstream.AckNonePolicy,
		MaxRequestBatch:   most,
		InactiveThreshold: time.Minute,
		MemoryStorage:     true,
	}
	if start > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	wait := time.NewTimer(every)
	wait.Stop()
	next := start
	var batch []jetstream.Msg
	var changes []engine.IndexChange
	checked := time.Now()
	for {
		if time.Since(checked) >= 100*time.Millisecond {
			checked = time.Now()
			if err := check(); err != nil {
				return err
			}
		}
		fetch, err := cons.FetchNoWait(most)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		batch = batch[:0]
		for m := range fetch.Messages() {
			batch = append(batch, m)
		}
		if err := fetch.Error(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if changes, err = appendChanges(changes[:0], batch, &next); err != nil {
			return err
		}
		if len(changes) > 0 {
			if err := apply(changes); err != nil {
				return err
			}
		}
		if len(batch) == most {
			continue // more may be waiting
		}
		wait.Reset(every) // stopped or fired: Reset needs no drain since Go 1.23
		select {
		case <-ctx.Done():
			return nil
		case <-wait.C:
		}
	}
}

// appendChanges appends the change records of msgs to changes. With next
// set, each message's stream sequence must be *next, which it advances:
// one that is not ends it with errStreamSkipped.
func appendChanges(changes []engine.IndexChange, msgs []jetstream.Msg, next *uint64) ([]engine.IndexChange, error) {
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			return changes, err
		}
		if next != nil {
			if md.Sequence.Stream != *next {
				return changes, fmt.Errorf("%w: %d after %d", errStreamSkipped, md.Sequence.Stream, *next-1)
			}
			*next++
		}
		c, ok, err := readChange(m, md)
		if err != nil {
			return changes, err
		}
		if ok {
			changes = append(changes, c)
		}
	}
	return changes, nil
}

// readChange reads a change record from a stream message and its
// metadata; ok is false for a message that is not one (no shard subject
// or sequence header).
func readChange(m jetstream.Msg, md *jetstream.MsgMetadata) (engine.IndexChange, bool, error) {
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
