package filter

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// scope is where {"exists": false} looks for a field. Until the walk meets
// an array in the record it looks in the current object. Below an array it
// looks in every element of that (outermost) array: node is the array and
// depth how many pattern names lead to it, so the field's path below the
// array is path[depth:]. A field is then absent only if no element has it,
// although the other rules of a nested object must hold within one element.
type scope struct {
	node  int32
	depth int
}

var noScope = scope{node: -1}

// match reports whether the record value at node obj (-1 when missing)
// satisfies the object pattern.
func (o *object) match(d *doc, obj int32, sc scope) bool {
	for i := range o.fields {
		f := &o.fields[i]
		v := d.member(obj, f.name)
		var ok bool
		if f.sub != nil {
			ok = f.sub.matchValue(d, v, sc, len(f.path))
		} else {
			ok = f.leaf.match(d, v, sc, f.path)
		}
		if !ok {
			return false
		}
	}
	if o.or == nil {
		return true
	}
	for _, alt := range o.or {
		if alt.match(d, obj, sc) {
			return true
		}
	}
	return false
}

// matchValue matches a nested pattern object against the record value v.
// When v is an array, one element must match the whole object, so that two
// fields never match in different elements; an empty array is like a
// missing value.
func (o *object) matchValue(d *doc, v int32, sc scope, depth int) bool {
	if v < 0 || d.nodes[v].kind != kindArray {
		return o.match(d, v, sc)
	}
	if sc.node < 0 {
		sc = scope{node: v, depth: depth}
	}
	elems := d.children(v)
	if len(elems) == 0 {
		return o.match(d, -1, sc)
	}
	for _, e := range elems {
		if o.matchValue(d, e, sc, depth) {
			return true
		}
	}
	return false
}

// match reports whether the record value v (-1 when missing) satisfies one
// of the leaf's rules. Only scalars are values: an array's elements count
// one by one (nested arrays too), and an object is no value at all, which
// is why {"exists": false} matches a field holding an object.
func (l *leaf) match(d *doc, v int32, sc scope, path []string) bool {
	if v >= 0 {
		if l.values && l.anyValue(d, v) {
			return true
		}
		if l.exists && d.hasScalar(v) {
			return true
		}
	}
	if l.notExists {
		if sc.node < 0 {
			return v < 0 || !d.hasScalar(v)
		}
		for _, m := range d.memo {
			if m.leaf == l && m.scope == sc.node {
				return m.absent
			}
		}
		a := d.absent(sc.node, path[sc.depth:])
		d.memo = append(d.memo, absence{leaf: l, scope: sc.node, absent: a})
		return a
	}
	return false
}

func (l *leaf) anyValue(d *doc, v int32) bool {
	switch d.nodes[v].kind {
	case kindObject:
		return false
	case kindArray:
		for _, e := range d.children(v) {
			if l.anyValue(d, e) {
				return true
			}
		}
		return false
	}
	for i := range l.rules {
		if l.rules[i].matchScalar(d, v) {
			return true
		}
	}
	return false
}

// hasScalar reports whether the value at v is, or holds in its (nested)
// arrays, a string, number, boolean or null.
func (d *doc) hasScalar(v int32) bool {
	switch d.nodes[v].kind {
	case kindObject:
		return false
	case kindArray:
		for _, e := range d.children(v) {
			if d.hasScalar(e) {
				return true
			}
		}
		return false
	}
	return true
}

// absent reports whether no scalar is found by following path from node n,
// looking into every element of any array on the way.
func (d *doc) absent(n int32, path []string) bool {
	if n < 0 {
		return true
	}
	switch d.nodes[n].kind {
	case kindArray:
		for _, e := range d.children(n) {
			if !d.absent(e, path) {
				return false
			}
		}
		return true
	case kindObject:
		if len(path) == 0 {
			return true
		}
		return d.absent(d.member(n, path[0]), path[1:])
	}
	return len(path) > 0
}

// matchScalar tests one rule against the scalar at node n.
func (r *rule) matchScalar(d *doc, n int32) bool {
	switch d.nodes[n].kind {
	case kindString:
		s := d.bytes(n)
		switch r.op {
		case opString:
			return string(s) == r.s
		case opEqualsFold:
			return bytes.EqualFold(s, r.b)
		case opPrefix:
			return bytes.HasPrefix(s, r.b)
		case opSuffix:
			return bytes.HasSuffix(s, r.b)
		case opPrefixFold:
			return hasPrefixFold(s, r.b)
		case opSuffixFold:
			return hasSuffixFold(s, r.b)
		case opAnythingBut:
			for _, x := range r.strs {
				if string(s) == x {
					return false
				}
			}
			return true
		}
	case kindNumber:
		lit := d.bytes(n)
		switch r.op {
		case opNumber:
			return string(lit) == r.s
		case opNumeric:
			x := parseDecimal(lit)
			return aboveLower(&r.lo, &x) && belowUpper(&r.hi, &x)
		case opAnythingBut:
			if len(r.nums) == 0 {
				return true
			}
			x := parseDecimal(lit)
			for i := range r.nums {
				if cmpDecimal(&x, &r.nums[i]) == 0 {
					return false
				}
			}
			return true
		}
	case kindTrue:
		return r.op == opTrue || r.op == opAnythingBut
	case kindFalse:
		return r.op == opFalse || r.op == opAnythingBut
	case kindNull:
		return r.op == opNull || r.op == opAnythingBut
	}
	return false
}

// aboveLower reports whether x satisfies the lower bound b, if any.
func aboveLower(b *bound, x *decimal) bool {
	if !b.set {
		return true
	}
	c := cmpDecimal(x, &b.d)
	return c > 0 || (c == 0 && b.incl)
}

// belowUpper reports whether x satisfies the upper bound b, if any.
func belowUpper(b *bound, x *decimal) bool {
	if !b.set {
		return true
	}
	c := cmpDecimal(x, &b.d)
	return c < 0 || (c == 0 && b.incl)
}

// hasPrefixFold is bytes.HasPrefix under Unicode simple case folding, the
// folding of bytes.EqualFold.
func hasPrefixFold(s, prefix []byte) bool {
	for len(prefix) > 0 {
		if len(s) == 0 {
			return false
		}
		r1, n1 := utf8.DecodeRune(s)
		r2, n2 := utf8.DecodeRune(prefix)
		if !foldEqual(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

// hasSuffixFold is bytes.HasSuffix under Unicode simple case folding.
func hasSuffixFold(s, suffix []byte) bool {
	for len(suffix) > 0 {
		if len(s) == 0 {
			return false
		}
		r1, n1 := utf8.DecodeLastRune(s)
		r2, n2 := utf8.DecodeLastRune(suffix)
		if !foldEqual(r1, r2) {
			return false
		}
		s, suffix = s[:len(s)-n1], suffix[:len(suffix)-n2]
	}
	return true
}

// foldEqual reports whether a and b are equal under simple case folding.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
