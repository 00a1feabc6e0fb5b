package dynamoapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/wire"
)

// harness is a real engine behind a real wire.Server, spoken to over HTTP.
type harness struct {
	t   *testing.T
	e   *engine.Engine
	url string
}

// clock is the fixed time of the engine and the handlers in tests.
var clock = time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	s := wire.NewServer(wire.Options{Host: "test"})
	Register(s, e, Options{Now: func() time.Time { return clock.Add(time.Hour) }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &harness{t: t, e: e, url: srv.URL}
}

// reply is one decoded response.
type reply struct {
	status int
	raw    string
	body   map[string]any
}

// errType is the exception name: the part of __type after '#'.
func (r reply) errType() string {
	s, _ := r.body["__type"].(string)
	_, name, _ := strings.Cut(s, "#")
	return name
}

func (r reply) message() string {
	if m, ok := r.body["message"].(string); ok {
		return m
	}
	m, _ := r.body["Message"].(string)
	return m
}

// call sends body to op as an SDK would.
func (h *harness) call(op, body string) reply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260301/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := reply{status: res.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		h.t.Fatalf("%s: response is not a JSON object: %q", op, b)
	}
	return r
}

// ok calls op and fails the test unless it succeeded.
func (h *harness) ok(op, body string) reply {
	h.t.Helper()
	r := h.call(op, body)
	if r.status != http.StatusOK {
		h.t.Fatalf("%s %s: status %d: %s", op, body, r.status, r.raw)
	}
	return r
}

// The conformance suite's shared tables.
const (
	hashTable = `{"TableName":"hash","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`
	hashNTable = `{"TableName":"hashN","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"N"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`
	compositeTable = `{"TableName":"composite",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},
			{"AttributeName":"lsi1sk","AttributeType":"S"},{"AttributeName":"lsi2sk","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5},
		"LocalSecondaryIndexes":[
			{"IndexName":"lsi1","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"lsi1sk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}},
			{"IndexName":"lsi2","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"lsi2sk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["lsi1sk"]}}],
		"GlobalSecondaryIndexes":[
			{"IndexName":"gsi1","KeySchema":[{"AttributeName":"lsi1sk","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
				"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}},
			{"IndexName":"gsi2","KeySchema":[{"AttributeName":"lsi1sk","KeyType":"HASH"},{"AttributeName":"lsi2sk","KeyType":"RANGE"}],
				"Projection":{"ProjectionType":"INCLUDE","NonKeyAttributes":["data"]},"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}]}`
	compositeNTable = `{"TableName":"compositeN","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`
	compositeBTable = `{"TableName":"compositeB","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"B"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`
)

// withSharedTables creates the suite's shared tables.
func (h *harness) withSharedTables() *harness {
	h.t.Helper()
	for _, def := range []string{hashTable, hashNTable, compositeTable, compositeNTable, compositeBTable} {
		h.ok("CreateTable", def)
	}
	return h
}

// errCase is one request that must fail with the given exception and
// message ("" skips the message check; a leading "~" means "contains").
type errCase struct {
	name, op, body string
	typ, msg       string
}

func runErrCases(t *testing.T, h *harness, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.call(tc.op, tc.body)
			wantStatus := http.StatusBadRequest
			if r.status != wantStatus || r.errType() != tc.typ {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.errType(), wantStatus, tc.typ, r.raw)
			}
			switch {
			case tc.msg == "":
			case strings.HasPrefix(tc.msg, "~"):
				if !strings.Contains(r.message(), tc.msg[1:]) {
					t.Fatalf("message %q does not contain %q", r.message(), tc.msg[1:])
				}
			case r.message() != tc.msg:
				t.Fatalf("message\n got: %s\nwant: %s", r.message(), tc.msg)
			}
		})
	}
}

// path returns the value at a dotted path of a decoded JSON body
// ("Table.KeySchema.0.AttributeName").
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestDescribeEndpointsAndLimits(t *testing.T) {
	h := newHarness(t)
	if got, want := h.ok("DescribeEndpoints", "{}").raw, `{"Endpoints":[{"Address":"dynamodb.us-east-1.amazonaws.com","CachePeriodInMinutes":1440}]}`; got != want {
		t.Errorf("DescribeEndpoints: got %s, want %s", got, want)
	}
	want := `{"AccountMaxReadCapacityUnits":80000,"AccountMaxWriteCapacityUnits":80000,"TableMaxReadCapacityUnits":40000,"TableMaxWriteCapacityUnits":40000}`
	if got := h.ok("DescribeLimits", "{}").raw; got != want {
		t.Errorf("DescribeLimits: got %s, want %s", got, want)
	}
}
