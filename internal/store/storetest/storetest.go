// SPDX-License-Identifier: Apache-2.0

// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite now, PostgreSQL for the fleet) runs Run and must
// pass all of it. It tests the contract in the store package's
// documentation, nothing specific to one database.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
)

// Run runs the suite. newStore returns a new, empty store for one
// subtest; it should close it in t.Cleanup (Close may be called twice).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Devices", testDevices},
		{"DeviceInvalidIDs", testDeviceInvalidIDs},
		{"FreeText", testFreeText},
		{"SnapshotRoundTrip", testSnapshotRoundTrip},
		{"SnapshotHash", testSnapshotHash},
		{"SnapshotOrdering", testSnapshotOrdering},
		{"SnapshotPaging", testSnapshotPaging},
		{"SnapshotInvalid", testSnapshotInvalid},
		{"Times", testTimes},
		{"NotFound", testNotFound},
		{"Baselines", testBaselines},
		{"Audits", testAudits},
		{"Changes", testChanges},
		{"AlertLifecycle", testAlertLifecycle},
		{"AlertKinds", testAlertKinds},
		{"AlertInvalid", testAlertInvalid},
		{"LargeSnapshot", testLargeSnapshot},
		{"ConcurrentWritersAndReaders", testConcurrency},
		{"ConcurrentReconcile", testConcurrentReconcile},
		{"CancelledContext", testCancelledContext},
		{"CancelMidWrite", testCancelMidWrite},
		{"Closed", testClosed},
		{"State", testState},
	}
	for _, tc := range append(tests, tenancyTests...) {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

// base is a fixed time with nanoseconds and a zone, so that truncation
// and UTC are tested everywhere.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func ctx(t *testing.T) context.Context { return t.Context() }

func mustDevice(t *testing.T, s store.Tenant, id string) store.Device {
	t.Helper()
	d, err := s.PutDevice(ctx(t), store.Device{ID: id, Address: "192.0.2.1", Adapter: "tplink-legacy", Label: "test " + id})
	if err != nil {
		t.Fatalf("PutDevice(%q): %v", id, err)
	}
	return d
}

func mustSnapshot(t *testing.T, s store.Tenant, dev string, n int, at time.Time) store.SnapshotMeta {
	t.Helper()
	m, err := s.PutSnapshot(ctx(t), dev, Snapshot(n, at, 0))
	if err != nil {
		t.Fatalf("PutSnapshot(%q, %d): %v", dev, n, err)
	}
	return m
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one that is %q", what, err, target)
	}
}

func testDevices(t *testing.T, s store.Store) {
	c := ctx(t)
	if ds, err := s.Devices(c); err != nil || len(ds) != 0 {
		t.Fatalf("Devices on an empty store = %v, %v; want none", ds, err)
	}
	mustSite(t, s, "office-a")
	mustSite(t, s, "office-b")
	in := store.Device{ID: "home", Site: "office-b", Address: "192.0.2.1", Adapter: "tplink-legacy", Label: "hall cupboard"}
	got, err := s.PutDevice(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("new device times: created %v updated %v; want set and equal", got.CreatedAt, got.UpdatedAt)
	}
	read, err := s.Device(c, "home")
	if err != nil {
		t.Fatal(err)
	}
	if read != got {
		t.Errorf("Device = %+v, want what PutDevice returned %+v", read, got)
	}
	in2 := in
	in2.Label, in2.Address = "moved", "198.51.100.1"
	time.Sleep(2 * time.Millisecond)
	upd, err := s.PutDevice(c, in2)
	if err != nil {
		t.Fatal(err)
	}
	if !upd.CreatedAt.Equal(got.CreatedAt) || !upd.UpdatedAt.After(got.UpdatedAt) || upd.Label != "moved" || upd.Address != "198.51.100.1" {
		t.Errorf("updated device = %+v; want CreatedAt kept (%v), UpdatedAt later, new label and address", upd, got.CreatedAt)
	}
	mustDevice(t, s, "a-router") // site ""
	if _, err := s.PutDevice(c, store.Device{ID: "b", Site: "office-a"}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Devices(c)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range ds {
		order = append(order, d.Site+"/"+d.ID)
	}
	if want := []string{"/a-router", "office-a/b", "office-b/home"}; !slices.Equal(order, want) {
		t.Errorf("Devices order = %q, want %q (by site, then ID)", order, want)
	}
}

func testDeviceInvalidIDs(t *testing.T, s store.Store) {
	const secret = "hunter2-secret"
	tests := []struct {
		name string
		d    store.Device
	}{
		{"empty ID", store.Device{}},
		{"NUL in ID", store.Device{ID: "a\x00" + secret}},
		{"newline in ID", store.Device{ID: "a\n" + secret}},
		{"invalid UTF-8 in ID", store.Device{ID: "a\xff" + secret}},
		{"ID too long", store.Device{ID: strings.Repeat("x", store.MaxIDLen+1)}},
		{"control character in site", store.Device{ID: "ok", Site: "\x1b[31m" + secret}},
		{"label too long", store.Device{ID: "ok", Label: strings.Repeat("x", store.MaxTextLen+1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PutDevice(ctx(t), tc.d)
			wantErr(t, "PutDevice", err, store.ErrInvalid)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error %q repeats the value", err)
			}
		})
	}
	if ds, err := s.Devices(ctx(t)); err != nil || len(ds) != 0 {
		t.Errorf("after refused writes Devices = %v, %v; want none", ds, err)
	}
	_, err := s.Device(ctx(t), "")
	wantErr(t, "Device(\"\")", err, store.ErrInvalid)
}

func testFreeText(t *testing.T, s store.Store) {
	d, err := s.PutDevice(ctx(t), store.Device{ID: "r", Label: "caf\xe9\x00bar"})
	if err != nil {
		t.Fatalf("PutDevice with invalid UTF-8 and NUL in the label: %v; want it kept, replaced", err)
	}
	if want := "caf\uFFFD\uFFFDbar"; d.Label != want {
		t.Errorf("label = %q, want %q", d.Label, want)
	}
	if got, _ := s.Device(ctx(t), "r"); got.Label != "caf\uFFFD\uFFFDbar" {
		t.Errorf("label read back = %q", got.Label)
	}
}

func testSnapshotRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r1")
	want := Snapshot(7, base, 0)
	m, err := s.PutSnapshot(c, "r1", want)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := store.ConfigHash(&want.Config)
	if err != nil {
		t.Fatal(err)
	}
	var rawBytes int64
	for _, a := range want.Raw {
		rawBytes += int64(len(a.Body))
	}
	if m.ID <= 0 || m.DeviceID != "r1" || m.Adapter != "tplink-legacy" || m.Target != want.Target ||
		!m.TakenAt.Equal(store.Timestamp(base)) || m.StoredAt.IsZero() || m.ConfigHash != hash ||
		m.Artifacts != 3 || m.RawBytes != rawBytes || m.Warnings != 2 {
		t.Errorf("PutSnapshot meta = %+v; want ID>0, device r1, hash %s, 3 artifacts, %d raw bytes, 2 warnings", m, hash, rawBytes)
	}
	for name, get := range map[string]func() (store.StoredSnapshot, error){
		"Snapshot":       func() (store.StoredSnapshot, error) { return s.Snapshot(c, m.ID) },
		"LatestSnapshot": func() (store.StoredSnapshot, error) { return s.LatestSnapshot(c, "r1") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Meta != m {
			t.Errorf("%s meta = %+v, want %+v", name, got.Meta, m)
		}
		if err := CheckSnapshot(want, &got.Snapshot); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	list, err := s.Snapshots(c, "r1", store.Page{})
	if err != nil || len(list) != 1 || list[0] != m {
		t.Errorf("Snapshots = %+v, %v; want [%+v]", list, err, m)
	}
	if n, err := s.CountSnapshots(c, "r1"); n != 1 || err != nil {
		t.Errorf("CountSnapshots = %d, %v; want 1", n, err)
	}
	// A snapshot with nothing but the required fields.
	bare := &device.Snapshot{Adapter: "routeros-export", TakenAt: base}
	m2, err := s.PutSnapshot(c, "r1", bare)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Snapshot(c, m2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSnapshot(bare, &got.Snapshot); err != nil {
		t.Errorf("bare snapshot: %v", err)
	}
	if got.Meta.Target.IsValid() || got.Meta.Artifacts != 0 || got.Meta.Warnings != 0 {
		t.Errorf("bare snapshot meta = %+v; want no target, artifacts or warnings", got.Meta)
	}
}

func testSnapshotHash(t *testing.T, s store.Store) {
	mustDevice(t, s, "r")
	a := mustSnapshot(t, s, "r", 1, base)
	b := mustSnapshot(t, s, "r", 1, base.Add(time.Hour)) // same settings, later
	c := mustSnapshot(t, s, "r", 2, base.Add(2*time.Hour))
	if a.ConfigHash != b.ConfigHash {
		t.Errorf("unchanged configuration: hashes %s and %s differ", a.ConfigHash, b.ConfigHash)
	}
	if a.ConfigHash == c.ConfigHash {
		t.Errorf("changed configuration: both hashes are %s", a.ConfigHash)
	}
	if !strings.HasPrefix(a.ConfigHash, "sha256:") || len(a.ConfigHash) != len("sha256:")+64 {
		t.Errorf("hash %q is not sha256:<64 hex>", a.ConfigHash)
	}
}

func metaIDs(ms []store.SnapshotMeta) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func testSnapshotOrdering(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "other")
	// Inserted out of time order; two share a TakenAt (the later ID wins).
	s1 := mustSnapshot(t, s, "r", 1, base.Add(2*time.Hour))
	s2 := mustSnapshot(t, s, "r", 2, base) // an imported older backup
	s3 := mustSnapshot(t, s, "r", 3, base.Add(2*time.Hour))
	s4 := mustSnapshot(t, s, "r", 4, base.Add(time.Hour))
	mustSnapshot(t, s, "other", 5, base.Add(5*time.Hour))
	list, err := s.Snapshots(c, "r", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := metaIDs(list), []int64{s3.ID, s1.ID, s4.ID, s2.ID}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v (TakenAt descending, then ID descending)", got, want)
	}
	latest, err := s.LatestSnapshot(c, "r")
	if err != nil || latest.Meta.ID != s3.ID {
		t.Errorf("LatestSnapshot = %d, %v; want %d", latest.Meta.ID, err, s3.ID)
	}
	if n, _ := s.CountSnapshots(c, "r"); n != 4 {
		t.Errorf("CountSnapshots(r) = %d, want 4", n)
	}
	if s2.ID <= s1.ID || s3.ID <= s2.ID || s4.ID <= s3.ID {
		t.Errorf("IDs %d %d %d %d do not grow with each insert", s1.ID, s2.ID, s3.ID, s4.ID)
	}
}

func testSnapshotPaging(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	const n = 25
	for i := range n {
		mustSnapshot(t, s, "r", i, base.Add(time.Duration(i)*time.Minute))
	}
	all, err := s.Snapshots(c, "r", store.Page{Limit: 100})
	if err != nil || len(all) != n {
		t.Fatalf("all = %d, %v; want %d", len(all), err, n)
	}
	var paged []int64
	for _, tc := range []struct {
		name   string
		p      store.Page
		wantN  int
		wantAt int
	}{
		{"first page", store.Page{Limit: 10}, 10, 0},
		{"second page", store.Page{Limit: 10, Offset: 10}, 10, 10},
		{"short last page", store.Page{Limit: 10, Offset: 20}, 5, 20},
		{"past the end", store.Page{Limit: 10, Offset: 30}, 0, 0},
	} {
		got, err := s.Snapshots(c, "r", tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != tc.wantN {
			t.Errorf("%s: %d records, want %d", tc.name, len(got), tc.wantN)
			continue
		}
		if tc.wantN > 0 && got[0].ID != all[tc.wantAt].ID {
			t.Errorf("%s starts at %d, want %d", tc.name, got[0].ID, all[tc.wantAt].ID)
		}
		paged = append(paged, metaIDs(got)...)
	}
	if !slices.Equal(paged, metaIDs(all)) {
		t.Errorf("pages = %v, want %v", paged, metaIDs(all))
	}
	if _, err := s.Snapshots(c, "r", store.Page{Offset: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative offset: %v, want ErrInvalid", err)
	}
	def, err := s.Snapshots(c, "r", store.Page{Limit: -5})
	if err != nil || len(def) != n {
		t.Errorf("Limit -5 (default %d) gave %d, %v", store.DefaultLimit, len(def), err)
	}
	if got, err := s.Snapshots(c, "nobody", store.Page{}); err != nil || len(got) != 0 {
		t.Errorf("history of an unknown device = %v, %v; want empty", got, err)
	}
	if n, err := s.CountSnapshots(c, "nobody"); err != nil || n != 0 {
		t.Errorf("count of an unknown device = %d, %v; want 0", n, err)
	}
}

func testSnapshotInvalid(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	const secret = "hunter2-secret"
	tests := []struct {
		name string
		snap *device.Snapshot
	}{
		{"nil", nil},
		{"no adapter", &device.Snapshot{TakenAt: base}},
		{"adapter with a control character", &device.Snapshot{Adapter: "x\n" + secret, TakenAt: base}},
		{"no TakenAt", &device.Snapshot{Adapter: "x"}},
		{"year 10000", &device.Snapshot{Adapter: "x", TakenAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"negative redaction count", &device.Snapshot{Adapter: "x", TakenAt: base, Raw: []device.Artifact{{Name: secret, Redacted: -1}}}},
		{"too many artifacts", &device.Snapshot{Adapter: "x", TakenAt: base, Raw: make([]device.Artifact, store.MaxArtifacts+1)}},
		{"configuration too large", &device.Snapshot{Adapter: "x", TakenAt: base, Config: device.Config{
			NTP: device.Known([]string{strings.Repeat("x", store.MaxSnapshotBytes)}, device.Source{})}}},
		{"too large", &device.Snapshot{Adapter: "x", TakenAt: base, Raw: []device.Artifact{
			{Name: "a", Body: make([]byte, store.MaxSnapshotBytes/2)}, {Name: "b", Body: make([]byte, store.MaxSnapshotBytes/2+1)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PutSnapshot(c, "r", tc.snap)
			wantErr(t, "PutSnapshot", err, store.ErrInvalid)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error %q repeats the value", err)
			}
		})
	}
	if n, err := s.CountSnapshots(c, "r"); n != 0 || err != nil {
		t.Errorf("after refused writes CountSnapshots = %d, %v; want 0", n, err)
	}
	_, err := s.PutSnapshot(c, "bad\x00id", Snapshot(1, base, 0))
	wantErr(t, "PutSnapshot with an invalid device ID", err, store.ErrInvalid)
}

func testTimes(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	at := time.Date(2026, 7, 1, 12, 0, 0, 123456789, time.FixedZone("X", -7*3600))
	want := at.UTC().Truncate(time.Microsecond)
	m := mustSnapshot(t, s, "r", 1, at)
	got, err := s.Snapshot(c, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]time.Time{"meta returned": m.TakenAt, "meta read": got.Meta.TakenAt, "snapshot read": got.Snapshot.TakenAt} {
		if !v.Equal(want) || v.Location() != time.UTC || v.Nanosecond()%1000 != 0 {
			t.Errorf("%s TakenAt = %v, want %v in UTC", name, v, want)
		}
	}
	if store.Timestamp(at) != want {
		t.Errorf("Timestamp(%v) = %v, want %v", at, store.Timestamp(at), want)
	}
	a, err := s.PutAudit(c, store.Audit{DeviceID: "r", Kind: store.AuditDNS, At: at, Verdict: "clean"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.At.Equal(want) || a.At.Location() != time.UTC {
		t.Errorf("audit At = %v, want %v", a.At, want)
	}
	// A zero time means now.
	before := time.Now().Add(-time.Second)
	a2, err := s.PutAudit(c, store.Audit{Kind: store.AuditDNS, Verdict: "clean"})
	if err != nil {
		t.Fatal(err)
	}
	if a2.At.Before(before) || a2.At.After(time.Now().Add(time.Second)) {
		t.Errorf("audit with zero At stored at %v, want about now", a2.At)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "other")
	otherSnap := mustSnapshot(t, s, "other", 1, base)
	mine := mustSnapshot(t, s, "r", 2, base)
	alerts, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "k", Title: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Device", func() error { _, err := s.Device(c, "nobody"); return err }},
		{"Snapshot", func() error { _, err := s.Snapshot(c, 999999); return err }},
		{"Snapshot zero", func() error { _, err := s.Snapshot(c, 0); return err }},
		{"LatestSnapshot unknown device", func() error { _, err := s.LatestSnapshot(c, "nobody"); return err }},
		{"LatestSnapshot device without snapshots", func() error {
			mustDevice(t, s, "empty")
			_, err := s.LatestSnapshot(c, "empty")
			return err
		}},
		{"PutSnapshot unknown device", func() error { _, err := s.PutSnapshot(c, "nobody", Snapshot(1, base, 0)); return err }},
		{"PutDevice at an unknown site", func() error { _, err := s.PutDevice(c, store.Device{ID: "new", Site: "nowhere"}); return err }},
		{"Baseline none set", func() error { _, err := s.Baseline(c, "r"); return err }},
		{"SetBaseline unknown snapshot", func() error {
			_, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: 999999})
			return err
		}},
		{"SetBaseline another device's snapshot", func() error {
			_, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: otherSnap.ID})
			return err
		}},
		{"SetBaseline unknown device", func() error {
			_, err := s.SetBaseline(c, store.Baseline{DeviceID: "nobody", SnapshotID: mine.ID})
			return err
		}},
		{"Audit", func() error { _, err := s.Audit(c, 999999); return err }},
		{"PutAudit unknown device", func() error {
			_, err := s.PutAudit(c, store.Audit{DeviceID: "nobody", Kind: store.AuditDNS})
			return err
		}},
		{"PutChanges another device's snapshot", func() error {
			_, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: otherSnap.ID, ToSnapshot: mine.ID})
			return err
		}},
		{"PutChanges unknown snapshot", func() error {
			_, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: mine.ID, ToSnapshot: 999999})
			return err
		}},
		{"ReconcileAlerts unknown device", func() error {
			_, err := s.ReconcileAlerts(c, "nobody", "dns", base, nil)
			return err
		}},
		{"MarkNotified", func() error { return s.MarkNotified(c, alerts.Opened[0].ID+1000, store.AlertOpen, base) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.call(), store.ErrNotFound) })
	}
	if n, _ := s.CountSnapshots(c, "r"); n != 1 {
		t.Errorf("refused writes changed the store: %d snapshots of r, want 1", n)
	}
	if bs, _ := s.Baselines(c, "r", store.Page{}); len(bs) != 0 {
		t.Errorf("refused SetBaseline left %v", bs)
	}
	if es, _ := s.ChangeEvents(c, "", store.Page{}); len(es) != 0 {
		t.Errorf("refused PutChanges left %v", es)
	}
	if as, _ := s.Audits(c, store.AuditFilter{}, store.Page{}); len(as) != 0 {
		t.Errorf("refused PutAudit left %v", as)
	}
	if _, err := s.Device(c, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a device at an unknown site was stored (%v)", err)
	}
}

func testBaselines(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "other")
	s1 := mustSnapshot(t, s, "r", 1, base)
	s2 := mustSnapshot(t, s, "r", 2, base.Add(time.Hour))
	b1, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: s1.ID, SetAt: base, Note: "after setup"})
	if err != nil {
		t.Fatal(err)
	}
	if b1.ID <= 0 || b1.SnapshotID != s1.ID || !b1.SetAt.Equal(store.Timestamp(base)) || b1.Note != "after setup" {
		t.Errorf("SetBaseline = %+v", b1)
	}
	cur, err := s.Baseline(c, "r")
	if err != nil || cur != b1 {
		t.Errorf("Baseline = %+v, %v; want %+v", cur, err, b1)
	}
	// A later baseline, set with an earlier SetAt, is still the current
	// one: the order is the order of setting.
	b2, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: s2.ID, SetAt: base.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	b3, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: s1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if b3.SetAt.IsZero() {
		t.Error("a zero SetAt was not set to now")
	}
	if cur, _ := s.Baseline(c, "r"); cur != b3 {
		t.Errorf("current baseline = %+v, want the last set %+v", cur, b3)
	}
	hist, err := s.Baselines(c, "r", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Baseline{b3, b2, b1}; !slices.Equal(hist, want) {
		t.Errorf("baseline history = %+v, want %+v", hist, want)
	}
	if page, _ := s.Baselines(c, "r", store.Page{Limit: 1, Offset: 1}); len(page) != 1 || page[0] != b2 {
		t.Errorf("second page of one = %+v, want [%+v]", page, b2)
	}
	if _, err := s.Baseline(c, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("baseline of another device: %v, want ErrNotFound", err)
	}
	_, err = s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: -1})
	wantErr(t, "SetBaseline with a negative snapshot ID", err, store.ErrInvalid)
}

func testAudits(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "q")
	// Odd spacing and key order: a report comes back byte for byte.
	report := json.RawMessage(`{"z": 1,  "a": [true, null, "\u00e9"], "schema": "routerwatch.report/1"}`)
	in := []store.Audit{
		{DeviceID: "r", Kind: store.AuditDNS, At: base, Verdict: "clean", Headline: "router answers truthfully", Report: report},
		{DeviceID: "r", Kind: store.AuditCheck, At: base.Add(time.Minute), Verdict: "failing", Headline: "telnet answers on the LAN", Failing: 2},
		{DeviceID: "q", Kind: store.AuditDNS, At: base.Add(2 * time.Minute), Verdict: "hijacked", Failing: 1},
		{Kind: store.AuditDNS, At: base.Add(3 * time.Minute), Verdict: "clean"},
		{DeviceID: "r", Kind: store.AuditDNS, At: base.Add(-time.Minute), Verdict: "clean"},
	}
	var out []store.Audit
	for _, a := range in {
		got, err := s.PutAudit(c, a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	first, err := s.Audit(c, out[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Report) != string(report) || first.Headline != in[0].Headline || first.DeviceID != "r" || first.Kind != "dns" {
		t.Errorf("Audit = %+v with report %s; want the report byte for byte", first, first.Report)
	}
	if got, _ := s.Audit(c, out[1].ID); got.Report != nil || got.Failing != 2 {
		t.Errorf("audit without a report read back as %+v", got)
	}
	if got, _ := s.Audit(c, out[3].ID); got.DeviceID != "" {
		t.Errorf("device-less audit read back with device %q", got.DeviceID)
	}
	ids := func(as []store.Audit) []int64 {
		var r []int64
		for _, a := range as {
			r = append(r, a.ID)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want []int64
	}{
		{"all", store.AuditFilter{}, []int64{out[3].ID, out[2].ID, out[1].ID, out[0].ID, out[4].ID}},
		{"device r", store.AuditFilter{DeviceID: "r"}, []int64{out[1].ID, out[0].ID, out[4].ID}},
		{"kind dns", store.AuditFilter{Kind: store.AuditDNS}, []int64{out[3].ID, out[2].ID, out[0].ID, out[4].ID}},
		{"device r, kind dns", store.AuditFilter{DeviceID: "r", Kind: store.AuditDNS}, []int64{out[0].ID, out[4].ID}},
		{"no match", store.AuditFilter{Kind: store.AuditConfig}, nil},
	} {
		got, err := s.Audits(c, tc.f, store.Page{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, ids(got), tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		a    store.Audit
	}{
		{"no kind", store.Audit{Verdict: "x"}},
		{"report not JSON", store.Audit{Kind: "dns", Report: json.RawMessage(`{"a":`)}},
		{"negative failing", store.Audit{Kind: "dns", Failing: -1}},
		{"report too large", store.Audit{Kind: "dns", Report: json.RawMessage(`"` + strings.Repeat("x", store.MaxReportBytes) + `"`)}},
	} {
		_, err := s.PutAudit(c, tc.a)
		wantErr(t, "PutAudit "+tc.name, err, store.ErrInvalid)
	}
	_, err = s.Audits(c, store.AuditFilter{Kind: "a\nb"}, store.Page{})
	wantErr(t, "Audits with an invalid kind", err, store.ErrInvalid)
}

func testChanges(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "q")
	s1 := mustSnapshot(t, s, "r", 1, base)
	s2 := mustSnapshot(t, s, "r", 2, base.Add(time.Hour))
	q1 := mustSnapshot(t, s, "q", 1, base)
	q2 := mustSnapshot(t, s, "q", 2, base.Add(time.Hour))
	old, _ := s.Snapshot(c, s1.ID)
	cur, _ := s.Snapshot(c, s2.ID)
	diff := device.Diff(&old.Snapshot.Config, &cur.Snapshot.Config)
	if len(diff) == 0 {
		t.Fatal("the sample snapshots 1 and 2 do not differ")
	}
	var changes []store.Change
	for _, d := range diff {
		sev := finding.SeverityLow
		if d.NewAddr.IsValid() {
			sev = finding.SeverityHigh
		}
		words := d.Sentence()
		if d.NewAddr.IsValid() {
			words += " — not in your allowed resolvers"
		}
		changes = append(changes, store.Change{Change: d, Severity: sev, Words: words})
	}
	e1, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: s1.ID, ToSnapshot: s2.ID, At: base.Add(time.Hour), Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "q", FromSnapshot: q1.ID, ToSnapshot: q2.ID, At: base.Add(2 * time.Hour),
		Changes: []store.Change{{Change: device.Change{Path: "admins[root]", What: "admin account", Kind: device.Added, New: "root"}, Severity: finding.SeverityMedium, Words: "admin account added: root"}}})
	if err != nil {
		t.Fatal(err)
	}
	e3, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: s2.ID, ToSnapshot: s2.ID, At: base.Add(3 * time.Hour)})
	if err != nil {
		t.Fatalf("an event with no change: %v", err)
	}
	got, err := s.ChangeEvents(c, "r", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != e3.ID || got[1].ID != e1.ID {
		t.Fatalf("ChangeEvents(r) = %+v, want events %d then %d", got, e3.ID, e1.ID)
	}
	if len(got[0].Changes) != 0 {
		t.Errorf("empty event read back with %d changes", len(got[0].Changes))
	}
	r := got[1]
	if r.FromSnapshot != s1.ID || r.ToSnapshot != s2.ID || !r.At.Equal(store.Timestamp(base.Add(time.Hour))) || r.DeviceID != "r" {
		t.Errorf("event = %+v", r)
	}
	if len(r.Changes) != len(changes) {
		t.Fatalf("%d changes read back, want %d", len(r.Changes), len(changes))
	}
	for i := range changes {
		if r.Changes[i] != changes[i] {
			t.Errorf("change %d = %+v, want %+v (in order, addresses kept)", i, r.Changes[i], changes[i])
		}
	}
	all, err := s.ChangeEvents(c, "", store.Page{})
	if err != nil || len(all) != 3 || all[0].ID != e3.ID || all[1].ID != e2.ID || all[2].ID != e1.ID {
		t.Errorf("ChangeEvents(all) = %v, %v", all, err)
	}
	if page, _ := s.ChangeEvents(c, "", store.Page{Limit: 1, Offset: 1}); len(page) != 1 || page[0].ID != e2.ID || len(page[0].Changes) != 1 {
		t.Errorf("second page of one = %+v, want event %d with its change", page, e2.ID)
	}
	_, err = s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: s1.ID, ToSnapshot: s2.ID,
		Changes: []store.Change{{Severity: finding.Severity(99)}}})
	wantErr(t, "PutChanges with an invalid severity", err, store.ErrInvalid)
	_, err = s.PutChanges(c, store.ChangeEvent{DeviceID: "r", ToSnapshot: s2.ID})
	wantErr(t, "PutChanges without a from snapshot", err, store.ErrInvalid)
}

func keys(as []store.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func testAlertLifecycle(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	p := func(key string, sev finding.Severity) store.Problem {
		return store.Problem{Key: key, Title: "problem " + key, Severity: sev, Detail: "detail " + key}
	}
	t0 := store.Timestamp(base)
	// Run 1: two problems appear.
	r, err := s.ReconcileAlerts(c, "r", "dns", t0, []store.Problem{p("b", finding.SeverityHigh), p("a", finding.SeverityCritical)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(r.Opened), []string{"a", "b"}) || len(r.Changed)+len(r.Resolved) != 0 || !slices.Equal(keys(r.Open), []string{"a", "b"}) {
		t.Fatalf("run 1 = %+v; want a and b opened", r)
	}
	a := r.Opened[0]
	if a.ID <= 0 || a.DeviceID != "r" || a.Kind != "dns" || a.Severity != finding.SeverityCritical || a.Title != "problem a" ||
		!a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0) || !a.ResolvedAt.IsZero() || a.Notified != "" || a.State() != store.AlertOpen || !a.Pending() {
		t.Errorf("opened alert = %+v", a)
	}
	pend, err := s.PendingAlerts(c, "r")
	if err != nil || !slices.Equal(keys(pend), []string{"a", "b"}) {
		t.Fatalf("pending after run 1 = %v, %v; want a, b", keys(pend), err)
	}
	for _, al := range pend {
		if err := s.MarkNotified(c, al.ID, store.AlertOpen, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if pend, _ := s.PendingAlerts(c, ""); len(pend) != 0 {
		t.Errorf("pending after notices = %v, want none", keys(pend))
	}
	// Run 2: the same problems: nothing to say.
	t1 := t0.Add(time.Minute)
	r, err = s.ReconcileAlerts(c, "r", "dns", t1, []store.Problem{p("a", finding.SeverityCritical), p("b", finding.SeverityHigh)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Opened)+len(r.Changed)+len(r.Resolved) != 0 || len(r.Open) != 2 {
		t.Errorf("run 2 (no change) = %+v; want nothing opened, changed or resolved", r)
	}
	if !r.Open[0].LastSeen.Equal(t1) || !r.Open[0].FirstSeen.Equal(t0) || r.Open[0].ID != a.ID {
		t.Errorf("run 2 alert a = %+v; want LastSeen %v, FirstSeen %v, the same ID", r.Open[0], t1, t0)
	}
	if pend, _ := s.PendingAlerts(c, "r"); len(pend) != 0 {
		t.Errorf("pending after an unchanged run = %v, want none", keys(pend))
	}
	// Run 3: b is gone, a's severity changed.
	t2 := t1.Add(time.Minute)
	r, err = s.ReconcileAlerts(c, "r", "dns", t2, []store.Problem{p("a", finding.SeverityHigh)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Opened) != 0 || !slices.Equal(keys(r.Changed), []string{"a"}) || !slices.Equal(keys(r.Resolved), []string{"b"}) {
		t.Fatalf("run 3 = %+v; want a changed, b resolved", r)
	}
	if r.Changed[0].Severity != finding.SeverityHigh {
		t.Errorf("changed alert severity = %v, want high", r.Changed[0].Severity)
	}
	if b := r.Resolved[0]; !b.ResolvedAt.Equal(t2) || b.State() != store.AlertResolved || !b.Pending() || b.Notified != store.AlertOpen {
		t.Errorf("resolved alert = %+v", b)
	}
	pend, _ = s.PendingAlerts(c, "r")
	if len(pend) != 1 || pend[0].Key != "b" || pend[0].State() != store.AlertResolved {
		t.Fatalf("pending after run 3 = %+v; want b, resolved", pend)
	}
	if err := s.MarkNotified(c, pend[0].ID, store.AlertResolved, t2); err != nil {
		t.Fatal(err)
	}
	// Run 4: b comes back: a new alert, not the resolved one reopened.
	t3 := t2.Add(time.Minute)
	r, err = s.ReconcileAlerts(c, "r", "dns", t3, []store.Problem{p("a", finding.SeverityHigh), p("b", finding.SeverityHigh)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(r.Opened), []string{"b"}) || r.Opened[0].ID == pend[0].ID || !r.Opened[0].FirstSeen.Equal(t3) {
		t.Errorf("run 4 = %+v; want b opened again as a new alert first seen %v", r, t3)
	}
	// History: open and resolved alerts, newest first.
	open, _ := s.Alerts(c, store.AlertFilter{DeviceID: "r", State: store.AlertOpen}, store.Page{})
	resolved, _ := s.Alerts(c, store.AlertFilter{DeviceID: "r", State: store.AlertResolved}, store.Page{})
	all, _ := s.Alerts(c, store.AlertFilter{}, store.Page{})
	if !slices.Equal(keys(open), []string{"b", "a"}) || !slices.Equal(keys(resolved), []string{"b"}) || len(all) != 3 {
		t.Errorf("alerts: open %v, resolved %v, all %d; want open [b a], resolved [b], 3", keys(open), keys(resolved), len(all))
	}
	got, _ := s.Alerts(c, store.AlertFilter{DeviceID: "r", State: store.AlertResolved}, store.Page{})
	if len(got) == 1 && (got[0].Notified != store.AlertResolved || !got[0].LastNotified.Equal(t2)) {
		t.Errorf("notified resolved alert = %+v", got[0])
	}
	// Run 5: all clear.
	r, err = s.ReconcileAlerts(c, "r", "dns", t3.Add(time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(r.Resolved), []string{"a", "b"}) || len(r.Open) != 0 {
		t.Errorf("run 5 = %+v; want a and b resolved", r)
	}
	// Both resolved at the same time: a (notified open) and the new b
	// (never notified): oldest change first, then by ID.
	pend, _ = s.PendingAlerts(c, "")
	if !slices.Equal(keys(pend), []string{"a", "b"}) || pend[0].State() != store.AlertResolved || pend[1].Notified != "" {
		t.Errorf("pending after run 5 = %+v; want a then b, both resolved", pend)
	}
}

func testAlertKinds(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	mustDevice(t, s, "q")
	if _, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "x", Title: "dns x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReconcileAlerts(c, "q", "dns", base, []store.Problem{{Key: "x", Title: "q's x"}}); err != nil {
		t.Fatal(err)
	}
	// The config pull of r finds nothing: the DNS audit's alert stays.
	r, err := s.ReconcileAlerts(c, "r", "config", base.Add(time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resolved) != 0 {
		t.Errorf("a config run resolved %v of the dns kind", keys(r.Resolved))
	}
	// The same key under another kind is another alert.
	r, err = s.ReconcileAlerts(c, "r", "config", base.Add(2*time.Minute), []store.Problem{{Key: "x", Title: "config x"}})
	if err != nil || len(r.Opened) != 1 {
		t.Fatalf("config x: %+v, %v; want opened", r, err)
	}
	open, _ := s.Alerts(c, store.AlertFilter{DeviceID: "r", State: store.AlertOpen}, store.Page{})
	if len(open) != 2 {
		t.Errorf("r has %d open alerts, want 2 (dns x and config x)", len(open))
	}
	byKind, _ := s.Alerts(c, store.AlertFilter{Kind: "dns"}, store.Page{})
	if len(byKind) != 2 {
		t.Errorf("%d dns alerts over both devices, want 2", len(byKind))
	}
	if q, _ := s.PendingAlerts(c, "q"); len(q) != 1 || q[0].DeviceID != "q" {
		t.Errorf("pending of q = %+v", q)
	}
}

func testAlertInvalid(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"duplicate keys", func() error {
			_, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "a"}, {Key: "b"}, {Key: "a"}})
			return err
		}},
		{"empty key", func() error {
			_, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: ""}})
			return err
		}},
		{"empty kind", func() error { _, err := s.ReconcileAlerts(c, "r", "", base, nil); return err }},
		{"zero time", func() error { _, err := s.ReconcileAlerts(c, "r", "dns", time.Time{}, nil); return err }},
		{"bad severity", func() error {
			_, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "a", Severity: 200}})
			return err
		}},
		{"notice of no state", func() error { return s.MarkNotified(c, 1, "", base) }},
		{"notice of alert 0", func() error { return s.MarkNotified(c, 0, store.AlertOpen, base) }},
		{"filter state", func() error { _, err := s.Alerts(c, store.AlertFilter{State: "maybe"}, store.Page{}); return err }},
	} {
		wantErr(t, tc.name, tc.call(), store.ErrInvalid)
	}
	if all, _ := s.Alerts(c, store.AlertFilter{}, store.Page{}); len(all) != 0 {
		t.Errorf("refused reconciliations left %v", keys(all))
	}
}

func testLargeSnapshot(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	// 24 MiB of raw artifacts: a sysupgrade backup with its files.
	want := Snapshot(3, base, 24<<20)
	m, err := s.PutSnapshot(c, "r", want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Snapshot(c, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSnapshot(want, &got.Snapshot); err != nil {
		t.Error(err)
	}
	if m.RawBytes < 24<<20 {
		t.Errorf("RawBytes = %d", m.RawBytes)
	}
}

func testConcurrency(t *testing.T, s store.Store) {
	c := ctx(t)
	const writers, perWriter, readers = 4, 15, 4
	for w := range writers {
		mustDevice(t, s, fmt.Sprintf("w%d", w))
	}
	mustDevice(t, s, "shared")
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := w*1000 + i
				at := base.Add(time.Duration(n) * time.Second)
				dev := fmt.Sprintf("w%d", w)
				if i%3 == 0 {
					dev = "shared"
				}
				if _, err := s.PutSnapshot(c, dev, Snapshot(n, at, 4096)); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if _, err := s.ReconcileAlerts(c, dev, fmt.Sprintf("k%d", w), at, []store.Problem{{Key: fmt.Sprint(i % 2)}}); err != nil {
					errs <- fmt.Errorf("writer %d reconcile: %w", w, err)
					return
				}
			}
		})
	}
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				dev := "shared"
				if r%2 == 1 {
					dev = fmt.Sprintf("w%d", r%writers)
				}
				got, err := s.LatestSnapshot(c, dev)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				// The snapshot's number is in its taken time: the
				// read-back copy must be whole.
				n := int(got.Meta.TakenAt.Sub(base.UTC().Truncate(time.Microsecond)) / time.Second)
				if err := CheckSnapshot(Snapshot(n, base.Add(time.Duration(n)*time.Second), 4096), &got.Snapshot); err != nil {
					errs <- fmt.Errorf("reader %d saw a partial or wrong snapshot: %w", r, err)
					return
				}
				if _, err := s.Snapshots(c, dev, store.Page{Limit: 5}); err != nil {
					errs <- fmt.Errorf("reader %d list: %w", r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, dev := range []string{"shared", "w0", "w1", "w2", "w3"} {
		n, err := s.CountSnapshots(c, dev)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != writers*perWriter {
		t.Errorf("%d snapshots stored, want %d", total, writers*perWriter)
	}
	if n, _ := s.CountSnapshots(c, "shared"); n != writers*5 {
		t.Errorf("shared has %d snapshots, want %d", n, writers*5)
	}
}

func testConcurrentReconcile(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	const n = 8
	var wg sync.WaitGroup
	opened := make(chan int, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r, err := s.ReconcileAlerts(c, "r", "dns", base.Add(time.Duration(i)*time.Second), []store.Problem{{Key: "hijack", Title: "rogue resolver"}})
			if err != nil {
				errs <- err
				return
			}
			opened <- len(r.Opened)
		})
	}
	wg.Wait()
	close(errs)
	close(opened)
	for err := range errs {
		t.Error(err)
	}
	sum := 0
	for o := range opened {
		sum += o
	}
	if sum != 1 {
		t.Errorf("%d parallel runs that saw the same problem opened %d alerts, want 1", n, sum)
	}
	open, _ := s.Alerts(c, store.AlertFilter{State: store.AlertOpen}, store.Page{})
	if len(open) != 1 {
		t.Errorf("%d open alerts, want 1", len(open))
	}
}

func testCancelledContext(t *testing.T, s store.Store) {
	mustDevice(t, s, "r")
	m := mustSnapshot(t, s, "r", 1, base)
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	calls := map[string]func() error{
		"PutDevice":      func() error { _, err := s.PutDevice(c, store.Device{ID: "new"}); return err },
		"Device":         func() error { _, err := s.Device(c, "r"); return err },
		"Devices":        func() error { _, err := s.Devices(c); return err },
		"PutSnapshot":    func() error { _, err := s.PutSnapshot(c, "r", Snapshot(2, base, 0)); return err },
		"Snapshot":       func() error { _, err := s.Snapshot(c, m.ID); return err },
		"LatestSnapshot": func() error { _, err := s.LatestSnapshot(c, "r"); return err },
		"Snapshots":      func() error { _, err := s.Snapshots(c, "r", store.Page{}); return err },
		"CountSnapshots": func() error { _, err := s.CountSnapshots(c, "r"); return err },
		"SetBaseline":    func() error { _, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: m.ID}); return err },
		"Baseline":       func() error { _, err := s.Baseline(c, "r"); return err },
		"Baselines":      func() error { _, err := s.Baselines(c, "r", store.Page{}); return err },
		"PutAudit":       func() error { _, err := s.PutAudit(c, store.Audit{Kind: "dns"}); return err },
		"Audit":          func() error { _, err := s.Audit(c, 1); return err },
		"Audits":         func() error { _, err := s.Audits(c, store.AuditFilter{}, store.Page{}); return err },
		"PutChanges": func() error {
			_, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: m.ID, ToSnapshot: m.ID})
			return err
		},
		"ChangeEvents": func() error { _, err := s.ChangeEvents(c, "", store.Page{}); return err },
		"ReconcileAlerts": func() error {
			_, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "k"}})
			return err
		},
		"PendingAlerts": func() error { _, err := s.PendingAlerts(c, ""); return err },
		"MarkNotified":  func() error { return s.MarkNotified(c, 1, store.AlertOpen, base) },
		"Alerts":        func() error { _, err := s.Alerts(c, store.AlertFilter{}, store.Page{}); return err },
	}
	maps.Copy(calls, tenancyCalls(c, s, 1))
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantErr(t, name, call(), context.Canceled) })
	}
	bg := ctx(t)
	if n, _ := s.CountSnapshots(bg, "r"); n != 1 {
		t.Errorf("cancelled writes stored snapshots: %d, want 1", n)
	}
	if _, err := s.Device(bg, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a cancelled PutDevice stored the device (%v)", err)
	}
	if all, _ := s.Alerts(bg, store.AlertFilter{}, store.Page{}); len(all) != 0 {
		t.Errorf("a cancelled reconciliation opened %d alerts", len(all))
	}
	if orgs, _ := s.Orgs(bg); len(orgs) != 1 {
		t.Errorf("a cancelled CreateOrg stored it: %d organisations", len(orgs))
	}
	if sites, _ := s.Sites(bg); len(sites) != 0 {
		t.Errorf("a cancelled PutSite stored it: %d sites", len(sites))
	}
	if users, _ := s.Users(bg, store.Page{}); len(users) != 0 {
		t.Errorf("a cancelled CreateUser stored it: %d users", len(users))
	}
	if log, _ := s.AuditLog(bg, store.Page{}); len(log) != 0 {
		t.Errorf("cancelled writes left %d audit log entries", len(log))
	}
}

// testCancelMidWrite cancels large writes at varied moments: each is
// either all there or not there at all.
func testCancelMidWrite(t *testing.T, s store.Store) {
	mustDevice(t, s, "r")
	stored := 0
	for i := range 8 {
		snap := Snapshot(i, base.Add(time.Duration(i)*time.Second), 8<<20)
		c, cancel := context.WithTimeout(ctx(t), time.Duration(i)*3*time.Millisecond)
		m, err := s.PutSnapshot(c, "r", snap)
		cancel()
		switch {
		case err == nil:
			stored++
			got, err := s.Snapshot(ctx(t), m.ID)
			if err != nil {
				t.Fatalf("write %d returned %d but reads: %v", i, m.ID, err)
			}
			if err := CheckSnapshot(snap, &got.Snapshot); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		case !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("write %d failed with %v, want the context's error", i, err)
		}
	}
	t.Logf("%d of 8 writes finished before their deadline", stored)
	if n, err := s.CountSnapshots(ctx(t), "r"); err != nil || n != stored {
		t.Errorf("%d snapshots stored after %d successful writes (%v): a cancelled write left a record", n, stored, err)
	}
	list, _ := s.Snapshots(ctx(t), "r", store.Page{})
	for _, m := range list {
		got, err := s.Snapshot(ctx(t), m.ID)
		if err != nil || len(got.Snapshot.Raw) != m.Artifacts {
			t.Errorf("snapshot %d is partial: %d of %d artifacts (%v)", m.ID, len(got.Snapshot.Raw), m.Artifacts, err)
		}
	}
}

func testClosed(t *testing.T, s store.Store) {
	mustDevice(t, s, "r")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	c := ctx(t)
	calls := map[string]func() error{
		"PutDevice":      func() error { _, err := s.PutDevice(c, store.Device{ID: "x"}); return err },
		"Device":         func() error { _, err := s.Device(c, "r"); return err },
		"Devices":        func() error { _, err := s.Devices(c); return err },
		"PutSnapshot":    func() error { _, err := s.PutSnapshot(c, "r", Snapshot(1, base, 0)); return err },
		"Snapshot":       func() error { _, err := s.Snapshot(c, 1); return err },
		"LatestSnapshot": func() error { _, err := s.LatestSnapshot(c, "r"); return err },
		"Snapshots":      func() error { _, err := s.Snapshots(c, "r", store.Page{}); return err },
		"CountSnapshots": func() error { _, err := s.CountSnapshots(c, "r"); return err },
		"SetBaseline":    func() error { _, err := s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: 1}); return err },
		"Baseline":       func() error { _, err := s.Baseline(c, "r"); return err },
		"Baselines":      func() error { _, err := s.Baselines(c, "r", store.Page{}); return err },
		"PutAudit":       func() error { _, err := s.PutAudit(c, store.Audit{Kind: "dns"}); return err },
		"Audit":          func() error { _, err := s.Audit(c, 1); return err },
		"Audits":         func() error { _, err := s.Audits(c, store.AuditFilter{}, store.Page{}); return err },
		"PutChanges": func() error {
			_, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: 1, ToSnapshot: 1})
			return err
		},
		"ChangeEvents":    func() error { _, err := s.ChangeEvents(c, "", store.Page{}); return err },
		"ReconcileAlerts": func() error { _, err := s.ReconcileAlerts(c, "r", "dns", base, nil); return err },
		"PendingAlerts":   func() error { _, err := s.PendingAlerts(c, ""); return err },
		"MarkNotified":    func() error { return s.MarkNotified(c, 1, store.AlertOpen, base) },
		"Alerts":          func() error { _, err := s.Alerts(c, store.AlertFilter{}, store.Page{}); return err },
		"State":           func() error { _, err := s.State(c, "x"); return err },
		"PutState":        func() error { return s.PutState(c, "x", nil) },
		"ForOrg Devices":  func() error { _, err := s.ForOrg("acme").Devices(c); return err },
	}
	maps.Copy(calls, tenancyCalls(c, s, 1))
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantErr(t, name, call(), store.ErrClosed) })
	}
}

// testState: named blobs come back byte for byte, are replaced whole,
// are bounded, and an unknown name is ErrNotFound.
func testState(t *testing.T, s store.Store) {
	if _, err := s.State(ctx(t), "watch"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("State(unknown) = %v, want ErrNotFound", err)
	}
	for _, b := range [][]byte{[]byte(`{"pending":[1,2]}`), {0, 0xff, 'x'}, {}} {
		if err := s.PutState(ctx(t), "watch", b); err != nil {
			t.Fatal(err)
		}
		got, err := s.State(ctx(t), "watch")
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("State = %q, %v; want %q", got, err, b)
		}
	}
	if err := s.PutState(ctx(t), "other", []byte("o")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.State(ctx(t), "watch"); len(got) != 0 {
		t.Errorf("another name changed this one: %q", got)
	}
	if err := s.PutState(ctx(t), "big", make([]byte, store.MaxStateBytes+1)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("oversized state: %v, want ErrInvalid", err)
	}
	if err := s.PutState(ctx(t), "bad\x00name", nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("invalid name: %v, want ErrInvalid", err)
	}
}
