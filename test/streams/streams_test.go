// Package streams tests the DynamoDB Streams API of the sluice binary
// through the AWS SDK for Go v2 dynamodbstreams client, as a stream
// consumer sees it: a KCL-style poller reads every change exactly once, in
// order per item, across shard rollovers and SIGKILL restarts; records
// carry the images their stream's view type promises; and streams, shards
// and iterators live through disabling, re-enabling, restarts and the
// table's deletion.
package streams

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// TestViewTypes writes an INSERT, a MODIFY and a REMOVE to one table per
// view type and checks every member of the records.
func TestViewTypes(t *testing.T) {
	const region = "eu-west-2" // not the SDK's, so that awsRegion must come from the server
	srv := sluicetest.Start(t, sluicetest.Options{ExtraArgs: []string{"--shard-bits", "0", "--region", region}})
	ctx := sluicetest.Context(t)
	db := srv.DynamoDB()
	c := streamsClient(srv.URL, 3)

	key := map[string]dbtypes.AttributeValue{
		"pk": &dbtypes.AttributeValueMemberS{Value: "a"},
		"sk": &dbtypes.AttributeValueMemberN{Value: "1"},
	}
	v1 := map[string]dbtypes.AttributeValue{
		"pk": key["pk"], "sk": key["sk"],
		"color": &dbtypes.AttributeValueMemberS{Value: "red"},
		"n":     &dbtypes.AttributeValueMemberN{Value: "1"},
	}
	v2 := map[string]dbtypes.AttributeValue{
		"pk": key["pk"], "sk": key["sk"],
		"color": &dbtypes.AttributeValueMemberS{Value: "blue"},
		"n":     &dbtypes.AttributeValueMemberN{Value: "2"},
	}
	type want struct {
		event    sttypes.OperationType
		old, new map[string]dbtypes.AttributeValue
	}
	wants := []want{
		{sttypes.OperationTypeInsert, nil, v1},
		{sttypes.OperationTypeModify, v1, v2},
		{sttypes.OperationTypeRemove, v2, nil},
	}
	views := []dbtypes.StreamViewType{
		dbtypes.StreamViewTypeKeysOnly, dbtypes.StreamViewTypeNewImage,
		dbtypes.StreamViewTypeOldImage, dbtypes.StreamViewTypeNewAndOldImages,
	}
	sizes := map[dbtypes.StreamViewType][]int64{}
	eventIDs := map[string]bool{}
	for _, view := range views {
		name := "view-" + strings.ToLower(string(view))
		created := time.Now()
		d := createTable(ctx, t, db, name, view, true)
		arn, label := aws.ToString(d.LatestStreamArn), aws.ToString(d.LatestStreamLabel)
		if !strings.HasPrefix(arn, "arn:aws:dynamodb:"+region+":") || !strings.HasSuffix(arn, ":table/"+name+"/stream/"+label) {
			t.Errorf("%s: LatestStreamArn %q, want the table's ARN in %s + /stream/%s", name, arn, region, label)
		}
		before := time.Now()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: v1}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(name), Key: key,
			UpdateExpression:          aws.String("SET color = :c, n = n + :one"),
			ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":c": v2["color"], ":one": &dbtypes.AttributeValueMemberN{Value: "1"}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: key}); err != nil {
			t.Fatal(err)
		}
		after := time.Now()

		desc, reads := readStream(ctx, t, c, arn)
		if aws.ToString(desc.StreamArn) != arn || aws.ToString(desc.StreamLabel) != label || aws.ToString(desc.TableName) != name ||
			desc.StreamStatus != sttypes.StreamStatusEnabled || string(desc.StreamViewType) != string(view) {
			t.Errorf("%s: DescribeStream: arn %s label %s table %s status %s view %s", name,
				aws.ToString(desc.StreamArn), aws.ToString(desc.StreamLabel), aws.ToString(desc.TableName), desc.StreamStatus, desc.StreamViewType)
		}
		if ks := desc.KeySchema; len(ks) != 2 || aws.ToString(ks[0].AttributeName) != "pk" || ks[0].KeyType != sttypes.KeyTypeHash ||
			aws.ToString(ks[1].AttributeName) != "sk" || ks[1].KeyType != sttypes.KeyTypeRange {
			t.Errorf("%s: KeySchema %+v, want pk HASH, sk RANGE", name, ks)
		}
		if cr := aws.ToTime(desc.CreationRequestDateTime); cr.Before(created.Add(-time.Second)) || cr.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: CreationRequestDateTime %s, want about %s", name, cr, created)
		}
		if len(desc.Shards) != 1 {
			t.Fatalf("%s: %d shards, want 1 (--shard-bits 0, no rollover)", name, len(desc.Shards))
		}
		sh := desc.Shards[0]
		read := reads[*sh.ShardId]
		if sh.ParentShardId != nil || sh.SequenceNumberRange.EndingSequenceNumber != nil || read.closed || read.next == "" {
			t.Errorf("%s: shard %+v read closed=%v: want an open root shard that gives a NextShardIterator", name, sh, read.closed)
		}
		if len(read.recs) != len(wants) {
			t.Fatalf("%s: %d records, want %d", name, len(read.recs), len(wants))
		}
		prevSeq := ""
		for i, r := range read.recs {
			w, sr := wants[i], r.Dynamodb
			what := name + " " + string(w.event)
			if r.EventName != w.event || aws.ToString(r.EventVersion) != "1.1" || aws.ToString(r.EventSource) != "aws:dynamodb" || aws.ToString(r.AwsRegion) != region {
				t.Errorf("%s: eventName %s eventVersion %q eventSource %q awsRegion %q, want %s 1.1 aws:dynamodb %s",
					what, r.EventName, aws.ToString(r.EventVersion), aws.ToString(r.EventSource), aws.ToString(r.AwsRegion), w.event, region)
			}
			if id := aws.ToString(r.EventID); id == "" || eventIDs[id] {
				t.Errorf("%s: eventID %q empty or not unique", what, id)
			} else {
				eventIDs[id] = true
			}
			if r.UserIdentity != nil {
				t.Errorf("%s: userIdentity %+v on a user's write", what, r.UserIdentity)
			}
			if got := canonStream(sr.Keys); got != canonDB(key) {
				t.Errorf("%s: Keys %s, want %s", what, got, canonDB(key))
			}
			wantNew, wantOld := w.new, w.old
			if view == dbtypes.StreamViewTypeKeysOnly || view == dbtypes.StreamViewTypeOldImage {
				wantNew = nil
			}
			if view == dbtypes.StreamViewTypeKeysOnly || view == dbtypes.StreamViewTypeNewImage {
				wantOld = nil
			}
			if got := canonStream(sr.NewImage); got != canonDB(wantNew) {
				t.Errorf("%s: NewImage %q, want %q", what, got, canonDB(wantNew))
			}
			if got := canonStream(sr.OldImage); got != canonDB(wantOld) {
				t.Errorf("%s: OldImage %q, want %q", what, got, canonDB(wantOld))
			}
			seq := aws.ToString(sr.SequenceNumber)
			if len(seq) != 21 || strings.Trim(seq, "0123456789") != "" || seq <= prevSeq {
				t.Errorf("%s: SequenceNumber %q: want 21 digits, after %q", what, seq, prevSeq)
			}
			if seq < aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber) {
				t.Errorf("%s: SequenceNumber %s before the shard's start %s", what, seq, aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber))
			}
			prevSeq = seq
			if string(sr.StreamViewType) != string(view) {
				t.Errorf("%s: StreamViewType %s, want %s", what, sr.StreamViewType, view)
			}
			ts := aws.ToTime(sr.ApproximateCreationDateTime)
			if ts.Nanosecond() != 0 || ts.Before(before.Truncate(time.Second)) || ts.After(after) {
				t.Errorf("%s: ApproximateCreationDateTime %s: want whole seconds in [%s, %s]", what, ts.Format(time.RFC3339Nano), before.Truncate(time.Second), after)
			}
			if aws.ToInt64(sr.SizeBytes) <= 0 {
				t.Errorf("%s: SizeBytes %d, want > 0", what, aws.ToInt64(sr.SizeBytes))
			}
			sizes[view] = append(sizes[view], aws.ToInt64(sr.SizeBytes))
		}
		if read.next != "" {
			// An open shard read to its end gives nothing more, but goes on.
			if more := readIter(ctx, t, c, read.next); len(more.recs) != 0 || more.closed {
				t.Errorf("%s: reading on from the end gave %d records, closed %v", name, len(more.recs), more.closed)
			}
		}
	}
	// SizeBytes counts the keys and the images the view keeps, so the
	// sizes of the four views are related.
	ko, ni, oi, no := sizes[dbtypes.StreamViewTypeKeysOnly], sizes[dbtypes.StreamViewTypeNewImage], sizes[dbtypes.StreamViewTypeOldImage], sizes[dbtypes.StreamViewTypeNewAndOldImages]
	for i, w := range wants {
		if len(ko) <= i || len(ni) <= i || len(oi) <= i || len(no) <= i {
			break
		}
		if ko[i] >= no[i] || no[i] != ni[i]+oi[i]-ko[i] {
			t.Errorf("%s SizeBytes: KEYS_ONLY %d, NEW_IMAGE %d, OLD_IMAGE %d, NEW_AND_OLD_IMAGES %d: want keys < both, both = new + old - keys",
				w.event, ko[i], ni[i], oi[i], no[i])
		}
	}
	t.Logf("4 view types × INSERT, MODIFY, REMOVE: SizeBytes keys-only %v, new %v, old %v, new-and-old %v", ko, ni, oi, no)
}

// TestStreamLifecycle walks a stream through rollover, iterator types, a
// restart, errors, disabling and re-enabling, ListStreams paging and the
// table's deletion.
func TestStreamLifecycle(t *testing.T) {
	began := time.Now()
	srv := sluicetest.Start(t, sluicetest.Options{ExtraArgs: []string{"--shard-bits", "1", "--stream-shard-rollover", "1s"}})
	ctx := sluicetest.Context(t)
	db := srv.DynamoDB()
	c := streamsClient(srv.URL, 5)
	const table = "life"
	arn1 := aws.ToString(createTable(ctx, t, db, table, dbtypes.StreamViewTypeNewAndOldImages, false).LatestStreamArn)
	for _, name := range []string{"page-a", "page-b", "page-c"} {
		createTable(ctx, t, db, name, dbtypes.StreamViewTypeKeysOnly, false)
	}
	// A table whose shards stay empty until they roll over; a consumer
	// holds an iterator at the end of each.
	emptyARN := aws.ToString(createTable(ctx, t, db, "empty", dbtypes.StreamViewTypeKeysOnly, false).LatestStreamArn)
	emptyDesc, emptyReads := readStream(ctx, t, c, emptyARN)
	if len(emptyDesc.Shards) != 2 {
		t.Fatalf("empty: %d shards, want 2", len(emptyDesc.Shards))
	}
	for id, r := range emptyReads {
		if len(r.recs) != 0 || r.closed || r.next == "" {
			t.Fatalf("empty: shard %s: %d records, closed %v, want none and a NextShardIterator", id, len(r.recs), r.closed)
		}
	}
	puts := 0
	put := func(pk, v string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]dbtypes.AttributeValue{
			"pk": &dbtypes.AttributeValueMemberS{Value: pk},
			"v":  &dbtypes.AttributeValueMemberS{Value: v},
		}}); err != nil {
			t.Fatalf("PutItem %s: %v", pk, err)
		}
		puts++
	}
	keys := make([]string, 20)
	for i := range keys {
		// The first byte varies: keys that differ only in their last
		// byte tend to hash to one shard.
		keys[i] = string(rune('a'+i)) + "-key"
		put(keys[i], "1")
	}
	time.Sleep(1100 * time.Millisecond) // past --stream-shard-rollover
	for _, k := range keys {
		put(k, "2") // the first write to each table shard rolls it over
	}
	t.Run("EmptyShardRollsOver", func(t *testing.T) { testEmptyRollover(ctx, t, db, c, emptyARN, emptyReads) })

	// Lineage, CHILD_SHARDS, and DescribeStream paging.
	desc, err := describeAll(ctx, c, arn1, 0)
	if err != nil {
		t.Fatal(err)
	}
	chains := lineages(t, desc.Shards, true)
	if len(chains) != 2 {
		t.Fatalf("%d lineages, want 2", len(chains))
	}
	for _, ch := range chains {
		if len(ch) < 2 {
			t.Fatalf("a lineage of %d shard after writes past the rollover period, want at least 2", len(ch))
		}
		parent, kid := *ch[0].ShardId, *ch[1].ShardId
		out, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn1),
			ShardFilter: &sttypes.ShardFilter{Type: sttypes.ShardFilterTypeChildShards, ShardId: aws.String(parent)}})
		if err != nil {
			t.Fatalf("DescribeStream CHILD_SHARDS of %s: %v", parent, err)
		}
		if got := shardIDs(out.StreamDescription.Shards); !slices.Equal(got, []string{kid}) {
			t.Errorf("CHILD_SHARDS of %s: %v, want [%s]", parent, got, kid)
		}
		leaf := *ch[len(ch)-1].ShardId
		out, err = c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn1),
			ShardFilter: &sttypes.ShardFilter{Type: sttypes.ShardFilterTypeChildShards, ShardId: aws.String(leaf)}})
		if err != nil || len(out.StreamDescription.Shards) != 0 {
			t.Errorf("CHILD_SHARDS of the open shard %s: %v, %v; want none", leaf, err, out)
		}
	}
	paged, err := describeAll(ctx, c, arn1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shardIDs(paged.Shards), shardIDs(desc.Shards); !slices.Equal(got, want) {
		t.Errorf("DescribeStream one shard a page: %v, want %v", got, want)
	}

	// AT_ and AFTER_SEQUENCE_NUMBER on the closed root with the most records.
	var (
		root string
		recs []sttypes.Record
	)
	for _, ch := range chains {
		r := readShard(ctx, t, c, arn1, *ch[0].ShardId)
		if !r.closed {
			t.Errorf("closed shard %s: no end after reading it", *ch[0].ShardId)
		}
		if len(r.recs) > len(recs) {
			root, recs = *ch[0].ShardId, r.recs
		}
	}
	if len(recs) < 2 {
		t.Fatalf("the root shards have %d records at most, want 2 or more", len(recs))
	}
	seq := func(i int) string { return aws.ToString(recs[i].Dynamodb.SequenceNumber) }
	first := func(typ sttypes.ShardIteratorType, s string) (string, int) {
		t.Helper()
		r := readIter(ctx, t, c, iterator(ctx, t, c, arn1, root, typ, s))
		if !r.closed {
			t.Errorf("%s %s on a closed shard: no end", typ, s)
		}
		if len(r.recs) == 0 {
			return "", 0
		}
		return aws.ToString(r.recs[0].Dynamodb.SequenceNumber), len(r.recs)
	}
	last := len(recs) - 1
	for _, tc := range []struct {
		typ     sttypes.ShardIteratorType
		at      int
		first   int // index into recs; -1: nothing
		howMany int
	}{
		{sttypes.ShardIteratorTypeAtSequenceNumber, 0, 0, len(recs)},
		{sttypes.ShardIteratorTypeAtSequenceNumber, 1, 1, len(recs) - 1},
		{sttypes.ShardIteratorTypeAfterSequenceNumber, 0, 1, len(recs) - 1},
		{sttypes.ShardIteratorTypeAtSequenceNumber, last, last, 1},
		{sttypes.ShardIteratorTypeAfterSequenceNumber, last, -1, 0},
	} {
		got, n := first(tc.typ, seq(tc.at))
		want := ""
		if tc.first >= 0 {
			want = seq(tc.first)
		}
		if got != want || n != tc.howMany {
			t.Errorf("%s %s: first record %q of %d, want %q of %d", tc.typ, seq(tc.at), got, n, want, tc.howMany)
		}
	}
	rootShard := chains[0][0]
	for _, ch := range chains {
		if *ch[0].ShardId == root {
			rootShard = ch[0]
		}
	}
	end := aws.ToString(rootShard.SequenceNumberRange.EndingSequenceNumber)
	past := incSeq(end)
	if _, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn1), ShardId: aws.String(root),
		ShardIteratorType: sttypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(past)}); apiCode(err) != "ValidationException" {
		t.Errorf("AT_SEQUENCE_NUMBER %s past the end %s of closed shard %s: %v, want ValidationException", past, end, root, err)
	}

	// Iterators are self-contained: those issued before a SIGKILL and
	// restart read the same records after it.
	fromStart := iterator(ctx, t, c, arn1, root, sttypes.ShardIteratorTypeTrimHorizon, "")
	one, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(fromStart), Limit: aws.Int32(1)})
	if err != nil || len(one.Records) != 1 || one.NextShardIterator == nil {
		t.Fatalf("GetRecords Limit 1: %v, %+v", err, one)
	}
	srv.Kill()
	srv.Restart(t)
	db = srv.DynamoDB()
	if got := readIter(ctx, t, c, fromStart); !got.closed || !slices.Equal(recordSeqs(got.recs), recordSeqs(recs)) {
		t.Errorf("TRIM_HORIZON iterator from before the restart: %v (closed %v), want %v", recordSeqs(got.recs), got.closed, recordSeqs(recs))
	}
	if got := readIter(ctx, t, c, *one.NextShardIterator); !got.closed || !slices.Equal(recordSeqs(got.recs), recordSeqs(recs[1:])) {
		t.Errorf("NextShardIterator from before the restart: %v (closed %v), want %v", recordSeqs(got.recs), got.closed, recordSeqs(recs[1:]))
	}

	// LATEST, then one write: reading on from LATEST gives that write only.
	// More than the rollover period has passed, so the write rolls its
	// shard over: follow each LATEST shard into its children.
	desc, err = describeAll(ctx, c, arn1, 0)
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]string{}
	for _, sh := range desc.Shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			latest[*sh.ShardId] = iterator(ctx, t, c, arn1, *sh.ShardId, sttypes.ShardIteratorTypeLatest, "")
		}
	}
	if len(latest) != 2 {
		t.Errorf("%d open shards, want 2", len(latest))
	}
	put("latest", "1")
	var fromLatest []sttypes.Record
	for id, it := range latest {
		r := readIter(ctx, t, c, it)
		fromLatest = append(fromLatest, r.recs...)
		for r.closed {
			out, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn1),
				ShardFilter: &sttypes.ShardFilter{Type: sttypes.ShardFilterTypeChildShards, ShardId: aws.String(id)}})
			if err != nil || len(out.StreamDescription.Shards) != 1 {
				t.Fatalf("children of the closed shard %s: %v, %+v", id, err, out)
			}
			id = *out.StreamDescription.Shards[0].ShardId
			r = readShard(ctx, t, c, arn1, id)
			fromLatest = append(fromLatest, r.recs...)
		}
	}
	if len(fromLatest) != 1 || streamS(fromLatest[0].Dynamodb.Keys, "pk") != "latest" || fromLatest[0].EventName != sttypes.OperationTypeInsert {
		t.Errorf("from LATEST: %d records %v, want the INSERT of latest only", len(fromLatest), recordIDs(fromLatest))
	}

	// Errors.
	tableARN, label1, _ := strings.Cut(arn1, "/stream/")
	for _, arn := range []string{tableARN + "/stream/1999-01-01T00:00:00.000", strings.Replace(tableARN, "/life", "/nope", 1) + "/stream/" + label1} {
		_, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("DescribeStream %s: %v, want ResourceNotFoundException", arn, err)
		}
		_, err = c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(root), ShardIteratorType: sttypes.ShardIteratorTypeTrimHorizon})
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("GetShardIterator on %s: %v, want ResourceNotFoundException", arn, err)
		}
	}
	if _, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn1),
		ShardId: aws.String("shardId-00000000000000000000-00000000"), ShardIteratorType: sttypes.ShardIteratorTypeTrimHorizon}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetShardIterator of an unknown shard: %v, want ResourceNotFoundException", err)
	}
	tampered := []byte(fromStart)
	if i := len(tampered) - 6; tampered[i] == 'A' { // another base64 digit: decodes, breaks the CRC
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	for _, it := range []string{"garbage-iterator", arn1 + "|1|AAAA", string(tampered)} {
		_, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it)})
		if apiCode(err) != "ValidationException" {
			t.Errorf("GetRecords %q: %v, want ValidationException", it, err)
		}
	}

	// Disable: the stream stays, DISABLED, its shards closed and readable.
	if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatalf("disabling the stream: %v", err)
	}
	checkClosed := func(arn string, view sttypes.StreamViewType, want int) []sttypes.Record {
		t.Helper()
		desc, reads := readStream(ctx, t, c, arn)
		if desc.StreamStatus != sttypes.StreamStatusDisabled || desc.StreamViewType != view {
			t.Errorf("%s: status %s view %s, want DISABLED %s", arn, desc.StreamStatus, desc.StreamViewType, view)
		}
		lineages(t, desc.Shards, false)
		var all []sttypes.Record
		for _, sh := range desc.Shards {
			r := reads[*sh.ShardId]
			if !r.closed {
				t.Errorf("%s: shard %s of a disabled stream gives a NextShardIterator at its end", arn, *sh.ShardId)
			}
			all = append(all, r.recs...)
		}
		if len(all) != want {
			t.Errorf("%s: %d records, want %d", arn, len(all), want)
		}
		return all
	}
	checkClosed(arn1, sttypes.StreamViewTypeNewAndOldImages, puts)
	firstStream := puts
	put("while-off", "1")

	// Enable again: a new stream, with a new label.
	up, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dbtypes.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatalf("enabling the stream again: %v", err)
	}
	arn2, label2 := aws.ToString(up.TableDescription.LatestStreamArn), aws.ToString(up.TableDescription.LatestStreamLabel)
	if arn2 == arn1 || label2 <= label1 || !strings.HasSuffix(arn2, "/stream/"+label2) {
		t.Errorf("re-enabled: LatestStreamArn %q label %q; first stream %q: want a new, later label", arn2, label2, arn1)
	}
	put("after-on", "1")
	desc2, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn2)})
	if err != nil {
		t.Fatal(err)
	}
	if d := desc2.StreamDescription; d.StreamStatus != sttypes.StreamStatusEnabled || d.StreamViewType != sttypes.StreamViewTypeNewImage || len(d.Shards) != 2 {
		t.Errorf("%s: status %s view %s, %d shards; want ENABLED NEW_IMAGE, 2", arn2, d.StreamStatus, d.StreamViewType, len(d.Shards))
	}
	checkSecond := func(all []sttypes.Record) {
		t.Helper()
		if len(all) != 1 || streamS(all[0].Dynamodb.Keys, "pk") != "after-on" || all[0].Dynamodb.OldImage != nil ||
			streamS(all[0].Dynamodb.NewImage, "v") != "1" || all[0].Dynamodb.StreamViewType != sttypes.StreamViewTypeNewImage {
			t.Errorf("second stream: %v, want the NEW_IMAGE INSERT of after-on only", recordIDs(all))
		}
	}
	_, reads := readStream(ctx, t, c, arn2)
	var second []sttypes.Record
	for _, r := range reads {
		second = append(second, r.recs...)
	}
	checkSecond(second)
	for _, r := range checkClosed(arn1, sttypes.StreamViewTypeNewAndOldImages, firstStream) {
		if pk := streamS(r.Dynamodb.Keys, "pk"); pk == "while-off" || pk == "after-on" {
			t.Errorf("the disabled stream has a record of %s", pk)
		}
	}

	// ListStreams, whole, paged, and of one table.
	all := listStreams(ctx, t, c, "", 0)
	wantAll := []string{"empty", "life", "life", "page-a", "page-b", "page-c"}
	if got := streamTables(all); !slices.Equal(got, wantAll) {
		t.Errorf("ListStreams: tables %v, want %v", got, wantAll)
	}
	for _, limit := range []int32{1, 2, 4} {
		if got := listStreams(ctx, t, c, "", limit); !slices.Equal(streamARNs(got), streamARNs(all)) {
			t.Errorf("ListStreams %d at a time: %v, want %v", limit, streamARNs(got), streamARNs(all))
		}
	}
	if got := streamARNs(listStreams(ctx, t, c, table, 1)); !slices.Equal(got, []string{arn1, arn2}) {
		t.Errorf("ListStreams of %s: %v, want %v", table, got, []string{arn1, arn2})
	}

	// Deleting the table keeps both streams listed and readable, DISABLED.
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	if got := streamARNs(listStreams(ctx, t, c, table, 0)); !slices.Equal(got, []string{arn1, arn2}) {
		t.Errorf("ListStreams of the deleted %s: %v, want %v", table, got, []string{arn1, arn2})
	}
	checkSecond(checkClosed(arn2, sttypes.StreamViewTypeNewImage, 1))
	checkClosed(arn1, sttypes.StreamViewTypeNewAndOldImages, firstStream)
	t.Logf("lifecycle: lineages of depth %d and %d, %d records on the first stream, 1 on the second, a restart; took %s",
		len(chains[0]), len(chains[1]), firstStream, time.Since(began).Round(time.Millisecond))
}

// testEmptyRollover writes once to a table whose stream shards have been
// open, and empty, for longer than the rollover period, so that one shard
// rolls over: the empty shard it closes is still a shard of the stream
// (nothing was trimmed), and an iterator a consumer held at its end reads
// that it ended.
func testEmptyRollover(ctx context.Context, t *testing.T, db *dynamodb.Client, c *dynamodbstreams.Client, arn string, held map[string]shardRead) {
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("empty"),
		Item: map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "x"}}}); err != nil {
		t.Fatal(err)
	}
	desc, err := describeAll(ctx, c, arn, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]sttypes.Shard{}
	for _, sh := range desc.Shards {
		listed[*sh.ShardId] = sh
	}
	var bug []string // what the known bug shows; anything else fails
	for _, sh := range desc.Shards {
		if p := sh.ParentShardId; p != nil {
			if _, ok := listed[*p]; !ok {
				bug = append(bug, fmt.Sprintf("DescribeStream lists %s with ParentShardId %s, which it no longer lists", *sh.ShardId, *p))
			}
		}
	}
	ended := 0
	for id, r := range held {
		out, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(r.next)})
		switch {
		case apiCode(err) == "ResourceNotFoundException":
			bug = append(bug, fmt.Sprintf("GetRecords with an iterator held at the end of %s: %v", id, err))
			ended++
		case err != nil:
			t.Errorf("GetRecords on %s: %v", id, err)
		case len(out.Records) != 0:
			t.Errorf("GetRecords on the empty shard %s: %d records", id, len(out.Records))
		case out.NextShardIterator == nil:
			ended++
			sh, ok := listed[id]
			if !ok {
				t.Errorf("shard %s ended but is not listed", id)
			} else if end, start := aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber), aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber); end == "" || end >= start {
				t.Errorf("ended empty shard %s: range %s..%s, want it closed before its start", id, start, end)
			}
		}
	}
	if ended != 1 {
		t.Errorf("%d of the 2 empty shards ended after one write, want 1 (the one written)", ended)
	}
	if len(bug) > 0 {
		// Once a bug: a closed shard that never had a record was taken for
		// trimmed.
		t.Errorf("an empty closed shard vanished: %s", strings.Join(bug, "; "))
	}
}

// listStreams pages through ListStreams (of one table when table is not
// "") limit at a time (0: the server's default).
func listStreams(ctx context.Context, t *testing.T, c *dynamodbstreams.Client, table string, limit int32) []sttypes.Stream {
	t.Helper()
	var (
		out   []sttypes.Stream
		start *string
	)
	for range 100 {
		in := &dynamodbstreams.ListStreamsInput{ExclusiveStartStreamArn: start}
		if table != "" {
			in.TableName = aws.String(table)
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		page, err := c.ListStreams(ctx, in)
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		if limit > 0 && int32(len(page.Streams)) > limit {
			t.Errorf("ListStreams Limit %d: %d streams", limit, len(page.Streams))
		}
		out = append(out, page.Streams...)
		if start = page.LastEvaluatedStreamArn; start == nil {
			return out
		}
	}
	t.Fatal("ListStreams: more than 100 pages")
	return nil
}

func streamARNs(ss []sttypes.Stream) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = aws.ToString(s.StreamArn)
	}
	return out
}

func streamTables(ss []sttypes.Stream) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = aws.ToString(s.TableName)
	}
	return out
}

func shardIDs(shards []sttypes.Shard) []string {
	out := make([]string, len(shards))
	for i, sh := range shards {
		out[i] = aws.ToString(sh.ShardId)
	}
	return out
}

func recordSeqs(recs []sttypes.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = aws.ToString(r.Dynamodb.SequenceNumber)
	}
	return out
}

func recordIDs(recs []sttypes.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.EventName) + " " + streamS(r.Dynamodb.Keys, "pk")
	}
	return out
}

// incSeq adds one to a decimal sequence number, keeping its width.
func incSeq(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}
