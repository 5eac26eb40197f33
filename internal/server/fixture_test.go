// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

// testParams are the weakest argon2id parameters auth accepts (OWASP's
// minimum), so the tests' logins are quick but real.
var testParams = auth.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// testHost is the Host every test request names; origin is its origin.
const (
	testHost   = "rw.example.test"
	testOrigin = "https://" + testHost
	// remoteAddr is a client that is not loopback.
	remoteAddr = "192.0.2.7:40000"
)

// countingStore counts the login-name lookups: auth runs exactly one
// argon2id hash (the user's or the dummy) after each, and none when the
// limiter refuses the attempt first.
type countingStore struct {
	store.Store
	lookups atomic.Int64
}

func (c *countingStore) UserByLogin(ctx context.Context, login string) (store.User, error) {
	c.lookups.Add(1)
	return c.Store.UserByLogin(ctx, login)
}

// fixture is a server over a real SQLite store with two organisations:
// "acme" (every role, a site with a device, audits, an alert, a
// configuration history, a range run) and "globex" (an admin and its own
// site). Every name of acme's contains "acme", so that an answer to
// globex can be searched for a leak.
type fixture struct {
	t      testing.TB
	srv    *Server
	st     *countingStore
	logBuf *syncBuffer

	// tokens by "org/role"; passwords by login.
	tokens    map[string]string
	passwords map[string]string
	// ids are the path values of acme's records, by wildcard name.
	ids map[string]string
	// rep is the report stored for acme's device.
	rep  *report.Report
	jobs *fakeJobs
}

// fakeJobs records what the server enqueued.
type fakeJobs struct {
	mu   sync.Mutex
	runs []string
	wans []string
}

func (j *fakeJobs) EnqueueRangeRun(_ context.Context, org string, run int64) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.runs = append(j.runs, fmt.Sprintf("%s/%d", org, run))
	return int64(len(j.runs)), nil
}

func (j *fakeJobs) EnqueueWANCheck(_ context.Context, org, site string, addr netip.Addr) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.wans = append(j.wans, org+"/"+site+"/"+addr.String())
	return int64(100 + len(j.wans)), nil
}

// syncBuffer is a log sink safe for concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var roles = []store.Role{store.RoleViewer, store.RoleOperator, store.RoleAdmin}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	f := &fixture{t: t, st: &countingStore{Store: sq}, logBuf: &syncBuffer{},
		tokens: map[string]string{}, passwords: map[string]string{}, ids: map[string]string{}}
	hasher, err := auth.NewHasher(testParams)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.jobs = &fakeJobs{}
	f.srv, err = New(Options{Store: f.st, Logger: logger, Hasher: hasher, TLS: &tls.Config{}, Jobs: f.jobs})
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"acme", "globex"} {
		if _, err := sq.CreateOrg(ctx, store.Org{ID: org, Name: org + " corp"}); err != nil {
			t.Fatal(err)
		}
	}
	acme, globex := sq.ForOrg("acme"), sq.ForOrg("globex")
	for _, r := range roles {
		f.user(acme, "acme-"+string(r), r)
		f.token(acme, "acme/"+string(r), r)
	}
	f.user(globex, "gina-admin", store.RoleAdmin)
	f.token(globex, "globex/admin", store.RoleAdmin)
	f.token(globex, "globex/viewer", store.RoleViewer)
	if _, err := globex.PutSite(ctx, store.Site{ID: "globex-hq", Name: "Globex HQ"}); err != nil {
		t.Fatal(err)
	}

	// acme's site, device, audits, alert, configuration history.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = acme.PutSite(ctx, store.Site{ID: "acme-office", Name: "Acme Office", PublicAddr: netip.MustParseAddr("203.0.113.9")})
	must(err)
	_, err = acme.PutDevice(ctx, store.Device{ID: "acme-rtr", Site: "acme-office", Address: "192.0.2.1",
		Adapter: "tplink-legacy", Label: `acme <script>alert("x")</script>`})
	must(err)
	f.rep = sampleReport()
	b, err := json.Marshal(f.rep)
	must(err)
	a, err := acme.PutAudit(ctx, store.Audit{DeviceID: "acme-rtr", Kind: store.AuditCheck, At: time.Now().Add(-time.Hour),
		Verdict: string(f.rep.Verdict.Level), Headline: f.rep.Verdict.Headline, Failing: f.rep.Summary.Fail, Report: b})
	must(err)
	f.ids["audit"] = strconv.FormatInt(a.ID, 10)
	_, err = acme.PutAudit(ctx, store.Audit{DeviceID: "acme-rtr", Kind: store.AuditDNS, At: time.Now().Add(-30 * time.Minute),
		Verdict: "hijacked", Headline: "acme: the DHCP DNS lies about login names", Failing: 1})
	must(err)
	rec, err := acme.ReconcileAlerts(ctx, "acme-rtr", "dns", time.Now(), []store.Problem{{
		Key: "dns-hijack", Title: "acme: DNS hijacked <b>now</b>", Severity: finding.SeverityCritical, Detail: "resolver 203.0.113.66"}})
	must(err)
	f.ids["alert"] = strconv.FormatInt(rec.Opened[0].ID, 10)
	s1, err := acme.PutSnapshot(ctx, "acme-rtr", &device.Snapshot{Adapter: "tplink-legacy", TakenAt: time.Now().Add(-2 * time.Hour)})
	must(err)
	s2, err := acme.PutSnapshot(ctx, "acme-rtr", &device.Snapshot{Adapter: "tplink-legacy", TakenAt: time.Now().Add(-time.Hour)})
	must(err)
	_, err = acme.PutChanges(ctx, store.ChangeEvent{DeviceID: "acme-rtr", FromSnapshot: s1.ID, ToSnapshot: s2.ID, At: time.Now().Add(-time.Hour),
		Changes: []store.Change{{Change: device.Change{Path: "dhcp_dns[0]", What: "DHCP DNS primary", Kind: device.Changed, Old: "192.0.2.1", New: "203.0.113.66"},
			Severity: finding.SeverityCritical, Words: "acme: DHCP DNS primary changed from 192.0.2.1 to 203.0.113.66 — not in your allowed resolvers"}}})
	must(err)
	sc, err := acme.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		Owner: "acme isp", Reason: "acme customer notification", PerPrefixRate: 10, CreatedBy: "acme-admin"})
	must(err)
	f.ids["scope"] = strconv.FormatInt(sc.ID, 10)
	run, err := acme.StartRangeRun(ctx, sc.ID, time.Time{})
	must(err)
	f.ids["run"] = strconv.FormatInt(run.ID, 10)
	must(acme.PutRangeRecords(ctx, run.ID, []store.RangeRecord{
		{Address: netip.MustParseAddr("198.51.100.1"), Prefix: netip.MustParsePrefix("198.51.100.0/24"), Live: true, Failing: 2,
			WorstSeverity: "high", Model: "=acme-model", Record: json.RawMessage(`{"acme":true}`), At: time.Now()},
		{Address: netip.MustParseAddr("198.51.100.2"), Prefix: netip.MustParsePrefix("198.51.100.0/24"), At: time.Now()},
	}))
	f.ids["site"] = "acme-office"
	f.ids["device"] = "acme-rtr"
	f.ids["file"] = "app.css"
	// A token and a user of acme's for the routes that name one.
	tok, err := acme.Tokens(ctx, store.Page{Limit: 1})
	must(err)
	f.ids["token"] = strconv.FormatInt(tok[0].ID, 10)
	u, err := sq.UserByLogin(ctx, "acme-viewer")
	must(err)
	f.ids["user"] = strconv.FormatInt(u.ID, 10)
	return f
}

// phcCache keeps each test user's hash across fixtures: argon2id is
// slow on purpose, and every test builds a fixture.
var phcCache sync.Map

// user creates a user with a password of its own.
func (f *fixture) user(t store.Tenant, name string, r store.Role) {
	f.t.Helper()
	pw := "pw-" + name + "-correct horse battery"
	var phc string
	if v, ok := phcCache.Load(name); ok {
		phc = v.(string)
	} else {
		var err error
		if phc, err = f.srv.auth.HashNewPassword(context.Background(), name, pw); err != nil {
			f.t.Fatal(err)
		}
		phcCache.Store(name, phc)
	}
	if _, err := t.CreateUser(context.Background(), store.User{Name: name, Role: r, PasswordHash: phc}); err != nil {
		f.t.Fatal(err)
	}
	f.passwords[name] = pw
}

func (f *fixture) token(t store.Tenant, key string, r store.Role) {
	f.t.Helper()
	nt := auth.GenerateToken()
	if _, err := t.CreateToken(context.Background(), store.Token{Name: key + " token", Role: r, Prefix: nt.Prefix, Hash: nt.Hash, CreatedBy: "test"}); err != nil {
		f.t.Fatal(err)
	}
	f.tokens[key] = nt.Plain
}

// sampleReport is a check report with findings of several severities
// and a device-supplied string that must be escaped.
func sampleReport() *report.Report {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &report.Report{
		Tool: report.Tool{Name: "routerwatch", Version: "test"}, Command: "check",
		StartedAt: at, FinishedAt: at.Add(3 * time.Second),
		Subjects: []report.Subject{{ID: "192.0.2.1", Kind: "router", Label: `TP-Link <img src=x onerror=alert(1)>`}},
		Findings: []finding.Finding{
			{ID: "telnet@192.0.2.1", CheckID: "exposure.telnet", Subject: "192.0.2.1", Status: finding.StatusFail,
				Severity: finding.SeverityHigh, Title: "Telnet answers on the LAN"},
			{ID: "upnp@192.0.2.1", CheckID: "exposure.upnp", Subject: "192.0.2.1", Status: finding.StatusFail,
				Severity: finding.SeverityMedium, Title: "UPnP answers on the LAN"},
			{ID: "web@192.0.2.1", CheckID: "exposure.web-wan", Subject: "192.0.2.1", Status: finding.StatusPass,
				Severity: finding.SeverityHigh, Title: "The web admin page does not answer from the WAN"},
		},
	}
	r.Finish()
	return r
}

// request is one test request.
type request struct {
	method, path string
	body         string
	// token is a bearer token; cookie a session cookie value; csrf the
	// X-CSRF-Token header.
	token, cookie, csrf string
	// origin overrides the Origin header of a state-changing request
	// ("-" for none).
	origin string
	remote string
	header map[string]string
}

// do sends one request through the whole handler, as if over TLS, and
// validates API requests and answers against the OpenAPI document.
func (f *fixture) do(rq request) *httptest.ResponseRecorder {
	f.t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, "https://"+testHost+rq.path, body)
	r.TLS = &tls.ConnectionState{}
	r.RemoteAddr = remoteAddr
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	if rq.body != "" {
		if strings.HasPrefix(rq.body, "{") {
			r.Header.Set("Content-Type", "application/json")
		} else {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.cookie != "" {
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: rq.cookie})
	}
	if rq.csrf != "" {
		r.Header.Set(auth.CSRFHeader, rq.csrf)
	}
	if rq.method != http.MethodGet && rq.method != http.MethodHead {
		switch rq.origin {
		case "":
			r.Header.Set("Origin", testOrigin)
		case "-":
		default:
			r.Header.Set("Origin", rq.origin)
		}
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	if strings.HasPrefix(rq.path, apiPrefix+"/") {
		validateAPI(f.t, f.srv, r, rq.body, w)
	} else {
		f.srv.Handler().ServeHTTP(w, r)
	}
	return w
}

// session logs login in through the login form and returns the session
// cookie's value and the CSRF token of the page it lands on.
func (f *fixture) session(login string) (cookie, csrf string) {
	f.t.Helper()
	w := f.do(request{method: "POST", path: "/login", body: "name=" + login + "&password=" + strings.ReplaceAll(f.passwords[login], " ", "+")})
	if w.Code != http.StatusSeeOther {
		f.t.Fatalf("login %s: %d %s", login, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c.Value
		}
	}
	if cookie == "" {
		f.t.Fatal("no session cookie")
	}
	page := f.do(request{method: "GET", path: "/account", cookie: cookie})
	csrf = extractCSRF(page.Body.String())
	if csrf == "" {
		f.t.Fatalf("no CSRF token in the page:\n%s", page.Body)
	}
	return cookie, csrf
}

// extractCSRF finds the csrf_token form field's value in a page.
func extractCSRF(page string) string {
	const marker = `name="csrf_token" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func storePage(n int) store.Page { return store.Page{Limit: n} }

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
