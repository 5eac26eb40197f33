// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/openwrttest"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// committedOption reads an option of what the fake router has written.
func committedOption(t *testing.T, srv *openwrttest.Server, config, section, option string) string {
	t.Helper()
	p := srv.Committed(config)
	if p == nil {
		t.Fatalf("no %s", config)
	}
	s := p.Section(section)
	if s == nil {
		t.Fatalf("no %s.%s", config, section)
	}
	o := s.Option(option)
	if o == nil {
		return "<absent>"
	}
	if o.List {
		return "list " + strings.Join(o.Values, " | ")
	}
	return o.Values[0]
}

func pull(t *testing.T, tgt device.Target) map[string]string {
	t.Helper()
	snap, err := Adapter{}.Pull(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	return summary(&snap.Config)
}

// withLine returns a real file with lines added after the line holding
// anchor: the tests' tampered routers are the real samples plus the
// change an attacker (or the owner) made, marked in each test.
func withLine(t *testing.T, b []byte, anchor, add string) []byte {
	t.Helper()
	s := string(b)
	i := strings.Index(s, anchor)
	if i < 0 {
		t.Fatalf("no %q in the sample", anchor)
	}
	j := i + strings.IndexByte(s[i:], '\n') + 1
	return []byte(s[:j] + add + s[j:])
}

// hijacked is the TL-WR841N/ND's real dhcp with the campaign's change:
// the LAN pool hands out an attacker's resolver (CONFIGS.md §4.2: "list
// dhcp_option '6,<dns>' would override the DNS handed to clients").
func hijacked(t *testing.T) []byte {
	return withLine(t, deviceFiles(t, wr841nd)["dhcp"], "option interface 'lan'", "\tlist dhcp_option '3,10.1.1.1'\n\tlist dhcp_option '6,203.0.113.7'\n")
}

func TestApplyDHCPDNS(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) { o.Configs["dhcp"] = hijacked(t) })
	if got := pull(t, tgt)["dhcp_dns"]; got != "[203.0.113.7]" {
		t.Fatalf("before: dhcp_dns %s", got)
	}
	a := Adapter{}
	backup, err := a.Backup(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		dns    []netip.Addr
		option string // dhcp.lan.dhcp_option afterwards
		want   string // dhcp_dns pulled afterwards
	}{
		// Other options (3: the gateway) are kept; option 6 replaced.
		{"given_servers", addrs("198.51.100.53", "198.51.100.54"), "list 3,10.1.1.1 | 6,198.51.100.53,198.51.100.54", "[198.51.100.53 198.51.100.54]"},
		// The LAN address alone: no option 6, the router hands out itself.
		{"router_itself", addrs("10.1.1.1"), "list 3,10.1.1.1", "[10.1.1.1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := a.Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: "dhcp_dns", DNS: tc.dns}}); err != nil {
				t.Fatal(err)
			}
			if got := committedOption(t, srv, "dhcp", "lan", "dhcp_option"); got != tc.option {
				t.Errorf("dhcp.lan.dhcp_option = %s, want %s", got, tc.option)
			}
			if got := pull(t, tgt)["dhcp_dns"]; got != tc.want {
				t.Errorf("dhcp_dns = %s, want %s", got, tc.want)
			}
			if srv.PendingApply() {
				t.Error("the apply was not confirmed")
			}
		})
	}
	calls := srv.Calls()
	for _, want := range []string{"uci.set dhcp", "uci.apply", "uci.confirm"} {
		if !slices.Contains(calls, want) {
			t.Errorf("no %s in %v", want, calls)
		}
	}
	// The backup holds no secret and puts the hijack back: Restore is
	// exact, whatever was there.
	if strings.Contains(string(backup), labPassword) {
		t.Error("backup holds the password")
	}
	if err := a.Restore(t.Context(), loopbackDialer(), tgt, creds, backup); err != nil {
		t.Fatal(err)
	}
	if got := pull(t, tgt)["dhcp_dns"]; got != "[203.0.113.7]" {
		t.Errorf("after Restore: dhcp_dns %s", got)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

func TestApplyWANDNS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dev     string
		steps   [][]netip.Addr
		want    []map[string]string // pulled after each step
		options []map[string]string // committed options after each step
	}{
		{"dnsmasq_servers_and_dhcp_wan", wdr4300,
			[][]netip.Addr{addrs("198.51.100.53"), nil},
			[]map[string]string{
				{"wan_dns": "[198.51.100.53]", "wan_dns_auto": "false"},
				{"wan_dns": "[]", "wan_dns_auto": "true"},
			},
			[]map[string]string{
				{"dhcp.@dnsmasq[0].server": "<absent>", "network.wan.dns": "list 198.51.100.53", "network.wan.peerdns": "0"},
				{"network.wan.dns": "<absent>", "network.wan.peerdns": "<absent>"},
			}},
		// noresolv: dnsmasq's own list is what the router uses.
		{"noresolv", r6220,
			[][]netip.Addr{addrs("198.51.100.53", "198.51.100.54")},
			[]map[string]string{{"wan_dns": "[198.51.100.53 198.51.100.54]", "wan_dns_auto": "false"}},
			[]map[string]string{{"dhcp.@dnsmasq[0].server": "list 198.51.100.53 | 198.51.100.54"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, tc.dev, nil)
			for i, dns := range tc.steps {
				if err := (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: "wan_dns", DNS: dns}}); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got := pull(t, tgt)
				for k, v := range tc.want[i] {
					if got[k] != v {
						t.Errorf("step %d: %s = %s, want %s", i, k, got[k], v)
					}
				}
				for path, v := range tc.options[i] {
					parts := strings.SplitN(path, ".", 3)
					section := parts[1]
					if section == "@dnsmasq[0]" {
						section = srv.Committed("dhcp").OfType("dnsmasq")[0].Name
					}
					if got := committedOption(t, srv, parts[0], section, parts[2]); got != v {
						t.Errorf("step %d: %s = %s, want %s", i, path, got, v)
					}
				}
			}
		})
	}
}

// Firewall additions for the remote-management tests: synthetic rules
// in the shape of the real ones (the tl-wdr4300's Drop-HTTP, turned to
// ACCEPT), appended to the TL-WR841N/ND's real firewall.
const (
	allowWeb    = "\nconfig rule\n\toption name 'Allow-Web'\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '80'\n\toption target 'ACCEPT'\n"
	allowShared = "\nconfig rule\n\toption name 'Allow-SSH-Web'\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '22 80'\n\toption target 'ACCEPT'\n"
)

func TestApplyCloseRemoteManagement(t *testing.T) {
	openZone := func(b []byte) []byte {
		return []byte(strings.Replace(string(b), "option input 'REJECT'", "option input 'ACCEPT'", 1))
	}
	for _, tc := range []struct {
		name     string
		dev      string
		firewall func([]byte) []byte
		setting  string
		options  map[string]string // committed afterwards ("" section: the added rule)
		noWrite  bool
	}{
		{"dedicated_rule_disabled", wr841nd, func(b []byte) []byte { return append(b, allowWeb...) }, "services.web",
			map[string]string{"uhttpd.main.listen_http": "list 0.0.0.0:80", "firewall.rule.enabled": "0"}, false},
		{"shared_rule_kept_daemon_bound", wr841nd, func(b []byte) []byte { return append(b, allowShared...) }, "services.web.wan",
			map[string]string{"uhttpd.main.listen_http": "list 10.1.1.1:80", "firewall.rule.enabled": "<absent>"}, false},
		{"open_zone_daemon_bound", wr841nd, openZone, "services.web",
			map[string]string{"uhttpd.main.listen_http": "list 10.1.1.1:80"}, false},
		// R6220: dropbear on every interface (no Interface option).
		{"open_zone_ssh_bound", r6220, openZone, "services.ssh",
			map[string]string{"dropbear.@dropbear[0].Interface": "lan"}, false},
		// Already closed: nothing is written.
		{"already_closed", wr841nd, nil, "services.ssh", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, tc.dev, func(o *openwrttest.Options) {
				if tc.firewall != nil {
					o.Configs["firewall"] = tc.firewall(o.Configs["firewall"])
				}
			})
			service := strings.TrimSuffix(strings.TrimPrefix(tc.setting, "services."), ".wan")
			if err := (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: tc.setting, Off: true}}); err != nil {
				t.Fatal(err)
			}
			got := pull(t, tgt)[service]
			if !strings.HasPrefix(got, "enabled=true") || !strings.HasSuffix(got, "wan=false") {
				t.Errorf("%s after Apply: %s", service, got)
			}
			for path, want := range tc.options {
				parts := strings.SplitN(path, ".", 3)
				section := parts[1]
				switch section {
				case "rule":
					rules := srv.Committed("firewall").OfType("rule")
					section = rules[len(rules)-1].Name
				case "@dropbear[0]":
					section = srv.Committed("dropbear").OfType("dropbear")[0].Name
				}
				if got := committedOption(t, srv, parts[0], section, parts[2]); got != want {
					t.Errorf("%s = %s, want %s", path, got, want)
				}
			}
			wrote := slices.ContainsFunc(srv.Calls(), func(c string) bool { return strings.HasPrefix(c, "uci.set") })
			if wrote == tc.noWrite {
				t.Errorf("wrote %v; calls %v", wrote, srv.Calls())
			}
		})
	}
}

func TestApplyNotKept(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noApply  bool
		want     string
		rollback bool
	}{
		{"rolled_back", false, "rolled back", true},
		{"old_rpcd_cannot_roll_back", true, "restore the backup", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) {
				o.Configs["dhcp"] = hijacked(t)
				o.IgnoreWrites = true
				o.NoApply = tc.noApply
			})
			err := (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: "dhcp_dns", DNS: addrs("198.51.100.53")}})
			if !errors.Is(err, ErrNotApplied) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply = %v, want ErrNotApplied (%s)", err, tc.want)
			}
			if got := slices.Contains(srv.Calls(), "uci.rollback"); got != tc.rollback {
				t.Errorf("rollback called: %v", got)
			}
			if srv.PendingApply() {
				t.Error("an apply is left pending")
			}
			if got := committedOption(t, srv, "dhcp", "lan", "dhcp_option"); got != "list 3,10.1.1.1 | 6,203.0.113.7" {
				t.Errorf("dhcp_option = %s", got)
			}
		})
	}
}

// TestApplyOldRPCD: without uci apply, Apply commits each configuration.
func TestApplyOldRPCD(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, func(o *openwrttest.Options) { o.NoApply = true })
	if err := (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: "dhcp_dns", DNS: addrs("198.51.100.53")}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(srv.Calls(), "uci.commit dhcp") || slices.Contains(srv.Calls(), "uci.confirm") {
		t.Errorf("calls %v", srv.Calls())
	}
	if got := pull(t, tgt)["dhcp_dns"]; got != "[198.51.100.53]" {
		t.Errorf("dhcp_dns %s", got)
	}
}

// TestApplyWhileAnotherPending: rpcd refuses a second apply with
// rollback while one awaits confirmation.
func TestApplyWhileAnotherPending(t *testing.T) {
	srv, tgt := fakeRouter(t, wr841nd, nil)
	cl, err := newClient(loopbackDialer(), tgt, nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.login(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.call(t.Context(), "uci", "set", map[string]any{"config": "system", "section": "ntp", "values": map[string]any{"enabled": "0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.call(t.Context(), "uci", "apply", map[string]any{"rollback": true, "timeout": 60}); err != nil {
		t.Fatal(err)
	}
	err = (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{{Path: "dhcp_dns", DNS: addrs("198.51.100.53")}})
	if !errors.Is(err, device.ErrBusy) {
		t.Errorf("Apply = %v, want ErrBusy", err)
	}
	_ = srv
}

func TestApplyRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setting device.Setting
		want    error
		text    string
	}{
		{"telnet", device.Setting{Path: "services.telnet", Off: true}, device.ErrUnsupported, "no such UCI setting"},
		{"turn_on", device.Setting{Path: "services.web", Off: false}, device.ErrUnsupported, "never on"},
		{"unknown_path", device.Setting{Path: "dmz"}, device.ErrUnsupported, "not a setting"},
		{"ipv6_option_6", device.Setting{Path: "dhcp_dns", DNS: addrs("2001:db8::53")}, nil, "IPv4 addresses only"},
		{"empty_dhcp_dns", device.Setting{Path: "dhcp_dns"}, nil, "at least one resolver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, wr841nd, nil)
			err := (Adapter{}).Apply(t.Context(), loopbackDialer(), tgt, creds, []device.Setting{tc.setting})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Apply = %v, want %v %q", err, tc.want, tc.text)
			}
			for _, c := range srv.Calls() {
				if strings.HasPrefix(c, "uci.set") || strings.HasPrefix(c, "uci.delete") || strings.HasPrefix(c, "uci.apply") {
					t.Errorf("refused setting still called %s", c)
				}
			}
			if n := srv.Sessions(); n != 0 {
				t.Errorf("%d sessions left open", n)
			}
		})
	}
}

func TestRestoreRefusesForgedBackups(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"not_json", "config.bin", "openwrt backup"},
		{"other_format", `{"format":"x","options":[]}`, "not an openwrt backup"},
		{"unknown_field", `{"format":"` + backupFormat + `","options":[],"x":1}`, "unknown field"},
		// A backup must not set what Backup never records: a password,
		// the WAN zone's policy.
		{"password", `{"format":"` + backupFormat + `","options":[{"config":"rpcd","section":"cfg014999","type":"login","option":"password","present":true,"values":["$1$x$y"]}]}`, "never records"},
		{"zone_policy", `{"format":"` + backupFormat + `","options":[{"config":"firewall","section":"cfg03dc81","type":"zone","option":"input","present":true,"values":["ACCEPT"]}]}`, "never records"},
		{"bad_section_name", `{"format":"` + backupFormat + `","options":[{"config":"dhcp","section":"lan x","type":"dhcp","option":"dhcp_option","present":false}]}`, "never records"},
		{"present_without_value", `{"format":"` + backupFormat + `","options":[{"config":"dhcp","section":"lan","type":"dhcp","option":"dhcp_option","present":true}]}`, "0 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tgt := fakeRouter(t, wr841nd, nil)
			err := (Adapter{}).Restore(t.Context(), loopbackDialer(), tgt, creds, []byte(tc.in))
			if !errors.Is(err, device.ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore = %v, want ErrFormat %q", err, tc.want)
			}
			if len(srv.Calls()) != 0 {
				t.Errorf("calls %v", srv.Calls())
			}
		})
	}
}

// TestBackupContent pins what Backup records of the real TL-WR841N/ND.
func TestBackupContent(t *testing.T) {
	_, tgt := fakeRouter(t, wr841nd, nil)
	b, err := Adapter{}.Backup(t.Context(), loopbackDialer(), tgt, creds)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeBackup(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range doc.Options {
		if o.Present {
			got = append(got, o.Config+"."+o.Type+"."+o.Option+"="+strings.Join(o.Values, ","))
		}
	}
	// uhttpd listen_http (l.3), dropbear Interface (l.5), the redirect
	// and rules have no enabled option, dhcp no option 6, no server.
	want := []string{"uhttpd.uhttpd.listen_http=0.0.0.0:80", "dropbear.dropbear.Interface=lan"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("present options (-want +got):\n%s", diff)
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	// 1 dnsmasq ×2 + 2 dhcp ×2 + 5 interface ×2 + 6 rule + 1 redirect + 1 uhttpd ×2 + 1 dropbear
	if n := len(doc.Options); n != 2+4+10+6+1+2+1 {
		t.Errorf("%d options recorded", n)
	}
}

func TestPlanSimulation(t *testing.T) {
	// holds and apply agree with rpcd's set semantics: a list replaces an
	// option, a value replaces a list, delete removes.
	c := configs{"x": mustParse(t, "x", "config t 's'\n\toption a '1'\n\tlist b '2'\n")}
	for _, ch := range []change{
		{config: "x", section: "s", option: "a", values: []string{"3", "4"}, list: true},
		{config: "x", section: "s", option: "b", values: []string{"5"}},
		{config: "x", section: "s", option: "c", values: []string{"6"}},
		{config: "x", section: "s", option: "a"},
	} {
		if err := c.apply(ch); err != nil {
			t.Fatal(err)
		}
		if !c.holds(ch) {
			t.Errorf("after %s, holds = false", ch)
		}
	}
	got := string(uci.EncodeValues(c["x"]))
	if want := `{"values":{"s":{".anonymous":false,".type":"t",".name":"s",".index":0,"b":"5","c":"6"}}}`; got != want {
		t.Errorf("simulated package %s", got)
	}
}
