// Package keycodec encodes key values and storage keys so that the byte order
// of the encodings is the order DynamoDB gives the values. This file is the
// on-disk format: changing anything it describes is a format change.
//
// Guarantees: for two key values a and b of the same type,
// bytes.Compare(AppendValue(nil, a), AppendValue(nil, b)) == attr.Compare(a, b);
// every encoding is self-delimiting (no encoding is a proper prefix of
// another of the same type), so enc(pk) followed by enc(sk) orders by
// (pk, sk); and DecodeValue inverts AppendValue exactly.
//
// # Value encodings
//
// The type is not encoded; the table's key schema supplies it.
//
// S (UTF-8 bytes) and B (raw bytes): the bytes, each 0x00 escaped as 0x00 0xFF,
// then the terminator 0x00 0x01. The terminator sorts below every escaped or
// plain byte, so a value sorts before its extensions.
//
//	"a\x00b" -> 61 00 FF 62 00 01
//	""       -> 00 01
//
// N (a canonical attr.Number, value = ±0.d1d2...dn × 10^(a+1), d1 ≠ 0,
// dn ≠ 0, adjusted exponent a in -130..125, n ≤ 38):
//
//	zero:      02
//	positive:  03 | a+130 | pairs                | 00
//	negative:  01 | 255-(a+130) | ^pairs (each byte 255-b) | FF
//
// pairs packs the digits two to a byte, the byte being 10×d(2i-1) + d(2i) + 1
// (1..100); an odd count is padded with a zero digit. Because the digits have
// no trailing zeros, a shorter digit string that is a prefix of a longer one
// is the smaller magnitude, and the terminator (00 below every pair byte)
// sorts it first. Negative numbers invert the exponent, the pairs and the
// terminator, so a larger magnitude sorts lower.
//
//	0      -> 02
//	1      -> 03 82 0B 00            (a=0, pairs "10")
//	1.5    -> 03 82 10 00            (pairs "15")
//	150    -> 03 84 10 00            (a=2)
//	-1     -> 01 7D F4 FF
//
// # Partition-key hash
//
// Canonical gives the bytes that shards.HashKey hashes, with a type tag:
// 'S' and the UTF-8 bytes, 'N' and the canonical decimal text, 'B' and the
// raw bytes. The string "1" and the number 1 therefore hash independently.
// The hash function is the table's HashVersion (catalog): xxHash64's top 32
// bits for tables created since it exists, FNV-1a for older ones, whose
// keys stay where they are.
//
// # Storage keys
//
// All integers are big-endian, so numeric order is byte order.
//
// Items: one key per item; the hash prefix makes a shard one contiguous range
// and a partition one contiguous range inside it.
//
//	+-----+-------------+-------------+----------+----------+
//	| 'i' | tableID u32 | hash u32    | enc(pk)  | enc(sk)  |   sk only for
//	+-----+-------------+-------------+----------+----------+   tables with one
//	  1B       4B            4B
//
// WAL (the change log): one key per committed change, dense per shard.
//
//	+-----+-------------+-------------+-------------+
//	| 'w' | tableID u32 | shard u32   | seq u64     |
//	+-----+-------------+-------------+-------------+
//
// Table metadata: per-shard counters and watermarks, counters of items and
// bytes. The kind byte names the record; the rest is kind-specific.
//
//	+-----+-------------+------+------ ... ------+
//	| 'm' | tableID u32 | kind | rest            |
//	+-----+-------------+------+------ ... ------+
//
//	MetaLastSeq    's' | shard u32   last sequence number committed in a shard
//	MetaPublished  'p' | shard u32   last sequence number published to JetStream
//	MetaCounters   'c'               item count and byte size of the table
//	MetaGSIApplied 'G' | shard u32   last change record of the shard the GSI indexer applied
//	                                 (shard 0xffffffff: the stream sequence it resumes after)
//	MetaGSIStats   'I' | ordinal u8  a GSI's entry count and byte size (zig-zag varints)
//	MetaLSIStats   'l' | position u8 an LSI's entry count and byte size (zig-zag varints),
//	                                 kept by the committer in the batches of the changes
//	MetaLineage    'L' | shard u32 | created u64
//	                                 one stream shard of the shard (JSON): its
//	                                 id, parent, stream label and sequence range
//
// Catalog: one key per table definition, by name.
//
//	+-----+------------------+
//	| 'c' | table name bytes |
//	+-----+------------------+
//
// Local secondary index entries: one per item that has the index's sort key,
// in the item's partition (same hash), ordered by the index sort key and then
// by the item's sort key; the value is the projected item, stored as items
// are (size header, canonical JSON).
//
//	+-----+-------------+----------+----------+----------+-----------+-----------+
//	| 'n' | tableID u32 | index u8 | hash u32 | enc(pk)  | enc(isk)  | enc(tsk)  |
//	+-----+-------------+----------+----------+----------+-----------+-----------+
//
// Under index number 0xFF (above any LSI's) lie the item collection sizes of
// a table with LSIs: one record per non-empty collection (partition key),
// whose value is the uvarint size in bytes of its items and their LSI
// entries, written by the committer in the batch of the changes.
//
//	+-----+-------------+------+----------+----------+
//	| 'n' | tableID u32 | 0xFF | hash u32 | enc(pk)  |
//	+-----+-------------+------+----------+----------+
//
// Global secondary index entries: one per item that has every key attribute
// of the index, under the GSI partition's hash, ordered by the GSI keys and
// then by the item's key; the value is the projected item. A GSI's partition
// key and its sort key are each one to four attributes (multi-attribute
// keys): gpk is the encodings of the partition-key attributes one after the
// other in KeySchema order, gsk those of the sort-key attributes (none
// without a sort key). The encodings are self-delimiting and each preserves
// its type's order, so byte order compares the sort-key attributes one by
// one, left to right, each by its type's order. The hash is that of the
// partition key: for one attribute, as an item's (Canonical); for several,
// under the type tag 'M', over each attribute's type tag ('S', 'N', 'B')
// followed by its value encoding, in KeySchema order. A GSI with one
// attribute each is encoded as it was before multi-attribute keys. The GSI
// indexer writes the entries, with MetaGSIApplied ('G' | shard u32: the last
// change record of that shard applied), in one batch.
//
//	+-----+-------------+----------+----------+----------------+----------------+----------+----------+
//	| 'g' | tableID u32 | index u8 | hash u32 | enc(gpk1..n)   | enc(gsk1..m)   | enc(pk)  | enc(sk)  |
//	+-----+-------------+----------+----------+----------------+----------------+----------+----------+
//
// Dropped tables: the definition of a deleted table whose streams are still
// readable, by table id.
//
//	+-----+-------------+
//	| 'd' | tableID u32 |
//	+-----+-------------+
//
// TTL expiry indexes: one per table with TTL enabled, kept by the TTL
// reaper from the change stream (engine/ttl.go). An entry per item whose TTL
// attribute is a number, ordered by that number (the expiry, in epoch
// seconds, fractions included) and then by the item's storage key without
// its 'i' and table id; the value is empty. Before the entries (enc(N)
// starts with 01, 02 or 03) lie the index's own records, after a 00 byte:
// its header (00), present once the index is complete, whose value is the
// version byte 1 and the TTL attribute's name the index holds; and the
// position reached in each shard (01 | shard u32: the last change record
// applied, u64; shard 0xffffffff: the stream sequence the reaper resumes
// after). The reaper writes entries and positions in one batch. Deleting
// the range 'e' | tableID drops a table's index whole.
//
//	+-----+-------------+-------------+----------+----------+----------+
//	| 'e' | tableID u32 | enc(expiry) | hash u32 | enc(pk)  | enc(sk)  |
//	+-----+-------------+-------------+----------+----------+----------+
//	+-----+-------------+----+----+                +-----+-------------+----+----+-----------+
//	| 'e' | tableID u32 | 00 | 00 |  header        | 'e' | tableID u32 | 00 | 01 | shard u32 |  position
//	+-----+-------------+----+----+                +-----+-------------+----+----+-----------+
//
// Idempotency tokens of TransactWriteItems (ClientRequestToken): the record
// of a token, and the expiry index that finds expired records in time order.
// The token's record holds its expiry (Unix nanoseconds, u64) and the
// SHA-256 digest of the request it answered.
//
//	+-----+-------------+           +-----+-------------+-------------+
//	| 't' | token bytes |           | 'x' | expires u64 | token bytes |
//	+-----+-------------+           +-----+-------------+-------------+
package keycodec
