// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/report"
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
	fl.DurationVar(&f.timeout, "timeout", dnsaudit.DefaultTimeout, "deadline for the whole run")
	fl.StringVar(&f.format, "format", "", "output format: text, json or html (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical (default high)")
	return cmd
}

// addDNSFlags registers the DNS checks' flags on cmd.
func addDNSFlags(cmd *cobra.Command, f *dnsOptions) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "test this resolver (IP or IP:PORT) instead of discovering them; repeatable")
	fl.StringArrayVar(&f.trustedDoH, "trusted-doh", nil, "trusted DNS-over-HTTPS endpoint https://IP[:PORT]/path[#tls-name]; repeatable (default "+strings.Join(dnsaudit.DefaultTrustedDoH(), ", ")+")")
	fl.StringArrayVar(&f.trustedDoT, "trusted-dot", nil, "trusted DNS-over-TLS server IP[:PORT][#tls-name]; repeatable (default "+strings.Join(dnsaudit.DefaultTrustedDoT(), ", ")+")")
	fl.StringArrayVar(&f.trustCA, "trust-ca", nil, "PEM file of extra CA certificates trusted for the trusted resolvers and the TLS check; repeatable")
	fl.StringArrayVar(&f.canaries, "canary", nil, "also watch this name (your company's sign-in, e.g. sso.example.org); repeatable")
	fl.StringArrayVar(&f.dnssecNames, "dnssec-name", nil, "DNSSEC-signed name used to test signature stripping; repeatable (default: built-in list)")
	fl.StringVar(&f.nxParent, "nxdomain-parent", "", "zone under which a random name must not exist (default example.com)")
	fl.StringVar(&f.iface, "interface", "", "interface for the DHCP and router-advertisement probes (default: the IPv4 default route's)")
	fl.StringVar(&f.indicators, "indicators", "", "JSON file of extra known-bad addresses, in the format of the built-in list (added to it)")
	fl.BoolVar(&f.noDHCP, "no-dhcp", false, "do not probe DHCPv4, router advertisements or DHCPv6 (no root needed)")
	// The TLS check's port is 443 in real life; tests and the lab serve
	// their HTTPS servers elsewhere.
	fl.Uint16Var(&f.tlsPort, "tls-port", dnsaudit.DefaultTLSPort, "port of the TLS check (testing)")
	_ = fl.MarkHidden("tls-port")
}

// dnsRun is a validated dns command line.
type dnsRun struct {
	format report.Format
	failOn finding.Severity
	plan   *dnsaudit.Plan
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
	if r.plan, err = a.dnsPlan(&f.dnsOptions); err != nil {
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

// dnsAuditOptions turns the DNS flags (shared by dns and check) into the
// engine's options.
func dnsAuditOptions(f *dnsOptions) dnsaudit.Options {
	return dnsaudit.Options{
		Resolvers: f.resolvers, TrustedDoH: f.trustedDoH, TrustedDoT: f.trustedDoT, TrustCA: f.trustCA,
		Canaries: f.canaries, DNSSECNames: f.dnssecNames, NXParent: f.nxParent, Interface: f.iface,
		Indicators: f.indicators, NoLinkProbes: f.noDHCP, TLSPort: f.tlsPort,
	}
}

// dnsPlan validates the DNS flags into the engine's plan, logging to the
// app's logger.
func (a *App) dnsPlan(f *dnsOptions) (*dnsaudit.Plan, error) {
	o := dnsAuditOptions(f)
	o.Logger = a.logger
	p, err := dnsaudit.NewPlan(o)
	return p, dnsAuditError(err)
}

// dnsAuditError maps the engine's usage errors to the CLI's (exit 2).
func dnsAuditError(err error) error {
	var ue *dnsaudit.UsageError
	if errors.As(err, &ue) {
		return &usageError{err}
	}
	return err
}

func (a *App) runDNS(ctx context.Context, f *dnsFlags) error {
	run, err := a.parseDNSFlags(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	started := time.Now()
	res, err := run.plan.Run(ctx)
	if err != nil {
		return dnsAuditError(err)
	}
	rep := res.Report(started)
	if err := a.writeReport(rep, run.format); err != nil {
		return err
	}
	if !res.Tested() {
		// Nothing to test: the report says why; exit 3.
		return dnsaudit.ErrNoResolver
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
