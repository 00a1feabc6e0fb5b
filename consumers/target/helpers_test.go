package target

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/shards"
)

const testARN = "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/2026-11-21T08:00:00.000"

// testRecords builds n records the way the runtime does: a change record
// encoded as the change log holds it, decoded, and projected into its Lambda
// form. Record i has sequence number 100+i; every third one is a TTL delete
// (service identity, no audit headers) and the others carry a transaction
// and the audit attributes.
func testRecords(tb testing.TB, n int) []Record {
	tb.Helper()
	out := make([]Record, n)
	for i := range out {
		r := event.Record{
			TableID: 7, Source: testARN, Region: "us-east-1", Shard: 3,
			Seq:          shards.Seq(100 + i),
			Name:         event.Insert,
			Time:         time.Date(2026, 11, 21, 8, 0, i, 250_000_000, time.UTC),
			Keys:         fmt.Appendf(nil, `{"pk":{"S":"song-%d"}}`, i),
			New:          fmt.Appendf(nil, `{"pk":{"S":"song-%d"},"title":{"S":"<Tom & Jerry> #%d"},"plays":{"N":"%d.5"}}`, i, i, i),
			PartitionKey: fmt.Sprintf("song-%d", i),
			Sizes:        event.Sizes{Keys: 10, New: 40},
		}
		if i%3 == 2 {
			r.Name, r.Old, r.New = event.Remove, r.New, nil
			r.Sizes = event.Sizes{Keys: 10, Old: 40}
			r.Who = event.Identity{Service: true}
		} else {
			r.TxID = fmt.Sprintf("tx-%d", i)
			r.Who = event.Identity{AccessKeyID: "AKIDEXAMPLE", SourceAddr: "192.0.2.1:5000", RequestID: fmt.Sprintf("req-%d", i)}
		}
		env, err := event.Decode(r.Encode(nil))
		if err != nil {
			tb.Fatal(err)
		}
		lambda, err := event.AppendLambda(nil, env.Data, event.ViewNewAndOld, testARN, nil)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = Record{Lambda: lambda, SequenceNumber: r.Seq.String(), Headers: env.Headers}
	}
	return out
}

// header returns the named header of r, or "".
func (r *Record) header(name string) string {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

func seqs(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.SequenceNumber
	}
	return out
}
