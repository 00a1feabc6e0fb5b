package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/config"
)

// Stream layout, as cdc creates it (cdc.StreamName): one stream per table,
// named by the table's id, with the table's name in its metadata.
const (
	streamPrefix     = "sluice-t-"
	streamSubjects   = "sluice.t.>"
	tableMetadataKey = "sluice.table"
)

// Output formats of `sluice tail`.
const (
	formatJSON        = "json"
	formatCloudEvents = "cloudevents"
)

// flushDelay is how long tail keeps output buffered while no further record
// arrives: a backlog is written in large writes, a live change within
// flushDelay.
const flushDelay = 50 * time.Millisecond

// extensions maps the record's headers to the CloudEvents extension
// attributes that --format cloudevents prints (lower-case, as the spec
// requires).
var extensions = []struct{ header, name string }{
	{event.HdrSequence, "sequence"},
	{event.HdrPartitionKey, "partitionkey"},
	{event.HdrCorrelation, "correlationid"},
	{event.HdrAccessKey, "accesskeyid"},
	{event.HdrSourceAddr, "sourceaddr"},
	{event.HdrRequestID, "requestid"},
}

// streamSeqExtension names the extension attribute carrying the JetStream
// stream sequence of the record, the value --from SEQ takes. It is a string:
// a CloudEvents Integer has only 32 bits.
const streamSeqExtension = "streamsequence"

// tailOptions is a parsed `sluice tail` invocation.
type tailOptions struct {
	table   string
	from    startPoint
	format  string
	natsURL string
}

// startPoint says where in the stream tail starts.
type startPoint struct {
	kind string    // "latest", "trim-horizon", "seq" or "time"
	seq  uint64    // kind "seq"
	time time.Time // kind "time"
}

func newTailFlags(w io.Writer) (fs *flag.FlagSet, from, format, natsURL, file *string) {
	fs = flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(w)
	from = fs.String("from", "latest", "")
	format = fs.String("format", formatJSON, "")
	natsURL = fs.String("nats", "", "")
	file = fs.String("config", "", "")
	fs.Usage = func() { tailUsage(w) }
	return fs, from, format, natsURL, file
}

func tailUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice tail TABLE [--from POSITION] [--format json|cloudevents] [--nats URL]

Prints the changes of TABLE as they happen, one JSON object per line, until
interrupted (Ctrl-C or SIGTERM; exit status 0). It reads the table's stream
on the server's NATS JetStream: sluice-t-<table id>, the newest stream whose
metadata sluice.table names TABLE. Within a shard the changes come in commit
order; see docs/change-feed.md.

Flags:
  --from POSITION
    	where to start (default latest):
    	  latest        only changes stored from now on
    	  trim-horizon  every change still retained (24 hours by default), then live
    	  SEQ           the JetStream stream sequence SEQ (1, 2, ...), as printed in
    	                "streamsequence" by --format cloudevents; not the per-shard
    	                SequenceNumber (ce-sequence)
    	  TIME          an RFC 3339 time, e.g. 2026-01-02T15:04:05Z: changes that
    	                JetStream stored at or after it
    	  DURATION      e.g. 90s, 10m or 2h: changes stored that long ago or later
  --format FORMAT
    	json (default): the DynamoDB Streams record, the message data as it is;
    	cloudevents: the CloudEvent in JSON format (specversion, id, source, type,
    	subject, time, datacontenttype, data, and the extensions sequence,
    	partitionkey, correlationid, accesskeyid, sourceaddr, requestid and
    	streamsequence)
  --nats URL
    	the server's NATS, e.g. nats://127.0.0.1:4222. Default: the nats-url
    	setting (SLUICE_NATS_URL) if set, else nats://<nats-listen>
    	(SLUICE_NATS_LISTEN, default 127.0.0.1:4222), read like sluice serve does
  --config FILE
    	the YAML configuration file of sluice serve, for nats-url and
    	nats-listen (env SLUICE_CONFIG)
`)
}

// tailCommand runs `sluice tail` and returns the exit status: 0 when stopped
// by a signal, 1 when tailing failed, 2 for a bad invocation.
func tailCommand(args []string, stdout, stderr io.Writer) int {
	opts, err := parseTailArgs(args, os.LookupEnv, time.Now(), stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		var pe parseError
		if !errors.As(err, &pe) {
			fmt.Fprintf(stderr, "sluice tail: %s\n", oneLine(err))
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills at once
	if err := tail(ctx, opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sluice tail: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// parseTailArgs parses the arguments of `sluice tail`, which may put flags
// before or after TABLE. lookup is os.LookupEnv outside tests; now anchors a
// relative --from.
func parseTailArgs(args []string, lookup func(string) (string, bool), now time.Time, w io.Writer) (tailOptions, error) {
	fs, from, format, natsURL, file := newTailFlags(w)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return tailOptions{}, parseError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return tailOptions{}, fmt.Errorf("tail takes one TABLE, got %d arguments (see sluice help tail)", len(pos))
	}
	opts := tailOptions{table: pos[0], format: *format, natsURL: *natsURL}
	if opts.table == "" {
		return tailOptions{}, errors.New("TABLE is empty")
	}
	switch opts.format {
	case formatJSON, formatCloudEvents:
	default:
		return tailOptions{}, fmt.Errorf("--format: %q is not json or cloudevents", opts.format)
	}
	var err error
	if opts.from, err = parseFrom(*from, now); err != nil {
		return tailOptions{}, fmt.Errorf("--from: %w", err)
	}
	if opts.natsURL == "" {
		if opts.natsURL, err = serverNATSURL(*file, lookup); err != nil {
			return tailOptions{}, err
		}
	}
	return opts, nil
}

// parseFrom parses --from.
func parseFrom(s string, now time.Time) (startPoint, error) {
	var p startPoint
	switch strings.ReplaceAll(strings.ToLower(s), "_", "-") {
	case "latest":
		p.kind = "latest"
		return p, nil
	case "trim-horizon":
		p.kind = "trim-horizon"
		return p, nil
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		seq, err := strconv.ParseUint(s, 10, 64)
		switch {
		case err != nil:
			return p, fmt.Errorf("stream sequence %q is out of range", s)
		case seq == 0:
			return p, errors.New("stream sequences start at 1")
		case s[0] == '0':
			// A zero-padded number is a per-shard SequenceNumber
			// (ce-sequence), which names no position in the stream.
			return p, fmt.Errorf("%q looks like a per-shard SequenceNumber; --from takes a JetStream stream sequence (streamsequence in --format cloudevents), a time or a duration", s)
		}
		p.kind, p.seq = "seq", seq
		return p, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		p.kind, p.time = "time", t
		return p, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		p.kind, p.time = "time", now.Add(-d)
		return p, nil
	}
	return p, fmt.Errorf("%q is not latest, trim-horizon, a stream sequence, an RFC 3339 time or a duration", s)
}

// serverNATSURL reads the NATS URL the way `sluice serve` configures it: the
// defaults, then the config file (path, or SLUICE_CONFIG), then SLUICE_*.
func serverNATSURL(path string, lookup func(string) (string, bool)) (string, error) {
	cfg := config.Default()
	if path == "" {
		path, _ = lookup(configEnv)
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return "", err
		}
	}
	if err := cfg.LoadEnv(lookup); err != nil {
		return "", err
	}
	if cfg.NATSURL != "" {
		return cfg.NATSURL, nil
	}
	if cfg.NATSListen == "" {
		return "", errors.New("the server's NATS listener is off (nats-listen is empty): pass --nats URL")
	}
	host, port, err := net.SplitHostPort(cfg.NATSListen)
	if err != nil {
		return "", fmt.Errorf("nats-listen %q: %w", cfg.NATSListen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("nats-listen %q picks a free port: pass --nats with the URL from the server's ready line", cfg.NATSListen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port), nil
}

// tail prints the table's records to stdout until ctx ends (nil) or reading
// fails.
func tail(ctx context.Context, opts tailOptions, stdout, stderr io.Writer) error {
	nc, err := nats.Connect(opts.natsURL,
		nats.Name("sluice tail"),
		nats.Timeout(5*time.Second),
		// Keep following through a server restart: the ordered consumer
		// resumes after the last record it delivered.
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				fmt.Fprintf(stderr, "sluice tail: NATS connection lost (%v); reconnecting\n", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			fmt.Fprintln(stderr, "sluice tail: NATS connection restored")
		}),
	)
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w (is sluice serve running, with its NATS listener on? see --nats)", opts.natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("creating JetStream context: %w", err)
	}
	info, err := waitTableStream(ctx, js, opts.table)
	if ctx.Err() != nil {
		return nil // interrupted while looking
	}
	if err != nil {
		return err
	}
	stream, err := js.Stream(ctx, info.Config.Name)
	if err != nil {
		return fmt.Errorf("opening stream %s: %w", info.Config.Name, err)
	}
	cfg := jetstream.OrderedConsumerConfig{}
	var note string
	switch opts.from.kind {
	case "trim-horizon":
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
		note = fmt.Sprintf("from the oldest retained record (stream sequence %d)", max(info.State.FirstSeq, 1))
	case "latest":
		// Pinned to the stream's end now (rather than DeliverNew), so a
		// consumer reset before the first record skips nothing.
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = info.State.LastSeq + 1
		note = fmt.Sprintf("from stream sequence %d on (new changes)", cfg.OptStartSeq)
	case "seq":
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = opts.from.seq
		note = fmt.Sprintf("from stream sequence %d", opts.from.seq)
		if info.State.Msgs > 0 && opts.from.seq < info.State.FirstSeq {
			note += fmt.Sprintf(" (records before %d are no longer retained)", info.State.FirstSeq)
		}
	case "time":
		t := opts.from.time
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &t
		note = "from records stored at or after " + t.UTC().Format(time.RFC3339)
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("creating a consumer on %s: %w", info.Config.Name, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("reading %s: %w", info.Config.Name, err)
	}
	defer func() {
		it.Stop()
		// The ordered consumer is ephemeral; remove it now rather than
		// after its inactivity threshold (best effort).
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if ci := cons.CachedInfo(); ci != nil {
			_ = stream.DeleteConsumer(dctx, ci.Name)
		}
	}()
	context.AfterFunc(ctx, it.Stop)
	fmt.Fprintf(stderr, "sluice tail: table %s, stream %s on %s, %s\n", opts.table, info.Config.Name, nc.ConnectedUrlRedacted(), note)

	w := bufio.NewWriterSize(stdout, 64<<10)
	for {
		var m jetstream.Msg
		if w.Buffered() > 0 {
			m, err = it.Next(jetstream.NextMaxWait(flushDelay))
		} else {
			m, err = it.Next()
		}
		if errors.Is(err, nats.ErrTimeout) {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("writing: %w", err)
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return w.Flush()
			}
			w.Flush()
			return fmt.Errorf("reading %s: %w", info.Config.Name, err)
		}
		line, err := formatRecord(m, opts.format)
		if err != nil {
			// Not a record Sluice wrote (someone published on the
			// subject): say so and go on.
			fmt.Fprintf(stderr, "sluice tail: skipping a message: %s\n", oneLine(err))
			continue
		}
		w.Write(line)
		if err := w.WriteByte('\n'); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
}

// errNoStream: no stream names the table.
var errNoStream = errors.New("no change stream")

// streamWait bounds how long tail waits for a table's stream to appear: the
// relay creates it on its next poll (once a second) after CreateTable.
const streamWait = 3 * time.Second

// waitTableStream finds the table's stream, waiting up to streamWait for it
// to appear. It returns nil, nil if ctx ends first.
func waitTableStream(ctx context.Context, js jetstream.JetStream, table string) (*jetstream.StreamInfo, error) {
	deadline := time.Now().Add(streamWait)
	for {
		info, err := findTableStream(ctx, js, table)
		if !errors.Is(err, errNoStream) || time.Now().After(deadline) {
			return info, err
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// findTableStream returns the stream of the named table: among the streams
// whose metadata names it, the one of the highest table id, which is the
// newest table of that name.
func findTableStream(ctx context.Context, js jetstream.JetStream, table string) (*jetstream.StreamInfo, error) {
	var best *jetstream.StreamInfo
	var bestID uint64
	lister := js.ListStreams(ctx, jetstream.WithStreamListSubject(streamSubjects))
	for info := range lister.Info() {
		if info.Config.Metadata[tableMetadataKey] != table {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimPrefix(info.Config.Name, streamPrefix), 10, 32)
		if err != nil || !strings.HasPrefix(info.Config.Name, streamPrefix) {
			continue
		}
		if best == nil || id > bestID {
			best, bestID = info, id
		}
	}
	if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("listing streams: %w (is this the NATS of a sluice server?)", err)
		}
		return nil, fmt.Errorf("listing streams: %w", err)
	}
	if best == nil {
		return nil, fmt.Errorf("%w for table %q: no table of that name on this server (a new table's stream appears within a second of CreateTable)", errNoStream, table)
	}
	return best, nil
}

// formatRecord renders one message as a line of output, without the newline.
func formatRecord(m jetstream.Msg, format string) ([]byte, error) {
	if format == formatJSON {
		return m.Data(), nil
	}
	md, err := m.Metadata()
	if err != nil {
		return nil, fmt.Errorf("reading message metadata: %w", err)
	}
	e, err := cloudEvent(m.Headers(), m.Data(), md.Sequence.Stream)
	if err != nil {
		return nil, fmt.Errorf("record at stream sequence %d: %w", md.Sequence.Stream, err)
	}
	// MarshalJSON, not json.Marshal, which would escape <, > and & in the
	// item images: the data stays byte for byte as the record has it.
	return e.MarshalJSON()
}

// cloudEvent builds the CloudEvent of a record from its NATS binary-mode
// headers and data, adding the stream sequence as an extension.
func cloudEvent(h nats.Header, data []byte, streamSeq uint64) (*cloudevents.Event, error) {
	if v := h.Get(event.HdrSpecVersion); v != cloudevents.CloudEventsVersionV1 {
		return nil, fmt.Errorf("unsupported CloudEvents specversion %q", v)
	}
	e := cloudevents.New(cloudevents.CloudEventsVersionV1)
	e.SetID(h.Get(event.HdrID))
	e.SetSource(h.Get(event.HdrSource))
	e.SetType(h.Get(event.HdrType))
	if s := h.Get(event.HdrSubject); s != "" {
		e.SetSubject(s)
	}
	if s := h.Get(event.HdrTime); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", event.HdrTime, err)
		}
		e.SetTime(t)
	}
	for _, x := range extensions {
		if v := h.Get(x.header); v != "" {
			e.SetExtension(x.name, v)
		}
	}
	e.SetExtension(streamSeqExtension, strconv.FormatUint(streamSeq, 10))
	contentType := h.Get(event.HdrContentType)
	if contentType == "" {
		contentType = cloudevents.ApplicationJSON
	}
	// The data is already JSON: set it encoded. (SetData would take []byte
	// for binary data and print it as base64 "data_base64", and would pass
	// a json.RawMessage through json.Marshal, escaping <, > and &.)
	if !json.Valid(data) {
		return nil, errors.New("data is not JSON")
	}
	e.SetDataContentType(contentType)
	e.DataEncoded, e.DataBase64 = data, false
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}
