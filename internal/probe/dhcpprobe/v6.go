// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// V6Reply is one DHCPv6 server's reply to an information-request.
type V6Reply struct {
	From netip.Addr `json:"from"`
	// ServerID is the server's DUID as text.
	ServerID string `json:"server_id,omitempty"`
	// DNS is option 23 in the server's order.
	DNS        []netip.Addr `json:"dns,omitempty"`
	DomainList []string     `json:"domain_list,omitempty"`
	// Status is a non-success status code, if the server sent one.
	Status string `json:"status,omitempty"`
}

// V6Result is what the DHCPv6 probe saw.
type V6Result struct {
	Replies []V6Reply `json:"replies"`
	Ignored []string  `json:"ignored,omitempty"`
}

// BuildInformationRequest returns a DHCPv6 Information-request (RFC 8415
// §18.2.6) asking for DNS servers and the search list; it asks for no
// address, so no lease exists.
func BuildInformationRequest(mac net.HardwareAddr) (*dhcpv6.Message, error) {
	m, err := dhcpv6.NewMessage(
		dhcpv6.WithClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}),
		dhcpv6.WithRequestedOptions(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionDomainSearchList),
		dhcpv6.WithOption(dhcpv6.OptElapsedTime(0)),
	)
	if err != nil {
		return nil, fmt.Errorf("dhcpprobe: build information-request: %w", err)
	}
	m.MessageType = dhcpv6.MessageTypeInformationRequest
	return m, nil
}

// ParseV6Reply reads a packet received on UDP 546 as the Reply to the
// request with transaction ID xid.
func ParseV6Reply(b []byte, xid dhcpv6.TransactionID) (V6Reply, error) {
	var r V6Reply
	d, err := dhcpv6.FromBytes(b)
	if err != nil {
		return r, fmt.Errorf("dhcpprobe: not a DHCPv6 message: %w", err)
	}
	m, ok := d.(*dhcpv6.Message)
	if !ok {
		return r, fmt.Errorf("dhcpprobe: DHCPv6 relay message")
	}
	if m.MessageType != dhcpv6.MessageTypeReply {
		return r, fmt.Errorf("dhcpprobe: DHCPv6 %s is not a reply", m.MessageType)
	}
	if m.TransactionID != xid {
		return r, fmt.Errorf("dhcpprobe: DHCPv6 transaction %s is not ours", m.TransactionID)
	}
	for _, ip := range m.Options.DNS() {
		if a, ok := netip.AddrFromSlice(ip); ok {
			r.DNS = append(r.DNS, a)
		}
	}
	if sid := m.Options.ServerID(); sid != nil {
		r.ServerID = sid.String()
	}
	if l := m.Options.DomainSearchList(); l != nil {
		r.DomainList = l.Labels
	}
	if st := m.Options.Status(); st != nil && st.StatusCode != iana.StatusSuccess {
		r.Status = st.String()
	}
	return r, nil
}

// ProbeDHCPv6 multicasts an information-request to ff02::1:2 and collects
// the replies.
func (p *Prober) ProbeDHCPv6(ctx context.Context) (*V6Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := p.checkDest(allDHCPAgents); err != nil {
		return nil, err
	}
	m, err := BuildInformationRequest(p.MAC)
	if err != nil {
		return nil, err
	}
	open := p.OpenV6
	if open == nil {
		open = openV6
	}
	// The socket binds to the link-local address, which cannot be done
	// while it is tentative.
	var conn PacketConn
	err = whenUsable(ctx, func() (err error) {
		conn, err = open(ctx, p.Interface)
		return err
	})
	if err != nil {
		return nil, openErr("DHCPv6 socket on "+p.Interface, err)
	}
	defer conn.Close()
	pkt := m.ToBytes()
	dst := &net.UDPAddr{IP: allDHCPAgents.AsSlice(), Port: 547, Zone: p.Interface}
	send := func() error {
		_, err := conn.WriteTo(pkt, dst)
		return err
	}
	replies, ignored, err := collect(ctx, conn, p.window(DHCPv6Window), send, func(b []byte, from net.Addr) (V6Reply, error) {
		r, err := ParseV6Reply(b, m.TransactionID)
		r.From = addrOf(from)
		return r, err
	})
	return &V6Result{Replies: replies, Ignored: ignored}, err
}
