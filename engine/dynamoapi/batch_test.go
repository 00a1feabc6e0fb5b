package dynamoapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
)

// putRequests renders n PutRequests for keys prefix0..prefixN-1.
func putRequests(prefix string, n int) string {
	reqs := make([]string, n)
	for i := range reqs {
		reqs[i] = fmt.Sprintf(`{"PutRequest":{"Item":{"pk":{"S":"%s%d"}}}}`, prefix, i)
	}
	return "[" + strings.Join(reqs, ",") + "]"
}

// keyList renders n hash-table keys prefix0..prefixN-1.
func keyList(prefix string, n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(`{"pk":{"S":"%s%d"}}`, prefix, i)
	}
	return "[" + strings.Join(keys, ",") + "]"
}

func TestBatchErrors(t *testing.T) {
	h := newHarness(t).withSharedTables()
	big := strings.Repeat("x", 410_000)
	runErrCases(t, h, []errCase{
		// tier3/error-messages/batchWriteItem.test.ts (exact).
		{"write: empty RequestItems", "BatchWriteItem", `{"RequestItems":{}}`, vex, "The requestItems parameter is required for BatchWriteItem"},
		{"write: put and delete of one key", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":"em-bw-dup"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"em-bw-dup"}}}}]}}`, vex,
			"Provided list of item keys contains duplicates"},
		{"write: missing table", "BatchWriteItem", `{"RequestItems":{"_conformance_does_not_exist_em_bw":[{"PutRequest":{"Item":{"pk":{"S":"test"}}}}]}}`, rnf,
			"Requested resource not found"},
		// tier1/batchWriteItem/validation.test.ts.
		{"write: two puts of one key", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":"dup-key"},"val":{"S":"first"}}}},{"PutRequest":{"Item":{"pk":{"S":"dup-key"},"val":{"S":"second"}}}}]}}`, vex,
			"Provided list of item keys contains duplicates"},
		// tier3/validation-ordering/batchOperations.test.ts and dynalite's recordings.
		{"write: missing RequestItems", "BatchWriteItem", `{}`, vex, "The requestItems parameter is required for BatchWriteItem"},
		{"write: 26 over two tables", "BatchWriteItem", `{"RequestItems":{"hash":` + putRequests("a", 13) + `,"hashN":[` + strings.Repeat(`{"DeleteRequest":{"Key":{"pk":{"N":"1"}}}},`, 12) + `{"DeleteRequest":{"Key":{"pk":{"N":"2"}}}}]}}`, vex,
			"Too many items requested for the BatchWriteItem call"},
		{"write: enums and null members aggregated", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{},"DeleteRequest":{}}]},"ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi"}`, vex,
			"4 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				"Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; " +
				"Value null at 'requestItems.hash.member.1.member.deleteRequest.key' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'requestItems.hash.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null"},
		{"write: empty write request", "BatchWriteItem", `{"RequestItems":{"hash":[{}]}}`, vex,
			"Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{"write: put and delete in one request", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":"a"}}},"DeleteRequest":{"Key":{"pk":{"S":"b"}}}}]}}`, vex,
			"Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{"write: bad value before table lookup", "BatchWriteItem", `{"RequestItems":{"nope":[{"PutRequest":{"Item":{"pk":{"SS":[]}}}}]}}`, vex,
			"One or more parameter values were invalid: An string set  may not be empty"},
		{"write: too large before table lookup", "BatchWriteItem", `{"RequestItems":{"nope":[{"PutRequest":{"Item":{"pk":{"S":"a"},"d":{"S":"` + big + `"}}}}]}}`, vex,
			"Item size has exceeded the maximum allowed size"},
		{"write: empty item on missing table", "BatchWriteItem", `{"RequestItems":{"nope":[{"PutRequest":{"Item":{}}}]}}`, rnf, "Requested resource not found"},
		{"write: missing table among good ones", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"x":{"S":"a"}}}}],"nope":[{"PutRequest":{"Item":{}}}]}}`, rnf,
			"Requested resource not found"},
		{"write: empty item", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{}}}]}}`, vex, "The provided key element does not match the schema"},
		{"write: put key of wrong type", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"N":"1"}}}}]}}`, vex, "The provided key element does not match the schema"},
		{"write: put missing sort key", "BatchWriteItem", `{"RequestItems":{"composite":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}]}}`, vex, "The provided key element does not match the schema"},
		{"write: delete with extra attribute", "BatchWriteItem", `{"RequestItems":{"hash":[{"DeleteRequest":{"Key":{"pk":{"S":"a"},"x":{"S":"b"}}}}]}}`, vex, "The provided key element does not match the schema"},
		{"write: empty key value", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":""}}}}]}}`, vex, "~Key: pk"},
		{"write: index key type", "BatchWriteItem", `{"RequestItems":{"composite":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"S":"b"},"lsi1sk":{"N":"1"}}}}]}}`, vex,
			"One or more parameter values were invalid: Type mismatch for Index Key lsi1sk Expected: S Actual: N IndexName: gsi1"},
		{"write: hash key too big", "BatchWriteItem", `{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":"` + strings.Repeat("a", 2049) + `"}}}}]}}`, vex,
			"One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"write: items of wrong JSON type", "BatchWriteItem", `{"RequestItems":{"hash":{}}}`, "SerializationException", ""},

		// tier3/error-messages/batchGetItem.test.ts (exact).
		{"get: empty RequestItems", "BatchGetItem", `{"RequestItems":{}}`, vex, "The requestItems parameter is required for BatchGetItem"},
		{"get: 101 keys", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":` + keyList("bg-", 101) + `}}}`, vex,
			"1 validation error detected: Value at 'RequestItems.hash.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100"},
		{"get: missing table", "BatchGetItem", `{"RequestItems":{"_conformance_does_not_exist_em_bg":{"Keys":[{"pk":{"S":"test"}}]}}}`, rnf, "Requested resource not found"},
		{"get: duplicate keys", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"em-bg-dup"}},{"pk":{"S":"em-bg-dup"}}]}}}`, vex,
			"Provided list of item keys contains duplicates"},
		// dynalite's recordings and the rest.
		{"get: missing RequestItems", "BatchGetItem", `{"ReturnConsumedCapacity":"TOTAL"}`, vex, "The requestItems parameter is required for BatchGetItem"},
		{"get: 101 over two tables", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":` + keyList("a", 100) + `},"hashN":{"Keys":[{"pk":{"N":"1"}}]}}}`, vex,
			"Too many items requested for the BatchGetItem call"},
		{"get: exactly 100 keys on a missing table", "BatchGetItem", `{"RequestItems":{"nope":{"Keys":` + keyList("a", 100) + `}}}`, rnf, "Requested resource not found"},
		{"get: duplicate numbers spelled differently", "BatchGetItem", `{"RequestItems":{"hashN":{"Keys":[{"pk":{"N":"1.0"}},{"pk":{"N":"2"}},{"pk":{"N":"1"}}]}}}`, vex,
			"Provided list of item keys contains duplicates"},
		{"get: duplicate before table lookup", "BatchGetItem", `{"RequestItems":{"nope":{"Keys":[{"a":{"S":"x"}},{"a":{"S":"x"}}]}}}`, vex,
			"Provided list of item keys contains duplicates"},
		{"get: enum and null keys", "BatchGetItem", `{"RequestItems":{"hash":{}},"ReturnConsumedCapacity":"hi"}`, vex,
			"2 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; " +
				"Value null at 'RequestItems.hash.member.Keys' failed to satisfy constraint: Member must not be null"},
		{"get: empty keys", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[]}}}`, vex,
			"1 validation error detected: Value at 'RequestItems.hash.member.Keys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"get: table name pattern", "BatchGetItem", `{"RequestItems":{"bad name!":{"Keys":[{"a":{"S":"x"}}]}}}`, vex,
			"1 validation error detected: Value '{bad name!={Keys: [{a={S: x,}}],}}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"},
		// Recorded from DynamoDB: the names before ReturnConsumedCapacity,
		// and a name of two characters breaks the same rule.
		{"get: table name and enum", "BatchGetItem", `{"RequestItems":{"ab":{"Keys":[{"a":{"S":"x"}}]}},"ReturnConsumedCapacity":"BOGUS"}`, vex,
			"2 validation errors detected: Value '{ab={Keys: [{a={S: x,}}],}}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]; " +
				"Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
		{"get: expression and legacy across tables", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"}}],"ProjectionExpression":"pk"},` +
			`"composite":{"Keys":[{"pk":{"S":"b"},"sk":{"S":"z"}}],"AttributesToGet":["pk"]}}}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"},
		{"get: bad value", "BatchGetItem", `{"RequestItems":{"nope":{"Keys":[{"a":{"NULL":false}}]}}}`, vex,
			"One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{"get: key missing sort key", "BatchGetItem", `{"RequestItems":{"composite":{"Keys":[{"pk":{"S":"a"}}]}}}`, vex, "The provided key element does not match the schema"},
		{"get: key with extra attribute", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"},"b":{"S":"a"}}]}}}`, vex, "The provided key element does not match the schema"},
		{"get: empty key on missing table", "BatchGetItem", `{"RequestItems":{"nope":{"Keys":[{}]}}}`, rnf, "Requested resource not found"},
		{"get: duplicate AttributesToGet", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"}}],"AttributesToGet":["a","a"]}}}`, vex,
			"One or more parameter values were invalid: Duplicate value in attribute name: a"},
		{"get: projection and AttributesToGet", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"}}],"ProjectionExpression":"a","AttributesToGet":["a"]}}}`, vex,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"},
		{"get: names without projection", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"}}],"ExpressionAttributeNames":{"#a":"a"}}}}`, vex,
			"ExpressionAttributeNames can only be specified when using expressions"},
		{"get: projection name unused", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"bg-proj"}}],"ProjectionExpression":"a, c","ExpressionAttributeNames":{"#x":"x"}}}}`, vex,
			"Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"},
		{"get: ConsistentRead of wrong JSON type", "BatchGetItem", `{"RequestItems":{"hash":{"Keys":[{"pk":{"S":"a"}}],"ConsistentRead":"yes"}}}`, "SerializationException", ""},
	})
}

// TestBatchWriteTooManyMessage checks the shape of the >25 message that
// tier3/error-messages/batchWriteItem.test.ts matches with a regex: the
// whole RequestItems map echoed in Java's toString form.
func TestBatchWriteTooManyMessage(t *testing.T) {
	h := newHarness(t).withSharedTables()
	want := regexp.MustCompile(`(?s)^1 validation error detected: Value '\{hash=\[.+\]\}' at 'requestItems' failed to satisfy constraint: ` +
		`Map value must satisfy constraint: \[Member must have length less than or equal to 25, Member must have length greater than or equal to 1\]$`)
	for _, body := range []string{
		`{"RequestItems":{"hash":` + putRequests("bw-", 26) + `}}`,
		`{"RequestItems":{"hash":[{"DeleteRequest":{"Key":{"pk":{"S":"x"}}}}],"hashN":[]}}`,
	} {
		r := h.call("BatchWriteItem", body)
		if r.status != http.StatusBadRequest || r.errType() != vex {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		if strings.Contains(body, "hashN") {
			want = regexp.MustCompile(`^1 validation error detected: Value '\{hash=\[\{DeleteRequest: \{Key: \{pk=\{S: x,\}\}\}\}\], hashN=\[\]\}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: .+$`)
		}
		if !want.MatchString(r.message()) {
			t.Errorf("message %q does not match %s", r.message(), want)
		}
	}
	// Nothing was written.
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"bw-0"}}}`).raw; got != `{}` {
		t.Fatalf("rejected batch wrote: %s", got)
	}
}

func TestBatchWriteAndGet(t *testing.T) {
	h := newHarness(t).withSharedTables()
	envs := make(chan event.Envelope, 16)
	cancel := h.e.ChangeLog().Subscribe(func(chs []engine.Change) {
		for _, c := range chs {
			env, err := event.Decode(c.Data)
			if err != nil {
				t.Error(err)
			}
			envs <- env
		}
	})
	defer cancel()

	// tier1/batchWriteItem/basic.test.ts: puts, then a response with no
	// unprocessed items.
	if got := h.ok("BatchWriteItem", `{"RequestItems":{"hash":[`+
		`{"PutRequest":{"Item":{"pk":{"S":"bw-0"},"val":{"N":"0"}}}},`+
		`{"PutRequest":{"Item":{"pk":{"S":"bw-1"},"val":{"N":"1"}}}},`+
		`{"PutRequest":{"Item":{"pk":{"S":"bw-del"},"val":{"S":"to-delete"}}}}]}}`).raw; got != `{"UnprocessedItems":{}}` {
		t.Fatalf("BatchWriteItem: %s", got)
	}
	for range 3 {
		if env := <-envs; env.Header(event.HdrAccessKey) != "AKIDTEST" {
			t.Errorf("record without the caller's identity: %v", env.Headers)
		}
	}
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"bw-1"}},"ConsistentRead":true}`).raw; got != `{"Item":{"pk":{"S":"bw-1"},"val":{"N":"1"}}}` {
		t.Fatalf("GetItem after batch: %s", got)
	}

	// Mixed puts and deletes over two tables, with capacity per table
	// (dynalite's recordings: one unit per started KB per request).
	big := strings.Repeat("b", 1500)
	got := h.ok("BatchWriteItem", `{"RequestItems":{`+
		`"hash":[{"DeleteRequest":{"Key":{"pk":{"S":"bw-del"}}}},{"PutRequest":{"Item":{"pk":{"S":"bw-big"},"b":{"S":"`+big+`"}}}}],`+
		`"arn:aws:dynamodb:us-east-1:000000000000:table/hashN":[{"PutRequest":{"Item":{"pk":{"N":"7"}}}}]},`+
		`"ReturnConsumedCapacity":"TOTAL"}`).raw
	want := `{"UnprocessedItems":{},"ConsumedCapacity":[{"TableName":"hashN","CapacityUnits":1},{"TableName":"hash","CapacityUnits":3}]}`
	if got != want {
		t.Fatalf("mixed batch\n got: %s\nwant: %s", got, want)
	}
	if got := h.ok("GetItem", `{"TableName":"hash","Key":{"pk":{"S":"bw-del"}}}`).raw; got != `{}` {
		t.Fatalf("deleted by batch: %s", got)
	}

	// INDEXES, and item collection metrics for a table with local indexes.
	got = h.ok("BatchWriteItem", `{"RequestItems":{"composite":[`+
		`{"PutRequest":{"Item":{"pk":{"S":"c1"},"sk":{"S":"a"},"lsi1sk":{"S":"x"}}}},`+
		`{"PutRequest":{"Item":{"pk":{"S":"c1"},"sk":{"S":"b"}}}},`+
		`{"DeleteRequest":{"Key":{"pk":{"S":"c2"},"sk":{"S":"a"}}}}],`+
		`"hash":[{"PutRequest":{"Item":{"pk":{"S":"m"}}}}]},`+
		`"ReturnConsumedCapacity":"INDEXES","ReturnItemCollectionMetrics":"SIZE"}`).raw
	// The put with lsi1sk writes an entry of lsi1 and of gsi1: a unit each.
	want = `{"UnprocessedItems":{},"ConsumedCapacity":[{"TableName":"composite","CapacityUnits":5,"Table":{"CapacityUnits":3},` +
		`"LocalSecondaryIndexes":{"lsi1":{"CapacityUnits":1}},"GlobalSecondaryIndexes":{"gsi1":{"CapacityUnits":1}}},{"TableName":"hash","CapacityUnits":1,"Table":{"CapacityUnits":1}}],` +
		`"ItemCollectionMetrics":{"composite":[{"ItemCollectionKey":{"pk":{"S":"c1"}},"SizeEstimateRangeGB":[0.0,1.0]},{"ItemCollectionKey":{"pk":{"S":"c2"}},"SizeEstimateRangeGB":[0.0,1.0]}]}}`
	if got != want {
		t.Fatalf("metrics batch\n got: %s\nwant: %s", got, want)
	}

	// tier1/batchGetItem/basic.test.ts and multiple tables: found and
	// missing keys; every table requested is in Responses.
	got = h.ok("BatchGetItem", `{"RequestItems":{`+
		`"hash":{"Keys":[{"pk":{"S":"bw-0"}},{"pk":{"S":"does-not-exist-123"}},{"pk":{"S":"bw-1"}}],"ConsistentRead":true},`+
		`"compositeN":{"Keys":[{"pk":{"S":"nope"},"sk":{"N":"1"}}]}}}`).raw
	want = `{"Responses":{"compositeN":[],"hash":[{"pk":{"S":"bw-0"},"val":{"N":"0"}},{"pk":{"S":"bw-1"},"val":{"N":"1"}}]},"UnprocessedKeys":{}}`
	if got != want {
		t.Fatalf("BatchGetItem\n got: %s\nwant: %s", got, want)
	}
	// Capacity: every key read is charged, misses too (dynalite's
	// recordings); eventually consistent reads half. bw-big is 1.5 KB: 1.
	got = h.ok("BatchGetItem", `{"RequestItems":{`+
		`"hash":{"Keys":[{"pk":{"S":"bw-0"}},{"pk":{"S":"bw-big"}},{"pk":{"S":"none"}}]},`+
		`"arn:aws:dynamodb:us-east-1:000000000000:table/hashN":{"Keys":[{"pk":{"N":"7"}}],"ConsistentRead":true}},"ReturnConsumedCapacity":"TOTAL"}`).raw
	want = `{"Responses":{"arn:aws:dynamodb:us-east-1:000000000000:table/hashN":[{"pk":{"N":"7"}}],` +
		`"hash":[{"pk":{"S":"bw-0"},"val":{"N":"0"}},{"b":{"S":"` + big + `"},"pk":{"S":"bw-big"}}]},"UnprocessedKeys":{},` +
		`"ConsumedCapacity":[{"TableName":"hashN","CapacityUnits":1},{"TableName":"hash","CapacityUnits":1.5}]}`
	if got != want {
		t.Fatalf("BatchGetItem capacity\n got: %s\nwant: %s", got, want)
	}
}

// TestBatchGetUnprocessed reads more than 16 MB: the keys past the limit
// come back in UnprocessedKeys with the table's ConsistentRead.
func TestBatchGetUnprocessed(t *testing.T) {
	h := newHarness(t).withSharedTables()
	payload := strings.Repeat("x", 409_000)
	for i := 0; i < 44; i += 2 {
		h.ok("BatchWriteItem", fmt.Sprintf(`{"RequestItems":{"hash":[{"PutRequest":{"Item":{"pk":{"S":"u%02d"},"p":{"S":"%s"}}}},{"PutRequest":{"Item":{"pk":{"S":"u%02d"},"p":{"S":"%s"}}}}]}}`,
			i, payload, i+1, payload))
	}
	keys := make([]string, 44)
	for i := range keys {
		keys[i] = fmt.Sprintf(`{"pk":{"S":"u%02d"}}`, i)
	}
	r := h.ok("BatchGetItem", `{"RequestItems":{"hash":{"Keys":[`+strings.Join(keys, ",")+`],"ConsistentRead":true}}}`)
	got, _ := path(r.body, "Responses.hash").([]any)
	unp, _ := path(r.body, "UnprocessedKeys.hash.Keys").([]any)
	// Each item is 409,006 bytes: 41 fit in 16 MB.
	if len(got) != 41 || len(unp) != 3 || path(r.body, "UnprocessedKeys.hash.ConsistentRead") != true {
		t.Fatalf("%d items, %d unprocessed keys, UnprocessedKeys %v", len(got), len(unp), path(r.body, "UnprocessedKeys.hash.ConsistentRead"))
	}
	if path(unp[0], "pk.S") != "u41" || path(unp[2], "pk.S") != "u43" {
		t.Fatalf("unprocessed keys %v", unp)
	}
}
