package dynamodb

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
)

// fakeDB answers DescribeTable, PutItem and DeleteItem like a DynamoDB
// endpoint that applies every request, and records what it was sent.
type fakeDB struct {
	srv *httptest.Server
	// answer, if set, may replace the answer to a PutItem or DeleteItem of
	// item pk: a status and a body (status 0: apply as usual).
	answer func(op, pk, rep string) (status int, body string)
	delay  time.Duration // how long each write takes

	inFlight, maxInFlight atomic.Int64
	mu                    struct {
		sync.Mutex
		keyInFlight map[string]int
		maxPerKey   int
		applied     map[string][]string // pk -> rep values of the writes applied, in order
		bodies      []string            // every write's request body
	}
}

func newFake(t testing.TB) *fakeDB {
	f := &fakeDB{}
	f.mu.keyInFlight = map[string]int{}
	f.mu.applied = map[string][]string{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDB) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if op == "DescribeTable" {
		io.WriteString(w, `{"Table":{"TableName":"t","TableStatus":"ACTIVE"}}`)
		return
	}
	var req struct {
		Item, Key                 attr.Item
		ExpressionAttributeValues attr.Item
	}
	if err := json.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazon.coral.service#SerializationException","message":"bad body"}`)
		return
	}
	pk := req.Item["pk"].S
	if op == "DeleteItem" {
		pk = req.Key["pk"].S
	}
	rep := req.ExpressionAttributeValues[repValue].S

	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.mu.keyInFlight[pk]++
	f.mu.maxPerKey = max(f.mu.maxPerKey, f.mu.keyInFlight[pk])
	f.mu.bodies = append(f.mu.bodies, string(body))
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.mu.keyInFlight[pk]--
		f.mu.Unlock()
	}()
	time.Sleep(f.delay)

	if f.answer != nil {
		if status, resp := f.answer(op, pk, rep); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, resp)
			return
		}
	}
	f.mu.Lock()
	f.mu.applied[pk] = append(f.mu.applied[pk], rep)
	f.mu.Unlock()
	io.WriteString(w, `{}`)
}

// applied returns, per item, the rep values of the writes applied.
func (f *fakeDB) applied() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for k, v := range f.mu.applied {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// errorBody is a DynamoDB error response of the given exception.
func errorBody(typ string) string {
	return `{"__type":"com.amazonaws.dynamodb.v20120810#` + typ + `","message":"from the fake"}`
}
