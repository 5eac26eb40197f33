// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/buildinfo"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/target"
)

// defaultDNSTimeout bounds a whole `routerwatch dns` run, discovery
// included: the DHCP DISCOVER window (4 s, dnsmasq's ping) plus the
// measurement (about a second on a home line) with room for a slow
// trusted resolver.
const defaultDNSTimeout = 10 * time.Second

// quickIPv6Window bounds the router solicitation and DHCPv6 probes when
// no IPv6 router has announced itself: a router answers a solicitation
// within 0.5 s (RFC 4861 MAX_RA_DELAY_TIME), a DHCPv6 server at once.
const quickIPv6Window = time.Second

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

// dnsOptions are the flags of the DNS checks, which dns and check share.
type dnsOptions struct {
	resolvers, trustedDoH, trustedDoT, trustCA []string
	canaries, dnssecNames                      []string
	nxParent, iface, indicators                string
	noDHCP                                     bool
	tlsPort                                    uint16
}

type dnsFlags struct {
	dnsOptions
	timeout        time.Duration
	format, failOn string
}

func (a *App) newDNSCmd() *cobra.Command {
	f := &dnsFlags{}
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Check the resolvers this network hands out for DNS hijacking",
		Long: `dns finds the DNS resolvers this machine is told to use — by the OS
configuration, by DHCPv4 (option 6), by IPv6 router advertisements (RDNSS) and
DHCPv6 — and checks whether any of them lies about the names that matter: the
Microsoft 365 / Outlook names the 2025-2026 APT28 router campaign redirected,
other major sign-in names, and your own (--canary).

Each answer is compared with trusted resolvers reached over an encrypted
channel the router cannot change (DNS over HTTPS and over TLS). An answer that
differs is checked by connecting to the answered address on port 443: a valid
certificate for the name means CDN variance, an invalid one means
interception. Published attacker addresses, forged-answer marks (TTL 0,
authoritative answers), DNSSEC signature loss, NXDOMAIN rewriting and the
resolver's software banner add evidence.

Only the gateway(s), the resolvers found or named, the trusted resolvers and
the addresses the resolvers answered (for the TLS check) are contacted. The
DHCP and router-solicitation probes need root; without it they are reported
as not checked. They never take or change a DHCP lease.`,
		Example: `  sudo routerwatch dns
  routerwatch dns --no-dhcp --canary sso.example.org
  routerwatch dns --resolver 192.0.2.1 --format json
  routerwatch dns --trusted-doh https://192.0.2.53/dns-query#resolver.example.net --trust-ca ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDNS(cmd.Context(), f) },
	}
	addDNSFlags(cmd, &f.dnsOptions)
	fl := cmd.Flags()
	fl.DurationVar(&f.timeout, "timeout", defaultDNSTimeout, "deadline for the whole run")
	fl.StringVar(&f.format, "format", "", "output format: text, json or html (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical (default high)")
	return cmd
}

// addDNSFlags registers the DNS checks' flags on cmd.
func addDNSFlags(cmd *cobra.Command, f *dnsOptions) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "test this resolver (IP or IP:PORT) instead of discovering them; repeatable")
	fl.StringArrayVar(&f.trustedDoH, "trusted-doh", nil, "trusted DNS-over-HTTPS endpoint https://IP[:PORT]/path[#tls-name]; repeatable (default "+strings.Join(defaultTrustedDoH, ", ")+")")
	fl.StringArrayVar(&f.trustedDoT, "trusted-dot", nil, "trusted DNS-over-TLS server IP[:PORT][#tls-name]; repeatable (default "+strings.Join(defaultTrustedDoT, ", ")+")")
	fl.StringArrayVar(&f.trustCA, "trust-ca", nil, "PEM file of extra CA certificates trusted for the trusted resolvers and the TLS check; repeatable")
	fl.StringArrayVar(&f.canaries, "canary", nil, "also watch this name (your company's sign-in, e.g. sso.example.org); repeatable")
	fl.StringArrayVar(&f.dnssecNames, "dnssec-name", nil, "DNSSEC-signed name used to test signature stripping; repeatable (default: built-in list)")
	fl.StringVar(&f.nxParent, "nxdomain-parent", "", "zone under which a random name must not exist (default example.com)")
	fl.StringVar(&f.iface, "interface", "", "interface for the DHCP and router-advertisement probes (default: the IPv4 default route's)")
	fl.StringVar(&f.indicators, "indicators", "", "JSON file of extra known-bad addresses, in the format of the built-in list (added to it)")
	fl.BoolVar(&f.noDHCP, "no-dhcp", false, "do not probe DHCPv4, router advertisements or DHCPv6 (no root needed)")
	// The TLS check's port is 443 in real life; tests and the lab serve
	// their HTTPS servers elsewhere.
	fl.Uint16Var(&f.tlsPort, "tls-port", dnshijack.DefaultTLSPort, "port of the TLS check (testing)")
	_ = fl.MarkHidden("tls-port")
}

// dnsRun is a validated dns command line.
type dnsRun struct {
	format report.Format
	failOn finding.Severity
	*dnsPlan
}

// dnsPlan is the validated DNS options.
type dnsPlan struct {
	user     []dnshijack.Resolver
	trusted  []dnsprobe.Server
	roots    *x509.CertPool
	canaries []dnshijack.Canary
	ind      *dnshijack.Indicators
}

func (a *App) parseDNSFlags(f *dnsFlags) (*dnsRun, error) {
	r := &dnsRun{}
	var err error
	if r.format, err = a.reportFormat(f.format); err != nil {
		return nil, err
	}
	if r.failOn, err = a.failOnSeverity(f.failOn); err != nil {
		return nil, err
	}
	if f.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	if r.dnsPlan, err = parseDNSOptions(&f.dnsOptions); err != nil {
		return nil, err
	}
	return r, nil
}

// reportFormat reads --format (text, json, html), the config's when empty.
func (a *App) reportFormat(format string) (report.Format, error) {
	if format == "" {
		format = a.cfg.Format
	}
	f, err := report.ParseFormat(format)
	if err != nil {
		return "", usagef("--format: %q is not one of text, json, html", format)
	}
	return f, nil
}

// failOnSeverity reads --fail-on, the config's when empty.
func (a *App) failOnSeverity(name string) (finding.Severity, error) {
	if name == "" {
		name = a.cfg.FailOn
	}
	sev, err := finding.ParseSeverity(name)
	if err != nil {
		return 0, usagef("--fail-on: %v", err)
	}
	return sev, nil
}

// parseDNSOptions validates the DNS flags.
func parseDNSOptions(f *dnsOptions) (*dnsPlan, error) {
	r := &dnsPlan{}
	var err error
	for _, s := range f.resolvers {
		srv, err := dnsprobe.ParsePlain(s)
		if err != nil {
			return nil, usagef("--resolver %q: give an IP address or IP:PORT (host names are never resolved)", s)
		}
		r.user = dnshijack.MergeResolvers(r.user, []dnshijack.Resolver{{Addr: srv.Addr, Sources: []dnshijack.Source{{Kind: dnshijack.SourceUser}}}})
	}
	if r.roots, err = rootPool(f.trustCA); err != nil {
		return nil, err
	}
	if r.trusted, err = trustedServers(f.trustedDoH, f.trustedDoT, r.roots); err != nil {
		return nil, err
	}
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		return nil, err
	}
	r.canaries = data.Canaries
	for _, n := range f.canaries {
		c, err := dnshijack.UserCanary(n)
		if err != nil {
			return nil, usagef("--canary: %v", err)
		}
		r.canaries = append(r.canaries, c)
	}
	for _, n := range append(append([]string(nil), f.dnssecNames...), f.nxParent) {
		if n == "" {
			continue
		}
		if _, err := dnshijack.CanonicalName(n); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if r.ind, err = dnshijack.DefaultIndicators(); err != nil {
		return nil, err
	}
	if f.indicators != "" {
		fh, err := os.Open(f.indicators)
		if err != nil {
			return nil, usagef("--indicators: %v", err)
		}
		extra, err := dnshijack.LoadIndicators(fh)
		fh.Close()
		if err != nil {
			return nil, usagef("--indicators %s: %v", f.indicators, err)
		}
		r.ind = r.ind.Merge(extra)
	}
	return r, nil
}

// trustedServers parses --trusted-doh and --trusted-dot, or returns the
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
		if err != nil {
			return nil, usagef("--trusted-dot %q: give IP[:PORT][#tls-name] (host names are never resolved): %v", s, err)
		}
		srv.RootCAs = roots
		out = append(out, srv)
	}
	return out, nil
}

// rootPool is the system roots plus the --trust-ca files; nil (the
// system roots) when there are none.
func rootPool(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, usagef("--trust-ca: %v", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, usagef("--trust-ca %s: no PEM certificate in it", f)
		}
	}
	return pool, nil
}

func (a *App) runDNS(ctx context.Context, f *dnsFlags) error {
	run, err := a.parseDNSFlags(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	started := time.Now()
	facts := hostnet.Gather(ctx, hostnet.DefaultEnv())
	var gateways []netip.Addr
	for _, g := range facts.Gateways {
		gateways = append(gateways, g.Addr)
	}
	au, err := a.runDNSAudit(ctx, &f.dnsOptions, run.dnsPlan, &facts, gateways)
	if err != nil {
		return err
	}
	rep := &report.Report{Tool: report.Tool{Name: "routerwatch", Version: buildinfo.String()}, Command: "dns", StartedAt: started}
	rep.Notes = append(rep.Notes, "scope: "+au.scope.String())
	if au.result == nil {
		// Nothing to test: report why, and exit 3.
		rep.Findings = au.findings()
		rep.Verdict.Headline = "COULD NOT CHECK: no DNS resolver was found to test (see why below); name one with --resolver."
		rep.FinishedAt = time.Now()
		rep.Finish()
		if err := a.writeReport(rep, run.format); err != nil {
			return err
		}
		return errors.New("dns: no resolver to test")
	}
	fillReport(rep, au.result, run.dnsPlan, &facts)
	rep.FinishedAt = time.Now()
	rep.Finish()
	if err := a.writeReport(rep, run.format); err != nil {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted: what was measured is printed, but the run did
		// not complete (exit 3).
		return ctx.Err()
	}
	if n := rep.Failing(run.failOn); n > 0 {
		return &findingsError{n: n}
	}
	return nil
}

// dnsAudit is the outcome of the DNS checks: the scope they ran in, what
// discovery found and, when there was a resolver to test, the result.
type dnsAudit struct {
	scope     target.Scope
	resolvers []dnshijack.Resolver
	discovery []dnshijack.SourceStatus
	// result is nil when no resolver was found to test.
	result *dnshijack.Result
}

// findings returns the result's findings, or the discovery findings when
// there was nothing to test.
func (d *dnsAudit) findings() []finding.Finding {
	if d.result != nil {
		return d.result.Findings
	}
	return dnshijack.DiscoveryFindings(d.discovery, time.Now())
}

// runDNSAudit discovers the resolvers (or takes the named ones) and runs
// the DNS checks on them. Its scope is exactly the gateways, the resolvers
// and the trusted resolvers (dnsScope). The seam between the DNS checks
// and the commands that show them: dns reports it alone, check next to
// the router's own findings.
func (a *App) runDNSAudit(ctx context.Context, f *dnsOptions, plan *dnsPlan, facts *hostnet.Facts, gateways []netip.Addr) (*dnsAudit, error) {
	opts := dnshijack.DialerOptions()
	in := dnshijack.Input{
		Trusted: plan.trusted, Canaries: plan.canaries, DNSSECNames: f.dnssecNames, NXParent: f.nxParent,
		Gateways: gateways, Indicators: plan.ind, RootCAs: plan.roots, TLSPort: f.tlsPort,
	}
	// The trusted resolvers and the resolvers named already (by the
	// user, or by the OS configuration) are asked while DHCP and router
	// advertisements are still listening: discovery is mostly waiting.
	// A usage error must come before any traffic.
	if _, ok := facts.InterfaceFor(f.iface); f.iface != "" && !ok && len(plan.user) == 0 {
		return nil, usagef("--interface %s: no such interface", f.iface)
	}
	early := plan.user
	if len(early) == 0 {
		early, _ = dnshijack.Discovery{Facts: facts}.Resolvers()
	}
	earlyCtx, stopEarly := context.WithCancel(ctx)
	defer stopEarly() // nothing to test, or an error: the first round is dropped
	// With nothing known and no link probe to run, nothing will be
	// tested: the trusted resolvers are not asked in vain.
	if len(early) > 0 || !f.noDHCP {
		first := in
		first.Resolvers = early
		first.Dialer = netx.NewDialer(dnsScope(gateways, early, plan.trusted), opts)
		var err error
		if in.Early, err = dnshijack.Start(earlyCtx, first); err != nil {
			return nil, err
		}
	}
	resolvers, discovery, err := a.discoverResolvers(ctx, f, plan, facts, gateways)
	if err != nil {
		return nil, err
	}
	for _, s := range discovery {
		a.logger.Debug("dns: resolver source", "source", s.Kind, "detail", s.Detail, "found", s.Found, "skipped", s.Skipped, "error", s.Err)
	}
	scope := dnsScope(gateways, resolvers, plan.trusted)
	au := &dnsAudit{scope: scope, resolvers: resolvers, discovery: discovery}
	if len(resolvers) == 0 {
		return au, nil
	}
	in.Resolvers, in.Discovery = resolvers, discovery
	in.Dialer = netx.NewDialer(scope, opts)
	in.ProofDialer = func(extra []netip.Addr) *netx.Dialer {
		s := scope
		for _, x := range extra {
			s = s.WithAddr(x)
		}
		return netx.NewDialer(s, opts)
	}
	a.logger.Debug("dns: measuring", "resolvers", len(resolvers), "trusted", len(plan.trusted), "canaries", len(plan.canaries), "scope", scope.String())
	if au.result, err = dnshijack.Run(ctx, in); err != nil {
		return nil, err
	}
	return au, nil
}

// dnsScope is exactly what the user's machine is told to use (gateways,
// resolvers found or named) and the trusted resolvers; TLS proofs add the
// addresses the resolvers answered, one by one (Input.ProofDialer).
func dnsScope(gateways []netip.Addr, resolvers []dnshijack.Resolver, trusted []dnsprobe.Server) target.Scope {
	scope := target.NewScope()
	for _, g := range gateways {
		scope = scope.WithAddr(g)
	}
	for _, r := range resolvers {
		scope = scope.WithAddr(r.Addr.Addr())
	}
	for _, t := range trusted {
		scope = scope.WithAddr(t.Addr.Addr())
	}
	return scope
}

// discoverResolvers returns the resolvers to test: the named ones, or
// those the OS, DHCP and router advertisements name.
func (a *App) discoverResolvers(ctx context.Context, f *dnsOptions, plan *dnsPlan, facts *hostnet.Facts, gateways []netip.Addr) ([]dnshijack.Resolver, []dnshijack.SourceStatus, error) {
	if len(plan.user) > 0 {
		why := "resolvers named with --resolver"
		_, st := dnshijack.Discovery{OSSkipped: why, DHCPSkipped: why}.Resolvers()
		return plan.user, st, nil
	}
	d := dnshijack.Discovery{Facts: facts}
	it, ok := facts.InterfaceFor(f.iface)
	switch {
	case f.iface != "" && !ok:
		return nil, nil, usagef("--interface %s: no such interface", f.iface)
	case f.noDHCP:
		d.DHCPSkipped = "--no-dhcp"
	case !ok:
		d.DHCPSkipped = "no interface with an IPv4 default route (give --interface)"
	default:
		d.Interface = it.Name
		scope := target.NewScope()
		for _, g := range gateways {
			scope = scope.WithAddr(g)
		}
		p := &dhcpprobe.Prober{Dialer: netx.NewDialer(scope, netx.Options{}), Interface: it.Name, MAC: it.MAC}
		if v4, ok := it.IPv4(); ok {
			p.IPv4 = v4.Addr()
		}
		// IPv6 sources are asked whenever IPv6 is on (a rogue RA may
		// announce only DNS, with no route). Without an IPv6 default
		// route no router has announced itself yet, so the full RA
		// window (up to 4 s for a rate-limited router) would mostly
		// wait for nothing: quickIPv6Window is enough for a router that
		// answers a solicitation (RFC 4861: within 0.5 s).
		_, v6 := it.LinkLocalIPv6()
		if !v6 {
			d.V6Skipped = "IPv6 is off on " + it.Name + " (no link-local address)"
		}
		route := false
		for _, g := range facts.Gateways {
			route = route || (g.Addr.Is6() && g.Interface == it.Name)
		}
		if !route {
			p.IPv6Window = quickIPv6Window
		}
		r := p.Probe(ctx, v6)
		d.DHCP = &r
	}
	rs, st := d.Resolvers()
	return rs, st, nil
}

// fillReport copies a dnshijack result into a generic report.
func fillReport(rep *report.Report, res *dnshijack.Result, run *dnsPlan, facts *hostnet.Facts) {
	rep.Subjects = append(rep.Subjects, gatewaySubjects(facts)...)
	rep.Verdict.Headline = res.Headline
	rep.Findings = res.Findings
	for _, s := range res.Steps {
		rep.Steps = append(rep.Steps, finding.Step{Title: s.Title, Detail: s.Detail})
	}
	rep.Subjects = append(rep.Subjects, dnsSubjects(res)...)
	rep.Notes = append(rep.Notes, dnsNote(res, run))
}

// gatewaySubjects describes this host's default gateways.
func gatewaySubjects(facts *hostnet.Facts) []report.Subject {
	var out []report.Subject
	for _, g := range facts.Gateways {
		out = append(out, report.Subject{ID: g.Addr.String(), Kind: "gateway", Label: "router " + g.Addr.String() + " (default gateway)", Attributes: gatewayAttributes(g)})
	}
	return out
}

func gatewayAttributes(g hostnet.Gateway) []finding.Evidence {
	attrs := []finding.Evidence{{Key: "interface", Value: g.Interface}}
	if g.MAC != nil {
		attrs = append(attrs, finding.Evidence{Key: "mac", Value: g.MAC.String()})
	}
	return append(attrs, finding.Evidence{Key: "vendor", Value: firstNonEmptyString(g.Vendor, "unknown: "+firstNonEmptyString(g.VendorNote, g.MACNote))})
}

// dnsSubjects describes the resolvers tested and the trusted resolvers.
func dnsSubjects(res *dnshijack.Result) []report.Subject {
	var out []report.Subject
	for _, v := range res.Verdicts {
		attrs := []finding.Evidence{{Key: "class", Value: string(v.Class)}, {Key: "class_note", Value: v.ClassNote}}
		if v.Verdict != dnshijack.VerdictUnknown {
			attrs = append(attrs, finding.Evidence{Key: "confidence", Value: v.Confidence.String()})
		}
		if v.Software != "" {
			attrs = append(attrs, finding.Evidence{Key: "software", Value: v.Software})
		}
		for _, r := range v.Reasons {
			attrs = append(attrs, finding.Evidence{Key: "reason", Value: r})
		}
		out = append(out, report.Subject{ID: v.Resolver.Key(), Kind: "resolver", Label: v.Resolver.Label(), Verdict: string(v.Verdict), Attributes: attrs})
	}
	for _, t := range res.Trusted {
		out = append(out, report.Subject{ID: t.Server, Kind: "trusted_resolver", Label: t.Server,
			Attributes: []finding.Evidence{{Key: "answered", Value: fmt.Sprint(t.Answered)}, {Key: "failed", Value: fmt.Sprint(t.Failed)}}})
	}
	return out
}

func dnsNote(res *dnshijack.Result, run *dnsPlan) string {
	return fmt.Sprintf("canaries: %d names; indicators: %d addresses (list of %s)", len(res.Canaries), run.ind.Len(), run.ind.Updated)
}

// writeReport renders rep on stdout; colour only on a terminal, and never
// when NO_COLOR is set (https://no-color.org).
func (a *App) writeReport(rep *report.Report, f report.Format) error {
	color := f == report.FormatText && isTerminal(a.Stdout) && a.Getenv("NO_COLOR") == "" && a.Getenv("TERM") != "dumb"
	return report.Write(a.Stdout, rep, f, report.Options{Color: color})
}

func firstNonEmptyString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func isTerminal(w any) bool {
	fh, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := fh.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
