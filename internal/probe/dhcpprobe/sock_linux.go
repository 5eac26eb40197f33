// SPDX-License-Identifier: Apache-2.0

//go:build linux

package dhcpprobe

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// openV4 opens an AF_PACKET socket on ifname that sends broadcast
// UDP 68→67 frames and receives UDP for port 68, whether or not the
// interface has an address (nclient4's raw connection).
func openV4(_ context.Context, ifname string) (PacketConn, error) {
	return nclient4.NewRawUDPConn(ifname, nclient4.ClientPort)
}

// openRA opens a raw ICMPv6 socket that receives only router
// advertisements arriving on ifname with hop limit 255, and sends with hop
// limit 255 (RFC 4861 §6.1.2 requires both).
func openRA(_ context.Context, ifname string) (PacketConn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return nil, err
	}
	p := c.IPv6PacketConn()
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeRouterAdvertisement)
	for _, set := range []func() error{
		func() error { return p.SetICMPFilter(&f) },
		func() error { return p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagInterface, true) },
		func() error { return p.SetMulticastHopLimit(255) },
		func() error { return p.SetHopLimit(255) },
		func() error { return p.SetMulticastInterface(ifi) },
	} {
		if err := set(); err != nil {
			c.Close()
			return nil, fmt.Errorf("ICMPv6 socket option: %w", err)
		}
	}
	return &raConn{c: c, p: p, ifindex: ifi.Index}, nil
}

type raConn struct {
	c       *icmp.PacketConn
	p       *ipv6.PacketConn
	ifindex int
}

// ReadFrom returns the next ICMPv6 message that arrived on the interface
// with hop limit 255; others are dropped here.
func (r *raConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, cm, src, err := r.p.ReadFrom(b)
		if err != nil {
			return n, src, err
		}
		if cm != nil && (cm.HopLimit != 255 || (cm.IfIndex != 0 && cm.IfIndex != r.ifindex)) {
			continue
		}
		return n, src, nil
	}
}

func (r *raConn) WriteTo(b []byte, dst net.Addr) (int, error) {
	return r.p.WriteTo(b, &ipv6.ControlMessage{HopLimit: 255, IfIndex: r.ifindex}, dst)
}

func (r *raConn) SetDeadline(t time.Time) error { return r.c.SetDeadline(t) }
func (r *raConn) Close() error                  { return r.c.Close() }

// openV6 opens UDP 546 on ifname's link-local address (privileged).
func openV6(_ context.Context, ifname string) (PacketConn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() == nil && ipn.IP.IsLinkLocalUnicast() {
			return net.ListenUDP("udp6", &net.UDPAddr{IP: ipn.IP, Port: 546, Zone: ifname})
		}
	}
	return nil, fmt.Errorf("interface %s has no IPv6 link-local address", ifname)
}
