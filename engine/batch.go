package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/invariants"
)

// Batch operations (BatchWriteItem, BatchGetItem).
//
// BatchWrite validates every request before it locks anything, so bad input
// changes nothing; then it read-locks the tables against DeleteTable (in
// table-id order), locks the items' stripes (in stripe order, each stripe
// once), reads the current images and commits every change in ONE committer
// request: the whole batch is one fsynced Pebble batch, atomic on disk and in
// the change log, with dense per-shard sequence numbers. That is stronger
// than DynamoDB, where only each single put or delete is atomic.
//
// Sluice never throttles, so nothing is ever left unprocessed: the
// UnprocessedItems of BatchWriteItem are always empty, and BatchGetItem's
// UnprocessedKeys hold only the keys past the 16 MB response limit.
//
// Fixed lock orders keep batches (and later transactions) from deadlocking
// with each other: table ddl read locks by ascending table id, then item
// stripes by ascending stripe index. Single-item writes take one table lock
// and one stripe, in the same order.

// DynamoDB's batch limits.
const (
	// MaxBatchWrites is the most put and delete requests one BatchWriteItem
	// call may hold, across all its tables.
	MaxBatchWrites = 25
	// MaxBatchGetKeys is the most keys one BatchGetItem call may ask for,
	// across all its tables.
	MaxBatchGetKeys = 100
	// MaxBatchGetBytes bounds the items one BatchGetItem call returns (16 MB
	// of DynamoDB item size); the keys past it are returned unprocessed.
	MaxBatchGetBytes = 16 << 20
)

// Batch messages, word for word as DynamoDB sends them.
const (
	MsgDuplicateKeys    = "Provided list of item keys contains duplicates"
	MsgTooManyWrites    = "Too many items requested for the BatchWriteItem call"
	MsgTooManyGets      = "Too many items requested for the BatchGetItem call"
	MsgWriteItemsNeeded = "The requestItems parameter is required for BatchWriteItem"
	MsgGetItemsNeeded   = "The requestItems parameter is required for BatchGetItem"
)

// BatchWriteOp is one request of a BatchWriteItem call: a put (Item set) or
// a delete (Key set). Exactly one of Item and Key is non-nil.
type BatchWriteOp struct {
	Table string
	Item  attr.Item // PutRequest: the whole item, validated by the caller
	Key   attr.Item // DeleteRequest: exactly the primary key
}

// BatchWriteRequest is a BatchWriteItem call, checked for shape by the caller.
type BatchWriteRequest struct {
	Ops []BatchWriteOp // 1 to MaxBatchWrites, no two on the same item
	Who event.Identity
	// IndexUnits is as PutRequest's.
	IndexUnits bool
}

// BatchWriteResult is the outcome of BatchWrite. There are no unprocessed
// requests: BatchWrite applies all of them or none.
type BatchWriteResult struct {
	// Capacity is the write capacity consumed per table, in the order the
	// tables first appear in Ops: for each put one unit per started KB of
	// the larger of the old and new item, for each delete one per started
	// KB of the old item, at least one each (unchanged puts and deletes of
	// absent items are charged too, as DynamoDB does), plus the write
	// units of the index entries changed (see withIndexes).
	Capacity []Capacity
	// Collections holds, per op, its item's collection after the batch on
	// a table with local secondary indexes, else nil.
	Collections []*CollectionMetric
}

// BatchGetTable is one table's part of a BatchGetItem call.
type BatchGetTable struct {
	Table      string
	Keys       []attr.Item // each exactly a primary key
	Consistent bool
}

// BatchGetRequest is a BatchGetItem call, checked for shape by the caller.
type BatchGetRequest struct {
	Tables []BatchGetTable // 1 to MaxBatchGetKeys keys in all, no duplicates
}

// BatchGetTableResult is what BatchGet read for one BatchGetTable.
type BatchGetTableResult struct {
	// Items are the items found, as canonical DynamoDB JSON, in key order;
	// missing items are simply absent.
	Items [][]byte
	// Unprocessed are the keys left unread because the response reached
	// MaxBatchGetBytes; the client retries them.
	Unprocessed []attr.Item
	// Capacity: per key read, one unit per started 4 KB of the item (one
	// for a missing item), halved when not Consistent. Unprocessed keys are
	// not charged.
	Capacity Capacity
}

// BatchGetResult holds one BatchGetTableResult per request table, in order.
type BatchGetResult struct {
	Tables []BatchGetTableResult
}

// lockStripes locks the stripes guarding keys in ascending order, each once
// (two keys may share a stripe), and returns the function that unlocks them.
func (e *Engine) lockStripes(keys [][]byte) (unlock func()) {
	idx := make([]int, len(keys))
	for i, k := range keys {
		idx[i] = e.stripe(k)
		if invariants.Enabled && &e.locks[idx[i]] != e.lockFor(k) {
			panic("engine: stripe and lockFor disagree")
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		e.locks[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			e.locks[i].Unlock()
		}
	}
}

// lockedTable is a table read-locked for a batch, with the definition read
// under the lock.
type lockedTable struct {
	t   *table
	def *catalog.Table
}

// lockTables resolves every named table and read-locks it against
// DeleteTable, in ascending table id so that concurrent batches cannot
// deadlock with each other and a pending DeleteTable. A missing (or just
// dropped) table is ResourceNotFoundException and leaves nothing locked.
func (e *Engine) lockTables(names []string) (map[string]lockedTable, func(), error) {
	byName := make(map[string]lockedTable, len(names))
	var order []*table
	for _, name := range names {
		if _, ok := byName[name]; ok {
			continue
		}
		t, ok := e.lookup(name)
		if !ok {
			return nil, nil, attr.Errorf(ErrTableNotFound, "Requested resource not found")
		}
		byName[name] = lockedTable{t: t}
		if !slices.Contains(order, t) {
			order = append(order, t)
		}
	}
	slices.SortFunc(order, func(a, b *table) int { return cmp.Compare(a.def.Load().ID, b.def.Load().ID) })
	release := func(locked []*table) {
		for _, t := range slices.Backward(locked) {
			t.ddl.RUnlock()
		}
	}
	for i, t := range order {
		t.ddl.RLock()
		if t.dropped {
			release(order[:i+1])
			return nil, nil, attr.Errorf(ErrTableNotFound, "Requested resource not found")
		}
	}
	for name, lt := range byName {
		lt.def = lt.t.def.Load()
		byName[name] = lt
	}
	return byName, func() { release(order) }, nil
}

// batchPut is one validated request of a batch write.
type batchPut struct {
	lt      lockedTable
	kp      keyParts
	put     bool
	size    int    // new item's size (put)
	newJSON []byte // new item (put)
}

// BatchWrite applies up to MaxBatchWrites puts and deletes across tables,
// atomically (see the comment at the top of this file). Errors, in order:
// ErrClosed; a ValidationException for no requests or too many; then
// ResourceNotFoundException if any table is missing; then, request by
// request, the key checks of DeleteItem (for puts too: DynamoDB answers a
// put whose item lacks a key attribute, or has one of the wrong type, with
// attr.MsgKeySchemaMismatch), the item size, and MsgDuplicateKeys for a
// second request on the same item.
func (e *Engine) BatchWrite(req BatchWriteRequest) (BatchWriteResult, error) {
	leave, err := e.enter()
	if err != nil {
		return BatchWriteResult{}, err
	}
	defer leave()
	switch {
	case len(req.Ops) == 0:
		return BatchWriteResult{}, attr.Invalid(MsgWriteItemsNeeded)
	case len(req.Ops) > MaxBatchWrites:
		return BatchWriteResult{}, attr.Invalid(MsgTooManyWrites)
	}
	names := make([]string, len(req.Ops))
	for i, op := range req.Ops {
		names[i] = op.Table
	}
	tables, release, err := e.lockTables(names)
	if err != nil {
		return BatchWriteResult{}, err
	}
	defer release()

	// Validate everything before locking an item: bad input changes nothing.
	ops := make([]batchPut, len(req.Ops))
	keys := make([][]byte, len(req.Ops))
	seen := make(map[string]struct{}, len(req.Ops))
	for i, op := range req.Ops {
		p := batchPut{lt: tables[op.Table], put: op.Item != nil}
		if p.put == (op.Key != nil) {
			return BatchWriteResult{}, fmt.Errorf("engine: batch write %d has both or neither of Item and Key", i)
		}
		if p.put {
			if invariants.Enabled {
				if err := attr.ValidateItem(op.Item); err != nil {
					panic(fmt.Sprintf("engine: BatchWrite got an unvalidated item: %v", err))
				}
			}
			if err := putKeyShape(p.lt.def, op.Item); err != nil {
				return BatchWriteResult{}, err
			}
			if p.kp, err = e.itemKey(p.lt.def, op.Item, false); err != nil {
				return BatchWriteResult{}, err
			}
			if p.size, p.newJSON, err = encodeItem(op.Item); err != nil {
				return BatchWriteResult{}, err
			}
		} else if p.kp, err = e.itemKey(p.lt.def, op.Key, true); err != nil {
			return BatchWriteResult{}, err
		}
		if _, dup := seen[string(p.kp.key)]; dup {
			return BatchWriteResult{}, attr.Invalid(MsgDuplicateKeys)
		}
		seen[string(p.kp.key)] = struct{}{}
		ops[i] = p
		keys[i] = p.kp.key
	}

	unlock := e.lockStripes(keys)
	defer unlock()
	var res BatchWriteResult
	at := map[string]int{} // table name -> index in res.Capacity
	changes := make([]change, 0, len(ops))
	changeOf := make([]int, len(ops)) // op -> index in changes, -1 for none
	current, err := e.readCurrentAll(keys)
	if err != nil {
		return BatchWriteResult{}, err
	}
	for i, p := range ops {
		oldSize, oldJSON, err := storedOrAbsent(current[i])
		if err != nil {
			return BatchWriteResult{}, err
		}
		var units Capacity
		changeOf[i] = -1
		if p.put {
			units = writeCapacity(p.lt.def.Name, max(p.size, oldSize))
			if ch, changed := e.putChange(p.lt.t, p.lt.def, p.kp, p.size, p.newJSON, oldSize, oldJSON, req.Who, unitsOf(&units, req.IndexUnits)); changed {
				changeOf[i] = len(changes)
				changes = append(changes, ch)
			}
		} else {
			units = writeCapacity(p.lt.def.Name, oldSize)
			if oldJSON != nil { // deleting nothing records nothing
				changeOf[i] = len(changes)
				changes = append(changes, e.deleteChange(p.lt.t, p.lt.def, p.kp, oldSize, oldJSON, req.Who, unitsOf(&units, req.IndexUnits)))
			}
		}
		name := req.Ops[i].Table
		j, ok := at[name]
		if !ok {
			j = len(res.Capacity)
			at[name] = j
			res.Capacity = append(res.Capacity, Capacity{Table: p.lt.def.Name})
		}
		res.Capacity[j].Add(units)
	}
	if len(changes) > 0 {
		if err := e.committer.commit(changes); err != nil {
			return BatchWriteResult{}, err
		}
	}
	res.Collections = make([]*CollectionMetric, len(ops))
	for i, p := range ops {
		size := int64(-1)
		if j := changeOf[i]; j >= 0 && changes[j].coll != nil {
			size = changes[j].collSize
		}
		if res.Collections[i], err = e.collectionMetric(p.lt.def, p.kp, size); err != nil {
			return BatchWriteResult{}, err
		}
	}
	return res, nil
}

// putKeyShape checks that a batch put's item has every key attribute with
// its schema type; DynamoDB reports either mistake in a BatchWriteItem with
// the Key parameter's message. Empty values and sizes are itemKey's job.
func putKeyShape(def *catalog.Table, item attr.Item) error {
	for _, k := range def.KeySchema {
		v, ok := item[k.Name]
		if !ok || v.T != def.AttrType(k.Name) {
			return attr.Invalid(attr.MsgKeySchemaMismatch)
		}
	}
	return nil
}

// BatchGet reads up to MaxBatchGetKeys items across tables from one
// snapshot of the store, so the whole response is one consistent view
// (every read is strongly consistent; ConsistentRead changes only the
// capacity charged). Once the items read reach MaxBatchGetBytes, that key
// and every later one (in request order) is returned unprocessed. Errors, in
// order: ErrClosed; a ValidationException for no keys or too many;
// ResourceNotFoundException if any table is missing; then, key by key,
// GetItem's key checks and MsgDuplicateKeys.
func (e *Engine) BatchGet(req BatchGetRequest) (BatchGetResult, error) {
	leave, err := e.enter()
	if err != nil {
		return BatchGetResult{}, err
	}
	defer leave()
	n := 0
	for _, bt := range req.Tables {
		n += len(bt.Keys)
	}
	switch {
	case n == 0:
		return BatchGetResult{}, attr.Invalid(MsgGetItemsNeeded)
	case n > MaxBatchGetKeys:
		return BatchGetResult{}, attr.Invalid(MsgTooManyGets)
	}
	defs := make([]*catalog.Table, len(req.Tables))
	for i, bt := range req.Tables {
		t, ok := e.lookup(bt.Table)
		if !ok {
			return BatchGetResult{}, attr.Errorf(ErrTableNotFound, "Requested resource not found")
		}
		defs[i] = t.def.Load()
	}
	keys := make([][][]byte, len(req.Tables))
	seen := make(map[string]struct{}, n)
	for i, bt := range req.Tables {
		keys[i] = make([][]byte, len(bt.Keys))
		for j, k := range bt.Keys {
			kp, err := e.itemKey(defs[i], k, true)
			if err != nil {
				return BatchGetResult{}, err
			}
			if _, dup := seen[string(kp.key)]; dup {
				return BatchGetResult{}, attr.Invalid(MsgDuplicateKeys)
			}
			seen[string(kp.key)] = struct{}{}
			keys[i][j] = kp.key
		}
	}

	snap := e.db.NewSnapshot()
	defer snap.Close()
	res := BatchGetResult{Tables: make([]BatchGetTableResult, len(req.Tables))}
	total, full := 0, false
	for i, bt := range req.Tables {
		out := &res.Tables[i]
		out.Capacity = Capacity{Table: defs[i].Name}
		for j, key := range keys[i] {
			if full {
				out.Unprocessed = append(out.Unprocessed, bt.Keys[j])
				continue
			}
			size, js, err := readStored(snap, key)
			if err != nil {
				return BatchGetResult{}, err
			}
			e.settle(key)
			if total+size > MaxBatchGetBytes {
				full = true
				out.Unprocessed = append(out.Unprocessed, bt.Keys[j])
				continue
			}
			total += size
			if js != nil {
				out.Items = append(out.Items, js)
			}
			out.Capacity.Read += readCapacity(defs[i].Name, size, bt.Consistent).Read
		}
	}
	return res, nil
}
