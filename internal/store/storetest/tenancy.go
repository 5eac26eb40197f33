// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// tenancyTests are the suite's tests of organisations and what belongs
// to them.
var tenancyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Orgs", testOrgs},
	{"Sites", testSites},
	{"SiteInvalid", testSiteInvalid},
	{"Users", testUsers},
	{"UserInvalid", testUserInvalid},
	{"Tokens", testTokens},
	{"TokenInvalid", testTokenInvalid},
	{"Sessions", testSessions},
	{"AuditLog", testAuditLog},
	{"AuditLogInTransaction", testAuditLogInTransaction},
	{"AlertAckSuppress", testAlertAckSuppress},
	{"RangeScopes", testRangeScopes},
	{"RangeScopeInvalid", testRangeScopeInvalid},
	{"RangeRuns", testRangeRuns},
	{"RangeRecords", testRangeRecords},
	{"RangeRecordInvalid", testRangeRecordInvalid},
	{"RangeExport", testRangeExport},
	{"OrgIsolation", testOrgIsolation},
	{"UnknownOrg", testUnknownOrg},
	{"ConcurrentLogins", testConcurrentLogins},
	{"ConcurrentRangeBatches", testConcurrentRangeBatches},
}

// Hash returns the SHA-256 of s: what internal/auth stores of a secret.
func Hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// PHC returns an argon2id PHC string (not the hash of anything: the store
// only checks its shape).
func PHC(salt string) string {
	return "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$c29tZWhhc2hzb21laGFzaHNvbWVoYXNo"
}

func mustSite(t *testing.T, s store.Tenant, id string) store.Site {
	t.Helper()
	st, err := s.PutSite(ctx(t), store.Site{ID: id, Name: "site " + id})
	if err != nil {
		t.Fatalf("PutSite(%q): %v", id, err)
	}
	return st
}

func mustOrg(t *testing.T, s store.Store, id string) store.Tenant {
	t.Helper()
	if _, err := s.CreateOrg(ctx(t), store.Org{ID: id, Name: "Org " + id}); err != nil {
		t.Fatalf("CreateOrg(%q): %v", id, err)
	}
	return s.ForOrg(id)
}

func mustUser(t *testing.T, s store.Tenant, name string, role store.Role) store.User {
	t.Helper()
	u, err := s.CreateUser(ctx(t), store.User{Name: name, Role: role, PasswordHash: PHC(name)})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func mustToken(t *testing.T, s store.Tenant, prefix string) store.Token {
	t.Helper()
	tok, err := s.CreateToken(ctx(t), store.Token{Name: "token " + prefix, Role: store.RoleViewer, Hash: Hash("secret-" + prefix), Prefix: prefix})
	if err != nil {
		t.Fatalf("CreateToken(%q): %v", prefix, err)
	}
	return tok
}

func mustScope(t *testing.T, s store.Tenant, prefixes ...string) store.RangeScope {
	t.Helper()
	sc := store.RangeScope{Owner: "Example ISP", Reason: "notify customers after the 2026 campaign", CreatedBy: "user 1 alice", PerPrefixRate: 10}
	for _, p := range prefixes {
		sc.Prefixes = append(sc.Prefixes, netip.MustParsePrefix(p))
	}
	got, err := s.CreateRangeScope(ctx(t), sc)
	if err != nil {
		t.Fatalf("CreateRangeScope: %v", err)
	}
	return got
}

func testOrgs(t *testing.T, s store.Store) {
	c := ctx(t)
	if s.OrgID() != store.DefaultOrg {
		t.Errorf("a Store's own organisation is %q, want %q", s.OrgID(), store.DefaultOrg)
	}
	def, err := s.Org(c, store.DefaultOrg)
	if err != nil || def.ID != store.DefaultOrg || def.Name == "" || def.CreatedAt.IsZero() {
		t.Errorf("the default organisation = %+v, %v; want it there, named", def, err)
	}
	before := time.Now().Add(-time.Second)
	acme, err := s.CreateOrg(c, store.Org{ID: "acme", Name: "ACME Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	if acme.ID != "acme" || acme.Name != "ACME Ltd" || acme.CreatedAt.Before(before) || acme.CreatedAt.Location() != time.UTC {
		t.Errorf("CreateOrg = %+v", acme)
	}
	if got, err := s.Org(c, "acme"); err != nil || got != acme {
		t.Errorf("Org(acme) = %+v, %v; want %+v", got, err, acme)
	}
	if _, err := s.CreateOrg(c, store.Org{ID: "beta", Name: "Beta"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateOrg(c, store.Org{ID: "acme", Name: "another ACME"})
	wantErr(t, "CreateOrg with a taken ID", err, store.ErrConflict)
	if got, _ := s.Org(c, "acme"); got.Name != "ACME Ltd" {
		t.Errorf("a refused CreateOrg renamed the organisation to %q", got.Name)
	}
	orgs, err := s.Orgs(c)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	if want := []string{"acme", "beta", store.DefaultOrg}; !slices.Equal(ids, want) {
		t.Errorf("Orgs = %q, want %q (by ID)", ids, want)
	}
	_, err = s.Org(c, "nobody")
	wantErr(t, "Org(unknown)", err, store.ErrNotFound)
	for _, tc := range []struct {
		name string
		o    store.Org
	}{
		{"empty ID", store.Org{Name: "x"}},
		{"control character in ID", store.Org{ID: "a\nb", Name: "x"}},
		{"no name", store.Org{ID: "noname"}},
		{"blank name", store.Org{ID: "blank", Name: "  "}},
	} {
		_, err := s.CreateOrg(c, tc.o)
		wantErr(t, "CreateOrg "+tc.name, err, store.ErrInvalid)
	}
	_, err = s.Org(c, "")
	wantErr(t, "Org(\"\")", err, store.ErrInvalid)
}

func testSites(t *testing.T, s store.Store) {
	c := ctx(t)
	if sites, err := s.Sites(c); err != nil || len(sites) != 0 {
		t.Fatalf("Sites on an empty store = %v, %v", sites, err)
	}
	in := store.Site{ID: "office-b", Name: "Office B", PublicAddr: netip.MustParseAddr("203.0.113.7"), Schedule: 15 * time.Minute}
	got, err := s.PutSite(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrgID != store.DefaultOrg || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) || got.PublicAddr != in.PublicAddr || got.Schedule != in.Schedule {
		t.Errorf("PutSite = %+v", got)
	}
	if read, err := s.Site(c, "office-b"); err != nil || read != got {
		t.Errorf("Site = %+v, %v; want %+v", read, err, got)
	}
	time.Sleep(2 * time.Millisecond)
	in.Name, in.PublicAddr, in.Schedule = "Office B (moved)", netip.MustParseAddr("2001:db8::7"), time.Hour+time.Nanosecond
	upd, err := s.PutSite(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if !upd.CreatedAt.Equal(got.CreatedAt) || !upd.UpdatedAt.After(got.UpdatedAt) || upd.Name != in.Name || upd.PublicAddr != in.PublicAddr || upd.Schedule != in.Schedule {
		t.Errorf("updated site = %+v; want CreatedAt kept, the new fields", upd)
	}
	if read, _ := s.Site(c, "office-b"); read != upd {
		t.Errorf("updated site read back = %+v, want %+v", read, upd)
	}
	bare, err := s.PutSite(c, store.Site{ID: "a-site", Name: "A", OrgID: store.DefaultOrg})
	if err != nil {
		t.Fatal(err)
	}
	if read, _ := s.Site(c, "a-site"); read.PublicAddr.IsValid() || read.Schedule != 0 || read != bare {
		t.Errorf("site without an address or schedule read back as %+v", read)
	}
	sites, err := s.Sites(c)
	if err != nil || len(sites) != 2 || sites[0].ID != "a-site" || sites[1] != upd {
		t.Errorf("Sites = %+v, %v; want a-site then office-b", sites, err)
	}
	// A device at the site.
	d, err := s.PutDevice(c, store.Device{ID: "r", Site: "office-b"})
	if err != nil || d.Site != "office-b" {
		t.Fatalf("PutDevice at a site = %+v, %v", d, err)
	}
	if got, _ := s.Device(c, "r"); got.Site != "office-b" {
		t.Errorf("device read back at site %q", got.Site)
	}
	_, err = s.Site(c, "nowhere")
	wantErr(t, "Site(unknown)", err, store.ErrNotFound)
}

func testSiteInvalid(t *testing.T, s store.Store) {
	const secret = "hunter2-secret"
	for _, tc := range []struct {
		name string
		site store.Site
	}{
		{"empty ID", store.Site{Name: "x"}},
		{"control character in ID", store.Site{ID: "x\x1b" + secret, Name: "x"}},
		{"no name", store.Site{ID: "x"}},
		{"address with a zone", store.Site{ID: "x", Name: "x", PublicAddr: netip.MustParseAddr("fe80::1%eth0")}},
		{"negative schedule", store.Site{ID: "x", Name: "x", Schedule: -time.Second}},
		{"schedule too long", store.Site{ID: "x", Name: "x", Schedule: store.MaxSchedule + 1}},
		{"another organisation's", store.Site{ID: "x", Name: "x", OrgID: "acme"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PutSite(ctx(t), tc.site)
			wantErr(t, "PutSite", err, store.ErrInvalid)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("the error %q repeats the value", err)
			}
		})
	}
	if sites, _ := s.Sites(ctx(t)); len(sites) != 0 {
		t.Errorf("refused sites were stored: %+v", sites)
	}
}

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	before := time.Now().Add(-time.Second)
	alice, err := s.CreateUser(c, store.User{Name: "Alice", Role: store.RoleAdmin, PasswordHash: PHC("a")})
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID <= 0 || alice.OrgID != store.DefaultOrg || alice.Name != "Alice" || alice.Role != store.RoleAdmin ||
		alice.PasswordHash != PHC("a") || alice.Disabled || alice.CreatedAt.Before(before) || !alice.LastLogin.IsZero() {
		t.Errorf("CreateUser = %+v", alice)
	}
	bob := mustUser(t, s, "bob", store.RoleViewer)
	if got, err := s.User(c, alice.ID); err != nil || got != alice {
		t.Errorf("User = %+v, %v; want %+v", got, err, alice)
	}
	for _, login := range []string{"Alice", "alice", "ALICE"} {
		if got, err := s.UserByLogin(c, login); err != nil || got != alice {
			t.Errorf("UserByLogin(%q) = %+v, %v; want alice", login, got, err)
		}
	}
	if got, err := s.UserByID(c, bob.ID); err != nil || got != bob {
		t.Errorf("UserByID = %+v, %v", got, err)
	}
	// Login names are global and compared without ASCII case, in any
	// organisation.
	acme := mustOrg(t, s, "acme")
	for _, name := range []string{"alice", "BOB"} {
		_, err := acme.CreateUser(c, store.User{Name: name, Role: store.RoleViewer, PasswordHash: PHC("x")})
		wantErr(t, "CreateUser with a taken login name in another organisation", err, store.ErrConflict)
		_, err = s.CreateUser(c, store.User{Name: name, Role: store.RoleViewer, PasswordHash: PHC("x")})
		wantErr(t, "CreateUser with a taken login name", err, store.ErrConflict)
	}
	carol := mustUser(t, acme, "carol", store.RoleOperator)
	if got, err := s.UserByLogin(c, "carol"); err != nil || got.OrgID != "acme" || got.ID != carol.ID {
		t.Errorf("UserByLogin of another organisation's user = %+v, %v; want it, naming acme", got, err)
	}
	// Non-ASCII letters are not folded: two names.
	if _, err := s.CreateUser(c, store.User{Name: "Ünal", Role: store.RoleViewer, PasswordHash: PHC("u")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(c, store.User{Name: "ünal", Role: store.RoleViewer, PasswordHash: PHC("u")}); err != nil {
		t.Errorf("a name that differs in a non-ASCII letter's case: %v", err)
	}
	users, err := s.Users(c, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if want := []string{"Alice", "bob", "Ünal", "ünal"}; !slices.Equal(names, want) {
		t.Errorf("Users = %q, want %q (by login name, this organisation only)", names, want)
	}
	if page, _ := s.Users(c, store.Page{Limit: 1, Offset: 1}); len(page) != 1 || page[0].ID != bob.ID {
		t.Errorf("second page of one = %+v, want bob", page)
	}
	// Updates: each field alone.
	up, err := s.UpdateUser(c, bob.ID, store.UserUpdate{Role: store.RoleOperator})
	if err != nil || up.Role != store.RoleOperator || up.PasswordHash != bob.PasswordHash || up.Disabled {
		t.Errorf("UpdateUser(role) = %+v, %v", up, err)
	}
	up, err = s.UpdateUser(c, bob.ID, store.UserUpdate{PasswordHash: PHC("new")})
	if err != nil || up.PasswordHash != PHC("new") || up.Role != store.RoleOperator {
		t.Errorf("UpdateUser(hash) = %+v, %v", up, err)
	}
	yes, no := true, false
	up, err = s.UpdateUser(c, bob.ID, store.UserUpdate{Disabled: &yes})
	if err != nil || !up.Disabled {
		t.Errorf("UpdateUser(disable) = %+v, %v", up, err)
	}
	if got, _ := s.UserByLogin(c, "bob"); !got.Disabled || got.PasswordHash != PHC("new") || got.Role != store.RoleOperator {
		t.Errorf("UserByLogin after updates = %+v", got)
	}
	if up, _ = s.UpdateUser(c, bob.ID, store.UserUpdate{Disabled: &no}); up.Disabled {
		t.Error("UpdateUser(enable) left the user disabled")
	}
	// Logins.
	at := base.Add(time.Hour)
	if err := s.RecordLogin(c, alice.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(c, alice.ID); !got.LastLogin.Equal(store.Timestamp(at)) {
		t.Errorf("LastLogin = %v, want %v", got.LastLogin, store.Timestamp(at))
	}
	wantErr(t, "RecordLogin of an unknown user", s.RecordLogin(c, 999999, at), store.ErrNotFound)
	_, err = s.User(c, 999999)
	wantErr(t, "User(unknown)", err, store.ErrNotFound)
	_, err = s.UserByLogin(c, "nobody")
	wantErr(t, "UserByLogin(unknown)", err, store.ErrNotFound)
	_, err = s.UpdateUser(c, 999999, store.UserUpdate{Role: store.RoleAdmin})
	wantErr(t, "UpdateUser(unknown)", err, store.ErrNotFound)
}

func testUserInvalid(t *testing.T, s store.Store) {
	const password = "correct horse battery staple"
	u := mustUser(t, s, "alice", store.RoleAdmin)
	for _, tc := range []struct {
		name string
		u    store.User
	}{
		{"a password instead of a hash", store.User{Name: "x", Role: store.RoleViewer, PasswordHash: password}},
		{"a bcrypt hash", store.User{Name: "x", Role: store.RoleViewer, PasswordHash: "$2b$12$" + password}},
		{"a hash with a space", store.User{Name: "x", Role: store.RoleViewer, PasswordHash: PHC(password)}},
		{"a hash too long", store.User{Name: "x", Role: store.RoleViewer, PasswordHash: PHC(strings.Repeat("s", store.MaxPasswordHashLen))}},
		{"no hash", store.User{Name: "x", Role: store.RoleViewer}},
		{"no login name", store.User{Role: store.RoleViewer, PasswordHash: PHC("x")}},
		{"newline in login name", store.User{Name: "x\ny", Role: store.RoleViewer, PasswordHash: PHC("x")}},
		{"no role", store.User{Name: "x", PasswordHash: PHC("x")}},
		{"the agent role", store.User{Name: "x", Role: store.RoleAgent, PasswordHash: PHC("x")}},
		{"an unknown role", store.User{Name: "x", Role: "root", PasswordHash: PHC("x")}},
		{"another organisation's", store.User{OrgID: "acme", Name: "x", Role: store.RoleViewer, PasswordHash: PHC("x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx(t), tc.u)
			wantErr(t, "CreateUser", err, store.ErrInvalid)
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("the error %q repeats the password", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		up   store.UserUpdate
	}{
		{"a password instead of a hash", store.UserUpdate{PasswordHash: password}},
		{"an unknown role", store.UserUpdate{Role: "root"}},
	} {
		_, err := s.UpdateUser(ctx(t), u.ID, tc.up)
		wantErr(t, "UpdateUser with "+tc.name, err, store.ErrInvalid)
		if err != nil && strings.Contains(err.Error(), password) {
			t.Errorf("the error %q repeats the password", err)
		}
	}
	if got, _ := s.User(ctx(t), u.ID); got != u {
		t.Errorf("refused updates changed the user: %+v", got)
	}
	if users, _ := s.Users(ctx(t), store.Page{}); len(users) != 1 {
		t.Errorf("refused users were stored: %+v", users)
	}
}

func testTokens(t *testing.T, s store.Store) {
	c := ctx(t)
	mustSite(t, s, "office")
	before := time.Now().Add(-time.Second)
	exp := base.Add(24 * time.Hour)
	in := store.Token{Name: "nightly export", Role: store.RoleViewer, Hash: Hash("s1"), Prefix: "rw1a2b", CreatedBy: "user 1 alice", ExpiresAt: exp}
	tok, err := s.CreateToken(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID <= 0 || tok.OrgID != store.DefaultOrg || tok.Name != in.Name || tok.Role != in.Role || string(tok.Hash) != string(in.Hash) ||
		tok.Prefix != in.Prefix || tok.CreatedBy != in.CreatedBy || tok.CreatedAt.Before(before) || !tok.ExpiresAt.Equal(store.Timestamp(exp)) ||
		!tok.LastUsed.IsZero() || tok.Revoked() {
		t.Errorf("CreateToken = %+v", tok)
	}
	agent, err := s.CreateToken(c, store.Token{Name: "office agent", Role: store.RoleAgent, SiteID: "office", Hash: Hash("s2"), Prefix: "rw3c4d"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token(c, agent.ID); err != nil || got.SiteID != "office" || got.Role != store.RoleAgent || !got.ExpiresAt.IsZero() {
		t.Errorf("agent token read back as %+v, %v", got, err)
	}
	got, err := s.TokenByPrefix(c, "rw1a2b")
	if err != nil || !equalTokens(got, tok) {
		t.Errorf("TokenByPrefix = %+v, %v; want %+v", got, err, tok)
	}
	if !got.Usable(base) || got.Usable(exp) || !got.Expired(exp.Add(time.Second)) {
		t.Errorf("token expiring at %v: Usable(%v) %v, Usable(%v) %v", exp, base, got.Usable(base), exp, got.Usable(exp))
	}
	// Taken prefix or hash.
	_, err = s.CreateToken(c, store.Token{Name: "x", Role: store.RoleViewer, Hash: Hash("s3"), Prefix: "rw1a2b"})
	wantErr(t, "CreateToken with a taken prefix", err, store.ErrConflict)
	_, err = s.CreateToken(c, store.Token{Name: "x", Role: store.RoleViewer, Hash: Hash("s1"), Prefix: "rw9999"})
	wantErr(t, "CreateToken with a taken hash", err, store.ErrConflict)
	_, err = s.CreateToken(c, store.Token{Name: "x", Role: store.RoleAgent, SiteID: "nowhere", Hash: Hash("s4"), Prefix: "rw5e6f"})
	wantErr(t, "CreateToken for an unknown site", err, store.ErrNotFound)
	// Touch and revoke.
	used := base.Add(time.Minute)
	if err := s.TouchToken(c, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	r1, err := s.RevokeToken(c, tok.ID, base.Add(2*time.Minute))
	if err != nil || !r1.Revoked() || !r1.RevokedAt.Equal(store.Timestamp(base.Add(2*time.Minute))) || !r1.LastUsed.Equal(store.Timestamp(used)) {
		t.Errorf("RevokeToken = %+v, %v", r1, err)
	}
	r2, err := s.RevokeToken(c, tok.ID, base.Add(time.Hour))
	if err != nil || !r2.RevokedAt.Equal(r1.RevokedAt) {
		t.Errorf("revoking again = %+v, %v; want the first time kept", r2, err)
	}
	got, err = s.TokenByPrefix(c, "rw1a2b")
	if err != nil || !got.Revoked() || got.Usable(base) {
		t.Errorf("TokenByPrefix of a revoked token = %+v, %v; want it, revoked", got, err)
	}
	list, err := s.Tokens(c, store.Page{})
	if err != nil || len(list) != 2 || list[0].ID != agent.ID || list[1].ID != tok.ID || !list[1].Revoked() {
		t.Errorf("Tokens = %+v, %v; want the agent's, then the revoked one", list, err)
	}
	wantErr(t, "TouchToken(unknown)", s.TouchToken(c, 999999, used), store.ErrNotFound)
	_, err = s.RevokeToken(c, 999999, used)
	wantErr(t, "RevokeToken(unknown)", err, store.ErrNotFound)
	_, err = s.TokenByPrefix(c, "rw0000")
	wantErr(t, "TokenByPrefix(unknown)", err, store.ErrNotFound)
	_, err = s.Token(c, 999999)
	wantErr(t, "Token(unknown)", err, store.ErrNotFound)
}

func equalTokens(a, b store.Token) bool {
	return string(a.Hash) == string(b.Hash) && fmt.Sprintf("%+v", withoutHash(a)) == fmt.Sprintf("%+v", withoutHash(b))
}

func withoutHash(t store.Token) store.Token { t.Hash = nil; return t }

func testTokenInvalid(t *testing.T, s store.Store) {
	mustSite(t, s, "office")
	for _, tc := range []struct {
		name string
		tok  store.Token
	}{
		{"no hash", store.Token{Name: "x", Role: store.RoleViewer, Prefix: "p1"}},
		{"the secret instead of its hash", store.Token{Name: "x", Role: store.RoleViewer, Prefix: "p1", Hash: []byte("rw_p1_secretsecretsecret")}},
		{"no prefix", store.Token{Name: "x", Role: store.RoleViewer, Hash: Hash("a")}},
		{"prefix too long", store.Token{Name: "x", Role: store.RoleViewer, Hash: Hash("a"), Prefix: strings.Repeat("p", store.MaxTokenPrefixLen+1)}},
		{"no name", store.Token{Role: store.RoleViewer, Hash: Hash("a"), Prefix: "p1"}},
		{"no role", store.Token{Name: "x", Hash: Hash("a"), Prefix: "p1"}},
		{"an agent's without a site", store.Token{Name: "x", Role: store.RoleAgent, Hash: Hash("a"), Prefix: "p1"}},
		{"a site without the agent role", store.Token{Name: "x", Role: store.RoleAdmin, SiteID: "office", Hash: Hash("a"), Prefix: "p1"}},
		{"expiry in year 10000", store.Token{Name: "x", Role: store.RoleViewer, Hash: Hash("a"), Prefix: "p1", ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"another organisation's", store.Token{OrgID: "acme", Name: "x", Role: store.RoleViewer, Hash: Hash("a"), Prefix: "p1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateToken(ctx(t), tc.tok)
			wantErr(t, "CreateToken", err, store.ErrInvalid)
			if err != nil && strings.Contains(err.Error(), "secretsecret") {
				t.Errorf("the error %q repeats the secret", err)
			}
		})
	}
	if list, _ := s.Tokens(ctx(t), store.Page{}); len(list) != 0 {
		t.Errorf("refused tokens were stored: %+v", list)
	}
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "alice", store.RoleAdmin)
	other := mustUser(t, s, "bob", store.RoleViewer)
	in := store.Session{ID: Hash("cookie-1"), UserID: u.ID, CSRFHash: Hash("csrf-1"), CreatedAt: base, ExpiresAt: base.Add(12 * time.Hour),
		RemoteAddr: netip.MustParseAddr("fe80::1%eth0")}
	se, err := s.CreateSession(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if !se.LastSeen.Equal(store.Timestamp(base)) || !se.CreatedAt.Equal(store.Timestamp(base)) {
		t.Errorf("CreateSession = %+v; want LastSeen = CreatedAt", se)
	}
	got, err := s.Session(c, Hash("cookie-1"))
	if err != nil || fmt.Sprint(got) != fmt.Sprint(se) {
		t.Errorf("Session = %+v, %v; want %+v", got, err, se)
	}
	if got.RemoteAddr != in.RemoteAddr {
		t.Errorf("remote address %v, want %v", got.RemoteAddr, in.RemoteAddr)
	}
	if got.Expired(base.Add(time.Hour)) || !got.Expired(base.Add(12*time.Hour)) {
		t.Error("Expired is wrong either side of ExpiresAt")
	}
	// A session without a CSRF hash (the caller derives the token).
	bare, err := s.CreateSession(c, store.Session{ID: Hash("cookie-2"), UserID: other.ID, ExpiresAt: base.Add(time.Hour)})
	if err != nil || bare.CreatedAt.IsZero() {
		t.Fatalf("CreateSession without CSRF = %+v, %v", bare, err)
	}
	if got, _ := s.Session(c, Hash("cookie-2")); got.CSRFHash != nil || got.RemoteAddr.IsValid() {
		t.Errorf("bare session read back as %+v", got)
	}
	_, err = s.CreateSession(c, store.Session{ID: Hash("cookie-1"), UserID: other.ID, ExpiresAt: base.Add(time.Hour)})
	wantErr(t, "CreateSession with a taken ID", err, store.ErrConflict)
	_, err = s.CreateSession(c, store.Session{ID: Hash("cookie-3"), UserID: 999999, ExpiresAt: base.Add(time.Hour)})
	wantErr(t, "CreateSession of an unknown user", err, store.ErrNotFound)
	for _, tc := range []struct {
		name string
		se   store.Session
	}{
		{"the cookie's secret instead of its hash", store.Session{ID: []byte("cookie-secret"), UserID: u.ID, ExpiresAt: base}},
		{"no expiry", store.Session{ID: Hash("x"), UserID: u.ID}},
		{"no user", store.Session{ID: Hash("x"), ExpiresAt: base}},
		{"a short CSRF hash", store.Session{ID: Hash("x"), UserID: u.ID, ExpiresAt: base, CSRFHash: []byte("csrf")}},
	} {
		_, err := s.CreateSession(c, tc.se)
		wantErr(t, "CreateSession with "+tc.name, err, store.ErrInvalid)
	}
	// Touch: sliding expiry.
	seen, exp := base.Add(time.Hour), base.Add(13*time.Hour)
	touched, err := s.TouchSession(c, Hash("cookie-1"), seen, exp)
	if err != nil || !touched.LastSeen.Equal(store.Timestamp(seen)) || !touched.ExpiresAt.Equal(store.Timestamp(exp)) || !touched.CreatedAt.Equal(se.CreatedAt) {
		t.Errorf("TouchSession = %+v, %v", touched, err)
	}
	_, err = s.TouchSession(c, Hash("nobody"), seen, exp)
	wantErr(t, "TouchSession(unknown)", err, store.ErrNotFound)
	// Expired sessions: bare expires at base+1h, the first at base+13h.
	n, err := s.DeleteExpiredSessions(c, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	_, err = s.Session(c, Hash("cookie-2"))
	wantErr(t, "Session after its expiry was swept", err, store.ErrNotFound)
	// Logout, twice.
	if err := s.DeleteSession(c, Hash("cookie-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(c, Hash("cookie-1")); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
	_, err = s.Session(c, Hash("cookie-1"))
	wantErr(t, "Session after logout", err, store.ErrNotFound)
	// Disabling a user or changing the password ends the user's
	// sessions; a role change does not.
	yes := true
	for _, tc := range []struct {
		name   string
		up     store.UserUpdate
		logout bool
	}{
		{"role change", store.UserUpdate{Role: store.RoleViewer}, false},
		{"password change", store.UserUpdate{PasswordHash: PHC("new")}, true},
		{"disabled", store.UserUpdate{Disabled: &yes}, true},
	} {
		id := Hash("cookie-" + tc.name)
		if _, err := s.CreateSession(c, store.Session{ID: id, UserID: u.ID, ExpiresAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		keep := Hash("keep-" + tc.name)
		if _, err := s.CreateSession(c, store.Session{ID: keep, UserID: other.ID, ExpiresAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(c, u.ID, tc.up); err != nil {
			t.Fatal(err)
		}
		_, err := s.Session(c, id)
		if gone := errors.Is(err, store.ErrNotFound); gone != tc.logout {
			t.Errorf("%s: session gone %v, want %v (%v)", tc.name, gone, tc.logout, err)
		}
		if _, err := s.Session(c, keep); err != nil {
			t.Errorf("%s: another user's session: %v", tc.name, err)
		}
	}
}

func testAuditLog(t *testing.T, s store.Store) {
	c := ctx(t)
	if log, err := s.AuditLog(c, store.Page{}); err != nil || len(log) != 0 {
		t.Fatalf("AuditLog of a new store = %v, %v", log, err)
	}
	e1, err := s.AppendAuditLog(c, store.AuditEntry{Actor: "user 1 alice", Action: "login", RemoteAddr: netip.MustParseAddr("198.51.100.9"), At: base})
	if err != nil {
		t.Fatal(err)
	}
	if e1.ID <= 0 || e1.OrgID != store.DefaultOrg || !e1.At.Equal(store.Timestamp(base)) {
		t.Errorf("AppendAuditLog = %+v", e1)
	}
	e2, err := s.AppendAuditLog(c, store.AuditEntry{Actor: "token 7 export", Action: "range.export", Object: "run 3", Detail: "csv\x00\xff"})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Detail != "csv\uFFFD\uFFFD" || e2.At.IsZero() {
		t.Errorf("free text or time of an entry: %+v", e2)
	}
	log, err := s.AuditLog(c, store.Page{})
	if err != nil || len(log) != 2 || log[0] != e2 || log[1] != e1 {
		t.Errorf("AuditLog = %+v, %v; want [%+v %+v]", log, err, e2, e1)
	}
	if page, _ := s.AuditLog(c, store.Page{Limit: 1, Offset: 1}); len(page) != 1 || page[0] != e1 {
		t.Errorf("second page of one = %+v", page)
	}
	for _, tc := range []struct {
		name string
		e    store.AuditEntry
	}{
		{"no actor", store.AuditEntry{Action: "login"}},
		{"no action", store.AuditEntry{Actor: "x"}},
		{"an action with a newline", store.AuditEntry{Actor: "x", Action: "a\nb"}},
		{"another organisation's", store.AuditEntry{OrgID: "acme", Actor: "x", Action: "login"}},
	} {
		_, err := s.AppendAuditLog(c, tc.e)
		wantErr(t, "AppendAuditLog with "+tc.name, err, store.ErrInvalid)
	}
}

// testAuditLogInTransaction: a change made under WithAudit has its entry
// if and only if the change is stored.
func testAuditLogInTransaction(t *testing.T, s store.Store) {
	c := ctx(t)
	actor := store.AuditEntry{Actor: "user 1 alice", Action: "site.put", Object: "site office", RemoteAddr: netip.MustParseAddr("2001:db8::9")}
	if _, err := s.PutSite(store.WithAudit(c, actor), store.Site{ID: "office", Name: "Office"}); err != nil {
		t.Fatal(err)
	}
	log, _ := s.AuditLog(c, store.Page{})
	if len(log) != 1 || log[0].Action != "site.put" || log[0].Object != "site office" || log[0].OrgID != store.DefaultOrg ||
		log[0].RemoteAddr != actor.RemoteAddr || log[0].At.IsZero() {
		t.Fatalf("after an audited PutSite the log is %+v; want its entry", log)
	}
	// A refused change leaves no entry: invalid input, an unknown
	// reference, an entry of another organisation, a conflict.
	refused := []struct {
		name string
		call func() error
	}{
		{"invalid site", func() error {
			_, err := s.PutSite(store.WithAudit(c, actor), store.Site{ID: "x"})
			return err
		}},
		{"device at an unknown site", func() error {
			_, err := s.PutDevice(store.WithAudit(c, actor), store.Device{ID: "r", Site: "nowhere"})
			return err
		}},
		{"entry of another organisation", func() error {
			e := actor
			e.OrgID = "acme"
			_, err := s.PutSite(store.WithAudit(c, e), store.Site{ID: "y", Name: "Y"})
			return err
		}},
		{"entry without an actor", func() error {
			_, err := s.PutSite(store.WithAudit(c, store.AuditEntry{Action: "site.put"}), store.Site{ID: "z", Name: "Z"})
			return err
		}},
		{"taken prefix", func() error {
			tok := store.Token{Name: "t", Role: store.RoleViewer, Hash: Hash("a"), Prefix: "p"}
			if _, err := s.CreateToken(c, tok); err != nil {
				return nil // reported below as an unexpected success
			}
			tok.Hash = Hash("b")
			_, err := s.CreateToken(store.WithAudit(c, actor), tok)
			return err
		}},
	}
	for _, tc := range refused {
		if err := tc.call(); err == nil {
			t.Errorf("%s: the write succeeded", tc.name)
		}
	}
	if _, err := s.Site(c, "y"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a write with another organisation's entry was stored (%v)", err)
	}
	if log, _ := s.AuditLog(c, store.Page{}); len(log) != 1 {
		t.Errorf("refused writes left entries: %+v", log)
	}
	// Every kind of Tenant write takes it.
	mustDevice(t, s, "r")
	m := mustSnapshot(t, s, "r", 1, base)
	ac := store.WithAudit(c, store.AuditEntry{Actor: "user 1 alice", Action: "change"})
	r, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, s, "bob", store.RoleViewer)
	sc := mustScope(t, s, "192.0.2.0/24")
	run, err := s.StartRangeRun(c, sc.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]func() error{
		"PutDevice":   func() error { _, err := s.PutDevice(ac, store.Device{ID: "r2"}); return err },
		"PutSite":     func() error { _, err := s.PutSite(ac, store.Site{ID: "s2", Name: "S2"}); return err },
		"PutSnapshot": func() error { _, err := s.PutSnapshot(ac, "r", Snapshot(2, base, 0)); return err },
		"SetBaseline": func() error { _, err := s.SetBaseline(ac, store.Baseline{DeviceID: "r", SnapshotID: m.ID}); return err },
		"PutAudit":    func() error { _, err := s.PutAudit(ac, store.Audit{Kind: "dns"}); return err },
		"PutChanges": func() error {
			_, err := s.PutChanges(ac, store.ChangeEvent{DeviceID: "r", FromSnapshot: m.ID, ToSnapshot: m.ID})
			return err
		},
		"MarkNotified":  func() error { return s.MarkNotified(ac, r.Opened[0].ID, store.AlertOpen, base) },
		"AckAlert":      func() error { _, err := s.AckAlert(ac, r.Opened[0].ID, "alice", base); return err },
		"SuppressAlert": func() error { _, err := s.SuppressAlert(ac, r.Opened[0].ID, base); return err },
		"CreateUser": func() error {
			_, err := s.CreateUser(ac, store.User{Name: "carol", Role: store.RoleViewer, PasswordHash: PHC("c")})
			return err
		},
		"UpdateUser": func() error { _, err := s.UpdateUser(ac, u.ID, store.UserUpdate{Role: store.RoleAdmin}); return err },
		"CreateToken": func() error {
			_, err := s.CreateToken(ac, store.Token{Name: "t", Role: store.RoleViewer, Hash: Hash("t2"), Prefix: "p2"})
			return err
		},
		"RevokeToken": func() error { tok, _ := s.TokenByPrefix(c, "p"); _, err := s.RevokeToken(ac, tok.ID, base); return err },
		"CreateRangeScope": func() error {
			_, err := s.CreateRangeScope(ac, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
			return err
		},
		"StartRangeRun":  func() error { _, err := s.StartRangeRun(ac, sc.ID, base); return err },
		"FinishRangeRun": func() error { _, err := s.FinishRangeRun(ac, run.ID, store.RangeDone, base); return err },
		"PutRangeRecords": func() error {
			return s.PutRangeRecords(ac, run.ID, []store.RangeRecord{rangeRecord("192.0.2.1", "192.0.2.0/24")})
		},
		"ReconcileAlerts": func() error { _, err := s.ReconcileAlerts(ac, "r", "dns", base.Add(time.Hour), nil); return err },
	}
	for name, write := range writes {
		before, _ := s.AuditLog(c, store.Page{Limit: store.MaxLimit})
		if err := write(); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		after, _ := s.AuditLog(c, store.Page{Limit: store.MaxLimit})
		if len(after) != len(before)+1 || after[0].Action != "change" {
			t.Errorf("%s under WithAudit added %d entries, want 1", name, len(after)-len(before))
		}
	}
	// CreateOrg's entry goes to the new organisation's log; AuthStore's
	// writes and PutState take none.
	if _, err := s.CreateOrg(store.WithAudit(c, store.AuditEntry{Actor: "user 1 alice", Action: "org.create"}), store.Org{ID: "acme", Name: "ACME"}); err != nil {
		t.Fatal(err)
	}
	if log, _ := s.ForOrg("acme").AuditLog(c, store.Page{}); len(log) != 1 || log[0].Action != "org.create" || log[0].OrgID != "acme" {
		t.Errorf("the new organisation's log = %+v", log)
	}
	before, _ := s.AuditLog(c, store.Page{Limit: store.MaxLimit})
	if err := s.RecordLogin(ac, u.ID, base); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState(ac, "watch", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAuditLog(ac, store.AuditEntry{Actor: "x", Action: "own"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.AuditLog(c, store.Page{Limit: store.MaxLimit}); len(after) != len(before)+1 || after[0].Action != "own" {
		t.Errorf("RecordLogin, PutState and AppendAuditLog under WithAudit added %d entries, want 1 (AppendAuditLog's own)", len(after)-len(before))
	}
}

func testAlertAckSuppress(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	r, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "a"}, {Key: "b"}, {Key: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b, cc := r.Opened[0], r.Opened[1], r.Opened[2]
	if got, err := s.Alert(c, a.ID); err != nil || got.Key != "a" || got.AckedBy != "" || !got.AckedAt.IsZero() || !got.SuppressedUntil.IsZero() {
		t.Errorf("Alert = %+v, %v", got, err)
	}
	acked, err := s.AckAlert(c, a.ID, "user 1 alice", base.Add(time.Minute))
	if err != nil || acked.AckedBy != "user 1 alice" || !acked.AckedAt.Equal(store.Timestamp(base.Add(time.Minute))) || acked.State() != store.AlertOpen {
		t.Errorf("AckAlert = %+v, %v", acked, err)
	}
	if got, _ := s.Alert(c, a.ID); got.AckedBy != acked.AckedBy || !got.AckedAt.Equal(acked.AckedAt) {
		t.Errorf("acknowledged alert read back as %+v", got)
	}
	// Suppressed until an hour from now: not pending. Suppressed until a
	// time gone: pending again.
	future := time.Now().Add(time.Hour)
	sup, err := s.SuppressAlert(c, b.ID, future)
	if err != nil || !sup.SuppressedUntil.Equal(store.Timestamp(future)) || !sup.Suppressed(time.Now()) {
		t.Errorf("SuppressAlert = %+v, %v", sup, err)
	}
	if _, err := s.SuppressAlert(c, cc.ID, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	pend, err := s.PendingAlerts(c, "r")
	if err != nil || !slices.Equal(keys(pend), []string{"a", "c"}) {
		t.Errorf("pending = %v, %v; want a (acknowledged, still pending) and c (suppression over)", keys(pend), err)
	}
	if pend, _ := s.PendingAlerts(c, ""); !slices.Equal(keys(pend), []string{"a", "c"}) {
		t.Errorf("pending of every device = %v", keys(pend))
	}
	// Lift the suppression.
	if lifted, err := s.SuppressAlert(c, b.ID, time.Time{}); err != nil || !lifted.SuppressedUntil.IsZero() {
		t.Errorf("lifting = %+v, %v", lifted, err)
	}
	if pend, _ := s.PendingAlerts(c, "r"); len(pend) != 3 {
		t.Errorf("pending after lifting = %v, want a b c", keys(pend))
	}
	// A new acknowledgement replaces the old; reconciliation keeps it.
	if _, err := s.AckAlert(c, a.ID, "user 2 bob", time.Time{}); err != nil {
		t.Fatal(err)
	}
	r, err = s.ReconcileAlerts(c, "r", "dns", base.Add(time.Hour), []store.Problem{{Key: "a"}})
	if err != nil || r.Open[0].AckedBy != "user 2 bob" || r.Open[0].AckedAt.IsZero() {
		t.Errorf("reconciled acknowledged alert = %+v, %v", r.Open, err)
	}
	_, err = s.AckAlert(c, 999999, "x", base)
	wantErr(t, "AckAlert(unknown)", err, store.ErrNotFound)
	_, err = s.SuppressAlert(c, 999999, base)
	wantErr(t, "SuppressAlert(unknown)", err, store.ErrNotFound)
	_, err = s.Alert(c, 999999)
	wantErr(t, "Alert(unknown)", err, store.ErrNotFound)
	_, err = s.AckAlert(c, a.ID, "", base)
	wantErr(t, "AckAlert by nobody", err, store.ErrInvalid)
	_, err = s.SuppressAlert(c, 0, base)
	wantErr(t, "SuppressAlert(0)", err, store.ErrInvalid)
}

func testRangeScopes(t *testing.T, s store.Store) {
	c := ctx(t)
	before := time.Now().Add(-time.Second)
	in := store.RangeScope{
		Prefixes:      []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("2001:db8::/48")},
		Owner:         "Example ISP AS64500",
		Reason:        "CERT request 2026-114: notify customers of hijacked routers",
		CreatedBy:     "user 1 alice",
		PerPrefixRate: 2.5,
	}
	sc, err := s.CreateRangeScope(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if sc.ID <= 0 || sc.OrgID != store.DefaultOrg || !slices.Equal(sc.Prefixes, in.Prefixes) || sc.Owner != in.Owner || sc.Reason != in.Reason ||
		sc.CreatedBy != in.CreatedBy || sc.PerPrefixRate != 2.5 || sc.CreatedAt.Before(before) {
		t.Errorf("CreateRangeScope = %+v", sc)
	}
	got, err := s.RangeScope(c, sc.ID)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(sc) {
		t.Errorf("RangeScope = %+v, %v; want %+v", got, err, sc)
	}
	sc2 := mustScope(t, s, "203.0.113.0/24")
	list, err := s.RangeScopes(c, store.Page{})
	if err != nil || len(list) != 2 || list[0].ID != sc2.ID || list[1].ID != sc.ID {
		t.Errorf("RangeScopes = %+v, %v; want newest first", list, err)
	}
	_, err = s.RangeScope(c, 999999)
	wantErr(t, "RangeScope(unknown)", err, store.ErrNotFound)
}

func testRangeScopeInvalid(t *testing.T, s store.Store) {
	p := netip.MustParsePrefix
	ok := store.RangeScope{Prefixes: []netip.Prefix{p("192.0.2.0/24")}, Owner: "o", Reason: "r", PerPrefixRate: 1}
	with := func(f func(*store.RangeScope)) store.RangeScope {
		sc := ok
		f(&sc)
		return sc
	}
	for _, tc := range []struct {
		name string
		sc   store.RangeScope
	}{
		{"no prefix", with(func(sc *store.RangeScope) { sc.Prefixes = nil })},
		{"host bits set", with(func(sc *store.RangeScope) { sc.Prefixes = []netip.Prefix{p("192.0.2.1/24")} })},
		{"a zero prefix", with(func(sc *store.RangeScope) { sc.Prefixes = []netip.Prefix{{}} })},
		{"a prefix twice", with(func(sc *store.RangeScope) { sc.Prefixes = []netip.Prefix{p("192.0.2.0/24"), p("192.0.2.0/24")} })},
		{"too many prefixes", with(func(sc *store.RangeScope) { sc.Prefixes = make([]netip.Prefix, store.MaxItems+1) })},
		{"no owner", with(func(sc *store.RangeScope) { sc.Owner = "" })},
		{"no reason", with(func(sc *store.RangeScope) { sc.Reason = " " })},
		{"no rate", with(func(sc *store.RangeScope) { sc.PerPrefixRate = 0 })},
		{"negative rate", with(func(sc *store.RangeScope) { sc.PerPrefixRate = -1 })},
		{"rate NaN", with(func(sc *store.RangeScope) { sc.PerPrefixRate = nan() })},
		{"rate infinite", with(func(sc *store.RangeScope) { sc.PerPrefixRate = store.MaxRangeRate * 10 })},
		{"another organisation's", with(func(sc *store.RangeScope) { sc.OrgID = "acme" })},
	} {
		_, err := s.CreateRangeScope(ctx(t), tc.sc)
		wantErr(t, "CreateRangeScope with "+tc.name, err, store.ErrInvalid)
	}
	if list, _ := s.RangeScopes(ctx(t), store.Page{}); len(list) != 0 {
		t.Errorf("refused scopes were stored: %+v", list)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func testRangeRuns(t *testing.T, s store.Store) {
	c := ctx(t)
	sc := mustScope(t, s, "192.0.2.0/24")
	other := mustScope(t, s, "198.51.100.0/24")
	r1, err := s.StartRangeRun(c, sc.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID <= 0 || r1.ScopeID != sc.ID || r1.State != store.RangeRunning || !r1.StartedAt.Equal(store.Timestamp(base)) || !r1.FinishedAt.IsZero() {
		t.Errorf("StartRangeRun = %+v", r1)
	}
	r2, err := s.StartRangeRun(c, sc.ID, time.Time{})
	if err != nil || r2.StartedAt.IsZero() {
		t.Fatalf("StartRangeRun(now) = %+v, %v", r2, err)
	}
	if _, err := s.StartRangeRun(c, other.ID, base); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RangeRun(c, r1.ID); err != nil || got != r1 {
		t.Errorf("RangeRun = %+v, %v; want %+v", got, err, r1)
	}
	fin, err := s.FinishRangeRun(c, r1.ID, store.RangeDone, base.Add(time.Hour))
	if err != nil || fin.State != store.RangeDone || !fin.FinishedAt.Equal(store.Timestamp(base.Add(time.Hour))) {
		t.Errorf("FinishRangeRun = %+v, %v", fin, err)
	}
	// A retried finish changes nothing.
	again, err := s.FinishRangeRun(c, r1.ID, store.RangeFailed, base.Add(2*time.Hour))
	if err != nil || again != fin {
		t.Errorf("finishing a finished run = %+v, %v; want it unchanged %+v", again, err, fin)
	}
	runs, err := s.RangeRuns(c, sc.ID, store.Page{})
	if err != nil || len(runs) != 2 || runs[0].ID != r2.ID || runs[1] != fin {
		t.Errorf("RangeRuns = %+v, %v; want r2 then r1 (this scope's only)", runs, err)
	}
	if runs, err := s.RangeRuns(c, 999999, store.Page{}); err != nil || len(runs) != 0 {
		t.Errorf("runs of an unknown scope = %v, %v", runs, err)
	}
	_, err = s.StartRangeRun(c, 999999, base)
	wantErr(t, "StartRangeRun of an unknown scope", err, store.ErrNotFound)
	_, err = s.FinishRangeRun(c, 999999, store.RangeDone, base)
	wantErr(t, "FinishRangeRun(unknown)", err, store.ErrNotFound)
	_, err = s.FinishRangeRun(c, r2.ID, store.RangeRunning, base)
	wantErr(t, "FinishRangeRun in state running", err, store.ErrInvalid)
	_, err = s.FinishRangeRun(c, r2.ID, "paused", base)
	wantErr(t, "FinishRangeRun in an unknown state", err, store.ErrInvalid)
	_, err = s.RangeRun(c, 999999)
	wantErr(t, "RangeRun(unknown)", err, store.ErrNotFound)
}

// rangeRecord is a record of address a under prefix p.
func rangeRecord(a, p string) store.RangeRecord {
	return store.RangeRecord{Address: netip.MustParseAddr(a), Prefix: netip.MustParsePrefix(p), At: base,
		Record: []byte(fmt.Sprintf(`{"target": %q,  "findings": []}`, a))}
}

func testRangeRecords(t *testing.T, s store.Store) {
	c := ctx(t)
	sc := mustScope(t, s, "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32")
	run, err := s.StartRangeRun(c, sc.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(a, p string, live bool, failing int, sev, model string) store.RangeRecord {
		r := rangeRecord(a, p)
		r.Live, r.Failing, r.WorstSeverity, r.Model = live, failing, sev, model
		return r
	}
	batch1 := []store.RangeRecord{
		rec("192.0.2.10", "192.0.2.0/24", true, 2, "HIGH", "TL-WR841N"),
		rec("192.0.2.1", "192.0.2.0/24", true, 0, "", "TL-WR841N"),
		rec("192.0.2.200", "192.0.2.0/24", false, 0, "", ""),
		rec("::ffff:192.0.2.3", "192.0.2.0/24", true, 1, "critical", "RB750"),
	}
	batch2 := []store.RangeRecord{
		rec("198.51.100.7", "198.51.100.0/24", true, 3, "medium", ""),
		rec("2001:db8::1", "2001:db8::/64", true, 1, "low", "RB750"),
		rec("2001:db8:0:1::1", "2001:db8:0:1::/64", false, 0, "", ""),
	}
	for _, b := range [][]store.RangeRecord{batch1, batch2} {
		if err := s.PutRangeRecords(c, run.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.RangeRecords(c, run.ID, netip.Prefix{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, r := range all {
		addrs = append(addrs, r.Address.String())
	}
	want := []string{"192.0.2.1", "192.0.2.3", "192.0.2.10", "192.0.2.200", "198.51.100.7", "2001:db8::1", "2001:db8:0:1::1"}
	if !slices.Equal(addrs, want) {
		t.Errorf("RangeRecords = %q, want %q (by address; IPv4-mapped kept as IPv4)", addrs, want)
	}
	first := all[2]
	if first.RunID != run.ID || !first.Live || first.Failing != 2 || first.WorstSeverity != "high" || first.Model != "TL-WR841N" ||
		first.Prefix != netip.MustParsePrefix("192.0.2.0/24") || string(first.Record) != string(batch1[0].Record) || !first.At.Equal(store.Timestamp(base)) {
		t.Errorf("record 192.0.2.10 = %+v; want it as written (severity by its name, record byte for byte)", first)
	}
	for _, tc := range []struct {
		within string
		want   []string
	}{
		{"192.0.2.0/24", want[:4]},
		{"192.0.2.0/28", want[:3]},
		{"192.0.2.128/25", want[3:4]},
		{"198.51.100.0/24", want[4:5]},
		{"2001:db8::/32", want[5:]},
		{"2001:db8:0:1::/64", want[6:]},
		{"203.0.113.0/24", nil},
		{"0.0.0.0/0", want[:5]},
	} {
		got, err := s.RangeRecords(c, run.ID, netip.MustParsePrefix(tc.within), store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var ga []string
		for _, r := range got {
			ga = append(ga, r.Address.String())
		}
		if !slices.Equal(ga, tc.want) {
			t.Errorf("records within %s = %q, want %q", tc.within, ga, tc.want)
		}
		done, err := s.RangeDone(c, run.ID, netip.MustParsePrefix(tc.within))
		if err != nil || len(done) != len(tc.want) {
			t.Errorf("RangeDone within %s = %v, %v; want %q", tc.within, done, err, tc.want)
		}
	}
	if page, _ := s.RangeRecords(c, run.ID, netip.Prefix{}, store.Page{Limit: 2, Offset: 1}); len(page) != 2 || page[0].Address.String() != want[1] {
		t.Errorf("a page of records = %+v", page)
	}
	// A retried batch (the same addresses, one changed) writes nothing
	// twice and keeps the newest.
	retry := slices.Clone(batch1)
	retry[2] = rec("192.0.2.200", "192.0.2.0/24", true, 1, "low", "Archer C7")
	retry[2].Record, retry[2].At = []byte(`{"target":"192.0.2.200","retried":true}`), base.Add(time.Minute)
	if err := s.PutRangeRecords(c, run.ID, retry); err != nil {
		t.Fatal(err)
	}
	all2, _ := s.RangeRecords(c, run.ID, netip.Prefix{}, store.Page{})
	if len(all2) != len(all) || all2[3].Model != "Archer C7" || !all2[3].Live || all2[3].Failing != 1 || all2[3].WorstSeverity != "low" ||
		string(all2[3].Record) != string(retry[2].Record) || !all2[3].At.Equal(store.Timestamp(retry[2].At)) {
		t.Errorf("after a retried batch: %d records, 192.0.2.200 = %+v; want %d, replaced", len(all2), all2[3], len(all))
	}
	sum, err := s.RangeSummary(c, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSum := []store.PrefixSummary{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Addresses: 4, Live: 4, Failing: 3, FailingChecks: 4,
			ByModel: map[string]int{"TL-WR841N": 2, "RB750": 1, "Archer C7": 1}, BySeverity: map[string]int{"high": 1, "critical": 1, "low": 1}},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Addresses: 1, Live: 1, Failing: 1, FailingChecks: 3,
			ByModel: map[string]int{}, BySeverity: map[string]int{"medium": 1}},
		{Prefix: netip.MustParsePrefix("2001:db8::/64"), Addresses: 1, Live: 1, Failing: 1, FailingChecks: 1,
			ByModel: map[string]int{"RB750": 1}, BySeverity: map[string]int{"low": 1}},
		{Prefix: netip.MustParsePrefix("2001:db8:0:1::/64"), Addresses: 1, Live: 0, Failing: 0, FailingChecks: 0,
			ByModel: map[string]int{}, BySeverity: map[string]int{}},
	}
	if fmt.Sprint(sum) != fmt.Sprint(wantSum) {
		t.Errorf("RangeSummary =\n%+v\nwant\n%+v", sum, wantSum)
	}
	// Another run of the same scope has its own records.
	run2, _ := s.StartRangeRun(c, sc.ID, base)
	if err := s.PutRangeRecords(c, run2.ID, batch1[:1]); err != nil {
		t.Fatal(err)
	}
	if done, _ := s.RangeDone(c, run2.ID, netip.Prefix{}); len(done) != 1 || done[0] != netip.MustParseAddr("192.0.2.10") {
		t.Errorf("RangeDone of the second run = %v", done)
	}
	if sum, _ := s.RangeSummary(c, run2.ID); len(sum) != 1 || sum[0].Addresses != 1 {
		t.Errorf("summary of the second run = %+v", sum)
	}
	if sum, err := s.RangeSummary(c, mustRun(t, s, sc.ID)); err != nil || len(sum) != 0 {
		t.Errorf("summary of a run without records = %v, %v", sum, err)
	}
	err = s.PutRangeRecords(c, 999999, batch1)
	wantErr(t, "PutRangeRecords of an unknown run", err, store.ErrNotFound)
	_, err = s.RangeRecords(c, 999999, netip.Prefix{}, store.Page{})
	wantErr(t, "RangeRecords of an unknown run", err, store.ErrNotFound)
	_, err = s.RangeDone(c, 999999, netip.Prefix{})
	wantErr(t, "RangeDone of an unknown run", err, store.ErrNotFound)
	_, err = s.RangeSummary(c, 999999)
	wantErr(t, "RangeSummary of an unknown run", err, store.ErrNotFound)
}

func mustRun(t *testing.T, s store.Tenant, scopeID int64) int64 {
	t.Helper()
	r, err := s.StartRangeRun(ctx(t), scopeID, base)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func testRangeRecordInvalid(t *testing.T, s store.Store) {
	c := ctx(t)
	run := mustRun(t, s, mustScope(t, s, "192.0.2.0/24").ID)
	good := rangeRecord("192.0.2.1", "192.0.2.0/24")
	with := func(f func(*store.RangeRecord)) []store.RangeRecord {
		r := good
		f(&r)
		return []store.RangeRecord{r}
	}
	for _, tc := range []struct {
		name string
		recs []store.RangeRecord
	}{
		{"no address", with(func(r *store.RangeRecord) { r.Address = netip.Addr{} })},
		{"an address with a zone", with(func(r *store.RangeRecord) {
			r.Address, r.Prefix = netip.MustParseAddr("fe80::1%eth0"), netip.MustParsePrefix("fe80::/64")
		})},
		{"an address outside its prefix", with(func(r *store.RangeRecord) { r.Address = netip.MustParseAddr("198.51.100.1") })},
		{"a prefix with host bits", with(func(r *store.RangeRecord) { r.Prefix = netip.MustParsePrefix("192.0.2.1/24") })},
		{"no prefix", with(func(r *store.RangeRecord) { r.Prefix = netip.Prefix{} })},
		{"a record that is not JSON", with(func(r *store.RangeRecord) { r.Record = []byte(`{"a":`) })},
		{"a record too large", with(func(r *store.RangeRecord) {
			r.Record = []byte(`"` + strings.Repeat("x", store.MaxRangeRecordBytes) + `"`)
		})},
		{"a negative failing count", with(func(r *store.RangeRecord) { r.Failing = -1 })},
		{"an unknown severity", with(func(r *store.RangeRecord) { r.WorstSeverity = "dire" })},
		{"an address twice", []store.RangeRecord{good, rangeRecord("::ffff:192.0.2.1", "192.0.2.0/24")}},
		{"too many records", make([]store.RangeRecord, store.MaxItems+1)},
	} {
		err := s.PutRangeRecords(c, run, append([]store.RangeRecord{rangeRecord("192.0.2.99", "192.0.2.0/24")}, tc.recs...))
		wantErr(t, "PutRangeRecords with "+tc.name, err, store.ErrInvalid)
	}
	if done, _ := s.RangeDone(c, run, netip.Prefix{}); len(done) != 0 {
		t.Errorf("a refused batch left records: %v", done)
	}
	_, err := s.RangeRecords(c, run, netip.PrefixFrom(netip.MustParseAddr("192.0.2.0"), 99), store.Page{})
	wantErr(t, "RangeRecords within an invalid prefix", err, store.ErrInvalid)
}

func testRangeExport(t *testing.T, s store.Store) {
	c := ctx(t)
	run := mustRun(t, s, mustScope(t, s, "10.0.0.0/16").ID)
	const n = 2500 // more than a page and a batch
	for b := 0; b < n; b += 1000 {
		var recs []store.RangeRecord
		for i := b; i < min(b+1000, n); i++ {
			recs = append(recs, rangeRecord(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "10.0.0.0/16"))
		}
		if err := s.PutRangeRecords(c, run, recs); err != nil {
			t.Fatal(err)
		}
	}
	count := 0
	var last netip.Addr
	for r, err := range s.ExportRangeRecords(c, run) {
		if err != nil {
			t.Fatal(err)
		}
		if last.IsValid() && !last.Less(r.Address) {
			t.Fatalf("export out of order: %v after %v", r.Address, last)
		}
		if !strings.Contains(string(r.Record), r.Address.String()) {
			t.Fatalf("record of %v holds %s", r.Address, r.Record)
		}
		last = r.Address
		count++
	}
	if count != n {
		t.Errorf("exported %d records, want %d", count, n)
	}
	// Stopping early is fine, and the store is usable at once.
	count = 0
	for _, err := range s.ExportRangeRecords(c, run) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count == 10 {
			break
		}
	}
	if err := s.PutRangeRecords(c, run, []store.RangeRecord{rangeRecord("10.0.255.1", "10.0.0.0/16")}); err != nil {
		t.Errorf("a write after an export stopped early: %v", err)
	}
	var errs []error
	for _, err := range s.ExportRangeRecords(c, 999999) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], store.ErrNotFound) {
		t.Errorf("export of an unknown run yielded %v, want one ErrNotFound", errs)
	}
}

// fleet is what testOrgIsolation puts in one organisation.
type fleet struct {
	site     store.Site
	snap     store.SnapshotMeta
	audit    store.Audit
	alert    store.Alert
	user     store.User
	token    store.Token
	scope    store.RangeScope
	run      store.RangeRun
	baseline store.Baseline
}

func fill(t *testing.T, s store.Tenant, tag string) fleet {
	c := ctx(t)
	var f fleet
	f.site = mustSite(t, s, "office")
	if _, err := s.PutDevice(c, store.Device{ID: "r", Site: "office", Label: "router of " + tag}); err != nil {
		t.Fatal(err)
	}
	f.snap = mustSnapshot(t, s, "r", 1, base)
	var err error
	if f.baseline, err = s.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: f.snap.ID}); err != nil {
		t.Fatal(err)
	}
	if f.audit, err = s.PutAudit(c, store.Audit{DeviceID: "r", Kind: "dns", Verdict: tag}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAudit(c, store.Audit{Kind: "dns", Verdict: tag}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: f.snap.ID, ToSnapshot: f.snap.ID}); err != nil {
		t.Fatal(err)
	}
	r, err := s.ReconcileAlerts(c, "r", "dns", base, []store.Problem{{Key: "hijack", Title: tag}})
	if err != nil {
		t.Fatal(err)
	}
	f.alert = r.Opened[0]
	f.user = mustUser(t, s, "admin-"+tag, store.RoleAdmin)
	f.token = mustToken(t, s, "pfx-"+tag)
	if _, err := s.AppendAuditLog(c, store.AuditEntry{Actor: tag, Action: "login"}); err != nil {
		t.Fatal(err)
	}
	f.scope = mustScope(t, s, "192.0.2.0/24")
	if f.run, err = s.StartRangeRun(c, f.scope.ID, base); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRangeRecords(c, f.run.ID, []store.RangeRecord{rangeRecord("192.0.2.1", "192.0.2.0/24")}); err != nil {
		t.Fatal(err)
	}
	return f
}

// testOrgIsolation: two organisations with the same device and site IDs;
// each sees only its own rows, and every ID of the other's is
// ErrNotFound, for reads and writes alike.
func testOrgIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a := mustOrg(t, s, "org-a")
	b := mustOrg(t, s, "org-b")
	fa := fill(t, a, "a")
	fb := fill(t, b, "b")
	if da, _ := a.Device(c, "r"); da.Label != "router of a" {
		t.Errorf("org-a's device r = %+v", da)
	}
	if db, _ := b.Device(c, "r"); db.Label != "router of b" {
		t.Errorf("org-b's device r = %+v", db)
	}
	// Each list holds exactly its own organisation's rows.
	lists := map[string]func(store.Tenant) (int, error){
		"Devices":   func(x store.Tenant) (int, error) { l, err := x.Devices(c); return len(l), err },
		"Sites":     func(x store.Tenant) (int, error) { l, err := x.Sites(c); return len(l), err },
		"Snapshots": func(x store.Tenant) (int, error) { l, err := x.Snapshots(c, "r", store.Page{}); return len(l), err },
		"Count":     func(x store.Tenant) (int, error) { return x.CountSnapshots(c, "r") },
		"Baselines": func(x store.Tenant) (int, error) { l, err := x.Baselines(c, "r", store.Page{}); return len(l), err },
		"Audits": func(x store.Tenant) (int, error) {
			l, err := x.Audits(c, store.AuditFilter{}, store.Page{})
			return len(l), err
		},
		"ChangeEvents": func(x store.Tenant) (int, error) { l, err := x.ChangeEvents(c, "", store.Page{}); return len(l), err },
		"Alerts": func(x store.Tenant) (int, error) {
			l, err := x.Alerts(c, store.AlertFilter{}, store.Page{})
			return len(l), err
		},
		"Pending":     func(x store.Tenant) (int, error) { l, err := x.PendingAlerts(c, ""); return len(l), err },
		"Users":       func(x store.Tenant) (int, error) { l, err := x.Users(c, store.Page{}); return len(l), err },
		"Tokens":      func(x store.Tenant) (int, error) { l, err := x.Tokens(c, store.Page{}); return len(l), err },
		"AuditLog":    func(x store.Tenant) (int, error) { l, err := x.AuditLog(c, store.Page{}); return len(l), err },
		"RangeScopes": func(x store.Tenant) (int, error) { l, err := x.RangeScopes(c, store.Page{}); return len(l), err },
	}
	wantLen := map[string]int{"Audits": 2}
	for name, list := range lists {
		for _, x := range []store.Tenant{a, b} {
			n, err := list(x)
			want := 1
			if w, ok := wantLen[name]; ok {
				want = w
			}
			if err != nil || n != want {
				t.Errorf("%s of %s: %d rows, %v; want %d", name, x.OrgID(), n, err, want)
			}
		}
		if n, _ := list(s); n != 0 {
			t.Errorf("%s of the default organisation: %d rows, want none", name, n)
		}
	}
	if runs, _ := a.RangeRuns(c, fb.scope.ID, store.Page{}); len(runs) != 0 {
		t.Errorf("org-a lists org-b's scope's runs: %+v", runs)
	}
	// Every ID of org-b's, asked of org-a: not found.
	reads := map[string]func() error{
		"Snapshot":     func() error { _, err := a.Snapshot(c, fb.snap.ID); return err },
		"Audit":        func() error { _, err := a.Audit(c, fb.audit.ID); return err },
		"Alert":        func() error { _, err := a.Alert(c, fb.alert.ID); return err },
		"User":         func() error { _, err := a.User(c, fb.user.ID); return err },
		"Token":        func() error { _, err := a.Token(c, fb.token.ID); return err },
		"RangeScope":   func() error { _, err := a.RangeScope(c, fb.scope.ID); return err },
		"RangeRun":     func() error { _, err := a.RangeRun(c, fb.run.ID); return err },
		"RangeRecords": func() error { _, err := a.RangeRecords(c, fb.run.ID, netip.Prefix{}, store.Page{}); return err },
		"RangeDone":    func() error { _, err := a.RangeDone(c, fb.run.ID, netip.Prefix{}); return err },
		"RangeSummary": func() error { _, err := a.RangeSummary(c, fb.run.ID); return err },
		"Export": func() error {
			for _, err := range a.ExportRangeRecords(c, fb.run.ID) {
				return err
			}
			return nil
		},
	}
	for name, read := range reads {
		wantErr(t, "org-a reading org-b's "+name, read(), store.ErrNotFound)
	}
	writes := map[string]func() error{
		"SetBaseline": func() error {
			_, err := a.SetBaseline(c, store.Baseline{DeviceID: "r", SnapshotID: fb.snap.ID})
			return err
		},
		"PutChanges": func() error {
			_, err := a.PutChanges(c, store.ChangeEvent{DeviceID: "r", FromSnapshot: fa.snap.ID, ToSnapshot: fb.snap.ID})
			return err
		},
		"MarkNotified":  func() error { return a.MarkNotified(c, fb.alert.ID, store.AlertOpen, base) },
		"AckAlert":      func() error { _, err := a.AckAlert(c, fb.alert.ID, "intruder", base); return err },
		"SuppressAlert": func() error { _, err := a.SuppressAlert(c, fb.alert.ID, base.Add(time.Hour)); return err },
		"UpdateUser": func() error {
			_, err := a.UpdateUser(c, fb.user.ID, store.UserUpdate{Role: store.RoleViewer})
			return err
		},
		"RevokeToken":    func() error { _, err := a.RevokeToken(c, fb.token.ID, base); return err },
		"StartRangeRun":  func() error { _, err := a.StartRangeRun(c, fb.scope.ID, base); return err },
		"FinishRangeRun": func() error { _, err := a.FinishRangeRun(c, fb.run.ID, store.RangeCancelled, base); return err },
		"PutRangeRecords": func() error {
			return a.PutRangeRecords(c, fb.run.ID, []store.RangeRecord{rangeRecord("192.0.2.9", "192.0.2.0/24")})
		},
	}
	for name, write := range writes {
		wantErr(t, "org-a writing org-b's "+name, write(), store.ErrNotFound)
	}
	// Nothing of org-b's changed.
	if al, _ := b.Alert(c, fb.alert.ID); al.AckedBy != "" || !al.SuppressedUntil.IsZero() || al.Notified != "" {
		t.Errorf("org-b's alert was changed: %+v", al)
	}
	if u, _ := b.User(c, fb.user.ID); u.Role != store.RoleAdmin {
		t.Errorf("org-b's user was changed: %+v", u)
	}
	if tok, _ := b.Token(c, fb.token.ID); tok.Revoked() {
		t.Errorf("org-b's token was revoked by org-a")
	}
	if r, _ := b.RangeRun(c, fb.run.ID); r.State != store.RangeRunning {
		t.Errorf("org-b's run was finished by org-a: %+v", r)
	}
	if done, _ := b.RangeDone(c, fb.run.ID, netip.Prefix{}); len(done) != 1 {
		t.Errorf("org-b's run has %d records, want 1", len(done))
	}
	if n, _ := b.CountSnapshots(c, "r"); n != 1 {
		t.Errorf("org-b's device has %d snapshots", n)
	}
	// Reconciling org-a's device r resolves nothing of org-b's.
	if _, err := a.ReconcileAlerts(c, "r", "dns", base.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if open, _ := b.Alerts(c, store.AlertFilter{State: store.AlertOpen}, store.Page{}); len(open) != 1 {
		t.Errorf("org-a's reconciliation resolved org-b's alert: %d open", len(open))
	}
	// A device of org-a cannot be put at org-b's site, nor a token bound
	// to it.
	mustSite(t, b, "b-only")
	_, err := a.PutDevice(c, store.Device{ID: "x", Site: "b-only"})
	wantErr(t, "org-a's device at org-b's site", err, store.ErrNotFound)
	_, err = a.CreateToken(c, store.Token{Name: "x", Role: store.RoleAgent, SiteID: "b-only", Hash: Hash("x"), Prefix: "px"})
	wantErr(t, "org-a's agent token for org-b's site", err, store.ErrNotFound)
	// AuthStore's lookups name the organisation.
	if u, _ := s.UserByLogin(c, "admin-b"); u.OrgID != "org-b" {
		t.Errorf("UserByLogin(admin-b) names %q", u.OrgID)
	}
	if tok, _ := s.TokenByPrefix(c, "pfx-a"); tok.OrgID != "org-a" {
		t.Errorf("TokenByPrefix(pfx-a) names %q", tok.OrgID)
	}
}

// testUnknownOrg: a Tenant of an organisation that does not exist finds
// nothing and writes nothing; an invalid organisation ID is refused.
func testUnknownOrg(t *testing.T, s store.Store) {
	c := ctx(t)
	mustDevice(t, s, "r")
	x := s.ForOrg("nobody")
	if ds, err := x.Devices(c); err != nil || len(ds) != 0 {
		t.Errorf("Devices of an unknown organisation = %v, %v", ds, err)
	}
	for name, write := range map[string]func() error{
		"PutDevice": func() error { _, err := x.PutDevice(c, store.Device{ID: "r"}); return err },
		"PutSite":   func() error { _, err := x.PutSite(c, store.Site{ID: "s", Name: "S"}); return err },
		"PutAudit":  func() error { _, err := x.PutAudit(c, store.Audit{Kind: "dns"}); return err },
		"CreateUser": func() error {
			_, err := x.CreateUser(c, store.User{Name: "u", Role: store.RoleViewer, PasswordHash: PHC("u")})
			return err
		},
		"CreateToken": func() error {
			_, err := x.CreateToken(c, store.Token{Name: "t", Role: store.RoleViewer, Hash: Hash("t"), Prefix: "t"})
			return err
		},
		"AppendAuditLog": func() error { _, err := x.AppendAuditLog(c, store.AuditEntry{Actor: "a", Action: "b"}); return err },
		"CreateRangeScope": func() error {
			_, err := x.CreateRangeScope(c, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
			return err
		},
		"PutSnapshot": func() error { _, err := x.PutSnapshot(c, "r", Snapshot(1, base, 0)); return err },
	} {
		wantErr(t, name+" in an unknown organisation", write(), store.ErrNotFound)
	}
	bad := s.ForOrg("bad\nid")
	if _, err := bad.Devices(c); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Devices of an invalid organisation ID: %v, want ErrInvalid", err)
	}
	if _, err := bad.PutDevice(c, store.Device{ID: "r"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutDevice in an invalid organisation ID: %v, want ErrInvalid", err)
	}
	if bad.OrgID() != "bad\nid" {
		t.Errorf("OrgID = %q", bad.OrgID())
	}
}

// testConcurrentLogins: many writers create the same login name at once
// (two organisations' admins racing): exactly one wins.
func testConcurrentLogins(t *testing.T, s store.Store) {
	c := ctx(t)
	tenants := []store.Tenant{s, mustOrg(t, s, "acme")}
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := tenants[i%2].CreateUser(c, store.User{Name: "admin", Role: store.RoleAdmin, PasswordHash: PHC(fmt.Sprint(i))})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("a losing CreateUser failed with %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing CreateUser calls won, want 1", won, n)
	}
}

// testConcurrentRangeBatches: workers retrying overlapping batches of one
// run at once store each address once.
func testConcurrentRangeBatches(t *testing.T, s store.Store) {
	c := ctx(t)
	run := mustRun(t, s, mustScope(t, s, "192.0.2.0/24").ID)
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := range workers {
		wg.Go(func() {
			for round := range 4 {
				var recs []store.RangeRecord
				for i := range 64 {
					a := (w*32 + round*16 + i) % 256
					r := rangeRecord(fmt.Sprintf("192.0.2.%d", a), "192.0.2.0/24")
					r.Failing = w
					recs = append(recs, r)
				}
				if err := s.PutRangeRecords(c, run, recs); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	done, err := s.RangeDone(c, run, netip.Prefix{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	for _, a := range done {
		if seen[a] {
			t.Errorf("%v stored twice", a)
		}
		seen[a] = true
	}
	if len(done) != 208 { // addresses 0 to 207 are covered
		t.Errorf("%d addresses stored, want 208", len(done))
	}
	if sum, _ := s.RangeSummary(c, run); len(sum) != 1 || sum[0].Addresses != len(done) {
		t.Errorf("summary = %+v", sum)
	}
}

// tenancyCalls calls each method of the tenancy part once with c, with
// arguments that would succeed on a store holding a user, token, alert,
// scope and run of ID id: for the cancelled and closed cases.
func tenancyCalls(c context.Context, s store.Store, id int64) map[string]func() error {
	ac := store.WithAudit(c, store.AuditEntry{Actor: "x", Action: "y"})
	return map[string]func() error{
		"CreateOrg": func() error { _, err := s.CreateOrg(ac, store.Org{ID: "acme", Name: "ACME"}); return err },
		"Org":       func() error { _, err := s.Org(c, store.DefaultOrg); return err },
		"Orgs":      func() error { _, err := s.Orgs(c); return err },
		"PutSite":   func() error { _, err := s.PutSite(ac, store.Site{ID: "s", Name: "S"}); return err },
		"Site":      func() error { _, err := s.Site(c, "s"); return err },
		"Sites":     func() error { _, err := s.Sites(c); return err },
		"CreateUser": func() error {
			_, err := s.CreateUser(ac, store.User{Name: "u", Role: store.RoleViewer, PasswordHash: PHC("u")})
			return err
		},
		"User":        func() error { _, err := s.User(c, id); return err },
		"Users":       func() error { _, err := s.Users(c, store.Page{}); return err },
		"UpdateUser":  func() error { _, err := s.UpdateUser(ac, id, store.UserUpdate{Role: store.RoleAdmin}); return err },
		"UserByLogin": func() error { _, err := s.UserByLogin(c, "u"); return err },
		"UserByID":    func() error { _, err := s.UserByID(c, id); return err },
		"RecordLogin": func() error { return s.RecordLogin(c, id, base) },
		"CreateToken": func() error {
			_, err := s.CreateToken(ac, store.Token{Name: "t", Role: store.RoleViewer, Hash: Hash("t"), Prefix: "t"})
			return err
		},
		"Token":         func() error { _, err := s.Token(c, id); return err },
		"Tokens":        func() error { _, err := s.Tokens(c, store.Page{}); return err },
		"RevokeToken":   func() error { _, err := s.RevokeToken(ac, id, base); return err },
		"TokenByPrefix": func() error { _, err := s.TokenByPrefix(c, "t"); return err },
		"TouchToken":    func() error { return s.TouchToken(c, id, base) },
		"CreateSession": func() error {
			_, err := s.CreateSession(c, store.Session{ID: Hash("s"), UserID: id, ExpiresAt: base})
			return err
		},
		"Session":               func() error { _, err := s.Session(c, Hash("s")); return err },
		"TouchSession":          func() error { _, err := s.TouchSession(c, Hash("s"), base, base); return err },
		"DeleteSession":         func() error { return s.DeleteSession(c, Hash("s")) },
		"DeleteExpiredSessions": func() error { _, err := s.DeleteExpiredSessions(c, base); return err },
		"AppendAuditLog":        func() error { _, err := s.AppendAuditLog(c, store.AuditEntry{Actor: "a", Action: "b"}); return err },
		"AuditLog":              func() error { _, err := s.AuditLog(c, store.Page{}); return err },
		"Alert":                 func() error { _, err := s.Alert(c, id); return err },
		"AckAlert":              func() error { _, err := s.AckAlert(ac, id, "a", base); return err },
		"SuppressAlert":         func() error { _, err := s.SuppressAlert(ac, id, base); return err },
		"CreateRangeScope": func() error {
			_, err := s.CreateRangeScope(ac, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Owner: "o", Reason: "r", PerPrefixRate: 1})
			return err
		},
		"RangeScope":     func() error { _, err := s.RangeScope(c, id); return err },
		"RangeScopes":    func() error { _, err := s.RangeScopes(c, store.Page{}); return err },
		"StartRangeRun":  func() error { _, err := s.StartRangeRun(ac, id, base); return err },
		"FinishRangeRun": func() error { _, err := s.FinishRangeRun(ac, id, store.RangeDone, base); return err },
		"RangeRun":       func() error { _, err := s.RangeRun(c, id); return err },
		"RangeRuns":      func() error { _, err := s.RangeRuns(c, id, store.Page{}); return err },
		"PutRangeRecords": func() error {
			return s.PutRangeRecords(ac, id, []store.RangeRecord{rangeRecord("192.0.2.1", "192.0.2.0/24")})
		},
		"RangeRecords": func() error { _, err := s.RangeRecords(c, id, netip.Prefix{}, store.Page{}); return err },
		"RangeDone":    func() error { _, err := s.RangeDone(c, id, netip.Prefix{}); return err },
		"RangeSummary": func() error { _, err := s.RangeSummary(c, id); return err },
		"ExportRangeRecords": func() error {
			for _, err := range s.ExportRangeRecords(c, id) {
				return err
			}
			return errors.New("the export yielded nothing")
		},
	}
}
