package filter

import (
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the JSON reader that both patterns and records go through.
// A record is read once per Criteria.Match into a flat tree (a doc) whose
// buffers are reused through docPool, so matching allocates nothing once the
// pool is warm. It accepts exactly what encoding/json accepts (the fuzz test
// FuzzParse checks this against json.Valid and json.Unmarshal): strings are
// unescaped the same way, invalid UTF-8 and lone surrogates become U+FFFD,
// numbers keep their literal text, a key that repeats in an object resolves
// to its last value, and nesting deeper than maxDepth is an error.

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindObject
	kindArray
)

// maxDepth is encoding/json's nesting limit; deeper documents are invalid.
const maxDepth = 10000

// maxDocLen bounds a document so that offsets fit in int32 even after
// unescaped strings are appended to the copy.
const maxDocLen = 1 << 29

// node is one JSON value. Offsets index doc.text; a string node's bytes are
// unescaped, a number node's bytes are its literal. An object's or array's
// children are doc.kids[val0:val1] (node indexes, in document order). key0
// and key1 delimit the (unescaped) member name when the node is an object
// member.
type node struct {
	kind       kind
	key0, key1 int32
	val0, val1 int32
}

// doc is a parsed JSON document. The root is node 0.
type doc struct {
	text  []byte // the input, then the unescaped form of strings with escapes
	nodes []node
	kids  []int32
	stack []int32 // children of the containers being read
	src   int     // len of the input part of text
	memo  []absence
}

// absence memoizes whether a leaf's field is absent below a scope array:
// the answer is the same for every element of the array, and computing it
// per element would take time quadratic in the array's length.
type absence struct {
	leaf   *leaf
	scope  int32
	absent bool
}

var docPool = sync.Pool{New: func() any { return new(doc) }}

// Documents bigger than these are not kept in the pool, so one huge record
// does not pin its buffers for the life of the process.
const (
	maxPooledText  = 1 << 20
	maxPooledNodes = 1 << 16
)

func getDoc() *doc { return docPool.Get().(*doc) }

func putDoc(d *doc) {
	if cap(d.text) > maxPooledText || cap(d.nodes) > maxPooledNodes || cap(d.kids) > maxPooledNodes {
		return
	}
	clear(d.memo) // do not keep patterns reachable from the pool
	d.memo = d.memo[:0]
	docPool.Put(d)
}

// parse reads b into d, reusing d's buffers. It reports whether b is one
// valid JSON value (surrounded by optional whitespace).
func (d *doc) parse(b []byte) bool {
	if len(b) > maxDocLen {
		return false
	}
	d.text = append(d.text[:0], b...)
	d.nodes = d.nodes[:0]
	d.kids = d.kids[:0]
	d.stack = d.stack[:0]
	d.memo = d.memo[:0]
	d.src = len(b)
	i, ok := d.value(skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

// parseRecord is parse for a record, which must be a JSON object.
func (d *doc) parseRecord(b []byte) bool {
	return d.parse(b) && d.nodes[0].kind == kindObject
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value reads the value starting at i, appends its node (and its
// descendants) and returns the offset just past it.
func (d *doc) value(i, depth int) (int, bool) {
	src := d.text[:d.src]
	if i >= len(src) {
		return i, false
	}
	switch c := src[i]; {
	case c == '{' || c == '[':
		return d.container(i, depth+1)
	case c == '"':
		v0, v1, end, ok := d.str(i)
		if !ok {
			return end, false
		}
		d.nodes = append(d.nodes, node{kind: kindString, val0: v0, val1: v1})
		return end, true
	case c == '-' || ('0' <= c && c <= '9'):
		end, ok := scanNumber(src, i)
		if !ok {
			return end, false
		}
		d.nodes = append(d.nodes, node{kind: kindNumber, val0: int32(i), val1: int32(end)})
		return end, true
	case c == 't':
		return d.literal(i, "true", kindTrue)
	case c == 'f':
		return d.literal(i, "false", kindFalse)
	case c == 'n':
		return d.literal(i, "null", kindNull)
	}
	return i, false
}

func (d *doc) literal(i int, lit string, k kind) (int, bool) {
	src := d.text[:d.src]
	if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
		return i, false
	}
	d.nodes = append(d.nodes, node{kind: k})
	return i + len(lit), true
}

// container reads an object or an array. Its children are collected on
// d.stack while they are read (their own descendants come between them in
// d.nodes) and copied to d.kids, contiguous, when the container closes.
func (d *doc) container(i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	src := d.text[:d.src]
	obj := src[i] == '{'
	closer := byte(']')
	k := kindArray
	if obj {
		closer, k = '}', kindObject
	}
	self := len(d.nodes)
	d.nodes = append(d.nodes, node{kind: k})
	base := len(d.stack)
	i = skipSpace(src, i+1)
	if i < len(src) && src[i] == closer {
		i++
	} else {
		for {
			var k0, k1 int32
			if obj {
				if i >= len(src) || src[i] != '"' {
					return i, false
				}
				var ok bool
				k0, k1, i, ok = d.str(i)
				if !ok {
					return i, false
				}
				i = skipSpace(src, i)
				if i >= len(src) || src[i] != ':' {
					return i, false
				}
				i = skipSpace(src, i+1)
			}
			child := int32(len(d.nodes))
			var ok bool
			if i, ok = d.value(i, depth); !ok {
				return i, false
			}
			d.nodes[child].key0, d.nodes[child].key1 = k0, k1
			d.stack = append(d.stack, child)
			i = skipSpace(src, i)
			if i >= len(src) {
				return i, false
			}
			if src[i] == closer {
				i++
				break
			}
			if src[i] != ',' {
				return i, false
			}
			i = skipSpace(src, i+1)
		}
	}
	k0 := int32(len(d.kids))
	d.kids = append(d.kids, d.stack[base:]...)
	d.stack = d.stack[:base]
	d.nodes[self].val0, d.nodes[self].val1 = k0, int32(len(d.kids))
	return i, true
}

// str reads the string whose opening quote is at i and returns where its
// unescaped bytes are in d.text. A string with no escapes and valid UTF-8 is
// used in place; any other is unescaped onto the end of d.text.
func (d *doc) str(i int) (v0, v1 int32, end int, ok bool) {
	src := d.text[:d.src]
	j := i + 1
	for j < len(src) {
		c := src[j]
		if c == '"' {
			return int32(i + 1), int32(j), j + 1, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			j++
			continue
		}
		r, size := utf8.DecodeRune(src[j:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		j += size
	}
	// Slow path. Appending may move d.text, but src keeps the input bytes.
	start := len(d.text)
	d.text = append(d.text, src[i+1:j]...)
	for j < len(src) {
		c := src[j]
		switch {
		case c == '"':
			return int32(start), int32(len(d.text)), j + 1, true
		case c < 0x20:
			return 0, 0, j, false
		case c == '\\':
			if j+1 >= len(src) {
				return 0, 0, j, false
			}
			switch e := src[j+1]; e {
			case '"', '\\', '/':
				d.text = append(d.text, e)
				j += 2
			case 'b':
				d.text = append(d.text, '\b')
				j += 2
			case 'f':
				d.text = append(d.text, '\f')
				j += 2
			case 'n':
				d.text = append(d.text, '\n')
				j += 2
			case 'r':
				d.text = append(d.text, '\r')
				j += 2
			case 't':
				d.text = append(d.text, '\t')
				j += 2
			case 'u':
				r := hex4(src, j+2)
				if r < 0 {
					return 0, 0, j, false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					// A high surrogate followed by a low one is one rune;
					// anything else is U+FFFD and the next escape, if any,
					// is read on its own.
					if r2 := hex4Escape(src, j); r2 >= 0 {
						if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
							r = pair
							j += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				d.text = utf8.AppendRune(d.text, r)
			default:
				return 0, 0, j, false
			}
		case c < utf8.RuneSelf:
			d.text = append(d.text, c)
			j++
		default:
			r, size := utf8.DecodeRune(src[j:])
			d.text = utf8.AppendRune(d.text, r) // RuneError for invalid bytes
			j += size
		}
	}
	return 0, 0, j, false
}

// hex4 decodes the four hex digits at b[i:], or returns -1.
func hex4(b []byte, i int) rune {
	if len(b)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// hex4Escape decodes a \uXXXX escape at b[i:], or returns -1.
func hex4Escape(b []byte, i int) rune {
	if len(b)-i < 6 || b[i] != '\\' || b[i+1] != 'u' {
		return -1
	}
	return hex4(b, i+2)
}

// scanNumber checks the JSON number grammar from i and returns its end.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// bytes returns a string or number node's bytes.
func (d *doc) bytes(n int32) []byte {
	nd := &d.nodes[n]
	return d.text[nd.val0:nd.val1]
}

// children returns an object's or array's child node indexes.
func (d *doc) children(n int32) []int32 {
	nd := &d.nodes[n]
	return d.kids[nd.val0:nd.val1]
}

// key returns the member name of node n.
func (d *doc) key(n int32) []byte {
	nd := &d.nodes[n]
	return d.text[nd.key0:nd.key1]
}

// member returns the value of obj's member name, or -1 when obj is not an
// object (or -1 itself) or has no such member. A repeated name resolves to
// its last occurrence, as with encoding/json.
func (d *doc) member(obj int32, name string) int32 {
	if obj < 0 || d.nodes[obj].kind != kindObject {
		return -1
	}
	kids := d.children(obj)
	for i := len(kids) - 1; i >= 0; i-- {
		if string(d.key(kids[i])) == name {
			return kids[i]
		}
	}
	return -1
}
