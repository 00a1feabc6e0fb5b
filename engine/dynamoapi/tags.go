package dynamoapi

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

type tagResourceIn struct {
	ResourceArn *string `json:"ResourceArn"`
	Tags        []tagIn `json:"Tags"`
}

type untagResourceIn struct {
	ResourceArn *string  `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}

type listTagsIn struct {
	ResourceArn *string `json:"ResourceArn"`
	NextToken   *string `json:"NextToken"`
}

// maxARNLength is the longest ResourceArn DynamoDB takes.
const maxARNLength = 1283

// tagResource answers TagResource: adds tags, replacing the values of keys
// already set.
func (a *api) tagResource(_ context.Context, req *wire.Request) (any, error) {
	var in tagResourceIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == nil {
		return nil, attr.Invalid("Invalid TableArn")
	}
	var v violations
	v.Length("resourceArn", *in.ResourceArn, 1, maxARNLength)
	if v.Required("tags", in.Tags != nil) {
		checkTagMembers(&v, "tags", in.Tags)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, attr.Invalid("Atleast one Tag needs to be provided as Input.")
	}
	name, err := a.resolveARN(*in.ResourceArn, "TagResource")
	if err != nil {
		return nil, err
	}
	_, err = a.e.UpdateTable(name, func(def *catalog.Table) error {
		def.Tags = mergeTags(def.Tags, in.Tags)
		if len(def.Tags) > maxTags {
			return attr.Invalid(paramsInvalid+"The number of tags exceeds the limit of %d", maxTags)
		}
		return nil
	})
	if errors.Is(err, engine.ErrTableNotFound) {
		return nil, attr.Errorf(engine.ErrTableNotFound, "Requested resource not found: ResourcArn: %s not found", *in.ResourceArn)
	}
	return nil, err
}

// untagResource answers UntagResource: removes the given keys (absent
// keys are ignored).
func (a *api) untagResource(_ context.Context, req *wire.Request) (any, error) {
	var in untagResourceIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == nil {
		return nil, attr.Invalid("Invalid TableArn")
	}
	var v violations
	v.Length("resourceArn", *in.ResourceArn, 1, maxARNLength)
	if v.Required("tagKeys", in.TagKeys != nil) {
		for i, k := range in.TagKeys {
			v.Length("tagKeys."+strconv.Itoa(i+1)+".member", k, 1, 128)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, attr.Invalid("Atleast one Tag Key needs to be provided as Input.")
	}
	name, err := a.resolveARN(*in.ResourceArn, "UntagResource")
	if err != nil {
		return nil, err
	}
	_, err = a.e.UpdateTable(name, func(def *catalog.Table) error {
		kept := def.Tags[:0]
		for _, t := range def.Tags {
			if !slices.Contains(in.TagKeys, t.Key) {
				kept = append(kept, t)
			}
		}
		def.Tags = kept
		return nil
	})
	if errors.Is(err, engine.ErrTableNotFound) {
		return nil, attr.Errorf(engine.ErrTableNotFound, "Requested resource not found")
	}
	return nil, err
}

// listTagsOfResource answers ListTagsOfResource. A table holds at most 50
// tags, so every answer is one page and NextToken is never set.
func (a *api) listTagsOfResource(_ context.Context, req *wire.Request) (any, error) {
	var in listTagsIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == nil {
		return nil, attr.Invalid("Invalid TableArn")
	}
	var v violations
	v.Length("resourceArn", *in.ResourceArn, 1, maxARNLength)
	if err := v.Err(); err != nil {
		return nil, err
	}
	const op = "ListTagsOfResource"
	name, err := a.resolveARN(*in.ResourceArn, op)
	if err != nil {
		return nil, err
	}
	info, err := a.e.DescribeTable(name)
	if errors.Is(err, engine.ErrTableNotFound) {
		// DynamoDB authorizes the call against the resource before it looks
		// the table up, and there is no resource to authorize against.
		return nil, a.accessDenied(op, *in.ResourceArn)
	}
	if err != nil {
		return nil, err
	}
	tags := info.Tags
	if tags == nil {
		tags = []catalog.Tag{}
	}
	return struct {
		Tags []catalog.Tag `json:"Tags"`
	}{tags}, nil
}

// resolveARN returns the table a ResourceArn names. A malformed ARN is a
// ValidationException; the ARN of another account or region is an
// AccessDeniedException, as DynamoDB answers for a resource the caller may
// not touch.
func (a *api) resolveARN(arn, op string) (string, error) {
	// arn:aws:dynamodb:<region>:<account>:table/<name>
	parts := strings.SplitN(arn, ":", 6)
	invalid := attr.Invalid("Invalid TableArn: Invalid ResourceArn provided as input %s", arn)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "dynamodb" || parts[3] == "" || parts[4] == "" {
		return "", invalid
	}
	name, ok := strings.CutPrefix(parts[5], "table/")
	if !ok || strings.Contains(name, "/") || len(name) < 3 || len(name) > 255 || !wire.ValidName(name) {
		return "", invalid
	}
	if parts[3] != a.e.Region() || parts[4] != a.e.AccountID() {
		return "", a.accessDenied(op, arn)
	}
	return name, nil
}

func (a *api) accessDenied(op, arn string) error {
	return attr.Errorf(wire.ErrAccessDenied, "User: arn:aws:iam::%s:root is not authorized to perform: dynamodb:%s on resource: %s",
		a.e.AccountID(), op, arn)
}
