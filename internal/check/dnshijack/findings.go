// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// The checks, one literal list (STYLE.md R8). Titles say what was found
// for each status; dns.resolver_hijacked's failing title says how sure
// it is ("lies" when hijacked, "may be lying" when suspicious).
var (
	checkDiscovery = finding.Check{ID: "dns.resolver_discovery", Severity: finding.SeverityInfo,
		Pass:    "Resolver source read",
		Unknown: "Resolver source not read",
		Trigger: "never fails; unknown when a source (OS, DHCPv4, router advertisements, DHCPv6) could not be read or was skipped"}
	checkTrusted = finding.Check{ID: "dns.trusted_resolver", Severity: finding.SeverityHigh,
		Pass:    "Trusted encrypted resolver reachable",
		Unknown: "No trusted encrypted resolver to compare with",
		Trigger: "unknown when no trusted DoH/DoT resolver answered: answers can then only be judged by certificates and indicators"}
	checkHijacked = finding.Check{ID: "dns.resolver_hijacked", Severity: finding.SeverityCritical,
		Pass:    "Resolver answers login names honestly",
		Fail:    "Resolver %s about login names",
		Unknown: "Could not tell whether the resolver answers login names honestly",
		Trigger: "a canary answer differs from the trusted one and its address fails the TLS proof (critical, high), or comes without the signature of its signed zone while the resolver denies the zone's keys (critical, high) or keeps signatures elsewhere (critical, medium), or carries the marks of a forged answer (critical, medium); differing unproved answers, blocked canaries, candidate indicators, a zone served without its keys or selective signature loss make it suspicious (medium)"}
	checkKnownBad = finding.Check{ID: "dns.resolver_known_bad", Severity: finding.SeverityHigh,
		Pass:    "Resolver and its answers are not known attacker addresses",
		Fail:    "Resolver or its answers are known attacker addresses",
		Trigger: "the resolver's address or an address it answered is in the indicator list (exact addresses; confidence from the entry)"}
	checkUnknownResolver = finding.Check{ID: "dns.dhcp_resolver_unknown", Severity: finding.SeverityMedium,
		Pass:    "Handed-out resolver is the router or a known resolver",
		Fail:    "Handed-out resolver is an unknown public server that does not answer honestly",
		Unknown: "Handed-out resolver is an unknown public server",
		Trigger: "a discovered resolver is a public address that is neither the router nor a well-known public resolver, and it lies; unknown (probably the ISP's) when it answers honestly"}
	checkAnomaly = finding.Check{ID: "dns.answer_anomaly", Severity: finding.SeverityMedium,
		Pass:    "Answers look forwarded, not forged",
		Fail:    "Answers look forged by the resolver",
		Unknown: "Could not tell whether answers are forged",
		Trigger: "a canary answer not confirmed by the trusted side has TTL 0, the authoritative flag, no AAAA where the name has some, or no signature where it has one"}
	checkDNSSEC = finding.Check{ID: "dns.dnssec_stripped", Severity: finding.SeverityMedium,
		Pass:    "DNSSEC signatures reach this machine",
		Fail:    "DNSSEC signatures are stripped",
		Unknown: "Could not tell whether DNSSEC signatures reach this machine",
		Trigger: "signatures the trusted side sees are missing through the resolver: for some names only (medium) or for all (low); high when the resolver also says the signed zone has no keys (DNSKEY), i.e. it answers the zone from its own copy"}
	checkNX = finding.Check{ID: "dns.nxdomain_rewritten", Severity: finding.SeverityLow,
		Pass:    "Names that do not exist stay non-existent",
		Fail:    "Names that do not exist get an address",
		Unknown: "Could not tell whether names that do not exist are rewritten",
		Trigger: "a random name under a zone without wildcard gets an address (usually the ISP)"}
	checkFingerprint = finding.Check{ID: "dns.resolver_fingerprint", Severity: finding.SeverityLow,
		Pass:    "Resolver software",
		Fail:    "Resolver reports the campaign's dnsmasq banner",
		Unknown: "Resolver did not say what software it runs",
		Trigger: "fails (low severity, low confidence) only when an unknown public resolver reports dnsmasq-2.85, the campaign's banner; informational otherwise"}
	checkPrimarySecondary = finding.Check{ID: "dns.primary_secondary_disagree", Severity: finding.SeverityMedium,
		Pass:    "Primary and secondary resolvers agree",
		Fail:    "Primary and secondary resolvers disagree",
		Unknown: "No primary and secondary resolvers to compare",
		Trigger: "resolvers from the same list answer a canary with unrelated addresses and at least one answer is not confirmed by the trusted side or a valid certificate"}
)

// How sure a failing dns.resolver_hijacked finding is, in its title.
const (
	hijackedLies   = "lies"
	hijackedMayLie = "may be lying"
)

// Checks lists every finding ID this package emits, in report order.
func Checks() []finding.Check {
	return []finding.Check{checkDiscovery, checkTrusted, checkHijacked, checkKnownBad, checkUnknownResolver,
		checkAnomaly, checkDNSSEC, checkNX, checkFingerprint, checkPrimarySecondary}
}

// campaignRefs are the primary sources on the campaign.
var campaignRefs = []finding.Reference{
	{Kind: "advisory", ID: "NCSC 2026-04-07", URL: "https://www.ncsc.gov.uk/news/apt28-exploit-routers-to-enable-dns-hijacking-operations"},
	{Kind: "advisory", ID: "PSA260407", URL: "https://www.ic3.gov/PSA/2026/PSA260407"},
	{Kind: "url", URL: "https://www.microsoft.com/en-us/security/blog/2026/04/07/soho-router-compromise-leads-to-dns-hijacking-and-adversary-in-the-middle-attacks/"},
}

// emitter builds findings with a shared clock.
type emitter struct {
	at  time.Time
	out []finding.Finding
}

func (e *emitter) add(c finding.Check, key, subject string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence, refs ...finding.Reference) {
	e.addTitled(c, "", key, subject, st, sev, conf, detail, fix, ev, refs...)
}

// addTitled is add for a check whose title names what was found (what
// fills its %s verb).
func (e *emitter) addTitled(c finding.Check, what, key, subject string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence, refs ...finding.Reference) {
	f := finding.Finding{
		ID: c.ID + "@" + key, CheckID: c.ID, Subject: subject, Status: st, Severity: sev, Confidence: conf,
		Title: c.Title(st, what), Detail: detail, Remediation: fix, Evidence: ev, References: refs, ObservedAt: e.at,
	}
	if emitted != nil {
		emitted(c, f)
	}
	e.out = append(e.out, f)
}

// emitted, when set (by the package's tests), sees every finding the
// package makes, with the check that made it.
var emitted func(finding.Check, finding.Finding)

func ev(k, v string) finding.Evidence { return finding.Evidence{Key: k, Value: v} }

func findings(in *Input, obs *Observations, vs []ResolverVerdict) []finding.Finding {
	e := &emitter{at: obs.Finished}
	discoveryFindings(e, in)
	trustedFinding(e, obs)
	for i := range vs {
		resolverFindings(e, &vs[i])
	}
	groupFindings(e, vs)
	return e.out
}

// DiscoveryFindings returns the dns.resolver_discovery findings alone,
// for a run that found no resolver to test.
func DiscoveryFindings(st []SourceStatus, at time.Time) []finding.Finding {
	e := &emitter{at: at}
	discoveryFindings(e, &Input{Discovery: st})
	return e.out
}

func discoveryFindings(e *emitter, in *Input) {
	for _, s := range in.Discovery {
		key := string(s.Kind)
		if s.Detail != "" {
			key += ":" + s.Detail
		}
		subject := "resolver source " + strings.TrimSpace(string(s.Kind)+" "+s.Detail)
		if s.Kind == SourceAll {
			subject = "resolver discovery (OS, DHCPv4, router advertisements, DHCPv6)"
		}
		evs := []finding.Evidence{ev("source", string(s.Kind)), ev("found", fmt.Sprint(s.Found))}
		switch {
		case s.Skipped != "":
			e.add(checkDiscovery, key, subject, finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
				"Not consulted: "+s.Skipped+".", "", append(evs, ev("skipped", s.Skipped)))
		case s.Err != "":
			e.add(checkDiscovery, key, subject, finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
				"Could not be read: "+s.Err+". Resolvers this source hands out were not tested.",
				"Run again with enough privileges (DHCP and router-advertisement probes need root), or name the resolvers with --resolver.",
				append(evs, ev("error", s.Err)))
		default:
			e.add(checkDiscovery, key, subject, finding.StatusPass, finding.SeverityInfo, finding.ConfidenceHigh,
				fmt.Sprintf("Read; it names %d resolver(s).", s.Found), "", evs)
		}
	}
}

func trustedFinding(e *emitter, obs *Observations) {
	var evs []finding.Evidence
	ok := 0
	for _, t := range obs.Trusted {
		v := fmt.Sprintf("%d answered, %d failed", t.Answered, t.Failed)
		if t.Err != "" {
			v += " (" + t.Status + ": " + t.Err + ")"
		}
		evs = append(evs, ev("trusted "+t.Server, v))
		if t.Answered > 0 {
			ok++
		}
	}
	switch {
	case len(obs.Trusted) == 0:
		e.add(checkTrusted, "trusted", "trusted resolvers", finding.StatusUnknown, checkTrusted.Severity, finding.ConfidenceHigh,
			"No trusted resolver was configured, so answers were judged by certificates and indicators only.",
			"Give a trusted resolver with --trusted-doh or --trusted-dot.", evs)
	case ok == 0:
		e.add(checkTrusted, "trusted", "trusted resolvers", finding.StatusUnknown, checkTrusted.Severity, finding.ConfidenceHigh,
			"No trusted resolver answered, so answers were judged by certificates and indicators only. Something on this network may block encrypted DNS.",
			"Check that DNS over HTTPS (443) and DNS over TLS (853) to the trusted resolvers are not blocked, or name reachable ones with --trusted-doh/--trusted-dot.", evs)
	default:
		e.add(checkTrusted, "trusted", "trusted resolvers", finding.StatusPass, checkTrusted.Severity, finding.ConfidenceHigh,
			fmt.Sprintf("%d of %d trusted resolvers answered over an encrypted channel the router cannot change.", ok, len(obs.Trusted)), "", evs)
	}
}

// nameEvidence summarises one canary for the evidence list.
func nameEvidence(nr NameResult) finding.Evidence {
	var b strings.Builder
	b.WriteString(string(nr.Outcome))
	if len(nr.Addrs) > 0 {
		b.WriteString(": " + addrList(nr.Addrs))
	}
	if len(nr.TrustedAddrs) > 0 && nr.Outcome != OutcomeMatch {
		b.WriteString(" (trusted: " + addrList(nr.TrustedAddrs) + ")")
	}
	if len(nr.Anomalies) > 0 {
		b.WriteString("; " + strings.Join(nr.Anomalies, ", "))
	}
	for _, p := range nr.Proofs {
		fmt.Fprintf(&b, "; TLS %s %s", p.Addr, p.Outcome)
		if p.Reason != "" {
			b.WriteString(": " + p.Reason)
		}
	}
	for _, d := range nr.Delays {
		b.WriteString("; " + d.String())
	}
	for _, p := range nr.Profiles {
		fmt.Fprintf(&b, "; asked %s: %s", p.Profile.name(), p.Outcome)
		if len(p.Addrs) > 0 {
			b.WriteString(" " + addrList(p.Addrs))
		}
	}
	if nr.Detail != "" {
		b.WriteString(" [" + nr.Detail + "]")
	}
	return ev("canary "+nr.Name, b.String())
}

func resolverEvidence(v *ResolverVerdict) []finding.Evidence {
	evs := []finding.Evidence{ev("resolver", v.Resolver.Addr.String()), ev("class", string(v.Class))}
	for _, s := range v.Resolver.Sources {
		evs = append(evs, ev("source", s.String()))
	}
	return evs
}

func resolverFindings(e *emitter, v *ResolverVerdict) {
	key, subject := v.Resolver.Key(), "resolver "+v.Resolver.Label()
	base := resolverEvidence(v)
	detail := strings.Join(v.Reasons, "; ")
	if detail != "" {
		detail = strings.ToUpper(detail[:1]) + detail[1:] + "."
	}

	// dns.resolver_hijacked
	evs := append(slices.Clone(base), ev("verdict", string(v.Verdict)))
	for _, nr := range v.Names {
		evs = append(evs, nameEvidence(nr))
	}
	fix := "Reset the DNS settings where this resolver came from (see the steps), change the router's admin password and update its firmware."
	switch v.Verdict {
	case VerdictHijacked:
		e.addTitled(checkHijacked, hijackedLies, key, subject, finding.StatusFail, finding.SeverityCritical, v.Confidence, detail, fix, evs, campaignRefs...)
	case VerdictSuspicious:
		e.addTitled(checkHijacked, hijackedMayLie, key, subject, finding.StatusFail, finding.SeverityMedium, v.Confidence,
			"This resolver may be lying: "+detail, "Check the router's DNS settings against what your ISP documents; run routerwatch dns again later to see whether it persists.", evs, campaignRefs...)
	case VerdictUnknown:
		e.add(checkHijacked, key, subject, finding.StatusUnknown, checkHijacked.Severity, finding.ConfidenceLow, "Could not decide: "+detail, "", evs)
	default:
		e.add(checkHijacked, key, subject, finding.StatusPass, checkHijacked.Severity, v.Confidence, detail, "", evs)
	}

	knownBadFinding(e, v, key, subject, base)
	unknownResolverFinding(e, v, key, subject, base)
	anomalyFinding(e, v, key, subject, base)
	e.add(checkDNSSEC, key, subject, v.DNSSEC.Status, v.DNSSEC.Severity, finding.ConfidenceHigh, v.DNSSEC.Detail,
		ifFail(v.DNSSEC.Status, "Update the router's firmware; a resolver that keeps signatures (or DNS over HTTPS on your devices) restores DNSSEC."),
		append(slices.Clone(base), v.DNSSEC.Evidence...))
	e.add(checkNX, key, subject, v.NX.Status, v.NX.Severity, finding.ConfidenceHigh, v.NX.Detail,
		ifFail(v.NX.Status, "Most ISPs let you turn \"search help\" / NXDOMAIN redirection off in the customer account; otherwise use another resolver."),
		append(slices.Clone(base), v.NX.Evidence...))
	fingerprintFinding(e, v, key, subject, base)
}

func ifFail(st finding.Status, s string) string {
	if st == finding.StatusFail {
		return s
	}
	return ""
}

func knownBadFinding(e *emitter, v *ResolverVerdict, key, subject string, base []finding.Evidence) {
	if len(v.KnownBad) == 0 {
		e.add(checkKnownBad, key, subject, finding.StatusPass, checkKnownBad.Severity, finding.ConfidenceMedium,
			"Neither the resolver nor any address it answered is a published indicator of the campaign. (Lists are incomplete: absence proves little.)", "", base)
		return
	}
	evs := slices.Clone(base)
	conf := finding.ConfidenceLow
	var what []string
	for _, h := range v.KnownBad {
		conf = max(conf, h.Confidence)
		in := h.Indicator
		src := in.SourceURL
		if src == "" {
			src = in.Source
		}
		seen := "first/last seen unknown"
		if !in.FirstSeen.IsZero() {
			seen = "seen " + in.FirstSeen.Format(time.DateOnly) + " to " + in.LastSeen.Format(time.DateOnly)
		}
		if h.Stale {
			seen += " (long ago: the address may have a new tenant)"
		}
		evs = append(evs, ev("indicator "+h.Addr.String(), fmt.Sprintf("%s; %s; list %s, role %s, %s confidence; source %s", h.Where, seen, in.List, in.Role, h.Confidence, src)))
		what = append(what, h.Where+" "+h.Addr.String())
	}
	e.add(checkKnownBad, key, subject, finding.StatusFail, checkKnownBad.Severity, conf,
		"Published indicators of the APT28 router campaign: "+strings.Join(what, "; ")+". No legitimate home network uses these addresses for DNS.",
		"Reset the router's DNS settings and treat passwords typed on this network as exposed (see the steps).", evs, campaignRefs...)
}

func unknownResolverFinding(e *emitter, v *ResolverVerdict, key, subject string, base []finding.Evidence) {
	if !v.Resolver.fromDiscovery() {
		return
	}
	evs := append(slices.Clone(base), ev("class_note", v.ClassNote))
	switch {
	case v.Class != ClassPublicUnknown:
		e.add(checkUnknownResolver, key, subject, finding.StatusPass, checkUnknownResolver.Severity, finding.ConfidenceHigh,
			"The resolver handed out is "+v.ClassNote+".", "", evs)
	case v.Verdict == VerdictHijacked || v.Verdict == VerdictSuspicious:
		e.add(checkUnknownResolver, key, subject, finding.StatusFail, checkUnknownResolver.Severity, finding.ConfidenceMedium,
			"This network hands out a resolver that is neither the router nor a well-known public resolver, and it does not answer honestly. That is the pattern of the 2025-2026 router attacks: an attacker's server as primary DNS.",
			"Log in to the router and set the DNS servers (DHCP/LAN and Internet/WAN pages) back to automatic or to your ISP's.", evs, campaignRefs...)
	case v.Verdict == VerdictUnknown:
		e.add(checkUnknownResolver, key, subject, finding.StatusUnknown, finding.SeverityMedium, finding.ConfidenceLow,
			"This resolver is a public address that is neither the router nor a well-known public resolver, and its answers could not be judged. Compare it with the DNS servers your ISP documents.",
			"", evs)
	default:
		e.add(checkUnknownResolver, key, subject, finding.StatusUnknown, finding.SeverityLow, finding.ConfidenceLow,
			"This resolver is a public address that is neither the router nor a well-known public resolver. It is most likely your ISP's, and it answered every canary honestly; compare it with the DNS servers your ISP documents.",
			"", evs)
	}
}

func anomalyFinding(e *emitter, v *ResolverVerdict, key, subject string, base []finding.Evidence) {
	evs := slices.Clone(base)
	var bad, explained []string
	for _, nr := range v.Names {
		if len(nr.Anomalies) == 0 {
			continue
		}
		evs = append(evs, ev("anomalies "+nr.Name, strings.Join(nr.Anomalies, ", ")+" ("+string(nr.Outcome)+")"))
		if nr.Outcome == OutcomeMatch || nr.Outcome == OutcomeVerified {
			explained = append(explained, nr.Name)
		} else {
			bad = append(bad, nr.Name)
		}
	}
	switch {
	case len(bad) > 0:
		e.add(checkAnomaly, key, subject, finding.StatusFail, checkAnomaly.Severity, finding.ConfidenceMedium,
			"Answers for "+strings.Join(bad, ", ")+" look made up by the resolver itself (dnsmasq's address= gives TTL 0, the authoritative flag and no IPv6 answer), not forwarded from the real DNS.",
			"See dns.resolver_hijacked for this resolver.", evs)
	case v.Measured == 0:
		e.add(checkAnomaly, key, subject, finding.StatusUnknown, checkAnomaly.Severity, finding.ConfidenceLow, "The resolver gave no usable answer.", "", evs)
	case len(explained) > 0:
		e.add(checkAnomaly, key, subject, finding.StatusPass, checkAnomaly.Severity, finding.ConfidenceMedium,
			"Some answers carry unusual marks ("+strings.Join(explained, ", ")+"), but their addresses are confirmed by the trusted resolvers or valid certificates.", "", evs)
	default:
		e.add(checkAnomaly, key, subject, finding.StatusPass, checkAnomaly.Severity, finding.ConfidenceHigh,
			"No answer carries the marks of a forged answer.", "", evs)
	}
}

func fingerprintFinding(e *emitter, v *ResolverVerdict, key, subject string, base []finding.Evidence) {
	evs := slices.Clone(base)
	for _, c := range v.obs.Finger.Entries {
		val := c.Value
		if val == "" {
			val = "(" + firstNonEmpty(c.Rcode, c.Status) + ")"
		}
		evs = append(evs, ev(c.Name, val))
	}
	switch {
	case !v.obs.Finger.Reachable():
		e.add(checkFingerprint, key, subject, finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceLow,
			"The resolver did not answer the CHAOS queries: "+v.obs.FingerErr, "", evs)
	case strings.HasPrefix(strings.ToLower(v.Software), weakBanner) && v.Class == ClassPublicUnknown:
		e.add(checkFingerprint, key, subject, finding.StatusFail, finding.SeverityLow, finding.ConfidenceLow,
			"An unknown public resolver reports "+v.Software+", the banner of the campaign's resolvers. It is also the stock RHEL 9 package: on its own this decides nothing.", "", evs)
	default:
		sw := v.Software
		if sw == "" {
			sw = "not revealed"
		}
		e.add(checkFingerprint, key, subject, finding.StatusPass, finding.SeverityInfo, finding.ConfidenceHigh,
			"Software: "+sw+".", "", evs)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// groupFindings compares the resolvers of each list (DHCP option 6, the
// OS list, ...): the campaign replaced the primary and left the
// secondary honest.
func groupFindings(e *emitter, vs []ResolverVerdict) {
	type member struct {
		v   *ResolverVerdict
		src Source
	}
	groups := map[string][]member{}
	var order []string
	for i := range vs {
		for _, s := range vs[i].Resolver.Sources {
			if s.Kind == SourceUser {
				continue
			}
			g := s.Group()
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], member{&vs[i], s})
		}
	}
	// Lists that name the same resolvers in the same order (resolv.conf
	// written from the DHCP lease, as it usually is) are one comparison:
	// the first list's finding names the others, rather than a second
	// finding repeating it.
	sameAs := map[string][]string{}
	seen := map[string]string{}
	var unique []string
	for _, g := range order {
		ms := groups[g]
		slices.SortStableFunc(ms, func(a, b member) int { return a.src.Index - b.src.Index })
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.v.Resolver.Key())
		}
		sig := strings.Join(keys, " ")
		if first, ok := seen[sig]; ok {
			sameAs[first] = append(sameAs[first], g)
			continue
		}
		seen[sig] = g
		unique = append(unique, g)
	}
	compared := false
	for _, g := range unique {
		ms := groups[g]
		if len(ms) < 2 {
			continue
		}
		compared = true
		primary := ms[0]
		var evs []finding.Evidence
		for _, other := range sameAs[g] {
			evs = append(evs, ev("same list", other))
		}
		var disagree []string
		for _, other := range ms[1:] {
			evs = append(evs, ev(primary.src.Role(), primary.v.Resolver.Key()), ev(other.src.Role(), other.v.Resolver.Key()))
			for i := range primary.v.Names {
				p, o := primary.v.Names[i], other.v.Names[i]
				// What a victim asking the lying way gets: a rogue
				// truthful to other shapes shares addresses with
				// the honest resolver in those.
				pa, oa := p.victimAddrs(), o.victimAddrs()
				if len(pa) == 0 || len(oa) == 0 || overlaps(pa, oa) {
					continue
				}
				if confirmed(p) && confirmed(o) {
					continue
				}
				disagree = append(disagree, p.Name)
				evs = append(evs, ev("canary "+p.Name, fmt.Sprintf("%s says %s, %s says %s", primary.v.Resolver.Key(), addrList(pa), other.v.Resolver.Key(), addrList(oa))))
			}
		}
		subject := "resolver list " + g
		if len(disagree) > 0 {
			e.add(checkPrimarySecondary, g, subject, finding.StatusFail, checkPrimarySecondary.Severity, finding.ConfidenceMedium,
				"The resolvers of this list give different addresses for "+strings.Join(dedupe(disagree), ", ")+", and not both answers are genuine. In the 2025-2026 attacks the primary DNS was the attacker's and the secondary stayed the ISP's.",
				"See dns.resolver_hijacked for which one lies.", evs, campaignRefs...)
			continue
		}
		e.add(checkPrimarySecondary, g, subject, finding.StatusPass, checkPrimarySecondary.Severity, finding.ConfidenceHigh,
			"The resolvers of this list agree on every canary (or their differing answers are both genuine).", "", evs)
	}
	if !compared {
		// Not applicable rather than undecided: info severity.
		e.add(checkPrimarySecondary, "all", "resolver lists", finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
			"No discovered list named two resolvers, so there was no primary and secondary to compare.", "", nil)
	}
}

func overlaps(a, b []netip.Addr) bool {
	return slices.ContainsFunc(a, func(x netip.Addr) bool { return slices.Contains(b, x) })
}

// confirmed reports an answer the trusted side or a certificate vouches
// for.
func confirmed(nr NameResult) bool {
	return nr.Outcome == OutcomeMatch || nr.Outcome == OutcomeVerified
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
