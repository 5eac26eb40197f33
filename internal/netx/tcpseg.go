// SPDX-License-Identifier: Apache-2.0

package netx

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// TCP flags the sweep sends and reads.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// synLen is the SYN segment's length: a 20-byte header and one MSS
// option (4 bytes). A SYN without options is unusual enough that some
// stacks and middleboxes drop it; masscan and zmap send an MSS too.
const synLen = 24

// synMSS is the MSS the SYN announces: Ethernet's, which no path refuses.
const synMSS = 1460

// synWindow is the window the SYN announces (masscan's and nmap's 1024).
const synWindow = 1024

// ErrShortSegment reports bytes too short or inconsistent to be a TCP
// segment.
var ErrShortSegment = errors.New("netx: not a TCP segment")

// TCPReply is what the sweep needs from a TCP segment that arrived: who
// sent it, to which local port, its sequence and acknowledgement numbers
// and flags.
type TCPReply struct {
	// Src is the sender's address and port (the port probed).
	Src netip.AddrPort
	// DstPort is the local port it was sent to.
	DstPort  uint16
	Seq, Ack uint32
	Flags    uint8
}

// SYNACK reports a SYN-ACK: the port is open.
func (r TCPReply) SYNACK() bool {
	return r.Flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK && r.Flags&tcpRST == 0
}

// RST reports a reset: the host is up and the port closed.
func (r TCPReply) RST() bool { return r.Flags&tcpRST != 0 }

// ParseTCP reads the TCP header at the start of seg (what a raw IPv4 TCP
// socket delivers once Go has removed the IP header, or an IPv6 raw
// socket delivers as is); src is the sender's address, from the socket.
// It checks the header's own length fields only: the checksum was
// verified by the kernel before delivering.
func ParseTCP(seg []byte, src netip.Addr) (TCPReply, error) {
	if len(seg) < 20 {
		return TCPReply{}, ErrShortSegment
	}
	off := int(seg[12]>>4) * 4
	if off < 20 || off > len(seg) {
		return TCPReply{}, ErrShortSegment
	}
	return TCPReply{
		Src:     netip.AddrPortFrom(src.Unmap(), binary.BigEndian.Uint16(seg[0:2])),
		DstPort: binary.BigEndian.Uint16(seg[2:4]),
		Seq:     binary.BigEndian.Uint32(seg[4:8]),
		Ack:     binary.BigEndian.Uint32(seg[8:12]),
		Flags:   seg[13],
	}, nil
}

// ParseIPv4TCP reads an IPv4 packet carrying TCP (header included, as a
// packet socket or a raw socket with the header delivers it) and returns
// the TCP fields and the destination address.
func ParseIPv4TCP(pkt []byte) (TCPReply, netip.Addr, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return TCPReply{}, netip.Addr{}, ErrShortSegment
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if ihl < 20 || total < ihl || total > len(pkt) || pkt[9] != 6 {
		return TCPReply{}, netip.Addr{}, ErrShortSegment
	}
	// A fragment other than the first has no TCP header at its start.
	if binary.BigEndian.Uint16(pkt[6:8])&0x1fff != 0 {
		return TCPReply{}, netip.Addr{}, ErrShortSegment
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	r, err := ParseTCP(pkt[ihl:total], src)
	return r, dst, err
}

// AppendSYN appends a SYN segment from src to dst with sequence number
// seq to b, checksum included (over the pseudo-header of src's family).
func AppendSYN(b []byte, src, dst netip.AddrPort, seq uint32) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = append(b, byte(synLen/4)<<4, tcpSYN)
	b = binary.BigEndian.AppendUint16(b, synWindow)
	b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
	b = append(b, 2, 4)       // MSS option
	b = binary.BigEndian.AppendUint16(b, synMSS)
	seg := b[start:]
	binary.BigEndian.PutUint16(seg[16:18], tcpChecksum(src.Addr(), dst.Addr(), seg))
	return b
}

// tcpChecksum is the Internet checksum of seg and its pseudo-header
// (RFC 793 for IPv4, RFC 8200 §8.1 for IPv6).
func tcpChecksum(src, dst netip.Addr, seg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	s, d := src.AsSlice(), dst.AsSlice()
	add(s)
	add(d)
	sum += 6 + uint32(len(seg)) // protocol and TCP length
	add(seg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
