package dynamoapi

import (
	"bytes"
	"slices"

	"github.com/cockroachdb/apd/v3"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
)

// This file translates the legacy (non-expression) parameters into what the
// expression forms produce, so the engine sees one shape:
//
//   - Expected (PutItem, DeleteItem, UpdateItem), QueryFilter and ScanFilter
//     become an *expr.Condition built directly as a tree (legacyCondition);
//   - AttributeUpdates (UpdateItem) becomes a legacyUpdate, an
//     engine.Updater with the legacy actions' own rules (ADD appends to
//     lists, type mismatches have their own message).
//
// Semantics follow the developer guide's "Legacy conditional parameters"
// pages; the translation of each operator is the one AWS's own DAX clients
// apply (NE is <>, true for a missing attribute; NOT_CONTAINS also needs
// the attribute to exist). Messages are DynamoDB's as recorded by dynalite's
// tests and DynamoDB Local (read, not copied); "ConditionalOperator ..."
// messages come from AWS's DAX client validator.

// legacyCondIn is one entry of Expected, QueryFilter, ScanFilter or
// KeyConditions. Only Expected entries may use Value and Exists.
type legacyCondIn struct {
	Value              *attr.Value  `json:"Value"`
	Exists             *bool        `json:"Exists"`
	ComparisonOperator *string      `json:"ComparisonOperator"`
	AttributeValueList []attr.Value `json:"AttributeValueList"`
}

// attributeUpdateIn is one entry of AttributeUpdates.
type attributeUpdateIn struct {
	Value  *attr.Value `json:"Value"`
	Action *string     `json:"Action"`
}

// enumComparisonOperator is the legacy ComparisonOperator enum in the order
// DynamoDB lists it in constraint messages.
var enumComparisonOperator = []string{"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"}

// enumAttributeAction is AttributeUpdates' Action enum.
var enumAttributeAction = []string{"ADD", "PUT", "DELETE"}

// checkLegacyEnums adds the constraint violations of a legacy condition
// map's ComparisonOperators (member is the request member in camel case:
// "expected", "queryFilter", "scanFilter", "keyConditions").
func checkLegacyEnums(v *violations, member string, conds map[string]legacyCondIn) {
	for _, name := range sortedNames(conds) {
		v.Enum(member+"."+name+".member.comparisonOperator", conds[name].ComparisonOperator, enumComparisonOperator)
	}
}

// checkAttributeUpdateEnums adds the constraint violations of
// AttributeUpdates' Actions.
func checkAttributeUpdateEnums(v *violations, updates map[string]*attributeUpdateIn) {
	for _, name := range sortedNames(updates) {
		if u := updates[name]; u != nil {
			v.Enum("attributeUpdates."+name+".member.action", u.Action, enumAttributeAction)
		}
	}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Messages of the legacy parameters.
const (
	msgCondOpWithout  = "ConditionalOperator cannot be used without Filter or Expected"
	msgCondOpTwo      = "ConditionalOperator can only be used when Filter or Expected has two or more elements"
	msgBetweenBounds  = "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
	msgUpdateMismatch = "Type mismatch for attribute to update"
)

// writeCondition is the condition of PutItem, DeleteItem (and the
// transaction writes): the ConditionExpression, or the legacy Expected with
// ConditionalOperator, whichever was sent (check has refused both); nil
// when there is none.
func (p *exprParams) writeCondition(s *string, expected map[string]legacyCondIn, op *string) (engine.Condition, error) {
	if len(p.legacy) > 0 {
		return legacyCondition(expected, op, expr.KindCondition)
	}
	return p.condition(s)
}

// legacyCondition translates a legacy condition map into a condition for
// the engine (an *expr.Condition built as a tree; it evaluates exactly as
// the equivalent expression would):
//
//   - kind expr.KindCondition: Expected on PutItem, DeleteItem and
//     UpdateItem. Entries use either Value/Exists ("attribute equals Value",
//     or with Exists false "attribute absent") or ComparisonOperator with
//     AttributeValueList (or Value as the single argument).
//   - kind expr.KindFilter: QueryFilter and ScanFilter (and KeyConditions,
//     whose callers also need the key range and check the key rules
//     themselves). Entries must use ComparisonOperator and
//     AttributeValueList.
//
// op is ConditionalOperator (AND when nil; OR requires one entry to hold);
// sent with no entries or with a single one it is refused as DynamoDB does,
// so KeyConditions callers pass nil (ConditionalOperator does not apply to
// them). Enum values of op and of each ComparisonOperator are the caller's
// constraint checks (checkLegacyEnums); an unknown operator here would
// fail the argument-count check.
// Entries are checked in name order and the first problem is reported with
// DynamoDB's message. A nil or empty map with a nil op gives a nil
// Condition (no condition). Attribute values are validated (and their
// numbers canonicalized) here.
func legacyCondition(conds map[string]legacyCondIn, op *string, kind expr.Kind) (engine.Condition, error) {
	if op != nil {
		if len(conds) == 0 {
			return nil, attr.Invalid(msgCondOpWithout)
		}
		if len(conds) == 1 {
			return nil, attr.Invalid(msgCondOpTwo)
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	or := op != nil && *op == "OR"
	var root *expr.Cond
	for _, name := range sortedNames(conds) {
		c := conds[name]
		var leaf *expr.Cond
		var err error
		if kind == expr.KindCondition {
			leaf, err = expectedCond(name, c)
		} else {
			leaf, err = filterCond(name, c)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case root == nil:
			root = leaf
		case or:
			root = &expr.Cond{Kind: expr.CondOr, L: root, R: leaf}
		default:
			root = &expr.Cond{Kind: expr.CondAnd, L: root, R: leaf}
		}
	}
	return &expr.Condition{Kind: kind, Root: root}, nil
}

// expectedCond checks and translates one Expected entry.
func expectedCond(name string, c legacyCondIn) (*expr.Cond, error) {
	if c.Value != nil {
		if err := attr.ValidateValue(c.Value); err != nil {
			return nil, err
		}
	}
	for i := range c.AttributeValueList {
		if err := attr.ValidateValue(&c.AttributeValueList[i]); err != nil {
			return nil, err
		}
	}
	if c.Value != nil && c.AttributeValueList != nil {
		return nil, attr.Invalid(paramsInvalid+"Value and AttributeValueList cannot be used together for Attribute: %s", name)
	}
	if c.ComparisonOperator != nil {
		op := *c.ComparisonOperator
		if c.Exists != nil {
			return nil, attr.Invalid(paramsInvalid+"Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
		}
		if op != "NULL" && op != "NOT_NULL" && c.AttributeValueList == nil && c.Value == nil {
			return nil, attr.Invalid(paramsInvalid+"Value or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", op, name)
		}
		args := c.AttributeValueList
		if c.Value != nil {
			args = []attr.Value{*c.Value}
		}
		return comparison(name, op, args)
	}
	if c.AttributeValueList != nil {
		return nil, attr.Invalid(paramsInvalid+"AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
	}
	exists := c.Exists == nil || *c.Exists
	switch {
	case exists && c.Value == nil:
		state := "null"
		if c.Exists != nil {
			state = "true"
		}
		return nil, attr.Invalid(paramsInvalid+"Value must be provided when Exists is %s for Attribute: %s", state, name)
	case !exists && c.Value != nil:
		return nil, attr.Invalid(paramsInvalid+"Value cannot be used when Exists is false for Attribute: %s", name)
	case !exists:
		return fn("attribute_not_exists", pathOperand(name)), nil
	}
	return &expr.Cond{Kind: expr.CondCompare, Op: "=", Args: []*expr.Operand{pathOperand(name), valueOperand(*c.Value)}}, nil
}

// filterCond checks and translates one QueryFilter, ScanFilter or
// KeyConditions entry.
func filterCond(name string, c legacyCondIn) (*expr.Cond, error) {
	for i := range c.AttributeValueList {
		if err := attr.ValidateValue(&c.AttributeValueList[i]); err != nil {
			return nil, err
		}
	}
	if c.ComparisonOperator == nil {
		var v violations
		v.Null("comparisonOperator")
		return nil, v.Err()
	}
	return comparison(name, *c.ComparisonOperator, c.AttributeValueList)
}

// comparison checks a ComparisonOperator's arguments and builds its
// condition on attribute name.
func comparison(name, op string, args []attr.Value) (*expr.Cond, error) {
	want := map[string]int{"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
		"BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2, "IN": -1}[op]
	if (want >= 0 && len(args) != want) || (want < 0 && len(args) == 0) {
		return nil, attr.Invalid(paramsInvalid+"Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	for _, a := range args[min(1, len(args)):] {
		if a.T != args[0].T {
			return nil, attr.Invalid(paramsInvalid + "AttributeValues inside AttributeValueList must be of same type")
		}
	}
	for _, a := range args {
		if !legacyTypeOK(op, a.T) {
			return nil, attr.Invalid(paramsInvalid+"ComparisonOperator %s is not valid for %s AttributeValue type", op, a.T)
		}
	}
	p := pathOperand(name)
	switch op {
	case "NULL":
		return fn("attribute_not_exists", p), nil
	case "NOT_NULL":
		return fn("attribute_exists", p), nil
	case "CONTAINS":
		return fn("contains", p, valueOperand(args[0])), nil
	case "NOT_CONTAINS":
		return &expr.Cond{Kind: expr.CondAnd,
			L: fn("attribute_exists", p),
			R: &expr.Cond{Kind: expr.CondNot, L: fn("contains", p, valueOperand(args[0]))}}, nil
	case "BEGINS_WITH":
		return fn("begins_with", p, valueOperand(args[0])), nil
	case "BETWEEN":
		if attr.Compare(args[0], args[1]) > 0 {
			return nil, attr.Invalid(msgBetweenBounds)
		}
		return &expr.Cond{Kind: expr.CondBetween, Args: []*expr.Operand{p, valueOperand(args[0]), valueOperand(args[1])}}, nil
	case "IN":
		ops := []*expr.Operand{p}
		for _, a := range args {
			ops = append(ops, valueOperand(a))
		}
		return &expr.Cond{Kind: expr.CondIn, Args: ops}, nil
	}
	cmp := map[string]string{"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}[op]
	return &expr.Cond{Kind: expr.CondCompare, Op: cmp, Args: []*expr.Operand{p, valueOperand(args[0])}}, nil
}

// legacyTypeOK reports whether a ComparisonOperator accepts an argument of
// type t. EQ and NE take any type (the developer guide: "supported for all
// data types, including lists and maps"); ordering, IN, BETWEEN and
// CONTAINS take scalars S, N and B; BEGINS_WITH takes S and B.
func legacyTypeOK(op string, t attr.Type) bool {
	switch op {
	case "EQ", "NE":
		return true
	case "BEGINS_WITH":
		return t == attr.TypeS || t == attr.TypeB
	}
	return t == attr.TypeS || t == attr.TypeN || t == attr.TypeB
}

func pathOperand(name string) *expr.Operand {
	return &expr.Operand{Kind: expr.OpPath, Path: expr.Path{{Name: name, Ref: name}}}
}

func valueOperand(v attr.Value) *expr.Operand {
	return &expr.Operand{Kind: expr.OpValue, Ref: ":legacy", Value: v}
}

func fn(name string, args ...*expr.Operand) *expr.Cond {
	return &expr.Cond{Kind: expr.CondFunc, Op: name, Args: args}
}

// legacyUpdate is AttributeUpdates as an engine.Updater: top-level
// attributes only, each with one action.
type legacyUpdate struct {
	names   []string // sorted
	updates map[string]attributeUpdateIn
}

var _ engine.Updater = (*legacyUpdate)(nil)

// newLegacyUpdate checks AttributeUpdates (whose Action enums the caller
// has checked) and returns its Updater; nil when there are no updates. A
// null entry is skipped, as DynamoDB does (AWS's DAX client notes it).
func newLegacyUpdate(in map[string]*attributeUpdateIn) (*legacyUpdate, error) {
	updates := make(map[string]attributeUpdateIn, len(in))
	for name, up := range in {
		if up != nil {
			updates[name] = *up
		}
	}
	if len(updates) == 0 {
		return nil, nil
	}
	u := &legacyUpdate{names: sortedNames(updates), updates: updates}
	for _, name := range u.names {
		if up := updates[name]; up.Value != nil {
			if err := attr.ValidateValue(up.Value); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range u.names {
		up := updates[name]
		action := actionOf(up)
		if up.Value == nil {
			if action != "DELETE" {
				return nil, attr.Invalid(paramsInvalid + "Only DELETE action is allowed when no attribute value is specified")
			}
			continue
		}
		switch t := up.Value.T; action {
		case "DELETE":
			if !isSetType(t) {
				return nil, attr.Invalid(paramsInvalid+"DELETE action with value is not supported for the type %s", t)
			}
		case "ADD":
			if t != attr.TypeN && t != attr.TypeL && !isSetType(t) {
				return nil, attr.Invalid(paramsInvalid+"ADD action is not supported for the type %s", t)
			}
		}
	}
	return u, nil
}

// actionOf is an update's Action; PUT when absent.
func actionOf(u attributeUpdateIn) string {
	if u.Action == nil {
		return "PUT"
	}
	return *u.Action
}

func isSetType(t attr.Type) bool { return t == attr.TypeSS || t == attr.TypeNS || t == attr.TypeBS }

// Paths returns the updated attributes.
func (u *legacyUpdate) Paths() []expr.Path {
	out := make([]expr.Path, len(u.names))
	for i, name := range u.names {
		out[i] = expr.Path{{Name: name, Ref: name}}
	}
	return out
}

// Apply applies the actions to a copy of item: PUT replaces, DELETE
// without a value removes, DELETE with a set removes those members (an
// emptied set disappears), ADD adds a number, unites a set or appends to a
// list, and creates the attribute when absent.
func (u *legacyUpdate) Apply(item attr.Item) (attr.Item, error) {
	out := item.Clone()
	if out == nil {
		out = attr.Item{}
	}
	for _, name := range u.names {
		up := u.updates[name]
		old, exists := out[name]
		switch actionOf(up) {
		case "PUT":
			out[name] = up.Value.Clone()
		case "DELETE":
			switch {
			case up.Value == nil:
				delete(out, name)
			case !exists:
			case old.T != up.Value.T:
				return nil, attr.Invalid(msgUpdateMismatch)
			default:
				if v, keep := setMinus(old, *up.Value); keep {
					out[name] = v
				} else {
					delete(out, name)
				}
			}
		case "ADD":
			if !exists {
				out[name] = up.Value.Clone()
				continue
			}
			if old.T != up.Value.T {
				return nil, attr.Invalid(msgUpdateMismatch)
			}
			v, err := addLegacy(old, *up.Value)
			if err != nil {
				return nil, err
			}
			out[name] = v
		}
	}
	return out, nil
}

// addLegacy is ADD on an existing attribute of the value's type.
func addLegacy(old, v attr.Value) (attr.Value, error) {
	switch v.T {
	case attr.TypeN:
		var r apd.Decimal
		if _, err := apd.BaseContext.WithPrecision(300).Add(&r, old.N.Decimal(), v.N.Decimal()); err != nil {
			return attr.Value{}, attr.Invalid(msgUpdateMismatch)
		}
		n, err := attr.ParseNumber(r.Text('f'))
		if err != nil {
			return attr.Value{}, err
		}
		return attr.N(n), nil
	case attr.TypeL:
		l := make([]attr.Value, 0, len(old.L)+len(v.L))
		l = append(l, old.L...)
		for _, e := range v.L {
			l = append(l, e.Clone())
		}
		return attr.L(l), nil
	case attr.TypeSS:
		out := slices.Clone(old.SS)
		for _, s := range v.SS {
			if !slices.Contains(old.SS, s) {
				out = append(out, s)
			}
		}
		return attr.Value{T: attr.TypeSS, SS: out}, nil
	case attr.TypeNS:
		out := slices.Clone(old.NS)
		for _, n := range v.NS {
			if !slices.ContainsFunc(old.NS, func(m attr.Number) bool { return attr.CompareNumbers(m, n) == 0 }) {
				out = append(out, n)
			}
		}
		return attr.Value{T: attr.TypeNS, NS: out}, nil
	case attr.TypeBS:
		out := slices.Clone(old.BS)
		for _, b := range v.BS {
			if !slices.ContainsFunc(old.BS, func(m []byte) bool { return bytes.Equal(m, b) }) {
				out = append(out, slices.Clone(b))
			}
		}
		return attr.Value{T: attr.TypeBS, BS: out}, nil
	}
	return attr.Value{}, attr.Invalid(msgUpdateMismatch)
}

// setMinus removes v's members from the set old; keep is false when none
// remain.
func setMinus(old, v attr.Value) (out attr.Value, keep bool) {
	out = attr.Value{T: old.T}
	switch old.T {
	case attr.TypeSS:
		for _, s := range old.SS {
			if !slices.Contains(v.SS, s) {
				out.SS = append(out.SS, s)
			}
		}
		return out, len(out.SS) > 0
	case attr.TypeNS:
		for _, n := range old.NS {
			if !slices.ContainsFunc(v.NS, func(m attr.Number) bool { return attr.CompareNumbers(m, n) == 0 }) {
				out.NS = append(out.NS, n)
			}
		}
		return out, len(out.NS) > 0
	default:
		for _, b := range old.BS {
			if !slices.ContainsFunc(v.BS, func(m []byte) bool { return bytes.Equal(m, b) }) {
				out.BS = append(out.BS, b)
			}
		}
		return out, len(out.BS) > 0
	}
}
