// SPDX-License-Identifier: Apache-2.0

// Package exposure judges which management and risky services a router
// exposes, from the observations the device probes made (it never dials):
// the web admin page, SSH, telnet, FTP, SNMP with a default community,
// UPnP, NAT-PMP/PCP, TR-069, MikroTik's Winbox and API, and its DNS
// server.
//
// A run is judged from a vantage. From the LAN (the owner's own network)
// the admin page, SSH, Winbox, UPnP, NAT-PMP and TR-069 are expected and
// reported as information; telnet, FTP, the plain RouterOS API and SNMP
// answering "public" or "private" fail. From the WAN (run from outside,
// `check --wan-vantage`, or an ISP's `scan`), every management service is
// remote management and fails at high severity (telnet critical), as do
// UPnP and NAT-PMP answering from the Internet.
//
// The router's DNS server is expected on the LAN (it is the network's
// resolver) and reported as information. From the WAN it fails at high
// severity only when it resolves a name it does not serve for us (an open
// resolver, dnsprobe.RecursionOf); a DNS server that answers but refuses
// to recurse (an authoritative server, a RouterOS with remote requests
// off) passes, and one whose answers prove neither (SERVFAIL, garbage)
// is unknown.
//
// TR-069 from the WAN is the one service an owner may not be able to
// switch off: ISPs run it on the routers they hand out, on purpose, so
// that their management server (ACS) can reach the router's connection-
// request port (7547). The decision: an answer that asks for
// authentication (401 with a challenge, as CPEs answer) fails at LOW
// severity with advice to ask the ISP to restrict it to its ACS, or to
// turn it off on a router the owner bought; an answer without an
// authentication challenge fails at HIGH severity (the 2016 TR-064/7547
// Mirai wave went through such ports).
//
// How a port's measurement becomes a verdict (the timeout decision):
//   - refused (TCP reset, ICMP port unreachable) is a measurement: nothing
//     listens there, from this vantage; pass, high confidence;
//   - a TCP connection attempt that times out is "filtered": nothing can
//     connect from this vantage, so it passes too, but only when the same
//     device answered on another port during the run (it is up and
//     reachable, and this port drops connections), with medium confidence;
//     when the device answered nothing at all, silence says nothing (down,
//     unreachable, or filtering everything cannot be told apart) and the
//     verdict is unknown; and when the target's deadline ran out, a
//     timeout is unknown too (the probe was cut, not answered);
//   - UDP silence is judged the same way: SSDP, NAT-PMP and SNMP with a
//     wrong community answer no by staying silent, so silence from a
//     device that answered elsewhere passes with medium confidence;
//   - a port that accepted the connection but did not speak the protocol
//     (garbage, a silent listener, a TLS handshake that hangs) is
//     reachable: it fails like an answering one, with low confidence and
//     the reason; for SNMP, whose check is about the community rather
//     than the port, garbage is unknown;
//   - a probe that returned nothing (panic, no return by the deadline,
//     out of scope) leaves its services unknown with the probe's error.
//
// Every verdict is a finding, passes included. Findings say what to switch
// off and where: per vendor where brief/CONFIGS.md documents it (legacy
// TP-Link Security → Remote Management; MikroTik /ip service), generic
// words otherwise.
package exposure

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// Vantage is where the probes ran from.
type Vantage string

// Vantages.
const (
	// LAN: from inside the network the router serves (the default).
	LAN Vantage = "lan"
	// WAN: from the Internet side (an outside machine, an ISP, a CERT).
	WAN Vantage = "wan"
)

// The checks, one literal list (STYLE.md R8). Titles say what was found
// for each status; informational LAN checks pass whether the service
// answers or not (the detail says which), so their pass title names the
// service. exposure.remote_management names the service in its title.
var (
	checkReachable = finding.Check{ID: "exposure.device_reachable", Severity: finding.SeverityInfo,
		Pass:    "Device answers the probes",
		Unknown: "Device answered on no port",
		Trigger: "never fails; unknown when the device answered on no port at all (every other verdict is then unknown too)"}
	checkWebUI = finding.Check{ID: "exposure.web_ui", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "Web admin page on the LAN",
		Unknown: "Could not tell whether the web admin page answers on the LAN",
		Trigger: "never fails: the admin page answering on the LAN is expected; reported with its ports"}
	checkSSH = finding.Check{ID: "exposure.ssh", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "SSH on the LAN",
		Unknown: "Could not tell whether SSH answers on the LAN",
		Trigger: "never fails: SSH on the LAN is expected on some routers; reported with its banner"}
	checkTelnet = finding.Check{ID: "exposure.telnet_open", Vantage: string(LAN), Severity: finding.SeverityMedium,
		Pass:    "Telnet does not answer on the LAN",
		Fail:    "Telnet answers on the LAN",
		Unknown: "Could not tell whether telnet answers on the LAN",
		Trigger: "telnet (tcp/23) accepts connections on the LAN; from the WAN it is part of exposure.remote_management (critical)"}
	checkFTP = finding.Check{ID: "exposure.ftp_open", Vantage: string(LAN), Severity: finding.SeverityLow,
		Pass:    "FTP does not answer on the LAN",
		Fail:    "FTP answers on the LAN",
		Unknown: "Could not tell whether FTP answers on the LAN",
		Trigger: "an FTP server (tcp/21) accepts connections on the LAN; from the WAN it is part of exposure.remote_management"}
	checkSNMP = finding.Check{ID: "exposure.snmp_default_community", Severity: finding.SeverityMedium,
		Pass:    "SNMP does not answer a default community",
		Fail:    "SNMP answers a default community",
		Unknown: "Could not tell whether SNMP answers a default community",
		Trigger: "the SNMP agent answers the community public (LAN medium, WAN high) or private (LAN high, WAN critical)"}
	checkUPnP = finding.Check{ID: "exposure.upnp", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "UPnP on the LAN",
		Unknown: "Could not tell whether UPnP answers on the LAN",
		Trigger: "never fails: UPnP on the LAN is a common default; reported with the IGD's port mappings"}
	checkNATPMP = finding.Check{ID: "exposure.natpmp", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "NAT-PMP/PCP on the LAN",
		Unknown: "Could not tell whether NAT-PMP/PCP answers on the LAN",
		Trigger: "never fails: NAT-PMP/PCP on the LAN is a common default"}
	checkTR069 = finding.Check{ID: "exposure.tr069", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "TR-069 connection-request port on the LAN",
		Unknown: "Could not tell whether the TR-069 connection-request port answers on the LAN",
		Trigger: "never fails on the LAN; reported with its answer"}
	checkWinbox = finding.Check{ID: "exposure.winbox_open", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "MikroTik Winbox on the LAN",
		Unknown: "Could not tell whether MikroTik Winbox answers on the LAN",
		Trigger: "never fails on the LAN (Winbox is how MikroTik routers are managed); from the WAN it is part of exposure.remote_management"}
	checkAPI = finding.Check{ID: "exposure.routeros_api", Vantage: string(LAN), Severity: finding.SeverityLow,
		Pass:    "Plain RouterOS API does not answer on the LAN",
		Fail:    "Plain RouterOS API answers on the LAN",
		Unknown: "Could not tell whether the plain RouterOS API answers on the LAN",
		Trigger: "the plain RouterOS API (tcp/8728) accepts connections on the LAN: its login carries the password unencrypted since RouterOS 6.43"}
	checkRemote = finding.Check{ID: "exposure.remote_management", Vantage: string(WAN), Severity: finding.SeverityHigh,
		Pass:    "%s does not answer from the Internet",
		Fail:    "%s answers from the Internet",
		Unknown: "Could not tell whether %s answers from the Internet",
		Trigger: "a management service (web admin page, SSH, telnet, FTP, Winbox, RouterOS API or API-SSL) accepts connections from the WAN side: high, telnet critical"}
	checkUPnPWAN = finding.Check{ID: "exposure.upnp_wan", Vantage: string(WAN), Severity: finding.SeverityHigh,
		Pass:    "UPnP does not answer from the Internet",
		Fail:    "UPnP answers from the Internet",
		Unknown: "Could not tell whether UPnP answers from the Internet",
		Trigger: "SSDP (udp/1900) answers from the WAN side"}
	checkNATPMPWAN = finding.Check{ID: "exposure.natpmp_wan", Vantage: string(WAN), Severity: finding.SeverityHigh,
		Pass:    "NAT-PMP/PCP does not answer from the Internet",
		Fail:    "NAT-PMP/PCP answers from the Internet",
		Unknown: "Could not tell whether NAT-PMP/PCP answers from the Internet",
		Trigger: "NAT-PMP or PCP (udp/5351) answers from the WAN side"}
	checkDNS = finding.Check{ID: "exposure.dns_service", Vantage: string(LAN), Severity: finding.SeverityInfo,
		Pass:    "DNS server on the router (LAN)",
		Unknown: "Could not tell whether the router answers DNS on the LAN",
		Trigger: "never fails: the router answering DNS on the LAN is how most home networks resolve names; reported with whether it recurses and its version.bind"}
	checkOpenResolver = finding.Check{ID: "exposure.open_resolver", Vantage: string(WAN), Severity: finding.SeverityHigh,
		Pass:    "No open DNS resolver on the Internet side",
		Fail:    "Open DNS resolver on the Internet side",
		Unknown: "Could not tell whether the router's DNS server resolves for the Internet",
		Trigger: "the DNS server on udp/53 resolves a name it does not serve for a client on the WAN side (an open resolver)"}
	checkTR069WAN = finding.Check{ID: "exposure.tr069_wan", Vantage: string(WAN), Severity: finding.SeverityLow,
		Pass:    "TR-069 does not answer from the Internet",
		Fail:    "TR-069 answers from the Internet",
		Unknown: "Could not tell whether TR-069 answers from the Internet",
		Trigger: "the CWMP connection-request port (tcp/7547) answers from the WAN side: low when it asks for authentication (how ISPs run it), high when it does not"}
)

// Checks lists every check, in report order.
func Checks() []finding.Check {
	return []finding.Check{checkReachable, checkWebUI, checkSSH, checkTelnet, checkFTP, checkSNMP, checkUPnP, checkNATPMP,
		checkTR069, checkWinbox, checkAPI, checkDNS, checkRemote, checkUPnPWAN, checkNATPMPWAN, checkTR069WAN, checkOpenResolver}
}

// Input is one device's measurement.
type Input struct {
	// Target is the device.
	Target probe.Target
	// Subject names the device in findings ("router 192.0.2.1 (TP-Link
	// TL-WR841N)"); empty means the address.
	Subject string
	// Vantage is where the probes ran from; empty means LAN.
	Vantage Vantage
	// Vendor is the identified vendor (any spelling), for vendor-specific
	// remediation; empty means unknown.
	Vendor string
	// Results are the probe results for the target (probe.TargetReport).
	Results []probe.Result
	// DeadlineHit is true when the target's deadline ran out before every
	// probe finished: timeouts are then unknown, not filtered.
	DeadlineHit bool
	// Now stamps the findings; zero means time.Now.
	Now time.Time
}

// Judge returns every verdict for the device, passes included.
func Judge(in Input) []finding.Finding {
	ss := Services(in.Results)
	j := &judge{in: in, ss: ss, at: in.Now, subject: in.Subject}
	if j.at.IsZero() {
		j.at = time.Now()
	}
	if j.subject == "" {
		j.subject = in.Target.Addr.String()
	}
	j.answered = HostAnswered(ss)
	j.reachable()
	if in.Vantage == WAN {
		for _, k := range []Kind{KindWeb, KindSSH, KindTelnet, KindFTP, KindWinbox, KindAPI, KindAPISSL} {
			j.remote(k)
		}
		j.snmp()
		j.offWAN(checkUPnPWAN, KindUPnP)
		j.offWAN(checkNATPMPWAN, KindNATPMP)
		j.tr069WAN()
		j.openResolver()
		return j.out
	}
	j.info(checkWebUI, KindWeb)
	j.info(checkSSH, KindSSH)
	j.off(checkTelnet, KindTelnet, checkTelnet.Severity)
	j.off(checkFTP, KindFTP, checkFTP.Severity)
	j.snmp()
	j.info(checkUPnP, KindUPnP)
	j.info(checkNATPMP, KindNATPMP)
	j.info(checkTR069, KindTR069)
	j.info(checkWinbox, KindWinbox)
	j.api()
	j.info(checkDNS, KindDNS)
	return j.out
}

// HostAnswered reports whether the device answered on any port, open or
// refusing: only then does silence elsewhere mean "filtered".
func HostAnswered(ss []Service) bool {
	for _, s := range ss {
		if s.State == StateOpen || s.State == StateClosed {
			return true
		}
	}
	return false
}

// Open returns the services that accepted connections or answered.
func Open(ss []Service) []Service {
	var out []Service
	for _, s := range ss {
		if s.State == StateOpen {
			out = append(out, s)
		}
	}
	return out
}

type judge struct {
	in       Input
	ss       []Service
	at       time.Time
	subject  string
	answered bool
	out      []finding.Finding
}

func (j *judge) of(k Kind) []Service {
	var out []Service
	for _, s := range j.ss {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

func (j *judge) add(c finding.Check, key, subject string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence) {
	j.addTitled(c, "", key, subject, st, sev, conf, detail, fix, ev)
}

// addTitled is add for a check whose title names what was found (what
// fills its %s verb).
func (j *judge) addTitled(c finding.Check, what, key, subject string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence) {
	id := c.ID + "@" + j.in.Target.Addr.String()
	if key != "" {
		id += "/" + key
	}
	f := finding.Finding{ID: id, CheckID: c.ID, Subject: subject, Status: st, Severity: sev,
		Confidence: conf, Title: c.Title(st, what), Detail: detail, Remediation: fix, Evidence: ev, ObservedAt: j.at}
	if emitted != nil {
		emitted(c, f)
	}
	j.out = append(j.out, f)
}

// emitted, when set (by the package's tests), sees every finding the
// package makes, with the check that made it.
var emitted func(finding.Check, finding.Finding)

// verdict is the outcome of "should this be off?" over one kind's ports.
type verdict struct {
	status finding.Status
	conf   finding.Confidence
	open   []Service // ports that accepted connections
	detail string
}

// decideOff applies the package's timeout decision to one kind's ports.
func (j *judge) decideOff(k Kind, ss []Service) verdict {
	var confirmed, unconfirmed, closed, quiet, unknown []Service
	for _, s := range ss {
		switch {
		case s.State == StateOpen && s.Confirmed:
			confirmed = append(confirmed, s)
		case s.State == StateOpen:
			unconfirmed = append(unconfirmed, s)
		case s.State == StateClosed:
			closed = append(closed, s)
		case (s.State == StateFiltered || s.State == StateSilent) && j.answered && !j.in.DeadlineHit:
			quiet = append(quiet, s)
		default:
			unknown = append(unknown, s)
		}
	}
	name := KindName(k)
	switch {
	case len(confirmed) > 0:
		return verdict{status: finding.StatusFail, conf: finding.ConfidenceHigh, open: append(confirmed, unconfirmed...),
			detail: fmt.Sprintf("%s answers on %s%s.", upperFirst(name), labels(confirmed), factsOf(confirmed))}
	case len(unconfirmed) > 0:
		return verdict{status: finding.StatusFail, conf: finding.ConfidenceLow, open: unconfirmed,
			detail: fmt.Sprintf("Something accepts connections on %s, the %s port, but did not answer as %s (%s); it is reachable all the same.",
				labels(unconfirmed), name, name, reasons(unconfirmed))}
	case len(ss) == 0:
		return verdict{status: finding.StatusUnknown, conf: finding.ConfidenceHigh,
			detail: fmt.Sprintf("%s was not measured: %s.", upperFirst(name), errNotMeasured)}
	case len(unknown) > 0:
		return verdict{status: finding.StatusUnknown, conf: finding.ConfidenceHigh, detail: j.unknownDetail(name, unknown)}
	case len(quiet) > 0:
		return verdict{status: finding.StatusPass, conf: finding.ConfidenceMedium,
			detail: fmt.Sprintf("No answer on %s (%s), while the device answered on other ports: not reachable from here.", labels(quiet), quiet[0].State)}
	}
	return verdict{status: finding.StatusPass, conf: finding.ConfidenceHigh,
		detail: fmt.Sprintf("Refused on %s: nothing listens there.", labels(closed))}
}

func (j *judge) unknownDetail(name string, unknown []Service) string {
	switch {
	case j.in.DeadlineHit && (unknown[0].State == StateFiltered || unknown[0].State == StateSilent):
		return fmt.Sprintf("%s could not be checked on %s: the target's deadline ran out before it answered.", upperFirst(name), labels(unknown))
	case !j.answered && (unknown[0].State == StateFiltered || unknown[0].State == StateSilent):
		return fmt.Sprintf("%s could not be checked on %s: the device answered on no port at all, so silence here does not show the port is closed.", upperFirst(name), labels(unknown))
	}
	return fmt.Sprintf("%s could not be checked on %s: %s.", upperFirst(name), labels(unknown), reasons(unknown))
}

// reachable reports whether the device answered at all.
func (j *judge) reachable() {
	var open, closed []string
	for _, s := range j.ss {
		switch s.State {
		case StateOpen:
			open = append(open, s.Label())
		case StateClosed:
			closed = append(closed, s.Label())
		}
	}
	ev := []finding.Evidence{{Key: "vantage", Value: string(j.vantage())}, {Key: "open", Value: listOr(open, "none")},
		{Key: "closed", Value: listOr(closed, "none")}}
	if j.answered {
		j.add(checkReachable, "", j.subject, finding.StatusPass, finding.SeverityInfo, finding.ConfidenceHigh,
			fmt.Sprintf("It answered on %d port(s) and refused %d.", len(open), len(closed)), "", ev)
		return
	}
	why := "It answered on no port: it is down, unreachable from here, or drops everything; these cannot be told apart, so no exposure verdict below can be a pass."
	fix := "Check the address, and that this machine can reach the device (for --wan-vantage: run from outside the network, against the router's public address)."
	if j.vantage() == WAN {
		why += " From the Internet side this is also what a router that filters every port looks like."
	}
	j.add(checkReachable, "", j.subject, finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh, why, fix, ev)
}

func (j *judge) vantage() Vantage {
	if j.in.Vantage == "" {
		return LAN
	}
	return j.in.Vantage
}

// info reports a LAN service whose presence is expected.
func (j *judge) info(c finding.Check, k Kind) {
	ss := j.of(k)
	v := j.decideOff(k, ss)
	ev := evidence(ss)
	switch v.status {
	case finding.StatusFail:
		detail := fmt.Sprintf("%s Expected on the LAN.", v.detail)
		j.add(c, "", j.subject, finding.StatusPass, finding.SeverityInfo, v.conf, detail, remedy(k, j.in.Vendor, LAN), ev)
	case finding.StatusPass:
		j.add(c, "", j.subject, finding.StatusPass, finding.SeverityInfo, v.conf, "Not reachable from the LAN. "+v.detail, "", ev)
	default:
		j.add(c, "", j.subject, finding.StatusUnknown, finding.SeverityInfo, v.conf, v.detail, "", ev)
	}
}

// off reports a service that should be off from the LAN.
func (j *judge) off(c finding.Check, k Kind, sev finding.Severity) {
	ss := j.of(k)
	v := j.decideOff(k, ss)
	fix := ""
	if v.status == finding.StatusFail {
		fix = remedy(k, j.in.Vendor, LAN)
	}
	j.add(c, "", j.subject, v.status, sev, v.conf, v.detail, fix, evidence(ss))
}

// remote reports one management service from the WAN side.
func (j *judge) remote(k Kind) {
	ss := j.of(k)
	sev := finding.SeverityHigh
	if k == KindTelnet {
		sev = finding.SeverityCritical
	}
	v := j.decideOff(k, ss)
	subject := fmt.Sprintf("%s, %s (%s)", j.subject, KindName(k), labels(ss))
	detail := v.detail
	fix := ""
	if v.status == finding.StatusFail {
		detail += " " + fromWAN + " Anyone there can try passwords and exploits against it."
		fix = remedy(k, j.in.Vendor, WAN)
	}
	what := KindName(k) // the title names the service: "Telnet answers from the Internet"
	if v.status != finding.StatusUnknown {
		what = upperFirst(what)
	}
	j.addTitled(checkRemote, what, string(k), subject, v.status, sev, v.conf, detail, fix, evidence(ss))
}

// offWAN reports a UDP service that must not answer from the WAN.
func (j *judge) offWAN(c finding.Check, k Kind) {
	ss := j.of(k)
	v := j.decideOff(k, ss)
	fix := ""
	detail := v.detail
	if v.status == finding.StatusFail {
		detail += " " + fromWAN
		fix = remedy(k, j.in.Vendor, WAN)
	}
	j.add(c, "", j.subject, v.status, c.Severity, v.conf, detail, fix, evidence(ss))
}

// snmp reports default communities, from either vantage.
func (j *judge) snmp() {
	ss := j.of(KindSNMP)
	ev := evidence(ss)
	wan := j.vantage() == WAN
	sev := finding.SeverityMedium
	if wan {
		sev = finding.SeverityHigh
	}
	var comms []string
	for _, s := range ss {
		comms = append(comms, s.Communities...)
	}
	if len(comms) > 0 {
		if slices.Contains(comms, "private") {
			sev++
		}
		detail := fmt.Sprintf("The SNMP agent on %s answers the factory-default community %s%s: anyone who can reach it reads the router's details, and \"private\" is often allowed to change them.",
			labels(ss), strings.Join(comms, " and "), factsOf(ss))
		if wan {
			detail += " " + fromWAN
		}
		j.add(checkSNMP, "", j.subject, finding.StatusFail, sev, finding.ConfidenceHigh, detail, remedy(KindSNMP, j.in.Vendor, j.vantage()), ev)
		return
	}
	v := j.decideOff(KindSNMP, ss)
	switch v.status {
	case finding.StatusFail:
		// Open but not a valid answer to our request: the community
		// question stays open.
		j.add(checkSNMP, "", j.subject, finding.StatusUnknown, sev, finding.ConfidenceHigh,
			fmt.Sprintf("Something answers on %s, but not with a valid SNMP response to our request (%s): whether a default community works cannot be told.", labels(ss), reasons(v.open)), "", ev)
	case finding.StatusPass:
		detail := "Neither public nor private got an answer. " + v.detail
		if len(ss) > 0 && ss[0].State == StateClosed {
			detail = "No SNMP agent: " + v.detail
		}
		j.add(checkSNMP, "", j.subject, finding.StatusPass, sev, v.conf, detail, "", ev)
	default:
		j.add(checkSNMP, "", j.subject, finding.StatusUnknown, sev, v.conf, v.detail, "", ev)
	}
}

// api reports the plain RouterOS API on the LAN (API-SSL is fine).
func (j *judge) api() {
	ss := j.of(KindAPI)
	v := j.decideOff(KindAPI, ss)
	ev := append(evidence(ss), evidence(j.of(KindAPISSL))...)
	fix := ""
	detail := v.detail
	if v.status == finding.StatusFail {
		fix = remedy(KindAPI, j.in.Vendor, LAN)
		detail += " Since RouterOS 6.43 its login sends the password unencrypted (API-SSL, tcp/8729, does not)."
	}
	j.add(checkAPI, "", j.subject, v.status, checkAPI.Severity, v.conf, detail, fix, ev)
}

// tr069WAN applies the package's TR-069 decision.
func (j *judge) tr069WAN() {
	ss := j.of(KindTR069)
	v := j.decideOff(KindTR069, ss)
	ev := evidence(ss)
	if v.status != finding.StatusFail {
		j.add(checkTR069WAN, "", j.subject, v.status, checkTR069WAN.Severity, v.conf, v.detail, "", ev)
		return
	}
	auth := false
	for _, s := range v.open {
		auth = auth || s.Authenticates
	}
	if v.conf == finding.ConfidenceHigh && !auth {
		j.add(checkTR069WAN, "", j.subject, finding.StatusFail, finding.SeverityHigh, finding.ConfidenceHigh,
			v.detail+" "+fromWAN+" It did not ask for authentication: anyone can send it connection requests.",
			remedy(KindTR069, j.in.Vendor, WAN), ev)
		return
	}
	detail := v.detail + " " + fromWAN
	if auth {
		detail += " It asks for authentication, which is how ISPs run TR-069 on the routers they manage."
	}
	j.add(checkTR069WAN, "", j.subject, finding.StatusFail, finding.SeverityLow, v.conf, detail, tr069AuthRemedy, ev)
}

// openResolver reports whether the router's DNS server resolves for the
// WAN side: only a recursive answer fails; a port that answers without
// showing either way is unknown.
func (j *judge) openResolver() {
	ss := j.of(KindDNS)
	v := j.decideOff(KindDNS, ss)
	ev := evidence(ss)
	c := checkOpenResolver
	if v.status != finding.StatusFail {
		j.add(c, "", j.subject, v.status, c.Severity, v.conf, v.detail, "", ev)
		return
	}
	var confirmed *Service
	for i := range v.open {
		if v.open[i].Confirmed {
			confirmed = &v.open[i]
		}
	}
	if confirmed == nil {
		j.add(c, "", j.subject, finding.StatusUnknown, c.Severity, finding.ConfidenceHigh,
			fmt.Sprintf("Something answers on %s, but not with a valid DNS reply (%s): whether it resolves for anyone cannot be told.", labels(v.open), reasons(v.open)), "", ev)
		return
	}
	where := confirmed.Label()
	switch confirmed.Recursion {
	case string(dnsprobe.RecursionYes):
		j.add(c, "", j.subject, finding.StatusFail, c.Severity, finding.ConfidenceHigh,
			fmt.Sprintf("The DNS server on %s resolves names for anyone: it %s. %s Open resolvers are used to amplify denial-of-service attacks against others, and anyone can use this one to look up names as the router sees them.",
				where, lowerFirst(confirmed.RecursionWhy), fromWAN), remedy(KindDNS, j.in.Vendor, WAN), ev)
	case string(dnsprobe.RecursionNo):
		j.add(c, "", j.subject, finding.StatusPass, c.Severity, finding.ConfidenceHigh,
			fmt.Sprintf("A DNS server answers on %s from the Internet side but does not resolve for others: %s.", where, confirmed.RecursionWhy), "", ev)
	default:
		j.add(c, "", j.subject, finding.StatusUnknown, c.Severity, finding.ConfidenceHigh,
			fmt.Sprintf("A DNS server answers on %s from the Internet side, but its answer shows neither that it resolves for anyone nor that it refuses: %s.", where, confirmed.RecursionWhy), "", ev)
	}
}

// lowerFirst lowercases a leading capital ("REFUSED" stays).
func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && (s[1] < 'A' || s[1] > 'Z') {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// fromWAN is appended to the detail of a failing WAN-side finding.
const fromWAN = "This was seen from the Internet side."

// upperFirst capitalizes the first letter ("web admin page" starts a
// sentence as "Web admin page").
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func evidence(ss []Service) []finding.Evidence {
	var ev []finding.Evidence
	for _, s := range ss {
		v := string(s.State)
		if s.State == StateOpen && !s.Confirmed && s.Kind != KindWinbox {
			v += ", did not speak " + KindName(s.Kind)
		}
		if s.Reason != "" && s.State != StateOpen {
			v += " (" + s.Reason + ")"
		}
		if len(s.Communities) > 0 {
			v += "; communities answered: " + strings.Join(s.Communities, ", ")
		}
		for _, f := range s.Facts {
			v += "; " + f
		}
		ev = append(ev, finding.Evidence{Key: KindName(s.Kind) + " " + s.Label(), Value: v})
	}
	return ev
}

func labels(ss []Service) string {
	var out []string
	for _, s := range ss {
		if s.Port != 0 {
			out = append(out, s.Label())
		}
	}
	return listOr(out, "its port")
}

func reasons(ss []Service) string {
	var out []string
	for _, s := range ss {
		r := s.Reason
		if r == "" {
			r = string(s.State)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}

func factsOf(ss []Service) string {
	var out []string
	for _, s := range ss {
		for _, f := range s.Facts {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, "; ") + ")"
}

func listOr(ss []string, none string) string {
	if len(ss) == 0 {
		return none
	}
	return strings.Join(ss, ", ")
}
