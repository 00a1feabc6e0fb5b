package dynamoapi

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
)

// This file is where expressions plug in. Each operation gathers its
// expression members (and their legacy, non-expression forms) into an
// exprParams, which checks the conflicts DynamoDB reports before it parses
// anything, then parses each expression with engine/expr (parse*), and
// finally reports placeholders no expression used (checkUnused).

// msgMixedParams answers expression and non-expression members in one
// request: the non-expression ones, then the expression ones.
const msgMixedParams = "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}"

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
	// valuesUser names the expression(s) whose absence DynamoDB quotes when
	// values are sent without one ("ConditionExpression", or "UpdateExpression
	// and ConditionExpression", which takes "are"); "" if the operation takes
	// no ExpressionAttributeValues.
	valuesUser string
	// used collects what each parsed expression used, for checkUnused.
	used []expr.Usage
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
		return attr.Invalid(msgMixedParams, strings.Join(p.legacy, ", "), strings.Join(p.expressions, ", "))
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
			verb := "is"
			if strings.Contains(p.valuesUser, " and ") {
				verb = "are"
			}
			return attr.Invalid("ExpressionAttributeValues can only be specified when using expressions: %s %s null", p.valuesUser, verb)
		}
	}
	// Each value is validated as an attribute value; DynamoDB names the
	// placeholder ("ExpressionAttributeValues contains invalid value: <why>
	// for key :v", as recorded by dynalite's tests against DynamoDB).
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := p.values[k]
		if err := attr.ValidateValue(&v); err != nil {
			var ae *attr.Error
			if errors.As(err, &ae) {
				return attr.Invalid("ExpressionAttributeValues contains invalid value: %s for key %s", ae.Msg, k)
			}
			return err
		}
		p.values[k] = v
	}
	return nil
}

// parseCondition parses a ConditionExpression or FilterExpression (kind
// says which, for the messages); nil when s was not sent.
func (p *exprParams) parseCondition(kind expr.Kind, s *string) (*expr.Condition, error) {
	if s == nil {
		return nil, nil
	}
	c, err := expr.ParseCondition(kind, *s, p.names, expr.Values(p.values))
	if err != nil {
		return nil, err
	}
	p.used = append(p.used, c.Used())
	return c, nil
}

// parseProjection parses a ProjectionExpression; nil when s was not sent.
func (p *exprParams) parseProjection(s *string) (*expr.Projection, error) {
	if s == nil {
		return nil, nil
	}
	pr, err := expr.ParseProjection(*s, p.names)
	if err != nil {
		return nil, err
	}
	p.used = append(p.used, pr.Used())
	return pr, nil
}

// parseUpdate parses an UpdateExpression; nil when s was not sent.
func (p *exprParams) parseUpdate(s *string) (*expr.Update, error) {
	if s == nil {
		return nil, nil
	}
	u, err := expr.ParseUpdate(*s, p.names, expr.Values(p.values))
	if err != nil {
		return nil, err
	}
	p.used = append(p.used, u.Used())
	return u, nil
}

// parseKeyCondition parses a KeyConditionExpression (the checks that need no
// key schema; Bind does the rest once the table is known); nil when s was not
// sent.
func (p *exprParams) parseKeyCondition(s *string) (*expr.KeyCondition, error) {
	if s == nil {
		return nil, nil
	}
	k, err := expr.ParseKeyCondition(*s, p.names, expr.Values(p.values))
	if err != nil {
		return nil, err
	}
	p.used = append(p.used, k.Used())
	return k, nil
}

// checkUnused reports names and values no parsed expression of the request
// used, as DynamoDB does once it has parsed them all.
func (p *exprParams) checkUnused() error {
	return expr.CheckUnused(p.names, expr.Values(p.values), p.used...)
}

// condition parses the request's ConditionExpression and checks for unused
// placeholders: the whole expression handling of PutItem and DeleteItem. It
// returns nil when the request has no condition.
func (p *exprParams) condition(s *string) (engine.Condition, error) {
	if err := p.legacyUnsupported(); err != nil {
		return nil, err
	}
	c, err := p.parseCondition(expr.KindCondition, s)
	if err != nil {
		return nil, err
	}
	if err := p.checkUnused(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nil // a typed nil would not compare equal to nil
	}
	return c, nil
}

// projection parses the request's ProjectionExpression, or turns its legacy
// AttributesToGet into the same projection, and checks for unused
// placeholders: the whole expression handling of the read operations. It
// returns nil when the request projects nothing.
func (p *exprParams) projection(s *string, attributesToGet []string) (*expr.Projection, error) {
	if len(attributesToGet) > 0 {
		names := make(expr.Names, len(attributesToGet))
		refs := make([]string, len(attributesToGet))
		for i, a := range attributesToGet {
			ref := "#a" + strconv.Itoa(i)
			names[ref] = a
			refs[i] = ref
		}
		return expr.ParseProjection(strings.Join(refs, ", "), names)
	}
	pr, err := p.parseProjection(s)
	if err != nil {
		return nil, err
	}
	if err := p.checkUnused(); err != nil {
		return nil, err
	}
	return pr, nil
}

// projectJSON applies a projection to a stored item (canonical DynamoDB
// JSON); nil projects nothing and returns js as it is.
func projectJSON(pr *expr.Projection, js []byte) ([]byte, error) {
	if pr == nil || js == nil {
		return js, nil
	}
	var item attr.Item
	if err := item.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("decoding a stored item: %w", err)
	}
	return attr.AppendItemJSON(nil, pr.Project(item)), nil
}

// legacyUnsupported refuses the legacy (non-expression) members until they
// are translated into expressions.
func (p *exprParams) legacyUnsupported() error {
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

// projPaths returns a projection's paths; nil projects nothing.
func projPaths(p *expr.Projection) []expr.Path {
	if p == nil {
		return nil
	}
	return p.Paths
}
