// SPDX-License-Identifier: Apache-2.0

package exposure

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
)

// Kind names a service the checks judge.
type Kind string

// Service kinds. Each is measured by one probe; a kind may have several
// ports (the web UI on 80, 8080, 443 and 8443).
const (
	KindWeb    Kind = "web"     // management web UI (httpprobe)
	KindSSH    Kind = "ssh"     // bannerprobe
	KindTelnet Kind = "telnet"  // bannerprobe
	KindFTP    Kind = "ftp"     // bannerprobe
	KindSNMP   Kind = "snmp"    // snmpprobe (UDP)
	KindUPnP   Kind = "upnp"    // upnpprobe SSDP (UDP)
	KindNATPMP Kind = "natpmp"  // upnpprobe NAT-PMP and PCP (UDP 5351)
	KindTR069  Kind = "tr069"   // tr069probe
	KindWinbox Kind = "winbox"  // mikrotikprobe
	KindAPI    Kind = "api"     // mikrotikprobe, RouterOS API (plain)
	KindAPISSL Kind = "api-ssl" // mikrotikprobe, RouterOS API over TLS
	KindDNS    Kind = "dns"     // dnsprobe's device probe (UDP 53)
)

// kindNames are the words reports use.
var kindNames = map[Kind]string{
	KindWeb: "web admin page", KindSSH: "SSH", KindTelnet: "telnet", KindFTP: "FTP", KindSNMP: "SNMP",
	KindUPnP: "UPnP", KindNATPMP: "NAT-PMP/PCP", KindTR069: "TR-069 (CWMP)", KindWinbox: "MikroTik Winbox",
	KindAPI: "RouterOS API", KindAPISSL: "RouterOS API-SSL", KindDNS: "DNS server",
}

// Name returns the kind in words ("MikroTik Winbox").
func (k Kind) Name() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return string(k)
}

// State is what one port did when the probe reached for it.
type State string

// States. Closed and Filtered are measurements of absence; Unknown is
// none at all.
const (
	// StateOpen: a TCP connection was made, or something came back over
	// UDP. Service.Confirmed says whether it spoke the protocol.
	StateOpen State = "open"
	// StateClosed: refused (TCP reset, ICMP port unreachable). Nothing
	// listens there, from this vantage.
	StateClosed State = "closed"
	// StateFiltered: a TCP connection attempt got no answer at all.
	StateFiltered State = "filtered"
	// StateSilent: a UDP request got no answer. For SNMP with a wrong
	// community, and for SSDP and NAT-PMP, silence is how a service says
	// no; it is also what a firewall looks like.
	StateSilent State = "silent"
	// StateUnknown: not measured (the probe did not run, panicked, ran
	// out of time, or the address was out of scope). Reason says why.
	StateUnknown State = "unknown"
)

// Service is one port of one kind, as measured.
type Service struct {
	Kind  Kind   `json:"kind"`
	Proto string `json:"proto"` // "tcp" or "udp"
	Port  uint16 `json:"port"`
	State State  `json:"state"`
	// Confirmed is true when the port spoke the service's protocol (an
	// HTTP answer, an SSH identification, an SNMP response...). Winbox is
	// confirmed by an open port alone: that is all mikrotikprobe asks.
	Confirmed bool `json:"confirmed"`
	// Status is the exchange's classification (netx.Status).
	Status netx.Status `json:"status,omitempty"`
	// Reason is why the state is what it is, for unknown and unconfirmed
	// ports ("timeout: …").
	Reason string `json:"reason,omitempty"`
	// Facts are small details for evidence ("HTTP 401", "realm …",
	// "community public answered"). Never secrets.
	Facts []string `json:"facts,omitempty"`
	// Authenticates is true when the answer asked for credentials (HTTP
	// 401 with a challenge): used by the TR-069 judgement.
	Authenticates bool `json:"authenticates,omitempty"`
	// Communities are the default SNMP communities that answered.
	Communities []string `json:"communities,omitempty"`
	// Recursion is, for DNS, whether the server resolved a name it does
	// not serve for us (dnsprobe.RecursionOf), and RecursionWhy what
	// decided it.
	Recursion    dnsprobe.Recursion `json:"recursion,omitempty"`
	RecursionWhy string             `json:"recursion_why,omitempty"`
}

// Label is "tcp/8291".
func (s Service) Label() string { return fmt.Sprintf("%s/%d", s.Proto, s.Port) }

// Services extracts every measured port from a target's probe results, in
// a stable order (kind, then port). Probes that returned no observation
// (probe.None: panic, deadline, out of scope) contribute their kinds as
// unknown, with the probe's error as the reason.
func Services(results []probe.Result) []Service {
	var out []Service
	for _, r := range results {
		switch o := r.Observation.(type) {
		case *httpprobe.Observation:
			out = append(out, webServices(o)...)
		case *bannerprobe.Observation:
			out = append(out, bannerServices(o)...)
		case *snmpprobe.Observation:
			out = append(out, snmpService(o))
		case *upnpprobe.Observation:
			out = append(out, upnpServices(o)...)
		case *tr069probe.Observation:
			out = append(out, tr069Services(o)...)
		case *mikrotikprobe.Observation:
			out = append(out, mikrotikServices(o)...)
		case *dnsprobe.Observation:
			out = append(out, dnsService(o))
		default:
			out = append(out, unmeasured(r)...)
		}
	}
	slices.SortStableFunc(out, func(a, b Service) int {
		if c := cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return out
}

var kindList = []Kind{KindWeb, KindSSH, KindTelnet, KindFTP, KindSNMP, KindUPnP, KindNATPMP, KindTR069, KindWinbox, KindAPI, KindAPISSL, KindDNS}

func kindOrder(k Kind) int { return slices.Index(kindList, k) }

// probeKinds says which kinds a probe measures, for probes that returned
// nothing.
var probeKinds = map[string][]Kind{
	httpprobe.ID:     {KindWeb},
	bannerprobe.ID:   {KindSSH, KindTelnet, KindFTP},
	snmpprobe.ID:     {KindSNMP},
	upnpprobe.ID:     {KindUPnP, KindNATPMP},
	tr069probe.ID:    {KindTR069},
	mikrotikprobe.ID: {KindWinbox, KindAPI, KindAPISSL},
	dnsprobe.ID:      {KindDNS},
}

func unmeasured(r probe.Result) []Service {
	reason := "the probe did not run"
	if r.Err != nil {
		reason = r.Err.Error()
	}
	var out []Service
	for _, k := range probeKinds[r.ProbeID] {
		out = append(out, Service{Kind: k, Proto: protoOf(k), State: StateUnknown, Status: r.Status, Reason: reason})
	}
	return out
}

func protoOf(k Kind) string {
	switch k {
	case KindSNMP, KindUPnP, KindNATPMP, KindDNS:
		return "udp"
	}
	return "tcp"
}

// tcpState turns a TCP exchange into a state.
func tcpState(x probe.Exchange) (State, string) {
	if x.Open {
		return StateOpen, reasonOf(x)
	}
	switch x.Status {
	case netx.StatusRefused:
		return StateClosed, ""
	case netx.StatusTimeout:
		return StateFiltered, reasonOf(x)
	case "":
		return StateUnknown, "not measured"
	}
	// Unreachable, out of scope, canceled, too large before connecting,
	// errors: no statement about the port.
	return StateUnknown, reasonOf(x)
}

// udpState turns a UDP request/response exchange into a state; answered
// says whether a well-formed answer came.
func udpState(x probe.Exchange, answered bool) (State, string) {
	switch {
	case answered, x.Open:
		return StateOpen, reasonOf(x)
	case x.Status == netx.StatusRefused:
		return StateClosed, ""
	case x.Status == netx.StatusTimeout:
		return StateSilent, ""
	case x.Status == "":
		return StateUnknown, "not measured"
	}
	return StateUnknown, reasonOf(x)
}

func reasonOf(x probe.Exchange) string {
	if x.Status == netx.StatusOK || x.Status == "" {
		return ""
	}
	if x.Error == "" {
		return string(x.Status)
	}
	return string(x.Status) + ": " + x.Error
}

func webServices(o *httpprobe.Observation) []Service {
	var out []Service
	for _, ep := range o.Endpoints {
		st, why := tcpState(ep.Exchange)
		s := Service{Kind: KindWeb, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why,
			Confirmed: ep.Response != nil}
		if r := ep.Response; r != nil {
			s.Facts = append(s.Facts, fmt.Sprintf("%s HTTP %d", ep.Scheme, r.StatusCode))
			if r.Server != "" {
				s.Facts = append(s.Facts, "Server: "+r.Server)
			}
			if realm := r.Realm(); realm != "" {
				s.Facts = append(s.Facts, "realm: "+realm)
			}
			if r.Title != "" {
				s.Facts = append(s.Facts, "title: "+r.Title)
			}
		}
		out = append(out, s)
	}
	return out
}

func bannerServices(o *bannerprobe.Observation) []Service {
	var out []Service
	for _, ep := range o.Endpoints {
		var k Kind
		confirmed := false
		switch ep.Service {
		case bannerprobe.ServiceSSH:
			k, confirmed = KindSSH, ep.SSH != nil
		case bannerprobe.ServiceTelnet:
			// Telnet has no greeting to check: option negotiation, a
			// login prompt or a text banner is the service talking;
			// binary noise is not.
			k, confirmed = KindTelnet, ep.Status == netx.StatusOK && (len(ep.TelnetOptions) > 0 || ep.Prompt != "" || mostlyText(ep.Banner))
		case bannerprobe.ServiceFTP:
			k, confirmed = KindFTP, ep.FTP != nil
		default:
			continue
		}
		st, why := tcpState(ep.Exchange)
		if st == StateOpen && !confirmed && why == "" {
			why = "it sent something that is not " + k.Name()
		}
		s := Service{Kind: k, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why, Confirmed: confirmed}
		switch {
		case ep.SSH != nil:
			s.Facts = append(s.Facts, "SSH banner: "+ep.Banner)
		case ep.FTP != nil && len(ep.FTP.Lines) > 0:
			s.Facts = append(s.Facts, "FTP greeting: "+strings.TrimSpace(ep.FTP.Lines[0]))
		case k == KindTelnet && confirmed:
			if ep.Prompt != "" {
				s.Facts = append(s.Facts, "asks for "+ep.Prompt)
			}
			if b := firstLine(ep.Banner); b != "" {
				s.Facts = append(s.Facts, "banner: "+b)
			}
		}
		out = append(out, s)
	}
	return out
}

// mostlyText reports whether s is a text banner: at least nine in ten
// runes printable ASCII or whitespace (random bytes read as ISO-8859-1
// are about four in ten).
func mostlyText(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	n, text := 0, 0
	for _, r := range s {
		n++
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r < 0x7f) {
			text++
		}
	}
	return text*10 >= n*9
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 120 {
				l = l[:120]
			}
			return l
		}
	}
	return ""
}

// snmpService folds the communities into one port: open when any
// community answered (or anything came back), closed when refused,
// silent when every community met silence.
func snmpService(o *snmpprobe.Observation) Service {
	s := Service{Kind: KindSNMP, Proto: "udp", Port: o.Port, State: StateUnknown, Reason: "not measured"}
	var answered, open, refused, silent bool
	var why string
	for _, c := range o.Communities {
		switch {
		case c.Answered:
			answered = true
			s.Communities = append(s.Communities, c.Name)
			if c.ErrorStatus != "" {
				// The agent accepted the community (SNMPv2c agents drop
				// unknown communities silently) but refused the read.
				s.Facts = append(s.Facts, "community "+c.Name+" answered with "+c.ErrorStatus)
			}
			if c.SysDescr != "" && !slices.Contains(s.Facts, "sysDescr: "+c.SysDescr) {
				s.Facts = append(s.Facts, "sysDescr: "+c.SysDescr)
			}
		case c.Open:
			open = true
			why = reasonOf(c.Exchange)
		case c.Status == netx.StatusRefused:
			refused = true
		case c.Status == netx.StatusTimeout:
			silent = true
		default:
			if why == "" {
				why = reasonOf(c.Exchange)
			}
		}
		if s.Status == "" || c.Status == netx.StatusOK {
			s.Status = c.Status
		}
	}
	switch {
	case answered:
		s.State, s.Confirmed, s.Reason = StateOpen, true, ""
	case open:
		s.State, s.Reason = StateOpen, why
	case refused:
		s.State, s.Reason = StateClosed, ""
	case silent && why == "":
		s.State, s.Reason = StateSilent, ""
	case why != "":
		s.Reason = why
	}
	return s
}

func upnpServices(o *upnpprobe.Observation) []Service {
	st, why := udpState(o.SSDP.Exchange, o.SSDP.Answered())
	ssdp := Service{Kind: KindUPnP, Proto: "udp", Port: o.SSDP.Port, State: st, Status: o.SSDP.Status, Reason: why, Confirmed: o.SSDP.Answered()}
	if len(o.SSDP.Responses) > 0 && o.SSDP.Responses[0].Server != "" {
		ssdp.Facts = append(ssdp.Facts, "SERVER: "+o.SSDP.Responses[0].Server)
	}
	if igd := o.IGD; igd != nil {
		ssdp.Facts = append(ssdp.Facts, "Internet Gateway Device control service "+igd.ServiceType)
		if igd.ExternalIP != "" {
			ssdp.Facts = append(ssdp.Facts, "external address "+igd.ExternalIP)
		}
		if n := len(igd.Mappings); n > 0 {
			ssdp.Facts = append(ssdp.Facts, fmt.Sprintf("%d port mapping(s) open", n))
		}
	}
	for _, dr := range o.Descriptions {
		if dr.Status != netx.StatusOK && dr.Status != "" {
			ssdp.Facts = append(ssdp.Facts, "description "+dr.URL+": "+reasonOf(dr.Exchange))
		}
	}

	// NAT-PMP and PCP share UDP 5351: one port, answered by either.
	nat := Service{Kind: KindNATPMP, Proto: "udp", Port: o.NATPMP.Port}
	if nat.Port == 0 {
		nat.Port = o.PCP.Port
	}
	answered := o.NATPMP.Answered || o.PCP.Answered
	switch {
	case answered:
		nat.State, nat.Confirmed, nat.Status = StateOpen, true, netx.StatusOK
		if o.NATPMP.Answered && o.NATPMP.ExternalAddr.IsValid() {
			nat.Facts = append(nat.Facts, "NAT-PMP external address "+o.NATPMP.ExternalAddr.String())
		} else if o.NATPMP.Answered {
			nat.Facts = append(nat.Facts, fmt.Sprintf("NAT-PMP answered (result code %d)", o.NATPMP.ResultCode))
		}
		if o.PCP.Answered && o.PCP.Version == 2 {
			nat.Facts = append(nat.Facts, "PCP answered")
		}
	default:
		// The IPv4-only NAT-PMP leaves no status on IPv6: judge by PCP.
		x := o.NATPMP.Exchange
		if x.Status == "" || x.Status == netx.StatusTimeout && o.PCP.Status != "" && o.PCP.Status != netx.StatusTimeout {
			x = o.PCP.Exchange
		}
		nat.State, nat.Reason = udpState(x, false)
		nat.Status = x.Status
	}
	return []Service{ssdp, nat}
}

func tr069Services(o *tr069probe.Observation) []Service {
	var out []Service
	for _, ep := range o.Endpoints {
		st, why := tcpState(ep.Exchange)
		s := Service{Kind: KindTR069, Proto: "tcp", Port: ep.Port, State: st, Status: ep.Status, Reason: why, Confirmed: ep.Response != nil}
		if r := ep.Response; r != nil {
			s.Facts = append(s.Facts, fmt.Sprintf("HTTP %d", r.StatusCode))
			if r.Server != "" {
				s.Facts = append(s.Facts, "Server: "+r.Server)
			}
			for _, ch := range r.Challenges {
				s.Facts = append(s.Facts, "asks for "+ch.Scheme+" authentication")
			}
			s.Authenticates = r.StatusCode == 401 && len(r.Challenges) > 0
		}
		out = append(out, s)
	}
	return out
}

func mikrotikServices(o *mikrotikprobe.Observation) []Service {
	var out []Service
	for _, p := range []struct {
		kind Kind
		port *mikrotikprobe.Port
	}{{KindWinbox, o.Winbox}, {KindAPI, o.API}, {KindAPISSL, o.APISSL}} {
		if p.port == nil {
			continue
		}
		st, why := tcpState(p.port.Exchange)
		s := Service{Kind: p.kind, Proto: "tcp", Port: p.port.Port, State: st, Status: p.port.Status, Reason: why}
		switch p.kind {
		case KindWinbox:
			// mikrotikprobe only connects to Winbox: an open port is the
			// whole measurement.
			s.Confirmed = p.port.Open
			s.Reason = ""
		default:
			s.Confirmed = p.port.RouterOS
			if p.port.RouterOS {
				s.Facts = append(s.Facts, "RouterOS API answered "+strings.Join(p.port.Reply, " "))
			}
		}
		out = append(out, s)
	}
	return out
}

// dnsService folds the two questions into one port: open when either got
// anything back, confirmed when either got a valid DNS reply; closed or
// silent only when both were.
func dnsService(o *dnsprobe.Observation) Service {
	x := o.Recursive.Exchange
	if !x.Open && (o.VersionBind.Open || x.Status == "" || x.Status == netx.StatusTimeout && o.VersionBind.Status != netx.StatusTimeout) {
		x = o.VersionBind.Exchange
	}
	st, why := udpState(x, o.Answered())
	s := Service{Kind: KindDNS, Proto: "udp", Port: o.Port, State: st, Status: x.Status, Reason: why, Confirmed: o.Answered(),
		Recursion: o.Recursion, RecursionWhy: o.RecursionWhy}
	if st == StateOpen && !s.Confirmed && why == "" {
		s.Reason = "no valid DNS reply"
	}
	if s.Confirmed {
		s.Reason = ""
		s.Facts = append(s.Facts, "recursion "+string(o.Recursion)+": "+o.RecursionWhy)
		if t := o.VersionBind.Text; t != "" {
			s.Facts = append(s.Facts, "version.bind: "+t)
		}
	}
	return s
}

// errNotMeasured is used when a kind has no port at all.
var errNotMeasured = errors.New("no probe measured it")
