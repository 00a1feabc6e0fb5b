package engine

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/shards"
)

// parseUpdate parses an UpdateExpression whose values are given as
// DynamoDB JSON.
func parseUpdate(t testing.TB, s, values string) *expr.Update {
	t.Helper()
	var vals attr.Item
	if values != "" {
		if err := vals.UnmarshalJSON([]byte(values)); err != nil {
			t.Fatal(err)
		}
		if err := attr.ValidateItem(vals); err != nil {
			t.Fatal(err)
		}
	}
	u, err := expr.ParseUpdate(s, nil, expr.Values(vals))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func parseCond(t testing.TB, s, values string) *expr.Condition {
	t.Helper()
	var vals attr.Item
	if values != "" {
		if err := vals.UnmarshalJSON([]byte(values)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := expr.ParseCondition(expr.KindCondition, s, nil, expr.Values(vals))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func recordNames(t *testing.T, cs []Change) string {
	t.Helper()
	var names []string
	for _, c := range cs {
		env, err := event.Decode(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimPrefix(env.Header(event.HdrType), event.TypePrefix))
	}
	return strings.Join(names, ",")
}

func TestUpdateItem(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("t", false))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()
	key := attr.Item{"pk": attr.S("a")}
	update := func(req UpdateRequest) (string, error) {
		t.Helper()
		req.Table, req.Key = "t", key
		res, err := e.UpdateItem(req)
		return string(res.Attributes), err
	}

	// Upsert: the update applies to the bare key; ALL_OLD has nothing.
	got, err := update(UpdateRequest{Update: parseUpdate(t, "SET a = :a, n = :one", `{":a":{"S":"x"},":one":{"N":"1"}}`), ReturnValues: ReturnAllOld})
	if err != nil || got != "" {
		t.Fatalf("upsert: %q %v", got, err)
	}
	if g := getItem(t, e, "t", key); g != `{"a":{"S":"x"},"n":{"N":"1"},"pk":{"S":"a"}}` {
		t.Fatalf("after upsert: %s", g)
	}

	for _, tc := range []struct {
		name   string
		update string
		values string
		rv     ReturnValues
		want   string
	}{
		{"ALL_NEW", "ADD n :one", `{":one":{"N":"1"}}`, ReturnAllNew, `{"a":{"S":"x"},"n":{"N":"2"},"pk":{"S":"a"}}`},
		{"ALL_OLD", "ADD n :one", `{":one":{"N":"1"}}`, ReturnAllOld, `{"a":{"S":"x"},"n":{"N":"2"},"pk":{"S":"a"}}`},
		{"UPDATED_OLD", "SET n = n + :one, m = :m", `{":one":{"N":"1"},":m":{"M":{"x":{"N":"1"}}}}`, ReturnUpdatedOld, `{"n":{"N":"3"}}`},
		{"UPDATED_NEW", "SET m.x = :two REMOVE a", `{":two":{"N":"2"}}`, ReturnUpdatedNew, `{"m":{"M":{"x":{"N":"2"}}}}`},
		{"UPDATED_NEW of a removal", "REMOVE m", "", ReturnUpdatedNew, ``},
		{"NONE", "SET a = :a", `{":a":{"S":"y"}}`, ReturnNone, ``},
	} {
		got, err := update(UpdateRequest{Update: parseUpdate(t, tc.update, tc.values), ReturnValues: tc.rv})
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	if g := getItem(t, e, "t", key); g != `{"a":{"S":"y"},"n":{"N":"4"},"pk":{"S":"a"}}` {
		t.Fatalf("after updates: %s", g)
	}
	if names := recordNames(t, rec.all()); names != "INSERT,MODIFY,MODIFY,MODIFY,MODIFY,MODIFY,MODIFY" {
		t.Fatalf("records %s", names)
	}

	// Unchanged: the same value again, a removal of nothing, no update at all.
	before := len(rec.all())
	for _, u := range []Updater{parseUpdate(t, "SET a = :a", `{":a":{"S":"y"}}`), parseUpdate(t, "REMOVE nothing", ""), nil} {
		got, err := update(UpdateRequest{Update: u, ReturnValues: ReturnAllNew})
		if err != nil || got != `{"a":{"S":"y"},"n":{"N":"4"},"pk":{"S":"a"}}` {
			t.Fatalf("unchanged update: %q %v", got, err)
		}
	}
	if n := len(rec.all()); n != before {
		t.Fatalf("unchanged updates wrote %d records", n-before)
	}

	// A failed condition changes nothing; the item rides along when asked.
	for _, withItem := range []bool{false, true} {
		_, err := update(UpdateRequest{
			Update:                   parseUpdate(t, "SET a = :a", `{":a":{"S":"z"}}`),
			Cond:                     parseCond(t, "n > :ten", `{":ten":{"N":"10"}}`),
			ReturnOldOnConditionFail: withItem,
		})
		var cf *ConditionFailedError
		if !errors.As(err, &cf) || (cf.Item != nil) != withItem {
			t.Fatalf("condition failure (item %v): %v", withItem, err)
		}
		if withItem && cf.Item["a"].S != "y" {
			t.Fatalf("condition failure item %v", cf.Item)
		}
	}
	// A condition on an absent item sees no attributes, and creates nothing.
	_, err = e.UpdateItem(UpdateRequest{Table: "t", Key: attr.Item{"pk": attr.S("ghost")},
		Update: parseUpdate(t, "ADD n :one", `{":one":{"N":"1"}}`), Cond: parseCond(t, "attribute_exists(pk)", "")})
	if !errors.Is(err, ErrConditionFailed) {
		t.Fatalf("condition on absent item: %v", err)
	}
	if g := getItem(t, e, "t", attr.Item{"pk": attr.S("ghost")}); g != "" {
		t.Fatalf("ghost item created: %s", g)
	}
	if n := len(rec.all()); n != before {
		t.Fatalf("failed conditions wrote %d records", n-before)
	}

	// Only removals on an absent item create nothing.
	for _, u := range []Updater{parseUpdate(t, "REMOVE a", ""), parseUpdate(t, "DELETE s :s", `{":s":{"SS":["x"]}}`)} {
		if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: attr.Item{"pk": attr.S("ghost")}, Update: u}); err != nil {
			t.Fatal(err)
		}
	}
	if g := getItem(t, e, "t", attr.Item{"pk": attr.S("ghost")}); g != "" {
		t.Fatalf("removal created an item: %s", g)
	}
	if n := len(rec.all()); n != before {
		t.Fatalf("removals on an absent item wrote %d records", n-before)
	}

	// No update at all still creates the item as its key.
	if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: attr.Item{"pk": attr.S("bare")}}); err != nil {
		t.Fatal(err)
	}
	if g := getItem(t, e, "t", attr.Item{"pk": attr.S("bare")}); g != `{"pk":{"S":"bare"}}` {
		t.Fatalf("bare key item: %s", g)
	}
}

func TestUpdateItemErrors(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("t", true))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()
	key := attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}
	big := `{":big":{"S":"` + strings.Repeat("x", 300_000) + `"}}`
	if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key, Update: parseUpdate(t, "SET big = :big, l = :l", big[:len(big)-1]+`,":l":{"L":[{"N":"1"}]}}`)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, update, values, want string
	}{
		{"hash key", "SET pk = :v", `{":v":{"S":"b"}}`, "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
		{"nested in range key", "ADD sk.x :v", `{":v":{"N":"1"}}`, "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"},
		{"removing the key", "REMOVE pk", "", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
		{"too large", "SET big2 = big", "", "Item size to update has exceeded the maximum allowed size"},
		{"missing operand", "SET x = nothing", "", "The provided expression refers to an attribute that does not exist in the item"},
		{"bad path", "SET l.x = :v", `{":v":{"N":"1"}}`, "The document path provided in the update expression is invalid for update"},
		{"wrong ADD type", "ADD l :v", `{":v":{"N":"1"}}`, "An operand in the update expression has an incorrect data type"},
	} {
		_, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key, Update: parseUpdate(t, tc.update, tc.values)})
		var ae *attr.Error
		if !errors.As(err, &ae) || !errors.Is(err, attr.ErrValidation) || ae.Msg != tc.want {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: attr.Item{"pk": attr.S("a")}}); err == nil || err.Error() != attr.MsgKeySchemaMismatch {
		t.Errorf("partial key: %v", err)
	}
	if _, err := e.UpdateItem(UpdateRequest{Table: "nope", Key: key}); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("missing table: %v", err)
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("%d records, want only the first update's", n)
	}
}

// TestUpdateItemConcurrentCounter: concurrent ADDs on one item serialize
// on its lock; every one commits a record, densely sequenced.
func TestUpdateItemConcurrentCounter(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("t", false))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()
	key := attr.Item{"pk": attr.S("counter")}
	add := parseUpdate(t, "ADD c :one", `{":one":{"N":"1"}}`)
	const writers, each = 16, 100
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key, Update: add}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if g := getItem(t, e, "t", key); g != `{"c":{"N":"1600"},"pk":{"S":"counter"}}` {
		t.Fatalf("counter: %s", g)
	}
	cs := rec.all()
	if len(cs) != writers*each {
		t.Fatalf("%d records, want %d", len(cs), writers*each)
	}
	for i, c := range cs {
		if c.Shard != cs[0].Shard || c.Seq != shards.Seq(i+1) {
			t.Fatalf("record %d: shard %d seq %d", i, c.Shard, c.Seq)
		}
	}
}

func BenchmarkUpdateItemConditionalSetAdd(b *testing.B) {
	e, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateTable(tableDef("t", false)); err != nil {
		b.Fatal(err)
	}
	u := parseUpdate(b, "SET a = :a ADD n :one", `{":a":{"S":"x"},":one":{"N":"1"}}`)
	c := parseCond(b, "attribute_not_exists(z)", "")
	key := attr.Item{"pk": attr.S("k")}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key, Update: u, Cond: c, ReturnValues: ReturnUpdatedNew}); err != nil {
			b.Fatal(err)
		}
	}
}
