package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
	"github.com/sluicedb/sluice/test/sluicetest"
)

// destinations are the endpoints the sink is tested against.
var destinations = []struct {
	name  string
	start func(testing.TB) string
}{
	{"DynamoDBLocal", startDynamoDBLocal},
	{"Sluice", startSluice},
}

// TestDestinations runs the conformance suite and the sink's own semantics
// against each destination, started once.
func TestDestinations(t *testing.T) {
	for _, d := range destinations {
		t.Run(d.name, func(t *testing.T) {
			url := d.start(t)
			t.Run("Conformance", func(t *testing.T) {
				sinktest.Run(t, func(t *testing.T) sinktest.Env { return newEnv(t, url) })
			})
			t.Run("LastWriterWins", func(t *testing.T) { testLastWriterWins(t, url) })
			t.Run("Redelivery", func(t *testing.T) { testRedelivery(t, url) })
			t.Run("Values", func(t *testing.T) { testValues(t, url) })
		})
	}
}

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// change makes a record of item pk: a put of {"pk", "n": n} (n >= 0) or a
// REMOVE (n < 0), committed at t0+ms.
func change(pk string, n int, ms int, sh shards.ID, seq shards.Seq) sinks.Record {
	r := sinks.Record{Table: sinktest.Table}
	r.Shard, r.Seq = sh, seq
	r.Time = t0.Add(time.Duration(ms) * time.Millisecond)
	r.Keys = []byte(fmt.Sprintf(`{"pk":{"S":%q}}`, pk))
	r.Name = event.Modify
	if n < 0 {
		r.Name = event.Remove
	} else {
		r.New = []byte(fmt.Sprintf(`{"n":{"N":"%d"},"pk":{"S":%q}}`, n, pk))
	}
	return r
}

func open(t *testing.T, e *env) sinks.Sink {
	t.Helper()
	s := e.Open()
	if err := s.Connect(context.Background()); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func write(t *testing.T, s sinks.Sink, recs ...sinks.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// items returns the destination's items as pk -> canonical image without
// RepAttribute.
func items(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, it := range scan(t, e.direct, e.table) {
		delete(it, RepAttribute)
		out[it["pk"].S] = canonical(t, it)
	}
	return out
}

func image(pk string, n int) string { return fmt.Sprintf(`{"n":{"N":"%d"},"pk":{"S":%q}}`, n, pk) }

func testLastWriterWins(t *testing.T, url string) {
	e := newEnv(t, url)
	s := open(t, e)
	steps := []struct {
		name string
		rec  sinks.Record
		want map[string]string
	}{
		{"put", change("a", 2, 20, 1, 2), map[string]string{"a": image("a", 2)}},
		{"an older put loses", change("a", 1, 10, 1, 1), map[string]string{"a": image("a", 2)}},
		{"an older delete loses", change("a", -1, 15, 1, 1), map[string]string{"a": image("a", 2)}},
		{"same time, lower seq loses", change("a", 3, 20, 1, 1), map[string]string{"a": image("a", 2)}},
		{"same time, higher seq wins", change("a", 4, 20, 1, 3), map[string]string{"a": image("a", 4)}},
		{"same time and seq, higher shard wins", change("a", 5, 20, 2, 3), map[string]string{"a": image("a", 5)}},
		{"a newer delete wins", change("a", -1, 30, 1, 9), map[string]string{}},
		// No tombstone: a put older than the applied delete comes back
		// (the documented caveat; in-order delivery then deletes it
		// again).
		{"a put older than a delete creates again", change("a", 6, 25, 1, 8), map[string]string{"a": image("a", 6)}},
		{"another item", change("b", 1, 1, 0, 1), map[string]string{"a": image("a", 6), "b": image("b", 1)}},
	}
	for _, st := range steps {
		write(t, s, st.rec)
		if got := items(t, e); !maps.Equal(got, st.want) {
			t.Fatalf("after %s: items %v, want %v", st.name, got, st.want)
		}
	}

	// An item no replication wrote is overwritten by any change.
	if _, err := e.direct.PutItem(context.Background(), &ddb.PutItemInput{TableName: aws.String(e.table),
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "c"}}}); err != nil {
		t.Fatal(err)
	}
	write(t, s, change("c", 1, 0, 0, 1))
	if got := items(t, e)["c"]; got != image("c", 1) {
		t.Errorf("item written outside replication: %s after a change, want %s", got, image("c", 1))
	}

	// The records of one item in one batch apply in order.
	write(t, s, change("d", 1, 1, 3, 1), change("d", -1, 2, 3, 2), change("d", 3, 3, 3, 3), change("d", 4, 4, 3, 4))
	if got := items(t, e)["d"]; got != image("d", 4) {
		t.Errorf("item d: %s, want %s", got, image("d", 4))
	}
}

func testRedelivery(t *testing.T, url string) {
	e := newEnv(t, url)
	s := open(t, e)
	recs := sinktest.Records(60, t0)
	write(t, s, recs...)
	before := scan(t, e.direct, e.table)
	write(t, s, recs...)
	after := scan(t, e.direct, e.table)
	if !maps.EqualFunc(before, after, attr.ItemsEqual) {
		t.Errorf("the same batch twice changed the destination:\nbefore %v\nafter  %v", before, after)
	}
	// The reserved attribute names the last change of each item.
	last := map[string]sinks.Record{}
	for _, r := range recs {
		last[string(r.Keys)] = r
	}
	for k, it := range after {
		r := last[k]
		if want := RepValue(r.Time, r.Shard, r.Seq); it[RepAttribute].S != want {
			t.Errorf("item %s: %s = %q, want %q", k, RepAttribute, it[RepAttribute].S, want)
		}
	}
}

// testValues puts an item of every type through the destination and back.
func testValues(t *testing.T, url string) {
	e := newEnv(t, url)
	s := open(t, e)
	img := `{"b":{"B":"AAEC/w=="},"bool":{"BOOL":false},"bs":{"BS":["AQ==","Ag=="]},` +
		`"l":{"L":[{"N":"-1.5"},{"S":""},{"NULL":true},{"L":[]},{"M":{}}]},` +
		`"m":{"M":{"deep":{"M":{"x":{"SS":["a","b"]}}},"n":{"N":"1e3"}}},` +
		`"n":{"N":"12345678901234567890123456789012345678"},"ns":{"NS":["1","0.5"]},"pk":{"S":"v"},` +
		`"s":{"S":"héllo \"quoted\" \u0001"},"ss":{"SS":["x","y"]}}`
	r := change("v", 0, 1, 0, 1)
	r.New = []byte(img)
	write(t, s, r)
	var want attr.Item
	if err := want.UnmarshalJSON([]byte(img)); err != nil {
		t.Fatal(err)
	}
	if err := attr.ValidateItem(want); err != nil {
		t.Fatal(err)
	}
	got := scan(t, e.direct, e.table)[`{"pk":{"S":"v"}}`]
	delete(got, RepAttribute)
	if err := attr.ValidateItem(got); err != nil {
		t.Fatal(err)
	}
	if !attr.ItemsEqual(got, want) {
		t.Errorf("item read back:\n%s\nwant\n%s", attr.AppendItemJSON(nil, got), attr.AppendItemJSON(nil, want))
	}
}

// TestNothingListens: a destination where nothing listens asks for a
// back-off, in Connect and in Write.
func TestNothingListens(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", sluicetest.FreePort(t))
	s, err := New(Options{Endpoint: url, Table: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); !errors.Is(err, sinks.ErrBackOff) {
		t.Errorf("Connect = %v, want an error matching sinks.ErrBackOff", err)
	}
	err = s.Write(ctx, sinktest.Records(10, t0))
	var be *sinks.BackOffError
	if !errors.As(err, &be) || be.After <= 0 {
		t.Errorf("Write = %v, want a *sinks.BackOffError", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Write(ctx, sinktest.Records(1, t0)); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestNew(t *testing.T) {
	for _, o := range []Options{{}, {Table: "t", Concurrency: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	s, err := New(Options{Table: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.Region != "us-east-1" || s.opts.AccessKeyID != "sluice" || s.opts.SecretAccessKey != "sluice" || s.opts.Concurrency != 16 || cap(s.slots) != 16 {
		t.Errorf("defaults: %+v", s.opts)
	}
}
