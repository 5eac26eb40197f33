// SPDX-License-Identifier: Apache-2.0

// Package audittest runs fake routers on loopback for the tests of audit,
// check and scan: a legacy TP-Link TL-WR841N (Router Webserver, the
// WR841N Basic realm, the CVE-2023-50224 credential file, dropbear SSH,
// telnet, UPnP announcing TL-WR841N, NAT-PMP, SNMP "public"), a MikroTik
// RouterOS (WebFig title, SNMP RouterOS sysDescr, Winbox and API, a DNS
// server that resolves for anyone) and a closed device. It is imported
// only from _test.go files.
//
// Every service listens on its own port of the device's 127.0.0.x
// address; Ports (audit.Ports, or --port flags) points the probes there.
// Ports that a device does not serve are closed ports, so nothing on the
// test machine's usual ports is ever probed. Devices started with the
// same Ports on different addresses can be scanned together.
package audittest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
)

// Credential is the fake credential file the TP-Link fake hands out (the
// published sample: user admin, MD5 of "admin"). Tests check it never
// reaches a report or a log.
const Credential = "username:admin\npassword:21232f297a57a5a743894a0e4a801fc3"

// CredentialHash is the part of Credential that must never be printed.
const CredentialHash = "21232f297a57a5a743894a0e4a801fc3"

// FreePorts picks, for every service, a port free on all of addrs (TCP or
// UDP as the service needs), so that devices on those addresses can share
// one port map.
func FreePorts(t testing.TB, addrs ...netip.Addr) audit.Ports {
	t.Helper()
	ports := audit.Ports{}
	used := map[uint16]bool{}
	// Every port set the probes declare (audit.PortSpecs), so a new
	// probe's ports move with the others.
	for _, s := range audit.PortSpecs() {
		for try := 0; ; try++ {
			if try == 50 {
				t.Fatalf("audittest: no %s port free on %v", s.Proto, addrs)
			}
			p := freePort(t, s.Proto, addrs[0])
			if used[p] || !freeOnAll(s.Proto, p, addrs[1:]) {
				continue
			}
			used[p] = true
			ports[s.Name] = []uint16{p}
			break
		}
	}
	return ports
}

func freePort(t testing.TB, proto string, a netip.Addr) uint16 {
	t.Helper()
	if proto == "udp" {
		return probetest.ClosedUDPPort(t, a)
	}
	return probetest.ClosedPort(t, a)
}

func freeOnAll(proto string, port uint16, addrs []netip.Addr) bool {
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, port)
		if proto == "udp" {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
			if err != nil {
				return false
			}
			c.Close()
			continue
		}
		l, err := net.Listen("tcp", ap.String())
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// PortFlags renders ports as --port arguments, sorted.
func PortFlags(ports audit.Ports) []string {
	var out []string
	for name, ps := range ports {
		s := name + "="
		for i, p := range ps {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprint(p)
		}
		out = append(out, "--port", s)
	}
	// Pairs sorted by value, for stable command lines.
	type pair struct{ flag, val string }
	var pairs []pair
	for i := 0; i < len(out); i += 2 {
		pairs = append(pairs, pair{out[i], out[i+1]})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].val < pairs[j].val })
	out = out[:0]
	for _, p := range pairs {
		out = append(out, p.flag, p.val)
	}
	return out
}

// Device is a started fake.
type Device struct {
	Addr  netip.Addr
	Ports audit.Ports

	mu   sync.Mutex // guards uris
	uris []string
}

// RequestURIs returns the HTTP request URIs the web UI saw.
func (d *Device) RequestURIs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.uris)
}

func (d *Device) record(r *http.Request) {
	d.mu.Lock()
	d.uris = append(d.uris, r.RequestURI)
	d.mu.Unlock()
}

func (d *Device) port(name string) netip.AddrPort {
	return netip.AddrPortFrom(d.Addr, d.Ports[name][0])
}

// TPLink starts a legacy TP-Link TL-WR841N on addr with ports.
func TPLink(t testing.TB, addr netip.Addr, ports audit.Ports) *Device {
	t.Helper()
	d := &Device{Addr: addr, Ports: ports}
	probetest.ServeHTTPAt(t, d.port("http"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.record(r)
		w.Header().Set("Server", "Router Webserver")
		if r.RequestURI == "/loginFs/./dropbear/dropbearpwd" {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(Credential))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="TP-LINK Wireless N Router WR841N"`)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY>401 Unauthorized</BODY></HTML>"))
	}))
	probetest.ServeTCPAt(t, d.port("ssh"), func(c net.Conn) {
		c.Write([]byte("SSH-2.0-dropbear_2022.83\r\n"))
		hold(c)
	})
	probetest.ServeTCPAt(t, d.port("telnet"), func(c net.Conn) {
		c.Write([]byte("TP-LINK Wireless N Router WR841N\r\nlogin: "))
		hold(c)
	})
	igd := probetest.StartIGD(t, probetest.IGD{Addr: addr, Server: "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1",
		Manufacturer: "TP-LINK", ModelName: "TL-WR841N", ModelNumber: "10.0", FriendlyName: "TL-WR841N",
		ExternalIP: "198.51.100.2", Mappings: 1})
	serveSSDPAt(t, d.port("ssdp"), "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1", fmt.Sprintf("http://%s/rootDesc.xml", netip.AddrPortFrom(addr, igd.HTTP)))
	probetest.ServeUDPAt(t, d.port("natpmp"), probetest.NATPMPServer(netip.MustParseAddr("198.51.100.2"), false))
	probetest.ServeUDPAt(t, d.port("snmp"), agent("public", "TL-WR841N", ".1.3.6.1.4.1.11863.1.1.1", "TL-WR841N"))
	return d
}

// MikroTik starts a RouterOS router on addr: WebFig's login page, SSH,
// SNMP "public" with a RouterOS sysDescr, Winbox and the API.
func MikroTik(t testing.TB, addr netip.Addr, ports audit.Ports) *Device {
	t.Helper()
	d := &Device{Addr: addr, Ports: ports}
	probetest.ServeHTTPAt(t, d.port("http"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.record(r)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><title>RouterOS router configuration page</title></head><body></body></html>"))
	}))
	probetest.ServeTCPAt(t, d.port("ssh"), func(c net.Conn) {
		c.Write([]byte("SSH-2.0-ROSSSH\r\n"))
		hold(c)
	})
	probetest.ServeTCPAt(t, d.port("winbox"), hold)
	probetest.ServeTCPAt(t, d.port("api"), func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := mikrotikprobe.ReadSentence(c, 8, 1024); err != nil {
			return
		}
		c.Write(mikrotikprobe.EncodeSentence("!fatal", "session terminated on request"))
	})
	probetest.ServeUDPAt(t, d.port("snmp"), agent("public", "RouterOS RB951Ui-2HnD", ".1.3.6.1.4.1.14988.1", "MikroTik"))
	probetest.ServeUDPAt(t, d.port("dns"), openResolver)
	return d
}

// openResolver answers as a router whose DNS serves anyone (RouterOS with
// allow-remote-requests=yes and no input-chain drop, CONFIGS.md §3):
// every A question gets 192.0.2.80 with RA set; CHAOS questions are
// refused, since no source documents RouterOS's version.bind.
func openResolver(req []byte, _ netip.AddrPort) [][]byte {
	q := new(dns.Msg)
	if q.Unpack(req) != nil || len(q.Question) != 1 {
		return nil
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	switch qq := q.Question[0]; {
	case qq.Qclass != dns.ClassINET:
		m.Rcode = dns.RcodeRefused
	case qq.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: net.IPv4(192, 0, 2, 80)})
	}
	b, err := m.Pack()
	if err != nil {
		return nil
	}
	return [][]byte{b}
}

// Closed starts nothing: every port of addr refuses (the hardened
// router).
func Closed(t testing.TB, addr netip.Addr, ports audit.Ports) *Device {
	t.Helper()
	return &Device{Addr: addr, Ports: ports}
}

// hold keeps a connection open until the peer closes it or 10 s pass.
func hold(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// serveSSDPAt answers M-SEARCH like miniupnpd, pointing at location.
func serveSSDPAt(t testing.TB, ap netip.AddrPort, server, location string) {
	t.Helper()
	probetest.ServeUDPAt(t, ap, func(req []byte, _ netip.AddrPort) [][]byte {
		if !bytes.HasPrefix(req, []byte("M-SEARCH * HTTP/1.1")) {
			return nil
		}
		st := "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
		return [][]byte{[]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: %s\r\nUSN: uuid:00000000-0000-0000-0000-000000000000::%s\r\nEXT:\r\nSERVER: %s\r\nLOCATION: %s\r\n\r\n", st, st, server, location))}
	})
}

// agent answers SNMPv2c GETs for one community, like net-snmp.
func agent(community, descr, objectID, name string) func([]byte, netip.AddrPort) [][]byte {
	return func(req []byte, _ netip.AddrPort) [][]byte {
		g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: community}
		pkt, err := g.SnmpDecodePacket(req)
		if err != nil || pkt.Community != community || pkt.PDUType != gosnmp.GetRequest {
			return nil // a wrong community gets silence, as RFC 3584 §5.2 has it
		}
		pkt.PDUType = gosnmp.GetResponse
		pkt.Variables = []gosnmp.SnmpPDU{
			{Name: "." + snmpprobe.OIDSysDescr, Type: gosnmp.OctetString, Value: []byte(descr)},
			{Name: "." + snmpprobe.OIDSysObjectID, Type: gosnmp.ObjectIdentifier, Value: objectID},
			{Name: "." + snmpprobe.OIDSysName, Type: gosnmp.OctetString, Value: []byte(name)},
		}
		b, err := pkt.MarshalMsg()
		if err != nil {
			return nil
		}
		return [][]byte{b}
	}
}
