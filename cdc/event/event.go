package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/shards"
)

// Name is the DynamoDB Streams event name.
type Name string

const (
	Insert Name = "INSERT"
	Modify Name = "MODIFY"
	Remove Name = "REMOVE"
)

// Identity says who made a change, for audit consumers.
type Identity struct {
	AccessKeyID string // from the request's SigV4 credential scope; "" if unsigned
	SourceAddr  string // client address as the server saw it
	RequestID   string // x-amzn-RequestId of the request that made the change
	// Service marks a change the database made itself (a TTL delete); the
	// stream record then carries DynamoDB's service userIdentity.
	Service bool
}

// Record is one committed item change.
type Record struct {
	TableID uint32
	Source  string // ce-source: the table's stream ARN (or table ARN while no stream is enabled)
	Region  string // awsRegion
	Shard   shards.ID
	Seq     shards.Seq
	Name    Name
	Time    time.Time // commit time
	// Keys, Old and New are canonical DynamoDB JSON objects ({"pk":{"S":"a"}});
	// Old is nil for an INSERT, New is nil for a REMOVE.
	Keys, Old, New []byte
	// PartitionKey is the partition key value as text (S as is, N canonical,
	// B base64): the CloudEvents partitionkey extension.
	PartitionKey string
	Sizes        Sizes  // DynamoDB's sizes of the keys and the images
	TxID         string // correlationid: the transaction that made the change
	Who          Identity
}

// Sizes are the DynamoDB sizes of a record's keys and images (0 for an
// image it lacks).
type Sizes struct{ Keys, Old, New int }

// String renders the sizes for HdrSizes: "keys,old,new".
func (s Sizes) String() string {
	return strconv.Itoa(s.Keys) + "," + strconv.Itoa(s.Old) + "," + strconv.Itoa(s.New)
}

// ParseSizes parses HdrSizes.
func ParseSizes(v string) (Sizes, bool) {
	k, rest, ok1 := strings.Cut(v, ",")
	o, n, ok2 := strings.Cut(rest, ",")
	ki, err1 := strconv.Atoi(k)
	oi, err2 := strconv.Atoi(o)
	ni, err3 := strconv.Atoi(n)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil || ki < 0 || oi < 0 || ni < 0 {
		return Sizes{}, false
	}
	return Sizes{ki, oi, ni}, true
}

// Header names. The ce- prefix is the CloudEvents NATS binary binding.
const (
	HdrSpecVersion  = "ce-specversion"
	HdrID           = "ce-id"
	HdrSource       = "ce-source"
	HdrType         = "ce-type"
	HdrSubject      = "ce-subject"
	HdrTime         = "ce-time"
	HdrSequence     = "ce-sequence"
	HdrPartitionKey = "ce-partitionkey"
	HdrCorrelation  = "ce-correlationid"
	HdrAccessKey    = "ce-accesskeyid"
	HdrSourceAddr   = "ce-sourceaddr"
	HdrRequestID    = "ce-requestid"
	HdrContentType  = "content-type"
	// HdrSizes carries the DynamoDB sizes of the keys, the old image and the
	// new image ("3,120,140"), so that a stream of another view type can
	// state its records' SizeBytes without decoding the images. It is not a
	// CloudEvents attribute.
	HdrSizes = "sluice-sizes"
)

// TypePrefix prefixes the CloudEvents type; the event name follows
// ("io.sluicedb.change.INSERT").
const TypePrefix = "io.sluicedb.change."

// EventID is the DynamoDB-style event id (32 hex digits) of a change.
func EventID(tableID uint32, sh shards.ID, seq shards.Seq) string {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:], tableID)
	binary.BigEndian.PutUint32(b[4:], uint32(sh))
	binary.BigEndian.PutUint64(b[8:], uint64(seq))
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range b {
		out[2*i] = hex[c>>4]
		out[2*i+1] = hex[c&15]
	}
	return string(out)
}

// Encode appends the WAL encoding of r to dst.
func (r *Record) Encode(dst []byte) []byte {
	id := EventID(r.TableID, r.Shard, r.Seq)
	hdrs := [...][2]string{
		{HdrSpecVersion, "1.0"},
		{HdrID, id},
		{HdrSource, r.Source},
		{HdrType, TypePrefix + string(r.Name)},
		{HdrSubject, string(r.Keys)},
		{HdrTime, r.Time.UTC().Format(time.RFC3339Nano)},
		{HdrSequence, r.Seq.String()},
		{HdrPartitionKey, r.PartitionKey},
		{HdrContentType, "application/json"},
		{HdrCorrelation, r.TxID},
		{HdrAccessKey, r.Who.AccessKeyID},
		{HdrSourceAddr, r.Who.SourceAddr},
		{HdrRequestID, r.Who.RequestID},
		{HdrSizes, r.Sizes.String()},
	}
	n, size := 0, 0
	for _, h := range hdrs {
		if h[1] != "" {
			n++
			size += len(h[0]) + len(h[1]) + 2*binary.MaxVarintLen16
		}
	}
	// One allocation: the data is the images, the keys, and under 400
	// bytes of its own (the region, the ids, the identity).
	dst = slices.Grow(dst, 1+binary.MaxVarintLen16+size+400+len(r.Region)+len(id)+len(r.Keys)+len(r.Old)+len(r.New))
	dst = append(dst, 1)
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, h := range hdrs {
		if h[1] == "" {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(h[0])))
		dst = append(dst, h[0]...)
		dst = binary.AppendUvarint(dst, uint64(len(h[1])))
		dst = append(dst, h[1]...)
	}
	return r.appendData(dst, id)
}

// appendData appends the DynamoDB Streams record JSON.
func (r *Record) appendData(dst []byte, id string) []byte {
	dst = append(dst, `{"eventID":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","eventName":"`...)
	dst = append(dst, r.Name...)
	dst = append(dst, `","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":`...)
	dst = strconv.AppendQuote(dst, r.Region)
	dst = append(dst, `,"dynamodb":{"ApproximateCreationDateTime":`...)
	dst = strconv.AppendInt(dst, r.Time.Unix(), 10)
	dst = append(dst, `,"Keys":`...)
	dst = append(dst, r.Keys...)
	if r.New != nil {
		dst = append(dst, `,"NewImage":`...)
		dst = append(dst, r.New...)
	}
	if r.Old != nil {
		dst = append(dst, `,"OldImage":`...)
		dst = append(dst, r.Old...)
	}
	dst = append(dst, `,"SequenceNumber":"`...)
	dst = append(dst, r.Seq.String()...)
	dst = append(dst, `","SizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(r.Sizes.Keys+r.Sizes.Old+r.Sizes.New), 10)
	dst = append(dst, `,"StreamViewType":"NEW_AND_OLD_IMAGES"}`...)
	if r.Who.Service {
		dst = append(dst, `,"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}`...)
	}
	return append(dst, '}')
}

// Envelope is a decoded WAL value: the CloudEvent headers in a fixed order and
// the data. Data and header strings alias nothing the caller passed in.
type Envelope struct {
	Headers [][2]string
	Data    []byte
}

// Header returns the value of the named header, or "".
func (e *Envelope) Header(name string) string {
	for _, h := range e.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// ErrCorrupt reports an undecodable WAL value.
var ErrCorrupt = errors.New("event: corrupt record")

// Decode parses a WAL value. Every header name and value is a substring of
// one string, so decoding allocates three times whatever the header count.
func Decode(b []byte) (Envelope, error) {
	env, err := DecodeShared(b)
	env.Data = bytes.Clone(env.Data)
	return env, err
}

// DecodeShared is Decode whose Data aliases b, for a caller that is done
// with it before b changes.
func DecodeShared(b []byte) (Envelope, error) {
	b, n, err := headerCount(b)
	if err != nil {
		return Envelope{}, err
	}
	// Find where the headers end, then copy them out at once.
	end, err := walkHeaders(b, n, nil)
	if err != nil {
		return Envelope{}, err
	}
	all := string(b[:end])
	env := Envelope{Headers: make([][2]string, 0, n)}
	_, _ = walkHeaders(b, n, func(ks, ke, vs, ve int) { // the first walk passed
		env.Headers = append(env.Headers, [2]string{all[ks:ke], all[vs:ve]})
	})
	env.Data = b[end:]
	return env, nil
}

// Data returns the data of a WAL value (the DynamoDB Streams record JSON)
// and its sizes (ok false if the record has no HdrSizes), decoding no other
// header; data aliases b.
func Data(b []byte) (data []byte, sizes Sizes, ok bool, err error) {
	b, n, err := headerCount(b)
	if err != nil {
		return nil, Sizes{}, false, err
	}
	end, err := walkHeaders(b, n, func(ks, ke, vs, ve int) {
		if string(b[ks:ke]) == HdrSizes {
			sizes, ok = ParseSizes(string(b[vs:ve]))
		}
	})
	if err != nil {
		return nil, Sizes{}, false, err
	}
	return b[end:], sizes, ok, nil
}

// headerCount checks a WAL value's version and returns its header count and
// what follows it.
func headerCount(b []byte) ([]byte, uint64, error) {
	if len(b) == 0 || b[0] != 1 {
		return nil, 0, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > 64 {
		return nil, 0, fmt.Errorf("%w: header count", ErrCorrupt)
	}
	return b[1+k:], n, nil
}

// walkHeaders reads the n length-prefixed name/value pairs at the start of
// b, calls fn (if not nil) with the offsets of each name and value, and
// returns where the pairs end.
func walkHeaders(b []byte, n uint64, fn func(ks, ke, vs, ve int)) (int, error) {
	end := 0
	field := func() (start, stop int, ok bool) {
		l, k := binary.Uvarint(b[end:])
		if k <= 0 || uint64(len(b)-end-k) < l {
			return 0, 0, false
		}
		start = end + k
		end = start + int(l)
		return start, end, true
	}
	for range n {
		ks, ke, ok1 := field()
		vs, ve, ok2 := field()
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("%w: header", ErrCorrupt)
		}
		if fn != nil {
			fn(ks, ke, vs, ve)
		}
	}
	return end, nil
}
