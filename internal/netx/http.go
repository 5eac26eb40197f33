// SPDX-License-Identifier: Apache-2.0

package netx

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// HTTP limits. Router web UIs send a few kilobytes of headers; a device
// sending 100k headers must fail fast, not exhaust memory.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxRedirects   = 3
	// DefaultTLSHandshakeTimeout bounds a TLS handshake on a LAN device,
	// whose CPUs are slow at RSA but not slower than this.
	DefaultTLSHandshakeTimeout = 5 * time.Second
)

// HTTPOptions configures HTTPClient.
type HTTPOptions struct {
	// TLS is the client TLS configuration; nil verifies against the
	// system roots.
	TLS *tls.Config
	// MaxRedirects is how many redirects to follow (each must stay in
	// scope); 0 means DefaultMaxRedirects, a negative value none.
	MaxRedirects int
	// MaxHeaderBytes bounds response headers; 0 means the default.
	MaxHeaderBytes int64
	// MaxBody bounds each response body; 0 means the dialer's MaxRead.
	MaxBody int64
	// HTTP2 offers HTTP/2 (ALPN h2) on TLS connections, for servers that
	// speak nothing else, such as DNS-over-HTTPS resolvers (RFC 8484 names
	// HTTP/2 the minimum recommended version). Router probes leave it off:
	// device web UIs speak HTTP/1.x.
	HTTP2 bool
}

// HTTPClient returns a client whose every connection goes through d. It
// never uses proxies from the environment, follows redirects only to
// in-scope addresses, and cuts bodies at the limit with ErrTooLarge. URLs
// must name an IP address; set Request.Host for the Host header.
func (d *Dialer) HTTPClient(o HTTPOptions) *http.Client {
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxBody <= 0 {
		o.MaxBody = d.opts.MaxRead
	}
	maxRedirects := o.MaxRedirects
	switch {
	case maxRedirects == 0:
		maxRedirects = DefaultMaxRedirects
	case maxRedirects < 0:
		maxRedirects = 0
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        o.TLS,
		TLSHandshakeTimeout:    DefaultTLSHandshakeTimeout,
		MaxResponseHeaderBytes: o.MaxHeaderBytes,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      o.HTTP2,
	}
	return &http.Client{
		Transport: &limitBody{rt: tr, max: o.MaxBody},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return http.ErrUseLastResponse
			}
			a, err := netip.ParseAddr(req.URL.Hostname())
			if err != nil || d.Check(a) != nil {
				// Off-scope or by-name redirect: keep the redirect
				// response itself as the observation.
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

type limitBody struct {
	rt  http.RoundTripper
	max int64
}

func (l *limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: l.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Tell a full body from a cut one: peek one byte.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// DialTLS connects to ap and completes a TLS handshake with cfg (set
// ServerName for SNI and verification). The handshake is bounded by ctx
// and DefaultTLSHandshakeTimeout.
func (d *Dialer) DialTLS(ctx context.Context, ap netip.AddrPort, cfg *tls.Config) (*tls.Conn, error) {
	c, err := d.Dial(ctx, "tcp", ap)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, DefaultTLSHandshakeTimeout)
	defer cancel()
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("netx: TLS handshake with %s: %w", ap, err)
	}
	return tc, nil
}

var _ net.Conn = (*limitedConn)(nil)
