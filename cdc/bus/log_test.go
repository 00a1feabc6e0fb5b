package bus

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogAdapterLevels(t *testing.T) {
	var buf bytes.Buffer
	a := &logAdapter{logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	a.Noticef("notice %d", 1)
	a.Warnf("warn %d", 2)
	a.Errorf("error %d", 3)
	a.Debugf("debug %d", 4)
	a.Tracef("trace %d", 5)
	if a.fatalErr() != nil {
		t.Fatal("fatal error before Fatalf")
	}
	a.Fatalf("fatal %d", 6)
	a.Fatalf("fatal %d", 7)

	got := buf.String()
	for _, want := range []string{
		`level=INFO msg="notice 1"`,
		`level=WARN msg="warn 2"`,
		`level=ERROR msg="error 3"`,
		`level=ERROR msg="fatal 6"`,
		`level=ERROR msg="fatal 7"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	for _, dropped := range []string{"debug", "trace"} {
		if strings.Contains(got, dropped) {
			t.Errorf("log has %s output:\n%s", dropped, got)
		}
	}
	if err := a.fatalErr(); err == nil || err.Error() != "fatal 6" {
		t.Errorf("fatalErr() = %v, want the first fatal message", err)
	}
}

func TestParseListen(t *testing.T) {
	for _, tc := range []struct {
		in       string
		host     string
		port     int
		url      string // clientURL for a listener bound to port 4222
		wantFail bool
	}{
		{in: "127.0.0.1:4222", host: "127.0.0.1", port: 4222, url: "nats://127.0.0.1:4222"},
		{in: ":4222", host: "", port: 4222, url: "nats://127.0.0.1:4222"},
		{in: "0.0.0.0:4222", host: "0.0.0.0", port: 4222, url: "nats://127.0.0.1:4222"},
		{in: "[::]:4222", host: "::", port: 4222, url: "nats://127.0.0.1:4222"},
		{in: "[::1]:4222", host: "::1", port: 4222, url: "nats://[::1]:4222"},
		{in: "localhost:0", host: "localhost", port: -1, url: "nats://localhost:4222"},
		{in: "localhost", wantFail: true},
		{in: "localhost:x", wantFail: true},
		{in: "localhost:70000", wantFail: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			host, port, err := parseListen(tc.in)
			if tc.wantFail {
				if err == nil {
					t.Fatalf("parseListen succeeded: %q %d", host, port)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if host != tc.host || port != tc.port {
				t.Errorf("parseListen = %q %d, want %q %d", host, port, tc.host, tc.port)
			}
			if got := clientURL(host, 4222); got != tc.url {
				t.Errorf("clientURL = %q, want %q", got, tc.url)
			}
		})
	}
}
