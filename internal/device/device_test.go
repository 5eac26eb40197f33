// SPDX-License-Identifier: Apache-2.0

package device

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var src = Source{Adapter: "test", Where: "fixture"}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func base() Config {
	c := Config{
		WANDNS:      Known(addrs("198.51.100.53", "198.51.100.54"), src),
		DHCPEnabled: Known(true, src),
		DHCPDNS:     Known(addrs("192.168.0.1"), src),
		Admins:      Known([]string{"admin"}, src),
		DMZ:         Known(netip.Addr{}, src),
	}
	c.SetService(ServiceTelnet, Service{Enabled: Known(false, src)})
	c.SetService(ServiceWeb, Service{Enabled: Known(true, src), Port: Known[uint16](80, src), WAN: Known(false, src)})
	return c
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   []string // Sentence of each change
	}{
		{"same", func(*Config) {}, nil},
		{"dhcp_primary_hijacked", func(c *Config) { c.DHCPDNS = Known(addrs("203.0.113.7"), src) },
			[]string{"DHCP DNS primary changed from 192.168.0.1 to 203.0.113.7"}},
		{"dhcp_secondary_added", func(c *Config) { c.DHCPDNS = Known(addrs("192.168.0.1", "203.0.113.7"), src) },
			[]string{"DHCP DNS secondary added: 203.0.113.7"}},
		{"wan_dns_swapped_is_two_changes", func(c *Config) { c.WANDNS = Known(addrs("198.51.100.54", "198.51.100.53"), src) },
			[]string{"WAN DNS primary changed from 198.51.100.53 to 198.51.100.54", "WAN DNS secondary changed from 198.51.100.54 to 198.51.100.53"}},
		{"remote_management_on", func(c *Config) {
			s := c.Service(ServiceWeb)
			s.WAN = Known(true, src)
			c.SetService(ServiceWeb, s)
		}, []string{"web from the Internet (remote management) changed from off to on"}},
		{"telnet_on", func(c *Config) { c.SetService(ServiceTelnet, Service{Enabled: Known(true, src)}) },
			[]string{"telnet changed from off to on"}},
		{"new_service_known", func(c *Config) { c.SetService(ServiceUPnP, Service{Enabled: Known(true, src)}) },
			[]string{"upnp could not be read before; now on"}},
		{"admin_added", func(c *Config) { c.Admins = Known([]string{"admin", "support"}, src) },
			[]string{"admin account added: support"}},
		{"dmz_set", func(c *Config) { c.DMZ = Known(netip.MustParseAddr("192.168.0.66"), src) },
			[]string{"DMZ host changed from none to 192.168.0.66"}},
		{"dhcp_dns_unreadable", func(c *Config) { c.DHCPDNS = Unknown[[]netip.Addr](src) },
			[]string{"DHCP DNS could not be read this time (was 192.168.0.1)"}},
		{"port_forward_added", func(c *Config) {
			c.PortForwards = Known([]PortForward{{Proto: "tcp", ExternalPort: "8080", Internal: netip.MustParseAddr("192.168.0.9"), InternalPort: "80", Enabled: true}}, src)
		}, []string{"port forwards could not be read before; now tcp 8080 → 192.168.0.9:80"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, new := base(), base()
			tc.change(&new)
			var got []string
			for _, c := range Diff(&old, &new) {
				got = append(got, c.Sentence())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffForwards(t *testing.T) {
	fw := func(port string, to string) PortForward {
		return PortForward{Proto: "tcp", ExternalPort: port, Internal: netip.MustParseAddr(to), Enabled: true}
	}
	old := Config{PortForwards: Known([]PortForward{fw("22", "192.168.0.2"), fw("80", "192.168.0.3")}, src)}
	new := Config{PortForwards: Known([]PortForward{fw("80", "192.168.0.4"), fw("3389", "192.168.0.5")}, src)}
	var got []string
	for _, c := range Diff(&old, &new) {
		got = append(got, c.Path+" "+string(c.Kind))
	}
	want := []string{"port_forwards[tcp 22] removed", "port_forwards[tcp 3389] added", "port_forwards[tcp 80] changed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFieldJSON(t *testing.T) {
	c := Config{DHCPDNS: Unknown[[]netip.Addr](Source{Adapter: "tplink-legacy", Where: "LanDhcpServerRpm.htm", Note: "page missing"}),
		WANDNSAuto: Known(false, src)}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"dhcp_dns":{"known":false,"source":{"adapter":"tplink-legacy","where":"LanDhcpServerRpm.htm","note":"page missing"}}`,
		`"wan_dns_automatic":{"known":true,"value":false,"source":{"adapter":"test","where":"fixture"}}`,
		`"dhcp_range":{"known":false}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.DHCPDNS.Known || !back.WANDNSAuto.Known || back.WANDNSAuto.Value || back.DHCPDNS.Source.Note != "page missing" {
		t.Errorf("round trip: %+v %+v", back.DHCPDNS, back.WANDNSAuto)
	}
}
