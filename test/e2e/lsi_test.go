package e2e

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLSI reads local secondary indexes through the SDK: order by the index
// key, paging with LastEvaluatedKey, projections with the unprojected
// attributes fetched from the table, sparse entries, an update moving an
// item in the index, and Scan.
func TestLSI(t *testing.T) {
	e := start(t)
	lsi := func(name string, p types.Projection) types.LocalSecondaryIndex {
		return types.LocalSecondaryIndex{IndexName: aws.String(name), KeySchema: keySchema("pk", "score"), Projection: &p}
	}
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("scores"),
		KeySchema:            keySchema("pk", "sk"),
		AttributeDefinitions: attrDefs("pk", "S", "sk", "S", "score", "N"),
		BillingMode:          types.BillingModePayPerRequest,
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			lsi("by-score", types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}),
			lsi("by-score-all", types.Projection{ProjectionType: types.ProjectionTypeAll}),
		},
	}))(t)
	for i := range 12 {
		it := item{"pk": sv("game"), "sk": sv(fmt.Sprintf("player%02d", i)), "name": sv(fmt.Sprint("P", i))}
		if i != 11 { // player11 has no score: absent from the indexes
			it["score"] = nv(fmt.Sprint(100 - i*7))
		}
		e.put(t, "scores", it)
	}
	q := &dynamodb.QueryInput{
		TableName:                 aws.String("scores"),
		IndexName:                 aws.String("by-score"),
		KeyConditionExpression:    aws.String("pk = :p AND score > :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("game"), ":s": nv("40")},
		Limit:                     aws.Int32(3),
		ConsistentRead:            aws.Bool(true),
	}
	var order []string
	for pages := 0; ; pages++ {
		out := must(e.db.Query(e.ctx, q))(t)
		for _, it := range out.Items {
			if _, ok := it["name"]; ok {
				t.Fatalf("KEYS_ONLY index returned an unprojected attribute: %v", it)
			}
			order = append(order, it["sk"].(*types.AttributeValueMemberS).Value)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		if _, ok := out.LastEvaluatedKey["score"]; !ok || pages > 5 {
			t.Fatalf("LastEvaluatedKey %v", out.LastEvaluatedKey)
		}
		q.ExclusiveStartKey = out.LastEvaluatedKey
	}
	want := []string{"player08", "player07", "player06", "player05", "player04", "player03", "player02", "player01", "player00"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("order by score: %v, want %v", order, want)
	}
	all := must(e.db.Query(e.ctx, &dynamodb.QueryInput{
		TableName:                 aws.String("scores"),
		IndexName:                 aws.String("by-score"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("game")},
		Select:                    types.SelectAllAttributes,
	}))(t)
	if all.Count != 11 || all.Items[0]["name"] == nil {
		t.Fatalf("Select ALL_ATTRIBUTES through a KEYS_ONLY index: %d items, first %v", all.Count, all.Items[0])
	}
	must(e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("scores"),
		Key:                       item{"pk": sv("game"), "sk": sv("player08")},
		UpdateExpression:          aws.String("SET score = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": nv("1000")},
	}))(t)
	top := must(e.db.Query(e.ctx, &dynamodb.QueryInput{
		TableName:                 aws.String("scores"),
		IndexName:                 aws.String("by-score-all"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("game")},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	}))(t)
	if top.Items[0]["sk"].(*types.AttributeValueMemberS).Value != "player08" || top.Items[0]["name"] == nil {
		t.Fatalf("after the update, the top score is %v", top.Items[0])
	}
	scan := must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("scores"), IndexName: aws.String("by-score-all")}))(t)
	if scan.Count != 11 {
		t.Fatalf("Scan of the index: %d items, want 11 (player11 has no score)", scan.Count)
	}
}
