package attr

// KeyRole says which part of a primary key a value is.
type KeyRole uint8

const (
	PartitionKey KeyRole = iota // HASH
	SortKey                     // RANGE
)

// Key-attribute messages, word for word as DynamoDB sends them.
const (
	msgKeyTypeMismatch = paramsInvalid + "Type mismatch for key %s expected: %s actual: %s"
	// MsgKeySchemaMismatch is the whole message for a Key parameter
	// (GetItem, DeleteItem, UpdateItem, BatchGetItem, ...) whose attributes
	// are missing, extra, or of the wrong type.
	MsgKeySchemaMismatch = "The provided key element does not match the schema"
	msgPartitionKeySize  = paramsInvalid + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
	msgSortKeySize       = paramsInvalid + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
	msgIndexKeyMismatch  = paramsInvalid + "Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s"
	msgIndexKeyEmpty     = "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s"
	// An update that leaves a secondary-index key empty gets its own
	// wording, without the index (recorded from DynamoDB).
	msgUpdatedIndexKeyEmpty = "One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty %s value."
)

// EmptyKind is "string" for an empty S, "binary" for an empty B, and ""
// for any other value: the values a key attribute cannot hold.
func EmptyKind(v Value) string {
	switch {
	case v.T == TypeS && v.S == "":
		return "string"
	case v.T == TypeB && len(v.B) == 0:
		return "binary"
	}
	return ""
}

// UpdatedIndexKeyEmpty is the error of an update that leaves a
// secondary-index key attribute holding v, an empty value of kind
// EmptyKind(v).
func UpdatedIndexKeyEmpty(v Value) error {
	return Invalid(msgUpdatedIndexKeyEmpty, EmptyKind(v))
}

// ValidateKeyValue checks the value of key attribute name inside an item
// (PutItem, BatchWriteItem's PutRequest, TransactWriteItems' Put): it must
// have type want and must not be an empty string or binary. Size limits are
// checked separately by ValidateKeySize.
func ValidateKeyValue(name string, v Value, want Type) error {
	if v.T != want {
		return Invalid(msgKeyTypeMismatch, name, want, v.T)
	}
	return KeyNotEmpty(name, v)
}

// ValidateKeyElement checks one attribute of a Key parameter (GetItem,
// DeleteItem, UpdateItem, BatchGetItem, TransactGetItems, ...). DynamoDB
// answers a wrong type there with MsgKeySchemaMismatch rather than the
// item form's "Type mismatch"; the engine uses the same message for missing
// or extra key attributes.
func ValidateKeyElement(name string, v Value, want Type) error {
	if v.T != want {
		return Invalid(MsgKeySchemaMismatch)
	}
	return KeyNotEmpty(name, v)
}

// KeyNotEmpty checks that key attribute name does not hold an empty
// string or binary value: the emptiness rule of ValidateKeyValue and
// ValidateKeyElement alone (TransactWriteItems applies it before the
// transaction runs).
func KeyNotEmpty(name string, v Value) error {
	if what := EmptyKind(v); what != "" {
		return Invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", what, name)
	}
	return nil
}

// ValidateKeySize checks DynamoDB's key size limits: a partition key value
// at most MaxPartitionKeyBytes, a sort key value at most MaxSortKeyBytes
// (UTF-8 bytes of S, raw bytes of B; numbers always fit).
func ValidateKeySize(v Value, role KeyRole) error {
	n := 0
	switch v.T {
	case TypeS:
		n = len(v.S)
	case TypeB:
		n = len(v.B)
	}
	if role == PartitionKey && n > MaxPartitionKeyBytes {
		return Invalid(msgPartitionKeySize)
	}
	if role == SortKey && n > MaxSortKeyBytes {
		return Invalid(msgSortKeySize)
	}
	return nil
}

// ValidateIndexKeyValue checks an item's value for key attribute name of
// secondary index index. An item that lacks the attribute is simply not
// indexed, so callers check only present attributes. The type-mismatch text
// is DynamoDB's (seen through dynalite's tests); the empty-value text is
// believed to be DynamoDB's but is not checked against the conformance suite.
func ValidateIndexKeyValue(index, name string, v Value, want Type) error {
	if v.T != want {
		return Invalid(msgIndexKeyMismatch, name, want, v.T, index)
	}
	if what := EmptyKind(v); what != "" {
		return Invalid(msgIndexKeyEmpty, what, index, name)
	}
	return nil
}
