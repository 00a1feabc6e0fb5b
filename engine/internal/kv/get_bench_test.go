package kv

import (
	"errors"
	"fmt"
	"testing"
)

// compactedStore opens a store holding the even keys "i%08d" of 2*[0, n),
// 300-byte values, compacted into the last level; it closes with b.
func compactedStore(b *testing.B, n int) *DB {
	d, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	val := make([]byte, 300)
	for i := 0; i < n; i += 1000 {
		bt := d.NewBatch()
		for j := i; j < i+1000; j++ {
			bt.Set(fmt.Appendf(nil, "i%08d", 2*j), val)
		}
		if err := bt.Commit(false); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.p.Compact(b.Context(), []byte("i"), []byte("j"), true); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkProbe compares Get and Probe on hits and misses in a store whose
// data was compacted into the last level.
func BenchmarkProbe(b *testing.B) {
	const n = 300_000
	d := compactedStore(b, n)
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

// BenchmarkProbeBatch compares 25 Probes with one ProbeAll of the same
// keys, most absent, as BatchWriteItem of fresh items looks them up.
func BenchmarkProbeBatch(b *testing.B) {
	const n = 300_000
	d := compactedStore(b, n)
	keys := make([][]byte, 25)
	next := func(i int) {
		for j := range keys {
			keys[j] = fmt.Appendf(keys[j][:0], "i%08d", (i*25+j)*7919%n*2+1) // odd: absent
		}
	}
	b.Run("probe", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			next(i)
			for _, k := range keys {
				if _, err := d.Probe(k); err != nil && !errors.Is(err, ErrNotFound) {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("probeall", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			next(i)
			if _, err := d.ProbeAll(keys); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestProbeAll(t *testing.T) {
	d, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bt := d.NewBatch()
	for _, k := range []string{"a", "ab", "c", "d"} {
		bt.Set([]byte(k), []byte("v"+k))
	}
	bt.Set([]byte("e"), nil) // present, empty
	if err := bt.Commit(false); err != nil {
		t.Fatal(err)
	}
	if err := d.p.Compact(t.Context(), []byte("a"), []byte("b"), true); err != nil {
		t.Fatal(err)
	}
	bt = d.NewBatch()
	bt.Set([]byte("d"), []byte("new d")) // in the memtable, over the compacted value
	bt.Delete([]byte("c"))
	if err := bt.Commit(false); err != nil {
		t.Fatal(err)
	}
	keys := []string{"d", "aa", "ab", "", "c", "a", "b", "e"}
	want := []string{"new d", "", "vab", "", "", "va", "", "(empty)"}
	in := make([][]byte, len(keys))
	for i, k := range keys {
		in[i] = []byte(k)
	}
	got, err := d.ProbeAll(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		w := want[i]
		if w == "(empty)" {
			w = ""
		}
		if (want[i] == "") != (got[i] == nil) || string(got[i]) != w {
			t.Errorf("ProbeAll: %q = %q, want %q", keys[i], got[i], want[i])
		}
	}
	if v, err := d.Probe([]byte("e")); err != nil || v == nil || len(v) != 0 {
		t.Errorf("Probe of an empty value = %q, %v; want an empty value", v, err)
	}
	if got, err := d.ProbeAll(nil); err != nil || len(got) != 0 {
		t.Errorf("ProbeAll(nil) = %q, %v", got, err)
	}
}
