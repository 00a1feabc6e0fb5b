package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/analytics"
	"github.com/sluicedb/sluice/sinks/audit"
	replica "github.com/sluicedb/sluice/sinks/dynamodb"
	"github.com/sluicedb/sluice/sinks/search"
)

// Kinds of runner.
const (
	kindTrigger = "trigger"
	kindSink    = "sink"
)

// spec is what a runner runs: a trigger, or a sink with the delivery
// settings derived from it.
type spec struct {
	kind string
	name string
	trig config.Trigger
	sink *config.Sink
}

func (sp spec) key() string { return sp.kind + ":" + sp.name }

// defKey and posKey are the bucket keys of its definition and resume
// position.
func (sp spec) defKey() string {
	if sp.kind == kindSink {
		return "sink." + sp.name
	}
	return "def." + sp.name
}

func (sp spec) posKey() string {
	if sp.kind == kindSink {
		return "spos." + sp.name
	}
	return "pos." + sp.name
}

func triggerSpec(def config.Trigger) spec {
	return spec{kind: kindTrigger, name: def.Name, trig: def}
}

// DefaultSinkBatchSize is how many records a sink's Write gets at most.
const DefaultSinkBatchSize = 500

// sinkSpec derives a sink's delivery settings: in order per stream shard,
// retried until written (a sink never gives records up).
func sinkSpec(def config.Sink) spec {
	pos := def.StartingPosition
	if pos == "" {
		pos = config.TrimHorizon
	}
	size := config.Int(def.BatchSize, DefaultSinkBatchSize)
	sp := spec{kind: kindSink, name: def.Name, sink: &def, trig: config.Trigger{
		Name: def.Name, Table: def.Table, StartingPosition: pos,
		StartingPositionTimestamp: def.StartingPositionTimestamp,
		BatchSize:                 &size, Filters: def.Filters,
	}}
	if def.Type == config.SinkAnalytics {
		// A write is a file: gather up to a second of changes into one.
		window := 1
		sp.trig.MaximumBatchingWindowInSeconds = &window
	}
	return sp
}

// outlet is where a runner's batches go.
type outlet interface {
	// open prepares it before a run; close after.
	open(ctx context.Context) error
	close(ctx context.Context)
	// send delivers recs once.
	send(ctx context.Context, l *lane, recs []*record, final bool) invokeResult
	// snapshots reports whether a new consumer at TRIM_HORIZON first
	// copies the table's items (sinks that keep item state).
	snapshots() bool
}

func (f *fnOutlet) snapshots() bool { return false }

// sinkOutlet feeds a sinks.Sink.
type sinkOutlet struct {
	def  *config.Sink
	sink sinks.Sink
}

// newSink returns the sink a definition names.
func (rt *Runtime) newSink(def *config.Sink) (sinks.Sink, error) {
	if rt.opts.NewSink != nil {
		return rt.opts.NewSink(def)
	}
	switch def.Type {
	case config.SinkAudit:
		return audit.New(audit.Options{Dir: def.Path, Table: def.Table})
	case config.SinkSearch:
		return search.New(search.Options{Dir: filepath.Join(rt.opts.DataDir, "search", def.Name), Table: def.Table, Fields: def.Fields})
	case config.SinkAnalytics:
		return analytics.New(analytics.Options{Dir: def.Path, Table: def.Table, Logger: rt.log.With("sink", def.Name)})
	case config.SinkReplication:
		table := def.TargetTable
		if table == "" {
			table = def.Table
		}
		return replica.New(replica.Options{
			Endpoint: def.TargetEndpoint, Table: table, Region: def.TargetRegion,
			AccessKeyID: rt.opts.TargetAccessKeyID, SecretAccessKey: rt.opts.TargetSecretAccessKey,
		})
	}
	return nil, attr.Invalid("type: %s sinks are not available in this build", def.Type)
}

func (o *sinkOutlet) open(ctx context.Context) error { return o.sink.Connect(ctx) }

func (o *sinkOutlet) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = o.sink.Close(ctx)
}

func (o *sinkOutlet) snapshots() bool {
	return o.def.Type == config.SinkSearch || o.def.Type == config.SinkReplication
}

func (o *sinkOutlet) send(ctx context.Context, _ *lane, recs []*record, _ bool) invokeResult {
	batch := make([]sinks.Record, len(recs))
	for i, r := range recs {
		batch[i] = *r.sink
	}
	err := o.sink.Write(ctx, batch)
	var out invokeResult
	var be *sinks.BatchError
	var bo *sinks.BackOffError
	switch {
	case err == nil:
		out.ok = true
	case errors.As(err, &be):
		out.failedAt(be.Lowest(), len(recs), "the sink could not write record %s", recs)
		out.message += ": " + err.Error()
	case errors.As(err, &bo):
		out.funcErr, out.message, out.retryAfter = "BackOff", err.Error(), bo.After
	default:
		out.funcErr, out.message = "WriteFailed", err.Error()
	}
	return out
}

// snapshot copies the table's items to the sink, as records with sequence
// number 0 and no time (so that any change wins over them), and returns the
// stream sequence the stream stood at before the copy began: following the
// stream from the next one replays every change the copy may have missed.
func (r *runner) snapshot(ctx context.Context, stream jetstream.Stream, tableID uint32) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	last := info.State.LastSeq
	def, ok := r.t.e.TableDef(r.def.Table)
	if !ok || def.ID != tableID {
		return 0, errNoTable
	}
	if rs, ok := r.out.(*sinkOutlet).sink.(interface{ Reset(context.Context) error }); ok {
		if err := rs.Reset(ctx); err != nil {
			return 0, err
		}
	}
	var start attr.Item
	n := 0
	for {
		page, err := r.t.e.Scan(engine.ScanRequest{Table: def.Name, ExclusiveStart: start, Limit: 500})
		if err != nil {
			return 0, err
		}
		batch := make([]sinks.Record, 0, len(page.Items))
		for _, js := range page.Items {
			var item attr.Item
			if err := item.UnmarshalJSON(js); err != nil {
				return 0, err
			}
			key := attr.Item{}
			for _, k := range def.KeySchema {
				key[k.Name] = item[k.Name]
			}
			keys, err := json.Marshal(key)
			if err != nil {
				return 0, err
			}
			rec := sinks.Record{Table: def.Name}
			rec.TableID, rec.Name, rec.Keys, rec.New = def.ID, "INSERT", keys, js
			batch = append(batch, rec)
		}
		for len(batch) > 0 {
			err := r.out.(*sinkOutlet).sink.Write(ctx, batch)
			if err == nil {
				break
			}
			var be *sinks.BatchError
			if errors.As(err, &be) && be.Lowest() > 0 {
				batch = batch[be.Lowest():]
			}
			r.t.log.Warn("sink snapshot write failed; retrying", "sink", r.sp.name, "err", err)
			if !sleep(ctx, time.Second) {
				return 0, ctx.Err()
			}
		}
		n += len(page.Items)
		if page.LastKey == nil {
			break
		}
		start = page.LastKey
	}
	r.t.log.Info("sink copied the table", "sink", r.sp.name, "table", def.Name, "items", n, "then_from_stream_seq", last+1)
	return last, nil
}

// storedSink is a sink definition as the bucket holds it.
type storedSink struct {
	config.Sink
	UUID         string    `json:"UUID"`
	LastModified time.Time `json:"LastModified"`
}

// SinkInfo is a sink's definition and what its runner is doing.
type SinkInfo struct {
	storedSink
	// State is Enabled, Paused, or Waiting (its table not there yet).
	State string       `json:"State"`
	Stats TriggerStats `json:"Stats"`
}

// checkSink validates a definition and that its sink can be made.
func (rt *Runtime) checkSink(def *config.Sink) error {
	if err := def.Validate(); err != nil {
		return attr.Invalid("%s", err.Error())
	}
	if _, err := compileFilters(def.Filters); err != nil {
		return err
	}
	if _, err := rt.newSink(def); err != nil {
		return err
	}
	return nil
}

// CreateSink stores a new sink and starts it.
func (rt *Runtime) CreateSink(ctx context.Context, def config.Sink) (*SinkInfo, error) {
	if err := rt.checkSink(&def); err != nil {
		return nil, err
	}
	if _, ok := rt.e.TableDef(def.Table); !ok {
		return nil, &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Requested resource not found: Table: " + def.Table + " not found"}
	}
	b, err := json.Marshal(&storedSink{Sink: def, UUID: newUUID(), LastModified: rt.opts.Now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return nil, err
	}
	sp := sinkSpec(def)
	if _, err := rt.kv.Create(ctx, sp.defKey(), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, errSinkExists
		}
		return nil, err
	}
	rt.apply(sp)
	return rt.GetSink(ctx, def.Name)
}

var (
	errSinkNotFound = &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Sink not found"}
	errSinkExists   = &attr.Error{Kind: engine.ErrResourceInUse, Msg: "Sink already exists"}
)

func (rt *Runtime) getSink(ctx context.Context, name string) (*storedSink, error) {
	ent, err := rt.kv.Get(ctx, spec{kind: kindSink, name: name}.defKey())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, errSinkNotFound
	}
	if err != nil {
		return nil, err
	}
	var st storedSink
	if err := json.Unmarshal(ent.Value(), &st); err != nil {
		return nil, fmt.Errorf("sink %s: corrupt definition: %w", name, err)
	}
	return &st, nil
}

func (rt *Runtime) putSink(ctx context.Context, st *storedSink) error {
	st.LastModified = rt.opts.Now().UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = rt.kv.Put(ctx, sinkSpec(st.Sink).defKey(), b)
	return err
}

// GetSink describes a sink.
func (rt *Runtime) GetSink(ctx context.Context, name string) (*SinkInfo, error) {
	st, err := rt.getSink(ctx, name)
	if err != nil {
		return nil, err
	}
	info := &SinkInfo{storedSink: *st}
	info.State, info.Stats = rt.status(ctx, sinkSpec(st.Sink).key(), st.IsEnabled(), "Paused")
	return info, nil
}

// status is a runner's state (Enabled, Waiting, or off when it is not
// enabled) and its counters, with its lag when it runs.
func (rt *Runtime) status(ctx context.Context, key string, enabled bool, off string) (string, TriggerStats) {
	rt.mu.Lock()
	r := rt.mu.runners[key]
	stats := rt.mu.stats[key]
	rt.mu.Unlock()
	var st TriggerStats
	if stats != nil {
		st = stats.snapshot()
	}
	state := off
	if enabled {
		state = "Enabled"
		if st.waitingOnTable {
			state = "Waiting"
		}
	}
	if r != nil {
		if lag, ok := r.lag(ctx); ok {
			st.Lag = &lag
		}
	}
	return state, st
}

// ListSinks describes every sink, or those of one table, by name.
func (rt *Runtime) ListSinks(ctx context.Context, table string) ([]SinkInfo, error) {
	names, err := rt.names(ctx, "sink.")
	if err != nil {
		return nil, err
	}
	out := []SinkInfo{}
	for _, n := range names {
		info, err := rt.GetSink(ctx, n)
		if errors.Is(err, errSinkNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if table == "" || info.Table == table {
			out = append(out, *info)
		}
	}
	return out, nil
}

// SetSinkEnabled pauses or resumes a sink; its checkpoint stays.
func (rt *Runtime) SetSinkEnabled(ctx context.Context, name string, on bool) (*SinkInfo, error) {
	st, err := rt.getSink(ctx, name)
	if err != nil {
		return nil, err
	}
	st.Enabled = &on
	if err := rt.putSink(ctx, st); err != nil {
		return nil, err
	}
	rt.apply(sinkSpec(st.Sink))
	return rt.GetSink(ctx, name)
}

// DeleteSink stops a sink and removes it with its durable consumer and
// resume position; what it wrote stays where it is.
func (rt *Runtime) DeleteSink(ctx context.Context, name string) (*SinkInfo, error) {
	info, err := rt.GetSink(ctx, name)
	if err != nil {
		return nil, err
	}
	sp := sinkSpec(info.Sink)
	if err := rt.remove(ctx, sp); err != nil {
		return nil, err
	}
	info.State = "Deleting"
	return info, nil
}

// remove stops a runner and deletes its consumer, position and definition.
func (rt *Runtime) remove(ctx context.Context, sp spec) error {
	rt.halt(sp.key())
	if def, ok := rt.e.TableDef(sp.trig.Table); ok {
		if err := rt.js.DeleteConsumer(ctx, cdc.StreamName(def.ID), durableName(sp.kind, sp.name)); err != nil &&
			!errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
	}
	if err := rt.kv.Purge(ctx, sp.posKey()); err != nil {
		return err
	}
	if err := rt.kv.Purge(ctx, sp.defKey()); err != nil {
		return err
	}
	rt.mu.Lock()
	delete(rt.mu.stats, sp.key())
	rt.mu.Unlock()
	return nil
}

// names lists the names of the bucket's keys with a prefix, sorted.
func (rt *Runtime) names(ctx context.Context, prefix string) ([]string, error) {
	keys, err := rt.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range keys.Keys() {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			names = append(names, k[len(prefix):])
		}
	}
	slices.Sort(names)
	return names, nil
}

// sameSpec reports whether a running runner already runs sp.
func sameSpec(a, b spec) bool { return reflect.DeepEqual(a, b) }

// SearchIn is a search request: the table's search sink, a query, paging.
type SearchIn struct {
	TableName string `json:"TableName"`
	// SinkName picks one of the table's search sinks; "" the first by name.
	SinkName string `json:"SinkName,omitempty"`
	Query    string `json:"Query"`
	Limit    int    `json:"Limit,omitempty"`
	Next     string `json:"Next,omitempty"`
	// ConsistentRead waits (up to 2 s) until the index has every change
	// committed to the table before the search.
	ConsistentRead bool `json:"ConsistentRead,omitempty"`
}

// SearchOut is a page of results: the items, best first, as DynamoDB JSON.
type SearchOut struct {
	Items []json.RawMessage `json:"Items"`
	Total uint64            `json:"Total"`
	Next  string            `json:"Next,omitempty"`
}

// Search searches a table's search sink.
func (rt *Runtime) Search(ctx context.Context, in SearchIn) (*SearchOut, error) {
	def, ok := rt.e.TableDef(in.TableName)
	if !ok {
		return nil, &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Requested resource not found: Table: " + in.TableName + " not found"}
	}
	var idx *search.Sink
	var runner *runner
	rt.mu.Lock()
	names := make([]string, 0, len(rt.mu.runners))
	for k := range rt.mu.runners {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		r := rt.mu.runners[k]
		if r.sp.sink == nil || r.sp.sink.Type != config.SinkSearch || r.sp.sink.Table != in.TableName {
			continue
		}
		if in.SinkName != "" && r.sp.name != in.SinkName {
			continue
		}
		idx, runner = r.out.(*sinkOutlet).sink.(*search.Sink), r
		break
	}
	rt.mu.Unlock()
	if idx == nil {
		return nil, &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Requested resource not found: no running search sink on table " + in.TableName}
	}
	if in.Limit < 0 || in.Limit > 100 {
		return nil, attr.Invalid("Limit: %d is not within 1..100", in.Limit)
	}
	if in.ConsistentRead {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := rt.caughtUp(wctx, runner, def)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: the search index has not caught up: %v", engine.ErrIndexBehind, err)
		}
	}
	res, err := idx.Search(ctx, search.Query{Query: in.Query, Limit: in.Limit, Next: in.Next})
	switch {
	case errors.Is(err, search.ErrInvalidQuery), errors.Is(err, search.ErrInvalidToken):
		return nil, attr.Invalid("%s", err.Error())
	case errors.Is(err, search.ErrClosed):
		return nil, fmt.Errorf("%w: the search index is not open yet", engine.ErrIndexBehind)
	case err != nil:
		return nil, err
	}
	return &SearchOut{Items: res.Items, Total: res.Total, Next: res.Next}, nil
}

// caughtUp waits until r has done every change committed to the table
// before the call: it finds the stream sequence of each shard's last
// committed change (waiting for the relay to publish it), and waits until
// r's done prefix reaches the highest of them.
func (rt *Runtime) caughtUp(ctx context.Context, r *runner, def *catalog.Table) error {
	stream, err := rt.js.Stream(ctx, cdc.StreamName(def.ID))
	if err != nil {
		return err
	}
	var through uint64
	for _, sp := range def.Shards() {
		want := rt.e.LastSeq(def.ID, sp.ID)
		if want == 0 {
			continue
		}
		for {
			m, err := stream.GetLastMsgForSubject(ctx, cdc.Subject(def.ID, sp.ID))
			if err == nil {
				if seq, perr := shards.ParseSeq(m.Header.Get(event.HdrSequence)); perr == nil && seq >= want {
					through = max(through, m.Sequence)
					break
				}
			} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
				return err
			}
			if !sleep(ctx, 2*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
	for {
		if done, ok := r.doneThrough(); ok && done >= through {
			return nil
		}
		if !sleep(ctx, 2*time.Millisecond) {
			return ctx.Err()
		}
	}
}
