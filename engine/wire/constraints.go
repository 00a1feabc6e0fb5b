package wire

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// This file is the catalog of request-constraint messages: the checks
// DynamoDB's front end runs on a request's members before any operation logic
// (null, length, pattern, enum, range), and the one format it reports them in:
//
//	1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3
//	2 validation errors detected: Value 'X' at 'billingMode' failed to satisfy constraint: ...; Value null at 'keySchema' failed to satisfy constraint: Member must not be null
//
// Paths are the members' lowerCamel names, list members 1-based:
// "keySchema.1.member.keyType". Values are rendered as Java's toString would:
// strings as is, lists as "[a, b]", missing members as "Value null" (no
// quotes).

// MaxReported is how many violations DynamoDB lists in one message.
const MaxReported = 10

// Constraint rules, word for word.
const (
	RuleNotNull = "Member must not be null"
	// NamePattern is the pattern of table and index names.
	NamePattern = "[a-zA-Z0-9_.-]+"
	RulePattern = "Member must satisfy regular expression pattern: " + NamePattern
)

func RuleMinLength(n int) string {
	return "Member must have length greater than or equal to " + strconv.Itoa(n)
}

func RuleMaxLength(n int) string {
	return "Member must have length less than or equal to " + strconv.Itoa(n)
}

func RuleMinValue(n int64) string {
	return "Member must have value greater than or equal to " + strconv.FormatInt(n, 10)
}

func RuleMaxValue(n int64) string {
	return "Member must have value less than or equal to " + strconv.FormatInt(n, 10)
}

func RuleEnum(set []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(set, ", ") + "]"
}

// violations collects constraint violations in the order they are found;
// Err formats them as one ValidationException. The zero value is ready.
type Violations struct {
	items []string
}

// Add records that value (already rendered: "'x'" or "null") at path breaks
// rule.
func (v *Violations) Add(value, path, rule string) {
	v.items = append(v.items, "Value "+value+" at '"+path+"' failed to satisfy constraint: "+rule)
}

// Quote renders a present value.
func Quote(s string) string { return "'" + s + "'" }

// Null records a missing required member.
func (v *Violations) Null(path string) { v.Add("null", path, RuleNotNull) }

// Required records path as null when present is false, and reports present.
func (v *Violations) Required(path string, present bool) bool {
	if !present {
		v.Null(path)
	}
	return present
}

// Enum checks an optional enum member.
func (v *Violations) Enum(path string, s *string, set []string) {
	if s == nil || slices.Contains(set, *s) {
		return
	}
	v.Add(Quote(*s), path, RuleEnum(set))
}

// RequiredEnum checks a required enum member.
func (v *Violations) RequiredEnum(path string, s *string, set []string) {
	if v.Required(path, s != nil) {
		v.Enum(path, s, set)
	}
}

// Length checks the length of a present string member (in characters, as
// Java counts them: UTF-16 units).
func (v *Violations) Length(path, s string, lo, hi int) {
	n := UTF16Len(s)
	if n < lo {
		v.Add(Quote(s), path, RuleMinLength(lo))
	}
	if hi > 0 && n > hi {
		v.Add(Quote(s), path, RuleMaxLength(hi))
	}
}

// Name checks a table or index name: the pattern, then the length bounds.
// An empty name breaks the pattern too, but DynamoDB reports that only
// where the member's minimum length is above 1 (CreateTable's TableName,
// index names); data-plane table names (minimum 1) get only the length error.
func (v *Violations) Name(path, s string, lo, hi int) {
	if (s != "" || lo > 1) && !ValidName(s) {
		v.Add(Quote(s), path, RulePattern)
	}
	v.Length(path, s, lo, hi)
}

// RangeInt checks an optional integer member against [lo, hi] (hi 0: no
// upper bound).
func (v *Violations) RangeInt(path string, n *int64, lo, hi int64) {
	if n == nil {
		return
	}
	if *n < lo {
		v.Add(Quote(strconv.FormatInt(*n, 10)), path, RuleMinValue(lo))
	}
	if hi > 0 && *n > hi {
		v.Add(Quote(strconv.FormatInt(*n, 10)), path, RuleMaxValue(hi))
	}
}

// ListLength checks the length of a present list, rendered as rendered.
func (v *Violations) ListLength(path, rendered string, n, lo, hi int) {
	if n < lo {
		v.Add(Quote(rendered), path, RuleMinLength(lo))
	}
	if hi > 0 && n > hi {
		v.Add(Quote(rendered), path, RuleMaxLength(hi))
	}
}

// Err returns the ValidationException for the recorded violations, or nil.
func (v *Violations) Err() error {
	if len(v.items) == 0 {
		return nil
	}
	return attr.Invalid("%s", FormatViolations(v.items))
}

// FormatViolations is DynamoDB's message for a list of violations: the count
// ("1 validation error detected" or "N validation errors detected"), then the
// first MaxReported items joined with "; ".
func FormatViolations(items []string) string {
	if len(items) > MaxReported {
		items = items[:MaxReported]
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(items)))
	if len(items) == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	for i, s := range items {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// ValidName reports whether s matches [a-zA-Z0-9_.-]+.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// UTF16Len is the length of s as Java counts it.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// AddUnquoted records a violation that DynamoDB reports without echoing the
// value ("Value at 'path' failed to satisfy constraint: ...").
func (v *Violations) AddUnquoted(path, rule string) {
	v.items = append(v.items, "Value at '"+path+"' failed to satisfy constraint: "+rule)
}
