package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/keycodec"
)

func cond(t testing.TB, s string, values attr.Item) Condition {
	t.Helper()
	c, err := expr.ParseCondition(expr.KindCondition, s, nil, expr.Values(values))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func update(t testing.TB, s string, values attr.Item) Updater {
	t.Helper()
	u, err := expr.ParseUpdate(s, nil, expr.Values(values))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func key(pk string) attr.Item { return attr.Item{"pk": attr.S(pk)} }

// codes is the list of reason codes of a cancelled transaction, or the
// error's text for any other error.
func codes(err error) string {
	var tc *TransactionCanceledError
	if !errors.As(err, &tc) {
		if err == nil {
			return "<nil>"
		}
		return err.Error()
	}
	var c []string
	for _, r := range tc.Reasons {
		c = append(c, r.Code)
	}
	return strings.Join(c, ",")
}

// TestTransactWrite checks each action kind, cancellation with a reason per
// action, and that a cancelled transaction changes nothing.
func TestTransactWrite(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	for _, it := range []attr.Item{
		{"pk": attr.S("a"), "n": num(t, "1")},
		{"pk": attr.S("gone"), "n": num(t, "1")},
		{"pk": attr.S("checked"), "status": attr.S("open")},
	} {
		if _, err := e.PutItem(PutRequest{Table: "h", Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	big := attr.S(strings.Repeat("x", 300_000))
	one := attr.Item{":one": num(t, "1")}
	cases := []struct {
		name    string
		actions []TxWrite
		want    string
		after   map[string]string
	}{
		{
			name: "every kind commits",
			actions: []TxWrite{
				{Kind: TxPut, Table: "r", Item: attr.Item{"pk": attr.S("p"), "sk": num(t, "1")}},
				{Kind: TxUpdate, Table: "h", Key: key("a"), Update: update(t, "SET n = n + :one", one)},
				{Kind: TxDelete, Table: "h", Key: key("gone")},
				{Kind: TxCheck, Table: "h", Key: key("checked"), Cond: cond(t, "attribute_exists(pk)", nil)},
			},
			after: map[string]string{
				"a":       `{"n":{"N":"2"},"pk":{"S":"a"}}`,
				"gone":    "",
				"checked": `{"pk":{"S":"checked"},"status":{"S":"open"}}`,
			},
		},
		{
			name: "a failed check cancels the rest",
			actions: []TxWrite{
				{Kind: TxUpdate, Table: "h", Key: key("a"), Update: update(t, "SET n = n + :one", one)},
				{Kind: TxCheck, Table: "h", Key: key("checked"), Cond: cond(t, "attribute_not_exists(pk)", nil)},
				{Kind: TxPut, Table: "h", Item: attr.Item{"pk": attr.S("new")}},
			},
			want:  "None,ConditionalCheckFailed,None",
			after: map[string]string{"a": `{"n":{"N":"2"},"pk":{"S":"a"}}`, "new": ""},
		},
		{
			name: "every failure is reported",
			actions: []TxWrite{
				{Kind: TxPut, Table: "h", Item: attr.Item{"pk": attr.S("a")}, Cond: cond(t, "attribute_not_exists(pk)", nil)},
				{Kind: TxDelete, Table: "h", Key: key("zzz"), Cond: cond(t, "attribute_exists(pk)", nil)},
			},
			want: "ConditionalCheckFailed,ConditionalCheckFailed",
		},
		{
			name: "key errors are validation reasons",
			actions: []TxWrite{
				{Kind: TxPut, Table: "h", Item: attr.Item{"x": attr.S("1")}},
				{Kind: TxDelete, Table: "h", Key: attr.Item{"pk": num(t, "1")}},
				{Kind: TxCheck, Table: "h", Key: key("a"), Cond: cond(t, "attribute_exists(pk)", nil)},
				{Kind: TxUpdate, Table: "h", Key: key("b"), Update: update(t, "SET pk = :one", one)},
			},
			want: "ValidationError,ValidationError,None,ValidationError",
		},
		{
			name: "an item grown too large is a validation reason",
			actions: []TxWrite{
				{Kind: TxUpdate, Table: "h", Key: key("a"), Update: update(t, "SET b1 = :b, b2 = :b", attr.Item{":b": big})},
			},
			want: "ValidationError",
		},
		{
			name: "two actions on one item",
			actions: []TxWrite{
				{Kind: TxPut, Table: "h", Item: attr.Item{"pk": attr.S("a")}},
				{Kind: TxCheck, Table: "h", Key: key("a"), Cond: cond(t, "attribute_exists(pk)", nil)},
			},
			want: MsgTxDuplicateItems,
		},
		{
			name:    "missing table",
			actions: []TxWrite{{Kind: TxPut, Table: "nope", Item: attr.Item{"pk": attr.S("a")}}},
			want:    "Requested resource not found",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.TransactWrite(TransactWriteRequest{Actions: tc.actions})
			got := ""
			if err != nil {
				got = codes(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for k, want := range tc.after {
				if got := getItem(t, e, "h", key(k)); got != want {
					t.Errorf("item %s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

// TestTransactWriteReturnsItem checks ReturnValuesOnConditionCheckFailure.
func TestTransactWriteReturnsItem(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	if _, err := e.PutItem(PutRequest{Table: "h", Item: attr.Item{"pk": attr.S("a"), "v": attr.S("x")}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
		{Kind: TxCheck, Table: "h", Key: key("a"), Cond: cond(t, "attribute_not_exists(pk)", nil), ReturnOldOnConditionFail: true},
		{Kind: TxCheck, Table: "h", Key: key("b"), Cond: cond(t, "attribute_exists(pk)", nil), ReturnOldOnConditionFail: true},
	}})
	var tc *TransactionCanceledError
	if !errors.As(err, &tc) {
		t.Fatalf("err = %v", err)
	}
	want := "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, ConditionalCheckFailed]"
	if tc.Error() != want {
		t.Errorf("message %q", tc.Error())
	}
	if got := string(attr.AppendItemJSON(nil, tc.Reasons[0].Item)); got != `{"pk":{"S":"a"},"v":{"S":"x"}}` {
		t.Errorf("reason 0 item %s", got)
	}
	if tc.Reasons[1].Item != nil {
		t.Errorf("reason 1 (no item) has item %v", tc.Reasons[1].Item)
	}
	if tc.Reasons[0].Message != "The conditional request failed" {
		t.Errorf("reason message %q", tc.Reasons[0].Message)
	}
}

// TestTransactWriteOneCommit checks that a transaction's records are
// delivered in one change-log batch, all with the same transaction id, and
// that a transaction changing nothing records nothing.
func TestTransactWriteOneCommit(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	var rec batchRecorder
	defer e.ChangeLog().Subscribe(rec.add)()
	var actions []TxWrite
	for i := range 40 {
		actions = append(actions, TxWrite{Kind: TxPut, Table: "h", Item: key(fmt.Sprint(i))})
		actions = append(actions, TxWrite{Kind: TxPut, Table: "r", Item: attr.Item{"pk": attr.S(fmt.Sprint(i)), "sk": num(t, "1")}})
	}
	res, err := e.TransactWrite(TransactWriteRequest{Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Capacity) != 2 || res.Capacity[0].Write != 80 || res.Capacity[1].Write != 80 {
		t.Errorf("capacity %+v, want 80 units on each table", res.Capacity)
	}
	if _, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
		{Kind: TxCheck, Table: "h", Key: key("1"), Cond: cond(t, "attribute_exists(pk)", nil)},
		{Kind: TxPut, Table: "h", Item: key("2")}, // unchanged
	}}); err != nil {
		t.Fatal(err)
	}
	batches := rec.all()
	if len(batches) != 1 || len(batches[0]) != 80 {
		t.Fatalf("%d deliveries, want one of 80 records", len(batches))
	}
	for _, c := range batches[0] {
		env, err := event.Decode(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if id := env.Header(event.HdrCorrelation); id != res.TxID || id == "" {
			t.Fatalf("record correlationid %q, transaction %q", id, res.TxID)
		}
	}
}

// TestTransactWriteToken checks ClientRequestToken: a repeat answers without
// applying again, another request with the token is refused, both survive a
// restart, and the token expires after TokenTTL.
func TestTransactWriteToken(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e, err := Open(Options{Dir: dir, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close() }()
	mustCreate(t, e, tableDef("h", false))
	incr := TransactWriteRequest{
		Actions: []TxWrite{{Kind: TxUpdate, Table: "h", Key: key("c"), Update: update(t, "ADD n :one", attr.Item{":one": num(t, "1")})}},
		Token:   "tok", Digest: [32]byte{1},
	}
	counter := func() string { return getItem(t, e, "h", key("c")) }
	if res, err := e.TransactWrite(incr); err != nil || res.Replayed {
		t.Fatalf("first: %+v, %v", res, err)
	}
	res, err := e.TransactWrite(incr)
	if err != nil || !res.Replayed || res.Capacity[0].Read != 2 || res.Capacity[0].Write != 0 {
		t.Fatalf("repeat: %+v, %v", res, err)
	}
	other := incr
	other.Digest = [32]byte{2}
	if _, err := e.TransactWrite(other); !errors.Is(err, ErrIdempotentMismatch) {
		t.Fatalf("other request, same token: %v", err)
	}
	if got := counter(); got != `{"n":{"N":"1"},"pk":{"S":"c"}}` {
		t.Fatalf("after repeats: %s", got)
	}

	e.Close()
	if e, err = Open(Options{Dir: dir, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.TransactWrite(incr); err != nil || !res.Replayed {
		t.Fatalf("repeat after restart: %+v, %v", res, err)
	}
	now = now.Add(TokenTTL + time.Second)
	if res, err := e.TransactWrite(incr); err != nil || res.Replayed {
		t.Fatalf("after expiry: %+v, %v", res, err)
	}
	if got := counter(); got != `{"n":{"N":"2"},"pk":{"S":"c"}}` {
		t.Fatalf("after expiry: %s", got)
	}
	// A failed transaction leaves no token behind.
	fail := TransactWriteRequest{
		Actions: []TxWrite{{Kind: TxCheck, Table: "h", Key: key("c"), Cond: cond(t, "attribute_not_exists(pk)", nil)}},
		Token:   "tok2",
	}
	if _, err := e.TransactWrite(fail); !errors.Is(err, ErrTransactionCanceled) {
		t.Fatal(err)
	}
	fail.Actions[0].Cond = cond(t, "attribute_exists(pk)", nil)
	if res, err := e.TransactWrite(fail); err != nil || res.Replayed {
		t.Fatalf("retry of a cancelled transaction: %+v, %v", res, err)
	}
}

// TestTokenSweep checks that expired tokens are deleted, and that a token
// reused after it expired keeps its new record.
func TestTokenSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e, err := Open(Options{Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustCreate(t, e, tableDef("h", false))
	tx := func(token string) {
		t.Helper()
		if _, err := e.TransactWrite(TransactWriteRequest{
			Actions: []TxWrite{{Kind: TxPut, Table: "h", Item: key(token)}}, Token: token,
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 600 {
		tx(fmt.Sprint("t", i))
	}
	now = now.Add(TokenTTL + time.Minute)
	tx("t0") // a new request with an expired token: a new record
	if err := e.sweepTokens(now); err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		_, _, found, err := e.readToken(keycodec.TokenKey(fmt.Sprint("t", i)))
		if err != nil {
			t.Fatal(err)
		}
		if found != (i == 0) {
			t.Errorf("token t%d: found %v after the sweep", i, found)
		}
	}
	it, err := e.db.NewIter(keycodec.TokenExpiryPrefix(), keycodec.PrefixEnd(keycodec.TokenExpiryPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	it.Close()
	if n != 1 {
		t.Errorf("%d expiry entries left, want 1", n)
	}
}

// TestTransactGet checks reads, projections left to the caller, capacity,
// duplicates and key errors.
func TestTransactGet(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	if _, err := e.PutItem(PutRequest{Table: "h", Item: attr.Item{"pk": attr.S("a"), "v": attr.S(strings.Repeat("x", 5000))}}); err != nil {
		t.Fatal(err)
	}
	res, err := e.TransactGet([]TxGet{{Table: "h", Key: key("a")}, {Table: "r", Key: attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}}, {Table: "h", Key: key("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items[0] == nil || res.Items[1] != nil || res.Items[2] != nil {
		t.Errorf("items %q", res.Items)
	}
	if len(res.Capacity) != 2 || res.Capacity[0].Read != 6 || res.Capacity[1].Read != 2 {
		t.Errorf("capacity %+v, want h 4+2, r 2", res.Capacity)
	}
	if _, err := e.TransactGet([]TxGet{{Table: "h", Key: key("a")}, {Table: "h", Key: key("a")}}); err == nil || err.Error() != MsgTxDuplicateItems {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := e.TransactGet([]TxGet{{Table: "h", Key: key("a")}, {Table: "h", Key: attr.Item{}}}); codes(err) != "None,ValidationError" {
		t.Errorf("bad key: %v", err)
	}
	if _, err := e.TransactGet([]TxGet{{Table: "nope", Key: key("a")}}); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("missing table: %v", err)
	}
}

// TestTransactionsSerializable moves money between accounts with
// transactions and single-item writes from many goroutines while readers
// take TransactGet snapshots: every snapshot sums to the total, no balance
// goes negative, and nothing deadlocks.
func TestTransactionsSerializable(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("a", false))
	mustCreate(t, e, tableDef("b", false))
	const accounts, initial = 20, 100
	acct := func(i int) (string, attr.Item) {
		return []string{"a", "b"}[i%2], key(fmt.Sprint("acct", i))
	}
	for i := range accounts {
		table, k := acct(i)
		k["bal"] = num(t, fmt.Sprint(initial))
		if _, err := e.PutItem(PutRequest{Table: table, Item: k}); err != nil {
			t.Fatal(err)
		}
	}
	var gets []TxGet
	for i := range accounts {
		table, k := acct(i)
		gets = append(gets, TxGet{Table: table, Key: k})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	moved, cancelled := 0, 0
	for w := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				from, to := r.IntN(accounts), r.IntN(accounts)
				if from == to {
					continue
				}
				amt := attr.Item{":amt": num(t, fmt.Sprint(1+r.IntN(30)))}
				ft, fk := acct(from)
				tt, tk := acct(to)
				_, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
					{Kind: TxUpdate, Table: ft, Key: fk, Update: update(t, "SET bal = bal - :amt", amt), Cond: cond(t, "bal >= :amt", amt)},
					{Kind: TxUpdate, Table: tt, Key: tk, Update: update(t, "SET bal = bal + :amt", amt)},
				}})
				mu.Lock()
				switch {
				case err == nil:
					moved++
				case errors.Is(err, ErrTransactionCanceled):
					cancelled++
				default:
					t.Error(err)
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, ErrTransactionCanceled) {
					return
				}
			}
		})
	}
	check := func() {
		res, err := e.TransactGet(gets)
		if err != nil {
			t.Error(err)
			return
		}
		sum := 0
		for _, js := range res.Items {
			var it attr.Item
			if err := it.UnmarshalJSON(js); err != nil {
				t.Error(err)
				return
			}
			var n int
			fmt.Sscan(string(it["bal"].N), &n)
			if n < 0 {
				t.Errorf("negative balance in %s", js)
			}
			sum += n
		}
		if sum != accounts*initial {
			t.Errorf("snapshot sums to %d, want %d", sum, accounts*initial)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && !t.Failed() {
		check()
	}
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("transactions deadlocked")
	}
	check()
	t.Logf("%d transfers, %d cancelled", moved, cancelled)
	if moved == 0 {
		t.Error("no transfer committed")
	}
}

func BenchmarkTransactWrite2Updates(b *testing.B) {
	e, err := Open(Options{Dir: b.TempDir(), Relaxed: true})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateTable(tableDef("h", false)); err != nil {
		b.Fatal(err)
	}
	amt := attr.Item{":amt": num(b, "1")}
	dec := update(b, "SET bal = bal - :amt", amt)
	inc := update(b, "SET bal = bal + :amt", amt)
	ok := cond(b, "bal >= :amt", amt)
	for i := range 1000 {
		k := key(fmt.Sprint(i))
		k["bal"] = num(b, "1000000000")
		if _, err := e.PutItem(PutRequest{Table: "h", Item: k}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
			{Kind: TxUpdate, Table: "h", Key: key(fmt.Sprint(i % 1000)), Update: dec, Cond: ok},
			{Kind: TxUpdate, Table: "h", Key: key(fmt.Sprint((i + 1) % 1000)), Update: inc, Cond: ok},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
