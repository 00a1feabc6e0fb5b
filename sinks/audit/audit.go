// Package audit is the audit sink: an append-only JSON Lines log of a
// table's changes in which each line holds the change, who made it, and
// the SHA-256 of the line before it, so that altering, removing or
// reordering any line breaks the chain (Verify finds the first bad line).
//
// # Files
//
// The log of a table is <Dir>/<table>.jsonl. Each line is one JSON object:
//
//	{"table":"Orders","shard":2,"seq":"000000000000000000017","eventName":"MODIFY",
//	 "time":"2026-11-21T08:30:15.123456789Z","keys":{...},"oldImage":{...},"newImage":{...},
//	 "who":{"accessKeyId":"AKID","sourceAddress":"10.0.0.7:51234","requestId":"..."},
//	 "transactionId":"...","prev":"<hex SHA-256 of the previous line>"}
//
// "who" is {"type":"Service","principalId":"dynamodb.amazonaws.com"} for a
// TTL deletion. The first line's "prev" is the SHA-256 of the empty string.
// The hash covers the line's bytes without its newline.
//
// Beside the log, <table>.jsonl.head holds {"lines":N,"last":"<hex SHA-256
// of line N>"}, replaced atomically after each append, so that removing or
// altering the last lines is found too.
//
// # Guarantees
//
// Write returns once its lines are fsynced. Exactly once: on Connect the
// sink reads its log and learns, per shard, the highest sequence number it
// holds; a record at or below it (a redelivery) is not written again. A
// line cut short by a crash (no newline) was never acknowledged and is cut
// off on Connect.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// Options configure New.
type Options struct {
	Dir   string // the directory of the logs; created if missing
	Table string
}

// Sink appends a table's changes to its audit log.
type Sink struct {
	opts Options
	path string

	f     *os.File
	lines int64
	last  [sha256.Size]byte
	hwm   map[shards.ID]shards.Seq
	buf   []byte

	// fault, when set (by tests), fails appends with its error.
	fault func() error
}

// New returns the audit sink of a table.
func New(opts Options) (*Sink, error) {
	if opts.Dir == "" || opts.Table == "" {
		return nil, errors.New("audit: Options.Dir and Options.Table are required")
	}
	return &Sink{opts: opts, path: filepath.Join(opts.Dir, opts.Table+".jsonl")}, nil
}

// Path is the log's file.
func (s *Sink) Path() string { return s.path }

// Connect opens the log, cutting off a line a crash left incomplete, and
// reads the chain's end and each shard's high-water mark.
func (s *Sink) Connect(context.Context) error {
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return backOff(err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return backOff(err)
	}
	s.hwm = map[shards.ID]shards.Seq{}
	s.last = sha256.Sum256(nil)
	s.lines = 0
	r := bufio.NewReaderSize(f, 1<<20)
	var good int64 // bytes of complete lines
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // a partial last line, if any, is dropped below
		}
		if err != nil {
			f.Close()
			return backOff(err)
		}
		body := line[:len(line)-1]
		var l struct {
			Shard shards.ID `json:"shard"`
			Seq   string    `json:"seq"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			f.Close()
			return fmt.Errorf("audit: %s line %d: %w", s.path, s.lines+1, err)
		}
		seq, err := shards.ParseSeq(l.Seq)
		if err != nil {
			f.Close()
			return fmt.Errorf("audit: %s line %d: %w", s.path, s.lines+1, err)
		}
		s.hwm[l.Shard] = max(s.hwm[l.Shard], seq)
		s.last = sha256.Sum256(body)
		s.lines++
		good += int64(len(line))
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return backOff(err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return backOff(err)
	}
	s.f = f
	return s.writeHead()
}

// Write appends the records not yet in the log and fsyncs it.
func (s *Sink) Write(ctx context.Context, batch []sinks.Record) error {
	if s.f == nil {
		// After a failed append: open the log again, which cuts off what
		// part of the failed append reached it.
		if err := s.Connect(ctx); err != nil {
			return err
		}
	}
	s.buf = s.buf[:0]
	last, lines := s.last, s.lines
	hwm := map[shards.ID]shards.Seq{}
	for i := range batch {
		r := &batch[i]
		if r.Seq == 0 {
			continue // a snapshot is not a change
		}
		if r.Seq <= max(s.hwm[r.Shard], hwm[r.Shard]) {
			continue // already in the log
		}
		start := len(s.buf)
		s.buf = appendLine(s.buf, r, last)
		last = sha256.Sum256(s.buf[start:])
		s.buf = append(s.buf, '\n')
		lines++
		hwm[r.Shard] = r.Seq
	}
	if len(s.buf) == 0 {
		return nil
	}
	if s.fault != nil {
		if err := s.fault(); err != nil {
			return s.failed(err)
		}
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return s.failed(err)
	}
	if err := s.f.Sync(); err != nil {
		return s.failed(err)
	}
	s.last, s.lines = last, lines
	for sh, q := range hwm {
		s.hwm[sh] = q
	}
	return s.writeHead()
}

// failed closes the log after a failed append: Connect cuts off whatever
// part of it reached the file.
func (s *Sink) failed(err error) error {
	s.f.Close()
	s.f = nil
	return backOff(err)
}

// Close closes the log.
func (s *Sink) Close(context.Context) error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// head is the <log>.head file.
type head struct {
	Lines int64  `json:"lines"`
	Last  string `json:"last"`
}

// writeHead replaces the head file: temp file, fsync, rename.
func (s *Sink) writeHead() error {
	b, _ := json.Marshal(head{Lines: s.lines, Last: hex.EncodeToString(s.last[:])})
	tmp := s.path + ".head.tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return backOff(err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return backOff(err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return backOff(err)
	}
	if err := os.Rename(tmp, s.path+".head"); err != nil {
		return backOff(err)
	}
	return nil
}

func backOff(err error) error { return &sinks.BackOffError{After: time.Second, Err: err} }

// appendLine appends a record's line (without newline) chained to prev.
func appendLine(dst []byte, r *sinks.Record, prev [sha256.Size]byte) []byte {
	dst = append(dst, `{"table":`...)
	dst = strconv.AppendQuote(dst, r.Table)
	dst = append(dst, `,"shard":`...)
	dst = strconv.AppendUint(dst, uint64(r.Shard), 10)
	dst = append(dst, `,"seq":"`...)
	dst = append(dst, r.Seq.String()...)
	dst = append(dst, `","eventName":`...)
	dst = strconv.AppendQuote(dst, string(r.Name))
	dst = append(dst, `,"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","keys":`...)
	dst = append(dst, r.Keys...)
	if r.Old != nil {
		dst = append(dst, `,"oldImage":`...)
		dst = append(dst, r.Old...)
	}
	if r.New != nil {
		dst = append(dst, `,"newImage":`...)
		dst = append(dst, r.New...)
	}
	if r.Who.Service {
		dst = append(dst, `,"who":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`...)
	} else {
		dst = append(dst, `,"who":{"accessKeyId":`...)
		dst = strconv.AppendQuote(dst, r.Who.AccessKeyID)
		dst = append(dst, `,"sourceAddress":`...)
		dst = strconv.AppendQuote(dst, r.Who.SourceAddr)
		dst = append(dst, `,"requestId":`...)
		dst = strconv.AppendQuote(dst, r.Who.RequestID)
		dst = append(dst, '}')
	}
	if r.TxID != "" {
		dst = append(dst, `,"transactionId":`...)
		dst = strconv.AppendQuote(dst, r.TxID)
	}
	dst = append(dst, `,"prev":"`...)
	dst = hex.AppendEncode(dst, prev[:])
	return append(dst, `"}`...)
}

// VerifyError names the first line of a log that breaks its chain.
type VerifyError struct {
	Line   int64 // 1-based; the line count + 1 when lines are missing at the end
	Reason string
}

func (e *VerifyError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Verify checks a log's chain, and its head file when there is one: it
// returns the number of lines, or a *VerifyError naming the first line
// altered, removed, inserted or moved.
func Verify(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	prev := sha256.Sum256(nil)
	r := bufio.NewReaderSize(f, 1<<20)
	var n int64
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				return n, &VerifyError{Line: n + 1, Reason: "incomplete line (no newline)"}
			}
			break
		}
		if err != nil {
			return n, err
		}
		n++
		body := line[:len(line)-1]
		var l struct {
			Prev string `json:"prev"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			return n, &VerifyError{Line: n, Reason: "not a JSON object: " + err.Error()}
		}
		if l.Prev != hex.EncodeToString(prev[:]) {
			return n, &VerifyError{Line: n, Reason: "its prev hash does not match the line before it (that line, or this one, was altered, removed, inserted or moved)"}
		}
		prev = sha256.Sum256(body)
	}
	hb, err := os.ReadFile(path + ".head")
	if errors.Is(err, os.ErrNotExist) {
		return n, nil
	}
	if err != nil {
		return n, err
	}
	var h head
	if err := json.Unmarshal(bytes.TrimSpace(hb), &h); err != nil {
		return n, fmt.Errorf("%s.head: %w", path, err)
	}
	switch {
	case h.Lines > n:
		return n, &VerifyError{Line: n + 1, Reason: fmt.Sprintf("the log ends after %d lines; its head file says %d", n, h.Lines)}
	case h.Lines == n && h.Last != hex.EncodeToString(prev[:]):
		return n, &VerifyError{Line: n, Reason: "the last line does not match the head file's hash"}
	}
	// More lines than the head: a crash between an append and the head's
	// update; the chain vouches for them.
	return n, nil
}
