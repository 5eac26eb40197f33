// SPDX-License-Identifier: Apache-2.0

package hardening

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/finding/findingtest"
)

func TestMain(m *testing.M) { os.Exit(findingtest.TitleMain(m, Checks(), &emitted)) }

var (
	src      = device.Source{Adapter: "tplink-legacy", Where: "fixture"}
	attacker = netip.MustParseAddr("203.0.113.66")
	t0       = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
)

func knownBad(a netip.Addr) (string, bool) {
	if a == attacker {
		return "a published APT28 resolver (test list)", true
	}
	return "", false
}

func public(a netip.Addr) (string, bool) {
	if a == netip.MustParseAddr("1.1.1.1") {
		return "Cloudflare", true
	}
	return "", false
}

func ips(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// clean is a legacy TP-Link as it should be: DHCP hands out the router,
// WAN DNS automatic, remote management, telnet, UPnP, WPS off.
func clean() *device.Config {
	c := &device.Config{
		LAN:        device.Known(netip.MustParsePrefix("192.168.0.1/24"), src),
		DHCPDNS:    device.Known(ips("192.168.0.1"), src),
		WANDNSAuto: device.Known(true, src),
		WANDNS:     device.Known(ips("198.51.100.53"), src),
		Admins:     device.Known([]string{"owner"}, src),
	}
	c.Identity.Vendor = device.Known("TP-Link", src)
	c.Identity.Model = device.Known("TL-WR841N", src)
	c.Identity.Hardware = device.Known("14", src)
	c.Identity.Firmware = device.Known("0.9.1 4.16 v0001.0 Build 180305 Rel.54589n", src)
	c.SetService(device.ServiceWeb, device.Service{Enabled: device.Known(true, src), Port: device.Known[uint16](80, src), WAN: device.Known(false, src)})
	for _, s := range []string{device.ServiceTelnet, device.ServiceUPnP, device.ServiceWPS} {
		c.SetService(s, device.Service{Enabled: device.Known(false, src), WAN: device.Known(false, src)})
	}
	return c
}

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

func TestJudge(t *testing.T) {
	ix := index(t)
	tests := []struct {
		name   string
		change func(*device.Config, *Policy)
		want   map[string]string // check ID → "status severity"
		detail map[string]string // check ID → text the detail holds
	}{
		{name: "clean_router", change: func(*device.Config, *Policy) {},
			want: map[string]string{"config.dhcp_dns_not_allowed": "pass high", "config.wan_dns_not_allowed": "pass high",
				"config.remote_management": "pass high", "config.telnet_on": "pass medium", "config.upnp_on": "pass low",
				"config.wps_on": "pass medium", "config.default_admin_name": "pass low"}},
		{name: "dhcp_dns_hijacked_known_bad", change: func(c *device.Config, _ *Policy) { c.DHCPDNS = device.Known(ips("203.0.113.66", "198.51.100.53"), src) },
			want:   map[string]string{"config.dhcp_dns_not_allowed": "fail critical"},
			detail: map[string]string{"config.dhcp_dns_not_allowed": "primary 203.0.113.66 is a published attacker address"}},
		{name: "dhcp_dns_not_in_allow_list", change: func(c *device.Config, p *Policy) {
			c.DHCPDNS = device.Known(ips("198.51.100.99"), src)
			p.AllowedResolvers = ips("198.51.100.53")
		}, want: map[string]string{"config.dhcp_dns_not_allowed": "fail high"},
			detail: map[string]string{"config.dhcp_dns_not_allowed": "not in your allowed resolvers"}},
		{name: "no_policy_no_baseline_is_unknown", change: func(c *device.Config, _ *Policy) { c.DHCPDNS = device.Known(ips("198.51.100.99"), src) },
			want: map[string]string{"config.dhcp_dns_not_allowed": "unknown high"}},
		{name: "baseline_allows_its_resolvers", change: func(c *device.Config, p *Policy) {
			c.DHCPDNS = device.Known(ips("198.51.100.99"), src)
			b := clean()
			b.DHCPDNS = device.Known(ips("198.51.100.99"), src)
			p.Baseline = b
		}, want: map[string]string{"config.dhcp_dns_not_allowed": "pass high"}},
		{name: "public_resolver_allowed", change: func(c *device.Config, p *Policy) {
			c.DHCPDNS = device.Known(ips("1.1.1.1"), src)
			p.AllowedResolvers = ips("198.51.100.53")
		}, want: map[string]string{"config.dhcp_dns_not_allowed": "pass high"}, detail: map[string]string{}},
		{name: "dhcp_dns_unreadable", change: func(c *device.Config, _ *Policy) {
			c.DHCPDNS = device.Unknown[[]netip.Addr](device.Source{Adapter: "tplink-legacy", Where: "LanDhcpServerRpm.htm", Note: "page missing"})
		}, want: map[string]string{"config.dhcp_dns_not_allowed": "unknown high"},
			detail: map[string]string{"config.dhcp_dns_not_allowed": "LanDhcpServerRpm.htm: page missing"}},
		{name: "wan_dns_manual_attacker", change: func(c *device.Config, _ *Policy) {
			c.WANDNSAuto = device.Known(false, src)
			c.WANDNS = device.Known(ips("203.0.113.66"), src)
		}, want: map[string]string{"config.wan_dns_not_allowed": "fail critical"}},
		{name: "remote_management_on", change: func(c *device.Config, _ *Policy) {
			c.SetService(device.ServiceWeb, device.Service{Enabled: device.Known(true, src), Port: device.Known[uint16](8080, src),
				WAN: device.Known(true, src), Allowed: device.Known([]netip.Prefix{}, src)})
		}, want: map[string]string{"config.remote_management": "fail high"},
			detail: map[string]string{"config.remote_management": "web on port 8080 from anyone"}},
		{name: "upnp_wan_unknown_is_not_remote_management", change: func(c *device.Config, _ *Policy) {
			c.SetService(device.ServiceUPnP, device.Service{Enabled: device.Known(true, src)})
		}, want: map[string]string{"config.remote_management": "pass high"}},
		{name: "remote_unknown", change: func(c *device.Config, _ *Policy) {
			c.SetService(device.ServiceWeb, device.Service{Enabled: device.Known(true, src)})
		}, want: map[string]string{"config.remote_management": "unknown high"}},
		{name: "services_on", change: func(c *device.Config, _ *Policy) {
			for _, s := range []string{device.ServiceTelnet, device.ServiceUPnP, device.ServiceWPS} {
				c.SetService(s, device.Service{Enabled: device.Known(true, src), WAN: device.Known(false, src)})
			}
		}, want: map[string]string{"config.telnet_on": "fail medium", "config.upnp_on": "fail low", "config.wps_on": "fail medium"}},
		{name: "wps_not_readable", change: func(c *device.Config, _ *Policy) {
			c.SetService(device.ServiceWPS, device.Service{})
		}, want: map[string]string{"config.wps_on": "unknown medium"}},
		{name: "default_admin", change: func(c *device.Config, _ *Policy) { c.Admins = device.Known([]string{"admin"}, src) },
			want: map[string]string{"config.default_admin_name": "fail low"}},
		{name: "firmware_older_than_fixed", change: func(c *device.Config, _ *Policy) {
			c.Identity.Model = device.Known("Archer C7", src)
			c.Identity.Hardware = device.Known("2", src)
			c.Identity.Region = device.Known("EU", src)
			c.Identity.Firmware = device.Known("240926", src)
		}, want: map[string]string{"config.firmware_outdated": "fail high"},
			detail: map[string]string{"config.firmware_outdated": "CVE-2025-9377 fixed in 241108"}},
		{name: "firmware_at_fixed", change: func(c *device.Config, _ *Policy) {
			c.Identity.Model = device.Known("Archer C7", src)
			c.Identity.Hardware = device.Known("2", src)
			c.Identity.Region = device.Known("EU", src)
			c.Identity.Firmware = device.Known("241108", src)
		}, want: map[string]string{"config.firmware_outdated": "pass high"}},
		{name: "firmware_region_missing", change: func(c *device.Config, _ *Policy) {
			c.Identity.Model = device.Known("Archer C7", src)
			c.Identity.Hardware = device.Known("2", src)
			c.Identity.Firmware = device.Known("240926", src)
		}, want: map[string]string{"config.firmware_outdated": "unknown high"}},
		{name: "firmware_unknown", change: func(c *device.Config, _ *Policy) { c.Identity.Firmware = device.Unknown[string](src) },
			want: map[string]string{"config.firmware_outdated": "unknown high"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clean()
			p := Policy{KnownBad: knownBad, PublicResolver: public, AllowedResolvers: nil}
			if tc.name == "clean_router" {
				p.AllowedResolvers = ips("198.51.100.53")
			}
			tc.change(c, &p)
			fs := Judge(Input{Key: "192.168.0.1", Subject: "router 192.168.0.1", Config: c, Policy: p, Index: ix, Now: t0})
			got := map[string]string{}
			details := map[string]string{}
			for _, f := range fs {
				got[f.CheckID] = fmt.Sprintf("%s %s", f.Status, f.Severity)
				details[f.CheckID] = f.Detail
			}
			if len(fs) != len(Checks()) {
				t.Errorf("%d findings, want one per check (%d)", len(fs), len(Checks()))
			}
			for id, want := range tc.want {
				if got[id] != want {
					t.Errorf("%s = %q, want %q (detail %q)", id, got[id], want, details[id])
				}
			}
			for id, want := range tc.detail {
				if !strings.Contains(details[id], want) {
					t.Errorf("%s detail %q lacks %q", id, details[id], want)
				}
			}
		})
	}
}

func TestGrade(t *testing.T) {
	p := Policy{KnownBad: knownBad, PublicResolver: public, AllowedResolvers: ips("198.51.100.53")}
	old := clean()
	for _, tc := range []struct {
		name   string
		change func(*device.Config)
		want   []string
	}{
		{"dhcp_dns_to_attacker", func(c *device.Config) { c.DHCPDNS = device.Known(ips("203.0.113.66"), src) },
			[]string{"critical: DHCP DNS primary changed from 192.168.0.1 to 203.0.113.66 — not in your allowed resolvers; a published attacker address (a published APT28 resolver (test list))"}},
		{"dhcp_dns_to_allowed", func(c *device.Config) { c.DHCPDNS = device.Known(ips("198.51.100.53"), src) },
			[]string{"low: DHCP DNS primary changed from 192.168.0.1 to 198.51.100.53 — in your allowed resolvers"}},
		{"remote_management_on", func(c *device.Config) {
			s := c.Service(device.ServiceWeb)
			s.WAN = device.Known(true, src)
			c.SetService(device.ServiceWeb, s)
		}, []string{"high: web from the Internet (remote management) changed from off to on — reachable from the Internet"}},
		{"telnet_on", func(c *device.Config) {
			c.SetService(device.ServiceTelnet, device.Service{Enabled: device.Known(true, src), WAN: device.Known(false, src)})
		}, []string{"medium: telnet changed from off to on"}},
		{"admin_added", func(c *device.Config) { c.Admins = device.Known([]string{"owner", "support"}, src) },
			[]string{"high: admin account added: support — a new administrator"}},
		{"dhcp_unreadable", func(c *device.Config) { c.DHCPDNS = device.Unknown[[]netip.Addr](src) },
			[]string{"low: DHCP DNS could not be read this time (was 192.168.0.1) — the router no longer shows it"}},
		{"firmware_updated", func(c *device.Config) { c.Identity.Firmware = device.Known("0.9.1 4.17 Build 200114", src) },
			[]string{"info: firmware changed from 0.9.1 4.16 v0001.0 Build 180305 Rel.54589n to 0.9.1 4.17 Build 200114"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nw := clean()
			tc.change(nw)
			var got []string
			for _, g := range Grade(device.Diff(old, nw), nw, p) {
				got = append(got, g.Severity.String()+": "+g.Sentence())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Every declared status has a distinct title: the family's declaration is
// valid.
func TestChecksValid(t *testing.T) {
	for _, c := range Checks() {
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		if c.Family() != "config" {
			t.Errorf("%s is outside the config family", c.ID)
		}
	}
	_ = finding.StatusPass
}
