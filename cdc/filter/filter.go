package filter

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxFilters is how many patterns one FilterCriteria may hold (Lambda's
// default quota; its callers enforce it through CompileAll).
const MaxFilters = 5

// MaxPatternLength is the longest pattern Lambda accepts, in characters
// (the length constraint of Filter.Pattern).
const MaxPatternLength = 4096

// Client errors. The wire layer maps both to InvalidParameterValueException;
// nothing else compares them.
var (
	// ErrInvalidPattern is the condition of every *PatternError.
	ErrInvalidPattern = errors.New("filter: invalid filter pattern")
	// ErrTooManyFilters is returned by CompileAll for more than MaxFilters
	// patterns.
	ErrTooManyFilters = errors.New("filter: too many filters")
)

// PatternError says what is wrong with a pattern, and where.
type PatternError struct {
	// Path is the dotted field path of the offending value ("" for the
	// pattern as a whole), for example "dynamodb.NewImage.Quantity.N".
	Path string
	// Msg says what is wrong, in words a user can act on.
	Msg string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return "invalid filter pattern: " + e.Msg
	}
	return "invalid filter pattern: " + e.Path + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalidPattern) true.
func (e *PatternError) Is(target error) bool { return target == ErrInvalidPattern }

// Pattern is one compiled filter pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src  string
	root *object
}

// Compile parses and validates one pattern (the JSON text of a
// FilterCriteria.Filters[].Pattern). Errors are *PatternError.
func Compile(pattern string) (*Pattern, error) {
	if n := utf8.RuneCountInString(pattern); n > MaxPatternLength {
		return nil, &PatternError{Msg: fmt.Sprintf("the pattern is %d characters long; the limit is %d", n, MaxPatternLength)}
	}
	var d doc
	if !d.parse([]byte(pattern)) {
		return nil, &PatternError{Msg: "the pattern is not valid JSON"}
	}
	if d.nodes[0].kind != kindObject {
		return nil, &PatternError{Msg: fmt.Sprintf("the pattern must be a JSON object such as {\"eventName\": [\"INSERT\"]}, not %s", kindName(d.nodes[0].kind))}
	}
	c := compiler{d: &d}
	root, err := c.object(0, nil, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{src: pattern, root: root}, nil
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.src }

// Match reports whether the record (the JSON of one Lambda-shaped record)
// matches. A record that is not a valid JSON object never matches.
func (p *Pattern) Match(record []byte) bool {
	d := getDoc()
	defer putDoc(d)
	return d.parseRecord(record) && p.root.match(d, 0, noScope)
}

// Criteria are up to MaxFilters patterns, OR'ed: a record matches if any
// pattern matches it. An empty Criteria matches every record, without
// reading it.
type Criteria []*Pattern

// CompileAll compiles the patterns of one FilterCriteria. It rejects more
// than MaxFilters patterns; a pattern's error names its index.
func CompileAll(patterns []string) (Criteria, error) {
	if len(patterns) > MaxFilters {
		return nil, fmt.Errorf("%w: %d filters given, at most %d are allowed", ErrTooManyFilters, len(patterns), MaxFilters)
	}
	c := make(Criteria, 0, len(patterns))
	for i, s := range patterns {
		p, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("Filters[%d].Pattern: %w", i, err)
		}
		c = append(c, p)
	}
	return c, nil
}

// Match reports whether any pattern matches the record. The record is read
// once, whatever the number of patterns.
func (c Criteria) Match(record []byte) bool {
	if len(c) == 0 {
		return true
	}
	d := getDoc()
	defer putDoc(d)
	if !d.parseRecord(record) {
		return false
	}
	for _, p := range c {
		if p.root.match(d, 0, noScope) {
			return true
		}
	}
	return false
}

// String returns the patterns' source texts as a JSON-ish list, for logs.
func (c Criteria) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range c {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.src)
	}
	b.WriteByte(']')
	return b.String()
}

func kindName(k kind) string {
	switch k {
	case kindNull:
		return "null"
	case kindFalse, kindTrue:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindObject:
		return "an object"
	default:
		return "an array"
	}
}
