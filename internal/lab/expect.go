// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Expect are facts about a scenario that tests assert. Addresses are IP
// literals: they state what is on the wire, independent of the role table.
type Expect struct {
	// DHCPDNS is the DNS server list (option 6) a DHCP client must receive,
	// in order.
	DHCPDNS []string `yaml:"dhcp_dns"`
	// RARDNSS is the RDNSS list (RFC 8106) of the router's advertisement,
	// in order; empty when the scenario sends no RA.
	RARDNSS []string `yaml:"ra_rdnss"`
	// DHCPv6DNS is the DNS server list (option 23) of the router's reply
	// to a DHCPv6 Information-request, in order; empty when it serves no
	// DHCPv6.
	DHCPv6DNS []string `yaml:"dhcpv6_dns"`
	// Hijacked lists the canary names (see Records) that the DHCP primary
	// resolver answers with an address other than the trusted resolver's
	// and that does not serve a certificate valid for the name (lab CA):
	// interception. It equals the primary's resolvers[].hijacked.
	Hijacked []string `yaml:"hijacked"`
	// Resolvers states, for every resolver a client is handed (dhcp_dns and
	// ra_rdnss), what it does and what a DNS checker should conclude.
	Resolvers []ResolverExpect `yaml:"resolvers"`
	// Exposure lists the router's open ports, from each side.
	Exposure *ExposureExpect `yaml:"exposure"`
	// HTTP lists requests to the router's web UI and their answers.
	HTTP []HTTPExpect `yaml:"http"`
}

// Resolver verdicts (ResolverExpect.Verdict): what a DNS checker should
// conclude about one resolver.
const (
	// VerdictClean: answers as the trusted resolver does, or differs only
	// in ways that are not an attack (CDN answers that serve valid
	// certificates, NXDOMAIN rewriting).
	VerdictClean = "clean"
	// VerdictHijacked: lies about names that matter.
	VerdictHijacked = "hijacked"
	// VerdictUnknown: cannot be judged (its replies are broken); the
	// checker must say so with reasons, and never crash or hang.
	VerdictUnknown = "unknown"
	// VerdictSuspicious: nothing proves a lie, but it behaves like a
	// rogue: it holds the names that matter back (answers them late)
	// while it answers the rest at once.
	VerdictSuspicious = "suspicious"
)

// ResolverExpect is what one resolver does. Canary names not in Hijacked
// or Variant must get exactly the trusted resolver's answer.
type ResolverExpect struct {
	// Server is the resolver's address (port 53).
	Server string `yaml:"server"`
	// Verdict is clean, hijacked or unknown.
	Verdict string `yaml:"verdict"`
	// Hijacked: canary names answered with another address than the
	// trusted resolver's, whose HTTPS certificate is not valid for the
	// name (lab CA).
	Hijacked []string `yaml:"hijacked"`
	// Variant: canary names answered with another address than the
	// trusted resolver's that does serve a valid certificate (a CDN, or an
	// attacker holding a valid certificate).
	Variant []string `yaml:"variant"`
	// DNSSECUnsigned: names in corp.test that come back (queried with the
	// DO bit) without RRSIG and without AD, while the trusted resolver
	// returns them signed and validated. Other corp.test canaries keep
	// their RRSIGs.
	DNSSECUnsigned []string `yaml:"dnssec_unsigned"`
	// NXDomainRedirect: a random label under each of Parents gets To
	// instead of NXDOMAIN. Without it, a random label under invalid. is
	// NXDOMAIN.
	NXDomainRedirect *NXExpect `yaml:"nxdomain_redirect"`
	// VersionBind is a prefix of the CHAOS TXT version.bind answer (""
	// skips the check).
	VersionBind string `yaml:"version_bind"`
	// DoT: the resolver also answers DNS over TLS on port 853, with the
	// same answers, under a certificate not valid for the lab CA.
	DoT bool `yaml:"dot"`
	// Answers are other names the resolver answers with exactly these
	// addresses (for example its own local names).
	Answers map[string]string `yaml:"answers"`
	// Hostile: it is the hostile resolver: its replies follow hostile_dns,
	// and no answer check applies.
	Hostile bool `yaml:"hostile"`
	// HTTPSHijacked: canary names whose HTTPS record (type 65) alone it
	// forges (attacker https), with a hint to an address that does not
	// serve a valid certificate for the name; their A and AAAA answers
	// are honest.
	HTTPSHijacked []string `yaml:"https_hijacked"`
	// Delayed: canary names whose answers it holds back (attacker
	// delay_ms) while it answers other names at once.
	Delayed []string `yaml:"delayed"`
	// DelayMS is how long it holds them back.
	DelayMS int `yaml:"delay_ms"`
}

// NXExpect is an NXDOMAIN rewrite as seen by a client.
type NXExpect struct {
	// Parents are the names under which random labels are rewritten.
	Parents []string `yaml:"parents"`
	// To is the address they get.
	To string `yaml:"to"`
}

// ExposureExpect lists open ports as "tcp/22" or "udp/161". A port the
// tests probe that is not listed must be closed: a TCP reset, an ICMP port
// unreachable for UDP. A listed UDP port is open as UDP scanners say it:
// no port unreachable (a reply, or silence).
type ExposureExpect struct {
	// LAN: ports open on router.lan, seen from the client.
	LAN []string `yaml:"lan"`
	// WAN: ports open on router.wan, seen from the ISP.
	WAN []string `yaml:"wan"`
}

// HTTPExpect is one request to the router's web UI (router.lan) and what
// it must get.
type HTTPExpect struct {
	// Port is the TCP port (default 80).
	Port uint16 `yaml:"port"`
	// Path is sent as is (not cleaned: /a/./b stays).
	Path string `yaml:"path"`
	// Auth is "user:password" for Basic auth; empty sends none.
	Auth string `yaml:"auth"`
	// Status is the expected status code.
	Status int `yaml:"status"`
	// ContentType, if set, is the expected Content-Type.
	ContentType string `yaml:"content_type"`
	// Body, if set, is the exact expected body.
	Body string `yaml:"body"`
}

// ResolverExpectation returns the expect.resolvers entry of the resolver at
// a, if the scenario has one.
func (s *Scenario) ResolverExpectation(a netip.Addr) (ResolverExpect, bool) {
	for _, r := range s.Expect.Resolvers {
		if netip.MustParseAddr(r.Server) == a { // validated at load
			return r, true
		}
	}
	return ResolverExpect{}, false
}

// ExpectedDHCPDNS returns Expect.DHCPDNS parsed.
func (s *Scenario) ExpectedDHCPDNS() []netip.Addr {
	out := make([]netip.Addr, 0, len(s.Expect.DHCPDNS))
	for _, a := range s.Expect.DHCPDNS {
		out = append(out, netip.MustParseAddr(a)) // validated at load
	}
	return out
}

// portRE matches an exposure entry: tcp/PORT or udp/PORT.
var portRE = regexp.MustCompile(`^(tcp|udp)/([1-9][0-9]{0,4})$`)

func (e *Expect) validate() error {
	for i, a := range e.DHCPDNS {
		if _, err := netip.ParseAddr(a); err != nil {
			return fmt.Errorf("expect.dhcp_dns[%d]: %q is not an IP address", i, a)
		}
	}
	for i, a := range e.RARDNSS {
		if ad, err := netip.ParseAddr(a); err != nil || !ad.Is6() {
			return fmt.Errorf("expect.ra_rdnss[%d]: %q is not an IPv6 address", i, a)
		}
	}
	for i, a := range e.DHCPv6DNS {
		if ad, err := netip.ParseAddr(a); err != nil || !ad.Is6() {
			return fmt.Errorf("expect.dhcpv6_dns[%d]: %q is not an IPv6 address", i, a)
		}
	}
	if err := checkNames("expect.hijacked", e.Hijacked); err != nil {
		return err
	}
	for i, r := range e.Resolvers {
		field := fmt.Sprintf("expect.resolvers[%d]", i)
		if _, err := netip.ParseAddr(r.Server); err != nil {
			return fmt.Errorf("%s.server: %q is not an IP address", field, r.Server)
		}
		if verdicts := []string{VerdictClean, VerdictHijacked, VerdictSuspicious, VerdictUnknown}; !slices.Contains(verdicts, r.Verdict) {
			return fmt.Errorf("%s.verdict: %q is not one of %s", field, r.Verdict, strings.Join(verdicts, ", "))
		}
		for _, l := range []struct {
			name  string
			names []string
		}{{"hijacked", r.Hijacked}, {"variant", r.Variant}, {"dnssec_unsigned", r.DNSSECUnsigned}, {"delayed", r.Delayed}, {"https_hijacked", r.HTTPSHijacked}} {
			if err := checkNames(field+"."+l.name, l.names); err != nil {
				return err
			}
		}
		if nx := r.NXDomainRedirect; nx != nil {
			for j, p := range nx.Parents {
				if !zoneRE.MatchString(p) {
					return fmt.Errorf("%s.nxdomain_redirect.parents[%d]: %q is not a lowercase DNS name", field, j, p)
				}
			}
			if _, err := netip.ParseAddr(nx.To); err != nil || len(nx.Parents) == 0 {
				return fmt.Errorf("%s.nxdomain_redirect: want parents and an IP address in to", field)
			}
		}
		for n, a := range r.Answers {
			if _, err := netip.ParseAddr(a); err != nil || !zoneRE.MatchString(n) {
				return fmt.Errorf("%s.answers: %s: %s: want a lowercase name and an IP address", field, n, a)
			}
		}
	}
	if x := e.Exposure; x != nil {
		for _, l := range []struct {
			name  string
			ports []string
		}{{"lan", x.LAN}, {"wan", x.WAN}} {
			for i, p := range l.ports {
				if m := portRE.FindStringSubmatch(p); m == nil || len(m[2]) == 5 && m[2] > "65535" {
					return fmt.Errorf("expect.exposure.%s[%d]: %q is not tcp/PORT or udp/PORT", l.name, i, p)
				}
			}
		}
	}
	for i, h := range e.HTTP {
		field := fmt.Sprintf("expect.http[%d]", i)
		if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \r\n") {
			return fmt.Errorf("%s.path: %q is not an absolute path", field, h.Path)
		}
		if h.Status < 100 || h.Status > 599 {
			return fmt.Errorf("%s.status: %d is not an HTTP status", field, h.Status)
		}
		if h.Auth != "" && !strings.Contains(h.Auth, ":") {
			return fmt.Errorf("%s.auth: want user:password", field)
		}
	}
	return nil
}

func checkNames(field string, names []string) error {
	for i, n := range names {
		if !dnsNameRE.MatchString(n) {
			return fmt.Errorf("%s[%d]: %q is not a lowercase DNS name", field, i, n)
		}
	}
	return nil
}
