package consumers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/consumers/target"
)

// Dead letters. A batch given up on (its retries used up, or a record
// older than the trigger's maximum age) is not lost: when the trigger has
// an OnFailure destination, the invocation record, as Lambda sends it to an
// on-failure destination for a DynamoDB stream, goes to that dead-letter
// JetStream stream, with the batch's event as "payload" (as Lambda's S3
// destinations carry it), so that RedriveTrigger can deliver it again.
// Without a destination the batch is skipped, as Lambda skips it, and
// logged.

// dlqSubject is where a trigger's dead letters go in stream name.
func dlqSubject(stream, trigger string) string { return "sluice.dlq." + stream + "." + trigger }

// DeadLetterMaxAge is how long a dead-letter stream keeps an invocation
// record.
const DeadLetterMaxAge = 14 * 24 * time.Hour

// invocationRecord is Lambda's on-failure record for a DynamoDB stream
// batch.
type invocationRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version   string        `json:"version"`
	Timestamp string        `json:"timestamp"`
	BatchInfo ddbBatchInfo  `json:"DDBStreamBatchInfo"`
	Payload   *lambdaEvent  `json:"payload,omitempty"`
	Error     *errorMessage `json:"errorMessage,omitempty"`
	// CloudEventHeaders are, for a cloudevents trigger, each record's
	// CloudEvent attributes (not part of Lambda's record), for redrives.
	CloudEventHeaders [][][2]string `json:"sluiceCloudEventHeaders,omitempty"`
}

type ddbBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamArn                       string `json:"streamArn"`
}

type lambdaEvent struct {
	Records []json.RawMessage `json:"Records"`
}

type errorMessage struct {
	Message string `json:"message"`
}

// deadLetter gives up on recs: it sends their invocation record to the
// trigger's dead-letter stream, retrying until it is stored, and marks them
// done. It returns false if ctx ended first.
func (l *lane) deadLetter(ctx context.Context, recs []*record, condition string, last invokeResult, attempts int) bool {
	def := &l.r.def
	log := l.r.t.log.With("trigger", def.Name, "condition", condition, "records", len(recs),
		"first_sequence", recs[0].seq, "last_sequence", recs[len(recs)-1].seq)
	if def.OnFailure == "" {
		log.Warn("trigger skipped a batch it gave up on (no on-failure destination)")
	} else {
		rec := l.invocationRecord(recs, condition, last, attempts)
		body, err := json.Marshal(rec)
		if err != nil {
			log.Error("dead letter not encoded; batch skipped", "err", err)
		} else {
			msg := &nats.Msg{Subject: dlqSubject(def.OnFailure, def.Name), Data: body, Header: nats.Header{}}
			// The same batch given up on again (after a restart) is stored once.
			msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d-%d", def.Name, recs[0].streamSeq, recs[len(recs)-1].streamSeq))
			msg.Header.Set("Sluice-Trigger", def.Name)
			for n := 1; ; n++ {
				err := l.r.t.ensureDLQ(ctx, def.OnFailure)
				if err == nil {
					_, err = l.r.t.js.PublishMsg(ctx, msg)
				}
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return false
				}
				log.Warn("dead letter not stored yet", "stream", def.OnFailure, "err", err)
				if !sleep(ctx, l.backoff(n)) {
					return false
				}
			}
			log.Info("trigger dead-lettered a batch", "stream", def.OnFailure)
		}
	}
	es := make([]*entry, len(recs))
	for i, r := range recs {
		es[i] = r.entry
	}
	l.r.stats.update(func(s *TriggerStats) { s.DeadLettered += uint64(len(recs)) })
	l.track.done(es...)
	return true
}

func (l *lane) invocationRecord(recs []*record, condition string, last invokeResult, attempts int) *invocationRecord {
	arn := arnOf(recs)
	rec := &invocationRecord{Version: "1.0", Timestamp: l.r.t.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	rec.RequestContext.RequestID = newUUID()
	rec.RequestContext.FunctionArn = functionARN(arn, l.r.def.Name)
	rec.RequestContext.Condition = condition
	rec.RequestContext.ApproximateInvokeCount = attempts
	rec.ResponseContext.StatusCode = last.status
	rec.ResponseContext.ExecutedVersion = "$LATEST"
	rec.ResponseContext.FunctionError = last.funcErr
	if last.message != "" {
		rec.Error = &errorMessage{Message: last.message}
	}
	rec.BatchInfo = ddbBatchInfo{
		ShardID:                         l.shardName,
		StartSequenceNumber:             recs[0].seq,
		EndSequenceNumber:               recs[len(recs)-1].seq,
		ApproximateArrivalOfFirstRecord: recs[0].at.UTC().Format(time.RFC3339),
		ApproximateArrivalOfLastRecord:  recs[len(recs)-1].at.UTC().Format(time.RFC3339),
		BatchSize:                       len(recs),
		StreamArn:                       arn,
	}
	rec.Payload = &lambdaEvent{Records: make([]json.RawMessage, len(recs))}
	for i, r := range recs {
		rec.Payload.Records[i] = r.lambda
		if r.headers != nil {
			rec.CloudEventHeaders = append(rec.CloudEventHeaders, r.headers)
		}
	}
	return rec
}

// functionARN names a trigger's function as a Lambda ARN in the stream's
// region and account ("arn:aws:lambda:<region>:<account>:function:<name>").
func functionARN(streamARN, trigger string) string {
	region, account := "us-east-1", "000000000000"
	// arn:aws:dynamodb:<region>:<account>:table/...
	parts := [6]string{}
	i, n := 0, 0
	for j := 0; j < len(streamARN) && n < 5; j++ {
		if streamARN[j] == ':' {
			parts[n] = streamARN[i:j]
			i, n = j+1, n+1
		}
	}
	if n == 5 {
		region, account = parts[3], parts[4]
	}
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + trigger
}

// ensureDLQ creates a dead-letter stream if it is missing.
func (t *Runtime) ensureDLQ(ctx context.Context, name string) error {
	t.mu.Lock()
	ok := t.mu.dlqs[name]
	t.mu.Unlock()
	if ok {
		return nil
	}
	_, err := t.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        name,
		Description: "Sluice trigger dead letters (Lambda invocation records)",
		Subjects:    []string{"sluice.dlq." + name + ".>"},
		MaxAge:      DeadLetterMaxAge,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.mu.dlqs[name] = true
	t.mu.Unlock()
	return nil
}

// RedriveResult says what a redrive did.
type RedriveResult struct {
	Redriven  int `json:"Redriven"`  // batches delivered and removed from the stream
	Remaining int `json:"Remaining"` // batches that failed again and stay
	Records   int `json:"Records"`   // records in the batches redriven
}

// Redrive delivers the trigger's dead-lettered batches to its function
// again, once each, oldest first, and removes each one delivered.
func (t *Runtime) Redrive(ctx context.Context, name string) (*RedriveResult, error) {
	st, err := t.get(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &RedriveResult{}
	if st.OnFailure == "" {
		return res, nil
	}
	stream, err := t.js.Stream(ctx, st.OnFailure)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	tgt := t.newTarget(&st.Trigger)
	subject := dlqSubject(st.OnFailure, name)
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		if m.Subject != subject {
			continue
		}
		var rec invocationRecord
		if err := json.Unmarshal(m.Data, &rec); err != nil || rec.Payload == nil {
			res.Remaining++
			continue
		}
		b := target.Batch{}
		for i, r := range rec.Payload.Records {
			var v struct {
				DDB struct {
					Seq string `json:"SequenceNumber"`
				} `json:"dynamodb"`
			}
			_ = json.Unmarshal(r, &v)
			tr := target.Record{Lambda: r, SequenceNumber: v.DDB.Seq}
			if i < len(rec.CloudEventHeaders) {
				tr.Headers = rec.CloudEventHeaders[i]
			}
			b.Records = append(b.Records, tr)
		}
		out, err := tgt.Invoke(ctx, b)
		if err != nil || out.FunctionError != "" || (st.ReportsItemFailures() && (out.BadItemFailures || len(out.BatchItemFailures) > 0)) {
			res.Remaining++
			continue
		}
		if err := stream.DeleteMsg(ctx, seq); err != nil {
			return res, err
		}
		res.Redriven++
		res.Records += len(b.Records)
	}
	return res, nil
}
