package shards

import (
	"fmt"
	"math"
	"testing"
)

func TestOfRange(t *testing.T) {
	for _, bits := range []uint8{0, 1, 2, 4, 8, MaxBits} {
		for _, h := range []Hash{0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678} {
			id := Of(h, bits)
			if int(id) >= Count(bits) {
				t.Fatalf("bits=%d h=%#x: shard %d out of %d", bits, h, id, Count(bits))
			}
			start, end := Range(id, bits)
			if uint64(h) < uint64(start) || uint64(h) >= end {
				t.Fatalf("bits=%d h=%#x: shard %d range [%#x,%#x) does not hold it", bits, h, id, start, end)
			}
		}
	}
}

func TestHashKeyStable(t *testing.T) {
	// The hash is part of the on-disk format: these values must never change.
	for _, tc := range []struct {
		version uint8
		typ     byte
		key     string
		want    Hash
	}{
		{HashFNV, 'S', "user#1", 0x2992b599},
		{HashFNV, 'N', "1", 0x83e6f3a0},
		{HashXX, 'S', "user#1", 0x17390037},
		{HashXX, 'N', "1", 0x301ab848},
	} {
		if got := HashKey(tc.version, tc.typ, []byte(tc.key)); got != tc.want {
			t.Errorf("HashKey(%d, %c, %q) = %#x, want %#x", tc.version, tc.typ, tc.key, got, tc.want)
		}
	}
}

// TestHashSpread checks that sequential keys, which differ in their last
// bytes only, spread over the shards with the current hash (FNV-1a puts
// "user0".."user9" in one shard of four).
func TestHashSpread(t *testing.T) {
	for _, prefix := range []string{"user", "k", "acct-00", "2026-11-21T08:00:0"} {
		var n [16]int
		for i := range 1600 {
			n[Of(HashKey(HashXX, 'S', []byte(fmt.Sprint(prefix, i))), 4)]++
		}
		for sh, c := range n {
			if c < 60 || c > 140 { // 100 expected per shard
				t.Errorf("prefix %q: shard %d of 16 holds %d of 1600 keys", prefix, sh, c)
			}
		}
	}
}

func TestSeqText(t *testing.T) {
	for _, tc := range []struct {
		seq  Seq
		want string
	}{
		{1, "000000000000000000001"},
		{1234567890, "000000000001234567890"},
		{0, "000000000000000000000"},
		{math.MaxUint64, "018446744073709551615"},
	} {
		if got := tc.seq.String(); got != tc.want {
			t.Errorf("%d: got %s want %s", tc.seq, got, tc.want)
		}
		back, err := ParseSeq(tc.want)
		if err != nil || back != tc.seq {
			t.Errorf("ParseSeq(%s) = %d, %v", tc.want, back, err)
		}
	}
	if Seq(9).String() >= Seq(10).String() {
		t.Error("text order differs from numeric order")
	}
}

func TestMapSplit(t *testing.T) {
	m := Uniform(2)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint32{0, 1<<30 - 1, 1 << 30, 3 << 30, 1<<32 - 1} {
		if got, want := m[m.Find(Hash(h))].ID, Of(Hash(h), 2); got != want {
			t.Errorf("Find(%#x) = shard %d, Of says %d", h, got, want)
		}
	}
	m2, ok := m.Split(1, 4)
	if !ok || len(m2) != 5 || m2[1].ID != 4 || m2[2].ID != 5 || m2[1].Parent != 1 || !m2[2].HasParent {
		t.Fatalf("split: %+v", m2)
	}
	if err := m2.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h    uint32
		want ID
	}{{0, 0}, {1 << 30, 4}, {3 << 29, 5}, {1<<31 - 1, 5}, {1 << 31, 2}, {1<<32 - 1, 3}} {
		if got := m2[m2.Find(Hash(tc.h))].ID; got != tc.want {
			t.Errorf("after the split, Find(%#x) = %d, want %d", tc.h, got, tc.want)
		}
	}
	one := Map{{ID: 9, Lo: 5, Hi: 6}}
	if _, ok := one.Split(0, 10); ok {
		t.Error("split a single hash")
	}
}
