package engine

import (
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Shard splits.
//
// Splitting a shard replaces it in the table's shard map by its two hash
// halves, each a new shard with a new id (shards.Map.Split). Nothing moves:
// the hash prefixes every item's storage key, so each half is already one
// contiguous key range. The children continue the parent's sequence
// numbers (both start after its last), so along a lineage sequence numbers
// only grow. When the table's stream is enabled, the parent's open stream
// shard is closed and each child gets a stream shard that names it as its
// parent, as DynamoDB Streams shards split. Everything is one batch: the
// catalog's new map, the children's counters (counted by scanning their
// ranges) and the lineage.
//
// The table's writes wait while a split runs (it holds the table's ddl
// lock); the scan that counts the parent's items is its cost.

// msgNoShard answers a split of a shard the table does not have now.
const msgNoShard = "Shard %d is not a current shard of table %s"

// SplitShard splits one of the table's current shards and returns the map
// after the split.
func (e *Engine) SplitShard(name string, id shards.ID) (shards.Map, error) {
	leave, err := e.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	t, ok := e.lookup(name)
	if !ok {
		return nil, notFound(name)
	}
	t.ddl.Lock()
	defer t.ddl.Unlock()
	if t.dropped {
		return nil, notFound(name)
	}
	def := t.def.Load()
	set := t.set.Load()
	i := -1
	for j, sp := range set.spans {
		if sp.ID == id {
			i = j
		}
	}
	if i < 0 {
		return nil, attr.Invalid(msgNoShard, id, name)
	}
	next := def.NextShard
	if next == 0 {
		next = shards.ID(shards.Count(def.ShardBits))
	}
	spans, ok := set.spans.Split(i, next)
	if !ok {
		return nil, attr.Invalid("Shard %d of table %s owns a single hash and cannot be split", id, name)
	}
	parent := set.states[i]
	last := shards.Seq(parent.lastSeq.Load())
	halves := spans[i : i+2]
	var counts [2][2]int64 // items and bytes of each half
	for h, sp := range halves {
		if counts[h][0], counts[h][1], err = e.countRange(def.ID, sp); err != nil {
			return nil, err
		}
	}
	now := e.opts.Now()
	var opened [2]*StreamShard
	newDef, err := e.catalog.UpdateWith(name, func(d *catalog.Table) error {
		d.ShardMap = spans
		d.NextShard = next + 2
		return nil
	}, func(_, d *catalog.Table, b *kv.Batch) error {
		b.Set(shardMetaKey(d.ID, parent.shard), encodeShardMeta(last, 0, 0))
		for h, sp := range halves {
			b.Set(shardMetaKey(d.ID, sp.ID), encodeShardMeta(last, counts[h][0], counts[h][1]))
		}
		if open := parent.open.Load(); open != nil {
			closed := *open
			closed.End, closed.Closed = last, true
			putLineage(b, d.ID, &closed)
			for h, sp := range halves {
				opened[h] = &StreamShard{
					ID:      streamShardID(now, sp.ID),
					Parent:  open.ID,
					Label:   open.Label,
					Shard:   sp.ID,
					Start:   last + 1,
					Created: now,
				}
				putLineage(b, d.ID, opened[h])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	states := make([]*shardState, 0, len(spans))
	states = append(states, set.states[:i]...)
	for h, sp := range halves {
		st := e.shard(newDef, sp.ID)
		st.lastSeq.Store(uint64(last))
		st.count.Store(counts[h][0])
		st.size.Store(counts[h][1])
		if opened[h] != nil {
			st.open.Store(opened[h])
		}
		states = append(states, st)
	}
	states = append(states, set.states[i+1:]...)
	parent.count.Store(0)
	parent.size.Store(0)
	parent.open.Store(nil)
	t.set.Store(&shardSet{spans: spans, states: states})
	t.def.Store(newDef)
	e.log.Info("shard split", "table", name, "shard", id, "children", fmt.Sprint(halves[0].ID, ",", halves[1].ID), "at", last)
	return spans, nil
}

// countRange counts the items of a table in a shard's hash range and their
// stored sizes.
func (e *Engine) countRange(table uint32, sp shards.Span) (count, size int64, err error) {
	lo := keycodec.HashRangeStart(table, sp.Lo)
	hi := keycodec.PrefixEnd(keycodec.TablePrefix(table))
	if sp.Hi < 1<<32 {
		hi = keycodec.HashRangeStart(table, uint32(sp.Hi))
	}
	it, err := e.db.NewIter(lo, hi)
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			return 0, 0, err
		}
		n, _, err := decodeStored(v)
		if err != nil {
			return 0, 0, err
		}
		count++
		size += int64(n)
	}
	return count, size, nil
}
