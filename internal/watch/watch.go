// SPDX-License-Identifier: Apache-2.0

// Package watch is the engine of `routerwatch watch`: the same audits as
// `dns` and `config pull`, on an interval with jitter, every result
// stored, and an alert on each change of state (a problem appears, goes
// away, or changes severity), never on every run.
//
// One cycle: the DNS audit of this machine's network (dnsaudit, the same
// plan `dns` runs), then each router's settings (configaudit: pull,
// record, judge). Their failing findings become problems; a router's DNS
// settings that are not the owner's and a DNS audit that finds a lying
// resolver are one problem, "DNS hijacked", whose words name the change
// and the DNS verdict, so that a hijack raises one alert, not one per
// finding. A router that does not answer is a problem of its own, and the
// problems about its settings are left as they were (neither raised again
// nor resolved) until it answers; after a failure the next cycle comes
// sooner, backing off towards the interval.
//
// The contract: a cycle's error is about the watcher itself (the store);
// what the audits could not do is reported as problems and logs. The
// alert delivery state lives in the store, so a restart neither repeats
// nor loses an alert.
//
// The judgement of results (JudgeDNS, RecordSettings, Hijack,
// UnreachableProblem) is exported: the server's agent endpoint
// (agentserver) receives the same audits from agents at the sites and
// must make the same problems of them.
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
)

// Defaults.
const (
	// DefaultInterval is how often a cycle runs: a hijack is found within
	// a quarter of an hour, and a legacy router's one admin session is
	// taken four times an hour, briefly.
	DefaultInterval = 15 * time.Minute
	// DefaultJitter spreads cycles by ±10% of the interval, so that many
	// watchers do not poll in step.
	DefaultJitter = 0.1
	// minRetry is the first wait after a router did not answer.
	minRetry = 30 * time.Second
	// stateName is the store's name of the alert delivery state.
	stateName = "watch.alerts"
)

// Check IDs of the problems the watcher itself makes.
const (
	CheckDNSHijack   = "watch.dns_hijacked"
	CheckUnreachable = "watch.router_unreachable"
)

// networkDevice names the problems of the DNS audit of this machine's
// network, which is not one router's.
var networkDevice = alert.Device{Address: "this-network", Label: "this machine's network"}

// Router is one router whose settings each cycle reads.
type Router struct {
	// ID names it in the store and in alerts.
	ID          string
	Label       string
	Addr        netip.Addr
	Port        uint16
	TLS         bool
	Adapter     string
	Credentials device.Credentials
}

// Options configure a watcher.
type Options struct {
	// Interval between cycles; 0 means DefaultInterval.
	Interval time.Duration
	// Jitter is the fraction of the interval cycles are spread by; a
	// negative value means none, 0 means DefaultJitter.
	Jitter float64
	// Routers are read every cycle.
	Routers []Router
	// DNS is the DNS audit run every cycle; nil skips it.
	DNS *dnsaudit.Plan
	// Store keeps every result and the alert state. Required.
	Store store.Store
	// Alerts are the channels; nil sends nothing (problems are still
	// tracked and logged).
	Alerts *alert.Fanout
	// Allowed are the owner's resolvers (policy.allowed_resolvers).
	Allowed []netip.Addr
	// Index is the advisory data.
	Index *advisory.Index
	// AlertOn is the lowest severity of a failing finding that is a
	// problem; 0 means medium.
	AlertOn finding.Severity
	Logger  *slog.Logger
	// Now and Sleep are the clock; nil means the real one (tests inject
	// their own).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Pull replaces configaudit.Pull (tests).
	Pull func(ctx context.Context, o configaudit.PullOptions) (*device.Snapshot, error)
}

// Watcher runs cycles.
type Watcher struct {
	o       Options
	log     *slog.Logger
	alerter *alert.Alerter
	// failures counts consecutive cycles in which some router did not
	// answer, for the backoff.
	failures int
}

// New checks o and returns a watcher.
func New(o Options) (*Watcher, error) {
	if o.Store == nil {
		return nil, errors.New("watch: a store is required")
	}
	if o.DNS == nil && len(o.Routers) == 0 {
		return nil, errors.New("watch: nothing to watch (no DNS audit and no router)")
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval < time.Second {
		return nil, fmt.Errorf("watch: interval %s is too short", o.Interval)
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	case o.Jitter > 0.5:
		return nil, fmt.Errorf("watch: jitter %g is more than half the interval", o.Jitter)
	}
	if o.AlertOn == 0 {
		o.AlertOn = finding.SeverityMedium
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Pull == nil {
		o.Pull = configaudit.Pull
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	out := o.Alerts
	if out == nil {
		out = &alert.Fanout{}
	}
	return &Watcher{o: o, log: log, alerter: &alert.Alerter{Store: stateStore{o.Store}, Out: out}}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run runs cycles until ctx ends; once runs one. It returns nil when ctx
// ended (a signal), or a cycle's error (the store failed).
func (w *Watcher) Run(ctx context.Context, once bool) error {
	for {
		res, err := w.Cycle(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if once {
			return nil
		}
		wait := w.next(res)
		w.log.Info("watch: next cycle", "in", wait.Round(time.Second).String())
		if err := w.o.Sleep(ctx, wait); err != nil {
			return nil
		}
	}
}

// next is the wait before the next cycle: the interval with jitter, or,
// while a router does not answer, a shorter wait that doubles each time.
func (w *Watcher) next(res *CycleResult) time.Duration {
	if res.Unreachable > 0 {
		w.failures++
		d := minRetry << min(w.failures-1, 16)
		if d < w.o.Interval {
			return d
		}
	} else {
		w.failures = 0
	}
	j := 1 + w.o.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(w.o.Interval) * j)
}

// CycleResult is what one cycle did.
type CycleResult struct {
	At          time.Time
	Problems    []alert.Problem
	Unreachable int
	Alerts      alert.Outcome
}

// Cycle runs one cycle: the audits, the store, the alerts.
func (w *Watcher) Cycle(ctx context.Context) (*CycleResult, error) {
	now := w.o.Now()
	res := &CycleResult{At: now}
	var c alert.Cycle
	var hijack Hijack

	if w.o.DNS != nil {
		w.dnsAudit(ctx, &c, &hijack)
	}
	for _, r := range w.o.Routers {
		if ctx.Err() != nil {
			break
		}
		if !w.router(ctx, r, &c, &hijack) {
			res.Unreachable++
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if p, ok := hijack.Problem(hijackDevice(w.o.Routers)); ok {
		c.Problems = append(c.Problems, p)
	}
	res.Problems = c.Problems
	out, err := w.alerter.Run(ctx, c, w.o.Now())
	res.Alerts = out
	for _, ev := range out.Events {
		w.log.Warn("watch: alert", "kind", ev.Kind, "device", ev.Device.String(), "check", ev.CheckID, "severity", ev.Severity, "title", ev.Title)
	}
	for _, f := range out.Failures {
		w.log.Error("watch: alert not delivered", "channel", f.Channel, "error", f.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("watch: alert state: %w", err)
	}
	w.log.Info("watch: cycle done", "problems", len(c.Problems), "unreachable", res.Unreachable, "events", len(out.Events),
		"pending", out.Pending, "seconds", fmt.Sprintf("%.2f", w.o.Now().Sub(now).Seconds()))
	return res, nil
}

// hijackDevice is where the DNS hijack problem goes: on the router when
// there is one router (the DNS of this network is its), else on the
// network.
func hijackDevice(routers []Router) alert.Device {
	if len(routers) == 1 {
		return alert.Device{Address: routers[0].ID, Label: routers[0].Label}
	}
	return networkDevice
}

// dnsAudit runs the DNS audit, stores it, and turns its failing findings
// into problems (the lying resolvers into the hijack problem).
func (w *Watcher) dnsAudit(ctx context.Context, c *alert.Cycle, h *Hijack) {
	start := w.o.Now()
	dctx, cancel := context.WithTimeout(ctx, dnsaudit.DefaultTimeout)
	res, err := w.o.DNS.Run(dctx)
	cancel()
	if err != nil || res == nil || !res.Tested() {
		why := "no resolver to test"
		if err != nil {
			why = err.Error()
		}
		w.log.Warn("watch: DNS audit could not complete", "error", why)
		c.Skipped = append(c.Skipped, alert.Scope{Device: networkDevice.Address})
		return
	}
	rep := res.Report(start)
	if b, err := json.Marshal(rep); err == nil {
		if _, err := w.o.Store.PutAudit(ctx, store.Audit{Kind: "dns", At: w.o.Now(), Verdict: string(res.Overall()),
			Headline: rep.Verdict.Headline, Failing: rep.Summary.Fail, Report: b}); err != nil {
			w.log.Error("watch: storing the DNS audit", "error", err)
		}
	}
	problems, part := JudgeDNS(networkDevice, res.Overall(), res.Headline(), res.Findings(), w.o.AlertOn)
	h.Merge(part)
	c.Problems = append(c.Problems, problems...)
}

// router reads one router's settings; it reports whether the router
// answered.
func (w *Watcher) router(ctx context.Context, r Router, c *alert.Cycle, h *Hijack) bool {
	dev := alert.Device{Address: r.ID, Label: r.Label}
	snap, err := w.o.Pull(ctx, configaudit.PullOptions{Target: r.Addr, Port: r.Port, TLS: r.TLS, Adapter: r.Adapter,
		Credentials: r.Credentials, Logger: w.log})
	if err != nil {
		w.log.Warn("watch: router did not answer", "router", r.ID, "error", err)
		c.Skipped = append(c.Skipped, alert.Scope{Device: r.ID})
		refused := errors.Is(err, device.ErrAuth)
		c.Problems = append(c.Problems, UnreachableProblem(dev, err.Error(), refused))
		return refused // a refused login is an answer
	}
	s, err := RecordSettings(ctx, SettingsOptions{Store: w.o.Store, Snapshot: snap, Allowed: w.o.Allowed, Index: w.o.Index,
		Device:  store.Device{ID: r.ID, Address: r.Addr.String(), Adapter: snap.Adapter, Label: r.Label},
		AlertOn: w.o.AlertOn, Alert: dev, Note: "first reading by watch"})
	if err != nil {
		w.log.Error("watch: storing the settings", "router", r.ID, "error", err)
		c.Skipped = append(c.Skipped, alert.Scope{Device: r.ID})
		return true
	}
	for _, g := range s.Record.Changes {
		w.log.Info("watch: change", "router", r.ID, "severity", g.Severity, "change", g.Sentence())
	}
	switch {
	case s.BaselineErr != nil:
		w.log.Error("watch: setting the first baseline", "router", r.ID, "error", s.BaselineErr)
	case s.BaselineSet:
		w.log.Info("watch: first reading kept as the baseline", "router", r.ID, "snapshot", s.Record.Meta.ID)
	}
	h.Merge(s.Hijack)
	c.Problems = append(c.Problems, s.Problems...)
	return true
}

// stateStore keeps the alerter's state in the store.
type stateStore struct{ s store.StateStore }

func (s stateStore) Load(ctx context.Context) (alert.State, error) {
	var st alert.State
	b, err := s.s.State(ctx, stateName)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return alert.State{}, fmt.Errorf("watch: the stored alert state does not decode: %w", err)
	}
	return st, nil
}

func (s stateStore) Save(ctx context.Context, st alert.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.s.PutState(ctx, stateName, b)
}
