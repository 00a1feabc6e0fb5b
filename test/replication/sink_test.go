package replication

import (
	"maps"
	"math/rand/v2"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sluicedb/sluice/engine/attr"
	repsink "github.com/sluicedb/sluice/sinks/dynamodb"
	"github.com/sluicedb/sluice/test/sluicetest"
)

// TestReplicationSinks replicates through the product: a source Sluice
// with two replication sinks (`sluice sinks create --type replication`),
// one to a second Sluice and one to DynamoDB Local, under writes, with the
// source SIGKILLed and restarted in the middle. At the end both
// destinations' full scans, without the reserved attribute, equal the
// source's.
func TestReplicationSinks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Sluice servers and DynamoDB Local")
	}
	src := sluicetest.Start(t, sluicetest.Options{Env: []string{
		// The sinks sign as the test's clients do: DynamoDB Local keeps a
		// database per access key.
		"AWS_ACCESS_KEY_ID=" + sluicetest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + sluicetest.SecretAccessKey,
	}})
	dst := sluicetest.Start(t, sluicetest.Options{})
	ddbLocal := sluicetest.StartDynamoDBLocal(t, sluicetest.DynamoDBLocalOptions{})
	ctx := sluicetest.Context(t)
	dstDB := dst.DynamoDB()
	localDB := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(ddbLocal), Region: sluicetest.Region,
		Credentials: dstDB.Options().Credentials, HTTPClient: sluicetest.HTTPClient})
	for _, c := range []*dynamodb.Client{src.DynamoDB(), dstDB, localDB} {
		createTable(t, c)
	}
	for name, url := range map[string]string{"to-sluice": dst.URL, "to-local": ddbLocal} {
		out, err := exec.Command(sluicetest.Build(t), "sinks", "create", "--endpoint", src.URL, "--name", name,
			"--table", table, "--type", "replication", "--target-endpoint", url).CombinedOutput()
		if err != nil {
			t.Fatalf("sinks create %s: %v\n%s", name, err, out)
		}
	}

	var mu sync.RWMutex // held for reading by writers, for writing by the kill
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for i := range opsEach / 2 {
				for {
					mu.RLock()
					err := randomOp(ctx, src.DynamoDB(), rng, w, i)
					mu.RUnlock()
					if err == nil {
						break
					}
					if ctx.Err() != nil {
						t.Error(err)
						return
					}
					time.Sleep(20 * time.Millisecond) // the source restarts
				}
			}
		})
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	src.Kill()
	src.Restart(t)
	mu.Unlock()
	wg.Wait()

	want := scan(t, src.DynamoDB())
	for _, d := range []struct {
		name string
		c    *dynamodb.Client
	}{{"sluice", dstDB}, {"dynamodb-local", localDB}} {
		deadline := time.Now().Add(90 * time.Second)
		for {
			got := scan(t, d.c)
			for _, it := range got {
				delete(it, repsink.RepAttribute)
			}
			if maps.EqualFunc(got, want, attr.ItemsEqual) {
				t.Logf("%s: %d items, as the source", d.name, len(got))
				break
			}
			if time.Now().After(deadline) {
				diff := 0
				for k, it := range want {
					if g, ok := got[k]; !ok || !attr.ItemsEqual(g, it) {
						diff++
					}
				}
				t.Fatalf("%s: %d of %d items differ from the source, %d items there\n%s", d.name, diff, len(want), len(got), src.Output())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
