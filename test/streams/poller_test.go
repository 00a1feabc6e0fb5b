package streams

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	sttypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// poller reads a stream the way the Kinesis Client Library's DynamoDB
// Streams adapter does, with one worker for every shard:
//
//  1. List the shards with DescribeStream, paging with
//     ExclusiveStartShardId.
//  2. Read a shard only once its parent is finished (its reader got no
//     NextShardIterator), or when its parent is no longer listed (trimmed),
//     so that an item's records are read in the order they were written.
//  3. Start a shard without a checkpoint at TRIM_HORIZON. After an error,
//     drop every iterator and start each shard again AFTER_SEQUENCE_NUMBER
//     of its checkpoint, the last sequence number delivered from it, as a
//     worker restarted from its lease table would.
//  4. When no shard had anything, sleep a little and poll again.
//
// It delivers each record it reads once, so whatever duplicates the test
// sees were served twice by the server.
type poller struct {
	c        *dynamodbstreams.Client
	arn      string
	pageSize int32         // DescribeStream Limit; small, to page
	idle     time.Duration // sleep when a round read nothing
	refresh  time.Duration // how often to list shards again

	mu struct {
		sync.Mutex
		recs       []polled
		shards     []sttypes.Shard // as last listed
		finished   map[string]bool
		checkpoint map[string]string // shard id -> last sequence number delivered
		errs       []error
		rounds     int
		resumes    int // iterators taken AFTER_SEQUENCE_NUMBER of a checkpoint
		// quietSince is when the poller last read a record or failed a
		// call; it is caught up once that is long enough ago.
		quietSince time.Time
	}
}

// polled is one record as the poller delivered it.
type polled struct {
	shard string
	rec   sttypes.Record
}

func newPoller(c *dynamodbstreams.Client, arn string) *poller {
	p := &poller{c: c, arn: arn, pageSize: 7, idle: 50 * time.Millisecond, refresh: 200 * time.Millisecond}
	p.mu.finished = map[string]bool{}
	p.mu.checkpoint = map[string]string{}
	p.mu.quietSince = time.Now()
	return p
}

// run polls until ctx is done.
func (p *poller) run(ctx context.Context) {
	iters := map[string]string{} // shard id -> iterator to go on with
	var (
		shards []sttypes.Shard
		listed time.Time
	)
	for ctx.Err() == nil {
		if time.Since(listed) >= p.refresh {
			desc, err := describeAll(ctx, p.c, p.arn, p.pageSize)
			if err != nil {
				clear(iters)
				p.fail(ctx, err)
				continue
			}
			shards, listed = desc.Shards, time.Now()
			p.mu.Lock()
			p.mu.shards = shards
			p.mu.Unlock()
		}
		read, failed := p.round(ctx, shards, iters)
		if failed {
			clear(iters)
		}
		p.mu.Lock()
		p.mu.rounds++
		if read > 0 || failed {
			p.mu.quietSince = time.Now()
		}
		p.mu.Unlock()
		if read == 0 && !failed {
			sleep(ctx, p.idle)
		}
	}
}

// round polls every shard that may be read once, in id (creation) order,
// so that a child whose parent finishes in this round is polled in it too.
func (p *poller) round(ctx context.Context, shards []sttypes.Shard, iters map[string]string) (read int, failed bool) {
	listed := make(map[string]bool, len(shards))
	for _, sh := range shards {
		listed[*sh.ShardId] = true
	}
	for _, sh := range shards {
		id := *sh.ShardId
		p.mu.Lock()
		finished := p.mu.finished[id]
		parentDone := sh.ParentShardId == nil || p.mu.finished[*sh.ParentShardId] || !listed[*sh.ParentShardId]
		checkpoint := p.mu.checkpoint[id]
		p.mu.Unlock()
		if finished || !parentDone {
			continue
		}
		it, ok := iters[id]
		if !ok {
			in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.arn), ShardId: aws.String(id), ShardIteratorType: sttypes.ShardIteratorTypeTrimHorizon}
			if checkpoint != "" {
				in.ShardIteratorType, in.SequenceNumber = sttypes.ShardIteratorTypeAfterSequenceNumber, aws.String(checkpoint)
				p.mu.Lock()
				p.mu.resumes++
				p.mu.Unlock()
			}
			out, err := p.c.GetShardIterator(ctx, in)
			if err != nil {
				p.fail(ctx, err)
				return read, true
			}
			it = aws.ToString(out.ShardIterator)
		}
		out, err := p.c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			p.fail(ctx, err)
			return read, true
		}
		read += len(out.Records)
		p.mu.Lock()
		for _, r := range out.Records {
			p.mu.recs = append(p.mu.recs, polled{shard: id, rec: r})
			p.mu.checkpoint[id] = aws.ToString(r.Dynamodb.SequenceNumber)
		}
		if out.NextShardIterator == nil {
			p.mu.finished[id] = true
			delete(iters, id)
		} else {
			iters[id] = *out.NextShardIterator
		}
		p.mu.Unlock()
	}
	return read, false
}

// fail records an error and backs off.
func (p *poller) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // stopping, not failing
	}
	p.mu.Lock()
	p.mu.errs = append(p.mu.errs, err)
	p.mu.quietSince = time.Now()
	p.mu.Unlock()
	sleep(ctx, 100*time.Millisecond)
}

// caughtUp reports whether the poller has delivered at least n records and
// then read nothing, and failed nothing, for quiet (which spans several
// listings of the shards, so a shard it has not seen yet would show).
func (p *poller) caughtUp(n int, quiet time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.recs) >= n && time.Since(p.mu.quietSince) >= quiet
}

// snapshot returns what the poller has delivered and seen so far.
func (p *poller) snapshot() (recs []polled, shards []sttypes.Shard, finished map[string]bool, errs []error, rounds, resumes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	finished = make(map[string]bool, len(p.mu.finished))
	for k, v := range p.mu.finished {
		finished[k] = v
	}
	return append([]polled(nil), p.mu.recs...), append([]sttypes.Shard(nil), p.mu.shards...), finished,
		append([]error(nil), p.mu.errs...), p.mu.rounds, p.mu.resumes
}

func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}
