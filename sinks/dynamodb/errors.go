package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluicedb/sluice/sinks"
)

// How long the runtime is asked to wait.
const (
	throttledBackOff   = 500 * time.Millisecond // the destination is busy
	unavailableBackOff = time.Second            // it does not answer, or fails
)

// ErrRejected marks a record the destination refused; retrying it as it is
// cannot succeed.
var ErrRejected = errors.New("dynamodb: record rejected")

// errNotApplied marks a record of a batch that was not applied because
// another record failed first.
var errNotApplied = errors.New("dynamodb: not applied: an earlier record of the batch failed")

// outcome is what became of one request.
type outcome uint8

const (
	applied     outcome = iota // written, or the destination holds this change or a newer one
	throttled                  // the destination is busy: back off briefly
	unavailable                // no answer, or a server failure: back off
	rejected                   // the record cannot be applied
	failed                     // anything else: the whole batch fails
)

// codes is the one table of the DynamoDB error codes the sink tells apart,
// by what they mean for a record. A code not listed is an outcome of failed
// (unless the HTTP status is 5xx).
var codes = map[string]outcome{
	"ConditionalCheckFailedException": applied,

	"ProvisionedThroughputExceededException": throttled,
	"ThrottlingException":                    throttled,
	"RequestLimitExceeded":                   throttled,
	"TransactionConflictException":           throttled,
	"ReplicatedWriteConflictException":       throttled,
	"InternalServerError":                    unavailable,
	"ServiceUnavailable":                     unavailable,

	"ValidationException":                      rejected,
	"SerializationException":                   rejected,
	"ItemCollectionSizeLimitExceededException": rejected,
}

// classify says what err, returned by a request, means. ctx is the
// request's context: an error after it ended is failed, not a back-off.
func classify(ctx context.Context, err error) outcome {
	if err == nil {
		return applied
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if o, ok := codes[api.ErrorCode()]; ok {
			return o
		}
	}
	if ctx.Err() != nil {
		return failed
	}
	status := 0 // no response: the connection failed or timed out
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case status == 0 && api == nil, status >= http.StatusInternalServerError:
		return unavailable
	}
	return failed
}

// result is the error of one request as Write reports it: nil when the
// record is applied, else an error matching its outcome (a
// *sinks.BackOffError, ErrRejected or neither).
func result(ctx context.Context, k sinks.Key, op string, err error) error {
	switch classify(ctx, err) {
	case applied:
		return nil
	case throttled:
		return &sinks.BackOffError{After: throttledBackOff, Err: fmt.Errorf("dynamodb: %s of record %s: %w", op, k, err)}
	case unavailable:
		return &sinks.BackOffError{After: unavailableBackOff, Err: fmt.Errorf("dynamodb: %s of record %s: %w", op, k, err)}
	case rejected:
		return fmt.Errorf("%w: %s of record %s: %w", ErrRejected, op, k, err)
	default:
		return fmt.Errorf("dynamodb: %s of record %s: %w", op, k, err)
	}
}
