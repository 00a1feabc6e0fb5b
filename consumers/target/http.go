package target

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxRetryAfter bounds an endpoint's Retry-After, so that a mistaken or
// hostile value cannot stall a shard for days.
const maxRetryAfter = time.Hour

// withClient returns the client to send with: c (nil: a new client with the
// given timeout) with redirects turned off. The CloudEvents web-hook spec
// forbids following them, and a function endpoint has no reason to redirect;
// a 3xx is reported as a failure. c itself is not modified.
func withClient(c *http.Client, timeout time.Duration) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = timeout
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// readCapped reads r up to limit bytes; over reports that there was more.
func readCapped(r io.Reader, limit int64) (b []byte, over bool, err error) {
	b, err = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return b[:limit], true, err
	}
	return b, false, err
}

// statusFailure names a failed HTTP status for Result.FunctionError.
func statusFailure(code int) string {
	if t := http.StatusText(code); t != "" {
		return "HTTP " + strconv.Itoa(code) + " " + t
	}
	return "HTTP " + strconv.Itoa(code)
}

// describeStatus is the Message of a failed HTTP status: the status, the
// error type header if any, and the start of the body.
func describeStatus(code int, h http.Header, body []byte) string {
	var sb strings.Builder
	sb.WriteString(statusFailure(code))
	switch {
	case code == http.StatusGone:
		sb.WriteString(" (the endpoint is retired)")
	case code >= 300 && code < 400:
		sb.WriteString(" (redirect to " + h.Get("Location") + " not followed)")
	}
	if t := h.Get("X-Amzn-ErrorType"); t != "" {
		sb.WriteString(": " + t)
	}
	if b := bytes.TrimSpace(body); len(b) > 0 {
		sb.WriteString(": ")
		sb.Write(b)
	}
	return clip(sb.String())
}

// clip makes s a valid Result.Message: valid UTF-8 of at most
// MaxMessageBytes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxMessageBytes {
		return s
	}
	const ellipsis = "…"
	cut := MaxMessageBytes - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// retryAfter parses a Retry-After value (delay-seconds or an HTTP date) at
// now; 0 if absent, malformed or past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// throttled reports whether a status may carry a Retry-After to honour.
func throttled(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// drain reads what is left of an answer (up to a bound) so that the
// connection can be reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
