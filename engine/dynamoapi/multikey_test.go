package dynamoapi

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Multi-attribute GSI keys: a GSI's KeySchema lists one to four HASH
// attributes, then up to four RANGE ones.

// mkTable builds a CreateTable body of table t (hash key pk) with one GSI
// whose key schema is keys ("a:HASH,b:RANGE"); every attribute named is
// defined as S, and defs adds or retypes definitions ("a:N").
func mkTable(name, keys string, defs ...string) string {
	types := map[string]string{"pk": "S"}
	var order []string
	var ks []string
	for _, k := range strings.Split(keys, ",") {
		n, typ, _ := strings.Cut(k, ":")
		if _, ok := types[n]; !ok {
			types[n] = "S"
			order = append(order, n)
		}
		ks = append(ks, fmt.Sprintf(`{"AttributeName":%q,"KeyType":%q}`, n, typ))
	}
	for _, d := range defs {
		n, typ, _ := strings.Cut(d, ":")
		if _, ok := types[n]; !ok {
			order = append(order, n)
		}
		types[n] = typ
	}
	ad := []string{`{"AttributeName":"pk","AttributeType":"S"}`}
	for _, n := range order {
		if types[n] != "" {
			ad = append(ad, fmt.Sprintf(`{"AttributeName":%q,"AttributeType":%q}`, n, types[n]))
		}
	}
	return fmt.Sprintf(`{"TableName":%q,"BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],`+
		`"AttributeDefinitions":[%s],"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[%s],"Projection":{"ProjectionType":"ALL"}}]}`,
		name, strings.Join(ad, ","), strings.Join(ks, ","))
}

func TestCreateTableMultiAttributeGSI(t *testing.T) {
	h := newHarness(t)
	for i, keys := range []string{
		"a:HASH,b:HASH",
		"a:HASH,b:RANGE,c:RANGE",
		"a:HASH,b:HASH,c:RANGE,d:RANGE,e:RANGE",
		"a:HASH,b:HASH,c:HASH,d:HASH,e:RANGE,f:RANGE,g:RANGE,h:RANGE",
		"pk:HASH,a:HASH,b:RANGE", // the table's key may be one of them
	} {
		name := fmt.Sprintf("ok_%d", i)
		h.ok("CreateTable", mkTable(name, keys))
		got := path(h.ok("DescribeTable", `{"TableName":"`+name+`"}`).body, "Table.GlobalSecondaryIndexes.0.KeySchema")
		var want []any
		for _, k := range strings.Split(keys, ",") {
			n, typ, _ := strings.Cut(k, ":")
			want = append(want, map[string]any{"AttributeName": n, "KeyType": typ})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: KeySchema described as %v, want %v", keys, got, want)
		}
	}

	const pi = "One or more parameter values were invalid: "
	runErrCases(t, h, []errCase{
		{"5 HASH", "CreateTable", mkTable("err1", "a:HASH,b:HASH,c:HASH,d:HASH,e:HASH"), vex,
			pi + "The KeySchema exceeds the maximum allowed number of HASH key attributes"},
		{"5 RANGE", "CreateTable", mkTable("err2", "a:HASH,b:RANGE,c:RANGE,d:RANGE,e:RANGE,f:RANGE"), vex,
			pi + "The KeySchema exceeds the maximum allowed number of RANGE key attributes"},
		{"HASH after RANGE", "CreateTable", mkTable("err3", "a:HASH,b:RANGE,c:HASH"), vex,
			pi + "All HASH key attributes must precede RANGE key attributes in the KeySchema"},
		{"RANGE first", "CreateTable", mkTable("err4", "a:RANGE,b:HASH"), vex,
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{"RANGE only", "CreateTable", mkTable("err5", "a:RANGE,b:RANGE"), vex,
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{"duplicate HASH", "CreateTable", mkTable("err6", "a:HASH,a:HASH"), vex,
			"The KeySchema contains multiple key attributes with the same name"},
		{"same attribute HASH and RANGE", "CreateTable", mkTable("err7", "a:HASH,b:HASH,a:RANGE"), vex,
			"The KeySchema contains multiple key attributes with the same name"},
		{"two elements, same name", "CreateTable", mkTable("err8", "a:HASH,a:RANGE"), vex,
			"Both the Hash Key and the Range Key element in the KeySchema have the same name"},
		{"bad second KeyType", "CreateTable", mkTable("err9", "a:HASH,b:SORT"), vex,
			"Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"},
		{"bad third KeyType", "CreateTable", mkTable("err10", "a:HASH,b:HASH,c:SORT"), vex,
			pi + "Invalid KeyType in the KeySchema: SORT; the KeyType must be HASH or RANGE"},
		{"undefined attribute", "CreateTable", mkTable("err11", "a:HASH,b:HASH", "b:"), vex,
			pi + "Some index key attributes are not defined in AttributeDefinitions. Keys: [a, b], AttributeDefinitions: [pk, a]"},
		{"nine elements", "CreateTable", mkTable("err12", "a:HASH,b:HASH,c:HASH,d:HASH,e:RANGE,f:RANGE,g:RANGE,h:RANGE,i:RANGE"), vex,
			"~failed to satisfy constraint: Member must have length less than or equal to 8"},
		// Tables and LSIs keep one HASH and at most one RANGE attribute.
		{"table with two HASH", "CreateTable", `{"TableName":"err13","BillingMode":"PAY_PER_REQUEST",` +
			`"AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"}],` +
			`"KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"b","KeyType":"HASH"}]}`, vex,
			"Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"},
		{"LSI with two RANGE", "CreateTable", `{"TableName":"err14","BillingMode":"PAY_PER_REQUEST",` +
			`"AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},{"AttributeName":"b","AttributeType":"S"},{"AttributeName":"c","AttributeType":"S"}],` +
			`"KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"b","KeyType":"RANGE"}],` +
			`"LocalSecondaryIndexes":[{"IndexName":"l","KeySchema":[{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"b","KeyType":"RANGE"},{"AttributeName":"c","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]}`, vex,
			"~Member must have length less than or equal to 2"},
		// UpdateTable Create checks the same rules.
		{"UpdateTable 5 HASH", "UpdateTable", `{"TableName":"ok_0","AttributeDefinitions":[` +
			`{"AttributeName":"v","AttributeType":"S"},{"AttributeName":"w","AttributeType":"S"},{"AttributeName":"x","AttributeType":"S"},{"AttributeName":"y","AttributeType":"S"},{"AttributeName":"z","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"gsi5","Projection":{"ProjectionType":"ALL"},"KeySchema":[` +
			`{"AttributeName":"v","KeyType":"HASH"},{"AttributeName":"w","KeyType":"HASH"},{"AttributeName":"x","KeyType":"HASH"},{"AttributeName":"y","KeyType":"HASH"},{"AttributeName":"z","KeyType":"HASH"}]}}]}`, vex,
			pi + "The KeySchema exceeds the maximum allowed number of HASH key attributes"},
		{"UpdateTable HASH after RANGE", "UpdateTable", `{"TableName":"ok_0","AttributeDefinitions":[{"AttributeName":"v","AttributeType":"S"},{"AttributeName":"w","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"gsi6","Projection":{"ProjectionType":"ALL"},"KeySchema":[` +
			`{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"v","KeyType":"RANGE"},{"AttributeName":"w","KeyType":"HASH"}]}}]}`, vex,
			pi + "All HASH key attributes must precede RANGE key attributes in the KeySchema"},
	})
	h.ok("UpdateTable", `{"TableName":"ok_0","AttributeDefinitions":[{"AttributeName":"v","AttributeType":"N"},{"AttributeName":"w","AttributeType":"B"}],`+
		`"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"gsi7","Projection":{"ProjectionType":"KEYS_ONLY"},"KeySchema":[`+
		`{"AttributeName":"a","KeyType":"HASH"},{"AttributeName":"v","KeyType":"HASH"},{"AttributeName":"b","KeyType":"RANGE"},{"AttributeName":"w","KeyType":"RANGE"}]}}]}`)
}

func TestQueryMultiAttributeGSIKeyConditions(t *testing.T) {
	h := newHarness(t)
	h.ok("CreateTable", mkTable("multi", "t:HASH,r:HASH,a:RANGE,b:RANGE,c:RANGE", "r:N", "b:N", "c:B"))
	values := [][2]string{{":t", `{"S":"T"}`}, {":r", `{"N":"1"}`}, {":a", `{"S":"x"}`}, {":b", `{"N":"2"}`}, {":c", `{"B":"AQ=="}`}}
	q := func(cond string) string {
		var used []string
		for _, v := range values {
			if strings.Contains(cond, v[0]) {
				used = append(used, fmt.Sprintf("%q:%s", v[0], v[1]))
			}
		}
		return `{"TableName":"multi","IndexName":"gsi","KeyConditionExpression":"` + cond + `","ExpressionAttributeValues":{` + strings.Join(used, ",") + `}}`
	}
	for _, cond := range []string{
		"t = :t AND r = :r",
		"r = :r AND t = :t AND a = :a",
		"t = :t AND r = :r AND a = :a AND b >= :b",
		"t = :t AND r = :r AND a = :a AND b = :b AND c <= :c",
		"t = :t AND r = :r AND begins_with(a, :a)",
		"t = :t AND r = :r AND a = :a AND b BETWEEN :b AND :b",
	} {
		if r := h.ok("Query", q(cond)); path(r.body, "Count") != float64(0) {
			t.Errorf("%s: %s", cond, r.raw)
		}
	}
	runErrCases(t, h, []errCase{
		{"missing partition attribute", "Query", q("t = :t AND a = :a"), vex, "Query condition missed key schema element: r"},
		{"first sort attribute skipped", "Query", q("t = :t AND r = :r AND b = :b"), vex, "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{"gap in sort attributes", "Query", q("t = :t AND r = :r AND a = :a AND c = :c"), vex, "RANGE key attributes b must have equality conditions specified in the query because a condition is present on key attribute c"},
		{"range before last", "Query", q("t = :t AND r = :r AND a > :a AND b = :b"), vex, "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{"begins_with before last", "Query", q("t = :t AND r = :r AND begins_with(a, :a) AND b = :b"), vex, "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{"range on partition attribute", "Query", q("t = :t AND r > :r"), vex, "Query key condition not supported"},
		{"not a key attribute", "Query", q("t = :t AND r = :r AND z = :a"), vex, "Query key condition not supported"},
		{"wrong type", "Query", q("t = :t AND r = :a"), vex, "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"filter on a sort attribute", "Query", `{"TableName":"multi","IndexName":"gsi","KeyConditionExpression":"t = :t AND r = :r","FilterExpression":"c = :c",` +
			`"ExpressionAttributeValues":{":t":{"S":"T"},":r":{"N":"1"},":c":{"B":"AQ=="}}}`, vex,
			"Filter Expression can only contain non-primary key attributes: Primary key attribute: c"},
		{"legacy KeyConditions with a gap", "Query", `{"TableName":"multi","IndexName":"gsi","KeyConditions":{` +
			`"t":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"T"}]},"r":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]},` +
			`"b":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}}}`, vex, "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{"three conditions on a table", "Query", `{"TableName":"multi","KeyConditionExpression":"pk = :t AND r = :r AND a = :a",` +
			`"ExpressionAttributeValues":{":t":{"S":"T"},":r":{"N":"1"},":a":{"S":"x"}}}`, vex, "The number of query conditions (3) exceeds the number of key attributes defined in the schema (1)"},
	})
	h.ok("Query", `{"TableName":"multi","IndexName":"gsi","KeyConditions":{`+
		`"t":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"T"}]},"r":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]},`+
		`"a":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]},"b":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}}}`)
}
