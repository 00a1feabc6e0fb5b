package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/invariants"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// Item collections and LSI counters.
//
// On a table with local secondary indexes, the items that share a partition
// key and their LSI entries form an item collection, whose size DynamoDB
// bounds (10 GB) and reports (ItemCollectionMetrics). Its size is the sum of
// the DynamoDB sizes of its items and of their entries' projected items;
// summed over every collection it is the table's TableSizeBytes plus its
// LSIs' IndexSizeBytes. Each collection's size is a record in the store
// ('n' | table | 0xFF | hash | enc(pk), beside the LSI entries of its
// partition, so DeleteTable's range delete drops them too), and each LSI's
// entry count and size a meta record ('m' | table | 'l' | position).
//
// The committer keeps both, in the batch of the changes that move them, so
// they are as durable as the items and never drift, whatever the writers,
// transactions, TTL deletes or crashes. The committer is the one place that
// sees every change to a collection in commit order, so it is also where the
// limit is enforced: a request whose change would take a collection past
// Options.ItemCollectionLimit (a growing change only) is refused whole, with
// nothing written, and the other requests of the batch go on. Tables
// without LSIs have no collection records and pay nothing for them.

// DefaultItemCollectionLimit is DynamoDB's item collection size limit: 10 GB.
const DefaultItemCollectionLimit = 10 << 30

// collectionIndex is the index number, above any LSI's, under which a
// table's item collection sizes live in the LSI key space.
const collectionIndex = 0xFF

// metaLSIStats is the meta kind of an LSI's entry count and byte size (rest:
// the LSI's position in the table's definition).
const metaLSIStats byte = 'l'

// collectionKey is the key of the size record of kp's item collection.
func collectionKey(def *catalog.Table, kp keyParts) []byte {
	return keycodec.IndexPartitionPrefix(nil, def.ID, collectionIndex, kp.hash, *kp.pk)
}

func lsiStatsKey(table uint32, n int) []byte { return keycodec.MetaKey(table, metaLSIStats, uint8(n)) }

// lsiCounters are a table's LSI counters, by position. Only the committer
// writes them; readers load the atomics.
type lsiCounters struct {
	table uint32
	stats []lsiCounter
}

type lsiCounter struct{ items, bytes atomic.Int64 }

// load returns the counters' values.
func (lc *lsiCounters) load() []IndexStats {
	out := make([]IndexStats, len(lc.stats))
	for i := range lc.stats {
		out[i] = IndexStats{Items: lc.stats[i].items.Load(), Bytes: lc.stats[i].bytes.Load()}
	}
	return out
}

// store sets the counters (the committer, after its batch committed).
func (lc *lsiCounters) store(s []IndexStats) {
	for i := range s {
		lc.stats[i].items.Store(s[i].Items)
		lc.stats[i].bytes.Store(s[i].Bytes)
	}
}

// loadLSICounters reads the counters of def's LSIs (nil for a table without).
func (e *Engine) loadLSICounters(def *catalog.Table) (*lsiCounters, error) {
	if len(def.LSIs) == 0 {
		return nil, nil
	}
	lc := &lsiCounters{table: def.ID, stats: make([]lsiCounter, len(def.LSIs))}
	for i := range def.LSIs {
		v, err := e.db.Get(lsiStatsKey(def.ID, i))
		if errors.Is(err, kv.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s, err := decodeStats(v)
		if err != nil {
			return nil, fmt.Errorf("engine: LSI counters of %d/%d: %w", def.ID, i, err)
		}
		lc.stats[i].items.Store(s.Items)
		lc.stats[i].bytes.Store(s.Bytes)
	}
	return lc, nil
}

func decodeStats(v []byte) (IndexStats, error) {
	n, k := binary.Varint(v)
	if k <= 0 {
		return IndexStats{}, errors.New("corrupt counters")
	}
	b, k2 := binary.Varint(v[k:])
	if k2 <= 0 {
		return IndexStats{}, errors.New("corrupt counters")
	}
	return IndexStats{Items: n, Bytes: b}, nil
}

// storedCollectionSize reads an item collection's size record (0 if none).
func (e *Engine) storedCollectionSize(key []byte) (int64, error) {
	v, err := e.db.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, fmt.Errorf("engine: corrupt item collection size at %x", key)
	}
	return int64(s), nil
}

// admitCollections checks a request's changes against the item collection
// limit, given the sizes the batch reached so far (colls, by collection
// key), and on success records the sizes the request leaves in colls and in
// each change's collSize. Only the committer calls it.
func (e *Engine) admitCollections(r *commitReq, colls map[string]int64) error {
	var local map[string]int64
	for i := range r.changes {
		ch := &r.changes[i]
		if ch.coll == nil {
			continue
		}
		if local == nil {
			local = map[string]int64{}
		}
		k := string(ch.coll)
		cur, ok := local[k]
		if !ok {
			if cur, ok = colls[k]; !ok {
				var err error
				if cur, err = e.storedCollectionSize(ch.coll); err != nil {
					return err
				}
			}
		}
		next := cur + ch.collDelta
		if ch.collDelta > 0 && next > e.opts.ItemCollectionLimit {
			return &collectionLimitError{change: i}
		}
		if invariants.Enabled && next < 0 {
			panic(fmt.Sprintf("engine: item collection %x size went negative: %d", ch.coll, next))
		}
		local[k] = next
	}
	for k, v := range local {
		colls[k] = v
	}
	for i := range r.changes {
		if ch := &r.changes[i]; ch.coll != nil {
			ch.collSize = local[string(ch.coll)]
		}
	}
	return nil
}

// putCollections writes the collection sizes a batch reached.
func putCollections(b *kv.Batch, colls map[string]int64) {
	for k, v := range colls {
		if v == 0 {
			b.Delete([]byte(k))
		} else {
			b.Set([]byte(k), binary.AppendUvarint(nil, uint64(v)))
		}
	}
}

// CollectionMetric is an item collection a write touched, for
// ItemCollectionMetrics: its table, partition key and size after the write.
type CollectionMetric struct {
	Table string
	Key   attr.Item // the partition key attribute
	Size  int64     // bytes: items plus their LSI entries
}

// collectionMetric is the metric of kp's collection on a table with LSIs
// after a write; committed is the size the committer reported when the
// write changed something, else -1 and the size is read.
func (e *Engine) collectionMetric(def *catalog.Table, kp keyParts, committed int64) (*CollectionMetric, error) {
	if len(def.LSIs) == 0 {
		return nil, nil
	}
	size := committed
	if size < 0 {
		var err error
		if size, err = e.storedCollectionSize(collectionKey(def, kp)); err != nil {
			return nil, err
		}
	}
	h, _ := def.HashKey()
	return &CollectionMetric{Table: def.Name, Key: attr.Item{h: *kp.pk}, Size: size}, nil
}

// SizeEstimateRangeGB is DynamoDB's estimate of an item collection's size:
// the whole gigabytes it holds and the next one ([0, 1] below 1 GB).
func SizeEstimateRangeGB(size int64) [2]float64 {
	lo := float64(size / (1 << 30))
	return [2]float64{lo, lo + 1}
}
