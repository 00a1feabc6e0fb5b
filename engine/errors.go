package engine

import (
	"errors"

	"github.com/sluicedb/sluice/engine/attr"
)

// Conditions the engine reports to clients. engine/wire maps each to its
// DynamoDB exception in one table; the client-facing message rides along in
// an *attr.Error whose Kind is the sentinel (see attr.Errorf).
var (
	// ErrTableNotFound: ResourceNotFoundException.
	ErrTableNotFound = errors.New("engine: table not found")
	// ErrResourceInUse: ResourceInUseException (table exists, or is busy).
	ErrResourceInUse = errors.New("engine: resource in use")
	// ErrConditionFailed: ConditionalCheckFailedException. Returned as a
	// *ConditionFailedError so the current item can ride along.
	ErrConditionFailed = errors.New("engine: conditional request failed")
	// ErrLimitExceeded: LimitExceededException (too many tables, indexes...).
	ErrLimitExceeded = errors.New("engine: limit exceeded")
	// ErrItemCollectionTooLarge: ItemCollectionSizeLimitExceededException,
	// a write that would take an item collection of a table with local
	// secondary indexes past Options.ItemCollectionLimit; it changed nothing.
	ErrItemCollectionTooLarge = errors.New("engine: item collection size limit exceeded")
	// ErrClosed: the engine is shutting down; the request changed nothing.
	// Mapped to InternalServerError so SDKs retry.
	ErrClosed = errors.New("engine: closed")
)

// MsgCollectionSizeExceeded is DynamoDB's message for
// ItemCollectionSizeLimitExceededException, and for a transaction action's
// ItemCollectionSizeLimitExceeded cancellation reason.
const MsgCollectionSizeExceeded = "Collection size exceeded."

// collectionLimitError is the committer's refusal of a request: its change
// number change would take its item collection past the limit. Callers turn
// it into the client's error (a transaction names the action).
type collectionLimitError struct{ change int }

func (e *collectionLimitError) Error() string { return MsgCollectionSizeExceeded }
func (e *collectionLimitError) Unwrap() error {
	return attr.Errorf(ErrItemCollectionTooLarge, MsgCollectionSizeExceeded)
}

// ConditionFailedError carries the current item for
// ReturnValuesOnConditionCheckFailure=ALL_OLD.
type ConditionFailedError struct {
	Item attr.Item // nil unless the caller asked for it, or no item existed
}

func (e *ConditionFailedError) Error() string { return "The conditional request failed" }
func (e *ConditionFailedError) Unwrap() error { return ErrConditionFailed }
