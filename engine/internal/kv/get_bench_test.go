package kv

import (
	"errors"
	"fmt"
	"testing"
)

// BenchmarkProbe compares Get and Probe on hits and misses in a store whose
// data was compacted into the last level.
func BenchmarkProbe(b *testing.B) {
	d, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	const n = 300_000
	val := make([]byte, 300)
	for i := 0; i < n; i += 1000 {
		bt := d.NewBatch()
		for j := i; j < i+1000; j++ {
			bt.Set(fmt.Appendf(nil, "i%08d", 2*j), val) // even keys only
		}
		if err := bt.Commit(false); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.p.Compact(b.Context(), []byte("i"), []byte("j"), true); err != nil {
		b.Fatal(err)
	}
	for _, fn := range []struct {
		name string
		get  func([]byte) ([]byte, error)
	}{{"get", d.Get}, {"probe", d.Probe}} {
		for _, hit := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/hit=%v", fn.name, hit), func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++
					k := 2 * (i * 7919 % n)
					if !hit {
						k++
					}
					_, err := fn.get(fmt.Appendf(nil, "i%08d", k))
					if hit != (err == nil) || (err != nil && !errors.Is(err, ErrNotFound)) {
						b.Fatalf("key %d: %v", k, err)
					}
				}
			})
		}
	}
}

func TestProbe(t *testing.T) {
	d, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bt := d.NewBatch()
	bt.Set([]byte("a"), []byte("1"))
	bt.Set([]byte("ab"), []byte("2"))
	if err := bt.Commit(false); err != nil {
		t.Fatal(err)
	}
	if err := d.p.Compact(t.Context(), []byte("a"), []byte("b"), true); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"a": "1", "ab": "2", "aa": "", "": "", "b": ""} {
		v, err := d.Probe([]byte(key))
		if want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Probe(%q) = %q, %v; want ErrNotFound", key, v, err)
			}
			continue
		}
		if err != nil || string(v) != want {
			t.Errorf("Probe(%q) = %q, %v; want %q", key, v, err, want)
		}
	}
}
