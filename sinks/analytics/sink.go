package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sluicedb/sluice/engine/invariants"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// Options configure New.
type Options struct {
	// Dir is the root directory; a table's files go under Dir/<Table>/.
	// Created if missing.
	Dir string
	// Table is the table's name (DynamoDB's rules: 3 to 255 of a-z, A-Z,
	// 0-9, '_', '-', '.'). Every record written must belong to it.
	Table string
	// MaxRows bounds the rows of one file; 0 means 100,000. A Write whose
	// records of one hour are more makes several files.
	MaxRows int
	// BackOff is how long Write and Connect ask the runtime to wait when
	// the directory cannot be written or read; 0 means 5 seconds.
	BackOff time.Duration
	// Logger reports recoveries (a write rolled back, a full scan); nil
	// discards.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultMaxRows = 100_000
	DefaultBackOff = 5 * time.Second
)

// ErrNotConnected is returned by Write before Connect or after Close.
var ErrNotConnected = errors.New("analytics: sink is not connected")

// Sink writes a table's changes as Parquet files. Its methods may be called
// from several goroutines, but the runtime calls them one at a time.
type Sink struct {
	opts Options
	root string // Dir/<Table>
	log  *slog.Logger

	// fault, when set (by tests), is called at the steps of a write (see
	// commit) and of a recovery; an error it returns ends the step as if
	// the process had died there.
	fault func(point string) error

	mu struct {
		sync.Mutex
		connected bool
		// dirty: a write failed part way, so what is on disk is unknown
		// until recovery reads it again.
		dirty bool
		next  uint64                   // the number of the next write
		hwm   map[shards.ID]shards.Seq // per shard, the last sequence in a committed file
		dirs  map[string]bool          // directories known to exist durably
		enc   encoder
	}
}

var _ sinks.Sink = (*Sink)(nil)

// New returns the analytics sink of a table. It touches no file; Connect
// does.
func New(opts Options) (*Sink, error) {
	if opts.Dir == "" {
		return nil, errors.New("analytics: Options.Dir is required")
	}
	if !validTableName(opts.Table) {
		return nil, fmt.Errorf("analytics: %q is not a table name", opts.Table)
	}
	if opts.MaxRows < 0 || opts.BackOff < 0 {
		return nil, errors.New("analytics: Options.MaxRows and Options.BackOff must not be negative")
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.BackOff == 0 {
		opts.BackOff = DefaultBackOff
	}
	s := &Sink{opts: opts, root: filepath.Join(opts.Dir, opts.Table), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// validTableName checks DynamoDB's table name rules, which also make the
// name a safe directory name.
func validTableName(name string) bool {
	if len(name) < 3 || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// Dir is the directory of the table's files: Options.Dir/<Table>.
func (s *Sink) Dir() string { return s.root }

// Connect creates the table's directory if needed and recovers the
// high-water marks from it, finishing or rolling back a write that a crash
// interrupted (see doc.go).
func (s *Sink) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.recover(); err != nil {
		return err
	}
	s.mu.connected = true
	return nil
}

// Close ends the sink's use of the directory. Every Write that returned nil
// is durable already; there is nothing to flush.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.connected = false
	return nil
}

// Write writes the batch's records that are above their shard's high-water
// mark, one Parquet file per hour of commit time (more if an hour has more
// than MaxRows records), and returns once the files are durable. It writes
// them all or, after a failure, none (recovery removes a part written).
func (s *Sink) Write(ctx context.Context, batch []sinks.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mu.connected {
		return ErrNotConnected
	}
	if s.mu.dirty {
		if err := s.recover(); err != nil {
			return err
		}
	}

	// Skip what a file holds already: a redelivery.
	hwm := maps.Clone(s.mu.hwm)
	var keep []*sinks.Record
	for i := range batch {
		r := &batch[i]
		if r.Table != s.opts.Table {
			return fmt.Errorf("analytics: record %s in the sink of table %q", r.Key(), s.opts.Table)
		}
		last := hwm[r.Shard]
		if r.Seq <= last {
			if invariants.Enabled && r.Seq > s.mu.hwm[r.Shard] {
				panic(fmt.Sprintf("analytics: shard %d out of order in a batch: %d after %d", r.Shard, r.Seq, last))
			}
			continue
		}
		hwm[r.Shard] = r.Seq
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		return nil
	}

	w := s.mu.next
	if err := s.commit(w, s.plan(w, keep)); err != nil {
		return err
	}
	s.mu.hwm = hwm
	s.mu.next = w + 1
	return nil
}

// plan groups records by the UTC hour of their commit time, hours in
// order, and cuts each group into files of at most MaxRows rows, named
// after write w.
func (s *Sink) plan(w uint64, recs []*sinks.Record) []*file {
	byHour := map[int64][]*sinks.Record{} // by the hour's start, Unix seconds
	for _, r := range recs {
		h := r.Time.Truncate(time.Hour).Unix()
		byHour[h] = append(byHour[h], r)
	}
	var files []*file
	for _, h := range slices.Sorted(maps.Keys(byHour)) {
		t := time.Unix(h, 0).UTC()
		for chunk := range slices.Chunk(byHour[h], s.opts.MaxRows) {
			files = append(files, &file{
				rel:  fileName(t, w, len(files)+1),
				recs: chunk,
				part: len(files) + 1,
			})
		}
	}
	for _, f := range files {
		f.parts = len(files)
	}
	return files
}

// fileName is the path, under the table's directory, of part p of write w,
// whose records were committed in the hour that starts at t.
func fileName(t time.Time, w uint64, p int) string {
	return fmt.Sprintf("date=%s/hour=%02d/%020d-%06d.parquet", t.Format(time.DateOnly), t.Hour(), w, p)
}

// commit makes write w's files durable, all or none:
//
//  1. The manifest is replaced (temp file, fsync, rename, fsync of the
//     table's directory) by one that names w and its files as pending, with
//     the high-water marks from before w.
//  2. Meanwhile each file is encoded, written to the staging directory and
//     fsynced, and its hour's directory is created (durably).
//  3. When both are done, each file is renamed into its hour's directory.
//  4. Each hour's directory is fsynced.
//
// A crash or error at any point leaves a state that recovery resolves from
// the manifest and the files (see recover): all of w's files present means
// w happened; some missing means it did not, and recovery deletes the rest.
// Renaming only after step 1 is what makes the manifest name every file a
// crash can leave in an hour's directory.
func (s *Sink) commit(w uint64, files []*file) error {
	s.mu.dirty = true // until the last step succeeds
	m := manifest{Version: manifestVersion, Table: s.opts.Table, Next: w + 1, HWM: s.mu.hwm,
		Pending: &pending{Write: w}}
	for _, f := range files {
		m.Pending.Files = append(m.Pending.Files, f.rel)
	}
	b, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.writeManifest(b) }()
	err = s.stage(w, files)
	if merr := <-done; merr != nil && err == nil {
		err = s.backOff("writing the manifest", merr)
	}
	if err != nil {
		return err
	}
	if err := s.hook("manifest"); err != nil {
		return err
	}
	var dirs []string
	for _, f := range files {
		path := filepath.Join(s.root, filepath.FromSlash(f.rel))
		if err := os.Rename(s.staged(w, f), path); err != nil {
			return s.backOff("renaming "+path, err)
		}
		if err := s.hook("renamed"); err != nil {
			return err
		}
		if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		if err := syncDir(dir); err != nil {
			return s.backOff("syncing "+dir, err)
		}
	}
	s.mu.dirty = false
	return nil
}

// stage encodes write w's files into the staging directory, fsynced, and
// creates their hours' directories.
func (s *Sink) stage(w uint64, files []*file) error {
	for _, f := range files {
		b, err := s.mu.enc.encode(s.opts.Table, w, f)
		if err != nil {
			return fmt.Errorf("analytics: encoding %s: %w", f.rel, err)
		}
		if err := writeFile(s.staged(w, f), b); err != nil {
			return s.backOff("writing "+s.staged(w, f), err)
		}
		if err := s.hook("written"); err != nil {
			return err
		}
		dir := filepath.Dir(filepath.Join(s.root, filepath.FromSlash(f.rel)))
		if err := s.mkdirs(dir); err != nil {
			return s.backOff("creating "+dir, err)
		}
	}
	return nil
}

// staged is where file f of write w is written before its rename.
func (s *Sink) staged(w uint64, f *file) string {
	return filepath.Join(s.root, stagingName, fmt.Sprintf("%020d-%06d.parquet%s", w, f.part, tmpSuffix))
}

// stagingName is the directory, in the table's, of the files being
// written. Recovery empties it.
const stagingName = "_staging"

const tmpSuffix = ".tmp"

func (s *Sink) hook(point string) error {
	if s.fault == nil {
		return nil
	}
	return s.fault(point)
}

// backOff wraps an error of the file system: the directory is unavailable
// (permissions, a full disk) and the runtime should wait.
func (s *Sink) backOff(what string, err error) error {
	return &sinks.BackOffError{After: s.opts.BackOff, Err: fmt.Errorf("analytics: %s: %w", what, err)}
}

// mkdirs creates dir and its missing parents, each made durable by an fsync
// of its parent.
func (s *Sink) mkdirs(dir string) error {
	if s.mu.dirs[dir] {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(dir)
		if parent != dir {
			if err := s.mkdirs(parent); err != nil {
				return err
			}
		}
		if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	s.mu.dirs[dir] = true
	return nil
}

// writeFile writes data to a new file at path and fsyncs it.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
