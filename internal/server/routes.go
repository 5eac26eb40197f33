// SPDX-License-Identifier: Apache-2.0

package server

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
)

// access says who may reach a route.
type access int

const (
	// accessUser: a logged-in user or an API token whose role may do the
	// route's action (auth's role table).
	accessUser access = iota
	// accessPublic: anyone (the login page, static files, the OpenAPI
	// document).
	accessPublic
	// accessAgent: an agent token only, for its own site.
	accessAgent
	// accessMetrics: a loopback client, or an admin's API token.
	accessMetrics
)

func (a access) String() string {
	switch a {
	case accessPublic:
		return "public"
	case accessAgent:
		return "agent"
	case accessMetrics:
		return "loopback or admin"
	}
	return "user"
}

// route is one row of the server's one route table: everything that
// decides who reaches a handler is here, so that the security tests can
// walk every route and a new one cannot be missed.
type route struct {
	method string
	// path is a net/http ServeMux pattern path; its wildcards ({site})
	// read the same in the OpenAPI document.
	path   string
	access access
	// action is the role table's action for accessUser routes: the
	// weakest role allowed is auth.MinRole(action).
	action auth.Action
	// api marks the JSON API (under /api/v1/), which the OpenAPI
	// document describes and whose errors are JSON.
	api bool
	h   http.Handler
}

// pattern is the ServeMux pattern; a public mount has no method.
func (r route) pattern() string {
	if r.method == "" {
		return r.path
	}
	return r.method + " " + r.path
}

// changes reports whether the route changes state (and so needs CSRF
// protection from a browser session).
func (r route) changes() bool {
	return r.method != "" && r.method != http.MethodGet && r.method != http.MethodHead && r.method != http.MethodOptions
}

// minRole is the weakest role allowed, "" for routes without a role.
func (r route) minRole() auth.Role {
	if r.access != accessUser {
		return ""
	}
	role, _ := auth.MinRole(r.action)
	return role
}

const apiPrefix = "/api/v1"

// routeTable lists every route, then the agents' and the public mounts
// (Options.Agents, Options.Public).
func (s *Server) routeTable() []route {
	rs := s.ownRoutes()
	for _, m := range s.o.Agents {
		// The agents' protocol is internal/agentapi's, versioned there,
		// not part of the OpenAPI document's API.
		rs = append(rs, route{path: m.Pattern, access: accessAgent, h: m.Handler})
	}
	for _, m := range s.o.Public {
		rs = append(rs, route{path: m.Pattern, access: accessPublic, api: strings.HasPrefix(m.Pattern, apiPrefix+"/"), h: m.Handler})
	}
	return rs
}

func (s *Server) ownRoutes() []route {
	api := func(method, path string, a auth.Action, h apiFunc) route {
		return route{method: method, path: apiPrefix + path, action: a, api: true, h: s.api(h)}
	}
	page := func(method, path string, a auth.Action, h pageFunc) route {
		return route{method: method, path: path, action: a, h: s.page(h)}
	}
	return []route{
		// The JSON API.
		{method: "GET", path: apiPrefix + "/openapi.json", access: accessPublic, api: true, h: http.HandlerFunc(serveOpenAPI)},
		api("GET", "/me", auth.ActionView, s.apiMe),
		api("GET", "/sites", auth.ActionView, s.apiSites),
		api("POST", "/sites", auth.ActionSiteEdit, s.apiCreateSite),
		api("GET", "/sites/{site}", auth.ActionView, s.apiSite),
		api("PATCH", "/sites/{site}", auth.ActionSiteEdit, s.apiUpdateSite),
		api("GET", "/sites/{site}/status", auth.ActionView, s.apiSiteStatus),
		api("POST", "/sites/{site}/wan-check", auth.ActionAuditRun, s.apiWANCheck),
		api("GET", "/sites/{site}/agent-tokens", auth.ActionAgentTokenManage, s.apiAgentTokens),
		api("POST", "/sites/{site}/agent-tokens", auth.ActionAgentTokenManage, s.apiCreateAgentToken),
		api("GET", "/devices", auth.ActionView, s.apiDevices),
		api("GET", "/devices/{device}", auth.ActionView, s.apiDevice),
		api("GET", "/devices/{device}/findings", auth.ActionView, s.apiDeviceFindings),
		api("GET", "/devices/{device}/snapshots", auth.ActionView, s.apiSnapshots),
		api("GET", "/devices/{device}/changes", auth.ActionView, s.apiChanges),
		api("GET", "/audits", auth.ActionView, s.apiAudits),
		api("GET", "/audits/{audit}", auth.ActionView, s.apiAudit),
		api("GET", "/alerts", auth.ActionView, s.apiAlerts),
		api("GET", "/alerts/{alert}", auth.ActionView, s.apiAlert),
		api("POST", "/alerts/{alert}/ack", auth.ActionAlertAck, s.apiAckAlert),
		api("POST", "/alerts/{alert}/suppress", auth.ActionAlertAck, s.apiSuppressAlert),
		api("GET", "/tokens", auth.ActionTokenManage, s.apiTokens),
		api("POST", "/tokens", auth.ActionTokenManage, s.apiCreateToken),
		api("GET", "/tokens/{token}", auth.ActionTokenManage, s.apiToken),
		api("POST", "/tokens/{token}/revoke", auth.ActionTokenManage, s.apiRevokeToken),
		api("GET", "/users", auth.ActionUserManage, s.apiUsers),
		api("POST", "/users", auth.ActionUserManage, s.apiCreateUser),
		api("GET", "/users/{user}", auth.ActionUserManage, s.apiUser),
		api("PATCH", "/users/{user}", auth.ActionUserManage, s.apiUpdateUser),
		api("GET", "/audit-log", auth.ActionAuditLogView, s.apiAuditLog),
		api("GET", "/range-scopes", auth.ActionView, s.apiRangeScopes),
		api("POST", "/range-scopes", auth.ActionRangeScopeManage, s.apiCreateRangeScope),
		api("GET", "/range-scopes/{scope}", auth.ActionView, s.apiRangeScope),
		api("GET", "/range-scopes/{scope}/runs", auth.ActionView, s.apiRangeRuns),
		api("POST", "/range-scopes/{scope}/runs", auth.ActionAuditRun, s.apiStartRangeRun),
		api("GET", "/range-runs/{run}", auth.ActionView, s.apiRangeRun),
		api("GET", "/range-runs/{run}/summary", auth.ActionView, s.apiRangeSummary),
		api("GET", "/range-runs/{run}/records", auth.ActionView, s.apiRangeRecords),
		{method: "GET", path: apiPrefix + "/range-runs/{run}/export", action: auth.ActionView, api: true, h: http.HandlerFunc(s.apiRangeExport)},

		// Prometheus.
		{method: "GET", path: "/metrics", access: accessMetrics, h: s.metrics.handler()},

		// The dashboard.
		{method: "GET", path: "/static/{file}", access: accessPublic, h: http.HandlerFunc(serveStatic)},
		{method: "GET", path: "/login", access: accessPublic, h: s.page(s.pageLogin)},
		{method: "POST", path: "/login", access: accessPublic, h: s.page(s.postLogin)},
		page("POST", "/logout", auth.ActionAccountPassword, s.postLogout),
		page("GET", "/account", auth.ActionAccountPassword, s.pageAccount),
		page("POST", "/account/password", auth.ActionAccountPassword, s.postPassword),
		page("GET", "/{$}", auth.ActionView, s.pageSites),
		page("POST", "/sites", auth.ActionSiteEdit, s.postSite),
		page("GET", "/sites/{site}", auth.ActionView, s.pageSite),
		page("POST", "/sites/{site}", auth.ActionSiteEdit, s.postSiteEdit),
		page("POST", "/sites/{site}/wan-check", auth.ActionAuditRun, s.postWANCheck),
		page("POST", "/sites/{site}/agent-tokens", auth.ActionAgentTokenManage, s.postAgentToken),
		page("GET", "/devices/{device}", auth.ActionView, s.pageDevice),
		page("GET", "/devices/{device}/report", auth.ActionView, s.pageDeviceReport),
		page("GET", "/devices/{device}/config", auth.ActionView, s.pageDeviceConfig),
		page("GET", "/alerts", auth.ActionView, s.pageAlerts),
		page("POST", "/alerts/{alert}/ack", auth.ActionAlertAck, s.postAck),
		page("POST", "/alerts/{alert}/suppress", auth.ActionAlertAck, s.postSuppress),
		page("GET", "/users", auth.ActionUserManage, s.pageUsers),
		page("POST", "/users", auth.ActionUserManage, s.postUser),
		page("POST", "/users/{user}", auth.ActionUserManage, s.postUserEdit),
		page("GET", "/tokens", auth.ActionTokenManage, s.pageTokens),
		page("POST", "/tokens", auth.ActionTokenManage, s.postToken),
		page("POST", "/tokens/{token}/revoke", auth.ActionTokenManage, s.postRevokeToken),
		page("GET", "/audit-log", auth.ActionAuditLogView, s.pageAuditLog),
		page("GET", "/ranges", auth.ActionView, s.pageRanges),
		page("GET", "/ranges/{scope}", auth.ActionView, s.pageRange),
		page("POST", "/ranges/{scope}/runs", auth.ActionAuditRun, s.postRangeRun),
	}
}

// buildHandler wires the route table: each route gets the body bound,
// authentication and its guard; the whole server gets the security
// headers, the access log, the metrics (labelled with the route's
// pattern) and the error style (JSON under the API, pages elsewhere).
func (s *Server) buildHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	for _, rt := range s.routes {
		if seen[rt.pattern()] {
			return nil, fmt.Errorf("route %s listed twice", rt.pattern())
		}
		seen[rt.pattern()] = true
		var h http.Handler
		switch rt.access {
		case accessPublic:
			h = rt.h
		case accessAgent:
			h = s.auth.Authenticate(auth.RequireAgent(rt.h))
		case accessMetrics:
			h = s.metricsGuard(rt.h)
		case accessUser:
			if _, ok := auth.MinRole(rt.action); !ok {
				return nil, fmt.Errorf("route %s: action %q is not in the role table", rt.pattern(), rt.action)
			}
			h = s.auth.Authenticate(auth.RequireAction(rt.action)(rt.h))
		}
		mux.Handle(rt.pattern(), limitBody(h))
	}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		var ew http.ResponseWriter
		if strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			ew = &errorRewriter{ResponseWriter: rec, write: func(w http.ResponseWriter, status int) {
				writeError(w, status, messageFor(status))
			}}
		} else {
			ew = &errorRewriter{ResponseWriter: rec, write: func(w http.ResponseWriter, status int) {
				s.renderError(w, r, status, messageFor(status))
			}}
		}
		mux.ServeHTTP(ew, r)
		// ServeMux notes the pattern it matched on the request; its 404s
		// and 405s have none.
		s.metrics.observe(cmp.Or(r.Pattern, "unmatched"), rec.code, time.Since(start))
	})
	return securityHeaders(s.auth.AccessLog(s.log, root)), nil
}

// limitBody bounds every request body.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// unauthorized answers a request without working credentials: JSON 401
// under the API; in the dashboard, the login page (htmx is told to load
// it whole rather than swap it into a fragment).
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, apiPrefix+"/") || r.URL.Path == "/metrics" {
		writeError(w, http.StatusUnauthorized, "authentication required: a bearer API token or a session")
		return
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodGet {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Log in again.")
}

// metricsGuard lets loopback clients read /metrics (the client address
// as auth sees it, so a trusted reverse proxy on the same host does not
// make everyone loopback) and anyone else with an admin's API token.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	withToken := s.auth.Authenticate(auth.Require(auth.RoleAdmin)(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := s.auth.ClientAddr(r); a.IsLoopback() && r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		withToken.ServeHTTP(w, r)
	})
}

// securityHeaders sets what every answer carries: a strict
// Content-Security-Policy (scripts only from this server, no inline
// script or style, no framing), no MIME sniffing, HSTS, no referrer to
// other sites. Pages that need another policy (the embedded report) set
// their own before writing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// dashboardCSP allows scripts, styles, images and requests from this
// server only; frames only of this server's report pages.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// reportCSP is the policy of the stored report, rendered by
// internal/report exactly as `check --format html` writes it: its style
// is inline, it has no script at all, and it runs sandboxed (a unique
// origin) inside the device page's frame.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"

// The errors of net/http and internal/auth are plain text (404, 405, a
// refused role or CSRF token); errorRewriter turns them into the API's
// error JSON or a dashboard page, so that every error has one shape.

// messageFor is what a rewritten error says: fixed words per status, so
// nothing of the request is echoed.
func messageFor(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication required"
	case http.StatusForbidden:
		return "forbidden: your role does not allow this, or the request failed the CSRF check"
	case http.StatusNotFound:
		return "not found"
	case http.StatusMethodNotAllowed:
		return "method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "request body too large"
	}
	return http.StatusText(status)
}

// errorRewriter replaces a text/plain error answer (what http.Error
// writes) with write's; anything else passes through.
type errorRewriter struct {
	http.ResponseWriter
	write   func(http.ResponseWriter, int)
	swallow bool
	wrote   bool
}

func (e *errorRewriter) WriteHeader(code int) {
	if e.wrote {
		return
	}
	e.wrote = true
	if code >= 400 && strings.HasPrefix(e.Header().Get("Content-Type"), "text/plain") {
		e.swallow = true
		e.Header().Del("Content-Type")
		e.Header().Del("Content-Length")
		e.write(e.ResponseWriter, code)
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorRewriter) Write(b []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	if e.swallow {
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

func (e *errorRewriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }
