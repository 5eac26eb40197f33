// SPDX-License-Identifier: Apache-2.0

// Package netx is the only way routerwatch probes reach the network: a
// scope-enforcing dialer with per-dial deadlines, a rate limit, a
// concurrency limit and size limits on what it reads.
//
// The contract: every TCP, UDP and HTTP exchange of a probe goes through a
// Dialer. A Dialer refuses any address outside its Scope with a
// *ScopeError before a packet leaves, checks again at the socket (so a
// caller that somehow reaches the raw dialer still cannot escape), never
// resolves host names (callers name addresses; DNS is a probe like any
// other), and bounds every read. cmd/routerwatch's bypass test proves no
// package outside netx dials on its own. The scan's SYN sweep, which needs
// a raw socket, gets it here too (Dialer.ListenSYN): every SYN's
// destination is checked like a dial's, and replies from outside the
// scope are dropped.
package netx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/target"
)

// Default limits. They suit one home network; scan and serve set their own.
const (
	// DefaultDialTimeout bounds one TCP handshake: a LAN device answers in
	// milliseconds, a device across the Internet well under a second; past
	// 3 s it is treated as filtered.
	DefaultDialTimeout = 3 * time.Second
	// DefaultMaxRead bounds what one connection may deliver: router pages
	// and UPnP descriptions are kilobytes; a device sending more is broken
	// or hostile (a 50 MB XML bomb must not be buffered).
	DefaultMaxRead = 4 << 20
	// DefaultRate and DefaultBurst limit new connections per second, so a
	// check never floods a small router.
	DefaultRate  = 200
	DefaultBurst = 50
	// DefaultConcurrency bounds open connections at once.
	DefaultConcurrency = 64
)

// ErrOutOfScope is wrapped by every *ScopeError.
var ErrOutOfScope = errors.New("address out of scope")

// ErrNotAddress reports a host name where an address is required.
var ErrNotAddress = errors.New("netx: a literal IP address is required (host names are never resolved implicitly)")

// ErrTooLarge reports a peer that sent more than the read limit.
var ErrTooLarge = errors.New("netx: peer sent more than the read limit")

// ScopeError reports a refused destination.
type ScopeError struct {
	Addr netip.Addr
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("netx: %s is out of scope (add it with --target or --scope if you own it)", e.Addr)
}

// Unwrap makes errors.Is(err, ErrOutOfScope) true.
func (e *ScopeError) Unwrap() error { return ErrOutOfScope }

// Options configures a Dialer. Zero fields take the defaults above.
type Options struct {
	DialTimeout time.Duration
	MaxRead     int64
	Rate        float64 // new connections per second; <0 means unlimited
	Burst       int
	Concurrency int
	// Source, when valid, is the local address to dial from.
	Source netip.Addr
}

// Dialer dials only addresses in its Scope. It is safe for concurrent use.
type Dialer struct {
	scope   target.Scope
	opts    Options
	limiter *rate.Limiter
	sem     chan struct{}
}

// NewDialer returns a Dialer for scope.
func NewDialer(scope target.Scope, opts Options) *Dialer {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.MaxRead <= 0 {
		opts.MaxRead = DefaultMaxRead
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	d := &Dialer{scope: scope, opts: opts, sem: make(chan struct{}, opts.Concurrency)}
	if opts.Rate > 0 {
		d.limiter = rate.NewLimiter(rate.Limit(opts.Rate), opts.Burst)
	}
	return d
}

// Scope returns the dialer's scope.
func (d *Dialer) Scope() target.Scope { return d.scope }

// MaxRead returns the per-connection read limit.
func (d *Dialer) MaxRead() int64 { return d.opts.MaxRead }

// Check returns a *ScopeError when a is outside the scope.
func (d *Dialer) Check(a netip.Addr) error {
	if !a.IsValid() || !d.scope.Contains(a) {
		return &ScopeError{Addr: a}
	}
	return nil
}

// ParseAddrPort reads "192.0.2.1:80" or "[2001:db8::1]:80"; host names
// are refused with ErrNotAddress.
func ParseAddrPort(address string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(address)
	if err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if host, _, e := net.SplitHostPort(address); e == nil {
		if _, e := netip.ParseAddr(host); e != nil {
			return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrNotAddress, host)
		}
	}
	return netip.AddrPort{}, fmt.Errorf("netx: %q: %w", address, err)
}

// acquire waits for the rate limiter and a concurrency slot.
func (d *Dialer) acquire(ctx context.Context) (func(), error) {
	if d.limiter != nil {
		if err := d.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	select {
	case d.sem <- struct{}{}:
		return func() { <-d.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// control re-checks the destination at the socket, after any address
// translation the net package did: the second lock on the door.
func (d *Dialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netx: socket address %q: %w", address, err)
	}
	return d.Check(ap.Addr())
}

func (d *Dialer) netDialer() *net.Dialer {
	nd := &net.Dialer{Timeout: d.opts.DialTimeout, Control: d.control}
	if d.opts.Source.IsValid() {
		nd.LocalAddr = &net.TCPAddr{IP: d.opts.Source.AsSlice()}
	}
	return nd
}

// DialContext connects to address ("ip:port") over network ("tcp", "tcp4",
// "tcp6", "udp", "udp4", "udp6"). The returned Conn refuses to read past
// the read limit and honours ctx's deadline.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := ParseAddrPort(address)
	if err != nil {
		return nil, err
	}
	return d.Dial(ctx, network, ap)
}

// Dial is DialContext with a parsed address.
func (d *Dialer) Dial(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil, fmt.Errorf("netx: network %q is not supported", network)
	}
	if err := d.Check(ap.Addr()); err != nil {
		return nil, err
	}
	release, err := d.acquire(ctx)
	if err != nil {
		return nil, err
	}
	nd := d.netDialer()
	if d.opts.Source.IsValid() && network[:3] == "udp" {
		nd.LocalAddr = &net.UDPAddr{IP: d.opts.Source.AsSlice()}
	}
	c, err := nd.DialContext(ctx, network, ap.String())
	if err != nil {
		release()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return &limitedConn{Conn: c, left: d.opts.MaxRead, release: release}, nil
}

// limitedConn stops reading at the limit and frees its slot on Close.
type limitedConn struct {
	net.Conn
	left    int64
	release func()
	// once guards release: crypto/tls closes the conn from its own
	// goroutine when a handshake is cancelled while DialTLS closes it too,
	// and a second release would free another connection's slot.
	once sync.Once
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// PacketConn is a UDP socket that only sends to, and only accepts datagrams
// from, addresses in scope. Use it for request/response probes that may
// be answered from another address (SSDP replies come from the device).
type PacketConn struct {
	pc      *net.UDPConn
	d       *Dialer
	release func()
	left    int64
}

// ListenUDP opens an unconnected UDP socket for network "udp4" or "udp6".
func (d *Dialer) ListenUDP(ctx context.Context, network string) (*PacketConn, error) {
	if network != "udp4" && network != "udp6" {
		return nil, fmt.Errorf("netx: ListenUDP: network %q (want udp4 or udp6)", network)
	}
	release, err := d.acquire(ctx)
	if err != nil {
		return nil, err
	}
	var laddr *net.UDPAddr
	if d.opts.Source.IsValid() {
		laddr = &net.UDPAddr{IP: d.opts.Source.AsSlice()}
	}
	pc, err := net.ListenUDP(network, laddr)
	if err != nil {
		release()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		pc.SetDeadline(dl)
	}
	return &PacketConn{pc: pc, d: d, release: release, left: d.opts.MaxRead}, nil
}

// WriteTo sends b to dst, which must be in scope.
func (p *PacketConn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	if err := p.d.Check(dst.Addr()); err != nil {
		return 0, err
	}
	return p.pc.WriteToUDPAddrPort(b, dst)
}

// ReadFrom returns the next datagram from an in-scope source; datagrams
// from elsewhere are dropped. The total read is bounded.
func (p *PacketConn) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	for {
		if p.left <= 0 {
			return 0, netip.AddrPort{}, ErrTooLarge
		}
		n, src, err := p.pc.ReadFromUDPAddrPort(b)
		if err != nil {
			return 0, src, err
		}
		p.left -= int64(n)
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if p.d.Check(src.Addr()) == nil {
			return n, src, nil
		}
	}
}

// SetDeadline sets the read and write deadline.
func (p *PacketConn) SetDeadline(t time.Time) error { return p.pc.SetDeadline(t) }

// LocalAddr returns the socket's address.
func (p *PacketConn) LocalAddr() netip.AddrPort { return p.pc.LocalAddr().(*net.UDPAddr).AddrPort() }

// Close closes the socket and frees its slot.
func (p *PacketConn) Close() error {
	err := p.pc.Close()
	if p.release != nil {
		p.release()
		p.release = nil
	}
	return err
}

// Status classifies why a measurement failed, for "unknown"/"error"
// findings that say why.
type Status string

// Statuses, after zgrab2's classification.
const (
	StatusOK          Status = "ok"
	StatusRefused     Status = "connection_refused"
	StatusTimeout     Status = "timeout"
	StatusUnreachable Status = "unreachable"
	StatusOutOfScope  Status = "out_of_scope"
	StatusTooLarge    Status = "too_large"
	StatusCanceled    Status = "canceled"
	StatusProtocol    Status = "protocol_error"
	StatusError       Status = "error"
)

// Classify maps an error from a dial or exchange to a Status.
func Classify(err error) Status {
	var ne net.Error
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrOutOfScope):
		return StatusOutOfScope
	case errors.Is(err, ErrTooLarge):
		return StatusTooLarge
	case errors.Is(err, context.Canceled):
		return StatusCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return StatusTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return StatusRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return StatusUnreachable
	case errors.As(err, &ne) && ne.Timeout():
		return StatusTimeout
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return StatusProtocol
	}
	return StatusError
}
