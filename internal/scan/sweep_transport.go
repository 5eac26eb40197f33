// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// answer is one reply the sweep saw: address a answered probe i, open or
// (a TCP reset) closed.
type answer struct {
	addr  netip.Addr
	probe int
	open  bool
}

// transport sends the sweep's probes and reports the answers through the
// report function it was built with, from its own goroutines.
type transport interface {
	// send sends probe i to a. It may block (a connect sweep's bound on
	// outstanding connections); it returns ctx's error when ctx ends.
	send(ctx context.Context, a netip.Addr, i int) error
	// close stops the transport; no answer is reported after it returns.
	close()
}

// Sweep source ports: the SYN sweep sends from one port above Linux's
// default ephemeral range (32768-60999), so that its SYN-ACKs never meet
// a connection of this host's own; the kernel resets them (no socket),
// which closes the peer's half-open connection as nmap -sS does.
const (
	synSourcePortMin = 61000
	synSourcePortMax = 65535
)

// connectTimeout bounds a connect sweep's handshake: below Linux's initial
// SYN retransmission timeout (1 s), so that each probe is one SYN and the
// packet rate is the rate asked for. A device across the Internet answers
// a SYN well within it.
const connectTimeout = 900 * time.Millisecond

// maxConnectOutstanding bounds a connect sweep's sockets at once (each a
// file descriptor for up to connectTimeout): at this bound the sweep
// slows down rather than exhaust descriptors. At 4,000 probes a second
// and mostly silent targets, about 3,600 are outstanding.
const maxConnectOutstanding = 4096

// mux sends TCP probes through tcp and UDP probes through udp.
type mux struct {
	probes []sweepProbe
	tcp    transport
	udp    *udpTransport
}

func (m *mux) send(ctx context.Context, a netip.Addr, i int) error {
	if m.probes[i].proto == "udp" {
		return m.udp.send(ctx, a, i)
	}
	return m.tcp.send(ctx, a, i)
}

func (m *mux) close() {
	m.tcp.close()
	m.udp.close()
}

// openTransport opens the sockets of mode (SweepSYN or SweepConnect; for
// SweepAuto, SYN when raw sockets open, else connect) for the address
// families of the targets, and returns the transport and the mode used.
func openTransport(ctx context.Context, mode SweepMode, d *netx.Dialer, probes []sweepProbe, v4, v6 bool, report func(answer)) (transport, SweepMode, error) {
	udp, err := openUDP(d, probes, v4, v6, report)
	if err != nil {
		return nil, "", err
	}
	m := &mux{probes: probes, udp: udp}
	if mode == SweepSYN || mode == SweepAuto {
		syn, err := openSYN(d, probes, v4, v6, report)
		switch {
		case err == nil:
			m.tcp = syn
			return m, SweepSYN, nil
		case mode == SweepSYN || !errors.Is(err, netx.ErrRawUnavailable):
			udp.close()
			return nil, "", err
		}
	}
	m.tcp = &connectTransport{ctx: ctx, d: d, probes: probes, report: report, sem: make(chan struct{}, maxConnectOutstanding)}
	return m, SweepConnect, nil
}

// synTransport sends SYNs whose sequence number is a keyed hash of the
// destination (a stateless cookie, as masscan and zmap do): a reply is
// ours when it acknowledges the cookie, and nothing is kept per probe.
type synTransport struct {
	conns  []*netx.SYNConn
	v4, v6 *netx.SYNConn
	sport  uint16
	seed   maphash.Seed
	byPort map[uint16]int // TCP port → probe index
	probes []sweepProbe
	report func(answer)
	wg     sync.WaitGroup
}

func openSYN(d *netx.Dialer, probes []sweepProbe, v4, v6 bool, report func(answer)) (*synTransport, error) {
	t := &synTransport{seed: maphash.MakeSeed(), byPort: map[uint16]int{}, probes: probes, report: report,
		sport: uint16(synSourcePortMin + rand.IntN(synSourcePortMax-synSourcePortMin+1))}
	for i, p := range probes {
		if p.proto == "tcp" {
			t.byPort[p.port] = i
		}
	}
	for _, fam := range []struct {
		want bool
		net  string
		conn **netx.SYNConn
	}{{v4, "ip4", &t.v4}, {v6, "ip6", &t.v6}} {
		if !fam.want {
			continue
		}
		c, err := d.ListenSYN(fam.net)
		if err == nil {
			if err = c.OnlyPort(t.sport); err != nil {
				c.Close()
			}
		}
		if err != nil {
			for _, c := range t.conns {
				c.Close()
			}
			return nil, err
		}
		*fam.conn = c
		t.conns = append(t.conns, c)
	}
	for _, c := range t.conns {
		t.wg.Go(func() { t.read(c) })
	}
	return t, nil
}

// cookie is the sequence number of the SYN to ap.
func (t *synTransport) cookie(ap netip.AddrPort) uint32 {
	var b [18]byte
	a := ap.Addr().As16()
	copy(b[:], a[:])
	binary.BigEndian.PutUint16(b[16:], ap.Port())
	return uint32(maphash.Bytes(t.seed, b[:]))
}

func (t *synTransport) send(ctx context.Context, a netip.Addr, i int) error {
	c := t.v4
	if a.Is6() {
		c = t.v6
	}
	ap := netip.AddrPortFrom(a, t.probes[i].port)
	return c.SendSYN(ctx, t.sport, ap, t.cookie(ap))
}

func (t *synTransport) read(c *netx.SYNConn) {
	buf := make([]byte, 1500)
	for {
		r, err := c.ReadReply(buf)
		if err != nil {
			return // closed
		}
		i, ok := t.byPort[r.Src.Port()]
		if r.DstPort != t.sport || !ok || r.Ack != t.cookie(r.Src)+1 {
			continue
		}
		switch {
		case r.SYNACK():
			t.report(answer{addr: r.Src.Addr(), probe: i, open: true})
		case r.RST():
			t.report(answer{addr: r.Src.Addr(), probe: i})
		}
	}
}

func (t *synTransport) close() {
	for _, c := range t.conns {
		c.Close()
	}
	t.wg.Wait()
}

// connectTransport completes a TCP handshake per probe through the
// dialer: no privilege needed, but a socket per outstanding probe.
type connectTransport struct {
	ctx    context.Context
	d      *netx.Dialer
	probes []sweepProbe
	report func(answer)
	sem    chan struct{}
	wg     sync.WaitGroup
}

func (t *connectTransport) send(ctx context.Context, a netip.Addr, i int) error {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.wg.Go(func() {
		defer func() { <-t.sem }()
		cctx, cancel := context.WithTimeout(t.ctx, connectTimeout)
		defer cancel()
		c, err := t.d.Dial(cctx, "tcp", netip.AddrPortFrom(a, t.probes[i].port))
		switch {
		case err == nil:
			c.Close()
			t.report(answer{addr: a, probe: i, open: true})
		case netx.Classify(err) == netx.StatusRefused:
			t.report(answer{addr: a, probe: i})
		}
	})
	return nil
}

func (t *connectTransport) close() { t.wg.Wait() }

// maxDatagram bounds one UDP reply read: SSDP and SNMP answers are a few
// hundred bytes; only that an answer came matters.
const maxDatagram = 2048

// udpTransport sends each UDP service's request from a socket of its own
// (per address family), so that a reply on that socket is that service's
// whatever port it comes from (SSDP answers may come from another one).
type udpTransport struct {
	socks  map[udpKey]*netx.PacketConn
	probes []sweepProbe
	report func(answer)
	wg     sync.WaitGroup
}

type udpKey struct {
	v6    bool
	probe int
}

func openUDP(d *netx.Dialer, probes []sweepProbe, v4, v6 bool, report func(answer)) (*udpTransport, error) {
	t := &udpTransport{socks: map[udpKey]*netx.PacketConn{}, probes: probes, report: report}
	for i, p := range probes {
		if p.proto != "udp" {
			continue
		}
		for _, fam := range []struct {
			want bool
			net  string
		}{{v4, "udp4"}, {v6, "udp6"}} {
			if !fam.want {
				continue
			}
			pc, err := d.ListenUDP(context.Background(), fam.net)
			if err != nil {
				t.close()
				return nil, fmt.Errorf("sweep: UDP socket: %w", err)
			}
			t.socks[udpKey{fam.net == "udp6", i}] = pc
			t.wg.Go(func() { t.read(pc, i) })
		}
	}
	return t, nil
}

func (t *udpTransport) send(_ context.Context, a netip.Addr, i int) error {
	pc := t.socks[udpKey{a.Is6(), i}]
	_, err := pc.WriteTo(t.probes[i].payload, netip.AddrPortFrom(a, t.probes[i].port))
	return err
}

func (t *udpTransport) read(pc *netx.PacketConn, i int) {
	buf := make([]byte, maxDatagram)
	for {
		_, src, err := pc.ReadFrom(buf)
		if err != nil {
			return // closed, or the read bound reached
		}
		t.report(answer{addr: src.Addr(), probe: i, open: true})
	}
}

func (t *udpTransport) close() {
	for _, pc := range t.socks {
		pc.Close()
	}
	t.wg.Wait()
}
