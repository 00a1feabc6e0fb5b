package search

import (
	"math"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, tc := range []token{
		{query: 0, score: 0, id: "x"},
		{query: fingerprint("shoes"), score: 1.2345678901234567, id: `{"pk":{"S":"a"}}`},
		{query: math.MaxUint32, score: -0.5, id: "\x00\xff"},
		{query: 7, score: math.SmallestNonzeroFloat64, id: "ü"},
	} {
		s := encodeToken(tc)
		got, err := decodeToken(s)
		if err != nil || got != tc {
			t.Errorf("decodeToken(encodeToken(%+v)) = %+v, %v", tc, got, err)
		}
	}
	for _, s := range []string{"", "AQ", "!!!", encodeToken(token{id: "x"})[:17], encodeToken(token{id: "x"}) + "="} {
		if _, err := decodeToken(s); err == nil {
			t.Errorf("decodeToken(%q) accepted it", s)
		}
	}
	for _, bad := range []token{{score: math.NaN(), id: "x"}, {score: math.Inf(1), id: "x"}, {score: 1}} {
		if _, err := decodeToken(encodeToken(bad)); err == nil {
			t.Errorf("decodeToken accepted %+v", bad)
		}
	}
}

// FuzzNextToken: decoding never panics, and a token that decodes is the
// one encoding of what it decodes to (so a client cannot make two tokens
// for one position, and a decoded token re-encodes as sent).
func FuzzNextToken(f *testing.F) {
	f.Add(encodeToken(token{query: fingerprint("shoes"), score: 0.75, id: `{"pk":{"S":"a"}}`}))
	f.Add("")
	f.Add("AQAAAAA")
	f.Add("AQAAAAB_8AAAAAAAAHg")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeToken(s)
		if err != nil {
			return
		}
		if again := encodeToken(tok); again != s {
			t.Fatalf("decodeToken(%q) = %+v, which encodes as %q", s, tok, again)
		}
		if math.IsNaN(tok.score) || math.IsInf(tok.score, 0) || tok.id == "" {
			t.Fatalf("decodeToken(%q) = %+v: not a position", s, tok)
		}
	})
}
