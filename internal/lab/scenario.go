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
}

// AttackerSpec configures the attacker's selective-hijack resolver.
type AttackerSpec struct {
	// Upstream is the resolver it forwards everything else to (default
	// isp.resolver), as the campaign's resolvers did to stay unnoticed.
	Upstream string `yaml:"upstream"`
	// Hijack lists the rewritten names; each rule also covers subdomains
	// (dnsmasq address=/name/addr).
	Hijack []HijackRule `yaml:"hijack"`
}

// HijackRule sends Names to To.
type HijackRule struct {
	Names []string `yaml:"names"`
	// To is an address or role (usually aitm.https).
	To string `yaml:"to"`
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

// Expect are facts about a scenario that tests assert.
type Expect struct {
	// DHCPDNS is the DNS server list (option 6) a DHCP client must receive,
	// in order, as IP literals.
	DHCPDNS []string `yaml:"dhcp_dns"`
	// Hijacked lists the names for which the DHCP primary resolver's answer
	// differs from the trusted resolver's. Every other canary name (see
	// Records) must get the same answer from both.
	Hijacked []string `yaml:"hijacked"`
}

// ExpectedDHCPDNS returns Expect.DHCPDNS parsed.
func (s *Scenario) ExpectedDHCPDNS() []netip.Addr {
	out := make([]netip.Addr, 0, len(s.Expect.DHCPDNS))
	for _, a := range s.Expect.DHCPDNS {
		out = append(out, netip.MustParseAddr(a)) // validated at load
	}
	return out
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
		for _, n := range h.Names {
			if name == n || strings.HasSuffix(name, "."+n) {
				return resolve(h.To), true
			}
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

	if err := s.checkSection("dhcp", "dhcp", len(s.DHCP.DNS) > 0); err != nil {
		return err
	}
	if s.HasService("dhcp") && len(s.DHCP.DNS) == 0 {
		return errors.New("dhcp.dns: service dhcp needs at least one DNS server")
	}
	for i, a := range s.DHCP.DNS {
		if err := s.checkAddr(fmt.Sprintf("dhcp.dns[%d]", i), a); err != nil {
			return err
		}
	}

	if err := s.checkSection("forwarder", "dns-forwarder", len(s.Forwarder.Upstream) > 0); err != nil {
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

	if err := s.checkSection("attacker", "attacker-resolver", s.Attacker.Upstream != "" || len(s.Attacker.Hijack) > 0); err != nil {
		return err
	}
	if s.HasService("attacker-resolver") {
		if s.Attacker.Upstream == "" {
			s.Attacker.Upstream = "isp.resolver"
		}
		if err := s.checkAddr("attacker.upstream", s.Attacker.Upstream); err != nil {
			return err
		}
	}
	for i, r := range s.Attacker.Hijack {
		field := fmt.Sprintf("attacker.hijack[%d]", i)
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

	if err := s.Identity.validate(); err != nil {
		return err
	}

	for i, a := range s.Expect.DHCPDNS {
		if _, err := netip.ParseAddr(a); err != nil {
			return fmt.Errorf("expect.dhcp_dns[%d]: %q is not an IP address", i, a)
		}
	}
	for i, n := range s.Expect.Hijacked {
		if !dnsNameRE.MatchString(n) {
			return fmt.Errorf("expect.hijacked[%d]: %q is not a lowercase DNS name", i, n)
		}
	}
	return nil
}

// checkSection rejects configuration for a service the scenario does not run.
func (s *Scenario) checkSection(section, service string, set bool) error {
	if set && !s.HasService(service) {
		return fmt.Errorf("%s: configured, but service %s is not in services.%s", section, service, mustService(service).host)
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
