package attr

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the DynamoDB JSON codec: {"S":"x"}, {"N":"1.5"}, {"B":"AQI="},
// {"BOOL":true}, {"NULL":true}, {"M":{...}}, {"L":[...]}, {"SS":[...]},
// {"NS":[...]}, {"BS":[...]}.
//
// Decoding reports only what DynamoDB reports as a SerializationException: a
// JSON value of the wrong kind for its member ({"S":5}, {"M":[]}) and binary
// text that is not canonical padded standard base64. Everything DynamoDB
// reports as a ValidationException (an empty AttributeValue, more than one
// data type, NULL:false, number syntax and range, empty or duplicated sets,
// nesting depth) is left for ValidateValue. DynamoDB checks the whole
// request's shape before any semantic rule, so a request with a bad number in
// one attribute and a wrongly typed member in another gets the
// SerializationException; deferring the semantic checks is what lets the wire
// layer reproduce that order, and report request-level constraint errors
// ("1 validation error detected: ...") before item-level ones.
//
// A decoded Value is therefore not usable until ValidateValue (or
// ValidateItem) has accepted it: its Numbers are the client's text until then,
// and a value DynamoDB would reject is kept as T == TypeInvalid with the
// ValidationException message in S (empty S: the AttributeValue named no data
// type). JSON null for a member counts as absent, as it does in DynamoDB.

// Serialization messages, word for word as DynamoDB sends them.
const (
	msgNumberToString = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"
	msgBoolToString   = "class java.lang.Boolean can not be converted to an String"
	msgNumberToBlob   = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"
	msgBoolToBlob     = "class java.lang.Boolean can not be converted to a Blob"
	msgNumberToBool   = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"
	msgListNotExp     = "Start of list found where not expected"
	msgMapNotExp      = "Start of structure or map found where not expected."
	msgExpectedList   = "Expected list or null"
	msgExpectedMap    = "Expected map or null"
	msgExpectedStruct = "Expected null"
	msgMalformedJSON  = "Malformed JSON"
)

// maxDecodeDepth bounds the decoder's recursion. A value nested deeper is
// skipped and kept as invalid with the nesting message, which validation
// reports (it would reject anything past MaxDepth anyway).
const maxDecodeDepth = 2 * MaxDepth

// AppendJSON appends v in DynamoDB JSON. Map keys are written in sorted order
// so that output is deterministic; set members in their stored order.
func AppendJSON(dst []byte, v Value) []byte {
	switch v.T {
	case TypeS:
		dst = append(dst, `{"S":`...)
		dst = AppendString(dst, v.S)
	case TypeN:
		dst = append(dst, `{"N":"`...)
		dst = append(dst, v.N...)
		dst = append(dst, '"')
	case TypeB:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.B)
		dst = append(dst, '"')
	case TypeBOOL:
		if v.BOOL {
			return append(dst, `{"BOOL":true}`...)
		}
		return append(dst, `{"BOOL":false}`...)
	case TypeNULL:
		return append(dst, `{"NULL":true}`...)
	case TypeM:
		dst = append(dst, `{"M":`...)
		dst = appendMap(dst, v.M)
	case TypeL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		dst = append(dst, ']')
	case TypeSS:
		dst = append(dst, `{"SS":[`...)
		for i, s := range v.SS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		dst = append(dst, ']')
	case TypeNS:
		dst = append(dst, `{"NS":[`...)
		for i, n := range v.NS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, n...)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	case TypeBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.BS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	default:
		// An invalid value has no data type; {} is what a client would
		// have sent for it.
		return append(dst, "{}"...)
	}
	return append(dst, '}')
}

// AppendItemJSON appends it as a JSON object of attribute names to DynamoDB
// JSON values, names in sorted order. A nil Item is written as {}.
func AppendItemJSON(dst []byte, it Item) []byte {
	return appendMap(dst, it)
}

func appendMap(dst []byte, m map[string]Value) []byte {
	dst = append(dst, '{')
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSON(dst, m[k])
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; HTML characters are not escaped (DynamoDB does not).
// The wire layer writes error messages with it too.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Valid JSON, but not valid JavaScript: escape as encoding/json does.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// MarshalJSON encodes v in DynamoDB JSON.
func (v Value) MarshalJSON() ([]byte, error) {
	return AppendJSON(nil, v), nil
}

// MarshalJSON encodes it in DynamoDB JSON.
func (it Item) MarshalJSON() ([]byte, error) {
	return AppendItemJSON(nil, it), nil
}

// UnmarshalJSON decodes one DynamoDB JSON AttributeValue. It returns only
// SerializationException-kind errors; see the top of this file for what it
// leaves to ValidateValue. JSON null leaves v unchanged.
func (v *Value) UnmarshalJSON(data []byte) error {
	d := decoder{data: data}
	d.skipSpace()
	if d.literal("null") {
		if err := d.end(); err != nil {
			return err
		}
		return nil
	}
	val, err := d.value(1)
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	*v = val
	return nil
}

// UnmarshalJSON decodes a JSON object of attribute names to DynamoDB JSON
// values, with the same rules as Value.UnmarshalJSON. JSON null leaves it
// unchanged.
func (it *Item) UnmarshalJSON(data []byte) error {
	d := decoder{data: data}
	d.skipSpace()
	if d.literal("null") {
		return d.end()
	}
	if d.pos < len(d.data) && d.data[d.pos] != '{' {
		return d.wrongKind(msgExpectedMap, msgExpectedMap, msgExpectedMap, msgListNotExp, "")
	}
	m, err := d.valueMap(1)
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	*it = m
	return nil
}

type decoder struct {
	data []byte
	pos  int
}

func serializationError(msg string) error { return Errorf(ErrSerialization, "%s", msg) }

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) end() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return serializationError(msgMalformedJSON)
	}
	return nil
}

// literal consumes lit if it comes next.
func (d *decoder) literal(lit string) bool {
	if strings.HasPrefix(string(d.data[d.pos:]), lit) {
		d.pos += len(lit)
		return true
	}
	return false
}

// peekKind classifies the next JSON value: '"', '{', '[', 't'/'f' (bool),
// 'n' (null), '0' (number) or 0 (malformed).
func (d *decoder) peekKind() byte {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return 0
	}
	switch c := d.data[d.pos]; c {
	case '"', '{', '[', 'n':
		return c
	case 't', 'f':
		return 't'
	default:
		if c == '-' || isDigit(c) {
			return '0'
		}
		return 0
	}
}

// wrongKind returns the serialization error for the value at d.pos given
// the messages DynamoDB uses for a number, a boolean, a string, a list and
// an object there.
func (d *decoder) wrongKind(number, boolean, str, list, object string) error {
	switch d.peekKind() {
	case '0':
		return serializationError(number)
	case 't':
		return serializationError(boolean)
	case '"':
		return serializationError(str)
	case '[':
		return serializationError(list)
	case '{':
		return serializationError(object)
	default:
		return serializationError(msgMalformedJSON)
	}
}

// value decodes one AttributeValue object at nesting level depth.
func (d *decoder) value(depth int) (Value, error) {
	switch d.peekKind() {
	case '{':
	case 'n':
		d.literal("null")
		return Value{}, nil // an absent AttributeValue: empty
	case '[':
		return Value{}, serializationError(msgListNotExp)
	case 0:
		return Value{}, serializationError(msgMalformedJSON)
	default:
		return Value{}, serializationError(msgExpectedStruct)
	}
	if depth > maxDecodeDepth {
		if err := d.skipValue(); err != nil {
			return Value{}, err
		}
		return Value{S: msgNesting}, nil
	}
	d.pos++ // {
	var (
		v       Value
		types   int
		invalid string   // a deferred validation message
		nums    []Number // N and NS members, checked if there are several types
	)
	first := true
	for {
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == '}' && first {
			d.pos++
			break
		}
		first = false
		key, err := d.str()
		if err != nil {
			return Value{}, err
		}
		if err := d.colon(); err != nil {
			return Value{}, err
		}
		if d.peekKind() == 'n' {
			d.literal("null")
		} else {
			t := typeOfKey(key)
			if t == TypeInvalid {
				if err := d.skipValue(); err != nil {
					return Value{}, err
				}
			} else {
				if v.T != t {
					types++
				}
				msg, err := d.member(&v, t, depth)
				if err != nil {
					return Value{}, err
				}
				if t == TypeN {
					nums = append(nums, v.N)
				} else if t == TypeNS {
					nums = append(nums, v.NS...)
				}
				if msg != "" && invalid == "" {
					invalid = msg
				}
			}
		}
		more, err := d.next('}')
		if err != nil {
			return Value{}, err
		}
		if !more {
			break
		}
	}
	switch {
	case types == 0:
		return Value{}, nil
	case types > 1:
		// DynamoDB converts numbers while reading the request, so a number
		// it cannot convert is reported before the extra data type.
		for _, n := range nums {
			if _, err := ParseNumber(string(n)); err != nil {
				return Value{S: err.Error()}, nil
			}
		}
		if invalid != "" {
			return Value{S: invalid}, nil
		}
		return Value{S: msgMultipleTypes}, nil
	case invalid != "":
		return Value{S: invalid}, nil
	}
	return v, nil
}

func typeOfKey(k string) Type {
	switch k {
	case "S":
		return TypeS
	case "N":
		return TypeN
	case "B":
		return TypeB
	case "BOOL":
		return TypeBOOL
	case "NULL":
		return TypeNULL
	case "M":
		return TypeM
	case "L":
		return TypeL
	case "SS":
		return TypeSS
	case "NS":
		return TypeNS
	case "BS":
		return TypeBS
	}
	return TypeInvalid
}

// member decodes the member of type t into v (setting v.T). It returns a
// deferred validation message for a well-formed but invalid member.
func (d *decoder) member(v *Value, t Type, depth int) (string, error) {
	// A repeated or second type replaces what was there: only one field may
	// be set, and more than one type makes the value invalid anyway.
	*v = Value{T: t}
	var err error
	switch t {
	case TypeS:
		v.S, err = d.stringMember()
	case TypeN:
		var s string
		s, err = d.stringMember()
		v.N = Number(s)
	case TypeB:
		v.B, err = d.blob()
	case TypeBOOL:
		v.BOOL, err = d.boolean()
	case TypeNULL:
		var b bool
		b, err = d.boolean()
		if err == nil && !b {
			return msgNullFalse, nil
		}
	case TypeM:
		if d.peekKind() != '{' {
			return "", d.wrongKind(msgExpectedMap, msgExpectedMap, msgExpectedMap, msgListNotExp, "")
		}
		v.M, err = d.valueMap(depth + 1)
	case TypeL:
		if d.peekKind() != '[' {
			return "", d.wrongKind(msgExpectedList, msgExpectedList, msgExpectedList, "", msgMapNotExp)
		}
		v.L = []Value{}
		err = d.array(func() error {
			e, err := d.value(depth + 1)
			v.L = append(v.L, e)
			return err
		})
	case TypeSS, TypeNS:
		if d.peekKind() != '[' {
			return "", d.wrongKind(msgExpectedList, msgExpectedList, msgExpectedList, "", msgMapNotExp)
		}
		var null bool
		err = d.array(func() error {
			if d.peekKind() == 'n' {
				d.literal("null")
				null = true
				return nil
			}
			s, err := d.stringMember()
			if t == TypeSS {
				v.SS = append(v.SS, s)
			} else {
				v.NS = append(v.NS, Number(s))
			}
			return err
		})
		if t == TypeSS && v.SS == nil {
			v.SS = []string{}
		}
		if t == TypeNS && v.NS == nil {
			v.NS = []Number{}
		}
		if err == nil && null {
			if t == TypeSS {
				return msgSetNullString, nil
			}
			return msgNumberSyntax, nil
		}
	case TypeBS:
		if d.peekKind() != '[' {
			return "", d.wrongKind(msgExpectedList, msgExpectedList, msgExpectedList, "", msgMapNotExp)
		}
		v.BS = [][]byte{}
		var null bool
		err = d.array(func() error {
			if d.peekKind() == 'n' {
				d.literal("null")
				null = true
				return nil
			}
			b, err := d.blob()
			v.BS = append(v.BS, b)
			return err
		})
		if err == nil && null {
			return msgSetNullBinary, nil
		}
	}
	return "", err
}

// valueMap decodes a JSON object of names to AttributeValues; the values are
// at nesting level depth.
func (d *decoder) valueMap(depth int) (map[string]Value, error) {
	d.skipSpace()
	d.pos++ // {
	m := map[string]Value{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.colon(); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
		more, err := d.next('}')
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
	}
}

// array decodes a JSON array (d.pos at '['), calling elem for each element.
func (d *decoder) array(elem func() error) error {
	d.skipSpace()
	d.pos++ // [
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		more, err := d.next(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

func (d *decoder) colon() error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return serializationError(msgMalformedJSON)
	}
	d.pos++
	return nil
}

// next consumes a ',' (more elements follow) or the closing byte.
func (d *decoder) next(closing byte) (bool, error) {
	d.skipSpace()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case closing:
			d.pos++
			return false, nil
		}
	}
	return false, serializationError(msgMalformedJSON)
}

func (d *decoder) stringMember() (string, error) {
	if d.peekKind() != '"' {
		return "", d.wrongKind(msgNumberToString, msgBoolToString, "", msgListNotExp, msgMapNotExp)
	}
	return d.str()
}

func (d *decoder) boolean() (bool, error) {
	switch d.peekKind() {
	case 't':
		if d.literal("true") {
			return true, nil
		}
		if d.literal("false") {
			return false, nil
		}
		return false, serializationError(msgMalformedJSON)
	case '"':
		// DynamoDB reads the strings "true" and "false" (any case) as
		// booleans and refuses other strings.
		s, err := d.str()
		if err != nil {
			return false, err
		}
		switch {
		case strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "false"):
			return false, nil
		}
		return false, serializationError("'" + strings.ToUpper(s) + "' can not be converted to an Boolean")
	}
	return false, d.wrongKind(msgNumberToBool, "", "", msgListNotExp, msgMapNotExp)
}

// blob decodes a base64 member. DynamoDB accepts only canonical, padded,
// standard base64 and answers anything else with a SerializationException
// naming the value.
func (d *decoder) blob() ([]byte, error) {
	if d.peekKind() != '"' {
		return nil, d.wrongKind(msgNumberToBlob, msgBoolToBlob, "", msgListNotExp, msgMapNotExp)
	}
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	if len(s)%4 != 0 {
		return nil, serializationError("'" + s + "' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/' ||
			c == '=' && (i == len(s)-1 || i == len(s)-2 && s[i+1] == '=')
		if !ok {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, serializationError("'" + s + "' can not be converted to a Blob: Invalid Base64 character: '" + string(r) + "'")
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, serializationError("'" + s + "' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
	}
	return b, nil
}

// str decodes a JSON string at d.pos.
func (d *decoder) str() (string, error) {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", serializationError(msgMalformedJSON)
	}
	d.pos++
	start := d.pos
	// Fast path: no escapes, valid UTF-8.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			return string(s), nil
		case c == '\\' || c < 0x20:
			return d.strSlow(start)
		case c < utf8.RuneSelf:
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return d.strSlow(start)
			}
			d.pos += size
		}
	}
	return "", serializationError(msgMalformedJSON)
}

func (d *decoder) strSlow(start int) (string, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", serializationError(msgMalformedJSON)
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return "", serializationError(msgMalformedJSON)
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", serializationError(msgMalformedJSON)
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					save := d.pos
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						d.pos += 2
						if x, ok := d.hex4(); ok {
							r2 = x
						}
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
					} else {
						r = utf8.RuneError
						d.pos = save
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", serializationError(msgMalformedJSON)
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			buf = utf8.AppendRune(buf, r) // RuneError for invalid UTF-8
			d.pos += size
		}
	}
	return "", serializationError(msgMalformedJSON)
}

func (d *decoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case isDigit(c):
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	d.pos += 4
	return r, true
}

// skipValue skips one JSON value of any depth without recursion. It checks
// only that strings and brackets are balanced: the skipped value is either
// an unknown member (ignored, as DynamoDB ignores unknown members) or too
// deep to be accepted anyway.
func (d *decoder) skipValue() error {
	depth := 0
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return serializationError(msgMalformedJSON)
		}
		switch c := d.data[d.pos]; c {
		case '"':
			if _, err := d.str(); err != nil {
				return err
			}
		case '{', '[':
			d.pos++
			depth++
			continue
		case '}', ']':
			if depth == 0 {
				return serializationError(msgMalformedJSON)
			}
			d.pos++
			depth--
		case ',', ':':
			if depth == 0 {
				return serializationError(msgMalformedJSON)
			}
			d.pos++
			continue
		default:
			n := d.pos
			for d.pos < len(d.data) && strings.IndexByte("0123456789+-.eEtruefalsn", d.data[d.pos]) >= 0 {
				d.pos++
			}
			if d.pos == n {
				return serializationError(msgMalformedJSON)
			}
		}
		if depth == 0 {
			return nil
		}
	}
}
