package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Options configure Open. Zero values are useful defaults.
type Options struct {
	// Dir is the engine's directory (required); the store lives in Dir/store.
	Dir string
	// Relaxed acknowledges writes before their batch is fsynced (see
	// config.DurabilityRelaxed). Off by default.
	Relaxed bool
	// Shards is the number of stream shards of tables created from now on:
	// a power of two from 1 to 1024; 0 means 4.
	Shards int
	// Region and AccountID name the tables' ARNs; defaults us-east-1 and
	// 000000000000.
	Region    string
	AccountID string
	// MaxTables bounds the number of tables; 0 means 2500 (DynamoDB's
	// default quota per region).
	MaxTables int
	Logger    *slog.Logger // nil discards
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StreamShardPeriod is how long a stream shard stays open before the
	// next change rolls it over; 0 means DefaultStreamShardPeriod.
	StreamShardPeriod time.Duration
	// Retention is how long change records are kept (the relay trims the
	// change log past it) and so how long a deleted table's streams are
	// listed; 0 means 24 hours.
	Retention time.Duration
	// ItemCollectionLimit is the most bytes an item collection of a table
	// with local secondary indexes may hold (its items and their LSI
	// entries); 0 means DefaultItemCollectionLimit, DynamoDB's 10 GB.
	ItemCollectionLimit int64
	// ItemCacheBytes bounds the cache of recently written items
	// (itemcache.go); 0 means DefaultItemCacheBytes, negative disables it.
	ItemCacheBytes int64
}

// Engine is an open database.
type Engine struct {
	opts    Options
	db      *kv.DB
	catalog *catalog.Catalog
	log     *slog.Logger
	seed    maphash.Seed
	locks   [4096]sync.Mutex
	closed  atomic.Bool
	// live is read-locked by every operation for its whole duration and
	// locked by Close, so the store is never used after it is closed.
	live sync.RWMutex

	committer *committer
	// items caches the stored values of recently written items.
	items *itemCache
	// lastTokenSweep is when expired transaction tokens were last swept
	// (Unix nanoseconds).
	lastTokenSweep atomic.Int64

	tablesMu  sync.Mutex // serializes setTable
	tablesPtr atomic.Pointer[map[string]*table]

	// backfillStep, when set (tests), runs after each intermediate batch
	// of a GSI backfill is committed.
	backfillStep func()

	mu struct {
		sync.Mutex
		// shards holds every shard with a WAL, including those of deleted
		// tables until their change log is trimmed.
		shards map[shardKey]*shardState
		// subs are the change-log subscribers.
		subs map[int]func([]Change)
		next int
	}
}

type shardKey struct {
	table uint32
	shard shards.ID
}

// shardState is one stream shard's position and the item counters of its key
// range. Only the committer writes it; readers load the atomics.
type shardState struct {
	table   uint32
	shard   shards.ID
	lastSeq atomic.Uint64
	count   atomic.Int64
	size    atomic.Int64
	// open is the shard's open stream shard while the table's stream is
	// enabled (nil otherwise). The committer rolls it over; UpdateTable
	// and DeleteTable, which hold the table's ddl lock, install and clear
	// it.
	open atomic.Pointer[StreamShard]
}

// Open opens the engine in opts.Dir, recovering the catalog and every shard's
// position from the store.
func Open(opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("engine: no directory")
	}
	if opts.Shards == 0 {
		opts.Shards = 4
	}
	if opts.Shards < 0 || opts.Shards > shards.Count(shards.MaxBits) || opts.Shards&(opts.Shards-1) != 0 {
		return nil, fmt.Errorf("engine: %d shards is not a power of two from 1 to %d", opts.Shards, shards.Count(shards.MaxBits))
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.MaxTables == 0 {
		opts.MaxTables = 2500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StreamShardPeriod == 0 {
		opts.StreamShardPeriod = DefaultStreamShardPeriod
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.ItemCollectionLimit == 0 {
		opts.ItemCollectionLimit = DefaultItemCollectionLimit
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := kv.Open(kv.Options{Dir: filepath.Join(opts.Dir, "store"), Logger: log})
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	e := &Engine{opts: opts, db: db, catalog: cat, log: log, seed: maphash.MakeSeed()}
	e.mu.shards = map[shardKey]*shardState{}
	e.mu.subs = map[int]func([]Change){}
	if err := e.loadShards(); err != nil {
		db.Close()
		return nil, err
	}
	for _, def := range cat.List() {
		t, err := e.newTable(def)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("opening table %q: %w", def.Name, err)
		}
		e.setTable(def.Name, t)
	}
	if err := e.loadLineage(); err != nil {
		db.Close()
		return nil, err
	}
	e.committer = newCommitter(e)
	e.items = newItemCache(opts.ItemCacheBytes)
	return e, nil
}

// Close stops accepting writes, waits for the committer to finish what it
// holds, and closes the store.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	e.live.Lock() // waits for the operations in flight
	defer e.live.Unlock()
	e.committer.stop()
	return e.db.Close()
}

// enter admits an operation: Close waits until the returned leave is called.
// Once Close began, enter fails with ErrClosed. Operations never call enter
// twice (a nested read lock could deadlock behind a waiting Close).
func (e *Engine) enter() (leave func(), err error) {
	e.live.RLock()
	if e.closed.Load() {
		e.live.RUnlock()
		return nil, ErrClosed
	}
	return e.live.RUnlock, nil
}

// Region and AccountID, for ARNs.
func (e *Engine) Region() string    { return e.opts.Region }
func (e *Engine) AccountID() string { return e.opts.AccountID }

// shardMeta is the value of a shard's meta key: last sequence, item count,
// size in bytes, each a uvarint (count and size zig-zag).
const metaShard = 's'

func shardMetaKey(table uint32, sh shards.ID) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(sh))
	return keycodec.MetaKey(table, metaShard, b[:]...)
}

func encodeShardMeta(seq shards.Seq, count, size int64) []byte {
	b := make([]byte, 0, 30)
	b = binary.AppendUvarint(b, uint64(seq))
	b = binary.AppendVarint(b, count)
	return binary.AppendVarint(b, size)
}

func decodeShardMeta(v []byte) (seq shards.Seq, count, size int64, err error) {
	s, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, 0, 0, errors.New("engine: corrupt shard meta")
	}
	v = v[n:]
	count, n = binary.Varint(v)
	if n <= 0 {
		return 0, 0, 0, errors.New("engine: corrupt shard meta")
	}
	v = v[n:]
	size, n = binary.Varint(v)
	if n <= 0 {
		return 0, 0, 0, errors.New("engine: corrupt shard meta")
	}
	return shards.Seq(s), count, size, nil
}

// loadShards reads every shard's meta record.
func (e *Engine) loadShards() error {
	p := []byte{keycodec.MetaKey(0, 0)[0]}
	it, err := e.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		// 'm' | table(4) | kind(1) | shard(4)
		if len(k) != 10 || k[5] != metaShard {
			continue
		}
		table := binary.BigEndian.Uint32(k[1:5])
		sh := shards.ID(binary.BigEndian.Uint32(k[6:10]))
		v, err := it.Value()
		if err != nil {
			return err
		}
		seq, count, size, err := decodeShardMeta(v)
		if err != nil {
			return fmt.Errorf("table %d shard %d: %w", table, sh, err)
		}
		st := &shardState{table: table, shard: sh}
		st.lastSeq.Store(uint64(seq))
		st.count.Store(count)
		st.size.Store(size)
		e.mu.shards[shardKey{table, sh}] = st
	}
	return nil
}

// shard returns the state of a table's shard, creating it (in memory; the
// committer persists it with the first change) if needed.
func (e *Engine) shard(t *catalog.Table, sh shards.ID) *shardState {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := shardKey{t.ID, sh}
	st, ok := e.mu.shards[k]
	if !ok {
		st = &shardState{table: t.ID, shard: sh}
		e.mu.shards[k] = st
	}
	return st
}

// lockFor returns the striped lock guarding a storage key.
func (e *Engine) lockFor(key []byte) *sync.Mutex {
	return &e.locks[e.stripe(key)]
}

// lastSeqs returns the last committed sequence number of each shard of a
// table (its change log's end).
func (e *Engine) lastSeqs(table uint32) map[shards.ID]shards.Seq {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[shards.ID]shards.Seq{}
	for k, st := range e.mu.shards {
		if k.table == table {
			out[k.shard] = shards.Seq(st.lastSeq.Load())
		}
	}
	return out
}

// settle returns once no write that held key's stripe when it was called
// is still committing. Pebble makes a batch visible to readers as soon as
// it is applied, before its fsync ends; a write holds its items' stripes
// until its batch is durable. A read calls settle on every key it read
// (present or absent) before answering, so that it never answers with a
// change a crash could still take back: a client that saw it could then
// see it vanish (TestLinearizable caught this across a kill -9). Reads of
// other keys, and reads while no write is committing, do not wait.
func (e *Engine) settle(key []byte) {
	m := e.lockFor(key)
	if m.TryLock() {
		m.Unlock()
		return
	}
	m.Lock()
	//lint:ignore SA2001 waiting for the writer that holds the stripe is the point
	m.Unlock()
}

// stripe is the index of the lock guarding a storage key. Multi-item writes
// lock stripes in ascending order, each once.
func (e *Engine) stripe(key []byte) int {
	return int(maphash.Bytes(e.seed, key) % uint64(len(e.locks)))
}
