// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/scan"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

type rangeFlags struct {
	db  string
	org string
}

func (a *App) newRangeCmd() *cobra.Command {
	f := &rangeFlags{}
	cmd := &cobra.Command{
		Use:   "range",
		Short: "Audit an authorised address range (ISPs, CERTs): scopes, runs, reports, exports",
		Long: `range audits address space you are responsible for — an ISP's customer
prefixes, a CERT's constituency — for exposed management, open resolvers and
identified models with their advisory verdicts, as jobs that a worker
('routerwatch worker') runs in chunks of at most a /24, at the scope's rate per
prefix, resumable: a run interrupted goes on where it stopped.

A scope names its prefixes, their owner and the reason for the audit; both are
required and recorded with who created it. Runs audit a scope; report and export
read a run's results (export: one row per address with a finding, for customer
notification).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.db, "db", "", "the fleet database: postgres://… or a SQLite store file (default $"+envDB+", the config's database, the data directory's store)")
	pf.StringVar(&f.org, "org", store.DefaultOrg, "the organisation whose scopes and runs these are")
	cmd.AddCommand(a.newRangeScopeCmd(f), a.newRangeRunCmd(f), a.newRangeStatusCmd(f), a.newRangeReportCmd(f), a.newRangeExportCmd(f))
	return cmd
}

// rangeTenant opens the fleet store and returns the organisation's data.
func (a *App) rangeTenant(ctx context.Context, f *rangeFlags) (store.Tenant, func(), error) {
	db := a.fleetDB(f.db)
	st, err := a.openFleetStore(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	return st.ForOrg(f.org), func() { st.Close() }, nil
}

func (a *App) newRangeScopeCmd(f *rangeFlags) *cobra.Command {
	var prefixes []string
	var owner, reason string
	var rate float64
	cmd := &cobra.Command{Use: "scope", Short: "Add or list authorised scopes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	add := &cobra.Command{
		Use:   "add --prefix P [--prefix P2] --owner TEXT --reason TEXT [--rate R]",
		Short: "Record an authorised scope",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var ps []netip.Prefix
			for _, s := range prefixes {
				for _, one := range strings.Split(s, ",") {
					p, err := netip.ParsePrefix(strings.TrimSpace(one))
					if err != nil {
						return usagef("--prefix: %q is not a prefix (CIDR)", one)
					}
					if p != p.Masked() {
						return usagef("--prefix %s has host bits set (did you mean %s?)", p, p.Masked())
					}
					ps = append(ps, p)
				}
			}
			switch {
			case len(ps) == 0:
				return usagef("range scope add: give at least one --prefix")
			case strings.TrimSpace(owner) == "" || strings.TrimSpace(reason) == "":
				return usagef("range scope add: --owner and --reason are required: who holds the addresses, and why they are audited")
			case !(rate >= 0 && rate <= 1000):
				return usagef("--rate must be between 0 and 1000 addresses per second per prefix")
			}
			if _, err := jobs.Chunks(ps); err != nil {
				return usagef("range scope add: %v", err)
			}
			t, done, err := a.rangeTenant(ctx, f)
			if err != nil {
				return err
			}
			defer done()
			sc, err := t.CreateRangeScope(ctx, store.RangeScope{Prefixes: ps, Owner: owner, Reason: reason,
				CreatedBy: whoAmI(), PerPrefixRate: rate})
			if err != nil {
				if errors.Is(err, store.ErrInvalid) {
					return usagef("range scope add: %v", err)
				}
				return fmt.Errorf("range scope add: %w", err)
			}
			fmt.Fprintf(a.Stdout, "scope %d: %s (owner %s; reason %s)\n", sc.ID, prefixList(sc.Prefixes), termtext.Line(sc.Owner), termtext.Line(sc.Reason))
			return nil
		},
	}
	fl := add.Flags()
	fl.StringArrayVar(&prefixes, "prefix", nil, "an authorised prefix (CIDR); repeatable or comma-separated")
	fl.StringVar(&owner, "owner", "", "who holds the addresses (required)")
	fl.StringVar(&reason, "reason", "", "why they are audited (required)")
	fl.Float64Var(&rate, "rate", 0, fmt.Sprintf("addresses audited per second in one /24 (default %d)", jobs.DefaultPerPrefixRate))
	list := &cobra.Command{Use: "list", Short: "List the scopes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, done, err := a.rangeTenant(cmd.Context(), f)
			if err != nil {
				return err
			}
			defer done()
			scs, err := t.RangeScopes(cmd.Context(), store.Page{Limit: store.MaxLimit})
			if err != nil {
				return fmt.Errorf("range scope list: %w", err)
			}
			for _, sc := range scs {
				fmt.Fprintf(a.Stdout, "%d\t%s\t%s\t%s\t%s\n", sc.ID, prefixList(sc.Prefixes), termtext.Line(sc.Owner), termtext.Line(sc.Reason), sc.CreatedAt.Format(time.RFC3339))
			}
			return nil
		}}
	cmd.AddCommand(add, list)
	return cmd
}

func (a *App) newRangeRunCmd(f *rangeFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "run SCOPE",
		Short: "Start a run of a scope (its jobs are worked by 'routerwatch worker', or here with --wait)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			scopeID, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("range run: %q is not a scope number", args[0])
			}
			db := a.fleetDB(f.db)
			t, done, err := a.rangeTenant(ctx, f)
			if err != nil {
				return err
			}
			defer done()
			run, err := t.StartRangeRun(ctx, scopeID, time.Time{})
			if err != nil {
				return fmt.Errorf("range run: %w", err)
			}
			jc, err := jobs.Open(ctx, jobs.Config{DSN: jobsDSN(db), Logger: a.logger})
			if err != nil {
				return fmt.Errorf("range run: %w", err)
			}
			_, err = jc.EnqueueRangeRun(ctx, f.org, run.ID)
			jc.Close()
			if err != nil {
				return fmt.Errorf("range run: %w", err)
			}
			fmt.Fprintf(a.Stdout, "run %d of scope %d queued\n", run.ID, scopeID)
			if !wait {
				return nil
			}
			return a.workRun(ctx, db, t, f.org, run.ID)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "work the run in this process until it ends (one-process mode)")
	return cmd
}

// workRun works the job queue in this process until run ends.
func (a *App) workRun(ctx context.Context, db string, t store.Tenant, org string, runID int64) error {
	ix, _, err := a.openAdvisories()
	if err != nil {
		return err
	}
	st, err := a.openFleetStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	rs, ws := jobs.FromStore(st)
	c, err := jobs.Open(ctx, jobs.Config{DSN: jobsDSN(db), Workers: jobs.DefaultWorkers, Range: rs, WAN: ws,
		Judge: audit.Options{Index: ix}, Logger: a.logger})
	if err != nil {
		return fmt.Errorf("range run: %w", err)
	}
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		c.Close()
		return fmt.Errorf("range run: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Stop(sctx)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(a.Stderr, "routerwatch: run %d interrupted; 'routerwatch range run' is resumable: a worker goes on with it\n", runID)
			return ctx.Err()
		case <-tick.C:
		}
		r, err := t.RangeRun(ctx, runID)
		if err != nil {
			return fmt.Errorf("range run: %w", err)
		}
		if r.State != store.RangeRunning {
			fmt.Fprintf(a.Stdout, "run %d %s\n", runID, r.State)
			return nil
		}
	}
}

func (a *App) newRangeStatusCmd(f *rangeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status RUN",
		Short: "Show a run's state and progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			runID, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("range status: %q is not a run number", args[0])
			}
			t, done, err := a.rangeTenant(ctx, f)
			if err != nil {
				return err
			}
			defer done()
			r, err := t.RangeRun(ctx, runID)
			if err != nil {
				return fmt.Errorf("range status: %w", err)
			}
			sum, err := t.RangeSummary(ctx, runID)
			if err != nil {
				return fmt.Errorf("range status: %w", err)
			}
			var addrs, live, failing int
			for _, s := range sum {
				addrs, live, failing = addrs+s.Addresses, live+s.Live, failing+s.Failing
			}
			fmt.Fprintf(a.Stdout, "run %d of scope %d: %s, started %s", r.ID, r.ScopeID, r.State, r.StartedAt.Format(time.RFC3339))
			if !r.FinishedAt.IsZero() {
				fmt.Fprintf(a.Stdout, ", finished %s", r.FinishedAt.Format(time.RFC3339))
			}
			fmt.Fprintf(a.Stdout, "\n%d addresses recorded, %d live, %d with a failing finding, in %d prefixes\n", addrs, live, failing, len(sum))
			db := a.fleetDB(f.db)
			if jc, err := jobs.Open(ctx, jobs.Config{DSN: jobsDSN(db), Logger: a.logger}); err == nil {
				if p, err := jc.RunProgress(ctx, runID); err == nil && len(p) > 0 {
					var parts []string
					for st, n := range p {
						parts = append(parts, fmt.Sprintf("%s %d", st, n))
					}
					sort.Strings(parts)
					fmt.Fprintf(a.Stdout, "chunks: %s\n", strings.Join(parts, ", "))
				}
				jc.Close()
			}
			return nil
		},
	}
}

// findingRow is one finding-bearing address of a run, for reports and
// exports.
type findingRow struct {
	Address        string   `json:"address"`
	Prefix         string   `json:"prefix"`
	Model          string   `json:"model,omitempty"`
	Verdict        string   `json:"advisory_verdict"`
	CVEs           []string `json:"cves,omitempty"`
	Exploited      bool     `json:"exploited_in_the_wild"`
	ExposedMgmt    []string `json:"exposed_management,omitempty"`
	OpenResolver   bool     `json:"open_resolver"`
	FailingChecks  []string `json:"failing_checks,omitempty"`
	WorstSeverity  string   `json:"worst_severity,omitempty"`
	FirstSeen      string   `json:"first_seen"`
	LastSeen       string   `json:"last_seen"`
	hasFinding     bool
	managementSeen bool
}

// rowOf reads a record.
func rowOf(r store.RangeRecord) (findingRow, error) {
	var rec scan.Record
	if err := json.Unmarshal(r.Record, &rec); err != nil {
		return findingRow{}, fmt.Errorf("record of %s: %w", r.Address, err)
	}
	at := r.At.UTC().Format(time.RFC3339)
	row := findingRow{Address: r.Address.String(), Prefix: r.Prefix.String(), Model: r.Model, Verdict: rec.Vulnerability.Verdict,
		CVEs: rec.Vulnerability.CVEs, Exploited: rec.Vulnerability.Exploited, WorstSeverity: r.WorstSeverity, FirstSeen: at, LastSeen: at}
	for _, fd := range rec.Findings {
		if fd.Status != finding.StatusFail {
			continue
		}
		row.FailingChecks = append(row.FailingChecks, fd.CheckID)
		switch fd.CheckID {
		case "exposure.remote_management":
			row.managementSeen = true
		case "exposure.open_resolver":
			row.OpenResolver = true
		}
	}
	if row.managementSeen {
		for _, s := range rec.Services {
			switch s.Kind {
			case "web", "ssh", "telnet", "ftp", "winbox", "api", "api-ssl":
				row.ExposedMgmt = append(row.ExposedMgmt, fmt.Sprintf("%s/%d %s", s.Proto, s.Port, s.Kind))
			}
		}
		if len(row.ExposedMgmt) == 0 {
			row.ExposedMgmt = []string{"management"}
		}
	}
	row.hasFinding = len(row.FailingChecks) > 0 || row.Verdict == "affected"
	return row, nil
}

func (a *App) newRangeReportCmd(f *rangeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "report RUN",
		Short: "Per prefix: live hosts, exposed management, open resolvers, models and their advisory verdicts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			runID, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("range report: %q is not a run number", args[0])
			}
			t, done, err := a.rangeTenant(ctx, f)
			if err != nil {
				return err
			}
			defer done()
			type prefixRow struct {
				live, mgmt, resolvers int
				models                map[string]map[string]int // model → verdict → count
			}
			rows := map[string]*prefixRow{}
			var order []string
			for r, err := range t.ExportRangeRecords(ctx, runID) {
				if err != nil {
					return fmt.Errorf("range report: %w", err)
				}
				row, err := rowOf(r)
				if err != nil {
					return fmt.Errorf("range report: %w", err)
				}
				p := rows[row.Prefix]
				if p == nil {
					p = &prefixRow{models: map[string]map[string]int{}}
					rows[row.Prefix] = p
					order = append(order, row.Prefix)
				}
				if r.Live {
					p.live++
				}
				if row.managementSeen {
					p.mgmt++
				}
				if row.OpenResolver {
					p.resolvers++
				}
				if row.Model != "" {
					if p.models[row.Model] == nil {
						p.models[row.Model] = map[string]int{}
					}
					p.models[row.Model][row.Verdict]++
				}
			}
			sort.Strings(order)
			w := a.Stdout
			fmt.Fprintf(w, "%-20s %6s %10s %10s  %s\n", "prefix", "live", "exposed", "open", "models (advisory verdict: count)")
			fmt.Fprintf(w, "%-20s %6s %10s %10s\n", "", "", "management", "resolvers")
			for _, k := range order {
				p := rows[k]
				var ms []string
				for m, vs := range p.models {
					var parts []string
					for v, n := range vs {
						parts = append(parts, fmt.Sprintf("%s: %d", v, n))
					}
					sort.Strings(parts)
					ms = append(ms, termtext.Line(m)+" ("+strings.Join(parts, ", ")+")")
				}
				sort.Strings(ms)
				fmt.Fprintf(w, "%-20s %6d %10d %10d  %s\n", k, p.live, p.mgmt, p.resolvers, strings.Join(ms, "; "))
			}
			return nil
		},
	}
}

func (a *App) newRangeExportCmd(f *rangeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export RUN --format csv|json",
		Short: "Stream one row per address with a finding, for customer notification",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			runID, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("range export: %q is not a run number", args[0])
			}
			if format != "csv" && format != "json" {
				return usagef("--format: %q is not one of csv, json", format)
			}
			t, done, err := a.rangeTenant(ctx, f)
			if err != nil {
				return err
			}
			defer done()
			return exportRows(ctx, a.Stdout, format, t, runID)
		},
	}
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json (JSON Lines)")
	return cmd
}

// exportColumns are the CSV header, chosen for notifying customers.
var exportColumns = []string{"address", "prefix", "model", "advisory_verdict", "cves", "exploited_in_the_wild",
	"exposed_management", "open_resolver", "failing_checks", "worst_severity", "first_seen", "last_seen"}

// exportRows streams the run's finding-bearing addresses to w.
func exportRows(ctx context.Context, w io.Writer, format string, t store.Tenant, runID int64) error {
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	if format == "csv" {
		cw = csv.NewWriter(w)
		if err := cw.Write(exportColumns); err != nil {
			return err
		}
	}
	for r, err := range t.ExportRangeRecords(ctx, runID) {
		if err != nil {
			return fmt.Errorf("range export: %w", err)
		}
		row, err := rowOf(r)
		if err != nil {
			return fmt.Errorf("range export: %w", err)
		}
		if !row.hasFinding {
			continue
		}
		if cw == nil {
			if err := enc.Encode(row); err != nil {
				return err
			}
			continue
		}
		// Spreadsheets run cells that start with = + - @ as formulas; a
		// device's model name is the device's words.
		cells := []string{row.Address, row.Prefix, csvSafe(row.Model), row.Verdict, strings.Join(row.CVEs, " "), strconv.FormatBool(row.Exploited),
			strings.Join(row.ExposedMgmt, " "), strconv.FormatBool(row.OpenResolver), strings.Join(row.FailingChecks, " "), row.WorstSeverity, row.FirstSeen, row.LastSeen}
		if err := cw.Write(cells); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func prefixList(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, " ")
}

// whoAmI names the local user who creates a scope.
func whoAmI() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
