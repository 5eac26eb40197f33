// SPDX-License-Identifier: Apache-2.0

package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ErrRawUnavailable reports that raw TCP sockets cannot be opened here
// (not root, no CAP_NET_RAW, or not Linux): SYN sweeps are not possible,
// connect sweeps are.
var ErrRawUnavailable = errors.New("netx: raw TCP sockets are not available (root or CAP_NET_RAW on Linux)")

// synReadBuffer is the raw socket's receive buffer: at 100,000 packets a
// second with every port open, the replies of 80 ms; a sweep's replies
// are far fewer (most addresses are silent).
const synReadBuffer = 8 << 20

// maxSourceCache bounds the SYN socket's cache of source addresses per
// destination prefix (a /24 or a /64): a sweep works on a few prefixes at
// a time, so the cache stays small; when full it is emptied.
const maxSourceCache = 4096

// SYNConn is a raw TCP socket that sends SYN segments to addresses in
// the dialer's scope and reads the segments that arrive (SYN-ACKs and
// resets among them). It keeps no state per destination: the caller
// recognises its replies by the sequence number it chose (a stateless
// cookie). The kernel also sees each SYN-ACK and, having no socket for
// it, answers with a reset, as it does for nmap -sS; the peer closes its
// half-open connection, nothing else happens. Safe for concurrent use.
type SYNConn struct {
	d   *Dialer
	c   *net.IPConn
	fam string // "ip4" or "ip6"

	mu   sync.Mutex // guards the following
	srcs map[netip.Prefix]netip.Addr
	buf  []byte
}

// ListenSYN opens a raw TCP socket for network "ip4" or "ip6". It fails
// with an error wrapping ErrRawUnavailable without the privilege.
func (d *Dialer) ListenSYN(network string) (*SYNConn, error) {
	if network != "ip4" && network != "ip6" {
		return nil, fmt.Errorf("netx: ListenSYN: network %q (want ip4 or ip6)", network)
	}
	c, err := listenRawTCP(network)
	if err != nil {
		return nil, err
	}
	// A smaller buffer than asked is no error: replies may then be lost at
	// very high rates, which a sweep reports as silence.
	_ = c.SetReadBuffer(synReadBuffer)
	return &SYNConn{d: d, c: c, fam: network, srcs: map[netip.Prefix]netip.Addr{}}, nil
}

// SendSYN sends one SYN from local port sport to dst with sequence number
// seq. dst must be in scope; the dialer's rate limit applies.
func (s *SYNConn) SendSYN(ctx context.Context, sport uint16, dst netip.AddrPort, seq uint32) error {
	a := dst.Addr().Unmap()
	if err := s.d.Check(a); err != nil {
		return err
	}
	if a.Is4() != (s.fam == "ip4") {
		return fmt.Errorf("netx: SendSYN: %s is not an %s address", a, s.fam)
	}
	if s.d.limiter != nil {
		if err := s.d.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	src, err := s.source(a)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.buf = AppendSYN(s.buf[:0], netip.AddrPortFrom(src, sport), netip.AddrPortFrom(a, dst.Port()), seq)
	_, err = s.c.WriteToIP(s.buf, &net.IPAddr{IP: a.AsSlice()})
	s.mu.Unlock()
	return err
}

// source returns the local address the kernel sends to a from (the TCP
// checksum covers it): the dialer's Source if set, else the route's,
// looked up once per /24 or /64 by connecting a UDP socket, which sends
// nothing.
func (s *SYNConn) source(a netip.Addr) (netip.Addr, error) {
	if s.d.opts.Source.IsValid() {
		return s.d.opts.Source, nil
	}
	bits := 24
	if a.Is6() {
		bits = 64
	}
	p := netip.PrefixFrom(a, bits).Masked()
	s.mu.Lock()
	src, ok := s.srcs[p]
	s.mu.Unlock()
	if ok {
		return src, nil
	}
	udp := "udp4"
	if a.Is6() {
		udp = "udp6"
	}
	c, err := net.DialUDP(udp, nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("netx: route to %s: %w", a, err)
	}
	src = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	s.mu.Lock()
	if len(s.srcs) >= maxSourceCache {
		clear(s.srcs)
	}
	s.srcs[p] = src
	s.mu.Unlock()
	return src, nil
}

// ReadReply returns the next TCP segment that arrived from an address in
// scope; others (and what does not parse) are skipped. b is the buffer.
func (s *SYNConn) ReadReply(b []byte) (TCPReply, error) {
	for {
		n, from, err := s.c.ReadFromIP(b)
		if err != nil {
			return TCPReply{}, err
		}
		src, ok := netip.AddrFromSlice(from.IP)
		if !ok || s.d.Check(src.Unmap()) != nil {
			continue
		}
		r, err := ParseTCP(b[:n], src)
		if err != nil {
			continue
		}
		return r, nil
	}
}

// OnlyPort attaches a socket filter that keeps only the segments sent to
// local port: a raw TCP socket otherwise receives a copy of every TCP
// segment the host gets, and on a busy host reading them all costs a
// system call each and crowds the receive buffer.
func (s *SYNConn) OnlyPort(port uint16) error {
	// An IPv4 raw socket's filter sees the IP header first (its length in
	// the low nibble of byte 0); an IPv6 one sees the TCP header.
	var prog []bpf.Instruction
	if s.fam == "ip4" {
		prog = append(prog, bpf.LoadMemShift{Off: 0}, bpf.LoadIndirect{Off: 2, Size: 2})
	} else {
		prog = append(prog, bpf.LoadAbsolute{Off: 2, Size: 2})
	}
	prog = append(prog,
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipFalse: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0})
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("netx: socket filter: %w", err)
	}
	if s.fam == "ip4" {
		err = ipv4.NewPacketConn(s.c).SetBPF(raw)
	} else {
		err = ipv6.NewPacketConn(s.c).SetBPF(raw)
	}
	if err != nil {
		return fmt.Errorf("netx: socket filter: %w", err)
	}
	return nil
}

// SetReadDeadline bounds ReadReply.
func (s *SYNConn) SetReadDeadline(t time.Time) error { return s.c.SetReadDeadline(t) }

// Close closes the socket.
func (s *SYNConn) Close() error { return s.c.Close() }
