package expr

import "unicode/utf8"

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // attribute name, keyword or function name: [A-Za-z_][A-Za-z0-9_]*
	tName            // #placeholder
	tValue           // :placeholder
	tNumber          // digits (list indexes only)
	tLParen          // (
	tRParen          // )
	tLBrack          // [
	tRBrack          // ]
	tComma           // ,
	tDot             // .
	tEq              // =
	tNe              // <>
	tLt              // <
	tLe              // <=
	tGt              // >
	tGe              // >=
	tPlus            // +
	tMinus           // -
	tIllegal         // any other character
)

// token is one lexeme with its byte span in the source.
type token struct {
	kind     tokKind
	text     string
	pos, end int
}

// lex splits s into tokens, always ending with a tEOF token at len(s).
// Lexing never fails: a character outside the grammar becomes a tIllegal
// token so that the parser reports it as DynamoDB does ("Syntax error;
// token: ...").
func lex(s string) []token {
	toks := make([]token, 0, len(s)/3+2)
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		var k tokKind
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case isIdentStart(c):
			i++
			for i < len(s) && isIdentPart(s[i]) {
				i++
			}
			k = tIdent
		case c >= '0' && c <= '9':
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			k = tNumber
		case c == '#' || c == ':':
			i++
			for i < len(s) && isIdentPart(s[i]) {
				i++
			}
			switch {
			case i == start+1:
				k = tIllegal
			case c == '#':
				k = tName
			default:
				k = tValue
			}
		case c == '<':
			i++
			k = tLt
			if i < len(s) && s[i] == '=' {
				i++
				k = tLe
			} else if i < len(s) && s[i] == '>' {
				i++
				k = tNe
			}
		case c == '>':
			i++
			k = tGt
			if i < len(s) && s[i] == '=' {
				i++
				k = tGe
			}
		default:
			i++
			switch c {
			case '(':
				k = tLParen
			case ')':
				k = tRParen
			case '[':
				k = tLBrack
			case ']':
				k = tRBrack
			case ',':
				k = tComma
			case '.':
				k = tDot
			case '=':
				k = tEq
			case '+':
				k = tPlus
			case '-':
				k = tMinus
			default:
				k = tIllegal
				if c >= utf8.RuneSelf {
					_, n := utf8.DecodeRuneInString(s[start:])
					i = start + n
				}
			}
		}
		toks = append(toks, token{kind: k, text: s[start:i], pos: start, end: i})
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", pos: len(s), end: len(s)})
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
