// SPDX-License-Identifier: Apache-2.0

// Package postgres is the fleet's store: PostgreSQL through pgx's pool,
// its schema migrated by goose from the SQL files embedded in the binary.
// It implements store.Store and passes storetest, with the same input
// rules as the SQLite store (the store.Prepare functions), so that the
// two accept and refuse the same things.
//
// Many processes (the server, N stateless workers) write at once, and the
// database may restart under them. How it holds:
//   - Every write is one transaction at READ COMMITTED. What two writers
//     could race on is settled by the database, not by a read followed by
//     a write: unique constraints and INSERT … ON CONFLICT (devices,
//     sites, logins, token prefixes, range records), a transaction-scoped
//     advisory lock per device and kind in ReconcileAlerts (so that two
//     runs that find the same problem open one alert), and single
//     UPDATE … WHERE statements for the changes of state (finishing a run,
//     revoking a token). Batches are written in address order, so that two
//     overlapping batches take their row locks in the same order.
//   - Reads that take more than one statement run in one REPEATABLE READ
//     read-only transaction: a snapshot and its artifacts, an event and
//     its changes, are of one moment.
//   - A transaction that failed before its COMMIT was sent, because the
//     connection broke or the server was shutting down or starting, or
//     because PostgreSQL chose it as a deadlock victim or a serialization
//     failure, wrote nothing; it is tried again on a fresh connection,
//     with back-off, for a few seconds (maxTries). A failure while the
//     COMMIT was on its way leaves the write either whole in the database
//     or not there at all: it is tried again only when doing it twice is
//     the same as doing it once (an upsert, a change of state, a range
//     batch) and no audit entry rides on it; otherwise the error is
//     returned, since a retry could store a snapshot or an alert twice.
//   - Errors carry the SQLSTATE and PostgreSQL's message, never the
//     values (pgconn leaves a constraint's Detail out of Error), and
//     never the connection string.
//
// A database migrated by a newer routerwatch is refused with
// store.ErrSchemaTooNew. goose's version table is called
// routerwatch_goose_db_version, so that the database may hold other
// programs' tables (River's, for one) and their own goose.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerwatch/routerwatch/internal/store"
)

// maxTries bounds how often a transaction is tried when it failed
// without writing anything; with the back-off between tries (backoff)
// the last try is about 5 s after the first: longer than a restart of
// PostgreSQL takes.
const maxTries = 10

// backoff is the wait before try n (n ≥ 1): 25 ms doubling, at most 1 s.
func backoff(n int) time.Duration {
	return min(25*time.Millisecond<<(n-1), time.Second)
}

// db is what a Store and its Tenants share.
type db struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	now    func() time.Time
}

// tenant is one organisation's data: every query names org.
type tenant struct {
	*db
	org string
}

// Store is a store.Store in a PostgreSQL database. Its own Tenant
// methods are those of store.DefaultOrg.
type Store struct {
	tenant
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Tenant = (*tenant)(nil)
)

// Open connects to the database at dsn (a PostgreSQL connection string
// or URL; pool settings such as pool_max_conns are read from it),
// migrating it to the newest schema this binary knows. Many processes
// may open the same database at once: the migration runs once, under an
// advisory lock (see migrate).
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message leaves the password out; the DSN stays out too.
		return nil, fmt.Errorf("store: %w: the PostgreSQL connection string does not parse", store.ErrInvalid)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{tenant{db: &db{pool: pool, now: time.Now}, org: store.DefaultOrg}}, nil
}

// Pool returns the store's connection pool, for a component that shares
// the database (River's client). Closing the store closes it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ForOrg implements store.Store.
func (s *Store) ForOrg(id string) store.Tenant { return &tenant{db: s.db, org: id} }

// OrgID implements store.Tenant.
func (t *tenant) OrgID() string { return t.org }

// Close closes the store. Calls after it return store.ErrClosed. It
// waits for the connections in use (an export being read) to come back.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// ready refuses work on a closed store or a done context.
func (s *db) ready(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// fail classifies err from an operation.
func (s *db) fail(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrClosed),
		errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: %w", op, err)
	case s.closed.Load():
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", op, store.ErrConflict)
		case "23503": // foreign_key_violation: each write looks first; this is the backstop
			return fmt.Errorf("%s: a record it refers to: %w", op, store.ErrNotFound)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// retryable reports whether a transaction that failed with err may be
// tried again. unsure says the failure came while the COMMIT of a write
// that must not be done twice was on its way: it may have been done.
func retryable(err error, unsure bool) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected: rolled back
			return true
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return !unsure
		}
		return len(pe.Code) == 5 && pe.Code[:2] == "08" && !unsure // connection_exception
	}
	if pgconn.SafeToRetry(err) {
		return true // pgx sent nothing
	}
	if unsure {
		return false
	}
	// The connection broke before the COMMIT was sent (the server rolls
	// the transaction back), or the write may be done again.
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, pgx.ErrTxClosed) || isConnClosed(err)
}

// isConnClosed reports pgconn's "conn closed": a connection found broken
// by an earlier statement.
func isConnClosed(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "conn closed" {
			return true
		}
	}
	return false
}

var (
	writeTx = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	readTx  = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// once and again say whether doing a write twice is the same as doing it
// once (see run).
const (
	once  = false
	again = true
)

// run runs fn in one transaction, trying it again while it fails without
// having written anything, or, when idempotent, while it fails at all
// for want of a connection. fn may run more than once: it must set its
// results, not add to them.
func (s *db) run(ctx context.Context, op string, opts pgx.TxOptions, idempotent bool, fn func(tx pgx.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var err error
	for try := 1; ; try++ {
		var committing bool
		err = s.try(ctx, opts, fn, &committing)
		if err == nil {
			return nil
		}
		unsure := committing && opts.AccessMode != pgx.ReadOnly && !idempotent
		if try == maxTries || s.closed.Load() || ctx.Err() != nil || !retryable(err, unsure) {
			break
		}
		select {
		case <-ctx.Done():
			return s.fail(ctx, op, ctx.Err())
		case <-time.After(backoff(try)):
		}
	}
	return s.fail(ctx, op, err)
}

func (s *db) try(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error, committing *bool) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // after a Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	*committing = true
	return tx.Commit(ctx)
}

// write runs fn in one write transaction of the tenant's organisation;
// the context's audit entry (store.WithAudit) is appended in it.
// idempotent says fn may be done twice (once or again).
func (t *tenant) write(ctx context.Context, op string, idempotent bool, fn func(tx pgx.Tx) error) error {
	if err := store.CheckOrgID(t.org); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	e, ok, err := store.ContextAudit(ctx, t.org, t.now)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	// An audit entry is appended by each try: a retry after an unsure
	// COMMIT could log the change twice.
	return t.db.run(ctx, op, writeTx, idempotent && !ok, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if ok {
			_, err := insertAuditEntry(ctx, tx, e)
			return err
		}
		return nil
	})
}

// read runs fn in one read transaction of the tenant's organisation.
func (t *tenant) read(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	if err := store.CheckOrgID(t.org); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return t.db.run(ctx, op, readTx, again, fn)
}

// write runs fn in one write transaction outside any organisation;
// idempotent says fn may be done twice (once or again).
func (s *db) write(ctx context.Context, op string, idempotent bool, fn func(tx pgx.Tx) error) error {
	return s.run(ctx, op, writeTx, idempotent, fn)
}

// read runs fn in one read transaction: every query in it sees the same
// committed state.
func (s *db) read(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return s.run(ctx, op, readTx, again, fn)
}

// row is what pgx.Row and pgx.Rows have in common.
type row interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, tx pgx.Tx, scan func(row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// notFound returns store.ErrNotFound for pgx.ErrNoRows.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// exists returns store.ErrNotFound (naming what) when the query finds
// no row.
func exists(ctx context.Context, tx pgx.Tx, what, query string, args ...any) error {
	var one int
	return notFound(tx.QueryRow(ctx, query, args...).Scan(&one), what)
}

// execOne runs an UPDATE or DELETE that must change one row.
func execOne(ctx context.Context, tx pgx.Tx, what, q string, args ...any) error {
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

func orgExists(ctx context.Context, tx pgx.Tx, org string) error {
	return exists(ctx, tx, "organisation", "SELECT 1 FROM orgs WHERE id = $1", org)
}

func deviceExists(ctx context.Context, tx pgx.Tx, org, id string) error {
	return exists(ctx, tx, "device", "SELECT 1 FROM devices WHERE org_id = $1 AND id = $2", org, id)
}

func siteExists(ctx context.Context, tx pgx.Tx, org, id string) error {
	return exists(ctx, tx, "site", "SELECT 1 FROM sites WHERE org_id = $1 AND id = $2", org, id)
}

// utc is a time read from the database as the store returns it.
func utc(t time.Time) time.Time { return t.UTC() }

// fromNull is a nullable time read from the database; zero for NULL.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullTime is a time that may be zero, as a nullable column.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullString is a string that may be empty, as a nullable column.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// fromNullString is a nullable string read from the database.
func fromNullString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// notNil keeps an empty byte slice from being sent as NULL.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func parseAddr(field, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("stored %s does not parse", field)
	}
	return a, nil
}
