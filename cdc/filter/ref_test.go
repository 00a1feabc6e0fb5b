package filter

import (
	"bytes"
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a second implementation of the matching semantics, written
// for obviousness rather than speed: records are decoded by encoding/json
// (with UseNumber) instead of the package's reader, numbers compare as
// big.Rat instead of digit by digit, and case-folded prefixes are found by
// trying every prefix with strings.EqualFold. The table tests and the fuzz
// targets check Pattern.Match against it; it shares only the compiled
// pattern tree.

// refDecode decodes a record, reporting false when it is not one valid JSON
// value.
func refDecode(record []byte) (any, bool) {
	if !json.Valid(record) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// refTame reports whether every number in v is small enough for big.Rat to
// handle quickly (big exponents would make SetString allocate huge values).
func refTame(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if !refTame(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !refTame(e) {
				return false
			}
		}
	case json.Number:
		s := string(v)
		if len(s) > 200 {
			return false
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 {
			e, err := strconv.Atoi(s[i+1:])
			if err != nil || e > 400 || e < -400 {
				return false
			}
		}
	}
	return true
}

// refMatch is the reference for Pattern.Match on a decoded record.
func refMatch(p *Pattern, v any) bool {
	if _, ok := v.(map[string]any); !ok {
		return false
	}
	return refObject(p.root, v, refScope{})
}

type refScope struct {
	set   bool
	arr   any
	depth int
}

func refObject(o *object, v any, sc refScope) bool {
	m, _ := v.(map[string]any)
	for i := range o.fields {
		f := &o.fields[i]
		val, present := m[f.name]
		var ok bool
		if f.sub != nil {
			ok = refValue(f.sub, val, present, sc, len(f.path))
		} else {
			ok = refLeaf(f.leaf, val, present, sc, f.path)
		}
		if !ok {
			return false
		}
	}
	if o.or == nil {
		return true
	}
	return slices.ContainsFunc(o.or, func(alt *object) bool { return refObject(alt, v, sc) })
}

func refValue(o *object, val any, present bool, sc refScope, depth int) bool {
	arr, isArr := val.([]any)
	if !present || !isArr {
		if !present {
			val = nil
		}
		return refObject(o, val, sc)
	}
	if !sc.set {
		sc = refScope{set: true, arr: arr, depth: depth}
	}
	if len(arr) == 0 {
		return refObject(o, nil, sc)
	}
	return slices.ContainsFunc(arr, func(e any) bool { return refValue(o, e, true, sc, depth) })
}

// refScalars flattens nested arrays and drops objects.
func refScalars(v any, out []any) []any {
	switch v := v.(type) {
	case map[string]any:
		return out
	case []any:
		for _, e := range v {
			out = refScalars(e, out)
		}
		return out
	}
	return append(out, v)
}

func refLeaf(l *leaf, val any, present bool, sc refScope, path []string) bool {
	var scalars []any
	if present {
		scalars = refScalars(val, nil)
	}
	for _, x := range scalars {
		for i := range l.rules {
			if refScalar(&l.rules[i], x) {
				return true
			}
		}
	}
	if l.exists && len(scalars) > 0 {
		return true
	}
	if l.notExists {
		if !sc.set {
			return len(scalars) == 0
		}
		return refAbsent(sc.arr, path[sc.depth:])
	}
	return false
}

func refAbsent(v any, path []string) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if !refAbsent(e, path) {
				return false
			}
		}
		return true
	case map[string]any:
		if len(path) == 0 {
			return true
		}
		e, ok := v[path[0]]
		if !ok {
			return true
		}
		return refAbsent(e, path[1:])
	}
	return len(path) > 0
}

func refScalar(r *rule, x any) bool {
	switch x := x.(type) {
	case string:
		switch r.op {
		case opString:
			return x == r.s
		case opEqualsFold:
			return strings.EqualFold(x, r.s)
		case opPrefix:
			return strings.HasPrefix(x, r.s)
		case opSuffix:
			return strings.HasSuffix(x, r.s)
		case opPrefixFold:
			for i := 0; i <= len(x); i++ {
				if (i == len(x) || utf8.RuneStart(x[i])) && strings.EqualFold(x[:i], r.s) {
					return true
				}
			}
			return false
		case opSuffixFold:
			for i := 0; i <= len(x); i++ {
				if (i == len(x) || utf8.RuneStart(x[i])) && strings.EqualFold(x[i:], r.s) {
					return true
				}
			}
			return false
		case opAnythingBut:
			return !slices.Contains(r.strs, x)
		}
	case json.Number:
		switch r.op {
		case opNumber:
			return string(x) == r.s
		case opNumeric:
			v := refRat(string(x))
			if r.lo.set {
				c := v.Cmp(refRat(literal(r.lo.d)))
				if c < 0 || (c == 0 && !r.lo.incl) {
					return false
				}
			}
			if r.hi.set {
				c := v.Cmp(refRat(literal(r.hi.d)))
				if c > 0 || (c == 0 && !r.hi.incl) {
					return false
				}
			}
			return true
		case opAnythingBut:
			v := refRat(string(x))
			return !slices.ContainsFunc(r.nums, func(d decimal) bool { return v.Cmp(refRat(literal(d))) == 0 })
		}
	case bool:
		return (x && r.op == opTrue) || (!x && r.op == opFalse) || r.op == opAnythingBut
	case nil:
		return r.op == opNull || r.op == opAnythingBut
	}
	return false
}

func refRat(s string) *big.Rat {
	v, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("refRat: bad number " + s)
	}
	return v
}
