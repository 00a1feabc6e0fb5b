package engine

import (
	"hash/maphash"
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The item cache: the stored values of recently written items.
//
// Every write reads the item it replaces (for its condition, its old
// image and its record), and Pebble answers that read through a fresh
// iterator over the memtables and every level, plus a blob-file fetch for
// values of 256 bytes and more: about a tenth of an UpdateItem's CPU. An
// item written a moment ago is the one most likely to be written again (a
// counter, a session, an order moving through its states), so the engine
// keeps the stored values of the items its writes commit, and of the items
// they delete (as absent), in a cache bounded in bytes that evicts the
// least recently used.
//
// The cache holds, for each key it has, the item's latest durable value:
//   - Only the committer's writers fill it, once their batch is durable,
//     while they still hold their items' lock stripes; every write of an
//     item goes through the committer under its stripe, so no other write
//     can come between the commit and the cache.
//   - A commit that fails forgets its keys (Pebble then says what is
//     there).
//   - Reads never fill it: a reader that holds no stripe could store a
//     value a write is replacing.
//   - It lives in memory only, so a restart starts it empty; table ids are
//     never reused, so the entries of a deleted table are never read again
//     and age out.
//
// A reader holding no stripe (GetItem) may read it too: it gets a value
// that was durable when read, which is what a read racing a write may see.

// DefaultItemCacheBytes is the item cache's size when Options leave it 0.
const DefaultItemCacheBytes = 16 << 20

const (
	itemCacheShards = 64
	// itemCacheMaxValue is the largest value cached: bigger items are
	// rare, and each would push out dozens of small ones.
	itemCacheMaxValue = 64 << 10
	// itemCacheOverhead approximates what an entry costs beyond its key
	// and value (list element, map slot, slice headers).
	itemCacheOverhead = 96
)

// itemCache is a sharded LRU of stored item values by storage key; a nil
// value records an absent item. A nil *itemCache caches nothing.
type itemCache struct {
	seed   maphash.Seed
	shards [itemCacheShards]itemCacheShard
}

type itemCacheShard struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, []byte]
	bytes int64 // what the entries cost (entryCost)
	max   int64
}

// newItemCache returns a cache of about maxBytes, or nil when maxBytes is
// negative.
func newItemCache(maxBytes int64) *itemCache {
	if maxBytes < 0 {
		return nil
	}
	if maxBytes == 0 {
		maxBytes = DefaultItemCacheBytes
	}
	c := &itemCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = maxBytes / itemCacheShards
		// Bounded by bytes, not by count: evict keeps s.bytes under
		// s.max, and the callback counts what leaves.
		lru, err := simplelru.NewLRU(math.MaxInt, func(k string, v []byte) { s.bytes -= entryCost(k, v) })
		if err != nil {
			panic(err) // only for a size <= 0
		}
		s.lru = lru
	}
	return c
}

func entryCost(k string, v []byte) int64 {
	return int64(len(k) + len(v) + itemCacheOverhead)
}

func (c *itemCache) shard(key []byte) *itemCacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%itemCacheShards]
}

// get returns the cached value of key (nil: the item is absent) and
// whether the cache has one. The value is shared: callers must not modify
// it.
func (c *itemCache) get(key []byte) (v []byte, ok bool) {
	if c == nil {
		return nil, false
	}
	s := c.shard(key)
	s.mu.Lock()
	v, ok = s.lru.Get(string(key))
	s.mu.Unlock()
	return v, ok
}

// put records key's value once a commit made it durable (nil: deleted).
// The caller holds key's stripe and must not modify v afterwards.
func (c *itemCache) put(key, v []byte) {
	if c == nil {
		return
	}
	if len(v) > itemCacheMaxValue {
		c.forget(key)
		return
	}
	s := c.shard(key)
	k := string(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.lru.Peek(k); ok {
		s.bytes -= entryCost(k, old) // Add replaces it without the callback
	}
	s.lru.Add(k, v)
	s.bytes += entryCost(k, v)
	for s.bytes > s.max {
		if _, _, ok := s.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// forget drops key's entry, if any.
func (c *itemCache) forget(key []byte) {
	if c == nil {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	s.lru.Remove(string(key))
	s.mu.Unlock()
}

// committed updates the cache after a commit of changes returned err:
// their new values when it succeeded (but for cold changes, which it
// forgets), nothing known when it failed.
func (c *itemCache) committed(changes []change, err error) {
	for i := range changes {
		if err == nil && !changes[i].cold {
			c.put(changes[i].key, changes[i].value)
		} else {
			c.forget(changes[i].key)
		}
	}
}
