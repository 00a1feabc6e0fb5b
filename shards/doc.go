// Package shards maps partition keys to stream shards and names the units of
// parallelism that Sluice shares between storage, Scan segments, stream shards
// and consumers.
//
// A partition key hashes (the top 32 bits of xxHash64 over the key's type tag
// and canonical bytes; FNV-1a for tables created before hash version 1) to a
// Hash. The hash prefixes the item's storage key, so the items of one shard form
// one contiguous key range. A table has 2^Bits shards; shard i owns the hashes
// whose top Bits bits equal i. The hash function and the prefix are part of the
// on-disk format: changing either is a format change.
//
// Sequence numbers (Seq) are dense per shard and start at 1; 0 means "none".
package shards
