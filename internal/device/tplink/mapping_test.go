// SPDX-License-Identifier: Apache-2.0

package tplink_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func samples(tb testing.TB) tplinktest.Samples {
	tb.Helper()
	s, err := tplinktest.LoadSamples(testutil.SharedData(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func fieldText[T any](f device.Field[T]) string {
	if !f.Known {
		return "?"
	}
	return fmt.Sprint(f.Value)
}

// summary writes each field of c as text ("?" for unknown), and where
// it was read.
func summary(c device.Config) (vals, where map[string]string) {
	vals, where = map[string]string{}, map[string]string{}
	add := func(k, v string, s device.Source) {
		vals[k] = v
		where[k] = s.Where
		if s.Note != "" {
			where[k+"#note"] = s.Note
		}
	}
	add("vendor", fieldText(c.Identity.Vendor), c.Identity.Vendor.Source)
	add("model", fieldText(c.Identity.Model), c.Identity.Model.Source)
	add("hardware", fieldText(c.Identity.Hardware), c.Identity.Hardware.Source)
	add("firmware", fieldText(c.Identity.Firmware), c.Identity.Firmware.Source)
	add("wan_dns", fieldText(c.WANDNS), c.WANDNS.Source)
	add("wan_dns_auto", fieldText(c.WANDNSAuto), c.WANDNSAuto.Source)
	add("lan", fieldText(c.LAN), c.LAN.Source)
	add("dhcp_enabled", fieldText(c.DHCPEnabled), c.DHCPEnabled.Source)
	add("dhcp_range", fieldText(c.DHCPRange), c.DHCPRange.Source)
	add("dhcp_dns", fieldText(c.DHCPDNS), c.DHCPDNS.Source)
	for _, n := range []string{device.ServiceWeb, device.ServiceUPnP, device.ServiceWPS} {
		s := c.Service(n)
		add(n+".enabled", fieldText(s.Enabled), s.Enabled.Source)
		add(n+".port", fieldText(s.Port), s.Port.Source)
		add(n+".allowed", fieldText(s.Allowed), s.Allowed.Source)
		add(n+".wan", fieldText(s.WAN), s.WAN.Source)
	}
	add("local_management", fieldText(c.LocalManagement), c.LocalManagement.Source)
	add("admins", fieldText(c.Admins), c.Admins.Source)
	add("port_forwards", fieldText(c.PortForwards), c.PortForwards.Source)
	add("dmz", fieldText(c.DMZ), c.DMZ.Source)
	add("ntp", fieldText(c.NTP), c.NTP.Source)
	add("syslog", fieldText(c.Syslog), c.Syslog.Source)
	add("snmp", fieldText(c.SNMPCommunities), c.SNMPCommunities.Source)
	return vals, where
}

// pick keeps the keys of want.
func pick(got, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := got[k]; ok {
			out[k] = v
		} else {
			out[k] = "<absent>"
		}
	}
	return out
}

// defaultWant is the configuration of tplinktest.Default(): the real
// StatusRpm with the synthetic pages.
var defaultWant = map[string]string{
	"vendor":           "TP-Link",
	"model":            "WR841N",
	"hardware":         "WR841N v6/v7 00000000",
	"firmware":         "3.12.5 Build 100929 Rel.57776n",
	"wan_dns":          "[213.57.2.5]",
	"wan_dns_auto":     "true",
	"lan":              "192.168.1.1/24",
	"dhcp_enabled":     "true",
	"dhcp_range":       "{192.168.1.100 192.168.1.199}",
	"dhcp_dns":         "[192.168.1.1]",
	"web.enabled":      "true",
	"web.port":         "80",
	"web.allowed":      "?",
	"web.wan":          "false",
	"upnp.enabled":     "true",
	"upnp.port":        "?",
	"wps.enabled":      "true",
	"local_management": "[]",
	"admins":           "[admin]",
	"port_forwards":    "?",
	"dmz":              "?",
	"ntp":              "?",
	"syslog":           "?",
	"snmp":             "?",
}

// TestMapRealStatusPage maps the real StatusRpm alone: every value below
// was read by hand in wr841n-v6v7_3.12.5_talnir_StatusRpm.htm.
func TestMapRealStatusPage(t *testing.T) {
	smp := samples(t)
	cfg, warn := tplink.Map(tplink.Pages{Bodies: map[string][]byte{tplink.PageStatus: smp.Status}})
	vals, where := summary(cfg)
	want := map[string]string{
		"vendor": "TP-Link",
		// statusPara[6] "WR841N v6/v7 00000000".
		"model":    "WR841N",
		"hardware": "WR841N v6/v7 00000000",
		// statusPara[5] "3.12.5 Build 100929 Rel.57776n " (trailing space).
		"firmware": "3.12.5 Build 100929 Rel.57776n",
		// wanPara[11] "213.57.2.5 , 0.0.0.0": 0.0.0.0 is no server.
		"wan_dns": "[213.57.2.5]",
		// wanPara[3] = 1 (dynamic IP) but WanDynamicIpCfgRpm was not read.
		"wan_dns_auto": "?",
		// lanPara[1] "192.168.1.1", [2] "255.255.255.0".
		"lan":          "192.168.1.1/24",
		"dhcp_enabled": "?", "dhcp_dns": "?", "web.wan": "?", "upnp.enabled": "?", "wps.enabled": "?",
		"admins": "?", "local_management": "?",
	}
	if d := cmp.Diff(want, pick(vals, want)); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	wantWhere := map[string]string{
		"firmware":          "StatusRpm.htm statusPara[5]",
		"hardware":          "StatusRpm.htm statusPara[6]",
		"wan_dns":           "StatusRpm.htm wanPara[11]",
		"lan":               "StatusRpm.htm lanPara[1],[2]",
		"wan_dns_auto":      "WanDynamicIpCfgRpm.htm dhcpInf",
		"wan_dns_auto#note": "page not read",
		"dhcp_dns#note":     "page not read",
	}
	if d := cmp.Diff(wantWhere, pick(where, wantWhere)); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	if len(warn) != 0 {
		t.Errorf("warnings: %q", warn)
	}
}

// TestMapRealMenuAndIndex: the other two real pages parse and say nothing
// about settings (unknown, not defaulted).
func TestMapRealMenuAndIndex(t *testing.T) {
	smp := samples(t)
	for _, tc := range []struct {
		file string
		page string
		body []byte
	}{
		{tplinktest.MenuFile, tplink.PageMenu, smp.Menu},
		{tplinktest.IndexFile, "Index.htm", smp.Index},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg, warn := tplink.Map(tplink.Pages{Bodies: map[string][]byte{tc.page: tc.body}})
			vals, _ := summary(cfg)
			for k, v := range vals {
				if k == "web.enabled" {
					continue // the pages came from the web UI
				}
				if v != "?" {
					t.Errorf("%s = %s from a page that does not hold it", k, v)
				}
			}
			if len(warn) != 0 {
				t.Errorf("warnings: %q", warn)
			}
		})
	}
}

func TestMap(t *testing.T) {
	smp := samples(t)
	for _, tc := range []struct {
		name   string
		state  func(*tplinktest.State)
		pages  func(map[string][]byte) // edits the page set
		user   string
		want   map[string]string
		where  map[string]string
		warned []string // substrings of the warnings
	}{
		{name: "default", user: "admin", want: defaultWant, where: map[string]string{
			"dhcp_dns":      "LanDhcpServerRpm.htm DHCPPara[6],[7]",
			"dhcp_dns#note": "0.0.0.0: the router hands out its own address (StatusRpm.htm lanPara[1])",
			"wan_dns_auto":  "WanDynamicIpCfgRpm.htm dhcpInf[19]",
			"wan_dns":       "StatusRpm.htm wanPara[11]",
			"web.wan":       "ManageControlRpm.htm managementPara[1]",
			"upnp.enabled":  "UpnpCfgRpm.htm uPnPPara[0]",
			"wps.enabled":   "WpsCfgRpm.htm wpsInf[0]",
			"admins":        "login user name",
			"port_forwards": "VirtualServerRpm.htm",
			"firmware":      "StatusRpm.htm statusPara[5]",
			"dhcp_range":    "LanDhcpServerRpm.htm DHCPPara[1],[2]",
			"web.port":      "ManageControlRpm.htm managementPara[0]",
			"dhcp_enabled":  "LanDhcpServerRpm.htm DHCPPara[0]",
		}},
		{name: "dhcp_dns_hijacked", state: func(s *tplinktest.State) { s.DHCP.DNS1, s.DHCP.DNS2 = "203.0.113.7", "0.0.0.0" },
			want: map[string]string{"dhcp_dns": "[203.0.113.7]"}, where: map[string]string{"dhcp_dns#note": "<absent>"}},
		{name: "dhcp_dns_two", state: func(s *tplinktest.State) { s.DHCP.DNS1, s.DHCP.DNS2 = "198.51.100.53", "198.51.100.54" },
			want: map[string]string{"dhcp_dns": "[198.51.100.53 198.51.100.54]"}},
		{name: "dhcp_dns_secondary_only", state: func(s *tplinktest.State) { s.DHCP.DNS2 = "198.51.100.54" },
			want: map[string]string{"dhcp_dns": "[192.168.1.1 198.51.100.54]"}},
		{name: "dhcp_dns_itself_without_lan", pages: func(p map[string][]byte) { delete(p, tplink.PageStatus) },
			want:  map[string]string{"dhcp_dns": "?", "lan": "?", "wan_dns": "?", "firmware": "3.12.5 Build 100929 Rel.57776n"},
			where: map[string]string{"dhcp_dns#note": "0.0.0.0: the router hands out its own address, but its LAN address could not be read", "firmware": "SoftwareUpgradeRpm.htm softUpInf[0]"}},
		{name: "dhcp_off", state: func(s *tplinktest.State) { s.DHCP.Enabled = false },
			want: map[string]string{"dhcp_enabled": "false"}},
		{name: "wan_dynamic_manual", state: func(s *tplinktest.State) {
			s.Dynamic.Manual, s.Dynamic.DNS1, s.Dynamic.DNS2 = true, "203.0.113.7", "0.0.0.0"
		}, want: map[string]string{"wan_dns": "[203.0.113.7]", "wan_dns_auto": "false"},
			where: map[string]string{"wan_dns": "WanDynamicIpCfgRpm.htm dhcpInf[20],[22]"}},
		{name: "wan_static", state: func(s *tplinktest.State) { s.WANType = 2 },
			want:  map[string]string{"wan_dns": "[198.51.100.53]", "wan_dns_auto": "false"},
			where: map[string]string{"wan_dns": "WanStaticIpCfgRpm.htm staticIpInf[16],[17]", "wan_dns_auto": "StatusRpm.htm wanPara[3]"}},
		{name: "wan_pppoe_auto", state: func(s *tplinktest.State) { s.WANType = 3 },
			want:  map[string]string{"wan_dns": "[213.57.2.5]", "wan_dns_auto": "true"},
			where: map[string]string{"wan_dns_auto": "PPPoECfgAdvRpm.htm pppoeInf[15]"}},
		{name: "wan_pppoe_manual", state: func(s *tplinktest.State) {
			s.WANType, s.PPPoE.Manual, s.PPPoE.DNS1, s.PPPoE.DNS2 = 3, true, "198.51.100.53", "198.51.100.54"
		}, want: map[string]string{"wan_dns": "[198.51.100.53 198.51.100.54]", "wan_dns_auto": "false"}},
		{name: "wan_l2tp_page_not_read", state: func(s *tplinktest.State) { s.WANType = 7 },
			want:  map[string]string{"wan_dns": "[213.57.2.5]", "wan_dns_auto": "?"},
			where: map[string]string{"wan_dns_auto#note": "L2TP WAN: its settings page is not read"}},
		{name: "wan_page_missing", pages: func(p map[string][]byte) { delete(p, tplink.PageWANDynamic) },
			want: map[string]string{"wan_dns": "[213.57.2.5]", "wan_dns_auto": "?"}},
		{name: "remote_management_anyone", state: func(s *tplinktest.State) { s.Manage.IP = "255.255.255.255" },
			want: map[string]string{"web.wan": "true", "web.allowed": "[]"}},
		{name: "remote_management_one_host", state: func(s *tplinktest.State) { s.Manage.IP, s.Manage.Port = "198.51.100.9", 31 },
			want: map[string]string{"web.wan": "true", "web.allowed": "[198.51.100.9/32]", "web.port": "31"}},
		{name: "remote_management_empty_ip", state: func(s *tplinktest.State) { s.Manage.IP = "" },
			want: map[string]string{"web.wan": "?", "web.allowed": "?"}, warned: []string{"remote management address \"\""}},
		{name: "upnp_wps_off", state: func(s *tplinktest.State) { s.UPnP, s.WPS = false, false },
			want: map[string]string{"upnp.enabled": "false", "wps.enabled": "false"}},
		{name: "local_allow_list", state: func(s *tplinktest.State) {
			s.Local.Whitelist = true
			s.Local.MACs[1] = "02-00-5e-10-00-02"
		}, want: map[string]string{"local_management": "[02-00-5E-10-00-02]"}},
		{name: "no_user", user: "", want: map[string]string{"admins": "?"}},
		{name: "dhcp_dns_garbage", state: func(s *tplinktest.State) { s.DHCP.DNS1 = "evil" },
			want: map[string]string{"dhcp_dns": "?"}, warned: []string{"DHCP DNS \"evil\""}},
		{name: "dhcp_page_without_array", pages: func(p map[string][]byte) { p[tplink.PageDHCP] = []byte("<html>login</html>") },
			want: map[string]string{"dhcp_dns": "?", "dhcp_enabled": "?"}, warned: []string{"array DHCPPara not on the page"}},
		{name: "dhcp_array_short", pages: func(p map[string][]byte) {
			p[tplink.PageDHCP] = []byte("var DHCPPara = new Array(1, \"192.168.1.100\", \"192.168.1.199\", 0,0);")
		}, want: map[string]string{"dhcp_dns": "?", "dhcp_enabled": "true", "dhcp_range": "{192.168.1.100 192.168.1.199}"},
			warned: []string{"DNS fields are [6] and [7]"}},
		{name: "status_too_large", pages: func(p map[string][]byte) { p[tplink.PageStatus] = make([]byte, tplink.MaxPageBytes+1) },
			want: map[string]string{"wan_dns": "?", "lan": "?", "firmware": "3.12.5 Build 100929 Rel.57776n"}, warned: []string{"page larger"}},
		{name: "two_wan_ports", pages: func(p map[string][]byte) {
			p[tplink.PageStatus] = []byte(strings.Replace(string(p[tplink.PageStatus]), "var statusPara = new Array(\n1,\n1,", "var statusPara = new Array(\n1,\n2,", 1))
		}, want: map[string]string{"wan_dns": "[213.57.2.5]"}, warned: []string{"2 WAN ports; only WAN1 is read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tplinktest.Default()
			if tc.state != nil {
				tc.state(&st)
			}
			pages := st.Pages(smp)
			if tc.pages != nil {
				tc.pages(pages)
			}
			user := tc.user
			if tc.name != "no_user" && user == "" {
				user = "admin"
			}
			cfg, warn := tplink.Map(tplink.Pages{Bodies: pages, User: user})
			vals, where := summary(cfg)
			if d := cmp.Diff(tc.want, pick(vals, tc.want)); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
			if tc.where != nil {
				if d := cmp.Diff(tc.where, pick(where, tc.where)); d != "" {
					t.Errorf("sources (-want +got):\n%s", d)
				}
			}
			for _, w := range tc.warned {
				if !slices.ContainsFunc(warn, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning containing %q in %q", w, warn)
				}
			}
			if tc.warned == nil && len(warn) != 0 {
				t.Errorf("unexpected warnings %q", warn)
			}
			checkSources(t, cfg)
		})
	}
}

// checkSources: every field names the adapter and where it looked.
func checkSources(t *testing.T, c device.Config) {
	t.Helper()
	_, where := summary(c)
	for k, w := range where {
		if strings.HasSuffix(k, "#note") {
			continue
		}
		if w == "" {
			t.Errorf("%s has no Source.Where", k)
		}
	}
	for _, f := range []device.Field[[]netip.Addr]{c.WANDNS, c.DHCPDNS} {
		if f.Source.Adapter != tplink.AdapterName {
			t.Errorf("source adapter %q", f.Source.Adapter)
		}
		for _, a := range f.Value {
			if !a.Is4() || a.IsUnspecified() {
				t.Errorf("resolver %s in a known list", a)
			}
		}
	}
}

// FuzzMap feeds one body as every page: Map must not panic, and what it
// says is known must be well formed.
func FuzzMap(f *testing.F) {
	smp := samples(f)
	for _, b := range tplinktest.Default().Pages(smp) {
		f.Add(b)
	}
	f.Add(smp.Menu)
	f.Add(smp.Index)
	f.Add([]byte(`var managementPara = new Array(80, "255.255.255.255", 0,0); var DHCPPara = new Array(1,"a","b",1,"","","0.0.0.0","",0,0);`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pages := map[string][]byte{}
		for _, p := range []string{tplink.PageStatus, tplink.PageDHCP, tplink.PageWANDynamic, tplink.PageWANStatic,
			tplink.PagePPPoEAdv, tplink.PageManage, tplink.PageLocalManage, tplink.PageUPnP, tplink.PageWPS, tplink.PageUpgrade} {
			pages[p] = b
		}
		cfg, _ := tplink.Map(tplink.Pages{Bodies: pages, User: "admin"})
		checkSources(t, cfg)
		if cfg.DHCPRange.Known && (!cfg.DHCPRange.Value.First.IsValid() || !cfg.DHCPRange.Value.Last.IsValid()) {
			t.Fatalf("known DHCP range %v", cfg.DHCPRange.Value)
		}
		if cfg.LAN.Known && !cfg.LAN.Value.IsValid() {
			t.Fatalf("known LAN %v", cfg.LAN.Value)
		}
		if p := cfg.Service(device.ServiceWeb).Port; p.Known && p.Value == 0 {
			t.Fatal("known web port 0")
		}
	})
}
