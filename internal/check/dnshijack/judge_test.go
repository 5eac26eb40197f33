// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

func TestClassify(t *testing.T) {
	pub, err := DefaultPublicResolvers()
	if err != nil {
		t.Fatal(err)
	}
	gws := []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("fe80::1%eth0")}
	tests := []struct {
		addr string
		want Class
	}{
		{"192.168.1.1", ClassGateway},
		{"fe80::1%wlan0", ClassGateway},
		{"127.0.0.53", ClassThisHost},
		{"10.0.0.53", ClassPrivate},
		{"100.100.100.100", ClassPrivate},
		{"1.1.1.1", ClassPublicKnown},
		{"2001:4860:4860::8888", ClassPublicKnown},
		{"203.0.113.66", ClassPublicUnknown},
		{"185.237.166.55", ClassPublicUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got, _ := classify(netip.MustParseAddr(tt.addr), gws, pub); got != tt.want {
				t.Errorf("classify(%s) = %s, want %s", tt.addr, got, tt.want)
			}
		})
	}
}

// obsBuilder builds observations by hand, for pure judge tests with
// documentation addresses.
type obsBuilder struct{ obs *Observations }

func newObs(names ...string) *obsBuilder {
	o := &Observations{NXName: "rw-nx-0.example.com.",
		Canaries: []Canary{{Name: "outlook.office365.com", Kind: KindCampaignTarget}, {Name: "login.microsoftonline.com", Kind: KindControl}}, TrustedAns: map[Key]TrustedAnswer{}, Proofs: map[ProofKey]dnsprobe.Proof{},
		Trusted: []TrustedStatus{{Server: "https://192.0.2.53/dns-query", Answered: 10}}, Started: fixedNow(), Finished: fixedNow()}
	for _, n := range names {
		o.Names = append(o.Names, dns.Fqdn(n))
	}
	o.TrustedAns[Key{Name: o.NXName, Type: dns.TypeA}] = TrustedAnswer{Answered: true, NXDomain: true, Rcodes: []string{"NXDOMAIN"}}
	return &obsBuilder{o}
}

func (b *obsBuilder) trusted(name string, addrs ...string) *obsBuilder {
	ta := TrustedAnswer{Answered: true, Rcodes: []string{"NOERROR"}}
	for _, a := range addrs {
		ta.Addrs = append(ta.Addrs, netip.MustParseAddr(a))
	}
	b.obs.TrustedAns[Key{Name: dns.Fqdn(name), Type: dns.TypeA}] = ta
	b.obs.TrustedAns[Key{Name: dns.Fqdn(name), Type: dns.TypeAAAA}] = TrustedAnswer{Answered: true, Rcodes: []string{"NOERROR"}}
	return b
}

// resolver adds a resolver answering names[i] with answers[i].
func (b *obsBuilder) resolver(addr string, src Source, answers map[string]string) *obsBuilder {
	ro := ResolverObs{
		Resolver: Resolver{Addr: netip.AddrPortFrom(netip.MustParseAddr(addr), 53), Sources: []Source{src}},
		Answers:  map[Key]Answer{},
		NX:       Answer{Resp: &dnsprobe.Response{Rcode: "NXDOMAIN"}},
		Finger:   dnsprobe.Fingerprint{Entries: []dnsprobe.ChaosEntry{{Name: "version.bind", Value: "dnsmasq-2.90", Rcode: "NOERROR"}}},
	}
	for _, n := range b.obs.Names {
		r := &dnsprobe.Response{Rcode: "NOERROR", MinTTL: 300, Answers: []dnsprobe.Record{{}}}
		if a, ok := answers[n[:len(n)-1]]; ok {
			r.Addrs = []netip.Addr{netip.MustParseAddr(a)}
		} else {
			r.Addrs = b.obs.TrustedAns[Key{Name: n, Type: dns.TypeA}].Addrs
		}
		ro.Answers[Key{Name: n, Type: dns.TypeA}] = Answer{Resp: r}
		ro.Answers[Key{Name: n, Type: dns.TypeAAAA}] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR"}}
	}
	b.obs.Resolvers = append(b.obs.Resolvers, ro)
	return b
}

// also adds src to the sources of the last resolver added.
func (b *obsBuilder) also(src Source) *obsBuilder {
	r := &b.obs.Resolvers[len(b.obs.Resolvers)-1].Resolver
	r.Sources = append(r.Sources, src)
	return b
}

func (b *obsBuilder) proof(addr, name string, o dnsprobe.ProofOutcome) *obsBuilder {
	a := netip.MustParseAddr(addr)
	b.obs.Proofs[ProofKey{a, dns.Fqdn(name)}] = dnsprobe.Proof{Name: name, Addr: netip.AddrPortFrom(a, 443), Outcome: o}
	return b
}

func judgeInput() Input {
	return Input{
		Gateways: []netip.Addr{netip.MustParseAddr("192.168.1.1")},
		Now:      fixedNow,
	}
}

func TestJudgePrimarySecondary(t *testing.T) {
	dhcp := func(i int) Source { return Source{Kind: SourceDHCPv4, Index: i, Detail: "eth0"} }
	base := func() *obsBuilder {
		return newObs("outlook.office365.com", "login.microsoftonline.com").
			trusted("outlook.office365.com", "198.51.100.10").trusted("login.microsoftonline.com", "198.51.100.20")
	}
	tests := []struct {
		name         string
		obs          *Observations
		wantVerdicts []Verdict
		want         map[string]string
		wantEvidence map[string]string // finding ID → "key=value" it must carry
	}{
		{
			name: "apt28_pattern",
			obs: base().
				resolver("203.0.113.66", dhcp(0), map[string]string{"outlook.office365.com": "203.0.113.99"}).
				resolver("198.51.100.53", dhcp(1), nil).
				proof("203.0.113.99", "outlook.office365.com", dnsprobe.ProofInvalid).obs,
			wantVerdicts: []Verdict{VerdictHijacked, VerdictClean},
			want: map[string]string{
				"dns.primary_secondary_disagree@dhcpv4 eth0": "fail/medium/medium",
				"dns.dhcp_resolver_unknown@203.0.113.66":     "fail/medium/medium",
				"dns.dhcp_resolver_unknown@198.51.100.53":    "unknown/low/low",
				"dns.resolver_hijacked@203.0.113.66":         "fail/critical/high",
				"dns.resolver_hijacked@198.51.100.53":        "pass/critical/high",
			},
		},
		{
			name: "cdn_variance_between_primary_and_secondary",
			obs: base().
				resolver("192.168.1.1", dhcp(0), map[string]string{"outlook.office365.com": "198.51.100.11"}).
				resolver("198.51.100.53", dhcp(1), nil).
				proof("198.51.100.11", "outlook.office365.com", dnsprobe.ProofValid).obs,
			wantVerdicts: []Verdict{VerdictClean, VerdictClean},
			want: map[string]string{
				"dns.primary_secondary_disagree@dhcpv4 eth0": "pass/medium/high",
				"dns.dhcp_resolver_unknown@192.168.1.1":      "pass/medium/high",
			},
		},
		{
			// resolv.conf written from the lease: one comparison, named
			// once, with the other list as evidence.
			name: "os_list_same_as_dhcp",
			obs: base().
				resolver("203.0.113.66", dhcp(0), map[string]string{"outlook.office365.com": "203.0.113.99"}).also(Source{Kind: SourceOS, Index: 0}).
				resolver("198.51.100.53", dhcp(1), nil).also(Source{Kind: SourceOS, Index: 1}).
				proof("203.0.113.99", "outlook.office365.com", dnsprobe.ProofInvalid).obs,
			wantVerdicts: []Verdict{VerdictHijacked, VerdictClean},
			want: map[string]string{
				"dns.primary_secondary_disagree@dhcpv4 eth0": "fail/medium/medium",
				"dns.primary_secondary_disagree@os":          "",
				"dns.resolver_hijacked@203.0.113.66":         "fail/critical/high",
			},
			wantEvidence: map[string]string{"dns.primary_secondary_disagree@dhcpv4 eth0": "same list=os"},
		},
		{
			// Different orders are different lists: compared apart.
			name: "os_list_reordered",
			obs: base().
				resolver("203.0.113.66", dhcp(0), map[string]string{"outlook.office365.com": "203.0.113.99"}).also(Source{Kind: SourceOS, Index: 1}).
				resolver("198.51.100.53", dhcp(1), nil).also(Source{Kind: SourceOS, Index: 0}).
				proof("203.0.113.99", "outlook.office365.com", dnsprobe.ProofInvalid).obs,
			wantVerdicts: []Verdict{VerdictHijacked, VerdictClean},
			want: map[string]string{
				"dns.primary_secondary_disagree@dhcpv4 eth0": "fail/medium/medium",
				"dns.primary_secondary_disagree@os":          "fail/medium/medium",
			},
		},
		{
			name:         "one_resolver_nothing_to_compare",
			obs:          base().resolver("192.168.1.1", dhcp(0), nil).obs,
			wantVerdicts: []Verdict{VerdictClean},
			want:         map[string]string{"dns.primary_secondary_disagree@all": "unknown/info/high"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Judge(judgeInput(), tt.obs)
			if err != nil {
				t.Fatal(err)
			}
			var got []Verdict
			for _, v := range res.Verdicts {
				got = append(got, v.Verdict)
			}
			if diff := cmp.Diff(tt.wantVerdicts, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			st := statuses(res.Findings)
			for id, w := range tt.want {
				if st[id] != w {
					t.Errorf("%s = %q, want %q", id, st[id], w)
				}
			}
			for id, w := range tt.wantEvidence {
				found := false
				for _, f := range res.Findings {
					for _, e := range f.Evidence {
						found = found || f.ID == id && e.Key+"="+e.Value == w
					}
				}
				if !found {
					t.Errorf("%s lacks evidence %q", id, w)
				}
			}
		})
	}
}

func TestJudgeStepsAndHeadline(t *testing.T) {
	ix, err := DefaultIndicators()
	if err != nil {
		t.Fatal(err)
	}
	obs := newObs("outlook.office365.com", "login.microsoftonline.com").
		trusted("outlook.office365.com", "198.51.100.10").trusted("login.microsoftonline.com", "198.51.100.20").
		resolver("203.0.113.66", Source{Kind: SourceDHCPv4, Detail: "eth0"}, map[string]string{"outlook.office365.com": "79.141.160.78"}).
		proof("79.141.160.78", "outlook.office365.com", dnsprobe.ProofInvalid).obs
	in := judgeInput()
	in.Indicators = ix
	res, err := Judge(in, obs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "DNS HIJACKED: resolver 203.0.113.66 (primary DHCPv4 DNS (eth0)) sends outlook.office365.com to 79.141.160.78."; res.Headline != want {
		t.Errorf("headline %q\nwant     %q", res.Headline, want)
	}
	var titles []string
	for _, s := range res.Steps {
		titles = append(titles, s.Title)
	}
	want := []string{
		"Do not sign in to anything from this network until the steps below are done",
		"Reset the DNS servers in your router",
		"Change the router's admin password and turn off remote management",
		"Update the router's firmware, or replace the router",
		"Treat passwords typed on this network since 2025-07-19 (first sighting of the attacker's address) as exposed",
		"Check again",
	}
	if diff := cmp.Diff(want, titles); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// Lumen last saw it 2026-03-31, over 180 days before the fixed
	// clock: one level less confident.
	if got := statuses(res.Findings)["dns.resolver_known_bad@203.0.113.66"]; got != "fail/high/medium" {
		t.Errorf("known_bad = %q", got)
	}
	if res.Steps[1].Detail == "" || !strings.Contains(res.Steps[1].Detail, "http://192.168.1.1/") {
		t.Errorf("reset step does not say where: %q", res.Steps[1].Detail)
	}
	for _, f := range res.Findings {
		if f.Status == finding.StatusFail && f.CheckID == "dns.resolver_hijacked" && len(f.References) == 0 {
			t.Error("hijack finding without references")
		}
	}
}

// TestJudgeSignedZoneCopy: a resolver answers a name of a signed zone
// (trusted: signed by corp.example, whose DNSKEY the trusted side sees)
// with another address whose certificate is valid, without the signature,
// and denies the zone's keys. On a public address that is the lab's
// dnssec-strip forgery; on a private one it is a company's internal DNS
// (split-horizon), which must not raise an alarm about the canary.
func TestJudgeSignedZoneCopy(t *testing.T) {
	const name = "sso.corp.example"
	build := func(answer string) *Observations {
		b := newObs("outlook.office365.com", name).
			trusted("outlook.office365.com", "198.51.100.10").trusted(name, "198.51.100.30").
			resolver("203.0.113.66", Source{Kind: SourceDHCPv4, Detail: "eth0"}, map[string]string{name: answer}).
			proof(answer, name, dnsprobe.ProofValid)
		o := b.obs
		k := Key{Name: dns.Fqdn(name), Type: dns.TypeA}
		ta := o.TrustedAns[k]
		ta.Signed, ta.Signers = true, []string{"corp.example."}
		o.TrustedAns[k] = ta
		zk := Key{Name: "corp.example.", Type: dns.TypeDNSKEY}
		o.TrustedAns[zk] = TrustedAnswer{Answered: true, Data: true, Signed: true, Rcodes: []string{"NOERROR"}}
		o.Resolvers[0].Answers[zk] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR"}} // NODATA: no keys
		return o
	}
	tests := []struct {
		answer      string
		want        Verdict
		wantConf    finding.Confidence
		wantOutcome NameOutcome
		wantDNSSEC  string
	}{
		{answer: "203.0.113.16", want: VerdictHijacked, wantConf: finding.ConfidenceHigh, wantOutcome: OutcomeUnsignedVariant, wantDNSSEC: "fail/high/high"},
		{answer: "10.20.0.5", want: VerdictClean, wantConf: finding.ConfidenceHigh, wantOutcome: OutcomeVerified, wantDNSSEC: "fail/medium/high"},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			obs := build(tt.answer)
			obs.Canaries = append(obs.Canaries, Canary{Name: name, Kind: KindUser})
			res, err := Judge(judgeInput(), obs)
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
			if diff := cmp.Diff([]string{"corp.example"}, v.KeylessZones); diff != "" {
				t.Errorf("keyless zones (-want +got):\n%s", diff)
			}
			if got := statuses(res.Findings)["dns.dnssec_stripped@203.0.113.66"]; got != tt.wantDNSSEC {
				t.Errorf("dns.dnssec_stripped = %q, want %q", got, tt.wantDNSSEC)
			}
		})
	}
}
