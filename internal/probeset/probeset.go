// SPDX-License-Identifier: Apache-2.0

// Package probeset lists the probes routerwatch runs against a device, in
// one literal list, and runs them.
//
// The contract: Default is the only registry of device probes. Each member
// is a probe.DeviceProbe: it declares the services it measures and the
// ports a user may move, and its observation lists the ports it measured
// (probe.ServiceObservation). So adding a probe is its own package plus
// one line here (and its evidence fields in package probe): port flags,
// exposure checks and scan records take everything from the declaration.
// Measure runs every probe against one target under one deadline and
// returns every result, failures included, never nil observations.
package probeset

import (
	"context"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/tr069probe"
	"github.com/routerwatch/routerwatch/internal/probe/upnpprobe"
)

// Default returns a fresh copy of every device probe with its default
// configuration, in report order. dnsprobe's device probe asks the
// device's own DNS service (is it an open resolver, what is its
// version.bind); the DNS-hijack checks drive dnsprobe's Client with their
// own questions and resolvers, outside this list.
func Default() []probe.DeviceProbe {
	return []probe.DeviceProbe{
		httpprobe.New(),
		upnpprobe.New(),
		bannerprobe.New(),
		snmpprobe.New(),
		tr069probe.New(),
		mikrotikprobe.New(),
		dnsprobe.New(),
	}
}

// Measure runs every Default probe against t through d under one deadline
// (0 means probe.DefaultTargetTimeout) and returns all results.
func Measure(ctx context.Context, d *netx.Dialer, t probe.Target, timeout time.Duration) probe.TargetReport {
	r := &probe.Runner{Dialer: d, Probes: Probes(Default()), TargetTimeout: timeout}
	return r.RunTarget(ctx, t)
}

// Probes returns ds as the Runner's probe list.
func Probes(ds []probe.DeviceProbe) []probe.Probe {
	out := make([]probe.Probe, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out
}

// Services lists every service kind the default probes declare, in
// registry order.
func Services() []probe.ServiceSpec {
	var out []probe.ServiceSpec
	for _, p := range Default() {
		out = append(out, p.Declare().Services...)
	}
	return out
}
