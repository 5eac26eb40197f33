// SPDX-License-Identifier: Apache-2.0

package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/store/storetest"
)

// class names an error's class in the store contract.
func class(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{{store.ErrInvalid, "invalid"}, {store.ErrNotFound, "not found"}, {store.ErrConflict, "conflict"}} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

// TestSameAsSQLite gives the SQLite store and this one the same odd
// inputs (identifiers at and past the rules, free text with bytes that
// are not text, times at the edges of what is kept, addresses of every
// form) and compares what each accepts, refuses, and reads back, and in
// which order it lists.
func TestSameAsSQLite(t *testing.T) {
	ctx := t.Context()
	pg, _ := openT(t)
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	stores := map[string]store.Store{"sqlite": lite, "postgres": pg}
	// same calls fn on both stores and compares the results' classes and
	// their JSON (with the times each store sets itself left out).
	var calls, refused int
	defer func() { t.Logf("%d calls compared, %d of them refused by both", calls, refused) }()
	same := func(what string, fn func(s store.Store) (any, error)) {
		t.Helper()
		calls++
		got := map[string]string{}
		for name, s := range stores {
			v, err := fn(s)
			out := class(err)
			if err == nil {
				b, _ := json.Marshal(v)
				out += " " + stripClock(string(b))
			}
			got[name] = out
		}
		if !strings.HasPrefix(got["sqlite"], "ok") {
			refused++
		}
		if got["sqlite"] != got["postgres"] {
			t.Errorf("%s:\n  sqlite:   %s\n  postgres: %s", what, got["sqlite"], got["postgres"])
		}
	}

	ids := []string{"", "a", "A", "Z", "_", "a b", " lead", "ä", "ü-Ünï", "日本", "a\u200bb", "a\u2028b", "a\u0085b",
		"a\x00b", "a\nb", "a\x7fb", "\xff", "caf\xe9", strings.Repeat("x", store.MaxIDLen), strings.Repeat("x", store.MaxIDLen+1),
		strings.Repeat("é", store.MaxIDLen/2), strings.Repeat("é", store.MaxIDLen/2) + "x", "emoji-😀"}
	texts := []string{"", "plain", "caf\xe9\x00bar", "\x00", "tab\tnew\nline", "\u202egnirts", strings.Repeat("t", store.MaxTextLen),
		strings.Repeat("t", store.MaxTextLen+1), "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 past U+10FFFF"}
	for _, id := range ids {
		same(fmt.Sprintf("PutDevice(ID %q)", id), func(s store.Store) (any, error) { return s.PutDevice(ctx, store.Device{ID: id}) })
		same(fmt.Sprintf("PutSite(ID %q)", id), func(s store.Store) (any, error) { return s.PutSite(ctx, store.Site{ID: id, Name: "n"}) })
		same(fmt.Sprintf("CreateOrg(ID %q)", id), func(s store.Store) (any, error) { return s.CreateOrg(ctx, store.Org{ID: id, Name: "n"}) })
		same(fmt.Sprintf("CreateUser(%q)", id), func(s store.Store) (any, error) {
			u, err := s.CreateUser(ctx, store.User{Name: id, Role: store.RoleViewer, PasswordHash: storetest.PHC("x")})
			u.ID = 0
			return u, err
		})
		same(fmt.Sprintf("ReconcileAlerts(kind %q)", id), func(s store.Store) (any, error) {
			r, err := s.ReconcileAlerts(ctx, "a", id, time.Unix(1, 0), []store.Problem{{Key: id}})
			return len(r.Opened), err
		})
	}
	same("Devices, in order", func(s store.Store) (any, error) { return s.Devices(ctx) })
	same("Sites, in order", func(s store.Store) (any, error) { return s.Sites(ctx) })
	same("Orgs, in order", func(s store.Store) (any, error) { return s.Orgs(ctx) })
	same("Users, in order", func(s store.Store) (any, error) {
		us, err := s.Users(ctx, store.Page{Limit: store.MaxLimit})
		for i := range us {
			us[i].ID = 0
		}
		return us, err
	})
	for i, txt := range texts {
		same(fmt.Sprintf("PutDevice(label %d)", i), func(s store.Store) (any, error) {
			return s.PutDevice(ctx, store.Device{ID: fmt.Sprint("t", i), Label: txt, Address: txt})
		})
		same(fmt.Sprintf("AppendAuditLog(detail %d)", i), func(s store.Store) (any, error) {
			e, err := s.AppendAuditLog(ctx, store.AuditEntry{Actor: "a" + txt, Action: "x", Object: txt, Detail: txt, At: time.Unix(1, 0)})
			e.ID = 0
			return e, err
		})
	}
	times := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.FixedZone("far east", 14*3600)),
		time.Date(2026, 3, 29, 2, 30, 0, 123456789, time.FixedZone("odd", -(9*3600+30*60))),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for i, at := range times {
		same(fmt.Sprintf("PutSnapshot(TakenAt %v)", at), func(s store.Store) (any, error) {
			m, err := s.PutSnapshot(ctx, "a", &device.Snapshot{Adapter: "x", TakenAt: at})
			if err != nil {
				return nil, err
			}
			got, err := s.Snapshot(ctx, m.ID)
			return got.Snapshot.TakenAt, err
		})
		same(fmt.Sprintf("PutAudit(At %v)", at), func(s store.Store) (any, error) {
			a, err := s.PutAudit(ctx, store.Audit{Kind: "k", At: at, Verdict: fmt.Sprint(i)})
			if err != nil || at.IsZero() {
				return nil, err
			}
			got, err := s.Audit(ctx, a.ID)
			return got.At, err
		})
		same(fmt.Sprintf("CreateSession(ExpiresAt %v)", at), func(s store.Store) (any, error) {
			u, _ := s.UserByLogin(ctx, "a")
			se, err := s.CreateSession(ctx, store.Session{ID: storetest.Hash(fmt.Sprint("session", i)), UserID: u.ID, CreatedAt: time.Unix(5, 0), ExpiresAt: at})
			if err != nil {
				return nil, err
			}
			got, err := s.Session(ctx, se.ID)
			got.UserID = 0
			return got, err
		})
	}
	addrs := []string{"192.0.2.1", "::ffff:192.0.2.2", "2001:db8::1", "fe80::1%eth0", "::", "0.0.0.0", "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	sc, err1 := lite.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("::/0")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
	sc2, err2 := pg.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("::/0")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	runs := map[store.Store]int64{}
	for s, scope := range map[store.Store]int64{lite: sc.ID, pg: sc2.ID} {
		r, err := s.StartRangeRun(ctx, scope, time.Unix(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		runs[s] = r.ID
	}
	for _, a := range addrs {
		same("PutSite(public address "+a+")", func(s store.Store) (any, error) {
			return s.PutSite(ctx, store.Site{ID: "addr", Name: "n", PublicAddr: netip.MustParseAddr(a)})
		})
		same("PutRangeRecords("+a+")", func(s store.Store) (any, error) {
			addr := netip.MustParseAddr(a)
			prefix := netip.PrefixFrom(addr.Unmap().WithZone(""), addr.Unmap().BitLen())
			err := s.PutRangeRecords(ctx, runs[s], []store.RangeRecord{{Address: addr, Prefix: prefix, At: time.Unix(1, 0)}})
			return nil, err
		})
	}
	same("RangeRecords, in order", func(s store.Store) (any, error) {
		rs, err := s.RangeRecords(ctx, runs[s], netip.Prefix{}, store.Page{})
		for i := range rs {
			rs[i].RunID = 0
		}
		return rs, err
	})
	for _, within := range []string{"0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96", "192.0.2.0/24", "2001:db8::/32"} {
		same("RangeDone within "+within, func(s store.Store) (any, error) {
			return s.RangeDone(ctx, runs[s], netip.MustParsePrefix(within))
		})
	}
	same("RangeSummary", func(s store.Store) (any, error) { return s.RangeSummary(ctx, runs[s]) })
	for _, rate := range []float64{0, -1, 1e-300, 1, store.MaxRangeRate, store.MaxRangeRate * 2} {
		same(fmt.Sprint("CreateRangeScope(rate ", rate, ")"), func(s store.Store) (any, error) {
			sc, err := s.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Owner: "o", Reason: "r", PerPrefixRate: rate})
			if err != nil {
				return nil, err
			}
			got, err := s.RangeScope(ctx, sc.ID)
			return got.PerPrefixRate, err
		})
	}
	for _, d := range []time.Duration{-1, 0, 1, time.Hour + 1, store.MaxSchedule, store.MaxSchedule + 1} {
		same(fmt.Sprint("PutSite(schedule ", int64(d), ")"), func(s store.Store) (any, error) {
			return s.PutSite(ctx, store.Site{ID: "sched", Name: "n", Schedule: d})
		})
	}
	for _, b := range [][]byte{nil, {}, {0}, []byte("\xff\xfe"), make([]byte, store.MaxStateBytes), make([]byte, store.MaxStateBytes+1)} {
		same(fmt.Sprintf("PutState(%d bytes)", len(b)), func(s store.Store) (any, error) {
			if err := s.PutState(ctx, "blob", b); err != nil {
				return nil, err
			}
			got, err := s.State(ctx, "blob")
			return fmt.Sprintf("%d %x", len(got), got[:min(len(got), 4)]), err
		})
	}
}

// stripClock removes the times a store sets from its own clock
// (created_at, updated_at, stored_at) from a record's JSON.
func stripClock(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	var strip func(v any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"created_at", "updated_at", "stored_at"} {
				delete(x, k)
			}
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	b, _ := json.Marshal(strip(v))
	return string(b)
}
