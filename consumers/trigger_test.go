package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// fixture runs an engine, the relay and a trigger runtime in process.
type fixture struct {
	t     testing.TB
	e     *engine.Engine
	js    jetstream.JetStream
	trg   *Runtime
	stop  func()
	wg    sync.WaitGroup
	ctx   context.Context
	close context.CancelFunc
}

func newFixture(t *testing.T, tables ...string) *fixture {
	t.Helper()
	return newFixtureTB(t, tables...)
}

func newFixtureTB(t testing.TB, tables ...string) *fixture {
	t.Helper()
	return newFixtureOpts(t, engine.Options{Relaxed: true, Shards: 2}, tables...)
}

// newFixtureOpts is newFixture with the engine's options (Dir is set).
func newFixtureOpts(t testing.TB, opts engine.Options, tables ...string) *fixture {
	t.Helper()
	opts.Dir = t.TempDir()
	e, err := engine.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	b := cdctest.StartBus(t)
	for _, name := range tables {
		if _, err := e.CreateTable(&catalog.Table{
			Name:                 name,
			KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
			AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
			BillingMode:          catalog.PayPerRequest,
		}); err != nil {
			t.Fatal(err)
		}
	}
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, js: b.JetStream()}
	f.ctx, f.close = context.WithCancel(context.Background())
	f.wg.Go(func() { _ = relay.Run(f.ctx) })
	t.Cleanup(func() {
		if f.stop != nil {
			f.stop()
		}
		f.close()
		f.wg.Wait()
	})
	f.start()
	return f
}

// start (re)starts the trigger runtime.
func (f *fixture) start() {
	f.t.Helper()
	trg, err := OpenRuntime(f.ctx, f.e, f.js, Declared{}, nil, RuntimeOptions{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	f.trg = trg
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = trg.Run(ctx) })
	f.stop = func() { cancel(); wg.Wait() }
}

func (f *fixture) restart() {
	f.stop()
	f.stop = nil
	f.start()
}

func (f *fixture) put(table, pk string, v int) {
	f.t.Helper()
	if _, err := f.e.PutItem(engine.PutRequest{Table: table, Item: attr.Item{"pk": attr.S(pk), "v": attr.N(num(v))}}); err != nil {
		f.t.Fatal(err)
	}
}

func num(v int) attr.Number {
	n, err := attr.ParseNumber(strconv.Itoa(v))
	if err != nil {
		panic(err)
	}
	return n
}

func (f *fixture) create(def config.Trigger) {
	f.t.Helper()
	if _, err := f.trg.Create(f.ctx, def); err != nil {
		f.t.Fatal(err)
	}
}

// function is a Lambda function on an HTTP server: it records every
// invocation and answers as answer says.
type function struct {
	srv *httptest.Server
	mu  sync.Mutex
	// invocations, in arrival order
	calls  []invocation
	answer func(inv invocation, n int) (status int, body string)
}

type invocation struct {
	Records []struct {
		EventName string `json:"eventName"`
		ARN       string `json:"eventSourceARN"`
		DDB       struct {
			Keys     map[string]map[string]string `json:"Keys"`
			NewImage map[string]map[string]any    `json:"NewImage"`
			Seq      string                       `json:"SequenceNumber"`
		} `json:"dynamodb"`
		UserIdentity *struct {
			Type        string `json:"type"`
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
	} `json:"Records"`
	Window *struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"window"`
	State   map[string]int `json:"state"`
	Final   bool           `json:"isFinalInvokeForWindow"`
	ShardID string         `json:"shardId"`
}

func (inv invocation) keys() []string {
	var out []string
	for _, r := range inv.Records {
		out = append(out, r.DDB.Keys["pk"]["S"])
	}
	return out
}

func newFunction(t *testing.T, answer func(inv invocation, n int) (int, string)) *function {
	fn := &function{answer: answer}
	fn.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var inv invocation
		if err := json.Unmarshal(body, &inv); err != nil {
			t.Errorf("function got a bad event: %v: %s", err, body)
		}
		fn.mu.Lock()
		fn.calls = append(fn.calls, inv)
		n := len(fn.calls)
		fn.mu.Unlock()
		status, out := 200, "null"
		if fn.answer != nil {
			status, out = fn.answer(inv, n)
		}
		w.WriteHeader(status)
		io.WriteString(w, out)
	}))
	t.Cleanup(fn.srv.Close)
	return fn
}

func (fn *function) invocations() []invocation {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	return slices.Clone(fn.calls)
}

// delivered returns, per key, the values of v delivered in successful
// invocations (those answer did not fail), in delivery order.
func (fn *function) records() []string {
	var out []string
	for _, inv := range fn.invocations() {
		out = append(out, inv.keys()...)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func intp(n int) *int { return &n }

func trigger(name, table, url string) config.Trigger {
	return config.Trigger{Name: name, Table: table, Target: config.TargetLambda, URL: url, StartingPosition: config.TrimHorizon}
}

// TestTriggerDeliversInOrder: every record arrives once, in a Lambda event,
// each item's changes in order, and batches respect BatchSize.
func TestTriggerDeliversInOrder(t *testing.T) {
	f := newFixture(t, "orders")
	fn := newFunction(t, nil)
	for i := range 60 {
		f.put("orders", fmt.Sprint("k", i%10), i)
	}
	def := trigger("t1", "orders", fn.srv.URL)
	def.BatchSize = intp(7)
	def.ParallelizationFactor = intp(3)
	f.create(def)
	waitFor(t, "60 records", func() bool { return len(fn.records()) >= 60 })
	time.Sleep(100 * time.Millisecond)
	byKey := map[string][]int{}
	for _, inv := range fn.invocations() {
		if len(inv.Records) > 7 {
			t.Errorf("batch of %d records, BatchSize 7", len(inv.Records))
		}
		for _, r := range inv.Records {
			if r.ARN == "" || r.EventName == "" {
				t.Errorf("record without eventSourceARN or eventName: %+v", r)
			}
			v, _ := strconv.Atoi(r.DDB.NewImage["v"]["N"].(string))
			byKey[r.DDB.Keys["pk"]["S"]] = append(byKey[r.DDB.Keys["pk"]["S"]], v)
		}
	}
	if n := len(fn.records()); n != 60 {
		t.Errorf("delivered %d records, want 60", n)
	}
	for k, vs := range byKey {
		if !slices.IsSorted(vs) || len(vs) != 6 {
			t.Errorf("key %s: values %v, want 6 in order", k, vs)
		}
	}
	info, err := f.trg.Get(f.ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != "Enabled" || info.LastProcessingResult != "OK" || info.Stats.Delivered != 60 {
		t.Errorf("Get = %+v", info)
	}
	// A change made now arrives too (the consumer follows the stream).
	f.put("orders", "late", 1)
	waitFor(t, "the late record", func() bool { return slices.Contains(fn.records(), "late") })
}

// TestTriggerBisectAndDeadLetter: a poison record fails every batch it is
// in; bisecting isolates it, every other record is delivered, and the
// poison one lands in the dead-letter stream after its retries, from which
// a redrive delivers it once the function is fixed.
func TestTriggerBisectAndDeadLetter(t *testing.T) {
	f := newFixture(t, "orders")
	var fixed sync.Mutex
	broken := true
	fn := newFunction(t, func(inv invocation, _ int) (int, string) {
		fixed.Lock()
		defer fixed.Unlock()
		if broken && slices.Contains(inv.keys(), "poison") {
			return 200, `{"errorMessage":"bad record","errorType":"Error"}`
		}
		return 200, "null"
	})
	def := trigger("t1", "orders", fn.srv.URL)
	def.BatchSize = intp(16)
	def.MaximumBatchingWindowInSeconds = intp(1)
	def.BisectBatchOnFunctionError = true
	def.MaximumRetryAttempts = intp(2)
	def.OnFailure = "orders-dlq"
	def.ParallelizationFactor = intp(1)
	keys := []string{}
	for i := range 15 {
		keys = append(keys, fmt.Sprint("good", i))
	}
	keys = slices.Insert(keys, 9, "poison")
	// Put the records first so they are batched together.
	for i, k := range keys {
		f.put("orders", k, i)
	}
	f.create(def)
	waitFor(t, "the dead letter", func() bool {
		info, err := f.trg.Get(f.ctx, "t1")
		return err == nil && info.Stats.DeadLettered == 1
	})
	// The records after the poison in its shard are delivered after it is
	// dead-lettered, so the dead letter's count alone does not mean they
	// have arrived.
	delivered := map[string]int{}
	waitFor(t, "every good record", func() bool {
		clear(delivered)
		for _, inv := range fn.invocations() {
			if slices.Contains(inv.keys(), "poison") {
				continue
			}
			for _, k := range inv.keys() {
				delivered[k]++
			}
		}
		for _, k := range keys {
			if k != "poison" && delivered[k] == 0 {
				return false
			}
		}
		return true
	})
	if delivered["poison"] != 0 {
		t.Error("poison delivered")
	}
	// Alone, it was tried 1 + MaximumRetryAttempts times.
	alone := 0
	for _, inv := range fn.invocations() {
		if len(inv.Records) == 1 && inv.keys()[0] == "poison" {
			alone++
		}
	}
	if alone != 3 {
		t.Errorf("poison invoked alone %d times, want 3 (1 + 2 retries)", alone)
	}
	// The dead letter is Lambda's invocation record.
	stream, err := f.js.Stream(f.ctx, "orders-dlq")
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetLastMsgForSubject(f.ctx, dlqSubject("orders-dlq", "t1"))
	if err != nil {
		t.Fatal(err)
	}
	var rec invocationRecord
	if err := json.Unmarshal(m.Data, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.BatchInfo.BatchSize != 1 ||
		rec.RequestContext.ApproximateInvokeCount != 3 || rec.ResponseContext.FunctionError == "" ||
		rec.BatchInfo.StreamArn == "" || rec.Payload == nil || len(rec.Payload.Records) != 1 {
		t.Errorf("invocation record: %s", m.Data)
	}
	// Redrive: still failing, it stays; fixed, it is delivered and removed.
	res, err := f.trg.Redrive(f.ctx, "t1")
	if err != nil || res.Remaining != 1 || res.Redriven != 0 {
		t.Fatalf("redrive while broken: %+v, %v", res, err)
	}
	fixed.Lock()
	broken = false
	fixed.Unlock()
	res, err = f.trg.Redrive(f.ctx, "t1")
	if err != nil || res.Redriven != 1 || res.Records != 1 {
		t.Fatalf("redrive: %+v, %v", res, err)
	}
	if _, err := stream.GetLastMsgForSubject(f.ctx, dlqSubject("orders-dlq", "t1")); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("dead letter still there after its redrive: %v", err)
	}
}

// TestTriggerReportBatchItemFailures: the function reports one record
// failed; the records before it are done, and the batch resumes from it.
func TestTriggerReportBatchItemFailures(t *testing.T) {
	f := newFixture(t, "orders")
	var once sync.Once
	fn := newFunction(t, func(inv invocation, _ int) (int, string) {
		out := "{}"
		for _, r := range inv.Records {
			if r.DDB.Keys["pk"]["S"] == "k5" {
				once.Do(func() {
					out = fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, r.DDB.Seq)
				})
			}
		}
		return 200, out
	})
	// Every key in one shard: one item, many versions, so the order is total.
	for i := range 10 {
		f.put("orders", fmt.Sprint("k", i), i)
	}
	def := trigger("t1", "orders", fn.srv.URL)
	def.BatchSize = intp(100)
	def.MaximumBatchingWindowInSeconds = intp(1)
	def.FunctionResponseTypes = []string{config.ReportBatchItemFailures}
	f.create(def)
	waitFor(t, "every record", func() bool {
		info, _ := f.trg.Get(f.ctx, "t1")
		return info != nil && info.Stats.Delivered == 10
	})
	count := map[string]int{}
	for _, k := range fn.records() {
		count[k]++
	}
	// Per shard, k5 and what follows it in its shard were sent twice.
	calls := fn.invocations()
	var first invocation
	for _, c := range calls {
		if slices.Contains(c.keys(), "k5") {
			first = c
			break
		}
	}
	i := slices.Index(first.keys(), "k5")
	for j, k := range first.keys() {
		want := 1
		if j >= i {
			want = 2
		}
		if count[k] != want {
			t.Errorf("%s delivered %d times, want %d (batch %v)", k, count[k], want, first.keys())
		}
	}
}

// TestTriggerFilter: records matching no pattern are not delivered.
func TestTriggerFilter(t *testing.T) {
	f := newFixture(t, "orders")
	fn := newFunction(t, nil)
	def := trigger("t1", "orders", fn.srv.URL)
	def.Filters = []string{`{"eventName":["INSERT"]}`, `{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"vip"}]}}}}`}
	f.create(def)
	f.put("orders", "a", 1)    // INSERT
	f.put("orders", "a", 2)    // MODIFY, dropped
	f.put("orders", "vip1", 1) // INSERT
	f.put("orders", "vip1", 2) // MODIFY of a "vip" key
	f.put("orders", "b", 3)    // INSERT
	waitFor(t, "4 records", func() bool { return len(fn.records()) >= 4 })
	time.Sleep(200 * time.Millisecond)
	got := fn.records()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "vip1", "vip1"}) {
		t.Errorf("delivered %v, want a, b, vip1, vip1", got)
	}
	info, _ := f.trg.Get(f.ctx, "t1")
	if info.Stats.Filtered != 1 {
		t.Errorf("Filtered = %d, want 1", info.Stats.Filtered)
	}
}

// TestTriggerCheckpoint: stopping the runtime in the middle of delivery
// and disabling and enabling a trigger lose nothing, and keep each item's
// changes in order (a record may be delivered again, from the checkpoint).
func TestTriggerCheckpoint(t *testing.T) {
	f := newFixture(t, "orders")
	fn := newFunction(t, func(inv invocation, _ int) (int, string) {
		time.Sleep(2 * time.Millisecond)
		return 200, "null"
	})
	def := trigger("t1", "orders", fn.srv.URL)
	def.BatchSize = intp(5)
	f.create(def)
	const n = 400
	for i := range n {
		f.put("orders", fmt.Sprint("k", i%20), i)
		switch i {
		case 100, 250:
			f.restart()
		case 180:
			if _, err := f.trg.SetEnabled(f.ctx, "t1", false); err != nil {
				t.Fatal(err)
			}
		case 200:
			if _, err := f.trg.SetEnabled(f.ctx, "t1", true); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := map[string]int{}
	for i := n - 20; i < n; i++ {
		last[fmt.Sprint("k", i%20)] = i
	}
	seen := func() map[string][]int {
		out := map[string][]int{}
		for _, inv := range fn.invocations() {
			for _, r := range inv.Records {
				v, _ := strconv.Atoi(r.DDB.NewImage["v"]["N"].(string))
				out[r.DDB.Keys["pk"]["S"]] = append(out[r.DDB.Keys["pk"]["S"]], v)
			}
		}
		return out
	}
	waitFor(t, "every item's last change", func() bool {
		s := seen()
		for k, v := range last {
			if !slices.Contains(s[k], v) {
				return false
			}
		}
		return true
	})
	for k, vs := range seen() {
		// Every version, and each new one after the ones before it: a
		// redelivery replays from an earlier point but never skips.
		max := -1
		distinct := map[int]bool{}
		for _, v := range vs {
			if !distinct[v] && v < max {
				t.Fatalf("%s: new version %d after %d: %v", k, v, max, vs)
			}
			distinct[v] = true
			if v > max {
				max = v
			}
		}
		i, _ := strconv.Atoi(k[1:])
		for v := i; v < n; v += 20 {
			if !distinct[v] {
				t.Errorf("%s: version %d lost", k, v)
			}
		}
	}
}

// TestTriggerTumblingWindow: the state a function returns is handed to its
// next invocation in the window, and the window ends with a final
// invocation carrying it.
func TestTriggerTumblingWindow(t *testing.T) {
	f := newFixture(t, "orders")
	fn := newFunction(t, func(inv invocation, _ int) (int, string) {
		total := inv.State["total"] + len(inv.Records)
		return 200, fmt.Sprintf(`{"state":{"total":%d}}`, total)
	})
	def := trigger("t1", "orders", fn.srv.URL)
	def.TumblingWindowInSeconds = intp(1)
	def.BatchSize = intp(2)
	def.ParallelizationFactor = intp(1)
	f.create(def)
	for i := range 6 {
		f.put("orders", "same", i)
	}
	waitFor(t, "the final invocations", func() bool {
		sum := 0
		for _, inv := range fn.invocations() {
			if inv.Final {
				sum += inv.State["total"]
			}
		}
		return sum == 6
	})
	for _, inv := range fn.invocations() {
		if inv.Window == nil || inv.ShardID == "" {
			t.Fatalf("invocation without window or shardId: %+v", inv)
		}
		if inv.Final && len(inv.Records) != 0 {
			t.Errorf("final invocation with records: %+v", inv)
		}
	}
}

// TestTriggerAdminErrors: settings are validated as Lambda validates
// them, and names are unique.
func TestTriggerAdminErrors(t *testing.T) {
	f := newFixture(t, "orders")
	ok := trigger("t1", "orders", "http://127.0.0.1:1/")
	f.create(ok)
	for _, tc := range []struct {
		name string
		mod  func(*config.Trigger)
		kind error
	}{
		{"duplicate", func(*config.Trigger) {}, engine.ErrResourceInUse},
		{"no table", func(d *config.Trigger) { d.Name, d.Table = "t2", "missing" }, engine.ErrTableNotFound},
		{"batch size", func(d *config.Trigger) { d.Name, d.BatchSize = "t2", intp(10001) }, attr.ErrValidation},
		{"record age", func(d *config.Trigger) { d.Name, d.MaximumRecordAgeInSeconds = "t2", intp(59) }, attr.ErrValidation},
		{"bad filter", func(d *config.Trigger) { d.Name, d.Filters = "t2", []string{`{"eventName":"INSERT"}`} }, attr.ErrValidation},
		{"six filters", func(d *config.Trigger) {
			d.Name, d.Filters = "t2", []string{`{}`, `{}`, `{}`, `{}`, `{}`, `{}`}
		}, attr.ErrValidation},
		{"name", func(d *config.Trigger) { d.Name = "a.b" }, attr.ErrValidation},
		{"no starting position", func(d *config.Trigger) { d.Name, d.StartingPosition = "t2", "" }, attr.ErrValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.mod(&d)
			_, err := f.trg.Create(f.ctx, d)
			if !errors.Is(err, tc.kind) {
				t.Errorf("Create = %v, want %v", err, tc.kind)
			}
		})
	}
	if _, err := f.trg.Get(f.ctx, "nope"); !errors.Is(err, engine.ErrTableNotFound) {
		t.Errorf("Get(nope) = %v", err)
	}
	up := ok
	up.StartingPosition = config.Latest
	if _, err := f.trg.Update(f.ctx, up); !errors.Is(err, attr.ErrValidation) {
		t.Errorf("Update changing the starting position = %v", err)
	}
	if _, err := f.trg.Delete(f.ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if all, _ := f.trg.List(f.ctx, ""); len(all) != 0 {
		t.Errorf("List after Delete = %+v", all)
	}
}

// TestTriggerStartingPositions: LATEST skips what the stream held when the
// trigger first ran, AT_TIMESTAMP starts at the first record committed at or
// after the time.
func TestTriggerStartingPositions(t *testing.T) {
	f := newFixture(t, "orders")
	f.put("orders", "old", 1)
	time.Sleep(50 * time.Millisecond)
	mid := time.Now()
	time.Sleep(50 * time.Millisecond)
	f.put("orders", "mid", 1)
	waitFor(t, "the stream", func() bool {
		info, err := f.js.Stream(f.ctx, cdc.StreamName(1))
		return err == nil && info.CachedInfo().State.Msgs >= 2
	})
	latest := newFunction(t, nil)
	at := newFunction(t, nil)
	def := trigger("latest", "orders", latest.srv.URL)
	def.StartingPosition = config.Latest
	f.create(def)
	def = trigger("at", "orders", at.srv.URL)
	def.StartingPosition, def.StartingPositionTimestamp = config.AtTimestamp, &mid
	f.create(def)
	time.Sleep(300 * time.Millisecond) // both consumers exist
	f.put("orders", "new", 1)
	waitFor(t, "new", func() bool {
		return slices.Contains(latest.records(), "new") && slices.Contains(at.records(), "new")
	})
	if got := latest.records(); !slices.Equal(got, []string{"new"}) {
		t.Errorf("LATEST delivered %v, want [new]", got)
	}
	if got := at.records(); !slices.Equal(got, []string{"mid", "new"}) {
		t.Errorf("AT_TIMESTAMP delivered %v, want [mid new]", got)
	}
}

// TestTriggerRecordAge: records older than MaximumRecordAgeInSeconds are
// given up on (RecordAgeExceeded) instead of retried for ever.
func TestTriggerRecordAge(t *testing.T) {
	f := newFixture(t, "orders")
	// The runtime's clock is two minutes ahead: every record is already
	// too old for a 60 s limit, and is given up on without an invocation.
	f.stop()
	trg, err := OpenRuntime(f.ctx, f.e, f.js, Declared{}, nil, RuntimeOptions{
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(2 * time.Minute) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.trg = trg
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = trg.Run(ctx) })
	f.stop = func() { cancel(); wg.Wait() }
	fn := newFunction(t, func(invocation, int) (int, string) { return 500, "down" })
	def := trigger("t1", "orders", fn.srv.URL)
	def.MaximumRecordAgeInSeconds = intp(60)
	def.OnFailure = "dlq"
	f.create(def)
	f.put("orders", "a", 1)
	waitFor(t, "the dead letter", func() bool {
		info, err := f.trg.Get(f.ctx, "t1")
		return err == nil && info.Stats.DeadLettered == 1
	})
	if n := len(fn.invocations()); n != 0 {
		t.Errorf("%d invocations of an expired record", n)
	}
	stream, err := f.js.Stream(f.ctx, "dlq")
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetLastMsgForSubject(f.ctx, dlqSubject("dlq", "t1"))
	if err != nil {
		t.Fatal(err)
	}
	var rec invocationRecord
	if err := json.Unmarshal(m.Data, &rec); err != nil || rec.RequestContext.Condition != "RecordAgeExceeded" {
		t.Errorf("dead letter %s (%v)", m.Data, err)
	}
}
