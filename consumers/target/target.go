package target

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Record is one change record in a batch.
type Record struct {
	// Lambda is the JSON of the record as a Lambda DynamoDB event shows it
	// (one element of "Records": eventID, eventName, dynamodb{Keys, NewImage,
	// OldImage, SequenceNumber, ...}, eventSourceARN, camelCase userIdentity
	// for TTL deletes).
	Lambda []byte
	// SequenceNumber is dynamodb.SequenceNumber (the Lambda itemIdentifier).
	SequenceNumber string
	// Headers are the record's CloudEvent attributes, for the CloudEvents
	// target: ("ce-id", v), ("ce-source", v), ("ce-type", v), ("ce-subject",
	// v), ("ce-time", RFC 3339), ("ce-sequence", v), ("ce-partitionkey", v),
	// ("ce-correlationid", v), ("ce-accesskeyid", v), ("ce-sourceaddr", v),
	// ("ce-requestid", v), ("content-type", "application/json"), as package
	// cdc/event names them. Other headers are ignored; the data is Lambda.
	Headers [][2]string
}

// Window is a tumbling window (Lambda's TumblingWindowInSeconds).
type Window struct{ Start, End time.Time }

// Batch is one invocation's input.
type Batch struct {
	Records []Record
	// Window nil means no tumbling window; the Lambda event is then just
	// {"Records":[...]} and the fields below are not sent.
	Window *Window
	// State is the state returned by the previous invocation in this window
	// (nil or empty sends {}).
	State                   json.RawMessage
	ShardID                 string
	EventSourceARN          string
	IsFinalInvokeForWindow  bool
	IsWindowTerminatedEarly bool
}

// Result is how the function answered. Exactly one of these holds:
// FunctionError is set (the whole batch failed); BadItemFailures is set (the
// answer named records wrongly, and the whole batch failed); or the batch
// succeeded except for the records in BatchItemFailures (none: complete
// success).
type Result struct {
	// FunctionError is non-empty when the whole batch failed: Lambda's
	// FunctionErrorUnhandled or FunctionErrorHandled,
	// FunctionErrorInvalidResponse, or an HTTP status ("HTTP 503 Service
	// Unavailable") when the endpoint answered with one that is not success.
	FunctionError string
	// Message describes the failure, for logs and dead-letter records; at
	// most MaxMessageBytes.
	Message string
	// BatchItemFailures lists the itemIdentifiers (sequence numbers) of the
	// records that failed, as the answer listed them (ReportBatchItemFailures).
	// Every one is a record of the batch. Lambda checkpoints before the
	// lowest one and retries from there.
	BatchItemFailures []string
	// BadItemFailures is true when the batchItemFailures answer was
	// malformed (an itemIdentifier empty, null, missing, not a string or not
	// a record of the batch): Lambda then treats the whole batch as failed.
	BadItemFailures bool
	// State is the tumbling-window state the function returned, verbatim
	// (nil when it returned none). The runtime passes it to the next
	// invocation in the window and enforces Lambda's 1 MB limit.
	State json.RawMessage
	// StatusCode is the HTTP status of the (last) answer; 0 if none came.
	StatusCode int
	// RetryAfter is how long the endpoint asked the sender to wait (the
	// Retry-After header of a 429 or 503 answer); 0 if it did not ask.
	RetryAfter time.Duration
}

// Failed reports whether the whole batch failed.
func (r *Result) Failed() bool { return r.FunctionError != "" || r.BadItemFailures }

// Target invokes a function with a batch. A non-nil error means the
// invocation could not be made or answered (network, timeout, context,
// refused webhook handshake); the runtime retries it like a function error.
// Implementations are safe for concurrent use.
type Target interface {
	Invoke(ctx context.Context, b Batch) (Result, error)
}

// Values of Result.FunctionError other than HTTP statuses.
const (
	// FunctionErrorUnhandled: the runtime did not handle the error (crash,
	// timeout, out of memory), or the answer was an error payload without
	// the X-Amz-Function-Error header (the Runtime Interface Emulator), or
	// a 200 whose body is not JSON (the emulator's timeout text).
	FunctionErrorUnhandled = "Unhandled"
	// FunctionErrorHandled: the runtime caught the function's error and
	// reported it.
	FunctionErrorHandled = "Handled"
	// FunctionErrorInvalidResponse: the answer broke the contract in a way
	// Lambda counts as a failed invocation: with a tumbling window, an
	// answer without "state".
	FunctionErrorInvalidResponse = "InvalidResponse"
)

// MaxResponseBytes caps how much of an answer is read: Lambda's limit for a
// synchronous invocation's payload (6 MB). A longer answer is a function
// error.
const MaxResponseBytes = 6 << 20

// MaxMessageBytes caps Result.Message.
const MaxMessageBytes = 4 << 10

// ErrHandshakeRefused is returned by CloudEvents.Invoke when the webhook did
// not allow delivery in the abuse-protection handshake.
var ErrHandshakeRefused = errors.New("target: webhook refused the abuse-protection handshake")

// Errors of Verify.
var (
	ErrSignatureMalformed = errors.New("target: malformed signature header")
	ErrSignatureMismatch  = errors.New("target: signature does not match")
	ErrSignatureExpired   = errors.New("target: signature timestamp outside the tolerance")
)

var (
	_ Target = (*Lambda)(nil)
	_ Target = (*CloudEvents)(nil)
)
