// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"context"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"testing"

	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// TestRunEarly: a first round started before discovery ends (the OS
// resolver and the trusted resolvers) is reused by Run, not asked again;
// a resolver only discovery named is asked by Run; the verdicts are those
// of a run without a first round.
func TestRunEarly(t *testing.T) {
	l := newTestLab(t)
	hijack := l.hijacker(l.aitm)
	honest := l.truth()
	osRes := resolverAt(dnsprobetest.NewServer(t, hijack), dnshijack.SourceOS, 0)
	dhcpOnly := resolverAt(dnsprobetest.NewServer(t, honest), dnshijack.SourceDHCPv4, 1)

	first := l.input(osRes)
	e, err := Start(t.Context(), first.Input)
	if err != nil {
		t.Fatal(err)
	}
	e.wait()
	asked := hijack.Queries.Load()
	if asked == 0 {
		t.Fatal("the first round asked the OS resolver nothing")
	}
	if honest.Queries.Load() != 0 {
		t.Fatal("the first round asked a resolver it was not given")
	}

	// Discovery found the OS resolver again (as DHCP's primary) and a
	// secondary.
	merged := dnshijack.MergeResolvers([]dnshijack.Resolver{osRes}, []dnshijack.Resolver{resolverAt(&dnsprobetest.Server{Addr: osRes.Addr}, dnshijack.SourceDHCPv4, 0), dhcpOnly})
	in := l.input(merged...)
	in.Early = e
	res, err := run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if again := hijack.Queries.Load() - asked; again >= asked {
		t.Errorf("Run asked the OS resolver %d more questions after a first round of %d: the round was not reused", again, asked)
	}
	if honest.Queries.Load() == 0 {
		t.Error("Run did not ask the resolver only discovery named")
	}
	if res.Obs.NXName != e.p.nxName || !res.Obs.Started.Equal(e.started) {
		t.Errorf("observations name %q started %v, want the first round's %q %v", res.Obs.NXName, res.Obs.Started, e.p.nxName, e.started)
	}
	if got := len(res.Obs.Resolvers[0].Resolver.Sources); got != 2 {
		t.Errorf("the OS resolver carries %d sources, want the merged 2", got)
	}
	var got []dnshijack.Verdict
	for _, v := range res.Verdicts {
		got = append(got, v.Verdict)
	}
	if len(got) != 2 || got[0] != dnshijack.VerdictHijacked || got[1] != dnshijack.VerdictClean {
		t.Errorf("verdicts %v, want [hijacked clean]", got)
	}
	if res.Obs.Resolvers[0].Finger.Value("version.bind") != "dnsmasq-2.90" {
		t.Error("the first round's fingerprint of the OS resolver was lost")
	}
}

// TestStartErrors: Start needs a dialer and valid questions, but no
// resolver; a cancelled first round ends and leaves Run unknown, not hung.
func TestStartErrors(t *testing.T) {
	l := newTestLab(t)
	if _, err := Start(t.Context(), Input{}); err == nil {
		t.Error("Start without a dialer: nil error")
	}
	bad := l.input()
	bad.NXParent = "not a name!"
	if _, err := Start(t.Context(), bad.Input); err == nil {
		t.Error("Start with a bad NXDOMAIN parent: nil error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	e, err := Start(ctx, l.input().Input)
	if err != nil {
		t.Fatalf("Start with trusted resolvers only: %v", err)
	}
	cancel()
	in := l.input(resolverAt(dnsprobetest.NewServer(t, l.truth()), dnshijack.SourceDHCPv4, 0))
	in.Early = e
	res, err := run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	// The trusted side was cancelled: nothing to compare with, so the
	// honest resolver cannot be called clean on its canaries.
	if n := res.Obs.Trusted[0].Answered + res.Obs.Trusted[1].Answered; n == len(e.trustedKeys)*2 {
		t.Errorf("a cancelled first round still answered all %d trusted questions", n)
	}
}
