package dynamoapi

import (
	"strings"
	"testing"
)

func TestUpdateItemErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	runErrCases(t, h, []errCase{
		// tier3/error-messages/updateItem.test.ts (exact).
		{"hash key", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"em-upd-key-mod"}},"UpdateExpression":"SET pk = :v","ExpressionAttributeValues":{":v":{"S":"new-val"}}}`, vex,
			"One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
		{"syntax", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"INVALID SYNTAX HERE","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			`Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"`},
		{"unused name", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET attr1 = :v","ExpressionAttributeValues":{":v":{"S":"val"}},"ExpressionAttributeNames":{"#unused":"someattr"}}`, vex,
			"Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"},
		{"unused value", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET attr1 = :v","ExpressionAttributeValues":{":v":{"S":"val"},":unused":{"S":"extra"}}}`, vex,
			"Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"},
		{"undefined value", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET attr1 = :v"}`, vex,
			"Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v"},
		{"mixing", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET attr1 = :v","ExpressionAttributeValues":{":v":{"S":"val"}},"AttributeUpdates":{"attr1":{"Value":{"S":"val"},"Action":"PUT"}}}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"},
		{"empty expression", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":""}`, vex,
			"Invalid UpdateExpression: The expression can not be empty;"},
		{"range key", "UpdateItem", `{"TableName":"composite","Key":{"pk":{"S":"x"},"sk":{"S":"sk1"}},"UpdateExpression":"SET sk = :v","ExpressionAttributeValues":{":v":{"S":"new-sk"}}}`, vex,
			"One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"},

		// Unused placeholders are counted across the update and the condition.
		{"name used only by the condition", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET a = :v","ConditionExpression":"#c = :v","ExpressionAttributeNames":{"#c":"c","#d":"d"},"ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"Value provided in ExpressionAttributeNames unused in expressions: keys: {#d}"},
		{"condition syntax after update", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET a = :v","ConditionExpression":"a ==","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"~Invalid ConditionExpression: Syntax error;"},
		{"values without expressions", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"},

		{"invalid value", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":{"SS":[]}}}`, vex,
			"ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :a"},

		// tier3/validation-ordering/updateItem.test.ts and tier1 validation.
		{"empty name", "UpdateItem", `{"TableName":"","Key":{}}`, vex, "~'tableName'"},
		{"enums together", "UpdateItem", `{"TableName":"_conformance_valid_table_name","Key":{"pk":{"S":"test"}},"ReturnValues":"INVALID","ReturnConsumedCapacity":"INVALID"}`, vex,
			"2 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				"Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"},
		{"missing key", "UpdateItem", `{"TableName":"hash"}`, vex,
			"1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null"},
		{"missing table", "UpdateItem", `{"TableName":"_conformance_nonexistent_table","Key":{"pk":{"S":"test"}},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{":v":{"S":"test"}}}`, rnf,
			"Requested resource not found"},
		{"key schema", "UpdateItem", `{"TableName":"composite","Key":{"pk":{"S":"x"}},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{":v":{"S":"test"}}}`, vex,
			"The provided key element does not match the schema"},

		// Runtime errors of the update.
		{"missing operand", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"rt"}},"UpdateExpression":"SET a = b"}`, vex,
			"The provided expression refers to an attribute that does not exist in the item"},
		{"index key type", "UpdateItem", `{"TableName":"composite","Key":{"pk":{"S":"x"},"sk":{"S":"y"}},"UpdateExpression":"SET lsi1sk = :n","ExpressionAttributeValues":{":n":{"N":"1"}}}`, vex,
			"One or more parameter values were invalid: Type mismatch for Index Key lsi1sk Expected: S Actual: N IndexName: gsi1"},
		{"index key emptied", "UpdateItem", `{"TableName":"composite","Key":{"pk":{"S":"x"},"sk":{"S":"y"}},"UpdateExpression":"SET lsi2sk = :e","ExpressionAttributeValues":{":e":{"S":""}}}`, vex,
			"One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty string value."},
	})
	// Nothing of the failed requests was written.
	if r := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"rt"}}}`); r.raw != "{}" {
		t.Errorf("failed update wrote %s", r.raw)
	}
}

func TestUpdateItem(t *testing.T) {
	h := newHarness(t).withSharedTables()
	h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"u1"},"x":{"N":"1"},"y":{"S":"keep"},"tags":{"SS":["a","b"]}}}`)

	for _, tc := range []struct{ name, body, want string }{
		{"UPDATED_OLD", `"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{":v":{"N":"2"}},"ReturnValues":"UPDATED_OLD"`,
			`{"Attributes":{"x":{"N":"1"}}}`},
		{"UPDATED_NEW", `"UpdateExpression":"ADD x :v DELETE tags :t","ExpressionAttributeValues":{":v":{"N":"3"},":t":{"SS":["a"]}},"ReturnValues":"UPDATED_NEW"`,
			`{"Attributes":{"tags":{"SS":["b"]},"x":{"N":"5"}}}`},
		{"ALL_NEW with capacity", `"UpdateExpression":"REMOVE tags","ReturnValues":"ALL_NEW","ReturnConsumedCapacity":"TOTAL"`,
			`{"Attributes":{"pk":{"S":"u1"},"x":{"N":"5"},"y":{"S":"keep"}},"ConsumedCapacity":{"TableName":"hash","CapacityUnits":1}}`},
		{"ALL_OLD", `"UpdateExpression":"SET #y = :v","ExpressionAttributeNames":{"#y":"y"},"ExpressionAttributeValues":{":v":{"S":"new"}},"ReturnValues":"ALL_OLD"`,
			`{"Attributes":{"pk":{"S":"u1"},"x":{"N":"5"},"y":{"S":"keep"}}}`},
		{"NONE", `"UpdateExpression":"SET y = :v","ExpressionAttributeValues":{":v":{"S":"newer"}},"ReturnValues":"NONE"`, `{}`},
		{"UPDATED_OLD of a new attribute", `"UpdateExpression":"SET z = :v","ExpressionAttributeValues":{":v":{"S":"z"}},"ReturnValues":"UPDATED_OLD"`, `{}`},
	} {
		got := h.ok("UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"u1"}},`+tc.body+`}`).raw
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}

	// A failed condition, with the item.
	r := h.call("UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"u1"}},"UpdateExpression":"SET y = :v","ConditionExpression":"x > :v","ExpressionAttributeValues":{":v":{"N":"100"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`)
	if r.errType() != "ConditionalCheckFailedException" || r.message() != "The conditional request failed" || !strings.Contains(r.raw, `"Item":{"pk":{"S":"u1"}`) {
		t.Fatalf("failed condition: %s", r.raw)
	}

	// Upsert on a table with local indexes, with item collection metrics.
	got := h.ok("UpdateItem", `{"TableName":"composite","Key":{"pk":{"S":"c"},"sk":{"S":"a"}},"UpdateExpression":"SET lsi1sk = :v","ExpressionAttributeValues":{":v":{"S":"l"}},"ReturnItemCollectionMetrics":"SIZE","ReturnValues":"ALL_NEW"}`).raw
	if want := `{"Attributes":{"lsi1sk":{"S":"l"},"pk":{"S":"c"},"sk":{"S":"a"}},"ItemCollectionMetrics":{"ItemCollectionKey":{"pk":{"S":"c"}},"SizeEstimateRangeGB":[0.0,1.0]}}`; got != want {
		t.Errorf("composite upsert: got %s, want %s", got, want)
	}
}
