package dynamoapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/wire"
)

// TransactWriteItems and TransactGetItems check a request in this order:
//
//  1. JSON types (wire.Decode: SerializationException);
//  2. the member constraints, aggregated: the TransactItems list length (1
//     to 100), each action's required members (TableName, Item or Key,
//     ConditionCheck's ConditionExpression, Update's UpdateExpression),
//     table names, ReturnValuesOnConditionCheckFailure, then the request's
//     Return* enums and ClientRequestToken (1 to 36 characters);
//  3. action by action: exactly one of ConditionCheck, Put, Update and
//     Delete; the attribute values; the expressions (conflicts, parsing,
//     unused names and values), as the single-item operations check them;
//  4. the aggregate size of the items (4 MB);
//  5. the engine: every table's existence, two actions on one item, the keys
//     against the schemas (a TransactionCanceledException with
//     ValidationError, as DynamoDB reports per-action validation), the
//     token, then the conditions.
//
// Steps 2 and 3 follow the conformance suite where it asserts, and DynamoDB
// Local's wording otherwise; the ordering inside step 5 is Sluice's choice
// where neither says.

type transactWriteIn struct {
	TransactItems               []*transactWriteItemIn `json:"TransactItems"`
	ClientRequestToken          *string                `json:"ClientRequestToken"`
	ReturnConsumedCapacity      *string                `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                `json:"ReturnItemCollectionMetrics"`
}

type transactWriteItemIn struct {
	ConditionCheck *txActionIn `json:"ConditionCheck,omitempty"`
	Put            *txActionIn `json:"Put,omitempty"`
	Delete         *txActionIn `json:"Delete,omitempty"`
	Update         *txActionIn `json:"Update,omitempty"`
}

// txActionIn holds the members of every action kind; each kind's own are
// checked, and members of another kind are unknown members, ignored as
// DynamoDB ignores them.
type txActionIn struct {
	TableName                           *string           `json:"TableName,omitempty"`
	Item                                attr.Item         `json:"Item,omitempty"`
	Key                                 attr.Item         `json:"Key,omitempty"`
	UpdateExpression                    *string           `json:"UpdateExpression,omitempty"`
	ConditionExpression                 *string           `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues           attr.Item         `json:"ExpressionAttributeValues,omitempty"`
	ReturnValuesOnConditionCheckFailure *string           `json:"ReturnValuesOnConditionCheckFailure,omitempty"`
}

type transactGetIn struct {
	TransactItems          []*transactGetItemIn `json:"TransactItems"`
	ReturnConsumedCapacity *string              `json:"ReturnConsumedCapacity"`
}

type transactGetItemIn struct {
	Get *struct {
		TableName                *string           `json:"TableName"`
		Key                      attr.Item         `json:"Key"`
		ProjectionExpression     *string           `json:"ProjectionExpression"`
		ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	} `json:"Get"`
}

// Messages of the transactions' own checks (DynamoDB Local's wording).
const (
	msgTxNoAction     = "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
	msgTxManyActions  = "TransactItems can only contain one of Check, Put, Update or Delete"
	msgTxTooLarge     = "Transaction request size exceeds the maximum allowed size of 4 MB"
	maxTransactBytes  = 4 << 20
	maxClientTokenLen = 36
)

// kind returns the action's one member and its engine kind and constraint
// path segment, or nil when it has none or several (n says how many).
func (w *transactWriteItemIn) kind() (a *txActionIn, k engine.TxKind, member string, n int) {
	for _, c := range []struct {
		a      *txActionIn
		k      engine.TxKind
		member string
	}{
		{w.ConditionCheck, engine.TxCheck, "conditionCheck"},
		{w.Put, engine.TxPut, "put"},
		{w.Delete, engine.TxDelete, "delete"},
		{w.Update, engine.TxUpdate, "update"},
	} {
		if c.a != nil {
			a, k, member = c.a, c.k, c.member
			n++
		}
	}
	if n != 1 {
		return nil, 0, "", n
	}
	return a, k, member, n
}

// transactWriteItems answers TransactWriteItems.
func (a *api) transactWriteItems(_ context.Context, req *wire.Request) (any, error) {
	var in transactWriteIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkTransactItems(&v, len(in.TransactItems), in.TransactItems == nil, func() string { return javaTransactWrite(in.TransactItems) })
	for i, item := range in.TransactItems {
		if item == nil {
			continue
		}
		// Every action present is checked, even in a request with several.
		for _, c := range []struct {
			a      *txActionIn
			member string
		}{{item.ConditionCheck, "conditionCheck"}, {item.Put, "put"}, {item.Delete, "delete"}, {item.Update, "update"}} {
			if c.a == nil {
				continue
			}
			path := "transactItems." + strconv.Itoa(i+1) + ".member." + c.member + "."
			if c.member == "put" {
				v.Required(path+"item", c.a.Item != nil)
			} else {
				v.Required(path+"key", c.a.Key != nil)
			}
			if v.Required(path+"tableName", c.a.TableName != nil) && !a.isTableARN(*c.a.TableName) {
				v.Name(path+"tableName", *c.a.TableName, 1, 255)
			}
			switch c.member {
			case "conditionCheck":
				v.Required(path+"conditionExpression", c.a.ConditionExpression != nil)
			case "update":
				v.Required(path+"updateExpression", c.a.UpdateExpression != nil)
			}
			v.Enum(path+"returnValuesOnConditionCheckFailure", c.a.ReturnValuesOnConditionCheckFailure, enumReturnValuesOnCondition)
		}
	}
	// The token comes before the enums (recorded from DynamoDB, us-east-1).
	if in.ClientRequestToken != nil {
		v.Length("clientRequestToken", *in.ClientRequestToken, 1, maxClientTokenLen)
	}
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	v.Enum("returnItemCollectionMetrics", in.ReturnItemCollectionMetrics, enumReturnItemCollection)
	if err := v.Err(); err != nil {
		return nil, err
	}

	actions := make([]engine.TxWrite, len(in.TransactItems))
	size := 0
	for i, item := range in.TransactItems {
		if item == nil {
			return nil, attr.Invalid(msgTxNoAction)
		}
		act, kind, _, n := item.kind()
		switch {
		case n == 0:
			return nil, attr.Invalid(msgTxNoAction)
		case n > 1:
			return nil, attr.Invalid(msgTxManyActions)
		}
		tw, err := a.txAction(act, kind)
		if err != nil {
			return nil, err
		}
		actions[i] = tw
		if kind == engine.TxPut {
			size += attr.ItemSize(act.Item)
		} else {
			size += attr.ItemSize(act.Key)
		}
	}
	if size > maxTransactBytes {
		return nil, attr.Invalid(msgTxTooLarge)
	}

	tx := engine.TransactWriteRequest{Actions: actions, Who: who(req), IndexUnits: capacityMode(in.ReturnConsumedCapacity) != ""}
	if in.ClientRequestToken != nil {
		tx.Token = *in.ClientRequestToken
		// The values are canonical once checked, and encoding/json sorts
		// map keys: equal requests, however their JSON was written, have
		// equal digests. Only TransactItems counts: a repeat may ask for
		// other Return* members.
		canon, err := json.Marshal(in.TransactItems)
		if err != nil {
			return nil, err
		}
		tx.Digest = sha256.Sum256(canon)
	}
	res, err := a.e.TransactWrite(tx)
	if err != nil {
		return nil, err
	}

	var r response
	if mode := capacityMode(in.ReturnConsumedCapacity); mode != "" {
		var list []byte
		for _, c := range res.Capacity {
			list = appendListItem(list, appendCapacity(nil, mode, c))
		}
		r.raw("ConsumedCapacity", append(list, ']'))
	}
	if in.ReturnItemCollectionMetrics != nil && *in.ReturnItemCollectionMetrics == "SIZE" && !res.Replayed {
		r.raw("ItemCollectionMetrics", txCollections(in.TransactItems, res.Collections))
	}
	if r.b == nil {
		return []byte("{}"), nil
	}
	return r.bytes(), nil
}

// checkTransactItems adds the TransactItems list constraints; dump renders
// the list for the message, as DynamoDB echoes it.
func checkTransactItems(v *violations, n int, missing bool, dump func() string) {
	switch {
	case missing:
		v.Null("transactItems")
	case n < 1:
		v.Add(wire.Quote("[]"), "transactItems", wire.RuleMinLength(1))
	case n > engine.MaxTransactItems:
		v.Add(wire.Quote(dump()), "transactItems", wire.RuleMaxLength(engine.MaxTransactItems))
	}
}

// isTableARN reports whether s is a table ARN of this server.
func (a *api) isTableARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && a.e.TableNameFromARN(s) != ""
}

// resolveName maps a checked TableName member to the table's name.
func (a *api) resolveName(s string) string {
	if a.isTableARN(s) {
		return a.e.TableNameFromARN(s)
	}
	return s
}

// txAction checks one action's values and expressions, as the single-item
// operation of its kind does, and compiles it.
func (a *api) txAction(in *txActionIn, kind engine.TxKind) (engine.TxWrite, error) {
	tw := engine.TxWrite{
		Kind:                     kind,
		Table:                    a.resolveName(*in.TableName),
		ReturnOldOnConditionFail: in.ReturnValuesOnConditionCheckFailure != nil && *in.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
	}
	if kind == engine.TxPut {
		if err := attr.ValidateItem(in.Item); err != nil {
			return tw, err
		}
		if attr.ItemSize(in.Item) > attr.MaxItemSize {
			return tw, attr.ErrItemTooLarge
		}
		tw.Item = in.Item
	} else {
		if err := attr.ValidateItem(in.Key); err != nil {
			return tw, err
		}
		tw.Key = in.Key
	}
	x := exprParams{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, valuesUser: "ConditionExpression"}
	if kind == engine.TxUpdate {
		x.valuesUser = "UpdateExpression and ConditionExpression"
		x.addExpr("UpdateExpression", in.UpdateExpression)
	}
	x.addExpr("ConditionExpression", in.ConditionExpression)
	if err := x.check(); err != nil {
		return tw, err
	}
	if kind == engine.TxUpdate {
		u, err := x.parseUpdate(in.UpdateExpression)
		if err != nil {
			return tw, err
		}
		if u != nil {
			tw.Update = u // a typed nil would not compare equal to nil
		}
	}
	c, err := x.parseCondition(expr.KindCondition, in.ConditionExpression)
	if err != nil {
		return tw, err
	}
	if err := x.checkUnused(); err != nil {
		return tw, err
	}
	if c != nil {
		tw.Cond = c
	}
	return tw, nil
}

// txCollections renders ItemCollectionMetrics for the actions on tables with
// local indexes: per table (as named in the request), the collections
// written, each once.
func txCollections(items []*transactWriteItemIn, metrics []*engine.CollectionMetric) []byte {
	keys := make([]string, len(items))
	for i, it := range items {
		act, _, _, _ := it.kind()
		keys[i] = *act.TableName
	}
	r := collectionsByTable(keys, metrics)
	if r.b == nil {
		return nil
	}
	return r.bytes()
}

// transactGetItems answers TransactGetItems.
func (a *api) transactGetItems(_ context.Context, req *wire.Request) (any, error) {
	var in transactGetIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkTransactItems(&v, len(in.TransactItems), in.TransactItems == nil, func() string { return javaTransactGet(in.TransactItems) })
	for i, item := range in.TransactItems {
		path := "transactItems." + strconv.Itoa(i+1) + ".member.get"
		if item == nil || !v.Required(path, item.Get != nil) {
			continue
		}
		g := item.Get
		v.Required(path+".key", g.Key != nil)
		if v.Required(path+".tableName", g.TableName != nil) && !a.isTableARN(*g.TableName) {
			v.Name(path+".tableName", *g.TableName, 1, 255)
		}
	}
	v.Enum("returnConsumedCapacity", in.ReturnConsumedCapacity, enumReturnConsumedCapacity)
	if err := v.Err(); err != nil {
		return nil, err
	}
	gets := make([]engine.TxGet, len(in.TransactItems))
	projs := make([]*expr.Projection, len(in.TransactItems))
	for i, item := range in.TransactItems {
		g := item.Get
		if err := attr.ValidateItem(g.Key); err != nil {
			return nil, err
		}
		x := exprParams{names: g.ExpressionAttributeNames}
		x.addExpr("ProjectionExpression", g.ProjectionExpression)
		if err := x.check(); err != nil {
			return nil, err
		}
		proj, err := x.projection(g.ProjectionExpression, nil)
		if err != nil {
			return nil, err
		}
		table := a.resolveName(*g.TableName)
		if err := engine.ScalarKeys(a.lookup(table), projPaths(proj)); err != nil {
			return nil, err
		}
		projs[i] = proj
		gets[i] = engine.TxGet{Table: table, Key: g.Key}
	}
	res, err := a.e.TransactGet(gets)
	if err != nil {
		return nil, err
	}
	list := []byte{'['}
	for i, js := range res.Items {
		if i > 0 {
			list = append(list, ',')
		}
		item, err := projectJSON(projs[i], js)
		if err != nil {
			return nil, err
		}
		if item == nil {
			list = append(list, '{', '}')
			continue
		}
		list = append(list, `{"Item":`...)
		list = append(list, item...)
		list = append(list, '}')
	}
	list = append(list, ']')
	var r response
	if mode := capacityMode(in.ReturnConsumedCapacity); mode != "" {
		var caps []byte
		for _, c := range res.Capacity {
			caps = appendListItem(caps, appendCapacity(nil, mode, c))
		}
		r.raw("ConsumedCapacity", append(caps, ']'))
	}
	r.raw("Responses", list)
	return r.bytes(), nil
}

// javaTransactWrite renders TransactItems as DynamoDB echoes a list in a
// constraint message (Java's toString of the request objects).
func javaTransactWrite(items []*transactWriteItemIn) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('{')
		if item != nil {
			for _, c := range []struct {
				a    *txActionIn
				name string
			}{{item.ConditionCheck, "ConditionCheck"}, {item.Put, "Put"}, {item.Delete, "Delete"}, {item.Update, "Update"}} {
				if c.a != nil {
					javaAction(&b, c.name, c.a.Key, c.a.Item, c.a.TableName)
				}
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// javaTransactGet is javaTransactWrite for TransactGetItems.
func javaTransactGet(items []*transactGetItemIn) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('{')
		if item != nil && item.Get != nil {
			javaAction(&b, "Get", item.Get.Key, nil, item.Get.TableName)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// javaAction renders one action object: "Name: {Key: ..., Item: ...,TableName: t}".
func javaAction(b *strings.Builder, name string, key, item attr.Item, table *string) {
	b.WriteString(name + ": {")
	if key != nil {
		b.WriteString("Key: ")
		javaItem(b, key)
		b.WriteString(",")
	}
	if item != nil {
		b.WriteString("Item: ")
		javaItem(b, item)
		b.WriteString(",")
	}
	if table != nil {
		b.WriteString("TableName: " + *table)
	}
	b.WriteString("}")
}
