// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/netx"
)

// scheme is the way a router wants its login.
type scheme int

const (
	// schemeBasic: HTTP Basic on every request, no session (older
	// builds; CONFIGS.md §1.2 item 1).
	schemeBasic scheme = iota + 1
	// schemeCookie: the Authorization cookie, GET LoginRpm.htm?Save=Save,
	// then /<TOKEN>/userRpm/ (later builds; §1.2 item 2).
	schemeCookie
)

func (s scheme) String() string {
	if s == schemeBasic {
		return "HTTP Basic"
	}
	return "cookie + session token"
}

// hashPrefixLen: Archer C7 firmware 150427 hashes only the first 15
// characters of the password into the cookie (CONFIGS.md §1.2, from
// Home Assistant's Tplink4DeviceScanner, which cuts the UTF-8 bytes, as
// this adapter does). Other builds hash all of it; which one a router is
// shows only by trying, so a longer password is tried whole first.
const hashPrefixLen = 15

// logoutTimeout bounds the logout sent after the caller's context ended:
// the router allows one admin session, so the adapter still tries to
// release it, but not for long.
const logoutTimeout = 5 * time.Second

// doer is the HTTP client netx gives (named by its method so that this
// file names no client type of its own: every connection goes through
// the dialer).
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// tokenRe finds the session path in the LoginRpm reply:
// window.parent.location.href = "http://<host>/<TOKEN>/userRpm/Index.htm";
var tokenRe = regexp.MustCompile(`window\.parent\.location\.href\s*=\s*"https?://[^/"]*/([A-Za-z0-9]{1,64})/userRpm/Index\.htm"`)

// ParseLoginReply returns the session token of a LoginRpm.htm reply, or
// "" when it has none (a refused login).
func ParseLoginReply(b []byte) string {
	if len(b) > MaxPageBytes {
		b = b[:MaxPageBytes]
	}
	m := tokenRe.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// isLoginPage reports whether a page is the login form rather than a
// settings page: what a cookie-scheme router serves to a request without
// a valid session. pcPassword is the password field of TP-Link login
// pages; a settings page has "new Array(" data instead.
func isLoginPage(b []byte) bool {
	s := string(b)
	return (strings.Contains(s, "pcPassword") || strings.Contains(s, "LoginRpm.htm")) && !strings.Contains(s, "new Array(")
}

// session is one login to one router.
type session struct {
	hc     doer
	host   string // "192.0.2.1" or "192.0.2.1:8080", as in URLs and Referers
	scheme scheme
	user   string
	pass   string
	// cookie is the Authorization cookie value (cookie scheme).
	cookie string
	// token is the session path segment; "" when logged out.
	token string
	// relogged: the one re-login after an expired session was used.
	relogged bool
	// hash15: the 15-character password variant logged in.
	hash15 bool
	// probe is the page the scheme detection already fetched.
	probe []byte
}

// hostPort writes the address as URLs want it, leaving out port 80.
func hostPort(ap netip.AddrPort) string {
	if ap.Port() == 80 {
		if ap.Addr().Is6() {
			return "[" + ap.Addr().String() + "]"
		}
		return ap.Addr().String()
	}
	return ap.String()
}

// httpError is a reply status the adapter did not expect.
type httpError struct {
	page   string
	status int
}

func (e *httpError) Error() string {
	return fmt.Sprintf("tplink: %s answered HTTP %d", e.page, e.status)
}

// plainErr drops the URL from a client error: it names the session
// token, which is a credential while the session is open.
func plainErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// get sends one GET and reads the body within MaxPageBytes.
func (s *session) get(ctx context.Context, path, query string, hdr map[string]string, basic bool) (int, http.Header, []byte, error) {
	u := "http://" + s.host + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if basic {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, nil, plainErr(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxPageBytes+1))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, plainErr(err)
	}
	if len(b) > MaxPageBytes {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("%w: %s", ErrPageTooLarge, path)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// busy maps the replies that mean "not now" to device.ErrBusy: 429 (too
// many logins) and 503 (another admin session open). The legacy
// firmware's own replies for these cases were never captured (CONFIGS.md
// §1.7); these are HTTP's meanings, and the fake's.
func busy(status int, what string) error {
	switch status {
	case http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s: too many logins, the router is refusing them for now", device.ErrBusy, what)
	case http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %s: another admin session is open (the legacy web UI allows one)", device.ErrBusy, what)
	}
	return nil
}

// detect finds the login scheme with one request without credentials:
// a Basic router answers 401 with a TP-LINK realm (or the "Router
// Webserver" server), a cookie router its login page.
func (s *session) detect(ctx context.Context) error {
	st, hdr, body, err := s.get(ctx, "/", "", nil, false)
	if err != nil {
		return fmt.Errorf("tplink: %w", err)
	}
	if err := busy(st, "GET /"); err != nil {
		return err
	}
	auth := strings.ToLower(hdr.Get("WWW-Authenticate"))
	tplinkish := strings.Contains(auth, "tp-link") || strings.EqualFold(strings.TrimSpace(hdr.Get("Server")), "Router Webserver")
	switch {
	case st == http.StatusUnauthorized && strings.HasPrefix(auth, "basic") && tplinkish:
		s.scheme = schemeBasic
	case st == http.StatusOK && isLoginPage(body):
		s.scheme = schemeCookie
	case st == http.StatusUnauthorized:
		return fmt.Errorf("%w: GET / asks for %q, not a legacy TP-Link realm", device.ErrUnsupported, hdr.Get("WWW-Authenticate"))
	default:
		return fmt.Errorf("%w: GET / answered HTTP %d without a legacy TP-Link login", device.ErrUnsupported, st)
	}
	return nil
}

// cookieFor is the Authorization cookie value for a password:
// URL-encoded "Basic base64(user:md5hex(password))".
func cookieFor(user, pass string) string {
	sum := md5.Sum([]byte(pass))
	return "Basic%20" + base64.StdEncoding.EncodeToString([]byte(user+":"+hex.EncodeToString(sum[:])))
}

// login logs in. With Basic it checks the credentials on MenuRpm (kept
// as the first page read); with the cookie it asks LoginRpm for a token,
// with the whole password first and then, for a password longer than 15
// characters, with its first 15 (Archer C7 150427), unless the router
// is already known to want that.
func (s *session) login(ctx context.Context, hash15 bool) error {
	if s.scheme == schemeBasic {
		st, _, body, err := s.get(ctx, "/userRpm/"+PageMenu, "", s.readHeaders(), true)
		if err != nil {
			return fmt.Errorf("tplink: %w", err)
		}
		if err := busy(st, PageMenu); err != nil {
			return err
		}
		if st == http.StatusUnauthorized {
			return fmt.Errorf("%w: the router answered 401 to the Basic credentials", device.ErrAuth)
		}
		if st != http.StatusOK {
			return &httpError{page: PageMenu, status: st}
		}
		s.probe = body
		return nil
	}
	variants := []bool{false, true}
	if len(s.pass) <= hashPrefixLen {
		variants = []bool{false}
	} else if hash15 {
		variants = []bool{true, false}
	}
	for _, short := range variants {
		pass := s.pass
		if short {
			pass = pass[:hashPrefixLen]
		}
		s.cookie = cookieFor(s.user, pass)
		st, _, body, err := s.get(ctx, "/userRpm/LoginRpm.htm", "Save=Save", map[string]string{
			"Cookie":  "Authorization=" + s.cookie,
			"Referer": "http://" + s.host + "/",
		}, false)
		if err != nil {
			return fmt.Errorf("tplink: login: %w", err)
		}
		if err := busy(st, "login"); err != nil {
			return err
		}
		if st != http.StatusOK {
			return &httpError{page: "LoginRpm.htm", status: st}
		}
		if tok := ParseLoginReply(body); tok != "" {
			s.token, s.hash15 = tok, short
			return nil
		}
	}
	return fmt.Errorf("%w: LoginRpm.htm gave no session token (wrong user or password)", device.ErrAuth)
}

// readHeaders are the headers of a page request: the Referer the
// firmware checks, and the cookie.
func (s *session) readHeaders() map[string]string {
	if s.scheme == schemeBasic {
		// tplinkrouterc6u's WDR client always sends this Referer.
		return map[string]string{"Referer": "http://" + s.host + "/userRpm/MenuRpm.htm"}
	}
	return map[string]string{
		"Cookie":  "Authorization=" + s.cookie,
		"Referer": "http://" + s.host + "/" + s.token + "/userRpm/MenuRpm.htm",
	}
}

// saveHeaders: a Save comes from the page's own form, so its Referer is
// the page.
func (s *session) saveHeaders(page string) map[string]string {
	h := s.readHeaders()
	if s.scheme == schemeBasic {
		h["Referer"] = "http://" + s.host + "/userRpm/" + page
	} else {
		h["Referer"] = "http://" + s.host + "/" + s.token + "/userRpm/" + page
	}
	return h
}

func (s *session) pagePath(page string) string {
	if s.scheme == schemeBasic {
		return "/userRpm/" + page
	}
	return "/" + s.token + "/userRpm/" + page
}

// errPageMissing: the router has no such page (404).
var errPageMissing = errors.New("page not found")

// readQueries are the only queries a read may carry: the ones the web UI
// uses to open a page. Anything else could be an action (Save, a toggle),
// and Pull is read-only.
var readQueries = map[string]bool{"": true, "wan=0": true, "Advanced=Advanced&wan=0": true}

// read fetches a settings page. An expired cookie session (the login
// page instead of the settings) logs in again, once per session.
func (s *session) read(ctx context.Context, page, query string) ([]byte, error) {
	if !readQueries[query] {
		return nil, fmt.Errorf("tplink: refusing to read %s?%s: not a read-only query", page, query)
	}
	return s.do(ctx, page, query, false)
}

func (s *session) do(ctx context.Context, page, query string, isSave bool) ([]byte, error) {
	for {
		hdr := s.readHeaders()
		if isSave {
			hdr = s.saveHeaders(page)
		}
		st, _, body, err := s.get(ctx, s.pagePath(page), query, hdr, s.scheme == schemeBasic)
		if err != nil {
			return nil, fmt.Errorf("tplink: %s: %w", page, err)
		}
		if err := busy(st, page); err != nil {
			return nil, err
		}
		expired := s.scheme == schemeCookie && (st == http.StatusUnauthorized || st == http.StatusOK && isLoginPage(body))
		switch {
		case expired && !s.relogged:
			s.relogged = true
			s.token = ""
			if err := s.login(ctx, s.hash15); err != nil {
				return nil, fmt.Errorf("tplink: logging in again after the session expired: %w", err)
			}
			continue
		case expired:
			return nil, fmt.Errorf("%w: the session expired again after logging in again", device.ErrBusy)
		case st == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %s answered 401", device.ErrAuth, page)
		case st == http.StatusNotFound:
			return nil, fmt.Errorf("%s: %w", page, errPageMissing)
		case st != http.StatusOK:
			return nil, &httpError{page: page, status: st}
		}
		return body, nil
	}
}

// logout ends a cookie session. It runs even when ctx has ended, for a
// short while, because the router allows one admin session at a time.
func (s *session) logout(ctx context.Context) error {
	if s.scheme != schemeCookie || s.token == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	st, _, _, err := s.get(ctx, s.pagePath("LogoutRpm.htm"), "", s.readHeaders(), false)
	s.token = ""
	if err != nil {
		return fmt.Errorf("tplink: logout: %w", err)
	}
	if st != http.StatusOK {
		return &httpError{page: "LogoutRpm.htm", status: st}
	}
	return nil
}

// open dials nothing itself: it builds the client from d and logs in.
func open(ctx context.Context, d *netx.Dialer, t device.Target, c device.Credentials, hash15 bool) (*session, error) {
	if t.TLS {
		return nil, fmt.Errorf("%w: the legacy TP-Link web UI has no HTTPS (the password would go in clear text)", device.ErrUnsupported)
	}
	if !t.Addr.IsValid() {
		return nil, errors.New("tplink: no target address")
	}
	if err := d.Check(t.Addr); err != nil {
		return nil, err
	}
	port := t.Port
	if port == 0 {
		port = 80
	}
	s := &session{
		// No redirects: a redirect is an observation (a login page
		// elsewhere, a captive portal), not something to follow.
		hc:   d.HTTPClient(netx.HTTPOptions{MaxRedirects: -1, MaxBody: MaxPageBytes + 1}),
		host: hostPort(netip.AddrPortFrom(t.Addr, port)),
		user: c.User,
		pass: c.Password.Reveal(),
	}
	if err := s.detect(ctx); err != nil {
		return nil, err
	}
	if err := s.login(ctx, hash15); err != nil {
		return nil, err
	}
	return s, nil
}

// statusText is a short form of an unexpected reply for a warning.
func statusText(err error) string {
	var he *httpError
	if errors.As(err, &he) {
		return "HTTP " + strconv.Itoa(he.status)
	}
	if errors.Is(err, errPageMissing) {
		return "HTTP 404"
	}
	return err.Error()
}
