package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/sluicedb/sluice/shards"
)

// The layout of Options.Dir (see the package doc):
//
//	CURRENT               the name of the live generation, e.g. "index-000002\n"
//	index-000002/bleve/   a Bleve (scorch) index: index_meta.json, store/
//	index-000002/wal/     the write-ahead log (wal.go)
const (
	currentFile = "CURRENT"
	genPrefix   = "index-"
	bleveDir    = "bleve"
	walDir      = "wal"
)

// Bleve internal keys, stored in the same snapshots as the documents.
var (
	marksKey  = []byte("sluice.marks")  // JSON {"<shard>": <seq>, ...}
	configKey = []byte("sluice.config") // JSON indexConfig
)

// indexConfig is what an index was built for; a sink with other Options
// starts an empty index.
type indexConfig struct {
	Table  string   `json:"table"`
	Fields []string `json:"fields"`
}

// handle is an open generation: the Bleve index and its log. Its Close
// may be called more than once; the second call of Bleve's own panics.
type handle struct {
	bleve.Index
	wal  *wal
	path string // the generation's directory
	once sync.Once
	err  error
}

func (h *handle) Close() error {
	h.once.Do(func() {
		h.err = h.Index.Close()
		if h.wal != nil {
			if err := h.wal.close(); h.err == nil {
				h.err = err
			}
		}
	})
	return h.err
}

// syncIndex syncs the directory of the index's segment files: Bleve
// fsyncs a segment and the bolt snapshot naming it, not the directory
// entry; this is done before log files are dropped.
func (h *handle) syncIndex() error {
	return syncPath(filepath.Join(h.path, bleveDir, "store"))
}

// scorchConfig is given to Bleve when it creates or opens an index.
// unsafe_batch true: Batch returns once the batch is searchable, and the
// persister writes it later (the log makes a Write durable; Bleve's
// persisted callback says when a batch no longer needs the log).
// PersisterNapTimeMSec: the persister waits 50 ms between rounds, as
// Bleve advises with unsafe batches, so a round writes one segment for
// many batches: fewer files, fsyncs and merges to compete with Writes on
// a small machine, for a log kept 50 ms longer. bolt_timeout: a second
// process on the same directory fails instead of waiting forever for the
// file lock.
func scorchConfig() map[string]any {
	return map[string]any{
		"unsafe_batch":           true,
		"scorchPersisterOptions": map[string]any{"PersisterNapTimeMSec": 50},
		"bolt_timeout":           "5s",
	}
}

// openDir opens the live index under opts.Dir, or makes one. An index
// built for other options is replaced by an empty one. Directories that
// CURRENT does not name (left by a Reset that crashed) are removed.
func openDir(opts Options) (*handle, string, map[shards.ID]shards.Seq, error) {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, "", nil, err
	}
	gen, err := readCurrent(opts.Dir)
	if err != nil {
		return nil, "", nil, err
	}
	if gen == "" {
		if err := removeOthers(opts.Dir, ""); err != nil {
			return nil, "", nil, err
		}
		idx, gen, err := replaceDir(opts, nil, "")
		return idx, gen, map[shards.ID]shards.Seq{}, err
	}
	idx, gen, marks, err := openExisting(opts)
	if err != nil {
		return nil, "", nil, err
	}
	cfg, err := readConfig(idx)
	if err != nil {
		_ = idx.Close()
		return nil, "", nil, err
	}
	if cfg.Table != opts.Table || !slices.Equal(cfg.Fields, opts.Fields) {
		idx, gen, err = replaceDir(opts, idx, gen)
		return idx, gen, map[shards.ID]shards.Seq{}, err
	}
	return idx, gen, marks, nil
}

// openExisting opens the index CURRENT names and reads its marks.
func openExisting(opts Options) (*handle, string, map[shards.ID]shards.Seq, error) {
	gen, err := readCurrent(opts.Dir)
	if err != nil {
		return nil, "", nil, err
	}
	if gen == "" {
		return nil, "", nil, fmt.Errorf("no %s file in %s", currentFile, opts.Dir)
	}
	if err := removeOthers(opts.Dir, gen); err != nil {
		return nil, "", nil, err
	}
	path := filepath.Join(opts.Dir, gen)
	bi, err := bleve.OpenUsing(filepath.Join(path, bleveDir), scorchConfig())
	if err != nil {
		return nil, "", nil, err
	}
	idx := &handle{Index: bi, path: path}
	raw, err := idx.GetInternal(marksKey)
	if err != nil {
		_ = idx.Close()
		return nil, "", nil, err
	}
	marks, err := decodeMarks(raw)
	if err != nil {
		_ = idx.Close()
		return nil, "", nil, err
	}
	if idx.wal, err = replay(idx, filepath.Join(path, walDir), opts.Fields, marks); err != nil {
		_ = idx.Close()
		return nil, "", nil, err
	}
	return idx, gen, marks, nil
}

// replay opens the log and applies all its frames, in order and in
// batches of up to replayBatch records, to the index, moving marks.
// Applying every frame, also those the index persisted already, is
// right: the log holds a suffix of the index's history that starts at or
// before the index's persisted state, and every record sets an item's whole
// image, so replaying it in order ends in the state after the last frame.
func replay(idx *handle, dir string, fields []string, marks map[shards.ID]shards.Seq) (*wal, error) {
	const replayBatch = 1000
	b := idx.NewBatch()
	var pending int
	var last uint64
	flush := func(w *wal) error {
		if pending == 0 {
			return nil
		}
		b.SetInternal(marksKey, encodeMarks(marks))
		id := last
		b.SetPersistedCallback(func(err error) {
			if err == nil {
				w.persisted(id)
			}
		})
		if err := idx.Batch(b); err != nil {
			return err
		}
		b, pending = idx.NewBatch(), 0
		return nil
	}
	w, err := openWAL(dir, func(w *wal, id uint64, recs []walRecord) error {
		for _, r := range recs {
			id := string(r.keys)
			if r.new == nil {
				b.Delete(id)
			} else {
				doc, err := buildDocument(fields, id, r.new)
				if err != nil {
					return err
				}
				if err := b.IndexAdvanced(doc); err != nil {
					return err
				}
			}
			if r.seq > 0 {
				marks[r.shard] = max(marks[r.shard], r.seq)
			}
		}
		last = id
		if pending += len(recs); pending >= replayBatch {
			return flush(w)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := flush(w); err != nil {
		_ = w.close()
		return nil, err
	}
	return w, nil
}

// replaceDir makes a new, empty index generation, durably, and points
// CURRENT at it; then it removes the old generation's directory. It closes
// old (if not nil) in any case: on an error the caller opens whatever
// CURRENT names, the old generation or the new one.
func replaceDir(opts Options, old *handle, oldGen string) (*handle, string, error) {
	if old != nil {
		// Superseded, or reopened from disk after an error; closing it
		// first also keeps a failed Reset from leaving it open.
		_ = old.Close()
	}
	n := 0
	if oldGen != "" {
		var err error
		if n, err = strconv.Atoi(strings.TrimPrefix(oldGen, genPrefix)); err != nil {
			return nil, "", fmt.Errorf("index directory %q: %w", oldGen, err)
		}
	}
	gen := fmt.Sprintf("%s%06d", genPrefix, n+1)
	path := filepath.Join(opts.Dir, gen)
	if err := os.RemoveAll(path); err != nil {
		return nil, "", err
	}
	idx, err := create(path, opts)
	if err != nil {
		_ = os.RemoveAll(path)
		return nil, "", err
	}
	if err := writeCurrent(opts.Dir, gen); err != nil {
		_ = idx.Close()
		return nil, "", err
	}
	if oldGen != "" {
		if err := os.RemoveAll(filepath.Join(opts.Dir, oldGen)); err != nil {
			_ = idx.Close()
			return nil, "", err
		}
	}
	return idx, gen, nil
}

// createTimeout bounds the wait for a new index to persist.
const createTimeout = 30 * time.Second

// create makes an empty index at path recording opts, and syncs what Bleve
// leaves unsynced (index_meta.json and the directories).
func create(path string, opts Options) (*handle, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	bi, err := bleve.NewUsing(filepath.Join(path, bleveDir), newMapping(), scorch.Name, scorch.Name, scorchConfig())
	if err != nil {
		return nil, err
	}
	idx := &handle{Index: bi, path: path}
	cfg, err := json.Marshal(indexConfig{Table: opts.Table, Fields: opts.Fields})
	if err != nil {
		_ = idx.Close()
		return nil, err
	}
	// Wait for this batch to persist: with it, the mapping Bleve set
	// before it.
	b := idx.NewBatch()
	b.SetInternal(configKey, cfg)
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := idx.Batch(b); err != nil {
		_ = idx.Close()
		return nil, err
	}
	select {
	case err = <-done:
	case <-time.After(createTimeout):
		err = errors.New("the new index did not persist in time")
	}
	if err != nil {
		_ = idx.Close()
		return nil, err
	}
	if idx.wal, err = openWAL(filepath.Join(path, walDir), nil); err != nil {
		_ = idx.Close()
		return nil, err
	}
	for _, p := range []string{
		filepath.Join(path, bleveDir, "index_meta.json"),
		filepath.Join(path, bleveDir, "store"),
		filepath.Join(path, bleveDir),
		path,
	} {
		if err := syncPath(p); err != nil {
			_ = idx.Close()
			return nil, err
		}
	}
	return idx, nil
}

// newMapping is the index mapping. Documents are built by hand (see
// document), so the mapping serves queries only: its default analyzer
// (standard) analyzes the words of a query as the documents' text was
// analyzed, and its default search field is the composite _all.
func newMapping() *mapping.IndexMappingImpl {
	m := bleve.NewIndexMapping()
	m.DefaultMapping.Dynamic = false
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

func readConfig(idx *handle) (indexConfig, error) {
	var cfg indexConfig
	raw, err := idx.GetInternal(configKey)
	if err != nil || raw == nil {
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("reading the index's configuration: %w", err)
	}
	return cfg, nil
}

func encodeMarks(m map[shards.ID]shards.Seq) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("search: encoding marks: %v", err)) // a map of integers always encodes
	}
	return b
}

func decodeMarks(raw []byte) (map[shards.ID]shards.Seq, error) {
	m := map[shards.ID]shards.Seq{}
	if raw == nil {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading the index's marks: %w", err)
	}
	return m, nil
}

// readCurrent returns the generation CURRENT names, "" if there is no
// CURRENT.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	gen := strings.TrimSpace(string(b))
	if !validGen(gen) {
		return "", fmt.Errorf("%s names %q, not an index directory", currentFile, gen)
	}
	return gen, nil
}

func validGen(name string) bool {
	n, ok := strings.CutPrefix(name, genPrefix)
	if !ok || len(n) == 0 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// writeCurrent points CURRENT at gen atomically: a synced temporary file
// renamed over it, then the directory synced.
func writeCurrent(dir, gen string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(gen + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, currentFile)); err != nil {
		return err
	}
	return syncPath(dir)
}

// removeOthers removes the index directories other than keep, and a
// temporary CURRENT.
func removeOthers(dir, keep string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if name == keep || !(validGen(name) || name == currentFile+".tmp") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
