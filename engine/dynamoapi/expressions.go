package dynamoapi

import (
	"encoding/json"
	"strings"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// This file is where expressions plug in. Each operation gathers its
// expression members (and their legacy, non-expression forms) into an
// exprParams, which checks the conflicts DynamoDB reports before it parses
// anything. Compiling the expressions is engine/expr's job; until it exists,
// a request that uses them is refused as not supported yet.

// exprParams are the expression-related members of one request.
type exprParams struct {
	// Expression members present, in DynamoDB's order, by name
	// ("ConditionExpression", "ProjectionExpression", ...).
	expressions []string
	// Legacy members present ("Expected", "AttributesToGet",
	// "ConditionalOperator").
	legacy []string
	names  map[string]string // ExpressionAttributeNames
	values attr.Item         // ExpressionAttributeValues
	// valuesUser names the expression whose absence DynamoDB quotes when
	// values are sent without one ("ConditionExpression"); "" if the
	// operation takes no ExpressionAttributeValues.
	valuesUser string
}

// addExpr records an expression member if it was sent.
func (p *exprParams) addExpr(name string, s *string) {
	if s != nil {
		p.expressions = append(p.expressions, name)
	}
}

// addLegacy records a legacy member if it was sent.
func (p *exprParams) addLegacy(name string, sent bool) {
	if sent {
		p.legacy = append(p.legacy, name)
	}
}

// check reports the conflicts DynamoDB finds before parsing: expression and
// non-expression members together, and names or values without an
// expression to use them. The values are validated as item attributes.
func (p *exprParams) check() error {
	if len(p.expressions) > 0 && len(p.legacy) > 0 {
		return attr.Invalid("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(p.legacy, ", "), strings.Join(p.expressions, ", "))
	}
	if p.names != nil && len(p.names) == 0 {
		return attr.Invalid("ExpressionAttributeNames must not be empty")
	}
	if p.values != nil && len(p.values) == 0 {
		return attr.Invalid("ExpressionAttributeValues must not be empty")
	}
	if len(p.expressions) == 0 {
		if p.names != nil {
			return attr.Invalid("ExpressionAttributeNames can only be specified when using expressions")
		}
		if p.values != nil {
			return attr.Invalid("ExpressionAttributeValues can only be specified when using expressions: %s is null", p.valuesUser)
		}
	}
	if p.values != nil {
		if err := attr.ValidateItem(p.values); err != nil {
			return err
		}
	}
	return nil
}

// condition compiles the request's condition for the engine: nil when the
// request has none.
func (p *exprParams) condition() (engine.Condition, error) {
	if err := p.unsupported(); err != nil {
		return nil, err
	}
	return nil, nil
}

// unsupported refuses the expression and legacy members until engine/expr
// exists.
func (p *exprParams) unsupported() error {
	if len(p.expressions) > 0 {
		return notSupported(p.expressions[0])
	}
	if len(p.legacy) > 0 {
		return notSupported(p.legacy[0])
	}
	return nil
}

// notSupported is the ValidationException for a member Sluice does not
// support yet.
func notSupported(member string) error {
	return attr.Invalid("%s is not supported yet", member)
}

// sentMap reports whether a map member was sent (a JSON null is not).
func sentMap(m map[string]json.RawMessage) bool { return m != nil }
