// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"context"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"net/netip"
	"testing"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
	"github.com/routerwatch/routerwatch/internal/target"
)

// testLab is a loopback world: trusted DoH and DoT resolvers that tell
// the truth, HTTPS servers for the canary names (two legitimate ones with
// certificates from the test CA, one AitM with a self-signed certificate,
// all on one port), and helpers to start resolvers under test.
type testLab struct {
	ca                  *dnsprobetest.CA
	web                 *dnsprobetest.WebServers
	legit, legit2, aitm netip.Addr
	// closed is an address where nothing listens.
	closed   netip.Addr
	trusted  []dnsprobe.Server
	canaries []dnshijack.Canary
}

// v6 is the (unprovable, documentation-range) AAAA answer of every
// canary, the same on every honest resolver.
var v6 = netip.MustParseAddr("2001:db8::10")

// newTestLab builds the loopback world for the default canaries and the
// user canaries extra.
func newTestLab(t testing.TB, extra ...string) *testLab {
	t.Helper()
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		t.Fatal(err)
	}
	l := &testLab{ca: dnsprobetest.NewCA(t), canaries: data.Canaries, closed: dnsprobetest.LoopbackAddr()}
	for _, n := range extra {
		c, err := dnshijack.UserCanary(n)
		if err != nil {
			t.Fatal(err)
		}
		l.canaries = append(l.canaries, c)
	}
	var names []string
	for _, c := range l.canaries {
		names = append(names, c.Name)
	}
	l.web = dnsprobetest.NewWebServers(t,
		l.ca.Issue(t, names, nil),
		l.ca.Issue(t, names, nil),
		dnsprobetest.SelfSigned(t, names...),
	)
	l.legit, l.legit2, l.aitm = l.web.Addrs[0], l.web.Addrs[1], l.web.Addrs[2]
	truth := l.truth()
	doh := dnsprobetest.NewDoH(t, l.ca, truth)
	dot := dnsprobetest.NewDoT(t, l.ca, "resolver.example.net", truth)
	dohSrv, err := dnsprobe.ParseDoH(doh.URL)
	if err != nil {
		t.Fatal(err)
	}
	dohSrv.RootCAs = l.ca.Pool()
	l.trusted = []dnsprobe.Server{dohSrv, {Transport: dnsprobe.DoT, Addr: dot.Addr, ServerName: "resolver.example.net", RootCAs: l.ca.Pool()}}
	return l
}

// truth is the real DNS: every canary at the first legitimate server, the
// DNSSEC names signed, each its own zone with keys except login.corp.test,
// signed by corp.test (user canary login.corp.test: see newTestLab).
func (l *testLab) truth() *dnsprobetest.Zone {
	z := &dnsprobetest.Zone{
		A: map[string][]netip.Addr{}, AAAA: map[string][]netip.Addr{}, Signed: map[string]bool{"corp.test.": true},
		Keys:  map[string]bool{"ietf.org.": true, "isc.org.": true, "corp.test.": true},
		Chaos: map[string]string{"version.bind.": "unbound 1.17.1", "id.server.": "resolver.example.net"},
	}
	for _, c := range l.canaries {
		n := dnsprobetest.Fqdn(c.Name)
		z.A[n] = []netip.Addr{l.legit}
		z.AAAA[n] = []netip.Addr{v6}
	}
	for _, n := range []string{"ietf.org.", "isc.org.", "login.corp.test."} {
		z.A[n] = []netip.Addr{netip.MustParseAddr("192.0.2.80")}
		z.Signed[n] = true
	}
	return z
}

// hijacker is the campaign's dnsmasq: the truth, except the Outlook
// names, which go to to (TTL 0, AA, no AAAA, no RRSIG).
func (l *testLab) hijacker(to netip.Addr) *dnsprobetest.Zone {
	z := l.truth()
	z.Hijack = map[string]netip.Addr{}
	for _, c := range l.canaries {
		if c.Kind == dnshijack.KindCampaignTarget {
			z.Hijack[dnsprobetest.Fqdn(c.Name)] = to
		}
	}
	z.Chaos = map[string]string{"version.bind.": "dnsmasq-2.90", "servers.bind.": "198.51.100.53#53 2 0"}
	return z
}

// testInput is a measurement's input and the judge's, for tests that
// measure and judge in one call (run).
type testInput struct {
	Input
	// Gateways and Indicators go to the judge (dnshijack.Input).
	Gateways   []netip.Addr
	Indicators *dnshijack.Indicators
}

func (l *testLab) input(rs ...dnshijack.Resolver) testInput {
	scope := target.NewScope(netip.MustParsePrefix("127.0.0.0/8"))
	return testInput{Input: Input{
		Resolvers: rs, Trusted: l.trusted, Canaries: l.canaries,
		DNSSECNames: []string{"ietf.org", "isc.org"}, NXParent: "example.com",
		Dialer:  netx.NewDialer(scope, DialerOptions()),
		TLSPort: l.web.Port, RootCAs: l.ca.Pool(),
	}}
}

// run measures in and judges the observations: what the DNS engine does
// after discovery.
func run(ctx context.Context, in testInput) (*dnshijack.Result, error) {
	obs, err := Measure(ctx, in.Input)
	if err != nil {
		return nil, err
	}
	return dnshijack.Judge(dnshijack.Input{Gateways: in.Gateways, Indicators: in.Indicators, Now: in.Now}, obs)
}

func resolverAt(s *dnsprobetest.Server, kind dnshijack.SourceKind, idx int) dnshijack.Resolver {
	return dnshijack.Resolver{Addr: s.Addr, Sources: []dnshijack.Source{{Kind: kind, Index: idx, Detail: "eth0"}}}
}

// statuses maps finding ID → "status/severity/confidence" for compact
// comparisons.
func statuses(fs []finding.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.ID] = f.Status.String() + "/" + f.Severity.String() + "/" + f.Confidence.String()
	}
	return out
}

// outcomes maps canary → outcome for one verdict.
func outcomes(v dnshijack.ResolverVerdict) map[string]dnshijack.NameOutcome {
	out := map[string]dnshijack.NameOutcome{}
	for _, nr := range v.Names {
		out[nr.Name] = nr.Outcome
	}
	return out
}

type netxDialer = netx.Dialer
