package filter

import (
	"math/big"
	"testing"
)

func TestCmpDecimal(t *testing.T) {
	for _, tc := range []struct {
		x, y string
		want int
	}{
		{"0", "0", 0},
		{"-0", "0", 0},
		{"0.000", "-0e5", 0},
		{"1", "1.0", 0},
		{"100", "1e2", 0},
		{"100", "1E+2", 0},
		{"301.8", "3.018e2", 0},
		{"0.001", "1e-3", 0},
		{"123.450", "123.45", 0},
		{"0012", "12", 0}, // not JSON, but leading zeros must not confuse the order
		{"1", "2", -1},
		{"2", "10", -1},
		{"9.99", "10", -1},
		{"-1", "1", -1},
		{"-10", "-9", -1},
		{"-0.5", "0", -1},
		{"0", "0.000001", -1},
		{"4999999999.9999999999999999", "5e9", -1},
		{"1e-300", "1e-299", -1},
		{"1e300", "5000000000", 1},
		{"-1e300", "-5000000000", -1},
		{"1e999999999999999999999", "1e300", 1},
		{"1e-999999999999999999999", "1e-300", -1},
		{"0.1", "0.09999999999999999999", 1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
	} {
		x, y := parseDecimal([]byte(tc.x)), parseDecimal([]byte(tc.y))
		if got := cmpDecimal(&x, &y); got != tc.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tc.x, tc.y, got, tc.want)
		}
		if got := cmpDecimal(&y, &x); got != -tc.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tc.y, tc.x, got, -tc.want)
		}
	}
}

func TestFracPlaces(t *testing.T) {
	for _, tc := range []struct {
		x    string
		want int64
	}{
		{"0", 0}, {"12", 0}, {"1.0", 0}, {"1.5", 1}, {"0.000001", 6}, {"0.0000001", 7},
		{"1e-6", 6}, {"1.5e-6", 7}, {"0.5e1", 0}, {"0.05e1", 1}, {"1234.5670000", 3}, {"12e3", 0},
	} {
		x := parseDecimal([]byte(tc.x))
		if got := x.fracPlaces(); got != tc.want {
			t.Errorf("fracPlaces(%s) = %d, want %d", tc.x, got, tc.want)
		}
	}
}

// FuzzCmpDecimal checks cmpDecimal against big.Rat for numbers with small
// exponents.
func FuzzCmpDecimal(f *testing.F) {
	f.Add("1.5", "15e-1")
	f.Add("-0", "0.0")
	f.Add("123.456", "-123.457")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !isSmallNumber(a) || !isSmallNumber(b) {
			t.Skip()
		}
		x, y := parseDecimal([]byte(a)), parseDecimal([]byte(b))
		want := refRat(a).Cmp(refRat(b))
		if got := cmpDecimal(&x, &y); got != want {
			t.Fatalf("cmp(%s, %s) = %d, big.Rat says %d", a, b, got, want)
		}
	})
}

// isSmallNumber reports whether s is a JSON number with a short exponent.
func isSmallNumber(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	if end, ok := scanNumber([]byte(s), 0); !ok || end != len(s) {
		return false
	}
	for i := range len(s) {
		if (s[i] == 'e' || s[i] == 'E') && len(s)-i > 4 {
			return false
		}
	}
	_, ok := new(big.Rat).SetString(s)
	return ok
}
