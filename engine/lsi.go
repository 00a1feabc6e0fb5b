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

// lsiOps returns the index writes that replace old's entries (nil: no item)
// by next's (nil: deleted), for every LSI of def.
func lsiOps(def *catalog.Table, kp keyParts, old, next attr.Item) []lsiOp {
	var ops []lsiOp
	for i, ix := range def.LSIs {
		oldKey := lsiKey(def, uint8(i), ix, kp, old)
		newKey := lsiKey(def, uint8(i), ix, kp, next)
		if oldKey != nil && (newKey == nil || !bytes.Equal(oldKey, newKey)) {
			ops = append(ops, lsiOp{key: oldKey})
		}
		if newKey != nil {
			projected := lsiProject(def, ix, next)
			ops = append(ops, lsiOp{key: newKey, value: encodeStored(attr.ItemSize(projected), attr.AppendItemJSON(nil, projected))})
		}
	}
	return ops
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

// withLSIs adds to ch the index writes of a change from oldJSON to newJSON
// (either nil) on a table with LSIs.
func withLSIs(ch change, def *catalog.Table, kp keyParts, oldJSON, newJSON []byte) change {
	if len(def.LSIs) == 0 {
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
	ch.lsi = lsiOps(def, kp, decode(oldJSON), decode(newJSON))
	return ch
}
