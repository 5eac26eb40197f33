// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// Early is the first round of a run, started before discovery has
// finished: the trusted resolvers' answers do not depend on which
// resolvers discovery finds, and the resolvers the OS configuration names
// are known at once, while router advertisements and DHCPv6 still listen
// for up to a second. Measure (with Input.Early) waits for this round instead
// of asking the same questions again. One Early serves one Measure.
type Early struct {
	p             plan
	resolverKeys  []dnshijack.Key
	trustedKeys   []dnshijack.Key
	started       time.Time
	plain, tlsLim limiter
	trustedSrv    []dnsprobe.Server
	trusted       []*serverRound
	resolvers     map[netip.AddrPort]*serverRound
}

// Start begins a run's first round: every question of every trusted
// resolver and of the resolvers in in.Resolvers, which may be empty. in
// needs a Dialer whose scope holds them; Measure later takes a Dialer of its
// own for the resolvers discovery adds. The exchanges run under ctx: a
// caller that ends up with nothing to test cancels it. The error is
// reserved for an unusable Input.
func Start(ctx context.Context, in Input) (*Early, error) {
	if in.Dialer == nil {
		return nil, errors.New("measure: Input.Dialer is required")
	}
	p, err := newPlan(&in)
	if err != nil {
		return nil, err
	}
	return begin(ctx, &in, p), nil
}

// begin starts the first round of plan p.
func begin(ctx context.Context, in *Input, p plan) *Early {
	e := &Early{
		p: p, resolverKeys: p.resolverKeys(), trustedKeys: p.trustedKeys(), started: in.now(),
		plain: make(limiter, maxPlainInFlight), tlsLim: make(limiter, maxTLSInFlight),
		trustedSrv: in.Trusted,
		resolvers:  map[netip.AddrPort]*serverRound{},
	}
	client := dnsprobe.NewClient(in.Dialer)
	for _, srv := range in.Trusted {
		e.trusted = append(e.trusted, startServer(ctx, client, srv, e.trustedKeys, p.isCanary, false, limiterFor(srv, e.plain, e.tlsLim)))
	}
	for _, res := range in.Resolvers {
		if _, ok := e.resolvers[res.Addr]; !ok {
			e.resolvers[res.Addr] = startServer(ctx, client, dnsprobe.Server{Transport: dnsprobe.UDP, Addr: res.Addr}, e.resolverKeys, p.isCanary, true, e.plain)
		}
	}
	return e
}

// wait blocks until every exchange of the first round has ended (each is
// bounded by its timeout and by the round's context).
func (e *Early) wait() {
	for _, r := range e.trusted {
		<-r.done
	}
	for _, r := range e.resolvers {
		<-r.done
	}
}

// limiterFor is the limiter srv's exchanges wait in: tls for DoH and
// DoT (a handshake each), plain otherwise.
func limiterFor(srv dnsprobe.Server, plain, tls limiter) limiter {
	if srv.Transport == dnsprobe.DoH || srv.Transport == dnsprobe.DoT {
		return tls
	}
	return plain
}

// serverRound is every question of a run asked of one server; its fields
// are set when done is closed.
type serverRound struct {
	done      chan struct{}
	answers   []dnshijack.Answer // per key
	finger    dnsprobe.Fingerprint
	fingerErr string
	// replied is set once the server answered any question: only then
	// is a canary it leaves unanswered worth a second chance.
	replied atomic.Bool
}

// startServer asks srv every key in parallel, and the CHAOS fingerprint
// questions when fingerprint is set, each exchange through lim. The
// questions canary selects (nil: none) get a second chance when the
// server answers other questions: over plain DNS they are asked again
// and waited for up to secondChanceFor (a resolver that holds back only
// the names that matter must not look merely unreachable for them);
// over DoH and DoT (the trusted resolvers) a timeout is asked once more.
func startServer(ctx context.Context, client *dnsprobe.Client, srv dnsprobe.Server, keys []dnshijack.Key, canary func(dnshijack.Key) bool, fingerprint bool, lim limiter) *serverRound {
	r := &serverRound{done: make(chan struct{}), answers: make([]dnshijack.Answer, len(keys))}
	long := secondChanceFor(ctx)
	plain := srv.Transport == dnsprobe.UDP || srv.Transport == ""
	var wg sync.WaitGroup
	for j, k := range keys {
		q := queryOf(k)
		second := canary != nil && canary(k) && long > 0
		if second && plain {
			q.Timeout, q.Again = long, r.replied.Load
		}
		wg.Go(func() {
			if err := lim.do(ctx, func() {
				start := time.Now()
				resp, err := client.Exchange(ctx, srv, q)
				if err != nil && second && !plain && r.replied.Load() && dnsprobe.Classify(err) == "timeout" && ctx.Err() == nil {
					// DoH and DoT have no second question on the
					// same socket: a trusted resolver that answers
					// the rest is asked once more.
					resp, err = client.Exchange(ctx, srv, q)
				}
				r.answers[j] = dnshijack.AnswerOf(resp, err)
				if err != nil {
					r.answers[j].Waited = time.Since(start)
				} else {
					r.replied.Store(true)
				}
			}); err != nil {
				r.answers[j] = dnshijack.AnswerOf(nil, err) // not asked: the run ended
			}
		})
	}
	if fingerprint {
		wg.Go(func() {
			if err := lim.do(ctx, func() {
				fp, err := client.Fingerprint(ctx, srv)
				r.finger = fp
				if err != nil {
					r.fingerErr = err.Error()
				}
			}); err != nil {
				r.fingerErr = err.Error()
			}
		})
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r
}
