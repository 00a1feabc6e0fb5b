package perf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// createTable creates a hash-key table, with a NEW_AND_OLD_IMAGES stream when
// stream is set, and returns its LatestStreamArn ("" without a stream).
func createTable(b *testing.B, db *dynamodb.Client, name string, stream bool) string {
	in := &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if stream {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	}
	out, err := db.CreateTable(b.Context(), in)
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

func item(key string, i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":  &types.AttributeValueMemberS{Value: key},
		"n":   &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
		"val": &types.AttributeValueMemberS{Value: "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01234567890123456789"},
	}
}

// BenchmarkPutItemStream measures PutItem from 16 clients on a table without
// and with a NEW_AND_OLD_IMAGES stream: issue 6 allows the stream at most
// 10% of the throughput and 30 µs of server CPU per put. Every change is
// recorded either way; a stream adds only its shard bookkeeping.
func BenchmarkPutItemStream(b *testing.B) {
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			srv := sluicetest.Start(b, sluicetest.Options{})
			db := srv.DynamoDB()
			createTable(b, db, "tbl", stream)
			var seq sync.Mutex
			n := 0
			run(b, srv, func(r *rand.Rand) error {
				seq.Lock()
				n++
				i := n
				seq.Unlock()
				_, err := db.PutItem(b.Context(), &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item(fmt.Sprint("k", i), i)})
				return err
			})
		})
	}
}

// BenchmarkGetRecordsPaging writes PERF_RECORDS records (default 200,000)
// with BatchWriteItem, then reads them all through GetRecords (1,000 per
// call) and reports records per second of reading. Issue 6 asks for at
// least 100,000 records/s over a million.
func BenchmarkGetRecordsPaging(b *testing.B) {
	total := 200_000
	if s := os.Getenv("PERF_RECORDS"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	srv := sluicetest.Start(b, sluicetest.Options{ExtraArgs: []string{"--shard-bits", "0"}})
	db := srv.DynamoDB()
	arn := createTable(b, db, "tbl", true)
	ctx := b.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w * 25; i < total; i += 8 * 25 {
				var reqs []types.WriteRequest
				for j := i; j < min(i+25, total); j++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(fmt.Sprint("k", j), j)}})
				}
				if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"tbl": reqs}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Let the relay publish the records and Pebble finish compacting, so
	// that the server's CPU below is the reading's.
	for prev := serverCPU(b, srv.PID); ; {
		time.Sleep(time.Second)
		now := serverCPU(b, srv.PID)
		if now-prev < 50*time.Millisecond {
			break
		}
		prev = now
	}
	st := dynamodbstreams.New(dynamodbstreams.Options{
		BaseEndpoint: aws.String(srv.URL), Region: sluicetest.Region, RetryMaxAttempts: 1,
		Credentials: srv.DynamoDB().Options().Credentials,
	})
	for b.Loop() {
		desc, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), serverCPU(b, srv.PID)
		read := 0
		for _, sh := range desc.StreamDescription.Shards {
			it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				b.Fatal(err)
			}
			iter := it.ShardIterator
			for iter != nil {
				out, err := st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
				for retry := 0; err != nil && retry < 3; retry++ {
					// aws-sdk-go-v2 on Go 1.26 now and then fails a large,
					// fast response with "use of closed network connection"
					// (../shared/bench/README.md); the iterator can be reused.
					out, err = st.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
				}
				if err != nil {
					b.Fatal(err)
				}
				read += len(out.Records)
				if len(out.Records) == 0 {
					break // the open shard's end
				}
				iter = out.NextShardIterator
			}
		}
		if read != total {
			b.Fatalf("read %d records, want %d", read, total)
		}
		b.ReportMetric(float64(read)/time.Since(start).Seconds(), "records/s")
		b.ReportMetric(float64((serverCPU(b, srv.PID)-cpu0).Microseconds())/float64(read), "server-µs/record")
	}
}

// BenchmarkFeedLatency writes 1,000 items a second for five seconds and
// measures, on a JetStream consumer of the table's stream, the time from
// each write's acknowledgement to the delivery of its record. Issue 6 asks
// for p99 <= 5 ms.
func BenchmarkFeedLatency(b *testing.B) {
	srv := sluicetest.Start(b, sluicetest.Options{})
	db := srv.DynamoDB()
	createTable(b, db, "tbl", true)
	ctx := b.Context()
	// The first write creates the JetStream stream.
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item("warm", 0)}); err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect(srv.NATSURL)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	var stream jetstream.Stream
	for stream == nil {
		for name := range js.StreamNames(ctx).Name() {
			if stream, err = js.Stream(ctx, name); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	var mu sync.Mutex
	acked := map[string]time.Time{}
	delivered := map[string]time.Time{}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		b.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		now := time.Now()
		mu.Lock()
		delivered[m.Headers().Get("ce-subject")] = now
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	for b.Loop() {
		tick := time.NewTicker(time.Millisecond)
		for i := range 5000 {
			<-tick.C
			key := fmt.Sprintf("k%d-%d", b.N, i)
			go func() {
				if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item(key, i)}); err != nil {
					b.Error(err)
					return
				}
				now := time.Now()
				mu.Lock()
				acked[`{"pk":{"S":"`+key+`"}}`] = now
				mu.Unlock()
			}()
		}
		tick.Stop()
	}
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for k, a := range acked {
		d, ok := delivered[k]
		if !ok {
			b.Fatalf("record of %s never delivered", k)
		}
		lat = append(lat, max(0, d.Sub(a)))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
