package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// lambdaEventIn is the event as a function's runtime decodes it.
type lambdaEventIn struct {
	Records []struct {
		EventID   string `json:"eventID"`
		EventName string `json:"eventName"`
		DynamoDB  struct {
			SequenceNumber string          `json:"SequenceNumber"`
			Keys           json.RawMessage `json:"Keys"`
		} `json:"dynamodb"`
		EventSourceARN string `json:"eventSourceARN"`
	} `json:"Records"`
	Window *struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"window"`
	State                   json.RawMessage `json:"state"`
	ShardID                 string          `json:"shardId"`
	EventSourceARN          string          `json:"eventSourceARN"`
	IsFinalInvokeForWindow  *bool           `json:"isFinalInvokeForWindow"`
	IsWindowTerminatedEarly *bool           `json:"isWindowTerminatedEarly"`
}

// answer is what a fake function sends back.
type answer struct {
	status int // 0 means 200
	header map[string]string
	body   string
}

// fakeFunction is an httptest server that acts as a function behind the
// Invoke API or the Runtime Interface Emulator: it decodes each event and
// answers with handle's answer. It keeps the raw bodies it received.
type fakeFunction struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func startFunction(t testing.TB, handle func(ev *lambdaEventIn) answer) *fakeFunction {
	t.Helper()
	f := &fakeFunction{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad invocation", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
		var ev lambdaEventIn
		if err := json.Unmarshal(body, &ev); err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			fmt.Fprintf(w, `{"errorType":"Runtime.UnmarshalError","errorMessage":%q}`, err.Error())
			return
		}
		a := handle(&ev)
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFunction) received() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.bodies)
}

func TestLambdaInvoke(t *testing.T) {
	recs := testRecords(t, 4)
	s := seqs(recs)
	ok := func(body string) func(*lambdaEventIn) answer {
		return func(*lambdaEventIn) answer { return answer{body: body} }
	}
	for _, tc := range []struct {
		name   string
		handle func(ev *lambdaEventIn) answer
		want   Result
	}{
		{"success null", ok("null"), Result{StatusCode: 200}},
		{"success empty body", ok(""), Result{StatusCode: 200}},
		{"success object", ok(`{"processed":4}`), Result{StatusCode: 200}},
		{"success string", ok(`"done"`), Result{StatusCode: 200}},
		{"item failures null", ok(`{"batchItemFailures":null}`), Result{StatusCode: 200}},
		{"item failures empty", ok(`{"batchItemFailures":[]}`), Result{StatusCode: 200}},
		{"item failures", func(ev *lambdaEventIn) answer {
			// A real handler reports the records it failed by their
			// sequence numbers, as it read them from the event.
			return answer{body: fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":%q}]}`,
				ev.Records[2].DynamoDB.SequenceNumber, ev.Records[3].DynamoDB.SequenceNumber)}
		}, Result{StatusCode: 200, BatchItemFailures: s[2:]}},
		{"item not in batch", ok(`{"batchItemFailures":[{"itemIdentifier":"` + s[1] + `"},{"itemIdentifier":"99999"}]}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: `batchItemFailures[1].itemIdentifier "99999" is not a record of the batch`}},
		{"item empty", ok(`{"batchItemFailures":[{"itemIdentifier":""}]}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: "batchItemFailures[0].itemIdentifier is empty"}},
		{"item null", ok(`{"batchItemFailures":[{"itemIdentifier":null}]}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: "batchItemFailures[0].itemIdentifier is null"}},
		{"item bad key name", ok(`{"batchItemFailures":[{"ItemIdentifier":"` + s[0] + `"}]}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: "batchItemFailures[0] has no itemIdentifier"}},
		{"item number", ok(`{"batchItemFailures":[{"itemIdentifier":100}]}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: "batchItemFailures[0].itemIdentifier is not a string"}},
		{"items not a list", ok(`{"batchItemFailures":{"itemIdentifier":"` + s[0] + `"}}`),
			Result{StatusCode: 200, BadItemFailures: true, Message: "batchItemFailures is not a list"}},
		{"function error header", func(*lambdaEventIn) answer {
			return answer{header: map[string]string{"X-Amz-Function-Error": "Unhandled"},
				body: `{"errorMessage":"2026-11-21T08:00:03.000Z Task timed out after 3.00 seconds","errorType":"Sandbox.Timedout"}`}
		}, Result{StatusCode: 200, FunctionError: "Unhandled", Message: "Sandbox.Timedout: 2026-11-21T08:00:03.000Z Task timed out after 3.00 seconds"}},
		{"handled error header", func(*lambdaEventIn) answer {
			return answer{header: map[string]string{"X-Amz-Function-Error": "Handled"},
				body: `{"errorMessage":"no such table","errorType":"ResourceNotFoundException","stackTrace":["at handler (index.js:3)"]}`}
		}, Result{StatusCode: 200, FunctionError: "Handled", Message: "ResourceNotFoundException: no such table"}},
		{"emulator error payload", ok(`{"errorType":"Error","errorMessage":"failure","trace":["Error: failure","    at Runtime.handler (/var/task/index.js:1:43)"]}`),
			Result{StatusCode: 200, FunctionError: "Unhandled", Message: "Error: failure"}},
		{"emulator timeout text", ok("Task timed out after 1.00 seconds"),
			Result{StatusCode: 200, FunctionError: "Unhandled", Message: "the function's answer is not JSON: Task timed out after 1.00 seconds"}},
		{"http 500", func(*lambdaEventIn) answer {
			return answer{status: 500, header: map[string]string{"X-Amzn-ErrorType": "ServiceException"}, body: `{"Type":"Service","message":"internal"}`}
		}, Result{StatusCode: 500, FunctionError: "HTTP 500 Internal Server Error", Message: `HTTP 500 Internal Server Error: ServiceException: {"Type":"Service","message":"internal"}`}},
		{"http 502 emulator", func(*lambdaEventIn) answer { return answer{status: 502} },
			Result{StatusCode: 502, FunctionError: "HTTP 502 Bad Gateway", Message: "HTTP 502 Bad Gateway"}},
		{"http 429 retry after", func(*lambdaEventIn) answer {
			return answer{status: 429, header: map[string]string{"Retry-After": "3", "X-Amzn-ErrorType": "TooManyRequestsException"},
				body: `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`}
		}, Result{StatusCode: 429, FunctionError: "HTTP 429 Too Many Requests", RetryAfter: 3 * time.Second,
			Message: `HTTP 429 Too Many Requests: TooManyRequestsException: {"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`}},
		{"redirect not followed", func(*lambdaEventIn) answer {
			return answer{status: 307, header: map[string]string{"Location": "http://elsewhere.invalid/"}}
		}, Result{StatusCode: 307, FunctionError: "HTTP 307 Temporary Redirect", Message: "HTTP 307 Temporary Redirect (redirect to http://elsewhere.invalid/ not followed)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFunction(t, tc.handle)
			l := &Lambda{URL: f.URL + "/2015-03-31/functions/function/invocations"}
			got, err := l.Invoke(context.Background(), Batch{Records: recs})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, tc.want)
			if n := len(f.received()); n != 1 {
				t.Errorf("function invoked %d times, want 1", n)
			}
		})
	}
}

func checkResult(t *testing.T, got, want Result) {
	t.Helper()
	if got.FunctionError != want.FunctionError || got.Message != want.Message || got.BadItemFailures != want.BadItemFailures ||
		got.StatusCode != want.StatusCode || got.RetryAfter != want.RetryAfter ||
		!slices.Equal(got.BatchItemFailures, want.BatchItemFailures) || !bytes.Equal(got.State, want.State) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}
}

func TestLambdaTumblingWindow(t *testing.T) {
	recs := testRecords(t, 3)
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	w := &Window{Start: start, End: start.Add(2 * time.Minute)}
	// The function counts records across the invocations of a window, as
	// the documented aggregation example does.
	f := startFunction(t, func(ev *lambdaEventIn) answer {
		var st struct {
			Count int `json:"count"`
		}
		if err := json.Unmarshal(ev.State, &st); err != nil {
			return answer{header: map[string]string{"X-Amz-Function-Error": "Unhandled"}, body: `{"errorType":"BadState","errorMessage":"state"}`}
		}
		st.Count += len(ev.Records)
		if *ev.IsFinalInvokeForWindow {
			return answer{body: `{"state":{}}`}
		}
		b, _ := json.Marshal(st)
		return answer{body: `{"state":` + string(b) + `,"batchItemFailures":[]}`}
	})
	l := &Lambda{URL: f.URL}
	b := Batch{Records: recs[:2], Window: w, ShardID: "shardId-00000001", EventSourceARN: testARN}
	r1, err := l.Invoke(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r1, Result{StatusCode: 200, State: json.RawMessage(`{"count":2}`)})

	b = Batch{Records: recs[2:], Window: w, ShardID: "shardId-00000001", EventSourceARN: testARN, State: r1.State}
	r2, err := l.Invoke(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r2, Result{StatusCode: 200, State: json.RawMessage(`{"count":3}`)})

	b = Batch{Window: w, ShardID: "shardId-00000001", EventSourceARN: testARN, State: r2.State, IsFinalInvokeForWindow: true}
	r3, err := l.Invoke(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r3, Result{StatusCode: 200, State: json.RawMessage(`{}`)})

	bodies := f.received()
	for i, want := range []struct {
		state   string
		records int
		final   bool
	}{{`{}`, 2, false}, {`{"count":2}`, 1, false}, {`{"count":3}`, 0, true}} {
		var ev lambdaEventIn
		if err := json.Unmarshal(bodies[i], &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Window == nil || ev.Window.Start != "2026-11-21T08:00:00Z" || ev.Window.End != "2026-11-21T08:02:00Z" ||
			string(ev.State) != want.state || len(ev.Records) != want.records || ev.ShardID != "shardId-00000001" ||
			ev.EventSourceARN != testARN || ev.IsFinalInvokeForWindow == nil || *ev.IsFinalInvokeForWindow != want.final ||
			ev.IsWindowTerminatedEarly == nil || *ev.IsWindowTerminatedEarly {
			t.Errorf("invocation %d: event %s", i, bodies[i])
		}
	}
}

func TestLambdaWindowAnswerWithoutState(t *testing.T) {
	recs := testRecords(t, 2)
	w := &Window{Start: time.Unix(1795248000, 0), End: time.Unix(1795248060, 0)}
	for _, tc := range []struct {
		body string
		want Result
	}{
		{`{"batchItemFailures":[]}`, Result{StatusCode: 200, FunctionError: FunctionErrorInvalidResponse,
			Message: `the answer to a tumbling-window invocation has no "state"`}},
		{`null`, Result{StatusCode: 200, FunctionError: FunctionErrorInvalidResponse,
			Message: `the answer to a tumbling-window invocation has no "state"`}},
		{`{"state":null}`, Result{StatusCode: 200, State: json.RawMessage(`{}`)}},
		{`{"state":{"a":1},"batchItemFailures":[{"itemIdentifier":"` + recs[1].SequenceNumber + `"}]}`,
			Result{StatusCode: 200, State: json.RawMessage(`{"a":1}`), BatchItemFailures: []string{recs[1].SequenceNumber}}},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f := startFunction(t, func(*lambdaEventIn) answer { return answer{body: tc.body} })
			got, err := (&Lambda{URL: f.URL}).Invoke(context.Background(), Batch{Records: recs, Window: w, State: json.RawMessage(`{"a":0}`)})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, tc.want)
		})
	}
}

// TestLambdaEventGolden compares the exact bytes a function receives with
// the files in testdata (stored indented for review; the wire form is their
// compact form). Regenerate with go test ./consumers/target -rewrite.
func TestLambdaEventGolden(t *testing.T) {
	recs := testRecords(t, 3)
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		file  string
		batch Batch
	}{
		{"event.json", Batch{Records: recs}},
		{"event_window.json", Batch{Records: recs[:2], Window: &Window{Start: start, End: start.Add(time.Minute)},
			State: json.RawMessage(`{"count": 7, "max": "<&>"}`), ShardID: "shardId-00000003",
			EventSourceARN: testARN, IsWindowTerminatedEarly: true}},
		{"event_empty_final.json", Batch{Window: &Window{Start: start, End: start.Add(time.Minute)},
			ShardID: "shardId-00000003", EventSourceARN: testARN, IsFinalInvokeForWindow: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := startFunction(t, func(*lambdaEventIn) answer { return answer{body: `{"state":{}}`} })
			if _, err := (&Lambda{URL: f.URL}).Invoke(context.Background(), tc.batch); err != nil {
				t.Fatal(err)
			}
			got := f.received()[0]
			path := filepath.Join("testdata", tc.file)
			if *rewrite {
				var out bytes.Buffer
				if err := json.Indent(&out, got, "", "  "); err != nil {
					t.Fatalf("%v: %s", err, got)
				}
				out.WriteByte('\n')
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, golden); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("event differs from %s (rerun with -rewrite and review the diff)\n got %s\nwant %s", path, got, want.Bytes())
			}
		})
	}
}

func TestLambdaLargeAnswer(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("x", MaxResponseBytes) + `"}`
	f := startFunction(t, func(*lambdaEventIn) answer { return answer{body: big} })
	got, err := (&Lambda{URL: f.URL}).Invoke(context.Background(), Batch{Records: testRecords(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, got, Result{StatusCode: 200, FunctionError: FunctionErrorUnhandled,
		Message: fmt.Sprintf("the function's answer is larger than %d bytes", MaxResponseBytes)})
}

func TestLambdaInvocationErrors(t *testing.T) {
	recs := testRecords(t, 1)
	t.Run("context", func(t *testing.T) {
		release := make(chan struct{})
		f := startFunction(t, func(*lambdaEventIn) answer { <-release; return answer{body: "null"} })
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := (&Lambda{URL: f.URL}).Invoke(ctx, Batch{Records: recs})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		f := startFunction(t, func(*lambdaEventIn) answer { return answer{} })
		url := f.URL
		f.Close()
		if _, err := (&Lambda{URL: url}).Invoke(context.Background(), Batch{Records: recs}); err == nil {
			t.Fatal("no error from a closed server")
		}
	})
	t.Run("bad state", func(t *testing.T) {
		_, err := (&Lambda{URL: "http://127.0.0.1:1"}).Invoke(context.Background(),
			Batch{Records: recs, Window: &Window{}, State: json.RawMessage(`{not json`)})
		if err == nil || !strings.Contains(err.Error(), "tumbling window") {
			t.Fatalf("err = %v, want a state encoding error", err)
		}
	})
}

// FuzzParseLambdaResponse: any answer is interpreted without a panic, and the
// result keeps the package's promises.
func FuzzParseLambdaResponse(f *testing.F) {
	recs := testRecords(f, 3)
	for _, seed := range []struct {
		status int
		fe     string
		body   string
		window bool
	}{
		{200, "", `null`, false},
		{200, "", `{"batchItemFailures":[{"itemIdentifier":"` + recs[1].SequenceNumber + `"}]}`, false},
		{200, "", `{"batchItemFailures":[{"itemIdentifier":null},{}]}`, false},
		{200, "", `{"state":{"a":[1,2]},"batchItemFailures":[]}`, true},
		{200, "Unhandled", `{"errorType":"E","errorMessage":"m"}`, false},
		{200, "", `{"errorType":"E","errorMessage":{"nested":true}}`, false},
		{200, "", "Task timed out after 1.00 seconds", true},
		{500, "", "\xff\xfe", false},
		{429, "", `{"message":"slow down"}`, false},
		{200, "", `[{"batchItemFailures":1}]`, true},
	} {
		f.Add(seed.status, seed.fe, []byte(seed.body), seed.window)
	}
	inBatch := map[string]bool{}
	for _, r := range recs {
		inBatch[r.SequenceNumber] = true
	}
	f.Fuzz(func(t *testing.T, status int, fe string, body []byte, window bool) {
		b := Batch{Records: recs}
		if window {
			b.Window = &Window{}
		}
		h := http.Header{}
		if fe != "" {
			h.Set("X-Amz-Function-Error", fe)
		}
		h.Set("Retry-After", string(body))
		r := parseLambdaResponse(status, h, body, &b, time.Unix(0, 0))
		if r.StatusCode != status {
			t.Fatalf("StatusCode %d, want %d", r.StatusCode, status)
		}
		if len(r.Message) > MaxMessageBytes || !utf8.ValidString(r.Message) {
			t.Fatalf("Message not clipped or not UTF-8: %d bytes", len(r.Message))
		}
		if r.RetryAfter < 0 || r.RetryAfter > maxRetryAfter {
			t.Fatalf("RetryAfter %v", r.RetryAfter)
		}
		for _, id := range r.BatchItemFailures {
			if !inBatch[id] {
				t.Fatalf("item failure %q is not a record of the batch", id)
			}
		}
		if r.Failed() && len(r.BatchItemFailures) > 0 {
			t.Fatalf("failed batch with item failures: %+v", r)
		}
		if (status < 200 || status > 299) && r.FunctionError == "" {
			t.Fatalf("status %d is not a failure", status)
		}
		if window && !r.Failed() && (r.State == nil || !json.Valid(r.State)) {
			t.Fatalf("window success without valid state: %q", r.State)
		}
	})
}
