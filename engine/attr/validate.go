package attr

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// MaxDepth is how deeply DynamoDB lets documents nest: a top-level attribute
// value is at level 1 and each M or L puts its members one level deeper. A
// value (even an empty M or L) at a level above MaxDepth is rejected, so a
// top-level attribute may hold 31 nested M or L values around a scalar
// (checked against DynamoDB Local).
const MaxDepth = 32

// Key size limits, in bytes of the key value (UTF-8 for S, raw for B).
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// ValidationException messages, word for word as DynamoDB sends them.
const (
	paramsInvalid    = "One or more parameter values were invalid: "
	msgEmpty         = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgMultipleTypes = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgNullFalse     = paramsInvalid + "Null attribute value types must have the value of true"
	msgEmptySS       = paramsInvalid + "An string set  may not be empty"
	msgEmptyNS       = paramsInvalid + "An number set  may not be empty"
	msgEmptyBS       = paramsInvalid + "Binary sets should not be empty"
	msgSetNullString = paramsInvalid + "An string set may not have a null string as a member"
	msgSetNullBinary = paramsInvalid + "Binary sets may not contain null or empty values"
	msgNSDuplicates  = "Input collection contains duplicates"
	msgNesting       = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
	msgItemTooLarge  = "Item size has exceeded the maximum allowed size"
	msgEmptyName     = "Empty attribute name"
)

// ValidateItem checks every attribute of it as ValidateValue does, and
// canonicalizes its numbers in place. Attributes are checked in name order
// (DynamoDB checks them in request order, which a map does not keep), and a
// top-level attribute's "more than one datatypes" error is reported only when
// no attribute has another error, as DynamoDB Local does (nested in an M or
// L it is reported in turn).
func ValidateItem(it Item) error {
	if len(it) == 0 {
		return nil
	}
	var buf [16]string
	names := buf[:0]
	for k := range it {
		names = append(names, k)
	}
	slices.Sort(names)
	multi := false
	for _, k := range names {
		if k == "" {
			return Invalid(msgEmptyName)
		}
		v := it[k]
		m, err := validate(&v, 1)
		if err != nil {
			return err
		}
		multi = multi || m
		it[k] = v
	}
	if multi {
		return Invalid(msgMultipleTypes)
	}
	return nil
}

// ValidateValue checks v against DynamoDB's rules for an attribute value (one
// data type; NULL is true; numbers parse; sets are non-empty without
// duplicates; nesting at most MaxDepth) and rewrites every N and NS member
// to its canonical form. Empty strings and binaries are allowed: they are
// refused only in keys (ValidateKeyValue). Errors are ValidationException
// *Errors with DynamoDB's messages.
func ValidateValue(v *Value) error {
	multi, err := validate(v, 1)
	if err != nil {
		return err
	}
	if multi {
		return Invalid(msgMultipleTypes)
	}
	return nil
}

// validate checks v at nesting level depth. It reports "more than one data
// type" separately so that callers can give other errors precedence.
func validate(v *Value, depth int) (multi bool, err error) {
	if depth > MaxDepth {
		return false, Invalid(msgNesting)
	}
	switch v.T {
	case TypeInvalid:
		switch v.S {
		case "":
			return false, Invalid(msgEmpty)
		case msgMultipleTypes:
			if depth > 1 {
				// Inside an M or L DynamoDB reports it at once; only for a
				// top-level attribute does it come after other errors.
				return false, Invalid(msgMultipleTypes)
			}
			return true, nil
		default:
			return false, Invalid("%s", v.S)
		}
	case TypeS, TypeB, TypeBOOL, TypeNULL:
		return false, nil
	case TypeN:
		n, err := ParseNumber(string(v.N))
		if err != nil {
			return false, err
		}
		v.N = n
		return false, nil
	case TypeM:
		if v.M == nil {
			v.M = map[string]Value{}
		}
		var buf [16]string
		names := buf[:0]
		for k := range v.M {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if k == "" {
				return false, Invalid(msgEmptyName)
			}
			e := v.M[k]
			m, err := validate(&e, depth+1)
			if err != nil {
				return false, err
			}
			multi = multi || m
			v.M[k] = e
		}
		return multi, nil
	case TypeL:
		if v.L == nil {
			v.L = []Value{}
		}
		for i := range v.L {
			m, err := validate(&v.L[i], depth+1)
			if err != nil {
				return false, err
			}
			multi = multi || m
		}
		return multi, nil
	case TypeSS:
		if len(v.SS) == 0 {
			return false, Invalid(msgEmptySS)
		}
		if hasDuplicateStrings(v.SS) {
			return false, Invalid("%sInput collection [%s] contains duplicates.", paramsInvalid, strings.Join(v.SS, ", "))
		}
		return false, nil
	case TypeNS:
		if len(v.NS) == 0 {
			return false, Invalid(msgEmptyNS)
		}
		for i, n := range v.NS {
			c, err := ParseNumber(string(n))
			if err != nil {
				return false, err
			}
			v.NS[i] = c
		}
		if hasDuplicateStrings(v.NS) {
			return false, Invalid(msgNSDuplicates)
		}
		return false, nil
	case TypeBS:
		if len(v.BS) == 0 {
			return false, Invalid(msgEmptyBS)
		}
		if hasDuplicateBytes(v.BS) {
			return false, Invalid("%sInput collection %sof type BS contains duplicates.", paramsInvalid, formatBinarySet(v.BS))
		}
		return false, nil
	}
	return false, Invalid(msgEmpty)
}

// hasDuplicateStrings reports whether s has a repeated member. Small sets
// are checked pairwise, larger ones through a map.
func hasDuplicateStrings[S ~string](s []S) bool {
	if len(s) <= 16 {
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[i] == s[j] {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[S]struct{}, len(s))
	for _, x := range s {
		if _, ok := seen[x]; ok {
			return true
		}
		seen[x] = struct{}{}
	}
	return false
}

func hasDuplicateBytes(s [][]byte) bool {
	if len(s) <= 16 {
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if bytes.Equal(s[i], s[j]) {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(s))
	for _, x := range s {
		if _, ok := seen[string(x)]; ok {
			return true
		}
		seen[string(x)] = struct{}{}
	}
	return false
}

// formatBinarySet renders a binary set as DynamoDB quotes it in the
// duplicates message: base64 members in brackets, comma and space between.
func formatBinarySet(bs [][]byte) string {
	var b []byte
	b = append(b, '[')
	for i, x := range bs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = base64.StdEncoding.AppendEncode(b, x)
	}
	return string(append(b, ']'))
}
