// SPDX-License-Identifier: Apache-2.0

package hostnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Route flags from linux/route.h and linux/ipv6_route.h.
const (
	rtfUp      = 0x0001
	rtfGateway = 0x0002
	rtfReject  = 0x0200
)

// ParseProcNetRoute returns the IPv4 default gateways in /proc/net/route.
// Addresses are hex in host byte order (little-endian on every platform
// Linux routers and laptops run on). A sample:
//
//	Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
//	eth0	00000000	010200C0	0003	0	0	100	00000000	0	0	0
//	eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
//
// The first line is "default via 192.0.2.1 dev eth0 metric 100". Only
// routes that are up, have the gateway flag, a zero destination and mask
// count. Lines that do not parse are an error naming the line.
func ParseProcNetRoute(b []byte) ([]Gateway, error) {
	var out []Gateway
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if line == 1 || len(f) == 0 {
			continue // header
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("route line %d: %d fields, want at least 8", line, len(f))
		}
		dst, err1 := hexLE32(f[1])
		gw, err2 := hexLE32(f[2])
		flags, err3 := strconv.ParseUint(f[3], 16, 32)
		metric, err4 := strconv.ParseUint(f[6], 10, 32)
		mask, err5 := hexLE32(f[7])
		for _, err := range []error{err1, err2, err3, err4, err5} {
			if err != nil {
				return nil, fmt.Errorf("route line %d: %w", line, err)
			}
		}
		if dst != ([4]byte{}) || mask != ([4]byte{}) || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || flags&rtfReject != 0 {
			continue
		}
		out = append(out, Gateway{Addr: netip.AddrFrom4(gw), Interface: f[0], Metric: uint32(metric)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	sortGateways(out)
	return out, nil
}

// hexLE32 decodes 8 hex digits in little-endian byte order into an IPv4
// address ("010200C0" is 192.0.2.1).
func hexLE32(s string) ([4]byte, error) {
	var a [4]byte
	if len(s) != 8 {
		return a, fmt.Errorf("address %q: want 8 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	binary.LittleEndian.PutUint32(a[:], uint32(v))
	return a, nil
}

// ParseProcNetIPv6Route returns the IPv6 default gateways in
// /proc/net/ipv6_route. Columns: destination, prefix length (hex), source,
// source length, next hop, metric, refcount, use, flags, interface. A
// sample (addresses rewritten to 2001:db8::/32):
//
//	20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
//	00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0
//	00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
//
// The second line is "default via 2001:db8::1 dev eth0 metric 1024"; the
// third is the kernel's reject route, which does not count. A link-local
// next hop keeps the interface as its zone (fe80::1%eth0).
func ParseProcNetIPv6Route(b []byte) ([]Gateway, error) {
	var out []Gateway
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("ipv6_route line %d: %d fields, want 10", line, len(f))
		}
		dst, err1 := hex16(f[0])
		plen, err2 := strconv.ParseUint(f[1], 16, 8)
		nh, err3 := hex16(f[4])
		metric, err4 := strconv.ParseUint(f[5], 16, 32)
		flags, err5 := strconv.ParseUint(f[8], 16, 32)
		for _, err := range []error{err1, err2, err3, err4, err5} {
			if err != nil {
				return nil, fmt.Errorf("ipv6_route line %d: %w", line, err)
			}
		}
		if dst != ([16]byte{}) || plen != 0 || nh == ([16]byte{}) ||
			flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || flags&rtfReject != 0 {
			continue
		}
		a := netip.AddrFrom16(nh)
		if a.IsLinkLocalUnicast() {
			a = a.WithZone(f[9])
		}
		out = append(out, Gateway{Addr: a, Interface: f[9], Metric: uint32(metric)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ipv6_route: %w", err)
	}
	sortGateways(out)
	return out, nil
}

func hex16(s string) ([16]byte, error) {
	var a [16]byte
	if len(s) != 32 {
		return a, fmt.Errorf("address %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	return a, nil
}

// sortGateways orders by metric, the kernel's preference, keeping file
// order among equals.
func sortGateways(gs []Gateway) {
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && gs[j].Metric < gs[j-1].Metric; j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}

// GatewaysV4 returns the IPv4 default gateways, best first.
func GatewaysV4(env Env) ([]Gateway, error) {
	if !env.procOS() {
		return nil, ErrUnsupported
	}
	b, err := env.readFile(ProcRoutePath)
	if err != nil {
		return nil, err
	}
	return ParseProcNetRoute(b)
}

// GatewaysV6 returns the IPv6 default gateways, best first. A host
// without IPv6 has no /proc/net/ipv6_route: that is no gateway, not an
// error.
func GatewaysV6(env Env) ([]Gateway, error) {
	if !env.procOS() {
		return nil, ErrUnsupported
	}
	b, err := env.readFile(ProcIPv6RoutePath)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	return ParseProcNetIPv6Route(b)
}
