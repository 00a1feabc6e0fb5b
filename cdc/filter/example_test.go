package filter_test

import (
	"fmt"

	"github.com/sluicedb/sluice/cdc/filter"
)

// A trigger that wants inserts and modifications of orders, and the
// deletions that TTL makes.
func ExampleCompileAll() {
	c, err := filter.CompileAll([]string{
		`{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order#"}]}}}}`,
		`{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rec := range []string{
		`{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "order#1"}}}}`,
		`{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "user#1"}}}}`,
		`{"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "user#1"}}}, "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"}}`,
	} {
		fmt.Println(c.Match([]byte(rec)))
	}
	// Output:
	// true
	// false
	// true
}

// Numbers in DynamoDB attribute values are JSON strings, so a numeric rule
// on "N" compiles but never matches; match the string instead.
func ExampleCompile_numbers() {
	rec := []byte(`{"dynamodb": {"NewImage": {"Quantity": {"N": "5"}}, "SizeBytes": 63}}`)
	for _, pattern := range []string{
		`{"dynamodb": {"NewImage": {"Quantity": {"N": [{"numeric": [">", 0, "<=", 5]}]}}}}`,
		`{"dynamodb": {"NewImage": {"Quantity": {"N": ["5"]}}}}`,
		`{"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}}`,
		`{"dynamodb": {"NewImage": {"Quantity": {"N": [{"numeric": [">", "x"]}]}}}}`,
	} {
		p, err := filter.Compile(pattern)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p.Match(rec))
	}
	// Output:
	// false
	// true
	// true
	// invalid filter pattern: dynamodb.NewImage.Quantity.N: numeric range: ">" must be followed by a number; found "x"
}
