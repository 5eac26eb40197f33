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
	"github.com/routerwatch/routerwatch/internal/buildinfo"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/target"
)

// defaultCheckTimeout bounds a whole `routerwatch check`: the device
// probes (a LAN router answers them in a few seconds; silent UDP services
// take their full waits, about 3 s) run next to the DNS checks (10 s with
// DHCP discovery), and a hostile device is cut at its per-target
// deadline; 30 s leaves room for both and for the confirming request.
const defaultCheckTimeout = 30 * time.Second

// checkTargetShare is the part of --timeout the device probes get as
// their per-target deadline; the rest covers the Runner's grace for a
// stuck probe (2 s), the opt-in confirming request (at most 5 s) and
// writing the report, so that the whole run ends inside --timeout.
const checkTargetShare = 0.75

type checkFlags struct {
	dnsOptions
	targets        []string
	ports          []string
	wanVantage     bool
	recogDir       string
	confirm        bool
	noDNS          bool
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
	fl.StringArrayVar(&f.ports, "port", nil, "probe SERVICE on PORT instead of its usual port, e.g. ssh=3322 or http=8081,8082 (services: "+strings.Join(audit.PortServices(), ", ")+"); repeatable")
	fl.DurationVar(&f.timeout, "timeout", defaultCheckTimeout, "deadline for the whole run")
	fl.StringVar(&f.format, "format", "", "output format: text, json or html (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical (default high)")
	addDNSFlags(cmd, &f.dnsOptions)
	return cmd
}

// checkRun is a validated check command line.
type checkRun struct {
	format     report.Format
	failOn     finding.Severity
	targets    []netip.Addr
	ports      audit.Ports
	vantage    exposure.Vantage
	identifier *identify.Identifier
	dns        *dnsaudit.Plan // nil when the DNS checks are skipped
	dnsSkipped string
}

func (a *App) parseCheckFlags(f *checkFlags) (*checkRun, error) {
	r := &checkRun{vantage: exposure.LAN, ports: audit.Ports{}}
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
	if r.targets, err = parseTargetAddrs(f.targets); err != nil {
		return nil, err
	}
	for _, p := range f.ports {
		if err := r.ports.ParsePort(p); err != nil {
			return nil, usagef("--port %v", err)
		}
	}
	if f.wanVantage {
		r.vantage = exposure.WAN
		if len(r.targets) == 0 {
			return nil, usagef("--wan-vantage needs --target: the router's public address, checked from outside your network")
		}
		if f.confirm {
			return nil, usagef("--confirm is sent only from the LAN to your own router; it cannot be combined with --wan-vantage")
		}
	}
	if r.identifier, err = identifierFor(f.recogDir); err != nil {
		return nil, err
	}
	switch {
	case f.noDNS:
		r.dnsSkipped = "DNS checks skipped (--no-dns)"
	case f.wanVantage:
		r.dnsSkipped = "DNS checks skipped: --wan-vantage checks the router from outside, and the DNS checks are about this machine's resolvers"
	default:
		if r.dns, err = a.dnsPlan(&f.dnsOptions); err != nil {
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

// routerTargets picks the default gateways: IPv4 ones first; IPv6 ones
// only when there is no IPv4 gateway (the same router usually has both,
// and auditing it twice doubles time and findings).
func routerTargets(facts *hostnet.Facts) []netip.Addr {
	var v4, v6 []netip.Addr
	for _, g := range facts.Gateways {
		switch {
		case g.Addr.Is4() && !slices.Contains(v4, g.Addr):
			v4 = append(v4, g.Addr)
		case !g.Addr.Is4() && !slices.Contains(v6, g.Addr):
			v6 = append(v6, g.Addr)
		}
	}
	if len(v4) > 0 {
		return v4
	}
	return v6
}

func (a *App) runCheck(ctx context.Context, f *checkFlags) error {
	run, err := a.parseCheckFlags(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	started := time.Now()
	var facts hostnet.Facts
	if run.vantage == exposure.LAN {
		facts = hostnet.Gather(ctx, hostnet.DefaultEnv())
	}
	targets := run.targets
	if len(targets) == 0 {
		if targets = routerTargets(&facts); len(targets) == 0 {
			return errors.New("check: no default gateway found on this machine; name the router with --target")
		}
	}
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}

	// The device probes reach only the routers; the DNS checks have their
	// own dialers, scoped to the gateways, the resolvers and the trusted
	// resolvers.
	scope := target.NewScope()
	for _, t := range targets {
		scope = scope.WithAddr(t)
	}
	dialer := netx.NewDialer(scope, netx.Options{})
	targetTimeout := min(probe.DefaultTargetTimeout, time.Duration(float64(f.timeout)*checkTargetShare))
	st := a.newStatusLine(len(targets), run.dns != nil)
	runner := &probe.Runner{Dialer: dialer, Probes: audit.Probes(run.ports), Workers: len(targets), TargetTimeout: targetTimeout,
		OnResult: func(probe.Result) { st.probeDone() }}
	opts := audit.Options{Vantage: run.vantage, Identifier: run.identifier, Index: ix, Noun: "router", TargetTimeout: targetTimeout}

	var (
		wg      sync.WaitGroup
		dnsRes  *dnsaudit.Result
		dnsErr  error
		reports []probe.TargetReport
	)
	if run.dns != nil {
		wg.Go(func() {
			dnsRes, dnsErr = run.dns.WithFacts(&facts).Run(ctx)
			dnsErr = dnsAuditError(dnsErr)
			st.dnsDone()
		})
	}
	a.logger.Debug("check: probing", "targets", len(targets), "vantage", run.vantage, "scope", scope.String(), "target_timeout_seconds", targetTimeout.Seconds())
	// Run's error is the context's (what was measured is still reported)
	// or a configuration error before anything was measured.
	runErr := runner.Run(ctx, slices.Values(probeTargets(targets)), func(tr probe.TargetReport) { reports = append(reports, tr) })
	wg.Wait()
	if runErr != nil && ctx.Err() == nil {
		st.clear()
		return fmt.Errorf("check: %w", runErr)
	}
	if dnsErr != nil {
		st.clear()
		return fmt.Errorf("check: DNS checks: %w", dnsErr)
	}
	slices.SortFunc(reports, func(x, y probe.TargetReport) int { return x.Target.Addr.Compare(y.Target.Addr) })

	var devices []audit.Device
	for _, tr := range reports {
		dev := audit.Judge(tr, opts, nil)
		if f.confirm {
			c := audit.Confirm(ctx, dialer, &dev, tr)
			dev = audit.Judge(tr, opts, c)
		}
		devices = append(devices, dev)
	}
	st.clear()

	rep := a.checkReport(run, devices, dnsRes, &facts, started)
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
	answered := false
	for i := range devices {
		answered = answered || devices[i].Answered
	}
	if !answered {
		return fmt.Errorf("check: %s did not answer on any port: the check could not be done", addrList(targets))
	}
	return nil
}

func probeTargets(as []netip.Addr) []probe.Target {
	out := make([]probe.Target, len(as))
	for i, a := range as {
		out[i] = probe.Target{Addr: a}
	}
	return out
}

func addrList(as []netip.Addr) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// checkReport builds the report: the most urgent headline (a hijacked DNS
// first: it is an attack in progress; else the worst router's), the
// steps, then every finding.
func (a *App) checkReport(run *checkRun, devices []audit.Device, dns *dnsaudit.Result, facts *hostnet.Facts, started time.Time) *report.Report {
	rep := &report.Report{Tool: report.Tool{Name: "routerwatch", Version: buildinfo.String()}, Command: "check", StartedAt: started}
	scope := target.NewScope()
	for i := range devices {
		d := &devices[i]
		scope = scope.WithAddr(d.Target.Addr)
		rep.Subjects = append(rep.Subjects, deviceSubject(d, facts))
		rep.Findings = append(rep.Findings, d.Findings...)
	}
	// The worst router speaks first.
	worst := -1
	for i := range devices {
		if worst < 0 || rank(&devices[i]) > rank(&devices[worst]) {
			worst = i
		}
	}
	if worst >= 0 {
		rep.Verdict.Headline = audit.Headline(&devices[worst], true)
		for _, s := range audit.Steps(&devices[worst]) {
			rep.Steps = append(rep.Steps, finding.Step{Title: s.Title, Detail: s.Detail})
		}
		for i := range devices {
			if i == worst {
				continue
			}
			for _, s := range audit.Steps(&devices[i]) {
				rep.Steps = append(rep.Steps, finding.Step{Title: s.Title + " (" + devices[i].Target.Addr.String() + ")", Detail: s.Detail})
			}
		}
	}
	rep.Notes = append(rep.Notes, "vantage: "+string(run.vantage))
	switch {
	case dns == nil:
		rep.Notes = append(rep.Notes, run.dnsSkipped)
	default:
		for _, p := range dns.Scope().Prefixes() {
			scope = scope.With(p)
		}
		rep.Findings = append(rep.Findings, dns.Findings()...)
		if dns.Tested() {
			rep.Subjects = append(rep.Subjects, dns.Subjects()...)
			dnsSteps := dns.Steps()
			if o := dns.Overall(); o == dnshijack.VerdictHijacked || o == dnshijack.VerdictSuspicious {
				// An attack in progress comes before the router's flaws.
				rep.Verdict.Headline = dns.Headline() + " " + rep.Verdict.Headline
				rep.Steps = append(slices.Clone(dnsSteps), rep.Steps...)
			} else {
				rep.Steps = append(rep.Steps, dnsSteps...)
			}
		}
		rep.Notes = append(rep.Notes, dns.Note())
	}
	rep.Notes = append([]string{"scope: " + scope.String()}, rep.Notes...)
	rep.FinishedAt = time.Now()
	rep.Finish()
	return rep
}

// rank orders devices by how urgent their headline is.
func rank(d *audit.Device) int {
	if !d.Answered {
		return 0
	}
	if w, ok := d.Worst(); ok {
		return 2 + int(w)
	}
	return 1
}

func deviceSubject(d *audit.Device, facts *hostnet.Facts) report.Subject {
	s := report.Subject{ID: d.Target.Addr.String(), Kind: "router", Label: d.Subject, Verdict: d.Verdict()}
	id := d.Identity
	for _, fl := range []struct {
		key string
		f   identify.Field
	}{{"vendor", id.Vendor}, {"model", id.Model}, {"hardware", id.HWRev}, {"firmware", id.Firmware}, {"region", id.Region}} {
		v := "unknown"
		if fl.f.Value != "" {
			v = fl.f.Value + " (" + fl.f.Confidence.String() + " confidence)"
		}
		s.Attributes = append(s.Attributes, finding.Evidence{Key: fl.key, Value: v})
	}
	s.Attributes = append(s.Attributes, finding.Evidence{Key: "vantage", Value: string(d.Vantage)},
		finding.Evidence{Key: "open", Value: firstNonEmptyString(strings.Join(d.OpenServices(), ", "), "none")})
	for _, g := range facts.Gateways {
		if g.Addr == d.Target.Addr {
			s.Attributes = append(s.Attributes, dnsaudit.GatewayEvidence(g)...)
		}
	}
	return s
}

// statusLine shows what check is doing, on stderr when it is a terminal.
type statusLine struct {
	a      *App
	on     bool
	mu     sync.Mutex // guards the following
	probes int
	total  int
	dns    string
	drawn  bool
}

func (a *App) newStatusLine(targets int, dns bool) *statusLine {
	s := &statusLine{a: a, on: isTerminal(a.Stderr), total: targets * len(audit.Probes(nil))}
	if dns {
		s.dns = "running"
	}
	s.draw()
	return s
}

func (s *statusLine) probeDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes++
	s.drawLocked()
}

func (s *statusLine) dnsDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dns = "done"
	s.drawLocked()
}

func (s *statusLine) draw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drawLocked()
}

func (s *statusLine) drawLocked() {
	if !s.on {
		return
	}
	line := fmt.Sprintf("\r\x1b[Kchecking: device probes %d/%d", s.probes, s.total)
	if s.dns != "" {
		line += ", DNS checks " + s.dns
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
