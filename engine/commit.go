package engine

import (
	"fmt"
	"sync"
	"sync/atomic"

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
	// lsi are the writes of the item's local secondary index entries.
	lsi []lsiOp
	// On a table with LSIs: coll is the key of the item's collection size
	// record and collDelta the change of that size; lsiStats are the
	// table's LSI counters and lsiDelta their changes, by LSI position.
	coll      []byte
	collDelta int64
	lsiStats  *lsiCounters
	lsiDelta  []IndexStats
	// collSize is set by the committer: the collection's size once the
	// request is in the batch.
	collSize int64
	// cold marks a change whose item is unlikely to be written or read
	// again soon (the TTL reaper's deletions): the item cache drops the
	// item's entry rather than spend a place on its new value.
	cold bool
}

// commitReq is what a writer hands the committer: changes that commit
// atomically (one for a single-item write, several for a transaction).
type commitReq struct {
	changes []change
	// sets are store writes without a record that commit with the changes
	// (a transaction's idempotency token).
	sets []rawSet
	done chan error    // buffered(1): the batch holding the request committed (or failed)
	lead chan struct{} // buffered(1): the request is now the leader and commits the queue
	// refused is why the committer left the request out of its batch
	// (an item collection over the limit); nil when it is in.
	refused error
}

// rawSet is one store write riding along with a commit request.
type rawSet struct{ key, value []byte }

var reqPool = sync.Pool{New: func() any {
	return &commitReq{done: make(chan error, 1), lead: make(chan struct{}, 1)}
}}

// committer is the group commit: writers queue requests, and one of them at
// a time, the leader, drains the whole queue into one batch, assigns the
// sequence numbers and commits it. A writer arriving while no batch is being
// committed leads at once, so a lone writer commits on its own goroutine
// without a hand-off; writers arriving during a commit queue up and share
// the next fsync, which the first of them leads. One leader at a time means
// one goroutine assigns every sequence number (one shard group on a single
// node).
type committer struct {
	e  *Engine
	mu struct {
		sync.Mutex
		queue   []*commitReq
		leading bool // a leader is committing
		stopped bool
		idle    *sync.Cond // signalled when leading turns false
		durable *sync.Cond // signalled when durable grows
	}
	// Batches are numbered from 1 as they are committed. deleting is the
	// number of the last batch that deletes an item or an LSI entry, set
	// before the batch becomes visible; durable that of the last batch
	// whose commit returned. See settleDeletes.
	batches, deleting, durable atomic.Uint64
	// waiting counts the readers in settleDeletes, so that a batch takes
	// the lock to wake them only when there are some.
	waiting atomic.Int64
	// afterCommit, when set (tests), runs once a batch's commit returned,
	// before the batch counts as durable and its writers return.
	afterCommit func()
}

func newCommitter(e *Engine) *committer {
	c := &committer{e: e}
	c.mu.idle = sync.NewCond(&c.mu.Mutex)
	c.mu.durable = sync.NewCond(&c.mu.Mutex)
	return c
}

// settleDeletes returns once every batch that deleted an item or an LSI
// entry before the call is durable. A range read (a Query or Scan page of a
// table or an LSI) calls it after reading: Engine.settle covers the items
// it saw, but not one a delete still committing removed from its view,
// which a crash could bring back. Without deletes in flight it does not
// wait.
func (c *committer) settleDeletes() {
	n := c.deleting.Load()
	if c.durable.Load() >= n {
		return
	}
	c.mu.Lock()
	c.waiting.Add(1)
	for c.durable.Load() < n {
		c.mu.durable.Wait()
	}
	c.waiting.Add(-1)
	c.mu.Unlock()
}

// markDurable records that batch n's commit returned and wakes the readers
// waiting for it. A reader counts itself in waiting before it reads
// durable, so either it sees n or markDurable sees it.
func (c *committer) markDurable(n uint64) {
	c.durable.Store(n)
	if c.waiting.Load() > 0 {
		c.mu.Lock()
		c.mu.durable.Broadcast()
		c.mu.Unlock()
	}
}

// commit queues the changes and returns once they are durable (or failed).
func (c *committer) commit(changes []change) error {
	return c.commitWith(changes, nil)
}

// commitWith is commit with store writes that have no change record; the
// changes and the sets commit atomically. The caller holds the lock
// stripes of the changes' items: the item cache learns their new values
// (or forgets them if the commit failed) before it lets go.
func (c *committer) commitWith(changes []change, sets []rawSet) error {
	err := c.queueAndWait(changes, sets)
	c.e.items.committed(changes, err)
	return err
}

// queueAndWait queues a request and returns once it committed: as leader
// if no batch is being committed or the previous leader handed it the lead,
// else when a leader committed it.
func (c *committer) queueAndWait(changes []change, sets []rawSet) error {
	r := reqPool.Get().(*commitReq)
	r.changes, r.sets = changes, sets
	defer func() {
		r.changes, r.sets, r.refused = nil, nil, nil
		reqPool.Put(r)
	}()
	c.mu.Lock()
	if c.mu.stopped {
		c.mu.Unlock()
		return ErrClosed
	}
	c.mu.queue = append(c.mu.queue, r)
	if c.mu.leading {
		c.mu.Unlock()
		select {
		case err := <-r.done:
			return err // a leader committed it
		case <-r.lead:
			// Handed the lead: r is at the head of the queue.
		}
		c.mu.Lock()
	}
	c.mu.leading = true
	batch := c.mu.queue
	c.mu.queue = nil
	c.mu.Unlock()
	c.commitBatch(batch)
	c.mu.Lock()
	if len(c.mu.queue) > 0 && !c.mu.stopped {
		// Hand the lead to the next waiter rather than keep this writer
		// from returning; it commits everything queued by then.
		c.mu.queue[0].lead <- struct{}{}
	} else {
		c.mu.leading = false
		c.mu.idle.Broadcast()
	}
	c.mu.Unlock()
	return <-r.done
}

// stop refuses new requests and waits for the batch being committed, and
// those queued behind it, to finish.
func (c *committer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.stopped = true
	for c.mu.leading {
		c.mu.idle.Wait()
	}
	if len(c.mu.queue) > 0 {
		// Queued behind a leader that saw stopped: commit them here.
		batch := c.mu.queue
		c.mu.queue = nil
		c.mu.leading = true
		c.mu.Unlock()
		c.commitBatch(batch)
		c.mu.Lock()
		c.mu.leading = false
	}
}

// pending is a shard's tentative position inside one batch.
type pending struct {
	seq         shards.Seq
	count, size int64
	rolled      *StreamShard // the shard's new open stream shard, if it rolled over
}

// commitBatch writes every request in q as one batch.
func (c *committer) commitBatch(q []*commitReq) {
	e := c.e
	b := e.db.NewBatch()
	defer b.Close()
	n := c.batches.Add(1)
	deletes := false
	now := e.opts.Now()
	touched := map[*shardState]*pending{}
	var changes []Change
	var colls map[string]int64             // item collection sizes reached, by key
	var lsis map[*lsiCounters][]IndexStats // LSI counters reached
	for _, r := range q {
		if r.hasCollections() {
			if colls == nil {
				colls = map[string]int64{}
			}
			if r.refused = e.admitCollections(r, colls); r.refused != nil {
				continue // nothing of it is written
			}
		}
		for i := range r.changes {
			ch := &r.changes[i]
			p := touched[ch.shard]
			if p == nil {
				p = &pending{
					seq:   shards.Seq(ch.shard.lastSeq.Load()),
					count: ch.shard.count.Load(),
					size:  ch.shard.size.Load(),
				}
				if open := ch.shard.open.Load(); open != nil && now.Sub(open.Created) >= e.opts.StreamShardPeriod {
					closed, child := rollover(open, p.seq, now)
					putLineage(b, ch.shard.table, closed)
					putLineage(b, ch.shard.table, child)
					p.rolled = child
				}
				touched[ch.shard] = p
			}
			p.seq++
			p.count += ch.countDelta
			p.size += ch.sizeDelta
			if ch.value == nil {
				b.Delete(ch.key)
				deletes = true
			} else {
				b.Set(ch.key, ch.value)
			}
			for _, op := range ch.lsi {
				if op.value == nil {
					b.Delete(op.key)
					deletes = true
				} else {
					b.Set(op.key, op.value)
				}
			}
			if ch.lsiStats != nil {
				if lsis == nil {
					lsis = map[*lsiCounters][]IndexStats{}
				}
				s := lsis[ch.lsiStats]
				if s == nil {
					s = ch.lsiStats.load()
					lsis[ch.lsiStats] = s
				}
				for j, d := range ch.lsiDelta {
					s[j].Items += d.Items
					s[j].Bytes += d.Bytes
				}
			}
			ch.rec.Seq = p.seq
			ch.rec.Time = now
			data := ch.rec.Encode(nil)
			b.Set(keycodec.WALKey(ch.shard.table, ch.shard.shard, p.seq), data)
			changes = append(changes, Change{
				TableID: ch.shard.table, Shard: ch.shard.shard, Seq: p.seq, Time: now, Data: data,
			})
		}
		for _, s := range r.sets {
			b.Set(s.key, s.value)
		}
	}
	for st, p := range touched {
		b.Set(shardMetaKey(st.table, st.shard), encodeShardMeta(p.seq, p.count, p.size))
	}
	putCollections(b, colls)
	for lc, s := range lsis {
		for j, st := range s {
			b.Set(lsiStatsKey(lc.table, j), encodeStats(st))
		}
	}
	if deletes {
		c.deleting.Store(n)
	}
	err := b.Commit(!e.opts.Relaxed)
	if c.afterCommit != nil {
		c.afterCommit()
	}
	// Counted durable even if the commit failed: nothing may wait on a
	// batch that will never be.
	defer c.markDurable(n)
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
			if p.rolled != nil {
				st.open.Store(p.rolled)
			}
		}
		for lc, s := range lsis {
			lc.store(s)
		}
		e.publish(changes)
	}
	for _, r := range q {
		if err == nil && r.refused != nil {
			r.done <- r.refused
		} else {
			r.done <- err
		}
	}
}

// hasCollections reports whether any change of r is on a table with LSIs.
func (r *commitReq) hasCollections() bool {
	for i := range r.changes {
		if r.changes[i].coll != nil {
			return true
		}
	}
	return false
}
