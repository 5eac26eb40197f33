// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// The parsers read packets anyone on the link can send: none may panic,
// and what they accept must be well-formed.

func FuzzParseV4Reply(f *testing.F) {
	xid := dhcpv4.TransactionID{1, 2, 3, 4}
	req, _ := dhcpv4.NewInform(testMAC, net.IPv4(192, 0, 2, 10), dhcpv4.WithTransactionID(xid))
	rep, _ := dhcpv4.NewReplyFromRequest(req, dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(203, 0, 113, 66), net.IPv4(198, 51, 100, 53))), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(routerIP)))
	f.Add(rep.ToBytes())
	f.Add(req.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseV4Reply(b, xid, testMAC)
		if err != nil {
			return
		}
		for _, a := range append(r.DNS, r.Routers...) {
			if !a.Is4() {
				t.Fatalf("non-IPv4 address %v accepted", a)
			}
		}
		if r.MessageType == "" {
			t.Fatal("accepted without a message type")
		}
	})
}

func FuzzParseRA(f *testing.F) {
	f.Add(raSample(f))
	f.Add(BuildRS(testMAC))
	f.Fuzz(func(t *testing.T, b []byte) {
		ra, err := ParseRA(b)
		if err != nil {
			return
		}
		for _, a := range ra.DNS() {
			if !a.Is6() {
				t.Fatalf("non-IPv6 RDNSS %v", a)
			}
		}
	})
}

func FuzzParseV6Reply(f *testing.F) {
	req, _ := BuildInformationRequest(testMAC)
	rep, _ := dhcpv6.NewReplyFromMessage(req, dhcpv6.WithDNS(net.ParseIP("2001:db8::53")))
	f.Add(rep.ToBytes())
	f.Add(req.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseV6Reply(b, req.TransactionID)
		if err != nil {
			return
		}
		for _, a := range r.DNS {
			if !a.IsValid() {
				t.Fatal("invalid DNS address accepted")
			}
		}
	})
}
