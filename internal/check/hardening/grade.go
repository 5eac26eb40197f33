// SPDX-License-Identifier: Apache-2.0

package hardening

import (
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// Graded is one change with how much it matters and why.
type Graded struct {
	device.Change
	Severity finding.Severity `json:"severity"`
	// Why says what makes it matter ("not in your allowed resolvers; a
	// published attacker address (…)"); empty for a plain change.
	Why string `json:"why,omitempty"`
}

// Sentence is the change in words, with why it matters: "DHCP DNS
// primary changed from 192.168.0.1 to 203.0.113.7 — not in your allowed
// resolvers; a published attacker address (…)".
func (g Graded) Sentence() string {
	if g.Why == "" {
		return g.Change.Sentence()
	}
	return g.Change.Sentence() + " — " + g.Why
}

// Grade says how much each change matters under the policy: a resolver
// change by where the new resolver stands (critical for a known attacker
// address, high when not allowed), remote management and new admins
// high, services turned on medium, new port forwards and a DMZ medium,
// identity changes informative, settings that could no longer be read
// low (a router that hides what it showed before may hide a change).
func Grade(changes []device.Change, cfg *device.Config, p Policy) []Graded {
	out := make([]Graded, 0, len(changes))
	for _, c := range changes {
		g := Graded{Change: c, Severity: finding.SeverityLow}
		switch {
		case c.Kind == device.NowUnknown:
			g.Severity, g.Why = finding.SeverityLow, "the router no longer shows it"
		case c.Kind == device.NowKnown:
			g.Severity = finding.SeverityInfo
		case strings.HasPrefix(c.Path, "dhcp_dns[") || strings.HasPrefix(c.Path, "wan_dns["):
			g.Severity, g.Why = gradeResolver(c, cfg, &p)
		case strings.HasSuffix(c.Path, ".wan") && c.New == "on":
			g.Severity, g.Why = finding.SeverityHigh, "reachable from the Internet"
		case strings.HasSuffix(c.Path, ".allowed"):
			g.Severity = finding.SeverityMedium
		case strings.HasSuffix(c.Path, ".enabled") && c.New == "on":
			g.Severity = finding.SeverityMedium
		case strings.HasPrefix(c.Path, "admins[") && c.Kind == device.Added:
			g.Severity, g.Why = finding.SeverityHigh, "a new administrator"
		case strings.HasPrefix(c.Path, "port_forwards[") && c.Kind != device.Removed,
			c.Path == "dmz" && c.New != "none":
			g.Severity, g.Why = finding.SeverityMedium, "opens a LAN host to the Internet"
		case c.Path == "wan_dns_automatic" && c.New == "off":
			g.Severity, g.Why = finding.SeverityMedium, "the router's own resolvers are now set by hand"
		case c.Path == "dhcp_enabled", strings.HasPrefix(c.Path, "snmp_communities"), strings.HasPrefix(c.Path, "local_management"):
			g.Severity = finding.SeverityMedium
		case strings.HasPrefix(c.Path, "identity."):
			g.Severity = finding.SeverityInfo
		}
		out = append(out, g)
	}
	return out
}

// gradeResolver grades a resolver list change by where the new resolver
// stands.
func gradeResolver(c device.Change, cfg *device.Config, p *Policy) (finding.Severity, string) {
	if c.Kind == device.Removed {
		return finding.SeverityLow, ""
	}
	a := c.NewAddr
	var why []string
	sev := finding.SeverityMedium
	switch reason := p.allowed(a, cfg); {
	case reason != "":
		why = append(why, reason)
		sev = finding.SeverityLow
	case p.hasList():
		why = append(why, "not in your allowed resolvers")
		sev = finding.SeverityHigh
	}
	if label, ok := lookup(p.KnownBad, a); ok {
		why = append(why, "a published attacker address ("+label+")")
		sev = finding.SeverityCritical
	}
	return sev, strings.Join(why, "; ")
}
