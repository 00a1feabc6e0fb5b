package kv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// slogLogger routes Pebble's log lines to slog (nil discards).
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Infof(format string, args ...any) {
	if s.l != nil {
		s.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (s slogLogger) Errorf(format string, args ...any) {
	if s.l != nil {
		s.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (s slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.l != nil {
		s.l.Log(context.Background(), slog.LevelError+4, msg, "component", "pebble")
	}
	fmt.Fprintln(os.Stderr, "pebble fatal:", msg)
	os.Exit(1)
}
