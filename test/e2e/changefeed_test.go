package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// streamRecord is the DynamoDB Streams record carried as a record's data.
type streamRecord struct {
	EventID   string `json:"eventID"`
	EventName string `json:"eventName"`
	Dynamodb  struct {
		Keys           map[string]any `json:"Keys"`
		NewImage       map[string]any `json:"NewImage"`
		OldImage       map[string]any `json:"OldImage"`
		SequenceNumber string         `json:"SequenceNumber"`
		SizeBytes      *int64         `json:"SizeBytes"`
	} `json:"dynamodb"`
}

var (
	seqRE   = regexp.MustCompile(`^\d{21}$`)
	shardRE = regexp.MustCompile(`^sluice\.t\.\d+\.\d+$`)
)

func decodeRecord(t *testing.T, r sluicetest.Record) streamRecord {
	t.Helper()
	var sr streamRecord
	if err := json.Unmarshal(r.Data, &sr); err != nil {
		t.Fatalf("record %d: data is not JSON: %v\n%s", r.StreamSeq, err, r.Data)
	}
	return sr
}

// checkSequences checks that, per subject, ce-sequence runs 1, 2, 3... in
// stream order.
func checkSequences(t *testing.T, recs []sluicetest.Record) {
	t.Helper()
	next := map[string]uint64{}
	for _, r := range recs {
		seq, err := strconv.ParseUint(r.Header.Get("ce-sequence"), 10, 64)
		if err != nil {
			t.Errorf("record %d: ce-sequence %q", r.StreamSeq, r.Header.Get("ce-sequence"))
			continue
		}
		if want := next[r.Subject] + 1; seq != want {
			t.Errorf("record %d on %s: sequence %d, want %d (gap or repeat)", r.StreamSeq, r.Subject, seq, want)
		}
		next[r.Subject] = seq
	}
}

// sortSets sorts the members of SS, NS and BS values in a decoded DynamoDB
// JSON image, recursively, so that images compare regardless of set order.
func sortSets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if arr, ok := e.([]any); ok && (k == "SS" || k == "NS" || k == "BS") {
				slices.SortFunc(arr, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
				continue
			}
			x[k] = sortSets(e)
		}
	case []any:
		for i := range x {
			x[i] = sortSets(x[i])
		}
	}
	return v
}

func TestChangeFeed(t *testing.T) {
	e := start(t)
	e.createHash(t, "feed")
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("feedstream"), KeySchema: keySchema("pk"), AttributeDefinitions: attrDefs("pk", "S"),
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
	}))(t)
	t0 := time.Now().Add(-time.Second)

	type change struct {
		name     string
		key      string
		newImage map[string]any
		oldImage map[string]any
	}
	var want []change
	S := func(s string) map[string]any { return map[string]any{"S": s} }
	N := func(s string) map[string]any { return map[string]any{"N": s} }

	e.put(t, "feed", item{"pk": sv("a"), "v": nv("1.0")})
	want = append(want, change{"INSERT", "a", map[string]any{"pk": S("a"), "v": N("1")}, nil})
	e.put(t, "feed", item{"pk": sv("a"), "v": nv("2")})
	want = append(want, change{"MODIFY", "a", map[string]any{"pk": S("a"), "v": N("2")}, map[string]any{"pk": S("a"), "v": N("1")}})
	e.put(t, "feed", item{"pk": sv("a"), "v": nv("2.00")}) // no change: no record
	e.put(t, "feed", item{"pk": sv("b"), "ss": ssv("x", "y")})
	want = append(want, change{"INSERT", "b", map[string]any{"pk": S("b"), "ss": map[string]any{"SS": []any{"x", "y"}}}, nil})
	e.put(t, "feed", item{"pk": sv("b"), "ss": ssv("y", "x")}) // same set, other order: no change
	e.del(t, "feed", item{"pk": sv("a")})
	want = append(want, change{"REMOVE", "a", nil, map[string]any{"pk": S("a"), "v": N("2")}})
	e.del(t, "feed", item{"pk": sv("a")}) // nothing to delete: no record
	e.del(t, "feed", item{"pk": sv("never")})
	e.put(t, "feed", item{"pk": sv("a"), "new": boolv(true)})
	want = append(want, change{"INSERT", "a", map[string]any{"pk": S("a"), "new": map[string]any{"BOOL": true}}, nil})
	e.del(t, "feed", item{"pk": sv("b")})
	want = append(want, change{"REMOVE", "b", nil, map[string]any{"pk": S("b"), "ss": map[string]any{"SS": []any{"x", "y"}}}})
	// Rejected writes add nothing.
	_, err := e.db.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String("feed"), Item: item{"pk": sv("c"), "bad": ssv()}})
	wantErr(t, err, "ValidationException", "", suite)

	e.srv.WaitRecords(t, "feed", len(want), 10*time.Second)
	time.Sleep(300 * time.Millisecond) // let any extra (wrong) record arrive
	recs := e.srv.Records(t, "feed")
	if len(recs) != len(want) {
		for _, r := range recs {
			t.Logf("record %d %s %s", r.StreamSeq, r.Subject, r.Data)
		}
		t.Fatalf("got %d records, want %d (one per change, none for no-op puts and deletes)", len(recs), len(want))
	}
	tableArn := arnPrefix + "feed"

	// Records of one key keep their order; keys may be on different shards,
	// so compare per key.
	byKey := map[string][]sluicetest.Record{}
	for _, r := range recs {
		sr := decodeRecord(t, r)
		k, _ := sr.Dynamodb.Keys["pk"].(map[string]any)
		byKey[k["S"].(string)] = append(byKey[k["S"].(string)], r)
	}
	wantByKey := map[string][]change{}
	for _, c := range want {
		wantByKey[c.key] = append(wantByKey[c.key], c)
	}
	for key, cs := range wantByKey {
		rs := byKey[key]
		if len(rs) != len(cs) {
			t.Errorf("key %s: %d records, want %d", key, len(rs), len(cs))
			continue
		}
		for i, c := range cs {
			r := rs[i]
			sr := decodeRecord(t, r)
			h := r.Header
			if !shardRE.MatchString(r.Subject) {
				t.Errorf("subject %q, want sluice.t.<table id>.<shard>", r.Subject)
			}
			if sr.EventName != c.name {
				t.Errorf("key %s change %d: eventName %s, want %s", key, i, sr.EventName, c.name)
			}
			sortSets(sr.Dynamodb.NewImage)
			sortSets(sr.Dynamodb.OldImage)
			if !reflect.DeepEqual(sr.Dynamodb.NewImage, c.newImage) {
				t.Errorf("key %s change %d: NewImage %v, want %v", key, i, sr.Dynamodb.NewImage, c.newImage)
			}
			if !reflect.DeepEqual(sr.Dynamodb.OldImage, c.oldImage) {
				t.Errorf("key %s change %d: OldImage %v, want %v", key, i, sr.Dynamodb.OldImage, c.oldImage)
			}
			if !reflect.DeepEqual(sr.Dynamodb.Keys, map[string]any{"pk": S(key)}) {
				t.Errorf("key %s: Keys %v", key, sr.Dynamodb.Keys)
			}
			if sr.Dynamodb.SizeBytes == nil || *sr.Dynamodb.SizeBytes <= 0 {
				t.Errorf("key %s change %d: SizeBytes %v", key, i, sr.Dynamodb.SizeBytes)
			}
			for name, want := range map[string]string{
				"ce-specversion":  "1.0",
				"ce-type":         "io.sluicedb.change." + c.name,
				"ce-source":       tableArn,
				"ce-partitionkey": key,
				"ce-accesskeyid":  "AKIDTEST",
				"ce-id":           sr.EventID,
				"ce-sequence":     sr.Dynamodb.SequenceNumber,
			} {
				if got := h.Get(name); got != want {
					t.Errorf("key %s change %d: %s = %q, want %q", key, i, name, got, want)
				}
			}
			if sr.EventID == "" {
				t.Errorf("key %s change %d: no eventID", key, i)
			}
			if !seqRE.MatchString(h.Get("ce-sequence")) {
				t.Errorf("ce-sequence %q is not 21 zero-padded digits", h.Get("ce-sequence"))
			}
			var subj map[string]any
			if err := json.Unmarshal([]byte(h.Get("ce-subject")), &subj); err != nil || !reflect.DeepEqual(subj, sr.Dynamodb.Keys) {
				t.Errorf("ce-subject %q, want the item's key %v", h.Get("ce-subject"), sr.Dynamodb.Keys)
			}
			ts, err := time.Parse(time.RFC3339Nano, h.Get("ce-time"))
			if err != nil || ts.Before(t0) || ts.After(time.Now().Add(time.Second)) {
				t.Errorf("ce-time %q (%v), want a time of this test", h.Get("ce-time"), err)
			}
			if h.Get("ce-requestid") == "" {
				t.Errorf("ce-requestid missing (audit needs who made the change)")
			}
		}
	}
	checkSequences(t, recs)

	// A table with a stream names its stream ARN as the source.
	e.put(t, "feedstream", item{"pk": sv("z")})
	srecs := e.srv.WaitRecords(t, "feedstream", 1, 10*time.Second)
	d := e.describe(t, "feedstream")
	if got := srecs[0].Header.Get("ce-source"); got != aws.ToString(d.LatestStreamArn) {
		t.Errorf("ce-source %q, want the stream ARN %q", got, aws.ToString(d.LatestStreamArn))
	}
	// Records always carry both images whatever the StreamViewType.
	if sr := decodeRecord(t, srecs[0]); sr.Dynamodb.NewImage == nil {
		t.Errorf("KEYS_ONLY table: record has no NewImage; records must always carry both images")
	}
}
