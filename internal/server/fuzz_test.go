// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAPIBodies sends arbitrary bodies and query strings to the API's
// decoding routes as acme's admin: whatever arrives, the answer is a
// status below 500 in the error JSON, and nothing panics.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []struct{ route, body, query string }{
		{"POST /api/v1/sites", `{"id":"a","name":"b","public_addr":"198.51.100.1","schedule_seconds":600}`, ""},
		{"PATCH /api/v1/sites/acme-office", `{"schedule_seconds":-1}`, ""},
		{"POST /api/v1/users", `{"name":"x\u0000","role":"viewer","password":"` + strings.Repeat("é", 600) + `"}`, ""},
		{"POST /api/v1/range-scopes", `{"prefixes":["::/0"],"owner":"o","reason":"r","per_prefix_rate":1e308}`, ""},
		{"POST /api/v1/tokens", `{"name":"","role":"viewer","expires_in_seconds":9223372036854775807}`, ""},
		{"POST /api/v1/alerts/1/suppress", `{"seconds":1e3}`, ""},
		{"GET /api/v1/alerts", "", "state=open&limit=-1&offset=99999999999"},
		{"GET /api/v1/range-runs/1/records", "", "within=198.51.100.0/24&limit=5"},
	} {
		f.Add(s.route, s.body, s.query)
	}
	fuzzFix := newFixture(f)
	f.Fuzz(func(t *testing.T, route, body, query string) {
		method, path, ok := strings.Cut(route, " ")
		switch {
		case !ok, !strings.HasPrefix(path, apiPrefix+"/"), strings.ContainsAny(path, " ?#%\x00\r\n"),
			method != "GET" && method != "POST" && method != "PATCH" && method != "DELETE":
			return
		}
		if strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return // no request line holds these: net/http refuses it before any handler
		}
		target := "https://" + testHost + path + "?" + query
		if _, err := url.ParseRequestURI(target); err != nil {
			return
		}
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+fuzzFix.tokens["acme/admin"])
		r.RemoteAddr = remoteAddr
		w := httptest.NewRecorder()
		fuzzFix.srv.Handler().ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.HasPrefix(w.Body.String(), `{"error":{"code":"`) {
			t.Fatalf("an error that is not the error JSON: %d %s", w.Code, w.Body)
		}
	})
}
