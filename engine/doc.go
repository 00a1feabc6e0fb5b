// Package engine executes DynamoDB operations on tables and items and turns
// every item change into a record in its write-ahead change log (the WAL).
//
// # The commit pipeline
//
//  1. An operation looks up the table, validates the key against the schema
//     and takes the item's lock (a striped lock keyed by the storage key).
//  2. Under the lock it reads the current image, evaluates the condition,
//     computes the new image and its canonical encoding. A write that leaves
//     the item unchanged ends here: no commit, no record (as DynamoDB).
//  3. It queues a commit request. If no batch is being committed, the writer
//     becomes the leader at once; otherwise it waits, and the first writer
//     queued behind a batch leads the next one. The leader drains every
//     queued request into one Pebble batch: for each change it assigns the
//     next sequence number of the item's stream shard, writes the item (or
//     its deletion), the WAL record under keycodec.WALKey and the shard's
//     counters (last sequence, item count, size).
//  4. The leader commits the batch (fsynced unless durability is relaxed)
//     and only then wakes the waiters, which acknowledge their requests and
//     release their item locks. Concurrent writers share one fsync; a lone
//     writer commits on its own goroutine with no hand-off; a hot item waits
//     only for its own lock.
//  5. The leader hands the committed records, in sequence order, to the
//     change-log subscribers (the cdc relay) in memory.
//
// # Invariants
//
// A write is acknowledged only after its item and its WAL record are durable
// in the same batch. Per shard, sequence numbers are dense and increase in
// commit order (only the leader assigns them, one leader at a time, and it
// advances a shard's
// counter only after the batch committed). Bad input is rejected before
// step 3 and changes nothing.
//
// Lock order: the admission gate Engine.live (read-locked by every operation
// for its whole duration, write-locked by Close, so the store is never used
// once closed), then table ddl read locks (ascending table id), then item stripes
// (ascending stripe index, each once), then Engine.mu, then the committer's
// queue lock. Nothing is locked while waiting for a commit except table
// read locks and item stripes.
//
// The engine never imports NATS or HTTP: the cdc package reads the change log
// through ChangeLog.
package engine
