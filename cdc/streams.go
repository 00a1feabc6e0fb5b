package cdc

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/wire"
	"github.com/sluicedb/sluice/shards"
)

// DynamoDB Streams semantics over the engine's change log: streams, shard
// iterators and GetRecords. A stream is a window of the change log (see
// engine/streams.go); its records are read from the change log in Pebble,
// where they are durable before any write is acknowledged, and projected to
// the stream's view type.
//
// A shard iterator is self-contained, so it survives a restart: the stream
// ARN, then "|1|" and base64 of the table id, the stream shard id, the next
// sequence number to read and the time it was issued, with a CRC. It
// expires IteratorTTL after it was issued, as DynamoDB's do.

// IteratorTTL is how long a shard iterator can be used.
const IteratorTTL = 15 * time.Minute

// GetRecords limits.
const (
	MaxRecords     = 1000    // records per GetRecords
	MaxRecordBytes = 1 << 20 // bytes of records per GetRecords
)

// Iterator types.
const (
	TrimHorizon         = "TRIM_HORIZON"
	Latest              = "LATEST"
	AtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	AfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	// AtTimestamp is Sluice's addition (as Kinesis has it): the first
	// record committed at or after a time.
	AtTimestamp = "AT_TIMESTAMP"
)

// Messages, as DynamoDB (or, where marked, DynamoDB Local) words them.
const (
	msgExpired      = "The shard iterator has expired and can no longer be used to retrieve stream records. A shard iterator expires 15 minutes after it is retrieved using the GetShardIterator action."
	msgTrimmed      = "The operation attempted to read past the oldest stream record in a shard."
	msgBadIterator  = "Invalid ShardIterator"                                                                                 // DynamoDB Local
	msgSeqForbidden = "One or more parameter values were invalid: SequenceNumber should not be passed for this iterator type" // DynamoDB Local
	msgBadSeq       = "One or more parameter values were invalid: Invalid SequenceNumber"                                     // DynamoDB Local
)

// Streams answers the DynamoDB Streams API from the engine's change log.
type Streams struct {
	e   *engine.Engine
	now func() time.Time
}

// NewStreams returns the Streams of e; now is the clock (nil: time.Now).
func NewStreams(e *engine.Engine, now func() time.Time) *Streams {
	if now == nil {
		now = time.Now
	}
	return &Streams{e: e, now: now}
}

// ARN is a stream's ARN.
func (s *Streams) ARN(st engine.StreamInfo) string { return s.e.StreamARN(st.Table, st.Label) }

// List returns the streams, of one table when table is not "".
func (s *Streams) List(table string) []engine.StreamInfo {
	all := s.e.Streams()
	if table == "" {
		return all
	}
	var out []engine.StreamInfo
	for _, st := range all {
		if st.Table == table {
			out = append(out, st)
		}
	}
	return out
}

// Find resolves a stream ARN, or answers ResourceNotFoundException.
func (s *Streams) Find(arn string) (engine.StreamInfo, error) {
	tableARN, label, ok := strings.Cut(arn, "/stream/")
	name := s.e.TableNameFromARN(tableARN)
	if ok && name != "" {
		for _, st := range s.e.Streams() {
			if st.Table == name && st.Label == label {
				return st, nil
			}
		}
	}
	return engine.StreamInfo{}, attr.Errorf(engine.ErrTableNotFound, "Requested resource not found: Stream: %s not found", arn)
}

// Shards returns a stream's shards in creation order.
func (s *Streams) Shards(st engine.StreamInfo) ([]engine.StreamShard, error) {
	return s.e.StreamShards(st.TableID, st.Label)
}

// shard finds one shard of a stream.
func (s *Streams) shard(st engine.StreamInfo, id string) (engine.StreamShard, error) {
	all, err := s.Shards(st)
	if err != nil {
		return engine.StreamShard{}, err
	}
	for _, sh := range all {
		if sh.ID == id {
			return sh, nil
		}
	}
	return engine.StreamShard{}, attr.Errorf(engine.ErrTableNotFound, "Requested resource not found: Shard: %s in Stream: %s not found", id, s.ARN(st))
}

// Iterator answers GetShardIterator: typ is one of the iterator types and
// seq the SequenceNumber member ("" when absent), checked for shape; at is
// the time of an AT_TIMESTAMP iterator.
func (s *Streams) Iterator(arn, shardID, typ, seq string, at time.Time) (string, error) {
	var want shards.Seq
	switch typ {
	case TrimHorizon, Latest, AtTimestamp:
		if seq != "" {
			return "", attr.Invalid(msgSeqForbidden)
		}
	default:
		n, err := shards.ParseSeq(seq)
		if err != nil || seq == "" {
			return "", attr.Invalid(msgBadSeq)
		}
		want = n
	}
	st, err := s.Find(arn)
	if err != nil {
		return "", err
	}
	sh, err := s.shard(st, shardID)
	if err != nil {
		return "", err
	}
	first, err := s.first(st, sh)
	if err != nil {
		return "", err
	}
	var pos shards.Seq
	switch typ {
	case TrimHorizon:
		pos = max(sh.Start, first)
	case Latest:
		pos = s.end(st, sh) + 1
	case AtTimestamp:
		if pos, err = s.firstAt(st, sh, max(sh.Start, first), at); err != nil {
			return "", err
		}
	case AtSequenceNumber, AfterSequenceNumber:
		if want < sh.Start || want > s.end(st, sh) {
			return "", attr.Invalid("%sSequenceNumber %s is not in shard %s", "One or more parameter values were invalid: ", seq, sh.ID)
		}
		if want < first {
			return "", attr.Errorf(wire.ErrTrimmedDataAccess, msgTrimmed)
		}
		pos = want
		if typ == AfterSequenceNumber {
			pos++
		}
	}
	return s.encode(arn, iterator{table: st.TableID, shard: sh.ID, next: pos, issued: s.now()}), nil
}

// firstAt finds, by bisection over the shard's change log from lo to its
// end, the first record committed at or after t (commit times do not
// decrease within a shard); past the last, the position after it.
func (s *Streams) firstAt(st engine.StreamInfo, sh engine.StreamShard, lo shards.Seq, t time.Time) (shards.Seq, error) {
	hi := s.end(st, sh) + 1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		recs, err := s.e.ChangeLog().Read(st.TableID, sh.Shard, mid, 1)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 || recs[0].Seq > hi {
			hi = mid
			continue
		}
		when, err := recordTime(recs[0].Data)
		if err != nil {
			return 0, err
		}
		if when.Before(t) {
			lo = recs[0].Seq + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// first is the oldest sequence number of a shard still in the change log
// (or the next one to be written when the log is empty).
func (s *Streams) first(st engine.StreamInfo, sh engine.StreamShard) (shards.Seq, error) {
	recs, err := s.e.ChangeLog().Read(st.TableID, sh.Shard, 0, 1)
	if err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return s.e.LastSeq(st.TableID, sh.Shard) + 1, nil
	}
	return recs[0].Seq, nil
}

// end is a stream shard's last sequence number: its End once closed, and
// while open the last change committed when its lineage was read (see
// engine.StreamShards: reading past it could take a change that a rollover
// gave to the shard's child).
func (s *Streams) end(_ engine.StreamInfo, sh engine.StreamShard) shards.Seq {
	return sh.End
}

// Records answers GetRecords: up to limit records (at most MaxRecords and
// MaxRecordBytes) from the iterator on, as the stream's view type shows
// them, and the next iterator ("" once a closed shard is read to its end).
func (s *Streams) Records(iter string, limit int) (records [][]byte, next string, err error) {
	_, next, err = s.AppendRecords(nil, iter, limit, func(rec []byte) { records = append(records, bytes.Clone(rec)) })
	return records, next, err
}

// AppendRecords is Records for the wire: it appends the records to dst as
// the members of a JSON array (comma-separated, without brackets) and calls
// each, if not nil, with each record, copying nothing else.
func (s *Streams) AppendRecords(dst []byte, iter string, limit int, each func([]byte)) (out []byte, next string, err error) {
	arn, it, err := s.decode(iter)
	if err != nil {
		return dst, "", err
	}
	if s.now().Sub(it.issued) > IteratorTTL {
		return dst, "", attr.Errorf(wire.ErrExpiredIterator, msgExpired)
	}
	st, err := s.Find(arn)
	if err != nil {
		return dst, "", err
	}
	if st.TableID != it.table {
		return dst, "", attr.Invalid(msgBadIterator)
	}
	sh, err := s.shard(st, it.shard)
	if err != nil {
		return dst, "", err
	}
	first, err := s.first(st, sh)
	if err != nil {
		return dst, "", err
	}
	end := s.end(st, sh)
	if it.next < first && it.next <= end {
		return dst, "", attr.Errorf(wire.ErrTrimmedDataAccess, msgTrimmed)
	}
	pos := it.next
	if n := min(limit, MaxRecords); pos <= end && n > 0 {
		count, size, start := 0, 0, len(dst)
		var ferr error
		err := s.e.ChangeLog().Scan(st.TableID, sh.Shard, pos, func(seq shards.Seq, walValue []byte) bool {
			if seq > end {
				return false
			}
			data, sizes, known, err := event.Data(walValue)
			if err != nil {
				ferr = fmt.Errorf("stream record %d/%d/%d: %w", st.TableID, sh.Shard, seq, err)
				return false
			}
			var sz *event.Sizes
			if known {
				sz = &sizes
			}
			mark := len(dst)
			if count > 0 {
				dst = append(dst, ',')
			}
			from := len(dst)
			if dst, err = event.AppendProject(dst, data, st.ViewType, sz); err != nil {
				ferr = fmt.Errorf("stream record %d/%d/%d: %w", st.TableID, sh.Shard, seq, err)
				return false
			}
			rec := dst[from:]
			if size+len(rec) > MaxRecordBytes && count > 0 {
				dst = dst[:mark] // over the limit: the next call returns it
				return false
			}
			if each != nil {
				each(rec)
			}
			size += len(rec)
			count++
			pos = seq + 1
			return count < n
		})
		if err == nil {
			err = ferr
		}
		if err != nil {
			return dst[:start], "", err
		}
	}
	if sh.Closed && pos > sh.End {
		return dst, "", nil
	}
	it.next, it.issued = pos, s.now()
	return dst, s.encode(arn, it), nil
}

// iterator is a decoded shard iterator.
type iterator struct {
	table  uint32
	shard  string
	next   shards.Seq
	issued time.Time
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (s *Streams) encode(arn string, it iterator) string {
	b := make([]byte, 0, 64)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint32(b, it.table)
	b = binary.BigEndian.AppendUint64(b, uint64(it.next))
	b = binary.BigEndian.AppendUint64(b, uint64(it.issued.UnixMilli()))
	b = append(b, byte(len(it.shard)))
	b = append(b, it.shard...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(append([]byte(arn), b...), crcTable))
	return arn + "|1|" + base64.StdEncoding.EncodeToString(b)
}

func (s *Streams) decode(iter string) (arn string, it iterator, err error) {
	bad := func() (string, iterator, error) { return "", iterator{}, attr.Invalid(msgBadIterator) }
	arn, rest, ok := strings.Cut(iter, "|1|")
	if !ok {
		return bad()
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(b) < 1+4+8+8+1+4 || b[0] != 1 {
		return bad()
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(append([]byte(arn), body...), crcTable) != sum {
		return bad()
	}
	n := int(body[21])
	if len(body) != 22+n {
		return bad()
	}
	it = iterator{
		table:  binary.BigEndian.Uint32(body[1:5]),
		next:   shards.Seq(binary.BigEndian.Uint64(body[5:13])),
		issued: time.UnixMilli(int64(binary.BigEndian.Uint64(body[13:21]))),
		shard:  string(body[22:]),
	}
	return arn, it, nil
}
