package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/shards"
)

// Options configure a Relay.
type Options struct {
	Log *engine.ChangeLog // required
	JS  jetstream.JetStream
	// Retention is the stream's MaxAge and the change log's trimming
	// horizon; 0 means 24 hours.
	Retention time.Duration
	// TrimInterval is how often the change log is trimmed; 0 means 1 minute.
	TrimInterval time.Duration
	// MaxBatch is the most records in flight per table; 0 means 512.
	MaxBatch int
	Logger   *slog.Logger // nil discards
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Relay publishes the change log to JetStream.
type Relay struct {
	opts   Options
	log    *slog.Logger
	cancel func()
	wake   chan struct{}
	mu     struct {
		sync.Mutex
		tables map[uint32]*tableRelay
		// incoming holds committed changes not yet taken by a table's
		// publisher, by table.
		incoming map[uint32][]engine.Change
	}
}

// StreamName is the JetStream stream holding a table's records.
func StreamName(tableID uint32) string { return "sluice-t-" + strconv.FormatUint(uint64(tableID), 10) }

// Subject is the subject of a table shard's records.
func Subject(tableID uint32, sh shards.ID) string {
	return "sluice.t." + strconv.FormatUint(uint64(tableID), 10) + "." + sh.String()
}

// NewRelay validates opts and subscribes to the change log; records
// committed from now on are buffered until Run publishes them.
func NewRelay(opts Options) (*Relay, error) {
	if opts.Log == nil || opts.JS == nil {
		return nil, errors.New("cdc: relay needs a change log and JetStream")
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.TrimInterval == 0 {
		opts.TrimInterval = time.Minute
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Relay{opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.mu.tables = map[uint32]*tableRelay{}
	r.mu.incoming = map[uint32][]engine.Change{}
	r.cancel = opts.Log.Subscribe(r.onCommit)
	return r, nil
}

// maxBuffered bounds the in-memory backlog per table; past it the publisher
// reads the change log instead.
const maxBuffered = 1 << 14

// onCommit runs on the engine's commit leader: it only appends and signals.
func (r *Relay) onCommit(changes []engine.Change) {
	r.mu.Lock()
	for _, c := range changes {
		q := r.mu.incoming[c.TableID]
		if len(q) < maxBuffered {
			r.mu.incoming[c.TableID] = append(q, c)
		}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends. It returns nil on cancellation.
func (r *Relay) Run(ctx context.Context) error {
	defer r.cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	trim := time.NewTicker(r.opts.TrimInterval)
	defer trim.Stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	r.refresh(ctx, &wg)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
			if r.hand() {
				r.refresh(ctx, &wg)
			}
		case <-poll.C:
			r.refresh(ctx, &wg)
		case <-trim.C:
			r.trim(ctx)
		}
	}
}

// hand gives each table's publisher its buffered changes and reports whether
// some changes belong to a table without a publisher yet.
func (r *Relay) hand() (unknown bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, q := range r.mu.incoming {
		tr, ok := r.mu.tables[id]
		if !ok {
			unknown = true
			continue
		}
		tr.offer(q)
		delete(r.mu.incoming, id)
	}
	return unknown
}

// refresh starts a publisher for every table with a change log, tells each
// where its shards' logs end, and hands out buffered changes. It runs at
// start, once a second, and when a change names an unknown table: the hot
// path only hands changes over.
func (r *Relay) refresh(ctx context.Context, wg *sync.WaitGroup) {
	pos := r.opts.Log.Positions()
	var started []*tableRelay
	r.mu.Lock()
	for _, p := range pos {
		tr, ok := r.mu.tables[p.TableID]
		if !ok {
			tr = newTableRelay(r, p.TableID, p.Table)
			r.mu.tables[p.TableID] = tr
			started = append(started, tr)
		}
		tr.setTarget(p.Shard, p.Last)
	}
	r.mu.Unlock()
	// Start publishers only once they know every shard with a log, so their
	// first sync reads all of them back.
	for _, tr := range started {
		tctx, stop := context.WithCancel(ctx)
		tr.stop = stop
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(tr.done)
			tr.run(tctx)
		}()
	}
	r.hand()
}

// Published reports, per shard of a table, the last sequence number
// JetStream acknowledged (for tests and metrics).
func (r *Relay) Published(tableID uint32) map[shards.ID]shards.Seq {
	r.mu.Lock()
	tr := r.mu.tables[tableID]
	r.mu.Unlock()
	if tr == nil {
		return nil
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[shards.ID]shards.Seq, len(tr.mu.published))
	for k, v := range tr.mu.published {
		out[k] = v
	}
	return out
}

// trim deletes change-log records that JetStream holds and that are past
// retention.
func (r *Relay) trim(ctx context.Context) {
	cutoff := r.opts.Now().Add(-r.opts.Retention)
	for id, pub := range r.publishedAll() {
		for sh, through := range pub {
			if ctx.Err() != nil {
				return
			}
			upTo, err := r.trimPoint(id, sh, through, cutoff)
			if err != nil {
				r.log.Warn("reading change log for trim failed", "table", id, "shard", sh, "err", err)
				continue
			}
			if upTo == 0 {
				continue
			}
			if err := r.opts.Log.Trim(id, sh, upTo); err != nil {
				r.log.Warn("trimming change log failed", "table", id, "shard", sh, "err", err)
			}
		}
	}
	r.reclaim(ctx)
}

// reclaim lets go of deleted tables once their records are gone: a deleted
// table's shard whose change log is empty is forgotten (Trim to its end),
// the publisher of a table with no shard left stops, and its JetStream
// stream is deleted once MaxAge has emptied it (so a trigger or sink still
// reading it loses nothing). Streams of tables the engine no longer knows
// at all (forgotten before a restart) are deleted the same way. Then the
// engine forgets the definitions it kept for the deleted tables' streams.
func (r *Relay) reclaim(ctx context.Context) {
	lg := r.opts.Log
	logged := map[uint32]bool{}
	for _, p := range lg.Positions() {
		if lg.Live(p.TableID) {
			logged[p.TableID] = true
			continue
		}
		first, err := lg.First(p.TableID, p.Shard)
		if err == nil && first == 0 {
			err = lg.Trim(p.TableID, p.Shard, p.Last)
		}
		if err != nil || first != 0 {
			logged[p.TableID] = true
		}
		if err != nil {
			r.log.Warn("forgetting a deleted table's shard failed", "table", p.TableID, "shard", p.Shard, "err", err)
		}
	}
	r.mu.Lock()
	var gone []*tableRelay
	for id, tr := range r.mu.tables {
		if !logged[id] && !lg.Live(id) {
			gone = append(gone, tr)
			delete(r.mu.tables, id)
		}
	}
	r.mu.Unlock()
	for _, tr := range gone {
		tr.stop()
		select {
		case <-tr.done:
		case <-ctx.Done():
			return
		}
	}
	if r.opts.JS != nil {
		names := r.opts.JS.StreamNames(ctx)
		for name := range names.Name() {
			id, ok := streamTable(name)
			if !ok || logged[id] || lg.Live(id) {
				continue
			}
			if err := r.dropStream(ctx, name); err != nil {
				r.log.Warn("deleting a deleted table's stream failed", "stream", name, "err", err)
			}
		}
		if err := names.Err(); err != nil && ctx.Err() == nil {
			r.log.Warn("listing streams failed", "err", err)
		}
	}
	if n, err := lg.ForgetDropped(); err != nil {
		r.log.Warn("forgetting deleted tables failed", "err", err)
	} else if n > 0 {
		r.log.Info("forgot deleted tables past retention", "tables", n)
	}
}

// dropStream deletes a deleted table's stream once it holds no message.
func (r *Relay) dropStream(ctx context.Context, name string) error {
	s, err := r.opts.JS.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs > 0 {
		return err
	}
	if err := r.opts.JS.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	r.log.Info("deleted the stream of a deleted table", "stream", name)
	return nil
}

// streamTable parses a table id out of StreamName's form.
func streamTable(name string) (uint32, bool) {
	rest, ok := strings.CutPrefix(name, "sluice-t-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(rest, 10, 32)
	return uint32(id), err == nil
}

func (r *Relay) publishedAll() map[uint32]map[shards.ID]shards.Seq {
	r.mu.Lock()
	ids := make([]uint32, 0, len(r.mu.tables))
	for id := range r.mu.tables {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	out := map[uint32]map[shards.ID]shards.Seq{}
	for _, id := range ids {
		out[id] = r.Published(id)
	}
	return out
}

// trimPoint finds the last record at or before through that is older than
// cutoff (0 if none).
func (r *Relay) trimPoint(table uint32, sh shards.ID, through shards.Seq, cutoff time.Time) (shards.Seq, error) {
	var upTo shards.Seq
	from := shards.Seq(0)
	for {
		recs, err := r.opts.Log.Read(table, sh, from, 256)
		if err != nil || len(recs) == 0 {
			return upTo, err
		}
		for _, c := range recs {
			if c.Seq > through {
				return upTo, nil
			}
			t, err := recordTime(c.Data)
			if err != nil {
				return upTo, err
			}
			if !t.Before(cutoff) {
				return upTo, nil
			}
			upTo = c.Seq
		}
		from = recs[len(recs)-1].Seq + 1
	}
}

func recordTime(data []byte) (time.Time, error) {
	env, err := event.Decode(data)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, env.Header(event.HdrTime))
}

// message fills m (whose Header it clears) with the NATS message of a
// change; Data aliases the change's.
func message(m *nats.Msg, c engine.Change) error {
	env, err := event.DecodeShared(c.Data)
	if err != nil {
		return fmt.Errorf("decoding record %d/%d/%d: %w", c.TableID, c.Shard, c.Seq, err)
	}
	m.Subject = Subject(c.TableID, c.Shard)
	if m.Header == nil {
		m.Header = make(nats.Header, len(env.Headers)+2)
	}
	clear(m.Header)
	vals := make([]string, len(env.Headers))
	for i, h := range env.Headers {
		vals[i] = h[1]
		m.Header[h[0]] = vals[i : i+1 : i+1]
	}
	m.Data = env.Data
	return nil
}

// MsgID is the Nats-Msg-Id of a record.
func MsgID(tableID uint32, sh shards.ID, seq shards.Seq) string {
	return strconv.FormatUint(uint64(tableID), 10) + "-" + sh.String() + "-" + strconv.FormatUint(uint64(seq), 10)
}
