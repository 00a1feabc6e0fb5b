package dynamoapi

import (
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

// maxReported is how many violations DynamoDB lists in one message.
const maxReported = 10

// Constraint rules, word for word.
const (
	ruleNotNull = "Member must not be null"
	// namePattern is the pattern of table and index names.
	namePattern = "[a-zA-Z0-9_.-]+"
	rulePattern = "Member must satisfy regular expression pattern: " + namePattern
)

func ruleMinLength(n int) string {
	return "Member must have length greater than or equal to " + strconv.Itoa(n)
}

func ruleMaxLength(n int) string {
	return "Member must have length less than or equal to " + strconv.Itoa(n)
}

func ruleMinValue(n int64) string {
	return "Member must have value greater than or equal to " + strconv.FormatInt(n, 10)
}

func ruleMaxValue(n int64) string {
	return "Member must have value less than or equal to " + strconv.FormatInt(n, 10)
}

func ruleEnum(set []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(set, ", ") + "]"
}

// Enum value sets, in the order DynamoDB lists them.
var (
	enumReturnConsumedCapacity  = []string{"INDEXES", "TOTAL", "NONE"}
	enumReturnValues            = []string{"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}
	enumReturnItemCollection    = []string{"SIZE", "NONE"}
	enumReturnValuesOnCondition = []string{"ALL_OLD", "NONE"}
	enumConditionalOperator     = []string{"AND", "OR"}
	enumBillingMode             = []string{"PROVISIONED", "PAY_PER_REQUEST"}
	enumKeyType                 = []string{"HASH", "RANGE"}
	enumAttributeType           = []string{"B", "N", "S"}
	enumProjectionType          = []string{"ALL", "KEYS_ONLY", "INCLUDE"}
	enumStreamViewType          = []string{"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"}
	enumTableClass              = []string{"STANDARD", "STANDARD_INFREQUENT_ACCESS"}
)

// violations collects constraint violations in the order they are found;
// err formats them as one ValidationException. The zero value is ready.
type violations struct {
	items []string
}

// add records that value (already rendered: "'x'" or "null") at path breaks
// rule.
func (v *violations) add(value, path, rule string) {
	v.items = append(v.items, "Value "+value+" at '"+path+"' failed to satisfy constraint: "+rule)
}

// quote renders a present value.
func quote(s string) string { return "'" + s + "'" }

// null records a missing required member.
func (v *violations) null(path string) { v.add("null", path, ruleNotNull) }

// required records path as null when present is false, and reports present.
func (v *violations) required(path string, present bool) bool {
	if !present {
		v.null(path)
	}
	return present
}

// enum checks an optional enum member.
func (v *violations) enum(path string, s *string, set []string) {
	if s == nil || contains(set, *s) {
		return
	}
	v.add(quote(*s), path, ruleEnum(set))
}

// requiredEnum checks a required enum member.
func (v *violations) requiredEnum(path string, s *string, set []string) {
	if v.required(path, s != nil) {
		v.enum(path, s, set)
	}
}

// length checks the length of a present string member (in characters, as
// Java counts them: UTF-16 units).
func (v *violations) length(path, s string, lo, hi int) {
	n := utf16Len(s)
	if n < lo {
		v.add(quote(s), path, ruleMinLength(lo))
	}
	if hi > 0 && n > hi {
		v.add(quote(s), path, ruleMaxLength(hi))
	}
}

// name checks a table or index name: the pattern, then the length bounds.
// An empty name breaks the pattern too, but DynamoDB reports that only
// where the member's minimum length is above 1 (CreateTable's TableName,
// index names); data-plane table names (minimum 1) get only the length error.
func (v *violations) name(path, s string, lo, hi int) {
	if (s != "" || lo > 1) && !validName(s) {
		v.add(quote(s), path, rulePattern)
	}
	v.length(path, s, lo, hi)
}

// rangeInt checks an optional integer member against [lo, hi] (hi 0: no
// upper bound).
func (v *violations) rangeInt(path string, n *int64, lo, hi int64) {
	if n == nil {
		return
	}
	if *n < lo {
		v.add(quote(strconv.FormatInt(*n, 10)), path, ruleMinValue(lo))
	}
	if hi > 0 && *n > hi {
		v.add(quote(strconv.FormatInt(*n, 10)), path, ruleMaxValue(hi))
	}
}

// listLength checks the length of a present list, rendered as rendered.
func (v *violations) listLength(path, rendered string, n, lo, hi int) {
	if n < lo {
		v.add(quote(rendered), path, ruleMinLength(lo))
	}
	if hi > 0 && n > hi {
		v.add(quote(rendered), path, ruleMaxLength(hi))
	}
}

// err returns the ValidationException for the recorded violations, or nil.
func (v *violations) err() error {
	if len(v.items) == 0 {
		return nil
	}
	return attr.Invalid("%s", formatViolations(v.items))
}

// formatViolations is DynamoDB's message for a list of violations: the count
// ("1 validation error detected" or "N validation errors detected"), then the
// first maxReported items joined with "; ".
func formatViolations(items []string) string {
	if len(items) > maxReported {
		items = items[:maxReported]
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

// validName reports whether s matches [a-zA-Z0-9_.-]+.
func validName(s string) bool {
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

// utf16Len is the length of s as Java counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// javaList renders strings as Java's List.toString: "[a, b]".
func javaList(items []string) string {
	return "[" + strings.Join(items, ", ") + "]"
}

// Messages of the semantic checks that follow the constraints, shared by
// several operations.
const (
	paramsInvalid = "One or more parameter values were invalid: "
)
