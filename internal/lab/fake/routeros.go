// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The live RouterOS API (KindRouterOS): the binary API of CONFIGS.md §3.1
// on TCP 8728, with the v6.43+ login (one sentence /login =name= =password=,
// password in clear). What it answers:
//
//	/login                          !done, or !trap "invalid user name or password (6)" then !done
//	/ip/dns/print                   servers, allow-remote-requests
//	/ip/dns/set                     servers=, allow-remote-requests= (state only)
//	/ip/dhcp-server/network/print   the LAN's DHCP network (.id *1): address, gateway, dns-server
//	/ip/dhcp-server/network/set     .id=*1 (or numbers=0) dns-server=a,b: REAL, into the router's
//	                                dnsmasq (DHCPBackend); an empty list hands out the router itself
//	/ip/service/print, set          the eight services (set: disabled=, port=, address=; state only)
//	/system/resource/print          the configured fields, uptime counted from start
//	/user/print                     the administrator (no password)
//	/quit                           !fatal "session terminated on request", then close
//
// print takes .proplist=a,b and equality queries ?name=value; every reply
// carries the request's .tag. Lab choices where no source documents the
// device's answer: a command before login gets !trap "not logged in" (and
// the connection stays open), an unknown command "no such command prefix",
// an unknown verb of a known menu "no such command", a bad argument
// "unknown parameter NAME" or "invalid value for argument NAME".

// RouterOSConfig configures the live RouterOS API (KindRouterOS).
type RouterOSConfig struct {
	// Listen are the addresses to accept API connections on (port 8728).
	Listen []netip.AddrPort `json:"listen"`
	// User and Password are the administrator's credentials (never
	// logged).
	User     string `json:"user"`
	Password string `json:"password"`
	// DNSServers and AllowRemoteRequests are /ip dns.
	DNSServers          []netip.Addr `json:"dns_servers"`
	AllowRemoteRequests bool         `json:"allow_remote_requests"`
	// Network is the /ip dhcp-server network row: the LAN, its gateway
	// and the DNS servers DHCP hands out (empty: the router itself).
	Network    netip.Prefix `json:"network"`
	Gateway    netip.Addr   `json:"gateway"`
	DHCPServer []netip.Addr `json:"dhcp_dns"`
	// Services are the /ip service rows, in RouterOS's order.
	Services []RouterOSService `json:"services"`
	// Resource holds /system/resource's fields (strings, as RouterOS
	// gives them), uptime excepted.
	Resource map[string]string `json:"resource"`
	// DHCP is the router's dnsmasq that DHCP DNS changes go to.
	DHCP DHCPBackend `json:"dhcp"`
}

// RouterOSService is one /ip service row.
type RouterOSService struct {
	Name     string `json:"name"`
	Port     uint16 `json:"port"`
	Disabled bool   `json:"disabled"`
	// Address is the allow-list ("" = any source).
	Address string `json:"address"`
}

// Bounds of the API fake.
const (
	// rosIdle ends a connection that sends nothing for this long.
	rosIdle = time.Minute
	// rosMaxConns bounds concurrent API connections.
	rosMaxConns = 16
)

// Validate checks c.
func (c *RouterOSConfig) Validate() error {
	if len(c.Listen) == 0 {
		return errors.New("listen: no addresses")
	}
	if c.User == "" || c.Password == "" {
		return errors.New("user, password: required")
	}
	if !c.Network.IsValid() || !c.Gateway.Is4() {
		return errors.New("network, gateway: required")
	}
	for _, a := range append(slices.Clone(c.DNSServers), c.DHCPServer...) {
		if !a.Is4() {
			return fmt.Errorf("%v: not an IPv4 address", a)
		}
	}
	for _, s := range c.Services {
		if s.Name == "" || s.Port == 0 || strings.ContainsAny(s.Name+s.Address, "=\x00") {
			return fmt.Errorf("services: bad row %+v", s)
		}
	}
	for k, v := range c.Resource {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
			return fmt.Errorf("resource: bad field %q", k)
		}
	}
	return c.DHCP.Validate()
}

// routerOS serves the API.
type routerOS struct {
	cfg    RouterOSConfig
	dhcp   *dhcpServer
	logger *slog.Logger
	start  time.Time

	mu       sync.Mutex // guards the fields below
	dns      []netip.Addr
	remote   bool
	dhcpDNS  []netip.Addr
	services []RouterOSService
}

func newRouterOS(cfg RouterOSConfig, dhcp *dhcpServer, logger *slog.Logger) *routerOS {
	return &routerOS{cfg: cfg, dhcp: dhcp, logger: logger, start: time.Now(),
		dns: slices.Clone(cfg.DNSServers), remote: cfg.AllowRemoteRequests,
		dhcpDNS: slices.Clone(cfg.DHCPServer), services: slices.Clone(cfg.Services)}
}

func runRouterOS(ctx context.Context, c RouterOSConfig, logger *slog.Logger) error {
	ros := newRouterOS(c, newDHCPServer(c.DHCP), logger)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, a := range c.Listen {
		ln, err := net.Listen("tcp", a.String())
		if err != nil {
			return fmt.Errorf("fake: %w", err)
		}
		lns = append(lns, ln)
	}
	errs := make(chan error, len(lns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, rosMaxConns)
	for _, ln := range lns {
		wg.Go(func() { errs <- ros.accept(ctx, ln, sem, &wg) })
	}
	logger.Info("listening", "addrs", fmt.Sprint(c.Listen))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	for _, ln := range lns {
		ln.Close()
	}
	lns = nil
	wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (ros *routerOS) accept(ctx context.Context, ln net.Listener, sem chan struct{}, wg *sync.WaitGroup) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		select {
		case sem <- struct{}{}:
		default:
			conn.Close() // too many connections
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ros.serveConn(ctx, conn)
		})
	}
}

// serveConn runs one API session until the client quits, errs or idles.
func (ros *routerOS) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	remote := conn.RemoteAddr().String()
	r := bufio.NewReader(conn)
	loggedIn := false
	for {
		_ = conn.SetDeadline(time.Now().Add(rosIdle))
		words, err := ReadSentence(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				ros.logger.Info("connection", "remote", remote, "err", err)
			}
			return
		}
		if len(words) == 0 {
			continue
		}
		replies, quit := ros.handle(ctx, words, &loggedIn)
		// Never log attribute values: /login carries the password.
		ros.logger.Info("command", "remote", remote, "command", words[0], "reply", replies[0][0])
		var out []byte
		for _, s := range replies {
			out = append(out, EncodeSentence(s...)...)
		}
		if _, err := conn.Write(out); err != nil || quit {
			return
		}
	}
}

// request is a parsed command sentence.
type request struct {
	cmd      string
	attrs    map[string]string // =name=value
	tag      string            // .tag=
	proplist []string          // .proplist=
	query    map[string]string // ?name=value
}

func parseRequest(words []string) request {
	rq := request{cmd: words[0], attrs: map[string]string{}, query: map[string]string{}}
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, "="):
			k, v, _ := strings.Cut(w[1:], "=")
			rq.attrs[k] = v
		case strings.HasPrefix(w, ".tag="):
			rq.tag = w[len(".tag="):]
		case strings.HasPrefix(w, ".proplist="):
			rq.proplist = strings.Split(w[len(".proplist="):], ",")
		case strings.HasPrefix(w, "?"):
			k, v, _ := strings.Cut(w[1:], "=")
			rq.query[k] = v
		}
	}
	if p, ok := rq.attrs[".proplist"]; ok { // also accepted as an attribute
		rq.proplist = strings.Split(p, ",")
		delete(rq.attrs, ".proplist")
	}
	return rq
}

// kv is one attribute of a reply row, in order.
type kv struct{ k, v string }

func (rq request) reply(word string, attrs ...kv) []string {
	s := []string{word}
	if rq.tag != "" {
		s = append(s, ".tag="+rq.tag)
	}
	for _, a := range attrs {
		s = append(s, "="+a.k+"="+a.v)
	}
	return s
}

func (rq request) trap(msg string) [][]string {
	return [][]string{rq.reply("!trap", kv{"message", msg}), rq.reply("!done")}
}

// menus are the command prefixes this fake knows, with their verbs.
var menus = map[string][]string{
	"/ip/dns":                 {"print", "set"},
	"/ip/dhcp-server/network": {"print", "set"},
	"/ip/service":             {"print", "set"},
	"/system/resource":        {"print"},
	"/user":                   {"print"},
}

// handle answers one command: the reply sentences and whether to close.
func (ros *routerOS) handle(ctx context.Context, words []string, loggedIn *bool) ([][]string, bool) {
	rq := parseRequest(words)
	switch rq.cmd {
	case "/quit":
		return [][]string{{"!fatal", "session terminated on request"}}, true
	case "/login":
		if subtle.ConstantTimeCompare([]byte(rq.attrs["name"]), []byte(ros.cfg.User)) == 1 &&
			subtle.ConstantTimeCompare([]byte(rq.attrs["password"]), []byte(ros.cfg.Password)) == 1 {
			*loggedIn = true
			return [][]string{rq.reply("!done")}, false
		}
		return rq.trap("invalid user name or password (6)"), false
	}
	if !*loggedIn {
		return rq.trap("not logged in"), false
	}
	i := strings.LastIndexByte(rq.cmd, '/')
	menu, verb := rq.cmd[:max(i, 0)], rq.cmd[i+1:]
	verbs, ok := menus[menu]
	if !ok {
		return rq.trap("no such command prefix"), false
	}
	if !slices.Contains(verbs, verb) {
		return rq.trap("no such command"), false
	}
	if verb == "print" {
		var out [][]string
		for _, row := range ros.rows(menu) {
			if !matches(row, rq.query) {
				continue
			}
			out = append(out, rq.reply("!re", project(row, rq.proplist)...))
		}
		return append(out, rq.reply("!done")), false
	}
	if err := ros.set(ctx, menu, rq.attrs); err != nil {
		return rq.trap(err.Error()), false
	}
	return [][]string{rq.reply("!done")}, false
}

func matches(row []kv, query map[string]string) bool {
	for k, v := range query {
		if !slices.Contains(row, kv{k, v}) {
			return false
		}
	}
	return true
}

func project(row []kv, props []string) []kv {
	if len(props) == 0 {
		return row
	}
	return slices.DeleteFunc(slices.Clone(row), func(a kv) bool { return !slices.Contains(props, a.k) })
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func yesNo(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// rows returns a menu's rows from the current state.
func (ros *routerOS) rows(menu string) [][]kv {
	ros.mu.Lock()
	defer ros.mu.Unlock()
	switch menu {
	case "/ip/dns":
		return [][]kv{{{"servers", joinAddrs(ros.dns)}, {"dynamic-servers", ""}, {"allow-remote-requests", yesNo(ros.remote)},
			{"max-udp-packet-size", "4096"}, {"cache-size", "2048KiB"}}}
	case "/ip/dhcp-server/network":
		return [][]kv{{{".id", "*1"}, {"address", ros.cfg.Network.String()}, {"gateway", ros.cfg.Gateway.String()},
			{"dns-server", joinAddrs(ros.dhcpDNS)}, {"comment", "defconf"}}}
	case "/ip/service":
		var out [][]kv
		for i, s := range ros.services {
			out = append(out, []kv{{".id", "*" + strconv.Itoa(i+1)}, {"name", s.Name}, {"port", strconv.Itoa(int(s.Port))},
				{"address", s.Address}, {"invalid", "false"}, {"disabled", yesNo(s.Disabled)}})
		}
		return out
	case "/system/resource":
		row := []kv{{"uptime", uptime(time.Since(ros.start))}}
		keys := make([]string, 0, len(ros.cfg.Resource))
		for k := range ros.cfg.Resource {
			keys = append(keys, k)
		}
		// RouterOS's order (CONFIGS.md §3.3), then any other field.
		rank := func(k string) int {
			if i := slices.Index(resourceOrder, k); i >= 0 {
				return i
			}
			return len(resourceOrder)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if d := rank(a) - rank(b); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys {
			row = append(row, kv{k, ros.cfg.Resource[k]})
		}
		return [][]kv{row}
	case "/user":
		return [][]kv{{{".id", "*1"}, {"name", ros.cfg.User}, {"group", "full"}, {"address", ""}, {"disabled", "false"}}}
	}
	return nil
}

// resourceOrder is the order of /system resource print's fields
// (CONFIGS.md §3.3).
var resourceOrder = []string{"uptime", "version", "build-time", "free-memory", "total-memory", "cpu", "cpu-count",
	"cpu-frequency", "cpu-load", "free-hdd-space", "total-hdd-space", "write-sect-since-reboot", "write-sect-total",
	"bad-blocks", "architecture-name", "board-name", "platform"}

// uptime formats d as RouterOS does: 1w2d3h4m5s, zero units left out.
func uptime(d time.Duration) string {
	s := int(d.Seconds())
	var b strings.Builder
	for _, u := range []struct {
		n    int
		unit string
	}{{7 * 86400, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}} {
		if s >= u.n {
			fmt.Fprintf(&b, "%d%s", s/u.n, u.unit)
			s %= u.n
		}
	}
	fmt.Fprintf(&b, "%ds", s)
	return b.String()
}

// parseAddrList parses "a,b" ("" is no address).
func parseAddrList(arg, v string) ([]netip.Addr, error) {
	var out []netip.Addr
	if v == "" {
		return nil, nil
	}
	for f := range strings.SplitSeq(v, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("invalid value for argument %s", arg)
		}
		out = append(out, a)
	}
	return out, nil
}

// set applies a set command. Only the DHCP network's dns-server is real.
func (ros *routerOS) set(ctx context.Context, menu string, attrs map[string]string) error {
	id, hasID := attrs[".id"]
	if n, ok := attrs["numbers"]; ok {
		id, hasID = n, true
	}
	delete(attrs, ".id")
	delete(attrs, "numbers")
	switch menu {
	case "/ip/dns":
		return ros.setDNS(attrs)
	case "/ip/dhcp-server/network":
		if !hasID || (id != "*1" && id != "0") {
			return errors.New("no such item")
		}
		for k := range attrs {
			if k != "dns-server" {
				return fmt.Errorf("unknown parameter %s", k)
			}
		}
		v, ok := attrs["dns-server"]
		if !ok {
			return nil
		}
		list, err := parseAddrList("dns-server", v)
		if err != nil {
			return err
		}
		ros.mu.Lock()
		defer ros.mu.Unlock()
		if err := ros.dhcp.SetDNS(ctx, list); err != nil {
			ros.logger.Error("set", "menu", menu, "err", err)
			return errors.New("failure: could not apply the DHCP network")
		}
		ros.dhcpDNS = list
		ros.logger.Info("saved", "menu", menu, "dns-server", v)
		return nil
	case "/ip/service":
		return ros.setService(id, hasID, attrs)
	}
	return errors.New("no such command")
}

func (ros *routerOS) setDNS(attrs map[string]string) error {
	var servers []netip.Addr
	remote := ""
	for k, v := range attrs {
		switch k {
		case "servers":
			var err error
			if servers, err = parseAddrList(k, v); err != nil {
				return err
			}
		case "allow-remote-requests":
			if v != "yes" && v != "no" && v != "true" && v != "false" {
				return fmt.Errorf("invalid value for argument %s", k)
			}
			remote = v
		default:
			return fmt.Errorf("unknown parameter %s", k)
		}
	}
	ros.mu.Lock()
	defer ros.mu.Unlock()
	if _, ok := attrs["servers"]; ok {
		ros.dns = servers
	}
	if remote != "" {
		ros.remote = remote == "yes" || remote == "true"
	}
	return nil
}

func (ros *routerOS) setService(id string, hasID bool, attrs map[string]string) error {
	ros.mu.Lock()
	defer ros.mu.Unlock()
	idx := -1
	for i, s := range ros.services {
		if hasID && (id == s.Name || id == "*"+strconv.Itoa(i+1)) {
			idx = i
		}
	}
	if idx < 0 {
		return errors.New("no such item")
	}
	s := ros.services[idx]
	for k, v := range attrs {
		switch k {
		case "disabled":
			if v != "yes" && v != "no" && v != "true" && v != "false" {
				return fmt.Errorf("invalid value for argument %s", k)
			}
			s.Disabled = v == "yes" || v == "true"
		case "port":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return fmt.Errorf("invalid value for argument %s", k)
			}
			s.Port = uint16(p)
		case "address":
			if strings.ContainsAny(v, "=\x00") {
				return fmt.Errorf("invalid value for argument %s", k)
			}
			s.Address = v
		default:
			return fmt.Errorf("unknown parameter %s", k)
		}
	}
	ros.services[idx] = s
	return nil
}
