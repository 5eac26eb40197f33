// SPDX-License-Identifier: Apache-2.0

package tplink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/target"
)

const (
	testUser = "admin"
	// testPassword is 20 characters: longer than the 15 an Archer C7
	// 150427 hashes.
	testPassword = "correct-horse-batter"
)

func loopback() *netx.Dialer {
	return netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.0/8")), netx.Options{Rate: -1})
}

func targetOf(r *tplinktest.Router) device.Target {
	ap := r.Addr()
	return device.Target{Addr: ap.Addr(), Port: ap.Port()}
}

func creds(user, pass string) device.Credentials {
	return device.Credentials{User: user, Password: config.NewSecret(pass)}
}

func fake(t *testing.T, o tplinktest.Options) *tplinktest.Router {
	t.Helper()
	if o.User == "" {
		o.User, o.Password = testUser, testPassword
	}
	return tplinktest.New(t, samples(t), o)
}

// checkReadOnly fails when a request could have changed a setting.
func checkReadOnly(t *testing.T, reqs []tplinktest.Request) {
	t.Helper()
	for _, r := range reqs {
		if r.Path == "/userRpm/LoginRpm.htm" {
			continue // the login itself carries Save=Save
		}
		for _, k := range []string{"Save", "upnpenb", "DisWps", "EnWps", "Upnpdisable", "Upnpenable"} {
			if r.Query.Has(k) {
				t.Errorf("pull sent %s?%s", r.Path, r.Query.Encode())
			}
		}
	}
}

func TestPull(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    tplinktest.Options
		pass    string
		logins  int // successful logins the fake counts (cookie scheme)
		pathPfx string
	}{
		{name: "basic", opts: tplinktest.Options{Scheme: tplinktest.Basic}, pathPfx: "/userRpm/"},
		{name: "cookie", opts: tplinktest.Options{Scheme: tplinktest.Cookie}, logins: 1, pathPfx: "/userRpm/"},
		{name: "cookie_archer_c7_15_characters", opts: tplinktest.Options{Scheme: tplinktest.Cookie, Hash15: true}, logins: 1},
		{name: "cookie_short_password", opts: tplinktest.Options{Scheme: tplinktest.Cookie, User: "admin", Password: "short"}, pass: "short", logins: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fake(t, tc.opts)
			pass := testPassword
			if tc.pass != "" {
				pass = tc.pass
			}
			l := &tplink.Legacy{Now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }}
			snap, err := l.Pull(t.Context(), loopback(), targetOf(r), creds(testUser, pass))
			if err != nil {
				t.Fatal(err)
			}
			vals, _ := summary(snap.Config)
			if d := cmp.Diff(defaultWant, pick(vals, defaultWant)); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
			if len(snap.Warnings) != 0 {
				t.Errorf("warnings: %q", snap.Warnings)
			}
			if snap.Adapter != "tplink-legacy" || snap.Target != r.Addr().Addr() || !snap.TakenAt.Equal(l.Now()) {
				t.Errorf("snapshot %s %s %s", snap.Adapter, snap.Target, snap.TakenAt)
			}
			var names []string
			for _, a := range snap.Raw {
				names = append(names, a.Name)
			}
			wantNames := []string{"MenuRpm.htm", "StatusRpm.htm", "WanDynamicIpCfgRpm.htm", "LanDhcpServerRpm.htm",
				"ManageControlRpm.htm", "LocalManageControlRpm.htm", "UpnpCfgRpm.htm", "WpsCfgRpm.htm", "SoftwareUpgradeRpm.htm"}
			if d := cmp.Diff(wantNames, names); d != "" {
				t.Errorf("raw artifacts (-want +got):\n%s", d)
			}
			reqs := r.Requests()
			checkReadOnly(t, reqs)
			if r.SessionOpen() {
				t.Error("pull left the admin session open")
			}
			if got := r.Logins(); got != tc.logins {
				t.Errorf("%d logins, want %d", got, tc.logins)
			}
			if tc.opts.Scheme == tplinktest.Cookie && r.Logouts() != 1 {
				t.Errorf("%d logouts, want 1", r.Logouts())
			}
			for _, q := range reqs {
				if strings.HasPrefix(q.Path, "/userRpm/") && q.Path != "/userRpm/LoginRpm.htm" {
					if q.Status != http.StatusOK {
						t.Errorf("%s answered %d", q.Path, q.Status)
					}
					if tc.opts.Scheme == tplinktest.Cookie && !q.Token {
						t.Errorf("%s without the session token", q.Path)
					}
				}
			}
		})
	}
}

// TestPullRemembersTheShortPassword: once an Archer C7 150427 took the
// 15-character hash, later pulls do not spend a failed login first.
func TestPullRemembersTheShortPassword(t *testing.T) {
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie, Hash15: true})
	l := &tplink.Legacy{}
	countLogins := func() int {
		n := 0
		for _, q := range r.Requests() {
			if q.Path == "/userRpm/LoginRpm.htm" {
				n++
			}
		}
		return n
	}
	for i, want := range []int{2, 3} {
		if _, err := l.Pull(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword)); err != nil {
			t.Fatal(err)
		}
		if got := countLogins(); got != want {
			t.Errorf("after pull %d: %d LoginRpm requests, want %d", i+1, got, want)
		}
	}
}

func TestPullErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    tplinktest.Options
		setup   func(*tplinktest.Router)
		user    string
		pass    string
		target  func(*tplinktest.Router) device.Target
		wantErr error
		wantMsg string
	}{
		{name: "basic_wrong_password", opts: tplinktest.Options{Scheme: tplinktest.Basic}, pass: "Wr0ng-pass", wantErr: device.ErrAuth},
		{name: "basic_wrong_user", opts: tplinktest.Options{Scheme: tplinktest.Basic}, user: "root", wantErr: device.ErrAuth},
		{name: "cookie_wrong_password", opts: tplinktest.Options{Scheme: tplinktest.Cookie}, pass: "Wr0ng-pass", wantErr: device.ErrAuth},
		{name: "cookie_wrong_long_password", opts: tplinktest.Options{Scheme: tplinktest.Cookie}, pass: "wrong-but-longer-than-15", wantErr: device.ErrAuth},
		{name: "cookie_another_session_open", opts: tplinktest.Options{Scheme: tplinktest.Cookie},
			setup: func(r *tplinktest.Router) { r.OpenSession() }, wantErr: device.ErrBusy, wantMsg: "another admin session"},
		{name: "cookie_rate_limited", opts: tplinktest.Options{Scheme: tplinktest.Cookie, MaxFailures: 1},
			setup: func(r *tplinktest.Router) { pullWrong(r) }, wantErr: device.ErrBusy, wantMsg: "too many logins"},
		{name: "basic_rate_limited", opts: tplinktest.Options{Scheme: tplinktest.Basic, MaxFailures: 1},
			setup: func(r *tplinktest.Router) { pullWrong(r) }, wantErr: device.ErrBusy},
		{name: "tls_asked", opts: tplinktest.Options{Scheme: tplinktest.Basic},
			target: func(r *tplinktest.Router) device.Target { tg := targetOf(r); tg.TLS = true; return tg }, wantErr: device.ErrUnsupported},
		{name: "out_of_scope", opts: tplinktest.Options{Scheme: tplinktest.Basic},
			target: func(*tplinktest.Router) device.Target {
				return device.Target{Addr: netip.MustParseAddr("192.0.2.1")}
			}, wantErr: netx.ErrOutOfScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fake(t, tc.opts)
			if tc.setup != nil {
				tc.setup(r)
			}
			user, pass := testUser, testPassword
			if tc.user != "" {
				user = tc.user
			}
			if tc.pass != "" {
				pass = tc.pass
			}
			tg := targetOf(r)
			if tc.target != nil {
				tg = tc.target(r)
			}
			before := len(r.Requests())
			snap, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), tg, creds(user, pass))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if snap != nil {
				t.Error("a snapshot with the error")
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to say %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("the error names the password: %v", err)
			}
			if tc.name == "tls_asked" || tc.name == "out_of_scope" {
				if n := len(r.Requests()) - before; n != 0 {
					t.Errorf("%d requests sent", n)
				}
			}
		})
	}
}

// pullWrong spends one failed login.
func pullWrong(r *tplinktest.Router) {
	ap := r.Addr()
	_, _ = (&tplink.Legacy{}).Pull(context.Background(), loopback(), device.Target{Addr: ap.Addr(), Port: ap.Port()}, creds(testUser, "wrong"))
}

// TestPullNotTPLink: other web servers are not this adapter's routers.
func TestPullNotTPLink(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"plain_page", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) }},
		{"other_realm", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="NETGEAR R7000"`)
			w.WriteHeader(http.StatusUnauthorized)
		}},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/webpages/login.html", http.StatusFound)
		}},
		{"server_error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
			_, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), device.Target{Addr: ap.Addr(), Port: ap.Port()}, creds(testUser, testPassword))
			if !errors.Is(err, device.ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

// TestPullSessionExpires: a session that expires mid-pull is logged in
// again once; one that keeps expiring ends the pull, still logging out.
func TestPullSessionExpires(t *testing.T) {
	t.Run("once", func(t *testing.T) {
		r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie, ExpireAfter: 6})
		snap, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword))
		if err != nil {
			t.Fatal(err)
		}
		if r.Logins() != 2 {
			t.Errorf("%d logins, want 2", r.Logins())
		}
		vals, _ := summary(snap.Config)
		if d := cmp.Diff(defaultWant, pick(vals, defaultWant)); d != "" {
			t.Errorf("config (-want +got):\n%s", d)
		}
		if r.SessionOpen() {
			t.Error("session left open")
		}
	})
	t.Run("again", func(t *testing.T) {
		r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie, ExpireAfter: 1})
		_, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword))
		if !errors.Is(err, device.ErrBusy) {
			t.Fatalf("err = %v, want ErrBusy", err)
		}
		if r.Logins() != 2 {
			t.Errorf("%d logins, want 2 (one re-login, not a loop)", r.Logins())
		}
	})
}

// TestPullMissingPages: pages the menu does not list are not asked for,
// pages that answer 404 are warnings; their fields stay unknown.
func TestPullMissingPages(t *testing.T) {
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie,
		Hidden:  []string{tplink.PageUPnP},
		Missing: []string{tplink.PageWPS, tplink.PageManage}})
	snap, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	vals, where := summary(snap.Config)
	want := map[string]string{"upnp.enabled": "?", "wps.enabled": "?", "web.wan": "?", "dhcp_dns": "[192.168.1.1]"}
	if d := cmp.Diff(want, pick(vals, want)); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	wantNotes := map[string]string{
		"upnp.enabled#note": "page not read: not in this firmware's menu (MenuRpm visibleMenuList)",
		"wps.enabled#note":  "page not read: HTTP 404",
	}
	if d := cmp.Diff(wantNotes, pick(where, wantNotes)); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	wantWarn := []string{"UpnpCfgRpm.htm: not in this firmware's menu", "ManageControlRpm.htm: not read (HTTP 404)", "WpsCfgRpm.htm: not read (HTTP 404)"}
	for _, w := range wantWarn {
		if !slices.Contains(snap.Warnings, w) {
			t.Errorf("no warning %q in %q", w, snap.Warnings)
		}
	}
	for _, q := range r.Requests() {
		if q.Path == "/userRpm/"+tplink.PageUPnP {
			t.Error("asked for a page the menu does not list")
		}
	}
}

// TestPullKeepsNoSecret: the password and the WPS PIN appear nowhere in
// the snapshot, and the redaction is counted.
func TestPullKeepsNoSecret(t *testing.T) {
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie})
	pin := r.State().WPSPIN
	snap, err := (&tplink.Legacy{}).Pull(t.Context(), loopback(), targetOf(r), creds(testUser, testPassword))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testPassword, pin} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the snapshot holds %q", secret)
		}
	}
	redacted := 0
	for _, a := range snap.Raw {
		redacted += a.Redacted
		if a.Name == tplink.PageWPS && !bytes.Contains(a.Body, []byte(`"redacted"`)) {
			t.Error("WPS page without the redaction mark")
		}
	}
	if redacted != 1 {
		t.Errorf("%d redactions, want 1 (the WPS PIN)", redacted)
	}
}

// TestPullContextCancelledStillLogsOut: the session is released even
// when the caller gives up mid-pull.
func TestPullContextCancelledStillLogsOut(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := fake(t, tplinktest.Options{Scheme: tplinktest.Cookie, Observe: func(q tplinktest.Request) {
		// The caller gives up while the first page after the login is
		// on its way. (Giving up during the login itself cannot be
		// cleaned up: the token never arrives, and the logout needs it.)
		if q.Token && q.Path == "/userRpm/"+tplink.PageMenu {
			cancel()
		}
	}})
	_, err := (&tplink.Legacy{}).Pull(ctx, loopback(), targetOf(r), creds(testUser, testPassword))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r.SessionOpen() || r.Logouts() != 1 {
		t.Errorf("session open %v, %d logouts: the cancelled pull did not log out", r.SessionOpen(), r.Logouts())
	}
}

// FuzzParseLoginReply: the token is a plain path segment or nothing.
func FuzzParseLoginReply(f *testing.F) {
	f.Add([]byte(`window.parent.location.href = "http://192.168.0.1/ABCDEFGHIJKLMNOP/userRpm/Index.htm";`))
	f.Add([]byte(`window.parent.location.href = "https://[2001:db8::1]/x/userRpm/Index.htm"`))
	f.Add(samples(f).Status)
	f.Fuzz(func(t *testing.T, b []byte) {
		tok := tplink.ParseLoginReply(b)
		if len(tok) > 64 || strings.ContainsAny(tok, "/?#%:. \\\x00") {
			t.Fatalf("token %q", tok)
		}
	})
}

func BenchmarkPull(b *testing.B) {
	smp := samples(b)
	r := tplinktest.New(b, smp, tplinktest.Options{Scheme: tplinktest.Cookie, User: testUser, Password: testPassword})
	l := &tplink.Legacy{}
	d := loopback()
	tg := device.Target{Addr: r.Addr().Addr(), Port: r.Addr().Port()}
	for b.Loop() {
		if _, err := l.Pull(b.Context(), d, tg, creds(testUser, testPassword)); err != nil {
			b.Fatal(err)
		}
	}
}
