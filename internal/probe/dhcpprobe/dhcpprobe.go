// SPDX-License-Identifier: Apache-2.0

// Package dhcpprobe asks the local link which DNS servers it hands out:
// DHCPv4 option 6 (with option 3 and 54), IPv6 router advertisements with
// RDNSS (RFC 8106) after a router solicitation, and DHCPv6 option 23 after
// an information-request. It measures; it does not judge.
//
// # Why this package does not dial through netx
//
// Every other probe reaches the network only through netx.Dialer. DHCP and
// neighbour discovery cannot: they are link-local broadcast and multicast
// from fixed privileged ports (UDP 68, 546) or raw ICMPv6, before the host
// may even have an address, and a TCP/UDP dialer to "an address" cannot
// express them. So this package opens its own sockets (Linux: AF_PACKET
// through nclient4, raw ICMPv6, UDP 546; root or CAP_NET_RAW needed) and
// keeps the scope contract another way: every destination passes checkDest
// — the limited broadcast 255.255.255.255 and the link-scoped groups
// ff02::2 (all routers) and ff02::1:2 (all DHCP agents) are allowed
// because they cannot leave the link (RFC 919, RFC 4291 §2.7), and any
// other (unicast) destination must pass Dialer.Check. Replies are recorded
// whoever sends them — a second DHCP server on the LAN is exactly what a
// user must hear about — but nothing is ever sent to a replier.
//
// # Leases
//
// The DHCPv4 probe never takes or disturbs a lease: with an address on the
// interface it sends DHCPINFORM (RFC 2131 §3.4: configuration only, no
// lease); without one it sends a DISCOVER and reads the OFFER, and never
// sends the REQUEST that would bind it. Both use the interface's own MAC,
// so a server that already holds a lease for this host offers that lease
// rather than reserving another address.
//
// Every exchange is bounded by the caller's context and by the window
// constants below; packets that do not parse are counted with the reason,
// never trusted.
package dhcpprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// Windows: how long to listen for replies. Each probe stops listening
// moreServersGrace after its first valid reply, so a window is waited in
// full only when nothing answers.
const (
	// InformWindow bounds a DHCPINFORM exchange: servers answer INFORM at
	// once (no address to check), so 1.5 s covers a retransmission.
	InformWindow = 1500 * time.Millisecond
	// DiscoverWindow bounds a DISCOVER: dnsmasq pings the address it is
	// about to offer and waits ~3 s for silence before sending the OFFER
	// (unless configured with no-ping). INFORM, sent whenever the host
	// has an address, is answered without that wait.
	DiscoverWindow = 4 * time.Second
	// RAWindow bounds a router solicitation to a router known to be
	// there: it delays a solicited advertisement by up to 0.5 s, and by
	// up to 3 s after its last multicast one (RFC 4861 §6.2.6).
	RAWindow = 4 * time.Second
	// SolicitedRAWindow bounds a router solicitation when no router is
	// known to advertise on the link (see Prober.NoRouterKnown): a
	// router that did not advertise in the last 3 s answers within
	// MAX_RA_DELAY_TIME, 0.5 s (RFC 4861 §6.2.6), plus the link's delay.
	SolicitedRAWindow = 600 * time.Millisecond
	// DHCPv6Window bounds an information-request: a server replies at
	// once (RFC 8415 §18.3.6 sets no delay), so 0.6 s covers a LAN's
	// round trip and one retransmission at half of it. Only the client
	// delays its first Information-request (INF_MAX_DELAY), which a
	// probe need not do.
	DHCPv6Window = 600 * time.Millisecond
	// moreServersGrace is how long to keep listening after the first
	// valid reply: a second server on the same link answers within
	// milliseconds of the first; waiting longer only slows the run.
	moreServersGrace = 300 * time.Millisecond
	// retransmitAfter resends the request once, for a lost broadcast
	// (or at half the window, when that is shorter).
	retransmitAfter = 1 * time.Second
	// tentativeWait bounds how long the first send (and the DHCPv6
	// socket's bind) waits for the interface's address to become
	// usable. Right after a link comes up its IPv6 link-local address is
	// tentative while duplicate address detection runs — one second,
	// after a random delay of up to one more (RFC 4862 §5.4) — and the
	// kernel refuses to send from or bind to it (EADDRNOTAVAIL).
	// Listening windows start after the first send.
	tentativeWait = 2500 * time.Millisecond
	// tentativePoll is how often a tentative address is tried again.
	tentativePoll = 100 * time.Millisecond
)

// maxPacket bounds one received packet: DHCP messages are at most a few
// hundred bytes, RAs fit the link MTU.
const maxPacket = 1 << 16

// ErrPermission reports that the raw or privileged socket could not be
// opened: the probe needs root or CAP_NET_RAW.
var ErrPermission = errors.New("dhcpprobe: needs root (CAP_NET_RAW, CAP_NET_BIND_SERVICE) to send DHCP and router solicitations")

// ErrUnsupported reports an OS without the raw sockets this package uses.
var ErrUnsupported = errors.New("dhcpprobe: not supported on this operating system")

// PacketConn is what the probe sends and receives on: the subset of
// net.PacketConn it uses. ReadFrom returns the DHCP or ICMPv6 payload.
type PacketConn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	SetDeadline(t time.Time) error
	Close() error
}

// OpenFunc opens the socket of one probe on the named interface.
type OpenFunc func(ctx context.Context, ifname string) (PacketConn, error)

// Prober probes one interface. Interface and MAC are required; Dialer is
// required and holds the scope unicast destinations are checked against.
type Prober struct {
	Dialer    *netx.Dialer
	Interface string
	MAC       net.HardwareAddr
	// IPv4 is the interface's address; valid means DHCPINFORM from it,
	// invalid means DISCOVER without REQUEST.
	IPv4 netip.Addr
	// OpenV4, OpenRA and OpenV6 open the sockets; nil means the
	// platform's (raw sockets on Linux, ErrUnsupported elsewhere).
	OpenV4, OpenRA, OpenV6 OpenFunc
	// NoRouterKnown says that no IPv6 router is known to advertise on
	// the link (the kernel, listening to advertisements, learned none:
	// hostnet.IPv6Link): the router solicitation then listens for
	// SolicitedRAWindow instead of RAWindow.
	NoRouterKnown bool
	// Window overrides every listening window when non-zero (tests).
	Window time.Duration
}

// Result is what the three probes saw; each field is nil when its probe
// failed, and the matching error says why.
type Result struct {
	V4    *V4Result `json:"dhcpv4,omitempty"`
	V4Err error     `json:"-"`
	RA    *RAResult `json:"ra,omitempty"`
	RAErr error     `json:"-"`
	V6    *V6Result `json:"dhcpv6,omitempty"`
	V6Err error     `json:"-"`
}

// Probe runs DHCPv4, and — when v6 is true — the router solicitation and
// the DHCPv6 information-request, in parallel.
func (p *Prober) Probe(ctx context.Context, v6 bool) Result {
	var r Result
	var wg sync.WaitGroup
	wg.Go(func() { r.V4, r.V4Err = p.ProbeV4(ctx) })
	if v6 {
		wg.Go(func() { r.RA, r.RAErr = p.ProbeRA(ctx) })
		wg.Go(func() { r.V6, r.V6Err = p.ProbeDHCPv6(ctx) })
	}
	wg.Wait()
	return r
}

func (p *Prober) validate() error {
	switch {
	case p.Dialer == nil:
		return errors.New("dhcpprobe: Prober.Dialer is required")
	case p.Interface == "":
		return errors.New("dhcpprobe: Prober.Interface is required")
	case len(p.MAC) < 6:
		return fmt.Errorf("dhcpprobe: interface %s has no Ethernet MAC address", p.Interface)
	}
	return nil
}

func (p *Prober) window(def time.Duration) time.Duration {
	switch {
	case p.Window > 0:
		return p.Window
	case p.NoRouterKnown && def == RAWindow:
		return SolicitedRAWindow
	}
	return def
}

// Link-scoped destinations: they cannot leave the link.
var (
	limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	allRouters       = netip.MustParseAddr("ff02::2")
	allDHCPAgents    = netip.MustParseAddr("ff02::1:2")
)

// checkDest allows the link-scoped destinations and sends every other one
// through the dialer's scope check.
func (p *Prober) checkDest(a netip.Addr) error {
	switch a.WithZone("") {
	case limitedBroadcast, allRouters, allDHCPAgents:
		return nil
	}
	return p.Dialer.Check(a)
}

// openErr names a permission problem plainly.
func openErr(what string, err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w: %s: %v", ErrPermission, what, err)
	}
	return fmt.Errorf("dhcpprobe: %s: %w", what, err)
}

// whenUsable runs f, and runs it again every tentativePoll for up to
// tentativeWait while it fails because the interface's address is not
// usable yet (still tentative: see tentativeWait).
func whenUsable(ctx context.Context, f func() error) error {
	give := time.Now().Add(tentativeWait)
	for {
		err := f()
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return err
		}
		if !time.Now().Before(give) {
			return fmt.Errorf("%w (the interface's address stayed unusable for %v: duplicate address detection has not finished, or the address is gone)", err, tentativeWait)
		}
		t := time.NewTimer(tentativePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (waiting for the interface's address to become usable: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// collect sends with send (and once more after retransmitAfter), then
// reads until window ends, or moreServersGrace after the first valid
// reply. parse returns an error for packets to skip; their reasons are
// returned as ignored. The window starts with the first successful send,
// which waits for a tentative address (whenUsable).
func collect[T any](ctx context.Context, conn PacketConn, window time.Duration, send func() error,
	parse func(b []byte, from net.Addr) (T, error)) (got []T, ignored []string, err error) {
	if err := whenUsable(ctx, send); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	end := start.Add(window)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	retransmit := start.Add(min(retransmitAfter, window/2))
	buf := make([]byte, maxPacket)
	for {
		dl := end
		if !retransmit.IsZero() && retransmit.Before(dl) {
			dl = retransmit
		}
		conn.SetDeadline(dl)
		if ctx.Err() != nil {
			return got, ignored, ctx.Err()
		}
		n, from, rerr := conn.ReadFrom(buf)
		if rerr != nil {
			var ne net.Error
			if !errors.As(rerr, &ne) || !ne.Timeout() {
				return got, ignored, fmt.Errorf("dhcpprobe: read: %w", rerr)
			}
			if ctx.Err() != nil {
				return got, ignored, ctx.Err()
			}
			now := time.Now()
			if !now.Before(end) {
				return got, ignored, nil
			}
			if !retransmit.IsZero() && !now.Before(retransmit) && len(got) == 0 {
				retransmit = time.Time{}
				// SetDeadline also set the write deadline, which has
				// just passed: move it, or the resend fails with a
				// timeout.
				conn.SetDeadline(end)
				if ctx.Err() != nil {
					return got, ignored, ctx.Err()
				}
				if err := send(); err != nil {
					return got, ignored, err
				}
				continue
			}
			retransmit = time.Time{}
			continue
		}
		v, perr := parse(buf[:n], from)
		if perr != nil {
			if len(ignored) < 32 {
				ignored = append(ignored, perr.Error())
			}
			continue
		}
		if len(got) == 0 {
			if g := time.Now().Add(moreServersGrace); g.Before(end) {
				end = g
			}
			retransmit = time.Time{}
		}
		got = append(got, v)
	}
}

// addrOf returns the IP of a net.Addr from a socket.
func addrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort().Addr().Unmap()
	case *net.IPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap().WithZone(v.Zone)
	}
	return netip.Addr{}
}

func ipsOf(b []byte) []netip.Addr {
	var out []netip.Addr
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, netip.AddrFrom4([4]byte(b[i:i+4])))
	}
	return out
}
