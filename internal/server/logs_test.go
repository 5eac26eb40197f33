// SPDX-License-Identifier: Apache-2.0

package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSecretsNeverLogged sends every kind of secret the server handles
// through it (passwords at login, in a password change and in a new
// user; API and agent tokens, in use and freshly made; session IDs; CSRF
// tokens) and searches the captured logs, at debug level, for each.
func TestSecretsNeverLogged(t *testing.T) {
	f := newFixture(t)
	var secrets []string
	for _, pw := range f.passwords {
		secrets = append(secrets, pw)
	}
	for _, tok := range f.tokens {
		secrets = append(secrets, tok)
	}
	ck, csrf := f.session("acme-admin")
	secrets = append(secrets, ck, csrf)
	admin := f.tokens["acme/admin"]

	// A failed login with a password that is almost right, a token that
	// is malformed and one that is unknown.
	f.do(request{method: "POST", path: "/login", body: "name=acme-admin&password=Almost-the-real-password"})
	secrets = append(secrets, "Almost-the-real-password")
	f.do(request{method: "GET", path: apiPrefix + "/sites", token: "rw_not_a_token_secret-value"})
	secrets = append(secrets, "rw_not_a_token_secret-value")
	f.do(request{method: "GET", path: apiPrefix + "/sites?token=" + admin})
	// New credentials made through the server.
	for _, body := range []string{`{"name":"script","role":"viewer"}`} {
		w := f.do(request{method: "POST", path: apiPrefix + "/tokens", body: body, token: admin})
		var v map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &v)
		if s, _ := v["token"].(string); s != "" {
			secrets = append(secrets, s)
		}
	}
	w := f.do(request{method: "POST", path: apiPrefix + "/sites/acme-office/agent-tokens", body: `{"name":"agent"}`, token: admin})
	var v map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &v)
	secrets = append(secrets, v["token"].(string))
	f.do(request{method: "POST", path: apiPrefix + "/users", body: `{"name":"acme-logged","role":"viewer","password":"the new user's password"}`, token: admin})
	f.do(request{method: "PATCH", path: apiPrefix + "/users/" + f.ids["user"], body: `{"password":"a reset password for the viewer"}`, token: admin})
	secrets = append(secrets, "the new user's password", "a reset password for the viewer")
	// A password change through the form, and a CSRF failure.
	w = f.do(request{method: "POST", path: "/account/password", cookie: ck, csrf: csrf,
		body: "current=" + strings.ReplaceAll(f.passwords["acme-admin"], " ", "+") + "&new=yet+another+long+password"})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("password change: %d", w.Code)
	}
	secrets = append(secrets, "yet another long password")
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			secrets = append(secrets, c.Value)
		}
	}
	f.do(request{method: "POST", path: "/sites", body: "id=x&name=x", cookie: ck, csrf: "forged-csrf-token-value"})
	secrets = append(secrets, "forged-csrf-token-value")

	logs := f.logBuf.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("nothing was logged; the test would prove nothing:\n%s", logs)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs hold the secret %q", s)
		}
		// Also a URL-encoded form of it.
		if enc := strings.ReplaceAll(s, " ", "+"); enc != s && strings.Contains(logs, enc) {
			t.Errorf("the logs hold the secret %q (form-encoded)", s)
		}
	}
	// The store's audit log: no secret either.
	es, err := f.st.ForOrg("acme").AuditLog(t.Context(), storePage(1000))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(es)
	for _, s := range secrets {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("the audit log holds the secret %q", s)
		}
	}
}
