// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"context"
	"errors"
	"net/netip"
	"sync"
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
	keys          []dnshijack.Key
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
		p: p, keys: p.keys(), started: in.now(),
		plain: make(limiter, maxPlainInFlight), tlsLim: make(limiter, maxTLSInFlight),
		trustedSrv: in.Trusted,
		resolvers:  map[netip.AddrPort]*serverRound{},
	}
	client := dnsprobe.NewClient(in.Dialer)
	for _, srv := range in.Trusted {
		e.trusted = append(e.trusted, startServer(ctx, client, srv, e.keys, false, limiterFor(srv, e.plain, e.tlsLim)))
	}
	for _, res := range in.Resolvers {
		if _, ok := e.resolvers[res.Addr]; !ok {
			e.resolvers[res.Addr] = startServer(ctx, client, dnsprobe.Server{Transport: dnsprobe.UDP, Addr: res.Addr}, e.keys, true, e.plain)
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
}

// startServer asks srv every key in parallel, and the CHAOS fingerprint
// questions when fingerprint is set, each exchange through lim.
func startServer(ctx context.Context, client *dnsprobe.Client, srv dnsprobe.Server, keys []dnshijack.Key, fingerprint bool, lim limiter) *serverRound {
	r := &serverRound{done: make(chan struct{}), answers: make([]dnshijack.Answer, len(keys))}
	var wg sync.WaitGroup
	for j, k := range keys {
		wg.Go(func() {
			if err := lim.do(ctx, func() {
				resp, err := client.Exchange(ctx, srv, dnsprobe.Query{Name: k.Name, Type: k.Type, DNSSEC: true})
				r.answers[j] = dnshijack.AnswerOf(resp, err)
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
