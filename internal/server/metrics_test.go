// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetrics: loopback clients read /metrics; others need an admin's
// token; requests are counted by route pattern, never by path.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.do(request{method: "GET", path: apiPrefix + "/sites/acme-office", token: f.tokens["acme/viewer"]})
	f.do(request{method: "GET", path: "/no/such/page"})
	for _, c := range []struct {
		name   string
		remote string
		token  string
		header map[string]string
		want   int
	}{
		{name: "loopback v4", remote: "127.0.0.1:5000", want: 200},
		{name: "loopback v6", remote: "[::1]:5000", want: 200},
		{name: "elsewhere without token", want: 401},
		{name: "elsewhere spoofing X-Forwarded-For", header: map[string]string{"X-Forwarded-For": "127.0.0.1"}, want: 401},
		{name: "viewer token", token: f.tokens["acme/viewer"], want: 403},
		{name: "admin token", token: f.tokens["acme/admin"], want: 200},
		{name: "bad token from loopback", remote: "127.0.0.1:5000", token: "rw_bad", want: 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := f.do(request{method: "GET", path: "/metrics", remote: c.remote, token: c.token, header: c.header})
			if w.Code != c.want {
				t.Fatalf("%d, want %d: %s", w.Code, c.want, w.Body)
			}
			if c.want != 200 {
				return
			}
			body := w.Body.String()
			for _, s := range []string{
				`routerwatch_http_requests_total{code="200",route="GET /api/v1/sites/{site}"} 1`,
				`routerwatch_http_requests_total{code="404",route="unmatched"} 1`,
				`routerwatch_http_request_duration_seconds_bucket`,
				`go_goroutines`,
			} {
				if !strings.Contains(body, s) {
					t.Errorf("metrics lack %q", s)
				}
			}
			if strings.Contains(body, "acme-office") {
				t.Error("a path (with an ID) became a label")
			}
		})
	}
	_ = http.StatusOK
}
