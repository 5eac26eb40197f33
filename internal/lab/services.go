// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// service is one daemon the lab can run. Each runs on a fixed host, in the
// foreground, as a child the lab tracks by PID.
type service struct {
	name string
	host Host
	doc  string
	// progs are the programs (and files) it needs; see deps.go. The
	// routerwatch binary that runs the fakes is not listed: Up resolves
	// it (Options.Executable) when Scenario.NeedsExecutable.
	progs []string
	// ready returns the sockets that must be open before it counts as up,
	// which may depend on the scenario (WAN exposure, IPv6, fake ports).
	ready func(sc *Scenario) []sock
	// setup writes its configuration into the lab directory and returns
	// its command line. Daemons log to stderr, which goes to <service>.log.
	setup func(ctx context.Context, b *builder) (launch, error)
}

// builder carries what a service's setup needs.
type builder struct {
	dir     string // the lab directory (absolute)
	sc      *Scenario
	lab     string // lab name
	busybox string // the busybox-static binary
	exe     string // the routerwatch binary (fakes); "" if the scenario runs none
}

// launch is a daemon's command line and extra environment.
type launch struct {
	argv []string // program first
	env  []string // KEY=value, added to the lab's minimal environment
}

func (b *builder) path(name string) string { return filepath.Join(b.dir, name) }

func (b *builder) write(name, content string, mode os.FileMode) error {
	if err := os.WriteFile(b.path(name), []byte(content), mode); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// fixed is a ready function for sockets that do not depend on the scenario.
func fixed(socks ...sock) func(*Scenario) []sock {
	return func(*Scenario) []sock { return socks }
}

// routerAddrs are the addresses a router service listens on: router.lan,
// and router.wan if the scenario lists it in wan_services.
func routerAddrs(sc *Scenario, service string) []string {
	out := []string{ra("router.lan")}
	if slices.Contains(sc.WANServices, service) {
		out = append(out, ra("router.wan"))
	}
	return out
}

// onRouter is a ready function for a router service listening on
// routerAddrs with the given TCP and UDP ports.
func onRouter(service string, tcpPorts, udpPorts []uint16) func(*Scenario) []sock {
	return func(sc *Scenario) []sock {
		var out []sock
		for _, a := range routerAddrs(sc, service) {
			for _, p := range tcpPorts {
				out = append(out, tcp(a, p))
			}
			for _, p := range udpPorts {
				out = append(out, udp(a, p))
			}
		}
		return out
	}
}

// services is the one list of services (STYLE R8). To add a daemon, add an
// entry here and, if it needs new programs, a line in deps.go.
var services = []service{
	{
		name: "dhcp", host: Router, progs: []string{"dnsmasq"},
		doc:   "DHCP server on the LAN (dnsmasq): hands out dhcp.dns as option 6, from a dhcp-optsfile that the live UIs rewrite",
		ready: fixed(udp("0.0.0.0", 67)),
		setup: setupDHCP,
	},
	{
		name: "dns-forwarder", host: Router, progs: []string{"dnsmasq"},
		doc: "the router's own DNS forwarder on router.dns, and router.wan if in wan_services (an open resolver: dnsmasq), forwarding to forwarder.upstream",
		ready: func(sc *Scenario) []sock {
			out := []sock{udp(ra("router.dns"), 53), tcp(ra("router.dns"), 53)}
			if slices.Contains(sc.WANServices, "dns-forwarder") {
				out = append(out, udp(ra("router.wan"), 53), tcp(ra("router.wan"), 53))
			}
			return out
		},
		setup: setupForwarder,
	},
	{
		name: "ra", host: Router, progs: []string{"dnsmasq"},
		doc: "IPv6 router advertisements on the LAN from fe80::1 (dnsmasq): prefix 2001:db8:77::/64, RDNSS ra.rdnss; with ra.dhcpv6 also stateless DHCPv6 (UDP 547) naming the same servers",
		ready: func(sc *Scenario) []sock {
			out := []sock{{"raw", netip.AddrPortFrom(netip.IPv6Unspecified(), ipprotoICMPv6)}}
			if sc.RA.DHCPv6 {
				out = append(out, sock{"udp", netip.AddrPortFrom(netip.IPv6Unspecified(), 547)})
			}
			return out
		},
		setup: setupRA,
	},
	{
		name: "ssh", host: Router, progs: []string{"dropbear", "dropbearkey"},
		doc:   "SSH on router.lan:22, and router.wan:22 if in wan_services (dropbear, host keys generated at up)",
		ready: onRouter("ssh", []uint16{22}, nil),
		setup: setupSSH,
	},
	{
		name: "telnet", host: Router, progs: []string{progBusyboxStatic},
		doc:   "telnet on router.lan:23 (busybox-static telnetd, fake login, identity.telnet_banner)",
		ready: fixed(tcp(ra("router.lan"), 23)),
		setup: setupTelnet,
	},
	{
		name: "web", host: Router, progs: []string{"lighttpd"},
		doc:   "router web UI on router.lan:80, and router.wan:80 if in wan_services (lighttpd, admin:admin, web.ui, identity.web_*)",
		ready: onRouter("web", []uint16{80}, nil),
		setup: setupWeb,
	},
	{
		name: "upnp", host: Router, progs: []string{"miniupnpd"},
		doc:   "UPnP IGD and NAT-PMP on the LAN (miniupnpd, nftables; SSDP 1900, HTTP 5000, identity.upnp_*)",
		ready: fixed(tcp("0.0.0.0", 5000), udp("0.0.0.0", 1900)),
		setup: setupUPnP,
	},
	{
		name: "snmp", host: Router, progs: []string{"snmpd"},
		doc:   "SNMP v1/v2c on router.lan:161, and router.wan:161 if in wan_services, community public (net-snmp, identity.snmp_*)",
		ready: onRouter("snmp", nil, []uint16{161}),
		setup: setupSNMP,
	},
	{
		name: "winbox", host: Router, progs: []string{"ncat"},
		doc:   "a silent TCP listener on the MikroTik Winbox port 8291 (ncat; on every router address if in wan_services)",
		ready: listenerReady("winbox", 8291),
		setup: func(_ context.Context, b *builder) (launch, error) { return setupListener(b, "winbox", 8291) },
	},
	{
		name: "routeros-api", host: Router, progs: []string{"ncat"},
		doc:   "a silent TCP listener on the MikroTik RouterOS API port 8728 (ncat; on every router address if in wan_services)",
		ready: listenerReady("routeros-api", 8728),
		setup: func(_ context.Context, b *builder) (launch, error) { return setupListener(b, "routeros-api", 8728) },
	},
	{
		name: "tplink-ui", host: Router,
		doc:   "a live legacy TP-Link web UI on router.lan:80 (routerwatch lab fake, tplink_ui): /userRpm/ pages, Basic or cookie login; its DHCP DNS setting rewrites the dhcp service's dnsmasq, its remote management opens router.wan",
		ready: tplinkUIReady,
		setup: setupTPLinkUI,
	},
	{
		name: "routeros-api-live", host: Router,
		doc:   "a live RouterOS API on router.lan:8728, and router.wan:8728 if in wan_services (routerwatch lab fake): login, prints, and /ip/dhcp-server/network/set dns-server rewriting the dhcp service's dnsmasq",
		ready: onRouter("routeros-api-live", []uint16{8728}, nil),
		setup: setupRouterOSAPI,
	},
	{
		name: "hostile-device", host: Router,
		doc:   "hostile router services on router.lan (routerwatch lab fake): garbage, drip, huge or entity-expansion UPnP descriptions, 100k headers, redirect loops, invalid UTF-8, per hostile",
		ready: hostileDeviceReady,
		setup: setupHostileDevice,
	},
	{
		name: "resolver", host: ISP, progs: []string{"unbound"},
		doc:   "the ISP's legitimate resolver on isp.resolver (unbound, validating corp.test offline; resolver.answers, resolver.nxdomain_redirect)",
		ready: fixed(udp(ra("isp.resolver"), 53), tcp(ra("isp.resolver"), 53)),
		setup: func(_ context.Context, b *builder) (launch, error) { return setupUnbound(b, "resolver", false) },
	},
	{
		name: "authoritative", host: ISP, progs: []string{"nsd"},
		doc:   "the authoritative server of corp.test on isp.auth (nsd, zone signed at up)",
		ready: fixed(udp(ra("isp.auth"), 53), tcp(ra("isp.auth"), 53)),
		setup: func(_ context.Context, b *builder) (launch, error) {
			return setupNSD(b, "authoritative", "isp.auth", zoneFile)
		},
	},
	{
		name: "trusted-resolver", host: ISP, progs: []string{"unbound"},
		doc:   "a trusted resolver on trusted.resolver: Do53, DoT 853, DoH 443 " + DoHPath + " (unbound, lab CA certificate)",
		ready: fixed(udp(ra("trusted.resolver"), 53), tcp(ra("trusted.resolver"), 853), tcp(ra("trusted.resolver"), 443)),
		setup: func(_ context.Context, b *builder) (launch, error) { return setupUnbound(b, "trusted-resolver", true) },
	},
	{
		name: "attacker-resolver", host: ISP, progs: []string{"dnsmasq"},
		doc: "the attacker's resolver on attacker.resolver, and attacker.resolver6 with ipv6 (dnsmasq): forwards to attacker.upstream, rewrites attacker.hijack",
		ready: func(sc *Scenario) []sock {
			out := []sock{udp(ra("attacker.resolver"), 53), tcp(ra("attacker.resolver"), 53)}
			if sc.IPv6 {
				out = append(out, udp(ra("attacker.resolver6"), 53), tcp(ra("attacker.resolver6"), 53))
			}
			return out
		},
		setup: func(_ context.Context, b *builder) (launch, error) {
			return setupAttacker(b, "attacker-resolver", "attacker.resolver")
		},
	},
	{
		name: "attacker-resolver-2", host: ISP, progs: []string{"dnsmasq"},
		doc:   "a second attacker resolver on attacker.resolver2 (dnsmasq), configured like attacker-resolver",
		ready: fixed(udp(ra("attacker.resolver2"), 53), tcp(ra("attacker.resolver2"), 53)),
		setup: func(_ context.Context, b *builder) (launch, error) {
			return setupAttacker(b, "attacker-resolver-2", "attacker.resolver2")
		},
	},
	{
		name: "attacker-dnsdist", host: ISP, progs: []string{"dnsdist"},
		doc:   "the attacker's resolver done with dnsdist on attacker.dnsdist: Do53 and DoT 853 (self-signed), spoofs attacker.hijack, forwards the rest to attacker.upstream",
		ready: fixed(udp(ra("attacker.dnsdist"), 53), tcp(ra("attacker.dnsdist"), 53), tcp(ra("attacker.dnsdist"), 853)),
		setup: setupDNSDist,
	},
	{
		name: "attacker-auth", host: ISP, progs: []string{"unbound"},
		doc:   "the attacker's unsigned copy of corp.test on attacker.auth, answered as a recursive resolver does (unbound auth-zone for upstream only: no AA flag); attacker.unsigned_zone",
		ready: fixed(udp(ra("attacker.auth"), 53), tcp(ra("attacker.auth"), 53)),
		setup: setupAttackerAuth,
	},
	{
		name: "hostile-dns", host: ISP,
		doc:   "a hostile resolver on hostile.dns, UDP only (routerwatch lab fake): malformed, truncated, mismatched-ID, spoofed, oversized, slow replies per hostile_dns",
		ready: fixed(udp(ra("hostile.dns"), 53), udp(ra("hostile.dns.spoof"), 53)),
		setup: setupHostileDNS,
	},
	{
		name: "legit-https", host: ISP, progs: []string{"lighttpd", progModOpenSSL},
		doc:   "the legitimate HTTPS servers of every canary name and cdn.https (lighttpd, lab CA certificate)",
		ready: fixed(legitReady()...),
		setup: setupLegitHTTPS,
	},
	{
		name: "aitm-https", host: ISP, progs: []string{"lighttpd", progModOpenSSL},
		doc:   "the attacker's AitM HTTPS server on aitm.https (lighttpd, self-signed certificate, fake sign-in page)",
		ready: fixed(tcp(ra("aitm.https"), 443)),
		setup: setupAitMHTTPS,
	},
}

// ipprotoICMPv6 is the "port" of a raw ICMPv6 socket in /proc/net/raw6.
const ipprotoICMPv6 = 58

// ra returns a role's address as a string (roles are fixed: it never fails).
func ra(role string) string { return RoleAddr(role).String() }

func legitReady() []sock {
	var out []sock
	for _, a := range legitAddrs() {
		out = append(out, tcp(a.String(), 443))
	}
	return out
}

func serviceByName(name string) (service, bool) {
	for _, s := range services {
		if s.name == name {
			return s, true
		}
	}
	return service{}, false
}

func mustService(name string) service {
	s, ok := serviceByName(name)
	if !ok {
		panic("lab: no service " + name) // only called with names from the services table
	}
	return s
}

// ServiceNames lists the services scenarios may run, sorted.
func ServiceNames() []string {
	out := make([]string, 0, len(services))
	for _, s := range services {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}

// ServiceInfo describes one service for listings.
type ServiceInfo struct {
	Name     string
	Host     Host
	Programs []string
	Doc      string
}

// Services describes every service scenarios may run, in table order.
func Services() []ServiceInfo {
	out := make([]ServiceInfo, 0, len(services))
	for _, s := range services {
		out = append(out, ServiceInfo{Name: s.name, Host: s.host, Programs: s.progs, Doc: s.doc})
	}
	return out
}

// The DHCP server's address range.
const (
	dhcpRangeStart = "10.77.0.100"
	dhcpRangeEnd   = "10.77.0.150"
)

// setupDHCP configures the router's DHCP server. Its DNS servers (option
// 6) are in a --dhcp-optsfile, which dnsmasq re-reads on SIGHUP: the live
// UIs (live.go) change them there.
func setupDHCP(_ context.Context, b *builder) (launch, error) {
	if err := writeDHCPOpts(b); err != nil {
		return launch{}, err
	}
	rtr, _ := roleByName("router.lan")
	domain := ""
	if d := b.sc.Forwarder.LocalDomain; d != "" {
		domain = "dhcp-option=option:domain-name," + d + "\n"
	}
	conf := fmt.Sprintf(`# routerwatch lab: the router's DHCP server (no DNS: port=0)
port=0
interface=%s
bind-interfaces
dhcp-range=%s,%s,255.255.255.0,1h
dhcp-option=option:router,%s
dhcp-optsfile=%s
%sdhcp-leasefile=%s
dhcp-authoritative
# without no-ping dnsmasq pings each address before offering it: 3 s per lease
no-ping
# stay root: on SIGHUP dnsmasq re-reads dhcp-optsfile, which an unprivileged
# user cannot reach when a parent of the lab directory is private (0700)
user=root
log-dhcp
log-facility=-
pid-file=%s
`, routerLANIf, dhcpRangeStart, dhcpRangeEnd, rtr.addr, b.path(dhcpOptsFile), domain, b.path("dhcp.leases"), b.path("dhcp.pid"))
	if err := b.write("dhcp.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"dnsmasq", "--keep-in-foreground", "--conf-file=" + b.path("dhcp.conf")}}, nil
}

// dnsmasqResolver is the configuration of a forwarding dnsmasq: it never
// reads /etc/resolv.conf or /etc/hosts and forwards only to upstreams.
func dnsmasqResolver(b *builder, name string, listen []string, upstreams []string, extra []string) (launch, error) {
	var s strings.Builder
	fmt.Fprintf(&s, "# routerwatch lab: %s\nport=53\nlisten-address=%s\nbind-interfaces\nno-resolv\nno-hosts\n", name, strings.Join(listen, ","))
	for _, u := range upstreams {
		fmt.Fprintf(&s, "server=%s\n", resolve(u))
	}
	for _, e := range extra {
		s.WriteString(e + "\n")
	}
	fmt.Fprintf(&s, "log-queries\nlog-facility=-\npid-file=%s\n", b.path(name+".pid"))
	if err := b.write(name+".conf", s.String(), 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"dnsmasq", "--keep-in-foreground", "--conf-file=" + b.path(name+".conf")}}, nil
}

func setupForwarder(_ context.Context, b *builder) (launch, error) {
	var extra []string
	if d := b.sc.Forwarder.LocalDomain; d != "" {
		// OpenWrt's dnsmasq defaults: a local domain answered from the
		// router's own records, plain names and private reverse lookups
		// never forwarded. Not its rebind protection (stop-dns-rebind):
		// dnsmasq counts the documentation ranges the lab's Internet
		// lives in (RFC 5737) as private and would drop every answer.
		extra = []string{"domain=" + d, "local=/" + d + "/", "host-record=router." + d + "," + ra("router.lan"),
			"domain-needed", "bogus-priv", "cache-size=150"}
	}
	listen := []string{ra("router.dns")}
	if slices.Contains(b.sc.WANServices, "dns-forwarder") {
		// Listening on the WAN address is all it takes: dnsmasq answers
		// whoever reaches a listen-address (its local-service default
		// applies only without one), as a RouterOS with
		// allow-remote-requests=yes and no WAN drop does.
		listen = append(listen, ra("router.wan"))
	}
	return dnsmasqResolver(b, "dns-forwarder", listen, b.sc.Forwarder.Upstream, extra)
}

// setupAttacker configures one attacker dnsmasq (name) on role: hijacked
// names answered with address=, corp.test sent to the unsigned copy if
// attacker.unsigned_zone (whose hijacks are in that zone instead).
func setupAttacker(b *builder, name, role string) (launch, error) {
	listen := []string{ra(role)}
	if b.sc.IPv6 && role == "attacker.resolver" {
		listen = append(listen, ra("attacker.resolver6"))
	}
	var extra []string
	if b.sc.Attacker.UnsignedZone {
		extra = append(extra, fmt.Sprintf("server=/%s/%s", strings.TrimSuffix(SignedZone, "."), ra("attacker.auth")))
	}
	for _, h := range b.sc.Attacker.Hijack {
		for _, n := range h.Names {
			if b.sc.Attacker.UnsignedZone && dns.IsSubDomain(SignedZone, dns.Fqdn(n)) {
				continue // in the unsigned zone
			}
			extra = append(extra, fmt.Sprintf("address=/%s/%s", n, resolve(h.To)))
		}
	}
	return dnsmasqResolver(b, name, listen, []string{b.sc.Attacker.Upstream}, extra)
}

func setupSSH(ctx context.Context, b *builder) (launch, error) {
	// ed25519 and ECDSA keys take milliseconds; RSA would take up to a second.
	keys := []struct{ typ, file string }{{"ed25519", "ssh_host_ed25519"}, {"ecdsa", "ssh_host_ecdsa"}}
	args := []string{"dropbear", "-F", "-E", "-s", "-g", "-P", b.path("ssh.pid")}
	for _, a := range routerAddrs(b.sc, "ssh") {
		args = append(args, "-p", a+":22")
	}
	errs := make(chan error, len(keys))
	for _, k := range keys {
		go func() {
			out, err := exec.CommandContext(ctx, "dropbearkey", "-t", k.typ, "-f", b.path(k.file)).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("lab: dropbearkey -t %s: %w: %s", k.typ, err, strings.TrimSpace(string(out)))
			}
			errs <- err
		}()
		args = append(args, "-r", b.path(k.file))
	}
	var all []error
	for range keys {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return launch{}, err
	}
	return launch{argv: args}, nil
}

func setupTelnet(_ context.Context, b *builder) (launch, error) {
	login := "#!/bin/sh\n# routerwatch lab: a login prompt that never lets anyone in\nprintf 'Login: '; read u; printf 'Password: '; read p; sleep 1; echo 'Login incorrect'; exit 1\n"
	if err := b.write("telnet-login.sh", login, 0o755); err != nil {
		return launch{}, err
	}
	if err := b.write("telnet-issue", b.sc.Identity.TelnetBanner+"\n", 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{b.busybox, "telnetd", "-F", "-p", "23", "-b", ra("router.lan"),
		"-l", b.path("telnet-login.sh"), "-f", b.path("telnet-issue")}}, nil
}

func setupWeb(_ context.Context, b *builder) (launch, error) {
	id := b.sc.Identity
	www := b.path("www-router")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	page := fmt.Sprintf("<html><head><title>%s</title></head><body><h1>%s</h1></body></html>\n", id.WebTitle, id.WebTitle)
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	if err := b.write("web.users", "admin:admin\n", 0o600); err != nil {
		return launch{}, err
	}
	authRule := fmt.Sprintf(`auth.require = ( "/" => ( "method" => "basic", "realm" => "%s", "require" => "valid-user" ) )`, id.WebRealm)
	mime := `".html" => "text/html"`
	switch b.sc.Web.UI {
	case WebLoginPage:
		authRule = "# login-page: the index page needs no authentication"
	case WebTPLinkLegacy:
		if err := writeTPLinkLegacy(www, b.path("web-pages.txt")); err != nil {
			return launch{}, err
		}
		// The flaw of CVE-2023-50224: /loginFs/ skips authentication.
		authRule = "$HTTP[\"url\"] !~ \"^/loginFs/\" {\n  " + authRule + "\n}"
		mime += `, ".htm" => "text/html", "dropbearpwd" => "text/plain"`
	}
	addrs := routerAddrs(b.sc, "web")
	var sockets strings.Builder
	for _, a := range addrs[1:] {
		fmt.Fprintf(&sockets, "$SERVER[\"socket\"] == \"%s:80\" { }\n", a)
	}
	conf := fmt.Sprintf(`# routerwatch lab: the router's web UI (%s)
server.document-root = "%s"
server.bind = "%s"
server.port = 80
%sserver.tag = "%s"
server.pid-file = "%s"
server.modules = ("mod_auth", "mod_authn_file")
auth.backend = "plain"
auth.backend.plain.userfile = "%s"
%s
index-file.names = ("index.html")
mimetype.assign = (%s)
`, b.sc.Web.UI, www, addrs[0], sockets.String(), id.WebServer, b.path("web.pid"), b.path("web.users"), authRule, mime)
	if err := b.write("web.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"lighttpd", "-D", "-f", b.path("web.conf")}}, nil
}

// httpsConf is a lighttpd HTTPS server on addrs:443 with one certificate.
func httpsConf(b *builder, name, pemFile, tag, page string, addrs []string) (launch, error) {
	www := b.path("www-" + name)
	if err := os.MkdirAll(www, 0o755); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	var s strings.Builder
	fmt.Fprintf(&s, `# routerwatch lab: %s
server.modules = ("mod_openssl")
server.document-root = "%s"
server.bind = "%s"
server.port = 443
server.tag = "%s"
server.pid-file = "%s"
ssl.engine = "enable"
ssl.pemfile = "%s"
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html")
`, name, www, addrs[0], tag, b.path(name+".pid"), b.path(pemFile))
	for _, a := range addrs[1:] {
		fmt.Fprintf(&s, "$SERVER[\"socket\"] == \"%s:443\" { ssl.engine = \"enable\" }\n", a)
	}
	if err := b.write(name+".conf", s.String(), 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"lighttpd", "-D", "-f", b.path(name + ".conf")}}, nil
}

func setupLegitHTTPS(_ context.Context, b *builder) (launch, error) {
	var addrs []string
	for _, a := range legitAddrs() {
		addrs = append(addrs, a.String())
	}
	page := "<html><head><title>Sign in</title></head><body>legitimate service (routerwatch lab)</body></html>\n"
	return httpsConf(b, "legit-https", legitPEM, "lighttpd", page, addrs)
}

func setupAitMHTTPS(_ context.Context, b *builder) (launch, error) {
	r, _ := roleByName("aitm.https")
	page := "<html><head><title>Sign in</title></head><body><form method=post>attacker-in-the-middle (routerwatch lab)<input name=login><input name=passwd type=password></form></body></html>\n"
	return httpsConf(b, "aitm-https", aitmPEM, "lighttpd", page, []string{r.addr.String()})
}

func setupUPnP(_ context.Context, b *builder) (launch, error) {
	id := b.sc.Identity
	conf := fmt.Sprintf(`# routerwatch lab: UPnP IGD (nftables backend, inside the router's namespace)
ext_ifname=%s
listening_ip=%s
http_port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
friendly_name=%s
manufacturer_name=%s
model_name=%s
model_number=%s
serial=12345678
uuid=795c0f01-6e47-4bb7-9cea-120d60a273d8
allow 1024-65535 %s 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`, routerWANIf, routerLANIf, id.UPnPFriendlyName, id.UPnPManufacturer, id.UPnPModelName, id.UPnPModelNumber, LANPrefix)
	if err := b.write("upnp.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"miniupnpd", "-d", "-f", b.path("upnp.conf"), "-P", b.path("upnp.pid")}}, nil
}

func setupSNMP(_ context.Context, b *builder) (launch, error) {
	id := b.sc.Identity
	var agents []string
	for _, a := range routerAddrs(b.sc, "snmp") {
		agents = append(agents, "udp:"+a+":161")
	}
	// Exposed on the WAN, the community answers everyone, as on a router
	// whose SNMP is open to the Internet.
	source := LANPrefix.String()
	if len(agents) > 1 {
		source = "default"
	}
	conf := fmt.Sprintf(`# routerwatch lab: SNMP agent
agentAddress %s
rocommunity public %s
sysDescr %s
sysObjectID %s
sysName %s
sysLocation routerwatch lab
sysContact admin@example.org
`, strings.Join(agents, ","), source, id.SNMPSysDescr, id.SNMPSysObjectID, id.SNMPSysName)
	if err := b.write("snmp.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	if err := os.MkdirAll(b.path("snmp-persist"), 0o700); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	// -C: read no default configuration; persistent data stays in the lab.
	return launch{
		// -I -smux: no SMUX listener, which would be TCP 199 on every
		// address (WAN included), unlike a router's SNMP agent.
		argv: []string{"snmpd", "-f", "-Lo", "-C", "-I", "-smux", "-c", b.path("snmp.conf"), "-p", b.path("snmp.pid")},
		env:  []string{"SNMP_PERSISTENT_DIR=" + b.path("snmp-persist"), "MIBS="}, // MIBS=: load no MIB files (the agent needs none)
	}, nil
}

// setupNSD configures an authoritative nsd (name) for corp.test on role,
// serving zone (a file in the lab directory).
func setupNSD(b *builder, name, role, zone string) (launch, error) {
	conf := fmt.Sprintf(`# routerwatch lab: authoritative server of %s (%s)
server:
  ip-address: %s
  port: 53
  username: ""
  chroot: ""
  zonesdir: "%s"
  database: ""
  pidfile: "%s"
  xfrdfile: "%s"
  zonelistfile: "%s"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "%s"
  zonefile: "%s"
`, SignedZone, name, ra(role), b.dir, b.path(name+".pid"), b.path(name+"-xfrd.state"), b.path(name+"-zone.list"), SignedZone, zone)
	if err := b.write(name+".conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"nsd", "-d", "-c", b.path(name + ".conf")}}, nil
}

// setupUnbound configures the ISP's resolver or the trusted resolver. Both
// are fully offline: `local-zone: "." static` stops any iteration to the real
// root servers (unbound has them built in), the canary names are local-data,
// and corp.test is a stub to isp.auth, validated against the lab's trust
// anchor.
func setupUnbound(b *builder, name string, tls bool) (launch, error) {
	roleName := "isp.resolver"
	if tls {
		roleName = "trusted.resolver"
	}
	r, _ := roleByName(roleName)
	auth, _ := roleByName("isp.auth")
	var s strings.Builder
	fmt.Fprintf(&s, `# routerwatch lab: %s
server:
  interface: %s
  port: 53
`, name, r.addr)
	if tls {
		fmt.Fprintf(&s, `  interface: %s@853
  interface: %s@443
  tls-service-key: "%s"
  tls-service-pem: "%s"
  tls-port: 853
  https-port: 443
  http-endpoint: "%s"
  http-notls-downstream: no
`, r.addr, r.addr, b.path(trustedKey), b.path(trustedPEM), DoHPath)
	}
	fmt.Fprintf(&s, `  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: "%s"
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  module-config: "validator iterator"
  trust-anchor-file: "%s"
  # never iterate to the real root: what is not configured here is NXDOMAIN
  local-zone: "." static
  local-zone: "%s" transparent
`, b.dir, b.path(name+".pid"), b.path(trustAnchorFile), SignedZone)
	// Only the ISP's resolver differs from the trusted one: CDN-style
	// answers and NXDOMAIN rewriting (scenario section resolver).
	var spec ResolverSpec
	if !tls {
		spec = b.sc.Resolver
	}
	redirect := map[string]netip.Addr{}
	if nx := spec.NXDomainRedirect; nx != nil {
		for _, z := range nx.Zones {
			redirect[dns.Fqdn(z)] = resolve(nx.To)
		}
	}
	// corp.test is under the special-use test. zone, which unbound blocks
	// by default; a redirect of test. replaces the default as well.
	if _, ok := redirect["test."]; !ok {
		s.WriteString("  local-zone: \"test.\" nodefault\n")
	}
	for _, z := range slices.Sorted(maps.Keys(redirect)) {
		// redirect: every name under the zone gets the apex's data; the
		// more specific transparent corp.test keeps its real answers.
		fmt.Fprintf(&s, "  local-zone: \"%s\" redirect\n  local-data: \"%s 300 IN A %s\"\n", z, z, redirect[z])
	}
	answers := map[string]netip.Addr{}
	for _, r := range spec.Answers {
		for _, n := range r.Names {
			answers[n] = resolve(r.To)
		}
	}
	for _, rec := range records {
		addr, override := answers[rec.Name]
		if !override {
			if strings.HasSuffix(rec.Name+".", "."+SignedZone) {
				continue
			}
			addr = rec.Addr
		}
		fmt.Fprintf(&s, "  local-data: \"%s. 300 IN A %s\"\n", rec.Name, addr)
	}
	for _, n := range slices.Sorted(maps.Keys(answers)) {
		if !slices.ContainsFunc(records, func(r Record) bool { return r.Name == n }) {
			fmt.Fprintf(&s, "  local-data: \"%s. 300 IN A %s\"\n", n, answers[n])
		}
	}
	fmt.Fprintf(&s, `stub-zone:
  name: "%s"
  stub-addr: %s
remote-control:
  control-enable: no
`, SignedZone, auth.addr)
	if err := b.write(name+".conf", s.String(), 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"unbound", "-d", "-c", b.path(name + ".conf")}}, nil
}
