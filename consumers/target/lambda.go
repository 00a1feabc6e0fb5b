package target

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/sluicedb/sluice/engine/invariants"
)

// DefaultLambdaTimeout bounds an invocation when Lambda.Client is nil:
// Lambda's longest function timeout (15 minutes) and a minute for the cold
// start and the network. A shorter bound would abandon invocations that are
// still running and so run the batch twice.
const DefaultLambdaTimeout = 16 * time.Minute

// Lambda POSTs the Lambda DynamoDB event to URL, the invocation path of the
// AWS Lambda Runtime Interface Emulator
// (http://host:9000/2015-03-31/functions/function/invocations) or of the
// Lambda Invoke API (whose SigV4 signing is the Client's Transport's job).
// The invocation type is RequestResponse.
type Lambda struct {
	URL    string
	Client *http.Client // nil: a client with DefaultLambdaTimeout
}

// Invoke sends b as one Lambda event and interprets the answer.
func (l *Lambda) Invoke(ctx context.Context, b Batch) (Result, error) {
	parts, n, err := lambdaEvent(&b)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("building the invocation request: %w", err)
	}
	// The body is the records' own bytes between the event's punctuation,
	// written as they are: a 6 MB batch is not copied into one buffer.
	body := slices.Clone(parts)
	req.Body = io.NopCloser(&body)
	req.GetBody = func() (io.ReadCloser, error) {
		again := slices.Clone(parts)
		return io.NopCloser(&again), nil
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")

	resp, err := withClient(l.Client, DefaultLambdaTimeout).Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoking the function: %w", err)
	}
	defer resp.Body.Close()
	answer, over, err := readCapped(resp.Body, MaxResponseBytes)
	if err != nil {
		return Result{}, fmt.Errorf("reading the function's answer: %w", err)
	}
	if over {
		return Result{
			FunctionError: FunctionErrorUnhandled,
			Message:       fmt.Sprintf("the function's answer is larger than %d bytes", MaxResponseBytes),
			StatusCode:    resp.StatusCode,
		}, nil
	}
	return parseLambdaResponse(resp.StatusCode, resp.Header, answer, &b, time.Now()), nil
}

// windowFields are the members a tumbling window adds to the event, in the
// order Lambda writes them.
type windowFields struct {
	Window struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"window"`
	State                   json.RawMessage `json:"state"`
	ShardID                 string          `json:"shardId"`
	EventSourceARN          string          `json:"eventSourceARN"`
	IsFinalInvokeForWindow  bool            `json:"isFinalInvokeForWindow"`
	IsWindowTerminatedEarly bool            `json:"isWindowTerminatedEarly"`
}

// lambdaEvent lays out the event of b as pieces to write in order, and their
// total length:
//
//	{"Records":[ rec , rec , ... ] }                            no window
//	{"Records":[ rec , ... ] ,"window":{...},"state":...,...}   tumbling window
func lambdaEvent(b *Batch) (net.Buffers, int64, error) {
	parts := make(net.Buffers, 0, 2*len(b.Records)+2)
	parts = append(parts, []byte(`{"Records":[`))
	for i, r := range b.Records {
		if invariants.Enabled && !json.Valid(r.Lambda) {
			panic(fmt.Sprintf("target: record %s: Lambda JSON is not valid: %q", r.SequenceNumber, r.Lambda))
		}
		if i > 0 {
			parts = append(parts, []byte{','})
		}
		parts = append(parts, r.Lambda)
	}
	if b.Window == nil {
		parts = append(parts, []byte(`]}`))
	} else {
		var w windowFields
		w.Window.Start = b.Window.Start.UTC().Format(time.RFC3339Nano)
		w.Window.End = b.Window.End.UTC().Format(time.RFC3339Nano)
		w.State = b.State
		if len(bytes.TrimSpace(w.State)) == 0 {
			w.State = json.RawMessage(`{}`)
		}
		w.ShardID = b.ShardID
		w.EventSourceARN = b.EventSourceARN
		w.IsFinalInvokeForWindow = b.IsFinalInvokeForWindow
		w.IsWindowTerminatedEarly = b.IsWindowTerminatedEarly
		// An Encoder, to keep the state's <, > and & as the function
		// wrote them (json.Marshal would escape them).
		var tail bytes.Buffer
		enc := json.NewEncoder(&tail)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&w); err != nil {
			return nil, 0, fmt.Errorf("encoding the tumbling window fields: %w", err)
		}
		t := bytes.TrimSuffix(tail.Bytes(), []byte{'\n'})
		t[0] = ',' // {"window":...} continues the event object
		parts = append(parts, []byte{']'}, t)
	}
	var n int64
	for _, p := range parts {
		n += int64(len(p))
	}
	return parts, n, nil
}

// Names in the answer, matched exactly (encoding/json would match them
// case-insensitively).
const (
	keyItemFailures  = "batchItemFailures"
	keyItemID        = "itemIdentifier"
	keyState         = "state"
	keyErrorType     = "errorType"
	keyErrorMessage  = "errorMessage"
	hdrFunctionError = "X-Amz-Function-Error"
)

// parseLambdaResponse interprets a function's answer to the event of b:
//
//   - a status that is not 2xx is a failure named by the status;
//   - X-Amz-Function-Error marks a function error, its payload the message;
//   - a body that is not JSON is an unhandled error (the Runtime Interface
//     Emulator answers a timeout with 200 and plain text), and so is a JSON
//     object with "errorType" and "errorMessage" (the emulator answers a
//     failed handler with 200 and that payload, without the header);
//   - otherwise "batchItemFailures" is the partial batch response: absent,
//     null or empty is complete success, and any itemIdentifier that is
//     missing, null, empty, not a string or not a record of b fails the
//     whole batch (BadItemFailures);
//   - with a tumbling window, an answer without "state" is a failed
//     invocation; "state": null is taken as {}.
//
// A JSON answer that is not an object (null, a string) is success without
// item failures, as Lambda takes a null or empty response.
func parseLambdaResponse(status int, h http.Header, body []byte, b *Batch, now time.Time) Result {
	r := Result{StatusCode: status}
	if status < 200 || status > 299 {
		r.FunctionError = statusFailure(status)
		r.Message = describeStatus(status, h, body)
		if throttled(status) {
			r.RetryAfter = retryAfter(h.Get("Retry-After"), now)
		}
		return r
	}
	if fe := h.Get(hdrFunctionError); fe != "" {
		r.FunctionError = fe
		r.Message = errorPayloadMessage(body)
		return r
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && !json.Valid(body) {
		r.FunctionError = FunctionErrorUnhandled
		r.Message = clip("the function's answer is not JSON: " + string(body))
		return r
	}
	var obj map[string]json.RawMessage
	if len(body) > 0 && body[0] == '{' {
		if err := json.Unmarshal(body, &obj); err != nil {
			// Unreachable for valid JSON; kept as a failure, not a panic.
			r.FunctionError = FunctionErrorUnhandled
			r.Message = clip("decoding the function's answer: " + err.Error())
			return r
		}
		_, hasType := obj[keyErrorType]
		_, hasMsg := obj[keyErrorMessage]
		if hasType && hasMsg {
			r.FunctionError = FunctionErrorUnhandled
			r.Message = errorPayloadMessage(body)
			return r
		}
	}
	if raw, ok := obj[keyItemFailures]; ok {
		ids, msg := itemFailures(raw, b)
		if msg != "" {
			r.BadItemFailures = true
			r.Message = clip(msg)
			return r
		}
		r.BatchItemFailures = ids
	}
	if raw, ok := obj[keyState]; ok {
		if isNull(raw) {
			r.State = json.RawMessage(`{}`)
		} else {
			r.State = bytes.Clone(raw)
		}
	}
	if b.Window != nil && r.State == nil {
		r.FunctionError = FunctionErrorInvalidResponse
		r.Message = `the answer to a tumbling-window invocation has no "state"`
		r.BatchItemFailures = nil
	}
	return r
}

// itemFailures decodes a batchItemFailures value against b: the identifiers,
// or a description of why the answer is malformed.
func itemFailures(raw json.RawMessage, b *Batch) ([]string, string) {
	if isNull(raw) {
		return nil, ""
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, "batchItemFailures is not a list"
	}
	if len(list) == 0 {
		return nil, ""
	}
	inBatch := make(map[string]struct{}, len(b.Records))
	for _, rec := range b.Records {
		inBatch[rec.SequenceNumber] = struct{}{}
	}
	ids := make([]string, 0, len(list))
	for i, el := range list {
		var item map[string]json.RawMessage
		if err := json.Unmarshal(el, &item); err != nil || item == nil {
			return nil, fmt.Sprintf("batchItemFailures[%d] is not an object", i)
		}
		idRaw, ok := item[keyItemID]
		if !ok {
			return nil, fmt.Sprintf("batchItemFailures[%d] has no itemIdentifier", i)
		}
		var id *string
		if err := json.Unmarshal(idRaw, &id); err != nil {
			return nil, fmt.Sprintf("batchItemFailures[%d].itemIdentifier is not a string", i)
		}
		switch {
		case id == nil:
			return nil, fmt.Sprintf("batchItemFailures[%d].itemIdentifier is null", i)
		case *id == "":
			return nil, fmt.Sprintf("batchItemFailures[%d].itemIdentifier is empty", i)
		}
		if _, ok := inBatch[*id]; !ok {
			return nil, fmt.Sprintf("batchItemFailures[%d].itemIdentifier %q is not a record of the batch", i, *id)
		}
		ids = append(ids, *id)
	}
	return ids, ""
}

// errorPayloadMessage renders a Lambda error payload
// ({"errorType":...,"errorMessage":...}) as "type: message", or the body as
// it is when it is not one.
func errorPayloadMessage(body []byte) string {
	var p struct {
		Type    json.RawMessage `json:"errorType"`
		Message json.RawMessage `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &p); err != nil || (p.Type == nil && p.Message == nil) {
		if b := bytes.TrimSpace(body); len(b) > 0 {
			return clip(string(b))
		}
		return "function error without a payload"
	}
	return clip(jsonText(p.Type) + ": " + jsonText(p.Message))
}

// jsonText is a JSON string's text, or other JSON as it is.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
