// Package wire is the DynamoDB JSON-1.0 plumbing shared by the DynamoDB API
// (engine/dynamoapi) and the DynamoDB Streams API (cdc/streamsapi): one
// http.Handler that routes POST requests by X-Amz-Target to registered Ops,
// decodes bodies, and answers exactly as DynamoDB's endpoint does, so that
// unmodified AWS SDKs and the CLI work against it.
//
// # Guarantees
//
//   - Every response carries x-amzn-RequestId (52 characters of [0-9A-V],
//     DynamoDB's shape) and x-amz-crc32, the CRC-32 (IEEE) of the response
//     body bytes exactly as sent: the compressed bytes when the response is
//     gzip-compressed. The AWS SDKs (aws-sdk-go-v2 service/dynamodb, botocore,
//     the Java SDKs) compute it over the raw bytes, below their gzip
//     decompression. aws-sdk-go-v2 asks for "Accept-Encoding: identity" unless
//     EnableAcceptEncodingGzip is set.
//   - Request bodies may be sent with Content-Encoding gzip or deflate. The
//     body is refused with HTTP 413 once it exceeds Options.MaxBodyBytes
//     (16 MiB, DynamoDB's limit) either as sent or as decompressed, so a small
//     compressed body cannot expand without bound.
//   - A response is gzip-compressed when the request's Accept-Encoding
//     allows gzip.
//   - An Op never causes a 500 for bad input: Decode reports malformed JSON and
//     wrongly typed members as SerializationException. Every error an Op
//     returns is answered through the exception table; an error no sentinel
//     matches, and a panic in an Op, become a 500 InternalServerError whose
//     message reveals nothing, logged once with the request id.
//   - The context an Op receives is cancelled when the client goes away.
//   - X-Forwarded-For is ignored unless the peer is one of
//     Options.TrustedProxies.
//
// # Requests DynamoDB's way
//
// GET (any path) answers 200 "healthy: <host> " (trailing space included), as
// DynamoDB answers "healthy: dynamodb.us-east-1.amazonaws.com ". Methods other
// than GET, HEAD and POST, and a POST body whose Content-Type is not
// application/x-amz-json-1.0, application/x-amz-json-1.1 or application/json,
// get 404 with the body "<UnknownOperationException/>\n". A missing or
// unregistered X-Amz-Target is an UnknownOperationException, unless the body
// is not JSON, which DynamoDB checks first (SerializationException). The
// response Content-Type echoes the request's.
//
// # The exception table
//
// The exceptions table in errors.go is the one place in Sluice where DynamoDB
// exception names live. Each row maps a sentinel error to the exception's
// __type, its HTTP status, the casing of its message key, and a default
// message:
//
//	sentinel                      __type                                                         status  key
//	attr.ErrValidation            com.amazon.coral.validate#ValidationException                   400    message
//	attr.ErrSerialization         com.amazon.coral.service#SerializationException                 400    Message
//	engine.ErrTableNotFound       com.amazonaws.dynamodb.v20120810#ResourceNotFoundException      400    message
//	engine.ErrResourceInUse       com.amazonaws.dynamodb.v20120810#ResourceInUseException         400    message
//	engine.ErrConditionFailed     com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException 400   message (+ Item)
//	engine.ErrTransactionCanceled com.amazonaws.dynamodb.v20120810#TransactionCanceledException   400    Message (+ CancellationReasons)
//	engine.ErrIdempotentMismatch  com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException 400 Message
//	ErrExpiredIterator            com.amazonaws.dynamodb.v20120810#ExpiredIteratorException       400    message
//	ErrTrimmedDataAccess          com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException     400    message
//	engine.ErrIndexBehind         com.amazon.coral.availability#ServiceUnavailableException       503    message
//	engine.ErrLimitExceeded       com.amazonaws.dynamodb.v20120810#LimitExceededException         400    message
//	engine.ErrClosed              com.amazonaws.dynamodb.v20120810#InternalServerError            500    message
//	ErrThroughputExceeded         com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException 400 message
//	ErrThrottling                 com.amazon.coral.availability#ThrottlingException               400    message
//	ErrUnknownOperation           com.amazon.coral.service#UnknownOperationException              400    message
//	ErrRequestTooLarge            com.amazon.coral.service#RequestEntityTooLargeException         413    message
//	ErrMissingAuthToken ...       com.amazon.coral.service#...  (authentication, for SigV4)       400    message
//	ErrInternal, anything else    com.amazonaws.dynamodb.v20120810#InternalServerError            500    message
//
// The message is the Msg of the first *attr.Error in the error's chain (an
// engine error made with attr.Errorf(engine.ErrTableNotFound, ...)), else the
// row's default; a 500 always sends the default. When the error is an
// *engine.ConditionFailedError with an item, the body also carries "Item" in
// DynamoDB JSON, as for ReturnValuesOnConditionCheckFailure=ALL_OLD; an
// *engine.TransactionCanceledError gives the message (the reason codes) and
// adds "CancellationReasons", one {Code, Message, Item} per action. To add an
// exception, declare its sentinel in the package that detects the condition
// and add a row; nothing else compares error strings or knows a __type.
//
// Error bodies are {"__type":"<namespace>#<Name>","message":"<text>"}. The
// key is "Message" where DynamoDB's model names the member so
// (TransactionCanceledException, IdempotentParameterMismatchException,
// TransactionInProgressException) and for the front end's
// SerializationException; SDKs decode modeled exceptions by exact member name.
package wire
