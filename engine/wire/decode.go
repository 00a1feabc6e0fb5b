package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// Decode unmarshals a request body into v (a pointer to the operation's
// input struct) and reports bad input as DynamoDB does:
//
//   - An empty (or blank) body is a SerializationException with no
//     message, as DynamoDB answers it (SDKs always send at least {}).
//   - Malformed JSON is a SerializationException with no message.
//   - A JSON value of the wrong kind for its member is a
//     SerializationException with DynamoDB's message (for example "Start of
//     structure or map found where not expected." or "class java.lang.String
//     can not be converted to an Integer").
//   - An *attr.Error returned by a custom UnmarshalJSON (the AttributeValue
//     codec) is returned unchanged.
//   - Unknown members are ignored.
//
// Unlike DynamoDB, member names match case-insensitively (encoding/json).
// Any error that is not the client's fault (v is not a non-nil pointer) is
// returned as is and so becomes a 500.
func Decode(body []byte, v any) error {
	if isBlank(body) {
		return &attr.Error{Kind: attr.ErrSerialization}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var ae *attr.Error
	if errors.As(err, &ae) {
		return err
	}
	var invalid *json.InvalidUnmarshalError
	if errors.As(err, &invalid) {
		return err
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &attr.Error{Kind: attr.ErrSerialization, Msg: typeErrorMessage(body, te)}
	}
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		return &attr.Error{Kind: attr.ErrSerialization, Msg: "Invalid Base64 encoding"}
	}
	// Syntax errors, and anything else a custom unmarshaler said about the
	// bytes: DynamoDB answers a body it cannot parse with a bare
	// SerializationException.
	return &attr.Error{Kind: attr.ErrSerialization}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// Serialization messages for members of the wrong JSON kind, word for word as
// DynamoDB's front end sends them. DynamoDB's grammar ("an String") is kept.
const (
	msgListNotExpected   = "Start of list found where not expected"
	msgMapNotExpected    = "Start of structure or map found where not expected."
	msgExpectedList      = "Expected list or null"
	msgExpectedMap       = "Expected map or null"
	msgExpectedStructure = "Expected null"
	classNumber          = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	classString          = "class java.lang.String"
	classBoolean         = "class java.lang.Boolean"
)

// typeErrorMessage returns DynamoDB's message for a JSON value of the wrong
// kind. te.Value names the JSON kind ("string", "number", "number 1.5",
// "bool", "array", "object"); te.Type is the Go type it was decoded into.
func typeErrorMessage(body []byte, te *json.UnmarshalTypeError) string {
	jsonKind, _, _ := strings.Cut(te.Value, " ")
	switch jsonKind {
	case "array":
		if te.Type != nil && te.Type.Kind() == reflect.Slice && te.Type.Elem().Kind() != reflect.Uint8 {
			break // a list where a list goes: the element was wrong
		}
		return msgListNotExpected
	case "object":
		return msgMapNotExpected
	}
	if te.Type == nil {
		return ""
	}
	from := classNumber
	switch jsonKind {
	case "string":
		from = classString
	case "bool":
		from = classBoolean
	}
	switch t := te.Type; t.Kind() {
	case reflect.String:
		return from + " can not be converted to an String"
	case reflect.Bool:
		if jsonKind == "string" {
			if s, ok := stringBefore(body, te.Offset); ok {
				return "'" + strings.ToUpper(s) + "' can not be converted to an Boolean"
			}
		}
		return from + " can not be converted to an Boolean"
	case reflect.Int8, reflect.Int16, reflect.Uint8, reflect.Uint16:
		return from + " can not be converted to an Short"
	case reflect.Int, reflect.Int32:
		return from + " can not be converted to an Integer"
	case reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return from + " can not be converted to an Long"
	case reflect.Float32, reflect.Float64:
		return from + " can not be converted to an Double"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return from + " can not be converted to a Blob"
		}
		return msgExpectedList
	case reflect.Array:
		return msgExpectedList
	case reflect.Map:
		return msgExpectedMap
	case reflect.Struct:
		return msgExpectedStructure
	}
	return ""
}

// stringBefore returns the JSON string literal that ends just before off in
// body, decoded, if there is one.
func stringBefore(body []byte, off int64) (string, bool) {
	end := int(off)
	if end <= 1 || end > len(body) || body[end-1] != '"' {
		return "", false
	}
	for i := end - 2; i >= 0; i-- {
		if body[i] != '"' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && body[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 1 {
			continue // an escaped quote inside the literal
		}
		var s string
		if json.Unmarshal(body[i:end], &s) != nil {
			return "", false
		}
		return s, true
	}
	return "", false
}
