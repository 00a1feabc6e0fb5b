package attr

// Type is the DynamoDB data type of a Value.
type Type uint8

// The DynamoDB data types. The zero Type is invalid: a Value must have one.
const (
	TypeInvalid Type = iota
	TypeS
	TypeN
	TypeB
	TypeBOOL
	TypeNULL
	TypeM
	TypeL
	TypeSS
	TypeNS
	TypeBS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns the DynamoDB type descriptor ("S", "NS", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// Number is a DynamoDB number as decimal text. A Number made by ParseNumber,
// or found in a Value that passed validation, is canonical: plain notation
// (never an exponent), no leading zeros before the integer digit(s), no
// trailing fractional zeros, no decimal point without a fraction, "-" only
// for negative values, and zero as "0" (see ParseNumber). Two canonical
// Numbers are equal exactly when their texts are. A Value fresh from the JSON
// decoder holds the client's text until ValidateValue canonicalizes it.
type Number string

// Value is one DynamoDB attribute value. Exactly the field that T names is
// meaningful; the others are zero. Sets hold members in the order the client
// sent them (DynamoDB keeps no set order) and never hold duplicates once the
// value is validated. A decoded value that DynamoDB would reject has T ==
// TypeInvalid and the ValidationException message in S (see json.go);
// validation reports it.
type Value struct {
	T    Type
	S    string           // TypeS
	N    Number           // TypeN
	B    []byte           // TypeB
	BOOL bool             // TypeBOOL
	M    map[string]Value // TypeM (non-nil, possibly empty)
	L    []Value          // TypeL (non-nil, possibly empty)
	SS   []string         // TypeSS (non-empty)
	NS   []Number         // TypeNS (non-empty)
	BS   [][]byte         // TypeBS (non-empty)
}

// Item is a DynamoDB item: attribute names to values.
type Item map[string]Value

// Constructors for the common cases.

func S(s string) Value  { return Value{T: TypeS, S: s} }
func B(b []byte) Value  { return Value{T: TypeB, B: b} }
func Bool(b bool) Value { return Value{T: TypeBOOL, BOOL: b} }
func Null() Value       { return Value{T: TypeNULL} }
func N(n Number) Value  { return Value{T: TypeN, N: n} }
func M(m map[string]Value) Value {
	if m == nil {
		m = map[string]Value{}
	}
	return Value{T: TypeM, M: m}
}
func L(l []Value) Value {
	if l == nil {
		l = []Value{}
	}
	return Value{T: TypeL, L: l}
}
