// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"

	"github.com/routerwatch/routerwatch/internal/jobs"
)

func exitWith(code int) { os.Exit(code) }

// sqlOpen opens a DSN of either backend with database/sql.
func sqlOpen(t testing.TB, backend, dsn string) *sql.DB {
	t.Helper()
	driver := "pgx"
	if backend == jobs.BackendSQLite {
		driver, dsn = "sqlite", "file:"+dsn
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// bumpMigration records a River migration this binary does not know.
func bumpMigration(t testing.TB, backend, dsn string, version int) {
	t.Helper()
	table := "river_migration"
	if backend == jobs.BackendPostgres {
		table = "river." + table
	}
	db := sqlOpen(t, backend, dsn)
	if _, err := db.Exec("INSERT INTO "+table+" (line, version) VALUES ('main', $1)", version); err != nil {
		t.Fatal(err)
	}
}
