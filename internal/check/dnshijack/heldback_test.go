// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// outlook are the five slow names; the rest of the canaries of
// heldBackObs are answered at once.
var outlook = []string{"outlook.office365.com", "outlook.live.com", "outlook.office.com", "autodiscover-s.outlook.com", "imap-mail.outlook.com"}

// heldBackObs is one resolver and 12 canaries, all answered like the
// trusted side in 5 ms, the random name too; slow rewrites the answers
// to the Outlook names (every question of each).
func heldBackObs(slow func(a Answer) Answer) *Observations {
	names := append(append([]string{}, outlook...),
		"login.microsoftonline.com", "login.live.com", "accounts.google.com", "login.salesforce.com", "github.com", "signin.aws.amazon.com", "login.example.org")
	b := newObs(names...)
	for i, n := range names {
		b.trusted(n, netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}).String())
	}
	b.resolver("203.0.113.5", Source{Kind: SourceDHCPv4, Detail: "eth0"}, nil)
	ro := &b.obs.Resolvers[0]
	ro.NX.Resp.RTT = 5 * time.Millisecond
	for k, a := range ro.Answers {
		a.Resp.RTT = 5 * time.Millisecond
		for _, n := range outlook {
			if k.Name == dns.Fqdn(n) && slow != nil {
				a = slow(a)
			}
		}
		ro.Answers[k] = a
	}
	return b.obs
}

// TestJudgeHeldBack: a resolver that answers other names at once but
// the login names late or never is never clean (issue 8 §2: it was
// judged clean, medium, and the headline claimed all 12 names).
func TestJudgeHeldBack(t *testing.T) {
	late := func(a Answer) Answer {
		r := *a.Resp
		r.RTT = 2500 * time.Millisecond
		return Answer{Resp: &r}
	}
	silent := func(Answer) Answer {
		return Answer{Err: "dnsprobe: timeout", Status: "timeout", Waited: 5 * time.Second}
	}
	lostOnce := func(a Answer) Answer {
		// Asked again and answered at once: a lost question.
		r := *a.Resp
		r.RTT, r.Reasked = 8*time.Millisecond, true
		return Answer{Resp: &r}
	}
	servfail := func(Answer) Answer {
		return Answer{Resp: &dnsprobe.Response{Rcode: "SERVFAIL", RTT: 5 * time.Millisecond}}
	}
	slowEverywhere := func(o *Observations) {
		ro := &o.Resolvers[0]
		ro.NX = Answer{Err: "timeout", Status: "timeout", Waited: 2 * time.Second}
		for k, a := range ro.Answers {
			if a.Resp != nil {
				r := *a.Resp
				r.RTT = 1500 * time.Millisecond
				ro.Answers[k] = Answer{Resp: &r}
			}
		}
	}
	tests := []struct {
		name      string
		slow      func(Answer) Answer
		tweak     func(o *Observations)
		want      Verdict
		wantConf  finding.Confidence
		wantWords []string // in the reasons
		headline  string   // a substring
	}{
		{name: "late_login_names", slow: late, want: VerdictSuspicious, wantConf: finding.ConfidenceLow,
			wantWords: []string{"holds back outlook.office365.com (A answered after 2.5 s, AAAA answered after 2.5 s)", "median 5 ms"}, headline: "SUSPICIOUS: resolver 203.0.113.5 (primary DHCPv4 DNS (eth0)) holds some login names back"},
		{name: "silent_login_names", slow: silent, want: VerdictSuspicious, wantConf: finding.ConfidenceMedium,
			wantWords: []string{"A not answered in 5 s"}},
		{name: "login_names_fail_only", slow: servfail, want: VerdictSuspicious, wantConf: finding.ConfidenceLow,
			wantWords: []string{"no usable answer for outlook.office365.com (SERVFAIL)"}},
		{name: "lost_and_asked_again_is_not_a_delay", slow: lostOnce, want: VerdictClean, wantConf: finding.ConfidenceHigh,
			wantWords: []string{"answered 12 of 12"}, headline: "1 resolver(s) answered all 12 login names"},
		{name: "slow_for_everything_is_unknown_not_clean", slow: silent, tweak: slowEverywhere, want: VerdictUnknown,
			wantWords: []string{"no usable answer for 5 of 12 canary names", "slow or failing for other names too"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := heldBackObs(tt.slow)
			if tt.tweak != nil {
				tt.tweak(obs)
			}
			res, err := Judge(judgeInput(), obs)
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdicts[0]
			if v.Verdict != tt.want || (tt.want != VerdictUnknown && v.Confidence != tt.wantConf) {
				t.Errorf("verdict %s/%s, want %s/%s; reasons %q", v.Verdict, v.Confidence, tt.want, tt.wantConf, v.Reasons)
			}
			reasons := strings.Join(v.Reasons, "; ")
			for _, w := range tt.wantWords {
				if !strings.Contains(reasons, w) {
					t.Errorf("reasons %q lack %q", reasons, w)
				}
			}
			if !strings.Contains(res.Headline, tt.headline) {
				t.Errorf("headline %q lacks %q", res.Headline, tt.headline)
			}
		})
	}
}

// TestJudgeHeadlineCounts: the headline and the resolver's reason give
// the same count (one source: ResolverVerdict.Matched), also when some
// names could not be compared.
func TestJudgeHeadlineCounts(t *testing.T) {
	obs := heldBackObs(nil)
	for _, n := range outlook {
		delete(obs.TrustedAns, Key{Name: dns.Fqdn(n), Type: dns.TypeA})
		delete(obs.TrustedAns, Key{Name: dns.Fqdn(n), Type: dns.TypeAAAA})
	}
	res, err := Judge(judgeInput(), obs)
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdicts[0]
	if v.Verdict != VerdictClean || v.Matched != 7 || v.Total != 12 {
		t.Fatalf("verdict %s matched %d of %d; reasons %q", v.Verdict, v.Matched, v.Total, v.Reasons)
	}
	if !strings.Contains(v.Reasons[0], "7 of 12") || !strings.Contains(res.Headline, "203.0.113.5 answered 7 of 12 login names") {
		t.Errorf("reason %q and headline %q must both say 7 of 12", v.Reasons[0], res.Headline)
	}
}

// TestJudgeProfiles: a canary is judged by its worst profile. A rogue
// that lies only to stub-shaped questions is caught and named as such;
// the missing signature of a question asked without DO is no mark.
func TestJudgeProfiles(t *testing.T) {
	const name = "outlook.office365.com"
	build := func(lieIn Profile) *Observations {
		b := newObs(name).trusted(name, "198.51.100.10")
		b.resolver("203.0.113.66", Source{Kind: SourceDHCPv4, Detail: "eth0"}, nil)
		b.obs.Profiles = CanaryProfiles()
		ro := &b.obs.Resolvers[0]
		k := Key{Name: dns.Fqdn(name), Type: dns.TypeA}
		ta := b.obs.TrustedAns[k]
		ta.Signed, ta.Signers = true, []string{"office365.com."}
		b.obs.TrustedAns[k] = ta
		for _, p := range CanaryProfiles() {
			addr := "198.51.100.10"
			if p == lieIn {
				addr = "203.0.113.99"
			}
			// Signed when asked with DO, as a forwarder passes it on.
			ro.Answers[Key{Name: dns.Fqdn(name), Type: dns.TypeA, Profile: p}] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR", MinTTL: 300,
				Answers: []dnsprobe.Record{{}}, Addrs: []netip.Addr{netip.MustParseAddr(addr)}, HasRRSIG: p == ProfileValidating && addr != "203.0.113.99"}}
			ro.Answers[Key{Name: dns.Fqdn(name), Type: dns.TypeAAAA, Profile: p}] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR"}}
		}
		return b.proof("203.0.113.99", name, dnsprobe.ProofInvalid).obs
	}
	tests := []struct {
		name      string
		lieIn     Profile
		want      NameOutcome
		wantWords string
	}{
		{name: "honest_everywhere", lieIn: "none", want: OutcomeMatch},
		{name: "lies_to_stubs_only", lieIn: ProfileStub, want: OutcomeIntercepted,
			wantWords: "outlook.office365.com falsely to stub-shaped (no EDNS, as glibc, Android, Chrome and macOS ask) questions and truly to EDNS without the DNSSEC bit and validating (EDNS with the DNSSEC bit) ones"},
		{name: "lies_without_do", lieIn: ProfileEDNS, want: OutcomeIntercepted, wantWords: "falsely to EDNS without the DNSSEC bit questions"},
		{name: "lies_to_validating_only", lieIn: ProfileValidating, want: OutcomeIntercepted, wantWords: "falsely to validating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Judge(judgeInput(), build(tt.lieIn))
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdicts[0]
			nr := v.Names[0]
			if nr.Outcome != tt.want {
				t.Errorf("outcome %s, want %s (profiles %+v)", nr.Outcome, tt.want, nr.Profiles)
			}
			if tt.want == OutcomeMatch && (len(nr.Anomalies) > 0 || len(nr.Profiles) > 0 || v.Verdict != VerdictClean) {
				t.Errorf("honest name: anomalies %v profiles %v verdict %s: a stub answer has no signature to miss", nr.Anomalies, nr.Profiles, v.Verdict)
			}
			if tt.wantWords != "" && !strings.Contains(strings.Join(v.Reasons, "; "), tt.wantWords) {
				t.Errorf("reasons %q lack %q", v.Reasons, tt.wantWords)
			}
		})
	}
}

// TestJudgeListsDisagreeOnVictimShape: a primary that lies only to
// stub-shaped questions still disagrees with an honest secondary, though
// its answers to other shapes match the secondary's.
func TestJudgeListsDisagreeOnVictimShape(t *testing.T) {
	const name = "outlook.office365.com"
	dhcp := func(i int) Source { return Source{Kind: SourceDHCPv4, Index: i, Detail: "eth0"} }
	b := newObs(name).trusted(name, "198.51.100.10").
		resolver("203.0.113.66", dhcp(0), nil).
		resolver("198.51.100.53", dhcp(1), nil).
		proof("203.0.113.99", name, dnsprobe.ProofInvalid)
	b.obs.Profiles = CanaryProfiles()
	for i := range b.obs.Resolvers {
		ro := &b.obs.Resolvers[i]
		for _, p := range CanaryProfiles() {
			addr := "198.51.100.10"
			if i == 0 && p == ProfileStub {
				addr = "203.0.113.99"
			}
			ro.Answers[Key{Name: dns.Fqdn(name), Type: dns.TypeA, Profile: p}] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR", MinTTL: 300,
				Answers: []dnsprobe.Record{{}}, Addrs: []netip.Addr{netip.MustParseAddr(addr)}}}
			ro.Answers[Key{Name: dns.Fqdn(name), Type: dns.TypeAAAA, Profile: p}] = Answer{Resp: &dnsprobe.Response{Rcode: "NOERROR"}}
		}
	}
	res, err := Judge(judgeInput(), b.obs)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res.Findings)["dns.primary_secondary_disagree@dhcpv4 eth0"]; got != "fail/medium/medium" {
		t.Errorf("primary_secondary_disagree = %q, want fail/medium/medium", got)
	}
}
