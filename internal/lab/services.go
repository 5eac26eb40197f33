// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// service is one daemon the lab can run. Each runs on a fixed host, in the
// foreground, as a child the lab tracks by PID.
type service struct {
	name string
	host Host
	doc  string
	// progs are the programs (and files) it needs; see deps.go.
	progs []string
	// ready lists the sockets that must be open before it counts as up.
	ready []sock
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

// services is the one list of services (STYLE R8). To add a daemon, add an
// entry here and, if it needs new programs, a line in deps.go.
var services = []service{
	{
		name: "dhcp", host: Router, progs: []string{"dnsmasq"},
		doc:   "DHCP server on the LAN (dnsmasq): hands out dhcp.dns as option 6",
		ready: []sock{udp("0.0.0.0", 67)},
		setup: setupDHCP,
	},
	{
		name: "dns-forwarder", host: Router, progs: []string{"dnsmasq"},
		doc:   "the router's own DNS forwarder on router.dns (dnsmasq), forwarding to forwarder.upstream",
		ready: []sock{udp(ra("router.dns"), 53), tcp(ra("router.dns"), 53)},
		setup: setupForwarder,
	},
	{
		name: "ssh", host: Router, progs: []string{"dropbear", "dropbearkey"},
		doc:   "SSH on router.lan:22 (dropbear, host keys generated at up)",
		ready: []sock{tcp(ra("router.lan"), 22)},
		setup: setupSSH,
	},
	{
		name: "telnet", host: Router, progs: []string{progBusyboxStatic},
		doc:   "telnet on router.lan:23 (busybox-static telnetd, fake login, identity.telnet_banner)",
		ready: []sock{tcp(ra("router.lan"), 23)},
		setup: setupTelnet,
	},
	{
		name: "web", host: Router, progs: []string{"lighttpd"},
		doc:   "router web UI on router.lan:80 (lighttpd, Basic auth admin:admin, identity.web_*)",
		ready: []sock{tcp(ra("router.lan"), 80)},
		setup: setupWeb,
	},
	{
		name: "upnp", host: Router, progs: []string{"miniupnpd"},
		doc:   "UPnP IGD and NAT-PMP on the LAN (miniupnpd, nftables; SSDP 1900, HTTP 5000, identity.upnp_*)",
		ready: []sock{tcp("0.0.0.0", 5000), udp("0.0.0.0", 1900)},
		setup: setupUPnP,
	},
	{
		name: "snmp", host: Router, progs: []string{"snmpd"},
		doc:   "SNMP v1/v2c on router.lan:161, community public (net-snmp, identity.snmp_*)",
		ready: []sock{udp(ra("router.lan"), 161)},
		setup: setupSNMP,
	},
	{
		name: "resolver", host: ISP, progs: []string{"unbound"},
		doc:   "the ISP's legitimate resolver on isp.resolver (unbound, validating corp.test offline)",
		ready: []sock{udp(ra("isp.resolver"), 53), tcp(ra("isp.resolver"), 53)},
		setup: func(_ context.Context, b *builder) (launch, error) { return setupUnbound(b, "resolver", false) },
	},
	{
		name: "authoritative", host: ISP, progs: []string{"nsd"},
		doc:   "the authoritative server of corp.test on isp.auth (nsd, zone signed at up)",
		ready: []sock{udp(ra("isp.auth"), 53), tcp(ra("isp.auth"), 53)},
		setup: setupNSD,
	},
	{
		name: "trusted-resolver", host: ISP, progs: []string{"unbound"},
		doc:   "a trusted resolver on trusted.resolver: Do53, DoT 853, DoH 443 " + DoHPath + " (unbound, lab CA certificate)",
		ready: []sock{udp(ra("trusted.resolver"), 53), tcp(ra("trusted.resolver"), 853), tcp(ra("trusted.resolver"), 443)},
		setup: func(_ context.Context, b *builder) (launch, error) { return setupUnbound(b, "trusted-resolver", true) },
	},
	{
		name: "attacker-resolver", host: ISP, progs: []string{"dnsmasq"},
		doc:   "the attacker's resolver on attacker.resolver (dnsmasq): forwards to attacker.upstream, rewrites attacker.hijack",
		ready: []sock{udp(ra("attacker.resolver"), 53), tcp(ra("attacker.resolver"), 53)},
		setup: setupAttacker,
	},
	{
		name: "legit-https", host: ISP, progs: []string{"lighttpd", progModOpenSSL},
		doc:   "the legitimate HTTPS servers of every canary name (lighttpd, lab CA certificate)",
		ready: legitReady(),
		setup: setupLegitHTTPS,
	},
	{
		name: "aitm-https", host: ISP, progs: []string{"lighttpd", progModOpenSSL},
		doc:   "the attacker's AitM HTTPS server on aitm.https (lighttpd, self-signed certificate, fake sign-in page)",
		ready: []sock{tcp(ra("aitm.https"), 443)},
		setup: setupAitMHTTPS,
	},
}

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

func setupDHCP(_ context.Context, b *builder) (launch, error) {
	var dns []string
	for _, a := range b.sc.DHCP.DNS {
		dns = append(dns, resolve(a).String())
	}
	rtr, _ := roleByName("router.lan")
	conf := fmt.Sprintf(`# routerwatch lab: the router's DHCP server (no DNS: port=0)
port=0
interface=%s
bind-interfaces
dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h
dhcp-option=option:router,%s
dhcp-option=option:dns-server,%s
dhcp-leasefile=%s
dhcp-authoritative
# without no-ping dnsmasq pings each address before offering it: 3 s per lease
no-ping
log-dhcp
log-facility=-
pid-file=%s
`, routerLANIf, rtr.addr, strings.Join(dns, ","), b.path("dhcp.leases"), b.path("dhcp.pid"))
	if err := b.write("dhcp.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"dnsmasq", "--keep-in-foreground", "--conf-file=" + b.path("dhcp.conf")}}, nil
}

// dnsmasqResolver is the configuration of a forwarding dnsmasq: it never
// reads /etc/resolv.conf or /etc/hosts and forwards only to upstreams.
func dnsmasqResolver(b *builder, name, listen string, upstreams []string, extra []string) (launch, error) {
	var s strings.Builder
	fmt.Fprintf(&s, "# routerwatch lab: %s\nport=53\nlisten-address=%s\nbind-interfaces\nno-resolv\nno-hosts\n", name, listen)
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
	r, _ := roleByName("router.dns")
	return dnsmasqResolver(b, "dns-forwarder", r.addr.String(), b.sc.Forwarder.Upstream, nil)
}

func setupAttacker(_ context.Context, b *builder) (launch, error) {
	r, _ := roleByName("attacker.resolver")
	var extra []string
	for _, h := range b.sc.Attacker.Hijack {
		for _, n := range h.Names {
			extra = append(extra, fmt.Sprintf("address=/%s/%s", n, resolve(h.To)))
		}
	}
	return dnsmasqResolver(b, "attacker-resolver", r.addr.String(), []string{b.sc.Attacker.Upstream}, extra)
}

func setupSSH(ctx context.Context, b *builder) (launch, error) {
	// ed25519 and ECDSA keys take milliseconds; RSA would take up to a second.
	keys := []struct{ typ, file string }{{"ed25519", "ssh_host_ed25519"}, {"ecdsa", "ssh_host_ecdsa"}}
	args := []string{"dropbear", "-F", "-E", "-s", "-g", "-p", ra("router.lan") + ":22", "-P", b.path("ssh.pid")}
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
	conf := fmt.Sprintf(`# routerwatch lab: the router's web UI
server.document-root = "%s"
server.bind = "%s"
server.port = 80
server.tag = "%s"
server.pid-file = "%s"
server.modules = ("mod_auth", "mod_authn_file")
auth.backend = "plain"
auth.backend.plain.userfile = "%s"
auth.require = ( "/" => ( "method" => "basic", "realm" => "%s", "require" => "valid-user" ) )
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html")
`, www, ra("router.lan"), id.WebServer, b.path("web.pid"), b.path("web.users"), id.WebRealm)
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
	conf := fmt.Sprintf(`# routerwatch lab: SNMP agent
agentAddress udp:%s:161
rocommunity public %s
sysDescr %s
sysObjectID %s
sysName %s
sysLocation routerwatch lab
sysContact admin@example.org
`, ra("router.lan"), LANPrefix, id.SNMPSysDescr, id.SNMPSysObjectID, id.SNMPSysName)
	if err := b.write("snmp.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	if err := os.MkdirAll(b.path("snmp-persist"), 0o700); err != nil {
		return launch{}, fmt.Errorf("lab: %w", err)
	}
	// -C: read no default configuration; persistent data stays in the lab.
	return launch{
		argv: []string{"snmpd", "-f", "-Lo", "-C", "-c", b.path("snmp.conf"), "-p", b.path("snmp.pid")},
		env:  []string{"SNMP_PERSISTENT_DIR=" + b.path("snmp-persist"), "MIBS="}, // MIBS=: load no MIB files (the agent needs none)
	}, nil
}

func setupNSD(_ context.Context, b *builder) (launch, error) {
	a, _ := roleByName("isp.auth")
	conf := fmt.Sprintf(`# routerwatch lab: authoritative server of %s
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
`, SignedZone, a.addr, b.dir, b.path("authoritative.pid"), b.path("nsd-xfrd.state"), b.path("nsd-zone.list"), SignedZone, zoneFile)
	if err := b.write("authoritative.conf", conf, 0o644); err != nil {
		return launch{}, err
	}
	return launch{argv: []string{"nsd", "-d", "-c", b.path("authoritative.conf")}}, nil
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
  # corp.test is under the special-use test. zone, which unbound blocks by default
  local-zone: "test." nodefault
  # never iterate to the real root: what is not configured here is NXDOMAIN
  local-zone: "." static
  local-zone: "%s" transparent
`, b.dir, b.path(name+".pid"), b.path(trustAnchorFile), SignedZone)
	for _, rec := range records {
		if strings.HasSuffix(rec.Name+".", "."+SignedZone) {
			continue
		}
		fmt.Fprintf(&s, "  local-data: \"%s. 300 IN A %s\"\n", rec.Name, rec.Addr)
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
