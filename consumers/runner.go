package consumers

import (
	"context"
	"errors"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/cdc/filter"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// A runner delivers one trigger's records. It reads the table's stream in
// order through the trigger's durable JetStream consumer ("trigger_<name>",
// AckAll) and hands each record to a lane: the lane of its stream shard and
// of its partition key's slot among ParallelizationFactor, so records of
// one item always go through one lane, in order, while the shards and the
// slots run concurrently. A lane batches, invokes the function, and
// retries, bisects or dead-letters as Lambda does (lane.go).
//
// Checkpoint: a record is done once its batch succeeded, it was filtered
// out, or it was dead-lettered (in a tumbling window: once the window's
// final invocation succeeded). The runner acknowledges, with AckAll, the
// last record of the done prefix of the stream, so the consumer's ack
// floor never passes a record that is not done. On start, a consumer that
// delivered past its ack floor (the runner stopped with records in flight)
// is created again at its ack floor, so those records are delivered again,
// in order, before anything newer: at-least-once, and per item in order.
// The ack floor is saved in the trigger store first ("pos.<name>"), so that
// a crash between deleting and creating the consumer loses nothing.
type runner struct {
	t     *Runtime
	sp    spec
	def   config.Trigger // sp.trig: the delivery settings
	crit  filter.Criteria
	out   outlet
	stats *triggerStats

	cancel context.CancelFunc
	done   chan struct{}

	// Set by run for the current table and consumer.
	mu struct {
		sync.Mutex
		cons  jetstream.Consumer
		track *tracker
	}
}

func newRunner(t *Runtime, sp spec, crit filter.Criteria, out outlet, st *triggerStats) *runner {
	return &runner{t: t, sp: sp, def: sp.trig, crit: crit, out: out, stats: st}
}

// durableName is the durable consumer of a trigger or sink.
func durableName(kind, name string) string { return kind + "_" + name }

func (r *runner) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.loop(ctx)
	}()
}

// stop stops the runner and waits for it: in-flight invocations are
// abandoned (their records will be delivered again).
func (r *runner) stop() {
	r.cancel()
	<-r.done
}

// loop runs the trigger until ctx ends, starting again after any failure
// (the table's stream missing, the bus restarting).
func (r *runner) loop(ctx context.Context) {
	log := r.t.log.With(r.sp.kind, r.sp.name)
	for ctx.Err() == nil {
		err := r.run(ctx)
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errNoTable) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			log.Warn(r.sp.kind+" restarting", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

var errNoTable = errors.New("the table does not exist")

// run delivers from the table's stream until ctx ends or the consumer
// fails.
func (r *runner) run(ctx context.Context) error {
	def, ok := r.t.e.TableDef(r.def.Table)
	r.stats.update(func(s *TriggerStats) { s.waitingOnTable = !ok })
	if !ok {
		return errNoTable
	}
	view := event.ViewNewAndOld
	if def.Stream.Enabled && def.Stream.ViewType != "" {
		view = def.Stream.ViewType
	}
	if err := r.out.open(ctx); err != nil {
		return err
	}
	defer r.out.close(context.WithoutCancel(ctx))
	cons, err := r.consumer(ctx, def.ID)
	if err != nil {
		r.stats.update(func(s *TriggerStats) { s.waitingOnTable = true })
		return err
	}
	r.stats.update(func(s *TriggerStats) { s.waitingOnTable = false })
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	track := newTracker(info.AckFloor.Stream)
	r.mu.Lock()
	r.mu.cons, r.mu.track = cons, track
	r.mu.Unlock()

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	d := &dispatch{
		r:     r,
		table: def.Name,
		view:  view,
		lanes: map[laneKey]*lane{},
		track: track,
	}
	// Lanes are spawned from the consumer's callback, which can still be
	// running after cc.Stop: once shut is set no lane starts, so that
	// wg.Wait covers every lane and the outlet closes after the last
	// Write. A record pushed to a lane that never ran is not acknowledged
	// and comes again.
	var (
		wg      sync.WaitGroup
		spawnMu sync.Mutex
		shut    bool
	)
	defer func() {
		spawnMu.Lock()
		shut = true
		spawnMu.Unlock()
		stop()
		wg.Wait()
		d.track.flush(true)
	}()
	d.spawn = func(l *lane) {
		spawnMu.Lock()
		defer spawnMu.Unlock()
		if shut {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(rctx)
		}()
	}
	failed := make(chan error, 1)
	cc, err := cons.Consume(d.dispatch,
		jetstream.PullMaxMessages(pullBatch(&r.def)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				select {
				case failed <- err:
				default:
				}
			}
		}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	tick := time.NewTicker(ackInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-failed:
			return err
		case <-cc.Closed():
			return errors.New("the stream's consumer stopped")
		case <-tick.C:
			d.track.flush(false)
		}
	}
}

// ackInterval is how often the runner acknowledges the done prefix.
const ackInterval = 20 * time.Millisecond

// pullBatch is how many messages one pull asks for.
func pullBatch(def *config.Trigger) int {
	n := 2 * config.Int(def.BatchSize, config.DefaultBatchSize) * config.Int(def.ParallelizationFactor, 1)
	return min(max(n, 256), 10000)
}

// maxAckPending bounds the records delivered and not done: what the lanes
// hold while one of them is stuck retrying.
func maxAckPending(def *config.Trigger) int {
	return max(20000, 4*pullBatch(def))
}

// consumer returns the trigger's durable consumer on the table's stream,
// creating it at the trigger's starting position, or again at its ack floor
// when it delivered past it.
func (r *runner) consumer(ctx context.Context, tableID uint32) (jetstream.Consumer, error) {
	stream, err := r.t.js.Stream(ctx, cdc.StreamName(tableID))
	if err != nil {
		return nil, err
	}
	name := durableName(r.sp.kind, r.sp.name)
	if r.emptyIndex() {
		// The sink's index is empty (new, or replaced after its settings
		// changed): copy the table again rather than resume.
		if err := stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
		if err := r.t.kv.Purge(ctx, r.sp.posKey()); err != nil {
			return nil, err
		}
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Sluice " + r.sp.kind + " " + r.sp.name,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       time.Hour, // the runner retries by itself; see dispatch
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending(&r.def),
	}
	cons, err := stream.Consumer(ctx, name)
	switch {
	case err == nil:
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, err
		}
		if info.Delivered.Stream <= info.AckFloor.Stream {
			return cons, nil
		}
		// Records were in flight when the runner stopped: deliver again
		// from the ack floor.
		pos := position{TableID: tableID, StreamSeq: info.AckFloor.Stream}
		if err := r.t.savePosition(ctx, r.sp.posKey(), pos); err != nil {
			return nil, err
		}
		if err := stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, err
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, pos.StreamSeq+1
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		pos, ok, err := r.t.loadPosition(ctx, r.sp.posKey())
		if err != nil {
			return nil, err
		}
		switch {
		case ok && pos.TableID == tableID:
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, pos.StreamSeq+1
		case r.out.snapshots() && r.def.StartingPosition == config.TrimHorizon:
			// Copy the table's items, then follow the stream from where it
			// stood before the copy began.
			last, err := r.snapshot(ctx, stream, tableID)
			if err != nil {
				return nil, err
			}
			if err := r.t.savePosition(ctx, r.sp.posKey(), position{TableID: tableID, StreamSeq: last}); err != nil {
				return nil, err
			}
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, last+1
		case r.def.StartingPosition == config.Latest:
			cfg.DeliverPolicy = jetstream.DeliverNewPolicy
		case r.def.StartingPosition == config.AtTimestamp:
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, r.def.StartingPositionTimestamp
		default:
			cfg.DeliverPolicy = jetstream.DeliverAllPolicy
		}
	default:
		return nil, err
	}
	return stream.CreateOrUpdateConsumer(ctx, cfg)
}

// lag is how many records of the stream the trigger has not done.
func (r *runner) lag(ctx context.Context) (uint64, bool) {
	r.mu.Lock()
	cons := r.mu.cons
	r.mu.Unlock()
	if cons == nil {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, false
	}
	return info.NumPending + uint64(info.NumAckPending), true
}

// record is one change on its way to the function.
type record struct {
	streamSeq uint64
	shard     shards.ID
	seq       string    // dynamodb.SequenceNumber
	at        time.Time // when it was committed (ce-time)
	lambda    []byte    // the Lambda-shaped record
	headers   [][2]string
	sink      *sinks.Record // the record as a sink receives it (sinks only)
	entry     *entry        // its place in the tracker
}

// laneKey names a lane: a stream shard and a slot of its partition keys.
type laneKey struct {
	shard shards.ID
	slot  int
}

// dispatch routes a runner's messages to its lanes. Its dispatch method is
// called by one goroutine at a time (the consumer's).
type dispatch struct {
	r     *runner
	table string
	view  string
	lanes map[laneKey]*lane
	track *tracker
	spawn func(*lane)
	last  uint64 // the last stream sequence dispatched
}

var laneSeed = maphash.MakeSeed()

// ceHeaders are the record headers a CloudEvents target sees, in order.
var ceHeaders = [...]string{
	event.HdrSpecVersion, event.HdrID, event.HdrSource, event.HdrType, event.HdrSubject, event.HdrTime,
	event.HdrSequence, event.HdrPartitionKey, event.HdrContentType, event.HdrCorrelation,
	event.HdrAccessKey, event.HdrSourceAddr, event.HdrRequestID,
}

func (d *dispatch) dispatch(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		return
	}
	sseq := md.Sequence.Stream
	if sseq <= d.last {
		return // redelivered after AckWait while still in a lane
	}
	d.last = sseq
	ent := d.track.add(sseq, m)
	rec, ok := d.record(m, sseq)
	if !ok {
		d.track.done(ent)
		return
	}
	rec.entry = ent
	if len(d.r.crit) > 0 && !d.r.crit.Match(rec.lambda) {
		d.r.stats.update(func(s *TriggerStats) { s.Filtered++ })
		d.track.done(ent)
		return
	}
	pf := config.Int(d.r.def.ParallelizationFactor, 1)
	key := laneKey{shard: rec.shard}
	if d.r.sp.sink != nil {
		// A sink gets one batch at a time, in stream order (its Write need
		// not be safe for concurrent use).
		key = laneKey{}
	} else if pf > 1 {
		key.slot = int(maphash.String(laneSeed, m.Headers().Get(event.HdrPartitionKey)) % uint64(pf))
	}
	l := d.lanes[key]
	if l == nil {
		l = newLane(d.r, d.track, key)
		d.lanes[key] = l
		d.spawn(l)
	}
	l.push(rec)
}

// record reads a stream message; ok is false for a message that is not a
// change record.
func (d *dispatch) record(m jetstream.Msg, sseq uint64) (*record, bool) {
	subj := m.Subject()
	sh, err := strconv.ParseUint(subj[strings.LastIndexByte(subj, '.')+1:], 10, 32)
	if err != nil {
		return nil, false
	}
	h := m.Headers()
	seq := h.Get(event.HdrSequence)
	if _, err := shards.ParseSeq(seq); err != nil {
		return nil, false
	}
	at, err := time.Parse(time.RFC3339Nano, h.Get(event.HdrTime))
	if err != nil {
		return nil, false
	}
	var sizes *event.Sizes
	if s, ok := event.ParseSizes(h.Get(event.HdrSizes)); ok {
		sizes = &s
	}
	lambda, err := event.AppendLambda(nil, m.Data(), d.view, h.Get(event.HdrSource), sizes)
	if err != nil {
		d.r.t.log.Warn("skipped a corrupt record", d.r.sp.kind, d.r.sp.name, "stream_seq", sseq, "err", err)
		return nil, false
	}
	rec := &record{streamSeq: sseq, shard: shards.ID(sh), seq: seq, at: at, lambda: lambda}
	if d.r.sp.sink != nil {
		sr, err := sinks.Decode(d.table, shards.ID(sh), h.Get, m.Data())
		if err != nil {
			d.r.t.log.Warn("skipped a corrupt record", d.r.sp.kind, d.r.sp.name, "stream_seq", sseq, "err", err)
			return nil, false
		}
		rec.sink = &sr
	}
	if d.r.def.Target == config.TargetCloudEvents {
		for _, k := range ceHeaders {
			if v := h.Get(k); v != "" {
				rec.headers = append(rec.headers, [2]string{k, v})
			}
		}
	}
	return rec, true
}

// tracker acknowledges the done prefix of the dispatched records.
type tracker struct {
	mu struct {
		sync.Mutex
		queue []*entry // dispatched and not yet behind the ack, in stream order
		ack   jetstream.Msg
		done  uint64 // the stream sequence of the done prefix's end
	}
	acked jetstream.Msg // the last message acknowledged (flush's goroutine only)
}

// entry is a dispatched record's place in the tracker.
type entry struct {
	msg  jetstream.Msg
	seq  uint64 // stream sequence
	done bool
}

// newTracker returns a tracker of a consumer whose ack floor is floor.
func newTracker(floor uint64) *tracker {
	t := &tracker{}
	t.mu.done = floor
	return t
}

// doneThrough is the stream sequence through which every record is done.
func (t *tracker) doneThrough() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.done
}

func (t *tracker) add(sseq uint64, m jetstream.Msg) *entry {
	e := &entry{msg: m, seq: sseq}
	t.mu.Lock()
	t.mu.queue = append(t.mu.queue, e)
	t.mu.Unlock()
	return e
}

// done marks records done and moves the ack point over the done prefix.
func (t *tracker) done(es ...*entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range es {
		e.done = true
	}
	q := t.mu.queue
	i := 0
	for i < len(q) && q[i].done {
		i++
	}
	if i == 0 {
		return
	}
	t.mu.ack, t.mu.done = q[i-1].msg, q[i-1].seq
	clear(q[:i])
	t.mu.queue = q[i:]
	if cap(t.mu.queue) > 1024 && len(t.mu.queue) < cap(t.mu.queue)/4 {
		t.mu.queue = append([]*entry(nil), t.mu.queue...)
	}
}

// flush acknowledges the ack point if it moved: AckAll acknowledges every
// earlier message too. final waits for the server's confirmation.
func (t *tracker) flush(final bool) {
	t.mu.Lock()
	m := t.mu.ack
	t.mu.Unlock()
	if m == nil || m == t.acked {
		return
	}
	t.acked = m
	if final {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.DoubleAck(ctx) // if lost, the records are delivered again
		return
	}
	_ = m.Ack()
}

// triggerStats are a trigger's counters, shared by its runners over time.
type triggerStats struct {
	mu sync.Mutex
	s  TriggerStats
}

func (s *triggerStats) update(f func(*TriggerStats)) {
	s.mu.Lock()
	f(&s.s)
	s.mu.Unlock()
}

func (s *triggerStats) snapshot() TriggerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s
}

func newUUID() string { return uuid.NewString() }

// emptyIndex reports whether the runner's sink copies the table first and
// holds nothing of the stream yet (a search index reports its position).
func (r *runner) emptyIndex() bool {
	if !r.out.snapshots() || r.def.StartingPosition != config.TrimHorizon {
		return false
	}
	p, ok := r.out.(*sinkOutlet).sink.(interface {
		Position() map[shards.ID]shards.Seq
	})
	return ok && len(p.Position()) == 0
}

// doneThrough is the stream sequence through which the runner has done
// every record; ok is false while it is not running.
func (r *runner) doneThrough() (uint64, bool) {
	r.mu.Lock()
	t := r.mu.track
	r.mu.Unlock()
	if t == nil {
		return 0, false
	}
	return t.doneThrough(), true
}
