package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// batchRecorder keeps each change-log delivery as one batch.
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]Change
}

func (r *batchRecorder) add(cs []Change) {
	r.mu.Lock()
	r.batches = append(r.batches, append([]Change(nil), cs...))
	r.mu.Unlock()
}

func (r *batchRecorder) all() [][]Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]Change(nil), r.batches...)
}

func put(table string, item attr.Item) BatchWriteOp { return BatchWriteOp{Table: table, Item: item} }
func del(table string, key attr.Item) BatchWriteOp  { return BatchWriteOp{Table: table, Key: key} }

func getItem(t *testing.T, e *Engine, table string, key attr.Item) string {
	t.Helper()
	res, err := e.GetItem(GetRequest{Table: table, Key: key, Consistent: true})
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Item)
}

// TestBatchWriteAtomic checks that a batch is one commit: every change is
// delivered in one change-log batch with dense sequence numbers, unchanged
// puts and deletes of absent items record nothing, and capacity is per table.
func TestBatchWriteAtomic(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	if _, err := e.PutItem(PutRequest{Table: "h", Item: attr.Item{"pk": attr.S("old"), "v": attr.S("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutItem(PutRequest{Table: "h", Item: attr.Item{"pk": attr.S("same"), "v": attr.S("x")}}); err != nil {
		t.Fatal(err)
	}
	var rec batchRecorder
	defer e.ChangeLog().Subscribe(rec.add)()

	ops := []BatchWriteOp{
		del("h", attr.Item{"pk": attr.S("old")}),                                         // REMOVE
		put("h", attr.Item{"pk": attr.S("same"), "v": attr.S("x")}),                      // unchanged: no record
		del("h", attr.Item{"pk": attr.S("absent")}),                                      // nothing to delete: no record
		put("h", attr.Item{"pk": attr.S("big"), "v": attr.S(strings.Repeat("x", 1500))}), // 2 units
	}
	for i := range 10 {
		ops = append(ops, put("h", attr.Item{"pk": attr.S(fmt.Sprintf("k%d", i))}))
		ops = append(ops, put("r", attr.Item{"pk": attr.S("p"), "sk": num(t, fmt.Sprint(i))}))
	}
	res, err := e.BatchWrite(BatchWriteRequest{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Capacity) != 2 || !reflect.DeepEqual(res.Capacity[0], Capacity{Table: "h", Write: 15}) || !reflect.DeepEqual(res.Capacity[1], Capacity{Table: "r", Write: 10}) {
		t.Fatalf("capacity %+v, want h 15 (4 + 1 extra for big + 10), r 10", res.Capacity)
	}
	batches := rec.all()
	if len(batches) != 1 {
		t.Fatalf("%d change-log batches, want 1", len(batches))
	}
	cs := batches[0]
	if len(cs) != 22 { // 1 remove + 1 big + 10 + 10
		t.Fatalf("%d records, want 22", len(cs))
	}
	// Per shard, the batch's records continue the shard's sequence densely.
	last := map[[2]uint64]shards.Seq{}
	for _, p := range e.ChangeLog().Positions() {
		last[[2]uint64{uint64(p.TableID), uint64(p.Shard)}] = p.Last
	}
	next := map[[2]uint64][]shards.Seq{}
	for _, c := range cs {
		k := [2]uint64{uint64(c.TableID), uint64(c.Shard)}
		next[k] = append(next[k], c.Seq)
	}
	for k, seqs := range next {
		for i, s := range seqs {
			if want := last[k] - shards.Seq(len(seqs)-1-i); s != want {
				t.Fatalf("table %d shard %d: seqs %v end at %d, not dense", k[0], k[1], seqs, last[k])
			}
		}
	}
	names := map[string]int{}
	for _, c := range cs {
		env, err := event.Decode(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		names[env.Header(event.HdrType)]++
	}
	if names[event.TypePrefix+string(event.Remove)] != 1 || names[event.TypePrefix+string(event.Insert)] != 21 {
		t.Fatalf("record types %v", names)
	}
	if got := getItem(t, e, "h", attr.Item{"pk": attr.S("old")}); got != "" {
		t.Fatalf("deleted item still there: %s", got)
	}
	if got := getItem(t, e, "r", attr.Item{"pk": attr.S("p"), "sk": num(t, "9")}); got != `{"pk":{"S":"p"},"sk":{"N":"9"}}` {
		t.Fatalf("put item: %s", got)
	}
	in, _ := e.DescribeTable("h")
	if in.ItemCount != 12 { // same, big, k0..k9
		t.Fatalf("h has %d items, want 12", in.ItemCount)
	}
}

// TestBatchWriteBadInput checks that a batch with one bad request fails
// with DynamoDB's error and changes nothing.
func TestBatchWriteBadInput(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()
	good := []BatchWriteOp{
		put("h", attr.Item{"pk": attr.S("a")}),
		put("r", attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}),
		del("h", attr.Item{"pk": attr.S("b")}),
	}
	many := make([]BatchWriteOp, 26)
	for i := range many {
		many[i] = put("h", attr.Item{"pk": attr.S(fmt.Sprint(i))})
	}
	for _, tc := range []struct {
		name string
		ops  []BatchWriteOp
		kind error
		msg  string
	}{
		{"no requests", nil, attr.ErrValidation, MsgWriteItemsNeeded},
		{"26 requests", many, attr.ErrValidation, MsgTooManyWrites},
		{"missing table", []BatchWriteOp{put("nope", attr.Item{"pk": attr.S("a")})}, ErrTableNotFound, "Requested resource not found"},
		{"put without key", []BatchWriteOp{put("h", attr.Item{"x": attr.S("a")})}, attr.ErrValidation, attr.MsgKeySchemaMismatch},
		{"put with wrong key type", []BatchWriteOp{put("r", attr.Item{"pk": attr.S("a"), "sk": attr.S("1")})}, attr.ErrValidation, attr.MsgKeySchemaMismatch},
		{"put with empty key", []BatchWriteOp{put("h", attr.Item{"pk": attr.S("")})}, attr.ErrValidation,
			"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"delete with extra attribute", []BatchWriteOp{del("h", attr.Item{"pk": attr.S("a"), "x": attr.S("y")})}, attr.ErrValidation, attr.MsgKeySchemaMismatch},
		{"delete missing sort key", []BatchWriteOp{del("r", attr.Item{"pk": attr.S("a")})}, attr.ErrValidation, attr.MsgKeySchemaMismatch},
		{"too large", []BatchWriteOp{put("h", attr.Item{"pk": attr.S("a"), "d": attr.S(strings.Repeat("x", attr.MaxItemSize))})}, attr.ErrValidation,
			"Item size has exceeded the maximum allowed size"},
		{"put and delete of one item", []BatchWriteOp{put("h", attr.Item{"pk": attr.S("d")}), del("h", attr.Item{"pk": attr.S("d")})}, attr.ErrValidation, MsgDuplicateKeys},
		{"number spellings of one key", []BatchWriteOp{put("r", attr.Item{"pk": attr.S("d"), "sk": num(t, "1.0")}), del("r", attr.Item{"pk": attr.S("d"), "sk": num(t, "1")})}, attr.ErrValidation, MsgDuplicateKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.ops
			if len(ops) > 0 && len(ops)+len(good) <= MaxBatchWrites {
				ops = append(append([]BatchWriteOp(nil), good...), ops...)
			}
			_, err := e.BatchWrite(BatchWriteRequest{Ops: ops})
			var ae *attr.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &ae) || ae.Msg != tc.msg {
				t.Fatalf("got %v, want %v %q", err, tc.kind, tc.msg)
			}
		})
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("%d records after rejected batches", n)
	}
	for _, table := range []string{"h", "r"} {
		if in, _ := e.DescribeTable(table); in.ItemCount != 0 {
			t.Fatalf("%s has %d items", table, in.ItemCount)
		}
	}
}

// TestBatchWriteConcurrent runs batches on overlapping keys from many
// goroutines, with single-item writes mixed in: they must not deadlock, and
// the change log must stay dense and agree with the tables.
func TestBatchWriteConcurrent(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("a", false))
	mustCreate(t, e, tableDef("b", false))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()
	const workers, batches, keySpace = 8, 200, 40
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 1))
				for i := range batches {
					n := 1 + r.IntN(MaxBatchWrites)
					used := map[string]bool{}
					var ops []BatchWriteOp
					for range n {
						table := []string{"a", "b"}[r.IntN(2)]
						k := fmt.Sprintf("k%d", r.IntN(keySpace))
						if used[table+k] {
							continue
						}
						used[table+k] = true
						if r.IntN(3) == 0 {
							ops = append(ops, del(table, attr.Item{"pk": attr.S(k)}))
						} else {
							ops = append(ops, put(table, attr.Item{"pk": attr.S(k), "w": num(t, fmt.Sprint(w)), "i": num(t, fmt.Sprint(i))}))
						}
					}
					if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
						t.Error(err)
						return
					}
					if i%10 == 0 { // a single-item write on the same keys
						k := fmt.Sprintf("k%d", r.IntN(keySpace))
						if _, err := e.PutItem(PutRequest{Table: "a", Item: attr.Item{"pk": attr.S(k)}}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("batches deadlocked")
	}

	seqs := map[[2]uint64][]shards.Seq{}
	for _, c := range rec.all() {
		k := [2]uint64{uint64(c.TableID), uint64(c.Shard)}
		seqs[k] = append(seqs[k], c.Seq)
	}
	for k, s := range seqs {
		for i, seq := range s {
			if seq != shards.Seq(i+1) {
				t.Fatalf("table %d shard %d: record %d has seq %d", k[0], k[1], i, seq)
			}
		}
	}
	for _, table := range []string{"a", "b"} {
		n := 0
		for i := range keySpace {
			if getItem(t, e, table, attr.Item{"pk": attr.S(fmt.Sprintf("k%d", i))}) != "" {
				n++
			}
		}
		if in, _ := e.DescribeTable(table); in.ItemCount != int64(n) {
			t.Fatalf("%s: item count %d, but %d items exist", table, in.ItemCount, n)
		}
	}
}

func TestBatchGet(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	big := attr.S(strings.Repeat("b", 5000)) // 2 read units
	if _, err := e.BatchWrite(BatchWriteRequest{Ops: []BatchWriteOp{
		put("h", attr.Item{"pk": attr.S("a")}),
		put("h", attr.Item{"pk": attr.S("big"), "b": big}),
		put("r", attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}),
	}}); err != nil {
		t.Fatal(err)
	}
	res, err := e.BatchGet(BatchGetRequest{Tables: []BatchGetTable{
		{Table: "h", Keys: []attr.Item{{"pk": attr.S("a")}, {"pk": attr.S("missing")}, {"pk": attr.S("big")}}},
		{Table: "r", Keys: []attr.Item{{"pk": attr.S("a"), "sk": num(t, "1.00")}, {"pk": attr.S("a"), "sk": num(t, "2")}}, Consistent: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h, r := res.Tables[0], res.Tables[1]
	if len(h.Items) != 2 || string(h.Items[0]) != `{"pk":{"S":"a"}}` || len(h.Unprocessed) != 0 {
		t.Fatalf("h: %d items (%s), %d unprocessed", len(h.Items), h.Items, len(h.Unprocessed))
	}
	if !reflect.DeepEqual(h.Capacity, Capacity{Table: "h", Read: 2}) { // (1 + 1 + 2) / 2
		t.Fatalf("h capacity %+v", h.Capacity)
	}
	if len(r.Items) != 1 || string(r.Items[0]) != `{"pk":{"S":"a"},"sk":{"N":"1"}}` || !reflect.DeepEqual(r.Capacity, Capacity{Table: "r", Read: 2}) {
		t.Fatalf("r: %s %+v", r.Items, r.Capacity)
	}

	hundredOne := make([]attr.Item, 101)
	for i := range hundredOne {
		hundredOne[i] = attr.Item{"pk": attr.S(fmt.Sprint(i))}
	}
	for _, tc := range []struct {
		name   string
		tables []BatchGetTable
		kind   error
		msg    string
	}{
		{"no keys", []BatchGetTable{{Table: "h"}}, attr.ErrValidation, MsgGetItemsNeeded},
		{"101 keys", []BatchGetTable{{Table: "h", Keys: hundredOne[:50]}, {Table: "r", Keys: hundredOne[50:]}}, attr.ErrValidation, MsgTooManyGets},
		{"missing table", []BatchGetTable{{Table: "h", Keys: []attr.Item{{"pk": attr.S("x")}}}, {Table: "nope", Keys: []attr.Item{{"x": attr.S("x")}}}}, ErrTableNotFound, "Requested resource not found"},
		{"bad key", []BatchGetTable{{Table: "r", Keys: []attr.Item{{"pk": attr.S("x")}}}}, attr.ErrValidation, attr.MsgKeySchemaMismatch},
		{"duplicate", []BatchGetTable{{Table: "r", Keys: []attr.Item{{"pk": attr.S("x"), "sk": num(t, "10")}, {"pk": attr.S("x"), "sk": num(t, "1E1")}}}}, attr.ErrValidation, MsgDuplicateKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.BatchGet(BatchGetRequest{Tables: tc.tables})
			var ae *attr.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &ae) || ae.Msg != tc.msg {
				t.Fatalf("got %v, want %v %q", err, tc.kind, tc.msg)
			}
		})
	}
}

// TestBatchGetResponseLimit fills a table with 41 items of nearly 400 KB:
// one request for all of them returns what fits in 16 MB and the rest as
// unprocessed keys, which are not charged.
func TestBatchGetResponseLimit(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("h", false))
	mustCreate(t, e, tableDef("r", true))
	payload := attr.S(strings.Repeat("x", attr.MaxItemSize-100))
	var keys []attr.Item
	var ops []BatchWriteOp
	for i := range 41 {
		k := attr.Item{"pk": attr.S(fmt.Sprintf("k%02d", i))}
		keys = append(keys, k)
		ops = append(ops, put("h", attr.Item{"pk": k["pk"], "p": payload}))
		if len(ops) == MaxBatchWrites || i == 40 {
			if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
				t.Fatal(err)
			}
			ops = nil
		}
	}
	res, err := e.BatchGet(BatchGetRequest{Tables: []BatchGetTable{
		{Table: "h", Keys: keys, Consistent: true},
		{Table: "r", Keys: []attr.Item{{"pk": attr.S("a"), "sk": num(t, "1")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h, r := res.Tables[0], res.Tables[1]
	fit := MaxBatchGetBytes / (attr.MaxItemSize - 100 + 6) // item size: payload, names p and pk, key kNN
	if len(h.Items) != fit || len(h.Unprocessed) != 41-fit || len(r.Unprocessed) != 1 || len(r.Items) != 0 {
		t.Fatalf("h: %d items %d unprocessed, r: %d unprocessed; want %d, %d, 1", len(h.Items), len(h.Unprocessed), len(r.Unprocessed), fit, 41-fit)
	}
	if h.Unprocessed[0]["pk"].S != fmt.Sprintf("k%02d", fit) {
		t.Fatalf("first unprocessed key %v", h.Unprocessed[0])
	}
	if h.Capacity.Read != float64(fit*100) || r.Capacity.Read != 0 {
		t.Fatalf("capacity h %v r %v", h.Capacity.Read, r.Capacity.Read)
	}
}

// BenchmarkBatchWrite25 writes batches of 25 new 900-byte items from
// parallel clients (the BatchWriteItem target, engine side).
func BenchmarkBatchWrite25(b *testing.B) {
	e, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateTable(tableDef("t", false)); err != nil {
		b.Fatal(err)
	}
	payload := attr.S(strings.Repeat("x", 900))
	var mu sync.Mutex
	next := 0
	b.SetParallelism(2) // 2 × GOMAXPROCS clients
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			base := next
			next += MaxBatchWrites
			mu.Unlock()
			ops := make([]BatchWriteOp, MaxBatchWrites)
			for i := range ops {
				ops[i] = put("t", attr.Item{"pk": attr.S(fmt.Sprint(base + i)), "p": payload})
			}
			if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
