package dynamoapi

import (
	"fmt"
	"strings"
	"testing"
)

func TestTags(t *testing.T) {
	h := newHarness(t)
	h.ok("CreateTable", `{"TableName":"tags","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],`+
		`"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)
	arn, _ := path(h.ok("DescribeTable", `{"TableName":"tags"}`).body, "Table.TableArn").(string)
	list := func() string { return h.ok("ListTagsOfResource", fmt.Sprintf(`{"ResourceArn":%q}`, arn)).raw }

	// tier2/tags/basic.test.ts, step by step.
	if got := list(); got != `{"Tags":[]}` {
		t.Errorf("untagged: %s", got)
	}
	for _, step := range []struct{ op, body, want string }{
		{"TagResource", `"Tags":[{"Key":"env","Value":"test"},{"Key":"project","Value":"conformity"}]`,
			`{"Tags":[{"Key":"env","Value":"test"},{"Key":"project","Value":"conformity"}]}`},
		{"TagResource", `"Tags":[{"Key":"team","Value":"platform"}]`,
			`{"Tags":[{"Key":"env","Value":"test"},{"Key":"project","Value":"conformity"},{"Key":"team","Value":"platform"}]}`},
		{"UntagResource", `"TagKeys":["team"]`, `{"Tags":[{"Key":"env","Value":"test"},{"Key":"project","Value":"conformity"}]}`},
		{"UntagResource", `"TagKeys":["project","absent"]`, `{"Tags":[{"Key":"env","Value":"test"}]}`},
		{"TagResource", `"Tags":[{"Key":"env","Value":"production"}]`, `{"Tags":[{"Key":"env","Value":"production"}]}`},
	} {
		if got := h.ok(step.op, fmt.Sprintf(`{"ResourceArn":%q,%s}`, arn, step.body)).raw; got != "{}" {
			t.Errorf("%s %s: %s", step.op, step.body, got)
		}
		if got := list(); got != step.want {
			t.Errorf("after %s %s: %s, want %s", step.op, step.body, got, step.want)
		}
	}

	var tooMany []string
	for i := range 50 {
		tooMany = append(tooMany, fmt.Sprintf(`{"Key":"k%d","Value":""}`, i))
	}
	missing := "arn:aws:dynamodb:us-east-1:000000000000:table/nonexistent_table_xyz"
	runErrCases(t, h, []errCase{
		{"invalid ARN", "TagResource", `{"ResourceArn":"not-a-valid-arn","Tags":[{"Key":"env","Value":"test"}]}`, vex,
			"Invalid TableArn: Invalid ResourceArn provided as input not-a-valid-arn"},
		{"list missing table", "ListTagsOfResource", `{"ResourceArn":"` + missing + `"}`, "AccessDeniedException",
			"User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: " + missing},
		{"other account", "TagResource", `{"ResourceArn":"arn:aws:dynamodb:us-east-1:123456789012:table/tags","Tags":[{"Key":"a","Value":"b"}]}`, "AccessDeniedException", ""},
		{"other region", "ListTagsOfResource", `{"ResourceArn":"arn:aws:dynamodb:eu-west-1:000000000000:table/tags"}`, "AccessDeniedException", ""},
		{"tag missing table", "TagResource", `{"ResourceArn":"` + missing + `","Tags":[{"Key":"a","Value":"b"}]}`, rnf,
			"Requested resource not found: ResourcArn: " + missing + " not found"},
		{"untag missing table", "UntagResource", `{"ResourceArn":"` + missing + `","TagKeys":["a"]}`, rnf, "Requested resource not found"},
		{"missing ARN", "TagResource", `{"Tags":[{"Key":"a","Value":"b"}]}`, vex, "Invalid TableArn"},
		{"short table name in ARN", "ListTagsOfResource", `{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/ab"}`, vex,
			"Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:us-east-1:000000000000:table/ab"},
		{"no tags", "TagResource", `{"ResourceArn":"` + arn + `"}`, vex,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"empty tags", "TagResource", `{"ResourceArn":"` + arn + `","Tags":[]}`, vex, "Atleast one Tag needs to be provided as Input."},
		{"empty tag keys", "UntagResource", `{"ResourceArn":"` + arn + `","TagKeys":[]}`, vex, "Atleast one Tag Key needs to be provided as Input."},
		{"empty tag key", "TagResource", `{"ResourceArn":"` + arn + `","Tags":[{"Key":"","Value":"v"}]}`, vex,
			"1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long tag value", "TagResource", `{"ResourceArn":"` + arn + `","Tags":[{"Key":"k","Value":"` + strings.Repeat("v", 257) + `"}]}`, vex,
			"1 validation error detected: Value '" + strings.Repeat("v", 257) + "' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"too many tags", "TagResource", `{"ResourceArn":"` + arn + `","Tags":[` + strings.Join(tooMany, ",") + `]}`, vex,
			"One or more parameter values were invalid: The number of tags exceeds the limit of 50"},
	})
	if got := list(); got != `{"Tags":[{"Key":"env","Value":"production"}]}` {
		t.Errorf("failed requests changed the tags: %s", got)
	}
}
