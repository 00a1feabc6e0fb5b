// Package target delivers one batch of change records to a function and
// interprets its answer. The trigger runtime (package consumers) reads a
// table's stream, batches records, and calls a Target once per batch; it owns
// retries, bisecting, dead letters, checkpoints and tumbling-window
// bookkeeping. A Target makes one delivery attempt per Invoke (one request,
// or in structured mode one request per record, after a CloudEvents target's
// one-time handshake) and never retries.
//
// Guarantees: records are sent in batch order and their bytes are sent as
// they are (the Lambda record JSON is neither decoded nor re-encoded); an
// answer is read up to MaxResponseBytes; every identifier in
// Result.BatchItemFailures is a record of the batch; Result.Message is valid
// UTF-8 of at most MaxMessageBytes. Redirects are never followed. Targets are
// safe for concurrent use.
//
// # Lambda
//
// Lambda POSTs the event Lambda gives a DynamoDB trigger:
//
//	{"Records":[<record>,...]}
//
// and, with a tumbling window, also
//
//	"window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},
//	"state":{...},"shardId":"...","eventSourceARN":"...",
//	"isFinalInvokeForWindow":false,"isWindowTerminatedEarly":false
//
// The answer: a status that is not 2xx fails the batch (FunctionError
// "HTTP <code> <text>"; 429 and 503 carry Retry-After in Result.RetryAfter).
// The Invoke API marks a function error with a 200 and X-Amz-Function-Error
// (Unhandled or Handled) over an {"errorType","errorMessage"} payload; the
// Runtime Interface Emulator sends that payload without the header, and a
// timeout as plain text, so a 200 whose body is such an object, or is not
// JSON, is an Unhandled function error too. Otherwise the body is a partial
// batch response, {"batchItemFailures":[{"itemIdentifier":"<seq>"}]}: absent,
// null or empty is complete success; an itemIdentifier that is missing,
// null, empty or not a sequence number of the batch fails the whole batch
// (BadItemFailures), as Lambda does. With a tumbling window the answer must
// hold "state" (else FunctionErrorInvalidResponse); it comes back in
// Result.State.
//
// # CloudEvents
//
// CloudEvents delivers to a web hook by the CloudEvents HTTP protocol binding
// and the CloudEvents "HTTP 1.1 Web Hooks for Event Delivery" spec. Each
// record becomes a CloudEvent 1.0: id, source, type, subject and time from
// its ce- headers; the other ce- headers (sequence, partitionkey,
// correlationid, accesskeyid, sourceaddr, requestid) as extension attributes
// when present; datacontenttype application/json; data the Lambda record
// JSON. ModeBatched sends the batch as one application/cloudevents-batch+json
// POST (a JSON array of structured events); ModeStructured sends one
// application/cloudevents+json POST per record, in order, stopping at the
// first failure, which it reports as a partial batch response (see
// CloudEvents.Invoke). 200, 201, 202 and 204 are success; any other status
// fails the request, and after a 429 or 503 with Retry-After no request
// starts before that time.
//
// Abuse protection: before its first delivery a CloudEvents target sends the
// spec's validation request, OPTIONS with WebHook-Request-Origin (and
// WebHook-Request-Rate when RequestRate is set), and delivers only after a
// 200 or 204 whose WebHook-Allowed-Origin is the origin or "*". Success is
// remembered; a refusal makes Invoke fail with ErrHandshakeRefused and the
// next Invoke asks again. WebHook-Allowed-Rate (requests per minute) paces
// every later request, across concurrent invocations. Every delivery carries
// WebHook-Request-Origin. The spec's asynchronous form (a
// WebHook-Request-Callback URL the target calls later) is not supported: it
// needs a listener that the sender does not have, and a receiver that can
// answer OPTIONS has no need of it. NoHandshake skips the handshake for
// receivers that do not implement it.
//
// # Signatures
//
// When CloudEvents.Secret is set, every delivery carries
//
//	Sluice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(Secret, "<t>.<body>")>
//
// computed over the exact body bytes sent, in the manner of Stripe and
// Standard Webhooks. A receiver checks it with Verify before decoding the
// body: the MAC must match and t must be within a tolerance (default five
// minutes) of its clock, which bounds replays; a receiver that must not
// process a delivery twice also remembers the ce ids it has seen. Several v1
// entries may appear during a key rotation; one matching suffices.
package target
