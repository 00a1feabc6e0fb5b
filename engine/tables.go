package engine

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// table is a live table: its current definition and the lock that keeps
// DeleteTable from racing with writes in flight.
type table struct {
	def atomic.Pointer[catalog.Table]
	// ddl is read-locked by every write for its whole duration and locked by
	// DeleteTable, so no write lands in a dropped table's key range.
	ddl     sync.RWMutex
	dropped bool // guarded by ddl
	// set is the table's current shards. Writes read it under ddl's read
	// lock; a split, holding ddl, replaces it.
	set atomic.Pointer[shardSet]
	// lsi are the counters of the table's LSIs (nil without LSIs, which
	// a table never gains or loses).
	lsi *lsiCounters
}

// shardSet is a table's current shards: the shard map and each span's
// state, both in hash order.
type shardSet struct {
	spans  shards.Map
	states []*shardState
}

// shards returns the table's current shard states in hash order.
func (t *table) shards() []*shardState { return t.set.Load().states }

// shardOf returns the state of the shard that owns hash h.
func (t *table) shardOf(h shards.Hash) *shardState {
	s := t.set.Load()
	return s.states[s.spans.Find(h)]
}

// TableInfo is a table's definition with its live counters.
type TableInfo struct {
	*catalog.Table
	ItemCount int64
	SizeBytes int64
	// GSIs and LSIs hold each index's entry count and size, by name.
	GSIs map[string]IndexStats
	LSIs map[string]IndexStats
}

// tables returns the live-table index (copy on write).
func (e *Engine) tableIndex() map[string]*table {
	if m := e.tablesPtr.Load(); m != nil {
		return *m
	}
	return nil
}

func (e *Engine) lookup(name string) (*table, bool) {
	t, ok := e.tableIndex()[name]
	return t, ok
}

func (e *Engine) tableByID(id uint32) (*table, bool) {
	for _, t := range e.tableIndex() {
		if t.def.Load().ID == id {
			return t, true
		}
	}
	return nil, false
}

// enterTable enters the engine (Engine.enter) and looks up a table by id.
// When the table is gone (or on error) t is nil and leave need not be
// called.
func (e *Engine) enterTable(id uint32) (t *table, leave func(), err error) {
	leave, err = e.enter()
	if err != nil {
		return nil, nil, err
	}
	t, ok := e.tableByID(id)
	if !ok {
		leave()
		return nil, nil, nil
	}
	return t, leave, nil
}

// holdLive enters the engine and read-locks the DDL of the live table id,
// for work that must not interleave with DDL on it; release undoes both.
// t is nil (and nothing is held) if the table is gone or being dropped.
func (e *Engine) holdLive(id uint32) (t *table, release func(), err error) {
	t, leave, err := e.enterTable(id)
	if t == nil {
		return nil, nil, err
	}
	t.ddl.RLock()
	if t.dropped {
		t.ddl.RUnlock()
		leave()
		return nil, nil, nil
	}
	return t, func() { t.ddl.RUnlock(); leave() }, nil
}

// setTable installs (or with nil removes) a live table in the index.
func (e *Engine) setTable(name string, t *table) {
	e.tablesMu.Lock()
	defer e.tablesMu.Unlock()
	old := e.tableIndex()
	m := make(map[string]*table, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if t == nil {
		delete(m, name)
	} else {
		m[name] = t
	}
	e.tablesPtr.Store(&m)
}

func (e *Engine) newTable(def *catalog.Table) (*table, error) {
	lsi, err := e.loadLSICounters(def)
	if err != nil {
		return nil, err
	}
	t := &table{lsi: lsi}
	t.def.Store(def)
	set := &shardSet{spans: def.Shards()}
	for _, sp := range set.spans {
		set.states = append(set.states, e.shard(def, sp.ID))
	}
	t.set.Store(set)
	return t, nil
}

func (e *Engine) info(t *table) TableInfo {
	in := TableInfo{Table: t.def.Load()}
	for _, st := range t.shards() {
		in.ItemCount += st.count.Load()
		in.SizeBytes += st.size.Load()
	}
	if t.lsi != nil {
		in.LSIs = map[string]IndexStats{}
		for i, s := range t.lsi.load() {
			in.LSIs[in.Table.LSIs[i].Name] = s
		}
	}
	for _, ix := range in.Table.GSIs {
		if s, err := e.gsiStats(in.Table.ID, ix.Ord); err == nil {
			if in.GSIs == nil {
				in.GSIs = map[string]IndexStats{}
			}
			in.GSIs[ix.Name] = s
		}
	}
	return in
}

func notFound(name string) error {
	return attr.Errorf(ErrTableNotFound, "Requested resource not found: Table: %s not found", name)
}

// CreateTable creates a table from def, which the caller validated against
// DynamoDB's rules. The engine assigns the id, TableId, creation time, status
// and shard count.
func (e *Engine) CreateTable(def *catalog.Table) (TableInfo, error) {
	leave, err := e.enter()
	if err != nil {
		return TableInfo{}, err
	}
	defer leave()
	if e.catalog.Len() >= e.opts.MaxTables {
		return TableInfo{}, attr.Errorf(ErrLimitExceeded,
			"Subscriber limit exceeded: Only %d tables can be created", e.opts.MaxTables)
	}
	def = def.Clone()
	def.UUID = uuid.NewString()
	def.Created = e.opts.Now().Truncate(time.Millisecond)
	def.Status = catalog.StatusActive
	def.ShardBits = uint8(bits.TrailingZeros(uint(e.opts.Shards)))
	def.HashVersion = shards.HashXX
	if def.Stream.Enabled {
		def.Stream.Label = streamLabel(def.Created)
		def.Stream.History = []catalog.StreamEpoch{{Label: def.Stream.Label, ViewType: def.Stream.ViewType, Created: def.Created}}
	}
	for i := range def.GSIs {
		def.GSIs[i].Status = catalog.StatusActive
		def.GSIs[i].Ord = uint8(i)
	}
	def.NextGSIOrd = uint8(len(def.GSIs))
	created, err := e.catalog.Create(def)
	if errors.Is(err, catalog.ErrExists) {
		return TableInfo{}, attr.Errorf(ErrResourceInUse, "Table already exists: %s", def.Name)
	}
	if err != nil {
		return TableInfo{}, err
	}
	t, err := e.newTable(created)
	if err != nil {
		return TableInfo{}, err
	}
	if created.Stream.Enabled {
		// A crash before this batch commits leaves an enabled stream
		// without stream shards, which Open repairs (loadLineage).
		b := e.db.NewBatch()
		opened := openStreamShards(b, t, created, created.Stream.Label, created.Created)
		err := b.Commit(!e.opts.Relaxed)
		b.Close()
		if err != nil {
			return TableInfo{}, fmt.Errorf("opening the stream of table %q: %w", created.Name, err)
		}
		for i, s := range opened {
			t.shards()[i].open.Store(s)
		}
	}
	e.setTable(created.Name, t)
	e.log.Info("table created", "table", created.Name, "id", created.ID, "shards", len(t.shards()))
	return e.info(t), nil
}

// streamLabel is DynamoDB's LatestStreamLabel: the enable time in ISO 8601.
func streamLabel(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000")
}

// DescribeTable returns a table's definition and counters.
func (e *Engine) DescribeTable(name string) (TableInfo, error) {
	t, ok := e.lookup(name)
	if !ok {
		return TableInfo{}, notFound(name)
	}
	return e.info(t), nil
}

// TableDef returns a live table's definition, without the counters that
// DescribeTable adds (the request path needs only the schema).
func (e *Engine) TableDef(name string) (*catalog.Table, bool) {
	t, ok := e.lookup(name)
	if !ok {
		return nil, false
	}
	return t.def.Load(), true
}

// ListTables returns the table names in order.
func (e *Engine) ListTables() []string {
	ts := e.catalog.List()
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// UpdateTable applies fn to a copy of the table's definition and stores it.
// When fn enables the stream (sets Stream.Enabled and ViewType), the engine
// gives it a new label and opens its stream shards; when fn disables it,
// the engine closes them (see streams.go). The table's writes wait while it
// runs, so the stream starts or ends exactly between two changes.
func (e *Engine) UpdateTable(name string, fn func(def *catalog.Table) error) (TableInfo, error) {
	leave, err := e.enter()
	if err != nil {
		return TableInfo{}, err
	}
	defer leave()
	t, ok := e.lookup(name)
	if !ok {
		return TableInfo{}, notFound(name)
	}
	t.ddl.Lock()
	defer t.ddl.Unlock()
	if t.dropped {
		return TableInfo{}, notFound(name)
	}
	now := e.opts.Now().Truncate(time.Millisecond)
	var (
		opened   []*StreamShard
		switched bool
	)
	def, err := e.catalog.UpdateWith(name, fn, func(old, def *catalog.Table, b *kv.Batch) error {
		opened, switched = e.switchStream(b, t, old, def, now)
		// A deleted GSI's entries go with it (its ordinal is never reused).
		for _, ix := range old.GSIs {
			if !slices.ContainsFunc(def.GSIs, func(x catalog.Index) bool { return x.Ord == ix.Ord }) {
				p := keycodec.GSIPrefix(def.ID, ix.Ord)
				b.DeleteRange(p, keycodec.PrefixEnd(p))
				b.Delete(gsiStatsKey(def.ID, ix.Ord))
			}
		}
		return nil
	})
	if errors.Is(err, catalog.ErrNotFound) {
		return TableInfo{}, notFound(name)
	}
	if err != nil {
		return TableInfo{}, err
	}
	if switched {
		for i, st := range t.shards() {
			if opened == nil {
				st.open.Store(nil)
			} else {
				st.open.Store(opened[i])
			}
		}
	}
	t.def.Store(def)
	return e.info(t), nil
}

// DeleteTable drops a table and its items in one batch. Its change log stays
// until the relay has published and trimmed it.
func (e *Engine) DeleteTable(name string) (TableInfo, error) {
	leave, err := e.enter()
	if err != nil {
		return TableInfo{}, err
	}
	defer leave()
	t, ok := e.lookup(name)
	if !ok {
		return TableInfo{}, notFound(name)
	}
	if t.def.Load().DeletionProtection {
		return TableInfo{}, attr.Invalid("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	t.ddl.Lock()
	defer t.ddl.Unlock()
	if t.dropped {
		return TableInfo{}, notFound(name)
	}
	in := e.info(t)
	def, err := e.catalog.Delete(name, e.opts.Now(), func(def *catalog.Table, b *kv.Batch) {
		p := keycodec.TablePrefix(def.ID)
		b.DeleteRange(p, keycodec.PrefixEnd(p))
		ip := keycodec.IndexTablePrefix(def.ID)
		b.DeleteRange(ip, keycodec.PrefixEnd(ip))
		gp := keycodec.GSITablePrefix(def.ID)
		b.DeleteRange(gp, keycodec.PrefixEnd(gp))
		// The expiry index goes with the table. ApplyTTL writes only
		// under the ddl lock held here, never once the table is dropped;
		// a backfill that took its snapshot before may leave entries,
		// which the TTL reaper drops (DropTTL) as it drops any.
		tp := keycodec.TTLPrefix(def.ID)
		b.DeleteRange(tp, keycodec.PrefixEnd(tp))
		closeStreamShards(b, t, def)
		for _, st := range t.shards() {
			b.Set(shardMetaKey(st.table, st.shard), encodeShardMeta(shards.Seq(st.lastSeq.Load()), 0, 0))
		}
		// The item collection sizes went with the LSI entries above.
		for i := range def.LSIs {
			b.Delete(lsiStatsKey(def.ID, i))
		}
		// So do the GSIs' counters and the indexer's positions: it applies
		// nothing to a dropped table (ApplyGSI checks under the ddl lock).
		for _, kind := range []byte{metaGSIStats, metaGSIApplied} {
			mp := keycodec.MetaKey(def.ID, kind)
			b.DeleteRange(mp, keycodec.PrefixEnd(mp))
		}
	})
	if errors.Is(err, catalog.ErrNotFound) {
		return TableInfo{}, notFound(name)
	}
	if err != nil {
		return TableInfo{}, fmt.Errorf("deleting table %q: %w", name, err)
	}
	for _, st := range t.shards() {
		st.count.Store(0)
		st.size.Store(0)
		st.open.Store(nil)
	}
	t.dropped = true
	e.setTable(name, nil)
	def = def.Clone()
	def.Status = catalog.StatusDeleting
	in.Table = def
	e.log.Info("table deleted", "table", name, "id", def.ID)
	return in, nil
}
