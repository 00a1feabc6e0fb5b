package sluicetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Record is one message of a table's JetStream stream.
type Record struct {
	StreamSeq uint64
	Subject   string
	Header    nats.Header
	Data      []byte
}

// tableMetadataKey is the stream metadata entry naming the table.
const tableMetadataKey = "sluice.table"

// findStream returns the stream holding the named table's change records:
// the newest stream whose metadata names the table. It returns
// jetstream.ErrStreamNotFound if there is none yet.
func findStream(ctx context.Context, js jetstream.JetStream, table string) (jetstream.Stream, error) {
	var best *jetstream.StreamInfo
	lister := js.ListStreams(ctx)
	for info := range lister.Info() {
		if info.Config.Metadata[tableMetadataKey] != table {
			continue
		}
		if best == nil || info.Created.After(best.Created) {
			best = info
		}
	}
	if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return nil, fmt.Errorf("listing streams: %w", err)
	}
	if best == nil {
		return nil, jetstream.ErrStreamNotFound
	}
	return js.Stream(ctx, best.Config.Name)
}

// Records returns every record of the table's stream in stream order. It
// returns nil when the table has no stream yet (no change was published).
func (s *Server) Records(t testing.TB, table string) []Record {
	t.Helper()
	recs, err := s.records(table)
	if err != nil {
		t.Fatalf("reading the change records of %s: %v", table, err)
	}
	return recs
}

// open connects to the server's NATS and finds the table's stream; stream is
// nil when the table has none yet. close releases the connection.
func (s *Server) open(ctx context.Context, table string) (stream jetstream.Stream, close func(), err error) {
	nc, err := nats.Connect(s.NATSURL, nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %w", s.NATSURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	stream, err = findStream(ctx, js, table)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nc.Close, nil
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return stream, nc.Close, nil
}

// count returns how many records the table's stream holds.
func (s *Server) count(table string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, closeConn, err := s.open(ctx, table)
	if err != nil {
		return 0, err
	}
	defer closeConn()
	if stream == nil {
		return 0, nil
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return int(info.State.Msgs), nil
}

// records reads the whole stream in order (see each).
func (s *Server) records(table string) ([]Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out []Record
	_, err := s.each(ctx, table, func(r Record) { out = append(out, r) })
	return out, err
}

// each calls fn with every record the table's stream holds when it starts,
// in stream order, through an ordered consumer (a message at a time would
// take minutes for the crash test's hundreds of thousands of records).
func (s *Server) each(ctx context.Context, table string, fn func(Record)) (int, error) {
	stream, closeConn, err := s.open(ctx, table)
	if err != nil {
		return 0, err
	}
	defer closeConn()
	if stream == nil {
		return 0, nil
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, fmt.Errorf("creating a consumer on %s: %w", info.Config.Name, err)
	}
	n := 0
	for done := false; !done; {
		batch, err := cons.FetchNoWait(4096)
		if err != nil {
			return n, fmt.Errorf("reading %s: %w", info.Config.Name, err)
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return n, err
			}
			fn(Record{StreamSeq: md.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			n++
			got++
			done = done || md.Sequence.Stream >= info.State.LastSeq
		}
		if err := batch.Error(); err != nil {
			return n, fmt.Errorf("reading %s: %w", info.Config.Name, err)
		}
		if got == 0 && !done {
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("reading %s: %d records, up to stream sequence %d: %w", info.Config.Name, n, info.State.LastSeq, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return n, nil
}

// EachRecord waits up to timeout until the table's stream holds at least
// want records, then calls fn with every record of the stream in stream
// order, one at a time, and returns how many there were. Unlike Records it
// holds no record after fn returns, for runs of hundreds of thousands.
func (s *Server) EachRecord(t testing.TB, table string, want int, timeout time.Duration, fn func(Record)) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		have, err := s.count(table)
		if err == nil && have >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d change records of %s: have %d after %s (%v)", want, table, have, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(5*time.Minute))
	defer cancel()
	n, err := s.each(ctx, table, fn)
	if err != nil {
		t.Fatalf("reading the change records of %s: %v", table, err)
	}
	return n
}

// defaultWait is how long tests usually wait for the relay.
const defaultWait = 10 * time.Second

// WaitRecords polls the table's stream until it holds at least n records
// (the relay publishes asynchronously after the write is acknowledged) and
// returns them. It fails t after the timeout, showing what it found.
func (s *Server) WaitRecords(t testing.TB, table string, n int, timeout time.Duration) []Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		have, err := s.count(table)
		if err == nil && have >= n {
			recs, err := s.records(table)
			if err != nil {
				t.Fatalf("reading the change records of %s: %v", table, err)
			}
			return recs
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("waiting for %d change records of %s: %v", n, table, err)
			}
			t.Fatalf("waiting for %d change records of %s: have %d after %s", n, table, have, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
