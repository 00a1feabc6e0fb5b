package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/sluicedb/sluice/config"
)

// serveFlags are the settings `sluice serve` takes on the command line, in
// the order help shows them. Each flag is named by its config key, so the
// flag, the YAML key and the SLUICE_* variable always agree.
var serveFlags = []struct{ key, usage string }{
	{"listen", "`address` of the DynamoDB API (host:port; port 0 picks a free one)"},
	{"data", "data `directory` (engine store and JetStream files)"},
	{"nats-listen", "`address` of the embedded NATS client listener; empty: in-process only"},
	{"nats-url", "external NATS `url` to use instead of the embedded server"},
	{"durability", "durability `mode`: fsync (acknowledge after fsync) or relaxed (before)"},
	{"region", "AWS `region` named in ARNs"},
	{"account-id", "12-digit AWS account `id` named in ARNs"},
	{"shard-bits", "each new table gets 2^`n` stream shards"},
	{"retention", "`duration` change records are kept, e.g. 24h or 90m"},
	{"stream-shard-rollover", "`duration` a DynamoDB Streams shard stays open before the next change rolls it over"},
	{"ttl-interval", "`duration` between TTL reaper passes: an expired item is deleted within about this"},
	{"ttl-busy-rate", "expired `items` a second the TTL reaper deletes while other writes commit; as fast as it can otherwise"},
	{"item-cache-mb", "`MiB` of recently written items kept in memory for the writes that replace them; 0: none"},
	{"log-level", "`level`: debug, info, warn or error"},
	{"log-format", "`format`: text or json"},
}

// configEnv names the environment variable that may give the config file.
const configEnv = "SLUICE_CONFIG"

// newServeFlags returns the serve flag set, writing usage and errors to w,
// and the pointer that receives --config.
func newServeFlags(w io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(w)
	def := config.Default()
	for _, f := range serveFlags {
		fs.String(f.key, fieldText(&def, f.key), f.usage)
	}
	file := fs.String("config", "", "YAML configuration `file`")
	fs.Usage = func() {
		fmt.Fprint(w, "Usage: sluice serve [flags]\n\n"+
			"Starts Sluice: the DynamoDB API over HTTP, the change stream on NATS JetStream.\n"+
			"Precedence, lowest first: defaults, --config file, SLUICE_* environment, flags.\n\n"+
			"Flags:\n")
		names := []string{"config"}
		for _, f := range serveFlags {
			names = append(names, f.key)
		}
		for _, n := range names {
			f := fs.Lookup(n)
			name, usage := flag.UnquoteUsage(f)
			env := config.EnvName(f.Name)
			if f.Name == "config" {
				env = configEnv
			}
			fmt.Fprintf(w, "  --%s %s\n    \t%s\n    \tenv %s", f.Name, name, usage, env)
			if f.DefValue != "" {
				fmt.Fprintf(w, ", default %q", f.DefValue)
			}
			fmt.Fprintln(w)
		}
	}
	return fs, file
}

// parseError is a flag error that the flag package has already printed,
// with the usage, so the caller prints nothing more.
type parseError struct{ err error }

func (e parseError) Error() string { return e.err.Error() }
func (e parseError) Unwrap() error { return e.err }

// loadConfig builds the configuration of `sluice serve` from its arguments
// and the environment (lookup is os.LookupEnv outside tests): defaults, then
// the --config file, then SLUICE_* variables, then the flags that args set
// explicitly. Usage and flag errors are written to w; -h and --help give
// an error matching flag.ErrHelp.
func loadConfig(args []string, lookup func(string) (string, bool), w io.Writer) (config.Config, error) {
	fs, file := newServeFlags(w)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, parseError{err} // flag.ErrHelp for -h
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	cfg := config.Default()
	path := *file
	if path == "" {
		path, _ = lookup(configEnv)
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return config.Config{}, err
		}
	}
	if err := cfg.LoadEnv(lookup); err != nil {
		return config.Config{}, err
	}
	var errs []error
	// Visit sees only the flags set on the command line, so a flag's default
	// never overrides the file or the environment.
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		if err := config.SetField(&cfg, f.Name, f.Value.String()); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.Name, err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	if cfg.Data == "" {
		// The engine always needs a directory, even with an external NATS.
		return config.Config{}, errors.New("invalid configuration: data: must be set")
	}
	return cfg, nil
}

// fieldText is the text of the config field with the given yaml key, as a
// flag default is shown.
func fieldText(c *config.Config, key string) string {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != key {
			continue
		}
		switch x := v.Field(i).Interface().(type) {
		case time.Duration:
			return shortDuration(x)
		default:
			return fmt.Sprint(x)
		}
	}
	return ""
}

// shortDuration prints 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
