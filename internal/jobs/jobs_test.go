// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	if childMain() {
		return
	}
	code := m.Run()
	pgtest.Stop()
	exitWith(code)
}

func index(t testing.TB) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

// backends returns a DSN per backend: a SQLite file, and a fresh
// PostgreSQL database (skipped without PostgreSQL, outside CI).
func backends(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		jobs.BackendSQLite:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "store.db.jobs") },
		jobs.BackendPostgres: func(t *testing.T) string { return pgtest.Start(t).NewDatabase(t) },
	}
}

// fakes starts loopback devices: a TP-Link at .61, a MikroTik (with an
// open resolver) at .62, a device with everything closed at .63, inside
// 127.0.0.60/30 (.60 has nothing: silent).
func fakes(t *testing.T) audit.Ports {
	t.Helper()
	tp, mt, closed := netip.MustParseAddr("127.0.0.61"), netip.MustParseAddr("127.0.0.62"), netip.MustParseAddr("127.0.0.63")
	ports := audittest.FreePorts(t, netip.MustParseAddr("127.0.0.60"), tp, mt, closed)
	audittest.TPLink(t, tp, ports)
	audittest.MikroTik(t, mt, ports)
	audittest.Closed(t, closed, ports)
	return ports
}

func start(t *testing.T, cfg jobs.Config) *jobs.Client {
	t.Helper()
	c, err := jobs.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
	return c
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRangeRun runs a range run of 127.0.0.60/30 on each backend: one
// record per address, each written once, the run done, and the records
// say what each fake is.
func TestRangeRun(t *testing.T) {
	ports := fakes(t)
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ms := newMemStore()
			ms.addRun(7, "org-a", jobs.RunPlan{Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.60/30")}, PerPrefixRate: 125})
			c := start(t, jobs.Config{DSN: dsn(t), Workers: 2, Range: ms, Judge: audit.Options{Index: index(t)},
				Ports: ports, ScanTimeout: 10 * time.Second, Batch: 2, FetchPoll: 100 * time.Millisecond})
			if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 7); err != nil {
				t.Fatal(err)
			}
			// The same run enqueued again is the same job.
			if _, err := c.EnqueueRangeRun(t.Context(), "org-a", 7); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the run to finish", 60*time.Second, func() bool { return ms.state(7) == jobs.RunDone })
			recs, writes := ms.snapshot(7)
			if len(recs) != 4 {
				t.Fatalf("%d records, want 4", len(recs))
			}
			for a, n := range writes {
				if n != 1 {
					t.Errorf("%s written %d times", a, n)
				}
			}
			// On loopback every address answers (a reset counts: a host
			// is there), so .60 is live with nothing open.
			want := map[string]struct {
				live  bool
				model string
				fails bool
			}{
				"127.0.0.60": {true, "", false},
				"127.0.0.61": {true, "TP-Link TL-WR841N", true},
				"127.0.0.62": {true, "MikroTik", true},
				"127.0.0.63": {true, "", false},
			}
			for a, w := range want {
				r := recs[netip.MustParseAddr(a)]
				if r.Live != w.live || !strings.HasPrefix(r.Model, w.model) || (r.Failing > 0) != w.fails {
					t.Errorf("%s: live %v model %q failing %d, want live %v model %q… failing %v", a, r.Live, r.Model, r.Failing, w.live, w.model, w.fails)
				}
				if r.Prefix != netip.MustParsePrefix("127.0.0.60/30") {
					t.Errorf("%s: prefix %s", a, r.Prefix)
				}
			}
			if !strings.Contains(string(recs[netip.MustParseAddr("127.0.0.62")].Record), "exposure.open_resolver") {
				t.Errorf("the MikroTik's record names no open resolver: %s", recs[netip.MustParseAddr("127.0.0.62")].Record)
			}
		})
	}
}

// TestSchemaTooNew: a job database migrated by a newer routerwatch is
// refused, and left alone.
func TestSchemaTooNew(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			c, err := jobs.Open(t.Context(), jobs.Config{DSN: d})
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			bumpMigration(t, name, d, 999)
			_, err = jobs.Open(t.Context(), jobs.Config{DSN: d})
			if !errors.Is(err, jobs.ErrSchemaTooNew) {
				t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
			}
		})
	}
}
