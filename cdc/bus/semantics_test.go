package bus_test

// These tests pin down the JetStream behaviour the relay (package cdc)
// builds on, so that a nats-server upgrade that changes it fails here first.

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/bus"
)

// wrongLastSeq reports whether err is JetStream's "wrong last sequence"
// rejection, and the last sequence the server holds for the subject.
func wrongLastSeq(t *testing.T, err error) string {
	t.Helper()
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("err = %v, want wrong last sequence (10071)", err)
	}
	return apiErr.Description
}

func TestDedupByMsgID(t *testing.T) {
	dir := t.TempDir()
	b := start(t, bus.Options{Dir: dir})
	ctx := t.Context()
	js := b.JetStream()

	// The window defaults to 2 minutes, or MaxAge if that is shorter; a
	// window longer than MaxAge is rejected.
	s, err := b.EnsureStream(ctx, testStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Duplicates; got != 2*time.Minute {
		t.Errorf("default Duplicates = %v, want 2m", got)
	}
	cfg := testStream
	cfg.MaxAge, cfg.Duplicates = time.Minute, time.Hour
	if _, err := b.EnsureStream(ctx, cfg); err == nil {
		t.Error("Duplicates > MaxAge accepted")
	}

	if ack, err := js.Publish(ctx, "sluice.t.a.0", []byte("1"), jetstream.WithMsgID("a/0/1")); err != nil || ack.Sequence != 1 {
		t.Fatalf("Publish = %+v, %v", ack, err)
	}
	if _, err := js.Publish(ctx, "sluice.t.a.0", []byte("2"), jetstream.WithMsgID("a/0/2")); err != nil {
		t.Fatal(err)
	}
	// A repeat is acknowledged, not stored, and the ack carries the
	// sequence of the original.
	ack, err := js.Publish(ctx, "sluice.t.a.0", []byte("1"), jetstream.WithMsgID("a/0/1"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate || ack.Sequence != 1 {
		t.Errorf("repeat ack = %+v, want Duplicate at sequence 1", ack)
	}

	// The server rebuilds the window from the stored messages on restart.
	closeBus(t, b)
	b = start(t, bus.Options{Dir: dir})
	ack, err = b.JetStream().Publish(ctx, "sluice.t.a.0", []byte("2"), jetstream.WithMsgID("a/0/2"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate || ack.Sequence != 2 {
		t.Errorf("repeat ack after restart = %+v, want Duplicate at sequence 2", ack)
	}
	s, err = b.JetStream().Stream(ctx, testStream.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().State.Msgs; got != 2 {
		t.Errorf("Msgs = %d, want 2", got)
	}
}

func TestExpectedLastSubjectSequence(t *testing.T) {
	b := start(t, bus.Options{Dir: t.TempDir()})
	ctx := t.Context()
	js := b.JetStream()
	if _, err := b.EnsureStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	const subj = "sluice.t.a.0"

	// 0 means "no message on this subject yet".
	if _, err := js.Publish(ctx, subj, []byte("1"), jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "sluice.t.a.1", []byte("other shard")); err != nil {
		t.Fatal(err)
	}
	// The expected value is the STREAM sequence of the subject's last
	// message (1), not a count of messages on the subject.
	ack, err := js.Publish(ctx, subj, []byte("2"), jetstream.WithExpectLastSequencePerSubject(1))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Sequence != 3 {
		t.Fatalf("ack.Sequence = %d, want 3", ack.Sequence)
	}
	// A stale expectation is rejected; the description names the current
	// last sequence.
	_, err = js.Publish(ctx, subj, []byte("x"), jetstream.WithExpectLastSequencePerSubject(1))
	if got := wrongLastSeq(t, err); got != "wrong last sequence: 3" {
		t.Errorf("description = %q", got)
	}
	_, err = js.Publish(ctx, subj, []byte("x"), jetstream.WithExpectLastSequencePerSubject(0))
	wrongLastSeq(t, err)

	// The expectation is checked BEFORE the Nats-Msg-Id dedup: repeating
	// a stored message with its original expectation is rejected as a
	// wrong last sequence, not acknowledged as a duplicate.
	if _, err := js.Publish(ctx, subj, []byte("3"), jetstream.WithMsgID("a/0/3"),
		jetstream.WithExpectLastSequencePerSubject(3)); err != nil {
		t.Fatal(err)
	}
	_, err = js.Publish(ctx, subj, []byte("3"), jetstream.WithMsgID("a/0/3"),
		jetstream.WithExpectLastSequencePerSubject(3))
	wrongLastSeq(t, err)
	// Without the expectation the repeat is a duplicate.
	ack, err = js.Publish(ctx, subj, []byte("3"), jetstream.WithMsgID("a/0/3"))
	if err != nil || !ack.Duplicate || ack.Sequence != 4 {
		t.Errorf("repeat = %+v, %v; want Duplicate at sequence 4", ack, err)
	}
}

func TestGetLastMsgForSubject(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "api", true: "direct"}[direct], func(t *testing.T) {
			b := start(t, bus.Options{Dir: t.TempDir()})
			ctx := t.Context()
			cfg := testStream
			cfg.AllowDirect = direct
			s, err := b.EnsureStream(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// An empty subject is ErrMsgNotFound, not a zero message.
			if _, err := s.GetLastMsgForSubject(ctx, "sluice.t.a.0"); !errors.Is(err, jetstream.ErrMsgNotFound) {
				t.Fatalf("err = %v, want ErrMsgNotFound", err)
			}
			for _, m := range []struct{ subj, seq string }{
				{"sluice.t.a.0", "00000000000000000001"},
				{"sluice.t.a.1", "00000000000000000001"},
				{"sluice.t.a.0", "00000000000000000002"},
			} {
				msg := nats.NewMsg(m.subj)
				msg.Header.Set("ce-sequence", m.seq)
				if _, err := b.JetStream().PublishMsg(ctx, msg); err != nil {
					t.Fatal(err)
				}
			}
			// Headers come back as published, with the stream sequence.
			m, err := s.GetLastMsgForSubject(ctx, "sluice.t.a.0")
			if err != nil {
				t.Fatal(err)
			}
			if m.Sequence != 3 || m.Subject != "sluice.t.a.0" || m.Header.Get("ce-sequence") != "00000000000000000002" {
				t.Errorf("last = seq %d %s %v", m.Sequence, m.Subject, m.Header)
			}
			// A wildcard gives the last message over all matching subjects.
			m, err = s.GetLastMsgForSubject(ctx, "sluice.t.a.*")
			if err != nil {
				t.Fatal(err)
			}
			if m.Sequence != 3 {
				t.Errorf("last on wildcard = seq %d, want 3", m.Sequence)
			}
		})
	}
}
