package streams

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

const (
	feedTable     = "feed"
	feedWriters   = 5
	keysPerWriter = 10
	feedRun       = 10 * time.Second
	noopKey       = "noop"
)

// kills are when, from the writers' start, the server is killed; it is
// restarted after down, longer than the poller's client retries for.
var kills = []time.Duration{3 * time.Second, 6500 * time.Millisecond}

// splitAt is when the run splits every table shard (between the kills).
const splitAt = 5 * time.Second

const down = time.Second

// item is one key of the feed table, written by one writer only, so that
// its history is sequential and known.
type item struct {
	pk      string
	image   map[string]dbtypes.AttributeValue // nil while absent
	changes []change                          // applied changes, in order
}

// change is one applied change of an item, as its stream record must show
// it.
type change struct {
	event    string // INSERT, MODIFY or REMOVE
	old, new string // canonical images; "" when absent
	ver      int64  // the version of the write that made it
	unknown  bool   // the write failed on the wire and was found applied
}

// write is one request: a put, an update or a delete of a, or a
// transaction that puts a and updates or deletes b.
type write struct {
	kind       string
	a, b       *item
	ver, verB  int64
	aNew, bNew map[string]dbtypes.AttributeValue // images after; nil: deleted
}

// nextVer gives every write a unique, increasing version, so each record
// names the write that made it.
var nextVer atomic.Int64

type writer struct {
	id   int
	db   *dynamodb.Client
	keys []*item
	rng  *rand.Rand

	acked, unknownApplied, unknownLost int
	byKind                             map[string]int
}

func TestPollerExactlyOnce(t *testing.T) {
	began := time.Now()
	srv := sluicetest.Start(t, sluicetest.Options{ExtraArgs: []string{"--stream-shard-rollover", "1s", "--shard-bits", "1"}})
	ctx := sluicetest.Context(t)
	desc := createTable(ctx, t, srv.DynamoDB(), feedTable, dbtypes.StreamViewTypeNewAndOldImages, false)
	arn := aws.ToString(desc.LatestStreamArn)

	p := newPoller(streamsClient(srv.URL, 2), arn)
	pctx, stopPoller := context.WithCancel(ctx)
	defer stopPoller()
	pollerDone := make(chan struct{})
	go func() { p.run(pctx); close(pollerDone) }()

	db := srv.DynamoDB()
	noop := map[string]dbtypes.AttributeValue{
		"pk":  &dbtypes.AttributeValueMemberS{Value: noopKey},
		"ver": &dbtypes.AttributeValueMemberN{Value: "0"},
		"p":   &dbtypes.AttributeValueMemberS{Value: "same"},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(feedTable), Item: noop}); err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	ws := make([]*writer, feedWriters)
	for i := range ws {
		w := &writer{id: i, db: db, rng: rand.New(rand.NewPCG(seed, uint64(i))), byKind: map[string]int{}}
		for j := range keysPerWriter {
			w.keys = append(w.keys, &item{pk: fmt.Sprintf("w%d-k%02d", i, j)})
		}
		ws[i] = w
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { w.run(ctx, t, stop) })
	}
	// The no-op writer repeats writes that change nothing: DynamoDB writes
	// no stream record for them. Their errors do not matter: a no-op is a
	// no-op whether it was applied or not.
	var noops atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(feedTable), Item: noop}); err == nil {
				noops.Add(1)
			}
			if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(feedTable),
				Key:                       map[string]dbtypes.AttributeValue{"pk": noop["pk"]},
				UpdateExpression:          aws.String("SET p = :p"),
				ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":p": noop["p"]},
			}); err == nil {
				noops.Add(1)
			}
		}
	})

	start := time.Now()
	for i, at := range kills {
		time.Sleep(time.Until(start.Add(at)))
		srv.Kill()
		time.Sleep(down)
		srv.Restart(t)
		if i == 0 {
			// Between the kills, split both table shards: each stream
			// shard in flight gets two children.
			time.Sleep(time.Until(start.Add(splitAt)))
			status, _, body := sluicetest.RawRequest(t, srv.URL, "Sluice_20261121.SplitShard", `{"TableName":"`+feedTable+`"}`, nil)
			if status != 200 {
				t.Errorf("SplitShard: %d %s", status, body)
			}
		}
	}
	time.Sleep(time.Until(start.Add(feedRun)))
	close(stop)
	wg.Wait()
	wrote := time.Since(start)

	want := 1 // the no-op key's INSERT
	var acked, unknownApplied, unknownLost int
	kinds := map[string]int{}
	items := map[string]*item{}
	for _, w := range ws {
		acked += w.acked
		unknownApplied += w.unknownApplied
		unknownLost += w.unknownLost
		for k, n := range w.byKind {
			kinds[k] += n
		}
		for _, it := range w.keys {
			want += len(it.changes)
			items[it.pk] = it
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for !p.caughtUp(want, 500*time.Millisecond) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stopPoller()
	<-pollerDone
	recs, shards, finished, errs, rounds, resumes := p.snapshot()
	caughtUp := time.Since(start) - wrote

	verifyRecords(t, recs, items)
	verifyShards(t, recs, shards)
	roots, leaves, depths, splits := lineageTree(t, shards)
	if roots != 2 || leaves != 4 || splits != 2 {
		t.Errorf("%d lineages, %d open shards, %d splits; want 2 (--shard-bits 1), 4 and 2 (both shards split once)", roots, leaves, splits)
	}
	for i, d := range depths {
		if d < 3 {
			t.Errorf("lineage %d is %d deep: no rollover in %s with --stream-shard-rollover 1s", i, d, wrote)
		}
	}
	for _, sh := range shards {
		if sh.SequenceNumberRange.EndingSequenceNumber != nil && !finished[*sh.ShardId] {
			t.Errorf("closed shard %s was never read to its end", *sh.ShardId)
		}
	}
	var apiErrs []string
	for _, err := range errs {
		// Connection errors are expected while the server is down; an API
		// error means the server refused a request a correct poller made.
		if code := apiCode(err); code != "" {
			apiErrs = append(apiErrs, err.Error())
		}
	}
	if len(apiErrs) > 0 {
		t.Errorf("the poller got %d API errors, want none; first: %s", len(apiErrs), apiErrs[0])
	}
	if len(errs) == 0 || resumes == 0 {
		t.Errorf("the poller failed %d calls and resumed from a checkpoint %d times: the kills did not test resuming", len(errs), resumes)
	}
	t.Logf("%d writers on %d keys for %s (%v), %d kills: %d writes acknowledged, %d unknown and applied, %d unknown and not applied, %d no-op writes",
		feedWriters, feedWriters*keysPerWriter, wrote.Round(time.Millisecond), kinds, len(kills), acked, unknownApplied, unknownLost, noops.Load())
	t.Logf("poller: %d records (want %d) from %d shards in lineages of depth %v (%d splits), %d rounds, %d errors (%d API errors), %d resumes AFTER_SEQUENCE_NUMBER, caught up %s after the writers stopped; test took %s",
		len(recs), want, len(shards), depths, splits, rounds, len(errs), len(apiErrs), resumes, caughtUp.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// run sends writes until stop. A write that fails on the wire has an
// unknown outcome: the writer waits for the server to answer again and
// reads the item to learn whether it was applied, so that every item's
// history stays known.
func (w *writer) run(ctx context.Context, t *testing.T, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		wr := w.next()
		err := w.send(ctx, t, wr)
		if err == nil {
			w.acked++
			w.byKind[wr.kind]++
			w.apply(wr, false)
			time.Sleep(2 * time.Millisecond) // leave the two cores some air
			continue
		}
		if ctx.Err() != nil {
			return
		}
		applied, ok := w.resolve(ctx, t, wr)
		if !ok {
			return
		}
		if applied {
			w.unknownApplied++
			w.apply(wr, true)
		} else {
			w.unknownLost++
		}
	}
}

// next picks a random write on the writer's keys.
func (w *writer) next() *write {
	a := w.keys[w.rng.IntN(len(w.keys))]
	wr := &write{a: a, ver: nextVer.Add(1)}
	switch r := w.rng.IntN(20); {
	case r < 7:
		wr.kind, wr.aNew = "put", w.putImage(a, wr.ver)
	case r < 13:
		wr.kind, wr.aNew = "update", updateImage(a, wr.ver)
	case r < 17 && a.image != nil:
		wr.kind = "delete"
	case r >= 17:
		b := w.keys[(slices.Index(w.keys, a)+1+w.rng.IntN(len(w.keys)-1))%len(w.keys)]
		wr.kind, wr.b, wr.aNew = "tx", b, w.putImage(a, wr.ver)
		if b.image == nil || w.rng.IntN(3) > 0 {
			wr.verB = nextVer.Add(1)
			wr.bNew = updateImage(b, wr.verB)
		}
	default:
		wr.kind, wr.aNew = "put", w.putImage(a, wr.ver)
	}
	return wr
}

// putImage is a new item with attributes of most types.
func (w *writer) putImage(it *item, ver int64) map[string]dbtypes.AttributeValue {
	tags := []string{"red", "green", "blue", "cyan"}[:1+w.rng.IntN(4)]
	return map[string]dbtypes.AttributeValue{
		"pk":   &dbtypes.AttributeValueMemberS{Value: it.pk},
		"ver":  &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(ver, 10)},
		"w":    &dbtypes.AttributeValueMemberN{Value: strconv.Itoa(w.id)},
		"p":    &dbtypes.AttributeValueMemberS{Value: strings.Repeat("x", w.rng.IntN(64)) + strconv.FormatUint(w.rng.Uint64(), 36)},
		"tags": &dbtypes.AttributeValueMemberSS{Value: tags},
		"m": &dbtypes.AttributeValueMemberM{Value: map[string]dbtypes.AttributeValue{
			"l": &dbtypes.AttributeValueMemberL{Value: []dbtypes.AttributeValue{
				&dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(ver, 10)},
				&dbtypes.AttributeValueMemberBOOL{Value: ver%2 == 0},
				&dbtypes.AttributeValueMemberNULL{Value: true},
			}},
		}},
	}
}

// updateExpr is every update's expression: it sets the version and counts
// the updates since the last put.
const updateExpr = "SET #v = :v, #n = if_not_exists(#n, :zero) + :one"

func updateNames() map[string]string { return map[string]string{"#v": "ver", "#n": "n"} }

func updateValues(ver int64) map[string]dbtypes.AttributeValue {
	return map[string]dbtypes.AttributeValue{
		":v":    &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(ver, 10)},
		":zero": &dbtypes.AttributeValueMemberN{Value: "0"},
		":one":  &dbtypes.AttributeValueMemberN{Value: "1"},
	}
}

// updateImage is the item updateExpr makes of it.
func updateImage(it *item, ver int64) map[string]dbtypes.AttributeValue {
	out := map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: it.pk}}
	for k, v := range it.image {
		out[k] = v // attribute values are never changed in place
	}
	n := int64(0)
	if v, ok := it.image["n"].(*dbtypes.AttributeValueMemberN); ok {
		n, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	out["ver"] = &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(ver, 10)}
	out["n"] = &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n+1, 10)}
	return out
}

func keyOf(it *item) map[string]dbtypes.AttributeValue {
	return map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: it.pk}}
}

// send makes the write's request.
func (w *writer) send(ctx context.Context, t *testing.T, wr *write) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tbl := aws.String(feedTable)
	switch wr.kind {
	case "put":
		_, err := w.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: wr.aNew})
		return err
	case "update":
		out, err := w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: tbl, Key: keyOf(wr.a), UpdateExpression: aws.String(updateExpr),
			ExpressionAttributeNames: updateNames(), ExpressionAttributeValues: updateValues(wr.ver),
			ReturnValues: dbtypes.ReturnValueAllNew,
		})
		if err == nil && canonDB(out.Attributes) != canonDB(wr.aNew) {
			t.Errorf("UpdateItem %s version %d returned %s, want %s", wr.a.pk, wr.ver, canonDB(out.Attributes), canonDB(wr.aNew))
		}
		return err
	case "delete":
		_, err := w.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: keyOf(wr.a)})
		return err
	}
	items := []dbtypes.TransactWriteItem{{Put: &dbtypes.Put{TableName: tbl, Item: wr.aNew}}}
	if wr.bNew != nil {
		items = append(items, dbtypes.TransactWriteItem{Update: &dbtypes.Update{
			TableName: tbl, Key: keyOf(wr.b), UpdateExpression: aws.String(updateExpr),
			ExpressionAttributeNames: updateNames(), ExpressionAttributeValues: updateValues(wr.verB),
		}})
	} else {
		items = append(items, dbtypes.TransactWriteItem{Delete: &dbtypes.Delete{TableName: tbl, Key: keyOf(wr.b)}})
	}
	_, err := w.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// get reads an item, retrying until the server answers (it may be
// restarting).
func (w *writer) get(ctx context.Context, it *item) (map[string]dbtypes.AttributeValue, error) {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		var out *dynamodb.GetItemOutput
		out, err = w.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(feedTable), Key: keyOf(it), ConsistentRead: aws.Bool(true)})
		if err == nil {
			return out.Item, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, err
}

// resolve learns from the store whether a write whose request failed was
// applied, and checks that it was applied whole or not at all.
func (w *writer) resolve(ctx context.Context, t *testing.T, wr *write) (applied, ok bool) {
	a, err := w.get(ctx, wr.a)
	if err != nil {
		t.Errorf("writer %d: reading %s after a failed %s: %v", w.id, wr.a.pk, wr.kind, err)
		return false, false
	}
	switch wr.kind {
	case "delete":
		applied = a == nil
	default:
		v, _ := a["ver"].(*dbtypes.AttributeValueMemberN)
		applied = v != nil && v.Value == strconv.FormatInt(wr.ver, 10)
	}
	wantA := wr.a.image
	if applied {
		wantA = wr.aNew
	}
	if canonDB(a) != canonDB(wantA) {
		t.Errorf("writer %d: %s after a failed %s (version %d, applied %v) is %s, want %s", w.id, wr.a.pk, wr.kind, wr.ver, applied, canonDB(a), canonDB(wantA))
	}
	if wr.kind == "tx" {
		b, err := w.get(ctx, wr.b)
		if err != nil {
			t.Errorf("writer %d: reading %s after a failed transaction: %v", w.id, wr.b.pk, err)
			return false, false
		}
		wantB := wr.b.image
		if applied {
			wantB = wr.bNew
		}
		if canonDB(b) != canonDB(wantB) {
			t.Errorf("writer %d: transaction (version %d) applied to %s is %v, but %s is %s, want %s: not atomic",
				w.id, wr.ver, wr.a.pk, applied, wr.b.pk, canonDB(b), canonDB(wantB))
		}
	}
	return applied, true
}

// apply adds a write's changes to its items' histories.
func (w *writer) apply(wr *write, unknown bool) {
	wr.a.apply(wr.aNew, wr.ver, unknown)
	if wr.kind == "tx" {
		wr.b.apply(wr.bNew, max(wr.ver, wr.verB), unknown)
	}
}

func (it *item) apply(img map[string]dbtypes.AttributeValue, ver int64, unknown bool) {
	c := change{old: canonDB(it.image), new: canonDB(img), ver: ver, unknown: unknown}
	switch {
	case it.image == nil && img == nil:
		return // deleting nothing changes nothing
	case it.image == nil:
		c.event = "INSERT"
	case img == nil:
		c.event = "REMOVE"
	default:
		c.event = "MODIFY"
	}
	it.changes = append(it.changes, c)
	it.image = img
}

// verifyRecords checks the records the poller delivered against the items'
// histories: each applied change exactly once, in order, with its images.
func verifyRecords(t *testing.T, recs []polled, items map[string]*item) {
	t.Helper()
	byKey := map[string][]sttypes.Record{}
	for _, r := range recs {
		pk := streamS(r.rec.Dynamodb.Keys, "pk")
		byKey[pk] = append(byKey[pk], r.rec)
	}
	if got := byKey[noopKey]; len(got) != 1 || got[0].EventName != sttypes.OperationTypeInsert {
		t.Errorf("%s: %d records, want its INSERT only: writes that change nothing make no record", noopKey, len(got))
		for i, r := range got {
			t.Logf("  %s record %d: %s old %s new %s", noopKey, i, r.EventName, canonStream(r.Dynamodb.OldImage), canonStream(r.Dynamodb.NewImage))
		}
	}
	delete(byKey, noopKey)
	for pk := range byKey {
		if items[pk] == nil {
			t.Errorf("%d records of a key no one wrote: %q", len(byKey[pk]), pk)
		}
	}
	seen := map[string]int{} // record identity -> times delivered
	bad := 0
	for pk, it := range items {
		got := byKey[pk]
		for i, r := range got {
			id := recordID(r)
			if seen[id]++; seen[id] == 2 {
				t.Errorf("%s: record %s delivered more than once", pk, id)
			}
			if i > 0 {
				// Whatever the model says, an item's records chain: each old
				// image is the previous new one, and versions increase.
				prev := got[i-1].Dynamodb
				if o, n := canonStream(r.Dynamodb.OldImage), canonStream(prev.NewImage); o != n {
					t.Errorf("%s record %d (%s): OldImage %s is not the previous NewImage %s", pk, i, r.EventName, o, n)
				}
				if v, pv := verOf(r.Dynamodb.NewImage), verOf(prev.NewImage); v >= 0 && pv >= 0 && v <= pv {
					t.Errorf("%s record %d: version %d after %d", pk, i, v, pv)
				}
			}
		}
		if d := diffChanges(got, it.changes); d != "" {
			bad++
			if bad <= 5 {
				t.Errorf("%s: %s", pk, d)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d keys in all whose records do not match their writes", bad)
	}
}

// recordID names the write a record comes from: the version of the new
// image, or for a REMOVE the version it removed.
func recordID(r sttypes.Record) string {
	if r.Dynamodb.NewImage != nil {
		return fmt.Sprintf("%s/%d", streamS(r.Dynamodb.Keys, "pk"), verOf(r.Dynamodb.NewImage))
	}
	return fmt.Sprintf("%s/removed-%d", streamS(r.Dynamodb.Keys, "pk"), verOf(r.Dynamodb.OldImage))
}

func verOf(img map[string]sttypes.AttributeValue) int64 {
	v, err := strconv.ParseInt(streamN(img, "ver"), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// diffChanges describes the first difference between an item's records and
// its applied changes, or returns "".
func diffChanges(got []sttypes.Record, want []change) string {
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			w := want[i]
			return fmt.Sprintf("%d records, %d applied changes: missing change %d (%s of version %d, unknown outcome %v)", len(got), len(want), i, w.event, w.ver, w.unknown)
		case i >= len(want):
			return fmt.Sprintf("%d records, %d applied changes: extra record %d %s", len(got), len(want), i, recordID(got[i]))
		}
		r, w := got[i], want[i]
		o, n := canonStream(r.Dynamodb.OldImage), canonStream(r.Dynamodb.NewImage)
		if string(r.EventName) != w.event || o != w.old || n != w.new {
			return fmt.Sprintf("record %d of %d is %s %s, want %s of version %d (unknown outcome %v)\n  old %s\n  want %s\n  new %s\n  want %s",
				i, len(got), r.EventName, recordID(r), w.event, w.ver, w.unknown, o, w.old, n, w.new)
		}
	}
	return ""
}

// verifyShards checks each shard's records: 21-digit sequence numbers,
// increasing, within the shard's range.
func verifyShards(t *testing.T, recs []polled, shards []sttypes.Shard) {
	t.Helper()
	ranges := map[string]*sttypes.SequenceNumberRange{}
	for _, sh := range shards {
		ranges[*sh.ShardId] = sh.SequenceNumberRange
	}
	last := map[string]string{}
	for _, r := range recs {
		seq := aws.ToString(r.rec.Dynamodb.SequenceNumber)
		if len(seq) != 21 || strings.Trim(seq, "0123456789") != "" {
			t.Errorf("shard %s: sequence number %q is not 21 digits", r.shard, seq)
			continue
		}
		if prev, ok := last[r.shard]; ok && seq <= prev {
			t.Errorf("shard %s: sequence number %s after %s", r.shard, seq, prev)
		}
		last[r.shard] = seq
		rg := ranges[r.shard]
		if rg == nil {
			t.Errorf("shard %s: not listed at the end", r.shard)
			continue
		}
		if seq < aws.ToString(rg.StartingSequenceNumber) || (rg.EndingSequenceNumber != nil && seq > *rg.EndingSequenceNumber) {
			t.Errorf("shard %s: sequence number %s outside its range %s..%s", r.shard, seq, aws.ToString(rg.StartingSequenceNumber), aws.ToString(rg.EndingSequenceNumber))
		}
	}
}

// lineageTree checks a stream's shards as a forest: every parent is listed
// and closed, has one child (a rollover) or two (a split), and each child
// starts right after its parent ends and sorts after it; exactly the leaves
// are open. It returns the number of roots and leaves, each root's depth,
// and the number of splits.
func lineageTree(t *testing.T, shards []sttypes.Shard) (roots, leaves int, depths []int, splits int) {
	t.Helper()
	byID := map[string]sttypes.Shard{}
	children := map[string][]string{}
	for _, sh := range shards {
		byID[*sh.ShardId] = sh
	}
	var rootIDs []string
	for _, sh := range shards {
		if sh.ParentShardId == nil {
			rootIDs = append(rootIDs, *sh.ShardId)
			continue
		}
		parent, ok := byID[*sh.ParentShardId]
		if !ok {
			t.Errorf("shard %s names parent %s, which is not listed", *sh.ShardId, *sh.ParentShardId)
			continue
		}
		if *parent.ShardId >= *sh.ShardId {
			t.Errorf("shard %s sorts before its parent %s", *sh.ShardId, *parent.ShardId)
		}
		children[*parent.ShardId] = append(children[*parent.ShardId], *sh.ShardId)
		end, err := strconv.ParseUint(aws.ToString(parent.SequenceNumberRange.EndingSequenceNumber), 10, 64)
		start, err2 := strconv.ParseUint(aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), 10, 64)
		if err != nil || err2 != nil || start != end+1 {
			t.Errorf("shard %s starts at %s, its parent %s ends at %s: want the next number",
				*sh.ShardId, aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), *parent.ShardId, aws.ToString(parent.SequenceNumberRange.EndingSequenceNumber))
		}
	}
	for _, sh := range shards {
		n := len(children[*sh.ShardId])
		closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
		switch {
		case n == 0:
			leaves++
			if closed {
				t.Errorf("shard %s is closed but has no child", *sh.ShardId)
			}
		case n > 2:
			t.Errorf("shard %s has %d children", *sh.ShardId, n)
		case !closed:
			t.Errorf("shard %s is open but has children", *sh.ShardId)
		}
		if n == 2 {
			splits++
		}
	}
	var depth func(id string) int
	depth = func(id string) int {
		d := 0
		for _, c := range children[id] {
			d = max(d, depth(c))
		}
		return d + 1
	}
	for _, r := range rootIDs {
		depths = append(depths, depth(r))
	}
	return len(rootIDs), leaves, depths, splits
}

// lineages groups a stream's shards into chains, root first, and checks
// that they are chains: every parent is listed, closed, and has one child
// (these tests split no shard), which starts right after it ends. When open, each chain ends in its one
// open shard; otherwise every shard is closed.
func lineages(t *testing.T, shards []sttypes.Shard, open bool) [][]sttypes.Shard {
	t.Helper()
	byID := map[string]sttypes.Shard{}
	child := map[string]sttypes.Shard{}
	var roots []sttypes.Shard
	for _, sh := range shards {
		byID[*sh.ShardId] = sh
	}
	for _, sh := range shards {
		if sh.ParentShardId == nil {
			roots = append(roots, sh)
			continue
		}
		parent, ok := byID[*sh.ParentShardId]
		if !ok {
			t.Errorf("shard %s names parent %s, which is not listed", *sh.ShardId, *sh.ParentShardId)
			roots = append(roots, sh)
			continue
		}
		if *parent.ShardId >= *sh.ShardId {
			t.Errorf("shard %s sorts before its parent %s", *sh.ShardId, *parent.ShardId)
		}
		if c, ok := child[*parent.ShardId]; ok {
			t.Errorf("shard %s has two children, %s and %s", *parent.ShardId, *c.ShardId, *sh.ShardId)
		}
		child[*parent.ShardId] = sh
		end, err := strconv.ParseUint(aws.ToString(parent.SequenceNumberRange.EndingSequenceNumber), 10, 64)
		start, err2 := strconv.ParseUint(aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), 10, 64)
		if err != nil || err2 != nil || start != end+1 {
			t.Errorf("shard %s starts at %s, its parent %s ends at %s: want the next number",
				*sh.ShardId, aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), *parent.ShardId, aws.ToString(parent.SequenceNumberRange.EndingSequenceNumber))
		}
	}
	var out [][]sttypes.Shard
	for _, r := range roots {
		chain := []sttypes.Shard{r}
		for {
			c, ok := child[*chain[len(chain)-1].ShardId]
			if !ok || len(chain) > len(shards) {
				break
			}
			chain = append(chain, c)
		}
		for i, sh := range chain {
			closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
			if wantClosed := !open || i < len(chain)-1; closed != wantClosed {
				t.Errorf("shard %s (%d of %d in its lineage): closed %v, want %v", *sh.ShardId, i+1, len(chain), closed, wantClosed)
			}
		}
		out = append(out, chain)
	}
	return out
}
