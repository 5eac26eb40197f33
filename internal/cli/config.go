// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/check/hardening"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/adapters"
	"github.com/routerwatch/routerwatch/internal/inputfile"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// storeFile is the store's file name in the data directory.
const storeFile = "routerwatch.db"

// maxConfigFile bounds a file given to config import: backups and
// exports are kilobytes; a sysupgrade archive a few megabytes.
const maxConfigFile = 64 << 20

func (a *App) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read the router's settings with your credentials, keep a history, and say what changed",
		Long: `config reads what your router is actually configured to do — the resolvers its
DHCP hands out (the setting the 2025-2026 attack changed), its own DNS, remote
management, telnet, UPnP, WPS, admin accounts, port forwards, firmware — and
keeps each reading in the store (` + storeFile + ` in the data directory), so that
the next reading says in plain words what changed and how much it matters.

Adapters: ` + strings.Join(adapters.Names(), ", ") + ` (online), and ` + strings.Join(adapters.ImporterNames(), ", ") + ` (files).
Reading is read-only: routerwatch logs in, reads, and logs out; only
'routerwatch fix --apply' changes a setting.

` + credentialsHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newConfigPullCmd(), a.newConfigBaselineCmd(), a.newConfigDiffCmd(), a.newConfigHistoryCmd(), a.newConfigImportCmd())
	return cmd
}

// openStore opens the store in the data directory, creating it.
func (a *App) openStore(ctx context.Context) (store.Store, error) {
	dir := a.cfg.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, storeFile))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// allowedResolvers reads policy.allowed_resolvers (validated at load).
func (a *App) allowedResolvers() []netip.Addr {
	var out []netip.Addr
	for _, s := range a.cfg.Policy.AllowedResolvers {
		if ad, err := netip.ParseAddr(s); err == nil {
			out = append(out, ad.Unmap())
		}
	}
	return out
}

type configPullFlags struct {
	id, label, adapter, credentials string
	port                            uint16
	tls, baseline, noStore          bool
	timeout                         time.Duration
	format, failOn                  string
}

func (a *App) newConfigPullCmd() *cobra.Command {
	f := &configPullFlags{}
	cmd := &cobra.Command{
		Use:   "pull ROUTER",
		Short: "Read the router's settings, keep them, and say what changed since the last reading",
		Long: `pull logs in to the router at ROUTER (an IP address) with your credentials, reads
its settings, logs out, stores the reading, and reports: what changed since the
last reading (each change with its severity and why it matters: "DHCP DNS
primary changed from 192.168.0.1 to 203.0.113.7 — not in your allowed
resolvers"), and the checks on the settings (resolvers not yours, remote
management, telnet, UPnP, WPS, a default admin name, firmware older than the
fixed build). A setting the router did not show is reported as unknown, never
as off.

` + credentialsHelp + `

Exit codes: 0 nothing failed at or above --fail-on, 1 something did, 2 usage
error (no login, unknown adapter), 3 the router could not be read (refused
login, unreachable, busy with another admin session).`,
		Example: `  routerwatch config pull 192.168.0.1
  routerwatch config pull 192.168.0.1 --adapter tplink-legacy --baseline
  ROUTERWATCH_ROUTER_PASSWORD=… routerwatch config pull 192.168.88.1 --adapter routeros-api --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runConfigPull(cmd.Context(), f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.adapter, "adapter", configaudit.Auto, "adapter: auto or one of "+strings.Join(adapters.Names(), ", "))
	fl.Uint16Var(&f.port, "port", 0, "the adapter's port when it is not the usual one")
	fl.BoolVar(&f.tls, "tls", false, "use the encrypted variant where there is one (RouterOS API-SSL, HTTPS)")
	fl.StringVar(&f.id, "id", "", "the router's name in the store (default: its address)")
	fl.StringVar(&f.label, "label", "", "a label for people")
	fl.StringVar(&f.credentials, "credentials", "", "credentials file (YAML, mode 0600)")
	fl.BoolVar(&f.baseline, "baseline", false, "make this reading the baseline")
	fl.BoolVar(&f.noStore, "no-store", false, "report without keeping the reading")
	fl.DurationVar(&f.timeout, "timeout", configaudit.DefaultTimeout, "deadline for the pull")
	fl.StringVar(&f.format, "format", "", "output format: text, json or html (default from config, else text)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding fails at or above this severity (default high)")
	return cmd
}

func parseRouter(s string) (netip.Addr, error) {
	ad, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, usagef("%q: give the router's IP address (host names are never resolved)", s)
	}
	return ad.Unmap(), nil
}

func (a *App) runConfigPull(ctx context.Context, f *configPullFlags, arg string) error {
	addr, err := parseRouter(arg)
	if err != nil {
		return err
	}
	format, err := a.reportFormat(f.format)
	if err != nil {
		return err
	}
	failOn, err := a.failOnSeverity(f.failOn)
	if err != nil {
		return err
	}
	if f.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if f.adapter != configaudit.Auto {
		if _, ok := adapters.Puller(f.adapter); !ok {
			return usagef("--adapter %q: not one of auto, %s", f.adapter, strings.Join(adapters.Names(), ", "))
		}
	}
	if f.baseline && f.noStore {
		return usagef("--baseline keeps the reading: it cannot be combined with --no-store")
	}
	creds, err := a.routerLogin(f.credentials, addr, f.adapter)
	if err != nil {
		return err
	}
	var st store.Store
	if !f.noStore {
		if st, err = a.openStore(ctx); err != nil {
			return err
		}
		defer st.Close()
	}
	ix, _, err := a.openAdvisories()
	if err != nil {
		return err
	}
	snap, err := configaudit.Pull(ctx, configaudit.PullOptions{Target: addr, Port: f.port, TLS: f.tls, Adapter: f.adapter,
		Credentials: creds, Timeout: f.timeout, Logger: a.logger})
	if err != nil {
		if errors.Is(err, configaudit.ErrUnknownAdapter) {
			return &usageError{err}
		}
		return fmt.Errorf("config pull %s: %w", addr, err)
	}
	id := f.id
	if id == "" {
		id = addr.String()
	}
	res, err := configaudit.Record(ctx, configaudit.RecordOptions{Store: st, Device: store.Device{ID: id, Address: addr.String(), Adapter: snap.Adapter, Label: f.label},
		Snapshot: snap, Allowed: a.allowedResolvers(), Index: ix})
	if err != nil {
		return fmt.Errorf("config pull %s: %w", addr, err)
	}
	rep := res.Report()
	if f.baseline {
		if _, err := st.SetBaseline(ctx, store.Baseline{DeviceID: id, SnapshotID: res.Meta.ID, Note: "config pull --baseline"}); err != nil {
			return err
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("baseline: snapshot %d", res.Meta.ID))
	}
	if err := a.writeReport(rep, format); err != nil {
		return err
	}
	if n := rep.Failing(failOn); n > 0 {
		return &findingsError{n: n}
	}
	return nil
}

func (a *App) newConfigBaselineCmd() *cobra.Command {
	var snapshot int64
	var note string
	cmd := &cobra.Command{
		Use:   "baseline DEVICE",
		Short: "Mark a reading as the settings you accept (default: the latest)",
		Long: `baseline makes a stored reading of DEVICE (its name in the store, by default its
address) the baseline: the settings you know to be right. Later readings are
also compared with it, and its resolvers count as yours.`,
		Example: "  routerwatch config baseline 192.168.0.1\n  routerwatch config baseline home --snapshot 12 --note \"after the firmware update\"",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			id := args[0]
			if snapshot == 0 {
				latest, err := st.LatestSnapshot(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					return usagef("no reading of %q is stored: run 'routerwatch config pull' first", id)
				} else if err != nil {
					return err
				}
				snapshot = latest.Meta.ID
			}
			b, err := st.SetBaseline(ctx, store.Baseline{DeviceID: id, SnapshotID: snapshot, Note: note})
			if errors.Is(err, store.ErrNotFound) {
				return usagef("snapshot %d is not a reading of %q (see 'routerwatch config history %s')", snapshot, id, id)
			} else if err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "Baseline of %s: snapshot %d (set %s).\n", termtext.Line(id), b.SnapshotID, b.SetAt.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "the snapshot to use (see 'config history')")
	cmd.Flags().StringVar(&note, "note", "", "why, in your words")
	return cmd
}

func (a *App) newConfigDiffCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff DEVICE | diff A B",
		Short: "Say what changed: DEVICE's baseline against its latest reading, or snapshot A against B",
		Long: `diff compares two readings by meaning, each change with its severity and why it
matters. With one argument (a device), the baseline (or, without one, the
reading before the latest) against the latest; with two snapshot numbers,
A against B.`,
		Example: "  routerwatch config diff 192.168.0.1\n  routerwatch config diff 12 17 --format json",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = "text"
			}
			if format != "text" && format != "json" {
				return usagef("--format: %q is not one of text, json", format)
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var from, to store.StoredSnapshot
			if len(args) == 2 {
				ids := [2]int64{}
				for i, s := range args {
					n, err := strconv.ParseInt(s, 10, 64)
					if err != nil || n <= 0 {
						return usagef("%q is not a snapshot number (see 'routerwatch config history')", s)
					}
					ids[i] = n
				}
				if from, err = st.Snapshot(ctx, ids[0]); err != nil {
					return snapshotErr(ids[0], err)
				}
				if to, err = st.Snapshot(ctx, ids[1]); err != nil {
					return snapshotErr(ids[1], err)
				}
			} else if from, to, err = baselineAndLatest(ctx, st, args[0]); err != nil {
				return err
			}
			pol, err := configaudit.Policy(a.allowedResolvers(), nil)
			if err != nil {
				return err
			}
			gs := hardening.Grade(device.Diff(&from.Snapshot.Config, &to.Snapshot.Config), &to.Snapshot.Config, pol)
			if format == "json" {
				type out struct {
					From    int64              `json:"from"`
					To      int64              `json:"to"`
					Changes []hardening.Graded `json:"changes"`
				}
				if gs == nil {
					gs = []hardening.Graded{}
				}
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out{From: from.Meta.ID, To: to.Meta.ID, Changes: gs})
			}
			fmt.Fprintf(a.Stdout, "Snapshot %d (%s) → snapshot %d (%s): ", from.Meta.ID, from.Meta.TakenAt.Format(time.RFC3339),
				to.Meta.ID, to.Meta.TakenAt.Format(time.RFC3339))
			if len(gs) == 0 {
				fmt.Fprintln(a.Stdout, "no change.")
				return nil
			}
			fmt.Fprintf(a.Stdout, "%d change(s)\n", len(gs))
			for _, g := range gs {
				fmt.Fprintf(a.Stdout, "  %-9s %s\n", g.Severity, termtext.Line(g.Sentence()))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "text or json")
	return cmd
}

func snapshotErr(id int64, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return usagef("no snapshot %d (see 'routerwatch config history')", id)
	}
	return err
}

// baselineAndLatest returns the device's baseline (or the reading before
// the latest) and its latest reading.
func baselineAndLatest(ctx context.Context, st store.Store, id string) (store.StoredSnapshot, store.StoredSnapshot, error) {
	latest, err := st.LatestSnapshot(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return latest, latest, usagef("no reading of %q is stored: run 'routerwatch config pull' first", id)
	} else if err != nil {
		return latest, latest, err
	}
	if b, err := st.Baseline(ctx, id); err == nil {
		from, err := st.Snapshot(ctx, b.SnapshotID)
		return from, latest, err
	} else if !errors.Is(err, store.ErrNotFound) {
		return latest, latest, err
	}
	hist, err := st.Snapshots(ctx, id, store.Page{Limit: 2})
	if err != nil {
		return latest, latest, err
	}
	if len(hist) < 2 {
		return latest, latest, usagef("%q has one reading and no baseline: nothing to compare with yet", id)
	}
	from, err := st.Snapshot(ctx, hist[1].ID)
	return from, latest, err
}

func (a *App) newConfigHistoryCmd() *cobra.Command {
	var limit int
	var format string
	cmd := &cobra.Command{
		Use:     "history DEVICE",
		Short:   "List the stored readings of a router, newest first",
		Example: "  routerwatch config history 192.168.0.1\n  routerwatch config history home --limit 100 --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = "text"
			}
			if format != "text" && format != "json" {
				return usagef("--format: %q is not one of text, json", format)
			}
			if limit < 1 || limit > 1000 {
				return usagef("--limit must be between 1 and 1000")
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			id := args[0]
			hist, err := st.Snapshots(ctx, id, store.Page{Limit: limit})
			if err != nil {
				return err
			}
			events, err := st.ChangeEvents(ctx, id, store.Page{Limit: limit})
			if err != nil {
				return err
			}
			changed := map[int64]int{}
			for _, e := range events {
				changed[e.ToSnapshot] = len(e.Changes)
			}
			var baseID int64
			if b, err := st.Baseline(ctx, id); err == nil {
				baseID = b.SnapshotID
			}
			if format == "json" {
				type row struct {
					store.SnapshotMeta
					Changes  int  `json:"changes"`
					Baseline bool `json:"baseline"`
				}
				rows := []row{}
				for _, h := range hist {
					rows = append(rows, row{SnapshotMeta: h, Changes: changed[h.ID], Baseline: h.ID == baseID})
				}
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(hist) == 0 {
				fmt.Fprintf(a.Stdout, "No reading of %s is stored.\n", termtext.Line(id))
				return nil
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SNAPSHOT\tTAKEN\tADAPTER\tCHANGES\tCONFIG")
			for _, h := range hist {
				mark := ""
				if h.ID == baseID {
					mark = "  (baseline)"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s%s\n", h.ID, h.TakenAt.Format(time.RFC3339), termtext.Line(h.Adapter), changed[h.ID], shortHash(h.ConfigHash), mark)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many readings (1-1000)")
	cmd.Flags().StringVar(&format, "format", "", "text or json")
	return cmd
}

func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

func (a *App) newConfigImportCmd() *cobra.Command {
	var format, id string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Read a backup or export file and print the normalized configuration",
		Long: `import reads a router's backup or export (` + strings.Join(adapters.ImporterNames(), ", ") + `),
detects its format, and prints the settings it holds, each with where it was
read; a setting the file does not hold is unknown. With --device it is also
kept in the store as a reading of that device (so that it can be a baseline).
Secrets in the file (passwords, keys) are never printed or kept.`,
		Example: "  routerwatch config import config.bin\n  routerwatch config import export.rsc --format json\n  routerwatch config import backup.tar.gz --device home",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = "text"
			}
			if format != "text" && format != "json" {
				return usagef("--format: %q is not one of text, json", format)
			}
			b, err := inputfile.ReadAll(args[0], maxConfigFile)
			if err != nil {
				return usagef("config import: %v", err)
			}
			snap, err := configaudit.Import(b)
			if err != nil {
				return fmt.Errorf("config import %s: %w", args[0], err)
			}
			if snap.TakenAt.IsZero() {
				snap.TakenAt = time.Now()
			}
			if id != "" {
				ctx := cmd.Context()
				st, err := a.openStore(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				res, err := configaudit.Record(ctx, configaudit.RecordOptions{Store: st, Device: store.Device{ID: id, Adapter: snap.Adapter},
					Snapshot: snap, Allowed: a.allowedResolvers()})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.Stderr, "routerwatch: kept as snapshot %d of %s\n", res.Meta.ID, termtext.Line(id))
			}
			if format == "json" {
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Format   string        `json:"format"`
					Config   device.Config `json:"config"`
					Warnings []string      `json:"warnings,omitempty"`
				}{snap.Adapter, snap.Config, snap.Warnings})
			}
			fmt.Fprintf(a.Stdout, "Format: %s\n\n", snap.Adapter)
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			for _, l := range configaudit.Describe(&snap.Config) {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Field, termtext.Line(l.Value), termtext.Line(l.From))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, w := range snap.Warnings {
				fmt.Fprintf(a.Stdout, "warning: %s\n", termtext.Line(w))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "text or json (the normalized configuration)")
	cmd.Flags().StringVar(&id, "device", "", "also keep it in the store as a reading of this device")
	return cmd
}
