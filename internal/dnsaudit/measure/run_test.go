// SPDX-License-Identifier: Apache-2.0

package measure

import (
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

var outlookNames = []string{"outlook.office365.com", "outlook.live.com", "outlook.office.com", "autodiscover-s.outlook.com", "imap-mail.outlook.com"}

// TestRunScenarios runs the whole measurement and judgement against
// loopback resolvers shaped like the lab scenarios.
func TestRunScenarios(t *testing.T) {
	l := newTestLab(t)
	type want struct {
		verdicts   []dnshijack.Verdict
		confidence []finding.Confidence
		// names: per resolver, the outcome of the Outlook names.
		outlook []dnshijack.NameOutcome
		// findings: a subset of ID → status/severity/confidence.
		findings map[string]string
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) []dnshijack.Resolver
		want  want
	}{
		{
			name: "benign_forwarder",
			setup: func(t *testing.T) []dnshijack.Resolver {
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, l.truth()), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictClean}, confidence: []finding.Confidence{finding.ConfidenceHigh}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeMatch}},
		},
		{
			name: "apt28_primary_hijacked_secondary_honest",
			setup: func(t *testing.T) []dnshijack.Resolver {
				return []dnshijack.Resolver{
					resolverAt(dnsprobetest.NewServer(t, l.hijacker(l.aitm)), dnshijack.SourceDHCPv4, 0),
					resolverAt(dnsprobetest.NewServer(t, l.truth()), dnshijack.SourceDHCPv4, 1),
				}
			},
			want: want{
				verdicts: []dnshijack.Verdict{dnshijack.VerdictHijacked, dnshijack.VerdictClean}, confidence: []finding.Confidence{finding.ConfidenceHigh, finding.ConfidenceHigh},
				outlook:  []dnshijack.NameOutcome{dnshijack.OutcomeIntercepted, dnshijack.OutcomeMatch},
				findings: map[string]string{"dns.primary_secondary_disagree@dhcpv4 eth0": "fail/medium/medium", "dns.trusted_resolver@trusted": "pass/high/high"},
			},
		},
		{
			name: "all_rogue",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.hijacker(l.aitm)
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0), resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 1)}
			},
			want: want{
				verdicts: []dnshijack.Verdict{dnshijack.VerdictHijacked, dnshijack.VerdictHijacked}, confidence: []finding.Confidence{finding.ConfidenceHigh, finding.ConfidenceHigh},
				outlook:  []dnshijack.NameOutcome{dnshijack.OutcomeIntercepted, dnshijack.OutcomeIntercepted},
				findings: map[string]string{"dns.primary_secondary_disagree@dhcpv4 eth0": "pass/medium/high"},
			},
		},
		{
			name: "cdn_variance",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.truth()
				for _, n := range outlookNames {
					z.A[n+"."] = []netip.Addr{l.legit2}
				}
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictClean}, confidence: []finding.Confidence{finding.ConfidenceHigh}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeVerified}},
		},
		{
			name: "hijack_to_dead_address_dnsmasq_banner",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.hijacker(l.closed)
				z.Chaos["version.bind."] = "dnsmasq-2.85"
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictHijacked}, confidence: []finding.Confidence{finding.ConfidenceHigh}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeHijackShaped}},
		},
		{
			name: "hijack_to_dead_address_no_banner",
			setup: func(t *testing.T) []dnshijack.Resolver {
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, l.hijacker(l.closed)), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictHijacked}, confidence: []finding.Confidence{finding.ConfidenceMedium}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeHijackShaped}},
		},
		{
			name: "forwarded_lie_to_dead_address",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.truth()
				for _, n := range outlookNames {
					z.A[n+"."] = []netip.Addr{l.closed}
				}
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictSuspicious}, confidence: []finding.Confidence{finding.ConfidenceLow}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeUnexplained}},
		},
		{
			name: "dnssec_strip_everywhere_is_a_weakness_not_a_hijack",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.truth()
				z.Signed = nil
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictClean}, confidence: []finding.Confidence{finding.ConfidenceHigh}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeMatch}},
		},
		{
			name: "nxdomain_rewrite",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.truth()
				z.NXRewrite = netip.MustParseAddr("192.0.2.200")
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictClean}, confidence: []finding.Confidence{finding.ConfidenceHigh}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeMatch}},
		},
		{
			name: "blocker",
			setup: func(t *testing.T) []dnshijack.Resolver {
				z := l.truth()
				for _, n := range outlookNames {
					z.A[n+"."] = []netip.Addr{netip.IPv4Unspecified()}
				}
				return []dnshijack.Resolver{resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceDHCPv4, 0)}
			},
			want: want{verdicts: []dnshijack.Verdict{dnshijack.VerdictSuspicious}, confidence: []finding.Confidence{finding.ConfidenceLow}, outlook: []dnshijack.NameOutcome{dnshijack.OutcomeBlocked}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.setup(t)
			in := l.input(rs...)
			in.Gateways = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
			res, err := run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			var gotV []dnshijack.Verdict
			var gotC []finding.Confidence
			var gotO []dnshijack.NameOutcome
			for _, v := range res.Verdicts {
				gotV, gotC = append(gotV, v.Verdict), append(gotC, v.Confidence)
				gotO = append(gotO, outcomes(v)["outlook.office365.com"])
				for _, n := range outlookNames[1:] {
					if o := outcomes(v)[n]; o != outcomes(v)["outlook.office365.com"] {
						t.Errorf("%s: %s is %s, outlook.office365.com %s", v.Resolver.Key(), n, o, outcomes(v)["outlook.office365.com"])
					}
				}
				for _, n := range []string{"login.microsoftonline.com", "accounts.google.com", "github.com"} {
					if o := outcomes(v)[n]; o != dnshijack.OutcomeMatch {
						t.Errorf("%s: %s is %s, want match", v.Resolver.Key(), n, o)
					}
				}
			}
			if diff := cmp.Diff(tt.want.verdicts, gotV); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s\nreasons: %v", diff, reasons(res))
			}
			if diff := cmp.Diff(tt.want.confidence, gotC); diff != "" {
				t.Errorf("confidence (-want +got):\n%s\nreasons: %v", diff, reasons(res))
			}
			if diff := cmp.Diff(tt.want.outlook, gotO); diff != "" {
				t.Errorf("outlook outcomes (-want +got):\n%s", diff)
			}
			got := statuses(res.Findings)
			for id, w := range tt.want.findings {
				if got[id] != w {
					t.Errorf("finding %s = %q, want %q", id, got[id], w)
				}
			}
			checkFindingInvariants(t, res)
		})
	}
}

func reasons(res *dnshijack.Result) [][]string {
	var out [][]string
	for _, v := range res.Verdicts {
		out = append(out, v.Reasons)
	}
	return out
}

// checkFindingInvariants holds for every run: unique IDs, a reason on
// every non-pass, every resolver judged by every per-resolver check.
func checkFindingInvariants(t *testing.T, res *dnshijack.Result) {
	t.Helper()
	seen := map[string]bool{}
	perCheck := map[string]int{}
	for _, f := range res.Findings {
		if seen[f.ID] {
			t.Errorf("duplicate finding ID %s", f.ID)
		}
		seen[f.ID] = true
		perCheck[f.CheckID]++
		if f.Status != finding.StatusPass && f.Detail == "" {
			t.Errorf("%s is %s without a reason", f.ID, f.Status)
		}
		if !strings.HasPrefix(f.ID, f.CheckID+"@") {
			t.Errorf("ID %s does not start with its check ID", f.ID)
		}
	}
	for _, c := range []string{"dns.resolver_hijacked", "dns.resolver_known_bad", "dns.answer_anomaly", "dns.dnssec_stripped", "dns.nxdomain_rewritten", "dns.resolver_fingerprint"} {
		if perCheck[c] != len(res.Verdicts) {
			t.Errorf("%d %s findings for %d resolvers", perCheck[c], c, len(res.Verdicts))
		}
	}
	if res.Headline == "" {
		t.Error("no headline")
	}
}

func TestRunSubFindings(t *testing.T) {
	l := newTestLab(t)
	tests := []struct {
		name string
		zone func() *dnsprobetest.Zone
		want map[string]string // check ID → status/severity/confidence
	}{
		{
			name: "honest",
			zone: l.truth,
			want: map[string]string{
				"dns.resolver_hijacked": "pass/critical/high", "dns.resolver_known_bad": "pass/high/medium", "dns.answer_anomaly": "pass/medium/high",
				"dns.dnssec_stripped": "pass/medium/high", "dns.nxdomain_rewritten": "pass/low/high", "dns.resolver_fingerprint": "pass/info/high",
			},
		},
		{
			name: "apt28_dnsmasq",
			zone: func() *dnsprobetest.Zone { return l.hijacker(l.aitm) },
			want: map[string]string{
				"dns.resolver_hijacked": "fail/critical/high", "dns.answer_anomaly": "fail/medium/medium",
				"dns.dnssec_stripped": "pass/medium/high", "dns.nxdomain_rewritten": "pass/low/high",
			},
		},
		{
			name: "strip_everywhere",
			zone: func() *dnsprobetest.Zone { z := l.truth(); z.Signed = nil; return z },
			want: map[string]string{"dns.dnssec_stripped": "fail/low/high", "dns.resolver_hijacked": "pass/critical/high"},
		},
		{
			name: "strip_selectively_on_a_hijacked_signed_name",
			zone: func() *dnsprobetest.Zone {
				z := l.hijacker(l.aitm)
				z.Signed["outlook.office365.com."] = true
				return z
			},
			want: map[string]string{"dns.dnssec_stripped": "fail/medium/high"},
		},
		{
			name: "nx_rewrite",
			zone: func() *dnsprobetest.Zone { z := l.truth(); z.NXRewrite = netip.MustParseAddr("192.0.2.200"); return z },
			want: map[string]string{"dns.nxdomain_rewritten": "fail/low/high", "dns.resolver_hijacked": "pass/critical/high"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := tt.zone()
			if tt.name == "strip_selectively_on_a_hijacked_signed_name" {
				// The trusted side must sign the name too.
				l2 := *l
				tz := l.truth()
				tz.Signed["outlook.office365.com."] = true
				doh := dnsprobetest.NewDoH(t, l.ca, tz)
				s, _ := dnsprobe.ParseDoH(doh.URL)
				s.RootCAs = l.ca.Pool()
				l2.trusted = []dnsprobe.Server{s}
				res, err := run(t.Context(), l2.input(resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceUser, 0)))
				if err != nil {
					t.Fatal(err)
				}
				compareByCheck(t, res, tt.want)
				return
			}
			res, err := run(t.Context(), l.input(resolverAt(dnsprobetest.NewServer(t, z), dnshijack.SourceUser, 0)))
			if err != nil {
				t.Fatal(err)
			}
			compareByCheck(t, res, tt.want)
		})
	}
}

func compareByCheck(t *testing.T, res *dnshijack.Result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.CheckID] = f.Status.String() + "/" + f.Severity.String() + "/" + f.Confidence.String()
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s = %q, want %q", id, got[id], w)
		}
	}
}

// TestRunDNSSECForgery: the lab's dnssec-strip scenario and its look-alike.
// A resolver answers a signed name (login.corp.test, zone corp.test) with
// another address whose certificate is valid — an attacker holding a
// mis-issued certificate, or a CDN edge — and without the signature.
func TestRunDNSSECForgery(t *testing.T) {
	l := newTestLab(t, "login.corp.test")
	const name = "login.corp.test"
	tests := []struct {
		name string
		zone func() *dnsprobetest.Zone
		// dnssecNames are the DNSSEC names asked besides the canaries.
		dnssecNames []string
		want        dnshijack.Verdict
		wantConf    finding.Confidence
		wantOutcome dnshijack.NameOutcome
		wantDNSSEC  string
		wantKeyless []string
	}{
		{
			// The lab's dnssec-strip: corp.test from the attacker's own
			// unsigned copy, which has no DNSKEY.
			name: "unsigned_copy_without_keys",
			zone: func() *dnsprobetest.Zone {
				z := l.truth()
				z.Signed, z.Keys = nil, map[string]bool{"ietf.org.": true, "isc.org.": true}
				z.A[name+"."] = []netip.Addr{l.legit2}
				return z
			},
			want: dnshijack.VerdictHijacked, wantConf: finding.ConfidenceHigh, wantOutcome: dnshijack.OutcomeUnsignedVariant,
			wantDNSSEC: "fail/high/high", wantKeyless: []string{"corp.test"},
		},
		{
			// Signatures kept for ietf.org and isc.org, dropped for the
			// differing name only: made up by the resolver.
			name: "selective_strip",
			zone: func() *dnsprobetest.Zone {
				z := l.truth()
				z.Signed = map[string]bool{"ietf.org.": true, "isc.org.": true}
				z.A[name+"."] = []netip.Addr{l.legit2}
				return z
			},
			dnssecNames: []string{"ietf.org", "isc.org"},
			want:        dnshijack.VerdictHijacked, wantConf: finding.ConfidenceMedium, wantOutcome: dnshijack.OutcomeUnsignedVariant,
			wantDNSSEC: "fail/medium/high",
		},
		{
			// A forwarder that strips every signature but passes the
			// keys on, in front of a zone that answers per location:
			// not proof of anything.
			name: "limited_forwarder_and_variance",
			zone: func() *dnsprobetest.Zone {
				z := l.truth()
				z.Signed = nil
				z.A[name+"."] = []netip.Addr{l.legit2}
				return z
			},
			want: dnshijack.VerdictSuspicious, wantConf: finding.ConfidenceLow, wantOutcome: dnshijack.OutcomeUnsignedVariant,
			wantDNSSEC: "fail/low/high",
		},
		{
			// The same forwarder without variance: a weakness only.
			name: "limited_forwarder",
			zone: func() *dnsprobetest.Zone {
				z := l.truth()
				z.Signed = nil
				return z
			},
			want: dnshijack.VerdictClean, wantConf: finding.ConfidenceHigh, wantOutcome: dnshijack.OutcomeMatch,
			wantDNSSEC: "fail/low/high",
		},
		{
			// An unsigned copy with the true addresses: no lie about
			// any canary; the DNSSEC finding says the zone does not
			// come from its owner.
			name: "unsigned_copy_same_addresses",
			zone: func() *dnsprobetest.Zone {
				z := l.truth()
				z.Signed, z.Keys = nil, nil
				return z
			},
			want: dnshijack.VerdictClean, wantConf: finding.ConfidenceHigh, wantOutcome: dnshijack.OutcomeMatch,
			wantDNSSEC: "fail/medium/high", wantKeyless: []string{"corp.test"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dnsprobetest.NewServer(t, tt.zone())
			in := l.input(resolverAt(srv, dnshijack.SourceDHCPv4, 0))
			in.DNSSECNames = tt.dnssecNames
			if in.DNSSECNames == nil {
				in.DNSSECNames = []string{}
			}
			res, err := run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdicts[0]
			if v.Verdict != tt.want || v.Confidence != tt.wantConf {
				t.Errorf("verdict %s/%s, want %s/%s; reasons %v", v.Verdict, v.Confidence, tt.want, tt.wantConf, v.Reasons)
			}
			if o := outcomes(v)[name]; o != tt.wantOutcome {
				t.Errorf("%s: %s, want %s", name, o, tt.wantOutcome)
			}
			if got := statuses(res.Findings)["dns.dnssec_stripped@"+v.Resolver.Key()]; got != tt.wantDNSSEC {
				t.Errorf("dns.dnssec_stripped = %q, want %q", got, tt.wantDNSSEC)
			}
			if diff := cmp.Diff(tt.wantKeyless, v.KeylessZones); diff != "" {
				t.Errorf("keyless zones (-want +got):\n%s", diff)
			}
			checkFindingInvariants(t, res)
		})
	}
}

// TestRunHostileResolvers: broken or hostile resolvers give unknown
// findings with reasons, inside the deadline, never a crash or a pass.
func TestRunHostileResolvers(t *testing.T) {
	l := newTestLab(t)
	for _, b := range []dnsprobetest.Behaviour{
		dnsprobetest.Malformed, dnsprobetest.Truncated, dnsprobetest.TCPGarbage, dnsprobetest.MismatchedID,
		dnsprobetest.Oversized, dnsprobetest.Spoofed, dnsprobetest.Slow, dnsprobetest.NotResponse, dnsprobetest.WrongQuestion,
	} {
		t.Run(string(b), func(t *testing.T) {
			srv := dnsprobetest.NewHostile(t, b)
			in := l.input(resolverAt(srv, dnshijack.SourceDHCPv4, 0))
			// Three canaries are enough to see the resolver fail; fewer
			// TLS exchanges keep the timing honest on a busy machine.
			in.Canaries = in.Canaries[:3]
			start := time.Now()
			res, err := run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			// Each exchange gives up after QueryTimeout; the proofs of
			// the trusted answers need no more than ProofTimeout.
			limit := dnsprobe.QueryTimeout + dnsprobe.ProofTimeout
			if raceEnabled {
				limit *= 3
			}
			if took := time.Since(start); took > limit {
				t.Errorf("took %v, limit %v", took, limit)
			}
			v := res.Verdicts[0]
			if v.Verdict != dnshijack.VerdictUnknown {
				t.Errorf("verdict %s, want unknown; reasons %v", v.Verdict, v.Reasons)
			}
			for _, f := range res.Findings {
				if f.CheckID == "dns.resolver_hijacked" {
					if f.Status != finding.StatusUnknown || !strings.Contains(f.Detail, "no usable answer") {
						t.Errorf("hijack finding %s: %s", f.Status, f.Detail)
					}
				}
				if f.Status == finding.StatusPass && strings.HasSuffix(f.ID, "@"+v.Resolver.Key()) &&
					f.CheckID != "dns.resolver_known_bad" && f.CheckID != "dns.dhcp_resolver_unknown" {
					t.Errorf("%s passed on a hostile resolver: %s", f.ID, f.Detail)
				}
			}
		})
	}
}

// TestRunKnownBad: a resolver on a published indicator is hijacked even
// when it answers honestly; a candidate (low) indicator only makes it
// suspicious.
func TestRunKnownBad(t *testing.T) {
	l := newTestLab(t)
	honest := dnsprobetest.NewServer(t, l.truth())
	tests := []struct {
		name       string
		confidence string
		lastSeen   string
		want       dnshijack.Verdict
		wantConf   finding.Confidence
		wantStatus string
	}{
		// Dates relative to the real clock: the TLS proofs check the
		// test certificates against it.
		{name: "primary_high", confidence: "high", lastSeen: time.Now().AddDate(0, -1, 0).Format(time.DateOnly), want: dnshijack.VerdictHijacked, wantConf: finding.ConfidenceHigh, wantStatus: "fail/high/high"},
		{name: "primary_stale", confidence: "high", lastSeen: time.Now().AddDate(-1, 0, 0).Format(time.DateOnly), want: dnshijack.VerdictSuspicious, wantConf: finding.ConfidenceLow, wantStatus: "fail/high/medium"},
		{name: "candidate_low", confidence: "low", want: dnshijack.VerdictSuspicious, wantConf: finding.ConfidenceLow, wantStatus: "fail/high/low"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := ""
			if tt.lastSeen != "" {
				first = time.Now().AddDate(-2, 0, 0).Format(time.DateOnly)
			}
			ix, err := dnshijack.LoadIndicators(strings.NewReader(`{"schema_version":1,"updated":"2026-11-26","note":"","entries":[` +
				`{"address":"` + honest.Addr.Addr().String() + `","role":"resolver","description":"test","list":"test-list","confidence":"` + tt.confidence +
				`","source_url":"https://example.org/iocs","source":"","first_seen":"` + first + `","last_seen":"` + tt.lastSeen + `"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			in := l.input(resolverAt(honest, dnshijack.SourceDHCPv4, 0))
			in.Indicators = ix
			res, err := run(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdicts[0]
			if v.Verdict != tt.want || v.Confidence != tt.wantConf {
				t.Errorf("verdict %s/%s, want %s/%s; reasons %v", v.Verdict, v.Confidence, tt.want, tt.wantConf, v.Reasons)
			}
			if got := statuses(res.Findings)["dns.resolver_known_bad@"+v.Resolver.Key()]; got != tt.wantStatus {
				t.Errorf("known_bad finding %q, want %q", got, tt.wantStatus)
			}
		})
	}
}

// TestRunWithoutTrusted: with no trusted answer, an interception is still
// caught by its certificate; an honest resolver is unknown, never clean.
func TestRunWithoutTrusted(t *testing.T) {
	l := newTestLab(t)
	dead, err := dnsprobe.ParseDoH("https://" + l.closed.String() + ":1/dns-query")
	if err != nil {
		t.Fatal(err)
	}
	in := l.input(
		resolverAt(dnsprobetest.NewServer(t, l.hijacker(l.aitm)), dnshijack.SourceDHCPv4, 0),
		resolverAt(dnsprobetest.NewServer(t, l.truth()), dnshijack.SourceDHCPv4, 1),
	)
	in.Trusted = []dnsprobe.Server{dead}
	res, err := run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	got := []dnshijack.Verdict{res.Verdicts[0].Verdict, res.Verdicts[1].Verdict}
	if diff := cmp.Diff([]dnshijack.Verdict{dnshijack.VerdictHijacked, dnshijack.VerdictUnknown}, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if s := statuses(res.Findings)["dns.trusted_resolver@trusted"]; !strings.HasPrefix(s, "unknown/") {
		t.Errorf("trusted finding %q, want unknown", s)
	}
}

// TestRunProofScope: answered addresses outside the dialer's scope are
// proved only through ProofDialer, which is handed exactly those
// addresses.
func TestRunProofScope(t *testing.T) {
	l := newTestLab(t)
	in := l.input(resolverAt(dnsprobetest.NewServer(t, l.hijacker(l.aitm)), dnshijack.SourceUser, 0))
	var asked []netip.Addr
	base := in.Dialer
	in.ProofDialer = func(extra []netip.Addr) *netxDialer {
		asked = extra
		return base
	}
	res, err := run(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]netip.Addr{l.aitm}, asked, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("ProofDialer extra (-want +got):\n%s", diff)
	}
	if res.Verdicts[0].Verdict != dnshijack.VerdictHijacked {
		t.Errorf("verdict %s", res.Verdicts[0].Verdict)
	}
}
