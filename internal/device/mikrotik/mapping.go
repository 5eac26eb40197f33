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

// Adapter names.
const (
	AdapterExport = "routeros-export"
	AdapterAPI    = "routeros-api"
	AdapterREST   = "routeros-rest"
)

// Documented defaults the mapping assumes for what a compact export does
// not print (the package documentation lists them with their sources).
const (
	noteServicesDefault = "not in the export: the RouterOS default (help.mikrotik.com, Services)"
	noteDNSDefault      = "not in the export: the RouterOS default (help.mikrotik.com, DNS: allow-remote-requests default no, no static servers)"
	noteUPnPDefault     = "not in the export: the RouterOS default (help.mikrotik.com, UPnP: enabled default no)"
	noteSNMPDefault     = "not in the export: the RouterOS default (help.mikrotik.com, SNMP: enabled default no; one community, public)"
	noteNTPDefault      = "not in the export: the RouterOS default (NTP client enabled=no)"
	noteEnabledUnknown  = "not in the export, and whether RouterOS runs this service by default is not documented per version"
)

// serviceNames maps /ip service names to Config service keys, in the
// order RouterOS lists them.
var serviceNames = []struct {
	ros, key string
	port     uint16
}{
	{"telnet", device.ServiceTelnet, 23},
	{"ftp", device.ServiceFTP, 21},
	{"www", device.ServiceWeb, 80},
	{"ssh", device.ServiceSSH, 22},
	{"www-ssl", device.ServiceWebTLS, 443},
	{"api", device.ServiceAPI, 8728},
	{"winbox", device.ServiceWinbox, 8291},
	{"api-ssl", device.ServiceAPISSL, 8729},
}

// header is what an export's comment header says (empty for pulls).
type header struct {
	version, model string
	has            bool
}

// mapper fills a Config from tables.
type mapper struct {
	t   *tables
	hdr header
	// display names a menu for Source.Where: "/ip dhcp-server network"
	// (export), "/ip/dhcp-server/network/print" (API), "GET
	// /rest/ip/dhcp-server/network" (REST).
	display  func(key string) string
	cfg      device.Config
	warnings []string
	// lan is the chosen LAN address, for DHCP network choice.
	lan netip.Prefix
	// dhcpNet is the DHCP network DHCPDNS was read from, for the Fixer.
	dhcpNet *row
}

func (m *mapper) warn(format string, a ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, a...))
}

// src is the Source of a property read from a row.
func (m *mapper) src(key string, r *row, prop string) device.Source {
	return device.Source{Adapter: m.t.adapter, Where: fmt.Sprintf("%s %s (%s)", m.display(key), prop, r.where(prop))}
}

// at is the Source of something about a menu, with a note.
func (m *mapper) at(key, prop, note string) device.Source {
	w := m.display(key)
	if prop != "" {
		w += " " + prop
	}
	return device.Source{Adapter: m.t.adapter, Where: w, Note: note}
}

// value returns a row's property, or its documented default when the
// tables allow defaults (def != nil), with the Source saying which.
func (m *mapper) value(key string, r *row, prop string, def *string, defNote string) (string, device.Source, bool) {
	if r != nil {
		if v, ok := r.get(prop); ok {
			return v, m.src(key, r, prop), true
		}
	}
	if def != nil && m.t.defaultsOK(key) {
		return *def, m.at(key, prop, defNote), true
	}
	note := "not read"
	if m.t.export {
		note = "not in the export"
		if m.t.menus[key] != nil && m.t.menus[key].damaged {
			note = "a line of this menu did not parse"
		} else if m.t.menus[key] == nil && !m.t.whole {
			note = "the export is partial and does not hold this menu"
		}
	}
	return "", m.at(key, prop, note), false
}

func strp(s string) *string { return &s }

// single returns the row of a settings menu (/ip dns), nil if none, and
// whether the menu is known.
func (m *mapper) single(key string) (*row, bool) {
	rows, ok := m.t.rowsOf(key)
	if len(rows) > 0 {
		return rows[0], true
	}
	return nil, ok
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
}

// enabled reads a yes/no property (disabled=… inverted when inverse).
func (m *mapper) boolField(key string, r *row, prop string, def *string, defNote string, inverse bool) device.Field[bool] {
	v, s, ok := m.value(key, r, prop, def, defNote)
	if !ok {
		return device.Unknown[bool](s)
	}
	b, ok := parseBool(v)
	if !ok {
		s.Note = fmt.Sprintf("value %q is not yes/no", v)
		return device.Unknown[bool](s)
	}
	return device.Known(b != inverse, s)
}

// mapTables fills a Config.
func mapTables(t *tables, hdr header, display func(string) string) (device.Config, []string) {
	m := runMapper(t, hdr, display)
	return m.cfg, m.warnings
}

// runMapper fills a Config and keeps what the mapping chose.
func runMapper(t *tables, hdr header, display func(string) string) *mapper {
	m := &mapper{t: t, hdr: hdr, display: display}
	m.identity()
	m.lanAndDHCP()
	m.dns()
	m.services()
	m.upnp()
	m.snmp()
	m.admins()
	m.forwards()
	m.ntp()
	m.syslog()
	m.cfg.LocalManagement = device.Unknown[[]string](device.Source{Adapter: t.adapter, Where: display("ip/service") + " address",
		Note: "RouterOS restricts management per service: see each service's allowed sources"})
	m.reachability()
	return m
}

func (m *mapper) identity() {
	id := &m.cfg.Identity
	res, _ := m.single("system/resource")
	rb, _ := m.single("system/routerboard")
	if m.t.export {
		hs := device.Source{Adapter: m.t.adapter, Where: "header"}
		if m.hdr.has {
			id.Vendor = device.Known("MikroTik", device.Source{Adapter: m.t.adapter, Where: "header", Note: `"by RouterOS": a RouterOS export`})
		} else {
			id.Vendor = device.Known("MikroTik", device.Source{Adapter: m.t.adapter, Where: "file", Note: "RouterOS export syntax (no header)"})
		}
		if m.hdr.model != "" {
			hs.Where = "header # model"
			id.Model = device.Known(m.hdr.model, hs)
		} else {
			hs.Note = "no \"# model =\" line (CHR and x86 exports have none)"
			id.Model = device.Unknown[string](hs)
		}
		if m.hdr.version != "" {
			id.Firmware = device.Known(m.hdr.version, device.Source{Adapter: m.t.adapter, Where: "header by RouterOS"})
		} else {
			id.Firmware = device.Unknown[string](device.Source{Adapter: m.t.adapter, Where: "header", Note: "no \"by RouterOS\" header"})
		}
		id.Hardware = device.Unknown[string](device.Source{Adapter: m.t.adapter, Where: "header", Note: "an export does not give the board revision"})
		return
	}
	if res != nil {
		if p, ok := res.get("platform"); ok && p != "" {
			id.Vendor = device.Known(p, m.src("system/resource", res, "platform"))
		}
		if v, ok := res.get("version"); ok && v != "" {
			s := m.src("system/resource", res, "version")
			if cleanVersion(v) != v {
				s.Note = fmt.Sprintf("%q without the release channel", v)
			}
			id.Firmware = device.Known(cleanVersion(v), s)
		}
	}
	if !id.Vendor.Known {
		id.Vendor = device.Unknown[string](m.at("system/resource", "platform", "not read"))
	}
	if !id.Firmware.Known {
		id.Firmware = device.Unknown[string](m.at("system/resource", "version", "not read"))
	}
	if rb != nil {
		if v, ok := rb.get("model"); ok && v != "" {
			id.Model = device.Known(v, m.src("system/routerboard", rb, "model"))
		}
		if v, ok := rb.get("revision"); ok && v != "" {
			id.Hardware = device.Known(v, m.src("system/routerboard", rb, "revision"))
		}
	}
	if !id.Model.Known && res != nil {
		if v, ok := res.get("board-name"); ok && v != "" {
			s := m.src("system/resource", res, "board-name")
			s.Note = "no RouterBOARD model (CHR or x86)"
			id.Model = device.Known(v, s)
		}
	}
	if !id.Model.Known {
		id.Model = device.Unknown[string](m.at("system/routerboard", "model", "not read"))
	}
	if !id.Hardware.Known {
		id.Hardware = device.Unknown[string](m.at("system/routerboard", "revision", "not given"))
	}
}

// active reports whether a row is a live entry: not disabled, not
// invalid, not dynamic (for addresses, which a DHCP client adds).
func active(r *row, skipDynamic bool) bool {
	if b, _ := parseBool(r.props["disabled"]); b {
		return false
	}
	if b, _ := parseBool(r.props["invalid"]); b {
		return false
	}
	if skipDynamic {
		if b, _ := parseBool(r.props["dynamic"]); b {
			return false
		}
	}
	return true
}

func (m *mapper) lanAndDHCP() {
	const addrKey, srvKey, netKey, poolKey = "ip/address", "ip/dhcp-server", "ip/dhcp-server/network", "ip/pool"
	addrs, addrsKnown := m.t.rowsOf(addrKey)
	servers, serversKnown := m.t.rowsOf(srvKey)
	networks, networksKnown := m.t.rowsOf(netKey)

	// The DHCP server: on when any server is enabled.
	var main *row
	switch {
	case !serversKnown:
		m.cfg.DHCPEnabled = device.Unknown[bool](m.at(srvKey, "", "not read"))
	case len(servers) == 0:
		m.cfg.DHCPEnabled = device.Known(false, m.at(srvKey, "", "no DHCP server is configured"))
	default:
		var firstUnknown *device.Field[bool]
		for _, r := range servers {
			f := m.dhcpServerOn(r)
			if f.Known && f.Value {
				m.cfg.DHCPEnabled = f
				main = r
				break
			}
			if !f.Known && firstUnknown == nil {
				firstUnknown = &f
			}
		}
		if main == nil {
			// No server known to run: one whose state is unknown makes
			// the answer unknown; otherwise every server is off.
			main = servers[0]
			if firstUnknown != nil {
				m.cfg.DHCPEnabled = *firstUnknown
			} else {
				f := m.dhcpServerOn(servers[0])
				f.Source.Note = joinNote(f.Source.Note, "every DHCP server is disabled")
				m.cfg.DHCPEnabled = f
			}
		}
	}

	// The LAN address: on the DHCP server's interface, else on an
	// interface of the list LAN.
	m.cfg.LAN = device.Unknown[netip.Prefix](m.at(addrKey, "address", "no address on the DHCP server's interface or on a LAN-list interface"))
	if !addrsKnown {
		m.cfg.LAN.Source.Note = "not read"
	}
	var lanIfaces []string
	if main != nil {
		if i, ok := main.get("interface"); ok {
			lanIfaces = append(lanIfaces, i)
		}
	}
	lanIfaces = append(lanIfaces, m.listMembers("LAN")...)
	for _, ifc := range lanIfaces {
		if m.cfg.LAN.Known {
			break
		}
		for _, r := range addrs {
			if !active(r, true) || r.props["interface"] != ifc {
				continue
			}
			p, err := netip.ParsePrefix(r.props["address"])
			if err != nil {
				continue
			}
			s := m.src(addrKey, r, "address")
			s.Note = "on interface " + ifc
			m.cfg.LAN = device.Known(p, s)
			m.lan = p
			break
		}
	}

	// The pool of the (first enabled) server.
	m.cfg.DHCPRange = device.Unknown[device.Range](m.at(srvKey, "address-pool", "no DHCP server"))
	if main != nil {
		if !serversKnown {
			m.cfg.DHCPRange.Source.Note = "not read"
		}
		m.cfg.DHCPRange = m.pool(srvKey, main, poolKey)
	} else if !serversKnown {
		m.cfg.DHCPRange.Source.Note = "not read"
	}

	// The DNS servers handed out: the network that holds the LAN
	// address (or the pool), else the only one.
	m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](m.at(netKey, "dns-server", "not read"))
	if !networksKnown {
		return
	}
	if len(networks) == 0 {
		m.cfg.DHCPDNS.Source.Note = "no /ip dhcp-server network entry"
		return
	}
	var probe netip.Addr
	switch {
	case m.lan.IsValid():
		probe = m.lan.Addr()
	case m.cfg.DHCPRange.Known:
		probe = m.cfg.DHCPRange.Value.First
	}
	var chosen *row
	for _, r := range networks {
		p, err := netip.ParsePrefix(r.props["address"])
		if err == nil && probe.IsValid() && p.Contains(probe) {
			chosen = r
			break
		}
	}
	why := "the network that holds the LAN address"
	if chosen == nil {
		chosen = networks[0]
		why = "the first network"
		if len(networks) > 1 {
			m.warn("%d DHCP networks and none holds the LAN address: DHCP DNS is read from the first (%s)", len(networks), chosen.props["address"])
		}
	}
	m.dhcpNet = chosen
	for _, r := range networks {
		if r != chosen && r.props["dns-server"] != chosen.props["dns-server"] {
			m.warn("DHCP network %s hands out DNS %q, not read into the configuration (%s is: %s)",
				r.props["address"], r.props["dns-server"], chosen.props["address"], why)
		}
	}
	v, s, ok := m.value(netKey, chosen, "dns-server", strp(""), "not in the export: empty, the RouterOS default")
	if !ok {
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](s)
		return
	}
	if len(networks) > 1 {
		s.Note = joinNote(s.Note, why)
	}
	if strings.TrimSpace(v) == "" {
		s.Note = joinNote(s.Note, "empty: RouterOS hands out the DNS servers it learned from the ISP (help.mikrotik.com, DNS), which a configuration does not hold")
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](s)
		return
	}
	as, err := parseAddrList(v)
	if err != nil {
		s.Note = err.Error()
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](s)
		return
	}
	m.cfg.DHCPDNS = device.Known(as, s)
}

// joinNote appends b to note a.
func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

// dhcpServerOn reads whether one DHCP server runs.
func (m *mapper) dhcpServerOn(r *row) device.Field[bool] {
	const key = "ip/dhcp-server"
	if v, ok := r.get("disabled"); ok {
		b, ok := parseBool(v)
		if !ok {
			s := m.src(key, r, "disabled")
			s.Note = fmt.Sprintf("value %q is not yes/no", v)
			return device.Unknown[bool](s)
		}
		return device.Known(!b, m.src(key, r, "disabled"))
	}
	if m.t.export && m.t.defaultsOK(key) && m.t.major() == 6 {
		return device.Known(false, device.Source{Adapter: m.t.adapter, Where: fmt.Sprintf("%s disabled (%s)", m.display(key), r.loc),
			Note: "not in the export: RouterOS 6 adds DHCP servers disabled (its exports print disabled=no for a running one)"})
	}
	return device.Unknown[bool](device.Source{Adapter: m.t.adapter, Where: fmt.Sprintf("%s disabled (%s)", m.display(key), r.loc),
		Note: "not in the export, and RouterOS 7's default for a new DHCP server is not documented"})
}

// pool reads the address pool of DHCP server r.
func (m *mapper) pool(srvKey string, r *row, poolKey string) device.Field[device.Range] {
	name, ok := r.get("address-pool")
	if !ok || name == "" || name == "static-only" {
		return device.Unknown[device.Range](m.src(srvKey, r, "address-pool"))
	}
	pools, known := m.t.rowsOf(poolKey)
	if !known {
		return device.Unknown[device.Range](m.at(poolKey, "ranges", "not read"))
	}
	for _, p := range pools {
		if p.props["name"] != name {
			continue
		}
		s := m.src(poolKey, p, "ranges")
		rg, n, err := parseRanges(p.props["ranges"])
		if err != nil {
			s.Note = err.Error()
			return device.Unknown[device.Range](s)
		}
		s.Note = "pool " + name
		if n > 1 {
			s.Note += fmt.Sprintf(": %d ranges, shown as their span", n)
		}
		return device.Known(rg, s)
	}
	return device.Unknown[device.Range](m.at(poolKey, "ranges", fmt.Sprintf("no pool named %q", name)))
}

// parseRanges reads a pool's "a-b,c-d" or "a/24" ranges into their span.
func parseRanges(v string) (device.Range, int, error) {
	var rg device.Range
	n := 0
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var first, last netip.Addr
		var err error
		switch {
		case strings.Contains(part, "/"):
			var p netip.Prefix
			if p, err = netip.ParsePrefix(part); err == nil {
				p = p.Masked()
				first, last = p.Addr(), lastAddr(p)
			}
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			if first, err = netip.ParseAddr(a); err == nil {
				last, err = netip.ParseAddr(b)
			}
		default:
			first, err = netip.ParseAddr(part)
			last = first
		}
		if err != nil {
			return rg, 0, fmt.Errorf("pool range %q does not parse", part)
		}
		if n == 0 || first.Less(rg.First) {
			rg.First = first
		}
		if n == 0 || rg.Last.Less(last) {
			rg.Last = last
		}
		n++
	}
	if n == 0 {
		return rg, 0, fmt.Errorf("empty pool")
	}
	return rg, n, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// parseAddrList reads "a,b,c" into addresses.
func parseAddrList(v string) ([]netip.Addr, error) {
	as := []netip.Addr{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address", part)
		}
		as = append(as, a)
	}
	return as, nil
}

// parsePrefixList reads an address allow-list ("" = anyone; bare
// addresses are single hosts).
func parsePrefixList(v string) ([]netip.Prefix, error) {
	ps := []netip.Prefix{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or prefix", part)
			}
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or prefix", part)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// listMembers returns the interfaces of an interface list (enabled
// members only).
func (m *mapper) listMembers(list string) []string {
	rows, _ := m.t.rowsOf("interface/list/member")
	var out []string
	for _, r := range rows {
		if r.props["list"] == list && active(r, false) {
			out = append(out, r.props["interface"])
		}
	}
	return out
}

func (m *mapper) dns() {
	const key = "ip/dns"
	r, known := m.single(key)
	if !known {
		src := m.at(key, "servers", "not read")
		m.cfg.WANDNS = device.Unknown[[]netip.Addr](src)
		m.cfg.WANDNSAuto = device.Unknown[bool](src)
		m.cfg.SetService(device.ServiceDNS, device.Service{
			Enabled: device.Unknown[bool](m.at(key, "allow-remote-requests", "not read")),
		})
		return
	}
	v, s, ok := m.value(key, r, "servers", strp(""), noteDNSDefault)
	if ok {
		as, err := parseAddrList(v)
		if err != nil {
			s.Note = err.Error()
			m.cfg.WANDNS = device.Unknown[[]netip.Addr](s)
			m.cfg.WANDNSAuto = device.Unknown[bool](s)
		} else {
			auto := s
			if len(as) == 0 {
				auto.Note = joinNote(auto.Note, "no static servers: the router uses those it learns from the ISP")
			} else {
				auto.Note = joinNote(auto.Note, "static servers are preferred over those learned from the ISP (help.mikrotik.com, DNS)")
			}
			if doh, ok := r.get("use-doh-server"); ok && doh != "" {
				s.Note = joinNote(s.Note, "queries go to the DoH server "+doh)
			}
			m.cfg.WANDNS = device.Known(as, s)
			m.cfg.WANDNSAuto = device.Known(len(as) == 0, auto)
		}
	} else {
		m.cfg.WANDNS = device.Unknown[[]netip.Addr](s)
		m.cfg.WANDNSAuto = device.Unknown[bool](s)
	}
	svc := device.Service{
		Enabled: m.boolField(key, r, "allow-remote-requests", strp("no"), noteDNSDefault, false),
		Port:    device.Known[uint16](53, m.at(key, "", "the resolver answers on port 53 (help.mikrotik.com, DNS)")),
		Allowed: device.Known([]netip.Prefix{}, m.at(key, "", "RouterOS's resolver has no source allow-list; only the firewall restricts it")),
	}
	m.cfg.SetService(device.ServiceDNS, svc)
}

func (m *mapper) services() {
	const key = "ip/service"
	rows, known := m.t.rowsOf(key)
	for _, sn := range serviceNames {
		var r *row
		for _, x := range rows {
			if x.props["name"] == sn.ros {
				r = x
				break
			}
		}
		var svc device.Service
		if !known {
			s := m.at(key, sn.ros, "not read")
			svc = device.Service{Enabled: device.Unknown[bool](s), Port: device.Unknown[uint16](s), Allowed: device.Unknown[[]netip.Prefix](s)}
			m.cfg.SetService(sn.key, svc)
			continue
		}
		if r == nil && !m.t.export {
			s := m.at(key, sn.ros, "the router did not list this service")
			svc = device.Service{Enabled: device.Unknown[bool](s), Port: device.Unknown[uint16](s), Allowed: device.Unknown[[]netip.Prefix](s)}
			m.cfg.SetService(sn.key, svc)
			continue
		}
		named := func(s device.Source) device.Source {
			// Name the service: "/ip service telnet port (line 64)".
			s.Where = strings.Replace(s.Where, m.display(key), m.display(key)+" "+sn.ros, 1)
			return s
		}
		// Enabled: no documented default.
		if v, s, ok := m.value(key, r, "disabled", nil, ""); ok {
			if b, ok := parseBool(v); ok {
				svc.Enabled = device.Known(!b, named(s))
			} else {
				s.Note = fmt.Sprintf("value %q is not yes/no", v)
				svc.Enabled = device.Unknown[bool](named(s))
			}
		} else {
			if m.t.defaultsOK(key) {
				s.Note = noteEnabledUnknown
			}
			svc.Enabled = device.Unknown[bool](named(s))
		}
		if v, s, ok := m.value(key, r, "port", strp(strconv.Itoa(int(sn.port))), noteServicesDefault); ok {
			if p, err := strconv.ParseUint(v, 10, 16); err == nil && p > 0 {
				svc.Port = device.Known(uint16(p), named(s))
			} else {
				s.Note = fmt.Sprintf("port %q does not parse", v)
				svc.Port = device.Unknown[uint16](named(s))
			}
		} else {
			svc.Port = device.Unknown[uint16](named(s))
		}
		if v, s, ok := m.value(key, r, "address", strp(""), noteServicesDefault); ok {
			if ps, err := parsePrefixList(v); err == nil {
				svc.Allowed = device.Known(ps, named(s))
			} else {
				s.Note = err.Error()
				svc.Allowed = device.Unknown[[]netip.Prefix](named(s))
			}
		} else {
			svc.Allowed = device.Unknown[[]netip.Prefix](named(s))
		}
		m.cfg.SetService(sn.key, svc)
	}
}

func (m *mapper) upnp() {
	const key = "ip/upnp"
	r, known := m.single(key)
	if !known {
		m.cfg.SetService(device.ServiceUPnP, device.Service{Enabled: device.Unknown[bool](m.at(key, "enabled", "not read"))})
		return
	}
	na := m.at(key, "", "RouterOS's UPnP has no port or source setting")
	m.cfg.SetService(device.ServiceUPnP, device.Service{
		Enabled: m.boolField(key, r, "enabled", strp("no"), noteUPnPDefault, false),
		Port:    device.Unknown[uint16](na),
		Allowed: device.Unknown[[]netip.Prefix](na),
	})
}

// defaultCommunities are names the mapping shows as they are: the
// RouterOS default and the other well-known default.
var defaultCommunities = []string{"public", "private"}

func (m *mapper) snmp() {
	const key, comKey = "snmp", "snmp/community"
	r, known := m.single(key)
	svc := device.Service{}
	if !known {
		svc.Enabled = device.Unknown[bool](m.at(key, "enabled", "not read"))
	} else {
		svc.Enabled = m.boolField(key, r, "enabled", strp("no"), noteSNMPDefault, false)
	}
	svc.Port = device.Known[uint16](161, m.at(key, "", "the SNMP port; RouterOS's /snmp has no port setting"))
	svc.Allowed = device.Unknown[[]netip.Prefix](m.at(comKey, "addresses", "each community has its own address list"))
	m.cfg.SetService(device.ServiceSNMP, svc)

	rows, known := m.t.rowsOf(comKey)
	if !known {
		m.cfg.SNMPCommunities = device.Unknown[[]string](m.at(comKey, "name", "not read"))
		return
	}
	names := []string{}
	n := 0
	sawDefault := false
	for _, c := range rows {
		if b, _ := parseBool(c.props["default"]); b {
			sawDefault = true
		}
		if !active(c, false) {
			continue
		}
		name, ok := c.get("name")
		if !ok && m.t.export {
			// "set [ find default=yes ] …" without a name keeps the
			// default name.
			name = "public"
		}
		if slices.Contains(defaultCommunities, name) {
			names = append(names, name)
		} else {
			n++
			names = append(names, fmt.Sprintf("configured-%d", n))
		}
	}
	s := m.at(comKey, "name", "")
	if m.t.export && !sawDefault {
		// The built-in community exists even when the export does not
		// mention it.
		names = append([]string{"public"}, names...)
		s.Note = noteSNMPDefault
	}
	m.cfg.SNMPCommunities = device.Known(names, s)
}

func (m *mapper) admins() {
	const key, groupKey = "user", "user/group"
	if m.t.export {
		note := "an export leaves out user accounts (the verbose sample, which prints every setting, has none)"
		if rows, _ := m.t.rowsOf(key); len(rows) > 0 {
			note += fmt.Sprintf("; this file names %d, but not whether the built-in admin remains", len(rows))
		}
		m.cfg.Admins = device.Unknown[[]string](m.at(key, "name", note))
		return
	}
	users, known := m.t.rowsOf(key)
	if !known {
		m.cfg.Admins = device.Unknown[[]string](m.at(key, "name", "not read"))
		return
	}
	groups, _ := m.t.rowsOf(groupKey)
	policy := map[string]string{}
	for _, g := range groups {
		policy[g.props["name"]] = g.props["policy"]
	}
	names := []string{}
	for _, u := range users {
		if !active(u, false) {
			continue
		}
		g := u.props["group"]
		p, ok := policy[g]
		if !ok {
			if g == "full" || g == "write" {
				names = append(names, u.props["name"])
			} else {
				m.warn("user %q is in group %q, whose policy was not read: not counted as an admin", u.props["name"], g)
			}
			continue
		}
		if slices.Contains(strings.Split(p, ","), "write") {
			names = append(names, u.props["name"])
		}
	}
	m.cfg.Admins = device.Known(names, m.at(key, "name", "enabled users whose group may write the configuration"))
}

func (m *mapper) forwards() {
	const key = "ip/firewall/nat"
	rows, known := m.t.rowsOf(key)
	if !known {
		m.cfg.PortForwards = device.Unknown[[]device.PortForward](m.at(key, "", "not read"))
		m.cfg.DMZ = device.Unknown[netip.Addr](m.at(key, "", "not read"))
		return
	}
	fwd := []device.PortForward{}
	var dmz device.Field[netip.Addr]
	for _, r := range rows {
		if r.props["action"] != "dst-nat" || r.props["chain"] != "dstnat" {
			continue
		}
		if b, _ := parseBool(r.props["invalid"]); b {
			continue
		}
		to, _, _ := strings.Cut(r.props["to-addresses"], "-")
		internal, _ := netip.ParseAddr(to)
		proto := r.props["protocol"]
		if proto == "" {
			proto = "any"
		}
		port := r.props["dst-port"]
		if port == "" {
			port = "any"
		}
		disabled, _ := parseBool(r.props["disabled"])
		f := device.PortForward{Proto: proto, ExternalPort: port, Internal: internal,
			InternalPort: r.props["to-ports"], Enabled: !disabled, Comment: r.props["comment"]}
		fwd = append(fwd, f)
		if !disabled && !dmz.Known && port == "any" && proto == "any" && internal.IsValid() {
			s := m.src(key, r, "to-addresses")
			s.Note = "a dst-nat of every port and protocol: a DMZ host"
			dmz = device.Known(internal, s)
		}
	}
	m.cfg.PortForwards = device.Known(fwd, m.at(key, "", "dst-nat rules of chain dstnat"))
	if !dmz.Known {
		dmz = device.Known(netip.Addr{}, m.at(key, "", "RouterOS has no DMZ setting and no dst-nat rule forwards every port"))
	}
	m.cfg.DMZ = dmz
}

func (m *mapper) ntp() {
	const key, srvKey = "system/ntp/client", "system/ntp/client/servers"
	r, known := m.single(key)
	if !known {
		m.cfg.NTP = device.Unknown[[]string](m.at(key, "", "not read"))
		return
	}
	on := m.boolField(key, r, "enabled", strp("no"), noteNTPDefault, false)
	if !on.Known {
		m.cfg.NTP = device.Unknown[[]string](on.Source)
		return
	}
	if !on.Value {
		m.cfg.NTP = device.Known([]string{}, device.Source{Adapter: on.Source.Adapter, Where: on.Source.Where, Note: joinNote(on.Source.Note, "the NTP client is off")})
		return
	}
	var servers []string
	add := func(list string) {
		for _, s := range strings.Split(list, ",") {
			s = strings.TrimSpace(s)
			if s != "" && s != "0.0.0.0" && s != "::" && !slices.Contains(servers, s) {
				servers = append(servers, s)
			}
		}
	}
	// RouterOS 6: primary-ntp, secondary-ntp, server-dns-names; 7: servers
	// (early 7.x) or the servers submenu.
	for _, p := range []string{"primary-ntp", "secondary-ntp", "server-dns-names", "servers"} {
		if v, ok := r.get(p); ok {
			add(v)
		}
	}
	sub, _ := m.t.rowsOf(srvKey)
	for _, s := range sub {
		if active(s, false) {
			add(s.props["address"])
		}
	}
	if servers == nil {
		servers = []string{}
	}
	m.cfg.NTP = device.Known(servers, m.at(key, "", "enabled"))
}

// defaultActions are RouterOS's built-in logging actions, by position
// (the verbose sample lists them as "set 0" … "set 3").
var defaultActions = []struct{ name, target string }{
	{"memory", "memory"}, {"disk", "disk"}, {"echo", "echo"}, {"remote", "remote"},
}

func (m *mapper) syslog() {
	const actKey, ruleKey = "system/logging/action", "system/logging"
	actions, aKnown := m.t.rowsOf(actKey)
	rules, rKnown := m.t.rowsOf(ruleKey)
	if !aKnown || !rKnown {
		m.cfg.Syslog = device.Unknown[[]string](m.at(actKey, "remote", "not read"))
		return
	}
	used := map[string]bool{}
	for _, r := range rules {
		if active(r, false) {
			used[r.props["action"]] = true
		}
	}
	out := []string{}
	for _, a := range actions {
		name, target := a.props["name"], a.props["target"]
		if a.index >= 0 && a.index < len(defaultActions) {
			if name == "" {
				name = defaultActions[a.index].name
			}
			if target == "" {
				target = defaultActions[a.index].target
			}
		}
		if target != "remote" || !used[name] {
			continue
		}
		addr := a.props["remote"]
		if addr == "" || addr == "0.0.0.0" || addr == "::" {
			continue
		}
		if p := a.props["remote-port"]; p != "" && p != "514" {
			addr = netJoin(addr, p)
		}
		out = append(out, addr)
	}
	m.cfg.Syslog = device.Known(out, m.at(actKey, "remote", "remote actions used by a logging rule"))
}

func netJoin(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
