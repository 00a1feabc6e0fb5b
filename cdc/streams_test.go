package cdc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

// streamEngine opens an engine with one stream table of one shard.
func streamEngine(tb testing.TB, now func() time.Time) (*engine.Engine, *Streams, string) {
	return streamEngineView(tb, now, "NEW_IMAGE")
}

func streamEngineView(tb testing.TB, now func() time.Time, view string) (*engine.Engine, *Streams, string) {
	tb.Helper()
	e, err := engine.Open(engine.Options{Dir: tb.TempDir(), Shards: 1, Now: now, Relaxed: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	in, err := e.CreateTable(&catalog.Table{
		Name:                 "tbl",
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
		Stream:               catalog.Stream{Enabled: true, ViewType: view},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e, NewStreams(e, now), e.StreamARN("tbl", in.Stream.Label)
}

func shardID(t testing.TB, s *Streams, arn string) string {
	t.Helper()
	st, err := s.Find(arn)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Shards(st)
	if err != nil || len(all) != 1 {
		t.Fatalf("shards %v, %v", all, err)
	}
	return all[0].ID
}

// TestStreamsRecords reads a stream with each iterator type and checks
// limits, the view type and iterator expiry.
func TestStreamsRecords(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e, s, arn := streamEngine(t, clock)
	for i := range 10 {
		put(t, e, "tbl", fmt.Sprint("k", i), i)
		now = now.Add(time.Second)
	}
	sh := shardID(t, s, arn)
	read := func(it string, limit int) ([][]byte, string) {
		t.Helper()
		recs, next, err := s.Records(it, limit)
		if err != nil {
			t.Fatal(err)
		}
		return recs, next
	}
	it, err := s.Iterator(arn, sh, TrimHorizon, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	recs, next := read(it, 4)
	if len(recs) != 4 || next == "" {
		t.Fatalf("%d records, next %q", len(recs), next)
	}
	if !strings.Contains(string(recs[0]), `"StreamViewType":"NEW_IMAGE"`) || strings.Contains(string(recs[0]), "OldImage") {
		t.Errorf("record not projected: %s", recs[0])
	}
	recs, next = read(next, 100)
	if len(recs) != 6 || next == "" {
		t.Fatalf("%d records, next %q", len(recs), next)
	}
	if recs, _ = read(next, 100); len(recs) != 0 {
		t.Fatalf("%d records past the end", len(recs))
	}
	latest, err := s.Iterator(arn, sh, Latest, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, e, "tbl", "late", 1)
	if recs, _ = read(latest, 100); len(recs) != 1 || !strings.Contains(string(recs[0]), "late") {
		t.Fatalf("LATEST then a write: %q", recs)
	}
	at, err := s.Iterator(arn, sh, AtSequenceNumber, "000000000000000000005", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ = read(at, 1); !strings.Contains(string(recs[0]), `"SequenceNumber":"000000000000000000005"`) {
		t.Fatalf("AT_SEQUENCE_NUMBER 5: %s", recs[0])
	}
	after, err := s.Iterator(arn, sh, AfterSequenceNumber, "000000000000000000005", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ = read(after, 1); !strings.Contains(string(recs[0]), `"SequenceNumber":"000000000000000000006"`) {
		t.Fatalf("AFTER_SEQUENCE_NUMBER 5: %s", recs[0])
	}
	// Records 1..10 were committed at t0, t0+1s, ... t0+9s.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want string // first record's sequence number, "" for none
	}{
		{t0.Add(-time.Hour), "000000000000000000001"},
		{t0.Add(3 * time.Second), "000000000000000000004"},
		{t0.Add(3500 * time.Millisecond), "000000000000000000005"},
		{t0.Add(time.Hour), ""},
	} {
		it, err := s.Iterator(arn, sh, AtTimestamp, "", tc.at)
		if err != nil {
			t.Fatal(err)
		}
		recs, _ := read(it, 1)
		if tc.want == "" && len(recs) == 0 {
			continue
		}
		if len(recs) == 0 || !strings.Contains(string(recs[0]), `"SequenceNumber":"`+tc.want+`"`) {
			t.Errorf("AT_TIMESTAMP %s: %q, want record %s", tc.at, recs, tc.want)
		}
	}
	if _, err := s.Iterator(arn, sh, AtSequenceNumber, "000000000000000000099", time.Time{}); !errors.Is(err, attr.ErrValidation) {
		t.Errorf("sequence number past the shard: %v", err)
	}
	if _, err := s.Iterator(arn, sh, Latest, "000000000000000000005", time.Time{}); !errors.Is(err, attr.ErrValidation) {
		t.Errorf("sequence number with LATEST: %v", err)
	}
	if _, err := s.Iterator(arn+"x", sh, Latest, "", time.Time{}); !errors.Is(err, engine.ErrTableNotFound) {
		t.Errorf("unknown stream: %v", err)
	}
	now = now.Add(IteratorTTL + time.Second)
	if _, _, err := s.Records(next, 10); !errors.Is(err, wire.ErrExpiredIterator) {
		t.Errorf("expired iterator: %v", err)
	}
}

// TestStreamsClosedShard checks that a disabled stream's shard ends: the
// reader gets no next iterator once it read the last record.
func TestStreamsClosedShard(t *testing.T) {
	e, s, arn := streamEngine(t, nil)
	put(t, e, "tbl", "a", 1)
	sh := shardID(t, s, arn)
	it, err := s.Iterator(arn, sh, TrimHorizon, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateTable("tbl", func(d *catalog.Table) error { d.Stream.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	put(t, e, "tbl", "b", 2) // after the stream
	recs, next, err := s.Records(it, 100)
	if err != nil || len(recs) != 1 || next != "" {
		t.Fatalf("%d records, next %q, %v", len(recs), next, err)
	}
}

func FuzzDecodeIterator(f *testing.F) {
	s := &Streams{now: time.Now}
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000"
	f.Add(s.encode(arn, iterator{table: 3, shard: "shardId-00000001767225600000-00000000", next: 7, issued: time.UnixMilli(1)}))
	f.Add("x|1|AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		arn, it, err := s.decode(in)
		if err != nil {
			if !errors.Is(err, attr.ErrValidation) {
				t.Fatalf("decode error %v is not a ValidationException", err)
			}
			return
		}
		if again := s.encode(arn, it); again != in {
			t.Fatalf("decode then encode changed %q to %q", in, again)
		}
	})
}

// BenchmarkRecords measures GetRecords of 1,000 records on the server side,
// for each view type.
func BenchmarkRecords(b *testing.B) {
	for _, view := range []string{"NEW_AND_OLD_IMAGES", "NEW_IMAGE", "KEYS_ONLY"} {
		b.Run(view, func(b *testing.B) {
			e, s, arn := streamEngineView(b, nil, view)
			const n = 2000
			for i := 0; i < n; i += 25 {
				var ops []engine.BatchWriteOp
				for j := i; j < i+25; j++ {
					ops = append(ops, engine.BatchWriteOp{Table: "tbl", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", j)), "v": attr.S(strings.Repeat("x", 200))}})
				}
				if _, err := e.BatchWrite(engine.BatchWriteRequest{Ops: ops}); err != nil {
					b.Fatal(err)
				}
			}
			sh := shardID(b, s, arn)
			it, err := s.Iterator(arn, sh, TrimHorizon, "", time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				n := 0
				var err error
				buf, _, err = s.AppendRecords(buf[:0], it, 1000, func([]byte) { n++ })
				if err != nil || n != 1000 {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
		})
	}
}

// TestStreamsTrimmed checks reads below what the change log still holds:
// an iterator there answers TrimmedDataAccessException, TRIM_HORIZON starts
// at the oldest record left.
func TestStreamsTrimmed(t *testing.T) {
	e, s, arn := streamEngine(t, nil)
	for i := range 10 {
		put(t, e, "tbl", fmt.Sprint("k", i), i)
	}
	sh := shardID(t, s, arn)
	old, err := s.Iterator(arn, sh, TrimHorizon, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.Find(arn)
	if err := e.ChangeLog().Trim(st.TableID, 0, 4); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Records(old, 10); !errors.Is(err, wire.ErrTrimmedDataAccess) {
		t.Errorf("iterator below the trim point: %v", err)
	}
	if _, err := s.Iterator(arn, sh, AtSequenceNumber, "000000000000000000002", time.Time{}); !errors.Is(err, wire.ErrTrimmedDataAccess) {
		t.Errorf("AT_SEQUENCE_NUMBER below the trim point: %v", err)
	}
	it, err := s.Iterator(arn, sh, TrimHorizon, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := s.Records(it, 10)
	if err != nil || len(recs) != 6 || !strings.Contains(string(recs[0]), `"SequenceNumber":"000000000000000000005"`) {
		t.Fatalf("TRIM_HORIZON after the trim: %d records, %v", len(recs), err)
	}
}
