package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// ttlFeed collects a table's committed records as the TTL reaper would
// read them from the stream and applies them to the expiry index on
// demand (a change-log subscriber must not call back into the engine).
type ttlFeed struct {
	t     *testing.T
	e     *Engine
	table uint32
	mu    sync.Mutex
	all   []IndexChange // every record, in commit order
	next  int           // the first not yet applied
}

func newTTLFeed(t *testing.T, e *Engine, table uint32) *ttlFeed {
	f := &ttlFeed{t: t, e: e, table: table}
	t.Cleanup(e.ChangeLog().Subscribe(func(cs []Change) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range cs {
			if c.TableID != table {
				continue
			}
			data, _, _, err := event.Data(c.Data)
			if err != nil {
				panic(err)
			}
			old, new, err := event.Images(data)
			if err != nil {
				panic(err)
			}
			f.all = append(f.all, IndexChange{Shard: c.Shard, Seq: c.Seq, Old: old, New: new, Stream: uint64(len(f.all) + 1)})
		}
	}))
	return f
}

// apply applies every record not applied yet and returns how many
// ApplyTTL applied.
func (f *ttlFeed) apply() int {
	f.t.Helper()
	f.mu.Lock()
	cs := f.all[f.next:]
	f.next = len(f.all)
	f.mu.Unlock()
	n, err := f.e.ApplyTTL(f.table, cs)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// replay applies every record again from the first.
func (f *ttlFeed) replay() int {
	f.t.Helper()
	f.mu.Lock()
	f.next = 0
	f.mu.Unlock()
	return f.apply()
}

func ttlTableDef(name string) *catalog.Table {
	def := readTableDef(name, "")
	def.TTL = catalog.TTL{Enabled: true, Attribute: "exp"}
	return def
}

// expired lists the keys (pk) of the entries due at now, with their expiry.
func expired(t *testing.T, e *Engine, table uint32, now time.Time) []string {
	t.Helper()
	due, err := e.ExpiredTTL(table, now, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range due {
		out = append(out, d.Key()["pk"].S+"@"+string(d.Expiry))
	}
	return out
}

// ttlEntries lists every entry of a table's expiry index as pk@expiry, in
// index order.
func ttlEntries(t *testing.T, e *Engine, table uint32) []string {
	t.Helper()
	p := keycodec.TTLPrefix(table)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		if it.Key()[5] == 0 {
			continue // header and positions
		}
		_, exp, itemKey, err := keycodec.DecodeTTLEntryKey(it.Key())
		if err != nil {
			t.Fatal(err)
		}
		_, pk, _, err := keycodec.DecodeItemKey(itemKey, attr.TypeS, attr.TypeInvalid)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pk.S+"@"+string(exp))
	}
	return out
}

func putTTL(t *testing.T, e *Engine, table, pk string, exp *attr.Value) {
	t.Helper()
	item := attr.Item{"pk": attr.S(pk), "v": attr.S("x")}
	if exp != nil {
		item["exp"] = *exp
	}
	if _, err := e.PutItem(PutRequest{Table: table, Item: item}); err != nil {
		t.Fatal(err)
	}
}

func ptr(v attr.Value) *attr.Value { return &v }

// TestExpiryIndex keeps an expiry index from change records: only numbers
// are indexed, entries follow the item, replays apply nothing, and the due
// entries are those from five years back to now, in expiry order.
func TestExpiryIndex(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, ttlTableDef("t"))
	feed := newTTLFeed(t, e, info.ID)
	if s, _ := e.TTLIndexState(info.ID); s != TTLStale {
		t.Fatalf("state of a new TTL table = %v, want stale", s)
	}
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.TTLIndexState(info.ID); s != TTLReady {
		t.Fatalf("state after the backfill = %v, want ready", s)
	}
	now := time.Unix(1_800_000_000, 0)
	n := func(s string) *attr.Value { return ptr(num(t, s)) }
	putTTL(t, e, "t", "past", n("1799999990"))
	putTTL(t, e, "t", "now", n("1800000000"))
	putTTL(t, e, "t", "future", n("1800000010"))
	putTTL(t, e, "t", "string", ptr(attr.S("1000")))
	putTTL(t, e, "t", "ancient", n(fmt.Sprint(now.Add(-6*365*24*time.Hour).Unix())))
	putTTL(t, e, "t", "fractional", n("1799999999.5"))
	putTTL(t, e, "t", "none", nil)
	putTTL(t, e, "t", "negative", n("-5"))
	if got := feed.apply(); got != 8 {
		t.Fatalf("applied %d records, want 8", got)
	}
	want := []string{"past@1799999990", "fractional@1799999999.5", "now@1800000000"}
	if got := expired(t, e, info.ID, now); !slices.Equal(got, want) {
		t.Errorf("due %q, want %q", got, want)
	}
	// A time inside the second is that second.
	if got := expired(t, e, info.ID, now.Add(999*time.Millisecond)); !slices.Equal(got, want) {
		t.Errorf("due at .999 %q, want %q", got, want)
	}
	// Paging.
	first, err := e.ExpiredTTL(info.ID, now, nil, 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("first page %v, %v", first, err)
	}
	rest, err := e.ExpiredTTL(info.ID, now, &first[1], 2)
	if err != nil || len(rest) != 1 || rest[0].Key()["pk"].S != "now" {
		t.Fatalf("second page %v, %v", rest, err)
	}
	// Replays apply nothing.
	if got := feed.replay(); got != 0 {
		t.Errorf("a replay applied %d records", got)
	}
	// Entries follow the item: a later expiry, a string, a deletion.
	putTTL(t, e, "t", "past", n("1800000005"))
	putTTL(t, e, "t", "now", ptr(attr.S("soon")))
	if _, err := e.DeleteItem(DeleteRequest{Table: "t", Key: attr.Item{"pk": attr.S("fractional")}}); err != nil {
		t.Fatal(err)
	}
	feed.apply()
	if got := expired(t, e, info.ID, now); len(got) != 0 {
		t.Errorf("due after the changes: %q", got)
	}
	wantAll := []string{"negative@-5", "ancient@" + fmt.Sprint(now.Add(-6*365*24*time.Hour).Unix()), "past@1800000005", "future@1800000010"}
	if got := ttlEntries(t, e, info.ID); !slices.Equal(got, wantAll) {
		t.Errorf("entries %q, want %q", got, wantAll)
	}
	if got := expired(t, e, info.ID, now.Add(10*time.Second)); !slices.Equal(got, []string{"past@1800000005", "future@1800000010"}) {
		t.Errorf("due 10 s later: %q", got)
	}
	// Positions are kept per shard, and the stream position.
	if pos, err := e.TTLStreamPosition(info.ID); err != nil || pos != 11 {
		t.Errorf("stream position %d, %v; want 11", pos, err)
	}
}

// TestExpireTTL deletes due items as the service, with their LSI entries,
// and leaves alone an item whose TTL attribute changed after its entry was
// read, without failing the others.
func TestExpireTTL(t *testing.T) {
	e := openRelaxed(t)
	def := lsiTableDef("t")
	def.TTL = catalog.TTL{Enabled: true, Attribute: "exp"}
	info := mustCreate(t, e, def)
	feed := newTTLFeed(t, e, info.ID)
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	t.Cleanup(e.ChangeLog().Subscribe(rec.add))
	now := time.Unix(1_800_000_000, 0)
	put := func(sk, exp string) {
		t.Helper()
		item := attr.Item{"pk": attr.S("p"), "sk": attr.S(sk), "rank": num(t, "1"), "exp": num(t, exp)}
		if _, err := e.PutItem(PutRequest{Table: "t", Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		put(fmt.Sprint("s", i), "1799999999")
	}
	put("later", "1800000100")
	feed.apply()
	due, err := e.ExpiredTTL(info.ID, now, nil, 100)
	if err != nil || len(due) != 5 {
		t.Fatalf("due %d, %v; want 5", len(due), err)
	}
	// s1 gets a later expiry and s2 goes between the read and the delete.
	put("s1", "1800000200")
	if _, err := e.DeleteItem(DeleteRequest{Table: "t", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S("s2")}}); err != nil {
		t.Fatal(err)
	}
	before := len(rec.all())
	// Too early: nothing is due at a time before the expiry.
	if n, err := e.ExpireTTL(info.ID, due, now.Add(-2*time.Second)); err != nil || n != 0 {
		t.Fatalf("deleted %d, %v before the expiry", n, err)
	}
	n, err := e.ExpireTTL(info.ID, due, now)
	if err != nil || n != 3 {
		t.Fatalf("deleted %d, %v; want s0, s3, s4", n, err)
	}
	removes := rec.all()[before:]
	if len(removes) != 3 {
		t.Fatalf("%d records, want 3", len(removes))
	}
	for _, c := range removes {
		env, err := event.Decode(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(env.Data); !strings.Contains(s, `"eventName":"REMOVE"`) ||
			!strings.Contains(s, `"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}`) {
			t.Errorf("record %s", s)
		}
	}
	for _, sk := range []string{"s0", "s1", "s2", "s3", "s4", "later"} {
		res, err := e.GetItem(GetRequest{Table: "t", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S(sk)}})
		if err != nil {
			t.Fatal(err)
		}
		if gone, want := res.Item == nil, sk != "s1" && sk != "later"; gone != want {
			t.Errorf("%s deleted %v, want %v", sk, gone, want)
		}
	}
	// The LSI entries went in the same batches.
	if got := indexEntries(t, e, info.ID, 0); len(got) != 2 {
		t.Errorf("LSI entries %q, want s1 and later", got)
	}
	// Again: the items are gone, nothing is deleted twice.
	if n, err := e.ExpireTTL(info.ID, due, now); err != nil || n != 0 {
		t.Errorf("second ExpireTTL deleted %d, %v", n, err)
	}
	feed.apply()
	if got := expired(t, e, info.ID, now.Add(time.Hour)); len(got) != 2 {
		t.Errorf("index after the deletions: %q", got)
	}
	// With TTL disabled nothing is deleted, and the index is dropped.
	due, _ = e.ExpiredTTL(info.ID, now.Add(time.Hour), nil, 100)
	if _, err := e.UpdateTable("t", func(d *catalog.Table) error { d.TTL = catalog.TTL{}; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := e.ExpireTTL(info.ID, due, now.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("deleted %d, %v with TTL disabled", n, err)
	}
	if ids, _ := e.TTLIndexes(); !slices.Equal(ids, []uint32{info.ID}) {
		t.Errorf("indexes %v", ids)
	}
	if dropped, err := e.DropTTL(info.ID); err != nil || !dropped {
		t.Errorf("DropTTL %v, %v", dropped, err)
	}
	if ids, _ := e.TTLIndexes(); len(ids) != 0 {
		t.Errorf("indexes after the drop %v", ids)
	}
}

// TestBackfillTTL builds the index of a table that has items when TTL is
// enabled: the records before the backfill's snapshot are not applied
// again, those after it are; a new attribute rebuilds it from scratch.
func TestBackfillTTL(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, readTableDef("t", ""))
	feed := newTTLFeed(t, e, info.ID)
	n := func(s string) *attr.Value { return ptr(num(t, s)) }
	for i := range 20 {
		putTTL(t, e, "t", fmt.Sprint("k", i), n(fmt.Sprint(1000+i)))
	}
	if s, _ := e.TTLIndexState(info.ID); s != TTLOff {
		t.Fatalf("state without TTL = %v", s)
	}
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.TTLIndexes(); len(ids) != 0 {
		t.Fatalf("a backfill without TTL built %v", ids)
	}
	if _, err := e.UpdateTable("t", func(d *catalog.Table) error {
		d.TTL = catalog.TTL{Enabled: true, Attribute: "exp"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := feed.apply(); got != 0 {
		t.Fatalf("applied %d records before the backfill", got)
	}
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	putTTL(t, e, "t", "k0", n("5000"))  // after the snapshot
	putTTL(t, e, "t", "new", n("1005")) // after the snapshot
	if got := feed.replay(); got != 2 { // the 20 before are covered
		t.Fatalf("applied %d records after the backfill, want 2", got)
	}
	got := expired(t, e, info.ID, time.Unix(1010, 0))
	if len(got) != 11 || !slices.Contains(got, "new@1005") || slices.Contains(got, "k0@1000") {
		t.Errorf("due %q", got)
	}
	// Another attribute: the index is stale until rebuilt for it.
	if _, err := e.UpdateTable("t", func(d *catalog.Table) error {
		d.TTL = catalog.TTL{Enabled: true, Attribute: "other"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.TTLIndexState(info.ID); s != TTLStale {
		t.Fatalf("state after the attribute changed = %v", s)
	}
	if got := expired(t, e, info.ID, time.Unix(1010, 0)); len(got) != 0 {
		t.Errorf("a stale index answered %q", got)
	}
	if _, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S("o"), "other": num(t, "7")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	if got := ttlEntries(t, e, info.ID); !slices.Equal(got, []string{"o@7"}) {
		t.Errorf("rebuilt index %q", got)
	}
	// A deleted table's index is dropped.
	if _, err := e.DeleteTable("t"); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.TTLIndexState(info.ID); s != TTLOff {
		t.Errorf("state of a deleted table = %v", s)
	}
	if dropped, err := e.DropTTL(info.ID); err != nil || !dropped {
		t.Errorf("DropTTL %v, %v", dropped, err)
	}
	if ids, _ := e.TTLIndexes(); len(ids) != 0 {
		t.Errorf("indexes after the drop %v", ids)
	}
}

// TestTTLDue is DynamoDB's rule: numbers of epoch seconds from five years
// back to now.
func TestTTLDue(t *testing.T) {
	now := time.Unix(1_800_000_000, 500_000_000)
	lo := now.Add(-MaxTTLAge).Unix()
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"1800000000", true}, {"1800000000.5", false}, {"1800000001", false}, {"1799999999.999", true},
		{fmt.Sprint(lo), true}, {fmt.Sprint(lo - 1), false}, {"0", false}, {"1.8E9", true},
	} {
		v, err := attr.ParseNumber(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := TTLDue(v, now); got != tc.want {
			t.Errorf("TTLDue(%s) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestTTLImage reads the key and TTL attribute of canonical item JSON as
// decoding it whole would, whatever surrounds them.
func TestTTLImage(t *testing.T) {
	def := readTableDef("t", "S")
	for _, item := range []attr.Item{
		{"pk": attr.S("a"), "sk": attr.S("b"), "exp": num(t, "17.5")},
		{"pk": attr.S(`q"\` + "\x00é"), "sk": attr.S("}{]["), "exp": attr.S("12")},
		{"pk": attr.S("a"), "sk": attr.S("b"), "m": attr.M(map[string]attr.Value{"exp": num(t, "1"), "x": attr.L([]attr.Value{attr.S(`"exp"`), attr.M(nil)})}), "zz": num(t, "2")},
		{"pk": attr.S("a"), "sk": attr.S("b"), "e\"xp": num(t, "3"), "exp": num(t, "-4"), "expy": num(t, "5")},
		{"sk": attr.S("b"), "pk": attr.S("a"), "ss": {T: attr.TypeSS, SS: []string{"exp", "}"}}, "b": attr.B([]byte("exp"))},
	} {
		js := attr.AppendItemJSON(nil, item)
		key, exp, ok, err := ttlImage(def, js, "exp")
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if !attr.ItemsEqual(key, keyItemOf(def, item)) {
			t.Errorf("%s: key %v", js, key)
		}
		v, has := item["exp"]
		if want := has && v.T == attr.TypeN; ok != want || (ok && exp != v.N) {
			t.Errorf("%s: exp %q %v", js, exp, ok)
		}
	}
	for _, bad := range []string{``, `[]`, `{"pk":`, `{"pk":{"S":"a"}`, `{"pk" {"S":"a"}}`, `{"pk":"a"}`, `{"pk":{"S":"a}}`} {
		if _, _, _, err := ttlImage(def, []byte(bad), "exp"); err == nil {
			t.Errorf("%q read", bad)
		}
	}
}

// TestTTLLagsAndDrop: an item modified with its expiry unchanged keeps its
// entry; TTLLags counts the records not applied and finds the oldest due
// item; deleting the table drops its expiry index at once.
func TestTTLLagsAndDrop(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, ttlTableDef("t"))
	feed := newTTLFeed(t, e, info.ID)
	if err := e.BackfillTTL(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for i, exp := range []string{"1799999990", "1799999995", "1800000100"} {
		item := attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "exp": num(t, exp)}
		if _, err := e.PutItem(PutRequest{Table: "t", Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	lags, err := e.TTLLags(now)
	if err != nil || len(lags) != 1 || lags[0].Table != "t" || lags[0].Behind != 3 || !lags[0].Ready || !lags[0].OldestDue.IsZero() {
		t.Fatalf("lags before applying = %+v, %v; want t 3 behind, ready, nothing due", lags, err)
	}
	feed.apply()
	// A modification that keeps the expiry keeps the entry.
	if _, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S("k0"), "exp": num(t, "1799999990"), "v": attr.S("new")}}); err != nil {
		t.Fatal(err)
	}
	if got := feed.apply(); got != 1 {
		t.Fatalf("applied %d, want 1", got)
	}
	want := []string{"k0@1799999990", "k1@1799999995", "k2@1800000100"}
	if got := ttlEntries(t, e, info.ID); !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	lags, err = e.TTLLags(now)
	if err != nil || len(lags) != 1 || lags[0].Behind != 0 || !lags[0].OldestDue.Equal(time.Unix(1_799_999_990, 0)) {
		t.Fatalf("lags after applying = %+v, %v; want none behind, oldest due at 1799999990", lags, err)
	}
	if _, err := e.DeleteTable("t"); err != nil {
		t.Fatal(err)
	}
	if ids, err := e.TTLIndexes(); err != nil || len(ids) != 0 {
		t.Errorf("expiry indexes after DeleteTable: %v, %v", ids, err)
	}
}
