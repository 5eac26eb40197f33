// SPDX-License-Identifier: Apache-2.0

// Package sqlite is the embedded store: one SQLite file (modernc.org/sqlite,
// pure Go), its schema migrated by goose from the SQL files embedded in
// the binary. It implements store.Store and passes storetest.
//
// The file's settings, and why:
//   - Mode 0600, created so before SQLite opens it (and tightened on an
//     existing store): it holds the history of a router's configuration.
//     SQLite gives its -wal and -shm files the database file's mode.
//   - WAL journal: readers never block the writer and see only committed
//     transactions.
//   - synchronous=FULL: each commit is synced to the disk before it
//     returns. In WAL mode NORMAL already survives kill -9 (a committed
//     transaction is in the WAL file, in the kernel's page cache, and
//     the next opener replays it), but it can lose the last commits on a
//     power cut, and routerwatch often runs on a small box that can lose
//     power. A store is written once per watch interval, so a sync per
//     commit costs nothing that matters (BenchmarkPutSnapshot, 10,000
//     snapshots stored: about 5 ms a snapshot with FULL, 0.9 ms with
//     NORMAL, on the project's 2-core machine).
//   - A busy timeout, so that another process (a `config diff` run while
//     `watch` writes) waits for the lock instead of failing.
//   - Foreign keys on: a snapshot cannot name a device that is not there.
//   - One writing connection, with BEGIN IMMEDIATE: writers of this
//     process queue in Go and a transaction never has to upgrade a read
//     lock (the upgrade fails at once with SQLITE_BUSY in WAL mode); a
//     pool of read-only connections reads in parallel.
//
// A database from a newer schema than this binary knows is refused with
// store.ErrSchemaTooNew; an SQLite file that is not a routerwatch store is
// refused unchanged.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/routerwatch/routerwatch/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a connection waits for another process's lock.
const busyTimeout = 10 * time.Second

// readers is the size of the read-only connection pool.
const readers = 4

// db is what a Store and its Tenants share.
type db struct {
	w      *sql.DB // one connection: every write
	r      *sql.DB // read-only connections
	closed atomic.Bool
	now    func() time.Time
}

// tenant is one organisation's data: every query names org.
type tenant struct {
	*db
	org string
}

// Store is a store.Store in one SQLite file. Its own Tenant methods are
// those of store.DefaultOrg.
type Store struct {
	tenant
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Tenant = (*tenant)(nil)
)

// ForOrg implements store.Store.
func (s *Store) ForOrg(id string) store.Tenant { return &tenant{db: s.db, org: id} }

// OrgID implements store.Tenant.
func (t *tenant) OrgID() string { return t.org }

// options are the settings tests may change.
type options struct {
	// synchronous overrides the synchronous pragma (the benchmark
	// fixture is built with OFF, then reopened as usual).
	synchronous string
}

// Open opens the store at path, creating it (and its directory, mode
// 0700) if it does not exist and migrating it to the newest schema this
// binary knows.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, options{})
}

func open(ctx context.Context, path string, o options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: %w: no path given", store.ErrInvalid)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if err := create(path); err != nil {
		return nil, err
	}
	sync := "FULL"
	if o.synchronous != "" {
		sync = o.synchronous
	}
	base := fileURI(path)
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", busyTimeout.Milliseconds())
	writeDSN := base + "?" + common + "&_journal_mode=WAL&_synchronous=" + sync + "&_txlock=immediate"
	readDSN := base + "?" + common + "&_query_only=1"

	if err := migrate(ctx, path, writeDSN); err != nil {
		return nil, err
	}
	// The file is a routerwatch store now: make it private if it was not.
	if err := tighten(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", readDSN)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s := &Store{tenant{db: &db{w: w, r: r, now: time.Now}, org: store.DefaultOrg}}
	if err := errors.Join(w.PingContext(ctx), r.PingContext(ctx)); err != nil {
		s.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// create makes the file with mode 0600 if it does not exist, so that
// SQLite never creates it with the umask's mode, and refuses anything
// but a regular file (a FIFO would hang the open).
func create(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("store %s: not a regular file", path)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it first
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return f.Close()
}

// tighten removes group and other permissions from the database and
// its WAL files. Windows has no such bits; its ACLs are left alone.
func tighten(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("store: making %s private: %w", p, err)
			}
		}
	}
	return nil
}

// fileURI returns an SQLite URI for path, escaped so that '?' or '#' in
// a directory name cannot be read as parameters.
func fileURI(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// Close closes the store. Calls after it return store.ErrClosed.
func (s *Store) Close() error {
	return s.db.close()
}

func (s *db) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// IntegrityCheck runs SQLite's integrity and foreign-key checks and
// returns an error naming what they found.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	err := s.db.read(ctx, "integrity check", func(tx *sql.Tx) error {
		var problems []string
		rows, err := tx.QueryContext(ctx, "PRAGMA integrity_check")
		if err != nil {
			return err
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return err
		}
		for rows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fk int64
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				rows.Close()
				return err
			}
			problems = append(problems, fmt.Sprintf("%s row %d refers to a missing %s", table, rowid.Int64, parent))
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(problems) > 0 {
			return fmt.Errorf("the database is damaged: %s", strings.Join(problems, "; "))
		}
		return nil
	})
	if corrupt(err) {
		// Damage bad enough stops the check itself.
		return fmt.Errorf("the database is damaged: %w", err)
	}
	return err
}

// corrupt reports whether err is SQLite's "malformed" or "not a
// database".
func corrupt(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff // the primary code of an extended one
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
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
	case unique(err):
		return fmt.Errorf("%s: %w", op, store.ErrConflict)
	case foreignKey(err):
		// Each write looks for what it refers to first; this is the
		// backstop.
		return fmt.Errorf("%s: a record it refers to: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// unique reports whether err is SQLite's unique or primary key
// constraint failing.
func unique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// foreignKey reports whether err is SQLite's foreign key constraint
// failing.
func foreignKey(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// write runs fn in one write transaction of the tenant's organisation;
// the context's audit entry (store.WithAudit) is appended in it.
func (t *tenant) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := store.CheckOrgID(t.org); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	e, ok, err := store.ContextAudit(ctx, t.org, t.now)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return t.db.write(ctx, op, func(tx *sql.Tx) error {
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
func (t *tenant) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := store.CheckOrgID(t.org); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return t.db.read(ctx, op, fn)
}

// write runs fn in one write transaction.
func (s *db) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.fail(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// read runs fn in one read transaction: every query in it sees the same
// committed state.
func (s *db) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// Times are stored as microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(n int64) time.Time { return time.UnixMicro(n).UTC() }

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
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

// notFound returns store.ErrNotFound for sql.ErrNoRows.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// exists returns store.ErrNotFound (naming what) when the query finds
// no row.
func exists(ctx context.Context, tx *sql.Tx, what, query string, args ...any) error {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	return notFound(err, what)
}

// deviceExists returns store.ErrNotFound when the device is not in org.
func deviceExists(ctx context.Context, tx *sql.Tx, org, id string) error {
	return exists(ctx, tx, "device", "SELECT 1 FROM devices WHERE org_id = ? AND id = ?", org, id)
}

// nullMicros is a time that may be zero, as a nullable column.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// nullString is a string that may be empty, as a nullable column.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
