package wire

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
)

// TestAWSSDK drives the server with the unmodified AWS SDK for Go v2, with
// and without gzip responses: results decode, and errors arrive as the SDK's
// typed exceptions with their messages and, for a failed condition, the item.
func TestAWSSDK(t *testing.T) {
	s := NewServer(Options{Host: "test"})
	s.Handle("DynamoDB_20120810.ListTables", func(ctx context.Context, req *Request) (any, error) {
		return struct{ TableNames []string }{[]string{"a", "b"}}, nil
	})
	s.Handle("DynamoDB_20120810.PutItem", func(ctx context.Context, req *Request) (any, error) {
		var in struct {
			TableName string
			Item      attr.Item
		}
		if err := Decode(req.Body, &in); err != nil {
			return nil, err
		}
		return nil, &engine.ConditionFailedError{Item: in.Item}
	})
	s.Handle("DynamoDB_20120810.GetItem", func(ctx context.Context, req *Request) (any, error) {
		return nil, attr.Errorf(engine.ErrTableNotFound, "Requested resource not found: Table: t not found")
	})
	s.Handle("DynamoDB_20120810.DeleteItem", func(ctx context.Context, req *Request) (any, error) {
		return nil, engine.ErrClosed
	})
	ts := httptest.NewServer(s)
	defer ts.Close()

	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k1"}}
	for _, gz := range []bool{false, true} {
		c := dynamodb.New(dynamodb.Options{
			Region:                   "us-east-1",
			BaseEndpoint:             aws.String(ts.URL),
			Credentials:              credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
			EnableAcceptEncodingGzip: gz,
			RetryMaxAttempts:         1,
		})
		ctx := context.Background()

		out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil || len(out.TableNames) != 2 {
			t.Fatalf("gzip=%v ListTables: %v %v", gz, out, err)
		}

		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: key})
		var cf *types.ConditionalCheckFailedException
		if !errors.As(err, &cf) {
			t.Fatalf("gzip=%v PutItem: %T %v", gz, err, err)
		}
		if aws.ToString(cf.Message) != "The conditional request failed" {
			t.Errorf("gzip=%v message %q", gz, aws.ToString(cf.Message))
		}
		if s, ok := cf.Item["pk"].(*types.AttributeValueMemberS); !ok || s.Value != "k1" {
			t.Errorf("gzip=%v Item %#v", gz, cf.Item)
		}

		_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) || aws.ToString(rnf.Message) != "Requested resource not found: Table: t not found" {
			t.Errorf("gzip=%v GetItem: %T %v", gz, err, err)
		}

		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: key})
		var ise *types.InternalServerError
		if !errors.As(err, &ise) {
			t.Errorf("gzip=%v DeleteItem: %T %v", gz, err, err)
		}

		_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("t")})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
			t.Errorf("gzip=%v DeleteTable: %T %v", gz, err, err)
		}
	}
}
