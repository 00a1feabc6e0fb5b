// Package analytics is the analytics sink: it writes a table's changes as
// Parquet files, one row per change, partitioned by the hour of the
// change's commit time, for engines such as DuckDB, Spark or Athena to
// query.
//
// # Guarantees
//
// Write returns once its records are in durable files: nothing is buffered
// between Writes, so the runtime's checkpoint never passes a record that a
// crash could lose. Each record is in exactly one file: a Write skips the
// records at or below their shard's high-water mark (a redelivery), and a
// Write's files appear all or, after a crash or an error, none. A reader may
// see the files of an interrupted Write until recovery removes them; it
// never sees a partly written file.
//
// One Sink at a time may write a table's directory; nothing enforces it.
//
// # Layout
//
//	<Dir>/<Table>/
//	  _manifest.json                   high-water marks and the last write's files
//	  _staging/                        files being written (emptied by recovery)
//	  date=2026-11-21/
//	    hour=08/
//	      00000000000000000042-000001.parquet
//	      00000000000000000043-000001.parquet
//	    hour=09/
//	      00000000000000000043-000002.parquet
//
// A file is named <write>-<part>.parquet: the number of the Write that made
// it (20 digits, from 1, one more per Write that wrote anything) and its
// part among that Write's files (6 digits, from 1). Names sort in the order
// they were written, and within a shard so do the sequence numbers (unless
// the clock stepped back across an hour's boundary, which puts later
// changes in an earlier hour). The
// directories are Hive partitions of the commit time in UTC, so that
//
//	SELECT * FROM read_parquet('<Dir>/<Table>/**/*.parquet', union_by_name = true, hive_partitioning = true)
//
// reads a table with date and hour columns (union_by_name: files differ in
// their typed columns). Names starting with '_' are skipped by such readers.
// Deleting old date= directories is safe (retention); deleting the
// manifest is too, at the cost of a full scan on the next Connect.
//
// A Write makes one file per UTC hour that its records' commit times fall
// in (usually one), and more when an hour has more than Options.MaxRows
// records. There is no flush interval: the runtime's batch size is the
// file size. Small batches make small files; compacting them is left to
// the query engine or a later tool.
//
// # Schema
//
// Each row is one change:
//
//	op              STRING     INSERT, MODIFY or REMOVE
//	table           STRING
//	shard           INT64
//	sequence        INT64      the shard's sequence number
//	time            TIMESTAMP  commit time, microseconds, UTC
//	keys            JSON       the item's key, DynamoDB JSON
//	new_image_json  JSON       the new image, DynamoDB JSON; null for REMOVE
//	accesskeyid     STRING     who made the change; null when unknown
//	sourceaddr      STRING
//	requestid       STRING
//	service         BOOLEAN    the database made it (a TTL deletion)
//	txid            STRING     the transaction; null outside one
//	new_<name>      ...        typed columns, below
//
// The typed columns show the new image's top-level attributes whose type
// is stable: a file has a column new_<name> for each attribute that has the
// same scalar type in every row of that file that has it (null in the rows
// that do not):
//
//	S     STRING
//	N     INT64 when every value is an integer within int64; otherwise
//	      DECIMAL(38, s) (16-byte FIXED_LEN_BYTE_ARRAY), s the most fraction
//	      digits of any value, when every value fits; otherwise no column
//	BOOL  BOOLEAN
//	B     BYTE_ARRAY, the raw bytes
//
// Numbers are never float: a DECIMAL holds the exact value, and every
// number is in new_image_json as DynamoDB's text. An attribute seen with two
// types, or of a non-scalar type (M, L, SS, NS, BS, NULL), is in
// new_image_json only. Types are inferred per file, so new_price may be
// INT64 in one file and DECIMAL(38,2) in the next; readers that unify by
// name widen them. At most 256 typed columns per file: the attributes found
// in the most rows.
//
// Each file's footer (Parquet key/value metadata) describes it:
// sluice.table, sluice.write, sluice.part, sluice.parts (the number of
// files of its write) and sluice.ranges, per shard the first and last
// sequence number it holds ({"0":[101,120],"3":[7,9]}).
//
// # Exactly once
//
// The runtime delivers each shard's records in sequence order, at least
// once, and moves its checkpoint only after Write returns nil; so the
// records of a shard that are in files are always a prefix of the shard's
// stream, and its high-water mark (the last sequence number in a file)
// says which records are done. Keeping that mark exact across crashes is
// the whole problem: the files are the truth, and the manifest says where
// to look.
//
// Write number w, for the records above the marks:
//
//  1. Replace the manifest (temp file, fsync, rename, fsync of the table's
//     directory) with {next: w+1, hwm: the marks before w, pending: w and
//     the names of its files}.
//  2. At the same time: encode each file, write it to _staging/, fsync it,
//     create its hour's directory (and fsync that directory's parent).
//  3. After both: rename each file into its hour's directory.
//  4. Fsync each hour's directory; then raise the marks in memory.
//
// Recovery (Connect, or the next Write after a failed one) empties
// _staging/ and reads the manifest. If every file of the pending write
// exists, the write happened: the marks are the manifest's raised by the
// sluice.ranges of those files' footers. If some are missing it did not:
// the ones present are deleted, and the marks are the manifest's. Either
// way the directories involved are fsynced before the marks are used, so a
// later crash cannot undo what recovery decided. Renaming only after step
// 1 is what guarantees that any file a crash leaves in an hour's directory
// is one the manifest names; writing the manifest before the data, not
// after, is what keeps recovery from having to look at any other file.
//
// Without a manifest (deleted, or damaged) recovery reads every file's
// footer: a write whose files are all there raises the marks; the last
// write, if some of its files are missing, is removed (the footers'
// sluice.parts says how many there should be).
package analytics
