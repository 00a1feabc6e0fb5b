package bus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/bus"
)

// start starts an embedded bus and registers a bounded Close.
func start(t testing.TB, opts bus.Options) *bus.Bus {
	t.Helper()
	b, err := bus.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { closeBus(t, b) })
	return b
}

func closeBus(t testing.TB, b *bus.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

var testStream = jetstream.StreamConfig{Name: "TEST", Subjects: []string{"sluice.t.>"}}

func TestStartWithoutListener(t *testing.T) {
	t0 := time.Now()
	b := start(t, bus.Options{Dir: t.TempDir()})
	t.Logf("Start took %v", time.Since(t0))
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Start took %v on an empty directory", d)
	}
	if got := b.ClientURL(); got != "" {
		t.Errorf("ClientURL() = %q, want \"\"", got)
	}
	if !b.Conn().IsConnected() {
		t.Fatal("in-process connection not connected")
	}
	if got := b.Conn().MaxPayload(); got < 2<<20 {
		t.Errorf("MaxPayload() = %d, want room for two 400 KB images", got)
	}
	if _, err := b.JetStream().AccountInfo(t.Context()); err != nil {
		t.Fatalf("AccountInfo: %v", err)
	}
}

func TestStartWithListener(t *testing.T) {
	b := start(t, bus.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	url := b.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("ClientURL() = %q, want nats://127.0.0.1:<port>", url)
	}
	ctx := t.Context()
	if _, err := b.EnsureStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JetStream().Publish(ctx, "sluice.t.a.0", []byte("hello")); err != nil {
		t.Fatal(err)
	}

	// A TCP client, as the nats CLI would be, sees what the in-process
	// connection published.
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatalf("connecting over TCP: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, testStream.Name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "sluice.t.a.0")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "hello" {
		t.Errorf("data = %q, want hello", m.Data)
	}
}

func TestExternal(t *testing.T) {
	server := start(t, bus.Options{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	ext, err := bus.Start(t.Context(), bus.Options{URL: server.ClientURL()})
	if err != nil {
		t.Fatalf("Start external: %v", err)
	}
	if ext.ClientURL() != server.ClientURL() {
		t.Errorf("ClientURL() = %q, want %q", ext.ClientURL(), server.ClientURL())
	}
	ctx := t.Context()
	if _, err := ext.EnsureStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	closeBus(t, ext)
	// Closing an external bus leaves the server running.
	if _, err := server.JetStream().Stream(ctx, testStream.Name); err != nil {
		t.Fatalf("server after external Close: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	for _, tc := range []struct {
		name string
		opts bus.Options
		want string
	}{
		{"no dir", bus.Options{}, "Dir is required"},
		{"bad listen", bus.Options{Dir: t.TempDir(), Listen: "localhost"}, "parsing listen address"},
		{"bad port", bus.Options{Dir: t.TempDir(), Listen: "127.0.0.1:http"}, "invalid port"},
		{"port taken", bus.Options{Dir: t.TempDir(), Listen: taken.Addr().String()}, "address already in use"},
		{"no server", bus.Options{URL: "nats://127.0.0.1:1", StartTimeout: time.Second}, "connecting to NATS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			b, err := bus.Start(t.Context(), tc.opts)
			if err == nil {
				closeBus(t, b)
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			// A failure is reported as it happens, not after StartTimeout.
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("Start failed after %v", d)
			}
		})
	}
	if _, err := bus.Start(t.Context(), bus.Options{}); !errors.Is(err, bus.ErrNoDir) {
		t.Errorf("err = %v, want ErrNoDir", err)
	}
}

func TestStartHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b, err := bus.Start(ctx, bus.Options{Dir: t.TempDir()})
	if err == nil {
		closeBus(t, b)
		t.Fatal("Start succeeded with a cancelled context")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPublishConsume(t *testing.T) {
	b := start(t, bus.Options{Dir: t.TempDir()})
	ctx := t.Context()
	if _, err := b.EnsureStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	var s jetstream.Stream
	var err error
	// EnsureStream is idempotent and updates what may be updated.
	cfg := testStream
	cfg.MaxAge = 24 * time.Hour
	if s, err = b.EnsureStream(ctx, cfg); err != nil {
		t.Fatalf("EnsureStream again: %v", err)
	}
	if got := s.CachedInfo().Config.MaxAge; got != 24*time.Hour {
		t.Errorf("MaxAge = %v after update, want 24h", got)
	}

	const n = 100
	js := b.JetStream()
	for i := range n {
		ack, err := js.Publish(ctx, "sluice.t.items.3", fmt.Appendf(nil, "%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Sequence != uint64(i+1) {
			t.Fatalf("ack.Sequence = %d, want %d", ack.Sequence, i+1)
		}
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   "reader",
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range batch.Messages() {
		if want := fmt.Sprintf("%03d", i); string(m.Data()) != want {
			t.Fatalf("message %d = %q, want %q", i, m.Data(), want)
		}
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
		i++
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("consumed %d messages, want %d", i, n)
	}
}

func TestRestartKeepsStreams(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	b, err := bus.Start(ctx, bus.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnsureStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		subj := fmt.Sprintf("sluice.t.items.%d", i%2)
		if _, err := b.JetStream().Publish(ctx, subj, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	closeBus(t, b)

	b = start(t, bus.Options{Dir: dir})
	s, err := b.JetStream().Stream(ctx, testStream.Name)
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	if got := s.CachedInfo().State.Msgs; got != 10 {
		t.Errorf("Msgs = %d after restart, want 10", got)
	}
	for subj, want := range map[string]string{"sluice.t.items.0": "m8", "sluice.t.items.1": "m9"} {
		m, err := s.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != want {
			t.Errorf("last on %s = %q, want %q", subj, m.Data, want)
		}
	}
	m, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "m0" {
		t.Errorf("seq 1 = %q, want m0", m.Data)
	}
	// The stream continues where it was.
	ack, err := b.JetStream().Publish(ctx, "sluice.t.items.0", []byte("m10"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Sequence != 11 {
		t.Errorf("ack.Sequence = %d after restart, want 11", ack.Sequence)
	}
}

func TestCloseHonoursDeadline(t *testing.T) {
	b, err := bus.Start(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// A handler that does not return keeps the drain from finishing.
	release := make(chan struct{})
	entered := make(chan struct{})
	if _, err := b.Conn().Subscribe("stuck", func(*nats.Msg) {
		close(entered)
		<-release
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Publish("stuck", nil); err != nil {
		t.Fatal(err)
	}
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err = b.Close(ctx)
	d := time.Since(t0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	if d > time.Second {
		t.Errorf("Close returned after %v, deadline was 100ms", d)
	}
	close(release)
	// The shutdown went on in the background; a second Close waits for it.
	closeBus(t, b)
	if !b.Conn().IsClosed() {
		t.Error("connection still open after Close")
	}
}

func TestCloseLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	running := 0
	for _, listen := range []string{"", "127.0.0.1:0"} {
		b, err := bus.Start(t.Context(), bus.Options{Dir: t.TempDir(), Listen: listen})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		s, err := b.EnsureStream(ctx, testStream)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.JetStream().Publish(ctx, "sluice.t.a.0", []byte("x")); err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Next(jetstream.FetchMaxWait(time.Second)); err != nil {
			t.Fatal(err)
		}
		running = max(running, runtime.NumGoroutine())
		closeBus(t, b)
	}
	// Goroutines end shortly after Shutdown returns (timers, the last
	// callbacks); give them a moment.
	var after int
	for range 100 {
		if after = runtime.NumGoroutine(); after <= before {
			t.Logf("goroutines: %d before, %d while running, %d after Close", before, running, after)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf)
}
