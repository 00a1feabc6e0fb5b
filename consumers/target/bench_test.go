package target

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

const benchBatch = 100

// BenchmarkLambdaInvoke invokes a function that reads the event and answers
// a partial batch response with no failures, 100 records a batch.
func BenchmarkLambdaInvoke(b *testing.B) {
	recs := testRecords(b, benchBatch)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"batchItemFailures":[]}`)
	}))
	defer srv.Close()
	l := &Lambda{URL: srv.URL}
	batch := Batch{Records: recs}
	var size int64
	for _, r := range recs {
		size += int64(len(r.Lambda))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res, err := l.Invoke(context.Background(), batch)
		if err != nil || res.Failed() {
			b.Fatalf("%+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCloudEventsBatched delivers signed 100-record batches to a web hook
// that accepts them after the handshake.
func BenchmarkCloudEventsBatched(b *testing.B) {
	recs := testRecords(b, benchBatch)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("WebHook-Allowed-Origin", "*")
			w.Header().Set("WebHook-Allowed-Rate", "*")
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c := &CloudEvents{URL: srv.URL, Secret: "bench-secret"}
	batch := Batch{Records: recs}
	var size int64
	for _, r := range recs {
		size += int64(len(r.Lambda))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Invoke(context.Background(), batch)
		if err != nil || res.Failed() {
			b.Fatalf("%+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}
