package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// condFunc is a filter for tests.
type condFunc func(attr.Item) bool

func (f condFunc) Eval(item attr.Item) (bool, error) { return f(item), nil }

func openRelaxed(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(Options{Dir: t.TempDir(), Relaxed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// readTableDef is a table with partition key pk (S) and, unless skType is
// empty, sort key sk of that type.
func readTableDef(name, skType string) *catalog.Table {
	def := &catalog.Table{
		Name:                 name,
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
	}
	if skType != "" {
		def.KeySchema = append(def.KeySchema, catalog.KeyElement{Name: "sk", KeyType: "RANGE"})
		def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: "sk", Type: skType})
	}
	return def
}

// putAll writes items in batches of 25.
func putAll(t testing.TB, e *Engine, table string, items []attr.Item) {
	t.Helper()
	for len(items) > 0 {
		n := min(len(items), MaxBatchWrites)
		ops := make([]BatchWriteOp, n)
		for i, it := range items[:n] {
			ops[i] = BatchWriteOp{Table: table, Item: it}
		}
		if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
			t.Fatal(err)
		}
		items = items[n:]
	}
}

// randomSortKey draws a sort-key value of type typ: numbers with signs,
// fractions and exponents; strings and binaries with 0x00 bytes.
func randomSortKey(t testing.TB, r *rand.Rand, typ string) attr.Value {
	switch typ {
	case "N":
		var s string
		switch r.IntN(4) {
		case 0:
			s = strconv.Itoa(r.IntN(41) - 20)
		case 1:
			s = fmt.Sprintf("%d.%d", r.IntN(2001)-1000, r.IntN(1000))
		case 2:
			s = fmt.Sprintf("%dE%d", r.IntN(19)-9, r.IntN(80)-40)
		default:
			s = fmt.Sprintf("-0.%03d", r.IntN(1000))
		}
		return num(t, s)
	case "S":
		alphabet := []string{"\x00", "a", "ab", "b", "z", "é", "\x01"}
		var b strings.Builder
		for n := 1 + r.IntN(4); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return attr.S(b.String())
	default:
		alphabet := []byte{0x00, 0x01, 0x7f, 0xff}
		b := make([]byte, 1+r.IntN(4))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return attr.B(b)
	}
}

// modelMatch is the reference sort-key predicate, written from DynamoDB's
// definitions rather than from the key encoding.
func modelMatch(c *expr.KeyCond, v attr.Value) bool {
	if c == nil {
		return true
	}
	n := attr.Compare(v, c.Values[0])
	switch c.Op {
	case "=":
		return n == 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "BETWEEN":
		return n >= 0 && attr.Compare(v, c.Values[1]) <= 0
	case "begins_with":
		if v.T == attr.TypeS {
			return strings.HasPrefix(v.S, c.Values[0].S)
		}
		return bytes.HasPrefix(v.B, c.Values[0].B)
	}
	panic(c.Op)
}

func keyText(v attr.Value) string { return string(attr.AppendJSON(nil, v)) }

// skOf decodes the sort key of a returned item.
func skOf(t testing.TB, js []byte) attr.Value {
	t.Helper()
	var item attr.Item
	if err := item.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	return item["sk"]
}

// queryAll pages through a query with the given limit (0: one page) and
// returns the sort keys of the items returned, checking each page.
func queryAll(t *testing.T, e *Engine, req QueryRequest, limit int) []string {
	t.Helper()
	var out []string
	req.Limit = limit
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("query does not terminate")
		}
		res, err := e.Query(req)
		if err != nil {
			t.Fatal(err)
		}
		if limit > 0 && res.ScannedCount > limit {
			t.Fatalf("page scanned %d items, limit %d", res.ScannedCount, limit)
		}
		if res.Count != len(res.Items) || res.Count > res.ScannedCount {
			t.Fatalf("Count %d, %d items, ScannedCount %d", res.Count, len(res.Items), res.ScannedCount)
		}
		for _, js := range res.Items {
			out = append(out, keyText(skOf(t, js)))
		}
		if res.LastKey == nil {
			return out
		}
		if limit == 0 || res.ScannedCount != limit {
			t.Fatalf("LastKey after %d items, limit %d", res.ScannedCount, limit)
		}
		req.ExclusiveStart = res.LastKey
	}
}

func TestQueryModel(t *testing.T) {
	e := openRelaxed(t)
	r := rand.New(rand.NewPCG(1, 2))
	ops := []string{"=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"}
	for _, typ := range []string{"N", "S", "B"} {
		t.Run(typ, func(t *testing.T) {
			table := "q" + typ
			mustCreate(t, e, readTableDef(table, typ))
			// model: partition -> sort keys in DynamoDB's order
			model := map[string][]attr.Value{}
			var items []attr.Item
			for _, pk := range []string{"p0", "p1", "p2", "p3"} {
				seen := map[string]bool{}
				for range 40 + r.IntN(40) {
					sk := randomSortKey(t, r, typ)
					if seen[keyText(sk)] {
						continue
					}
					seen[keyText(sk)] = true
					model[pk] = append(model[pk], sk)
					items = append(items, attr.Item{"pk": attr.S(pk), "sk": sk, "v": num(t, strconv.Itoa(r.IntN(100)))})
				}
				slices.SortFunc(model[pk], attr.Compare)
			}
			putAll(t, e, table, items)
			for range 300 {
				pk := []string{"p0", "p1", "p2", "p3", "absent"}[r.IntN(5)]
				op := ops[r.IntN(len(ops))]
				if op == "begins_with" && typ == "N" {
					op = "="
				}
				pick := func() attr.Value {
					if ks := model[pk]; len(ks) > 0 && r.IntN(3) > 0 {
						return ks[r.IntN(len(ks))]
					}
					return randomSortKey(t, r, typ)
				}
				var c *expr.KeyCond
				switch op {
				case "BETWEEN":
					lo, hi := pick(), pick()
					if attr.Compare(lo, hi) > 0 {
						lo, hi = hi, lo
					}
					c = &expr.KeyCond{Name: "sk", Op: op, Values: []attr.Value{lo, hi}}
				case "begins_with":
					v := pick()
					if v.T == attr.TypeS {
						v = attr.S(v.S[:r.IntN(len(v.S)+1)])
					} else {
						v = attr.B(v.B[:r.IntN(len(v.B)+1)])
					}
					c = &expr.KeyCond{Name: "sk", Op: op, Values: []attr.Value{v}}
				default:
					c = &expr.KeyCond{Name: "sk", Op: op, Values: []attr.Value{pick()}}
				}
				if r.IntN(8) == 0 {
					c = nil
				}
				forward := r.IntN(2) == 0
				var want []string
				for _, sk := range model[pk] {
					if modelMatch(c, sk) {
						want = append(want, keyText(sk))
					}
				}
				if !forward {
					slices.Reverse(want)
				}
				req := QueryRequest{Table: table, Hash: attr.S(pk), Range: c, Forward: forward}
				name := fmt.Sprintf("pk=%s cond=%+v forward=%v", pk, c, forward)
				if got := queryAll(t, e, req, 0); !slices.Equal(got, want) {
					t.Fatalf("%s:\ngot  %q\nwant %q", name, got, want)
				}
				limit := 1 + r.IntN(7)
				if got := queryAll(t, e, req, limit); !slices.Equal(got, want) {
					t.Fatalf("%s limit %d:\ngot  %q\nwant %q", name, limit, got, want)
				}
				// A filter is applied after the limit: paging still returns
				// exactly the matching items.
				req.Filter = condFunc(func(it attr.Item) bool { return it["v"].N < "5" })
				var wantF []string
				for _, it := range items {
					if it["pk"].S == pk && modelMatch(c, it["sk"]) && it["v"].N < "5" {
						wantF = append(wantF, keyText(it["sk"]))
					}
				}
				gotF := queryAll(t, e, req, limit)
				slices.Sort(gotF)
				slices.Sort(wantF)
				if !slices.Equal(gotF, wantF) {
					t.Fatalf("%s filtered, limit %d:\ngot  %q\nwant %q", name, limit, gotF, wantF)
				}
			}
		})
	}
}

// scanKeys pages through a scan and returns the partition keys read (the
// table has no sort key), checking the pages.
func scanKeys(t *testing.T, e *Engine, req ScanRequest) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("scan does not terminate")
		}
		res, err := e.Scan(req)
		if err != nil {
			t.Fatal(err)
		}
		if req.Limit > 0 && res.ScannedCount > req.Limit {
			t.Fatalf("page scanned %d items, limit %d", res.ScannedCount, req.Limit)
		}
		for _, js := range res.Items {
			var item attr.Item
			if err := item.UnmarshalJSON(js); err != nil {
				t.Fatal(err)
			}
			out = append(out, item["pk"].S)
		}
		if res.LastKey == nil {
			return out
		}
		req.ExclusiveStart = res.LastKey
	}
}

func hashOf(pk string) uint64 {
	typ, canon := keycodec.Canonical(attr.S(pk))
	return uint64(shards.HashKey(shards.HashXX, typ, canon))
}

func TestScanSegments(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, readTableDef("s", ""))
	mustCreate(t, e, readTableDef("other", ""))
	var items []attr.Item
	var all []string
	for i := range 500 {
		pk := fmt.Sprintf("item-%d", i)
		all = append(all, pk)
		items = append(items, attr.Item{"pk": attr.S(pk)})
	}
	putAll(t, e, "s", items)
	putAll(t, e, "other", []attr.Item{{"pk": attr.S("elsewhere")}})
	slices.Sort(all)

	// A whole scan in hash order, paged with several limits.
	for _, limit := range []int{0, 1, 7, 100} {
		got := scanKeys(t, e, ScanRequest{Table: "s", Limit: limit})
		if !slices.IsSortedFunc(got, func(a, b string) int { return int(hashOf(a)) - int(hashOf(b)) }) {
			t.Errorf("limit %d: scan not in hash order", limit)
		}
		slices.Sort(got)
		if !slices.Equal(got, all) {
			t.Fatalf("limit %d: scan returned %d items, want %d", limit, len(got), len(all))
		}
	}

	// Parallel scans: the segments are disjoint and cover the table.
	for _, n := range []int{1, 2, 3, 4, 7, 16, 1000} {
		seen := map[string]int{}
		for seg := range n {
			for _, pk := range scanKeys(t, e, ScanRequest{Table: "s", Segment: seg, TotalSegments: n, Limit: 3}) {
				if prev, dup := seen[pk]; dup {
					t.Fatalf("n=%d: %s in segments %d and %d", n, pk, prev, seg)
				}
				seen[pk] = seg
			}
		}
		if len(seen) != len(all) {
			t.Fatalf("n=%d: segments hold %d items, want %d", n, len(seen), len(all))
		}
	}
	// With a million segments, check each item's neighbourhood: exactly one
	// segment around hash×n/2³² holds it.
	const n = MaxTotalSegments
	for _, pk := range all[:50] {
		guess := int(hashOf(pk) * n >> 32)
		found := 0
		for seg := max(guess-1, 0); seg <= min(guess+1, n-1); seg++ {
			if slices.Contains(scanKeys(t, e, ScanRequest{Table: "s", Segment: seg, TotalSegments: n}), pk) {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("%s found in %d segments of %d", pk, found, n)
		}
	}
}

func TestReadPageSize(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, readTableDef("big", "S"))
	payload := strings.Repeat("x", 100_000)
	var items []attr.Item
	size := 0
	for i := range 15 {
		it := attr.Item{"pk": attr.S("p"), "sk": attr.S(fmt.Sprintf("%02d", i)), "payload": attr.S(payload)}
		size = attr.ItemSize(it)
		items = append(items, it)
	}
	putAll(t, e, "big", items)
	// The page ends with the item that brings the size read to 1 MB.
	want := (MaxPageBytes + size - 1) / size
	for _, consistent := range []bool{true, false} {
		res, err := e.Query(QueryRequest{Table: "big", Hash: attr.S("p"), Forward: true, Consistent: consistent})
		if err != nil {
			t.Fatal(err)
		}
		if res.ScannedCount != want || len(res.Items) != want || res.LastKey == nil {
			t.Fatalf("page of %d items (%d scanned), LastKey %v; want %d and a key", len(res.Items), res.ScannedCount, res.LastKey, want)
		}
		if got := res.LastKey["sk"].S; got != fmt.Sprintf("%02d", want-1) {
			t.Errorf("LastKey sk %q", got)
		}
		// One unit per 4 KB of the whole page, rounded up once.
		units := float64((want*size + 4095) / 4096)
		if !consistent {
			units /= 2
		}
		if res.Capacity.Read != units {
			t.Errorf("consistent=%v: %v read units, want %v", consistent, res.Capacity.Read, units)
		}
		next, err := e.Query(QueryRequest{Table: "big", Hash: attr.S("p"), Forward: true, ExclusiveStart: res.LastKey})
		if err != nil {
			t.Fatal(err)
		}
		if next.ScannedCount != 15-want || next.LastKey != nil {
			t.Fatalf("second page: %d items, LastKey %v", next.ScannedCount, next.LastKey)
		}
	}
	// Scan pages the same way, and a filter does not change what is read.
	res, err := e.Scan(ScanRequest{Table: "big", Filter: condFunc(func(attr.Item) bool { return false })})
	if err != nil {
		t.Fatal(err)
	}
	if res.ScannedCount != want || res.Count != 0 || res.Items != nil || res.LastKey == nil {
		t.Fatalf("filtered scan: %+v", res)
	}
}

func TestReadCountAndProjection(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, readTableDef("t", "N"))
	putAll(t, e, "t", []attr.Item{
		{"pk": attr.S("a"), "sk": num(t, "1"), "x": attr.S("keep"), "y": attr.S("drop")},
		{"pk": attr.S("a"), "sk": num(t, "2"), "x": attr.S("keep"), "y": attr.S("drop")},
	})
	res, err := e.Query(QueryRequest{Table: "t", Hash: attr.S("a"), Forward: true, CountOnly: true})
	if err != nil || res.Count != 2 || res.ScannedCount != 2 || res.Items != nil {
		t.Fatalf("count only: %+v, %v", res, err)
	}
	pr, err := expr.ParseProjection("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.Query(QueryRequest{Table: "t", Hash: attr.S("a"), Forward: true, Projection: pr, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || string(res.Items[0]) != `{"x":{"S":"keep"}}` {
		t.Fatalf("projected: %q", res.Items)
	}
	if got := string(attr.AppendItemJSON(nil, res.LastKey)); got != `{"pk":{"S":"a"},"sk":{"N":"1"}}` {
		t.Errorf("LastKey %s", got)
	}
	// Limit reached on the last item still gives a LastKey, as DynamoDB.
	res, err = e.Query(QueryRequest{Table: "t", Hash: attr.S("a"), Forward: false, Limit: 2})
	if err != nil || res.LastKey == nil || res.LastKey["sk"].N != "1" {
		t.Fatalf("limit on the last item: %+v, %v", res, err)
	}
}

func TestReadStartKeyErrors(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, readTableDef("t", "S"))
	putAll(t, e, "t", []attr.Item{{"pk": attr.S("a"), "sk": attr.S("m")}})
	gt := &expr.KeyCond{Name: "sk", Op: ">", Values: []attr.Value{attr.S("k")}}
	for _, tc := range []struct {
		name  string
		query *QueryRequest
		scan  *ScanRequest
		want  string
	}{
		{"query wrong attribute", &QueryRequest{ExclusiveStart: attr.Item{"bad": attr.S("p")}}, nil, "The provided starting key is invalid"},
		{"query missing sort key", &QueryRequest{ExclusiveStart: attr.Item{"pk": attr.S("a")}}, nil, "The provided starting key is invalid"},
		{"query wrong type", &QueryRequest{ExclusiveStart: attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}}, nil, "The provided starting key is invalid"},
		{"query empty key", &QueryRequest{ExclusiveStart: attr.Item{"pk": attr.S("a"), "sk": attr.S("")}}, nil,
			"The provided starting key is invalid: One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk"},
		{"query other partition", &QueryRequest{ExclusiveStart: attr.Item{"pk": attr.S("b"), "sk": attr.S("m")}}, nil,
			"The provided starting key is outside query boundaries based on provided conditions"},
		{"query outside range", &QueryRequest{Range: gt, ExclusiveStart: attr.Item{"pk": attr.S("a"), "sk": attr.S("a")}}, nil,
			"The provided starting key does not match the range key predicate"},
		{"scan wrong attribute", nil, &ScanRequest{ExclusiveStart: attr.Item{"bad": attr.S("p")}},
			"The provided starting key is invalid: The provided key element does not match the schema"},
		{"scan other segment", nil, &ScanRequest{TotalSegments: 4, Segment: int(hashOf("a")*4>>32+1) % 4, ExclusiveStart: attr.Item{"pk": attr.S("a"), "sk": attr.S("m")}},
			"The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: 4 Segment: " +
				strconv.Itoa(int(hashOf("a")*4>>32+1)%4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.query != nil {
				q := *tc.query
				q.Table, q.Hash, q.Forward = "t", attr.S("a"), true
				_, err = e.Query(q)
			} else {
				s := *tc.scan
				s.Table = "t"
				_, err = e.Scan(s)
			}
			var ae *attr.Error
			if !errors.As(err, &ae) || !errors.Is(err, attr.ErrValidation) || ae.Msg != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := e.Query(QueryRequest{Table: "missing", Hash: attr.S("a")}); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("missing table: %v", err)
	}
	if _, err := e.Scan(ScanRequest{Table: "missing"}); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("missing table: %v", err)
	}
}

// BenchmarkQuery100 reads a page of 100 items of about 200 bytes.
func BenchmarkQuery100(b *testing.B) {
	e := openRelaxed(b)
	if _, err := e.CreateTable(readTableDef("bench", "N")); err != nil {
		b.Fatal(err)
	}
	var items []attr.Item
	for i := range 100 {
		items = append(items, attr.Item{
			"pk": attr.S("user-1"), "sk": num(b, strconv.Itoa(i)),
			"name": attr.S(strings.Repeat("n", 100)), "count": num(b, strconv.Itoa(i*7)),
		})
	}
	putAll(b, e, "bench", items)
	req := QueryRequest{Table: "bench", Hash: attr.S("user-1"), Forward: true}
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.Query(req)
		if err != nil || res.Count != 100 {
			b.Fatal(res.Count, err)
		}
	}
}
