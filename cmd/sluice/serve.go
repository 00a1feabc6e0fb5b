package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/bus"
	"github.com/sluicedb/sluice/cdc/streamsapi"
	"github.com/sluicedb/sluice/config"
	"github.com/sluicedb/sluice/consumers"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/dynamoapi"
	"github.com/sluicedb/sluice/engine/wire"
)

// Bounds on shutdown. A request still running after httpShutdownTimeout has
// its connection closed; the engine acknowledges nothing it has not made
// durable, so cutting it short loses no acknowledged write.
const (
	httpShutdownTimeout = 10 * time.Second
	busCloseTimeout     = 10 * time.Second
)

// HTTP server limits. Request bodies are bounded by wire (16 MiB, as
// DynamoDB's); these bound slow clients and idle connections.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// serveCommand runs `sluice serve` and returns the exit status: 0 after a
// clean shutdown, 1 when the server failed, 2 for a bad invocation or
// configuration.
func serveCommand(args []string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(args, os.LookupEnv, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		var pe parseError
		if !errors.As(err, &pe) {
			fmt.Fprintf(stderr, "sluice: %s\n", oneLine(err))
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default action: a second Ctrl-C
	// kills the process at once, which the change log makes safe.
	context.AfterFunc(ctx, stop)

	logger := slog.New(newLogHandler(stderr, cfg.LogLevel, cfg.LogFormat))
	if err := serve(ctx, cfg, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "sluice: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// serve starts the engine, the bus, the relay and the HTTP server, in that
// order, prints the ready line to stdout, and, once ctx ends or a piece
// fails, stops them in reverse order.
func serve(ctx context.Context, cfg config.Config, stdout io.Writer, logger *slog.Logger) (err error) {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}

	// The engine comes first: its store's lock is what keeps a second
	// process off the whole data directory, JetStream's files included.
	engineDir := filepath.Join(cfg.Data, "engine")
	eng, err := engine.Open(engine.Options{
		Dir:       engineDir,
		Relaxed:   cfg.Durability == config.DurabilityRelaxed,
		Shards:    1 << cfg.ShardBits, // Validate bounds it to 0..10
		Region:    cfg.Region,
		AccountID: cfg.AccountID,
		Logger:    logger.With("component", "engine"),

		StreamShardPeriod: cfg.StreamShardRollover,
		Retention:         cfg.Retention,
		ItemCacheBytes:    itemCacheBytes(cfg.ItemCacheMB),
	})
	if err != nil {
		if isLocked(err) {
			return fmt.Errorf("data directory %s is in use by another sluice process (its store is locked): %w", cfg.Data, err)
		}
		return fmt.Errorf("opening engine in %s: %w", engineDir, err)
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing engine: %w", cerr))
		}
	}()

	natsLevel := slog.LevelWarn // nats-server's startup notices are noise at info
	if cfg.LogLevel == "debug" {
		natsLevel = slog.LevelDebug
	}
	b, err := bus.Start(ctx, bus.Options{
		Dir:    filepath.Join(cfg.Data, "nats"),
		Listen: cfg.NATSListen,
		URL:    cfg.NATSURL,
		Logger: slog.New(minLevel{logger.Handler(), natsLevel}),
	})
	if err != nil {
		return err // says "starting embedded NATS server: ..." or "connecting to NATS at ...: ..."
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), busCloseTimeout)
		defer cancel()
		if cerr := b.Close(cctx); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	relay, err := cdc.NewRelay(cdc.Options{
		Log:       eng.ChangeLog(),
		JS:        b.JetStream(),
		Retention: cfg.Retention,
		Logger:    logger.With("component", "relay"),
	})
	if err != nil {
		return fmt.Errorf("creating relay: %w", err)
	}

	triggers, err := consumers.OpenRuntime(ctx, eng, b.JetStream(), consumers.Declared{Triggers: cfg.Triggers, Sinks: cfg.Sinks},
		logger.With("component", "triggers"), consumers.RuntimeOptions{
			DataDir:               cfg.Data,
			TargetAccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
			TargetSecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s (--listen) for the DynamoDB API: %w", cfg.Listen, opCause(err))
	}
	api := wire.NewServer(wire.Options{
		Region:    cfg.Region,
		AccountID: cfg.AccountID,
		Logger:    logger.With("component", "api"),
	})
	dynamoapi.Register(api, eng, dynamoapi.Options{Logger: logger.With("component", "dynamoapi")})
	streamsapi.Register(api, eng, streamsapi.Options{Logger: logger.With("component", "streamsapi")})
	consumers.RegisterAdmin(api, triggers)
	reaper := consumers.NewTTLReaper(eng, b.JetStream(), consumers.TTLOptions{
		Logger:   logger.With("component", "ttl"),
		Interval: cfg.TTLInterval,
		BusyRate: cfg.TTLBusyRate,
	})
	srv := &http.Server{
		Handler:           withMetrics(api, eng, triggers, reaper.Collector()),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}

	// The relay outlives the HTTP server: it stops only once no request can
	// commit another change, so that it publishes everything committed.
	// (Stopping it earlier would lose nothing, as it republishes the tail
	// from the change log on start, but would leave the stream behind.)
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := relay.Run(relayCtx); err != nil {
			return fmt.Errorf("relaying changes: %w", err)
		}
		return nil
	})
	g.Go(func() error { return reaper.Run(relayCtx) })
	indexer := consumers.NewGSIIndexer(eng, b.JetStream(), logger.With("component", "gsi"))
	g.Go(func() error {
		// Stops with the relay; it resumes from its recorded position.
		if err := indexer.Run(relayCtx); err != nil {
			return fmt.Errorf("indexing GSIs: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// Stops with the relay; each trigger resumes from its durable
		// consumer's ack floor.
		if err := triggers.Run(relayCtx); err != nil {
			return fmt.Errorf("running triggers: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving the DynamoDB API: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down", "cause", context.Cause(gctx))
		defer stopRelay()
		sctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
			return fmt.Errorf("stopping the HTTP server: %w", err)
		}
		return nil
	})

	fmt.Fprintln(stdout, readyLine(cfg, ln.Addr(), b.ClientURL()))
	return g.Wait()
}

// readyLine says where the server listens and where its data is.
func readyLine(cfg config.Config, api net.Addr, natsURL string) string {
	var nats string
	switch {
	case cfg.NATSURL != "":
		nats = "external NATS at " + cfg.NATSURL
	case natsURL != "":
		nats = "NATS on " + natsURL
	default:
		nats = "NATS in-process only"
	}
	return fmt.Sprintf("sluice ready: DynamoDB API on %s, %s, data in %s (%s durability)",
		httpURL(api), nats, cfg.Data, cfg.Durability)
}

// httpURL is the URL a local client uses to reach addr; a listener on all
// interfaces is reached on loopback.
func httpURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// opCause drops the "listen tcp <addr>:" prefix of a *net.OpError, whose
// address the caller's message already names.
func opCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// isLocked reports whether err is the store's lock being held by another
// process (fcntl F_SETLK answers EAGAIN, or EACCES on some systems).
func isLocked(err error) bool {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return false // a file the engine could not open: permissions, not the lock
	}
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES)
}

// oneLine joins the lines of a multi-error (errors.Join) with "; ".
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// itemCacheBytes is the engine's ItemCacheBytes for item-cache-mb: 0 turns
// the cache off.
func itemCacheBytes(mb int) int64 {
	if mb == 0 {
		return -1
	}
	return int64(mb) << 20
}
