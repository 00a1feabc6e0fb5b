package expr

import (
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// KeyCondition is a checked KeyConditionExpression: one or two simple
// conditions joined by AND, each naming one top-level attribute. Bind
// matches it against a key schema.
type KeyCondition struct {
	Conds []KeyCond
	root  *Cond
	usage Usage
}

// KeyCond is one condition of a KeyConditionExpression, normalized so that
// the attribute comes first (":v < sk" becomes "sk > :v").
type KeyCond struct {
	Name   string       // attribute name
	Op     string       // "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"
	Values []attr.Value // one value; two for BETWEEN
}

// KeySchema is what Bind needs to know of a table or index key.
type KeySchema struct {
	Hash      string
	HashType  attr.Type // TypeInvalid skips the type check
	Range     string    // "" when there is no sort key
	RangeType attr.Type
	// Partition and Sort describe a GSI whose partition key or sort key
	// has several attributes (multi-attribute keys): each attribute in
	// KeySchema order. When Partition is set, Hash and Range are ignored.
	Partition, Sort []KeyAttr
}

// KeyAttr is one attribute of a multi-attribute key.
type KeyAttr struct {
	Name string
	Type attr.Type // TypeInvalid skips the type check
}

// KeyRange is a bound key condition: the partition value and an optional
// sort-key condition, ready for Query.
type KeyRange struct {
	HashName  string
	HashValue attr.Value
	// HashValues, for a multi-attribute partition key, holds the value of
	// each attribute in KeySchema order (HashValue is the first).
	HashValues []attr.Value
	// SortEq, for a multi-attribute sort key, holds the values of the
	// leading sort-key attributes the condition tests for equality, in
	// KeySchema order; Range is then the condition on the next attribute.
	SortEq []attr.Value
	Range  *KeyCond // nil: the whole partition (or every SortEq match)
}

// MaxKeyConditions is the most conditions a key condition can have: one per
// attribute of a GSI with four partition-key and four sort-key attributes.
const MaxKeyConditions = 8

// ParseKeyCondition parses and checks a KeyConditionExpression. The checks
// that need no schema happen here, in DynamoDB's order; Bind does the rest
// once the table is known.
func ParseKeyCondition(s string, names Names, values Values) (*KeyCondition, error) {
	const k = KindKeyCondition
	root, p, err := parseCond(k, s)
	if err != nil {
		return nil, err
	}
	r := newResolver(names, values)
	if err := checkCond(k, root, p.parens, r); err != nil {
		return nil, err
	}
	if op := badKeyOperator(root); op != "" {
		return nil, attr.Invalid("Invalid operator used in KeyConditionExpression: %s", op)
	}
	var leaves []*Cond
	_ = forLeaves(root, func(c *Cond) error { leaves = append(leaves, c); return nil })
	kc := &KeyCondition{root: root, usage: r.usage}
	seen := map[string]bool{}
	for _, c := range leaves {
		cond, err := keyLeaf(c)
		if err != nil {
			return nil, err
		}
		if seen[cond.Name] {
			return nil, attr.Invalid("Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key")
		}
		seen[cond.Name] = true
		kc.Conds = append(kc.Conds, cond)
	}
	// More than two conditions are valid only on a GSI with multi-attribute
	// keys, which Bind knows of; past the most any GSI takes, the request
	// is refused here, before its table is looked up.
	if len(kc.Conds) > MaxKeyConditions {
		return nil, attr.Invalid(msgConditionsLength)
	}
	return kc, nil
}

// badKeyOperator returns the first operator a key condition may not use.
func badKeyOperator(c *Cond) string {
	switch c.Kind {
	case CondAnd:
		if op := badKeyOperator(c.L); op != "" {
			return op
		}
		return badKeyOperator(c.R)
	case CondOr:
		return "OR"
	case CondNot:
		return "NOT"
	case CondIn:
		return "IN"
	case CondCompare:
		if c.Op == "<>" {
			return "<>"
		}
	case CondFunc:
		if c.Op != "begins_with" {
			return c.Op
		}
	}
	return ""
}

var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func keyLeaf(c *Cond) (KeyCond, error) {
	op := c.Op
	if c.Kind == CondBetween {
		op = "BETWEEN"
	}
	if (c.Kind == CondBetween || c.Kind == CondFunc) && c.Args[0].Kind != OpPath {
		return KeyCond{}, attr.Invalid("Invalid condition in KeyConditionExpression: %s operator must have the key attribute as its first operand", op)
	}
	var paths []*Operand
	for _, a := range c.Args {
		if a.Kind == OpPath {
			paths = append(paths, a)
		}
	}
	if len(paths) > 0 && len(paths[0].Path) > 1 {
		return KeyCond{}, attr.Invalid("KeyConditionExpressions cannot have conditions on nested attributes")
	}
	if len(paths) > 1 {
		return KeyCond{}, attr.Invalid("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
	}
	for _, a := range c.Args {
		if a.Kind == OpSize {
			return KeyCond{}, attr.Invalid("KeyConditionExpressions cannot contain nested operations")
		}
	}
	if len(paths) == 0 {
		return KeyCond{}, attr.Invalid("Invalid condition in KeyConditionExpression: No key attribute specified")
	}
	kc := KeyCond{Name: paths[0].Path[0].Name, Op: op}
	if c.Kind == CondCompare && c.Args[0].Kind != OpPath {
		kc.Op = flipped[c.Op]
	}
	for _, a := range c.Args {
		if a.Kind == OpValue {
			kc.Values = append(kc.Values, a.Value)
		}
	}
	return kc, nil
}

// Used returns the placeholders the expression used.
func (k *KeyCondition) Used() Usage { return k.usage }

// String prints the key condition with its placeholders.
func (k *KeyCondition) String() string { return k.root.String() }

// msgConditionsLength is DynamoDB's answer to KeyConditions with more
// conditions than the key has attributes (as dynalite recorded it).
const msgConditionsLength = "Conditions can be of length 1 or 2 only"

// tooManyConditions is DynamoDB's answer to a key condition with more
// conditions than the key has attributes: for a KeyConditionExpression,
// its count against the schema's (recorded from DynamoDB); for the legacy
// KeyConditions, msgConditionsLength.
func (k *KeyCondition) tooManyConditions(attrs int) error {
	if k.root == nil {
		return attr.Invalid(msgConditionsLength)
	}
	return attr.Invalid("The number of query conditions (%d) exceeds the number of key attributes defined in the schema (%d)", len(k.Conds), attrs)
}

// Bind matches the condition against a key schema, with DynamoDB's
// messages, and returns the range to read.
func (k *KeyCondition) Bind(s KeySchema) (*KeyRange, error) {
	if s.Partition != nil {
		return k.bindMulti(s)
	}
	// Two conditions on a one-attribute key are "not supported" below.
	if len(k.Conds) > 2 {
		attrs := 1
		if s.Range != "" {
			attrs = 2
		}
		return nil, k.tooManyConditions(attrs)
	}
	var hash, other *KeyCond
	onKey := false
	for i := range k.Conds {
		c := &k.Conds[i]
		switch c.Name {
		case s.Hash:
			hash, onKey = c, true
		default:
			if s.Range != "" && c.Name == s.Range {
				onKey = true
			}
			other = c
		}
	}
	if hash == nil {
		if len(k.Conds) == 2 && !onKey {
			return nil, attr.Invalid("Query key condition not supported")
		}
		return nil, attr.Invalid("Query condition missed key schema element: %s", s.Hash)
	}
	for _, c := range k.Conds {
		want := s.HashType
		if c.Name != s.Hash {
			want = s.RangeType
			if c.Name != s.Range {
				continue
			}
		}
		for _, v := range c.Values {
			if want != attr.TypeInvalid && v.T != want {
				return nil, attr.Invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
	}
	if hash.Op != "=" || other != nil && (s.Range == "" || other.Name != s.Range) {
		return nil, attr.Invalid("Query key condition not supported")
	}
	kr := &KeyRange{HashName: hash.Name, HashValue: hash.Values[0], Range: other}
	return kr, nil
}

// bindMulti binds the condition to a GSI key with multi-attribute keys.
// DynamoDB's rules (Developer Guide, "Multi-attribute key schema"): every
// partition-key attribute takes an equality; the sort-key attributes are
// given left to right in KeySchema order, with no gap; each but the last
// given takes an equality, and the last takes =, <, <=, >, >=, BETWEEN or
// begins_with. The documentation gives no messages; where none was
// recorded from DynamoDB they are Sluice's choice, in the words DynamoDB
// uses for a one-attribute key:
//
//   - a partition-key attribute without a condition: "Query condition
//     missed key schema element: <attribute>";
//   - a sort-key attribute, before the last one given, without an
//     equality (skipped, or with another operator): DynamoDB's "RANGE key
//     attributes <attributes> must have equality conditions specified in
//     the query because a condition is present on key attribute <last>"
//     (recorded from DynamoDB for one attribute; several are joined by
//     ", ");
//   - a value of the wrong type: "One or more parameter values were
//     invalid: Condition parameter type does not match schema type";
//   - a condition on an attribute that is not a key attribute of the
//     index, or an operator other than = on a partition-key attribute:
//     "Query key condition not supported".
func (k *KeyCondition) bindMulti(s KeySchema) (*KeyRange, error) {
	cond := func(name string) *KeyCond {
		for i := range k.Conds {
			if k.Conds[i].Name == name {
				return &k.Conds[i]
			}
		}
		return nil
	}
	if attrs := len(s.Partition) + len(s.Sort); len(k.Conds) > attrs {
		return nil, k.tooManyConditions(attrs)
	}
	for _, a := range s.Partition {
		if cond(a.Name) == nil {
			return nil, attr.Invalid("Query condition missed key schema element: %s", a.Name)
		}
	}
	last := -1 // the last sort-key attribute with a condition
	for i, a := range s.Sort {
		if cond(a.Name) != nil {
			last = i
		}
	}
	var unequal []string // sort-key attributes before the last given without an equality
	for _, a := range s.Sort[:max(last, 0)] {
		if c := cond(a.Name); c == nil || c.Op != "=" {
			unequal = append(unequal, a.Name)
		}
	}
	if len(unequal) > 0 {
		return nil, attr.Invalid("RANGE key attributes %s must have equality conditions specified in the query because a condition is present on key attribute %s",
			strings.Join(unequal, ", "), s.Sort[last].Name)
	}
	typeOf := map[string]attr.Type{}
	for _, a := range append(append([]KeyAttr(nil), s.Partition...), s.Sort...) {
		typeOf[a.Name] = a.Type
	}
	for _, c := range k.Conds {
		want, ok := typeOf[c.Name]
		if !ok {
			continue
		}
		for _, v := range c.Values {
			if want != attr.TypeInvalid && v.T != want {
				return nil, attr.Invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
	}
	if len(k.Conds) != len(s.Partition)+last+1 {
		return nil, attr.Invalid("Query key condition not supported") // a condition on another attribute
	}
	kr := &KeyRange{HashName: s.Partition[0].Name}
	for _, a := range s.Partition {
		c := cond(a.Name)
		if c.Op != "=" {
			return nil, attr.Invalid("Query key condition not supported")
		}
		kr.HashValues = append(kr.HashValues, c.Values[0])
	}
	kr.HashValue = kr.HashValues[0]
	for i, a := range s.Sort[:last+1] {
		c := cond(a.Name)
		if i == last {
			kr.Range = c
			break
		}
		kr.SortEq = append(kr.SortEq, c.Values[0])
	}
	return kr, nil
}

// Match reports whether a sort-key value satisfies the condition.
func (c *KeyCond) Match(v attr.Value) bool {
	if v.T != c.Values[0].T {
		return false
	}
	n := attr.Compare(v, c.Values[0])
	switch c.Op {
	case "=":
		return n == 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "BETWEEN":
		return n >= 0 && attr.Compare(v, c.Values[1]) <= 0
	case "begins_with":
		return evalFunc(&Cond{Kind: CondFunc, Op: "begins_with", Args: []*Operand{
			{Kind: OpValue, Value: v}, {Kind: OpValue, Value: c.Values[0]},
		}}, nil)
	}
	return false
}
