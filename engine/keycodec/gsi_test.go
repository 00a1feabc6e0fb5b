package keycodec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// TestGSIKeyOneAttributeFormat pins the encoding of a GSI with one
// partition-key and one sort-key attribute: it is the format written before
// multi-attribute keys existed, which stores on disk still hold.
func TestGSIKeyOneAttributeFormat(t *testing.T) {
	tsk := attr.S("t")
	k := GSIKey(nil, 7, 2, 0x01020304, []attr.Value{attr.S("g")}, []attr.Value{num(t, "1.5")}, attr.S("p"), &tsk)
	want := "67" + "00000007" + "02" + "01020304" + "670001" + "03821000" + "700001" + "740001"
	if got := hex.EncodeToString(k); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	typ, canon := Canonical(attr.S("g"))
	if GSIHash(shards.HashXX, []attr.Value{attr.S("g")}) != shards.HashKey(shards.HashXX, typ, canon) {
		t.Fatal("a one-attribute partition key must hash as an item's partition key")
	}
}

func TestGSIKeyRoundTrip(t *testing.T) {
	S, N := attr.TypeS, attr.TypeN
	tsk := attr.N("42")
	for _, tc := range []struct {
		name     string
		gpk, gsk []attr.Value
		tsk      *attr.Value
	}{
		{"1 hash", []attr.Value{attr.S("a")}, nil, nil},
		{"1 hash 1 range", []attr.Value{attr.S("a")}, []attr.Value{num(t, "-3")}, &tsk},
		{"2 hash", []attr.Value{attr.S("a"), attr.N("1")}, nil, &tsk},
		{"2 hash 3 range", []attr.Value{attr.S("t\x00"), attr.B([]byte{0, 0xff})}, []attr.Value{attr.N("0"), attr.S(""), attr.B(nil)}, nil},
		{"4 hash 4 range", []attr.Value{attr.S("a"), attr.S("b"), attr.N("3"), attr.B([]byte("d"))},
			[]attr.Value{num(t, "-1E-130"), attr.S("x"), attr.B([]byte{1}), attr.S("z")}, &tsk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			types := func(vs []attr.Value) []attr.Type {
				var out []attr.Type
				for _, v := range vs {
					out = append(out, v.T)
				}
				return out
			}
			tskType := attr.TypeInvalid
			if tc.tsk != nil {
				tskType = N
			}
			h := GSIHash(shards.HashXX, tc.gpk)
			k := GSIKey(nil, 9, 3, h, tc.gpk, tc.gsk, attr.S("item"), tc.tsk)
			if !bytes.HasPrefix(k, GSIPartitionPrefix(nil, 9, 3, h, tc.gpk)) || !bytes.HasPrefix(k, GSIHashStart(9, 3, uint32(h))) ||
				!bytes.HasPrefix(k, GSITablePrefix(9)) {
				t.Fatalf("key %x lacks its prefixes", k)
			}
			gh, gpk, gsk, tpk, gtsk, err := DecodeGSIKey(k, types(tc.gpk), types(tc.gsk), S, tskType)
			if err != nil || gh != h || !equalValues(gpk, tc.gpk) || !equalValues(gsk, tc.gsk) || !attr.Equal(tpk, attr.S("item")) ||
				(gtsk == nil) != (tc.tsk == nil) || (gtsk != nil && !attr.Equal(*gtsk, *tc.tsk)) {
				t.Fatalf("decoded %x %v %v %v %v, %v", gh, gpk, gsk, tpk, gtsk, err)
			}
			// A wrong schema, a truncated key or trailing bytes fail cleanly.
			if _, _, _, _, _, err := DecodeGSIKey(append(bytes.Clone(k), 0), types(tc.gpk), types(tc.gsk), S, tskType); err == nil {
				t.Error("trailing byte decoded")
			}
			if _, _, _, _, _, err := DecodeGSIKey(k[:len(k)-1], types(tc.gpk), types(tc.gsk), S, tskType); err == nil {
				t.Error("truncated key decoded")
			}
			if _, _, _, _, _, err := DecodeGSIKey(k, nil, types(tc.gsk), S, tskType); err == nil {
				t.Error("decoded without partition-key types")
			}
		})
	}
}

func equalValues(a, b []attr.Value) bool {
	return slices.EqualFunc(a, b, attr.Equal)
}

// TestGSIHashCoversEveryAttribute: every partition-key attribute, its
// position and its type take part in the hash of a multi-attribute key.
func TestGSIHashCoversEveryAttribute(t *testing.T) {
	base := []attr.Value{attr.S("tournament"), attr.S("region"), attr.N("7")}
	h := GSIHash(shards.HashXX, base)
	for _, other := range [][]attr.Value{
		{attr.S("tournament"), attr.S("region"), attr.N("8")},
		{attr.S("tournament"), attr.S("regioN"), attr.N("7")},
		{attr.S("region"), attr.S("tournament"), attr.N("7")},
		{attr.S("tournament"), attr.S("region"), attr.S("7")},
		{attr.S("tournamentregion"), attr.S(""), attr.N("7")},
		{attr.S("tournament"), attr.S("region")},
	} {
		if GSIHash(shards.HashXX, other) == h {
			t.Errorf("%v hashes as %v", other, base)
		}
	}
	if GSIHash(shards.HashXX, base) != h || GSIHash(shards.HashFNV, base) == h {
		t.Error("the hash is not a function of the version and the values")
	}
}

// randomValue is a random key value of type typ, drawn from a small domain
// so that equal values (and common prefixes) are frequent.
func randomValue(r *rand.Rand, typ attr.Type) attr.Value {
	switch typ {
	case attr.TypeN:
		texts := []string{"0", "1", "-1", "1.5", "-1.5", "10", "100", "-100", "0.001", "99.99", "1E+20", "-1E-20"}
		n, err := attr.ParseNumber(texts[r.IntN(len(texts))])
		if err != nil {
			panic(err)
		}
		return attr.N(n)
	case attr.TypeS:
		alphabet := "\x00\x01a\xffb"
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return attr.S(string(b))
	default:
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = []byte{0, 1, 0x7f, 0xff}[r.IntN(4)]
		}
		return attr.B(b)
	}
}

// compareLists compares value lists attribute by attribute, left to right.
func compareLists(a, b []attr.Value) int {
	for i := range a {
		if c := attr.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// TestGSIKeyOrderProperty is the order guarantee as a property: for random
// entries of one GSI partition, the byte order of their keys is the order of
// their sort-key attributes compared one by one in KeySchema order (each by
// its type's DynamoDB order), then of the item keys.
func TestGSIKeyOrderProperty(t *testing.T) {
	S, N, B := attr.TypeS, attr.TypeN, attr.TypeB
	schemas := [][]attr.Type{{S}, {N}, {B}, {S, N}, {N, S, B}, {B, B, N, S}, {S, S, S, S}, {N, N, N, N}}
	r := rand.New(rand.NewPCG(7, 11))
	gpk := []attr.Value{attr.S("t"), attr.N("1")}
	h := GSIHash(shards.HashXX, gpk)
	for _, types := range schemas {
		t.Run(fmt.Sprint(types), func(t *testing.T) {
			type entry struct {
				gsk      []attr.Value
				tpk, tsk attr.Value
				key      []byte
			}
			entries := make([]entry, 300)
			for i := range entries {
				e := &entries[i]
				for _, typ := range types {
					e.gsk = append(e.gsk, randomValue(r, typ))
				}
				e.tpk, e.tsk = randomValue(r, S), randomValue(r, N)
				e.key = GSIKey(nil, 1, 0, h, gpk, e.gsk, e.tpk, &e.tsk)
			}
			for i := range entries {
				for j := range entries {
					a, b := entries[i], entries[j]
					want := compareLists(a.gsk, b.gsk)
					if want == 0 {
						want = compareLists([]attr.Value{a.tpk, a.tsk}, []attr.Value{b.tpk, b.tsk})
					}
					if got := bytes.Compare(a.key, b.key); got != want {
						t.Fatalf("%v/%v/%v vs %v/%v/%v: bytes %d, attributes %d", a.gsk, a.tpk, a.tsk, b.gsk, b.tpk, b.tsk, got, want)
					}
				}
			}
		})
	}
}

// FuzzDecodeGSIKey feeds arbitrary bytes to DecodeGSIKey under several key
// schemas: it must fail cleanly or return values that encode back to the
// same key.
func FuzzDecodeGSIKey(f *testing.F) {
	S, N, B := attr.TypeS, attr.TypeN, attr.TypeB
	schemas := []struct{ gpk, gsk []attr.Type }{
		{[]attr.Type{S}, nil},
		{[]attr.Type{S}, []attr.Type{N}},
		{[]attr.Type{S, N}, []attr.Type{S, B, N}},
		{[]attr.Type{B, B, B, B}, []attr.Type{S, S, S, S}},
	}
	tsk := attr.S("sk")
	f.Add(GSIKey(nil, 1, 0, 5, []attr.Value{attr.S("a")}, nil, attr.S("p"), &tsk), uint8(0), true)
	f.Add(GSIKey(nil, 1, 0, 5, []attr.Value{attr.S("a")}, []attr.Value{attr.N("3")}, attr.S("p"), nil), uint8(1), false)
	f.Add(GSIKey(nil, 1, 2, 5, []attr.Value{attr.S("a"), attr.N("-2.5")}, []attr.Value{attr.S(""), attr.B([]byte{0}), attr.N("0")}, attr.S("p"), &tsk), uint8(2), true)
	f.Add([]byte("g\x00\x00\x00\x01\x00\x00\x00\x00\x05\x00\x01"), uint8(3), false)
	f.Fuzz(func(t *testing.T, k []byte, schema uint8, withSK bool) {
		s := schemas[int(schema)%len(schemas)]
		tskType := attr.TypeInvalid
		if withSK {
			tskType = S
		}
		h, gpk, gsk, tpk, tsk, err := DecodeGSIKey(k, s.gpk, s.gsk, S, tskType)
		if err != nil {
			return
		}
		if len(gpk) != len(s.gpk) || len(gsk) != len(s.gsk) || (tsk != nil) != withSK {
			t.Fatalf("%x: decoded %d, %d values and sort key %v", k, len(gpk), len(gsk), tsk)
		}
		table := binary.BigEndian.Uint32(k[1:5])
		if again := GSIKey(nil, table, k[5], h, gpk, gsk, tpk, tsk); !bytes.Equal(again, k) {
			t.Fatalf("GSI key %x decodes and encodes to %x", k, again)
		}
	})
}
