// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

type fixFlags struct {
	id, adapter, credentials string
	dns, wanDNS              string
	off                      []string
	all, apply               bool
	port                     uint16
	tls                      bool
	timeout                  time.Duration
}

func (a *App) newFixCmd() *cobra.Command {
	f := &fixFlags{}
	cmd := &cobra.Command{
		Use:   "fix ROUTER",
		Short: "Put the router's DNS and risky settings right (dry run unless --apply)",
		Long: `fix reads the router's settings and lists the exact changes that put right what
you ask: the resolvers its DHCP hands out (--dns) and the router's own (--wan-dns)
back to the baseline or to the servers you give, and remote management,
telnet, UPnP and WPS off (--off). It changes nothing unless you add --apply.

With --apply it first saves a backup of the settings it will touch (in the data
directory, backups/, mode 0600), makes the changes, reads the settings back and
checks each one; if one did not take, it restores the backup and says so (exit
3). It never touches firmware. Change the router's admin password afterwards:
whoever changed its settings knew it.

--dns and --wan-dns take: baseline (the resolvers of the stored baseline),
router (DHCP hands out the router itself) or auto (WAN: the ISP's), or a
comma-separated list of addresses. --all means --dns baseline (router when
there is no baseline) and --off remote,telnet,upnp,wps.

` + credentialsHelp,
		Example: `  routerwatch fix 192.168.0.1 --dns baseline
  routerwatch fix 192.168.0.1 --dns 192.168.0.1 --off remote,upnp --apply
  routerwatch fix 192.168.0.1 --all --apply`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runFix(cmd.Context(), f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dns, "dns", "", "the resolvers DHCP hands out: baseline, router, or IP[,IP]")
	fl.StringVar(&f.wanDNS, "wan-dns", "", "the router's own resolvers: baseline, auto, or IP[,IP]")
	fl.StringSliceVar(&f.off, "off", nil, "turn off: remote, telnet, upnp, wps (comma-separated)")
	fl.BoolVar(&f.all, "all", false, "--dns baseline (or router) and --off remote,telnet,upnp,wps")
	fl.BoolVar(&f.apply, "apply", false, "make the changes (after a backup), read them back, restore the backup if one did not take")
	fl.StringVar(&f.adapter, "adapter", configaudit.Auto, "adapter: auto or one of "+strings.Join(adapters.Names(), ", "))
	fl.Uint16Var(&f.port, "port", 0, "the adapter's port when it is not the usual one")
	fl.BoolVar(&f.tls, "tls", false, "use the encrypted variant where there is one")
	fl.StringVar(&f.id, "id", "", "the router's name in the store (default: its address)")
	fl.StringVar(&f.credentials, "credentials", "", "credentials file (YAML, mode 0600)")
	fl.DurationVar(&f.timeout, "timeout", 2*configaudit.DefaultTimeout, "deadline for the whole fix")
	return cmd
}

// dnsChoice reads --dns/--wan-dns: nil for "leave it".
func dnsChoice(flag, v string, baseline func() ([]netip.Addr, error)) (*[]netip.Addr, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return nil, nil
	case "baseline":
		as, err := baseline()
		if err != nil {
			return nil, err
		}
		return &as, nil
	case "router", "auto":
		empty := []netip.Addr{}
		return &empty, nil
	}
	var as []netip.Addr
	for _, s := range strings.Split(v, ",") {
		ad, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, usagef("--%s: %q is not an IP address (or baseline, router, auto)", flag, s)
		}
		as = append(as, ad.Unmap())
	}
	return &as, nil
}

func (a *App) runFix(ctx context.Context, f *fixFlags, arg string) error {
	addr, err := parseRouter(arg)
	if err != nil {
		return err
	}
	req := configaudit.FixRequest{}
	off := f.off
	dns := f.dns
	if f.all {
		off = append(off, "remote", "telnet", "upnp", "wps")
		if dns == "" {
			dns = "baseline?"
		}
	}
	for _, o := range off {
		switch strings.ToLower(strings.TrimSpace(o)) {
		case "remote", "remote-management":
			req.RemoteOff = true
		case "telnet":
			req.TelnetOff = true
		case "upnp":
			req.UPnPOff = true
		case "wps":
			req.WPSOff = true
		default:
			return usagef("--off: %q is not one of remote, telnet, upnp, wps", o)
		}
	}
	if dns == "" && f.wanDNS == "" && !req.RemoteOff && !req.TelnetOff && !req.UPnPOff && !req.WPSOff {
		return usagef("fix: say what to put right: --dns, --wan-dns, --off or --all")
	}
	if f.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	id := f.id
	if id == "" {
		id = addr.String()
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	baseline := func(wan bool) func() ([]netip.Addr, error) {
		return func() ([]netip.Addr, error) {
			b, err := st.Baseline(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return nil, usagef("no baseline of %q: take one with 'routerwatch config baseline', or name the servers", id)
			} else if err != nil {
				return nil, err
			}
			s, err := st.Snapshot(ctx, b.SnapshotID)
			if err != nil {
				return nil, err
			}
			fd := s.Snapshot.Config.DHCPDNS
			if wan {
				fd = s.Snapshot.Config.WANDNS
			}
			if !fd.Known {
				return nil, usagef("the baseline (snapshot %d) does not show these resolvers: name the servers", b.SnapshotID)
			}
			return fd.Value, nil
		}
	}
	if dns == "baseline?" { // --all: the baseline when there is one, else the router itself
		dns = "router"
		if _, err := st.Baseline(ctx, id); err == nil {
			dns = "baseline"
		}
	}
	if req.DHCPDNS, err = dnsChoice("dns", dns, baseline(false)); err != nil {
		return err
	}
	if req.WANDNS, err = dnsChoice("wan-dns", f.wanDNS, baseline(true)); err != nil {
		return err
	}
	creds, err := a.routerLogin(f.credentials, addr, f.adapter)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	snap, err := configaudit.Pull(ctx, configaudit.PullOptions{Target: addr, Port: f.port, TLS: f.tls, Adapter: f.adapter, Credentials: creds, Logger: a.logger})
	if err != nil {
		return fmt.Errorf("fix %s: reading the settings: %w", addr, err)
	}
	plan := configaudit.PlanFix(&snap.Config, req)
	w := a.Stdout
	if len(plan) == 0 {
		fmt.Fprintf(w, "Nothing to change on %s: the settings are already as asked.\n", addr)
		return nil
	}
	verb := "Would change"
	if f.apply {
		verb = "Changing"
	}
	fmt.Fprintf(w, "%s on %s (%s):\n", verb, addr, snap.Adapter)
	for _, p := range plan {
		fmt.Fprintf(w, "  %s\n", termtext.Line(p.Words))
	}
	if !f.apply {
		fmt.Fprintln(w, "\nDry run: nothing was changed. Add --apply to make these changes (a backup is saved first).")
		return nil
	}
	if _, ok := adapters.Fixer(snap.Adapter); !ok {
		return fmt.Errorf("fix: the %s adapter reads settings but cannot change them", snap.Adapter)
	}
	var backupPath string
	res, err := configaudit.ApplyFix(ctx, configaudit.FixOptions{Target: addr, Port: f.port, TLS: f.tls, Adapter: snap.Adapter,
		Credentials: creds, Plan: plan, SaveBackup: func(b []byte) error {
			var err error
			backupPath, err = a.saveBackup(id, b)
			return err
		}})
	if backupPath != "" {
		fmt.Fprintf(w, "Backup of the previous settings: %s\n", backupPath)
	}
	if res != nil && res.After != nil {
		// Keep the settings as they are now, so the history shows the fix.
		if _, rerr := configaudit.Record(ctx, configaudit.RecordOptions{Store: st, Device: store.Device{ID: id, Address: addr.String(), Adapter: snap.Adapter},
			Snapshot: res.After, Allowed: a.allowedResolvers()}); rerr != nil {
			a.logger.Warn("fix: keeping the reading after the fix", "error", rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("fix %s: %w", addr, err)
	}
	fmt.Fprintf(w, "Done: %d change(s) made and read back.\nNow change the router's admin password: whoever changed its settings knew it.\n", len(res.Applied))
	return nil
}

// saveBackup keeps a fix's backup in the data directory, readable by
// the owner only.
func (a *App) saveBackup(id string, b []byte) (string, error) {
	dir := filepath.Join(a.cfg.DataDir, "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	p := filepath.Join(dir, fmt.Sprintf("%s-%s.json", safe, time.Now().UTC().Format("20060102T150405Z")))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
}
