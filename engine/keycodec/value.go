package keycodec

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/sluicedb/sluice/engine/attr"
)

// ErrCorrupt reports a key that does not follow the format in doc.go.
var ErrCorrupt = errors.New("keycodec: corrupt key")

const (
	tagNeg  = 0x01
	tagZero = 0x02
	tagPos  = 0x03

	expBias = -attr.MinNumberExp // a+130 is 0..255
)

// AppendValue appends the order-preserving encoding of the key value v (S,
// N or B; see doc.go). An N must be canonical (validated). Any other type is
// a bug and panics.
func AppendValue(dst []byte, v attr.Value) []byte {
	switch v.T {
	case attr.TypeS:
		return appendEscaped(dst, v.S)
	case attr.TypeB:
		return appendEscaped(dst, v.B)
	case attr.TypeN:
		return appendNumber(dst, v.N)
	}
	panic(fmt.Sprintf("keycodec: %v is not a key type", v.T))
}

func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, s[start:i+1]...)
			dst = append(dst, 0xFF)
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, 0x00, 0x01)
}

// appendNumber encodes a canonical plain-notation number straight from its
// text: the digits are those of the text without sign, point and leading
// zeros; the adjusted exponent follows from the point's position.
func appendNumber(dst []byte, n attr.Number) []byte {
	s := string(n)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "0" || s == "" {
		return append(dst, tagZero)
	}
	point := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			point = i
			break
		}
	}
	// first is the index of the first significant digit; the adjusted
	// exponent is the power of ten at that position.
	first := 0
	for first < len(s) && (s[first] == '0' || s[first] == '.') {
		first++
	}
	if first == len(s) {
		panic(fmt.Sprintf("keycodec: number %q is not canonical", string(n)))
	}
	adj := point - first - 1
	if first > point {
		adj = point - first
	}
	if adj < attr.MinNumberExp || adj > attr.MaxNumberExp {
		panic(fmt.Sprintf("keycodec: number %q is not canonical", string(n)))
	}
	// last is the index of the last significant digit: an integer's
	// trailing zeros are implied by the exponent.
	last := len(s) - 1
	for s[last] == '0' || s[last] == '.' {
		last--
	}
	var inv byte
	if neg {
		inv = 0xFF
		dst = append(dst, tagNeg)
	} else {
		dst = append(dst, tagPos)
	}
	dst = append(dst, byte(adj+expBias)^inv)
	hi := -1 // pending high digit of a pair
	for i := first; i <= last; i++ {
		c := s[i]
		if c == '.' {
			continue
		}
		if hi < 0 {
			hi = int(c - '0')
			continue
		}
		dst = append(dst, byte(hi*10+int(c-'0')+1)^inv)
		hi = -1
	}
	if hi >= 0 {
		dst = append(dst, byte(hi*10+1)^inv)
	}
	return append(dst, inv)
}

// DecodeValue decodes one key value of type t from the front of src and
// returns it with the bytes that follow it.
func DecodeValue(src []byte, t attr.Type) (v attr.Value, rest []byte, err error) {
	switch t {
	case attr.TypeS:
		b, rest, err := decodeEscaped(src)
		if err != nil {
			return attr.Value{}, nil, err
		}
		return attr.S(string(b)), rest, nil
	case attr.TypeB:
		b, rest, err := decodeEscaped(src)
		if err != nil {
			return attr.Value{}, nil, err
		}
		return attr.B(b), rest, nil
	case attr.TypeN:
		n, rest, err := decodeNumber(src)
		if err != nil {
			return attr.Value{}, nil, err
		}
		return attr.N(n), rest, nil
	}
	return attr.Value{}, nil, fmt.Errorf("keycodec: %v is not a key type", t)
}

func decodeEscaped(src []byte) (b, rest []byte, err error) {
	b = []byte{}
	for i := 0; i < len(src); i++ {
		if src[i] != 0 {
			continue
		}
		if i+1 >= len(src) {
			break
		}
		switch src[i+1] {
		case 0x01:
			return append(b, src[:i]...), src[i+2:], nil
		case 0xFF:
			b = append(b, src[:i+1]...)
			src = src[i+2:]
			i = -1
		default:
			return nil, nil, fmt.Errorf("%w: bad escape 00 %02x", ErrCorrupt, src[i+1])
		}
	}
	return nil, nil, fmt.Errorf("%w: unterminated string or binary", ErrCorrupt)
}

func decodeNumber(src []byte) (attr.Number, []byte, error) {
	if len(src) == 0 {
		return "", nil, fmt.Errorf("%w: empty number", ErrCorrupt)
	}
	var inv byte
	switch src[0] {
	case tagZero:
		return "0", src[1:], nil
	case tagPos:
	case tagNeg:
		inv = 0xFF
	default:
		return "", nil, fmt.Errorf("%w: bad number tag %02x", ErrCorrupt, src[0])
	}
	if len(src) < 2 {
		return "", nil, fmt.Errorf("%w: truncated number", ErrCorrupt)
	}
	adj := int(src[1]^inv) - expBias
	// Rebuild "[-]d.ddd" then "E<adj>" and let attr.ParseNumber produce
	// (and check) the canonical text.
	var buf [64]byte
	text := buf[:0]
	if inv != 0 {
		text = append(text, '-')
	}
	digits := 0
	for i := 2; i < len(src); i++ {
		b := src[i] ^ inv
		if b == 0 {
			if digits == 0 {
				return "", nil, fmt.Errorf("%w: number without digits", ErrCorrupt)
			}
			text = append(text, 'E')
			text = strconv.AppendInt(text, int64(adj), 10)
			n, err := attr.ParseNumber(string(text))
			if err != nil {
				return "", nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			// Only the canonical encoding of n is n: digits with a leading
			// or trailing zero decode to a number that encodes otherwise.
			var again [48]byte
			if !bytes.Equal(appendNumber(again[:0], n), src[:i+1]) {
				return "", nil, fmt.Errorf("%w: non-canonical number", ErrCorrupt)
			}
			return n, src[i+1:], nil
		}
		if b > 100 || digits >= attr.MaxNumberDigits {
			return "", nil, fmt.Errorf("%w: bad number digits", ErrCorrupt)
		}
		p := b - 1
		for _, d := range [2]byte{p / 10, p % 10} {
			text = append(text, '0'+d)
			if digits == 0 {
				text = append(text, '.')
			}
			digits++
		}
	}
	return "", nil, fmt.Errorf("%w: unterminated number", ErrCorrupt)
}

// Type tags of Canonical, part of the partition-key hash.
const (
	HashTagS = 'S'
	HashTagN = 'N'
	HashTagB = 'B'
)

// Canonical returns the type tag and bytes that shards.HashKey hashes for
// the partition key value v: UTF-8 for S, the canonical decimal text for N,
// the raw bytes for B. Any other type is a bug and panics.
func Canonical(v attr.Value) (typ byte, b []byte) {
	switch v.T {
	case attr.TypeS:
		return HashTagS, []byte(v.S)
	case attr.TypeN:
		return HashTagN, []byte(v.N)
	case attr.TypeB:
		return HashTagB, v.B
	}
	panic(fmt.Sprintf("keycodec: %v is not a key type", v.T))
}
