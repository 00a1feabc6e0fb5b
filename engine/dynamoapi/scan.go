package dynamoapi

import (
	"context"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/wire"
)

// Scan checks a request in the order described in query.go.

type scanIn struct {
	TableName                 *string                 `json:"TableName"`
	IndexName                 *string                 `json:"IndexName"`
	AttributesToGet           []string                `json:"AttributesToGet"`
	Limit                     *int64                  `json:"Limit"`
	Select                    *string                 `json:"Select"`
	ScanFilter                map[string]legacyCondIn `json:"ScanFilter"`
	ConditionalOperator       *string                 `json:"ConditionalOperator"`
	ExclusiveStartKey         attr.Item               `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity    *string                 `json:"ReturnConsumedCapacity"`
	TotalSegments             *int64                  `json:"TotalSegments"`
	Segment                   *int64                  `json:"Segment"`
	ProjectionExpression      *string                 `json:"ProjectionExpression"`
	FilterExpression          *string                 `json:"FilterExpression"`
	ExpressionAttributeNames  map[string]string       `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues attr.Item               `json:"ExpressionAttributeValues"`
	ConsistentRead            *bool                   `json:"ConsistentRead"`
}

// Messages of Scan's segment checks, word for word.
const (
	msgTotalSegmentsNeeded = "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
	msgSegmentNeeded       = "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"
	msgSegmentRange        = "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d"
)

// scan answers Scan.
func (a *api) scan(_ context.Context, req *wire.Request) (any, error) {
	var in scanIn
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
	if in.AttributesToGet != nil {
		v.ListLength("attributesToGet", javaList(in.AttributesToGet), len(in.AttributesToGet), 1, 0)
	}
	v.RangeInt("limit", in.Limit, 1, 0)
	v.Enum("select", in.Select, enumSelect)
	checkLegacyEnums(&v, "scanFilter", in.ScanFilter)
	v.Enum("conditionalOperator", in.ConditionalOperator, enumConditionalOperator)
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	v.RangeInt("totalSegments", in.TotalSegments, 1, engine.MaxTotalSegments)
	v.RangeInt("segment", in.Segment, 0, engine.MaxTotalSegments-1)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case in.Segment != nil && in.TotalSegments == nil:
		return nil, attr.Invalid(msgTotalSegmentsNeeded)
	case in.Segment == nil && in.TotalSegments != nil:
		return nil, attr.Invalid(msgSegmentNeeded)
	case in.Segment != nil && *in.Segment >= *in.TotalSegments:
		return nil, attr.Invalid(msgSegmentRange, *in.Segment, *in.TotalSegments)
	}
	if err := checkStartKeyValues(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	x := exprParams{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, valuesUser: "FilterExpression"}
	x.addExpr("ProjectionExpression", in.ProjectionExpression)
	x.addExpr("FilterExpression", in.FilterExpression)
	x.addLegacy("AttributesToGet", in.AttributesToGet != nil)
	x.addLegacy("ScanFilter", in.ScanFilter != nil)
	x.addLegacy("ConditionalOperator", in.ConditionalOperator != nil)
	if err := x.check(); err != nil {
		return nil, err
	}
	if err := checkSelect(in.Select, in.ProjectionExpression != nil, in.AttributesToGet != nil, in.IndexName != nil, ""); err != nil {
		return nil, err
	}
	filter, err := x.readFilter(in.FilterExpression, in.ScanFilter, in.ConditionalOperator)
	if err != nil {
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
	if err := engine.ScalarKeys(def, projPaths(proj)); err != nil {
		return nil, err
	}
	if err := engine.ScalarKeys(def, engine.ConditionPaths(filter)); err != nil {
		return nil, err
	}
	fetch, out, err := indexRead(def, ix, global, in.Select, proj, filter, false)
	if err != nil {
		return nil, err
	}
	r := engine.ScanRequest{
		Table:          name,
		Fetch:          fetch,
		ExclusiveStart: in.ExclusiveStartKey,
		CountOnly:      in.Select != nil && *in.Select == "COUNT",
		Consistent:     consistent,
	}
	if ix != nil {
		r.Index = ix.Name
	}
	if in.Segment != nil {
		r.Segment, r.TotalSegments = int(*in.Segment), int(*in.TotalSegments)
	}
	if in.Limit != nil {
		r.Limit = int(min(*in.Limit, 1<<31-1))
	}
	r.Filter = filter
	r.Projection = out
	if err := a.waitIndex(req, name, global); err != nil {
		return nil, err
	}
	res, err := a.e.Scan(r)
	if err != nil {
		return nil, err
	}
	return readResponse(res, r.CountOnly, capacityMode(in.ReturnConsumedCapacity)), nil
}
