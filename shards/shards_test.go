package shards

import "testing"

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
		typ  byte
		key  string
		want Hash
	}{
		{'S', "user#1", 0x2992b599},
		{'N', "1", 0x83e6f3a0},
	} {
		if got := HashKey(tc.typ, []byte(tc.key)); got != tc.want {
			t.Errorf("HashKey(%c, %q) = %#x, want %#x", tc.typ, tc.key, got, tc.want)
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
