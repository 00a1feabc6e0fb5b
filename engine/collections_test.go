package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// collectionModel recomputes, from a full read of the table's items, every
// item collection's size and every LSI's counters, as the engine must keep
// them.
func collectionModel(t *testing.T, e *Engine, def *catalog.Table) (colls map[string]int64, lsis []IndexStats, tableBytes int64) {
	t.Helper()
	colls = map[string]int64{}
	lsis = make([]IndexStats, len(def.LSIs))
	p := keycodec.TablePrefix(def.ID)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, _ := it.Value()
		size, js, err := decodeStored(v)
		if err != nil {
			t.Fatal(err)
		}
		var item attr.Item
		if err := item.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		pk := item["pk"].S
		colls[pk] += int64(size)
		tableBytes += int64(size)
		for i, ix := range def.LSIs {
			if _, ok := item[lsiSortKey(ix)]; !ok {
				continue
			}
			n := int64(attr.ItemSize(lsiProject(def, ix, item)))
			colls[pk] += n
			lsis[i].Items++
			lsis[i].Bytes += n
		}
	}
	return colls, lsis, tableBytes
}

// checkCollections compares the engine's collection records and LSI
// counters with the model, and checks that no record is left for an empty
// collection.
func checkCollections(t *testing.T, e *Engine, name string) {
	t.Helper()
	in, err := e.DescribeTable(name)
	if err != nil {
		t.Fatal(err)
	}
	def := in.Table
	colls, lsis, tableBytes := collectionModel(t, e, def)
	var sum int64
	for pk, want := range colls {
		kp, err := e.itemKey(def, attr.Item{"pk": attr.S(pk), "sk": attr.S("x")}, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.storedCollectionSize(collectionKey(def, kp))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("collection %q: stored size %d, model %d", pk, got, want)
		}
		sum += want
	}
	p := keycodec.IndexPrefix(def.ID, collectionIndex)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for ok := it.First(); ok; ok = it.Next() {
		records++
	}
	it.Close()
	if records != len(colls) {
		t.Errorf("%d collection records, %d non-empty collections", records, len(colls))
	}
	var idx int64
	for i, ix := range def.LSIs {
		if got := in.LSIs[ix.Name]; got != lsis[i] {
			t.Errorf("LSI %s: counters %+v, model %+v", ix.Name, got, lsis[i])
		}
		idx += lsis[i].Bytes
	}
	if in.SizeBytes != tableBytes || sum != tableBytes+idx {
		t.Errorf("table bytes %d (model %d); collections sum to %d, table plus LSIs %d", in.SizeBytes, tableBytes, sum, tableBytes+idx)
	}
}

// TestItemCollectionModel runs random puts, updates, deletes, batches and
// transactions from concurrent writers on a table with LSIs, then checks
// every collection's size and every LSI's counters against a model
// recomputed from the items, again after a reopen, and that DeleteTable
// drops them.
func TestItemCollectionModel(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Options{Dir: dir, Relaxed: true})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, lsiTableDef("c"))
	pks := []string{"a", "b", "c", "d", "e"}
	randItem := func(r *rand.Rand) attr.Item {
		it := attr.Item{"pk": attr.S(pks[r.IntN(len(pks))]), "sk": attr.S(fmt.Sprint(r.IntN(8)))}
		if r.IntN(3) > 0 {
			it["rank"] = num(t, fmt.Sprint(r.IntN(100)))
		}
		if r.IntN(2) == 0 {
			it["note"] = attr.S(strings.Repeat("n", r.IntN(300)))
		}
		if r.IntN(2) == 0 {
			it["pad"] = attr.S(strings.Repeat("p", r.IntN(2000)))
		}
		return it
	}
	keyOf := func(it attr.Item) attr.Item { return attr.Item{"pk": it["pk"], "sk": it["sk"]} }
	updates := []struct{ expr, values string }{
		{"SET #r = :v", `{":v":{"N":"7"}}`},
		{"REMOVE #r", ``},
		{"SET note = :n", `{":n":{"S":"changed note"}}`},
		{"SET #p = :p", `{":p":{"S":"` + strings.Repeat("q", 700) + `"}}`},
		{"REMOVE #p, note", ``},
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 150 {
				var err error
				switch r.IntN(5) {
				case 0:
					_, err = e.PutItem(PutRequest{Table: "c", Item: randItem(r)})
				case 1:
					u := updates[r.IntN(len(updates))]
					upd := parseUpdateNames(t, u.expr, u.values)
					_, err = e.UpdateItem(UpdateRequest{Table: "c", Key: keyOf(randItem(r)), Update: upd})
				case 2:
					_, err = e.DeleteItem(DeleteRequest{Table: "c", Key: keyOf(randItem(r))})
				case 3:
					seen := map[string]bool{}
					var ops []BatchWriteOp
					for range 1 + r.IntN(5) {
						it := randItem(r)
						k := it["pk"].S + "/" + it["sk"].S
						if seen[k] {
							continue
						}
						seen[k] = true
						if r.IntN(3) == 0 {
							ops = append(ops, BatchWriteOp{Table: "c", Key: keyOf(it)})
						} else {
							ops = append(ops, BatchWriteOp{Table: "c", Item: it})
						}
					}
					_, err = e.BatchWrite(BatchWriteRequest{Ops: ops})
				case 4:
					seen := map[string]bool{}
					var acts []TxWrite
					for range 1 + r.IntN(4) {
						it := randItem(r)
						k := it["pk"].S + "/" + it["sk"].S
						if seen[k] {
							continue
						}
						seen[k] = true
						switch r.IntN(3) {
						case 0:
							acts = append(acts, TxWrite{Kind: TxPut, Table: "c", Item: it})
						case 1:
							acts = append(acts, TxWrite{Kind: TxDelete, Table: "c", Key: keyOf(it)})
						default:
							u := updates[r.IntN(len(updates))]
							acts = append(acts, TxWrite{Kind: TxUpdate, Table: "c", Key: keyOf(it), Update: parseUpdateNames(t, u.expr, u.values)})
						}
					}
					_, err = e.TransactWrite(TransactWriteRequest{Actions: acts})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	checkCollections(t, e, "c")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir)
	checkCollections(t, e, "c")

	in, _ := e.DescribeTable("c")
	if _, err := e.DeleteTable("c"); err != nil {
		t.Fatal(err)
	}
	p := keycodec.IndexTablePrefix(in.ID)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		t.Fatal(err)
	}
	if it.First() {
		t.Errorf("DeleteTable left index key %x", it.Key())
	}
	it.Close()
	for i := range in.Table.LSIs {
		if _, err := e.db.Get(lsiStatsKey(in.ID, i)); err == nil {
			t.Errorf("DeleteTable left LSI %d's counters", i)
		}
	}
	again := mustCreate(t, e, lsiTableDef("c"))
	for name, s := range again.LSIs {
		if s != (IndexStats{}) {
			t.Errorf("re-created table's LSI %s starts at %+v", name, s)
		}
	}
}

// parseUpdateNames parses an update whose expression says #r for rank and
// #p for pad (reserved words), with values as DynamoDB JSON.
func parseUpdateNames(t testing.TB, s, values string) Updater {
	t.Helper()
	if values == "" {
		values = "{}"
	}
	var vals attr.Item
	if err := vals.UnmarshalJSON([]byte(values)); err != nil {
		t.Fatal(err)
	}
	names := expr.Names{}
	for _, n := range []string{"#r", "#p"} {
		if strings.Contains(s, n) {
			names[n] = map[string]string{"#r": "rank", "#p": "pad"}[n]
		}
	}
	u, err := expr.ParseUpdate(s, names, expr.Values(vals))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestItemCollectionLimit checks that a write taking an item collection past
// the limit is refused whole with ErrItemCollectionTooLarge (a transaction
// with the action's cancellation reason), changes nothing, and that
// shrinking writes and other collections go on.
func TestItemCollectionLimit(t *testing.T) {
	e, err := Open(Options{Dir: t.TempDir(), Relaxed: true, ItemCollectionLimit: 4000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	mustCreate(t, e, lsiTableDef("c"))
	pad := func(n int) attr.Value { return attr.S(strings.Repeat("x", n)) }
	// Item "1": 1000-byte pad with rank: counted in the table and in the
	// "all" LSI (~2 x 1020 bytes).
	if _, err := e.PutItem(PutRequest{Table: "c", Item: attr.Item{"pk": attr.S("p"), "sk": attr.S("1"), "rank": num(t, "1"), "pad": pad(1000)}}); err != nil {
		t.Fatal(err)
	}
	size := func(pk string) int64 {
		kp, _ := e.itemKey(e.mustDef(t, "c"), attr.Item{"pk": attr.S(pk), "sk": attr.S("x")}, true)
		n, err := e.storedCollectionSize(collectionKey(e.mustDef(t, "c"), kp))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size("p")
	big := attr.Item{"pk": attr.S("p"), "sk": attr.S("2"), "rank": num(t, "2"), "pad": pad(1000)}
	tooBig := func(err error) bool { return errors.Is(err, ErrItemCollectionTooLarge) }
	for _, tc := range []struct {
		name string
		op   func() error
		ok   func(error) bool
	}{
		{"put", func() error { _, err := e.PutItem(PutRequest{Table: "c", Item: big}); return err }, tooBig},
		{"update", func() error {
			_, err := e.UpdateItem(UpdateRequest{Table: "c", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S("1")},
				Update: parseUpdate(t, "SET more = :m", `{":m":{"S":"`+strings.Repeat("m", 1000)+`"}}`)})
			return err
		}, tooBig},
		{"batch", func() error {
			_, err := e.BatchWrite(BatchWriteRequest{Ops: []BatchWriteOp{{Table: "c", Item: attr.Item{"pk": attr.S("q"), "sk": attr.S("1")}}, {Table: "c", Item: big}}})
			return err
		}, tooBig},
		{"transaction", func() error {
			_, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
				{Kind: TxPut, Table: "c", Item: attr.Item{"pk": attr.S("q"), "sk": attr.S("1")}},
				{Kind: TxPut, Table: "c", Item: big},
			}})
			var tc *TransactionCanceledError
			if !errors.As(err, &tc) {
				return fmt.Errorf("not cancelled: %v", err)
			}
			if tc.Reasons[0].Code != reasonNone || tc.Reasons[1].Code != "ItemCollectionSizeLimitExceeded" || tc.Reasons[1].Message != MsgCollectionSizeExceeded {
				return fmt.Errorf("reasons %+v", tc.Reasons)
			}
			return nil
		}, func(err error) bool { return err == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !tc.ok(err) {
				t.Fatalf("got %v", err)
			}
			if got := size("p"); got != before {
				t.Fatalf("collection p is %d bytes, was %d", got, before)
			}
			if got := size("q"); got != 0 {
				t.Fatalf("collection q is %d bytes after a refused request", got)
			}
		})
	}
	// Within the limit, and shrinking, writes go on; another collection
	// has its own budget.
	small := attr.Item{"pk": attr.S("p"), "sk": attr.S("3"), "pad": pad(100)}
	res, err := e.PutItem(PutRequest{Table: "c", Item: small})
	if err != nil {
		t.Fatal(err)
	}
	if res.Collection == nil || res.Collection.Size != size("p") || res.Collection.Key["pk"].S != "p" {
		t.Fatalf("collection metric %+v, stored %d", res.Collection, size("p"))
	}
	if _, err := e.PutItem(PutRequest{Table: "c", Item: big}); !tooBig(err) {
		t.Fatalf("still over: %v", err)
	}
	if _, err := e.UpdateItem(UpdateRequest{Table: "c", Key: attr.Item{"pk": attr.S("p"), "sk": attr.S("1")}, Update: parseUpdateNames(t, "REMOVE #p", "")}); err != nil {
		t.Fatalf("shrinking: %v", err)
	}
	if _, err := e.PutItem(PutRequest{Table: "c", Item: big}); err != nil {
		t.Fatalf("after shrinking: %v", err)
	}
	big["pk"] = attr.S("r")
	if _, err := e.PutItem(PutRequest{Table: "c", Item: big}); err != nil {
		t.Fatalf("other collection: %v", err)
	}
	checkCollections(t, e, "c")
}

func (e *Engine) mustDef(t testing.TB, name string) *catalog.Table {
	t.Helper()
	def, ok := e.TableDef(name)
	if !ok {
		t.Fatalf("no table %q", name)
	}
	return def
}

func TestSizeEstimateRangeGB(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want [2]float64
	}{
		{0, [2]float64{0, 1}},
		{1<<30 - 1, [2]float64{0, 1}},
		{1 << 30, [2]float64{1, 2}},
		{10<<30 - 1, [2]float64{9, 10}},
	} {
		if got := SizeEstimateRangeGB(tc.size); got != tc.want {
			t.Errorf("%d bytes: %v, want %v", tc.size, got, tc.want)
		}
	}
}

// TestIndexCapacity checks the per-index write units of each kind of write
// against DynamoDB Local's answers for the same requests (a table with an
// ALL and a KEYS_ONLY LSI on l, and the same two GSIs on g).
func TestIndexCapacity(t *testing.T) {
	e := openRelaxed(t)
	def := readTableDef("t", "S")
	def.AttributeDefinitions = append(def.AttributeDefinitions,
		catalog.AttributeDefinition{Name: "l", Type: "S"}, catalog.AttributeDefinition{Name: "g", Type: "S"})
	ix := func(name, key, keyType, proj string) catalog.Index {
		ks := []catalog.KeyElement{{Name: key, KeyType: keyType}}
		if keyType == "RANGE" {
			ks = append([]catalog.KeyElement{{Name: "pk", KeyType: "HASH"}}, ks...)
		}
		return catalog.Index{Name: name, KeySchema: ks, Projection: catalog.Projection{Type: proj}}
	}
	def.LSIs = []catalog.Index{ix("lsiAll", "l", "RANGE", "ALL"), ix("lsiKeys", "l", "RANGE", "KEYS_ONLY")}
	def.GSIs = []catalog.Index{ix("gsiAll", "g", "HASH", "ALL"), ix("gsiKeys", "g", "HASH", "KEYS_ONLY")}
	mustCreate(t, e, def)
	units := func(c Capacity) map[string]float64 {
		m := map[string]float64{"table": c.Read + c.Write}
		for _, x := range c.Indexes {
			m[x.Name] = x.Read + x.Write
		}
		return m
	}
	key := attr.Item{"pk": attr.S("a"), "sk": attr.S("1")}
	item := attr.Item{"pk": attr.S("a"), "sk": attr.S("1"), "l": attr.S("x"), "g": attr.S("y"), "v": attr.S("hello")}
	update := func(s, values string) func() (Capacity, error) {
		return func() (Capacity, error) {
			r, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key, Update: parseUpdate(t, s, values), IndexUnits: true})
			return r.Capacity, err
		}
	}
	put := func(it attr.Item) func() (Capacity, error) {
		return func() (Capacity, error) {
			r, err := e.PutItem(PutRequest{Table: "t", Item: it.Clone(), IndexUnits: true})
			return r.Capacity, err
		}
	}
	del := func(k attr.Item) func() (Capacity, error) {
		return func() (Capacity, error) {
			r, err := e.DeleteItem(DeleteRequest{Table: "t", Key: k, IndexUnits: true})
			return r.Capacity, err
		}
	}
	big := item.Clone()
	big["sk"], big["v"] = attr.S("2"), attr.S(strings.Repeat("x", 3000))
	for _, tc := range []struct {
		name string
		op   func() (Capacity, error)
		want map[string]float64
	}{
		{"insert", put(item), map[string]float64{"table": 1, "lsiAll": 1, "lsiKeys": 1, "gsiAll": 1, "gsiKeys": 1}},
		{"unchanged", put(item), map[string]float64{"table": 1}},
		{"projected attribute", update("SET v = :v", `{":v":{"S":"bye"}}`), map[string]float64{"table": 1, "lsiAll": 1, "gsiAll": 1}},
		{"LSI key", update("SET l = :v", `{":v":{"S":"z"}}`), map[string]float64{"table": 1, "lsiAll": 2, "lsiKeys": 2, "gsiAll": 1}},
		{"GSI key removed", update("REMOVE g", ``), map[string]float64{"table": 1, "lsiAll": 1, "gsiAll": 1, "gsiKeys": 1}},
		{"GSI key added", update("SET g = :v", `{":v":{"S":"q"}}`), map[string]float64{"table": 1, "lsiAll": 1, "gsiAll": 1, "gsiKeys": 1}},
		{"delete", del(key), map[string]float64{"table": 1, "lsiAll": 1, "lsiKeys": 1, "gsiAll": 1, "gsiKeys": 1}},
		{"delete missing", del(key), map[string]float64{"table": 1}},
		// 3,011 bytes: LSI entries count 100 bytes more (4 KB), GSI entries not.
		{"big insert", put(big), map[string]float64{"table": 3, "lsiAll": 4, "lsiKeys": 1, "gsiAll": 3, "gsiKeys": 1}},
		{"transaction", func() (Capacity, error) {
			r, err := e.TransactWrite(TransactWriteRequest{IndexUnits: true, Actions: []TxWrite{
				{Kind: TxPut, Table: "t", Item: item.Clone()},
				{Kind: TxCheck, Table: "t", Key: attr.Item{"pk": attr.S("a"), "sk": attr.S("2")}, Cond: condFunc(func(attr.Item) bool { return true })},
			}})
			if err != nil {
				return Capacity{}, err
			}
			return r.Capacity[0], nil
		}, // twice the put's units, and twice 3 for checking the big item
			map[string]float64{"table": 8, "lsiAll": 2, "lsiKeys": 2, "gsiAll": 2, "gsiKeys": 2}},
		{"batch", func() (Capacity, error) {
			r, err := e.BatchWrite(BatchWriteRequest{IndexUnits: true, Ops: []BatchWriteOp{
				{Table: "t", Key: key}, {Table: "t", Item: attr.Item{"pk": attr.S("b"), "sk": attr.S("1"), "g": attr.S("y")}},
			}})
			if err != nil {
				return Capacity{}, err
			}
			return r.Capacity[0], nil
		}, map[string]float64{"table": 2, "lsiAll": 1, "lsiKeys": 1, "gsiAll": 2, "gsiKeys": 2}},
		{"query LSI", func() (Capacity, error) {
			r, err := e.Query(QueryRequest{Table: "t", Index: "lsiAll", Hash: attr.S("a"), Forward: true})
			return r.Capacity, err
		}, map[string]float64{"table": 0, "lsiAll": 0.5}},
		{"query LSI with fetches", func() (Capacity, error) {
			r, err := e.Query(QueryRequest{Table: "t", Index: "lsiKeys", Hash: attr.S("a"), Forward: true, Fetch: true, Consistent: true})
			return r.Capacity, err
		}, map[string]float64{"table": 1, "lsiKeys": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.op()
			if err != nil {
				t.Fatal(err)
			}
			got := units(c)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("units %v, want %v", got, tc.want)
			}
			var total float64
			for _, u := range tc.want {
				total += u
			}
			if c.Units() != total {
				t.Fatalf("total %v, want %v", c.Units(), total)
			}
		})
	}
	// Without IndexUnits, a table without LSIs decodes nothing for its GSIs
	// and charges the table alone.
	r, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S("c"), "sk": attr.S("1"), "g": attr.S("y")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := units(r.Capacity); fmt.Sprint(got) != fmt.Sprint(map[string]float64{"table": 1}) {
		t.Fatalf("without IndexUnits: %v", got)
	}
}
