// SPDX-License-Identifier: Apache-2.0

package agentserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

// storeTokens adapts the store to auth.Tokens, as the server does.
type storeTokens struct{ st store.Store }

func (s storeTokens) TokenByPrefix(ctx context.Context, prefix string) (auth.TokenRecord, error) {
	t, err := s.st.TokenByPrefix(ctx, prefix)
	if errors.Is(err, store.ErrNotFound) {
		return auth.TokenRecord{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.TokenRecord{}, err
	}
	return auth.TokenRecord{ID: strconv.FormatInt(t.ID, 10), OrgID: t.OrgID, Name: t.Name, Role: auth.Role(t.Role), SiteID: t.SiteID,
		Prefix: t.Prefix, Hash: t.Hash, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsed: t.LastUsed, Revoked: t.Revoked()}, nil
}

func (s storeTokens) TouchToken(ctx context.Context, id string, at time.Time) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return err
	}
	return s.st.TouchToken(ctx, n, at)
}

// noUsers is the rest of auth's store: nobody logs in here.
type noUsers struct{}

func (noUsers) UserByName(context.Context, string) (auth.UserRecord, error) {
	return auth.UserRecord{}, auth.ErrNotFound
}
func (noUsers) UserByID(context.Context, string) (auth.UserRecord, error) {
	return auth.UserRecord{}, auth.ErrNotFound
}
func (noUsers) SetPasswordHash(context.Context, string, string) error { return auth.ErrNotFound }
func (noUsers) RecordLogin(context.Context, string, time.Time) error  { return auth.ErrNotFound }
func (noUsers) CreateSession(context.Context, auth.SessionRecord) error {
	return errors.New("no sessions")
}
func (noUsers) TouchSession(context.Context, []byte, time.Time) error { return auth.ErrNotFound }
func (noUsers) DeleteSession(context.Context, []byte) error           { return nil }
func (noUsers) DeleteUserSessions(context.Context, string) error      { return nil }
func (noUsers) AppendAudit(context.Context, auth.AuditEntry) error    { return nil }
func (noUsers) SessionByHash(context.Context, []byte) (auth.SessionRecord, error) {
	return auth.SessionRecord{}, auth.ErrNotFound
}

// TestWiredToAuthAndStore: the handler behind internal/auth's middleware,
// with the sites and tokens of the store. An agent token of a site gets
// that site's schedule (its devices as routers) and its results land in
// its organisation's data only; a user's API token is refused (403), a
// revoked or missing token too (401), and the handler mounted without the
// middleware fails closed.
func TestWiredToAuthAndStore(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens := map[string]string{}
	for _, org := range []string{"acme", "globex"} {
		if _, err := st.CreateOrg(ctx, store.Org{ID: org, Name: org}); err != nil {
			t.Fatal(err)
		}
		ten := st.ForOrg(org)
		// Both organisations have a site called "office", with the
		// same router ID: IDs are per organisation.
		if _, err := ten.PutSite(ctx, store.Site{ID: "office", Name: org + " office", Schedule: 30 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		if _, err := ten.PutDevice(ctx, store.Device{ID: "gw", Site: "office", Address: "192.0.2.1", Adapter: "tplink-legacy", Label: org + " router"}); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"agent", "api", "revoked"} {
			nt := auth.GenerateToken()
			tok := store.Token{Name: kind, Prefix: nt.Prefix, Hash: nt.Hash, Role: store.RoleOperator}
			if kind != "api" {
				tok.Role, tok.SiteID = store.RoleAgent, "office"
			}
			rec, err := ten.CreateToken(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if kind == "revoked" {
				if _, err := ten.RevokeToken(ctx, rec.ID, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			tokens[org+"/"+kind] = nt.Plain
		}
	}
	// A host name is no address the agent could use: not scheduled.
	if _, err := st.ForOrg("acme").PutDevice(ctx, store.Device{ID: "nas", Site: "office", Address: "nas.lan"}); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: noUsers{}, Tokens: storeTokens{st}, Sessions: noUsers{}, Audit: noUsers{}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := agentserver.New(agentserver.Options{Auth: agentserver.AuthPrincipal{}, Sites: agentserver.StoreSites{Store: st}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(agentapi.BasePath, a.Authenticate(h))
	mux.Handle("/unguarded"+agentapi.BasePath, http.StripPrefix("/unguarded", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	do := func(method, path, tok string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, b := do("GET", agentapi.SchedulePath, tokens["acme/agent"], nil)
	if code != 200 {
		t.Fatalf("schedule: %d %s", code, b)
	}
	s, err := agentapi.DecodeSchedule(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s.Site != "office" || s.SiteName != "acme office" || len(s.Tasks) != 3 || s.Tasks[0].IntervalSeconds != 1800 ||
		len(s.Routers) != 1 || s.Routers[0].ID != "gw" || s.Routers[0].Address != netip.MustParseAddr("192.0.2.1") || s.Routers[0].Label != "acme router" {
		t.Errorf("acme's schedule: %+v", s)
	}

	batch, _ := json.Marshal(agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(t, 1, "hijacked"), configResult(t, 2, "203.0.113.66")}})
	if code, b := do("POST", agentapi.ResultsPath, tokens["acme/agent"], batch); code != 200 {
		t.Fatalf("acme's results: %d %s", code, b)
	}
	for _, tc := range []struct {
		name, path, tok string
		code            int
	}{
		{"api_token", agentapi.ResultsPath, tokens["acme/api"], 403},
		{"revoked", agentapi.ResultsPath, tokens["acme/revoked"], 401},
		{"none", agentapi.ResultsPath, "", 401},
		{"malformed", agentapi.ResultsPath, "rw_nothing", 401},
		{"unguarded", "/unguarded" + agentapi.ResultsPath, tokens["acme/agent"], 401},
	} {
		if code, b := do("POST", tc.path, tc.tok, batch); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		}
	}

	acme, globex := st.ForOrg("acme"), st.ForOrg("globex")
	if n, err := acme.CountSnapshots(ctx, "gw"); err != nil || n != 1 {
		t.Errorf("acme's router has %d snapshots (%v), want the agent's 1", n, err)
	}
	if as, _ := acme.Alerts(ctx, store.AlertFilter{State: store.AlertOpen}, store.Page{}); len(as) != 1 || as[0].DeviceID != "office/network" {
		t.Errorf("acme's open alerts: %+v, want the one hijack alert on its office network", as)
	}
	for name, n := range map[string]func() (int, error){
		"snapshots": func() (int, error) { return globex.CountSnapshots(ctx, "gw") },
		"audits": func() (int, error) {
			as, err := globex.Audits(ctx, store.AuditFilter{}, store.Page{})
			return len(as), err
		},
		"alerts": func() (int, error) {
			as, err := globex.Alerts(ctx, store.AlertFilter{}, store.Page{})
			return len(as), err
		},
	} {
		if got, err := n(); err != nil || got != 0 {
			t.Errorf("globex has %d %s (%v) after acme's agent reported", got, name, err)
		}
	}
	// globex's agent counts from 1 on its own ledger.
	gb, _ := json.Marshal(agentapi.Batch{Version: 1, AgentID: "a1", Results: []agentapi.Result{dnsResult(t, 1, "clean")}})
	if code, b := do("POST", agentapi.ResultsPath, tokens["globex/agent"], gb); code != 200 || !bytes.Contains(b, []byte(`"acked_seq":1`)) {
		t.Errorf("globex's first result: %d %s", code, b)
	}
}

// TestDeviceOfAnotherSite: an agent's result that names a device of
// another site of its organisation is not kept on that device; the
// site's history says so, and the ledger moves on.
func TestDeviceOfAnotherSite(t *testing.T) {
	w := newWorld(t, nil)
	ten := w.ten("org-1")
	if _, err := ten.PutSite(t.Context(), store.Site{ID: "office-c", Name: "Office C"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ten.PutDevice(t.Context(), store.Device{ID: "printer", Site: "office-c", Address: "192.0.2.9", Adapter: "tplink-legacy"}); err != nil {
		t.Fatal(err)
	}
	r := configResult(t, 1, "203.0.113.66")
	r.Router = "printer"
	if a := w.post(t, tokenA, "agent-1", r); a.code != 200 || a.ack.AckedSeq != 1 {
		t.Fatalf("%d %+v", a.code, a.ack)
	}
	if n, _ := ten.CountSnapshots(t.Context(), "printer"); n != 0 {
		t.Errorf("site A's agent wrote %d snapshots on site C's device", n)
	}
	if d, _ := ten.Device(t.Context(), "printer"); d.Site != "office-c" {
		t.Errorf("the device moved to site %q", d.Site)
	}
	as := w.audits(t, "office-a/network", agentserver.KindAgent)
	if len(as) != 1 || as[0].Verdict != "refused" {
		t.Errorf("site A's history: %+v", as)
	}
}
