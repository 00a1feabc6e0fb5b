package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/internal/kv"
)

func TestItemCache(t *testing.T) {
	val := func(n int) []byte { return bytes.Repeat([]byte("v"), n) }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *itemCache)
	}{
		{"miss, hit, absent", func(t *testing.T, c *itemCache) {
			if _, ok := c.get([]byte("a")); ok {
				t.Fatal("hit in an empty cache")
			}
			c.put([]byte("a"), val(10))
			c.put([]byte("gone"), nil)
			if v, ok := c.get([]byte("a")); !ok || len(v) != 10 {
				t.Fatalf("a: %q %v", v, ok)
			}
			if v, ok := c.get([]byte("gone")); !ok || v != nil {
				t.Fatalf("deleted item: %q %v; want a nil hit", v, ok)
			}
		}},
		{"replace and forget", func(t *testing.T, c *itemCache) {
			c.put([]byte("a"), val(10))
			c.put([]byte("a"), val(20))
			s := c.shard([]byte("a"))
			if want := entryCost("a", val(20)); s.bytes != want {
				t.Fatalf("shard holds %d bytes after a replace, want %d", s.bytes, want)
			}
			c.forget([]byte("a"))
			if _, ok := c.get([]byte("a")); ok || s.bytes != 0 {
				t.Fatalf("after forget: hit %v, %d bytes", ok, s.bytes)
			}
		}},
		{"too big to cache", func(t *testing.T, c *itemCache) {
			c.put([]byte("big"), val(10))
			c.put([]byte("big"), val(itemCacheMaxValue+1))
			if _, ok := c.get([]byte("big")); ok {
				t.Fatal("an oversized value is cached, or its old value kept")
			}
		}},
		{"bounded in bytes", func(t *testing.T, c *itemCache) {
			for i := range 20_000 {
				c.put(fmt.Appendf(nil, "key%06d", i), val(500))
			}
			var total int64
			for i := range c.shards {
				s := &c.shards[i]
				if s.bytes > s.max {
					t.Fatalf("shard %d holds %d bytes, over its %d", i, s.bytes, s.max)
				}
				var counted int64
				for _, k := range s.lru.Keys() {
					v, _ := s.lru.Peek(k)
					counted += entryCost(k, v)
				}
				if counted != s.bytes {
					t.Fatalf("shard %d counts %d bytes, holds %d", i, s.bytes, counted)
				}
				total += s.bytes
			}
			if total < 1<<20 {
				t.Fatalf("a 2 MiB cache holds only %d bytes of 20,000 values", total)
			}
			// The newest entries stay; the oldest went.
			if _, ok := c.get([]byte("key019999")); !ok {
				t.Fatal("the newest entry was evicted")
			}
			if _, ok := c.get([]byte("key000000")); ok {
				t.Fatal("the oldest entry survived 10 MB of newer ones")
			}
		}},
		{"a failed commit forgets", func(t *testing.T, c *itemCache) {
			c.put([]byte("a"), val(10))
			c.committed([]change{{key: []byte("a"), value: val(30)}, {key: []byte("b")}}, errors.New("disk gone"))
			if _, ok := c.get([]byte("a")); ok {
				t.Fatal("a failed commit left the old value cached")
			}
			if _, ok := c.get([]byte("b")); ok {
				t.Fatal("a failed delete is cached as absent")
			}
			c.committed([]change{{key: []byte("a"), value: val(30)}, {key: []byte("b")}}, nil)
			if v, ok := c.get([]byte("a")); !ok || len(v) != 30 {
				t.Fatalf("a after a commit: %q %v", v, ok)
			}
			if v, ok := c.get([]byte("b")); !ok || v != nil {
				t.Fatalf("b after a committed delete: %q %v", v, ok)
			}
		}},
		{"a cold change forgets", func(t *testing.T, c *itemCache) {
			c.put([]byte("a"), val(10))
			c.committed([]change{{key: []byte("a"), cold: true}, {key: []byte("b"), cold: true}}, nil)
			for _, k := range []string{"a", "b"} {
				if v, ok := c.get([]byte(k)); ok {
					t.Fatalf("%s after a cold delete: cached as %q", k, v)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newItemCache(2<<20)) })
	}

	var off *itemCache = newItemCache(-1)
	off.put([]byte("a"), val(1))
	off.committed([]change{{key: []byte("a")}}, nil)
	if _, ok := off.get([]byte("a")); ok || off != nil {
		t.Fatal("a disabled cache caches")
	}
}

// TestItemCacheCoherent drives every write path (single-item writes,
// conditional ones that fail, batches, transactions, writes refused for
// their item collection, TTL deletions) from several goroutines over a few
// keys, with a cache small enough to evict, and checks that every value
// the cache holds is the one in the store, and that GetItem agrees.
func TestItemCacheCoherent(t *testing.T) {
	e, err := Open(Options{Dir: t.TempDir(), Relaxed: true, ItemCollectionLimit: 6000, ItemCacheBytes: 64 * itemCacheShards * 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	mustCreate(t, e, lsiTableDef("c"))
	const keys = 24
	key := func(i int) attr.Item {
		return attr.Item{"pk": attr.S(fmt.Sprint("p", i%3)), "sk": attr.S(fmt.Sprint(i))}
	}
	item := func(r *rand.Rand, i int) attr.Item {
		it := key(i)
		it["rank"] = num(t, fmt.Sprint(r.IntN(5)))
		it["pad"] = attr.S(strings.Repeat("x", r.IntN(1500)))
		return it
	}
	ops := []func(r *rand.Rand) error{
		func(r *rand.Rand) error {
			_, err := e.PutItem(PutRequest{Table: "c", Item: item(r, r.IntN(keys))})
			return err
		},
		func(r *rand.Rand) error {
			_, err := e.PutItem(PutRequest{Table: "c", Item: item(r, r.IntN(keys)), Cond: cond(t, "attribute_not_exists(pk)", nil)})
			return err
		},
		func(r *rand.Rand) error {
			_, err := e.DeleteItem(DeleteRequest{Table: "c", Key: key(r.IntN(keys))})
			return err
		},
		func(r *rand.Rand) error {
			_, err := e.UpdateItem(UpdateRequest{Table: "c", Key: key(r.IntN(keys)),
				Update: update(t, "ADD n :one", attr.Item{":one": num(t, "1")}),
				Cond:   cond(t, "attribute_exists(pk)", nil)})
			return err
		},
		func(r *rand.Rand) error {
			a, b := r.IntN(keys), r.IntN(keys)
			if a == b {
				return nil
			}
			_, err := e.BatchWrite(BatchWriteRequest{Ops: []BatchWriteOp{{Table: "c", Item: item(r, a)}, {Table: "c", Key: key(b)}}})
			return err
		},
		func(r *rand.Rand) error {
			a, b := r.IntN(keys), r.IntN(keys)
			if a == b {
				return nil
			}
			_, err := e.TransactWrite(TransactWriteRequest{Actions: []TxWrite{
				{Kind: TxPut, Table: "c", Item: item(r, a)},
				{Kind: TxUpdate, Table: "c", Key: key(b), Update: update(t, "ADD n :one", attr.Item{":one": num(t, "1")}),
					Cond: cond(t, "attribute_exists(pk)", nil)},
			}})
			return err
		},
	}
	check := func() {
		t.Helper()
		cached := 0
		for i := range e.items.shards {
			s := &e.items.shards[i]
			s.mu.Lock()
			for _, k := range s.lru.Keys() {
				v, _ := s.lru.Peek(k)
				stored, err := e.db.Probe([]byte(k))
				if errors.Is(err, kv.ErrNotFound) {
					stored, err = nil, nil
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(v, stored) || (v == nil) != (stored == nil) {
					t.Errorf("key %x: cached %.60q, stored %.60q", k, v, stored)
				}
				cached++
			}
			s.mu.Unlock()
		}
		if cached == 0 {
			t.Fatal("nothing cached")
		}
		for i := range keys {
			got, err := e.GetItem(GetRequest{Table: "c", Key: key(i), Consistent: true})
			if err != nil {
				t.Fatal(err)
			}
			kp, err := e.itemKey(e.mustDef(t, "c"), key(i), true)
			if err != nil {
				t.Fatal(err)
			}
			_, stored, err := found(e.db.Probe(kp.key))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Item, stored) {
				t.Errorf("GetItem %d: %.60s, stored %.60s", i, got.Item, stored)
			}
		}
	}
	// agree checks, between writes, that the cache holds what the store
	// does for every key it has: under the keys' stripes, so that no
	// write is between its commit and the cache.
	var storeKeys [][]byte
	for i := range keys {
		kp, err := e.itemKey(e.mustDef(t, "c"), key(i), true)
		if err != nil {
			t.Fatal(err)
		}
		storeKeys = append(storeKeys, kp.key)
	}
	agree := func() error {
		unlock := e.lockStripes(storeKeys)
		defer unlock()
		for _, k := range storeKeys {
			v, ok := e.items.get(k)
			if !ok {
				continue
			}
			stored, err := e.db.Probe(k)
			if errors.Is(err, kv.ErrNotFound) {
				stored, err = nil, nil
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(v, stored) || (v == nil) != (stored == nil) {
				return fmt.Errorf("key %x: cached %.60q, stored %.60q", k, v, stored)
			}
		}
		return nil
	}
	refused := 0
	var mu sync.Mutex
	for round := range 4 {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for range 300 {
					err := ops[r.IntN(len(ops))](r)
					var tc *TransactionCanceledError
					switch {
					case err == nil, errors.Is(err, ErrConditionFailed), errors.As(err, &tc):
					case errors.Is(err, ErrItemCollectionTooLarge):
						mu.Lock()
						refused++
						mu.Unlock()
					default:
						t.Error(err)
						return
					}
					if err := agree(); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		check()
	}
	if refused == 0 {
		t.Error("no write was refused for its item collection: that path went untested")
	}
}

// BenchmarkUpdateHot measures the CPU of conditional UpdateItems (SET and
// ADD, as the load generator's update workload) by 16 writers over 10,000
// items of about 300 bytes, fsync durability, with the item cache and
// without it: each update reads the item it replaces, which the cache
// answers for the items written since the start.
//
//	go test -run '^$' -bench UpdateHot -benchtime 40000x -count 3 ./engine/
func BenchmarkUpdateHot(b *testing.B) {
	for _, bc := range []struct {
		name  string
		bytes int64
	}{{"cache", 0}, {"nocache", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := Open(Options{Dir: b.TempDir(), ItemCacheBytes: bc.bytes})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			if _, err := e.CreateTable(tableDef("t", false)); err != nil {
				b.Fatal(err)
			}
			const items, writers = 10_000, 16
			key := func(i int) attr.Item { return attr.Item{"pk": attr.S(fmt.Sprintf("item-%06d", i))} }
			for i := 0; i < items; i += 25 {
				ops := make([]BatchWriteOp, 25)
				for j := range ops {
					it := key(i + j)
					it["payload"] = attr.S(strings.Repeat("p", 250))
					ops[j] = BatchWriteOp{Table: "t", Item: it}
				}
				if _, err := e.BatchWrite(BatchWriteRequest{Ops: ops}); err != nil {
					b.Fatal(err)
				}
			}
			u := update(b, "SET a = :a ADD n :one", attr.Item{":a": attr.S("x"), ":one": num(b, "1")})
			c := cond(b, "attribute_exists(pk)", nil)
			var next sync.Mutex
			n := 0
			b.ResetTimer()
			start := cpuTime()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for {
						next.Lock()
						done := n >= b.N
						n++
						next.Unlock()
						if done {
							return
						}
						if _, err := e.UpdateItem(UpdateRequest{Table: "t", Key: key(r.IntN(items)), Update: u, Cond: c}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
