// SPDX-License-Identifier: Apache-2.0

//go:build !(386 || arm || mips || mipsle)

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqliteBusy is how long the one connection waits for another process's
// lock (a second routerwatch on the same file).
const sqliteBusy = 10 * time.Second

func openSQLite(ctx context.Context, path string, rc *river.Config, log *slog.Logger) (riverClient, database, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("jobs: %w: no SQLite file given", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, nil, err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	dsn := (&url.URL{Scheme: "file", Path: p}).String() +
		fmt.Sprintf("?_busy_timeout=%d&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate", sqliteBusy.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs %s: %w", path, err)
	}
	// River's docs for riversqlite: one connection, or its parallel
	// maintenance gets SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("jobs %s: %w", path, err)
	}
	if err := migrateSQLite(ctx, db, log); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("jobs %s: %w", path, err)
	}
	cl, err := river.NewClient(riversqlite.New(db), rc)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	return cl, &sqliteDB{db: db}, nil
}

// createPrivate creates the file with mode 0600 (its directory 0700) if
// it does not exist, and refuses anything but a regular file.
func createPrivate(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("jobs %s: not a regular file", path)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("jobs: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return f.Close()
}

func migrateSQLite(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	var current int
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_migration'").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM river_migration WHERE line = 'main'").Scan(&current); err != nil {
			return err
		}
	}
	if err := tooNew(current, m.AllVersions()); err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// sqliteDB is the one SQLite connection.
type sqliteDB struct{ db *sql.DB }

func (d *sqliteDB) close() { d.db.Close() }

func (d *sqliteDB) unreachable(error) bool { return false }

func (d *sqliteDB) counts(ctx context.Context) ([]stateCount, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT queue, state, count(*) FROM river_job
		WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') GROUP BY queue, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stateCount
	for rows.Next() {
		var s stateCount
		if err := rows.Scan(&s.Queue, &s.State, &s.N); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
