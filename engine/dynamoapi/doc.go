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
// Expression parameters (ConditionExpression, ProjectionExpression,
// ExpressionAttributeNames/Values) and their legacy forms (Expected,
// AttributesToGet, ConditionalOperator) are validated for the conflicts
// DynamoDB reports before parsing them, then refused as not supported yet;
// expressions.go is where engine/expr plugs in.
package dynamoapi
