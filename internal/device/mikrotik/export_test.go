// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
)

// TestImportSamples imports every real export. Each expected value was
// read by hand from the file; the line numbers are the file's.
func TestImportSamples(t *testing.T) {
	tests := []struct {
		file     string
		takenAt  time.Time
		redacted int
		want     []expect
		warnings []string // fragments; nil means none
	}{
		{
			// Compact RouterOS 7.16 CHR export, CRLF line ends, no model.
			file:    "chr_ros7.16_auliaarifin-gns3_R-1.rsc",
			takenAt: time.Date(2025, 5, 6, 6, 32, 38, 0, time.UTC),
			want: []expect{
				{"identity.vendor", `"MikroTik"`, "header"},
				{"identity.firmware", `"7.16"`, "header by RouterOS"},   // line 1
				{"identity.model", unknown, "header"},                   // no "# model =" line
				{"wan_dns", `["1.1.1.1"]`, "/ip dns servers (line 29)"}, // set servers=1.1.1.1
				{"wan_dns_automatic", `false`, "/ip dns servers (line 29)"},
				// add address=172.0.0.125/25 interface=vrrp1, the DHCP
				// server's interface (line 25).
				{"lan", `"172.0.0.125/25"`, "/ip address address (line 21)"},
				// add address-pool=dhcp_pool0 interface=vrrp1 name=dhcp1:
				// no disabled=, and RouterOS 7's default is not documented.
				{"dhcp_enabled", unknown, "/ip dhcp-server disabled (line 25)"},
				{"dhcp_range", `{"first":"172.0.0.1","last":"172.0.0.124"}`, "/ip pool ranges (line 16)"},
				{"dhcp_dns", `["1.1.1.1"]`, "/ip dhcp-server network dns-server (line 27)"},
				// No /ip service line: ports and address lists take the
				// documented defaults, whether each runs is unknown.
				{"services.telnet.enabled", unknown, "/ip service telnet disabled"},
				{"services.telnet.port", `23`, "/ip service telnet port"},
				{"services.telnet.allowed", `[]`, "/ip service telnet address"},
				{"services.winbox.port", `8291`, "/ip service winbox port"},
				{"services.api-ssl.port", `8729`, "/ip service api-ssl port"},
				// No filter rule at all: the firewall lets telnet in from
				// ether1 (the masquerade's out-interface), but whether
				// telnet runs is unknown.
				{"services.telnet.wan", unknown, "/ip firewall filter input"},
				{"services.dns.enabled", `false`, "/ip dns allow-remote-requests"}, // default no
				{"services.dns.wan", `false`, "/ip firewall filter input"},
				{"services.upnp.enabled", `false`, "/ip upnp enabled"},
				{"services.snmp.enabled", `false`, "/snmp enabled"},
				{"snmp_communities", `["public"]`, "/snmp community name"},
				{"admins", unknown, "/user name"},
				{"port_forwards", `[]`, "/ip firewall nat"}, // only a masquerade (line 31)
				{"dmz", `""`, "/ip firewall nat"},
				{"ntp", `[]`, "/system ntp client enabled"},
				{"syslog", `[]`, "/system logging action"},
			},
		},
		{
			// Compact RouterOS 6.49.6 hAP, WAN management restricted by
			// source address.
			file:    "rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-DDO-dhcp.rsc",
			takenAt: time.Date(2022, 9, 12, 19, 17, 29, 0, time.UTC),
			want: []expect{
				{"identity.model", `"951Ui-2HnD"`, "header # model"}, // line 4
				{"identity.firmware", `"6.49.6"`, "header by RouterOS"},
				// /ip dns set allow-remote-requests=yes (line 42): no
				// static servers, so the ISP's.
				{"wan_dns", `[]`, "/ip dns servers"},
				{"wan_dns_automatic", `true`, "/ip dns servers"},
				{"lan", `"192.168.88.1/24"`, "/ip address address (line 34)"},
				{"dhcp_enabled", `true`, "/ip dhcp-server disabled (line 21)"},
				{"dhcp_range", `{"first":"192.168.88.10","last":"192.168.88.254"}`, "/ip pool ranges (line 19)"},
				{"dhcp_dns", `["192.168.88.1"]`, "/ip dhcp-server network dns-server (line 40)"},
				{"services.dns.enabled", `true`, "/ip dns allow-remote-requests (line 42)"},
				// drop dst-port=53 in-interface="ether1 - Uplink" (lines
				// 52, 53), the WAN list's member (line 32).
				{"services.dns.wan", `false`, "/ip firewall filter input"},
				{"services.telnet.enabled", `false`, "/ip service telnet disabled (line 64)"},
				{"services.ftp.enabled", `false`, "/ip service ftp disabled (line 65)"},
				{"services.web.port", `8081`, "/ip service www port (line 66)"},
				{"services.web.allowed", `["200.108.192.42/32"]`, "/ip service www address (line 66)"},
				{"services.web.enabled", unknown, "/ip service www disabled"},
				// Accepted from 200.108.192.42 (line 46) but whether www
				// runs is not in the export.
				{"services.web.wan", unknown, "/ip firewall filter input"},
				{"services.ssh.port", `3322`, "/ip service ssh port (line 67)"},
				{"services.ssh.allowed", `["201.221.0.0/16","200.108.0.0/16","192.168.88.0/24","10.0.0.0/8"]`, "/ip service ssh address (line 67)"},
				{"services.api.enabled", `false`, "/ip service api disabled (line 68)"},
				{"services.winbox.allowed", `["200.108.0.0/16","190.108.0.0/16","201.221.0.0/16","192.168.88.0/24","10.0.0.0/8"]`, "/ip service winbox address (line 69)"},
				{"services.api-ssl.enabled", `false`, "/ip service api-ssl disabled (line 70)"},
				// www-ssl (443) falls to the final drop of line 54.
				{"services.web-tls.wan", `false`, "/ip firewall filter input"},
				{"services.upnp.enabled", `false`, "/ip upnp enabled"},
				{"snmp_communities", `["public"]`, "/snmp community"},
				{"ntp", `[]`, "/system ntp client"},
				// set 0..3 action=disk (lines 76-79): no remote logging.
				{"syslog", `[]`, "/system logging action"},
				{"port_forwards", `[]`, "/ip firewall nat"},
			},
		},
		{
			// Compact RouterOS 6.49.6 hAP with wrapped lines.
			file:    "rb951ui-2hnd_ros6.49.6_Pancho-uy-MK_MK-LUNARSA-EXPORT.rsc",
			takenAt: time.Date(2022, 9, 19, 19, 12, 47, 0, time.UTC),
			want: []expect{
				{"identity.model", `"951Ui-2HnD"`, "header # model"},
				{"identity.firmware", `"6.49.6"`, "header by RouterOS"},
				// servers=\ then 200.108.192.4,200.108.192.5,8.8.8.8
				// (lines 50-51).
				{"wan_dns", `["200.108.192.4","200.108.192.5","8.8.8.8"]`, "/ip dns servers (line 50)"},
				{"wan_dns_automatic", `false`, "/ip dns servers (line 50)"},
				// address=192.168.88.1/24 on bridge (lines 41-42), the
				// DHCP server's interface (line 22).
				{"lan", `"192.168.88.1/24"`, "/ip address address (line 41)"},
				{"dhcp_enabled", `true`, "/ip dhcp-server disabled (line 22)"},
				{"dhcp_range", `{"first":"192.168.88.10","last":"192.168.88.254"}`, "/ip pool ranges (line 19)"},
				{"dhcp_dns", `["192.168.88.1"]`, "/ip dhcp-server network dns-server (line 47)"},
				{"services.dns.enabled", `true`, "/ip dns allow-remote-requests (line 50)"},
				{"services.dns.wan", `false`, "/ip firewall filter input"}, // drops of lines 72, 74
				{"services.telnet.enabled", `false`, "/ip service telnet disabled (line 85)"},
				{"services.web.enabled", `false`, "/ip service www disabled (line 87)"},
				{"services.ssh.port", `22`, "/ip service ssh port"}, // not set: default
				{"services.ssh.allowed", `["192.168.0.0/16","192.168.88.0/24","200.108.0.0/16","201.221.0.0/16","10.0.0.0/8"]`, "/ip service ssh address (line 88)"},
				// The accept of line 62 is for 3322, not 22: line 75
				// drops everything else from the WAN list.
				{"services.ssh.wan", `false`, "/ip firewall filter input"},
				{"services.winbox.wan", unknown, "/ip firewall filter input"}, // accepted by line 64
				{"services.api.enabled", `false`, "/ip service api disabled (line 90)"},
				{"services.api-ssl.enabled", `false`, "/ip service api-ssl disabled (line 93)"},
				{"ntp", `["164.73.232.34","190.64.134.53"]`, "/system ntp client"}, // line 107
				{"syslog", `[]`, "/system logging action"},
				{"snmp_communities", `["public"]`, "/snmp community"},
				{"port_forwards", `[]`, "/ip firewall nat"},
				{"admins", unknown, "/user"},
			},
		},
		{
			// Verbose RouterOS 6.49.2 LTE router: every property shown.
			file:    "rblhgr_ros6.49.2_tim0n3-iptables_mikrotik-.sh.rsc",
			takenAt: time.Date(2022, 2, 2, 11, 7, 43, 0, time.UTC),
			want: []expect{
				{"identity.model", `"RBLHGR"`, "header # model"}, // line 3
				{"identity.firmware", `"6.49.2"`, "header by RouterOS"},
				{"wan_dns", `["1.1.1.1","8.8.8.8"]`, "/ip dns servers (line 152)"},
				{"lan", `"192.168.88.1/24"`, "/ip address address (line 142)"},
				{"dhcp_enabled", `true`, "/ip dhcp-server disabled (line 50)"},
				{"dhcp_range", `{"first":"192.168.88.10","last":"192.168.88.254"}`, "/ip pool ranges (line 48)"},
				// dns-server="" (line 150): clients get the DNS learned
				// from the ISP, which the file does not hold.
				{"dhcp_dns", unknown, "/ip dhcp-server network dns-server (line 150)"},
				{"services.telnet.enabled", `false`, "/ip service telnet disabled (line 256)"},
				{"services.telnet.port", `23`, "/ip service telnet port (line 256)"},
				{"services.web.enabled", `true`, "/ip service www disabled (line 258)"},
				{"services.web.allowed", `["192.168.88.0/24"]`, "/ip service www address (line 258)"},
				{"services.web.wan", `false`, "/ip service www address (line 258)"}, // private sources only
				{"services.ssh.enabled", `false`, "/ip service ssh disabled (line 259)"},
				{"services.web-tls.enabled", `false`, "/ip service www-ssl disabled (line 260)"},
				{"services.winbox.enabled", `true`, "/ip service winbox disabled (line 262)"},
				{"services.winbox.allowed", `[]`, "/ip service winbox address (line 262)"},
				// Rejected by in-interface-list=!LAN (line 164): lte1 is
				// in WAN (line 121); its LAN membership is disabled (122).
				{"services.winbox.wan", `false`, "/ip firewall filter input"},
				{"services.api-ssl.enabled", `false`, "/ip service api-ssl disabled (line 263)"},
				{"services.dns.enabled", `true`, "/ip dns allow-remote-requests (line 152)"},
				{"services.dns.wan", `false`, "/ip firewall filter input"},
				{"services.upnp.enabled", `false`, "/ip upnp enabled (line 283)"},
				{"services.snmp.enabled", `false`, "/snmp enabled (line 304)"},
				{"snmp_communities", `["public"]`, "/snmp community"}, // line 80
				{"ntp", `[]`, "/system ntp client enabled (line 324)"},
				// remote=0.0.0.0 (line 85): no remote logging.
				{"syslog", `[]`, "/system logging action"},
				// Two disabled dst-nat rules (lines 196, 200).
				{"port_forwards", `[{"proto":"tcp","external_port":"22","internal":"192.168.88.200","internal_port":"22","enabled":false,"comment":"ssh_raspberrypi_TIM"},{"proto":"tcp","external_port":"22","internal":"192.168.88.200","internal_port":"22","enabled":false,"comment":"ssh_raspberrypi_EDS_RMM"}]`, "/ip firewall nat"},
				{"dmz", `""`, "/ip firewall nat"},
			},
		},
	}
	imp := mikrotik.Importer{}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b := sample(t, tc.file)
			if !imp.Detect(b) {
				t.Fatal("Detect = false")
			}
			snap, err := imp.Import(b)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Adapter != "routeros-export" || !snap.TakenAt.Equal(tc.takenAt) {
				t.Errorf("adapter %q taken %v, want routeros-export %v", snap.Adapter, snap.TakenAt, tc.takenAt)
			}
			if len(snap.Warnings) != 0 {
				t.Errorf("warnings: %q", snap.Warnings)
			}
			if len(snap.Raw) != 1 || snap.Raw[0].Redacted != tc.redacted {
				t.Errorf("raw artifacts %d, redacted %d; want 1, %d", len(snap.Raw), snap.Raw[0].Redacted, tc.redacted)
			}
			checkFields(t, snap.Config, tc.want)
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"v6_header", "# sep/19/2022 19:12:47 by RouterOS 6.49.6\n# software id = X\n", true},
		{"v7_header_crlf", "# 2025-05-06 06:32:38 by RouterOS 7.16\r\n# software id = \r\n", true},
		{"bom_and_header", "\xef\xbb\xbf# jan/02/2020 10:00:00 by RouterOS 6.48\n", true},
		{"no_header_menu", "\n/ip dns\nset servers=192.0.2.53\n", true},
		{"no_header_v7_path", "/ip/dns/set servers=192.0.2.53\n", true},
		{"uci", "config dnsmasq\n\toption domain 'lan'\n", false},
		{"tplink_page", "<SCRIPT language=\"javascript\">var statusPara = new Array(\n", false},
		{"shell_comment", "#!/bin/sh\n/usr/bin/true\n", false},
		{"empty", "", false},
		{"unknown_menu", "/etc/config/dhcp\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (mikrotik.Importer{}).Detect([]byte(tc.in)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestImportSynthetic covers what the samples do not show. Every input
// is synthetic, written from CONFIGS.md §3.3 and the RouterOS export
// syntax; none is a capture.
func TestImportSynthetic(t *testing.T) {
	const head = "# 2026-01-02 03:04:05 by RouterOS 7.18\n# software id = ABCD-EFGH\n#\n# model = C52iG-5HaxD2HaxD\n"
	tests := []struct {
		name     string
		in       string
		want     []expect
		warnings []string
		redacted int
	}{
		{
			name: "hijacked_dhcp_dns_and_open_services",
			in: head + `/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=bridge list=LAN
/ip pool
add name=dhcp ranges=192.168.88.10-192.168.88.99,192.168.88.150-192.168.88.200
/ip dhcp-server
add address-pool=dhcp disabled=no interface=bridge name=defconf
/ip address
add address=192.168.88.1/24 interface=bridge network=192.168.88.0
/ip dhcp-server network
add address=192.168.88.0/24 dns-server=203.0.113.7,192.168.88.1 gateway=192.168.88.1
/ip dns
set allow-remote-requests=yes servers=198.51.100.53
/ip firewall filter
add action=accept chain=input connection-state=established,related
add action=accept chain=input dst-port=8728 in-interface-list=WAN protocol=tcp
add action=drop chain=input in-interface-list=!LAN
/ip service
set telnet disabled=no
set api address=0.0.0.0/0 disabled=no
/ip upnp
set enabled=yes
/system logging action
set 3 remote=198.51.100.9 remote-port=5514
add name=siem remote=198.51.100.10 target=remote
/system logging
add action=remote topics=info
add action=siem disabled=yes topics=error
/system ntp client
set enabled=yes
/system ntp client servers
add address=pool.ntp.org
`,
			want: []expect{
				{"dhcp_dns", `["203.0.113.7","192.168.88.1"]`, "/ip dhcp-server network dns-server (line 18)"},
				{"dhcp_range", `{"first":"192.168.88.10","last":"192.168.88.200"}`, "/ip pool ranges (line 12)"},
				{"wan_dns", `["198.51.100.53"]`, "/ip dns servers (line 20)"},
				{"services.telnet.enabled", `true`, "/ip service telnet disabled (line 26)"},
				// telnet: the drop of line 24 takes ether1 (not in LAN).
				{"services.telnet.wan", `false`, "/ip firewall filter input"},
				{"services.api.enabled", `true`, "/ip service api disabled (line 27)"},
				{"services.api.allowed", `["0.0.0.0/0"]`, "/ip service api address (line 27)"},
				{"services.api.wan", `true`, "/ip firewall filter input"}, // line 23
				{"services.dns.wan", `false`, "/ip firewall filter input"},
				{"services.upnp.enabled", `true`, "/ip upnp enabled (line 29)"},
				// set 3 is the built-in "remote" action, used by line 35;
				// "siem" is used only by a disabled rule.
				{"syslog", `["198.51.100.9:5514"]`, "/system logging action"},
				{"ntp", `["pool.ntp.org"]`, "/system ntp client"},
				{"dhcp_enabled", `true`, "/ip dhcp-server disabled (line 14)"},
			},
		},
		{
			name: "snmp_communities_and_secrets",
			in: head + `/snmp
set enabled=yes trap-community=s3cr3t-trap
/snmp community
set [ find default=yes ] name=n0t-public
add addresses=192.168.88.0/24 name=monitoring
add name=public2 disabled=yes
/ppp secret
add name=vpn password=hunter2 service=l2tp
/interface wireless security-profiles
set [ find default=yes ] mode=dynamic-keys wpa2-pre-shared-key=\
    "correct horse battery"
/user
add group=full name=alice password=swordfish
/ip ssh
set always-allow-password-login=yes
/system script
add name=backup source="/tool fetch url=\"ftp://192.0.2.5/x\" user=u password=Pa55 upload=yes"
add name=harmless source="/log info hello"
`,
			want: []expect{
				{"services.snmp.enabled", `true`, "/snmp enabled (line 6)"},
				{"snmp_communities", `["configured-1","configured-2"]`, "/snmp community name"},
				{"admins", unknown, "/user"},
			},
			// trap-community, three community names (a disabled one is
			// still a community), the PPP password, the PSK, the user
			// password, the script that embeds a password.
			redacted: 8,
		},
		{
			name: "partial_menu_export",
			in: `# jan/02/2021 10:00:00 by RouterOS 6.48.6
# software id = ABCD-EFGH
/ip service
set telnet disabled=yes
`,
			want: []expect{
				{"services.telnet.enabled", `false`, "/ip service telnet disabled (line 4)"},
				{"services.ssh.port", `22`, "/ip service ssh port"}, // the menu is present
				{"services.upnp.enabled", unknown, "/ip upnp enabled"},
				{"wan_dns", unknown, "/ip dns servers"},
				{"dhcp_dns", unknown, "/ip dhcp-server network dns-server"},
				{"ntp", unknown, "/system ntp client"},
			},
			warnings: []string{"partial export"},
		},
		{
			name: "damaged_line_blocks_defaults",
			in: head + `/ip dns
set servers=192.0.2.53
/ip service
set telnet disabled=yes address="unterminated
set ssh port=2222
`,
			want: []expect{
				// The telnet line is lost: its port is not defaulted.
				{"services.telnet.port", unknown, "/ip service telnet port"},
				{"services.ssh.port", `2222`, "/ip service ssh port (line 9)"},
				{"wan_dns", `["192.0.2.53"]`, "/ip dns servers (line 6)"},
			},
			warnings: []string{"line 8: unterminated quoted value"},
		},
		{
			name: "dst_nat_forward_and_dmz",
			in: head + `/ip firewall nat
add action=masquerade chain=srcnat out-interface=ether1
add action=dst-nat chain=dstnat dst-port=8080 in-interface=ether1 protocol=tcp to-addresses=192.168.88.10 to-ports=80 comment="web cam"
add action=dst-nat chain=dstnat in-interface=ether1 to-addresses=192.168.88.20
add action=redirect chain=dstnat dst-port=53 protocol=udp to-ports=53
/system identity
set name=gw
`,
			want: []expect{
				{"port_forwards", `[{"proto":"tcp","external_port":"8080","internal":"192.168.88.10","internal_port":"80","enabled":true,"comment":"web cam"},{"proto":"any","external_port":"any","internal":"192.168.88.20","enabled":true}]`, "/ip firewall nat"},
				{"dmz", `"192.168.88.20"`, "/ip firewall nat to-addresses (line 8)"},
			},
		},
		{
			name: "v6_dhcp_server_without_disabled_is_off",
			in: `# jan/02/2021 10:00:00 by RouterOS 6.48.6
/ip pool
add name=p ranges=10.0.0.10-10.0.0.20
/ip dhcp-server
add address-pool=p interface=ether2 name=d
/system identity
set name=r
`,
			want: []expect{
				{"dhcp_enabled", `false`, "/ip dhcp-server disabled (line 5)"},
			},
		},
		{
			name: "byte_order_mark",
			in:   "\xef\xbb\xbf" + head + "/ip dns\nset servers=192.0.2.1\n/system identity\nset name=gw\n",
			want: []expect{
				{"identity.firmware", `"7.18"`, "header by RouterOS"},
				{"wan_dns", `["192.0.2.1"]`, "/ip dns servers (line 6)"},
			},
		},
		{
			name: "escapes_and_slash_paths",
			in: head + `/ip/dns/set servers=192.0.2.1,192.0.2.2
/system identity
set name="caf\C3\A9 \"router\"\_1"
/ip service set www port=8080
`,
			want: []expect{
				{"wan_dns", `["192.0.2.1","192.0.2.2"]`, "/ip dns servers (line 5)"},
				{"services.web.port", `8080`, "/ip service www port (line 8)"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := mikrotik.Importer{}.Import([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			checkFields(t, snap.Config, tc.want)
			if snap.Raw[0].Redacted != tc.redacted {
				t.Errorf("redacted %d, want %d", snap.Raw[0].Redacted, tc.redacted)
			}
			for _, w := range tc.warnings {
				if !strings.Contains(strings.Join(snap.Warnings, "\n"), w) {
					t.Errorf("warnings %q lack %q", snap.Warnings, w)
				}
			}
			if tc.warnings == nil && len(snap.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", snap.Warnings)
			}
			for _, secret := range []string{"hunter2", "swordfish", "correct horse", "n0t-public", "monitoring", "public2", "s3cr3t", "Pa55"} {
				if bytes.Contains(snap.Raw[0].Body, []byte(secret)) {
					t.Errorf("raw export keeps the secret %q", secret)
				}
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not_routeros", []byte("hello world\nthis is not an export\n")},
		{"only_comments", []byte("# just a comment\n# another\n")},
		{"too_large", bytes.Repeat([]byte("#"), mikrotik.MaxExportBytes+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mikrotik.Importer{}.Import(tc.in)
			if !errors.Is(err, device.ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}
