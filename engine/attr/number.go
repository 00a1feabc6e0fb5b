package attr

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// DynamoDB's number limits.
const (
	// MaxNumberDigits is the most significant digits a Number may have.
	MaxNumberDigits = 38
	// MaxNumberExp and MinNumberExp bound the adjusted exponent (the power
	// of ten of the first significant digit): magnitudes run from 1E-130 to
	// 9.9999999999999999999999999999999999999E+125.
	MaxNumberExp = 125
	MinNumberExp = -130
)

// The ValidationException messages of number parsing, word for word as
// DynamoDB sends them.
const (
	msgNumberDigits    = "Attempting to store more than 38 significant digits in a Number"
	msgNumberOverflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgNumberUnderflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgNumberSyntax    = "The parameter cannot be converted to a numeric value"
)

// ParseNumber checks s against DynamoDB's number rules and returns its
// canonical text.
//
// Accepted syntax is that of a decimal literal: an optional sign, digits with
// an optional decimal point (at least one digit on either side of it), and an
// optional exponent (e or E, optional sign, digits). No spaces, no hex, no
// Infinity or NaN. Leading and trailing zeros are not significant; at most 38
// significant digits remain, and a non-zero magnitude lies in 1E-130 ..
// 9.9999999999999999999999999999999999999E+125.
//
// The canonical text is plain notation, never an exponent: an optional "-"
// (only for a value below zero), the integer digits without leading zeros
// ("0" when the magnitude is below one), then, only when the value has a
// fractional part, "." and the fraction digits without trailing zeros. So
// "1.50" is "1.5", "-0" and "0E+5" are "0", "1E+2" is "100", "0.001" stays
// "0.001", "1E+125" is "1" followed by 125 zeros and "1E-130" is "0."
// followed by 129 zeros and "1". This is the form DynamoDB returns.
//
// Errors are *Error values of kind ErrValidation with DynamoDB's messages.
// When a number breaks more than one rule the digit count is reported before
// the range.
func ParseNumber(s string) (Number, error) {
	neg, digits, exp, ok := scanNumber(s)
	if !ok {
		return "", numberSyntaxError(s)
	}
	if len(digits) == 0 {
		// Zero is range-checked by the exponent it is written with, as a
		// BigDecimal zero's is: 0E+125 is 0, 0E+126 overflows.
		if exp > MaxNumberExp {
			return "", Invalid(msgNumberOverflow)
		}
		if exp < MinNumberExp {
			return "", Invalid(msgNumberUnderflow)
		}
		return "0", nil
	}
	if len(digits) > MaxNumberDigits {
		return "", Invalid(msgNumberDigits)
	}
	adj := exp + int64(len(digits)) - 1
	if adj > MaxNumberExp {
		return "", Invalid(msgNumberOverflow)
	}
	if adj < MinNumberExp {
		return "", Invalid(msgNumberUnderflow)
	}
	return Number(formatPlain(neg, digits, int(exp))), nil
}

func numberSyntaxError(s string) error {
	if s == "" {
		return Invalid(msgNumberSyntax)
	}
	return Invalid("%s: %s", msgNumberSyntax, s)
}

// scanNumber splits a decimal literal into its sign, its significant digits
// (no leading or trailing zeros; empty for zero) and the exponent of the last
// of them, so that the value is ±digits×10^exp; for zero, exp is the
// exponent of the last digit written. An exponent that does not fit 64 bits
// is not a number (DynamoDB: "cannot be converted"); any other saturates far
// outside DynamoDB's range, so it is an overflow or an underflow.
func scanNumber(s string) (neg bool, digits string, exp int64, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fracStart:i]
	}
	if intPart == "" && frac == "" {
		return false, "", 0, false
	}
	var e int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return false, "", 0, false
		}
		var wide uint64 // the exponent's magnitude, up to 2^63
		for ; i < len(s); i++ {
			if !isDigit(s[i]) {
				return false, "", 0, false
			}
			d := uint64(s[i] - '0')
			if wide > (1<<63-d)/10 {
				return false, "", 0, false // past a 64-bit integer
			}
			wide = wide*10 + d
		}
		if wide == 1<<63 && !eneg {
			return false, "", 0, false
		}
		e = int64(min(wide, 1e12))
		if eneg {
			e = -e
		}
	}
	if i != len(s) {
		return false, "", 0, false
	}

	// The coefficient is intPart+frac with exponent e-len(frac). Trim its
	// leading and trailing zeros without copying when the digits are
	// contiguous (no fraction, or no integer part).
	exp = e - int64(len(frac))
	var coef string
	switch {
	case frac == "":
		coef = intPart
	case strings.TrimLeft(intPart, "0") == "":
		coef = frac
	default:
		coef = intPart + frac
	}
	coef = strings.TrimLeft(coef, "0")
	trimmed := strings.TrimRight(coef, "0")
	exp += int64(len(coef) - len(trimmed))
	return neg && trimmed != "", trimmed, exp, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// formatPlain writes ±digits×10^exp in plain notation.
func formatPlain(neg bool, digits string, exp int) string {
	var b strings.Builder
	n := len(digits)
	size := n + 3
	if exp > 0 {
		size += exp
	} else if -exp > n {
		size += -exp - n
	}
	b.Grow(size)
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0:
		b.WriteString(digits)
		for range exp {
			b.WriteByte('0')
		}
	case -exp < n:
		b.WriteString(digits[:n+exp])
		b.WriteByte('.')
		b.WriteString(digits[n+exp:])
	default:
		b.WriteString("0.")
		for range -exp - n {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	}
	return b.String()
}

// Decimal returns n as an apd decimal. n must be canonical (made by
// ParseNumber, or a validated Value's); anything else is a bug and panics.
func (n Number) Decimal() *apd.Decimal {
	d, _, err := apd.NewFromString(string(n))
	if err != nil {
		panic(fmt.Sprintf("attr: Decimal of malformed Number %q: %v", string(n), err))
	}
	return d
}

// CompareNumbers orders two canonical Numbers by value: -1 if a < b, 0 if
// they are equal, +1 if a > b. It never allocates.
func CompareNumbers(a, b Number) int {
	if a == b {
		return 0
	}
	an, bn := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	switch {
	case an && !bn:
		return -1
	case !an && bn:
		return 1
	case an:
		return compareMagnitudes(string(b[1:]), string(a[1:]))
	default:
		return compareMagnitudes(string(a), string(b))
	}
}

// compareMagnitudes compares two canonical non-negative plain texts: the
// longer integer part is larger; with equal integer parts the texts compare
// as strings, because both are digit strings aligned at the decimal point
// with no trailing zeros.
func compareMagnitudes(a, b string) int {
	ai, bi := intLen(a), intLen(b)
	if ai != bi {
		if ai < bi {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// intLen is the length of the integer part of a canonical magnitude, counting
// "0" as zero digits so that 0.5 < 1.
func intLen(s string) int {
	if s == "0" || strings.HasPrefix(s, "0.") {
		return 0
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return i
	}
	return len(s)
}
