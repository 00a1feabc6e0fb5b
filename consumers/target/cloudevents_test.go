package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding/format"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/sluicedb/sluice/cdc/event"
)

// delivery is one POST a fake web hook received, decoded with the
// CloudEvents SDK.
type delivery struct {
	header http.Header
	body   []byte
	events []cloudevents.Event
}

// fakeWebhook is an httptest server that acts as a CloudEvents web hook
// which implements abuse protection: it answers the OPTIONS validation
// request, refuses deliveries (403) until one succeeded, checks the
// signature when it has a secret, and decodes every delivery with the
// CloudEvents SDK. Its fields may be changed between invocations.
type fakeWebhook struct {
	*httptest.Server
	mu struct {
		sync.Mutex
		accept        string // origin it grants ("*" for all); "" grants none
		rate          string // WebHook-Allowed-Rate it answers; "" sends none
		optionsStatus int    // 0 means 200
		secret        string
		answer        func(i int) answer // nil: 202 Accepted
		validated     bool
		options       []http.Header
		deliveries    []delivery
	}
}

func startWebhook(t testing.TB) *fakeWebhook {
	t.Helper()
	w := &fakeWebhook{}
	w.mu.accept = DefaultOrigin
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

func (w *fakeWebhook) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch r.Method {
	case http.MethodOptions:
		w.mu.options = append(w.mu.options, r.Header.Clone())
		origin := r.Header.Get("WebHook-Request-Origin")
		if w.mu.accept != "" {
			rw.Header().Set("WebHook-Allowed-Origin", w.mu.accept)
			if w.mu.rate != "" {
				rw.Header().Set("WebHook-Allowed-Rate", w.mu.rate)
			}
			if w.mu.accept == "*" || w.mu.accept == origin {
				w.mu.validated = w.mu.optionsStatus == 0 || w.mu.optionsStatus/100 == 2
			}
		}
		rw.Header().Set("Allow", "POST, OPTIONS")
		if w.mu.optionsStatus != 0 {
			rw.WriteHeader(w.mu.optionsStatus)
		}
		return
	case http.MethodPost:
	default:
		http.Error(rw, "method", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if !w.mu.validated {
		http.Error(rw, "no abuse-protection handshake", http.StatusForbidden)
		return
	}
	if w.mu.secret != "" {
		if err := Verify(w.mu.secret, r.Header.Get(SignatureHeader), body, time.Now(), 0); err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	d := delivery{header: r.Header.Clone(), body: body}
	ct := r.Header.Get("Content-Type")
	switch f := format.Lookup(ct); f {
	case format.JSON:
		var e cloudevents.Event
		if err := f.Unmarshal(body, &e); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		d.events = []cloudevents.Event{e}
	case format.JSONBatch:
		// As the SDK's HTTP binding reads a batch (binding.ToEvents).
		if err := json.Unmarshal(body, &d.events); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
	default:
		http.Error(rw, "content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	for _, e := range d.events {
		if err := e.Validate(); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
	}
	i := len(w.mu.deliveries)
	w.mu.deliveries = append(w.mu.deliveries, d)
	a := answer{status: http.StatusAccepted}
	if w.mu.answer != nil {
		a = w.mu.answer(i)
	}
	for k, v := range a.header {
		rw.Header().Set(k, v)
	}
	if a.status != 0 {
		rw.WriteHeader(a.status)
	}
	io.WriteString(rw, a.body)
}

func (w *fakeWebhook) set(f func(w *fakeWebhook)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

func (w *fakeWebhook) got() (options []http.Header, deliveries []delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.mu.options), slices.Clone(w.mu.deliveries)
}

// checkEvent compares a received CloudEvent with the record it was made of:
// every attribute and extension, and the data byte for byte.
func checkEvent(t *testing.T, e *cloudevents.Event, r *Record) {
	t.Helper()
	wantTime, err := time.Parse(time.RFC3339Nano, r.header(event.HdrTime))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"specversion", e.SpecVersion(), "1.0"},
		{"id", e.ID(), r.header(event.HdrID)},
		{"source", e.Source(), testARN},
		{"type", e.Type(), r.header(event.HdrType)},
		{"subject", e.Subject(), r.header(event.HdrSubject)},
		{"datacontenttype", e.DataContentType(), "application/json"},
		{"dataschema", e.DataSchema(), ""},
	} {
		if c.got != c.want || c.want == "" && c.name != "dataschema" {
			t.Errorf("record %s: %s = %q, want %q", r.SequenceNumber, c.name, c.got, c.want)
		}
	}
	if !e.Time().Equal(wantTime) {
		t.Errorf("record %s: time = %v, want %v", r.SequenceNumber, e.Time(), wantTime)
	}
	if !strings.HasPrefix(e.Type(), event.TypePrefix) {
		t.Errorf("record %s: type %q", r.SequenceNumber, e.Type())
	}
	want := map[string]any{
		"sequence":     r.SequenceNumber,
		"partitionkey": r.header(event.HdrPartitionKey),
	}
	for _, x := range []struct{ hdr, ext string }{
		{event.HdrCorrelation, "correlationid"},
		{event.HdrAccessKey, "accesskeyid"},
		{event.HdrSourceAddr, "sourceaddr"},
		{event.HdrRequestID, "requestid"},
	} {
		if v := r.header(x.hdr); v != "" {
			want[x.ext] = v
		}
	}
	if got := e.Extensions(); !mapsEqual(got, want) {
		t.Errorf("record %s: extensions %v, want %v", r.SequenceNumber, got, want)
	}
	if !bytes.Equal(e.Data(), r.Lambda) {
		t.Errorf("record %s: data\n got %s\nwant %s", r.SequenceNumber, e.Data(), r.Lambda)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCloudEventsDeliver(t *testing.T) {
	recs := testRecords(t, 5)
	for _, tc := range []struct {
		mode        string
		contentType string
		posts       int
	}{
		{"", "application/cloudevents-batch+json", 1},
		{ModeBatched, "application/cloudevents-batch+json", 1},
		{ModeStructured, "application/cloudevents+json", 5},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			w := startWebhook(t)
			w.set(func(w *fakeWebhook) { w.mu.secret = "s3cret" })
			c := &CloudEvents{URL: w.URL, Mode: tc.mode, Secret: "s3cret", Token: "tok"}
			got, err := c.Invoke(context.Background(), Batch{Records: recs})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, Result{StatusCode: http.StatusAccepted})
			options, deliveries := w.got()
			if len(options) != 1 || len(deliveries) != tc.posts {
				t.Fatalf("%d OPTIONS and %d POSTs, want 1 and %d", len(options), len(deliveries), tc.posts)
			}
			var events []cloudevents.Event
			for _, d := range deliveries {
				if ct := d.header.Get("Content-Type"); ct != tc.contentType {
					t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
				}
				if o := d.header.Get("WebHook-Request-Origin"); o != DefaultOrigin {
					t.Errorf("WebHook-Request-Origin %q", o)
				}
				if a := d.header.Get("Authorization"); a != "Bearer tok" {
					t.Errorf("Authorization %q", a)
				}
				// The server verified the signature already; check the
				// body did not change on the way.
				if err := Verify("s3cret", d.header.Get(SignatureHeader), d.body, time.Now(), time.Minute); err != nil {
					t.Error(err)
				}
				events = append(events, d.events...)
			}
			if len(events) != len(recs) {
				t.Fatalf("%d events, want %d", len(events), len(recs))
			}
			for i := range recs {
				checkEvent(t, &events[i], &recs[i])
			}
		})
	}
}

func TestCloudEventsStructuredFailure(t *testing.T) {
	recs := testRecords(t, 5)
	s := seqs(recs)
	for _, tc := range []struct {
		name   string
		failAt int
		answer answer
		want   Result
		posts  int
	}{
		{"first record", 0, answer{status: 500, body: "db down"},
			Result{StatusCode: 500, FunctionError: "HTTP 500 Internal Server Error", Message: "HTTP 500 Internal Server Error: db down"}, 1},
		{"third record", 2, answer{status: 500, body: "db down"},
			Result{StatusCode: 500, BatchItemFailures: s[2:],
				Message: "record 3 of 5 (sequence number " + s[2] + ") failed; 2 delivered: HTTP 500 Internal Server Error: db down"}, 3},
		{"last record throttled", 4, answer{status: 429, header: map[string]string{"Retry-After": "5"}},
			Result{StatusCode: 429, BatchItemFailures: s[4:], RetryAfter: 5 * time.Second,
				Message: "record 5 of 5 (sequence number " + s[4] + ") failed; 4 delivered: HTTP 429 Too Many Requests"}, 5},
		{"gone", 1, answer{status: 410},
			Result{StatusCode: 410, BatchItemFailures: s[1:],
				Message: "record 2 of 5 (sequence number " + s[1] + ") failed; 1 delivered: HTTP 410 Gone (the endpoint is retired)"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := startWebhook(t)
			w.set(func(w *fakeWebhook) {
				w.mu.answer = func(i int) answer {
					if i == tc.failAt {
						return tc.answer
					}
					return answer{status: http.StatusNoContent}
				}
			})
			c := &CloudEvents{URL: w.URL, Mode: ModeStructured}
			c.sleep = func(context.Context, time.Duration) error { return nil }
			got, err := c.Invoke(context.Background(), Batch{Records: recs})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, tc.want)
			if _, d := w.got(); len(d) != tc.posts {
				t.Errorf("%d POSTs, want %d (delivery stops at the first failure)", len(d), tc.posts)
			}
		})
	}
}

func TestCloudEventsHandshake(t *testing.T) {
	recs := testRecords(t, 2)
	w := startWebhook(t)
	w.set(func(w *fakeWebhook) { w.mu.accept = "events.example.com" })

	// Without the handshake the server refuses deliveries.
	bare := &CloudEvents{URL: w.URL, NoHandshake: true, Origin: "events.example.com"}
	got, err := bare.Invoke(context.Background(), Batch{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if got.FunctionError != "HTTP 403 Forbidden" {
		t.Fatalf("delivery without handshake: %+v", got)
	}

	c := &CloudEvents{URL: w.URL, Origin: "events.example.com", RequestRate: 600}
	for range 3 {
		got, err := c.Invoke(context.Background(), Batch{Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		if got.Failed() {
			t.Fatalf("delivery after handshake: %+v", got)
		}
	}
	options, deliveries := w.got()
	if len(options) != 1 {
		t.Fatalf("%d validation requests, want 1 (success is remembered)", len(options))
	}
	if o, r := options[0].Get("WebHook-Request-Origin"), options[0].Get("WebHook-Request-Rate"); o != "events.example.com" || r != "600" {
		t.Errorf("validation request origin %q rate %q", o, r)
	}
	for _, d := range deliveries {
		if o := d.header.Get("WebHook-Request-Origin"); o != "events.example.com" {
			t.Errorf("delivery origin %q", o)
		}
	}
}

func TestCloudEventsHandshakeRefused(t *testing.T) {
	recs := testRecords(t, 1)
	for _, tc := range []struct {
		name string
		set  func(w *fakeWebhook)
		want string
	}{
		{"options not supported", func(w *fakeWebhook) { w.mu.accept, w.mu.optionsStatus = "", http.StatusMethodNotAllowed },
			"OPTIONS answered HTTP 405 Method Not Allowed"},
		{"no consent header", func(w *fakeWebhook) { w.mu.accept = "" }, `WebHook-Allowed-Origin is "", not "sluice" or "*"`},
		{"other origin", func(w *fakeWebhook) { w.mu.accept = "other.example.com" }, `WebHook-Allowed-Origin is "other.example.com", not "sluice"`},
		{"server error", func(w *fakeWebhook) { w.mu.optionsStatus = http.StatusInternalServerError },
			"OPTIONS answered HTTP 500 Internal Server Error"},
		{"bad rate", func(w *fakeWebhook) { w.mu.rate = "fast" }, `WebHook-Allowed-Rate "fast" is not a positive integer`},
		{"zero rate", func(w *fakeWebhook) { w.mu.rate = "0" }, `WebHook-Allowed-Rate "0" is not a positive integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := startWebhook(t)
			w.set(tc.set)
			c := &CloudEvents{URL: w.URL}
			_, err := c.Invoke(context.Background(), Batch{Records: recs})
			if !errors.Is(err, ErrHandshakeRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrHandshakeRefused with %q", err, tc.want)
			}
			if _, d := w.got(); len(d) != 0 {
				t.Fatalf("%d deliveries after a refused handshake", len(d))
			}
			// The next invocation asks again; now the server agrees.
			w.set(func(w *fakeWebhook) { w.mu.accept, w.mu.rate, w.mu.optionsStatus = "*", "*", http.StatusNoContent })
			got, err := c.Invoke(context.Background(), Batch{Records: recs})
			if err != nil || got.Failed() {
				t.Fatalf("after the server agreed: %+v, %v", got, err)
			}
			if o, d := w.got(); len(o) != 2 || len(d) != 1 {
				t.Fatalf("%d OPTIONS and %d POSTs, want 2 and 1", len(o), len(d))
			}
		})
	}
}

// fakeClock is an injected pacing clock: sleeping advances it and records
// the wait, so pacing is checked without waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (f *fakeClock) install(c *CloudEvents) {
	c.now = func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sleeps = append(f.sleeps, d)
		f.now = f.now.Add(d)
		return ctx.Err()
	}
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) took() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sleeps
	f.sleeps = nil
	return out
}

func TestCloudEventsAllowedRate(t *testing.T) {
	recs := testRecords(t, 3)
	w := startWebhook(t)
	w.set(func(w *fakeWebhook) { w.mu.rate = "2" }) // one request per 30 s
	clock := &fakeClock{now: time.Unix(1795248000, 0)}

	c := &CloudEvents{URL: w.URL}
	clock.install(c)
	for range 3 {
		if got, err := c.Invoke(context.Background(), Batch{Records: recs}); err != nil || got.Failed() {
			t.Fatalf("%+v, %v", got, err)
		}
	}
	if got := clock.took(); !slices.Equal(got, []time.Duration{30 * time.Second, 30 * time.Second}) {
		t.Errorf("batched waits %v, want [30s 30s]", got)
	}

	// Time that passed counts: after 20 s the next request waits 10 s.
	clock.advance(20 * time.Second)
	c.Mode = ModeStructured
	if got, err := c.Invoke(context.Background(), Batch{Records: recs}); err != nil || got.Failed() {
		t.Fatalf("%+v, %v", got, err)
	}
	if got := clock.took(); !slices.Equal(got, []time.Duration{10 * time.Second, 30 * time.Second, 30 * time.Second}) {
		t.Errorf("structured waits %v, want [10s 30s 30s]", got)
	}

	// Cancelling a wait fails the invocation without a request.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Invoke(ctx, Batch{Records: recs}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, d := w.got(); len(d) != 6 {
		t.Errorf("%d deliveries, want 6", len(d))
	}
}

func TestCloudEventsRetryAfter(t *testing.T) {
	recs := testRecords(t, 2)
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		answer answer
		want   Result
	}{
		{"429 seconds", answer{status: 429, header: map[string]string{"Retry-After": "7"}, body: "slow down"},
			Result{StatusCode: 429, FunctionError: "HTTP 429 Too Many Requests", Message: "HTTP 429 Too Many Requests: slow down", RetryAfter: 7 * time.Second}},
		{"503 date", answer{status: 503, header: map[string]string{"Retry-After": start.Add(20 * time.Second).Format(http.TimeFormat)}},
			Result{StatusCode: 503, FunctionError: "HTTP 503 Service Unavailable", Message: "HTTP 503 Service Unavailable", RetryAfter: 20 * time.Second}},
		{"429 without retry-after", answer{status: 429},
			Result{StatusCode: 429, FunctionError: "HTTP 429 Too Many Requests", Message: "HTTP 429 Too Many Requests"}},
		{"500 ignores retry-after", answer{status: 500, header: map[string]string{"Retry-After": "7"}},
			Result{StatusCode: 500, FunctionError: "HTTP 500 Internal Server Error", Message: "HTTP 500 Internal Server Error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := startWebhook(t)
			w.set(func(w *fakeWebhook) {
				w.mu.answer = func(i int) answer {
					if i == 0 {
						return tc.answer
					}
					return answer{status: http.StatusOK}
				}
			})
			clock := &fakeClock{now: start}
			c := &CloudEvents{URL: w.URL}
			clock.install(c)
			got, err := c.Invoke(context.Background(), Batch{Records: recs})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, tc.want)
			// The spec: the sender refrains from sending until then.
			got, err = c.Invoke(context.Background(), Batch{Records: recs})
			if err != nil || got.Failed() {
				t.Fatalf("%+v, %v", got, err)
			}
			var want []time.Duration
			if tc.want.RetryAfter > 0 {
				want = []time.Duration{tc.want.RetryAfter}
			}
			if waits := clock.took(); !slices.Equal(waits, want) {
				t.Errorf("waits %v, want %v", waits, want)
			}
		})
	}
}

func TestCloudEventsEdges(t *testing.T) {
	recs := testRecords(t, 2)
	t.Run("empty batch sends nothing", func(t *testing.T) {
		w := startWebhook(t)
		got, err := (&CloudEvents{URL: w.URL}).Invoke(context.Background(),
			Batch{Window: &Window{}, State: json.RawMessage(`{"n":1}`)})
		if err != nil || got.Failed() || string(got.State) != `{"n":1}` {
			t.Fatalf("%+v, %v", got, err)
		}
		if o, d := w.got(); len(o)+len(d) != 0 {
			t.Fatalf("%d requests", len(o)+len(d))
		}
	})
	t.Run("unknown mode", func(t *testing.T) {
		if _, err := (&CloudEvents{URL: "http://127.0.0.1:1", Mode: "binary"}).Invoke(context.Background(), Batch{Records: recs}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("bad record", func(t *testing.T) {
		bad := slices.Clone(recs)
		bad[1].Headers = [][2]string{{event.HdrSpecVersion, "0.3"}}
		if _, err := (&CloudEvents{URL: "http://127.0.0.1:1"}).Invoke(context.Background(), Batch{Records: bad}); err == nil ||
			!strings.Contains(err.Error(), recs[1].SequenceNumber) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		w := startWebhook(t)
		w.set(func(w *fakeWebhook) {
			w.mu.answer = func(int) answer {
				return answer{status: http.StatusTemporaryRedirect, header: map[string]string{"Location": "/elsewhere"}}
			}
		})
		got, err := (&CloudEvents{URL: w.URL}).Invoke(context.Background(), Batch{Records: recs})
		if err != nil || got.FunctionError != "HTTP 307 Temporary Redirect" {
			t.Fatalf("%+v, %v", got, err)
		}
		if _, d := w.got(); len(d) != 1 {
			t.Fatalf("%d POSTs, want 1", len(d))
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		w := startWebhook(t)
		c := &CloudEvents{URL: w.URL}
		if _, err := c.Invoke(context.Background(), Batch{Records: recs}); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if _, err := c.Invoke(context.Background(), Batch{Records: recs}); err == nil {
			t.Fatal("no error from a closed server")
		}
	})
}

// TestCloudEventsConcurrent: invocations from several shards at once share
// one handshake and one pace.
func TestCloudEventsConcurrent(t *testing.T) {
	recs := testRecords(t, 3)
	w := startWebhook(t)
	w.set(func(w *fakeWebhook) { w.mu.rate = "60" })
	clock := &fakeClock{now: time.Unix(1795248000, 0)}
	c := &CloudEvents{URL: w.URL, Mode: ModeStructured}
	clock.install(c)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got, err := c.Invoke(context.Background(), Batch{Records: recs}); err != nil || got.Failed() {
				t.Errorf("%+v, %v", got, err)
			}
		})
	}
	wg.Wait()
	o, d := w.got()
	if len(o) != 1 || len(d) != 24 {
		t.Fatalf("%d OPTIONS and %d POSTs, want 1 and 24", len(o), len(d))
	}
	var total time.Duration
	for _, s := range clock.took() {
		total += s
	}
	// 24 requests at one per second: the reserved slots end 23 s after the
	// first, whatever order they were taken in.
	if total < 23*time.Second {
		t.Errorf("waited %v in all, want at least 23s", total)
	}
}
