package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// This file is recovery: what Connect (and a Write after a failed one) does
// to learn, from the files, the high-water marks and whether the last write
// happened.

// manifestName is the manifest in the table's directory. The leading
// underscore makes Hive-style readers (DuckDB, Spark) skip it.
const manifestName = "_manifest.json"

const manifestVersion = 1

// manifest indexes the files: the high-water marks of every write before
// Pending, and the files Pending is about to make. It is written before
// those files; the files decide whether Pending happened.
type manifest struct {
	Version int                      `json:"version"`
	Table   string                   `json:"table"`
	Next    uint64                   `json:"next"` // the number of the next write
	HWM     map[shards.ID]shards.Seq `json:"hwm"`
	Pending *pending                 `json:"pending,omitempty"`
}

type pending struct {
	Write uint64   `json:"write"`
	Files []string `json:"files"` // slash-separated, under the table's directory
}

// writeManifest replaces the manifest, b, atomically and durably.
func (s *Sink) writeManifest(b []byte) error {
	path := filepath.Join(s.root, manifestName)
	if err := writeFile(path+tmpSuffix, b); err != nil {
		return err
	}
	if err := os.Rename(path+tmpSuffix, path); err != nil {
		return err
	}
	return syncDir(s.root)
}

// errCorrupt marks a manifest or file that cannot be decoded.
var errCorrupt = errors.New("analytics: corrupt")

func readManifest(root string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(root, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w manifest: %w", errCorrupt, err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("%w manifest: version %d", errCorrupt, m.Version)
	}
	return &m, nil
}

// recover sets the high-water marks and the next write number from the
// directory. With a manifest it reads only the last write's files; without
// one (or with a damaged one) it reads every file's footer.
func (s *Sink) recover() error {
	if err := s.hook("recover"); err != nil {
		return err
	}
	s.mu.dirs = map[string]bool{}
	if err := s.mkdirs(filepath.Join(s.root, stagingName)); err != nil {
		return s.backOff("creating "+s.root, err)
	}
	if err := s.clearStaging(); err != nil {
		return err
	}
	m, err := readManifest(s.root)
	switch {
	case err == nil && m.Table != s.opts.Table:
		return fmt.Errorf("analytics: the manifest in %s is table %q's", s.root, m.Table)
	case err == nil:
		err = s.resolve(m)
	case errors.Is(err, fs.ErrNotExist):
		err = s.scan()
	case errors.Is(err, errCorrupt):
		s.log.Warn("analytics manifest unreadable; reading every file", "table", s.opts.Table, "err", err)
		err = s.scan()
	default:
		return s.backOff("reading the manifest", err)
	}
	if err != nil {
		return err
	}
	s.mu.dirty = false
	return nil
}

// clearStaging removes the files a write left in the staging directory,
// and the manifest's temp file.
func (s *Sink) clearStaging() error {
	if err := os.Remove(filepath.Join(s.root, manifestName+tmpSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.backOff("removing the manifest's temp file", err)
	}
	dir := filepath.Join(s.root, stagingName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return s.backOff("reading "+dir, err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return s.backOff("removing a staged file", err)
		}
	}
	return nil
}

// resolve takes the manifest's high-water marks and decides its pending
// write: if all its files are there it happened, and their footers raise
// the marks; otherwise it did not, and the files it left are removed. Either
// way the directories are fsynced, so that the state recovery acts on is
// the state a later crash leaves.
func (s *Sink) resolve(m *manifest) error {
	hwm := maps.Clone(m.HWM)
	if hwm == nil {
		hwm = map[shards.ID]shards.Seq{}
	}
	next := m.Next
	dirs := []string{s.root}
	if p := m.Pending; p != nil {
		next = max(next, p.Write+1)
		var present []string
		for _, rel := range p.Files {
			path := filepath.Join(s.root, filepath.FromSlash(rel))
			_, err := os.Stat(path)
			switch {
			case err == nil:
				present = append(present, path)
			case !errors.Is(err, fs.ErrNotExist):
				return s.backOff("reading "+path, err)
			}
			if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
				if _, err := os.Stat(dir); err == nil {
					dirs = append(dirs, dir)
				}
			}
		}
		if len(present) == len(p.Files) {
			for _, path := range present {
				meta, err := s.readMeta(path)
				if err != nil {
					return err
				}
				if meta.write != p.Write {
					return fmt.Errorf("analytics: %s says write %d, the manifest %d", path, meta.write, p.Write)
				}
				raise(hwm, meta.ranges)
			}
		} else if len(present) > 0 {
			s.log.Warn("analytics write interrupted; removing its files", "table", s.opts.Table,
				"write", p.Write, "files", len(present), "of", len(p.Files))
			for _, path := range present {
				if err := os.Remove(path); err != nil {
					return s.backOff("removing "+path, err)
				}
			}
		}
	}
	if err := s.hook("resolved"); err != nil {
		return err
	}
	for _, dir := range dirs {
		if err := syncDir(dir); err != nil {
			return s.backOff("syncing "+dir, err)
		}
	}
	s.mu.hwm, s.mu.next = hwm, next
	return nil
}

// fileRE matches a data file's name: write number and part.
var fileRE = regexp.MustCompile(`^([0-9]{20})-([0-9]{6})\.parquet$`)

// scan reads every file's footer. Each footer names its write and how many
// files the write made; a write with fewer files present can only be the
// last one, interrupted, and its files are removed.
func (s *Sink) scan() error {
	type write struct {
		paths  []string
		parts  int
		ranges []map[shards.ID][2]uint64
	}
	writes := map[uint64]*write{}
	var dirs []string
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != s.root && name[0] == '_' {
				return filepath.SkipDir
			}
			dirs = append(dirs, path)
			return nil
		}
		if !fileRE.MatchString(name) {
			return nil
		}
		meta, err := s.readMeta(path)
		if err != nil {
			return err
		}
		w := writes[meta.write]
		if w == nil {
			w = &write{parts: meta.parts}
			writes[meta.write] = w
		}
		w.paths = append(w.paths, path)
		w.ranges = append(w.ranges, meta.ranges)
		return nil
	})
	if err != nil {
		if errors.Is(err, errCorrupt) {
			return err
		}
		var bo *sinks.BackOffError
		if errors.As(err, &bo) {
			return err
		}
		return s.backOff("reading "+s.root, err)
	}
	if len(writes) > 0 {
		s.log.Info("analytics manifest missing; read every file's footer", "table", s.opts.Table, "writes", len(writes))
	}
	hwm := map[shards.ID]shards.Seq{}
	var next uint64 = 1
	numbers := slices.Sorted(maps.Keys(writes))
	for i, n := range numbers {
		w := writes[n]
		next = n + 1
		if len(w.paths) == w.parts {
			for _, r := range w.ranges {
				raise(hwm, r)
			}
			continue
		}
		if i != len(numbers)-1 {
			return fmt.Errorf("analytics: write %d in %s has %d of its %d files, and later writes exist",
				n, s.root, len(w.paths), w.parts)
		}
		s.log.Warn("analytics write interrupted; removing its files", "table", s.opts.Table,
			"write", n, "files", len(w.paths), "of", w.parts)
		for _, path := range w.paths {
			if err := os.Remove(path); err != nil {
				return s.backOff("removing "+path, err)
			}
		}
	}
	for _, dir := range dirs {
		if err := syncDir(dir); err != nil {
			return s.backOff("syncing "+dir, err)
		}
	}
	s.mu.hwm, s.mu.next = hwm, next
	return nil
}

// raise sets each shard's mark to at least the last sequence of its range.
func raise(hwm map[shards.ID]shards.Seq, ranges map[shards.ID][2]uint64) {
	for sh, r := range ranges {
		hwm[sh] = max(hwm[sh], shards.Seq(r[1]))
	}
}

// fileMeta is what a file's footer says of it.
type fileMeta struct {
	table       string
	write       uint64
	part, parts int
	ranges      map[shards.ID][2]uint64 // per shard, the first and last sequence
}

// readMeta reads a data file's footer. An error of the file system asks
// to back off: the directory is unavailable. A footer that is not one of
// this table's files wraps errCorrupt: it needs a person.
func (s *Sink) readMeta(path string) (fileMeta, error) {
	m, err := readMeta(path)
	if err == nil && m.table != s.opts.Table {
		err = fmt.Errorf("%w file %s: of table %q", errCorrupt, path, m.table)
	}
	if err != nil && !errors.Is(err, errCorrupt) {
		return fileMeta{}, s.backOff("reading "+path, err)
	}
	return m, err
}

func readMeta(path string) (fileMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileMeta{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileMeta{}, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fileMeta{}, fmt.Errorf("%w file %s: %w", errCorrupt, path, err)
	}
	var m fileMeta
	var errs []error
	num := func(key string) uint64 {
		v, _ := pf.Lookup(key)
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("footer %s: %w", key, err))
		}
		return n
	}
	m.table, _ = pf.Lookup(metaTable)
	m.write = num(metaWrite)
	m.part = int(num(metaPart))
	m.parts = int(num(metaParts))
	ranges, _ := pf.Lookup(metaRanges)
	if err := json.Unmarshal([]byte(ranges), &m.ranges); err != nil {
		errs = append(errs, fmt.Errorf("footer %s: %w", metaRanges, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fileMeta{}, fmt.Errorf("%w file %s: %w", errCorrupt, path, err)
	}
	return m, nil
}
