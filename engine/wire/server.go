package wire

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicedb/sluice/engine/attr"
)

// DefaultMaxBodyBytes is DynamoDB's request size limit: 16 MiB.
const DefaultMaxBodyBytes = 16 << 20

// Options configure a Server. The zero value is usable.
type Options struct {
	Region    string // AWS region the server answers for; "" means "us-east-1"
	AccountID string // 12-digit account id used in ARNs; "" means "000000000000"
	// MaxBodyBytes bounds a request body, both as sent and after
	// decompression; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Logger       *slog.Logger // nil discards
	// Host names this server in the GET health answer
	// ("healthy: <Host> "); "" means DynamoDB's own endpoint name for the
	// region, "dynamodb.<region>.amazonaws.com", which health checks written
	// against DynamoDB compare with.
	Host string
	// TrustedProxies lists the peers whose X-Forwarded-For header is
	// believed. Empty (the default) means the header is ignored and
	// Identity.SourceAddr is always the TCP peer.
	TrustedProxies []netip.Prefix
}

// Op handles one operation. The result is written as the JSON response body:
// []byte and json.RawMessage verbatim, nil as {}, anything else through
// encoding/json. A returned error is answered through the exception table.
type Op func(ctx context.Context, req *Request) (any, error)

// Request is one decoded API call. The Op owns Body and may keep it.
type Request struct {
	Target    string   // full X-Amz-Target, e.g. "DynamoDB_20120810.PutItem"
	Body      []byte   // decompressed request body (may be empty)
	RequestID string   // also sent back as x-amzn-RequestId
	Identity  Identity // who sent it (not yet authenticated)
	Header    http.Header
}

// Identity says who sent a request. AccessKeyID is read from the SigV4
// credential scope without checking the signature.
type Identity struct {
	AccessKeyID string // "" when the request carried no credential
	SourceAddr  string // the client's address (host:port, or a bare IP from a trusted proxy)
}

// Server routes DynamoDB JSON-1.0 requests to Ops by X-Amz-Target. It is an
// http.Handler and safe for concurrent use; Handle may be called at any time.
type Server struct {
	opts      Options
	logger    *slog.Logger
	maxBody   int64
	health    []byte
	healthCRC string
	ops       atomic.Pointer[map[string]Op]
	mu        sync.Mutex // serializes Handle
}

// NewServer returns a Server with no operations registered.
func NewServer(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Host == "" {
		opts.Host = "dynamodb." + opts.Region + ".amazonaws.com"
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	// DynamoDB answers GET with this text, trailing space included; health
	// checks that compare the whole body depend on it.
	health := []byte("healthy: " + opts.Host + " ")
	s := &Server{
		opts:      opts,
		logger:    lg,
		maxBody:   opts.MaxBodyBytes,
		health:    health,
		healthCRC: strconv.FormatUint(uint64(crc32.ChecksumIEEE(health)), 10),
	}
	empty := map[string]Op{}
	s.ops.Store(&empty)
	return s
}

// Options returns the options in effect, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Handle registers fn for target, the full X-Amz-Target value such as
// "DynamoDB_20120810.PutItem". It panics if target is empty, fn is nil, or
// target already has an Op: all three are wiring bugs.
func (s *Server) Handle(target string, fn Op) {
	if target == "" || fn == nil {
		panic("wire: Handle needs a target and an Op")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.ops.Load()
	if _, dup := old[target]; dup {
		panic(fmt.Sprintf("wire: %s registered twice", target))
	}
	// Copy on write: ServeHTTP reads the map without a lock.
	next := maps.Clone(old)
	next[target] = fn
	s.ops.Store(&next)
}

// unknownOpXML is DynamoDB's answer to anything but GET and POST, and to a
// POST whose body has a content type it does not take (HTTP 404).
var unknownOpXML = []byte("<UnknownOperationException/>\n")

// Header keys in canonical form, so setting them skips canonicalization.
const (
	hdrRequestID       = "X-Amzn-Requestid"
	hdrCRC32           = "X-Amz-Crc32"
	hdrContentType     = "Content-Type"
	hdrContentLength   = "Content-Length"
	hdrContentEncoding = "Content-Encoding"
)

// ServeHTTP answers one request as DynamoDB's endpoint does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	ct, ctOK := responseContentType(r.Header.Get(hdrContentType))
	// The size check comes first, as DynamoDB's: an oversized body is
	// refused before anything else is looked at, and never read.
	if r.ContentLength > s.maxBody {
		s.writeError(w, r, id, ct, ErrRequestTooLarge, "")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.writeRaw(w, id, http.StatusOK, s.health, s.healthCRC)
		return
	case http.MethodPost:
	default:
		s.writeRaw(w, id, http.StatusNotFound, unknownOpXML, unknownOpCRC)
		return
	}

	body, err := s.readBody(r)
	if err != nil {
		s.writeError(w, r, id, ct, err, "")
		return
	}
	if !ctOK && len(body) > 0 {
		s.writeRaw(w, id, http.StatusNotFound, unknownOpXML, unknownOpCRC)
		return
	}

	target := r.Header.Get("X-Amz-Target")
	op := (*s.ops.Load())[target]
	if op == nil {
		// DynamoDB parses the body before it looks at the target, so a
		// malformed body wins over an unknown operation. Checking only here
		// keeps the scan off the hot path.
		if len(body) > 0 && !json.Valid(body) {
			s.writeError(w, r, id, ct, errMalformed, target)
			return
		}
		s.writeError(w, r, id, ct, ErrUnknownOperation, target)
		return
	}

	// Like DynamoDB (and unlike a plain HTTP server), an unsigned request is
	// refused; any signature is accepted until signature checking exists.
	if r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Credential") == "" {
		s.writeError(w, r, id, ct, ErrMissingAuthToken, target)
		return
	}

	req := &Request{
		Target:    target,
		Body:      body,
		RequestID: id,
		Identity:  Identity{AccessKeyID: accessKeyID(r), SourceAddr: s.sourceAddr(r)},
		Header:    r.Header,
	}
	res, err := s.call(r.Context(), op, req)
	if err != nil {
		s.writeError(w, r, id, ct, err, target)
		return
	}
	s.writeResult(w, r, id, ct, req, res)
}

// errMalformed is the error for a body that is not JSON: a
// SerializationException with no message, DynamoDB's exact answer.
var errMalformed error = attr.ErrSerialization

// call runs op, turning a panic into an error so the client gets a 500.
func (s *Server) call(ctx context.Context, op Op, req *Request) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.Error("operation panicked", "op", req.Target, "request_id", req.RequestID,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res, err = nil, errPanicked
		}
	}()
	return op(ctx, req)
}

// errPanicked answers a recovered panic. It is logged where it is recovered,
// so writeError does not log it again.
var errPanicked = fmt.Errorf("operation panicked: %w", ErrInternal)

// Response content types. DynamoDB echoes the request's.
const (
	contentType10   = "application/x-amz-json-1.0"
	contentType11   = "application/x-amz-json-1.1"
	contentTypeJSON = "application/json"
)

// responseContentType returns the content type to answer a request sent
// with ct, and whether ct is one DynamoDB takes. Parameters after ';' and
// surrounding blanks are ignored, as DynamoDB does.
func responseContentType(ct string) (string, bool) {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch {
	case ct == contentType10:
		return contentType10, true
	case ct == contentType11:
		return contentType11, true
	case ct == contentTypeJSON:
		return contentTypeJSON, true
	case strings.EqualFold(ct, contentType10):
		return contentType10, true
	case strings.EqualFold(ct, contentType11):
		return contentType11, true
	case strings.EqualFold(ct, contentTypeJSON):
		return contentTypeJSON, true
	}
	return contentType10, false
}

// writeResult marshals res and writes it with status 200.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, id, ct string, req *Request, res any) {
	var body []byte
	buf := getBuffer()
	defer putBuffer(buf)
	switch v := res.(type) {
	case nil:
		body = emptyObject
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		enc := json.NewEncoder(buf)
		// AWS does not escape <, > and & in JSON; neither do we.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			s.writeError(w, r, id, ct, fmt.Errorf("encoding %s result: %w", req.Target, err), req.Target)
			return
		}
		body = buf.Bytes()
		if n := len(body); n > 0 && body[n-1] == '\n' {
			body = body[:n-1]
		}
	}
	if len(body) == 0 {
		body = emptyObject
	}
	s.writeJSON(w, r, id, ct, http.StatusOK, body)
}

var emptyObject = []byte("{}")

// writeError answers err through the exception table. Errors no sentinel
// matches are logged here, once, with the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, id, ct string, err error, target string) {
	x, matched := lookup(err)
	switch {
	case matched, err == errPanicked:
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client went away and the Op gave up: nothing is wrong here,
		// and nobody reads the answer.
		s.logger.Debug("client went away", "op", target, "request_id", id)
	default:
		s.logger.Error("operation failed", "op", target, "request_id", id, "err", err)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	// Append into the buffer's spare room, then Write so the pooled buffer
	// keeps any growth.
	buf.Write(appendErrorJSON(buf.AvailableBuffer(), x, err))
	s.writeJSON(w, r, id, ct, x.status, buf.Bytes())
}

// writeJSON writes a JSON body, gzip-compressed when the client accepts it.
// x-amz-crc32 is the CRC32 of the bytes on the wire: the compressed bytes
// when compressed. That is what DynamoDB sends and what the AWS SDKs check
// (aws-sdk-go-v2 service/dynamodb/internal/customizations: the checksum
// middleware sits below gzip decompression).
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, id, ct string, status int, body []byte) {
	h := w.Header()
	h[hdrRequestID] = []string{id}
	h[hdrContentType] = []string{ct}
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		zb := getBuffer()
		defer putBuffer(zb)
		if err := gzipTo(zb, body); err == nil {
			body = zb.Bytes()
			h[hdrContentEncoding] = []string{"gzip"}
		}
	}
	h[hdrCRC32] = []string{strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)}
	h[hdrContentLength] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a write error means the client went away
}

// writeRaw writes a non-JSON answer (health text, the 404 XML) with no
// Content-Type, as DynamoDB does.
func (s *Server) writeRaw(w http.ResponseWriter, id string, status int, body []byte, crc string) {
	h := w.Header()
	h[hdrRequestID] = []string{id}
	h[hdrContentType] = nil // suppress sniffing: DynamoDB sends none
	h[hdrCRC32] = []string{crc}
	h[hdrContentLength] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var unknownOpCRC = strconv.FormatUint(uint64(crc32.ChecksumIEEE(unknownOpXML)), 10)

// acceptsGzip reports whether an Accept-Encoding value allows gzip: it names
// gzip (or x-gzip, or *) without q=0.
func acceptsGzip(ae string) bool {
	if ae == "" || ae == "identity" {
		return false
	}
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && !strings.EqualFold(coding, "x-gzip") && coding != "*" {
			continue
		}
		return !zeroQuality(params)
	}
	return false
}

// zeroQuality reports whether Accept-Encoding parameters say q=0.
func zeroQuality(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil && q == 0
	}
	return false
}

// requestIDEncoding gives DynamoDB-shaped request ids: 52 characters of
// [0-9A-V], from 32 random bytes.
var requestIDEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

func newRequestID() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	var out [52]byte
	requestIDEncoding.Encode(out[:], raw[:])
	return string(out[:])
}

// accessKeyID returns the access key id of a SigV4 request: the first
// element of the credential scope AKID/date/region/service/aws4_request, from
// the Authorization header or, for presigned requests, X-Amz-Credential.
func accessKeyID(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		const key = "Credential="
		i := strings.Index(auth, key)
		if i < 0 {
			return ""
		}
		cred := auth[i+len(key):]
		if j := strings.IndexAny(cred, "/, "); j >= 0 {
			cred = cred[:j]
		}
		return cred
	}
	if r.URL == nil || !strings.Contains(r.URL.RawQuery, "X-Amz-Credential=") {
		return ""
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if j := strings.IndexByte(cred, '/'); j >= 0 {
		cred = cred[:j]
	}
	return cred
}

// sourceAddr returns the client address: the TCP peer, or, when the peer is
// a trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy.
func (s *Server) sourceAddr(r *http.Request) string {
	if len(s.opts.TrustedProxies) == 0 {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !s.trusted(peer.Addr()) {
		return r.RemoteAddr
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		hops := strings.Split(xff[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return r.RemoteAddr // a forged or garbled chain: trust none of it
			}
			if !s.trusted(a) {
				return a.String()
			}
		}
	}
	return r.RemoteAddr
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Buffers for encoding and compression, reused across requests. Buffers
// that grew past maxPooled are dropped so one huge Scan does not pin memory.
const maxPooled = 256 << 10

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooled {
		return
	}
	b.Reset()
	bufferPool.Put(b)
}

// readAllLimited reads r to the end, failing with ErrRequestTooLarge past
// max bytes. sizeHint, when positive, sizes the buffer in one allocation.
func readAllLimited(r io.Reader, max, sizeHint int64) ([]byte, error) {
	if sizeHint > 0 && sizeHint <= max {
		buf := make([]byte, sizeHint)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		// net/http already enforces Content-Length; one more read confirms
		// the end for readers that do not.
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, ErrRequestTooLarge
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > max {
		return nil, ErrRequestTooLarge
	}
	return buf, nil
}
