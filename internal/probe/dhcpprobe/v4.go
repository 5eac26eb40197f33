// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// V4Reply is one DHCP server's answer.
type V4Reply struct {
	// From is the packet's source address.
	From netip.Addr `json:"from"`
	// ServerID is option 54, the server's own identifier.
	ServerID    netip.Addr `json:"server_id,omitzero"`
	MessageType string     `json:"message_type"` // "ACK", "OFFER", "NAK"
	// DNS is option 6 in the server's order: [0] is the primary.
	DNS []netip.Addr `json:"dns,omitempty"`
	// Routers is option 3.
	Routers    []netip.Addr  `json:"routers,omitempty"`
	DomainName string        `json:"domain_name,omitempty"`
	YourAddr   netip.Addr    `json:"your_addr,omitzero"`
	LeaseTime  time.Duration `json:"lease_time_ns,omitempty"`
}

// V4Result is what the DHCPv4 probe saw.
type V4Result struct {
	// Method is "inform" or "discover".
	Method string `json:"method"`
	// Replies holds every server that answered; more than one means a
	// second DHCP server on the link.
	Replies []V4Reply `json:"replies"`
	// Ignored lists packets that did not parse or were not for us.
	Ignored []string `json:"ignored,omitempty"`
}

// requested are the options asked for: routers, DNS, domain name, server
// identifier.
var requested = []dhcpv4.OptionCode{dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer, dhcpv4.OptionDomainName, dhcpv4.OptionServerIdentifier}

// BuildInform returns a DHCPINFORM from ip (RFC 2131 §4.4.3): it asks for
// configuration only; no lease is involved.
func BuildInform(mac net.HardwareAddr, ip netip.Addr, xid dhcpv4.TransactionID) ([]byte, error) {
	if !ip.Is4() {
		return nil, fmt.Errorf("dhcpprobe: INFORM needs an IPv4 address, got %v", ip)
	}
	m, err := dhcpv4.NewInform(mac, ip.AsSlice(), dhcpv4.WithTransactionID(xid), dhcpv4.WithRequestedOptions(requested...),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1500)))
	if err != nil {
		return nil, fmt.Errorf("dhcpprobe: build INFORM: %w", err)
	}
	return m.ToBytes(), nil
}

// BuildDiscover returns a DISCOVER asking the server to broadcast its
// OFFER (the host has no address to receive it on).
func BuildDiscover(mac net.HardwareAddr, xid dhcpv4.TransactionID) ([]byte, error) {
	m, err := dhcpv4.NewDiscovery(mac, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true), dhcpv4.WithRequestedOptions(requested...),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1500)))
	if err != nil {
		return nil, fmt.Errorf("dhcpprobe: build DISCOVER: %w", err)
	}
	return m.ToBytes(), nil
}

// ParseV4Reply reads a packet received on UDP 68 as the answer to the
// request with xid from mac. It must be a BOOTREPLY with the same
// transaction ID and client hardware address, of type OFFER, ACK or NAK;
// option 6, 3 and 54 must hold whole IPv4 addresses.
func ParseV4Reply(b []byte, xid dhcpv4.TransactionID, mac net.HardwareAddr) (V4Reply, error) {
	var r V4Reply
	m, err := dhcpv4.FromBytes(b)
	if err != nil {
		return r, fmt.Errorf("dhcpprobe: not a DHCP message: %w", err)
	}
	if m.OpCode != dhcpv4.OpcodeBootReply {
		return r, fmt.Errorf("dhcpprobe: opcode %v is not a reply", m.OpCode)
	}
	if m.TransactionID != xid {
		return r, fmt.Errorf("dhcpprobe: transaction %s is not ours", m.TransactionID)
	}
	if len(m.ClientHWAddr) < len(mac) || !bytes.Equal(m.ClientHWAddr[:len(mac)], mac) {
		return r, fmt.Errorf("dhcpprobe: reply for another client (%s)", m.ClientHWAddr)
	}
	switch mt := m.MessageType(); mt {
	case dhcpv4.MessageTypeOffer, dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak:
		r.MessageType = map[dhcpv4.MessageType]string{dhcpv4.MessageTypeOffer: "OFFER", dhcpv4.MessageTypeAck: "ACK", dhcpv4.MessageTypeNak: "NAK"}[mt]
	default:
		return r, fmt.Errorf("dhcpprobe: message type %s is not an answer", mt)
	}
	for _, o := range []struct {
		code dhcpv4.OptionCode
		dst  *[]netip.Addr
	}{{dhcpv4.OptionDomainNameServer, &r.DNS}, {dhcpv4.OptionRouter, &r.Routers}} {
		raw := m.Options.Get(o.code)
		if len(raw)%4 != 0 {
			return r, fmt.Errorf("dhcpprobe: option %d is %d bytes, not whole IPv4 addresses", o.code.Code(), len(raw))
		}
		*o.dst = ipsOf(raw)
	}
	if raw := m.Options.Get(dhcpv4.OptionServerIdentifier); raw != nil {
		if len(raw) != 4 {
			return r, fmt.Errorf("dhcpprobe: option 54 is %d bytes", len(raw))
		}
		r.ServerID = netip.AddrFrom4([4]byte(raw))
	}
	if raw := m.Options.Get(dhcpv4.OptionIPAddressLeaseTime); len(raw) == 4 {
		r.LeaseTime = time.Duration(uint32(raw[0])<<24|uint32(raw[1])<<16|uint32(raw[2])<<8|uint32(raw[3])) * time.Second
	}
	r.DomainName = string(bytes.TrimRight(m.Options.Get(dhcpv4.OptionDomainName), "\x00"))
	if ip, ok := netip.AddrFromSlice(m.YourIPAddr); ok && !ip.Unmap().IsUnspecified() {
		r.YourAddr = ip.Unmap()
	}
	return r, nil
}

// ProbeV4 asks the link's DHCP servers for their options: INFORM when
// p.IPv4 is set, else DISCOVER (never followed by REQUEST).
func (p *Prober) ProbeV4(ctx context.Context) (*V4Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := p.checkDest(limitedBroadcast); err != nil {
		return nil, err
	}
	xid, err := randomXID()
	if err != nil {
		return nil, err
	}
	res := &V4Result{Method: "discover"}
	var pkt []byte
	window := p.window(DiscoverWindow)
	if p.IPv4.IsValid() {
		res.Method, window = "inform", p.window(InformWindow)
		pkt, err = BuildInform(p.MAC, p.IPv4, xid)
	} else {
		pkt, err = BuildDiscover(p.MAC, xid)
	}
	if err != nil {
		return nil, err
	}
	open := p.OpenV4
	if open == nil {
		open = openV4
	}
	conn, err := open(ctx, p.Interface)
	if err != nil {
		return nil, openErr("DHCPv4 socket on "+p.Interface, err)
	}
	defer conn.Close()
	dst := &net.UDPAddr{IP: net.IPv4bcast, Port: 67}
	send := func() error {
		_, err := conn.WriteTo(pkt, dst)
		return err
	}
	replies, ignored, err := collect(ctx, conn, window, send, func(b []byte, from net.Addr) (V4Reply, error) {
		r, err := ParseV4Reply(b, xid, p.MAC)
		r.From = addrOf(from)
		return r, err
	})
	res.Replies, res.Ignored = replies, ignored
	if err != nil {
		return res, err
	}
	return res, nil
}

func randomXID() (dhcpv4.TransactionID, error) {
	xid, err := dhcpv4.GenerateTransactionID()
	if err != nil {
		return xid, fmt.Errorf("dhcpprobe: transaction ID: %w", err)
	}
	return xid, nil
}
