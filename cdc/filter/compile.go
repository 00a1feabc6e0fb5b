package filter

import (
	"fmt"
	"strconv"
	"strings"
)

// object is a compiled pattern object: every field must match (AND), and
// when "$or" is present one of its alternatives must match too.
type object struct {
	fields []field
	or     []*object
}

// field is one name of a pattern object, with either a nested object or a
// leaf (the array of rules).
type field struct {
	name string
	// path is the names from the pattern root down to this field, "$or"
	// alternatives adding none; exists:false reads it when the record has
	// an array above the field (see scope).
	path []string
	sub  *object
	leaf *leaf
}

// leaf is the array of rules of one field; one matching rule is enough.
type leaf struct {
	rules     []rule
	values    bool // some rule tests values (anything but exists)
	exists    bool // some rule is {"exists": true}
	notExists bool // some rule is {"exists": false}
}

type op uint8

const (
	opString      op = iota // "text": equal strings
	opNumber                // 300: the same number literal
	opTrue                  // true
	opFalse                 // false
	opNull                  // null
	opEqualsFold            // {"equals-ignore-case": "text"}
	opPrefix                // {"prefix": "text"}
	opPrefixFold            // {"prefix": {"equals-ignore-case": "text"}}
	opSuffix                // {"suffix": "text"}
	opSuffixFold            // {"suffix": {"equals-ignore-case": "text"}}
	opAnythingBut           // {"anything-but": …}
	opNumeric               // {"numeric": [">", 0, "<=", 5]}
	opExists                // {"exists": true|false}; handled by leaf flags
)

// rule is one element of a leaf array.
type rule struct {
	op op
	// s is the string operand, or the literal of an exact number.
	s    string
	b    []byte // s as bytes, for prefix, suffix and case-folding tests
	strs []string
	nums []decimal
	lo   bound
	hi   bound
	// exists is the operand of {"exists": …}.
	exists bool
}

// bound is one end of a numeric range.
type bound struct {
	set  bool
	incl bool
	d    decimal
}

// Operator names. A "$or" array whose objects use one of these as a key is
// an ordinary field named "$or", as in EventBridge.
const (
	kwAnythingBut = "anything-but"
	kwCidr        = "cidr"
	kwEqualsFold  = "equals-ignore-case"
	kwExists      = "exists"
	kwNumeric     = "numeric"
	kwPrefix      = "prefix"
	kwSuffix      = "suffix"
	kwWildcard    = "wildcard"
)

func isKeyword(s string) bool {
	switch s {
	case kwAnythingBut, kwCidr, kwEqualsFold, kwExists, kwNumeric, kwPrefix, kwSuffix, kwWildcard:
		return true
	}
	return false
}

// Numeric matching limits, as Event Ruler (the matching library behind
// EventBridge) documents them: values between -5.0e9 and +5.0e9 with at
// most six digits right of the point. (Older EventBridge pages say 1.0e9,
// which would exclude today's epoch seconds.)
var (
	numericMax = parseDecimal([]byte("5000000000"))
	numericMin = parseDecimal([]byte("-5000000000"))
)

const numericMaxFrac = 6

type compiler struct {
	d *doc
}

func (c *compiler) errorf(where, format string, args ...any) error {
	return &PatternError{Path: where, Msg: fmt.Sprintf(format, args...)}
}

// object compiles the pattern object at node n. path is the names leading
// to it (what exists:false follows); where is the same path for messages,
// with "$or[i]" steps included.
func (c *compiler) object(n int32, path []string, where string) (*object, error) {
	d := c.d
	members := d.children(n)
	if len(members) == 0 {
		return nil, c.errorf(where, "an empty object matches nothing; name at least one field")
	}
	o := &object{}
	for i, m := range members {
		name := string(d.key(m))
		for _, prev := range members[:i] {
			if string(d.key(prev)) == name {
				return nil, c.errorf(where, "field %q appears twice", name)
			}
		}
		fpath := append(path[:len(path):len(path)], name)
		fwhere := join(where, name)
		switch d.nodes[m].kind {
		case kindObject:
			sub, err := c.object(m, fpath, fwhere)
			if err != nil {
				return nil, err
			}
			o.fields = append(o.fields, field{name: name, path: fpath, sub: sub})
		case kindArray:
			if name == "$or" && c.isOr(m) {
				alts := d.children(m)
				if len(alts) < 2 {
					return nil, c.errorf(fwhere, "\"$or\" needs at least two alternatives, such as [{\"a\": [\"x\"]}, {\"b\": [\"y\"]}]")
				}
				for j, alt := range alts {
					sub, err := c.object(alt, path, fmt.Sprintf("%s[%d]", fwhere, j))
					if err != nil {
						return nil, err
					}
					o.or = append(o.or, sub)
				}
				continue
			}
			l, err := c.leaf(m, fwhere)
			if err != nil {
				return nil, err
			}
			o.fields = append(o.fields, field{name: name, path: fpath, leaf: l})
		default:
			return nil, c.errorf(fwhere, "must be an array of values to match, such as [\"INSERT\"], or an object; found %s", describe(d, m))
		}
	}
	return o, nil
}

// isOr reports whether a "$or" array is the Or primitive: an array of
// objects none of which uses an operator name as a key. Anything else is a
// field that happens to be named "$or".
func (c *compiler) isOr(n int32) bool {
	d := c.d
	alts := d.children(n)
	if len(alts) == 0 {
		return false
	}
	for _, a := range alts {
		if d.nodes[a].kind != kindObject {
			return false
		}
		for _, m := range d.children(a) {
			if isKeyword(string(d.key(m))) {
				return false
			}
		}
	}
	return true
}

func join(where, name string) string {
	if where == "" {
		return name
	}
	return where + "." + name
}

// leaf compiles the array of rules at node n.
func (c *compiler) leaf(n int32, where string) (*leaf, error) {
	d := c.d
	elems := d.children(n)
	if len(elems) == 0 {
		return nil, c.errorf(where, "an empty array matches nothing; list at least one value, such as [\"INSERT\"]")
	}
	l := &leaf{}
	for _, e := range elems {
		var r rule
		switch nd := d.nodes[e]; nd.kind {
		case kindString:
			r = rule{op: opString, s: string(d.bytes(e))}
		case kindNumber:
			r = rule{op: opNumber, s: string(d.bytes(e))}
		case kindTrue:
			r = rule{op: opTrue}
		case kindFalse:
			r = rule{op: opFalse}
		case kindNull:
			r = rule{op: opNull}
		case kindArray:
			return nil, c.errorf(where, "arrays cannot be nested; list the values in one array")
		case kindObject:
			var err error
			if r, err = c.operator(e, where); err != nil {
				return nil, err
			}
		}
		if r.op == opExists {
			if r.exists {
				l.exists = true
			} else {
				l.notExists = true
			}
			continue
		}
		r.b = []byte(r.s)
		l.values = true
		l.rules = append(l.rules, r)
	}
	return l, nil
}

// operator compiles an operator object such as {"prefix": "us-"}.
func (c *compiler) operator(n int32, where string) (rule, error) {
	d := c.d
	members := d.children(n)
	if len(members) != 1 {
		return rule{}, c.errorf(where, "an operator object holds exactly one operator, such as {\"prefix\": \"us-\"}; found %d fields", len(members))
	}
	m := members[0]
	name := string(d.key(m))
	switch name {
	case kwEqualsFold:
		s, err := c.str(m, where, name)
		return rule{op: opEqualsFold, s: s}, err
	case kwPrefix, kwSuffix:
		plain, fold := opPrefix, opPrefixFold
		if name == kwSuffix {
			plain, fold = opSuffix, opSuffixFold
		}
		if d.nodes[m].kind == kindObject {
			inner := d.children(m)
			if len(inner) != 1 || string(d.key(inner[0])) != kwEqualsFold {
				return rule{}, c.errorf(where, "%q takes a string or {\"equals-ignore-case\": \"text\"}", name)
			}
			s, err := c.str(inner[0], where, name+" equals-ignore-case")
			return rule{op: fold, s: s}, err
		}
		s, err := c.str(m, where, name)
		return rule{op: plain, s: s}, err
	case kwAnythingBut:
		return c.anythingBut(m, where)
	case kwNumeric:
		return c.numeric(m, where)
	case kwExists:
		switch d.nodes[m].kind {
		case kindTrue:
			return rule{op: opExists, exists: true}, nil
		case kindFalse:
			return rule{op: opExists, exists: false}, nil
		}
		return rule{}, c.errorf(where, "\"exists\" takes true or false; found %s", describe(d, m))
	case kwWildcard, kwCidr:
		return rule{}, c.errorf(where, "%q is not supported in Lambda event filtering", name)
	}
	return rule{}, c.errorf(where, "unknown operator %q; use \"prefix\", \"suffix\", \"equals-ignore-case\", \"anything-but\", \"numeric\" or \"exists\"", name)
}

// str returns the string at node n, the operand of op.
func (c *compiler) str(n int32, where, op string) (string, error) {
	if c.d.nodes[n].kind != kindString {
		return "", c.errorf(where, "%q takes a string; found %s", op, describe(c.d, n))
	}
	return string(c.d.bytes(n)), nil
}

// anythingBut compiles the operand of "anything-but": a string, a number,
// or a non-empty array of only strings or only numbers.
func (c *compiler) anythingBut(n int32, where string) (rule, error) {
	d := c.d
	r := rule{op: opAnythingBut}
	elems := []int32{n}
	switch d.nodes[n].kind {
	case kindArray:
		elems = d.children(n)
		if len(elems) == 0 {
			return rule{}, c.errorf(where, "\"anything-but\" needs at least one value")
		}
	case kindObject:
		for _, m := range d.children(n) {
			switch k := string(d.key(m)); k {
			case kwPrefix, kwSuffix, kwEqualsFold, kwWildcard:
				return rule{}, c.errorf(where, "\"anything-but\" with %q is not supported in Lambda event filtering; use \"anything-but\" with a list of values", k)
			}
		}
		return rule{}, c.errorf(where, "\"anything-but\" takes a string, a number, or an array of strings or of numbers; found %s", describe(d, n))
	}
	for _, e := range elems {
		switch d.nodes[e].kind {
		case kindString:
			r.strs = append(r.strs, string(d.bytes(e)))
		case kindNumber:
			x, err := c.number(e, where, "anything-but")
			if err != nil {
				return rule{}, err
			}
			r.nums = append(r.nums, x)
		default:
			return rule{}, c.errorf(where, "\"anything-but\" takes strings or numbers; found %s", describe(d, e))
		}
	}
	if len(r.strs) > 0 && len(r.nums) > 0 {
		return rule{}, c.errorf(where, "\"anything-but\" takes a list of only strings or only numbers, not both")
	}
	return r, nil
}

// numeric compiles the operand of "numeric": ["=", x], [op, x], or a lower
// and an upper bound in either order, such as [">", 0, "<=", 5].
func (c *compiler) numeric(n int32, where string) (rule, error) {
	d := c.d
	if d.nodes[n].kind != kindArray {
		return rule{}, c.errorf(where, "numeric range: \"numeric\" takes an array such as [\">\", 0, \"<=\", 5]; found %s", describe(d, n))
	}
	elems := d.children(n)
	if len(elems) != 2 && len(elems) != 4 {
		return rule{}, c.errorf(where, "numeric range: expected an operator and a number, or two of each, such as [\">\", 0, \"<=\", 5]; found %d elements", len(elems))
	}
	r := rule{op: opNumeric}
	var ops []string
	for i := 0; i < len(elems); i += 2 {
		on, vn := elems[i], elems[i+1]
		if d.nodes[on].kind != kindString {
			return rule{}, c.errorf(where, "numeric range: expected an operator (\"=\", \"<\", \"<=\", \">\" or \">=\") at position %d; found %s", i, describe(d, on))
		}
		o := string(d.bytes(on))
		if d.nodes[vn].kind != kindNumber {
			return rule{}, c.errorf(where, "numeric range: %q must be followed by a number; found %s", o, describe(d, vn))
		}
		x, err := c.number(vn, where, "numeric range")
		if err != nil {
			return rule{}, err
		}
		ops = append(ops, o)
		switch o {
		case "=":
			if len(elems) != 2 {
				return rule{}, c.errorf(where, "numeric range: \"=\" cannot be combined with another operator")
			}
			r.lo = bound{set: true, incl: true, d: x}
			r.hi = r.lo
		case ">", ">=":
			if r.lo.set {
				return rule{}, c.errorf(where, "numeric range: two lower bounds (%q and %q); give one lower (\">\" or \">=\") and one upper (\"<\" or \"<=\") bound", ops[0], o)
			}
			r.lo = bound{set: true, incl: o == ">=", d: x}
		case "<", "<=":
			if r.hi.set {
				return rule{}, c.errorf(where, "numeric range: two upper bounds (%q and %q); give one lower (\">\" or \">=\") and one upper (\"<\" or \"<=\") bound", ops[0], o)
			}
			r.hi = bound{set: true, incl: o == "<=", d: x}
		default:
			return rule{}, c.errorf(where, "numeric range: unknown operator %q; use \"=\", \"<\", \"<=\", \">\" or \">=\"", o)
		}
	}
	if len(elems) == 4 && cmpDecimal(&r.lo.d, &r.hi.d) >= 0 {
		return rule{}, c.errorf(where, "numeric range: the lower bound %s is not below the upper bound %s, so nothing can match", literal(r.lo.d), literal(r.hi.d))
	}
	return r, nil
}

// number reads a number operand and checks it against the numeric limits.
func (c *compiler) number(n int32, where, op string) (decimal, error) {
	text := append([]byte(nil), c.d.bytes(n)...)
	x := parseDecimal(text)
	if cmpDecimal(&x, &numericMin) < 0 || cmpDecimal(&x, &numericMax) > 0 {
		return decimal{}, c.errorf(where, "%s: %s is outside the supported range -5.0e9 to 5.0e9", op, text)
	}
	if x.fracPlaces() > numericMaxFrac {
		return decimal{}, c.errorf(where, "%s: %s has more than %d digits right of the decimal point", op, text, numericMaxFrac)
	}
	return x, nil
}

// literal prints a decimal back for a message.
func literal(x decimal) string {
	var b strings.Builder
	if x.neg {
		b.WriteByte('-')
	}
	b.Write(x.int)
	if len(x.frac) > 0 {
		b.WriteByte('.')
		b.Write(x.frac)
	}
	if x.exp != 0 {
		b.WriteByte('e')
		b.WriteString(strconv.FormatInt(x.exp, 10))
	}
	return b.String()
}

// describe names the value at node n for a message: strings and numbers
// verbatim, anything else by its type.
func describe(d *doc, n int32) string {
	switch d.nodes[n].kind {
	case kindString:
		return strconv.Quote(string(d.bytes(n)))
	case kindNumber:
		return string(d.bytes(n))
	case kindTrue:
		return "true"
	case kindFalse:
		return "false"
	}
	return kindName(d.nodes[n].kind)
}
