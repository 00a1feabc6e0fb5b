package dynamodb

import (
	"container/heap"
	"sync"

	"github.com/sluicedb/sluice/sinks"
)

// sched hands out the records of one batch to Write's workers: always the
// lowest-indexed record that is ready, that is, whose item has no request
// in flight and whose item's earlier records are applied. One item's
// records thus go one at a time in batch order, different items in
// parallel, and progress follows batch order, so that after a failure the
// records not applied are mostly those after it. After a failure it hands
// out nothing more.
type sched struct {
	next []int // next[i] is the index of the next record of record i's item; -1 none
	mu   struct {
		sync.Mutex
		cond    sync.Cond // signalled when a record finishes
		ready   indexHeap // records ready to go
		running int       // records handed out and not finished
		stopped bool      // a record failed
	}
	items int // distinct items in the batch
}

func newSched(batch []sinks.Record) *sched {
	s := &sched{next: make([]int, len(batch))}
	s.mu.cond.L = &s.mu.Mutex
	last := make(map[string]int, len(batch)) // item (canonical keys) -> its latest record so far
	for i := range batch {
		s.next[i] = -1
		k := string(batch[i].Keys)
		if j, ok := last[k]; ok {
			s.next[j] = i
		} else {
			// Ascending, so ready is a valid heap as built.
			s.mu.ready = append(s.mu.ready, i)
		}
		last[k] = i
	}
	s.items = len(s.mu.ready)
	return s
}

// take returns the next record to apply, waiting while none is ready but
// some are running; -1 when there is nothing more to do.
func (s *sched) take() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.mu.ready) == 0 && !s.mu.stopped && s.mu.running > 0 {
		s.mu.cond.Wait()
	}
	if s.mu.stopped || len(s.mu.ready) == 0 {
		return -1
	}
	s.mu.running++
	return heap.Pop(&s.mu.ready).(int)
}

// finish reports that record i, handed out by take, was applied (ok) or
// failed.
func (s *sched) finish(i int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.running--
	switch {
	case !ok:
		s.mu.stopped = true
	case s.next[i] >= 0:
		heap.Push(&s.mu.ready, s.next[i])
	}
	s.mu.cond.Broadcast()
}

// indexHeap is a min-heap of record indexes.
type indexHeap []int

func (h indexHeap) Len() int           { return len(h) }
func (h indexHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h indexHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *indexHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *indexHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
