// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var at = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "store.db")
	s := openT(t, path)
	if _, err := s.PutDevice(t.Context(), store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSnapshot(t.Context(), "r", storetest.Snapshot(1, at, 0)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want fs.FileMode
	}{{dir, 0o700 | fs.ModeDir}, {path, 0o600}, {path + "-wal", 0o600}, {path + "-shm", 0o600}} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.want {
			t.Errorf("%s has mode %v, want %v", filepath.Base(tc.path), fi.Mode(), tc.want)
		}
	}
	s.Close()
	// A store made readable by others (copied, restored from a backup)
	// is made private again when opened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openT(t, path).Close()
	if fi, _ := os.Stat(path); fi.Mode() != 0o600 {
		t.Errorf("reopened store has mode %v, want 0600", fi.Mode())
	}
}

func TestPragmas(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "store.db"))
	for _, tc := range []struct {
		pragma string
		db     *sql.DB
		want   string
	}{
		{"journal_mode", s.w, "wal"},
		{"synchronous", s.w, "2"}, // FULL
		{"foreign_keys", s.w, "1"},
		{"busy_timeout", s.w, "10000"},
		{"foreign_keys", s.r, "1"},
		{"busy_timeout", s.r, "10000"},
		{"query_only", s.r, "1"},
	} {
		var got string
		if err := tc.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}

// TestReopen: everything, the alert state included, is there after the
// process closes the store and opens it again (watch restarting).
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	ctx := t.Context()
	s := openT(t, path)
	if _, err := s.PutDevice(ctx, store.Device{ID: "r", Label: "home"}); err != nil {
		t.Fatal(err)
	}
	want := storetest.Snapshot(5, at, 0)
	m, err := s.PutSnapshot(ctx, "r", want)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetBaseline(ctx, store.Baseline{DeviceID: "r", SnapshotID: m.ID}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReconcileAlerts(ctx, "r", "dns", at, []store.Problem{{Key: "hijack", Title: "rogue resolver"}, {Key: "telnet"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNotified(ctx, r.Opened[0].ID, store.AlertOpen, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	got, err := s.LatestSnapshot(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.CheckSnapshot(want, &got.Snapshot); err != nil {
		t.Error(err)
	}
	if b, err := s.Baseline(ctx, "r"); err != nil || b.SnapshotID != m.ID {
		t.Errorf("baseline after reopening = %+v, %v", b, err)
	}
	pend, err := s.PendingAlerts(ctx, "r")
	if err != nil || len(pend) != 1 || pend[0].Key != "telnet" {
		t.Errorf("pending after reopening = %+v, %v; want only telnet (hijack was notified)", pend, err)
	}
	r, err = s.ReconcileAlerts(ctx, "r", "dns", at.Add(time.Minute), []store.Problem{{Key: "hijack", Title: "rogue resolver"}, {Key: "telnet"}})
	if err != nil || len(r.Opened) != 0 || len(r.Open) != 2 {
		t.Errorf("the same problems after a restart: %+v, %v; want nothing new", r, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	if v := SchemaVersion(); v != 3 {
		t.Errorf("SchemaVersion() = %d, want 3 (update this test with each migration)", v)
	}
	s := openT(t, filepath.Join(t.TempDir(), "store.db"))
	var v int64
	if err := s.r.QueryRowContext(t.Context(), "SELECT max(version_id) FROM goose_db_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion() {
		t.Errorf("a new store is at version %d, want %d", v, SchemaVersion())
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestRefusesNewerSchema: a store migrated by a newer routerwatch is
// refused, unchanged, with words that say what to do.
func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openT(t, path)
	if _, err := s.w.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := fileSum(t, path)
	_, err := Open(t.Context(), path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a version 99 store: %v, want ErrSchemaTooNew", err)
	}
	for _, words := range []string{"99", "upgrade routerwatch"} {
		if !strings.Contains(err.Error(), words) {
			t.Errorf("error %q does not say %q", err, words)
		}
	}
	if fileSum(t, path) != before {
		t.Error("the refused store was changed")
	}
}

// TestRefusesOtherFiles: what is not a routerwatch store is refused
// unchanged (contents and mode), quickly.
func TestRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("this is not a database, but it is long enough to have a header of sorts............................................................."), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	haveFIFO := mkfifo(fifo) == nil
	tests := []struct {
		name, path string
		fifo       bool
		want       error
		words      string
	}{
		{"another program's SQLite database", foreign, false, store.ErrInvalid, "not a routerwatch store"},
		{"a text file", text, false, nil, "not an SQLite database, or damaged"},
		{"a directory", dir, false, nil, "not a regular file"},
		{"a FIFO", fifo, true, nil, "not a regular file"},
		{"no path", "", false, store.ErrInvalid, "no path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fifo && !haveFIFO {
				t.Skip("no FIFOs here")
			}
			var sum string
			var mode fs.FileMode
			if fi, err := os.Stat(tc.path); err == nil && fi.Mode().IsRegular() {
				sum, mode = fileSum(t, tc.path), fi.Mode()
			}
			s, err := Open(t.Context(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error %q does not say %q", err, tc.words)
			}
			if sum != "" {
				fi, _ := os.Stat(tc.path)
				if fileSum(t, tc.path) != sum || fi.Mode() != mode {
					t.Error("the refused file was changed")
				}
				for _, suffix := range []string{"-wal", "-shm", "-journal"} {
					if _, err := os.Stat(tc.path + suffix); err == nil {
						t.Errorf("Open left %s behind", filepath.Base(tc.path+suffix))
					}
				}
			}
		})
	}
}

// TestConcurrentOpen: processes (here connections) opening a new store
// at the same moment all succeed, and the schema is migrated once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), path)
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
	s := openT(t, path)
	if ds, err := s.Devices(t.Context()); err != nil || len(ds) != n {
		t.Errorf("Devices = %d, %v; want %d", len(ds), err, n)
	}
	var applied int
	if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM goose_db_version WHERE version_id = 1").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", applied)
	}
}

// TestIntegrityCheck: a healthy store passes; a store whose pages were
// overwritten is reported damaged, by Open or by the check.
func TestIntegrityCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openT(t, path)
	ctx := t.Context()
	if _, err := s.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := s.PutSnapshot(ctx, "r", storetest.Snapshot(i, at.Add(time.Duration(i)*time.Minute), 8192)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatalf("healthy store: %v", err)
	}
	s.Close() // checkpoints the WAL into the file
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i * 31)
	}
	// Overwrite pages of the second half, where the snapshots' rows are
	// (the schema is in the first pages), so that the store still opens
	// and the check has to find the damage.
	for off := fi.Size() / 2 / 4096 * 4096; off < fi.Size()-4096; off += 5 * 4096 {
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("a store with damaged data pages did not open: %v", err)
	}
	defer s2.Close()
	if err := s2.IntegrityCheck(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("IntegrityCheck of an overwritten store = %v, want it reported damaged", err)
	}
}

// TestOddPaths: characters that mean something in a URI are a file
// name's characters, not parameters.
func TestOddPaths(t *testing.T) {
	for _, name := range []string{"with space.db", "q?mode=ro.db", "hash#frag.db", "pct%20.db", "ünï.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s := openT(t, path)
			if _, err := s.PutDevice(t.Context(), store.Device{ID: "r"}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Contains(names, name) || len(names) != 1 {
				t.Errorf("files in the directory: %q, want only %q", names, name)
			}
			s = openT(t, path)
			if _, err := s.Device(t.Context(), "r"); err != nil {
				t.Errorf("reopened %q: %v", name, err)
			}
		})
	}
}
