// SPDX-License-Identifier: Apache-2.0

// Package dnsaudit is the DNS engine: the whole `routerwatch dns` audit
// as a Go call, options in and a result out, so that every front end
// (dns, check, and later watch, serve and the agent) runs exactly the
// same audit without a command line.
//
// It is shaped like tailscale's netcheck: NewPlan is pure validation of
// the options (every error it returns is a *UsageError, and nothing is
// sent); Plan.Run reads the host's facts (hostnet), discovers the
// resolvers this machine is handed (the OS configuration, DHCPv4, IPv6
// router advertisements and DHCPv6 through dhcpprobe), asks the trusted
// resolvers and the already-known resolvers while the link probes still
// listen, measures (package measure), and has the pure judge
// (check/dnshijack) decide. The Result assembles what the report shows.
//
// The contract: the caller owns the deadline (ctx); a usage error found
// while running (an --interface that names no interface) comes before
// any traffic; every packet goes through a netx.Dialer whose scope is
// exactly the gateways, the resolvers found or named and the trusted
// resolvers (the TLS proofs add, one by one, the addresses the resolvers
// answered); credentials in a trusted DoH URL are used for the request
// and never printed, logged or stored (dnsprobe.Server keeps them apart
// from the URL).
package dnsaudit

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/dnsaudit/measure"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// DefaultTimeout is the deadline a front end should give a whole audit,
// discovery included: the DHCP DISCOVER window (4 s, dnsmasq's ping)
// plus the measurement (about a second on a home line) with room for a
// slow trusted resolver, or for the second chance of canaries a resolver
// holds back (measure: up to 5 s, within this deadline).
const DefaultTimeout = 10 * time.Second

// DefaultTLSPort is where TLS proofs connect: HTTPS, where the user's
// browser would send the password.
const DefaultTLSPort = measure.DefaultTLSPort

// File size bounds for the files a user names: a CA bundle (the whole
// system bundle is about 220 KB) and an indicator list (the built-in one
// with 182 entries is about 60 KB).
const (
	maxCAFile         = 4 << 20
	maxIndicatorsFile = 16 << 20
)

// Default trusted resolvers. netx never resolves names, so they are
// addresses. ASSUMPTION (not verifiable offline): Cloudflare's and Quad9's
// DoH certificates carry their IP addresses as SANs (1.1.1.1, 9.9.9.9), as
// their documentation for IP-based DoH says; if one does not, its queries
// fail with a TLS error and the report says the trusted side was
// incomplete. The DoT default verifies Cloudflare by name instead.
var (
	defaultTrustedDoH = []string{"https://1.1.1.1/dns-query", "https://9.9.9.9/dns-query"}
	defaultTrustedDoT = []string{"1.1.1.1:853#cloudflare-dns.com"}
)

// DefaultTrustedDoH returns the DoH endpoints used when no trusted
// resolver is named.
func DefaultTrustedDoH() []string { return slices.Clone(defaultTrustedDoH) }

// DefaultTrustedDoT returns the DoT servers used when no trusted resolver
// is named.
func DefaultTrustedDoT() []string { return slices.Clone(defaultTrustedDoT) }

// Options are everything the dns command's flags say, as plain values,
// and the few things a test injects. The zero value audits this host
// with the defaults.
type Options struct {
	// Resolvers are resolvers to test, "IP" or "IP:PORT" (--resolver);
	// empty means discover them.
	Resolvers []string
	// TrustedDoH are trusted DoH endpoints "https://IP[:PORT]/path[#tls-name]"
	// (--trusted-doh), TrustedDoT trusted DoT servers "IP[:PORT][#tls-name]"
	// (--trusted-dot). Both empty means the defaults; naming any replaces
	// all of them. A DoH URL may carry credentials (user:password@),
	// which are sent to that server and never shown.
	TrustedDoH, TrustedDoT []string
	// TrustCA are PEM files of extra CA certificates for the trusted
	// resolvers and the TLS proofs (--trust-ca).
	TrustCA []string
	// Canaries are names watched besides the built-in list (--canary).
	Canaries []string
	// DNSSECNames are signed names for the signature-stripping test
	// (--dnssec-name); empty means the built-in list.
	DNSSECNames []string
	// NXParent is the zone under which a random name must not exist
	// (--nxdomain-parent); empty means the built-in one.
	NXParent string
	// Interface is the interface of the link probes (--interface); empty
	// means the IPv4 default route's.
	Interface string
	// Indicators is a JSON file of extra known-bad addresses
	// (--indicators), added to the built-in list.
	Indicators string
	// NoLinkProbes skips DHCPv4, the router solicitation and DHCPv6
	// (--no-dhcp).
	NoLinkProbes bool
	// TLSPort is the port TLS proofs connect to; 0 means DefaultTLSPort.
	// Tests and labs set it (hidden --tls-port).
	TLSPort uint16

	// Env is the host to read; its zero value means hostnet.DefaultEnv().
	Env hostnet.Env
	// Facts, when set, are the host facts already gathered (check
	// gathers once and shares them); Env is then not read.
	Facts *hostnet.Facts
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LinkProbe runs the link probes; nil means p.Probe(ctx, v6). Tests
	// inject what DHCP and router advertisements would say.
	LinkProbe func(ctx context.Context, p *dhcpprobe.Prober, v6 bool) dhcpprobe.Result
	// ResolverPort is the port discovered resolvers are asked on; 0
	// means 53. Only tests set it: resolver configurations carry no
	// port, and a loopback fake cannot bind port 53 without privileges.
	ResolverPort uint16
}

// UsageError is a problem with the options (exit code 2 in the CLI):
// everything NewPlan returns, and what Run finds before it sends
// anything (an Interface that names no interface).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// Plan is validated Options, ready to run. It is read-only: one Plan may
// run several times, also concurrently.
type Plan struct {
	o        Options
	env      hostnet.Env
	logger   *slog.Logger
	user     []dnshijack.Resolver
	trusted  []dnsprobe.Server
	roots    *x509.CertPool
	canaries []dnshijack.Canary
	ind      *dnshijack.Indicators
}

// NewPlan validates o. It reads the files o names (CA certificates,
// indicators) but sends nothing; every error is a *UsageError.
func NewPlan(o Options) (*Plan, error) {
	p := &Plan{o: o, env: o.Env.OrDefault(), logger: o.Logger}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	for _, s := range o.Resolvers {
		srv, err := dnsprobe.ParsePlain(s)
		if err != nil {
			return nil, usagef("--resolver %q: give an IP address or IP:PORT (host names are never resolved)", s)
		}
		p.user = dnshijack.MergeResolvers(p.user, []dnshijack.Resolver{{Addr: srv.Addr, Sources: []dnshijack.Source{{Kind: dnshijack.SourceUser}}}})
	}
	var err error
	if p.roots, err = rootPool(o.TrustCA); err != nil {
		return nil, err
	}
	if p.trusted, err = trustedServers(o.TrustedDoH, o.TrustedDoT, p.roots); err != nil {
		return nil, err
	}
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		return nil, &UsageError{err} // the embedded data: a broken build
	}
	p.canaries = data.Canaries
	for _, n := range o.Canaries {
		c, err := dnshijack.UserCanary(n)
		if err != nil {
			return nil, usagef("--canary: %v", err)
		}
		p.canaries = append(p.canaries, c)
	}
	for _, n := range append(slices.Clone(o.DNSSECNames), o.NXParent) {
		if n == "" {
			continue
		}
		if _, err := dnshijack.CanonicalName(n); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if p.ind, err = dnshijack.DefaultIndicators(); err != nil {
		return nil, &UsageError{err}
	}
	if o.Indicators != "" {
		// A FIFO or a device would block or never end: regular files
		// only (inputfile).
		b, err := inputfile.ReadAll(o.Indicators, maxIndicatorsFile)
		if err != nil {
			return nil, usagef("--indicators: %v", err)
		}
		extra, err := dnshijack.LoadIndicators(bytes.NewReader(b))
		if err != nil {
			return nil, usagef("--indicators %s: %v", o.Indicators, err)
		}
		p.ind = p.ind.Merge(extra)
	}
	return p, nil
}

// WithFacts returns a copy of p that uses facts instead of reading the
// host (a caller that gathered them already).
func (p *Plan) WithFacts(facts *hostnet.Facts) *Plan {
	q := *p
	q.o.Facts = facts
	return &q
}

// Trusted returns the trusted resolvers the plan asks.
func (p *Plan) Trusted() []dnsprobe.Server { return slices.Clone(p.trusted) }

// trustedServers parses the trusted DoH and DoT servers, or returns the
// defaults when neither is given.
func trustedServers(doh, dot []string, roots *x509.CertPool) ([]dnsprobe.Server, error) {
	if len(doh)+len(dot) == 0 {
		doh, dot = defaultTrustedDoH, defaultTrustedDoT
	}
	var out []dnsprobe.Server
	for _, s := range doh {
		srv, err := dnsprobe.ParseDoH(s)
		if err != nil {
			return nil, usagef("--trusted-doh: %v", err)
		}
		srv.RootCAs = roots
		out = append(out, srv)
	}
	for _, s := range dot {
		srv, err := dnsprobe.ParseDoT(s)
		if shown := dnsprobe.RedactURL(s); err != nil && shown != s {
			// DoT has no credentials; the text is not repeated.
			return nil, usagef("--trusted-dot %q: give IP[:PORT][#tls-name] (DoT takes no credentials)", shown)
		}
		if err != nil {
			return nil, usagef("--trusted-dot %q: give IP[:PORT][#tls-name] (host names are never resolved): %v", s, err)
		}
		srv.RootCAs = roots
		out = append(out, srv)
	}
	return out, nil
}

// rootPool is the system roots plus the CA files; nil (the system roots)
// when there are none.
func rootPool(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		b, err := inputfile.ReadAll(f, maxCAFile)
		if err != nil {
			return nil, usagef("--trust-ca: %v", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, usagef("--trust-ca %s: no PEM certificate in it", f)
		}
	}
	return pool, nil
}

func (p *Plan) now() time.Time {
	if p.o.Now != nil {
		return p.o.Now()
	}
	return time.Now()
}

// ErrNoResolver is what a front end returns when a Result tested nothing
// (exit code 3 in the CLI): no resolver was found, or none was named.
var ErrNoResolver = errors.New("dns: no resolver to test")
