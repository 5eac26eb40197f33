// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/routerwatch/routerwatch/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's table of applied migrations, named for
// routerwatch: the database may be shared with other programs.
const versionTable = "routerwatch_goose_db_version"

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

// migrateLock is the advisory lock held while migrating: "routerwa".
const migrateLock int64 = 0x726f757465727761

// migrate refuses a database of a newer schema, then brings it to the
// newest one this binary knows. It holds an advisory lock meanwhile, so
// that processes opening the database at once migrate it once: the
// others wait for the lock (PostgreSQL wakes them when it is released,
// which goose's own locker, polling every few seconds, would not) and
// find the work done. The lock is the session's: a process that dies
// while migrating releases it, and its migration's transaction rolls
// back.
func migrate(ctx context.Context, pool *pgxpool.Pool) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return opening(ctx, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return opening(ctx, err)
	}
	defer func() {
		_, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
		if uerr != nil {
			// A session that cannot unlock must not go back to the pool
			// holding the lock.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if err := checkVersion(ctx, pool); err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrationsFS(),
		goose.WithDisableGlobalRegistry(true), goose.WithTableName(versionTable))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("store: migrating: %w", ctx.Err())
		}
		return fmt.Errorf("store: migrating: %w", err)
	}
	return nil
}

// opening wraps an error of reaching the database.
func opening(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return fmt.Errorf("store: connecting to PostgreSQL: %w", err)
}

// checkVersion returns store.ErrSchemaTooNew when the database was
// migrated past what this binary knows.
func checkVersion(ctx context.Context, pool *pgxpool.Pool) error {
	var table *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1)::text", versionTable).Scan(&table); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("store: reading the schema version: %w", ctx.Err())
		}
		return fmt.Errorf("store: reading the schema version: %w", err)
	}
	if table == nil {
		return nil // a new database
	}
	var current *int64
	err := pool.QueryRow(ctx, "SELECT max(version_id) FROM "+versionTable+" WHERE is_applied").Scan(&current)
	if err != nil {
		return fmt.Errorf("store: reading the schema version: %w", err)
	}
	if known := SchemaVersion(); current != nil && *current > known {
		return fmt.Errorf("store: %w (schema version %d; this version knows up to %d): upgrade routerwatch to use it",
			store.ErrSchemaTooNew, *current, known)
	}
	return nil
}
