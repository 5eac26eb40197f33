// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"net/netip"
	"slices"
	"sort"
)

// Host is one machine of the lab, each in its own network namespace.
type Host string

// The lab's hosts.
const (
	// Client is the user's laptop: eth0 on the LAN.
	Client Host = "client"
	// Router is the SOHO router: lan0 (LAN) and wan0 (to the ISP).
	Router Host = "router"
	// ISP is the ISP and "the Internet", a dead end: eth0 to the router's
	// WAN, the Internet's service addresses on lo.
	ISP Host = "isp"
)

// Hosts lists the lab's hosts in creation order.
func Hosts() []Host { return []Host{Client, Router, ISP} }

// short is the namespace suffix of h.
func (h Host) short() string {
	switch h {
	case Client:
		return "cli"
	case Router:
		return "rtr"
	default:
		return "isp"
	}
}

// Interface names inside the namespaces (each namespace has its own, so
// parallel labs never collide).
const (
	clientIf    = "eth0" // client, LAN side
	routerLANIf = "lan0" // router, LAN side
	routerWANIf = "wan0" // router, WAN side
	ispIf       = "eth0" // isp, towards the router
)

// Prefixes of the lab's links.
var (
	LANPrefix = netip.MustParsePrefix("10.77.0.0/24")
	WANPrefix = netip.MustParsePrefix("198.51.100.0/24")
	// InternetPrefix holds the Internet's service addresses (on the ISP's lo).
	InternetPrefix = netip.MustParsePrefix("203.0.113.0/24")
)

// IPv6 prefixes, used only by scenarios with ipv6: true. All are inside
// the documentation prefix 2001:db8::/32 (RFC 3849); the digits echo the
// IPv4 plan (77 for the LAN, 198 for the WAN, 203 for the Internet).
var (
	LAN6Prefix      = netip.MustParsePrefix("2001:db8:77::/64")
	WAN6Prefix      = netip.MustParsePrefix("2001:db8:198::/64")
	Internet6Prefix = netip.MustParsePrefix("2001:db8:203::/64")
)

// role is a named address of the lab.
type role struct {
	name    string
	host    Host
	addr    netip.Addr
	service string // the service that answers there; "" = the host itself
	doc     string
}

// roles is the one table of lab addresses. Addresses are the same in every
// lab; namespaces keep parallel labs apart.
var roles = []role{
	{"client.lan", Client, netip.MustParseAddr("10.77.0.10"), "", "the client's static LAN address (unless client.dhcp_only)"},
	{"client.lan6", Client, netip.MustParseAddr("2001:db8:77::10"), "", "the client's static IPv6 LAN address (ipv6 scenarios)"},
	{"router.lan", Router, netip.MustParseAddr("10.77.0.1"), "", "the router's LAN address: gateway, DHCP server, web UI, SSH, telnet, SNMP, UPnP"},
	{"router.lan6", Router, netip.MustParseAddr("2001:db8:77::1"), "", "the router's IPv6 LAN address and IPv6 gateway; router advertisements come from fe80::1 (ipv6 scenarios)"},
	{"router.wan", Router, netip.MustParseAddr("198.51.100.2"), "", "the router's WAN address (services listed in wan_services also listen here)"},
	{"router.wan6", Router, netip.MustParseAddr("2001:db8:198::2"), "", "the router's IPv6 WAN address (ipv6 scenarios)"},
	{"router.dns", Router, netip.MustParseAddr("10.77.0.1"), "dns-forwarder", "the router's own DNS forwarder (dnsmasq)"},
	{"isp.wan", ISP, netip.MustParseAddr("198.51.100.1"), "", "the ISP's side of the WAN link (the router's default gateway)"},
	{"isp.wan6", ISP, netip.MustParseAddr("2001:db8:198::1"), "", "the ISP's IPv6 side of the WAN link (the router's IPv6 default gateway; ipv6 scenarios)"},
	{"isp.resolver", ISP, netip.MustParseAddr("198.51.100.53"), "resolver", "the ISP's legitimate, validating resolver (unbound)"},
	{"isp.auth", ISP, netip.MustParseAddr("203.0.113.2"), "authoritative", "the authoritative server of the DNSSEC-signed zone corp.test (nsd)"},
	{"isp.nxpage", ISP, netip.MustParseAddr("203.0.113.80"), "", "where the ISP's resolver points rewritten NXDOMAIN answers (resolver.nxdomain_redirect; nothing listens)"},
	{"trusted.resolver", ISP, netip.MustParseAddr("203.0.113.53"), "trusted-resolver", "a trusted resolver: Do53, DoT on 853, DoH on 443 /dns-query (unbound, lab CA)"},
	{"trusted.dot", ISP, netip.MustParseAddr("203.0.113.53"), "trusted-resolver", "alias of trusted.resolver (DoT, port 853)"},
	{"trusted.doh", ISP, netip.MustParseAddr("203.0.113.53"), "trusted-resolver", "alias of trusted.resolver (DoH, port 443)"},
	{"attacker.resolver", ISP, netip.MustParseAddr("203.0.113.66"), "attacker-resolver", "the attacker's selective-hijack resolver (dnsmasq)"},
	{"attacker.resolver6", ISP, netip.MustParseAddr("2001:db8:203::66"), "attacker-resolver", "the attacker's resolver on IPv6, the same dnsmasq (ipv6 scenarios)"},
	{"attacker.dnsdist", ISP, netip.MustParseAddr("203.0.113.67"), "attacker-dnsdist", "the attacker's selective-spoof resolver done with dnsdist: Do53 and DoT on 853 (self-signed certificate)"},
	{"attacker.resolver2", ISP, netip.MustParseAddr("203.0.113.68"), "attacker-resolver-2", "a second attacker resolver (dnsmasq), with the same rules as attacker.resolver"},
	{"attacker.auth", ISP, netip.MustParseAddr("203.0.113.69"), "attacker-auth", "the attacker's unsigned copy of corp.test (non-validating unbound; attacker.unsigned_zone)"},
	{"hostile.dns", ISP, netip.MustParseAddr("203.0.113.70"), "hostile-dns", "a hostile resolver (routerwatch lab fake, UDP only): malformed, truncated, mismatched, oversized, slow replies per hostile_dns"},
	{"hostile.dns.spoof", ISP, netip.MustParseAddr("203.0.113.71"), "hostile-dns", "the source address of the hostile resolver's spoofed replies"},
	{"legit.https", ISP, netip.MustParseAddr("203.0.113.10"), "legit-https", "the first legitimate HTTPS server (lab CA certificate for every canary name)"},
	{"cdn.https", ISP, netip.MustParseAddr("203.0.113.16"), "legit-https", "another address of the legitimate HTTPS servers, as a CDN edge: the same valid lab CA certificate"},
	{"attacker.host", ISP, netip.MustParseAddr("203.0.113.77"), "", "where the attacker's DNS-changer script runs, on the Internet (Lab.DNSChanger, lab attack dns-changer)"},
	{"aitm.https", ISP, netip.MustParseAddr("203.0.113.99"), "aitm-https", "the attacker's AitM HTTPS server (self-signed: not valid for the lab CA)"},
}

func roleByName(name string) (role, bool) {
	for _, r := range roles {
		if r.name == name {
			return r, true
		}
	}
	return role{}, false
}

// Roles lists the role names Lab.Addr accepts, sorted.
func Roles() []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// RoleAddr returns the address of a role, the zero Addr if unknown. Use
// Lab.Addr when a lab is at hand: it knows what its scenario lacks.
func RoleAddr(name string) netip.Addr {
	r, _ := roleByName(name)
	return r.addr
}

// RoleDoc returns the one-line description of a role, "" if unknown.
func RoleDoc(name string) string {
	r, _ := roleByName(name)
	return r.doc
}

// Record is a true answer of the lab's Internet: what the ISP's and the
// trusted resolver answer for Name (type A).
type Record struct {
	Name string
	Addr netip.Addr
}

// records are the canary names and their legitimate addresses. The
// legit-https service serves every one of these addresses.
var records = []Record{
	{"outlook.office365.com", netip.MustParseAddr("203.0.113.10")},
	{"outlook.live.com", netip.MustParseAddr("203.0.113.11")},
	{"outlook.office.com", netip.MustParseAddr("203.0.113.12")},
	{"autodiscover-s.outlook.com", netip.MustParseAddr("203.0.113.13")},
	{"imap-mail.outlook.com", netip.MustParseAddr("203.0.113.14")},
	{"login.microsoftonline.com", netip.MustParseAddr("203.0.113.15")},
	{"www.example.org", netip.MustParseAddr("203.0.113.20")},
	{"login.example.org", netip.MustParseAddr("203.0.113.21")},
	// corp.test is served by nsd, DNSSEC-signed; resolvers validate it
	// against the lab's trust anchor.
	{"login.corp.test", netip.MustParseAddr("203.0.113.30")},
	{"www.corp.test", netip.MustParseAddr("203.0.113.31")},
}

// SignedZone is the DNSSEC-signed zone served by isp.auth. The ISP's and the
// trusted resolver validate it (AD bit); an answer rewritten by the attacker
// carries no RRSIG.
const SignedZone = "corp.test."

// TrustedResolverName is the TLS server name in the trusted resolver's
// certificate (its IP address is in it too).
const TrustedResolverName = "resolver.example.net"

// DoHPath is the trusted resolver's DoH endpoint.
const DoHPath = "/dns-query"

// AttackerDoTName is the TLS server name in the attacker dnsdist's
// self-signed certificate (not valid for the lab CA).
const AttackerDoTName = "dns.example.net"

// Records returns the canary names with their legitimate addresses.
func Records() []Record { return slices.Clone(records) }

// legitAddrs are the addresses of the legit-https server: every record's,
// and cdn.https (a CDN edge answering for any of them).
func legitAddrs() []netip.Addr {
	var out []netip.Addr
	for _, r := range records {
		if !slices.Contains(out, r.Addr) {
			out = append(out, r.Addr)
		}
	}
	return append(out, RoleAddr("cdn.https"))
}

// ispLoAddrs are the Internet's addresses, all on the ISP's lo (/32 and
// /128): every ISP role in InternetPrefix, and in Internet6Prefix if v6.
func ispLoAddrs(v6 bool) []netip.Addr {
	out := legitAddrs()
	for _, r := range roles {
		in := InternetPrefix.Contains(r.addr) || v6 && Internet6Prefix.Contains(r.addr)
		if r.host == ISP && in && !slices.Contains(out, r.addr) {
			out = append(out, r.addr)
		}
	}
	return out
}
