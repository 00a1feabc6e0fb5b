package e2e

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableFacts are the parts of a description that must survive a restart.
func tableFacts(d *types.TableDescription) map[string]any {
	f := map[string]any{
		"name":       aws.ToString(d.TableName),
		"arn":        aws.ToString(d.TableArn),
		"id":         aws.ToString(d.TableId),
		"status":     d.TableStatus,
		"keys":       ksText(d.KeySchema),
		"attrs":      adText(d.AttributeDefinitions),
		"items":      aws.ToInt64(d.ItemCount),
		"bytes":      aws.ToInt64(d.TableSizeBytes),
		"protected":  aws.ToBool(d.DeletionProtectionEnabled),
		"streamArn":  aws.ToString(d.LatestStreamArn),
		"lsis":       len(d.LocalSecondaryIndexes),
		"gsis":       len(d.GlobalSecondaryIndexes),
		"created":    aws.ToTime(d.CreationDateTime).Truncate(time.Millisecond).UnixMilli(),
		"throughput": [2]int64{},
	}
	if d.ProvisionedThroughput != nil {
		f["throughput"] = [2]int64{aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)}
	}
	if d.BillingModeSummary != nil {
		f["billing"] = d.BillingModeSummary.BillingMode
	}
	return f
}

func TestRestartKeepsEverything(t *testing.T) {
	e := start(t)
	in := conformanceComposite("comp")
	in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("db")}}
	in.DeletionProtectionEnabled = aws.Bool(true)
	must(e.db.CreateTable(e.ctx, in))(t)
	e.createHash(t, "hash")
	must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{TableName: aws.String("hash"), BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(4)}}))(t)
	e.createHash(t, "gone")
	must(e.db.DeleteTable(e.ctx, &dynamodb.DeleteTableInput{TableName: aws.String("gone")}))(t)

	items := map[string][]item{
		"comp": {
			{"pk": sv("a"), "sk": sv("1"), "lsi1sk": sv("x"), "n": nv("1.50")},
			{"pk": sv("a"), "sk": sv("2"), "m": mv(item{"l": lv(nv("1"), ssv("p", "q"))})},
			{"pk": sv("b"), "sk": sv("1"), "bs": bsv([]byte{1}, []byte{2})},
		},
		"hash": {
			{"pk": sv("k1"), "v": sv("one")},
			{"pk": sv("k2"), "v": boolv(true)},
		},
	}
	keyOf := func(table string, it item) item {
		if table == "comp" {
			return item{"pk": it["pk"], "sk": it["sk"]}
		}
		return item{"pk": it["pk"]}
	}
	for table, its := range items {
		for _, it := range its {
			e.put(t, table, it)
		}
	}
	e.put(t, "hash", item{"pk": sv("k3")})
	e.del(t, "hash", item{"pk": sv("k3")})
	items["comp"][0]["n"] = nv("1.5") // stored canonical

	before := map[string]map[string]any{}
	for _, name := range []string{"comp", "hash"} {
		before[name] = tableFacts(e.describe(t, name))
	}
	recsBefore := e.srv.WaitRecords(t, "hash", 4, 10*time.Second)

	check := func(when string) {
		t.Helper()
		lt := must(e.db.ListTables(e.ctx, &dynamodb.ListTablesInput{}))(t)
		if !slices.Equal(lt.TableNames, []string{"comp", "hash"}) {
			t.Errorf("%s: ListTables = %v, want [comp hash]", when, lt.TableNames)
		}
		for _, name := range []string{"comp", "hash"} {
			if got := tableFacts(e.describe(t, name)); !reflect.DeepEqual(got, before[name]) {
				t.Errorf("%s: %s description changed:\n got: %v\nwant: %v", when, name, got, before[name])
			}
		}
		for table, its := range items {
			for _, it := range its {
				wantItem(t, e.get(t, table, keyOf(table, it)), it)
			}
		}
		if it := e.get(t, "hash", item{"pk": sv("k3")}); it != nil {
			t.Errorf("%s: deleted item k3 is back: %v", when, normItem(it))
		}
		arn := e.describe(t, "comp").TableArn
		tags := must(e.db.ListTagsOfResource(e.ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn}))(t)
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
			t.Errorf("%s: tags = %+v", when, tags.Tags)
		}
		_, err := e.db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String("gone")})
		wantErr(t, err, "ResourceNotFoundException", "", suite)
	}
	check("before restart")
	if aws.ToInt64(e.describe(t, "comp").ItemCount) != 3 {
		t.Errorf("comp ItemCount = %d, want 3", aws.ToInt64(e.describe(t, "comp").ItemCount))
	}

	e.srv.Restart(t)
	check("after restart")

	e.srv.Restart(t)
	check("after a second restart")

	// Writes go on, and the change feed continues without repeats.
	e.put(t, "hash", item{"pk": sv("k4")})
	if d := e.describe(t, "hash"); aws.ToInt64(d.ItemCount) != 3 {
		t.Errorf("ItemCount after a write following restarts = %d, want 3", aws.ToInt64(d.ItemCount))
	}
	recs := e.srv.WaitRecords(t, "hash", len(recsBefore)+1, 10*time.Second)
	if len(recs) != len(recsBefore)+1 {
		t.Errorf("change records: %d before restarts, %d after one more put; want %d", len(recsBefore), len(recs), len(recsBefore)+1)
	}
	checkSequences(t, recs)
}
