package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/filter"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/consumers/target"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// Triggers runs the function triggers: for each enabled trigger, a runner
// that reads its table's stream through a durable JetStream consumer and
// invokes the function with batches, as a Lambda event source mapping for
// DynamoDB Streams does (see runner).
//
// Definitions and the runners' resume positions live in a JetStream
// key-value bucket (TriggersBucket), so that triggers created at run time
// persist; the checkpoints themselves are the durable consumers' ack
// floors.
type Triggers struct {
	e    *engine.Engine
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	log  *slog.Logger
	opts TriggerOptions
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

// TriggersBucket is the key-value bucket that holds trigger definitions
// ("def.<name>") and resume positions ("pos.<name>").
const TriggersBucket = "sluice_triggers"

// TriggerOptions tune the runtime; the zero value is Lambda's behaviour.
type TriggerOptions struct {
	// MinBackoff and MaxBackoff bound the wait before a failed batch is
	// retried, which doubles with each attempt. 0 means 100ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Client sends the invocations; nil means each target's default
	// (target.DefaultLambdaTimeout, target.DefaultWebhookTimeout).
	Client *http.Client
	// Now is the clock of record ages and tumbling windows; nil: time.Now.
	Now func() time.Time
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

// OpenTriggers opens the trigger store on js (creating its bucket), and
// creates or updates the triggers of declared (the configuration's) to
// match. Run starts them.
func OpenTriggers(ctx context.Context, e *engine.Engine, js jetstream.JetStream, declared []config.Trigger, log *slog.Logger, opts TriggerOptions) (*Triggers, error) {
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
		Bucket:      TriggersBucket,
		Description: "Sluice function triggers: definitions and resume positions",
		History:     1,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the trigger store: %w", err)
	}
	t := &Triggers{e: e, js: js, kv: kv, log: log, opts: opts}
	t.mu.runners = map[string]*runner{}
	t.mu.stats = map[string]*triggerStats{}
	t.mu.dlqs = map[string]bool{}
	for i := range declared {
		d := declared[i]
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
func (t *Triggers) Run(ctx context.Context) error {
	t.mu.Lock()
	t.mu.ctx = ctx
	t.mu.Unlock()
	all, err := t.List(ctx, "")
	if err != nil {
		return err
	}
	for i := range all {
		t.apply(&all[i].Trigger)
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

// apply starts, restarts or stops def's runner to match it. Runners are
// stopped without t.mu held: they take it.
func (t *Triggers) apply(def *config.Trigger) {
	t.applyMu.Lock()
	defer t.applyMu.Unlock()
	t.mu.Lock()
	ctx, r := t.mu.ctx, t.mu.runners[def.Name]
	t.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return // Run starts it
	}
	if r != nil {
		if def.IsEnabled() && reflect.DeepEqual(r.def, *def) {
			return
		}
		r.stop()
		t.mu.Lock()
		delete(t.mu.runners, def.Name)
		t.mu.Unlock()
	}
	if !def.IsEnabled() {
		return
	}
	crit, err := t.compile(def)
	if err != nil {
		t.log.Error("trigger not started", "trigger", def.Name, "err", err)
		return
	}
	t.mu.Lock()
	st := t.mu.stats[def.Name]
	if st == nil {
		st = &triggerStats{}
		t.mu.stats[def.Name] = st
	}
	r = newRunner(t, *def, crit, st)
	t.mu.runners[def.Name] = r
	t.mu.Unlock()
	r.start(ctx)
}

// halt stops a trigger's runner, if it runs.
func (t *Triggers) halt(name string) {
	t.applyMu.Lock()
	defer t.applyMu.Unlock()
	t.mu.Lock()
	r := t.mu.runners[name]
	delete(t.mu.runners, name)
	t.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// compile checks a definition and compiles its filters and target.
func (t *Triggers) compile(def *config.Trigger) (filter.Criteria, error) {
	if err := def.Validate(); err != nil {
		return nil, attr.Invalid("%s", err.Error())
	}
	crit, err := filter.CompileAll(def.Filters)
	if err != nil {
		return nil, attr.Invalid("filters: %s", err.Error())
	}
	return crit, nil
}

// newTarget returns the function a trigger invokes.
func (t *Triggers) newTarget(def *config.Trigger) target.Target {
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
func posKey(name string) string { return "pos." + name }

// get reads a stored definition.
func (t *Triggers) get(ctx context.Context, name string) (*storedTrigger, error) {
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
func (t *Triggers) put(ctx context.Context, st *storedTrigger) (*storedTrigger, error) {
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
func (t *Triggers) Create(ctx context.Context, def config.Trigger) (*TriggerInfo, error) {
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
	t.apply(&def)
	return t.Get(ctx, def.Name)
}

// Update replaces a trigger's settings, keeping its checkpoint; its table
// and starting position cannot change (as Lambda's cannot).
func (t *Triggers) Update(ctx context.Context, def config.Trigger) (*TriggerInfo, error) {
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
	t.apply(&def)
	return t.Get(ctx, def.Name)
}

// SetEnabled enables or disables a trigger. Disabling stops its runner and
// keeps its checkpoint; enabling resumes from it.
func (t *Triggers) SetEnabled(ctx context.Context, name string, on bool) (*TriggerInfo, error) {
	st, err := t.get(ctx, name)
	if err != nil {
		return nil, err
	}
	st.Enabled = &on
	if _, err := t.put(ctx, st); err != nil {
		return nil, err
	}
	t.apply(&st.Trigger)
	return t.Get(ctx, name)
}

// Delete stops a trigger and removes it with its durable consumer and
// resume position. Its dead-letter stream stays.
func (t *Triggers) Delete(ctx context.Context, name string) (*TriggerInfo, error) {
	info, err := t.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	t.halt(name)
	if def, ok := t.e.TableDef(info.Table); ok {
		if err := t.js.DeleteConsumer(ctx, cdc.StreamName(def.ID), durableName(name)); err != nil &&
			!errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, err
		}
	}
	if err := t.kv.Purge(ctx, posKey(name)); err != nil {
		return nil, err
	}
	if err := t.kv.Purge(ctx, defKey(name)); err != nil {
		return nil, err
	}
	t.mu.Lock()
	delete(t.mu.stats, name)
	t.mu.Unlock()
	info.State = "Deleting"
	return info, nil
}

// Get describes a trigger.
func (t *Triggers) Get(ctx context.Context, name string) (*TriggerInfo, error) {
	st, err := t.get(ctx, name)
	if err != nil {
		return nil, err
	}
	info := &TriggerInfo{storedTrigger: *st, State: "Disabled", LastProcessingResult: "No records processed"}
	t.mu.Lock()
	r := t.mu.runners[name]
	stats := t.mu.stats[name]
	t.mu.Unlock()
	if stats != nil {
		info.Stats = stats.snapshot()
		switch {
		case !info.Stats.everInvoked:
		case info.Stats.lastInvokeOK:
			info.LastProcessingResult = "OK"
		default:
			info.LastProcessingResult = "PROBLEM: Function call failed"
		}
	}
	if st.IsEnabled() {
		info.State = "Enabled"
		if info.Stats.waitingOnTable {
			info.State = "Waiting"
		}
	}
	if r != nil {
		if lag, ok := r.lag(ctx); ok {
			info.Stats.Lag = &lag
		}
	}
	return info, nil
}

// List describes every trigger, or those of one table, by name.
func (t *Triggers) List(ctx context.Context, table string) ([]TriggerInfo, error) {
	keys, err := t.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range keys.Keys() {
		if len(k) > 4 && k[:4] == "def." {
			names = append(names, k[4:])
		}
	}
	slices.Sort(names)
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
func (t *Triggers) loadPosition(ctx context.Context, name string) (position, bool, error) {
	ent, err := t.kv.Get(ctx, posKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return position{}, false, nil
	}
	if err != nil {
		return position{}, false, err
	}
	var p position
	if err := json.Unmarshal(ent.Value(), &p); err != nil {
		return position{}, false, fmt.Errorf("trigger %s: corrupt position: %w", name, err)
	}
	return p, true, nil
}

// savePosition records a trigger's resume position.
func (t *Triggers) savePosition(ctx context.Context, name string, p position) error {
	b, _ := json.Marshal(p) // plain fields
	_, err := t.kv.Put(ctx, posKey(name), b)
	return err
}
