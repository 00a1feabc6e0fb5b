package consumers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/consumers/target"
)

// maxPayload bounds a batch's event, as Lambda's 6 MB invocation payload
// does (less room for the envelope).
const maxPayload = 6<<20 - 64<<10

// A lane delivers the records of one stream shard (or of one partition-key
// slot of it) in order: one batch at a time, each retried until it is done.
type lane struct {
	r     *runner
	track *tracker
	key   laneKey

	mu struct {
		sync.Mutex
		q     []*record
		since time.Time // when the first record in q arrived
	}
	wake chan struct{}

	// Tumbling window state (the lane's goroutine only).
	win       *target.Window
	state     json.RawMessage
	winDone   []*entry // records delivered in the window, done when it closes
	shardName string
	streamARN string
}

func newLane(r *runner, t *tracker, key laneKey) *lane {
	return &lane{r: r, track: t, key: key, wake: make(chan struct{}, 1),
		shardName: fmt.Sprintf("shardId-%08x", uint32(key.shard))}
}

// push queues a record (never blocks: the consumer's MaxAckPending bounds
// what the lanes hold).
func (l *lane) push(rec *record) {
	l.mu.Lock()
	if len(l.mu.q) == 0 {
		l.mu.since = time.Now()
	}
	l.mu.q = append(l.mu.q, rec)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) run(ctx context.Context) {
	for {
		batch, ok := l.take(ctx)
		if !ok {
			return
		}
		if len(batch) > 0 && !l.deliver(ctx, batch, 0) {
			return
		}
	}
}

// take waits for the next batch: up to BatchSize records and maxPayload
// bytes, gathered for up to MaximumBatchingWindowInSeconds. With a tumbling
// window, a batch holds records of one window, and the window's final
// invocation happens here when a record of a later window arrives or the
// window ends. ok is false once ctx ends.
func (l *lane) take(ctx context.Context) (batch []*record, ok bool) {
	def := &l.r.def
	size := config.Int(def.BatchSize, config.DefaultBatchSize)
	window := time.Duration(config.Int(def.MaximumBatchingWindowInSeconds, 0)) * time.Second
	tumble := time.Duration(config.Int(def.TumblingWindowInSeconds, 0)) * time.Second
	for {
		l.mu.Lock()
		n := len(l.mu.q)
		since := l.mu.since
		var first *record
		if n > 0 {
			first = l.mu.q[0]
		}
		l.mu.Unlock()

		if tumble > 0 && l.win != nil {
			now := l.r.t.opts.Now()
			if (first != nil && !first.at.Before(l.win.End)) || (first == nil && !now.Before(l.win.End)) {
				if !l.closeWindow(ctx) {
					return nil, false
				}
				continue
			}
		}
		full := n >= size
		if n > 0 && (full || window == 0 || time.Since(since) >= window) {
			return l.cut(size, tumble), true
		}
		var timer <-chan time.Time
		wait := time.Duration(-1)
		if n > 0 {
			wait = window - time.Since(since)
		}
		if tumble > 0 && l.win != nil {
			if w := l.win.End.Sub(l.r.t.opts.Now()); wait < 0 || w < wait {
				wait = max(w, time.Millisecond)
			}
		}
		var t *time.Timer
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil, false
		}
	}
}

// cut takes the batch off the queue.
func (l *lane) cut(size int, tumble time.Duration) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.mu.q
	if tumble > 0 && l.win == nil {
		start := q[0].at.Truncate(tumble)
		l.win = &target.Window{Start: start, End: start.Add(tumble)}
		l.state = json.RawMessage(`{}`)
	}
	n, bytes := 0, 0
	for n < len(q) && n < size {
		if tumble > 0 && !q[n].at.Before(l.win.End) {
			break
		}
		if bytes += len(q[n].lambda) + 1; bytes > maxPayload && n > 0 {
			break
		}
		n++
	}
	batch := append([]*record(nil), q[:n]...)
	clear(q[:n])
	l.mu.q = q[n:]
	if len(l.mu.q) > 0 {
		l.mu.since = time.Now()
	}
	return batch
}

// deliver delivers recs, with Lambda's error handling, until every record
// is done: delivered, or given up on and dead-lettered. attempts is how
// many times these records were already tried. It returns false if ctx
// ended first (the records stay undone and will be delivered again).
//
// A failed invocation is retried, after a backoff that doubles, until it
// succeeds, MaximumRetryAttempts retries were made, or a record is older
// than MaximumRecordAgeInSeconds. With BisectBatchOnFunctionError a failed
// batch is first split in two halves, delivered one after the other;
// splitting does not use up retries. With ReportBatchItemFailures a
// response listing failed records marks the records before the lowest one
// done and retries from it.
func (l *lane) deliver(ctx context.Context, recs []*record, attempts int) bool {
	def := &l.r.def
	maxRetries := config.Int(def.MaximumRetryAttempts, config.DefaultMaximumRetryAttempts)
	maxAge := config.Int(def.MaximumRecordAgeInSeconds, config.DefaultMaximumRecordAge)
	var last invokeResult
	for len(recs) > 0 {
		if maxAge >= 0 {
			limit := l.r.t.opts.Now().Add(-time.Duration(maxAge) * time.Second)
			i := 0
			for i < len(recs) && recs[i].at.Before(limit) {
				i++
			}
			if i > 0 {
				if !l.deadLetter(ctx, recs[:i], "RecordAgeExceeded", last, attempts) {
					return false
				}
				recs = recs[i:]
				continue
			}
		}
		res := l.invoke(ctx, recs, false)
		if ctx.Err() != nil {
			return false
		}
		last = res
		if res.ok {
			l.finish(recs)
			return true
		}
		if res.resumeAt > 0 {
			// A partial failure: what precedes the lowest failed record is done.
			l.finish(recs[:res.resumeAt])
			recs = recs[res.resumeAt:]
			attempts++
		} else if def.BisectBatchOnFunctionError && len(recs) > 1 {
			half := len(recs) / 2
			if !l.deliver(ctx, recs[:half], attempts) {
				return false
			}
			recs = recs[half:]
			continue
		} else {
			attempts++
		}
		if maxRetries >= 0 && attempts > maxRetries {
			return l.deadLetter(ctx, recs, "RetryAttemptsExhausted", last, attempts)
		}
		if !sleep(ctx, max(l.backoff(attempts), res.retryAfter)) {
			return false
		}
	}
	return true
}

// backoff is the wait before retry n (n >= 1).
func (l *lane) backoff(n int) time.Duration {
	d := l.r.t.opts.MinBackoff
	for i := 1; i < n && d < l.r.t.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, l.r.t.opts.MaxBackoff)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// finish marks delivered records done; in a tumbling window, once the
// window's final invocation succeeds.
func (l *lane) finish(recs []*record) {
	if len(recs) == 0 {
		return
	}
	es := make([]*entry, len(recs))
	for i, r := range recs {
		es[i] = r.entry
	}
	l.r.stats.update(func(s *TriggerStats) { s.Delivered += uint64(len(recs)) })
	if l.win != nil {
		l.winDone = append(l.winDone, es...)
		return
	}
	l.track.done(es...)
}

// closeWindow makes the window's final invocation (no records,
// isFinalInvokeForWindow) and then marks the window's records done. It
// returns false if ctx ended first.
func (l *lane) closeWindow(ctx context.Context) bool {
	def := &l.r.def
	maxRetries := config.Int(def.MaximumRetryAttempts, config.DefaultMaximumRetryAttempts)
	for attempts := 1; ; attempts++ {
		res := l.invoke(ctx, nil, true)
		if ctx.Err() != nil {
			return false
		}
		if res.ok {
			break
		}
		if maxRetries >= 0 && attempts > maxRetries {
			l.r.t.log.Warn("tumbling window's final invocation failed; its result is lost",
				"trigger", def.Name, "window_start", l.win.Start, "err", res.message)
			break
		}
		if !sleep(ctx, l.backoff(attempts)) {
			return false
		}
	}
	l.track.done(l.winDone...)
	l.winDone, l.win, l.state = nil, nil, nil
	return true
}

// invokeResult is an invocation's outcome as the lane acts on it.
type invokeResult struct {
	ok       bool
	resumeAt int // > 0: a partial failure; the index of the lowest failed record
	status   int
	funcErr  string
	message  string
	// retryAfter is how long the function asked to be left alone (a 429
	// or 503 with Retry-After).
	retryAfter time.Duration
}

// invoke sends recs once, to the function or the sink, and counts it.
func (l *lane) invoke(ctx context.Context, recs []*record, final bool) invokeResult {
	now := l.r.t.opts.Now()
	out := l.r.out.send(ctx, l, recs, final)
	l.r.stats.update(func(s *TriggerStats) {
		s.Invocations++
		s.everInvoked = true
		s.lastInvokeOK = out.ok
		if !out.ok {
			s.Errors++
		}
		if len(recs) > 0 {
			s.IteratorAgeMs = now.Sub(recs[len(recs)-1].at).Milliseconds()
			s.LastStreamSeq = recs[len(recs)-1].streamSeq
		}
	})
	if !out.ok && ctx.Err() == nil {
		l.r.t.log.Debug("delivery failed", l.r.sp.kind, l.r.sp.name, "records", len(recs), "error", out.funcErr, "message", out.message)
	}
	return out
}

// fnOutlet is the outlet of a trigger: its target.
type fnOutlet struct {
	tgt target.Target
}

func (f *fnOutlet) open(context.Context) error { return nil }
func (f *fnOutlet) close(context.Context)      {}

func (f *fnOutlet) send(ctx context.Context, l *lane, recs []*record, final bool) invokeResult {
	def := &l.r.def
	b := target.Batch{Records: make([]target.Record, len(recs))}
	for i, r := range recs {
		b.Records[i] = target.Record{Lambda: r.lambda, SequenceNumber: r.seq, Headers: r.headers}
	}
	if l.win != nil {
		b.Window = l.win
		b.State = l.state
		b.ShardID = l.shardName
		if a := arnOf(recs); a != "" {
			l.streamARN = a
		}
		b.EventSourceARN = l.streamARN
		b.IsFinalInvokeForWindow = final
	}
	// A structured-mode CloudEvents delivery that stops at a failed record
	// reports the records from it on as failed items, whatever the setting.
	items := def.ReportsItemFailures() || def.Target == config.TargetCloudEvents
	res, err := f.tgt.Invoke(ctx, b)
	out := invokeResult{status: res.StatusCode, funcErr: res.FunctionError, message: res.Message, retryAfter: res.RetryAfter}
	switch {
	case err != nil:
		out.funcErr, out.message = "InvocationError", err.Error()
	case res.FunctionError != "":
	case items && res.BadItemFailures:
		out.funcErr = "BatchItemFailuresInvalid"
	case items && len(res.BatchItemFailures) > 0:
		idx := make(map[string]int, len(recs))
		for i, r := range recs {
			idx[r.seq] = i
		}
		lowest := len(recs)
		for _, id := range res.BatchItemFailures {
			if i, ok := idx[id]; ok && i < lowest {
				lowest = i
			}
		}
		out.failedAt(lowest, len(recs), "the function reported record %s failed", recs)
	default:
		out.ok = true
	}
	if out.ok && l.win != nil && len(res.State) > 0 {
		l.state = res.State
	}
	return out
}

// failedAt sets a partial failure at record i of n (n: none identified).
func (out *invokeResult) failedAt(i, n int, format string, recs []*record) {
	switch {
	case i >= n:
		out.funcErr = "BatchItemFailuresInvalid"
	case i == 0:
		out.funcErr, out.message = "BatchItemFailures", fmt.Sprintf(format, recs[0].seq)
	default:
		out.resumeAt = i
		out.funcErr, out.message = "BatchItemFailures", fmt.Sprintf(format, recs[i].seq)
	}
}

// arnOf is the stream ARN of records ("" for none).
func arnOf(recs []*record) string {
	if len(recs) == 0 {
		return ""
	}
	var v struct {
		ARN string `json:"eventSourceARN"`
	}
	_ = json.Unmarshal(recs[0].lambda, &v)
	return v.ARN
}
