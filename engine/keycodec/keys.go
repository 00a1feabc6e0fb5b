package keycodec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// Key-space prefixes (see doc.go).
const (
	prefixCatalog = 'c'
	prefixItem    = 'i'
	prefixMeta    = 'm'
	prefixWAL     = 'w'
	prefixToken   = 't'
	prefixDropped = 'd'
	prefixIndex   = 'n'
	prefixGSI     = 'g'
	prefixExpiry  = 'x'
)

// Kinds of table metadata records (the byte after the table id in a meta
// key). See doc.go for what each holds.
const (
	MetaLastSeq   byte = 's' // rest: shard u32
	MetaPublished byte = 'p' // rest: shard u32
	MetaCounters  byte = 'c' // no rest
	MetaLineage   byte = 'L' // rest: shard u32, created u64 (Unix nanoseconds)
)

// ItemKey appends the storage key of an item: 'i', the table id, the
// partition-key hash, the encoded partition key and, for tables with a sort
// key, the encoded sort key (sk nil otherwise).
func ItemKey(dst []byte, tableID uint32, h shards.Hash, pk attr.Value, sk *attr.Value) []byte {
	dst = append(dst, prefixItem)
	dst = binary.BigEndian.AppendUint32(dst, tableID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h))
	dst = AppendValue(dst, pk)
	if sk != nil {
		dst = AppendValue(dst, *sk)
	}
	return dst
}

// TablePrefix is the prefix of every item key of a table.
func TablePrefix(tableID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixItem}, tableID)
}

// HashRangeStart is the first item key of a table whose hash is at least h:
// a shard's items run from HashRangeStart(t, start) up to
// HashRangeStart(t, end) (or PrefixEnd(TablePrefix(t)) for the last shard).
func HashRangeStart(tableID uint32, h uint32) []byte {
	return binary.BigEndian.AppendUint32(TablePrefix(tableID), h)
}

// PartitionPrefix appends the prefix shared by every item of one partition
// (an item key without its sort key).
func PartitionPrefix(dst []byte, tableID uint32, h shards.Hash, pk attr.Value) []byte {
	return ItemKey(dst, tableID, h, pk, nil)
}

// PrefixEnd returns the smallest key greater than every key that starts
// with p, for use as an exclusive iterator upper bound. It returns nil (no
// bound) when p is empty or all 0xFF.
func PrefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xFF {
			end := append([]byte(nil), p[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}

// DecodeItemKey splits an item key into its hash and key values. skType is
// attr.TypeInvalid for a table without a sort key (sk is then nil).
func DecodeItemKey(k []byte, pkType, skType attr.Type) (h shards.Hash, pk attr.Value, sk *attr.Value, err error) {
	if len(k) < 9 || k[0] != prefixItem {
		return 0, attr.Value{}, nil, fmt.Errorf("%w: not an item key", ErrCorrupt)
	}
	h = shards.Hash(binary.BigEndian.Uint32(k[5:9]))
	pk, rest, err := DecodeValue(k[9:], pkType)
	if err != nil {
		return 0, attr.Value{}, nil, err
	}
	if skType != attr.TypeInvalid {
		v, r, err := DecodeValue(rest, skType)
		if err != nil {
			return 0, attr.Value{}, nil, err
		}
		sk, rest = &v, r
	}
	if len(rest) != 0 {
		return 0, attr.Value{}, nil, fmt.Errorf("%w: %d trailing bytes in item key", ErrCorrupt, len(rest))
	}
	return h, pk, sk, nil
}

// WALKey is the key of the change-log record seq of shard sh.
func WALKey(tableID uint32, sh shards.ID, seq shards.Seq) []byte {
	k := make([]byte, 0, 17)
	k = append(k, prefixWAL)
	k = binary.BigEndian.AppendUint32(k, tableID)
	k = binary.BigEndian.AppendUint32(k, uint32(sh))
	return binary.BigEndian.AppendUint64(k, uint64(seq))
}

// WALPrefix is the prefix of every change-log key of one shard.
func WALPrefix(tableID uint32, sh shards.ID) []byte {
	k := make([]byte, 0, 17)
	k = append(k, prefixWAL)
	k = binary.BigEndian.AppendUint32(k, tableID)
	return binary.BigEndian.AppendUint32(k, uint32(sh))
}

// DecodeWALKey is the inverse of WALKey.
func DecodeWALKey(k []byte) (tableID uint32, sh shards.ID, seq shards.Seq, err error) {
	if len(k) != 17 || k[0] != prefixWAL {
		return 0, 0, 0, fmt.Errorf("%w: not a WAL key", ErrCorrupt)
	}
	return binary.BigEndian.Uint32(k[1:5]), shards.ID(binary.BigEndian.Uint32(k[5:9])), shards.Seq(binary.BigEndian.Uint64(k[9:17])), nil
}

// MetaKey is the key of a table metadata record of the given kind.
func MetaKey(tableID uint32, kind byte, rest ...byte) []byte {
	k := make([]byte, 0, 6+len(rest))
	k = append(k, prefixMeta)
	k = binary.BigEndian.AppendUint32(k, tableID)
	k = append(k, kind)
	return append(k, rest...)
}

// MetaShardKey is MetaKey with a shard id as the rest (MetaLastSeq,
// MetaPublished).
func MetaShardKey(tableID uint32, kind byte, sh shards.ID) []byte {
	return MetaKey(tableID, kind, binary.BigEndian.AppendUint32(nil, uint32(sh))...)
}

// CatalogKey is the key of the definition of table name.
func CatalogKey(name string) []byte {
	return append([]byte{prefixCatalog}, name...)
}

// CatalogPrefix is the prefix of every catalog key.
func CatalogPrefix() []byte { return []byte{prefixCatalog} }

// TokenKey is the key of a TransactWriteItems client request token's record.
func TokenKey(token string) []byte {
	return append([]byte{prefixToken}, token...)
}

// TokenExpiryKey is the key of a token's entry in the expiry index: tokens
// ordered by the time (Unix nanoseconds) their record expires.
func TokenExpiryKey(expires int64, token string) []byte {
	k := make([]byte, 0, 9+len(token))
	k = append(k, prefixExpiry)
	k = binary.BigEndian.AppendUint64(k, uint64(expires))
	return append(k, token...)
}

// TokenExpiryPrefix is the prefix of every expiry-index key.
func TokenExpiryPrefix() []byte { return []byte{prefixExpiry} }

// DecodeTokenExpiryKey splits an expiry-index key.
func DecodeTokenExpiryKey(k []byte) (expires int64, token string, err error) {
	if len(k) < 9 || k[0] != prefixExpiry {
		return 0, "", fmt.Errorf("keycodec: %q is not a token expiry key", k)
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), string(k[9:]), nil
}

// DroppedKey is the key of a dropped table's definition, kept while its
// streams are readable.
func DroppedKey(tableID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixDropped}, tableID)
}

// DroppedPrefix is the prefix of every DroppedKey.
func DroppedPrefix() []byte { return []byte{prefixDropped} }

// IndexPrefix is the prefix of every entry of one local secondary index of a
// table (index is the LSI's position in the table's definition).
func IndexPrefix(tableID uint32, index uint8) []byte {
	return indexPrefix(prefixIndex, tableID, index)
}

// indexPrefix is the prefix of one index's entries in the key family kind
// (LSI or GSI), with room for the rest of an entry key.
func indexPrefix(kind byte, tableID uint32, index uint8) []byte {
	k := make([]byte, 0, 16)
	k = append(k, kind)
	k = binary.BigEndian.AppendUint32(k, tableID)
	return append(k, index)
}

// IndexTablePrefix is the prefix of every index entry of a table.
func IndexTablePrefix(tableID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixIndex}, tableID)
}

// IndexHashStart is the first entry key of an index whose hash is at least h.
func IndexHashStart(tableID uint32, index uint8, h uint32) []byte {
	return binary.BigEndian.AppendUint32(IndexPrefix(tableID, index), h)
}

// IndexPartitionPrefix appends the prefix of an index's entries in one
// partition.
func IndexPartitionPrefix(dst []byte, tableID uint32, index uint8, h shards.Hash, pk attr.Value) []byte {
	dst = append(dst, IndexPrefix(tableID, index)...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h))
	return AppendValue(dst, pk)
}

// IndexKey appends the key of a local secondary index entry: the partition's
// prefix, the index sort key, then the table's sort key (nil for a table
// without one), so that entries sort by index key and then by item.
func IndexKey(dst []byte, tableID uint32, index uint8, h shards.Hash, pk, isk attr.Value, tsk *attr.Value) []byte {
	dst = IndexPartitionPrefix(dst, tableID, index, h, pk)
	dst = AppendValue(dst, isk)
	if tsk != nil {
		dst = AppendValue(dst, *tsk)
	}
	return dst
}

// DecodeIndexKey splits an index entry key. tskType is attr.TypeInvalid for a
// table without a sort key (tsk is then nil).
func DecodeIndexKey(k []byte, pkType, iskType, tskType attr.Type) (h shards.Hash, pk, isk attr.Value, tsk *attr.Value, err error) {
	if len(k) < 10 || k[0] != prefixIndex {
		return 0, attr.Value{}, attr.Value{}, nil, fmt.Errorf("%w: not an index key", ErrCorrupt)
	}
	h = shards.Hash(binary.BigEndian.Uint32(k[6:10]))
	pk, rest, err := DecodeValue(k[10:], pkType)
	if err != nil {
		return 0, attr.Value{}, attr.Value{}, nil, err
	}
	if isk, rest, err = DecodeValue(rest, iskType); err != nil {
		return 0, attr.Value{}, attr.Value{}, nil, err
	}
	if tskType != attr.TypeInvalid {
		v, r, err := DecodeValue(rest, tskType)
		if err != nil {
			return 0, attr.Value{}, attr.Value{}, nil, err
		}
		tsk, rest = &v, r
	}
	if len(rest) != 0 {
		return 0, attr.Value{}, attr.Value{}, nil, fmt.Errorf("%w: %d trailing bytes in index key", ErrCorrupt, len(rest))
	}
	return h, pk, isk, tsk, nil
}
