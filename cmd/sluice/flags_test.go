package main

import (
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sluicedb/sluice/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	yaml := "listen: 127.0.0.1:9001\nregion: eu-west-1\nshard-bits: 3\ndurability: relaxed\nlog-format: json\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(
		[]string{"--config", file, "--listen", "127.0.0.1:9003", "--durability", "fsync", "--nats-listen=", "--ttl-interval", "250ms"},
		env(map[string]string{
			"SLUICE_LISTEN":     "127.0.0.1:9002",
			"SLUICE_REGION":     "ap-south-1",
			"SLUICE_DURABILITY": "relaxed",
			"SLUICE_RETENTION":  "2h",
		}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Listen = "127.0.0.1:9003" // flag over env over file
	want.Region = "ap-south-1"     // env over file
	want.ShardBits = 3             // file over default
	want.LogFormat = "json"        // file over default
	want.Durability = "fsync"      // a flag set to the default value still wins
	want.NATSListen = ""           // an empty flag turns the listener off
	want.Retention = 2 * time.Hour // env over default
	want.TTLInterval = 250 * time.Millisecond
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(file, []byte("account-id: \"123456789012\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(nil, env(map[string]string{configEnv: file}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccountID != "123456789012" {
		t.Errorf("account-id = %q, want 123456789012", cfg.AccountID)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"bad durability flag", []string{"--durability", "sometimes"}, nil},
		{"bad shard bits flag", []string{"--shard-bits", "many"}, nil},
		{"bad env", nil, map[string]string{"SLUICE_RETENTION": "forever"}},
		{"unknown flag", []string{"--nope"}, nil},
		{"argument", []string{"extra"}, nil},
		{"missing file", []string{"--config", "/nonexistent/sluice.yaml"}, nil},
		{"empty data", []string{"--data="}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadConfig(tc.args, env(tc.env), io.Discard); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := loadConfig([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
}

// TestEveryKeyHasAFlag keeps serve's flags in step with the config schema.
// Lists (triggers, sinks) are declared only in the config file.
func TestEveryKeyHasAFlag(t *testing.T) {
	var keys, flags []string
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		if typ.Field(i).Type.Kind() == reflect.Slice {
			continue
		}
		keys = append(keys, typ.Field(i).Tag.Get("yaml"))
	}
	for _, f := range serveFlags {
		flags = append(flags, f.key)
	}
	slices.Sort(keys)
	slices.Sort(flags)
	if !slices.Equal(keys, flags) {
		t.Errorf("config keys %v, serve flags %v", keys, flags)
	}
}

func TestReadyLine(t *testing.T) {
	cfg := config.Default()
	api := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
	for _, tc := range []struct {
		name    string
		natsURL string // cfg.NATSURL
		client  string // Bus.ClientURL
		api     net.Addr
		want    string
	}{
		{"embedded", "", "nats://127.0.0.1:4222", api,
			"sluice ready: DynamoDB API on http://127.0.0.1:8000, NATS on nats://127.0.0.1:4222, data in ./sluice-data (fsync durability)"},
		{"in-process", "", "", api,
			"sluice ready: DynamoDB API on http://127.0.0.1:8000, NATS in-process only, data in ./sluice-data (fsync durability)"},
		{"external", "nats://nats.example:4222", "nats://nats.example:4222", api,
			"sluice ready: DynamoDB API on http://127.0.0.1:8000, external NATS at nats://nats.example:4222, data in ./sluice-data (fsync durability)"},
		{"all interfaces", "", "", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8001},
			"sluice ready: DynamoDB API on http://127.0.0.1:8001, NATS in-process only, data in ./sluice-data (fsync durability)"},
		{"ipv6", "", "", &net.TCPAddr{IP: net.IPv6loopback, Port: 8002},
			"sluice ready: DynamoDB API on http://[::1]:8002, NATS in-process only, data in ./sluice-data (fsync durability)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.NATSURL = tc.natsURL
			if got := readyLine(c, tc.api, tc.client); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{24 * time.Hour, "24h"}, {time.Minute, "1m"}, {90 * time.Minute, "1h30m"}, {90 * time.Second, "1m30s"}, {time.Second, "1s"}} {
		if got := shortDuration(tc.d); got != tc.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
