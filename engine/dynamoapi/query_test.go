package dynamoapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestQueryErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	const kc = `"KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"S":"val"}}`
	runErrCases(t, h, []errCase{
		// tier3/error-messages/query.test.ts (exact).
		{"missing hash key", "Query", `{"TableName":"composite","KeyConditionExpression":"sk = :v","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"Query condition missed key schema element: pk"},
		{"non-key attribute", "Query", `{"TableName":"composite","KeyConditionExpression":"attr1 = :v","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"Query condition missed key schema element: pk"},
		{"unused names", "Query", `{"TableName":"composite",` + kc + `,"ExpressionAttributeNames":{"#unused":"someattr"}}`, vex,
			"Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"},
		{"invalid Select", "Query", `{"TableName":"composite",` + kc + `,"Select":"INVALID_VALUE"}`, vex,
			"1 validation error detected: Value 'INVALID_VALUE' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"},
		{"consistent read on GSI", "Query", `{"TableName":"composite","IndexName":"gsi1","KeyConditionExpression":"#hk = :v","ExpressionAttributeNames":{"#hk":"lsi1sk"},"ExpressionAttributeValues":{":v":{"S":"val"}},"ConsistentRead":true}`, vex,
			"Consistent reads are not supported on global secondary indexes"},
		{"limit 0", "Query", `{"TableName":"composite",` + kc + `,"Limit":0}`, vex,
			"1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"empty key condition", "Query", `{"TableName":"composite","KeyConditionExpression":"","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"Invalid KeyConditionExpression: The expression can not be empty;"},
		{"undefined name in filter", "Query", `{"TableName":"composite","KeyConditionExpression":"pk = :pk","FilterExpression":"#missing = :fv","ExpressionAttributeValues":{":pk":{"S":"val"},":fv":{"S":"x"}}}`, vex,
			"Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"},
		{"redundant parentheses", "Query", `{"TableName":"hash","KeyConditionExpression":"((pk = :v))","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"Invalid KeyConditionExpression: The expression has redundant parentheses;"},
		{"malformed start key", "Query", `{"TableName":"composite",` + kc + `,"ExclusiveStartKey":{"bad":{"S":"p"}}}`, vex,
			"The provided starting key is invalid"},
		{"specific without projection", "Query", `{"TableName":"composite",` + kc + `,"Select":"SPECIFIC_ATTRIBUTES"}`, vex,
			"1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"},
		{"overlapping projection", "Query", `{"TableName":"hash",` + kc + `,"ProjectionExpression":"a, a.b"}`, vex,
			"Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},

		// Select rules (AWS-verified recordings).
		{"projection with COUNT", "Query", `{"TableName":"composite",` + kc + `,"Select":"COUNT","ProjectionExpression":"pk"}`, vex,
			"1 validation error detected: Cannot specify the ProjectionExpression when choosing to get only the Count"},
		{"projection with ALL_ATTRIBUTES", "Query", `{"TableName":"composite",` + kc + `,"Select":"ALL_ATTRIBUTES","ProjectionExpression":"pk"}`, vex,
			"1 validation error detected: Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"},
		{"all projected without index", "Query", `{"TableName":"composite",` + kc + `,"Select":"ALL_PROJECTED_ATTRIBUTES"}`, vex,
			"1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"},

		// tier1/query/validation.test.ts and the order of checks.
		{"missing table", "Query", `{"TableName":"_conformance_nonexistent_table",` + kc + `}`, rnf, "Requested resource not found"},
		{"no key condition", "Query", `{"TableName":"composite"}`, vex,
			"Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."},
		{"name pattern first", "Query", `{"TableName":"abc!",` + kc + `,"Select":"INVALID"}`, vex, "~validation error"},
		{"enums aggregated", "Query", `{"TableName":"hash",` + kc + `,"ReturnConsumedCapacity":"INVALID","Select":"INVALID"}`, vex,
			"2 validation errors detected: Value 'INVALID' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]; " +
				"Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
		{"syntax before table", "Query", `{"TableName":"_conformance_nonexistent_table","KeyConditionExpression":"pk = = :v","ExpressionAttributeValues":{":v":{"S":"val"}}}`, vex,
			"~Invalid KeyConditionExpression: Syntax error"},
		{"type mismatch", "Query", `{"TableName":"composite","KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`, vex,
			"One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"unknown index", "Query", `{"TableName":"composite","IndexName":"nope",` + kc + `}`, vex,
			"The table does not have the specified index: nope"},
		{"start key other partition", "Query", `{"TableName":"composite",` + kc + `,"ExclusiveStartKey":{"pk":{"S":"other"},"sk":{"S":"a"}}}`, vex,
			"The provided starting key is outside query boundaries based on provided conditions"},
		{"start key outside range", "Query", `{"TableName":"composite","KeyConditionExpression":"pk = :v AND sk > :s","ExpressionAttributeValues":{":v":{"S":"val"},":s":{"S":"m"}},"ExclusiveStartKey":{"pk":{"S":"val"},"sk":{"S":"a"}}}`, vex,
			"The provided starting key does not match the range key predicate"},
		{"start key empty value", "Query", `{"TableName":"composite",` + kc + `,"ExclusiveStartKey":{"pk":{"S":"val"},"sk":{}}}`, vex,
			"~The provided starting key is invalid: "},
		{"legacy key condition not indexable", "Query", `{"TableName":"composite","KeyConditions":{"pk":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"a"}]}}}`, vex,
			"Attempted conditional constraint is not an indexable operation"},
		{"legacy key condition without hash", "Query", `{"TableName":"composite","KeyConditions":{"sk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}}}`, vex,
			"Query condition missed key schema element: pk"},
		{"legacy and expressions", "Query", `{"TableName":"composite",` + kc + `,"AttributesToGet":["pk"]}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {KeyConditionExpression}"},
	})
}

func TestScanErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	runErrCases(t, h, []errCase{
		// tier3/error-messages/scan.test.ts (exact).
		{"segment without total", "Scan", `{"TableName":"hash","Segment":0}`, vex,
			"The TotalSegments parameter is required but was not present in the request when Segment parameter is present"},
		{"segment not less than total", "Scan", `{"TableName":"hash","Segment":5,"TotalSegments":5}`, vex,
			"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 5 is not less than TotalSegments: 5"},
		{"total without segment", "Scan", `{"TableName":"hash","TotalSegments":4}`, vex,
			"The Segment parameter is required but was not present in the request when parameter TotalSegments is present"},
		{"limit 0", "Scan", `{"TableName":"hash","Limit":0}`, vex,
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"missing table", "Scan", `{"TableName":"_conformance_does_not_exist_em_scan"}`, rnf, "Requested resource not found"},
		{"malformed start key", "Scan", `{"TableName":"hash","ExclusiveStartKey":{"bad":{"S":"p"}}}`, vex,
			"The provided starting key is invalid: The provided key element does not match the schema"},
		{"specific without projection", "Scan", `{"TableName":"hash","Select":"SPECIFIC_ATTRIBUTES"}`, vex,
			"Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"},
		{"attributes with COUNT", "Scan", `{"TableName":"hash","Select":"COUNT","AttributesToGet":["pk"]}`, vex,
			"Cannot specify the AttributesToGet when choosing to get only the Count"},
		{"all projected without index", "Scan", `{"TableName":"hash","Select":"ALL_PROJECTED_ATTRIBUTES"}`, vex,
			"ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"},
		{"segment ranges", "Scan", `{"TableName":"hash","Segment":-1,"TotalSegments":1000001}`, vex,
			"2 validation errors detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000; " +
				"Value '-1' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"start key in another segment", "Scan", `{"TableName":"hash","Segment":0,"TotalSegments":1000000,"ExclusiveStartKey":{"pk":{"S":"zzz"}}}`, vex,
			"The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: 1000000 Segment: 0"},
		{"legacy filter and expression", "Scan", `{"TableName":"hash","ScanFilter":{"a":{"ComparisonOperator":"NULL"}},"FilterExpression":"attribute_exists(a)"}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}"},
		{"legacy operator alone", "Scan", `{"TableName":"hash","ScanFilter":{"a":{"ComparisonOperator":"NULL"}},"ConditionalOperator":"OR"}`, vex,
			"ConditionalOperator can only be used when Filter or Expected has two or more elements"},
	})
}

// A GSI cannot fetch what it does not project (DynamoDB Local's messages;
// DynamoDB's PartiQL answers, recorded by later conformance suites, share
// them). gsi2 projects its keys, the table's and data.
func TestGSIUnprojectedReads(t *testing.T) {
	h := newHarness(t).withSharedTables()
	q := func(extra string) string {
		return `{"TableName":"composite","IndexName":"gsi2","KeyConditionExpression":"lsi1sk = :v","ExpressionAttributeValues":{":v":{"S":"x"}` + extra
	}
	sc := func(extra string) string { return `{"TableName":"composite","IndexName":"gsi2"` + extra + `}` }
	const allAttrs = "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index gsi2 because its projection type is not ALL"
	runErrCases(t, h, []errCase{
		{"query ALL_ATTRIBUTES", "Query", q(`},"Select":"ALL_ATTRIBUTES"}`), vex, allAttrs},
		{"scan ALL_ATTRIBUTES", "Scan", sc(`,"Select":"ALL_ATTRIBUTES"`), vex, allAttrs},
		{"query projection", "Query", q(`},"ProjectionExpression":"zeta, #d, alpha.x, pk","ExpressionAttributeNames":{"#d":"data"}}`), vex,
			"One or more parameter values were invalid: Global secondary index gsi2 does not project [alpha, zeta]"},
		{"scan AttributesToGet", "Scan", sc(`,"AttributesToGet":["other","sk"]`), vex,
			"One or more parameter values were invalid: Global secondary index gsi2 does not project [other]"},
		{"query filter", "Query", q(`,":n":{"N":"1"}},"FilterExpression":"b = :n OR a = :n OR b = :n"}`), vex,
			"One or more parameter values were invalid: Secondary index gsi2 does not project one or more filter attributes: [a, b]"},
	})
	// A Scan's filter on an attribute the index lacks finds nothing.
	h.ok("PutItem", `{"TableName":"composite","Item":{"pk":{"S":"g"},"sk":{"S":"1"},"lsi1sk":{"S":"x"},"lsi2sk":{"S":"y"},"a":{"N":"1"}}}`)
	if r := h.ok("Scan", sc(`,"FilterExpression":"a = :n","ExpressionAttributeValues":{":n":{"N":"1"}}`)); path(r.body, "Count") != float64(0) {
		t.Errorf("scan filter on an unprojected attribute: %s", r.raw)
	}
}

// An LSI fetches from the table what a filter needs but returns only what it
// projects; a projection or Select ALL_ATTRIBUTES returns the fetched rest.
func TestLSIFetchForFilter(t *testing.T) {
	h := newHarness(t).withSharedTables()
	h.ok("PutItem", `{"TableName":"composite","Item":{"pk":{"S":"f"},"sk":{"S":"1"},"lsi1sk":{"S":"k"},"lsi2sk":{"S":"y"},"extra":{"N":"7"},"more":{"S":"m"}}}`)
	q := func(extra string) string {
		return `{"TableName":"composite","IndexName":"lsi2","KeyConditionExpression":"pk = :p","FilterExpression":"extra = :n",` +
			`"ExpressionAttributeValues":{":p":{"S":"f"},":n":{"N":"7"}}` + extra + `}`
	}
	for _, tc := range []struct{ extra, want string }{
		{``, `[{"lsi1sk":{"S":"k"},"lsi2sk":{"S":"y"},"pk":{"S":"f"},"sk":{"S":"1"}}]`},
		{`,"Select":"ALL_ATTRIBUTES"`, `[{"extra":{"N":"7"},"lsi1sk":{"S":"k"},"lsi2sk":{"S":"y"},"more":{"S":"m"},"pk":{"S":"f"},"sk":{"S":"1"}}]`},
		{`,"ProjectionExpression":"more"`, `[{"more":{"S":"m"}}]`},
	} {
		for _, op := range []string{"Query", "Scan"} {
			body := q(tc.extra)
			if op == "Scan" {
				body = strings.Replace(body, `"KeyConditionExpression":"pk = :p","FilterExpression":"extra = :n"`, `"FilterExpression":"extra = :n AND pk = :p"`, 1)
			}
			r := h.ok(op, body)
			got, _ := json.Marshal(path(r.body, "Items"))
			if string(got) != tc.want {
				t.Errorf("%s %s: got %s, want %s", op, tc.extra, got, tc.want)
			}
		}
	}
}

func TestQueryScanResults(t *testing.T) {
	h := newHarness(t).withSharedTables()
	for i := range 10 {
		cat := "odd"
		if i%2 == 0 {
			cat = "even"
		}
		h.ok("PutItem", fmt.Sprintf(`{"TableName":"composite","Item":{"pk":{"S":"p"},"sk":{"S":"%03d"},"category":{"S":"%s"},"extra":{"N":"%d"}}}`, i, cat, i))
		h.ok("PutItem", fmt.Sprintf(`{"TableName":"hash","Item":{"pk":{"S":"h%d"},"category":{"S":"%s"}}}`, i, cat))
	}
	const q = `{"TableName":"composite","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}}`

	// Limit counts items evaluated, before the filter; the key of the last
	// one evaluated resumes the query.
	r := h.ok("Query", `{"TableName":"composite","KeyConditionExpression":"pk = :p","FilterExpression":"category = :c",
		"ExpressionAttributeValues":{":p":{"S":"p"},":c":{"S":"even"}},"Limit":2,"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`)
	if got := r.raw; got != `{"Items":[{"category":{"S":"even"},"extra":{"N":"0"},"pk":{"S":"p"},"sk":{"S":"000"}}],"Count":1,"ScannedCount":2,`+
		`"LastEvaluatedKey":{"pk":{"S":"p"},"sk":{"S":"001"}},"ConsumedCapacity":{"TableName":"composite","CapacityUnits":1}}` {
		t.Errorf("limit with filter: %s", got)
	}

	// Backwards, from a start key, with a projection.
	r = h.ok("Query", q+`,"ExpressionAttributeNames":{"#s":"sk"},"ScanIndexForward":false,"ProjectionExpression":"#s","ExclusiveStartKey":{"pk":{"S":"p"},"sk":{"S":"003"}}}`)
	if got := r.raw; got != `{"Items":[{"sk":{"S":"002"}},{"sk":{"S":"001"}},{"sk":{"S":"000"}}],"Count":3,"ScannedCount":3}` {
		t.Errorf("backwards: %s", got)
	}

	// COUNT returns no Items; eventually consistent reads cost half.
	r = h.ok("Query", q+`,"Select":"COUNT","ReturnConsumedCapacity":"INDEXES"}`)
	if got := r.raw; got != `{"Count":10,"ScannedCount":10,"ConsumedCapacity":{"TableName":"composite","CapacityUnits":0.5,"Table":{"CapacityUnits":0.5}}}` {
		t.Errorf("count: %s", got)
	}

	// Sort-key conditions.
	for cond, want := range map[string]string{
		"sk BETWEEN :a AND :b": "003,004,005",
		"begins_with(sk, :a)":  "003",
		":a > sk":              "000,001,002",
		"sk >= :b":             "005,006,007,008,009",
	} {
		values := `":p":{"S":"p"}`
		if strings.Contains(cond, ":a") {
			values += `,":a":{"S":"003"}`
		}
		if strings.Contains(cond, ":b") {
			values += `,":b":{"S":"005"}`
		}
		r := h.ok("Query", `{"TableName":"composite","KeyConditionExpression":"pk = :p AND `+cond+`","ProjectionExpression":"sk",
			"ExpressionAttributeValues":{`+values+`}}`)
		var got []string
		for _, it := range r.body["Items"].([]any) {
			got = append(got, path(it, "sk.S").(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: got %v, want %s", cond, got, want)
		}
	}

	// An empty partition: Items is an empty list, no LastEvaluatedKey.
	r = h.ok("Query", `{"TableName":"composite","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"none"}}}`)
	if r.raw != `{"Items":[],"Count":0,"ScannedCount":0}` {
		t.Errorf("empty: %s", r.raw)
	}

	// Scan pages through the table, each item once, and parallel segments
	// split it.
	seen := map[string]bool{}
	var start string
	for pages := 0; ; pages++ {
		body := `{"TableName":"hash","Limit":3` + start + `}`
		r := h.ok("Scan", body)
		for _, it := range r.body["Items"].([]any) {
			pk := path(it, "pk.S").(string)
			if seen[pk] {
				t.Fatalf("scan repeated %s", pk)
			}
			seen[pk] = true
		}
		lek, ok := r.body["LastEvaluatedKey"]
		if !ok {
			break
		}
		start = fmt.Sprintf(`,"ExclusiveStartKey":{"pk":{"S":%q}}`, path(lek, "pk.S"))
	}
	if len(seen) != 10 {
		t.Errorf("scan saw %d items", len(seen))
	}
	total := 0
	for seg := range 3 {
		r := h.ok("Scan", fmt.Sprintf(`{"TableName":"hash","Segment":%d,"TotalSegments":3,"Select":"COUNT","FilterExpression":"category = :c","ExpressionAttributeValues":{":c":{"S":"odd"}}}`, seg))
		if _, ok := r.body["Items"]; ok {
			t.Errorf("COUNT scan returned Items: %s", r.raw)
		}
		total += int(r.body["Count"].(float64))
	}
	if total != 5 {
		t.Errorf("segments counted %d odd items, want 5", total)
	}
	// Legacy parameters: KeyConditions with QueryFilter, ScanFilter.
	r = h.ok("Query", `{"TableName":"composite","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]},
		"sk":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"S":"002"},{"S":"006"}]}},
		"QueryFilter":{"category":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"odd"}]}},"ScanIndexForward":false,"AttributesToGet":["sk"]}`)
	if r.raw != `{"Items":[{"sk":{"S":"005"}},{"sk":{"S":"003"}}],"Count":2,"ScannedCount":5}` {
		t.Errorf("KeyConditions: %s", r.raw)
	}
	r = h.ok("Scan", `{"TableName":"hash","Select":"COUNT","ScanFilter":{"category":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"odd"}]},
		"pk":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"h"}]}},"ConditionalOperator":"AND"}`)
	if r.raw != `{"Count":5,"ScannedCount":10}` {
		t.Errorf("ScanFilter: %s", r.raw)
	}
	r = h.ok("Scan", `{"TableName":"hash","AttributesToGet":["category"],"Limit":1}`)
	if got := path(r.body, "Items.0"); fmt.Sprint(got) != "map[category:map[S:even]]" && fmt.Sprint(got) != "map[category:map[S:odd]]" {
		t.Errorf("AttributesToGet: %s", r.raw)
	}
}

func TestQueryFilterOnKey(t *testing.T) {
	h := newHarness(t).withSharedTables()
	for _, tc := range []struct{ body, want string }{
		{`{"TableName":"composite","KeyConditionExpression":"pk = :p","FilterExpression":"sk > :v","ExpressionAttributeValues":{":p":{"S":"a"},":v":{"S":"b"}}}`,
			"Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
		{`{"TableName":"composite","KeyConditionExpression":"pk = :p","FilterExpression":"attribute_exists(#k) AND x = :v","ExpressionAttributeNames":{"#k":"pk"},"ExpressionAttributeValues":{":p":{"S":"a"},":v":{"S":"b"}}}`,
			"Filter Expression can only contain non-primary key attributes: Primary key attribute: pk"},
		{`{"TableName":"composite","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"QueryFilter":{"sk":{"ComparisonOperator":"NOT_NULL"}}}`,
			"QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"},
	} {
		r := h.call("Query", tc.body)
		if r.status != 400 || r.errType() != "ValidationException" || r.message() != tc.want {
			t.Errorf("%s: got %d %s", tc.body, r.status, r.raw)
		}
	}
	// Scan may filter on key attributes.
	h.ok("Scan", `{"TableName":"composite","FilterExpression":"sk > :v","ExpressionAttributeValues":{":v":{"S":"b"}}}`)
}
