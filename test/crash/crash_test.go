// Package crash kills `sluice serve` with SIGKILL while writers run, restarts
// it, and checks the two promises of the write path: every acknowledged write
// survives with its last acknowledged value, and the table's JetStream stream
// holds exactly one record per change, per shard in sequence order with no
// gap.
//
// CRASH_CYCLES sets the number of kill/restart cycles (3 by default; `make
// crash` runs 100).
package crash

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

const (
	table         = "crash"
	writers       = 8
	keysPerWriter = 16
)

// op is one write: a put of a unique value, or a delete.
type op struct {
	put bool
	val int64
}

// key is one item, owned by one writer, so its history is sequential.
type key struct {
	name    string
	applied []op // acknowledged (or proven applied) changes, in order
	present bool // whether the item exists after applied
	value   int64
	// inflight is the write sent when the server died: its outcome is
	// unknown until the item is read back after the restart.
	inflight *op
}

func (k *key) apply(o op) {
	k.applied = append(k.applied, o)
	k.present, k.value = o.put, o.val
}

var nextVal atomic.Int64

func cycles() int {
	if n, err := strconv.Atoi(os.Getenv("CRASH_CYCLES")); err == nil && n > 0 {
		return n
	}
	return 3
}

func TestCrash(t *testing.T) {
	srv := sluicetest.Start(t, sluicetest.Options{})
	ctx := context.Background()
	db := srv.DynamoDB()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([][]*key, writers)
	for w := range keys {
		for j := range keysPerWriter {
			keys[w] = append(keys[w], &key{name: fmt.Sprintf("w%d-k%d", w, j)})
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	n := cycles()
	for c := range n {
		db := srv.DynamoDB()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range writers {
			seed := rng.Uint64()
			wg.Go(func() { write(db, keys[w], seed, stop) })
		}
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
		srv.Restart(t)
		resolveInflight(t, srv.DynamoDB(), keys)
		t.Logf("cycle %d/%d: killed and restarted", c+1, n)
	}
	verifyItems(t, srv.DynamoDB(), keys)
	verifyStream(t, srv, keys)
}

// write issues random puts and deletes on the writer's keys until stop, or
// until a call fails (the server died): that call's outcome is unknown.
func write(db *dynamodb.Client, ks []*key, seed uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		default:
		}
		k := ks[rng.IntN(len(ks))]
		o := op{put: true, val: nextVal.Add(1)}
		if k.present && rng.IntN(4) == 0 {
			o = op{put: false}
		}
		k.inflight = &o
		var err error
		if o.put {
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: k.name},
					"v":  &types.AttributeValueMemberN{Value: strconv.FormatInt(o.val, 10)},
				},
			})
		} else {
			_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String(table),
				Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k.name}},
			})
		}
		if err != nil {
			return // unknown outcome: resolved after the restart
		}
		k.inflight = nil
		k.apply(o)
	}
}

// get reads a key's current value (consistent read).
func get(t *testing.T, db *dynamodb.Client, name string) (present bool, val int64) {
	t.Helper()
	var out *dynamodb.GetItemOutput
	var err error
	for range 5 { // the client occasionally races a fresh server's first accept
		out, err = db.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName:      aws.String(table),
			Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: name}},
			ConsistentRead: aws.Bool(true),
		})
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if out.Item == nil {
		return false, 0
	}
	n, ok := out.Item["v"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("get %s: unexpected item %v", name, out.Item)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return true, v
}

// resolveInflight decides, from the restarted server's state, whether each
// write that was in flight at the kill was applied.
func resolveInflight(t *testing.T, db *dynamodb.Client, keys [][]*key) {
	t.Helper()
	for _, ks := range keys {
		for _, k := range ks {
			if k.inflight == nil {
				continue
			}
			present, val := get(t, db, k.name)
			o := *k.inflight
			k.inflight = nil
			switch {
			case o.put && present && val == o.val:
				k.apply(o)
			case !o.put && !present && k.present:
				k.apply(o)
			}
		}
	}
}

// verifyItems checks every acknowledged write is there with its last value.
func verifyItems(t *testing.T, db *dynamodb.Client, keys [][]*key) {
	t.Helper()
	for _, ks := range keys {
		for _, k := range ks {
			present, val := get(t, db, k.name)
			if present != k.present || (present && val != k.value) {
				t.Errorf("%s: have present=%v value=%d, want present=%v value=%d (after %d writes)",
					k.name, present, val, k.present, k.value, len(k.applied))
			}
		}
	}
}

// streamRecord is the part of the DynamoDB Streams record the check needs.
type streamRecord struct {
	EventName string `json:"eventName"`
	Dynamodb  struct {
		Keys struct {
			PK struct{ S string } `json:"pk"`
		}
		NewImage *struct {
			V struct{ N string } `json:"v"`
		}
		SequenceNumber string
	} `json:"dynamodb"`
}

// verifyStream checks the stream holds every applied change exactly once, in
// order per key, with dense sequence numbers per shard.
func verifyStream(t *testing.T, srv *sluicetest.Server, keys [][]*key) {
	t.Helper()
	want := 0
	byName := map[string]*key{}
	for _, ks := range keys {
		for _, k := range ks {
			want += len(k.applied)
			byName[k.name] = k
		}
	}
	srv.WaitRecords(t, table, want, 60*time.Second)
	// Let a duplicate, if the relay were to publish one, arrive.
	time.Sleep(500 * time.Millisecond)
	recs := srv.Records(t, table)
	if len(recs) != want {
		t.Errorf("stream holds %d records, want %d (one per applied change)", len(recs), want)
	}
	lastSeq := map[string]shards.Seq{}
	seen := map[string]int{}
	for _, r := range recs {
		seq, err := shards.ParseSeq(r.Header.Get("ce-sequence"))
		if err != nil {
			t.Fatal(err)
		}
		if seq != lastSeq[r.Subject]+1 {
			t.Fatalf("%s: sequence %d follows %d (gap or duplicate)", r.Subject, seq, lastSeq[r.Subject])
		}
		lastSeq[r.Subject] = seq
		var sr streamRecord
		if err := json.Unmarshal(r.Data, &sr); err != nil {
			t.Fatalf("record %d: %v", r.StreamSeq, err)
		}
		if sr.Dynamodb.SequenceNumber != seq.String() {
			t.Fatalf("record %d: SequenceNumber %s, ce-sequence %s", r.StreamSeq, sr.Dynamodb.SequenceNumber, seq)
		}
		k := byName[sr.Dynamodb.Keys.PK.S]
		if k == nil {
			t.Fatalf("record for unknown key %q", sr.Dynamodb.Keys.PK.S)
		}
		i := seen[k.name]
		seen[k.name]++
		if i >= len(k.applied) {
			t.Fatalf("%s: record %d beyond the %d applied changes", k.name, i+1, len(k.applied))
		}
		if err := matches(sr, k.applied[i], i == 0 || !k.applied[i-1].put); err != nil {
			t.Fatalf("%s change %d: %v", k.name, i+1, err)
		}
	}
	for name, k := range byName {
		if seen[name] != len(k.applied) {
			t.Errorf("%s: %d records, %d applied changes", name, seen[name], len(k.applied))
		}
	}
}

func matches(sr streamRecord, o op, wasAbsent bool) error {
	switch {
	case !o.put:
		if sr.EventName != "REMOVE" {
			return fmt.Errorf("got %s, want REMOVE", sr.EventName)
		}
	case wasAbsent && sr.EventName != "INSERT", !wasAbsent && sr.EventName != "MODIFY":
		return fmt.Errorf("got %s for a put (item was absent: %v)", sr.EventName, wasAbsent)
	case sr.Dynamodb.NewImage == nil || sr.Dynamodb.NewImage.V.N != strconv.FormatInt(o.val, 10):
		return errors.New("new image does not hold the put value " + strconv.FormatInt(o.val, 10))
	}
	return nil
}
