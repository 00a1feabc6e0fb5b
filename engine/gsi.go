package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Global secondary indexes.
//
// A GSI is a materialised view that a stream consumer keeps
// (consumers.GSIIndexer): the write path does not touch it. The consumer
// hands each change record, in order per table shard, to ApplyGSI, which
// writes the entries of every GSI of the table for the change's old and new
// images and the shard's applied sequence number in ONE batch. A record at
// or below the applied sequence number is skipped, so replays after a
// crash apply nothing twice. An entry lives under the GSI's own partition
// key hash ('g' | table | index | hash | GSI keys | table keys), so a GSI
// partition is one contiguous range like a table's.

// metaGSIApplied is the meta kind of a table shard's applied sequence
// number for its GSIs (rest: shard u32).
const metaGSIApplied byte = 'G'

// gsiKeys returns the partition and (if any) sort key names of a GSI.
func gsiKeys(ix catalog.Index) (hash, rng string) {
	for _, k := range ix.KeySchema {
		if k.KeyType == "HASH" {
			hash = k.Name
		} else {
			rng = k.Name
		}
	}
	return hash, rng
}

// gsiKey is the entry key of item (with table key kp) in GSI number n, nil
// when the item lacks a key attribute of the index (a sparse index) or is
// nil.
func gsiKey(def *catalog.Table, n uint8, ix catalog.Index, kp keyParts, item attr.Item) []byte {
	if item == nil {
		return nil
	}
	hName, rName := gsiKeys(ix)
	gpk, ok := item[hName]
	if !ok {
		return nil
	}
	var gsk *attr.Value
	if rName != "" {
		v, ok := item[rName]
		if !ok {
			return nil
		}
		gsk = &v
	}
	typ, canon := keycodec.Canonical(gpk)
	h := shards.HashKey(def.HashVersion, typ, canon)
	return keycodec.GSIKey(nil, def.ID, n, h, gpk, gsk, *kp.pk, kp.sk)
}

// GSIPosition is where a table shard's GSIs stand: the last change record
// applied to them.
func (e *Engine) GSIPosition(table uint32, sh shards.ID) (shards.Seq, error) {
	v, err := e.db.Get(keycodec.MetaShardKey(table, metaGSIApplied, sh))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("engine: GSI position of %d/%d: %v", table, sh, err)
	}
	return shards.Seq(binary.BigEndian.Uint64(v)), nil
}

// GSIChange is one change record as the GSI indexer hands it over: where
// it is in its shard, and the item's images (canonical DynamoDB JSON, nil
// when absent).
type GSIChange struct {
	Shard    shards.ID
	Seq      shards.Seq
	Old, New []byte
	// Stream is the record's JetStream stream sequence: ApplyGSI keeps the
	// highest, where the indexer resumes (GSIStreamPosition).
	Stream uint64
}

// gsiStreamShard is the shard id under which ApplyGSI keeps the stream
// sequence the indexer resumes after (no table shard has it).
const gsiStreamShard shards.ID = 1<<32 - 1

// GSIStreamPosition is the JetStream stream sequence of the last record
// the GSI indexer handed to ApplyGSI for a table (0 if none).
func (e *Engine) GSIStreamPosition(table uint32) (uint64, error) {
	seq, err := e.GSIPosition(table, gsiStreamShard)
	return uint64(seq), err
}

// ApplyGSI applies change records of a table, in order per shard, to its
// GSIs: for each record past its shard's applied position, it deletes the
// entries of the old image and writes those of the new, and it records the
// new positions, all in one batch. It returns how many records it applied.
// A table without GSIs, or a dropped one, applies nothing.
func (e *Engine) ApplyGSI(table uint32, changes []GSIChange) (int, error) {
	leave, err := e.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	t, ok := e.tableByID(table)
	if !ok {
		return 0, nil
	}
	t.ddl.RLock()
	defer t.ddl.RUnlock()
	if t.dropped {
		return 0, nil
	}
	def := t.def.Load()
	if len(def.GSIs) == 0 {
		return 0, nil
	}
	applied := map[shards.ID]shards.Seq{}
	b := e.db.NewBatch()
	defer b.Close()
	n := 0
	var stream uint64
	for _, c := range changes {
		stream = max(stream, c.Stream)
		pos, ok := applied[c.Shard]
		if !ok {
			if pos, err = e.GSIPosition(table, c.Shard); err != nil {
				return 0, err
			}
		}
		if c.Seq <= pos {
			applied[c.Shard] = pos
			continue
		}
		oldItem, err := decodeImage(c.Old)
		if err != nil {
			return 0, err
		}
		newItem, err := decodeImage(c.New)
		if err != nil {
			return 0, err
		}
		keySource := newItem
		if keySource == nil {
			keySource = oldItem
		}
		kp, err := e.itemKey(def, keyItemOf(def, keySource), true)
		if err != nil {
			return 0, fmt.Errorf("engine: GSI record %d/%d/%d: %w", table, c.Shard, c.Seq, err)
		}
		for i, ix := range def.GSIs {
			oldKey := gsiKey(def, uint8(i), ix, kp, oldItem)
			newKey := gsiKey(def, uint8(i), ix, kp, newItem)
			if oldKey != nil && string(oldKey) != string(newKey) {
				b.Delete(oldKey)
			}
			if newKey != nil {
				projected := lsiProject(def, ix, newItem)
				b.Set(newKey, encodeStored(attr.ItemSize(projected), attr.AppendItemJSON(nil, projected)))
			}
		}
		applied[c.Shard] = c.Seq
		n++
	}
	for sh, seq := range applied {
		b.Set(keycodec.MetaShardKey(table, metaGSIApplied, sh), binary.BigEndian.AppendUint64(nil, uint64(seq)))
	}
	if stream > 0 {
		b.Set(keycodec.MetaShardKey(table, metaGSIApplied, gsiStreamShard), binary.BigEndian.AppendUint64(nil, stream))
	}
	if n == 0 && stream == 0 {
		return 0, nil
	}
	// Not synced: a crash loses only index work the indexer redoes from
	// the stream (the positions are in the same batch).
	return n, b.Commit(false)
}

func decodeImage(js []byte) (attr.Item, error) {
	if js == nil {
		return nil, nil
	}
	var it attr.Item
	if err := it.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("engine: decoding a record's image: %w", err)
	}
	return it, nil
}

// keyItemOf is the primary key of an item.
func keyItemOf(def *catalog.Table, item attr.Item) attr.Item {
	key := attr.Item{}
	for _, k := range def.KeySchema {
		if v, ok := item[k.Name]; ok {
			key[k.Name] = v
		}
	}
	return key
}

// TablesWithGSIs lists the live tables that have global secondary indexes,
// by id.
func (e *Engine) TablesWithGSIs() map[uint32]string {
	out := map[uint32]string{}
	for _, t := range e.tableIndex() {
		if def := t.def.Load(); len(def.GSIs) > 0 {
			out[def.ID] = def.Name
		}
	}
	return out
}

// gsiRead is the GSI a read goes through.
type gsiRead struct {
	n              uint8
	hName, rName   string
	hType, rType   attr.Type
	catalog        catalog.Index
	tableH, tableR string
}

// gsiOf resolves an index name to one of def's GSIs (nil if it is none).
func gsiOf(def *catalog.Table, name string) *gsiRead {
	for i, ix := range def.GSIs {
		if ix.Name == name {
			h, r := gsiKeys(ix)
			g := &gsiRead{n: uint8(i), hName: h, rName: r, hType: def.AttrType(h), catalog: ix}
			if r != "" {
				g.rType = def.AttrType(r)
			}
			return g
		}
	}
	return nil
}
