// Package dynamoapi implements the DynamoDB_20120810 operations on top of the
// engine: it decodes each request, checks it against DynamoDB's limits and
// shapes, calls the engine, and renders the response as DynamoDB does.
//
// # Guarantees
//
//   - Bad input never reaches the engine: every request is checked in
//     DynamoDB's order (JSON types, then the table name on its own, then the
//     aggregated member constraints, then the operation's own semantic rules,
//     then the table's existence, then item and key semantics) and answered
//     with DynamoDB's exception and message, word for word where known.
//   - Constraint violations are reported in one message in DynamoDB's format
//     ("N validation error(s) detected: ..."; see constraints.go), never
//     one at a time.
//   - Handlers never name DynamoDB exceptions: they return *attr.Error values
//     whose Kind is a sentinel (attr.ErrValidation, engine.ErrTableNotFound,
//     wire.ErrAccessDenied...), and engine/wire's one table maps them.
//   - Items read from the engine are written to the client as the engine's
//     canonical DynamoDB JSON bytes, without decoding them again.
//   - Every write carries the caller's identity (access key, source address,
//     request id) into the change record.
//
// Expression parameters (ConditionExpression, UpdateExpression,
// KeyConditionExpression, FilterExpression, ProjectionExpression,
// ExpressionAttributeNames/Values) are checked for the conflicts DynamoDB
// reports before parsing, parsed by engine/expr (expressions.go), and
// checked for unused placeholders across the request. Their legacy forms
// (Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
// AttributesToGet, ConditionalOperator) are translated into the same
// conditions, updates and projections (legacy.go).
package dynamoapi
