package dynamoapi

import (
	"context"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/wire"
)

type updateItemIn struct {
	TableName                           *string                       `json:"TableName"`
	Key                                 attr.Item                     `json:"Key"`
	UpdateExpression                    *string                       `json:"UpdateExpression"`
	ConditionExpression                 *string                       `json:"ConditionExpression"`
	ExpressionAttributeNames            map[string]string             `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           attr.Item                     `json:"ExpressionAttributeValues"`
	AttributeUpdates                    map[string]*attributeUpdateIn `json:"AttributeUpdates"`
	Expected                            map[string]legacyCondIn       `json:"Expected"`
	ConditionalOperator                 *string                       `json:"ConditionalOperator"`
	ReturnValues                        *string                       `json:"ReturnValues"`
	ReturnConsumedCapacity              *string                       `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string                       `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure *string                       `json:"ReturnValuesOnConditionCheckFailure"`
}

// returnValuesOf maps a checked ReturnValues member to the engine's.
func returnValuesOf(rv *string) engine.ReturnValues {
	if rv == nil {
		return engine.ReturnNone
	}
	switch *rv {
	case "ALL_OLD":
		return engine.ReturnAllOld
	case "UPDATED_OLD":
		return engine.ReturnUpdatedOld
	case "ALL_NEW":
		return engine.ReturnAllNew
	case "UPDATED_NEW":
		return engine.ReturnUpdatedNew
	}
	return engine.ReturnNone
}

// updateItem answers UpdateItem, checking in the order of the single-item
// operations (items.go): the update expression is parsed before the
// condition, and unused names or values are reported across both; the
// legacy AttributeUpdates are checked before Expected. The engine then
// refuses updates of key attributes, once the table's schema is known.
func (a *api) updateItem(_ context.Context, req *wire.Request) (any, error) {
	var in updateItemIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	var v violations
	v.Required("key", in.Key != nil)
	checkWriteEnums(&v, in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnItemCollectionMetrics,
		in.ReturnValuesOnConditionCheckFailure, in.ConditionalOperator)
	checkAttributeUpdateEnums(&v, in.AttributeUpdates)
	checkLegacyEnums(&v, "expected", in.Expected)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := attr.ValidateItem(in.Key); err != nil {
		return nil, err
	}
	x := exprParams{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues,
		valuesUser: "UpdateExpression and ConditionExpression"}
	x.addExpr("UpdateExpression", in.UpdateExpression)
	x.addExpr("ConditionExpression", in.ConditionExpression)
	x.addLegacy("AttributeUpdates", in.AttributeUpdates != nil)
	x.addLegacy("Expected", in.Expected != nil)
	x.addLegacy("ConditionalOperator", in.ConditionalOperator != nil)
	if err := x.check(); err != nil {
		return nil, err
	}
	var (
		upd  engine.Updater
		cond engine.Condition
	)
	if len(x.legacy) > 0 {
		lu, err := newLegacyUpdate(in.AttributeUpdates)
		if err != nil {
			return nil, err
		}
		if lu != nil {
			upd = lu
		}
		if cond, err = legacyCondition(in.Expected, in.ConditionalOperator, expr.KindCondition); err != nil {
			return nil, err
		}
	} else {
		u, err := x.parseUpdate(in.UpdateExpression)
		if err != nil {
			return nil, err
		}
		c, err := x.parseCondition(expr.KindCondition, in.ConditionExpression)
		if err != nil {
			return nil, err
		}
		if err := x.checkUnused(); err != nil {
			return nil, err
		}
		if u != nil {
			upd = u // a typed nil would not compare equal to nil
		}
		if c != nil {
			cond = c
		}
	}
	capMode := capacityMode(in.ReturnConsumedCapacity)
	res, err := a.e.UpdateItem(engine.UpdateRequest{
		Table:                    name,
		Key:                      in.Key,
		Update:                   upd,
		Cond:                     cond,
		ReturnValues:             returnValuesOf(in.ReturnValues),
		ReturnOldOnConditionFail: in.ReturnValuesOnConditionCheckFailure != nil && *in.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
		Who:                      who(req),
		IndexUnits:               capMode != "",
	})
	if err != nil {
		return nil, err
	}
	var r response
	r.raw("Attributes", res.Attributes)
	r.capacity(capMode, res.Capacity)
	if in.ReturnItemCollectionMetrics != nil && *in.ReturnItemCollectionMetrics == "SIZE" {
		r.raw("ItemCollectionMetrics", collectionMetric(res.Collection))
	}
	return r.bytes(), nil
}
