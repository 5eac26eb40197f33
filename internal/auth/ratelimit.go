// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"container/list"
	"crypto/sha256"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LimitPolicy is the back-off for one kind of key (a login name, a client
// address): after Free failures the key is locked for Base, and each
// further failure locks it for twice as long (2·Base, 4·Base, …) up to
// Max. A key that has not
// failed for Forget starts again from zero.
type LimitPolicy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// The default policies. A name gets 5 tries, then waits 1 s, 2 s, 4 s …
// up to 15 minutes: 10,000 guesses against one user spread over an hour
// run the password hash 17 times (TestTenThousandWrongPasswords). An address gets more free tries (an office
// behind one NAT address shares it), then the same back-off.
var (
	DefaultNamePolicy = LimitPolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
	DefaultAddrPolicy = LimitPolicy{Free: 20, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// DefaultLimiterSize is the number of names and of addresses a Limiter
// remembers (each table; about 100 bytes an entry, so under 2 MiB
// together, whatever an attacker sprays).
const DefaultLimiterSize = 10000

// Limiter limits login attempts per login name and per client address.
// Each table is a fixed-size LRU: spraying a million names evicts the
// oldest entries instead of growing memory. An attacker who sprays to
// evict the name under attack pays a full attempt per sprayed name, and
// the per-address table still limits them. Safe for concurrent use.
type Limiter struct {
	names, addrs *lruTable
}

// NewLimiter returns a Limiter remembering size names and size addresses,
// with the given policies.
func NewLimiter(size int, name, addr LimitPolicy) *Limiter {
	return &Limiter{names: newLRU(size, name), addrs: newLRU(size, addr)}
}

// Len returns how many names and addresses the Limiter remembers.
func (l *Limiter) Len() (names, addrs int) { return l.names.len(), l.addrs.len() }

// outcome is how a login attempt ended, for the Limiter.
type outcome int

const (
	failed    outcome = iota // wrong password or unknown user
	succeeded                // the name is forgiven; the address is not
	noVerdict                // the store failed: the attempt does not count
)

// attempt is a login attempt admitted by begin; finish says how it ended.
type attempt struct {
	l          *Limiter
	name, addr lruKey
}

// begin admits an attempt or says how long to wait. An admitted attempt
// is counted as a failure at once (so a thousand concurrent guesses see
// each other) and forgiven by finish if it succeeds.
func (l *Limiter) begin(name string, addr netip.Addr, now time.Time) (attempt, time.Duration, bool) {
	nk, ak := nameKey(name), addrKey(addr)
	wait := max(l.names.wait(nk, now), l.addrs.wait(ak, now))
	if wait > 0 {
		return attempt{}, wait, false
	}
	l.names.fail(nk, now)
	l.addrs.fail(ak, now)
	return attempt{l: l, name: nk, addr: ak}, 0, true
}

func (a attempt) finish(o outcome) {
	switch o {
	case succeeded:
		a.l.names.forget(a.name)
		a.l.addrs.undo(a.addr)
	case noVerdict:
		a.l.names.undo(a.name)
		a.l.addrs.undo(a.addr)
	}
}

// lruKey is a fixed-size digest, so a long name costs no more memory.
type lruKey [16]byte

func nameKey(name string) lruKey {
	// Cut first: no stored name is longer than maxLoginName, so longer
	// ones may share a bucket, and a megabyte of name costs no hashing.
	name = cut(name, maxLoginName+1)
	// Case-folded: "Admin" and "admin" share a bucket (over-limits at
	// worst).
	h := sha256.Sum256([]byte("name\x00" + strings.ToLower(name)))
	return lruKey(h[:16])
}

// addrKey keys IPv4 by address and IPv6 by /64: one subscriber usually
// has a whole /64.
func addrKey(a netip.Addr) lruKey {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	b, _ := a.MarshalBinary() // never fails; the invalid address gives nil
	h := sha256.Sum256(append([]byte("addr\x00"), b...))
	return lruKey(h[:16])
}

type lruEntry struct {
	key   lruKey
	fails int
	last  time.Time // last failure
	until time.Time // locked until
}

type lruTable struct {
	policy LimitPolicy
	size   int

	mu    sync.Mutex // guards following
	order *list.List // front = most recently used
	index map[lruKey]*list.Element
}

func newLRU(size int, p LimitPolicy) *lruTable {
	return &lruTable{policy: p, size: max(size, 1), order: list.New(), index: make(map[lruKey]*list.Element)}
}

func (t *lruTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

// entry returns the key's entry, refreshed for its age, or nil.
func (t *lruTable) entry(k lruKey, now time.Time) *lruEntry {
	el, ok := t.index[k]
	if !ok {
		return nil
	}
	e := el.Value.(*lruEntry)
	if now.Sub(e.last) >= t.policy.Forget && !now.Before(e.until) {
		e.fails, e.until = 0, time.Time{}
	}
	return e
}

func (t *lruTable) wait(k lruKey, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entry(k, now); e != nil && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

func (t *lruTable) fail(k lruKey, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entry(k, now)
	if e == nil {
		if t.order.Len() >= t.size {
			old := t.order.Back()
			t.order.Remove(old)
			delete(t.index, old.Value.(*lruEntry).key)
		}
		e = &lruEntry{key: k}
		t.index[k] = t.order.PushFront(e)
	} else {
		t.order.MoveToFront(t.index[k])
	}
	e.fails++
	e.last = now
	if d := t.policy.backoff(e.fails); d > 0 {
		e.until = now.Add(d)
	}
}

// undo takes back one failure counted by begin.
func (t *lruTable) undo(k lruKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.index[k]
	if !ok {
		return
	}
	e := el.Value.(*lruEntry)
	if e.fails > 0 {
		e.fails--
	}
	if d := t.policy.backoff(e.fails); d > 0 {
		e.until = e.last.Add(d)
	} else {
		e.until = time.Time{}
	}
}

func (t *lruTable) forget(k lruKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.index[k]; ok {
		t.order.Remove(el)
		delete(t.index, k)
	}
}

// backoff is the lock after the n-th failure.
func (p LimitPolicy) backoff(n int) time.Duration {
	if n < p.Free || n < 1 {
		return 0
	}
	shift := min(n-p.Free, 30)
	return min(p.Base<<shift, p.Max)
}
