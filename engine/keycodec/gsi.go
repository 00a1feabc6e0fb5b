package keycodec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// Global secondary index entry keys (doc.go). A GSI's partition key and its
// sort key are each a list of one to four attributes (multi-attribute keys);
// a GSI with one attribute each is the one-element case, encoded exactly as
// before multi-attribute keys existed.

// HashTagMulti is the type tag GSIHash hashes a multi-attribute partition
// key under.
const HashTagMulti = 'M'

// GSIHash is the hash a GSI's entries of one partition live under. A
// partition key of one attribute hashes as an item's does (Canonical); one
// of several attributes hashes, under HashTagMulti, the concatenation of
// each value's type tag and its AppendValue encoding, in KeySchema order.
// The encodings are self-delimiting, so distinct value lists give distinct
// bytes, and every attribute takes part in the hash.
func GSIHash(version uint8, gpk []attr.Value) shards.Hash {
	if len(gpk) == 1 {
		typ, canon := Canonical(gpk[0])
		return shards.HashKey(version, typ, canon)
	}
	b := make([]byte, 0, 16*len(gpk))
	for _, v := range gpk {
		typ, _ := Canonical(v)
		b = append(b, typ)
		b = AppendValue(b, v)
	}
	return shards.HashKey(version, HashTagMulti, b)
}

// GSIPrefix is the prefix of every entry of one global secondary index of a
// table (index is the GSI's ordinal, catalog.Index.Ord).
func GSIPrefix(tableID uint32, index uint8) []byte {
	return indexPrefix(prefixGSI, tableID, index)
}

// GSITablePrefix is the prefix of every GSI entry of a table.
func GSITablePrefix(tableID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixGSI}, tableID)
}

// GSIHashStart is the first entry key of a GSI whose hash is at least h.
func GSIHashStart(tableID uint32, index uint8, h uint32) []byte {
	return binary.BigEndian.AppendUint32(GSIPrefix(tableID, index), h)
}

// GSIPartitionPrefix appends the prefix of a GSI's entries in one of its
// partitions: gpk holds the values of the GSI's partition-key attributes in
// KeySchema order, and h is GSIHash of them.
func GSIPartitionPrefix(dst []byte, tableID uint32, index uint8, h shards.Hash, gpk []attr.Value) []byte {
	dst = append(dst, GSIPrefix(tableID, index)...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h))
	for _, v := range gpk {
		dst = AppendValue(dst, v)
	}
	return dst
}

// GSIKey appends the key of a global secondary index entry: the GSI
// partition's prefix, the values of the GSI's sort-key attributes in
// KeySchema order (none for a GSI without a sort key), then the item's
// primary key, which makes entries of equal GSI keys distinct. Because each
// value's encoding is self-delimiting and preserves its type's order, the
// entries of a partition sort by the sort-key attributes compared one after
// the other, left to right, and then by the item's key.
func GSIKey(dst []byte, tableID uint32, index uint8, h shards.Hash, gpk, gsk []attr.Value, tpk attr.Value, tsk *attr.Value) []byte {
	dst = GSIPartitionPrefix(dst, tableID, index, h, gpk)
	for _, v := range gsk {
		dst = AppendValue(dst, v)
	}
	dst = AppendValue(dst, tpk)
	if tsk != nil {
		dst = AppendValue(dst, *tsk)
	}
	return dst
}

// DecodeGSIKey splits a GSI entry key. gpkTypes and gskTypes are the types
// of the GSI's partition-key and sort-key attributes in KeySchema order
// (gskTypes empty for a GSI without a sort key); tskType is
// attr.TypeInvalid for a table without a sort key (tsk is then nil).
func DecodeGSIKey(k []byte, gpkTypes, gskTypes []attr.Type, tpkType, tskType attr.Type) (h shards.Hash, gpk, gsk []attr.Value, tpk attr.Value, tsk *attr.Value, err error) {
	fail := func(e error) (shards.Hash, []attr.Value, []attr.Value, attr.Value, *attr.Value, error) {
		return 0, nil, nil, attr.Value{}, nil, e
	}
	if len(k) < 10 || k[0] != prefixGSI {
		return fail(fmt.Errorf("%w: not a GSI key", ErrCorrupt))
	}
	if len(gpkTypes) == 0 {
		return fail(fmt.Errorf("%w: a GSI has a partition key", ErrCorrupt))
	}
	h = shards.Hash(binary.BigEndian.Uint32(k[6:10]))
	rest := k[10:]
	decodeAll := func(types []attr.Type) ([]attr.Value, error) {
		out := make([]attr.Value, len(types))
		for i, t := range types {
			var err error
			if out[i], rest, err = DecodeValue(rest, t); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if gpk, err = decodeAll(gpkTypes); err != nil {
		return fail(err)
	}
	if gsk, err = decodeAll(gskTypes); err != nil {
		return fail(err)
	}
	if len(gsk) == 0 {
		gsk = nil
	}
	if tpk, rest, err = DecodeValue(rest, tpkType); err != nil {
		return fail(err)
	}
	if tskType != attr.TypeInvalid {
		var v attr.Value
		if v, rest, err = DecodeValue(rest, tskType); err != nil {
			return fail(err)
		}
		tsk = &v
	}
	if len(rest) != 0 {
		return fail(fmt.Errorf("%w: %d trailing bytes in GSI key", ErrCorrupt, len(rest)))
	}
	return h, gpk, gsk, tpk, tsk, nil
}
