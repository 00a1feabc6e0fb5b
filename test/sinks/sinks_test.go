// Package sinks tests sinks end to end: the real sluice binary, `sluice
// sinks` and `sluice audit verify`, with kill -9 during delivery.
package sinks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// sluice runs the CLI and returns its output; it fails t on a non-zero
// exit.
func sluice(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runSluice(t, args...)
	if err != nil {
		t.Fatalf("sluice %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func runSluice(t testing.TB, args ...string) ([]byte, error) {
	return exec.Command(sluicetest.Build(t), args...).CombinedOutput()
}

func deleteInput(pk string) *dynamodb.DeleteItemInput {
	return &dynamodb.DeleteItemInput{TableName: aws.String("Orders"),
		Key: map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: pk}}}
}

func createTable(ctx context.Context, t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	createTableTB(ctx, t, db, name)
}

func createTableTB(ctx context.Context, t testing.TB, db *dynamodb.Client, name string) {
	t.Helper()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
}

// put writes an item, retrying while the server restarts.
func put(ctx context.Context, t *testing.T, s *sluicetest.Server, table string, item map[string]dbtypes.AttributeValue) {
	t.Helper()
	for {
		_, err := s.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAuditSurvivesKill: an audit sink holds every acknowledged change
// exactly once, in a chain that verifies, through two kill -9s.
func TestAuditSurvivesKill(t *testing.T) {
	ctx := sluicetest.Context(t)
	s := sluicetest.Start(t, sluicetest.Options{})
	createTable(ctx, t, s.DynamoDB(), "Orders")
	dir := t.TempDir()
	sluice(t, "sinks", "create", "--endpoint", s.URL, "--name", "aud", "--table", "Orders", "--type", "audit", "--path", dir)

	const n = 600
	for i := range n {
		put(ctx, t, s, "Orders", map[string]dbtypes.AttributeValue{
			"pk": &dbtypes.AttributeValueMemberS{Value: fmt.Sprint("k", i%40)},
			"v":  &dbtypes.AttributeValueMemberN{Value: strconv.Itoa(i)},
		})
		if i == 200 || i == 420 {
			s.Kill()
			s.Restart(t)
		}
	}
	path := filepath.Join(dir, "Orders.jsonl")
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := count(t, path)
		if lines >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log has %d lines, want %d\n%s", lines, n, s.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more may come
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[int]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			EventName string `json:"eventName"`
			NewImage  struct {
				V struct {
					N string `json:"N"`
				} `json:"v"`
			} `json:"newImage"`
			Who struct {
				AccessKeyID string `json:"accessKeyId"`
				RequestID   string `json:"requestId"`
			} `json:"who"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Who.AccessKeyID != sluicetest.AccessKeyID || l.Who.RequestID == "" {
			t.Errorf("line without who made the change: %s", sc.Bytes())
		}
		v, _ := strconv.Atoi(l.NewImage.V.N)
		seen[v]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Errorf("change %d is in the log %d times", i, seen[i])
		}
	}
	if out := sluice(t, "audit", "verify", path); out == "" {
		t.Error("audit verify printed nothing")
	}
	var info struct {
		State string
		Stats struct{ RecordsDelivered uint64 }
	}
	if err := json.Unmarshal([]byte(sluice(t, "sinks", "get", "--endpoint", s.URL, "--name", "aud")), &info); err != nil || info.State != "Enabled" {
		t.Errorf("sinks get: %+v, %v", info, err)
	}
}

// count returns the log's complete lines (0 if it does not exist yet).
func count(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
