// Tests of replication: a source Sluice's change records applied through
// the replication sink (sinks/dynamodb) to DynamoDB Local and to a second
// Sluice, under writes and a SIGKILL of the destination Sluice, then full
// scans compared.

package replication

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	repsink "github.com/sluicedb/sluice/sinks/dynamodb"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

const (
	table     = "Orders"
	writers   = 4
	opsEach   = 600 // per writer
	users     = 60  // partition keys; 3 sort keys each
	batchSize = 100
	// downFor is how long the destination Sluice stays killed.
	downFor = time.Second
)

// dest is one destination: its sink and how to scan it.
type dest struct {
	name   string
	sink   *repsink.Sink
	client *dynamodb.Client
	// onBackOff runs when the sink asks to back off (restarts a killed
	// destination once it was down long enough).
	onBackOff func()
	backOffs  int
}

// TestReplicate writes to a source Sluice while its change records are fed,
// in stream order, in batches, through a replication sink to each
// destination; halfway, the destination Sluice is SIGKILLed and restarted
// (the sink backs off meanwhile). At the end every destination's full scan,
// without the reserved attribute, equals the source's, and every item's
// reserved attribute names the item's last change.
func TestReplicate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Sluice servers and DynamoDB Local")
	}
	src := sluicetest.Start(t, sluicetest.Options{})
	dst := sluicetest.Start(t, sluicetest.Options{})
	ddbLocal := sluicetest.StartDynamoDBLocal(t, sluicetest.DynamoDBLocalOptions{})
	ctx := sluicetest.Context(t)

	srcDB := src.DynamoDB()
	dstDB := dst.DynamoDB()
	localDB := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(ddbLocal), Region: sluicetest.Region,
		Credentials: dstDB.Options().Credentials, HTTPClient: sluicetest.HTTPClient})
	for _, c := range []*dynamodb.Client{srcDB, dstDB, localDB} {
		createTable(t, c)
	}

	var dests []*dest
	for _, d := range []struct {
		name, url string
		client    *dynamodb.Client
	}{{"sluice", dst.URL, dstDB}, {"dynamodb-local", ddbLocal, localDB}} {
		s, err := repsink.New(repsink.Options{Endpoint: d.url, Table: table,
			// DynamoDB Local keeps a database per access key: the one
			// that created the table.
			AccessKeyID: sluicetest.AccessKeyID, SecretAccessKey: sluicetest.SecretAccessKey})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Connect(ctx); err != nil {
			t.Fatalf("connecting to %s: %v", d.name, err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		dests = append(dests, &dest{name: d.name, sink: s, client: d.client, onBackOff: func() {}})
	}

	// The writers.
	var wg sync.WaitGroup
	writeErr := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range opsEach {
				if err := randomOp(ctx, srcDB, rng, w, i); err != nil {
					writeErr <- fmt.Errorf("writer %d, op %d: %w", w, i, err)
					return
				}
			}
		})
	}
	writing := make(chan struct{})
	go func() {
		wg.Wait()
		close(writing)
	}()

	// The replication, on the test's goroutine: read what the stream holds
	// beyond what was applied, apply it in batches, until the writers are
	// done and everything is applied.
	var last uint64 // stream sequence of the last record applied
	applied := 0
	killed := false
	var downSince time.Time
	for {
		done := false
		select {
		case <-writing:
			done = true
		default:
		}
		var recs []sinks.Record
		src.EachRecord(t, table, 0, time.Minute, func(r sluicetest.Record) {
			if r.StreamSeq <= last {
				return
			}
			last = r.StreamSeq
			recs = append(recs, decode(t, r))
		})
		for batch := range slices.Chunk(recs, batchSize) {
			for _, d := range dests {
				apply(t, d, batch)
			}
			applied += len(batch)
			if !killed && applied >= writers*opsEach/2 {
				killed = true
				dst.Kill()
				downSince = time.Now()
				t.Logf("destination sluice killed after %d records", applied)
				dests[0].onBackOff = func() {
					if !downSince.IsZero() && time.Since(downSince) >= downFor {
						dst.Restart(t)
						downSince = time.Time{}
						t.Logf("destination sluice restarted")
					}
				}
			}
		}
		if done && len(recs) == 0 {
			break
		}
		if len(recs) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	close(writeErr)
	for err := range writeErr {
		t.Fatal(err)
	}
	if !killed || dests[0].backOffs == 0 {
		t.Errorf("the destination Sluice was killed: %v; the sink backed off %d times; want both", killed, dests[0].backOffs)
	}
	t.Logf("%d records replicated; back-offs: %s %d, %s %d", applied, dests[0].name, dests[0].backOffs, dests[1].name, dests[1].backOffs)

	// Compare.
	want := scan(t, srcDB)
	lastOf := map[string]string{}
	src.EachRecord(t, table, applied, time.Minute, func(r sluicetest.Record) {
		rec := decode(t, r)
		lastOf[string(rec.Keys)] = repsink.RepValue(rec.Time, rec.Shard, rec.Seq)
	})
	for _, d := range dests {
		got := scan(t, d.client)
		reps := map[string]string{}
		for k, it := range got {
			reps[k] = it[repsink.RepAttribute].S
			delete(it, repsink.RepAttribute)
		}
		if !maps.EqualFunc(got, want, attr.ItemsEqual) {
			for k, it := range want {
				if g, ok := got[k]; !ok || !attr.ItemsEqual(g, it) {
					t.Errorf("%s: item %s is %s, want %s", d.name, k, attr.AppendItemJSON(nil, g), attr.AppendItemJSON(nil, it))
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: item %s should not be there", d.name, k)
				}
			}
		}
		for k, rep := range reps {
			if _, ok := want[k]; ok && rep != lastOf[k] {
				t.Errorf("%s: item %s: %s = %q, want the last change's %q", d.name, k, repsink.RepAttribute, rep, lastOf[k])
			}
		}
		t.Logf("%s: %d items, as the source", d.name, len(got))
	}
}

// apply writes batch until the sink takes all of it: after a back-off it
// waits as asked, after a partial failure it goes on from the lowest failed
// record. Any other error fails t after a minute of retries.
func apply(t *testing.T, d *dest, batch []sinks.Record) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := d.sink.Write(context.Background(), batch)
		var bo *sinks.BackOffError
		var be *sinks.BatchError
		switch {
		case err == nil:
			return
		case errors.As(err, &bo):
			d.backOffs++
			d.onBackOff()
			time.Sleep(min(bo.After, 200*time.Millisecond))
		case errors.As(err, &be):
			t.Logf("%s: %v", d.name, err)
			batch = batch[be.Lowest():]
		default:
			t.Logf("%s: %v", d.name, err)
			time.Sleep(100 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: writing a batch: %v", d.name, err)
		}
	}
}

// decode turns a stream message into the record a sink receives.
func decode(t *testing.T, r sluicetest.Record) sinks.Record {
	t.Helper()
	sh, err := strconv.ParseUint(r.Subject[strings.LastIndexByte(r.Subject, '.')+1:], 10, 32)
	if err != nil {
		t.Fatalf("subject %q: %v", r.Subject, err)
	}
	rec, err := sinks.Decode(table, shards.ID(sh), r.Header.Get, r.Data)
	if err != nil {
		t.Fatalf("decoding record %d: %v", r.StreamSeq, err)
	}
	return rec
}

func createTable(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	if _, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		BillingMode: types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("creating %s: %v", table, err)
	}
}

// randomOp makes one random change on the source: a put, an update or a
// delete of one of users*3 items.
func randomOp(ctx context.Context, c *dynamodb.Client, rng *rand.Rand, w, i int) error {
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("user-%03d", rng.IntN(users))},
		"sk": &types.AttributeValueMemberN{Value: strconv.Itoa(rng.IntN(3))},
	}
	var err error
	switch n := rng.IntN(10); {
	case n < 5:
		item := maps.Clone(key)
		item["writer"] = &types.AttributeValueMemberN{Value: strconv.Itoa(w)}
		item["op"] = &types.AttributeValueMemberN{Value: strconv.Itoa(i)}
		item["price"] = &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", rng.IntN(1000), rng.IntN(100))}
		item["tags"] = &types.AttributeValueMemberSS{Value: []string{"a", strconv.Itoa(i)}}
		item["doc"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberBOOL{Value: i%2 == 0}, &types.AttributeValueMemberNULL{Value: true},
				&types.AttributeValueMemberB{Value: []byte{byte(w), byte(i)}},
			}},
		}}
		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	case n < 8:
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression: aws.String("ADD hits :one SET seen = :w"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": &types.AttributeValueMemberN{Value: "1"},
				":w":   &types.AttributeValueMemberS{Value: fmt.Sprintf("%d/%d", w, i)},
			}})
	default:
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
	}
	return err
}

// scan returns a table's items by the canonical JSON of their key.
func scan(t *testing.T, c *dynamodb.Client) map[string]attr.Item {
	t.Helper()
	out := map[string]attr.Item{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scanning: %v", err)
		}
		for _, av := range page.Items {
			it := item(t, av)
			if err := attr.ValidateItem(it); err != nil {
				t.Fatalf("scanned an invalid item: %v", err)
			}
			out[string(attr.AppendItemJSON(nil, attr.Item{"pk": it["pk"], "sk": it["sk"]}))] = it
		}
	}
	return out
}

// item converts an SDK item to an attr.Item.
func item(t *testing.T, m map[string]types.AttributeValue) attr.Item {
	t.Helper()
	out := attr.Item{}
	for k, av := range m {
		out[k] = value(t, av)
	}
	return out
}

func value(t *testing.T, av types.AttributeValue) attr.Value {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return attr.S(v.Value)
	case *types.AttributeValueMemberN:
		return attr.N(attr.Number(v.Value))
	case *types.AttributeValueMemberB:
		return attr.B(v.Value)
	case *types.AttributeValueMemberBOOL:
		return attr.Bool(v.Value)
	case *types.AttributeValueMemberNULL:
		return attr.Null()
	case *types.AttributeValueMemberM:
		return attr.M(item(t, v.Value))
	case *types.AttributeValueMemberL:
		l := make([]attr.Value, len(v.Value))
		for i, e := range v.Value {
			l[i] = value(t, e)
		}
		return attr.L(l)
	case *types.AttributeValueMemberSS:
		return attr.Value{T: attr.TypeSS, SS: v.Value}
	case *types.AttributeValueMemberNS:
		ns := make([]attr.Number, len(v.Value))
		for i, n := range v.Value {
			ns[i] = attr.Number(n)
		}
		return attr.Value{T: attr.TypeNS, NS: ns}
	case *types.AttributeValueMemberBS:
		return attr.Value{T: attr.TypeBS, BS: v.Value}
	}
	t.Fatalf("unknown attribute value %T", av)
	return attr.Value{}
}
