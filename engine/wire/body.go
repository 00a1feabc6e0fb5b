package wire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/engine/attr"
)

// errBadBody answers a body that could not be read or decompressed: the
// bytes that arrived are not a JSON document, so, as for malformed JSON, a
// SerializationException with no message.
var errBadBody error = attr.ErrSerialization

// readBody returns the request body, decompressed per Content-Encoding
// (gzip or deflate; anything else is taken as-is). Both the bytes sent and
// the bytes they decompress to are bounded by MaxBodyBytes, so a small
// compressed body cannot expand without limit.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	raw, err := readAllLimited(r.Body, s.maxBody, r.ContentLength)
	if err != nil {
		if errors.Is(err, ErrRequestTooLarge) {
			return nil, err
		}
		return nil, errBadBody
	}
	enc := r.Header.Get(hdrContentEncoding)
	if enc == "" || len(raw) == 0 {
		return raw, nil
	}
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "gzip", "x-gzip":
		return gunzip(raw, s.maxBody)
	case "deflate":
		return inflate(raw, s.maxBody)
	}
	return raw, nil
}

// gunzip decodes a gzip body. Readers are not pooled: compressed requests
// are rare (no AWS SDK compresses DynamoDB requests), and a pooled reader
// would keep the last body alive.
func gunzip(raw []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, errBadBody
	}
	return readDecompressed(zr, max)
}

// inflate decodes a "deflate" body. HTTP means the zlib format (RFC 1950)
// by it, but some clients send raw DEFLATE (RFC 1951); both are taken.
func inflate(raw []byte, max int64) ([]byte, error) {
	var zr io.ReadCloser
	if isZlibHeader(raw) {
		var err error
		if zr, err = zlib.NewReader(bytes.NewReader(raw)); err != nil {
			return nil, errBadBody
		}
	} else {
		zr = flate.NewReader(bytes.NewReader(raw))
	}
	defer zr.Close()
	return readDecompressed(zr, max)
}

// isZlibHeader reports whether b starts with a zlib header: compression
// method 8 and a header checksum divisible by 31.
func isZlibHeader(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

func readDecompressed(zr io.Reader, max int64) ([]byte, error) {
	out, err := readAllLimited(zr, max, 0)
	if err != nil {
		if errors.Is(err, ErrRequestTooLarge) {
			return nil, err
		}
		return nil, errBadBody
	}
	return out, nil
}

// gzipWriters holds writers at BestSpeed: responses are small and latency
// matters more than the last few percent of size.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// gzipTo writes body gzip-compressed to dst.
func gzipTo(dst *bytes.Buffer, body []byte) error {
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(dst)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}
