// SPDX-License-Identifier: Apache-2.0

package netx_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// checksumOK verifies a segment's Internet checksum with its
// pseudo-header: the one's-complement sum of everything is 0xffff.
func checksumOK(src, dst netip.Addr, seg []byte) bool {
	var sum uint32
	add := func(b []byte) {
		for ; len(b) >= 2; b = b[2:] {
			sum += uint32(binary.BigEndian.Uint16(b))
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(src.AsSlice())
	add(dst.AsSlice())
	sum += 6 + uint32(len(seg))
	add(seg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

func TestAppendSYN(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst netip.AddrPort
	}{
		{"ipv4", netip.MustParseAddrPort("192.0.2.7:61000"), netip.MustParseAddrPort("198.51.100.9:80")},
		{"ipv6", netip.MustParseAddrPort("[2001:db8::7]:61001"), netip.MustParseAddrPort("[2001:db8:1::9]:8291")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg := netx.AppendSYN([]byte("prefix"), tc.src, tc.dst, 0xdeadbeef)[len("prefix"):]
			if len(seg) != 24 {
				t.Fatalf("SYN of %d bytes", len(seg))
			}
			if !checksumOK(tc.src.Addr(), tc.dst.Addr(), seg) {
				t.Error("bad checksum")
			}
			r, err := netx.ParseTCP(seg, tc.src.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if r.Src != tc.src || r.DstPort != tc.dst.Port() || r.Seq != 0xdeadbeef || r.Ack != 0 || r.SYNACK() || r.RST() {
				t.Errorf("parsed back as %+v", r)
			}
		})
	}
}

func TestParseTCP(t *testing.T) {
	src := netip.MustParseAddr("198.51.100.9")
	synack := []byte{0, 80, 0xee, 0x48, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xf0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0}
	rst := append([]byte(nil), synack...)
	rst[13] = 0x14
	withOpts := append(append([]byte(nil), synack...), 2, 4, 5, 0xb4)
	withOpts[12] = 0x60
	for _, tc := range []struct {
		name           string
		seg            []byte
		wantErr        bool
		synack, reset  bool
		wantAck, wantP uint32
	}{
		{name: "synack", seg: synack, synack: true, wantAck: 0xdeadbef0, wantP: 80},
		{name: "rst", seg: rst, reset: true, wantAck: 0xdeadbef0, wantP: 80},
		{name: "options", seg: withOpts, synack: true, wantAck: 0xdeadbef0, wantP: 80},
		{name: "short", seg: synack[:19], wantErr: true},
		{name: "offset_past_end", seg: append(append([]byte(nil), synack[:12]...), 0xf0, 0x12, 0, 0, 0, 0, 0, 0), wantErr: true},
		{name: "offset_below_header", seg: append(append([]byte(nil), synack[:12]...), 0x40, 0x12, 0, 0, 0, 0, 0, 0), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := netx.ParseTCP(tc.seg, src)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if r.SYNACK() != tc.synack || r.RST() != tc.reset || r.Ack != tc.wantAck || uint32(r.Src.Port()) != tc.wantP || r.DstPort != 0xee48 {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestParseIPv4TCP(t *testing.T) {
	src, dst := netip.MustParseAddrPort("198.51.100.9:443"), netip.MustParseAddrPort("192.0.2.7:61000")
	seg := netx.AppendSYN(nil, src, dst, 7)
	pkt := append([]byte{0x45, 0, 0, byte(20 + len(seg)), 0, 0, 0x40, 0, 64, 6, 0, 0}, src.Addr().AsSlice()...)
	pkt = append(append(pkt, dst.Addr().AsSlice()...), seg...)
	r, to, err := netx.ParseIPv4TCP(pkt)
	if err != nil || r.Src != src || to != dst.Addr() || r.DstPort != dst.Port() || r.Seq != 7 {
		t.Fatalf("got %+v to %s, %v", r, to, err)
	}
	frag := append([]byte(nil), pkt...)
	frag[7] = 1 // fragment offset 8: no TCP header here
	udp := append([]byte(nil), pkt...)
	udp[9] = 17
	for name, b := range map[string][]byte{"fragment": frag, "udp": udp, "truncated": pkt[:30], "ipv6": append([]byte{0x60}, pkt[1:]...)} {
		if _, _, err := netx.ParseIPv4TCP(b); !errors.Is(err, netx.ErrShortSegment) {
			t.Errorf("%s: err %v, want ErrShortSegment", name, err)
		}
	}
}

// FuzzParseTCP: any bytes parse or fail cleanly, never panic, and a
// parsed segment's header lies within the bytes.
func FuzzParseTCP(f *testing.F) {
	f.Add(netx.AppendSYN(nil, netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:2"), 1))
	f.Add([]byte{0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, 0, 80, 0xee, 0x48, 1, 2, 3, 4, 5, 6, 7, 8, 0x50, 0x12, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := netx.ParseTCP(b, netip.MustParseAddr("192.0.2.1")); err == nil && len(b) < 20 {
			t.Fatal("parsed a segment shorter than a header")
		}
		if _, dst, err := netx.ParseIPv4TCP(b); err == nil && !dst.Is4() {
			t.Fatal("IPv4 packet without an IPv4 destination")
		}
	})
}

// TestSYNLoopback sends real SYNs on loopback (root only): an open port
// answers with a SYN-ACK that acknowledges the cookie, a closed one with
// a reset, and an address outside the scope gets nothing.
func TestSYNLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raw sockets need root")
	}
	open := listen(t, inScope.String())
	openPort := uint16(open.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port())
	closed := closedPort(t)
	d := dialer(netx.Options{Rate: -1})
	s, err := d.ListenSYN("ip4")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var se *netx.ScopeError
	if err := s.SendSYN(t.Context(), 61111, netip.AddrPortFrom(outScope, openPort), 1); !errors.As(err, &se) {
		t.Fatalf("out of scope: err %v, want a ScopeError", err)
	}
	const sport, other = 61112, 61110
	if err := s.OnlyPort(sport); err != nil {
		t.Fatal(err)
	}
	// A SYN from another port: its SYN-ACK must not reach the socket.
	if err := s.SendSYN(t.Context(), other, netip.AddrPortFrom(inScope, openPort), 999); err != nil {
		t.Fatal(err)
	}
	for _, p := range []uint16{openPort, closed} {
		if err := s.SendSYN(t.Context(), sport, netip.AddrPortFrom(inScope, p), 1000+uint32(p)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[uint16]string{}
	s.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	for len(got) < 2 {
		r, err := s.ReadReply(buf)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if r.DstPort != sport {
			t.Fatalf("the filter let through a segment to port %d: %+v", r.DstPort, r)
		}
		// The raw socket also sees our own SYNs (loopback): skip them.
		if r.Ack != 1000+uint32(r.Src.Port())+1 {
			continue
		}
		switch {
		case r.SYNACK():
			got[r.Src.Port()] = "open"
		case r.RST():
			got[r.Src.Port()] = "closed"
		}
	}
	if got[openPort] != "open" || got[closed] != "closed" {
		t.Errorf("replies %v; open port %d, closed %d", got, openPort, closed)
	}
}

// TestSYNLoopbackIPv6: the same over ::1 (root only), where the raw
// socket delivers the TCP segment without the IPv6 header and the
// checksum is ours to compute.
func TestSYNLoopbackIPv6(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raw sockets need root")
	}
	lo := netip.IPv6Loopback()
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).AddrPort().Port()
	d := netx.NewDialer(target.NewScope().WithAddr(lo), netx.Options{Rate: -1})
	s, err := d.ListenSYN("ip6")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const sport, other = 61113, 61114
	if err := s.OnlyPort(sport); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []uint16{other, sport} {
		if err := s.SendSYN(t.Context(), sp, netip.AddrPortFrom(lo, port), 4242); err != nil {
			t.Fatal(err)
		}
	}
	s.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	for {
		r, err := s.ReadReply(buf)
		if err != nil {
			t.Fatal(err)
		}
		if r.DstPort != sport {
			t.Fatalf("the filter let through a segment to port %d: %+v", r.DstPort, r)
		}
		if r.Src.Port() == port {
			if !r.SYNACK() || r.Ack != 4243 {
				t.Errorf("reply %+v, want a SYN-ACK of 4242", r)
			}
			return
		}
	}
}

func closedPort(t *testing.T) uint16 {
	l := listen(t, inScope.String())
	p := l.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	l.Close()
	return p
}
