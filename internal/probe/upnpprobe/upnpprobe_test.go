// SPDX-License-Identifier: Apache-2.0

package upnpprobe_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
)

var addr = netip.MustParseAddr("127.0.0.1")

func tplinkIGD() probetest.IGD {
	return probetest.IGD{
		Addr: addr, Server: "Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1",
		Manufacturer: "TP-LINK", ModelName: "TL-WR841N", ModelNumber: "10.0", FriendlyName: "TL-WR841N",
		ExternalIP: "198.51.100.2", Mappings: 2,
	}
}

func measure(t *testing.T, p *upnpprobe.Prober) (*upnpprobe.Observation, error) {
	t.Helper()
	return p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
}

func TestFullIGD(t *testing.T) {
	ports := probetest.StartIGD(t, tplinkIGD())
	pmp := probetest.ServeUDP(t, addr, probetest.NATPMPServer(netip.MustParseAddr("198.51.100.2"), true))
	obs, err := measure(t, &upnpprobe.Prober{SSDPPort: ports.SSDP, NATPMPPort: pmp, Multicast: true})
	if err != nil {
		t.Fatal(err)
	}
	if obs.SSDP.Multicast {
		t.Error("searched the multicast group although the scope does not contain it")
	}
	if len(obs.SSDP.Responses) != 3 || obs.SSDP.Status != netx.StatusOK {
		t.Errorf("SSDP %+v", obs.SSDP)
	}
	if len(obs.Descriptions) != 1 || obs.Descriptions[0].Description == nil {
		t.Fatalf("descriptions %+v", obs.Descriptions)
	}
	root := obs.Descriptions[0].Description.Devices[0]
	want := upnpprobe.Device{
		DeviceType: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", FriendlyName: "TL-WR841N",
		Manufacturer: "TP-LINK", ManufacturerURL: "https://example.org/", ModelDescription: "Wireless N Router",
		ModelName: "TL-WR841N", ModelNumber: "10.0", ModelURL: "https://example.org/", PresentationURL: "http://192.0.2.1/",
		Firmware: []upnpprobe.KV{{Name: "firmwareVersion", Value: "3.16.9 Build 200409 Rel.52498n"}},
		Services: []upnpprobe.Service{{Type: "urn:schemas-upnp-org:service:Layer3Forwarding:1", ControlURL: "/ctl/L3F"}},
	}
	if diff := cmp.Diff(want, root); diff != "" {
		t.Errorf("root device (-want +got):\n%s", diff)
	}
	if n := len(obs.Descriptions[0].Description.Devices); n != 3 {
		t.Errorf("%d devices, want root + 2 embedded", n)
	}
	igd := obs.IGD
	if igd == nil || igd.ExternalIP != "198.51.100.2" || len(igd.Mappings) != 2 || igd.MappingsTruncated ||
		igd.MappingsEnd != "713 SpecifiedArrayIndexInvalid" || igd.Mappings[1].ExternalPort != "10001" {
		t.Errorf("IGD %+v", igd)
	}
	if !obs.NATPMP.Answered || obs.NATPMP.ExternalAddr != netip.MustParseAddr("198.51.100.2") || obs.NATPMP.Epoch != 7200 {
		t.Errorf("NAT-PMP %+v", obs.NATPMP)
	}
	if !obs.PCP.Answered || obs.PCP.Version != 2 {
		t.Errorf("PCP %+v", obs.PCP)
	}
	ev := obs.Evidence()
	var fields []string
	for _, e := range ev {
		if e.Group == "" || strings.HasSuffix(e.Group, "#0") {
			fields = append(fields, e.Field+"="+e.Value)
		}
	}
	wantEv := []string{
		"upnp.server=Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1",
		"upnp.manufacturer=TP-LINK", "upnp.model_name=TL-WR841N", "upnp.model_number=10.0",
		"upnp.model_description=Wireless N Router", "upnp.friendly_name=TL-WR841N",
		"upnp.firmware=3.16.9 Build 200409 Rel.52498n",
	}
	if diff := cmp.Diff(wantEv, fields); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestMappingsBounded(t *testing.T) {
	g := tplinkIGD()
	g.Mappings = -1
	ports := probetest.StartIGD(t, g)
	obs, err := measure(t, &upnpprobe.Prober{SSDPPort: ports.SSDP, NATPMPPort: probetest.ClosedUDPPort(t, addr), MaxMappings: 5})
	if err != nil {
		t.Fatal(err)
	}
	if obs.IGD == nil || len(obs.IGD.Mappings) != 5 || !obs.IGD.MappingsTruncated {
		t.Errorf("IGD %+v", obs.IGD)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name       string
		igd        func(*probetest.IGD)
		ssdpClosed bool
		ssdpSilent bool
		wantErr    netx.Status // "" for none
		maxTime    time.Duration
		check      func(*testing.T, *upnpprobe.Observation)
	}{
		{
			// An unconnected UDP socket (needed: SSDP answers may come from
			// another port) never learns of ICMP unreachable, so SSDP reads
			// as silence; the connected NAT-PMP socket sees "refused".
			name: "nothing_listens", ssdpClosed: true,
			check: func(t *testing.T, o *upnpprobe.Observation) {
				if o.SSDP.Status != netx.StatusTimeout || o.NATPMP.Status != netx.StatusRefused {
					t.Errorf("SSDP %s, NAT-PMP %s; want timeout and refused", o.SSDP.Status, o.NATPMP.Status)
				}
			},
		},
		{
			name: "silent", ssdpSilent: true, maxTime: 3 * time.Second,
			check: func(t *testing.T, o *upnpprobe.Observation) {
				if o.SSDP.Status != netx.StatusTimeout || len(o.Descriptions) != 0 {
					t.Errorf("SSDP %+v", o.SSDP)
				}
			},
		},
		{
			name: "ssdp_garbage",
			igd: func(g *probetest.IGD) {
				g.SSDPReply = func([]byte) [][]byte { return [][]byte{probetest.GarbageBytes(500)} }
			},
			wantErr: netx.StatusProtocol,
		},
		{
			name: "location_elsewhere_not_fetched",
			igd:  func(g *probetest.IGD) { g.Location = "http://127.0.0.2:5000/rootDesc.xml" },
			check: func(t *testing.T, o *upnpprobe.Observation) {
				if len(o.SSDP.Responses) == 0 || len(o.Descriptions) != 0 {
					t.Errorf("%d answers, %d descriptions; want answers and no fetch", len(o.SSDP.Responses), len(o.Descriptions))
				}
			},
		},
		{
			name: "description_50MB",
			igd: func(g *probetest.IGD) {
				g.Description = func(w http.ResponseWriter) { probetest.WriteHugeXML(w, 50<<20) }
			},
			wantErr: netx.StatusTooLarge,
		},
		{
			name: "entity_expansion",
			igd: func(g *probetest.IGD) {
				g.Description = func(w http.ResponseWriter) { fmt.Fprint(w, probetest.BillionLaughs) }
			},
			wantErr: netx.StatusProtocol,
			check: func(t *testing.T, o *upnpprobe.Observation) {
				if e := o.Descriptions[0].Error; !strings.Contains(e, "invalid character entity &lol9;") {
					t.Errorf("error %q, want the undefined entity refused", e)
				}
			},
		},
		{
			name: "invalid_utf8_tolerated",
			igd: func(g *probetest.IGD) {
				g.Manufacturer = "TP-LINK \xff\xfe"
				g.ModelName = "R\xe9seau"
			},
			check: func(t *testing.T, o *upnpprobe.Observation) {
				d := o.Descriptions[0].Description.Devices[0]
				if d.Manufacturer != "TP-LINK \uFFFD" || d.ModelName != "R\uFFFDseau" {
					t.Errorf("manufacturer %q model %q", d.Manufacturer, d.ModelName)
				}
			},
		},
		{
			name: "latin1_declared",
			igd: func(g *probetest.IGD) {
				g.Description = func(w http.ResponseWriter) {
					fmt.Fprint(w, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><root><device><manufacturer>Soci\xe9t\xe9</manufacturer><modelName>X&nbsp;1</modelName></device></root>")
				}
			},
			check: func(t *testing.T, o *upnpprobe.Observation) {
				d := o.Descriptions[0].Description.Devices[0]
				if d.Manufacturer != "Société" || d.ModelName != "X\u00a01" {
					t.Errorf("manufacturer %q model %q", d.Manufacturer, d.ModelName)
				}
			},
		},
		{
			name: "html_instead_of_xml",
			igd: func(g *probetest.IGD) {
				g.Description = func(w http.ResponseWriter) { fmt.Fprint(w, "<html><body>login</body></html>") }
			},
			wantErr: netx.StatusProtocol,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &upnpprobe.Prober{NATPMPPort: probetest.ClosedUDPPort(t, addr)}
			switch {
			case tc.ssdpClosed:
				p.SSDPPort = probetest.ClosedUDPPort(t, addr)
			case tc.ssdpSilent:
				p.SSDPPort = probetest.ServeUDP(t, addr, func([]byte, netip.AddrPort) [][]byte { return nil })
				p.NATPMPPort = p.SSDPPort
			default:
				g := tplinkIGD()
				if tc.igd != nil {
					tc.igd(&g)
				}
				p.SSDPPort = probetest.StartIGD(t, g).SSDP
			}
			start := time.Now()
			obs, err := measure(t, p)
			if tc.maxTime > 0 && time.Since(start) > tc.maxTime {
				t.Errorf("took %v, want at most %v", time.Since(start), tc.maxTime)
			}
			if got := probe.Classify(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && got != tc.wantErr) {
				t.Errorf("Measure error %v (%s), want %q", err, got, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, obs)
			}
		})
	}
}

// TestEntityExpansionNotExpanded proves on the parser itself that a
// document's own entities are refused, quickly and without growth.
func TestEntityExpansionNotExpanded(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := upnpprobe.ParseDescription([]byte(probetest.BillionLaughs))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "&lol9;") {
		t.Fatalf("ParseDescription(billion laughs) = %v, want the entity refused", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("took %v", d)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Errorf("allocated %d bytes for a 1 KB document", grown)
	}
}
