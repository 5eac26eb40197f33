// SPDX-License-Identifier: Apache-2.0

package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/agent"
	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

const token = "rw_agenttest_0123456789abcdef-secret"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is the fake time the agent and the server's outage share: Sleep
// moves it on at once, and cancels the run once it reaches stopAt.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	stopAt time.Time
	cancel context.CancelFunc
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	if !c.stopAt.IsZero() && !c.now.Before(c.stopAt) && c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	return ctx.Err()
}

// engines are fake audits: a clean DNS result at the fake time, counted.
type engines struct {
	c   *clock
	mu  sync.Mutex
	dns []time.Time
}

func (e *engines) DNS(context.Context) agentapi.Result {
	at := e.c.Now()
	e.mu.Lock()
	e.dns = append(e.dns, at)
	e.mu.Unlock()
	rep := &report.Report{Command: "dns", StartedAt: at, FinishedAt: at}
	rep.Finish()
	b, _ := json.Marshal(rep)
	return agentapi.Result{Kind: agentapi.KindDNS, StartedAt: at, FinishedAt: at, Verdict: "clean", Headline: rep.Verdict.Headline, Report: b}
}

func (e *engines) Check(_ context.Context, r *agentapi.Router) agentapi.Result {
	at := e.c.Now()
	return agentapi.Result{Kind: agentapi.KindCheck, Router: r.ID, StartedAt: at, FinishedAt: at, Error: agentapi.NewError(agentapi.ErrorTimeout, "no answer")}
}

func (e *engines) ConfigPull(_ context.Context, r agentapi.Router) agentapi.Result {
	at := e.c.Now()
	return agentapi.Result{Kind: agentapi.KindConfigPull, Router: r.ID, StartedAt: at, FinishedAt: at, Error: agentapi.NewError(agentapi.ErrorNoLogin, "no login")}
}

func (e *engines) produced() []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Time(nil), e.dns...)
}

type auth struct{}

func (auth) AuthenticateAgent(r *http.Request) (agentserver.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer "+token {
		return agentserver.Principal{}, agentserver.ErrUnauthenticated
	}
	return agentserver.Principal{OrgID: "org-1", SiteID: "office", Token: "agenttest"}, nil
}

// seed makes the organisation and the site of the token.
func seed(t *testing.T, st store.Store) {
	t.Helper()
	if _, err := st.CreateOrg(t.Context(), store.Org{ID: "org-1", Name: "MSP customer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ForOrg("org-1").PutSite(t.Context(), store.Site{ID: "office", Name: "Office"}); err != nil {
		t.Fatal(err)
	}
}

type sites struct{ tasks []agentapi.Task }

func (s sites) AgentSite(context.Context, agentserver.Principal) (agentserver.Site, error) {
	return agentserver.Site{Name: "Office", Tasks: s.tasks}, nil
}

// server is the real agent endpoint over a real SQLite store, behind a
// switch that makes it unreachable (connections dropped) or failing
// (503) while down says so.
type server struct {
	st   store.Store
	srv  *httptest.Server
	down func(r *http.Request) string // "", "drop", "503" or "400"
	mu   sync.Mutex
	hits int
}

func newServer(t *testing.T, tasks []agentapi.Task, down func(*http.Request) string) *server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed(t, st)
	h, err := agentserver.New(agentserver.Options{Auth: auth{}, Sites: sites{tasks}, Store: st, Rate: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{st: st, down: down}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.mu.Unlock()
		mode := ""
		if s.down != nil {
			mode = s.down(r)
		}
		switch mode {
		case "drop":
			hj, _ := w.(http.Hijacker)
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case "503":
			w.Header().Set("Retry-After", "30")
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		case "400":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"version":1,"acked_seq":0,"error":"no"}`)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) dnsAudits(t *testing.T) []store.Audit {
	t.Helper()
	as, err := s.st.ForOrg("org-1").Audits(t.Context(), store.AuditFilter{DeviceID: "office/network", Kind: "dns"}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first.
	for i, j := 0, len(as)-1; i < j; i, j = i+1, j-1 {
		as[i], as[j] = as[j], as[i]
	}
	return as
}

type run struct {
	c    *clock
	eng  *engines
	logs *bytes.Buffer
}

func newRun(start time.Time) *run {
	c := &clock{now: start}
	return &run{c: c, eng: &engines{c: c}, logs: &bytes.Buffer{}}
}

func (r *run) options(dir, url string) agent.Options {
	return agent.Options{Server: agent.ServerOptions{URL: url, Token: config.NewSecret(token)}, StateDir: dir, Engines: r.eng,
		Jitter: -1, Now: r.c.Now, Sleep: r.c.Sleep, Rand: func() float64 { return 0.5 },
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: r.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// runUntil runs an agent until the fake clock reaches stop.
func (r *run) runUntil(t *testing.T, o agent.Options, stop time.Time) error {
	t.Helper()
	a, err := agent.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r.c.mu.Lock()
	r.c.stopAt, r.c.cancel = stop, cancel
	r.c.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("the agent did not stop; it said:\n%s", r.logs.String())
	}
	return nil
}

var every5min = []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 300}}

// checkDelivered: the server holds every result the engines made, once
// each, in the order they were made.
func checkDelivered(t *testing.T, s *server, made []time.Time, logs string) {
	t.Helper()
	got := s.dnsAudits(t)
	if len(got) != len(made) {
		t.Fatalf("the server has %d DNS results, the agent made %d; the agent said:\n%s", len(got), len(made), logs)
	}
	for i := range got {
		if !got[i].At.Equal(made[i]) {
			t.Fatalf("result %d at the server is from %v, want %v: out of order or duplicated", i, got[i].At, made[i])
		}
	}
}

// TestOfflineForAnHour is the issue's fault "an agent offline for an hour
// delivers its queued results in order": with a DNS audit every 5 minutes
// of fake time, the server becomes unreachable (or answers 503) for an
// hour; the agent keeps auditing and queues 12 or more results, then the
// server comes back and receives all of them, in order, once.
func TestOfflineForAnHour(t *testing.T) {
	for _, mode := range []string{"drop", "503"} {
		t.Run(mode, func(t *testing.T) {
			r := newRun(t0)
			gone, back := t0.Add(7*time.Minute), t0.Add(67*time.Minute)
			var mu sync.Mutex
			downHits := 0
			s := newServer(t, every5min, func(*http.Request) string {
				if now := r.c.Now(); !now.Before(gone) && now.Before(back) {
					mu.Lock()
					downHits++
					mu.Unlock()
					return mode
				}
				return ""
			})
			dir := t.TempDir()
			if err := r.runUntil(t, r.options(dir, s.srv.URL), back.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			before := len(s.dnsAudits(t))
			queued := len(r.eng.produced()) - before
			if before != 2 || queued < 12 {
				t.Fatalf("%d delivered before the outage, %d queued during it; want 2 and 12 or more\n%s", before, queued, r.logs.String())
			}
			// Not one request per result: the back-off spaced the retries
			// (and the schedule was asked for at each round).
			mu.Lock()
			hits := downHits
			mu.Unlock()
			t.Logf("%d requests to the down server for %d results", hits, queued)
			if hits > 4*queued {
				t.Errorf("%d requests to a down server for %d results", hits, queued)
			}
			// The same agent goes on (its state on disk) until the server
			// has been back for a while.
			if err := r.runUntil(t, r.options(dir, s.srv.URL), back.Add(20*time.Minute)); err != nil {
				t.Fatal(err)
			}
			checkDelivered(t, s, r.eng.produced(), r.logs.String())
			if strings.Contains(r.logs.String(), token) {
				t.Error("the token is in the agent's log")
			}
		})
	}
}

// TestResumeAfterRestart: results queued by an agent that stopped while
// offline are sent by the next run, before its own, in order.
func TestResumeAfterRestart(t *testing.T) {
	r := newRun(t0)
	gone, back := t0.Add(time.Minute), t0.Add(45*time.Minute)
	s := newServer(t, every5min, func(*http.Request) string {
		if now := r.c.Now(); !now.Before(gone) && now.Before(back) {
			return "drop"
		}
		return ""
	})
	dir := t.TempDir()
	if err := r.runUntil(t, r.options(dir, s.srv.URL), t0.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, at := len(r.eng.produced()), len(s.dnsAudits(t)); n != 7 || at != 1 {
		t.Fatalf("%d results in 31 minutes, %d delivered; want 7 and 1", n, at)
	}
	// A new process: the clock goes on, the server is back later.
	if err := r.runUntil(t, r.options(dir, s.srv.URL), t0.Add(60*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, r.eng.produced(), r.logs.String())
}

// TestOnce: one round, delivered, then exit; with the server down the
// result stays queued (ErrUndelivered) and the next run sends it first.
func TestOnce(t *testing.T) {
	r := newRun(t0)
	var down atomic.Bool
	down.Store(true)
	s := newServer(t, every5min, func(*http.Request) string {
		if down.Load() {
			return "drop"
		}
		return ""
	})
	dir := t.TempDir()
	o := r.options(dir, s.srv.URL)
	o.Once = true
	// No schedule yet and no server: nothing to run.
	if err := r.runUntil(t, o, t0.Add(time.Hour)); !errors.Is(err, agent.ErrNoSchedule) {
		t.Fatalf("once, never reached: %v, want ErrNoSchedule", err)
	}
	down.Store(false)
	if err := r.runUntil(t, o, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("once: %v\n%s", err, r.logs.String())
	}
	down.Store(true)
	// The schedule kept from the last run lets it audit offline.
	if err := r.runUntil(t, o, t0.Add(3*time.Hour)); !errors.Is(err, agent.ErrUndelivered) {
		t.Fatalf("once, server gone: %v, want ErrUndelivered", err)
	}
	down.Store(false)
	if err := r.runUntil(t, o, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.eng.produced()); n != 3 {
		t.Fatalf("%d results from three rounds", n)
	}
	checkDelivered(t, s, r.eng.produced(), r.logs.String())
}

// TestStops: a refused token and a rejected result stop the agent with
// errors that say so, the results kept.
func TestStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode func(*http.Request) string
		tok  string
		want error
	}{
		{"revoked_token", nil, "rw_revoked", agent.ErrRefused},
		{"rejected_result", func(r *http.Request) string {
			if r.URL.Path == agentapi.ResultsPath {
				return "400"
			}
			return ""
		}, token, agent.ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t0)
			s := newServer(t, every5min, tc.mode)
			o := r.options(t.TempDir(), s.srv.URL)
			o.Server.Token = config.NewSecret(tc.tok)
			a, err := agent.New(o)
			if err != nil {
				t.Fatal(err)
			}
			err = a.Run(t.Context())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run: %v, want %v", err, tc.want)
			}
			if tc.want == agent.ErrRejected && a.Queued() != 1 {
				t.Errorf("%d results kept, want 1", a.Queued())
			}
			if strings.Contains(err.Error(), tc.tok) || strings.Contains(r.logs.String(), tc.tok) {
				t.Error("the token is in the error or the log")
			}
		})
	}
}

// TestServerLostResults: a server restored from an older copy of its
// database asks for results the agent already had acknowledged; the
// agent tells it they are lost, and goes on in order.
func TestServerLostResults(t *testing.T) {
	r := newRun(t0)
	s1 := newServer(t, every5min, nil)
	dir := t.TempDir()
	if err := r.runUntil(t, r.options(dir, s1.srv.URL), t0.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	made := len(r.eng.produced())
	s2 := newServer(t, every5min, nil) // an empty database
	if err := r.runUntil(t, r.options(dir, s2.srv.URL), t0.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s2, r.eng.produced()[made:], r.logs.String())
	lost, err := s2.st.ForOrg("org-1").Audits(t.Context(), store.AuditFilter{DeviceID: "office/network", Kind: agentserver.KindAgent}, store.Page{})
	if err != nil || len(lost) != 1 || !strings.Contains(lost[0].Headline, fmt.Sprintf("%d result(s)", made)) {
		t.Errorf("the lost range at the server: %v %+v", err, lost)
	}
}

// TestStateRestored: an agent whose state directory was restored from an
// older copy would send numbers the server has: it goes on under a new ID
// instead of having its new results taken for duplicates.
func TestStateRestored(t *testing.T) {
	r := newRun(t0)
	s := newServer(t, every5min, nil)
	dir := t.TempDir()
	a, err := agent.New(r.options(dir, s.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	// The server already has results 1 to 50 from this agent ID.
	body, _ := json.Marshal(agentapi.Batch{Version: 1, AgentID: a.ID(), Results: []agentapi.Result{{Seq: 1, Kind: agentapi.KindDropped, LastSeq: 50, StartedAt: t0, FinishedAt: t0}}})
	req, _ := http.NewRequest("POST", s.srv.URL+agentapi.ResultsPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("seeding the server: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := r.runUntil(t, r.options(dir, s.srv.URL), t0.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, r.eng.produced(), r.logs.String())
	if !strings.Contains(r.logs.String(), "new agent ID") {
		t.Error("the new ID is not logged")
	}
}

// TestOutboxCapReported: a very long outage past the outbox's cap gives
// up the oldest results; the server is told how many, and gets the rest
// in order.
func TestOutboxCapReported(t *testing.T) {
	r := newRun(t0)
	gone, back := t0.Add(time.Minute), t0.Add(3*time.Hour)
	s := newServer(t, every5min, func(*http.Request) string {
		if now := r.c.Now(); !now.Before(gone) && now.Before(back) {
			return "503"
		}
		return ""
	})
	o := r.options(t.TempDir(), s.srv.URL)
	o.MaxResults = 10
	if err := r.runUntil(t, o, back.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	made := r.eng.produced()
	got := s.dnsAudits(t)
	lost, _ := s.st.ForOrg("org-1").Audits(t.Context(), store.AuditFilter{DeviceID: "office/network", Kind: agentserver.KindAgent}, store.Page{})
	if len(lost) != 1 {
		t.Fatalf("%d lost-range records at the server, want 1", len(lost))
	}
	n := len(made) - len(got)
	if n <= 1 || !strings.Contains(lost[0].Headline, fmt.Sprintf("%d result(s)", n)) {
		t.Errorf("made %d, delivered %d, the server says %q", len(made), len(got), lost[0].Headline)
	}
	checkDelivered(t, s, append(made[:1:1], made[n+1:]...), r.logs.String())
	if !strings.Contains(r.logs.String(), "the outbox is full") {
		t.Error("giving results up is not logged")
	}
}

func TestParseServerURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://rw.example.net", true},
		{"https://rw.example.net:8443/prefix/", true},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://rw.example.net", false},
		{"http://192.0.2.10:8080", false},
		{"https://user:hunter2@rw.example.net", false},
		{"https://rw.example.net/?token=x", false},
		{"ftp://rw.example.net", false},
		{"https://", false},
		{"https://rw.example.net:99999", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := agent.ParseServerURL(tc.url)
			if (err == nil) != tc.ok {
				t.Errorf("%v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}

// TestCAFile: with --ca-file the agent trusts the server's own CA and
// nothing else; without it, a self-signed server is refused.
func TestCAFile(t *testing.T) {
	r := newRun(t0)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed(t, st)
	h, _ := agentserver.New(agentserver.Options{Auth: auth{}, Sites: sites{every5min}, Store: st})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, ca, srv.Certificate().Raw)
	o := r.options(t.TempDir(), srv.URL)
	o.Once = true
	o.OnceDeliver = time.Minute
	o.Server.CAFile = ca
	if err := r.runUntil(t, o, t0.Add(time.Hour)); err != nil {
		t.Fatalf("with the CA: %v\n%s", err, r.logs.String())
	}
	o = r.options(t.TempDir(), srv.URL)
	o.Once, o.OnceDeliver = true, time.Minute
	if err := r.runUntil(t, o, t0.Add(2*time.Hour)); !errors.Is(err, agent.ErrNoSchedule) {
		t.Fatalf("without the CA: %v, want the server refused (ErrNoSchedule)", err)
	}
	if !strings.Contains(r.logs.String(), "certificate") {
		t.Errorf("the log does not say why:\n%s", r.logs.String())
	}
}

func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
