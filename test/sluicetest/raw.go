package sluicetest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawClient never compresses or decompresses on its own, so tests see the
// bytes as sent.
var rawClient = &http.Client{
	Timeout:   time.Minute,
	Transport: &http.Transport{DisableCompression: true},
}

// RawRequest POSTs body to url with the headers an SDK would send for target
// (Content-Type application/x-amz-json-1.0, X-Amz-Target, and an
// Authorization header naming AKIDTEST; the signature is not a real one).
// headers add to or replace those; an empty value removes the header. An
// empty target sends no X-Amz-Target. The response body is returned as
// received (still compressed if the server compressed it).
func RawRequest(t testing.TB, url, target, body string, headers map[string]string) (status int, hdr http.Header, respBody []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/"+
		time.Now().UTC().Format("20060102")+"/"+Region+"/dynamodb/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	// A body given as []byte-in-string may be binary (gzip); keep its length.
	req.ContentLength = int64(len(body))
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s (%s): %v", url, target, err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response of %s: %v", target, err)
	}
	return resp.StatusCode, resp.Header, respBody
}
