// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// pgSchema holds River's tables in PostgreSQL, apart from the store's.
const pgSchema = "river"

// migrateLockKey is the advisory lock that serialises River's migrations
// between processes starting at once (rivermigrate takes none itself).
const migrateLockKey = 0x72770001 // "rw" 0001

func openPostgres(ctx context.Context, dsn string, rc *river.Config, log *slog.Logger) (riverClient, database, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", errUnparsable)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", errUnparsable)
	}
	db := &pgDB{pool: pool, where: fmt.Sprintf("%s:%d", pc.ConnConfig.Host, pc.ConnConfig.Port)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, db.wrap("connecting", err)
	}
	if err := migratePostgres(ctx, pool, log); err != nil {
		pool.Close()
		return nil, nil, db.wrap("migrating River's schema", err)
	}
	rc.Schema = pgSchema
	cl, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	return cl, db, nil
}

// migratePostgres brings River's schema up to date under an advisory
// lock, refusing a newer one.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgSchema); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: pgSchema, Logger: log})
	if err != nil {
		return err
	}
	var current int
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgSchema+".river_migration").Scan(&exists); err != nil {
		return err
	}
	if exists {
		if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+pgSchema+".river_migration WHERE line = 'main'").Scan(&current); err != nil {
			return err
		}
	}
	if err := tooNew(current, m.AllVersions()); err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// tooNew refuses a database at a River migration newer than this
// binary's newest.
func tooNew(current int, known []rivermigrate.Migration) error {
	newest := 0
	for _, m := range known {
		newest = max(newest, m.Version)
	}
	if current > newest {
		return fmt.Errorf("%w (River schema version %d; this routerwatch knows up to %d): upgrade routerwatch", ErrSchemaTooNew, current, newest)
	}
	return nil
}

// pgDB is the PostgreSQL pool.
type pgDB struct {
	pool  *pgxpool.Pool
	where string
}

func (d *pgDB) close() { d.pool.Close() }

// unreachable reports whether err says the server could not be reached
// (refused, reset, timed out, shutting down) rather than a query error.
func (d *pgDB) unreachable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		// 57P01..57P03: admin shutdown, crash shutdown, cannot connect now;
		// class 08: connection exceptions.
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || strings.HasPrefix(pe.Code, "08")
	}
	return pgconn.SafeToRetry(err)
}

// wrap names the server (host and port, never the password) in err.
func (d *pgDB) wrap(what string, err error) error {
	if errors.Is(err, ErrSchemaTooNew) {
		return fmt.Errorf("jobs: PostgreSQL at %s: %w", d.where, err)
	}
	if d.unreachable(err) {
		return fmt.Errorf("jobs: %s PostgreSQL at %s: %w: %w", what, d.where, ErrUnavailable, err)
	}
	return fmt.Errorf("jobs: %s PostgreSQL at %s: %w", what, d.where, err)
}

// counts returns the jobs by queue and state that are not finished.
func (d *pgDB) counts(ctx context.Context) ([]stateCount, error) {
	rows, err := d.pool.Query(ctx, `SELECT queue, state::text, count(*) FROM `+pgSchema+`.river_job
		WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') GROUP BY queue, state`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stateCount, error) {
		var s stateCount
		err := r.Scan(&s.Queue, &s.State, &s.N)
		return s, err
	})
}
