package filter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// toAny converts node n of d to the value encoding/json would decode (with
// UseNumber), for comparing the two readers.
func toAny(d *doc, n int32) any {
	switch d.nodes[n].kind {
	case kindNull:
		return nil
	case kindFalse:
		return false
	case kindTrue:
		return true
	case kindNumber:
		return json.Number(d.bytes(n))
	case kindString:
		return string(d.bytes(n))
	case kindArray:
		out := []any{}
		for _, e := range d.children(n) {
			out = append(out, toAny(d, e))
		}
		return out
	}
	out := map[string]any{}
	for _, m := range d.children(n) {
		out[string(d.key(m))] = toAny(d, m)
	}
	return out
}

// checkParse compares the package's reader with encoding/json on b.
func checkParse(t *testing.T, b []byte) {
	t.Helper()
	var d doc
	ok := d.parse(b)
	if valid := json.Valid(b); ok != valid {
		t.Fatalf("parse(%q) = %v, json.Valid = %v", b, ok, valid)
	}
	if !ok {
		return
	}
	want, _ := refDecode(b)
	if got := toAny(&d, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("parse(%q) read %#v\nencoding/json read %#v", b, got, want)
	}
	// Parsing again into the same doc gives the same tree.
	d.parse(b)
	if got := toAny(&d, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("reparse(%q) read %#v, want %#v", b, got, want)
	}
}

var parseSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.5E+3`, `true`, `false`, `null`,
	` {"a" : [1, "x", null, true, false, {"b": []}] } `,
	`{"a":1,"a":2}`,
	`"\" \\ \/ \b \f \n \r \t \u00e9 \u20AC \ud83d\ude00"`,
	`"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ud83dx"`, `"\ud83d\ud83d\ude00"`,
	"\"\xff\xfe\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"ok \xe2\x82\xac\"",
	`{"\u0061": 1}`, `{"a\"b": "c\\d"}`,
	`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `0x10`, `1.5e3.2`, `NaN`, `Infinity`,
	`"\x"`, `"\u12"`, `"\u12G4"`, "\"a\x01b\"", `"abc`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`,
	`[1 2]`, `{"a":1}}`, `tru`, `nul`, `falsey`, `[] []`, "\ufeff{}", "{}\x00",
	recSluice, recTTL, recChocolate,
}

func TestParse(t *testing.T) {
	for _, s := range parseSeeds {
		checkParse(t, []byte(s))
	}
	// encoding/json's nesting limit is 10000. (Not fuzz seeds: inputs this
	// big slow the fuzzer down a hundredfold.)
	for _, s := range []string{
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat("}", 10000),
		strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat("}", 10001),
	} {
		checkParse(t, []byte(s))
	}
}

// FuzzParse checks that the package's reader accepts exactly what
// encoding/json accepts and reads the same values.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
	})
}

func TestMember(t *testing.T) {
	var d doc
	if !d.parse([]byte(`{"a": 1, "b": {"c": 2}, "a": 3}`)) {
		t.Fatal("parse failed")
	}
	if got := string(d.bytes(d.member(0, "a"))); got != "3" {
		t.Errorf("member a = %s, want the last one, 3", got)
	}
	b := d.member(0, "b")
	if got := string(d.bytes(d.member(b, "c"))); got != "2" {
		t.Errorf("member b.c = %s, want 2", got)
	}
	if d.member(0, "x") != -1 || d.member(-1, "a") != -1 || d.member(d.member(0, "a"), "a") != -1 {
		t.Errorf("member of a missing name, a missing node or a scalar is not -1")
	}
}
