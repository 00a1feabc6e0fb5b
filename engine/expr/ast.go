package expr

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// Kind names the request parameter an expression came from. It selects the
// grammar and the wording of errors ("Invalid FilterExpression: ...").
type Kind uint8

// The five expression parameters of the DynamoDB API.
const (
	KindCondition Kind = iota
	KindFilter
	KindKeyCondition
	KindUpdate
	KindProjection
)

var kindNames = [...]string{"ConditionExpression", "FilterExpression", "KeyConditionExpression", "UpdateExpression", "ProjectionExpression"}

// String returns the request parameter name, e.g. "FilterExpression".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Expression"
}

// PathElem is one step of a document path: a map key (or top-level
// attribute name) or a list index.
type PathElem struct {
	Name    string // resolved name (after #placeholder substitution)
	Ref     string // as written: the name itself or its #placeholder; empty for an index
	Index   int    // list index, when IsIndex
	IsIndex bool
}

// Path is a document path such as a.#b[2].c. The first element is always a
// name.
type Path []PathElem

// String returns the path as written in the expression, with placeholders.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.Ref)
		}
	}
	return b.String()
}

// display formats a resolved path as DynamoDB does in its messages:
// "[a, b, [1]]".
func (p Path) display() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		if e.IsIndex {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		} else {
			b.WriteString(e.Name)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// equalResolved reports whether two paths address the same place.
func (p Path) equalResolved(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i].IsIndex != q[i].IsIndex || p[i].Index != q[i].Index || p[i].Name != q[i].Name {
			return false
		}
	}
	return true
}

// OperandKind is the form of an Operand.
type OperandKind uint8

// Operand forms. OpCall is a function the grammar accepts but the checker
// rejects (unknown, or not allowed in this place); a checked expression never
// holds one.
const (
	OpPath        OperandKind = iota // a document path
	OpValue                          // an :placeholder value
	OpSize                           // size(path)
	OpIfNotExists                    // if_not_exists(path, operand)
	OpListAppend                     // list_append(a, b)
	OpPlus                           // a + b
	OpMinus                          // a - b
	OpCall                           // any other function call
)

// Operand is a value-producing node.
type Operand struct {
	Kind  OperandKind
	Path  Path       // OpPath
	Ref   string     // OpValue: the :placeholder
	Value attr.Value // OpValue: the resolved value
	Fn    string     // OpCall: the function name as written
	Args  []*Operand // function arguments, or the two sides of + and -
	pos   int        // byte offset in the source, for ordering
}

// CondKind is the form of a Cond.
type CondKind uint8

// Condition forms.
const (
	CondAnd     CondKind = iota // L AND R
	CondOr                      // L OR R
	CondNot                     // NOT L
	CondCompare                 // Args[0] Op Args[1]
	CondBetween                 // Args[0] BETWEEN Args[1] AND Args[2]
	CondIn                      // Args[0] IN (Args[1:]...)
	CondFunc                    // Op(Args...): attribute_exists, attribute_not_exists, attribute_type, begins_with, contains
)

// Cond is a boolean node.
type Cond struct {
	Kind CondKind
	Op   string // comparator for CondCompare ("=", "<>", "<", "<=", ">", ">="); function name for CondFunc
	L, R *Cond
	Args []*Operand
}

// String prints an operand in a form the parser reads back to the same tree.
func (o *Operand) String() string {
	var b strings.Builder
	o.write(&b)
	return b.String()
}

func (o *Operand) write(b *strings.Builder) {
	switch o.Kind {
	case OpPath:
		b.WriteString(o.Path.String())
	case OpValue:
		b.WriteString(o.Ref)
	case OpPlus, OpMinus:
		o.Args[0].write(b)
		if o.Kind == OpPlus {
			b.WriteString(" + ")
		} else {
			b.WriteString(" - ")
		}
		o.Args[1].write(b)
	default:
		b.WriteString(o.fnName())
		b.WriteByte('(')
		for i, a := range o.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteByte(')')
	}
}

func (o *Operand) fnName() string {
	switch o.Kind {
	case OpSize:
		return "size"
	case OpIfNotExists:
		return "if_not_exists"
	case OpListAppend:
		return "list_append"
	}
	return o.Fn
}

// String prints a condition in a form the parser reads back to the same
// tree: AND and OR children that are themselves AND or OR are parenthesized,
// which also keeps the left-associative shape.
func (c *Cond) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c *Cond) write(b *strings.Builder) {
	switch c.Kind {
	case CondAnd, CondOr:
		c.L.writeChild(b)
		if c.Kind == CondAnd {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		c.R.writeChild(b)
	case CondNot:
		b.WriteString("NOT ")
		c.L.writeChild(b)
	case CondCompare:
		c.Args[0].write(b)
		b.WriteString(" " + c.Op + " ")
		c.Args[1].write(b)
	case CondBetween:
		c.Args[0].write(b)
		b.WriteString(" BETWEEN ")
		c.Args[1].write(b)
		b.WriteString(" AND ")
		c.Args[2].write(b)
	case CondIn:
		c.Args[0].write(b)
		b.WriteString(" IN (")
		for i, a := range c.Args[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteByte(')')
	case CondFunc:
		b.WriteString(c.Op)
		b.WriteByte('(')
		for i, a := range c.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteByte(')')
	}
}

func (c *Cond) writeChild(b *strings.Builder) {
	if c.Kind == CondAnd || c.Kind == CondOr {
		b.WriteByte('(')
		c.write(b)
		b.WriteByte(')')
		return
	}
	c.write(b)
}
