package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestGSIConverges writes, updates and deletes items at random on a table
// with two GSIs while the server is killed (SIGKILL) and restarted, then
// checks that each GSI equals the index recomputed from the table, entry
// for entry: the indexer neither loses nor repeats a change.
func TestGSIConverges(t *testing.T) {
	e := start(t)
	gsi := func(name string, keys []types.KeySchemaElement, p types.ProjectionType) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: keys, Projection: &types.Projection{ProjectionType: p}}
	}
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("players"),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S", "team", "S", "score", "N"),
		BillingMode:          types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi("by-team", keySchema("team", "score"), types.ProjectionTypeAll),
			gsi("by-score", keySchema("score"), types.ProjectionTypeKeysOnly),
		},
	}))(t)
	r := rand.New(rand.NewPCG(1, 2))
	write := func(i int) {
		k := sv(fmt.Sprint("p", r.IntN(60)))
		var err error
		switch r.IntN(5) {
		case 0:
			_, err = e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String("players"), Key: item{"pk": k}})
		case 1: // an item outside both indexes
			_, err = e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("players"), Item: item{"pk": k, "n": nv(fmt.Sprint(i))}})
		case 2:
			_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String("players"), Key: item{"pk": k},
				UpdateExpression:          aws.String("SET score = :s"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": nv(fmt.Sprint(r.IntN(20)))},
			})
		default:
			_, err = e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("players"), Item: item{
				"pk": k, "team": sv([]string{"red", "blue", "green"}[r.IntN(3)]), "score": nv(fmt.Sprint(r.IntN(20))), "n": nv(fmt.Sprint(i)),
			}})
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i := range 600 {
		if i == 200 || i == 400 {
			e.srv.Kill()
			e.srv.Restart(t)
			e.db = e.srv.DynamoDB()
		}
		write(i)
	}
	table := scanAll(t, e, nil)
	expect := map[string][]string{}
	for _, it := range table {
		pk := it["pk"].(*types.AttributeValueMemberS).Value
		score, hasScore := it["score"]
		team, hasTeam := it["team"]
		if hasScore && hasTeam {
			expect["by-team"] = append(expect["by-team"], fmt.Sprintf("%s/%s/%s/%d", team.(*types.AttributeValueMemberS).Value,
				score.(*types.AttributeValueMemberN).Value, pk, len(it)))
		}
		if hasScore {
			expect["by-score"] = append(expect["by-score"], fmt.Sprintf("%s/%s", score.(*types.AttributeValueMemberN).Value, pk))
		}
	}
	render := func(index string, items []item) []string {
		var out []string
		for _, it := range items {
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			score := it["score"].(*types.AttributeValueMemberN).Value
			if index == "by-team" {
				out = append(out, fmt.Sprintf("%s/%s/%s/%d", it["team"].(*types.AttributeValueMemberS).Value, score, pk, len(it)))
			} else {
				if len(it) != 2 {
					t.Errorf("KEYS_ONLY entry with %d attributes: %v", len(it), it)
				}
				out = append(out, fmt.Sprintf("%s/%s", score, pk))
			}
		}
		return out
	}
	for index, want := range expect {
		slices.Sort(want)
		var got []string
		deadline := time.Now().Add(20 * time.Second)
		for {
			got = render(index, scanAll(t, e, aws.String(index)))
			slices.Sort(got)
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !slices.Equal(got, want) {
			t.Errorf("GSI %s has %d entries, the table implies %d:\n got %s\nwant %s", index, len(got), len(want),
				strings.Join(got, " "), strings.Join(want, " "))
		}
		for _, g := range e.describe(t, "players").GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && aws.ToInt64(g.ItemCount) != int64(len(want)) {
				t.Errorf("DescribeTable: GSI %s ItemCount %d, want %d", index, aws.ToInt64(g.ItemCount), len(want))
			}
		}
	}
	out := must(e.db.Query(e.ctx, &dynamodb.QueryInput{
		TableName: aws.String("players"), IndexName: aws.String("by-team"),
		KeyConditionExpression:    aws.String("team = :t AND score >= :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": sv("red"), ":s": nv("10")},
	}))(t)
	for _, it := range out.Items {
		if it["team"].(*types.AttributeValueMemberS).Value != "red" {
			t.Fatalf("Query on by-team returned %v", it)
		}
	}
	_, err := e.db.Query(e.ctx, &dynamodb.QueryInput{
		TableName: aws.String("players"), IndexName: aws.String("by-team"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("team = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": sv("red")},
	})
	wantErr(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes", suite)
}

// scanAll scans a table, or one of its indexes, to the end.
func scanAll(t *testing.T, e *env, index *string) []item {
	t.Helper()
	in := &dynamodb.ScanInput{TableName: aws.String("players"), IndexName: index, Limit: aws.Int32(25)}
	var out []item
	for {
		page := must(e.db.Scan(e.ctx, in))(t)
		out = append(out, page.Items...)
		if page.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// TestGSIBackfill adds a GSI to a table that has items while writers keep
// changing them: the backfill and the stream must together leave the GSI
// equal to the index recomputed from the table. Then the GSI is deleted.
func TestGSIBackfill(t *testing.T) {
	e := start(t)
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("players"),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S"),
		BillingMode:          types.BillingModePayPerRequest,
	}))(t)
	put := func(i, v int) {
		_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("players"), Item: item{
			"pk": sv(fmt.Sprint("p", i)), "team": sv([]string{"red", "blue"}[v%2]), "score": nv(fmt.Sprint(v)),
		}})
		if err != nil {
			t.Error(err)
		}
	}
	for i := range 300 {
		put(i, i)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := rand.New(rand.NewPCG(3, 4))
		for {
			select {
			case <-stop:
				return
			default:
			}
			put(r.IntN(300), r.IntN(1000))
		}
	}()
	must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String("players"),
		AttributeDefinitions: attrDefs("team", "S", "score", "N"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("by-team"),
			KeySchema:  keySchema("team", "score"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	}))(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		gsis := e.describe(t, "players").GlobalSecondaryIndexes
		if len(gsis) == 1 && gsis[0].IndexStatus == types.IndexStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GSI not ACTIVE after 30 s: %+v", gsis)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // writes after the backfill too
	close(stop)
	<-done
	var want []string
	for _, it := range scanAll(t, e, nil) {
		want = append(want, fmt.Sprintf("%s/%s/%s", it["team"].(*types.AttributeValueMemberS).Value,
			it["score"].(*types.AttributeValueMemberN).Value, it["pk"].(*types.AttributeValueMemberS).Value))
	}
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		got = got[:0]
		for _, it := range scanAll(t, e, aws.String("by-team")) {
			got = append(got, fmt.Sprintf("%s/%s/%s", it["team"].(*types.AttributeValueMemberS).Value,
				it["score"].(*types.AttributeValueMemberN).Value, it["pk"].(*types.AttributeValueMemberS).Value))
		}
		slices.Sort(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the backfill the GSI has %d entries, the table implies %d", len(got), len(want))
	}
	must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("players"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{
			IndexName: aws.String("by-team"),
		}}},
	}))(t)
	if gsis := e.describe(t, "players").GlobalSecondaryIndexes; len(gsis) != 0 {
		t.Fatalf("after the delete: %+v", gsis)
	}
	_, err := e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("players"), IndexName: aws.String("by-team")})
	wantErr(t, err, "ValidationException", "The table does not have the specified index: by-team", suite)
}

// TestGSIReadYourWrites checks X-Sluice-Index-Consistency: strong: a GSI
// Query right after a write sees it, every time.
func TestGSIReadYourWrites(t *testing.T) {
	e := start(t)
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("ryw"),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S", "g", "S"),
		BillingMode:          types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-g"), KeySchema: keySchema("g"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}))(t)
	for i := range 50 {
		e.put(t, "ryw", item{"pk": sv(fmt.Sprint("k", i)), "g": sv("x")})
		status, _, body := e.raw(t, "Query", `{"TableName":"ryw","IndexName":"by-g","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"x"}},"Select":"COUNT"}`,
			map[string]string{"X-Sluice-Index-Consistency": "strong"})
		if want := fmt.Sprintf(`"Count":%d`, i+1); status != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("write %d then a strong GSI query: %d %s, want %s", i, status, body, want)
		}
	}
}

// TestMetrics reads the Prometheus metrics on the API's port: a table's
// items and its GSIs' lag.
func TestMetrics(t *testing.T) {
	e := start(t)
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("metered"),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S", "g", "S"),
		BillingMode:          types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-g"), KeySchema: keySchema("g"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
	}))(t)
	e.put(t, "metered", item{"pk": sv("a"), "g": sv("x")})
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`sluice_table_items{table="metered"} 1`, `sluice_gsi_lag_changes{backfilling="false",index="by-g",table="metered"}`, "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
