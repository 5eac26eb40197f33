// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"encoding/binary"
	"fmt"

	"github.com/routerwatch/routerwatch/internal/audit"
)

// sweepProbe is one port the sweep tries on every address: a TCP SYN (or
// connect), or a small valid UDP request that the service answers.
type sweepProbe struct {
	// name is the port set's ("http", "snmp").
	name  string
	proto string
	port  uint16
	// payload is the UDP request; nil for TCP.
	payload []byte
}

// label is "tcp/80".
func (p sweepProbe) label() string { return fmt.Sprintf("%s/%d", p.proto, p.port) }

// udpPayloads are the requests of the UDP services routerwatch audits,
// each the smallest that a device answers (a reply of any kind shows the
// service):
//   - snmp: an SNMPv2c GetRequest of sysDescr.0 with community "public"
//     (an agent that does not know the community stays silent: the sweep
//     cannot see it, as no scanner can);
//   - ssdp: a unicast M-SEARCH for the root device, as upnpprobe sends;
//   - natpmp: a NAT-PMP external-address request (RFC 6886 §3.2);
//   - dns: a query for version.bind CH TXT (an answer, a REFUSED or a
//     SERVFAIL all show a DNS service).
//
// A UDP port set without a payload here is not swept: a live address is
// still audited on it, but an address live only there is missed.
var udpPayloads = map[string][]byte{
	"snmp": {
		0x30, 0x29, 0x02, 0x01, 0x01, // SEQUENCE, version 1 (v2c)
		0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
		0xa0, 0x1c, 0x02, 0x04, 0x72, 0x77, 0x73, 0x77, // GetRequest, request-id "rwsw"
		0x02, 0x01, 0x00, 0x02, 0x01, 0x00, // error-status, error-index
		0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00, // sysDescr.0 = NULL
	},
	"ssdp":   []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n"),
	"natpmp": {0, 0},
	"dns":    dnsVersionBind(),
}

// dnsVersionBind is a DNS query (ID 0x7277, no recursion) for
// version.bind CH TXT.
func dnsVersionBind() []byte {
	b := binary.BigEndian.AppendUint16(nil, 0x7277)
	b = append(b, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) // flags, one question
	b = append(b, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0)
	return append(b, 0, 16, 0, 3) // TXT, CH
}

// sweepProbes lists what the sweep sends to each address: every TCP port
// of the audit's probes (with the user's overrides), then the UDP
// services it has a request for, in the probes' registry order.
func sweepProbes(ports audit.Ports) []sweepProbe {
	var tcp, udp []sweepProbe
	seen := map[string]bool{}
	for _, s := range audit.PortSpecs() {
		ps := s.Ports
		if v, ok := ports[s.Name]; ok {
			ps = v
		}
		for _, port := range ps {
			p := sweepProbe{name: s.Name, proto: s.Proto, port: port}
			if seen[p.label()] {
				continue
			}
			switch {
			case s.Proto == "tcp":
				tcp = append(tcp, p)
			case udpPayloads[s.Name] != nil:
				p.payload = udpPayloads[s.Name]
				udp = append(udp, p)
			default:
				continue
			}
			seen[p.label()] = true
		}
	}
	return append(tcp, udp...)
}
