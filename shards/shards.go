package shards

import (
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// Hash is the 32-bit partition-key hash that prefixes every item's storage key.
type Hash uint32

// Hash functions, by the version a table records (catalog.Table.HashVersion).
const (
	// HashFNV is FNV-1a (32 bits): the hash of the tables created before
	// version HashXX. Its top bits, which pick the shard, barely depend on
	// a key's last bytes, so keys such as "user0".."user9" share a shard.
	HashFNV uint8 = 0
	// HashXX is the top 32 bits of xxHash64: every bit depends on every
	// byte. New tables use it.
	HashXX uint8 = 1
)

// HashKey hashes the canonical bytes of a partition key value with the
// table's hash version. The caller passes the key's type tag and its
// canonical bytes, so that the string "1" and the number 1 land in
// independent places.
func HashKey(version uint8, typ byte, canonical []byte) Hash {
	if version == HashFNV {
		h := fnv.New32a()
		h.Write([]byte{typ})
		h.Write(canonical)
		return Hash(h.Sum32())
	}
	d := xxhash.New()
	d.Write([]byte{typ})
	d.Write(canonical)
	return Hash(d.Sum64() >> 32)
}

// MaxBits bounds the number of shards per table (2^MaxBits).
const MaxBits = 10

// ID identifies one shard of a table: the hash range
// [ID << (32-Bits), (ID+1) << (32-Bits)).
type ID uint32

// Of returns the shard that owns h in a table of 2^bits shards.
func Of(h Hash, bits uint8) ID {
	if bits == 0 {
		return 0
	}
	return ID(uint32(h) >> (32 - uint32(bits)))
}

// Range returns the first hash of shard id and the first hash past it
// (end is 1<<32 for the last shard, so it is returned as uint64).
func Range(id ID, bits uint8) (start uint32, end uint64) {
	if bits == 0 {
		return 0, 1 << 32
	}
	width := uint64(1) << (32 - uint64(bits))
	return uint32(uint64(id) * width), (uint64(id) + 1) * width
}

// Count is the number of shards of a table with the given bits.
func Count(bits uint8) int { return 1 << bits }

func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// Seq is a per-shard sequence number: dense, increasing in commit order,
// starting at 1.
type Seq uint64

// StreamDigits is the width of a sequence number as DynamoDB Streams shows it
// (at least 21 digits) and as the CloudEvents sequence extension carries it
// (zero-padded so that text order is numeric order).
const StreamDigits = 21

// String formats s zero-padded to StreamDigits digits.
func (s Seq) String() string {
	var buf [StreamDigits]byte // a uint64 has at most 20 digits
	n := uint64(s)
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[:])
}

// ParseSeq parses a sequence number in the form String produces (leading
// zeros optional).
func ParseSeq(s string) (Seq, error) {
	if s == "" || len(s) > 40 {
		return 0, fmt.Errorf("shards: invalid sequence number %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("shards: invalid sequence number %q", s)
	}
	return Seq(n), nil
}

// Span is one shard of a table's shard map: the hashes [Lo, Hi) it owns
// and, for a shard made by a split, the shard it was split from.
type Span struct {
	ID        ID     `json:"ID"`
	Lo        uint32 `json:"Lo"`
	Hi        uint64 `json:"Hi"` // up to 1<<32
	Parent    ID     `json:"Parent,omitempty"`
	HasParent bool   `json:"HasParent,omitempty"`
}

// Map is a table's current shards in hash order: disjoint spans that cover
// the whole hash space. A table starts with 2^bits equal spans whose ids are
// their indexes (Uniform); splitting a span replaces it by two halves with
// new ids, so an id is never reused and never names two ranges.
type Map []Span

// Uniform is the map of 2^bits equal shards, ids 0 to 2^bits-1.
func Uniform(bits uint8) Map {
	m := make(Map, Count(bits))
	for i := range m {
		lo, hi := Range(ID(i), bits)
		m[i] = Span{ID: ID(i), Lo: lo, Hi: hi}
	}
	return m
}

// Find returns the index in m of the span that owns h.
func (m Map) Find(h Hash) int {
	lo, hi := 0, len(m)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if uint32(h) >= m[mid].Lo {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Split returns m with the span at index i replaced by its two halves,
// whose ids are next and next+1. ok is false if the span is a single hash.
func (m Map) Split(i int, next ID) (out Map, ok bool) {
	s := m[i]
	if s.Hi-uint64(s.Lo) < 2 {
		return m, false
	}
	mid := uint32(uint64(s.Lo) + (s.Hi-uint64(s.Lo))/2)
	out = make(Map, 0, len(m)+1)
	out = append(out, m[:i]...)
	out = append(out,
		Span{ID: next, Lo: s.Lo, Hi: uint64(mid), Parent: s.ID, HasParent: true},
		Span{ID: next + 1, Lo: mid, Hi: s.Hi, Parent: s.ID, HasParent: true})
	return append(out, m[i+1:]...), true
}

// Check reports whether m covers the hash space with disjoint spans in
// order.
func (m Map) Check() error {
	var at uint64
	for _, s := range m {
		if uint64(s.Lo) != at || s.Hi <= uint64(s.Lo) {
			return fmt.Errorf("shards: span %d [%d, %d) does not follow %d", s.ID, s.Lo, s.Hi, at)
		}
		at = s.Hi
	}
	if at != 1<<32 {
		return fmt.Errorf("shards: map ends at %d", at)
	}
	return nil
}
