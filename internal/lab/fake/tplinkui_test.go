// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// The live fakes run end to end in the lab (internal/lab TestDNSChanger,
// TestRouterOSLive, and TestScenarioExpectations with dns-changer and
// routeros-live, against the real dnsmasq). These tests run them in
// process on loopback with a simulated dnsmasq.

// fakeDnsmasq is a dhcpServer whose "dnsmasq" is this test: SIGHUP appends
// the line dnsmasq logs after re-reading its options, unless fail is set.
type fakeDnsmasq struct {
	*dhcpServer
	mu      sync.Mutex
	signals int
	fail    error
}

func newFakeDnsmasq(t *testing.T) *fakeDnsmasq {
	dir := t.TempDir()
	cfg := DHCPBackend{OptsFile: filepath.Join(dir, "dhcp-opts"), StateFile: filepath.Join(dir, "state.json"),
		Service: "dhcp", LogFile: filepath.Join(dir, "dhcp.log"), Self: netip.MustParseAddr("10.77.0.1")}
	if err := os.WriteFile(cfg.OptsFile, []byte(OptsContent(nil, cfg.Self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.LogFile, []byte("dnsmasq-dhcp[1]: read "+cfg.OptsFile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeDnsmasq{dhcpServer: newDHCPServer(cfg)}
	f.findPID = func() (int, error) { return 4242, nil }
	f.signal = func(pid int) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail != nil {
			return f.fail
		}
		f.signals++
		lf, err := os.OpenFile(cfg.LogFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer lf.Close()
		_, err = fmt.Fprintf(lf, "dnsmasq-dhcp[%d]: read %s\n", pid, cfg.OptsFile)
		return err
	}
	return f
}

func (f *fakeDnsmasq) opts(t *testing.T) string {
	b, err := os.ReadFile(f.cfg.OptsFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fakeDnsmasq) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signals
}

func testTPLinkConfig(auth TPLinkAuth) TPLinkUIConfig {
	return TPLinkUIConfig{
		LAN: netip.MustParseAddr("127.0.0.1"), WAN: netip.MustParseAddr("127.0.0.2"),
		Auth: auth, User: "admin", Password: "s3cret", Realm: "TP-LINK Wireless N Router WR841N", Server: "Router Webserver",
		SessionTimeout: 300,
		State: TPLinkState{
			LANIP: "10.77.0.1", LANMask: "255.255.255.0", DHCPServer: true, DHCPStart: "10.77.0.100", DHCPEnd: "10.77.0.150",
			LeaseMinutes: 60, Gateway: "10.77.0.1", DNS1: "0.0.0.0", DNS2: "0.0.0.0",
			WANIP: "198.51.100.2", WANMask: "255.255.255.0", WANGateway: "198.51.100.1", WANMTU: 1500,
			WANDNS1: "198.51.100.53", WANDNS2: "0.0.0.0", HostName: "TL-WR841N",
			MgmtPort: 80, MgmtIP: "0.0.0.0", Firmware: "3.12.5 Build 100929 Rel.57776n ", Hardware: "WR841N v6/v7 00000000",
		},
	}
}

// uiHarness serves a tplinkUI on 127.0.0.1 (the LAN side).
type uiHarness struct {
	u    *tplinkUI
	dns  *fakeDnsmasq
	base string // http://127.0.0.1:PORT
	logs *bytes.Buffer
}

func startUI(t *testing.T, cfg TPLinkUIConfig) *uiHarness {
	t.Helper()
	dns := newFakeDnsmasq(t)
	cfg.DHCP = dns.cfg
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	u := newTPLinkUI(cfg, dns.dhcpServer, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.serve(ln)
	u.mu.Lock()
	err = u.applyManagementLocked(cfg.State.MgmtPort, cfg.State.MgmtIP)
	u.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.srv.Close() })
	return &uiHarness{u: u, dns: dns, base: "http://" + ln.Addr().String(), logs: &logs}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// req describes one request to the UI.
type req struct {
	path    string
	basic   bool   // send Basic admin:s3cret
	pass    string // Basic password instead of the right one
	cookie  string // Cookie header
	referer string // "" none; "self" the UI's own address; else as given
	from    string // source address (default 127.0.0.1)
	base    string // other base URL (the WAN side)
}

func (h *uiHarness) do(t *testing.T, r req) (int, http.Header, []byte, error) {
	t.Helper()
	base := h.base
	if r.base != "" {
		base = r.base
	}
	hr, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+r.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case r.pass != "":
		hr.SetBasicAuth("admin", r.pass)
	case r.basic:
		hr.SetBasicAuth("admin", "s3cret")
	}
	if r.cookie != "" {
		hr.Header.Set("Cookie", r.cookie)
	}
	switch r.referer {
	case "":
	case "self":
		hr.Header.Set("Referer", base+"/userRpm/MenuRpm.htm")
	default:
		hr.Header.Set("Referer", r.referer)
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	if r.from != "" {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(r.from), 0))
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	resp, err := c.Do(hr)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

func (h *uiHarness) ok(t *testing.T, r req) []byte {
	t.Helper()
	code, _, body, err := h.do(t, r)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v: %s", r.path, code, err, body)
	}
	return body
}

func mustArray(t *testing.T, page []byte, name string) []string {
	t.Helper()
	v, err := ParseArray(page, name)
	if err != nil {
		t.Fatalf("%v in %q", err, page)
	}
	return v
}

func TestTPLinkBasicAuth(t *testing.T) {
	h := startUI(t, testTPLinkConfig(TPLinkBasic))
	tests := []struct {
		name       string
		r          req
		wantStatus int
		wantBody   string
	}{
		{name: "no_credentials", r: req{path: "/"}, wantStatus: 401},
		{name: "wrong_password", r: req{path: "/", pass: "admin"}, wantStatus: 401},
		{name: "index", r: req{path: "/", basic: true}, wantStatus: 200, wantBody: "SYNTHETIC Index"},
		{name: "page_without_referer", r: req{path: "/userRpm/StatusRpm.htm", basic: true}, wantStatus: 403, wantBody: "no authority"},
		{name: "page_with_foreign_referer", r: req{path: "/userRpm/StatusRpm.htm", basic: true, referer: "http://203.0.113.99/userRpm/MenuRpm.htm"}, wantStatus: 403},
		{name: "page_with_referer", r: req{path: "/userRpm/StatusRpm.htm", basic: true, referer: "self"}, wantStatus: 200, wantBody: `"198.51.100.53 , 0.0.0.0"`},
		{name: "page_without_credentials", r: req{path: "/userRpm/StatusRpm.htm", referer: "self"}, wantStatus: 401},
		{name: "unknown_page", r: req{path: "/userRpm/NoSuchRpm.htm", basic: true, referer: "self"}, wantStatus: 404},
		{name: "outside_userRpm", r: req{path: "/etc/passwd", basic: true, referer: "self"}, wantStatus: 404},
		{name: "cookie_page_in_basic_mode", r: req{path: "/ABCDEFGHIJKLMNOP/userRpm/StatusRpm.htm", basic: true, referer: "self"}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body, err := h.do(t, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantStatus || !bytes.Contains(body, []byte(tt.wantBody)) {
				t.Errorf("%d %q, want %d with %q", code, body, tt.wantStatus, tt.wantBody)
			}
			if hdr.Get("Server") != "Router Webserver" {
				t.Errorf("Server %q", hdr.Get("Server"))
			}
			if code == 401 && hdr.Get("WWW-Authenticate") != `Basic realm="TP-LINK Wireless N Router WR841N"` {
				t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
			}
		})
	}
	if strings.Contains(h.logs.String(), "s3cret") {
		t.Error("the log holds the password")
	}
}

// TestTPLinkDNSChangerRequests replays what the published DNS-changer code
// sends (CONFIGS.md §1.4) and checks what the router does with it.
func TestTPLinkDNSChangerRequests(t *testing.T) {
	h := startUI(t, testTPLinkConfig(TPLinkBasic))
	dhcpRef := h.base + "/userRpm/LanDhcpServerRpm.htm"
	page := h.ok(t, req{path: "/userRpm/LanDhcpServerRpm.htm", basic: true, referer: dhcpRef})
	v := mustArray(t, page, "DHCPPara")
	if want := []string{"1", "10.77.0.100", "10.77.0.150", "60", "10.77.0.1", "", "0.0.0.0", "0.0.0.0"}; !slices.Equal(v, want) {
		t.Fatalf("DHCPPara = %q, want %q", v, want)
	}
	save := fmt.Sprintf("/userRpm/LanDhcpServerRpm.htm?dhcpserver=%s&ip1=%s&ip2=%s&Lease=%s&gateway=%s&domain=&dnsserver=203.0.113.66&dnsserver2=%s&Save=Salvar",
		v[0], v[1], v[2], v[3], v[4], v[7])
	page = h.ok(t, req{path: save, basic: true, referer: dhcpRef})
	if !bytes.Contains(page, []byte(`"203.0.113.66",`)) {
		t.Errorf("answer to the save lacks the new DNS (the published code's success check): %q", page)
	}
	if got, want := h.dns.opts(t), OptsContent([]netip.Addr{netip.MustParseAddr("203.0.113.66")}, netip.Addr{}); got != want {
		t.Errorf("dnsmasq options %q, want %q", got, want)
	}
	if h.dns.count() != 1 {
		t.Errorf("%d SIGHUPs, want 1", h.dns.count())
	}
	h.ok(t, req{path: "/userRpm/ManageControlRpm.htm?port=31&ip=&Save=Salvar", basic: true, referer: dhcpRef})
	mgmt := mustArray(t, h.ok(t, req{path: "/userRpm/ManageControlRpm.htm", basic: true, referer: "self"}), "managementPara")
	if mgmt[0] != "31" || mgmt[1] != "0.0.0.0" {
		t.Errorf("managementPara = %q, want port 31 and ip 0.0.0.0", mgmt)
	}
	// Saving the same DNS again does not touch dnsmasq.
	h.ok(t, req{path: save, basic: true, referer: dhcpRef})
	if h.dns.count() != 1 {
		t.Errorf("%d SIGHUPs after an unchanged save, want 1", h.dns.count())
	}
}

func TestTPLinkSaveRejected(t *testing.T) {
	good := map[string]string{"dhcpserver": "1", "ip1": "10.77.0.100", "ip2": "10.77.0.150", "Lease": "60",
		"gateway": "10.77.0.1", "domain": "", "dnsserver": "203.0.113.66", "dnsserver2": "0.0.0.0", "Save": "Save"}
	query := func(change map[string]string, drop string) string {
		var parts []string
		for _, k := range []string{"dhcpserver", "ip1", "ip2", "Lease", "gateway", "domain", "dnsserver", "dnsserver2", "Save"} {
			if k == drop {
				continue
			}
			v := good[k]
			if c, ok := change[k]; ok {
				v = c
			}
			parts = append(parts, k+"="+v)
		}
		return "/userRpm/LanDhcpServerRpm.htm?" + strings.Join(parts, "&")
	}
	tests := []struct {
		name string
		path string
	}{
		{name: "missing_dnsserver", path: query(nil, "dnsserver")},
		{name: "dns_not_an_address", path: query(map[string]string{"dnsserver": "evil.example"}, "")},
		{name: "dns_ipv6", path: query(map[string]string{"dnsserver": "2001:db8::1"}, "")},
		{name: "lease_zero", path: query(map[string]string{"Lease": "0"}, "")},
		{name: "lease_too_long", path: query(map[string]string{"Lease": "2881"}, "")},
		{name: "dhcpserver_2", path: query(map[string]string{"dhcpserver": "2"}, "")},
		{name: "domain_script", path: query(map[string]string{"domain": "%22%3C/SCRIPT%3E"}, "")},
		{name: "gateway_empty", path: query(map[string]string{"gateway": ""}, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startUI(t, testTPLinkConfig(TPLinkBasic))
			before := h.dns.opts(t)
			code, _, body, err := h.do(t, req{path: tt.path, basic: true, referer: "self"})
			if err != nil || code != http.StatusBadRequest {
				t.Fatalf("%d %v %q, want 400", code, err, body)
			}
			v := mustArray(t, h.ok(t, req{path: "/userRpm/LanDhcpServerRpm.htm", basic: true, referer: "self"}), "DHCPPara")
			if v[6] != "0.0.0.0" || h.dns.opts(t) != before || h.dns.count() != 0 {
				t.Errorf("state changed: DHCPPara %q, options %q, %d SIGHUPs", v, h.dns.opts(t), h.dns.count())
			}
		})
	}
	t.Run("dnsmasq_fails", func(t *testing.T) {
		h := startUI(t, testTPLinkConfig(TPLinkBasic))
		h.dns.mu.Lock()
		h.dns.fail = errors.New("no such process")
		h.dns.mu.Unlock()
		code, _, _, err := h.do(t, req{path: query(nil, ""), basic: true, referer: "self"})
		if err != nil || code != http.StatusInternalServerError {
			t.Fatalf("%d %v, want 500", code, err)
		}
		if v := mustArray(t, h.ok(t, req{path: "/userRpm/LanDhcpServerRpm.htm", basic: true, referer: "self"}), "DHCPPara"); v[6] != "0.0.0.0" {
			t.Errorf("DHCPPara[6] = %q after a failed change, want 0.0.0.0", v[6])
		}
	})
}

func authCookie(user, pass string) string {
	sum := md5.Sum([]byte(pass))
	return "Authorization=Basic%20" + base64.StdEncoding.EncodeToString([]byte(user+":"+hex.EncodeToString(sum[:])))
}

func TestTPLinkCookieSession(t *testing.T) {
	cfg := testTPLinkConfig(TPLinkCookie)
	h := startUI(t, cfg)
	var now time.Time
	var clock sync.Mutex
	now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	h.u.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
	good := authCookie("admin", "s3cret")
	login := func(from, cookie string) string {
		t.Helper()
		body := h.ok(t, req{path: "/userRpm/LoginRpm.htm?Save=Save", cookie: cookie, from: from, referer: "self"})
		_, rest, ok := strings.Cut(string(body), `window.parent.location.href = "http://`)
		if !ok {
			return ""
		}
		_, rest, _ = strings.Cut(rest, "/")
		tok, _, _ := strings.Cut(rest, "/")
		return tok
	}
	if tok := login("", authCookie("admin", "wrong")); tok != "" {
		t.Fatalf("wrong password logged in: token %q", tok)
	}
	if tok := login("", "Authorization=Basic "+base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))); tok != "" {
		t.Fatal("a clear-text password in the cookie logged in (the cookie holds the MD5)")
	}
	tok := login("", good)
	if len(tok) != 16 || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		t.Fatalf("token %q, want 16 capital letters", tok)
	}
	status := "/" + tok + "/userRpm/StatusRpm.htm"
	tests := []struct {
		name     string
		r        req
		wantCode int
		wantBody string
	}{
		{name: "page", r: req{path: status, cookie: good, referer: "self"}, wantCode: 200, wantBody: "var wanPara"},
		{name: "unencoded_cookie", r: req{path: status, cookie: "Authorization=Basic " + strings.TrimPrefix(good, "Authorization=Basic%20"), referer: "self"}, wantCode: 200, wantBody: "var wanPara"},
		{name: "no_referer", r: req{path: status, cookie: good}, wantCode: 403},
		{name: "no_cookie", r: req{path: status, referer: "self"}, wantCode: 200, wantBody: "SYNTHETIC login page"},
		{name: "wrong_token", r: req{path: "/ABCDEFGHIJKLMNOP/userRpm/StatusRpm.htm", cookie: good, referer: "self"}, wantCode: 200, wantBody: "SYNTHETIC login page"},
		{name: "other_address", r: req{path: status, cookie: good, referer: "self", from: "127.0.0.3"}, wantCode: 200, wantBody: "SYNTHETIC login page"},
		{name: "no_token", r: req{path: "/userRpm/StatusRpm.htm", cookie: good, referer: "self"}, wantCode: 200, wantBody: "SYNTHETIC login page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body, err := h.do(t, tt.r)
			if err != nil || code != tt.wantCode || !bytes.Contains(body, []byte(tt.wantBody)) {
				t.Errorf("%d %v %q, want %d with %q", code, err, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	t.Run("one_admin_at_a_time", func(t *testing.T) {
		if tok2 := login("127.0.0.3", good); tok2 != "" {
			t.Fatalf("a second administrator logged in from another address: %q", tok2)
		}
		h.ok(t, req{path: "/" + tok + "/userRpm/LogoutRpm.htm", cookie: good, referer: "self"})
		tok2 := login("127.0.0.3", good)
		if tok2 == "" {
			t.Fatal("no login after the first administrator logged out")
		}
		if body := h.ok(t, req{path: status, cookie: good, referer: "self"}); !bytes.Contains(body, []byte("login page")) {
			t.Error("the logged-out token still works")
		}
		advance(time.Duration(cfg.SessionTimeout+1) * time.Second)
		if tok3 := login("", good); tok3 == "" {
			t.Error("no login after the other session expired")
		}
		body := h.ok(t, req{path: "/" + tok2 + "/userRpm/StatusRpm.htm", cookie: good, referer: "self", from: "127.0.0.3"})
		if !bytes.Contains(body, []byte("login page")) {
			t.Error("the expired session's token still works")
		}
	})
}

func TestTPLinkRemoteManagement(t *testing.T) {
	port := freePort(t, "127.0.0.2")
	cfg := testTPLinkConfig(TPLinkBasic)
	cfg.State.MgmtIP, cfg.State.MgmtPort = "255.255.255.255", port
	h := startUI(t, cfg)
	wan := fmt.Sprintf("http://127.0.0.2:%d", port)
	h.ok(t, req{base: wan, path: "/", basic: true})
	set := func(q string) {
		t.Helper()
		h.ok(t, req{path: "/userRpm/ManageControlRpm.htm?" + q + "&Save=Save", basic: true, referer: "self"})
	}
	// Only one host: others get the connection closed.
	set(fmt.Sprintf("port=%d&ip=127.0.0.9", port))
	if _, _, _, err := h.do(t, req{base: wan, path: "/", basic: true}); err == nil {
		t.Error("a host other than the allowed one got an answer")
	}
	if _, _, _, err := h.do(t, req{base: wan, path: "/", basic: true, from: "127.0.0.9"}); err != nil {
		t.Errorf("the allowed host: %v", err)
	}
	// Another port.
	port2 := freePort(t, "127.0.0.2")
	set(fmt.Sprintf("port=%d&ip=255.255.255.255", port2))
	if _, _, _, err := h.do(t, req{base: wan, path: "/", basic: true}); err == nil {
		t.Error("the old port still answers")
	}
	h.ok(t, req{base: fmt.Sprintf("http://127.0.0.2:%d", port2), path: "/", basic: true})
	// Off; the LAN side stays.
	set(fmt.Sprintf("port=%d&ip=0.0.0.0", port2))
	if _, _, _, err := h.do(t, req{base: fmt.Sprintf("http://127.0.0.2:%d", port2), path: "/", basic: true}); err == nil {
		t.Error("remote management off, and the WAN still answers")
	}
	h.ok(t, req{path: "/", basic: true})
	for _, bad := range []string{"port=0&ip=0.0.0.0", "port=65536&ip=0.0.0.0", "port=80&ip=any"} {
		if code, _, _, _ := h.do(t, req{path: "/userRpm/ManageControlRpm.htm?" + bad + "&Save=Save", basic: true, referer: "self"}); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

func freePort(t *testing.T, addr string) uint16 {
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func TestTPLinkStateOnlySaves(t *testing.T) {
	h := startUI(t, testTPLinkConfig(TPLinkBasic))
	h.ok(t, req{path: "/userRpm/WanDynamicIpCfgRpm.htm?wan=0&wantype=0&mtu=1480&manual=2&dnsserver=203.0.113.66&dnsserver2=203.0.113.68&Save=save", basic: true, referer: "self"})
	inf := mustArray(t, h.ok(t, req{path: "/userRpm/WanDynamicIpCfgRpm.htm?wan=0", basic: true, referer: "self"}), "dhcpInf")
	if inf[18] != "1480" || inf[19] != "1" || inf[20] != "203.0.113.66" || inf[21] != "0" || inf[22] != "203.0.113.68" {
		t.Errorf("dhcpInf[18..22] = %q", inf[18:23])
	}
	wan := mustArray(t, h.ok(t, req{path: "/userRpm/StatusRpm.htm", basic: true, referer: "self"}), "wanPara")
	if wan[11] != "203.0.113.66 , 203.0.113.68" {
		t.Errorf("wanPara[11] = %q", wan[11])
	}
	for q, want := range map[string]string{"upnpenb=Enable": "1", "Upnpdisable=Disable": "0", "upnpenb=Enable&x=1": "1", "upnpenb=Disable": "0"} {
		p := mustArray(t, h.ok(t, req{path: "/userRpm/UpnpCfgRpm.htm?" + q, basic: true, referer: "self"}), "uPnPPara")
		if p[0] != want {
			t.Errorf("%s: uPnPPara[0] = %q, want %s", q, p[0], want)
		}
	}
	if h.dns.count() != 0 {
		t.Errorf("state-only saves signalled dnsmasq %d times", h.dns.count())
	}
	soft := mustArray(t, h.ok(t, req{path: "/userRpm/SoftwareUpgradeRpm.htm", basic: true, referer: "self"}), "softUpInf")
	if soft[0] != "3.12.5 Build 100929 Rel.57776n " || soft[1] != "WR841N v6/v7 00000000" {
		t.Errorf("softUpInf = %q", soft)
	}
}

// TestTPLinkCapturedStatus serves the real captured StatusRpm: the state's
// values replace the capture's, everything else stays byte for byte.
func TestTPLinkCapturedStatus(t *testing.T) {
	src := filepath.Join(testutil.SharedData(t), "router-samples", "tplink-legacy")
	dir := t.TempDir()
	for file, sample := range map[string]string{"StatusRpm.htm": "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm",
		"MenuRpm.htm": "wr841n-v6v7_3.12.5_talnir_MenuRpm.htm", "Index.htm": "wr841n-v6v7_3.12.5_talnir_Index.htm"} {
		b, err := os.ReadFile(filepath.Join(src, sample))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	capture, _ := os.ReadFile(filepath.Join(dir, "StatusRpm.htm"))
	cfg := testTPLinkConfig(TPLinkBasic)
	cfg.Captures = dir
	h := startUI(t, cfg)
	page := h.ok(t, req{path: "/userRpm/StatusRpm.htm", basic: true, referer: "self"})
	for _, c := range []struct {
		array string
		want  map[int]string
	}{
		{"statusPara", map[int]string{5: "3.12.5 Build 100929 Rel.57776n ", 6: "WR841N v6/v7 00000000"}},
		{"lanPara", map[int]string{0: "B0-48-7A-CA-FC-D0", 1: "10.77.0.1", 2: "255.255.255.0"}},
		{"wanPara", map[int]string{2: "198.51.100.2", 4: "255.255.255.0", 7: "198.51.100.1", 11: "198.51.100.53 , 0.0.0.0"}},
		{"wlanPara", map[int]string{1: "Cuca"}},
	} {
		v := mustArray(t, page, c.array)
		for i, want := range c.want {
			if v[i] != want {
				t.Errorf("%s[%d] = %q, want %q", c.array, i, v[i], want)
			}
		}
	}
	// Only the replaced values differ: the capture's public WAN address
	// and gateway are gone, its template is intact.
	for _, gone := range []string{"149.78.64.152", "149.78.64.1\"", "213.57.2.5"} {
		if bytes.Contains(page, []byte(gone)) {
			t.Errorf("served page still holds the capture's %s", gone)
		}
	}
	_, tmpl, _ := bytes.Cut(capture, []byte("<META http-equiv"))
	if !bytes.HasSuffix(page, tmpl) || len(page) != len(capture)+len("10.77.0.1")-len("192.168.1.1")+
		len("198.51.100.2")-len("149.78.64.152")+len("198.51.100.1")-len("149.78.64.1")+
		len("255.255.255.0")-len("255.255.252.0")+len("198.51.100.53")-len("213.57.2.5") {
		t.Errorf("the page differs from the capture beyond the replaced values (%d bytes, capture %d)", len(page), len(capture))
	}
	if menu := h.ok(t, req{path: "/userRpm/MenuRpm.htm", basic: true, referer: "self"}); !bytes.Contains(menu, []byte("LanDhcpServerRpm")) {
		t.Errorf("MenuRpm is not the capture: %q", menu)
	}
}

func TestParseArray(t *testing.T) {
	tests := []struct {
		name    string
		page    string
		array   string
		want    []string
		wantErr bool
	}{
		{name: "one_per_line", page: "var a = new Array(\n1,\n\"x\",\n0,0 );\n", array: "a", want: []string{"1", "x"}},
		{name: "one_line", page: `var lanPara = new Array("B0-48", "10.0.0.1", "255.255.255.0", ` + "\n0,0 );", array: "lanPara", want: []string{"B0-48", "10.0.0.1", "255.255.255.0"}},
		{name: "comma_in_quotes", page: `var a = new Array("a , b", 2, 0,0 );`, array: "a", want: []string{"a , b", "2"}},
		{name: "paren_in_quotes", page: `var a = new Array("a)", 0,0 );`, array: "a", want: []string{"a)"}},
		{name: "empty_string", page: `var a = new Array("", 0,0 );`, array: "a", want: []string{""}},
		{name: "missing", page: `var b = new Array(0,0 );`, array: "a", wantErr: true},
		{name: "no_sentinel", page: `var a = new Array(1, 2);`, array: "a", wantErr: true},
		{name: "unterminated", page: `var a = new Array("1, 0,0 );`, array: "a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArray([]byte(tt.page), tt.array)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParseArray = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseArray(f *testing.F) {
	f.Add([]byte(jsArray{"DHCPPara", []jsValue{jsNum(1), jsStr("10.77.0.100"), jsStr("")}}.render()), "DHCPPara")
	f.Add([]byte(`var wanPara = new Array(4, "a , b", 0,0 );`), "wanPara")
	f.Add([]byte(`var a = new Array("\"", 0,0 );`), "a")
	f.Fuzz(func(t *testing.T, page []byte, name string) {
		v, err := ParseArray(page, name)
		if err != nil {
			return
		}
		// Whatever parses survives a re-render with the same values
		// (quoted: no value holds a quote once parsed... unless escaped).
		var vals []jsValue
		for _, s := range v {
			if strings.ContainsAny(s, `"\`) {
				return
			}
			vals = append(vals, jsStr(s))
		}
		again, err := ParseArray([]byte(jsArray{name, vals}.render()), name)
		if err != nil || !slices.Equal(again, v) {
			t.Errorf("re-rendered %q parses as %q, %v", v, again, err)
		}
		// Overriding every element keeps the array's shape.
		over := map[int]jsValue{}
		for i := range v {
			over[i] = jsNum(i)
		}
		out, err := overrideArrays(page, map[string]map[int]jsValue{name: over})
		if err != nil {
			t.Fatalf("override of a parsed array: %v", err)
		}
		if got, err := ParseArray(out, name); err != nil || len(got) != len(v) {
			t.Errorf("after override: %q, %v; want %d values", got, err, len(v))
		}
	})
}

func TestRunTPLinkUIStops(t *testing.T) {
	cfg := testTPLinkConfig(TPLinkBasic)
	cfg.Port = freePort(t, "127.0.0.1")
	cfg.DHCP = newFakeDnsmasq(t).cfg
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runTPLinkUI(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var c net.Conn
		if c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port)); err == nil {
			c.Close()
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runTPLinkUI = %v, want nil when its context ends", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runTPLinkUI did not stop")
	}
}

func TestLiveFakeRefusesOutsideLab(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	for name, content := range map[string]string{
		"no_router":     `{"namespaces":{}}`,
		"absent_ns":     `{"namespaces":{"router":"rw-h10test-nonexistent"}}`,
		"path_in_name":  `{"namespaces":{"router":"../../proc/self/ns/net"}}`,
		"state_garbage": `{`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(state, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := requireLabNetns(state); !errors.Is(err, ErrNotInLab) {
				t.Errorf("requireLabNetns = %v, want ErrNotInLab", err)
			}
		})
	}
}
