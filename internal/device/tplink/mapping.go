// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
)

// AdapterName names the online adapter in Sources and Snapshots.
const AdapterName = "tplink-legacy"

// The pages the adapter reads (the file part of /userRpm/<page>).
const (
	PageMenu        = "MenuRpm.htm"
	PageStatus      = "StatusRpm.htm"
	PageDHCP        = "LanDhcpServerRpm.htm"
	PageWANDynamic  = "WanDynamicIpCfgRpm.htm"
	PageWANStatic   = "WanStaticIpCfgRpm.htm"
	PagePPPoEAdv    = "PPPoECfgAdvRpm.htm"
	PageManage      = "ManageControlRpm.htm"
	PageLocalManage = "LocalManageControlRpm.htm"
	PageUPnP        = "UpnpCfgRpm.htm"
	PageWPS         = "WpsCfgRpm.htm"
	PageUpgrade     = "SoftwareUpgradeRpm.htm"
)

// WANType is the WAN connection type as StatusRpm's wanPara[3] gives it
// (the index into the page's wanTypeStringArray).
type WANType int

// The WAN types of the real StatusRpm template.
const (
	WANDynamic      WANType = 1
	WANStatic       WANType = 2
	WANPPPoE        WANType = 3
	WAN8021XDynamic WANType = 4
	WAN8021XStatic  WANType = 5
	WANBigPondCable WANType = 6
	WANL2TP         WANType = 7
	WANPPTP         WANType = 8

	wanTypeFirst = WANDynamic
	wanTypeLast  = WANPPTP
)

// noteLayoutNotFnd explains the fields the legacy adapter never reads.
const noteLayoutNotFnd = "not read: the page's array layout is not documented (CONFIGS.md §1.3 NOT FOUND)"

func (w WANType) String() string {
	switch w {
	case WANDynamic:
		return "dynamic IP"
	case WANStatic:
		return "static IP"
	case WANPPPoE:
		return "PPPoE"
	case WAN8021XDynamic:
		return "802.1X + dynamic IP"
	case WAN8021XStatic:
		return "802.1X + static IP"
	case WANBigPondCable:
		return "BigPond Cable"
	case WANL2TP:
		return "L2TP"
	case WANPPTP:
		return "PPTP"
	}
	return "WAN type " + strconv.Itoa(int(w))
}

// settingsPage returns the page holding the WAN type's DNS settings,
// with the query the web UI uses to open it, or "" when the adapter does
// not read that type's page.
func (w WANType) settingsPage() (page, query string) {
	switch w {
	case WANDynamic:
		return PageWANDynamic, "wan=0"
	case WANStatic:
		return PageWANStatic, ""
	case WANPPPoE:
		// PPPoE DNS lives on the Advanced sub-page; PPPoECfgRpm.htm holds
		// the PPPoE user and password and is never read.
		return PagePPPoEAdv, "Advanced=Advanced&wan=0"
	}
	return "", ""
}

// Pages is what Map reads: page bodies by page name, why the others were
// not read, and the login name used.
type Pages struct {
	Bodies map[string][]byte
	// Missing says why a page was not read ("not in this firmware's
	// menu", "HTTP 404").
	Missing map[string]string
	// User is the admin name the pages were read with.
	User string
	// Adapter names the adapter in Sources; empty means AdapterName.
	Adapter string
}

// Version strings, matched by pattern because their positions in
// statusPara differ between firmware lines (CONFIGS.md §1.3): the
// firmware is "3.12.5 Build 100929 Rel.57776n", the hardware
// "WR841N v6/v7 00000000" or "Archer C7 v2 00000000".
var (
	firmwareRe = regexp.MustCompile(`^\d+\.\d+\.\d+ Build \d{6} Rel\.\d+[A-Za-z]*$`)
	hardwareRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 ._+-]*?) v\d+(?:\.\d+)?(?:/v\d+(?:\.\d+)?)*(?: [0-9A-Fa-f]{8})?$`)
)

// Map reads the pages into a Config. Nothing is defaulted: a page not
// read, an array missing or a value that does not parse leaves the
// field unknown with why in its Source's Note. The returned warnings name
// the pages and values that could not be read.
func Map(p Pages) (device.Config, []string) {
	m := &mapper{in: p, adapter: p.Adapter, parsed: map[string]*Page{}, failed: map[string]string{}}
	if m.adapter == "" {
		m.adapter = AdapterName
	}
	m.identity()
	m.lan()
	m.wan()
	m.dhcp()
	m.services()
	m.localManagement()
	m.admins()
	note := device.Source{Adapter: m.adapter, Where: "-", Note: noteLayoutNotFnd}
	m.cfg.PortForwards = device.Unknown[[]device.PortForward](withWhere(note, "VirtualServerRpm.htm"))
	m.cfg.DMZ = device.Unknown[netip.Addr](withWhere(note, "DMZRpm.htm"))
	m.cfg.NTP = device.Unknown[[]string](withWhere(note, "DateTimeCfgRpm.htm"))
	m.cfg.Syslog = device.Unknown[[]string](withWhere(note, "SystemLogRpm.htm"))
	m.cfg.SNMPCommunities = device.Unknown[[]string](device.Source{Adapter: m.adapter, Where: "-",
		Note: "the legacy web UI has no SNMP agent settings"})
	return m.cfg, m.warn
}

func withWhere(s device.Source, where string) device.Source {
	s.Where = where
	return s
}

type mapper struct {
	in      Pages
	adapter string
	parsed  map[string]*Page
	failed  map[string]string // page → why it gave no arrays
	cfg     device.Config
	warn    []string
}

func (m *mapper) src(where, note string) device.Source {
	return device.Source{Adapter: m.adapter, Where: where, Note: note}
}

func (m *mapper) warnf(format string, args ...any) {
	m.warn = append(m.warn, fmt.Sprintf(format, args...))
}

// page returns the parsed page, or nil and why it is not available.
func (m *mapper) page(name string) (*Page, string) {
	if p, ok := m.parsed[name]; ok {
		return p, ""
	}
	if why, ok := m.failed[name]; ok {
		return nil, why
	}
	b, ok := m.in.Bodies[name]
	if !ok {
		why := "page not read"
		if r := m.in.Missing[name]; r != "" {
			why += ": " + r
		}
		m.failed[name] = why
		return nil, why
	}
	p, err := ParsePage(b)
	if err != nil {
		why := "page did not parse: " + err.Error()
		m.failed[name] = why
		m.warnf("%s: %v", name, err)
		return nil, why
	}
	m.parsed[name] = p
	return p, ""
}

// array returns the named array of a page, or nil with a Source saying
// why not. A page that was read but lacks the array is a warning.
func (m *mapper) array(page, name string) (*Array, device.Source) {
	p, why := m.page(page)
	if p == nil {
		return nil, m.src(page+" "+name, why)
	}
	if a := p.Array(name); a != nil {
		return a, m.src(page+" "+name, "")
	}
	why = "array " + name + " not on the page"
	if r, ok := p.Skipped[name]; ok {
		why = "array " + name + " did not parse: " + r
	}
	m.warnf("%s: %s", page, why)
	return nil, m.src(page+" "+name, why)
}

// at names one element: "DHCPPara[6]".
func at(page, name string, idx ...int) string {
	parts := make([]string, len(idx))
	for i, n := range idx {
		parts[i] = "[" + strconv.Itoa(n) + "]"
	}
	return page + " " + name + strings.Join(parts, ",")
}

func (m *mapper) identity() {
	id := &m.cfg.Identity
	status, ssrc := m.array(PageStatus, "statusPara")
	up, usrc := m.array(PageUpgrade, "softUpInf")
	id.Firmware = device.Unknown[string](ssrc)
	id.Hardware = device.Unknown[string](ssrc)
	id.Model = device.Unknown[string](ssrc)
	id.Vendor = device.Unknown[string](ssrc)
	if status != nil {
		for i, v := range status.Values {
			s := strings.TrimSpace(v.Text)
			if !v.Quoted {
				continue
			}
			if !id.Firmware.Known && firmwareRe.MatchString(s) {
				id.Firmware = device.Known(s, m.src(at(PageStatus, "statusPara", i), "found by pattern: positions differ between firmware lines"))
			}
			if !id.Hardware.Known && hardwareRe.MatchString(s) {
				id.Hardware = device.Known(s, m.src(at(PageStatus, "statusPara", i), "found by pattern: positions differ between firmware lines"))
			}
		}
	}
	// softUpInf has fixed positions ([0] firmware, [1] hardware); it is
	// the fallback when StatusRpm was not read or its strings changed shape.
	if up != nil {
		if s, ok := up.Str(0); ok && !id.Firmware.Known && strings.TrimSpace(s) != "" {
			id.Firmware = device.Known(strings.TrimSpace(s), m.src(at(PageUpgrade, "softUpInf", 0), ""))
		}
		if s, ok := up.Str(1); ok && !id.Hardware.Known && strings.TrimSpace(s) != "" {
			id.Hardware = device.Known(strings.TrimSpace(s), m.src(at(PageUpgrade, "softUpInf", 1), ""))
		}
	}
	if !id.Firmware.Known && status != nil {
		id.Firmware.Source.Note = "no firmware string in statusPara"
	}
	if !id.Hardware.Known && status != nil {
		id.Hardware.Source.Note = "no hardware string in statusPara"
	}
	if id.Hardware.Known {
		if mm := hardwareRe.FindStringSubmatch(id.Hardware.Value); mm != nil {
			id.Model = device.Known(mm[1], device.Source{Adapter: m.adapter, Where: id.Hardware.Source.Where,
				Note: "the model part of the hardware version, as the router writes it"})
		}
	}
	// These arrays exist only on the legacy TP-Link httpd.
	switch {
	case status != nil:
		id.Vendor = device.Known("TP-Link", m.src(PageStatus+" statusPara", "the legacy TP-Link web UI's status array"))
	case up != nil:
		id.Vendor = device.Known("TP-Link", m.src(PageUpgrade+" softUpInf", "the legacy TP-Link web UI's upgrade array"))
	default:
		id.Vendor.Source = usrc
	}
}

// maskBits reads a mask "255.255.255.0" or the mask-class index some
// firmware puts in lanPara[2] (the template's maskArray: 0 class A, 1
// class B, 2 class C).
func maskBits(s string) (int, bool) {
	switch strings.TrimSpace(s) {
	case "0":
		return 8, true
	case "1":
		return 16, true
	case "2":
		return 24, true
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&(1<<31) != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return 0, false // not contiguous
	}
	return bits, true
}

func parseIPv4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

func (m *mapper) lan() {
	a, src := m.array(PageStatus, "lanPara")
	m.cfg.LAN = device.Unknown[netip.Prefix](src)
	if a == nil {
		return
	}
	where := at(PageStatus, "lanPara", 1, 2)
	ipText, _ := a.Str(1)
	maskText, _ := a.Str(2)
	ip, ok1 := parseIPv4(ipText)
	bits, ok2 := maskBits(maskText)
	if !ok1 || !ok2 {
		m.warnf("%s: LAN address %q mask %q do not parse", PageStatus, ipText, maskText)
		m.cfg.LAN = device.Unknown[netip.Prefix](m.src(where, fmt.Sprintf("%q / %q do not parse", ipText, maskText)))
		return
	}
	m.cfg.LAN = device.Known(netip.PrefixFrom(ip, bits), m.src(where, ""))
}

// dnsList reads resolver fields; "0.0.0.0" and "" mean none. ok is false
// when a field is neither empty nor an IPv4 address.
func dnsList(fields ...string) ([]netip.Addr, bool) {
	out := []netip.Addr{}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" || f == "0.0.0.0" {
			continue
		}
		a, ok := parseIPv4(f)
		if !ok {
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}

// wanType reads StatusRpm wanPara[3] for the first WAN port.
func wanType(status *Page) (WANType, bool) {
	a := status.Array("wanPara")
	n, ok := a.Int(3)
	if !ok || n < int(wanTypeFirst) || n > int(wanTypeLast) {
		return 0, false
	}
	return WANType(n), true
}

func (m *mapper) wan() {
	wp, wsrc := m.array(PageStatus, "wanPara")
	m.cfg.WANDNS = device.Unknown[[]netip.Addr](wsrc)
	m.cfg.WANDNSAuto = device.Unknown[bool](wsrc)
	// The resolvers in use, as the status page shows them: "a , b".
	var inUse device.Field[[]netip.Addr]
	if wp != nil {
		if sp := m.parsed[PageStatus]; sp != nil {
			if n, ok := sp.Array("statusPara").Int(1); ok && n > 1 {
				m.warnf("%s: %d WAN ports; only WAN1 is read", PageStatus, n)
			}
		}
		s, ok := wp.Str(11)
		where := at(PageStatus, "wanPara", 11)
		if addrs, good := dnsList(strings.Split(s, ",")...); ok && good {
			inUse = device.Known(addrs, m.src(where, "the resolvers in use"))
		} else {
			m.warnf("%s: WAN DNS %q does not parse", PageStatus, s)
			inUse = device.Unknown[[]netip.Addr](m.src(where, fmt.Sprintf("%q does not parse", s)))
		}
		m.cfg.WANDNS = inUse
	}
	if wp == nil {
		return
	}
	t, ok := wanType(m.parsed[PageStatus])
	typeWhere := at(PageStatus, "wanPara", 3)
	if !ok {
		v, _ := wp.Str(3)
		m.cfg.WANDNSAuto = device.Unknown[bool](m.src(typeWhere, fmt.Sprintf("WAN type %q not known", v)))
		return
	}
	page, _ := t.settingsPage()
	var arr string
	var flagIdx, dns1, dns2 int
	switch t {
	case WANDynamic:
		arr, flagIdx, dns1, dns2 = "dhcpInf", 19, 20, 22
	case WANStatic:
		arr, flagIdx, dns1, dns2 = "staticIpInf", -1, 16, 17
	case WANPPPoE:
		arr, flagIdx, dns1, dns2 = "pppoeInf", 15, 16, 17
	default:
		m.cfg.WANDNSAuto = device.Unknown[bool](m.src(typeWhere, t.String()+" WAN: its settings page is not read"))
		return
	}
	if t == WANStatic {
		m.cfg.WANDNSAuto = device.Known(false, m.src(typeWhere, "a static IP WAN always has its resolvers set by hand"))
	}
	a, src := m.array(page, arr)
	if a == nil {
		if t != WANStatic {
			m.cfg.WANDNSAuto = device.Unknown[bool](src)
		}
		return
	}
	manual := true
	if flagIdx >= 0 {
		f, _ := a.Str(flagIdx)
		switch strings.TrimSpace(f) {
		case "1":
			manual = true
		case "0":
			manual = false
		default:
			m.warnf("%s: manual-DNS flag %s[%d] = %q", page, arr, flagIdx, f)
			m.cfg.WANDNSAuto = device.Unknown[bool](m.src(at(page, arr, flagIdx), fmt.Sprintf("flag %q not 0 or 1", f)))
			return
		}
		m.cfg.WANDNSAuto = device.Known(!manual, m.src(at(page, arr, flagIdx), "\"use these DNS servers\" checkbox"))
	}
	if !manual {
		// Automatic: the servers in use are the ones the ISP gave;
		// StatusRpm already filled WANDNS.
		return
	}
	s1, _ := a.Str(dns1)
	s2, _ := a.Str(dns2)
	where := at(page, arr, dns1, dns2)
	addrs, good := dnsList(s1, s2)
	if !good {
		m.warnf("%s: WAN DNS %q, %q do not parse", page, s1, s2)
		m.cfg.WANDNS = device.Unknown[[]netip.Addr](m.src(where, fmt.Sprintf("%q, %q do not parse", s1, s2)))
		return
	}
	m.cfg.WANDNS = device.Known(addrs, m.src(where, "set by hand on the "+t.String()+" WAN page"))
}

func (m *mapper) dhcp() {
	a, src := m.array(PageDHCP, "DHCPPara")
	m.cfg.DHCPEnabled = device.Unknown[bool](src)
	m.cfg.DHCPRange = device.Unknown[device.Range](src)
	m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](src)
	if a == nil {
		return
	}
	switch v, _ := a.Str(0); strings.TrimSpace(v) {
	case "1":
		m.cfg.DHCPEnabled = device.Known(true, m.src(at(PageDHCP, "DHCPPara", 0), ""))
	case "0":
		m.cfg.DHCPEnabled = device.Known(false, m.src(at(PageDHCP, "DHCPPara", 0), ""))
	default:
		m.warnf("%s: DHCP server flag %q", PageDHCP, v)
		m.cfg.DHCPEnabled = device.Unknown[bool](m.src(at(PageDHCP, "DHCPPara", 0), fmt.Sprintf("%q not 0 or 1", v)))
	}
	s1, _ := a.Str(1)
	s2, _ := a.Str(2)
	first, ok1 := parseIPv4(s1)
	last, ok2 := parseIPv4(s2)
	if ok1 && ok2 {
		m.cfg.DHCPRange = device.Known(device.Range{First: first, Last: last}, m.src(at(PageDHCP, "DHCPPara", 1, 2), ""))
	} else {
		m.warnf("%s: DHCP pool %q-%q does not parse", PageDHCP, s1, s2)
		m.cfg.DHCPRange = device.Unknown[device.Range](m.src(at(PageDHCP, "DHCPPara", 1, 2), fmt.Sprintf("%q-%q does not parse", s1, s2)))
	}
	d1, ok1 := a.Str(6)
	d2, ok2 := a.Str(7)
	where := at(PageDHCP, "DHCPPara", 6, 7)
	if !ok1 || !ok2 {
		m.warnf("%s: DHCPPara has %d elements, the DNS fields are [6] and [7]", PageDHCP, len(a.Values))
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](m.src(where, "array too short"))
		return
	}
	secondary, good := dnsList(d2)
	primary, good1 := dnsList(d1)
	if !good || !good1 {
		m.warnf("%s: DHCP DNS %q, %q do not parse", PageDHCP, d1, d2)
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](m.src(where, fmt.Sprintf("%q, %q do not parse", d1, d2)))
		return
	}
	if len(primary) == 1 {
		m.cfg.DHCPDNS = device.Known(append(primary, secondary...), m.src(where, ""))
		return
	}
	// No primary: the router hands out its own address (CONFIGS.md
	// §1.3), so clients ask the router, which forwards to the WAN DNS.
	if !m.cfg.LAN.Known {
		m.cfg.DHCPDNS = device.Unknown[[]netip.Addr](m.src(where,
			"0.0.0.0: the router hands out its own address, but its LAN address could not be read"))
		return
	}
	m.cfg.DHCPDNS = device.Known(append([]netip.Addr{m.cfg.LAN.Value.Addr()}, secondary...),
		m.src(where, "0.0.0.0: the router hands out its own address ("+at(PageStatus, "lanPara", 1)+")"))
}

func (m *mapper) services() {
	web := device.Service{}
	mp, msrc := m.array(PageManage, "managementPara")
	web.Enabled = device.Unknown[bool](msrc)
	web.Port = device.Unknown[uint16](msrc)
	web.Allowed = device.Unknown[[]netip.Prefix](msrc)
	web.WAN = device.Unknown[bool](msrc)
	if len(m.in.Bodies) > 0 {
		web.Enabled = device.Known(true, m.src("-", "these pages were served by the router's web UI"))
	}
	if mp != nil {
		if s, ok := mp.Str(0); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16); err == nil && n > 0 {
				web.Port = device.Known(uint16(n), m.src(at(PageManage, "managementPara", 0), "the web management port"))
			} else {
				m.warnf("%s: web management port %q", PageManage, s)
				web.Port = device.Unknown[uint16](m.src(at(PageManage, "managementPara", 0), fmt.Sprintf("%q is not a port", s)))
			}
		}
		s, _ := mp.Str(1)
		where := at(PageManage, "managementPara", 1)
		switch ip, ok := parseIPv4(s); {
		case ok && ip == netip.IPv4Unspecified():
			web.WAN = device.Known(false, m.src(where, "0.0.0.0: remote management disabled"))
			web.Allowed = device.Unknown[[]netip.Prefix](m.src(where,
				"remote management off: no remote allow-list (LAN access is local_management)"))
		case ok && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
			web.WAN = device.Known(true, m.src(where, "255.255.255.255: remote management from any host"))
			web.Allowed = device.Known([]netip.Prefix{}, m.src(where, "255.255.255.255: any host"))
		case ok:
			web.WAN = device.Known(true, m.src(where, "remote management from one host"))
			web.Allowed = device.Known([]netip.Prefix{netip.PrefixFrom(ip, 32)}, m.src(where, ""))
		default:
			m.warnf("%s: remote management address %q", PageManage, s)
			web.WAN = device.Unknown[bool](m.src(where, fmt.Sprintf("%q is not an address", s)))
			web.Allowed = device.Unknown[[]netip.Prefix](m.src(where, fmt.Sprintf("%q is not an address", s)))
		}
	}
	m.cfg.SetService(device.ServiceWeb, web)

	upnp := m.switchOnly("UPnP")
	up, usrc := m.array(PageUPnP, "uPnPPara")
	upnp.Enabled = m.flag(up, usrc, PageUPnP, "uPnPPara", 0, "")
	m.cfg.SetService(device.ServiceUPnP, upnp)

	wps := m.switchOnly("WPS")
	wp, wsrc := m.array(PageWPS, "wpsInf")
	// The layout is that of the firmware template WlanWpsRpm.htm, whose
	// form posts to WpsCfgRpm.htm (wpsInf[0] status, [1] the PIN); the
	// template is in the WR740N v4 image CONFIGS.md §1.1 cites, but
	// CONFIGS.md §1.3 lists the WPS layout as NOT FOUND.
	wps.Enabled = m.flag(wp, wsrc, PageWPS, "wpsInf", 0,
		"layout of the firmware template WlanWpsRpm.htm (form action WpsCfgRpm.htm); no capture confirms it")
	m.cfg.SetService(device.ServiceWPS, wps)
}

// switchOnly is a service the web UI only turns on or off: it has no
// port, allow-list or WAN setting to read.
func (m *mapper) switchOnly(what string) device.Service {
	src := m.src("-", "the legacy web UI has only an on/off setting for "+what)
	return device.Service{
		Port:    device.Unknown[uint16](src),
		Allowed: device.Unknown[[]netip.Prefix](src),
		WAN:     device.Unknown[bool](src),
	}
}

// flag reads a 1/0 element.
func (m *mapper) flag(a *Array, src device.Source, page, name string, i int, note string) device.Field[bool] {
	if a == nil {
		return device.Unknown[bool](src)
	}
	where := at(page, name, i)
	switch v, _ := a.Str(i); strings.TrimSpace(v) {
	case "1":
		return device.Known(true, m.src(where, note))
	case "0":
		return device.Known(false, m.src(where, note))
	default:
		m.warnf("%s: %s = %q, not 0 or 1", page, strings.TrimPrefix(where, page+" "), v)
		return device.Unknown[bool](m.src(where, fmt.Sprintf("%q not 0 or 1", v)))
	}
}

// localManagement reads LocalManageControlRpm: controlParam[0] is the
// number of MAC slots, [2] whether only the listed MACs may manage the
// router; macWhitelist holds the MACs ("00-00-00-00-00-00" = empty).
// The layout is that of the firmware template (CONFIGS.md §1.3 names
// only the form fields).
func (m *mapper) localManagement() {
	cp, src := m.array(PageLocalManage, "controlParam")
	m.cfg.LocalManagement = device.Unknown[[]string](src)
	if cp == nil {
		return
	}
	const note = "layout of the firmware template LocalManageControlRpm.htm; no capture confirms it"
	where := at(PageLocalManage, "controlParam", 2)
	switch v, _ := cp.Str(2); strings.TrimSpace(v) {
	case "0":
		m.cfg.LocalManagement = device.Known([]string{}, m.src(where, "0: every host on the LAN may manage the router; "+note))
		return
	case "1":
	default:
		m.warnf("%s: allow-list flag %q", PageLocalManage, v)
		m.cfg.LocalManagement = device.Unknown[[]string](m.src(where, fmt.Sprintf("%q not 0 or 1", v)))
		return
	}
	wl, wsrc := m.array(PageLocalManage, "macWhitelist")
	if wl == nil {
		m.cfg.LocalManagement = device.Unknown[[]string](wsrc)
		return
	}
	n, ok := cp.Int(0)
	if !ok || n < 0 || n > len(wl.Values) {
		n = len(wl.Values)
	}
	macs := []string{}
	for _, v := range wl.Values[:n] {
		mac := strings.ToUpper(strings.TrimSpace(v.Text))
		if mac == "" || mac == "00-00-00-00-00-00" {
			continue
		}
		macs = append(macs, mac)
	}
	m.cfg.LocalManagement = device.Known(macs, m.src(PageLocalManage+" macWhitelist", "1: only these MACs may manage the router; "+note))
}

func (m *mapper) admins() {
	if m.in.User == "" {
		m.cfg.Admins = device.Unknown[[]string](m.src("ChangeLoginPwdRpm.htm",
			"the legacy web UI has one admin account; its name is known only from a login"))
		return
	}
	m.cfg.Admins = device.Known([]string{m.in.User}, m.src("login user name",
		"the legacy web UI has one admin account (ChangeLoginPwdRpm); this is the name the pages were read with"))
}
