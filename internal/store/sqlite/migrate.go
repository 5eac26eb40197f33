// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/routerwatch/routerwatch/internal/store"
)

// versionTable is goose's table of applied migrations.
const versionTable = "goose_db_version"

// migrationsFS returns the embedded migrations.
func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	return sub
}

// SchemaVersion returns the newest schema version this binary knows:
// the greatest version among the embedded migrations.
func SchemaVersion() int64 {
	names, err := fs.Glob(migrationsFS(), "*.sql")
	if err != nil {
		panic(err) // only a malformed pattern fails
	}
	var newest int64
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			panic(fmt.Sprintf("embedded migration %s: %v", n, err))
		}
		newest = max(newest, v)
	}
	return newest
}

// migrate brings the database at path to the newest schema. It first
// looks without writing: a file that is not SQLite, or an SQLite
// database of another program, or one from a newer schema, is refused
// before anything (even the journal mode) is changed in it.
func migrate(ctx context.Context, path, writeDSN string) error {
	if err := inspect(ctx, path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrationsFS(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store %s: migrations: %w", path, err)
	}
	// Two processes opening a new store at once both try to migrate it;
	// the loser's transaction fails (the table it creates exists by then)
	// and a second look finds the work done. Each try makes progress, so
	// a few suffice.
	var last error
	for try := range 5 {
		if try > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("store %s: migrating: %w", path, ctx.Err())
			case <-time.After(time.Duration(try) * 20 * time.Millisecond):
			}
		}
		current, target, err := p.GetVersions(ctx)
		if err != nil {
			last = err
			continue
		}
		if current > target {
			return tooNew(path, current, target)
		}
		if current == target {
			return nil
		}
		if _, err := p.Up(ctx); err != nil {
			last = err
			continue
		}
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("store %s: migrating: %w", path, ctx.Err())
	}
	return fmt.Errorf("store %s: migrating: %w", path, last)
}

func tooNew(path string, current, known int64) error {
	return fmt.Errorf("store %s: %w (schema version %d; this version knows up to %d): upgrade routerwatch to use it",
		path, store.ErrSchemaTooNew, current, known)
}

// inspect reads the database with a read-only connection and refuses
// what must not be migrated.
func inspect(ctx context.Context, path string) error {
	dsn := fileURI(path) + fmt.Sprintf("?_busy_timeout=%d&_query_only=1", busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer db.Close()
	var tables, ours int
	err = db.QueryRowContext(ctx,
		`SELECT count(*), count(CASE WHEN name = ? THEN 1 END)
		   FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`, versionTable).Scan(&tables, &ours)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("store %s: %w", path, ctx.Err())
		}
		if corrupt(err) {
			return fmt.Errorf("store %s: not an SQLite database, or damaged: %w", path, err)
		}
		return fmt.Errorf("store %s: unreadable: %w", path, err)
	}
	if tables > 0 && ours == 0 {
		return fmt.Errorf("store %s: %w: an SQLite database, but not a routerwatch store", path, store.ErrInvalid)
	}
	if ours == 0 {
		return nil
	}
	var current sql.NullInt64
	err = db.QueryRowContext(ctx, "SELECT max(version_id) FROM "+versionTable+" WHERE is_applied").Scan(&current)
	if err != nil {
		return fmt.Errorf("store %s: reading the schema version: %w", path, err)
	}
	if known := SchemaVersion(); current.Int64 > known {
		return tooNew(path, current.Int64, known)
	}
	return nil
}
