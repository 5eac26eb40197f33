// SPDX-License-Identifier: Apache-2.0

package dhcpprobe

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

var (
	testMAC   = net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x53, 0x01}
	routerIP  = net.IPv4(192, 0, 2, 1)
	rogueDHCP = net.IPv4(192, 0, 2, 66)
)

func prober(f *fakeConn) *Prober {
	return &Prober{
		Dialer:    netx.NewDialer(target.NewScope(netip.MustParsePrefix("192.0.2.1/32")), netx.Options{}),
		Interface: "eth0", MAC: testMAC, Window: 400 * time.Millisecond,
		OpenV4: f.open, OpenRA: f.open, OpenV6: f.open,
	}
}

// dhcpServer answers like a DHCP server at ip handing out dns.
func dhcpServer(ip net.IP, dns ...string) func([]byte, net.Addr) []packet {
	return func(b []byte, _ net.Addr) []packet {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return nil
		}
		mt := dhcpv4.MessageTypeAck
		if req.MessageType() == dhcpv4.MessageTypeDiscover {
			mt = dhcpv4.MessageTypeOffer
		}
		var ips []net.IP
		for _, d := range dns {
			ips = append(ips, net.ParseIP(d))
		}
		rep, _ := dhcpv4.NewReplyFromRequest(req, dhcpv4.WithMessageType(mt), dhcpv4.WithOption(dhcpv4.OptDNS(ips...)),
			dhcpv4.WithOption(dhcpv4.OptRouter(routerIP)), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ip)))
		if mt == dhcpv4.MessageTypeOffer {
			rep.YourIPAddr = net.IPv4(192, 0, 2, 123)
		}
		return []packet{{b: rep.ToBytes(), from: &net.UDPAddr{IP: ip, Port: 67}}}
	}
}

func both(fs ...func([]byte, net.Addr) []packet) func([]byte, net.Addr) []packet {
	return func(b []byte, dst net.Addr) []packet {
		var out []packet
		for _, f := range fs {
			out = append(out, f(b, dst)...)
		}
		return out
	}
}

func delayed(d time.Duration, f func([]byte, net.Addr) []packet) func([]byte, net.Addr) []packet {
	return func(b []byte, dst net.Addr) []packet {
		ps := f(b, dst)
		for i := range ps {
			ps[i].delay = d
		}
		return ps
	}
}

func TestProbeV4(t *testing.T) {
	tests := []struct {
		name        string
		ipv4        netip.Addr
		respond     func([]byte, net.Addr) []packet
		wantMethod  string
		wantReplies []V4Reply
		wantIgnored int
		wantSentMT  []dhcpv4.MessageType
		wantSends   int
	}{
		{
			name: "inform_primary_then_secondary", ipv4: netip.MustParseAddr("192.0.2.10"),
			respond:    dhcpServer(routerIP, "203.0.113.66", "198.51.100.53"),
			wantMethod: "inform",
			wantReplies: []V4Reply{{From: netip.MustParseAddr("192.0.2.1"), ServerID: netip.MustParseAddr("192.0.2.1"), MessageType: "ACK",
				DNS: []netip.Addr{netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.53")}, Routers: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
			wantSentMT: []dhcpv4.MessageType{dhcpv4.MessageTypeInform},
		},
		{
			name: "discover_never_requests", respond: dhcpServer(routerIP, "192.0.2.1"),
			wantMethod: "discover",
			wantReplies: []V4Reply{{From: netip.MustParseAddr("192.0.2.1"), ServerID: netip.MustParseAddr("192.0.2.1"), MessageType: "OFFER",
				DNS: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Routers: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, YourAddr: netip.MustParseAddr("192.0.2.123")}},
			wantSentMT: []dhcpv4.MessageType{dhcpv4.MessageTypeDiscover},
		},
		{
			name: "second_dhcp_server_on_the_link", ipv4: netip.MustParseAddr("192.0.2.10"),
			respond:    both(dhcpServer(routerIP, "192.0.2.1"), delayed(30*time.Millisecond, dhcpServer(rogueDHCP, "203.0.113.66"))),
			wantMethod: "inform",
			wantReplies: []V4Reply{
				{From: netip.MustParseAddr("192.0.2.1"), ServerID: netip.MustParseAddr("192.0.2.1"), MessageType: "ACK", DNS: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Routers: []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
				{From: netip.MustParseAddr("192.0.2.66"), ServerID: netip.MustParseAddr("192.0.2.66"), MessageType: "ACK", DNS: []netip.Addr{netip.MustParseAddr("203.0.113.66")}, Routers: []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
			},
			wantSentMT: []dhcpv4.MessageType{dhcpv4.MessageTypeInform},
		},
		{
			name: "junk_other_client_and_wrong_xid_ignored", ipv4: netip.MustParseAddr("192.0.2.10"),
			respond: func(b []byte, dst net.Addr) []packet {
				good := dhcpServer(routerIP, "192.0.2.1")(b, dst)[0]
				other, _ := dhcpv4.FromBytes(good.b)
				other.ClientHWAddr = net.HardwareAddr{2, 0, 0, 0, 0, 9}
				xid, _ := dhcpv4.FromBytes(good.b)
				xid.TransactionID[0]++
				from := &net.UDPAddr{IP: routerIP, Port: 67}
				return []packet{{b: []byte("garbage"), from: from}, {b: other.ToBytes(), from: from}, {b: xid.ToBytes(), from: from}, {b: good.b, from: from, delay: 50 * time.Millisecond}}
			},
			wantMethod: "inform",
			wantReplies: []V4Reply{{From: netip.MustParseAddr("192.0.2.1"), ServerID: netip.MustParseAddr("192.0.2.1"), MessageType: "ACK",
				DNS: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, Routers: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
			wantIgnored: 3,
			wantSentMT:  []dhcpv4.MessageType{dhcpv4.MessageTypeInform},
		},
		{
			name: "no_server_retransmits_once", ipv4: netip.MustParseAddr("192.0.2.10"),
			wantMethod: "inform",
			wantSentMT: []dhcpv4.MessageType{dhcpv4.MessageTypeInform},
			wantSends:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeConn(tt.respond)
			p := prober(f)
			p.IPv4 = tt.ipv4
			res, err := p.ProbeV4(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != tt.wantMethod {
				t.Errorf("method %q, want %q", res.Method, tt.wantMethod)
			}
			if diff := cmp.Diff(tt.wantReplies, res.Replies, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			if len(res.Ignored) != tt.wantIgnored {
				t.Errorf("ignored %q, want %d", res.Ignored, tt.wantIgnored)
			}
			if tt.wantSends == 0 {
				tt.wantSends = 1
			}
			if n := len(f.sentPackets()); n != tt.wantSends {
				t.Errorf("sent %d packets, want %d", n, tt.wantSends)
			}
			for _, b := range f.sentPackets() {
				m, err := dhcpv4.FromBytes(b)
				if err != nil {
					t.Fatal(err)
				}
				if mt := m.MessageType(); mt != tt.wantSentMT[0] {
					t.Errorf("sent a %s: the probe must never send anything but %s", mt, tt.wantSentMT[0])
				}
				if mt := m.MessageType(); mt == dhcpv4.MessageTypeDiscover && !m.IsBroadcast() {
					t.Error("DISCOVER without the broadcast flag: the host has no address to receive a unicast OFFER on")
				}
				if tt.ipv4.IsValid() && !m.ClientIPAddr.Equal(tt.ipv4.AsSlice()) {
					t.Errorf("INFORM ciaddr %v", m.ClientIPAddr)
				}
			}
		})
	}
}

func TestProbeV4OpenErrors(t *testing.T) {
	p := prober(newFakeConn(nil))
	p.OpenV4 = func(context.Context, string) (PacketConn, error) { return nil, syscall.EPERM }
	if _, err := p.ProbeV4(t.Context()); !errors.Is(err, ErrPermission) {
		t.Errorf("error %v, want ErrPermission", err)
	}
	p.MAC = nil
	if _, err := p.ProbeV4(t.Context()); err == nil || !strings.Contains(err.Error(), "MAC") {
		t.Errorf("error %v, want a missing-MAC error", err)
	}
}

func TestProbeV4HonoursContext(t *testing.T) {
	p := prober(newFakeConn(nil))
	p.Window = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.ProbeV4(ctx)
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v after the context ended", took)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v", err)
	}
}

func TestCheckDest(t *testing.T) {
	p := prober(newFakeConn(nil))
	tests := []struct {
		addr string
		ok   bool
	}{
		{"255.255.255.255", true}, {"ff02::2", true}, {"ff02::1:2", true},
		{"192.0.2.1", true}, {"192.0.2.66", false}, {"ff02::1", false}, {"203.0.113.66", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := p.checkDest(netip.MustParseAddr(tt.addr))
			if (err == nil) != tt.ok {
				t.Errorf("checkDest(%s) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}

// raSample is the RA of ParseRA's doc comment plus a source link-layer
// address.
func raSample(t testing.TB) []byte {
	b, err := hex.DecodeString("86000000404007080000000000000000" +
		"19030000000002582001" + "0db8000000000000000000000053" +
		"0101025ffe000001")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRA(t *testing.T) {
	ra, err := ParseRA(raSample(t))
	if err != nil {
		t.Fatal(err)
	}
	want := RA{RouterLifetime: 1800 * time.Second, Other: true,
		RDNSS:     []RDNSS{{Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::53")}, Lifetime: 600 * time.Second}},
		SourceMAC: net.HardwareAddr{2, 0x5f, 0xfe, 0, 0, 1}}
	if diff := cmp.Diff(want, ra, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("RA (-want +got):\n%s", diff)
	}
	bad := raSample(t)
	bad[17] = 0 // RDNSS length 0
	if _, err := ParseRA(bad); err == nil {
		t.Error("length-0 option accepted")
	}
}

func TestProbeRA(t *testing.T) {
	f := newFakeConn(func(b []byte, dst net.Addr) []packet {
		if b[0] != icmpRouterSolicitation {
			return nil
		}
		return []packet{
			{b: raSample(t), from: &net.IPAddr{IP: net.ParseIP("2001:db8::1")}},
			{b: raSample(t), from: &net.IPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}},
		}
	})
	res, err := prober(f).ProbeRA(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RAs) != 1 || res.RAs[0].From != netip.MustParseAddr("fe80::1%eth0") || len(res.Ignored) != 1 {
		t.Fatalf("RAs %+v ignored %q: want the link-local one only", res.RAs, res.Ignored)
	}
	if got := res.RAs[0].DNS(); len(got) != 1 || got[0] != netip.MustParseAddr("2001:db8::53") {
		t.Errorf("DNS %v", got)
	}
	if dst := f.dsts[0].(*net.IPAddr); !dst.IP.Equal(net.ParseIP("ff02::2")) {
		t.Errorf("RS sent to %v, want ff02::2", dst)
	}
}

func TestProbeDHCPv6(t *testing.T) {
	f := newFakeConn(func(b []byte, _ net.Addr) []packet {
		req, err := dhcpv6.MessageFromBytes(b)
		if err != nil || req.MessageType != dhcpv6.MessageTypeInformationRequest {
			return nil
		}
		rep, _ := dhcpv6.NewReplyFromMessage(req, dhcpv6.WithDNS(net.ParseIP("2001:db8::66"), net.ParseIP("2001:db8::53")),
			dhcpv6.WithServerID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}))
		return []packet{{b: rep.ToBytes(), from: &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 547, Zone: "eth0"}}}
	})
	res, err := prober(f).ProbeDHCPv6(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Replies) != 1 {
		t.Fatalf("replies %+v ignored %q", res.Replies, res.Ignored)
	}
	want := []netip.Addr{netip.MustParseAddr("2001:db8::66"), netip.MustParseAddr("2001:db8::53")}
	if diff := cmp.Diff(want, res.Replies[0].DNS, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("DNS (-want +got):\n%s", diff)
	}
}

// TestProbeRANoRouter: nobody answers the solicitation. The resend comes
// after SetDeadline has moved the write deadline past, and must still go
// out: silence is "no router", not an error.
func TestProbeRANoRouter(t *testing.T) {
	f := newFakeConn(nil)
	res, err := prober(f).ProbeRA(t.Context())
	if err != nil {
		t.Fatalf("error %v, want none (no router is an answer)", err)
	}
	if len(res.RAs) != 0 {
		t.Errorf("RAs %+v", res.RAs)
	}
	if n := len(f.sentPackets()); n != 2 {
		t.Errorf("sent %d solicitations, want 2 (one resend)", n)
	}
}

// TestBudgetProbeWindows: a probe nobody answers listens for its window: the
// router solicitation for SolicitedRAWindow when no router is known on
// the link (RFC 4861: one that did not just advertise answers within
// 0.5 s), else for RAWindow (a router may delay its answer by up to 3 s
// after a multicast advertisement); the DHCPv6 information-request for
// DHCPv6Window. Each resends once, at half its window. A timing test:
// skipped under -race (go test -run Budget runs it without).
func TestBudgetProbeWindows(t *testing.T) {
	if raceEnabled {
		t.Skip("timing: not under -race")
	}
	tests := []struct {
		name          string
		noRouterKnown bool
		probe         func(p *Prober, ctx context.Context) error
		min, max      time.Duration
	}{
		{name: "ra_no_router_known", noRouterKnown: true, min: SolicitedRAWindow, max: SolicitedRAWindow + 400*time.Millisecond,
			probe: func(p *Prober, ctx context.Context) error { _, err := p.ProbeRA(ctx); return err }},
		// Bounded by the context at 1.2 s: still listening past the
		// short window.
		{name: "ra_router_known", min: 1200 * time.Millisecond, max: 2 * time.Second,
			probe: func(p *Prober, ctx context.Context) error { _, err := p.ProbeRA(ctx); return err }},
		{name: "dhcpv6", min: DHCPv6Window, max: DHCPv6Window + 400*time.Millisecond,
			probe: func(p *Prober, ctx context.Context) error { _, err := p.ProbeDHCPv6(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeConn(nil)
			p := prober(f)
			p.Window, p.NoRouterKnown = 0, tt.noRouterKnown
			ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.probe(p, ctx)
			took := time.Since(start)
			if took < tt.min || took > tt.max {
				t.Errorf("listened %v (err %v), want between %v and %v", took, err, tt.min, tt.max)
			}
			if n := len(f.sentPackets()); n != 2 {
				t.Errorf("sent %d, want 2 (one resend)", n)
			}
		})
	}
}

// TestTentativeAddress: right after a link comes up, its IPv6 link-local
// address is tentative and the kernel refuses to send from it or bind to
// it (EADDRNOTAVAIL); the probes wait for it, within tentativeWait.
func TestTentativeAddress(t *testing.T) {
	eaddr := &net.OpError{Op: "write", Net: "ip6", Err: os.NewSyscallError("sendmsg", syscall.EADDRNOTAVAIL)}
	t.Run("ra", func(t *testing.T) {
		t.Parallel()
		tries := 0
		f := newFakeConn(func(b []byte, dst net.Addr) []packet {
			return []packet{{b: raSample(t), from: &net.IPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}}}
		})
		f.writeErr = func(int) error {
			if tries++; tries <= 3 {
				return eaddr
			}
			return nil
		}
		res, err := prober(f).ProbeRA(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RAs) != 1 {
			t.Errorf("RAs %+v, want the router's once the address is usable", res.RAs)
		}
	})
	t.Run("dhcpv6_bind", func(t *testing.T) {
		t.Parallel()
		f := newFakeConn(nil)
		p := prober(f)
		opens := 0
		p.OpenV6 = func(ctx context.Context, ifname string) (PacketConn, error) {
			if opens++; opens <= 2 {
				return nil, &net.OpError{Op: "listen", Net: "udp6", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}
			}
			return f, nil
		}
		if _, err := p.ProbeDHCPv6(t.Context()); err != nil {
			t.Fatal(err)
		}
		if opens != 3 {
			t.Errorf("opened %d times, want 3", opens)
		}
	})
	t.Run("stays_tentative", func(t *testing.T) {
		t.Parallel()
		f := newFakeConn(nil)
		f.writeErr = func(int) error { return eaddr }
		start := time.Now()
		_, err := prober(f).ProbeRA(t.Context())
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) || !strings.Contains(err.Error(), "duplicate address detection") {
			t.Errorf("error %v, want EADDRNOTAVAIL explained", err)
		}
		if took := time.Since(start); took > tentativeWait+time.Second {
			t.Errorf("took %v, want about %v", took, tentativeWait)
		}
	})
	t.Run("context", func(t *testing.T) {
		t.Parallel()
		f := newFakeConn(nil)
		f.writeErr = func(int) error { return eaddr }
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := prober(f).ProbeRA(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the context's", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("took %v after the context ended", took)
		}
	})
}
