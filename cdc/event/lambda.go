package event

import (
	"bytes"
	"errors"
	"strconv"
)

// The service identity as the Streams API shows it (PascalCase, as the data
// holds it) and as Lambda events show it (camelCase).
var (
	streamsService = []byte(`,"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}`)
	lambdaService  = []byte(`,"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`)
)

// AppendLambda appends the record as one element of a Lambda DynamoDB
// event's "Records" shows it: the Streams record of the given view type,
// with "eventSourceARN" (the stream's ARN, the record's ce-source) and a TTL
// deletion's userIdentity in camelCase, as Lambda writes it.
func AppendLambda(dst, data []byte, view, arn string, sizes *Sizes) ([]byte, error) {
	start := len(dst)
	dst, err := AppendProject(dst, data, view, sizes)
	if err != nil {
		return dst[:start], err
	}
	rec := dst[start:]
	if len(rec) == 0 || rec[len(rec)-1] != '}' {
		return dst[:start], errors.New("event: record is not a JSON object")
	}
	dst = dst[:len(dst)-1]
	if i := bytes.LastIndex(dst[start:], streamsService); i >= 0 && start+i+len(streamsService) == len(dst) {
		dst = append(dst[:start+i], lambdaService...)
	}
	dst = append(dst, `,"eventSourceARN":`...)
	dst = strconv.AppendQuote(dst, arn)
	return append(dst, '}'), nil
}
