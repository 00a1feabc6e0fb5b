package expr

import (
	"sort"

	"github.com/cockroachdb/apd/v3"
	"github.com/sluicedb/sluice/engine/attr"
)

// ActionKind is the clause an update action belongs to.
type ActionKind uint8

// Update clauses.
const (
	ActSet ActionKind = iota
	ActRemove
	ActAdd
	ActDelete
)

var actionNames = [...]string{"SET", "REMOVE", "ADD", "DELETE"}

// String returns the clause keyword.
func (a ActionKind) String() string { return actionNames[a] }

// Action is one element of an update clause.
type Action struct {
	Kind  ActionKind
	Path  Path
	Value *Operand // SET: the new value; ADD, DELETE: the :value; REMOVE: nil
}

// Update is a checked UpdateExpression. Clauses keeps the actions grouped
// as written so that String reproduces the clause order.
type Update struct {
	Clauses [][]Action
	usage   Usage
}

// Error categories of an update, in the order DynamoDB reports them.
const (
	uDepth = iota
	uReserved
	uFunctionName
	uSection
	uName
	uValue
	uOverlap
	uConflict
	uOperand
	uFunction
	uLimit
	uCount
)

// ParseUpdate parses and checks an UpdateExpression and resolves its
// placeholders.
func ParseUpdate(s string, names Names, values Values) (*Update, error) {
	const k = KindUpdate
	p, err := preflight(k, s)
	if err != nil {
		return nil, err
	}
	clauses, ok := p.update()
	if !ok {
		return nil, p.syntaxError()
	}
	es := newErrSet(k, uCount)
	if p.parens {
		// Not a category of its own in updates; DynamoDB rejects ((x)) here
		// too, and before anything else.
		return nil, invalid(k, msgRedundant)
	}
	r := newResolver(names, values)
	u := &Update{usage: r.usage}
	seen := map[string]bool{}
	var paths []Path
	operators := 0
	for _, c := range clauses {
		if seen[c.name] {
			es.add(uSection, msgSection, c.name)
		}
		seen[c.name] = true
		var acts []Action
		for _, a := range c.actions {
			kind := map[string]ActionKind{"SET": ActSet, "REMOVE": ActRemove, "ADD": ActAdd, "DELETE": ActDelete}[c.name]
			acts = append(acts, Action{Kind: kind, Path: a.path, Value: a.value})
			operators++
			checkUpdatePath(es, r, a.path)
			paths = append(paths, a.path)
			if a.value != nil {
				walkOperands(a.value, func(o *Operand) {
					switch o.Kind {
					case OpPath:
						checkUpdatePath(es, r, o.Path)
					case OpValue:
						if !r.value(o) {
							es.add(uValue, msgUndefinedValue, o.Ref)
						}
					case OpPlus, OpMinus:
						operators++
					case OpCall:
						operators++
						switch {
						case o.Fn == "if_not_exists":
							o.Kind = OpIfNotExists
						case o.Fn == "list_append":
							o.Kind = OpListAppend
						case conditionFuncs[o.Fn] > 0 || o.Fn == "size":
							es.add(uFunctionName, msgFnInUpdate, o.Fn)
						default:
							es.add(uFunctionName, msgUnknownFn, o.Fn)
						}
					}
				})
			}
		}
		u.Clauses = append(u.Clauses, acts)
	}
	if !es.has(uName) {
		checkPaths(es, uOverlap, uConflict, paths)
	}
	if operators > MaxUpdateOperators {
		es.add(uLimit, msgTooManyOps, operators, MaxUpdateOperators)
	}
	for _, acts := range u.Clauses {
		for _, a := range acts {
			switch a.Kind {
			case ActAdd:
				if t := a.Value.Value.T; t != attr.TypeInvalid && t != attr.TypeN && !isSet(t) {
					es.add(uOperand, msgActionType, "ADD", longTypeName(t))
				}
			case ActDelete:
				if t := a.Value.Value.T; t != attr.TypeInvalid && !isSet(t) {
					es.add(uOperand, msgActionType, "DELETE", longTypeName(t))
				}
			case ActSet:
				checkSetValue(es, a.Value)
			}
		}
	}
	if err := es.err(); err != nil {
		return nil, err
	}
	return u, nil
}

func checkUpdatePath(es *errSet, r *resolver, p Path) {
	if w := reservedIn(p); w != "" {
		es.add(uReserved, msgReserved, w)
	}
	if len(p) > MaxPathDepth {
		es.add(uDepth, msgPathDepth, len(p))
	}
	if ref := r.path(p); ref != "" {
		es.add(uName, msgUndefinedName, ref)
	}
}

// checkSetValue checks the functions and arithmetic of a SET value, inner
// ones first.
func checkSetValue(es *errSet, v *Operand) {
	walkPost(v, func(o *Operand) {
		// list_append makes a SET value only at the top: DynamoDB refuses
		// it inside another function and as an operand of + or -.
		switch o.Kind {
		case OpIfNotExists, OpListAppend, OpPlus, OpMinus:
			for _, a := range o.Args {
				if a.Kind == OpListAppend {
					es.add(uFunction, msgMisusedFn, a.fnName())
				}
			}
		}
		switch o.Kind {
		case OpIfNotExists, OpListAppend:
			name := o.fnName()
			if len(o.Args) != 2 {
				es.add(uFunction, msgArity, name, len(o.Args))
				return
			}
			if o.Kind == OpIfNotExists {
				if o.Args[0].Kind != OpPath {
					es.add(uFunction, msgNeedsPath, name)
				}
				return
			}
			for _, a := range o.Args {
				if a.Kind == OpValue && a.Value.T != attr.TypeInvalid && a.Value.T != attr.TypeL {
					es.add(uFunction, msgOperandType, name, a.Value.T)
				}
			}
		case OpPlus, OpMinus:
			op := "+"
			if o.Kind == OpMinus {
				op = "-"
			}
			for _, a := range o.Args {
				if a.Kind == OpValue && a.Value.T != attr.TypeInvalid && a.Value.T != attr.TypeN {
					es.add(uFunction, msgOperandType, op, a.Value.T)
				}
			}
		}
	})
}

func isSet(t attr.Type) bool { return t == attr.TypeSS || t == attr.TypeNS || t == attr.TypeBS }

// Used returns the placeholders the expression used.
func (u *Update) Used() Usage { return u.usage }

// Actions returns every action in the order written.
func (u *Update) Actions() []Action {
	var out []Action
	for _, c := range u.Clauses {
		out = append(out, c...)
	}
	return out
}

// Paths returns the document paths the update writes or removes, in the
// order written. Projecting the old or new item on them (ProjectPaths)
// gives ReturnValues UPDATED_OLD or UPDATED_NEW.
func (u *Update) Paths() []Path {
	var out []Path
	for _, c := range u.Clauses {
		for _, a := range c {
			out = append(out, a.Path)
		}
	}
	return out
}

// ReadPaths returns the document paths the update's SET values read, in
// the order written.
func (u *Update) ReadPaths() []Path {
	var out []Path
	for _, c := range u.Clauses {
		for _, a := range c {
			if a.Kind == ActSet {
				out = appendPaths(out, a.Value)
			}
		}
	}
	return out
}

// String prints the update with its placeholders.
func (u *Update) String() string {
	s := ""
	for i, c := range u.Clauses {
		if i > 0 {
			s += " "
		}
		s += c[0].Kind.String() + " "
		for j, a := range c {
			if j > 0 {
				s += ", "
			}
			s += a.Path.String()
			switch a.Kind {
			case ActSet:
				s += " = " + a.Value.String()
			case ActAdd, ActDelete:
				s += " " + a.Value.Ref
			}
		}
	}
	return s
}

// Apply computes the item the update produces from item (nil or empty for
// an absent item). Every operand reads the original item, as in DynamoDB.
// item is not modified; the result shares no memory with it. Errors are
// *attr.Error ValidationExceptions with DynamoDB's runtime messages.
func (u *Update) Apply(item attr.Item) (attr.Item, error) {
	acts := u.Actions()
	// Compute every SET value against the original item first.
	vals := make([]attr.Value, len(acts))
	for i, a := range acts {
		if a.Kind != ActSet {
			continue
		}
		v, err := setValue(a.Value, item)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	out := item.Clone()
	if out == nil {
		out = attr.Item{}
	}
	// Writes in ascending path order, so that several indexes past the end
	// of one list append in index order; removals afterwards in descending
	// order, so that each index still names the element it named in the
	// original list.
	order := make([]int, len(acts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := acts[order[x]], acts[order[y]]
		ra, rb := a.Kind == ActRemove, b.Kind == ActRemove
		if ra != rb {
			return rb
		}
		if ra {
			return comparePaths(a.Path, b.Path) > 0
		}
		return comparePaths(a.Path, b.Path) < 0
	})
	for _, i := range order {
		a := acts[i]
		var err error
		switch a.Kind {
		case ActSet:
			err = write(out, a.Path, func(attr.Value, bool) (attr.Value, bool, error) { return vals[i], true, nil })
		case ActRemove:
			err = remove(out, a.Path)
		case ActAdd:
			err = write(out, a.Path, func(old attr.Value, ok bool) (attr.Value, bool, error) {
				if !ok {
					return a.Value.Value.Clone(), true, nil
				}
				v, err := addValues(old, a.Value.Value)
				return v, true, err
			})
		case ActDelete:
			err = write(out, a.Path, func(old attr.Value, ok bool) (attr.Value, bool, error) {
				if !ok {
					return attr.Value{}, false, nil
				}
				return deleteValues(old, a.Value.Value)
			})
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// comparePaths orders paths element by element; indexes numerically.
func comparePaths(a, b Path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.IsIndex && y.IsIndex:
			if x.Index != y.Index {
				if x.Index < y.Index {
					return -1
				}
				return 1
			}
		case x.IsIndex != y.IsIndex:
			if x.IsIndex {
				return 1
			}
			return -1
		case x.Name != y.Name:
			if x.Name < y.Name {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func setValue(o *Operand, item attr.Item) (attr.Value, error) {
	switch o.Kind {
	case OpValue:
		return o.Value.Clone(), nil
	case OpPath:
		v, ok := lookup(item, o.Path)
		if !ok {
			return attr.Value{}, attr.Invalid(msgMissingOperand)
		}
		return v.Clone(), nil
	case OpIfNotExists:
		if v, ok := lookup(item, o.Args[0].Path); ok {
			return v.Clone(), nil
		}
		return setValue(o.Args[1], item)
	case OpListAppend:
		a, err := setValue(o.Args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := setValue(o.Args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.T != attr.TypeL || b.T != attr.TypeL {
			return attr.Value{}, attr.Invalid(msgBadOperandType)
		}
		l := make([]attr.Value, 0, len(a.L)+len(b.L))
		return attr.L(append(append(l, a.L...), b.L...)), nil
	case OpPlus, OpMinus:
		a, err := setValue(o.Args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := setValue(o.Args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.T != attr.TypeN || b.T != attr.TypeN {
			return attr.Value{}, attr.Invalid(msgBadOperandType)
		}
		n, err := arith(a.N, b.N, o.Kind == OpMinus)
		if err != nil {
			return attr.Value{}, err
		}
		return attr.N(n), nil
	}
	return attr.Value{}, attr.Invalid(msgBadOperandType)
}

// arithCtx computes sums exactly: two DynamoDB numbers (38 digits, exponents
// within ±130) never need more than 300 digits.
var arithCtx = apd.BaseContext.WithPrecision(300)

// arith adds or subtracts two numbers; attr.ParseNumber then applies
// DynamoDB's 38-digit and range rules, with its messages.
func arith(a, b attr.Number, sub bool) (attr.Number, error) {
	var r apd.Decimal
	var err error
	if sub {
		_, err = arithCtx.Sub(&r, a.Decimal(), b.Decimal())
	} else {
		_, err = arithCtx.Add(&r, a.Decimal(), b.Decimal())
	}
	if err != nil {
		return "", attr.Invalid(msgBadOperandType)
	}
	return attr.ParseNumber(r.Text('f'))
}

// addValues is ADD on an existing value: numeric addition or set union.
func addValues(old, v attr.Value) (attr.Value, error) {
	if old.T != v.T {
		return attr.Value{}, attr.Invalid(msgBadOperandType)
	}
	switch v.T {
	case attr.TypeN:
		n, err := arith(old.N, v.N, false)
		if err != nil {
			return attr.Value{}, err
		}
		return attr.N(n), nil
	case attr.TypeSS:
		out := old.SS
		for _, s := range v.SS {
			if !containsMember(old, attr.S(s)) {
				out = append(out, s)
			}
		}
		return attr.Value{T: attr.TypeSS, SS: out}, nil
	case attr.TypeNS:
		out := old.NS
		for _, n := range v.NS {
			if !containsMember(old, attr.N(n)) {
				out = append(out, n)
			}
		}
		return attr.Value{T: attr.TypeNS, NS: out}, nil
	case attr.TypeBS:
		out := old.BS
		for _, b := range v.BS {
			if !containsMember(old, attr.B(b)) {
				out = append(out, b)
			}
		}
		return attr.Value{T: attr.TypeBS, BS: out}, nil
	}
	return attr.Value{}, attr.Invalid(msgBadOperandType)
}

func containsMember(set, x attr.Value) bool { return contains(set, x) }

// deleteValues is DELETE on an existing set; an emptied set disappears.
func deleteValues(old, v attr.Value) (attr.Value, bool, error) {
	if old.T != v.T || !isSet(v.T) {
		return attr.Value{}, false, attr.Invalid(msgBadOperandType)
	}
	out := attr.Value{T: old.T}
	switch old.T {
	case attr.TypeSS:
		for _, s := range old.SS {
			if !containsMember(v, attr.S(s)) {
				out.SS = append(out.SS, s)
			}
		}
		return out, len(out.SS) > 0, nil
	case attr.TypeNS:
		for _, n := range old.NS {
			if !containsMember(v, attr.N(n)) {
				out.NS = append(out.NS, n)
			}
		}
		return out, len(out.NS) > 0, nil
	default:
		for _, b := range old.BS {
			if !containsMember(v, attr.B(b)) {
				out.BS = append(out.BS, b)
			}
		}
		return out, len(out.BS) > 0, nil
	}
}

// updateFunc computes the new value at a path from the old one (ok says
// whether it existed); keep false removes it.
type updateFunc func(old attr.Value, ok bool) (v attr.Value, keep bool, err error)

// write applies f at path in item, which it may modify (it is a private
// clone). The containers on the way must exist and have the right types,
// else DynamoDB says the path is invalid for update. A list index past the
// end appends.
func write(item attr.Item, path Path, f updateFunc) error {
	name := path[0].Name
	old, ok := item[name]
	if len(path) == 1 {
		v, keep, err := f(old, ok)
		switch {
		case err != nil:
			return err
		case keep:
			item[name] = v
		case ok:
			delete(item, name)
		}
		return nil
	}
	if !ok {
		return attr.Invalid(msgBadUpdatePath)
	}
	v, err := writeIn(old, path[1:], f)
	if err != nil {
		return err
	}
	item[name] = v
	return nil
}

func writeIn(v attr.Value, path Path, f updateFunc) (attr.Value, error) {
	e := path[0]
	if e.IsIndex {
		if v.T != attr.TypeL {
			return v, attr.Invalid(msgBadUpdatePath)
		}
		exists := e.Index < len(v.L)
		if len(path) > 1 {
			if !exists {
				return v, attr.Invalid(msgBadUpdatePath)
			}
			nv, err := writeIn(v.L[e.Index], path[1:], f)
			v.L[e.Index] = nv
			return v, err
		}
		var old attr.Value
		if exists {
			old = v.L[e.Index]
		}
		nv, keep, err := f(old, exists)
		switch {
		case err != nil:
			return v, err
		case keep && exists:
			v.L[e.Index] = nv
		case keep:
			v.L = append(v.L, nv)
		case exists:
			v.L = append(v.L[:e.Index:e.Index], v.L[e.Index+1:]...)
		}
		return v, nil
	}
	if v.T != attr.TypeM {
		return v, attr.Invalid(msgBadUpdatePath)
	}
	old, exists := v.M[e.Name]
	if len(path) > 1 {
		if !exists {
			return v, attr.Invalid(msgBadUpdatePath)
		}
		nv, err := writeIn(old, path[1:], f)
		v.M[e.Name] = nv
		return v, err
	}
	nv, keep, err := f(old, exists)
	switch {
	case err != nil:
		return v, err
	case keep:
		v.M[e.Name] = nv
	case exists:
		delete(v.M, e.Name)
	}
	return v, nil
}

func remove(item attr.Item, path Path) error {
	return write(item, path, func(attr.Value, bool) (attr.Value, bool, error) { return attr.Value{}, false, nil })
}
