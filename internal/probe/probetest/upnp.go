// SPDX-License-Identifier: Apache-2.0

package probetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// IGD configures a fake UPnP Internet Gateway Device, modelled on what
// miniupnpd 2.3.1 serves (brief/TESTBED.md §4).
type IGD struct {
	Addr netip.Addr
	// Server is the SSDP and HTTP SERVER header.
	Server string
	// Manufacturer and ModelName go into the root device.
	Manufacturer, ModelName, ModelNumber, FriendlyName string
	// Description, when non-nil, replaces the generated rootDesc.xml body;
	// it is written with w as it likes (large, slow, hostile).
	Description func(w http.ResponseWriter)
	// Location, when set, replaces the LOCATION the SSDP answer gives.
	Location string
	// ExternalIP is GetExternalIPAddress's answer.
	ExternalIP string
	// Mappings is how many port mappings exist; -1 means endless.
	Mappings int
	// SSDPReply, when non-nil, replaces the SSDP answer datagrams.
	SSDPReply func(req []byte) [][]byte
}

// Ports of a started fake IGD.
type IGDPorts struct {
	SSDP, HTTP uint16
}

var indexRe = regexp.MustCompile(`<NewPortMappingIndex>(\d+)</NewPortMappingIndex>`)

// StartIGD serves g on loopback: an SSDP responder (UDP) and an HTTP
// server with rootDesc.xml and the WANIPConnection control URL.
func StartIGD(t testing.TB, g IGD) IGDPorts {
	t.Helper()
	var ports IGDPorts
	mux := http.NewServeMux()
	mux.HandleFunc("/rootDesc.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", g.Server)
		w.Header().Set("Content-Type", "text/xml; charset=\"utf-8\"")
		if g.Description != nil {
			g.Description(w)
			return
		}
		fmt.Fprintf(w, rootDesc, g.FriendlyName, g.Manufacturer, g.ModelName, g.ModelNumber)
	})
	mux.HandleFunc("/ctl/IPConn", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		action := r.Header.Get("SOAPACTION")
		w.Header().Set("Content-Type", "text/xml; charset=\"utf-8\"")
		switch {
		case strings.Contains(action, "#GetExternalIPAddress"):
			fmt.Fprintf(w, envelope, `<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>`+g.ExternalIP+`</NewExternalIPAddress></u:GetExternalIPAddressResponse>`)
		case strings.Contains(action, "#GetGenericPortMappingEntry"):
			m := indexRe.FindSubmatch(body)
			i := -1
			if m != nil {
				i, _ = strconv.Atoi(string(m[1]))
			}
			if i < 0 || (g.Mappings >= 0 && i >= g.Mappings) {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, envelope, fault713)
				return
			}
			fmt.Fprintf(w, envelope, fmt.Sprintf(`<u:GetGenericPortMappingEntryResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewRemoteHost></NewRemoteHost><NewExternalPort>%d</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>%d</NewInternalPort><NewInternalClient>192.0.2.%d</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>test %d</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration></u:GetGenericPortMappingEntryResponse>`, 10000+i, 20000+i, 10+i%200, i))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, envelope, `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>401</errorCode><errorDescription>Invalid Action</errorDescription></UPnPError></detail></s:Fault>`)
		}
	})
	ports.HTTP = ServeHTTP(t, g.Addr, mux)
	loc := g.Location
	if loc == "" {
		loc = fmt.Sprintf("http://%s/rootDesc.xml", netip.AddrPortFrom(g.Addr, ports.HTTP))
	}
	ports.SSDP = ServeUDP(t, g.Addr, func(req []byte, _ netip.AddrPort) [][]byte {
		if !bytes.HasPrefix(req, []byte("M-SEARCH * HTTP/1.1")) {
			return nil
		}
		if g.SSDPReply != nil {
			return g.SSDPReply(req)
		}
		var out [][]byte
		for _, st := range []string{"upnp:rootdevice", "urn:schemas-upnp-org:device:InternetGatewayDevice:1", "urn:schemas-upnp-org:service:WANIPConnection:1"} {
			out = append(out, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: %s\r\nUSN: uuid:00000000-0000-0000-0000-000000000000::%s\r\nEXT:\r\nSERVER: %s\r\nLOCATION: %s\r\n\r\n", st, st, g.Server, loc)))
		}
		return out
	})
	return ports
}

const envelope = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>%s</s:Body></s:Envelope>`

const fault713 = `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>713</errorCode><errorDescription>SpecifiedArrayIndexInvalid</errorDescription></UPnPError></detail></s:Fault>`

// rootDesc follows miniupnpd's rootDesc.xml (trimmed): friendlyName,
// manufacturer, modelName, modelNumber are filled in.
const rootDesc = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337"><specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>%s</friendlyName>
<manufacturer>%s</manufacturer><manufacturerURL>https://example.org/</manufacturerURL><modelDescription>Wireless N Router</modelDescription>
<modelName>%s</modelName><modelNumber>%s</modelNumber><modelURL>https://example.org/</modelURL><serialNumber>00000000</serialNumber>
<UDN>uuid:00000000-0000-0000-0000-000000000000</UDN><firmwareVersion>3.16.9 Build 200409 Rel.52498n</firmwareVersion>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><controlURL>/ctl/L3F</controlURL><eventSubURL>/evt/L3F</eventSubURL><SCPDURL>/L3F.xml</SCPDURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><friendlyName>WANDevice</friendlyName><manufacturer>MiniUPnP</manufacturer>
<modelName>WAN Device</modelName><UDN>uuid:00000000-0000-0000-0000-000000000001</UDN>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><friendlyName>WANConnectionDevice</friendlyName>
<manufacturer>MiniUPnP</manufacturer><modelName>MiniUPnPd</modelName><UDN>uuid:00000000-0000-0000-0000-000000000002</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList></device></deviceList>
</device></deviceList><presentationURL>http://192.0.2.1/</presentationURL></device></root>`

// NATPMPServer answers NAT-PMP external-address requests with ext and PCP
// requests either in PCP (pcp true) or with NAT-PMP's unsupported version.
func NATPMPServer(ext netip.Addr, pcp bool) func([]byte, netip.AddrPort) [][]byte {
	return func(req []byte, _ netip.AddrPort) [][]byte {
		switch {
		case len(req) == 2 && req[0] == 0 && req[1] == 0:
			b := make([]byte, 12)
			b[1] = 128
			binary.BigEndian.PutUint32(b[4:8], 7200)
			a := ext.As4()
			copy(b[8:], a[:])
			return [][]byte{b}
		case len(req) >= 24 && req[0] == 2 && pcp:
			b := make([]byte, 24)
			b[0], b[1] = 2, 0x80
			binary.BigEndian.PutUint32(b[8:12], 7200)
			return [][]byte{b}
		case len(req) >= 2 && req[0] == 2:
			b := make([]byte, 8)
			b[1] = 128 + req[1]
			binary.BigEndian.PutUint16(b[2:4], 1) // UNSUPP_VERSION
			binary.BigEndian.PutUint32(b[4:8], 7200)
			return [][]byte{b}
		}
		return nil
	}
}

// WriteHugeXML streams a well-formed UPnP description of n bytes without
// holding it in memory (a hostile device's 50 MB answer).
func WriteHugeXML(w http.ResponseWriter, n int) {
	fmt.Fprint(w, `<?xml version="1.0"?><root><device><friendlyName>`)
	chunk := []byte(strings.Repeat("A", 64<<10))
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	fmt.Fprint(w, `</friendlyName></device></root>`)
}

// BillionLaughs is a UPnP description whose own entities expand to
// gigabytes if a parser expands them.
const BillionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<root><device><friendlyName>&lol9;</friendlyName></device></root>`
