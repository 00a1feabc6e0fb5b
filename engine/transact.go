package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// Transactions (TransactWriteItems, TransactGetItems).
//
// TransactWrite is BatchWrite with conditions: it read-locks the tables
// (ascending table id) and locks the items' stripes (ascending stripe), then
// reads every item, evaluates every action, and commits all the changes in
// ONE committer request, so the transaction is one fsynced Pebble batch and
// one contiguous run of records per shard, every record carrying the same
// transaction id (CloudEvents correlationid). Holding every lock from the
// first read to the commit makes transactions serializable with each other
// and with single-item writes (two-phase locking; the fixed lock order
// rules out deadlock).
//
// Where DynamoDB cancels a transaction that meets another in flight
// (TransactionConflictException, TransactionCanceledException with
// TransactionConflict), Sluice waits for the lock instead: conflicting
// requests run one after the other and never fail for it. TransactGet reads
// one snapshot of the store, which holds every committed transaction whole
// or not at all, so it is never cancelled for a conflict either.

// DynamoDB's transaction limits.
const (
	// MaxTransactItems is the most actions one TransactWriteItems or
	// TransactGetItems call may hold.
	MaxTransactItems = 100
	// TokenTTL is how long a ClientRequestToken answers repeats of its
	// request after the request completed.
	TokenTTL = 10 * time.Minute
)

// Transaction messages, word for word as DynamoDB sends them.
const (
	MsgTxDuplicateItems     = "Transaction request cannot include multiple operations on one item"
	msgConditionFailed      = "The conditional request failed"
	msgTxCanceledPrefix     = "Transaction cancelled, please refer cancellation reasons for specific reasons ["
	MsgIdempotentMismatch   = "The request uses the same client token as a previous, but non-identical request. " + "Do not reuse a client token with different requests, unless the requests are identical."
	reasonNone              = "None"
	reasonConditionalFailed = "ConditionalCheckFailed"
	reasonValidation        = "ValidationError"
	reasonCollectionLimit   = "ItemCollectionSizeLimitExceeded"
)

var (
	// ErrTransactionCanceled: TransactionCanceledException, returned as a
	// *TransactionCanceledError with a reason per action.
	ErrTransactionCanceled = errors.New("engine: transaction canceled")
	// ErrIdempotentMismatch: IdempotentParameterMismatchException, a
	// ClientRequestToken reused for a different request within TokenTTL.
	ErrIdempotentMismatch = errors.New("engine: idempotent parameter mismatch")
)

// CancellationReason is why one action of a cancelled transaction failed;
// Code is "None" for the actions that would have succeeded.
type CancellationReason struct {
	Code    string
	Message string
	// Item is the current item of a failed condition when the action asked
	// for it (ReturnValuesOnConditionCheckFailure ALL_OLD) and it exists.
	Item attr.Item
}

// TransactionCanceledError cancels a whole transaction: nothing was written.
// Reasons has one entry per action, in request order.
type TransactionCanceledError struct {
	Reasons []CancellationReason
}

// Error is DynamoDB's message: the reason codes in action order.
func (e *TransactionCanceledError) Error() string {
	var b strings.Builder
	b.WriteString(msgTxCanceledPrefix)
	for i, r := range e.Reasons {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Code)
	}
	b.WriteByte(']')
	return b.String()
}

func (e *TransactionCanceledError) Unwrap() error { return ErrTransactionCanceled }

// TxKind is the kind of a TransactWriteItems action.
type TxKind uint8

const (
	TxPut    TxKind = iota + 1 // Put: Item
	TxUpdate                   // Update: Key, Update (nil creates the bare key)
	TxDelete                   // Delete: Key
	TxCheck                    // ConditionCheck: Key, Cond (required)
)

// TxWrite is one action of a TransactWriteItems call, checked for shape by
// the caller.
type TxWrite struct {
	Kind  TxKind
	Table string
	Item  attr.Item // TxPut: the whole item, validated
	Key   attr.Item // the others: exactly the primary key
	// Update computes an TxUpdate's new item.
	Update Updater
	Cond   Condition
	// ReturnOldOnConditionFail: ReturnValuesOnConditionCheckFailure ALL_OLD.
	ReturnOldOnConditionFail bool
}

// TransactWriteRequest is a TransactWriteItems call.
type TransactWriteRequest struct {
	Actions []TxWrite // 1 to MaxTransactItems, no two on the same item
	// Token is the ClientRequestToken ("" for none). A repeat of a
	// committed request with the same Token and Digest within TokenTTL
	// changes nothing and succeeds; the same Token with another Digest is
	// ErrIdempotentMismatch.
	Token  string
	Digest [32]byte // of the request's parameters, as the caller defines them
	Who    event.Identity
	// IndexUnits is as PutRequest's.
	IndexUnits bool
}

// TransactWriteResult is the outcome of a committed (or replayed)
// transaction.
type TransactWriteResult struct {
	// Capacity per table, in the order tables first appear in Actions:
	// two write units per started KB of the larger of each item's old and
	// new image (at least two per action, ConditionCheck included); for a
	// replay, two read units per started 4 KB of each item as it is now.
	Capacity []Capacity
	// Replayed is true when the token's earlier request answered.
	Replayed bool
	// TxID is the transaction id carried by every record it wrote (empty
	// for a replay or a transaction that changed nothing).
	TxID string
	// Collections holds, per action, its item's collection after the
	// transaction for a Put, Update or Delete on a table with local
	// secondary indexes, else nil (and all nil for a replay).
	Collections []*CollectionMetric
}

// txAction is one validated action.
type txAction struct {
	TxWrite
	lt      lockedTable
	kp      keyParts
	size    int    // TxPut: the new item's size
	newJSON []byte // TxPut: the new item
}

// TransactWrite runs a TransactWriteItems call (see the comment at the top
// of this file). Errors, in order: ErrClosed; ResourceNotFoundException if
// any table is missing; MsgTxDuplicateItems for two actions on one item; a
// TransactionCanceledError with ValidationError for actions whose key does
// not match the schema (or, for an Update, that writes a key attribute;
// for a Put, whose secondary-index key has the wrong type);
// ErrIdempotentMismatch; then, with every item read, a
// TransactionCanceledError with a reason per action when any condition fails
// or any update leaves an invalid item. Empty key values (emptyKeyValues),
// and an update leaving a secondary-index key empty, are the call's own
// ValidationException rather than cancellation reasons.
func (e *Engine) TransactWrite(req TransactWriteRequest) (TransactWriteResult, error) {
	res, err := e.transactWrite(req)
	if err == nil && req.Token != "" {
		e.maybeSweepTokens(e.opts.Now()) // with no lock held
	}
	return res, err
}

func (e *Engine) transactWrite(req TransactWriteRequest) (TransactWriteResult, error) {
	leave, err := e.enter()
	if err != nil {
		return TransactWriteResult{}, err
	}
	defer leave()
	if n := len(req.Actions); n == 0 || n > MaxTransactItems {
		return TransactWriteResult{}, fmt.Errorf("engine: transaction of %d actions", n)
	}
	names := make([]string, len(req.Actions))
	for i, a := range req.Actions {
		names[i] = a.Table
	}
	tables, release, err := e.lockTables(names)
	if err != nil {
		return TransactWriteResult{}, err
	}
	defer release()
	for _, a := range req.Actions {
		if err := emptyKeyValues(tables[a.Table].def, a); err != nil {
			return TransactWriteResult{}, err
		}
	}

	acts := make([]txAction, len(req.Actions))
	keys := make([][]byte, 0, len(req.Actions)+1)
	seen := make(map[string]struct{}, len(req.Actions))
	var reasons []CancellationReason
	for i, a := range req.Actions {
		act := txAction{TxWrite: a, lt: tables[a.Table]}
		if err := act.prepare(e); err != nil {
			if !isClientError(err) {
				return TransactWriteResult{}, err
			}
			reasons = cancel(reasons, len(acts), i, CancellationReason{Code: reasonValidation, Message: clientMessage(err)})
			continue
		}
		if _, dup := seen[string(act.kp.key)]; dup {
			return TransactWriteResult{}, attr.Invalid(MsgTxDuplicateItems)
		}
		seen[string(act.kp.key)] = struct{}{}
		acts[i] = act
		keys = append(keys, act.kp.key)
	}
	if reasons != nil {
		return TransactWriteResult{}, &TransactionCanceledError{Reasons: reasons}
	}

	var tokenKey []byte
	if req.Token != "" {
		tokenKey = keycodec.TokenKey(req.Token)
		keys = append(keys, tokenKey)
	}
	unlock := e.lockStripes(keys)
	defer unlock()
	now := e.opts.Now()
	if tokenKey != nil {
		expires, digest, found, err := e.readToken(tokenKey)
		if err != nil {
			return TransactWriteResult{}, err
		}
		if found && now.UnixNano() < expires {
			if digest != req.Digest {
				return TransactWriteResult{}, attr.Errorf(ErrIdempotentMismatch, MsgIdempotentMismatch)
			}
			return e.replay(acts)
		}
	}

	res := TransactWriteResult{TxID: newTxID()}
	at := map[string]int{} // table name -> index in res.Capacity
	changes := make([]change, 0, len(acts))
	actionOf := make([]int, 0, len(acts)) // change -> action
	for i := range acts {
		a := &acts[i]
		ch, units, reason, err := e.evalAction(a, req.Who, req.IndexUnits)
		if err != nil {
			return TransactWriteResult{}, err
		}
		if reason != nil {
			reasons = cancel(reasons, len(acts), i, *reason)
			continue
		}
		if ch != nil {
			ch.rec.TxID = res.TxID
			changes = append(changes, *ch)
			actionOf = append(actionOf, i)
		}
		j, ok := at[a.Table]
		if !ok {
			j = len(res.Capacity)
			at[a.Table] = j
			res.Capacity = append(res.Capacity, Capacity{Table: a.lt.def.Name})
		}
		res.Capacity[j].Add(units.scaled(2))
	}
	if reasons != nil {
		return TransactWriteResult{}, &TransactionCanceledError{Reasons: reasons}
	}
	var sets []rawSet
	if tokenKey != nil {
		expires := now.Add(TokenTTL).UnixNano()
		sets = []rawSet{
			{key: tokenKey, value: encodeToken(expires, req.Digest)},
			{key: keycodec.TokenExpiryKey(expires, req.Token), value: nil},
		}
	}
	if len(changes) == 0 {
		res.TxID = ""
	}
	if len(changes) > 0 || len(sets) > 0 {
		if err := e.committer.commitWith(changes, sets); err != nil {
			var cl *collectionLimitError
			if errors.As(err, &cl) {
				reasons = cancel(reasons, len(acts), actionOf[cl.change],
					CancellationReason{Code: reasonCollectionLimit, Message: MsgCollectionSizeExceeded})
				return TransactWriteResult{}, &TransactionCanceledError{Reasons: reasons}
			}
			return TransactWriteResult{}, err
		}
	}
	committed := make([]int64, len(acts))
	for i := range committed {
		committed[i] = -1
	}
	for j, i := range actionOf {
		if changes[j].coll != nil {
			committed[i] = changes[j].collSize
		}
	}
	res.Collections = make([]*CollectionMetric, len(acts))
	for i, a := range acts {
		if a.Kind == TxCheck {
			continue
		}
		if res.Collections[i], err = e.collectionMetric(a.lt.def, a.kp, committed[i]); err != nil {
			return TransactWriteResult{}, err
		}
	}
	return res, nil
}

// emptyKeyValues refuses an empty string or binary value of a table key
// attribute in an action, and of a secondary-index key attribute in a Put
// whose table key is otherwise well formed. DynamoDB checks these before the
// transaction runs, so they are the call's ValidationException, where a
// value of the wrong type is the action's cancellation reason (prepare).
func emptyKeyValues(def *catalog.Table, a TxWrite) error {
	item := a.Key
	if a.Kind == TxPut {
		item = a.Item
	}
	for _, k := range def.KeySchema {
		if v, ok := item[k.Name]; ok && v.T == def.AttrType(k.Name) {
			if err := attr.KeyNotEmpty(k.Name, v); err != nil {
				return err
			}
		}
	}
	if a.Kind != TxPut || putKeyShape(def, item) != nil {
		return nil
	}
	return eachIndexKey(def, item, func(ix *catalog.Index, name string, v attr.Value, want attr.Type) error {
		if v.T != want {
			return nil // the engine's cancellation reason
		}
		return attr.ValidateIndexKeyValue(ix.Name, name, v, want)
	})
}

// prepare checks an action's key against its table's schema and computes
// its storage key; for a Put it also checks the secondary-index keys and
// encodes the new item. Errors are client errors, reported as the action's
// ValidationError.
func (a *txAction) prepare(e *Engine) error {
	var err error
	switch a.Kind {
	case TxPut:
		if a.kp, err = e.itemKey(a.lt.def, a.Item, false); err != nil {
			return err
		}
		if err := IndexKeyError(a.lt.def, a.Item); err != nil {
			return err
		}
		a.size, a.newJSON, err = encodeItem(a.Item)
		return err
	case TxUpdate, TxDelete, TxCheck:
		if a.kp, err = e.itemKey(a.lt.def, a.Key, true); err != nil {
			return err
		}
		if a.Kind == TxUpdate && a.Update != nil {
			return checkKeyPaths(a.lt.def, a.Update.Paths())
		}
		return nil
	}
	return fmt.Errorf("engine: transaction action of kind %d", a.Kind)
}

// evalAction reads an action's item (its stripe is locked), evaluates its
// condition and computes its change: nil when the action changes nothing.
// units is the action's single-item write capacity. A failed condition, or
// an update that leaves an invalid item, is the action's cancellation
// reason; err is for failures of the store, and for an update that leaves
// a secondary-index key empty (a transactionError).
func (e *Engine) evalAction(a *txAction, who event.Identity, indexUnits bool) (ch *change, units Capacity, reason *CancellationReason, err error) {
	def := a.lt.def
	oldSize, oldJSON, err := e.readCurrent(a.kp.key)
	if err != nil {
		return nil, Capacity{}, nil, err
	}
	var old attr.Item
	if oldJSON != nil && (a.Cond != nil || a.Kind == TxUpdate) {
		if err := old.UnmarshalJSON(oldJSON); err != nil {
			return nil, Capacity{}, nil, fmt.Errorf("decoding stored item: %w", err)
		}
	}
	if a.Cond != nil {
		ok, err := a.Cond.Eval(old)
		if err != nil {
			if !isClientError(err) {
				return nil, Capacity{}, nil, err
			}
			return nil, Capacity{}, &CancellationReason{Code: reasonValidation, Message: clientMessage(err)}, nil
		}
		if !ok {
			r := &CancellationReason{Code: reasonConditionalFailed, Message: msgConditionFailed}
			if a.ReturnOldOnConditionFail {
				r.Item = old
			}
			return nil, Capacity{}, r, nil
		}
	}
	switch a.Kind {
	case TxPut:
		units = writeCapacity(def.Name, max(a.size, oldSize))
		if c, changed := e.putChange(a.lt.t, def, a.kp, a.size, a.newJSON, oldSize, oldJSON, who, unitsOf(&units, indexUnits)); changed {
			ch = &c
		}
	case TxUpdate:
		next, size, newJSON, err := nextImage(def, a.kp, a.Update, old, oldJSON != nil)
		if err != nil {
			var te transactionError
			if !isClientError(err) || errors.As(err, &te) {
				return nil, Capacity{}, nil, err
			}
			return nil, Capacity{}, &CancellationReason{Code: reasonValidation, Message: clientMessage(err)}, nil
		}
		units = writeCapacity(def.Name, max(size, oldSize))
		if next != nil {
			if c, changed := e.putChange(a.lt.t, def, a.kp, size, newJSON, oldSize, oldJSON, who, unitsOf(&units, indexUnits)); changed {
				ch = &c
			}
		}
	case TxDelete:
		units = writeCapacity(def.Name, oldSize)
		if oldJSON != nil {
			c := e.deleteChange(a.lt.t, def, a.kp, oldSize, oldJSON, who, unitsOf(&units, indexUnits))
			ch = &c
		}
	case TxCheck:
		units = writeCapacity(def.Name, oldSize)
	}
	return ch, units, nil, nil
}

// cancel records reason as action i's, creating the list of n reasons (all
// None) on the first.
func cancel(reasons []CancellationReason, n, i int, reason CancellationReason) []CancellationReason {
	if reasons == nil {
		reasons = make([]CancellationReason, n)
		for j := range reasons {
			reasons[j].Code = reasonNone
		}
	}
	reasons[i] = reason
	return reasons
}

// isClientError reports whether err is a client error: a ValidationException
// with its message.
func isClientError(err error) bool { return errors.Is(err, attr.ErrValidation) }

// clientMessage is the message a client error carries.
func clientMessage(err error) string {
	var ae *attr.Error
	if errors.As(err, &ae) {
		return ae.Msg
	}
	return err.Error()
}

// replay answers a repeat of a committed transaction: nothing changes, and
// the capacity is that of transactionally reading each item as it is now.
func (e *Engine) replay(acts []txAction) (TransactWriteResult, error) {
	res := TransactWriteResult{Replayed: true}
	at := map[string]int{}
	for _, a := range acts {
		size, _, err := e.readCurrent(a.kp.key)
		if err != nil {
			return TransactWriteResult{}, err
		}
		j, ok := at[a.Table]
		if !ok {
			j = len(res.Capacity)
			at[a.Table] = j
			res.Capacity = append(res.Capacity, Capacity{Table: a.lt.def.Name})
		}
		res.Capacity[j].Read += 2 * readCapacity(a.lt.def.Name, size, true).Read
	}
	return res, nil
}

// newTxID returns a random transaction id in UUID form (version 4).
func newTxID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// encodeToken is a token record: expiry (Unix nanoseconds) and digest.
func encodeToken(expires int64, digest [32]byte) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 40), uint64(expires))
	return append(v, digest[:]...)
}

// readToken reads a token record.
func (e *Engine) readToken(key []byte) (expires int64, digest [32]byte, found bool, err error) {
	v, err := e.db.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, digest, false, nil
	}
	if err != nil {
		return 0, digest, false, err
	}
	if len(v) != 40 {
		return 0, digest, false, fmt.Errorf("engine: token record of %d bytes", len(v))
	}
	copy(digest[:], v[8:])
	return int64(binary.BigEndian.Uint64(v)), digest, true, nil
}

// tokenSweepEvery is how often a transaction with a token also deletes the
// expired token records.
const tokenSweepEvery = time.Minute

// maybeSweepTokens starts deleting the expired token records, at most once
// per tokenSweepEvery. The caller holds no item lock.
func (e *Engine) maybeSweepTokens(now time.Time) {
	last := e.lastTokenSweep.Load()
	if now.UnixNano()-last < int64(tokenSweepEvery) || !e.lastTokenSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		leave, err := e.enter()
		if err != nil {
			return // closing: the next run sweeps
		}
		defer leave()
		if err := e.sweepTokens(now); err != nil {
			e.log.Warn("sweeping expired transaction tokens", "err", err)
		}
	}()
}

// sweepTokens deletes the token records that expired before now, in chunks.
// A record is deleted under its token's stripe lock and only if it is the
// one the expiry entry names, so a token reused after its expiry keeps its
// new record. Losing a sweep in a crash only leaves expired records behind,
// which answer nothing (TransactWrite checks the expiry).
func (e *Engine) sweepTokens(now time.Time) error {
	const chunk = 256
	upper := keycodec.TokenExpiryKey(now.UnixNano(), "")
	for {
		it, err := e.db.NewIter(keycodec.TokenExpiryPrefix(), upper)
		if err != nil {
			return err
		}
		var index [][]byte
		for ok := it.First(); ok && len(index) < chunk; ok = it.Next() {
			index = append(index, bytes.Clone(it.Key()))
		}
		if err := it.Close(); err != nil {
			return err
		}
		if len(index) == 0 {
			return nil
		}
		if err := e.sweepChunk(index); err != nil {
			return err
		}
	}
}

func (e *Engine) sweepChunk(index [][]byte) error {
	keys := make([][]byte, len(index))
	expiry := make([]int64, len(index))
	for i, k := range index {
		expires, token, err := keycodec.DecodeTokenExpiryKey(k)
		if err != nil {
			return err
		}
		keys[i], expiry[i] = keycodec.TokenKey(token), expires
	}
	unlock := e.lockStripes(keys)
	defer unlock()
	b := e.db.NewBatch()
	defer b.Close()
	for i, key := range keys {
		expires, _, found, err := e.readToken(key)
		if err != nil {
			return err
		}
		if found && expires == expiry[i] {
			b.Delete(key)
		}
		b.Delete(index[i])
	}
	return b.Commit(false)
}

// TxGet is one Get of a TransactGetItems call.
type TxGet struct {
	Table string
	Key   attr.Item // exactly the primary key
}

// TransactGetResult is the outcome of TransactGet.
type TransactGetResult struct {
	// Items holds one entry per Get, in request order: the item as
	// canonical DynamoDB JSON, or nil when absent.
	Items [][]byte
	// Capacity per table, in the order tables first appear: two read units
	// per started 4 KB of each item (two for a missing item).
	Capacity []Capacity
}

// TransactGet reads up to MaxTransactItems items across tables from one
// snapshot of the store: every committed transaction is in it whole or not
// at all. Errors, in order: ErrClosed; ResourceNotFoundException if any
// table is missing; MsgTxDuplicateItems for two reads of one item; a
// TransactionCanceledError with ValidationError for the keys that do not
// match their table's schema.
func (e *Engine) TransactGet(gets []TxGet) (TransactGetResult, error) {
	leave, err := e.enter()
	if err != nil {
		return TransactGetResult{}, err
	}
	defer leave()
	if n := len(gets); n == 0 || n > MaxTransactItems {
		return TransactGetResult{}, fmt.Errorf("engine: transaction of %d reads", n)
	}
	tables := make([]*table, len(gets))
	for i, g := range gets {
		t, ok := e.lookup(g.Table)
		if !ok {
			return TransactGetResult{}, attr.Errorf(ErrTableNotFound, "Requested resource not found")
		}
		tables[i] = t
	}
	keys := make([][]byte, len(gets))
	names := make([]string, len(gets))
	seen := make(map[string]struct{}, len(gets))
	var reasons []CancellationReason
	for i, g := range gets {
		def := tables[i].def.Load()
		names[i] = def.Name
		kp, err := e.itemKey(def, g.Key, true)
		if err != nil {
			if !isClientError(err) {
				return TransactGetResult{}, err
			}
			reasons = cancel(reasons, len(gets), i, CancellationReason{Code: reasonValidation, Message: clientMessage(err)})
			continue
		}
		if _, dup := seen[string(kp.key)]; dup {
			return TransactGetResult{}, attr.Invalid(MsgTxDuplicateItems)
		}
		seen[string(kp.key)] = struct{}{}
		keys[i] = kp.key
	}
	if reasons != nil {
		return TransactGetResult{}, &TransactionCanceledError{Reasons: reasons}
	}

	snap := e.db.NewSnapshot()
	defer snap.Close()
	res := TransactGetResult{Items: make([][]byte, len(gets))}
	at := map[string]int{}
	for i, key := range keys {
		size, js, err := readStored(snap, key)
		if err != nil {
			return TransactGetResult{}, err
		}
		e.settle(key)
		res.Items[i] = js
		j, ok := at[names[i]]
		if !ok {
			j = len(res.Capacity)
			at[names[i]] = j
			res.Capacity = append(res.Capacity, Capacity{Table: names[i]})
		}
		res.Capacity[j].Read += 2 * readCapacity(names[i], size, true).Read
	}
	return res, nil
}
