// SPDX-License-Identifier: Apache-2.0

package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestAPI walks the API as acme's admin token: every answer is checked
// against the OpenAPI document by fixture.do, and the cases below check
// what the answers say.
func TestAPI(t *testing.T) {
	f := newFixture(t)
	admin := f.tokens["acme/admin"]
	type tc struct {
		name         string
		method, path string
		body         string
		token        string
		header       map[string]string
		want         int
		contains     []string
		absent       []string
	}
	run := func(t *testing.T, c tc) map[string]any {
		t.Helper()
		tok := admin
		if c.token != "" {
			tok = c.token
		}
		w := f.do(request{method: c.method, path: apiPrefix + c.path, body: c.body, token: tok, header: c.header})
		if w.Code != c.want {
			t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, w.Code, c.want, w.Body)
		}
		for _, s := range c.contains {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s %s: answer lacks %q: %s", c.method, c.path, s, w.Body)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(w.Body.String(), s) {
				t.Errorf("%s %s: answer holds %q: %s", c.method, c.path, s, w.Body)
			}
		}
		checkErrorJSON(t, w)
		var v map[string]any
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(w.Body.Bytes(), &v)
		}
		return v
	}
	big := `{"id":"x","name":"` + strings.Repeat("a", maxJSON) + `"}`
	for _, c := range []tc{
		{name: "me", method: "GET", path: "/me", want: 200, contains: []string{`"role":"admin"`, `"org_id":"acme"`, `"kind":"token"`}},
		{name: "create site", method: "POST", path: "/sites", body: `{"id":"branch","name":"Branch <b>1</b>","schedule_seconds":3600}`, want: 201,
			contains: []string{`"id":"branch"`, `"schedule_seconds":3600`, `\u003cb\u003e`}, absent: []string{"public_addr"}},
		{name: "site id taken", method: "POST", path: "/sites", body: `{"id":"branch","name":"again"}`, want: 409},
		{name: "site id bad", method: "POST", path: "/sites", body: `{"id":"Bad/ID","name":"x"}`, want: 400},
		{name: "site without name", method: "POST", path: "/sites", body: `{"id":"noname"}`, want: 400},
		{name: "unknown field", method: "POST", path: "/sites", body: `{"id":"x","name":"x","org_id":"globex"}`, want: 400, contains: []string{"unknown field"}},
		{name: "trailing data", method: "POST", path: "/sites", body: `{"id":"x","name":"x"} {}`, want: 400},
		{name: "not JSON", method: "POST", path: "/sites", body: `id=x&name=x`, want: 415},
		{name: "too large", method: "POST", path: "/sites", body: big, want: 413},
		{name: "bad address", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"router.example"}`, want: 400},
		{name: "private address", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"10.0.0.1"}`, want: 400, contains: []string{"public address"}},
		{name: "loopback address", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"127.0.0.1"}`, want: 400},
		{name: "link-local address", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"169.254.169.254"}`, want: 400},
		{name: "mapped loopback", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"::ffff:127.0.0.1"}`, want: 400},
		{name: "shared address space", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"100.64.1.1"}`, want: 400},
		{name: "ULA", method: "POST", path: "/sites", body: `{"id":"y","name":"y","public_addr":"fd00::1"}`, want: 400},
		{name: "schedule too short", method: "PATCH", path: "/sites/acme-office", body: `{"schedule_seconds":60}`, want: 400},
		{name: "schedule", method: "PATCH", path: "/sites/acme-office", body: `{"schedule_seconds":900}`, want: 200, contains: []string{`"schedule_seconds":900`, `"name":"Acme Office"`}},
		{name: "id cannot change", method: "PATCH", path: "/sites/acme-office", body: `{"id":"other"}`, want: 400},
		{name: "sites paged", method: "GET", path: "/sites?limit=1", want: 200, contains: []string{`"next_offset":1`, `"limit":1`}},
		{name: "bad limit", method: "GET", path: "/sites?limit=lots", want: 400},
		{name: "site status", method: "GET", path: "/sites/acme-office/status", want: 200,
			contains: []string{`"verdict":"hijacked"`, `"high":1`, `"medium":1`, `"open_alerts":1`, `"id":"acme-rtr"`}},
		{name: "unknown site", method: "GET", path: "/sites/nowhere", want: 404},
		{name: "devices of a site", method: "GET", path: "/devices?site=acme-office", want: 200, contains: []string{`"id":"acme-rtr"`}},
		{name: "devices of another site", method: "GET", path: "/devices?site=branch", want: 200, absent: []string{"acme-rtr"}},
		{name: "device", method: "GET", path: "/devices/acme-rtr", want: 200, contains: []string{`\u003cscript\u003e`}, absent: []string{"<script>"}},
		{name: "findings", method: "GET", path: "/devices/acme-rtr/findings", want: 200, contains: []string{"Telnet answers on the LAN", `"high":1`}},
		{name: "snapshots", method: "GET", path: "/devices/acme-rtr/snapshots", want: 200, contains: []string{`"adapter":"tplink-legacy"`}},
		{name: "changes in words", method: "GET", path: "/devices/acme-rtr/changes", want: 200, contains: []string{"not in your allowed resolvers"}},
		{name: "audits of a kind", method: "GET", path: "/audits?kind=check", want: 200, contains: []string{`"kind":"check"`}, absent: []string{`"kind":"dns"`, `"report"`}},
		{name: "audit with its report", method: "GET", path: "/audits/" + f.ids["audit"], want: 200, contains: []string{`"report":{`, "exposure.telnet"}},
		{name: "audit not a number", method: "GET", path: "/audits/abc", want: 404},
		{name: "open alerts", method: "GET", path: "/alerts?state=open", want: 200, contains: []string{`"key":"dns-hijack"`}},
		{name: "bad alert state", method: "GET", path: "/alerts?state=sleeping", want: 400},
		{name: "ack", method: "POST", path: "/alerts/" + f.ids["alert"] + "/ack", want: 200, contains: []string{`"acked_by":"acme/admin token"`}},
		{name: "suppress", method: "POST", path: "/alerts/" + f.ids["alert"] + "/suppress", body: `{"seconds":3600}`, want: 200, contains: []string{`"suppressed_until"`}},
		{name: "suppress too long", method: "POST", path: "/alerts/" + f.ids["alert"] + "/suppress", body: `{"seconds":99999999}`, want: 400},
		{name: "lift suppression", method: "POST", path: "/alerts/" + f.ids["alert"] + "/suppress", body: `{"seconds":0}`, want: 200, absent: []string{`"suppressed_until"`}},
		{name: "create user", method: "POST", path: "/users", body: `{"name":"acme-new","role":"operator","password":"a long enough password"}`, want: 201,
			contains: []string{`"role":"operator"`}, absent: []string{"argon2", "password"}},
		{name: "user name taken", method: "POST", path: "/users", body: `{"name":"ACME-NEW","role":"viewer","password":"a long enough password"}`, want: 409},
		{name: "weak password", method: "POST", path: "/users", body: `{"name":"acme-weak","role":"viewer","password":"short"}`, want: 400, contains: []string{"12"}, absent: []string{"short\""}},
		{name: "bad role", method: "POST", path: "/users", body: `{"name":"acme-root","role":"root","password":"a long enough password"}`, want: 400},
		{name: "users", method: "GET", path: "/users", want: 200, contains: []string{"acme-new", "acme-viewer"}, absent: []string{"argon2", "gina"}},
		{name: "disable user", method: "PATCH", path: "/users/" + f.ids["user"], body: `{"disabled":true}`, want: 200, contains: []string{`"disabled":true`}},
		{name: "enable user", method: "PATCH", path: "/users/" + f.ids["user"], body: `{"disabled":false}`, want: 200, absent: []string{`"disabled"`}},
		{name: "tokens never show hashes", method: "GET", path: "/tokens", want: 200, contains: []string{`"prefix"`}, absent: []string{`"hash"`, "rw_"}},
		{name: "bad token role", method: "POST", path: "/tokens", body: `{"name":"x","role":"agent"}`, want: 400},
		{name: "token expiry too far", method: "POST", path: "/tokens", body: `{"name":"x","role":"viewer","expires_in_seconds":999999999}`, want: 400},
		{name: "agent token with a role", method: "POST", path: "/sites/acme-office/agent-tokens", body: `{"name":"a","role":"admin"}`, want: 400},
		{name: "range scope", method: "POST", path: "/range-scopes", body: `{"prefixes":["203.0.113.0/24"],"owner":"Acme ISP","reason":"notify customers","per_prefix_rate":5}`, want: 201,
			contains: []string{`"prefixes":["203.0.113.0/24"]`, `"created_by":"acme/admin token"`}},
		{name: "range scope reaching private space", method: "POST", path: "/range-scopes", body: `{"prefixes":["203.0.113.0/24","10.1.0.0/16"],"owner":"o","reason":"r","per_prefix_rate":5}`, want: 400, contains: []string{"prefixes[1]"}},
		{name: "range scope around private space", method: "POST", path: "/range-scopes", body: `{"prefixes":["8.0.0.0/6"],"owner":"o","reason":"r","per_prefix_rate":5}`, want: 400},
		{name: "range scope of CGNAT", method: "POST", path: "/range-scopes", body: `{"prefixes":["100.64.0.0/24"],"owner":"o","reason":"r","per_prefix_rate":5}`, want: 400},
		{name: "range scope bad prefix", method: "POST", path: "/range-scopes", body: `{"prefixes":["203.0.113.0/33"],"owner":"o","reason":"r","per_prefix_rate":5}`, want: 400},
		{name: "range scope without reason", method: "POST", path: "/range-scopes", body: `{"prefixes":["203.0.113.0/24"],"owner":"o","reason":"","per_prefix_rate":5}`, want: 400},
		{name: "range scopes", method: "GET", path: "/range-scopes", want: 200, contains: []string{"acme customer notification"}},
		{name: "range runs", method: "GET", path: "/range-scopes/" + f.ids["scope"] + "/runs", want: 200, contains: []string{`"state":"running"`}},
		{name: "range run", method: "GET", path: "/range-runs/" + f.ids["run"], want: 200},
		{name: "range summary", method: "GET", path: "/range-runs/" + f.ids["run"] + "/summary", want: 200, contains: []string{`"prefix":"198.51.100.0/24"`, `"addresses":2`, `"live":1`}},
		{name: "range records", method: "GET", path: "/range-runs/" + f.ids["run"] + "/records?within=198.51.100.0/31", want: 200, contains: []string{"198.51.100.1"}},
		{name: "range records bad prefix", method: "GET", path: "/range-runs/" + f.ids["run"] + "/records?within=x", want: 400},
		{name: "wan check", method: "POST", path: "/sites/acme-office/wan-check", want: 202, contains: []string{`"job_id":101`}},
		{name: "wan check without address", method: "POST", path: "/sites/branch/wan-check", want: 409},
		{name: "IPv6 public address", method: "PATCH", path: "/sites/branch", body: `{"public_addr":"2001:db8::1"}`, want: 200, contains: []string{`"public_addr":"2001:db8::1"`, `"schedule_seconds":3600`}},
		{name: "start range run", method: "POST", path: "/range-scopes/" + f.ids["scope"] + "/runs", want: 201, contains: []string{`"state":"running"`}},
		{name: "unknown route", method: "GET", path: "/nothing-here", want: 404},
		{name: "wrong method", method: "DELETE", path: "/sites", want: 405},
		{name: "audit log", method: "GET", path: "/audit-log", want: 200,
			contains: []string{`"action":"site.create"`, `"action":"alert.ack"`, `"action":"user.create"`, `"action":"range_scope.create"`, `"action":"range_run.start"`, `"action":"site.wan_check"`, `"actor":"token `},
			absent:   []string{"a long enough password"}},
	} {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
	if got := strings.Join(f.jobs.wans, ","); got != "acme/acme-office/203.0.113.9" {
		t.Errorf("WAN checks enqueued: %s", got)
	}
	if len(f.jobs.runs) != 1 || !strings.HasPrefix(f.jobs.runs[0], "acme/") {
		t.Errorf("range runs enqueued: %v", f.jobs.runs)
	}

	t.Run("token lifecycle", func(t *testing.T) {
		v := run(t, tc{method: "POST", path: "/tokens", body: `{"name":"nightly","role":"viewer","expires_in_seconds":86400}`, want: 201, contains: []string{`"token":"rw_`, `"expires_at"`}})
		plain, _ := v["token"].(string)
		id := int64(v["id"].(float64))
		run(t, tc{method: "GET", path: "/sites", token: plain, want: 200, contains: []string{"acme-office"}})
		run(t, tc{method: "POST", path: "/sites", token: plain, body: `{"id":"z","name":"z"}`, want: 403})
		run(t, tc{method: "GET", path: "/tokens/" + itoa(id), want: 200, absent: []string{plain}})
		run(t, tc{method: "POST", path: "/tokens/" + itoa(id) + "/revoke", want: 200, contains: []string{`"revoked_at"`}})
		run(t, tc{method: "GET", path: "/sites", token: plain, want: 401})
	})
	t.Run("agent token reaches no user route", func(t *testing.T) {
		v := run(t, tc{method: "POST", path: "/sites/acme-office/agent-tokens", body: `{"name":"office agent"}`, want: 201, contains: []string{`"role":"agent"`, `"site_id":"acme-office"`}})
		plain, _ := v["token"].(string)
		run(t, tc{method: "GET", path: "/sites", token: plain, want: 403})
		run(t, tc{method: "GET", path: "/sites/acme-office", token: plain, want: 403})
		run(t, tc{method: "GET", path: "/sites/acme-office/agent-tokens", want: 200, contains: []string{"office agent"}, absent: []string{plain, "next_offset"}})
	})
	t.Run("export", func(t *testing.T) {
		w := f.do(request{method: "GET", path: apiPrefix + "/range-runs/" + f.ids["run"] + "/export", token: admin})
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("csv export: %d %s", w.Code, w.Header())
		}
		want := "address,prefix,live,failing,worst_severity,model,audited_at\n198.51.100.1,198.51.100.0/24,true,2,high,'=acme-model,"
		if !strings.HasPrefix(w.Body.String(), want) {
			t.Errorf("csv export:\n%s\nwant it to start with\n%s", w.Body, want)
		}
		w = f.do(request{method: "GET", path: apiPrefix + "/range-runs/" + f.ids["run"] + "/export?format=json", token: admin})
		if w.Code != 200 || strings.Count(w.Body.String(), "\n") != 2 || !strings.Contains(w.Body.String(), `"model":"=acme-model"`) {
			t.Errorf("json export: %d\n%s", w.Code, w.Body)
		}
		w = f.do(request{method: "GET", path: apiPrefix + "/range-runs/" + f.ids["run"] + "/export?format=xml", token: admin})
		if w.Code != 400 {
			t.Errorf("xml export: %d", w.Code)
		}
		run(t, tc{method: "GET", path: "/audit-log", want: 200, contains: []string{`"action":"range_run.export"`}})
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
