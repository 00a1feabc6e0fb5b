// Package sinks is the contract between the change feed and the places it
// is copied to: a search index, analytics files, an audit log, another
// database. A sink receives a table's change records in batches, in order
// within each stream shard, at least once; the consumer runtime (package
// consumers) reads the stream, keeps the checkpoint and retries.
//
// # The contract
//
//   - Connect is called once before the first Write, and again after a
//     Close.
//   - Write applies a batch. Its records are in stream order; those of one
//     shard in sequence order. Write is never called concurrently. It returns nil when every record is applied;
//     a *BatchError naming the records that failed (the runtime marks the
//     records before the lowest failed one done and delivers again from it);
//     an error wrapping ErrBackOff (with a *BackOffError to say for how
//     long) when the destination asks to be left alone; any other error
//     when the whole batch failed. Every failure is retried.
//   - A record may be written again after a failure or a restart. A sink
//     either makes a repeat harmless by its nature (a search document or an
//     item set to the same image) or skips it by its idempotency key, Key:
//     (table, shard, sequence). Sinks that do are effectively exactly once.
//   - Close releases the destination; Write is not called after it.
//   - A record with sequence number 0 is a snapshot of an item, read by a
//     table scan when a sink that keeps item state (search, replication)
//     starts: an INSERT with the item as New and no time, so that any
//     change wins over it. The stream is then followed from where it stood
//     before the scan began.
//
// sinks/sinktest is the conformance suite every sink passes.
package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/shards"
)

// Record is one change record as a sink receives it: the change (keys and
// images as canonical DynamoDB JSON, who made it, when) and the table's
// name.
type Record struct {
	event.Record
	Table string
	// Data is the DynamoDB Streams record JSON with both images, as the
	// stream carries it.
	Data []byte
}

// Key is a record's idempotency key.
type Key struct {
	Table string
	Shard shards.ID
	Seq   shards.Seq
}

// Key returns the record's idempotency key.
func (r *Record) Key() Key { return Key{Table: r.Table, Shard: r.Shard, Seq: r.Seq} }

func (k Key) String() string { return fmt.Sprintf("%s/%d/%d", k.Table, k.Shard, k.Seq) }

// Sink is a destination of change records.
type Sink interface {
	Connect(ctx context.Context) error
	Write(ctx context.Context, batch []Record) error
	Close(ctx context.Context) error
}

// ErrBackOff marks an error that asks the runtime to wait before it writes
// again (the destination is overloaded or unavailable).
var ErrBackOff = errors.New("sinks: back off")

// BackOffError says how long to wait; it matches ErrBackOff.
type BackOffError struct {
	After time.Duration
	Err   error // the cause, if any
}

func (e *BackOffError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("back off for %s: %v", e.After, e.Err)
	}
	return fmt.Sprintf("back off for %s", e.After)
}

func (e *BackOffError) Is(target error) bool { return target == ErrBackOff }
func (e *BackOffError) Unwrap() error        { return e.Err }

// BatchError reports the records of a batch that failed, by index; the
// others were applied.
type BatchError struct {
	Failed map[int]error
}

func (e *BatchError) Error() string {
	first := -1
	for i := range e.Failed {
		if first < 0 || i < first {
			first = i
		}
	}
	return fmt.Sprintf("%d records of the batch failed; the first, record %d: %v", len(e.Failed), first, e.Failed[first])
}

// Lowest returns the index of the first failed record, or -1.
func (e *BatchError) Lowest() int {
	low := -1
	for i := range e.Failed {
		if low < 0 || i < low {
			low = i
		}
	}
	return low
}

// Decode reads a change record from a stream message: its headers (get
// returns one by name) and data. table is the table's name, shard the
// stream shard (the subject's last token).
func Decode(table string, shard shards.ID, get func(string) string, data []byte) (Record, error) {
	r := Record{Table: table, Data: data}
	r.Shard = shard
	var err error
	if r.Seq, err = shards.ParseSeq(get(event.HdrSequence)); err != nil {
		return r, fmt.Errorf("sinks: record without a sequence: %w", err)
	}
	if r.Time, err = time.Parse(time.RFC3339Nano, get(event.HdrTime)); err != nil {
		return r, fmt.Errorf("sinks: record without a time: %w", err)
	}
	typ := get(event.HdrType)
	if len(typ) <= len(event.TypePrefix) {
		return r, fmt.Errorf("sinks: record without a type")
	}
	r.Name = event.Name(typ[len(event.TypePrefix):])
	r.Keys = []byte(get(event.HdrSubject))
	if r.Old, r.New, err = event.Images(data); err != nil {
		return r, err
	}
	r.Source = get(event.HdrSource)
	r.PartitionKey = get(event.HdrPartitionKey)
	r.TxID = get(event.HdrCorrelation)
	r.Who = event.Identity{
		AccessKeyID: get(event.HdrAccessKey),
		SourceAddr:  get(event.HdrSourceAddr),
		RequestID:   get(event.HdrRequestID),
	}
	r.Who.Service = bytes.Contains(data, []byte(`"userIdentity":{"Type":"Service"`))
	if s, ok := event.ParseSizes(get(event.HdrSizes)); ok {
		r.Sizes = s
	}
	return r, nil
}
