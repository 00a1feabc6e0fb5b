package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, recs := range [][]walRecord{
		{{shard: 0, seq: 1, keys: []byte(`{"id":{"S":"a"}}`), new: []byte(`{"id":{"S":"a"}}`)}},
		{{shard: 1<<32 - 1, seq: 1<<64 - 1, keys: []byte("k")}, {shard: 3, seq: 0, keys: []byte("k2"), new: []byte("{}")}},
	} {
		frame := encodeFrame(recs)
		var got [][]walRecord
		path := filepath.Join(t.TempDir(), "f.log")
		if err := os.WriteFile(path, frame, 0o644); err != nil {
			t.Fatal(err)
		}
		off, err := readWAL(path, func(r []walRecord) error { got = append(got, r); return nil })
		if err != nil || off != int64(len(frame)) || len(got) != 1 || !reflect.DeepEqual(got[0], recs) {
			t.Errorf("readWAL(encodeFrame(%v)) = %v at %d, %v", recs, got, off, err)
		}
	}
}

// FuzzWALFrame: decoding a payload never panics, and one that decodes
// encodes back to the same bytes.
func FuzzWALFrame(f *testing.F) {
	f.Add(encodeFrame([]walRecord{{shard: 2, seq: 9, keys: []byte("k"), new: []byte("v")}})[walHeader:])
	f.Add(encodeFrame([]walRecord{{shard: 2, seq: 9, keys: []byte("k")}, {keys: []byte("")}})[walHeader:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		recs, err := decodeFrame(p)
		if err != nil {
			return
		}
		if again := encodeFrame(recs)[walHeader:]; !bytes.Equal(again, p) {
			t.Fatalf("decodeFrame(%x) = %v, which encodes as %x", p, recs, again)
		}
	})
}

// logFiles lists the log files of the live generation under dir.
func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	gen, err := readCurrent(dir)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, gen, walDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWALTornTail(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	write(t, s, put(0, 1, "a", book("a", "first", "1")))
	write(t, s, put(0, 2, "b", book("b", "second", "1")))
	gen, _ := readCurrent(dir)
	files := logFiles(t, dir)
	last := filepath.Join(dir, gen, walDir, files[len(files)-1])
	closeSink(t, s)

	// Half a frame at the end, as a crash in the middle of a write leaves:
	// it was never acknowledged, and is cut off.
	frame := encodeFrame([]walRecord{{shard: 0, seq: 3, keys: key("c"), new: []byte(book("c", "torn", "1"))}})
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.Seek(0, 2)
	if _, err := f.Write(frame[:len(frame)-3]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = open(t, dir)
	defer closeSink(t, s)
	if got := ids(t, s, ""); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after a torn frame: Search = %v, want [a b]", got)
	}
	if fi, err := os.Stat(last); err != nil || fi.Size() != before {
		t.Errorf("the torn frame was not cut off: %v, %v (want size %d)", fi.Size(), err, before)
	}
	write(t, s, put(0, 3, "c", book("c", "third", "1")))
	if got := ids(t, s, "third"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after appending again: Search = %v, want [c]", got)
	}
}

func TestWALCorruptionInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	write(t, s, put(0, 1, "a", book("a", "first", "1")))
	closeSink(t, s)
	s = open(t, dir) // a second file: the first is no longer the last
	write(t, s, put(0, 2, "b", book("b", "second", "1")))
	gen, _ := readCurrent(dir)
	files := logFiles(t, dir)
	s.Close(context.Background())
	if len(files) < 2 {
		t.Skipf("the index persisted and dropped the first log file already: %v", files)
	}
	first := filepath.Join(dir, gen, walDir, files[0])
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(first, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = New(Options{Dir: dir, Table: books, Fields: []string{"title", "price", "tags"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background()); err == nil {
		s.Close(context.Background())
		t.Fatal("Connect accepted a log whose first file is damaged before its end")
	}
}

func TestWALTrim(t *testing.T) {
	defer func(r int64) { walRotate = r }(walRotate)
	walRotate = 1 // a file per frame
	dir := t.TempDir()
	s := open(t, dir)
	for i := range 50 {
		write(t, s, put(shards.ID(i%2), shards.Seq(i/2+1), "a", book("a", "version", "1")))
	}
	// Bleve persists in the background; each Write drops the files it
	// reports persisted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		write(t, s, put(5, 0, "z", book("z", "nudge", "1")))
		if n := len(logFiles(t, dir)); n <= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log files left: %v", logFiles(t, dir))
		}
		time.Sleep(10 * time.Millisecond)
	}
	closeSink(t, s)
	s = open(t, dir)
	defer closeSink(t, s)
	if p := s.Position(); !reflectEqual(p, map[shards.ID]shards.Seq{0: 25, 1: 25}) {
		t.Errorf("Position after trimming and reopening = %v", p)
	}
	if got := ids(t, s, ""); !slices.Equal(got, []string{"a", "z"}) {
		t.Errorf("after trimming and reopening: Search = %v, want [a z]", got)
	}
}

func reflectEqual(a, b map[shards.ID]shards.Seq) bool { return reflect.DeepEqual(a, b) }

func TestWALFilesGap(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{3, 4, 6, 7, 8} {
		if err := os.WriteFile(filepath.Join(dir, walName(n)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := walFiles(dir)
	if err != nil || !slices.Equal(got, []int{6, 7, 8}) {
		t.Errorf("walFiles = %v, %v; want the files after the gap, [6 7 8]", got, err)
	}
}

// TestReplayOrder: replaying the log over an index that holds an earlier
// prefix of the same history ends in the state after the last record,
// marks included: the log is applied whole and in order.
func TestReplayOrder(t *testing.T) {
	var recs []sinks.Record
	for i := range 30 {
		if i%7 == 6 {
			recs = append(recs, del(0, shards.Seq(i+1), "x"))
		} else {
			recs = append(recs, put(0, shards.Seq(i+1), "x", book("x", fmt.Sprintf("v%d", i), "1")))
		}
	}
	recs = append(recs, put(1, 0, "scan", book("scan", "scanned", "1")))

	// full: the whole history, one record per Write (a frame each).
	full := t.TempDir()
	s := open(t, full)
	for _, r := range recs {
		write(t, s, r)
	}
	closeSink(t, s)
	// partial: the first 12 records, then the full history's log instead
	// of its own.
	partial := t.TempDir()
	s = open(t, partial)
	write(t, s, recs[:12]...)
	closeSink(t, s)
	gen, _ := readCurrent(partial)
	if err := os.RemoveAll(filepath.Join(partial, gen, walDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(partial, gen, walDir), os.DirFS(filepath.Join(full, gen, walDir))); err != nil {
		t.Fatal(err)
	}
	if n := len(logFiles(t, partial)); n == 0 {
		t.Fatal("no log to replay")
	}

	s = open(t, partial)
	defer closeSink(t, s)
	if got := ids(t, s, ""); !slices.Equal(got, []string{"scan", "x"}) {
		t.Errorf("after replay: Search = %v, want [scan x]", got)
	}
	if got := ids(t, s, "v29"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("after replay: x is not at its last image: Search(v29) = %v", got)
	}
	if p := s.Position(); !reflectEqual(p, map[shards.ID]shards.Seq{0: 30}) {
		t.Errorf("Position after replay = %v, want 0:30", p)
	}
}

func TestWriteBacksOffWhenIndexIsBehind(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	w := s.mu.idx.wal
	w.mu.Lock()
	saved := slices.Clone(w.mu.files)
	for i := range walMaxFiles {
		// Files the index has not persisted, before the current one.
		w.mu.files = slices.Insert(w.mu.files, 0, walFile{num: -i, next: 1 << 62})
	}
	w.mu.Unlock()
	err := s.Write(context.Background(), []sinks.Record{put(0, 1, "a", book("a", "one", "1"))})
	if !errors.Is(err, ErrBehind) || !errors.Is(err, sinks.ErrBackOff) {
		t.Fatalf("Write with the index far behind = %v, want ErrBehind and a back-off", err)
	}
	w.mu.Lock()
	w.mu.files = saved
	w.mu.Unlock()
	write(t, s, put(0, 1, "a", book("a", "one", "1")))
}
