// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ICMPv6 and neighbour-discovery numbers (RFC 4861, RFC 8106).
const (
	icmpRouterSolicitation  = 133
	icmpRouterAdvertisement = 134
	ndOptSourceLinkAddr     = 1
	ndOptPrefixInfo         = 3
	ndOptRDNSS              = 25
	ndOptDNSSL              = 31
)

// RDNSS is one Recursive DNS Server option.
type RDNSS struct {
	Addrs    []netip.Addr  `json:"addrs"`
	Lifetime time.Duration `json:"lifetime_ns"`
}

// RA is one router advertisement.
type RA struct {
	// From is the router's link-local address (zoned).
	From           netip.Addr       `json:"from"`
	RouterLifetime time.Duration    `json:"router_lifetime_ns"`
	Managed        bool             `json:"managed"` // M: addresses via DHCPv6
	Other          bool             `json:"other"`   // O: other configuration (DNS) via DHCPv6
	RDNSS          []RDNSS          `json:"rdnss,omitempty"`
	DNSSL          []string         `json:"dnssl,omitempty"`
	Prefixes       []netip.Prefix   `json:"prefixes,omitempty"`
	SourceMAC      net.HardwareAddr `json:"source_mac,omitempty"`
}

// DNS returns the RDNSS addresses in the order announced.
func (ra RA) DNS() []netip.Addr {
	var out []netip.Addr
	for _, r := range ra.RDNSS {
		if r.Lifetime > 0 {
			out = append(out, r.Addrs...)
		}
	}
	return out
}

// RAResult is what the router solicitation brought back.
type RAResult struct {
	RAs     []RA     `json:"ras"`
	Ignored []string `json:"ignored,omitempty"`
}

// BuildRS returns a router solicitation (RFC 4861 §4.1) carrying mac as
// the source link-layer address. The checksum is left zero: the kernel
// fills it on ICMPv6 raw sockets.
func BuildRS(mac net.HardwareAddr) []byte {
	b := make([]byte, 8, 16)
	b[0] = icmpRouterSolicitation
	if len(mac) == 6 {
		b = append(b, ndOptSourceLinkAddr, 1)
		b = append(b, mac...)
	}
	return b
}

// ParseRA reads an ICMPv6 router advertisement (the ICMPv6 message, as a
// raw socket delivers it; the kernel has checked the checksum). A sample,
// RA with M=0 O=1, router lifetime 1800 s and one RDNSS option announcing
// 2001:db8::53 for 600 s:
//
//	86 00 0000 40 40 0708 00000000 00000000
//	19 03 0000 00000258 20010db8000000000000000000000053
//
// Options with length 0, or running past the packet, are an error (RFC
// 4861 §4.6); an RDNSS option must be 3, 5, 7 … units long (RFC 8106
// §5.1).
func ParseRA(b []byte) (RA, error) {
	var ra RA
	if len(b) < 16 {
		return ra, fmt.Errorf("dhcpprobe: RA of %d bytes, shorter than its header", len(b))
	}
	if b[0] != icmpRouterAdvertisement || b[1] != 0 {
		return ra, fmt.Errorf("dhcpprobe: ICMPv6 type %d code %d is not a router advertisement", b[0], b[1])
	}
	ra.Managed, ra.Other = b[5]&0x80 != 0, b[5]&0x40 != 0
	ra.RouterLifetime = time.Duration(binary.BigEndian.Uint16(b[6:8])) * time.Second
	opts := b[16:]
	for len(opts) > 0 {
		if len(opts) < 2 || opts[1] == 0 {
			return ra, errors.New("dhcpprobe: RA option with length 0")
		}
		n := int(opts[1]) * 8
		if n > len(opts) {
			return ra, fmt.Errorf("dhcpprobe: RA option %d runs past the packet", opts[0])
		}
		o := opts[:n]
		opts = opts[n:]
		switch o[0] {
		case ndOptSourceLinkAddr:
			if n >= 8 {
				ra.SourceMAC = net.HardwareAddr(append([]byte(nil), o[2:8]...))
			}
		case ndOptPrefixInfo:
			if n != 32 || o[2] > 128 {
				return ra, errors.New("dhcpprobe: bad prefix information option")
			}
			if p, err := netip.AddrFrom16([16]byte(o[16:32])).Prefix(int(o[2])); err == nil {
				ra.Prefixes = append(ra.Prefixes, p)
			}
		case ndOptRDNSS:
			if n < 24 || (n-8)%16 != 0 {
				return ra, fmt.Errorf("dhcpprobe: RDNSS option of %d units", o[1])
			}
			r := RDNSS{Lifetime: time.Duration(binary.BigEndian.Uint32(o[4:8])) * time.Second}
			for i := 8; i+16 <= n; i += 16 {
				r.Addrs = append(r.Addrs, netip.AddrFrom16([16]byte(o[i:i+16])))
			}
			ra.RDNSS = append(ra.RDNSS, r)
		case ndOptDNSSL:
			if n < 16 {
				return ra, errors.New("dhcpprobe: DNSSL option too short")
			}
			names, err := parseLabels(o[8:])
			if err != nil {
				return ra, err
			}
			ra.DNSSL = append(ra.DNSSL, names...)
		}
	}
	return ra, nil
}

// parseLabels reads uncompressed DNS names padded with zeros (RFC 8106
// §5.2).
func parseLabels(b []byte) ([]string, error) {
	var names, labels []string
	for i := 0; i < len(b); {
		l := int(b[i])
		i++
		if l == 0 {
			if len(labels) > 0 {
				names = append(names, strings.Join(labels, "."))
				labels = nil
			}
			continue
		}
		if l > 63 || i+l > len(b) {
			return nil, errors.New("dhcpprobe: bad label in DNSSL")
		}
		labels = append(labels, string(b[i:i+l]))
		i += l
	}
	if len(labels) > 0 {
		return nil, errors.New("dhcpprobe: unterminated name in DNSSL")
	}
	return names, nil
}

// ProbeRA sends a router solicitation to ff02::2 and collects the
// advertisements.
func (p *Prober) ProbeRA(ctx context.Context) (*RAResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := p.checkDest(allRouters); err != nil {
		return nil, err
	}
	open := p.OpenRA
	if open == nil {
		open = openRA
	}
	conn, err := open(ctx, p.Interface)
	if err != nil {
		return nil, openErr("ICMPv6 socket on "+p.Interface, err)
	}
	defer conn.Close()
	pkt := BuildRS(p.MAC)
	dst := &net.IPAddr{IP: allRouters.AsSlice(), Zone: p.Interface}
	send := func() error {
		_, err := conn.WriteTo(pkt, dst)
		return err
	}
	ras, ignored, err := collect(ctx, conn, p.window(RAWindow), send, func(b []byte, from net.Addr) (RA, error) {
		ra, err := ParseRA(b)
		ra.From = addrOf(from)
		if err == nil && !ra.From.IsLinkLocalUnicast() {
			// RFC 4861 §6.1.2: an RA must come from a link-local
			// address; anything else is not a router on this link.
			return ra, fmt.Errorf("dhcpprobe: RA from non-link-local %s", ra.From)
		}
		return ra, err
	})
	return &RAResult{RAs: ras, Ignored: ignored}, err
}
