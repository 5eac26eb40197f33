// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"net/netip"
	"sync"
	"time"
)

// liveHost is an address the sweep found live, on its way to the audit.
type liveHost struct {
	a       netip.Addr
	c       *chunk
	open    []string // "tcp/80", in probe order
	started time.Time
}

// liveQueue hands live addresses from the sweep to the audit. push never
// blocks (the sweep must keep reading answers); the sweep stops sending
// while len is at maxLiveBacklog instead.
type liveQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []liveHost
	closed bool
}

func newLiveQueue() *liveQueue {
	q := &liveQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *liveQueue) push(h liveHost) {
	q.mu.Lock()
	q.items = append(q.items, h)
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for the next live address; false once the queue is closed
// and empty.
func (q *liveQueue) pop() (liveHost, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return liveHost{}, false
	}
	h := q.items[0]
	q.items[0] = liveHost{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go
	}
	return h, true
}

func (q *liveQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// close ends the queue: pop returns what is left, then false.
func (q *liveQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
