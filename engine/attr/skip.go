package attr

import "bytes"

// SkipJSON returns the offset just past the JSON value that starts at
// data[i] (a string, an object, an array, or a bare number or literal), or
// -1 if there is none or it does not end. It checks only that strings and
// brackets are balanced, not the rest of the grammar: the readers that
// pick members out of a stored image or record without decoding it
// (the expiry index, the change feed's projections) decode what they pick,
// and that checks it. Strings, most of an image's bytes, are skipped with
// a vectorized search for their closing quote.
func SkipJSON(data []byte, i int) int {
	if i < 0 || i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return skipJSONString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				if i = skipJSONString(data, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		j := i
		for j < len(data) && !jsonDelimiter(data[j]) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// skipJSONString returns the offset past the string whose opening quote is
// data[i], or -1. A quote closes it unless an odd number of backslashes
// inside the string comes right before it.
func skipJSONString(data []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		slashes := 0
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			slashes++
		}
		if slashes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

func jsonDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
