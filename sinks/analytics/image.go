package analytics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/sluicedb/sluice/engine/attr"
)

// This file reads the top level of an image in DynamoDB JSON
// ({"name":{"S":"x"},...}) without decoding the values it does not need:
// the typed columns want only the scalar attributes, and decoding every
// nested map and set into an attr.Item costs more than writing the file.

// attribute is one top-level attribute of an image.
type attribute struct {
	name []byte // escapes undone
	kind kind   // kindS, kindN, kindBool, kindB or, for any other type, kindMixed
	// val is, for S, N and B, the string's contents with escapes undone
	// (B still in base64); for BOOL, the literal "true" or "false".
	val []byte
	col *column // set by the caller
}

var errImage = errors.New("malformed DynamoDB JSON")

// scanImage appends img's top-level attributes to out. A value's bytes
// alias img unless they had escapes to undo.
func scanImage(out []attribute, img []byte) ([]attribute, error) {
	p := parser{b: img}
	if !p.byte('{') {
		return out, p.err("an object")
	}
	if p.byte('}') {
		return out, p.end()
	}
	for {
		var a attribute
		var ok bool
		if a.name, ok = p.str(); !ok {
			return out, p.err("an attribute name")
		}
		if !p.byte(':') || !p.byte('{') {
			return out, p.err("an attribute value")
		}
		typ, ok := p.str()
		if !ok || !p.byte(':') {
			return out, p.err("a type")
		}
		switch string(typ) {
		case "S":
			a.kind = kindS
		case "N":
			a.kind = kindN
		case "B":
			a.kind = kindB
		case "BOOL":
			a.kind = kindBool
		default:
			a.kind = kindMixed
		}
		switch a.kind {
		case kindS, kindN, kindB:
			a.val, ok = p.str()
		case kindBool:
			p.space()
			switch {
			case bytes.HasPrefix(p.b[p.i:], []byte("true")):
				a.val, ok = p.b[p.i:p.i+4], true
			case bytes.HasPrefix(p.b[p.i:], []byte("false")):
				a.val, ok = p.b[p.i:p.i+5], true
			}
			p.i += len(a.val)
		default:
			ok = p.skip()
		}
		if !ok || !p.byte('}') {
			return out, p.err("a " + string(typ) + " value")
		}
		out = append(out, a)
		if p.byte(',') {
			continue
		}
		if p.byte('}') {
			return out, p.end()
		}
		return out, p.err("',' or '}'")
	}
}

type parser struct {
	b []byte
	i int
}

func (p *parser) err(want string) error {
	return fmt.Errorf("%w: want %s at offset %d", errImage, want, p.i)
}

func (p *parser) end() error {
	p.space()
	if p.i != len(p.b) {
		return p.err("the end")
	}
	return nil
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c, after white space, if it is next.
func (p *parser) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str consumes a JSON string and returns its contents, escapes undone.
func (p *parser) str() ([]byte, bool) {
	p.space()
	start := p.i
	if !p.skipString() {
		return nil, false
	}
	raw := p.b[start:p.i]
	// Without escapes the contents are the string, if they are UTF-8 (the
	// engine writes nothing else; json.Unmarshal makes anything else
	// U+FFFD, as attr's decoder does).
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// skipString moves past the string that starts at i.
func (p *parser) skipString() bool {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false
	}
	return p.skip()
}

// skip moves past one JSON value. It checks the nesting of brackets and
// strings, not the whole grammar: the images come from the engine, which
// wrote them with attr.AppendJSON.
func (p *parser) skip() bool {
	p.space()
	j := attr.SkipJSON(p.b, p.i)
	if j < 0 {
		return false
	}
	p.i = j
	return true
}
