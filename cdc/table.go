package cdc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/shards"
)

// errUnsynced: a shard appeared that the last sync did not read back.
var errUnsynced = errors.New("cdc: shard not synced")

// tableRelay publishes one table's records.
type tableRelay struct {
	r    *Relay
	id   uint32
	name string
	wake chan struct{}
	mu   struct {
		sync.Mutex
		buf       map[shards.ID][]engine.Change // committed, in sequence order
		target    map[shards.ID]shards.Seq      // last committed
		published map[shards.ID]shards.Seq      // last acknowledged by JetStream
	}
	// stop ends run, which closes done.
	stop context.CancelFunc
	done chan struct{}
	// Owned by run.
	synced        bool
	lastStreamSeq uint64
}

func newTableRelay(r *Relay, id uint32, name string) *tableRelay {
	tr := &tableRelay{r: r, id: id, name: name, wake: make(chan struct{}, 1), done: make(chan struct{})}
	tr.mu.buf = map[shards.ID][]engine.Change{}
	tr.mu.target = map[shards.ID]shards.Seq{}
	tr.mu.published = map[shards.ID]shards.Seq{}
	return tr
}

func (tr *tableRelay) signal() {
	select {
	case tr.wake <- struct{}{}:
	default:
	}
}

func (tr *tableRelay) setTarget(sh shards.ID, last shards.Seq) {
	tr.mu.Lock()
	if last > tr.mu.target[sh] {
		tr.mu.target[sh] = last
	}
	tr.mu.Unlock()
	tr.signal()
}

// offer buffers committed changes.
func (tr *tableRelay) offer(cs []engine.Change) {
	tr.mu.Lock()
	for _, c := range cs {
		if c.Seq > tr.mu.target[c.Shard] {
			tr.mu.target[c.Shard] = c.Seq
		}
		if len(tr.mu.buf[c.Shard]) < maxBuffered {
			tr.mu.buf[c.Shard] = append(tr.mu.buf[c.Shard], c)
		}
	}
	tr.mu.Unlock()
	tr.signal()
}

func (tr *tableRelay) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if !tr.synced {
			if err := tr.sync(ctx); err != nil {
				if ctx.Err() == nil {
					tr.r.log.Warn("relay resync failed; retrying", "table", tr.id, "err", err, "backoff", backoff)
				}
				sleep(ctx, backoff)
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			tr.synced = true
		}
		batch, err := tr.next()
		if errors.Is(err, errUnsynced) {
			tr.synced = false
			continue
		}
		if err != nil {
			tr.r.log.Error("reading change log failed", "table", tr.id, "err", err)
			sleep(ctx, backoff)
			continue
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-tr.wake:
			}
			continue
		}
		if err := tr.publish(ctx, batch); err != nil {
			if ctx.Err() == nil {
				tr.r.log.Warn("publish failed; resyncing", "table", tr.id, "err", err)
			}
			tr.synced = false
			sleep(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// sync ensures the stream and re-reads where each shard stands in it.
func (tr *tableRelay) sync(ctx context.Context) error {
	js := tr.r.opts.JS
	cfg := jetstream.StreamConfig{
		Name:      StreamName(tr.id),
		Subjects:  []string{"sluice.t." + strconv.FormatUint(uint64(tr.id), 10) + ".*"},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy,
		MaxAge:    tr.r.opts.Retention,
		// Exactly-once rests on Nats-Expected-Last-Sequence; the Msg-Id window
		// is a second guard, and its map costs memory per message in it.
		Duplicates: 10 * time.Second,
	}
	stream, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if tr.name != "" {
			cfg.Description = "Sluice change records of table " + tr.name
			cfg.Metadata = map[string]string{"sluice.table": tr.name}
		}
		stream, err = js.CreateStream(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("ensuring stream %s: %w", cfg.Name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", cfg.Name, err)
	}
	if info.Config.MaxAge != cfg.MaxAge || info.Config.Duplicates != cfg.Duplicates {
		info.Config.MaxAge, info.Config.Duplicates = cfg.MaxAge, cfg.Duplicates
		if _, err := js.UpdateStream(ctx, info.Config); err != nil {
			return fmt.Errorf("updating retention of stream %s: %w", cfg.Name, err)
		}
	}
	tr.lastStreamSeq = info.State.LastSeq

	tr.mu.Lock()
	shardIDs := make([]shards.ID, 0, len(tr.mu.target))
	for sh := range tr.mu.target {
		shardIDs = append(shardIDs, sh)
	}
	tr.mu.Unlock()
	published := map[shards.ID]shards.Seq{}
	for _, sh := range shardIDs {
		m, err := stream.GetLastMsgForSubject(ctx, Subject(tr.id, sh))
		switch {
		case err == nil:
			seq, perr := shards.ParseSeq(m.Header.Get(event.HdrSequence))
			if perr != nil {
				return fmt.Errorf("last record of %s: %w", Subject(tr.id, sh), perr)
			}
			published[sh] = seq
		case errors.Is(err, jetstream.ErrMsgNotFound):
			// Nothing in the stream for this shard (new, or expired): start
			// at the first record still within retention.
			seq, err := tr.firstWithin(sh)
			if err != nil {
				return err
			}
			published[sh] = seq - 1
		default:
			return fmt.Errorf("reading last record of %s: %w", Subject(tr.id, sh), err)
		}
	}
	tr.mu.Lock()
	for sh, seq := range published {
		tr.mu.published[sh] = seq
	}
	tr.mu.Unlock()
	return nil
}

// firstWithin returns the first sequence number of a shard's change log that
// is within retention, or one past the end if there is none.
func (tr *tableRelay) firstWithin(sh shards.ID) (shards.Seq, error) {
	cutoff := tr.r.opts.Now().Add(-tr.r.opts.Retention)
	from := shards.Seq(0)
	var last shards.Seq
	for {
		recs, err := tr.r.opts.Log.Read(tr.id, sh, from, 256)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			tr.mu.Lock()
			t := tr.mu.target[sh]
			tr.mu.Unlock()
			return max(last, t) + 1, nil
		}
		for _, c := range recs {
			t, err := recordTime(c.Data)
			if err != nil {
				return 0, err
			}
			if !t.Before(cutoff) {
				return c.Seq, nil
			}
			last = c.Seq
		}
		from = last + 1
	}
}

// next collects up to MaxBatch records that follow what was published, per
// shard contiguous, from memory where possible and from the change log
// otherwise.
func (tr *tableRelay) next() ([]engine.Change, error) {
	maxN := tr.r.opts.MaxBatch
	type want struct {
		sh       shards.ID
		from, to shards.Seq
	}
	var fromLog []want
	var out []engine.Change
	tr.mu.Lock()
	for sh, target := range tr.mu.target {
		pub, ok := tr.mu.published[sh]
		if !ok {
			// A shard this publisher has not read back from the stream:
			// assuming it empty could publish a record twice.
			tr.mu.Unlock()
			return nil, errUnsynced
		}
		from := pub + 1
		if from > target || len(out) >= maxN {
			continue
		}
		buf := tr.mu.buf[sh]
		i := 0
		for i < len(buf) && buf[i].Seq < from {
			i++
		}
		buf = buf[i:]
		tr.mu.buf[sh] = buf
		n := 0
		for n < len(buf) && buf[n].Seq == from+shards.Seq(n) && len(out) < maxN {
			out = append(out, buf[n])
			n++
		}
		if n == 0 {
			fromLog = append(fromLog, want{sh, from, target})
		}
	}
	tr.mu.Unlock()
	for _, w := range fromLog {
		if len(out) >= maxN {
			break
		}
		recs, err := tr.r.opts.Log.Read(tr.id, w.sh, w.from, maxN-len(out))
		if err != nil {
			return nil, err
		}
		for i, c := range recs {
			if c.Seq != w.from+shards.Seq(i) || c.Seq > w.to {
				if i == 0 && c.Seq > w.from {
					// Trimmed before it was published: cannot happen unless
					// the store was altered; say so and move on.
					tr.r.log.Error("change log gap", "table", tr.id, "shard", w.sh, "want", w.from, "have", c.Seq)
					tr.mu.Lock()
					tr.mu.published[w.sh] = c.Seq - 1
					tr.mu.Unlock()
				}
				break
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// publish sends batch pipelined. Each record expects the stream sequence of
// the one before (Nats-Expected-Last-Sequence), so JetStream stores record
// i only if it stored every record before it; therefore only the last record
// asks for an acknowledgement, and its stream sequence proves the whole
// batch. On any failure the caller resynchronizes from the stream, which
// tells how far the batch got.
func (tr *tableRelay) publish(ctx context.Context, batch []engine.Change) error {
	js := tr.r.opts.JS
	nc := js.Conn()
	last := len(batch) - 1
	var f jetstream.PubAckFuture
	// PublishMsg has copied a message out when it returns, so every one but
	// the last (which the acknowledgement's future keeps) reuses one map.
	var shared nats.Msg
	for i, c := range batch {
		m := &shared
		if i == last {
			m = &nats.Msg{}
		}
		if err := message(m, c); err != nil {
			return err
		}
		m.Header[jetstream.MsgIDHeader] = []string{MsgID(c.TableID, c.Shard, c.Seq)}
		m.Header[jetstream.ExpectedLastSeqHeader] = []string{strconv.FormatUint(tr.lastStreamSeq+uint64(i), 10)}
		if i < last {
			if err := nc.PublishMsg(m); err != nil {
				return fmt.Errorf("publishing: %w", err)
			}
			continue
		}
		var err error
		if f, err = js.PublishMsgAsync(m); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	want := tr.lastStreamSeq + uint64(len(batch))
	select {
	case ack := <-f.Ok():
		if ack.Duplicate || ack.Sequence != want {
			return fmt.Errorf("unexpected ack for %s: stream seq %d (dup %v), want %d",
				f.Msg().Header.Get(jetstream.MsgIDHeader), ack.Sequence, ack.Duplicate, want)
		}
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout.C:
		return errors.New("timed out waiting for the acknowledgement")
	}
	tr.lastStreamSeq = want
	tr.mu.Lock()
	for _, c := range batch {
		tr.mu.published[c.Shard] = c.Seq
	}
	tr.mu.Unlock()
	return nil
}
