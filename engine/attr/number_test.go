package attr

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

func TestParseNumber(t *testing.T) {
	// Canonical forms checked against DynamoDB Local's GetItem output.
	for _, tc := range []struct{ in, want string }{
		{"1.50", "1.5"},
		{"-0", "0"},
		{"0.0", "0"},
		{"-0.0e5", "0"},
		{"1E+2", "100"},
		{"1e5", "100000"},
		{"0.001", "0.001"},
		{"00042", "42"},
		{"+1", "1"},
		{".5", "0.5"},
		{"5.", "5"},
		{"1.e1", "10"},
		{"-.5e-3", "-0.0005"},
		{"3.1400", "3.14"},
		{"1.5E2", "150"},
		{"1E+0125", "1" + strings.Repeat("0", 125)},
		{"1E+125", "1" + strings.Repeat("0", 125)},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"-1E-130", "-0." + strings.Repeat("0", 129) + "1"},
		{"9.9999999999999999999999999999999999999E+125", strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"12345678901234567890123456789012345678000", "12345678901234567890123456789012345678000"},
		{"0.000000000000000000000000000000000000000000012345678901234567890123456789012345678", "0.000000000000000000000000000000000000000000012345678901234567890123456789012345678"},
		{"1E2147483647", "!overflow"},
		{"1E+126", "!overflow"},
		{"-1E+126", "!overflow"},
		{"1E-131", "!underflow"},
		{"0.1E-130", "!underflow"},
		{"123456789012345678901234567890123456789", "!digits"},
		{"-1.23456789012345678901234567890123456789", "!digits"},
		{"1234567890123456789012345678901234567891E+200", "!digits"},
		{"", "!syntax"},
		{" 5", "!syntax"},
		{"5 ", "!syntax"},
		{"0x10", "!syntax"},
		{"Infinity", "!syntax"},
		{"NaN", "!syntax"},
		{"-", "!syntax"},
		{".", "!syntax"},
		{"1E", "!syntax"},
		{"1e+", "!syntax"},
		{"--1", "!syntax"},
		{"1_000", "!syntax"},
		// Exponents as DynamoDB reads them (recorded from DynamoDB in
		// paritysuite/dynamodb-conformance, tier3 limits/numberExponent):
		// past 32 bits they still overflow or underflow, past 64 bits the
		// text is not a number; zero is range-checked by its exponent.
		{"1E2147483648", "!overflow"},
		{"1e99999999999", "!overflow"},
		{"-1e99999999999", "!overflow"},
		{"1E-2147483648", "!underflow"},
		{"1e-99999999999", "!underflow"},
		{"0e-99999999999", "!underflow"},
		{"1e9223372036854775807", "!overflow"},
		{"1e-9223372036854775808", "!underflow"},
		{"1e9223372036854775808", "!syntax"},
		{"1e-9223372036854775809", "!syntax"},
		{"1e99999999999999999999", "!syntax"},
		{"0e126", "!overflow"},
		{"0E+999", "!overflow"},
		{"0e-131", "!underflow"},
		{"0.0e-130", "!underflow"},
		{"0e125", "0"},
		{"0e-130", "0"},
		{"00.00e127", "0"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseNumber(tc.in)
			if !strings.HasPrefix(tc.want, "!") {
				if err != nil || string(got) != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			want := map[string]string{
				"!overflow":  "Number overflow. Attempting to store a number with magnitude larger than supported range",
				"!underflow": "Number underflow. Attempting to store a number with magnitude smaller than supported range",
				"!digits":    "Attempting to store more than 38 significant digits in a Number",
				"!syntax":    "The parameter cannot be converted to a numeric value",
			}[tc.want]
			if tc.want == "!syntax" && tc.in != "" {
				want += ": " + tc.in
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != ErrValidation || ae.Msg != want {
				t.Fatalf("got %q, %v; want error %q", got, err, want)
			}
		})
	}
}

func TestCompareNumbers(t *testing.T) {
	// In ascending order.
	sorted := []string{"-1E+125", "-100", "-12.5", "-12", "-1.5", "-1", "-0.5", "-0.05", "-1E-130",
		"0", "1E-130", "0.0001", "0.05", "0.5", "0.55", "1", "1.05", "1.5", "2", "10", "12", "100", "1E+125"}
	for i, a := range sorted {
		for j, b := range sorted {
			x, _ := ParseNumber(a)
			y, _ := ParseNumber(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareNumbers(x, y); got != want {
				t.Errorf("CompareNumbers(%s, %s) = %d, want %d", a, b, got, want)
			}
			if got := x.Decimal().Cmp(y.Decimal()); got != want {
				t.Errorf("apd disagrees on %s, %s", a, b)
			}
		}
	}
}

func TestDecimal(t *testing.T) {
	n, _ := ParseNumber("-1.50E3")
	d := n.Decimal()
	want := apd.New(-15, 2)
	if d.Cmp(want) != 0 {
		t.Fatalf("got %s, want %s", d, want)
	}
}

// FuzzParseNumber: parsing never panics, the canonical form is a fixed
// point, and it denotes the same value apd reads from the input.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.50", "1E+2", "0.001", "1E-130", "9.9999999999999999999999999999999999999E+125",
		"12345678901234567890123456789012345678", ".5", "5.", "+1", "1e", "NaN", "1E2147483647", "-.5e-3", "00042000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		again, err := ParseNumber(string(n))
		if err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v", s, n, again, err)
		}
		if strings.ContainsAny(string(n), "eE+") {
			t.Fatalf("%q: canonical form %q has an exponent", s, n)
		}
		want, _, err := apd.NewFromString(s)
		if err != nil {
			return // apd reads less than DynamoDB (e.g. "5.")
		}
		if n.Decimal().Cmp(want) != 0 {
			t.Fatalf("%q: canonical %q differs in value from %s", s, n, want)
		}
	})
}
