// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// resumedRecord is what a sweep needs of a resumed record.
type resumedRecord struct{ live, identified, failing bool }

// sweepBurst is the global limiter's burst: sweepSlack's worth of
// packets, so that at high rates the sender sleeps in steps a timer
// keeps (a sleep per packet would cap it near 5,000 a second), and
// bursts stay a few milliseconds long.
func sweepBurst(r float64) int { return max(1, int(r*sweepSlack.Seconds())) }

// runSweep runs the sweep stage and, pipelined behind it, the audits of
// the live addresses: a live address is handed to the audit as soon as
// its answers' wait is over, while the sweep goes on. Both stages draw on
// one limiter of Rate tokens a second (a sweep packet takes one, a
// target's audit SocketsPerTarget), so Rate bounds what the scan sends.
func (p *plan) runSweep(ctx context.Context, out *Outcome, resume *Resume, resumed map[netip.Addr]resumedRecord, log *slog.Logger) (*Outcome, error) {
	started := time.Now()
	probes := sweepProbes(p.Ports)
	v4, v6 := false, false
	for _, r := range p.Targets.Ranges() {
		v4, v6 = v4 || r.First.Is4(), v6 || r.First.Is6()
	}
	burst := sweepBurst(p.Rate)
	global := rate.NewLimiter(rate.Limit(p.Rate), burst)
	lanes := min(max(int(p.Rate/p.PrefixRate+0.999), 1), maxLanes)
	sw := &sweeper{probes: probes, global: global, interval: time.Duration(float64(time.Second) / p.PrefixRate),
		wait: p.SweepWait, retries: p.SweepRetries, lanes: lanes, active: map[netip.Addr]*hostState{}}
	sw.chunks = prefixChunks(p.Targets.Ranges())

	// The sweep's own dialer: the safety-net rate like the audits', room
	// for the connect sweep's outstanding probes and the UDP sockets, and
	// a read bound for each UDP socket sized from what the targets can
	// legitimately send (a few datagrams each).
	sdial := netx.NewDialer(p.Scope, netx.Options{Rate: 2 * p.Rate, Burst: 2 * burst, DialTimeout: connectTimeout,
		Concurrency: maxConnectOutstanding + 2*len(probes) + 8, MaxRead: int64(max(p.total, 1)) * maxDatagram * 4})
	tr, mode, err := openTransport(ctx, p.Sweep, sdial, probes, v4, v6, sw.answer)
	if err != nil {
		// Nothing was sent: no outcome to report.
		if errors.Is(err, netx.ErrRawUnavailable) {
			return nil, fmt.Errorf("sweep: %w; use --sweep connect (or auto)", err)
		}
		return nil, fmt.Errorf("sweep: %w", err)
	}
	sw.tr = tr

	// rmu guards the chunks, the counts, the outcome and the calls of
	// Record and Prefix and the resume file (serial, as documented).
	var (
		rmu      sync.Mutex
		firstErr error
		counts   = SweepCounts{Mode: mode}
		auditing = map[netip.Addr]liveHost{}
		q        = newLiveQueue()
	)
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	// Addresses already done: those of the prefixes the resume file holds
	// as done, and the recorded ones of other prefixes.
	resumedAddrs := 0
	if resume != nil {
		for _, ps := range resume.prefixes {
			resumedAddrs += ps.Swept
		}
		for a := range resumed {
			if _, done := resume.Prefix(prefixOf(a).String()); !done {
				resumedAddrs++
			}
		}
	}
	counts.Total = max(p.total-resumedAddrs, 0)
	if p.Start != nil {
		p.Start(counts.Total, resumedAddrs, out.Dropped)
	}
	finishChunk := func(c *chunk) {
		if c.done || c.sending || c.inflight > 0 || c.auditing > 0 {
			return
		}
		c.done = true
		c.finishSummary()
		out.Prefixes = append(out.Prefixes, c.sum)
		if resume != nil {
			keep(resume.AppendPrefix(&c.sum))
		}
		if p.Prefix != nil {
			keep(p.Prefix(&c.sum))
		}
	}
	sw.startChunk = func(c *chunk) bool {
		rmu.Lock()
		defer rmu.Unlock()
		if resume != nil {
			if ps, ok := resume.Prefix(c.prefix.String()); ok {
				out.Prefixes = append(out.Prefixes, ps)
				c.done = true // summarized already
				return false
			}
		}
		c.sending = true
		return true
	}
	sw.skip = func(a netip.Addr) bool { return resume != nil && resume.Done(a.String()) }
	sw.skipped = func(c *chunk, a netip.Addr) {
		rmu.Lock()
		defer rmu.Unlock()
		r := resumed[a]
		c.sum.Swept++
		for _, x := range []struct {
			ok bool
			n  *int
		}{{r.live, &c.sum.Live}, {r.identified, &c.sum.Identified}, {r.failing, &c.sum.Failing}} {
			if x.ok {
				*x.n++
			}
		}
	}
	sw.started = func(c *chunk) {
		rmu.Lock()
		c.inflight++
		rmu.Unlock()
	}
	sw.chunkSent = func(c *chunk) {
		rmu.Lock()
		defer rmu.Unlock()
		c.sending = false
		finishChunk(c)
	}
	sw.settle = func(x settled) {
		rmu.Lock()
		defer rmu.Unlock()
		c := x.c
		c.inflight--
		c.sum.Swept++
		counts.Swept++
		if len(x.open) > 0 {
			c.sum.Live++
			counts.Live++
			c.auditing++
			h := liveHost{a: x.a, c: c, started: x.started}
			for _, i := range x.open {
				h.open = append(h.open, probes[i].label())
			}
			q.push(h)
		} else {
			if x.closed {
				c.sum.Closed++
			}
			if p.All {
				rec := silentRecord(x.a, p, mode, x.closed, x.started)
				if p.Record != nil {
					keep(p.Record(&rec))
				}
				out.Summary.Add(&rec, false)
			}
		}
		finishChunk(c)
	}
	sw.backlog = q.len
	sendErrs := 0
	sw.sendErr = func(a netip.Addr, err error) error {
		if errors.Is(err, netx.ErrOutOfScope) {
			return err // never: the plan checked every target
		}
		// An address without a route, or a full send queue: the probe is
		// lost and the address counts as silent if nothing else answers.
		if sendErrs++; sendErrs <= 10 {
			log.Debug("sweep: send failed", "addr", a.String(), "err", err.Error())
		}
		return nil
	}
	progress := func() {
		if p.Progress != nil {
			rmu.Lock()
			c := counts
			rmu.Unlock()
			p.Progress(c)
		}
	}

	log.Debug("scan: sweeping", "mode", string(mode), "targets", counts.Total, "probes", len(probes), "rate", p.Rate,
		"prefix_rate", p.PrefixRate, "lanes", lanes, "wait_seconds", p.SweepWait.Seconds(), "retries", p.SweepRetries)
	sweepDone := make(chan error, 1)
	stopProgress := make(chan struct{})
	go func() {
		err := sw.run(ctx)
		tr.close()
		q.close()
		sweepDone <- err
	}()
	go func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				progress()
			case <-stopProgress:
				return
			}
		}
	}()

	adial := netx.NewDialer(p.Scope, netx.Options{Rate: 2 * p.Rate, Burst: 4 * SocketsPerTarget,
		Concurrency: min(p.Workers*SocketsPerTarget, 8192)})
	runner := &probe.Runner{Dialer: adial, Probes: audit.Probes(p.Ports), Workers: p.Workers, TargetTimeout: p.Timeout}
	targets := func(yield func(probe.Target) bool) {
		for {
			h, ok := q.pop()
			if !ok {
				return
			}
			// A target's audit opens about SocketsPerTarget connections:
			// it takes their tokens (one at a time: the burst is small).
			for range SocketsPerTarget {
				if global.Wait(ctx) != nil {
					return
				}
			}
			rmu.Lock()
			auditing[h.a] = h
			rmu.Unlock()
			if !yield(probe.Target{Addr: h.a}) {
				return
			}
		}
	}
	runErr := runner.Run(ctx, targets, func(tr probe.TargetReport) {
		dev := audit.Judge(tr, p.Judge, nil)
		rec := FromDevice(&dev)
		rmu.Lock()
		defer rmu.Unlock()
		h := auditing[tr.Target.Addr]
		delete(auditing, tr.Target.Addr)
		rec.Sweep = &SweepResult{Mode: string(mode), Open: h.open}
		out.Measured++
		counts.Audited++
		if resume != nil {
			keep(resume.Append(&rec))
		}
		if p.Record != nil {
			keep(p.Record(&rec))
		}
		out.Summary.Add(&rec, false)
		failing := rec.Failing(p.FailOn)
		if failing {
			out.Failing++
		}
		if c := h.c; c != nil {
			c.auditing--
			if rec.Identity.Model != "" {
				c.sum.Identified++
			}
			if failing {
				c.sum.Failing++
			}
			finishChunk(c)
		}
	})
	// The audits end when the sweep has closed the queue (or ctx ended).
	sweepErr := <-sweepDone
	close(stopProgress)
	progress()
	out.Elapsed = time.Since(started)
	rmu.Lock()
	c := counts
	out.Sweep = &c
	out.Summary.Sweep = &c
	out.Summary.Prefixes = out.Prefixes
	rmu.Unlock()
	log.Debug("scan: sweep done", "mode", string(mode), "packets", sw.sent, "retried_addresses", sw.retried, "swept", c.Swept, "live", c.Live,
		"audited", c.Audited, "send_errors", sendErrs, "elapsed_seconds", out.Elapsed.Seconds())
	switch {
	case runErr != nil:
		return out, runErr
	case sweepErr != nil:
		return out, sweepErr
	}
	return out, firstErr
}

// SweepResult is what the sweep saw of a live address: its mode and the
// ports that answered ("tcp/80", "udp/161").
type SweepResult struct {
	Mode string   `json:"mode"`
	Open []string `json:"open"`
}

// silentRecord is the record of a swept address that had no open port
// (with Options.All): nothing was audited.
func silentRecord(a netip.Addr, p *plan, mode SweepMode, closed bool, started time.Time) Record {
	r := Record{SchemaVersion: SchemaVersion, Target: a.String(), Status: StatusSilent, Vantage: string(p.Judge.Vantage),
		StartedAt: started.UTC(), ElapsedSeconds: round3(time.Since(started).Seconds()),
		Headline:      "Device " + a.String() + " did not answer the sweep on any port: nothing was audited.",
		Identity:      Identity{Confidence: "low"},
		Vulnerability: Vulnerability{Verdict: "unidentified", CVEs: []string{}},
		Services:      []Service{}, Findings: []finding.Finding{},
		Sweep: &SweepResult{Mode: string(mode), Open: []string{}}}
	if closed {
		r.Status = StatusClosed
		r.Headline = "Device " + a.String() + " reset every TCP port the sweep tried and answered no UDP request: nothing was audited."
	}
	return r
}
