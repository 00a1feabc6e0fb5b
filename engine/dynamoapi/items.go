package dynamoapi

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

// The single-item operations check a request in DynamoDB's order:
//
//  1. JSON types (wire.Decode: SerializationException);
//  2. the table name, alone;
//  3. the member constraints (missing Item/Key, enums), aggregated;
//  4. the attribute values (attr.ValidateItem);
//  5. expression conflicts, then the expressions themselves;
//  6. ReturnValues beyond the constraint enum;
//  7. the item size;
//  8. the table's existence, then the key against the schema (engine),
//     with the index keys checked in between.

type putItemIn struct {
	TableName                           *string   `json:"TableName"`
	Item                                attr.Item `json:"Item"`
	ReturnValues                        *string   `json:"ReturnValues"`
	ReturnConsumedCapacity              *string   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string   `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure *string   `json:"ReturnValuesOnConditionCheckFailure"`
	writeConditionIn
}

type deleteItemIn struct {
	TableName                           *string   `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	ReturnValues                        *string   `json:"ReturnValues"`
	ReturnConsumedCapacity              *string   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string   `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure *string   `json:"ReturnValuesOnConditionCheckFailure"`
	writeConditionIn
}

type getItemIn struct {
	TableName                *string           `json:"TableName"`
	Key                      attr.Item         `json:"Key"`
	ConsistentRead           *bool             `json:"ConsistentRead"`
	ReturnConsumedCapacity   *string           `json:"ReturnConsumedCapacity"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	AttributesToGet          []string          `json:"AttributesToGet"`
}

// Messages of the item operations' semantic checks.
const (
	msgReturnValuesPutDelete = "ReturnValues can only be ALL_OLD or NONE"
)

// writeOptions are the Return* members of a write, checked.
type writeOptions struct {
	returnOld         bool
	returnOldOnFail   bool
	capacity          string // "", TOTAL or INDEXES
	collectionMetrics bool
}

// checkWriteEnums adds the constraint violations of a write's Return*
// members, in DynamoDB's order.
func checkWriteEnums(v *violations, rcc, rv, ricm, rvcf, condOp *string) {
	v.Enum("returnConsumedCapacity", rcc, enumReturnConsumedCapacity)
	v.Enum("returnValues", rv, enumReturnValues)
	v.Enum("returnItemCollectionMetrics", ricm, enumReturnItemCollection)
	v.Enum("returnValuesOnConditionCheckFailure", rvcf, enumReturnValuesOnCondition)
	v.Enum("conditionalOperator", condOp, enumConditionalOperator)
}

// writeOpts reads a write's checked Return* members; ReturnValues must be
// NONE or ALL_OLD.
func writeOpts(rcc, rv, ricm, rvcf *string) (writeOptions, error) {
	var o writeOptions
	if rv != nil && *rv != "NONE" && *rv != "ALL_OLD" {
		return o, attr.Invalid(msgReturnValuesPutDelete)
	}
	o.returnOld = rv != nil && *rv == "ALL_OLD"
	o.returnOldOnFail = rvcf != nil && *rvcf == "ALL_OLD"
	o.capacity = capacityMode(rcc)
	o.collectionMetrics = ricm != nil && *ricm == "SIZE"
	return o, nil
}

func capacityMode(rcc *string) string {
	if rcc == nil || *rcc == "NONE" {
		return ""
	}
	return *rcc
}

// putItem answers PutItem.
func (a *api) putItem(_ context.Context, req *wire.Request) (any, error) {
	var in putItemIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	var v violations
	v.Required("item", in.Item != nil)
	checkWriteEnums(&v, in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnItemCollectionMetrics,
		in.ReturnValuesOnConditionCheckFailure, in.ConditionalOperator)
	checkLegacyEnums(&v, "expected", in.Expected)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := attr.ValidateItem(in.Item); err != nil {
		return nil, err
	}
	cond, err := conditionOf(in.writeConditionIn)
	if err != nil {
		return nil, err
	}
	opts, err := writeOpts(in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnItemCollectionMetrics, in.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	if attr.ItemSize(in.Item) > attr.MaxItemSize {
		return nil, attr.ErrItemTooLarge
	}
	def := a.lookup(name)
	if def != nil {
		if err := engine.PutIndexKeyError(def, in.Item); err != nil {
			return nil, err
		}
	}
	res, err := a.e.PutItem(engine.PutRequest{
		Table:                    name,
		Item:                     in.Item,
		Cond:                     cond,
		ReturnOld:                opts.returnOld,
		ReturnOldOnConditionFail: opts.returnOldOnFail,
		Who:                      who(req),
		IndexUnits:               opts.capacity != "",
	})
	if err != nil {
		return nil, err
	}
	return writeResponse(res, opts), nil
}

// writeResponse renders a PutItem or DeleteItem result: the old item when
// asked for and present, the consumed capacity, the item collection metrics.
func writeResponse(res engine.WriteResult, opts writeOptions) []byte {
	var r response
	if res.Old != nil {
		r.raw("Attributes", res.Old)
	}
	r.capacity(opts.capacity, res.Capacity)
	if opts.collectionMetrics {
		r.raw("ItemCollectionMetrics", collectionMetric(res.Collection))
	}
	return r.bytes()
}

// writeConditionIn are the condition members of PutItem and DeleteItem.
type writeConditionIn struct {
	ConditionExpression       *string                 `json:"ConditionExpression"`
	ExpressionAttributeNames  map[string]string       `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues attr.Item               `json:"ExpressionAttributeValues"`
	Expected                  map[string]legacyCondIn `json:"Expected"`
	ConditionalOperator       *string                 `json:"ConditionalOperator"`
}

// conditionOf checks and compiles the condition of a PutItem or DeleteItem:
// the ConditionExpression, or the legacy Expected with ConditionalOperator.
func conditionOf(in writeConditionIn) (engine.Condition, error) {
	x := exprParams{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, valuesUser: "ConditionExpression"}
	x.addExpr("ConditionExpression", in.ConditionExpression)
	x.addLegacy("Expected", in.Expected != nil)
	x.addLegacy("ConditionalOperator", in.ConditionalOperator != nil)
	if err := x.check(); err != nil {
		return nil, err
	}
	return x.writeCondition(in.ConditionExpression, in.Expected, in.ConditionalOperator)
}

// deleteItem answers DeleteItem.
func (a *api) deleteItem(_ context.Context, req *wire.Request) (any, error) {
	var in deleteItemIn
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
	checkLegacyEnums(&v, "expected", in.Expected)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := attr.ValidateItem(in.Key); err != nil {
		return nil, err
	}
	cond, err := conditionOf(in.writeConditionIn)
	if err != nil {
		return nil, err
	}
	opts, err := writeOpts(in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnItemCollectionMetrics, in.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	res, err := a.e.DeleteItem(engine.DeleteRequest{
		Table:                    name,
		Key:                      in.Key,
		Cond:                     cond,
		ReturnOld:                opts.returnOld,
		ReturnOldOnConditionFail: opts.returnOldOnFail,
		Who:                      who(req),
		IndexUnits:               opts.capacity != "",
	})
	if err != nil {
		return nil, err
	}
	return writeResponse(res, opts), nil
}

// getItem answers GetItem. The item is written as the engine's canonical
// JSON bytes.
func (a *api) getItem(_ context.Context, req *wire.Request) (any, error) {
	var in getItemIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	name, err := a.tableName(in.TableName, false)
	if err != nil {
		return nil, err
	}
	var v violations
	v.Required("key", in.Key != nil)
	if in.AttributesToGet != nil {
		v.ListLength("attributesToGet", javaList(in.AttributesToGet), len(in.AttributesToGet), 1, 0)
	}
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := attr.ValidateItem(in.Key); err != nil {
		return nil, err
	}
	x := exprParams{names: in.ExpressionAttributeNames}
	x.addExpr("ProjectionExpression", in.ProjectionExpression)
	x.addLegacy("AttributesToGet", in.AttributesToGet != nil)
	if err := x.check(); err != nil {
		return nil, err
	}
	proj, err := x.projection(in.ProjectionExpression, in.AttributesToGet)
	if err != nil {
		return nil, err
	}
	if err := engine.ScalarKeys(a.lookup(name), projPaths(proj)); err != nil {
		return nil, err
	}
	res, err := a.e.GetItem(engine.GetRequest{
		Table:      name,
		Key:        in.Key,
		Consistent: in.ConsistentRead != nil && *in.ConsistentRead,
	})
	if err != nil {
		return nil, err
	}
	item, err := projectJSON(proj, res.Item)
	if err != nil {
		return nil, err
	}
	var r response
	if item != nil {
		r.raw("Item", item)
	}
	r.capacity(capacityMode(in.ReturnConsumedCapacity), res.Capacity)
	return r.bytes(), nil
}

// lookup returns a table's definition, or nil if there is no such table
// (the engine then reports it, with the data-plane message).
func (a *api) lookup(name string) *catalog.Table {
	def, _ := a.e.TableDef(name)
	return def
}

// collectionMetric renders one ItemCollectionMetrics object: the
// collection's partition key and DynamoDB's size estimate range in GB; nil
// for a write on a table without local indexes.
func collectionMetric(m *engine.CollectionMetric) []byte {
	if m == nil {
		return nil
	}
	b := []byte(`{"ItemCollectionKey":`)
	b = attr.AppendItemJSON(b, m.Key)
	r := engine.SizeEstimateRangeGB(m.Size)
	b = append(b, `,"SizeEstimateRangeGB":[`...)
	b = strconv.AppendFloat(b, r[0], 'f', 1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, r[1], 'f', 1, 64)
	return append(b, "]}"...)
}

// response builds a JSON object from members that are already JSON.
type response struct{ b []byte }

// raw adds a member whose value is JSON bytes; nil adds nothing.
func (r *response) raw(name string, v []byte) {
	if v == nil {
		return
	}
	if r.b == nil {
		r.b = append(r.b, '{')
	} else {
		r.b = append(r.b, ',')
	}
	r.b = strconv.AppendQuote(r.b, name)
	r.b = append(r.b, ':')
	r.b = append(r.b, v...)
}

// capacity adds ConsumedCapacity for ReturnConsumedCapacity mode ("" for
// none): TableName and CapacityUnits, and with INDEXES the table's own
// share under Table and each index's under LocalSecondaryIndexes and
// GlobalSecondaryIndexes.
func (r *response) capacity(mode string, c engine.Capacity) {
	if mode == "" {
		return
	}
	r.raw("ConsumedCapacity", appendCapacity(nil, mode, c))
}

// appendCapacity appends one ConsumedCapacity object for mode TOTAL or
// INDEXES (see capacity).
func appendCapacity(b []byte, mode string, c engine.Capacity) []byte {
	name, _ := json.Marshal(c.Table)
	b = append(b, `{"TableName":`...)
	b = append(b, name...)
	b = append(b, `,"CapacityUnits":`...)
	b = strconv.AppendFloat(b, c.Units(), 'f', -1, 64)
	if mode == "INDEXES" {
		b = append(b, `,"Table":`...)
		b = appendUnits(b, c.Read+c.Write)
		open := ""
		for _, ix := range c.SortedIndexes() {
			group := `"LocalSecondaryIndexes":{`
			if ix.Global {
				group = `"GlobalSecondaryIndexes":{`
			}
			if group != open {
				if open != "" {
					b = append(b, '}')
				}
				b = append(b, ',')
				b = append(b, group...)
				open = group
			} else {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, ix.Name)
			b = append(b, ':')
			b = appendUnits(b, ix.Read+ix.Write)
		}
		if open != "" {
			b = append(b, '}')
		}
	}
	return append(b, '}')
}

// appendUnits appends a Capacity object.
func appendUnits(b []byte, units float64) []byte {
	b = append(b, `{"CapacityUnits":`...)
	b = strconv.AppendFloat(b, units, 'f', -1, 64)
	return append(b, '}')
}

// bytes returns the object; {} if it has no members.
func (r *response) bytes() []byte {
	if r.b == nil {
		return []byte("{}")
	}
	return append(r.b, '}')
}
