// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
)

// The remote-reachability analysis: can a new connection from the
// Internet side reach a service of the router? It walks the rules a
// packet meets — /ip firewall raw prerouting, then /ip firewall filter
// input — for one packet class: a new TCP connection (its SYN) or UDP
// datagram to the service's port, arriving on a WAN interface, from any
// source. Each rule certainly matches the class (yes), certainly does not
// (no), matches part of it (partial: a source list, a rate limit — some
// of the class still passes), or cannot be decided here (unsure: an
// unknown interface, a destination list, a mark). Only what the rules
// prove becomes known; everything else is unknown with the rule named.

// match is how a rule relates to the packet class.
type match int

const (
	matchNo match = iota
	matchYes
	matchPartial
	matchUnsure
)

// verdict is the analysis result for one service.
type verdict int

const (
	verdictUnknown verdict = iota
	verdictReachable
	verdictBlocked
)

// packetClass is what is tested.
type packetClass struct {
	proto string // "tcp" or "udp"
	port  uint16
	// iface is the WAN interface it arrives on; "" when the WAN
	// interfaces are not known.
	iface string
	// state is its connection state: "new", or "untracked" after a raw
	// notrack.
	state string
}

// ignoredProps do not restrict what a rule matches.
var ignoredProps = map[string]bool{
	"chain": true, "action": true, "comment": true, "disabled": true, "invalid": true,
	"dynamic": true, "log": true, "log-prefix": true, "bytes": true, "packets": true,
	"reject-with": true, "jump-target": true, "address-list": true,
	"address-list-timeout": true, "place-before": true, "name": true, "index": true,
}

// partialProps restrict a rule to part of the class (some sources, some
// rate, some time) without being able to exclude all of it.
var partialProps = map[string]bool{
	"src-address": true, "src-address-list": true, "src-address-type": true, "src-port": true,
	"src-mac-address": true, "limit": true, "dst-limit": true, "connection-limit": true,
	"connection-rate": true, "time": true, "nth": true, "random": true, "psd": true,
	"per-connection-classifier": true, "ttl": true, "packet-size": true, "tcp-mss": true,
	"dscp": true, "priority": true, "fragment": true, "ingress-priority": true,
	"layer7-protocol": true, "content": true, "tls-host": true, "ipv4-options": true,
	"connection-bytes": true,
}

// firewall holds what the analysis needs from the tables.
type firewall struct {
	m       *mapper
	filter  []*row
	raw     []*row
	members map[string][]string // list → interfaces
	lists   map[string]*row     // list name → its row (include/exclude)
	wan     []string            // WAN interfaces ("" = unknown)
	wanWhy  string
	ok      bool // the filter was read
}

func (m *mapper) newFirewall() *firewall {
	f := &firewall{m: m, members: map[string][]string{}, lists: map[string]*row{}}
	var ok bool
	f.filter, ok = m.t.rowsOf("ip/firewall/filter")
	f.ok = ok
	f.raw, _ = m.t.rowsOf("ip/firewall/raw")
	mem, _ := m.t.rowsOf("interface/list/member")
	for _, r := range mem {
		if active(r, false) {
			f.members[r.props["list"]] = append(f.members[r.props["list"]], r.props["interface"])
		}
	}
	lists, _ := m.t.rowsOf("interface/list")
	for _, r := range lists {
		f.lists[r.props["name"]] = r
	}
	f.wan, f.wanWhy = f.wanInterfaces()
	return f
}

// wanInterfaces returns the interfaces facing the Internet: the list
// WAN, else the out-interfaces of srcnat masquerade rules, else the DHCP
// clients' interfaces.
func (f *firewall) wanInterfaces() ([]string, string) {
	if w := f.members["WAN"]; len(w) > 0 {
		return w, "the interface list WAN"
	}
	nat, _ := f.m.t.rowsOf("ip/firewall/nat")
	var out []string
	for _, r := range nat {
		if r.props["chain"] != "srcnat" || (r.props["action"] != "masquerade" && r.props["action"] != "src-nat") || !active(r, false) {
			continue
		}
		if i := r.props["out-interface"]; i != "" && !strings.HasPrefix(i, "!") {
			out = append(out, i)
		}
		if l := r.props["out-interface-list"]; l != "" && !strings.HasPrefix(l, "!") {
			out = append(out, f.members[l]...)
		}
	}
	if len(out) > 0 {
		return out, "the out-interfaces of srcnat masquerade rules"
	}
	dc, _ := f.m.t.rowsOf("ip/dhcp-client")
	for _, r := range dc {
		if i := r.props["interface"]; i != "" {
			out = append(out, i)
		}
	}
	if len(out) > 0 {
		return out, "the interfaces of DHCP clients"
	}
	return []string{""}, "no WAN interface found"
}

// reach decides whether the class reaches the router on some WAN
// interface, with a note saying which rule decided.
func (f *firewall) reach(proto string, port uint16) (verdict, string) {
	if !f.ok {
		return verdictUnknown, "the firewall filter was not read"
	}
	var notes []string
	reachable, blocked := 0, 0
	for _, ifc := range f.wan {
		pc := packetClass{proto: proto, port: port, iface: ifc, state: "new"}
		v, why := f.walk(pc)
		on := ifc
		if on == "" {
			on = "an unknown WAN interface"
		}
		notes = append(notes, fmt.Sprintf("%s/%d on %s: %s", proto, port, on, why))
		switch v {
		case verdictReachable:
			reachable++
		case verdictBlocked:
			blocked++
		}
	}
	note := strings.Join(notes, "; ") + " (WAN: " + f.wanWhy + ")"
	switch {
	case reachable > 0:
		return verdictReachable, note
	case blocked == len(f.wan):
		return verdictBlocked, note
	}
	return verdictUnknown, note
}

// walk runs raw prerouting then filter input for one class.
func (f *firewall) walk(pc packetClass) (verdict, string) {
	blocked, why, tainted := f.walkRaw(&pc)
	if blocked {
		return verdictBlocked, why
	}
	for _, r := range f.filter {
		if r.props["chain"] != "input" || !active(r, false) {
			continue
		}
		mt := f.match(r, pc)
		if mt == matchNo {
			continue
		}
		act := r.props["action"]
		if act == "" {
			act = "accept" // the documented default action
		}
		switch act {
		case "accept":
			if mt == matchUnsure {
				return verdictUnknown, "filter rule " + f.ruleName(r) + " may accept it"
			}
			if tainted != "" {
				return verdictUnknown, "accepted by filter rule " + f.ruleName(r) + ", but " + tainted
			}
			if mt == matchPartial {
				return verdictReachable, "accepted from some sources by filter rule " + f.ruleName(r)
			}
			return verdictReachable, "accepted by filter rule " + f.ruleName(r)
		case "drop", "reject", "tarpit":
			switch mt {
			case matchYes:
				return verdictBlocked, "dropped by filter rule " + f.ruleName(r)
			case matchUnsure:
				tainted = joinNote(tainted, "filter rule "+f.ruleName(r)+" may drop it")
			}
		case "log", "passthrough", "add-src-to-address-list", "add-dst-to-address-list", "fasttrack-connection":
		default:
			// jump, return and the rest: not followed.
			return verdictUnknown, fmt.Sprintf("filter rule %s (action %s) is not followed", f.ruleName(r), act)
		}
	}
	if tainted != "" {
		return verdictUnknown, "no filter rule certainly drops it, but " + tainted
	}
	return verdictReachable, "no input rule drops it (RouterOS accepts what no filter rule matches)"
}

// walkRaw runs raw prerouting: a certain drop blocks the class; an
// uncertain drop or untrack taints any later "reachable".
func (f *firewall) walkRaw(pc *packetClass) (blocked bool, why, tainted string) {
	for _, r := range f.raw {
		if r.props["chain"] != "prerouting" || !active(r, false) {
			continue
		}
		mt := f.match(r, *pc)
		if mt == matchNo {
			continue
		}
		act := r.props["action"]
		if act == "" {
			act = "accept"
		}
		switch act {
		case "drop":
			switch mt {
			case matchYes:
				return true, "dropped by raw rule " + f.ruleName(r), ""
			case matchUnsure:
				tainted = joinNote(tainted, "raw rule "+f.ruleName(r)+" may drop it")
			}
		case "accept", "notrack":
			if mt == matchYes {
				// It leaves the raw table here.
				if act == "notrack" {
					pc.state = "untracked"
				}
				return false, "", tainted
			}
			if act == "notrack" {
				tainted = joinNote(tainted, "raw rule "+f.ruleName(r)+" may untrack it")
			}
		case "log", "passthrough", "add-src-to-address-list", "add-dst-to-address-list":
		default:
			tainted = joinNote(tainted, fmt.Sprintf("raw rule %s (action %s) is not followed", f.ruleName(r), act))
		}
	}
	return false, "", tainted
}

func (f *firewall) ruleName(r *row) string {
	s := "(" + r.loc + ")"
	if c := r.props["comment"]; c != "" {
		s += fmt.Sprintf(" %q", c)
	}
	return s
}

// match relates one rule to the class.
func (f *firewall) match(r *row, pc packetClass) match {
	result := matchYes
	worse := func(m match) {
		switch {
		case m == matchNo:
			result = matchNo
		case m == matchUnsure && result != matchNo:
			result = matchUnsure
		case m == matchPartial && result == matchYes:
			result = matchPartial
		}
	}
	for name, raw := range r.props {
		if raw == "" {
			// Empty, or "!name" of a verbose export: no condition.
			continue
		}
		if ignoredProps[name] || strings.HasPrefix(name, ".") {
			continue
		}
		if partialProps[name] {
			worse(matchPartial)
			continue
		}
		neg := strings.HasPrefix(raw, "!")
		v := strings.TrimPrefix(raw, "!")
		var m match
		switch name {
		case "protocol":
			m = boolMatch(protoName(v) == pc.proto)
		case "dst-port":
			m = boolMatch(portIn(v, pc.port))
		case "connection-state":
			m = boolMatch(slices.Contains(strings.Split(v, ","), pc.state))
		case "connection-nat-state":
			// A packet to the router itself was not NATed.
			m = matchNo
		case "in-interface":
			if pc.iface == "" {
				m = matchUnsure
			} else {
				m = boolMatch(v == pc.iface)
			}
		case "in-interface-list":
			m = f.inList(v, pc.iface)
		case "dst-address":
			m = matchUnsure
			if p, err := parsePrefixList(v); err == nil && len(p) == 1 && p[0].Addr().IsLoopback() {
				m = matchNo
			}
		case "dst-address-type":
			switch v {
			case "local":
				m = matchYes
			case "broadcast", "multicast", "blackhole", "unreachable", "prohibit":
				m = matchNo
			default:
				m = matchUnsure
			}
		case "ipsec-policy":
			switch v {
			case "in,ipsec":
				m = matchNo
			case "in,none":
				m = matchYes
			default:
				m = matchUnsure
			}
		case "tcp-flags":
			if pc.proto != "tcp" {
				m = matchUnsure
			} else {
				m = boolMatch(synMatches(raw))
				// A negated list is not "not all of these", but RouterOS
				// writes negation per flag; a leading "!" is the first
				// flag's.
				neg = false
			}
		default:
			m = matchUnsure
		}
		if neg {
			switch m {
			case matchYes:
				m = matchNo
			case matchNo:
				m = matchYes
			}
		}
		worse(m)
		if result == matchNo {
			return matchNo
		}
	}
	return result
}

func boolMatch(b bool) match {
	if b {
		return matchYes
	}
	return matchNo
}

// inList decides in-interface-list for an interface.
func (f *firewall) inList(list, iface string) match {
	switch list {
	case "all":
		return matchYes
	case "none":
		return matchNo
	}
	if iface == "" {
		return matchUnsure
	}
	if l, ok := f.lists[list]; ok && (l.props["include"] != "" || l.props["exclude"] != "") {
		return matchUnsure
	}
	if list == "dynamic" || list == "static" {
		return matchUnsure
	}
	return boolMatch(slices.Contains(f.members[list], iface))
}

func protoName(v string) string {
	switch v {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	}
	return v
}

// portIn reports whether port is in "22,80,8000-8100".
func portIn(list string, port uint16) bool {
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				continue
			}
		}
		if int(port) >= a && int(port) <= b {
			return true
		}
	}
	return false
}

// synMatches reports whether a SYN (only the syn flag set) matches a
// tcp-flags list such as "!syn" or "syn,!ack".
func synMatches(v string) bool {
	for _, fl := range strings.Split(v, ",") {
		want := !strings.HasPrefix(fl, "!")
		has := strings.TrimPrefix(fl, "!") == "syn"
		if want != has {
			return false
		}
	}
	return true
}

// reachability fills each service's WAN field.
func (m *mapper) reachability() {
	f := m.newFirewall()
	ipv6 := m.ipv6()
	for key, svc := range m.cfg.Services {
		if key == device.ServiceUPnP {
			svc.WAN = device.Unknown[bool](m.at("ip/upnp", "", "UPnP answers on its internal interfaces only; not analysed"))
			m.cfg.Services[key] = svc
			continue
		}
		src := device.Source{Adapter: m.t.adapter, Where: m.display("ip/firewall/filter") + " input"}
		switch {
		case svc.Enabled.Known && !svc.Enabled.Value:
			src.Note = "the service is off"
			svc.WAN = device.Known(false, src)
		case svc.Allowed.Known && len(svc.Allowed.Value) > 0 && allPrivate(svc.Allowed.Value):
			src = svc.Allowed.Source
			src.Note = joinNote(src.Note, "only private addresses may connect")
			svc.WAN = device.Known(false, src)
		case !svc.Port.Known:
			src.Note = "its port is unknown"
			svc.WAN = device.Unknown[bool](src)
		default:
			protos := []string{"tcp"}
			switch key {
			case device.ServiceDNS:
				protos = []string{"udp", "tcp"}
			case device.ServiceSNMP:
				protos = []string{"udp"}
			}
			v := verdictBlocked
			var notes []string
			for _, p := range protos {
				pv, note := f.reach(p, svc.Port.Value)
				notes = append(notes, note)
				switch {
				case pv == verdictReachable:
					v = verdictReachable
				case pv == verdictUnknown && v == verdictBlocked:
					v = verdictUnknown
				}
			}
			src.Note = strings.Join(notes, "; ")
			switch {
			case v == verdictBlocked && ipv6 != "":
				// The IPv4 filter drops it, but the router has IPv6 on
				// the Internet side, whose /ipv6 firewall is not read.
				src.Note = "the IPv4 firewall drops it, but " + ipv6 + ": " + src.Note
				svc.WAN = device.Unknown[bool](src)
			case v == verdictBlocked:
				svc.WAN = device.Known(false, src)
			case v == verdictReachable && svc.Enabled.Known:
				svc.WAN = device.Known(true, src)
			case v == verdictReachable:
				src.Note = "the firewall lets it in from the WAN, but whether the service runs is unknown: " + src.Note
				svc.WAN = device.Unknown[bool](src)
			default:
				svc.WAN = device.Unknown[bool](src)
			}
		}
		m.cfg.Services[key] = svc
	}
}

// ipv6 says why IPv6 may reach the router from the Internet ("IPv6 is
// configured (…) and /ipv6 firewall is not analysed"), or "" when the
// configuration has no global IPv6 address and no IPv6 DHCP client. The
// analysis reads only the IPv4 filter.
func (m *mapper) ipv6() string {
	addrs, aKnown := m.t.rowsOf("ipv6/address")
	clients, cKnown := m.t.rowsOf("ipv6/dhcp-client")
	if !aKnown || !cKnown {
		return "whether IPv6 is configured was not read, and /ipv6 firewall is not analysed"
	}
	for _, r := range clients {
		if active(r, false) {
			return fmt.Sprintf("an IPv6 DHCP client runs on %s (%s), and /ipv6 firewall is not analysed", r.props["interface"], r.loc)
		}
	}
	for _, r := range addrs {
		a, _, _ := strings.Cut(r.props["address"], "/")
		ip, err := netip.ParseAddr(a)
		if !active(r, false) || err != nil || ip.IsLinkLocalUnicast() || ip.IsLoopback() {
			continue
		}
		return fmt.Sprintf("the router has the IPv6 address %s (%s), and /ipv6 firewall is not analysed", r.props["address"], r.loc)
	}
	return ""
}

// privateRanges cannot be the source of a connection from the Internet.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("::1/128"),
}

func allPrivate(ps []netip.Prefix) bool {
	for _, p := range ps {
		inside := false
		for _, r := range privateRanges {
			if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
				inside = true
				break
			}
		}
		if !inside {
			return false
		}
	}
	return true
}
