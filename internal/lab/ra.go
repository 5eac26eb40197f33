// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// raTimeout bounds Lab.RouterAdvertisement: dnsmasq answers a solicitation
// after a random delay of up to 0.5 s (RFC 4861 MAX_RA_DELAY_TIME).
const raTimeout = 3 * time.Second

// ICMPv6 Neighbor Discovery (RFC 4861) message and option types.
const (
	icmpRouterSolicitation  = 133
	icmpRouterAdvertisement = 134
	ndOptPrefixInfo         = 3
	ndOptRDNSS              = 25 // RFC 8106
	ndOptDNSSL              = 31 // RFC 8106
)

// RA is a router advertisement as a host on the LAN receives it.
type RA struct {
	// Source is the router's link-local address.
	Source netip.Addr
	// CurHopLimit is the hop limit the router suggests (0: unspecified).
	CurHopLimit uint8
	// Managed and Other are the M and O flags (DHCPv6 for addresses,
	// DHCPv6 for other configuration).
	Managed, Other bool
	// RouterLifetime is how long the router is a default router (0: not a
	// default router).
	RouterLifetime time.Duration
	// Prefixes are the Prefix Information options.
	Prefixes []RAPrefix
	// RDNSS are the recursive DNS servers (RFC 8106), in order, from every
	// RDNSS option; RDNSSLifetime is the first option's lifetime.
	RDNSS         []netip.Addr
	RDNSSLifetime time.Duration
	// DNSSL is the DNS search list (RFC 8106), names without trailing dot.
	DNSSL []string
}

// RAPrefix is one Prefix Information option.
type RAPrefix struct {
	Prefix netip.Prefix
	// OnLink and Autonomous are the L and A flags (A: hosts may form
	// addresses in the prefix, SLAAC).
	OnLink, Autonomous bool
	// ValidLifetime and PreferredLifetime: the largest Duration means
	// infinity.
	ValidLifetime, PreferredLifetime time.Duration
}

// RouterAdvertisement sends a router solicitation from the client's LAN
// interface and returns the first router advertisement that arrives (a
// solicited or a periodic one), within raTimeout. It reads RAs as a
// checker would, from a raw ICMPv6 socket in the client's namespace; the
// client's kernel ignores them (accept_ra=0), so nothing configures itself
// from them. It needs a scenario with ipv6.
func (l *Lab) RouterAdvertisement(ctx context.Context) (RA, error) {
	if l.scenario == nil || !l.scenario.IPv6 {
		return RA{}, errors.New("lab: router advertisements need a scenario with ipv6: true")
	}
	ctx, cancel := context.WithTimeout(ctx, raTimeout)
	defer cancel()
	var conn net.PacketConn
	var ifIndex int
	err := l.Do(Client, func() error {
		// The zone of the solicitation's address must be the interface
		// index inside the namespace: a zone name would be looked up later
		// on another thread, in the root namespace.
		ifi, err := net.InterfaceByName(clientIf)
		if err != nil {
			return err
		}
		ifIndex = ifi.Index
		var lc net.ListenConfig
		c, err := lc.ListenPacket(ctx, "ip6:ipv6-icmp", "::")
		if err != nil {
			return err
		}
		conn = c
		return nil
	})
	if err != nil {
		return RA{}, fmt.Errorf("lab: ra: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	// Routers drop solicitations whose hop limit is not 255 (RFC 4861
	// section 6.1.1): they prove the sender is on the link.
	rc, err := conn.(*net.IPConn).SyscallConn()
	if err != nil {
		return RA{}, fmt.Errorf("lab: ra: %w", err)
	}
	var sockErr error
	if err := rc.Control(func(fd uintptr) {
		sockErr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_HOPS, 255)
	}); err != nil || sockErr != nil {
		return RA{}, fmt.Errorf("lab: ra: hop limit: %w", errors.Join(err, sockErr))
	}
	rs := []byte{icmpRouterSolicitation, 0, 0, 0, 0, 0, 0, 0} // the kernel fills the checksum
	allRouters := &net.IPAddr{IP: net.ParseIP("ff02::2"), Zone: strconv.Itoa(ifIndex)}
	if _, err := conn.WriteTo(rs, allRouters); err != nil {
		return RA{}, fmt.Errorf("lab: ra: solicit: %w", err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return RA{}, fmt.Errorf("lab: ra: no router advertisement within %v: %w", raTimeout, ctx.Err())
			}
			return RA{}, fmt.Errorf("lab: ra: %w", err)
		}
		if n == 0 || buf[0] != icmpRouterAdvertisement {
			continue // neighbor solicitations and the like
		}
		ra, err := ParseRA(buf[:n])
		if err != nil {
			return RA{}, fmt.Errorf("lab: ra: %w", err)
		}
		if ip, ok := from.(*net.IPAddr); ok {
			ra.Source, _ = netip.AddrFromSlice(ip.IP)
		}
		return ra, nil
	}
}

// ParseRA parses an ICMPv6 router advertisement (RFC 4861 section 4.2),
// starting at the ICMPv6 header, with its Prefix Information, RDNSS and
// DNSSL options (RFC 8106); other options are skipped. A sample, as
// dnsmasq sends it for the ipv6-rdnss scenario (hex, one line):
//
//	86 00 5c99 40 00 0708 00000000 00000000     type 134, hop limit 64, lifetime 1800 s
//	03 04 40 c0 ffffffff ffffffff 00000000      prefix info: /64, L and A, lifetimes
//	   20010db8007700000000000000000000         2001:db8:77::/64
//	05 01 0000 000005dc                          MTU 1500
//	01 01 ca9ec4ac8275                           source link-layer address
//	19 03 0000 ffffffff 20010db8020300000000000000000066   RDNSS 2001:db8:203::66
//
// It deliberately does not reuse internal/probe/dhcpprobe's parser: the lab
// checks its scenarios with its own reading of the wire, so a bug in the
// product's parser cannot hide a lab that announces the wrong thing.
func ParseRA(b []byte) (RA, error) {
	if len(b) < 16 || b[0] != icmpRouterAdvertisement || b[1] != 0 {
		return RA{}, errors.New("not a router advertisement")
	}
	ra := RA{
		CurHopLimit:    b[4],
		Managed:        b[5]&0x80 != 0,
		Other:          b[5]&0x40 != 0,
		RouterLifetime: time.Duration(binary.BigEndian.Uint16(b[6:])) * time.Second,
	}
	for opts := b[16:]; len(opts) > 0; {
		if len(opts) < 2 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			return RA{}, errors.New("router advertisement: truncated option")
		}
		opt := opts[:int(opts[1])*8]
		opts = opts[len(opt):]
		switch opt[0] {
		case ndOptPrefixInfo:
			if len(opt) != 32 || opt[2] > 128 {
				return RA{}, errors.New("router advertisement: bad prefix information")
			}
			a := netip.AddrFrom16([16]byte(opt[16:32]))
			p, err := a.Prefix(int(opt[2]))
			if err != nil {
				return RA{}, fmt.Errorf("router advertisement: prefix: %w", err)
			}
			ra.Prefixes = append(ra.Prefixes, RAPrefix{
				Prefix: p, OnLink: opt[3]&0x80 != 0, Autonomous: opt[3]&0x40 != 0,
				ValidLifetime:     lifetime(binary.BigEndian.Uint32(opt[4:])),
				PreferredLifetime: lifetime(binary.BigEndian.Uint32(opt[8:])),
			})
		case ndOptRDNSS:
			if len(opt) < 24 || (len(opt)-8)%16 != 0 {
				return RA{}, errors.New("router advertisement: bad RDNSS option")
			}
			if ra.RDNSS == nil {
				ra.RDNSSLifetime = lifetime(binary.BigEndian.Uint32(opt[4:]))
			}
			for i := 8; i < len(opt); i += 16 {
				ra.RDNSS = append(ra.RDNSS, netip.AddrFrom16([16]byte(opt[i:i+16])))
			}
		case ndOptDNSSL:
			if len(opt) < 16 {
				return RA{}, errors.New("router advertisement: bad DNSSL option")
			}
			names, err := parseDNSSL(opt[8:])
			if err != nil {
				return RA{}, err
			}
			ra.DNSSL = append(ra.DNSSL, names...)
		}
	}
	return ra, nil
}

// lifetime converts an RA lifetime in seconds; all ones means infinity,
// given as the largest Duration.
func lifetime(secs uint32) time.Duration {
	if secs == 0xffffffff {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(secs) * time.Second
}

// parseDNSSL reads uncompressed DNS names followed by zero padding.
func parseDNSSL(b []byte) ([]string, error) {
	var names []string
	var labels []string
	for i := 0; i < len(b); {
		n := int(b[i])
		i++
		if n == 0 {
			if len(labels) > 0 {
				names = append(names, strings.Join(labels, "."))
				labels = nil
			}
			continue
		}
		if n > 63 || i+n > len(b) {
			return nil, errors.New("router advertisement: bad DNSSL name")
		}
		labels = append(labels, string(b[i:i+n]))
		i += n
	}
	if len(labels) > 0 {
		return nil, errors.New("router advertisement: unterminated DNSSL name")
	}
	return names, nil
}
