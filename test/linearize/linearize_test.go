// Package linearize checks that Sluice is linearizable: a history of
// concurrent single-item reads and conditional writes and of transactions on
// a few items, recorded through the AWS SDK against the real server while it
// is killed with SIGKILL and restarted, must have a sequential order that
// respects real time and the table's semantics (checked with porcupine).
//
// Every write stores a unique value, so a read names the write it saw. A call
// that got no answer (the server died under it) has an unknown outcome: it is
// recorded as never returning, which lets the checker apply it at any point
// after its call, or never. A TransactWriteItems that got no answer is sent
// again, unchanged, once the server is back: its ClientRequestToken makes
// the two sends one operation, from the first call to the second answer.
//
// LINEARIZE_DURATION sets how long the clients run (8s by default, 3s with
// -short). When the check fails, the test writes porcupine's visualization
// and fails with its path (kept under -artifacts' output directory when that
// flag is set, in the system's temporary directory otherwise).
package linearize

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

const (
	table   = "linearize"
	clients = 8
	// maxOps bounds the history so that porcupine checks it in seconds.
	maxOps = 2000
	// kills is how many times the server is killed mid-run.
	kills = 2
	// checkTimeout bounds porcupine; a history this small takes well under
	// a second, so reaching it means something is wrong.
	checkTimeout = 30 * time.Second
	// callTimeout bounds one call; a call that times out has an unknown
	// outcome.
	callTimeout = 10 * time.Second
)

func runDuration(t *testing.T) time.Duration {
	if s := os.Getenv("LINEARIZE_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("LINEARIZE_DURATION=%q: want a positive duration such as 8s", s)
		}
		return d
	}
	if testing.Short() {
		return 3 * time.Second
	}
	return 8 * time.Second
}

func TestLinearizable(t *testing.T) {
	dur := runDuration(t)
	srv := sluicetest.Start(t, sluicetest.Options{})
	ctx := sluicetest.Context(t)
	if _, err := srv.DynamoDB().CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %s, %d clients, %d keys, at most %d operations, %d kills", seed, dur, clients, nKeys, maxOps, kills)
	rng := rand.New(rand.NewPCG(seed, 0))
	h := &history{start: time.Now()}
	workers := make([]*worker, clients)
	for i := range workers {
		workers[i] = &worker{id: i, h: h, db: srv.DynamoDB(), rng: rand.New(rand.NewPCG(seed, uint64(i+1))), known: unknownValues()}
	}

	// The clients run in waves: each wave every client issues a few calls
	// back to back, so calls overlap, and a kill lands inside a wave, so
	// some calls are in flight when the server dies. The run ends when the
	// time is up or the budget of calls is spent, whichever comes first,
	// and the kills are spread over it. A client makes 1 to 2*perWave-1
	// calls a wave, two when it reads before a transaction, plus one sent
	// again after a kill: the budget keeps room for a whole wave, the calls
	// sent again at the end and the last reads.
	const perWave = 3 // average calls per client and wave
	budget := float64(maxOps - clients*(2*(2*perWave-1)+2) - nKeys)
	progress := func() float64 {
		return max(float64(time.Since(h.start))/float64(dur), float64(h.issued.Load())/budget)
	}
	gap := dur / time.Duration(maxOps/(clients*perWave))
	var waveTime time.Duration // running mean of a wave's length
	killed, wave := 0, 0
	for ; killed < kills || progress() < 1; wave++ {
		began := time.Now()
		kill := killed < kills && progress() >= float64(killed+1)/(kills+1)
		var wg sync.WaitGroup
		for _, w := range workers {
			n := 1 + w.rng.IntN(2*perWave-1)
			if kill {
				n = 2*perWave - 1 // a long wave, to be killed in the middle of
			}
			wg.Go(func() { w.burst(n) })
		}
		if !kill {
			wg.Wait()
			if d := time.Since(began); waveTime == 0 {
				waveTime = d
			} else {
				waveTime = (waveTime*7 + d) / 8
			}
			if rest := gap - time.Since(began); rest > 0 {
				time.Sleep(rest)
			}
			continue
		}
		// Kill while calls are in flight: after a random part of the
		// first half of what an ordinary wave lasts, at the next call.
		time.Sleep(time.Duration(rng.Int64N(int64(waveTime)/2 + 1)))
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
	wait:
		for h.inflight.Load() == 0 {
			select {
			case <-done:
				break wait
			case <-time.After(50 * time.Microsecond):
			}
		}
		h.killing.Store(true)
		inflight := h.inflight.Load()
		srv.Kill()
		<-done
		killed++
		restartBegan := time.Now()
		srv.Restart(t)
		h.killing.Store(false)
		t.Logf("kill %d in wave %d at %s with %d calls in flight: restarted in %s", killed, wave,
			time.Duration(h.now()).Round(time.Millisecond), inflight, time.Since(restartBegan).Round(time.Millisecond))
		for _, w := range workers {
			w.db = srv.DynamoDB() // the old client's connections are dead
			w.gen++
		}
	}
	// The last calls sent again, then a last read of every item, after
	// every other call returned.
	for _, w := range workers {
		if !w.resend() {
			t.Errorf("client %d: a call sent again after the last kill got no answer", w.id)
		}
	}
	workers[0].getAll()

	for _, w := range workers {
		for _, err := range w.errs {
			t.Errorf("client %d: %v", w.id, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	h.summarize(t, wave, killed)
	checkHistory(t, h.mu.ops) // every client is done
}

// checkHistory runs porcupine on ops and fails t, with the path of a
// visualization, unless they are linearizable.
func checkHistory(t *testing.T, ops []porcupine.Operation) {
	t.Helper()
	began := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, ops, checkTimeout)
	t.Logf("porcupine: %s for %d operations in %s", res, len(ops), time.Since(began).Round(time.Millisecond))
	if res == porcupine.Ok {
		return
	}
	dir := artifactDir(t)
	path := filepath.Join(dir, "linearize.html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		t.Errorf("writing the visualization: %v", err)
	}
	switch res {
	case porcupine.Illegal:
		t.Fatalf("the history is not linearizable; open %s", path)
	default:
		t.Fatalf("porcupine gave no answer within %s (%s); partial visualization: %s", checkTimeout, res, path)
	}
}

// artifactDir is t.ArtifactDir under -artifacts, and otherwise a temporary
// directory that outlives the test, so that the visualization can be opened.
func artifactDir(t *testing.T) string {
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		return t.ArtifactDir()
	}
	dir, err := os.MkdirTemp("", "linearize-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// history records the operations of every client.
type history struct {
	start    time.Time
	issued   atomic.Int64 // calls started, recorded or not
	inflight atomic.Int64 // calls sent and not yet answered
	// killing is set from just before a kill until the server is back: a
	// call fails without an answer only then.
	killing atomic.Bool
	mu      struct {
		sync.Mutex
		ops   []porcupine.Operation
		stats map[string]int // "api outcome" → count
	}
}

// now is the time since the history started, porcupine's clock.
func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in input, out output, call, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.ops = append(h.mu.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.count(in.name() + " " + out.result.String())
}

// note adds one to a statistic.
func (h *history) note(what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count(what)
}

// count adds one to a statistic; h.mu must be held.
func (h *history) count(what string) {
	if h.mu.stats == nil {
		h.mu.stats = map[string]int{}
	}
	h.mu.stats[what]++
}

func (h *history) summarize(t *testing.T, waves, killed int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var lines []string
	for k, n := range h.mu.stats {
		lines = append(lines, fmt.Sprintf("%-48s %5d", k, n))
	}
	slices.Sort(lines)
	var slowest int64
	for _, op := range h.mu.ops {
		if op.Return != math.MaxInt64 {
			slowest = max(slowest, op.Return-op.Call)
		}
	}
	t.Logf("%d operations recorded (%d calls) in %d waves, %s; server killed %d times; slowest answer %s; by operation and outcome:\n  %s",
		len(h.mu.ops), h.issued.Load(), waves, time.Since(h.start).Round(time.Millisecond), killed,
		time.Duration(slowest).Round(time.Millisecond), strings.Join(lines, "\n  "))
}

// worker is one client. Its fields are used by one goroutine at a time.
type worker struct {
	id  int
	gen int // kills so far: a client gets a fresh porcupine client id after each
	// pending is a call to send again once the server is back.
	pending *pending
	h       *history
	db      *dynamodb.Client
	rng     *rand.Rand
	errs    []error
	// known is the last value this client saw for each key (notReported
	// when it has seen none), to build conditions that can pass.
	known [nKeys]int64
}

func unknownValues() (v [nKeys]int64) {
	for i := range v {
		v[i] = notReported
	}
	return v
}

// nextValue hands out the unique values written.
var nextValue atomic.Int64

func newValue() int64 { return nextValue.Add(1) }

// nextToken numbers the ClientRequestTokens of TransactWriteItems.
var nextToken atomic.Int64

// burst issues up to n calls back to back; it stops at the first call that
// got no answer (the server is likely dead).
func (w *worker) burst(n int) {
	if !w.resend() {
		return
	}
	for range n {
		if !w.one() {
			return
		}
	}
}

// one issues a random call and records it. It reports false when the call
// got no answer.
func (w *worker) one() bool {
	r := w.rng.IntN(100)
	switch {
	case r < 15:
		return w.get(w.rng.IntN(nKeys))
	case r < 21:
		return w.put(write{key: w.rng.IntN(nKeys), val: newValue()})
	case r < 29:
		return w.put(write{key: w.rng.IntN(nKeys), cond: absent, val: newValue()})
	case r < 39:
		return w.put(w.cas(w.rng.IntN(nKeys), newValue()))
	case r < 47:
		return w.update(w.cas(w.rng.IntN(nKeys), newValue()))
	case r < 50:
		return w.update(write{key: w.rng.IntN(nKeys), val: newValue()})
	case r < 57:
		return w.del(write{key: w.rng.IntN(nKeys)})
	case r < 64:
		return w.del(w.cas(w.rng.IntN(nKeys), 0))
	case r < 90:
		return w.transactWrite()
	default:
		return w.transactGet(w.distinct(2 + w.rng.IntN(2)))
	}
}

// cas returns a write of val to key, conditional on the value this client
// last saw there.
func (w *worker) cas(key int, val int64) write {
	switch v := w.known[key]; {
	case v > 0:
		return write{key: key, cond: equals, old: v, val: val}
	case v == 0 || w.rng.IntN(2) == 0:
		return write{key: key, cond: absent, val: val}
	default:
		return write{key: key, cond: equals, old: 1 + w.rng.Int64N(max(nextValue.Load(), 1)), val: val}
	}
}

func keyAttr(k int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: keyName(k)}}
}

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// condExpr returns the ConditionExpression of w and its values.
func condExpr(w write) (*string, map[string]types.AttributeValue) {
	switch w.cond {
	case absent:
		return aws.String("attribute_not_exists(pk)"), nil
	case equals:
		return aws.String("v = :old"), map[string]types.AttributeValue{":old": num(w.old)}
	}
	return nil, nil
}

// itemValue returns v of an item, 0 for no item.
func itemValue(item map[string]types.AttributeValue) (int64, error) {
	if item == nil {
		return 0, nil
	}
	n, ok := item["v"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("item %v has no number v", item)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// attempt is one call: the operation, how to send it, and how to decode the
// answer into an ok or failed output (any other error is returned as is).
type attempt struct {
	in     input
	send   func(ctx context.Context) error
	decode func(err error) (output, error)
	// resend makes a call that got no answer during a kill pending: the
	// client sends it again, unchanged, once the server is back. Only
	// TransactWriteItems sets it: its ClientRequestToken makes it
	// idempotent, so the two sends are one operation.
	resend bool
}

// pending is an attempt to send again after a restart.
type pending struct {
	attempt
	client int   // the porcupine client id of the first send
	callAt int64 // when it was first sent; -1 before
}

func (w *worker) call(a attempt) bool {
	return w.do(pending{attempt: a, client: w.id + clients*w.gen, callAt: -1})
}

// do sends p, timed, and records the operation. It reports false when the
// call got no answer.
func (w *worker) do(p pending) bool {
	w.h.issued.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	first := p.callAt < 0
	if first {
		p.callAt = w.h.now()
	}
	w.h.inflight.Add(1)
	err := p.send(ctx)
	w.h.inflight.Add(-1)
	retAt := w.h.now()
	out, derr := p.decode(err)
	if derr == nil {
		w.h.add(p.client, p.in, out, p.callAt, retAt)
		w.learn(p.in, out)
		return true
	}
	noAnswer := derr == err && isNoAnswer(err)
	killing := w.h.killing.Load()
	switch {
	case !noAnswer:
		// An error answer, or one that does not make sense: reported
		// below.
	case killing && first && errors.Is(err, syscall.ECONNREFUSED):
		// The request never reached a server: nothing happened.
		w.h.note(p.in.name() + " refused")
		return false
	case killing && p.resend && w.pending == nil:
		w.pending = &p
		w.known = unknownValues()
		return false
	default:
		if p.in.writes != nil {
			// It may have been applied, now or never: it never returns.
			w.h.add(p.client, p.in, output{result: unknown, old: notReported}, p.callAt, math.MaxInt64)
		} else {
			w.h.note(p.in.name() + " unanswered")
		}
		w.known = unknownValues()
		if killing {
			return false
		}
		derr = fmt.Errorf("no answer while the server was up: %w", err)
	}
	w.errs = append(w.errs, fmt.Errorf("%s %v: %w", p.in.name(), p.in.writes, derr))
	return false
}

// resend sends the pending call again, if there is one. It reports false
// when it got no answer.
func (w *worker) resend() bool {
	p := w.pending
	if p == nil {
		return true
	}
	w.pending = nil
	w.h.note(p.in.name() + " resent after a kill")
	return w.do(*p)
}

// isNoAnswer reports whether err leaves the outcome of a call unknown: the
// connection failed or timed out, or the server answered 5xx.
func isNoAnswer(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() == smithy.FaultServer
	}
	return true
}

// learn remembers what a call showed of the items, so that later conditions
// can pass.
func (w *worker) learn(in input, out output) {
	if in.writes == nil {
		for i, k := range in.keys {
			w.known[k] = out.values[i]
		}
		return
	}
	switch {
	case out.result == ok:
		for _, wr := range in.writes {
			if !wr.check {
				w.known[wr.key] = wr.val
			}
		}
	case len(in.writes) == 1 && out.old != notReported:
		w.known[in.writes[0].key] = out.old
	default:
		for i, r := range out.reasons {
			if r.code == "ConditionalCheckFailed" && r.item != notReported {
				w.known[in.writes[i].key] = r.item
			}
		}
	}
}

// failedOld decodes a ConditionalCheckFailedException carrying the item
// (ReturnValuesOnConditionCheckFailure ALL_OLD).
func failedOld(err error) (output, error) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return output{}, err
	}
	v, err := itemValue(ccf.Item)
	if err != nil {
		return output{}, err
	}
	return output{result: failed, old: v}, nil
}

func (w *worker) get(k int) bool {
	in := input{api: "GetItem", keys: []int{k}}
	var item map[string]types.AttributeValue
	return w.call(attempt{in: in, send: func(ctx context.Context) error {
		out, err := w.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyAttr(k), ConsistentRead: aws.Bool(true)})
		if err == nil {
			item = out.Item
		}
		return err
	}, decode: func(err error) (output, error) {
		if err != nil {
			return output{}, err
		}
		v, err := itemValue(item)
		return output{result: ok, values: []int64{v}}, err
	}})
}

// getAll reads every item, one GetItem at a time.
func (w *worker) getAll() {
	for k := range nKeys {
		if !w.get(k) {
			w.errs = append(w.errs, fmt.Errorf("the final read of %s got no answer", keyName(k)))
		}
	}
}

// decodeOld decodes a single write's answer: the old image (ReturnValues
// ALL_OLD) on success, the current one on a failed condition.
func decodeOld(old *map[string]types.AttributeValue) func(error) (output, error) {
	return func(err error) (output, error) {
		if err != nil {
			return failedOld(err)
		}
		v, err := itemValue(*old)
		return output{result: ok, old: v}, err
	}
}

func (w *worker) put(wr write) bool {
	in := input{api: "PutItem", writes: []write{wr}}
	ce, vals := condExpr(wr)
	item := keyAttr(wr.key)
	item["v"] = num(wr.val)
	var old map[string]types.AttributeValue
	return w.call(attempt{in: in, send: func(ctx context.Context) error {
		out, err := w.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table), Item: item,
			ConditionExpression: ce, ExpressionAttributeValues: vals,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			old = out.Attributes
		}
		return err
	}, decode: decodeOld(&old)})
}

func (w *worker) update(wr write) bool {
	in := input{api: "UpdateItem", writes: []write{wr}}
	ce, vals := condExpr(wr)
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	vals[":new"] = num(wr.val)
	var old map[string]types.AttributeValue
	return w.call(attempt{in: in, send: func(ctx context.Context) error {
		out, err := w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: keyAttr(wr.key),
			UpdateExpression:    aws.String("SET v = :new"),
			ConditionExpression: ce, ExpressionAttributeValues: vals,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			old = out.Attributes
		}
		return err
	}, decode: decodeOld(&old)})
}

func (w *worker) del(wr write) bool {
	in := input{api: "DeleteItem", writes: []write{wr}}
	ce, vals := condExpr(wr)
	var old map[string]types.AttributeValue
	return w.call(attempt{in: in, send: func(ctx context.Context) error {
		out, err := w.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(table), Key: keyAttr(wr.key),
			ConditionExpression: ce, ExpressionAttributeValues: vals,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			old = out.Attributes
		}
		return err
	}, decode: decodeOld(&old)})
}

// distinct returns n distinct random keys.
func (w *worker) distinct(n int) []int {
	return w.rng.Perm(nKeys)[:n]
}

// transactWrite issues a TransactWriteItems on two items: a compare-and-set
// of both, a conditional move of one item's value to another, or a
// ConditionCheck on one item guarding a put of another.
func (w *worker) transactWrite() bool {
	ks := w.rng.Perm(nKeys)
	a, b := ks[0], ks[1]
	var ws []write
	variant := w.rng.IntN(3)
	if w.rng.IntN(2) == 0 {
		// Read first (a, b and one more), so that the conditions have a
		// chance.
		if !w.transactGet(ks[:3]) {
			return false
		}
	}
	switch variant {
	case 0:
		ws = []write{w.cas(a, newValue()), w.cas(b, newValue())}
	case 1:
		// Move from an item this client saw present to one it saw absent,
		// if it saw such items.
		for _, k := range w.rng.Perm(nKeys) {
			if w.known[k] == 0 && k != a {
				b = k
				break
			}
		}
		for _, k := range w.rng.Perm(nKeys) {
			if w.known[k] > 0 && k != b {
				a = k
				break
			}
		}
		from := w.cas(a, 0)
		if from.cond != equals {
			from = write{key: a, cond: equals, old: 1 + w.rng.Int64N(max(nextValue.Load(), 1))}
		}
		ws = []write{from, {key: b, cond: absent, val: newValue()}}
	default:
		check := w.cas(a, 0)
		check.check = true
		ws = []write{check, {key: b, val: newValue()}}
	}
	in := input{api: "TransactWriteItems", variant: [...]string{"cas", "move", "check"}[variant], writes: ws}
	items := make([]types.TransactWriteItem, len(ws))
	for i, wr := range ws {
		ce, vals := condExpr(wr)
		rv := types.ReturnValuesOnConditionCheckFailureAllOld
		switch {
		case wr.check:
			items[i].ConditionCheck = &types.ConditionCheck{TableName: aws.String(table), Key: keyAttr(wr.key),
				ConditionExpression: ce, ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: rv}
		case wr.val == 0:
			items[i].Delete = &types.Delete{TableName: aws.String(table), Key: keyAttr(wr.key),
				ConditionExpression: ce, ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: rv}
		case i == 0:
			// An update for variety: SET v creates the item if need be.
			if vals == nil {
				vals = map[string]types.AttributeValue{}
			}
			vals[":new"] = num(wr.val)
			items[i].Update = &types.Update{TableName: aws.String(table), Key: keyAttr(wr.key),
				UpdateExpression: aws.String("SET v = :new"), ConditionExpression: ce,
				ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: rv}
		default:
			item := keyAttr(wr.key)
			item["v"] = num(wr.val)
			items[i].Put = &types.Put{TableName: aws.String(table), Item: item,
				ConditionExpression: ce, ExpressionAttributeValues: vals, ReturnValuesOnConditionCheckFailure: rv}
		}
	}
	req := &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(fmt.Sprintf("tx-%d", nextToken.Add(1)))}
	return w.call(attempt{in: in, resend: true, send: func(ctx context.Context) error {
		_, err := w.db.TransactWriteItems(ctx, req)
		return err
	}, decode: func(err error) (output, error) {
		if err == nil {
			return output{result: ok, old: notReported}, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return output{}, err
		}
		if len(tce.CancellationReasons) != len(ws) {
			return output{}, fmt.Errorf("%d cancellation reasons for %d items: %v", len(tce.CancellationReasons), len(ws), err)
		}
		out := output{result: failed, old: notReported}
		for _, r := range tce.CancellationReasons {
			rs := reason{code: aws.ToString(r.Code), item: notReported}
			switch rs.code {
			case "ConditionalCheckFailed":
				v, err := itemValue(r.Item)
				if err != nil {
					return output{}, err
				}
				rs.item = v
			case "None", "TransactionConflict":
			default:
				return output{}, fmt.Errorf("unexpected cancellation: %v", err)
			}
			out.reasons = append(out.reasons, rs)
		}
		return out, nil
	}})
}

// transactGet reads items in one TransactGetItems.
func (w *worker) transactGet(ks []int) bool {
	in := input{api: "TransactGetItems", keys: ks}
	items := make([]types.TransactGetItem, len(ks))
	for i, k := range ks {
		items[i].Get = &types.Get{TableName: aws.String(table), Key: keyAttr(k)}
	}
	var resp []types.ItemResponse
	return w.call(attempt{in: in, send: func(ctx context.Context) error {
		out, err := w.db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: items})
		if err == nil {
			resp = out.Responses
		}
		return err
	}, decode: func(err error) (output, error) {
		if err != nil {
			return output{}, err
		}
		if len(resp) != len(ks) {
			return output{}, fmt.Errorf("%d responses for %d items", len(resp), len(ks))
		}
		out := output{result: ok, old: notReported}
		for _, r := range resp {
			v, err := itemValue(r.Item)
			if err != nil {
				return output{}, err
			}
			out.values = append(out.values, v)
		}
		return out, nil
	}})
}
