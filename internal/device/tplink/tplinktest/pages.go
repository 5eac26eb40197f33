// SPDX-License-Identifier: Apache-2.0

package tplinktest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device/tplink"
)

// Samples are the real pages of a TL-WR841N v6/v7, firmware 3.12.5
// (shared/data/router-samples/tplink-legacy/SOURCES.md). The fake serves
// them as they are, changing only what its state changed.
type Samples struct {
	Status, Menu, Index []byte
}

// Sample file names.
const (
	StatusFile = "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm"
	MenuFile   = "wr841n-v6v7_3.12.5_talnir_MenuRpm.htm"
	IndexFile  = "wr841n-v6v7_3.12.5_talnir_Index.htm"
)

// LoadSamples reads the real pages from the shared data directory (tests
// find it with testutil.SharedData).
func LoadSamples(sharedData string) (Samples, error) {
	dir := filepath.Join(sharedData, "router-samples", "tplink-legacy")
	var s Samples
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{StatusFile, &s.Status}, {MenuFile, &s.Menu}, {IndexFile, &s.Index}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return Samples{}, err
		}
		*f.dst = b
	}
	return s, nil
}

// State is the router's settings. Default returns the state that matches
// the real StatusRpm sample (dynamic-IP WAN with the ISP's resolver
// 213.57.2.5, LAN 192.168.1.1/24); every other page is synthetic, built
// from the array layouts of CONFIGS.md §1.3 and the firmware templates.
type State struct {
	// WANType is StatusRpm wanPara[3]: 1 dynamic, 2 static, 3 PPPoE.
	WANType int
	// ISPDNS is what a WAN with automatic DNS uses (StatusRpm wanPara[11]
	// shows it when the WAN DNS is not set by hand).
	ISPDNS [2]string

	DHCP    DHCP
	Dynamic DynamicWAN
	Static  StaticWAN
	PPPoE   PPPoEWAN
	Manage  Manage
	Local   LocalManage
	UPnP    bool
	WPS     bool
	// WPSPIN is a synthetic PIN: the adapter must redact it.
	WPSPIN string
	// Firmware and Hardware are SoftwareUpgradeRpm's softUpInf.
	Firmware, Hardware string
}

// DHCP is LanDhcpServerRpm's DHCPPara (form fields dhcpserver, ip1, ip2,
// Lease, gateway, domain, dnsserver, dnsserver2).
type DHCP struct {
	Enabled         bool
	Start, End      string
	Lease           int
	Gateway, Domain string
	DNS1, DNS2      string
	RebootNeeded    bool
}

// DynamicWAN is WanDynamicIpCfgRpm's dhcpInf.
type DynamicWAN struct {
	IP, Mask, Gateway string
	MTU               int
	Manual            bool
	DNS1, DNS2        string
	Unicast           bool
	HostName          string
}

// StaticWAN is WanStaticIpCfgRpm's staticIpInf.
type StaticWAN struct {
	IP, Mask, Gateway string
	MTU               int
	DNS1, DNS2        string
}

// PPPoEWAN is PPPoECfgAdvRpm's pppoeInf (the advanced page: no
// credentials).
type PPPoEWAN struct {
	MRU            int
	ServiceName    string
	AcName         string
	FixedIPEnabled bool
	FixedIP        string
	EchoReq        int
	Manual         bool
	DNS1, DNS2     string
}

// Manage is ManageControlRpm's managementPara.
type Manage struct {
	Port                int
	IP                  string
	TelnetPortSupported bool
	TelnetPort          int
}

// LocalManage is LocalManageControlRpm's controlParam and macWhitelist.
type LocalManage struct {
	Whitelist bool
	MACs      [4]string
	PCMAC     string
}

// Default is the state matching the real StatusRpm sample.
func Default() State {
	return State{
		WANType: 1,
		ISPDNS:  [2]string{"213.57.2.5", "0.0.0.0"},
		DHCP: DHCP{Enabled: true, Start: "192.168.1.100", End: "192.168.1.199", Lease: 120,
			Gateway: "0.0.0.0", Domain: "", DNS1: "0.0.0.0", DNS2: "0.0.0.0"},
		Dynamic: DynamicWAN{IP: "149.78.64.152", Mask: "255.255.252.0", Gateway: "149.78.64.1", MTU: 1500,
			DNS1: "0.0.0.0", DNS2: "0.0.0.0", HostName: "TL-WR841N"},
		Static: StaticWAN{IP: "198.51.100.2", Mask: "255.255.255.0", Gateway: "198.51.100.1", MTU: 1500,
			DNS1: "198.51.100.53", DNS2: "0.0.0.0"},
		PPPoE:  PPPoEWAN{MRU: 1480, FixedIP: "0.0.0.0", DNS1: "0.0.0.0", DNS2: "0.0.0.0"},
		Manage: Manage{Port: 80, IP: "0.0.0.0"},
		Local: LocalManage{MACs: [4]string{"00-00-00-00-00-00", "00-00-00-00-00-00", "00-00-00-00-00-00", "00-00-00-00-00-00"},
			PCMAC: "02-00-5E-10-00-01"},
		UPnP:     true,
		WPS:      true,
		WPSPIN:   "12345670",
		Firmware: "3.12.5 Build 100929 Rel.57776n ",
		Hardware: "WR841N v6/v7 00000000",
	}
}

// WANDNSInUse is the resolver list StatusRpm shows for the state.
func (s State) WANDNSInUse() [2]string {
	switch s.WANType {
	case 1:
		if s.Dynamic.Manual {
			return [2]string{s.Dynamic.DNS1, s.Dynamic.DNS2}
		}
	case 2:
		return [2]string{s.Static.DNS1, s.Static.DNS2}
	case 3:
		if s.PPPoE.Manual {
			return [2]string{s.PPPoE.DNS1, s.PPPoE.DNS2}
		}
	}
	return s.ISPDNS
}

// elem is one array element: a number or a string.
type elem struct {
	s      string
	quoted bool
}

func num(n int) elem { return elem{s: strconv.Itoa(n)} }
func str(s string) elem {
	return elem{s: s, quoted: true}
}
func flag(b bool) elem {
	if b {
		return num(1)
	}
	return num(0)
}

// jsQuote writes s as a JavaScript string literal.
func jsQuote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case '\n':
			sb.WriteString(`\n`)
		case '/':
			sb.WriteString(`\/`)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// script writes one runtime array the way the httpd does (one element
// per line, then the 0,0 sentinel).
func script(name string, es ...elem) string {
	var sb strings.Builder
	sb.WriteString("<SCRIPT language=\"javascript\" type=\"text/javascript\">\nvar " + name + " = new Array(\n")
	for _, e := range es {
		if e.quoted {
			sb.WriteString(jsQuote(e.s))
		} else {
			sb.WriteString(e.s)
		}
		sb.WriteString(",\n")
	}
	sb.WriteString("0,0 );\n</SCRIPT>\n")
	return sb.String()
}

// synthetic wraps arrays in a minimal page. The body is a marker, not a
// template: the adapter reads only the arrays.
func synthetic(title string, scripts ...string) []byte {
	return []byte(strings.Join(scripts, "") +
		"<META http-equiv=Content-Type content=\"text/html; charset=iso-8859-1\">\n" +
		"<!-- synthetic page of routerwatch's tplinktest fake, from CONFIGS.md §1.3 -->\n" +
		"<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD><BODY><FORM action=\"" + title + "\" method=\"get\"></FORM></BODY></HTML>\n")
}

// Page builds the named page for state s, or nil when the fake has no
// such page. StatusRpm, MenuRpm and Index are the real samples.
func (s State) Page(name string, smp Samples, hidden []string) []byte {
	switch name {
	case tplink.PageStatus:
		return s.statusPage(smp.Status)
	case tplink.PageMenu:
		return menuPage(smp.Menu, hidden)
	case "Index.htm":
		return smp.Index
	case tplink.PageDHCP:
		d := s.DHCP
		return synthetic(name, script("DHCPPara", flag(d.Enabled), str(d.Start), str(d.End), num(d.Lease),
			str(d.Gateway), str(d.Domain), str(d.DNS1), str(d.DNS2), flag(d.RebootNeeded)))
	case tplink.PageWANDynamic:
		w := s.Dynamic
		es := make([]elem, 27)
		for i := range es {
			es[i] = num(0)
		}
		es[0] = num(1) // one WAN port
		es[13], es[14], es[15] = str(w.IP), str(w.Mask), str(w.Gateway)
		es[18], es[19], es[20], es[21], es[22] = num(w.MTU), flag(w.Manual), str(w.DNS1), flag(!w.Manual), str(w.DNS2)
		es[23], es[26] = flag(w.Unicast), str(w.HostName)
		return synthetic(name, script("dhcpInf", es...))
	case tplink.PageWANStatic:
		w := s.Static
		es := make([]elem, 18)
		for i := range es {
			es[i] = num(0)
		}
		es[0], es[6] = num(1), num(1)
		es[12], es[13], es[14], es[15], es[16], es[17] = str(w.IP), str(w.Mask), str(w.Gateway), num(w.MTU), str(w.DNS1), str(w.DNS2)
		return synthetic(name, script("staticIpInf", es...))
	case tplink.PagePPPoEAdv:
		w := s.PPPoE
		es := make([]elem, 38)
		for i := range es {
			es[i] = num(0)
		}
		es[9], es[10], es[11], es[12], es[13] = num(w.MRU), str(w.ServiceName), str(w.AcName), flag(w.FixedIPEnabled), str(w.FixedIP)
		es[14], es[15], es[16], es[17] = num(w.EchoReq), flag(w.Manual), str(w.DNS1), str(w.DNS2)
		return synthetic(name, script("pppoeInf", es...))
	case tplink.PageManage:
		m := s.Manage
		return synthetic(name, script("managementPara", num(m.Port), str(m.IP), num(0), flag(m.TelnetPortSupported), num(m.TelnetPort)))
	case tplink.PageLocalManage:
		l := s.Local
		macs := make([]elem, len(l.MACs))
		for i, m := range l.MACs {
			macs[i] = str(m)
		}
		return synthetic(name, script("controlParam", num(len(l.MACs)), str(l.PCMAC), flag(l.Whitelist)), script("macWhitelist", macs...))
	case tplink.PageUPnP:
		return synthetic(name, script("uPnPPara", flag(s.UPnP), num(0), num(6)), script("uPnPList"))
	case tplink.PageWPS:
		return synthetic(name, script("wpsInf", flag(s.WPS), str(s.WPSPIN), num(1), num(0), num(0), num(0)))
	case tplink.PageUpgrade:
		return synthetic(name, script("softUpInf", str(s.Firmware), str(s.Hardware)))
	}
	return nil
}

// Pages returns every page the adapter reads, for state s.
func (s State) Pages(smp Samples) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range []string{tplink.PageMenu, tplink.PageStatus, tplink.PageDHCP, tplink.PageManage,
		tplink.PageLocalManage, tplink.PageUPnP, tplink.PageWPS, tplink.PageUpgrade} {
		out[n] = s.Page(n, smp, nil)
	}
	switch s.WANType {
	case 1:
		out[tplink.PageWANDynamic] = s.Page(tplink.PageWANDynamic, smp, nil)
	case 2:
		out[tplink.PageWANStatic] = s.Page(tplink.PageWANStatic, smp, nil)
	case 3:
		out[tplink.PagePPPoEAdv] = s.Page(tplink.PagePPPoEAdv, smp, nil)
	}
	return out
}

// statusPage is the real StatusRpm with wanPara[3] (WAN type) and
// wanPara[11] (resolvers in use) replaced by the state's; with the
// default state it is the sample byte for byte.
func (s State) statusPage(real []byte) []byte {
	p, err := tplink.ParsePage(real)
	if err != nil {
		panic(fmt.Sprintf("tplinktest: the real StatusRpm does not parse: %v", err))
	}
	wan := p.Array("wanPara")
	if wan == nil || len(wan.Values) < 12 {
		panic("tplinktest: the real StatusRpm has no wanPara")
	}
	dns := s.WANDNSInUse()
	t, d := wan.Values[3], wan.Values[11]
	var out bytes.Buffer
	out.Write(real[:t.Start])
	out.WriteString(strconv.Itoa(s.WANType))
	out.Write(real[t.End:d.Start])
	out.WriteString(jsQuote(dns[0] + " , " + dns[1]))
	out.Write(real[d.End:])
	return out.Bytes()
}

// menuPage is the real MenuRpm without the hidden page names.
func menuPage(real []byte, hidden []string) []byte {
	out := real
	for _, h := range hidden {
		out = bytes.Replace(out, []byte("\""+strings.TrimSuffix(h, ".htm")+"\",\n"), nil, 1)
	}
	return out
}
