// SPDX-License-Identifier: Apache-2.0

package agentserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/watch"
)

// Tokens of the tests' sites. Real tokens are internal/auth's; the
// handler only sees what its Authenticator says.
const (
	tokenA    = "rw_test_site-a-secret"
	tokenB    = "rw_test_site-b-secret"
	tokenUser = "rw_test_user-secret"
	tokenDown = "rw_test_auth-down"
)

// staticAuth is a static Authenticator.
type staticAuth struct{}

func (staticAuth) AuthenticateAgent(r *http.Request) (agentserver.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return agentserver.Principal{}, agentserver.ErrUnauthenticated
	case tok == tokenA:
		return agentserver.Principal{OrgID: "org-1", SiteID: "office-a", Token: "a"}, nil
	case tok == tokenB:
		return agentserver.Principal{OrgID: "org-2", SiteID: "office-b", Token: "b"}, nil
	case tok == tokenUser:
		return agentserver.Principal{}, agentserver.ErrForbidden
	case tok == tokenDown:
		return agentserver.Principal{}, errors.New("token table unreachable")
	}
	return agentserver.Principal{}, agentserver.ErrUnauthenticated
}

// sites is a static Sites.
type sites struct {
	mu sync.Mutex
	m  map[string]agentserver.Site
}

func (s *sites) AgentSite(_ context.Context, p agentserver.Principal) (agentserver.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	site, ok := s.m[p.OrgID+"/"+p.SiteID]
	if !ok {
		return site, fmt.Errorf("site %s: %w", p.SiteID, store.ErrNotFound)
	}
	return site, nil
}

func defaultSites() *sites {
	return &sites{m: map[string]agentserver.Site{
		"org-1/office-a": {Name: "Office A", Tasks: []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 300}, {Kind: agentapi.KindConfigPull, IntervalSeconds: 900}},
			Routers: []agentapi.Router{{ID: "gw", Address: netip.MustParseAddr("192.0.2.1"), Adapter: "tplink-legacy", Label: "front desk router"}}},
		"org-2/office-b": {Name: "Office B", Tasks: []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 300}}},
	}}
}

// world is a handler over a real SQLite store, behind httptest.
type world struct {
	st    store.Store
	h     *agentserver.Handler
	srv   *httptest.Server
	sites *sites
	logs  *bytes.Buffer
}

func newWorld(t *testing.T, edit func(*agentserver.Options)) *world {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed(t, st)
	w := &world{st: st, sites: defaultSites(), logs: &bytes.Buffer{}}
	o := agentserver.Options{Auth: staticAuth{}, Sites: w.sites, Store: st, Rate: 1000, Burst: 1000,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: w.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if edit != nil {
		edit(&o)
	}
	if o.Store == nil {
		o.Store = st
	}
	w.h, err = agentserver.New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(w.h)
	t.Cleanup(w.srv.Close)
	return w
}

// seed makes the tests' organisations, their sites, and site A's router
// (a device its operator added).
func seed(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	for org, site := range map[string]string{"org-1": "office-a", "org-2": "office-b"} {
		if _, err := st.CreateOrg(ctx, store.Org{ID: org, Name: org}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ForOrg(org).PutSite(ctx, store.Site{ID: site, Name: site}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ForOrg("org-1").PutDevice(ctx, store.Device{ID: "gw", Site: "office-a", Address: "192.0.2.1", Adapter: "tplink-legacy", Label: "front desk router"}); err != nil {
		t.Fatal(err)
	}
}

// ten is an organisation's data.
func (w *world) ten(org string) store.Tenant { return w.st.ForOrg(org) }

// orgOf is the organisation of the tests' devices.
func orgOf(dev string) string {
	if strings.HasPrefix(dev, "office-b/") {
		return "org-2"
	}
	return "org-1"
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// dnsReport is a DNS report with the findings a verdict comes with.
func dnsReport(t *testing.T, verdict string) json.RawMessage {
	t.Helper()
	rep := &report.Report{Command: "dns", StartedAt: t0, FinishedAt: t0.Add(time.Second)}
	status := finding.StatusPass
	if verdict == "hijacked" {
		status = finding.StatusFail
	}
	rep.Findings = []finding.Finding{
		{ID: "dns.resolver_hijacked@192.0.2.53", CheckID: "dns.resolver_hijacked", Status: status, Severity: finding.SeverityCritical, Title: "Resolver 192.0.2.53 lies about login names"},
		{ID: "dns.dnssec_stripped@192.0.2.53", CheckID: "dns.dnssec_stripped", Status: finding.StatusPass, Severity: finding.SeverityMedium, Title: "DNSSEC kept"},
	}
	rep.Finish()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dnsResult(t *testing.T, seq uint64, verdict string) agentapi.Result {
	headline := "No DNS hijack found."
	if verdict == "hijacked" {
		headline = "HIJACKED: resolver 192.0.2.53 sends login names to 203.0.113.66"
	}
	at := t0.Add(time.Duration(seq) * 5 * time.Minute)
	return agentapi.Result{Seq: seq, Kind: agentapi.KindDNS, StartedAt: at, FinishedAt: at.Add(time.Second), Verdict: verdict,
		Headline: headline, Report: dnsReport(t, verdict)}
}

func configResult(t *testing.T, seq uint64, dhcpDNS string) agentapi.Result {
	t.Helper()
	at := t0.Add(time.Duration(seq) * 5 * time.Minute)
	snap := device.Snapshot{Target: netip.MustParseAddr("192.0.2.1"), Adapter: "tplink-legacy", TakenAt: at}
	snap.Config.DHCPDNS = device.Known([]netip.Addr{netip.MustParseAddr(dhcpDNS)}, device.Source{})
	b, err := json.Marshal(&snap)
	if err != nil {
		t.Fatal(err)
	}
	return agentapi.Result{Seq: seq, Kind: agentapi.KindConfigPull, Router: "gw", Address: snap.Target, StartedAt: at, FinishedAt: at.Add(time.Second),
		Verdict: "read", Snapshot: b}
}

type answer struct {
	code int
	ack  agentapi.Ack
	hdr  http.Header
}

func (w *world) do(t *testing.T, method, path, token string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, hdr: resp.Header}
	if path == agentapi.SchedulePath && resp.StatusCode == 200 {
		return a
	}
	if err := json.Unmarshal(b, &a.ack); err != nil {
		t.Fatalf("%s %s → %d, body %q is no Ack: %v", method, path, resp.StatusCode, b, err)
	}
	return a
}

func (w *world) post(t *testing.T, token, agent string, rs ...agentapi.Result) answer {
	t.Helper()
	b, err := json.Marshal(agentapi.Batch{Version: agentapi.Version, AgentID: agent, Results: rs})
	if err != nil {
		t.Fatal(err)
	}
	return w.do(t, http.MethodPost, agentapi.ResultsPath, token, b)
}

func (w *world) audits(t *testing.T, dev, kind string) []store.Audit {
	t.Helper()
	as, err := w.ten(orgOf(dev)).Audits(t.Context(), store.AuditFilter{DeviceID: dev, Kind: kind}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (w *world) openAlerts(t *testing.T, dev, kind string) []store.Alert {
	t.Helper()
	as, err := w.ten(orgOf(dev)).Alerts(t.Context(), store.AlertFilter{DeviceID: dev, Kind: kind, State: store.AlertOpen}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestResultsInOrderOnce: results are stored in the agent's order; a
// duplicate is acked and not stored again; a gap is refused with 409
// and the sequence number needed, storing nothing past it.
func TestResultsInOrderOnce(t *testing.T) {
	w := newWorld(t, nil)
	net := "office-a/network"
	for _, step := range []struct {
		name     string
		seqs     []uint64
		code     int
		acked    uint64
		expected uint64
		stored   int
	}{
		{"first_batch", []uint64{1, 2, 3}, 200, 3, 0, 3},
		{"duplicates_and_new", []uint64{2, 3, 4}, 200, 4, 0, 4},
		{"all_duplicates", []uint64{1}, 200, 4, 0, 4},
		{"gap", []uint64{6, 7}, 409, 4, 5, 4},
		{"next_then_gap", []uint64{5}, 200, 5, 0, 5},
		{"gap_after_next", []uint64{7}, 409, 5, 6, 5},
	} {
		var rs []agentapi.Result
		for _, s := range step.seqs {
			rs = append(rs, dnsResult(t, s, "clean"))
		}
		a := w.post(t, tokenA, "agent-1", rs...)
		if a.code != step.code || a.ack.AckedSeq != step.acked || a.ack.ExpectedSeq != step.expected {
			t.Fatalf("%s: %d %+v, want %d acked %d expected %d", step.name, a.code, a.ack, step.code, step.acked, step.expected)
		}
		as := w.audits(t, net, "dns")
		if len(as) != step.stored {
			t.Fatalf("%s: %d audits stored, want %d", step.name, len(as), step.stored)
		}
	}
	// In the agent's order: audit IDs grow with the sequence numbers.
	as := w.audits(t, net, "dns")
	for i := 1; i < len(as); i++ {
		if !as[i-1].At.After(as[i].At) || as[i-1].ID <= as[i].ID {
			t.Errorf("audits out of order: %d at %v before %d at %v", as[i].ID, as[i].At, as[i-1].ID, as[i-1].At)
		}
	}
	// Another agent at the same site counts from 1 on its own.
	if a := w.post(t, tokenA, "agent-2", dnsResult(t, 1, "clean")); a.code != 200 || a.ack.AckedSeq != 1 {
		t.Errorf("second agent: %d %+v", a.code, a.ack)
	}
}

// TestTenantIsolation: a token's site decides where results go; the same
// agent ID at another organisation's site is another ledger, and its
// results land under that site's devices only.
func TestTenantIsolation(t *testing.T) {
	w := newWorld(t, nil)
	if a := w.post(t, tokenA, "agent-1", dnsResult(t, 1, "hijacked"), dnsResult(t, 2, "hijacked")); a.code != 200 || a.ack.AckedSeq != 2 {
		t.Fatalf("site A: %d %+v", a.code, a.ack)
	}
	if a := w.post(t, tokenB, "agent-1", dnsResult(t, 1, "clean")); a.code != 200 || a.ack.AckedSeq != 1 {
		t.Fatalf("site B, same agent ID: %d %+v, want its own numbering", a.code, a.ack)
	}
	if n := len(w.audits(t, "office-a/network", "dns")); n != 2 {
		t.Errorf("site A has %d DNS audits, want 2", n)
	}
	if n := len(w.audits(t, "office-b/network", "dns")); n != 1 {
		t.Errorf("site B has %d DNS audits, want 1", n)
	}
	if n := len(w.openAlerts(t, "office-b/network", "")); n != 0 {
		t.Errorf("site B has %d open alerts from site A's hijack", n)
	}
	// Each organisation's data holds its own site's records only.
	for org, site := range map[string]string{"org-1": "office-a", "org-2": "office-b"} {
		devs, err := w.ten(org).Devices(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if d.Site != site {
				t.Errorf("%s holds device %s of site %s", org, d.ID, d.Site)
			}
		}
		as, err := w.ten(org).Audits(t.Context(), store.AuditFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if !strings.HasPrefix(a.DeviceID, site+"/") {
				t.Errorf("%s holds an audit of %s", org, a.DeviceID)
			}
		}
	}
	if as, _ := w.ten("org-2").Alerts(t.Context(), store.AlertFilter{}, store.Page{}); len(as) != 0 {
		t.Errorf("org-2 sees %d alerts of org-1's site", len(as))
	}
	// A message cannot name a site: the field does not exist.
	body := `{"version":1,"agent_id":"agent-1","site":"office-b","results":[]}`
	if a := w.do(t, http.MethodPost, agentapi.ResultsPath, tokenA, []byte(body)); a.code != 400 {
		t.Errorf("a batch naming a site: %d, want 400", a.code)
	}
}

// TestRefusals: authentication, methods, paths, sizes and the rate
// limit answer with the codes the agent acts on.
func TestRefusals(t *testing.T) {
	w := newWorld(t, func(o *agentserver.Options) { o.Rate, o.Burst = 0.01, 3 })
	good, _ := json.Marshal(agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(t, 1, "clean")}})
	huge := append([]byte(`{"version":1,"agent_id":"a1","results":[{"seq":1,"kind":"dns","headline":"`), bytes.Repeat([]byte("a"), agentapi.MaxBatchBytes)...)
	for _, tc := range []struct {
		name, method, path, token string
		body                      []byte
		code                      int
	}{
		{"no_token", "POST", agentapi.ResultsPath, "", good, 401},
		{"bad_token", "POST", agentapi.ResultsPath, "rw_nope", good, 401},
		{"user_token", "POST", agentapi.ResultsPath, tokenUser, good, 403},
		{"auth_down", "GET", agentapi.SchedulePath, tokenDown, nil, 503},
		{"wrong_method", "GET", agentapi.ResultsPath, tokenA, nil, 405},
		{"unknown_path", "GET", agentapi.BasePath + "secrets", tokenA, nil, 404},
		{"malformed", "POST", agentapi.ResultsPath, tokenA, []byte(`{"version":1`), 400},
		// The rate limit's burst (3) is spent by the three requests
		// above that authenticated (wrong_method and unknown_path do
		// not reach it; malformed does).
		{"too_large", "POST", agentapi.ResultsPath, tokenB, huge, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := w.do(t, tc.method, tc.path, tc.token, tc.body)
			if a.code != tc.code {
				t.Fatalf("%d (%+v), want %d", a.code, a.ack, tc.code)
			}
			if tc.code == 401 && a.hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("rate_limited", func(t *testing.T) {
		var last answer
		for range 5 {
			last = w.do(t, "GET", agentapi.SchedulePath, tokenA, nil)
		}
		if last.code != 429 || last.hdr.Get("Retry-After") == "" {
			t.Fatalf("after the burst: %d, Retry-After %q; want 429 with Retry-After", last.code, last.hdr.Get("Retry-After"))
		}
		// Another site has its own bucket (B spent one on too_large).
		if a := w.do(t, "GET", agentapi.SchedulePath, tokenB, nil); a.code != 200 {
			t.Errorf("site B while A is limited: %d", a.code)
		}
	})
	if strings.Contains(w.logs.String(), "secret") {
		t.Errorf("a token reached the log:\n%s", w.logs.String())
	}
}

func TestSchedule(t *testing.T) {
	w := newWorld(t, nil)
	req, _ := http.NewRequest("GET", w.srv.URL+agentapi.SchedulePath, nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s, err := agentapi.DecodeSchedule(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s.Site != "office-a" || s.SiteName != "Office A" || len(s.Tasks) != 2 || len(s.Routers) != 1 || s.Routers[0].Address != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("schedule %+v", s)
	}
	// A site whose settings are broken is the server's fault, said so.
	w.sites.mu.Lock()
	w.sites.m["org-1/office-a"] = agentserver.Site{Name: "A", Tasks: []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 1}}}
	w.sites.mu.Unlock()
	if a := w.do(t, "GET", agentapi.SchedulePath, tokenA, nil); a.code != 500 {
		t.Errorf("invalid site schedule: %d", a.code)
	}
	// A deleted site: its token is of no use.
	w.sites.mu.Lock()
	delete(w.sites.m, "org-1/office-a")
	w.sites.mu.Unlock()
	if a := w.do(t, "GET", agentapi.SchedulePath, tokenA, nil); a.code != 403 {
		t.Errorf("deleted site: %d", a.code)
	}
	if a := w.post(t, tokenA, "a1", dnsResult(t, 1, "clean")); a.code != 403 {
		t.Errorf("results for a deleted site: %d", a.code)
	}
}

// TestHijackAlertsOnce: the site's DNS turning hijacked raises exactly
// one alert, named and worded as watch's; the same state again raises
// nothing; a router's reading that hands out the attacker joins the same
// alert; clean again resolves it.
func TestHijackAlertsOnce(t *testing.T) {
	w := newWorld(t, nil)
	net := "office-a/network"
	step := func(name string, r agentapi.Result, open int) store.Alert {
		t.Helper()
		if a := w.post(t, tokenA, "agent-1", r); a.code != 200 {
			t.Fatalf("%s: %d %+v", name, a.code, a.ack)
		}
		all, err := w.ten("org-1").Alerts(t.Context(), store.AlertFilter{State: store.AlertOpen}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != open {
			t.Fatalf("%s: %d open alerts (%+v), want %d", name, len(all), all, open)
		}
		if open == 1 {
			return all[0]
		}
		return store.Alert{}
	}
	step("clean", dnsResult(t, 1, "clean"), 0)
	step("baseline_reading", configResult(t, 2, "192.0.2.1"), 0)
	a := step("hijacked", dnsResult(t, 3, "hijacked"), 1)
	if a.DeviceID != net || a.Kind != watch.CheckDNSHijack || a.Severity != finding.SeverityCritical ||
		!strings.Contains(a.Detail, "DNS audit: HIJACKED: resolver 192.0.2.53") {
		t.Errorf("hijack alert %+v", a)
	}
	step("hijacked_again", dnsResult(t, 4, "hijacked"), 1)
	b := step("router_hands_out_attacker", configResult(t, 5, "203.0.113.66"), 1)
	if b.ID != a.ID || !strings.Contains(b.Detail, "203.0.113.66") {
		t.Errorf("the router's part did not join the one alert: %+v", b)
	}
	// The DNS audit is clean but the router still hands out a resolver
	// that is not the owner's: still hijacked (watch's rule).
	step("dns_clean_router_not", dnsResult(t, 6, "clean"), 1)
	step("router_back", configResult(t, 7, "192.0.2.1"), 0)
	all, err := w.ten("org-1").Alerts(t.Context(), store.AlertFilter{DeviceID: net, Kind: watch.CheckDNSHijack}, store.Page{})
	if err != nil || len(all) != 1 || all[0].State() != store.AlertResolved {
		t.Errorf("after everything: %v %+v, want the one alert, resolved", err, all)
	}
	// The config pulls are kept as the router's history.
	if n := len(w.audits(t, "gw", "config")); n != 3 {
		t.Errorf("%d config audits, want 3", n)
	}
	if snaps, err := w.ten("org-1").CountSnapshots(t.Context(), "gw"); err != nil || snaps != 3 {
		t.Errorf("%d snapshots (%v), want 3", snaps, err)
	}
}

// TestFailedAuditsResolveNothing: an audit that could not complete at
// the site is stored as such and leaves the alerts as they were; a router
// that does not answer is a problem of its own.
func TestFailedAuditsResolveNothing(t *testing.T) {
	w := newWorld(t, nil)
	w.post(t, tokenA, "agent-1", dnsResult(t, 1, "hijacked"))
	at := t0.Add(time.Hour)
	failedDNS := agentapi.Result{Seq: 2, Kind: agentapi.KindDNS, StartedAt: at, FinishedAt: at, Error: agentapi.NewError(agentapi.ErrorNoResolver, "no resolver found")}
	failedPull := agentapi.Result{Seq: 3, Kind: agentapi.KindConfigPull, Router: "gw", StartedAt: at, FinishedAt: at, Error: agentapi.NewError(agentapi.ErrorAuth, "login refused")}
	if a := w.post(t, tokenA, "agent-1", failedDNS, failedPull); a.code != 200 || a.ack.AckedSeq != 3 {
		t.Fatalf("%d %+v", a.code, a.ack)
	}
	if n := len(w.openAlerts(t, "office-a/network", watch.CheckDNSHijack)); n != 1 {
		t.Errorf("a DNS audit that could not look resolved the hijack (%d open)", n)
	}
	un := w.openAlerts(t, "gw", watch.CheckUnreachable)
	if len(un) != 1 || un[0].Severity != finding.SeverityHigh || !strings.Contains(un[0].Title, "refused the login") {
		t.Errorf("refused login: %+v", un)
	}
	as := w.audits(t, "office-a/network", "dns")
	if len(as) != 2 || as[0].Verdict != agentserver.VerdictError || !strings.Contains(as[0].Headline, "no resolver found") {
		t.Errorf("the failed DNS audit is not kept as such: %+v", as)
	}
}

// TestDroppedRange: the agent's dropped record moves the ledger past the
// results it gave up and is kept as an event of the site.
func TestDroppedRange(t *testing.T) {
	w := newWorld(t, nil)
	d := agentapi.Result{Seq: 1, Kind: agentapi.KindDropped, LastSeq: 40, StartedAt: t0, FinishedAt: t0.Add(time.Hour)}
	if a := w.post(t, tokenA, "agent-1", d, dnsResult(t, 41, "clean")); a.code != 200 || a.ack.AckedSeq != 41 {
		t.Fatalf("%d %+v", a.code, a.ack)
	}
	as := w.audits(t, "office-a/network", agentserver.KindAgent)
	if len(as) != 1 || as[0].Verdict != "dropped" || !strings.Contains(as[0].Headline, "40 result(s)") {
		t.Errorf("dropped record kept as %+v", as)
	}
	// A duplicate dropped record is acked, not stored again.
	if a := w.post(t, tokenA, "agent-1", d); a.code != 200 || a.ack.AckedSeq != 41 || len(w.audits(t, "office-a/network", agentserver.KindAgent)) != 1 {
		t.Errorf("duplicate dropped: %d %+v", a.code, a.ack)
	}
}

// failingStore fails PutState calls whose blob says the ledger moved
// past seq, once: the server stops after storing a result and before its
// ledger moves.
type failingStore struct {
	store.Store
	mu     sync.Mutex
	failAt uint64
}

func (f *failingStore) PutState(ctx context.Context, name string, b []byte) error {
	f.mu.Lock()
	fail := f.failAt != 0 && strings.Contains(name, "ledger") && bytes.Contains(b, fmt.Appendf(nil, `"last_seq":%d,`, f.failAt))
	if fail {
		f.failAt = 0
	}
	f.mu.Unlock()
	if fail {
		return errors.New("disk gone")
	}
	return f.Store.PutState(ctx, name, b)
}

// TestCrashBetweenStoreAndLedger: the result's records are stored but the
// ledger does not move (the server failed in between); the agent gets a
// 503, sends the result again, and it is acked without a second copy.
func TestCrashBetweenStoreAndLedger(t *testing.T) {
	var fs *failingStore
	w := newWorld(t, func(o *agentserver.Options) {
		fs = &failingStore{Store: o.Store, failAt: 2}
		o.Store = fs
	})
	r1, r2, r3 := dnsResult(t, 1, "clean"), dnsResult(t, 2, "clean"), dnsResult(t, 3, "clean")
	a := w.post(t, tokenA, "agent-1", r1, r2, r3)
	if a.code != 503 || a.ack.AckedSeq != 1 {
		t.Fatalf("with the ledger write failing: %d %+v, want 503 acked 1", a.code, a.ack)
	}
	if n := len(w.audits(t, "office-a/network", "dns")); n != 2 {
		t.Fatalf("%d audits after the failure, want 2 (the second stored, its ledger not moved)", n)
	}
	a = w.post(t, tokenA, "agent-1", r2, r3)
	if a.code != 200 || a.ack.AckedSeq != 3 {
		t.Fatalf("resent: %d %+v", a.code, a.ack)
	}
	if n := len(w.audits(t, "office-a/network", "dns")); n != 3 {
		t.Errorf("%d audits after the resend, want 3: result 2 stored twice or never", n)
	}
	if !strings.Contains(w.logs.String(), "not stored again") {
		t.Error("the recovery is not logged")
	}
}

// TestConcurrentBatches: the same batch posted many times at once (an
// agent retrying while its first request still runs) is stored once.
func TestConcurrentBatches(t *testing.T) {
	w := newWorld(t, nil)
	rs := []agentapi.Result{dnsResult(t, 1, "clean"), dnsResult(t, 2, "hijacked"), dnsResult(t, 3, "hijacked")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if a := w.post(t, tokenA, "agent-1", rs...); a.code != 200 || a.ack.AckedSeq != 3 {
				t.Errorf("%d %+v", a.code, a.ack)
			}
		})
	}
	wg.Wait()
	if n := len(w.audits(t, "office-a/network", "dns")); n != 3 {
		t.Errorf("%d audits, want 3", n)
	}
	if all, _ := w.ten("org-1").Alerts(t.Context(), store.AlertFilter{}, store.Page{}); len(all) != 1 {
		t.Errorf("%d alerts, want 1", len(all))
	}
}
