package expr

import (
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// resolver substitutes #names and :values and records which were used.
type resolver struct {
	names  Names
	values Values
	usage  Usage
}

func newResolver(names Names, values Values) *resolver {
	return &resolver{names: names, values: values, usage: Usage{Names: map[string]struct{}{}, Values: map[string]struct{}{}}}
}

// path resolves the placeholders of p in place and returns the first
// undefined #name, or "".
func (r *resolver) path(p Path) string {
	for i := range p {
		e := &p[i]
		if e.IsIndex {
			continue
		}
		if !strings.HasPrefix(e.Ref, "#") {
			e.Name = e.Ref
			continue
		}
		n, ok := r.names[e.Ref]
		if !ok {
			return e.Ref
		}
		e.Name = n
		r.usage.Names[e.Ref] = struct{}{}
	}
	return ""
}

// value resolves an :value operand and reports whether it is defined.
func (r *resolver) value(o *Operand) bool {
	v, ok := r.values[o.Ref]
	if !ok {
		return false
	}
	o.Value = v
	r.usage.Values[o.Ref] = struct{}{}
	return true
}

// walkOperands visits o and its arguments in source order, parents first.
func walkOperands(o *Operand, f func(*Operand)) {
	f(o)
	for _, a := range o.Args {
		walkOperands(a, f)
	}
}

// walkPost visits the arguments of o before o itself.
func walkPost(o *Operand, f func(*Operand)) {
	for _, a := range o.Args {
		walkPost(a, f)
	}
	f(o)
}

// reservedIn returns the first reserved word used as a plain name in p.
func reservedIn(p Path) string {
	for _, e := range p {
		if !e.IsIndex && !strings.HasPrefix(e.Ref, "#") && IsReserved(e.Ref) {
			return e.Ref
		}
	}
	return ""
}

var conditionFuncs = map[string]int{
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
}

var updateFuncs = map[string]int{"if_not_exists": 2, "list_append": 2}

// staticType is the type an operand is known to have before evaluation:
// a value's type, N for size(), or TypeInvalid when it depends on the item.
func staticType(o *Operand) attr.Type {
	switch o.Kind {
	case OpValue:
		return o.Value.T
	case OpSize:
		return attr.TypeN
	}
	return attr.TypeInvalid
}

func orderable(t attr.Type) bool { return t == attr.TypeS || t == attr.TypeN || t == attr.TypeB }

// ---- conditions ----

// Error categories of a condition, in the order DynamoDB reports them.
const (
	cParens = iota
	cFunctionName
	cMisused
	cReserved
	cDepth
	cCount
)

// Error categories within one simple condition (a comparison or function).
const (
	lNameValue = iota
	lArity
	lDistinct
	lFunction
	lCount
)

// checkCond validates a parsed condition and resolves its placeholders.
func checkCond(k Kind, c *Cond, redundant bool, r *resolver) error {
	es := newErrSet(k, cCount)
	if redundant {
		es.add(cParens, msgRedundant)
	}
	var global func(c *Cond)
	operandGlobal := func(o *Operand) {
		walkOperands(o, func(o *Operand) {
			switch o.Kind {
			case OpCall:
				switch {
				case o.Fn == "size":
					o.Kind = OpSize
				case conditionFuncs[o.Fn] > 0:
					es.add(cMisused, msgMisusedFn, o.Fn)
				case updateFuncs[o.Fn] > 0:
					es.add(cFunctionName, msgFnInCondition, o.Fn)
				default:
					es.add(cFunctionName, msgUnknownFn, o.Fn)
				}
			case OpPath:
				if w := reservedIn(o.Path); w != "" {
					es.add(cReserved, msgReserved, w)
				}
				if len(o.Path) > MaxPathDepth {
					es.add(cDepth, msgPathDepth, len(o.Path))
				}
			}
		})
	}
	global = func(c *Cond) {
		switch c.Kind {
		case CondAnd, CondOr:
			global(c.L)
			global(c.R)
			return
		case CondNot:
			global(c.L)
			return
		case CondFunc:
			switch {
			case c.Op == "size":
				es.add(cMisused, msgMisusedFn, c.Op)
			case conditionFuncs[c.Op] > 0:
			case updateFuncs[c.Op] > 0:
				es.add(cFunctionName, msgFnInCondition, c.Op)
			default:
				es.add(cFunctionName, msgUnknownFn, c.Op)
			}
		}
		for _, a := range c.Args {
			operandGlobal(a)
		}
	}
	global(c)
	if err := es.err(); err != nil {
		return err
	}
	return forLeaves(c, func(leaf *Cond) error { return checkLeaf(k, leaf, r) })
}

// forLeaves calls f on each simple condition, left to right, stopping at
// the first error.
func forLeaves(c *Cond, f func(*Cond) error) error {
	switch c.Kind {
	case CondAnd, CondOr:
		if err := forLeaves(c.L, f); err != nil {
			return err
		}
		return forLeaves(c.R, f)
	case CondNot:
		return forLeaves(c.L, f)
	}
	return f(c)
}

func checkLeaf(k Kind, c *Cond, r *resolver) error {
	es := newErrSet(k, lCount)
	for _, a := range c.Args {
		walkOperands(a, func(o *Operand) {
			if es.has(lNameValue) {
				return
			}
			switch o.Kind {
			case OpPath:
				if ref := r.path(o.Path); ref != "" {
					es.add(lNameValue, msgUndefinedName, ref)
				}
			case OpValue:
				if !r.value(o) {
					es.add(lNameValue, msgUndefinedValue, o.Ref)
				}
			}
		})
	}
	if es.has(lNameValue) {
		return es.err()
	}
	// Nested size() first, then the condition itself: DynamoDB checks
	// inner functions before outer ones.
	for _, a := range c.Args {
		walkPost(a, func(o *Operand) {
			if o.Kind != OpSize {
				return
			}
			if len(o.Args) != 1 {
				es.add(lArity, msgArity, "size", len(o.Args))
				return
			}
			if t := staticType(o.Args[0]); t == attr.TypeN || t == attr.TypeBOOL || t == attr.TypeNULL {
				es.add(lFunction, msgOperandType, "size", t)
			}
		})
	}
	switch c.Kind {
	case CondFunc:
		if n := conditionFuncs[c.Op]; n != len(c.Args) {
			es.add(lArity, msgArity, c.Op, len(c.Args))
			break
		}
		if len(c.Args) == 2 {
			checkDistinct(es, c.Op, c.Args[0], c.Args[1])
		}
		switch c.Op {
		case "attribute_exists", "attribute_not_exists":
			if c.Args[0].Kind != OpPath {
				es.add(lFunction, msgNeedsPath, c.Op)
			}
		case "attribute_type":
			t := c.Args[1]
			switch {
			case t.Kind == OpValue && t.Value.T == attr.TypeS:
				if !validTypeName(t.Value.S) {
					es.add(lFunction, msgTypeName, t.Value.S)
				}
			case t.Kind == OpValue || t.Kind == OpSize:
				es.add(lFunction, msgOperandType, c.Op, staticType(t))
			default:
				es.add(lFunction, msgOperandType, c.Op, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
			}
		case "begins_with":
			for _, a := range c.Args {
				if t := staticType(a); t != attr.TypeInvalid && t != attr.TypeS && t != attr.TypeB {
					es.add(lFunction, msgOperandType, c.Op, t)
				}
			}
		}
	case CondCompare:
		checkDistinct(es, c.Op, c.Args[0], c.Args[1])
		if c.Op != "=" && c.Op != "<>" {
			for _, a := range c.Args {
				if t := staticType(a); t != attr.TypeInvalid && !orderable(t) {
					es.add(lFunction, msgOperandType, c.Op, t)
				}
			}
		}
	case CondBetween:
		for _, b := range c.Args[1:] {
			checkDistinct(es, "BETWEEN", c.Args[0], b)
		}
		for _, a := range c.Args {
			if t := staticType(a); t != attr.TypeInvalid && !orderable(t) {
				es.add(lFunction, msgOperandType, "BETWEEN", t)
			}
		}
		lo, hi := c.Args[1], c.Args[2]
		if lo.Kind == OpValue && hi.Kind == OpValue && orderable(lo.Value.T) && orderable(hi.Value.T) {
			switch {
			case lo.Value.T != hi.Value.T:
				es.add(lFunction, msgBetweenTypes, shortValue(lo.Value), shortValue(hi.Value))
			case attr.Compare(lo.Value, hi.Value) > 0:
				es.add(lFunction, msgBetweenOrder, shortValue(lo.Value), shortValue(hi.Value))
			}
		}
	case CondIn:
		for _, b := range c.Args[1:] {
			checkDistinct(es, "IN", c.Args[0], b)
		}
		if n := len(c.Args) - 1; n > MaxInOperands {
			es.add(lFunction, msgInTooMany, n)
		}
	}
	return es.err()
}

func checkDistinct(es *errSet, op string, a, b *Operand) {
	if a.Kind == OpPath && b.Kind == OpPath && a.Path.equalResolved(b.Path) {
		es.add(lDistinct, msgDistinct, op, a.Path.display())
	}
}

func validTypeName(s string) bool {
	switch s {
	case "S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M":
		return true
	}
	return false
}

// ---- overlapping and conflicting paths (updates and projections) ----

// checkPaths reports the first pair of paths that overlap (one is a prefix
// of the other) and the first pair that conflict (one treats a step as a
// map key where the other treats it as a list index); path one is the
// earlier in the expression.
func checkPaths(es *errSet, overlapCat, conflictCat int, paths []Path) {
	for j := 1; j < len(paths); j++ {
		for i := 0; i < j; i++ {
			a, b := paths[i], paths[j]
			n := min(len(a), len(b))
			k := 0
			for k < n && a[k].IsIndex == b[k].IsIndex && a[k].Index == b[k].Index && a[k].Name == b[k].Name {
				k++
			}
			switch {
			case k == n:
				es.add(overlapCat, msgOverlap, a.display(), b.display())
			case a[k].IsIndex != b[k].IsIndex:
				es.add(conflictCat, msgConflict, a.display(), b.display())
			}
		}
	}
}
