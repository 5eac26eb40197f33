// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// sampleConfigs are the configurations of the three real devices, each
// value read by hand from the file named in the comment (line numbers of
// that file). A package the sample set lacks gives "?" (unknown).
var sampleConfigs = map[string]map[string]string{
	wdr4300: {
		"vendor": "?", "model": "?", "hardware": "?", "firmware": "?", // not in UCI files
		// network: lan ipaddr '10.0.80.1' (l.18), netmask '255.255.255.0' (l.19)
		"lan": "10.0.80.1/24",
		// dhcp: list server ×4 (l.15-18), resolvfile the default (l.14);
		// network: wan proto 'dhcp' (l.26), no peerdns, no dns
		"wan_dns":      "[2001:4860:4860::8888 2001:4860:4860::8844 2620:0:ccc::2 2620:0:ccd::2]",
		"wan_dns_auto": "true",
		// dhcp 'lan': start '100', limit '150' (l.25-26), no ignore, no dhcp_option
		"dhcp_enabled": "true",
		"dhcp_range":   "10.0.80.100-10.0.80.249",
		"dhcp_dns":     "[10.0.80.1]",
		// uhttpd: listen_http 0.0.0.0:80 and [::]:80, listen_https on 443
		// (l.3-6); firewall: Drop-HTTP / Drop-HTTPS drop tcp/80 and 443
		// from wan for IPv4 (l.131-145); the wan zone holds only 'wan'
		// (l.19), proto dhcp: no IPv6 on the WAN.
		"web":     "enabled=true port=80 allowed=[] wan=false",
		"web-tls": "enabled=true port=443 allowed=[] wan=false",
		// dropbear: Port '22', Interface 'lan' (l.4-5)
		"ssh":        "enabled=true port=22 allowed=[] wan=false",
		"local_mgmt": "?",
		"admins":     "?", // no rpcd file
		// firewall: the one redirect is from zone voip (l.66), not the WAN
		"port_forwards": "[]",
		"dmz":           "invalid IP",
		// system: timeserver 'ntp' list server ×4 (l.7-10), enabled '1'
		"ntp":    "[0.openwrt.pool.ntp.org 1.openwrt.pool.ntp.org 2.openwrt.pool.ntp.org 3.openwrt.pool.ntp.org]",
		"syslog": "[]",
	},
	wr841nd: {
		"vendor": "?", "model": "?", "hardware": "?", "firmware": "?",
		// network: lan netmask (l.17) before ipaddr '10.1.1.1' (l.19)
		"lan": "10.1.1.1/24",
		// dhcp: dnsmasq without server (l.2-15); network: wan proto dhcp (l.23)
		"wan_dns":      "[]",
		"wan_dns_auto": "true",
		// dhcp 'lan': dynamicdhcp 0, start '100', limit '150' (l.19-21)
		"dhcp_enabled": "true",
		"dhcp_range":   "10.1.1.100-10.1.1.249",
		"dhcp_dns":     "[10.1.1.1]",
		// uhttpd: listen_http '0.0.0.0:80' only; [::]:80 and both
		// listen_https are commented out (l.3-6); firewall: wan zone input
		// REJECT (l.18), no rule opens tcp/80.
		"web":     "enabled=true port=80 allowed=[] wan=false",
		"web-tls": "enabled=false port=? allowed=? wan=false",
		// dropbear: Interface 'lan', Port '35000' (l.5-6)
		"ssh":        "enabled=true port=35000 allowed=[] wan=false",
		"local_mgmt": "?",
		// rpcd: config login, username 'root' (l.3)
		"admins": "[root]",
		// firewall: redirect Forward36000 from wan, tcp 36000 to
		// 10.1.1.96:36000 (l.93-101)
		"port_forwards": "[tcp 36000->10.1.1.96:36000 (Forward36000)]",
		"dmz":           "invalid IP",
		// system: 0-3.asia.pool.ntp.org (l.8-11)
		"ntp":    "[0.asia.pool.ntp.org 1.asia.pool.ntp.org 2.asia.pool.ntp.org 3.asia.pool.ntp.org]",
		"syslog": "[]",
	},
	r6220: {
		"vendor": "?", "model": "?", "hardware": "?", "firmware": "?",
		"lan": "?", // network deliberately not published (PPPoE credentials)
		// dhcp: list server '127.0.0.1#5453' (l.7), noresolv '1' (l.13)
		"wan_dns":      "[127.0.0.1]",
		"wan_dns_auto": "false",
		// dhcp 'lan': interface 'lan', start '11', limit '99' (l.29-32):
		// the range counts from the unknown LAN address
		"dhcp_enabled": "true",
		"dhcp_range":   "?",
		"dhcp_dns":     "?",
		"web":          "enabled=? port=? allowed=? wan=?", // no uhttpd file
		"web-tls":      "enabled=? port=? allowed=? wan=?",
		// dropbear: Port '22', no Interface (l.2); firewall: wan zone
		// (networks wan_onu, wan) input REJECT (l.18), no rules at all.
		"ssh":           "enabled=true port=22 allowed=[] wan=false",
		"local_mgmt":    "?",
		"admins":        "?",
		"port_forwards": "[]",
		"dmz":           "invalid IP",
		// system: list server ×4 openwrt pool (l.11-14), no enabled option
		"ntp": "[0.openwrt.pool.ntp.org 1.openwrt.pool.ntp.org 2.openwrt.pool.ntp.org 3.openwrt.pool.ntp.org]",
		// system: log_proto 'udp' (l.6) but no log_ip
		"syslog": "[]",
	},
}

func TestBackupImportRealSamples(t *testing.T) {
	for dev, want := range sampleConfigs {
		t.Run(dev, func(t *testing.T) {
			files := deviceFiles(t, dev)
			b := makeBackup(t, files, tarEntry{name: "etc/passwd", body: []byte("root:x:0:0:root:/root:/bin/ash\n")})
			imp := BackupImporter{Now: fixedClock}
			if !imp.Detect(b) {
				t.Fatal("Detect = false")
			}
			snap, err := imp.Import(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, summary(&snap.Config)); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
			if snap.Adapter != NameBackup || !snap.TakenAt.Equal(fixedNow) {
				t.Errorf("snapshot %s at %v", snap.Adapter, snap.TakenAt)
			}
			if len(snap.Raw) != len(files) {
				t.Errorf("%d artifacts, want one per configuration file (%d)", len(snap.Raw), len(files))
			}
		})
	}
}

// TestSampleSources checks where some values were read and the notes
// that explain a normalization.
func TestSampleSources(t *testing.T) {
	imp := BackupImporter{}
	get := func(dev string) *device.Config {
		snap, err := imp.Import(makeBackup(t, deviceFiles(t, dev)))
		if err != nil {
			t.Fatal(err)
		}
		return &snap.Config
	}
	wdr, wr, r := get(wdr4300), get(wr841nd), get(r6220)
	for _, tc := range []struct {
		name string
		got  device.Source
		want device.Source
	}{
		{"dhcp_dns_hands_out_itself", wdr.DHCPDNS.Source, device.Source{Adapter: NameBackup, Where: "dhcp.lan.dhcp_option", Note: "no option 6: dnsmasq hands out the router's own address"}},
		{"wan_dns_both_places", wdr.WANDNS.Source, device.Source{Adapter: NameBackup, Where: "dhcp.@dnsmasq[0].server, network.wan.dns", Note: "plus the servers the ISP hands out"}},
		{"dynamicdhcp_note", wr.DHCPRange.Source, device.Source{Adapter: NameBackup, Where: "dhcp.lan.start, dhcp.lan.limit", Note: "dynamicdhcp '0': only hosts with a static lease get an address"}},
		{"noresolv_port", r.WANDNS.Source, device.Source{Adapter: NameBackup, Where: "dhcp.@dnsmasq[0].server", Note: "127.0.0.1 port 5453; noresolv: dnsmasq forwards only to its server list, never to the WAN's servers"}},
		{"web_wan_decided_by_rules", wdr.Service(device.ServiceWeb).WAN.Source, device.Source{Adapter: NameBackup,
			Where: "uhttpd.main.listen_http; firewall.@rule[8] (Drop-HTTP), network.wan.proto",
			Note:  "IPv4: a rule drops tcp/80 from the WAN; IPv6: the WAN has no IPv6 interface"}},
		{"ssh_auth_note", wr.Service(device.ServiceSSH).Enabled.Source, device.Source{Adapter: NameBackup, Where: "dropbear.@dropbear[0]", Note: "PasswordAuth off, RootPasswordAuth on"}},
		{"ssh_wan_lan_interface", wr.Service(device.ServiceSSH).WAN.Source, device.Source{Adapter: NameBackup, Where: "dropbear.@dropbear[0].Interface", Note: `Interface "lan": listens on that interface's addresses only`}},
		{"admins_shadow", wr.Admins.Source, device.Source{Adapter: NameBackup, Where: "rpcd.@login[0].username", Note: "root: the system password of root"}},
		{"lan_not_read", r.LAN.Source, device.Source{Adapter: NameBackup, Where: "network", Note: "the network configuration was not read"}},
		{"forwards_other_zone", wdr.PortForwards.Source, device.Source{Adapter: NameBackup, Where: "firewall", Note: "1 redirect(s) from other zones than the WAN not counted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("Source (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUCIImportEachSampleFile imports every real file alone: the
// importer names the file by its sections and knows only what it holds.
func TestUCIImportEachSampleFile(t *testing.T) {
	dir := sampleDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		_, pkg, ok := strings.Cut(e.Name(), "_etc-config-")
		if !ok {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			imp := UCIImporter{Now: fixedClock}
			if !imp.Detect(b) {
				t.Fatal("Detect = false")
			}
			if (BackupImporter{}).Detect(b) {
				t.Error("the backup importer claims a UCI text file")
			}
			snap, err := imp.Import(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Raw) != 1 || snap.Raw[0].Name != "etc/config/"+pkg {
				t.Fatalf("artifacts %v, want one named etc/config/%s", snap.Raw, pkg)
			}
			// Fields decided by another package stay unknown.
			c := &snap.Config
			if pkg != "network" && c.LAN.Known {
				t.Errorf("LAN known from %s alone", pkg)
			}
			if pkg != "dhcp" && c.DHCPEnabled.Known {
				t.Errorf("DHCP known from %s alone", pkg)
			}
			if pkg != "system" && c.NTP.Known {
				t.Errorf("NTP known from %s alone", pkg)
			}
			if pkg != "rpcd" && c.Admins.Known {
				t.Errorf("admins known from %s alone", pkg)
			}
		})
	}
	if n != 17 {
		t.Errorf("%d sample files, want 17", n)
	}
}

// TestUCIImportAlone pins what one file alone says.
func TestUCIImportAlone(t *testing.T) {
	for _, tc := range []struct {
		dev, pkg string
		want     map[string]string // a subset of summary
	}{
		// dhcp alone: the pool is on, but it counts from the LAN address,
		// and the router hands out that address: both unknown.
		{wdr4300, "dhcp", map[string]string{"dhcp_enabled": "true", "dhcp_range": "?", "dhcp_dns": "?", "wan_dns": "?", "lan": "?"}},
		// R6220's noresolv makes WAN DNS known from dhcp alone.
		{r6220, "dhcp", map[string]string{"wan_dns": "[127.0.0.1]", "wan_dns_auto": "false"}},
		// uhttpd alone: it listens, but whether the WAN reaches it is the
		// firewall's to say.
		{wdr4300, "uhttpd", map[string]string{"web": "enabled=true port=80 allowed=[] wan=?", "web-tls": "enabled=true port=443 allowed=[] wan=?"}},
		{wr841nd, "network", map[string]string{"lan": "10.1.1.1/24", "wan_dns": "?"}},
		{wr841nd, "rpcd", map[string]string{"admins": "[root]"}},
		{wdr4300, "system", map[string]string{"ntp": "[0.openwrt.pool.ntp.org 1.openwrt.pool.ntp.org 2.openwrt.pool.ntp.org 3.openwrt.pool.ntp.org]", "syslog": "[]"}},
	} {
		t.Run(tc.dev+"_"+tc.pkg, func(t *testing.T) {
			snap, err := UCIImporter{}.Import(deviceFiles(t, tc.dev)[tc.pkg])
			if err != nil {
				t.Fatal(err)
			}
			got := summary(&snap.Config)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestUCIImportExport reads `uci export` output: several packages, named.
func TestUCIImportExport(t *testing.T) {
	files := deviceFiles(t, wr841nd)
	var b bytes.Buffer
	for _, name := range []string{"dhcp", "network", "firewall", "uhttpd", "dropbear", "system", "rpcd"} {
		b.WriteString("package " + name + "\n")
		b.Write(files[name])
		b.WriteString("\n")
	}
	// A wireless package in the export: read past, its key redacted.
	b.WriteString("package wireless\n\nconfig wifi-iface 'default_radio0'\n\toption key 'wifi-secret-123'\n")
	snap, err := UCIImporter{}.Import(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := sampleConfigs[wr841nd]
	if diff := cmp.Diff(want, summary(&snap.Config)); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	if len(snap.Raw) != 1 || snap.Raw[0].Name != "uci export" || snap.Raw[0].Redacted != 1 || bytes.Contains(snap.Raw[0].Body, []byte("wifi-secret-123")) {
		t.Errorf("artifact %q redacted %d", snap.Raw[0].Name, snap.Raw[0].Redacted)
	}
}

// pppoeNetwork is synthetic, from CONFIGS.md §4.2 ("PPPoE credentials
// live here (redact)"): no real network file with credentials was
// published (the R6220's was left out for that reason).
const pppoeNetwork = `
config interface 'lan'
	option proto 'static'
	option ipaddr '192.168.1.1/24'

config interface 'wan'
	option proto 'pppoe'
	option username 'customer@isp.example'
	option password 'pppoe-pass-Secret1'
	option peerdns '0'
	list dns '198.51.100.53'
	list dns '198.51.100.54'

config interface 'wg0'
	option proto 'wireguard'
	option private_key 'wg-private-key-Secret2='
`

// rpcdHashed is synthetic, from CONFIGS.md §4.1: a login whose password
// is a crypt hash (a secret), and one with an empty password field, which
// libuci drops: rpcd then finds no password option and refuses the login.
const rpcdHashed = `
config login
	option username 'admin'
	option password '$1$abcdefgh$hashSecret3hashhashhas'
	list read '*'

config login
	option username 'guest'
	option password ''
	list read 'luci-base'
`

func TestSecretsNeverLeave(t *testing.T) {
	secrets := []string{"customer@isp.example", "pppoe-pass-Secret1", "wg-private-key-Secret2=", "hashSecret3", "wifi-psk-Secret4", "root:$1$shadowSecret5", "dropbear-hostkey-Secret6"}
	files := deviceFiles(t, wr841nd)
	files["network"] = []byte(pppoeNetwork)
	files["rpcd"] = []byte(rpcdHashed)
	files["wireless"] = []byte("config wifi-iface\n\toption key 'wifi-psk-Secret4'\n")
	b := makeBackup(t, files,
		tarEntry{name: "etc/shadow", body: []byte("root:$1$shadowSecret5:19000:0:99999:7:::\n")},
		tarEntry{name: "etc/dropbear/dropbear_rsa_host_key", body: []byte("dropbear-hostkey-Secret6")})
	snap, err := BackupImporter{}.Import(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("snapshot JSON holds the secret %q", s)
		}
	}
	redacted := map[string]int{}
	for _, a := range snap.Raw {
		redacted[a.Name] = a.Redacted
		if strings.Contains(a.Name, "wireless") || strings.Contains(a.Name, "shadow") || strings.Contains(a.Name, "dropbear_") {
			t.Errorf("artifact %s kept", a.Name)
		}
	}
	want := map[string]int{"etc/config/network": 3, "etc/config/rpcd": 1}
	for name, n := range want {
		if redacted[name] != n {
			t.Errorf("%s: %d redacted, want %d", name, redacted[name], n)
		}
	}
	got := summary(&snap.Config)
	for k, v := range map[string]string{
		"lan":          "192.168.1.1/24",
		"wan_dns":      "[198.51.100.53 198.51.100.54]",
		"wan_dns_auto": "false",
		"admins":       "[admin guest]",
		"dhcp_dns":     "[192.168.1.1]",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if n := snap.Config.Admins.Source.Note; n != "guest: no password option, cannot log in" {
		t.Errorf("admins note %q", n)
	}
	// The redacted network still parses and keeps its layout.
	for _, a := range snap.Raw {
		if a.Name == "etc/config/network" && !bytes.Contains(a.Body, []byte("\toption password '<redacted>'\n")) {
			t.Errorf("redacted network:\n%s", a.Body)
		}
	}
}

// TestMappingCases covers the meaning of options the samples do not
// show. The files are synthetic, written from the option meanings in
// CONFIGS.md §4.2 and OpenWrt's scripts named in the package doc.
func TestMappingCases(t *testing.T) {
	const lan = "config interface 'lan'\n\toption proto 'static'\n\toption ipaddr '192.168.1.1'\n\toption netmask '255.255.255.0'\n"
	const wanDHCP = "config interface 'wan'\n\toption proto 'dhcp'\n"
	const zones = "config defaults\n\toption input 'ACCEPT'\nconfig zone\n\toption name 'lan'\n\tlist network 'lan'\n\toption input 'ACCEPT'\nconfig zone\n\toption name 'wan'\n\tlist network 'wan'\n\tlist network 'wan6'\n\toption input 'REJECT'\n"
	const web = "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n\tlist listen_http '[::]:80'\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  map[string]string
		warn  string
	}{
		{"dhcp_option_6_hijacked", map[string]string{"network": lan + wanDHCP,
			"dhcp": "config dnsmasq\nconfig dhcp 'lan'\n\toption interface 'lan'\n\tlist dhcp_option '3,192.168.1.1'\n\tlist dhcp_option '6,203.0.113.7,203.0.113.8'\n"},
			map[string]string{"dhcp_dns": "[203.0.113.7 203.0.113.8]", "dhcp_range": "192.168.1.100-192.168.1.249"}, ""},
		{"dhcp_option_named_and_zero", map[string]string{"network": lan + wanDHCP,
			"dhcp": "config dnsmasq\nconfig dhcp 'lan'\n\toption interface 'lan'\n\toption dhcp_option 'option:dns-server,0.0.0.0,198.51.100.1'\n"},
			map[string]string{"dhcp_dns": "[192.168.1.1 198.51.100.1]"}, ""},
		{"dhcp_ignored_and_cut_at_broadcast", map[string]string{"network": lan + wanDHCP,
			"dhcp": "config dnsmasq\nconfig dhcp 'lan'\n\toption interface 'lan'\n\toption ignore '1'\n\toption start '200'\n\toption limit '100'\n"},
			map[string]string{"dhcp_enabled": "false", "dhcp_range": "192.168.1.200-192.168.1.254"}, ""},
		{"no_lan_pool", map[string]string{"network": lan + wanDHCP, "dhcp": "config dnsmasq\n"},
			map[string]string{"dhcp_enabled": "false", "dhcp_dns": "?"}, ""},
		{"other_pool_hands_out_other_dns", map[string]string{"network": lan + wanDHCP,
			"dhcp": "config dnsmasq\nconfig dhcp 'lan'\n\toption interface 'lan'\nconfig dhcp 'guest'\n\toption interface 'guest'\n\tlist dhcp_option '6,203.0.113.7'\n"},
			map[string]string{"dhcp_dns": "[192.168.1.1]"}, `dhcp.guest (interface "guest") hands out other resolvers: "6,203.0.113.7"`},
		{"wan_static_dns", map[string]string{"network": lan + "config interface 'wan'\n\toption proto 'static'\n\toption dns '198.51.100.53 198.51.100.54'\n",
			"dhcp": "config dnsmasq\n\tlist server '/corp.example/192.0.2.53'\n"},
			map[string]string{"wan_dns": "[198.51.100.53 198.51.100.54]", "wan_dns_auto": "false"}, ""},
		{"dnsmasq_server_hijacked", map[string]string{"network": lan + wanDHCP,
			"dhcp": "config dnsmasq\n\tlist server '203.0.113.7'\n"},
			map[string]string{"wan_dns": "[203.0.113.7]", "wan_dns_auto": "true"}, ""},
		{"bad_server_is_unknown", map[string]string{"network": lan + wanDHCP, "dhcp": "config dnsmasq\n\tlist server 'resolver.example'\n"},
			map[string]string{"wan_dns": "?", "wan_dns_auto": "?"}, ""},
		{"lan_cidr", map[string]string{"network": "config interface 'lan'\n\toption proto 'static'\n\toption ipaddr '10.9.8.1/16'\n"},
			map[string]string{"lan": "10.9.8.1/16"}, ""},
		{"lan_dhcp_client", map[string]string{"network": "config interface 'lan'\n\toption proto 'dhcp'\n"},
			map[string]string{"lan": "?"}, ""},
		{"web_closed_by_zone", map[string]string{"network": lan + wanDHCP, "firewall": zones, "uhttpd": web},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=false"}, ""},
		{"web_opened_by_rule", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": zones + "config rule\n\toption name 'Allow-Web'\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '80 443'\n\toption target 'ACCEPT'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=true"}, ""},
		{"rule_disabled_does_not_open", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": zones + "config rule\n\toption src 'wan'\n\toption dest_port '80'\n\toption target 'ACCEPT'\n\toption enabled '0'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=false"}, ""},
		{"forward_rule_does_not_open", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": zones + "config rule\n\toption src 'wan'\n\toption dest 'lan'\n\toption dest_port '80'\n\toption target 'ACCEPT'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=false"}, ""},
		{"drop_first_then_accept", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": zones + "config rule\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '80'\n\toption target 'DROP'\nconfig rule\n\toption src 'wan'\n\toption dest_port '80'\n\toption target 'ACCEPT'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=false"}, ""},
		{"wan_zone_accepts", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": "config zone\n\toption name 'wan'\n\tlist network 'wan'\n\toption input 'ACCEPT'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=true"}, ""},
		{"self_redirect_opens", map[string]string{"network": lan + wanDHCP, "uhttpd": web,
			"firewall": zones + "config redirect\n\toption src 'wan'\n\toption proto 'tcp'\n\toption src_dport '8080'\n\toption dest_port '80'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=true", "port_forwards": "[tcp 8080->192.168.1.1:80]"}, ""},
		{"web_on_lan_address_only", map[string]string{"network": lan + wanDHCP,
			"firewall": "config zone\n\toption name 'wan'\n\tlist network 'wan'\n\toption input 'ACCEPT'\n",
			"uhttpd":   "config uhttpd 'main'\n\tlist listen_http '192.168.1.1:80'\n"},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=false"}, ""},
		{"ipv6_unfiltered", map[string]string{"network": lan + wanDHCP + "config interface 'wan6'\n\toption proto 'dhcpv6'\n", "uhttpd": web,
			"firewall": strings.Replace(zones, "config defaults\n", "config defaults\n\toption disable_ipv6 '1'\n", 1)},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=true"}, ""},
		{"ipv6_on_wan_unknown_without_network", map[string]string{"uhttpd": web,
			"firewall": strings.Replace(zones, "config defaults\n", "config defaults\n\toption disable_ipv6 '1'\n", 1)},
			map[string]string{"web": "enabled=true port=80 allowed=[] wan=?"}, ""},
		{"ssh_on_wan_interface_with_rule", map[string]string{"network": lan + wanDHCP,
			"firewall": zones + "config rule\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '2222'\n\toption src_ip '198.51.100.0/24'\n\toption target 'ACCEPT'\n",
			"dropbear": "config dropbear\n\toption Port '2222'\n\toption Interface 'wan'\n"},
			map[string]string{"ssh": "enabled=true port=2222 allowed=[] wan=true"}, ""},
		{"ssh_disabled", map[string]string{"dropbear": "config dropbear\n\toption enable '0'\n"},
			map[string]string{"ssh": "enabled=false port=? allowed=? wan=false"}, ""},
		{"dmz_and_disabled_forward", map[string]string{"network": lan + wanDHCP,
			"firewall": zones + "config redirect\n\toption src 'wan'\n\toption proto 'all'\n\toption dest_ip '192.168.1.50'\nconfig redirect\n\toption src 'wan'\n\toption src_dport '3389'\n\toption dest_ip '192.168.1.60'\n\toption enabled '0'\n"},
			map[string]string{"dmz": "192.168.1.50", "port_forwards": "[tcp+udp 3389->192.168.1.60:3389 disabled]"}, ""},
		{"remote_syslog_and_ntp_off", map[string]string{"system": "config system\n\toption log_ip '192.0.2.9'\n\toption log_port '5140'\nconfig timeserver 'ntp'\n\tlist server 'pool.ntp.org'\n\toption enabled '0'\n"},
			map[string]string{"syslog": "[192.0.2.9:5140]", "ntp": "[]"}, ""},
		{"remote_syslog_off", map[string]string{"system": "config system\n\toption log_ip '192.0.2.9'\n\toption log_remote '0'\n"},
			map[string]string{"syslog": "[]"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := configs{}
			for name, text := range tc.files {
				c[name] = mustParse(t, name, text)
			}
			cfg, warnings := mapConfig(c, NameUCI)
			got := summary(&cfg)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (source %+v)", k, got[k], v, sourceOf(&cfg, k))
				}
			}
			if tc.warn != "" && !containsString(warnings, tc.warn) {
				t.Errorf("warnings %q, want %q", warnings, tc.warn)
			}
		})
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sourceOf(c *device.Config, key string) any {
	switch key {
	case "web", "web-tls", "ssh":
		return c.Service(key).WAN.Source
	case "dhcp_dns":
		return c.DHCPDNS.Source
	case "wan_dns":
		return c.WANDNS.Source
	}
	return nil
}

func TestImportBadInput(t *testing.T) {
	mikrotik, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "mikrotik", "chr_ros7.16_auliaarifin-gns3_R-1.rsc"))
	if err != nil {
		t.Fatal(err)
	}
	tplink, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "tplink-legacy", "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm"))
	if err != nil {
		t.Fatal(err)
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	good := makeBackup(t, deviceFiles(t, wdr4300))
	for _, tc := range []struct {
		name    string
		in      []byte
		backup  string // Import error of the backup importer ("" = ok)
		uciText string // Import error of the UCI importer
		// sniffed: the backup importer's Detect, which reads only up to
		// the first etc/config entry, says yes.
		sniffed bool
	}{
		{"empty", nil, "not a gzip file", "holds none", false},
		{"mikrotik_export", mikrotik, "not a gzip file", "invalid command", false},
		{"tplink_page", tplink, "not a gzip file", "invalid command", false},
		{"gzip_not_tar", gz([]byte("config dnsmasq\n")), "tar:", "binary data", false},
		{"truncated_backup", good[:len(good)/2], "unexpected EOF", "binary data", true},
		{"tar_without_config", makeBackup(t, nil, tarEntry{name: "etc/passwd", body: []byte("root:x:0:0")}), "holds none", "binary data", false},
		{"config_as_symlink", makeBackup(t, nil, tarEntry{name: "etc/config/dhcp", typ: tar.TypeSymlink}), "holds none", "binary data", false},
		{"only_unknown_package", []byte("config wifi-iface\n\toption ssid 'x'\n"), "not a gzip file", "holds none", false},
		{"ambiguous_sections", []byte("config rule\n\toption src 'wan'\n"), "not a gzip file", "cannot tell", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, imp := range []struct {
				i       device.Importer
				want    string
				sniffed bool
			}{{BackupImporter{}, tc.backup, tc.sniffed}, {UCIImporter{}, tc.uciText, false}} {
				snap, err := imp.i.Import(tc.in)
				if imp.want == "" {
					if err != nil {
						t.Errorf("%s: %v", imp.i.Name(), err)
					}
					continue
				}
				if err == nil || !errors.Is(err, device.ErrFormat) || !strings.Contains(err.Error(), imp.want) {
					t.Errorf("%s: Import = %v, %v; want an ErrFormat containing %q", imp.i.Name(), snap, err, imp.want)
				}
				if got := imp.i.Detect(tc.in); got != imp.sniffed {
					t.Errorf("%s: Detect = %v", imp.i.Name(), got)
				}
			}
		})
	}
}

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// bomb is a gzip of a tar whose first entry claims 1 TiB: built from
// concatenated gzip members of zeros (gzip readers read members one after
// the other), so the file is small and quick to make while its expansion
// is unbounded for a reader without a bound.
func bomb(t testing.TB) []byte {
	t.Helper()
	var chunk bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&chunk, gzip.BestCompression)
	if _, err := io.Copy(zw, &zeros{n: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	var head bytes.Buffer
	hw := gzip.NewWriter(&head)
	tw := tar.NewWriter(hw)
	tw.WriteHeader(&tar.Header{Name: "tmp/big", Mode: 0o600, Size: 1 << 40, Typeflag: tar.TypeReg})
	tw.Flush()
	hw.Close()
	out := append([]byte(nil), head.Bytes()...)
	for range 2048 { // 16 GiB of zeros
		out = append(out, chunk.Bytes()...)
	}
	return out
}

func TestBackupBomb(t *testing.T) {
	b := bomb(t)
	if len(b) > MaxBackupSize {
		t.Fatalf("bomb is %d bytes, over the input bound: it would not reach the decompressor", len(b))
	}
	start := time.Now()
	_, err := BackupImporter{}.Import(b)
	elapsed := time.Since(start)
	if err == nil || !errors.Is(err, device.ErrFormat) || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("Import = %v, want the expansion bound", err)
	}
	// The bound is 64 MiB; inflating that is well under a second even
	// under the race detector on a shared CI machine.
	if elapsed > 5*time.Second {
		t.Errorf("Import took %v to refuse a gzip bomb", elapsed)
	}
	start = time.Now()
	if (BackupImporter{}).Detect(b) {
		t.Error("Detect = true")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Detect took %v", elapsed)
	}
}

func TestBackupBounds(t *testing.T) {
	var many []tarEntry
	for range maxBackupEntries + 1 {
		many = append(many, tarEntry{name: "etc/x", body: nil})
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"too_many_entries", makeBackup(t, nil, many...), "entries"},
		{"input_too_large", append([]byte{0x1f, 0x8b}, make([]byte, MaxBackupSize)...), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BackupImporter{}.Import(tc.in)
			if err == nil || !errors.Is(err, device.ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Import = %v, want %q", err, tc.want)
			}
		})
	}
	// An oversized configuration file is passed over with a warning.
	big := bytes.Repeat([]byte("#"), 2<<20)
	snap, err := BackupImporter{}.Import(makeBackup(t, map[string][]byte{"network": big, "system": deviceFiles(t, wdr4300)["system"]}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(snap.Warnings, "\n"), "etc/config/network is 2097152 bytes") {
		t.Errorf("warnings %q", snap.Warnings)
	}
	// A file that does not parse leaves its fields unknown, with a warning.
	snap, err = BackupImporter{}.Import(makeBackup(t, map[string][]byte{"network": []byte("option x y\n"), "system": deviceFiles(t, wdr4300)["system"]}))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Config.LAN.Known || !strings.Contains(strings.Join(snap.Warnings, "\n"), "etc/config/network does not parse") {
		t.Errorf("LAN %+v, warnings %q", snap.Config.LAN, snap.Warnings)
	}
}

func FuzzBackupImport(f *testing.F) {
	for _, dev := range []string{wdr4300, wr841nd, r6220} {
		f.Add(makeBackup(f, deviceFiles(f, dev)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		BackupImporter{}.Detect(b)
		snap, err := BackupImporter{}.Import(b)
		if err != nil {
			if !errors.Is(err, device.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if _, err := json.Marshal(snap); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzUCIImport(f *testing.F) {
	for _, dev := range []string{wdr4300, wr841nd, r6220} {
		for _, b := range deviceFiles(f, dev) {
			f.Add(b)
		}
	}
	f.Add([]byte(pppoeNetwork))
	f.Add([]byte(rpcdHashed))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := UCIImporter{}.Import(b)
		if err != nil {
			if !errors.Is(err, device.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if _, err := json.Marshal(snap); err != nil {
			t.Fatal(err)
		}
		for _, a := range snap.Raw {
			if a.Redacted < 0 {
				t.Fatal("negative redaction count")
			}
		}
	})
}
