package expr

import (
	"slices"

	"github.com/sluicedb/sluice/engine/attr"
)

// Names is a request's ExpressionAttributeNames: "#placeholder" -> name.
type Names map[string]string

// Values is a request's ExpressionAttributeValues: ":placeholder" -> value.
// Values must have passed attr.ValidateValue.
type Values map[string]attr.Value

// Usage is the set of placeholders one expression used. DynamoDB reports
// unused placeholders across all the expressions of one request; see
// CheckUnused.
type Usage struct {
	Names  map[string]struct{}
	Values map[string]struct{}
}

// CheckUnused reports ExpressionAttributeNames or ExpressionAttributeValues
// that none of the given usages (one per expression of the request)
// mentions, with DynamoDB's message. Names are checked before values.
func CheckUnused(names Names, values Values, used ...Usage) error {
	var unused []string
	for k := range names {
		if !usedIn(k, used, func(u Usage) map[string]struct{} { return u.Names }) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		return attr.Invalid("Value provided in ExpressionAttributeNames unused in expressions: keys: %s", sortedKeys(unused))
	}
	for k := range values {
		if !usedIn(k, used, func(u Usage) map[string]struct{} { return u.Values }) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		return attr.Invalid("Value provided in ExpressionAttributeValues unused in expressions: keys: %s", sortedKeys(unused))
	}
	return nil
}

func usedIn(k string, used []Usage, set func(Usage) map[string]struct{}) bool {
	for _, u := range used {
		if _, ok := set(u)[k]; ok {
			return true
		}
	}
	return false
}

// preflight applies the checks DynamoDB makes before parsing: emptiness,
// the 4 KB size limit and the placeholder length limit. It returns the
// parser ready to run.
func preflight(k Kind, s string) (*parser, error) {
	if len(s) > MaxExpressionBytes {
		return nil, invalid(k, msgTooLong, len(s))
	}
	p := newParser(k, s)
	if len(p.toks) == 1 {
		return nil, invalid(k, msgEmpty)
	}
	for _, t := range p.toks {
		if (t.kind == tName || t.kind == tValue) && len(t.text) > MaxPlaceholderBytes {
			return nil, invalid(k, msgPlaceholderLen, t.text)
		}
	}
	return p, nil
}

// Condition is a checked ConditionExpression or FilterExpression.
type Condition struct {
	Kind  Kind
	Root  *Cond
	usage Usage
}

// ParseCondition parses and checks a ConditionExpression or
// FilterExpression (kind selects the wording of errors) and resolves its
// placeholders. Errors are *attr.Error ValidationExceptions with DynamoDB's
// text.
func ParseCondition(kind Kind, s string, names Names, values Values) (*Condition, error) {
	root, p, err := parseCond(kind, s)
	if err != nil {
		return nil, err
	}
	r := newResolver(names, values)
	if err := checkCond(kind, root, p.parens, r); err != nil {
		return nil, err
	}
	return &Condition{Kind: kind, Root: root, usage: r.usage}, nil
}

func parseCond(kind Kind, s string) (*Cond, *parser, error) {
	p, err := preflight(kind, s)
	if err != nil {
		return nil, nil, err
	}
	root, _ := p.cond()
	if root == nil || !p.atEOF() {
		return nil, nil, p.syntaxError()
	}
	return root, p, nil
}

// Used returns the placeholders the expression used.
func (c *Condition) Used() Usage { return c.usage }

// String prints the condition with its placeholders; parsing the result
// with the same names and values gives the same tree.
func (c *Condition) String() string { return c.Root.String() }

// Eval reports whether item satisfies the condition. A nil or empty item
// is an absent item: only attribute_not_exists and <> can hold. Evaluation
// never fails (DynamoDB reports type problems as false), but the error
// return lets Condition satisfy the engine's condition interface.
func (c *Condition) Eval(item attr.Item) (bool, error) {
	return evalCond(c.Root, item), nil
}

// Projection is a checked ProjectionExpression.
type Projection struct {
	Paths []Path
	usage Usage
}

// ParseProjection parses and checks a ProjectionExpression.
func ParseProjection(s string, names Names) (*Projection, error) {
	const k = KindProjection
	p, err := preflight(k, s)
	if err != nil {
		return nil, err
	}
	paths, ok := p.projection()
	if !ok {
		return nil, p.syntaxError()
	}
	const (
		pReserved = iota
		pDepth
		pName
		pOverlap
		pConflict
		pCount
	)
	es := newErrSet(k, pCount)
	r := newResolver(names, nil)
	for _, path := range paths {
		if w := reservedIn(path); w != "" {
			es.add(pReserved, msgReserved, w)
		}
		if len(path) > MaxPathDepth {
			es.add(pDepth, msgPathDepth, len(path))
		}
		if !es.has(pName) {
			if ref := r.path(path); ref != "" {
				es.add(pName, msgUndefinedName, ref)
			}
		}
	}
	if !es.has(pName) {
		checkPaths(es, pOverlap, pConflict, paths)
	}
	if err := es.err(); err != nil {
		return nil, err
	}
	return &Projection{Paths: paths, usage: r.usage}, nil
}

// Used returns the placeholders the expression used.
func (p *Projection) Used() Usage { return p.usage }

// String prints the projection with its placeholders.
func (p *Projection) String() string {
	s := ""
	for i, path := range p.Paths {
		if i > 0 {
			s += ", "
		}
		s += path.String()
	}
	return s
}

// Project returns the parts of item the projection names; see ProjectPaths.
func (p *Projection) Project(item attr.Item) attr.Item { return ProjectPaths(item, p.Paths) }

// Attributes returns the top-level attribute names the condition's document
// paths start with, each once, in the order they first appear (Query uses it
// to refuse a filter on a key attribute, as DynamoDB does).
func (c *Condition) Attributes() []string {
	var out []string
	for _, p := range c.Paths() {
		if !slices.Contains(out, p[0].Name) {
			out = append(out, p[0].Name)
		}
	}
	return out
}

// Paths returns the document paths the condition reads, in the order
// written.
func (c *Condition) Paths() []Path {
	var out []Path
	var cond func(x *Cond)
	cond = func(x *Cond) {
		if x == nil {
			return
		}
		cond(x.L)
		cond(x.R)
		for _, a := range x.Args {
			out = appendPaths(out, a)
		}
	}
	cond(c.Root)
	return out
}

// appendPaths appends the document paths of o and its arguments.
func appendPaths(out []Path, o *Operand) []Path {
	if o == nil {
		return out
	}
	walkOperands(o, func(o *Operand) {
		if o.Kind == OpPath && len(o.Path) > 0 {
			out = append(out, o.Path)
		}
	})
	return out
}
