// Package dynamodb is the replication sink: it applies a table's changes to
// a table of another DynamoDB-compatible endpoint (another Sluice, DynamoDB
// Local, or AWS) through the AWS SDK, in order per item, idempotently, last
// writer wins by commit time.
//
// # Mapping
//
// An INSERT or MODIFY record becomes a PutItem of its new image; a REMOVE
// record becomes a DeleteItem of its keys. The destination table must exist
// (Connect checks with DescribeTable) and have the source's key schema; its
// name may differ (Options.Table).
//
// # Last writer wins
//
// Every put also writes the reserved attribute RepAttribute ("sluice:rep"),
// a string that orders the record among all others:
//
//	0001763712000000000/0000000003/000000000000000000042
//	└ commit time ────┘ └ shard ─┘ └ sequence ─────────┘
//
// the record's commit time in Unix microseconds (19 digits; a time before
// 1970 counts as 0), its stream shard (10 digits) and its sequence number
// (21 digits, as DynamoDB Streams shows it), zero-padded so that string
// order is (time, shard, sequence) order. Both requests are conditional:
//
//	attribute_not_exists(#rep) OR #rep < :rep
//
// so a change applies only over an older one (or over an item that no
// replication wrote). A ConditionalCheckFailedException means the
// destination already holds this change or a newer one: the record is done.
// That makes redelivery harmless, and a request the SDK retried after it
// had in fact succeeded is harmless too.
//
// The attribute stays on the destination's items, where readers see it
// (and, on a Sluice destination, its change records carry it): a program
// that compares the source with the destination ignores it. An attribute
// of that name in a source image is replaced. It adds about 64 bytes to the
// item's DynamoDB size, so an item within 64 bytes of the 400 KB limit is
// refused by the destination.
//
// # Caveats
//
//   - A delete leaves no timestamp behind (no tombstones). A put older than
//     a delete that was already applied therefore creates the item again if
//     it arrives later. For one source this happens only while a batch is
//     redelivered, and the redelivery goes on to apply the delete again:
//     records reach the sink in order per shard, so when Write returns the
//     destination is right again.
//   - The order is by the source's commit time, a wall clock. Within one
//     item, the source's commit times do not go backwards while its clock
//     does not; if the clock steps back, a change committed after the step
//     loses against older ones until a change of the item with a later time.
//     Records of one item with the same microsecond are ordered by shard,
//     then sequence.
//   - Several sources may replicate into one destination table: their
//     changes of one item are reconciled by the same order, ties across
//     sources broken by shard and sequence number (arbitrary, but the same
//     everywhere). Replicating both ways between two tables is not
//     supported: a change applied on one side is a new change there, with
//     a new commit time, and would travel back.
//
// # Order and concurrency
//
// Write groups a batch's records by item (their canonical key JSON). The
// records of one item are applied one at a time in batch order; different
// items go in parallel, with at most Options.Concurrency requests in flight
// across every Write of the Sink. Of the records ready to go (no request of
// their item in flight, the item's earlier records applied) the lowest
// indexed goes first, so progress follows the batch and, after a failure,
// the records not applied are mostly those after it. No request starts
// after a failure; Write returns once the requests in flight have ended.
// Concurrent Writes must carry different items, as the runtime's per-shard
// delivery guarantees.
//
// # Errors
//
// The SDK makes at most two attempts per request, the second after at most
// 100ms (the runtime retries the rest); the Sink's own HTTP client gives up
// on a request after 30 seconds. Then:
//
//   - throttling (ProvisionedThroughputExceededException, ThrottlingException,
//     RequestLimitExceeded, TransactionConflictException), an HTTP 5xx or a
//     connection failure: Write returns an error matching sinks.ErrBackOff
//     (a *sinks.BackOffError); the whole batch is delivered again;
//   - a record the destination refuses (ValidationException,
//     SerializationException, ItemCollectionSizeLimitExceededException, or a
//     record that is not a valid change): a *sinks.BatchError naming that
//     record (its error matches ErrRejected) and every other record not
//     applied, so that the runtime delivers again from the lowest of them;
//   - anything else (a missing table, refused credentials): the error, for
//     the whole batch.
//
// # Credentials
//
// Requests are signed with the static credentials AccessKeyID and
// SecretAccessKey, "sluice"/"sluice" when unset (Sluice and DynamoDB Local
// accept any). The SDK's default credential chain is not consulted: the
// command copies AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY into Options.
// On AWS the credentials need dynamodb:DescribeTable, PutItem and
// DeleteItem on the destination table. DynamoDB Local, unless started with
// -sharedDb, keeps a database per access key id and region: the sink must
// use those that created the table.
package dynamodb
