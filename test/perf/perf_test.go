// Package perf holds load benchmarks for operations the shared load
// generator (../shared/bench) does not drive: they start the real server,
// drive it through the AWS SDK from 16 concurrent clients and report the
// server's CPU time per operation (from /proc), which does not depend on
// who else uses the machine's cores.
//
//	go test -run '^$' -bench . -benchtime 20000x ./test/perf/
package perf

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// clients is the number of concurrent clients, as ddbbench's c=16.
const clients = 16

// serverCPU is the CPU time (user and system) process pid has used.
func serverCPU(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // from field 3 on
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

// run measures op from clients goroutines and reports the server's CPU
// microseconds per operation.
func run(b *testing.B, srv *sluicetest.Server, op func(r *rand.Rand) error) {
	b.SetParallelism((clients + 1) / 2) // × GOMAXPROCS 2
	cpu0 := serverCPU(b, srv.PID)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			if err := op(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((serverCPU(b, srv.PID)-cpu0).Microseconds())/float64(b.N), "server-µs/op")
}

// BenchmarkTransactWriteItems moves one unit between two of 1,000 accounts
// with a transaction of two conditional Updates: issue 4's target is at
// most 400 µs of server CPU per transaction.
func BenchmarkTransactWriteItems(b *testing.B) {
	srv := sluicetest.Start(b, sluicetest.Options{})
	db := srv.DynamoDB()
	ctx := b.Context()
	table := "accounts"
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		b.Fatal(err)
	}
	const accounts = 1000
	for i := 0; i < accounts; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < i+25; j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk":  &types.AttributeValueMemberS{Value: fmt.Sprint("acct-", j)},
				"bal": &types.AttributeValueMemberN{Value: "1000000000"},
			}}})
		}
		if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
			b.Fatal(err)
		}
	}
	one := map[string]types.AttributeValue{":amt": &types.AttributeValueMemberN{Value: "1"}}
	upd := func(acct int, expr string) *types.Update {
		return &types.Update{
			TableName:                 &table,
			Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("acct-", acct)}},
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String("bal >= :amt"),
			ExpressionAttributeValues: one,
		}
	}
	run(b, srv, func(r *rand.Rand) error {
		from := r.IntN(accounts)
		to := (from + 1 + r.IntN(accounts-1)) % accounts
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: upd(from, "SET bal = bal - :amt")},
			{Update: upd(to, "SET bal = bal + :amt")},
		}})
		return err
	})
}
