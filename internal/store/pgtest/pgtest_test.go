// SPDX-License-Identifier: Apache-2.0

package pgtest

import (
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// TestServer: a database per test, and the server survives a restart.
func TestServer(t *testing.T) {
	s := Start(t)
	db, err := sql.Open("pgx", s.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE x (v int); INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)
	var v int
	if err := db.QueryRow("SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after a restart: %d, %v", v, err)
	}
	var ver string
	if err := db.QueryRow("SHOW server_version").Scan(&ver); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s on port %d", ver, s.Port)
}
