package consumers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
)

// TTLReaper deletes the expired items of the tables with TTL enabled: those
// whose TTL attribute is a number of epoch seconds now past, and not more
// than five years past (DynamoDB ignores those, and values that are not
// numbers). Each deletion goes through the normal write path, conditional
// on the TTL attribute still holding the value the reaper found, and its
// change record carries DynamoDB's service userIdentity.
//
// It finds them in an expiry index (engine/ttl.go) that it keeps from each
// table's change stream on JetStream as the GSI indexer keeps GSIs: a
// pull consumer fetches the stream in order, in bursts (pollChanges: the
// index needs to be ready only by the next pass), and engine.ApplyTTL
// writes the entries together with the position they reach (per shard,
// and the stream sequence) in one batch, so after a restart the reaper resumes
// after the stream sequence it recorded and skips, by shard sequence, any
// record it meets again: no change is applied twice or lost. The index of
// a table is built (engine.BackfillTTL) when TTL is enabled, rebuilt when
// the TTL attribute changes or records it needed left the stream unread,
// and dropped when TTL is disabled or the table deleted, all on the
// goroutine that applies the table's records, so none of these
// interleave.
//
// Every interval it reads each table's due entries and deletes their items
// in batches (engine.ExpireTTL), several in flight, on items that share no
// lock, so that they share the commit pipeline's fsyncs; an item whose TTL
// attribute changed since it was indexed is left for its new value to
// decide. An item therefore goes within an interval (plus the index's lag,
// 10 ms or so) of its expiry, as long as items expire no faster than the
// reaper deletes them: as fast as it can while nothing else is written,
// TTLBusyRate items a second while other writes commit, so that they keep
// most of the machine.
type TTLReaper struct {
	e        *engine.Engine
	js       jetstream.JetStream
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration

	// busyRate is how many items a second the reaper deletes while
	// foreground writes commit (TTLOptions.BusyRate).
	busyRate float64

	// applied counts the records applied to expiry indexes.
	applied atomic.Int64
	// foreground is when a change made by others than the reaper last
	// committed (Unix nanoseconds, while Run runs), which pace watches.
	foreground atomic.Int64
	// beforeExpire, when set (tests), runs between reading due entries
	// and deleting their items.
	beforeExpire func(table uint32, due []engine.TTLEntry)

	mu struct {
		sync.Mutex
		// running holds the tables whose goroutine runs.
		running map[uint32]bool
		// deleted counts the items deleted per table since the start.
		deleted map[uint32]int64
	}
	pacer struct {
		sync.Mutex
		next time.Time // when the next deletions may start while busy
	}
}

// DefaultTTLInterval is how often the reaper looks for expired items.
const DefaultTTLInterval = time.Second

// TTLBusyRate is how many items a second the reaper deletes by default
// while other writes commit, so that they keep most of the machine
// (TTLOptions.BusyRate); while nothing else is written it deletes as fast
// as it can.
const TTLBusyRate = 5500

// Tuning of the reaper.
const (
	// ttlPage is how many due entries the reaper reads at once; it splits
	// them among ttlWorkers goroutines whose items share no lock, so each
	// commits about ttlPage/ttlWorkers deletions as one request, and they
	// share fsyncs. At most ttlPage items are locked by the reaper at once
	// (a foreground write to one of them waits for its commit).
	ttlPage    = 128
	ttlWorkers = 4
	// ttlBatch bounds the records applied to an index in one batch, and
	// ttlEvery is how long the index's reader waits between fetches that
	// found fewer (pollChanges): the index may lag by that much (its
	// bound is the interval), and takes its records in bursts.
	ttlBatch = 512
	ttlEvery = 20 * time.Millisecond
	// ttlSweep is how often indexes of tables without TTL are dropped.
	ttlSweep = 30 * time.Second
)

// TTLOptions configure a TTLReaper. The zero value of each field is a
// useful default.
type TTLOptions struct {
	Logger *slog.Logger // nil discards
	// Now is the clock that decides expiry; nil means time.Now.
	Now func() time.Time
	// Interval is how often the reaper looks for expired items; 0 means
	// DefaultTTLInterval.
	Interval time.Duration
	// BusyRate is how many items a second the reaper deletes while other
	// writes commit; 0 means TTLBusyRate.
	BusyRate int
}

// NewTTLReaper returns a reaper of e's tables that reads their streams on
// js.
func NewTTLReaper(e *engine.Engine, js jetstream.JetStream, opts TTLOptions) *TTLReaper {
	r := &TTLReaper{e: e, js: js, log: opts.Logger, now: opts.Now, interval: opts.Interval, busyRate: float64(opts.BusyRate)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.interval <= 0 {
		r.interval = DefaultTTLInterval
	}
	if r.busyRate <= 0 {
		r.busyRate = TTLBusyRate
	}
	r.mu.running = map[uint32]bool{}
	r.mu.deleted = map[uint32]int64{}
	return r
}

// Run keeps the expiry indexes and reaps until ctx ends: every poll it
// starts a goroutine for each table with TTL enabled; a table's goroutine
// ends once its TTL is disabled or it is deleted. Now and then it drops
// the indexes of tables that have no goroutine and no TTL.
func (r *TTLReaper) Run(ctx context.Context) error {
	defer r.e.ChangeLog().Subscribe(r.watch)()
	var wg sync.WaitGroup
	defer wg.Wait()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	var swept time.Time
	for {
		tables := r.e.TTLTables()
		r.mu.Lock()
		for id, name := range tables {
			if r.mu.running[id] {
				continue
			}
			r.mu.running[id] = true
			wg.Go(func() {
				r.table(ctx, id, name)
				r.mu.Lock()
				delete(r.mu.running, id)
				r.mu.Unlock()
			})
		}
		r.mu.Unlock()
		if time.Since(swept) >= ttlSweep {
			swept = time.Now()
			if err := r.sweep(tables); err != nil && !errors.Is(err, engine.ErrClosed) {
				r.log.Warn("dropping TTL indexes failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		}
	}
}

// sweep drops the expiry indexes of tables that have no TTL (deleted, or
// disabled while the reaper was not running) and no goroutine. Only Run
// starts goroutines, so none starts meanwhile; DropTTL keeps the index of
// a table whose TTL was enabled since.
func (r *TTLReaper) sweep(tables map[uint32]string) error {
	ids, err := r.e.TTLIndexes()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := tables[id]; ok {
			continue
		}
		r.mu.Lock()
		running := r.mu.running[id]
		r.mu.Unlock()
		if running {
			continue
		}
		if _, err := r.e.DropTTL(id); err != nil {
			return err
		}
	}
	return nil
}

// serviceIdentity ends the data of the record of every change the reaper
// makes (event.Record puts userIdentity last), and no other: item images
// are escaped JSON there, so its unescaped quotes can only be the
// record's own. Looking at the end only keeps watch, which runs on the
// commit leader, from scanning whole records.
var serviceIdentity = []byte(`,"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}}`)

// ttlBusy is how long after a foreground write the reaper keeps to
// busyRate.
const ttlBusy = 250 * time.Millisecond

// watch runs on the engine's commit leader for every committed batch: it
// notes when one holds a change the reaper did not make.
func (r *TTLReaper) watch(cs []engine.Change) {
	for _, c := range cs {
		if data, _, _, err := event.Data(c.Data); err != nil || !bytes.HasSuffix(data, serviceIdentity) {
			r.foreground.Store(time.Now().UnixNano())
			return
		}
	}
}

// pace returns at once when no foreground write committed in the last
// ttlBusy; otherwise it waits until n more deletions fit busyRate (shared
// by every table's reaping). It returns false if ctx ended meanwhile.
func (r *TTLReaper) pace(ctx context.Context, n int) bool {
	p := &r.pacer
	p.Lock()
	now := time.Now()
	if now.Sub(time.Unix(0, r.foreground.Load())) >= ttlBusy {
		p.next = now
		p.Unlock()
		return true
	}
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(time.Duration(float64(n) / r.busyRate * float64(time.Second)))
	p.Unlock()
	if wait := start.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// Errors that make a table's goroutine look at its index again.
var (
	errTTLChanged = errors.New("TTL setting changed")
	errTTLGap     = errors.New("the stream no longer holds records the expiry index needs")
)

// table keeps one table's expiry index and reaps it until ctx ends, its
// TTL is disabled or it is deleted.
func (r *TTLReaper) table(ctx context.Context, id uint32, name string) {
	tctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	wg.Go(func() { r.reapEvery(tctx, id, name) })
	rebuild := false
	for ctx.Err() == nil {
		state, err := r.e.TTLIndexState(id)
		switch {
		case err != nil:
		case state == engine.TTLOff:
			// TTL disabled, or the table deleted: the index goes, unless
			// TTL was enabled again meanwhile.
			var dropped bool
			if dropped, err = r.e.DropTTL(id); err == nil && dropped {
				return
			}
		case state == engine.TTLStale || rebuild:
			rebuild = false
			err = r.backfill(ctx, id)
		default:
			err = r.read(ctx, id)
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil, errors.Is(err, errTTLChanged):
			continue
		case errors.Is(err, errTTLGap), errors.Is(err, errStreamSkipped):
			r.log.Warn("rebuilding the TTL index", "table", name, "err", err)
			rebuild = true
			continue
		case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, engine.ErrClosed):
		default:
			r.log.Warn("TTL reaper restarting", "table", name, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// backfill builds the table's expiry index (engine.BackfillTTL). The
// stream's last sequence, read first, is where reading resumes: every
// record up to it is older than the backfill's snapshot.
func (r *TTLReaper) backfill(ctx context.Context, id uint32) error {
	var last uint64
	stream, err := r.js.Stream(ctx, cdc.StreamName(id))
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		// Nothing published yet: read the stream from its start.
	case err != nil:
		return err
	default:
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		last = info.State.LastSeq
	}
	return r.e.BackfillTTL(id, last)
}

// read applies the table's stream to its expiry index from after the
// recorded position until ctx ends (nil) or the index needs a backfill.
func (r *TTLReaper) read(ctx context.Context, id uint32) error {
	stream, err := r.js.Stream(ctx, cdc.StreamName(id))
	if err != nil {
		return err
	}
	pos, err := r.e.TTLStreamPosition(id)
	if err != nil {
		return err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return err
	}
	// Records after pos that the stream no longer holds (retention), or a
	// stream that restarted its numbering, leave the index behind for good.
	if info.State.FirstSeq > pos+1 || pos > info.State.LastSeq {
		return errTTLGap
	}
	check := func() error {
		state, err := r.e.TTLIndexState(id)
		if err != nil {
			return err
		}
		if state != engine.TTLReady {
			return errTTLChanged
		}
		return nil
	}
	return pollChanges(ctx, stream, "expiry index of Sluice's TTL reaper", pos+1, ttlBatch, ttlEvery, check, func(changes []engine.IndexChange) error {
		n, err := r.e.ApplyTTL(id, changes)
		r.applied.Add(int64(n))
		return err
	})
}

// reapEvery reaps the table every interval until ctx ends.
func (r *TTLReaper) reapEvery(ctx context.Context, id uint32, name string) {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := r.reap(ctx, id); err != nil && !errors.Is(err, engine.ErrClosed) {
			r.log.Warn("TTL pass failed", "table", name, "err", err)
		}
	}
}

// Pass reaps every table with TTL enabled once, at the reaper's clock's
// time, and returns how many items it deleted. Only what the expiry
// indexes hold is reaped: Run keeps them.
func (r *TTLReaper) Pass() (int, error) {
	deleted := 0
	for id := range r.e.TTLTables() {
		n, err := r.reap(context.Background(), id)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// reap deletes the items of a table that are due: it pages through the
// due entries of its expiry index (due at the clock's time when the page is
// read) and splits each page among ttlWorkers goroutines by the items'
// locks (engine.PartitionTTL), so that their deletions (engine.ExpireTTL)
// never wait for each other and share the commit pipeline's fsyncs.
func (r *TTLReaper) reap(ctx context.Context, id uint32) (int, error) {
	var (
		deleted atomic.Int64
		failed  atomic.Pointer[error]
		wg      sync.WaitGroup
	)
	work := make([]chan ttlWork, ttlWorkers)
	for i := range work {
		work[i] = make(chan ttlWork, 1)
		wg.Go(func() {
			for w := range work[i] {
				if failed.Load() != nil {
					continue
				}
				n, err := r.e.ExpireTTL(id, w.due, w.now)
				if n > 0 {
					// Counted as they go, not when the pass ends: a backlog
					// can take a pass many seconds, and the metric's rate
					// is how an operator sees the reaper keep up.
					deleted.Add(int64(n))
					r.mu.Lock()
					r.mu.deleted[id] += int64(n)
					r.mu.Unlock()
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	var err error
	var after *engine.TTLEntry
	for ctx.Err() == nil && failed.Load() == nil {
		now := r.now()
		var due []engine.TTLEntry
		if due, err = r.e.ExpiredTTL(id, now, after, ttlPage); err != nil || len(due) == 0 {
			break
		}
		if r.beforeExpire != nil {
			r.beforeExpire(id, due)
		}
		for i, group := range r.e.PartitionTTL(due, ttlWorkers) {
			if len(group) > 0 && r.pace(ctx, len(group)) {
				work[i] <- ttlWork{due: group, now: now}
			}
		}
		if len(due) < ttlPage {
			break
		}
		after = &due[len(due)-1]
	}
	for _, c := range work {
		close(c)
	}
	wg.Wait()
	if p := failed.Load(); p != nil && err == nil {
		err = *p
	}
	return int(deleted.Load()), err
}

// ttlWork is a group of due entries for one of reap's workers.
type ttlWork struct {
	due []engine.TTLEntry
	now time.Time
}
