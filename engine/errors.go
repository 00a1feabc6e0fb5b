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
	// ErrClosed: the engine is shutting down; the request changed nothing.
	// Mapped to InternalServerError so SDKs retry.
	ErrClosed = errors.New("engine: closed")
)

// ConditionFailedError carries the current item for
// ReturnValuesOnConditionCheckFailure=ALL_OLD.
type ConditionFailedError struct {
	Item attr.Item // nil unless the caller asked for it, or no item existed
}

func (e *ConditionFailedError) Error() string { return "The conditional request failed" }
func (e *ConditionFailedError) Unwrap() error { return ErrConditionFailed }
