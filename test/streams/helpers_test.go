package streams

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// streamsClient returns a DynamoDB Streams client for the server at url,
// signing as sluicetest's clients do. It makes up to attempts attempts per
// call, backing off at most 200 ms, without the retry quota: a poller that
// outlives a server restart must not run out of retry tokens.
func streamsClient(url string, attempts int) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		BaseEndpoint: aws.String(url),
		Region:       sluicetest.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(sluicetest.AccessKeyID, sluicetest.SecretAccessKey, ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = 200 * time.Millisecond
			o.RateLimiter = ratelimit.None
		}),
	})
}

// createTable creates a table with a string partition key pk (and a number
// sort key sk when withSort) and a stream of the given view type, and
// returns its description.
func createTable(ctx context.Context, t testing.TB, db *dynamodb.Client, name string, view dbtypes.StreamViewType, withSort bool) *dbtypes.TableDescription {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
		StreamSpecification:  &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view},
	}
	if withSort {
		in.KeySchema = append(in.KeySchema, dbtypes.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: dbtypes.KeyTypeRange})
		in.AttributeDefinitions = append(in.AttributeDefinitions, dbtypes.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: dbtypes.ScalarAttributeTypeN})
	}
	out, err := db.CreateTable(ctx, in)
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	if aws.ToString(out.TableDescription.LatestStreamArn) == "" {
		t.Fatalf("CreateTable %s: no LatestStreamArn in %+v", name, out.TableDescription)
	}
	return out.TableDescription
}

// apiCode is the error code of an API error, or "" for any other error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// describeAll returns a stream's description with every shard, paging
// DescribeStream limit shards at a time (0: the server's default).
func describeAll(ctx context.Context, c *dynamodbstreams.Client, arn string, limit int32) (*sttypes.StreamDescription, error) {
	var (
		desc  *sttypes.StreamDescription
		start *string
		all   []sttypes.Shard
	)
	for page := 0; ; page++ {
		in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := c.DescribeStream(ctx, in)
		if err != nil {
			return nil, err
		}
		if page > 10000 {
			return nil, errors.New("DescribeStream: more than 10000 pages")
		}
		desc = out.StreamDescription
		all = append(all, desc.Shards...)
		start = desc.LastEvaluatedShardId
		if start == nil {
			break
		}
	}
	desc.Shards = all
	desc.LastEvaluatedShardId = nil
	return desc, nil
}

// shardRead is what reading one shard from an iterator found.
type shardRead struct {
	recs []sttypes.Record
	// closed is true when GetRecords returned no NextShardIterator: the
	// shard is closed and was read to its end.
	closed bool
	next   string // the iterator to go on with, when not closed
}

// readIter reads a shard from iter until it is read to its end (closed) or,
// for an open shard, until a GetRecords returns nothing.
func readIter(ctx context.Context, t testing.TB, c *dynamodbstreams.Client, iter string) shardRead {
	t.Helper()
	var r shardRead
	for range 1000 {
		out, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(iter)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		r.recs = append(r.recs, out.Records...)
		if out.NextShardIterator == nil {
			r.closed = true
			return r
		}
		iter = *out.NextShardIterator
		r.next = iter
		if len(out.Records) == 0 {
			return r
		}
	}
	t.Fatalf("GetRecords: a shard did not end within 1000 calls")
	return r
}

// iterator returns a shard iterator, failing t on error. seq is "" for the
// types that take none.
func iterator(ctx context.Context, t testing.TB, c *dynamodbstreams.Client, arn, shard string, typ sttypes.ShardIteratorType, seq string) string {
	t.Helper()
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator %s %s %s: %v", shard, typ, seq, err)
	}
	return aws.ToString(out.ShardIterator)
}

// readShard reads a whole shard from TRIM_HORIZON (see readIter).
func readShard(ctx context.Context, t testing.TB, c *dynamodbstreams.Client, arn, shard string) shardRead {
	t.Helper()
	return readIter(ctx, t, c, iterator(ctx, t, c, arn, shard, sttypes.ShardIteratorTypeTrimHorizon, ""))
}

// readStream reads every shard of a stream, parents before children (ids
// sort in creation order), and returns the records of each shard.
func readStream(ctx context.Context, t testing.TB, c *dynamodbstreams.Client, arn string) (*sttypes.StreamDescription, map[string]shardRead) {
	t.Helper()
	desc, err := describeAll(ctx, c, arn, 0)
	if err != nil {
		t.Fatalf("DescribeStream %s: %v", arn, err)
	}
	out := map[string]shardRead{}
	for _, sh := range desc.Shards {
		out[*sh.ShardId] = readShard(ctx, t, c, arn, *sh.ShardId)
	}
	return desc, out
}

// Items are compared as canonical JSON: DynamoDB JSON with the members of
// maps sorted (encoding/json sorts map keys) and set elements sorted, since
// a set's order is not part of its value. The two SDK packages have their
// own AttributeValue types; both are rendered alike.

// canonDB renders an item of the DynamoDB SDK; "" for a nil item.
func canonDB(item map[string]dbtypes.AttributeValue) string {
	if item == nil {
		return ""
	}
	m := make(map[string]any, len(item))
	for k, v := range item {
		m[k] = convDB(v)
	}
	return mustJSON(m)
}

func convDB(v dbtypes.AttributeValue) any {
	switch v := v.(type) {
	case *dbtypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *dbtypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *dbtypes.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *dbtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *dbtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *dbtypes.AttributeValueMemberSS:
		return map[string]any{"SS": sorted(v.Value)}
	case *dbtypes.AttributeValueMemberNS:
		return map[string]any{"NS": sorted(v.Value)}
	case *dbtypes.AttributeValueMemberBS:
		return map[string]any{"BS": sortedBytes(v.Value)}
	case *dbtypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = convDB(e)
		}
		return map[string]any{"L": l}
	case *dbtypes.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			m[k] = convDB(e)
		}
		return map[string]any{"M": m}
	}
	return map[string]any{"?": v}
}

// canonStream renders an item of the DynamoDB Streams SDK; "" for a nil
// item.
func canonStream(item map[string]sttypes.AttributeValue) string {
	if item == nil {
		return ""
	}
	m := make(map[string]any, len(item))
	for k, v := range item {
		m[k] = convStream(v)
	}
	return mustJSON(m)
}

func convStream(v sttypes.AttributeValue) any {
	switch v := v.(type) {
	case *sttypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *sttypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *sttypes.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *sttypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *sttypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *sttypes.AttributeValueMemberSS:
		return map[string]any{"SS": sorted(v.Value)}
	case *sttypes.AttributeValueMemberNS:
		return map[string]any{"NS": sorted(v.Value)}
	case *sttypes.AttributeValueMemberBS:
		return map[string]any{"BS": sortedBytes(v.Value)}
	case *sttypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = convStream(e)
		}
		return map[string]any{"L": l}
	case *sttypes.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			m[k] = convStream(e)
		}
		return map[string]any{"M": m}
	}
	return map[string]any{"?": v}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func sortedBytes(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain maps, slices and strings cannot fail
	}
	return string(b)
}

// streamS is a string attribute of a stream image, or "".
func streamS(item map[string]sttypes.AttributeValue, name string) string {
	if v, ok := item[name].(*sttypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// streamN is a number attribute of a stream image, or "".
func streamN(item map[string]sttypes.AttributeValue, name string) string {
	if v, ok := item[name].(*sttypes.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
