package target

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1795248000, 0)
	body := []byte(`[{"specversion":"1.0","id":"a"}]`)
	good := Sign("k1", now, body)
	if want := "t=1795248000,v1="; !strings.HasPrefix(good, want) || len(good) != len(want)+64 {
		t.Fatalf("Sign = %q", good)
	}
	v1 := strings.TrimPrefix(good, "t=1795248000,")
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		tol    time.Duration
		want   error // nil: accepted
	}{
		{"valid", "k1", good, string(body), now, 0, nil},
		{"valid later within tolerance", "k1", good, string(body), now.Add(4 * time.Minute), 0, nil},
		{"valid with own tolerance", "k1", good, string(body), now.Add(time.Hour), 2 * time.Hour, nil},
		{"spaces and unknown entries", "k1", " t=1795248000 , v0=zz, " + v1, string(body), now, 0, nil},
		{"rotation: one of two matches", "k1", Sign("k0", now, body) + "," + v1, string(body), now, 0, nil},
		{"modified body", "k1", good, string(body) + " ", now, 0, ErrSignatureMismatch},
		{"modified data", "k1", good, strings.Replace(string(body), `"a"`, `"b"`, 1), now, 0, ErrSignatureMismatch},
		{"wrong secret", "k2", good, string(body), now, 0, ErrSignatureMismatch},
		{"no secret", "", good, string(body), now, 0, ErrSignatureMismatch},
		{"timestamp changed", "k1", "t=1795248001," + v1, string(body), now, 0, ErrSignatureMismatch},
		{"old timestamp", "k1", good, string(body), now.Add(6 * time.Minute), 0, ErrSignatureExpired},
		{"old timestamp, own tolerance", "k1", good, string(body), now.Add(2 * time.Second), time.Second, ErrSignatureExpired},
		{"future timestamp", "k1", good, string(body), now.Add(-6 * time.Minute), 0, ErrSignatureExpired},
		{"empty", "k1", "", string(body), now, 0, ErrSignatureMalformed},
		{"no timestamp", "k1", v1, string(body), now, 0, ErrSignatureMalformed},
		{"no signature", "k1", "t=1795248000", string(body), now, 0, ErrSignatureMalformed},
		{"two timestamps", "k1", "t=1,t=2," + v1, string(body), now, 0, ErrSignatureMalformed},
		{"bad timestamp", "k1", "t=soon," + v1, string(body), now, 0, ErrSignatureMalformed},
		{"bad hex", "k1", "t=1795248000,v1=xyz", string(body), now, 0, ErrSignatureMalformed},
		{"short digest", "k1", "t=1795248000,v1=abcd", string(body), now, 0, ErrSignatureMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, []byte(tc.body), tc.now, tc.tol)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
