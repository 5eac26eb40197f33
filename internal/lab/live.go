// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// The live router: management interfaces whose DHCP DNS setting is backed
// by the router's real dnsmasq (services tplink-ui and routeros-api-live,
// run by package fake). The dhcp service always takes its DNS servers from
// a --dhcp-optsfile (dhcpOptsFile), which dnsmasq re-reads on SIGHUP; a
// live UI rewrites that file and signals the dnsmasq recorded in the
// lab's state, so the client's next lease carries the change. The Go API
// that drives them (DNSChanger, SetDHCPDNS, RouterDHCPDNS) is in
// liveclient.go.

// RouterUser and RouterPassword are the administrator's credentials of the
// lab router's live UIs (and of its lighttpd web UI): the factory default
// that DNS changers try first.
const (
	RouterUser     = "admin"
	RouterPassword = "admin"
)

// dhcpOptsFile is the dhcp service's --dhcp-optsfile in the lab directory.
const dhcpOptsFile = "dhcp-opts"

// TPLinkUISpec configures the live legacy TP-Link web UI (service
// tplink-ui; see package fake, KindTPLinkUI).
type TPLinkUISpec struct {
	// Auth is the login scheme (CONFIGS.md §1.2): basic (the default;
	// HTTP Basic on every request) or cookie (the Authorization cookie,
	// LoginRpm.htm and a session token in the URL; one administrator at a
	// time).
	Auth string `yaml:"auth"`
	// RemoteManagement is the remote management IP at up
	// (managementPara[1]): 0.0.0.0 (the default) is off, 255.255.255.255
	// lets any host of the WAN side in, an address or role only that
	// host. When on, the UI also listens on router.wan:RemotePort.
	RemoteManagement string `yaml:"remote_management"`
	// RemotePort is the web management port at up (managementPara[0];
	// default 80).
	RemotePort uint16 `yaml:"remote_port"`
	// SessionTimeout is the idle time, in seconds, after which a cookie
	// session ends (default 300; no source gives the firmware's).
	SessionTimeout int `yaml:"session_timeout"`
	// Password is the administrator's password (user RouterUser) of the
	// live UIs; empty means the factory default RouterPassword. A
	// scenario sets its own when a test must tell the password apart
	// from every other string (the credential-leak tests grep for it).
	Password string `yaml:"password"`
}

// RouterLogin returns the administrator's login of the lab router's live
// UIs: what the owner (and, in the campaign, an attacker who read it with
// CVE-2023-50224) uses.
func (l *Lab) RouterLogin() (user, password string) {
	return RouterUser, routerPassword(l.scenario)
}

// routerPassword is the scenario's live-UI password.
func routerPassword(sc *Scenario) string {
	if sc != nil && sc.TPLinkUI.Password != "" {
		return sc.TPLinkUI.Password
	}
	return RouterPassword
}

// Defaults of TPLinkUISpec.
const (
	defaultSessionTimeout = 300
	remoteOff             = "0.0.0.0"
	remoteAnyHost         = "255.255.255.255"
)

// liveUIs are the services whose DHCP DNS setting is real. Each rewrites
// the dhcp service's options, so a scenario runs at most one.
var liveUIs = []string{"tplink-ui", "routeros-api-live"}

// liveUI returns the scenario's live UI service, "" if none.
func (s *Scenario) liveUI() string {
	for _, n := range liveUIs {
		if s.HasService(n) {
			return n
		}
	}
	return ""
}

func (s *Scenario) validateLive() error {
	u := &s.TPLinkUI
	set := *u != TPLinkUISpec{}
	if err := s.checkSection("tplink_ui", set, "tplink-ui"); err != nil {
		return err
	}
	var running []string
	for _, n := range liveUIs {
		if s.HasService(n) {
			running = append(running, n)
		}
	}
	if len(running) > 1 {
		return fmt.Errorf("services: %s each own the DHCP DNS setting: run one", strings.Join(running, " and "))
	}
	if len(running) == 1 && !s.HasService("dhcp") {
		return fmt.Errorf("services: %s is backed by the router's DHCP server: it needs service dhcp", running[0])
	}
	for _, pair := range [][2]string{{"tplink-ui", "web"}, {"routeros-api-live", "routeros-api"}} {
		if s.HasService(pair[0]) && s.HasService(pair[1]) {
			return fmt.Errorf("services: %s and %s listen on the same port: run one", pair[0], pair[1])
		}
	}
	if !s.HasService("tplink-ui") {
		return nil
	}
	if len(s.DHCP.DNS) > 2 {
		return fmt.Errorf("dhcp.dns: the TP-Link UI holds two DNS servers (DHCPPara[6..7]), not %d", len(s.DHCP.DNS))
	}
	switch u.Auth {
	case "":
		u.Auth = string(fake.TPLinkBasic)
	case string(fake.TPLinkBasic), string(fake.TPLinkCookie):
	default:
		return fmt.Errorf("tplink_ui.auth: %q is not %s or %s", u.Auth, fake.TPLinkBasic, fake.TPLinkCookie)
	}
	if u.RemoteManagement == "" {
		u.RemoteManagement = remoteOff
	}
	if err := s.checkAddr("tplink_ui.remote_management", u.RemoteManagement); err != nil {
		return err
	}
	if !resolve(u.RemoteManagement).Is4() {
		return fmt.Errorf("tplink_ui.remote_management: %q is not an IPv4 address", u.RemoteManagement)
	}
	if u.RemotePort == 0 {
		u.RemotePort = 80
	}
	if u.SessionTimeout == 0 {
		u.SessionTimeout = defaultSessionTimeout
	}
	if u.SessionTimeout < 0 {
		return errors.New("tplink_ui.session_timeout: must be positive")
	}
	return nil
}

// remoteManagement reports whether the TP-Link UI's remote management is
// on at up.
func (s *Scenario) remoteManagement() bool {
	return s.HasService("tplink-ui") && resolve(s.TPLinkUI.RemoteManagement) != netip.MustParseAddr(remoteOff)
}

// tplinkUIReady waits for the LAN port and, with remote management on,
// the WAN port.
func tplinkUIReady(sc *Scenario) []sock {
	out := []sock{tcp(ra("router.lan"), 80)}
	if sc.remoteManagement() {
		out = append(out, tcp(ra("router.wan"), sc.TPLinkUI.RemotePort))
	}
	return out
}

// The firmware strings of the captured StatusRpm (statusPara[5..6], shared
// data tplink-legacy/…_StatusRpm.htm): the live UI reports them, captured
// pages or not, so that what it says agrees with the capture it serves.
const (
	tplinkCapturedFirmware = "3.12.5 Build 100929 Rel.57776n "
	tplinkCapturedHardware = "WR841N v6/v7 00000000"
)

// dhcpBackend is the dhcp service as the live fakes see it.
func (b *builder) dhcpBackend() fake.DHCPBackend {
	return fake.DHCPBackend{OptsFile: b.path(dhcpOptsFile), StateFile: b.path(stateFile), Service: "dhcp",
		LogFile: b.path("dhcp.log"), Self: RoleAddr("router.dns")}
}

// tplinkDNSFields are DHCPPara[6..7] for the scenario's dhcp.dns: the
// router's own resolver alone is 0.0.0.0, 0.0.0.0 (the factory setting:
// the router hands out itself).
func tplinkDNSFields(dns []netip.Addr) (string, string) {
	if len(dns) == 1 && dns[0] == RoleAddr("router.dns") {
		return remoteOff, remoteOff
	}
	f := [2]string{remoteOff, remoteOff}
	for i, a := range dns[:min(2, len(dns))] {
		f[i] = a.String()
	}
	return f[0], f[1]
}

func setupTPLinkUI(_ context.Context, b *builder) (launch, error) {
	sc := b.sc
	captures := ""
	if src, ok := TPLinkLegacySamples(); ok {
		captures = b.path("tplink-ui-pages")
		for _, p := range tplinkPages {
			data, err := os.ReadFile(filepath.Join(src, p.sample))
			if err != nil {
				return launch{}, fmt.Errorf("lab: tplink pages: %w", err)
			}
			if err := writeFileAll(filepath.Join(captures, filepath.Base(p.path)), data); err != nil {
				return launch{}, err
			}
		}
	}
	dns1, dns2 := tplinkDNSFields(sc.DHCPDNS())
	wanDNS := RoleAddr("isp.resolver")
	if len(sc.Forwarder.Upstream) > 0 {
		wanDNS = resolve(sc.Forwarder.Upstream[0])
	}
	cfg := fake.TPLinkUIConfig{
		LAN: RoleAddr("router.lan"), Port: 80, WAN: RoleAddr("router.wan"),
		Auth: fake.TPLinkAuth(sc.TPLinkUI.Auth), User: RouterUser, Password: routerPassword(sc),
		Realm: sc.Identity.WebRealm, Server: sc.Identity.WebServer, SessionTimeout: sc.TPLinkUI.SessionTimeout,
		Captures: captures,
		State: fake.TPLinkState{
			LANIP: ra("router.lan"), LANMask: "255.255.255.0",
			DHCPServer: true, DHCPStart: dhcpRangeStart, DHCPEnd: dhcpRangeEnd, LeaseMinutes: 60,
			Gateway: ra("router.lan"), Domain: sc.Forwarder.LocalDomain, DNS1: dns1, DNS2: dns2,
			WANIP: ra("router.wan"), WANMask: "255.255.255.0", WANGateway: ra("isp.wan"), WANMTU: 1500,
			WANDNS1: wanDNS.String(), WANDNS2: remoteOff, HostName: "TL-WR841N",
			MgmtPort: sc.TPLinkUI.RemotePort, MgmtIP: resolve(sc.TPLinkUI.RemoteManagement).String(),
			UPnP:     sc.HasService("upnp"),
			Firmware: tplinkCapturedFirmware, Hardware: tplinkCapturedHardware,
		},
		DHCP: b.dhcpBackend(),
	}
	return fakeLaunch(b, "tplink-ui", string(fake.KindTPLinkUI), cfg)
}

// routerOSResource is /system/resource of the lab's RouterOS: the model
// and version of the saved RB951Ui-2HnD export (RouterOS 6.49.6; shared
// data mikrotik/), the other values plausible lab values.
var routerOSResource = map[string]string{
	"version": "6.49.6 (long-term)", "build-time": "Sep/19/2022 19:12:47", "free-memory": "35852288",
	"total-memory": "67108864", "cpu": "MIPS 24Kc V7.4", "cpu-count": "1", "cpu-frequency": "600", "cpu-load": "3",
	"free-hdd-space": "110592", "total-hdd-space": "134217728", "architecture-name": "mipsbe",
	"board-name": "RB951Ui-2HnD", "platform": "MikroTik",
}

func setupRouterOSAPI(_ context.Context, b *builder) (launch, error) {
	sc := b.sc
	var listen []netip.AddrPort
	for _, a := range routerAddrs(sc, "routeros-api-live") {
		listen = append(listen, netip.AddrPortFrom(netip.MustParseAddr(a), 8728))
	}
	var upstream []netip.Addr
	for _, u := range sc.Forwarder.Upstream {
		upstream = append(upstream, resolve(u))
	}
	// The router's own resolver alone is no dns-server on RouterOS'
	// network row: an empty list hands out the router.
	dhcpDNS := sc.DHCPDNS()
	if len(dhcpDNS) == 1 && dhcpDNS[0] == RoleAddr("router.dns") {
		dhcpDNS = nil
	}
	svc := func(name string, port uint16, on bool) fake.RouterOSService {
		return fake.RouterOSService{Name: name, Port: port, Disabled: !on}
	}
	cfg := fake.RouterOSConfig{
		Listen: listen, User: RouterUser, Password: routerPassword(sc),
		DNSServers: upstream, AllowRemoteRequests: sc.HasService("dns-forwarder"),
		Network: LANPrefix, Gateway: RoleAddr("router.lan"), DHCPServer: dhcpDNS,
		Services: []fake.RouterOSService{
			svc("telnet", 23, sc.HasService("telnet")), svc("ftp", 21, false), svc("www", 80, sc.HasService("web")),
			svc("ssh", 22, sc.HasService("ssh")), svc("www-ssl", 443, false), svc("api", 8728, true),
			svc("winbox", 8291, sc.HasService("winbox")), svc("api-ssl", 8729, false),
		},
		Resource: routerOSResource,
		DHCP:     b.dhcpBackend(),
	}
	return fakeLaunch(b, "routeros-api-live", string(fake.KindRouterOS), cfg)
}

// writeDHCPOpts writes the dhcp service's initial options file.
func writeDHCPOpts(b *builder) error {
	return b.write(dhcpOptsFile, fake.OptsContent(b.sc.DHCPDNS(), RoleAddr("router.dns")), 0o644)
}

// liveConfigMode is the mode of a fake's configuration file: it may hold
// the router's credentials.
const liveConfigMode = 0o600

// marshalConfig renders a fake's configuration.
func marshalConfig(service string, config any) (string, error) {
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return "", fmt.Errorf("lab: %s: %w", service, err)
	}
	return string(data) + "\n", nil
}
