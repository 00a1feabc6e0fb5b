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

func (s *Server) records(table string) ([]Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(s.NATSURL, nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	stream, err := findStream(ctx, js, table)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []Record
	for seq := info.State.FirstSeq; seq != 0 && seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading message %d of %s: %w", seq, info.Config.Name, err)
		}
		out = append(out, Record{StreamSeq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data})
	}
	return out, nil
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
		recs, err := s.records(table)
		if err == nil && len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("waiting for %d change records of %s: %v", n, table, err)
			}
			t.Fatalf("waiting for %d change records of %s: have %d after %s", n, table, len(recs), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
