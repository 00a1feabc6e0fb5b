// Package kv is Sluice's storage: a thin, concrete layer over Pebble. It is the
// only package that imports Pebble, so the rest of the engine sees plain byte
// keys and values, batches and iterators.
//
// Guarantees: a Batch committed with Sync is durable when Commit returns (the
// Pebble WAL is fsynced; concurrent synced commits share one fsync); a Batch
// is atomic. Values returned by Get are copies the caller owns.
package kv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrNotFound is returned by Get for an absent key.
var ErrNotFound = errors.New("kv: not found")

// Options configure Open. The zero value of each field is a useful default.
type Options struct {
	Dir string // required
	// FS replaces the file system (tests inject faults or use memory). nil
	// means the operating system's.
	FS vfs.FS
	// CacheBytes is the block cache size; 0 means 64 MiB (every write looks
	// up the item it replaces: with less, the lookups read filter and index
	// blocks from disk under a large write load).
	CacheBytes int64
	// MemTableBytes is the memtable size; 0 means 16 MiB (Pebble keeps up to
	// two while one flushes).
	MemTableBytes uint64
	Logger        *slog.Logger // nil discards
}

// DB is an open store.
type DB struct {
	p *pebble.DB
}

// Open opens (creating if needed) the store in opts.Dir.
func Open(opts Options) (*DB, error) {
	if opts.Dir == "" {
		return nil, errors.New("kv: no directory")
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes == 0 {
		cacheBytes = 64 << 20
	}
	memBytes := opts.MemTableBytes
	if memBytes == 0 {
		memBytes = 16 << 20
	}
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		FS:                 opts.FS,
		Cache:              cache,
		MemTableSize:       memBytes,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             slogLogger{opts.Logger},
	}
	// Bloom filters on every level: each write reads the item it replaces,
	// and most inserts look up a key that does not exist.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Values of 256 bytes and more (items, and change records, which hold
	// both images and live 24 hours) go to blob files that compactions
	// reference instead of rewriting: the CPU of a sustained put load on a
	// growing table fell from 230 to 188 µs per put, and BatchWriteItem's
	// by 12% (docs/benchmarks.md). Pebble marks the policy experimental in
	// v2.1; the crash tests cover it like the rest of the store.
	po.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled: true, MinimumSize: 256, MaxBlobReferenceDepth: 10,
			RewriteMinimumAge: 5 * time.Minute, TargetGarbageRatio: 0.2,
		}
	}
	p, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("opening pebble in %s: %w", opts.Dir, err)
	}
	return &DB{p: p}, nil
}

// Close flushes nothing extra (the WAL holds what was committed) and closes.
func (d *DB) Close() error { return d.p.Close() }

// Get returns a copy of the value at key, or ErrNotFound.
func (d *DB) Get(key []byte) ([]byte, error) { return get(d.p, key) }

// Probe is Get for a key that is often absent, as on the write path where
// most inserts look up a key that does not exist yet. Pebble's Get skips the
// bloom filters of the last level (L6), where most data lives, so every miss
// there reads and decodes a data block; Probe seeks an iterator that uses
// every level's filter. A miss costs about a third of Get's, a hit about a
// third more (BenchmarkProbe).
func (d *DB) Probe(key []byte) ([]byte, error) {
	if len(key) == 0 {
		// No store key is empty, and Pebble's invariant checks (on under
		// -race) index a seek key's first byte.
		return nil, ErrNotFound
	}
	it, err := d.p.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return nil, err
	}
	v, err := seekValue(it, key)
	if err == nil && v == nil {
		err = ErrNotFound
	}
	if err != nil {
		return nil, errors.Join(err, it.Close())
	}
	return v, it.Close()
}

// seekValue returns a copy of the value at key (non-nil, if empty), nil if
// it is absent, seeking it with the iterator's filters (SeekPrefixGE).
func seekValue(it *pebble.Iterator, key []byte) ([]byte, error) {
	if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
		return nil, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	return append([]byte{}, v...), nil
}

// ProbeAll is Probe for several keys (the items a batch replaces) through
// one iterator, seeking them in ascending order so that Pebble reuses the
// files and blocks one seek loaded for the next. vals[i] is the value at
// keys[i], nil if it is absent; keys must be distinct.
func (d *DB) ProbeAll(keys [][]byte) (vals [][]byte, err error) {
	vals = make([][]byte, len(keys))
	order := make([]int, 0, len(keys))
	for i, k := range keys {
		if len(k) > 0 { // see Probe: no store key is empty
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return vals, nil
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	it, err := d.p.NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for _, i := range order {
		if vals[i], err = seekValue(it, keys[i]); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

func get(r interface {
	Get([]byte) ([]byte, io.Closer, error)
}, key []byte) ([]byte, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	return out, c.Close()
}

// Batch is a set of writes applied atomically.
type Batch struct {
	b *pebble.Batch
}

// NewBatch returns an empty batch.
func (d *DB) NewBatch() *Batch { return &Batch{b: d.p.NewBatch()} }

func (b *Batch) Set(key, value []byte) { _ = b.b.Set(key, value, nil) }
func (b *Batch) Delete(key []byte)     { _ = b.b.Delete(key, nil) }

// DeleteRange deletes every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) { _ = b.b.DeleteRange(start, end, nil) }
func (b *Batch) Len() int                      { return b.b.Len() }
func (b *Batch) Empty() bool                   { return b.b.Empty() }
func (b *Batch) Reset()                        { b.b.Reset() }
func (b *Batch) Close()                        { _ = b.b.Close() }

// Commit applies b; with sync, it returns only once the batch is durable.
func (b *Batch) Commit(sync bool) error {
	o := pebble.NoSync
	if sync {
		o = pebble.Sync
	}
	return b.b.Commit(o)
}

// Reader reads a consistent view: the live DB or a snapshot.
type Reader interface {
	Get(key []byte) ([]byte, error)
	NewIter(lower, upper []byte) (*Iter, error)
}

var (
	_ Reader = (*DB)(nil)
	_ Reader = (*Snapshot)(nil)
)

// NewIter iterates the keys in [lower, upper); nil bounds are open.
func (d *DB) NewIter(lower, upper []byte) (*Iter, error) {
	it, err := d.p.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &Iter{it: it}, nil
}

// Snapshot is a point-in-time view; Close it when done.
type Snapshot struct {
	s *pebble.Snapshot
}

// NewSnapshot pins the current state.
func (d *DB) NewSnapshot() *Snapshot { return &Snapshot{s: d.p.NewSnapshot()} }

func (s *Snapshot) Get(key []byte) ([]byte, error) { return get(s.s, key) }

func (s *Snapshot) NewIter(lower, upper []byte) (*Iter, error) {
	it, err := s.s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &Iter{it: it}, nil
}

func (s *Snapshot) Close() error { return s.s.Close() }

// Iter walks keys in order. Key and Value are valid until the next move.
type Iter struct {
	it *pebble.Iterator
}

func (i *Iter) First() bool            { return i.it.First() }
func (i *Iter) Last() bool             { return i.it.Last() }
func (i *Iter) Next() bool             { return i.it.Next() }
func (i *Iter) Prev() bool             { return i.it.Prev() }
func (i *Iter) SeekGE(k []byte) bool   { return i.it.SeekGE(k) }
func (i *Iter) SeekLT(k []byte) bool   { return i.it.SeekLT(k) }
func (i *Iter) Valid() bool            { return i.it.Valid() }
func (i *Iter) Key() []byte            { return i.it.Key() }
func (i *Iter) Value() ([]byte, error) { return i.it.ValueAndErr() }
func (i *Iter) Close() error           { return i.it.Close() }

// Metrics is the subset of Pebble's metrics Sluice exports.
type Metrics struct {
	DiskBytes     uint64
	MemTableBytes uint64
}

// Metrics reports storage sizes.
func (d *DB) Metrics() Metrics {
	m := d.p.Metrics()
	return Metrics{DiskBytes: m.DiskSpaceUsage(), MemTableBytes: m.MemTable.Size}
}
