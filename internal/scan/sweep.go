// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"container/heap"
	"context"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/target"
)

// SweepMode says how the sweep stage finds the addresses that answer.
type SweepMode string

// Sweep modes.
const (
	// SweepAuto sweeps target lists of more than SweepAutoMin addresses,
	// with SYN where raw sockets open (root, CAP_NET_RAW) and connect
	// elsewhere; smaller lists are audited address by address.
	SweepAuto SweepMode = "auto"
	// SweepSYN sends one SYN per TCP port from a raw socket and keeps no
	// state per probe (stateless cookies); it needs root.
	SweepSYN SweepMode = "syn"
	// SweepConnect completes a TCP handshake per port: no privilege, a
	// socket per outstanding probe.
	SweepConnect SweepMode = "connect"
	// SweepOff audits every target.
	SweepOff SweepMode = "off"
)

// ParseSweepMode reads auto, syn, connect or off.
func ParseSweepMode(s string) (SweepMode, error) {
	switch m := SweepMode(s); m {
	case SweepAuto, SweepSYN, SweepConnect, SweepOff:
		return m, nil
	}
	return "", fmt.Errorf("scan: sweep %q is not one of auto, syn, connect, off", s)
}

// Sweep defaults and bounds.
const (
	// SweepAutoMin: SweepAuto sweeps lists of more targets than this. Up
	// to it the audits all run in one round of the default workers, and
	// every target named gets its record, answered or not.
	SweepAutoMin = DefaultWorkers
	// DefaultPrefixRate bounds the sweep's packets per second into one
	// prefix (a /24, or a /64): an access network's segment, or one
	// customer's block, never sees more, whatever the global rate.
	DefaultPrefixRate = 250
	// DefaultSweepWait is how long after an address's last probe its
	// answers are awaited: above any Internet round trip and a slow CPE's
	// SNMP agent, and it costs only latency (probes of other addresses
	// go on meanwhile) and a little memory (the addresses waiting).
	DefaultSweepWait = 2 * time.Second
	// MaxSweepWait bounds Options.SweepWait.
	MaxSweepWait = time.Minute
	// MaxSweepRetries bounds Options.SweepRetries: each retry multiplies
	// the packets into silent space (and the sweep's time) once more, and
	// past a few the loss that hides a live address is no longer loss.
	MaxSweepRetries = 3
	// prefixBits4 and prefixBits6 are the prefixes of the per-prefix rate
	// and summary.
	prefixBits4 = 24
	prefixBits6 = 64
	// maxLanes bounds the prefixes swept at once (the global rate over
	// the per-prefix rate, at most this).
	maxLanes = 1024
	// maxLiveBacklog bounds the live addresses waiting for their audit:
	// past it the sweep stops sending (it still reads answers) until the
	// audits catch up, so memory stays bounded when audits are slower.
	maxLiveBacklog = 1024
	// sweepSlack is how far ahead of its schedule a lane may send: below
	// it the sender does not sleep (timers are not precise to the
	// microsecond); a prefix sees at most this much of its rate at once.
	sweepSlack = 2 * time.Millisecond
	// sweepTick is how often addresses past their wait are settled and
	// progress is reported.
	sweepTick = 20 * time.Millisecond
)

// SweepCounts is the sweep's progress: addresses swept of the total,
// live ones (an open port), and how many of them were audited.
type SweepCounts struct {
	Mode    SweepMode `json:"mode"`
	Total   int       `json:"total"`
	Swept   int       `json:"swept"`
	Live    int       `json:"live"`
	Audited int       `json:"audited"`
}

// PrefixSummary counts one prefix's addresses (a /24 or a /64, the part
// of it in the target list): swept, live (an open port), closed (only
// TCP resets), identified (model named) and failing (a finding at or
// above --fail-on). It is a JSON Lines line of its own ("type":"prefix")
// and a line of the resume file once the prefix is done.
type PrefixSummary struct {
	SchemaVersion int    `json:"schema_version"`
	Type          string `json:"type"`
	Prefix        string `json:"prefix"`
	First         string `json:"first"`
	Last          string `json:"last"`
	Swept         int    `json:"swept"`
	Live          int    `json:"live"`
	Closed        int    `json:"closed"`
	Identified    int    `json:"identified"`
	Failing       int    `json:"failing"`
}

// prefixType is PrefixSummary's Type.
const prefixType = "prefix"

// chunk is the part of one prefix in the target list, swept by one lane.
type chunk struct {
	prefix netip.Prefix
	rs     []target.Range
	sum    PrefixSummary
	// Guarded by the engine's record lock:
	sending  bool // a lane is still starting addresses of it
	inflight int  // addresses started, not settled
	auditing int  // live addresses handed to the audit, not recorded
	done     bool
	// lane is the lane that took the chunk: it alone sends into the
	// prefix, first probes and retries, so the prefix's rate holds. Set
	// before any address of the chunk is active; read under the
	// sweeper's lock.
	lane *lane
}

func prefixOf(a netip.Addr) netip.Prefix {
	bits := prefixBits4
	if a.Is6() {
		bits = prefixBits6
	}
	p, _ := a.Prefix(bits)
	return p
}

// lastOf returns the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// prefixChunks yields the target ranges grouped by prefix, in order,
// without holding more than the current group.
func prefixChunks(rs []target.Range) iter.Seq[*chunk] {
	return func(yield func(*chunk) bool) {
		var cur *chunk
		for _, r := range rs {
			for a := r.First; ; {
				p := prefixOf(a)
				last := lastOf(p)
				if r.Last.Less(last) {
					last = r.Last
				}
				sub := target.Range{First: a, Last: last}
				if cur != nil && cur.prefix == p {
					cur.rs = append(cur.rs, sub)
				} else {
					if cur != nil && !yield(cur) {
						return
					}
					cur = &chunk{prefix: p, rs: []target.Range{sub}}
				}
				if last == r.Last {
					break
				}
				a = last.Next()
			}
		}
		if cur != nil {
			yield(cur)
		}
	}
}

// finishSummary fills the summary's names.
func (c *chunk) finishSummary() {
	c.sum.SchemaVersion, c.sum.Type = SchemaVersion, prefixType
	c.sum.Prefix = c.prefix.String()
	c.sum.First, c.sum.Last = c.rs[0].First.String(), c.rs[len(c.rs)-1].Last.String()
}

// hostState is an address being swept: from its first probe until its
// answers' wait is over. Nothing is kept of an address after that.
type hostState struct {
	c      *chunk
	open   []int // probe indexes that answered open
	closed bool  // a TCP reset came
	// tries counts the rounds of probes sent to the address (1, then
	// one more per retry).
	tries uint8
	// answered has bit i set when probe i got an answer, open or reset
	// (probes past the 64th are never marked: a retry sends them again).
	answered uint64
	started  time.Time
}

// unanswered returns the mask of the first 64 of n probes that got no
// answer.
func (h *hostState) unanswered(n int) uint64 {
	all := ^uint64(0)
	if n < 64 {
		all = 1<<n - 1
	}
	return all &^ h.answered
}

// retryable reports an address that is not live (no open port) and has a
// probe without an answer: a silent address, or one that reset some TCP
// ports while the SYNs to its open ones, or its UDP requests, were lost.
func (h *hostState) retryable(n int) bool {
	return len(h.open) == 0 && (n > 64 || h.unanswered(n) != 0)
}

type pendingHost struct {
	a   netip.Addr
	due time.Time
}

// settled is an address whose wait is over.
type settled struct {
	a netip.Addr
	hostState
}

// lane sweeps one prefix at a time, at the per-prefix rate.
type lane struct {
	c    *chunk
	ri   int        // current range of c
	next netip.Addr // next address of c.rs[ri] (invalid: c exhausted)
	a    netip.Addr // address being probed
	pi   int        // its next probe
	// skip marks the probes of a retry that are not sent again (they
	// answered: a reset is as final as a SYN-ACK); 0 on a first round.
	skip uint64
	due  time.Time // earliest time of the lane's next packet
	idx  int       // heap index
	// drained: the chunks are exhausted; the lane has only retries left.
	drained bool
	// Guarded by the sweeper's lock: retry holds the lane's addresses
	// whose wait ended without an open port and that are to be probed
	// again (a FIFO from rhead), and owed counts its addresses still
	// waiting that may join it. The lane ends only when both are empty.
	retry []netip.Addr
	rhead int
	owed  int
}

type laneHeap []*lane

func (h laneHeap) Len() int           { return len(h) }
func (h laneHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h laneHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *laneHeap) Push(x any)        { l := x.(*lane); l.idx = len(*h); *h = append(*h, l) }
func (h *laneHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	*h = old[:len(old)-1]
	return l
}

// sweeper runs the sweep stage: lanes send the probes, the transport's
// answers land in active, and addresses settle a fixed wait after their
// last probe, in the order they were sent (a FIFO, so settling is a pop).
type sweeper struct {
	probes   []sweepProbe
	tr       transport
	global   *rate.Limiter
	interval time.Duration // between two packets into one prefix
	wait     time.Duration
	// retries is how many more rounds of probes an address that is not
	// live gets (see hostState.retryable).
	retries int
	lanes   int
	chunks  func(yield func(*chunk) bool) // the target list by prefix
	// skip reports an address already recorded (resume); it is not sent
	// to, and counted through skipped.
	skip func(netip.Addr) bool
	// startChunk is called when a lane takes a chunk; false skips it (a
	// prefix done in the resume file).
	startChunk func(*chunk) bool
	// started is called when an address's first probe is about to go.
	started func(*chunk)
	// skipped is called for an address skip reported.
	skipped func(*chunk, netip.Addr)
	// chunkSent is called when a lane has started every address of c.
	chunkSent func(*chunk)
	// settle is called for each address whose wait is over, in order.
	settle func(settled)
	// backlog returns how many live addresses wait for their audit.
	backlog func() int
	// sendErr is called for a probe that could not be sent; a non-nil
	// return ends the sweep with that error.
	sendErr func(netip.Addr, error) error

	mu      sync.Mutex // guards active and pending
	active  map[netip.Addr]*hostState
	pending []pendingHost
	head    int
	sent    int // packets sent, for the debug log
	retried int // addresses probed again, for the debug log
}

// answer records an answer of the transport; answers of addresses not
// being swept (late, or never asked) are dropped.
func (s *sweeper) answer(x answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.active[x.addr]
	if h == nil {
		return
	}
	if x.probe < 64 {
		h.answered |= 1 << x.probe
	}
	if !x.open {
		h.closed = true
	} else if !slices.Contains(h.open, x.probe) {
		h.open = append(h.open, x.probe)
	}
}

// run sends every probe, then waits for the last answers; it returns when
// every started address has settled, or ctx ended.
func (s *sweeper) run(ctx context.Context) error {
	flushCtx, stopFlush := context.WithCancel(context.Background())
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		s.flushLoop(ctx, flushCtx)
	}()
	err := s.send(ctx)
	stopFlush()
	<-flushed
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// send runs the lanes until every chunk is sent.
func (s *sweeper) send(ctx context.Context) error {
	next, stop := iter.Pull(s.chunks)
	defer stop()
	h := &laneHeap{}
	now := time.Now()
	for range s.lanes {
		l := &lane{due: now}
		if !s.advance(l, next) {
			break
		}
		heap.Push(h, l)
	}
	for h.Len() > 0 {
		for s.backlog() >= maxLiveBacklog {
			if err := sleepCtx(ctx, sweepTick); err != nil {
				return err
			}
		}
		l := (*h)[0]
		if d := time.Until(l.due); d > sweepSlack {
			if err := sleepCtx(ctx, d-sweepSlack); err != nil {
				return err
			}
		}
		if !l.a.IsValid() && !s.advance(l, next) {
			// A drained lane waiting for its addresses' waits to end:
			// it looks again a tick later, or ends when none may need
			// a retry.
			if s.owes(l) {
				l.due = later(l.due, time.Now().Add(sweepTick))
				heap.Fix(h, l.idx)
			} else {
				heap.Remove(h, l.idx)
			}
			continue
		}
		if err := s.global.Wait(ctx); err != nil {
			// The limiter refuses a wait that would outlast ctx's deadline:
			// nothing more is sent, and the sweep ends with ctx.
			<-ctx.Done()
			return ctx.Err()
		}
		now := time.Now()
		if err := s.tr.send(ctx, l.a, l.pi); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := s.sendErr(l.a, err); err != nil {
				return err
			}
		}
		s.sent++
		base := l.due
		if base.Before(now) {
			base = now
		}
		l.due = base.Add(s.interval)
		l.pi = l.nextProbe(l.pi+1, len(s.probes))
		if l.pi == len(s.probes) {
			s.mu.Lock()
			s.pending = append(s.pending, pendingHost{a: l.a, due: now.Add(s.wait)})
			if hs := s.active[l.a]; hs != nil && int(hs.tries) <= s.retries {
				l.owed++ // it may need another round
			}
			s.mu.Unlock()
			if !s.advance(l, next) {
				if !s.owes(l) {
					heap.Remove(h, l.idx)
					continue
				}
				l.due = later(l.due, now.Add(sweepTick))
			}
		}
		heap.Fix(h, l.idx)
	}
	return nil
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// owes reports whether l has addresses to probe again, or waiting ones
// that may need it.
func (s *sweeper) owes(l *lane) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.owed > 0 || l.rhead < len(l.retry)
}

// nextProbe returns the first probe from i (of n) that l sends: i
// itself on a first round, the next one that had no answer on a retry; n
// when there is none.
func (l *lane) nextProbe(i, n int) int {
	for ; i < n && i < 64 && l.skip&(1<<i) != 0; i++ {
	}
	return i
}

// nextRetry moves l to the first address of its retry FIFO, its first
// probe without an answer, and counts its new round.
func (s *sweeper) nextRetry(l *lane) bool {
	if s.retries == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for l.rhead < len(l.retry) {
		a := l.retry[l.rhead]
		l.rhead++
		if l.rhead == len(l.retry) {
			l.retry, l.rhead = l.retry[:0], 0
		}
		if h := s.active[a]; h != nil {
			h.tries++
			s.retried++
			n := len(s.probes)
			l.a, l.skip = a, ^h.unanswered(n)
			l.pi = l.nextProbe(0, n)
			return true
		}
	}
	return false
}

// advance moves l to its next address: an address of its own to probe
// again (retries go first: their wait is over, and they keep what is
// outstanding small), else the next new one, taking the next chunk when
// its own is exhausted. It returns false when there is none now (l.a is
// then invalid).
func (s *sweeper) advance(l *lane, next func() (*chunk, bool)) bool {
	if s.nextRetry(l) {
		return true
	}
	l.a, l.skip = netip.Addr{}, 0
	for {
		if l.drained {
			return false
		}
		if l.c == nil || !l.next.IsValid() {
			if l.c != nil {
				s.chunkSent(l.c)
			}
			c, ok := next()
			if !ok {
				l.c, l.drained = nil, true
				return false
			}
			l.c, l.ri, l.next = c, 0, c.rs[0].First
			c.lane = l
			if !s.startChunk(c) {
				l.next = netip.Addr{}
				continue
			}
		}
		a := l.next
		r := l.c.rs[l.ri]
		switch {
		case a != r.Last:
			l.next = a.Next()
		case l.ri+1 < len(l.c.rs):
			l.ri++
			l.next = l.c.rs[l.ri].First
		default:
			l.next = netip.Addr{}
		}
		if s.skip(a) {
			s.skipped(l.c, a)
			continue
		}
		s.started(l.c)
		l.a, l.pi = a, 0
		s.mu.Lock()
		s.active[a] = &hostState{c: l.c, tries: 1, started: time.Now()}
		s.mu.Unlock()
		return true
	}
}

// flushLoop settles addresses as their wait ends; once sending is over
// (sendDone) it goes on until the last one is settled. When ctx ends,
// what is left is dropped unsettled (a resumed scan sweeps it again).
func (s *sweeper) flushLoop(ctx, sendDone context.Context) {
	t := time.NewTicker(sweepTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, x := range s.due(time.Now()) {
			s.settle(x)
		}
		if sendDone.Err() != nil {
			s.mu.Lock()
			left := len(s.pending) - s.head
			s.mu.Unlock()
			if left == 0 {
				return
			}
		}
	}
}

// due pops the pending addresses due at now.
func (s *sweeper) due(now time.Time) []settled {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []settled
	for s.head < len(s.pending) && !s.pending[s.head].due.After(now) {
		a := s.pending[s.head].a
		s.head++
		h := s.active[a]
		if h == nil {
			continue
		}
		if int(h.tries) <= s.retries {
			l := h.c.lane
			l.owed--
			if h.retryable(len(s.probes)) {
				// Not settled: its lane probes it again, next, on
				// the probes that had no answer.
				l.retry = append(l.retry, a)
				continue
			}
		}
		out = append(out, settled{a: a, hostState: *h})
		delete(s.active, a)
	}
	// Compact the FIFO so that its memory follows what is pending, not
	// what was ever pending.
	if s.head > 1024 && s.head*2 > len(s.pending) {
		s.pending = append(s.pending[:0], s.pending[s.head:]...)
		s.head = 0
	}
	return out
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
