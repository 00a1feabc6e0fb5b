// Package streamsapi answers the DynamoDB Streams API (X-Amz-Target
// DynamoDBStreams_20120810.*) on the same port as the DynamoDB API:
// ListStreams, DescribeStream, GetShardIterator and GetRecords, over
// cdc.Streams.
//
// Requests are checked in DynamoDB's order: JSON types, the member
// constraints (aggregated, in the one message format of engine/wire), then
// the operation's own rules.
package streamsapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/wire"
)

// targetPrefix is the X-Amz-Target prefix of the DynamoDB Streams API.
const targetPrefix = "DynamoDBStreams_20120810."

// Options configure Register.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
}

type api struct {
	s   *cdc.Streams
	log *slog.Logger
}

// Register installs the DynamoDB Streams operations on s.
func Register(s *wire.Server, e *engine.Engine, opts Options) {
	a := &api{s: cdc.NewStreams(e, opts.Now), log: opts.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for name, op := range map[string]wire.Op{
		"ListStreams":      a.listStreams,
		"DescribeStream":   a.describeStream,
		"GetShardIterator": a.getShardIterator,
		"GetRecords":       a.getRecords,
	} {
		s.Handle(targetPrefix+name, op)
	}
}

// Member constraints of the Streams API model.
var enumIteratorType = []string{cdc.TrimHorizon, cdc.Latest, cdc.AtSequenceNumber, cdc.AfterSequenceNumber, cdc.AtTimestamp}

type listStreamsIn struct {
	TableName               *string `json:"TableName"`
	Limit                   *int64  `json:"Limit"`
	ExclusiveStartStreamArn *string `json:"ExclusiveStartStreamArn"`
}

type streamOut struct {
	StreamArn   string `json:"StreamArn"`
	TableName   string `json:"TableName"`
	StreamLabel string `json:"StreamLabel"`
}

// listStreams answers ListStreams: the streams (of one table, when named),
// by table name then label, Limit at a time (default 100).
func (a *api) listStreams(_ context.Context, req *wire.Request) (any, error) {
	var in listStreamsIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v wire.Violations
	v.RangeInt("limit", in.Limit, 1, 100)
	if in.TableName != nil {
		v.Name("tableName", *in.TableName, 3, 255)
	}
	if in.ExclusiveStartStreamArn != nil {
		v.Length("exclusiveStartStreamArn", *in.ExclusiveStartStreamArn, 37, 1024)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	table := ""
	if in.TableName != nil {
		table = *in.TableName
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := struct {
		Streams                []streamOut `json:"Streams"`
		LastEvaluatedStreamArn string      `json:"LastEvaluatedStreamArn,omitempty"`
	}{Streams: []streamOut{}}
	started := in.ExclusiveStartStreamArn == nil
	for _, st := range a.s.List(table) {
		arn := a.s.ARN(st)
		if !started {
			started = arn == *in.ExclusiveStartStreamArn
			continue
		}
		if len(out.Streams) == limit {
			out.LastEvaluatedStreamArn = out.Streams[limit-1].StreamArn
			break
		}
		out.Streams = append(out.Streams, streamOut{StreamArn: arn, TableName: st.Table, StreamLabel: st.Label})
	}
	return out, nil
}

type describeStreamIn struct {
	StreamArn             *string `json:"StreamArn"`
	Limit                 *int64  `json:"Limit"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
	ShardFilter           *struct {
		Type    *string `json:"Type"`
		ShardId *string `json:"ShardId"`
	} `json:"ShardFilter"`
}

type keyElementOut struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type seqRangeOut struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardId             string      `json:"ShardId"`
	SequenceNumberRange seqRangeOut `json:"SequenceNumberRange"`
	ParentShardId       string      `json:"ParentShardId,omitempty"`
}

type streamDescriptionOut struct {
	StreamArn               string          `json:"StreamArn"`
	StreamLabel             string          `json:"StreamLabel"`
	StreamStatus            string          `json:"StreamStatus"`
	StreamViewType          string          `json:"StreamViewType"`
	CreationRequestDateTime json.Number     `json:"CreationRequestDateTime"`
	TableName               string          `json:"TableName"`
	KeySchema               []keyElementOut `json:"KeySchema"`
	Shards                  []shardOut      `json:"Shards"`
	LastEvaluatedShardId    string          `json:"LastEvaluatedShardId,omitempty"`
}

// describeStream answers DescribeStream: the stream and its shards in
// creation order (parents before children), Limit at a time (default
// 100), or with ShardFilter CHILD_SHARDS only the children of one shard.
func (a *api) describeStream(_ context.Context, req *wire.Request) (any, error) {
	var in describeStreamIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v wire.Violations
	if v.Required("streamArn", in.StreamArn != nil) {
		v.Length("streamArn", *in.StreamArn, 37, 1024)
	}
	v.RangeInt("limit", in.Limit, 1, 100)
	if in.ExclusiveStartShardId != nil {
		v.Length("exclusiveStartShardId", *in.ExclusiveStartShardId, 28, 65)
	}
	if f := in.ShardFilter; f != nil {
		v.Enum("shardFilter.type", f.Type, []string{"CHILD_SHARDS"})
		if f.ShardId != nil {
			v.Length("shardFilter.shardId", *f.ShardId, 28, 65)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := a.s.Find(*in.StreamArn)
	if err != nil {
		return nil, err
	}
	all, err := a.s.Shards(st)
	if err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	status := "DISABLED"
	if st.Current {
		status = "ENABLED"
	}
	d := streamDescriptionOut{
		StreamArn:               a.s.ARN(st),
		StreamLabel:             st.Label,
		StreamStatus:            status,
		StreamViewType:          st.ViewType,
		CreationRequestDateTime: epochSeconds(st.Created),
		TableName:               st.Table,
		KeySchema:               keySchema(st.KeySchema),
		Shards:                  []shardOut{},
	}
	for _, sh := range all {
		if in.ExclusiveStartShardId != nil && sh.ID <= *in.ExclusiveStartShardId {
			continue // ids sort in creation order
		}
		if f := in.ShardFilter; f != nil && f.ShardId != nil && sh.Parent != *f.ShardId {
			continue
		}
		if len(d.Shards) == limit {
			d.LastEvaluatedShardId = d.Shards[limit-1].ShardId
			break
		}
		out := shardOut{
			ShardId:             sh.ID,
			ParentShardId:       sh.Parent,
			SequenceNumberRange: seqRangeOut{StartingSequenceNumber: sh.Start.String()},
		}
		if sh.Closed {
			out.SequenceNumberRange.EndingSequenceNumber = sh.End.String()
		}
		d.Shards = append(d.Shards, out)
	}
	return struct {
		StreamDescription streamDescriptionOut `json:"StreamDescription"`
	}{d}, nil
}

func keySchema(ks []catalog.KeyElement) []keyElementOut {
	out := make([]keyElementOut, len(ks))
	for i, k := range ks {
		out[i] = keyElementOut{AttributeName: k.Name, KeyType: k.KeyType}
	}
	return out
}

// epochSeconds renders a time as DynamoDB's JSON timestamps: epoch seconds
// with milliseconds.
func epochSeconds(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

type getShardIteratorIn struct {
	StreamArn         *string `json:"StreamArn"`
	ShardId           *string `json:"ShardId"`
	ShardIteratorType *string `json:"ShardIteratorType"`
	SequenceNumber    *string `json:"SequenceNumber"`
	// Timestamp (epoch seconds) is for AT_TIMESTAMP, Sluice's addition.
	Timestamp *float64 `json:"Timestamp"`
}

// getShardIterator answers GetShardIterator.
func (a *api) getShardIterator(_ context.Context, req *wire.Request) (any, error) {
	var in getShardIteratorIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v wire.Violations
	if v.Required("streamArn", in.StreamArn != nil) {
		v.Length("streamArn", *in.StreamArn, 37, 1024)
	}
	if v.Required("shardId", in.ShardId != nil) {
		v.Length("shardId", *in.ShardId, 28, 65)
	}
	v.RequiredEnum("shardIteratorType", in.ShardIteratorType, enumIteratorType)
	if in.SequenceNumber != nil {
		v.Length("sequenceNumber", *in.SequenceNumber, 21, 40)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	seq := ""
	if in.SequenceNumber != nil {
		seq = *in.SequenceNumber
	}
	var at time.Time
	if *in.ShardIteratorType == cdc.AtTimestamp {
		if in.Timestamp == nil {
			return nil, attr.Invalid("One or more parameter values were invalid: Timestamp is required for iterator type AT_TIMESTAMP")
		}
		at = time.UnixMilli(int64(*in.Timestamp * 1000))
	}
	it, err := a.s.Iterator(*in.StreamArn, *in.ShardId, *in.ShardIteratorType, seq, at)
	if err != nil {
		return nil, err
	}
	return struct {
		ShardIterator string `json:"ShardIterator"`
	}{it}, nil
}

type getRecordsIn struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int64  `json:"Limit"`
}

// getRecords answers GetRecords. Records are written as the projected
// stream records, without re-encoding.
func (a *api) getRecords(_ context.Context, req *wire.Request) (any, error) {
	var in getRecordsIn
	if err := wire.Decode(req.Body, &in); err != nil {
		return nil, err
	}
	var v wire.Violations
	if v.Required("shardIterator", in.ShardIterator != nil) {
		v.Length("shardIterator", *in.ShardIterator, 1, 2048)
	}
	v.RangeInt("limit", in.Limit, 1, cdc.MaxRecords)
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := cdc.MaxRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"Records":[`...)
	b, next, err := a.s.AppendRecords(b, *in.ShardIterator, limit, nil)
	if err != nil {
		return nil, err
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"NextShardIterator":`...)
		b = strconv.AppendQuote(b, next)
	}
	return append(b, '}'), nil
}
