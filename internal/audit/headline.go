// SPDX-License-Identifier: Apache-2.0

package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/check/firmware"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe/confirmprobe"
)

// Headline is the one sentence a home user reads first, the most urgent
// thing about the device: "Your router TP-Link TL-WR841N V10 is end of
// life and exploited in the wild: replace it." owner selects "Your router
// …" (check) or "Device … " (scan).
func Headline(d *Device, owner bool) string {
	name := Name(d.Identity)
	who := "Device " + d.Target.Addr.String()
	if name != "" {
		who += " (" + name + ")"
	}
	if owner {
		switch {
		case d.Identity.Identity.Model != "":
			who = "Your router " + name
		case name != "":
			who = "Your " + name + " router at " + d.Target.Addr.String()
		default:
			who = "Your router at " + d.Target.Addr.String()
		}
	}
	below := ""
	if owner {
		below = " below"
	}
	if !d.Answered {
		return who + " did not answer on any port: nothing could be checked."
	}
	s := confirmHeadline(d, who)
	if s == "" {
		s = firmwareHeadline(d, who)
	}
	if s == "" {
		s = exposureHeadline(d, who)
	}
	if s == "" {
		s = otherHeadline(d, who, below)
	}
	return s
}

// confirmHeadline speaks when the confirming request got the credential
// file: the password is out, whatever else is true.
func confirmHeadline(d *Device, who string) string {
	for _, f := range d.Findings {
		if f.CheckID == "firmware.cve_2023_50224_confirmed" && f.Status == finding.StatusFail {
			s := who + " hands out its admin password to anyone on your network (CVE-2023-50224"
			if exploited(d.Assessment, confirmprobe.CVE) {
				s += ", exploited in the wild"
			}
			s += "): change the password now"
			if d.Assessment != nil && (d.EOL() || firmware.NoFixKnown(d.Assessment)) {
				return s + " and replace the router."
			}
			return s + " and update or replace the router."
		}
	}
	return ""
}

// exploited reports whether the assessment says cve is exploited in the
// wild, whatever its match status.
func exploited(a *advisory.Assessment, cve string) bool {
	if a == nil {
		return false
	}
	for i := range a.Matches {
		if _, ok := a.Matches[i].ExploitedSince(); ok && a.Matches[i].CVE() == cve {
			return true
		}
	}
	return false
}

func firmwareHeadline(d *Device, who string) string {
	a := d.Assessment
	if a == nil || a.Verdict != advisory.StatusAffected {
		return ""
	}
	exploited := firmware.ExploitedAffected(a)
	noFix := firmware.NoFixKnown(a)
	fixed := ""
	for i := range a.Matches {
		if m := &a.Matches[i]; m.Status == advisory.StatusAffected && m.FixedIn != "" && !m.NoFixKnown() {
			fixed = m.FixedIn
		}
	}
	switch {
	case d.EOL() && exploited && noFix:
		return who + " is end of life and exploited in the wild: replace it."
	case exploited && noFix:
		return who + " has a flaw that is exploited in the wild and no fix is known: replace it."
	case d.EOL() && exploited:
		return fmt.Sprintf("%s is end of life and exploited in the wild: update its firmware to %s now and plan to replace it.", who, orLatest(fixed))
	case exploited:
		return fmt.Sprintf("%s has a flaw that is exploited in the wild: update its firmware to %s now.", who, orLatest(fixed))
	case noFix:
		return who + " has a known flaw with no fix: replace it."
	}
	return fmt.Sprintf("%s has a known flaw: update its firmware to %s.", who, orLatest(fixed))
}

func orLatest(build string) string {
	if build == "" {
		return "the latest build"
	}
	return build + " or later"
}

// exposureHeadline names the worst exposure failing at high severity or
// above.
func exposureHeadline(d *Device, who string) string {
	var names []string
	remote := false
	for _, f := range d.Failing() {
		if f.Severity < finding.SeverityHigh || !strings.HasPrefix(f.CheckID, "exposure.") {
			continue
		}
		remote = remote || f.CheckID == "exposure.remote_management"
		if n := exposureName(f); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case len(names) == 0:
		return ""
	case remote && d.Vantage == exposure.WAN:
		return fmt.Sprintf("%s can be managed from the Internet (%s): turn remote management off.", who, strings.Join(names, ", "))
	case d.Vantage == exposure.WAN:
		return fmt.Sprintf("%s answers from the Internet with %s: turn it off.", who, strings.Join(names, ", "))
	}
	return fmt.Sprintf("%s exposes %s: turn it off.", who, strings.Join(names, ", "))
}

// exposureName names what a failing exposure finding is about.
func exposureName(f finding.Finding) string {
	switch f.CheckID {
	case "exposure.remote_management":
		_, kind, _ := strings.Cut(f.ID, "/")
		return exposure.KindName(exposure.Kind(kind))
	case "exposure.snmp_default_community":
		return "SNMP with a default community"
	case "exposure.upnp_wan":
		return "UPnP"
	case "exposure.natpmp_wan":
		return "NAT-PMP/PCP"
	case "exposure.tr069_wan":
		return "TR-069 without authentication"
	case "exposure.open_resolver":
		return "an open DNS resolver"
	case "exposure.telnet_open":
		return "telnet"
	case "exposure.ftp_open":
		return "FTP"
	case "exposure.routeros_api":
		return "the plain RouterOS API"
	}
	return f.Title
}

func otherHeadline(d *Device, who, below string) string {
	a := d.Assessment
	fails := d.Failing()
	switch {
	case a == nil:
		return who + " could not be identified by model, so it could not be checked against advisories" + more(len(fails), "problem", below) + "."
	case d.EOL():
		return who + " is end of life: it will not get security fixes, so plan to replace it" + more(len(fails)-1, "other problem", below) + "."
	case a.Verdict == advisory.StatusUnknown && len(a.Matches) > 0:
		var cves []string
		for i := range a.Matches {
			if a.Matches[i].Status == advisory.StatusUnknown {
				cves = append(cves, a.Matches[i].CVE())
			}
		}
		return fmt.Sprintf("%s may be affected by %s: the device did not show enough (hardware version or firmware build) to decide%s.", who, strings.Join(cves, ", "), more(len(fails), "problem", below))
	case len(fails) > 0:
		return fmt.Sprintf("%s: no known vulnerability, but %d problem(s) found.", who, len(fails))
	}
	return who + ": no known vulnerability and no risky service found."
}

func more(n int, what, below string) string {
	if n <= 0 {
		return ""
	}
	if n > 1 {
		what += "s"
	}
	return fmt.Sprintf("; %d %s%s", n, what, below)
}

// Steps says what to do about the device, most urgent first: replace or
// update, change the password when it leaked, close what is exposed, then
// what to read to decide what is still unknown.
func Steps(d *Device) []finding.Step {
	var out []finding.Step
	add := func(s finding.Step) {
		if s.Title == "" || slices.ContainsFunc(out, func(x finding.Step) bool { return x.Title == s.Title }) {
			return
		}
		out = append(out, s)
	}
	// Firmware first (an exploited router behind a closed door is still
	// an exploited router), then what is exposed, then the campaign, then
	// what would decide the open questions.
	var fw, campaign, unknown []finding.Finding
	for _, f := range d.Findings {
		switch {
		case f.Status == finding.StatusFail && f.CheckID == "firmware.campaign_target":
			campaign = append(campaign, f)
		case f.Status == finding.StatusFail && strings.HasPrefix(f.CheckID, "firmware."):
			fw = append(fw, f)
		case f.Status == finding.StatusUnknown && f.Remediation != "" && f.Severity >= finding.SeverityMedium:
			unknown = append(unknown, f)
		}
	}
	slices.SortStableFunc(fw, func(a, b finding.Finding) int { return int(b.Severity) - int(a.Severity) })
	for _, f := range fw {
		switch f.CheckID {
		case "firmware.cve_2023_50224_confirmed":
			add(finding.Step{Title: "Change the router's admin password now", Detail: f.Remediation})
		case "firmware.known_vulnerable":
			switch {
			case strings.HasPrefix(f.Remediation, "Replace"):
				add(finding.Step{Title: "Replace the router", Detail: f.Remediation})
			case strings.HasPrefix(f.Remediation, "Update"):
				add(finding.Step{Title: "Update the router's firmware", Detail: f.Remediation})
			default:
				add(finding.Step{Title: "Find a fixed firmware or replace the router", Detail: f.Remediation})
			}
		case "firmware.end_of_life":
			// A "Replace the router" step already says it.
			if !slices.ContainsFunc(out, func(x finding.Step) bool { return x.Title == "Replace the router" }) {
				add(finding.Step{Title: "Plan to replace the router", Detail: f.Remediation})
			}
		}
	}
	// Exposure: findings with the same advice become one step that names
	// them all ("Turn off web admin page, SSH from the Internet").
	type group struct {
		names []string
		fix   string
	}
	var groups []*group
	for _, f := range d.Failing() {
		if !strings.HasPrefix(f.CheckID, "exposure.") {
			continue
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.fix == f.Remediation })
		if i < 0 {
			groups = append(groups, &group{fix: f.Remediation})
			i = len(groups) - 1
		}
		if n := exposureName(f); !slices.Contains(groups[i].names, n) {
			groups[i].names = append(groups[i].names, n)
		}
	}
	for _, g := range groups {
		title := "Turn off " + strings.Join(g.names, ", ")
		switch {
		case len(g.names) == 1 && g.names[0] == "SNMP with a default community":
			title = "Turn off SNMP or change its community"
		case len(g.names) == 1 && g.names[0] == "an open DNS resolver":
			title = "Stop the router's DNS server resolving for anyone"
		}
		if d.Vantage == exposure.WAN {
			title += " from the Internet"
		}
		add(finding.Step{Title: title, Detail: g.fix})
	}
	for _, f := range campaign {
		add(finding.Step{Title: "Make sure the router's DNS settings were not changed", Detail: f.Remediation})
	}
	identified := firmware.Identified(d.Identity)
	for _, f := range unknown {
		if !identified && f.CheckID == "firmware.known_vulnerable" {
			continue // the identity step says the same
		}
		title := "To decide: " + f.Title
		if rest, ok := strings.CutPrefix(f.Title, "Could not tell whether "); ok {
			title = "Find out whether " + rest
		}
		switch f.CheckID {
		case "firmware.known_vulnerable":
			title = "Find out whether the router is affected"
		case "firmware.identity_unknown":
			title = "Find out the router's model"
		}
		add(finding.Step{Title: title, Detail: f.Remediation})
	}
	return out
}
