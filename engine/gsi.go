package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

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

// metaGSIStats is the meta kind of a GSI's entry count and byte size
// (rest: the GSI's ordinal). The indexer keeps it in its batches.
const metaGSIStats byte = 'I'

// IndexStats are a secondary index's item count and size in bytes.
type IndexStats struct{ Items, Bytes int64 }

func gsiStatsKey(table uint32, ord uint8) []byte { return keycodec.MetaKey(table, metaGSIStats, ord) }

// gsiStats reads a GSI's counters.
func (e *Engine) gsiStats(table uint32, ord uint8) (IndexStats, error) {
	v, err := e.db.Get(gsiStatsKey(table, ord))
	if errors.Is(err, kv.ErrNotFound) {
		return IndexStats{}, nil
	}
	if err != nil {
		return IndexStats{}, err
	}
	n, k := binary.Varint(v)
	if k <= 0 {
		return IndexStats{}, fmt.Errorf("engine: corrupt GSI stats of %d/%d", table, ord)
	}
	b, k2 := binary.Varint(v[k:])
	if k2 <= 0 {
		return IndexStats{}, fmt.Errorf("engine: corrupt GSI stats of %d/%d", table, ord)
	}
	return IndexStats{Items: n, Bytes: b}, nil
}

func encodeStats(s IndexStats) []byte {
	return binary.AppendVarint(binary.AppendVarint(nil, s.Items), s.Bytes)
}

// keyAttr is one attribute of an index key: its name and declared type.
type keyAttr struct {
	name string
	typ  attr.Type
}

// gsiKeys returns the partition-key and sort-key attributes of a GSI, each
// in KeySchema order: one to four of each (multi-attribute keys), no sort
// key attributes for a GSI without a sort key.
func gsiKeys(def *catalog.Table, ix catalog.Index) (hash, rng []keyAttr) {
	for _, k := range ix.KeySchema {
		a := keyAttr{name: k.Name, typ: def.AttrType(k.Name)}
		if k.KeyType == "HASH" {
			hash = append(hash, a)
		} else {
			rng = append(rng, a)
		}
	}
	return hash, rng
}

// gsiValues returns the item's values of the attributes attrs, or false if
// it lacks one of them, or holds one with a type other than its declared
// type or an empty value (which DynamoDB refuses on writes, and leaves out
// of an index it backfills). An item is in a GSI only if it has ALL the
// GSI's key attributes: a GSI is sparse in each of them.
func gsiValues(item attr.Item, attrs []keyAttr) ([]attr.Value, bool) {
	if len(attrs) == 0 {
		return nil, true
	}
	out := make([]attr.Value, len(attrs))
	for i, a := range attrs {
		v, ok := item[a.name]
		if !ok || v.T != a.typ || (v.T == attr.TypeS && v.S == "") || (v.T == attr.TypeB && len(v.B) == 0) {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// gsiKey is the entry key of item (with table key kp) in GSI number n, nil
// when the item lacks a key attribute of the index (a sparse index) or is
// nil.
func gsiKey(def *catalog.Table, n uint8, ix catalog.Index, kp keyParts, item attr.Item) []byte {
	if item == nil {
		return nil
	}
	hash, rng := gsiKeys(def, ix)
	gpk, ok := gsiValues(item, hash)
	if !ok {
		return nil
	}
	gsk, ok := gsiValues(item, rng)
	if !ok {
		return nil
	}
	h := keycodec.GSIHash(def.HashVersion, gpk)
	return keycodec.GSIKey(nil, def.ID, n, h, gpk, gsk, *kp.pk, kp.sk)
}

// GSIPosition is where a table shard's GSIs stand: the last change record
// applied to them.
func (e *Engine) GSIPosition(table uint32, sh shards.ID) (shards.Seq, error) {
	seq, _, err := e.readPosition(gsiAppliedKey(table, sh), "GSI", table, sh)
	return seq, err
}

// gsiAppliedKey is where a table shard's GSI position is kept.
func gsiAppliedKey(table uint32, sh shards.ID) []byte {
	return keycodec.MetaShardKey(table, metaGSIApplied, sh)
}

// applied tracks, for an index fed from the stream (GSIs, the expiry
// index), each shard's last applied change and the stream sequence to
// resume after, so that a replayed record is skipped and the positions are
// written in the batch of the entries.
type applied struct {
	// read reads a shard's recorded position (0, false if none), kept
	// under key(shard).
	read     func(shards.ID) (shards.Seq, bool, error)
	key      func(shards.ID) []byte
	last     map[shards.ID]shards.Seq
	recorded map[shards.ID]bool // the shard has a position (stored, or taken in this batch)
	stream   uint64
	n        int // records taken
}

// newApplied tracks the positions of table an index keeps under key(shard);
// what names the index in errors.
func (e *Engine) newApplied(what string, table uint32, key func(uint32, shards.ID) []byte) *applied {
	return trackApplied(
		func(sh shards.ID) (shards.Seq, bool, error) { return e.readPosition(key(table, sh), what, table, sh) },
		func(sh shards.ID) []byte { return key(table, sh) })
}

func trackApplied(read func(shards.ID) (shards.Seq, bool, error), key func(shards.ID) []byte) *applied {
	return &applied{read: read, key: key, last: map[shards.ID]shards.Seq{}, recorded: map[shards.ID]bool{}}
}

// at is a shard's position: the last record taken in this batch, or the
// recorded one; recorded is false for a shard that never had a position.
func (a *applied) at(sh shards.ID) (pos shards.Seq, recorded bool, err error) {
	pos, ok := a.last[sh]
	if !ok {
		if pos, a.recorded[sh], err = a.read(sh); err != nil {
			return 0, false, err
		}
		a.last[sh] = pos
	}
	return pos, a.recorded[sh], nil
}

// take reports whether the record (shard, seq) is past its shard's
// applied position, and if so makes it the new one.
func (a *applied) take(sh shards.ID, seq shards.Seq, stream uint64) (bool, error) {
	a.stream = max(a.stream, stream)
	pos, _, err := a.at(sh)
	if err != nil {
		return false, err
	}
	if seq <= pos {
		return false, nil
	}
	a.last[sh], a.recorded[sh] = seq, true
	a.n++
	return true, nil
}

// write puts the positions into b: each shard's that has one (a shard
// only looked at keeps having none), and the stream sequence as that of
// streamShard.
func (a *applied) write(b *kv.Batch, streamShard shards.ID) {
	for sh, seq := range a.last {
		if a.recorded[sh] {
			b.Set(a.key(sh), binary.BigEndian.AppendUint64(nil, uint64(seq)))
		}
	}
	if a.stream > 0 {
		b.Set(a.key(streamShard), binary.BigEndian.AppendUint64(nil, a.stream))
	}
}

// readPosition reads an index's applied position kept at key, and whether
// there is one (0, false if not).
func (e *Engine) readPosition(key []byte, what string, table uint32, sh shards.ID) (shards.Seq, bool, error) {
	v, err := e.db.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil || len(v) != 8 {
		return 0, false, fmt.Errorf("engine: %s position of %d/%d: %v", what, table, sh, err)
	}
	return shards.Seq(binary.BigEndian.Uint64(v)), true, nil
}

// IndexChange is one change record as a reader of the stream hands it to
// an index kept from it (ApplyGSI, ApplyTTL): where it is in its shard, and
// the item's images (canonical DynamoDB JSON, nil when absent).
type IndexChange struct {
	Shard    shards.ID
	Seq      shards.Seq
	Old, New []byte
	// Stream is the record's JetStream stream sequence: the index keeps
	// the highest, where its reader resumes (GSIStreamPosition,
	// TTLStreamPosition).
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
func (e *Engine) ApplyGSI(table uint32, changes []IndexChange) (int, error) {
	t, release, err := e.holdLive(table)
	if t == nil {
		return 0, err
	}
	defer release()
	def := t.def.Load()
	if len(def.GSIs) == 0 {
		return 0, nil
	}
	pos := e.newApplied("GSI", table, gsiAppliedKey)
	stats := map[uint8]IndexStats{} // deltas, by ordinal
	b := e.db.NewBatch()
	defer b.Close()
	for _, c := range changes {
		if err := gsiGap(def, pos, c); err != nil {
			return 0, err
		}
		fresh, err := pos.take(c.Shard, c.Seq, c.Stream)
		if err != nil {
			return 0, err
		}
		if !fresh {
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
		for _, ix := range def.GSIs {
			if ix.Backfilling || c.Seq <= shards.Seq(ix.Through[uint32(c.Shard)]) {
				continue // the backfill covers this change
			}
			oldKey := gsiKey(def, ix.Ord, ix, kp, oldItem)
			newKey := gsiKey(def, ix.Ord, ix, kp, newItem)
			st := stats[ix.Ord]
			if oldKey != nil {
				st.Items--
				st.Bytes -= int64(attr.ItemSize(lsiProject(def, ix, oldItem)))
				if string(oldKey) != string(newKey) {
					b.Delete(oldKey)
				}
			}
			if newKey != nil {
				projected := lsiProject(def, ix, newItem)
				size := attr.ItemSize(projected)
				st.Items++
				st.Bytes += int64(size)
				b.Set(newKey, encodeStored(size, attr.AppendItemJSON(nil, projected)))
			}
			stats[ix.Ord] = st
		}
	}
	pos.write(b, gsiStreamShard)
	for ord, d := range stats {
		cur, err := e.gsiStats(table, ord)
		if err != nil {
			return 0, err
		}
		b.Set(gsiStatsKey(table, ord), encodeStats(IndexStats{Items: cur.Items + d.Items, Bytes: cur.Bytes + d.Bytes}))
	}
	if pos.n == 0 && pos.stream == 0 {
		return 0, nil
	}
	// Not synced: a crash loses only index work the indexer redoes from
	// the stream (the positions are in the same batch).
	return pos.n, b.Commit(false)
}

// GSIGapError is ApplyGSI's answer to a record that comes after a gap in
// its shard's sequence numbers (they are dense) which GSIs of the table
// needed: the stream no longer holds the changes in between (they expired
// before the indexer read them, or were deleted from it), so those GSIs
// lack them. ApplyGSI applies nothing of the batch; RebackfillGSIs
// rebuilds the GSIs named, after which the same records apply.
type GSIGapError struct {
	Table   uint32
	Shard   shards.ID
	After   shards.Seq // the shard's applied position
	Next    shards.Seq // the record that came after the gap
	Indexes []string   // the GSIs that needed the changes in between
}

func (e *GSIGapError) Error() string {
	return fmt.Sprintf("engine: changes %d to %d of table %d shard %d are not in the stream; GSIs %s lack them",
		e.After+1, e.Next-1, e.Table, e.Shard, strings.Join(e.Indexes, ", "))
}

// gsiGap checks that c follows its shard's position, or that every GSI
// that is not backfilling has a backfill covering the changes in between
// (a GSI added later needs none before its backfill's). A shard without a
// recorded position starts at 0 if it is one of the table's first shards;
// a split's children start after their parent's last change, which only
// their first record tells, so theirs is not checked.
func gsiGap(def *catalog.Table, pos *applied, c IndexChange) error {
	at, recorded, err := pos.at(c.Shard)
	if err != nil || c.Seq <= at+1 {
		return err
	}
	if !recorded && c.Shard >= shards.ID(shards.Count(def.ShardBits)) {
		return nil
	}
	gap := &GSIGapError{Table: def.ID, Shard: c.Shard, After: at, Next: c.Seq}
	for _, ix := range def.GSIs {
		if !ix.Backfilling && shards.Seq(ix.Through[uint32(c.Shard)]) < c.Seq-1 {
			gap.Indexes = append(gap.Indexes, ix.Name)
		}
	}
	if len(gap.Indexes) == 0 {
		return nil
	}
	return gap
}

// GSILostChanges finds the changes a table's GSIs still need that are gone
// for good even though no later record of their shard has shown the gap
// to ApplyGSI. This happens when a shard falls idle after changes the
// indexer did not read in time: the indexer was behind by more than the
// retention, say because Sluice was down for a day after a crash.
//
// A shard has such a gap when its GSI position is behind its last change
// and its change log no longer holds the next record. The log drops a
// record only once JetStream holds it and it is past retention, so the
// stream has lost it too, or is about to. The answer is a *GSIGapError
// naming the GSIs that need the lost changes, as ApplyGSI's would be, or
// nil. Lost changes that no GSI needs can never be applied, so the
// shard's position moves past them, and WaitGSI and GSILags stop counting
// them as behind. No GSI needs them once their backfills cover them, as
// after the rebuild that such an error starts. A GSI still backfilling
// will cover them too: its snapshot is later than any lost change. The
// GSI indexer calls this from the goroutine that applies the table's
// changes, so positions move only here.
func (e *Engine) GSILostChanges(table uint32) error {
	t, release, err := e.holdLive(table)
	if t == nil {
		return err
	}
	defer release()
	def := t.def.Load()
	if len(def.GSIs) == 0 {
		return nil
	}
	pos := e.newApplied("GSI", table, gsiAppliedKey)
	lasts := e.lastSeqs(table)
	for _, sh := range slices.Sorted(maps.Keys(lasts)) {
		at, _, err := pos.at(sh)
		if err != nil {
			return err
		}
		if lasts[sh] <= at {
			continue
		}
		first, err := e.firstSeq(table, sh)
		if err != nil {
			return err
		}
		// The lost records run to the one before the log's first, or to
		// the shard's last if the log is empty; gsiGap decides whether
		// they follow the shard's position and which GSIs needed them.
		lostEnd := lasts[sh]
		if first != 0 {
			lostEnd = first - 1
		}
		if err := gsiGap(def, pos, IndexChange{Shard: sh, Seq: lostEnd + 1}); err != nil {
			return err
		}
		if _, err := pos.take(sh, lostEnd, 0); err != nil {
			return err
		}
	}
	if pos.n == 0 {
		return nil
	}
	b := e.db.NewBatch()
	defer b.Close()
	pos.write(b, gsiStreamShard)
	// Not synced, as ApplyGSI's positions.
	return b.Commit(false)
}

// sweepGSI deletes (with del) the entries of GSI ix that it held before a
// rebuild (in snap) and that no item of snap makes: those of the items
// changed or deleted by the changes the GSI lacked.
func (e *Engine) sweepGSI(def *catalog.Table, ix catalog.Index, snap *kv.Snapshot, del func(key []byte) error) (err error) {
	hash, rng := gsiKeys(def, ix)
	g := &gsiRead{hash: hash, rng: rng}
	prefix := keycodec.GSIPrefix(def.ID, ix.Ord)
	it, err := snap.NewIter(prefix, keycodec.PrefixEnd(prefix))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		key, err := lastKey(def, nil, g, it.Key())
		if err != nil {
			return err
		}
		kp, err := e.itemKey(def, keyItemOf(def, key), true)
		if err != nil {
			return err
		}
		_, js, err := readStored(snap, kp.key)
		if err != nil {
			return err
		}
		var item attr.Item
		if js != nil {
			if item, err = decodeImage(js); err != nil {
				return err
			}
		}
		if k := gsiKey(def, ix.Ord, ix, kp, item); bytes.Equal(k, it.Key()) {
			continue // the backfill wrote it again
		}
		if err := del(bytes.Clone(it.Key())); err != nil {
			return err
		}
	}
	return nil
}

// RebackfillGSIs makes the GSIs named of a table backfill again (their
// entries rewritten from a snapshot by BackfillGSI, which the GSI indexer
// runs): the indexer found changes they need missing from the stream
// (GSIGapError). They stay ACTIVE, with Backfilling set, while their
// entries are rewritten in place.
func (e *Engine) RebackfillGSIs(table uint32, names []string) error {
	t, leave, err := e.enterTable(table)
	if t == nil {
		return err
	}
	defer leave()
	newDef, err := e.updateGSIs(t, func(ix *catalog.Index) {
		if slices.Contains(names, ix.Name) {
			ix.Backfilling = true
		}
	})
	if err == nil && newDef != nil {
		e.log.Warn("GSIs lack changes the stream no longer holds; backfilling them again", "table", newDef.Name, "indexes", names)
	}
	return err
}

// updateGSIs applies fn to every GSI of live table t in the catalog, under
// its ddl lock, and returns the new definition (nil if t was dropped).
func (e *Engine) updateGSIs(t *table, fn func(*catalog.Index)) (*catalog.Table, error) {
	t.ddl.Lock()
	defer t.ddl.Unlock()
	if t.dropped {
		return nil, nil
	}
	newDef, err := e.catalog.Update(t.def.Load().Name, func(d *catalog.Table) error {
		for i := range d.GSIs {
			fn(&d.GSIs[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.def.Store(newDef)
	return newDef, nil
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
	n uint8
	// hash and rng are the partition-key and sort-key attributes, in
	// KeySchema order.
	hash, rng []keyAttr
	catalog   catalog.Index
}

// attrTypes returns the types of attrs.
func attrTypes(attrs []keyAttr) []attr.Type {
	out := make([]attr.Type, len(attrs))
	for i, a := range attrs {
		out[i] = a.typ
	}
	return out
}

// gsiOf resolves an index name to one of def's GSIs (nil if it is none).
func gsiOf(def *catalog.Table, name string) *gsiRead {
	for _, ix := range def.GSIs {
		if ix.Name == name {
			h, r := gsiKeys(def, ix)
			return &gsiRead{n: ix.Ord, hash: h, rng: r, catalog: ix}
		}
	}
	return nil
}

// BackfillingGSIs names the GSIs of a table that wait for their backfill.
func (e *Engine) BackfillingGSIs(table uint32) []string {
	t, ok := e.tableByID(table)
	if !ok {
		return nil
	}
	var out []string
	for _, ix := range t.def.Load().GSIs {
		if ix.Backfilling {
			out = append(out, ix.Name)
		}
	}
	return out
}

// backfillBatch is how many entries one backfill batch writes.
const backfillBatch = 1000

// BackfillGSI writes the entries of a GSI added to a table that has items,
// then makes it ACTIVE. Under the table's ddl lock it takes a snapshot and
// each shard's last sequence number together; it writes the entries of the
// snapshot's items (after clearing those of an interrupted backfill); and
// it marks the GSI backfilled through those sequence numbers, so that the
// indexer applies to it only the changes after them. The GSI indexer calls
// it from the goroutine that applies the table's changes, so the two never
// interleave. A GSI that is gone, or a table dropped meanwhile, ends it
// without error.
func (e *Engine) BackfillGSI(table uint32, name string) error {
	t, leave, err := e.enterTable(table)
	if t == nil {
		return err
	}
	defer leave()
	t.ddl.Lock()
	def := t.def.Load()
	var ix *catalog.Index
	for i := range def.GSIs {
		if def.GSIs[i].Name == name && def.GSIs[i].Backfilling {
			ix = &def.GSIs[i]
		}
	}
	if t.dropped || ix == nil {
		t.ddl.Unlock()
		return nil
	}
	// An ACTIVE GSI backfills again (RebackfillGSIs) while clients query
	// it: its entries are overwritten in place and the stale ones removed
	// after, so a Query never misses an item the GSI held all along.
	rebuild := ix.Status == catalog.StatusActive
	through := map[uint32]uint64{}
	for sh, seq := range e.lastSeqs(table) {
		through[uint32(sh)] = uint64(seq)
	}
	snap := e.db.NewSnapshot()
	t.ddl.Unlock()
	defer snap.Close()

	start := time.Now()
	prefix := keycodec.GSIPrefix(table, ix.Ord)
	b := e.db.NewBatch()
	if !rebuild {
		b.DeleteRange(prefix, keycodec.PrefixEnd(prefix)) // an interrupted backfill's
	}
	// step commits b once it holds backfillBatch writes more.
	writes := 0
	step := func() error {
		if writes++; writes%backfillBatch != 0 {
			return nil
		}
		err := b.Commit(false)
		b.Close()
		b = e.db.NewBatch()
		if err == nil && e.backfillStep != nil {
			e.backfillStep()
		}
		return err
	}
	it, err := snap.NewIter(keycodec.TablePrefix(table), keycodec.PrefixEnd(keycodec.TablePrefix(table)))
	if err != nil {
		b.Close()
		return err
	}
	items := 0
	var counted IndexStats
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			b.Close()
			return err
		}
		_, js, err := decodeStored(v)
		if err != nil {
			it.Close()
			b.Close()
			return err
		}
		item, err := decodeImage(js)
		if err != nil {
			it.Close()
			b.Close()
			return err
		}
		kp, err := e.itemKey(def, keyItemOf(def, item), true)
		if err != nil {
			it.Close()
			b.Close()
			return err
		}
		if k := gsiKey(def, ix.Ord, *ix, kp, item); k != nil {
			projected := lsiProject(def, *ix, item)
			size := attr.ItemSize(projected)
			counted.Items++
			counted.Bytes += int64(size)
			b.Set(k, encodeStored(size, attr.AppendItemJSON(nil, projected)))
		}
		items++
		if err := step(); err != nil {
			it.Close()
			b.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		b.Close()
		return err
	}
	if rebuild {
		if err := e.sweepGSI(def, *ix, snap, func(k []byte) error { b.Delete(k); return step() }); err != nil {
			b.Close()
			return err
		}
	}
	b.Set(gsiStatsKey(table, ix.Ord), encodeStats(counted))
	err = b.Commit(true)
	b.Close()
	if err != nil {
		return err
	}

	newDef, err := e.updateGSIs(t, func(ix *catalog.Index) {
		if ix.Name == name && ix.Backfilling {
			ix.Backfilling, ix.Status, ix.Through = false, catalog.StatusActive, through
		}
	})
	if err != nil || newDef == nil {
		return err
	}
	e.log.Info("GSI backfilled", "table", newDef.Name, "index", name, "items", items, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ErrIndexBehind: a read asked to see every change committed before it on a
// GSI (X-Sluice-Index-Consistency: strong) and the indexer did not get
// there within the bound.
var ErrIndexBehind = errors.New("engine: index behind")

// WaitGSI waits until the GSI indexer has applied, for every shard of the
// table, every change committed when WaitGSI was called, or until timeout
// (then ErrIndexBehind). It gives a GSI read the table's read-your-writes
// consistency, for a bounded wait.
func (e *Engine) WaitGSI(name string, timeout time.Duration) error {
	t, ok := e.lookup(name)
	if !ok {
		return attr.Errorf(ErrTableNotFound, "Requested resource not found")
	}
	def := t.def.Load()
	target := e.lastSeqs(def.ID)
	deadline := time.Now().Add(timeout)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 10*time.Millisecond) {
		behind := false
		for sh, want := range target {
			pos, err := e.GSIPosition(def.ID, sh)
			if err != nil {
				return err
			}
			if pos < want {
				behind = true
				break
			}
		}
		if !behind {
			return nil
		}
		if time.Now().After(deadline) {
			return attr.Errorf(ErrIndexBehind, "The global secondary indexes of table %s did not apply the changes committed before this read within %s (X-Sluice-Index-Consistency: strong)", name, timeout)
		}
		time.Sleep(pause)
	}
}

// GSILag is how far a table's GSIs trail it.
type GSILag struct {
	Table string
	Index string
	// Behind is the number of committed changes the indexer has not
	// applied yet, summed over the table's shards.
	Behind int64
	// Backfilling is true while the GSI's backfill has not finished.
	Backfilling bool
}

// GSILags reports the lag of every GSI of every live table.
func (e *Engine) GSILags() ([]GSILag, error) {
	var out []GSILag
	for _, t := range e.tableIndex() {
		def := t.def.Load()
		if len(def.GSIs) == 0 {
			continue
		}
		var behind int64
		last := e.lastSeqs(def.ID)
		for sh, seq := range last {
			pos, err := e.GSIPosition(def.ID, sh)
			if err != nil {
				return nil, err
			}
			if seq > pos {
				behind += int64(seq - pos)
			}
		}
		for _, ix := range def.GSIs {
			out = append(out, GSILag{Table: def.Name, Index: ix.Name, Behind: behind, Backfilling: ix.Backfilling})
		}
	}
	return out, nil
}
