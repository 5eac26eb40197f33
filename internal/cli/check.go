// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/routeraudit"
)

type checkFlags struct {
	dnsOptions
	targets        []string
	ports          []string
	wanVantage     bool
	recogDir       string
	confirm        bool
	noDNS          bool
	settings       bool
	credentials    string
	adapter        string
	adapterPort    uint16
	timeout        time.Duration
	format, failOn string
}

func (a *App) newCheckCmd() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Audit this network's router (identity, advisories, exposure, DNS)",
		Long: `check audits your router: it names it (vendor, model, hardware version and
firmware build, as far as the device shows them), matches it against the
advisories (built in, imported, CISA KEV, end of life), lists every management
or risky service it exposes (web admin page, SSH, telnet, FTP, SNMP with a
default community, UPnP, NAT-PMP/PCP, TR-069, MikroTik Winbox and API), and runs
the DNS checks of 'routerwatch dns' on the resolvers this machine is given.
The verdict comes first, then what to do, then every finding.

The router is this machine's default gateway, or the address named with
--target. Only that address, the resolvers found or named and the trusted
resolvers are contacted; nothing is exploited and nothing is logged in to.

--wan-vantage judges from outside: run check on a machine outside your network
against your router's public address (--target is then required); every
management service that answers is remote management, a high-severity
finding. The DNS checks are skipped (they are about this machine's resolvers).

--confirm sends one extra request to your own TP-Link router from the LAN: the
CVE-2023-50224 request (GET /loginFs/./dropbear/dropbearpwd) that a vulnerable
router answers with its admin credential file. routerwatch records only the
status code, the content type and whether the answer has the file's shape; it
never keeps, logs or prints what the router sent. Use it only on a router you
own: the secret crosses your network.

Exit codes: 0 nothing failed at or above --fail-on, 1 something did, 2 usage
error, 3 the check could not complete (no router found, the router did not
answer at all, or interrupted).`,
		Example: `  sudo routerwatch check
  routerwatch check --no-dhcp --format html > report.html
  routerwatch check --target 192.168.0.1 --confirm
  routerwatch check --wan-vantage --target 203.0.113.7 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCheck(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.targets, "target", nil, "check this router (an IP address) instead of the default gateway; repeatable")
	fl.BoolVar(&f.wanVantage, "wan-vantage", false, "judge from the Internet side: run from outside your network against the router's public address (needs --target)")
	fl.StringVar(&f.recogDir, "recog-dir", "", "also identify with the rapid7 recog fingerprint database in this directory (its xml/ folder)")
	fl.BoolVar(&f.confirm, "confirm", false, "send the CVE-2023-50224 confirming request to your own TP-Link router (LAN only; the answer is never kept)")
	fl.BoolVar(&f.noDNS, "no-dns", false, "skip the DNS checks")
	fl.BoolVar(&f.settings, "settings", false, "also read the router's settings with your login (prompted for when no credentials file or environment gives it)")
	fl.StringVar(&f.credentials, "credentials", "", "credentials file (YAML, mode 0600): also read the router's settings with it")
	fl.StringVar(&f.adapter, "adapter", configaudit.Auto, "adapter for the settings: auto or one of "+strings.Join(adapters.Names(), ", "))
	fl.Uint16Var(&f.adapterPort, "adapter-port", 0, "the settings adapter's port when it is not the usual one")
	fl.StringArrayVar(&f.ports, "port", nil, "probe SERVICE on PORT instead of its usual port, e.g. ssh=3322 or http=8081,8082 (services: "+strings.Join(audit.PortServices(), ", ")+"); repeatable")
	fl.DurationVar(&f.timeout, "timeout", routeraudit.DefaultTimeout, "deadline for the whole run")
	fl.StringVar(&f.format, "format", "", "output format: text, json or html (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical (default high)")
	addDNSFlags(cmd, &f.dnsOptions)
	return cmd
}

// checkRun is a validated check command line.
type checkRun struct {
	format report.Format
	failOn finding.Severity
	opts   routeraudit.Options
}

func (a *App) parseCheckFlags(f *checkFlags) (*checkRun, error) {
	r := &checkRun{}
	o := &r.opts
	o.Vantage, o.Ports, o.Confirm, o.Timeout = exposure.LAN, audit.Ports{}, f.confirm, f.timeout
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
	if o.Targets, err = parseTargetAddrs(f.targets); err != nil {
		return nil, err
	}
	for _, p := range f.ports {
		if err := o.Ports.ParsePort(p); err != nil {
			return nil, usagef("--port %v", err)
		}
	}
	if f.wanVantage {
		o.Vantage = exposure.WAN
		if len(o.Targets) == 0 {
			return nil, usagef("--wan-vantage needs --target: the router's public address, checked from outside your network")
		}
		if f.confirm {
			return nil, usagef("--confirm is sent only from the LAN to your own router; it cannot be combined with --wan-vantage")
		}
	}
	if o.Identifier, err = identifierFor(f.recogDir); err != nil {
		return nil, err
	}
	// The router's own settings join the audit when a login is at hand
	// (or asked for with --settings).
	if !f.wanVantage && (f.settings || f.credentials != "" || a.cfg.CredentialsFile != "" || a.Getenv(envRouterPassword) != "") {
		if f.adapter != configaudit.Auto {
			if _, ok := adapters.Puller(f.adapter); !ok {
				return nil, usagef("--adapter %q: not one of auto, %s", f.adapter, strings.Join(adapters.Names(), ", "))
			}
		}
		if len(o.Targets) != 1 {
			return nil, usagef("reading the settings needs the router's address: give one --target")
		}
		creds, err := a.routerLogin(f.credentials, o.Targets[0], f.adapter)
		if err != nil {
			return nil, err
		}
		o.Settings = &routeraudit.SettingsOptions{Adapter: f.adapter, Port: f.adapterPort, Credentials: creds, Allowed: a.allowedResolvers()}
	}
	switch {
	case f.noDNS:
		o.DNSSkipped = "DNS checks skipped (--no-dns)"
	case f.wanVantage:
		o.DNSSkipped = "DNS checks skipped: --wan-vantage checks the router from outside, and the DNS checks are about this machine's resolvers"
	default:
		if o.DNS, err = a.dnsPlan(&f.dnsOptions); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseTargetAddrs reads --target values: addresses only (a router is one
// address; ranges are scan's business).
func parseTargetAddrs(ss []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, usagef("--target %q: give the router's IP address (host names are never resolved; for ranges use routerwatch scan)", s)
		}
		a = a.Unmap()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// identifierFor builds the identifier, with the recog database when a
// directory is named.
func identifierFor(dir string) (*identify.Identifier, error) {
	var db *recog.DB
	if dir != "" {
		var err error
		if db, err = recog.Load(dir); err != nil {
			return nil, usagef("--recog-dir: %v", err)
		}
	}
	id, err := identify.New(identify.Options{Recog: db})
	if err != nil {
		return nil, fmt.Errorf("identification rules: %w", err)
	}
	return id, nil
}

func (a *App) runCheck(ctx context.Context, f *checkFlags) error {
	run, err := a.parseCheckFlags(f)
	if err != nil {
		return err
	}
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	o := run.opts
	o.Index, o.Logger = ix, a.logger
	st := a.newStatusLine()
	o.Progress = st.update
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	res, err := routeraudit.Run(ctx, o)
	st.clear()
	switch {
	case errors.Is(err, routeraudit.ErrInvalid):
		return &usageError{fmt.Errorf("check: %w", err)}
	case errors.Is(err, routeraudit.ErrNoGateway):
		return fmt.Errorf("check: %w with --target", err)
	case res == nil:
		return fmt.Errorf("check: %w", dnsAuditError(err))
	}
	rep := res.Report()
	rep.Notes = append(rep.Notes, "data: "+dataVersionLine(info))
	if err := a.writeReport(rep, run.format); err != nil {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if n := rep.Failing(run.failOn); n > 0 {
		return &findingsError{n: n}
	}
	if !res.Answered() {
		return fmt.Errorf("check: %s did not answer on any port: the check could not be done", addrList(res.Targets))
	}
	return nil
}

func addrList(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// statusLine shows what check is doing, on stderr when it is a terminal.
type statusLine struct {
	a     *App
	on    bool
	mu    sync.Mutex // guards drawn
	drawn bool
}

func (a *App) newStatusLine() *statusLine {
	return &statusLine{a: a, on: isTerminal(a.Stderr)}
}

// update draws p (routeraudit serializes the calls).
func (s *statusLine) update(p routeraudit.Progress) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf("\r\x1b[Kchecking: device probes %d/%d", p.ProbesDone, p.ProbesTotal)
	if p.DNS != "" {
		line += ", DNS checks " + p.DNS
	}
	fmt.Fprint(s.a.Stderr, line)
	s.drawn = true
}

func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.a.Stderr, "\r\x1b[K")
		s.drawn = false
	}
}
