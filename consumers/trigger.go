package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/filter"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/consumers/target"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/sinks"
)

// Runtime runs the function triggers and the sinks: for each enabled one, a runner
// that reads its table's stream through a durable JetStream consumer and
// invokes the function with batches, as a Lambda event source mapping for
// DynamoDB Streams does (see runner).
//
// Definitions and the runners' resume positions live in a JetStream
// key-value bucket (Bucket), so that triggers created at run time
// persist; the checkpoints themselves are the durable consumers' ack
// floors.
type Runtime struct {
	e    *engine.Engine
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	log  *slog.Logger
	opts RuntimeOptions
	// applyMu serializes starting and stopping runners (apply, halt, Run).
	applyMu sync.Mutex
	mu      struct {
		sync.Mutex
		ctx     context.Context // Run's; nil before it
		runners map[string]*runner
		stats   map[string]*triggerStats // kept across restarts of a runner
		dlqs    map[string]bool          // dead-letter streams known to exist
	}
}

// Bucket is the key-value bucket that holds trigger definitions
// ("def.<name>") and resume positions ("pos.<name>").
const Bucket = "sluice_consumers"

// RuntimeOptions tune the runtime; the zero value is Lambda's behaviour.
type RuntimeOptions struct {
	// MinBackoff and MaxBackoff bound the wait before a failed batch is
	// retried, which doubles with each attempt. 0 means 100ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Client sends the invocations; nil means each target's default
	// (target.DefaultLambdaTimeout, target.DefaultWebhookTimeout).
	Client *http.Client
	// Now is the clock of record ages and tumbling windows; nil: time.Now.
	Now func() time.Time
	// NewSink, when set, makes the sinks instead of the built-in ones.
	NewSink func(def *config.Sink) (sinks.Sink, error)
	// TargetAccessKeyID and TargetSecretAccessKey sign a replication sink's
	// requests ("": the sink's default, any key a Sluice or DynamoDB Local
	// accepts).
	TargetAccessKeyID, TargetSecretAccessKey string
	// DataDir is where sinks that keep files of their own (search indexes)
	// put them, each in DataDir/<type>/<sink name>.
	DataDir string
}

// storedTrigger is a definition as the bucket holds it.
type storedTrigger struct {
	config.Trigger
	UUID         string    `json:"UUID"`
	LastModified time.Time `json:"LastModified"`
}

// position is where a trigger resumes on a table's stream when its
// durable consumer has to be created again.
type position struct {
	TableID   uint32 `json:"TableID"`
	StreamSeq uint64 `json:"StreamSeq"` // the last stream sequence done
}

// Declared are the triggers and sinks of the configuration file.
type Declared struct {
	Triggers []config.Trigger
	Sinks    []config.Sink
}

// OpenRuntime opens the trigger store on js (creating its bucket), and
// creates or updates the triggers of declared (the configuration's) to
// match. Run starts them.
func OpenRuntime(ctx context.Context, e *engine.Engine, js jetstream.JetStream, declared Declared, log *slog.Logger, opts RuntimeOptions) (*Runtime, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Sluice function triggers: definitions and resume positions",
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the trigger store: %w", err)
	}
	t := &Runtime{e: e, js: js, kv: kv, log: log, opts: opts}
	t.mu.runners = map[string]*runner{}
	t.mu.stats = map[string]*triggerStats{}
	t.mu.dlqs = map[string]bool{}
	for i := range declared.Sinks {
		d := declared.Sinks[i]
		if err := t.checkSink(&d); err != nil {
			return nil, fmt.Errorf("sink %s: %w", d.Name, err)
		}
		old, err := t.getSink(ctx, d.Name)
		switch {
		case errors.Is(err, errSinkNotFound):
			err = t.putSink(ctx, &storedSink{Sink: d, UUID: newUUID()})
		case err == nil && !reflect.DeepEqual(old.Sink, d):
			err = t.putSink(ctx, &storedSink{Sink: d, UUID: old.UUID})
		}
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", d.Name, err)
		}
	}
	for i := range declared.Triggers {
		d := declared.Triggers[i]
		if _, err := t.compile(&d); err != nil {
			return nil, fmt.Errorf("trigger %s: %w", d.Name, err)
		}
		old, err := t.get(ctx, d.Name)
		switch {
		case errors.Is(err, errTriggerNotFound):
			_, err = t.put(ctx, &storedTrigger{Trigger: d, UUID: newUUID()})
		case err == nil && !reflect.DeepEqual(old.Trigger, d):
			_, err = t.put(ctx, &storedTrigger{Trigger: d, UUID: old.UUID})
		}
		if err != nil {
			return nil, fmt.Errorf("trigger %s: %w", d.Name, err)
		}
	}
	return t, nil
}

// Run runs the enabled triggers until ctx ends, and the ones created or
// enabled meanwhile.
func (t *Runtime) Run(ctx context.Context) error {
	t.mu.Lock()
	t.mu.ctx = ctx
	t.mu.Unlock()
	all, err := t.List(ctx, "")
	if err != nil {
		return stopped(ctx, err)
	}
	for i := range all {
		t.apply(triggerSpec(all[i].Trigger))
	}
	sinks, err := t.ListSinks(ctx, "")
	if err != nil {
		return stopped(ctx, err)
	}
	for i := range sinks {
		t.apply(sinkSpec(sinks[i].Sink))
	}
	<-ctx.Done()
	t.applyMu.Lock()
	defer t.applyMu.Unlock()
	t.mu.Lock()
	runners := t.mu.runners
	t.mu.runners = map[string]*runner{}
	t.mu.Unlock()
	for _, r := range runners {
		r.stop()
	}
	return nil
}

// stopped is err, or nil when err is only ctx ending: a shutdown that
// arrives while Run starts is not a failure.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// apply starts, restarts or stops sp's runner to match it. Runners are
// stopped without t.mu held: they take it.
func (t *Runtime) apply(sp spec) {
	t.applyMu.Lock()
	defer t.applyMu.Unlock()
	t.mu.Lock()
	ctx, r := t.mu.ctx, t.mu.runners[sp.key()]
	t.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return // Run starts it
	}
	enabled := sp.trig.IsEnabled()
	if sp.sink != nil {
		enabled = sp.sink.IsEnabled()
	}
	if r != nil {
		if enabled && sameSpec(r.sp, sp) {
			return
		}
		r.stop()
		t.mu.Lock()
		delete(t.mu.runners, sp.key())
		t.mu.Unlock()
	}
	if !enabled {
		return
	}
	crit, err := compileFilters(sp.trig.Filters)
	if err != nil {
		t.log.Error("not started", sp.kind, sp.name, "err", err)
		return
	}
	var out outlet
	if sp.sink != nil {
		s, err := t.newSink(sp.sink)
		if err != nil {
			t.log.Error("not started", sp.kind, sp.name, "err", err)
			return
		}
		out = &sinkOutlet{def: sp.sink, sink: s}
	} else {
		out = &fnOutlet{tgt: t.newTarget(&sp.trig)}
	}
	t.mu.Lock()
	st := t.mu.stats[sp.key()]
	if st == nil {
		st = &triggerStats{}
		t.mu.stats[sp.key()] = st
	}
	r = newRunner(t, sp, crit, out, st)
	t.mu.runners[sp.key()] = r
	t.mu.Unlock()
	r.start(ctx)
}

// halt stops a runner, if it runs.
func (t *Runtime) halt(key string) {
	t.applyMu.Lock()
	defer t.applyMu.Unlock()
	t.mu.Lock()
	r := t.mu.runners[key]
	delete(t.mu.runners, key)
	t.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// compileFilters compiles filter patterns.
func compileFilters(patterns []string) (filter.Criteria, error) {
	crit, err := filter.CompileAll(patterns)
	if err != nil {
		return nil, attr.Invalid("filters: %s", err.Error())
	}
	return crit, nil
}

// compile checks a trigger's definition and compiles its filters.
func (t *Runtime) compile(def *config.Trigger) (filter.Criteria, error) {
	if err := def.Validate(); err != nil {
		return nil, attr.Invalid("%s", err.Error())
	}
	return compileFilters(def.Filters)
}

// newTarget returns the function a trigger invokes.
func (t *Runtime) newTarget(def *config.Trigger) target.Target {
	if def.Target == config.TargetCloudEvents {
		return &target.CloudEvents{URL: def.URL, Mode: def.Mode, Secret: def.Secret, Client: t.opts.Client}
	}
	return &target.Lambda{URL: def.URL, Client: t.opts.Client}
}

// Errors of the trigger operations, each with its DynamoDB-style exception
// (the wire layer's table): not found, and in use.
var (
	errTriggerNotFound = &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Trigger not found"}
	errTriggerExists   = &attr.Error{Kind: engine.ErrResourceInUse, Msg: "Trigger already exists"}
)

func defKey(name string) string { return "def." + name }

// get reads a stored definition.
func (t *Runtime) get(ctx context.Context, name string) (*storedTrigger, error) {
	ent, err := t.kv.Get(ctx, defKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, errTriggerNotFound
	}
	if err != nil {
		return nil, err
	}
	var st storedTrigger
	if err := json.Unmarshal(ent.Value(), &st); err != nil {
		return nil, fmt.Errorf("trigger %s: corrupt definition: %w", name, err)
	}
	return &st, nil
}

// put stores a definition, stamping its modification time.
func (t *Runtime) put(ctx context.Context, st *storedTrigger) (*storedTrigger, error) {
	st.LastModified = t.opts.Now().UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if _, err := t.kv.Put(ctx, defKey(st.Name), b); err != nil {
		return nil, err
	}
	return st, nil
}

// TriggerInfo is a trigger's definition and what its runner is doing.
type TriggerInfo struct {
	storedTrigger
	// State is Enabled, Disabled, or Waiting (enabled, its table or stream
	// not there yet).
	State string `json:"State"`
	// LastProcessingResult is Lambda's: "OK", "PROBLEM: Function call failed"
	// or "No records processed".
	LastProcessingResult string       `json:"LastProcessingResult"`
	Stats                TriggerStats `json:"Stats"`
}

// TriggerStats are a trigger's counters since the server started.
type TriggerStats struct {
	Invocations    uint64  `json:"Invocations"`
	Errors         uint64  `json:"Errors"`
	Delivered      uint64  `json:"RecordsDelivered"`
	Filtered       uint64  `json:"RecordsFiltered"`
	DeadLettered   uint64  `json:"RecordsDeadLettered"`
	IteratorAgeMs  int64   `json:"IteratorAgeMilliseconds"`
	Lag            *uint64 `json:"Lag,omitempty"` // records not yet done; nil when unknown
	LastStreamSeq  uint64  `json:"-"`
	lastInvokeOK   bool
	everInvoked    bool
	waitingOnTable bool
}

// Create stores a new trigger and starts it.
func (t *Runtime) Create(ctx context.Context, def config.Trigger) (*TriggerInfo, error) {
	if _, err := t.compile(&def); err != nil {
		return nil, err
	}
	if _, ok := t.e.TableDef(def.Table); !ok {
		return nil, &attr.Error{Kind: engine.ErrTableNotFound, Msg: "Requested resource not found: Table: " + def.Table + " not found"}
	}
	b, err := json.Marshal(&storedTrigger{Trigger: def, UUID: newUUID(), LastModified: t.opts.Now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return nil, err
	}
	if _, err := t.kv.Create(ctx, defKey(def.Name), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, errTriggerExists
		}
		return nil, err
	}
	t.apply(triggerSpec(def))
	return t.Get(ctx, def.Name)
}

// Update replaces a trigger's settings, keeping its checkpoint; its table
// and starting position cannot change (as Lambda's cannot).
func (t *Runtime) Update(ctx context.Context, def config.Trigger) (*TriggerInfo, error) {
	if _, err := t.compile(&def); err != nil {
		return nil, err
	}
	old, err := t.get(ctx, def.Name)
	if err != nil {
		return nil, err
	}
	if old.Table != def.Table {
		return nil, attr.Invalid("table: a trigger's table cannot change (it is %s)", old.Table)
	}
	if old.StartingPosition != def.StartingPosition || !reflect.DeepEqual(old.StartingPositionTimestamp, def.StartingPositionTimestamp) {
		return nil, attr.Invalid("starting-position: a trigger's starting position cannot change (it is %s)", old.StartingPosition)
	}
	if _, err := t.put(ctx, &storedTrigger{Trigger: def, UUID: old.UUID}); err != nil {
		return nil, err
	}
	t.apply(triggerSpec(def))
	return t.Get(ctx, def.Name)
}

// SetEnabled enables or disables a trigger. Disabling stops its runner and
// keeps its checkpoint; enabling resumes from it.
func (t *Runtime) SetEnabled(ctx context.Context, name string, on bool) (*TriggerInfo, error) {
	st, err := t.get(ctx, name)
	if err != nil {
		return nil, err
	}
	st.Enabled = &on
	if _, err := t.put(ctx, st); err != nil {
		return nil, err
	}
	t.apply(triggerSpec(st.Trigger))
	return t.Get(ctx, name)
}

// Delete stops a trigger and removes it with its durable consumer and
// resume position. Its dead-letter stream stays.
func (t *Runtime) Delete(ctx context.Context, name string) (*TriggerInfo, error) {
	info, err := t.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := t.remove(ctx, triggerSpec(info.Trigger)); err != nil {
		return nil, err
	}
	info.State = "Deleting"
	return info, nil
}

// Get describes a trigger.
func (t *Runtime) Get(ctx context.Context, name string) (*TriggerInfo, error) {
	st, err := t.get(ctx, name)
	if err != nil {
		return nil, err
	}
	info := &TriggerInfo{storedTrigger: *st, LastProcessingResult: "No records processed"}
	info.State, info.Stats = t.status(ctx, triggerSpec(st.Trigger).key(), st.IsEnabled(), "Disabled")
	switch {
	case !info.Stats.everInvoked:
	case info.Stats.lastInvokeOK:
		info.LastProcessingResult = "OK"
	default:
		info.LastProcessingResult = "PROBLEM: Function call failed"
	}
	return info, nil
}

// List describes every trigger, or those of one table, by name.
func (t *Runtime) List(ctx context.Context, table string) ([]TriggerInfo, error) {
	names, err := t.names(ctx, "def.")
	if err != nil {
		return nil, err
	}
	out := []TriggerInfo{}
	for _, n := range names {
		info, err := t.Get(ctx, n)
		if errors.Is(err, errTriggerNotFound) {
			continue // deleted meanwhile
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

// loadPosition reads a trigger's resume position.
func (t *Runtime) loadPosition(ctx context.Context, key string) (position, bool, error) {
	ent, err := t.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return position{}, false, nil
	}
	if err != nil {
		return position{}, false, err
	}
	var p position
	if err := json.Unmarshal(ent.Value(), &p); err != nil {
		return position{}, false, fmt.Errorf("%s: corrupt position: %w", key, err)
	}
	return p, true, nil
}

// savePosition records a trigger's resume position.
func (t *Runtime) savePosition(ctx context.Context, key string, p position) error {
	b, _ := json.Marshal(p) // plain fields
	_, err := t.kv.Put(ctx, key, b)
	return err
}
