// SPDX-License-Identifier: Apache-2.0

package upnpprobe

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// NAT-PMP (RFC 6886) and PCP (RFC 6887) share UDP port 5351. Both are
// hand-written here: jackpal/go-nat-pmp dials its own socket, which the
// netx contract forbids.
const (
	// DefaultNATPMPPort is the NAT-PMP and PCP server port.
	DefaultNATPMPPort = 5351
	// natpmpTries and natpmpFirstWait follow RFC 6886 §3.1 (250 ms,
	// doubling), cut to three tries: a LAN gateway answers the first.
	natpmpTries     = 3
	natpmpFirstWait = 250 * time.Millisecond
)

// NATPMP is the answer to a NAT-PMP external-address request.
type NATPMP struct {
	probe.Exchange
	// Answered is true when a well-formed NAT-PMP answer came back.
	Answered bool `json:"answered"`
	// ResultCode is 0 for success (RFC 6886 §3.5).
	ResultCode uint16 `json:"result_code"`
	// Epoch is the server's seconds since its mappings were reset.
	Epoch uint32 `json:"epoch"`
	// ExternalAddr is the gateway's public address (invalid when none).
	ExternalAddr netip.Addr `json:"external_addr,omitzero"`
}

// PCP is the answer to a PCP ANNOUNCE.
type PCP struct {
	probe.Exchange
	// Answered is true when the server answered, in PCP or in NAT-PMP.
	Answered bool `json:"answered"`
	// Version is the answer's version: 2 for PCP, 0 for a NAT-PMP-only
	// server refusing PCP (RFC 6887 §9).
	Version    byte   `json:"version"`
	ResultCode byte   `json:"result_code"`
	Epoch      uint32 `json:"epoch"`
}

// ParseNATPMP reads a NAT-PMP external-address answer. Sample (hex):
//
//	00 80 00 00 00 00 1c 20 c6 33 64 02
//	ver op  result epoch       external 198.51.100.2
func ParseNATPMP(b []byte) (code uint16, epoch uint32, ext netip.Addr, err error) {
	if len(b) < 8 || b[0] != 0 || b[1] != 128 {
		return 0, 0, netip.Addr{}, fmt.Errorf("upnpprobe: not a NAT-PMP external-address answer (% x): %w", b[:min(len(b), 12)], probe.ErrProtocol)
	}
	code = binary.BigEndian.Uint16(b[2:4])
	epoch = binary.BigEndian.Uint32(b[4:8])
	if code == 0 {
		if len(b) < 12 {
			return 0, 0, netip.Addr{}, fmt.Errorf("upnpprobe: short NAT-PMP answer (%d bytes): %w", len(b), probe.ErrProtocol)
		}
		ext = netip.AddrFrom4([4]byte(b[8:12]))
	}
	return code, epoch, ext, nil
}

// PCPAnnounce builds a PCP ANNOUNCE request (RFC 6887 §7.1, §14.1) from
// client, our own address, which the header must carry.
func PCPAnnounce(client netip.Addr) []byte {
	b := make([]byte, 24)
	b[0] = 2 // version
	b[1] = 0 // R=0, opcode ANNOUNCE
	// b[2:4] reserved, b[4:8] requested lifetime 0
	a16 := client.As16() // IPv4 as IPv4-mapped IPv6, as the RFC asks
	copy(b[8:24], a16[:])
	return b
}

// ParsePCP reads the answer to an ANNOUNCE. Sample (hex, PCP):
//
//	02 80 00 00 00 00 00 00 00 00 1c 20 + 12 reserved bytes
//	ver R|op rsv result lifetime epoch
//
// A NAT-PMP-only server answers "00 80 00 01 …" (unsupported version).
func ParsePCP(b []byte) (version, code byte, epoch uint32, err error) {
	switch {
	case len(b) >= 24 && b[0] == 2 && b[1] == 0x80:
		return 2, b[3], binary.BigEndian.Uint32(b[8:12]), nil
	case len(b) >= 8 && b[0] == 0 && b[1] >= 128:
		return 0, byte(binary.BigEndian.Uint16(b[2:4])), binary.BigEndian.Uint32(b[4:8]), nil
	}
	return 0, 0, 0, fmt.Errorf("upnpprobe: not a PCP answer (% x): %w", b[:min(len(b), 12)], probe.ErrProtocol)
}

// exchangeUDP sends req to ap and waits for an answer parse accepts,
// retrying with a doubling wait; datagrams parse refuses are skipped (and
// reported if nothing better comes). It returns the accepted answer.
func exchangeUDP(ctx context.Context, d *netx.Dialer, ap netip.AddrPort, build func(local netip.Addr) []byte, parse func([]byte) error) (open bool, answer []byte, err error) {
	c, err := d.Dial(ctx, "udp", ap)
	if err != nil {
		return false, nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	local := netip.Addr{}
	if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
		local = ua.AddrPort().Addr().Unmap()
	}
	req := build(local)
	buf := make([]byte, 1100) // PCP's maximum message size
	wait := natpmpFirstWait
	var bad error
	for range natpmpTries {
		if ctx.Err() != nil {
			break
		}
		c.SetDeadline(probe.Deadline(ctx, wait))
		if _, err = c.Write(req); err != nil {
			return open, nil, err
		}
		for {
			var n int
			n, err = c.Read(buf)
			if err != nil {
				break
			}
			open = true
			if perr := parse(buf[:n]); perr != nil {
				bad = perr
				continue
			}
			return true, append([]byte(nil), buf[:n]...), nil
		}
		if probe.Classify(err) != netx.StatusTimeout {
			return open, nil, err
		}
		wait *= 2
	}
	if bad != nil {
		return open, nil, bad
	}
	return open, nil, err
}

func natpmp(ctx context.Context, d *netx.Dialer, ap netip.AddrPort) NATPMP {
	res := NATPMP{Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	if !ap.Addr().Is4() {
		// Not applicable: no status, no error.
		res.Error = "NAT-PMP is IPv4-only (RFC 6886)"
		return res
	}
	open, ans, err := exchangeUDP(ctx, d, ap,
		func(netip.Addr) []byte { return []byte{0, 0} }, // version 0, opcode 0: external address
		func(b []byte) error { _, _, _, err := ParseNATPMP(b); return err })
	res.Open = open
	if err == nil {
		res.Answered = true
		res.ResultCode, res.Epoch, res.ExternalAddr, _ = ParseNATPMP(ans)
	} else {
		err = fmt.Errorf("upnpprobe: NAT-PMP %s: %w", ap, err)
	}
	res.Finish(start, err)
	return res
}

func pcp(ctx context.Context, d *netx.Dialer, ap netip.AddrPort) PCP {
	res := PCP{Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	open, ans, err := exchangeUDP(ctx, d, ap, PCPAnnounce,
		func(b []byte) error { _, _, _, err := ParsePCP(b); return err })
	res.Open = open
	if err == nil {
		res.Answered = true
		res.Version, res.ResultCode, res.Epoch, _ = ParsePCP(ans)
	} else {
		err = fmt.Errorf("upnpprobe: PCP %s: %w", ap, err)
	}
	res.Finish(start, err)
	return res
}
