package expr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedb/sluice/engine/attr"
)

// invalid returns a ValidationException "Invalid <Kind>: <message>".
func invalid(k Kind, format string, args ...any) error {
	return attr.Invalid("Invalid %s: %s", k, fmt.Sprintf(format, args...))
}

// Messages DynamoDB sends, word for word. See doc.go for where each comes from.
const (
	msgEmpty          = "The expression can not be empty;"
	msgTooLong        = "Expression size has exceeded the maximum allowed size; expression size: %d"
	msgRedundant      = "The expression has redundant parentheses;"
	msgUnknownFn      = "Invalid function name; function: %s"
	msgMisusedFn      = "The function is not allowed to be used this way in an expression; function: %s"
	msgFnInUpdate     = "The function is not allowed in an update expression; function: %s"
	msgFnInCondition  = "The function is not allowed in a condition expression; function: %s"
	msgReserved       = "Attribute name is a reserved keyword; reserved keyword: %s"
	msgUndefinedName  = "An expression attribute name used in the document path is not defined; attribute name: %s"
	msgUndefinedValue = "An expression attribute value used in expression is not defined; attribute value: %s"
	msgArity          = "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d"
	msgOperandType    = "Incorrect operand type for operator or function; operator or function: %s, operand type: %s"
	msgActionType     = "Incorrect operand type for operator or function; operator: %s, operand type: %s"
	msgNeedsPath      = "Operator or function requires a document path; operator or function: %s"
	msgTypeName       = "Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
	msgDistinct       = "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s"
	msgBetweenTypes   = "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s"
	msgBetweenOrder   = "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s"
	msgInTooMany      = "The IN operator is provided with too many operands; number of operands: %d"
	msgSection        = "The \"%s\" section can only be used once in an update expression;"
	msgOverlap        = "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s"
	msgConflict       = "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s"
	msgTooManyOps     = "The expression contains too many operators; operators: %d, maximum allowed: %d"
	msgPathDepth      = "The document path has too many nesting levels; nesting levels: %d"
	msgPlaceholderLen = "Expression attribute placeholder exceeds the maximum allowed length of 255 bytes; placeholder: %s"

	// Runtime (evaluation) errors: no "Invalid <Kind>:" prefix.
	msgBadOperandType = "An operand in the update expression has an incorrect data type"
	msgMissingOperand = "The provided expression refers to an attribute that does not exist in the item"
	msgBadUpdatePath  = "The document path provided in the update expression is invalid for update"
)

// Limits DynamoDB applies to expressions.
const (
	MaxExpressionBytes  = 4096 // per expression string
	MaxPlaceholderBytes = 255  // per #name or :value placeholder
	MaxUpdateOperators  = 300  // operators and functions in one UpdateExpression
	MaxPathDepth        = 32   // elements in one document path
	MaxInOperands       = 100  // right-hand operands of IN
)

// errSet keeps the first error of each category; the lowest category wins.
// DynamoDB checks a whole expression and reports by category, not by the
// position of the first problem, so the checker collects and then picks.
type errSet struct {
	errs []string
	kind Kind
}

func newErrSet(k Kind, categories int) *errSet {
	return &errSet{errs: make([]string, categories), kind: k}
}

func (e *errSet) add(cat int, format string, args ...any) {
	if e.errs[cat] == "" {
		e.errs[cat] = fmt.Sprintf(format, args...)
	}
}

func (e *errSet) has(cat int) bool { return e.errs[cat] != "" }

func (e *errSet) err() error {
	for _, m := range e.errs {
		if m != "" {
			return invalid(e.kind, "%s", m)
		}
	}
	return nil
}

// typeName is the long type name used in ADD and DELETE operand errors.
func longTypeName(t attr.Type) string {
	switch t {
	case attr.TypeS:
		return "STRING"
	case attr.TypeN:
		return "NUMBER"
	case attr.TypeB:
		return "BINARY"
	case attr.TypeBOOL:
		return "BOOLEAN"
	case attr.TypeNULL:
		return "NULL"
	case attr.TypeM:
		return "MAP"
	case attr.TypeL:
		return "LIST"
	case attr.TypeSS:
		return "STRING SET"
	case attr.TypeNS:
		return "NUMBER SET"
	case attr.TypeBS:
		return "BINARY SET"
	}
	return t.String()
}

// shortValue formats a scalar as DynamoDB's messages do: {S:a}, {N:1}.
func shortValue(v attr.Value) string {
	switch v.T {
	case attr.TypeS:
		return "{S:" + v.S + "}"
	case attr.TypeN:
		return "{N:" + string(v.N) + "}"
	}
	j, _ := v.MarshalJSON()
	return string(j)
}

// sortedKeys formats placeholder keys for the unused-keys messages: {#a, #b}.
func sortedKeys(keys []string) string {
	sort.Strings(keys)
	return "{" + strings.Join(keys, ", ") + "}"
}
