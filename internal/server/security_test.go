// SPDX-License-Identifier: Apache-2.0

package server

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/store"
)

// The security tests walk the route table itself (s.routes), so a route
// added later is tested without anyone adding a case.

// validBody is a body each state-changing route accepts, so that an
// answer of 403 or 404 is about who asks, not about what was sent.
var validBody = map[string]string{
	"POST /api/v1/sites":                     `{"id":"new-site","name":"New site"}`,
	"PATCH /api/v1/sites/{site}":             `{"name":"Acme Office"}`,
	"POST /api/v1/sites/{site}/agent-tokens": `{"name":"agent"}`,
	"POST /api/v1/alerts/{alert}/ack":        ``,
	"POST /api/v1/alerts/{alert}/suppress":   `{"seconds":3600}`,
	"POST /api/v1/tokens":                    `{"name":"script","role":"viewer"}`,
	"POST /api/v1/tokens/{token}/revoke":     ``,
	"POST /api/v1/users":                     `{"name":"new-user","role":"viewer","password":"a long enough password"}`,
	"PATCH /api/v1/users/{user}":             `{"role":"viewer"}`,
	"POST /api/v1/range-scopes":              `{"prefixes":["198.51.100.0/25"],"owner":"owner","reason":"reason","per_prefix_rate":1}`,
	"POST /api/v1/range-scopes/{scope}/runs": ``,
	"POST /api/v1/sites/{site}/wan-check":    ``,
	"POST /ranges/{scope}/runs":              ``,
	"POST /sites/{site}/wan-check":           ``,
	"POST /login":                            `name=nobody&password=wrong`,
	"POST /logout":                           ``,
	// A new password the policy refuses: the route is reached, and
	// nothing changes.
	"POST /account/password":          `current=x&new=short`,
	"POST /sites":                     `id=new-page-site&name=New+site`,
	"POST /sites/{site}":              `name=Acme+Office`,
	"POST /sites/{site}/agent-tokens": `name=agent`,
	"POST /alerts/{alert}/ack":        ``,
	"POST /alerts/{alert}/suppress":   `hours=1`,
	"POST /users":                     `name=new-page-user&role=viewer&password=a+long+enough+password`,
	"POST /users/{user}":              `role=viewer`,
	"POST /tokens":                    `name=script&role=viewer`,
	"POST /tokens/{token}/revoke":     ``,
}

var wildcard = regexp.MustCompile(`\{([a-z$]+)\}`)

// pathFor fills a route's wildcards with ids.
func pathFor(t *testing.T, rt route, ids map[string]string) string {
	t.Helper()
	p := wildcard.ReplaceAllStringFunc(rt.path, func(w string) string {
		name := strings.Trim(w, "{}")
		if name == "$" {
			return ""
		}
		v, ok := ids[name]
		if !ok {
			t.Fatalf("route %s: no test ID for {%s}", rt.pattern(), name)
		}
		return v
	})
	return p
}

// cred is who a request comes as: a bearer token, or a session with its
// CSRF token.
type cred struct {
	token, cookie, csrf string
}

// call sends rt as c with its valid body.
func (f *fixture) call(t *testing.T, rt route, c cred, ids map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	body, ok := validBody[rt.pattern()]
	if rt.changes() && !ok {
		t.Fatalf("route %s changes state but has no test body in validBody", rt.pattern())
	}
	return f.do(request{method: cmp.Or(rt.method, http.MethodGet), path: pathFor(t, rt, ids), body: body, token: c.token, cookie: c.cookie, csrf: c.csrf})
}

// credFor is a principal of org with role: a token for the API, a
// fresh session for the dashboard (a fresh one per call for the routes
// that end the session).
func (f *fixture) credFor(t *testing.T, rt route, org string, role store.Role, sessions map[string]cred) cred {
	t.Helper()
	if rt.api || rt.access == accessMetrics {
		return cred{token: f.tokens[org+"/"+string(role)]}
	}
	login := map[string]string{"acme": "acme-" + string(role), "globex": "gina-admin"}[org]
	if rt.pattern() == "POST /logout" {
		ck, csrf := f.session(login)
		return cred{cookie: ck, csrf: csrf}
	}
	key := org + "/" + string(role)
	if c, ok := sessions[key]; ok {
		return c
	}
	ck, csrf := f.session(login)
	sessions[key] = cred{cookie: ck, csrf: csrf}
	return sessions[key]
}

// spareIDs points the token route at a token nobody uses, so revoking
// it breaks no later case.
func (f *fixture) spareIDs(t *testing.T) map[string]string {
	t.Helper()
	nt := auth.GenerateToken()
	tok, err := f.st.ForOrg("acme").CreateToken(context.Background(), store.Token{Name: "acme spare", Role: store.RoleViewer, Prefix: nt.Prefix, Hash: nt.Hash})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for k, v := range f.ids {
		ids[k] = v
	}
	ids["token"] = fmt.Sprint(tok.ID)
	return ids
}

func TestEveryRouteWithoutCredentials(t *testing.T) {
	f := newFixture(t)
	for _, rt := range f.srv.routes {
		t.Run(rt.pattern(), func(t *testing.T) {
			w := f.call(t, rt, cred{}, f.ids)
			switch {
			case rt.pattern() == "POST /login":
				if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "wrong login name or password") {
					t.Errorf("a wrong login answered %d", w.Code)
				}
			case rt.access == accessPublic:
				if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
					t.Errorf("public route answered %d", w.Code)
				}
			case rt.api || rt.access == accessMetrics:
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("answered %d, want 401: %s", w.Code, w.Body)
				}
				if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
				}
				checkErrorJSON(t, w)
			case rt.method == http.MethodGet:
				if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
					t.Errorf("answered %d to %q, want 303 to /login", w.Code, w.Header().Get("Location"))
				}
			default:
				if w.Code != http.StatusUnauthorized {
					t.Errorf("answered %d, want 401", w.Code)
				}
			}
			if strings.Contains(w.Body.String(), "acme") && rt.access != accessPublic {
				t.Errorf("an unauthenticated answer shows acme's data: %s", w.Body)
			}
		})
	}
}

// TestPublicRoutes pins the routes anyone may reach: adding one is a
// decision, made here.
func TestPublicRoutes(t *testing.T) {
	want := []string{"GET /api/v1/openapi.json", "GET /static/{file}", "GET /login", "POST /login"}
	var got []string
	for _, rt := range newFixture(t).srv.routes {
		if rt.access == accessPublic {
			got = append(got, rt.pattern())
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("public routes %q, want %q", got, want)
	}
}

func TestEveryRouteFromAnotherOrganisation(t *testing.T) {
	f := newFixture(t)
	ids := f.spareIDs(t)
	sessions := map[string]cred{}
	for _, rt := range f.srv.routes {
		if rt.access != accessUser {
			continue
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			// globex's admin: the role allows everything, so only the
			// organisation can refuse.
			w := f.call(t, rt, f.credFor(t, rt, "globex", store.RoleAdmin, sessions), ids)
			if wildcard.MatchString(rt.path) && !strings.HasSuffix(rt.path, "{$}") {
				if w.Code != http.StatusNotFound {
					t.Fatalf("another organisation's ID answered %d, want 404: %s", w.Code, w.Body)
				}
			} else if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500 {
				t.Fatalf("answered %d: %s", w.Code, w.Body)
			}
			if strings.Contains(strings.ToLower(w.Body.String()), "acme") {
				t.Errorf("globex's answer shows acme's data:\n%s", w.Body)
			}
		})
	}
	// And nothing of acme's changed: the audit log of acme holds only
	// what acme's own people did (nothing here).
	es, err := f.st.ForOrg("acme").AuditLog(context.Background(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.Contains(e.Actor, "gina") || strings.Contains(e.Actor, "globex") {
			t.Errorf("acme's audit log has a change by globex: %+v", e)
		}
	}
}

// TestRoleOfEveryRoute: each role gets 403 on the routes above it and
// passes the guard on the others; viewer tokens and sessions change
// nothing.
func TestRoleOfEveryRoute(t *testing.T) {
	f := newFixture(t)
	ids := f.spareIDs(t)
	sessions := map[string]cred{}
	for _, rt := range f.srv.routes {
		if rt.access != accessUser {
			continue
		}
		min := rt.minRole()
		if min == "" {
			t.Fatalf("route %s has no role", rt.pattern())
		}
		for _, role := range roles {
			t.Run(rt.pattern()+"/"+string(role), func(t *testing.T) {
				w := f.call(t, rt, f.credFor(t, rt, "acme", role, sessions), ids)
				allowed := auth.Role(role).AtLeast(min)
				switch {
				case !allowed && w.Code != http.StatusForbidden:
					t.Fatalf("a %s answered %d, want 403 (the route needs %s): %s", role, w.Code, min, w.Body)
				case allowed && (w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500):
					t.Fatalf("a %s answered %d (the route needs %s): %s", role, w.Code, min, w.Body)
				}
				if rt.api && w.Code == http.StatusForbidden {
					checkErrorJSON(t, w)
				}
			})
		}
	}
}

// TestViewerChangesNothing: a viewer's token on every changing API
// route is refused, and the audit log shows no change.
func TestViewerChangesNothing(t *testing.T) {
	f := newFixture(t)
	ids := f.spareIDs(t)
	for _, rt := range f.srv.routes {
		if rt.access != accessUser || !rt.changes() || !rt.api {
			continue
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			w := f.call(t, rt, cred{token: f.tokens["acme/viewer"]}, ids)
			if w.Code != http.StatusForbidden {
				t.Fatalf("a viewer's token answered %d, want 403", w.Code)
			}
		})
	}
	es, err := f.st.ForOrg("acme").AuditLog(context.Background(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Errorf("a viewer changed something: %+v", es)
	}
}

// TestCSRFOnEveryChangingRoute: a session's state-changing request
// without the CSRF token, with a wrong one, or from another origin is
// refused with 403; with both it passes.
func TestCSRFOnEveryChangingRoute(t *testing.T) {
	f := newFixture(t)
	ids := f.spareIDs(t)
	shared, sharedCSRF := f.session("acme-admin")
	for _, rt := range f.srv.routes {
		if rt.access != accessUser || !rt.changes() {
			continue
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			// One session for all but logout, which ends its own.
			ck, csrf := shared, sharedCSRF
			if rt.pattern() == "POST /logout" {
				ck, csrf = f.session("acme-admin")
			}
			body := validBody[rt.pattern()]
			path := pathFor(t, rt, ids)
			for _, c := range []struct {
				name         string
				csrf, origin string
			}{
				{"no token", "", ""},
				{"wrong token", strings.Repeat("A", len(csrf)), ""},
				{"another site's origin", csrf, "https://evil.example"},
				{"no origin", csrf, "-"},
			} {
				w := f.do(request{method: rt.method, path: path, body: body, cookie: ck, csrf: c.csrf, origin: c.origin})
				if w.Code != http.StatusForbidden {
					t.Errorf("%s: answered %d, want 403", c.name, w.Code)
				}
			}
			w := f.do(request{method: rt.method, path: path, body: body, cookie: ck, csrf: csrf})
			if w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized {
				t.Errorf("with the token: answered %d", w.Code)
			}
		})
	}
}

// TestTenThousandWrongPasswords sends 10,000 wrong passwords for one
// user at once through the login form and counts the password checks
// (each runs argon2id once; a limited attempt runs none).
func TestTenThousandWrongPasswords(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 requests")
	}
	f := newFixture(t)
	const n, workers = 10000, 16
	var limited, refused atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= n; i = next.Add(1) {
				w := f.do(request{method: "POST", path: "/login", body: fmt.Sprintf("name=acme-admin&password=guess-%d", i)})
				switch w.Code {
				case http.StatusTooManyRequests:
					limited.Add(1)
					if w.Header().Get("Retry-After") == "" {
						t.Error("a limited login without Retry-After")
					}
				case http.StatusUnauthorized:
					refused.Add(1)
				default:
					t.Errorf("a wrong password answered %d", w.Code)
				}
			}
		}()
	}
	wg.Wait()
	hashes := f.st.lookups.Load()
	t.Logf("%d attempts in %v: %d refused after a hash, %d limited; %d password hashes", n, time.Since(start).Round(time.Millisecond), refused.Load(), limited.Load(), hashes)
	// auth's policy: 5 free failures, then locks of 1 s, 2 s, 4 s …; the
	// whole flood takes seconds, so a handful of hashes at most.
	if hashes > 20 {
		t.Errorf("%d password hashes for 10,000 guesses, want at most 20", hashes)
	}
	if refused.Load() != hashes || limited.Load()+refused.Load() != n {
		t.Errorf("refused %d, limited %d, hashes %d", refused.Load(), limited.Load(), hashes)
	}
	// The right password is still refused while the name is locked.
	w := f.do(request{method: "POST", path: "/login", body: "name=acme-admin&password=" + strings.ReplaceAll(f.passwords["acme-admin"], " ", "+")})
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("the right password during the lock answered %d, want 429", w.Code)
	}
}

// TestEveryChangeIsAudited: each state-changing route that succeeds
// leaves an entry in the organisation's audit log.
func TestEveryChangeIsAudited(t *testing.T) {
	f := newFixture(t)
	ids := f.spareIDs(t)
	sessions := map[string]cred{}
	count := func() int {
		es, err := f.st.ForOrg("acme").AuditLog(context.Background(), store.Page{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	for _, rt := range f.srv.routes {
		if rt.access != accessUser || !rt.changes() {
			continue
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			c := f.credFor(t, rt, "acme", store.RoleAdmin, sessions)
			before := count()
			w := f.call(t, rt, c, ids)
			if w.Code >= 400 {
				if rt.pattern() == "POST /account/password" && w.Code == http.StatusBadRequest {
					return // the test body is refused by the policy: nothing changed
				}
				t.Fatalf("answered %d: %s", w.Code, w.Body)
			}
			if after := count(); after <= before {
				t.Errorf("a change answered %d and wrote no audit entry", w.Code)
			}
		})
	}
}

// TestAgentRoutes mounts a stub agent endpoint: only an agent token
// reaches it, and the handler learns its site from the principal.
func TestAgentRoutes(t *testing.T) {
	f := newFixture(t)
	var seen []string
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		seen = append(seen, p.OrgID+"/"+p.SiteID)
		w.WriteHeader(http.StatusNoContent)
	})
	var err error
	f.srv, err = New(Options{Store: f.st, TLS: f.srv.tls, Agents: []AgentRoute{{Pattern: apiPrefix + "/agent/", Handler: stub}}})
	if err != nil {
		t.Fatal(err)
	}
	nt := auth.GenerateToken()
	if _, err := f.st.ForOrg("acme").CreateToken(context.Background(), store.Token{Name: "agent", Role: store.RoleAgent, SiteID: "acme-office", Prefix: nt.Prefix, Hash: nt.Hash}); err != nil {
		t.Fatal(err)
	}
	ck, csrf := f.session("acme-admin")
	for _, c := range []struct {
		name string
		rq   request
		want int
	}{
		{"no credentials", request{}, http.StatusUnauthorized},
		{"an admin's API token", request{token: f.tokens["acme/admin"]}, http.StatusForbidden},
		{"an admin's session", request{cookie: ck, csrf: csrf}, http.StatusForbidden},
		{"the agent's token", request{token: nt.Plain}, http.StatusNoContent},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.rq.method, c.rq.path, c.rq.body = "POST", apiPrefix+"/agent/results", `{}`
			w := httptest.NewRecorder()
			// Not through f.do: the agents' protocol is not the OpenAPI
			// document's.
			r := httptest.NewRequest(c.rq.method, "https://"+testHost+c.rq.path, strings.NewReader(c.rq.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", testOrigin)
			if c.rq.token != "" {
				r.Header.Set("Authorization", "Bearer "+c.rq.token)
			}
			if c.rq.cookie != "" {
				r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.rq.cookie})
				r.Header.Set(auth.CSRFHeader, c.rq.csrf)
			}
			f.srv.Handler().ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("%d, want %d: %s", w.Code, c.want, w.Body)
			}
			if w.Code >= 400 {
				checkErrorJSON(t, w)
			}
		})
	}
	if fmt.Sprint(seen) != "[acme/acme-office]" {
		t.Errorf("the handler saw %v", seen)
	}
}
