// SPDX-License-Identifier: Apache-2.0

package probeset_test

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestObservationJSON pins the JSON form of every observation type (the
// schema reports and stores read): go test ./internal/probeset -run
// TestObservationJSON -update rewrites testdata/observations.json.
func TestObservationJSON(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	ok := func(port uint16) probe.Exchange {
		return probe.Exchange{Port: port, Open: true, Status: netx.StatusOK, Elapsed: probe.Duration(12 * time.Millisecond)}
	}
	cert := probe.Certificate{Subject: "CN=TP-LINK CA", Issuer: "CN=TP-LINK CA", NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), SelfSigned: true, SHA256: "00"}
	obs := []probe.Observation{
		&httpprobe.Observation{Addr: a, Endpoints: []httpprobe.Endpoint{
			{Exchange: ok(80), Scheme: "http", Response: &httpfp.Response{URL: "http://192.0.2.1:80/", StatusCode: 401, Proto: "HTTP/1.1",
				Headers: []httpfp.Header{{Name: "Server", Values: []string{"Router Webserver"}}}, Server: "Router Webserver",
				WWWAuthenticate: []string{`Basic realm="TP-LINK Wireless N Router WR841N"`},
				Challenges:      []httpfp.Challenge{{Scheme: "Basic", Realm: "TP-LINK Wireless N Router WR841N"}}, Title: "TL-WR841N", BodyBytes: 10},
				Favicon: &httpfp.Favicon{StatusCode: 200, Bytes: 318, MD5: "00", MMH3: -1},
				Arrays:  []httpprobe.JSArray{{Name: "statusPara", Values: []string{"3.12.5 Build 100929 Rel.57776n ", "WR841N v6/v7 00000000"}}}},
			{Exchange: ok(443), Scheme: "https", TLS: &probe.TLSInfo{Version: "TLS 1.2", CipherSuite: "TLS_RSA_WITH_AES_128_CBC_SHA", Certificate: &cert}},
		}},
		&upnpprobe.Observation{Addr: a,
			SSDP: upnpprobe.SSDP{Exchange: ok(1900), Responses: []upnpprobe.SSDPResponse{{From: "192.0.2.1:1900", Status: 200, Server: "ipos/7.0 UPnP/1.0 TL-WR841N/8.0", Location: "http://192.0.2.1:1900/igd.xml", ST: "upnp:rootdevice"}}},
			Descriptions: []upnpprobe.DescriptionResult{{Exchange: ok(1900), URL: "http://192.0.2.1:1900/igd.xml", Server: "ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
				Description: &upnpprobe.Description{Devices: []upnpprobe.Device{{DeviceType: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", Manufacturer: "TP-LINK", ModelName: "TL-WR841N",
					Firmware: []upnpprobe.KV{{Name: "firmwareVersion", Value: "1.0"}}, Services: []upnpprobe.Service{{Type: "urn:schemas-upnp-org:service:WANIPConnection:1", ControlURL: "/ipc"}}}}}}},
			IGD: &upnpprobe.IGD{Exchange: ok(1900), ServiceType: "urn:schemas-upnp-org:service:WANIPConnection:1", ControlURL: "http://192.0.2.1:1900/ipc", ExternalIP: "198.51.100.2",
				Mappings: []upnpprobe.PortMapping{{ExternalPort: "8080", Protocol: "TCP", InternalPort: "80", InternalClient: "192.0.2.10", Enabled: "1"}}, MappingsEnd: "713 SpecifiedArrayIndexInvalid"},
			NATPMP: upnpprobe.NATPMP{Exchange: ok(5351), Answered: true, Epoch: 7200, ExternalAddr: netip.MustParseAddr("198.51.100.2")},
			PCP:    upnpprobe.PCP{Exchange: ok(5351), Answered: true, Version: 0, ResultCode: 1},
		},
		&bannerprobe.Observation{Addr: a, Endpoints: []bannerprobe.Endpoint{
			{Exchange: ok(22), Service: "ssh", Banner: "SSH-2.0-dropbear_2022.83", SSH: &bannerprobe.SSHIdent{Proto: "2.0", Software: "dropbear_2022.83"}},
			{Exchange: ok(23), Service: "telnet", Banner: "Login: ", TelnetOptions: []string{"DO 1"}, Prompt: "login"},
			{Exchange: probe.Exchange{Port: 21, Status: netx.StatusRefused, Error: "connection refused"}, Service: "ftp"},
		}},
		&snmpprobe.Observation{Addr: a, Port: 161, Communities: []snmpprobe.Community{
			{Exchange: ok(161), Name: "public", Answered: true, SysDescr: "RouterOS RB951Ui-2HnD", SysObjectID: "1.3.6.1.4.1.14988.1"},
			{Exchange: probe.Exchange{Port: 161, Status: netx.StatusTimeout, Error: "i/o timeout"}, Name: "private"},
		}},
		&tr069probe.Observation{Addr: a, Endpoints: []tr069probe.Endpoint{{Exchange: ok(7547), Response: &httpfp.Response{StatusCode: 401,
			Challenges: []httpfp.Challenge{{Scheme: "Digest", Realm: "IGD"}}}}}},
		&mikrotikprobe.Observation{Addr: a, Winbox: &mikrotikprobe.Port{Exchange: ok(8291)},
			API: &mikrotikprobe.Port{Exchange: ok(8728), Reply: []string{"!fatal", "session terminated on request"}, RouterOS: true}},
		&dnsprobe.Observation{Addr: a, Port: 53,
			Recursive: dnsprobe.Answer{Exchange: ok(53), Question: "example.com. A", Answered: true, Rcode: "NOERROR", RA: true, Answers: 1,
				Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.80")}},
			VersionBind: dnsprobe.Answer{Exchange: ok(53), Question: "version.bind. CH TXT", Answered: true, Rcode: "NOERROR", RA: true, AA: true,
				Answers: 1, Text: "dnsmasq-2.90"},
			Recursion: dnsprobe.RecursionYes, RecursionWhy: "answered example.com. A with 192.0.2.80 (RA set)"},
		&probe.None{Probe: "http"},
	}
	b, err := json.MarshalIndent(obs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "observations.json", append(b, '\n'))
}
