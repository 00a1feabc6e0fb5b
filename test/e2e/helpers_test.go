// Package e2e tests the sluice binary end to end through the AWS SDK for Go
// v2, raw HTTP and the change records on JetStream. The expected behaviour is
// real DynamoDB's, as recorded by the public conformance suite (see
// /work/notes/conformance-digest.md): messages marked "suite" there are
// compared verbatim; those only known from reference emulators are compared
// verbatim too, and their failures say "(reference text)".
package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// env is one test's server, client and context.
type env struct {
	srv *sluicetest.Server
	db  *dynamodb.Client
	ctx context.Context
}

func start(t *testing.T) *env {
	t.Helper()
	srv := sluicetest.Start(t, sluicetest.Options{})
	return &env{srv: srv, db: srv.DynamoDB(), ctx: sluicetest.Context(t)}
}

const arnPrefix = "arn:aws:dynamodb:us-east-1:000000000000:table/"

// Where an expected message comes from.
const (
	suite = "suite"     // asserted by the conformance suite against real DynamoDB
	ref   = "reference" // best known text (reference emulators recorded against DynamoDB)
	// recorded from DynamoDB by a later conformance suite
	// (paritysuite/dynamodb-conformance and its forks), not yet in ours
	recorded = "recorded"
)

// wantErr fails t unless err is the API error code with message msg
// (compared exactly; "" skips the message). src says how sure the text is.
func wantErr(t *testing.T, err error, code, msg, src string) {
	t.Helper()
	if err == nil {
		t.Errorf("got success, want %s %q", code, msg)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("got non-API error %v, want %s", err, code)
		return
	}
	if ae.ErrorCode() != code {
		t.Errorf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
		return
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Errorf("%s message (%s text):\n got: %q\nwant: %q", code, src, ae.ErrorMessage(), msg)
	}
}

// wantErrContains is wantErr with messages that must contain each part.
func wantErrContains(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	wantErr(t, err, code, "", suite)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == code {
		for _, p := range parts {
			if !strings.Contains(ae.ErrorMessage(), p) {
				t.Errorf("%s message %q does not contain %q", code, ae.ErrorMessage(), p)
			}
		}
	}
}

// must returns a function that fails t on err and otherwise returns v:
// out := must(db.Call(ctx, in))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// Attribute value constructors.
func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
func bv(b []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: b} }
func boolv(b bool) types.AttributeValue {
	return &types.AttributeValueMemberBOOL{Value: b}
}
func nullv() types.AttributeValue { return &types.AttributeValueMemberNULL{Value: true} }
func mv(m map[string]types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: m}
}
func lv(l ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: l}
}
func ssv(s ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: s} }
func nsv(s ...string) types.AttributeValue { return &types.AttributeValueMemberNS{Value: s} }
func bsv(b ...[]byte) types.AttributeValue { return &types.AttributeValueMemberBS{Value: b} }

type item = map[string]types.AttributeValue

// norm turns an attribute value into plain Go values that compare with
// reflect.DeepEqual, set members sorted (DynamoDB does not keep set order).
func norm(v types.AttributeValue) any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(x.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": normItem(x.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = norm(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": sorted(x.Value)}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": sorted(x.Value)}
	case *types.AttributeValueMemberBS:
		s := make([]string, len(x.Value))
		for i, b := range x.Value {
			s[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": sorted(s)}
	case nil:
		return nil
	default:
		return fmt.Sprintf("unknown %T", v)
	}
}

func normItem(it item) map[string]any {
	if it == nil {
		return nil
	}
	out := make(map[string]any, len(it))
	for k, v := range it {
		out[k] = norm(v)
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// wantItem fails t unless got equals want (sets compared ignoring order).
func wantItem(t *testing.T, got, want item) {
	t.Helper()
	g, w := normItem(got), normItem(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("item mismatch:\n got: %v\nwant: %v", g, w)
	}
}

// Table definitions.

func keySchema(hash string, rng ...string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if len(rng) > 0 {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng[0]), KeyType: types.KeyTypeRange})
	}
	return ks
}

func attrDefs(pairs ...string) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, types.AttributeDefinition{AttributeName: aws.String(pairs[i]),
			AttributeType: types.ScalarAttributeType(pairs[i+1])})
	}
	return out
}

// createHash creates an on-demand table keyed by pk (S).
func (e *env) createHash(t *testing.T, name string) {
	t.Helper()
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            keySchema("pk"),
		AttributeDefinitions: attrDefs("pk", "S"),
		BillingMode:          types.BillingModePayPerRequest,
	}))(t)
}

// createComposite creates an on-demand table keyed by pk (S) and sk of type
// skType.
func (e *env) createComposite(t *testing.T, name, skType string) {
	t.Helper()
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            keySchema("pk", "sk"),
		AttributeDefinitions: attrDefs("pk", "S", "sk", skType),
		BillingMode:          types.BillingModePayPerRequest,
	}))(t)
}

// conformanceComposite is the conformance suite's shared composite table:
// two LSIs and two GSIs, provisioned 5/5.
func conformanceComposite(name string) *dynamodb.CreateTableInput {
	pt := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	return &dynamodb.CreateTableInput{
		TableName:             aws.String(name),
		KeySchema:             keySchema("pk", "sk"),
		AttributeDefinitions:  attrDefs("pk", "S", "sk", "S", "lsi1sk", "S", "lsi2sk", "S"),
		BillingMode:           types.BillingModeProvisioned,
		ProvisionedThroughput: pt,
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("lsi1"), KeySchema: keySchema("pk", "lsi1sk"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			{IndexName: aws.String("lsi2"), KeySchema: keySchema("pk", "lsi2sk"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"lsi1sk"}}},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("gsi1"), KeySchema: keySchema("lsi1sk"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}, ProvisionedThroughput: pt},
			{IndexName: aws.String("gsi2"), KeySchema: keySchema("lsi1sk", "lsi2sk"),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"data"}}, ProvisionedThroughput: pt},
		},
	}
}

func (e *env) describe(t *testing.T, name string) *types.TableDescription {
	t.Helper()
	out := must(e.db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}))(t)
	if out.Table == nil {
		t.Fatalf("DescribeTable %s: no Table in the response", name)
	}
	return out.Table
}

func (e *env) put(t *testing.T, table string, it item) {
	t.Helper()
	must(e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}))(t)
}

func (e *env) get(t *testing.T, table string, key item) item {
	t.Helper()
	out := must(e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)}))(t)
	return out.Item
}

func (e *env) del(t *testing.T, table string, key item) {
	t.Helper()
	must(e.db.DeleteItem(e.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}))(t)
}

// raw sends one request with RawRequest and returns status, headers, body.
func (e *env) raw(t *testing.T, op, body string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	target := ""
	if op != "" {
		target = "DynamoDB_20120810." + op
	}
	st, h, b := sluicetest.RawRequest(t, e.srv.URL, target, body, hdr)
	return st, h, b
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }

// noMessage tells wantRaw that the error body must carry no message at all.
const noMessage = "\x00none"

// wantRaw checks a raw error answer: status, exact __type, and the message
// (from "message" or "Message"; "" skips it, noMessage requires none).
func wantRaw(t *testing.T, status int, body []byte, wantStatus int, wantType, wantMsg string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d (body %s)", status, wantStatus, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("error body is not JSON: %q", body)
		return
	}
	if got, _ := m["__type"].(string); got != wantType {
		t.Errorf("__type = %q, want %q (body %s)", got, wantType, body)
	}
	msg, hasLower := m["message"].(string)
	if !hasLower {
		msg, _ = m["Message"].(string)
	}
	_, hasUpper := m["Message"]
	switch {
	case wantMsg == noMessage:
		if hasLower || hasUpper {
			t.Errorf("body %s carries a message; DynamoDB sends none here", body)
		}
	case wantMsg != "" && msg != wantMsg:
		t.Errorf("message:\n got: %q\nwant: %q", msg, wantMsg)
	}
}
