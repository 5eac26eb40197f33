// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/lab/fake"
)

// Scenario is one lab network described as data: which services run on which
// host, what the router's DHCP server hands out, what the attacker's
// resolver rewrites, how the router identifies itself, and the facts a test
// can assert. Scenarios are YAML files in scenarios/ (embedded), decoded
// strictly by ParseScenario and validated at load.
//
// Address fields take either an IP literal or a role name ("attacker.resolver",
// see Roles); a role resolves to its lab address and must be served by a
// service the scenario runs.
type Scenario struct {
	// Name is the file name without ".yaml"; set by the loader, not the file.
	Name string `yaml:"-"`
	// Description says in a sentence or two what the scenario shows.
	Description string `yaml:"description"`
	// Services lists the services per host (keys: router, isp, client).
	// Each service has a fixed host; see Services.
	Services map[Host][]string `yaml:"services"`
	// Client configures the user's laptop.
	Client ClientSpec `yaml:"client"`
	// DHCP configures the router's DHCP server (service dhcp).
	DHCP DHCPSpec `yaml:"dhcp"`
	// Forwarder configures the router's own DNS forwarder (service
	// dns-forwarder).
	Forwarder ForwarderSpec `yaml:"forwarder"`
	// Attacker configures the rogue resolver (service attacker-resolver).
	Attacker AttackerSpec `yaml:"attacker"`
	// Identity holds the strings the router's services announce.
	Identity Identity `yaml:"identity"`
	// IPv6 adds the lab's IPv6 network (2001:db8::/32, see LAN6Prefix):
	// the v6 roles (client.lan6, router.lan6, router.wan6, isp.wan6,
	// attacker.resolver6) get their addresses and routes, and the router
	// forwards IPv6. Without it the v6 roles have no address.
	IPv6 bool `yaml:"ipv6"`
	// RA configures the router's IPv6 router advertisements (service ra).
	RA RASpec `yaml:"ra"`
	// Resolver configures the ISP's resolver (service resolver).
	Resolver ResolverSpec `yaml:"resolver"`
	// WANServices lists router services that also listen on router.wan,
	// reachable from the ISP side (remote management, an open resolver):
	// any of ssh, web, snmp, winbox, routeros-api, dns-forwarder.
	WANServices []string `yaml:"wan_services"`
	// Web configures the router's web UI beyond its identity (service web).
	Web WebSpec `yaml:"web"`
	// HostileDNS configures the hostile resolver (service hostile-dns).
	HostileDNS HostileDNSSpec `yaml:"hostile_dns"`
	// Hostile configures the hostile router services (service
	// hostile-device).
	Hostile HostileSpec `yaml:"hostile"`
	// TPLinkUI configures the live legacy TP-Link web UI (service
	// tplink-ui).
	TPLinkUI TPLinkUISpec `yaml:"tplink_ui"`
	// Expect holds facts that tests assert against the running lab.
	Expect Expect `yaml:"expect"`
}

// ClientSpec configures the client host.
type ClientSpec struct {
	// DHCPOnly leaves the client without an address and route until
	// Lab.DHCP runs. The default (false) gives it client.lan (10.77.0.10/24)
	// and a default route via the router at up.
	DHCPOnly bool `yaml:"dhcp_only"`
}

// DHCPSpec configures the router's DHCP server.
type DHCPSpec struct {
	// DNS is DHCP option 6, primary first: addresses or role names.
	DNS []string `yaml:"dns"`
}

// ForwarderSpec configures the router's DNS forwarder on router.dns.
type ForwarderSpec struct {
	// Upstream is where it forwards to (default isp.resolver).
	Upstream []string `yaml:"upstream"`
	// LocalDomain, if set, makes the forwarder what SOHO firmware usually
	// runs (OpenWrt's defaults, less rebind protection): names under the
	// domain are answered locally, router.<domain> is the router's LAN
	// address, and the DHCP server hands the domain out (option 15). Local
	// answers are authoritative with TTL 0, as dnsmasq gives them.
	LocalDomain string `yaml:"local_domain"`
}

// AttackerSpec configures the attacker's resolvers: attacker-resolver and
// attacker-resolver-2 (dnsmasq) and attacker-dnsdist (dnsdist) share it.
type AttackerSpec struct {
	// Upstream is the resolver they forward everything else to (default
	// isp.resolver), as the campaign's resolvers did to stay unnoticed.
	Upstream string `yaml:"upstream"`
	// Hijack lists the rewritten names; each rule also covers subdomains
	// (dnsmasq address=/name/addr, dnsdist SuffixMatchNodeRule).
	Hijack []HijackRule `yaml:"hijack"`
	// UnsignedZone sends corp.test to the attacker's own unsigned copy of
	// the zone (service attacker-auth) instead of upstream, so its
	// answers lose their RRSIGs; hijack rules under corp.test are then
	// written into that copy rather than answered by dnsmasq.
	UnsignedZone bool `yaml:"unsigned_zone"`
}

// HijackRule sends Names to To.
type HijackRule struct {
	Names []string `yaml:"names"`
	// To is an address or role (usually aitm.https). In attacker.hijack
	// it may be left out when DelayMS is set: the names are then only
	// held back and answered honestly.
	To string `yaml:"to"`
	// DelayMS holds the answers to these names back this many
	// milliseconds (dnsdist DelayAction; attacker-dnsdist only): a rogue
	// that waits out detectors with a short timeout, while its victims'
	// stubs wait longer (glibc: 5 s).
	DelayMS int `yaml:"delay_ms"`
	// HTTPS spoofs only the HTTPS record (type 65) of the names, with To
	// as its ipv4hint (attacker-dnsdist only): the A and AAAA answers
	// stay honest, and a browser that uses the hints connects to To.
	HTTPS bool `yaml:"https"`
	// Shapes limit the rule to questions of these shapes (all of them),
	// as a rogue that answers detectors honestly would (attacker-dnsdist
	// only; empty: every question): ShapeStub, ShapeNoDO, ShapeRD.
	Shapes []string `yaml:"shapes"`
}

// Question shapes an attacker rule can key on (HijackRule.Shapes), each
// a dnsdist selector.
const (
	// ShapeStub: questions without an OPT record, as glibc, Android and
	// Chrome's resolver send them (RecordsTypeCountRule: no OPT in the
	// additional section).
	ShapeStub = "stub"
	// ShapeNoDO: questions without the DNSSEC OK bit, with or without
	// OPT: every client but a validating one (NotRule(DNSSECRule())).
	ShapeNoDO = "no-do"
	// ShapeRD: questions with recursion desired, as every client sends
	// them and a cache-snooping scanner does not (RDRule()).
	ShapeRD = "rd"
)

// Shapes lists the shapes a rule can key on.
func Shapes() []string { return []string{ShapeStub, ShapeNoDO, ShapeRD} }

// Hijacks reports whether the rule rewrites its names' addresses (rather
// than only holding them back, or lying in HTTPS records only).
func (h HijackRule) Hijacks() bool { return h.To != "" && !h.HTTPS }

// RASpec configures the router's router advertisements on the LAN
// (service ra; needs ipv6).
type RASpec struct {
	// RDNSS lists the recursive DNS servers the RAs announce (RFC 8106),
	// as IPv6 addresses or v6 roles.
	RDNSS []string `yaml:"rdnss"`
	// DHCPv6 makes the router answer DHCPv6 Information-requests too
	// (stateless DHCPv6, RFC 8415 §18.2.6; the RAs then carry the O
	// flag), with the same servers as option 23. dnsmasq names one list
	// for both, so a DHCPv6-only hijack cannot be built with it.
	DHCPv6 bool `yaml:"dhcpv6"`
}

// ResolverSpec configures the ISP's resolver: the ways a real ISP's answers
// differ from the trusted resolver's without any attack.
type ResolverSpec struct {
	// Answers gives canary names other addresses than the trusted
	// resolver's, as a CDN does (unbound local-data).
	Answers []HijackRule `yaml:"answers"`
	// NXDomainRedirect rewrites names that do not exist to an address, as
	// ISPs with "search assistance" do.
	NXDomainRedirect *NXRedirect `yaml:"nxdomain_redirect"`
}

// NXRedirect rewrites nonexistent names under Zones to To.
type NXRedirect struct {
	// Zones are the parent zones (unbound local-zone redirect): every name
	// under them that is not served otherwise gets To. A zone that
	// contains corp.test leaves corp.test alone (it stays transparent).
	Zones []string `yaml:"zones"`
	// To is an address or role (usually isp.nxpage).
	To string `yaml:"to"`
}

// WebSpec configures the router's web UI.
type WebSpec struct {
	// UI is the kind of web UI: "basic-auth" (the default: everything
	// behind Basic auth with identity.web_realm), "login-page" (the index
	// page with identity.web_title served without authentication, as
	// RouterOS WebFig and most newer firmware do) or "tplink-legacy" (see
	// WebTPLinkLegacy).
	UI string `yaml:"ui"`
}

// Web UI kinds (WebSpec.UI).
const (
	WebBasicAuth = "basic-auth"
	WebLoginPage = "login-page"
	// WebTPLinkLegacy is a legacy TP-Link httpd as far as THREAT.md §4
	// describes it: everything behind Basic auth except /loginFs/, where
	// /loginFs/./dropbear/dropbearpwd answers like a TL-WR841N vulnerable
	// to CVE-2023-50224 (200, text/plain, "username:admin" and the MD5 of
	// "admin"; a lab fake of the credential file), and the real captured
	// pages (StatusRpm.htm, MenuRpm.htm, Index.htm under /userRpm/)
	// copied at up from the shared data, or a synthetic page saying so.
	WebTPLinkLegacy = "tplink-legacy"
)

// HostileDNSSpec configures the hostile resolver: which behaviour (see
// package fake, fake.DNSBehaviors) each query name gets.
type HostileDNSSpec struct {
	// Default is the behaviour for every name not in Names.
	Default string `yaml:"default"`
	// Names maps lowercase names to behaviours; a rule also covers
	// subdomains.
	Names map[string]string `yaml:"names"`
}

// HostileSpec configures the hostile router services on router.lan (see
// package fake, fake.DeviceBehavior).
type HostileSpec struct {
	// TCP and UDP map ports to behaviours.
	TCP map[uint16]string `yaml:"tcp"`
	UDP map[uint16]string `yaml:"udp"`
	// HTTP maps paths to behaviours on every "paths" port.
	HTTP map[string]string `yaml:"http"`
	// SSDP lists the description locations an M-SEARCH gets: "PORT/PATH".
	SSDP []string `yaml:"ssdp"`
}

// Identity is what the router's services say about the device. Empty fields
// take the values of DefaultIdentity.
type Identity struct {
	// WebServer is the HTTP Server header of the router's web UI.
	WebServer string `yaml:"web_server"`
	// WebRealm is the Basic-auth realm of the router's web UI.
	WebRealm string `yaml:"web_realm"`
	// WebTitle is the <title> of the web UI's page.
	WebTitle string `yaml:"web_title"`
	// TelnetBanner is printed before the telnet login prompt.
	TelnetBanner string `yaml:"telnet_banner"`
	// SNMPSysDescr, SNMPSysObjectID and SNMPSysName are the SNMP system group
	// (community "public").
	SNMPSysDescr    string `yaml:"snmp_sys_descr"`
	SNMPSysObjectID string `yaml:"snmp_sys_object_id"`
	SNMPSysName     string `yaml:"snmp_sys_name"`
	// UPnP* are the IGD description's device fields (miniupnpd).
	UPnPFriendlyName string `yaml:"upnp_friendly_name"`
	UPnPManufacturer string `yaml:"upnp_manufacturer"`
	UPnPModelName    string `yaml:"upnp_model_name"`
	UPnPModelNumber  string `yaml:"upnp_model_number"`
}

// DefaultIdentity is a generic router that matches no vendor fingerprint.
func DefaultIdentity() Identity {
	return Identity{
		WebServer:        "lighttpd",
		WebRealm:         "Router",
		WebTitle:         "Router",
		TelnetBanner:     "Router",
		SNMPSysDescr:     "Linux router",
		SNMPSysObjectID:  ".1.3.6.1.4.1.8072.3.2.10",
		SNMPSysName:      "router",
		UPnPFriendlyName: "Router",
		UPnPManufacturer: "Router",
		UPnPModelName:    "Router",
		UPnPModelNumber:  "1",
	}
}

// DHCPDNS returns dhcp.dns resolved to addresses (option 6, primary first).
func (s *Scenario) DHCPDNS() []netip.Addr {
	out := make([]netip.Addr, 0, len(s.DHCP.DNS))
	for _, a := range s.DHCP.DNS {
		out = append(out, resolve(a))
	}
	return out
}

// HijackTarget returns where the attacker's resolver sends name (or a
// subdomain of a hijacked name), and whether it rewrites it at all.
func (s *Scenario) HijackTarget(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, h := range s.Attacker.Hijack {
		if !h.Hijacks() {
			continue
		}
		for _, n := range h.Names {
			if name == n || strings.HasSuffix(name, "."+n) {
				return resolve(h.To), true
			}
		}
	}
	return netip.Addr{}, false
}

// HTTPSHint returns the hint the attacker's HTTPS-only rule (attacker
// https) gives name, and whether one does.
func (s *Scenario) HTTPSHint(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, h := range s.Attacker.Hijack {
		if h.HTTPS && slices.ContainsFunc(h.Names, func(n string) bool { return name == n || strings.HasSuffix(name, "."+n) }) {
			return resolve(h.To), true
		}
	}
	return netip.Addr{}, false
}

// HasService reports whether the scenario runs the named service.
func (s *Scenario) HasService(name string) bool {
	for _, list := range s.Services {
		if slices.Contains(list, name) {
			return true
		}
	}
	return false
}

//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// ErrUnknownScenario reports a scenario name that is not embedded.
var ErrUnknownScenario = errors.New("unknown scenario")

// ScenarioNames lists the embedded scenarios, sorted.
func ScenarioNames() []string {
	ents, _ := fs.ReadDir(scenarioFS, "scenarios") // embedded: cannot fail
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// LoadScenario decodes and validates the embedded scenario name.
func LoadScenario(name string) (*Scenario, error) {
	if !scenarioNameRE.MatchString(name) {
		return nil, fmt.Errorf("lab: %w %q (known: %s)", ErrUnknownScenario, name, strings.Join(ScenarioNames(), ", "))
	}
	data, err := scenarioFS.ReadFile(path.Join("scenarios", name+".yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab: %w %q (known: %s)", ErrUnknownScenario, name, strings.Join(ScenarioNames(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return ParseScenario(name+".yaml", data)
}

// Scenarios loads every embedded scenario.
func Scenarios() ([]*Scenario, error) {
	var out []*Scenario
	for _, n := range ScenarioNames() {
		s, err := LoadScenario(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var scenarioNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseScenario decodes one scenario document strictly (unknown fields are
// errors) and validates it. file names the document in errors; the scenario
// name is file without ".yaml".
func ParseScenario(file string, data []byte) (*Scenario, error) {
	s := &Scenario{Name: strings.TrimSuffix(path.Base(file), ".yaml")}
	if err := config.DecodeStrict(data, s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", file, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", file, err)
	}
	return s, nil
}

var (
	dnsNameRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	oidRE     = regexp.MustCompile(`^(\.[0-9]+){2,}$`)
	// zoneRE also accepts single labels (invalid, test, lan).
	zoneRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// validate checks every field, reports the first invalid one by its path,
// and fills defaults.
func (s *Scenario) validate() error {
	if strings.TrimSpace(s.Description) == "" {
		return errors.New("description: must not be empty")
	}
	if len(s.Services) == 0 {
		return errors.New("services: must list at least one service")
	}
	seen := map[string]bool{}
	for _, h := range sortedHosts(s.Services) {
		if !slices.Contains(Hosts(), h) {
			return fmt.Errorf("services: unknown host %q (known: client, router, isp)", h)
		}
		for i, name := range s.Services[h] {
			field := fmt.Sprintf("services.%s[%d]", h, i)
			sv, ok := serviceByName(name)
			if !ok {
				return fmt.Errorf("%s: unknown service %q (known: %s)", field, name, strings.Join(ServiceNames(), ", "))
			}
			if sv.host != h {
				return fmt.Errorf("%s: service %q runs on host %s, not %s", field, name, sv.host, h)
			}
			if seen[name] {
				return fmt.Errorf("%s: service %q listed twice", field, name)
			}
			seen[name] = true
		}
	}

	if err := s.checkSection("dhcp", len(s.DHCP.DNS) > 0, "dhcp"); err != nil {
		return err
	}
	if s.HasService("dhcp") && len(s.DHCP.DNS) == 0 {
		return errors.New("dhcp.dns: service dhcp needs at least one DNS server")
	}
	for i, a := range s.DHCP.DNS {
		if err := s.checkAddr(fmt.Sprintf("dhcp.dns[%d]", i), a); err != nil {
			return err
		}
		if !resolve(a).Is4() {
			return fmt.Errorf("dhcp.dns[%d]: %q is not an IPv4 address (DHCPv4 option 6)", i, a)
		}
	}

	if err := s.checkSection("forwarder", len(s.Forwarder.Upstream) > 0, "dns-forwarder"); err != nil {
		return err
	}
	if s.HasService("dns-forwarder") && len(s.Forwarder.Upstream) == 0 {
		s.Forwarder.Upstream = []string{"isp.resolver"}
	}
	for i, a := range s.Forwarder.Upstream {
		if err := s.checkAddr(fmt.Sprintf("forwarder.upstream[%d]", i), a); err != nil {
			return err
		}
	}

	if err := s.validateAttacker(); err != nil {
		return err
	}
	if err := s.validateIPv6(); err != nil {
		return err
	}
	if err := s.validateResolver(); err != nil {
		return err
	}
	if err := s.validateRouter(); err != nil {
		return err
	}
	if err := s.validateHostile(); err != nil {
		return err
	}
	if err := s.validateLive(); err != nil {
		return err
	}
	if err := s.Identity.validate(); err != nil {
		return err
	}
	return s.Expect.validate()
}

// attackerServices are the services that read the attacker section.
var attackerServices = []string{"attacker-resolver", "attacker-resolver-2", "attacker-dnsdist"}

func (s *Scenario) validateAttacker() error {
	set := s.Attacker.Upstream != "" || len(s.Attacker.Hijack) > 0 || s.Attacker.UnsignedZone
	if err := s.checkSection("attacker", set, attackerServices...); err != nil {
		return err
	}
	if s.HasService("attacker-auth") != s.Attacker.UnsignedZone {
		return errors.New("attacker.unsigned_zone: set it exactly when service attacker-auth runs (the unsigned copy of corp.test)")
	}
	if slices.ContainsFunc(attackerServices, s.HasService) {
		if s.Attacker.Upstream == "" {
			s.Attacker.Upstream = "isp.resolver"
		}
		if err := s.checkAddr("attacker.upstream", s.Attacker.Upstream); err != nil {
			return err
		}
	}
	dnsmasq := s.HasService("attacker-resolver") || s.HasService("attacker-resolver-2")
	for i, r := range s.Attacker.Hijack {
		field := fmt.Sprintf("attacker.hijack[%d]", i)
		switch {
		case (r.DelayMS != 0 || len(r.Shapes) > 0 || r.HTTPS) && (dnsmasq || !s.HasService("attacker-dnsdist")):
			return fmt.Errorf("%s: delay_ms, shapes and https need service attacker-dnsdist alone (dnsmasq can do none)", field)
		case r.DelayMS < 0 || r.DelayMS > 10000:
			return fmt.Errorf("%s.delay_ms: %d, want 0 to 10000", field, r.DelayMS)
		}
		for j, sh := range r.Shapes {
			if !slices.Contains(Shapes(), sh) {
				return fmt.Errorf("%s.shapes[%d]: %q, want one of %s", field, j, sh, strings.Join(Shapes(), ", "))
			}
		}
	}
	if err := s.checkRules("attacker.hijack", s.Attacker.Hijack); err != nil {
		return err
	}
	for i, r := range s.Attacker.Hijack {
		if r.HTTPS && (r.To == "" || !resolve(r.To).Is4()) {
			return fmt.Errorf("attacker.hijack[%d].https: needs an IPv4 address or role in to (the hint)", i)
		}
	}
	return nil
}

// checkRules validates name → address rules (attacker.hijack,
// resolver.answers).
func (s *Scenario) checkRules(section string, rules []HijackRule) error {
	for i, r := range rules {
		field := fmt.Sprintf("%s[%d]", section, i)
		if section != "attacker.hijack" && (r.DelayMS != 0 || len(r.Shapes) > 0 || r.HTTPS) {
			return fmt.Errorf("%s: delay_ms, shapes and https are for attacker.hijack only", field)
		}
		if r.To == "" && r.DelayMS > 0 && section == "attacker.hijack" {
			// Held back only: nothing to resolve.
			if len(r.Names) == 0 {
				return fmt.Errorf("%s.names: must list at least one name", field)
			}
			continue
		}
		if len(r.Names) == 0 {
			return fmt.Errorf("%s.names: must list at least one name", field)
		}
		for j, n := range r.Names {
			if !dnsNameRE.MatchString(n) {
				return fmt.Errorf("%s.names[%d]: %q is not a lowercase DNS name", field, j, n)
			}
		}
		if r.To == "" {
			return fmt.Errorf("%s.to: must name an address or role", field)
		}
		if err := s.checkAddr(field+".to", r.To); err != nil {
			return err
		}
	}
	return nil
}

func (s *Scenario) validateIPv6() error {
	if err := s.checkSection("ra", len(s.RA.RDNSS) > 0, "ra"); err != nil {
		return err
	}
	if s.HasService("ra") {
		if !s.IPv6 {
			return errors.New("services: service ra needs ipv6: true")
		}
		if len(s.RA.RDNSS) == 0 {
			return errors.New("ra.rdnss: service ra needs at least one DNS server")
		}
	}
	if s.RA.DHCPv6 && !s.HasService("ra") {
		return errors.New("ra.dhcpv6: needs service ra on the router")
	}
	for i, a := range s.RA.RDNSS {
		field := fmt.Sprintf("ra.rdnss[%d]", i)
		if err := s.checkAddr(field, a); err != nil {
			return err
		}
		if !resolve(a).Is6() {
			return fmt.Errorf("%s: %q is not an IPv6 address", field, a)
		}
	}
	return nil
}

func (s *Scenario) validateResolver() error {
	r := s.Resolver
	if err := s.checkSection("resolver", len(r.Answers) > 0 || r.NXDomainRedirect != nil, "resolver"); err != nil {
		return err
	}
	if err := s.checkRules("resolver.answers", r.Answers); err != nil {
		return err
	}
	if nx := r.NXDomainRedirect; nx != nil {
		if len(nx.Zones) == 0 {
			return errors.New("resolver.nxdomain_redirect.zones: must list at least one zone")
		}
		for i, z := range nx.Zones {
			if !zoneRE.MatchString(z) {
				return fmt.Errorf("resolver.nxdomain_redirect.zones[%d]: %q is not a lowercase DNS name", i, z)
			}
		}
		if err := s.checkAddr("resolver.nxdomain_redirect.to", nx.To); err != nil {
			return err
		}
	}
	return nil
}

// wanCapable are the services that can also listen on router.wan.
var wanCapable = []string{"ssh", "web", "snmp", "winbox", "routeros-api", "routeros-api-live", "dns-forwarder"}

func (s *Scenario) validateRouter() error {
	if err := s.checkSection("forwarder", s.Forwarder.LocalDomain != "", "dns-forwarder"); err != nil {
		return err
	}
	if d := s.Forwarder.LocalDomain; d != "" && !zoneRE.MatchString(d) {
		return fmt.Errorf("forwarder.local_domain: %q is not a lowercase DNS name", d)
	}
	for i, sv := range s.WANServices {
		field := fmt.Sprintf("wan_services[%d]", i)
		if !slices.Contains(wanCapable, sv) {
			return fmt.Errorf("%s: %q cannot listen on the WAN (one of %s)", field, sv, strings.Join(wanCapable, ", "))
		}
		if !s.HasService(sv) {
			return fmt.Errorf("%s: service %s is not in services.router", field, sv)
		}
	}
	if err := s.checkSection("web", s.Web.UI != "", "web"); err != nil {
		return err
	}
	switch s.Web.UI {
	case "":
		s.Web.UI = WebBasicAuth
	case WebBasicAuth, WebLoginPage, WebTPLinkLegacy:
	default:
		return fmt.Errorf("web.ui: %q is not one of %s, %s, %s", s.Web.UI, WebBasicAuth, WebLoginPage, WebTPLinkLegacy)
	}
	return nil
}

func (s *Scenario) validateHostile() error {
	h := s.HostileDNS
	if err := s.checkSection("hostile_dns", h.Default != "" || len(h.Names) > 0, "hostile-dns"); err != nil {
		return err
	}
	if s.HasService("hostile-dns") {
		c := s.hostileDNSConfig()
		if err := c.Validate(); err != nil {
			return fmt.Errorf("hostile_dns: %w", err)
		}
		for n := range h.Names {
			if !dnsNameRE.MatchString(n) {
				return fmt.Errorf("hostile_dns.names: %q is not a lowercase DNS name", n)
			}
		}
	}
	d := s.Hostile
	if err := s.checkSection("hostile", len(d.TCP)+len(d.UDP)+len(d.HTTP)+len(d.SSDP) > 0, "hostile-device"); err != nil {
		return err
	}
	if s.HasService("hostile-device") {
		c := s.hostileDeviceConfig()
		if err := c.Validate(); err != nil {
			return fmt.Errorf("hostile: %w", err)
		}
	}
	return nil
}

// hostileDNSConfig is the hostile resolver's configuration.
func (s *Scenario) hostileDNSConfig() fake.DNSConfig {
	c := fake.DNSConfig{
		Listen:    netip.AddrPortFrom(RoleAddr("hostile.dns"), 53),
		SpoofFrom: netip.AddrPortFrom(RoleAddr("hostile.dns.spoof"), 53),
		Answer:    RoleAddr("aitm.https"),
		Default:   fake.DNSBehavior(s.HostileDNS.Default),
		Names:     map[string]fake.DNSBehavior{},
	}
	for n, b := range s.HostileDNS.Names {
		c.Names[n] = fake.DNSBehavior(b)
	}
	return c
}

// hostileDeviceConfig is the hostile router services' configuration.
func (s *Scenario) hostileDeviceConfig() fake.DeviceConfig {
	c := fake.DeviceConfig{Addr: RoleAddr("router.lan"), TCP: map[uint16]fake.DeviceBehavior{},
		UDP: map[uint16]fake.DeviceBehavior{}, HTTP: map[string]fake.DeviceBehavior{}, SSDP: s.Hostile.SSDP}
	for p, b := range s.Hostile.TCP {
		c.TCP[p] = fake.DeviceBehavior(b)
	}
	for p, b := range s.Hostile.UDP {
		c.UDP[p] = fake.DeviceBehavior(b)
	}
	for p, b := range s.Hostile.HTTP {
		c.HTTP[p] = fake.DeviceBehavior(b)
	}
	return c
}

// NeedsExecutable reports whether the scenario runs a fake, which the lab
// starts from the routerwatch binary (see Options.Executable).
func (s *Scenario) NeedsExecutable() bool {
	return s.HasService("hostile-dns") || s.HasService("hostile-device") || s.liveUI() != ""
}

// checkSection rejects configuration for services the scenario does not
// run: set must be false unless one of services runs.
func (s *Scenario) checkSection(section string, set bool, services ...string) error {
	if set && !slices.ContainsFunc(services, s.HasService) {
		return fmt.Errorf("%s: configured, but service %s is not in services.%s", section, strings.Join(services, " or "), mustService(services[0]).host)
	}
	return nil
}

// checkAddr accepts an IP literal or a role the scenario serves.
func (s *Scenario) checkAddr(field, v string) error {
	if _, err := netip.ParseAddr(v); err == nil {
		return nil
	}
	r, ok := roleByName(v)
	if !ok {
		return fmt.Errorf("%s: %q is neither an IP address nor a role (roles: %s)", field, v, strings.Join(Roles(), ", "))
	}
	if r.service != "" && !s.HasService(r.service) {
		return fmt.Errorf("%s: role %s needs service %s, which is not in services.%s", field, v, r.service, mustService(r.service).host)
	}
	if r.addr.Is6() && !s.IPv6 {
		return fmt.Errorf("%s: role %s is an IPv6 address: it needs ipv6: true", field, v)
	}
	return nil
}

// resolve turns a validated address field into an address.
func resolve(v string) netip.Addr {
	if a, err := netip.ParseAddr(v); err == nil {
		return a
	}
	r, _ := roleByName(v)
	return r.addr
}

func (id *Identity) validate() error {
	d := DefaultIdentity()
	fields := []struct {
		name string
		v    *string
		def  string
	}{
		{"web_server", &id.WebServer, d.WebServer},
		{"web_realm", &id.WebRealm, d.WebRealm},
		{"web_title", &id.WebTitle, d.WebTitle},
		{"telnet_banner", &id.TelnetBanner, d.TelnetBanner},
		{"snmp_sys_descr", &id.SNMPSysDescr, d.SNMPSysDescr},
		{"snmp_sys_object_id", &id.SNMPSysObjectID, d.SNMPSysObjectID},
		{"snmp_sys_name", &id.SNMPSysName, d.SNMPSysName},
		{"upnp_friendly_name", &id.UPnPFriendlyName, d.UPnPFriendlyName},
		{"upnp_manufacturer", &id.UPnPManufacturer, d.UPnPManufacturer},
		{"upnp_model_name", &id.UPnPModelName, d.UPnPModelName},
		{"upnp_model_number", &id.UPnPModelNumber, d.UPnPModelNumber},
	}
	for _, f := range fields {
		if *f.v == "" {
			*f.v = f.def
			continue
		}
		// The strings go into daemon configuration files: keep them on one
		// line and free of quoting characters.
		for _, r := range *f.v {
			if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '$' || r == '`' {
				return fmt.Errorf("identity.%s: %q: control characters, quotes, backslashes, $ and ` are not allowed", f.name, *f.v)
			}
		}
		if len(*f.v) > 200 {
			return fmt.Errorf("identity.%s: longer than 200 characters", f.name)
		}
	}
	if !oidRE.MatchString(id.SNMPSysObjectID) {
		return fmt.Errorf("identity.snmp_sys_object_id: %q is not a dotted OID such as .1.3.6.1.4.1.11863.1", id.SNMPSysObjectID)
	}
	return nil
}

func sortedHosts(m map[Host][]string) []Host {
	hs := make([]Host, 0, len(m))
	for h := range m {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}
