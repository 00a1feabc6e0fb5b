package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

// strictFlag rejects anything but true with a validation error, standing in
// for a custom UnmarshalJSON that reports a client error.
type strictFlag bool

var errNotTrue = attr.Invalid("flag must be true")

func (f *strictFlag) UnmarshalJSON(b []byte) error {
	if string(b) != "true" {
		return errNotTrue
	}
	*f = true
	return nil
}

// sloppy fails with a plain error, as a careless custom unmarshaler might.
type sloppy struct{}

func (*sloppy) UnmarshalJSON([]byte) error { return errors.New("sloppy: cannot parse") }

// input has a member of every shape DynamoDB's API uses.
type input struct {
	TableName                string
	Limit                    *int32
	Segment                  int
	ReadCapacityUnits        int64
	Small                    int16
	Ratio                    float64
	ConsistentRead           bool
	AttributesToGet          []string
	ExpressionAttributeNames map[string]string
	Key                      attr.Item
	Blob                     []byte
	Nested                   struct{ IndexName string }
	Nested2                  *struct{ Deeper []struct{ N int } }
	Flag                     strictFlag
	Sloppy                   *sloppy
	Raw                      json.RawMessage
}

func TestDecode(t *testing.T) {
	const (
		numToString  = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"
		boolToString = "class java.lang.Boolean can not be converted to an String"
	)
	for _, tc := range []struct {
		name string
		body string
		msg  string // SerializationException message; "-" means no error
	}{
		{"empty body", "", ""},
		{"blank body", " \n\t", ""},
		{"empty object", "{}", "-"},
		{"unknown members ignored", `{"Nope":1,"Other":{"x":[1,2]}}`, "-"},
		{"nulls are absent", `{"TableName":null,"Limit":null,"Key":null}`, "-"},
		{"good input", `{"TableName":"t","Limit":5,"ConsistentRead":true,"AttributesToGet":["a"],"Key":{"pk":{"S":"x"}},"Blob":"AQI=","Raw":{"z":1}}`, "-"},
		{"malformed", `{`, ""},
		{"not JSON", `hi`, ""},
		{"trailing garbage", `{} x`, ""},
		{"top-level list", `[]`, msgListNotExpected},
		{"top-level string", `"x"`, msgExpectedStructure},
		{"number to string", `{"TableName":5}`, numToString},
		{"bool to string", `{"TableName":true}`, boolToString},
		{"map to string", `{"TableName":{}}`, msgMapNotExpected},
		{"list to string", `{"TableName":[]}`, msgListNotExpected},
		{"string to Integer", `{"Limit":"5"}`, "class java.lang.String can not be converted to an Integer"},
		{"bool to Integer", `{"Segment":false}`, "class java.lang.Boolean can not be converted to an Integer"},
		{"string to Long", `{"ReadCapacityUnits":"5"}`, "class java.lang.String can not be converted to an Long"},
		{"string to Short", `{"Small":"5"}`, "class java.lang.String can not be converted to an Short"},
		{"string to Double", `{"Ratio":"0.5"}`, "class java.lang.String can not be converted to an Double"},
		{"map to Integer", `{"Limit":{}}`, msgMapNotExpected},
		{"list to Integer", `{"Limit":[1]}`, msgListNotExpected},
		{"string to Boolean", `{"ConsistentRead":"yes"}`, "'YES' can not be converted to an Boolean"},
		{"escaped string to Boolean", `{"ConsistentRead":"a\"b\\"}`, `'A"B\' can not be converted to an Boolean`},
		{"number to Boolean", `{"ConsistentRead":1}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"},
		{"string to list", `{"AttributesToGet":"a"}`, msgExpectedList},
		{"map to list", `{"AttributesToGet":{}}`, msgMapNotExpected},
		{"wrong list member", `{"AttributesToGet":[1]}`, numToString},
		{"string to map", `{"ExpressionAttributeNames":"a"}`, msgExpectedMap},
		{"list to map", `{"ExpressionAttributeNames":[]}`, msgListNotExpected},
		{"wrong map value", `{"ExpressionAttributeNames":{"#a":true}}`, boolToString},
		{"string to structure", `{"Nested":"x"}`, msgExpectedStructure},
		{"list to structure", `{"Nested":[]}`, msgListNotExpected},
		{"deep member", `{"Nested2":{"Deeper":[{"N":"1"}]}}`, "class java.lang.String can not be converted to an Integer"},
		{"number to Blob", `{"Blob":5}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"},
		{"bool to Blob", `{"Blob":true}`, "class java.lang.Boolean can not be converted to a Blob"},
		{"bad base64", `{"Blob":"!!!!"}`, "Invalid Base64 encoding"},
		// The AttributeValue codec reports its own errors, word for word.
		{"attribute value codec", `{"Key":{"pk":{"S":5}}}`, numToString},
		{"custom unmarshaler, plain error", `{"Sloppy":{}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in input
			err := Decode([]byte(tc.body), &in)
			if tc.msg == "-" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ae *attr.Error
			if !errors.As(err, &ae) || !errors.Is(err, attr.ErrSerialization) {
				t.Fatalf("error %T %v, want a SerializationException", err, err)
			}
			if ae.Msg != tc.msg {
				t.Errorf("message %q, want %q", ae.Msg, tc.msg)
			}
		})
	}
}

func TestDecodePassesAttrErrorsThrough(t *testing.T) {
	var in input
	err := Decode([]byte(`{"Flag":false}`), &in)
	if err != errNotTrue {
		t.Fatalf("got %v, want the unmarshaler's *attr.Error unchanged", err)
	}
}

func TestDecodeProgrammerError(t *testing.T) {
	var in input
	err := Decode([]byte(`{}`), in) // not a pointer
	var invalid *json.InvalidUnmarshalError
	if !errors.As(err, &invalid) {
		t.Fatalf("got %v, want InvalidUnmarshalError", err)
	}
	if x, _ := lookup(err); x.status != 500 {
		t.Errorf("a handler bug must be a 500, got %d", x.status)
	}
}

func TestDecodeThroughServer(t *testing.T) {
	s := decodingServer()
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"TableName":"t"}`, 200, `{"TableName":"t"}`},
		{``, 400, `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{`{`, 400, `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{`{"Limit":"1"}`, 400, `{"__type":"com.amazon.coral.service#SerializationException","Message":"class java.lang.String can not be converted to an Integer"}`},
		{`{"Flag":false}`, 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"flag must be true"}`},
	} {
		w := call{target: "Test_1.Decode", body: tc.body}.do(t, s)
		if w.Code != tc.status || w.Body.String() != tc.want {
			t.Errorf("%s: got %d %s, want %d %s", tc.body, w.Code, w.Body, tc.status, tc.want)
		}
	}
}

func decodingServer() *Server {
	s := NewServer(Options{Host: "test"})
	s.Handle("Test_1.Decode", func(ctx context.Context, req *Request) (any, error) {
		var in input
		if err := Decode(req.Body, &in); err != nil {
			return nil, err
		}
		return struct{ TableName string }{in.TableName}, nil
	})
	return s
}

// FuzzDecode: no body, however malformed, makes the server panic or answer
// 500, and every answer is JSON; Decode itself returns nil or a client error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{`, `[]`, `"x"`, `null`, `{"TableName":"t","Limit":5}`,
		`{"Key":{"pk":{"S":"x"},"n":{"N":"1.5"},"m":{"M":{"l":{"L":[{"BOOL":true},{"NULL":true}]}}}}}`,
		`{"Limit":"5"}`, `{"ConsistentRead":"yes"}`, `{"AttributesToGet":[1,{}]}`, `{"Blob":"AQI="}`,
		`{"Nested2":{"Deeper":[{"N":1e400}]}}`, `{"Key":{"a":{"B":"!!"}}}`, `{"Key":{"a":{"SS":[1]}}}`,
		`{"Flag":true,"Sloppy":1}`, "{\"TableName\":\"\xff\"}", `{"Limit":-2147483649}`,
	} {
		f.Add([]byte(seed))
	}
	s := decodingServer()
	f.Fuzz(func(t *testing.T, body []byte) {
		var in input
		if err := Decode(body, &in); err != nil {
			if !errors.Is(err, attr.ErrSerialization) && !errors.Is(err, attr.ErrValidation) {
				t.Fatalf("Decode(%q) = %T %v, not a client error", body, err, err)
			}
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set("Authorization", testAuth)
		r.Header.Set("X-Amz-Target", "Test_1.Decode")
		r.Header.Set("Content-Type", contentType10)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("body %q: status %d %s", body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("body %q: answer %q is not JSON", body, w.Body)
		}
	})
}
