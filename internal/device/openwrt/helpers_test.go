// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// The three devices of data/router-samples/openwrt (see its SOURCES.md).
const (
	wdr4300 = "tl-wdr4300_openwrt14.07_katallaxie"
	wr841nd = "tl-wr841nd_openwrt-trunk2015_annbigbig"
	r6220   = "netgear-r6220_openwrt-2023_nazreinkaram"
)

var fixedNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func sampleDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testutil.SharedData(t), "router-samples", "openwrt")
}

// deviceFiles returns a device's real /etc/config files by package name.
func deviceFiles(t testing.TB, dev string) map[string][]byte {
	t.Helper()
	dir := sampleDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), dev+"_etc-config-")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	if len(out) == 0 {
		t.Fatalf("no samples of %s in %s", dev, dir)
	}
	return out
}

type tarEntry struct {
	name string
	body []byte
	typ  byte
}

// makeBackup writes a tar.gz the way sysupgrade -b does: paths relative
// to /, etc/config/<name> for the configuration.
func makeBackup(t testing.TB, files map[string][]byte, extra ...tarEntry) []byte {
	t.Helper()
	var entries []tarEntry
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		entries = append(entries, tarEntry{name: "etc/config/" + n, body: files[n]})
	}
	entries = append(entries, extra...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body)), Typeflag: typ, ModTime: fixedNow}
		if typ != tar.TypeReg {
			h.Size = 0
			h.Linkname = "target"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func text[T any](f device.Field[T], show func(T) string) string {
	if !f.Known {
		return "?"
	}
	return show(f.Value)
}

func list[T any](vs []T) string { return fmt.Sprint(vs) }

// summary renders the fields of a Config as short text, "?" for unknown,
// so a test states the expected configuration of a sample in a few lines.
func summary(c *device.Config) map[string]string {
	m := map[string]string{
		"vendor":        text(c.Identity.Vendor, func(s string) string { return s }),
		"model":         text(c.Identity.Model, func(s string) string { return s }),
		"hardware":      text(c.Identity.Hardware, func(s string) string { return s }),
		"firmware":      text(c.Identity.Firmware, func(s string) string { return s }),
		"lan":           text(c.LAN, netip.Prefix.String),
		"wan_dns":       text(c.WANDNS, list[netip.Addr]),
		"wan_dns_auto":  text(c.WANDNSAuto, strconv.FormatBool),
		"dhcp_enabled":  text(c.DHCPEnabled, strconv.FormatBool),
		"dhcp_range":    text(c.DHCPRange, func(r device.Range) string { return r.First.String() + "-" + r.Last.String() }),
		"dhcp_dns":      text(c.DHCPDNS, list[netip.Addr]),
		"local_mgmt":    text(c.LocalManagement, list[string]),
		"admins":        text(c.Admins, list[string]),
		"dmz":           text(c.DMZ, func(a netip.Addr) string { return a.String() }),
		"ntp":           text(c.NTP, list[string]),
		"syslog":        text(c.Syslog, list[string]),
		"port_forwards": text(c.PortForwards, forwards),
	}
	for _, n := range []string{device.ServiceWeb, device.ServiceWebTLS, device.ServiceSSH} {
		s := c.Service(n)
		m[n] = fmt.Sprintf("enabled=%s port=%s allowed=%s wan=%s",
			text(s.Enabled, strconv.FormatBool),
			text(s.Port, func(p uint16) string { return strconv.Itoa(int(p)) }),
			text(s.Allowed, list[netip.Prefix]),
			text(s.WAN, strconv.FormatBool))
	}
	return m
}

func forwards(fs []device.PortForward) string {
	var out []string
	for _, f := range fs {
		s := fmt.Sprintf("%s %s->%s:%s", f.Proto, f.ExternalPort, f.Internal, f.InternalPort)
		if !f.Enabled {
			s += " disabled"
		}
		if f.Comment != "" {
			s += " (" + f.Comment + ")"
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// mustParse parses one package of UCI text.
func mustParse(t testing.TB, name, text string) *uci.Package {
	t.Helper()
	pkgs, err := uci.Parse([]byte(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := &uci.Package{Name: name}
	if len(pkgs) > 0 {
		p.Sections = pkgs[0].Sections
	}
	return p
}
