package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestItemCollectionsAndIndexCapacity writes through the SDK to a table
// with an LSI and a GSI: ItemCollectionMetrics carry the collection's key
// and range, ConsumedCapacity INDEXES the per-index units, and
// DescribeTable's LSI counters match the items, also after concurrent
// writers, a SIGKILL and a restart.
func TestItemCollectionsAndIndexCapacity(t *testing.T) {
	e := start(t)
	proj := types.Projection{ProjectionType: types.ProjectionTypeAll}
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("coll"),
		KeySchema:            keySchema("pk", "sk"),
		AttributeDefinitions: attrDefs("pk", "S", "sk", "S", "l", "S", "g", "S"),
		BillingMode:          types.BillingModePayPerRequest,
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("by-l"), KeySchema: keySchema("pk", "l"), Projection: &proj},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("by-g"), KeySchema: keySchema("g"), Projection: &proj},
		},
	}))(t)

	out := must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{
		TableName:                   aws.String("coll"),
		Item:                        item{"pk": sv("a"), "sk": sv("1"), "l": sv("x"), "g": sv("y")},
		ReturnConsumedCapacity:      types.ReturnConsumedCapacityIndexes,
		ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
	}))(t)
	cc := out.ConsumedCapacity
	if aws.ToFloat64(cc.CapacityUnits) != 3 || aws.ToFloat64(cc.Table.CapacityUnits) != 1 ||
		aws.ToFloat64(cc.LocalSecondaryIndexes["by-l"].CapacityUnits) != 1 || aws.ToFloat64(cc.GlobalSecondaryIndexes["by-g"].CapacityUnits) != 1 {
		t.Fatalf("ConsumedCapacity %+v", cc)
	}
	icm := out.ItemCollectionMetrics
	if icm == nil || icm.ItemCollectionKey["pk"].(*types.AttributeValueMemberS).Value != "a" || fmt.Sprint(icm.SizeEstimateRangeGB) != "[0 1]" {
		t.Fatalf("ItemCollectionMetrics %+v", icm)
	}
	q := must(e.db.Query(e.ctx, &dynamodb.QueryInput{
		TableName: aws.String("coll"), IndexName: aws.String("by-l"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: item{":p": sv("a")},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityIndexes,
	}))(t)
	if c := q.ConsumedCapacity; aws.ToFloat64(c.Table.CapacityUnits) != 0 || aws.ToFloat64(c.LocalSecondaryIndexes["by-l"].CapacityUnits) != 0.5 {
		t.Fatalf("Query ConsumedCapacity %+v", c)
	}

	// Concurrent writers on a few collections, then the counters.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				key := item{"pk": sv(fmt.Sprint("p", i%3)), "sk": sv(fmt.Sprint(w, "-", i%7))}
				var err error
				switch i % 4 {
				case 0, 1:
					it := item{"pk": key["pk"], "sk": key["sk"], "l": sv(fmt.Sprint(i)), "v": sv(strings.Repeat("v", i*10))}
					_, err = e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("coll"), Item: it})
				case 2:
					_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String("coll"), Key: key,
						UpdateExpression: aws.String("REMOVE l SET v = :v"), ExpressionAttributeValues: item{":v": sv("short")}})
				default:
					_, err = e.db.TransactWriteItems(e.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
						{Delete: &types.Delete{TableName: aws.String("coll"), Key: key}},
					}})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	check := func(when string) {
		t.Helper()
		items := must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("coll"), ConsistentRead: aws.Bool(true)}))(t).Items
		entries := must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("coll"), IndexName: aws.String("by-l")}))(t).Items
		d := e.describe(t, "coll")
		lsi := d.LocalSecondaryIndexes[0]
		if aws.ToInt64(d.ItemCount) != int64(len(items)) || aws.ToInt64(lsi.ItemCount) != int64(len(entries)) || aws.ToInt64(lsi.IndexSizeBytes) <= 0 {
			t.Fatalf("%s: ItemCount %d (%d items), LSI ItemCount %d (%d entries), IndexSizeBytes %d", when,
				aws.ToInt64(d.ItemCount), len(items), aws.ToInt64(lsi.ItemCount), len(entries), aws.ToInt64(lsi.IndexSizeBytes))
		}
	}
	check("after the writers")
	before := e.describe(t, "coll").LocalSecondaryIndexes[0]
	e.srv.Kill()
	e.srv.Restart(t)
	e.db = e.srv.DynamoDB()
	check("after SIGKILL and restart")
	after := e.describe(t, "coll").LocalSecondaryIndexes[0]
	if aws.ToInt64(after.IndexSizeBytes) != aws.ToInt64(before.IndexSizeBytes) {
		t.Fatalf("IndexSizeBytes %d before the kill, %d after", aws.ToInt64(before.IndexSizeBytes), aws.ToInt64(after.IndexSizeBytes))
	}
	del := must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String("coll"), Key: item{"pk": sv("a"), "sk": sv("1")},
		ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
	}))(t)
	if del.ItemCollectionMetrics == nil || fmt.Sprint(del.ItemCollectionMetrics.SizeEstimateRangeGB) != "[0 1]" {
		t.Fatalf("DeleteItem ItemCollectionMetrics %+v", del.ItemCollectionMetrics)
	}
}
