package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// lsiTableDef is a table pk (S), sk (S) with LSIs on "rank" (N): all of
// the item, keys only, and INCLUDE "note".
func lsiTableDef(name string) *catalog.Table {
	def := readTableDef(name, "S")
	def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: "rank", Type: "N"})
	idx := func(name, typ string, include ...string) catalog.Index {
		return catalog.Index{
			Name:       name,
			KeySchema:  []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}, {Name: "rank", KeyType: "RANGE"}},
			Projection: catalog.Projection{Type: typ, NonKeyAttributes: include},
		}
	}
	def.LSIs = []catalog.Index{idx("all", "ALL"), idx("keys", "KEYS_ONLY"), idx("incl", "INCLUDE", "note")}
	return def
}

// indexEntries returns the JSON of every entry of LSI n of table id, in key
// order.
func indexEntries(t *testing.T, e *Engine, id uint32, n uint8) []string {
	t.Helper()
	p := keycodec.IndexPrefix(id, n)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		v, _ := it.Value()
		_, js, err := decodeStored(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(js))
	}
	return out
}

// TestLSIMaintenance checks that every kind of write keeps the entries of
// every LSI: puts, updates that move or drop the index key, deletes, batch
// writes and transactions; items without the index key have no entry.
func TestLSIMaintenance(t *testing.T) {
	e := openRelaxed(t)
	info := mustCreate(t, e, lsiTableDef("t"))
	item := func(sk string, rank string, note string) attr.Item {
		it := attr.Item{"pk": attr.S("p"), "sk": attr.S(sk), "other": attr.S("x")}
		if rank != "" {
			it["rank"] = num(t, rank)
		}
		if note != "" {
			it["note"] = attr.S(note)
		}
		return it
	}
	for _, it := range []attr.Item{item("a", "3", "n-a"), item("b", "1", ""), item("c", "", "n-c")} {
		if _, err := e.PutItem(PutRequest{Table: "t", Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, all, keys, incl []string) {
		t.Helper()
		for n, w := range [][]string{all, keys, incl} {
			if got := indexEntries(t, e, info.ID, uint8(n)); !slices.Equal(got, w) {
				t.Fatalf("%s: index %d entries\n got %q\nwant %q", step, n, got, w)
			}
		}
	}
	want("puts",
		[]string{`{"other":{"S":"x"},"pk":{"S":"p"},"rank":{"N":"1"},"sk":{"S":"b"}}`, `{"note":{"S":"n-a"},"other":{"S":"x"},"pk":{"S":"p"},"rank":{"N":"3"},"sk":{"S":"a"}}`},
		[]string{`{"pk":{"S":"p"},"rank":{"N":"1"},"sk":{"S":"b"}}`, `{"pk":{"S":"p"},"rank":{"N":"3"},"sk":{"S":"a"}}`},
		[]string{`{"pk":{"S":"p"},"rank":{"N":"1"},"sk":{"S":"b"}}`, `{"note":{"S":"n-a"},"pk":{"S":"p"},"rank":{"N":"3"},"sk":{"S":"a"}}`})

	upd := func(sk, s string, values attr.Item) {
		t.Helper()
		u, err := expr.ParseUpdate(s, expr.Names{"#r": "rank"}, expr.Values(values))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S(sk)}, Update: u}); err != nil {
			t.Fatal(err)
		}
	}
	upd("a", "SET #r = :r", attr.Item{":r": num(t, "0")}) // moves a's entry first
	upd("b", "REMOVE #r", nil)                            // drops b from the indexes
	upd("c", "SET #r = :r", attr.Item{":r": num(t, "5")}) // adds c
	keys := indexEntries(t, e, info.ID, 1)
	if len(keys) != 2 || !strings.Contains(keys[0], `"sk":{"S":"a"}`) || !strings.Contains(keys[1], `"sk":{"S":"c"}`) {
		t.Fatalf("after updates: %q", keys)
	}
	if _, err := e.BatchWrite(BatchWriteRequest{Ops: []BatchWriteOp{
		{Table: "t", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S("a")}},
		{Table: "t", Item: item("d", "2", "")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
		{Kind: TxDelete, Table: "t", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S("c")}},
		{Kind: TxPut, Table: "t", Item: item("e", "9", "n-e")},
	}}); err != nil {
		t.Fatal(err)
	}
	want("batch and transaction",
		[]string{`{"other":{"S":"x"},"pk":{"S":"p"},"rank":{"N":"2"},"sk":{"S":"d"}}`, `{"note":{"S":"n-e"},"other":{"S":"x"},"pk":{"S":"p"},"rank":{"N":"9"},"sk":{"S":"e"}}`},
		[]string{`{"pk":{"S":"p"},"rank":{"N":"2"},"sk":{"S":"d"}}`, `{"pk":{"S":"p"},"rank":{"N":"9"},"sk":{"S":"e"}}`},
		[]string{`{"pk":{"S":"p"},"rank":{"N":"2"},"sk":{"S":"d"}}`, `{"note":{"S":"n-e"},"pk":{"S":"p"},"rank":{"N":"9"},"sk":{"S":"e"}}`})
	if _, err := e.DeleteTable("t"); err != nil {
		t.Fatal(err)
	}
	want("dropped", nil, nil, nil)
}

// TestLSIQuery reads through an LSI: index order with ties broken by the
// table's sort key, key conditions, paging by LastKey in both directions,
// projections and fetching unprojected attributes, and Scan.
func TestLSIQuery(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, lsiTableDef("q"))
	var items []attr.Item
	for i := range 30 {
		items = append(items, attr.Item{
			"pk": attr.S("p"), "sk": attr.S(fmt.Sprintf("s%02d", i)),
			"rank": num(t, fmt.Sprint(i%10)), "note": attr.S(fmt.Sprint("n", i)), "other": attr.S("x"),
		})
	}
	items = append(items, attr.Item{"pk": attr.S("p"), "sk": attr.S("norank")}) // sparse
	putAll(t, e, "q", items)

	read := func(req QueryRequest) (keys []string, pages int) {
		t.Helper()
		for {
			res, err := e.Query(req)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, js := range res.Items {
				var it attr.Item
				if err := it.UnmarshalJSON(js); err != nil {
					t.Fatal(err)
				}
				keys = append(keys, fmt.Sprintf("%s/%s", it["rank"].N, it["sk"].S))
			}
			if res.LastKey == nil {
				return keys, pages
			}
			if _, ok := res.LastKey["rank"]; !ok || len(res.LastKey) != 3 {
				t.Fatalf("LastKey %v lacks the index key", res.LastKey)
			}
			req.ExclusiveStart = res.LastKey
		}
	}
	keys, pages := read(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true, Limit: 7})
	if len(keys) != 30 || pages != 5 || keys[0] != "0/s00" || keys[1] != "0/s10" || keys[2] != "0/s20" || keys[29] != "9/s29" {
		t.Fatalf("index order, %d pages: %v", pages, keys)
	}
	back, _ := read(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Limit: 4})
	slices.Reverse(back)
	if !slices.Equal(back, keys) {
		t.Fatalf("backwards: %v", back)
	}
	for _, tc := range []struct {
		op     string
		values []string
		want   int
	}{{"=", []string{"3"}, 3}, {"<", []string{"3"}, 9}, {"<=", []string{"3"}, 12}, {">", []string{"8"}, 3}, {">=", []string{"8"}, 6}, {"BETWEEN", []string{"2", "4"}, 9}} {
		c := &expr.KeyCond{Op: tc.op}
		for _, v := range tc.values {
			c.Values = append(c.Values, num(t, v))
		}
		got, _ := read(QueryRequest{Table: "q", Index: "all", Hash: attr.S("p"), Forward: true, Range: c, Limit: 2})
		if len(got) != tc.want {
			t.Errorf("rank %s %v: %d items, want %d (%v)", tc.op, tc.values, len(got), tc.want, got)
		}
	}
	res, err := e.Query(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true, Limit: 1})
	if err != nil || strings.Contains(string(res.Items[0]), "other") {
		t.Fatalf("KEYS_ONLY read: %s, %v", res.Items, err)
	}
	res, err = e.Query(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true, Limit: 1, Fetch: true})
	if err != nil || !strings.Contains(string(res.Items[0]), `"other":{"S":"x"}`) {
		t.Fatalf("fetching from the table: %s, %v", res.Items, err)
	}
	sres, err := e.Scan(ScanRequest{Table: "q", Index: "incl"})
	if err != nil || sres.Count != 30 || !strings.Contains(string(sres.Items[0]), `"note"`) || strings.Contains(string(sres.Items[0]), "other") {
		t.Fatalf("scan of an INCLUDE index: %d items, %v", sres.Count, err)
	}
	seg, err := e.Scan(ScanRequest{Table: "q", Index: "incl", Limit: 10})
	if err != nil || seg.LastKey == nil {
		t.Fatalf("scan page: %+v, %v", seg.LastKey, err)
	}
	rest, err := e.Scan(ScanRequest{Table: "q", Index: "incl", ExclusiveStart: seg.LastKey})
	if err != nil || rest.Count != 20 {
		t.Fatalf("scan from LastKey: %d items, %v", rest.Count, err)
	}
}
