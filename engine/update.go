package engine

import (
	"fmt"
	"slices"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/invariants"
)

// Updater computes an item's new image from its current one: the whole of
// UpdateItem's update. *expr.Update (UpdateExpression) satisfies it, and so
// does engine/dynamoapi's translation of the legacy AttributeUpdates.
type Updater interface {
	// Apply returns the new item computed from item (nil when no item
	// exists: the update then starts from the bare key). It must not
	// modify item, and its result must share no memory with item. Errors
	// are client errors (*attr.Error) and abort the write.
	Apply(item attr.Item) (attr.Item, error)
	// Paths returns the document paths the update writes or removes. A
	// path whose first element is a key attribute is refused before
	// anything is read; ReturnValues UPDATED_OLD and UPDATED_NEW project
	// the old and new item on them.
	Paths() []expr.Path
}

// ReturnValues selects what UpdateItem returns.
type ReturnValues uint8

// UpdateItem's ReturnValues, as DynamoDB names them.
const (
	ReturnNone       ReturnValues = iota // NONE
	ReturnAllOld                         // ALL_OLD: the whole item before the update
	ReturnUpdatedOld                     // UPDATED_OLD: the updated paths, before
	ReturnAllNew                         // ALL_NEW: the whole item after the update
	ReturnUpdatedNew                     // UPDATED_NEW: the updated paths, after
)

// UpdateRequest is an UpdateItem call, validated for shape by the caller.
type UpdateRequest struct {
	Table string
	Key   attr.Item
	// Update computes the new item; nil changes nothing but still creates
	// the item (as its bare key) when it does not exist, as DynamoDB does.
	Update       Updater
	Cond         Condition
	ReturnValues ReturnValues
	// ReturnOldOnConditionFail: ReturnValuesOnConditionCheckFailure ALL_OLD.
	ReturnOldOnConditionFail bool
	Who                      event.Identity
	IndexUnits               bool // as PutRequest's
}

// UpdateResult is the outcome of UpdateItem.
type UpdateResult struct {
	// Attributes is what ReturnValues asked for, as canonical DynamoDB
	// JSON; nil when there is nothing to return (NONE, no old item for
	// ALL_OLD, no updated path present for UPDATED_*).
	Attributes []byte
	Capacity   Capacity
	// Collection is as WriteResult's.
	Collection *CollectionMetric
}

// UpdateItem edits one item, creating it when it does not exist (unless the
// update only removes: removing from an absent item creates nothing). Under the
// item's lock it reads the current item, evaluates the condition, applies
// the update to the current item (or to the bare key), checks the result
// (size, nesting, secondary-index key types) and commits it with an INSERT
// or MODIFY record. An update that leaves the item as it was commits
// nothing and records nothing. Capacity is PutItem's: one unit per started
// KB of the larger of the old and new item.
func (e *Engine) UpdateItem(req UpdateRequest) (UpdateResult, error) {
	t, def, release, err := e.beginWrite(req.Table)
	if err != nil {
		return UpdateResult{}, err
	}
	defer release()
	kp, err := e.itemKey(def, req.Key, true)
	if err != nil {
		return UpdateResult{}, err
	}
	var paths []expr.Path
	var nestedKey error // reported once the condition has passed, as DynamoDB does
	if req.Update != nil {
		paths = req.Update.Paths()
		if err := checkKeyPaths(def, paths); err != nil {
			return UpdateResult{}, err
		}
		nestedKey = updateScalarKeys(def, req.Update, paths)
	}
	if err := ScalarKeys(def, ConditionPaths(req.Cond)); err != nil {
		return UpdateResult{}, err
	}

	mu := e.lockFor(kp.key)
	mu.Lock()
	defer mu.Unlock()
	oldSize, oldJSON, err := e.readCurrent(kp.key)
	if err != nil {
		return UpdateResult{}, err
	}
	var old attr.Item
	if oldJSON != nil {
		if err := old.UnmarshalJSON(oldJSON); err != nil {
			return UpdateResult{}, fmt.Errorf("decoding stored item: %w", err)
		}
	}
	if req.Cond != nil {
		ok, err := req.Cond.Eval(old)
		if err != nil {
			return UpdateResult{}, err
		}
		if !ok {
			cf := &ConditionFailedError{}
			if req.ReturnOldOnConditionFail {
				cf.Item = old
			}
			return UpdateResult{}, cf
		}
	}

	if nestedKey != nil {
		return UpdateResult{}, nestedKey
	}
	next, size, newJSON, err := nextImage(def, kp, req.Update, old, oldJSON != nil)
	if err != nil {
		return UpdateResult{}, err
	}
	if next == nil {
		// Only removals on an absent item: DynamoDB creates nothing.
		w, err := e.commitOne(WriteResult{Capacity: writeCapacity(def.Name, 0)}, def, kp, change{}, false)
		return UpdateResult{Capacity: w.Capacity, Collection: w.Collection}, err
	}
	res := UpdateResult{Capacity: writeCapacity(def.Name, max(size, oldSize))}
	switch req.ReturnValues {
	case ReturnAllOld:
		res.Attributes = oldJSON
	case ReturnAllNew:
		res.Attributes = newJSON
	case ReturnUpdatedOld:
		res.Attributes = projectedJSON(old, paths)
	case ReturnUpdatedNew:
		res.Attributes = projectedJSON(next, paths)
	}
	ch, changed := e.putChange(t, def, kp, size, newJSON, oldSize, oldJSON, req.Who, unitsOf(&res.Capacity, req.IndexUnits))
	w, err := e.commitOne(WriteResult{Capacity: res.Capacity}, def, kp, ch, changed)
	if err != nil {
		return UpdateResult{}, err
	}
	res.Collection = w.Collection
	return res, nil
}

// nextImage computes the item an update leaves at kp: upd applied to old
// (nil when absent, exists false), or old itself when upd is nil, with the
// key attributes of kp, validated and encoded. A nil next with a nil error
// means the update only removes from an absent item and DynamoDB creates
// nothing (while an update with no actions at all creates the bare key).
// Errors are client errors: the update's own, the item's validation, the
// secondary-index key types and the item size.
func nextImage(def *catalog.Table, kp keyParts, upd Updater, old attr.Item, exists bool) (next attr.Item, size int, newJSON []byte, err error) {
	if upd != nil {
		if next, err = upd.Apply(old); err != nil {
			return nil, 0, nil, err
		}
		if !exists && len(next) == 0 {
			return nil, 0, nil, nil
		}
	} else {
		next = old.Clone()
	}
	if next == nil {
		next = attr.Item{}
	}
	// The key is never an update target (checkKeyPaths), so the key
	// attributes are those of the request.
	for name, v := range keyItem(def, kp) {
		next[name] = v
	}
	if err := attr.ValidateItem(next); err != nil {
		return nil, 0, nil, err
	}
	if err := updatedIndexKeyError(def, next); err != nil {
		return nil, 0, nil, err
	}
	size, newJSON, err = encodeItem(next)
	if err != nil {
		return nil, 0, nil, attr.Invalid(MsgUpdateTooLarge)
	}
	return next, size, newJSON, nil
}

// MsgUpdateTooLarge is DynamoDB's answer to an update whose result exceeds
// attr.MaxItemSize.
const MsgUpdateTooLarge = "Item size to update has exceeded the maximum allowed size"

// checkKeyPaths refuses an update of any part of a key attribute.
func checkKeyPaths(def *catalog.Table, paths []expr.Path) error {
	for _, p := range paths {
		for _, k := range def.KeySchema {
			if p[0].Name == k.Name {
				return attr.Invalid("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k.Name)
			}
		}
	}
	return nil
}

// IndexKeyError checks the secondary-index key attributes item holds
// against their definitions (an item that lacks one is simply not in that
// index). The indexes are checked in name order, LSIs and GSIs together:
// DynamoDB names the alphabetically first index a bad value breaks.
func IndexKeyError(def *catalog.Table, item attr.Item) error {
	return eachIndexKey(def, item, func(ix *catalog.Index, name string, v attr.Value, want attr.Type) error {
		return attr.ValidateIndexKeyValue(ix.Name, name, v, want)
	})
}

// PutIndexKeyError is IndexKeyError for an item to be put, checked only
// once the table's own key attributes are well formed (present, of their
// schema type and not empty), so that the table key's errors come first.
func PutIndexKeyError(def *catalog.Table, item attr.Item) error {
	if putKeyShape(def, item) != nil {
		return nil
	}
	for _, k := range def.KeySchema {
		if attr.EmptyKind(item[k.Name]) != "" {
			return nil
		}
	}
	return IndexKeyError(def, item)
}

// updatedIndexKeyError is IndexKeyError for the item an update leaves. An
// empty value gets DynamoDB's update wording, as a transactionError: a
// transaction answers it with its own ValidationException, not as the
// action's cancellation reason.
func updatedIndexKeyError(def *catalog.Table, item attr.Item) error {
	return eachIndexKey(def, item, func(ix *catalog.Index, name string, v attr.Value, want attr.Type) error {
		if v.T == want && attr.EmptyKind(v) != "" {
			return transactionError{attr.UpdatedIndexKeyEmpty(v)}
		}
		return attr.ValidateIndexKeyValue(ix.Name, name, v, want)
	})
}

// eachIndexKey calls check for the secondary-index key attributes item
// holds and returns the error of the alphabetically first index with one
// (within an index, of its first key attribute that has one).
func eachIndexKey(def *catalog.Table, item attr.Item, check func(ix *catalog.Index, name string, v attr.Value, want attr.Type) error) error {
	var first *catalog.Index
	var firstErr error
	visit := func(ix *catalog.Index) {
		if first != nil && ix.Name > first.Name {
			return
		}
		for _, k := range ix.KeySchema {
			v, ok := item[k.Name]
			if !ok {
				continue
			}
			if err := check(ix, k.Name, v, def.AttrType(k.Name)); err != nil {
				first, firstErr = ix, err
				return
			}
		}
	}
	for i := range def.LSIs {
		visit(&def.LSIs[i])
	}
	for i := range def.GSIs {
		visit(&def.GSIs[i])
	}
	return firstErr
}

// transactionError is a client error that a TransactWriteItems call
// answers with its own ValidationException rather than as an action's
// cancellation reason; elsewhere it is the error it wraps.
type transactionError struct{ error }

func (e transactionError) Unwrap() error { return e.error }

// projectedJSON is item projected on paths, as canonical JSON; nil when
// nothing is left.
func projectedJSON(item attr.Item, paths []expr.Path) []byte {
	if len(item) == 0 || len(paths) == 0 {
		return nil
	}
	p := expr.ProjectPaths(item, paths)
	if len(p) == 0 {
		return nil
	}
	// Both images are canonical already (stored, or through encodeItem).
	if invariants.Enabled {
		if err := attr.ValidateItem(p); err != nil {
			panic(fmt.Sprintf("engine: projection produced an invalid item: %v", err))
		}
	}
	return attr.AppendItemJSON(nil, p)
}

// msgNestedKey: a document path goes inside a key attribute ("Key") or a
// secondary index's key attribute ("IndexKey").
const msgNestedKey = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: %s: %s"

// ScalarKeys refuses a document path that goes inside (a.b, a[0]) a key
// attribute of the table or of one of its secondary indexes: key
// attributes are scalars. Like DynamoDB it names the table's keys before
// the indexes', whatever the order of the paths. A nil def passes (the
// table is reported elsewhere).
func ScalarKeys(def *catalog.Table, paths ...[]expr.Path) error {
	if def == nil {
		return nil
	}
	var nested []string
	for _, list := range paths {
		for _, p := range list {
			if len(p) > 1 {
				nested = append(nested, p[0].Name)
			}
		}
	}
	if len(nested) == 0 {
		return nil
	}
	for _, k := range def.KeySchema {
		if slices.Contains(nested, k.Name) {
			return attr.Invalid(msgNestedKey, "Key", k.Name)
		}
	}
	for _, list := range [][]catalog.Index{def.GSIs, def.LSIs} {
		for _, ix := range list {
			for _, k := range ix.KeySchema {
				if slices.Contains(nested, k.Name) {
					return attr.Invalid(msgNestedKey, "IndexKey", k.Name)
				}
			}
		}
	}
	return nil
}

// ConditionPaths returns the document paths of a condition given as an
// expression; a legacy condition (Expected, QueryFilter) names attributes,
// not paths, and has none.
func ConditionPaths(c Condition) []expr.Path {
	if c, ok := c.(*expr.Condition); ok && c != nil {
		return c.Paths()
	}
	return nil
}

// updateScalarKeys applies ScalarKeys to the paths an update writes and
// reads. DynamoDB checks them once the condition has passed, unlike the
// condition's own paths, which it checks before reading the item.
func updateScalarKeys(def *catalog.Table, u Updater, writes []expr.Path) error {
	var reads []expr.Path
	if r, ok := u.(interface{ ReadPaths() []expr.Path }); ok {
		reads = r.ReadPaths()
	}
	return ScalarKeys(def, writes, reads)
}
