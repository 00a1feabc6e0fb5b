package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

var requestIDRE = regexp.MustCompile(`^[0-9A-Z]{52}$`)

// checkHeaders checks what every DynamoDB response carries: a request id and
// the CRC32 of the body bytes as sent.
func checkHeaders(t *testing.T, what string, h http.Header, body []byte) {
	t.Helper()
	if id := h.Get("x-amzn-RequestId"); !requestIDRE.MatchString(id) {
		t.Errorf("%s: x-amzn-RequestId %q, want 52 characters of [0-9A-Z]", what, id)
	}
	want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	if got := h.Get("x-amz-crc32"); got != want {
		t.Errorf("%s: x-amz-crc32 %q, want %s", what, got, want)
	}
}

func TestWire(t *testing.T) {
	e := start(t)
	e.createHash(t, "wire_t")
	e.put(t, "wire_t", item{"pk": sv("a"), "v": sv(strings.Repeat("compressible ", 200))})
	const (
		serialization = "com.amazon.coral.service#SerializationException"
		unknownOp     = "com.amazon.coral.service#UnknownOperationException"
		validation    = "com.amazon.coral.validate#ValidationException"
	)

	t.Run("Health", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "healthy: dynamodb.us-east-1.amazonaws.com " {
			t.Errorf("GET /: %d %q, want 200 %q", resp.StatusCode, body, "healthy: dynamodb.us-east-1.amazonaws.com ")
		}
		checkHeaders(t, "GET /", resp.Header, body)
	})

	// DynamoDB's own answer carries this message (boto/boto3#1542, an
	// unsupported operation in a region, 2018); dynalite's 2013 capture had
	// none.
	const unknownOpMsg = "Unknown operation exception"
	t.Run("UnknownOperation", func(t *testing.T) {
		for _, target := range []string{"DynamoDB_20120810.ListTable", "DynamoDB_20120810.", "Other_20120810.ListTables", "ListTables"} {
			st, h, body := e.raw(t, "", `{}`, map[string]string{"X-Amz-Target": target})
			wantRaw(t, st, body, 400, unknownOp, unknownOpMsg)
			checkHeaders(t, target, h, body)
		}
		st, _, body := e.raw(t, "", `{}`, nil) // no X-Amz-Target at all
		wantRaw(t, st, body, 400, unknownOp, unknownOpMsg)
	})

	t.Run("MalformedJSON", func(t *testing.T) {
		for _, body := range []string{`{`, `{"TableName":}`, `not json`, `{"TableName":"wire_t"}}`, "\x00\x01", `[`} {
			for _, op := range []string{"DescribeTable", "PutItem", "NoSuchOp"} {
				st, h, resp := e.raw(t, op, body, nil)
				wantRaw(t, st, resp, 400, serialization, noMessage)
				checkHeaders(t, op+" "+body, h, resp)
			}
		}
	})

	t.Run("WrongJSONTypes", func(t *testing.T) {
		// The exact messages are Coral's and not pinned down here (see the
		// badinput corpus); what matters is the exception and no 500.
		for _, tc := range []struct{ op, body string }{
			{"DescribeTable", `{"TableName":5}`},
			{"DescribeTable", `{"TableName":{}}`},
			{"DescribeTable", `{"TableName":[]}`},
			{"PutItem", `{"TableName":"wire_t","Item":[]}`},
			{"PutItem", `{"TableName":"wire_t","Item":5}`},
			{"PutItem", `{"TableName":"wire_t","Item":{"pk":{"S":5}}}`},
			{"PutItem", `{"TableName":"wire_t","Item":{"pk":{"S":"x"},"b":{"B":5}}}`},
			{"GetItem", `{"TableName":"wire_t","Key":{"pk":{"S":"a"}},"ConsistentRead":"yes"}`},
			{"ListTables", `{"Limit":"5"}`},
		} {
			st, _, body := e.raw(t, tc.op, tc.body, nil)
			wantRaw(t, st, body, 400, serialization, "")
		}
	})

	t.Run("ValidationEnvelope", func(t *testing.T) {
		st, h, body := e.raw(t, "PutItem", `{"TableName":"","Item":{}}`, nil)
		wantRaw(t, st, body, 400, validation,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1")
		checkHeaders(t, "validation error", h, body)
		if ct := h.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			t.Errorf("Content-Type %q, want the request's application/x-amz-json-1.0", ct)
		}
		st, _, body = e.raw(t, "GetItem", `{"TableName":"nope","Key":{"pk":{"S":"a"}}}`, nil)
		wantRaw(t, st, body, 400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found")
	})

	t.Run("SuccessHeaders", func(t *testing.T) {
		st, h, body := e.raw(t, "GetItem", `{"TableName":"wire_t","Key":{"pk":{"S":"a"}}}`, nil)
		if st != 200 || !json.Valid(body) {
			t.Fatalf("GetItem: %d %s", st, body)
		}
		checkHeaders(t, "GetItem", h, body)
		if h.Get("Content-Encoding") != "" {
			t.Errorf("Content-Encoding %q without Accept-Encoding", h.Get("Content-Encoding"))
		}
		st, h, body = e.raw(t, "ListTables", `{}`, map[string]string{"Content-Type": "application/json"})
		if st != 200 || h.Get("Content-Type") != "application/json" {
			t.Errorf("application/json request: %d, Content-Type %q, want 200 application/json", st, h.Get("Content-Type"))
		}
		checkHeaders(t, "ListTables", h, body)
	})

	t.Run("GzipRequest", func(t *testing.T) {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write([]byte(`{"TableName":"wire_t","Key":{"pk":{"S":"a"}}}`))
		zw.Close()
		st, _, body := e.raw(t, "GetItem", zb.String(), map[string]string{"Content-Encoding": "gzip"})
		if st != 200 || !bytes.Contains(body, []byte(`"pk":{"S":"a"}`)) {
			t.Errorf("gzip request: %d %s", st, body)
		}
	})

	t.Run("GzipResponse", func(t *testing.T) {
		st, h, body := e.raw(t, "GetItem", `{"TableName":"wire_t","Key":{"pk":{"S":"a"}}}`, map[string]string{"Accept-Encoding": "gzip"})
		if st != 200 || h.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding gzip: %d, Content-Encoding %q", st, h.Get("Content-Encoding"))
		}
		checkHeaders(t, "gzip response", h, body) // CRC of the bytes on the wire
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("response is not gzip: %v", err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Contains(plain, []byte("compressible")) {
			t.Errorf("decompressed body: %v %.100s", err, plain)
		}
		// Errors are compressed too, and still carry a correct CRC.
		st, h, body = e.raw(t, "GetItem", `{"TableName":"nope","Key":{"pk":{"S":"a"}}}`, map[string]string{"Accept-Encoding": "gzip"})
		checkHeaders(t, "gzip error", h, body)
		if st != 400 {
			t.Errorf("gzip error status %d", st)
		}
		// The SDK with gzip enabled checks the CRC itself.
		zc := e.srv.DynamoDB(func(o *dynamodb.Options) { o.EnableAcceptEncodingGzip = true })
		out, err := zc.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("wire_t"), Key: item{"pk": sv("a")}})
		if err != nil || out.Item == nil {
			t.Errorf("SDK GetItem with gzip: %v", err)
		}
	})

	t.Run("NotPost", func(t *testing.T) {
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(method, e.srv.URL+"/", strings.NewReader(`{}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 404 || string(body) != "<UnknownOperationException/>\n" {
				t.Errorf("%s /: %d %q, want 404 <UnknownOperationException/>", method, resp.StatusCode, body)
			}
		}
		st, _, body := e.raw(t, "ListTables", `{}`, map[string]string{"Content-Type": "text/plain"})
		if st != 404 || string(body) != "<UnknownOperationException/>\n" {
			t.Errorf("text/plain body: %d %q, want 404 <UnknownOperationException/>", st, body)
		}
	})

	t.Run("EmptyBody", func(t *testing.T) {
		// DynamoDB answers an empty body with a bare SerializationException
		// (dynalite's and dynoxide's captures); SDKs always send {}.
		st, _, body := e.raw(t, "ListTables", ``, nil)
		wantRaw(t, st, body, 400, "com.amazon.coral.service#SerializationException", noMessage)
	})

	t.Run("Never500", func(t *testing.T) {
		// DeleteTable is left out: {"TableName":"wire_t"} is a valid request.
		ops := []string{"CreateTable", "DescribeTable", "ListTables", "UpdateTable", "PutItem", "GetItem", "DeleteItem",
			"TagResource", "UntagResource", "ListTagsOfResource", "DescribeEndpoints", "DescribeLimits"}
		bodies := []string{`{}`, `null`, `[]`, `5`, `"x"`, `{"TableName":null}`, `{"TableName":"wire_t","Key":null,"Item":null}`,
			`{"TableName":"wire_t","Key":{},"Item":{}}`, `{"TableName":"wire_t","Item":{"pk":{}}}`, `{"TableName":"wire_t","Key":{"pk":{"S":"a","N":"1"}}}`,
			`{"TableName":"wire_t","KeySchema":[null],"AttributeDefinitions":[{}]}`, `{"ResourceArn":"","Tags":[null]}`,
			`{"TableName":"wire_t","Item":{"pk":{"S":"x"},"l":{"L":[null,{}]}}}`, `{"TableName":"wire_t","Item":{"pk":{"S":"x"},"m":{"M":null}}}`}
		for _, op := range ops {
			for _, b := range bodies {
				st, _, body := e.raw(t, op, b, nil)
				if st >= 500 {
					t.Errorf("%s %s: %d %s", op, b, st, body)
				}
			}
		}
		// Nothing above created a table or an item.
		lt := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{}))(t)
		if len(lt.TableNames) != 1 {
			t.Errorf("tables after garbage: %v", lt.TableNames)
		}
		if it := e.get(t, "wire_t", item{"pk": sv("x")}); it != nil {
			t.Errorf("garbage stored an item: %v", normItem(it))
		}
	})
}
