// SPDX-License-Identifier: Apache-2.0

package configaudit_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/netx"
)

func fixOpts(r *tplinktest.Router, plan []configaudit.Planned) configaudit.FixOptions {
	return configaudit.FixOptions{Target: r.Addr().Addr(), Port: r.Addr().Port(), Adapter: "tplink-legacy",
		Credentials: device.Credentials{User: user, Password: config.NewSecret(password)}, Plan: plan}
}

func hijacked(t *testing.T) (*tplinktest.Router, *device.Snapshot) {
	t.Helper()
	r := router(t)
	r.SetState(func(s *tplinktest.State) {
		s.DHCP.DNS1 = attacker
		s.Manage.IP = "255.255.255.255"
	})
	snap, err := configaudit.Pull(t.Context(), pullOpts(r, password))
	if err != nil {
		t.Fatal(err)
	}
	return r, snap
}

// TestFix: the dry run lists the exact changes; applying them keeps a
// backup first, and the settings read back show them.
func TestFix(t *testing.T) {
	r, snap := hijacked(t)
	router := []netip.Addr{}
	plan := configaudit.PlanFix(&snap.Config, configaudit.FixRequest{DHCPDNS: &router, RemoteOff: true, UPnPOff: true})
	var words []string
	for _, p := range plan {
		words = append(words, p.Words)
	}
	want := "DHCP DNS: " + attacker + " → the router itself; remote management of web: on → off; upnp: on → off"
	if got := strings.Join(words, "; "); got != want {
		t.Fatalf("plan %q, want %q", got, want)
	}
	var backup []byte
	o := fixOpts(r, plan)
	o.SaveBackup = func(b []byte) error { backup = b; return nil }
	res, err := configaudit.ApplyFix(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(backup) == 0 || res.Restored || len(res.Applied) != 3 {
		t.Errorf("backup %d bytes, restored %v, applied %d", len(backup), res.Restored, len(res.Applied))
	}
	st := r.State()
	if st.DHCP.DNS1 != "0.0.0.0" || st.Manage.IP != "0.0.0.0" || st.UPnP {
		t.Errorf("router after fix: DHCP DNS %s, remote %s, UPnP %v", st.DHCP.DNS1, st.Manage.IP, st.UPnP)
	}
	// Fixing again: nothing left to change.
	again, err := configaudit.Pull(t.Context(), pullOpts(r, password))
	if err != nil {
		t.Fatal(err)
	}
	if p := configaudit.PlanFix(&again.Config, configaudit.FixRequest{DHCPDNS: &router, RemoteOff: true, UPnPOff: true}); len(p) != 0 {
		t.Errorf("after the fix, still planned: %+v", p)
	}
	if _, err := configaudit.ApplyFix(t.Context(), fixOpts(r, nil)); !errors.Is(err, configaudit.ErrNothingToFix) {
		t.Errorf("empty plan: %v", err)
	}
}

// liar applies another resolver than the one asked: the read-back does
// not show the change.
type liar struct{ *tplink.Legacy }

func (l liar) Apply(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, s []device.Setting) error {
	bad := append([]device.Setting(nil), s...)
	for i := range bad {
		if bad[i].Path == "dhcp_dns" {
			bad[i].DNS = []netip.Addr{netip.MustParseAddr("198.51.100.99")}
		}
	}
	return l.Legacy.Apply(ctx, d, t, c, bad)
}

// TestFixRestoresOnVerifyFailure: a change that does not read back puts
// the backup back, and the router is as it was before the fix.
func TestFixRestoresOnVerifyFailure(t *testing.T) {
	r, snap := hijacked(t)
	before := r.State()
	router := []netip.Addr{}
	o := fixOpts(r, configaudit.PlanFix(&snap.Config, configaudit.FixRequest{DHCPDNS: &router}))
	o.Fixer = liar{&tplink.Legacy{}}
	res, err := configaudit.ApplyFix(t.Context(), o)
	if !errors.Is(err, configaudit.ErrVerify) || res == nil || !res.Restored || len(res.NotDone) != 1 {
		t.Fatalf("ApplyFix = %+v, %v; want ErrVerify with the backup restored", res, err)
	}
	// The settings are back (the fake's "reboot needed" flag records that
	// Saves happened, which a restore does not undo).
	after := r.State()
	after.DHCP.RebootNeeded = before.DHCP.RebootNeeded
	if after.DHCP != before.DHCP {
		t.Errorf("DHCP after the restore %+v, want %+v", after.DHCP, before.DHCP)
	}
}
