package engine

import (
	"bytes"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// Local secondary indexes.
//
// An LSI entry lives in the same partition as its item (same hash, same
// partition key) and is written in the same batch as the item's change, so
// index reads are as consistent as table reads. An item without the
// index's sort key attribute has no entry (a sparse index). The entry's
// value is the item projected as the index says (ALL, KEYS_ONLY, INCLUDE),
// stored as items are, so Query and Scan on the index read it like a table.

// lsiOp is one write of an index entry riding along with an item change.
type lsiOp struct {
	key, value []byte // value nil deletes the entry
}

// indexEntry is an item's entry in one secondary index: its key (nil when
// the item has none), its projected item's size and canonical JSON.
type indexEntry struct {
	key  []byte
	size int
	js   []byte
}

// entryOf is item's entry in index ix given its key (nil: no entry).
func entryOf(def *catalog.Table, ix catalog.Index, key []byte, item attr.Item) indexEntry {
	if key == nil {
		return indexEntry{size: -1}
	}
	p := lsiProject(def, ix, item)
	return indexEntry{key: key, size: attr.ItemSize(p), js: attr.AppendItemJSON(nil, p)}
}

// bytes is the entry's share of IndexSizeBytes (0 when absent).
func (x indexEntry) bytes() int64 { return int64(max(x.size, 0)) }

// lsiChanges fills in the local secondary index part of ch, a change from
// old (nil: no item) to next (nil: deleted) on a table with LSIs: the
// entry writes, the index counters' deltas, the item collection's key and
// size delta (the item's plus its entries'), and with c the write units of
// each entry changed.
func lsiChanges(ch *change, t *table, def *catalog.Table, kp keyParts, old, next attr.Item, c *Capacity) {
	ch.coll = collectionKey(def, kp)
	ch.collDelta = ch.sizeDelta
	ch.lsiStats = t.lsi
	ch.lsiDelta = make([]IndexStats, len(def.LSIs))
	for i, ix := range def.LSIs {
		o := entryOf(def, ix, lsiKey(def, uint8(i), ix, kp, old), old)
		n := entryOf(def, ix, lsiKey(def, uint8(i), ix, kp, next), next)
		sameKey := bytes.Equal(o.key, n.key)
		if o.key != nil && !sameKey {
			ch.lsi = append(ch.lsi, lsiOp{key: o.key})
		}
		if n.key != nil && !(sameKey && bytes.Equal(o.js, n.js)) {
			ch.lsi = append(ch.lsi, lsiOp{key: n.key, value: encodeStored(n.size, n.js)})
		}
		d := &ch.lsiDelta[i]
		if o.key != nil {
			d.Items--
		}
		if n.key != nil {
			d.Items++
		}
		d.Bytes = n.bytes() - o.bytes()
		ch.collDelta += d.Bytes
		if c != nil {
			if u := indexWriteUnits(o.size, n.size, sameKey, bytes.Equal(o.js, n.js), lsiEntryOverhead); u > 0 {
				c.index(ix.Name, false).Write += u
			}
		}
	}
}

// gsiWriteUnits adds to c the write units of the GSI entries a change from
// old to next (either nil) changes. The GSI indexer writes the entries
// later, from the stream; the write is charged for them now, as DynamoDB
// charges it.
func gsiWriteUnits(c *Capacity, def *catalog.Table, kp keyParts, old, next attr.Item) {
	for _, ix := range def.GSIs {
		o := entryOf(def, ix, gsiKey(def, ix.Ord, ix, kp, old), old)
		n := entryOf(def, ix, gsiKey(def, ix.Ord, ix, kp, next), next)
		if u := indexWriteUnits(o.size, n.size, bytes.Equal(o.key, n.key), bytes.Equal(o.js, n.js), 0); u > 0 {
			c.index(ix.Name, true).Write += u
		}
	}
}

// lsiKey is the entry key of item in LSI number n, nil when the item is
// absent or lacks the index's sort key.
func lsiKey(def *catalog.Table, n uint8, ix catalog.Index, kp keyParts, item attr.Item) []byte {
	if item == nil {
		return nil
	}
	isk, ok := item[lsiSortKey(ix)]
	if !ok {
		return nil
	}
	return keycodec.IndexKey(nil, def.ID, n, kp.hash, *kp.pk, isk, kp.sk)
}

// lsiSortKey is the name of an LSI's sort key attribute.
func lsiSortKey(ix catalog.Index) string {
	for _, k := range ix.KeySchema {
		if k.KeyType == "RANGE" {
			return k.Name
		}
	}
	panic(fmt.Sprintf("engine: LSI %s has no sort key", ix.Name))
}

// lsiProject is the part of item an index keeps: all of it, or the table's
// and the index's keys with the INCLUDE attributes.
func lsiProject(def *catalog.Table, ix catalog.Index, item attr.Item) attr.Item {
	if ix.Projection.Type == "ALL" {
		return item
	}
	out := attr.Item{}
	keep := func(name string) {
		if v, ok := item[name]; ok {
			out[name] = v
		}
	}
	for _, k := range def.KeySchema {
		keep(k.Name)
	}
	for _, k := range ix.KeySchema {
		keep(k.Name)
	}
	if ix.Projection.Type == "INCLUDE" {
		for _, name := range ix.Projection.NonKeyAttributes {
			keep(name)
		}
	}
	return out
}

// withIndexes adds to ch, a change from oldJSON to newJSON (either nil),
// what it does to the table's secondary indexes: the LSI entries, counters
// and item collection (lsiChanges), and with c (nil: not asked) the write
// units of the index entries it changes. A table without LSIs pays for
// decoding the images only when c asks for its GSIs' units.
func withIndexes(ch change, t *table, def *catalog.Table, kp keyParts, oldJSON, newJSON []byte, c *Capacity) change {
	gsis := c != nil && len(def.GSIs) > 0
	if len(def.LSIs) == 0 && !gsis {
		return ch
	}
	decode := func(js []byte) attr.Item {
		if js == nil {
			return nil
		}
		var it attr.Item
		if err := it.UnmarshalJSON(js); err != nil {
			// The engine wrote (or just encoded) these bytes.
			panic(fmt.Sprintf("engine: decoding an item for its indexes: %v", err))
		}
		return it
	}
	old, next := decode(oldJSON), decode(newJSON)
	if len(def.LSIs) > 0 {
		lsiChanges(&ch, t, def, kp, old, next, c)
	}
	if gsis {
		gsiWriteUnits(c, def, kp, old, next)
	}
	return ch
}
