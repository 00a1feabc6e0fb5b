package keycodec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

func TestItemKey(t *testing.T) {
	sk := num(t, "1.5")
	k := ItemKey(nil, 7, 0x01020304, attr.S("a"), &sk)
	if got, want := hex.EncodeToString(k), "69"+"00000007"+"01020304"+"610001"+"03821000"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !bytes.HasPrefix(k, TablePrefix(7)) || !bytes.HasPrefix(k, HashRangeStart(7, 0x01020304)) ||
		!bytes.HasPrefix(k, PartitionPrefix(nil, 7, 0x01020304, attr.S("a"))) {
		t.Fatal("prefixes")
	}
	h, pk, gotSK, err := DecodeItemKey(k, attr.TypeS, attr.TypeN)
	if err != nil || h != 0x01020304 || !attr.Equal(pk, attr.S("a")) || gotSK == nil || !attr.Equal(*gotSK, sk) {
		t.Fatalf("decoded %x %v %v %v", h, pk, gotSK, err)
	}
	hk := ItemKey(nil, 7, 9, attr.B([]byte{0}), nil)
	h, pk, gotSK, err = DecodeItemKey(hk, attr.TypeB, attr.TypeInvalid)
	if err != nil || h != 9 || !attr.Equal(pk, attr.B([]byte{0})) || gotSK != nil {
		t.Fatalf("hash-only: %x %v %v %v", h, pk, gotSK, err)
	}
	for _, bad := range [][]byte{nil, []byte("i1234"), append(bytes.Clone(hk), 0), []byte("w00000000")} {
		if _, _, _, err := DecodeItemKey(bad, attr.TypeB, attr.TypeInvalid); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
	// Items of a shard lie between its hash range bounds.
	start, end := shards.Range(1, 2)
	lo, hi := HashRangeStart(7, start), HashRangeStart(7, uint32(end))
	in := ItemKey(nil, 7, shards.Hash(start+5), attr.S("z"), nil)
	if bytes.Compare(lo, in) > 0 || bytes.Compare(in, hi) >= 0 {
		t.Fatal("item outside its shard range")
	}
	if bytes.Compare(in, PrefixEnd(TablePrefix(7))) >= 0 || bytes.Compare(in, TablePrefix(8)) >= 0 {
		t.Fatal("item outside its table")
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ff", ""},
		{"ffff", ""},
		{"01", "02"},
		{"01ff", "02"},
		{"0100ff", "0101"},
	} {
		in, _ := hex.DecodeString(tc.in)
		got := PrefixEnd(in)
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("PrefixEnd(%s) = %x, want %s", tc.in, got, tc.want)
		}
		if len(in) > 0 && in[0] != 0xff && !bytes.Equal(in, got) && bytes.Compare(append(in, 0xff, 0xff), got) >= 0 {
			t.Errorf("PrefixEnd(%s) does not bound extensions", tc.in)
		}
	}
}

func TestWALKey(t *testing.T) {
	k := WALKey(3, 5, 258)
	if got, want := hex.EncodeToString(k), "77"+"00000003"+"00000005"+"0000000000000102"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !bytes.HasPrefix(k, WALPrefix(3, 5)) {
		t.Fatal("prefix")
	}
	tbl, sh, seq, err := DecodeWALKey(k)
	if err != nil || tbl != 3 || sh != 5 || seq != 258 {
		t.Fatalf("decoded %d %d %d %v", tbl, sh, seq, err)
	}
	if bytes.Compare(WALKey(3, 5, 255), WALKey(3, 5, 256)) >= 0 {
		t.Fatal("sequence order")
	}
	if _, _, _, err := DecodeWALKey(k[:16]); err == nil {
		t.Fatal("short key decoded")
	}
}

func TestMetaAndCatalogKeys(t *testing.T) {
	if got, want := hex.EncodeToString(MetaShardKey(1, MetaLastSeq, 2)), "6d"+"00000001"+"73"+"00000002"; got != want {
		t.Fatalf("meta: got %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(MetaKey(1, MetaCounters)), "6d"+"00000001"+"63"; got != want {
		t.Fatalf("meta: got %s, want %s", got, want)
	}
	if got := string(CatalogKey("orders")); got != "corders" || !bytes.HasPrefix(CatalogKey("x"), CatalogPrefix()) {
		t.Fatalf("catalog: %q", got)
	}
}

func BenchmarkItemKey(b *testing.B) {
	pk, sk := attr.S("user#8f14e45fceea167a5a36dedd4bea2543"), attr.N("1718000000.123")
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = ItemKey(buf[:0], 7, 0x01020304, pk, &sk)
		if _, _, _, err := DecodeItemKey(buf, attr.TypeS, attr.TypeN); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIndexKeyRoundTrip(t *testing.T) {
	pk, isk, tsk := attr.S("p"), attr.S("lsi-value"), attr.S("sort")
	for _, sk := range []*attr.Value{&tsk, nil} {
		typ := attr.TypeS
		if sk == nil {
			typ = attr.TypeInvalid
		}
		k := IndexKey(nil, 7, 2, 0xabcdef01, pk, isk, sk)
		if !bytes.HasPrefix(k, IndexPartitionPrefix(nil, 7, 2, 0xabcdef01, pk)) || !bytes.HasPrefix(k, IndexTablePrefix(7)) {
			t.Fatalf("key %x lacks its prefixes", k)
		}
		h, gpk, gisk, gsk, err := DecodeIndexKey(k, attr.TypeS, attr.TypeS, typ)
		if err != nil || h != 0xabcdef01 || !attr.Equal(gpk, pk) || !attr.Equal(gisk, isk) || (sk == nil) != (gsk == nil) || (sk != nil && !attr.Equal(*gsk, *sk)) {
			t.Fatalf("decoded %x %v %v %v, %v", h, gpk, gisk, gsk, err)
		}
	}
}

// FuzzDecodeKeys feeds arbitrary bytes to the key decoders: they must fail
// cleanly or return values that encode back to the same key.
func FuzzDecodeKeys(f *testing.F) {
	sk := attr.S("sort")
	f.Add(ItemKey(nil, 1, 2, attr.S("p"), &sk), true)
	f.Add(IndexKey(nil, 1, 0, 2, attr.S("p"), attr.S("i"), &sk), true)
	f.Add(IndexKey(nil, 1, 0, 2, attr.S("p"), attr.S("i"), nil), false)
	f.Add([]byte("n\x00\x00\x00\x01\x00"), false)
	f.Fuzz(func(t *testing.T, k []byte, withSK bool) {
		skType := attr.TypeInvalid
		if withSK {
			skType = attr.TypeS
		}
		if h, pk, isk, tsk, err := DecodeIndexKey(k, attr.TypeS, attr.TypeS, skType); err == nil {
			table := binary.BigEndian.Uint32(k[1:5])
			if again := IndexKey(nil, table, k[5], h, pk, isk, tsk); !bytes.Equal(again, k) {
				t.Fatalf("index key %x decodes and encodes to %x", k, again)
			}
		}
		if h, pk, s, err := DecodeItemKey(k, attr.TypeS, skType); err == nil {
			table := binary.BigEndian.Uint32(k[1:5])
			if again := ItemKey(nil, table, h, pk, s); !bytes.Equal(again, k) {
				t.Fatalf("item key %x decodes and encodes to %x", k, again)
			}
		}
	})
}
