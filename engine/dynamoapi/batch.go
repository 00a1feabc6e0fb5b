package dynamoapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/wire"
)

// BatchWriteItem and BatchGetItem check a request in this order (from the
// conformance suite where it asserts, dynalite's recordings of DynamoDB
// otherwise):
//
//  1. JSON types (wire.Decode: SerializationException);
//  2. RequestItems missing or empty: "The requestItems parameter is required
//     for BatchXxxItem", alone;
//  3. the member constraints, aggregated: the Return* enums, the table names
//     (map keys), the per-table list lengths (1 to 25 write requests; 1 to
//     100 keys), missing Item/Key/Keys;
//  4. the total across tables (more than 25 writes or 100 keys: "Too many
//     items requested for the BatchXxxItem call");
//  5. table by table, in name order: for BatchGetItem the expression
//     parameters, then each key's attribute values and duplicates; for
//     BatchWriteItem each request's shape (exactly one of PutRequest and
//     DeleteRequest), attribute values and item size;
//  6. the engine: every table's existence, then request by request the key
//     against the schema (BatchWriteItem's duplicate keys are found here, as
//     they need the schema), all before anything is written.
//
// Tables are processed in name order (a JSON object has no order once
// decoded); responses are keyed by the names the client sent (a table ARN
// stays an ARN).

type batchWriteIn struct {
	RequestItems                map[string][]writeRequestIn `json:"RequestItems"`
	ReturnConsumedCapacity      *string                     `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                     `json:"ReturnItemCollectionMetrics"`
}

type writeRequestIn struct {
	PutRequest *struct {
		Item attr.Item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key attr.Item `json:"Key"`
	} `json:"DeleteRequest"`
}

type batchGetIn struct {
	RequestItems           map[string]*keysAndAttributesIn `json:"RequestItems"`
	ReturnConsumedCapacity *string                         `json:"ReturnConsumedCapacity"`
}

type keysAndAttributesIn struct {
	Keys                     []attr.Item       `json:"Keys"`
	ConsistentRead           *bool             `json:"ConsistentRead"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	AttributesToGet          []string          `json:"AttributesToGet"`
}

// Messages of the batch operations' own checks.
const (
	// msgWriteRequestShape answers a WriteRequest with neither (DynamoDB,
	// recorded by dynalite) or both (assumed alike) of PutRequest and
	// DeleteRequest.
	msgWriteRequestShape = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgDuplicateAttrName = paramsInvalid + "Duplicate value in attribute name: %s"
	// ruleBatchTableName is the map-key constraint on RequestItems: the
	// table-name rules, 3 to 255 characters (recorded from DynamoDB; a table
	// ARN of this server passes too).
	ruleBatchTableName = "Map keys must satisfy constraint: [Member must have length less than or equal to 255, " +
		"Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: " + wire.NamePattern + "]"
	ruleBatchWrites = "Map value must satisfy constraint: [Member must have length less than or equal to 25, " +
		"Member must have length greater than or equal to 1]"
)

// batchTableName resolves one RequestItems key: a table ARN of this server
// names its table; anything else is a table name. ok is false if the key
// breaks the table-name rules.
func (a *api) batchTableName(key string) (name string, ok bool) {
	if strings.HasPrefix(key, "arn:") {
		if name := a.e.TableNameFromARN(key); name != "" {
			return name, true
		}
	}
	n := wire.UTF16Len(key)
	return key, wire.ValidName(key) && n >= 3 && n <= 255
}

// batchWriteItem answers BatchWriteItem. All requests are applied in one
// atomic commit, and Sluice does not throttle, so UnprocessedItems is always
// {}.
func (a *api) batchWriteItem(_ context.Context, req *wire.Request) (any, error) {
	var in batchWriteIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.RequestItems) == 0 {
		return nil, attr.Invalid(engine.MsgWriteItemsNeeded)
	}
	keys := slices.Sorted(maps.Keys(in.RequestItems))

	var v violations
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	v.Enum("returnItemCollectionMetrics", in.ReturnItemCollectionMetrics, enumReturnItemCollection)
	names := make(map[string]string, len(keys))
	badName, badLen := false, false
	total := 0
	for _, k := range keys {
		name, ok := a.batchTableName(k)
		names[k] = name
		badName = badName || !ok
		n := len(in.RequestItems[k])
		badLen = badLen || n < 1 || n > engine.MaxBatchWrites
		total += n
	}
	if badName || badLen {
		dump := javaWriteItems(keys, in.RequestItems)
		if badName {
			v.Add(wire.Quote(dump), "requestItems", ruleBatchTableName)
		}
		if badLen {
			v.Add(wire.Quote(dump), "requestItems", ruleBatchWrites)
		}
	}
	for _, k := range keys {
		for i, wr := range in.RequestItems[k] {
			path := "requestItems." + k + ".member." + strconv.Itoa(i+1) + ".member."
			if wr.DeleteRequest != nil {
				v.Required(path+"deleteRequest.key", wr.DeleteRequest.Key != nil)
			}
			if wr.PutRequest != nil {
				v.Required(path+"putRequest.item", wr.PutRequest.Item != nil)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if total > engine.MaxBatchWrites {
		return nil, attr.Invalid(engine.MsgTooManyWrites)
	}
	for _, k := range keys {
		for _, wr := range in.RequestItems[k] {
			if (wr.PutRequest == nil) == (wr.DeleteRequest == nil) {
				return nil, attr.Invalid(msgWriteRequestShape)
			}
			if wr.PutRequest != nil {
				if err := attr.ValidateItem(wr.PutRequest.Item); err != nil {
					return nil, err
				}
				if attr.ItemSize(wr.PutRequest.Item) > attr.MaxItemSize {
					return nil, attr.ErrItemTooLarge
				}
			} else if err := attr.ValidateItem(wr.DeleteRequest.Key); err != nil {
				return nil, err
			}
		}
	}
	capMode := capacityMode(in.ReturnConsumedCapacity)
	metrics := in.ReturnItemCollectionMetrics != nil && *in.ReturnItemCollectionMetrics == "SIZE"

	// Index keys are checked only when every table exists, so that a missing
	// table keeps its precedence (the engine reports it). The collection
	// keys are read before the engine canonicalizes the items.
	defs := make(map[string]*catalog.Table, len(keys))
	for _, k := range keys {
		defs[k] = a.lookup(names[k])
	}
	allExist := !slices.ContainsFunc(keys, func(k string) bool { return defs[k] == nil })
	ops := make([]engine.BatchWriteOp, 0, total)
	opKey := make([]string, 0, total) // the request key of each op
	for _, k := range keys {
		def := defs[k]
		for _, wr := range in.RequestItems[k] {
			op := engine.BatchWriteOp{Table: names[k]}
			if wr.PutRequest != nil {
				op.Item = wr.PutRequest.Item
				if allExist {
					if err := engine.PutIndexKeyError(def, op.Item); err != nil {
						return nil, err
					}
				}
			} else {
				op.Key = wr.DeleteRequest.Key
			}
			ops = append(ops, op)
			opKey = append(opKey, k)
		}
	}
	res, err := a.e.BatchWrite(engine.BatchWriteRequest{Ops: ops, Who: who(req), IndexUnits: capMode != ""})
	if err != nil {
		return nil, err
	}
	var collections response
	if metrics {
		collections = collectionsByTable(opKey, res.Collections)
	}
	var r response
	r.raw("UnprocessedItems", []byte("{}"))
	if capMode != "" {
		var list []byte
		for _, c := range res.Capacity {
			list = appendListItem(list, appendCapacity(nil, capMode, c))
		}
		r.raw("ConsumedCapacity", append(list, ']'))
	}
	if collections.b != nil {
		r.raw("ItemCollectionMetrics", collections.bytes())
	}
	return r.bytes(), nil
}

// collectionsByTable renders the ItemCollectionMetrics of a batch or a
// transaction: per table (as the request names it, in the order first
// met), each collection written once. keys[i] names the table of the i-th
// write, whose metric (nil: none) is metrics[i].
func collectionsByTable(keys []string, metrics []*engine.CollectionMetric) response {
	var order []string
	lists := map[string][]byte{}
	seen := map[string][]string{}
	for i, m := range metrics {
		ck := collectionMetric(m)
		if ck == nil || slices.Contains(seen[keys[i]], string(ck)) {
			continue
		}
		if _, ok := lists[keys[i]]; !ok {
			order = append(order, keys[i])
		}
		seen[keys[i]] = append(seen[keys[i]], string(ck))
		lists[keys[i]] = appendListItem(lists[keys[i]], ck)
	}
	var r response
	for _, k := range order {
		r.raw(k, append(lists[k], ']'))
	}
	return r
}

// batchGetItem answers BatchGetItem. Every table requested appears in
// Responses, with [] when nothing was found; UnprocessedKeys holds only the
// keys past the 16 MB response limit (Sluice does not throttle).
func (a *api) batchGetItem(_ context.Context, req *wire.Request) (any, error) {
	var in batchGetIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	if len(in.RequestItems) == 0 {
		return nil, attr.Invalid(engine.MsgGetItemsNeeded)
	}
	keys := slices.Sorted(maps.Keys(in.RequestItems))
	for _, k := range keys {
		if in.RequestItems[k] == nil {
			in.RequestItems[k] = &keysAndAttributesIn{}
		}
	}

	var v violations
	names := make(map[string]string, len(keys))
	badName := false
	for _, k := range keys {
		name, ok := a.batchTableName(k)
		names[k] = name
		badName = badName || !ok
	}
	// The table names before ReturnConsumedCapacity (recorded from DynamoDB).
	if badName {
		v.Add(wire.Quote(javaGetItems(keys, in.RequestItems)), "requestItems", ruleBatchTableName)
	}
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	for _, k := range keys {
		ka := in.RequestItems[k]
		path := "RequestItems." + k + ".member."
		switch n := len(ka.Keys); {
		case ka.Keys == nil:
			v.Null(path + "Keys")
		case n < 1:
			v.AddUnquoted(path+"Keys", wire.RuleMinLength(1))
		case n > engine.MaxBatchGetKeys:
			v.AddUnquoted(path+"Keys", wire.RuleMaxLength(engine.MaxBatchGetKeys))
		}
		if ka.AttributesToGet != nil && (len(ka.AttributesToGet) < 1 || len(ka.AttributesToGet) > 255) {
			v.ListLength(path+"AttributesToGet", javaList(ka.AttributesToGet), len(ka.AttributesToGet), 1, 255)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	// ProjectionExpression for one table and AttributesToGet for another
	// mix expression and non-expression parameters in one request.
	var all exprParams
	for _, k := range keys {
		all.addExpr("ProjectionExpression", in.RequestItems[k].ProjectionExpression)
		all.addLegacy("AttributesToGet", in.RequestItems[k].AttributesToGet != nil)
	}
	if len(all.expressions) > 0 && len(all.legacy) > 0 {
		return nil, attr.Invalid(msgMixedParams, "AttributesToGet", "ProjectionExpression")
	}

	total := 0
	tables := make([]engine.BatchGetTable, len(keys))
	projs := make([]*expr.Projection, len(keys))
	for i, k := range keys {
		ka := in.RequestItems[k]
		x := exprParams{names: ka.ExpressionAttributeNames}
		x.addExpr("ProjectionExpression", ka.ProjectionExpression)
		x.addLegacy("AttributesToGet", ka.AttributesToGet != nil)
		if err := x.check(); err != nil {
			return nil, err
		}
		for j, name := range ka.AttributesToGet {
			if slices.Contains(ka.AttributesToGet[:j], name) {
				return nil, attr.Invalid(msgDuplicateAttrName, name)
			}
		}
		proj, err := x.projection(ka.ProjectionExpression, ka.AttributesToGet)
		if err != nil {
			return nil, err
		}
		if err := engine.ScalarKeys(a.lookup(names[k]), projPaths(proj)); err != nil {
			return nil, err
		}
		projs[i] = proj
		seen := make(map[string]struct{}, len(ka.Keys))
		for _, key := range ka.Keys {
			if err := attr.ValidateItem(key); err != nil {
				return nil, err
			}
			// Numbers are canonical once validated, so equal keys encode alike.
			enc := string(attr.AppendItemJSON(nil, key))
			if _, dup := seen[enc]; dup {
				return nil, attr.Invalid(engine.MsgDuplicateKeys)
			}
			seen[enc] = struct{}{}
			if total++; total > engine.MaxBatchGetKeys {
				return nil, attr.Invalid(engine.MsgTooManyGets)
			}
		}
		tables[i] = engine.BatchGetTable{
			Table:      names[k],
			Keys:       ka.Keys,
			Consistent: ka.ConsistentRead != nil && *ka.ConsistentRead,
		}
	}
	res, err := a.e.BatchGet(engine.BatchGetRequest{Tables: tables})
	if err != nil {
		return nil, err
	}

	var responses, unprocessed response
	for i, k := range keys {
		t := res.Tables[i]
		list := []byte{'['}
		for j, item := range t.Items {
			if j > 0 {
				list = append(list, ',')
			}
			item, err := projectJSON(projs[i], item)
			if err != nil {
				return nil, err
			}
			list = append(list, item...)
		}
		responses.raw(k, append(list, ']'))
		if len(t.Unprocessed) > 0 {
			var ka response
			var ks []byte
			for _, key := range t.Unprocessed {
				ks = appendListItem(ks, attr.AppendItemJSON(nil, key))
			}
			ka.raw("Keys", append(ks, ']'))
			ri := in.RequestItems[k]
			if c := ri.ConsistentRead; c != nil {
				ka.raw("ConsistentRead", strconv.AppendBool(nil, *c))
			}
			// Echo the projection so that the client can send the keys again.
			if ri.ProjectionExpression != nil {
				js, _ := json.Marshal(*ri.ProjectionExpression)
				ka.raw("ProjectionExpression", js)
			}
			if ri.ExpressionAttributeNames != nil {
				js, _ := json.Marshal(ri.ExpressionAttributeNames)
				ka.raw("ExpressionAttributeNames", js)
			}
			if ri.AttributesToGet != nil {
				js, _ := json.Marshal(ri.AttributesToGet)
				ka.raw("AttributesToGet", js)
			}
			unprocessed.raw(k, ka.bytes())
		}
	}
	var r response
	r.raw("Responses", responses.bytes())
	r.raw("UnprocessedKeys", unprocessed.bytes())
	if mode := capacityMode(in.ReturnConsumedCapacity); mode != "" {
		var list []byte
		for _, t := range res.Tables {
			list = appendListItem(list, appendCapacity(nil, mode, t.Capacity))
		}
		r.raw("ConsumedCapacity", append(list, ']'))
	}
	return r.bytes(), nil
}

// appendListItem appends v to a JSON array under construction (nil: not
// begun); the caller closes it with ']'.
func appendListItem(list, v []byte) []byte {
	if list == nil {
		list = append(list, '[')
	} else {
		list = append(list, ',')
	}
	return append(list, v...)
}

// DynamoDB echoes a RequestItems map that breaks a map constraint as Java's
// toString renders the request objects: maps as {k=v, ...}, lists as
// [a, b], model objects as {Member: value,...}. The rendering below follows
// that shape; the exact text of the model objects (which changes with
// DynamoDB's SDK) is not reproduced.

func javaWriteItems(keys []string, m map[string][]writeRequestIn) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=[")
		for j, wr := range m[k] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('{')
			if wr.PutRequest != nil {
				b.WriteString("PutRequest: {Item: ")
				javaItem(&b, wr.PutRequest.Item)
				b.WriteString("},")
			}
			if wr.DeleteRequest != nil {
				b.WriteString("DeleteRequest: {Key: ")
				javaItem(&b, wr.DeleteRequest.Key)
				b.WriteString("}")
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

func javaGetItems(keys []string, m map[string]*keysAndAttributesIn) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("={")
		ka := m[k]
		if ka.Keys != nil {
			b.WriteString("Keys: [")
			for j, key := range ka.Keys {
				if j > 0 {
					b.WriteString(", ")
				}
				javaItem(&b, key)
			}
			b.WriteString("],")
		}
		if ka.ConsistentRead != nil {
			b.WriteString("ConsistentRead: " + strconv.FormatBool(*ka.ConsistentRead) + ",")
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}

func javaItem(b *strings.Builder, it attr.Item) {
	if it == nil {
		b.WriteString("null")
		return
	}
	b.WriteByte('{')
	for i, name := range slices.Sorted(maps.Keys(it)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		javaValue(b, it[name])
	}
	b.WriteByte('}')
}

func javaValue(b *strings.Builder, v attr.Value) {
	b.WriteByte('{')
	b.WriteString(v.T.String())
	b.WriteString(": ")
	switch v.T {
	case attr.TypeS:
		b.WriteString(v.S)
	case attr.TypeN:
		b.WriteString(string(v.N))
	case attr.TypeB:
		b.WriteString(base64.StdEncoding.EncodeToString(v.B))
	case attr.TypeBOOL:
		b.WriteString(strconv.FormatBool(v.BOOL))
	case attr.TypeNULL:
		b.WriteString("true")
	case attr.TypeM:
		javaItem(b, v.M)
	case attr.TypeL:
		b.WriteByte('[')
		for i, x := range v.L {
			if i > 0 {
				b.WriteString(", ")
			}
			javaValue(b, x)
		}
		b.WriteByte(']')
	case attr.TypeSS:
		b.WriteString(javaList(v.SS))
	case attr.TypeNS:
		ns := make([]string, len(v.NS))
		for i, n := range v.NS {
			ns[i] = string(n)
		}
		b.WriteString(javaList(ns))
	case attr.TypeBS:
		bs := make([]string, len(v.BS))
		for i, x := range v.BS {
			bs[i] = base64.StdEncoding.EncodeToString(x)
		}
		b.WriteString(javaList(bs))
	}
	b.WriteString(",}")
}
