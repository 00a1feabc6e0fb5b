package dynamoapi

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/wire"
)

// Query and Scan check a request in this order (the conformance suite where
// it asserts, AWS-verified recordings of other emulators otherwise):
//
//  1. JSON types (wire.Decode: SerializationException);
//  2. the table name, alone;
//  3. the member constraints, aggregated: IndexName, Select, the
//     AttributesToGet length, ConditionalOperator, ReturnConsumedCapacity;
//     for Scan also Limit, Segment and TotalSegments;
//  4. Query's Limit (its own wording: "Value at 'Limit'"); Scan's Segment
//     and TotalSegments pairing;
//  5. the ExclusiveStartKey's and ExpressionAttributeValues' attribute
//     values, then the expression conflicts;
//  6. Select against the projection and the index; Query says these
//     "1 validation error detected: ...", Scan says them bare;
//  7. Query's key condition present;
//  8. the expressions: KeyConditionExpression, FilterExpression,
//     ProjectionExpression, then unused names and values; or their legacy
//     forms KeyConditions, QueryFilter/ScanFilter with ConditionalOperator
//     (legacy.go) and AttributesToGet;
//  9. the table's existence, the index, the key condition against the key
//     schema, then the engine (ExclusiveStartKey against the schema).
//
// Querying or scanning a secondary index is issue 5: a defined index is
// answered "Querying an index is not supported yet" (ValidationException).

type queryIn struct {
	TableName                 *string                 `json:"TableName"`
	IndexName                 *string                 `json:"IndexName"`
	Select                    *string                 `json:"Select"`
	AttributesToGet           []string                `json:"AttributesToGet"`
	Limit                     *int64                  `json:"Limit"`
	ConsistentRead            *bool                   `json:"ConsistentRead"`
	KeyConditions             map[string]legacyCondIn `json:"KeyConditions"`
	QueryFilter               map[string]legacyCondIn `json:"QueryFilter"`
	ConditionalOperator       *string                 `json:"ConditionalOperator"`
	ScanIndexForward          *bool                   `json:"ScanIndexForward"`
	ExclusiveStartKey         attr.Item               `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity    *string                 `json:"ReturnConsumedCapacity"`
	ProjectionExpression      *string                 `json:"ProjectionExpression"`
	FilterExpression          *string                 `json:"FilterExpression"`
	KeyConditionExpression    *string                 `json:"KeyConditionExpression"`
	ExpressionAttributeNames  map[string]string       `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues attr.Item               `json:"ExpressionAttributeValues"`
}

// enumSelect is Select's value set, in DynamoDB's order.
var enumSelect = []string{"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"}

// Messages of Query's and Scan's own checks, word for word.
const (
	msgQueryLimit         = "Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
	msgKeyConditionNeeded = "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
	msgSpecificNeedsProj  = "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
	msgProjectedNeedsIdx  = "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
	msgNoSuchIndex        = "The table does not have the specified index: %s"
	msgGSIConsistent      = "Consistent reads are not supported on global secondary indexes"
	// msgCannotSpecify: "Cannot specify the ProjectionExpression when
	// choosing to get ALL_ATTRIBUTES" (or AttributesToGet; or "only the
	// Count" for COUNT).
	msgCannotSpecify = "Cannot specify the %s when choosing to get %s"
)

// validationPrefix wraps Query's own semantic checks, as DynamoDB does.
const validationPrefix = "1 validation error detected: "

// checkSelect applies DynamoDB's rules on Select: a projection only with
// SPECIFIC_ATTRIBUTES (or no Select), SPECIFIC_ATTRIBUTES only with one,
// ALL_PROJECTED_ATTRIBUTES only on an index. prefix starts each message.
func checkSelect(sel *string, projection, attributesToGet, index bool, prefix string) error {
	if sel == nil {
		return nil
	}
	what := *sel
	if what == "COUNT" {
		what = "only the Count"
	}
	switch {
	case *sel != "SPECIFIC_ATTRIBUTES" && projection:
		return attr.Invalid(prefix+msgCannotSpecify, "ProjectionExpression", what)
	case *sel != "SPECIFIC_ATTRIBUTES" && attributesToGet:
		return attr.Invalid(prefix+msgCannotSpecify, "AttributesToGet", what)
	case *sel == "SPECIFIC_ATTRIBUTES" && !projection && !attributesToGet:
		return attr.Invalid("%s%s", prefix, msgSpecificNeedsProj)
	case *sel == "ALL_PROJECTED_ATTRIBUTES" && !index:
		return attr.Invalid("%s%s", prefix, msgProjectedNeedsIdx)
	}
	return nil
}

// checkStartKeyValues validates an ExclusiveStartKey's attribute values,
// with DynamoDB's prefix.
func checkStartKeyValues(key attr.Item) error {
	if key == nil {
		return nil
	}
	if err := attr.ValidateItem(key); err != nil {
		var ae *attr.Error
		if errors.As(err, &ae) {
			return attr.Errorf(ae.Kind, "The provided starting key is invalid: %s", ae.Msg)
		}
		return err
	}
	return nil
}

// Read-your-writes on a GSI, beyond DynamoDB: a Query or Scan of a GSI with
// this header and the value "strong" first waits until the GSI indexer has
// applied every change committed before it, for at most IndexWaitTimeout.
const (
	HeaderIndexConsistency = "X-Sluice-Index-Consistency"
	IndexWaitTimeout       = 2 * time.Second
)

// waitIndex honours HeaderIndexConsistency for a read of a GSI.
func (a *api) waitIndex(req *wire.Request, table string, global bool) error {
	if !global || req.Header == nil || !strings.EqualFold(req.Header.Get(HeaderIndexConsistency), "strong") {
		return nil
	}
	return a.e.WaitGSI(table, IndexWaitTimeout)
}

// findIndex checks a read's IndexName against the table: an unknown index
// is DynamoDB's error, and a GSI refuses ConsistentRead. It returns the
// index read (nil for the table) and whether it is a GSI.
func findIndex(def *catalog.Table, name *string, consistent bool) (ix *catalog.Index, global bool, err error) {
	if name == nil {
		return nil, false, nil
	}
	for i := range def.LSIs {
		if def.LSIs[i].Name == *name {
			return &def.LSIs[i], false, nil
		}
	}
	for i := range def.GSIs {
		if def.GSIs[i].Name == *name {
			if consistent {
				return nil, false, attr.Invalid(msgGSIConsistent)
			}
			return &def.GSIs[i], true, nil
		}
	}
	return nil, false, attr.Invalid(msgNoSuchIndex, *name)
}

// projectedNames is the set of attributes index ix holds: the table's key,
// the index's key and, for INCLUDE, its NonKeyAttributes; nil for ALL.
func projectedNames(def *catalog.Table, ix *catalog.Index) map[string]bool {
	if ix.Projection.Type == "ALL" {
		return nil
	}
	projected := map[string]bool{}
	for _, k := range def.KeySchema {
		projected[k.Name] = true
	}
	for _, k := range ix.KeySchema {
		projected[k.Name] = true
	}
	for _, name := range ix.Projection.NonKeyAttributes {
		projected[name] = true
	}
	return projected
}

// unprojected is the names, sorted and once each, that projected (nil:
// everything) lacks.
func unprojected(projected map[string]bool, names []string) []string {
	if projected == nil {
		return nil
	}
	var out []string
	for _, name := range names {
		if !projected[name] && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// projectionNames is the top-level attributes a projection names.
func projectionNames(proj *expr.Projection) []string {
	var names []string
	for _, p := range projPaths(proj) {
		names = append(names, p[0].Name)
	}
	return names
}

// filterNames is the top-level attributes a filter names.
func filterNames(filter engine.Condition) []string {
	if f, ok := filter.(interface{ Attributes() []string }); ok {
		return f.Attributes()
	}
	return nil
}

// gsiReadError refuses a read of GSI ix that needs attributes the index
// does not project, which (unlike an LSI) it cannot fetch from the table:
// Select ALL_ATTRIBUTES, a projection naming one and, for a Query, a
// filter naming one (a Scan's filter then simply finds no such attribute).
// The messages are DynamoDB Local's, which DynamoDB's PartiQL answers
// recorded by later conformance suites share.
func gsiReadError(def *catalog.Table, ix *catalog.Index, sel *string, proj *expr.Projection, filter engine.Condition, query bool) error {
	projected := projectedNames(def, ix)
	if projected == nil {
		return nil
	}
	if sel != nil && *sel == "ALL_ATTRIBUTES" {
		return attr.Invalid(paramsInvalid+"Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", ix.Name)
	}
	if names := unprojected(projected, projectionNames(proj)); len(names) > 0 {
		return attr.Invalid(paramsInvalid+"Global secondary index %s does not project [%s]", ix.Name, strings.Join(names, ", "))
	}
	if !query {
		return nil
	}
	if names := unprojected(projected, filterNames(filter)); len(names) > 0 {
		return attr.Invalid(paramsInvalid+"Secondary index %s does not project one or more filter attributes: [%s]", ix.Name, strings.Join(names, ", "))
	}
	return nil
}

// indexRead checks a Query's or Scan's read of index ix (nil: the table)
// against what the index projects and says how to read it. A GSI refuses
// what it does not project (gsiReadError). An LSI fetches it from the
// table, as DynamoDB does: for Select ALL_ATTRIBUTES, or a projection or
// filter naming one; out is the read's output projector, proj or, when
// only the filter needs the fetch, the index's own attributes.
func indexRead(def *catalog.Table, ix *catalog.Index, global bool, sel *string, proj *expr.Projection, filter engine.Condition, query bool) (fetch bool, out engine.Projector, err error) {
	if proj != nil {
		out = proj // a nil *expr.Projection would not compare equal to nil
	}
	if ix == nil {
		return false, out, nil
	}
	if global {
		return false, out, gsiReadError(def, ix, sel, proj, filter, query)
	}
	projected := projectedNames(def, ix)
	switch {
	case projected == nil:
		return false, out, nil
	case sel != nil && *sel == "ALL_ATTRIBUTES", len(unprojected(projected, projectionNames(proj))) > 0:
		return true, out, nil
	case len(unprojected(projected, filterNames(filter))) > 0:
		if proj == nil {
			out = indexProjector(projected)
		}
		return true, out, nil
	}
	return false, out, nil
}

// indexProjector keeps the attributes an index projects.
type indexProjector map[string]bool

func (p indexProjector) Project(item attr.Item) attr.Item {
	out := make(attr.Item, len(p))
	for name := range p {
		if v, ok := item[name]; ok {
			out[name] = v
		}
	}
	return out
}

// keysOf is the key schema a read binds its key condition to: the
// index's, or the table's.
func keysOf(def *catalog.Table, ix *catalog.Index) expr.KeySchema {
	if ix == nil {
		h, ht := def.HashKey()
		r, rt := def.RangeKey()
		return expr.KeySchema{Hash: h, HashType: ht, Range: r, RangeType: rt}
	}
	var ks expr.KeySchema
	var partition, sort []expr.KeyAttr
	for _, k := range ix.KeySchema {
		a := expr.KeyAttr{Name: k.Name, Type: def.AttrType(k.Name)}
		if k.KeyType == "HASH" {
			ks.Hash, ks.HashType = k.Name, a.Type
			partition = append(partition, a)
		} else {
			ks.Range, ks.RangeType = k.Name, a.Type
			sort = append(sort, a)
		}
	}
	if len(partition) > 1 || len(sort) > 1 { // a GSI with multi-attribute keys
		ks.Partition, ks.Sort = partition, sort
	}
	return ks
}

// keyAttributes are the names of the key attributes of the index read (or
// the table's): a Query's filter may name none of them.
func keyAttributes(ks expr.KeySchema) []string {
	if ks.Partition == nil {
		return []string{ks.Hash, ks.Range}
	}
	var out []string
	for _, a := range append(append([]expr.KeyAttr(nil), ks.Partition...), ks.Sort...) {
		out = append(out, a.Name)
	}
	return out
}

// notFound is the data plane's answer for a missing table.
func notFound() error {
	return attr.Errorf(engine.ErrTableNotFound, "Requested resource not found")
}

// query answers Query.
func (a *api) query(_ context.Context, req *wire.Request) (any, error) {
	var in queryIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	var v violations
	if in.IndexName != nil {
		v.Name("indexName", *in.IndexName, 3, 255)
	}
	v.Enum("select", in.Select, enumSelect)
	if in.AttributesToGet != nil {
		v.ListLength("attributesToGet", javaList(in.AttributesToGet), len(in.AttributesToGet), 1, 0)
	}
	checkLegacyEnums(&v, "keyConditions", in.KeyConditions)
	checkLegacyEnums(&v, "queryFilter", in.QueryFilter)
	v.Enum("conditionalOperator", in.ConditionalOperator, enumConditionalOperator)
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, attr.Invalid(validationPrefix + msgQueryLimit)
	}
	if err := checkStartKeyValues(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	x := exprParams{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, valuesUser: "KeyConditionExpression"}
	x.addExpr("ProjectionExpression", in.ProjectionExpression)
	x.addExpr("FilterExpression", in.FilterExpression)
	x.addExpr("KeyConditionExpression", in.KeyConditionExpression)
	x.addLegacy("AttributesToGet", in.AttributesToGet != nil)
	x.addLegacy("QueryFilter", in.QueryFilter != nil)
	x.addLegacy("ConditionalOperator", in.ConditionalOperator != nil)
	x.addLegacy("KeyConditions", in.KeyConditions != nil)
	if err := x.check(); err != nil {
		return nil, err
	}
	if err := checkSelect(in.Select, in.ProjectionExpression != nil, in.AttributesToGet != nil, in.IndexName != nil, validationPrefix); err != nil {
		return nil, err
	}
	if in.KeyConditionExpression == nil && in.KeyConditions == nil {
		return nil, attr.Invalid(msgKeyConditionNeeded)
	}
	var kc *expr.KeyCondition
	var filter engine.Condition
	if in.KeyConditionExpression != nil {
		if kc, err = x.parseKeyCondition(in.KeyConditionExpression); err != nil {
			return nil, err
		}
	} else if kc, err = legacyKeyConditions(in.KeyConditions); err != nil {
		return nil, err
	}
	if filter, err = x.readFilter(in.FilterExpression, in.QueryFilter, in.ConditionalOperator); err != nil {
		return nil, err
	}
	proj, err := x.projection(in.ProjectionExpression, in.AttributesToGet)
	if err != nil {
		return nil, err
	}
	consistent := in.ConsistentRead != nil && *in.ConsistentRead
	def := a.lookup(name)
	if def == nil {
		return nil, notFound()
	}
	ix, global, err := findIndex(def, in.IndexName, consistent)
	if err != nil {
		return nil, err
	}
	ks := keysOf(def, ix)
	kr, err := kc.Bind(ks)
	if err != nil {
		return nil, err
	}
	// DynamoDB's order: the projection's paths, a filter on the key, the
	// filter's paths.
	if err := engine.ScalarKeys(def, projPaths(proj)); err != nil {
		return nil, err
	}
	if err := filterOnKey(filter, in.QueryFilter, keyAttributes(ks)...); err != nil {
		return nil, err
	}
	if err := engine.ScalarKeys(def, engine.ConditionPaths(filter)); err != nil {
		return nil, err
	}
	fetch, out, err := indexRead(def, ix, global, in.Select, proj, filter, true)
	if err != nil {
		return nil, err
	}
	r := engine.QueryRequest{
		Table:          name,
		Fetch:          fetch,
		Hash:           kr.HashValue,
		HashValues:     kr.HashValues,
		SortPrefix:     kr.SortEq,
		Range:          kr.Range,
		Forward:        in.ScanIndexForward == nil || *in.ScanIndexForward,
		ExclusiveStart: in.ExclusiveStartKey,
		CountOnly:      in.Select != nil && *in.Select == "COUNT",
		Consistent:     consistent,
	}
	if ix != nil {
		r.Index = ix.Name
	}
	if in.Limit != nil {
		r.Limit = int(min(*in.Limit, 1<<31-1))
	}
	r.Filter = filter
	r.Projection = out
	if err := a.waitIndex(req, name, global); err != nil {
		return nil, err
	}
	res, err := a.e.Query(r)
	if err != nil {
		return nil, err
	}
	return readResponse(res, r.CountOnly, capacityMode(in.ReturnConsumedCapacity)), nil
}

// filterOnKey refuses a Query filter on a primary key attribute, which
// belongs in the key condition (DynamoDB's rule for Query; Scan allows it).
func filterOnKey(filter engine.Condition, legacy map[string]legacyCondIn, keys ...string) error {
	if len(legacy) > 0 {
		for _, name := range sortedNames(legacy) {
			if name != "" && slices.Contains(keys, name) {
				return attr.Invalid("QueryFilter can only contain non-primary key attributes: Primary key attribute: %s", name)
			}
		}
		return nil
	}
	if c, ok := filter.(*expr.Condition); ok {
		for _, name := range c.Attributes() {
			if name != "" && slices.Contains(keys, name) {
				return attr.Invalid("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", name)
			}
		}
	}
	return nil
}

// readFilter is a read's filter: the FilterExpression, or the legacy
// QueryFilter or ScanFilter with ConditionalOperator (check has refused
// both); nil when there is none.
func (p *exprParams) readFilter(s *string, legacy map[string]legacyCondIn, op *string) (engine.Condition, error) {
	if s == nil {
		return legacyCondition(legacy, op, expr.KindFilter)
	}
	c, err := p.parseCondition(expr.KindFilter, s)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// keyOperators maps the legacy ComparisonOperators a key condition may use
// to the expression operators.
var keyOperators = map[string]string{"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "BETWEEN": "BETWEEN", "BEGINS_WITH": "begins_with"}

// legacyKeyConditions translates KeyConditions into the key condition the
// expression would give, for Bind to check against the schema. Messages are
// DynamoDB's as recorded by dynalite's tests.
func legacyKeyConditions(conds map[string]legacyCondIn) (*expr.KeyCondition, error) {
	// Bind refuses more than two conditions on a one-attribute key; a GSI
	// with multi-attribute keys takes up to expr.MaxKeyConditions.
	if len(conds) > expr.MaxKeyConditions {
		return nil, attr.Invalid("Conditions can be of length 1 or 2 only")
	}
	kc := &expr.KeyCondition{}
	for _, name := range sortedNames(conds) {
		c := conds[name]
		if _, err := filterCond(name, c); err != nil {
			return nil, err
		}
		op := keyOperators[*c.ComparisonOperator]
		if op == "" {
			return nil, attr.Invalid("Attempted conditional constraint is not an indexable operation")
		}
		kc.Conds = append(kc.Conds, expr.KeyCond{Name: name, Op: op, Values: c.AttributeValueList})
	}
	return kc, nil
}

// readResponse renders a Query or Scan page: Items (absent for COUNT),
// Count, ScannedCount, LastEvaluatedKey (absent on the last page) and
// ConsumedCapacity when asked.
func readResponse(res engine.ReadResult, countOnly bool, capacity string) []byte {
	n := 64
	for _, it := range res.Items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	if !countOnly {
		b = append(b, `"Items":[`...)
		for i, it := range res.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, it...)
		}
		b = append(b, "],"...)
	}
	b = append(b, `"Count":`...)
	b = strconv.AppendInt(b, int64(res.Count), 10)
	b = append(b, `,"ScannedCount":`...)
	b = strconv.AppendInt(b, int64(res.ScannedCount), 10)
	if res.LastKey != nil {
		b = append(b, `,"LastEvaluatedKey":`...)
		b = attr.AppendItemJSON(b, res.LastKey)
	}
	if capacity != "" {
		b = append(b, `,"ConsumedCapacity":`...)
		b = appendCapacity(b, capacity, res.Capacity)
	}
	return append(b, '}')
}
