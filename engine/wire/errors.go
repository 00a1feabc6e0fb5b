package wire

import (
	"errors"
	"net/http"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// Conditions only the wire layer detects, or that the engine will report
// later. Each has a row in the exception table; an *attr.Error whose Kind is
// one of these carries DynamoDB's message for the particular case.
var (
	// ErrUnknownOperation: UnknownOperationException (missing, malformed or
	// unregistered X-Amz-Target).
	ErrUnknownOperation = errors.New("wire: unknown operation")
	// ErrRequestTooLarge: the body, before or after decompression, is larger
	// than Options.MaxBodyBytes (HTTP 413).
	ErrRequestTooLarge = errors.New("wire: request entity too large")
	// ErrInternal: InternalServerError (HTTP 500); SDKs retry it.
	ErrInternal = errors.New("wire: internal server error")
	// ErrThrottling: ThrottlingException, DynamoDB's answer when control-plane
	// requests (CreateTable, UpdateTable...) come too fast. SDKs retry it.
	ErrThrottling = errors.New("wire: throttled")
	// ErrThroughputExceeded: ProvisionedThroughputExceededException, the
	// data-plane throttle. SDKs retry it.
	ErrThroughputExceeded = errors.New("wire: provisioned throughput exceeded")
	// ErrMissingAuthToken: MissingAuthenticationTokenException (no
	// Authorization header and no presigned query).
	ErrMissingAuthToken = errors.New("wire: missing authentication token")
	// ErrIncompleteSignature: IncompleteSignatureException (a malformed
	// SigV4 Authorization header).
	ErrIncompleteSignature = errors.New("wire: incomplete signature")
	// ErrInvalidSignature: InvalidSignatureException (signature mismatch,
	// expired request, wrong scope).
	ErrInvalidSignature = errors.New("wire: invalid signature")
	// ErrUnrecognizedClient: UnrecognizedClientException (unknown access key).
	ErrUnrecognizedClient = errors.New("wire: unrecognized client")
	// ErrAccessDenied: AccessDeniedException (known key, action not allowed).
	ErrAccessDenied = errors.New("wire: access denied")
	// ErrExpiredIterator: a DynamoDB Streams shard iterator past its 15
	// minutes (ExpiredIteratorException).
	ErrExpiredIterator = errors.New("wire: expired iterator")
	// ErrTrimmedDataAccess: a DynamoDB Streams read of records already
	// trimmed (TrimmedDataAccessException).
	ErrTrimmedDataAccess = errors.New("wire: trimmed data access")
)

// Namespaces of DynamoDB's __type values. Exceptions of the DynamoDB model
// live in the service namespace; the request-validation layer and the Coral
// front end (routing, parsing, authentication, throttling) use their own.
const (
	nsDynamoDB     = "com.amazonaws.dynamodb.v20120810#"
	nsValidate     = "com.amazon.coral.validate#"
	nsCoral        = "com.amazon.coral.service#"
	nsAvailability = "com.amazon.coral.availability#"
)

// exception is one row of the exception table.
type exception struct {
	match  error  // sentinel, compared with errors.Is
	typ    string // the full __type value
	status int    // HTTP status
	// msgKey is the JSON key of the message. DynamoDB's model names it
	// "message" for most exceptions but "Message" for a few
	// (TransactionCanceledException, IdempotentParameterMismatchException,
	// TransactionInProgressException) and the Coral front end sends
	// "Message" for SerializationException. SDKs decode modeled exceptions
	// by exact member name, so the casing matters.
	msgKey string
	msg    string // default message; "" sends no message at all
}

// exceptions is the one place where DynamoDB exception names live. Rows are
// tried in order and the first whose sentinel is in the error's chain wins.
// To add an exception, add its sentinel (in the package that detects the
// condition) and one row here.
var exceptions = [...]exception{
	{match: attr.ErrValidation, typ: nsValidate + "ValidationException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The request failed validation"},
	// DynamoDB answers malformed JSON with a bare __type and no message.
	{match: attr.ErrSerialization, typ: nsCoral + "SerializationException", status: http.StatusBadRequest,
		msgKey: "Message"},
	{match: engine.ErrTableNotFound, typ: nsDynamoDB + "ResourceNotFoundException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Requested resource not found"},
	{match: engine.ErrResourceInUse, typ: nsDynamoDB + "ResourceInUseException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Resource in use"},
	{match: engine.ErrConditionFailed, typ: nsDynamoDB + "ConditionalCheckFailedException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The conditional request failed"},
	// The message lists the reason codes (TransactionCanceledError.Error);
	// the body adds CancellationReasons.
	{match: engine.ErrTransactionCanceled, typ: nsDynamoDB + "TransactionCanceledException", status: http.StatusBadRequest,
		msgKey: "Message", msg: "Transaction cancelled"},
	{match: engine.ErrItemCollectionTooLarge, typ: nsDynamoDB + "ItemCollectionSizeLimitExceededException", status: http.StatusBadRequest,
		msgKey: "message", msg: engine.MsgCollectionSizeExceeded},
	{match: engine.ErrIdempotentMismatch, typ: nsDynamoDB + "IdempotentParameterMismatchException", status: http.StatusBadRequest,
		msgKey: "Message", msg: engine.MsgIdempotentMismatch},
	{match: ErrExpiredIterator, typ: nsDynamoDB + "ExpiredIteratorException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Iterator expired"},
	{match: ErrTrimmedDataAccess, typ: nsDynamoDB + "TrimmedDataAccessException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The requested data has been trimmed"},
	// A read-your-writes GSI read whose index did not catch up in time: a
	// 503 that SDKs retry.
	{match: engine.ErrIndexBehind, typ: nsAvailability + "ServiceUnavailableException", status: http.StatusServiceUnavailable,
		msgKey: "message", msg: "The index is behind"},
	{match: engine.ErrLimitExceeded, typ: nsDynamoDB + "LimitExceededException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Limit exceeded"},
	// The engine is shutting down: nothing changed, and a 500 makes SDKs retry.
	{match: engine.ErrClosed, typ: nsDynamoDB + "InternalServerError", status: http.StatusInternalServerError,
		msgKey: "message", msg: "Internal server error"},
	{match: ErrThroughputExceeded, typ: nsDynamoDB + "ProvisionedThroughputExceededException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The level of configured provisioned throughput for the table was exceeded. " +
			"Consider increasing your provisioning level with the UpdateTable API."},
	{match: ErrThrottling, typ: nsAvailability + "ThrottlingException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Rate of requests exceeds the allowed throughput."},
	{match: ErrUnknownOperation, typ: nsCoral + "UnknownOperationException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Unknown operation exception"},
	{match: ErrRequestTooLarge, typ: nsCoral + "RequestEntityTooLargeException", status: http.StatusRequestEntityTooLarge,
		msgKey: "message", msg: "Request entity too large"},
	{match: ErrMissingAuthToken, typ: nsCoral + "MissingAuthenticationTokenException", status: http.StatusBadRequest,
		msgKey: "message", msg: "Request is missing Authentication Token"},
	{match: ErrIncompleteSignature, typ: nsCoral + "IncompleteSignatureException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The request signature does not conform to AWS standards."},
	{match: ErrInvalidSignature, typ: nsCoral + "InvalidSignatureException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	{match: ErrUnrecognizedClient, typ: nsCoral + "UnrecognizedClientException", status: http.StatusBadRequest,
		msgKey: "message", msg: "The security token included in the request is invalid."},
	{match: ErrAccessDenied, typ: nsCoral + "AccessDeniedException", status: http.StatusBadRequest,
		msgKey: "message", msg: "User is not authorized to perform this action"},
	{match: ErrInternal, typ: nsDynamoDB + "InternalServerError", status: http.StatusInternalServerError,
		msgKey: "message", msg: "Internal server error"},
}

// internalError is the row for errors no sentinel matches. Its message never
// says more than DynamoDB's own.
var internalError = exception{typ: nsDynamoDB + "InternalServerError", status: http.StatusInternalServerError,
	msgKey: "message", msg: "Internal server error"}

// lookup returns the row for err and whether a sentinel matched.
func lookup(err error) (*exception, bool) {
	for i := range exceptions {
		if errors.Is(err, exceptions[i].match) {
			return &exceptions[i], true
		}
	}
	return &internalError, false
}

// appendErrorJSON appends the JSON body for err, answered as row x. An
// *attr.Error in the chain supplies the message, except on a 500, whose
// message is always the row's. A *engine.ConditionFailedError with an item
// adds "Item" in DynamoDB JSON (ReturnValuesOnConditionCheckFailure=ALL_OLD);
// a *engine.TransactionCanceledError supplies the message and adds
// "CancellationReasons".
func appendErrorJSON(dst []byte, x *exception, err error) []byte {
	msg := x.msg
	var ae *attr.Error
	var tc *engine.TransactionCanceledError
	switch {
	case x.status >= 500:
	case errors.As(err, &ae) && ae.Msg != "":
		msg = ae.Msg
	case errors.As(err, &tc):
		msg = tc.Error()
	}
	dst = append(dst, `{"__type":`...)
	dst = attr.AppendString(dst, x.typ)
	if msg != "" {
		dst = append(dst, ',', '"')
		dst = append(dst, x.msgKey...)
		dst = append(dst, '"', ':')
		dst = attr.AppendString(dst, msg)
	}
	var cf *engine.ConditionFailedError
	if errors.As(err, &cf) && cf.Item != nil {
		dst = append(dst, `,"Item":`...)
		dst = attr.AppendItemJSON(dst, cf.Item)
	}
	if tc != nil {
		dst = appendReasons(dst, tc.Reasons)
	}
	return append(dst, '}')
}

// appendReasons appends a TransactionCanceledException's CancellationReasons
// member: Code always, Message and Item when present.
func appendReasons(dst []byte, reasons []engine.CancellationReason) []byte {
	dst = append(dst, `,"CancellationReasons":[`...)
	for i, r := range reasons {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Code":`...)
		dst = attr.AppendString(dst, r.Code)
		if r.Message != "" {
			dst = append(dst, `,"Message":`...)
			dst = attr.AppendString(dst, r.Message)
		}
		if r.Item != nil {
			dst = append(dst, `,"Item":`...)
			dst = attr.AppendItemJSON(dst, r.Item)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}
