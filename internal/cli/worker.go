// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/postgres"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

// envDB names the fleet database when --db is not given.
const envDB = "ROUTERWATCH_DB"

type workerFlags struct {
	db          string
	workers     int
	queues      []string
	stopTimeout time.Duration
	recogDir    string
}

func (a *App) newWorkerCmd() *cobra.Command {
	f := &workerFlags{}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Work the fleet's jobs (range audits, WAN checks) from the job queue",
		Long: `worker runs the fleet's background jobs from the job queue: range audits
(ISPs' and CERTs' authorised prefixes, in chunks of at most a /24), the
server's WAN-side checks of each site's public address, and the periodic jobs
(scheduling those checks, pruning finished jobs).

--db names the database: a postgres:// URL (many workers on many machines share
it) or a SQLite store file (one process). Without --db it is taken from
$` + envDB + `, then from the configuration file's database key, then the
store in the data directory. A password in the URL is never printed or logged;
prefer a password file (PGPASSFILE) to a password on the command line.

A worker stops on SIGTERM or Ctrl-C: running jobs may finish for --stop-timeout,
then they are cancelled and handed back to the queue (a range chunk keeps the
addresses it recorded, and the next worker goes on from there). A job whose
worker died (kill -9, a lost machine) is taken up again by another worker once
it has been running longer than any job may.

Exit codes: 0 stopped on a signal, 2 usage or configuration error, 3 the
database could not be reached or was written by a newer routerwatch.`,
		Example: `  ROUTERWATCH_DB=postgres://routerwatch@db.internal/routerwatch routerwatch worker --workers 8
  routerwatch worker --db /var/lib/routerwatch/routerwatch.db --queues default`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runWorker(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "the fleet database: postgres://… or a SQLite store file (default $"+envDB+", the config's database, the data directory's store)")
	fl.IntVar(&f.workers, "workers", jobs.DefaultWorkers, fmt.Sprintf("jobs of each queue worked at once (1-%d)", jobs.MaxWorkers))
	fl.StringSliceVar(&f.queues, "queues", nil, "queues to work, comma-separated: "+strings.Join(jobs.Queues(), ", ")+" (default all)")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", 30*time.Second, "on SIGTERM, how long running jobs may finish before they are handed back")
	fl.StringVar(&f.recogDir, "recog-dir", "", "also identify with the rapid7 recog fingerprint database in this directory")
	return cmd
}

// fleetDB returns the database DSN: --db, $ROUTERWATCH_DB, the config's
// database, or the store in the data directory.
func (a *App) fleetDB(flag string) string {
	for _, s := range []string{flag, a.Getenv(envDB), a.cfg.Database} {
		if s != "" {
			return s
		}
	}
	return filepath.Join(a.cfg.DataDir, storeFile)
}

// jobsDSN is River's DSN for a fleet database: the same PostgreSQL
// database, or a SQLite file next to the store's.
func jobsDSN(db string) string {
	if jobs.Backend(db) == jobs.BackendPostgres {
		return db
	}
	return jobs.JobsFile(jobs.SQLitePath(db))
}

func (a *App) runWorker(ctx context.Context, f *workerFlags) error {
	switch {
	case f.workers < 1 || f.workers > jobs.MaxWorkers:
		return usagef("--workers must be between 1 and %d", jobs.MaxWorkers)
	case f.stopTimeout < 0:
		return usagef("--stop-timeout must not be negative")
	}
	for _, q := range f.queues {
		if !contains(jobs.Queues(), q) {
			return usagef("--queues: %q is not one of %s", q, strings.Join(jobs.Queues(), ", "))
		}
	}
	db := a.fleetDB(f.db)
	ix, info, err := a.openAdvisories()
	if err != nil {
		return err
	}
	a.logger.Debug("worker: advisory data", "data", dataVersionLine(info))
	id, err := identifierFor(f.recogDir)
	if err != nil {
		return err
	}
	cfg := jobs.Config{DSN: jobsDSN(db), Workers: f.workers, Queues: f.queues,
		Judge: audit.Options{Index: ix, Identifier: id}, Periodic: true, Logger: a.logger}
	st, err := a.openFleetStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg.Range, cfg.WAN = jobs.FromStore(st)
	c, err := jobs.Open(ctx, cfg)
	switch {
	case errors.Is(err, jobs.ErrInvalid):
		return &usageError{fmt.Errorf("worker: %w", err)}
	case err != nil:
		return fmt.Errorf("worker: %w", err)
	}
	// The jobs go on until the signal; River's own context is not the
	// signal's, so that Stop decides how running jobs end.
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		c.Close()
		return fmt.Errorf("worker: %w", err)
	}
	a.logger.Info("worker: started", "db", jobs.RedactDSN(db), "backend", c.Backend(), "workers", f.workers, "queues", strings.Join(f.queues, ","))
	<-ctx.Done()
	a.logger.Info("worker: stopping", "grace", f.stopTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), f.stopTimeout)
	defer cancel()
	if err := c.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("worker: stopping: %w", err)
	}
	return nil
}

// openFleetStore opens the store of a fleet database: the PostgreSQL
// store of a postgres:// DSN (many processes share it), or the SQLite
// store file.
func (a *App) openFleetStore(ctx context.Context, db string) (store.Store, error) {
	if jobs.Backend(db) == jobs.BackendPostgres {
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, pgStoreError(db, err)
		}
		return st, nil
	}
	path := jobs.SQLitePath(db)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// pgStoreError says which server could not be opened (host and port,
// never the password) and whether it could be reached at all. The
// driver's messages name the user and database, not the password; a
// password that turns up anyway is masked.
func pgStoreError(dsn string, err error) error {
	where := "(unparsable DSN)"
	var pw string
	if u, perr := url.Parse(dsn); perr == nil {
		where = u.Host
		if h := u.Query().Get("host"); h != "" {
			where = h
			if p := u.Query().Get("port"); p != "" {
				where += ":" + p
			}
		}
		pw, _ = u.User.Password()
		if qp := u.Query().Get("password"); qp != "" {
			pw = qp
		}
	}
	var ne net.Error
	what := "could not be opened"
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		what = "could not be reached"
	}
	msg := fmt.Sprintf("the store's PostgreSQL at %s %s: %v", where, what, err)
	if pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return &wrapped{msg: msg, err: err}
}

// wrapped is an error with its own message that still matches what it
// wraps (errors.Is: store.ErrSchemaTooNew, store.ErrInvalid).
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
