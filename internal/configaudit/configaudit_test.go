// SPDX-License-Identifier: Apache-2.0

package configaudit_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

const (
	user     = "admin"
	password = "pass-never-stored-7f3a"
	// attacker is a published FrostArmada address of the built-in
	// indicator list.
	attacker = "64.120.31.96"
)

func router(t *testing.T) *tplinktest.Router {
	t.Helper()
	smp, err := tplinktest.LoadSamples(testutil.SharedData(t))
	if err != nil {
		t.Fatal(err)
	}
	return tplinktest.New(t, smp, tplinktest.Options{Scheme: tplinktest.Cookie, User: user, Password: password})
}

func pullOpts(r *tplinktest.Router, pass string) configaudit.PullOptions {
	return configaudit.PullOptions{Target: r.Addr().Addr(), Port: r.Addr().Port(), Adapter: configaudit.Auto,
		Credentials: device.Credentials{User: user, Password: config.NewSecret(pass)}}
}

// TestPullRecordDiff reads a fake legacy TP-Link twice, with its DHCP DNS
// switched to a published attacker address in between, the way the
// DNS-changer code does: the second reading says what changed, graded
// critical, the policy finding fails critical, and the store holds both
// snapshots, the change event and both audits, and not the password.
func TestPullRecordDiff(t *testing.T) {
	r := router(t)
	dbPath := filepath.Join(t.TempDir(), "store.db")
	st, err := sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dev := store.Device{ID: "home-router", Address: r.Addr().Addr().String(), Adapter: "tplink-legacy"}
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

	snap, err := configaudit.Pull(t.Context(), pullOpts(r, password))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Adapter != "tplink-legacy" || !snap.Config.DHCPDNS.Known {
		t.Fatalf("first pull: adapter %q, DHCP DNS %+v", snap.Adapter, snap.Config.DHCPDNS)
	}
	first, err := configaudit.Record(t.Context(), configaudit.RecordOptions{Store: st, Device: dev, Snapshot: snap, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if first.PreviousID != 0 || first.Meta.ID == 0 || !strings.HasPrefix(first.Report().Verdict.Headline, "First reading") {
		t.Errorf("first reading: previous %d, stored %d, headline %q", first.PreviousID, first.Meta.ID, first.Report().Verdict.Headline)
	}
	if _, err := st.SetBaseline(t.Context(), store.Baseline{DeviceID: dev.ID, SnapshotID: first.Meta.ID}); err != nil {
		t.Fatal(err)
	}

	old := r.State().DHCP.DNS1
	r.SetState(func(s *tplinktest.State) { s.DHCP.DNS1 = attacker })
	snap2, err := configaudit.Pull(t.Context(), pullOpts(r, password))
	if err != nil {
		t.Fatal(err)
	}
	second, err := configaudit.Record(t.Context(), configaudit.RecordOptions{Store: st, Device: dev, Snapshot: snap2, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Changes) != 1 {
		t.Fatalf("changes %+v, want one", second.Changes)
	}
	c := second.Changes[0]
	wantOld := old
	if old == "0.0.0.0" {
		wantOld = "192.168.1.1" // the router hands out itself
	}
	want := "DHCP DNS primary changed from " + wantOld + " to " + attacker + " — "
	if c.Severity != finding.SeverityCritical || !strings.HasPrefix(c.Sentence(), want) || !strings.Contains(c.Sentence(), "published attacker address") {
		t.Errorf("change %s: %q, want critical, %q…", c.Severity, c.Sentence(), want)
	}
	var dhcp *finding.Finding
	for i, f := range second.Findings {
		if f.CheckID == "config.dhcp_dns_not_allowed" {
			dhcp = &second.Findings[i]
		}
	}
	if dhcp == nil || dhcp.Status != finding.StatusFail || dhcp.Severity != finding.SeverityCritical {
		t.Errorf("dhcp finding %+v, want fail critical", dhcp)
	}
	if n, _ := st.CountSnapshots(t.Context(), dev.ID); n != 2 {
		t.Errorf("%d snapshots stored, want 2", n)
	}
	evs, err := st.ChangeEvents(t.Context(), dev.ID, store.Page{})
	if err != nil || len(evs) != 1 || evs[0].FromSnapshot != first.Meta.ID || evs[0].ToSnapshot != second.Meta.ID {
		t.Errorf("change events %+v, %v", evs, err)
	}
	audits, err := st.Audits(t.Context(), store.AuditFilter{DeviceID: dev.ID, Kind: configaudit.AuditKind}, store.Page{})
	if err != nil || len(audits) != 2 || audits[0].Failing == 0 {
		t.Errorf("audits %+v, %v", audits, err)
	}
	st.Close()
	for _, name := range []string{dbPath, dbPath + "-wal"} {
		if b, err := os.ReadFile(name); err == nil && bytes.Contains(b, []byte(password)) {
			t.Errorf("%s holds the router password", name)
		}
	}
}

func TestPullErrors(t *testing.T) {
	r := router(t)
	if _, err := configaudit.Pull(t.Context(), pullOpts(r, "wrong")); !errors.Is(err, device.ErrAuth) {
		t.Errorf("wrong password: %v, want ErrAuth", err)
	}
	o := pullOpts(r, password)
	o.Adapter = "no-such-adapter"
	if _, err := configaudit.Pull(t.Context(), o); !errors.Is(err, configaudit.ErrUnknownAdapter) {
		t.Errorf("unknown adapter: %v", err)
	}
	if _, err := configaudit.Pull(t.Context(), configaudit.PullOptions{}); err == nil {
		t.Error("no target accepted")
	}
	_ = netip.Addr{}
}
