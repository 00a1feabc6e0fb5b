package wire

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// crc32IEEE is a bitwise CRC-32 (IEEE 802.3, reflected, polynomial
// 0xEDB88320), written out here so the tests do not check hash/crc32 with
// itself.
func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0xEDB88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-V]{52}$`)

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer returns a server with a few operations:
//
//	Test_1.Echo    answers the request body verbatim
//	Test_1.Struct  answers a struct through encoding/json
//	Test_1.Fail    answers the error in failures[string(body)]
func newTestServer(t testing.TB, opts Options) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if opts.Host == "" {
		opts.Host = "dynamodb.us-east-1.amazonaws.com"
	}
	s := NewServer(opts)
	s.Handle("Test_1.Echo", func(ctx context.Context, req *Request) (any, error) {
		return req.Body, nil
	})
	s.Handle("Test_1.Struct", func(ctx context.Context, req *Request) (any, error) {
		return struct {
			TableNames []string
			Expr       string
		}{[]string{"a", "b"}, "a < b & c > d"}, nil
	})
	return s, logs
}

type call struct {
	method  string
	target  string
	body    string
	headers map[string]string
}

func (c call) do(t testing.TB, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, "/", strings.NewReader(c.body))
	if c.target != "" {
		r.Header.Set("X-Amz-Target", c.target)
	}
	if method == http.MethodPost {
		r.Header.Set("Content-Type", contentType10)
		r.Header.Set("Authorization", testAuth)
	}
	for k, v := range c.headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	checkCommonHeaders(t, w)
	return w
}

// checkCommonHeaders checks what every response must carry.
func checkCommonHeaders(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if id := w.Header().Get("x-amzn-RequestId"); !requestIDPattern.MatchString(id) {
		t.Errorf("x-amzn-RequestId = %q, want 52 chars of [0-9A-V]", id)
	}
	want := strconv.FormatUint(uint64(crc32IEEE(w.Body.Bytes())), 10)
	if got := w.Header().Get("x-amz-crc32"); got != want {
		t.Errorf("x-amz-crc32 = %q, want %q (CRC of the %d body bytes as sent)", got, want, w.Body.Len())
	}
	if got, want := w.Header().Get("Content-Length"), strconv.Itoa(w.Body.Len()); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
}

// errorBody is an error response decoded, keeping the message's key.
type errorBody struct {
	Type   string
	MsgKey string
	Msg    string
	Item   json.RawMessage
}

func decodeErrorBody(t testing.TB, b []byte) errorBody {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body %q is not JSON: %v", b, err)
	}
	var e errorBody
	for k, v := range m {
		switch k {
		case "__type":
			_ = json.Unmarshal(v, &e.Type)
		case "message", "Message":
			e.MsgKey = k
			_ = json.Unmarshal(v, &e.Msg)
		case "Item":
			e.Item = v
		default:
			t.Errorf("unexpected key %q in error body %s", k, b)
		}
	}
	return e
}

func TestRouting(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	const unknownOp = "com.amazon.coral.service#UnknownOperationException"
	for _, tc := range []struct {
		name     string
		call     call
		status   int
		body     string // exact body, when set
		errType  string // __type, when an error
		ct       string // response Content-Type ("-" for none)
		checkCRC uint32 // a known x-amz-crc32 from DynamoDB, when set
	}{
		{name: "registered", call: call{target: "Test_1.Echo", body: `{"a":1}`},
			status: 200, body: `{"a":1}`, ct: contentType10},
		{name: "empty body is {}", call: call{target: "Test_1.Echo"},
			status: 200, body: `{}`, ct: contentType10},
		{name: "no target", call: call{body: `{}`},
			status: 400, errType: unknownOp, ct: contentType10},
		{name: "garbage target", call: call{target: "whatever", body: `{}`},
			status: 400, errType: unknownOp, ct: contentType10},
		{name: "unregistered op of a known service", call: call{target: "Test_1.ListTable", body: `{}`},
			status: 400, errType: unknownOp, ct: contentType10},
		{name: "target is case-sensitive", call: call{target: "test_1.echo", body: `{}`},
			status: 400, errType: unknownOp, ct: contentType10},
		// DynamoDB parses the body before it looks at the target. Its answer
		// is exactly these bytes (x-amz-crc32 3948637019).
		{name: "malformed body wins over unknown target", call: call{target: "nope", body: `hi`},
			status: 400, body: `{"__type":"com.amazon.coral.service#SerializationException"}`,
			ct: contentType10, checkCRC: 3948637019},
		{name: "1.1 echoed", call: call{target: "Test_1.Echo", body: `{}`,
			headers: map[string]string{"Content-Type": "application/x-amz-json-1.1"}},
			status: 200, body: `{}`, ct: contentType11},
		{name: "application/json echoed, parameters ignored", call: call{target: "Test_1.Echo", body: `{}`,
			headers: map[string]string{"Content-Type": "  application/json  ;   charset=whatever"}},
			status: 200, body: `{}`, ct: contentTypeJSON},
		{name: "no content type and no body", call: call{target: "Test_1.Echo",
			headers: map[string]string{"Content-Type": ""}},
			status: 200, body: `{}`, ct: contentType10},
		// DynamoDB answers these with a bare XML 404 (x-amz-crc32 3552371480).
		{name: "body with a foreign content type", call: call{target: "Test_1.Echo", body: `{}`,
			headers: map[string]string{"Content-Type": "application/jsonasdf"}},
			status: 404, body: "<UnknownOperationException/>\n", ct: "-", checkCRC: 3552371480},
		{name: "body without content type", call: call{target: "Test_1.Echo", body: `{}`,
			headers: map[string]string{"Content-Type": ""}},
			status: 404, body: "<UnknownOperationException/>\n", ct: "-", checkCRC: 3552371480},
		{name: "PUT", call: call{method: http.MethodPut, target: "Test_1.Echo"},
			status: 404, body: "<UnknownOperationException/>\n", ct: "-", checkCRC: 3552371480},
		{name: "DELETE", call: call{method: http.MethodDelete},
			status: 404, body: "<UnknownOperationException/>\n", ct: "-"},
		{name: "OPTIONS", call: call{method: http.MethodOptions},
			status: 404, body: "<UnknownOperationException/>\n", ct: "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.call.do(t, s)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tc.status, w.Body)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", w.Body, tc.body)
			}
			if tc.errType != "" {
				if e := decodeErrorBody(t, w.Body.Bytes()); e.Type != tc.errType {
					t.Errorf("__type = %q, want %q", e.Type, tc.errType)
				}
			}
			ct, has := w.Header()["Content-Type"]
			switch {
			case tc.ct == "-" && has && len(ct) > 0:
				t.Errorf("Content-Type = %q, want none", ct)
			case tc.ct != "-" && w.Header().Get("Content-Type") != tc.ct:
				t.Errorf("Content-Type = %q, want %q", w.Header().Get("Content-Type"), tc.ct)
			}
			if tc.checkCRC != 0 {
				if got := w.Header().Get("x-amz-crc32"); got != strconv.FormatUint(uint64(tc.checkCRC), 10) {
					t.Errorf("x-amz-crc32 = %s, want DynamoDB's %d", got, tc.checkCRC)
				}
			}
		})
	}
}

func TestUnknownOperationBody(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	w := call{target: "DynamoDB_20120810.ListTables", body: `{}`}.do(t, s)
	want := `{"__type":"com.amazon.coral.service#UnknownOperationException","message":"Unknown operation exception"}`
	if w.Body.String() != want {
		t.Errorf("body = %s, want %s", w.Body, want)
	}
}

func TestHealth(t *testing.T) {
	for _, tc := range []struct {
		name, host, path, want string
		crc                    uint32
	}{
		// DynamoDB's own answer, trailing space included (x-amz-crc32 3128867991).
		{"dynamodb", "dynamodb.us-east-1.amazonaws.com", "/", "healthy: dynamodb.us-east-1.amazonaws.com ", 3128867991},
		{"any path", "dynamodb.us-east-1.amazonaws.com", "/ping", "healthy: dynamodb.us-east-1.amazonaws.com ", 3128867991},
		{"configured host", "sluice-1.internal", "/", "healthy: sluice-1.internal ", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, Options{Host: tc.host})
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			checkCommonHeaders(t, w)
			if w.Code != 200 || w.Body.String() != tc.want {
				t.Fatalf("got %d %q, want 200 %q", w.Code, w.Body, tc.want)
			}
			if tc.crc != 0 && w.Header().Get("x-amz-crc32") != strconv.FormatUint(uint64(tc.crc), 10) {
				t.Errorf("x-amz-crc32 = %s, want DynamoDB's %d", w.Header().Get("x-amz-crc32"), tc.crc)
			}
		})
	}
	t.Run("default host", func(t *testing.T) {
		s := NewServer(Options{})
		if s.Options().Host == "" {
			t.Fatal("Host not defaulted")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if want := "healthy: " + s.Options().Host + " "; w.Body.String() != want {
			t.Errorf("body %q, want %q", w.Body, want)
		}
	})
}

func TestRequestID(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	var seen string
	s.Handle("Test_1.ID", func(ctx context.Context, req *Request) (any, error) {
		seen = req.RequestID
		return nil, nil
	})
	ids := map[string]bool{}
	for range 200 {
		w := call{target: "Test_1.ID"}.do(t, s)
		id := w.Header().Get("x-amzn-RequestId")
		if id != seen {
			t.Fatalf("header id %q differs from Request.RequestID %q", id, seen)
		}
		if ids[id] {
			t.Fatalf("request id %q repeated", id)
		}
		ids[id] = true
	}
	// Errors and non-JSON answers carry one too (checked in do).
	call{target: "nope"}.do(t, s)
	call{method: http.MethodPatch}.do(t, s)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func flateBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func TestCompressedRequestBodies(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	payload := []byte(`{"TableName":"t","Item":{"pk":{"S":"` + strings.Repeat("x", 500) + `"}}}`)
	for _, tc := range []struct {
		name     string
		encoding string
		body     []byte
		status   int
	}{
		{"gzip", "gzip", gzipBytes(t, payload), 200},
		{"x-gzip", "x-gzip", gzipBytes(t, payload), 200},
		{"gzip, any case", " GZip ", gzipBytes(t, payload), 200},
		{"deflate as zlib (RFC 1950)", "deflate", zlibBytes(t, payload), 200},
		{"deflate raw (RFC 1951)", "deflate", flateBytes(t, payload), 200},
		{"identity", "identity", payload, 200},
		{"corrupt gzip", "gzip", []byte("not gzip at all"), 400},
		{"truncated gzip", "gzip", gzipBytes(t, payload)[:40], 400},
		{"corrupt deflate", "deflate", []byte{0x78, 0x9c, 0xff, 0xff, 0xff}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := call{target: "Test_1.Echo", body: string(tc.body),
				headers: map[string]string{"Content-Encoding": tc.encoding}}.do(t, s)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 200 && !bytes.Equal(w.Body.Bytes(), payload) {
				t.Errorf("handler saw %q, want the decompressed payload", w.Body)
			}
			if tc.status == 400 {
				if e := decodeErrorBody(t, w.Body.Bytes()); e.Type != "com.amazon.coral.service#SerializationException" {
					t.Errorf("__type %q", e.Type)
				}
			}
		})
	}
}

func TestGzipResponses(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	payload := `{"Items":[` + strings.Repeat(`{"a":{"S":"xyz"}},`, 100) + `{}]}`
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"identity", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0, identity", false},
		{"x-gzip", true},
		{"*", true},
		{"br", false},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			w := call{target: "Test_1.Echo", body: payload,
				headers: map[string]string{"Accept-Encoding": tc.accept}}.do(t, s)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			got := w.Body.Bytes()
			if enc := w.Header().Get("Content-Encoding"); (enc == "gzip") != tc.gzip {
				t.Fatalf("Content-Encoding %q, want gzip=%v", enc, tc.gzip)
			}
			if tc.gzip {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != payload {
				t.Errorf("decoded body differs from the handler's answer")
			}
		})
	}
	t.Run("errors too", func(t *testing.T) {
		w := call{target: "nope", headers: map[string]string{"Accept-Encoding": "gzip"}}.do(t, s)
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("error response not compressed")
		}
		zr, _ := gzip.NewReader(w.Body)
		b, _ := io.ReadAll(zr)
		if e := decodeErrorBody(t, b); !strings.HasSuffix(e.Type, "#UnknownOperationException") {
			t.Errorf("__type %q", e.Type)
		}
	})
}

// TestCRC32OfCompressedBody pins the checksum to the bytes on the wire: the
// AWS SDKs compute it below their gzip decompression.
func TestCRC32OfCompressedBody(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	w := call{target: "Test_1.Struct", headers: map[string]string{"Accept-Encoding": "gzip"}}.do(t, s)
	raw := w.Body.Bytes()
	zr, _ := gzip.NewReader(bytes.NewReader(raw))
	plain, _ := io.ReadAll(zr)
	crc := w.Header().Get("x-amz-crc32")
	if crc != strconv.FormatUint(uint64(crc32IEEE(raw)), 10) {
		t.Errorf("x-amz-crc32 %s is not the CRC of the compressed bytes", crc)
	}
	if crc == strconv.FormatUint(uint64(crc32IEEE(plain)), 10) {
		t.Errorf("x-amz-crc32 %s is the CRC of the uncompressed bytes", crc)
	}
}

func TestBodyLimit(t *testing.T) {
	const max = 4096
	s, _ := newTestServer(t, Options{MaxBodyBytes: max})
	fill := func(n int) string { return `{"a":"` + strings.Repeat("x", n-8) + `"}` }
	bomb := gzipBytes(t, []byte(`{"a":"`+strings.Repeat("0", 1<<20)+`"}`))
	if len(bomb) > max {
		t.Fatalf("bomb is %d bytes compressed; test needs it under %d", len(bomb), max)
	}
	for _, tc := range []struct {
		name     string
		body     string
		encoding string
		chunked  bool
		status   int
	}{
		{name: "at the limit", body: fill(max), status: 200},
		{name: "one over", body: fill(max + 1), status: 413},
		{name: "one over, chunked", body: fill(max + 1), chunked: true, status: 413},
		{name: "at the limit, chunked", body: fill(max), chunked: true, status: 200},
		{name: "compressed small, expands past the limit", body: string(bomb), encoding: "gzip", status: 413},
		{name: "compressed, expands to the limit", body: string(gzipBytes(t, []byte(fill(max)))), encoding: "gzip", status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set("Authorization", testAuth)
			r.Header.Set("X-Amz-Target", "Test_1.Echo")
			r.Header.Set("Content-Type", contentType10)
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			if tc.chunked {
				r.ContentLength = -1
				r.Body = io.NopCloser(strings.NewReader(tc.body)) // hide the length
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			checkCommonHeaders(t, w)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status == 413 {
				e := decodeErrorBody(t, w.Body.Bytes())
				if e.Type != "com.amazon.coral.service#RequestEntityTooLargeException" || e.Msg == "" {
					t.Errorf("413 body %s", w.Body)
				}
			}
		})
	}
	t.Run("default is 16 MiB", func(t *testing.T) {
		if got := NewServer(Options{}).Options().MaxBodyBytes; got != 16<<20 {
			t.Errorf("MaxBodyBytes = %d", got)
		}
	})
}

// TestBodyLimitOverTheWire sends an oversized body through a real
// connection: the answer must come back even though the body is not read.
func TestBodyLimitOverTheWire(t *testing.T) {
	s, _ := newTestServer(t, Options{MaxBodyBytes: 1024})
	ts := httptest.NewServer(s)
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(strings.Repeat("a", 1<<20)))
	req.Header.Set("Authorization", testAuth)
	req.Header.Set("X-Amz-Target", "Test_1.Echo")
	req.Header.Set("Content-Type", contentType10)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestErrorTable sends every sentinel through an Op and checks DynamoDB's
// __type, status, message key and message.
func TestErrorTable(t *testing.T) {
	const ddb = "com.amazonaws.dynamodb.v20120810#"
	item := attr.Item{"pk": attr.S("k1"), "n": attr.N("42")}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		typ    string
		key    string // message key; "" means no message
		msg    string
		item   string // expected "Item" JSON; "" means none
	}{
		{"validation with message", attr.Invalid("One or more parameter values were invalid: Missing the key pk in the item"),
			400, "com.amazon.coral.validate#ValidationException", "message",
			"One or more parameter values were invalid: Missing the key pk in the item", ""},
		{"bare validation sentinel", attr.ErrValidation,
			400, "com.amazon.coral.validate#ValidationException", "message", "The request failed validation", ""},
		{"serialization with message", attr.Errorf(attr.ErrSerialization, "Expected null"),
			400, "com.amazon.coral.service#SerializationException", "Message", "Expected null", ""},
		{"serialization without message", attr.ErrSerialization,
			400, "com.amazon.coral.service#SerializationException", "", "", ""},
		{"table not found", fmt.Errorf("getting item: %w", attr.Errorf(engine.ErrTableNotFound, "Requested resource not found: Table: t not found")),
			400, ddb + "ResourceNotFoundException", "message", "Requested resource not found: Table: t not found", ""},
		{"table not found, bare", fmt.Errorf("loading table %q: %w", "t", engine.ErrTableNotFound),
			400, ddb + "ResourceNotFoundException", "message", "Requested resource not found", ""},
		{"resource in use", attr.Errorf(engine.ErrResourceInUse, "Table already exists: t"),
			400, ddb + "ResourceInUseException", "message", "Table already exists: t", ""},
		{"condition failed", &engine.ConditionFailedError{},
			400, ddb + "ConditionalCheckFailedException", "message", "The conditional request failed", ""},
		{"condition failed with item", fmt.Errorf("putting item: %w", &engine.ConditionFailedError{Item: item}),
			400, ddb + "ConditionalCheckFailedException", "message", "The conditional request failed",
			`{"n":{"N":"42"},"pk":{"S":"k1"}}`},
		{"limit exceeded", attr.Errorf(engine.ErrLimitExceeded, "Subscriber limit exceeded: Only 10 tables can be created simultaneously"),
			400, ddb + "LimitExceededException", "message", "Subscriber limit exceeded: Only 10 tables can be created simultaneously", ""},
		{"engine closed", fmt.Errorf("committing: %w", engine.ErrClosed),
			500, ddb + "InternalServerError", "message", "Internal server error", ""},
		{"throughput exceeded", ErrThroughputExceeded,
			400, ddb + "ProvisionedThroughputExceededException", "message",
			"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.", ""},
		{"throttling", ErrThrottling,
			400, "com.amazon.coral.availability#ThrottlingException", "message", "Rate of requests exceeds the allowed throughput.", ""},
		{"unknown operation", ErrUnknownOperation,
			400, "com.amazon.coral.service#UnknownOperationException", "message", "Unknown operation exception", ""},
		{"request too large", ErrRequestTooLarge,
			413, "com.amazon.coral.service#RequestEntityTooLargeException", "message", "Request entity too large", ""},
		{"missing auth token", ErrMissingAuthToken,
			400, "com.amazon.coral.service#MissingAuthenticationTokenException", "message", "Request is missing Authentication Token", ""},
		{"incomplete signature", attr.Errorf(ErrIncompleteSignature, "Authorization header requires 'Signature' parameter."),
			400, "com.amazon.coral.service#IncompleteSignatureException", "message", "Authorization header requires 'Signature' parameter.", ""},
		{"invalid signature", ErrInvalidSignature,
			400, "com.amazon.coral.service#InvalidSignatureException", "message",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", ""},
		{"unrecognized client", ErrUnrecognizedClient,
			400, "com.amazon.coral.service#UnrecognizedClientException", "message", "The security token included in the request is invalid.", ""},
		{"access denied", ErrAccessDenied,
			400, "com.amazon.coral.service#AccessDeniedException", "message", "User is not authorized to perform this action", ""},
		{"internal", ErrInternal,
			500, ddb + "InternalServerError", "message", "Internal server error", ""},
		{"500 never sends a custom message", attr.Errorf(ErrInternal, "pebble: disk full at /var/lib/sluice"),
			500, ddb + "InternalServerError", "message", "Internal server error", ""},
		{"unmatched", errors.New("pebble: corruption in /var/lib/sluice/000123.sst"),
			500, ddb + "InternalServerError", "message", "Internal server error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, Options{})
			s.Handle("Test_1.Fail", func(ctx context.Context, req *Request) (any, error) { return nil, tc.err })
			w := call{target: "Test_1.Fail", body: `{}`}.do(t, s)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			e := decodeErrorBody(t, w.Body.Bytes())
			if e.Type != tc.typ {
				t.Errorf("__type %q, want %q", e.Type, tc.typ)
			}
			if e.MsgKey != tc.key || e.Msg != tc.msg {
				t.Errorf("message %q=%q, want %q=%q", e.MsgKey, e.Msg, tc.key, tc.msg)
			}
			if string(e.Item) != tc.item {
				t.Errorf("Item %s, want %s", e.Item, tc.item)
			}
			if strings.Contains(w.Body.String(), "sluice") || strings.Contains(w.Body.String(), "pebble") {
				t.Errorf("error body leaks internals: %s", w.Body)
			}
		})
	}
}

// TestEveryRowReachable keeps the table honest: each row's sentinel maps to
// that row, so no earlier row shadows a later one.
func TestEveryRowReachable(t *testing.T) {
	seen := map[string]bool{}
	for i := range exceptions {
		x := &exceptions[i]
		got, ok := lookup(fmt.Errorf("wrapped: %w", x.match))
		if !ok || got != x {
			t.Errorf("sentinel %v maps to %q, want its own row %q", x.match, got.typ, x.typ)
		}
		if x.msgKey != "message" && x.msgKey != "Message" {
			t.Errorf("%s: message key %q", x.typ, x.msgKey)
		}
		if !strings.Contains(x.typ, "#") {
			t.Errorf("%s: __type has no namespace", x.typ)
		}
		if seen[x.match.Error()] {
			t.Errorf("sentinel %v listed twice", x.match)
		}
		seen[x.match.Error()] = true
	}
}

func TestUnmatchedErrorLoggedOnce(t *testing.T) {
	s, logs := newTestServer(t, Options{})
	s.Handle("Test_1.Fail", func(ctx context.Context, req *Request) (any, error) {
		return nil, errors.New("pebble: corruption")
	})
	w := call{target: "Test_1.Fail"}.do(t, s)
	id := w.Header().Get("x-amzn-RequestId")
	out := logs.String()
	if n := strings.Count(out, "pebble: corruption"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, id) || !strings.Contains(out, "Test_1.Fail") {
		t.Errorf("log lacks request id or op:\n%s", out)
	}
	// Client errors are the client's business: not logged.
	s.Handle("Test_1.Client", func(ctx context.Context, req *Request) (any, error) {
		return nil, attr.Invalid("bad")
	})
	before := logs.String()
	call{target: "Test_1.Client"}.do(t, s)
	if logs.String() != before {
		t.Errorf("client error logged:\n%s", logs.String()[len(before):])
	}
}

func TestPanicRecovered(t *testing.T) {
	s, logs := newTestServer(t, Options{})
	s.Handle("Test_1.Panic", func(ctx context.Context, req *Request) (any, error) {
		var p *Request
		_ = p.Target // nil pointer dereference
		return nil, nil
	})
	w := call{target: "Test_1.Panic", body: `{}`}.do(t, s)
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	e := decodeErrorBody(t, w.Body.Bytes())
	if e.Type != "com.amazonaws.dynamodb.v20120810#InternalServerError" || e.Msg != "Internal server error" {
		t.Errorf("body %s", w.Body)
	}
	out := logs.String()
	if !strings.Contains(out, w.Header().Get("x-amzn-RequestId")) || !strings.Contains(out, "nil pointer dereference") {
		t.Errorf("panic not logged with request id:\n%s", out)
	}
	if n := strings.Count(out, "level=ERROR"); n != 1 {
		t.Errorf("logged %d errors, want 1:\n%s", n, out)
	}
	// The server still works.
	if w := (call{target: "Test_1.Echo", body: `{}`}).do(t, s); w.Code != 200 {
		t.Errorf("after panic: status %d", w.Code)
	}
}

func TestResultEncoding(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	for i, tc := range []struct {
		name   string
		res    any
		status int
		want   string
	}{
		{"bytes verbatim", []byte(`{"x" : 1}`), 200, `{"x" : 1}`},
		{"raw message verbatim", json.RawMessage(`{"y":[]}`), 200, `{"y":[]}`},
		{"nil is {}", nil, 200, `{}`},
		{"empty bytes is {}", []byte{}, 200, `{}`},
		{"struct, no HTML escaping", struct{ E string }{"a<b&c>d"}, 200, `{"E":"a<b&c>d"}`},
		{"map", map[string]int{"Count": 3}, 200, `{"Count":3}`},
		{"unencodable", map[string]any{"c": make(chan int)}, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "Test_1.Result" + strconv.Itoa(i)
			s.Handle(target, func(ctx context.Context, req *Request) (any, error) { return tc.res, nil })
			w := call{target: target}.do(t, s)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.want != "" && w.Body.String() != tc.want {
				t.Errorf("body %s, want %s", w.Body, tc.want)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		url     string
		headers map[string]string
		akid    string
		source  string
	}{
		{name: "sigv4 header", remote: "10.0.0.5:40000", url: "/",
			headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"},
			akid:    "AKIDEXAMPLE", source: "10.0.0.5:40000"},
		{name: "sigv4 header without spaces", remote: "10.0.0.5:40000", url: "/",
			headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 SignedHeaders=host,Credential=ASIA123/20150830/us-east-1/dynamodb/aws4_request,Signature=abc"},
			akid:    "ASIA123", source: "10.0.0.5:40000"},
		{name: "presigned query", remote: "10.0.0.5:40000",
			url:  "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDQ%2F20150830%2Fus-east-1%2Fdynamodb%2Faws4_request",
			akid: "AKIDQ", source: "10.0.0.5:40000"},
		{name: "x-forwarded-for ignored by default", remote: "10.0.0.5:40000", url: "/",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, source: "10.0.0.5:40000"},
		{name: "x-forwarded-for from a trusted proxy", remote: "10.0.0.5:40000", url: "/",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			headers: map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.0.0.7"}, source: "203.0.113.9"},
		{name: "x-forwarded-for from an untrusted peer", remote: "192.0.2.1:40000", url: "/",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, source: "192.0.2.1:40000"},
		{name: "garbled x-forwarded-for", remote: "10.0.0.5:40000", url: "/",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			headers: map[string]string{"X-Forwarded-For": "evil, 203.0.113.9; drop"}, source: "10.0.0.5:40000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(Options{TrustedProxies: tc.trusted})
			var got Identity
			s.Handle("Test_1.Who", func(ctx context.Context, req *Request) (any, error) {
				got = req.Identity
				return nil, nil
			})
			r := httptest.NewRequest(http.MethodPost, tc.url, nil)
			if !strings.Contains(tc.url, "X-Amz-Credential") {
				r.Header.Set("Authorization", testAuth)
				if tc.akid == "" {
					tc.akid = "AKIDTEST"
				}
			}
			r.RemoteAddr = tc.remote
			r.Header.Set("X-Amz-Target", "Test_1.Who")
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got.AccessKeyID != tc.akid || got.SourceAddr != tc.source {
				t.Errorf("identity %+v, want {%s %s}", got, tc.akid, tc.source)
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	var got *Request
	s.Handle("DynamoDBStreams_20120810.GetRecords", func(ctx context.Context, req *Request) (any, error) {
		got = req
		return nil, nil
	})
	w := call{target: "DynamoDBStreams_20120810.GetRecords", body: `{"ShardIterator":"x"}`,
		headers: map[string]string{"X-Custom": "v"}}.do(t, s)
	if w.Code != 200 || got == nil {
		t.Fatalf("status %d", w.Code)
	}
	if got.Target != "DynamoDBStreams_20120810.GetRecords" || string(got.Body) != `{"ShardIterator":"x"}` ||
		got.Header.Get("X-Custom") != "v" {
		t.Errorf("request %+v", got)
	}
}

// TestContextCancelledWhenClientLeaves runs a real connection: the Op must
// see its context end when the client hangs up.
func TestContextCancelledWhenClientLeaves(t *testing.T) {
	logs := &syncBuffer{}
	s := NewServer(Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	started, cancelled := make(chan struct{}), make(chan struct{})
	s.Handle("Test_1.Slow", func(ctx context.Context, req *Request) (any, error) {
		close(started)
		select {
		case <-ctx.Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
		return nil, ctx.Err()
	})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL, strings.NewReader(`{}`))
	req.Header.Set("Authorization", testAuth)
	req.Header.Set("X-Amz-Target", "Test_1.Slow")
	req.Header.Set("Content-Type", contentType10)
	errc := make(chan error, 1)
	go func() {
		resp, err := ts.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context not cancelled after the client left")
	}
	if err := <-errc; err == nil {
		t.Error("client request unexpectedly succeeded")
	}
	ts.Close() // waits for the handler to finish
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client leaving was logged as an error:\n%s", logs)
	}
}

func TestHandleMisuse(t *testing.T) {
	s := NewServer(Options{})
	s.Handle("A.B", func(context.Context, *Request) (any, error) { return nil, nil })
	for name, f := range map[string]func(){
		"duplicate": func() { s.Handle("A.B", func(context.Context, *Request) (any, error) { return nil, nil }) },
		"empty":     func() { s.Handle("", func(context.Context, *Request) (any, error) { return nil, nil }) },
		"nil op":    func() { s.Handle("A.C", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// TestConcurrentHandle registers while serving: the race detector checks
// the copy-on-write routing table.
func TestConcurrentHandle(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				target := fmt.Sprintf("Test_%d.Op%d", i, j)
				s.Handle(target, func(context.Context, *Request) (any, error) { return nil, nil })
			}
		})
		wg.Go(func() {
			for range 50 {
				call{target: "Test_1.Echo", body: `{}`}.do(t, s)
			}
		})
	}
	wg.Wait()
	if w := (call{target: "Test_3.Op49"}).do(t, s); w.Code != 200 {
		t.Errorf("status %d", w.Code)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, in := range []string{"", "plain", `q"b\s`, "ctl\x00\x01\x1f\n\r\t", "é漢字🙂", "bad\xff\xfeutf8", "ls\u2028ps\u2029", "<&>"} {
		got := attr.AppendString(nil, in)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: output %s is not JSON: %v", in, got, err)
			continue
		}
		want := string([]rune(in)) // each invalid byte becomes U+FFFD
		if back != want {
			t.Errorf("%q: round trip gave %q", in, back)
		}
	}
}

// testAuth is a SigV4 Authorization header; signatures are not checked yet,
// but a request without one is refused as DynamoDB refuses it.
const testAuth = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"

func TestMissingAuthentication(t *testing.T) {
	s := NewServer(Options{})
	s.Handle("DynamoDB_20120810.ListTables", func(ctx context.Context, req *Request) (any, error) { return nil, nil })
	w := call{target: "DynamoDB_20120810.ListTables", body: "{}", headers: map[string]string{"Authorization": ""}}.do(t, s)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"__type":"com.amazon.coral.service#MissingAuthenticationTokenException"`) ||
		!strings.Contains(w.Body.String(), "Request is missing Authentication Token") {
		t.Fatalf("unsigned request: %d %s", w.Code, w.Body)
	}
}
