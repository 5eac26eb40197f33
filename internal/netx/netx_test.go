// SPDX-License-Identifier: Apache-2.0

package netx_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// Only loopback is used: 127.0.0.1 is in scope, 127.0.0.2 (also loopback,
// also on this machine) is not.
var (
	inScope  = netip.MustParseAddr("127.0.0.1")
	outScope = netip.MustParseAddr("127.0.0.2")
)

func dialer(opts netx.Options) *netx.Dialer {
	return netx.NewDialer(target.NewScope().WithAddr(inScope), opts)
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	return l
}

func TestDialScope(t *testing.T) {
	in := listen(t, inScope.String())
	out := listen(t, outScope.String())
	d := dialer(netx.Options{})
	tests := []struct {
		name    string
		network string
		addr    string
		wantErr error
	}{
		{name: "in_scope", network: "tcp", addr: in.Addr().String()},
		{name: "out_of_scope", network: "tcp", addr: out.Addr().String(), wantErr: netx.ErrOutOfScope},
		{name: "mapped_v6_is_unmapped", network: "tcp", addr: "[::ffff:127.0.0.2]:" + port(out), wantErr: netx.ErrOutOfScope},
		{name: "host_name_refused", network: "tcp", addr: "localhost:" + port(in), wantErr: netx.ErrNotAddress},
		{name: "udp_out_of_scope", network: "udp", addr: "127.0.0.2:53", wantErr: netx.ErrOutOfScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := d.DialContext(t.Context(), tc.network, tc.addr)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("DialContext(%s) error %v, want %v", tc.addr, err, tc.wantErr)
			}
			if c != nil {
				t.Fatal("got a connection with an error")
			}
		})
	}
}

func port(l net.Listener) string {
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func TestReadLimit(t *testing.T) {
	l := listen(t, inScope.String())
	d := dialer(netx.Options{MaxRead: 3})
	c, err := d.DialContext(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if !errors.Is(err, netx.ErrTooLarge) || string(b) != "hel" {
		t.Errorf("read %q, %v; want \"hel\" and ErrTooLarge", b, err)
	}
	if netx.Classify(err) != netx.StatusTooLarge {
		t.Errorf("Classify = %s", netx.Classify(err))
	}
}

func TestHTTPRedirectOutOfScope(t *testing.T) {
	outSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the out-of-scope server was contacted")
	}))
	outSrv.Listener = listen(t, outScope.String())
	outSrv.Start()
	defer outSrv.Close()
	inSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, outSrv.URL+"/steal", http.StatusFound)
	}))
	defer inSrv.Close()
	c := dialer(netx.Options{}).HTTPClient(netx.HTTPOptions{})
	resp, err := c.Get(inSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want the 302 itself as the observation", resp.StatusCode)
	}
}

func TestHTTPBodyAndHeaderLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/headers" {
			for i := 0; i < 5000; i++ {
				w.Header().Add("X-Junk", strings.Repeat("a", 100))
			}
		}
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	c := dialer(netx.Options{}).HTTPClient(netx.HTTPOptions{MaxBody: 10, MaxHeaderBytes: 4096})
	resp, err := c.Get(srv.URL + "/body")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, netx.ErrTooLarge) {
		t.Errorf("body read error %v, want ErrTooLarge", err)
	}
	if _, err := c.Get(srv.URL + "/headers"); err == nil || !strings.Contains(err.Error(), "header") {
		t.Errorf("huge headers: error %v, want a header-size error", err)
	}
}

func TestUDPScope(t *testing.T) {
	d := dialer(netx.Options{})
	pc, err := d.ListenUDP(t.Context(), "udp4")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte("x"), netip.MustParseAddrPort("127.0.0.2:9")); !errors.Is(err, netx.ErrOutOfScope) {
		t.Errorf("WriteTo out of scope: %v", err)
	}
	// A datagram from an out-of-scope source is dropped; one from the
	// scope is returned.
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(outScope.AsSlice())})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ok, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(inScope.AsSlice())})
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	dst := net.UDPAddrFromAddrPort(pc.LocalAddr())
	dst.IP = net.IP(inScope.AsSlice())
	src.WriteToUDP([]byte("evil"), dst)
	ok.WriteToUDP([]byte("good"), dst)
	pc.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 16)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "good" || from.Addr() != inScope {
		t.Errorf("ReadFrom = %q from %s, %v; want \"good\" from %s", buf[:n], from, err, inScope)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	l := listen(t, inScope.String())
	d := dialer(netx.Options{Concurrency: 1})
	c1, err := d.DialContext(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.DialContext(ctx, "tcp", l.Addr().String()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second dial with the slot taken: %v, want deadline exceeded", err)
	}
	c1.Close()
	c2, err := d.DialContext(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial after the slot was freed: %v", err)
	}
	c2.Close()
}

func TestClassify(t *testing.T) {
	d := dialer(netx.Options{})
	// A closed port on loopback: refused.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err := d.DialContext(t.Context(), "tcp", addr)
	if got := netx.Classify(err); got != netx.StatusRefused {
		t.Errorf("closed port: %s (%v)", got, err)
	}
	if got := netx.Classify(&netx.ScopeError{Addr: outScope}); got != netx.StatusOutOfScope {
		t.Errorf("scope error: %s", got)
	}
}
