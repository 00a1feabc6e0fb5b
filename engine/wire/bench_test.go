package wire

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// discardWriter is the least a ResponseWriter can do, so the benchmark
// measures the server rather than httptest.ResponseRecorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

const benchPutItem = `{"TableName":"users","Item":{"pk":{"S":"user#1234"},"sk":{"S":"profile"},` +
	`"name":{"S":"Ada Lovelace"},"age":{"N":"36"},"tags":{"SS":["a","b"]}},` +
	`"ConditionExpression":"attribute_not_exists(pk)","ReturnValues":"NONE"}`

// BenchmarkServeHTTPPutItem is a small PutItem through ServeHTTP: routing,
// body read, Decode of the item, and the response with its headers. The Op
// does no engine work.
func BenchmarkServeHTTPPutItem(b *testing.B) {
	for _, tc := range []struct {
		name   string
		accept string
		result any
	}{
		{"ok", "identity", map[string]any{}},
		{"ok-gzip", "gzip", map[string]any{}},
		{"condition-failed", "identity", nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := NewServer(Options{Host: "bench"})
			s.Handle("DynamoDB_20120810.PutItem", func(ctx context.Context, req *Request) (any, error) {
				var in struct {
					TableName           string
					Item                attr.Item
					ConditionExpression string
					ReturnValues        string
				}
				if err := Decode(req.Body, &in); err != nil {
					return nil, err
				}
				if tc.result == nil {
					return nil, errConditionBench
				}
				return tc.result, nil
			})
			body := []byte(benchPutItem)
			r, _ := http.NewRequest(http.MethodPost, "/", nil)
			r.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
			r.Header.Set("Content-Type", contentType10)
			r.Header.Set("Accept-Encoding", tc.accept)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
			r.ContentLength = int64(len(body))
			r.RemoteAddr = "127.0.0.1:5000"
			w := &discardWriter{h: http.Header{}}
			rd := bytes.NewReader(body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rd.Reset(body)
				r.Body = readCloser{rd}
				clear(w.h)
				s.ServeHTTP(w, r)
			}
			if want := 200; tc.result != nil && w.status != want {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}

var errConditionBench error = &engine.ConditionFailedError{}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
