package engine

import (
	"fmt"
	"sync"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/invariants"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// change is one item change inside a commit request.
type change struct {
	shard *shardState
	key   []byte // storage key
	value []byte // stored item; nil deletes the item
	// countDelta and sizeDelta adjust the shard's item counters.
	countDelta, sizeDelta int64
	// rec is complete but for Seq and Time, which the committer assigns.
	rec event.Record
}

// commitReq is what a writer hands the committer: changes that commit
// atomically (one for a single-item write, several for a transaction).
type commitReq struct {
	changes []change
	done    chan error // buffered(1)
}

var reqPool = sync.Pool{New: func() any { return &commitReq{done: make(chan error, 1)} }}

// committer is the single goroutine that assigns sequence numbers and commits
// batches. (One committer per shard group; a single node has one group.)
type committer struct {
	e    *Engine
	wake chan struct{}
	quit chan struct{}
	gone chan struct{}
	mu   struct {
		sync.Mutex
		queue   []*commitReq
		stopped bool
	}
}

func newCommitter(e *Engine) *committer {
	return &committer{e: e, wake: make(chan struct{}, 1), quit: make(chan struct{}), gone: make(chan struct{})}
}

// commit queues r's changes and waits until they are durable (or failed).
func (c *committer) commit(changes []change) error {
	r := reqPool.Get().(*commitReq)
	r.changes = changes
	c.mu.Lock()
	if c.mu.stopped {
		c.mu.Unlock()
		reqPool.Put(r)
		return ErrClosed
	}
	c.mu.queue = append(c.mu.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	err := <-r.done
	r.changes = nil
	reqPool.Put(r)
	return err
}

// stop refuses new requests, lets the committer finish the queued ones and
// waits for it to exit.
func (c *committer) stop() {
	c.mu.Lock()
	c.mu.stopped = true
	c.mu.Unlock()
	close(c.quit)
	<-c.gone
}

func (c *committer) run() {
	defer close(c.gone)
	var spare []*commitReq
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			// Drain what was queued before stop.
			c.mu.Lock()
			q := c.mu.queue
			c.mu.queue = nil
			c.mu.Unlock()
			if len(q) > 0 {
				c.commitBatch(q)
			}
			return
		}
		c.mu.Lock()
		q := c.mu.queue
		c.mu.queue = spare[:0]
		c.mu.Unlock()
		if len(q) == 0 {
			spare = q
			continue
		}
		c.commitBatch(q)
		clear(q)
		spare = q
	}
}

// pending is a shard's tentative position inside one batch.
type pending struct {
	seq         shards.Seq
	count, size int64
}

// commitBatch writes every request in q as one batch.
func (c *committer) commitBatch(q []*commitReq) {
	e := c.e
	b := e.db.NewBatch()
	defer b.Close()
	now := e.opts.Now()
	touched := map[*shardState]*pending{}
	var changes []Change
	for _, r := range q {
		for i := range r.changes {
			ch := &r.changes[i]
			p := touched[ch.shard]
			if p == nil {
				p = &pending{
					seq:   shards.Seq(ch.shard.lastSeq.Load()),
					count: ch.shard.count.Load(),
					size:  ch.shard.size.Load(),
				}
				touched[ch.shard] = p
			}
			p.seq++
			p.count += ch.countDelta
			p.size += ch.sizeDelta
			if ch.value == nil {
				b.Delete(ch.key)
			} else {
				b.Set(ch.key, ch.value)
			}
			ch.rec.Seq = p.seq
			ch.rec.Time = now
			data := ch.rec.Encode(nil)
			b.Set(keycodec.WALKey(ch.shard.table, ch.shard.shard, p.seq), data)
			changes = append(changes, Change{
				TableID: ch.shard.table, Shard: ch.shard.shard, Seq: p.seq, Time: now, Data: data,
			})
		}
	}
	for st, p := range touched {
		b.Set(shardMetaKey(st.table, st.shard), encodeShardMeta(p.seq, p.count, p.size))
	}
	err := b.Commit(!e.opts.Relaxed)
	if err != nil {
		err = fmt.Errorf("committing batch: %w", err)
		e.log.Error("commit failed; writes rejected", "err", err, "requests", len(q))
	} else {
		for st, p := range touched {
			if invariants.Enabled && p.seq <= shards.Seq(st.lastSeq.Load()) {
				panic(fmt.Sprintf("engine: shard %d/%d sequence went backwards: %d after %d", st.table, st.shard, p.seq, st.lastSeq.Load()))
			}
			st.lastSeq.Store(uint64(p.seq))
			st.count.Store(p.count)
			st.size.Store(p.size)
		}
		e.publish(changes)
	}
	for _, r := range q {
		r.done <- err
	}
}
