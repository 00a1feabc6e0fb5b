// Package config is Sluice's configuration schema and its defaults.
//
// Precedence, lowest first: defaults, the YAML file (--config), SLUICE_*
// environment variables, command-line flags. Only cmd/sluice reads files and
// the environment; it copies fields into each package's Options.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Durability modes.
const (
	// DurabilityFsync acknowledges a write only after its batch is fsynced.
	DurabilityFsync = "fsync"
	// DurabilityRelaxed acknowledges once the batch is in the OS page cache:
	// a process crash loses nothing, a machine crash may lose the last
	// moments of acknowledged writes.
	DurabilityRelaxed = "relaxed"
)

// Config is everything `sluice serve` can be told. Each field has a yaml key,
// a SLUICE_ environment variable (the key upper-cased, dashes and dots as
// underscores) and, for the common ones, a flag of the same name.
type Config struct {
	Listen     string `yaml:"listen"`      // DynamoDB and Streams API address
	Data       string `yaml:"data"`        // data directory
	NATSListen string `yaml:"nats-listen"` // embedded NATS client listener; "" turns it off
	NATSURL    string `yaml:"nats-url"`    // external NATS instead of the embedded one
	Durability string `yaml:"durability"`  // fsync or relaxed
	Region     string `yaml:"region"`
	AccountID  string `yaml:"account-id"`
	LogLevel   string `yaml:"log-level"`  // debug, info, warn, error
	LogFormat  string `yaml:"log-format"` // text or json
	// ShardBits: each new table has 2^ShardBits stream shards.
	ShardBits int `yaml:"shard-bits"`
	// Retention of the change stream (JetStream MaxAge and WAL trimming).
	Retention time.Duration `yaml:"retention"`
	// StreamShardRollover is how long a DynamoDB Streams shard stays open
	// before the next change closes it and opens its child.
	StreamShardRollover time.Duration `yaml:"stream-shard-rollover"`
	// TTLInterval is how often the TTL reaper deletes the items that have
	// expired: an item goes within about this plus the expiry index's lag.
	TTLInterval time.Duration `yaml:"ttl-interval"`
	// TTLBusyRate is how many expired items a second the TTL reaper deletes
	// while other writes commit, so that they keep most of the machine;
	// with nothing else written it deletes as fast as it can.
	TTLBusyRate int `yaml:"ttl-busy-rate"`
	// ItemCacheMB is how many MiB of recently written items the engine
	// keeps in memory to answer the read every write makes of the item it
	// replaces; 0 turns the cache off.
	ItemCacheMB int `yaml:"item-cache-mb"`
	// Triggers are function triggers to create, or update to these
	// settings, at start (they are managed at run time with `sluice
	// triggers`, and persist).
	Triggers []Trigger `yaml:"triggers"`
	// Sinks copy tables' changes to search, analytics, audit or another
	// database; created or updated at start like Triggers.
	Sinks []Sink `yaml:"sinks"`
}

// Default returns the defaults: a single machine, fsync durability.
func Default() Config {
	return Config{
		Listen:     "127.0.0.1:8000",
		Data:       "./sluice-data",
		NATSListen: "127.0.0.1:4222",
		Durability: DurabilityFsync,
		Region:     "us-east-1",
		AccountID:  "000000000000",
		LogLevel:   "info",
		LogFormat:  "text",
		ShardBits:  2,
		Retention:  24 * time.Hour,

		StreamShardRollover: 4 * time.Hour,
		TTLInterval:         time.Second,
		TTLBusyRate:         5500,
		ItemCacheMB:         16,
	}
}

// LoadFile overlays the YAML file at path onto c. Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parsing config %s: %w", path, err)
	}
	return nil
}

// EnvName is the environment variable for a yaml key.
func EnvName(key string) string {
	return "SLUICE_" + strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(key))
}

// LoadEnv overlays SLUICE_* variables from lookup (os.LookupEnv in cmd).
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("yaml")
		s, ok := lookup(EnvName(key))
		if !ok {
			continue
		}
		if err := SetField(c, key, s); err != nil {
			return fmt.Errorf("%s: %w", EnvName(key), err)
		}
	}
	return nil
}

// SetField sets the field with the given yaml key from text.
func SetField(c *Config, key, s string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != key {
			continue
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(s)
		case int:
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("invalid integer %q", s)
			}
			f.SetInt(int64(n))
		case time.Duration:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("invalid duration %q", s)
			}
			f.SetInt(int64(d))
		default:
			return fmt.Errorf("unsupported field type for %s", key)
		}
		return nil
	}
	return fmt.Errorf("unknown setting %q", key)
}

// Validate checks values that have a fixed set of choices or a range.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must be set"))
	}
	if c.Data == "" && c.NATSURL == "" {
		errs = append(errs, errors.New("data: must be set"))
	}
	switch c.Durability {
	case DurabilityFsync, DurabilityRelaxed:
	default:
		errs = append(errs, fmt.Errorf("durability: %q is not fsync or relaxed", c.Durability))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFormat))
	}
	if c.ShardBits < 0 || c.ShardBits > 10 {
		errs = append(errs, fmt.Errorf("shard-bits: %d is not within 0..10", c.ShardBits))
	}
	if c.Retention < time.Minute {
		errs = append(errs, fmt.Errorf("retention: %s is under a minute", c.Retention))
	}
	if c.StreamShardRollover < time.Second {
		errs = append(errs, fmt.Errorf("stream-shard-rollover: %s is under a second", c.StreamShardRollover))
	}
	if c.TTLInterval < 10*time.Millisecond || c.TTLInterval > time.Hour {
		errs = append(errs, fmt.Errorf("ttl-interval: %s is not within 10ms..1h", c.TTLInterval))
	}
	if c.TTLBusyRate < 1 || c.TTLBusyRate > 1_000_000 {
		errs = append(errs, fmt.Errorf("ttl-busy-rate: %d is not within 1..1000000", c.TTLBusyRate))
	}
	if c.ItemCacheMB < 0 || c.ItemCacheMB > 1<<16 {
		errs = append(errs, fmt.Errorf("item-cache-mb: %d is not within 0..65536", c.ItemCacheMB))
	}
	names := map[string]bool{}
	for i := range c.Triggers {
		t := &c.Triggers[i]
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("triggers[%d]: %w", i, err))
		}
		if names[t.Name] {
			errs = append(errs, fmt.Errorf("triggers[%d]: name %q is used twice", i, t.Name))
		}
		names[t.Name] = true
	}
	sinkNames := map[string]bool{}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("sinks[%d]: %w", i, err))
		}
		if sinkNames[s.Name] {
			errs = append(errs, fmt.Errorf("sinks[%d]: name %q is used twice", i, s.Name))
		}
		sinkNames[s.Name] = true
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("account-id: %q is not 12 digits", c.AccountID))
	}
	return errors.Join(errs...)
}
