// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSecretsNeverLogged runs logins, token and session requests (good
// and bad) through the access log and the Authenticator's own logger,
// logs the request headers the way a handler would (RedactHeaders), and
// greps everything captured for each secret.
func TestSecretsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := newTestEnv(t, func(c *Config) { c.Logger = logger })
	tok := GenerateToken()
	env.store.tokens["t1"] = TokenRecord{ID: "t1", OrgID: "org-a", Name: "ci", Role: RoleOperator, Prefix: tok.Prefix, Hash: tok.Hash}
	// The store's writes of LastUsed fail, so the Authenticator logs.
	env.store.touchErr = errors.New("disk full")
	wrongPassword := "Tr0ub4dor&3-not-it"

	headerLogger := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.Info("debug headers", "headers", RedactHeaders(r.Header))
	})
	inner := routes(env.a)
	h := env.a.AccessLog(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headerLogger.ServeHTTP(w, r)
		inner.ServeHTTP(w, r)
	}))
	do := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	do(loginRequest("alice", wrongPassword, "192.0.2.10:5000"))
	w := do(loginRequest("alice", testPassword, "192.0.2.10:5000"))
	cookie := w.Result().Cookies()[0]
	s := session{cookie: cookie}
	r := newReq("GET", "/csrf", nil, withSession(s))
	s.csrf = do(r).Body.String()
	do(newReq("POST", "/api/v1/sites", nil, withSession(s), withHeader(CSRFHeader, s.csrf)))
	do(newReq("GET", "/api/v1/sites", nil, withToken(tok.Plain)))
	do(newReq("GET", "/api/v1/sites?access_token="+url.QueryEscape(tok.Plain), nil))
	do(newReq("GET", "/api/v1/sites", nil, withToken(tok.Plain+"x")))
	body, ct := form(url.Values{"current": {testPassword}, "new": {"the next long passphrase"}})
	do(newReq("POST", "/account/password", body, withSession(s), withHeader(CSRFHeader, s.csrf), ct))
	logger.Info("issued a token", "token", GenerateToken(), "principal", Principal{ID: "u1"})

	out := logs.String()
	secret := tok.Plain[len("rw_")+13:]
	for name, v := range map[string]string{
		"password":       testPassword,
		"wrong password": wrongPassword,
		"new password":   "the next long passphrase",
		"token":          tok.Plain,
		"token secret":   secret,
		"session ID":     cookie.Value,
		"CSRF token":     s.csrf,
	} {
		if strings.Contains(out, v) || strings.Contains(out, url.QueryEscape(v)) {
			t.Errorf("the %s reached the logs", name)
		}
	}
	// The test must see logging happen at all, or it proves nothing.
	for _, want := range []string{`"path":"/api/v1/sites"`, `"id":"u-admin"`, `"id":"t1"`, `"status":401`,
		`"Authorization":["[REDACTED]"]`, `"Cookie":["[REDACTED]"]`, `"X-Csrf-Token":["[REDACTED]"]`, `_[REDACTED]"`, "recording the last use"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out)
	}
}

func TestRedactHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer x")
	h.Set("Cookie", "a=b")
	h["proxy-authorization"] = []string{"Basic y"} // not canonical
	h.Set("Accept", "text/html")
	got := RedactHeaders(h)
	for k, v := range got {
		if k == "Accept" {
			if v[0] != "text/html" {
				t.Errorf("Accept changed to %q", v)
			}
			continue
		}
		if len(v) != 1 || v[0] != Redacted {
			t.Errorf("%s = %q, want redacted", k, v)
		}
	}
	if h.Get("Authorization") != "Bearer x" {
		t.Error("RedactHeaders changed the request's own headers")
	}
}
