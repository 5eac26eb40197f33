// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
)

// TestReachability decides telnet's reachability from the WAN for rule
// sets written for the purpose (synthetic, in the syntax of the real
// samples' /ip firewall sections).
func TestReachability(t *testing.T) {
	const base = "# jan/02/2021 10:00:00 by RouterOS 6.48.6\n" +
		"/interface list\nadd name=WAN\nadd name=LAN\n" +
		"/interface list member\nadd interface=ether1 list=WAN\nadd interface=bridge list=LAN\n" +
		"/ip service\nset telnet disabled=no\n"
	tests := []struct {
		name  string
		rules string // /ip firewall filter lines, or whole sections
		want  string // JSON value or unknown
		note  string // fragment of the Source note
	}{
		{"no_rules", "", `true`, "no input rule drops it"},
		{"defconf_drop_not_lan", "/ip firewall filter\nadd action=accept chain=input connection-state=established,related,untracked\nadd action=drop chain=input in-interface-list=!LAN\n",
			`false`, "dropped by filter rule (line 12)"},
		{"accept_before_drop", "/ip firewall filter\nadd chain=input dst-port=23 protocol=tcp\nadd action=drop chain=input in-interface-list=WAN\n",
			`true`, "accepted by filter rule (line 11)"},
		{"other_port_accepted", "/ip firewall filter\nadd chain=input dst-port=22-24 protocol=udp\nadd action=drop chain=input in-interface=ether1\n",
			`false`, "dropped by filter rule (line 12)"},
		{"port_range_accepted", "/ip firewall filter\nadd chain=input dst-port=20-25,80 protocol=6\nadd action=drop chain=input\n",
			`true`, "accepted by filter rule (line 11)"},
		{"accept_from_some_sources", "/ip firewall filter\nadd chain=input src-address-list=admins dst-port=23 protocol=tcp\nadd action=drop chain=input\n",
			`true`, "accepted from some sources"},
		{"drop_some_sources_then_end", "/ip firewall filter\nadd action=drop chain=input src-address-list=blacklist\n",
			`true`, "no input rule drops it"},
		{"non_syn_drop_does_not_match_syn", "/ip firewall filter\nadd action=drop chain=input connection-state=new protocol=tcp tcp-flags=!syn\nadd action=drop chain=input in-interface-list=WAN\n",
			`false`, "dropped by filter rule (line 12)"},
		{"jump_is_not_followed", "/ip firewall filter\nadd action=jump chain=input jump-target=wan-in in-interface-list=WAN\nadd action=drop chain=wan-in\n",
			unknown, "action jump"},
		{"unknown_matcher_may_drop", "/ip firewall filter\nadd action=drop chain=input dst-address-list=mine\n",
			unknown, "may drop it"},
		{"uncertain_drop_then_certain_drop", "/ip firewall filter\nadd action=drop chain=input dst-address-list=mine\nadd action=drop chain=input in-interface-list=WAN\n",
			`false`, "dropped by filter rule (line 12)"},
		{"uncertain_drop_then_accept", "/ip firewall filter\nadd action=drop chain=input connection-mark=x\nadd chain=input protocol=tcp\n",
			unknown, "may drop it"},
		{"disabled_drop_is_ignored", "/ip firewall filter\nadd action=drop chain=input disabled=yes\n",
			`true`, "no input rule drops it"},
		{"forward_chain_ignored", "/ip firewall filter\nadd action=drop chain=forward\n",
			`true`, "no input rule drops it"},
		{"raw_drop", "/ip firewall raw\nadd action=drop chain=prerouting in-interface-list=WAN\n",
			`false`, "dropped by raw rule (line 11)"},
		{"raw_notrack_then_untracked_accept", "/ip firewall raw\nadd action=notrack chain=prerouting dst-port=23 protocol=tcp\n/ip firewall filter\nadd chain=input connection-state=untracked\nadd action=drop chain=input\n",
			`true`, "accepted by filter rule (line 13)"},
		{"loopback_only_accept", "/ip firewall filter\nadd chain=input dst-address=127.0.0.1\nadd action=drop chain=input\n",
			`false`, "dropped by filter rule (line 12)"},
		// The analysis reads the IPv4 filter only: with IPv6 on the WAN
		// side, a drop proves nothing.
		{"ipv6_address_on_wan", "/ipv6 address\nadd address=2001:db8::1/64 interface=ether1\n/ip firewall filter\nadd action=drop chain=input in-interface-list=WAN\n",
			unknown, "the router has the IPv6 address 2001:db8::1/64 (line 11)"},
		{"ipv6_dhcp_client", "/ipv6 dhcp-client\nadd interface=ether1 pool-name=v6 request=prefix\n/ip firewall filter\nadd action=drop chain=input in-interface-list=WAN\n",
			unknown, "an IPv6 DHCP client runs on ether1"},
		{"ipv6_link_local_only", "/ipv6 address\nadd address=fe80::1/64 interface=bridge\n/ip firewall filter\nadd action=drop chain=input in-interface-list=WAN\n",
			`false`, "dropped by filter rule (line 13)"},
		{"local_destination_accept", "/ip firewall filter\nadd chain=input dst-address-type=local protocol=tcp\nadd action=drop chain=input\n",
			`true`, "accepted by filter rule (line 11)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := mikrotik.Importer{}.Import([]byte(base + tc.rules))
			if err != nil {
				t.Fatal(err)
			}
			checkFields(t, snap.Config, []expect{{"services.telnet.wan", tc.want, "/ip firewall filter input"}})
			f := field(t, snap.Config, "services.telnet.wan")
			note, _ := f["source"].(map[string]any)["note"].(string)
			if !strings.Contains(note, tc.note) {
				t.Errorf("note %q, want it to say %q", note, tc.note)
			}
		})
	}
}

// TestReachabilityWANInterfaces: which interfaces count as the WAN.
func TestReachabilityWANInterfaces(t *testing.T) {
	// /system identity makes each a whole export.
	const head = "# jan/02/2021 10:00:00 by RouterOS 6.48.6\n/system identity\nset name=gw\n/ip service\nset telnet disabled=no\n"
	for _, tc := range []struct {
		name, in, want, note string
	}{
		{"masquerade_out_interface", head + "/ip firewall nat\nadd action=masquerade chain=srcnat out-interface=pppoe-out1\n/ip firewall filter\nadd action=drop chain=input in-interface=pppoe-out1\n",
			`false`, "WAN: the out-interfaces of srcnat masquerade rules"},
		{"dhcp_client_interface", head + "/ip dhcp-client\nadd interface=ether1\n/ip firewall filter\nadd action=drop chain=input in-interface=ether2\n",
			`true`, "WAN: the interfaces of DHCP clients"},
		{"unknown_wan_interface", head + "/ip firewall filter\nadd action=drop chain=input in-interface=ether1\n",
			unknown, "an unknown WAN interface"},
		{"two_wans_one_open", head + "/interface list member\nadd interface=ether1 list=WAN\nadd interface=lte1 list=WAN\n/ip firewall filter\nadd action=drop chain=input in-interface=ether1\n",
			`true`, "on lte1: no input rule drops it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := mikrotik.Importer{}.Import([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			checkFields(t, snap.Config, []expect{{"services.telnet.wan", tc.want, "/ip firewall filter input"}})
			note, _ := field(t, snap.Config, "services.telnet.wan")["source"].(map[string]any)["note"].(string)
			if !strings.Contains(note, tc.note) {
				t.Errorf("note %q, want it to say %q", note, tc.note)
			}
		})
	}
}
