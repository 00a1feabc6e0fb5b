package keycodec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

// prefixTTL starts every key of the TTL expiry indexes (see doc.go). It
// lives here rather than beside the other prefixes in keys.go only to keep
// the expiry index in files of its own.
const prefixTTL = 'e'

// Records of a table's expiry index that are not entries: they sort before
// every entry, whose expiry encoding starts with 0x01, 0x02 or 0x03.
const (
	ttlRecord  = 0x00
	ttlHeader  = 0x00 // rest: nothing
	ttlApplied = 0x01 // rest: shard u32
)

// TTLPrefix is the prefix of every key of a table's expiry index: its
// entries, its header and its positions.
func TTLPrefix(tableID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixTTL}, tableID)
}

// TTLIndexPrefix is the prefix of every key of every expiry index.
func TTLIndexPrefix() []byte { return []byte{prefixTTL} }

// TTLHeaderKey is the key of a table's expiry-index header, which names
// the TTL attribute the index holds once it is complete.
func TTLHeaderKey(tableID uint32) []byte {
	return append(TTLPrefix(tableID), ttlRecord, ttlHeader)
}

// TTLAppliedKey is the key of the last change record of shard sh applied
// to a table's expiry index.
func TTLAppliedKey(tableID uint32, sh shards.ID) []byte {
	k := append(TTLPrefix(tableID), ttlRecord, ttlApplied)
	return binary.BigEndian.AppendUint32(k, uint32(sh))
}

// TTLEntryStart is the first entry key of a table's expiry index whose
// expiry is at least at (a canonical number).
func TTLEntryStart(tableID uint32, at attr.Number) []byte {
	return appendNumber(TTLPrefix(tableID), at)
}

// TTLEntryKey appends the key of an expiry-index entry: the table's TTL
// prefix, the encoded expiry (a canonical number) and the item's storage
// key without its 'i' and table id (hash, enc(pk), enc(sk)), so that
// entries sort by expiry and then by item.
func TTLEntryKey(dst []byte, tableID uint32, expiry attr.Number, itemKey []byte) []byte {
	dst = append(dst, TTLPrefix(tableID)...)
	dst = appendNumber(dst, expiry)
	return append(dst, itemKey[5:]...)
}

// DecodeTTLEntryKey splits an expiry-index entry key into its table, its
// expiry and the item's storage key.
func DecodeTTLEntryKey(k []byte) (tableID uint32, expiry attr.Number, itemKey []byte, err error) {
	if len(k) < 6 || k[0] != prefixTTL || k[5] == ttlRecord {
		return 0, "", nil, fmt.Errorf("%w: not a TTL entry key", ErrCorrupt)
	}
	tableID = binary.BigEndian.Uint32(k[1:5])
	n, rest, err := decodeNumber(k[5:])
	if err != nil {
		return 0, "", nil, err
	}
	if len(rest) < 4 {
		return 0, "", nil, fmt.Errorf("%w: TTL entry key without an item", ErrCorrupt)
	}
	return tableID, n, append(TablePrefix(tableID), rest...), nil
}

// DecodeTTLTable reads the table id of any key of an expiry index.
func DecodeTTLTable(k []byte) (uint32, error) {
	if len(k) < 5 || k[0] != prefixTTL {
		return 0, fmt.Errorf("%w: not a TTL key", ErrCorrupt)
	}
	return binary.BigEndian.Uint32(k[1:5]), nil
}
