package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(p, []byte("listen: 127.0.0.1:9000\ndurability: relaxed\nretention: 2h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLUICE_LISTEN": "127.0.0.1:9001", "SLUICE_NATS_LISTEN": ""}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9001" || c.Durability != DurabilityRelaxed || c.NATSListen != "" || c.Retention != 2*time.Hour {
		t.Fatalf("got %+v", c)
	}
}

func TestStrictAndValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"listn: x\n", "field listn not found"},
		{"durability: maybe\n", "durability"},
		{"shard-bits: 11\n", "shard-bits"},
		{"ttl-interval: 5ms\n", "ttl-interval"},
		{"ttl-interval: 2h\n", "ttl-interval"},
		{"ttl-busy-rate: 0\n", "ttl-busy-rate"},
		{"ttl-busy-rate: 2000000\n", "ttl-busy-rate"},
		{"item-cache-mb: -1\n", "item-cache-mb"},
		{"item-cache-mb: 70000\n", "item-cache-mb"},
		{"account-id: abc\n", "account-id"},
		{"", ""},
	} {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c := Default()
		err := c.LoadFile(p)
		if err == nil {
			err = c.Validate()
		}
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.yaml, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want error containing %q", tc.yaml, err, tc.want)
		}
	}
}
