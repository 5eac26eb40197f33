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

// Adapter names, as Source.Adapter and Snapshot.Adapter.
const (
	NameUbus   = "openwrt-ubus"
	NameBackup = "openwrt-backup"
	NameUCI    = "openwrt-uci"
)

// packages are the configuration files the Config is read from, in the
// order Pull reads them.
var packages = []string{"dhcp", "network", "firewall", "uhttpd", "dropbear", "system", "rpcd"}

// configs holds the packages read, by name; a package not read is nil.
type configs map[string]*uci.Package

// OpenWrt defaults, from its own scripts and firewall3.
const (
	defaultDHCPStart = 100 // dnsmasq init script dhcp_add
	defaultDHCPLimit = 150
	defaultSSHPort   = 22  // dropbear init script
	defaultSyslog    = 514 // logd log_port
)

type mapper struct {
	c        configs
	adapter  string
	warnings []string
	lan      device.Field[netip.Prefix]
	fw       *firewall
	// exposures are the per-family verdicts of each service.
	exposures map[string]exposure
}

func (m *mapper) src(where, note string) device.Source {
	return device.Source{Adapter: m.adapter, Where: where, Note: note}
}

// notRead is the source of a field whose package was not read.
func (m *mapper) notRead(pkg string) device.Source {
	return m.src(pkg, "the "+pkg+" configuration was not read")
}

func (m *mapper) warnf(format string, a ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, a...))
}

// mapConfig turns the packages read into a Config; identity is left to
// the caller (UCI files do not hold it).
func mapConfig(c configs, adapter string) (device.Config, []string) {
	m := &mapper{c: c, adapter: adapter}
	cfg := m.config()
	return cfg, m.warnings
}

func (m *mapper) config() device.Config {
	var cfg device.Config
	noIdentity := m.src("system board", "the configuration files do not name the model or firmware")
	cfg.Identity = device.Identity{
		Vendor:   device.Unknown[string](noIdentity),
		Model:    device.Unknown[string](noIdentity),
		Hardware: device.Unknown[string](noIdentity),
		Firmware: device.Unknown[string](noIdentity),
	}
	cfg.LAN = m.lanAddress()
	m.lan = cfg.LAN
	m.fw = newFirewall(m.c["firewall"], m.c["network"])
	cfg.WANDNS, cfg.WANDNSAuto = m.wanDNS()
	cfg.DHCPEnabled, cfg.DHCPRange, cfg.DHCPDNS = m.dhcp()
	web, webTLS := m.uhttpd()
	cfg.SetService(device.ServiceWeb, web)
	cfg.SetService(device.ServiceWebTLS, webTLS)
	cfg.SetService(device.ServiceSSH, m.dropbear())
	cfg.LocalManagement = device.Unknown[[]string](m.src("firewall", "OpenWrt has no management allow-list setting; firewall rules that may restrict the LAN are not evaluated"))
	cfg.Admins = m.admins()
	cfg.PortForwards, cfg.DMZ = m.forwards()
	cfg.NTP, cfg.Syslog = m.system()
	return cfg
}

func opt(s *uci.Section, name string) string {
	v, _ := s.Get(name)
	return v
}

func path(p *uci.Package, s *uci.Section, option string) string {
	return p.Path(s) + "." + option
}

// fields splits values the way OpenWrt scripts do: list elements, each
// split on blanks.
func fields(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

func (m *mapper) lanAddress() device.Field[netip.Prefix] {
	net := m.c["network"]
	if net == nil {
		return device.Unknown[netip.Prefix](m.notRead("network"))
	}
	s := net.Section("lan")
	if s == nil || s.Type != "interface" {
		return device.Unknown[netip.Prefix](m.src("network.lan", "no interface 'lan'"))
	}
	where := path(net, s, "ipaddr")
	if proto := opt(s, "proto"); proto != "static" {
		return device.Unknown[netip.Prefix](m.src(path(net, s, "proto"), fmt.Sprintf("the LAN is not static (proto %q): its address is not in the configuration", proto)))
	}
	addrs := fields(s.Values("ipaddr"))
	if len(addrs) == 0 {
		return device.Unknown[netip.Prefix](m.src(where, "no ipaddr"))
	}
	note := ""
	if len(addrs) > 1 {
		note = fmt.Sprintf("the first of %d addresses", len(addrs))
	}
	if p, err := netip.ParsePrefix(addrs[0]); err == nil && p.Addr().Is4() {
		return device.Known(p, m.src(where, note))
	}
	a, err := netip.ParseAddr(addrs[0])
	if err != nil || !a.Is4() {
		return device.Unknown[netip.Prefix](m.src(where, fmt.Sprintf("%q is not an IPv4 address", addrs[0])))
	}
	mask, ok := s.Get("netmask")
	if !ok {
		return device.Unknown[netip.Prefix](m.src(where, "no netmask"))
	}
	bits, err := maskBits(mask)
	if err != nil {
		return device.Unknown[netip.Prefix](m.src(path(net, s, "netmask"), err.Error()))
	}
	return device.Known(netip.PrefixFrom(a, bits), m.src(where+", "+path(net, s, "netmask"), note))
}

func maskBits(mask string) (int, error) {
	a, err := netip.ParseAddr(mask)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("netmask %q is not a dotted IPv4 mask", mask)
	}
	b := a.As4()
	ones, bits := net.IPv4Mask(b[0], b[1], b[2], b[3]).Size()
	if bits == 0 {
		return 0, fmt.Errorf("netmask %q is not contiguous", mask)
	}
	return ones, nil
}

// dnsmasq returns the first dnsmasq section (the one OpenWrt's script
// configures the resolver from).
func dnsmasq(dhcp *uci.Package) *uci.Section {
	if s := dhcp.OfType("dnsmasq"); len(s) > 0 {
		return s[0]
	}
	return nil
}

// upstreams splits dnsmasq's server list into plain upstream addresses
// (an entry "192.0.2.1#5353@eth0" is 192.0.2.1) and the domain-specific
// entries, which stay as they are.
func upstreams(s *uci.Section) (plain []netip.Addr, domain []string, notes []string, err error) {
	for _, v := range s.Values("server") {
		if strings.HasPrefix(v, "/") {
			domain = append(domain, v)
			continue
		}
		host, rest := v, ""
		if i := strings.IndexAny(v, "#@"); i >= 0 {
			host, rest = v[:i], v[i:]
		}
		a, perr := netip.ParseAddr(host)
		if perr != nil {
			return nil, nil, nil, fmt.Errorf("server %q is not an address", v)
		}
		if rest != "" {
			notes = append(notes, a.String()+" "+strings.NewReplacer("#", "port ", "@", "via ").Replace(rest))
		}
		plain = append(plain, a.Unmap())
	}
	return plain, domain, notes, nil
}

func (m *mapper) wanDNS() (device.Field[[]netip.Addr], device.Field[bool]) {
	dhcp := m.c["dhcp"]
	if dhcp == nil {
		return device.Unknown[[]netip.Addr](m.notRead("dhcp")), device.Unknown[bool](m.notRead("dhcp"))
	}
	dm := dnsmasq(dhcp)
	if dm == nil {
		src := m.src("dhcp", "no dnsmasq section: the router's resolver is not configured here")
		return device.Unknown[[]netip.Addr](src), device.Unknown[bool](src)
	}
	serverPath := path(dhcp, dm, "server")
	plain, _, notes, err := upstreams(dm)
	if err != nil {
		src := m.src(serverPath, err.Error())
		return device.Unknown[[]netip.Addr](src), device.Unknown[bool](src)
	}
	note := strings.Join(notes, "; ")
	if opt(dm, "noresolv") == "1" {
		n := "noresolv: dnsmasq forwards only to its server list, never to the WAN's servers"
		return device.Known(plain, m.src(serverPath, join(note, n))),
			device.Known(false, m.src(path(dhcp, dm, "noresolv"), n))
	}
	if rf, ok := dm.Get("resolvfile"); ok && rf != "/tmp/resolv.conf.auto" && rf != "/tmp/resolv.conf.d/resolv.conf.auto" {
		note = join(note, fmt.Sprintf("dnsmasq also reads %s, which is not in the configuration", rf))
	}
	network := m.c["network"]
	if network == nil {
		src := m.src(serverPath, join(note, "the WAN's servers are in network, which was not read"))
		return device.Unknown[[]netip.Addr](src), device.Unknown[bool](src)
	}
	wan := network.Section("wan")
	if wan == nil || wan.Type != "interface" {
		n := "no interface 'wan': dnsmasq forwards to its server list only"
		return device.Known(plain, m.src(serverPath, join(note, n))), device.Known(false, m.src("network.wan", n))
	}
	var wanDNS []netip.Addr
	for _, v := range fields(wan.Values("dns")) {
		a, err := netip.ParseAddr(v)
		if err != nil {
			src := m.src(path(network, wan, "dns"), fmt.Sprintf("%q is not an address", v))
			return device.Unknown[[]netip.Addr](src), device.Unknown[bool](src)
		}
		wanDNS = append(wanDNS, a.Unmap())
	}
	where := serverPath + ", " + path(network, wan, "dns")
	all := append(plain, wanDNS...)
	proto := opt(wan, "proto")
	var auto bool
	var autoSrc device.Source
	switch {
	case proto == "static" || proto == "none" || proto == "":
		autoSrc = m.src(path(network, wan, "proto"), fmt.Sprintf("proto %q: no servers come from the ISP", proto))
	case opt(wan, "peerdns") == "0":
		autoSrc = m.src(path(network, wan, "peerdns"), "peerdns '0': the ISP's servers are not used")
	default:
		auto = true
		n := "peerdns not set: the servers the ISP hands out are used too"
		if _, ok := wan.Get("peerdns"); ok {
			n = "the servers the ISP hands out are used too"
		}
		autoSrc = m.src(path(network, wan, "peerdns"), n)
		note = join(note, "plus the servers the ISP hands out")
	}
	if all == nil {
		all = []netip.Addr{}
	}
	return device.Known(all, m.src(where, note)), device.Known(auto, autoSrc)
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// lanPool returns the dhcp section serving the 'lan' interface.
func lanPool(dhcp *uci.Package) *uci.Section {
	for _, s := range dhcp.OfType("dhcp") {
		if opt(s, "interface") == "lan" {
			return s
		}
	}
	return nil
}

func (m *mapper) dhcp() (device.Field[bool], device.Field[device.Range], device.Field[[]netip.Addr]) {
	dhcp := m.c["dhcp"]
	if dhcp == nil {
		src := m.notRead("dhcp")
		return device.Unknown[bool](src), device.Unknown[device.Range](src), device.Unknown[[]netip.Addr](src)
	}
	pool := lanPool(dhcp)
	if pool == nil {
		src := m.src("dhcp", "no dhcp section for interface 'lan': dnsmasq does not serve the LAN")
		return device.Known(false, src), device.Unknown[device.Range](src), device.Unknown[[]netip.Addr](src)
	}
	var enabled device.Field[bool]
	if v, ok := pool.Get("ignore"); ok {
		enabled = device.Known(v != "1", m.src(path(dhcp, pool, "ignore"), ""))
	} else {
		enabled = device.Known(true, m.src(path(dhcp, pool, "ignore"), "not set: the pool is served"))
	}
	note := ""
	if opt(pool, "dynamicdhcp") == "0" {
		note = "dynamicdhcp '0': only hosts with a static lease get an address"
	}
	rng := m.dhcpRange(dhcp, pool, note)
	dns := m.dhcpDNS(dhcp, pool)
	m.otherPools(dhcp, pool, dns)
	return enabled, rng, dns
}

func (m *mapper) dhcpRange(dhcp *uci.Package, pool *uci.Section, note string) device.Field[device.Range] {
	where := path(dhcp, pool, "start") + ", " + path(dhcp, pool, "limit")
	if !m.lan.Known {
		return device.Unknown[device.Range](m.src(where, join("the pool counts from the LAN address, which is unknown", note)))
	}
	num := func(name string, def int) (int, string, error) {
		v, ok := pool.Get(name)
		if !ok {
			return def, fmt.Sprintf("%s not set: %d", name, def), nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, "", fmt.Errorf("%s %q is not a count", name, v)
		}
		return n, "", nil
	}
	start, n1, err := num("start", defaultDHCPStart)
	if err != nil {
		return device.Unknown[device.Range](m.src(where, err.Error()))
	}
	limit, n2, err := num("limit", defaultDHCPLimit)
	if err != nil {
		return device.Unknown[device.Range](m.src(where, err.Error()))
	}
	note = join(join(n1, n2), note)
	lan := m.lan.Value
	hostBits := 32 - lan.Bits()
	size := uint64(1) << hostBits
	if uint64(start) >= size || limit == 0 {
		return device.Unknown[device.Range](m.src(where, join(fmt.Sprintf("start %d and limit %d make no pool in %s", start, limit, lan.Masked()), note)))
	}
	base := be32(lan.Masked().Addr())
	first := uint64(base) + uint64(start)
	last := first + uint64(limit) - 1
	// ipcalc.sh stops the pool below the broadcast address.
	if bcast := uint64(base) + size - 1; last >= bcast {
		last = bcast - 1
		note = join(note, "limit cut at the broadcast address")
	}
	if last < first {
		return device.Unknown[device.Range](m.src(where, join("the pool is empty", note)))
	}
	return device.Known(device.Range{First: fromBE32(uint32(first)), Last: fromBE32(uint32(last))}, m.src(where, note))
}

func be32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromBE32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// dnsOption reads the resolvers of one dhcp_option entry; ok is false
// for an entry that is not an untagged option 6.
func dnsOption(entry string) (addrs []string, ok bool) {
	parts := strings.Split(entry, ",")
	if len(parts) == 0 {
		return nil, false
	}
	switch strings.TrimSpace(parts[0]) {
	case "6", "option:dns-server", "option:6":
		return parts[1:], true
	}
	return nil, false
}

// poolDNS returns the DHCP DNS option-6 entries of a pool, in order,
// with the option each came from.
func poolDNS(pool *uci.Section) (entries []string, options []string) {
	for _, name := range []string{"dhcp_option", "dhcp_option_force"} {
		for _, e := range fields(pool.Values(name)) {
			if _, ok := dnsOption(e); ok {
				entries = append(entries, e)
				options = append(options, name)
			}
		}
	}
	return entries, options
}

func (m *mapper) dhcpDNS(dhcp *uci.Package, pool *uci.Section) device.Field[[]netip.Addr] {
	where := path(dhcp, pool, "dhcp_option")
	entries, options := poolDNS(pool)
	if len(entries) == 0 {
		if !m.lan.Known {
			return device.Unknown[[]netip.Addr](m.src(where, "no option 6: dnsmasq hands out the router's own address, which is unknown"))
		}
		return device.Known([]netip.Addr{m.lan.Value.Addr()}, m.src(where, "no option 6: dnsmasq hands out the router's own address"))
	}
	// dnsmasq keeps the last dhcp-option given for an option number.
	last := entries[len(entries)-1]
	where = path(dhcp, pool, options[len(options)-1])
	note := ""
	if len(entries) > 1 {
		note = fmt.Sprintf("the last of %d option-6 entries", len(entries))
	}
	raw, _ := dnsOption(last)
	out := []netip.Addr{}
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		a, err := netip.ParseAddr(r)
		if err != nil || !a.Is4() {
			return device.Unknown[[]netip.Addr](m.src(where, fmt.Sprintf("%q in %q is not an IPv4 address", r, last)))
		}
		if a.IsUnspecified() {
			// dnsmasq: 0.0.0.0 means the address of the machine running it.
			if !m.lan.Known {
				return device.Unknown[[]netip.Addr](m.src(where, "0.0.0.0 is the router's own address, which is unknown"))
			}
			a = m.lan.Value.Addr()
			note = join(note, "0.0.0.0: the router's own address")
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		note = join(note, "an empty option 6: clients get no resolver")
	}
	return device.Known(out, m.src(where, note))
}

// otherPools warns about pools of other interfaces that hand out other
// resolvers than the LAN's: the Config holds the LAN pool only.
func (m *mapper) otherPools(dhcp *uci.Package, lan *uci.Section, lanDNS device.Field[[]netip.Addr]) {
	for _, s := range dhcp.OfType("dhcp") {
		if s == lan || opt(s, "ignore") == "1" {
			continue
		}
		entries, _ := poolDNS(s)
		if len(entries) == 0 {
			continue
		}
		last := entries[len(entries)-1]
		if lanDNS.Known {
			var ss []string
			for _, a := range lanDNS.Value {
				ss = append(ss, a.String())
			}
			if raw, _ := dnsOption(last); strings.Join(raw, ",") == strings.Join(ss, ",") {
				continue
			}
		}
		m.warnf("%s (interface %q) hands out other resolvers: %q", dhcp.Path(s), opt(s, "interface"), last)
	}
}
