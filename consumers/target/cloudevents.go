package target

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/invariants"
)

// Delivery modes of CloudEvents.
const (
	// ModeBatched sends a batch as one POST of content type
	// application/cloudevents-batch+json: a JSON array of structured events.
	ModeBatched = "batched"
	// ModeStructured sends one POST per record, of content type
	// application/cloudevents+json, in order, one at a time.
	ModeStructured = "structured"
)

// DefaultOrigin is the WebHook-Request-Origin sent when CloudEvents.Origin is
// empty. The spec wants a name for the sending system as a whole, not for one
// host, so the host name is not used.
const DefaultOrigin = "sluice"

// DefaultWebhookTimeout bounds one request when CloudEvents.Client is nil.
const DefaultWebhookTimeout = 30 * time.Second

// Web-hook header names (CloudEvents "HTTP 1.1 Web Hooks for Event
// Delivery", section 4).
const (
	hdrRequestOrigin = "WebHook-Request-Origin"
	hdrRequestRate   = "WebHook-Request-Rate"
	hdrAllowedOrigin = "WebHook-Allowed-Origin"
	hdrAllowedRate   = "WebHook-Allowed-Rate"
)

// CloudEvents delivers a batch to a web hook by the CloudEvents HTTP binding,
// each record as one CloudEvent 1.0 (see the package documentation). Its
// zero value (with a URL) is ready to use; it is safe for concurrent use
// and must not be copied after first use. Lock order: handshake before mu.
type CloudEvents struct {
	URL string
	// Mode is ModeBatched ("" means it) or ModeStructured.
	Mode string
	// Secret is the HMAC-SHA256 key of the Sluice-Signature header; ""
	// sends no signature.
	Secret string
	// Token is sent as "Authorization: Bearer <Token>"; "" sends none.
	Token string
	// Origin is the WebHook-Request-Origin of the handshake and of every
	// delivery; "" means DefaultOrigin.
	Origin string
	// RequestRate is the rate asked for in the handshake, in requests per
	// minute (WebHook-Request-Rate); 0 asks for none.
	RequestRate int
	// NoHandshake skips the abuse-protection handshake, for a receiver that
	// does not implement it. Deliveries still carry WebHook-Request-Origin.
	NoHandshake bool
	// Client sends the requests; nil means a client with
	// DefaultWebhookTimeout. Redirects are never followed.
	Client *http.Client

	// now and sleep are the pacing clock; nil means the real one. Tests set
	// them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	// handshake is held while the validation request is in flight, so that
	// concurrent first invocations send one.
	handshake sync.Mutex
	mu        struct {
		sync.Mutex
		allowed  bool          // the handshake succeeded
		interval time.Duration // between request starts; 0: no pacing
		next     time.Time     // no request starts before it (rate or Retry-After)
	}
}

// Invoke delivers b. In batched mode the result is the answer to the one
// POST. In structured mode the records go one by one in order, and
// delivery stops at the first failure: if it is the first record, the
// whole batch failed (FunctionError, or an error if the request could not
// be made); otherwise the result is a partial batch response whose
// BatchItemFailures are the failed record and every later one (none of them
// delivered), with FunctionError empty and Message saying why.
//
// A CloudEvents target has no tumbling-window state: the window fields of b
// are not sent, and Result.State is b.State unchanged.
func (c *CloudEvents) Invoke(ctx context.Context, b Batch) (Result, error) {
	mode := c.Mode
	if mode == "" {
		mode = ModeBatched
	}
	if mode != ModeBatched && mode != ModeStructured {
		return Result{}, fmt.Errorf("target: unknown CloudEvents mode %q (want %q or %q)", c.Mode, ModeBatched, ModeStructured)
	}
	events := make([]cloudevents.Event, len(b.Records))
	for i := range b.Records {
		e, err := toCloudEvent(&b.Records[i])
		if err != nil {
			return Result{}, fmt.Errorf("building the CloudEvent of record %s: %w", b.Records[i].SequenceNumber, err)
		}
		events[i] = e
	}
	r := Result{}
	if b.Window != nil {
		r.State = b.State
	}
	if len(events) == 0 {
		return r, nil
	}
	if err := c.ensureAllowed(ctx); err != nil {
		return Result{}, err
	}
	client := withClient(c.Client, DefaultWebhookTimeout)

	if mode == ModeBatched {
		var body bytes.Buffer
		body.Grow(eventsSize(b.Records))
		body.WriteByte('[')
		for i := range events {
			if i > 0 {
				body.WriteByte(',')
			}
			if err := cloudevents.WriteJson(&events[i], &body); err != nil {
				return Result{}, fmt.Errorf("encoding the CloudEvent of record %s: %w", b.Records[i].SequenceNumber, err)
			}
		}
		body.WriteByte(']')
		got, err := c.deliver(ctx, client, cloudevents.ApplicationCloudEventsBatchJSON, body.Bytes())
		if err != nil {
			return Result{}, err
		}
		got.State = r.State
		return got, nil
	}

	var body bytes.Buffer
	for i := range events {
		body.Reset()
		if err := cloudevents.WriteJson(&events[i], &body); err != nil {
			return Result{}, fmt.Errorf("encoding the CloudEvent of record %s: %w", b.Records[i].SequenceNumber, err)
		}
		got, err := c.deliver(ctx, client, cloudevents.ApplicationCloudEventsJSON, body.Bytes())
		if i == 0 || ctx.Err() != nil {
			// Nothing delivered yet, or the caller gave up: the answer
			// (or the error) stands for the whole batch.
			if err != nil {
				return Result{}, err
			}
			if got.FunctionError != "" {
				got.State = r.State
				return got, nil
			}
			r.StatusCode = got.StatusCode
			continue
		}
		var why string
		switch {
		case err != nil:
			why = err.Error()
		case got.FunctionError != "":
			why = got.Message
		default:
			r.StatusCode = got.StatusCode
			continue
		}
		r.StatusCode, r.RetryAfter = got.StatusCode, got.RetryAfter
		r.Message = clip(fmt.Sprintf("record %d of %d (sequence number %s) failed; %d delivered: %s",
			i+1, len(events), b.Records[i].SequenceNumber, i, why))
		for _, rec := range b.Records[i:] {
			r.BatchItemFailures = append(r.BatchItemFailures, rec.SequenceNumber)
		}
		return r, nil
	}
	return r, nil
}

// eventsSize estimates the JSON size of the records' CloudEvents: their data,
// their attribute values, and the attribute names and punctuation.
func eventsSize(recs []Record) int {
	n := 2
	for _, r := range recs {
		n += len(r.Lambda) + 160
		for _, h := range r.Headers {
			n += len(h[1])
		}
	}
	return n
}

// toCloudEvent builds the CloudEvent 1.0 of a record from its headers, with
// the Lambda record JSON as data.
func toCloudEvent(r *Record) (cloudevents.Event, error) {
	e := cloudevents.New(cloudevents.CloudEventsVersionV1)
	contentType := cloudevents.ApplicationJSON
	for _, h := range r.Headers {
		name, v := strings.ToLower(h[0]), h[1] // header names are case-insensitive
		if v == "" {
			continue
		}
		switch name {
		case event.HdrSpecVersion:
			if v != cloudevents.CloudEventsVersionV1 {
				return e, fmt.Errorf("unsupported CloudEvents specversion %q", v)
			}
		case event.HdrID:
			e.SetID(v)
		case event.HdrSource:
			e.SetSource(v)
		case event.HdrType:
			e.SetType(v)
		case event.HdrSubject:
			e.SetSubject(v)
		case event.HdrTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return e, fmt.Errorf("parsing %s: %w", event.HdrTime, err)
			}
			e.SetTime(t)
		case event.HdrContentType:
			contentType = v
		default:
			// ce-sequence, ce-partitionkey, ce-correlationid and the
			// audit extensions; "sluice-sizes" has no ce- prefix.
			if ext, ok := strings.CutPrefix(name, "ce-"); ok {
				e.SetExtension(ext, v)
			}
		}
	}
	if invariants.Enabled && !json.Valid(r.Lambda) {
		panic(fmt.Sprintf("target: record %s: Lambda JSON is not valid: %q", r.SequenceNumber, r.Lambda))
	}
	// The data is JSON already: set it encoded, so that it is written as
	// it is (SetData would re-marshal it, escaping <, > and &).
	e.SetDataContentType(contentType)
	e.DataEncoded, e.DataBase64 = r.Lambda, false
	if err := e.Validate(); err != nil {
		return e, err
	}
	return e, nil
}

// deliver POSTs one body at the permitted pace and interprets the answer.
func (c *CloudEvents) deliver(ctx context.Context, client *http.Client, contentType string, body []byte) (Result, error) {
	if err := c.pace(ctx); err != nil {
		return Result{}, fmt.Errorf("waiting to deliver: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("building the delivery request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(hdrRequestOrigin, c.origin())
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(c.Secret, c.clock(), body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("delivering to the webhook: %w", err)
	}
	defer drain(resp.Body)
	r := Result{StatusCode: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent:
		return r, nil
	}
	answer, _, err := readCapped(resp.Body, MaxMessageBytes)
	if err != nil && len(answer) == 0 {
		answer = []byte("(reading the answer: " + err.Error() + ")")
	}
	r.FunctionError = statusFailure(resp.StatusCode)
	r.Message = describeStatus(resp.StatusCode, resp.Header, answer)
	if throttled(resp.StatusCode) {
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.clock())
		c.holdOff(r.RetryAfter)
	}
	return r, nil
}

// ensureAllowed runs the abuse-protection handshake unless it has
// succeeded before: an OPTIONS request to URL with WebHook-Request-Origin
// (and WebHook-Request-Rate if RequestRate is set). Delivery is allowed only
// by a 200 or 204 answer whose WebHook-Allowed-Origin is the origin or "*".
// Its WebHook-Allowed-Rate ("*" or absent: unlimited, unless a rate was asked
// for, which absent then grants) sets the pace. A refusal is not
// remembered: the next Invoke asks again.
func (c *CloudEvents) ensureAllowed(ctx context.Context) error {
	if c.NoHandshake {
		return nil
	}
	c.mu.Lock()
	allowed := c.mu.allowed
	c.mu.Unlock()
	if allowed {
		return nil
	}
	c.handshake.Lock()
	defer c.handshake.Unlock()
	c.mu.Lock()
	allowed = c.mu.allowed
	c.mu.Unlock()
	if allowed {
		return nil
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, c.URL, nil)
	if err != nil {
		return fmt.Errorf("building the handshake request: %w", err)
	}
	origin := c.origin()
	req.Header.Set(hdrRequestOrigin, origin)
	if c.RequestRate > 0 {
		req.Header.Set(hdrRequestRate, strconv.Itoa(c.RequestRate))
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := withClient(c.Client, DefaultWebhookTimeout).Do(req)
	if err != nil {
		return fmt.Errorf("validating the webhook (abuse-protection handshake): %w", err)
	}
	drain(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: OPTIONS answered %s", ErrHandshakeRefused, statusFailure(resp.StatusCode))
	}
	got := resp.Header.Get(hdrAllowedOrigin)
	if got != "*" && !strings.EqualFold(got, origin) {
		return fmt.Errorf("%w: %s is %q, not %q or \"*\"", ErrHandshakeRefused, hdrAllowedOrigin, got, origin)
	}
	interval, err := allowedInterval(resp.Header.Get(hdrAllowedRate), c.RequestRate)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHandshakeRefused, err)
	}
	c.mu.Lock()
	c.mu.allowed, c.mu.interval = true, interval
	c.mu.Unlock()
	return nil
}

// allowedInterval turns a WebHook-Allowed-Rate value into the interval
// between request starts (0: unlimited).
func allowedInterval(v string, asked int) (time.Duration, error) {
	switch v = strings.TrimSpace(v); {
	case v == "*":
		return 0, nil
	case v == "" && asked > 0:
		return time.Minute / time.Duration(asked), nil
	case v == "":
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive integer or \"*\"", hdrAllowedRate, v)
	}
	return time.Minute / time.Duration(min(n, int64(time.Minute))), nil
}

// pace waits until the next request may start, and reserves the slot after
// it. Slots are reserved under the lock and waited for outside it, so
// concurrent invocations share one rate.
func (c *CloudEvents) pace(ctx context.Context) error {
	c.mu.Lock()
	now := c.clock()
	start := now
	if c.mu.next.After(now) {
		start = c.mu.next
	}
	if c.mu.interval > 0 {
		c.mu.next = start.Add(c.mu.interval)
	}
	c.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		sleep := c.sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		return sleep(ctx, wait)
	}
	return nil
}

// holdOff keeps every request from starting for d (a Retry-After), which the
// web-hook spec requires the sender to observe.
func (c *CloudEvents) holdOff(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := c.clock().Add(d); until.After(c.mu.next) {
		c.mu.next = until
	}
}

func (c *CloudEvents) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *CloudEvents) origin() string {
	if c.Origin != "" {
		return c.Origin
	}
	return DefaultOrigin
}
