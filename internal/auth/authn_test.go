// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// routes is the shape the server will have: a login route outside
// Authenticate, everything else inside it, guarded per route.
func routes(a *Authenticator) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		fmt.Fprintf(w, "ok %s %s %s", p.OrgID, p.Kind, p.ID)
	})
	in := http.NewServeMux()
	in.Handle("GET /api/v1/sites", Require(RoleViewer)(ok))
	in.Handle("POST /api/v1/sites", RequireAction(ActionSiteEdit)(ok))
	in.Handle("DELETE /api/v1/sites/{id}", RequireAction(ActionSiteDelete)(ok))
	in.Handle("POST /api/v1/users", Require(RoleAdmin)(ok))
	in.Handle("POST /api/v1/agent/report", RequireAgent(ok))
	in.Handle("GET /csrf", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, CSRFToken(r.Context()))
	}))
	in.Handle("POST /logout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	in.Handle("POST /account/password", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.ChangePassword(w, r, r.PostFormValue("current"), r.PostFormValue("new")); err != nil {
			WriteLoginError(w, err)
		}
	}))
	mux := http.NewServeMux()
	mux.Handle("POST /login", loginHandler(a))
	mux.Handle("/", a.Authenticate(in))
	return mux
}

// session is a logged-in browser.
type session struct {
	cookie *http.Cookie
	csrf   string
}

// login logs name in and returns the browser's cookie and CSRF token.
func (e *testEnv) login(t *testing.T, name string) session {
	t.Helper()
	w := httptest.NewRecorder()
	routes(e.a).ServeHTTP(w, loginRequest(name, testPassword, "192.0.2.10:5000"))
	if w.Code != http.StatusNoContent {
		t.Fatalf("login %s: %d %s", name, w.Code, w.Body)
	}
	var c *http.Cookie
	for _, k := range w.Result().Cookies() {
		if k.Name == SessionCookie {
			c = k
		}
	}
	if c == nil {
		t.Fatalf("login %s set no session cookie", name)
	}
	r := httptest.NewRequest(http.MethodGet, testOrigin+"/csrf", nil)
	r.AddCookie(c)
	w = httptest.NewRecorder()
	routes(e.a).ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.Len() == 0 {
		t.Fatalf("csrf token for %s: %d %q", name, w.Code, w.Body)
	}
	return session{cookie: c, csrf: w.Body.String()}
}

type reqOpt func(*http.Request)

func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withSession(s session) reqOpt { return func(r *http.Request) { r.AddCookie(s.cookie) } }

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Add(k, v) } }

func withoutHeader(k string) reqOpt { return func(r *http.Request) { r.Header.Del(k) } }

// newReq is a request as a same-origin browser would send it (Origin on
// every POST), changed by opts.
func newReq(method, path string, body io.Reader, opts ...reqOpt) *http.Request {
	r := httptest.NewRequest(method, testOrigin+path, body)
	r.RemoteAddr = "192.0.2.10:5000"
	if !safeMethod(method) {
		r.Header.Set("Origin", testOrigin)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func form(vals url.Values) (io.Reader, reqOpt) {
	return strings.NewReader(vals.Encode()), withHeader("Content-Type", "application/x-www-form-urlencoded")
}

func TestAuthenticateMiddleware(t *testing.T) {
	env := newTestEnv(t)
	viewerTok := env.addToken(TokenRecord{ID: "t-view", OrgID: "org-a", Name: "dash", Role: RoleViewer})
	opTok := env.addToken(TokenRecord{ID: "t-op", OrgID: "org-a", Name: "ci", Role: RoleOperator})
	adminTok := env.addToken(TokenRecord{ID: "t-admin", OrgID: "org-a", Name: "ops", Role: RoleAdmin})
	agentTok := env.addToken(TokenRecord{ID: "t-agent", OrgID: "org-a", Name: "agent", Role: RoleAdmin, SiteID: "site-1"})
	revokedTok := env.addToken(TokenRecord{ID: "t-rev", OrgID: "org-a", Role: RoleAdmin, Revoked: true})
	expiredTok := env.addToken(TokenRecord{ID: "t-exp", OrgID: "org-a", Role: RoleAdmin, ExpiresAt: env.clock.Now()})
	unknownTok := GenerateToken().Plain
	// A stored token's prefix with another secret.
	wrongSecret := opTok[:16] + GenerateToken().Plain[16:]
	admin := env.login(t, "alice")
	viewer := env.login(t, "victor")

	const challenge = `Bearer realm="routerwatch"`
	const invalid = `Bearer realm="routerwatch", error="invalid_token"`
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		// challenge is the WWW-Authenticate header wanted ("" none).
		challenge string
		// cleared says the answer deletes the session cookie.
		cleared bool
		body    string // a substring of the body, if set
	}{
		{name: "no_credentials", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil) },
			status: 401, challenge: challenge},
		{name: "malformed_token", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken("hunter2")) },
			status: 401, challenge: invalid},
		{name: "unknown_token", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(unknownTok)) },
			status: 401, challenge: invalid},
		{name: "wrong_secret_right_prefix", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(wrongSecret)) },
			status: 401, challenge: invalid},
		{name: "revoked_token", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(revokedTok)) },
			status: 401, challenge: invalid},
		{name: "expired_token", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(expiredTok)) },
			status: 401, challenge: invalid},
		{name: "basic_auth", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withHeader("Authorization", "Basic YWxpY2U6cHc="))
		}, status: 401, challenge: invalid},
		{name: "two_authorization_headers", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withToken(viewerTok), withHeader("Authorization", "Bearer "+adminTok))
		}, status: 401, challenge: invalid},
		{name: "lower_case_bearer_scheme", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withHeader("Authorization", "bearer "+viewerTok))
		}, status: 200, body: "ok org-a token t-view"},
		{name: "viewer_token_reads", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(viewerTok)) },
			status: 200, body: "ok org-a token t-view"},
		{name: "viewer_token_cannot_add_site", req: func() *http.Request { return newReq("POST", "/api/v1/sites", nil, withToken(viewerTok)) },
			status: 403},
		{name: "operator_token_adds_site_without_csrf", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withToken(opTok), withoutHeader("Origin"))
		}, status: 200},
		{name: "operator_token_cannot_delete_site", req: func() *http.Request { return newReq("DELETE", "/api/v1/sites/1", nil, withToken(opTok)) },
			status: 403},
		{name: "operator_token_cannot_add_user", req: func() *http.Request { return newReq("POST", "/api/v1/users", nil, withToken(opTok)) },
			status: 403},
		{name: "admin_token_deletes_site", req: func() *http.Request { return newReq("DELETE", "/api/v1/sites/1", nil, withToken(adminTok)) },
			status: 200},
		{name: "agent_token_cannot_read_sites", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withToken(agentTok)) },
			status: 403},
		{name: "agent_token_cannot_add_user", req: func() *http.Request { return newReq("POST", "/api/v1/users", nil, withToken(agentTok)) },
			status: 403},
		{name: "agent_token_reports", req: func() *http.Request { return newReq("POST", "/api/v1/agent/report", nil, withToken(agentTok)) },
			status: 200, body: "ok org-a agent t-agent"},
		{name: "admin_token_is_not_an_agent", req: func() *http.Request {
			return newReq("POST", "/api/v1/agent/report", nil, withToken(adminTok))
		}, status: 403},
		{name: "bad_token_beats_good_session", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withToken(unknownTok), withSession(admin))
		}, status: 401, challenge: invalid},
		{name: "session_reads", req: func() *http.Request { return newReq("GET", "/api/v1/sites", nil, withSession(admin)) },
			status: 200, body: "ok org-a user u-admin"},
		{name: "session_post_with_csrf_header", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf))
		}, status: 200},
		{name: "session_post_with_csrf_form_field", req: func() *http.Request {
			body, ct := form(url.Values{CSRFField: {admin.csrf}, "name": {"office"}})
			return newReq("POST", "/api/v1/sites", body, withSession(admin), ct)
		}, status: 200},
		{name: "session_post_with_csrf_multipart_field", req: func() *http.Request {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField(CSRFField, admin.csrf)
			mw.Close()
			return newReq("POST", "/api/v1/sites", &b, withSession(admin), withHeader("Content-Type", mw.FormDataContentType()))
		}, status: 200},
		{name: "session_post_without_csrf", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin))
		}, status: 403, body: "CSRF"},
		{name: "session_delete_without_csrf", req: func() *http.Request {
			return newReq("DELETE", "/api/v1/sites/1", nil, withSession(admin))
		}, status: 403, body: "CSRF"},
		{name: "session_post_with_another_sessions_csrf", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, viewer.csrf))
		}, status: 403, body: "CSRF"},
		{name: "session_post_with_csrf_in_query_only", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites?"+CSRFField+"="+admin.csrf, nil, withSession(admin))
		}, status: 403, body: "CSRF"},
		{name: "session_post_from_other_origin", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withoutHeader("Origin"), withHeader("Origin", "https://evil.example.net"))
		}, status: 403, body: "cross-origin"},
		{name: "session_post_cross_site_fetch", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withHeader("Sec-Fetch-Site", "cross-site"))
		}, status: 403, body: "cross-origin"},
		{name: "session_post_origin_null", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withoutHeader("Origin"), withHeader("Origin", "null"))
		}, status: 403, body: "cross-origin"},
		{name: "session_post_http_origin_to_https", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withoutHeader("Origin"), withHeader("Origin", "http://"+testHost))
		}, status: 403, body: "cross-origin"},
		{name: "session_post_no_origin_no_referer", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf), withoutHeader("Origin"))
		}, status: 403, body: "no Origin or Referer"},
		{name: "session_post_same_referer", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withoutHeader("Origin"), withHeader("Referer", testOrigin+"/sites?x=1"))
		}, status: 200},
		{name: "session_post_other_referer", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(admin), withHeader(CSRFHeader, admin.csrf),
				withoutHeader("Origin"), withHeader("Referer", "https://rw.example.org.evil.example.net/"))
		}, status: 403, body: "cross-origin"},
		{name: "viewer_session_cannot_add_site", req: func() *http.Request {
			return newReq("POST", "/api/v1/sites", nil, withSession(viewer), withHeader(CSRFHeader, viewer.csrf))
		}, status: 403, body: "role"},
		{name: "garbage_cookie", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withSession(session{cookie: &http.Cookie{Name: SessionCookie, Value: "abc"}}))
		}, status: 401, challenge: challenge, cleared: true},
		{name: "unknown_session", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withSession(session{cookie: &http.Cookie{Name: SessionCookie, Value: newSessionID().cookieValue()}}))
		}, status: 401, challenge: challenge, cleared: true},
		{name: "cookie_without_host_prefix_ignored", req: func() *http.Request {
			return newReq("GET", "/api/v1/sites", nil, withSession(session{cookie: &http.Cookie{Name: "rw_session", Value: admin.cookie.Value}}))
		}, status: 401, challenge: challenge},
	}
	h := routes(env.a)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req())
			if w.Code != tc.status {
				t.Fatalf("status %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tc.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			cleared := false
			for _, c := range w.Result().Cookies() {
				cleared = cleared || (c.Name == SessionCookie && c.MaxAge < 0)
			}
			if cleared != tc.cleared {
				t.Errorf("cookie cleared %v, want %v", cleared, tc.cleared)
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q does not contain %q", w.Body, tc.body)
			}
		})
	}
}

func TestTrustedOrigin(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.TrustedOrigins = []string{"https://dash.example.org"} })
	s := env.login(t, "alice")
	h := routes(env.a)
	for _, tc := range []struct {
		name, origin, fetchSite string
		status                  int
	}{
		{name: "own_origin", origin: testOrigin, fetchSite: "same-origin", status: 200},
		{name: "trusted_origin", origin: "https://dash.example.org", fetchSite: "same-site", status: 200},
		{name: "trusted_origin_old_browser", origin: "https://dash.example.org", status: 200},
		{name: "trusted_host_other_port", origin: "https://dash.example.org:8443", fetchSite: "same-site", status: 403},
		{name: "other_origin", origin: "https://example.net", fetchSite: "cross-site", status: 403},
		{name: "other_origin_old_browser", origin: "https://example.net", status: 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq("POST", "/api/v1/sites", nil, withSession(s), withHeader(CSRFHeader, s.csrf),
				withoutHeader("Origin"), withHeader("Origin", tc.origin), func(r *http.Request) {
					if tc.fetchSite != "" {
						r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
					}
				}))
			if w.Code != tc.status {
				t.Errorf("status %d (%s), want %d", w.Code, w.Body, tc.status)
			}
		})
	}
	if _, err := New(Config{Users: env.store, Tokens: env.store, Sessions: env.store, Audit: env.store,
		TrustedOrigins: []string{"https://dash.example.org/path"}}); err == nil {
		t.Error("New accepted a trusted origin with a path")
	}
}

func TestSessionCookieAndRotation(t *testing.T) {
	env := newTestEnv(t)
	first := env.login(t, "alice")
	c := first.cookie
	if c.Name != "__Host-rw_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != 0 {
		t.Errorf("session cookie %+v: want __Host-rw_session, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, no Max-Age", c)
	}
	if b, err := cookieB64.DecodeString(c.Value); err != nil || len(b) != 32 {
		t.Errorf("session ID decodes to %d bytes (%v), want 32", len(b), err)
	}
	// Nothing stored is the cookie's value.
	for k := range env.store.sessions {
		if strings.Contains(k, c.Value) || bytes.Contains([]byte(k), mustDecode(t, c.Value)) {
			t.Error("the store holds the session ID itself")
		}
	}
	// Logging in again from the same browser replaces the session.
	w := httptest.NewRecorder()
	r := loginRequest("alice", testPassword, "192.0.2.10:5000")
	r.AddCookie(c)
	routes(env.a).ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("second login: %d", w.Code)
	}
	second := w.Result().Cookies()[0]
	if second.Value == c.Value {
		t.Error("login kept the session ID the browser brought (fixation)")
	}
	if n := env.store.sessionCount(); n != 1 {
		t.Errorf("%d sessions after a re-login, want 1 (the old one deleted)", n)
	}
	w = httptest.NewRecorder()
	routes(env.a).ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, withSession(first)))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("the replaced session still works: %d", w.Code)
	}
	// A planted session ID that the store never issued is not adopted.
	w = httptest.NewRecorder()
	r = loginRequest("victor", testPassword, "192.0.2.10:5000")
	planted := newSessionID().cookieValue()
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: planted})
	routes(env.a).ServeHTTP(w, r)
	if got := w.Result().Cookies()[0].Value; got == planted {
		t.Error("login adopted a planted session ID")
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := cookieB64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		name string
		// gaps are the pauses between requests; the last request's
		// status is checked.
		gaps []time.Duration
		want int
	}{
		{name: "fresh", gaps: []time.Duration{0}, want: 200},
		{name: "idle_29_minutes", gaps: []time.Duration{29 * time.Minute}, want: 200},
		{name: "idle_30_minutes", gaps: []time.Duration{30 * time.Minute}, want: 401},
		{name: "active_keeps_alive", gaps: []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, want: 200},
		{name: "touch_granularity", gaps: []time.Duration{30 * time.Second, 29*time.Minute + 45*time.Second}, want: 401},
		{name: "absolute_lifetime", gaps: repeat(25*time.Minute, 12*60/25+1), want: 401},
		{name: "within_lifetime", gaps: repeat(25*time.Minute, 12*60/25), want: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			s := env.login(t, "alice")
			h := routes(env.a)
			var code int
			for _, g := range tc.gaps {
				env.clock.Add(g)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, withSession(s)))
				code = w.Code
			}
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
			if code == 401 && env.store.sessionCount() != 0 {
				t.Error("an expired session stays in the store")
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

func TestLastUsedWrittenOncePerMinute(t *testing.T) {
	env := newTestEnv(t)
	tok := env.addToken(TokenRecord{ID: "t1", OrgID: "org-a", Role: RoleViewer})
	s := env.login(t, "alice")
	h := routes(env.a)
	env.store.sessionTouches = 0
	for i := range 240 {
		for _, opt := range []reqOpt{withToken(tok), withSession(s)} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, opt))
			if w.Code != 200 {
				t.Fatalf("request %d: %d", i, w.Code)
			}
		}
		env.clock.Add(time.Second) // 240 requests each over 4 minutes
	}
	// The token: first use, then at 1, 2, 3 minutes. The session was
	// created at the start (LastSeen then): touched at 1, 2, 3 minutes.
	if env.store.tokenTouches != 4 || env.store.sessionTouches != 3 {
		t.Errorf("%d token and %d session writes for 240 requests each over 4 minutes, want 4 and 3",
			env.store.tokenTouches, env.store.sessionTouches)
	}
	if got := env.store.tokens["t1"].LastUsed; !got.Equal(env.clock.Now().Add(-time.Minute)) {
		t.Errorf("LastUsed = %v, want the 3-minute mark", got)
	}
	// Another server process (its own memory, the same store) does not
	// write either while the stored time is recent.
	env.clock.Add(-50 * time.Second) // 10 s after the last write
	other, err := New(Config{Users: env.store, Tokens: env.store, Sessions: env.store, Audit: env.store,
		Hasher: env.a.hasher, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	before := env.store.tokenTouches
	w := httptest.NewRecorder()
	routes(other).ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, withToken(tok)))
	if w.Code != 200 || env.store.tokenTouches != before {
		t.Errorf("a second process wrote LastUsed 10 s after the first did (%d, %d writes)", w.Code, env.store.tokenTouches-before)
	}
}

func TestRequireGuards(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	user := func(r Role) *Principal { return &Principal{OrgID: "o", Kind: KindUser, ID: "u", Role: r} }
	// An agent whose stored token wrongly carries a role.
	agent := &Principal{OrgID: "o", Kind: KindAgent, ID: "a", Role: RoleAdmin, SiteID: "s"}
	siteless := &Principal{OrgID: "o", Kind: KindAgent, ID: "a"}
	tests := []struct {
		name   string
		guard  func(http.Handler) http.Handler
		p      *Principal
		status int
	}{
		{name: "require_without_authenticate", guard: Require(RoleViewer), p: nil, status: 401},
		{name: "action_without_authenticate", guard: RequireAction(ActionView), p: nil, status: 401},
		{name: "agent_route_without_authenticate", guard: RequireAgent, p: nil, status: 401},
		{name: "viewer_meets_viewer", guard: Require(RoleViewer), p: user(RoleViewer), status: 200},
		{name: "viewer_below_operator", guard: Require(RoleOperator), p: user(RoleViewer), status: 403},
		{name: "admin_meets_operator", guard: Require(RoleOperator), p: user(RoleAdmin), status: 200},
		{name: "agent_with_role_refused", guard: Require(RoleViewer), p: agent, status: 403},
		{name: "agent_with_role_refused_action", guard: RequireAction(ActionView), p: agent, status: 403},
		{name: "agent_route_agent", guard: RequireAgent, p: agent, status: 200},
		{name: "agent_route_agent_without_site", guard: RequireAgent, p: siteless, status: 403},
		{name: "agent_route_admin", guard: RequireAgent, p: user(RoleAdmin), status: 403},
		{name: "unknown_role", guard: Require(RoleViewer), p: user("root"), status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.p != nil {
				r = r.WithContext(WithPrincipal(r.Context(), *tc.p))
			}
			w := httptest.NewRecorder()
			tc.guard(ok).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
		})
	}
}

func TestLoginErrorsAreAlike(t *testing.T) {
	tests := []struct {
		name, user, password string
		setup                func(*fakeStore)
	}{
		{name: "unknown_user", user: "mallory", password: testPassword},
		{name: "wrong_password", user: "alice", password: "not the password"},
		{name: "disabled_user_right_password", user: "olga", password: testPassword},
		{name: "unusable_stored_hash", user: "alice", password: testPassword, setup: func(s *fakeStore) {
			u := s.users["u-admin"]
			u.PasswordHash = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng"
			s.users["u-admin"] = u
		}},
	}
	var bodies []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			if tc.setup != nil {
				tc.setup(env.store)
			}
			w := httptest.NewRecorder()
			routes(env.a).ServeHTTP(w, loginRequest(tc.user, tc.password, "192.0.2.10:5000"))
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", w.Code)
			}
			if n := env.hashes.Load(); n != 1 {
				t.Errorf("argon2 ran %d times, want exactly 1 (equal work for every failure)", n)
			}
			if len(w.Result().Cookies()) != 0 || env.store.sessionCount() != 0 {
				t.Error("a failed login set a cookie or stored a session")
			}
			bodies = append(bodies, w.Body.String())
		})
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("login failures answer differently: %q vs %q", bodies[0], b)
		}
	}
}

func TestLoginRefusals(t *testing.T) {
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{name: "cross_origin_login", status: 403, req: func() *http.Request {
			r := loginRequest("alice", testPassword, "192.0.2.10:5000")
			r.Header.Set("Origin", "https://evil.example.net")
			return r
		}},
		{name: "login_without_origin", status: 403, req: func() *http.Request {
			r := loginRequest("alice", testPassword, "192.0.2.10:5000")
			r.Header.Del("Origin")
			return r
		}},
		{name: "overlong_password", status: 401, req: func() *http.Request {
			return loginRequest("alice", strings.Repeat("x", MaxPasswordLen+1), "192.0.2.10:5000")
		}},
		{name: "empty_name", status: 401, req: func() *http.Request {
			return loginRequest("", testPassword, "192.0.2.10:5000")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			w := httptest.NewRecorder()
			routes(env.a).ServeHTTP(w, tc.req())
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			if n := env.hashes.Load(); n != 0 {
				t.Errorf("argon2 ran %d times for a request refused before the password", n)
			}
		})
	}
}

func TestStoreFailureIsNotALogin(t *testing.T) {
	env := newTestEnv(t)
	tok := env.addToken(TokenRecord{ID: "t1", OrgID: "org-a", Role: RoleViewer})
	s := env.login(t, "alice")
	env.store.fail = errStoreDown
	h := routes(env.a)
	for _, opt := range []reqOpt{withToken(tok), withSession(s)} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, opt))
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "unavailable: ") {
			t.Errorf("store down: %d %q, want 500 without detail", w.Code, w.Body)
		}
	}
	// Failed store reads do not count against the user.
	for range 10 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, loginRequest("alice", testPassword, "192.0.2.10:5000"))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("login with the store down: %d, want 500", w.Code)
		}
	}
	env.store.fail = nil
	w := httptest.NewRecorder()
	h.ServeHTTP(w, loginRequest("alice", testPassword, "192.0.2.10:5000"))
	if w.Code != http.StatusNoContent {
		t.Errorf("login after the store came back: %d, want 204", w.Code)
	}
}

func TestAccountChangesTakeEffectAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fakeStore)
		status int
	}{
		{name: "unchanged", change: func(*fakeStore) {}, status: 200},
		{name: "demoted_to_viewer", change: func(s *fakeStore) {
			u := s.users["u-admin"]
			u.Role = RoleViewer
			s.users["u-admin"] = u
		}, status: 403},
		{name: "disabled", change: func(s *fakeStore) {
			u := s.users["u-admin"]
			u.Disabled = true
			s.users["u-admin"] = u
		}, status: 401},
		{name: "deleted", change: func(s *fakeStore) { delete(s.users, "u-admin") }, status: 401},
		{name: "moved_to_other_org", change: func(s *fakeStore) {
			u := s.users["u-admin"]
			u.OrgID = "org-b"
			s.users["u-admin"] = u
		}, status: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			s := env.login(t, "alice")
			tc.change(env.store)
			w := httptest.NewRecorder()
			routes(env.a).ServeHTTP(w, newReq("DELETE", "/api/v1/sites/1", nil, withSession(s), withHeader(CSRFHeader, s.csrf)))
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
		})
	}
}

func TestPrincipalCarriesOrganisation(t *testing.T) {
	env := newTestEnv(t)
	bob := env.login(t, "bob")
	tok := env.addToken(TokenRecord{ID: "t-b", OrgID: "org-b", Role: RoleViewer})
	for _, opt := range []reqOpt{withSession(bob), withToken(tok)} {
		w := httptest.NewRecorder()
		routes(env.a).ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, opt))
		if !strings.HasPrefix(w.Body.String(), "ok org-b ") {
			t.Errorf("principal %q, want organisation org-b", w.Body)
		}
	}
}

func TestLogout(t *testing.T) {
	env := newTestEnv(t)
	s := env.login(t, "alice")
	other := env.login(t, "alice") // another browser
	h := routes(env.a)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, newReq("POST", "/logout", nil, withSession(s)))
	if w.Code != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d, want 403", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, newReq("POST", "/logout", nil, withSession(s), withHeader(CSRFHeader, s.csrf)))
	if w.Code != http.StatusOK {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 || c[0].Value != "" {
		t.Errorf("logout cookies %+v, want the session cookie deleted", c)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, withSession(s)))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("session after logout: %d, want 401", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, newReq("GET", "/api/v1/sites", nil, withSession(other)))
	if w.Code != http.StatusOK {
		t.Errorf("the other browser's session after logout: %d, want 200", w.Code)
	}
	if last := env.store.audit[len(env.store.audit)-1]; last.Action != "session.logout" || last.ActorID != "u-admin" {
		t.Errorf("last audit entry %+v, want the logout", last)
	}
}

func TestRehashAtLogin(t *testing.T) {
	env := newTestEnv(t)
	old := newHasher(Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, env.a.hasher.key)
	phc, err := old.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := env.store.users["u-admin"]
	u.PasswordHash = phc
	env.store.users["u-admin"] = u
	env.login(t, "alice")
	got := env.store.users["u-admin"].PasswordHash
	if env.store.rehashes != 1 || env.a.hasher.NeedsRehash(got) {
		t.Errorf("after login with old parameters: %d rehashes, hash %q", env.store.rehashes, got)
	}
	env.login(t, "alice") // the new hash works, and needs no rehash
	if env.store.rehashes != 1 {
		t.Errorf("%d rehashes after a second login, want 1", env.store.rehashes)
	}
}

func TestChangePassword(t *testing.T) {
	const next = "a much better passphrase"
	tests := []struct {
		name, current, next string
		status              int
	}{
		{name: "changed", current: testPassword, next: next, status: 200},
		{name: "wrong_current", current: "wrong", next: next, status: 401},
		{name: "too_short", current: testPassword, next: "short", status: 400},
		{name: "control_character", current: testPassword, next: "abcdefghijkl\t", status: 400},
		{name: "unchanged", current: testPassword, next: testPassword, status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			s := env.login(t, "alice")
			other := env.login(t, "alice")
			body, ct := form(url.Values{"current": {tc.current}, "new": {tc.next}})
			w := httptest.NewRecorder()
			routes(env.a).ServeHTTP(w, newReq("POST", "/account/password", body, withSession(s), withHeader(CSRFHeader, s.csrf), ct))
			if w.Code != tc.status {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tc.status)
			}
			w2 := httptest.NewRecorder()
			routes(env.a).ServeHTTP(w2, newReq("GET", "/api/v1/sites", nil, withSession(other)))
			if tc.status == 200 {
				if w2.Code != 401 {
					t.Error("another session survived the password change")
				}
				if len(w.Result().Cookies()) != 1 {
					t.Error("no new session cookie for the browser that changed it")
				}
				ok, _ := env.a.hasher.Verify(t.Context(), tc.next, env.store.users["u-admin"].PasswordHash)
				if !ok {
					t.Error("the stored hash is not of the new password")
				}
			} else if w2.Code != 200 {
				t.Error("a refused change ended other sessions")
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	a, err := New(Config{Users: newFakeStore(), Tokens: newFakeStore(), Sessions: newFakeStore(), Audit: newFakeStore(),
		Hasher:         newHasher(tinyParams, nil),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28"), netip.MustParsePrefix("2001:db8:ffff::/48")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff, want string
	}{
		{name: "direct", remote: "198.51.100.7:4000", want: "198.51.100.7"},
		{name: "direct_ignores_xff", remote: "198.51.100.7:4000", xff: "203.0.113.9", want: "198.51.100.7"},
		{name: "proxy_forwards", remote: "192.0.2.1:4000", xff: "203.0.113.9", want: "203.0.113.9"},
		{name: "proxy_chain_rightmost_untrusted", remote: "192.0.2.1:4000", xff: "198.51.100.66, 203.0.113.9, 192.0.2.2", want: "203.0.113.9"},
		{name: "spoofed_left_part_ignored", remote: "192.0.2.1:4000", xff: "203.0.113.200, 203.0.113.9", want: "203.0.113.9"},
		{name: "proxy_without_xff", remote: "192.0.2.1:4000", want: "192.0.2.1"},
		{name: "garbage_hop_stops", remote: "192.0.2.1:4000", xff: "203.0.113.9, nonsense", want: "192.0.2.1"},
		{name: "ipv6_proxy", remote: "[2001:db8:ffff::1]:4000", xff: "2001:db8:1::5", want: "2001:db8:1::5"},
		{name: "mapped_ipv4_peer", remote: "[::ffff:198.51.100.7]:4000", want: "198.51.100.7"},
		{name: "unparseable_peer", remote: "pipe", want: "invalid IP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := a.ClientAddr(r).String(); got != tc.want {
				t.Errorf("ClientAddr = %s, want %s", got, tc.want)
			}
		})
	}
	// A trusted proxy's X-Forwarded-Proto decides the scheme.
	r := httptest.NewRequest("POST", "http://"+testHost+"/x", nil)
	r.RemoteAddr = "192.0.2.1:4000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Origin", testOrigin)
	if err := a.CheckOrigin(r); err != nil {
		t.Errorf("https origin through a trusted TLS proxy refused: %v", err)
	}
	r.RemoteAddr = "198.51.100.7:4000"
	if err := a.CheckOrigin(r); !errors.Is(err, ErrCrossOrigin) {
		t.Errorf("X-Forwarded-Proto from an untrusted peer believed: %v", err)
	}
}

func TestNewNeedsStores(t *testing.T) {
	if _, err := New(Config{Users: newFakeStore()}); err == nil {
		t.Error("New without Tokens, Sessions and Audit succeeded")
	}
}

func TestChangePasswordNeedsSession(t *testing.T) {
	env := newTestEnv(t)
	tok := env.addToken(TokenRecord{ID: "t1", OrgID: "org-a", Role: RoleAdmin})
	body, ct := form(url.Values{"current": {testPassword}, "new": {"a much better passphrase"}})
	w := httptest.NewRecorder()
	routes(env.a).ServeHTTP(w, newReq("POST", "/account/password", body, withToken(tok), ct))
	if w.Code != http.StatusForbidden {
		t.Errorf("password change with an API token: %d, want 403", w.Code)
	}
}

// TestChangePasswordAfterRename: the session's user is found by ID, so
// a renamed user changes their own password, never another user's.
func TestChangePasswordAfterRename(t *testing.T) {
	env := newTestEnv(t)
	s := env.login(t, "alice")
	u := env.store.users["u-admin"]
	u.Name = "alicia"
	env.store.users["u-admin"] = u
	// Another user now has the old name.
	env.store.users["u-new"] = UserRecord{ID: "u-new", OrgID: "org-b", Name: "alice", Role: RoleViewer, PasswordHash: u.PasswordHash}
	body, ct := form(url.Values{"current": {testPassword}, "new": {"a much better passphrase"}})
	w := httptest.NewRecorder()
	routes(env.a).ServeHTTP(w, newReq("POST", "/account/password", body, withSession(s), withHeader(CSRFHeader, s.csrf), ct))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d (%s)", w.Code, w.Body)
	}
	if env.store.users["u-new"].PasswordHash != u.PasswordHash || env.store.users["u-admin"].PasswordHash == u.PasswordHash {
		t.Error("the password of the user now called alice changed instead of the session's")
	}
}
