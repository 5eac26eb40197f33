// SPDX-License-Identifier: Apache-2.0

// Package probeset lists the probes routerwatch runs against a device, in
// one literal list, and runs them.
//
// The contract: Default is the only registry of device probes; adding a
// probe means adding one line here (and its evidence fields to package
// probe). Measure runs every probe against one target under one deadline
// and returns every result, failures included, never nil observations.
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
func Default() []probe.Probe {
	return []probe.Probe{
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
	r := &probe.Runner{Dialer: d, Probes: Default(), TargetTimeout: timeout}
	return r.RunTarget(ctx, t)
}
