// SPDX-License-Identifier: Apache-2.0

package mikrotik_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik"
	"github.com/routerwatch/routerwatch/internal/device/mikrotik/mikrotiktest"
)

// hijacked is the LUNARSA router after the DNS-changer: its DHCP hands
// out the attacker's resolver, telnet and UPnP are on, www answers
// from anywhere.
func hijacked() *mikrotiktest.State {
	st := mikrotiktest.Lunarsa()
	st.Set("ip/dhcp-server/network", "*1", map[string]string{"dns-server": "203.0.113.7"})
	st.Set("ip/service", "telnet", map[string]string{"disabled": "false"})
	st.Set("ip/service", "www", map[string]string{"disabled": "false"})
	st.Set("ip/upnp", "", map[string]string{"enabled": "true"})
	return st
}

func TestFixerApplyAndRestore(t *testing.T) {
	st := hijacked()
	srv := mikrotiktest.NewServer(t, st, mikrotiktest.Options{Users: users})
	fx := mikrotik.APIPuller{}
	d, tg := testDialer(), tgt(srv.Addr, false)

	before, err := fx.Pull(ctxT(t), d, tg, creds)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := fx.Backup(ctxT(t), d, tg, creds)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(backup), testPassword) {
		t.Error("the backup holds the password")
	}
	settings := []device.Setting{
		{Path: "dhcp_dns", DNS: []netip.Addr{netip.MustParseAddr("192.168.88.1")}},
		{Path: "wan_dns", DNS: []netip.Addr{netip.MustParseAddr("198.51.100.53"), netip.MustParseAddr("198.51.100.54")}},
		{Path: "services.telnet", Off: true},
		{Path: "services.upnp", Off: true},
		{Path: "services.web.wan", Off: true},
		{Path: "services.dns", Off: true},
	}
	if err := fx.Apply(ctxT(t), d, tg, creds, settings); err != nil {
		t.Fatal(err)
	}
	after, err := fx.Pull(ctxT(t), d, tg, creds)
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, after.Config, []expect{
		{"dhcp_dns", `["192.168.88.1"]`, "/ip/dhcp-server/network/print"},
		{"wan_dns", `["198.51.100.53","198.51.100.54"]`, "/ip/dns/print"},
		{"services.telnet.enabled", `false`, "/ip/service/print telnet"},
		{"services.upnp.enabled", `false`, "/ip/upnp/print"},
		{"services.dns.enabled", `false`, "/ip/dns/print"},
		// Still on, but only from the LAN.
		{"services.web.enabled", `true`, "/ip/service/print www"},
		{"services.web.allowed", `["192.168.88.0/24"]`, "/ip/service/print www address"},
		{"services.web.wan", `false`, "/ip/service/print www address"},
	})
	if got := st.Get("ip/dhcp-server/network", "*1", "dns-server"); got != "192.168.88.1" {
		t.Errorf("fake state dns-server = %q", got)
	}

	if err := fx.Restore(ctxT(t), d, tg, creds, backup); err != nil {
		t.Fatal(err)
	}
	restored, err := fx.Pull(ctxT(t), d, tg, creds)
	if err != nil {
		t.Fatal(err)
	}
	if diff := device.Diff(&before.Config, &restored.Config); len(diff) != 0 {
		t.Errorf("after restore, changes remain: %v", diff)
	}
	waitClosed(t, srv)
	if srv.Logins() != srv.Quits() {
		t.Errorf("%d logins, %d quits", srv.Logins(), srv.Quits())
	}
}

func TestFixerRefuses(t *testing.T) {
	tests := []struct {
		name     string
		tls      bool
		settings []device.Setting
		want     string
	}{
		{"own_api_service", false, []device.Setting{{Path: "services.telnet", Off: true}, {Path: "services.api", Off: true}}, "would cut this session"},
		// The test connects from 127.0.0.1, not from the LAN.
		{"own_api_restricted_away", false, []device.Setting{{Path: "services.api.wan", Off: true}}, "would cut this session"},
		{"unknown_path", false, []device.Setting{{Path: "services.telnet", Off: true}, {Path: "dmz"}}, `cannot change "dmz"`},
		{"turn_on", false, []device.Setting{{Path: "services.telnet"}}, "only turns things off"},
		{"wps_not_routeros", false, []device.Setting{{Path: "services.wps", Off: true}}, `cannot turn off "wps"`},
		{"dns_wan_has_no_address_list", false, []device.Setting{{Path: "services.dns.wan", Off: true}}, "only /ip service services"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := hijacked()
			srv := mikrotiktest.NewServer(t, st, mikrotiktest.Options{Users: users})
			err := mikrotik.APIPuller{}.Apply(ctxT(t), testDialer(), tgt(srv.Addr, tc.tls), creds, tc.settings)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			// Nothing was changed: the refusal comes before any set.
			if got := st.Get("ip/service", "telnet", "disabled"); got != "false" {
				t.Errorf("telnet disabled = %q: a change was made before the refusal", got)
			}
			for _, w := range srv.Words() {
				if strings.HasSuffix(w, "/set") {
					t.Errorf("sent %s", w)
				}
			}
		})
	}
}

func TestRestoreRejectsBadBackups(t *testing.T) {
	srv := mikrotiktest.NewServer(t, mikrotiktest.Lunarsa(), mikrotiktest.Options{Users: users})
	for _, tc := range []struct {
		name   string
		backup string
	}{
		{"not_json", "{"},
		{"wrong_format", `{"format":"tplink/1"}`},
		{"huge", `{"format":"routeros-api-backup/1","services":[` + strings.Repeat(`{"id":"*1"},`, 200000) + `{"id":"*1"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mikrotik.APIPuller{}.Restore(ctxT(t), testDialer(), tgt(srv.Addr, false), creds, []byte(tc.backup))
			if !errors.Is(err, device.ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
	if srv.Conns() != 0 {
		t.Errorf("a bad backup reached the router (%d connections)", srv.Conns())
	}
}

func TestBackupContents(t *testing.T) {
	srv := mikrotiktest.NewServer(t, hijacked(), mikrotiktest.Options{Users: users})
	b, err := mikrotik.APIPuller{}.Backup(ctxT(t), testDialer(), tgt(srv.Addr, false), creds)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Format   string
		DNS      map[string]string   `json:"dns"`
		Networks []map[string]string `json:"dhcp_networks"`
		UPnP     map[string]string   `json:"upnp"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"id": "*1", "address": "192.168.88.0/24", "dns_server": "203.0.113.7"}}
	if diff := cmp.Diff(want, got.Networks); diff != "" || got.UPnP["enabled"] != "true" || got.DNS["servers"] != "200.108.192.4,200.108.192.5,8.8.8.8" {
		t.Errorf("backup %s", b)
	}
}
