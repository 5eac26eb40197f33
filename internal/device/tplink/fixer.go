// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// The forms the Fixer re-submits. Each is read from the page's array and
// sent back with only the changed fields changed, the way the page's own
// form (and the DNS-changer code of CONFIGS.md §1.4) does: the firmware
// takes a Save as the whole form, so a field left out would be cleared.

// orderedForm is a query string in the order of the page's form fields
// (the firmware's C parser is not known to care, but a browser sends
// them in this order).
type orderedForm struct {
	keys, vals []string
}

func (f *orderedForm) add(k, v string) *orderedForm {
	f.keys = append(f.keys, k)
	f.vals = append(f.vals, v)
	return f
}

func (f *orderedForm) encode() string {
	var sb strings.Builder
	for i, k := range f.keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(k))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(f.vals[i]))
	}
	return sb.String()
}

// save sends a form as the page's own Save would.
func (s *session) save(ctx context.Context, page string, form *orderedForm) error {
	b, err := s.do(ctx, page, form.encode(), true)
	if err != nil {
		return err
	}
	if isLoginPage(b) {
		return fmt.Errorf("tplink: %s: the router answered a Save with its login page", page)
	}
	return nil
}

// dhcpForm is LanDhcpServerRpm's form (DHCPPara[0..7]).
type dhcpForm struct {
	Server  string `json:"dhcpserver"`
	Start   string `json:"ip1"`
	End     string `json:"ip2"`
	Lease   string `json:"lease"`
	Gateway string `json:"gateway"`
	Domain  string `json:"domain"`
	DNS1    string `json:"dnsserver"`
	DNS2    string `json:"dnsserver2"`
}

func readDHCP(a *Array) (*dhcpForm, error) {
	if a == nil || len(a.Values) < 8 {
		return nil, errors.New("DHCPPara is missing or shorter than 8 elements")
	}
	v := func(i int) string { s, _ := a.Str(i); return strings.TrimSpace(s) }
	return &dhcpForm{Server: v(0), Start: v(1), End: v(2), Lease: v(3), Gateway: v(4), Domain: v(5), DNS1: v(6), DNS2: v(7)}, nil
}

func (f *dhcpForm) form() *orderedForm {
	return new(orderedForm).add("dhcpserver", f.Server).add("ip1", f.Start).add("ip2", f.End).
		add("Lease", f.Lease).add("gateway", f.Gateway).add("domain", f.Domain).
		add("dnsserver", f.DNS1).add("dnsserver2", f.DNS2).add("Save", "Save")
}

// wanForm is the DNS-bearing form of one WAN type's page.
type wanForm struct {
	Type    WANType `json:"type"`
	Manual  bool    `json:"manual"`
	DNS1    string  `json:"dnsserver"`
	DNS2    string  `json:"dnsserver2"`
	MTU     string  `json:"mtu"`
	Host    string  `json:"host_name,omitempty"`    // dynamic: hostName
	Unicast bool    `json:"unicast_dhcp,omitempty"` // dynamic: flagMode
	IP      string  `json:"ip,omitempty"`           // static
	Mask    string  `json:"mask,omitempty"`         // static
	Gateway string  `json:"gateway,omitempty"`      // static
	Service string  `json:"service_name,omitempty"` // PPPoE
	AC      string  `json:"ac_name,omitempty"`      // PPPoE
	FixedOn bool    `json:"fixed_ip_enabled,omitempty"`
	FixedIP string  `json:"fixed_ip,omitempty"`      // PPPoE
	Echo    string  `json:"echo_interval,omitempty"` // PPPoE
}

func readWAN(t WANType, a *Array) (*wanForm, error) {
	v := func(i int) string { s, _ := a.Str(i); return strings.TrimSpace(s) }
	f := &wanForm{Type: t}
	switch t {
	case WANDynamic:
		if a == nil || len(a.Values) < 27 {
			return nil, errors.New("dhcpInf is missing or shorter than 27 elements")
		}
		f.MTU, f.Manual, f.DNS1, f.DNS2 = v(18), v(19) == "1", v(20), v(22)
		f.Unicast, f.Host = v(23) == "1", v(26)
	case WANStatic:
		if a == nil || len(a.Values) < 18 {
			return nil, errors.New("staticIpInf is missing or shorter than 18 elements")
		}
		f.IP, f.Mask, f.Gateway, f.MTU, f.DNS1, f.DNS2 = v(12), v(13), v(14), v(15), v(16), v(17)
		f.Manual = true
	case WANPPPoE:
		if a == nil || len(a.Values) < 18 {
			return nil, errors.New("pppoeInf is missing or shorter than 18 elements")
		}
		f.MTU, f.Service, f.AC, f.FixedOn, f.FixedIP = v(9), v(10), v(11), v(12) == "1", v(13)
		f.Echo, f.Manual, f.DNS1, f.DNS2 = v(14), v(15) == "1", v(16), v(17)
	default:
		return nil, fmt.Errorf("%w: the adapter does not change a %s WAN", device.ErrUnsupported, t)
	}
	return f, nil
}

// wanArray is the array of a WAN type's page.
func wanArray(t WANType) string {
	switch t {
	case WANDynamic:
		return "dhcpInf"
	case WANStatic:
		return "staticIpInf"
	}
	return "pppoeInf"
}

// form writes the page's form. A browser leaves out unchecked checkboxes
// and disabled fields (the DNS fields when "use these DNS servers" is
// off); the wantype values are the template's WAN_TYPE_* (0 dynamic,
// 1 static), as the crawler of CONFIGS.md §1.4 sends them.
func (f *wanForm) form() *orderedForm {
	o := new(orderedForm)
	switch f.Type {
	case WANDynamic:
		o.add("wan", "0").add("wantype", "0").add("mtu", f.MTU)
		if f.Manual {
			o.add("manual", "2").add("dnsserver", f.DNS1).add("dnsserver2", f.DNS2)
		}
		o.add("hostName", f.Host)
		if f.Unicast {
			o.add("flagMode", "2")
		}
	case WANStatic:
		o.add("wan", "0").add("wantype", "1").add("ip", f.IP).add("mask", f.Mask).add("gateway", f.Gateway).
			add("mtu", f.MTU).add("dnsserver", f.DNS1).add("dnsserver2", f.DNS2)
	case WANPPPoE:
		o.add("wan", "0").add("lcpMru", f.MTU).add("ServiceName", f.Service).add("AcName", f.AC)
		if f.FixedOn {
			o.add("fixedIpEn", "2").add("fixedIp", f.FixedIP)
		}
		o.add("EchoReq", f.Echo)
		if f.Manual {
			o.add("manual", "2").add("dnsserver", f.DNS1).add("dnsserver2", f.DNS2)
		}
		o.add("Save", "Save").add("Advanced", "Advanced")
		return o
	}
	return o.add("Save", "Save")
}

// manageForm is ManageControlRpm's form (managementPara[0], [1], [3],
// [4]).
type manageForm struct {
	Port       string `json:"port"`
	IP         string `json:"ip"`
	HasTelnet  bool   `json:"has_telnet_port,omitempty"`
	TelnetPort string `json:"telnet_port,omitempty"`
}

func readManage(a *Array) (*manageForm, error) {
	if a == nil || len(a.Values) < 2 {
		return nil, errors.New("managementPara is missing or shorter than 2 elements")
	}
	v := func(i int) string { s, _ := a.Str(i); return strings.TrimSpace(s) }
	return &manageForm{Port: v(0), IP: v(1), HasTelnet: v(3) == "1", TelnetPort: v(4)}, nil
}

func (f *manageForm) form() *orderedForm {
	o := new(orderedForm).add("port", f.Port)
	if f.HasTelnet {
		o.add("telnet_port", f.TelnetPort)
	}
	return o.add("ip", f.IP).add("Save", "Save")
}

// upnpForm is the UPnP page's toggle: its submit buttons are Upnpenable
// and Upnpdisable, and the hidden upnpenb carries the action.
func upnpForm(on bool) *orderedForm {
	if on {
		return new(orderedForm).add("upnpenb", "Enable").add("Upnpenable", "Enable")
	}
	return new(orderedForm).add("upnpenb", "Disable").add("Upnpdisable", "Disable")
}

// wpsForm is the WPS page's toggle. The firmware template WlanWpsRpm.htm
// (form action WpsCfgRpm.htm, method GET) has the submit buttons EnWps
// and DisWps, labelled "Enable WPS"/"Disable WPS" (the label is
// localized: the firmware is expected to look at the name). No capture
// confirms it; the Fixer's caller reads the setting back.
func wpsForm(on bool) *orderedForm {
	if on {
		return new(orderedForm).add("EnWps", "Enable WPS")
	}
	return new(orderedForm).add("DisWps", "Disable WPS")
}

// backupFormat names the Backup encoding.
const backupFormat = "routerwatch/tplink-legacy-backup/1"

// backup is what Backup returns and Restore re-submits: the forms of the
// pages the Fixer may change. It holds no secret (no page read holds
// one, and the WPS PIN is not kept).
type backup struct {
	Format string      `json:"format"`
	DHCP   *dhcpForm   `json:"dhcp,omitempty"`
	WAN    *wanForm    `json:"wan,omitempty"`
	Manage *manageForm `json:"manage,omitempty"`
	UPnP   *bool       `json:"upnp,omitempty"`
	WPS    *bool       `json:"wps,omitempty"`
}

// readArray reads one page and returns its array, or nil when the page
// has none.
func readArray(ctx context.Context, s *session, page, query, array string) (*Array, error) {
	b, err := s.read(ctx, page, query)
	if err != nil {
		return nil, err
	}
	p, err := ParsePage(b)
	if err != nil {
		return nil, fmt.Errorf("tplink: %s: %w", page, err)
	}
	return p.Array(array), nil
}

// flagOf reads a 1/0 element.
func flagOf(a *Array, i int) (bool, bool) {
	switch v, _ := a.Str(i); strings.TrimSpace(v) {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	return false, false
}

// currentWAN reads the WAN type from StatusRpm.
func currentWAN(ctx context.Context, s *session) (WANType, error) {
	b, err := s.read(ctx, PageStatus, "")
	if err != nil {
		return 0, err
	}
	p, err := ParsePage(b)
	if err != nil {
		return 0, fmt.Errorf("tplink: %s: %w", PageStatus, err)
	}
	t, ok := wanType(p)
	if !ok {
		return 0, fmt.Errorf("tplink: %s: the WAN type (wanPara[3]) could not be read", PageStatus)
	}
	return t, nil
}

// lanAddr reads the router's LAN address from StatusRpm (lanPara[1]).
func lanAddr(ctx context.Context, s *session) (netip.Addr, bool) {
	a, err := readArray(ctx, s, PageStatus, "", "lanPara")
	if err != nil {
		return netip.Addr{}, false
	}
	v, _ := a.Str(1)
	return parseIPv4(v)
}

// Backup reads the pages the Fixer may change and returns their forms as
// JSON. A page the router does not have (404) is left out.
func (l *Legacy) Backup(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials) ([]byte, error) {
	bk := backup{Format: backupFormat}
	err := l.withSession(ctx, d, t, c, func(s *session) error {
		skip := func(err error) error {
			if errors.Is(err, errPageMissing) {
				return nil
			}
			return err
		}
		if a, err := readArray(ctx, s, PageDHCP, "", "DHCPPara"); err != nil {
			if err := skip(err); err != nil {
				return err
			}
		} else if f, err := readDHCP(a); err == nil {
			bk.DHCP = f
		} else {
			return fmt.Errorf("tplink: %s: %w", PageDHCP, err)
		}
		if wt, err := currentWAN(ctx, s); err != nil {
			return err
		} else if page, query := wt.settingsPage(); page != "" {
			a, err := readArray(ctx, s, page, query, wanArray(wt))
			if err != nil {
				if err := skip(err); err != nil {
					return err
				}
			} else if f, err := readWAN(wt, a); err == nil {
				bk.WAN = f
			} else {
				return fmt.Errorf("tplink: %s: %w", page, err)
			}
		}
		if a, err := readArray(ctx, s, PageManage, "", "managementPara"); err != nil {
			if err := skip(err); err != nil {
				return err
			}
		} else if f, err := readManage(a); err == nil {
			bk.Manage = f
		} else {
			return fmt.Errorf("tplink: %s: %w", PageManage, err)
		}
		for _, tg := range []struct {
			page, array string
			dst         **bool
		}{{PageUPnP, "uPnPPara", &bk.UPnP}, {PageWPS, "wpsInf", &bk.WPS}} {
			a, err := readArray(ctx, s, tg.page, "", tg.array)
			if err != nil {
				if err := skip(err); err != nil {
					return err
				}
				continue
			}
			if on, ok := flagOf(a, 0); ok {
				*tg.dst = &on
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(bk, "", "  ")
}

// checkSettings refuses, before any request, what the Fixer cannot do.
func checkSettings(settings []device.Setting) error {
	for _, st := range settings {
		switch st.Path {
		case "dhcp_dns", "wan_dns":
			if len(st.DNS) > 2 {
				return fmt.Errorf("tplink: %s: the legacy web UI takes at most 2 resolvers, not %d", st.Path, len(st.DNS))
			}
			for _, a := range st.DNS {
				if !a.Is4() || a.IsUnspecified() {
					return fmt.Errorf("tplink: %s: %s is not an IPv4 resolver address", st.Path, a)
				}
			}
		case "services.web", "services.web.wan", "services.upnp", "services.wps":
			if !st.Off {
				return fmt.Errorf("%w: %s: the adapter only turns services off", device.ErrUnsupported, st.Path)
			}
		default:
			if strings.HasPrefix(st.Path, "services.") {
				return fmt.Errorf("%w: %s: the legacy web UI has no such setting", device.ErrUnsupported, st.Path)
			}
			return fmt.Errorf("%w: the adapter cannot change %q", device.ErrUnsupported, st.Path)
		}
	}
	return nil
}

// dnsFields writes a resolver list as the two form fields ("0.0.0.0" for
// none).
func dnsFields(dns []netip.Addr) (string, string) {
	f := [2]string{"0.0.0.0", "0.0.0.0"}
	for i, a := range dns {
		f[i] = a.String()
	}
	return f[0], f[1]
}

// Apply makes the changes, each by re-submitting its page's form with
// only that change:
//   - dhcp_dns: the DHCP server's resolvers. An empty list, or the
//     router's own LAN address alone, is written 0.0.0.0: the router
//     hands out itself, as it does by default.
//   - wan_dns: the resolvers on the page of the active WAN type (dynamic
//     IP, static IP, PPPoE). An empty list turns "use these DNS servers"
//     off (the ISP's resolvers); a static WAN needs at least one.
//   - services.web (or services.web.wan) off: remote management off
//     (ManageControlRpm ip=0.0.0.0, the port unchanged).
//   - services.upnp off, services.wps off.
//
// A setting that is already so sends no Save (each Save writes the
// router's flash). Other paths are refused with device.ErrUnsupported
// before anything is sent. Apply does not verify: the caller reads the
// settings back.
func (l *Legacy) Apply(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, settings []device.Setting) error {
	if err := checkSettings(settings); err != nil {
		return err
	}
	return l.withSession(ctx, d, t, c, func(s *session) error {
		for _, st := range settings {
			if err := apply(ctx, s, st); err != nil {
				return fmt.Errorf("tplink: %s: %w", st.Path, err)
			}
		}
		return nil
	})
}

func apply(ctx context.Context, s *session, st device.Setting) error {
	switch st.Path {
	case "dhcp_dns":
		a, err := readArray(ctx, s, PageDHCP, "", "DHCPPara")
		if err != nil {
			return err
		}
		f, err := readDHCP(a)
		if err != nil {
			return err
		}
		dns := st.DNS
		if lan, ok := lanAddr(ctx, s); ok && len(dns) == 1 && dns[0] == lan {
			dns = nil
		}
		d1, d2 := dnsFields(dns)
		if sameDNS(f.DNS1, d1) && sameDNS(f.DNS2, d2) {
			return nil // already so: no write to the router's flash
		}
		f.DNS1, f.DNS2 = d1, d2
		return s.save(ctx, PageDHCP, f.form())
	case "wan_dns":
		wt, err := currentWAN(ctx, s)
		if err != nil {
			return err
		}
		page, query := wt.settingsPage()
		if page == "" {
			return fmt.Errorf("%w: the adapter does not change a %s WAN", device.ErrUnsupported, wt)
		}
		a, err := readArray(ctx, s, page, query, wanArray(wt))
		if err != nil {
			return err
		}
		f, err := readWAN(wt, a)
		if err != nil {
			return err
		}
		if len(st.DNS) == 0 {
			if wt == WANStatic {
				return errors.New("a static IP WAN needs at least one resolver")
			}
			if !f.Manual {
				return nil
			}
			f.Manual = false
		} else {
			d1, d2 := dnsFields(st.DNS)
			if f.Manual && sameDNS(f.DNS1, d1) && sameDNS(f.DNS2, d2) {
				return nil
			}
			f.Manual, f.DNS1, f.DNS2 = true, d1, d2
		}
		return s.save(ctx, page, f.form())
	case "services.web", "services.web.wan":
		a, err := readArray(ctx, s, PageManage, "", "managementPara")
		if err != nil {
			return err
		}
		f, err := readManage(a)
		if err != nil {
			return err
		}
		if f.IP == "0.0.0.0" {
			return nil
		}
		f.IP = "0.0.0.0"
		return s.save(ctx, PageManage, f.form())
	case "services.upnp":
		if off, err := isOff(ctx, s, PageUPnP, "uPnPPara"); err != nil || off {
			return err
		}
		return s.save(ctx, PageUPnP, upnpForm(false))
	case "services.wps":
		if off, err := isOff(ctx, s, PageWPS, "wpsInf"); err != nil || off {
			return err
		}
		return s.save(ctx, PageWPS, wpsForm(false))
	}
	return fmt.Errorf("%w: %q", device.ErrUnsupported, st.Path)
}

// sameDNS compares two resolver fields, "" and "0.0.0.0" both being
// none.
func sameDNS(a, b string) bool {
	norm := func(s string) string {
		if s = strings.TrimSpace(s); s == "" {
			return "0.0.0.0"
		}
		return s
	}
	return norm(a) == norm(b)
}

// isOff reads a service's on/off flag (element 0); a flag that does not
// read as 0 or 1 counts as on, so that the Save is sent.
func isOff(ctx context.Context, s *session, page, array string) (bool, error) {
	a, err := readArray(ctx, s, page, "", array)
	if err != nil {
		return false, err
	}
	on, ok := flagOf(a, 0)
	return ok && !on, nil
}

// Restore re-submits the forms of a Backup. It brings back what the
// router uses; resolvers stored behind an unchecked "use these DNS
// servers" box are not sent, as a browser does not send disabled fields.
func (l *Legacy) Restore(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, data []byte) error {
	var bk backup
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bk); err != nil {
		return fmt.Errorf("tplink: backup does not decode: %w", err)
	}
	if bk.Format != backupFormat {
		return fmt.Errorf("tplink: backup format %q, want %q", bk.Format, backupFormat)
	}
	if bk.WAN != nil {
		if page, _ := bk.WAN.Type.settingsPage(); page == "" {
			return fmt.Errorf("%w: backup of a %s WAN", device.ErrUnsupported, bk.WAN.Type)
		}
	}
	return l.withSession(ctx, d, t, c, func(s *session) error {
		if bk.DHCP != nil {
			if err := s.save(ctx, PageDHCP, bk.DHCP.form()); err != nil {
				return err
			}
		}
		if bk.WAN != nil {
			page, _ := bk.WAN.Type.settingsPage()
			if err := s.save(ctx, page, bk.WAN.form()); err != nil {
				return err
			}
		}
		if bk.Manage != nil {
			if err := s.save(ctx, PageManage, bk.Manage.form()); err != nil {
				return err
			}
		}
		if bk.UPnP != nil {
			if err := s.save(ctx, PageUPnP, upnpForm(*bk.UPnP)); err != nil {
				return err
			}
		}
		if bk.WPS != nil {
			if err := s.save(ctx, PageWPS, wpsForm(*bk.WPS)); err != nil {
				return err
			}
		}
		return nil
	})
}
