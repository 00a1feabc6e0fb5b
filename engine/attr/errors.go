package attr

import (
	"errors"
	"fmt"
)

// Client-error conditions found while decoding or validating values. The
// wire layer maps each to its DynamoDB exception; nothing else compares them.
var (
	// ErrValidation becomes ValidationException (HTTP 400).
	ErrValidation = errors.New("attr: validation failed")
	// ErrSerialization becomes SerializationException (HTTP 400).
	ErrSerialization = errors.New("attr: serialization failed")
)

// Error is a client-facing error: Kind is the sentinel condition (one of this
// package's, or a sentinel of a higher package such as engine.ErrTableNotFound)
// and Msg is the message DynamoDB sends for it, word for word.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error with DynamoDB's message.
func Invalid(format string, args ...any) error {
	return Errorf(ErrValidation, format, args...)
}
