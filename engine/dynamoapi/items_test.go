package dynamoapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
)

func TestItemErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	a256 := strings.Repeat("a", 256)
	big := strings.Repeat("x", 410_000)
	runErrCases(t, h, []errCase{
		// tier3/error-messages/putItem.test.ts (exact).
		{"put: missing table name", "PutItem", `{"Item":{"pk":{"S":"test"}}}`, vex,
			"1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"},
		{"put: empty table name", "PutItem", `{"TableName":"","Item":{"pk":{"S":"test"}}}`, vex,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"put: long table name", "PutItem", `{"TableName":"` + a256 + `","Item":{"pk":{"S":"test"}}}`, vex,
			"1 validation error detected: Value '" + a256 + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"put: table name pattern", "PutItem", `{"TableName":"bad table!@#","Item":{"pk":{"S":"test"}}}`, vex,
			"1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"put: empty SS", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"},"bad":{"SS":[]}}}`, vex,
			"One or more parameter values were invalid: An string set  may not be empty"},
		{"put: empty NS", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"},"bad":{"NS":[]}}}`, vex,
			"One or more parameter values were invalid: An number set  may not be empty"},
		{"put: empty BS", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"},"bad":{"BS":[]}}}`, vex,
			"One or more parameter values were invalid: Binary sets should not be empty"},
		{"put: duplicate SS", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"},"bad":{"SS":["a","a"]}}}`, vex,
			"One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
		{"put: NULL false", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"em-put-null-false"},"attr1":{"NULL":false}}}`, vex,
			"One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{"put: expression and non-expression", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"}},"Expected":{"pk":{"Exists":false}},"ConditionExpression":"attribute_not_exists(pk)"}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
		{"put: values without expression", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"}},"ExpressionAttributeValues":{":v":{"S":"unused"}}}`, vex,
			"ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"},
		{"put: names without expression", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"}},"ExpressionAttributeNames":{"#n":"a"}}`, vex,
			"ExpressionAttributeNames can only be specified when using expressions"},

		// tier1/putItem/validation.test.ts.
		{"put: missing table", "PutItem", `{"TableName":"_conformance_nonexistent_table","Item":{"pk":{"S":"test"}}}`, rnf, "Requested resource not found"},
		{"put: missing hash key", "PutItem", `{"TableName":"hash","Item":{"notTheKey":{"S":"test"}}}`, vex,
			"One or more parameter values were invalid: Missing the key pk in the item"},
		{"put: invalid ReturnValues", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"}},"ReturnValues":"INVALID"}`, vex,
			"1 validation error detected: Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"},
		{"put: ReturnValues ALL_NEW", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"test"}},"ReturnValues":"ALL_NEW"}`, vex,
			"ReturnValues can only be ALL_OLD or NONE"},

		// tier3/validation-ordering/putItem.test.ts.
		{"put: empty name wins", "PutItem", `{"TableName":"","Item":{}}`, vex,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"put: empty name wins over ReturnValues", "PutItem", `{"TableName":"","ReturnValues":"INVALID","Item":{}}`, vex,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"put: enums aggregated before table lookup", "PutItem", `{"TableName":"_conformance_valid_table_name","Item":{"pk":{"S":"test"}},"ReturnConsumedCapacity":"INVALID","ReturnItemCollectionMetrics":"INVALID","ReturnValues":"INVALID"}`, vex,
			"3 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				"Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; " +
				"Value 'INVALID' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]"},
		{"put: name pattern", "PutItem", `{"TableName":"x!","Item":{}}`, vex, "~'tableName'"},
		{"put: missing item", "PutItem", `{"TableName":"hash"}`, vex,
			"1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null"},

		// tier3/limits: numbers, sizes, empty values.
		{"put: 39 digits", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"n"},"n":{"N":"123456789012345678901234567890123456789"}}}`, vex,
			"Attempting to store more than 38 significant digits in a Number"},
		{"put: overflow", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"n"},"n":{"N":"1E+126"}}}`, vex,
			"Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{"put: underflow", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"n"},"n":{"N":"1E-131"}}}`, vex,
			"Number underflow. Attempting to store a number with magnitude smaller than supported range"},
		{"put: too large", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"big"},"data":{"S":"` + big + `"}}}`, vex,
			"Item size has exceeded the maximum allowed size"},
		{"put: too large before table lookup", "PutItem", `{"TableName":"_conformance_nonexistent_table","Item":{"pk":{"S":"big"},"data":{"S":"` + big + `"}}}`, vex,
			"Item size has exceeded the maximum allowed size"},
		{"put: empty hash key", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":""}}}`, vex, "~Key: pk"},
		{"put: empty sort key", "PutItem", `{"TableName":"composite","Item":{"pk":{"S":"ev-composite"},"sk":{"S":""}}}`, vex, "~Key: sk"},
		{"put: empty set in map", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"x"},"outer":{"M":{"inner":{"SS":[]}}}}}`, vex, ""},
		{"put: empty set in list", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"x"},"items":{"L":[{"SS":[]}]}}}`, vex, ""},
		{"put: XOR", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"x"}},"Expected":{"a":{"Exists":false},"b":{"Exists":false}},"ConditionalOperator":"XOR"}`, vex,
			"1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"},
		{"put: key type mismatch", "PutItem", `{"TableName":"hash","Item":{"pk":{"N":"1"}}}`, vex,
			"One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{"put: index key type mismatch", "PutItem", `{"TableName":"composite","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"lsi1sk":{"N":"1"}}}`, vex,
			"One or more parameter values were invalid: Type mismatch for Index Key lsi1sk Expected: S Actual: N IndexName: gsi1"},
		{"put: empty index key", "PutItem", `{"TableName":"composite","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"lsi2sk":{"S":""}}}`, vex,
			"One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi2, IndexKey: lsi2sk"},
		{"put: empty attribute value", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"a"},"x":{}}}`, vex,
			"Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"put: item of wrong JSON type", "PutItem", `{"TableName":"hash","Item":[]}`, "SerializationException", ""},
		{"put: condition syntax", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"a"}},"ConditionExpression":"INVALID SYNTAX"}`, vex,
			`Invalid ConditionExpression: Syntax error; token: "SYNTAX", near: "INVALID SYNTAX"`},
		{"put: unused value", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)","ExpressionAttributeValues":{":v":{"S":"x"}}}`, vex,
			"Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"},
		{"put: Expected Exists false with Value", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"a"}},"Expected":{"pk":{"Exists":false,"Value":{"S":"a"}}}}`, vex,
			"One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: pk"},

		// tier3/error-messages/getItem.test.ts (exact).
		{"get: missing table", "GetItem", `{"TableName":"_conformance_does_not_exist_em_get","Key":{"pk":{"S":"test"}}}`, rnf, "Requested resource not found"},
		{"get: key missing sort key", "GetItem", `{"TableName":"composite","Key":{"pk":{"S":"test"}}}`, vex, "The provided key element does not match the schema"},
		{"get: extra key attribute", "GetItem", `{"TableName":"hash","Key":{"pk":{"S":"test"},"x":{"S":"y"}}}`, vex, "The provided key element does not match the schema"},
		{"get: wrong key type", "GetItem", `{"TableName":"hash","Key":{"pk":{"N":"1"}}}`, vex, "The provided key element does not match the schema"},
		{"get: missing key", "GetItem", `{"TableName":"hash"}`, vex,
			"1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null"},
		{"get: bad ReturnConsumedCapacity", "GetItem", `{"TableName":"_conformance_valid_table_name","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"ALL"}`, vex,
			"1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
		{"get: projection and AttributesToGet", "GetItem", `{"TableName":"hash","Key":{"pk":{"S":"a"}},"ProjectionExpression":"a","AttributesToGet":["a"]}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"},
		{"get: undefined projection name", "GetItem", `{"TableName":"hash","Key":{"pk":{"S":"a"}},"ProjectionExpression":"#a"}`, vex,
			"Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"},

		// tier3/error-messages/deleteItem.test.ts (exact) and validation ordering.
		{"delete: missing table", "DeleteItem", `{"TableName":"_conformance_does_not_exist_em_delete","Key":{"pk":{"S":"test"}}}`, rnf, "Requested resource not found"},
		{"delete: key missing sort key", "DeleteItem", `{"TableName":"composite","Key":{"pk":{"S":"test"}}}`, vex, "The provided key element does not match the schema"},
		{"delete: empty name wins", "DeleteItem", `{"TableName":"","Key":{}}`, vex,
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"delete: enums before table lookup", "DeleteItem", `{"TableName":"_conformance_valid_table_name","Key":{"pk":{"S":"a"}},"ReturnValues":"INVALID","ReturnConsumedCapacity":"INVALID"}`, vex,
			"2 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				"Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"},
		{"delete: name pattern", "DeleteItem", `{"TableName":"x!","Key":{}}`, vex, "~'tableName'"},
		{"delete: ReturnValues UPDATED_NEW", "DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"a"}},"ReturnValues":"UPDATED_NEW"}`, vex,
			"ReturnValues can only be ALL_OLD or NONE"},
	})
}

func TestPutGetDelete(t *testing.T) {
	h := newHarness(t).withSharedTables()

	// tier1/putItem/basic.test.ts: every type round-trips; sets come back
	// in canonical order, numbers canonical.
	item := `{"pk":{"S":"types"},"s":{"S":"x"},"n":{"N":"123.456"},"b":{"B":"AQID"},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},` +
		`"ss":{"SS":["b","a"]},"ns":{"NS":["2","1"]},"bs":{"BS":["Ag==","AQ=="]},"l":{"L":[{"S":"a"},{"N":"1"},{"BOOL":true},{"NULL":true},{"M":{"x":{"S":"y"}}}]},` +
		`"m":{"M":{"a":{"M":{"b":{"M":{"c":{"S":"deep"}}}}}}},"e":{"S":""},"eb":{"B":""}}`
	if got := h.ok("PutItem", `{"TableName":"hash","Item":`+item+`}`).raw; got != `{}` {
		t.Errorf("PutItem response %s, want {}", got)
	}
	got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"types"}},"ConsistentRead":true}`).raw
	want := `{"Item":{"b":{"B":"AQID"},"bs":{"BS":["AQ==","Ag=="]},"e":{"S":""},"eb":{"B":""},"f":{"BOOL":false},` +
		`"l":{"L":[{"S":"a"},{"N":"1"},{"BOOL":true},{"NULL":true},{"M":{"x":{"S":"y"}}}]},"m":{"M":{"a":{"M":{"b":{"M":{"c":{"S":"deep"}}}}}}},` +
		`"n":{"N":"123.456"},"ns":{"NS":["1","2"]},"pk":{"S":"types"},"s":{"S":"x"},"ss":{"SS":["a","b"]},"t":{"BOOL":true},"z":{"NULL":true}}}`
	if got != want {
		t.Errorf("GetItem\n got: %s\nwant: %s", got, want)
	}

	// Numbers are canonical on read (tier3/limits/numberPrecision).
	for in, out := range map[string]string{"00042": "42", "1.0": "1", "3.1400": "3.14", "1.5E2": "150", "-0": "0",
		"12345678901234567890123456789012345678": "12345678901234567890123456789012345678"} {
		h.ok("PutItem", fmt.Sprintf(`{"TableName":"hash","Item":{"pk":{"S":"num"},"v":{"N":%q}}}`, in))
		got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"num"}}}`).raw
		if want := `{"Item":{"pk":{"S":"num"},"v":{"N":"` + out + `"}}}`; got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	// A number key is found by any spelling of its value.
	h.ok("PutItem", `{"TableName":"hashN","Item":{"pk":{"N":"3.14"}}}`)
	if got := h.ok("GetItem", `{"TableName":"hashN","Key":{"pk":{"N":"3.1400"}}}`).raw; got != `{"Item":{"pk":{"N":"3.14"}}}` {
		t.Errorf("number key: %s", got)
	}

	// ReturnValues ALL_OLD: absent when nothing was replaced.
	if got := h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"rv"},"old":{"S":"data"}},"ReturnValues":"ALL_OLD"}`).raw; got != `{}` {
		t.Errorf("first put ALL_OLD: %s", got)
	}
	if got := h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"rv"},"new":{"S":"data"}},"ReturnValues":"ALL_OLD"}`).raw; got != `{"Attributes":{"old":{"S":"data"},"pk":{"S":"rv"}}}` {
		t.Errorf("replacing put ALL_OLD: %s", got)
	}
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"nothing"}}}`).raw; got != `{}` {
		t.Errorf("missing item: %s", got)
	}
	h.ok("PutItem", `{"TableName":"composite","Item":{"pk":{"S":"c"},"sk":{"S":"1"}}}`)
	if got := h.ok("GetItem", `{"TableName":"composite","Key":{"pk":{"S":"c"},"sk":{"S":"2"}}}`).raw; got != `{}` {
		t.Errorf("other sort key: %s", got)
	}

	// DeleteItem.
	if got := h.ok("DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"rv"}},"ReturnValues":"ALL_OLD"}`).raw; got != `{"Attributes":{"new":{"S":"data"},"pk":{"S":"rv"}}}` {
		t.Errorf("delete ALL_OLD: %s", got)
	}
	if got := h.ok("DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"rv"}},"ReturnValues":"ALL_OLD"}`).raw; got != `{}` {
		t.Errorf("delete missing ALL_OLD: %s", got)
	}
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"rv"}}}`).raw; got != `{}` {
		t.Errorf("after delete: %s", got)
	}
	// Binary sort keys are distinct and byte-exact.
	for _, sk := range []string{"AQID", "3q2+7w==", "/wB/gA=="} {
		h.ok("PutItem", `{"TableName":"compositeB","Item":{"pk":{"S":"b"},"sk":{"B":"`+sk+`"}}}`)
	}
	if got := h.ok("GetItem", `{"TableName":"compositeB","Key":{"pk":{"S":"b"},"sk":{"B":"3q2+7w=="}}}`).raw; got != `{"Item":{"pk":{"S":"b"},"sk":{"B":"3q2+7w=="}}}` {
		t.Errorf("binary sort key: %s", got)
	}
	// A table ARN names its table.
	h.ok("PutItem", `{"TableName":"arn:aws:dynamodb:us-east-1:000000000000:table/hash","Item":{"pk":{"S":"arn"}}}`)
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"arn"}}}`).raw; got != `{"Item":{"pk":{"S":"arn"}}}` {
		t.Errorf("put by ARN: %s", got)
	}
}

func TestConsumedCapacityAndMetrics(t *testing.T) {
	h := newHarness(t).withSharedTables()
	big := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, op, body, want string
	}{
		{"put TOTAL", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c"},"d":{"S":"` + big + `"}},"ReturnConsumedCapacity":"TOTAL"}`,
			`{"ConsumedCapacity":{"TableName":"hash","CapacityUnits":2}}`},
		{"put replacing a larger item", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c"}},"ReturnConsumedCapacity":"TOTAL"}`,
			`{"ConsumedCapacity":{"TableName":"hash","CapacityUnits":2}}`},
		{"put NONE", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c"}},"ReturnConsumedCapacity":"NONE"}`, `{}`},
		{"put INDEXES", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c"}},"ReturnConsumedCapacity":"INDEXES"}`,
			`{"ConsumedCapacity":{"TableName":"hash","CapacityUnits":1,"Table":{"CapacityUnits":1}}}`},
		{"get consistent", "GetItem", `{"TableName":"hash","Key":{"pk":{"S":"c"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`,
			`{"Item":{"pk":{"S":"c"}},"ConsumedCapacity":{"TableName":"hash","CapacityUnits":1}}`},
		{"get eventually consistent miss", "GetItem", `{"TableName":"hash","Key":{"pk":{"S":"none"}},"ReturnConsumedCapacity":"TOTAL"}`,
			`{"ConsumedCapacity":{"TableName":"hash","CapacityUnits":0.5}}`},
		{"delete missing", "DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"none"}},"ReturnConsumedCapacity":"TOTAL"}`,
			`{"ConsumedCapacity":{"TableName":"hash","CapacityUnits":1}}`},
		// tier1/putItem/itemCollectionMetrics.test.ts.
		{"put SIZE on LSI table", "PutItem", `{"TableName":"composite","Item":{"pk":{"S":"icm-put-1"},"sk":{"S":"a"},"lsi1sk":{"S":"lval"},"data":{"S":"hello"}},"ReturnItemCollectionMetrics":"SIZE"}`,
			`{"ItemCollectionMetrics":{"ItemCollectionKey":{"pk":{"S":"icm-put-1"}},"SizeEstimateRangeGB":[0.0,1.0]}}`},
		{"delete SIZE on LSI table", "DeleteItem", `{"TableName":"composite","Key":{"pk":{"S":"icm-put-1"},"sk":{"S":"a"}},"ReturnItemCollectionMetrics":"SIZE","ReturnValues":"ALL_OLD"}`,
			`{"Attributes":{"data":{"S":"hello"},"lsi1sk":{"S":"lval"},"pk":{"S":"icm-put-1"},"sk":{"S":"a"}},"ItemCollectionMetrics":{"ItemCollectionKey":{"pk":{"S":"icm-put-1"}},"SizeEstimateRangeGB":[0.0,1.0]}}`},
		{"put NONE on LSI table", "PutItem", `{"TableName":"composite","Item":{"pk":{"S":"icm-none-1"},"sk":{"S":"a"}},"ReturnItemCollectionMetrics":"NONE"}`, `{}`},
		{"put SIZE without LSI", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c"}},"ReturnItemCollectionMetrics":"SIZE"}`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.ok(tc.op, tc.body).raw; got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestIdentity checks that writes record who made them.
func TestIdentity(t *testing.T) {
	h := newHarness(t).withSharedTables()
	envs := make(chan event.Envelope, 2)
	cancel := h.e.ChangeLog().Subscribe(func(chs []engine.Change) {
		for _, c := range chs {
			env, err := event.Decode(c.Data)
			if err != nil {
				t.Error(err)
			}
			envs <- env
		}
	})
	defer cancel()
	h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"who"}}}`)
	h.ok("DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"who"}}}`)
	for range 2 {
		env := <-envs
		if env.Header(event.HdrAccessKey) != "AKIDTEST" || env.Header(event.HdrSourceAddr) == "" || len(env.Header(event.HdrRequestID)) != 52 {
			t.Errorf("identity headers %v", env.Headers)
		}
	}
}

// TestConditionsAndProjections drives ConditionExpression on PutItem and
// DeleteItem and the projections of GetItem and BatchGetItem.
func TestConditionsAndProjections(t *testing.T) {
	h := newHarness(t).withSharedTables()
	h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c1"},"a":{"N":"1"},"b":{"M":{"x":{"S":"y"},"z":{"L":[{"N":"1"},{"N":"2"}]}}},"c":{"S":"keep"}}}`)

	// A condition that fails, with and without the current item.
	r := h.call("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"c1"}},"ConditionExpression":"attribute_not_exists(pk)"}`)
	if r.status != 400 || r.errType() != "ConditionalCheckFailedException" || r.body["Item"] != nil {
		t.Fatalf("failed condition: %d %s", r.status, r.raw)
	}
	r = h.call("DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"c1"}},"ConditionExpression":"a > :v","ExpressionAttributeValues":{":v":{"N":"5"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`)
	if r.status != 400 || r.errType() != "ConditionalCheckFailedException" || !strings.Contains(r.raw, `"Item":{"a":{"N":"1"}`) {
		t.Fatalf("failed condition with ALL_OLD: %d %s", r.status, r.raw)
	}

	// Projections: nested paths, list elements, legacy AttributesToGet.
	got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"c1"}},"ProjectionExpression":"#b.z[1], a","ExpressionAttributeNames":{"#b":"b"}}`).raw
	if want := `{"Item":{"a":{"N":"1"},"b":{"M":{"z":{"L":[{"N":"2"}]}}}}}`; got != want {
		t.Errorf("projection: got %s, want %s", got, want)
	}
	got = h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"c1"}},"AttributesToGet":["c","missing"]}`).raw
	if want := `{"Item":{"c":{"S":"keep"}}}`; got != want {
		t.Errorf("AttributesToGet: got %s, want %s", got, want)
	}
	got = h.ok("BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"c1"}}],"ProjectionExpression":"c"}}}`).raw
	if !strings.Contains(got, `"hash":[{"c":{"S":"keep"}}]`) {
		t.Errorf("BatchGetItem projection: %s", got)
	}

	// A condition that holds lets the write through.
	h.ok("DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"c1"}},"ConditionExpression":"c = :k AND size(#b.z) = :two","ExpressionAttributeNames":{"#b":"b"},"ExpressionAttributeValues":{":k":{"S":"keep"},":two":{"N":"2"}}}`)
	if r := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"c1"}}}`); r.raw != "{}" {
		t.Errorf("after conditional delete: %s", r.raw)
	}
}
