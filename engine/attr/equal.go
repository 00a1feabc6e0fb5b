package attr

import (
	"bytes"
	"strings"
)

// Equal reports whether a and b are the same DynamoDB value: the same type
// and, for numbers, the same numeric value ("1.0" equals "1"); for maps the
// same names and equal values, in any order; for lists equal elements in
// order; for sets the same members in any order. This is the equality of
// condition expressions and of "did this write change the item".
func Equal(a, b Value) bool {
	if a.T != b.T {
		return false
	}
	switch a.T {
	case TypeS:
		return a.S == b.S
	case TypeN:
		return numbersEqual(a.N, b.N)
	case TypeB:
		return bytes.Equal(a.B, b.B)
	case TypeBOOL:
		return a.BOOL == b.BOOL
	case TypeNULL:
		return true
	case TypeM:
		return mapsEqual(a.M, b.M)
	case TypeL:
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !Equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case TypeSS:
		return setsEqual(a.SS, b.SS, func(x, y string) bool { return x == y })
	case TypeNS:
		return setsEqual(a.NS, b.NS, numbersEqual)
	case TypeBS:
		return setsEqual(a.BS, b.BS, bytes.Equal)
	}
	// Invalid values: equal only if they carry the same reason.
	return a.S == b.S
}

// ItemsEqual reports whether two items have the same attributes with Equal
// values. A nil and an empty item are equal.
func ItemsEqual(a, b Item) bool { return mapsEqual(a, b) }

func mapsEqual(a, b map[string]Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Equal(av, bv) {
			return false
		}
	}
	return true
}

// numbersEqual compares by value. Canonical Numbers are equal exactly when
// their texts are; other texts are canonicalized first.
func numbersEqual(a, b Number) bool {
	if a == b {
		return true
	}
	ca, err1 := ParseNumber(string(a))
	cb, err2 := ParseNumber(string(b))
	return err1 == nil && err2 == nil && ca == cb
}

// setsEqual compares sets without duplicates: the same size, and every
// member of a is in b.
func setsEqual[E any](a, b []E, eq func(x, y E) bool) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 16 {
		return setsEqualLarge(a, b, eq)
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if eq(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// setsEqualLarge avoids the quadratic scan for large sets by keying members.
func setsEqualLarge[E any](a, b []E, eq func(x, y E) bool) bool {
	key := func(e any) string {
		switch x := e.(type) {
		case string:
			return x
		case Number:
			if c, err := ParseNumber(string(x)); err == nil {
				return string(c)
			}
			return string(x)
		case []byte:
			return string(x)
		}
		panic("attr: unexpected set member type")
	}
	seen := make(map[string]struct{}, len(a))
	for _, x := range a {
		seen[key(x)] = struct{}{}
	}
	for _, y := range b {
		if _, ok := seen[key(y)]; !ok {
			return false
		}
	}
	return true
}

// Compare orders two key values as DynamoDB orders sort keys: strings by
// their UTF-8 bytes, numbers by value, binaries as unsigned bytes. It returns
// -1, 0 or +1. Values of different types (which never meet in one key
// attribute) order by type; other types compare as equal.
func Compare(a, b Value) int {
	if a.T != b.T {
		if a.T < b.T {
			return -1
		}
		return 1
	}
	switch a.T {
	case TypeS:
		return strings.Compare(a.S, b.S)
	case TypeN:
		return CompareNumbers(a.N, b.N)
	case TypeB:
		return bytes.Compare(a.B, b.B)
	}
	return 0
}

// Clone returns a deep copy of v that shares no memory with it.
func (v Value) Clone() Value {
	c := Value{T: v.T, S: v.S, N: v.N, BOOL: v.BOOL}
	switch v.T {
	case TypeB:
		c.B = cloneBytes(v.B)
	case TypeM:
		c.M = make(map[string]Value, len(v.M))
		for k, e := range v.M {
			c.M[k] = e.Clone()
		}
	case TypeL:
		c.L = make([]Value, len(v.L))
		for i, e := range v.L {
			c.L[i] = e.Clone()
		}
	case TypeSS:
		c.SS = append([]string(nil), v.SS...)
	case TypeNS:
		c.NS = append([]Number(nil), v.NS...)
	case TypeBS:
		c.BS = make([][]byte, len(v.BS))
		for i, b := range v.BS {
			c.BS[i] = cloneBytes(b)
		}
	}
	return c
}

// Clone returns a deep copy of it.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	c := make(Item, len(it))
	for k, v := range it {
		c[k] = v.Clone()
	}
	return c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
