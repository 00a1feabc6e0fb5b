// Package filter implements the event filtering of a function trigger: the
// FilterCriteria of a Lambda event source mapping, whose patterns use the
// Amazon EventBridge event pattern syntax and are matched against each
// DynamoDB stream record in the form Lambda delivers it:
//
//	{"eventID": "…", "eventName": "INSERT", "eventVersion": "1.1",
//	 "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
//	 "dynamodb": {"ApproximateCreationDateTime": 1795249815,
//	              "Keys": {"pk": {"S": "a"}},
//	              "NewImage": {"pk": {"S": "a"}, "Quantity": {"N": "5"}},
//	              "SequenceNumber": "000000000000000001234", "SizeBytes": 63,
//	              "StreamViewType": "NEW_AND_OLD_IMAGES"},
//	 "eventSourceARN": "arn:aws:dynamodb:…",
//	 "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"}}
//
// (userIdentity is present only on deletions made by TTL.) A Criteria holds
// up to MaxFilters patterns and delivers a record if any pattern matches it;
// a record that matches none is dropped. An empty Criteria delivers
// everything.
//
// # Patterns
//
// A pattern is a JSON object of at most MaxPatternLength characters that
// mirrors the record's structure. Every field it names must match (AND);
// fields it does not name are ignored. A nested object descends into the
// record; any other value must be an array of rules, and the field matches
// if one of them does (OR):
//
//	Rule                  Example                                       Matches when the field
//	Equals                "Name": ["Alice"]                             is the string "Alice"
//	Or                    "PaymentType": ["Credit", "Debit"]            is either string
//	Null                  "UserID": [null]                              is null (not when it is missing)
//	Empty                 "LastName": [""]                              is the empty string (not null)
//	Number, boolean       "SizeBytes": [63], "BOOL": [true]             is that literal
//	Equals-ignore-case    "Name": [{"equals-ignore-case": "alice"}]     equals it, case-insensitively
//	Begins with           "Region": [{"prefix": "us-"}]                 is a string with that prefix
//	Ends with             "FileName": [{"suffix": ".png"}]              is a string with that suffix
//	… ignoring case       [{"prefix": {"equals-ignore-case": "us-"}}]   (likewise "suffix")
//	Not                   "Weather": [{"anything-but": ["Raining"]}]    is any value but those
//	Numeric (equals)      "Price": [{"numeric": ["=", 100]}]            is a JSON number equal to 100
//	Numeric (range)       "Price": [{"numeric": [">", 10, "<=", 20]}]   is a JSON number in (10, 20]
//	Exists                "ProductName": [{"exists": true}]             holds a value
//	Does not exist        "ProductName": [{"exists": false}]            holds none (see below)
//	Or (multiple fields)  "$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]
//
// "$or" takes two or more pattern objects and matches if one of them does,
// at the level where it appears; it nests. (As in EventBridge, a "$or"
// whose objects use operator names as keys is an ordinary field named
// "$or".) "anything-but" takes a string, a number, or an array of only
// strings or only numbers. A numeric range has one operator and number, or
// a lower bound (">" or ">=") and an upper bound ("<" or "<=") in either
// order.
//
// # Semantics
//
// Strings compare byte for byte with no normalization; the ignore-case
// rules use Unicode simple case folding. Equals on a number compares the
// literal text, so [300] matches 300 but not 300.0 or 3e2, as the AWS
// documentation says; "numeric" and the numbers of "anything-but" compare
// values, exactly, so ["=", 300] matches all three. A rule matches only a
// value of its own type: ["5"] never matches the number 5, and "numeric"
// never matches a string.
//
// That last point matters for DynamoDB: an attribute value such as
// {"N": "5"} holds the number as a JSON string, so
// {"dynamodb": {"NewImage": {"Quantity": {"N": [{"numeric": [">", 0]}]}}}}
// compiles but matches no record, just as in AWS, whose DynamoDB guide says
// numeric filtering does not apply to DynamoDB numbers. Match N values as
// strings instead ({"N": ["5"]}, or a prefix). The record's own numbers,
// such as dynamodb.ApproximateCreationDateTime and dynamodb.SizeBytes, are
// JSON numbers and do match "numeric". Likewise the attribute type is part
// of the path: {"NewImage": {"Quantity": ["5"]}} does not match
// {"Quantity": {"N": "5"}}; write {"Quantity": {"N": ["5"]}}.
//
// Only scalars (strings, numbers, booleans, null) are values. When the
// record holds an array, a rule matches if it matches any element, so
// {"SS": ["x"]} matches {"SS": ["x", "y"]} and {"anything-but": ["x"]}
// matches it too (through "y"). When a nested pattern object meets an
// array of objects, one element must satisfy the whole object. A field
// holding an object has no value: {"exists": true} does not match it and
// {"exists": false} does, so exists belongs on the leaf, as in
// {"dynamodb": {"NewImage": {"Color": {"S": [{"exists": true}]}}}}.
// {"exists": false} matches a missing field, a field holding an object or
// an empty array, and, below an array, a field that no element has.
//
// Common DynamoDB patterns:
//
//	{"eventName": ["INSERT", "MODIFY"]}
//	{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}
//	{"dynamodb": {"NewImage": {"PK": {"S": [{"prefix": "COMPANY"}]}}}}
//	{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
//
// The last matches only deletions made by TTL.
//
// # Limits and what is not supported
//
// Compile rejects, with a message that says what to change: a pattern that
// is not a JSON object or is longer than MaxPatternLength characters; a
// value that is neither an object nor an array of rules; empty objects and
// arrays; a field named twice in one object; unknown operators; numbers in
// "numeric" or "anything-but" outside -5.0e9 to 5.0e9 or with more than six
// digits right of the decimal point (the limits of Event Ruler, the
// matching library behind EventBridge); and the EventBridge operators that
// Lambda event filtering does not offer (EventBridge lists them as not
// supported in pipes, and Lambda's operator table omits them):
// "wildcard", "cidr", and "anything-but" with "prefix", "suffix",
// "equals-ignore-case" or "wildcard". CompileAll rejects more than
// MaxFilters patterns. Numbers in records are compared exactly whatever
// their size or precision.
//
// Match never fails: a record that is not a valid JSON object matches no
// pattern.
// Criteria.Match reads the record once for all its patterns, into buffers
// it reuses, so it does not allocate once warm. Patterns and Criteria are
// immutable and safe for concurrent use.
package filter
