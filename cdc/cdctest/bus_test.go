package cdctest_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/cdctest"
)

func TestStartBus(t *testing.T) {
	b := cdctest.StartBus(t)
	if got := b.ClientURL(); got != "" {
		t.Errorf("ClientURL() = %q, want no listener", got)
	}
	ctx := t.Context()
	s, err := b.EnsureStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.JetStream().Publish(ctx, "t.a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "t.a")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "x" {
		t.Errorf("data = %q, want %q", m.Data, "x")
	}
}
