package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// logAdapter routes nats-server's logging (its server.Logger interface)
// through slog. It also keeps the first fatal message: with a custom logger
// nats-server's Fatalf does not exit, and Start turns that message into its
// error instead of waiting for a server that will never be ready.
type logAdapter struct {
	logger *slog.Logger
	mu     struct {
		sync.Mutex
		fatal error
	}
}

func (a *logAdapter) Noticef(format string, v ...any) { a.log(slog.LevelInfo, format, v) }
func (a *logAdapter) Warnf(format string, v ...any)   { a.log(slog.LevelWarn, format, v) }
func (a *logAdapter) Errorf(format string, v ...any)  { a.log(slog.LevelError, format, v) }
func (a *logAdapter) Debugf(string, ...any)           {}
func (a *logAdapter) Tracef(string, ...any)           {}

func (a *logAdapter) Fatalf(format string, v ...any) {
	a.mu.Lock()
	if a.mu.fatal == nil {
		a.mu.fatal = fmt.Errorf(format, v...)
	}
	a.mu.Unlock()
	a.log(slog.LevelError, format, v)
}

// fatalErr returns the first fatal message logged, or nil.
func (a *logAdapter) fatalErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.fatal
}

func (a *logAdapter) log(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if !a.logger.Enabled(ctx, level) {
		return
	}
	a.logger.Log(ctx, level, fmt.Sprintf(format, v...))
}
