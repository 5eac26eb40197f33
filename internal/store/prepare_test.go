// SPDX-License-Identifier: Apache-2.0

package store

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
)

func TestPageWindow(t *testing.T) {
	tests := []struct {
		name               string
		p                  Page
		wantLimit, wantOff int
		wantErr            bool
	}{
		{"zero is the default", Page{}, DefaultLimit, 0, false},
		{"negative limit is the default", Page{Limit: -3, Offset: 4}, DefaultLimit, 4, false},
		{"given", Page{Limit: 7, Offset: 14}, 7, 14, false},
		{"over the maximum is clamped", Page{Limit: MaxLimit + 1}, MaxLimit, 0, false},
		{"negative offset", Page{Offset: -1}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, o, err := tc.p.Window()
			if (err != nil) != tc.wantErr || tc.wantErr && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want error %v (ErrInvalid)", err, tc.wantErr)
			}
			if !tc.wantErr && (l != tc.wantLimit || o != tc.wantOff) {
				t.Errorf("Window() = %d, %d; want %d, %d", l, o, tc.wantLimit, tc.wantOff)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "telnet answers on the LAN", "telnet answers on the LAN"},
		{"unicode kept", "café — ünïcode", "café — ünïcode"},
		{"control characters kept in free text", "a\tb\nc", "a\tb\nc"},
		{"NUL replaced", "a\x00b", "a\uFFFDb"},
		{"invalid UTF-8 replaced", "caf\xe9", "caf\uFFFD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		name, id string
		ok       bool
	}{
		{"simple", "home-router", true},
		{"address", "2001:db8::1", true},
		{"unicode", "büro", true},
		{"longest", strings.Repeat("x", MaxIDLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("x", MaxIDLen+1), false},
		{"NUL", "a\x00", false},
		{"escape", "\x1b[2J", false},
		{"DEL", "a\x7f", false},
		{"C1 control", "a\u0085", false},
		{"invalid UTF-8", "\xff", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckID("device ID", tc.id)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckID(%q) = %v, want ok %v", tc.id, err, tc.ok)
			}
			if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "device ID")) {
				t.Errorf("error %q: want ErrInvalid naming the field", err)
			}
		})
	}
}

// TestConfigHashStable: the hash does not depend on the order in which
// services were added (map order), and changes with any setting.
func TestConfigHashStable(t *testing.T) {
	src := device.Source{Adapter: "a", Where: "w"}
	build := func(names []string, dns string) *device.Config {
		c := &device.Config{DHCPDNS: device.Known([]netip.Addr{netip.MustParseAddr(dns)}, src)}
		for _, n := range names {
			c.SetService(n, device.Service{Enabled: device.Known(true, src)})
		}
		return c
	}
	h1, err := ConfigHash(build([]string{"telnet", "ssh", "upnp", "wps", "web"}, "192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		h2, _ := ConfigHash(build([]string{"web", "wps", "upnp", "ssh", "telnet"}, "192.0.2.1"))
		if h1 != h2 {
			t.Fatalf("hash depends on map order: %s vs %s", h1, h2)
		}
	}
	if h3, _ := ConfigHash(build([]string{"telnet", "ssh", "upnp", "wps", "web"}, "203.0.113.7")); h3 == h1 {
		t.Error("a changed DHCP DNS server gives the same hash")
	}
}

func TestEncodeDecodeSnapshot(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
	s := &device.Snapshot{
		Target: netip.MustParseAddr("192.0.2.1"), Adapter: "openwrt-uci", TakenAt: at,
		Raw:      []device.Artifact{{Name: "etc/config/dhcp\xff", Body: []byte("config dhcp 'lan'\x00")}},
		Warnings: []string{"w\x00"},
	}
	e, err := EncodeSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	if e.Raw[0].Name != "etc/config/dhcp\uFFFD" || string(e.Raw[0].Body) != "config dhcp 'lan'\x00" {
		t.Errorf("encoded artifact = %q %q: want the name made valid text, the body untouched", e.Raw[0].Name, e.Raw[0].Body)
	}
	if !e.TakenAt.Equal(at.Truncate(time.Microsecond)) || e.RawBytes != 18 || e.WarningCount != 1 {
		t.Errorf("encoded = %+v", e)
	}
	meta := SnapshotMeta{ID: 1, Adapter: e.Adapter, Target: e.Target, TakenAt: e.TakenAt}
	got, err := DecodeSnapshot(meta, e.Config, e.Warnings, e.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Snapshot.Warnings[0] != "w\uFFFD" || got.Snapshot.Target != s.Target || got.Snapshot.Adapter != "openwrt-uci" {
		t.Errorf("decoded = %+v", got.Snapshot)
	}
	if _, err := DecodeSnapshot(meta, []byte("{"), e.Warnings, nil); err == nil {
		t.Error("a damaged stored configuration decoded without error")
	}
}

// FuzzDecodeSnapshot: whatever bytes a damaged or foreign database holds
// where a configuration should be, decoding returns an error or a
// snapshot, never a panic.
func FuzzDecodeSnapshot(f *testing.F) {
	e, err := EncodeSnapshot(&device.Snapshot{Adapter: "a", TakenAt: time.Unix(1, 0)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(e.Config, e.Warnings)
	f.Add([]byte(`{"wan_dns":{"known":true,"value":["x"]}}`), []byte(`[1]`))
	f.Add([]byte(`{"services":{"telnet":{"enabled":{"known":true,"value":"yes"}}}}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, config, warnings []byte) {
		_, _ = DecodeSnapshot(SnapshotMeta{ID: 1}, config, warnings, nil)
	})
}
