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

// steps turns the verdicts into what the user should do, in order.
func steps(in *Input, vs []ResolverVerdict) []finding.Step {
	var hijacked, suspicious []*ResolverVerdict
	for i := range vs {
		switch vs[i].Verdict {
		case VerdictHijacked:
			hijacked = append(hijacked, &vs[i])
		case VerdictSuspicious:
			suspicious = append(suspicious, &vs[i])
		}
	}
	bad := append(slices.Clone(hijacked), suspicious...)
	if len(bad) == 0 {
		return nil
	}
	var out []finding.Step
	if len(hijacked) > 0 {
		names, targets := lies(hijacked)
		out = append(out, finding.Step{
			Title: "Do not sign in to anything from this network until the steps below are done",
			Detail: fmt.Sprintf("Its DNS sends %s to %s instead of the real servers. Use mobile data for e-mail and other accounts meanwhile, and never click through a certificate warning.",
				strings.Join(names, ", "), strings.Join(targets, ", ")),
		})
	}
	out = append(out, resetSteps(in, bad, len(hijacked) > 0)...)
	if len(hijacked) == 0 {
		out = append(out, finding.Step{
			Title:  "Check again later",
			Detail: "Run routerwatch dns again. If the same resolver keeps answering differently, treat it as hijacked: change the router's admin password, update its firmware and change the passwords you typed on this network.",
		})
		return out
	}
	out = append(out,
		finding.Step{
			Title:  "Change the router's admin password and turn off remote management",
			Detail: "The attackers got in by reading the password through a firmware flaw (CVE-2023-50224 on TP-Link routers). Choose a long password used nowhere else, and turn off administration from the Internet (remote management) and services you do not use (UPnP, telnet).",
		},
		finding.Step{
			Title:  "Update the router's firmware, or replace the router",
			Detail: "Install the latest firmware from the vendor's support site. Many affected models (TP-Link TL-WR841N, TL-WR840N, Archer C7, WDR4300 …) are end of life and get no fix: replace those. 'routerwatch lookup MODEL --hw REV --fw BUILD' tells you which case yours is.",
		},
		finding.Step{
			Title:  "Treat passwords typed on this network since " + since(hijacked) + " as exposed",
			Detail: "Change the passwords of accounts used from this network (Microsoft 365 / Outlook first), sign out of all sessions, and check the multi-factor methods and mail forwarding rules of those accounts. Tell your IT contact if it is a work account.",
		},
		finding.Step{
			Title:  "Check again",
			Detail: "Run routerwatch dns again after the changes; every resolver should come out clean.",
		},
	)
	return out
}

// lies lists the canary names the hijacked resolvers lie about and where
// they send them.
func lies(vs []*ResolverVerdict) (names, targets []string) {
	for _, v := range vs {
		for _, nr := range v.Names {
			switch nr.Outcome {
			case OutcomeIntercepted, OutcomeHijackShaped, OutcomeUnsignedVariant, OutcomeUnexplained:
			default:
				continue
			}
			names = addOnce(names, nr.Name)
			for _, a := range nr.Addrs {
				if !slices.Contains(nr.TrustedAddrs, a) {
					targets = addOnce(targets, a.String())
				}
			}
		}
	}
	if len(names) == 0 {
		names = []string{"login names"}
	}
	if len(targets) == 0 {
		targets = []string{"servers the attacker controls"}
	}
	return names, targets
}

// resetSteps says where each bad resolver's setting lives.
func resetSteps(in *Input, bad []*ResolverVerdict, hijacked bool) []finding.Step {
	verb := "Check"
	if hijacked {
		verb = "Reset"
	}
	var router, host, user []string
	var hostFiles []string
	for _, v := range bad {
		for _, s := range v.Resolver.Sources {
			a := v.Resolver.Key()
			switch s.Kind {
			case SourceDHCPv4, SourceRA, SourceDHCPv6, SourceRouterConfig:
				router = addOnce(router, a+" ("+s.Role()+" "+map[SourceKind]string{SourceDHCPv4: "DHCP DNS", SourceRA: "IPv6 RDNSS", SourceDHCPv6: "DHCPv6 DNS", SourceRouterConfig: "router DNS"}[s.Kind]+")")
			case SourceOS:
				host = addOnce(host, a)
				if s.Detail != "" {
					hostFiles = addOnce(hostFiles, s.Detail)
				}
			default:
				user = addOnce(user, a)
			}
		}
	}
	var out []finding.Step
	if len(router) > 0 {
		where := "your router's admin page"
		if gw := firstV4(in.Gateways); gw.IsValid() {
			where = "your router's admin page (http://" + gw.String() + "/)"
		}
		out = append(out, finding.Step{
			Title: verb + " the DNS servers in your router",
			Detail: "Open " + where + " and find the DHCP server (LAN) settings: the DNS servers there are " + strings.Join(router, ", ") +
				". Clear them (on TP-Link: DHCP → DHCP Settings, Primary/Secondary DNS 0.0.0.0) or set your ISP's, and check the Internet (WAN) DNS fields too. If the router announces IPv6, check its IPv6/RA DNS setting as well. Save, then turn Wi-Fi off and on on each device so it picks up the change: a router reboot alone does not undo it.",
		})
	}
	if len(host) > 0 {
		d := "This computer itself is set to use " + strings.Join(host, ", ")
		if len(hostFiles) > 0 {
			d += " (" + strings.Join(hostFiles, ", ") + ")"
		}
		out = append(out, finding.Step{Title: verb + " this computer's DNS settings", Detail: d + ". Set DNS back to automatic in the network settings; if it comes back, it comes from the router (previous step)."})
	}
	if len(user) > 0 {
		out = append(out, finding.Step{Title: "Stop using " + strings.Join(user, ", ") + " as a resolver", Detail: "You named it with --resolver; remove it from wherever your devices are configured to use it."})
	}
	return out
}

func firstV4(as []netip.Addr) netip.Addr {
	for _, a := range as {
		if a.Is4() {
			return a
		}
	}
	if len(as) > 0 {
		return as[0]
	}
	return netip.Addr{}
}

// since is the earliest first sighting among strong indicators, else
// "the day the DNS was changed".
func since(vs []*ResolverVerdict) string {
	var first time.Time
	for _, v := range vs {
		for _, h := range v.KnownBad {
			if fs := h.Indicator.FirstSeen; !fs.IsZero() && (first.IsZero() || fs.Before(first)) {
				first = fs
			}
		}
	}
	if first.IsZero() {
		return "the DNS was changed (date unknown: assume weeks or months)"
	}
	return first.Format(time.DateOnly) + " (first sighting of the attacker's address)"
}

// headline is the one sentence a user reads first.
func headline(r *Result) string {
	var bad, unknown []string
	for _, v := range r.Verdicts {
		switch v.Verdict {
		case VerdictHijacked, VerdictSuspicious:
			bad = append(bad, v.Resolver.Label())
		case VerdictUnknown:
			unknown = append(unknown, v.Resolver.Key())
		}
	}
	switch r.Overall {
	case VerdictHijacked:
		var hs []*ResolverVerdict
		for i := range r.Verdicts {
			if r.Verdicts[i].Verdict == VerdictHijacked {
				hs = append(hs, &r.Verdicts[i])
			}
		}
		names, targets := lies(hs)
		return fmt.Sprintf("DNS HIJACKED: resolver %s sends %s to %s.", strings.Join(bad, ", "), strings.Join(names, ", "), strings.Join(targets, ", "))
	case VerdictSuspicious:
		if onlyHeldBack(r.Verdicts) {
			return fmt.Sprintf("SUSPICIOUS: resolver %s holds some login names back (answers them late or not at all) while it answers other names at once.", strings.Join(bad, ", "))
		}
		return fmt.Sprintf("SUSPICIOUS: resolver %s answers some login names differently from the trusted resolvers.", strings.Join(bad, ", "))
	case VerdictUnknown:
		return fmt.Sprintf("COULD NOT DECIDE: resolver(s) %s could not be judged; see why below.", strings.Join(unknown, ", "))
	}
	return "No DNS hijacking found: " + answeredCounts(r.Verdicts) + "."
}

// onlyHeldBack reports suspicious verdicts whose only fault is holding
// login names back: no name answered differently from the trusted side.
func onlyHeldBack(vs []ResolverVerdict) bool {
	held := false
	for _, v := range vs {
		if v.Verdict != VerdictSuspicious {
			continue
		}
		for _, nr := range v.Names {
			switch nr.Outcome {
			case OutcomeMatch, OutcomeVerified, OutcomeNotCompared, OutcomeFailed:
			default:
				return false
			}
			held = held || len(nr.Delays) > 0 || nr.Outcome == OutcomeFailed
		}
		if v.DNSSEC.Status == finding.StatusFail {
			return false
		}
	}
	return held
}

// answeredCounts says how many canaries each resolver answered like the
// trusted resolvers, from the same counts its reasons give
// (ResolverVerdict.Matched and Total).
func answeredCounts(vs []ResolverVerdict) string {
	all := len(vs) > 0
	for _, v := range vs {
		all = all && v.Matched == v.Total && v.Total == vs[0].Total
	}
	if all {
		return fmt.Sprintf("%d resolver(s) answered all %d login names like the trusted resolvers", len(vs), vs[0].Total)
	}
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s answered %d of %d login names like the trusted resolvers", v.Resolver.Key(), v.Matched, v.Total))
	}
	return strings.Join(parts, "; ")
}
