package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/shards"
)

func openTest(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func tableDef(name string, rangeKey bool) *catalog.Table {
	def := &catalog.Table{
		Name:                 name,
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
	}
	if rangeKey {
		def.KeySchema = append(def.KeySchema, catalog.KeyElement{Name: "sk", KeyType: "RANGE"})
		def.AttributeDefinitions = append(def.AttributeDefinitions, catalog.AttributeDefinition{Name: "sk", Type: "N"})
	}
	return def
}

func num(t testing.TB, s string) attr.Value {
	n, err := attr.ParseNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return attr.N(n)
}

func mustCreate(t *testing.T, e *Engine, def *catalog.Table) TableInfo {
	t.Helper()
	in, err := e.CreateTable(def)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// recorder collects change-log deliveries.
type recorder struct {
	mu      sync.Mutex
	changes []Change
}

func (r *recorder) add(cs []Change) {
	r.mu.Lock()
	r.changes = append(r.changes, cs...)
	r.mu.Unlock()
}

func (r *recorder) all() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Change(nil), r.changes...)
}

func TestPutGetDelete(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("t1", true))
	var rec recorder
	defer e.ChangeLog().Subscribe(rec.add)()

	item := attr.Item{"pk": attr.S("a"), "sk": num(t, "1"), "v": attr.S("x"), "ss": {T: attr.TypeSS, SS: []string{"b", "a"}}}
	res, err := e.PutItem(PutRequest{Table: "t1", Item: item, ReturnOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Old != nil || res.Capacity.Write != 1 {
		t.Fatalf("first put: %+v", res)
	}
	got, err := e.GetItem(GetRequest{Table: "t1", Key: attr.Item{"pk": attr.S("a"), "sk": num(t, "1.0")}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pk":{"S":"a"},"sk":{"N":"1"},"ss":{"SS":["a","b"]},"v":{"S":"x"}}`
	if string(got.Item) != want {
		t.Fatalf("get: %s, want %s", got.Item, want)
	}
	if got.Capacity.Read != 0.5 {
		t.Fatalf("eventually consistent read capacity %v", got.Capacity.Read)
	}

	// The same item again (set order differs): unchanged, so no record.
	item2 := attr.Item{"pk": attr.S("a"), "sk": num(t, "1"), "v": attr.S("x"), "ss": {T: attr.TypeSS, SS: []string{"a", "b"}}}
	res, err = e.PutItem(PutRequest{Table: "t1", Item: item2, ReturnOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Old) != want {
		t.Fatalf("ALL_OLD: %s", res.Old)
	}

	del, err := e.DeleteItem(DeleteRequest{Table: "t1", Key: attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}, ReturnOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(del.Old) != want {
		t.Fatalf("delete ALL_OLD: %s", del.Old)
	}
	// Deleting again changes nothing and records nothing.
	if _, err := e.DeleteItem(DeleteRequest{Table: "t1", Key: attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.GetItem(GetRequest{Table: "t1", Key: attr.Item{"pk": attr.S("a"), "sk": num(t, "1")}, Consistent: true})
	if got.Item != nil || got.Capacity.Read != 1 {
		t.Fatalf("after delete: %+v", got)
	}

	cs := rec.all()
	if len(cs) != 2 {
		t.Fatalf("%d records, want 2 (insert, remove)", len(cs))
	}
	for i, name := range []event.Name{event.Insert, event.Remove} {
		env, err := event.Decode(cs[i].Data)
		if err != nil {
			t.Fatal(err)
		}
		if typ := env.Header(event.HdrType); typ != event.TypePrefix+string(name) {
			t.Errorf("record %d type %s, want %s", i, typ, name)
		}
		if cs[i].Seq != shards.Seq(i+1) {
			t.Errorf("record %d seq %d", i, cs[i].Seq)
		}
	}
	in, _ := e.DescribeTable("t1")
	if in.ItemCount != 0 || in.SizeBytes != 0 {
		t.Fatalf("counters after delete: %d items %d bytes", in.ItemCount, in.SizeBytes)
	}
}

func TestKeyValidation(t *testing.T) {
	e := openTest(t, t.TempDir())
	mustCreate(t, e, tableDef("t", true))
	for _, tc := range []struct {
		name string
		item attr.Item
		want string
	}{
		{"missing hash", attr.Item{"sk": num(t, "1")}, "Missing the key pk in the item"},
		{"missing range", attr.Item{"pk": attr.S("a")}, "Missing the key sk in the item"},
		{"wrong type", attr.Item{"pk": num(t, "1"), "sk": num(t, "1")}, "Type mismatch for key pk expected: S actual: N"},
		{"empty string key", attr.Item{"pk": attr.S(""), "sk": num(t, "1")}, "cannot contain an empty string value. Key: pk"},
		{"hash too long", attr.Item{"pk": attr.S(strings.Repeat("x", 2049)), "sk": num(t, "1")}, "exceeded"},
		{"too large", attr.Item{"pk": attr.S("a"), "sk": num(t, "1"), "big": attr.S(strings.Repeat("x", 400*1024))}, "Item size has exceeded the maximum allowed size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.PutItem(PutRequest{Table: "t", Item: tc.item})
			if !errors.Is(err, attr.ErrValidation) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want validation error containing %q", err, tc.want)
			}
		})
	}
	_, err := e.GetItem(GetRequest{Table: "t", Key: attr.Item{"pk": attr.S("a")}})
	if !errors.Is(err, attr.ErrValidation) || err.Error() != "The provided key element does not match the schema" {
		t.Fatalf("get with partial key: %v", err)
	}
	_, err = e.GetItem(GetRequest{Table: "nope", Key: attr.Item{"pk": attr.S("a")}})
	if !errors.Is(err, ErrTableNotFound) {
		t.Fatalf("get on missing table: %v", err)
	}
	in, _ := e.DescribeTable("t")
	if in.ItemCount != 0 {
		t.Fatal("bad input changed the table")
	}
}

func TestCapacity(t *testing.T) {
	for _, tc := range []struct {
		size       int
		consistent bool
		read       float64
		write      float64
	}{
		{0, false, 0.5, 1}, {1, true, 1, 1}, {1024, false, 0.5, 1}, {1025, false, 0.5, 2},
		{4096, true, 1, 4}, {4097, true, 2, 5}, {4097, false, 1, 5},
	} {
		if got := readCapacity("t", tc.size, tc.consistent).Read; got != tc.read {
			t.Errorf("read size %d consistent %v: %v want %v", tc.size, tc.consistent, got, tc.read)
		}
		if got := writeCapacity("t", tc.size).Write; got != tc.write {
			t.Errorf("write size %d: %v want %v", tc.size, got, tc.write)
		}
	}
}

// TestSequencesDense drives concurrent writers and checks that every shard's
// records arrive numbered 1..n without gaps, in the change log and through
// the subscription, and survive a restart.
func TestSequencesDense(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, tableDef("t", false))
	var rec recorder
	e.ChangeLog().Subscribe(rec.add)
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("k%d", (w*each+i)%150) // overlapping keys: inserts and modifies
				if _, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(key), "n": num(t, fmt.Sprint(i))}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := map[shards.ID][]shards.Seq{}
	for _, c := range rec.all() {
		got[c.Shard] = append(got[c.Shard], c.Seq)
	}
	total := 0
	for sh, seqs := range got {
		for i, s := range seqs {
			if s != shards.Seq(i+1) {
				t.Fatalf("shard %d: record %d has seq %d", sh, i, s)
			}
		}
		total += len(seqs)
		logged, err := e.ChangeLog().Read(1, sh, 0, 1<<20)
		if err != nil || len(logged) != len(seqs) {
			t.Fatalf("shard %d: change log has %d records (%v), subscription %d", sh, len(logged), err, len(seqs))
		}
	}
	in, _ := e.DescribeTable("t")
	if in.ItemCount != 150 {
		t.Fatalf("item count %d, want 150", in.ItemCount)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := openTest(t, dir)
	in2, err := e2.DescribeTable("t")
	if err != nil || in2.ItemCount != 150 || in2.SizeBytes != in.SizeBytes {
		t.Fatalf("after restart: %+v %v (before %d bytes)", in2, err, in.SizeBytes)
	}
	pos := e2.ChangeLog().Positions()
	n := 0
	for _, p := range pos {
		n += int(p.Last)
	}
	if n != total {
		t.Fatalf("positions after restart sum to %d, want %d", n, total)
	}
	if _, err := e2.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S("new")}}); err != nil {
		t.Fatal(err)
	}
	n2 := 0
	for _, p := range e2.ChangeLog().Positions() {
		n2 += int(p.Last)
	}
	if n2 != total+1 {
		t.Fatalf("sequence did not continue: %d after one more write, want %d", n2, total+1)
	}
}

func TestTables(t *testing.T) {
	e := openTest(t, t.TempDir())
	first := mustCreate(t, e, tableDef("b", false))
	mustCreate(t, e, tableDef("a", false))
	if _, err := e.CreateTable(tableDef("a", false)); !errors.Is(err, ErrResourceInUse) {
		t.Fatalf("duplicate create: %v", err)
	}
	if got := strings.Join(e.ListTables(), ","); got != "a,b" {
		t.Fatalf("list: %s", got)
	}
	if _, err := e.PutItem(PutRequest{Table: "b", Item: attr.Item{"pk": attr.S("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateTable("b", func(d *catalog.Table) error { d.DeletionProtection = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteTable("b"); !errors.Is(err, attr.ErrValidation) {
		t.Fatalf("delete protected: %v", err)
	}
	e.UpdateTable("b", func(d *catalog.Table) error { d.DeletionProtection = false; return nil })
	del, err := e.DeleteTable("b")
	if err != nil || del.Status != catalog.StatusDeleting {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := e.DescribeTable("b"); !errors.Is(err, ErrTableNotFound) {
		t.Fatalf("describe deleted: %v", err)
	}
	again := mustCreate(t, e, tableDef("b", false))
	if again.ID == first.ID || again.ItemCount != 0 {
		t.Fatalf("re-created table reuses id %d or has items %d", again.ID, again.ItemCount)
	}
	got, err := e.GetItem(GetRequest{Table: "b", Key: attr.Item{"pk": attr.S("x")}})
	if err != nil || got.Item != nil {
		t.Fatalf("re-created table sees old item: %s %v", got.Item, err)
	}
}

func BenchmarkPutItem(b *testing.B) {
	for _, relaxed := range []bool{false, true} {
		b.Run(fmt.Sprintf("relaxed=%v", relaxed), func(b *testing.B) {
			e, err := Open(Options{Dir: b.TempDir(), Relaxed: relaxed})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			if _, err := e.CreateTable(tableDef("t", false)); err != nil {
				b.Fatal(err)
			}
			payload := attr.S(strings.Repeat("x", 900))
			var n sync.Mutex
			i := 0
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n.Lock()
					i++
					k := i
					n.Unlock()
					if _, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint(k)), "p": payload}}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func TestShardsOption(t *testing.T) {
	for _, tc := range []struct {
		shards   int
		wantBits uint8
		wantErr  bool
	}{{0, 2, false}, {1, 0, false}, {16, 4, false}, {1024, 10, false}, {3, 0, true}, {2048, 0, true}, {-1, 0, true}} {
		e, err := Open(Options{Dir: t.TempDir(), Shards: tc.shards})
		if tc.wantErr {
			if err == nil {
				e.Close()
				t.Errorf("shards %d: no error", tc.shards)
			}
			continue
		}
		if err != nil {
			t.Fatalf("shards %d: %v", tc.shards, err)
		}
		in, err := e.CreateTable(tableDef("t", false))
		if err != nil || in.ShardBits != tc.wantBits {
			t.Errorf("shards %d: bits %d (%v), want %d", tc.shards, in.ShardBits, err, tc.wantBits)
		}
		e.Close()
	}
}

// TestCloseDuringWrites closes the engine while writers are committing and
// readers read: no deadlock, no use of the closed store, every operation
// either done or refused with ErrClosed, and every acknowledged write there
// after reopening.
func TestCloseDuringWrites(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, tableDef("t", false))
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				k := fmt.Sprintf("w%d-%d", w, i)
				_, err := e.PutItem(PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(k)}})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("put %s: %v", k, err)
					return
				}
				mu.Lock()
				acked[k] = true
				mu.Unlock()
			}
		})
	}
	for range 2 { // readers too: a read must not reach a closed store
		wg.Go(func() {
			for {
				_, err := e.GetItem(GetRequest{Table: "t", Key: attr.Item{"pk": attr.S("w0-1")}})
				if err == nil {
					_, err = e.Scan(ScanRequest{Table: "t", Limit: 50})
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
			}
		})
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- e.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: the commit leader and stop deadlocked")
	}
	wg.Wait()

	e2 := openTest(t, dir)
	for k := range acked {
		got, err := e2.GetItem(GetRequest{Table: "t", Key: attr.Item{"pk": attr.S(k)}})
		if err != nil || got.Item == nil {
			t.Fatalf("acknowledged %s missing after reopen (%v)", k, err)
		}
	}
	in, _ := e2.DescribeTable("t")
	if in.ItemCount < int64(len(acked)) {
		t.Fatalf("item count %d below %d acknowledged writes", in.ItemCount, len(acked))
	}
}
