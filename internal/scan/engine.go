// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/target"
)

// Engine defaults and bounds.
const (
	// DefaultWorkers is how many targets are measured at once: each holds
	// about SocketsPerTarget sockets, so 64 targets stay near a thousand
	// open sockets.
	DefaultWorkers = 64
	// MaxWorkers bounds Options.Workers.
	MaxWorkers = 4096
	// DefaultRate bounds new connections per second over the whole scan:
	// gentle on a provider's access network and on the routers (a target
	// takes about SocketsPerTarget), while 64 targets still start in ~2 s.
	DefaultRate = 500
	// MaxRate bounds Options.Rate: beyond it the pacing would be off in
	// all but name (and NaN or +Inf would switch it off).
	MaxRate = 1_000_000
	// DefaultTimeout is the per-target deadline: a router on the far side
	// of the Internet answers in well under a second per probe, silent UDP
	// services take their full waits (about 3 s), and a hostile device is
	// cut here.
	DefaultTimeout = 15 * time.Second
	// MaxTimeout bounds Options.Timeout.
	MaxTimeout = time.Hour
	// SocketsPerTarget sizes the dialer's concurrency limit from the worker
	// count, and turns the rate into a pace of targets: each target opens
	// about this many connections (four web ports, three banner ports,
	// SNMP, SSDP, NAT-PMP, PCP, TR-069, three MikroTik ports, DNS), most
	// of them at once when its probes start.
	SocketsPerTarget = 16
	// MaxTargets bounds one scan: larger sweeps should be split (and
	// resumed) deliberately.
	MaxTargets = 1 << 20
)

// ErrInvalid marks an error in the Options: the scan did not start and
// nothing was sent (a usage error for a command line).
var ErrInvalid = errors.New("invalid scan options")

// ErrResume marks a resume file that could not be used (missing folder,
// not a regular file, not a resume file of this scan: ErrNotResumeFile).
// Such errors also match ErrInvalid: nothing was sent.
var ErrResume = errors.New("resume file unusable")

// Options configure one scan. The scan command and the fleet's range
// audits build them; zero numeric fields take the defaults above.
type Options struct {
	// Targets are the addresses to audit, each once. Required.
	Targets target.Set
	// Scope is what may be contacted; every target must lie in it.
	Scope target.Scope
	// Ports moves the device probes' ports (nil: the defaults).
	Ports audit.Ports
	// Judge configures the verdicts: vantage, identifier, advisory index,
	// the noun. Its TargetTimeout is set from Timeout.
	Judge audit.Options
	// Workers bounds the targets measured at once.
	Workers int
	// Rate bounds new connections per second over the whole scan.
	Rate float64
	// Timeout is the per-target deadline.
	Timeout time.Duration
	// Resume names the resume file: finished targets are appended to it,
	// and targets already in it are skipped (their records count in the
	// outcome). Empty: none.
	Resume string
	// FailOn is the severity at or above which a record counts as
	// failing.
	FailOn finding.Severity
	// Record receives each finished target's record, serially, as it
	// finishes (and never for targets skipped on resume). A returned
	// error is kept (the first one) and returned by Run once the scan
	// ends; the scan goes on, so that the resume file stays complete.
	Record func(*Record) error
	// Start, if set, is called once before the first target with how
	// many targets will be measured now, how many the resume file already
	// holds, and how many of its lines were not records.
	Start func(todo, resumed, dropped int)
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger

	// Sweep says how live addresses are found before the audits (""
	// means SweepAuto; see SweepMode).
	Sweep SweepMode
	// PrefixRate bounds the sweep's packets per second into one /24 (or
	// /64); 0 means DefaultPrefixRate. Rate is the bound over all
	// prefixes, of the sweep's packets and the audits' connections
	// together.
	PrefixRate float64
	// SweepWait is how long the answers to an address's last sweep probe
	// are awaited; 0 means DefaultSweepWait.
	SweepWait time.Duration
	// SweepRetries is how many more times an address without an open
	// port is probed, each time after its wait and only on the probes
	// that had no answer (a reset is final), before it settles as silent
	// or closed: a lossy path otherwise hides a live address behind one
	// lost SYN. 0 (the default) probes once; at most MaxSweepRetries.
	// Retries draw on Rate and PrefixRate like first probes.
	SweepRetries int
	// All asks for a record for every swept address, also those that did
	// not answer (without it, only live addresses have records).
	All bool
	// Prefix, if set, receives each prefix's summary when the prefix is
	// done (swept, and its live addresses recorded), serially with
	// Record. Its first error is kept like Record's.
	Prefix func(*PrefixSummary) error
	// Progress, if set, receives the sweep's counts every
	// progressEvery and once at its end (from another goroutine).
	Progress func(SweepCounts)
}

// Outcome is what a scan did.
type Outcome struct {
	// Summary counts every record of this target list, resumed ones
	// included.
	Summary Summary
	// Failing counts records with a failing finding at or above FailOn.
	Failing int
	// Total is how many targets the list has; Resumed how many the
	// resume file already held; Measured how many were measured now.
	Total, Resumed, Measured int
	// Dropped counts resume-file lines that were not records.
	Dropped int
	Elapsed time.Duration
	// Sweep is what the sweep stage did; nil when there was none.
	Sweep *SweepCounts
	// Prefixes are the swept prefixes' summaries, in the order they were
	// done (resumed ones first).
	Prefixes []PrefixSummary
}

// plan is validated Options with the defaults applied.
type plan struct {
	Options
	total int
	id    string
}

// newPlan validates o. Every error wraps ErrInvalid.
func newPlan(o Options) (*plan, error) {
	p := &plan{Options: o}
	if p.Workers == 0 {
		p.Workers = DefaultWorkers
	}
	if p.Rate == 0 {
		p.Rate = DefaultRate
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Sweep == "" {
		p.Sweep = SweepAuto
	}
	if p.PrefixRate == 0 {
		p.PrefixRate = DefaultPrefixRate
	}
	if p.SweepWait == 0 {
		p.SweepWait = DefaultSweepWait
	}
	if _, err := ParseSweepMode(string(p.Sweep)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case math.IsNaN(p.PrefixRate) || p.PrefixRate <= 0 || p.PrefixRate > MaxRate:
		return nil, fmt.Errorf("%w: prefix rate must be a number above 0 and at most %d packets per second", ErrInvalid, MaxRate)
	case p.SweepWait < 0 || p.SweepWait > MaxSweepWait:
		return nil, fmt.Errorf("%w: sweep wait must be above 0 and at most %s", ErrInvalid, MaxSweepWait)
	case p.SweepRetries < 0 || p.SweepRetries > MaxSweepRetries:
		return nil, fmt.Errorf("%w: sweep retries must be between 0 and %d", ErrInvalid, MaxSweepRetries)
	}
	switch {
	case p.Workers < 1 || p.Workers > MaxWorkers:
		return nil, fmt.Errorf("%w: workers must be between 1 and %d", ErrInvalid, MaxWorkers)
	case math.IsNaN(p.Rate) || p.Rate <= 0 || p.Rate > MaxRate:
		return nil, fmt.Errorf("%w: rate must be a number above 0 and at most %d connections per second", ErrInvalid, MaxRate)
	case p.Timeout < 0 || p.Timeout > MaxTimeout:
		return nil, fmt.Errorf("%w: per-target timeout must be above 0 and at most %s", ErrInvalid, MaxTimeout)
	case p.Targets.IsEmpty():
		return nil, fmt.Errorf("%w: no targets", ErrInvalid)
	case p.Judge.Index == nil:
		return nil, fmt.Errorf("%w: no advisory index", ErrInvalid)
	}
	if p.total = p.Targets.Count(MaxTargets); p.total > MaxTargets {
		return nil, fmt.Errorf("%w: more than %d targets; split the list (and use a resume file)", ErrInvalid, MaxTargets)
	}
	for _, r := range p.Targets.Ranges() {
		if !p.Scope.ContainsRange(r) {
			return nil, fmt.Errorf("%w: targets %s-%s are outside the scope %s", ErrInvalid, r.First, r.Last, p.Scope)
		}
	}
	if err := p.Ports.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := probe.CheckSet(audit.Probes(p.Ports)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if p.Sweep == SweepAuto && p.total <= SweepAutoMin {
		p.Sweep = SweepOff
	}
	p.Judge.TargetTimeout = p.Timeout
	p.id = ScanID(p.Targets, p.Ports.List(), string(p.Judge.Vantage))
	return p, nil
}

// Run audits every target of o (with a sweep, every live one) and returns
// what it did. Records stream to o.Record as targets finish; with a
// resume file, each is appended there first. Run returns an error
// wrapping ErrInvalid (or ErrNotResumeFile) before anything is sent; a
// nil Outcome and the error when the sweep's sockets cannot be opened
// (also before anything is sent: a SYN sweep without the privilege wraps
// netx.ErrRawUnavailable); ctx's error when it ended first (what finished
// is recorded, and in the resume file); or the first error of o.Record,
// o.Prefix or the resume file.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	p, err := newPlan(o)
	if err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	out := &Outcome{Total: p.total}
	var resume *Resume
	// resumed describes the resumed records, for the prefix summaries of
	// a sweep (an address with a record is not swept again).
	resumed := map[netip.Addr]resumedRecord{}
	if p.Resume != "" {
		resume, err = OpenResume(p.Resume, p.id, func(r *Record) {
			// Count only the records of this target list.
			if t, err := netip.ParseAddr(r.Target); err == nil && p.Targets.Contains(t) {
				out.Summary.Add(r, true)
				out.Resumed++
				failing := r.Failing(p.FailOn)
				if failing {
					out.Failing++
				}
				if p.Sweep != SweepOff {
					resumed[t] = resumedRecord{live: r.Status == StatusAnswered, identified: r.Identity.Model != "", failing: failing}
				}
			}
		})
		if err != nil {
			return nil, &resumeError{err}
		}
		defer resume.Close()
		out.Dropped = resume.Dropped
	}
	if p.Sweep != SweepOff {
		return p.runSweep(ctx, out, resume, resumed, log)
	}
	if p.Start != nil {
		p.Start(p.total-out.Resumed, out.Resumed, out.Dropped)
	}

	// The rate is kept by pacing the targets (Rate/SocketsPerTarget
	// targets a second), not by making connections queue in the dialer:
	// a connection that waits for the dialer's limiter eats into its
	// probe's own deadline, and a scan of many targets would then time
	// out at its tail on its own rate limit. The dialer still caps
	// bursts, at twice the rate, as a safety net.
	pace := rate.NewLimiter(rate.Limit(p.Rate/SocketsPerTarget), 1)
	dialer := netx.NewDialer(p.Scope, netx.Options{Rate: 2 * p.Rate, Burst: 4 * SocketsPerTarget,
		Concurrency: min(p.Workers*SocketsPerTarget, 8192)})
	runner := &probe.Runner{Dialer: dialer, Probes: audit.Probes(p.Ports), Workers: p.Workers, TargetTimeout: p.Timeout}
	started := time.Now()
	log.Debug("scan: starting", "targets", p.total, "resumed", out.Resumed, "workers", p.Workers, "rate", p.Rate, "scope", p.Scope.String())
	var firstErr error
	todo := func(yield func(netip.Addr) bool) {
		for a := range p.Targets.All() {
			if resume != nil && resume.Done(a.String()) {
				continue
			}
			if !yield(a) {
				return
			}
		}
	}
	runErr := runner.Run(ctx, paced(ctx, pace, todo), func(tr probe.TargetReport) {
		dev := audit.Judge(tr, p.Judge, nil)
		rec := FromDevice(&dev)
		out.Measured++
		if resume != nil {
			if err := resume.Append(&rec); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if p.Record != nil {
			if err := p.Record(&rec); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		out.Summary.Add(&rec, false)
		if rec.Failing(p.FailOn) {
			out.Failing++
		}
	})
	out.Elapsed = time.Since(started)
	log.Debug("scan: done", "measured", out.Measured, "elapsed_seconds", out.Elapsed.Seconds())
	switch {
	case runErr != nil:
		return out, runErr
	case firstErr != nil:
		return out, firstErr
	}
	return out, nil
}

// paced yields the addresses as targets no faster than lim allows; it
// stops when ctx ends.
func paced(ctx context.Context, lim *rate.Limiter, as iter.Seq[netip.Addr]) iter.Seq[probe.Target] {
	return func(yield func(probe.Target) bool) {
		for a := range as {
			if lim.Wait(ctx) != nil || !yield(probe.Target{Addr: a}) {
				return
			}
		}
	}
}

// resumeError wraps a resume-file error so that it matches ErrResume and
// ErrInvalid as well as its own cause.
type resumeError struct{ err error }

func (e *resumeError) Error() string { return e.err.Error() }
func (e *resumeError) Unwrap() []error {
	return []error{e.err, ErrResume, ErrInvalid}
}
