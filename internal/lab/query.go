// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
)

// queryTimeout bounds one DNS exchange inside the lab, where answers take
// milliseconds; it applies when ctx has no earlier deadline.
const queryTimeout = 3 * time.Second

// TLSConfig returns a TLS client configuration that trusts only the lab CA,
// for serverName (TrustedResolverName or a canary name).
func (l *Lab) TLSConfig(serverName string) (*tls.Config, error) {
	pemData, err := os.ReadFile(l.CAFile())
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("lab: %s: no certificate", l.CAFile())
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
}

// Exchange sends m to server from inside host's namespace and returns the
// reply. network is "udp", "tcp" or "tcp-tls" (DoT; the server must have a
// lab CA certificate for TrustedResolverName).
func (l *Lab) Exchange(ctx context.Context, host Host, network string, server netip.AddrPort, m *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	dialNet := network
	if network == "tcp-tls" {
		dialNet = "tcp"
	}
	conn, err := l.DialContext(ctx, host, dialNet, server.String())
	if err != nil {
		return nil, err
	}
	if network == "tcp-tls" {
		cfg, err := l.TLSConfig(TrustedResolverName)
		if err != nil {
			conn.Close()
			return nil, err
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			tc.Close()
			return nil, fmt.Errorf("lab: dot %s: %w", server, err)
		}
		conn = tc
	}
	dc := &dns.Conn{Conn: conn}
	defer dc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = dc.SetDeadline(dl)
	}
	if err := dc.WriteMsg(m); err != nil {
		return nil, fmt.Errorf("lab: dns %s %s: %w", network, server, err)
	}
	r, err := dc.ReadMsg()
	if err != nil {
		return nil, fmt.Errorf("lab: dns %s %s: %w", network, server, err)
	}
	return r, nil
}

// LookupA asks server (port 53, UDP) for name's A records from inside
// host's namespace. An NXDOMAIN or empty answer gives no addresses and no
// error; other rcodes are errors.
func (l *Lab) LookupA(ctx context.Context, host Host, server netip.Addr, name string) ([]netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, err := l.Exchange(ctx, host, "udp", netip.AddrPortFrom(server, 53), m)
	if err != nil {
		return nil, err
	}
	return answerAddrs(r)
}

// answerAddrs returns the A/AAAA addresses of a reply.
func answerAddrs(r *dns.Msg) ([]netip.Addr, error) {
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("lab: dns: rcode %s", dns.RcodeToString[r.Rcode])
	}
	var out []netip.Addr
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A); ok {
				out = append(out, a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// RoleOf returns the first role (in table order) whose address is a, "" if
// none: for printing addresses with their meaning.
func RoleOf(a netip.Addr) string {
	for _, r := range roles {
		if r.addr == a && r.name != "router.lan" {
			return r.name
		}
	}
	if r, ok := roleByName("router.lan"); ok && r.addr == a {
		return r.name
	}
	return ""
}

// LookupDoT asks the trusted resolver over DoT (port 853, verified against
// the lab CA) for name's A records, from inside host's namespace.
func (l *Lab) LookupDoT(ctx context.Context, host Host, name string) ([]netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, err := l.Exchange(ctx, host, "tcp-tls", netip.AddrPortFrom(RoleAddr("trusted.dot"), 853), m)
	if err != nil {
		return nil, err
	}
	return answerAddrs(r)
}
