package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNoDir is returned by Start for an embedded server without Options.Dir.
var ErrNoDir = errors.New("bus: Options.Dir is required for an embedded server")

const (
	defaultServerName   = "sluice"
	defaultStartTimeout = 10 * time.Second
	// maxPayload fits a change record with two 400 KB images in DynamoDB
	// JSON (binary attributes grow by a third in base64), with room to spare.
	maxPayload = 4 << 20
)

// Options configure Start. The zero value is not usable: set Dir (embedded)
// or URL (external).
type Options struct {
	// Dir is the JetStream store directory of the embedded server, for
	// example <data>/nats. Required unless URL is set.
	Dir string
	// Listen is the "host:port" of the embedded server's TCP client
	// listener, so that tools such as the nats CLI can reach it; port 0
	// picks a free port. "" opens no listener: the server is reached
	// in-process only.
	Listen string
	// URL, if set, connects to this external NATS server or cluster
	// ("nats://a:4222,nats://b:4222") instead of embedding one; Dir, Listen
	// and ServerName are then ignored.
	URL string
	// ServerName names the embedded server; "" means "sluice".
	ServerName string
	// Logger receives nats-server's notices (Info), warnings (Warn) and
	// errors (Error); its debug and trace output is dropped. nil discards.
	Logger *slog.Logger
	// StartTimeout bounds Start together with its context; 0 means 10s.
	StartTimeout time.Duration
}

// Bus is a running NATS connection with JetStream, and the embedded server
// behind it when there is one. Its methods are safe for concurrent use.
type Bus struct {
	srv       *server.Server // nil when connected to an external server
	nc        *nats.Conn
	js        jetstream.JetStream
	clientURL string
	logger    *slog.Logger

	connClosed chan struct{} // closed by the connection's ClosedHandler
	closeOnce  sync.Once
	done       chan struct{} // closed when shutdown has finished
	closeErr   error         // written before done is closed
}

// Start starts an embedded NATS server with JetStream and connects to it
// in-process, or, when opts.URL is set, connects to that external server.
// It returns once the server is ready and JetStream is enabled, bounded by
// ctx and opts.StartTimeout.
func Start(ctx context.Context, opts Options) (*Bus, error) {
	if opts.ServerName == "" {
		opts.ServerName = defaultServerName
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("starting bus: %w", err)
	}

	if opts.URL != "" {
		b, err := connect(ctx, opts.URL, nil, logger)
		if err != nil {
			return nil, fmt.Errorf("connecting to NATS at %s: %w", opts.URL, err)
		}
		b.clientURL = opts.URL
		return b, nil
	}
	b, err := startEmbedded(ctx, opts, logger)
	if err != nil {
		return nil, fmt.Errorf("starting embedded NATS server: %w", err)
	}
	return b, nil
}

func startEmbedded(ctx context.Context, opts Options, logger *slog.Logger) (*Bus, error) {
	if opts.Dir == "" {
		return nil, ErrNoDir
	}
	sopts := &server.Options{
		ServerName: opts.ServerName,
		JetStream:  true,
		StoreDir:   opts.Dir,
		// SyncAlways stays false on purpose: see "Durability" in doc.go.
		MaxPayload: maxPayload,
		// The process's signals belong to cmd/sluice, not to nats-server,
		// which would otherwise exit the process on SIGINT and SIGTERM.
		NoSigs:     true,
		DontListen: opts.Listen == "",
		// HTTPPort, Cluster, Gateway, LeafNode, Websocket and MQTT stay
		// zero: no monitoring endpoint and no other listener.
	}
	if opts.Listen != "" {
		host, port, err := parseListen(opts.Listen)
		if err != nil {
			return nil, err
		}
		sopts.Host, sopts.Port = host, port
	}

	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("creating server: %w", err)
	}
	la := &logAdapter{logger: logger.With("component", "nats")}
	srv.SetLoggerV2(la, false, false, false)

	// Server.Start is synchronous (it recovers the JetStream store before
	// returning), so it runs aside to keep the wait bounded by ctx. With our
	// logger, nats-server's Fatalf logs and returns instead of exiting.
	started := make(chan struct{})
	go func() {
		defer close(started)
		srv.Start()
	}()
	fail := func(err error) (*Bus, error) {
		srv.Shutdown()
		return nil, err
	}
	select {
	case <-started:
	case <-ctx.Done():
		// Start may still be recovering the store; shut down aside so
		// that this return stays bounded. The shutdown may still touch
		// Dir for a moment after this function has returned.
		go srv.Shutdown()
		return nil, fmt.Errorf("waiting for the server to start: %w", ctx.Err())
	}
	if err := la.fatalErr(); err != nil {
		return fail(err)
	}
	// Start has returned, so a healthy server is ready at once; the
	// duration only covers the last bookkeeping.
	if !srv.ReadyForConnections(time.Until(deadline(ctx))) {
		if err := la.fatalErr(); err != nil {
			return fail(err)
		}
		return fail(errors.New("server not ready for connections"))
	}
	if !srv.JetStreamEnabled() {
		return fail(errors.New("JetStream not enabled"))
	}

	b, err := connect(ctx, srv.ClientURL(), srv, logger)
	if err != nil {
		return fail(fmt.Errorf("connecting in-process: %w", err))
	}
	if addr, ok := srv.Addr().(*net.TCPAddr); ok && opts.Listen != "" {
		b.clientURL = clientURL(sopts.Host, addr.Port)
	}
	return b, nil
}

// connect opens the bus's connection, in-process when srv is not nil.
func connect(ctx context.Context, url string, srv *server.Server, logger *slog.Logger) (*Bus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &Bus{
		srv:        srv,
		logger:     logger,
		connClosed: make(chan struct{}),
		done:       make(chan struct{}),
	}
	nopts := []nats.Option{
		nats.Name("sluice"),
		nats.Timeout(time.Until(deadline(ctx))),
		nats.ClosedHandler(func(*nats.Conn) { close(b.connClosed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				logger.Warn("NATS asynchronous error", "subject", sub.Subject, "err", err)
				return
			}
			logger.Warn("NATS asynchronous error", "err", err)
		}),
	}
	if srv != nil {
		nopts = append(nopts, nats.InProcessServer(srv))
	} else {
		// An external server may restart or fail over: keep reconnecting
		// until Close rather than giving up after the default 60 attempts.
		nopts = append(nopts,
			nats.MaxReconnects(-1),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				logger.Warn("NATS connection lost; reconnecting", "err", err)
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				logger.Info("NATS connection restored", "url", nc.ConnectedUrlRedacted())
			}),
		)
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("creating JetStream context: %w", err)
	}
	// Fail now, not at the relay's first publish, if the external server
	// has no JetStream for this account.
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("checking JetStream account: %w", err)
	}
	b.nc, b.js = nc, js
	return b, nil
}

// Conn returns the bus's connection: in-process when the server is
// embedded. Callers must not close it; Close does.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the JetStream API on Conn.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// ClientURL returns the URL other processes use to reach the server:
// the embedded server's listener ("" when it has none), or Options.URL.
func (b *Bus) ClientURL() string { return b.clientURL }

// EnsureStream creates the stream described by cfg, or updates it to cfg if
// it exists. It is idempotent. Updating fails for fields JetStream cannot
// change in place, such as the storage type.
func (b *Bus) EnsureStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := b.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensuring stream %q: %w", cfg.Name, err)
	}
	return s, nil
}

// Close drains the connection, then shuts the embedded server down and
// waits until it has, all bounded by ctx. If ctx ends first, Close closes
// the connection without draining, returns ctx's error and lets the
// shutdown finish in the background; calling Close again waits for it.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() { go b.shutdown() })
	select {
	case <-b.done:
		return b.closeErr
	case <-ctx.Done():
		// Abandon the drain so that the shutdown below it can proceed.
		b.nc.Close()
		return fmt.Errorf("closing bus: %w", ctx.Err())
	}
}

// shutdown runs once, in its own goroutine, on the first Close.
func (b *Bus) shutdown() {
	defer close(b.done)
	if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.closeErr = fmt.Errorf("draining NATS connection: %w", err)
		b.nc.Close()
	}
	// Bounded by the connection's drain timeout, or by Close closing the
	// connection when its context ends.
	<-b.connClosed
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// parseListen splits "host:port" into nats-server's Host and Port options.
func parseListen(listen string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("parsing listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("parsing listen address %q: invalid port %q", listen, portStr)
	}
	if port == 0 {
		// nats-server reads Port 0 as its default 4222 and -1 as "any".
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// clientURL is the URL a local client dials for a listener on host:port;
// an unspecified host (all interfaces) is dialled on loopback.
func clientURL(host string, port int) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// deadline returns ctx's deadline; Start always sets one.
func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(defaultStartTimeout)
	}
	return d
}
