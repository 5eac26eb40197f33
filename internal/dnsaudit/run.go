// SPDX-License-Identifier: Apache-2.0

package dnsaudit

import (
	"context"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/dnsaudit/measure"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/target"
)

// Run audits: host facts (unless the plan has them), resolver discovery
// (or the named resolvers), the measurement and the judgement. Its scope
// is exactly the gateways, the resolvers and the trusted resolvers
// (plus, for the TLS proofs, the addresses the resolvers answered).
//
// A Result that tested nothing (Tested false) is not an error: it says
// why through its discovery findings. The error is a *UsageError found
// before any traffic, or an internal failure; a context that ends during
// the run leaves what was measured in the Result.
func (p *Plan) Run(ctx context.Context) (*Result, error) {
	facts := p.o.Facts
	if facts == nil {
		f := hostnet.Gather(ctx, p.env)
		facts = &f
	}
	var gateways []netip.Addr
	for _, g := range facts.Gateways {
		gateways = append(gateways, g.Addr)
	}
	// A usage error must come before any traffic.
	if _, ok := facts.InterfaceFor(p.o.Interface); p.o.Interface != "" && !ok && len(p.user) == 0 {
		return nil, usagef("--interface %s: no such interface", p.o.Interface)
	}
	opts := measure.DialerOptions()
	in := measure.Input{
		Trusted: p.trusted, Canaries: p.canaries, DNSSECNames: p.o.DNSSECNames, NXParent: p.o.NXParent,
		RootCAs: p.roots, TLSPort: p.tlsPort(), Now: p.o.Now,
	}
	// The trusted resolvers and the resolvers named already (by the
	// user, or by the OS configuration) are asked while DHCP and router
	// advertisements are still listening: discovery is mostly waiting.
	early := p.user
	if len(early) == 0 {
		early, _ = dnshijack.Discovery{Facts: facts}.Resolvers()
		early = p.onPort(early)
	}
	earlyCtx, stopEarly := context.WithCancel(ctx)
	defer stopEarly() // nothing to test, or an error: the first round is dropped
	// With nothing known and no link probe to run, nothing will be
	// tested: the trusted resolvers are not asked in vain.
	if len(early) > 0 || !p.o.NoLinkProbes {
		first := in
		first.Resolvers = early
		first.Dialer = netx.NewDialer(dnsScope(gateways, early, p.trusted), opts)
		var err error
		if in.Early, err = measure.Start(earlyCtx, first); err != nil {
			return nil, err
		}
	}
	discoveryStart := time.Now()
	resolvers, discovery := p.discover(ctx, facts, gateways)
	p.logger.Debug("dns: phase", "phase", "discovery", "took", time.Since(discoveryStart).Round(time.Millisecond), "resolvers", len(resolvers))
	for _, s := range discovery {
		p.logger.Debug("dns: resolver source", "source", s.Kind, "detail", s.Detail, "found", s.Found, "skipped", s.Skipped, "error", s.Err)
	}
	scope := dnsScope(gateways, resolvers, p.trusted)
	res := &Result{facts: facts, scope: scope, resolvers: resolvers, discovery: discovery, ind: p.ind}
	if len(resolvers) == 0 {
		res.finished = p.now()
		return res, nil
	}
	in.Resolvers = resolvers
	in.Dialer = netx.NewDialer(scope, opts)
	in.ProofDialer = func(extra []netip.Addr) *netx.Dialer {
		s := scope
		for _, x := range extra {
			s = s.WithAddr(x)
		}
		return netx.NewDialer(s, opts)
	}
	p.logger.Debug("dns: measuring", "resolvers", len(resolvers), "trusted", len(p.trusted), "canaries", len(p.canaries), "scope", scope.String())
	in.Logger = p.logger
	obs, err := measure.Measure(ctx, in)
	if err != nil {
		return nil, err
	}
	judgeStart := time.Now()
	judge := dnshijack.Input{Gateways: gateways, Indicators: p.ind, Discovery: discovery, Now: p.o.Now}
	if res.judged, err = dnshijack.Judge(judge, obs); err != nil {
		return nil, err
	}
	p.logger.Debug("dns: phase", "phase", "judge", "took", time.Since(judgeStart).Round(time.Millisecond), "verdict", res.judged.Overall)
	res.finished = p.now()
	return res, nil
}

func (p *Plan) tlsPort() uint16 {
	if p.o.TLSPort == 0 {
		return DefaultTLSPort
	}
	return p.o.TLSPort
}

// noRouterKnown reports that no IPv6 router is known to advertise on
// ifname, so that the router solicitation need not wait for a router
// that delays its answer (dhcpprobe.Prober.NoRouterKnown). The kernel
// knows: what an advertisement taught it (a default route, a prefix, an
// address) it keeps for the lifetimes the router gave, and when it
// listens to advertisements (accept_ra) it solicited as the link came
// up; nothing learned means no router advertised lately. When it does
// not listen (static IPv6), it knows no router either: RFC 4861's timing
// still holds (a router that did not just advertise answers within
// 0.5 s), and only a router that multicast an advertisement in the 3 s
// before the solicitation would answer later. When the kernel's state
// cannot be read, an IPv6 default route on the interface is the only
// sign of a router.
func (p *Plan) noRouterKnown(facts *hostnet.Facts, ifname string) bool {
	st, err := hostnet.IPv6LinkState(p.env, ifname)
	if err == nil {
		p.logger.Debug("dns: ipv6 link", "interface", ifname, "accept_ra", st.AcceptRA, "router_learned", st.RALearned, "tentative", st.Tentative)
		return !st.RALearned
	}
	route := false
	for _, g := range facts.Gateways {
		route = route || (g.Addr.Is6() && g.Interface == ifname)
	}
	p.logger.Debug("dns: ipv6 link", "interface", ifname, "ipv6_default_route", route, "error", err)
	return !route
}

// onPort moves discovered resolvers to Options.ResolverPort (tests).
func (p *Plan) onPort(rs []dnshijack.Resolver) []dnshijack.Resolver {
	if p.o.ResolverPort == 0 {
		return rs
	}
	out := make([]dnshijack.Resolver, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].Addr = netip.AddrPortFrom(r.Addr.Addr(), p.o.ResolverPort)
	}
	return out
}

// dnsScope is exactly what the user's machine is told to use (gateways,
// resolvers found or named) and the trusted resolvers; TLS proofs add the
// addresses the resolvers answered, one by one (the proof dialer).
func dnsScope(gateways []netip.Addr, resolvers []dnshijack.Resolver, trusted []dnsprobe.Server) target.Scope {
	scope := target.NewScope()
	for _, g := range gateways {
		scope = scope.WithAddr(g)
	}
	for _, r := range resolvers {
		scope = scope.WithAddr(r.Addr.Addr())
	}
	for _, t := range trusted {
		scope = scope.WithAddr(t.Addr.Addr())
	}
	return scope
}

// discover returns the resolvers to test: the named ones, or those the
// OS, DHCP and router advertisements name, with each source's status.
// Run has checked the interface already.
func (p *Plan) discover(ctx context.Context, facts *hostnet.Facts, gateways []netip.Addr) ([]dnshijack.Resolver, []dnshijack.SourceStatus) {
	if len(p.user) > 0 {
		why := "resolvers named with --resolver"
		_, st := dnshijack.Discovery{OSSkipped: why, DHCPSkipped: why}.Resolvers()
		return p.user, st
	}
	d := dnshijack.Discovery{Facts: facts}
	it, ok := facts.InterfaceFor(p.o.Interface)
	switch {
	case p.o.NoLinkProbes:
		d.DHCPSkipped = "--no-dhcp"
	case !ok:
		d.DHCPSkipped = "no interface with an IPv4 default route (give --interface)"
	default:
		d.Interface = it.Name
		scope := target.NewScope()
		for _, g := range gateways {
			scope = scope.WithAddr(g)
		}
		pr := &dhcpprobe.Prober{Dialer: netx.NewDialer(scope, netx.Options{}), Interface: it.Name, MAC: it.MAC}
		if v4, ok := it.IPv4(); ok {
			pr.IPv4 = v4.Addr()
		}
		// IPv6 sources are asked whenever IPv6 is on (a rogue RA may
		// announce only DNS, with no route).
		_, v6 := it.LinkLocalIPv6()
		if !v6 {
			d.V6Skipped = "IPv6 is off on " + it.Name + " (no link-local address)"
		} else {
			pr.NoRouterKnown = p.noRouterKnown(facts, it.Name)
		}
		probe := p.o.LinkProbe
		if probe == nil {
			probe = func(ctx context.Context, pr *dhcpprobe.Prober, v6 bool) dhcpprobe.Result { return pr.Probe(ctx, v6) }
		}
		r := probe(ctx, pr, v6)
		d.DHCP = &r
	}
	rs, st := d.Resolvers()
	return p.onPort(rs), st
}
