// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

// listenAddr reads one uhttpd listen entry: "0.0.0.0:80", "[::]:80",
// "192.0.2.1:80" or a bare port (every address of both families).
func listenAddr(v string) (l4, l6 listener, port uint16, err error) {
	host, p, splitErr := net.SplitHostPort(v)
	if splitErr != nil {
		host, p = "", v
	}
	n, perr := strconv.ParseUint(p, 10, 16)
	if perr != nil || n == 0 {
		return l4, l6, 0, fmt.Errorf("listen entry %q has no port", v)
	}
	if host == "" || host == "*" {
		return listener{any: true}, listener{any: true}, uint16(n), nil
	}
	a, aerr := netip.ParseAddr(host)
	if aerr != nil {
		return l4, l6, 0, fmt.Errorf("listen entry %q: %q is not an address", v, host)
	}
	a = a.Unmap()
	switch {
	case a.IsUnspecified() && a.Is4():
		l4.any = true
	case a.IsUnspecified():
		l6.any = true
	case a.Is4():
		l4.addr = []netip.Addr{a}
	default:
		l6.addr = []netip.Addr{a}
	}
	return l4, l6, uint16(n), nil
}

func (l *listener) merge(o listener) {
	l.any = l.any || o.any
	l.addr = append(l.addr, o.addr...)
}

// uhttpd maps the web server's listen_http and listen_https.
func (m *mapper) uhttpd() (web, webTLS device.Service) {
	p := m.c["uhttpd"]
	if p == nil {
		src := m.notRead("uhttpd")
		s := device.Service{Enabled: device.Unknown[bool](src), Port: device.Unknown[uint16](src), Allowed: device.Unknown[[]netip.Prefix](src), WAN: device.Unknown[bool](src)}
		return s, s
	}
	return m.uhttpdService(p, device.ServiceWeb, "listen_http"), m.uhttpdService(p, device.ServiceWebTLS, "listen_https")
}

func (m *mapper) uhttpdService(p *uci.Package, name, option string) device.Service {
	var svc device.Service
	instances := p.OfType("uhttpd")
	var where []string
	var l4, l6 listener
	var ports []uint16
	for _, s := range instances {
		for _, v := range fields(s.Values(option)) {
			a4, a6, port, err := listenAddr(v)
			if err != nil {
				src := m.src(path(p, s, option), err.Error())
				return device.Service{Enabled: device.Unknown[bool](src), Port: device.Unknown[uint16](src), Allowed: device.Unknown[[]netip.Prefix](src), WAN: device.Unknown[bool](src)}
			}
			l4.merge(a4)
			l6.merge(a6)
			if len(ports) == 0 || ports[len(ports)-1] != port {
				ports = append(ports, port)
			}
		}
		where = append(where, path(p, s, option))
	}
	at := strings.Join(where, ", ")
	if at == "" {
		at = p.Name
	}
	if len(ports) == 0 {
		src := m.src(at, "no "+option+" entry: not served")
		svc.Enabled = device.Known(false, src)
		svc.Port = device.Unknown[uint16](src)
		svc.Allowed = device.Unknown[[]netip.Prefix](src)
		svc.WAN = device.Known(false, src)
		return svc
	}
	note := ""
	if len(ports) > 1 {
		note = fmt.Sprintf("also on ports %v", ports[1:])
	}
	svc.Enabled = device.Known(true, m.src(at, ""))
	svc.Port = device.Known(ports[0], m.src(at, note))
	svc.Allowed = device.Known([]netip.Prefix{}, m.src(at, "uhttpd has no source allow-list"))
	var vs []verdict
	for _, port := range ports {
		vs = append(vs, m.reach(ipv4, l4, "tcp", port), m.reach(ipv6, l6, "tcp", port))
	}
	m.record(name, vs, ports)
	svc.WAN = m.wanField(at, vs)
	return svc
}

func (m *mapper) wanField(listenWhere string, vs []verdict) device.Field[bool] {
	t, where, why := combine(vs...)
	w := listenWhere
	if len(where) > 0 {
		w += "; " + strings.Join(where, ", ")
	}
	src := m.src(w, strings.Join(why, "; "))
	switch t {
	case yes:
		return device.Known(true, src)
	case no:
		return device.Known(false, src)
	}
	return device.Unknown[bool](src)
}

// dropbear maps the SSH server's instances.
func (m *mapper) dropbear() device.Service {
	p := m.c["dropbear"]
	if p == nil {
		src := m.notRead("dropbear")
		return device.Service{Enabled: device.Unknown[bool](src), Port: device.Unknown[uint16](src), Allowed: device.Unknown[[]netip.Prefix](src), WAN: device.Unknown[bool](src)}
	}
	instances := p.OfType("dropbear")
	if len(instances) == 0 {
		src := m.src("dropbear", "no dropbear section: no SSH server")
		return device.Service{Enabled: device.Known(false, src), Port: device.Unknown[uint16](src), Allowed: device.Unknown[[]netip.Prefix](src), WAN: device.Known(false, src)}
	}
	var svc device.Service
	var on []*uci.Section
	var where []string
	for _, s := range instances {
		where = append(where, p.Path(s))
		if v, ok := s.Get("enable"); ok && v == "0" {
			continue
		}
		on = append(on, s)
	}
	at := strings.Join(where, ", ")
	if len(on) == 0 {
		src := m.src(at, "every instance has enable '0'")
		return device.Service{Enabled: device.Known(false, src), Port: device.Unknown[uint16](src), Allowed: device.Unknown[[]netip.Prefix](src), WAN: device.Known(false, src)}
	}
	svc.Enabled = device.Known(true, m.src(at, auth(on[0])))
	var vs []verdict
	var listenWhere []string
	var ports []uint16
	for i, s := range on {
		port := uint16(defaultSSHPort)
		portNote := "Port not set: 22"
		if v, ok := s.Get("Port"); ok {
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil || n == 0 {
				src := m.src(path(p, s, "Port"), fmt.Sprintf("Port %q is not a port", v))
				svc.Port, svc.WAN = device.Unknown[uint16](src), device.Unknown[bool](src)
				svc.Allowed = device.Known([]netip.Prefix{}, m.src(at, "dropbear has no source allow-list"))
				return svc
			}
			port, portNote = uint16(n), ""
		}
		ports = append(ports, port)
		if i == 0 {
			if len(on) > 1 {
				portNote = join(portNote, fmt.Sprintf("the first of %d instances", len(on)))
			}
			svc.Port = device.Known(port, m.src(path(p, s, "Port"), portNote))
		}
		ifWhere := path(p, s, "Interface")
		listenWhere = append(listenWhere, ifWhere)
		iface, set := s.Get("Interface")
		switch {
		case !set || iface == "":
			vs = append(vs, m.reach(ipv4, listener{any: true}, "tcp", port), m.reach(ipv6, listener{any: true}, "tcp", port))
		case m.fw != nil && m.fw.inWANZone(iface):
			vs = append(vs, m.reach(ipv4, listener{any: true}, "tcp", port), m.reach(ipv6, listener{any: true}, "tcp", port))
		case m.fw == nil:
			vs = append(vs, verdict{maybe, "firewall", "Interface " + iface + ": which zone holds it is in firewall, which was not read", nil})
		default:
			vs = append(vs, verdict{no, "", fmt.Sprintf("Interface %q: listens on that interface's addresses only", iface), nil})
		}
	}
	svc.Allowed = device.Known([]netip.Prefix{}, m.src(at, "dropbear has no source allow-list"))
	m.record(device.ServiceSSH, vs, ports)
	svc.WAN = m.wanField(strings.Join(listenWhere, ", "), vs)
	return svc
}

// auth says how dropbear lets users in, for the ssh Note.
func auth(s *uci.Section) string {
	state := func(o string) string {
		v, ok := s.Get(o)
		switch {
		case !ok:
			return "on (not set)"
		case v == "0" || v == "off":
			return "off"
		}
		return "on"
	}
	return "PasswordAuth " + state("PasswordAuth") + ", RootPasswordAuth " + state("RootPasswordAuth")
}

// inWANZone reports whether a network interface belongs to the WAN zone.
func (f *firewall) inWANZone(iface string) bool {
	if f.wan == nil {
		return iface == "wan" || iface == "wan6"
	}
	nets := fields(f.wan.Values("network"))
	if len(nets) == 0 {
		nets = []string{f.wanName}
	}
	for _, n := range nets {
		if n == iface {
			return true
		}
	}
	return false
}

// admins maps rpcd's logins.
func (m *mapper) admins() device.Field[[]string] {
	p := m.c["rpcd"]
	if p == nil {
		return device.Unknown[[]string](m.notRead("rpcd"))
	}
	names := []string{}
	var where, notes []string
	for _, s := range p.OfType("login") {
		u, ok := s.Get("username")
		if !ok {
			continue
		}
		names = append(names, u)
		where = append(where, path(p, s, "username"))
		switch pw, set := s.Get("password"); {
		case !set:
			// rpcd skips a login without a password option; an empty
			// value in a file is no option at all (libuci drops it).
			notes = append(notes, u+": no password option, cannot log in")
		case strings.HasPrefix(pw, "$p$"):
			notes = append(notes, u+": the system password of "+strings.TrimPrefix(pw, "$p$"))
		}
	}
	at := strings.Join(where, ", ")
	if at == "" {
		at = "rpcd"
		notes = append(notes, "no login section")
	}
	return device.Known(names, m.src(at, strings.Join(notes, "; ")))
}

// forwards maps DNAT redirects from the WAN to port forwards and a DMZ.
func (m *mapper) forwards() (device.Field[[]device.PortForward], device.Field[netip.Addr]) {
	f := m.fw
	if f == nil {
		src := m.notRead("firewall")
		return device.Unknown[[]device.PortForward](src), device.Unknown[netip.Addr](src)
	}
	if f.wan == nil {
		src := m.src("firewall", "no firewall zone holds the wan interface")
		return device.Unknown[[]device.PortForward](src), device.Unknown[netip.Addr](src)
	}
	out := []device.PortForward{}
	var where, notes []string
	dmz := device.Known(netip.Addr{}, m.src("firewall", "no redirect of every port to one host"))
	skipped := 0
	for _, r := range f.pkg.OfType("redirect") {
		if t := strings.ToUpper(opt(r, "target")); t != "" && t != "DNAT" {
			continue
		}
		if !f.fromWAN(r, false) {
			skipped++
			continue
		}
		at := f.pkg.Path(r)
		pf := device.PortForward{Proto: protoName(protocols(r)), Enabled: enabled(r), Comment: opt(r, "name")}
		ext, hasExt := r.Get("src_dport")
		pf.ExternalPort = ext
		if ip, ok := r.Get("dest_ip"); ok {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				src := m.src(path(f.pkg, r, "dest_ip"), fmt.Sprintf("%q is not an address", ip))
				return device.Unknown[[]device.PortForward](src), device.Unknown[netip.Addr](src)
			}
			pf.Internal = a
		} else {
			if !m.lan.Known {
				src := m.src(at, "a redirect to the router itself, whose address is unknown")
				return device.Unknown[[]device.PortForward](src), device.Unknown[netip.Addr](src)
			}
			pf.Internal = m.lan.Value.Addr()
			notes = append(notes, at+": to the router itself")
		}
		// firewall3: without dest_port the redirect keeps the port.
		pf.InternalPort = ext
		if dp, ok := r.Get("dest_port"); ok {
			pf.InternalPort = dp
		}
		if !hasExt && pf.Proto == "any" && pf.Enabled {
			dmz = device.Known(pf.Internal, m.src(at, "every protocol and port from the WAN"))
			continue
		}
		if !hasExt {
			pf.ExternalPort = "any"
		}
		out = append(out, pf)
		where = append(where, at)
	}
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d redirect(s) from other zones than the WAN not counted", skipped))
	}
	w := strings.Join(where, ", ")
	if w == "" {
		w = "firewall"
	}
	return device.Known(out, m.src(w, strings.Join(notes, "; "))), dmz
}

func protoName(ps []string) string {
	has := map[string]bool{}
	for _, p := range ps {
		switch strings.ToLower(p) {
		case "all", "any", "*":
			return "any"
		case "tcpudp":
			has["tcp"], has["udp"] = true, true
		case "tcp", "6":
			has["tcp"] = true
		case "udp", "17":
			has["udp"] = true
		default:
			has[strings.ToLower(p)] = true
		}
	}
	switch {
	case len(has) == 2 && has["tcp"] && has["udp"]:
		return "tcp+udp"
	case len(has) == 1 && has["tcp"]:
		return "tcp"
	case len(has) == 1 && has["udp"]:
		return "udp"
	}
	return strings.Join(ps, " ")
}

// system maps NTP and remote syslog.
func (m *mapper) system() (device.Field[[]string], device.Field[[]string]) {
	p := m.c["system"]
	if p == nil {
		src := m.notRead("system")
		return device.Unknown[[]string](src), device.Unknown[[]string](src)
	}
	ntp := device.Known([]string{}, m.src("system", "no timeserver section"))
	if ts := p.OfType("timeserver"); len(ts) > 0 {
		s := ts[0]
		servers := fields(s.Values("server"))
		switch {
		case opt(s, "enabled") == "0":
			ntp = device.Known([]string{}, m.src(path(p, s, "enabled"), fmt.Sprintf("the NTP client is off (servers listed: %v)", servers)))
		default:
			if servers == nil {
				servers = []string{}
			}
			ntp = device.Known(servers, m.src(path(p, s, "server"), ""))
		}
	}
	syslog := device.Known([]string{}, m.src("system", "no system section"))
	if ss := p.OfType("system"); len(ss) > 0 {
		s := ss[0]
		ip, ok := s.Get("log_ip")
		switch {
		case !ok || ip == "":
			syslog = device.Known([]string{}, m.src(path(p, s, "log_ip"), "not set: no remote syslog"))
		case opt(s, "log_remote") == "0":
			syslog = device.Known([]string{}, m.src(path(p, s, "log_remote"), "log_remote '0': remote syslog off (log_ip "+ip+")"))
		default:
			port, note := strconv.Itoa(defaultSyslog), "log_port not set: 514"
			if v, ok := s.Get("log_port"); ok {
				port, note = v, ""
			}
			proto := opt(s, "log_proto")
			if proto == "" {
				proto = "udp"
			}
			syslog = device.Known([]string{net.JoinHostPort(ip, port)}, m.src(path(p, s, "log_ip")+", "+path(p, s, "log_port"), join(note, "over "+proto)))
		}
	}
	return ntp, syslog
}

// exposure is how the WAN reaches one service, kept for the Fixer.
type exposure struct {
	verdicts []verdict
	ports    []uint16
}

func (m *mapper) record(service string, vs []verdict, ports []uint16) {
	if m.exposures == nil {
		m.exposures = map[string]exposure{}
	}
	m.exposures[service] = exposure{verdicts: vs, ports: ports}
}
