// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// openT opens a store on a fresh database.
func openT(t testing.TB) (*Store, string) {
	t.Helper()
	dsn := pgtest.Start(t).NewDatabase(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openT(t)
		return s
	})
}

var at = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func TestSchemaVersion(t *testing.T) {
	if v := SchemaVersion(); v != 1 {
		t.Errorf("SchemaVersion() = %d, want 1 (update this test with each migration)", v)
	}
	s, _ := openT(t)
	var v int64
	if err := s.pool.QueryRow(t.Context(), "SELECT max(version_id) FROM "+versionTable).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion() {
		t.Errorf("a new store is at version %d, want %d", v, SchemaVersion())
	}
}

// TestRefusesNewerSchema: a database migrated by a newer routerwatch is
// refused, with words that say what to do, and left as it is.
func TestRefusesNewerSchema(t *testing.T) {
	s, dsn := openT(t)
	if _, err := s.PutDevice(t.Context(), store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO "+versionTable+" (version_id, is_applied) VALUES (99, true)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), dsn)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a version 99 database: %v, want ErrSchemaTooNew", err)
	}
	for _, words := range []string{"99", "upgrade routerwatch"} {
		if !strings.Contains(err.Error(), words) {
			t.Errorf("error %q does not say %q", err, words)
		}
	}
}

// TestConcurrentOpen: processes (here pools) opening a new database at
// the same moment all succeed, and the schema is migrated once.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			if _, err := s.PutDevice(t.Context(), store.Device{ID: fmt.Sprint("r", i)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ds, err := s.Devices(t.Context()); err != nil || len(ds) != n {
		t.Errorf("Devices = %d, %v; want %d", len(ds), err, n)
	}
	var applied int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM "+versionTable+" WHERE version_id = 1").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", applied)
	}
}

// TestSharedDatabase: the database may hold another program's tables,
// its own goose table among them.
func TestSharedDatabase(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.pool.Exec(t.Context(), `CREATE TABLE goose_db_version (id serial, version_id bigint, is_applied boolean);
		INSERT INTO goose_db_version (version_id, is_applied) VALUES (500, true); CREATE TABLE river_job (id bigint)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("a database with another program's goose table: %v", err)
	}
	s2.Close()
}

// TestOpenErrors: what cannot be opened is said without the password.
func TestOpenErrors(t *testing.T) {
	const password = "hunter2-secret"
	srv := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, dsn string
	}{
		{"does not parse", "postgres://postgres:" + password + "@127.0.0.1:notaport/x"},
		{"no such database", fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/nonexistent?sslmode=disable", password, srv.Port)},
		{"nothing listening", "postgres://postgres:" + password + "@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error %q holds the password", err)
			}
		})
	}
}

// TestClosedPool: Close waits for nothing that is not in use, and the
// Tenants of a closed store are closed too.
func TestClosedTenant(t *testing.T) {
	s, _ := openT(t)
	a := s.ForOrg(store.DefaultOrg)
	s.Close()
	if _, err := a.Devices(t.Context()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("a Tenant of a closed store: %v, want ErrClosed", err)
	}
}
