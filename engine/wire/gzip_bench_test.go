package wire

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkGzipRecords compresses a GetRecords response of 1,000 records
// (about 350 KB), the largest body the server usually sends.
func BenchmarkGzipRecords(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"Records":[`)
	for i := range 1000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"eventID":"0000000100000000%016x","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1795250639,"Keys":{"pk":{"S":"k%d"}},"NewImage":{"n":{"N":"%d"},"pk":{"S":"k%d"},"val":{"S":"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01234567890123456789"}},"SequenceNumber":"%021d","SizeBytes":260,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`, i, i, i, i, i)
	}
	body.WriteString(`]}`)
	b.SetBytes(int64(body.Len()))
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := gzipTo(&out, body.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len())/float64(body.Len()), "ratio")
}
