// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The live legacy TP-Link web UI (KindTPLinkUI): the /userRpm/*.htm pages
// of a TL-WR841N-class router (CONFIGS.md §1), whose settings are state in
// this process, except two that are real:
//
//   - the DHCP server's DNS servers (LanDhcpServerRpm DHCPPara[6..7]) are
//     written into the router's real dnsmasq (DHCPBackend), so the next
//     DHCP lease a client gets carries them;
//   - remote management (ManageControlRpm managementPara[0..1]) opens and
//     closes this UI's own listener on the WAN address: ip 0.0.0.0 (or
//     empty) is off, 255.255.255.255 any host, another address only that
//     host; port is the WAN port (the LAN side always stays on its port).
//
// Everything else a Save changes is only state that the pages show: the
// DHCP range, lease time, gateway, domain and on/off; the WAN DNS
// (WanDynamicIpCfgRpm dhcpInf[19..22], shown in StatusRpm wanPara[11]);
// UPnP (UpnpCfgRpm uPnPPara[0]). Firmware strings are read-only.
//
// Page formats: StatusRpm.htm, MenuRpm.htm and Index.htm are the real
// captures (Captures) with StatusRpm's arrays updated from the state
// (everything else byte for byte); without captures, and for every other
// page, the page is SYNTHETIC: the arrays follow the layouts of CONFIGS.md
// §1.3 (read from firmware templates), the HTML after them is a short
// stand-in that says so.
//
// Authentication (CONFIGS.md §1.2), per Auth:
//
//   - basic: every request carries Authorization: Basic user:password, or
//     gets 401 with the realm; there is no session.
//   - cookie: the cookie Authorization=Basic%20base64(user:md5hex(password))
//     and GET /userRpm/LoginRpm.htm?Save=Save answer with
//     window.parent.location.href = "http://HOST/TOKEN/userRpm/Index.htm";
//     then every page is /TOKEN/userRpm/NAME.htm with the same cookie;
//     /TOKEN/userRpm/LogoutRpm.htm ends the session. One administrator at
//     a time: while a session is live (SessionTimeout since its last
//     request), a login from another address is refused.
//
// In both schemes a /userRpm/ page needs a Referer whose host is the
// router's address (several clients note that the firmware checks it); a
// request without one gets 403. Lab choices where no source says what the
// firmware answers: the texts and status codes of refusals (403 for a
// missing Referer, 400 for a value the form's JavaScript would reject, a
// login page for a refused or expired session).

// TPLinkAuth is the live TP-Link UI's authentication scheme.
type TPLinkAuth string

// The schemes of CONFIGS.md §1.2.
const (
	TPLinkBasic  TPLinkAuth = "basic"
	TPLinkCookie TPLinkAuth = "cookie"
)

// TPLinkUIConfig configures the live legacy TP-Link web UI (KindTPLinkUI).
type TPLinkUIConfig struct {
	// LAN is the router's LAN address; the UI always listens on LAN:Port.
	LAN  netip.Addr `json:"lan"`
	Port uint16     `json:"port"`
	// WAN is the router's WAN address, where remote management listens.
	WAN netip.Addr `json:"wan"`
	// Auth is basic or cookie.
	Auth TPLinkAuth `json:"auth"`
	// User and Password are the administrator's credentials. The
	// configuration file holding them is the lab's, mode 0600; they are
	// never logged.
	User     string `json:"user"`
	Password string `json:"password"`
	// Realm is the Basic-auth realm; Server the Server header.
	Realm  string `json:"realm"`
	Server string `json:"server"`
	// SessionTimeout is the idle time after which a cookie session ends,
	// in seconds.
	SessionTimeout int `json:"session_timeout"`
	// Captures is the folder of the captured legacy pages (lab copies);
	// "" serves synthetic ones.
	Captures string `json:"captures"`
	// State is the router's settings at start.
	State TPLinkState `json:"state"`
	// DHCP is the router's dnsmasq that DHCP DNS changes go to.
	DHCP DHCPBackend `json:"dhcp"`
}

// TPLinkState is the router's settings that the pages show. Addresses are
// dotted quads as the pages carry them; "0.0.0.0" is "none".
type TPLinkState struct {
	// LAN (StatusRpm lanPara).
	LANIP   string `json:"lan_ip"`
	LANMask string `json:"lan_mask"`
	// DHCP server (LanDhcpServerRpm DHCPPara): DNS1 and DNS2 are [6] and
	// [7]; both 0.0.0.0 hands out the router itself (DHCPBackend.Self).
	DHCPServer   bool   `json:"dhcp_server"`
	DHCPStart    string `json:"dhcp_start"`
	DHCPEnd      string `json:"dhcp_end"`
	LeaseMinutes int    `json:"lease_minutes"`
	Gateway      string `json:"gateway"`
	Domain       string `json:"domain"`
	DNS1         string `json:"dns1"`
	DNS2         string `json:"dns2"`
	// WAN, dynamic IP (WanDynamicIpCfgRpm dhcpInf, StatusRpm wanPara).
	WANIP        string `json:"wan_ip"`
	WANMask      string `json:"wan_mask"`
	WANGateway   string `json:"wan_gateway"`
	WANMTU       int    `json:"wan_mtu"`
	WANManualDNS bool   `json:"wan_manual_dns"`
	WANDNS1      string `json:"wan_dns1"`
	WANDNS2      string `json:"wan_dns2"`
	HostName     string `json:"host_name"`
	// Remote management (ManageControlRpm managementPara[0..1]).
	MgmtPort uint16 `json:"mgmt_port"`
	MgmtIP   string `json:"mgmt_ip"`
	// UPnP (UpnpCfgRpm uPnPPara[0]).
	UPnP bool `json:"upnp"`
	// Firmware and Hardware (statusPara[5..6], softUpInf[0..1]).
	Firmware string `json:"firmware"`
	Hardware string `json:"hardware"`
}

// Bounds of the live UI.
const (
	// maxLeaseMinutes is the legacy form's upper bound for the lease time.
	maxLeaseMinutes = 2880
	// uiReadTimeout bounds reading one request; uiIdleTimeout an idle
	// keep-alive connection.
	uiReadTimeout = 10 * time.Second
	uiIdleTimeout = 30 * time.Second
)

var (
	domainRE   = regexp.MustCompile(`^[A-Za-z0-9.-]{0,63}$`)
	printable  = regexp.MustCompile(`^[ -!#-\[\]-~]*$`) // no quote, backslash or control
	tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func validIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// Validate checks c.
func (c *TPLinkUIConfig) Validate() error {
	if !c.LAN.Is4() || !c.WAN.Is4() {
		return errors.New("lan, wan: IPv4 addresses are required")
	}
	if c.Auth != TPLinkBasic && c.Auth != TPLinkCookie {
		return fmt.Errorf("auth: %q is not %s or %s", c.Auth, TPLinkBasic, TPLinkCookie)
	}
	if c.User == "" || c.Password == "" || strings.Contains(c.User, ":") {
		return errors.New("user, password: required; the user may not contain ':'")
	}
	if !printable.MatchString(c.Realm) || !printable.MatchString(c.Server) {
		return errors.New("realm, server: printable ASCII without quotes or backslashes")
	}
	if c.SessionTimeout <= 0 {
		return errors.New("session_timeout: must be positive")
	}
	if err := c.State.validate(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return c.DHCP.Validate()
}

func (s *TPLinkState) validate() error {
	for _, f := range []struct{ name, v string }{{"lan_ip", s.LANIP}, {"lan_mask", s.LANMask}, {"dhcp_start", s.DHCPStart},
		{"dhcp_end", s.DHCPEnd}, {"gateway", s.Gateway}, {"dns1", s.DNS1}, {"dns2", s.DNS2}, {"wan_ip", s.WANIP},
		{"wan_mask", s.WANMask}, {"wan_gateway", s.WANGateway}, {"wan_dns1", s.WANDNS1}, {"wan_dns2", s.WANDNS2}, {"mgmt_ip", s.MgmtIP}} {
		if !validIPv4(f.v) {
			return fmt.Errorf("%s: %q is not an IPv4 address", f.name, f.v)
		}
	}
	if s.LeaseMinutes < 1 || s.LeaseMinutes > maxLeaseMinutes || s.WANMTU < 576 || s.WANMTU > 1500 || s.MgmtPort == 0 {
		return errors.New("lease_minutes (1-2880), wan_mtu (576-1500), mgmt_port: out of range")
	}
	if !domainRE.MatchString(s.Domain) || !domainRE.MatchString(s.HostName) {
		return errors.New("domain, host_name: letters, digits, '.' and '-' only")
	}
	if !printable.MatchString(s.Firmware) || !printable.MatchString(s.Hardware) {
		return errors.New("firmware, hardware: printable ASCII without quotes or backslashes")
	}
	return nil
}

// dnsList is what DHCPPara[6..7] hand out: the non-zero servers in order.
func dnsList(dns1, dns2 string) []netip.Addr {
	var out []netip.Addr
	for _, s := range []string{dns1, dns2} {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() && !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}

// session is the one cookie-mode administrator session.
type session struct {
	token string
	ip    netip.Addr
	last  time.Time
}

// tplinkUI serves the live UI.
type tplinkUI struct {
	cfg    TPLinkUIConfig
	dhcp   *dhcpServer
	logger *slog.Logger
	now    func() time.Time
	srv    *http.Server

	mu    sync.Mutex // guards the fields below
	state TPLinkState
	sess  *session
	wan   net.Listener // remote management's listener; nil when off
	// serveErr receives the error of a listener that failed for another
	// reason than being closed.
	serveErr chan error
}

func newTPLinkUI(cfg TPLinkUIConfig, dhcp *dhcpServer, logger *slog.Logger) *tplinkUI {
	u := &tplinkUI{cfg: cfg, dhcp: dhcp, logger: logger, now: time.Now, state: cfg.State, serveErr: make(chan error, 4)}
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: uiReadTimeout, ReadTimeout: uiReadTimeout,
		IdleTimeout: uiIdleTimeout, MaxHeaderBytes: maxRequestHead,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	return u
}

func runTPLinkUI(ctx context.Context, c TPLinkUIConfig, logger *slog.Logger) error {
	u := newTPLinkUI(c, newDHCPServer(c.DHCP), logger)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(c.LAN, c.Port).String())
	if err != nil {
		return fmt.Errorf("fake: %w", err)
	}
	u.serve(ln)
	u.mu.Lock()
	err = u.applyManagementLocked(u.state.MgmtPort, u.state.MgmtIP)
	u.mu.Unlock()
	if err != nil {
		u.srv.Close()
		return err
	}
	logger.Info("listening", "lan", ln.Addr().String(), "auth", string(c.Auth), "remote_management", u.state.MgmtIP)
	select {
	case <-ctx.Done():
		err = nil
	case err = <-u.serveErr:
	}
	u.srv.Close()
	return err
}

// serve serves ln until it is closed.
func (u *tplinkUI) serve(ln net.Listener) {
	go func() {
		err := u.srv.Serve(ln)
		if !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
			select {
			case u.serveErr <- err:
			default:
			}
		}
	}()
}

// applyManagementLocked opens, moves or closes the WAN listener for
// remote management on port from ip (0.0.0.0: off).
func (u *tplinkUI) applyManagementLocked(port uint16, ip string) error {
	on := ip != "0.0.0.0"
	if u.wan != nil && on && u.wan.Addr().(*net.TCPAddr).Port == int(port) {
		return nil
	}
	if u.wan != nil {
		u.wan.Close()
		u.wan = nil
	}
	if !on {
		return nil
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(u.cfg.WAN, port).String())
	if err != nil {
		return fmt.Errorf("fake: remote management: %w", err)
	}
	u.wan = ln
	u.serve(ln)
	return nil
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (u *tplinkUI) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
	remote, _ := netip.ParseAddrPort(r.RemoteAddr)
	local := localAddr(r)
	// Never log the query of a request that might carry credentials;
	// these pages' queries hold settings only, which are worth seeing.
	defer func() {
		u.logger.Info("request", "remote", remote.Addr().String(), "local", local.String(), "path", r.URL.Path,
			"query", r.URL.RawQuery, "status", w.status)
	}()
	w.Header().Set("Server", u.cfg.Server)
	if local.Addr() == u.cfg.WAN {
		// Remote management: each request on its own connection, so that
		// turning it off takes effect at once; refused sources get the
		// connection closed, as a firewall rule would.
		w.Header().Set("Connection", "close")
		u.mu.Lock()
		ip := u.state.MgmtIP
		u.mu.Unlock()
		if ip == "0.0.0.0" || ip != "255.255.255.255" && ip != remote.Addr().String() {
			w.status = 0
			if hj, ok := rw.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			http.Error(w, "remote management is off", http.StatusForbidden)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if u.cfg.Auth == TPLinkBasic {
		u.serveBasic(w, r, local.Addr())
		return
	}
	u.serveCookie(w, r, local.Addr(), remote.Addr())
}

func localAddr(r *http.Request) netip.AddrPort {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap
		}
	}
	return netip.AddrPort{}
}

func (u *tplinkUI) serveBasic(w http.ResponseWriter, r *http.Request, local netip.Addr) {
	user, pass, ok := r.BasicAuth()
	if !ok || !u.credentialsOK(user, pass) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+u.cfg.Realm+`"`)
		writeHTML(w, http.StatusUnauthorized, "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H1>401 Unauthorized</H1></BODY></HTML>\n")
		return
	}
	if r.URL.Path == "/" {
		u.page(w, r, "Index", local)
		return
	}
	name, ok := pageName(r.URL.Path, "/userRpm/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	u.page(w, r, name, local)
}

func (u *tplinkUI) credentialsOK(user, pass string) bool {
	return subtle.ConstantTimeCompare([]byte(user), []byte(u.cfg.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(u.cfg.Password)) == 1
}

// pageName returns NAME of prefix+NAME.htm (NAME without "Rpm" for the
// "Rpm" pages: StatusRpm.htm → Status; Index.htm → Index).
func pageName(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, ".htm")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return strings.TrimSuffix(rest, "Rpm"), true
}

func (u *tplinkUI) serveCookie(w http.ResponseWriter, r *http.Request, local, remote netip.Addr) {
	if r.URL.Path == "/userRpm/LoginRpm.htm" && r.URL.Query().Get("Save") != "" {
		u.login(w, r, remote)
		return
	}
	token, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, ok := pageName("/"+rest, "/userRpm/")
	if !ok || token == "" {
		if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/userRpm/") {
			writeHTML(w, http.StatusOK, loginPage)
			return
		}
		http.NotFound(w, r)
		return
	}
	u.mu.Lock()
	s := u.sess
	live := s != nil && u.now().Sub(s.last) < u.timeout()
	valid := live && subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1 && s.ip == remote && u.cookieOK(r)
	if valid {
		s.last = u.now()
	}
	if !live {
		u.sess = nil
	}
	u.mu.Unlock()
	if !valid {
		// An expired, foreign or unknown token: the login page, as the
		// router shows once its session is gone.
		writeHTML(w, http.StatusOK, loginPage)
		return
	}
	if name == "Logout" {
		if !u.refererOK(r, local) {
			writeHTML(w, http.StatusForbidden, noAuthorityPage)
			return
		}
		u.mu.Lock()
		u.sess = nil
		u.mu.Unlock()
		writeHTML(w, http.StatusOK, loginPage)
		return
	}
	u.page(w, r, name, local)
}

func (u *tplinkUI) timeout() time.Duration { return time.Duration(u.cfg.SessionTimeout) * time.Second }

// cookieOK checks the Authorization cookie: "Basic base64(user:md5hex(pw))",
// URL-encoded (Basic%20...) or not.
func (u *tplinkUI) cookieOK(r *http.Request) bool {
	for _, h := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(h, ";") {
			v, ok := strings.CutPrefix(strings.TrimSpace(part), "Authorization=")
			if !ok {
				continue
			}
			if un, err := url.PathUnescape(v); err == nil {
				v = un
			}
			b64, ok := strings.CutPrefix(v, "Basic ")
			if !ok {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				continue
			}
			user, hash, _ := strings.Cut(string(raw), ":")
			sum := md5.Sum([]byte(u.cfg.Password))
			if subtle.ConstantTimeCompare([]byte(user), []byte(u.cfg.User)) == 1 &&
				subtle.ConstantTimeCompare([]byte(strings.ToLower(hash)), []byte(hex.EncodeToString(sum[:]))) == 1 {
				return true
			}
		}
	}
	return false
}

func (u *tplinkUI) login(w http.ResponseWriter, r *http.Request, remote netip.Addr) {
	if !u.cookieOK(r) {
		writeHTML(w, http.StatusOK, loginPage)
		return
	}
	u.mu.Lock()
	if s := u.sess; s != nil && s.ip != remote && u.now().Sub(s.last) < u.timeout() {
		u.mu.Unlock()
		writeHTML(w, http.StatusOK, synthPage("Login", "Another administrator is logged in from "+s.ip.String()+
			"; only one may be at a time. Try again when that session has logged out or expired.", ""))
		return
	}
	token := newToken()
	u.sess = &session{token: token, ip: remote, last: u.now()}
	u.mu.Unlock()
	host := r.Host
	writeHTML(w, http.StatusOK, "<HTML><HEAD><SCRIPT language=\"javascript\" type=\"text/javascript\">\n"+
		"window.parent.location.href = \"http://"+hostForJS(host)+"/"+token+"/userRpm/Index.htm\";\n</SCRIPT></HEAD><BODY></BODY></HTML>\n")
}

// hostForJS keeps a client-sent Host header from breaking out of the
// JavaScript string it is echoed into.
func hostForJS(h string) string {
	if printable.MatchString(h) && !strings.ContainsAny(h, "<>") {
		return h
	}
	return "router"
}

// newToken returns a session token: 16 capital letters, the shape legacy
// firmware uses in its URLs.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails
	for i := range b {
		b[i] = tokenChars[int(b[i])%len(tokenChars)]
	}
	return string(b)
}

// refererOK: the Referer's host is the router's address the request came
// in on (or the Host the client used).
func (u *tplinkUI) refererOK(r *http.Request, local netip.Addr) bool {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host == "" {
		return false
	}
	h := ref.Hostname()
	if a, err := netip.ParseAddr(h); err == nil && a == local {
		return true
	}
	host := r.Host
	if hh, _, err := net.SplitHostPort(r.Host); err == nil {
		host = hh
	}
	return h == host
}

// page answers one page, applying its Save first.
func (u *tplinkUI) page(w http.ResponseWriter, r *http.Request, name string, local netip.Addr) {
	if name != "Index" && !u.refererOK(r, local) {
		writeHTML(w, http.StatusForbidden, noAuthorityPage)
		return
	}
	q := r.URL.Query()
	var err error
	switch name {
	case "LanDhcpServer":
		if q.Has("Save") {
			err = u.saveDHCP(r.Context(), q)
		}
	case "ManageControl":
		if q.Has("Save") {
			err = u.saveManagement(q)
		}
	case "WanDynamicIpCfg":
		if q.Has("Save") {
			err = u.saveWAN(q)
		}
	case "UpnpCfg":
		u.saveUPnP(q)
	case "Index", "Status", "Menu", "SoftwareUpgrade", "Logout":
	default:
		http.NotFound(w, r)
		return
	}
	var bad *badValueError
	switch {
	case errors.As(err, &bad):
		writeHTML(w, http.StatusBadRequest, synthPage(name, "Invalid value: "+bad.Error(), ""))
		return
	case err != nil:
		u.logger.Error("save", "page", name, "err", err)
		writeHTML(w, http.StatusInternalServerError, synthPage(name, "The router could not apply the change.", ""))
		return
	}
	body, err := u.render(name)
	if err != nil {
		u.logger.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeHTML(w, http.StatusOK, body)
}

func writeHTML(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// badValueError is a submitted value the page's form would reject.
type badValueError struct{ field, value string }

func (e *badValueError) Error() string { return fmt.Sprintf("%s=%q", e.field, e.value) }

func ipField(q url.Values, field string) (string, error) {
	v := q.Get(field)
	if !validIPv4(v) {
		return "", &badValueError{field, v}
	}
	return v, nil
}

func intField(q url.Values, field string, lo, hi int) (int, error) {
	v := q.Get(field)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &badValueError{field, v}
	}
	return n, nil
}

// saveDHCP applies LanDhcpServerRpm.htm?dhcpserver=&ip1=&ip2=&Lease=
// &gateway=&domain=&dnsserver=&dnsserver2=&Save=: every field is
// required, as the form sends them all. A change of DNS servers goes to
// dnsmasq before the state changes; if dnsmasq does not take it, nothing
// changes.
func (u *tplinkUI) saveDHCP(ctx context.Context, q url.Values) error {
	on, err := intField(q, "dhcpserver", 0, 1)
	if err != nil {
		return err
	}
	var ips [5]string
	for i, f := range []string{"ip1", "ip2", "gateway", "dnsserver", "dnsserver2"} {
		if ips[i], err = ipField(q, f); err != nil {
			return err
		}
	}
	lease, err := intField(q, "Lease", 1, maxLeaseMinutes)
	if err != nil {
		return err
	}
	domain := q.Get("domain")
	if !domainRE.MatchString(domain) {
		return &badValueError{"domain", domain}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	old := dnsList(u.state.DNS1, u.state.DNS2)
	now := dnsList(ips[3], ips[4])
	if !equalAddrs(old, now) {
		if err := u.dhcp.SetDNS(ctx, now); err != nil {
			return err
		}
	}
	s := &u.state
	s.DHCPServer, s.DHCPStart, s.DHCPEnd, s.LeaseMinutes, s.Gateway, s.Domain = on == 1, ips[0], ips[1], lease, ips[2], domain
	s.DNS1, s.DNS2 = ips[3], ips[4]
	u.logger.Info("saved", "page", "LanDhcpServerRpm", "dns1", s.DNS1, "dns2", s.DNS2, "dnsmasq", fmt.Sprint(now))
	return nil
}

func equalAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// saveManagement applies ManageControlRpm.htm?port=&ip=&Save=. An empty
// ip is taken as 0.0.0.0 (off): what the published DNS changer sends
// (CONFIGS.md §1.4, ip=) and what the form's "0.0.0.0 disables" means; no
// source says what the firmware does with it.
func (u *tplinkUI) saveManagement(q url.Values) error {
	port, err := intField(q, "port", 1, 65535)
	if err != nil {
		return err
	}
	ip := q.Get("ip")
	if ip == "" {
		ip = "0.0.0.0"
	}
	if !validIPv4(ip) {
		return &badValueError{"ip", ip}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.applyManagementLocked(uint16(port), ip); err != nil {
		return err
	}
	u.state.MgmtPort, u.state.MgmtIP = uint16(port), ip
	u.logger.Info("saved", "page", "ManageControlRpm", "port", port, "ip", ip)
	return nil
}

// saveWAN applies WanDynamicIpCfgRpm.htm?...&dnsserver=&dnsserver2=
// &manual=2&mtu=&Save= (the form the router crawler of CONFIGS.md §1.4
// sends: manual=2 means "use these DNS servers"). State only.
func (u *tplinkUI) saveWAN(q url.Values) error {
	mtu := 1500
	if q.Has("mtu") {
		var err error
		if mtu, err = intField(q, "mtu", 576, 1500); err != nil {
			return err
		}
	}
	manual := q.Get("manual") == "2"
	d1, d2 := "0.0.0.0", "0.0.0.0"
	if manual {
		var err error
		if d1, err = ipField(q, "dnsserver"); err != nil {
			return err
		}
		if d2, err = ipField(q, "dnsserver2"); err != nil {
			return err
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.state.WANMTU, u.state.WANManualDNS, u.state.WANDNS1, u.state.WANDNS2 = mtu, manual, d1, d2
	u.logger.Info("saved", "page", "WanDynamicIpCfgRpm", "manual", manual, "dns1", d1, "dns2", d2)
	return nil
}

// saveUPnP applies UpnpCfgRpm.htm?upnpenb=Enable (on) or ?Upnpdisable=...
// / ?upnpenb=Disable (off). State only.
func (u *tplinkUI) saveUPnP(q url.Values) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case q.Has("Upnpdisable") || q.Get("upnpenb") == "Disable":
		u.state.UPnP = false
	case q.Get("upnpenb") == "Enable":
		u.state.UPnP = true
	default:
		return
	}
	u.logger.Info("saved", "page", "UpnpCfgRpm", "upnp", u.state.UPnP)
}

// Captured pages, by page name, and the lab's file name for each.
var capturedPages = map[string]string{"Status": "StatusRpm.htm", "Menu": "MenuRpm.htm", "Index": "Index.htm"}

// render returns a page from the current state.
func (u *tplinkUI) render(name string) (string, error) {
	u.mu.Lock()
	s := u.state
	u.mu.Unlock()
	if file, ok := capturedPages[name]; ok && u.cfg.Captures != "" {
		b, err := os.ReadFile(filepath.Join(u.cfg.Captures, file))
		if err != nil {
			return "", err
		}
		if name != "Status" {
			return string(b), nil
		}
		out, err := overrideArrays(b, statusOverrides(s))
		return string(out), err
	}
	bool01 := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	switch name {
	case "Status":
		return statusArrays(s) + synthPage("Status", "Status: firmware, LAN and WAN (lanPara, wanPara; DNS servers in wanPara[11]).", ""), nil
	case "Menu":
		return jsArray{"visibleMenuList", []jsValue{jsStr("StatusRpm"), jsStr("LanDhcpServerRpm"), jsStr("WanDynamicIpCfgRpm"),
			jsStr("ManageControlRpm"), jsStr("UpnpCfgRpm"), jsStr("SoftwareUpgradeRpm")}}.render() + synthPage("Menu", "Menu.", ""), nil
	case "Index":
		return synthPage("Index", "The router's frameset.", ""), nil
	case "LanDhcpServer":
		return jsArray{"DHCPPara", []jsValue{jsNum(bool01(s.DHCPServer)), jsStr(s.DHCPStart), jsStr(s.DHCPEnd),
			jsNum(s.LeaseMinutes), jsStr(s.Gateway), jsStr(s.Domain), jsStr(s.DNS1), jsStr(s.DNS2)}}.render() +
			synthPage("LanDhcpServer", "DHCP server (DHCPPara: [0] on, [1] start, [2] end, [3] lease minutes, [4] gateway, [5] domain, [6] primary DNS, [7] secondary DNS).",
				formFields("LanDhcpServerRpm.htm", "dhcpserver", "ip1", "ip2", "Lease", "gateway", "domain", "dnsserver", "dnsserver2")), nil
	case "WanDynamicIpCfg":
		inf := make([]jsValue, 27)
		for i := range inf {
			inf[i] = jsNum(0)
		}
		inf[13], inf[14], inf[15], inf[18] = jsStr(s.WANIP), jsStr(s.WANMask), jsStr(s.WANGateway), jsNum(s.WANMTU)
		inf[19], inf[20], inf[21], inf[22] = jsNum(bool01(s.WANManualDNS)), jsStr(s.WANDNS1), jsNum(bool01(!s.WANManualDNS)), jsStr(s.WANDNS2)
		inf[26] = jsStr(s.HostName)
		return jsArray{"dhcpInf", inf}.render() + synthPage("WanDynamicIpCfg", "WAN, dynamic IP (dhcpInf: [13] IP, [14] mask, [15] gateway, [18] MTU, [19] manual DNS, [20] DNS1, [21] DNS fields disabled, [22] DNS2, [26] host name).",
			formFields("WanDynamicIpCfgRpm.htm", "wantype", "mtu", "manual", "dnsserver", "dnsserver2")), nil
	case "ManageControl":
		return jsArray{"managementPara", []jsValue{jsNum(int(s.MgmtPort)), jsStr(s.MgmtIP), jsNum(0), jsNum(0), jsNum(0)}}.render() +
			synthPage("ManageControl", "Remote management (managementPara: [0] web management port, [1] remote management IP, 0.0.0.0 = off, 255.255.255.255 = any host).",
				formFields("ManageControlRpm.htm", "port", "ip")), nil
	case "UpnpCfg":
		return jsArray{"uPnPPara", []jsValue{jsNum(bool01(s.UPnP))}}.render() + synthPage("UpnpCfg", "UPnP (uPnPPara[0]: 1 on, 0 off).", ""), nil
	case "SoftwareUpgrade":
		return jsArray{"softUpInf", []jsValue{jsStr(s.Firmware), jsStr(s.Hardware)}}.render() +
			synthPage("SoftwareUpgrade", "Firmware upgrade (softUpInf: [0] firmware, [1] hardware).", ""), nil
	case "Logout":
		return loginPage, nil
	}
	return "", fmt.Errorf("no page %s", name)
}

// statusOverrides are the elements of the captured StatusRpm that the
// state replaces: firmware and hardware (statusPara[5..6], the 3.12.5
// layout of the capture), LAN address and mask (lanPara[1..2]), WAN
// address, mask, gateway and DNS servers (wanPara[2], [4], [7], [11]).
func statusOverrides(s TPLinkState) map[string]map[int]jsValue {
	return map[string]map[int]jsValue{
		"statusPara": {5: jsStr(s.Firmware), 6: jsStr(s.Hardware)},
		"lanPara":    {1: jsStr(s.LANIP), 2: jsStr(s.LANMask)},
		"wanPara":    {2: jsStr(s.WANIP), 4: jsStr(s.WANMask), 7: jsStr(s.WANGateway), 11: jsStr(wanDNS(s))},
	}
}

// wanDNS is wanPara[11]: the WAN's DNS servers as one string.
func wanDNS(s TPLinkState) string { return s.WANDNS1 + " , " + s.WANDNS2 }

// statusArrays are the synthetic StatusRpm's arrays, in the capture's
// layout.
func statusArrays(s TPLinkState) string {
	status := jsArray{"statusPara", []jsValue{jsNum(1), jsNum(1), jsNum(21), jsNum(20000), jsNum(0), jsStr(s.Firmware), jsStr(s.Hardware), jsNum(0)}}
	lan := jsArray{"lanPara", []jsValue{jsStr("00-00-00-00-00-00"), jsStr(s.LANIP), jsStr(s.LANMask)}}
	wan := make([]jsValue, 21)
	for i := range wan {
		wan[i] = jsNum(0)
	}
	wan[0], wan[1], wan[2], wan[3], wan[4] = jsNum(4), jsStr("00-00-00-00-00-01"), jsStr(s.WANIP), jsNum(1), jsStr(s.WANMask)
	wan[7], wan[11], wan[12] = jsStr(s.WANGateway), jsStr(wanDNS(s)), jsStr("")
	return status.render() + lan.render() + jsArray{"wanPara", wan}.render()
}

// synthPage is the HTML after a synthetic page's arrays.
func synthPage(name, what, form string) string {
	return "<META http-equiv=Content-Type content=\"text/html; charset=iso-8859-1\">\n<HTML>\n<HEAD><TITLE>TL-WR841N</TITLE></HEAD>\n" +
		"<!-- routerwatch lab: SYNTHETIC " + name + " page. Its arrays follow the layouts of CONFIGS.md 1.3, read from firmware templates; this HTML is not a capture. -->\n" +
		"<BODY><P>" + what + "</P>" + form + "</BODY></HTML>\n"
}

// formFields is a GET form with the named fields and a Save button.
func formFields(action string, fields ...string) string {
	var b strings.Builder
	b.WriteString(`<FORM action="` + action + `" method="get">`)
	for _, f := range fields {
		b.WriteString(`<INPUT name="` + f + `">`)
	}
	b.WriteString(`<INPUT type="submit" name="Save" value="Save"></FORM>`)
	return b.String()
}

// loginPage is the cookie scheme's login page (SYNTHETIC: no capture of
// one exists; CONFIGS.md §1.7).
const loginPage = "<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD>\n" +
	"<!-- routerwatch lab: SYNTHETIC login page, not a capture. Log in: cookie Authorization=Basic%20base64(user:md5hex(password)), then GET /userRpm/LoginRpm.htm?Save=Save. -->\n" +
	"<BODY><FORM><INPUT id=\"userName\"><INPUT id=\"pcPassword\" type=\"password\"></FORM></BODY></HTML>\n"

// noAuthorityPage answers a request without a matching Referer.
const noAuthorityPage = "<HTML><HEAD><TITLE>TL-WR841N</TITLE></HEAD>\n" +
	"<!-- routerwatch lab: the router refuses requests whose Referer is not the router (lab wording). -->\n" +
	"<BODY>You have no authority to access this router!</BODY></HTML>\n"
