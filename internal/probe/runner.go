// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
)

const (
	// DefaultWorkers is how many targets the Runner measures at once. The
	// dialer's own concurrency limit bounds sockets; this bounds
	// goroutines and memory for scans of large ranges.
	DefaultWorkers = 32
	// DefaultTargetTimeout is the deadline for all probes of one target.
	// A LAN router answers every probe in well under a second; a device
	// across the Internet in a few. Twenty seconds leaves room for a slow
	// UPnP device with many port mappings and still bounds a hostile one.
	DefaultTargetTimeout = 20 * time.Second
	// returnGrace is how long after the target deadline the Runner waits
	// for a probe that ignores its context (a library stuck in a read)
	// before reporting it as timed out and moving on.
	returnGrace = 2 * time.Second
)

// ErrNoReturn reports a probe that did not return by its deadline.
var ErrNoReturn = errors.New("probe did not return within its deadline")

// PanicError is a probe panic turned into an error result.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("probe panicked: %v", e.Value) }

// Result is one probe's outcome on one target.
type Result struct {
	Target  Target
	ProbeID string
	// Observation is never nil (a *None when the probe returned nothing).
	Observation Observation
	Status      netx.Status
	Err         error
	Started     time.Time
	Elapsed     time.Duration
}

// MarshalJSON renders the error as text and the elapsed time in seconds.
func (r Result) MarshalJSON() ([]byte, error) {
	var msg string
	if r.Err != nil {
		msg = r.Err.Error()
	}
	return json.Marshal(struct {
		Target      Target      `json:"target"`
		Probe       string      `json:"probe"`
		Status      netx.Status `json:"status"`
		Error       string      `json:"error,omitempty"`
		Started     time.Time   `json:"started"`
		Elapsed     float64     `json:"elapsed_seconds"`
		Observation Observation `json:"observation"`
	}{r.Target, r.ProbeID, r.Status, msg, r.Started, r.Elapsed.Seconds(), r.Observation})
}

// TargetReport is every probe's result for one target.
type TargetReport struct {
	Target  Target        `json:"target"`
	Results []Result      `json:"results"` // in the order of Runner.Probes
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"-"`
}

// MarshalJSON renders the elapsed time in seconds.
func (tr TargetReport) MarshalJSON() ([]byte, error) {
	type plain TargetReport
	return json.Marshal(struct {
		plain
		Elapsed Duration `json:"elapsed_seconds"`
	}{plain(tr), Duration(tr.Elapsed)})
}

// Observations returns the observations of all results.
func (tr *TargetReport) Observations() []Observation {
	out := make([]Observation, 0, len(tr.Results))
	for _, r := range tr.Results {
		out = append(out, r.Observation)
	}
	return out
}

// Runner runs probes against targets. Configure it with its fields, then
// call Run or RunTarget; it may be reused but not reconfigured meanwhile.
type Runner struct {
	// Dialer is the only way probes reach the network. Must be non-nil.
	Dialer *netx.Dialer
	// Probes to run on every target, IDs unique. Must be non-empty.
	Probes []Probe
	// Workers bounds how many targets are measured at once; 0 means
	// DefaultWorkers. All probes of one target run concurrently.
	Workers int
	// TargetTimeout is the deadline for all probes of one target; 0 means
	// DefaultTargetTimeout.
	TargetTimeout time.Duration
	// OnResult, if non-nil, is called as each probe ends, before its
	// target is complete (progress output). Calls are serialized.
	OnResult func(Result)

	checkOnce sync.Once
	checkErr  error
	mu        sync.Mutex // guards calls of OnResult
}

func (r *Runner) check() error {
	r.checkOnce.Do(func() {
		if r.Dialer == nil {
			r.checkErr = errors.New("probe: Runner.Dialer is nil")
			return
		}
		r.checkErr = CheckSet(r.Probes)
	})
	return r.checkErr
}

// Run measures every target and calls sink once per target, when all its
// probes have ended. sink is never called concurrently. Run returns when
// all started targets are done: with ctx's error if ctx ended first, or
// with a configuration error before measuring anything.
func (r *Runner) Run(ctx context.Context, targets iter.Seq[Target], sink func(TargetReport)) error {
	if err := r.check(); err != nil {
		return err
	}
	workers := r.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	var (
		wg     sync.WaitGroup
		sinkMu sync.Mutex
		sem    = make(chan struct{}, workers)
	)
	for t := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			rep := r.runTarget(ctx, t)
			sinkMu.Lock()
			defer sinkMu.Unlock()
			sink(rep)
		})
	}
	wg.Wait()
	return ctx.Err()
}

// RunTarget measures one target with every probe under one deadline and
// returns all results. A configuration error is reported in every result.
func (r *Runner) RunTarget(ctx context.Context, t Target) TargetReport {
	if err := r.check(); err != nil {
		rep := TargetReport{Target: t, Started: time.Now()}
		for _, p := range r.Probes {
			id := "invalid"
			if p != nil {
				id = p.ID()
			}
			rep.Results = append(rep.Results, Result{Target: t, ProbeID: id, Observation: NoneFor(p, netx.StatusError, err),
				Status: netx.StatusError, Err: err, Started: rep.Started})
		}
		return rep
	}
	return r.runTarget(ctx, t)
}

func (r *Runner) runTarget(ctx context.Context, t Target) TargetReport {
	timeout := r.TargetTimeout
	if timeout <= 0 {
		timeout = DefaultTargetTimeout
	}
	rep := TargetReport{Target: t, Started: time.Now(), Results: make([]Result, len(r.Probes))}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Refuse out-of-scope targets here, once, instead of letting every
	// probe learn it from the dialer.
	if err := r.Dialer.Check(t.Addr); err != nil {
		for i, p := range r.Probes {
			werr := Wrap(p.ID(), err)
			rep.Results[i] = Result{Target: t, ProbeID: p.ID(), Observation: NoneFor(p, netx.StatusOutOfScope, werr),
				Status: netx.StatusOutOfScope, Err: werr, Started: rep.Started}
			r.emit(rep.Results[i])
		}
		rep.Elapsed = time.Since(rep.Started)
		return rep
	}

	var wg sync.WaitGroup
	for i, p := range r.Probes {
		wg.Go(func() {
			rep.Results[i] = r.runProbe(tctx, p, t)
			r.emit(rep.Results[i])
		})
	}
	wg.Wait()
	rep.Elapsed = time.Since(rep.Started)
	return rep
}

func (r *Runner) emit(res Result) {
	if r.OnResult == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.OnResult(res)
}

type outcome struct {
	obs Observation
	err error
}

// runProbe runs p in its own goroutine so that a probe stuck past its
// deadline cannot hold the target: after the grace period the result is
// a timeout and the goroutine is abandoned (it ends when its I/O does).
func (r *Runner) runProbe(ctx context.Context, p Probe, t Target) Result {
	id := p.ID()
	res := Result{Target: t, ProbeID: id, Started: time.Now()}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{err: &Error{Probe: id, Status: netx.StatusError, Err: &PanicError{Value: v, Stack: debug.Stack()}}}
			}
		}()
		obs, err := p.Probe(ctx, r.Dialer, t)
		done <- outcome{obs: obs, err: err}
	}()

	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		grace := time.NewTimer(returnGrace)
		defer grace.Stop()
		select {
		case out = <-done:
		case <-grace.C:
			out = outcome{err: &Error{Probe: id, Status: netx.StatusTimeout, Err: ErrNoReturn}}
		}
	}
	res.Elapsed = time.Since(res.Started)
	res.Observation = out.obs
	if out.err != nil {
		res.Err = Wrap(id, out.err)
		res.Status = Classify(res.Err)
	} else {
		res.Status = netx.StatusOK
	}
	if res.Observation == nil {
		res.Observation = NoneFor(p, res.Status, res.Err)
	}
	return res
}
