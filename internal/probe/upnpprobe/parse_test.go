// SPDX-License-Identifier: Apache-2.0

package upnpprobe_test

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
)

const miniupnpdAnswer = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nUSN: uuid:x::upnp:rootdevice\r\nEXT:\r\nSERVER: Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://10.200.0.1:5000/rootDesc.xml\r\n\r\n"

func TestParseSSDP(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    upnpprobe.SSDPResponse
		wantErr bool
	}{
		{name: "miniupnpd", in: miniupnpdAnswer, want: upnpprobe.SSDPResponse{Status: 200, Server: "Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1",
			Location: "http://10.200.0.1:5000/rootDesc.xml", ST: "upnp:rootdevice", USN: "uuid:x::upnp:rootdevice"}},
		{name: "lf_and_lowercase", in: "HTTP/1.1 200 OK\nlocation: http://192.0.2.1/d.xml\nserver: ipos/7.0 UPnP/1.0 TL-WR841N/8.0\n",
			want: upnpprobe.SSDPResponse{Status: 200, Location: "http://192.0.2.1/d.xml", Server: "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"}},
		{name: "notify_refused", in: "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n", wantErr: true},
		{name: "bad_status", in: "HTTP/1.1 OK\r\n\r\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := upnpprobe.ParseSSDP([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSSDP error %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseSSDP (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMSearch(t *testing.T) {
	got := string(upnpprobe.MSearch(netip.MustParseAddrPort("192.0.2.1:1900"), false))
	want := "M-SEARCH * HTTP/1.1\r\nHOST: 192.0.2.1:1900\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nUSER-AGENT: routerwatch UPnP/1.1 audit/1\r\n\r\n"
	if got != want {
		t.Errorf("MSearch = %q, want %q", got, want)
	}
}

func TestParseNATPMPAndPCP(t *testing.T) {
	code, epoch, ext, err := upnpprobe.ParseNATPMP([]byte{0, 128, 0, 0, 0, 0, 0x1c, 0x20, 198, 51, 100, 2})
	if err != nil || code != 0 || epoch != 7200 || ext != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("ParseNATPMP = %d %d %s %v", code, epoch, ext, err)
	}
	if _, _, _, err := upnpprobe.ParseNATPMP([]byte{0, 128, 0, 0, 0, 0}); err == nil {
		t.Error("short NAT-PMP answer accepted")
	}
	req := upnpprobe.PCPAnnounce(netip.MustParseAddr("192.0.2.10"))
	if len(req) != 24 || req[0] != 2 || req[1] != 0 || req[18] != 0xff || req[20] != 192 {
		t.Errorf("PCPAnnounce = % x", req)
	}
	v, c, e, err := upnpprobe.ParsePCP([]byte{0, 128, 0, 1, 0, 0, 0, 5})
	if err != nil || v != 0 || c != 1 || e != 5 {
		t.Errorf("ParsePCP(NAT-PMP unsupported version) = %d %d %d %v", v, c, e, err)
	}
}

func FuzzParseSSDP(f *testing.F) {
	f.Add([]byte(miniupnpdAnswer))
	f.Add([]byte("HTTP/1.1 200\nLOCATION:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := upnpprobe.ParseSSDP(b)
		if err != nil {
			return
		}
		for _, s := range []string{r.Server, r.Location, r.ST, r.USN} {
			if len(s) > 512 || !utf8.ValidString(s) {
				t.Fatalf("value %q", s)
			}
		}
	})
}

func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><manufacturer>TP-LINK</manufacturer><modelName>TL-WR841N</modelName><firmwareVersion>1</firmwareVersion><deviceList><device><modelName>x</modelName></device></deviceList></device></root>`))
	f.Add([]byte(probetest.BillionLaughs))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><root><device><manufacturer>\xe9</manufacturer></device></root>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := upnpprobe.ParseDescription(b)
		if err != nil || d == nil {
			return
		}
		if len(d.Devices) > 16 {
			t.Fatalf("%d devices", len(d.Devices))
		}
		for _, dev := range d.Devices {
			if !utf8.ValidString(dev.Manufacturer) || len(dev.ModelName) > 512 || len(dev.Services) > 32 {
				t.Fatalf("device %+v", dev)
			}
		}
	})
}

func FuzzParseNATPMP(f *testing.F) {
	f.Add([]byte{0, 128, 0, 0, 0, 0, 0x1c, 0x20, 198, 51, 100, 2})
	f.Add([]byte{2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x1c, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		upnpprobe.ParseNATPMP(b)
		upnpprobe.ParsePCP(b)
	})
}

func BenchmarkParseDescription(b *testing.B) {
	doc := []byte(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><manufacturer>TP-LINK</manufacturer><modelName>TL-WR841N</modelName>` +
		strings.Repeat(`<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList>`, 3) +
		`</device></root>`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := upnpprobe.ParseDescription(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSSDP(b *testing.B) {
	for b.Loop() {
		upnpprobe.ParseSSDP([]byte(miniupnpdAnswer))
	}
}
