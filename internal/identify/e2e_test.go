// SPDX-License-Identifier: Apache-2.0

package identify_test

import (
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func index(t *testing.T) *advisory.Index {
	t.Helper()
	rs, err := builtin.Load()
	if err != nil {
		t.Fatal(err)
	}
	ds := &advisory.Dataset{}
	for _, r := range rs {
		ds.Advisories = append(ds.Advisories, r.Advisory)
		ds.Lifecycle = append(ds.Lifecycle, r.Lifecycle...)
	}
	return advisory.NewIndex(ds)
}

// say writes msg and keeps the connection a moment, like a daemon.
func say(msg string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		c.Read(make([]byte, 64))
	}
}

// TestEndToEndTPLink plays a legacy TP-Link on loopback: the lab's web UI
// (realm, Server, the real Status page behind it), miniupnpd announcing
// TL-WR841N, dropbear and busybox telnetd. The real probes measure it and
// identification names it; advisory matching then has something to say.
func TestEndToEndTPLink(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.81")
	page, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "router-samples", "tplink-legacy", "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm"))
	if err != nil {
		t.Fatal(err)
	}
	web := probetest.ServeHTTP(t, a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Router Webserver")
		w.Header().Set("WWW-Authenticate", `Basic realm="TP-LINK Wireless N Router WR841N", charset="UTF-8"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	// An owner-authenticated adapter would read this page; here a second
	// port serves it without authentication, to exercise the page rules.
	status := probetest.ServeHTTP(t, a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Router Webserver")
		w.Write(page)
	}))
	igd := probetest.StartIGD(t, probetest.IGD{Addr: a, Server: "Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1",
		Manufacturer: "TP-LINK", ModelName: "TL-WR841N", ModelNumber: "10.0", FriendlyName: "TL-WR841N", ExternalIP: "198.51.100.2"})
	probes := []probe.Probe{
		&httpprobe.Prober{HTTPPorts: []uint16{web, status}},
		&upnpprobe.Prober{SSDPPort: igd.SSDP, NATPMPPort: probetest.ClosedUDPPort(t, a)},
		&bannerprobe.Prober{
			SSHPorts:    []uint16{probetest.ServeTCP(t, a, say("SSH-2.0-dropbear_2022.83\r\n"))},
			TelnetPorts: []uint16{probetest.ServeTCP(t, a, say("\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03\r\nrouterwatch lab\r\nLogin: "))},
		},
	}
	r := &probe.Runner{Dialer: probetest.Dialer(t, netx.Options{}, a), Probes: probes, TargetTimeout: 10 * time.Second}
	rep := r.RunTarget(t.Context(), probe.Target{Addr: a})
	for _, res := range rep.Results {
		if res.Err != nil {
			t.Errorf("%s: %v", res.ProbeID, res.Err)
		}
	}
	got := identify.FromObservations(rep.Observations())
	want := advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "6/7", Firmware: "3.12.5 Build 100929 Rel.57776n"}
	if got.Identity != want {
		t.Errorf("identity %+v, want %+v", got.Identity, want)
	}
	var probesBehindModel = map[string]bool{}
	for _, s := range got.Model.Sources {
		probesBehindModel[s.Probe] = true
	}
	if !probesBehindModel["http"] || !probesBehindModel["upnp"] {
		t.Errorf("model sources %+v, want http and upnp", got.Model.Sources)
	}
	as := advisory.Assess(index(t), got.Identity)
	if len(as.Matches) == 0 {
		t.Errorf("no advisory for %s", got.Identity.DisplayName())
	}
	t.Logf("identified %s (%s confidence); advisory verdict %s: %s", got.Identity.DisplayName(), got.Confidence, as.Verdict, as.Headline)
}

// TestEndToEndMikroTik plays the lab's mikrotik-exposed device: snmpd with
// a RouterOS sysDescr, the API answering /quit, RouterOS sshd, Winbox.
func TestEndToEndMikroTik(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.82")
	snmp := probetest.ServeUDP(t, a, func(req []byte, _ netip.AddrPort) [][]byte {
		g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
		pkt, err := g.SnmpDecodePacket(req)
		if err != nil || pkt.Community != "public" {
			return nil
		}
		pkt.PDUType = gosnmp.GetResponse
		pkt.Variables = []gosnmp.SnmpPDU{
			{Name: "." + snmpprobe.OIDSysDescr, Type: gosnmp.OctetString, Value: []byte("RouterOS RB951Ui-2HnD")},
			{Name: "." + snmpprobe.OIDSysObjectID, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.14988.1"},
		}
		b, err := pkt.MarshalMsg()
		if err != nil {
			return nil
		}
		return [][]byte{b}
	})
	api := probetest.ServeTCP(t, a, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if w, err := mikrotikprobe.ReadSentence(c, 4, 1024); err == nil && len(w) == 1 && w[0] == "/quit" {
			c.Write(mikrotikprobe.EncodeSentence("!fatal", "session terminated on request"))
		}
	})
	probes := []probe.Probe{
		&snmpprobe.Prober{Port: snmp, Communities: []string{"public"}},
		&bannerprobe.Prober{SSHPorts: []uint16{probetest.ServeTCP(t, a, say("SSH-2.0-ROSSSH\r\n"))}},
		&mikrotikprobe.Prober{WinboxPort: probetest.ServeTCP(t, a, func(net.Conn) {}), APIPort: api},
	}
	r := &probe.Runner{Dialer: probetest.Dialer(t, netx.Options{}, a), Probes: probes, TargetTimeout: 10 * time.Second}
	rep := r.RunTarget(t.Context(), probe.Target{Addr: a})
	got := identify.FromObservations(rep.Observations())
	want := advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD"}
	if got.Identity != want || got.OS.Value != "RouterOS" {
		t.Errorf("identity %+v os %q, want %+v RouterOS", got.Identity, got.OS.Value, want)
	}
	// Three probes say MikroTik: SNMP (enterprise and sysDescr), SSH, API.
	probesBehindVendor := map[string]bool{}
	for _, s := range got.Vendor.Sources {
		probesBehindVendor[s.Probe] = true
	}
	if len(probesBehindVendor) != 3 {
		t.Errorf("vendor sources %+v, want snmp, banner and mikrotik", got.Vendor.Sources)
	}
}
