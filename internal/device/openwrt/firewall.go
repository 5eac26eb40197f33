// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

// tri is an answer that may be unknown.
type tri int8

const (
	no tri = iota
	yes
	maybe
)

type family int

const (
	ipv4 family = 4
	ipv6 family = 6
)

func (f family) String() string { return "IPv" + strconv.Itoa(int(f)) }

// verdict is whether the WAN side reaches a router port on one family,
// with the UCI path that decided and why.
type verdict struct {
	t     tri
	where string
	why   string
	// sec is the rule or redirect that decided, nil for a policy.
	sec *uci.Section
}

// firewall is what firewall3 makes of the firewall package, as far as
// packets from the WAN to the router go.
type firewall struct {
	pkg      *uci.Package
	network  *uci.Package
	defaults *uci.Section
	wan      *uci.Section // the zone holding the wan interface
	wanName  string
	// wan6 says whether the WAN zone holds an interface with IPv6.
	wan6      tri
	wan6Where string
}

func newFirewall(fw, network *uci.Package) *firewall {
	if fw == nil {
		return nil
	}
	f := &firewall{pkg: fw, network: network}
	if d := fw.OfType("defaults"); len(d) > 0 {
		f.defaults = d[0]
	}
	zones := fw.OfType("zone")
	for _, z := range zones {
		if slices.Contains(fields(z.Values("network")), "wan") {
			f.wan = z
			break
		}
	}
	if f.wan == nil {
		for _, z := range zones {
			if opt(z, "name") == "wan" {
				f.wan = z
				break
			}
		}
	}
	if f.wan != nil {
		f.wanName = opt(f.wan, "name")
		f.wan6, f.wan6Where = f.zoneHasIPv6()
	}
	return f
}

// zoneHasIPv6 reads the protocols of the WAN zone's interfaces: IPv6
// reaches the router from the WAN only over one of them.
func (f *firewall) zoneHasIPv6() (tri, string) {
	nets := fields(f.wan.Values("network"))
	if len(nets) == 0 {
		// firewall3 then matches the zone by its name as a network.
		nets = []string{f.wanName}
	}
	if f.network == nil {
		return maybe, "network (not read)"
	}
	out := no
	var where []string
	for _, n := range nets {
		s := f.network.Section(n)
		if s == nil || s.Type != "interface" {
			continue
		}
		where = append(where, path(f.network, s, "proto"))
		switch proto := opt(s, "proto"); proto {
		case "dhcpv6", "6in4", "6to4", "6rd", "dslite", "map", "464xlat":
			return yes, path(f.network, s, "proto")
		case "static":
			if _, ok := s.Get("ip6addr"); ok {
				return yes, path(f.network, s, "ip6addr")
			}
		case "pppoe", "pppoa", "pptp", "l2tp", "3g", "qmi", "ncm", "mbim", "wwan":
			switch v, ok := s.Get("ipv6"); {
			case ok && v == "0":
			case ok:
				return yes, path(f.network, s, "ipv6")
			default:
				// The default changed across releases (off in 14.07,
				// "auto" later).
				out = maybe
				where = append(where, path(f.network, s, "ipv6"))
			}
		case "dhcp", "none", "":
		default:
			out = maybe
		}
	}
	return out, strings.Join(where, ", ")
}

// protocols of a rule or redirect, firewall3's way: unset is tcp+udp.
func protocols(s *uci.Section) []string {
	ps := fields(s.Values("proto"))
	if len(ps) == 0 {
		return []string{"tcpudp"}
	}
	return ps
}

func protoMatches(ps []string, want string) bool {
	for _, p := range ps {
		p = strings.ToLower(p)
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var hit bool
		switch p {
		case "all", "any", "*":
			hit = true
		case "tcpudp":
			hit = want == "tcp" || want == "udp"
		case "6":
			hit = want == "tcp"
		case "17":
			hit = want == "udp"
		default:
			hit = p == want
		}
		if hit != neg {
			return true
		}
	}
	return false
}

// portMatches reads firewall3 port specs: "22", "20-25", "!22", several
// separated by blanks; none means every port.
func portMatches(specs []string, port uint16) bool {
	specs = fields(specs)
	if len(specs) == 0 {
		return true
	}
	for _, spec := range specs {
		neg := strings.HasPrefix(spec, "!")
		spec = strings.TrimPrefix(spec, "!")
		lo, hi, ok := strings.Cut(spec, "-")
		if !ok {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil {
			continue
		}
		in := uint64(port) >= l && uint64(port) <= h
		if in != neg {
			return true
		}
	}
	return false
}

// familyOf reads a rule's family: the option, else the family of its
// addresses, else both.
func familyOf(s *uci.Section) (v4, v6 bool) {
	switch strings.ToLower(opt(s, "family")) {
	case "ipv4", "inet", "4":
		return true, false
	case "ipv6", "inet6", "6":
		return false, true
	}
	for _, o := range []string{"src_ip", "dest_ip"} {
		for _, v := range fields(s.Values(o)) {
			v = strings.TrimPrefix(v, "!")
			if p, err := netip.ParsePrefix(v); err == nil {
				return p.Addr().Is4(), p.Addr().Is6()
			}
			if a, err := netip.ParseAddr(v); err == nil {
				return a.Is4(), a.Is6()
			}
		}
	}
	return true, true
}

func (fam family) in(s *uci.Section) bool {
	v4, v6 := familyOf(s)
	return (fam == ipv4 && v4) || (fam == ipv6 && v6)
}

// restriction says what narrows a rule to some packets besides zone,
// protocol, port and family.
func restriction(s *uci.Section) string {
	var out []string
	for _, o := range []string{"src_ip", "src_mac", "src_port", "dest_ip", "ipset", "extra", "start_time", "stop_time", "weekdays", "monthdays", "mark", "helper"} {
		if v, ok := s.Get(o); ok {
			out = append(out, o+" "+v)
		}
	}
	return strings.Join(out, ", ")
}

func enabled(s *uci.Section) bool { return opt(s, "enabled") != "0" }

func label(s *uci.Section) string {
	if n := opt(s, "name"); n != "" {
		return " (" + n + ")"
	}
	return ""
}

// fromWAN reports whether a rule or redirect's src is the WAN zone.
func (f *firewall) fromWAN(s *uci.Section, anyOK bool) bool {
	src := opt(s, "src")
	return src == f.wanName || (anyOK && src == "*")
}

// localRedirect reports whether a redirect sends WAN traffic to the
// router itself on proto/port: firewall3 makes a DNAT redirect without
// dest_ip a REDIRECT to the router, and one to the LAN address reaches
// the router too.
func (f *firewall) localRedirect(r *uci.Section, proto string, port uint16, lan netip.Addr) bool {
	if !enabled(r) || !f.fromWAN(r, false) || !ipv4.in(r) || !protoMatches(protocols(r), proto) {
		return false
	}
	if t := strings.ToUpper(opt(r, "target")); t != "" && t != "DNAT" {
		return false
	}
	if ip, ok := r.Get("dest_ip"); ok {
		a, err := netip.ParseAddr(ip)
		if err != nil || !lan.IsValid() || a != lan {
			return false
		}
	}
	internal := r.Values("dest_port")
	if len(internal) == 0 {
		internal = r.Values("src_dport")
	}
	return len(internal) > 0 && portMatches(internal, port)
}

// admits says whether firewall3 lets a packet from the WAN to the
// router's proto/port in, on one family.
func (f *firewall) admits(fam family, proto string, port uint16, lan netip.Addr) verdict {
	if f == nil {
		return verdict{maybe, "firewall", "the firewall configuration was not read", nil}
	}
	if f.wan == nil {
		return verdict{maybe, "firewall", "no firewall zone holds the wan interface", nil}
	}
	if fam == ipv6 && f.defaults != nil && opt(f.defaults, "disable_ipv6") == "1" {
		return verdict{yes, path(f.pkg, f.defaults, "disable_ipv6"), "disable_ipv6: firewall3 does not filter IPv6", nil}
	}
	for _, r := range f.pkg.OfType("rule") {
		if !enabled(r) || !f.fromWAN(r, true) || opt(r, "dest") != "" || !fam.in(r) ||
			!protoMatches(protocols(r), proto) || !portMatches(r.Values("dest_port"), port) {
			continue
		}
		where := f.pkg.Path(r) + label(r)
		restricted := restriction(r)
		switch target := strings.ToUpper(opt(r, "target")); target {
		case "ACCEPT":
			why := fmt.Sprintf("%s: a rule accepts %s/%d from the WAN", fam, proto, port)
			if restricted != "" {
				why += " (only " + restricted + ")"
			}
			return verdict{yes, where, why, r}
		case "DROP", "REJECT", "":
			if restricted != "" {
				continue
			}
			if target == "" {
				target = "REJECT"
			}
			return verdict{no, where, fmt.Sprintf("%s: a rule %ss %s/%d from the WAN", fam, strings.ToLower(target), proto, port), r}
		}
	}
	if fam == ipv4 {
		for _, r := range f.pkg.OfType("redirect") {
			if f.localRedirect(r, proto, port, lan) {
				return verdict{yes, f.pkg.Path(r) + label(r), fmt.Sprintf("a redirect sends %s/%d from the WAN to the router", proto, port), r}
			}
		}
	}
	policy, where := opt(f.wan, "input"), path(f.pkg, f.wan, "input")
	if policy == "" && f.defaults != nil {
		policy, where = opt(f.defaults, "input"), path(f.pkg, f.defaults, "input")
		if policy == "" {
			// firewall3 defaults.c: an unset defaults policy is DROP.
			policy = "DROP"
		}
	}
	switch strings.ToUpper(policy) {
	case "ACCEPT":
		return verdict{yes, where, fmt.Sprintf("%s: the WAN zone accepts every input", fam), nil}
	case "REJECT", "DROP":
		return verdict{no, where, fmt.Sprintf("%s: the WAN zone %ss input", fam, strings.ToLower(policy)), nil}
	}
	return verdict{maybe, where, "the WAN zone's input policy is not set", nil}
}

// listener is where a daemon listens on one family.
type listener struct {
	any  bool         // a wildcard address, or the WAN's
	addr []netip.Addr // specific addresses
}

// reach combines, for one family, where a daemon listens, whether the
// WAN has that family, and the firewall.
func (m *mapper) reach(fam family, l listener, proto string, port uint16) verdict {
	lan := netip.Addr{}
	if m.lan.Known {
		lan = m.lan.Value.Addr()
	}
	if !l.any {
		if len(l.addr) == 0 {
			return verdict{no, "", fmt.Sprintf("%s: does not listen", fam), nil}
		}
		onlyLocal := true
		for _, a := range l.addr {
			if !(a.IsLoopback() || (lan.IsValid() && a == lan)) {
				onlyLocal = false
			}
		}
		if onlyLocal {
			return verdict{no, "", fmt.Sprintf("%s: listens on the LAN address or loopback only", fam), nil}
		}
	}
	if fam == ipv6 && m.fw != nil {
		switch m.fw.wan6 {
		case no:
			return verdict{no, m.fw.wan6Where, "IPv6: the WAN has no IPv6 interface", nil}
		case maybe:
			v := m.fw.admits(fam, proto, port, lan)
			if v.t == no {
				return v
			}
			return verdict{maybe, m.fw.wan6Where, "IPv6: whether the WAN has IPv6 is unknown", nil}
		}
	}
	return m.fw.admits(fam, proto, port, lan)
}

// combine merges per-family verdicts: reachable on either family is
// reachable.
func combine(vs ...verdict) (tri, []string, []string) {
	out := no
	var where, why []string
	for _, v := range vs {
		if v.where != "" && !slices.Contains(where, v.where) {
			where = append(where, v.where)
		}
		if v.why != "" {
			why = append(why, v.why)
		}
		switch {
		case v.t == yes:
			out = yes
		case v.t == maybe && out == no:
			out = maybe
		}
	}
	return out, where, why
}
