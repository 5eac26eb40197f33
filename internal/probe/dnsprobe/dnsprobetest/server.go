// SPDX-License-Identifier: Apache-2.0

// Package dnsprobetest runs fake DNS resolvers, DoT/DoH servers, a test CA
// and TLS web servers on loopback addresses (127.0.0.0/8, never ":0"), for
// the tests of dnsprobe, dnshijack and the dns command. It is imported
// only from _test.go files.
//
// Every server listens on its own 127.0.0.x address with a kernel-chosen
// port and is closed through t.Cleanup.
package dnsprobetest

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// nextHost hands out 127.0.0.x addresses so that servers of one test are
// told apart by address, as real resolvers are.
var nextHost atomic.Uint32

// LoopbackAddr returns a fresh address in 127.0.0.0/8 (never 127.0.0.1,
// which the judge treats as a blocking answer).
func LoopbackAddr() netip.Addr {
	n := nextHost.Add(1)
	// 127.0.x.y with y in 2..254: spread over 127.0.1.0–127.0.200.0.
	return netip.AddrFrom4([4]byte{127, 0, byte(1 + (n/253)%200), byte(2 + n%253)})
}

// Zone is a fake resolver's view of the world. Names are lowercase FQDNs.
// The zero Zone answers NXDOMAIN for everything.
type Zone struct {
	mu sync.Mutex // guards all fields during serving
	// A and AAAA are honest, forwarded-looking answers (TTL, no AA).
	A    map[string][]netip.Addr
	AAAA map[string][]netip.Addr
	// TTL of honest answers; 0 means 300.
	TTL uint32
	// Signed names get an RRSIG when the query has the DO bit, and the
	// AD bit. The signer is the nearest enclosing zone in Keys (the name
	// itself when none).
	Signed map[string]bool
	// Keys are zone apexes that answer DNSKEY queries (with an RRSIG
	// when the query has the DO bit and the apex is in Signed). A zone
	// missing here answers DNSKEY with NODATA, as an unsigned copy of a
	// zone does.
	Keys map[string]bool
	// Hijack answers A with TTL 0 and the AA bit, AAAA with NODATA and
	// never an RRSIG: what dnsmasq's address=/name/ip produces.
	Hijack map[string]netip.Addr
	// Chaos answers CHAOS TXT names ("version.bind.": "dnsmasq-2.85").
	Chaos map[string]string
	// NXRewrite, when valid, answers unknown names with this address
	// instead of NXDOMAIN (an ISP's "search assist").
	NXRewrite netip.Addr
	// Servfail names answer SERVFAIL.
	Servfail map[string]bool
	// HijackWhen, when set, limits Hijack to the queries it accepts
	// (a rogue that lies only to questions of a certain shape); the
	// others get the honest answer.
	HijackWhen func(q *dns.Msg) bool
	// HTTPS gives names an HTTPS record (priority 1, target ".") with
	// these addresses as ipv4hint/ipv6hint. Other names answer HTTPS
	// questions with NODATA.
	HTTPS map[string][]netip.Addr
	// Delay holds every answer about these names back this long.
	Delay map[string]time.Duration
	// LoseFirst names never get an answer to the first question asked
	// about them (its retransmissions included): a lost exchange; a
	// question asked again with another ID is answered.
	LoseFirst map[string]bool
	// Queries counts the questions served.
	Queries atomic.Int64
	// Record keeps every question received, with its shape (Asked).
	Record bool
	asked  []*dns.Msg
	first  map[string]uint16 // LoseFirst: the ID of the first question per name
}

// Asked returns the questions received so far (Record).
func (z *Zone) Asked() []*dns.Msg {
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]*dns.Msg(nil), z.asked...)
}

// ServeDNS implements dns.Handler.
func (z *Zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	z.Queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	do := false
	if opt := r.IsEdns0(); opt != nil {
		do = opt.Do()
		m.SetEdns0(1232, do)
	}
	z.mu.Lock()
	if z.Record {
		z.asked = append(z.asked, r.Copy())
	}
	if z.LoseFirst[name] {
		if z.first == nil {
			z.first = map[string]uint16{}
		}
		if id, ok := z.first[name]; !ok || id == r.Id {
			z.first[name] = r.Id
			z.mu.Unlock()
			return
		}
	}
	delay := z.Delay[name]
	z.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	ttl := z.TTL
	if ttl == 0 {
		ttl = 300
	}
	hdr := func(t uint16, ttl uint32) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	switch {
	case q.Qclass == dns.ClassCHAOS:
		if v, ok := z.Chaos[name]; ok && q.Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: []string{v}})
		} else {
			m.Rcode = dns.RcodeRefused
		}
	case z.Servfail[name]:
		m.Rcode = dns.RcodeServerFailure
	case q.Qtype == dns.TypeDNSKEY && z.zoneOf(name) != "":
		if z.Keys[name] {
			m.Answer = append(m.Answer, &dns.DNSKEY{Hdr: hdr(dns.TypeDNSKEY, ttl), Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256, PublicKey: "dGVzdA=="})
			if z.Signed[name] && do {
				m.Answer = append(m.Answer, fakeRRSIG(q.Name, dns.TypeDNSKEY, ttl, name))
			}
		}
		// Else NODATA: the zone exists here, its keys do not.
	case q.Qtype == dns.TypeHTTPS:
		if hints := z.HTTPS[name]; len(hints) > 0 {
			rr := &dns.HTTPS{SVCB: dns.SVCB{Hdr: hdr(dns.TypeHTTPS, ttl), Priority: 1, Target: "."}}
			var v4, v6 []net.IP
			for _, a := range hints {
				if a.Is4() {
					v4 = append(v4, a.AsSlice())
				} else {
					v6 = append(v6, a.AsSlice())
				}
			}
			if len(v4) > 0 {
				rr.Value = append(rr.Value, &dns.SVCBIPv4Hint{Hint: v4})
			}
			if len(v6) > 0 {
				rr.Value = append(rr.Value, &dns.SVCBIPv6Hint{Hint: v6})
			}
			m.Answer = append(m.Answer, rr)
		} else if z.A[name] == nil && z.AAAA[name] == nil && !z.Hijack[name].IsValid() {
			m.Rcode = dns.RcodeNameError
		}
	case z.Hijack[name].IsValid() && (z.HijackWhen == nil || z.HijackWhen(r)):
		m.Authoritative = true
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA, 0), A: z.Hijack[name].AsSlice()})
		}
	case z.A[name] != nil || z.AAAA[name] != nil:
		addrs := z.A[name]
		t := dns.TypeA
		if q.Qtype == dns.TypeAAAA {
			addrs, t = z.AAAA[name], dns.TypeAAAA
		}
		for _, a := range addrs {
			if t == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(t, ttl), A: a.AsSlice()})
			} else {
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(t, ttl), AAAA: a.AsSlice()})
			}
		}
		if z.Signed[name] && do && len(m.Answer) > 0 {
			signer := z.zoneOf(name)
			if signer == "" {
				signer = name
			}
			m.Answer = append(m.Answer, fakeRRSIG(q.Name, t, ttl, signer))
			m.AuthenticatedData = true
		}
	case z.NXRewrite.IsValid() && q.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA, 60), A: z.NXRewrite.AsSlice()})
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// zoneOf returns the nearest enclosing zone of name in Keys (name itself
// included), "" when none. z.mu is held.
func (z *Zone) zoneOf(name string) string {
	for n := name; ; {
		if z.Keys[n] {
			return n
		}
		i := strings.IndexByte(n, '.')
		if i < 0 || i == len(n)-1 {
			return ""
		}
		n = n[i+1:]
	}
}

// fakeRRSIG is a syntactically valid signature by signer: the judge
// checks presence, not cryptography (that is the validating resolver's
// job).
func fakeRRSIG(name string, covered uint16, ttl uint32, signer string) *dns.RRSIG {
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ttl},
		TypeCovered: covered, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(dns.CountLabel(name)), OrigTtl: ttl,
		Expiration: uint32(time.Now().Add(24 * time.Hour).Unix()), Inception: uint32(time.Now().Add(-time.Hour).Unix()),
		KeyTag: 12345, SignerName: signer, Signature: "dGVzdA==",
	}
}

// Server is a DNS server on UDP and TCP at the same address.
type Server struct {
	Addr netip.AddrPort
}

// NewServer serves h on a fresh loopback address, UDP and TCP on the same
// port, until the test ends.
func NewServer(t testing.TB, h dns.Handler) *Server {
	t.Helper()
	ip := LoopbackAddr()
	pc, l := listenBoth(t, ip)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: l, Handler: h}
	start(t, udp)
	start(t, tcp)
	return &Server{Addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// NewServers serves each handler on its own fresh loopback address, all
// on one port (UDP and TCP), until the test ends: resolvers a host's
// configuration names carry no port, so a test that feeds them to
// discovery asks every one on the same port.
func NewServers(t testing.TB, hs ...dns.Handler) []*Server {
	t.Helper()
	for range 50 {
		var pcs []net.PacketConn
		var ls []net.Listener
		closeAll := func() {
			for _, c := range pcs {
				c.Close()
			}
			for _, l := range ls {
				l.Close()
			}
		}
		port := 0
		ok := true
		for range hs {
			ap := netip.AddrPortFrom(LoopbackAddr(), uint16(port))
			pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
			if err != nil {
				ok = false
				break
			}
			pcs = append(pcs, pc)
			ap = pc.LocalAddr().(*net.UDPAddr).AddrPort()
			port = int(ap.Port())
			l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		if !ok {
			closeAll()
			continue
		}
		t.Cleanup(closeAll)
		out := make([]*Server, len(hs))
		for i, h := range hs {
			start(t, &dns.Server{PacketConn: pcs[i], Handler: h})
			start(t, &dns.Server{Listener: ls[i], Handler: h})
			out[i] = &Server{Addr: pcs[i].LocalAddr().(*net.UDPAddr).AddrPort()}
		}
		return out
	}
	t.Fatal("no common free UDP+TCP port for the servers")
	return nil
}

// listenBoth binds UDP on ip:0, then TCP on the same port (retrying with a
// new port when TCP's is taken).
func listenBoth(t testing.TB, ip netip.Addr) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			t.Fatalf("listen udp %s: %v", ip, err)
		}
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(pc.LocalAddr().(*net.UDPAddr).AddrPort()))
		if err != nil {
			pc.Close()
			continue
		}
		t.Cleanup(func() { pc.Close(); l.Close() })
		return pc, l
	}
	t.Fatalf("no free UDP+TCP port on %s", ip)
	return nil, nil
}

func start(t testing.TB, s *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	go s.ActivateAndServe()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("dns server did not start")
	}
	t.Cleanup(func() { s.Shutdown() })
}

// Fqdn lowercases name and adds the trailing dot.
func Fqdn(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// Addrs parses addresses, failing the test on a bad one.
func Addrs(t testing.TB, ss ...string) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Fatal(fmt.Errorf("dnsprobetest: %w", err))
		}
		out[i] = a
	}
	return out
}
