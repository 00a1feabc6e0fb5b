package linearize

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// nKeys is the number of items the clients contend on.
const nKeys = 4

// notReported marks a value the server did not return (ReturnValues NONE, or
// no item in a cancellation reason).
const notReported int64 = -1

// state is the table: the value of attribute v of each item, 0 when the item
// is absent. Values written are unique positive numbers, so a value read
// names the write that produced it. An array is comparable: porcupine's
// default equality (==) works.
type state [nKeys]int64

// cond is a write's ConditionExpression.
type cond uint8

const (
	always cond = iota // no condition
	absent             // attribute_not_exists(pk)
	equals             // v = :old
)

// write is one item write: PutItem, UpdateItem (SET v = :new), DeleteItem,
// or one element of TransactWriteItems.
type write struct {
	key   int
	cond  cond
	old   int64 // what equals compares v with
	val   int64 // the value written; 0 deletes the item
	check bool  // a ConditionCheck: evaluates cond, writes nothing
}

// holds reports whether the write's condition holds in s. A comparison with
// the attribute of an absent item is false, as in DynamoDB.
func (w write) holds(s *state) bool {
	switch w.cond {
	case absent:
		return s[w.key] == 0
	case equals:
		return s[w.key] != 0 && s[w.key] == w.old
	}
	return true
}

// input is one operation. Reads have keys; writes have writes (one for the
// single-item calls, two for TransactWriteItems).
type input struct {
	api     string // the DynamoDB operation, for descriptions
	variant string // which kind of transaction, for descriptions
	keys    []int
	writes  []write
}

// name is the operation's name in descriptions and statistics.
func (in input) name() string {
	if in.variant == "" {
		return in.api
	}
	return in.api + " " + in.variant
}

// result is how a call ended.
type result uint8

const (
	ok      result = iota
	failed         // ConditionalCheckFailedException or TransactionCanceledException
	unknown        // no answer (the server was killed, the connection broke, 5xx)
)

func (r result) String() string {
	return [...]string{"ok", "failed", "unknown"}[r]
}

// reason is one element of a TransactionCanceledException's
// CancellationReasons.
type reason struct {
	code string // "None", "ConditionalCheckFailed", "TransactionConflict", ...
	item int64  // v of the returned item (0: none returned for a failed check), or notReported
}

// output is what the call returned.
type output struct {
	result result
	// values are what a read returned, one per key (0: absent).
	values []int64
	// old is what a single-item write reported of the item before it: the
	// ReturnValues ALL_OLD image on success, the
	// ReturnValuesOnConditionCheckFailure image on failure; notReported when
	// the call does not return one.
	old int64
	// reasons are a cancelled transaction's, in the order of its writes.
	reasons []reason
}

// step is the sequential specification. An operation with an unknown outcome
// is applied when its condition holds: its return time is infinite, so the
// checker may also place it after every other operation, which is the same
// as not applying it.
func step(s state, in input, out output) (bool, state) {
	if in.writes == nil { // GetItem, TransactGetItems: only answered reads are recorded
		for i, k := range in.keys {
			if s[k] != out.values[i] {
				return false, s
			}
		}
		return true, s
	}
	holds := true
	for _, w := range in.writes {
		holds = holds && w.holds(&s)
	}
	single := len(in.writes) == 1
	if single && out.result != unknown && out.old != notReported && s[in.writes[0].key] != out.old {
		return false, s
	}
	switch out.result {
	case unknown:
		if holds {
			return true, apply(s, in.writes)
		}
		return true, s
	case ok:
		if !holds {
			return false, s
		}
		return true, apply(s, in.writes)
	}
	// failed
	if single {
		return !holds, s
	}
	conflict := false
	for i, r := range out.reasons {
		w := in.writes[i]
		switch r.code {
		case "ConditionalCheckFailed":
			if w.holds(&s) || (r.item != notReported && s[w.key] != r.item) {
				return false, s
			}
		case "None":
			// This item's condition passed (or it has none).
			if !w.holds(&s) {
				return false, s
			}
		default:
			// TransactionConflict and the like cancel the transaction
			// whatever the conditions say.
			conflict = true
		}
	}
	return conflict || !holds, s
}

func apply(s state, ws []write) state {
	for _, w := range ws {
		if !w.check {
			s[w.key] = w.val
		}
	}
	return s
}

// model is the table of nKeys items as a porcupine model. It is not
// partitioned by key: transactions span keys.
var model = porcupine.Model{
	Init: func() any { return state{} },
	Step: func(s, in, out any) (bool, any) {
		return step(s.(state), in.(input), out.(output))
	},
	Hash: func(s any) uint64 {
		var h uint64 = 14695981039346656037
		for _, v := range s.(state) {
			h = (h ^ uint64(v)) * 1099511628211
		}
		return h
	},
	DescribeOperation: func(in, out any) string { return describe(in.(input), out.(output)) },
	DescribeState: func(s any) string {
		var b strings.Builder
		for k, v := range s.(state) {
			if k > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", keyName(k), valueText(v))
		}
		return b.String()
	},
}

func keyName(k int) string { return fmt.Sprintf("k%d", k) }

func valueText(v int64) string {
	switch v {
	case 0:
		return "-"
	case notReported:
		return "?"
	}
	return fmt.Sprint(v)
}

func (w write) String() string {
	var b strings.Builder
	switch {
	case w.check:
		fmt.Fprintf(&b, "check %s", keyName(w.key))
	case w.val == 0:
		fmt.Fprintf(&b, "delete %s", keyName(w.key))
	default:
		fmt.Fprintf(&b, "%s=%d", keyName(w.key), w.val)
	}
	switch w.cond {
	case absent:
		b.WriteString(" if absent")
	case equals:
		fmt.Fprintf(&b, " if v=%d", w.old)
	}
	return b.String()
}

func describe(in input, out output) string {
	var b strings.Builder
	b.WriteString(in.name())
	b.WriteByte(' ')
	if in.writes == nil {
		for i, k := range in.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s→%s", keyName(k), valueText(out.values[i]))
		}
		return b.String()
	}
	for i, w := range in.writes {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(w.String())
	}
	fmt.Fprintf(&b, " → %s", out.result)
	if out.old != notReported && out.result != unknown {
		fmt.Fprintf(&b, " (old %s)", valueText(out.old))
	}
	for i, r := range out.reasons {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(r.code)
		if r.item != notReported {
			fmt.Fprintf(&b, " %s", valueText(r.item))
		}
		if i == len(out.reasons)-1 {
			b.WriteByte(']')
		}
	}
	return b.String()
}

func TestStep(t *testing.T) {
	s := state{0, 5, 0, 0} // k1=5, the rest absent
	cas := func(k int, old, val int64) write { return write{key: k, cond: equals, old: old, val: val} }
	for _, tc := range []struct {
		name string
		in   input
		out  output
		ok   bool
		want state
	}{
		{"get present", input{keys: []int{1}}, output{values: []int64{5}}, true, s},
		{"get stale", input{keys: []int{1}}, output{values: []int64{4}}, false, s},
		{"get absent", input{keys: []int{0, 1}}, output{values: []int64{0, 5}}, true, s},
		{"put", input{writes: []write{{key: 1, val: 7}}}, output{result: ok, old: 5}, true, state{0, 7, 0, 0}},
		{"put wrong old", input{writes: []write{{key: 1, val: 7}}}, output{result: ok, old: 0}, false, s},
		{"cas ok", input{writes: []write{cas(1, 5, 7)}}, output{result: ok, old: notReported}, true, state{0, 7, 0, 0}},
		{"cas ok but stale", input{writes: []write{cas(1, 4, 7)}}, output{result: ok, old: notReported}, false, s},
		{"cas failed", input{writes: []write{cas(1, 4, 7)}}, output{result: failed, old: 5}, true, s},
		{"cas failed but holds", input{writes: []write{cas(1, 5, 7)}}, output{result: failed, old: notReported}, false, s},
		{"cas on absent", input{writes: []write{cas(0, 5, 7)}}, output{result: failed, old: 0}, true, s},
		{"if absent", input{writes: []write{{key: 0, cond: absent, val: 8}}}, output{result: ok, old: 0}, true, state{8, 5, 0, 0}},
		{"if absent on present", input{writes: []write{{key: 1, cond: absent, val: 8}}}, output{result: ok, old: notReported}, false, s},
		{"delete", input{writes: []write{{key: 1}}}, output{result: ok, old: 5}, true, state{}},
		{"unknown applies", input{writes: []write{cas(1, 5, 7)}}, output{result: unknown, old: notReported}, true, state{0, 7, 0, 0}},
		{"unknown not applicable", input{writes: []write{cas(1, 4, 7)}}, output{result: unknown, old: notReported}, true, s},
		{"tx move", input{writes: []write{cas(1, 5, 0), {key: 2, cond: absent, val: 9}}}, output{result: ok}, true, state{0, 0, 9, 0}},
		{"tx check", input{writes: []write{{key: 1, cond: equals, old: 5, check: true}, {key: 3, val: 9}}}, output{result: ok}, true, state{0, 5, 0, 9}},
		{"tx half stale", input{writes: []write{cas(1, 5, 7), cas(2, 3, 8)}}, output{result: ok}, false, s},
		{"tx cancelled", input{writes: []write{cas(1, 5, 7), cas(2, 3, 8)}},
			output{result: failed, reasons: []reason{{"None", notReported}, {"ConditionalCheckFailed", 0}}}, true, s},
		{"tx reason wrong item", input{writes: []write{cas(1, 5, 7), cas(2, 3, 8)}},
			output{result: failed, reasons: []reason{{"None", notReported}, {"ConditionalCheckFailed", 3}}}, false, s},
		{"tx reason None but fails", input{writes: []write{cas(1, 4, 7), cas(2, 3, 8)}},
			output{result: failed, reasons: []reason{{"None", notReported}, {"ConditionalCheckFailed", notReported}}}, false, s},
		{"tx cancelled but holds", input{writes: []write{cas(1, 5, 7), {key: 2, cond: absent, val: 8}}},
			output{result: failed, reasons: []reason{{"None", notReported}, {"None", notReported}}}, false, s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, next := step(s, tc.in, tc.out)
			if ok != tc.ok || (ok && next != tc.want) {
				t.Errorf("step(%v, %s) = %v, %v; want %v, %v", s, describe(tc.in, tc.out), ok, next, tc.ok, tc.want)
			}
		})
	}
}

// TestCheckCatches shows the check can fail: a value read back after a
// compare-and-set that overwrote it, and a lost acknowledged write, are not
// linearizable; the same calls with an unknown outcome are.
func TestCheckCatches(t *testing.T) {
	op := func(client int, in input, out output, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
	}
	put := input{api: "PutItem", writes: []write{{key: 0, cond: absent, val: 1}}}
	cas := input{api: "TransactWriteItems", writes: []write{{key: 0, cond: equals, old: 1, val: 2}, {key: 1, cond: absent, val: 3}}}
	get := input{api: "TransactGetItems", keys: []int{0, 1}}
	for _, tc := range []struct {
		name string
		ops  []porcupine.Operation
		ok   bool
	}{
		{"in order", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: ok}, 20, 30),
			op(0, get, output{values: []int64{2, 3}}, 40, 50),
		}, true},
		{"stale read", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: ok}, 20, 30),
			op(0, get, output{values: []int64{1, 3}}, 40, 50),
		}, false},
		{"lost write", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: ok}, 20, 30),
			op(0, get, output{values: []int64{1, 0}}, 40, 50),
		}, false},
		{"unknown not applied", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: unknown, old: notReported}, 20, math.MaxInt64),
			op(0, get, output{values: []int64{1, 0}}, 40, 50),
		}, true},
		{"unknown applied", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: unknown, old: notReported}, 20, math.MaxInt64),
			op(0, get, output{values: []int64{2, 3}}, 40, 50),
		}, true},
		{"unknown half applied", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: unknown, old: notReported}, 20, math.MaxInt64),
			op(0, get, output{values: []int64{2, 0}}, 40, 50),
		}, false},
		{"overlapping", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: ok}, 20, 60),
			op(0, get, output{values: []int64{1, 0}}, 30, 40),
			op(2, get, output{values: []int64{2, 3}}, 45, 50),
		}, true},
		{"read goes back", []porcupine.Operation{
			op(0, put, output{result: ok, old: 0}, 0, 10),
			op(1, cas, output{result: ok}, 20, 60),
			op(2, get, output{values: []int64{2, 3}}, 30, 40),
			op(0, get, output{values: []int64{1, 0}}, 45, 50),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(model, tc.ops); got != tc.ok {
				t.Errorf("linearizable: %v, want %v", got, tc.ok)
			}
		})
	}
}
