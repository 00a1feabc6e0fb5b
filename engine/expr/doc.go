// Package expr parses, checks and evaluates DynamoDB's five expression
// parameters: ConditionExpression, FilterExpression, KeyConditionExpression,
// UpdateExpression and ProjectionExpression. One hand-written lexer and
// backtracking recursive-descent parser serve all five (lexer.go,
// parser.go); a checker then resolves #name and :value placeholders and
// reports problems by category in DynamoDB's order (check.go).
//
// # API
//
//	ParseCondition(kind, s, names, values) (*Condition, error)  // KindCondition or KindFilter
//	(*Condition).Eval(item) (bool, error)                       // satisfies engine's condition interface
//	ParseUpdate(s, names, values) (*Update, error)
//	(*Update).Apply(item) (attr.Item, error)                    // new item; item is not modified
//	(*Update).Paths() []Path                                    // for ReturnValues UPDATED_OLD / UPDATED_NEW
//	ParseProjection(s, names) (*Projection, error)
//	(*Projection).Project(item) attr.Item; ProjectPaths(item, paths) attr.Item
//	ParseKeyCondition(s, names, values) (*KeyCondition, error) // checks that need no schema
//	(*KeyCondition).Bind(KeySchema) (*KeyRange, error)         // checks against the table or index key
//	CheckUnused(names, values, usages ...Usage) error           // one Usage per expression of the request
//
// Every parsed expression has String(), which prints it with its
// placeholders such that parsing the text again gives the same tree
// (FuzzRoundTrip), and Used(), the placeholders it used.
//
// # Guarantees
//
// Every error is an *attr.Error of kind attr.ErrValidation whose message is
// DynamoDB's, word for word, prefixed "Invalid <Kind>: " where DynamoDB does
// so. Parsing never panics (FuzzParse). Evaluation never modifies its input
// and never fails for a condition: comparing different types, ordering
// anything but S, N and B, and missing attributes make a comparison false
// (and <> true). Numbers compare and add as decimals; strings order by
// UTF-8 bytes; size() counts bytes of S and B. Update operands all read the
// original item; arithmetic is exact and then held to DynamoDB's 38 digits
// and range through attr.ParseNumber.
//
// # Order of checks
//
// Before parsing: the 4 KB limit, emptiness, placeholder length. Then syntax
// ("Syntax error; token: "t", near: "prev t next"", the furthest token any
// alternative reached, near spanning the tokens either side in the source
// text). Then, for conditions: redundant parentheses, function names,
// misused functions, reserved words, then the first simple condition (left
// to right) with a problem, within which: undefined names and values,
// operand counts, non-distinct operands, operand types. For updates:
// reserved words, function names, repeated clauses, undefined names, then
// values, overlapping then conflicting paths, ADD and DELETE operand types,
// function operands. For projections: reserved words, undefined names,
// overlapping then conflicting paths. Key conditions then check operators,
// each condition's shape, one condition per key, at most two conditions;
// Bind checks the schema.
//
// # Sources of the messages
//
// Verbatim from the public conformance suite (recorded against DynamoDB,
// tests/tier3/error-messages/*.test.ts): syntax error "INVALID SYNTAX HERE"
// and "!!! INVALID !!!", empty Update and KeyCondition expressions, unused
// names and values, undefined :value in UpdateExpression and #name in
// FilterExpression, "Query condition missed key schema element: pk".
// From the AWS documentation: the reserved words (reserved.go), the limits,
// the precedence, function semantics. From DynamoDB's observed behaviour as
// recorded by reference emulators' test suites (dynalite's tests, written
// against DynamoDB; read, not copied): redundant parentheses, invalid and
// misused functions, reserved keyword, operand counts and types, document
// path required, attribute type names, distinct operands, BETWEEN bounds,
// repeated sections, overlapping and conflicting paths (path formatting
// "[a, [1]]"), ADD/DELETE operand types (STRING, NUMBER, ...), the key
// condition messages ("Invalid operator used in KeyConditionExpression: OR",
// "... must have the key attribute as its first operand", "... cannot
// contain nested operations", "... Multiple attribute names used in one
// condition", "... cannot have conditions on nested attributes", "... No
// key attribute specified", "Invalid KeyConditionExpression:
// KeyConditionExpressions must only contain one condition per key", "The
// number of query conditions (3) exceeds the number of key attributes
// defined in the schema (2)", "Conditions can be of length 1 or 2 only"
// (KeyConditions), "Query key condition not supported", "Condition parameter type does not match schema
// type") and the runtime update errors ("An operand in the update
// expression has an incorrect data type", "The provided expression refers
// to an attribute that does not exist in the item", "The document path
// provided in the update expression is invalid for update").
//
// Not verified against DynamoDB (best guesses, marked in errors.go by their
// names): the too-many-operators, path-depth and placeholder-length texts,
// "The function is not allowed in an update/condition expression" (seen in
// other emulators only), "The IN operator is provided with too many
// operands", the ordering-operator type error on a constant (e.g. a < :bool),
// and the suffix "; expression size: N" of the 4 KB error (seen in a user
// report of a FilterExpression).
package expr
