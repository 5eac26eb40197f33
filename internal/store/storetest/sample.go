// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
)

// Snapshot returns a deterministic snapshot numbered n, taken at `at`:
// every kind of Config field (known, unknown with a source, lists,
// services, port forwards), raw artifacts with binary bodies (NUL bytes,
// invalid UTF-8, an empty body) and warnings. Two numbers give two
// different configurations (the DHCP DNS primary and a port forward
// differ); CheckSnapshot verifies a read-back copy. extra adds that many
// bytes of raw artifact.
func Snapshot(n int, at time.Time, extra int) *device.Snapshot {
	src := func(where string) device.Source { return device.Source{Adapter: "tplink-legacy", Where: where} }
	c := device.Config{
		Identity: device.Identity{
			Vendor:   device.Known("TP-Link", src("StatusRpm.htm statusPara[5]")),
			Model:    device.Known("TL-WR841N", src("StatusRpm.htm statusPara[6]")),
			Hardware: device.Known("TL-WR841N v14 00000014", src("StatusRpm.htm")),
			Firmware: device.Unknown[string](device.Source{Adapter: "tplink-legacy", Where: "StatusRpm.htm", Note: "not on this build's page"}),
		},
		WANDNS:      device.Known([]netip.Addr{netip.MustParseAddr("198.51.100.53")}, src("WanDynamicIpCfgRpm.htm")),
		WANDNSAuto:  device.Known(true, src("WanDynamicIpCfgRpm.htm dnsPara[0]")),
		LAN:         device.Known(netip.MustParsePrefix("192.0.2.1/24"), src("NetworkCfgRpm.htm")),
		DHCPEnabled: device.Known(true, src("LanDhcpServerRpm.htm DHCPPara[0]")),
		DHCPRange: device.Known(device.Range{
			First: netip.MustParseAddr("192.0.2.100"), Last: netip.MustParseAddr("192.0.2.199"),
		}, src("LanDhcpServerRpm.htm DHCPPara[1:2]")),
		DHCPDNS: device.Known([]netip.Addr{
			netip.AddrFrom4([4]byte{203, 0, 113, byte(n % 256)}),
			netip.MustParseAddr("2001:db8::53"),
		}, device.Source{Adapter: "tplink-legacy", Where: "LanDhcpServerRpm.htm DHCPPara[6]", Note: "0.0.0.0: the router hands out its own address"}),
		LocalManagement: device.Known([]string{}, src("LocalManageControlRpm.htm")),
		SNMPCommunities: device.Unknown[[]string](src("no SNMP page")),
		Admins:          device.Known([]string{"admin"}, src("UserRpm.htm")),
		PortForwards: device.Known([]device.PortForward{{
			Proto: "tcp", ExternalPort: fmt.Sprint(8000 + n%1000), Internal: netip.MustParseAddr("192.0.2.10"),
			InternalPort: "80", Enabled: true, Comment: "camera ünïcode",
		}}, src("VirtualServerRpm.htm")),
		DMZ:    device.Known(netip.Addr{}, src("DMZRpm.htm")),
		NTP:    device.Known([]string{"pool.ntp.org", "time.example"}, src("DateTimeCfgRpm.htm")),
		Syslog: device.Unknown[[]string](device.Source{}),
	}
	c.SetService(device.ServiceWeb, device.Service{
		Enabled: device.Known(true, src("ManageControlRpm.htm")),
		Port:    device.Known(uint16(80), src("ManageControlRpm.htm")),
		Allowed: device.Known([]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, src("ManageControlRpm.htm")),
		WAN:     device.Known(false, src("ManageControlRpm.htm")),
	})
	c.SetService(device.ServiceTelnet, device.Service{Enabled: device.Unknown[bool](src("not shown"))})

	body := fmt.Appendf(nil, "<html>snapshot %d\x00\xff\xfe binary tail</html>", n)
	raw := []device.Artifact{
		{Name: "LanDhcpServerRpm.htm", ContentType: "text/html", Body: body, Redacted: 1},
		{Name: "empty.htm", Body: []byte{}},
		{Name: "config.bin", ContentType: "application/octet-stream", Body: bytes.Repeat([]byte{byte(n), 0, 0xff}, 50)},
	}
	if extra > 0 {
		big := make([]byte, extra)
		for i := range big {
			big[i] = byte(i*7 + n)
		}
		raw = append(raw, device.Artifact{Name: "big", Body: big})
	}
	return &device.Snapshot{
		Target:   netip.MustParseAddr("192.0.2.1"),
		Adapter:  "tplink-legacy",
		TakenAt:  at,
		Config:   c,
		Raw:      raw,
		Warnings: []string{fmt.Sprintf("warning of snapshot %d", n), "StatusRpm.htm: firmware field missing"},
	}
}

// CheckSnapshot returns an error saying how got differs from want, as a
// store must return it: the configuration the same as JSON, the raw
// artifacts byte for byte, TakenAt as store.Timestamp keeps it.
func CheckSnapshot(want, got *device.Snapshot) error {
	var problems []string
	if got.Target != want.Target {
		problems = append(problems, fmt.Sprintf("target %v, want %v", got.Target, want.Target))
	}
	if got.Adapter != want.Adapter {
		problems = append(problems, fmt.Sprintf("adapter %q, want %q", got.Adapter, want.Adapter))
	}
	if w := want.TakenAt.UTC().Truncate(time.Microsecond); !got.TakenAt.Equal(w) || got.TakenAt.Location() != time.UTC {
		problems = append(problems, fmt.Sprintf("taken at %v, want %v", got.TakenAt, w))
	}
	wc, _ := json.Marshal(&want.Config)
	gc, _ := json.Marshal(&got.Config)
	if !bytes.Equal(wc, gc) {
		problems = append(problems, fmt.Sprintf("config differs:\n got %s\nwant %s", gc, wc))
	}
	if len(got.Raw) != len(want.Raw) {
		problems = append(problems, fmt.Sprintf("%d raw artifacts, want %d", len(got.Raw), len(want.Raw)))
	} else {
		for i := range want.Raw {
			w, g := want.Raw[i], got.Raw[i]
			if g.Name != w.Name || g.ContentType != w.ContentType || g.Redacted != w.Redacted || !bytes.Equal(g.Body, w.Body) {
				problems = append(problems, fmt.Sprintf("raw artifact %d (%q, %d bytes) differs from %q, %d bytes", i, g.Name, len(g.Body), w.Name, len(w.Body)))
			}
		}
	}
	if strings.Join(got.Warnings, "\n") != strings.Join(want.Warnings, "\n") || len(got.Warnings) != len(want.Warnings) {
		problems = append(problems, fmt.Sprintf("warnings %q, want %q", got.Warnings, want.Warnings))
	}
	if len(problems) > 0 {
		return fmt.Errorf("snapshot differs: %s", strings.Join(problems, "; "))
	}
	return nil
}
