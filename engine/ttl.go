package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Time to live: the expiry index.
//
// A table with TTL enabled has an expiry index, a materialised view that a
// stream consumer keeps (consumers.TTLReaper) as the GSI indexer keeps
// GSIs: one entry per item whose TTL attribute is a number, keyed by that
// number and then by the item's key ('e' | table | enc(expiry) | hash |
// enc(pk) | enc(sk), keycodec), so the items due by a time are one range at
// the start of the index. The index depends only on the items (never on
// whether TTL is enabled), so it is exactly a function of the change
// records applied to it.
//
// The consumer hands each change record, in order per table shard, to
// ApplyTTL, which deletes the entry of the old image, writes the entry of
// the new one and records the shard's applied sequence number (and the
// stream sequence the consumer resumes after) in ONE batch. A record at or
// below its shard's applied sequence number is skipped, so replays after a
// crash apply nothing twice.
//
// The index is complete once its header names the table's TTL attribute.
// BackfillTTL builds it, on the goroutine that applies the table's records
// so that the two never interleave: under the table's ddl lock it takes a
// snapshot and every shard's last sequence number together, writes the
// snapshot's entries, then the header and those sequence numbers as the
// applied positions, so the records after the snapshot, and only those,
// are applied on top. A table whose TTL attribute changed, or whose index
// an interrupted backfill left without header, is backfilled again from
// scratch; a table whose TTL was disabled, or that was deleted, loses its
// index (DropTTL).
//
// ExpiredTTL reads the entries due at a time and ExpireTTL deletes their
// items through the normal write path (the items' locks, the commit
// pipeline, their LSI entries in the same batch), each only if its TTL
// attribute still holds the value it was indexed with, as the service:
// their records carry DynamoDB's service userIdentity.

// MaxTTLAge is how far in the past a TTL value may be and still expire its
// item: DynamoDB ignores values more than five years old.
const MaxTTLAge = 5 * 365 * 24 * time.Hour

// ttlHeaderVersion starts the value of an expiry index's header; the TTL
// attribute's name follows.
const ttlHeaderVersion = 1

// ttlStreamShard is the shard id under which ApplyTTL keeps the stream
// sequence the reaper resumes after (no table shard has it).
const ttlStreamShard shards.ID = 1<<32 - 1

// TTLTables lists the live tables with TTL enabled, by id.
func (e *Engine) TTLTables() map[uint32]string {
	out := map[uint32]string{}
	for _, t := range e.tableIndex() {
		if def := t.def.Load(); def.TTL.Enabled {
			out[def.ID] = def.Name
		}
	}
	return out
}

// TTLState is where a table's expiry index stands.
type TTLState int

const (
	// TTLOff: the table is gone or its TTL is disabled; it needs no index.
	TTLOff TTLState = iota
	// TTLStale: TTL is enabled but the index is missing, incomplete or
	// holds another attribute; BackfillTTL rebuilds it.
	TTLStale
	// TTLReady: the index holds the table's TTL attribute.
	TTLReady
)

// TTLIndexState reports where a table's expiry index stands.
func (e *Engine) TTLIndexState(table uint32) (TTLState, error) {
	leave, err := e.enter()
	if err != nil {
		return TTLOff, err
	}
	defer leave()
	return e.ttlIndexState(table)
}

func (e *Engine) ttlIndexState(table uint32) (TTLState, error) {
	t, ok := e.tableByID(table)
	if !ok {
		return TTLOff, nil
	}
	def := t.def.Load()
	if !def.TTL.Enabled {
		return TTLOff, nil
	}
	indexed, ok, err := e.ttlIndexed(table)
	if err != nil {
		return TTLOff, err
	}
	if !ok || indexed != def.TTL.Attribute {
		return TTLStale, nil
	}
	return TTLReady, nil
}

// ttlIndexed reads the attribute a table's complete expiry index holds; ok
// is false when there is no complete index.
func (e *Engine) ttlIndexed(table uint32) (name string, ok bool, err error) {
	v, err := e.db.Get(keycodec.TTLHeaderKey(table))
	if errors.Is(err, kv.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if len(v) < 1 || v[0] != ttlHeaderVersion {
		return "", false, fmt.Errorf("engine: corrupt TTL index header of table %d", table)
	}
	return string(v[1:]), true, nil
}

// TTLPosition is the last change record of a table shard applied to its
// expiry index (0 if none).
func (e *Engine) TTLPosition(table uint32, sh shards.ID) (shards.Seq, error) {
	leave, err := e.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	seq, _, err := e.readPosition(keycodec.TTLAppliedKey(table, sh), "TTL", table, sh)
	return seq, err
}

// TTLStreamPosition is the JetStream stream sequence of the last record
// applied to a table's expiry index, or recorded by its backfill (0 if
// none): the reaper resumes after it.
func (e *Engine) TTLStreamPosition(table uint32) (uint64, error) {
	seq, err := e.TTLPosition(table, ttlStreamShard)
	return uint64(seq), err
}

// ApplyTTL applies change records of a table, in order per shard, to its
// expiry index: for each record past its shard's applied position, it
// deletes the entry of the old image and writes that of the new, and it
// records the new positions, all in one batch. It returns how many records
// it applied. A table without a complete index for its TTL attribute
// applies nothing (BackfillTTL builds it). The caller serializes
// ApplyTTL, BackfillTTL and DropTTL of a table.
func (e *Engine) ApplyTTL(table uint32, changes []IndexChange) (int, error) {
	t, release, err := e.holdLive(table)
	if t == nil {
		return 0, err
	}
	defer release()
	def := t.def.Load()
	name, ok, err := e.ttlIndexed(table)
	if err != nil || !ok || !def.TTL.Enabled || name != def.TTL.Attribute {
		return 0, err
	}
	pos := e.newApplied("TTL", table, keycodec.TTLAppliedKey)
	b := e.db.NewBatch()
	defer b.Close()
	for _, c := range changes {
		fresh, err := pos.take(c.Shard, c.Seq, c.Stream)
		if err != nil {
			return 0, err
		}
		if !fresh {
			continue
		}
		// Only the TTL attribute of each image matters, and the key of
		// one of them (the new image's, or the old one's for a REMOVE).
		oldExp, oldHas, err := ttlValue(c.Old, name)
		if err != nil {
			return 0, err
		}
		newExp, newHas, err := ttlValue(c.New, name)
		if err != nil {
			return 0, err
		}
		if !oldHas && !newHas || oldHas && newHas && oldExp == newExp {
			continue // no entry, or the same one: nothing to write
		}
		image := c.New
		if image == nil {
			image = c.Old
		}
		key, _, _, err := ttlImage(def, image, "")
		if err != nil {
			return 0, err
		}
		kp, err := e.itemKey(def, key, true)
		if err != nil {
			return 0, fmt.Errorf("engine: TTL record %d/%d/%d: %w", table, c.Shard, c.Seq, err)
		}
		if oldHas {
			b.Delete(keycodec.TTLEntryKey(nil, table, oldExp, kp.key))
		}
		if newHas {
			b.Set(keycodec.TTLEntryKey(nil, table, newExp, kp.key), nil)
		}
	}
	pos.write(b, ttlStreamShard)
	if pos.n == 0 && pos.stream == 0 {
		return 0, nil
	}
	// Not synced: a crash loses only index work the reaper redoes from the
	// stream (the positions are in the same batch).
	return pos.n, b.Commit(false)
}

// BackfillTTL builds a table's expiry index from scratch for its TTL
// attribute: under the table's ddl lock it takes a snapshot and each
// shard's last sequence number together; it clears whatever index the
// table had and writes the entries of the snapshot's items; then, in one
// batch, the header naming the attribute, those sequence numbers as the
// applied positions and streamSeq as the stream position, so that the
// reaper applies only the changes after the snapshot. streamSeq must be a
// stream sequence read before the call (every record at or below it is
// then in the snapshot), or 0 to read the stream from its start. A table
// dropped meanwhile, or with TTL disabled, ends it without error. The
// caller serializes ApplyTTL, BackfillTTL and DropTTL of a table.
func (e *Engine) BackfillTTL(table uint32, streamSeq uint64) error {
	t, leave, err := e.enterTable(table)
	if t == nil {
		return err
	}
	defer leave()
	t.ddl.Lock()
	def := t.def.Load()
	if t.dropped || !def.TTL.Enabled {
		t.ddl.Unlock()
		return nil
	}
	name := def.TTL.Attribute
	through := e.lastSeqs(table)
	snap := e.db.NewSnapshot()
	t.ddl.Unlock()
	defer snap.Close()

	start := time.Now()
	prefix := keycodec.TTLPrefix(table)
	b := e.db.NewBatch()
	defer func() { b.Close() }()
	b.DeleteRange(prefix, keycodec.PrefixEnd(prefix))
	items, entries := 0, 0
	scan := func() (err error) {
		it, err := snap.NewIter(keycodec.TablePrefix(table), keycodec.PrefixEnd(keycodec.TablePrefix(table)))
		if err != nil {
			return err
		}
		defer closeIter(it, &err)
		for ok := it.First(); ok; ok = it.Next() {
			v, err := it.Value()
			if err != nil {
				return err
			}
			_, js, err := decodeStored(v)
			if err != nil {
				return err
			}
			_, exp, ok, err := ttlImage(def, js, name)
			if err != nil {
				return err
			}
			if ok {
				b.Set(keycodec.TTLEntryKey(nil, table, exp, it.Key()), nil)
				entries++
			}
			if items++; items%backfillBatch == 0 {
				if err := b.Commit(false); err != nil {
					return err
				}
				b.Close()
				b = e.db.NewBatch()
			}
		}
		return nil
	}
	if err := scan(); err != nil {
		return err
	}
	for sh, seq := range through {
		b.Set(keycodec.TTLAppliedKey(table, sh), binary.BigEndian.AppendUint64(nil, uint64(seq)))
	}
	if streamSeq > 0 {
		b.Set(keycodec.TTLAppliedKey(table, ttlStreamShard), binary.BigEndian.AppendUint64(nil, streamSeq))
	}
	b.Set(keycodec.TTLHeaderKey(table), append([]byte{ttlHeaderVersion}, name...))
	if err := b.Commit(true); err != nil {
		return err
	}
	e.log.Info("TTL index built", "table", def.Name, "attribute", name, "items", items, "entries", entries,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// DropTTL deletes a table's expiry index (entries, header and positions)
// unless the table is live with TTL enabled; it reports whether it did.
// The reaper drops the index of a table whose TTL was disabled, and those
// of deleted tables. The caller serializes ApplyTTL, BackfillTTL and
// DropTTL of a table.
func (e *Engine) DropTTL(table uint32) (bool, error) {
	leave, err := e.enter()
	if err != nil {
		return false, err
	}
	defer leave()
	if t, ok := e.tableByID(table); ok && t.def.Load().TTL.Enabled {
		return false, nil
	}
	prefix := keycodec.TTLPrefix(table)
	b := e.db.NewBatch()
	defer b.Close()
	b.DeleteRange(prefix, keycodec.PrefixEnd(prefix))
	// Not synced: an index that survives a crash is dropped again.
	return true, b.Commit(false)
}

// TTLIndexes lists the tables that have any expiry-index data, complete
// or not, by id.
func (e *Engine) TTLIndexes() (ids []uint32, err error) {
	leave, err := e.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	p := keycodec.TTLIndexPrefix()
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer closeIter(it, &err)
	var out []uint32
	for ok := it.First(); ok; {
		id, err := keycodec.DecodeTTLTable(it.Key())
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		next := keycodec.PrefixEnd(keycodec.TTLPrefix(id))
		if next == nil {
			break
		}
		ok = it.SeekGE(next)
	}
	return out, nil
}

// closeIter closes it, keeping the first error in *err.
func closeIter(it *kv.Iter, err *error) {
	if cerr := it.Close(); *err == nil {
		*err = cerr
	}
}

// TTLEntry is an item due to expire, as the expiry index holds it. Only
// ExpiredTTL makes them: PartitionTTL and ExpireTTL use the key it decoded.
type TTLEntry struct {
	Expiry attr.Number // the TTL attribute's value the item was indexed with
	index  []byte      // the entry's key
	kp     keyParts    // the item's key, decoded from its storage key
	def    *catalog.Table
}

// Key is the item's primary key. The reaper itself does not need it as an
// item, so it is built only when asked: a map per due entry was the
// largest allocation of a reaped item's own.
func (d *TTLEntry) Key() attr.Item { return keyItem(d.def, d.kp) }

// PartitionTTL splits due entries into n groups (some maybe empty) such
// that no two groups hold items guarded by the same item lock, so that
// ExpireTTL calls on different groups, even of different calls of
// PartitionTTL, never wait for each other: group i holds the items of
// every i-th lock stripe.
func (e *Engine) PartitionTTL(due []TTLEntry, n int) [][]TTLEntry {
	out := make([][]TTLEntry, n)
	for _, d := range due {
		i := e.stripe(d.kp.key) % n
		out[i] = append(out[i], d)
	}
	return out
}

// ttlBounds are the TTL values that expire an item at now: from five
// years back (MaxTTLAge) to now, in whole epoch seconds, both included.
func ttlBounds(now time.Time) (lo, hi attr.Number) {
	num := func(n int64) attr.Number {
		v, err := attr.ParseNumber(strconv.FormatInt(n, 10))
		if err != nil {
			panic(err) // an integer always parses
		}
		return v
	}
	return num(now.Add(-MaxTTLAge).Unix()), num(now.Unix())
}

// TTLDue reports whether a TTL value expires its item at now: a number of
// epoch seconds not after now and not more than five years before it.
func TTLDue(v attr.Number, now time.Time) bool {
	lo, hi := ttlBounds(now)
	return ttlWithin(v, lo, hi)
}

// ttlWithin reports whether v is within ttlBounds lo and hi.
func ttlWithin(v, lo, hi attr.Number) bool {
	return attr.CompareNumbers(v, lo) >= 0 && attr.CompareNumbers(v, hi) <= 0
}

// ttlPageCap bounds what ExpiredTTL allocates up front for its entries.
const ttlPageCap = 256

// ExpiredTTL returns up to limit entries of a table's expiry index that
// are due at now (TTLDue), in expiry order, starting after the entry after
// (nil: from the first). A table without a complete index for its TTL
// attribute has none. The entries may trail the table by the records the
// reaper has yet to apply: ExpireTTL checks each item again.
func (e *Engine) ExpiredTTL(table uint32, now time.Time, after *TTLEntry, limit int) (due []TTLEntry, err error) {
	t, leave, err := e.enterTable(table)
	if t == nil {
		return nil, err
	}
	defer leave()
	def := t.def.Load()
	name, ok, err := e.ttlIndexed(table)
	if err != nil || !ok || !def.TTL.Enabled || name != def.TTL.Attribute {
		return nil, err
	}
	_, pkType := def.HashKey()
	_, skType := def.RangeKey()
	lo, hi := ttlBounds(now)
	it, err := e.db.NewIter(keycodec.TTLEntryStart(table, lo), keycodec.PrefixEnd(keycodec.TTLEntryStart(table, hi)))
	if err != nil {
		return nil, err
	}
	defer closeIter(it, &err)
	if after == nil {
		ok = it.First()
	} else {
		ok = it.SeekGE(append(append([]byte(nil), after.index...), 0))
	}
	due = make([]TTLEntry, 0, min(limit, ttlPageCap))
	var keys []byte // the entries' keys, copied into one growing array, not one allocation each
	for ; ok && len(due) < limit; ok = it.Next() {
		start := len(keys)
		keys = append(keys, it.Key()...)
		k := keys[start:len(keys):len(keys)]
		_, exp, itemKey, err := keycodec.DecodeTTLEntryKey(k)
		if err != nil {
			return nil, err
		}
		h, pk, sk, err := keycodec.DecodeItemKey(itemKey, pkType, skType)
		if err != nil {
			return nil, err
		}
		kp := keyParts{pk: &pk, sk: sk, hash: h, key: itemKey, pkText: partitionKeyText(pk)}
		due = append(due, TTLEntry{Expiry: exp, index: k, kp: kp, def: def})
	}
	return due, nil
}

// ExpireTTL deletes the items of due entries of a table (from ExpiredTTL)
// through the normal write path, as BatchWriteItem deletes them: it
// read-locks the table, locks the items' stripes in order, and for each
// item whose TTL attribute still holds the entry's value, due at now,
// commits its deletion (with its LSI entries) as the service, so its
// REMOVE record carries DynamoDB's service userIdentity. The deletions
// commit as one request. An item that changed or went away since it was
// indexed is left alone, without failing the others; a table whose TTL
// was disabled meanwhile deletes nothing. It returns how many items it
// deleted.
func (e *Engine) ExpireTTL(table uint32, due []TTLEntry, now time.Time) (int, error) {
	if len(due) == 0 {
		return 0, nil
	}
	t, release, err := e.holdLive(table)
	if t == nil {
		return 0, err
	}
	defer release()
	def := t.def.Load()
	if !def.TTL.Enabled {
		return 0, nil
	}
	name := def.TTL.Attribute
	kps := make([]keyParts, 0, len(due))
	exps := make([]attr.Number, 0, len(due))
	keys := make([][]byte, 0, len(due))
	seen := make(map[string]struct{}, len(due))
	lo, hi := ttlBounds(now)
	for _, d := range due {
		if !ttlWithin(d.Expiry, lo, hi) {
			continue
		}
		kp := d.kp
		if _, dup := seen[string(kp.key)]; dup {
			continue
		}
		seen[string(kp.key)] = struct{}{}
		kps = append(kps, kp)
		exps = append(exps, d.Expiry)
		keys = append(keys, kp.key)
	}
	unlock := e.lockStripes(keys)
	defer unlock()
	// The items in key order through one iterator (the entries come in
	// expiry order): a seek reuses the blocks the one before loaded.
	stored, err := e.readCurrentAll(keys)
	if err != nil {
		return 0, err
	}
	changes := make([]change, 0, len(kps))
	service := event.Identity{Service: true}
	for i, kp := range kps {
		oldSize, oldJSON, err := storedOrAbsent(stored[i])
		if err != nil {
			return 0, err
		}
		if oldJSON == nil {
			continue // deleted meanwhile
		}
		v, ok, err := ttlValue(oldJSON, name)
		if err != nil {
			return 0, err
		}
		if !ok || attr.CompareNumbers(v, exps[i]) != 0 {
			continue // changed since it was indexed: its new value decides
		}
		c := e.deleteChange(t, def, kp, oldSize, oldJSON, service, nil)
		c.cold = true
		changes = append(changes, c)
	}
	if len(changes) == 0 {
		return 0, nil
	}
	if err := e.committer.commit(changes); err != nil {
		return 0, err
	}
	return len(changes), nil
}

// TTLLag is how far a table's expiry index and reaping trail the table.
type TTLLag struct {
	ID    uint32
	Table string
	// Behind is the number of committed changes not yet applied to the
	// index, summed over the table's shards.
	Behind int64
	// Ready is false while the index is missing, or is being rebuilt for
	// the table's TTL attribute.
	Ready bool
	// OldestDue is the expiry of the oldest item due at the time asked
	// (per the index), zero when none is.
	OldestDue time.Time
}

// TTLLags reports, for every live table with TTL enabled, how far its
// expiry index trails it and the expiry of its oldest due item at now.
func (e *Engine) TTLLags(now time.Time) ([]TTLLag, error) {
	var out []TTLLag
	for id, name := range e.TTLTables() {
		lag := TTLLag{ID: id, Table: name}
		state, err := e.TTLIndexState(id)
		if err != nil {
			return nil, err
		}
		lag.Ready = state == TTLReady
		last := e.lastSeqs(id)
		for sh, seq := range last {
			pos, err := e.TTLPosition(id, sh)
			if err != nil {
				return nil, err
			}
			if seq > pos {
				lag.Behind += int64(seq - pos)
			}
		}
		due, err := e.ExpiredTTL(id, now, nil, 1)
		if err != nil {
			return nil, err
		}
		if len(due) > 0 {
			if secs, err := strconv.ParseFloat(string(due[0].Expiry), 64); err == nil {
				lag.OldestDue = time.Unix(0, int64(secs*1e9))
			}
		}
		out = append(out, lag)
	}
	slices.SortFunc(out, func(a, b TTLLag) int { return strings.Compare(a.Table, b.Table) })
	return out, nil
}

// ErrTTLBehind: WaitTTL's bound passed before the expiry index caught up.
var ErrTTLBehind = errors.New("engine: TTL index behind")

// WaitTTL waits until a table's expiry index is complete and has applied,
// for every shard, every change committed when WaitTTL was called, or
// until timeout (then ErrTTLBehind).
func (e *Engine) WaitTTL(name string, timeout time.Duration) error {
	t, ok := e.lookup(name)
	if !ok {
		return notFound(name)
	}
	def := t.def.Load()
	target := e.lastSeqs(def.ID)
	deadline := time.Now().Add(timeout)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 10*time.Millisecond) {
		behind := false
		state, err := e.TTLIndexState(def.ID)
		if err != nil {
			return err
		}
		if state != TTLReady {
			behind = true
		}
		for sh, want := range target {
			if behind {
				break
			}
			pos, err := e.TTLPosition(def.ID, sh)
			if err != nil {
				return err
			}
			behind = pos < want
		}
		if !behind {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: table %s after %s", ErrTTLBehind, name, timeout)
		}
		time.Sleep(pause)
	}
}

// Reading a few attributes of an item without decoding it: the expiry
// index needs only the TTL attribute and the key of each image it sees.

// members finds the named top-level members of an item's canonical JSON
// (attr.AppendItemJSON: no spaces, names escaped by attr.AppendString)
// and decodes their values into out (out[i] is left alone when names[i]
// is absent); found reports which were there.
func members(js []byte, names []string, out []attr.Value) (found uint8, err error) {
	var encodedBuf [3][]byte
	var buf [128]byte
	encoded, b := encodedBuf[:0], buf[:0]
	for _, name := range names {
		start := len(b)
		b = attr.AppendString(b, name)
		encoded = append(encoded, b[start:])
	}
	corrupt := func() (uint8, error) { return 0, fmt.Errorf("engine: corrupt item JSON %.40q", js) }
	if len(js) < 2 || js[0] != '{' {
		return corrupt()
	}
	i := 1
	for i < len(js) && js[i] != '}' {
		if js[i] == ',' && i > 1 {
			i++
		}
		if i >= len(js) || js[i] != '"' {
			return corrupt()
		}
		end := attr.SkipJSON(js, i)
		if end < 0 || end >= len(js) || js[end] != ':' {
			return corrupt()
		}
		name := js[i:end]
		vend := -1
		if end+1 < len(js) && js[end+1] == '{' { // a value is an object
			vend = attr.SkipJSON(js, end+1)
		}
		if vend < 0 {
			return corrupt()
		}
		for n := range names {
			if found&(1<<n) == 0 && string(name) == string(encoded[n]) {
				if err := out[n].UnmarshalJSON(js[end+1 : vend]); err != nil {
					return 0, err
				}
				found |= 1 << n
			}
		}
		i = vend
	}
	if i != len(js)-1 {
		return corrupt()
	}
	return found, nil
}

// ttlValue reads an image's TTL attribute (canonical JSON, nil when
// absent) if it is a number. Equal texts make the same entry (two texts
// of one number make the same entry key too: ApplyTTL then deletes it and
// sets it again in the same batch, which leaves it).
func ttlValue(js []byte, name string) (exp attr.Number, ok bool, err error) {
	if js == nil {
		return "", false, nil
	}
	var vals [1]attr.Value
	found, err := members(js, []string{name}, vals[:])
	if err != nil || found == 0 || vals[0].T != attr.TypeN {
		return "", false, err
	}
	return vals[0].N, true, nil
}

// ttlImage reads what the expiry index needs of an image (canonical JSON,
// nil when absent): the item's primary key and its TTL attribute's value
// if that is a number.
func ttlImage(def *catalog.Table, js []byte, name string) (key attr.Item, exp attr.Number, hasExp bool, err error) {
	if js == nil {
		return nil, "", false, nil
	}
	var vals [3]attr.Value
	names := []string{name, "", ""}
	for i, k := range def.KeySchema {
		names[1+i] = k.Name
	}
	names = names[:1+len(def.KeySchema)]
	found, err := members(js, names, vals[:])
	if err != nil {
		return nil, "", false, err
	}
	key = attr.Item{}
	for i := 1; i < len(names); i++ {
		if found&(1<<i) != 0 {
			key[names[i]] = vals[i]
		}
	}
	if found&1 != 0 && vals[0].T == attr.TypeN {
		return key, vals[0].N, true, nil
	}
	return key, "", false, nil
}
