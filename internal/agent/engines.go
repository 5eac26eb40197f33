// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/routeraudit"
)

// Engines run the audits of a schedule. Each returns a result without a
// sequence number (the outbox gives it one); a failure is a result with
// Error set, never a Go error: the server hears about it too.
type Engines interface {
	DNS(ctx context.Context) agentapi.Result
	// Check audits r, or the agent's default gateway when r is nil.
	Check(ctx context.Context, r *agentapi.Router) agentapi.Result
	ConfigPull(ctx context.Context, r agentapi.Router) agentapi.Result
}

// Audits are the engines of `dns`, `check` and `config pull`, called the
// way those commands call them.
type Audits struct {
	// DNSPlan is the DNS audit's plan, built from the agent's DNS
	// flags; nil makes the dns task fail ("not configured on this
	// agent").
	DNSPlan *dnsaudit.Plan
	// CheckBase is the base of each router audit (the advisory index,
	// the identifier, ports); Targets, DNS and Settings are set per
	// router.
	CheckBase routeraudit.Options
	// Login finds the login for a router in the agent's own
	// credentials; nil means the agent has none.
	Login func(addr netip.Addr, adapter string) (device.Credentials, error)
	// Pull replaces configaudit.Pull (tests).
	Pull func(ctx context.Context, o configaudit.PullOptions) (*device.Snapshot, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (a *Audits) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// DNS runs the DNS audit of the agent's network, as `routerwatch dns`.
func (a *Audits) DNS(ctx context.Context) (r agentapi.Result) {
	r = agentapi.Result{Kind: agentapi.KindDNS, StartedAt: a.now()}
	defer func() { r.FinishedAt = a.now() }()
	if a.DNSPlan == nil {
		r.Error = agentapi.NewError(agentapi.ErrorOther, "the DNS audit is not configured on this agent")
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, dnsaudit.DefaultTimeout)
	defer cancel()
	res, err := a.DNSPlan.Run(ctx)
	switch {
	case err != nil:
		r.Error = classify(err)
		return r
	case !res.Tested():
		r.Error = agentapi.NewError(agentapi.ErrorNoResolver, res.Headline())
		return r
	}
	rep := res.Report(r.StartedAt)
	b, err := json.Marshal(rep)
	if err != nil {
		r.Error = classify(err)
		return r
	}
	r.Verdict, r.Headline, r.Failing, r.Report = string(res.Overall()), rep.Verdict.Headline, rep.Summary.Fail, b
	return r
}

// Check audits one router as `routerwatch check` does, its DNS checks
// left to the dns task.
func (a *Audits) Check(ctx context.Context, rt *agentapi.Router) (r agentapi.Result) {
	r = agentapi.Result{Kind: agentapi.KindCheck, StartedAt: a.now()}
	defer func() { r.FinishedAt = a.now() }()
	o := a.CheckBase
	o.DNS, o.Settings, o.Targets = nil, nil, nil
	o.DNSSkipped = "DNS checks: the agent runs them as their own task"
	if rt != nil {
		r.Router, r.Address = rt.ID, rt.Address
		o.Targets = []netip.Addr{rt.Address}
	}
	if o.Index == nil {
		r.Error = agentapi.NewError(agentapi.ErrorOther, "the router audit is not configured on this agent (no advisory data)")
		return r
	}
	res, err := routeraudit.Run(ctx, o)
	if res == nil {
		r.Error = classify(err)
		return r
	}
	if !res.Answered() {
		r.Error = agentapi.NewError(agentapi.ErrorUnreachable, fmt.Sprintf("%v did not answer on any port", res.Targets))
		return r
	}
	rep := res.Report()
	b, err := json.Marshal(rep)
	if err != nil {
		r.Error = classify(err)
		return r
	}
	r.Verdict, r.Headline, r.Failing, r.Report = string(rep.Verdict.Level), rep.Verdict.Headline, rep.Summary.Fail, b
	if rt == nil && len(res.Targets) == 1 {
		r.Address = res.Targets[0]
	}
	return r
}

// ConfigPull reads one router's settings as `routerwatch config pull`
// does, with the login from the agent's own credentials; the server
// keeps and judges them.
func (a *Audits) ConfigPull(ctx context.Context, rt agentapi.Router) (r agentapi.Result) {
	r = agentapi.Result{Kind: agentapi.KindConfigPull, Router: rt.ID, Address: rt.Address, StartedAt: a.now()}
	defer func() { r.FinishedAt = a.now() }()
	adapter := rt.Adapter
	if adapter == "" {
		adapter = configaudit.Auto
	}
	if a.Login == nil {
		r.Error = agentapi.NewError(agentapi.ErrorNoLogin, "this agent has no router logins (--credentials)")
		return r
	}
	creds, err := a.Login(rt.Address, adapter)
	if err != nil {
		r.Error = agentapi.NewError(agentapi.ErrorNoLogin, err.Error())
		return r
	}
	pull := a.Pull
	if pull == nil {
		pull = configaudit.Pull
	}
	snap, err := pull(ctx, configaudit.PullOptions{Target: rt.Address, Port: rt.Port, TLS: rt.TLS, Adapter: adapter, Credentials: creds})
	if err != nil {
		r.Error = classify(err)
		return r
	}
	b, err := encodeSnapshot(snap)
	if err != nil {
		r.Error = agentapi.NewError(agentapi.ErrorTooLarge, err.Error())
		return r
	}
	r.Verdict, r.Headline, r.Snapshot = "read", "settings read via "+snap.Adapter, b
	return r
}

// snapshotRoom is what a snapshot may take of a result: the rest is the
// envelope.
const snapshotRoom = agentapi.MaxResultBytes - 64<<10

// encodeSnapshot encodes a snapshot to fit a result: without its raw
// pages (with a warning saying so) when they make it too large.
func encodeSnapshot(s *device.Snapshot) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil || len(b) <= snapshotRoom {
		return b, err
	}
	lean := *s
	lean.Raw = nil
	lean.Warnings = append(append([]string(nil), s.Warnings...),
		fmt.Sprintf("the raw pages (%d bytes encoded) were left out: too large to send", len(b)))
	b, err = json.Marshal(&lean)
	if err != nil {
		return nil, err
	}
	if len(b) > snapshotRoom {
		return nil, fmt.Errorf("the router's settings take %d bytes encoded, more than a result may carry", len(b))
	}
	return b, nil
}

// classify makes an audit's error a classified one.
func classify(err error) *agentapi.Error {
	if err == nil {
		return agentapi.NewError(agentapi.ErrorOther, "the audit gave no result")
	}
	class := agentapi.ErrorOther
	switch {
	case errors.Is(err, device.ErrAuth):
		class = agentapi.ErrorAuth
	case errors.Is(err, device.ErrBusy):
		class = agentapi.ErrorBusy
	case errors.Is(err, configaudit.ErrNoAdapter), errors.Is(err, configaudit.ErrUnknownAdapter):
		class = agentapi.ErrorNoAdapter
	case errors.Is(err, routeraudit.ErrNoGateway):
		class = agentapi.ErrorUnreachable
	case errors.Is(err, context.Canceled):
		class = agentapi.ErrorCanceled
	default:
		switch netx.Classify(err) {
		case netx.StatusRefused:
			class = agentapi.ErrorRefused
		case netx.StatusTimeout:
			class = agentapi.ErrorTimeout
		case netx.StatusUnreachable:
			class = agentapi.ErrorUnreachable
		case netx.StatusProtocol, netx.StatusTooLarge:
			class = agentapi.ErrorProtocol
		case netx.StatusCanceled:
			class = agentapi.ErrorCanceled
		}
	}
	return agentapi.NewError(class, err.Error())
}
