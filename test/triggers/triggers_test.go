// Package triggers tests function triggers end to end: the real sluice
// binary, its `sluice triggers` CLI, and functions on HTTP servers, one a
// real Lambda handler (aws-lambda-go) behind the Runtime Interface
// Emulator's invocation path, one a CloudEvents webhook.
package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/consumers/target"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// rie serves a Lambda handler on the Runtime Interface Emulator's
// invocation path, as the emulator does: the handler's result as the body,
// or its error as {"errorMessage","errorType"} with status 200.
func rie(t *testing.T, handler any) *httptest.Server {
	h := lambda.NewHandler(handler)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/2015-03-31/functions/function/invocations" {
			http.NotFound(w, r)
			return
		}
		payload, _ := io.ReadAll(r.Body)
		out, err := h.Invoke(r.Context(), payload)
		if err != nil {
			out, _ = json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		}
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// cli runs `sluice triggers ...` against s and returns its output.
func cli(t *testing.T, s *sluicetest.Server, args ...string) string {
	t.Helper()
	args = append(append([]string{"triggers"}, args...), "--endpoint", s.URL)
	out, err := exec.Command(sluicetest.Build(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sluice %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func createTable(ctx context.Context, t *testing.T, db *dynamodb.Client, name string) {
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

// TestTriggersSurviveKill writes items while a Lambda trigger and a
// CloudEvents trigger deliver them, SIGKILLs the server twice during
// delivery, and checks that both functions saw every change, each item's
// changes in order (a change may come again after a kill, replayed from
// the checkpoint, but nothing new comes before anything older).
func TestTriggersSurviveKill(t *testing.T) {
	ctx := sluicetest.Context(t)
	s := sluicetest.Start(t, sluicetest.Options{})
	db := s.DynamoDB()
	createTable(ctx, t, db, "orders")

	type seen struct {
		mu    sync.Mutex
		byKey map[string][]int
	}
	record := func(s *seen, key string, v int) {
		s.mu.Lock()
		s.byKey[key] = append(s.byKey[key], v)
		s.mu.Unlock()
	}
	lambdaSeen := &seen{byKey: map[string][]int{}}
	var failOnce sync.Once
	fn := rie(t, func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for i, r := range ev.Records {
			if r.EventSourceArn == "" || r.EventName != "INSERT" && r.EventName != "MODIFY" {
				return resp, fmt.Errorf("unexpected record %+v", r)
			}
			v, err := strconv.Atoi(r.Change.NewImage["v"].Number())
			if err != nil {
				return resp, err
			}
			// Once, the function fails on a record: it and what follows are
			// delivered again (ReportBatchItemFailures).
			failed := false
			if v == 77 {
				failOnce.Do(func() { failed = true })
			}
			if failed {
				for _, rest := range ev.Records[i:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rest.Change.SequenceNumber})
				}
				return resp, nil
			}
			record(lambdaSeen, r.Change.Keys["pk"].String(), v)
		}
		return resp, nil
	})
	ceSeen := &seen{byKey: map[string][]int{}}
	const secret = "s3cret"
	var badSig sync.Once
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions { // the abuse-protection handshake
			w.Header().Set("WebHook-Allowed-Origin", r.Header.Get("WebHook-Request-Origin"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := target.Verify(secret, r.Header.Get(target.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			badSig.Do(func() { t.Errorf("webhook signature: %v", err) })
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var batch []struct {
			Type string `json:"type"`
			Data struct {
				DDB struct {
					Keys     map[string]map[string]string `json:"Keys"`
					NewImage map[string]map[string]string `json:"NewImage"`
				} `json:"dynamodb"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		for _, ev := range batch {
			v, _ := strconv.Atoi(ev.Data.DDB.NewImage["v"]["N"])
			record(ceSeen, ev.Data.DDB.Keys["pk"]["S"], v)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	cli(t, s, "create", "--name", "mail", "--table", "orders", "--target", "lambda",
		"--url", fn.URL+"/2015-03-31/functions/function/invocations", "--batch-size", "10",
		"--starting-position", "TRIM_HORIZON", "--report-batch-item-failures",
		"--filter", `{"eventName":["INSERT","MODIFY"]}`)
	cli(t, s, "create", "--name", "hook", "--table", "orders", "--target", "cloudevents",
		"--url", hook.URL, "--batch-size", "50", "--parallelization-factor", "4",
		"--starting-position", "TRIM_HORIZON", "--secret", secret)
	if out := cli(t, s, "list", "--table", "orders"); !json.Valid([]byte(out)) {
		t.Fatalf("list: %s", out)
	}

	const keys, versions = 20, 40
	put := func(k, v int) {
		for {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]dbtypes.AttributeValue{
				"pk": &dbtypes.AttributeValueMemberS{Value: fmt.Sprint("k", k)},
				"v":  &dbtypes.AttributeValueMemberN{Value: strconv.Itoa(v)},
			}})
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // the server is restarting
		}
	}
	for v := range versions {
		for k := range keys {
			put(k, v*keys+k)
		}
		if v == 12 || v == 27 {
			s.Kill()
			s.Restart(t)
			db = s.DynamoDB()
		}
	}
	check := func(name string, sn *seen) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			sn.mu.Lock()
			done := true
			for k := range keys {
				if !slices.Contains(sn.byKey[fmt.Sprint("k", k)], (versions-1)*keys+k) {
					done = false
				}
			}
			sn.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not every last version arrived:\n%s", name, s.Output())
			}
			time.Sleep(50 * time.Millisecond)
		}
		sn.mu.Lock()
		defer sn.mu.Unlock()
		total := 0
		for _, vs := range sn.byKey {
			total += len(vs)
		}
		t.Logf("%s: %d deliveries of %d changes (the rest replayed after the kills)", name, total, keys*versions)
		for k := range keys {
			key := fmt.Sprint("k", k)
			vs := sn.byKey[key]
			got := map[int]bool{}
			high := -1
			for _, v := range vs {
				if !got[v] && v < high {
					t.Errorf("%s: %s: version %d first arrived after %d: %v", name, key, v, high, vs)
				}
				got[v] = true
				high = max(high, v)
			}
			for v := range versions {
				if !got[v*keys+k] {
					t.Errorf("%s: %s: version %d lost", name, key, v*keys+k)
				}
			}
		}
	}
	check("lambda", lambdaSeen)
	check("cloudevents", ceSeen)

	var info struct {
		State                string
		LastProcessingResult string
		Stats                struct{ Invocations, RecordsDelivered uint64 }
	}
	if err := json.Unmarshal([]byte(cli(t, s, "get", "--name", "mail")), &info); err != nil {
		t.Fatal(err)
	}
	if info.State != "Enabled" || info.Stats.Invocations == 0 {
		t.Errorf("get: %+v", info)
	}
	cli(t, s, "disable", "--name", "mail")
	cli(t, s, "delete", "--name", "hook")
	if out := cli(t, s, "list"); !json.Valid([]byte(out)) {
		t.Fatalf("list: %s", out)
	}
	// A bad setting is refused with DynamoDB's ValidationException.
	cmd := exec.Command(sluicetest.Build(t), "triggers", "create", "--endpoint", s.URL, "--name", "x", "--table", "orders",
		"--target", "lambda", "--url", fn.URL, "--starting-position", "TRIM_HORIZON", "--batch-size", "0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || firstWord(string(out), "triggers create: ") != "ValidationException" {
		t.Errorf("create with --batch-size 0: %v: %s", err, out)
	}
}

// firstWord returns the word after prefix in s.
func firstWord(s, prefix string) string {
	_, after, ok := strings.Cut(s, prefix)
	if !ok {
		return ""
	}
	word, _, _ := strings.Cut(after, ":")
	return word
}
