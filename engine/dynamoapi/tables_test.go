package dynamoapi

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	vex = "ValidationException"
	rnf = "ResourceNotFoundException"
)

// ct builds a CreateTable body from JSON members added to a valid
// hash-table request (later members replace earlier ones).
func ct(members string) string {
	base := `"TableName":"t_valid","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],` +
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}`
	if members == "" {
		return "{" + base + "}"
	}
	return "{" + base + "," + members + "}"
}

func TestCreateTableErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	a256 := strings.Repeat("a", 256)
	lsi := func(name, hash, rng string) string {
		return fmt.Sprintf(`{"IndexName":%q,"KeySchema":[{"AttributeName":%q,"KeyType":"HASH"},{"AttributeName":%q,"KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}`, name, hash, rng)
	}
	composite := `"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"lsiSk","AttributeType":"N"}],` +
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null`
	runErrCases(t, h, []errCase{
		// tier3/error-messages/createTable.test.ts (exact).
		{"missing TableName", "CreateTable", `{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`,
			vex, "The parameter 'TableName' is required but was not present in the request"},
		{"short name", "CreateTable", ct(`"TableName":"ab"`), vex,
			"1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		// Recorded from DynamoDB: the GSIs' errors before the LSIs'.
		{"short index names", "CreateTable", `{"TableName":"shortix",` + composite + `,"LocalSecondaryIndexes":[` + lsi("aa", "pk", "lsiSk") +
			`],"GlobalSecondaryIndexes":[{"IndexName":"zz","KeySchema":[{"AttributeName":"lsiSk","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}`, vex,
			"2 validation errors detected: Value 'zz' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
				"Value 'aa' at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"duplicate key attribute", "CreateTable", ct(`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"pk","KeyType":"RANGE"}]`), vex,
			"Invalid KeySchema: Some index key attribute have no definition"},
		{"three key elements", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"extra","AttributeType":"S"}],` +
			`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"},{"AttributeName":"extra","KeyType":"RANGE"}]`), vex,
			"1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=extra, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2"},
		{"invalid KeyType", "CreateTable", ct(`"KeySchema":[{"AttributeName":"pk","KeyType":"INVALID"}]`), vex,
			"1 validation error detected: Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"},
		{"invalid AttributeType", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"INVALID"}]`), vex,
			"1 validation error detected: Value 'INVALID' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"},
		{"LSI on hash-only table", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"lsiSk","AttributeType":"S"}],"LocalSecondaryIndexes":[` + lsi("lsi1", "pk", "lsiSk") + `]`), vex,
			"One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"},
		{"duplicate index names", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"gsiPk1","AttributeType":"S"},{"AttributeName":"gsiPk2","AttributeType":"S"}],` +
			`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"GlobalSecondaryIndexes":[` +
			`{"IndexName":"sameIndex","KeySchema":[{"AttributeName":"gsiPk1","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}},` +
			`{"IndexName":"sameIndex","KeySchema":[{"AttributeName":"gsiPk2","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}]`), vex,
			"One or more parameter values were invalid: Duplicate index name: sameIndex"},

		// tier1/createTable/basic.test.ts (name only asserted; messages [ref]).
		{"name too long", "CreateTable", ct(`"TableName":"` + a256 + `"`), vex,
			"1 validation error detected: Value '" + a256 + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"name pattern", "CreateTable", ct(`"TableName":"invalid;name"`), vex,
			"1 validation error detected: Value 'invalid;name' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"existing table", "CreateTable", ct(`"TableName":"hash","BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null`), "ResourceInUseException",
			"Table already exists: hash"},
		{"empty KeySchema", "CreateTable", ct(`"KeySchema":[]`), vex,
			"1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"unused definition", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"extra","AttributeType":"N"}]`), vex,
			"One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},

		// tier1/createTable/lsi.test.ts.
		{"LSI with other hash key", "CreateTable", ct(composite + `,"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"other","AttributeType":"S"},{"AttributeName":"lsiSk","AttributeType":"N"}],` +
			`"LocalSecondaryIndexes":[` + lsi("lsi1", "other", "lsiSk") + `]`), vex,
			"One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: lsi1. index hash key: other, table hash key: pk"},

		// tier3/validation-ordering/createTable.test.ts: the name is reported alone.
		{"empty name reported alone", "CreateTable", `{"TableName":"","KeySchema":[],"AttributeDefinitions":[]}`, vex,
			"2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"bad pattern reported alone", "CreateTable", `{"TableName":"x!","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[]}`, vex,
			"2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value 'x!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"billing mode and key type aggregated", "CreateTable", `{"TableName":"_conformance_valid_table_name","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"INVALID"}],"BillingMode":"INVALID_MODE"}`, vex,
			"2 validation errors detected: Value 'INVALID_MODE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]; " +
				"Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"},
		{"key type wins over missing throughput", "CreateTable", `{"TableName":"_conformance_valid_table_name","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"INVALID"}],"BillingMode":"PROVISIONED"}`, vex,
			"1 validation error detected: Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"},

		// Billing and throughput [ref].
		{"throughput with on-demand", "CreateTable", ct(`"BillingMode":"PAY_PER_REQUEST"`), vex,
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"provisioned without throughput", "CreateTable", ct(`"ProvisionedThroughput":null`), vex,
			"One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{"zero throughput", "CreateTable", ct(`"ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":5}`), vex,
			"1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"throughput out of bounds", "CreateTable", ct(`"ProvisionedThroughput":{"ReadCapacityUnits":1000000000001,"WriteCapacityUnits":5}`), vex,
			"Given value 1000000000001 for ReadCapacityUnits is out of bounds"},
		{"undefined key", "CreateTable", ct(`"KeySchema":[{"AttributeName":"other","KeyType":"HASH"}]`), vex,
			"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [other], AttributeDefinitions: [pk]"},
		{"first key not HASH", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"RANGE"},{"AttributeName":"sk","KeyType":"HASH"}]`), vex,
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{"GSI throughput on demand", "CreateTable", ct(`"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null,"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}]`), vex,
			"One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: gsi when BillingMode is PAY_PER_REQUEST"},
		{"GSI without throughput on provisioned table", "CreateTable", ct(`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]`), vex,
			"One or more parameter values were invalid: ProvisionedThroughput must be specified for index: gsi"},
		{"short index name", "CreateTable", ct(`"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null,"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexes":[{"IndexName":"g1","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]`), vex,
			"1 validation error detected: Value 'g1' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"unused definition with index", "CreateTable", ct(`"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null,"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"},{"AttributeName":"x","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]`), vex,
			"One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [pk, g, x], keys used: [pk, g]"},
		{"NonKeyAttributes without INCLUDE", "CreateTable", ct(`"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":null,"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],` +
			`"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL","NonKeyAttributes":["a"]}}]`), vex,
			"One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified"},
		{"stream without view type", "CreateTable", ct(`"StreamSpecification":{"StreamEnabled":true}`), vex, "~StreamViewType"},
		{"bad stream view type", "CreateTable", ct(`"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"ALL"}`), vex,
			"1 validation error detected: Value 'ALL' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"},
		{"bad table class", "CreateTable", ct(`"TableClass":"COLD"`), vex,
			"1 validation error detected: Value 'COLD' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]"},
		{"wrong JSON type", "CreateTable", ct(`"ProvisionedThroughput":5`), "SerializationException", ""},
	})
}

func TestCreateAndDescribeTable(t *testing.T) {
	h := newHarness(t).withSharedTables()

	// tier1/describeTable/basic.test.ts.
	d := h.ok("DescribeTable", `{"TableName":"hash"}`).body
	for p, want := range map[string]any{
		"Table.TableName":                                    "hash",
		"Table.TableStatus":                                  "ACTIVE",
		"Table.KeySchema":                                    []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"Table.AttributeDefinitions":                         []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
		"Table.TableArn":                                     "arn:aws:dynamodb:us-east-1:000000000000:table/hash",
		"Table.CreationDateTime":                             float64(clock.UnixMilli()) / 1000,
		"Table.ItemCount":                                    0.0,
		"Table.TableSizeBytes":                               0.0,
		"Table.ProvisionedThroughput.ReadCapacityUnits":      5.0,
		"Table.ProvisionedThroughput.WriteCapacityUnits":     5.0,
		"Table.ProvisionedThroughput.NumberOfDecreasesToday": 0.0,
		"Table.BillingModeSummary":                           nil, // provisioned by default: no summary
		"Table.DeletionProtectionEnabled":                    false,
	} {
		if got := path(d, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}
	if id, _ := path(d, "Table.TableId").(string); len(id) != 36 {
		t.Errorf("TableId %q is not a UUID", id)
	}

	d = h.ok("DescribeTable", `{"TableName":"hashN"}`).body
	for p, want := range map[string]any{
		"Table.BillingModeSummary.BillingMode":                       "PAY_PER_REQUEST",
		"Table.BillingModeSummary.LastUpdateToPayPerRequestDateTime": float64(clock.UnixMilli()) / 1000,
		"Table.ProvisionedThroughput.ReadCapacityUnits":              0.0,
		"Table.ProvisionedThroughput.WriteCapacityUnits":             0.0,
	} {
		if got := path(d, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}

	d = h.ok("DescribeTable", `{"TableName":"composite"}`).body
	if n := len(path(d, "Table.LocalSecondaryIndexes").([]any)); n != 2 {
		t.Errorf("%d LSIs, want 2", n)
	}
	if n := len(path(d, "Table.GlobalSecondaryIndexes").([]any)); n != 2 {
		t.Errorf("%d GSIs, want 2", n)
	}
	for p, want := range map[string]any{
		"Table.LocalSecondaryIndexes.0.IndexName":                                "lsi1",
		"Table.LocalSecondaryIndexes.0.IndexArn":                                 "arn:aws:dynamodb:us-east-1:000000000000:table/composite/index/lsi1",
		"Table.LocalSecondaryIndexes.0.IndexSizeBytes":                           0.0,
		"Table.LocalSecondaryIndexes.0.ItemCount":                                0.0,
		"Table.LocalSecondaryIndexes.1.Projection.NonKeyAttributes":              []any{"lsi1sk"},
		"Table.GlobalSecondaryIndexes.0.IndexStatus":                             "ACTIVE",
		"Table.GlobalSecondaryIndexes.1.KeySchema.1.AttributeName":               "lsi2sk",
		"Table.GlobalSecondaryIndexes.1.Projection.ProjectionType":               "INCLUDE",
		"Table.GlobalSecondaryIndexes.1.ProvisionedThroughput.ReadCapacityUnits": 5.0,
		"Table.GlobalSecondaryIndexes.1.IndexArn":                                "arn:aws:dynamodb:us-east-1:000000000000:table/composite/index/gsi2",
	} {
		if got := path(d, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}

	// Everything else CreateTable takes is stored and described.
	r := h.ok("CreateTable", ct(`"TableName":"full","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"},`+
		`"DeletionProtectionEnabled":true,"TableClass":"STANDARD_INFREQUENT_ACCESS","Tags":[{"Key":"env","Value":"test"}]`))
	for p, want := range map[string]any{
		"TableDescription.TableStatus":                        "ACTIVE",
		"TableDescription.StreamSpecification.StreamEnabled":  true,
		"TableDescription.StreamSpecification.StreamViewType": "NEW_AND_OLD_IMAGES",
		"TableDescription.LatestStreamLabel":                  "2026-03-01T12:00:00.250",
		"TableDescription.LatestStreamArn":                    "arn:aws:dynamodb:us-east-1:000000000000:table/full/stream/2026-03-01T12:00:00.250",
		"TableDescription.DeletionProtectionEnabled":          true,
		"TableDescription.TableClassSummary.TableClass":       "STANDARD_INFREQUENT_ACCESS",
	} {
		if got := path(r.body, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}
	if got := h.ok("ListTagsOfResource", `{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/full"}`).raw; got != `{"Tags":[{"Key":"env","Value":"test"}]}` {
		t.Errorf("tags from CreateTable: %s", got)
	}

	runErrCases(t, h, []errCase{
		{"describe missing table", "DescribeTable", `{"TableName":"_conformance_nonexistent_table"}`, rnf,
			"Requested resource not found: Table: _conformance_nonexistent_table not found"},
		{"describe without name", "DescribeTable", `{}`, vex, msgNameRequired},
		{"describe bad name", "DescribeTable", `{"TableName":"x!"}`, vex,
			"1 validation error detected: Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
	})
}

func TestListTables(t *testing.T) {
	h := newHarness(t).withSharedTables()
	all := []string{"composite", "compositeB", "compositeN", "hash", "hashN"}
	if got := path(h.ok("ListTables", `{}`).body, "TableNames"); !reflect.DeepEqual(got, toAny(all)) {
		t.Fatalf("ListTables = %v, want %v", got, all)
	}
	// Paginate one by one, as cleanupAllTables does; it must end.
	var seen []string
	start := ""
	for range 10 {
		body := `{"Limit":2}`
		if start != "" {
			body = fmt.Sprintf(`{"Limit":2,"ExclusiveStartTableName":%q}`, start)
		}
		r := h.ok("ListTables", body)
		for _, n := range r.body["TableNames"].([]any) {
			seen = append(seen, n.(string))
		}
		last, ok := r.body["LastEvaluatedTableName"].(string)
		if !ok {
			break
		}
		start = last
	}
	if !reflect.DeepEqual(seen, all) {
		t.Errorf("paginated: %v, want %v", seen, all)
	}
	if got := h.ok("ListTables", `{"ExclusiveStartTableName":"hashN"}`).raw; got != `{"TableNames":[]}` {
		t.Errorf("after the last: %s", got)
	}
	if got := h.ok("ListTables", `{"ExclusiveStartTableName":"compositeZ","Limit":1}`).raw; got != `{"TableNames":["hash"],"LastEvaluatedTableName":"hash"}` {
		t.Errorf("from a missing name: %s", got)
	}
	runErrCases(t, h, []errCase{
		{"limit zero", "ListTables", `{"Limit":0}`, vex,
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"limit and start", "ListTables", `{"Limit":101,"ExclusiveStartTableName":"a!"}`, vex,
			"3 validation errors detected: Value 'a!' at 'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value 'a!' at 'exclusiveStartTableName' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
				"Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"},
	})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func TestDeleteTable(t *testing.T) {
	h := newHarness(t).withSharedTables()
	r := h.ok("DeleteTable", `{"TableName":"hashN"}`)
	if got := path(r.body, "TableDescription.TableName"); got != "hashN" {
		t.Errorf("TableName = %v", got)
	}
	if got := path(r.body, "TableDescription.TableStatus"); got != "DELETING" {
		t.Errorf("TableStatus = %v", got)
	}
	h.ok("CreateTable", ct(`"TableName":"protected","DeletionProtectionEnabled":true`))
	runErrCases(t, h, []errCase{
		{"gone", "DescribeTable", `{"TableName":"hashN"}`, rnf, "Requested resource not found: Table: hashN not found"},
		{"missing", "DeleteTable", `{"TableName":"_conformance_nonexistent_table"}`, rnf,
			"Requested resource not found: Table: _conformance_nonexistent_table not found"},
		{"protected", "DeleteTable", `{"TableName":"protected"}`, vex,
			"Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."},
	})
	for _, n := range path(h.ok("ListTables", `{}`).body, "TableNames").([]any) {
		if n == "hashN" {
			t.Error("deleted table still listed")
		}
	}
	h.ok("UpdateTable", `{"TableName":"protected","DeletionProtectionEnabled":false}`)
	h.ok("DeleteTable", `{"TableName":"protected"}`)
}

func TestUpdateTable(t *testing.T) {
	h := newHarness(t).withSharedTables()
	later := float64(clock.Add(time.Hour).UnixMilli()) / 1000

	// tier1/updateTable/basic.test.ts.
	r := h.ok("UpdateTable", `{"TableName":"hash","ProvisionedThroughput":{"ReadCapacityUnits":20,"WriteCapacityUnits":15}}`)
	for p, want := range map[string]any{
		"TableDescription.ProvisionedThroughput.ReadCapacityUnits":    20.0,
		"TableDescription.ProvisionedThroughput.WriteCapacityUnits":   15.0,
		"TableDescription.ProvisionedThroughput.LastIncreaseDateTime": later,
	} {
		if got := path(r.body, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}
	r = h.ok("UpdateTable", `{"TableName":"hash","ProvisionedThroughput":{"ReadCapacityUnits":10,"WriteCapacityUnits":15}}`)
	if got := path(r.body, "TableDescription.ProvisionedThroughput.NumberOfDecreasesToday"); got != 1.0 {
		t.Errorf("NumberOfDecreasesToday = %v", got)
	}
	h.ok("UpdateTable", `{"TableName":"hashN","BillingMode":"PAY_PER_REQUEST"}`) // no-op accepted
	r = h.ok("UpdateTable", `{"TableName":"compositeN","BillingMode":"PAY_PER_REQUEST"}`)
	for p, want := range map[string]any{
		"TableDescription.BillingModeSummary.BillingMode":                       "PAY_PER_REQUEST",
		"TableDescription.BillingModeSummary.LastUpdateToPayPerRequestDateTime": later,
		"TableDescription.ProvisionedThroughput.ReadCapacityUnits":              0.0,
		"TableDescription.TableStatus":                                          "ACTIVE",
	} {
		if got := path(r.body, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", p, got, want)
		}
	}
	r = h.ok("UpdateTable", `{"TableName":"compositeN","BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`)
	if got := path(r.body, "TableDescription.BillingModeSummary.BillingMode"); got != "PROVISIONED" {
		t.Errorf("BillingMode = %v", got)
	}
	d := h.ok("DescribeTable", `{"TableName":"compositeN"}`).body
	if got := path(d, "Table.ProvisionedThroughput.WriteCapacityUnits"); got != 5.0 {
		t.Errorf("WriteCapacityUnits = %v", got)
	}
	r = h.ok("UpdateTable", `{"TableName":"compositeB","TableClass":"STANDARD_INFREQUENT_ACCESS"}`)
	if got := path(r.body, "TableDescription.TableClassSummary.TableClass"); got != "STANDARD_INFREQUENT_ACCESS" {
		t.Errorf("TableClass = %v", got)
	}

	runErrCases(t, h, []errCase{
		{"no change", "UpdateTable", `{"TableName":"compositeB","BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`, vex,
			"The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."},
		{"missing table", "UpdateTable", `{"TableName":"_conformance_nonexistent_table","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`, rnf,
			"Requested resource not found: Table: _conformance_nonexistent_table not found"},
		{"zero read units before lookup", "UpdateTable", `{"TableName":"_conformance_nonexistent_table","ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":5}}`, vex,
			"1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"throughput with on-demand", "UpdateTable", `{"TableName":"compositeB","BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`, vex,
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"throughput on on-demand table", "UpdateTable", `{"TableName":"hashN","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`, vex,
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"provisioned without throughput", "UpdateTable", `{"TableName":"hashN","BillingMode":"PROVISIONED"}`, vex,
			"One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED"},
		{"nothing to update", "UpdateTable", `{"TableName":"hash"}`, vex, msgNothingToUpdate},
		{"bad billing mode", "UpdateTable", `{"TableName":"hash","BillingMode":"X"}`, vex,
			"1 validation error detected: Value 'X' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
		{"out of bounds", "UpdateTable", `{"TableName":"hash","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":1000000000001}}`, vex,
			"Given value 1000000000001 for WriteCapacityUnits is out of bounds"},
		{"empty GSI updates", "UpdateTable", `{"TableName":"hash","GlobalSecondaryIndexUpdates":[]}`, vex, msgNothingToUpdate},
		{"two GSI updates", "UpdateTable", `{"TableName":"hash","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"abc"}},{"Delete":{"IndexName":"def"}}]}`,
			"LimitExceededException", msgOneGSIUpdate},
		{"delete unknown GSI", "UpdateTable", `{"TableName":"hash","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"abc"}}]}`,
			"ResourceNotFoundException", "Requested resource not found: Index: abc not found"},
	})
}
