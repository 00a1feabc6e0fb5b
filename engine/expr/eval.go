package expr

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// lookup returns the value at path in item.
func lookup(item attr.Item, path Path) (attr.Value, bool) {
	v, ok := item[path[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	for _, e := range path[1:] {
		switch {
		case e.IsIndex:
			if v.T != attr.TypeL || e.Index >= len(v.L) {
				return attr.Value{}, false
			}
			v = v.L[e.Index]
		default:
			if v.T != attr.TypeM {
				return attr.Value{}, false
			}
			if v, ok = v.M[e.Name]; !ok {
				return attr.Value{}, false
			}
		}
	}
	return v, true
}

// operandValue evaluates a condition operand against item.
func operandValue(o *Operand, item attr.Item) (attr.Value, bool) {
	switch o.Kind {
	case OpPath:
		return lookup(item, o.Path)
	case OpValue:
		return o.Value, true
	case OpSize:
		v, ok := operandValue(o.Args[0], item)
		if !ok {
			return attr.Value{}, false
		}
		n, ok := sizeOf(v)
		if !ok {
			return attr.Value{}, false
		}
		return attr.N(attr.Number(strconv.Itoa(n))), true
	}
	return attr.Value{}, false
}

// sizeOf is DynamoDB's size(): bytes of a string or binary, members of a
// set, elements of a list, entries of a map. Other types have no size.
func sizeOf(v attr.Value) (int, bool) {
	switch v.T {
	case attr.TypeS:
		return len(v.S), true
	case attr.TypeB:
		return len(v.B), true
	case attr.TypeSS:
		return len(v.SS), true
	case attr.TypeNS:
		return len(v.NS), true
	case attr.TypeBS:
		return len(v.BS), true
	case attr.TypeL:
		return len(v.L), true
	case attr.TypeM:
		return len(v.M), true
	}
	return 0, false
}

func evalCond(c *Cond, item attr.Item) bool {
	switch c.Kind {
	case CondAnd:
		return evalCond(c.L, item) && evalCond(c.R, item)
	case CondOr:
		return evalCond(c.L, item) || evalCond(c.R, item)
	case CondNot:
		return !evalCond(c.L, item)
	case CondCompare:
		a, aok := operandValue(c.Args[0], item)
		b, bok := operandValue(c.Args[1], item)
		switch c.Op {
		case "=":
			return aok && bok && attr.Equal(a, b)
		case "<>":
			return !(aok && bok && attr.Equal(a, b))
		}
		if !aok || !bok || a.T != b.T || !orderable(a.T) {
			return false
		}
		n := attr.Compare(a, b)
		switch c.Op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		default: // ">="
			return n >= 0
		}
	case CondBetween:
		v, ok := operandValue(c.Args[0], item)
		lo, lok := operandValue(c.Args[1], item)
		hi, hok := operandValue(c.Args[2], item)
		if !ok || !lok || !hok || !orderable(v.T) || v.T != lo.T || v.T != hi.T {
			return false
		}
		return attr.Compare(lo, v) <= 0 && attr.Compare(v, hi) <= 0
	case CondIn:
		v, ok := operandValue(c.Args[0], item)
		if !ok {
			return false
		}
		for _, o := range c.Args[1:] {
			if w, ok := operandValue(o, item); ok && attr.Equal(v, w) {
				return true
			}
		}
		return false
	case CondFunc:
		return evalFunc(c, item)
	}
	return false
}

func evalFunc(c *Cond, item attr.Item) bool {
	switch c.Op {
	case "attribute_exists":
		_, ok := operandValue(c.Args[0], item)
		return ok
	case "attribute_not_exists":
		_, ok := operandValue(c.Args[0], item)
		return !ok
	case "attribute_type":
		v, ok := operandValue(c.Args[0], item)
		t, tok := operandValue(c.Args[1], item)
		return ok && tok && t.T == attr.TypeS && v.T.String() == t.S
	case "begins_with":
		v, ok := operandValue(c.Args[0], item)
		p, pok := operandValue(c.Args[1], item)
		if !ok || !pok || v.T != p.T {
			return false
		}
		switch v.T {
		case attr.TypeS:
			return strings.HasPrefix(v.S, p.S)
		case attr.TypeB:
			return bytes.HasPrefix(v.B, p.B)
		}
		return false
	case "contains":
		v, ok := operandValue(c.Args[0], item)
		x, xok := operandValue(c.Args[1], item)
		return ok && xok && contains(v, x)
	}
	return false
}

// contains is DynamoDB's contains(): a substring of a string (or bytes of
// a binary), a member of a set of the operand's type, or an element of a
// list.
func contains(v, x attr.Value) bool {
	switch v.T {
	case attr.TypeS:
		return x.T == attr.TypeS && strings.Contains(v.S, x.S)
	case attr.TypeB:
		return x.T == attr.TypeB && bytes.Contains(v.B, x.B)
	case attr.TypeSS:
		if x.T == attr.TypeS {
			for _, s := range v.SS {
				if s == x.S {
					return true
				}
			}
		}
	case attr.TypeNS:
		if x.T == attr.TypeN {
			for _, n := range v.NS {
				if attr.CompareNumbers(n, x.N) == 0 {
					return true
				}
			}
		}
	case attr.TypeBS:
		if x.T == attr.TypeB {
			for _, b := range v.BS {
				if bytes.Equal(b, x.B) {
					return true
				}
			}
		}
	case attr.TypeL:
		for _, e := range v.L {
			if attr.Equal(e, x) {
				return true
			}
		}
	}
	return false
}

// ---- projection ----

// projNode is one level of a projection tree.
type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

func (n *projNode) child(e PathElem) *projNode {
	if e.IsIndex {
		if n.indexes == nil {
			n.indexes = map[int]*projNode{}
		}
		c := n.indexes[e.Index]
		if c == nil {
			c = &projNode{}
			n.indexes[e.Index] = c
		}
		return c
	}
	if n.names == nil {
		n.names = map[string]*projNode{}
	}
	c := n.names[e.Name]
	if c == nil {
		c = &projNode{}
		n.names[e.Name] = c
	}
	return c
}

// ProjectPaths returns a new item holding only the parts of item at the
// given paths, as DynamoDB projects: maps keep only the named keys, lists
// keep only the indexed elements, in index order, so they come out
// shorter. Paths that lead nowhere contribute nothing. The result shares no
// memory with item.
func ProjectPaths(item attr.Item, paths []Path) attr.Item {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			n = n.child(e)
		}
		n.leaf = true
	}
	out := attr.Item{}
	for name, n := range root.names {
		if v, ok := item[name]; ok {
			if pv, ok := project(v, n); ok {
				out[name] = pv
			}
		}
	}
	return out
}

func project(v attr.Value, n *projNode) (attr.Value, bool) {
	if n.leaf {
		return v.Clone(), true
	}
	switch {
	case v.T == attr.TypeM && n.names != nil:
		m := map[string]attr.Value{}
		for name, c := range n.names {
			if cv, ok := v.M[name]; ok {
				if pv, ok := project(cv, c); ok {
					m[name] = pv
				}
			}
		}
		if len(m) == 0 {
			return attr.Value{}, false
		}
		return attr.M(m), true
	case v.T == attr.TypeL && n.indexes != nil:
		idx := make([]int, 0, len(n.indexes))
		for i := range n.indexes {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var l []attr.Value
		for _, i := range idx {
			if i < len(v.L) {
				if pv, ok := project(v.L[i], n.indexes[i]); ok {
					l = append(l, pv)
				}
			}
		}
		if len(l) == 0 {
			return attr.Value{}, false
		}
		return attr.L(l), true
	}
	return attr.Value{}, false
}
