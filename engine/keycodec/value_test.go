package keycodec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

func num(t testing.TB, s string) attr.Value {
	t.Helper()
	n, err := attr.ParseNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return attr.N(n)
}

// TestEncodingExamples pins the bytes of doc.go's examples: they are the
// on-disk format.
func TestEncodingExamples(t *testing.T) {
	for _, tc := range []struct {
		v    attr.Value
		want string
	}{
		{attr.S("a\x00b"), "6100ff620001"},
		{attr.S(""), "0001"},
		{attr.B([]byte{0x00, 0xff}), "00ffff0001"},
		{num(t, "0"), "02"},
		{num(t, "1"), "03820b00"},
		{num(t, "1.5"), "03821000"},
		{num(t, "150"), "03841000"},
		{num(t, "100"), "03840b00"},
		{num(t, "-1"), "017df4ff"},
		{num(t, "1E-130"), "03000b00"},
		{num(t, "1E+125"), "03ff0b00"},
		{num(t, "12345678901234567890123456789012345678"), "03a7" + "0d23394f5b0d23394f5b0d23394f5b0d23394f" + "00"},
	} {
		got := hex.EncodeToString(AppendValue(nil, tc.v))
		if got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestOrderAndRoundTrip(t *testing.T) {
	numbers := []string{"-9.9999999999999999999999999999999999999E+125", "-1E+125", "-1000", "-100.5", "-100", "-12.5", "-12", "-10", "-1.55",
		"-1.5", "-1.05", "-1", "-0.5", "-0.05", "-1E-130", "0", "1E-130", "0.05", "0.5", "1", "1.05", "1.5", "1.55", "10", "12", "12.5",
		"100", "100.5", "1000", "12345678901234567890123456789012345678", "1E+125", "9.9999999999999999999999999999999999999E+125"}
	var vals []attr.Value
	for _, s := range numbers {
		vals = append(vals, num(t, s))
	}
	checkSorted(t, attr.TypeN, vals)
	checkSorted(t, attr.TypeS, []attr.Value{attr.S(""), attr.S("\x00"), attr.S("\x00\x00"), attr.S("\x00\x01"), attr.S("\x01"),
		attr.S("a"), attr.S("a\x00"), attr.S("a\x00b"), attr.S("a\x01"), attr.S("ab"), attr.S("b"), attr.S("\u00e9"), attr.S("\uffff"), attr.S("\U00010000")})
	checkSorted(t, attr.TypeB, []attr.Value{attr.B([]byte{}), attr.B([]byte{0}), attr.B([]byte{0, 0}), attr.B([]byte{0, 0xff}), attr.B([]byte{1}),
		attr.B([]byte{1, 2}), attr.B([]byte{2}), attr.B([]byte{0x7f}), attr.B([]byte{0x80}), attr.B([]byte{0xff}), attr.B([]byte{0xff, 0})})
}

// checkSorted checks that vals (ascending) encode in ascending byte order,
// also when followed by a sort key, and that each decodes back.
func checkSorted(t *testing.T, typ attr.Type, vals []attr.Value) {
	t.Helper()
	for i, a := range vals {
		ea := AppendValue(nil, a)
		got, rest, err := DecodeValue(append(ea, 0xAB), typ)
		if err != nil || !attr.Equal(got, a) || !bytes.Equal(rest, []byte{0xAB}) {
			t.Fatalf("%v: decoded %v, rest %x, %v", a, got, rest, err)
		}
		for j, b := range vals {
			eb := AppendValue(nil, b)
			want := cmpInt(i, j)
			if got := bytes.Compare(ea, eb); got != want {
				t.Errorf("%v vs %v: bytes.Compare = %d, want %d", a, b, got, want)
			}
			// pk then sk: the sk must never override the pk order.
			if i != j {
				x := AppendValue(AppendValue(nil, a), vals[len(vals)-1])
				y := AppendValue(AppendValue(nil, b), vals[0])
				if got := bytes.Compare(x, y); got != want {
					t.Errorf("(%v, max) vs (%v, min): %d, want %d", a, b, got, want)
				}
			}
		}
	}
}

func cmpInt(i, j int) int {
	switch {
	case i < j:
		return -1
	case i > j:
		return 1
	}
	return 0
}

func TestDecodeCorrupt(t *testing.T) {
	for _, tc := range []struct {
		in  string
		typ attr.Type
	}{
		{"", attr.TypeS},
		{"61", attr.TypeS},
		{"6100", attr.TypeS},
		{"610002", attr.TypeB},
		{"", attr.TypeN},
		{"05", attr.TypeN},
		{"03", attr.TypeN},
		{"0382", attr.TypeN},
		{"038200", attr.TypeN},
		{"038265", attr.TypeN},
		{"03ff6565656565656565656565656565656565656565656500", attr.TypeN}, // > 38 digits
		{"03ff0bff", attr.TypeN},
	} {
		in, _ := hex.DecodeString(tc.in)
		if _, _, err := DecodeValue(in, tc.typ); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s as %v: got %v", tc.in, tc.typ, err)
		}
	}
	if _, _, err := DecodeValue([]byte{2}, attr.TypeBOOL); err == nil {
		t.Error("BOOL key accepted")
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		v    attr.Value
		typ  byte
		want string
	}{
		{attr.S("abc"), 'S', "abc"},
		{num(t, "1.50"), 'N', "1.5"},
		{attr.B([]byte{1, 2}), 'B', "\x01\x02"},
	} {
		typ, b := Canonical(tc.v)
		if typ != tc.typ || string(b) != tc.want {
			t.Errorf("%v: got %c %q", tc.v, typ, b)
		}
	}
}

func TestAppendValuePanicsOnNonKeyType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendValue(nil, attr.Bool(true))
}

// FuzzNumberOrder: for two numbers that parse, byte order of the encodings
// is numeric order, and both decode back to their canonical text.
func FuzzNumberOrder(f *testing.F) {
	for _, p := range [][2]string{{"1", "2"}, {"-1", "1"}, {"0", "-0"}, {"1.5", "1.55"}, {"-1.5", "-1.55"}, {"100", "1E2"},
		{"1E-130", "9.9999999999999999999999999999999999999E+125"}, {"0.001", "-0.001"}, {"12.5", "125"}, {"99", "100"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, err1 := attr.ParseNumber(a)
		y, err2 := attr.ParseNumber(b)
		if err1 != nil || err2 != nil {
			return
		}
		ex, ey := AppendValue(nil, attr.N(x)), AppendValue(nil, attr.N(y))
		if got, want := bytes.Compare(ex, ey), attr.CompareNumbers(x, y); got != want {
			t.Fatalf("order broken: %s vs %s: bytes %d, numbers %d", x, y, got, want)
		}
		if got, want := bytes.Compare(ex, ey), x.Decimal().Cmp(y.Decimal()); got != want {
			t.Fatalf("order disagrees with apd: %s vs %s", x, y)
		}
		for _, c := range []struct {
			n attr.Number
			e []byte
		}{{x, ex}, {y, ey}} {
			v, rest, err := DecodeValue(append(c.e, ey...), attr.TypeN)
			if err != nil || v.N != c.n || !bytes.Equal(rest, ey) {
				t.Fatalf("%s: decoded %q, rest %x, %v", c.n, v.N, rest, err)
			}
		}
	})
}

func fuzzBytesOrder(t *testing.T, typ attr.Type, mk func([]byte) attr.Value, a, b, sk1, sk2 []byte) {
	va, vb := mk(a), mk(b)
	ea, eb := AppendValue(nil, va), AppendValue(nil, vb)
	if got, want := bytes.Compare(ea, eb), attr.Compare(va, vb); got != want {
		t.Fatalf("order broken: %q vs %q: %d, want %d", a, b, got, want)
	}
	// Concatenated with sort keys, order is (pk, sk).
	ka := AppendValue(AppendValue(nil, va), mk(sk1))
	kb := AppendValue(AppendValue(nil, vb), mk(sk2))
	want := attr.Compare(va, vb)
	if want == 0 {
		want = attr.Compare(mk(sk1), mk(sk2))
	}
	if got := bytes.Compare(ka, kb); got != want {
		t.Fatalf("(pk, sk) order broken: (%q,%q) vs (%q,%q)", a, sk1, b, sk2)
	}
	v, rest, err := DecodeValue(ka, typ)
	if err != nil || !attr.Equal(v, va) {
		t.Fatalf("decode %q: %v, %v", a, v, err)
	}
	s, rest, err := DecodeValue(rest, typ)
	if err != nil || !attr.Equal(s, mk(sk1)) || len(rest) != 0 {
		t.Fatalf("decode sort key %q: %v, %x, %v", sk1, s, rest, err)
	}
}

func FuzzStringOrder(f *testing.F) {
	for _, s := range [][4]string{{"a", "b", "x", "y"}, {"a", "a\x00", "", "\x00"}, {"a\x00b", "a\x01", "\xff", "\x00\x01"}, {"", "", "b", "a"}, {"é", "z", strings.Repeat("\x00", 3), "\x00\xff"}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, a, b, sk1, sk2 string) {
		fuzzBytesOrder(t, attr.TypeS, func(p []byte) attr.Value { return attr.S(string(p)) }, []byte(a), []byte(b), []byte(sk1), []byte(sk2))
	})
}

func FuzzBinaryOrder(f *testing.F) {
	for _, s := range [][4][]byte{{{1}, {2}, {0}, {0xff}}, {{0}, {0, 0}, {}, {0, 1}}, {{0xff}, {0xff, 0}, {0, 0xff}, {0}}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, a, b, sk1, sk2 []byte) {
		fuzzBytesOrder(t, attr.TypeB, attr.B, a, b, sk1, sk2)
	})
}
