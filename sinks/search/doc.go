// Package search is the full-text sink: a Bleve index of one table's items,
// kept in step with the table's change stream, and the query side that
// searches it.
//
// # What is indexed
//
// One document per item; its id is the item's key as canonical DynamoDB
// JSON (sinks.Record.Keys), so the same item always maps to the same
// document. INSERT and MODIFY replace the document with one built from the
// new image; REMOVE deletes it. A document holds:
//
//   - each configured field (Options.Fields, top-level attribute names)
//     that the image has: S and BOOL ("true", "false") as text analyzed by
//     Bleve's standard analyzer (Unicode word split, lower case, English
//     stop words); N as a number (the nearest float64, for range and
//     equality queries; the stored image keeps the exact decimal); SS and
//     NS member by member; L and M flattened, element by element all the
//     way down, into the same field (map keys are not indexed). B, BS and
//     NULL are not indexed;
//   - _all, the composite of those fields, which a query without a field
//     searches;
//   - _item, the whole new image as the record carried it, stored and not
//     indexed: what Search returns.
//
// # Queries
//
// Query.Query is Bleve's query-string syntax: plain words match any field
// (`red shoes` finds items with either word, best first); `title:shoes`
// matches one field; `+word` requires and `-word` excludes a clause;
// `"red shoes"` is a phrase; `price:>10`, `price:<=20` compare numbers and
// `price:10` matches equality; `sho*`, `/regexp/` and `shoes~1` (fuzzy)
// match terms. The empty query matches every item; a query that does not
// parse fails with ErrInvalidQuery. Results are ordered by score, then by
// key, and paged (Query.Limit, 10 by default, at most 100) by an opaque
// token (Result.Next) that continues after the last hit of the page
// before; Result.Total counts every match.
//
// # Durability and idempotency
//
// Write first appends the records it applies to a write-ahead log and
// fsyncs it (one fsync per Write), then applies them to the index as one
// Bleve batch that also carries the per-shard high-water marks (the
// internal key "sluice.marks"), and returns once that batch is searchable.
// So when Write returns nil its records are durable (they survive kill -9
// and, with the fsync, a power loss) and visible; a search never sees a
// record that is not yet durable. Position (the marks in memory) moves
// only then.
//
// Bleve persists on its own schedule: the index runs scorch with
// unsafe_batch true, so a batch returns once introduced (searchable), and
// the persister writes it later. Bleve's safe mode (unsafe_batch false:
// Batch returns after the persister fsynced the segment and committed and
// fsynced the root bolt snapshot) is durable too, but each batch then
// waits for one to three bolt commits, its own and those of merges and
// clean-ups: one-record Writes measured 7-9 ms median and 50-230 ms p99 on
// two shared cores, and freshness p99 80-290 ms at 1,000 writes/s; with
// the log, about 1 ms and 8 ms, and 23 ms. A persisted snapshot holds
// documents and marks together (one bolt transaction). The persisted
// callback of each batch tells the log which frames the index holds on
// disk; a log file goes once all of its frames are (after an fsync of the
// segment directory, which Bleve leaves out). Should the index stop
// persisting (a full disk), Write backs off with ErrBehind once 64 log
// files wait, instead of growing the log and memory without bound.
//
// Opening the index replays the whole log, in order, over what the index
// persisted: the log is a suffix of the index's history that starts at or
// before the persisted state, and each record sets an item's whole image or
// removes it, so replaying it in order ends in the state after its last
// frame, marks included. A frame cut short at the end of the log (a crash
// during a Write, never acknowledged) is cut off; a damaged frame anywhere
// else fails Connect.
//
// A record with Seq > 0 at or below its shard's mark is skipped: a
// redelivered record has no second effect. A record with Seq 0 comes from
// a table scan (a rebuild) and is applied as a put or a delete without
// moving any mark.
//
// If the log or the index fails, Write returns an error matching
// sinks.ErrBackOff and drops the index from memory: the next Write or
// Search opens it again from disk, replaying the log, and the runtime's
// retry applies again whatever was not logged.
//
// # On disk
//
// Options.Dir holds generations of the index, so that Reset (and a change
// of Options.Table or Options.Fields, which Connect treats as a Reset) is
// atomic:
//
//	<Dir>/CURRENT                "index-000002\n": the live generation
//	<Dir>/index-000002/bleve/    a Bleve scorch index (index_meta.json, store/)
//	<Dir>/index-000002/wal/      the log: 00000001.log, 00000002.log, ...
//
// A log file is a sequence of frames, one per Write:
//
//	frame:   0xB1 | length (4 bytes, big endian) | CRC-32C of payload (4) | payload
//	payload: count (uvarint) | count × record
//	record:  shard (uvarint) | seq (uvarint) | keys (uvarint length, bytes)
//	         | 0 (remove), or 1 (put) and the new image (uvarint length, bytes)
//
// Appends go to the last file, and to a new one past 4 MiB; each open
// starts a new file. Reset builds an empty generation, fsyncs it, points
// CURRENT at it by an fsynced rename, and removes the old one; a crash
// leaves either. Other index-* directories are leftovers and are removed
// when the index opens.
//
// # Read your writes
//
// Position reports the marks; Wait blocks until given marks are reached, so
// a caller who knows the (shard, sequence) of its write can search after
// it.
package search
