package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/invariants"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Condition decides whether a write may proceed given the current item (nil
// if absent). The expression package provides the implementations; a nil
// Condition always passes.
type Condition interface {
	Eval(current attr.Item) (bool, error)
}

// PutRequest is a PutItem call, validated for shape by the caller.
type PutRequest struct {
	Table     string
	Item      attr.Item
	Cond      Condition
	ReturnOld bool // ReturnValues ALL_OLD
	// ReturnOldOnConditionFail: ReturnValuesOnConditionCheckFailure ALL_OLD.
	ReturnOldOnConditionFail bool
	Who                      event.Identity
	// IndexUnits counts the write units of the GSI entries the write
	// changes in Capacity (ReturnConsumedCapacity TOTAL or INDEXES); LSI
	// entries are always counted.
	IndexUnits bool
}

// DeleteRequest is a DeleteItem call.
type DeleteRequest struct {
	Table                    string
	Key                      attr.Item
	Cond                     Condition
	ReturnOld                bool
	ReturnOldOnConditionFail bool
	Who                      event.Identity
	IndexUnits               bool // as PutRequest's
}

// GetRequest is a GetItem call.
type GetRequest struct {
	Table      string
	Key        attr.Item
	Consistent bool
}

// WriteResult is the outcome of a single-item write.
type WriteResult struct {
	// Old is the previous item as canonical DynamoDB JSON when ReturnOld was
	// asked and an item existed, else nil.
	Old      []byte
	Capacity Capacity
	// Collection is the item's collection after the write on a table with
	// local secondary indexes (ItemCollectionMetrics), else nil.
	Collection *CollectionMetric
}

// GetResult is the outcome of GetItem.
type GetResult struct {
	// Item is the item as canonical DynamoDB JSON, nil if absent.
	Item     []byte
	Capacity Capacity
}

// Stored item value: version 1 | uvarint DynamoDB size | canonical JSON.
const itemFormat = 1

func encodeStored(size int, js []byte) []byte {
	out := make([]byte, 0, 1+binary.MaxVarintLen32+len(js))
	out = append(out, itemFormat)
	out = binary.AppendUvarint(out, uint64(size))
	return append(out, js...)
}

func decodeStored(v []byte) (size int, js []byte, err error) {
	if len(v) < 2 || v[0] != itemFormat {
		return 0, nil, errors.New("engine: corrupt item value")
	}
	s, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, nil, errors.New("engine: corrupt item value")
	}
	return int(s), v[1+n:], nil
}

// keyParts extracts and checks the key attributes of item (a full item for
// PutItem, or exactly the key for GetItem/DeleteItem).
type keyParts struct {
	pk, sk *attr.Value
	hash   shards.Hash
	key    []byte // storage key
	pkText string
}

func (e *Engine) itemKey(def *catalog.Table, item attr.Item, exact bool) (keyParts, error) {
	hName, hType := def.HashKey()
	rName, rType := def.RangeKey()
	var kp keyParts
	if exact {
		want := 1
		if rName != "" {
			want = 2
		}
		if len(item) != want {
			return kp, attr.Invalid(attr.MsgKeySchemaMismatch)
		}
	}
	check := func(name string, typ attr.Type, role attr.KeyRole) (*attr.Value, error) {
		v, ok := item[name]
		if !ok {
			if exact {
				return nil, attr.Invalid(attr.MsgKeySchemaMismatch)
			}
			return nil, attr.Invalid("One or more parameter values were invalid: Missing the key %s in the item", name)
		}
		validate := attr.ValidateKeyValue
		if exact {
			validate = attr.ValidateKeyElement
		}
		if err := validate(name, v, typ); err != nil {
			return nil, err
		}
		if err := attr.ValidateKeySize(v, role); err != nil {
			return nil, err
		}
		return &v, nil
	}
	pk, err := check(hName, hType, attr.PartitionKey)
	if err != nil {
		return kp, err
	}
	kp.pk = pk
	if rName != "" {
		sk, err := check(rName, rType, attr.SortKey)
		if err != nil {
			return kp, err
		}
		kp.sk = sk
	}
	typ, canon := keycodec.Canonical(*pk)
	kp.hash = shards.HashKey(def.HashVersion, typ, canon)
	kp.key = keycodec.ItemKey(nil, def.ID, kp.hash, *pk, kp.sk)
	kp.pkText = partitionKeyText(*pk)
	return kp, nil
}

// partitionKeyText is a partition key value as its change record's
// partitionkey extension carries it: a string, a number's digits, or
// base64 binary.
func partitionKeyText(pk attr.Value) string {
	switch pk.T {
	case attr.TypeB:
		return base64.StdEncoding.EncodeToString(pk.B)
	case attr.TypeN:
		return string(pk.N)
	default:
		return pk.S
	}
}

// keyItem is the item of just the key attributes.
func keyItem(def *catalog.Table, kp keyParts) attr.Item {
	hName, _ := def.HashKey()
	rName, _ := def.RangeKey()
	k := attr.Item{hName: *kp.pk}
	if kp.sk != nil {
		k[rName] = *kp.sk
	}
	return k
}

// canonicalize sorts set members so that equal items encode to equal bytes.
func canonicalize(v *attr.Value) {
	switch v.T {
	case attr.TypeSS:
		slices.Sort(v.SS)
	case attr.TypeNS:
		slices.SortFunc(v.NS, attr.CompareNumbers)
	case attr.TypeBS:
		slices.SortFunc(v.BS, bytes.Compare)
	case attr.TypeM:
		for k, x := range v.M {
			canonicalize(&x)
			v.M[k] = x
		}
	case attr.TypeL:
		for i := range v.L {
			canonicalize(&v.L[i])
		}
	}
}

// beginWrite resolves the table for a write and read-locks it against
// DeleteTable; the caller must call the returned release.
func (e *Engine) beginWrite(name string) (*table, *catalog.Table, func(), error) {
	leave, err := e.enter()
	if err != nil {
		return nil, nil, nil, err
	}
	t, ok := e.lookup(name)
	if !ok {
		leave()
		return nil, nil, nil, attr.Errorf(ErrTableNotFound, "Requested resource not found")
	}
	t.ddl.RLock()
	if t.dropped {
		t.ddl.RUnlock()
		leave()
		return nil, nil, nil, attr.Errorf(ErrTableNotFound, "Requested resource not found")
	}
	return t, t.def.Load(), func() { t.ddl.RUnlock(); leave() }, nil
}

// readCurrent returns the stored item at key: its size and canonical JSON
// (nil if absent), from the item cache if it has the key (the JSON is then
// shared: don't modify it). Writes read the item they replace, and most
// inserts find none, so it otherwise probes with every level's bloom
// filter (kv.DB.Probe).
func (e *Engine) readCurrent(key []byte) (int, []byte, error) {
	if v, ok := e.items.get(key); ok {
		return storedOrAbsent(v)
	}
	return found(e.db.Probe(key))
}

// readCurrentAll is readCurrent's read for several distinct keys (the items
// of a batch, which holds their stripes): the stored values, nil where an
// item is absent, from the item cache or else through one sorted iterator
// (kv.DB.ProbeAll).
func (e *Engine) readCurrentAll(keys [][]byte) ([][]byte, error) {
	vals := make([][]byte, len(keys))
	var missed []int   // indexes into keys of the cache's misses
	var probe [][]byte // their keys
	for i, k := range keys {
		if v, ok := e.items.get(k); ok {
			vals[i] = v
			continue
		}
		missed = append(missed, i)
		probe = append(probe, k)
	}
	if len(probe) == 0 {
		return vals, nil
	}
	got, err := e.db.ProbeAll(probe)
	if err != nil {
		return nil, err
	}
	for j, i := range missed {
		vals[i] = got[j]
	}
	return vals, nil
}

// readStored returns the stored item at key as r sees it (the live store or
// a snapshot): its size and canonical JSON (nil if absent).
func readStored(r kv.Reader, key []byte) (int, []byte, error) {
	return found(r.Get(key))
}

// storedOrAbsent decodes a stored item read by kv.DB.ProbeAll (nil: absent).
func storedOrAbsent(v []byte) (int, []byte, error) {
	if v == nil {
		return 0, nil, nil
	}
	return decodeStored(v)
}

// found decodes the outcome of reading a stored item.
func found(v []byte, err error) (int, []byte, error) {
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return decodeStored(v)
}

// checkCondition evaluates cond against the current item.
func checkCondition(cond Condition, cur []byte, returnOld bool) error {
	if cond == nil {
		return nil
	}
	var item attr.Item
	if cur != nil {
		if err := item.UnmarshalJSON(cur); err != nil {
			return err
		}
	}
	ok, err := cond.Eval(item)
	if err != nil {
		return err
	}
	if !ok {
		cf := &ConditionFailedError{}
		if returnOld {
			cf.Item = item
		}
		return cf
	}
	return nil
}

// PutItem writes a whole item, replacing any item with the same key.
func (e *Engine) PutItem(req PutRequest) (WriteResult, error) {
	t, def, release, err := e.beginWrite(req.Table)
	if err != nil {
		return WriteResult{}, err
	}
	defer release()
	kp, err := e.itemKey(def, req.Item, false)
	if err != nil {
		return WriteResult{}, err
	}
	if err := ScalarKeys(def, ConditionPaths(req.Cond)); err != nil {
		return WriteResult{}, err
	}
	if invariants.Enabled {
		if err := attr.ValidateItem(req.Item); err != nil {
			panic(fmt.Sprintf("engine: PutItem got an unvalidated item: %v", err))
		}
	}
	size, newJSON, err := encodeItem(req.Item)
	if err != nil {
		return WriteResult{}, err
	}

	mu := e.lockFor(kp.key)
	mu.Lock()
	defer mu.Unlock()
	oldSize, oldJSON, err := e.readCurrent(kp.key)
	if err != nil {
		return WriteResult{}, err
	}
	if err := checkCondition(req.Cond, oldJSON, req.ReturnOldOnConditionFail); err != nil {
		return WriteResult{}, err
	}
	res := WriteResult{Capacity: writeCapacity(def.Name, max(size, oldSize))}
	if req.ReturnOld {
		res.Old = oldJSON
	}
	ch, changed := e.putChange(t, def, kp, size, newJSON, oldSize, oldJSON, req.Who, unitsOf(&res.Capacity, req.IndexUnits))
	return e.commitOne(res, def, kp, ch, changed)
}

// unitsOf is c when the index units are asked for, else nil.
func unitsOf(c *Capacity, asked bool) *Capacity {
	if asked {
		return c
	}
	return nil
}

// commitOne commits a single-item write's change (unless unchanged) and
// adds its item collection's metric.
func (e *Engine) commitOne(res WriteResult, def *catalog.Table, kp keyParts, ch change, changed bool) (WriteResult, error) {
	size := int64(-1)
	if changed {
		chs := []change{ch}
		if err := e.committer.commit(chs); err != nil {
			return WriteResult{}, err
		}
		if chs[0].coll != nil {
			size = chs[0].collSize
		}
	}
	m, err := e.collectionMetric(def, kp, size)
	if err != nil {
		return WriteResult{}, err
	}
	res.Collection = m
	return res, nil
}

// DeleteItem deletes the item with the given key, if any.
func (e *Engine) DeleteItem(req DeleteRequest) (WriteResult, error) {
	t, def, release, err := e.beginWrite(req.Table)
	if err != nil {
		return WriteResult{}, err
	}
	defer release()
	kp, err := e.itemKey(def, req.Key, true)
	if err != nil {
		return WriteResult{}, err
	}
	if err := ScalarKeys(def, ConditionPaths(req.Cond)); err != nil {
		return WriteResult{}, err
	}
	mu := e.lockFor(kp.key)
	mu.Lock()
	defer mu.Unlock()
	oldSize, oldJSON, err := e.readCurrent(kp.key)
	if err != nil {
		return WriteResult{}, err
	}
	if err := checkCondition(req.Cond, oldJSON, req.ReturnOldOnConditionFail); err != nil {
		return WriteResult{}, err
	}
	res := WriteResult{Capacity: writeCapacity(def.Name, oldSize)}
	if oldJSON == nil {
		return e.commitOne(res, def, kp, change{}, false) // nothing to delete: no record
	}
	if req.ReturnOld {
		res.Old = oldJSON
	}
	ch := e.deleteChange(t, def, kp, oldSize, oldJSON, req.Who, unitsOf(&res.Capacity, req.IndexUnits))
	return e.commitOne(res, def, kp, ch, true)
}

// GetItem reads one item. Reads always see every acknowledged write, so
// ConsistentRead changes only the capacity charged.
func (e *Engine) GetItem(req GetRequest) (GetResult, error) {
	leave, err := e.enter()
	if err != nil {
		return GetResult{}, err
	}
	defer leave()
	t, ok := e.lookup(req.Table)
	if !ok {
		return GetResult{}, attr.Errorf(ErrTableNotFound, "Requested resource not found")
	}
	def := t.def.Load()
	kp, err := e.itemKey(def, req.Key, true)
	if err != nil {
		return GetResult{}, err
	}
	size, js, err := e.readCurrent(kp.key)
	if err != nil {
		return GetResult{}, err
	}
	e.settle(kp.key)
	return GetResult{Item: js, Capacity: readCapacity(def.Name, size, req.Consistent)}, nil
}

// encodeItem canonicalizes a validated item's sets in place and returns its
// DynamoDB size and canonical JSON; an item over the size limit is an error.
func encodeItem(item attr.Item) (size int, js []byte, err error) {
	for name, v := range item {
		canonicalize(&v)
		item[name] = v
	}
	size = attr.ItemSize(item)
	if size > attr.MaxItemSize {
		return 0, nil, attr.ErrItemTooLarge
	}
	return size, attr.AppendItemJSON(nil, item), nil
}

// putChange is the change that replaces the item at kp (oldJSON, nil if
// absent) with newJSON. changed is false when the two are equal: such a
// write commits nothing and records nothing. c, unless nil, gets the write
// units of the index entries the change writes (see withIndexes).
func (e *Engine) putChange(t *table, def *catalog.Table, kp keyParts, size int, newJSON []byte, oldSize int, oldJSON []byte, who event.Identity, c *Capacity) (ch change, changed bool) {
	if oldJSON != nil && bytes.Equal(oldJSON, newJSON) {
		return change{}, false
	}
	name := event.Insert
	countDelta := int64(1)
	if oldJSON != nil {
		name, countDelta = event.Modify, 0
	}
	st := t.shardOf(kp.hash)
	return withIndexes(change{
		shard:      st,
		key:        kp.key,
		value:      encodeStored(size, newJSON),
		countDelta: countDelta,
		sizeDelta:  int64(size - oldSize),
		rec:        e.record(def, kp, st.shard, name, oldJSON, newJSON, oldSize, size, who),
	}, t, def, kp, oldJSON, newJSON, c), true
}

// deleteChange is the change that deletes the existing item at kp; c as
// putChange's.
func (e *Engine) deleteChange(t *table, def *catalog.Table, kp keyParts, oldSize int, oldJSON []byte, who event.Identity, c *Capacity) change {
	st := t.shardOf(kp.hash)
	return withIndexes(change{
		shard:      st,
		key:        kp.key,
		countDelta: -1,
		sizeDelta:  -int64(oldSize),
		rec:        e.record(def, kp, st.shard, event.Remove, oldJSON, nil, oldSize, 0, who),
	}, t, def, kp, oldJSON, nil, c)
}

// record builds the change record of shard sh (all but Seq and Time).
func (e *Engine) record(def *catalog.Table, kp keyParts, sh shards.ID, name event.Name, oldJSON, newJSON []byte, oldSize, newSize int, who event.Identity) event.Record {
	keys := keyItem(def, kp)
	return event.Record{
		TableID:      def.ID,
		Source:       e.sourceARN(def),
		Region:       e.opts.Region,
		Shard:        sh,
		Name:         name,
		Keys:         attr.AppendItemJSON(nil, keys),
		Old:          oldJSON,
		New:          newJSON,
		PartitionKey: kp.pkText,
		Sizes:        event.Sizes{Keys: attr.ItemSize(keys), Old: oldSize, New: newSize},
		Who:          who,
	}
}

// TableARN is the table's ARN.
func (e *Engine) TableARN(name string) string {
	return "arn:aws:dynamodb:" + e.opts.Region + ":" + e.opts.AccountID + ":table/" + name
}

// StreamARN is the ARN of a table's stream with the given label.
func (e *Engine) StreamARN(name, label string) string {
	return e.TableARN(name) + "/stream/" + label
}

// sourceARN is the CloudEvents source of a table's records: its stream ARN,
// or its table ARN while it never had a stream.
func (e *Engine) sourceARN(def *catalog.Table) string {
	if def.Stream.Label != "" {
		return e.StreamARN(def.Name, def.Stream.Label)
	}
	return e.TableARN(def.Name)
}

// TableNameFromARN returns the table name of a table ARN of this server's
// region and account, or "".
func (e *Engine) TableNameFromARN(arn string) string {
	p := "arn:aws:dynamodb:" + e.opts.Region + ":" + e.opts.AccountID + ":table/"
	if !strings.HasPrefix(arn, p) || strings.Contains(arn[len(p):], "/") {
		return ""
	}
	return arn[len(p):]
}
