// SPDX-License-Identifier: Apache-2.0

// Package probetest holds loopback fakes for probe tests: TCP and UDP
// servers bound to an explicit 127.0.0.x address, hostile behaviours
// (slow drip, garbage), self-signed certificates and a dialer scoped to
// the test addresses. It is imported only from _test.go files.
//
// Every server is closed, and every handler's connection with it, when
// the test ends; handlers must return when their connection fails.
package probetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// Loopback is the default fake-device address.
var Loopback = netip.MustParseAddr("127.0.0.1")

// Dialer returns a dialer whose scope is exactly addrs, with opts.
func Dialer(t testing.TB, opts netx.Options, addrs ...netip.Addr) *netx.Dialer {
	t.Helper()
	s := target.NewScope()
	for _, a := range addrs {
		if !a.IsLoopback() {
			t.Fatalf("probetest: %s is not a loopback address", a)
		}
		s = s.WithAddr(a)
	}
	return netx.NewDialer(s, opts)
}

// conns tracks a server's open connections so cleanup can close them.
type conns struct {
	mu sync.Mutex
	m  map[net.Conn]bool
}

func (c *conns) add(x net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		return false
	}
	c.m[x] = true
	return true
}

func (c *conns) remove(x net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, x)
}

func (c *conns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for x := range c.m {
		x.Close()
	}
	c.m = nil
}

// ServeTCP listens on addr:0 and runs handle for each connection, then
// closes it. It returns the port.
func ServeTCP(t testing.TB, addr netip.Addr, handle func(net.Conn)) uint16 {
	t.Helper()
	return ServeTCPAt(t, netip.AddrPortFrom(addr, 0), handle)
}

// ServeTCPAt is ServeTCP on a chosen port (0: any), for fakes whose
// ports are part of the device they play.
func ServeTCPAt(t testing.TB, ap netip.AddrPort, handle func(net.Conn)) uint16 {
	t.Helper()
	return serveListener(t, ListenerAt(t, ap), handle)
}

// ServeTLS is ServeTCP behind TLS with cert.
func ServeTLS(t testing.TB, addr netip.Addr, cert tls.Certificate, handle func(net.Conn)) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	return serveListener(t, tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}}), handle)
}

// Listener returns a plain TCP listener on addr:0 that the test owns and
// that is closed at cleanup (for http.Server and friends).
func Listener(t testing.TB, addr netip.Addr) net.Listener {
	t.Helper()
	return ListenerAt(t, netip.AddrPortFrom(addr, 0))
}

// ListenerAt is Listener on a chosen port (0: any).
func ListenerAt(t testing.TB, ap netip.AddrPort) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", ap.String())
	if err != nil {
		t.Fatalf("probetest: listen %s: %v", ap, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func serveListener(t testing.TB, l net.Listener, handle func(net.Conn)) uint16 {
	cs := &conns{m: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		cs.closeAll()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if !cs.add(c) {
				c.Close()
				return
			}
			wg.Go(func() {
				defer cs.remove(c)
				defer c.Close()
				handle(c)
			})
		}
	})
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// ClosedPort returns a port on addr where nothing listens (connections
// are refused).
func ClosedPort(t testing.TB, addr netip.Addr) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

// ServeUDP listens on addr:0 and answers each datagram with the datagrams
// reply returns (none for nil). It returns the port.
func ServeUDP(t testing.TB, addr netip.Addr, reply func(req []byte, from netip.AddrPort) [][]byte) uint16 {
	t.Helper()
	return ServeUDPAt(t, netip.AddrPortFrom(addr, 0), reply)
}

// ServeUDPAt is ServeUDP on a chosen port (0: any).
func ServeUDPAt(t testing.TB, ap netip.AddrPort, reply func(req []byte, from netip.AddrPort) [][]byte) uint16 {
	t.Helper()
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		t.Fatalf("probetest: listen udp %s: %v", ap, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			for _, out := range reply(append([]byte(nil), buf[:n]...), from) {
				pc.WriteToUDPAddrPort(out, from)
			}
		}
	})
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

// SlowDrip returns a handler that sends data one byte per interval until
// it is done or the connection fails. It first gives the client a moment
// to speak: an HTTP client's request is read (so the drip is the reply,
// as on a real slow device, not bytes before the request, which Go's
// transport reports as an unsolicited response at a racy moment), and a
// banner client, which waits for the server, gets its drip after the pause.
func SlowDrip(data []byte, interval time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(dripListen))
		buf := make([]byte, 4096)
		c.Read(buf)
		c.SetReadDeadline(time.Time{})
		for _, b := range data {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(interval)
		}
	}
}

// dripListen is how long SlowDrip waits for a client request; clients on
// loopback send theirs within microseconds, even under -race on a busy
// machine far below this.
const dripListen = 200 * time.Millisecond

// Garbage returns a handler that writes n pseudo-random bytes (a fixed
// pattern that is neither text nor any protocol) and closes.
func Garbage(n int) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 4096)
		x := uint32(2463534242)
		for n := n; n > 0; {
			for i := range buf {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				buf[i] = byte(x)
			}
			k := min(n, len(buf))
			if _, err := c.Write(buf[:k]); err != nil {
				return
			}
			n -= k
		}
	}
}

// GarbageBytes returns n bytes of the same pattern as Garbage.
func GarbageBytes(n int) []byte {
	out := make([]byte, n)
	x := uint32(2463534242)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

// SelfSignedCert returns a P-256 certificate for cn with the given IP
// SANs, valid for a day.
func SelfSignedCert(t testing.TB, cn string, ips ...netip.Addr) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ServeHTTP runs handler on addr:0 and returns the port.
func ServeHTTP(t testing.TB, addr netip.Addr, handler http.Handler) uint16 {
	t.Helper()
	return serveHTTP(t, netip.AddrPortFrom(addr, 0), handler, nil)
}

// ServeHTTPAt is ServeHTTP on a chosen port (0: any).
func ServeHTTPAt(t testing.TB, ap netip.AddrPort, handler http.Handler) uint16 {
	t.Helper()
	return serveHTTP(t, ap, handler, nil)
}

// ServeHTTPS runs handler behind TLS with cert on addr:0 and returns the
// port.
func ServeHTTPS(t testing.TB, addr netip.Addr, cert tls.Certificate, handler http.Handler) uint16 {
	t.Helper()
	return serveHTTP(t, netip.AddrPortFrom(addr, 0), handler, &cert)
}

func serveHTTP(t testing.TB, ap netip.AddrPort, handler http.Handler, cert *tls.Certificate) uint16 {
	t.Helper()
	l := ListenerAt(t, ap)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cert != nil {
			srv.ServeTLS(l, "", "")
		} else {
			srv.Serve(l)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// ClosedUDPPort returns a UDP port on addr where nothing listens.
func ClosedUDPPort(t testing.TB, addr netip.Addr) uint16 {
	t.Helper()
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	pc.Close()
	return port
}
