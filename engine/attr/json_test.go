package attr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"S":"x"}`, `{"S":"x"}`},
		{`{"S":""}`, `{"S":""}`},
		{`{"S":"a\"b\\c\n\u0001\u00e9\ud83d\ude00"}`, `{"S":"a\"b\\c\n\u0001é😀"}`},
		{`{"S":"<&>"}`, `{"S":"<&>"}`},
		{`{"N":"1.50"}`, `{"N":"1.5"}`},
		{`{"N":"-0"}`, `{"N":"0"}`},
		{`{"B":"AQID"}`, `{"B":"AQID"}`},
		{`{"B":""}`, `{"B":""}`},
		{`{"BOOL":true}`, `{"BOOL":true}`},
		{`{"BOOL":false}`, `{"BOOL":false}`},
		{`{"NULL":true}`, `{"NULL":true}`},
		{` { "M" : { "b" : {"N":"2"}, "a" : {"S":"1"} } } `, `{"M":{"a":{"S":"1"},"b":{"N":"2"}}}`},
		{`{"M":{}}`, `{"M":{}}`},
		{`{"L":[]}`, `{"L":[]}`},
		{`{"L":[{"S":"a"},{"L":[{"NULL":true}]}]}`, `{"L":[{"S":"a"},{"L":[{"NULL":true}]}]}`},
		{`{"SS":["b","a"]}`, `{"SS":["b","a"]}`},
		{`{"NS":["1E2","0.10"]}`, `{"NS":["100","0.1"]}`},
		{`{"BS":["AA==","AQ=="]}`, `{"BS":["AA==","AQ=="]}`},
		// Unknown members are ignored and null members are absent.
		{`{"S":"x","Other":{"a":[1,2,{"b":null}]}}`, `{"S":"x"}`},
		{`{"S":null,"N":"5"}`, `{"N":"5"}`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v Value
			if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if err := ValidateValue(&v); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if got := string(AppendJSON(nil, v)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			var w Value
			if err := w.UnmarshalJSON([]byte(tc.want)); err != nil {
				t.Fatal(err)
			}
			if err := ValidateValue(&w); err != nil {
				t.Fatal(err)
			}
			if !Equal(v, w) {
				t.Fatalf("re-decoded value differs: %#v vs %#v", v, w)
			}
		})
	}
}

func TestItemJSON(t *testing.T) {
	type request struct {
		TableName string
		Item      Item
		Values    map[string]Value
	}
	var r request
	in := `{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"01"}},"Values":{":v":{"BOOL":true}}}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if err := ValidateItem(r.Item); err != nil {
		t.Fatal(err)
	}
	if got, want := string(AppendItemJSON(nil, r.Item)), `{"n":{"N":"1"},"pk":{"S":"a"}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"TableName":"t","Item":{"n":{"N":"1"},"pk":{"S":"a"}},"Values":{":v":{"BOOL":true}}}`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	if got := string(AppendItemJSON(nil, nil)); got != "{}" {
		t.Fatalf("nil item: %s", got)
	}
}

// TestDecodeErrors checks what decoding rejects (SerializationException) and
// what it defers to validation (ValidationException), with DynamoDB's texts.
func TestDecodeErrors(t *testing.T) {
	const ser, val = "ser", "val"
	for _, tc := range []struct {
		in, kind, msg string
	}{
		{`{"S":5}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`{"S":true}`, ser, "class java.lang.Boolean can not be converted to an String"},
		{`{"S":[]}`, ser, "Start of list found where not expected"},
		{`{"S":{}}`, ser, "Start of structure or map found where not expected."},
		{`{"N":1}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`{"B":5}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"},
		{`{"B":"23456"}`, ser, "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{`{"B":"ab!d"}`, ser, "'ab!d' can not be converted to a Blob: Invalid Base64 character: '!'"},
		{`{"B":"=+/="}`, ser, "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
		{`{"B":"YR=="}`, ser, "'YR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{`{"BS":["AA==","A"]}`, ser, "'A' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 1"},
		{`{"BOOL":"yes"}`, ser, "'YES' can not be converted to an Boolean"},
		{`{"BOOL":1}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"},
		{`{"NULL":[]}`, ser, "Start of list found where not expected"},
		{`{"M":[]}`, ser, "Start of list found where not expected"},
		{`{"M":"x"}`, ser, "Expected map or null"},
		{`{"L":{}}`, ser, "Start of structure or map found where not expected."},
		{`{"L":"x"}`, ser, "Expected list or null"},
		{`{"SS":"x"}`, ser, "Expected list or null"},
		{`{"SS":[1]}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`"x"`, ser, "Expected null"},
		{`[]`, ser, "Start of list found where not expected"},
		{`{"L":[5]}`, ser, "Expected null"},
		{`{"S":"x"`, ser, "Malformed JSON"},
		{`{"S":"x"} x`, ser, "Malformed JSON"},
		// A serialization error anywhere wins over a semantic one.
		{`{"L":[{"N":"x"},{"S":1}]}`, ser, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},

		{`{}`, val, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"X":"y"}`, val, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"S":null}`, val, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"L":[null]}`, val, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"S":"a","N":"1"}`, val, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{`{"NULL":false}`, val, "One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{`{"N":"x"}`, val, "The parameter cannot be converted to a numeric value: x"},
		{`{"N":""}`, val, "The parameter cannot be converted to a numeric value"},
		// A number that cannot be read is reported before a second data type.
		{`{"S":"a","N":"b"}`, val, "The parameter cannot be converted to a numeric value: b"},
		{`{"SS":[]}`, val, "One or more parameter values were invalid: An string set  may not be empty"},
		{`{"NS":[]}`, val, "One or more parameter values were invalid: An number set  may not be empty"},
		{`{"BS":[]}`, val, "One or more parameter values were invalid: Binary sets should not be empty"},
		{`{"SS":["a","a"]}`, val, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
		{`{"NS":["1","1.0"]}`, val, "Input collection contains duplicates"},
		{`{"BS":["Yg==","Yg=="]}`, val, "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates."},
		{`{"M":{"a":{"SS":[]}}}`, val, "One or more parameter values were invalid: An string set  may not be empty"},
		{`{"N":"1E+126"}`, val, "Number overflow. Attempting to store a number with magnitude larger than supported range"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v Value
			err := v.UnmarshalJSON([]byte(tc.in))
			if tc.kind == val {
				if err != nil {
					t.Fatalf("decode: unexpected %v", err)
				}
				err = ValidateValue(&v)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *Error", err)
			}
			wantKind := ErrSerialization
			if tc.kind == val {
				wantKind = ErrValidation
			}
			if ae.Kind != wantKind || ae.Msg != tc.msg {
				t.Fatalf("got %v %q\nwant %v %q", ae.Kind, ae.Msg, wantKind, tc.msg)
			}
		})
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	deep := func(n int) string {
		return strings.Repeat(`{"L":[`, n) + `{"S":"x"}` + strings.Repeat(`]}`, n)
	}
	for _, tc := range []struct {
		levels int
		ok     bool
	}{{MaxDepth - 1, true}, {MaxDepth, false}, {10 * maxDecodeDepth, false}} {
		var v Value
		if err := v.UnmarshalJSON([]byte(deep(tc.levels))); err != nil {
			t.Fatalf("%d levels: decode: %v", tc.levels, err)
		}
		err := ValidateValue(&v)
		if tc.ok != (err == nil) {
			t.Fatalf("%d levels: got %v", tc.levels, err)
		}
		if err != nil && err.Error() != msgNesting {
			t.Fatalf("%d levels: got %v", tc.levels, err)
		}
	}
}

func TestAppendJSONEscapes(t *testing.T) {
	v := S("a\x00\x1f\u2028\xff")
	got := string(AppendJSON(nil, v))
	if want := `{"S":"a\u0000\u001f\u2028\ufffd"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("invalid JSON")
	}
}
