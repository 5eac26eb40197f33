// SPDX-License-Identifier: Apache-2.0

// Package configaudit is the engine of `routerwatch config` and the
// configuration half of `watch`: read a router's settings with the
// owner's credentials (Pull, through the adapter registry), keep them
// (Record: the snapshot, what changed since the last one and since the
// baseline, graded by the policy, and the policy findings, in the store),
// and say it (Result.Report).
//
// The contract: Pull reaches only the router, through a dialer scoped to
// its address; it is read-only and logs out (the adapters' contract).
// Record is one store write per record kind, never a half-stored reading:
// the snapshot first, then the change event and the audit that refer to
// it. Credentials never reach the store, a log or a report.
package configaudit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/check/hardening"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

// DefaultTimeout bounds one pull: a legacy web UI answers each page in
// well under a second; a dozen pages, a login and a logout fit easily.
const DefaultTimeout = 60 * time.Second

// Auto asks Pull to find the adapter itself.
const Auto = "auto"

// Errors.
var (
	// ErrNoAdapter: no adapter recognised the router.
	ErrNoAdapter = errors.New("no adapter recognises this router")
	// ErrUnknownAdapter: the adapter named does not exist.
	ErrUnknownAdapter = errors.New("no such adapter")
)

// PullOptions say which router to read and how.
type PullOptions struct {
	Target netip.Addr
	// Port is the adapter's port when it is not the usual one; TLS asks
	// for the encrypted variant where there is one.
	Port uint16
	TLS  bool
	// Adapter names the adapter; "" or Auto tries each in registry order
	// until one recognises the router.
	Adapter     string
	Credentials device.Credentials
	// Timeout bounds the pull; 0 means DefaultTimeout.
	Timeout time.Duration
	// Pullers replaces the registry (tests); nil means adapters.Pullers().
	Pullers []device.Puller
	Logger  *slog.Logger
}

// Pull reads the router's settings. With Auto it tries every adapter in
// order and stops at the first that recognises the router, whatever it
// then answers (a refused login is an answer: another adapter would not
// do better, and would send the password to a service it was not meant
// for).
func Pull(ctx context.Context, o PullOptions) (*device.Snapshot, error) {
	if !o.Target.IsValid() {
		return nil, errors.New("configaudit: no target")
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
	pullers := o.Pullers
	if pullers == nil {
		pullers = adapters.Pullers()
	}
	if o.Adapter != "" && o.Adapter != Auto {
		var chosen []device.Puller
		for _, p := range pullers {
			if p.Name() == o.Adapter {
				chosen = append(chosen, p)
			}
		}
		if len(chosen) == 0 {
			return nil, fmt.Errorf("%w %q (adapters: %s)", ErrUnknownAdapter, o.Adapter, strings.Join(names(pullers), ", "))
		}
		pullers = chosen
	}
	addr := o.Target.Unmap()
	d := netx.NewDialer(target.NewScope().WithAddr(addr), netx.Options{})
	t := device.Target{Addr: addr, Port: o.Port, TLS: o.TLS}
	var tried []string
	for _, p := range pullers {
		start := time.Now()
		snap, err := p.Pull(ctx, d, t, o.Credentials)
		log.Debug("config: pull", "adapter", p.Name(), "target", addr, "seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()), "error", err)
		switch {
		case err == nil:
			if snap.Adapter == "" {
				snap.Adapter = p.Name()
			}
			if !snap.Target.IsValid() {
				snap.Target = addr
			}
			return snap, nil
		case len(pullers) > 1 && (errors.Is(err, device.ErrUnsupported) || netx.Classify(err) == netx.StatusRefused):
			// Not this adapter's router: another service, or nothing
			// listening on this adapter's port.
			tried = append(tried, p.Name())
			continue
		}
		return nil, fmt.Errorf("%s: %w", p.Name(), err)
	}
	return nil, fmt.Errorf("%w at %s (tried %s); name one with --adapter", ErrNoAdapter, addr, strings.Join(tried, ", "))
}

func names(ps []device.Puller) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name()
	}
	return out
}

// Import reads an offline file (a backup or an export) in whichever
// format it is.
func Import(b []byte) (*device.Snapshot, error) {
	im, ok := adapters.Detect(b)
	if !ok {
		return nil, fmt.Errorf("%w: not one of the formats routerwatch reads (%s)", device.ErrFormat, strings.Join(adapters.ImporterNames(), ", "))
	}
	snap, err := im.Import(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", im.Name(), err)
	}
	if snap.Adapter == "" {
		snap.Adapter = im.Name()
	}
	return snap, nil
}

// Policy builds the hardening policy: the owner's allowed resolvers, the
// baseline's, and the built-in lists of published attacker addresses and
// public resolvers.
func Policy(allowed []netip.Addr, baseline *device.Config) (hardening.Policy, error) {
	ind, err := dnshijack.DefaultIndicators()
	if err != nil {
		return hardening.Policy{}, err
	}
	pub, err := dnshijack.DefaultPublicResolvers()
	if err != nil {
		return hardening.Policy{}, err
	}
	return hardening.Policy{
		AllowedResolvers: allowed,
		Baseline:         baseline,
		KnownBad: func(a netip.Addr) (string, bool) {
			i, ok := ind.Lookup(a)
			if !ok {
				return "", false
			}
			return fmt.Sprintf("%s, %s list", i.Description, i.List), true
		},
		PublicResolver: func(a netip.Addr) (string, bool) {
			p, ok := pub.Lookup(a)
			return p.Operator, ok
		},
	}, nil
}
