package filter

// decimal is a JSON number literal read for exact comparison, without
// rounding and without allocating: its digits stay in the literal's bytes.
// The value is ±(intDigits fracDigits) × 10^(exp - len(frac)).
type decimal struct {
	neg       bool
	int, frac []byte
	exp       int64
}

// maxExp saturates exponents: a literal such as 1e999999999999999999 still
// compares correctly against any number written with a sane exponent.
const maxExp = 1 << 40

// parseDecimal reads a literal that matches the JSON number grammar.
func parseDecimal(b []byte) decimal {
	var x decimal
	i := 0
	if i < len(b) && b[i] == '-' {
		x.neg = true
		i++
	}
	j := i
	for j < len(b) && isDigit(b[j]) {
		j++
	}
	x.int = b[i:j]
	if j < len(b) && b[j] == '.' {
		k := j + 1
		for k < len(b) && isDigit(b[k]) {
			k++
		}
		x.frac = b[j+1 : k]
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		neg := false
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			neg = b[j] == '-'
			j++
		}
		var e int64
		for ; j < len(b) && isDigit(b[j]); j++ {
			if e < maxExp {
				e = e*10 + int64(b[j]-'0')
			}
		}
		e = min(e, maxExp)
		if neg {
			e = -e
		}
		x.exp = e
	}
	return x
}

// digit returns the k-th digit of int followed by frac, or '0' past the end.
func (x *decimal) digit(k int) byte {
	if k < len(x.int) {
		return x.int[k]
	}
	if k -= len(x.int); k < len(x.frac) {
		return x.frac[k]
	}
	return '0'
}

func (x *decimal) ndigits() int { return len(x.int) + len(x.frac) }

// lead returns the index of the first non-zero digit, or -1 for zero.
func (x *decimal) lead() int {
	for k := range x.ndigits() {
		if x.digit(k) != '0' {
			return k
		}
	}
	return -1
}

// cmpDecimal returns -1, 0 or +1 as x is less than, equal to or greater than
// y. Zero has no sign: -0 equals 0.
func cmpDecimal(x, y *decimal) int {
	lx, ly := x.lead(), y.lead()
	switch {
	case lx < 0 && ly < 0:
		return 0
	case lx < 0:
		if y.neg {
			return 1
		}
		return -1
	case ly < 0:
		if x.neg {
			return -1
		}
		return 1
	case x.neg != y.neg:
		if x.neg {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(x, y, lx, ly)
	if x.neg {
		return -c
	}
	return c
}

// cmpMagnitude compares |x| and |y|, both non-zero, given their lead().
func cmpMagnitude(x, y *decimal, lx, ly int) int {
	// With the leading digit at index l, the value is 0.d_l d_l+1 … × 10^e
	// where e = len(int) - l + exp.
	ex := int64(len(x.int)-lx) + x.exp
	ey := int64(len(y.int)-ly) + y.exp
	if ex != ey {
		if ex < ey {
			return -1
		}
		return 1
	}
	n := max(x.ndigits()-lx, y.ndigits()-ly)
	for k := range n {
		dx, dy := x.digit(lx+k), y.digit(ly+k)
		if dx != dy {
			if dx < dy {
				return -1
			}
			return 1
		}
	}
	return 0
}

// fracPlaces returns how many digits x needs right of the decimal point
// (0 for an integer value).
func (x *decimal) fracPlaces() int64 {
	last := -1
	for k := x.ndigits() - 1; k >= 0; k-- {
		if x.digit(k) != '0' {
			last = k
			break
		}
	}
	if last < 0 {
		return 0
	}
	// Digit k has place value 10^(len(int) - 1 - k + exp).
	place := int64(len(x.int)-1-last) + x.exp
	return max(0, -place)
}
