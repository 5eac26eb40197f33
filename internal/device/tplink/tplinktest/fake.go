// SPDX-License-Identifier: Apache-2.0

// Package tplinktest is a fake legacy TP-Link web UI for tests, listening
// on 127.0.0.1 only. It serves the real StatusRpm, MenuRpm and Index
// samples and synthetic settings pages built from CONFIGS.md §1.3, and
// behaves the way CONFIGS.md §1.2 documents: HTTP Basic on every request
// (realm "TP-LINK Wireless N Router WR841N", Server "Router Webserver"),
// or the Authorization cookie with GET /userRpm/LoginRpm.htm?Save=Save
// answering with the /<TOKEN>/userRpm/ session path, a Referer that must
// point into the router, one admin session at a time, LogoutRpm, the
// Archer C7 150427 habit of hashing only the first 15 password
// characters, and "Save" GETs that change its state.
//
// What CONFIGS.md §1.7 lists as never captured is the fake's own choice,
// and says so: the login page's shape, the reply to a wrong cookie
// password (the login page again, without a token), to a second login
// while a session is open (503) and to too many failed logins (429), and
// an expired session (the login page again).
//
// Imported only by tests.
package tplinktest

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/device/tplink"
)

// Scheme is the login scheme the fake speaks.
type Scheme int

const (
	// Basic: HTTP Basic on every request, no session.
	Basic Scheme = iota
	// Cookie: the Authorization cookie and the LoginRpm session token.
	Cookie
)

// Realm is the fake's Basic realm (a real one, THREAT.md §4.3).
const Realm = "TP-LINK Wireless N Router WR841N"

// Options configure the fake.
type Options struct {
	Scheme         Scheme
	User, Password string
	// Hash15: like Archer C7 firmware 150427, only the first 15
	// characters of the password are hashed into the cookie.
	Hash15 bool
	// MaxFailures is how many failed logins lock logins out for Lockout
	// (defaults 5 and one minute).
	MaxFailures int
	Lockout     time.Duration
	// ExpireAfter ends a cookie session after this many page requests
	// (0: never), as an idle timeout would.
	ExpireAfter int
	// Missing pages answer 404; Hidden pages are left out of MenuRpm's
	// visibleMenuList (names like "UpnpCfgRpm.htm").
	Missing, Hidden []string
	// State is the initial state; the zero State means Default().
	State *State
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
	// NoLog keeps no request for Requests: a long run (a benchmark of
	// thousands of pulls) would otherwise grow with every request.
	NoLog bool
	// Observe, when set, sees each request after it was answered. It
	// runs under the fake's lock: it must not call the Router's methods.
	Observe func(Request)
}

// Request is one request the fake received.
type Request struct {
	Path    string // without the session token
	Query   url.Values
	Referer string
	Status  int
	// Token: the request went to /<TOKEN>/userRpm/.
	Token bool
}

// Router is the fake. Its methods are safe for concurrent use.
type Router struct {
	opts    Options
	samples Samples
	srv     *httptest.Server

	mu          sync.Mutex
	state       State
	token       string // the open session's token, "" when none
	sessionReqs int
	failures    int
	lockedUntil time.Time
	logins      int
	logouts     int
	log         []Request
}

// New starts the fake on 127.0.0.1 and stops it when the test ends.
func New(tb testing.TB, smp Samples, o Options) *Router {
	tb.Helper()
	if o.MaxFailures == 0 {
		o.MaxFailures = 5
	}
	if o.Lockout == 0 {
		o.Lockout = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Router{opts: o, samples: smp, state: Default()}
	if o.State != nil {
		r.state = *o.State
	}
	// httptest.NewServer listens on 127.0.0.1 (loopback only).
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

// Addr is the fake's address.
func (r *Router) Addr() netip.AddrPort {
	ap, err := netip.ParseAddrPort(r.srv.Listener.Addr().String())
	if err != nil {
		panic(err)
	}
	return ap
}

// State returns a copy of the settings.
func (r *Router) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// SetState changes the settings, as the owner or an attacker would.
func (r *Router) SetState(f func(*State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.state)
}

// Requests returns the requests received so far.
func (r *Router) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// OpenSession opens an admin session as if the owner were logged in
// from a browser (cookie scheme).
func (r *Router) OpenSession() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.token = newToken()
	r.sessionReqs = 0
}

// SessionOpen reports whether an admin session is open.
func (r *Router) SessionOpen() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.token != ""
}

// Logins and Logouts count successful logins and logouts.
func (r *Router) Logins() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logins
}

// Logouts counts logouts of an open session.
func (r *Router) Logouts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logouts
}

func newToken() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// loginPage is the fake's login page (synthetic: no capture of a real
// one was found; the field name pcPassword is that of TP-Link login
// pages quoted in public issues).
const loginPage = `<HTML><HEAD><TITLE>TL-WR841N</TITLE>
<!-- synthetic login page of routerwatch's tplinktest fake -->
<SCRIPT type="text/javascript">
function PCSubWin() {
  var auth = "Basic " + Base64Encoding(document.getElementById("userName").value + ":" + hex_md5(document.getElementById("pcPassword").value));
  document.cookie = "Authorization=" + escape(auth) + ";path=/";
  location.href = "/userRpm/LoginRpm.htm?Save=Save";
}
</SCRIPT></HEAD>
<BODY><INPUT id="userName" type="text"><INPUT id="pcPassword" type="password"></BODY></HTML>
`

func (r *Router) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Server", "Router Webserver")
	w.Header().Set("Content-Type", "text/html")
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Request{Path: req.URL.Path, Query: req.URL.Query(), Referer: req.Header.Get("Referer")}
	status := http.StatusOK
	var body []byte
	defer func() {
		rec.Status = status
		if !r.opts.NoLog {
			r.log = append(r.log, rec)
		}
		if r.opts.Observe != nil {
			r.opts.Observe(rec)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}()
	if r.opts.Scheme == Basic {
		status, body = r.serveBasic(w, req, &rec)
		return
	}
	status, body = r.serveCookie(req, &rec)
}

func (r *Router) locked() bool { return r.opts.Now().Before(r.lockedUntil) }

func (r *Router) fail() {
	r.failures++
	if r.failures >= r.opts.MaxFailures {
		r.lockedUntil = r.opts.Now().Add(r.opts.Lockout)
		r.failures = 0
	}
}

func (r *Router) serveBasic(w http.ResponseWriter, req *http.Request, rec *Request) (int, []byte) {
	if r.locked() {
		w.Header().Set("Retry-After", strconv.Itoa(int(r.opts.Lockout/time.Second)))
		return http.StatusTooManyRequests, []byte("too many failed logins")
	}
	u, p, ok := req.BasicAuth()
	if !ok || u != r.opts.User || p != r.opts.Password {
		if ok {
			r.fail()
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		return http.StatusUnauthorized, []byte("401 Unauthorized")
	}
	if req.URL.Path == "/" {
		return http.StatusOK, r.samples.Index
	}
	page, ok := strings.CutPrefix(req.URL.Path, "/userRpm/")
	if !ok {
		return http.StatusNotFound, []byte("404 Not Found")
	}
	return r.page(req, page, rec)
}

// cookieOK checks the Authorization cookie, URL-encoded ("Basic%20…") or
// not ("Basic …").
func (r *Router) cookieOK(req *http.Request) bool {
	c, err := req.Cookie("Authorization")
	if err != nil {
		return false
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return false
	}
	pass := r.opts.Password
	if r.opts.Hash15 && len(pass) > 15 {
		pass = pass[:15]
	}
	sum := md5.Sum([]byte(pass))
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(r.opts.User+":"+hex.EncodeToString(sum[:])))
	return v == want
}

func (r *Router) serveCookie(req *http.Request, rec *Request) (int, []byte) {
	path := req.URL.Path
	switch {
	case path == "/":
		return http.StatusOK, []byte(loginPage)
	case path == "/userRpm/LoginRpm.htm":
		return r.login(req)
	}
	// /<TOKEN>/userRpm/<page>
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) != 3 || parts[1] != "userRpm" {
		return http.StatusNotFound, []byte("404 Not Found")
	}
	rec.Path, rec.Token = "/userRpm/"+parts[2], true
	if r.token == "" || parts[0] != r.token || !r.cookieOK(req) {
		// An unknown or expired session gets the login page.
		return http.StatusOK, []byte(loginPage)
	}
	if parts[2] == "LogoutRpm.htm" {
		r.token = ""
		r.logouts++
		return http.StatusOK, []byte(loginPage)
	}
	r.sessionReqs++
	if r.opts.ExpireAfter > 0 && r.sessionReqs > r.opts.ExpireAfter {
		r.token = ""
		return http.StatusOK, []byte(loginPage)
	}
	return r.page(req, parts[2], rec)
}

func (r *Router) login(req *http.Request) (int, []byte) {
	if r.locked() {
		return http.StatusTooManyRequests, []byte("too many failed logins")
	}
	if !r.cookieOK(req) {
		r.fail()
		return http.StatusOK, []byte(loginPage)
	}
	if r.token != "" {
		return http.StatusServiceUnavailable, []byte("another administrator is logged in")
	}
	r.failures = 0
	r.token = newToken()
	r.sessionReqs = 0
	r.logins++
	return http.StatusOK, []byte(`<html><head><script type="text/javascript">
window.parent.location.href = "http://` + req.Host + `/` + r.token + `/userRpm/Index.htm";
</script></head><body></body></html>
`)
}

// page serves one /userRpm/ page, applying a Save first.
func (r *Router) page(req *http.Request, page string, rec *Request) (int, []byte) {
	// The firmware refuses requests whose Referer does not point into
	// the router (CONFIGS.md §1.2).
	if !strings.HasPrefix(rec.Referer, "http://"+req.Host+"/") {
		return http.StatusForbidden, []byte("403 Forbidden")
	}
	if slices.Contains(r.opts.Missing, page) {
		return http.StatusNotFound, []byte("404 Not Found")
	}
	q := req.URL.Query()
	if q.Has("Save") || page == tplink.PageUPnP && q.Has("upnpenb") || page == tplink.PageWPS && (q.Has("DisWps") || q.Has("EnWps")) {
		if err := r.save(page, q); err != nil {
			return http.StatusBadRequest, []byte(err.Error())
		}
	}
	b := r.state.Page(page, r.samples, r.opts.Hidden)
	if b == nil {
		return http.StatusNotFound, []byte("404 Not Found")
	}
	return http.StatusOK, b
}

// form reads the fields of a Save; a missing required field refuses the
// whole Save, so a fixer that forgets to re-submit a value is caught.
type form struct {
	q   url.Values
	err error
}

func (f *form) get(name string) string {
	if !f.q.Has(name) && f.err == nil {
		f.err = fmt.Errorf("tplinktest: Save without the field %q", name)
	}
	return f.q.Get(name)
}

func (f *form) ip(name string, optional bool) string {
	v := f.get(name)
	if optional && (v == "" || v == "0.0.0.0") {
		return "0.0.0.0"
	}
	if a, err := netip.ParseAddr(v); (err != nil || !a.Is4()) && f.err == nil {
		f.err = fmt.Errorf("tplinktest: %s=%q is not an IPv4 address", name, v)
	}
	return v
}

func (f *form) num(name string) int {
	v := f.get(name)
	n, err := strconv.Atoi(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("tplinktest: %s=%q is not a number", name, v)
	}
	return n
}

func (r *Router) save(page string, q url.Values) error {
	f := &form{q: q}
	s := r.state
	switch page {
	case tplink.PageDHCP:
		s.DHCP.Enabled = f.get("dhcpserver") == "1"
		s.DHCP.Start, s.DHCP.End = f.ip("ip1", false), f.ip("ip2", false)
		s.DHCP.Lease = f.num("Lease")
		s.DHCP.Gateway = f.ip("gateway", true)
		s.DHCP.Domain = f.get("domain")
		s.DHCP.DNS1, s.DHCP.DNS2 = f.ip("dnsserver", true), f.ip("dnsserver2", true)
		s.DHCP.RebootNeeded = true
	case tplink.PageWANDynamic:
		if f.get("wantype") != "0" {
			return fmt.Errorf("tplinktest: wantype %q on the dynamic-IP page", q.Get("wantype"))
		}
		s.WANType = 1
		s.Dynamic.MTU = f.num("mtu")
		s.Dynamic.Manual = q.Get("manual") == "2"
		if s.Dynamic.Manual {
			s.Dynamic.DNS1, s.Dynamic.DNS2 = f.ip("dnsserver", false), f.ip("dnsserver2", true)
		}
		// Optional fields the DNS-changer crawler leaves out (CONFIGS.md
		// §1.4): left out, they are cleared.
		s.Dynamic.HostName = q.Get("hostName")
		s.Dynamic.Unicast = q.Get("flagMode") == "2"
	case tplink.PageWANStatic:
		s.WANType = 2
		s.Static.IP, s.Static.Mask, s.Static.Gateway = f.ip("ip", false), f.ip("mask", false), f.ip("gateway", false)
		s.Static.MTU = f.num("mtu")
		s.Static.DNS1, s.Static.DNS2 = f.ip("dnsserver", false), f.ip("dnsserver2", true)
	case tplink.PagePPPoEAdv:
		if f.get("Advanced") != "Advanced" {
			return fmt.Errorf("tplinktest: PPPoE advanced Save without Advanced=Advanced")
		}
		s.WANType = 3
		s.PPPoE.MRU = f.num("lcpMru")
		s.PPPoE.ServiceName, s.PPPoE.AcName = q.Get("ServiceName"), q.Get("AcName")
		s.PPPoE.FixedIPEnabled = q.Get("fixedIpEn") == "2"
		if s.PPPoE.FixedIPEnabled {
			s.PPPoE.FixedIP = f.ip("fixedIp", false)
		}
		s.PPPoE.EchoReq = f.num("EchoReq")
		s.PPPoE.Manual = q.Get("manual") == "2"
		if s.PPPoE.Manual {
			s.PPPoE.DNS1, s.PPPoE.DNS2 = f.ip("dnsserver", false), f.ip("dnsserver2", true)
		}
	case tplink.PageManage:
		s.Manage.Port = f.num("port")
		s.Manage.IP = f.ip("ip", false)
		if s.Manage.TelnetPortSupported {
			s.Manage.TelnetPort = f.num("telnet_port")
		}
	case tplink.PageUPnP:
		switch q.Get("upnpenb") {
		case "Enable":
			s.UPnP = true
		case "Disable":
			s.UPnP = false
		default:
			return fmt.Errorf("tplinktest: upnpenb=%q", q.Get("upnpenb"))
		}
	case tplink.PageWPS:
		s.WPS = q.Has("EnWps")
	default:
		return fmt.Errorf("tplinktest: no Save on %s", page)
	}
	if f.err != nil {
		return f.err
	}
	r.state = s
	return nil
}
