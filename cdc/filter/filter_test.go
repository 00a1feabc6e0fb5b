package filter

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Records the cases run against.
const (
	// recSluice is the Lambda-shaped record Sluice delivers for an INSERT.
	recSluice = `{"eventID":"000000030000000200000000000004d2","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1795249815,"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"Quantity":{"N":"5"},"Tags":{"SS":["x","y"]},"Done":{"BOOL":true},"Note":{"NULL":true},"Empty":{"S":""},"Lines":{"L":[{"M":{"sku":{"S":"A1"},"qty":{"N":"2"}}},{"M":{"sku":{"S":"B2"},"qty":{"N":"7"}}}]}},"SequenceNumber":"000000000000000001234","SizeBytes":63,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-11-21T08:00:00.000"}`

	// recTTL is the REMOVE record of an item deleted by TTL.
	recTTL = `{"eventID":"1","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1795249815,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"Quantity":{"N":"5"}},"SequenceNumber":"000000000000000001235","SizeBytes":40,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-11-21T08:00:00.000","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`

	// recRemove is the REMOVE record of an item a user deleted.
	recRemove = `{"eventID":"2","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1795249816,"Keys":{"pk":{"S":"b"}},"OldImage":{"pk":{"S":"b"}},"SequenceNumber":"000000000000000001236","SizeBytes":20,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-11-21T08:00:00.000"}`

	// recDDBDoc is the example record of the Lambda guide's "Using event
	// filtering with a DynamoDB event source".
	recDDBDoc = `{"eventID":"1","eventVersion":"1.0","dynamodb":{"ApproximateCreationDateTime":"1678831218.0","Keys":{"CustomerName":{"S":"AnyCompany Industries"}},"NewImage":{"AccountManager":{"S":"Pat Candella"},"PaymentTerms":{"S":"60 days"},"CustomerName":{"S":"AnyCompany Industries"}},"SequenceNumber":"111","SizeBytes":26,"StreamViewType":"NEW_IMAGE"}}`

	// recChocolate is the example record of the DynamoDB guide's "Tutorial
	// #2: Using filters to process some events with DynamoDB and Lambda".
	recChocolate = `{"eventID":"c9fbe7d0261a5163fcb6940593e41797","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-2","dynamodb":{"ApproximateCreationDateTime":1664559083.0,"Keys":{"SK":{"S":"PRODUCT#CHOCOLATE#DARK#1000"},"PK":{"S":"COMPANY#1000"}},"NewImage":{"quantity":{"N":"50"},"company_id":{"S":"1000"},"fabric":{"S":"Florida Chocolates"},"price":{"N":"15"},"stores":{"N":"5"},"product_id":{"S":"1000"},"SK":{"S":"PRODUCT#CHOCOLATE#DARK#1000"},"PK":{"S":"COMPANY#1000"},"state":{"S":"FL"},"type":{"S":""}},"SequenceNumber":"700000000000888747038","SizeBytes":174,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-2:111122223333:table/chocolate-table-StreamsSampleDDBTable-LUOI6UXQY7J1/stream/2022-09-30T17:05:53.209"}`

	// recMultiLevel is the DynamoDB data object of the Lambda guide's
	// "Multi-level filtering" example, wrapped in a record.
	recMultiLevel = `{"dynamodb":{"Keys":{"Id":{"N":"101"}},"NewImage":{"Message":{"S":"New item!"},"Id":{"N":"101"}},"SequenceNumber":"111","SizeBytes":26,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`

	// recEC2 is the example event of EventBridge's "Exists matching".
	recEC2 = `{"detail-type":["EC2 Instance State-change Notification"],"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],"detail":{"state":["initializing","running"]}}`

	// recEC2Nested is recEC2 with detail.c-count an object, the second
	// event of the same section.
	recEC2Nested = `{"detail-type":["EC2 Instance State-change Notification"],"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],"detail":{"state":["initializing","running"],"c-count":{"c1":100}}}`

	// recAutoScaling is the example event of EventBridge's "Matching null
	// values and empty strings".
	recAutoScaling = `{"version":"0","id":"3e3c153a-8339-4e30-8c35-687ebef853fe","detail-type":"EC2 Instance Launch Successful","source":"aws.autoscaling","account":"123456789012","time":"2015-11-11T21:31:47Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"","responseElements":null}}`
)

// matchCase is one pattern against one record. doc names the documentation
// example the case comes from ("" for cases of our own).
type matchCase struct {
	doc     string
	pattern string
	record  string
	want    bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatalf("Compile(%s) [%s]: %v", tc.pattern, tc.doc, err)
			}
			got := p.Match([]byte(tc.record))
			if got != tc.want {
				t.Errorf("[%s]\npattern %s\nrecord  %s\nMatch = %v, want %v", tc.doc, tc.pattern, tc.record, got, tc.want)
			}
			if c := (Criteria{p}); c.Match([]byte(tc.record)) != got {
				t.Errorf("Criteria{p}.Match disagrees with p.Match")
			}
			v, ok := refDecode([]byte(tc.record))
			if !ok {
				t.Fatalf("test record is not valid JSON: %s", tc.record)
			}
			if ref := refMatch(p, v); ref != got {
				t.Errorf("reference implementation says %v, Match says %v\npattern %s\nrecord  %s", ref, got, tc.pattern, tc.record)
			}
		})
	}
}

// TestLambdaFilterRuleSyntax covers every row of the comparison-operator
// table in the Lambda guide's "Filter rule syntax", each with the table's
// own rule syntax.
func TestLambdaFilterRuleSyntax(t *testing.T) {
	const table = "Lambda guide, Filter rule syntax table"
	runMatchCases(t, []matchCase{
		// Null: UserID is null: "UserID": [ null ]
		{table + ": Null", `{"UserID": [ null ]}`, `{"UserID": null}`, true},
		{table + ": Null", `{"UserID": [ null ]}`, `{"UserID": "u1"}`, false},
		{table + ": Null (a missing field is not null)", `{"UserID": [ null ]}`, `{"Other": 1}`, false},
		{table + ": Null (an empty string is not null)", `{"UserID": [ null ]}`, `{"UserID": ""}`, false},
		// Empty: LastName is empty: "LastName": [""]
		{table + ": Empty", `{"LastName": [""]}`, `{"LastName": ""}`, true},
		{table + ": Empty", `{"LastName": [""]}`, `{"LastName": "Doe"}`, false},
		{table + ": Empty (null is not empty)", `{"LastName": [""]}`, `{"LastName": null}`, false},
		{table + ": Empty (missing is not empty)", `{"LastName": [""]}`, `{}`, false},
		// Equals: Name is "Alice": "Name": [ "Alice" ]
		{table + ": Equals", `{"Name": [ "Alice" ]}`, `{"Name": "Alice"}`, true},
		{table + ": Equals (case matters)", `{"Name": [ "Alice" ]}`, `{"Name": "alice"}`, false},
		{table + ": Equals (no trimming)", `{"Name": [ "Alice" ]}`, `{"Name": "Alice "}`, false},
		// Equals (ignore case): Name is "Alice": "Name": [ { "equals-ignore-case": "alice" } ]
		{table + ": Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name": "Alice"}`, true},
		{table + ": Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name": "ALICE"}`, true},
		{table + ": Equals (ignore case)", `{"Name": [ { "equals-ignore-case": "alice" } ]}`, `{"Name": "Alicia"}`, false},
		// And: Location is "New York" and Day is "Monday": "Location": [ "New York" ], "Day": ["Monday"]
		{table + ": And", `{"Location": [ "New York" ], "Day": ["Monday"]}`, `{"Location": "New York", "Day": "Monday"}`, true},
		{table + ": And", `{"Location": [ "New York" ], "Day": ["Monday"]}`, `{"Location": "New York", "Day": "Tuesday"}`, false},
		{table + ": And", `{"Location": [ "New York" ], "Day": ["Monday"]}`, `{"Location": "New York"}`, false},
		// Or: PaymentType is "Credit" or "Debit": "PaymentType": [ "Credit", "Debit"]
		{table + ": Or", `{"PaymentType": [ "Credit", "Debit"]}`, `{"PaymentType": "Credit"}`, true},
		{table + ": Or", `{"PaymentType": [ "Credit", "Debit"]}`, `{"PaymentType": "Debit"}`, true},
		{table + ": Or", `{"PaymentType": [ "Credit", "Debit"]}`, `{"PaymentType": "Cash"}`, false},
		// Or (multiple fields): Location is "New York", or Day is "Monday":
		// "$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]
		{table + ": Or (multiple fields)", `{"$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]}`, `{"Location": "New York", "Day": "Friday"}`, true},
		{table + ": Or (multiple fields)", `{"$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]}`, `{"Location": "Boston", "Day": "Monday"}`, true},
		{table + ": Or (multiple fields)", `{"$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]}`, `{"Location": "Boston", "Day": "Friday"}`, false},
		// Not: Weather is anything but "Raining": "Weather": [ { "anything-but": [ "Raining" ] } ]
		{table + ": Not", `{"Weather": [ { "anything-but": [ "Raining" ] } ]}`, `{"Weather": "Sunny"}`, true},
		{table + ": Not", `{"Weather": [ { "anything-but": [ "Raining" ] } ]}`, `{"Weather": "Raining"}`, false},
		{table + ": Not (the field must exist)", `{"Weather": [ { "anything-but": [ "Raining" ] } ]}`, `{"Other": "Raining"}`, false},
		// Numeric (equals): Price is 100: "Price": [ { "numeric": [ "=", 100 ] } ]
		{table + ": Numeric (equals)", `{"Price": [ { "numeric": [ "=", 100 ] } ]}`, `{"Price": 100}`, true},
		{table + ": Numeric (equals) compares values", `{"Price": [ { "numeric": [ "=", 100 ] } ]}`, `{"Price": 100.0}`, true},
		{table + ": Numeric (equals) compares values", `{"Price": [ { "numeric": [ "=", 100 ] } ]}`, `{"Price": 1e2}`, true},
		{table + ": Numeric (equals)", `{"Price": [ { "numeric": [ "=", 100 ] } ]}`, `{"Price": 100.000001}`, false},
		{table + ": Numeric (equals) only matches JSON numbers", `{"Price": [ { "numeric": [ "=", 100 ] } ]}`, `{"Price": "100"}`, false},
		// Numeric (range): Price is more than 10, and less than or equal to 20:
		// "Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 10}`, false},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 10.000001}`, true},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 15}`, true},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 20}`, true},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 2.0e1}`, true},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": 20.0000001}`, false},
		{table + ": Numeric (range)", `{"Price": [ { "numeric": [ ">", 10, "<=", 20 ] } ]}`, `{"Price": -15}`, false},
		// Exists: ProductName exists: "ProductName": [ { "exists": true } ]
		{table + ": Exists", `{"ProductName": [ { "exists": true } ]}`, `{"ProductName": "Widget"}`, true},
		{table + ": Exists (null is a value)", `{"ProductName": [ { "exists": true } ]}`, `{"ProductName": null}`, true},
		{table + ": Exists", `{"ProductName": [ { "exists": true } ]}`, `{"Name": "Widget"}`, false},
		// Does not exist: ProductName does not exist: "ProductName": [ { "exists": false } ]
		{table + ": Does not exist", `{"ProductName": [ { "exists": false } ]}`, `{"Name": "Widget"}`, true},
		{table + ": Does not exist", `{"ProductName": [ { "exists": false } ]}`, `{"ProductName": "Widget"}`, false},
		{table + ": Does not exist (null is a value)", `{"ProductName": [ { "exists": false } ]}`, `{"ProductName": null}`, false},
		{table + ": Does not exist (empty string is a value)", `{"ProductName": [ { "exists": false } ]}`, `{"ProductName": ""}`, false},
		// Begins with: Region is in the US: "Region": [ {"prefix": "us-" } ]
		{table + ": Begins with", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region": "us-east-1"}`, true},
		{table + ": Begins with", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region": "eu-west-1"}`, false},
		{table + ": Begins with (case matters)", `{"Region": [ {"prefix": "us-" } ]}`, `{"Region": "US-EAST-1"}`, false},
		// Ends with: FileName ends with a .png extension: "FileName": [ { "suffix": ".png" } ]
		{table + ": Ends with", `{"FileName": [ { "suffix": ".png" } ]}`, `{"FileName": "photo.png"}`, true},
		{table + ": Ends with", `{"FileName": [ { "suffix": ".png" } ]}`, `{"FileName": "photo.jpg"}`, false},
		{table + ": Ends with (strings only)", `{"FileName": [ { "suffix": "5" } ]}`, `{"FileName": 5}`, false},
		// The note under the table: "For numbers, Lambda also uses string
		// representation. For example, 300, 300.0, and 3.0e2 are not
		// considered equal."
		{"Lambda guide, Filter rule syntax note", `{"Count": [300]}`, `{"Count": 300}`, true},
		{"Lambda guide, Filter rule syntax note", `{"Count": [300]}`, `{"Count": 300.0}`, false},
		{"Lambda guide, Filter rule syntax note", `{"Count": [300]}`, `{"Count": 3.0e2}`, false},
		{"Lambda guide, Filter rule syntax note", `{"Count": [300]}`, `{"Count": "300"}`, false},
		// The console example: { "a" : [ 1, 2 ] } "instructs Lambda to process
		// only the records where field a is equal to 1 or 2".
		{"Lambda guide, Attaching filter criteria (console)", `{ "a" : [ 1, 2 ] }`, `{"a": 2}`, true},
		{"Lambda guide, Attaching filter criteria (console)", `{ "a" : [ 1, 2 ] }`, `{"a": 3}`, false},
		// Filtering examples: Temperature greater than 50 but less than or equal to 60.
		{"Lambda guide, Filtering examples", `{"data": {"Temperature": [ {"numeric": [ ">", 50, "<=", 60 ] } ]}}`, `{"data": {"Temperature": 55}}`, true},
		{"Lambda guide, Filtering examples", `{"data": {"Temperature": [ {"numeric": [ ">", 50, "<=", 60 ] } ]}}`, `{"data": {"Temperature": 61}}`, false},
		{"Lambda guide, Filtering examples", `{"partitionKey": [ "1" ], "data": {"Location": [ "Los Angeles" ]}}`, `{"partitionKey": "1", "data": {"Location": "Los Angeles"}}`, true},
		{"Lambda guide, Filtering examples", `{"partitionKey": [ "1" ], "data": {"Location": [ "Los Angeles" ]}}`, `{"partitionKey": "2", "data": {"Location": "Los Angeles"}}`, false},
	})
}

// TestEventBridgeContentFiltering covers the EventBridge guide's content
// filtering, arrays and null-value pages, which define the semantics the
// Lambda table summarizes.
func TestEventBridgeContentFiltering(t *testing.T) {
	const cf = "EventBridge guide, Content filtering"
	runMatchCases(t, []matchCase{
		// Prefix matching: "time" starting with "2017-10-02".
		{cf + ": Prefix matching", `{"time": [ { "prefix": "2017-10-02" } ]}`, `{"time": "2017-10-02T18:43:48Z"}`, true},
		{cf + ": Prefix matching", `{"time": [ { "prefix": "2017-10-02" } ]}`, `{"time": "2017-10-03T18:43:48Z"}`, false},
		// Prefix matching while ignoring case.
		{cf + ": Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail": {"service": "EventBridge"}}`, true},
		{cf + ": Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail": {"service": "EVENTBRIDGE"}}`, true},
		{cf + ": Prefix matching while ignoring case", `{"detail": {"service" : [{ "prefix": { "equals-ignore-case": "EventB" }}]}}`, `{"detail": {"service": "EventSource"}}`, false},
		// Suffix matching, and while ignoring case.
		{cf + ": Suffix matching", `{"FileName": [ { "suffix": ".png" } ]}`, `{"FileName": "image.png"}`, true},
		{cf + ": Suffix matching while ignoring case", `{"detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]}}`, `{"detail": {"FileName": "image.PNG"}}`, true},
		{cf + ": Suffix matching while ignoring case", `{"detail": {"FileName" : [{ "suffix": { "equals-ignore-case": ".png" }}]}}`, `{"detail": {"FileName": "image.gif"}}`, false},
		// Anything-but matching with strings and numbers.
		{cf + ": Anything-but (string)", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, `{"detail": {"state": "running"}}`, true},
		{cf + ": Anything-but (string)", `{"detail": {"state": [ { "anything-but": "initializing" } ]}}`, `{"detail": {"state": "initializing"}}`, false},
		{cf + ": Anything-but (number)", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, `{"detail": {"x-limit": 124}}`, true},
		{cf + ": Anything-but (number)", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, `{"detail": {"x-limit": 123}}`, false},
		{cf + ": Anything-but (number) compares values", `{"detail": {"x-limit": [ { "anything-but": 123 } ]}}`, `{"detail": {"x-limit": 123.0}}`, false},
		{cf + ": Anything-but (list of strings)", `{"detail": {"state": [ { "anything-but": [ "stopped", "overloaded" ] } ]}}`, `{"detail": {"state": "running"}}`, true},
		{cf + ": Anything-but (list of strings)", `{"detail": {"state": [ { "anything-but": [ "stopped", "overloaded" ] } ]}}`, `{"detail": {"state": "overloaded"}}`, false},
		{cf + ": Anything-but (list of numbers)", `{"detail": {"x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, `{"detail": {"x-limit": 250}}`, true},
		{cf + ": Anything-but (list of numbers)", `{"detail": {"x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, `{"detail": {"x-limit": 200}}`, false},
		// Numeric matching: all three fields must hold.
		{cf + ": Numeric matching", `{"detail": {"c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ], "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "numeric": [ "=", 3.018e2 ] } ]}}`, `{"detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8}}`, true},
		{cf + ": Numeric matching", `{"detail": {"c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ], "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "numeric": [ "=", 3.018e2 ] } ]}}`, `{"detail": {"c-count": 5, "d-count": 10, "x-limit": 301.8}}`, false},
		// Exists matching: c-count absent, and c-count not a leaf node.
		{cf + ": Exists matching", `{"detail": {"c-count": [ { "exists": false } ]}}`, recEC2, true},
		{cf + ": Exists matching (not a leaf node)", `{"detail": {"c-count": [ { "exists": false } ]}}`, recEC2Nested, true},
		{cf + ": Exists matching (not a leaf node)", `{"detail": {"c-count": [ { "exists": true } ]}}`, recEC2Nested, false},
		{cf + ": Exists matching (the leaf below)", `{"detail": {"c-count": {"c1": [ { "exists": true } ]}}}`, recEC2Nested, true},
		// Complex example with multiple matching.
		{cf + ": Complex example", `{"time": [ { "prefix": "2017-10-02" } ], "detail": {"state": [ { "anything-but": "initializing" } ], "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ], "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, `{"time": "2017-10-02T16:24:49Z", "detail": {"state": "running", "c-count": 5, "d-count": 3, "x-limit": 301.8}}`, true},
		{cf + ": Complex example", `{"time": [ { "prefix": "2017-10-02" } ], "detail": {"state": [ { "anything-but": "initializing" } ], "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ], "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "anything-but": [ 100, 200, 300 ] } ]}}`, `{"time": "2017-10-02T16:24:49Z", "detail": {"state": "initializing", "c-count": 5, "d-count": 3, "x-limit": 301.8}}`, false},
		// Arrays: the pattern matches if the event array and the pattern
		// array intersect.
		{"EventBridge guide, Arrays in event patterns", `{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f", "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`, `{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, true},
		{"EventBridge guide, Arrays in event patterns", `{"resources": ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`, `{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, false},
		// Null values and empty strings are not interchangeable.
		{"EventBridge guide, Matching null values and empty strings", `{"detail": {"eventVersion": [""]}}`, recAutoScaling, true},
		{"EventBridge guide, Matching null values and empty strings", `{"detail": {"responseElements": [null]}}`, recAutoScaling, true},
		{"EventBridge guide, Matching null values and empty strings", `{"detail": {"responseElements": [""]}}`, recAutoScaling, false},
		{"EventBridge guide, Matching null values and empty strings", `{"detail": {"eventVersion": [null]}}`, recAutoScaling, false},
		// Event patterns, Value matching: nested fields.
		{"EventBridge guide, Value matching", `{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}`, `{"source": "aws.macie", "detail-type": "Macie Alert", "detail": {"risk-score": 80, "trigger": {"rule-arn": "arn", "risk": 8}}}`, true},
		{"EventBridge guide, Value matching", `{"source": ["aws.macie"], "detail-type": ["Macie Alert"], "detail": {"risk-score": [80], "trigger": {"risk": [8]}}}`, `{"source": "aws.macie", "detail-type": "Macie Alert", "detail": {"risk-score": 80, "trigger": {"risk": 9}}}`, false},
		// SNS, Numeric value matching: anything-but [100, 500] matches [100, 50]
		// "because it contains a value that isn't 100 or 500", not 100.
		{"SNS guide, Numeric value matching", `{"price": [{"anything-but": [100, 500]}]}`, `{"price": [100, 50]}`, true},
		{"SNS guide, Numeric value matching", `{"price": [{"anything-but": [100, 500]}]}`, `{"price": 100.1}`, true},
		{"SNS guide, Numeric value matching", `{"price": [{"anything-but": [100, 500]}]}`, `{"price": 100}`, false},
		{"SNS guide, Numeric value matching", `{"price_usd": [{"numeric": ["=",301.5]}]}`, `{"price_usd": 3.015e2}`, true},
		{"SNS guide, Numeric value matching", `{"price_usd": [{"numeric": ["<", 0]}]}`, `{"price_usd": -0.5}`, true},
		{"SNS guide, Numeric value matching", `{"price_usd": [{"numeric": ["<", 0]}]}`, `{"price_usd": -0}`, false},
	})
}

// TestOr covers "$or" beyond the Lambda table's example, with the
// Event Ruler README's nesting examples.
func TestOr(t *testing.T) {
	const ruler = "Event Ruler README, \"$or\" examples"
	normal := `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization", "ReadLatency" ] }, { "namespace": [ "AWS/EC2", "AWS/ES" ] } ]}`
	nested := `{"source": [ "aws.cloudwatch" ], "$or": [ { "metricName": [ "CPUUtilization", "ReadLatency" ] }, { "metricType": [ "MetricType" ], "namespace": [ "AWS/EC2", "AWS/ES" ], "$or": [ { "metricId": [ 1234 ] }, { "spaceId": [ 1000 ] } ] }, { "scope": [ "Service" ] } ]}`
	parallel := `{"$or": [ { "metricName": [ "CPUUtilization" ] }, { "namespace": [ "AWS/EC2" ] } ], "detail": { "$or": [ { "source": [ "aws.cloudwatch" ] }, { "detail-type": [ "CloudWatch Alarm State Change"] } ] }}`
	runMatchCases(t, []matchCase{
		{ruler + ": normal Or", normal, `{"source": "aws.cloudwatch", "namespace": "AWS/ES"}`, true},
		{ruler + ": normal Or", normal, `{"source": "aws.cloudwatch", "namespace": "AWS/S3"}`, false},
		{ruler + ": normal Or (And still applies)", normal, `{"source": "aws.ec2", "metricName": "CPUUtilization"}`, false},
		{ruler + ": nested Or and And", nested, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1000}`, true},
		{ruler + ": nested Or and And", nested, `{"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1001}`, false},
		{ruler + ": nested Or and And", nested, `{"source": "aws.cloudwatch", "scope": "Service"}`, true},
		{ruler + ": parallel Or", parallel, `{"namespace": "AWS/EC2", "detail": {"detail-type": "CloudWatch Alarm State Change"}}`, true},
		{ruler + ": parallel Or", parallel, `{"namespace": "AWS/EC2", "detail": {"source": "aws.ec2"}}`, false},
		// A "$or" whose objects use operator names is a field named "$or".
		{"Event Ruler README, \"$or\" as a field name", `{"$or": [ {"numeric": [">", 1]}, {"prefix": "ab"} ]}`, `{"$or": "abc"}`, true},
		{"Event Ruler README, \"$or\" as a field name", `{"$or": [ {"numeric": [">", 1]}, {"prefix": "ab"} ]}`, `{"x": "abc"}`, false},
		{"Event Ruler README, \"$or\" as a field name", `{"$or": {"metricType": [ "MetricType" ]}}`, `{"$or": {"metricType": "MetricType"}}`, true},
	})
}

// TestDynamoDB covers the DynamoDB-specific examples: typed attribute
// values, numeric filters on "N", the TTL filter, eventName filters, and
// arrays in images.
func TestDynamoDB(t *testing.T) {
	const ddb = "Lambda guide, Using event filtering with a DynamoDB event source"
	const tut = "DynamoDB guide, Tutorial #2 (Lambda filters)"
	runMatchCases(t, []matchCase{
		// Filtering with table keys.
		{ddb + ": Filtering with table keys", `{ "dynamodb" : { "Keys" : { "CustomerName" : { "S" : [ "AnyCompany Industries" ] } } } }`, recDDBDoc, true},
		{ddb + ": Filtering with table keys", `{ "dynamodb" : { "Keys" : { "CustomerName" : { "S" : [ "Example Corp" ] } } } }`, recDDBDoc, false},
		// Filtering with table attributes: AccountManager is "Pat Candella"
		// or "Shirley Rodriguez".
		{ddb + ": Filtering with table attributes", `{ "dynamodb": { "NewImage": { "AccountManager": { "S": [ "Pat Candella", "Shirley Rodriguez" ] } } } }`, recDDBDoc, true},
		{ddb + ": Filtering with table attributes", `{ "dynamodb": { "NewImage": { "AccountManager": { "S": [ "Shirley Rodriguez" ] } } } }`, recDDBDoc, false},
		// Filtering with Boolean expressions: two attributes ANDed.
		{ddb + ": Filtering with Boolean expressions", `{ "dynamodb": { "NewImage": { "AccountManager": { "S": [ "Pat Candella" ] }, "PaymentTerms": { "S": [ "60 days" ] } } } }`, recDDBDoc, true},
		{ddb + ": Filtering with Boolean expressions", `{ "dynamodb": { "NewImage": { "AccountManager": { "S": [ "Pat Candella" ] }, "PaymentTerms": { "S": [ "30 days" ] } } } }`, recDDBDoc, false},
		// The attribute type is part of the path: without "S" nothing matches.
		{ddb + ": typed values", `{ "dynamodb": { "NewImage": { "AccountManager": [ "Pat Candella" ] } } }`, recDDBDoc, false},
		// Multi-level filtering: Keys.Id.N is "101" (the Lambda guide's
		// "Multi-level filtering"); N values are strings.
		{"Lambda guide, Multi-level filtering", `{ "dynamodb": { "Keys": { "Id": { "N": [ "101" ] } } } }`, recMultiLevel, true},
		{"Lambda guide, Multi-level filtering (N is a string)", `{ "dynamodb": { "Keys": { "Id": { "N": [ 101 ] } } } }`, recMultiLevel, false},
		// Tutorial #2's comparison-operator table, each under
		// dynamodb.NewImage as in its CloudFormation examples.
		{tut + ": Empty", `{"dynamodb": {"NewImage": { "type": { "S": [ ""] } }}}`, recChocolate, true},
		{tut + ": Equals", `{ "dynamodb": { "NewImage": { "state": { "S": ["FL"] } } } }`, recChocolate, true},
		{tut + ": Equals", `{ "dynamodb": { "NewImage": { "state": { "S": ["CA"] } } } }`, recChocolate, false},
		{tut + ": And", `{"dynamodb": {"NewImage": { "state": { "S": ["FL"] } , "fabric": { "S": [ "Florida Chocolates"] } }}}`, recChocolate, true},
		{tut + ": And", `{"dynamodb": {"NewImage": { "state": { "S": ["FL"] } , "category": { "S": [ "CHOCOLATE"] } }}}`, recChocolate, false},
		{tut + ": Or", `{"dynamodb": {"NewImage": { "state": { "S": ["FL","CA"] } }}}`, recChocolate, true},
		{tut + ": Not", `{"dynamodb": {"NewImage": {"state": {"S": [{"anything-but": ["FL"]}]}}}}`, recChocolate, false},
		{tut + ": Not", `{"dynamodb": {"NewImage": {"state": {"S": [{"anything-but": ["CA"]}]}}}}`, recChocolate, true},
		{tut + ": Exists", `{"dynamodb": {"NewImage": {"homemade": {"S": [{"exists": true}]}}}}`, recChocolate, false},
		{tut + ": Exists", `{"dynamodb": {"NewImage": {"fabric": {"S": [{"exists": true}]}}}}`, recChocolate, true},
		{tut + ": Does not exist", `{"dynamodb": {"NewImage": {"homemade": {"S": [{"exists": false}]}}}}`, recChocolate, true},
		{tut + ": Begins with", `{"dynamodb": {"Keys": {"PK": { "S": [{ "prefix": "COMPANY" }] },"SK": { "S": [{ "prefix": "PRODUCT" }] }}}}`, recChocolate, true},
		{tut + ": Begins with", `{"dynamodb": {"Keys": {"PK": { "S": [{ "prefix": "COMPANY" }] },"SK": { "S": [{ "prefix": "ORDER" }] }}}}`, recChocolate, false},
		// Tutorial #2's note: numeric filtering "doesn't apply because
		// numbers in DynamoDB are stored as strings", so a numeric rule on
		// "N" never matches, however the number compares.
		{tut + ": numeric on N never matches", `{"dynamodb":{"NewImage":{"Quantity":{"N":[{"numeric":[">",0,"<=",5]}]}}}}`, recSluice, false},
		{tut + ": numeric on N never matches", `{"dynamodb":{"NewImage":{"quantity":{"N":[{"numeric":[">",0]}]}}}}`, recChocolate, false},
		{tut + ": N matches as a string", `{"dynamodb":{"NewImage":{"Quantity":{"N":["5"]}}}}`, recSluice, true},
		{tut + ": N matches as a string", `{"dynamodb":{"NewImage":{"Quantity":{"N":[{"prefix":"5"}]}}}}`, recSluice, true},
		{tut + ": anything-but on N compares strings", `{"dynamodb":{"NewImage":{"Quantity":{"N":[{"anything-but":"5"}]}}}}`, recSluice, false},
		// The record's own numbers are JSON numbers.
		{"record metadata: numeric on ApproximateCreationDateTime", `{"dynamodb":{"ApproximateCreationDateTime":[{"numeric":[">=",1795249815]}]}}`, recSluice, true},
		{"record metadata: numeric on ApproximateCreationDateTime", `{"dynamodb":{"ApproximateCreationDateTime":[{"numeric":[">",1795249815]}]}}`, recSluice, false},
		{"record metadata: numeric on SizeBytes", `{"dynamodb":{"SizeBytes":[{"numeric":["<",100]}]}}`, recSluice, true},
		// TTL: the DynamoDB guide's "DynamoDB Streams and Time to Live"
		// filter, userIdentity as API_streams_Record describes it.
		{"DynamoDB guide, Streams and TTL filter", `{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`, recTTL, true},
		{"DynamoDB guide, Streams and TTL filter", `{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`, recRemove, false},
		{"DynamoDB guide, Streams and TTL filter", `{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`, recSluice, false},
		{"user deletions only", `{"eventName":["REMOVE"],"userIdentity":{"type":[{"exists":false}]}}`, recRemove, true},
		{"user deletions only", `{"eventName":["REMOVE"],"userIdentity":{"type":[{"exists":false}]}}`, recTTL, false},
		// eventName filters.
		{"eventName filter", `{"eventName":["INSERT","MODIFY"]}`, recSluice, true},
		{"eventName filter", `{"eventName":["INSERT","MODIFY"]}`, recRemove, false},
		{"eventName filter", `{"eventName":["INSERT"],"eventSource":["aws:dynamodb"]}`, recSluice, true},
		// The CDK FilterCriteria example: eventName INSERT and a BOOL attribute.
		{"CDK FilterCriteria example", `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"Done":{"BOOL":[true]}}}}`, recSluice, true},
		{"CDK FilterCriteria example", `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"Done":{"BOOL":[false]}}}}`, recSluice, false},
		{"NULL attribute", `{"dynamodb":{"NewImage":{"Note":{"NULL":[true]}}}}`, recSluice, true},
		{"empty S attribute", `{"dynamodb":{"NewImage":{"Empty":{"S":[""]}}}}`, recSluice, true},
		// Exists only works on leaf nodes: an attribute is an object.
		{"EventBridge: exists only on leaf nodes", `{"dynamodb":{"NewImage":{"Quantity":[{"exists":true}]}}}`, recSluice, false},
		{"EventBridge: exists only on leaf nodes", `{"dynamodb":{"NewImage":{"Quantity":[{"exists":false}]}}}`, recSluice, true},
		{"EventBridge: exists only on leaf nodes", `{"dynamodb":{"NewImage":{"Quantity":{"N":[{"exists":true}]}}}}`, recSluice, true},
		{"exists false on a missing attribute", `{"dynamodb":{"NewImage":{"Missing":{"S":[{"exists":false}]}}}}`, recSluice, true},
		{"exists false on a missing image", `{"dynamodb":{"NewImage":{"pk":{"S":[{"exists":false}]}}}}`, recTTL, true},
		// Sets are arrays: any element may match.
		{"string set: any element", `{"dynamodb":{"NewImage":{"Tags":{"SS":["y"]}}}}`, recSluice, true},
		{"string set: any element", `{"dynamodb":{"NewImage":{"Tags":{"SS":["z"]}}}}`, recSluice, false},
		{"string set: anything-but matches another element", `{"dynamodb":{"NewImage":{"Tags":{"SS":[{"anything-but":"x"}]}}}}`, recSluice, true},
		{"string set: exists", `{"dynamodb":{"NewImage":{"Tags":{"SS":[{"exists":true}]}}}}`, recSluice, true},
		// Lists of maps: one element must satisfy the whole nested object.
		{"list of maps: one element", `{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["B2"]},"qty":{"N":["7"]}}}}}}}`, recSluice, true},
		{"list of maps: not across elements", `{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["A1"]},"qty":{"N":["7"]}}}}}}}`, recSluice, false},
		{"list of maps: exists false looks at every element", `{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["A1"]},"qty":{"N":[{"exists":false}]}}}}}}}`, recSluice, false},
		{"list of maps: exists false looks at every element", `{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["A1"]},"price":{"N":[{"exists":false}]}}}}}}}`, recSluice, true},
		// A whole record.
		{"nested objects", `{"eventSource":["aws:dynamodb"],"awsRegion":[{"prefix":"us-"}],"dynamodb":{"StreamViewType":["NEW_AND_OLD_IMAGES"],"Keys":{"pk":{"S":["a"]}}}}`, recSluice, true},
	})
}

// TestArraysAndMissing covers how arrays, objects and missing fields meet
// rules, beyond the documentation's examples.
func TestArraysAndMissing(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"", `{"a": ["x"]}`, `{"a": [["y"], ["x"]]}`, true},
		{"", `{"a": ["x"]}`, `{"a": []}`, false},
		{"", `{"a": [{"exists": true}]}`, `{"a": []}`, false},
		{"", `{"a": [{"exists": false}]}`, `{"a": []}`, true},
		{"", `{"a": [{"exists": false}]}`, `{"a": [{"b": 1}]}`, true},
		{"", `{"a": [{"exists": true}]}`, `{"a": [{"b": 1}, 2]}`, true},
		{"", `{"a": {"b": ["x"]}}`, `{"a": "x"}`, false},
		{"", `{"a": {"b": [{"exists": false}]}}`, `{"a": "x"}`, true},
		{"", `{"a": {"b": [{"exists": false}]}}`, `{"a": []}`, true},
		{"", `{"a": {"b": [{"exists": false}]}}`, `{"a": [{"b": 1}, {"c": 2}]}`, false},
		{"", `{"a": {"b": [{"exists": false}]}}`, `{"a": [{"c": 1}, {"c": 2}]}`, true},
		{"", `{"a": {"b": {"c": [{"exists": false}]}}}`, `{"a": [{"b": [{"x": 1}, {"c": 1}]}]}`, false},
		{"", `{"a": {"b": ["x"], "c": ["y"]}}`, `{"a": [{"b": "x", "c": "y"}]}`, true},
		{"", `{"a": {"b": ["x"], "c": ["y"]}}`, `{"a": [{"b": "x"}, {"c": "y"}]}`, false},
		{"", `{"a": {"b": ["x"]}}`, `{"a": [[{"b": "x"}]]}`, true},
		{"", `{"a": ["x", {"exists": false}]}`, `{"b": 1}`, true},
		{"", `{"a": ["x", {"exists": false}]}`, `{"a": "y"}`, false},
		{"", `{"a": [{"anything-but": "x"}]}`, `{"a": null}`, true},
		{"", `{"a": [{"anything-but": 5}]}`, `{"a": "5"}`, true},
		{"", `{"a": [true]}`, `{"a": "true"}`, false},
		{"", `{"a": [null]}`, `{"a": [null, 1]}`, true},
		{"", `{"a": ["é"]}`, `{"a": "\u00e9"}`, true},
		{"", `{"a\u002eb": ["x"]}`, `{"a.b": "x"}`, true},
		{"", `{"a": {"b": ["x"]}}`, `{"a.b": "x"}`, false},
		{"duplicate record keys: the last wins", `{"a": ["y"]}`, `{"a": "x", "a": "y"}`, true},
		{"duplicate record keys: the last wins", `{"a": ["x"]}`, `{"a": "x", "a": "y"}`, false},
		{"ignore case: Unicode folding", `{"a": [{"equals-ignore-case": "straße"}]}`, `{"a": "STRAßE"}`, true},
		{"ignore case: Kelvin sign folds to k", `{"a": [{"prefix": {"equals-ignore-case": "k"}}]}`, `{"a": "\u212aelvin"}`, true},
		{"ignore case: suffix", `{"a": [{"suffix": {"equals-ignore-case": "ÉTÉ"}}]}`, `{"a": "un été"}`, true},
		{"exact numbers beyond float64", `{"a": [{"numeric": ["<", 5000000000]}]}`, `{"a": 4999999999.9999999999999999}`, true},
		{"exact numbers beyond float64", `{"a": [{"numeric": [">=", 5000000000]}]}`, `{"a": 4999999999.9999999999999999}`, false},
		{"huge exponents", `{"a": [{"numeric": [">", 5000000000]}]}`, `{"a": 1e300}`, true},
		{"huge exponents", `{"a": [{"numeric": ["<", -5000000000]}]}`, `{"a": -1E+300}`, true},
		{"tiny exponents", `{"a": [{"numeric": [">", 0, "<", 0.000001]}]}`, `{"a": 1e-300}`, true},
		{"bounds in either order", `{"a": [{"numeric": ["<=", 5, ">", 0]}]}`, `{"a": 5}`, true},
	})
}

// TestLongList checks that "exists": false below a long array takes linear
// time: its answer is the same for every element, so it is computed once.
func TestLongList(t *testing.T) {
	const n = 50000
	var b strings.Builder
	b.WriteString(`{"dynamodb":{"NewImage":{"Lines":{"L":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"M":{"sku":{"S":"s%d"}}}`, i)
	}
	b.WriteString(`]}}}}`)
	rec := []byte(b.String())
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{fmt.Sprintf(`{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["s%d"]},"qty":{"N":[{"exists":false}]}}}}}}}`, n-1), true},
		{`{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":["none"]},"qty":{"N":[{"exists":false}]}}}}}}}`, false},
		{`{"dynamodb":{"NewImage":{"Lines":{"L":{"M":{"sku":{"S":[{"exists":false}]}}}}}}}`, false},
	} {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if got := p.Match(rec); got != tc.want {
			t.Errorf("Match(%s) = %v, want %v", tc.pattern, got, tc.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Match(%s) took %v on a %d-element list", tc.pattern, d, n)
		}
	}
}

// TestInvalidRecords checks that no pattern matches a record that is not a
// JSON object, even one that only asks for a missing field.
func TestInvalidRecords(t *testing.T) {
	c, err := CompileAll([]string{`{"a": [{"exists": false}]}`, `{"eventName": [{"anything-but": "x"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []string{
		``, ` `, `{`, `{"a": 1`, `{"a": 1}}`, `{"a": 1} {}`, `{"a": 01}`, `{"a": "\x01"}`,
		`{"a": "\q"}`, `{'a': 1}`, `{"a": tru}`, `[]`, `"x"`, `5`, `null`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	} {
		if c.Match([]byte(rec)) {
			t.Errorf("Criteria.Match(%.40q) = true, want false", rec)
		}
		for _, p := range c {
			if p.Match([]byte(rec)) {
				t.Errorf("Match(%.40q) with %s = true, want false", rec, p)
			}
		}
	}
	// The same patterns do match a valid record.
	if !c.Match([]byte(`{"b": 1}`)) {
		t.Errorf("Criteria.Match({\"b\": 1}) = false, want true")
	}
}

func TestCriteria(t *testing.T) {
	c, err := CompileAll([]string{
		`{"eventName": ["INSERT"]}`,
		`{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rec  string
		want bool
	}{
		{recSluice, true},
		{recTTL, true},
		{recRemove, false},
		{`not json`, false},
	} {
		if got := c.Match([]byte(tc.rec)); got != tc.want {
			t.Errorf("Match(%.60s) = %v, want %v", tc.rec, got, tc.want)
		}
	}
	if got, want := c.String(), `[{"eventName": ["INSERT"]}, {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}]`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}

	// An empty Criteria delivers everything, without reading it.
	for _, empty := range []Criteria{nil, {}} {
		for _, rec := range []string{recSluice, recRemove, `not json`} {
			if !empty.Match([]byte(rec)) {
				t.Errorf("empty Criteria: Match(%.20q) = false, want true", rec)
			}
		}
	}
	c, err = CompileAll(nil)
	if err != nil || len(c) != 0 {
		t.Errorf("CompileAll(nil) = %v, %v; want empty, nil", c, err)
	}

	// Five patterns are allowed; the String of each is its source.
	five := []string{`{"a":["1"]}`, `{"a":["2"]}`, `{"a":["3"]}`, `{"a":["4"]}`, `{"a":["5"]}`}
	c, err = CompileAll(five)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range c {
		if p.String() != five[i] {
			t.Errorf("pattern %d: String() = %s, want %s", i, p, five[i])
		}
	}
	if !c.Match([]byte(`{"a":"5"}`)) || c.Match([]byte(`{"a":"6"}`)) {
		t.Errorf("five patterns: wrong matches")
	}
}

// TestMatchAllocs checks the promise that matching does not allocate once
// the buffer pool is warm.
func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	c, err := CompileAll(benchPatterns)
	if err != nil {
		t.Fatal(err)
	}
	records := [][]byte{[]byte(recSluice), []byte(recTTL), []byte(`{"a":"escaped \" string \u00e9"}`)}
	for _, rec := range records {
		allocs := testing.AllocsPerRun(100, func() { c.Match(rec) })
		if allocs != 0 {
			t.Errorf("Criteria.Match(%.40s): %v allocations per run, want 0", rec, allocs)
		}
		allocs = testing.AllocsPerRun(100, func() { c[0].Match(rec) })
		if allocs != 0 {
			t.Errorf("Pattern.Match(%.40s): %v allocations per run, want 0", rec, allocs)
		}
	}
}

// TestConcurrentMatch runs one Criteria from many goroutines; run with
// -race it checks that patterns are safe to share.
func TestConcurrentMatch(t *testing.T) {
	c, err := CompileAll(benchPatterns)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for g := range 8 {
		go func() {
			ok := true
			for i := range 200 {
				rec, want := recSluice, true
				if (g+i)%2 == 1 {
					rec, want = recRemove, false
				}
				ok = ok && c.Match([]byte(rec)) == want
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent Match returned a wrong result")
		}
	}
}
