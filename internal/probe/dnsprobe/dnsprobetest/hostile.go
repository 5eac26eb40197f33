// SPDX-License-Identifier: Apache-2.0

package dnsprobetest

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Behaviour is how a hostile server misbehaves, after the lab's
// hostile-dns resolver.
type Behaviour string

// Behaviours.
const (
	Malformed     Behaviour = "malformed"      // random bytes after a valid-looking header
	Truncated     Behaviour = "truncated"      // TC on UDP, and TC again over TCP
	MismatchedID  Behaviour = "mismatched_id"  // a correct answer with the wrong ID
	Oversized     Behaviour = "oversized"      // a 6000-byte UDP datagram
	Spoofed       Behaviour = "spoofed"        // the answer comes from another address
	Slow          Behaviour = "slow"           // never answers in time
	NotResponse   Behaviour = "not_response"   // echoes the query (QR clear)
	WrongQuestion Behaviour = "wrong_question" // answers another name
	TCPGarbage    Behaviour = "tcp_garbage"    // TC on UDP, then a length prefix and a closed connection
)

// NewHostile serves b on a fresh loopback address (UDP and TCP).
func NewHostile(t testing.TB, b Behaviour) *Server {
	t.Helper()
	ip := LoopbackAddr()
	pc, l := listenBoth(t, ip)
	var spoof *net.UDPConn
	if b == Spoofed {
		var err error
		spoof, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(LoopbackAddr(), 0)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { spoof.Close() })
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			out := hostileReply(b, q, false)
			if out == nil {
				continue
			}
			if b == Spoofed {
				spoof.WriteTo(out, from)
				continue
			}
			pc.WriteTo(out, from)
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveHostileTCP(c, b)
		}
	}()
	return &Server{Addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}
}

func serveHostileTCP(c net.Conn, b Behaviour) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var lb [2]byte
	if _, err := io.ReadFull(c, lb[:]); err != nil {
		return
	}
	buf := make([]byte, binary.BigEndian.Uint16(lb[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return
	}
	q := new(dns.Msg)
	if q.Unpack(buf) != nil {
		return
	}
	if b == TCPGarbage {
		c.Write([]byte{0x10, 0x00, 0xde, 0xad}) // announces 4096 bytes, sends 2
		return
	}
	out := hostileReply(b, q, true)
	if out == nil {
		io.Copy(io.Discard, c) // hold the connection open until the client gives up
		return
	}
	binary.BigEndian.PutUint16(lb[:], uint16(len(out)))
	c.Write(append(lb[:], out...))
}

// hostileReply builds the misbehaving reply to q, nil for none.
func hostileReply(b Behaviour, q *dns.Msg, tcp bool) []byte {
	m := new(dns.Msg)
	m.SetReply(q)
	if len(q.Question) == 1 && q.Question[0].Qtype == dns.TypeA {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
	}
	switch b {
	case Slow:
		return nil
	case Truncated, TCPGarbage:
		m.Truncated = true
		m.Answer = nil
	case MismatchedID:
		m.Id = q.Id + 1
	case NotResponse:
		m = q.Copy()
	case WrongQuestion:
		m.Question[0].Name = "other.example.net."
	case Oversized:
		if !tcp {
			out, _ := m.Pack()
			return append(out, make([]byte, 6000)...)
		}
	case Malformed:
		out, _ := m.Pack()
		// Keep the header (right ID, QR set, counts claiming records)
		// and cut the body mid-record.
		if len(out) > 20 {
			out = out[:20]
		}
		binary.BigEndian.PutUint16(out[6:], 7) // ANCOUNT=7
		return out
	}
	out, err := m.Pack()
	if err != nil {
		return nil
	}
	return out
}
