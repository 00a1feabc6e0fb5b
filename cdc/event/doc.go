// Package event defines the change record: the one contract that the
// write-ahead log, JetStream and every consumer share.
//
// A record is a CloudEvent (spec 1.0) in binary mode: a list of headers
// (ce-id, ce-source, ce-type, ce-subject, ce-time, ce-sequence,
// ce-partitionkey, ce-correlationid and the audit extensions) plus data, which
// is the DynamoDB Streams record of the change with both images
// (StreamViewType NEW_AND_OLD_IMAGES). Images travel as canonical DynamoDB
// JSON exactly as the engine stores them, so building a record copies bytes
// and decodes nothing.
//
// On disk (the WAL value) and on the wire (a NATS message) the record is the
// same bytes in different framing:
//
//	WAL value:  0x01 | uvarint n | n × (uvarint len, key, uvarint len, value) | data
//	NATS msg:   header key/value pairs as NATS headers, data as the payload
//
// Guarantees: Encode is deterministic (the same change encodes to the same
// bytes, so a republished record is byte-identical); the event id is derived
// from (table id, shard, sequence) and so is stable across replays.
package event
