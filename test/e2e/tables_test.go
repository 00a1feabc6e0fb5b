package e2e

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func wantKeySchema(t *testing.T, got, want []types.KeySchemaElement) {
	t.Helper()
	if !reflect.DeepEqual(ksText(got), ksText(want)) {
		t.Errorf("KeySchema = %v, want %v", ksText(got), ksText(want))
	}
}

func ksText(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return out
}

func adText(ad []types.AttributeDefinition) []string {
	var out []string
	for _, a := range ad {
		out = append(out, aws.ToString(a.AttributeName)+" "+string(a.AttributeType))
	}
	return out
}

// checkCommon checks the fields every description of a fresh table has.
func checkCommon(t *testing.T, d *types.TableDescription, name string, before time.Time) {
	t.Helper()
	if got := aws.ToString(d.TableName); got != name {
		t.Errorf("TableName = %q, want %q", got, name)
	}
	if got := aws.ToString(d.TableArn); got != arnPrefix+name {
		t.Errorf("TableArn = %q, want %q", got, arnPrefix+name)
	}
	if !uuidRE.MatchString(aws.ToString(d.TableId)) {
		t.Errorf("TableId = %q, want a UUID", aws.ToString(d.TableId))
	}
	if d.TableStatus != types.TableStatusActive {
		t.Errorf("TableStatus = %q, want ACTIVE", d.TableStatus)
	}
	if d.CreationDateTime == nil {
		t.Errorf("CreationDateTime missing")
	} else if c := *d.CreationDateTime; c.Before(before.Add(-2*time.Second)) || c.After(time.Now().Add(2*time.Second)) {
		t.Errorf("CreationDateTime = %v, want about %v", c, before)
	}
	if d.ItemCount == nil || d.TableSizeBytes == nil {
		t.Errorf("ItemCount (%v) and TableSizeBytes (%v) must be present", d.ItemCount, d.TableSizeBytes)
	}
	if d.DeletionProtectionEnabled == nil {
		t.Errorf("DeletionProtectionEnabled missing (DynamoDB sends false)")
	}
}

func wantPT(t *testing.T, d *types.TableDescription, r, w int64) {
	t.Helper()
	if d.ProvisionedThroughput == nil {
		t.Errorf("ProvisionedThroughput missing, want %d/%d", r, w)
		return
	}
	if got := [2]int64{aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)}; got != [2]int64{r, w} {
		t.Errorf("ProvisionedThroughput = %v, want %d/%d", got, r, w)
	}
}

func TestCreateDescribeTable(t *testing.T) {
	e := start(t)
	before := time.Now()

	t.Run("HashOnlyProvisioned", func(t *testing.T) {
		out := must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:             aws.String("hash_prov"),
			KeySchema:             keySchema("pk"),
			AttributeDefinitions:  attrDefs("pk", "S"),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)},
		}))(t)
		if out.TableDescription == nil {
			t.Fatal("CreateTable: no TableDescription")
		}
		checkCommon(t, out.TableDescription, "hash_prov", before)
		d := e.describe(t, "hash_prov")
		checkCommon(t, d, "hash_prov", before)
		wantKeySchema(t, d.KeySchema, keySchema("pk"))
		if got := adText(d.AttributeDefinitions); !slices.Equal(got, []string{"pk S"}) {
			t.Errorf("AttributeDefinitions = %v", got)
		}
		wantPT(t, d, 5, 7)
		if aws.ToInt64(d.ItemCount) != 0 || aws.ToInt64(d.TableSizeBytes) != 0 {
			t.Errorf("new table: ItemCount %d, TableSizeBytes %d, want 0, 0", aws.ToInt64(d.ItemCount), aws.ToInt64(d.TableSizeBytes))
		}
		if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
			t.Errorf("BillingModeSummary = %v, want absent or PROVISIONED", d.BillingModeSummary.BillingMode)
		}
		if aws.ToString(out.TableDescription.TableId) != aws.ToString(d.TableId) {
			t.Errorf("TableId changed between CreateTable (%s) and DescribeTable (%s)", aws.ToString(out.TableDescription.TableId), aws.ToString(d.TableId))
		}
	})

	t.Run("CompositePayPerRequest", func(t *testing.T) {
		e.createComposite(t, "comp_ppr", "N")
		d := e.describe(t, "comp_ppr")
		checkCommon(t, d, "comp_ppr", before)
		wantKeySchema(t, d.KeySchema, keySchema("pk", "sk"))
		if got := adText(d.AttributeDefinitions); !slices.Equal(got, []string{"pk S", "sk N"}) {
			t.Errorf("AttributeDefinitions = %v", got)
		}
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("BillingModeSummary = %+v, want PAY_PER_REQUEST", d.BillingModeSummary)
		}
		wantPT(t, d, 0, 0)
	})

	t.Run("KeyOrderAsRequested", func(t *testing.T) {
		// RANGE listed first in AttributeDefinitions: the description keeps
		// the request's order.
		must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("order_kept"),
			KeySchema:            keySchema("h", "r"),
			AttributeDefinitions: attrDefs("r", "B", "h", "N"),
			BillingMode:          types.BillingModePayPerRequest,
		}))(t)
		d := e.describe(t, "order_kept")
		if got := adText(d.AttributeDefinitions); !slices.Equal(got, []string{"r B", "h N"}) {
			t.Errorf("AttributeDefinitions = %v, want request order [r B, h N]", got)
		}
	})

	t.Run("Indexes", func(t *testing.T) {
		must(e.db.CreateTable(e.ctx, conformanceComposite("with_idx")))(t)
		d := e.describe(t, "with_idx")
		checkCommon(t, d, "with_idx", before)
		if got := adText(d.AttributeDefinitions); !slices.Equal(got, []string{"pk S", "sk S", "lsi1sk S", "lsi2sk S"}) {
			t.Errorf("AttributeDefinitions = %v", got)
		}
		if len(d.LocalSecondaryIndexes) != 2 {
			t.Fatalf("LocalSecondaryIndexes: %d, want 2", len(d.LocalSecondaryIndexes))
		}
		lsis := map[string]types.LocalSecondaryIndexDescription{}
		for _, l := range d.LocalSecondaryIndexes {
			lsis[aws.ToString(l.IndexName)] = l
		}
		wantKeySchema(t, lsis["lsi1"].KeySchema, keySchema("pk", "lsi1sk"))
		wantKeySchema(t, lsis["lsi2"].KeySchema, keySchema("pk", "lsi2sk"))
		if p := lsis["lsi2"].Projection; p == nil || p.ProjectionType != types.ProjectionTypeInclude || !slices.Equal(p.NonKeyAttributes, []string{"lsi1sk"}) {
			t.Errorf("lsi2 Projection = %+v, want INCLUDE [lsi1sk]", p)
		}
		if got := aws.ToString(lsis["lsi1"].IndexArn); got != arnPrefix+"with_idx/index/lsi1" {
			t.Errorf("lsi1 IndexArn = %q", got)
		}
		if len(d.GlobalSecondaryIndexes) != 2 {
			t.Fatalf("GlobalSecondaryIndexes: %d, want 2", len(d.GlobalSecondaryIndexes))
		}
		for _, g := range d.GlobalSecondaryIndexes {
			name := aws.ToString(g.IndexName)
			if g.IndexStatus != types.IndexStatusActive {
				t.Errorf("GSI %s IndexStatus = %q, want ACTIVE", name, g.IndexStatus)
			}
			if g.Projection == nil {
				t.Errorf("GSI %s: no Projection", name)
			}
			if g.ProvisionedThroughput == nil || aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits) != 5 {
				t.Errorf("GSI %s ProvisionedThroughput = %+v, want 5/5", name, g.ProvisionedThroughput)
			}
			if got := aws.ToString(g.IndexArn); got != arnPrefix+"with_idx/index/"+name {
				t.Errorf("GSI %s IndexArn = %q", name, got)
			}
			switch name {
			case "gsi1":
				wantKeySchema(t, g.KeySchema, keySchema("lsi1sk"))
			case "gsi2":
				wantKeySchema(t, g.KeySchema, keySchema("lsi1sk", "lsi2sk"))
				if !slices.Equal(g.Projection.NonKeyAttributes, []string{"data"}) {
					t.Errorf("gsi2 NonKeyAttributes = %v", g.Projection.NonKeyAttributes)
				}
			default:
				t.Errorf("unexpected GSI %q", name)
			}
		}
	})

	t.Run("OnDemandGSIWithoutThroughput", func(t *testing.T) {
		must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("gsi_ondemand"),
			KeySchema:            keySchema("pk"),
			AttributeDefinitions: attrDefs("pk", "S", "gsiPk", "S", "gsiSk", "N"),
			BillingMode:          types.BillingModePayPerRequest,
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName: aws.String("gsi1"), KeySchema: keySchema("gsiPk", "gsiSk"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			}},
		}))(t)
		d := e.describe(t, "gsi_ondemand")
		if len(d.GlobalSecondaryIndexes) != 1 || d.GlobalSecondaryIndexes[0].Projection.ProjectionType != types.ProjectionTypeKeysOnly {
			t.Errorf("GlobalSecondaryIndexes = %+v", d.GlobalSecondaryIndexes)
		}
	})

	t.Run("StreamTagsProtectionClass", func(t *testing.T) {
		must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:                 aws.String("streamed"),
			KeySchema:                 keySchema("pk"),
			AttributeDefinitions:      attrDefs("pk", "S"),
			BillingMode:               types.BillingModePayPerRequest,
			StreamSpecification:       &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
			Tags:                      []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}},
			DeletionProtectionEnabled: aws.Bool(true),
			TableClass:                types.TableClassStandardInfrequentAccess,
		}))(t)
		d := e.describe(t, "streamed")
		if s := d.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
			t.Errorf("StreamSpecification = %+v", s)
		}
		label := aws.ToString(d.LatestStreamLabel)
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$`).MatchString(label) {
			t.Errorf("LatestStreamLabel = %q, want an ISO-8601 timestamp with milliseconds", label)
		}
		if got := aws.ToString(d.LatestStreamArn); got != arnPrefix+"streamed/stream/"+label {
			t.Errorf("LatestStreamArn = %q, want %q", got, arnPrefix+"streamed/stream/"+label)
		}
		if !aws.ToBool(d.DeletionProtectionEnabled) {
			t.Errorf("DeletionProtectionEnabled = %v, want true", d.DeletionProtectionEnabled)
		}
		if d.TableClassSummary == nil || d.TableClassSummary.TableClass != types.TableClassStandardInfrequentAccess {
			t.Errorf("TableClassSummary = %+v, want STANDARD_INFREQUENT_ACCESS", d.TableClassSummary)
		}
		tags := must(e.db.ListTagsOfResource(e.ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: d.TableArn}))(t)
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "test" {
			t.Errorf("Tags = %+v, want [env=test]", tags.Tags)
		}
		// Without a stream: no StreamSpecification, no LatestStreamArn.
		d2 := e.describe(t, "hash_prov")
		if d2.LatestStreamArn != nil || (d2.StreamSpecification != nil && aws.ToBool(d2.StreamSpecification.StreamEnabled)) {
			t.Errorf("table without a stream: LatestStreamArn %v, StreamSpecification %+v", aws.ToString(d2.LatestStreamArn), d2.StreamSpecification)
		}
	})

	t.Run("ItemCountAndSize", func(t *testing.T) {
		e.createHash(t, "counted")
		// Size = name bytes + value bytes per attribute (S: UTF-8 length).
		e.put(t, "counted", item{"pk": sv("a"), "data": sv(strings.Repeat("x", 100))}) // 2+1+4+100 = 107
		e.put(t, "counted", item{"pk": sv("bb"), "n": sv("yy")})                       // 2+2+1+2 = 7
		e.put(t, "counted", item{"pk": sv("c")})                                       // 3
		e.put(t, "counted", item{"pk": sv("c"), "z": sv("")})                          // replaces: 2+1+1+0 = 4
		d := e.describe(t, "counted")
		if got := aws.ToInt64(d.ItemCount); got != 3 {
			t.Errorf("ItemCount = %d, want 3", got)
		}
		if got := aws.ToInt64(d.TableSizeBytes); got != 107+7+4 {
			t.Errorf("TableSizeBytes = %d, want %d", got, 107+7+4)
		}
		e.del(t, "counted", item{"pk": sv("bb")})
		d = e.describe(t, "counted")
		if aws.ToInt64(d.ItemCount) != 2 || aws.ToInt64(d.TableSizeBytes) != 111 {
			t.Errorf("after delete: ItemCount %d, TableSizeBytes %d, want 2, 111", aws.ToInt64(d.ItemCount), aws.ToInt64(d.TableSizeBytes))
		}
	})

	t.Run("DescribeMissing", func(t *testing.T) {
		_, err := e.db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String("no_such_table")})
		var rnf *types.ResourceNotFoundException
		if !errorsAs(err, &rnf) {
			t.Errorf("DescribeTable of a missing table: %v, want *types.ResourceNotFoundException", err)
		}
		wantErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: no_such_table not found", ref)
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		_, err := e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName: aws.String("hash_prov"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"),
			BillingMode: types.BillingModePayPerRequest,
		})
		var riu *types.ResourceInUseException
		if !errorsAs(err, &riu) {
			t.Errorf("CreateTable of an existing table: %v, want *types.ResourceInUseException", err)
		}
		wantErr(t, err, "ResourceInUseException", "Table already exists: hash_prov", ref)
	})
}

func TestCreateTableValidation(t *testing.T) {
	e := start(t)
	ppr := types.BillingModePayPerRequest
	pt55 := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	long := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name string
		in   dynamodb.CreateTableInput
		code string
		msg  string
		src  string
	}{
		{"NameTooShort", dynamodb.CreateTableInput{TableName: aws.String("ab"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3", suite},
		{"NameTooLong", dynamodb.CreateTableInput{TableName: aws.String(long), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value '" + long + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255", ref},
		{"NameBadChars", dynamodb.CreateTableInput{TableName: aws.String("invalid;name"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value 'invalid;name' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", ref},
		{"NameEmpty", dynamodb.CreateTableInput{TableName: aws.String(""), KeySchema: []types.KeySchemaElement{}, AttributeDefinitions: []types.AttributeDefinition{}},
			"ValidationException", "2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3", ref},
		{"NameShortAndBad", dynamodb.CreateTableInput{TableName: aws.String("x!"), KeySchema: []types.KeySchemaElement{}, AttributeDefinitions: attrDefs("pk", "S")},
			"ValidationException", "2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'x!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3", ref},
		{"KeySchemaEmpty", dynamodb.CreateTableInput{TableName: aws.String("ks_empty"), KeySchema: []types.KeySchemaElement{}, AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1", ref},
		{"ExtraAttributeDefinition", dynamodb.CreateTableInput{TableName: aws.String("extra_def"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S", "extra", "N"), BillingMode: ppr},
			"ValidationException", "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions", ref},
		{"SameNameHashRange", dynamodb.CreateTableInput{TableName: aws.String("same_name"), KeySchema: keySchema("pk", "pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "Invalid KeySchema: Some index key attribute have no definition", suite},
		{"ThreeKeys", dynamodb.CreateTableInput{TableName: aws.String("three_keys"),
			KeySchema:            append(keySchema("pk", "sk"), types.KeySchemaElement{AttributeName: aws.String("extra"), KeyType: types.KeyTypeRange}),
			AttributeDefinitions: attrDefs("pk", "S", "sk", "S", "extra", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=extra, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2", suite},
		{"BadKeyType", dynamodb.CreateTableInput{TableName: aws.String("bad_kt"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: "INVALID"}}, AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", suite},
		{"BadAttributeType", dynamodb.CreateTableInput{TableName: aws.String("bad_at"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "INVALID"), BillingMode: ppr},
			"ValidationException", "1 validation error detected: Value 'INVALID' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", suite},
		{"BadKeyTypeAndBillingMode", dynamodb.CreateTableInput{TableName: aws.String("bad_two"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: "INVALID"}}, AttributeDefinitions: attrDefs("pk", "S"), BillingMode: "INVALID_MODE"},
			"ValidationException", "2 validation errors detected: Value 'INVALID_MODE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]; Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", ref},
		{"LSIOnHashOnly", dynamodb.CreateTableInput{TableName: aws.String("lsi_hash"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S", "x", "S"), BillingMode: ppr,
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsi1"), KeySchema: keySchema("pk", "x"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}},
			"ValidationException", "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex", suite},
		{"LSIOtherHash", dynamodb.CreateTableInput{TableName: aws.String("lsi_other"), KeySchema: keySchema("pk", "sk"), AttributeDefinitions: attrDefs("pk", "S", "sk", "S", "other", "S", "x", "S"), BillingMode: ppr,
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsi1"), KeySchema: keySchema("other", "x"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}},
			"ValidationException", "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: lsi1. index hash key: other, table hash key: pk", ref},
		{"DuplicateIndexName", dynamodb.CreateTableInput{TableName: aws.String("dup_idx"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S", "a", "S", "b", "S"), BillingMode: ppr,
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				{IndexName: aws.String("sameIndex"), KeySchema: keySchema("a"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
				{IndexName: aws.String("sameIndex"), KeySchema: keySchema("b"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			}},
			"ValidationException", "One or more parameter values were invalid: Duplicate index name: sameIndex", suite},
		{"PayPerRequestWithThroughput", dynamodb.CreateTableInput{TableName: aws.String("ppr_pt"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: ppr, ProvisionedThroughput: pt55},
			"ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST", ref},
		{"ProvisionedWithoutThroughput", dynamodb.CreateTableInput{TableName: aws.String("prov_nopt"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), BillingMode: types.BillingModeProvisioned},
			"ValidationException", "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED", ref},
		{"ZeroThroughput", dynamodb.CreateTableInput{TableName: aws.String("zero_pt"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(5)}},
			"ValidationException", "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", ref},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := e.db.CreateTable(e.ctx, &in)
			wantErr(t, err, tc.code, tc.msg, tc.src)
		})
	}

	t.Run("TableNameMissing", func(t *testing.T) {
		// The SDK refuses a nil TableName itself, so this goes raw.
		st, _, body := e.raw(t, "CreateTable", `{"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`, nil)
		wantRaw(t, st, body, 400, "com.amazon.coral.validate#ValidationException",
			"The parameter 'TableName' is required but was not present in the request")
	})

	// Nothing of the above was created.
	out := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{}))(t)
	if len(out.TableNames) != 0 {
		t.Errorf("failed CreateTable calls left tables behind: %v", out.TableNames)
	}
}

func TestListTables(t *testing.T) {
	e := start(t)
	names := []string{"Zeta", "_under", "alpha", "beta.1", "beta-2", "gamma"}
	for _, n := range names {
		e.createHash(t, n)
	}
	want := slices.Clone(names)
	slices.Sort(want) // byte order: upper case, then '_', then lower case

	out := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{}))(t)
	if !slices.Equal(out.TableNames, want) {
		t.Errorf("ListTables = %v, want %v", out.TableNames, want)
	}
	if out.LastEvaluatedTableName != nil {
		t.Errorf("ListTables without Limit: LastEvaluatedTableName = %q, want absent", *out.LastEvaluatedTableName)
	}

	for _, limit := range []int32{1, 2, 4, 5} {
		var got []string
		var start *string
		for pages := 0; ; pages++ {
			if pages > len(names)+1 {
				t.Fatalf("Limit %d: paging does not terminate: %v", limit, got)
			}
			p := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(limit), ExclusiveStartTableName: start}))(t)
			if len(p.TableNames) > int(limit) {
				t.Errorf("Limit %d: page of %d", limit, len(p.TableNames))
			}
			got = append(got, p.TableNames...)
			if p.LastEvaluatedTableName == nil {
				if len(got) < len(want) {
					t.Errorf("Limit %d: stopped after %v", limit, got)
				}
				break
			}
			if n := len(p.TableNames); n == 0 || aws.ToString(p.LastEvaluatedTableName) != p.TableNames[n-1] {
				t.Errorf("Limit %d: LastEvaluatedTableName %q is not the last name of %v", limit, aws.ToString(p.LastEvaluatedTableName), p.TableNames)
			}
			if len(p.TableNames) < int(limit) {
				t.Errorf("Limit %d: short page %v still has LastEvaluatedTableName", limit, p.TableNames)
			}
			start = p.LastEvaluatedTableName
		}
		if !slices.Equal(got, want) {
			t.Errorf("Limit %d: pages = %v, want %v", limit, got, want)
		}
	}

	// The start name need not exist; listing starts strictly after it.
	p := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("bar")}))(t)
	if !slices.Equal(p.TableNames, []string{"beta-2", "beta.1", "gamma"}) {
		t.Errorf("after \"bar\": %v", p.TableNames)
	}
	p = must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("alpha")}))(t)
	if !slices.Equal(p.TableNames, []string{"beta-2", "beta.1", "gamma"}) {
		t.Errorf("after \"alpha\": %v", p.TableNames)
	}

	_, err := e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(0)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", ref)
	_, err = e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", ref)
}

func TestUpdateDeleteTable(t *testing.T) {
	e := start(t)
	pt := func(r, w int64) *types.ProvisionedThroughput {
		return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}
	}
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("prov"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"), ProvisionedThroughput: pt(5, 5),
	}))(t)
	e.createHash(t, "ondemand")

	t.Run("Throughput", func(t *testing.T) {
		out := must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: pt(20, 15)}))(t)
		if out.TableDescription == nil || aws.ToString(out.TableDescription.TableName) != "prov" {
			t.Errorf("UpdateTable: TableDescription = %+v", out.TableDescription)
		}
		wantPT(t, e.describe(t, "prov"), 20, 15)
	})
	t.Run("SameThroughput", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: pt(20, 15)})
		wantErr(t, err, "ValidationException", "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 20. Requested ReadCapacityUnits: 20. Current WriteCapacityUnits provisioned for the table: 15. Requested WriteCapacityUnits: 15. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.", ref)
	})
	t.Run("ZeroThroughput", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: pt(0, 5)})
		wantErr(t, err, "ValidationException", "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", ref)
	})
	t.Run("PayPerRequestWithThroughput", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModePayPerRequest, ProvisionedThroughput: pt(5, 5)})
		wantErr(t, err, "ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST", ref)
	})
	t.Run("BadBillingMode", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: "X"})
		wantErr(t, err, "ValidationException", "1 validation error detected: Value 'X' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", ref)
	})
	t.Run("Missing", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("no_such_table"), ProvisionedThroughput: pt(5, 5)})
		var rnf *types.ResourceNotFoundException
		if !errorsAs(err, &rnf) {
			t.Errorf("UpdateTable of a missing table: %v, want ResourceNotFoundException", err)
		}
	})
	t.Run("ToPayPerRequestAndBack", func(t *testing.T) {
		must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModePayPerRequest}))(t)
		d := e.describe(t, "prov")
		if d.TableStatus != types.TableStatusActive {
			t.Errorf("TableStatus = %q after the switch settled", d.TableStatus)
		}
		if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Fatalf("BillingModeSummary = %+v, want PAY_PER_REQUEST", d.BillingModeSummary)
		}
		if d.BillingModeSummary.LastUpdateToPayPerRequestDateTime == nil {
			t.Errorf("LastUpdateToPayPerRequestDateTime missing")
		}
		wantPT(t, d, 0, 0)
		// A no-op switch to the current on-demand mode is accepted.
		must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModePayPerRequest}))(t)
		// Throughput on an on-demand table without BillingMode.
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), ProvisionedThroughput: pt(5, 5)})
		wantErr(t, err, "ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST", ref)
		// Back to PROVISIONED needs throughput.
		_, err = e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModeProvisioned})
		wantErr(t, err, "ValidationException", "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED", ref)
		must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: pt(5, 5)}))(t)
		d = e.describe(t, "prov")
		wantPT(t, d, 5, 5)
		if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
			t.Errorf("BillingModeSummary = %v, want PROVISIONED", d.BillingModeSummary.BillingMode)
		}
	})
	t.Run("EmptyUpdate", func(t *testing.T) {
		_, err := e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ondemand")})
		wantErr(t, err, "ValidationException", "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required", ref)
	})
	t.Run("DeletionProtection", func(t *testing.T) {
		must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ondemand"), DeletionProtectionEnabled: aws.Bool(true)}))(t)
		if d := e.describe(t, "ondemand"); !aws.ToBool(d.DeletionProtectionEnabled) {
			t.Errorf("DeletionProtectionEnabled = %v after enabling", d.DeletionProtectionEnabled)
		}
		_, err := e.db.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ondemand")})
		wantErr(t, err, "ValidationException", "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.", ref)
		e.describe(t, "ondemand") // still there
		must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ondemand"), DeletionProtectionEnabled: aws.Bool(false)}))(t)
		if d := e.describe(t, "ondemand"); aws.ToBool(d.DeletionProtectionEnabled) {
			t.Errorf("DeletionProtectionEnabled still true after disabling")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		e.put(t, "ondemand", item{"pk": sv("a")})
		out := must(e.db.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ondemand")}))(t)
		if out.TableDescription == nil || aws.ToString(out.TableDescription.TableName) != "ondemand" {
			t.Errorf("DeleteTable: TableDescription = %+v", out.TableDescription)
		}
		_, err := e.db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String("ondemand")})
		var rnf *types.ResourceNotFoundException
		if !errorsAs(err, &rnf) {
			t.Errorf("DescribeTable right after DeleteTable: %v, want ResourceNotFoundException", err)
		}
		lt := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{}))(t)
		if slices.Contains(lt.TableNames, "ondemand") {
			t.Errorf("ListTables still lists the deleted table: %v", lt.TableNames)
		}
		_, err = e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("ondemand"), Key: item{"pk": sv("a")}})
		wantErr(t, err, "ResourceNotFoundException", "Requested resource not found", suite)
		_, err = e.db.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ondemand")})
		wantErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: ondemand not found", ref)
		// The name is free again, and the new table is empty.
		e.createHash(t, "ondemand")
		if it := e.get(t, "ondemand", item{"pk": sv("a")}); it != nil {
			t.Errorf("recreated table still holds the old item: %v", normItem(it))
		}
		if d := e.describe(t, "ondemand"); aws.ToInt64(d.ItemCount) != 0 {
			t.Errorf("recreated table ItemCount = %d", aws.ToInt64(d.ItemCount))
		}
	})
}

func TestTags(t *testing.T) {
	e := start(t)
	e.createHash(t, "tagged")
	arn := e.describe(t, "tagged").TableArn
	tags := func() map[string]string {
		t.Helper()
		out := must(e.db.ListTagsOfResource(e.ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn}))(t)
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	wantTags := func(want map[string]string) {
		t.Helper()
		if got := tags(); !reflect.DeepEqual(got, want) {
			t.Errorf("tags = %v, want %v", got, want)
		}
	}

	wantTags(map[string]string{})
	must(e.db.TagResource(e.ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("env", "test"), tag("project", "conformity")}}))(t)
	wantTags(map[string]string{"env": "test", "project": "conformity"})
	must(e.db.TagResource(e.ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("team", "platform")}}))(t)
	wantTags(map[string]string{"env": "test", "project": "conformity", "team": "platform"})
	must(e.db.UntagResource(e.ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}}))(t)
	wantTags(map[string]string{"env": "test", "project": "conformity"})
	must(e.db.UntagResource(e.ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"project"}}))(t)
	wantTags(map[string]string{"env": "test"})
	must(e.db.TagResource(e.ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("env", "production")}}))(t)
	wantTags(map[string]string{"env": "production"})

	_, err := e.db.TagResource(e.ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String("not-a-valid-arn"), Tags: []types.Tag{tag("a", "b")}})
	wantErr(t, err, "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input not-a-valid-arn", ref)
	_, err = e.db.ListTagsOfResource(e.ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arnPrefix + "nonexistent_table_xyz")})
	wantErr(t, err, "AccessDeniedException", "", suite)
	_, err = e.db.TagResource(e.ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{}})
	wantErr(t, err, "ValidationException", "Atleast one Tag needs to be provided as Input.", ref)
	_, err = e.db.UntagResource(e.ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{}})
	wantErr(t, err, "ValidationException", "Atleast one Tag Key needs to be provided as Input.", ref)

	// TagResource answers HTTP 200 with {} (the one status the suite checks).
	st, _, body := e.raw(t, "TagResource", `{"ResourceArn":"`+aws.ToString(arn)+`","Tags":[{"Key":"k","Value":"v"}]}`, nil)
	if st != 200 || string(body) != "{}" {
		t.Errorf("TagResource: %d %s, want 200 {}", st, body)
	}
}

func TestDescribeEndpointsAndLimits(t *testing.T) {
	e := start(t)
	ep := must(e.db.DescribeEndpoints(e.ctx, &dynamodb.DescribeEndpointsInput{}))(t)
	if len(ep.Endpoints) != 1 || aws.ToString(ep.Endpoints[0].Address) == "" || ep.Endpoints[0].CachePeriodInMinutes != 1440 {
		t.Errorf("DescribeEndpoints = %+v, want one endpoint cached 1440 minutes", ep.Endpoints)
	}
	lim := must(e.db.DescribeLimits(e.ctx, &dynamodb.DescribeLimitsInput{}))(t)
	got := [4]int64{aws.ToInt64(lim.AccountMaxReadCapacityUnits), aws.ToInt64(lim.AccountMaxWriteCapacityUnits),
		aws.ToInt64(lim.TableMaxReadCapacityUnits), aws.ToInt64(lim.TableMaxWriteCapacityUnits)}
	if got != [4]int64{80000, 80000, 40000, 40000} {
		t.Errorf("DescribeLimits = %v, want [80000 80000 40000 40000]", got)
	}
}
