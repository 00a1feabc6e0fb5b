package dynamoapi

import (
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
)

func TestLegacyErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	put := func(expected string) string {
		return `{"TableName":"hash","Item":{"pk":{"S":"lg"}},"Expected":` + expected + `}`
	}
	const pi = "One or more parameter values were invalid: "
	runErrCases(t, h, []errCase{
		{"exists false with value", "PutItem", put(`{"a":{"Exists":false,"Value":{"S":"x"}}}`), vex,
			pi + "Value cannot be used when Exists is false for Attribute: a"},
		{"exists true without value", "DeleteItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"Expected":{"a":{"Exists":true}}}`, vex,
			pi + "Value must be provided when Exists is true for Attribute: a"},
		{"empty entry", "PutItem", put(`{"a":{}}`), vex,
			pi + "Value must be provided when Exists is null for Attribute: a"},
		{"value and list", "PutItem", put(`{"a":{"Value":{"S":"x"},"AttributeValueList":[{"S":"x"}],"ComparisonOperator":"EQ"}}`), vex,
			pi + "Value and AttributeValueList cannot be used together for Attribute: a"},
		{"exists and operator", "PutItem", put(`{"a":{"Exists":true,"ComparisonOperator":"NULL"}}`), vex,
			pi + "Exists and ComparisonOperator cannot be used together for Attribute: a"},
		{"operator without values", "PutItem", put(`{"a":{"ComparisonOperator":"GT"}}`), vex,
			pi + "Value or AttributeValueList must be used with ComparisonOperator: GT for Attribute: a"},
		{"argument count", "PutItem", put(`{"a":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"},{"S":"y"}]}}`), vex,
			pi + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"NULL with a value", "PutItem", put(`{"a":{"ComparisonOperator":"NULL","AttributeValueList":[{"S":"x"}]}}`), vex,
			pi + "Invalid number of argument(s) for the NULL ComparisonOperator"},
		{"mixed types", "PutItem", put(`{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"S":"x"},{"N":"1"}]}}`), vex,
			pi + "AttributeValues inside AttributeValueList must be of same type"},
		{"operator type", "PutItem", put(`{"a":{"ComparisonOperator":"GT","AttributeValueList":[{"SS":["x"]}]}}`), vex,
			pi + "ComparisonOperator GT is not valid for SS AttributeValue type"},
		{"between bounds", "PutItem", put(`{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"5"},{"N":"1"}]}}`), vex,
			"The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{"list without operator", "PutItem", put(`{"a":{"AttributeValueList":[{"S":"x"}]}}`), vex,
			pi + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"},
		{"operator enum", "PutItem", put(`{"a":{"ComparisonOperator":"LIKE","AttributeValueList":[{"S":"x"}]}}`), vex,
			"1 validation error detected: Value 'LIKE' at 'expected.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"},
		{"invalid value", "PutItem", put(`{"a":{"Value":{"SS":[]}}}`), vex,
			pi + "An string set  may not be empty"},
		{"operator alone", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"lg"}},"ConditionalOperator":"OR"}`, vex,
			"ConditionalOperator cannot be used without Filter or Expected"},
		{"operator with one entry", "PutItem", put(`{"a":{"Exists":false}}`)[:len(put(`{"a":{"Exists":false}}`))-1] + `,"ConditionalOperator":"OR"}`, vex,
			"ConditionalOperator can only be used when Filter or Expected has two or more elements"},
		{"mixing", "PutItem", `{"TableName":"hash","Item":{"pk":{"S":"lg"}},"Expected":{"pk":{"Exists":false}},"ConditionExpression":"attribute_not_exists(pk)"}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},

		// AttributeUpdates.
		{"update without value", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":{"Action":"ADD"}}}`, vex,
			pi + "Only DELETE action is allowed when no attribute value is specified"},
		{"PUT without value", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":{}}}`, vex,
			pi + "Only DELETE action is allowed when no attribute value is specified"},
		{"DELETE of a scalar", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":{"Action":"DELETE","Value":{"S":"x"}}}}`, vex,
			pi + "DELETE action with value is not supported for the type S"},
		{"ADD of a map", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":{"Action":"ADD","Value":{"M":{}}}}}`, vex,
			pi + "ADD action is not supported for the type M"},
		{"action enum", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":{"Action":"SET","Value":{"S":"x"}}}}`, vex,
			"1 validation error detected: Value 'SET' at 'attributeUpdates.a.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"},
		{"null entry skipped, then a bad one", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"a":null,"b":{"Action":"PUT"}}}`, vex,
			pi + "Only DELETE action is allowed when no attribute value is specified"},
		{"key attribute", "UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}},"AttributeUpdates":{"pk":{"Action":"PUT","Value":{"S":"other"}}}}`, vex,
			pi + "Cannot update attribute pk. This attribute is part of the key"},
	})
	if r := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"lg"}}}`); r.raw != "{}" {
		t.Errorf("failed requests wrote %s", r.raw)
	}
}

func TestLegacyExpectedAndUpdates(t *testing.T) {
	h := newHarness(t).withSharedTables()
	h.ok("PutItem", `{"TableName":"hash","Item":{"pk":{"S":"l1"},"n":{"N":"5"},"s":{"S":"hello"},"tags":{"SS":["a","b"]},"l":{"L":[{"N":"1"}]}}}`)
	cond := func(expected string) string {
		return `{"TableName":"hash","Key":{"pk":{"S":"l1"}},"AttributeUpdates":{"hits":{"Action":"ADD","Value":{"N":"1"}}},"Expected":` + expected + `}`
	}
	pass := []string{
		`{"n":{"Value":{"N":"5"}}}`,
		`{"n":{"Exists":true,"Value":{"N":"5.0"}}}`,
		`{"gone":{"Exists":false}}`,
		`{"n":{"ComparisonOperator":"GT","Value":{"N":"4"}}}`,
		`{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"5"},{"N":"6"}]}}`,
		`{"s":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"he"}]}}`,
		`{"tags":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"a"}]}}`,
		`{"tags":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}`,
		`{"gone":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"z"}]}}`,
		`{"gone":{"ComparisonOperator":"NULL"},"s":{"ComparisonOperator":"NOT_NULL"}}`,
		`{"n":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"N":"5"}]}}`,
		`{"tags":{"ComparisonOperator":"EQ","AttributeValueList":[{"SS":["b","a"]}]}}`,
	}
	for _, e := range pass {
		h.ok("UpdateItem", cond(e))
	}
	fail := []string{
		`{"n":{"Value":{"S":"5"}}}`,
		`{"s":{"Exists":false}}`,
		`{"gone":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}`,
		`{"n":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"5"}]}}`,
		`{"n":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"5"}]},"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]}}`,
	}
	for _, e := range fail {
		if r := h.call("UpdateItem", cond(e)); r.errType() != "ConditionalCheckFailedException" {
			t.Errorf("Expected %s: %s", e, r.raw)
		}
	}
	// OR needs one entry to hold.
	h.ok("UpdateItem", cond(`{"n":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"5"}]},"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]}},"ConditionalOperator":"OR"`))

	got := h.ok("UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"l1"}},"ReturnValues":"UPDATED_NEW","AttributeUpdates":{
		"n":{"Action":"ADD","Value":{"N":"-0.5"}},
		"tags":{"Action":"DELETE","Value":{"SS":["a","b"]}},
		"l":{"Action":"ADD","Value":{"L":[{"S":"x"}]}},
		"s":{"Action":"DELETE"},
		"fresh":{"Action":"ADD","Value":{"NS":["2","1"]}},
		"p":{"Value":{"BOOL":true}}}}`).raw
	// s was removed (nothing to show), tags emptied (removed), hits untouched.
	if want := `{"Attributes":{"fresh":{"NS":["1","2"]},"l":{"L":[{"N":"1"},{"S":"x"}]},"n":{"N":"4.5"},"p":{"BOOL":true}}}`; got != want {
		t.Errorf("AttributeUpdates: got %s, want %s", got, want)
	}
	if r := h.call("UpdateItem", `{"TableName":"hash","Key":{"pk":{"S":"l1"}},"AttributeUpdates":{"n":{"Action":"ADD","Value":{"SS":["x"]}}}}`); r.message() != "Type mismatch for attribute to update" {
		t.Errorf("ADD type mismatch: %s", r.raw)
	}
}

// TestLegacyCondition drives the function QueryFilter and ScanFilter use.
func TestLegacyCondition(t *testing.T) {
	s := func(v string) attr.Value { return attr.S(v) }
	op := "OR"
	c, err := legacyCondition(map[string]legacyCondIn{
		"a": {ComparisonOperator: strPtr("EQ"), AttributeValueList: []attr.Value{s("x")}},
		"b": {ComparisonOperator: strPtr("BEGINS_WITH"), AttributeValueList: []attr.Value{s("y")}},
	}, &op, expr.KindFilter)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		item attr.Item
		want bool
	}{
		{attr.Item{"a": s("x")}, true},
		{attr.Item{"b": s("yes")}, true},
		{attr.Item{"a": s("z"), "b": s("no")}, false},
		{nil, false},
	} {
		if got, _ := c.Eval(tc.item); got != tc.want {
			t.Errorf("%v: got %v", tc.item, got)
		}
	}
	if _, err := legacyCondition(map[string]legacyCondIn{"a": {AttributeValueList: []attr.Value{s("x")}}}, nil, expr.KindFilter); err == nil ||
		err.Error() != "1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null" {
		t.Errorf("filter without operator: %v", err)
	}
	if c, err := legacyCondition(nil, nil, expr.KindFilter); c != nil || err != nil {
		t.Errorf("no conditions: %v %v", c, err)
	}
}

func strPtr(s string) *string { return &s }
