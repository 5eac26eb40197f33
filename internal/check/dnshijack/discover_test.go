// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
)

func ap(s string) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr(s), 53) }

func TestDiscoveryResolvers(t *testing.T) {
	a := netip.MustParseAddr
	facts := &hostnet.Facts{DNS: hostnet.DNSConfig{Nameservers: []hostnet.Nameserver{
		{Addr: a("203.0.113.66"), Index: 0, File: "/etc/resolv.conf"},
		{Addr: a("198.51.100.53"), Index: 1, File: "/etc/resolv.conf"},
		{Addr: a("192.0.2.9"), Index: 3, File: "/etc/resolv.conf", Ignored: true},
	}}}
	tests := []struct {
		name       string
		d          Discovery
		want       []Resolver
		wantStatus []SourceStatus
	}{
		{
			name: "apt28_dhcp_and_os_agree",
			d: Discovery{Facts: facts, Interface: "eth0", DHCP: &dhcpprobe.Result{
				V4: &dhcpprobe.V4Result{Method: "inform", Replies: []dhcpprobe.V4Reply{{From: a("192.0.2.1"), ServerID: a("192.0.2.1"), DNS: []netip.Addr{a("203.0.113.66"), a("198.51.100.53")}}}},
				RA: &dhcpprobe.RAResult{RAs: []dhcpprobe.RA{{From: a("fe80::1%eth0"), RDNSS: []dhcpprobe.RDNSS{{Addrs: []netip.Addr{a("2001:db8::66")}, Lifetime: 600e9}}}}},
				V6: &dhcpprobe.V6Result{},
			}},
			want: []Resolver{
				{Addr: ap("203.0.113.66"), Sources: []Source{{Kind: SourceOS, Index: 0, Detail: "/etc/resolv.conf"}, {Kind: SourceDHCPv4, Index: 0, Detail: "eth0, DHCP server 192.0.2.1"}}},
				{Addr: ap("198.51.100.53"), Sources: []Source{{Kind: SourceOS, Index: 1, Detail: "/etc/resolv.conf"}, {Kind: SourceDHCPv4, Index: 1, Detail: "eth0, DHCP server 192.0.2.1"}}},
				{Addr: ap("2001:db8::66"), Sources: []Source{{Kind: SourceRA, Index: 0, Detail: "eth0, router fe80::1%eth0"}}},
			},
			wantStatus: []SourceStatus{
				{Kind: SourceOS, Found: 2},
				{Kind: SourceDHCPv4, Detail: "eth0", Found: 2},
				{Kind: SourceRA, Detail: "eth0", Found: 1},
				{Kind: SourceDHCPv6, Detail: "eth0"},
			},
		},
		{
			// The lab's dnsmasq answers the solicitation and sends its
			// unsolicited RA in the same window: one resolver, not two.
			name: "router_advertises_twice",
			d: Discovery{Facts: &hostnet.Facts{}, Interface: "eth0", DHCP: &dhcpprobe.Result{
				V4: &dhcpprobe.V4Result{Method: "inform"},
				RA: &dhcpprobe.RAResult{RAs: []dhcpprobe.RA{
					{From: a("fe80::1%eth0"), RDNSS: []dhcpprobe.RDNSS{{Addrs: []netip.Addr{a("2001:db8::66")}, Lifetime: 600e9}}},
					{From: a("fe80::1%eth0"), RDNSS: []dhcpprobe.RDNSS{{Addrs: []netip.Addr{a("2001:db8::66")}, Lifetime: 600e9}}},
				}},
				V6: &dhcpprobe.V6Result{Replies: []dhcpprobe.V6Reply{{From: a("fe80::1%eth0"), DNS: []netip.Addr{a("2001:db8::66")}}}},
			}},
			want: []Resolver{
				{Addr: ap("2001:db8::66"), Sources: []Source{{Kind: SourceRA, Index: 0, Detail: "eth0, router fe80::1%eth0"}, {Kind: SourceDHCPv6, Index: 0, Detail: "eth0, DHCPv6 server fe80::1%eth0"}}},
			},
			wantStatus: []SourceStatus{
				{Kind: SourceOS},
				{Kind: SourceDHCPv4, Detail: "eth0", Err: "no DHCP server answered (inform)"},
				{Kind: SourceRA, Detail: "eth0", Found: 1},
				{Kind: SourceDHCPv6, Detail: "eth0", Found: 1},
			},
		},
		{
			name: "dhcp_skipped_and_no_permission",
			d:    Discovery{Facts: &hostnet.Facts{}, Interface: "eth0", DHCP: &dhcpprobe.Result{V4Err: dhcpprobe.ErrPermission}, V6Skipped: "no IPv6 default route on eth0"},
			wantStatus: []SourceStatus{
				{Kind: SourceOS},
				{Kind: SourceDHCPv4, Detail: "eth0", Err: dhcpprobe.ErrPermission.Error()},
				{Kind: SourceRA, Detail: "eth0", Skipped: "no IPv6 default route on eth0"},
				{Kind: SourceDHCPv6, Detail: "eth0", Skipped: "no IPv6 default route on eth0"},
			},
		},
		{
			name:       "resolvers_named",
			d:          Discovery{OSSkipped: "--resolver given", DHCPSkipped: "--resolver given"},
			wantStatus: []SourceStatus{{Kind: SourceAll, Skipped: "--resolver given"}},
		},
		{
			name: "os_unreadable",
			d:    Discovery{Facts: &hostnet.Facts{Problems: []hostnet.Problem{{Fact: "dns", Err: errors.New("resolver configuration: not supported")}}}, DHCPSkipped: "--no-dhcp"},
			wantStatus: []SourceStatus{
				{Kind: SourceOS, Err: "resolver configuration: not supported"},
				{Kind: SourceDHCPv4, Skipped: "--no-dhcp"}, {Kind: SourceRA, Skipped: "--no-dhcp"}, {Kind: SourceDHCPv6, Skipped: "--no-dhcp"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := tt.d.Resolvers()
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
				t.Errorf("resolvers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStatus, st, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}
