// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/target"
)

// Scan defaults.
const (
	// defaultScanWorkers is how many targets are measured at once: each
	// holds about 16 sockets (four web ports, three banner ports, SNMP,
	// SSDP, NAT-PMP, PCP, TR-069, three MikroTik ports), so 64 targets
	// stay near a thousand open sockets.
	defaultScanWorkers = 64
	// defaultScanRate bounds new connections per second over the whole
	// scan: gentle on a provider's access network and on the routers
	// (a target takes about 16), while 64 targets still start in ~2 s.
	defaultScanRate = 500
	// defaultScanTimeout is the per-target deadline: a router on the far
	// side of the Internet answers in well under a second per probe,
	// silent UDP services take their full waits (about 3 s), and a
	// hostile device is cut here.
	defaultScanTimeout = 15 * time.Second
	// socketsPerTarget sizes the dialer's concurrency limit from the
	// worker count (see defaultScanWorkers), and turns --rate into a pace
	// of targets: each target opens about this many connections, most of
	// them at once when its probes start.
	socketsPerTarget = 16
	// maxScanTargets bounds one scan's target list: larger sweeps should
	// be split (and resumed) deliberately.
	maxScanTargets = 1 << 20
)

type scanFlags struct {
	targetsFiles []string
	scope        []string
	ports        []string
	workers      int
	rate         float64
	timeout      time.Duration
	format       string
	failOn       string
	resume       string
	wanVantage   bool
	recogDir     string
}

func (a *App) newScanCmd() *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan TARGETS...",
		Short: "Audit many routers (CIDRs, ranges, files)",
		Long: `scan audits every address of a target list the way check audits one router:
identity, advisory verdict, exposed management and risky services. It streams
one record per target as soon as that target is done: JSON Lines (the default
when stdout is not a terminal) or CSV, or a few readable lines per target; a
summary table follows at the end (on stderr, or on stdout in text mode).

TARGETS are addresses, CIDR prefixes (192.0.2.0/24), ranges (192.0.2.10-20 or
192.0.2.10-192.0.2.20) or @FILE (one entry per line, # comments); --targets-file
adds a file. With --scope, every target must lie inside the given prefixes, or
the scan is refused before anything is sent: scan only address space you are
responsible for. Nothing outside the targets is contacted, nothing is
exploited and nothing is logged in to.

--wan-vantage judges exposure as seen from the Internet (an ISP or CERT
scanning its customers' public addresses): every management service that
answers is remote management, a high-severity finding.

--resume FILE appends each finished target's record to FILE and, on a later
run with the same FILE, skips the targets already in it (a partial last line
left by a crash is dropped).

Exit codes: 0 nothing failed at or above --fail-on, 1 something did, 2 usage
error (including targets outside --scope), 3 the scan could not complete.`,
		Example: `  routerwatch scan 192.168.1.1 192.168.1.254
  routerwatch scan --scope 198.51.100.0/24 --wan-vantage 198.51.100.0/24 > results.jsonl
  routerwatch scan --targets-file customers.txt --scope 203.0.113.0/24 --format csv --resume state.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runScan(cmd.Context(), f, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.targetsFiles, "targets-file", nil, "read targets from FILE (one address, CIDR or range per line); repeatable")
	fl.StringArrayVar(&f.scope, "scope", nil, "prefixes the targets must lie in (CIDR, comma-separated or repeated); targets outside are refused")
	fl.IntVar(&f.workers, "workers", defaultScanWorkers, "targets measured at once")
	fl.Float64Var(&f.rate, "rate", defaultScanRate, "new connections per second over the whole scan")
	fl.DurationVar(&f.timeout, "timeout", defaultScanTimeout, "deadline per target")
	fl.StringVar(&f.format, "format", "", "output: jsonl, csv or text (default text on a terminal, else jsonl)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity: info, low, medium, high, critical (default high)")
	fl.StringVar(&f.resume, "resume", "", "append finished targets to FILE and skip those already in it")
	fl.BoolVar(&f.wanVantage, "wan-vantage", false, "judge exposure as seen from the Internet (public addresses)")
	fl.StringVar(&f.recogDir, "recog-dir", "", "also identify with the rapid7 recog fingerprint database in this directory")
	fl.StringArrayVar(&f.ports, "port", nil, "probe SERVICE on PORT instead of its usual port, e.g. ssh=3322 (services: "+strings.Join(audit.PortServices(), ", ")+"); repeatable")
	return cmd
}

// scanRun is a validated scan command line.
type scanRun struct {
	format  scan.Format
	failOn  finding.Severity
	targets []netip.Addr
	scope   target.Scope
	ports   audit.Ports
	vantage exposure.Vantage
	opts    audit.Options
}

func (a *App) parseScanFlags(f *scanFlags, args []string) (*scanRun, error) {
	r := &scanRun{vantage: exposure.LAN, ports: audit.Ports{}}
	format := f.format
	if format == "" {
		format = string(scan.FormatJSONL)
		if isTerminal(a.Stdout) {
			format = string(scan.FormatText)
		}
	}
	var err error
	if r.format, err = scan.ParseFormat(format); err != nil {
		return nil, usagef("--format: %q is not one of jsonl, csv, text", format)
	}
	if r.failOn, err = a.failOnSeverity(f.failOn); err != nil {
		return nil, err
	}
	switch {
	case f.workers < 1 || f.workers > 4096:
		return nil, usagef("--workers must be between 1 and 4096")
	case f.rate <= 0:
		return nil, usagef("--rate must be positive")
	case f.timeout <= 0:
		return nil, usagef("--timeout must be positive")
	}
	for _, p := range f.ports {
		if err := r.ports.ParsePort(p); err != nil {
			return nil, usagef("--port %v", err)
		}
	}
	if f.wanVantage {
		r.vantage = exposure.WAN
	}
	specs, err := a.scanSpecs(f, args)
	if err != nil {
		return nil, err
	}
	if r.scope, err = scanScope(f.scope, specs); err != nil {
		return nil, err
	}
	if r.targets, err = expand(specs); err != nil {
		return nil, err
	}
	id, err := identifierFor(f.recogDir)
	if err != nil {
		return nil, err
	}
	r.opts = audit.Options{Vantage: r.vantage, Identifier: id, Noun: "device", TargetTimeout: f.timeout}
	return r, nil
}

// scanSpecs reads the target arguments and files.
func (a *App) scanSpecs(f *scanFlags, args []string) ([]target.Spec, error) {
	var specs []target.Spec
	readFile := func(name string) error {
		fh, err := os.Open(name)
		if err != nil {
			return usagef("targets file: %v", err)
		}
		defer fh.Close()
		ss, err := target.ParseList(fh)
		if err != nil {
			return usagef("targets file %s: %v", name, err)
		}
		specs = append(specs, ss...)
		return nil
	}
	for _, arg := range args {
		if name, ok := strings.CutPrefix(arg, "@"); ok {
			if err := readFile(name); err != nil {
				return nil, err
			}
			continue
		}
		sp, err := target.ParseSpec(arg)
		if err != nil {
			return nil, usagef("%v", err)
		}
		specs = append(specs, sp)
	}
	for _, name := range f.targetsFiles {
		if err := readFile(name); err != nil {
			return nil, err
		}
	}
	if len(specs) == 0 {
		return nil, usagef("scan: give targets (addresses, CIDRs, ranges, @FILE) or --targets-file")
	}
	return specs, nil
}

// scanScope is --scope when given, with every target inside it, or else
// exactly the targets the user named.
func scanScope(flags []string, specs []target.Spec) (target.Scope, error) {
	if len(flags) == 0 {
		s := target.NewScope()
		for _, sp := range specs {
			for _, p := range sp.Prefixes() {
				s = s.With(p)
			}
		}
		return s, nil
	}
	s := target.NewScope()
	for _, fl := range flags {
		for _, part := range strings.Split(fl, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return s, usagef("--scope %q: give CIDR prefixes (198.51.100.0/24) or addresses", part)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			s = s.With(p)
		}
	}
	for _, sp := range specs {
		for _, p := range sp.Prefixes() {
			if !covered(s, p) {
				return s, usagef("scan: target %s is outside --scope %s (%s is not covered): refusing to scan it; scan only address space you are responsible for", sp.Text, s, p)
			}
		}
	}
	return s, nil
}

// covered reports whether one prefix of the scope contains all of p.
func covered(s target.Scope, p netip.Prefix) bool {
	for _, q := range s.Prefixes() {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// expand lists every address of the specs once, in order.
func expand(specs []target.Spec) ([]netip.Addr, error) {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, sp := range specs {
		for a := sp.First; ; a = a.Next() {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
				if len(out) > maxScanTargets {
					return nil, usagef("scan: more than %d targets; split the list (and use --resume)", maxScanTargets)
				}
			}
			if a == sp.Last {
				break
			}
		}
	}
	return out, nil
}

func (a *App) runScan(ctx context.Context, f *scanFlags, args []string) error {
	run, err := a.parseScanFlags(f, args)
	if err != nil {
		return err
	}
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	run.opts.Index = ix
	a.logger.Debug("scan: advisory data", "data", dataVersionLine(info))

	var sum scan.Summary
	var resume *scan.Resume
	failing := 0
	if f.resume != "" {
		in := map[netip.Addr]bool{}
		for _, t := range run.targets {
			in[t] = true
		}
		resume, err = scan.OpenResume(f.resume, func(r *scan.Record) {
			// Count in the summary only the records of this target list.
			if t, err := netip.ParseAddr(r.Target); err == nil && in[t] {
				sum.Add(r, true)
				if r.Failing(run.failOn) {
					failing++
				}
			}
		})
		if err != nil {
			return usagef("--resume: %v", err)
		}
		defer resume.Close()
		if resume.Dropped > 0 {
			fmt.Fprintf(a.Stderr, "routerwatch: resume file %s: ignored %d line(s) that were not complete records (a scan interrupted mid-write leaves one)\n", f.resume, resume.Dropped)
		}
	}
	var todo []netip.Addr
	for _, t := range run.targets {
		if resume == nil || !resume.Done(t.String()) {
			todo = append(todo, t)
		}
	}
	if resume != nil && len(todo) < len(run.targets) {
		fmt.Fprintf(a.Stderr, "routerwatch: resuming: %d of %d target(s) already done in %s\n", len(run.targets)-len(todo), len(run.targets), f.resume)
	}

	w, err := scan.NewWriter(a.Stdout, run.format)
	if err != nil {
		return err
	}
	var progress *scan.Progress
	if isTerminal(a.Stderr) && len(todo) > 0 {
		progress = scan.NewProgress(a.Stderr, len(todo), nil)
	}
	// --rate is kept by pacing the targets (rate/socketsPerTarget targets
	// a second), not by making connections queue in the dialer: a
	// connection that waits for the dialer's limiter eats into its probe's
	// own deadline, and a scan of many targets would then time out at its
	// tail on its own rate limit. The dialer still caps bursts, at twice
	// the rate, as a safety net.
	pace := rate.NewLimiter(rate.Limit(f.rate/socketsPerTarget), 1)
	dialer := netx.NewDialer(run.scope, netx.Options{Rate: 2 * f.rate, Burst: 4 * socketsPerTarget,
		Concurrency: min(f.workers*socketsPerTarget, 8192)})
	runner := &probe.Runner{Dialer: dialer, Probes: audit.Probes(run.ports), Workers: f.workers, TargetTimeout: f.timeout}
	var writeErr error
	started := time.Now()
	a.logger.Debug("scan: starting", "targets", len(todo), "workers", f.workers, "rate", f.rate, "scope", run.scope.String())
	runErr := runner.Run(ctx, pacedTargets(ctx, pace, todo), func(tr probe.TargetReport) {
		dev := audit.Judge(tr, run.opts, nil)
		rec := scan.FromDevice(&dev)
		if progress != nil {
			progress.Clear()
		}
		if err := w.Write(&rec); err != nil && writeErr == nil {
			writeErr = err
		}
		if resume != nil {
			if err := resume.Append(&rec); err != nil && writeErr == nil {
				writeErr = err
			}
		}
		sum.Add(&rec, false)
		if rec.Failing(run.failOn) {
			failing++
		}
		if progress != nil {
			progress.Done()
		}
	})
	if progress != nil {
		progress.Clear()
	}
	var out io.Writer = a.Stderr
	if run.format == scan.FormatText {
		out = a.Stdout
		fmt.Fprintln(out)
	}
	if err := sum.Write(out, time.Since(started)); err != nil && writeErr == nil {
		writeErr = err
	}
	switch {
	case writeErr != nil:
		return fmt.Errorf("scan: writing results: %w", writeErr)
	case runErr != nil && ctx.Err() != nil:
		// Interrupted: what finished is written (and in the resume file).
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		return fmt.Errorf("scan: %w", runErr)
	case runErr != nil:
		return fmt.Errorf("scan: %w", runErr)
	case failing > 0:
		return &findingsError{n: failing}
	}
	return nil
}

// pacedTargets yields the targets no faster than lim allows; it stops when
// ctx ends.
func pacedTargets(ctx context.Context, lim *rate.Limiter, as []netip.Addr) iter.Seq[probe.Target] {
	return func(yield func(probe.Target) bool) {
		for _, a := range as {
			if lim.Wait(ctx) != nil || !yield(probe.Target{Addr: a}) {
				return
			}
		}
	}
}
