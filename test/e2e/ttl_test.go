package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// TestTTLExpiry runs the real server's TTL reaper: expired items go, with
// their LSI and GSI entries, as REMOVE records made by the DynamoDB
// service; items not yet due, and TTL values DynamoDB ignores (not a
// number, more than five years past), stay.
func TestTTLExpiry(t *testing.T) {
	srv := sluicetest.Start(t, sluicetest.Options{ExtraArgs: []string{"--ttl-interval", "200ms"}})
	e := &env{srv: srv, db: srv.DynamoDB(), ctx: sluicetest.Context(t)}
	const table = "ttl"
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName: aws.String("by-g"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("g"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("g-idx"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		BillingMode:         types.BillingModePayPerRequest,
	}))(t)
	must(e.db.UpdateTimeToLive(e.ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)},
	}))(t)

	now := time.Now().Unix()
	expired := map[string]bool{}
	const n = 40
	for i := range n {
		pk := fmt.Sprintf("p%d", i%5)
		it := item{"pk": sv(pk), "sk": nv(strconv.Itoa(i)), "g": sv(fmt.Sprintf("g%d", i%3))}
		switch i % 4 {
		case 0: // due
			it["exp"] = nv(strconv.FormatInt(now-5, 10))
			expired[fmt.Sprintf("%s/%d", pk, i)] = true
		case 1: // an hour away
			it["exp"] = nv(strconv.FormatInt(now+3600, 10))
		case 2: // not a number: never expires
			it["exp"] = sv(strconv.FormatInt(now-5, 10))
		case 3: // more than five years past: ignored
			it["exp"] = nv(strconv.FormatInt(now-6*365*86400, 10))
		}
		must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}))(t)
	}
	start := time.Now()
	left := n
	for left != n-len(expired) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d items left 20 s after their expiry, want %d", left, n-len(expired))
		}
		time.Sleep(50 * time.Millisecond)
		out := must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}))(t)
		left = len(out.Items)
		for _, it := range out.Items {
			k := it["pk"].(*types.AttributeValueMemberS).Value + "/" + it["sk"].(*types.AttributeValueMemberN).Value
			if expired[k] && left == n-len(expired) {
				t.Fatalf("expired item %s is still there", k)
			}
		}
	}
	t.Logf("expired items gone %v after the last write (--ttl-interval 200ms)", time.Since(start).Round(time.Millisecond))

	lsi := must(e.db.Scan(e.ctx, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String("by-g"), ConsistentRead: aws.Bool(true)}))(t)
	if len(lsi.Items) != n-len(expired) {
		t.Errorf("LSI holds %d entries, want %d", len(lsi.Items), n-len(expired))
	}
	waitIndexCount(t, e, table, "g-idx", n-len(expired))

	// The stream holds one REMOVE per expired item, by the service.
	st := dynamodbstreams.New(dynamodbstreams.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       sluicetest.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(sluicetest.AccessKeyID, sluicetest.SecretAccessKey, ""),
	})
	streams := must(st.ListStreams(e.ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)}))(t)
	if len(streams.Streams) != 1 {
		t.Fatalf("ListStreams: %d streams", len(streams.Streams))
	}
	arn := streams.Streams[0].StreamArn
	desc := must(st.DescribeStream(e.ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn}))(t)
	removed := map[string]bool{}
	for _, sh := range desc.StreamDescription.Shards {
		iter := must(st.GetShardIterator(e.ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		}))(t).ShardIterator
		for iter != nil {
			out := must(st.GetRecords(e.ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter}))(t)
			for _, r := range out.Records {
				keys := r.Dynamodb.Keys
				k := keys["pk"].(*streamtypes.AttributeValueMemberS).Value + "/" + keys["sk"].(*streamtypes.AttributeValueMemberN).Value
				switch r.EventName {
				case streamtypes.OperationTypeRemove:
					id := r.UserIdentity
					if id == nil || aws.ToString(id.Type) != "Service" || aws.ToString(id.PrincipalId) != "dynamodb.amazonaws.com" {
						t.Errorf("REMOVE of %s: userIdentity %+v, want the DynamoDB service", k, id)
					}
					if r.Dynamodb.OldImage == nil {
						t.Errorf("REMOVE of %s without its old image", k)
					}
					removed[k] = true
				default:
					if r.UserIdentity != nil {
						t.Errorf("%s of %s: userIdentity %+v on a user's write", r.EventName, k, r.UserIdentity)
					}
				}
			}
			if len(out.Records) == 0 {
				break // the open shard's end
			}
			iter = out.NextShardIterator
		}
	}
	if len(removed) != len(expired) {
		t.Errorf("%d REMOVE records, want %d", len(removed), len(expired))
	}
	for k := range expired {
		if !removed[k] {
			t.Errorf("no REMOVE record for expired %s", k)
		}
	}
}
