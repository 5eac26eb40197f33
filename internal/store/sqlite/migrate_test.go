// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// provider opens the database at path with goose, as migrate does.
func provider(t *testing.T, path string) (*goose.Provider, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path)+"?_foreign_keys=1&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrationsFS(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p, db
}

// singleSite writes, at schema version 2, what a single site's store
// held before organisations: devices (one with a site label), snapshots,
// a baseline, audits (one of no device), a change event and alerts.
func singleSite(t *testing.T, path string) {
	t.Helper()
	ctx := t.Context()
	p, db := provider(t, path)
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	now := at.UnixMicro()
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO devices (id, site, address, adapter, label, created_at, updated_at) VALUES
			('home', '', '192.0.2.1', 'tplink-legacy', 'hall', %d, %d), ('shop', 'high-street', '', '', '', %d, %d)`, now, now, now, now),
		`INSERT INTO snapshots (id, device_id, adapter, target, taken_at, stored_at, config_hash, config, warnings,
			n_warnings, n_artifacts, raw_bytes) VALUES
			(1, 'home', 'tplink-legacy', '192.0.2.1', 1, 1, 'sha256:x', X'7B7D', X'5B5D', 0, 1, 3),
			(7, 'home', 'tplink-legacy', '192.0.2.1', 2, 2, 'sha256:y', X'7B7D', X'5B5D', 0, 0, 0)`,
		`INSERT INTO snapshot_artifacts VALUES (1, 0, 'a.htm', 'text/html', X'00FF01', 1)`,
		`INSERT INTO baselines (id, device_id, snapshot_id, set_at, note) VALUES (3, 'home', 1, 5, 'first')`,
		`INSERT INTO audits (id, device_id, kind, at, verdict, headline, failing, report) VALUES
			(4, 'home', 'dns', 6, 'clean', 'h', 0, X''), (5, NULL, 'dns', 7, 'clean', 'h', 0, X'7B7D')`,
		`INSERT INTO change_events (id, device_id, from_snapshot, to_snapshot, at) VALUES (2, 'home', 1, 7, 8)`,
		`INSERT INTO changes VALUES (2, 0, 'dhcp_dns[0]', 'DHCP DNS', 'changed', 'a', 'b', '', '203.0.113.7', 'high', 'w')`,
		`INSERT INTO alerts (id, device_id, kind, key, title, severity, detail, first_seen, last_seen, resolved_at, notified, last_notified)
			VALUES (9, 'home', 'dns', 'hijack', 't', 'high', 'd', 1, 2, NULL, 'open', 3)`,
		// The newest snapshot deleted: its ID must still not come back.
		`INSERT INTO snapshots (id, device_id, adapter, target, taken_at, stored_at, config_hash, config, warnings,
			n_warnings, n_artifacts, raw_bytes) VALUES (20, 'home', 'x', '', 3, 3, 'sha256:z', X'7B7D', X'5B5D', 0, 0, 0)`,
		`DELETE FROM snapshots WHERE id = 20`,
		`INSERT INTO state VALUES ('watch', X'01', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrateSingleSite: a store of the single-site schema opens, with
// everything in the default organisation, IDs and their sequences kept,
// and a device's site label a site.
func TestMigrateSingleSite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	singleSite(t, path)
	ctx := t.Context()
	s := openT(t, path)
	ds, err := s.Devices(ctx)
	if err != nil || len(ds) != 2 || ds[0].ID != "home" || ds[0].Site != "" || ds[0].Label != "hall" || ds[1].ID != "shop" || ds[1].Site != "high-street" {
		t.Fatalf("devices after migrating = %+v, %v", ds, err)
	}
	site, err := s.Site(ctx, "high-street")
	if err != nil || site.Name != "high-street" || site.OrgID != store.DefaultOrg {
		t.Errorf("the site label became %+v, %v; want a site", site, err)
	}
	snap, err := s.Snapshot(ctx, 1)
	if err != nil || len(snap.Snapshot.Raw) != 1 || string(snap.Snapshot.Raw[0].Body) != "\x00\xff\x01" {
		t.Errorf("snapshot 1 = %+v, %v", snap, err)
	}
	if b, err := s.Baseline(ctx, "home"); err != nil || b.ID != 3 || b.SnapshotID != 1 || b.Note != "first" {
		t.Errorf("baseline = %+v, %v", b, err)
	}
	if as, err := s.Audits(ctx, store.AuditFilter{}, store.Page{}); err != nil || len(as) != 2 || as[0].DeviceID != "" || as[1].ID != 4 {
		t.Errorf("audits = %+v, %v", as, err)
	}
	if es, err := s.ChangeEvents(ctx, "home", store.Page{}); err != nil || len(es) != 1 || len(es[0].Changes) != 1 || es[0].Changes[0].Words != "w" {
		t.Errorf("change events = %+v, %v", es, err)
	}
	al, err := s.Alert(ctx, 9)
	if err != nil || al.Key != "hijack" || al.Notified != store.AlertOpen || al.AckedBy != "" || !al.SuppressedUntil.IsZero() {
		t.Errorf("alert 9 = %+v, %v", al, err)
	}
	if st, err := s.State(ctx, "watch"); err != nil || string(st) != "\x01" {
		t.Errorf("state = %q, %v", st, err)
	}
	// New rows continue the old sequences: no ID is reused.
	m, err := s.PutSnapshot(ctx, "home", storetest.Snapshot(1, at, 0))
	if err != nil || m.ID != 21 {
		t.Errorf("the next snapshot has ID %d (%v), want 21", m.ID, err)
	}
	r, err := s.ReconcileAlerts(ctx, "home", "dns", at, []store.Problem{{Key: "hijack"}, {Key: "new"}})
	if err != nil || len(r.Opened) != 1 || r.Opened[0].ID != 10 || len(r.Open) != 2 {
		t.Errorf("reconciling after migrating = %+v, %v; want the old alert kept, the new one ID 10", r, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestMigrateDown: the tenancy migration goes down to the single-site
// schema with the default organisation's data, and up again.
func TestMigrateDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	ctx := t.Context()
	s := openT(t, path)
	if _, err := s.PutSite(ctx, store.Site{ID: "office", Name: "Office"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDevice(ctx, store.Device{ID: "r", Site: "office"}); err != nil {
		t.Fatal(err)
	}
	m, err := s.PutSnapshot(ctx, "r", storetest.Snapshot(1, at, 0))
	if err != nil {
		t.Fatal(err)
	}
	acme, err := s.CreateOrg(ctx, store.Org{ID: "acme", Name: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	other := s.ForOrg(acme.ID)
	if _, err := other.PutDevice(ctx, store.Device{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.PutSnapshot(ctx, "r", storetest.Snapshot(2, at, 0)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	p, db := provider(t, path)
	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Fatalf("down to 2: %v", err)
	}
	var site string
	var n int
	if err := db.QueryRowContext(ctx, "SELECT site FROM devices WHERE id = 'r'").Scan(&site); err != nil || site != "office" {
		t.Errorf("device r's site after going down = %q, %v", site, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM snapshots").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d snapshots after going down (%v), want the default organisation's 1", n, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	db.Close()
	s = openT(t, path)
	got, err := s.Snapshot(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.CheckSnapshot(storetest.Snapshot(1, at, 0), &got.Snapshot); err != nil {
		t.Error(err)
	}
	if d, _ := s.Device(ctx, "r"); d.Site != "office" {
		t.Errorf("device r after down and up: %+v", d)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}
