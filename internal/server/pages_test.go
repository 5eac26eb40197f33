// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/report"
)

// TestEveryPageRenders opens every dashboard page as acme's admin: each
// answers 200 under the strict policy, with no inline script or style,
// and escapes what devices said.
func TestEveryPageRenders(t *testing.T) {
	f := newFixture(t)
	ck, _ := f.session("acme-admin")
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	for _, rt := range f.srv.routes {
		if rt.api || rt.method != http.MethodGet || rt.access == accessMetrics || rt.pattern() == "GET /static/{file}" {
			continue
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			w := f.do(request{method: "GET", path: pathFor(t, rt, f.ids), cookie: ck})
			if w.Code != http.StatusOK {
				t.Fatalf("%d:\n%s", w.Code, w.Body)
			}
			body := w.Body.String()
			csp := w.Header().Get("Content-Security-Policy")
			if rt.pattern() == "GET /devices/{device}/report" {
				if csp != reportCSP || !strings.Contains(csp, "sandbox") || strings.Contains(body, "<script") {
					t.Errorf("report page: CSP %q", csp)
				}
				return
			}
			if csp != dashboardCSP {
				t.Errorf("CSP %q", csp)
			}
			if strings.Contains(csp, "unsafe-inline") || inlineScript.MatchString(body) ||
				strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
				t.Errorf("inline script or style in the page:\n%s", body)
			}
			if !strings.Contains(body, `<script src="/static/htmx.min.js" defer></script>`) {
				t.Error("htmx is not loaded")
			}
			for _, raw := range []string{`<script>alert("x")</script>`, "<b>now</b>", "<img src=x"} {
				if strings.Contains(body, raw) {
					t.Errorf("a device's string is not escaped: %q", raw)
				}
			}
		})
	}
}

// TestDevicePageShowsTheCheckReport: the device's report is
// internal/report's HTML of the stored report, byte for byte what
// `check --format html` writes.
func TestDevicePageShowsTheCheckReport(t *testing.T) {
	f := newFixture(t)
	ck, _ := f.session("acme-viewer")
	w := f.do(request{method: "GET", path: "/devices/acme-rtr/report", cookie: ck})
	var want bytes.Buffer
	if err := report.WriteHTML(&want, f.rep); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want.Bytes()) {
		t.Errorf("report page (%d) differs from report.WriteHTML:\n%s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), "TP-Link &lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the subject's label is not escaped")
	}
	page := f.do(request{method: "GET", path: "/devices/acme-rtr", cookie: ck}).Body.String()
	for _, s := range []string{`<iframe src="/devices/acme-rtr/report"`, "sandbox", `data-testid="device-audits"`, "acme: DNS hijacked &lt;b&gt;now&lt;/b&gt;"} {
		if !strings.Contains(page, s) {
			t.Errorf("device page lacks %q", s)
		}
	}
	// Another audit of the device by ID; another device's audit is not
	// found.
	if w := f.do(request{method: "GET", path: "/devices/acme-rtr/report?audit=" + f.ids["audit"], cookie: ck}); w.Code != 200 {
		t.Errorf("report by audit: %d", w.Code)
	}
	if w := f.do(request{method: "GET", path: "/devices/acme-rtr/report?audit=999999", cookie: ck}); w.Code != 404 {
		t.Errorf("unknown audit: %d", w.Code)
	}
	cfg := f.do(request{method: "GET", path: "/devices/acme-rtr/config", cookie: ck}).Body.String()
	if !strings.Contains(cfg, "acme: DHCP DNS primary changed from 192.0.2.1 to 203.0.113.66 — not in your allowed resolvers") {
		t.Errorf("configuration history lacks the change in words:\n%s", cfg)
	}
}

// TestAcknowledgeWithHTMX: htmx posts with the CSRF token in its header
// and swaps the alert's row.
func TestAcknowledgeWithHTMX(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.session("acme-operator")
	page := f.do(request{method: "GET", path: "/alerts", cookie: ck}).Body.String()
	if !strings.Contains(page, `hx-headers='{"X-CSRF-Token": "`+csrf+`"}'`) {
		t.Fatalf("the page does not give htmx the CSRF token:\n%s", page)
	}
	id := f.ids["alert"]
	w := f.do(request{method: "POST", path: "/alerts/" + id + "/ack", cookie: ck, csrf: csrf, header: map[string]string{"HX-Request": "true"}})
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<tr id="alert-`+id+`"`) || !strings.Contains(body, "acknowledged by acme-operator") {
		t.Fatalf("ack: %d\n%s", w.Code, body)
	}
	w = f.do(request{method: "POST", path: "/alerts/" + id + "/suppress", body: "hours=24", cookie: ck, csrf: csrf, header: map[string]string{"HX-Request": "true"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "suppressed until") {
		t.Fatalf("suppress: %d\n%s", w.Code, w.Body)
	}
	// Without htmx, the form posts and comes back to the page.
	w = f.do(request{method: "POST", path: "/alerts/" + id + "/ack", body: "csrf_token=" + csrf, cookie: ck})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Errorf("form ack: %d %q", w.Code, w.Header().Get("Location"))
	}
	// A viewer sees no buttons.
	vck, _ := f.session("acme-viewer")
	if p := f.do(request{method: "GET", path: "/alerts", cookie: vck}).Body.String(); strings.Contains(p, "alert-ack") {
		t.Error("a viewer is offered the acknowledge button")
	}
}

// TestSiteFlow adds a site in the dashboard, edits it, and makes an
// agent token whose secret is shown once.
func TestSiteFlow(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.session("acme-admin")
	w := f.do(request{method: "POST", path: "/sites", body: "csrf_token=" + csrf + "&id=shop&name=The+Shop&public_addr=198.51.100.20&schedule_minutes=30", cookie: ck})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sites/shop" {
		t.Fatalf("add site: %d %s", w.Code, w.Body)
	}
	w = f.do(request{method: "POST", path: "/sites", body: "csrf_token=" + csrf + "&id=shop&name=Again", cookie: ck})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `data-testid="error"`) {
		t.Errorf("add a taken site: %d", w.Code)
	}
	w = f.do(request{method: "POST", path: "/sites/shop", body: "csrf_token=" + csrf + "&name=The+Shop&public_addr=&schedule_minutes=2", cookie: ck})
	if w.Code != http.StatusBadRequest {
		t.Errorf("a 2-minute schedule: %d", w.Code)
	}
	w = f.do(request{method: "POST", path: "/sites/shop", body: "csrf_token=" + csrf + "&name=The+Shop&public_addr=&schedule_minutes=60", cookie: ck})
	if w.Code != http.StatusSeeOther {
		t.Errorf("edit: %d %s", w.Code, w.Body)
	}
	page := f.do(request{method: "GET", path: "/sites/shop", cookie: ck}).Body.String()
	if !strings.Contains(page, `value="60"`) || !strings.Contains(page, "not set") {
		t.Errorf("the edit did not stick:\n%s", page)
	}
	w = f.do(request{method: "POST", path: "/sites/shop/agent-tokens", body: "csrf_token=" + csrf + "&name=shop+agent", cookie: ck})
	m := regexp.MustCompile(`data-testid="new-token-secret">(rw_[a-z0-9_]+)<`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusCreated || m == nil {
		t.Fatalf("agent token: %d\n%s", w.Code, w.Body)
	}
	if again := f.do(request{method: "GET", path: "/sites/shop", cookie: ck}).Body.String(); strings.Contains(again, m[1]) || !strings.Contains(again, "shop agent") {
		t.Error("the agent token's secret is shown again, or the token is not listed")
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the page with a secret may be cached: %q", w.Header().Get("Cache-Control"))
	}
}

// TestLoginLogoutAndPassword: a wrong password shows the one message;
// logging out ends the session; changing the password ends the user's
// other sessions.
func TestLoginLogoutAndPassword(t *testing.T) {
	f := newFixture(t)
	w := f.do(request{method: "POST", path: "/login", body: "name=acme-admin&password=wrong+password+here"})
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "wrong login name or password") {
		t.Errorf("wrong password: %d", w.Code)
	}
	w = f.do(request{method: "POST", path: "/login", body: "name=nobody&password=wrong+password+here"})
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "wrong login name or password") {
		t.Errorf("unknown name: %d", w.Code)
	}
	w = f.do(request{method: "POST", path: "/login", body: "name=acme-admin&password=x", origin: "https://evil.example"})
	if w.Code != http.StatusForbidden {
		t.Errorf("a cross-origin login: %d", w.Code)
	}
	ck, csrf := f.session("acme-admin")
	w = f.do(request{method: "POST", path: "/logout", body: "csrf_token=" + csrf, cookie: ck})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := f.do(request{method: "GET", path: "/", cookie: ck}); w.Code != http.StatusSeeOther {
		t.Errorf("a logged-out session still works: %d", w.Code)
	}

	other, _ := f.session("acme-operator")
	ck, csrf = f.session("acme-operator")
	newPW := "a brand new passphrase"
	w = f.do(request{method: "POST", path: "/account/password", body: "csrf_token=" + csrf + "&current=" + strings.ReplaceAll(f.passwords["acme-operator"], " ", "+") + "&new=" + strings.ReplaceAll(newPW, " ", "+"), cookie: ck})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("password change: %d\n%s", w.Code, w.Body)
	}
	if w := f.do(request{method: "GET", path: "/", cookie: other}); w.Code != http.StatusSeeOther {
		t.Errorf("another session of the user survived the password change: %d", w.Code)
	}
	var fresh string
	for _, c := range w.Result().Cookies() {
		if c.Name == "__Host-rw_session" && c.Value != "" {
			fresh = c.Value
		}
	}
	if w := f.do(request{method: "GET", path: "/", cookie: fresh}); w.Code != http.StatusOK {
		t.Errorf("the new session after a password change: %d", w.Code)
	}
	f.passwords["acme-operator"] = newPW
	f.session("acme-operator") // the new password works
}

// TestAdminResetsAPassword in the users page: the user's sessions end and
// the new password works.
func TestAdminResetsAPassword(t *testing.T) {
	f := newFixture(t)
	victim, _ := f.session("acme-viewer")
	ck, csrf := f.session("acme-admin")
	w := f.do(request{method: "POST", path: "/users/" + f.ids["user"], body: "csrf_token=" + csrf + "&password=short", cookie: ck})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "at least 12") {
		t.Errorf("a short password: %d", w.Code)
	}
	w = f.do(request{method: "POST", path: "/users/" + f.ids["user"], body: "csrf_token=" + csrf + "&password=reset+by+the+admin+today", cookie: ck})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", w.Code, w.Body)
	}
	if w := f.do(request{method: "GET", path: "/", cookie: victim}); w.Code != http.StatusSeeOther {
		t.Errorf("the user's session survived the reset: %d", w.Code)
	}
	f.passwords["acme-viewer"] = "reset by the admin today"
	f.session("acme-viewer")
}

// TestVendoredHTMX checks the embedded htmx against the hash its README
// records.
func TestVendoredHTMX(t *testing.T) {
	const want = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
	b, err := staticFS.ReadFile("static/htmx/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("htmx.min.js SHA-256 %s, want %s (static/htmx/README.md)", got, want)
	}
	if !bytes.Contains(b, []byte(`version:"2.0.11"`)) {
		t.Error("htmx.min.js is not 2.0.11")
	}
	f := newFixture(t)
	w := f.do(request{method: "GET", path: "/static/htmx.min.js"})
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), b) || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET /static/htmx.min.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w := f.do(request{method: "GET", path: "/static/..%2fserver.go"}); w.Code != 404 {
		t.Errorf("a path outside the list: %d", w.Code)
	}
}
