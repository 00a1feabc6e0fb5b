package expr

import (
	"strconv"
	"strings"
)

// parser is a recursive-descent parser with backtracking over a token
// slice. On failure it reports the furthest token any alternative reached,
// as DynamoDB's parser does: "Syntax error; token: <t>, near: <prev t next>".
type parser struct {
	src    string
	toks   []token
	i      int
	far    int  // index of the furthest token where a match failed
	kind   Kind // grammar and message wording
	parens bool // saw redundant parentheses: ((x))
}

func newParser(kind Kind, s string) *parser {
	return &parser{src: s, toks: lex(s), kind: kind}
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

// fail records a mismatch at the current token and returns false.
func (p *parser) fail() bool {
	if p.i > p.far {
		p.far = p.i
	}
	return false
}

func (p *parser) accept(k tokKind) bool {
	if p.tok().kind == k {
		p.i++
		return true
	}
	return p.fail()
}

// keyword reports whether the current token is the keyword kw (any case).
func (p *parser) keyword(kw string) bool {
	t := p.tok()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKeyword(kw string) bool {
	if p.keyword(kw) {
		p.i++
		return true
	}
	return p.fail()
}

// isKeyword reports whether an identifier is a keyword of this grammar and
// so cannot start a path.
func (p *parser) isKeyword(s string) bool {
	switch p.kind {
	case KindUpdate:
		for _, kw := range [...]string{"SET", "REMOVE", "ADD", "DELETE"} {
			if strings.EqualFold(s, kw) {
				return true
			}
		}
	case KindProjection:
	default:
		for _, kw := range [...]string{"AND", "OR", "NOT", "BETWEEN", "IN"} {
			if strings.EqualFold(s, kw) {
				return true
			}
		}
	}
	return false
}

// syntaxError builds DynamoDB's syntax error for the furthest failure.
func (p *parser) syntaxError() error {
	at := p.far
	if at >= len(p.toks) {
		at = len(p.toks) - 1
	}
	bad := p.toks[at]
	from, to := bad.pos, bad.end
	if at > 0 {
		from = p.toks[at-1].pos
	}
	if at+1 < len(p.toks) {
		to = p.toks[at+1].end
	}
	return invalid(p.kind, "Syntax error; token: \"%s\", near: \"%s\"", bad.text, p.src[from:to])
}

// atEOF fails unless all input was consumed.
func (p *parser) atEOF() bool { return p.accept(tEOF) }

// ---- paths ----

func (p *parser) path() (Path, bool) {
	t := p.tok()
	var path Path
	switch {
	case t.kind == tName, t.kind == tIdent && !p.isKeyword(t.text):
		path = append(path, PathElem{Ref: t.text})
		p.i++
	default:
		return nil, p.fail()
	}
	for {
		switch p.tok().kind {
		case tDot:
			p.i++
			t := p.tok()
			if t.kind != tName && t.kind != tIdent {
				return nil, p.fail()
			}
			path = append(path, PathElem{Ref: t.text})
			p.i++
		case tLBrack:
			p.i++
			t := p.tok()
			if t.kind != tNumber {
				return nil, p.fail()
			}
			n, err := strconv.Atoi(t.text)
			if err != nil || n > maxIndex {
				return nil, p.fail()
			}
			p.i++
			if !p.accept(tRBrack) {
				return nil, false
			}
			path = append(path, PathElem{Index: n, IsIndex: true})
		default:
			return path, true
		}
	}
}

// maxIndex bounds list indexes so that they fit an int everywhere.
const maxIndex = 1<<31 - 1

// ---- condition grammar ----
//
//	cond    := and (OR and)*
//	and     := not (AND not)*
//	not     := NOT not | primary
//	primary := '(' cond ')' | fn '(' args ')' | operand cmp operand
//	         | operand BETWEEN operand AND operand | operand IN '(' operand (',' operand)* ')'
//	operand := '(' operand ')' | :value | fn '(' args ')' | path

// cond parses a whole condition; wrapped reports whether the result is one
// parenthesized primary (for the redundant-parentheses rule).
func (p *parser) cond() (*Cond, bool) {
	l, wrapped := p.and()
	if l == nil {
		return nil, false
	}
	for p.keyword("OR") {
		p.i++
		r, _ := p.and()
		if r == nil {
			return nil, false
		}
		l, wrapped = &Cond{Kind: CondOr, L: l, R: r}, false
	}
	if !p.keyword("OR") {
		p.fail()
	}
	return l, wrapped
}

func (p *parser) and() (*Cond, bool) {
	l, wrapped := p.not()
	if l == nil {
		return nil, false
	}
	for p.keyword("AND") {
		p.i++
		r, _ := p.not()
		if r == nil {
			return nil, false
		}
		l, wrapped = &Cond{Kind: CondAnd, L: l, R: r}, false
	}
	if !p.keyword("AND") {
		p.fail()
	}
	return l, wrapped
}

func (p *parser) not() (*Cond, bool) {
	if p.keyword("NOT") {
		p.i++
		c, _ := p.not()
		if c == nil {
			return nil, false
		}
		return &Cond{Kind: CondNot, L: c}, false
	}
	return p.primary()
}

func (p *parser) primary() (*Cond, bool) {
	start := p.i
	if p.tok().kind == tLParen {
		// Either a parenthesized operand starting a comparison, "(a) = b",
		// or a parenthesized condition, "(a = b)".
		if c := p.comparison(); c != nil {
			return c, false
		}
		p.i = start
		p.i++
		c, inner := p.cond()
		if c == nil || !p.accept(tRParen) {
			return nil, false
		}
		if inner {
			p.parens = true
		}
		return c, true
	}
	if p.isCall() && !p.followedByComparator() {
		fn, args, ok := p.call()
		if !ok {
			return nil, false
		}
		if p.isComparatorStart() {
			// The call was the left operand after all.
			p.i = start
			return p.comparison(), false
		}
		return &Cond{Kind: CondFunc, Op: fn, Args: args}, false
	}
	return p.comparison(), false
}

// isCall reports whether the current tokens start a function call.
func (p *parser) isCall() bool {
	t := p.tok()
	return t.kind == tIdent && !p.isKeyword(t.text) && p.peek(1).kind == tLParen
}

// followedByComparator is a cheap lookahead for "fn(...) <cmp>": it scans to
// the matching parenthesis.
func (p *parser) followedByComparator() bool {
	depth := 0
	for j := p.i + 1; j < len(p.toks); j++ {
		switch p.toks[j].kind {
		case tLParen:
			depth++
		case tRParen:
			depth--
			if depth == 0 {
				save := p.i
				p.i = j + 1
				ok := p.isComparatorStart()
				p.i = save
				return ok
			}
		case tEOF:
			return false
		}
	}
	return false
}

func (p *parser) isComparatorStart() bool {
	switch p.tok().kind {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return true
	}
	return p.keyword("BETWEEN") || p.keyword("IN")
}

func (p *parser) comparison() *Cond {
	l, _ := p.operand()
	if l == nil {
		return nil
	}
	t := p.tok()
	switch t.kind {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		p.i++
		r, _ := p.operand()
		if r == nil {
			return nil
		}
		return &Cond{Kind: CondCompare, Op: t.text, Args: []*Operand{l, r}}
	}
	switch {
	case p.keyword("BETWEEN"):
		p.i++
		lo, _ := p.operand()
		if lo == nil || !p.acceptKeyword("AND") {
			return nil
		}
		hi, _ := p.operand()
		if hi == nil {
			return nil
		}
		return &Cond{Kind: CondBetween, Args: []*Operand{l, lo, hi}}
	case p.keyword("IN"):
		p.i++
		if !p.accept(tLParen) {
			return nil
		}
		args := []*Operand{l}
		for {
			o, _ := p.operand()
			if o == nil {
				return nil
			}
			args = append(args, o)
			if p.tok().kind == tComma {
				p.i++
				continue
			}
			if !p.accept(tRParen) {
				return nil
			}
			return &Cond{Kind: CondIn, Args: args}
		}
	}
	p.fail()
	return nil
}

// operand parses a condition operand; wrapped reports "(operand)".
func (p *parser) operand() (*Operand, bool) {
	t := p.tok()
	switch {
	case t.kind == tLParen:
		p.i++
		o, inner := p.operand()
		if o == nil || !p.accept(tRParen) {
			return nil, false
		}
		if inner {
			p.parens = true
		}
		return o, true
	case t.kind == tValue:
		p.i++
		return &Operand{Kind: OpValue, Ref: t.text, pos: t.pos}, false
	case p.isCall():
		fn, args, ok := p.call()
		if !ok {
			return nil, false
		}
		return &Operand{Kind: OpCall, Fn: fn, Args: args, pos: t.pos}, false
	}
	path, ok := p.path()
	if !ok {
		return nil, false
	}
	return &Operand{Kind: OpPath, Path: path, pos: t.pos}, false
}

// call parses fn '(' operand (',' operand)* ')'.
func (p *parser) call() (string, []*Operand, bool) {
	fn := p.tok().text
	p.i += 2
	var args []*Operand
	for {
		o, _ := p.operand()
		if o == nil {
			return "", nil, false
		}
		args = append(args, o)
		if p.tok().kind == tComma {
			p.i++
			continue
		}
		if !p.accept(tRParen) {
			return "", nil, false
		}
		return fn, args, true
	}
}

// ---- update grammar ----
//
//	update  := clause+
//	clause  := SET setAct (',' setAct)* | REMOVE path (',' path)*
//	         | ADD path :value (',' path :value)* | DELETE path :value (',' ...)*
//	setAct  := path '=' value
//	value   := uoperand [('+' | '-') uoperand]
//	uoperand:= '(' value ')' | :value | fn '(' uoperand (',' uoperand)* ')' | path

type clause struct {
	name    string // SET, REMOVE, ADD, DELETE
	pos     int
	actions []action
}

type action struct {
	path  Path
	value *Operand // SET: the new value; ADD, DELETE: the :value
}

func (p *parser) update() ([]clause, bool) {
	var out []clause
	for {
		t := p.tok()
		var name string
		for _, kw := range [...]string{"SET", "REMOVE", "ADD", "DELETE"} {
			if p.keyword(kw) {
				name = kw
			}
		}
		if name == "" {
			if len(out) > 0 && p.tok().kind == tEOF {
				return out, true
			}
			return nil, p.fail()
		}
		p.i++
		c := clause{name: name, pos: t.pos}
		for {
			path, ok := p.path()
			if !ok {
				return nil, false
			}
			a := action{path: path}
			switch name {
			case "SET":
				if !p.accept(tEq) {
					return nil, false
				}
				v, _ := p.setValue()
				if v == nil {
					return nil, false
				}
				a.value = v
			case "ADD", "DELETE":
				vt := p.tok()
				if !p.accept(tValue) {
					return nil, false
				}
				a.value = &Operand{Kind: OpValue, Ref: vt.text, pos: vt.pos}
			}
			c.actions = append(c.actions, a)
			if p.tok().kind == tComma {
				p.i++
				continue
			}
			break
		}
		out = append(out, c)
	}
}

func (p *parser) setValue() (*Operand, bool) {
	l, wrapped := p.setOperand()
	if l == nil {
		return nil, false
	}
	t := p.tok()
	if t.kind == tPlus || t.kind == tMinus {
		p.i++
		r, _ := p.setOperand()
		if r == nil {
			return nil, false
		}
		k := OpPlus
		if t.kind == tMinus {
			k = OpMinus
		}
		return &Operand{Kind: k, Args: []*Operand{l, r}, pos: l.pos}, false
	}
	p.fail()
	return l, wrapped
}

func (p *parser) setOperand() (*Operand, bool) {
	t := p.tok()
	switch {
	case t.kind == tLParen:
		p.i++
		o, inner := p.setValue()
		if o == nil || !p.accept(tRParen) {
			return nil, false
		}
		if inner {
			p.parens = true
		}
		return o, true
	case t.kind == tValue:
		p.i++
		return &Operand{Kind: OpValue, Ref: t.text, pos: t.pos}, false
	case p.isCall():
		fn := t.text
		p.i += 2
		var args []*Operand
		for {
			o, _ := p.setOperand()
			if o == nil {
				return nil, false
			}
			args = append(args, o)
			if p.tok().kind == tComma {
				p.i++
				continue
			}
			if !p.accept(tRParen) {
				return nil, false
			}
			return &Operand{Kind: OpCall, Fn: fn, Args: args, pos: t.pos}, false
		}
	}
	path, ok := p.path()
	if !ok {
		return nil, false
	}
	return &Operand{Kind: OpPath, Path: path, pos: t.pos}, false
}

// ---- projection grammar ----
//
//	projection := path (',' path)*

func (p *parser) projection() ([]Path, bool) {
	var out []Path
	for {
		path, ok := p.path()
		if !ok {
			return nil, false
		}
		out = append(out, path)
		if p.tok().kind == tComma {
			p.i++
			continue
		}
		return out, p.atEOF()
	}
}
