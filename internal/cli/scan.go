// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/target"
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
	sweep        string
	prefixRate   float64
	sweepWait    time.Duration
	sweepRetries int
	all          bool
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

Large ranges are swept first (--sweep, default auto: lists of more than 64
addresses): every address gets a SYN (as root; a TCP connect otherwise) on
each TCP port the audit probes and a small request on each UDP service
(SNMP, SSDP, NAT-PMP, DNS), and only the addresses that answer on a port are
audited, as soon as they answer. --rate bounds everything sent (sweep packets
and audit connections) per second, --prefix-rate the sweep's packets into any
one /24 (or /64). On a lossy path, --sweep-retries N probes an address without
an open port again after its --sweep-wait, on the ports that did not answer,
up to N more times (each retry costs the silent addresses' packets and time
again). Addresses that did not answer have a record only with --all. With a sweep, JSON Lines output also has one "type":"prefix" line per
/24 when it is done: swept, live, closed, identified, failing.

--resume FILE appends each finished target's record to FILE and, on a later
run of the same scan (same targets, ports and vantage) with the same FILE,
skips the targets already in it (a partial last line left by a crash is
dropped); a sweep also appends each finished /24 and does not sweep it
again. A FILE that is not a resume file of this scan is refused and left
unchanged.

Exit codes: 0 nothing failed at or above --fail-on, 1 something did, 2 usage
error (including targets outside --scope), 3 the scan could not complete.`,
		Example: `  routerwatch scan 192.168.1.1 192.168.1.254
  routerwatch scan --scope 198.51.100.0/24 --wan-vantage 198.51.100.0/24 > results.jsonl
  routerwatch scan --targets-file customers.txt --scope 203.0.113.0/24 --format csv --resume state.jsonl
  sudo routerwatch scan --scope 198.51.100.0/24 --wan-vantage --rate 5000 --prefix-rate 1000 198.51.100.0/24 > results.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runScan(cmd.Context(), f, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.targetsFiles, "targets-file", nil, "read targets from FILE (one address, CIDR or range per line); repeatable")
	fl.StringArrayVar(&f.scope, "scope", nil, "prefixes the targets must lie in (CIDR, comma-separated or repeated); targets outside are refused")
	fl.IntVar(&f.workers, "workers", scan.DefaultWorkers, fmt.Sprintf("targets measured at once (1-%d)", scan.MaxWorkers))
	fl.Float64Var(&f.rate, "rate", scan.DefaultRate, fmt.Sprintf("packets (sweep) and new connections (audits) per second over the whole scan (at most %d)", scan.MaxRate))
	fl.StringVar(&f.sweep, "sweep", string(scan.SweepAuto), "find live addresses first: auto (more than 64 targets: syn as root, else connect), syn, connect, off")
	fl.Float64Var(&f.prefixRate, "prefix-rate", scan.DefaultPrefixRate, fmt.Sprintf("sweep packets per second into any one /24 or /64 (at most %d)", scan.MaxRate))
	fl.DurationVar(&f.sweepWait, "sweep-wait", scan.DefaultSweepWait, "how long the sweep awaits an address's answers after its last probe")
	fl.IntVar(&f.sweepRetries, "sweep-retries", 0, fmt.Sprintf("probe an address without an open port again after its wait, on the ports that did not answer, up to `N` more times (0-%d; for lossy paths)", scan.MaxSweepRetries))
	fl.BoolVar(&f.all, "all", false, "with a sweep, also write a record for each address that did not answer")
	fl.DurationVar(&f.timeout, "timeout", scan.DefaultTimeout, "deadline per target")
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
	format scan.Format
	opts   scan.Options
}

func (a *App) parseScanFlags(f *scanFlags, args []string) (*scanRun, error) {
	r := &scanRun{}
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
	o := &r.opts
	if o.FailOn, err = a.failOnSeverity(f.failOn); err != nil {
		return nil, err
	}
	// The engine validates these too (scan.ErrInvalid); checking here
	// names the flag.
	switch {
	case f.workers < 1 || f.workers > scan.MaxWorkers:
		return nil, usagef("--workers must be between 1 and %d", scan.MaxWorkers)
	case !(f.rate > 0 && f.rate <= scan.MaxRate): // also NaN
		return nil, usagef("--rate must be a number above 0 and at most %d", scan.MaxRate)
	case f.timeout <= 0 || f.timeout > scan.MaxTimeout:
		return nil, usagef("--timeout must be above 0 and at most %s", scan.MaxTimeout)
	case !(f.prefixRate > 0 && f.prefixRate <= scan.MaxRate): // also NaN
		return nil, usagef("--prefix-rate must be a number above 0 and at most %d", scan.MaxRate)
	case f.sweepWait <= 0 || f.sweepWait > scan.MaxSweepWait:
		return nil, usagef("--sweep-wait must be above 0 and at most %s", scan.MaxSweepWait)
	case f.sweepRetries < 0 || f.sweepRetries > scan.MaxSweepRetries:
		return nil, usagef("--sweep-retries must be between 0 and %d", scan.MaxSweepRetries)
	}
	if o.Sweep, err = scan.ParseSweepMode(f.sweep); err != nil {
		return nil, usagef("--sweep: %q is not one of auto, syn, connect, off", f.sweep)
	}
	o.Workers, o.Rate, o.Timeout, o.Resume = f.workers, f.rate, f.timeout, f.resume
	o.PrefixRate, o.SweepWait, o.SweepRetries, o.All = f.prefixRate, f.sweepWait, f.sweepRetries, f.all
	o.Ports = audit.Ports{}
	for _, p := range f.ports {
		if err := o.Ports.ParsePort(p); err != nil {
			return nil, usagef("--port %v", err)
		}
	}
	o.Judge = audit.Options{Vantage: exposure.LAN, Noun: "device"}
	if f.wanVantage {
		o.Judge.Vantage = exposure.WAN
	}
	specs, err := a.scanSpecs(f, args)
	if err != nil {
		return nil, err
	}
	if len(f.scope) == 0 {
		// Exactly the targets the user named.
		o.Scope = target.ScopeOf(specs)
	} else {
		if o.Scope, err = target.ParseScope(f.scope); err != nil {
			return nil, usagef("--scope: %v", err)
		}
		if err := target.CheckCovered(o.Scope, specs); err != nil {
			return nil, usagef("scan: %v: refusing to scan it; scan only address space you are responsible for", err)
		}
	}
	o.Targets = target.Targets(specs)
	if o.Targets.Count(scan.MaxTargets) > scan.MaxTargets {
		return nil, usagef("scan: more than %d targets; split the list (and use --resume)", scan.MaxTargets)
	}
	if o.Judge.Identifier, err = identifierFor(f.recogDir); err != nil {
		return nil, err
	}
	return r, nil
}

// scanSpecs reads the target arguments and files.
func (a *App) scanSpecs(f *scanFlags, args []string) ([]target.Spec, error) {
	var specs []target.Spec
	readFile := func(name string) error {
		ss, err := target.ReadList(name)
		if err != nil {
			return usagef("targets file: %v", err)
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

func (a *App) runScan(ctx context.Context, f *scanFlags, args []string) error {
	run, err := a.parseScanFlags(f, args)
	if err != nil {
		return err
	}
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	a.logger.Debug("scan: advisory data", "data", dataVersionLine(info))
	o := run.opts
	o.Judge.Index = ix
	o.Logger = a.logger

	w, err := scan.NewWriter(a.Stdout, run.format)
	if err != nil {
		return err
	}
	var progress *scan.Progress
	o.Start = func(todo, resumed, dropped int) {
		if dropped > 0 {
			fmt.Fprintf(a.Stderr, "routerwatch: resume file %s: ignored %d line(s) that were not complete records (a scan interrupted mid-write leaves one)\n", f.resume, dropped)
		}
		if resumed > 0 {
			fmt.Fprintf(a.Stderr, "routerwatch: resuming: %d of %d target(s) already done in %s\n", resumed, todo+resumed, f.resume)
		}
		if isTerminal(a.Stderr) && todo > 0 {
			progress = scan.NewProgress(a.Stderr, todo, nil)
		}
	}
	o.Progress = func(c scan.SweepCounts) {
		if progress != nil {
			progress.Sweep(c)
		}
	}
	if run.format == scan.FormatJSONL {
		o.Prefix = func(ps *scan.PrefixSummary) error {
			b, err := scan.MarshalPrefixLine(ps)
			if err == nil {
				if progress != nil {
					progress.Clear()
				}
				_, err = a.Stdout.Write(b)
			}
			if err != nil {
				return fmt.Errorf("writing results: %w", err)
			}
			return nil
		}
	}
	o.Record = func(rec *scan.Record) error {
		if progress != nil {
			progress.Clear()
			defer progress.Done()
		}
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("writing results: %w", err)
		}
		return nil
	}
	out, runErr := scan.Run(ctx, o)
	if progress != nil {
		progress.Clear()
	}
	switch {
	case errors.Is(runErr, scan.ErrResume):
		return &usageError{fmt.Errorf("--resume: %w", runErr)}
	case errors.Is(runErr, scan.ErrInvalid):
		return &usageError{fmt.Errorf("scan: %w", runErr)}
	case out == nil:
		return fmt.Errorf("scan: %w", runErr)
	}
	var sumOut io.Writer = a.Stderr
	if run.format == scan.FormatText {
		sumOut = a.Stdout
		fmt.Fprintln(sumOut)
	}
	writeErr := out.Summary.Write(sumOut, out.Elapsed)
	switch {
	case runErr != nil && errors.Is(runErr, context.Canceled):
		// Interrupted: what finished is written (and in the resume file).
		return runErr
	case runErr != nil:
		return fmt.Errorf("scan: %w", runErr)
	case writeErr != nil:
		return fmt.Errorf("scan: writing results: %w", writeErr)
	case out.Failing > 0:
		return &findingsError{n: out.Failing}
	}
	return nil
}
