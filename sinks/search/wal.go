package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicedb/sluice/shards"
)

// The write-ahead log makes a Write durable with one fsync; the Bleve
// index behind it persists on its own schedule. A frame holds one Write's
// applied records; the package doc shows the frame and file layout. Files
// are wal/<8 digits>.log, numbered upwards; the last is appended to, and
// replaced by a new one past walRotate bytes. A file goes once Bleve
// reports every batch of its frames persisted.
const (
	walMagic  = 0xB1
	walHeader = 1 + 4 + 4
	// walMaxFrame bounds a frame a reader accepts: more than any batch of
	// DynamoDB items (400 KB each) the runtime sends.
	walMaxFrame = 1 << 30
)

// walRotate is the size past which appends go to a new file (a variable
// for tests).
var walRotate int64 = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// walRecord is a record as the log keeps it: what the index needs.
type walRecord struct {
	shard shards.ID
	seq   shards.Seq
	keys  []byte
	new   []byte // nil: a delete
}

type wal struct {
	dir string

	mu struct {
		sync.Mutex
		f     *os.File // the file appended to
		size  int64
		files []walFile // oldest first; the last is f
		next  uint64    // the id of the next frame
	}
	// durable: every frame with a smaller id is persisted in the index.
	durable atomic.Uint64
}

type walFile struct {
	num  int
	next uint64 // the id after its last frame
}

func walName(num int) string { return fmt.Sprintf("%08d.log", num) }

// openWAL opens the log in dir (made if missing), cuts a torn frame off
// the end of the last file, and calls replay with the frames of every file
// in order, each frame with its id. Frames are appended after the last.
func openWAL(dir string, replay func(w *wal, id uint64, recs []walRecord) error) (*wal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	nums, err := walFiles(dir)
	if err != nil {
		return nil, err
	}
	w := &wal{dir: dir}
	w.mu.next = 1 // 0 stays below every id, for durable
	for i, num := range nums {
		last := i == len(nums)-1
		good, err := readWAL(filepath.Join(dir, walName(num)), func(recs []walRecord) error {
			id := w.mu.next
			w.mu.next++
			return replay(w, id, recs)
		})
		if err != nil && !(last && errors.Is(err, errTorn)) {
			return nil, fmt.Errorf("reading %s: %w", walName(num), err)
		}
		if err != nil {
			// A frame whose write a crash interrupted: never acknowledged.
			if err := truncate(filepath.Join(dir, walName(num)), good); err != nil {
				return nil, err
			}
		}
		w.mu.files = append(w.mu.files, walFile{num: num, next: w.mu.next})
	}
	next := 1
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	// Append to a new file: the old ones end on a whole frame and go once
	// the index persisted what replay gave it.
	if err := w.startFile(next); err != nil {
		return nil, err
	}
	return w, nil
}

// walFiles lists the numbers of the log files in dir, in order, from the
// last gap on: a gap means files were removed after their frames were
// persisted, and so were those of any file before it.
func walFiles(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(base)
		if err != nil || walName(n) != e.Name() {
			continue
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for i := len(nums) - 1; i > 0; i-- {
		if nums[i-1] != nums[i]-1 {
			return nums[i:], nil
		}
	}
	return nums, nil
}

// truncate cuts the file at size, durably: a torn frame that came back
// after a crash would sit before the next file's frames.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var errTorn = errors.New("torn frame at the end of the log")

// readWAL calls fn with each frame's records, and returns the offset after
// the last whole frame. A frame cut short or failing its checksum is
// errTorn; a frame that checks and does not decode is corruption.
func readWAL(path string, fn func([]walRecord) error) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	var hdr [walHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return off, nil
		} else if err != nil {
			return off, errTorn
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if hdr[0] != walMagic || n == 0 || n > walMaxFrame || off+walHeader+int64(n) > fi.Size() {
			return off, errTorn
		}
		payload := make([]byte, n) // the records alias it
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, errTorn
		}
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(hdr[5:]) {
			return off, errTorn
		}
		recs, err := decodeFrame(payload)
		if err != nil {
			return off, err
		}
		if err := fn(recs); err != nil {
			return off, err
		}
		off += walHeader + int64(n)
	}
}

// append writes one frame and syncs it; it returns the frame's id.
func (w *wal) append(recs []walRecord) (uint64, error) {
	frame := encodeFrame(recs)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.f == nil {
		return 0, ErrClosed
	}
	if _, err := w.mu.f.Write(frame); err != nil {
		return 0, err
	}
	if err := w.mu.f.Sync(); err != nil {
		return 0, err
	}
	id := w.mu.next
	w.mu.next++
	w.mu.size += int64(len(frame))
	w.mu.files[len(w.mu.files)-1].next = w.mu.next
	if w.mu.size >= walRotate {
		if err := w.startFile(w.mu.files[len(w.mu.files)-1].num + 1); err != nil {
			return id, err // the frame is durable; the next append retries
		}
	}
	return id, nil
}

// walMaxFiles bounds the log files kept for frames the index has not
// persisted (walRotate bytes each) before Write backs off.
const walMaxFiles = 64

// lagging reports whether the index is walMaxFiles files behind the log.
func (w *wal) lagging() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.mu.files) > walMaxFiles
}

// persisted records that the index persisted every frame up to id.
func (w *wal) persisted(id uint64) {
	for {
		cur := w.durable.Load()
		if id+1 <= cur || w.durable.CompareAndSwap(cur, id+1) {
			return
		}
	}
}

// trim removes the files whose frames the index has all persisted, but
// never the one appended to. syncIndex first makes the index's own files
// durable in their directory.
func (w *wal) trim(syncIndex func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	durable := w.durable.Load()
	n := 0
	for n < len(w.mu.files)-1 && w.mu.files[n].next <= durable {
		n++
	}
	if n == 0 {
		return nil
	}
	if err := syncIndex(); err != nil {
		return err
	}
	for _, f := range w.mu.files[:n] {
		if err := os.Remove(filepath.Join(w.dir, walName(f.num))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	w.mu.files = slices.Delete(w.mu.files, 0, n)
	// A removal lost to a crash would leave an old file before a gap,
	// which walFiles ignores; syncing keeps the directory simple anyway.
	return syncPath(w.dir)
}

// startFile makes file num the one appended to (w.mu held, or w not yet
// shared).
func (w *wal) startFile(num int) error {
	f, err := os.OpenFile(filepath.Join(w.dir, walName(num)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := syncPath(w.dir); err != nil {
		_ = f.Close()
		return err
	}
	if w.mu.f != nil {
		_ = w.mu.f.Close() // synced after its last frame
	}
	w.mu.f, w.mu.size = f, 0
	w.mu.files = append(w.mu.files, walFile{num: num, next: w.mu.next})
	return nil
}

func (w *wal) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.f == nil {
		return nil
	}
	err := w.mu.f.Close()
	w.mu.f = nil
	return err
}

func encodeFrame(recs []walRecord) []byte {
	b := make([]byte, walHeader, walHeader+64*len(recs))
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = binary.AppendUvarint(b, uint64(r.shard))
		b = binary.AppendUvarint(b, uint64(r.seq))
		b = binary.AppendUvarint(b, uint64(len(r.keys)))
		b = append(b, r.keys...)
		if r.new == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(r.new)))
		b = append(b, r.new...)
	}
	payload := b[walHeader:]
	b[0] = walMagic
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[5:], crc32.Checksum(payload, crcTable))
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

var errFrame = errors.New("search: malformed log frame")

func decodeFrame(p []byte) ([]walRecord, error) {
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 || n != uvarintLen(v) { // overlong: not what encodeFrame writes
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	bytes := func() ([]byte, bool) {
		n, ok := uv()
		if !ok || n > uint64(len(p)) {
			return nil, false
		}
		b := p[:n:n]
		p = p[n:]
		return b, true
	}
	count, ok := uv()
	if !ok || count == 0 || count > uint64(len(p)) {
		return nil, errFrame
	}
	recs := make([]walRecord, 0, count)
	for range count {
		var r walRecord
		sh, ok1 := uv()
		seq, ok2 := uv()
		keys, ok3 := bytes()
		if !ok1 || !ok2 || !ok3 || sh > 1<<32-1 || len(p) == 0 {
			return nil, errFrame
		}
		r.shard, r.seq, r.keys = shards.ID(sh), shards.Seq(seq), keys
		kind := p[0]
		p = p[1:]
		switch kind {
		case 0:
		case 1:
			img, ok := bytes()
			if !ok {
				return nil, errFrame
			}
			r.new = img
		default:
			return nil, errFrame
		}
		recs = append(recs, r)
	}
	if len(p) != 0 {
		return nil, errFrame
	}
	return recs, nil
}
