package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/test/sluicetest"
)

// TestSplitShardFeed splits every shard of a table with a stream through
// Sluice_20261121.SplitShard, then checks that no item was lost, that the
// change feed on JetStream carries later changes on the children's subjects
// with sequence numbers after their parent's, and that it survives a
// restart.
func TestSplitShardFeed(t *testing.T) {
	e := start(t)
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("splits"),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S"),
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}))(t)
	put := func(from, n int, v string) {
		for i := from; i < from+n; i++ {
			e.put(t, "splits", item{"pk": sv(fmt.Sprint("k", i)), "v": sv(v)})
		}
	}
	put(0, 40, "a")
	status, _, body := sluicetest.RawRequest(t, e.srv.URL, "Sluice_20261121.SplitShard", `{"TableName":"splits"}`, nil)
	if status != 200 || !strings.Contains(string(body), `"ParentShardId":3`) {
		t.Fatalf("SplitShard: %d %s", status, body)
	}
	status, _, body = sluicetest.RawRequest(t, e.srv.URL, "Sluice_20261121.SplitShard", `{"TableName":"splits","ShardId":0}`, nil)
	if status != 400 || !strings.Contains(string(body), "ValidationException") {
		t.Fatalf("split of a shard already split: %d %s", status, body)
	}
	put(0, 40, "b") // every item again, now in the children
	e.srv.Restart(t)
	put(40, 20, "c")
	if n := len(must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String("splits"), ConsistentRead: aws.Bool(true)}))(t).Items); n != 60 {
		t.Fatalf("scan after the split: %d items, want 60", n)
	}
	if c := aws.ToInt64(e.describe(t, "splits").ItemCount); c != 60 {
		t.Fatalf("ItemCount %d, want 60", c)
	}
	recs := e.srv.WaitRecords(t, "splits", 100, 30*time.Second)
	last := map[string]shards.Seq{}
	parents := map[string]string{"4": "0", "5": "0", "6": "1", "7": "1", "8": "2", "9": "2", "10": "3", "11": "3"}
	for _, r := range recs {
		sub := r.Subject[strings.LastIndexByte(r.Subject, '.')+1:]
		seq, err := shards.ParseSeq(r.Header.Get("ce-sequence"))
		if err != nil {
			t.Fatal(err)
		}
		prev, ok := last[sub]
		if !ok {
			if p, child := parents[sub]; child {
				prev = last[p]
			}
		}
		if seq != prev+1 {
			t.Fatalf("shard %s: record %d follows %d", sub, seq, prev)
		}
		last[sub] = seq
		if v := r.Data; strings.Contains(string(v), `"v":{"S":"b"}`) && parents[sub] == "" {
			t.Fatalf("a change after the split is on parent shard %s", sub)
		}
	}
}
