// SPDX-License-Identifier: Apache-2.0

package lookuppage

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientLimiter is a token bucket per client, in a table of at most max
// clients. When the table is full the client seen least recently is
// forgotten: a crowd of addresses can only make the limiter forget (give
// an honest client a fresh bucket), never grow memory or lock anyone out.
type clientLimiter struct {
	rate  rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	byKey map[string]*list.Element
	lru   *list.List // front: most recent; values are *clientBucket
}

type clientBucket struct {
	key string
	lim *rate.Limiter
}

func newClientLimiter(r rate.Limit, burst, max int) *clientLimiter {
	return &clientLimiter{rate: r, burst: burst, max: max, byKey: map[string]*list.Element{}, lru: list.New()}
}

// allow takes a token for key at now; when none is left it says how long
// until one is.
func (l *clientLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *clientBucket
	if e, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*clientBucket)
	} else {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.byKey, oldest.Value.(*clientBucket).key)
		}
		b = &clientBucket{key: key, lim: rate.NewLimiter(l.rate, l.burst)}
		l.byKey[key] = l.lru.PushFront(b)
	}
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clients is how many clients the table holds.
func (l *clientLimiter) clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// RemoteAddrKey is the default client key: the address the connection
// comes from, IPv6 addresses by their /64 (one subscriber's whole LAN
// prefix is one client, or a single host could change address at will).
// Behind a reverse proxy every request comes from the proxy: give
// Options.ClientKey a function that reads the address the proxy vouches
// for instead.
func RemoteAddrKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
