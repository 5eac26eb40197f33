// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// staleAfter is how long after an indicator's last sighting a hit loses
// one level of confidence: rented VPS addresses are handed to new
// customers within months.
const staleAfter = 180 * 24 * time.Hour

// weakBanner is the dnsmasq version the campaign's resolvers reported. It
// is also the stock RHEL 9 package and in router SDKs: it raises
// confidence, it never decides (THREAT.md §1.2).
const weakBanner = "dnsmasq-2.85"

// NameOutcome is how one canary fared through one resolver.
type NameOutcome string

// Name outcomes.
const (
	OutcomeMatch    NameOutcome = "match"    // the trusted resolvers gave the same addresses
	OutcomeVerified NameOutcome = "verified" // other addresses, each proving the name with a valid certificate (CDN variance)
	// OutcomeUnsignedVariant: other addresses whose certificates are
	// valid, but without the DNSSEC signature the trusted answer for the
	// name carries. The zone's owner signs every answer it gives, CDN
	// edges included; an unsigned differing answer was made elsewhere
	// (or the resolver strips signatures, which decide weighs).
	OutcomeUnsignedVariant NameOutcome = "unsigned_variant"
	OutcomeIntercepted     NameOutcome = "intercepted"     // an answered address presented an invalid certificate for the name
	OutcomeHijackShaped    NameOutcome = "hijack_shaped"   // other addresses, unproved, with the marks of a forged answer
	OutcomeUnexplained     NameOutcome = "unexplained"     // other addresses that could not be proved either way
	OutcomeBlocked         NameOutcome = "blocked"         // no address (NXDOMAIN, 0.0.0.0) where the trusted side has one
	OutcomeFailed          NameOutcome = "resolver_failed" // no usable answer (timeout, SERVFAIL, REFUSED, malformed)
	OutcomeNotCompared     NameOutcome = "not_compared"    // no trusted answer and no proof
)

// Anomalies of an answer.
const (
	AnomalyAA           = "aa"            // authoritative answer for a name the resolver cannot own
	AnomalyTTL0         = "ttl_0"         // TTL 0 (dnsmasq address=)
	AnomalyAAAANoData   = "aaaa_nodata"   // no AAAA while the trusted side has some
	AnomalyRRSIGMissing = "rrsig_missing" // no signature while the trusted side has one
	AnomalyServfail     = "servfail"      // SERVFAIL for a name the trusted side resolves (validation failed?)
)

// hijackMarks are the anomalies a forged answer leaves.
var hijackMarks = []string{AnomalyAA, AnomalyTTL0, AnomalyAAAANoData, AnomalyRRSIGMissing}

// NameResult is the judgement on one canary through one resolver.
type NameResult struct {
	Name         string           `json:"name"`
	Outcome      NameOutcome      `json:"outcome"`
	Addrs        []netip.Addr     `json:"addrs,omitempty"`
	TrustedAddrs []netip.Addr     `json:"trusted_addrs,omitempty"`
	Anomalies    []string         `json:"anomalies,omitempty"`
	Proofs       []dnsprobe.Proof `json:"proofs,omitempty"`
	// Detail explains a failure ("timeout", "SERVFAIL").
	Detail string `json:"detail,omitempty"`
	// Delays are the questions of the name the resolver left without an
	// answer past dnsprobe.QueryTimeout.
	Delays []Delay `json:"delays,omitempty"`
	// Profiles says what each profile got, when they disagree (the
	// Outcome is the worst of them).
	Profiles []ProfileResult `json:"profiles,omitempty"`
	profile  Profile
	// worst are the addresses of the profile that gave the Outcome:
	// what a victim asking that way gets, for comparing resolvers.
	worst []netip.Addr
}

// victimAddrs are the addresses of the profile that decided the
// outcome (Addrs holds every profile's).
func (nr NameResult) victimAddrs() []netip.Addr {
	if nr.worst != nil {
		return nr.worst
	}
	return nr.Addrs
}

// Delay is one question a resolver answered late or not at all.
type Delay struct {
	// Question is the type, and the profile when not the validating
	// one: "A", "AAAA (stub)".
	Question string `json:"question"`
	// Answered: an answer came, After it was asked; else none came in
	// After.
	Answered bool          `json:"answered"`
	After    time.Duration `json:"after_ns"`
}

func (d Delay) String() string {
	if d.Answered {
		return fmt.Sprintf("%s answered after %s", d.Question, seconds(d.After))
	}
	if d.After == 0 {
		return d.Question + " not answered"
	}
	return fmt.Sprintf("%s not answered in %s", d.Question, seconds(d.After))
}

// seconds formats a duration for people: "2.5 s", "180 ms".
func seconds(d time.Duration) string {
	if d < time.Millisecond {
		return "under 1 ms"
	}
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", d.Seconds()), "0"), ".0") + " s"
}

// ProfileResult is what one profile of a canary got.
type ProfileResult struct {
	Profile Profile      `json:"profile"`
	Outcome NameOutcome  `json:"outcome"`
	Addrs   []netip.Addr `json:"addrs,omitempty"`
}

// Hit is a known-bad address seen in a run.
type Hit struct {
	Indicator  Indicator          `json:"-"`
	Addr       netip.Addr         `json:"addr"`
	Where      string             `json:"where"` // "resolver address" or "answer for NAME"
	Confidence finding.Confidence `json:"confidence"`
	Stale      bool               `json:"stale,omitempty"`
}

// CheckResult is a sub-judgement with a status (DNSSEC, NXDOMAIN).
type CheckResult struct {
	Status finding.Status `json:"status"`
	// Severity when failing.
	Severity finding.Severity `json:"severity"`
	Detail   string           `json:"detail"`
	Evidence []finding.Evidence
}

// ResolverVerdict is the judgement on one resolver.
type ResolverVerdict struct {
	Resolver   Resolver           `json:"resolver"`
	Class      Class              `json:"class"`
	ClassNote  string             `json:"class_note,omitempty"`
	Verdict    Verdict            `json:"verdict"`
	Confidence finding.Confidence `json:"confidence"`
	// Reasons are the verdict's grounds, in plain words.
	Reasons  []string     `json:"reasons"`
	Names    []NameResult `json:"names"`
	KnownBad []Hit        `json:"known_bad,omitempty"`
	Software string       `json:"software,omitempty"` // version.bind
	Upstream string       `json:"upstream,omitempty"` // servers.bind
	// Measured counts canaries with a usable answer.
	Measured int `json:"measured"`
	// Total is the number of canary names; Matched how many the
	// resolver answered like the trusted resolvers (or with addresses
	// that proved the name): the one count the reasons and the headline
	// both report.
	Total   int `json:"total"`
	Matched int `json:"matched"`
	// Prompt counts the questions (canaries in every profile, signed
	// names, the random name) answered usably within
	// dnsprobe.QueryTimeout, PromptMedian their median time: how fast
	// the resolver is for names it does not hold back.
	Prompt       int           `json:"prompt"`
	PromptMedian time.Duration `json:"prompt_median_ns,omitempty"`
	DNSSEC       CheckResult   `json:"dnssec"`
	// KeylessZones are signed zones (the trusted resolvers see their
	// DNSKEY) that this resolver answers without signatures and without
	// keys: it serves them from a copy that is not the owner's.
	KeylessZones []string    `json:"keyless_zones,omitempty"`
	NX           CheckResult `json:"nxdomain"`
	obs          *ResolverObs
}

// Judge turns observations into verdicts, findings and steps. It is pure:
// the same observations always give the same result. The error is
// reserved for observations without a resolver.
func Judge(in Input, obs *Observations) (*Result, error) {
	if obs == nil || len(obs.Resolvers) == 0 {
		return nil, errors.New("dnshijack: no resolver was observed")
	}
	canaries := obs.Canaries
	if canaries == nil {
		data, err := DefaultCanaries()
		if err != nil {
			return nil, err
		}
		canaries = data.Canaries
	}
	ix, pub := in.Indicators, in.PublicResolvers
	if ix == nil {
		ix, _ = DefaultIndicators()
	}
	if pub == nil {
		pub, _ = DefaultPublicResolvers()
	}
	res := &Result{Obs: obs, Canaries: canaries, Trusted: obs.Trusted}
	for i := range obs.Resolvers {
		v := judgeResolver(&in, obs, &obs.Resolvers[i], ix, pub)
		res.Verdicts = append(res.Verdicts, v)
	}
	res.Overall = overall(res.Verdicts)
	res.Findings = findings(&in, obs, res.Verdicts)
	res.Steps = steps(&in, res.Verdicts)
	res.Headline = headline(res)
	return res, nil
}

// overall is the worst verdict; unknown only when nothing was judged.
func overall(vs []ResolverVerdict) Verdict {
	rank := map[Verdict]int{VerdictClean: 1, VerdictUnknown: 2, VerdictSuspicious: 3, VerdictHijacked: 4}
	out := VerdictUnknown
	best := 0
	for _, v := range vs {
		if rank[v.Verdict] > best {
			out, best = v.Verdict, rank[v.Verdict]
		}
	}
	return out
}

// classify says what kind of address a resolver is.
func classify(a netip.Addr, gateways []netip.Addr, pub *PublicResolvers) (Class, string) {
	a = a.Unmap()
	bare := a.WithZone("")
	for _, g := range gateways {
		if g.Unmap().WithZone("") == bare {
			return ClassGateway, "the router (default gateway)"
		}
	}
	switch {
	case a.IsLoopback():
		return ClassThisHost, "a resolver on this machine"
	case a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(bare):
		return ClassPrivate, "a private address on the local network or the ISP's"
	}
	if r, ok := pub.Lookup(a); ok {
		return ClassPublicKnown, r.Operator + " public DNS (" + r.SourceURL + ")"
	}
	return ClassPublicUnknown, "a public address that is not a well-known public resolver (often the ISP's resolver; also what a rented attacker server looks like)"
}

// cgnat is RFC 6598 shared address space; ISPs put resolvers there.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// internalAddr reports an address of a private network (RFC 1918, ULA,
// link-local, shared CGNAT space): where a company's internal DNS points
// its own names (split-horizon), never one of the campaign's rented
// servers.
func internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a.WithZone(""))
}

// external is the opposite of internalAddr.
func external(a netip.Addr) bool { return !internalAddr(a) }

func judgeResolver(in *Input, obs *Observations, ro *ResolverObs, ix *Indicators, pub *PublicResolvers) ResolverVerdict {
	v := ResolverVerdict{Resolver: ro.Resolver, obs: ro}
	v.Class, v.ClassNote = classify(ro.Resolver.Addr.Addr(), in.Gateways, pub)
	v.Software = ro.Finger.Value("version.bind")
	v.Upstream = ro.Finger.Value("servers.bind")
	now := in.now()
	hit := func(a netip.Addr, where string) {
		ind, ok := ix.Lookup(a)
		if !ok || slices.ContainsFunc(v.KnownBad, func(h Hit) bool { return h.Addr == ind.Address && h.Where == where }) {
			return
		}
		h := Hit{Indicator: ind, Addr: ind.Address, Where: where, Confidence: ind.Confidence}
		if !ind.LastSeen.IsZero() && now.Sub(ind.LastSeen) > staleAfter {
			h.Stale = true
			if h.Confidence > finding.ConfidenceLow {
				h.Confidence--
			}
		}
		v.KnownBad = append(v.KnownBad, h)
	}
	hit(ro.Resolver.Addr.Addr(), "resolver address")
	for _, n := range obs.Names {
		nr := judgeName(obs, ro, n)
		if len(nr.Addrs) > 0 || nr.Outcome != OutcomeFailed {
			v.Measured++
		}
		for _, a := range nr.Addrs {
			hit(a, "answer for "+strings.TrimSuffix(n, "."))
		}
		v.Names = append(v.Names, nr)
	}
	v.Total = len(obs.Names)
	for _, nr := range v.Names {
		if nr.Outcome == OutcomeMatch || nr.Outcome == OutcomeVerified {
			v.Matched++
		}
	}
	v.Prompt, v.PromptMedian = promptAnswers(ro)
	v.DNSSEC, v.KeylessZones = judgeDNSSEC(obs, ro)
	v.NX = judgeNX(obs, ro)
	decide(&v, len(obs.Names))
	return v
}

// promptAnswers counts the resolver's usable answers (NOERROR or
// NXDOMAIN) that came within dnsprobe.QueryTimeout, and their median
// time.
func promptAnswers(ro *ResolverObs) (int, time.Duration) {
	var rtts []time.Duration
	for _, a := range append(slices.Collect(maps.Values(ro.Answers)), ro.NX) {
		if r := a.Resp; r != nil && (r.Rcode == "NOERROR" || r.Rcode == "NXDOMAIN") && r.RTT < dnsprobe.QueryTimeout {
			rtts = append(rtts, r.RTT)
		}
	}
	if len(rtts) == 0 {
		return 0, 0
	}
	slices.Sort(rtts)
	return len(rtts), rtts[len(rtts)/2]
}

// fastElsewhere is how quick a resolver's other answers must be (their
// median) for late canary answers to count as held back: a quarter of
// dnsprobe.QueryTimeout. A resolver that is slow for everything is
// broken or far away, not selective.
const fastElsewhere = dnsprobe.QueryTimeout / 4

// judgeName judges one canary through one resolver in every profile it
// was asked in (Observations.Profiles) and keeps the worst: a rogue may
// lie only to questions shaped like its victims'. The result carries the
// addresses, marks and proofs of every profile, and, when the profiles
// disagree, what each got.
func judgeName(obs *Observations, ro *ResolverObs, name string) NameResult {
	var per []NameResult
	for _, p := range obs.profiles() {
		if nr, ok := judgeAs(obs, ro, name, p); ok {
			per = append(per, nr)
		}
	}
	if len(per) == 0 {
		return NameResult{Name: strings.TrimSuffix(name, "."), Outcome: OutcomeFailed, Detail: "not asked"}
	}
	out := per[0]
	out.worst = per[0].Addrs
	for _, nr := range per[1:] {
		if outcomeRank(nr.Outcome) < outcomeRank(out.Outcome) {
			out.Outcome, out.Detail, out.worst = nr.Outcome, nr.Detail, nr.Addrs
		}
	}
	out.Addrs, out.Anomalies, out.Proofs, out.Delays = nil, nil, nil, nil
	differ := false
	for _, nr := range per {
		for _, a := range nr.Addrs {
			if !slices.Contains(out.Addrs, a) {
				out.Addrs = append(out.Addrs, a)
			}
		}
		for _, x := range nr.Anomalies {
			out.Anomalies = addOnce(out.Anomalies, x)
		}
		for _, pr := range nr.Proofs {
			if !slices.ContainsFunc(out.Proofs, func(q dnsprobe.Proof) bool { return q.Addr == pr.Addr }) {
				out.Proofs = append(out.Proofs, pr)
			}
		}
		out.Delays = append(out.Delays, nr.Delays...)
		differ = differ || nr.Outcome != per[0].Outcome || !sameAddrs(nr.Addrs, per[0].Addrs)
	}
	if differ {
		for _, nr := range per {
			out.Profiles = append(out.Profiles, ProfileResult{Profile: nr.profile, Outcome: nr.Outcome, Addrs: nr.Addrs})
		}
	}
	return out
}

// outcomeRank orders outcomes from the worst (0) to the best.
func outcomeRank(o NameOutcome) int {
	i := slices.Index([]NameOutcome{OutcomeIntercepted, OutcomeUnsignedVariant, OutcomeHijackShaped, OutcomeUnexplained,
		OutcomeBlocked, OutcomeFailed, OutcomeNotCompared, OutcomeVerified, OutcomeMatch}, o)
	if i < 0 {
		return 0
	}
	return i
}

// sameAddrs reports whether a and b hold the same addresses, in any order.
func sameAddrs(a, b []netip.Addr) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x netip.Addr) bool { return !slices.Contains(b, x) })
}

// judgeAs compares one canary's answers in profile p with the trusted
// side and the TLS proofs; false when the name was not asked in p.
func judgeAs(obs *Observations, ro *ResolverObs, name string, p Profile) (NameResult, bool) {
	nr := NameResult{Name: strings.TrimSuffix(name, "."), profile: p}
	kA, k6, kH := Key{Name: name, Type: dns.TypeA, Profile: p}, Key{Name: name, Type: dns.TypeAAAA, Profile: p}, Key{Name: name, Type: dns.TypeHTTPS, Profile: p}
	a, a6 := ro.Answers[kA], ro.Answers[k6]
	if a == (Answer{}) && a6 == (Answer{}) {
		return nr, false
	}
	tA, t6 := obs.TrustedAns[Key{Name: name, Type: dns.TypeA}], obs.TrustedAns[Key{Name: name, Type: dns.TypeAAAA}]
	tH := obs.TrustedAns[Key{Name: name, Type: dns.TypeHTTPS}]
	nr.TrustedAddrs = append(slices.Clone(tA.Addrs), t6.Addrs...)
	for _, x := range tH.Addrs {
		if !slices.Contains(nr.TrustedAddrs, x) {
			nr.TrustedAddrs = append(nr.TrustedAddrs, x)
		}
	}
	for _, q := range []struct {
		k Key
		a Answer
	}{{kA, a}, {k6, a6}} {
		if d, ok := delayOf(q.k, q.a); ok {
			nr.Delays = append(nr.Delays, d)
		}
	}
	if a.Resp == nil && a6.Resp == nil {
		nr.Outcome, nr.Detail = OutcomeFailed, a.Status
		return nr, true
	}
	main := a.Resp
	if main == nil {
		main = a6.Resp
	}
	markAnswers(&nr, a.Resp, a6.Resp, tA, t6, p == ProfileValidating)
	trustedHas := len(nr.TrustedAddrs) > 0
	compared := tA.Answered || t6.Answered
	switch main.Rcode {
	case "NOERROR":
	case "NXDOMAIN":
		switch {
		case trustedHas:
			nr.Outcome, nr.Detail = OutcomeBlocked, "NXDOMAIN"
		case compared:
			nr.Outcome = OutcomeMatch
		default:
			nr.Outcome = OutcomeNotCompared
		}
		return nr, true
	default:
		if trustedHas {
			nr.Anomalies = addOnce(nr.Anomalies, AnomalyServfail)
		}
		nr.Outcome, nr.Detail = OutcomeFailed, main.Rcode
		return nr, true
	}
	// The hints of an HTTPS answer are where a browser may connect for
	// the name: judged like addresses.
	if h := ro.Answers[kH].Resp; h != nil && h.Rcode == "NOERROR" {
		for _, x := range h.Addrs {
			if !slices.Contains(nr.Addrs, x) {
				nr.Addrs = append(nr.Addrs, x)
			}
		}
	}
	var differ []netip.Addr
	for _, x := range nr.Addrs {
		if !sinkhole(x) && (!compared || !slices.Contains(nr.TrustedAddrs, x)) {
			differ = append(differ, x)
		}
	}
	switch {
	case len(differ) > 0:
		nr.Outcome = proveName(obs, &nr, name, differ, compared)
	case sinkholed(a.Resp, tA) || sinkholed(a6.Resp, t6):
		nr.Outcome, nr.Detail = OutcomeBlocked, "sinkhole address"
	case len(nr.Addrs) == 0 && trustedHas:
		nr.Outcome, nr.Detail = OutcomeBlocked, "no address"
	case !compared:
		nr.Outcome = OutcomeNotCompared
	default:
		nr.Outcome = OutcomeMatch
	}
	return nr, true
}

// delayOf reports a question that the resolver left unanswered past
// dnsprobe.QueryTimeout: no answer at all (a timeout, its second chance
// included), or an answer later than that (to the first question: an
// answer to the second, asked again, that comes at once means the first
// was lost, not delayed).
func delayOf(k Key, a Answer) (Delay, bool) {
	q := dns.TypeToString[k.Type]
	if k.Profile != ProfileValidating {
		q += " (" + k.Profile.name() + ")"
	}
	switch {
	case a.Resp == nil && a.Status == "timeout":
		return Delay{Question: q, After: a.Waited}, true
	case a.Resp != nil && a.Resp.RTT >= dnsprobe.QueryTimeout:
		return Delay{Question: q, Answered: true, After: a.Resp.RTT}, true
	}
	return Delay{}, false
}

// markAnswers collects the addresses of both families and the marks a
// forged answer leaves; a missing signature only counts when the
// question asked for signatures (do).
func markAnswers(nr *NameResult, a, a6 *dnsprobe.Response, tA, t6 TrustedAnswer, do bool) {
	for _, r := range []*dnsprobe.Response{a, a6} {
		if r == nil {
			continue
		}
		nr.Addrs = append(nr.Addrs, r.Addrs...)
		if r.Authoritative {
			nr.Anomalies = addOnce(nr.Anomalies, AnomalyAA)
		}
		if len(r.Answers) > 0 && r.MinTTL == 0 {
			nr.Anomalies = addOnce(nr.Anomalies, AnomalyTTL0)
		}
	}
	if a6 != nil && a6.NoData() && len(t6.Addrs) > 0 {
		nr.Anomalies = addOnce(nr.Anomalies, AnomalyAAAANoData)
	}
	if do && tA.Signed && a != nil && len(a.Addrs) > 0 && !a.HasRRSIG {
		nr.Anomalies = addOnce(nr.Anomalies, AnomalyRRSIGMissing)
	}
}

// proveName judges addresses the trusted side does not confirm by their
// TLS proofs: one invalid certificate is an interception; all valid is
// CDN variance; otherwise the answer's marks decide between forged-looking
// and unexplained.
func proveName(obs *Observations, nr *NameResult, name string, differ []netip.Addr, compared bool) NameOutcome {
	valid, invalid := 0, 0
	for _, x := range differ {
		p, ok := obs.Proofs[ProofKey{x, name}]
		if !ok {
			continue
		}
		nr.Proofs = append(nr.Proofs, p)
		switch p.Outcome {
		case dnsprobe.ProofValid:
			valid++
		case dnsprobe.ProofInvalid:
			invalid++
		}
	}
	switch {
	case invalid > 0:
		return OutcomeIntercepted
	case valid == len(differ) && slices.Contains(nr.Anomalies, AnomalyRRSIGMissing) && slices.ContainsFunc(differ, external):
		// Unless every address is private: a company's internal server
		// proving the name is split-horizon DNS, not the campaign's
		// rented servers.
		return OutcomeUnsignedVariant
	case valid == len(differ):
		return OutcomeVerified
	case !compared:
		return OutcomeNotCompared
	case slices.ContainsFunc(nr.Anomalies, func(s string) bool { return slices.Contains(hijackMarks, s) }):
		return OutcomeHijackShaped
	}
	return OutcomeUnexplained
}

// sinkholed reports a family answered only with blocking addresses where
// the trusted side has real ones.
func sinkholed(r *dnsprobe.Response, t TrustedAnswer) bool {
	if r == nil || len(r.Addrs) == 0 || len(t.Addrs) == 0 {
		return false
	}
	return !slices.ContainsFunc(r.Addrs, func(x netip.Addr) bool { return !sinkhole(x) })
}

func addOnce(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// judgeDNSSEC checks whether signatures the trusted side sees survive the
// resolver, and, for the zones where they do not, whether the resolver
// still knows the zone's keys: a forwarder that strips signatures passes
// the DNSKEY records on (they are ordinary records), a resolver that
// answers from its own unsigned copy of the zone has none. It returns the
// zones served without keys.
func judgeDNSSEC(obs *Observations, ro *ResolverObs) (CheckResult, []string) {
	var present, stripped, validated, zones []string
	// differs: zones in which an unsigned answer gives an address the
	// trusted side does not, outside private networks (split-horizon).
	differs := map[string]bool{}
	for _, n := range append(slices.Clone(obs.Names), obs.DNSSECNames...) {
		k := Key{Name: n, Type: dns.TypeA}
		ta := obs.TrustedAns[k]
		if !ta.Signed {
			continue
		}
		r := ro.Answers[k].Resp
		if r == nil || len(r.Addrs) == 0 {
			continue
		}
		name := strings.TrimSuffix(n, ".")
		if r.HasRRSIG {
			present = append(present, name)
			if r.AuthenticatedData {
				validated = append(validated, name)
			}
		} else {
			stripped = append(stripped, name)
			lie := slices.ContainsFunc(r.Addrs, func(a netip.Addr) bool { return external(a) && !slices.Contains(ta.Addrs, a) })
			for _, z := range ta.Signers {
				if !slices.Contains(zones, z) {
					zones = append(zones, z)
				}
				differs[z] = differs[z] || lie
			}
		}
	}
	c := CheckResult{Severity: finding.SeverityMedium}
	c.Evidence = append(c.Evidence,
		finding.Evidence{Key: "signed_names_with_rrsig", Value: listOrNone(present)},
		finding.Evidence{Key: "signed_names_without_rrsig", Value: listOrNone(stripped)},
		finding.Evidence{Key: "validated_ad", Value: listOrNone(validated)})
	var keyless []string
	forged := false
	for _, z := range zones {
		k := Key{Name: z, Type: dns.TypeDNSKEY}
		zone := strings.TrimSuffix(z, ".")
		tk, a := obs.TrustedAns[k], ro.Answers[k]
		var what string
		switch {
		case a.Resp == nil && a.Err == "":
			continue // not asked (observations of an older run, or over the zone limit)
		case a.Resp == nil:
			what = "not checked: " + a.Status
		case hasType(a.Resp, dns.TypeDNSKEY):
			what = "present (signatures stripped, keys passed on)"
		case !tk.Data:
			what = "absent here, and the trusted resolvers did not return them either: not compared"
		case a.Resp.Rcode == "NOERROR" || a.Resp.Rcode == "NXDOMAIN":
			what = "MISSING: the trusted resolvers return the zone's keys, this resolver says there are none (" + a.Resp.Rcode + ")"
			keyless = append(keyless, zone)
			forged = forged || differs[z]
		default:
			what = "not checked: " + a.Resp.Rcode
		}
		c.Evidence = append(c.Evidence, finding.Evidence{Key: "zone_keys " + zone, Value: what})
	}
	switch {
	case len(keyless) > 0 && forged:
		c.Status, c.Severity = finding.StatusFail, finding.SeverityHigh
		c.Detail = fmt.Sprintf("This resolver answers names of %s without their signatures, with other addresses than the real zone, and says the zone has no keys (DNSKEY), while the trusted resolvers see it signed (unsigned here: %s). It does not forward that zone: it answers it from a copy that is not the owner's.",
			strings.Join(keyless, ", "), strings.Join(stripped, ", "))
	case len(keyless) > 0:
		c.Status = finding.StatusFail
		c.Detail = fmt.Sprintf("This resolver answers names of %s without their signatures and says the zone has no keys (DNSKEY), while the trusted resolvers see it signed (unsigned here: %s): it answers that zone from its own copy. A company network's internal DNS does this for its own domain (split-horizon); anywhere else it means someone replaced the zone.",
			strings.Join(keyless, ", "), strings.Join(stripped, ", "))
	case len(present)+len(stripped) == 0:
		c.Status = finding.StatusUnknown
		c.Detail = "No signed name could be compared: the trusted resolvers returned no signature, or this resolver gave no answer for the signed names."
	case len(stripped) == 0:
		c.Status = finding.StatusPass
		c.Detail = fmt.Sprintf("Signatures reach you through this resolver for every signed name tested (%d).", len(present))
	case len(present) == 0:
		c.Status, c.Severity = finding.StatusFail, finding.SeverityLow
		c.Detail = "This resolver drops DNSSEC signatures for every name, so nothing behind it can validate answers. Old or limited forwarders do this; it is a weakness, not proof of an attack."
	default:
		c.Status = finding.StatusFail
		c.Detail = fmt.Sprintf("This resolver passes signatures for some names but not for %s: answers it made up itself carry no signature.", strings.Join(stripped, ", "))
	}
	return c, keyless
}

// judgeNX checks whether a random name that cannot exist gets an address.
func judgeNX(obs *Observations, ro *ResolverObs) CheckResult {
	c := CheckResult{Severity: finding.SeverityLow}
	t := obs.TrustedAns[Key{Name: obs.NXName, Type: dns.TypeA}]
	c.Evidence = []finding.Evidence{{Key: "random_name", Value: strings.TrimSuffix(obs.NXName, ".")}}
	r := ro.NX.Resp
	switch {
	case r == nil:
		c.Status, c.Detail = finding.StatusUnknown, "The resolver gave no usable answer for the random name ("+ro.NX.Status+")."
	case len(t.Addrs) > 0:
		c.Status, c.Detail = finding.StatusUnknown, "The trusted resolvers answered the random name too (the parent zone has a wildcard); nothing to compare."
	case len(r.Addrs) > 0:
		c.Status = finding.StatusFail
		c.Evidence = append(c.Evidence, finding.Evidence{Key: "rewritten_to", Value: addrList(r.Addrs)})
		c.Detail = "A name that does not exist got an address. This is NXDOMAIN rewriting: usually the ISP's \"search help\" advertising, not an attacker, but it means the resolver changes answers."
	default:
		c.Status, c.Detail = finding.StatusPass, "A name that does not exist got no address ("+r.Rcode+")."
	}
	c.Evidence = append(c.Evidence, finding.Evidence{Key: "resolver_rcode", Value: rcodeOf(ro.NX)})
	return c
}

func rcodeOf(a Answer) string {
	if a.Resp == nil {
		return a.Status
	}
	return a.Resp.Rcode
}

// decide sets the verdict, its confidence and its reasons.
func decide(v *ResolverVerdict, total int) {
	by := map[NameOutcome][]string{}
	for _, nr := range v.Names {
		by[nr.Outcome] = append(by[nr.Outcome], nr.Name)
	}
	var strong, weakBad []Hit
	for _, h := range v.KnownBad {
		if h.Confidence == finding.ConfidenceHigh {
			strong = append(strong, h)
		} else {
			weakBad = append(weakBad, h)
		}
	}
	banner := strings.HasPrefix(strings.ToLower(v.Software), weakBanner)
	reason := func(format string, args ...any) { v.Reasons = append(v.Reasons, fmt.Sprintf(format, args...)) }
	// Supporting facts come after the reason that decided.
	var support []string
	for _, h := range v.KnownBad {
		support = append(support, fmt.Sprintf("%s %s is a published indicator of the campaign (%s, %s confidence)", h.Where, h.Addr, h.Indicator.List, h.Confidence))
	}
	if banner {
		support = append(support, fmt.Sprintf("it reports %q, the version the campaign's resolvers reported (also stock on RHEL 9: a weak sign on its own)", v.Software))
	}
	defer func() { v.Reasons = append(v.Reasons, support...) }()
	// Names held back: late or unanswered while the resolver answers
	// other names at once (a detector that gives up after a couple of
	// seconds would see nothing, the victim's stub waits longer).
	held, silent := heldBack(v)
	heldReason := ""
	if len(held) > 0 {
		heldReason = fmt.Sprintf("it answers other names at once (%d answers, median %s) but holds back %s", v.Prompt, seconds(v.PromptMedian), strings.Join(held, "; "))
	}
	if names := lyingProfiles(v); len(names) > 0 {
		support = append(support, "it answers "+strings.Join(names, "; ")+": it lies only to some clients, so a detector asking one way would miss it")
	}
	unsigned := by[OutcomeUnsignedVariant]
	// Signatures kept for some names and dropped for others (a zone
	// answered from a copy without differing addresses also fails at
	// medium: not this).
	selective := v.DNSSEC.Status == finding.StatusFail && v.DNSSEC.Severity == finding.SeverityMedium && len(v.KeylessZones) == 0
	unsignedReason := func(why string) {
		reason("it answers %s with other addresses than the trusted resolvers and without the DNSSEC signature the real answers carry (%s); the addresses' valid certificates do not outweigh the zone owner's signed answer",
			strings.Join(unsigned, ", "), why)
	}
	if heldReason != "" && (len(by[OutcomeIntercepted]) > 0 || len(strong) > 0 || len(by[OutcomeHijackShaped]) > 0 || len(unsigned) > 0) {
		support = append(support, heldReason)
	}
	switch {
	case len(by[OutcomeIntercepted]) > 0 || len(strong) > 0:
		v.Verdict, v.Confidence = VerdictHijacked, finding.ConfidenceHigh
		if n := by[OutcomeIntercepted]; len(n) > 0 {
			reason("it sends %s to servers whose certificates are not valid for those names: interception", strings.Join(n, ", "))
		}
	case len(unsigned) > 0 && len(v.KeylessZones) > 0:
		v.Verdict, v.Confidence = VerdictHijacked, finding.ConfidenceHigh
		unsignedReason("it also says " + strings.Join(v.KeylessZones, ", ") + " has no keys: it answers that zone from a forged, unsigned copy")
	case len(by[OutcomeHijackShaped]) > 0:
		v.Verdict, v.Confidence = VerdictHijacked, finding.ConfidenceMedium
		reason("it answers %s with other addresses than the trusted resolvers, marked like a forged answer (TTL 0, authoritative, no IPv6, no signature), and the certificate could not be checked", strings.Join(by[OutcomeHijackShaped], ", "))
		if banner || len(weakBad) > 0 {
			v.Confidence = finding.ConfidenceHigh
		}
	case len(unsigned) > 0 && selective:
		v.Verdict, v.Confidence = VerdictHijacked, finding.ConfidenceMedium
		unsignedReason("it passes signatures for other names, so it removed them here")
	default:
		signals := 0
		if len(unsigned) > 0 {
			// A forwarder that strips every signature, in front of a
			// signed zone that answers differently per resolver, looks
			// the same.
			signals++
			unsignedReason("it strips signatures everywhere, so this may be a limited forwarder in front of a zone that answers per location")
		}
		if n := by[OutcomeUnexplained]; len(n) > 0 {
			signals++
			reason("it answers %s with other addresses than the trusted resolvers, and those could not be proved genuine", strings.Join(n, ", "))
		}
		if len(weakBad) > 0 {
			signals++
		}
		if selective {
			signals++
			reason("signatures disappear for some names only")
		}
		if n := by[OutcomeBlocked]; len(n) > 0 {
			signals++
			reason("it gives no address for %s, which the trusted resolvers resolve", strings.Join(n, ", "))
		}
		if heldReason != "" {
			// Holding back only the names that matter is what a
			// resolver does that wants detectors to give up; never
			// answering them at all weighs more.
			signals++
			if silent {
				signals++
			}
			reason("%s", heldReason)
		}
		if n := unanswered(v); len(n) > 0 && fastFor(v) {
			signals++
			reason("it gives no usable answer for %s, while it answers other names at once", strings.Join(n, ", "))
		}
		if signals > 0 {
			v.Verdict, v.Confidence = VerdictSuspicious, finding.ConfidenceLow
			if signals > 1 || banner {
				v.Confidence = finding.ConfidenceMedium
			}
			return
		}
		decideClean(v, total, by)
	}
}

// heldBack lists the canaries (with their delays) a resolver that is
// fast for other names left unanswered past dnsprobe.QueryTimeout, and
// whether one of them never got an answer at all.
func heldBack(v *ResolverVerdict) ([]string, bool) {
	if !fastFor(v) {
		return nil, false
	}
	var out []string
	silent := false
	for _, nr := range v.Names {
		if len(nr.Delays) == 0 {
			continue
		}
		var ds []string
		for _, d := range nr.Delays {
			ds = append(ds, d.String())
			silent = silent || !d.Answered
		}
		out = append(out, nr.Name+" ("+strings.Join(ds, ", ")+")")
	}
	return out, silent
}

// fastFor reports a resolver whose usable answers come quickly
// (fastElsewhere).
func fastFor(v *ResolverVerdict) bool {
	return v.Prompt > 0 && v.PromptMedian < fastElsewhere
}

// unanswered lists the canaries without a usable answer for another
// reason than a delay (SERVFAIL, REFUSED, malformed replies), with it.
func unanswered(v *ResolverVerdict) []string {
	var out []string
	for _, nr := range v.Names {
		if nr.Outcome == OutcomeFailed && len(nr.Delays) == 0 {
			out = append(out, nr.Name+" ("+firstNonEmpty(nr.Detail, "no answer")+")")
		}
	}
	return out
}

// lyingProfiles describes the canaries whose answer depends on how the
// question is shaped, when one shape gets a lie and another the truth;
// names with the same pattern are named together.
func lyingProfiles(v *ResolverVerdict) []string {
	var order []string
	names := map[string][]string{}
	for _, nr := range v.Names {
		var bad, good []string
		for _, p := range nr.Profiles {
			switch p.Outcome {
			case OutcomeIntercepted, OutcomeUnsignedVariant, OutcomeHijackShaped, OutcomeUnexplained, OutcomeBlocked:
				bad = append(bad, p.Profile.Describe())
			case OutcomeMatch, OutcomeVerified:
				good = append(good, p.Profile.Describe())
			}
		}
		if len(bad) == 0 || len(good) == 0 {
			continue
		}
		pattern := fmt.Sprintf("falsely to %s questions and truly to %s ones", strings.Join(bad, " and "), strings.Join(good, " and "))
		if _, ok := names[pattern]; !ok {
			order = append(order, pattern)
		}
		names[pattern] = append(names[pattern], nr.Name)
	}
	out := make([]string, len(order))
	for i, p := range order {
		out[i] = strings.Join(names[p], ", ") + " " + p
	}
	return out
}

// decideClean judges a resolver without any sign of lying: clean if
// every canary got an answer and enough were compared, else unknown. A
// canary without an answer is never counted as honest.
func decideClean(v *ResolverVerdict, total int, by map[NameOutcome][]string) {
	compared := v.Matched
	var missing []string
	for _, nr := range v.Names {
		if nr.Outcome == OutcomeFailed {
			why := nr.Detail
			if len(nr.Delays) > 0 {
				why = nr.Delays[0].String()
			}
			missing = append(missing, nr.Name+" ("+firstNonEmpty(why, "no answer")+")")
		}
	}
	switch {
	case v.Measured == 0:
		v.Verdict = VerdictUnknown
		detail := "no answer"
		if len(v.Names) > 0 && v.Names[0].Detail != "" {
			detail = v.Names[0].Detail
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("it gave no usable answer for any canary name (%s)", detail))
	case len(missing) > 0:
		v.Verdict = VerdictUnknown
		v.Reasons = append(v.Reasons, fmt.Sprintf("it gave no usable answer for %d of %d canary names (%s), and it is slow or failing for other names too, so that says nothing either way; it answered %d like the trusted resolvers",
			len(missing), total, strings.Join(missing, ", "), compared))
	case compared*2 < total:
		v.Verdict = VerdictUnknown
		v.Reasons = append(v.Reasons, fmt.Sprintf("only %d of %d canary names could be compared with a trusted answer", compared, total))
	default:
		v.Verdict, v.Confidence = VerdictClean, finding.ConfidenceHigh
		if compared < total {
			v.Confidence = finding.ConfidenceMedium
		}
		msg := fmt.Sprintf("it answered %d of %d canary names like the trusted resolvers", compared, total)
		if n := len(by[OutcomeVerified]); n > 0 {
			msg += fmt.Sprintf(" (%d with other addresses that proved the name with a valid certificate: CDN variance)", n)
		}
		v.Reasons = append(v.Reasons, msg)
	}
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

func addrList(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}
