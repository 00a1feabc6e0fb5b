package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// wantCapacity checks a ConsumedCapacity: TableName, total units, and for
// INDEXES the table's own units (tableUnits < 0: Table must be absent, as for
// TOTAL).
func wantCapacity(t *testing.T, what string, cc *types.ConsumedCapacity, table string, total, tableUnits float64) {
	t.Helper()
	if cc == nil {
		t.Errorf("%s: no ConsumedCapacity", what)
		return
	}
	if aws.ToString(cc.TableName) != table {
		t.Errorf("%s: TableName %q, want %q", what, aws.ToString(cc.TableName), table)
	}
	if got := aws.ToFloat64(cc.CapacityUnits); got != total {
		t.Errorf("%s: CapacityUnits %v, want %v", what, got, total)
	}
	if cc.ReadCapacityUnits != nil || cc.WriteCapacityUnits != nil {
		t.Errorf("%s: Read/WriteCapacityUnits present (%v/%v); DynamoDB sends only CapacityUnits here", what,
			aws.ToFloat64(cc.ReadCapacityUnits), aws.ToFloat64(cc.WriteCapacityUnits))
	}
	switch {
	case tableUnits < 0 && cc.Table != nil:
		t.Errorf("%s: Table present with TOTAL", what)
	case tableUnits >= 0 && cc.Table == nil:
		t.Errorf("%s: Table missing with INDEXES", what)
	case tableUnits >= 0 && aws.ToFloat64(cc.Table.CapacityUnits) != tableUnits:
		t.Errorf("%s: Table.CapacityUnits %v, want %v", what, aws.ToFloat64(cc.Table.CapacityUnits), tableUnits)
	}
}

func TestConsumedCapacity(t *testing.T) {
	e := start(t)
	e.createHash(t, "hash_t")
	const (
		total   = types.ReturnConsumedCapacityTotal
		indexes = types.ReturnConsumedCapacityIndexes
	)
	put := func(it item, rcc types.ReturnConsumedCapacity) *types.ConsumedCapacity {
		t.Helper()
		return must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("hash_t"), Item: it, ReturnConsumedCapacity: rcc}))(t).ConsumedCapacity
	}
	get := func(pk string, consistent bool, rcc types.ReturnConsumedCapacity) *types.ConsumedCapacity {
		t.Helper()
		return must(e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String("hash_t"), Key: item{"pk": sv(pk)},
			ConsistentRead: aws.Bool(consistent), ReturnConsumedCapacity: rcc}))(t).ConsumedCapacity
	}
	del := func(pk string, rcc types.ReturnConsumedCapacity) *types.ConsumedCapacity {
		t.Helper()
		return must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("hash_t"), Key: item{"pk": sv(pk)}, ReturnConsumedCapacity: rcc}))(t).ConsumedCapacity
	}
	// Sizes: "pk"+"a" = 3 bytes, "data" = 4 bytes + value.
	kb1 := item{"pk": sv("a"), "data": sv(strings.Repeat("x", 1024-7))}     // exactly 1 KB
	kb1plus := item{"pk": sv("a"), "data": sv(strings.Repeat("x", 1024-6))} // 1 KB + 1 byte
	tiny := item{"pk": sv("a")}
	big := item{"pk": sv("b"), "data": sv(strings.Repeat("x", 5000))} // 5007 bytes: 2 read units

	wantCapacity(t, "Put new 1 KB item", put(kb1, total), "hash_t", 1, -1)
	wantCapacity(t, "Put 1 KB + 1 replacing 1 KB", put(kb1plus, total), "hash_t", 2, -1)
	wantCapacity(t, "Put tiny replacing 1 KB + 1 (max of old and new)", put(tiny, indexes), "hash_t", 2, 2)
	wantCapacity(t, "Put tiny replacing tiny", put(tiny, total), "hash_t", 1, -1)
	if cc := put(tiny, types.ReturnConsumedCapacityNone); cc != nil {
		t.Errorf("NONE: ConsumedCapacity = %+v, want absent", cc)
	}
	put(big, "")

	wantCapacity(t, "Get eventually consistent, small", get("a", false, total), "hash_t", 0.5, -1)
	wantCapacity(t, "Get consistent, small", get("a", true, total), "hash_t", 1, -1)
	wantCapacity(t, "Get eventually consistent, 5 KB", get("b", false, total), "hash_t", 1, -1)
	wantCapacity(t, "Get consistent, 5 KB", get("b", true, indexes), "hash_t", 2, 2)
	wantCapacity(t, "Get eventually consistent miss", get("zz", false, total), "hash_t", 0.5, -1)
	wantCapacity(t, "Get consistent miss, INDEXES", get("zz", true, indexes), "hash_t", 1, 1)
	if cc := get("a", true, types.ReturnConsumedCapacityNone); cc != nil {
		t.Errorf("Get NONE: ConsumedCapacity = %+v, want absent", cc)
	}

	wantCapacity(t, "Delete 5 KB item", del("b", total), "hash_t", 5, -1)
	wantCapacity(t, "Delete missing item", del("b", total), "hash_t", 1, -1)
	wantCapacity(t, "Delete tiny item, INDEXES", del("a", indexes), "hash_t", 1, 1)

	// A table with indexes: each index the write touches adds its own units
	// (DynamoDB Local 3.3.0 probe; reference, not the suite). Index entries
	// are written, and so charged, once secondary indexes are maintained
	// (issue 5); until then this part does not apply.
	t.Run("indexes", func(t *testing.T) {
		t.Skip("secondary-index writes are not maintained yet (issue 5), so they are not charged")
		must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("idx"),
			KeySchema:            keySchema("pk", "sk"),
			AttributeDefinitions: attrDefs("pk", "S", "sk", "S", "g", "S", "l", "S"),
			BillingMode:          types.BillingModePayPerRequest,
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsi1"), KeySchema: keySchema("pk", "l"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gsi1"), KeySchema: keySchema("g"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		}))(t)
		it := item{"pk": sv("p"), "sk": sv("s"), "g": sv("gv"), "l": sv("lv")}
		out := must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("idx"), Item: it, ReturnConsumedCapacity: indexes}))(t)
		wantCapacity(t, "Put into a table with an LSI and a GSI (reference)", out.ConsumedCapacity, "idx", 3, 1)
		if cc := out.ConsumedCapacity; cc != nil {
			if u := cc.LocalSecondaryIndexes["lsi1"].CapacityUnits; aws.ToFloat64(u) != 1 {
				t.Errorf("LocalSecondaryIndexes[lsi1] = %v, want 1 (reference)", aws.ToFloat64(u))
			}
			if u := cc.GlobalSecondaryIndexes["gsi1"].CapacityUnits; aws.ToFloat64(u) != 1 {
				t.Errorf("GlobalSecondaryIndexes[gsi1] = %v, want 1 (reference)", aws.ToFloat64(u))
			}
		}
		out = must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("idx"), Item: it, ReturnConsumedCapacity: total}))(t)
		wantCapacity(t, "Re-put of an identical item: no index writes (reference)", out.ConsumedCapacity, "idx", 1, -1)
	})
}

func TestItemCollectionMetrics(t *testing.T) {
	e := start(t)
	must(e.db.CreateTable(e.ctx, conformanceComposite("comp")))(t)
	e.createHash(t, "plain")
	out := must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("comp"),
		Item:                        item{"pk": sv("icm-put-1"), "sk": sv("1"), "lsi1sk": sv("x")},
		ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize}))(t)
	checkICM := func(what string, m *types.ItemCollectionMetrics) {
		t.Helper()
		if m == nil {
			t.Errorf("%s: no ItemCollectionMetrics on a table with LSIs (suite)", what)
			return
		}
		wantItem(t, m.ItemCollectionKey, item{"pk": sv("icm-put-1")})
		if len(m.SizeEstimateRangeGB) != 2 {
			t.Errorf("%s: SizeEstimateRangeGB = %v, want 2 numbers", what, m.SizeEstimateRangeGB)
		}
	}
	checkICM("PutItem SIZE", out.ItemCollectionMetrics)
	d := must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("comp"),
		Key: item{"pk": sv("icm-put-1"), "sk": sv("1")}, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize}))(t)
	checkICM("DeleteItem SIZE", d.ItemCollectionMetrics)
	out = must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("comp"),
		Item: item{"pk": sv("icm-put-2"), "sk": sv("1")}, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsNone}))(t)
	if out.ItemCollectionMetrics != nil {
		t.Errorf("NONE: ItemCollectionMetrics = %+v", out.ItemCollectionMetrics)
	}
	out = must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("plain"),
		Item: item{"pk": sv("x")}, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize}))(t)
	if out.ItemCollectionMetrics != nil {
		t.Errorf("table without LSIs: ItemCollectionMetrics = %+v, want absent", out.ItemCollectionMetrics)
	}
}
