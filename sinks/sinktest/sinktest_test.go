package sinktest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// memory is a destination in memory: an append-only log that skips a
// record at or below its shard's high-water mark, and item state.
type memory struct {
	mu      sync.Mutex
	broken  bool
	reject  *sinks.Key
	log     []sinks.Key
	hwm     map[ShardKey]uint64
	items   map[string]string
	dropDup bool // false: a deliberately broken sink, for the suite's own test
}

type memSink struct{ m *memory }

func (s memSink) Connect(context.Context) error { return nil }
func (s memSink) Close(context.Context) error   { return nil }
func (s memSink) Write(_ context.Context, b []sinks.Record) error {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken {
		return &sinks.BackOffError{After: 10}
	}
	for i, r := range b {
		if m.reject != nil && *m.reject == r.Key() {
			return &sinks.BatchError{Failed: map[int]error{i: context.Canceled}}
		}
		sk := ShardKey{r.Table, r.Shard}
		if m.dropDup && uint64(r.Seq) <= m.hwm[sk] {
			continue
		}
		m.hwm[sk] = uint64(r.Seq)
		m.log = append(m.log, r.Key())
		if r.New == nil {
			delete(m.items, ItemID(r.Table, r.Keys))
		} else {
			m.items[ItemID(r.Table, r.Keys)] = string(r.New)
		}
	}
	return nil
}

func (m *memory) Open() sinks.Sink { return memSink{m} }
func (m *memory) Break()           { m.mu.Lock(); m.broken = true; m.mu.Unlock() }
func (m *memory) Heal()            { m.mu.Lock(); m.broken, m.reject = false, nil; m.mu.Unlock() }
func (m *memory) Reject(k sinks.Key) {
	m.mu.Lock()
	m.reject = &k
	m.mu.Unlock()
}
func (m *memory) State(*testing.T) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{Items: map[string]string{}, Applied: map[sinks.Key]int{}, Order: map[ShardKey][]shards.Seq{}}
	for k, v := range m.items {
		st.Items[k] = v
	}
	for _, k := range m.log {
		st.Applied[k]++
		sk := ShardKey{k.Table, k.Shard}
		st.Order[sk] = append(st.Order[sk], k.Seq)
	}
	return st
}

func TestSuiteOnMemory(t *testing.T) {
	Run(t, func(*testing.T) Env {
		return &memory{hwm: map[ShardKey]uint64{}, items: map[string]string{}, dropDup: true}
	})
}

// TestSuiteCatchesDuplicates: a sink that applies a redelivered record
// again fails the suite.
func TestSuiteCatchesDuplicates(t *testing.T) {
	m := &memory{hwm: map[ShardKey]uint64{}, items: map[string]string{}}
	recs := Records(20, time.Unix(0, 0))
	s := m.Open()
	_ = s.Write(context.Background(), recs)
	_ = s.Write(context.Background(), recs[5:])
	items, applied := want(recs)
	st := m.State(t)
	dup := false
	for k := range applied {
		if st.Applied[k] != 1 {
			dup = true
		}
	}
	if !dup || len(st.Items) != len(items) {
		t.Fatal("the duplicate went unnoticed")
	}
}
