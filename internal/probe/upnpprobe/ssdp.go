// SPDX-License-Identifier: Apache-2.0

package upnpprobe

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// SSDP constants (UPnP Device Architecture 1.1 §1.3).
var (
	// MulticastGroup is the SSDP IPv4 group. The probe sends to it only
	// when the dialer's scope contains it.
	MulticastGroup = netip.MustParseAddr("239.255.255.250")
)

const (
	// maxResponses bounds the SSDP answers kept: a router announces its
	// root device, a few embedded devices and services.
	maxResponses = 32
	// maxSSDPHeaders bounds the headers read from one answer.
	maxSSDPHeaders = 32
	// maxSSDPValue bounds one header value.
	maxSSDPValue = 512
)

// MSearch builds an M-SEARCH request. A unicast search names the device
// and carries no MX; a multicast one names the group and asks for answers
// within one second.
func MSearch(host netip.AddrPort, multicast bool) []byte {
	var b strings.Builder
	b.WriteString("M-SEARCH * HTTP/1.1\r\n")
	fmt.Fprintf(&b, "HOST: %s\r\n", host)
	b.WriteString("MAN: \"ssdp:discover\"\r\n")
	if multicast {
		b.WriteString("MX: 1\r\n")
	}
	b.WriteString("ST: ssdp:all\r\n")
	b.WriteString("USER-AGENT: routerwatch UPnP/1.1 audit/1\r\n\r\n")
	return []byte(b.String())
}

// SSDPResponse is one answer to an M-SEARCH.
type SSDPResponse struct {
	From     string `json:"from"`
	Status   int    `json:"status"`
	Server   string `json:"server,omitempty"`
	Location string `json:"location,omitempty"`
	ST       string `json:"st,omitempty"`
	USN      string `json:"usn,omitempty"`
}

// ParseSSDP reads an M-SEARCH answer. Sample (miniupnpd 2.3.1):
//
//	HTTP/1.1 200 OK
//	CACHE-CONTROL: max-age=120
//	ST: upnp:rootdevice
//	USN: uuid:…::upnp:rootdevice
//	EXT:
//	SERVER: Debian/6.1 UPnP/1.1 MiniUPnPd/2.3.1
//	LOCATION: http://10.200.0.1:5000/rootDesc.xml
//
// Lines may end in CRLF or LF; header names are case-insensitive. An
// announcement (NOTIFY) or anything that is not an HTTP status line is an
// error wrapping probe.ErrProtocol.
func ParseSSDP(b []byte) (SSDPResponse, error) {
	var r SSDPResponse
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	f := bytes.Fields(line)
	if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.")) {
		return r, fmt.Errorf("upnpprobe: SSDP answer %q is not an HTTP status line: %w", probe.Text(line, 64), probe.ErrProtocol)
	}
	code, err := strconv.Atoi(string(f[1]))
	if err != nil || code < 100 || code > 999 {
		return r, fmt.Errorf("upnpprobe: SSDP status %q: %w", probe.Text(f[1], 16), probe.ErrProtocol)
	}
	r.Status = code
	for n := 0; len(rest) > 0 && n < maxSSDPHeaders; n++ {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v := probe.Text(bytes.TrimSpace(value), maxSSDPValue)
		switch strings.ToUpper(string(bytes.TrimSpace(name))) {
		case "SERVER":
			r.Server = v
		case "LOCATION":
			r.Location = v
		case "ST":
			r.ST = v
		case "USN":
			r.USN = v
		}
	}
	return r, nil
}
