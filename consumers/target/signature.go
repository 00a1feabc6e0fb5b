package target

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the request header that carries the signature of a
// CloudEvents delivery when CloudEvents.Secret is set.
const SignatureHeader = "Sluice-Signature"

// DefaultSignatureTolerance is how far a signature's timestamp may be from
// the receiver's clock when Verify is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

// Sign returns the SignatureHeader value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a SignatureHeader value against the exact body received: one
// of its v1 signatures must be the HMAC-SHA256 under secret of
// "<t>.<body>", and t must be within tolerance of now (0 means
// DefaultSignatureTolerance), which bounds replays. Several v1 entries are
// allowed, so that a sender can sign with an old and a new secret while a
// key rotates; unknown entries are ignored. The errors wrap
// ErrSignatureMalformed, ErrSignatureMismatch or ErrSignatureExpired.
func Verify(secret string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q is not key=value", ErrSignatureMalformed, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrSignatureMalformed)
			}
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("%w: timestamp %q", ErrSignatureMalformed, v)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex SHA-256 digest", ErrSignatureMalformed)
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case ts == "":
		return fmt.Errorf("%w: no timestamp", ErrSignatureMalformed)
	case len(sigs) == 0:
		return fmt.Errorf("%w: no v1 signature", ErrSignatureMalformed)
	case secret == "":
		return fmt.Errorf("%w: no secret to verify with", ErrSignatureMismatch)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range sigs {
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return ErrSignatureMismatch
	}
	secs, _ := strconv.ParseInt(ts, 10, 64)
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrSignatureExpired, time.Unix(secs, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	return nil
}
