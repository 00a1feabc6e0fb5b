package sluicetest

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestLifecycle exercises the harness itself: start, raw requests, the SDK
// client, Kill, Restart on the same data directory and ports, Stop.
func TestLifecycle(t *testing.T) {
	s := Start(t, Options{ExtraArgs: []string{"--log-level", "info"}, Env: []string{"SLUICE_LOG_FORMAT=json"}})
	if s.PID == 0 || !strings.HasPrefix(s.URL, "http://127.0.0.1:") || !strings.HasPrefix(s.NATSURL, "nats://127.0.0.1:") {
		t.Fatalf("server: PID %d, URL %q, NATS %q", s.PID, s.URL, s.NATSURL)
	}
	st, hdr, body := RawRequest(t, s.URL, "DynamoDB_20120810.ListTables", `{}`, nil)
	if st != http.StatusOK || hdr.Get("x-amzn-RequestId") == "" || string(body) != `{"TableNames":[]}` {
		t.Errorf("ListTables: %d %q %s", st, hdr.Get("x-amzn-RequestId"), body)
	}
	ctx := Context(t)
	db := s.DynamoDB()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("life"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	put := func(pk string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("life"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}); err != nil {
			t.Fatal(err)
		}
	}
	has := func(pk string) bool {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("life"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	put("a")
	if recs := s.WaitRecords(t, "life", 1, defaultWait); len(recs) != 1 {
		t.Errorf("records: %d, want 1", len(recs))
	}

	url, pid := s.URL, s.PID
	s.Kill()
	if _, err := http.Get(url + "/"); err == nil {
		t.Errorf("server still answers after Kill")
	}
	s.Restart(t)
	if s.URL != url || s.PID == pid {
		t.Errorf("after Restart: URL %q (was %q), PID %d (was %d)", s.URL, url, s.PID, pid)
	}
	if !has("a") {
		t.Errorf("acknowledged item lost across Kill and Restart")
	}
	put("b")
	s.Restart(t) // clean stop, then start
	if !has("a") || !has("b") {
		t.Errorf("items lost across Restart")
	}
	s.Stop(t)
	if !strings.Contains(s.Output(), "sluice ready") {
		t.Errorf("output does not hold the ready line:\n%s", s.Output())
	}
}
