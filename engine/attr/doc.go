// Package attr is Sluice's model of DynamoDB attribute values: the ten types,
// numbers as canonical decimals (never float64), DynamoDB's validation rules,
// its item-size rule, semantic equality, and the DynamoDB JSON codec.
//
// Guarantees: a Value that passed validation has a canonical Number for every
// N and NS member, no empty or duplicated set, nesting no deeper than 32
// levels, and sizes computed exactly as DynamoDB computes them.
//
// Decoding and validation are separate steps, as in DynamoDB: the JSON
// decoder (Value.UnmarshalJSON, Item.UnmarshalJSON) reports only
// SerializationException-kind errors (a member of the wrong JSON kind, bad
// base64) and keeps everything else as the client sent it; ValidateItem and
// ValidateValue then report ValidationException-kind errors and canonicalize
// numbers in place. The wire layer can thus report request-level errors
// ("1 validation error detected: ...") before item-level ones, as DynamoDB
// does. A decoded value must be validated before any other use.
//
// The JSON codec lives here rather than in engine/wire because the change
// record (cdc/event, a lower row than wire) serializes images in the same
// DynamoDB JSON.
package attr
