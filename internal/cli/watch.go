// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/watch"
)

type watchFlags struct {
	dnsOptions
	once, noDNS        bool
	interval           time.Duration
	jitter             float64
	routers            []string
	adapter, id, label string
	port               uint16
	credentials        string
	logFormat, alertOn string
	failOn             string
}

func (a *App) newWatchCmd() *cobra.Command {
	f := &watchFlags{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Keep watching: the DNS checks and the router's settings on an interval, alerts on changes",
		Long: `watch runs, on an interval with jitter, the same DNS audit as 'routerwatch dns'
and reads the settings of the routers you name (as 'routerwatch config pull'),
stores every result, and alerts when the state changes: a problem appears
(the DHCP DNS switched to a resolver that lies about login names), goes away
("resolved"), or changes severity. It does not alert again on every run, and
it remembers what it said across restarts. A router that does not answer is
reported once and retried sooner, backing off.

Routers come from the configuration (watch.routers) and from --router; their
logins from the credentials file or the environment (` + envRouterUser + `,
` + envRouterPassword + `). Alert channels (stdout, a JSON webhook, syslog, email)
come from the configuration's alerts: block; see docs/config.md.

It is a foreground daemon for systemd: it logs to stderr (--log-format json
for journald), stops cleanly on SIGTERM or SIGINT, and --once runs one cycle
and exits (1 when a problem at or above --fail-on is open). A sample unit file:
docs/routerwatch-watch.service.`,
		Example: `  routerwatch watch --once --router 192.168.0.1
  routerwatch watch --interval 10m --router 192.168.0.1 --credentials /etc/routerwatch/credentials.yaml
  routerwatch watch --no-dns --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runWatch(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.once, "once", false, "run one cycle and exit")
	fl.DurationVar(&f.interval, "interval", 0, "time between cycles (default from config, else 15m)")
	fl.Float64Var(&f.jitter, "jitter", -1, "spread cycles by this fraction of the interval, 0-0.5 (default from config, else 0.1)")
	fl.BoolVar(&f.noDNS, "no-dns", false, "do not run the DNS audit")
	fl.StringArrayVar(&f.routers, "router", nil, "also read this router's settings (an IP address); repeatable")
	fl.StringVar(&f.adapter, "adapter", configaudit.Auto, "adapter for --router: auto or one of "+strings.Join(adapters.Names(), ", "))
	fl.Uint16Var(&f.port, "port", 0, "the adapter's port on the --router when it is not the usual one")
	fl.StringVar(&f.id, "id", "", "name of the --router in the store and in alerts (default: its address)")
	fl.StringVar(&f.label, "label", "", "label of the --router")
	fl.StringVar(&f.credentials, "credentials", "", "credentials file (YAML, mode 0600)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&f.alertOn, "alert-on", "medium", "lowest severity of a failing finding that alerts: info, low, medium, high, critical")
	fl.StringVar(&f.failOn, "fail-on", "", "with --once, exit 1 when a problem at or above this severity is open (default high)")
	addDNSFlags(cmd, &f.dnsOptions)
	return cmd
}

func (a *App) runWatch(ctx context.Context, f *watchFlags) error {
	alertOn, err := finding.ParseSeverity(f.alertOn)
	if err != nil {
		return usagef("--alert-on: %v", err)
	}
	failOn, err := a.failOnSeverity(f.failOn)
	if err != nil {
		return err
	}
	// A daemon says what it does: info unless a level was chosen.
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(a.cfg.LogLevel)) // validated at setup
	if a.logLevel == "" && a.cfg.LogLevel == config.Default().LogLevel {
		lvl = slog.LevelInfo
	}
	var log *slog.Logger
	switch f.logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: lvl}))
	case "json":
		log = slog.New(slog.NewJSONHandler(a.Stderr, &slog.HandlerOptions{Level: lvl}))
	default:
		return usagef("--log-format: %q is not one of text, json", f.logFormat)
	}
	o := watch.Options{Logger: log, AlertOn: alertOn, Allowed: a.allowedResolvers()}
	wc := a.cfg.Watch
	switch {
	case f.interval != 0:
		o.Interval = f.interval
	case wc.Interval != "":
		o.Interval, _ = time.ParseDuration(wc.Interval) // validated at load
	}
	if f.interval < 0 || f.interval != 0 && f.interval < config.MinWatchInterval {
		return usagef("--interval must be at least %s", config.MinWatchInterval)
	}
	switch {
	case f.jitter >= 0:
		if f.jitter > 0.5 {
			return usagef("--jitter must be between 0 and 0.5")
		}
		o.Jitter = f.jitter
		if f.jitter == 0 {
			o.Jitter = -1 // none
		}
	case wc.Jitter != nil:
		o.Jitter = *wc.Jitter
		if o.Jitter == 0 {
			o.Jitter = -1
		}
	}
	// Routers: the configuration's, then --router.
	type named struct {
		r  config.WatchRouter
		ip netip.Addr
	}
	var rs []named
	for _, r := range wc.Routers {
		ip, _ := netip.ParseAddr(r.Address) // validated at load
		rs = append(rs, named{r, ip.Unmap()})
	}
	for i, s := range f.routers {
		ip, err := parseRouter(s)
		if err != nil {
			return usagef("--router %v", err)
		}
		r := config.WatchRouter{Address: ip.String(), Adapter: f.adapter, Label: f.label, Port: int(f.port)}
		if i == 0 {
			r.ID = f.id
		}
		rs = append(rs, named{r, ip})
	}
	for _, n := range rs {
		adapter := n.r.Adapter
		if adapter == "" {
			adapter = configaudit.Auto
		}
		if adapter != configaudit.Auto {
			if _, ok := adapters.Puller(adapter); !ok {
				return usagef("router %s: adapter %q is not one of auto, %s", n.ip, adapter, strings.Join(adapters.Names(), ", "))
			}
		}
		creds, err := a.daemonLogin(f.credentials, n.ip, adapter)
		if err != nil {
			return err
		}
		id := n.r.ID
		if id == "" {
			id = n.ip.String()
		}
		o.Routers = append(o.Routers, watch.Router{ID: id, Label: n.r.Label, Addr: n.ip, Port: uint16(n.r.Port), TLS: n.r.TLS,
			Adapter: adapter, Credentials: creds})
	}
	dnsOn := !f.noDNS && (wc.DNS == nil || *wc.DNS)
	if dnsOn {
		if o.DNS, err = a.dnsPlan(&f.dnsOptions); err != nil {
			return err
		}
	}
	if o.DNS == nil && len(o.Routers) == 0 {
		return usagef("watch: nothing to watch: the DNS audit is off and no router is named (--router, or watch.routers in the configuration)")
	}
	if o.Alerts, err = a.alertConfig().Fanout(a.Stdout); err != nil {
		return usagef("configuration: %v", err)
	}
	if o.Index, _, err = a.openAdvisories(); err != nil {
		return err
	}
	if o.Store, err = a.openStore(ctx); err != nil {
		return err
	}
	defer o.Store.Close()
	w, err := watch.New(o)
	if err != nil {
		return usagef("%v", err)
	}
	log.Info("watch: starting", "routers", len(o.Routers), "dns", o.DNS != nil, "channels", strings.Join(o.Alerts.Names(), ","),
		"once", f.once)
	if f.once {
		res, err := w.Cycle(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, p := range res.Problems {
			if p.Severity >= failOn {
				n++
			}
		}
		if n > 0 {
			return &findingsError{n: n}
		}
		return nil
	}
	if err := w.Run(ctx, false); err != nil {
		return err
	}
	log.Info("watch: stopped")
	return nil
}

// daemonLogin finds a router's login for a daemon: the credentials file
// or the environment; never a prompt (nobody is there to answer).
func (a *App) daemonLogin(file string, addr netip.Addr, adapter string) (device.Credentials, error) {
	if file == "" && a.cfg.CredentialsFile == "" && a.Getenv(envRouterPassword) == "" {
		return device.Credentials{}, usagef("no login for the router %s: watch reads it from a credentials file or the environment.\n%s", addr, credentialsHelp)
	}
	return a.routerLogin(file, addr, adapter)
}

// alertConfig is the configuration's alerts: block (decoded and validated
// at setup).
func (a *App) alertConfig() *alert.Config {
	var ac alert.Config
	if len(a.cfg.Alerts) > 0 {
		_ = config.DecodeStrict(a.cfg.Alerts, &ac)
	}
	return &ac
}

// checkAlertConfig decodes and validates the alerts: block, so that a
// mistake in it is an error of the configuration file, whatever command
// runs.
func checkAlertConfig(raw config.RawYAML) error {
	if len(raw) == 0 {
		return nil
	}
	var ac alert.Config
	if err := config.DecodeStrict(raw, &ac); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return ac.Validate()
}
