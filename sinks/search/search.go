package search

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

var (
	// ErrClosed: the sink is not connected (before Connect, after Close).
	ErrClosed = errors.New("search: index is closed")
	// ErrWrongTable: a record of another table than Options.Table.
	ErrWrongTable = errors.New("search: record of another table")
	// ErrInvalidQuery: the query string does not parse.
	ErrInvalidQuery = errors.New("search: invalid query")
	// ErrBehind: the index has not persisted what the log holds for too
	// long; Write backs off until it has.
	ErrBehind = errors.New("search: index persistence is behind")
	// ErrInvalidToken: the paging token is not one this query returned.
	ErrInvalidToken = errors.New("search: invalid paging token")
)

// backOff is how long Write asks the runtime to wait after the index could
// not be written.
const backOff = time.Second

// Options configure a Sink.
type Options struct {
	// Dir holds the index (created if missing). Only this sink uses it.
	Dir string
	// Table is the table whose records the sink indexes. "" accepts any
	// record; otherwise a record of another table fails with ErrWrongTable.
	Table string
	// Fields are the top-level attribute names to index (see the package
	// doc for how each type is indexed). No duplicates; none may be one of
	// the reserved names _all, _id, _item, _score. Empty: documents are
	// stored and countable but only match-all finds them.
	Fields []string
}

// Sink keeps a full-text index of one table's items. It implements
// sinks.Sink; Search, Position, Wait and Reset may be called from any
// goroutine while it is connected.
//
// Lock order: writeMu before mu before pos.
type Sink struct {
	opts Options

	// writeMu admits one Write or Reset at a time: both read the marks,
	// write the index and then publish the marks.
	writeMu sync.Mutex

	mu struct {
		// Connect, Close, Reset and reopening take it exclusively to swap
		// the index; Write and Search hold it shared while they use it.
		sync.RWMutex
		open bool    // between Connect and Close
		idx  *handle // nil while open only if a reopen failed
		gen  string  // the index directory's name under Dir
	}
	// stale marks an index whose last Write or search failed: its log may
	// end in a torn frame, or its memory miss a logged batch, so it is
	// closed and opened again from disk (replaying the log) before its
	// next use.
	stale atomic.Bool

	pos struct {
		sync.Mutex
		marks   map[shards.ID]shards.Seq // high-water marks, durable and searchable
		changed chan struct{}            // closed and replaced when marks move
	}
}

var _ sinks.Sink = (*Sink)(nil)

// New validates opts and returns an unconnected sink.
func New(opts Options) (*Sink, error) {
	if opts.Dir == "" {
		return nil, errors.New("search: Options.Dir is empty")
	}
	seen := map[string]bool{}
	for _, f := range opts.Fields {
		switch {
		case f == "":
			return nil, errors.New("search: empty field name")
		case reserved[f]:
			return nil, fmt.Errorf("search: field name %q is reserved", f)
		case seen[f]:
			return nil, fmt.Errorf("search: field %q listed twice", f)
		}
		seen[f] = true
	}
	opts.Fields = slices.Clone(opts.Fields)
	s := &Sink{opts: opts}
	s.pos.marks = map[shards.ID]shards.Seq{}
	s.pos.changed = make(chan struct{})
	return s, nil
}

// Connect opens the index under Options.Dir, creating it if there is none,
// replays its log and reads its marks. An index built for another table or other fields is
// replaced by an empty one, so Position is empty and the runtime rebuilds.
func (s *Sink) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.open {
		return nil
	}
	idx, gen, marks, err := openDir(s.opts)
	if err != nil {
		return fmt.Errorf("opening search index in %s: %w", s.opts.Dir, err)
	}
	s.mu.open, s.mu.idx, s.mu.gen = true, idx, gen
	s.stale.Store(false)
	s.setMarks(marks)
	return nil
}

// Close closes the index after the Write and searches in flight.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.open = false
	if s.mu.idx == nil {
		return nil
	}
	err := s.mu.idx.Close()
	s.mu.idx = nil
	if err != nil {
		return fmt.Errorf("closing search index: %w", err)
	}
	return nil
}

// Write applies a batch: it appends the records it applies to the
// write-ahead log and syncs it, then applies them to the index in one
// batch that also carries the new per-shard marks. It returns once the
// records are durable (in the log) and searchable. Records at or below
// their shard's mark are skipped; records with Seq 0 (from a table scan)
// are applied and leave the marks alone.
func (s *Sink) Write(ctx context.Context, batch []sinks.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	idx, err := s.acquire()
	if err != nil {
		return &sinks.BackOffError{After: backOff, Err: err}
	}
	defer s.mu.RUnlock()

	marks := s.Position()
	b := idx.NewBatch()
	var logged []walRecord
	var failed *sinks.BatchError
	for i := range batch {
		r := &batch[i]
		if s.opts.Table != "" && r.Table != s.opts.Table {
			failed = &sinks.BatchError{Failed: map[int]error{i: fmt.Errorf("%w: %q, the index is for %q", ErrWrongTable, r.Table, s.opts.Table)}}
			break
		}
		if r.Seq > 0 && r.Seq <= marks[r.Shard] {
			continue // applied before: redelivery
		}
		id := string(r.Keys)
		if r.New == nil {
			b.Delete(id)
		} else {
			doc, err := s.document(id, r.New)
			if err == nil {
				err = b.IndexAdvanced(doc)
			}
			if err != nil {
				failed = &sinks.BatchError{Failed: map[int]error{i: fmt.Errorf("indexing record %s: %w", r.Key(), err)}}
				break
			}
		}
		logged = append(logged, walRecord{shard: r.Shard, seq: r.Seq, keys: r.Keys, new: r.New})
		if r.Seq > 0 {
			marks[r.Shard] = r.Seq
		}
	}
	if len(logged) > 0 {
		// Drop the log files the index persisted since the last Write. If
		// that fails, the next Write tries again.
		_ = idx.wal.trim(idx.syncIndex)
		if idx.wal.lagging() {
			// Bleve has not persisted for a long while (a full disk, say):
			// stop growing the log and memory until it catches up.
			return &sinks.BackOffError{After: backOff, Err: ErrBehind}
		}
		id, err := idx.wal.append(logged)
		if err != nil {
			s.stale.Store(true)
			return &sinks.BackOffError{After: backOff, Err: fmt.Errorf("writing the search index's log: %w", err)}
		}
		b.SetInternal(marksKey, encodeMarks(marks))
		b.SetPersistedCallback(func(err error) {
			if err == nil {
				idx.wal.persisted(id)
			}
		})
		if err := idx.Batch(b); err != nil {
			// Durable in the log: reopening replays it.
			s.stale.Store(true)
			return &sinks.BackOffError{After: backOff, Err: fmt.Errorf("writing search index: %w", err)}
		}
		s.setMarks(marks)
	}
	if failed != nil {
		return failed
	}
	return nil
}

// Position returns, per stream shard, the highest sequence number whose
// record is applied: durable and searchable.
func (s *Sink) Position() map[shards.ID]shards.Seq {
	s.pos.Lock()
	defer s.pos.Unlock()
	return maps.Clone(s.pos.marks)
}

// Wait returns once every shard in want has a mark at or above its sequence
// number (so a search sees those records), or when ctx ends.
func (s *Sink) Wait(ctx context.Context, want map[shards.ID]shards.Seq) error {
	for {
		s.pos.Lock()
		ok := true
		for sh, seq := range want {
			if s.pos.marks[sh] < seq {
				ok = false
				break
			}
		}
		changed := s.pos.changed
		s.pos.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Reset replaces the index by an empty one with no marks, before a rebuild.
// A crash during Reset leaves either the old index or the empty one.
func (s *Sink) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.open {
		return ErrClosed
	}
	idx, gen, err := replaceDir(s.opts, s.mu.idx, s.mu.gen)
	if err != nil {
		// replaceDir closed the old index: the next use opens whichever
		// generation CURRENT names, with its marks.
		s.mu.idx = nil
		return fmt.Errorf("resetting search index: %w", err)
	}
	s.mu.idx, s.mu.gen = idx, gen
	s.stale.Store(false)
	s.setMarks(map[shards.ID]shards.Seq{})
	return nil
}

// acquire returns the open index with s.mu held shared (the caller
// releases it), opening the index again from disk if its last use failed.
func (s *Sink) acquire() (*handle, error) {
	s.mu.RLock()
	if s.mu.idx != nil && !s.stale.Load() {
		return s.mu.idx, nil
	}
	s.mu.RUnlock()

	s.mu.Lock()
	err := s.reopenLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.mu.idx == nil {
		s.mu.RUnlock()
		return nil, ErrClosed // closed meanwhile
	}
	return s.mu.idx, nil
}

// reopenLocked replaces a stale or missing index by the one on disk, and
// the marks by its durable marks.
func (s *Sink) reopenLocked() error {
	if !s.mu.open {
		return ErrClosed
	}
	if s.mu.idx != nil && !s.stale.Load() {
		return nil
	}
	if s.mu.idx != nil {
		_ = s.mu.idx.Close() // it failed already; what it holds is reread
		s.mu.idx = nil
	}
	s.stale.Store(false)
	idx, gen, marks, err := openExisting(s.opts)
	if err != nil {
		return fmt.Errorf("reopening search index in %s: %w", s.opts.Dir, err)
	}
	s.mu.idx, s.mu.gen = idx, gen
	s.setMarks(marks)
	return nil
}

func (s *Sink) setMarks(m map[shards.ID]shards.Seq) {
	s.pos.Lock()
	defer s.pos.Unlock()
	s.pos.marks = m
	close(s.pos.changed)
	s.pos.changed = make(chan struct{})
}
