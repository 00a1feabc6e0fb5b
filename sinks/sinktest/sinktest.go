// Package sinktest is the conformance suite every sink passes: open and
// close, at-least-once, per-shard order, no duplicate effect on redelivery
// (by the (table, shard, sequence) idempotency key), back-off when the
// destination is unavailable, and a partial batch failure.
//
// A sink's test calls Run with an Env factory: an Env owns one destination
// (a directory, a server) and opens sinks on it, and shows what the
// destination holds.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// Env is one destination under test.
type Env interface {
	// Open returns a new sink on the destination (not yet connected).
	Open() sinks.Sink
	// State reads what the destination holds.
	State(t *testing.T) State
}

// Breakable is an Env whose destination can be made unavailable.
type Breakable interface {
	Env
	// Break makes the destination unavailable (Write must fail with an
	// error matching sinks.ErrBackOff) until Heal.
	Break()
	Heal()
}

// Rejecting is an Env whose destination can refuse one record.
type Rejecting interface {
	Env
	// Reject makes the destination refuse the record with key k (and only
	// it) until Heal.
	Reject(k sinks.Key)
	Heal()
}

// State is what a destination holds. A sink fills what applies to it.
type State struct {
	// Items maps each item (ItemID) to the image it shows now, as canonical
	// DynamoDB JSON; a removed item is absent. nil: the sink keeps no item
	// state (an append-only log).
	Items map[string]string
	// Applied counts, per record, how many times its effect is in the
	// destination (log lines, rows). nil: the sink keeps no per-record
	// effect (it keeps item state only).
	Applied map[sinks.Key]int
	// Order lists, per (table, shard), the sequence numbers in the order the
	// destination holds them. nil: the destination keeps no order.
	Order map[ShardKey][]shards.Seq
}

// ShardKey names a table's shard.
type ShardKey struct {
	Table string
	Shard shards.ID
}

// ItemID names an item in State.Items: the table and the canonical JSON of
// its key.
func ItemID(table string, keys []byte) string { return table + "|" + string(keys) }

// Table is the table the suite's records belong to.
const Table = "Orders"

// Records returns n change records of a few items spread over 4 shards:
// inserts, modifications and removals, each item's in order, each shard's
// sequence numbers dense from 1, committed a millisecond apart from start.
func Records(n int, start time.Time) []sinks.Record {
	const items = 7
	seq := map[shards.ID]shards.Seq{}
	image := map[int]string{} // item -> current image ("" absent)
	var out []sinks.Record
	for i := range n {
		it := (i * 5) % items
		sh := shards.ID(it % 4)
		seq[sh]++
		keys := fmt.Sprintf(`{"pk":{"S":"item-%d"}}`, it)
		old := image[it]
		var name event.Name
		var new string
		switch {
		case old == "":
			name = event.Insert
			new = fmt.Sprintf(`{"n":{"N":"%d"},"pk":{"S":"item-%d"},"title":{"S":"order %d of item %d"}}`, i, it, i, it)
		case i%9 == 0:
			name = event.Remove
		default:
			name = event.Modify
			new = fmt.Sprintf(`{"n":{"N":"%d"},"pk":{"S":"item-%d"},"title":{"S":"order %d of item %d"}}`, i, it, i, it)
		}
		image[it] = new
		rec := event.Record{
			TableID: 1, Source: "arn:aws:dynamodb:us-east-1:000000000000:table/" + Table,
			Region: "us-east-1", Shard: sh, Seq: seq[sh], Name: name,
			Time: start.Add(time.Duration(i) * time.Millisecond), Keys: []byte(keys),
			PartitionKey: "item-" + strconv.Itoa(it),
			Who:          event.Identity{AccessKeyID: "AKID", SourceAddr: "127.0.0.1:1", RequestID: "req-" + strconv.Itoa(i)},
		}
		if old != "" {
			rec.Old = []byte(old)
		}
		if new != "" {
			rec.New = []byte(new)
		}
		rec.Sizes = event.Sizes{Keys: len(keys), Old: len(old), New: len(new)}
		env, err := event.Decode(rec.Encode(nil))
		if err != nil {
			panic(err)
		}
		r, err := sinks.Decode(Table, sh, env.Header, env.Data)
		if err != nil {
			panic(err)
		}
		r.TableID = 1
		out = append(out, r)
	}
	return out
}

// want is what a destination must hold after recs.
func want(recs []sinks.Record) (items map[string]string, applied map[sinks.Key]int) {
	items, applied = map[string]string{}, map[sinks.Key]int{}
	for _, r := range recs {
		id := ItemID(r.Table, r.Keys)
		if r.New == nil {
			delete(items, id)
		} else {
			items[id] = string(r.New)
		}
		applied[r.Key()] = 1
	}
	return items, applied
}

// Run runs the suite against the sink newEnv opens; newEnv makes a new,
// empty destination each time.
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

	t.Run("OpenClose", func(t *testing.T) {
		env := newEnv(t)
		s := env.Open()
		mustConnect(t, s)
		if err := s.Write(ctx, nil); err != nil {
			t.Fatalf("Write of an empty batch: %v", err)
		}
		mustClose(t, s)
		s = env.Open()
		mustConnect(t, s)
		mustClose(t, s)
		st := env.State(t)
		if len(st.Items) != 0 || len(st.Applied) != 0 {
			t.Errorf("state after no records: %+v", st)
		}
	})

	t.Run("AtLeastOnceInOrder", func(t *testing.T) {
		env := newEnv(t)
		recs := Records(120, start)
		s := env.Open()
		mustConnect(t, s)
		for b := range slices.Chunk(recs, 7) {
			mustWrite(t, s, b)
		}
		mustClose(t, s)
		check(t, env.State(t), recs)
	})

	t.Run("Redelivery", func(t *testing.T) {
		env := newEnv(t)
		recs := Records(90, start)
		s := env.Open()
		mustConnect(t, s)
		mustWrite(t, s, recs[:50])
		mustWrite(t, s, recs[30:70]) // a retry overlapping what was applied
		mustClose(t, s)
		// After a restart the runtime replays from its checkpoint.
		s = env.Open()
		mustConnect(t, s)
		mustWrite(t, s, recs[10:])
		mustWrite(t, s, recs)
		mustClose(t, s)
		check(t, env.State(t), recs)
	})

	t.Run("BackOff", func(t *testing.T) {
		env := newEnv(t)
		br, ok := env.(Breakable)
		if !ok {
			t.Skip("the destination cannot be made unavailable")
		}
		recs := Records(40, start)
		s := env.Open()
		mustConnect(t, s)
		mustWrite(t, s, recs[:20])
		br.Break()
		err := s.Write(ctx, recs[20:])
		if !errors.Is(err, sinks.ErrBackOff) {
			t.Fatalf("Write to an unavailable destination = %v, want an error matching sinks.ErrBackOff", err)
		}
		br.Heal()
		mustWrite(t, s, recs[20:])
		mustClose(t, s)
		check(t, env.State(t), recs)
	})

	t.Run("PartialFailure", func(t *testing.T) {
		env := newEnv(t)
		rj, ok := env.(Rejecting)
		if !ok {
			t.Skip("the destination cannot refuse a record")
		}
		recs := Records(30, start)
		s := env.Open()
		mustConnect(t, s)
		rj.Reject(recs[12].Key())
		err := s.Write(ctx, recs)
		var be *sinks.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("Write with a refused record = %v, want a *sinks.BatchError", err)
		}
		if _, ok := be.Failed[12]; !ok {
			t.Fatalf("BatchError.Failed = %v, want record 12 among them", be.Failed)
		}
		rj.Heal()
		// The runtime marks what precedes the lowest failure done and
		// delivers again from it.
		mustWrite(t, s, recs[be.Lowest():])
		mustClose(t, s)
		check(t, env.State(t), recs)
	})
}

// check compares a destination's state with what recs must leave.
func check(t *testing.T, st State, recs []sinks.Record) {
	t.Helper()
	items, applied := want(recs)
	if st.Items != nil && !maps.Equal(st.Items, items) {
		for id, img := range items {
			if st.Items[id] != img {
				t.Errorf("item %s shows %q, want %q", id, st.Items[id], img)
			}
		}
		for id := range st.Items {
			if _, ok := items[id]; !ok {
				t.Errorf("item %s should not be there", id)
			}
		}
	}
	if st.Applied != nil {
		for k := range applied {
			if n := st.Applied[k]; n != 1 {
				t.Errorf("record %s applied %d times, want once", k, n)
			}
		}
		for k, n := range st.Applied {
			if applied[k] == 0 {
				t.Errorf("record %s applied %d times, but it was never written", k, n)
			}
		}
	}
	for sk, seqs := range st.Order {
		if !slices.IsSorted(seqs) {
			t.Errorf("shard %v holds sequence numbers out of order: %v", sk, seqs)
		}
	}
	if st.Items == nil && st.Applied == nil {
		t.Error("the Env's State shows neither items nor applied records")
	}
}

func mustConnect(t *testing.T, s sinks.Sink) {
	t.Helper()
	if err := s.Connect(context.Background()); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}

func mustWrite(t *testing.T, s sinks.Sink, b []sinks.Record) {
	t.Helper()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustClose(t *testing.T, s sinks.Sink) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
