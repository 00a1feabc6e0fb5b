// Package cdc moves committed changes from the engine's change log onto the
// bus, and trims the change log behind it.
//
// # Guarantees
//
// Each table has one JetStream stream ("sluice-t-<table id>", subjects
// "sluice.t.<table id>.<shard>", MaxAge = retention). Within one shard,
// records are published in sequence order with no gap and no duplicate:
//
//   - One goroutine publishes a table's records, pipelined, each carrying
//     Nats-Expected-Last-Sequence (the stream sequence the previous record
//     got) and Nats-Msg-Id ("<table id>-<shard>-<seq>"). If one publish fails,
//     every later one in flight fails its expectation too, so the stream
//     never holds record n+1 without record n; for the same reason only the
//     last record of a batch asks for an acknowledgement, which vouches for
//     the batch.
//   - After any failure, and at start, the relay re-reads the stream's last
//     sequence and each shard's last record (its ce-sequence header) and
//     resumes from the next sequence number, reading the change log in Pebble
//     for whatever is not in memory. A crash therefore neither loses nor
//     duplicates a record.
//   - The change log is trimmed only behind what JetStream acknowledged and
//     only past the retention window, which also keeps it behind JetStream's
//     periodic fsync.
//
// Lock order: Relay.mu before tableRelay.mu, never the reverse.
package cdc
