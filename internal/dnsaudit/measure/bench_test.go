// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// benchInput is the full run: 3 resolvers (the campaign's
// hijacker, an honest forwarder, one with CDN variance) × 12 canaries,
// 2 DoH + 1 DoT trusted resolvers, fingerprints, DNSSEC and NXDOMAIN
// probes and the TLS proofs of every differing answer.
func benchInput(b testing.TB) testInput {
	l := newTestLab(b)
	doh2 := dnsprobetest.NewDoH(b, l.ca, l.truth())
	s, err := dnsprobe.ParseDoH(doh2.URL)
	if err != nil {
		b.Fatal(err)
	}
	s.RootCAs = l.ca.Pool()
	l.trusted = append(l.trusted, s)
	cdn := l.truth()
	for _, n := range outlookNames {
		cdn.A[n+"."] = []netip.Addr{l.legit2}
	}
	return l.input(
		resolverAt(dnsprobetest.NewServer(b, l.hijacker(l.aitm)), dnshijack.SourceDHCPv4, 0),
		resolverAt(dnsprobetest.NewServer(b, l.truth()), dnshijack.SourceDHCPv4, 1),
		resolverAt(dnsprobetest.NewServer(b, cdn), dnshijack.SourceOS, 0),
	)
}

func BenchmarkFullRun(b *testing.B) {
	in := benchInput(b)
	var durs []time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := run(b.Context(), in)
		if err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
		if res.Overall != dnshijack.VerdictHijacked {
			b.Fatalf("overall %s", res.Overall)
		}
	}
	b.ReportMetric(float64(median(durs).Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(len(in.Resolvers)), "resolvers")
}

// TestBudgetFullRun keeps the benchmark's shape honest in plain test runs:
// the budget is a 1.5 s median in the lab; loopback must be far
// below it. Skipped under -race (timings mean nothing there); its name
// matches `go test -run Budget`, which CI runs without -race.
func TestBudgetFullRun(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing: not under -short or -race")
	}
	in := benchInput(t)
	var durs []time.Duration
	for range 5 {
		start := time.Now()
		res, err := run(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		durs = append(durs, time.Since(start))
		if got := []dnshijack.Verdict{res.Verdicts[0].Verdict, res.Verdicts[1].Verdict, res.Verdicts[2].Verdict}; !slices.Equal(got, []dnshijack.Verdict{dnshijack.VerdictHijacked, dnshijack.VerdictClean, dnshijack.VerdictClean}) {
			t.Fatalf("verdicts %v", got)
		}
		if len(res.Obs.Proofs) == 0 {
			t.Fatal("no TLS proofs ran")
		}
	}
	if m := median(durs); m > 1500*time.Millisecond {
		t.Errorf("median %v over the 1.5 s budget", m)
	} else {
		t.Logf("median of 5 full runs on loopback: %v (runs %v)", m, durs)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
