// SPDX-License-Identifier: Apache-2.0

// Package hardening judges a router's own settings (device.Config, read
// with the owner's credentials or from a backup) against the vendors'
// advice after the 2025-2026 campaign and the owner's policy: the
// resolvers DHCP hands out and the router uses must be the owner's,
// remote management off, telnet, UPnP and WPS off, no default admin name,
// firmware at or above the fixed build. It also grades each change
// between two configurations (Grade): what changed, how much it matters,
// and why, in words.
//
// The contract: pure (no I/O); every check gives a finding, passes
// included; a setting the adapter could not read gives an unknown finding
// with where it looked, never a pass. Known-bad and public-resolver
// lookups come in as functions, so that this family does not import
// another (check/dnshijack owns those lists).
package hardening

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// The checks, one literal list (STYLE.md R8).
var (
	checkDHCPDNS = finding.Check{ID: "config.dhcp_dns_not_allowed", Severity: finding.SeverityHigh,
		Pass:    "DHCP hands out only your resolvers",
		Fail:    "DHCP hands out a resolver that is not yours",
		Unknown: "Could not tell whether the resolvers DHCP hands out are yours",
		Trigger: "the router's DHCP server hands out a resolver outside the allowed list (the router itself, your configured resolvers, the baseline's, well-known public resolvers): high; critical when it is a published attacker address"}
	checkWANDNS = finding.Check{ID: "config.wan_dns_not_allowed", Severity: finding.SeverityHigh,
		Pass:    "The router uses the ISP's or your own resolvers",
		Fail:    "The router itself uses a resolver that is not yours",
		Unknown: "Could not tell which resolvers the router itself uses",
		Trigger: "the WAN DNS is set by hand to a resolver outside the allowed list: high; critical when it is a published attacker address"}
	checkRemote = finding.Check{ID: "config.remote_management", Severity: finding.SeverityHigh,
		Pass:    "Remote management is off",
		Fail:    "Remote management is on: %s",
		Unknown: "Could not tell whether remote management is on",
		Trigger: "a management service (web admin page, SSH, telnet, Winbox, RouterOS API) accepts connections from the Internet side in the router's settings"}
	checkTelnet = finding.Check{ID: "config.telnet_on", Severity: finding.SeverityMedium,
		Pass:    "Telnet is off in the settings",
		Fail:    "Telnet is on in the settings",
		Unknown: "Could not tell whether telnet is on",
		Trigger: "the router's settings enable its telnet server (login in clear text)"}
	checkUPnP = finding.Check{ID: "config.upnp_on", Severity: finding.SeverityLow,
		Pass:    "UPnP is off",
		Fail:    "UPnP is on",
		Unknown: "Could not tell whether UPnP is on",
		Trigger: "UPnP IGD is enabled: any program on the LAN can open ports to the Internet (vendors advise turning unneeded services off)"}
	checkWPS = finding.Check{ID: "config.wps_on", Severity: finding.SeverityMedium,
		Pass:    "WPS is off",
		Fail:    "WPS is on",
		Unknown: "Could not tell whether WPS is on",
		Trigger: "Wi-Fi Protected Setup is enabled (its PIN can be brute-forced)"}
	checkAdmin = finding.Check{ID: "config.default_admin_name", Severity: finding.SeverityLow,
		Pass:    "No admin account has a default name",
		Fail:    "An admin account has the default name %s",
		Unknown: "Could not read the admin account names",
		Trigger: "an administrator account is named admin or root (the name half of a default login)"}
	checkFirmware = finding.Check{ID: "config.firmware_outdated", Severity: finding.SeverityHigh,
		Pass:    "The firmware is not older than any fixed build",
		Fail:    "The firmware %s is older than the fixed build",
		Unknown: "Could not tell whether the firmware is older than a fixed build",
		Trigger: "an advisory says the model's firmware build shown in its settings is affected and names a fixed build"}
)

// Checks lists every check, in report order.
func Checks() []finding.Check {
	return []finding.Check{checkDHCPDNS, checkWANDNS, checkRemote, checkTelnet, checkUPnP, checkWPS, checkAdmin, checkFirmware}
}

// Policy is what the owner allows, and what the lists say about an
// address.
type Policy struct {
	// AllowedResolvers are the resolvers the owner uses on purpose.
	AllowedResolvers []netip.Addr
	// Baseline, when set, is the configuration the owner accepted: its
	// resolvers count as allowed.
	Baseline *device.Config
	// KnownBad says whether an address is a published attacker address,
	// with the words that say which ("Lumen FrostArmada resolver").
	KnownBad func(netip.Addr) (string, bool)
	// PublicResolver names a well-known public resolver ("Cloudflare").
	PublicResolver func(netip.Addr) (string, bool)
}

// allowed says why a is allowed, or "" when it is not.
func (p *Policy) allowed(a netip.Addr, cfg *device.Config) string {
	switch {
	case cfg.LAN.Known && cfg.LAN.Value.Addr() == a:
		return "the router itself"
	case slices.Contains(p.AllowedResolvers, a):
		return "in your allowed resolvers"
	case p.Baseline != nil && (slices.Contains(p.Baseline.DHCPDNS.Value, a) || slices.Contains(p.Baseline.WANDNS.Value, a)):
		return "in your baseline"
	}
	if p.PublicResolver != nil {
		if name, ok := p.PublicResolver(a); ok {
			return "a well-known public resolver (" + name + ")"
		}
	}
	return ""
}

// hasList reports whether the policy can say "not yours" at all: an
// allow-list or a baseline.
func (p *Policy) hasList() bool { return len(p.AllowedResolvers) > 0 || p.Baseline != nil }

// Input is one router's settings to judge.
type Input struct {
	// Key names the device in finding IDs (its address or label).
	Key string
	// Subject names it in findings ("router 192.168.0.1").
	Subject string
	Config  *device.Config
	Policy  Policy
	// Index is the advisory data, for the firmware check; nil leaves it
	// unknown.
	Index *advisory.Index
	// Now stamps the findings; zero means time.Now.
	Now time.Time
}

// Judge returns every finding for in.
func Judge(in Input) []finding.Finding {
	e := &emitter{in: in, at: in.Now}
	if e.at.IsZero() {
		e.at = time.Now()
	}
	c := in.Config
	e.resolvers(checkDHCPDNS, "DHCP", c.DHCPDNS, false)
	if c.WANDNSAuto.Known && c.WANDNSAuto.Value {
		e.add(checkWANDNS, "", finding.StatusPass, finding.SeverityHigh, finding.ConfidenceHigh,
			"The router takes its resolvers from the ISP (automatic)"+orNone(c.WANDNS)+".", "", srcEv("wan_dns_automatic", c.WANDNSAuto.Source))
	} else {
		e.resolvers(checkWANDNS, "WAN", c.WANDNS, true)
	}
	e.remote()
	e.service(checkTelnet, device.ServiceTelnet, "Turn telnet off in the router's settings; use the web page or SSH.")
	e.service(checkUPnP, device.ServiceUPnP, "Turn UPnP off in the router's settings unless a program you rely on needs it.")
	e.service(checkWPS, device.ServiceWPS, "Turn WPS off in the router's wireless settings.")
	e.admins()
	e.firmware()
	return e.out
}

type emitter struct {
	in  Input
	at  time.Time
	out []finding.Finding
}

// emitted, when set (by the package's tests), sees every finding.
var emitted func(finding.Check, finding.Finding)

func (e *emitter) add(c finding.Check, what string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence) {
	f := finding.Finding{ID: c.ID + "@" + e.in.Key, CheckID: c.ID, Subject: e.in.Subject, Status: st, Severity: sev,
		Confidence: conf, Title: c.Title(st, what), Detail: detail, Remediation: fix, Evidence: ev, ObservedAt: e.at}
	if emitted != nil {
		emitted(c, f)
	}
	e.out = append(e.out, f)
}

// srcEv is the evidence of where a value was read.
func srcEv(field string, s device.Source) []finding.Evidence {
	v := s.Adapter + ": " + s.Where
	if s.Note != "" {
		v += " (" + s.Note + ")"
	}
	return []finding.Evidence{{Key: "read_from", Value: field + " ← " + v}}
}

func unknownDetail(what string, s device.Source) string {
	d := what + " could not be read"
	if s.Adapter != "" {
		d += " (" + s.Adapter + ", " + s.Where
		if s.Note != "" {
			d += ": " + s.Note
		}
		d += ")"
	}
	return d + "; unknown is not off."
}

func orNone(f device.Field[[]netip.Addr]) string {
	if !f.Known || len(f.Value) == 0 {
		return ""
	}
	return ": " + addrs(f.Value)
}

func addrs(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// resolvers judges a resolver list (DHCP or WAN).
func (e *emitter) resolvers(c finding.Check, which string, f device.Field[[]netip.Addr], wan bool) {
	p := &e.in.Policy
	field := strings.ToLower(which) + "_dns"
	if !f.Known {
		e.add(c, "", finding.StatusUnknown, c.Severity, finding.ConfidenceHigh, unknownDetail(which+" DNS", f.Source), "", srcEv(field, f.Source))
		return
	}
	ev := srcEv(field, f.Source)
	var bad, unjudged []string
	sev, conf := c.Severity, finding.ConfidenceHigh
	for i, a := range f.Value {
		role := [...]string{"primary", "secondary"}[min(i, 1)]
		if i > 1 {
			role = fmt.Sprintf("%dth", i+1)
		}
		if label, ok := lookup(p.KnownBad, a); ok {
			bad = append(bad, fmt.Sprintf("%s %s is a published attacker address (%s)", role, a, label))
			sev = finding.SeverityCritical
			ev = append(ev, finding.Evidence{Key: "known_bad", Value: a.String() + ": " + label})
			continue
		}
		why := p.allowed(a, e.in.Config)
		switch {
		case why != "":
			ev = append(ev, finding.Evidence{Key: role, Value: a.String() + " (" + why + ")"})
		case p.hasList():
			bad = append(bad, fmt.Sprintf("%s %s is not in your allowed resolvers", role, a))
			ev = append(ev, finding.Evidence{Key: role, Value: a.String() + " (not allowed)"})
		default:
			unjudged = append(unjudged, a.String())
			ev = append(ev, finding.Evidence{Key: role, Value: a.String()})
		}
	}
	fix := "Set the router's " + which + " DNS back to your resolvers (routerwatch fix shows the exact change); then change the router's admin password, as whoever changed it knew it."
	switch {
	case len(bad) > 0:
		e.add(c, "", finding.StatusFail, sev, conf, strings.Join(bad, "; ")+".", fix, ev)
	case len(unjudged) > 0:
		e.add(c, "", finding.StatusUnknown, c.Severity, finding.ConfidenceMedium,
			"No allowed resolvers are configured and no baseline was taken, so "+strings.Join(unjudged, ", ")+" cannot be told apart from an attacker's.",
			"Take a baseline when you know the settings are right (routerwatch config baseline), or list your resolvers under policy.allowed_resolvers in the configuration.", ev)
	default:
		d := "Every resolver " + which + " names is allowed"
		if len(f.Value) == 0 {
			d = "The " + which + " DNS list is empty"
		}
		e.add(c, "", finding.StatusPass, c.Severity, conf, d+".", "", ev)
	}
}

func lookup(fn func(netip.Addr) (string, bool), a netip.Addr) (string, bool) {
	if fn == nil {
		return "", false
	}
	return fn(a)
}

// managementServices are the services remote management is about: a
// way to log in to the router (UPnP or WPS from the WAN side are judged
// by their own checks).
var managementServices = []string{device.ServiceWeb, device.ServiceWebTLS, device.ServiceSSH, device.ServiceTelnet,
	device.ServiceFTP, device.ServiceWinbox, device.ServiceAPI, device.ServiceAPISSL}

// remote judges every management service reachable from the WAN side.
func (e *emitter) remote() {
	var on, unknown []string
	var ev []finding.Evidence
	var names []string
	for _, n := range managementServices {
		if _, ok := e.in.Config.Services[n]; ok {
			names = append(names, n)
		}
	}
	for _, n := range names {
		s := e.in.Config.Services[n]
		switch {
		case s.Enabled.Known && !s.Enabled.Value:
			continue // off altogether
		case !s.WAN.Known:
			unknown = append(unknown, n)
		case s.WAN.Value:
			w := n
			if s.Port.Known {
				w += fmt.Sprintf(" on port %d", s.Port.Value)
			}
			if s.Allowed.Known {
				if len(s.Allowed.Value) == 0 {
					w += " from anyone"
				} else {
					w += " from " + prefixes(s.Allowed.Value)
				}
			}
			on = append(on, w)
			ev = append(ev, srcEv("services."+n+".wan", s.WAN.Source)...)
		}
	}
	switch {
	case len(on) > 0:
		e.add(checkRemote, strings.Join(on, "; "), finding.StatusFail, checkRemote.Severity, finding.ConfidenceHigh,
			"The router's settings let "+strings.Join(on, "; ")+" be reached from the Internet side.",
			"Turn remote management off (TP-Link: Security → Remote Management, IP 0.0.0.0; MikroTik: /ip service set address= to your LAN; OpenWrt: no firewall rule from wan to the admin ports), or routerwatch fix --apply.", ev)
	case len(unknown) > 0 || len(names) == 0:
		e.add(checkRemote, "", finding.StatusUnknown, checkRemote.Severity, finding.ConfidenceHigh,
			"Whether these services can be reached from the Internet side could not be read: "+strings.Join(unknown, ", ")+"; unknown is not off.", "", ev)
	default:
		e.add(checkRemote, "", finding.StatusPass, checkRemote.Severity, finding.ConfidenceHigh,
			"No management service is open to the Internet side in the settings.", "", ev)
	}
}

func prefixes(ps []netip.Prefix) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ", ")
}

// service judges one on/off service.
func (e *emitter) service(c finding.Check, name, fix string) {
	s := e.in.Config.Service(name)
	switch {
	case !s.Enabled.Known:
		e.add(c, "", finding.StatusUnknown, c.Severity, finding.ConfidenceHigh, unknownDetail(name, s.Enabled.Source), "", srcEv("services."+name+".enabled", s.Enabled.Source))
	case s.Enabled.Value:
		e.add(c, "", finding.StatusFail, c.Severity, finding.ConfidenceHigh, "The router's settings turn "+name+" on.", fix, srcEv("services."+name+".enabled", s.Enabled.Source))
	default:
		e.add(c, "", finding.StatusPass, c.Severity, finding.ConfidenceHigh, "The router's settings turn "+name+" off.", "", srcEv("services."+name+".enabled", s.Enabled.Source))
	}
}

// defaultAdmins are the names a default login uses.
var defaultAdmins = []string{"admin", "root"}

func (e *emitter) admins() {
	f := e.in.Config.Admins
	if !f.Known {
		e.add(checkAdmin, "", finding.StatusUnknown, checkAdmin.Severity, finding.ConfidenceHigh, unknownDetail("The admin accounts", f.Source), "", srcEv("admins", f.Source))
		return
	}
	for _, n := range f.Value {
		if slices.Contains(defaultAdmins, strings.ToLower(n)) {
			e.add(checkAdmin, n, finding.StatusFail, checkAdmin.Severity, finding.ConfidenceHigh,
				"The account "+n+" has a default name: an attacker guessing a default login needs only the password.",
				"Create an admin account with another name and remove "+n+" where the router allows it (legacy TP-Link: System Tools → Password changes the name too).", srcEv("admins", f.Source))
			return
		}
	}
	e.add(checkAdmin, "", finding.StatusPass, checkAdmin.Severity, finding.ConfidenceHigh, "Admin accounts: "+strings.Join(f.Value, ", ")+".", "", srcEv("admins", f.Source))
}

func (e *emitter) firmware() {
	id := e.in.Config.Identity
	if !id.Model.Known || !id.Firmware.Known || e.in.Index == nil {
		what := "the model or firmware build"
		if e.in.Index == nil {
			what = "the advisory data"
		}
		e.add(checkFirmware, "", finding.StatusUnknown, checkFirmware.Severity, finding.ConfidenceHigh, "Without "+what+", no fixed build can be compared.", "", nil)
		return
	}
	aid := advisory.Identity{Vendor: id.Vendor.Value, Model: id.Model.Value, HWRev: id.Hardware.Value, Region: id.Region.Value, Firmware: id.Firmware.Value}
	a := advisory.Assess(e.in.Index, aid)
	ev := srcEv("identity.firmware", id.Firmware.Source)
	var older, undecided []string
	for _, m := range a.Matches {
		switch {
		case m.Status == advisory.StatusAffected && m.FixedIn != "":
			older = append(older, fmt.Sprintf("%s fixed in %s", m.CVE(), m.FixedIn))
		case m.Status == advisory.StatusUnknown && m.FixedIn != "":
			undecided = append(undecided, fmt.Sprintf("%s fixed in %s (%s)", m.CVE(), m.FixedIn, m.Explain()))
		}
	}
	switch {
	case len(older) > 0:
		e.add(checkFirmware, id.Firmware.Value, finding.StatusFail, checkFirmware.Severity, finding.ConfidenceHigh,
			aid.DisplayName()+" runs "+id.Firmware.Value+": "+strings.Join(older, "; ")+".",
			"Install the vendor's latest firmware for this hardware version (routerwatch never touches firmware).", ev)
	case len(undecided) > 0:
		e.add(checkFirmware, "", finding.StatusUnknown, checkFirmware.Severity, finding.ConfidenceMedium,
			aid.DisplayName()+" runs "+id.Firmware.Value+"; whether it is older than the fixed build depends on a detail the settings do not show: "+strings.Join(undecided, "; ")+".",
			"Compare with the label under the router (hardware version and region), then routerwatch lookup MODEL --hw V --region R --fw BUILD.", ev)
	default:
		e.add(checkFirmware, "", finding.StatusPass, checkFirmware.Severity, finding.ConfidenceHigh,
			aid.DisplayName()+" runs "+id.Firmware.Value+": no advisory names a newer fixed build (end of life and unfixed flaws are judged by the firmware checks).", "", ev)
	}
}
