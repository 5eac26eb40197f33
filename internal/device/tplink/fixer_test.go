// SPDX-License-Identifier: Apache-2.0

package tplink_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
)

func addrs(ss ...string) []netip.Addr {
	out := []netip.Addr{}
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestApplyReadBackRestore: each change is made, read back with Pull,
// and a Restore of the Backup taken before puts the router's state back
// exactly.
func TestApplyReadBackRestore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scheme   tplinktest.Scheme
		initial  func(*tplinktest.State)
		settings []device.Setting
		after    func(*testing.T, tplinktest.State) // the fake's state after Apply
		want     map[string]string                  // read back with Pull
	}{
		{name: "dhcp_dns_set", settings: []device.Setting{{Path: "dhcp_dns", DNS: addrs("198.51.100.53", "198.51.100.54")}},
			after: func(t *testing.T, s tplinktest.State) {
				d := tplinktest.Default().DHCP
				d.DNS1, d.DNS2, d.RebootNeeded = "198.51.100.53", "198.51.100.54", true
				if diff := cmp.Diff(d, s.DHCP); diff != "" {
					t.Errorf("DHCP form (-want +got):\n%s", diff)
				}
			},
			want: map[string]string{"dhcp_dns": "[198.51.100.53 198.51.100.54]", "dhcp_range": "{192.168.1.100 192.168.1.199}", "dhcp_enabled": "true"}},
		{name: "dhcp_dns_back_to_the_router_itself", scheme: tplinktest.Basic,
			initial:  func(s *tplinktest.State) { s.DHCP.DNS1, s.DHCP.DNS2 = "203.0.113.7", "203.0.113.8" },
			settings: []device.Setting{{Path: "dhcp_dns", DNS: addrs("192.168.1.1")}},
			after: func(t *testing.T, s tplinktest.State) {
				if s.DHCP.DNS1 != "0.0.0.0" || s.DHCP.DNS2 != "0.0.0.0" {
					t.Errorf("DHCP DNS %q %q, want the router's default 0.0.0.0", s.DHCP.DNS1, s.DHCP.DNS2)
				}
			},
			want: map[string]string{"dhcp_dns": "[192.168.1.1]"}},
		{name: "dhcp_dns_empty", initial: func(s *tplinktest.State) { s.DHCP.DNS1 = "203.0.113.7" },
			settings: []device.Setting{{Path: "dhcp_dns"}},
			want:     map[string]string{"dhcp_dns": "[192.168.1.1]"}},
		{name: "wan_dns_dynamic", settings: []device.Setting{{Path: "wan_dns", DNS: addrs("198.51.100.53")}},
			after: func(t *testing.T, s tplinktest.State) {
				if s.Dynamic.HostName != "TL-WR841N" || s.Dynamic.MTU != 1500 {
					t.Errorf("host name %q MTU %d not kept", s.Dynamic.HostName, s.Dynamic.MTU)
				}
			},
			want: map[string]string{"wan_dns": "[198.51.100.53]", "wan_dns_auto": "false"}},
		{name: "wan_dns_dynamic_back_to_automatic",
			initial: func(s *tplinktest.State) {
				s.Dynamic.Manual, s.Dynamic.DNS1, s.Dynamic.Unicast = true, "203.0.113.7", true
			},
			settings: []device.Setting{{Path: "wan_dns"}},
			after: func(t *testing.T, s tplinktest.State) {
				if !s.Dynamic.Unicast {
					t.Error("the unicast DHCP checkbox was not kept")
				}
			},
			want: map[string]string{"wan_dns": "[213.57.2.5]", "wan_dns_auto": "true"}},
		{name: "wan_dns_static", initial: func(s *tplinktest.State) { s.WANType = 2 },
			settings: []device.Setting{{Path: "wan_dns", DNS: addrs("198.51.100.60", "198.51.100.61")}},
			after: func(t *testing.T, s tplinktest.State) {
				w := tplinktest.Default().Static
				w.DNS1, w.DNS2 = "198.51.100.60", "198.51.100.61"
				if diff := cmp.Diff(w, s.Static); diff != "" {
					t.Errorf("static WAN form (-want +got):\n%s", diff)
				}
			},
			want: map[string]string{"wan_dns": "[198.51.100.60 198.51.100.61]", "wan_dns_auto": "false"}},
		{name: "wan_dns_pppoe", scheme: tplinktest.Basic,
			initial:  func(s *tplinktest.State) { s.WANType, s.PPPoE.ServiceName, s.PPPoE.EchoReq = 3, "isp", 30 },
			settings: []device.Setting{{Path: "wan_dns", DNS: addrs("198.51.100.53", "198.51.100.54")}},
			after: func(t *testing.T, s tplinktest.State) {
				if s.PPPoE.ServiceName != "isp" || s.PPPoE.EchoReq != 30 || s.PPPoE.MRU != 1480 {
					t.Errorf("PPPoE form not kept: %+v", s.PPPoE)
				}
			},
			want: map[string]string{"wan_dns": "[198.51.100.53 198.51.100.54]", "wan_dns_auto": "false"}},
		{name: "remote_management_off",
			initial: func(s *tplinktest.State) {
				s.Manage.IP, s.Manage.Port = "255.255.255.255", 31
				s.Manage.TelnetPortSupported, s.Manage.TelnetPort = true, 2323
			},
			settings: []device.Setting{{Path: "services.web", Off: true}},
			after: func(t *testing.T, s tplinktest.State) {
				want := tplinktest.Manage{Port: 31, IP: "0.0.0.0", TelnetPortSupported: true, TelnetPort: 2323}
				if s.Manage != want {
					t.Errorf("manage %+v, want %+v", s.Manage, want)
				}
			},
			want: map[string]string{"web.wan": "false", "web.port": "31"}},
		{name: "upnp_and_wps_off", scheme: tplinktest.Basic,
			settings: []device.Setting{{Path: "services.upnp", Off: true}, {Path: "services.wps", Off: true}},
			want:     map[string]string{"upnp.enabled": "false", "wps.enabled": "false"}},
		{name: "everything_at_once",
			initial: func(s *tplinktest.State) {
				s.DHCP.DNS1, s.Dynamic.Manual, s.Dynamic.DNS1, s.Manage.IP = "203.0.113.7", true, "203.0.113.7", "255.255.255.255"
			},
			settings: []device.Setting{{Path: "dhcp_dns"}, {Path: "wan_dns"}, {Path: "services.web.wan", Off: true},
				{Path: "services.upnp", Off: true}, {Path: "services.wps", Off: true}},
			want: map[string]string{"dhcp_dns": "[192.168.1.1]", "wan_dns": "[213.57.2.5]", "wan_dns_auto": "true",
				"web.wan": "false", "upnp.enabled": "false", "wps.enabled": "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tplinktest.Default()
			if tc.initial != nil {
				tc.initial(&st)
			}
			scheme := tplinktest.Cookie
			if tc.scheme == tplinktest.Basic {
				scheme = tplinktest.Basic
			}
			r := fake(t, tplinktest.Options{Scheme: scheme, State: &st})
			l := &tplink.Legacy{}
			ctx, d, tg, c := t.Context(), loopback(), targetOf(r), creds(testUser, testPassword)

			backup, err := l.Backup(ctx, d, tg, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Apply(ctx, d, tg, c, tc.settings); err != nil {
				t.Fatal(err)
			}
			if tc.after != nil {
				tc.after(t, r.State())
			}
			snap, err := l.Pull(ctx, d, tg, c)
			if err != nil {
				t.Fatal(err)
			}
			vals, _ := summary(snap.Config)
			if diff := cmp.Diff(tc.want, pick(vals, tc.want)); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
			if err := l.Restore(ctx, d, tg, c, backup); err != nil {
				t.Fatal(err)
			}
			got := r.State()
			got.DHCP.RebootNeeded = st.DHCP.RebootNeeded // the firmware's own "reboot to apply" flag
			if diff := cmp.Diff(effective(st), effective(got)); diff != "" {
				t.Errorf("state after Restore (-before +after):\n%s", diff)
			}
			if r.SessionOpen() {
				t.Error("session left open")
			}
			for _, q := range r.Requests() {
				if q.Query.Has("Save") && q.Path != "/userRpm/LoginRpm.htm" &&
					!strings.HasSuffix(q.Referer, q.Path) {
					t.Errorf("Save of %s with Referer %q, want the page itself", q.Path, q.Referer)
				}
			}
		})
	}
}

// effective blanks the resolvers stored behind an unchecked "use these
// DNS servers": the router does not use them, and a Restore, like a
// browser, does not send disabled fields.
func effective(s tplinktest.State) tplinktest.State {
	if !s.Dynamic.Manual {
		s.Dynamic.DNS1, s.Dynamic.DNS2 = "", ""
	}
	if !s.PPPoE.Manual {
		s.PPPoE.DNS1, s.PPPoE.DNS2 = "", ""
	}
	return s
}

// TestApplyRefuses: what the adapter cannot do is refused before any
// request.
func TestApplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setting device.Setting
		wantErr error
	}{
		{"telnet", device.Setting{Path: "services.telnet", Off: true}, device.ErrUnsupported},
		{"ssh", device.Setting{Path: "services.ssh", Off: true}, device.ErrUnsupported},
		{"ntp", device.Setting{Path: "ntp"}, device.ErrUnsupported},
		{"turn_upnp_on", device.Setting{Path: "services.upnp"}, device.ErrUnsupported},
		{"ipv6_resolver", device.Setting{Path: "dhcp_dns", DNS: addrs("2001:db8::53")}, nil},
		{"unspecified_resolver", device.Setting{Path: "wan_dns", DNS: addrs("0.0.0.0")}, nil},
		{"three_resolvers", device.Setting{Path: "dhcp_dns", DNS: addrs("198.51.100.1", "198.51.100.2", "198.51.100.3")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fake(t, tplinktest.Options{Scheme: tplinktest.Basic})
			err := (&tplink.Legacy{}).Apply(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword),
				[]device.Setting{{Path: "services.upnp", Off: true}, tc.setting})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if n := len(r.Requests()); n != 0 {
				t.Errorf("%d requests sent before refusing", n)
			}
			if !r.State().UPnP {
				t.Error("the valid setting of the batch was applied")
			}
		})
	}
	t.Run("static_wan_without_resolvers", func(t *testing.T) {
		st := tplinktest.Default()
		st.WANType = 2
		r := fake(t, tplinktest.Options{Scheme: tplinktest.Basic, State: &st})
		err := (&tplink.Legacy{}).Apply(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword),
			[]device.Setting{{Path: "wan_dns"}})
		if err == nil || !strings.Contains(err.Error(), "static IP WAN needs at least one resolver") {
			t.Fatalf("err = %v", err)
		}
		if r.State().Static != st.Static {
			t.Error("the static WAN changed")
		}
	})
	t.Run("l2tp_wan", func(t *testing.T) {
		st := tplinktest.Default()
		st.WANType = 7
		r := fake(t, tplinktest.Options{Scheme: tplinktest.Basic, State: &st})
		err := (&tplink.Legacy{}).Apply(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword),
			[]device.Setting{{Path: "wan_dns", DNS: addrs("198.51.100.53")}})
		if !errors.Is(err, device.ErrUnsupported) {
			t.Fatalf("err = %v, want ErrUnsupported", err)
		}
	})
}

// TestApplySkipsWhatIsAlreadySo: no Save when the router already has the
// setting.
func TestApplySkipsWhatIsAlreadySo(t *testing.T) {
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie})
	st := r.State()
	err := (&tplink.Legacy{}).Apply(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword), []device.Setting{
		{Path: "dhcp_dns"}, {Path: "dhcp_dns", DNS: addrs("192.168.1.1")}, {Path: "wan_dns"}, {Path: "services.web", Off: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.SetState(func(s *tplinktest.State) { s.UPnP, s.WPS = false, false })
	err = (&tplink.Legacy{}).Apply(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword), []device.Setting{
		{Path: "services.upnp", Off: true}, {Path: "services.wps", Off: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReadOnly(t, r.Requests())
	if got := r.State(); got.DHCP != st.DHCP || got.Dynamic != st.Dynamic || got.Manage != st.Manage {
		t.Error("the state changed")
	}
}

func TestBackup(t *testing.T) {
	st := tplinktest.Default()
	st.DHCP.Domain = "home.example"
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie, State: &st})
	b, err := (&tplink.Legacy{}).Backup(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testPassword, st.WPSPIN} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the backup holds %q", secret)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "dhcp", "wan", "manage", "upnp", "wps"} {
		if _, ok := got[k]; !ok {
			t.Errorf("backup without %q: %s", k, b)
		}
	}
	checkReadOnly(t, r.Requests())
	if r.SessionOpen() {
		t.Error("session left open")
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	for _, tc := range []struct {
		name, backup string
	}{
		{"not_json", "config.bin"},
		{"wrong_format", `{"format":"something-else"}`},
		{"unknown_field", `{"format":"routerwatch/tplink-legacy-backup/1","password":"x"}`},
		{"unsupported_wan", `{"format":"routerwatch/tplink-legacy-backup/1","wan":{"type":7}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fake(t, tplinktest.Options{Scheme: tplinktest.Basic})
			err := (&tplink.Legacy{}).Restore(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword), []byte(tc.backup))
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(r.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}
