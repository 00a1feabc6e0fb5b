package engine

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Streams and their shard lineage.
//
// Every committed change is in the change log whether or not the table has
// a stream: the change log feeds JetStream and every consumer. A DynamoDB
// stream is a window onto it. Enabling a stream opens, for each of the
// table's shards, a stream shard starting at the next sequence number;
// disabling closes them at the last. While a stream is enabled, the commit
// pipeline rolls a shard's stream shard over once it is older than
// Options.StreamShardPeriod: in the batch holding the shard's first change
// past that age, it closes the stream shard at the last sequence number
// before the batch and opens a child that names it as its parent, as
// DynamoDB Streams shards roll over every few hours. Rollover is lazy: a
// shard without writes keeps its open stream shard.
//
// A stream shard is a lineage record in the store (keycodec.MetaLineage),
// written in the same batch as the change that rolled it, the catalog
// update that enabled or disabled the stream, or the table's deletion, so
// the lineage is as durable as the records it describes. Stream shard ids
// are "shardId-" + the creation time in Unix milliseconds (20 digits) + "-"
// + the shard index (8 hex digits): they sort in creation order.

// DefaultStreamShardPeriod is how long a stream shard stays open when
// Options.StreamShardPeriod is zero.
const DefaultStreamShardPeriod = 4 * time.Hour

// StreamShard is one shard of a stream: a range of one table shard's change
// log.
type StreamShard struct {
	ID     string    `json:"ID"`
	Parent string    `json:"Parent,omitempty"`
	Label  string    `json:"Label"` // the stream it belongs to
	Shard  shards.ID `json:"Shard"` // the table shard whose log it reads
	// Start is its first sequence number; End its last once Closed (End is
	// Start-1 for a stream shard closed before any change). StreamShards
	// sets an open shard's End to the last change committed so far.
	Start   shards.Seq `json:"Start"`
	End     shards.Seq `json:"End,omitempty"`
	Closed  bool       `json:"Closed,omitempty"`
	Created time.Time  `json:"Created"`
}

func streamShardID(created time.Time, sh shards.ID) string {
	return fmt.Sprintf("shardId-%020d-%08x", created.UnixMilli(), uint32(sh))
}

func lineageKey(table uint32, s *StreamShard) []byte {
	rest := binary.BigEndian.AppendUint32(nil, uint32(s.Shard))
	rest = binary.BigEndian.AppendUint64(rest, uint64(s.Created.UnixNano()))
	return keycodec.MetaKey(table, keycodec.MetaLineage, rest...)
}

// putLineage adds a stream shard's record to b.
func putLineage(b *kv.Batch, table uint32, s *StreamShard) {
	v, _ := json.Marshal(s) // cannot fail: plain fields
	b.Set(lineageKey(table, s), v)
}

// openStreamShards adds to b a new stream shard for each of t's shards,
// starting after its last committed change, and returns them in shard
// order. The caller holds t.ddl for writing, so no change is in flight.
func openStreamShards(b *kv.Batch, t *table, def *catalog.Table, label string, now time.Time) []*StreamShard {
	states := t.shards()
	out := make([]*StreamShard, len(states))
	for i, st := range states {
		s := &StreamShard{
			ID:      streamShardID(now, st.shard),
			Label:   label,
			Shard:   st.shard,
			Start:   shards.Seq(st.lastSeq.Load()) + 1,
			Created: now,
		}
		putLineage(b, def.ID, s)
		out[i] = s
	}
	return out
}

// closeStreamShards adds to b the closing of t's open stream shards at their
// shard's last committed change. The caller holds t.ddl for writing.
func closeStreamShards(b *kv.Batch, t *table, def *catalog.Table) {
	for _, st := range t.shards() {
		open := st.open.Load()
		if open == nil {
			continue
		}
		c := *open
		c.End, c.Closed = shards.Seq(st.lastSeq.Load()), true
		putLineage(b, def.ID, &c)
	}
}

// rollover returns the closing of open after last and its child, which
// starts at last+1.
func rollover(open *StreamShard, last shards.Seq, now time.Time) (closed, child *StreamShard) {
	c := *open
	c.End, c.Closed = last, true
	return &c, &StreamShard{
		ID:      streamShardID(now, open.Shard),
		Parent:  open.ID,
		Label:   open.Label,
		Shard:   open.Shard,
		Start:   last + 1,
		Created: now,
	}
}

// switchStream applies a stream enable or disable that an UpdateTable made
// (old to def) to def's label and history and to the lineage in b. It
// returns the stream shards to install as open (nil for a disable), and
// whether anything switched.
func (e *Engine) switchStream(b *kv.Batch, t *table, old, def *catalog.Table, now time.Time) (opened []*StreamShard, switched bool) {
	switch {
	case !old.Stream.Enabled && def.Stream.Enabled:
		label := streamLabel(now)
		def.Stream.Label = label
		def.Stream.History = append(def.Stream.History, catalog.StreamEpoch{
			Label: label, ViewType: def.Stream.ViewType, Created: now,
		})
		return openStreamShards(b, t, def, label, now), true
	case old.Stream.Enabled && !def.Stream.Enabled:
		def.Stream.ViewType = ""
		if n := len(def.Stream.History); n > 0 {
			def.Stream.History[n-1].Disabled = now
		}
		closeStreamShards(b, t, def)
		return nil, true
	}
	return nil, false
}

// loadLineage sets each shard's open stream shard from the store, and
// repairs what an older store or an interrupted CreateTable left: a stream
// without history gets one; an enabled stream without open stream shards
// gets them.
func (e *Engine) loadLineage() error {
	for _, def := range e.catalog.List() {
		t, ok := e.lookup(def.Name)
		if !ok {
			continue
		}
		if def.Stream.Label != "" && len(def.Stream.History) == 0 {
			created, err := time.Parse("2006-01-02T15:04:05.000", def.Stream.Label)
			if err != nil {
				created = def.Created
			}
			def2, err := e.catalog.Update(def.Name, func(d *catalog.Table) error {
				d.Stream.History = []catalog.StreamEpoch{{Label: d.Stream.Label, ViewType: d.Stream.ViewType, Created: created}}
				if !d.Stream.Enabled {
					d.Stream.History[0].Disabled = created
				}
				return nil
			})
			if err != nil {
				return err
			}
			t.def.Store(def2)
			def = def2
		}
		all, err := e.lineage(def.ID)
		if err != nil {
			return err
		}
		states := t.shards()
		for _, s := range all {
			if s.Closed {
				continue
			}
			for _, st := range states {
				if st.shard == s.Shard {
					st.open.Store(s)
				}
			}
		}
		if !def.Stream.Enabled || states[0].open.Load() != nil {
			continue
		}
		b := e.db.NewBatch()
		created := def.Stream.History[len(def.Stream.History)-1].Created
		opened := openStreamShards(b, t, def, def.Stream.Label, created)
		err = b.Commit(true)
		b.Close()
		if err != nil {
			return err
		}
		for i, s := range opened {
			states[i].open.Store(s)
		}
	}
	return nil
}

// lineage reads every stream shard of a table, in shard then creation
// order.
func (e *Engine) lineage(table uint32) ([]*StreamShard, error) {
	p := keycodec.MetaKey(table, keycodec.MetaLineage)
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*StreamShard
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			return nil, err
		}
		var s StreamShard
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("engine: decoding stream shard %x: %w", it.Key(), err)
		}
		out = append(out, &s)
	}
	return out, nil
}

// StreamInfo is one stream of a table, live or dropped.
type StreamInfo struct {
	Table     string
	TableID   uint32
	KeySchema []catalog.KeyElement
	catalog.StreamEpoch
	// Current is true for the table's latest stream while it is enabled.
	Current bool
}

// Streams lists the streams that can be read: those of the live tables and
// of the tables deleted less than Options.Retention ago, ordered by table
// name, then label.
func (e *Engine) Streams() []StreamInfo {
	var out []StreamInfo
	add := func(def *catalog.Table) {
		for i, ep := range def.Stream.History {
			out = append(out, StreamInfo{
				Table: def.Name, TableID: def.ID, KeySchema: def.KeySchema, StreamEpoch: ep,
				Current: def.Stream.Enabled && i == len(def.Stream.History)-1,
			})
		}
	}
	for _, def := range e.catalog.List() {
		if t, ok := e.lookup(def.Name); ok {
			add(t.def.Load())
		}
	}
	horizon := e.opts.Now().Add(-e.opts.Retention)
	for _, def := range e.catalog.Dropped() {
		if def.Deleted.After(horizon) {
			add(def)
		}
	}
	slices.SortFunc(out, func(a, b StreamInfo) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		if c := strings.Compare(a.Label, b.Label); c != 0 {
			return c
		}
		return int(int64(a.TableID) - int64(b.TableID))
	})
	return out
}

// StreamShards returns the shards of a table's stream in id (creation)
// order, leaving out those whose every record was trimmed and the empty
// closed ones older than the retention window. The End of an open shard is
// its table shard's last committed sequence number, read before the
// lineage: a reader that stops there never reads a change that a rollover
// committed meanwhile gave to the shard's child (that rollover closes the
// shard at or past it).
func (e *Engine) StreamShards(table uint32, label string) ([]StreamShard, error) {
	leave, err := e.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	last := e.lastSeqs(table)
	all, err := e.lineage(table)
	if err != nil {
		return nil, err
	}
	first := map[shards.ID]shards.Seq{}
	horizon := e.opts.Now().Add(-e.opts.Retention)
	var out []StreamShard
	for _, s := range all {
		if s.Label != label {
			continue
		}
		if !s.Closed {
			s.End = last[s.Shard]
			out = append(out, *s)
			continue
		}
		if s.End < s.Start { // closed before any change
			if s.Created.After(horizon) {
				out = append(out, *s)
			}
			continue
		}
		f, ok := first[s.Shard]
		if !ok {
			if f, err = e.firstSeq(table, s.Shard); err != nil {
				return nil, err
			}
			if f == 0 { // the log is empty: everything up to last was trimmed
				f = last[s.Shard] + 1
			}
			first[s.Shard] = f
		}
		if s.End >= f {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b StreamShard) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// firstSeq is the oldest sequence number in a shard's change log, or 0.
func (e *Engine) firstSeq(table uint32, sh shards.ID) (shards.Seq, error) {
	recs, err := e.readLog(table, sh, 0, 1)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	return recs[0].Seq, nil
}

// LastSeq is the last sequence number committed in a shard (0 if none).
func (e *Engine) LastSeq(table uint32, sh shards.ID) shards.Seq {
	e.mu.Lock()
	st := e.mu.shards[shardKey{table, sh}]
	e.mu.Unlock()
	if st == nil {
		return 0
	}
	return shards.Seq(st.lastSeq.Load())
}
