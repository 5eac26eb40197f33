// SPDX-License-Identifier: Apache-2.0

// Package routeraudit is the engine of `routerwatch check`: one router's
// whole audit as a Go call, options in and a result out, so that check,
// watch, serve and the agent run exactly the same audit.
//
// Run picks the router (the host's default gateways, IPv4 first, unless
// targets are named), runs the device probes (the probe registry, through
// a dialer scoped to the routers alone) next to the DNS audit (dnsaudit,
// with its own scopes), judges each router (audit.Judge: identity,
// advisories, exposure), sends the opt-in confirming request when asked,
// and Result.Report puts it together: the most urgent headline first (a
// hijacked DNS is an attack in progress and comes before the router's
// flaws), then the steps, then every finding.
//
// The contract: nothing is sent before the options are validated (every
// validation error wraps ErrInvalid); the caller's context bounds the
// run, and Options.Timeout sets the share the device probes get; what was
// measured before the context ended is still in the Result.
package routeraudit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/target"
)

// DefaultTimeout bounds a whole router audit: the device probes (a LAN
// router answers them in about a second; silent UDP services take their
// full waits, about 3 s) run next to the DNS checks, and a hostile device
// is cut at its per-target deadline; 30 s leaves room for both and for
// the confirming request.
const DefaultTimeout = 30 * time.Second

// targetShare is the part of the timeout the device probes get as their
// per-target deadline; the rest covers the Runner's grace for a stuck
// probe (2 s), the opt-in confirming request (at most 5 s) and writing
// the report, so that the whole run ends inside the timeout.
const targetShare = 0.75

// Errors.
var (
	// ErrInvalid marks an error in the Options: nothing was sent.
	ErrInvalid = errors.New("invalid router audit options")
	// ErrNoGateway: no router was named and the host has no default
	// gateway.
	ErrNoGateway = errors.New("no default gateway found on this machine; name the router")
)

// Options configure one router audit.
type Options struct {
	// Targets are the routers to audit; empty means this host's default
	// gateways (IPv4 ones; IPv6 ones only when there is no IPv4 gateway).
	Targets []netip.Addr
	// Ports moves the device probes' ports; nil means the defaults.
	Ports audit.Ports
	// Vantage is where the audit runs from; empty means LAN. From the WAN
	// there is no gateway to pick: Targets is required.
	Vantage exposure.Vantage
	// Identifier names devices; nil means the built-in rules.
	Identifier *identify.Identifier
	// Index is the advisory data. Required.
	Index *advisory.Index
	// Confirm sends the opt-in CVE-2023-50224 confirming request (LAN
	// only, to an identified TP-Link).
	Confirm bool
	// DNS is the DNS audit to run beside the device probes; nil skips it,
	// and DNSSkipped says why in the report.
	DNS        *dnsaudit.Plan
	DNSSkipped string
	// Settings, when set, reads each router's own settings with the
	// owner's login (configaudit) beside the probes, and the checks on
	// them join the report.
	Settings *SettingsOptions
	// Timeout is the whole run's budget (the caller's context should end
	// by then too); 0 means DefaultTimeout.
	Timeout time.Duration
	// Env is the host to read (gateways, interfaces, resolvers); its zero
	// value means hostnet.DefaultEnv(). Facts, when set, are used instead.
	Env   hostnet.Env
	Facts *hostnet.Facts
	// Progress, if set, is told as each device probe ends and when the
	// DNS audit is done. Calls are serialized.
	Progress func(Progress)
	// Logger receives debug lines (one timing line per phase); nil
	// discards them.
	Logger *slog.Logger
}

// SettingsOptions say how to read the routers' settings.
type SettingsOptions struct {
	// Adapter names the adapter, or configaudit.Auto; Port is its port
	// when it is not the usual one.
	Adapter     string
	Port        uint16
	Credentials device.Credentials
	// Allowed are the owner's resolvers (policy.allowed_resolvers).
	Allowed []netip.Addr
}

// Progress is how far a run is.
type Progress struct {
	// ProbesDone of ProbesTotal device probes have ended.
	ProbesDone, ProbesTotal int
	// DNS is "" (not run), "running" or "done".
	DNS string
}

// Result is one router audit.
type Result struct {
	// Targets are the routers audited; Devices their verdicts, in address
	// order.
	Targets []netip.Addr
	Devices []audit.Device
	// DNS is the DNS audit; nil when it was skipped (DNSSkipped says
	// why).
	DNS        *dnsaudit.Result
	DNSSkipped string
	Vantage    exposure.Vantage
	// Facts are the host facts used (empty from the WAN vantage).
	Facts hostnet.Facts
	// Scope is what the device probes could contact.
	Scope             target.Scope
	Started, Finished time.Time
	// Settings are the routers' settings, read and judged, when asked;
	// SettingsErrors why a router's could not be read.
	Settings       []*configaudit.Result
	SettingsErrors map[netip.Addr]error
	// Phases are how long each part took, in order.
	Phases []Phase
}

// Phase is one timed part of a run.
type Phase struct {
	Name    string
	Elapsed time.Duration
}

// Answered reports whether any router answered on any port.
func (r *Result) Answered() bool {
	for i := range r.Devices {
		if r.Devices[i].Answered {
			return true
		}
	}
	return false
}

// Validate checks o without sending anything.
func (o *Options) Validate() error {
	switch {
	case o.Index == nil:
		return fmt.Errorf("%w: no advisory index", ErrInvalid)
	case o.Vantage != "" && o.Vantage != exposure.LAN && o.Vantage != exposure.WAN:
		return fmt.Errorf("%w: unknown vantage %q", ErrInvalid, o.Vantage)
	case o.Vantage == exposure.WAN && len(o.Targets) == 0:
		return fmt.Errorf("%w: from the WAN vantage the router's public address must be named", ErrInvalid)
	case o.Vantage == exposure.WAN && o.Confirm:
		return fmt.Errorf("%w: the confirming request is sent only from the LAN", ErrInvalid)
	case o.Vantage == exposure.WAN && o.DNS != nil:
		return fmt.Errorf("%w: the DNS checks are about this machine's resolvers, not run from the WAN vantage", ErrInvalid)
	case o.Timeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrInvalid)
	}
	for _, t := range o.Targets {
		if !t.IsValid() {
			return fmt.Errorf("%w: invalid target address", ErrInvalid)
		}
	}
	if err := o.Ports.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// RouterTargets picks the routers to audit from host facts: the IPv4
// default gateways; the IPv6 ones only when there is no IPv4 gateway (the
// same router usually has both, and auditing it twice doubles time and
// findings).
func RouterTargets(facts *hostnet.Facts) []netip.Addr {
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

// Run audits the router(s). Its error wraps ErrInvalid or ErrNoGateway
// before anything is sent, or is the DNS audit's usage error (see
// dnsaudit.UsageError), or a failure to measure at all; a context that
// ends leaves what was measured in the Result, with the context's error.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &Result{Vantage: o.Vantage, DNSSkipped: o.DNSSkipped, Started: time.Now()}
	if res.Vantage == "" {
		res.Vantage = exposure.LAN
	}
	phase := func(name string, since time.Time) {
		el := time.Since(since)
		res.Phases = append(res.Phases, Phase{Name: name, Elapsed: el})
		log.Debug("check: phase", "phase", name, "seconds", fmt.Sprintf("%.3f", el.Seconds()))
	}

	t0 := time.Now()
	switch {
	case o.Facts != nil:
		res.Facts = *o.Facts
	case res.Vantage == exposure.LAN:
		res.Facts = hostnet.Gather(ctx, o.Env.OrDefault())
	}
	res.Targets = slices.Clone(o.Targets)
	if len(res.Targets) == 0 {
		if res.Targets = RouterTargets(&res.Facts); len(res.Targets) == 0 {
			return nil, ErrNoGateway
		}
	}
	phase("host facts", t0)

	// The device probes reach only the routers; the DNS audit has its own
	// dialers, scoped to the gateways, the resolvers and the trusted
	// resolvers.
	scope := target.NewScope()
	for _, t := range res.Targets {
		scope = scope.WithAddr(t)
	}
	res.Scope = scope
	dialer := netx.NewDialer(scope, netx.Options{})
	targetTimeout := min(probe.DefaultTargetTimeout, time.Duration(float64(timeout)*targetShare))
	probes := audit.Probes(o.Ports)
	var (
		progMu sync.Mutex
		prog   = Progress{ProbesTotal: len(res.Targets) * len(probes)}
	)
	report := func(change func(*Progress)) {
		if o.Progress == nil {
			return
		}
		progMu.Lock()
		defer progMu.Unlock()
		change(&prog)
		o.Progress(prog)
	}
	if o.DNS != nil {
		report(func(p *Progress) { p.DNS = "running" })
	}
	runner := &probe.Runner{Dialer: dialer, Probes: probes, Workers: len(res.Targets), TargetTimeout: targetTimeout,
		OnResult: func(probe.Result) { report(func(p *Progress) { p.ProbesDone++ }) }}

	var (
		wg      sync.WaitGroup
		dnsErr  error
		reports []probe.TargetReport
	)
	if o.DNS != nil {
		wg.Go(func() {
			start := time.Now()
			res.DNS, dnsErr = o.DNS.WithFacts(&res.Facts).Run(ctx)
			log.Debug("check: phase", "phase", "DNS audit", "seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()))
			report(func(p *Progress) { p.DNS = "done" })
		})
	}
	var settingsWG sync.WaitGroup
	if o.Settings != nil {
		res.SettingsErrors = map[netip.Addr]error{}
		var mu sync.Mutex
		for _, t := range res.Targets {
			settingsWG.Go(func() {
				start := time.Now()
				snap, err := configaudit.Pull(ctx, configaudit.PullOptions{Target: t, Port: o.Settings.Port, Adapter: o.Settings.Adapter, Credentials: o.Settings.Credentials, Logger: log})
				var rec *configaudit.Result
				if err == nil {
					rec, err = configaudit.Record(ctx, configaudit.RecordOptions{Snapshot: snap, Allowed: o.Settings.Allowed, Index: o.Index,
						Device: store.Device{ID: t.String(), Address: t.String()}})
				}
				log.Debug("check: phase", "phase", "router settings "+t.String(), "seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()), "error", err)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					res.SettingsErrors[t] = err
					return
				}
				res.Settings = append(res.Settings, rec)
			})
		}
	}
	log.Debug("check: probing", "targets", len(res.Targets), "vantage", res.Vantage, "scope", scope.String(), "target_timeout_seconds", targetTimeout.Seconds())
	t0 = time.Now()
	// Run's error is the context's (what was measured is still reported)
	// or a configuration error before anything was measured.
	probeStart := time.Now()
	runErr := runner.Run(ctx, slices.Values(probeTargets(res.Targets)), func(tr probe.TargetReport) { reports = append(reports, tr) })
	phase("device probes", probeStart)
	wg.Wait()
	settingsWG.Wait()
	if o.DNS != nil {
		res.Phases = append(res.Phases, Phase{Name: "DNS audit (beside the probes)", Elapsed: time.Since(t0)})
	}
	if runErr != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("device probes: %w", runErr)
	}
	if dnsErr != nil {
		return nil, fmt.Errorf("DNS checks: %w", dnsErr)
	}
	slices.SortFunc(reports, func(x, y probe.TargetReport) int { return x.Target.Addr.Compare(y.Target.Addr) })

	t0 = time.Now()
	opts := audit.Options{Vantage: res.Vantage, Identifier: o.Identifier, Index: o.Index, Noun: "router", TargetTimeout: targetTimeout}
	for _, tr := range reports {
		dev := audit.Judge(tr, opts, nil)
		if o.Confirm {
			c := audit.Confirm(ctx, dialer, &dev, tr)
			dev = audit.Judge(tr, opts, c)
		}
		res.Devices = append(res.Devices, dev)
	}
	phase("judging", t0)
	res.Finished = time.Now()
	return res, ctx.Err()
}

func probeTargets(as []netip.Addr) []probe.Target {
	out := make([]probe.Target, len(as))
	for i, a := range as {
		out[i] = probe.Target{Addr: a}
	}
	return out
}
