// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
)

func TestParseScenarioInvalid(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr string
	}{
		{name: "unknown_field", file: "invalid-unknown-field.yaml",
			wantErr: `scenario invalid-unknown-field.yaml: [6:1] unknown field "dhcp_dns"`},
		{name: "wrong_type", file: "invalid-wrong-type.yaml",
			wantErr: `scenario invalid-wrong-type.yaml: [3:11] string was used where sequence is expected`},
		{name: "no_description", file: "invalid-no-description.yaml",
			wantErr: `scenario invalid-no-description.yaml: description: must not be empty`},
		{name: "unknown_host", file: "invalid-unknown-host.yaml",
			wantErr: `scenario invalid-unknown-host.yaml: services: unknown host "cloud" (known: client, router, isp)`},
		{name: "unknown_service", file: "invalid-unknown-service.yaml",
			wantErr: `scenario invalid-unknown-service.yaml: services.router[1]: unknown service "sshd" (known: aitm-https, attacker-auth, attacker-dnsdist, attacker-resolver, attacker-resolver-2, authoritative, dhcp, dns-forwarder, hostile-device, hostile-dns, legit-https, ra, resolver, routeros-api, routeros-api-live, snmp, ssh, telnet, tplink-ui, trusted-resolver, upnp, web, winbox)`},
		{name: "wrong_host", file: "invalid-wrong-host.yaml",
			wantErr: `scenario invalid-wrong-host.yaml: services.router[0]: service "attacker-resolver" runs on host isp, not router`},
		{name: "duplicate_service", file: "invalid-duplicate-service.yaml",
			wantErr: `scenario invalid-duplicate-service.yaml: services.router[1]: service "dhcp" listed twice`},
		{name: "bad_address", file: "invalid-bad-address.yaml",
			wantErr: `scenario invalid-bad-address.yaml: dhcp.dns[0]: "203.0.113.666" is neither an IP address nor a role (roles: aitm.https, attacker.auth, attacker.dnsdist, attacker.host, attacker.resolver, attacker.resolver2, attacker.resolver6, cdn.https, client.lan, client.lan6, hostile.dns, hostile.dns.spoof, isp.auth, isp.nxpage, isp.resolver, isp.wan, isp.wan6, legit.https, router.dns, router.lan, router.lan6, router.wan, router.wan6, trusted.doh, trusted.dot, trusted.resolver)`},
		{name: "role_not_served", file: "invalid-role-not-served.yaml",
			wantErr: `scenario invalid-role-not-served.yaml: dhcp.dns[0]: role attacker.resolver needs service attacker-resolver, which is not in services.isp`},
		{name: "section_without_service", file: "invalid-section-without-service.yaml",
			wantErr: `scenario invalid-section-without-service.yaml: attacker: configured, but service attacker-resolver or attacker-resolver-2 or attacker-dnsdist is not in services.isp`},
		{name: "dhcp_without_dns", file: "invalid-dhcp-without-dns.yaml",
			wantErr: `scenario invalid-dhcp-without-dns.yaml: dhcp.dns: service dhcp needs at least one DNS server`},
		{name: "bad_hijack_name", file: "invalid-bad-hijack-name.yaml",
			wantErr: `scenario invalid-bad-hijack-name.yaml: attacker.hijack[0].names[0]: "outlook..office365.com" is not a lowercase DNS name`},
		{name: "delay_with_dnsmasq", file: "invalid-delay-with-dnsmasq.yaml",
			wantErr: `scenario invalid-delay-with-dnsmasq.yaml: attacker.hijack[0]: delay_ms, shapes and https need service attacker-dnsdist alone (dnsmasq can do none)`},
		{name: "bad_shape", file: "invalid-bad-shape.yaml",
			wantErr: `scenario invalid-bad-shape.yaml: attacker.hijack[0].shapes[1]: "no-ad", want one of stub, no-do, rd`},
		{name: "identity_quote", file: "invalid-identity-quote.yaml",
			wantErr: `scenario invalid-identity-quote.yaml: identity.web_realm: "TP-LINK \"WR841N\"": control characters, quotes, backslashes, $ and ` + "`" + ` are not allowed`},
		{name: "bad_oid", file: "invalid-bad-oid.yaml",
			wantErr: `scenario invalid-bad-oid.yaml: identity.snmp_sys_object_id: "enterprises.14988" is not a dotted OID such as .1.3.6.1.4.1.11863.1`},
		{name: "expect_role", file: "invalid-expect-role.yaml",
			wantErr: `scenario invalid-expect-role.yaml: expect.dhcp_dns[0]: "attacker.resolver" is not an IP address`},
		{name: "ra_without_ipv6", file: "invalid-ra-without-ipv6.yaml",
			wantErr: `scenario invalid-ra-without-ipv6.yaml: services: service ra needs ipv6: true`},
		{name: "v6_role_without_ipv6", file: "invalid-v6-role-without-ipv6.yaml",
			wantErr: `scenario invalid-v6-role-without-ipv6.yaml: dhcp.dns[0]: role attacker.resolver6 is an IPv6 address: it needs ipv6: true`},
		{name: "rdnss_v4", file: "invalid-rdnss-v4.yaml",
			wantErr: `scenario invalid-rdnss-v4.yaml: ra.rdnss[0]: "198.51.100.53" is not an IPv6 address`},
		{name: "wan_service", file: "invalid-wan-service.yaml",
			wantErr: `scenario invalid-wan-service.yaml: wan_services[0]: "telnet" cannot listen on the WAN (one of ssh, web, snmp, winbox, routeros-api, routeros-api-live, dns-forwarder)`},
		{name: "web_ui", file: "invalid-web-ui.yaml",
			wantErr: `scenario invalid-web-ui.yaml: web.ui: "netgear" is not one of basic-auth, login-page, tplink-legacy`},
		{name: "unsigned_zone_without_auth", file: "invalid-unsigned-zone-without-auth.yaml",
			wantErr: `scenario invalid-unsigned-zone-without-auth.yaml: attacker.unsigned_zone: set it exactly when service attacker-auth runs (the unsigned copy of corp.test)`},
		{name: "hostile_dns_behavior", file: "invalid-hostile-dns-behavior.yaml",
			wantErr: `scenario invalid-hostile-dns-behavior.yaml: hostile_dns: names[slow.hostile.test]: unknown behaviour "glacial"`},
		{name: "hostile_tcp_behavior", file: "invalid-hostile-tcp-behavior.yaml",
			wantErr: `scenario invalid-hostile-tcp-behavior.yaml: hostile: tcp 1900: behaviour "ssdp" is not one of [garbage silent paths drip headers-100k redirect-loop invalid-utf8 big-50mb billion-laughs]`},
		{name: "expect_verdict", file: "invalid-expect-verdict.yaml",
			wantErr: `scenario invalid-expect-verdict.yaml: expect.resolvers[0].verdict: "maybe" is not one of clean, hijacked, suspicious, unknown`},
		{name: "expect_port", file: "invalid-expect-port.yaml",
			wantErr: `scenario invalid-expect-port.yaml: expect.exposure.lan[0]: "ssh" is not tcp/PORT or udp/PORT`},
		{name: "live_web_port", file: "invalid-live-web-port.yaml",
			wantErr: `scenario invalid-live-web-port.yaml: services: tplink-ui and web listen on the same port: run one`},
		{name: "live_two_uis", file: "invalid-live-two-uis.yaml",
			wantErr: `scenario invalid-live-two-uis.yaml: services: tplink-ui and routeros-api-live each own the DHCP DNS setting: run one`},
		{name: "live_without_dhcp", file: "invalid-live-without-dhcp.yaml",
			wantErr: `scenario invalid-live-without-dhcp.yaml: services: routeros-api-live is backed by the router's DHCP server: it needs service dhcp`},
		{name: "tplink_ui_auth", file: "invalid-tplink-ui-auth.yaml",
			wantErr: `scenario invalid-tplink-ui-auth.yaml: tplink_ui.auth: "digest" is not basic or cookie`},
		{name: "tplink_ui_three_dns", file: "invalid-tplink-ui-three-dns.yaml",
			wantErr: `scenario invalid-tplink-ui-three-dns.yaml: dhcp.dns: the TP-Link UI holds two DNS servers (DHCPPara[6..7]), not 3`},
		{name: "tplink_ui_remote_v6", file: "invalid-tplink-ui-remote-v6.yaml",
			wantErr: `scenario invalid-tplink-ui-remote-v6.yaml: tplink_ui.remote_management: "2001:db8::1" is not an IPv4 address`},
		{name: "tplink_ui_without_service", file: "invalid-tplink-ui-without-service.yaml",
			wantErr: `scenario invalid-tplink-ui-without-service.yaml: tplink_ui: configured, but service tplink-ui is not in services.router`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "scenarios", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseScenario(tt.file, data)
			if err == nil {
				t.Fatalf("ParseScenario(%s) = nil error, want %q", tt.file, tt.wantErr)
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("ParseScenario(%s) error:\n got: %s\nwant: %s", tt.file, got, tt.wantErr)
			}
		})
	}
	// Every invalid-*.yaml file has a case.
	files, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "invalid-*.yaml"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no test case", f)
		}
	}
}

func TestParseScenarioValidMinimal(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "scenarios", "valid-minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScenario("valid-minimal.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "valid-minimal" {
		t.Errorf("Name = %q, want valid-minimal", s.Name)
	}
	// Defaults fill the identity.
	if diff := cmp.Diff(DefaultIdentity(), s.Identity); diff != "" {
		t.Errorf("Identity (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]netip.Addr{netip.MustParseAddr("192.0.2.53")}, s.ExpectedDHCPDNS(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("ExpectedDHCPDNS (-want +got):\n%s", diff)
	}
	if got := s.programs(); !cmp.Equal(got, []string{"ip", "dnsmasq"}) {
		t.Errorf("programs() = %v, want [ip dnsmasq]", got)
	}
}

func TestEmbeddedScenarios(t *testing.T) {
	names := ScenarioNames()
	for _, want := range []string{"all-rogue", "apt28", "benign-forwarder", "cdn-variance", "clean", "dnsdist-spoof", "dnssec-strip",
		"hardened", "hostile", "hostile-dns", "ipv6-dhcpv6", "ipv6-rdnss", "mikrotik-exposed", "nxdomain-rewrite", "tplink-legacy",
		"dns-changer", "routeros-live", "tplink-cookie"} {
		if !slices.Contains(names, want) {
			t.Errorf("ScenarioNames() = %v, lacks %s", names, want)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			s, err := LoadScenario(n)
			if err != nil {
				t.Fatal(err)
			}
			// Expectations must agree with the configuration they describe.
			var dhcp, rdnss []string
			for _, a := range s.DHCP.DNS {
				dhcp = append(dhcp, resolve(a).String())
			}
			for _, a := range s.RA.RDNSS {
				rdnss = append(rdnss, resolve(a).String())
			}
			if diff := cmp.Diff(dhcp, s.Expect.DHCPDNS); diff != "" {
				t.Errorf("expect.dhcp_dns disagrees with dhcp.dns (-resolved +expect):\n%s", diff)
			}
			if diff := cmp.Diff(rdnss, s.Expect.RARDNSS); diff != "" {
				t.Errorf("expect.ra_rdnss disagrees with ra.rdnss (-resolved +expect):\n%s", diff)
			}
			var dhcpv6 []string
			if s.RA.DHCPv6 {
				dhcpv6 = rdnss
			}
			if diff := cmp.Diff(dhcpv6, s.Expect.DHCPv6DNS); diff != "" {
				t.Errorf("expect.dhcpv6_dns disagrees with ra.rdnss and ra.dhcpv6 (-resolved +expect):\n%s", diff)
			}
			// Every resolver a client is handed is described, once.
			var servers []string
			for _, r := range s.Expect.Resolvers {
				servers = append(servers, r.Server)
			}
			if diff := cmp.Diff(append(slices.Clone(dhcp), rdnss...), servers); diff != "" {
				t.Errorf("expect.resolvers are not the resolvers handed out (-handed out +described):\n%s", diff)
			}
			for _, r := range s.Expect.Resolvers {
				want := deriveResolver(s, netip.MustParseAddr(r.Server))
				got := derived{hijacked: r.Hijacked, variant: r.Variant, unsigned: r.DNSSECUnsigned, hostile: r.Hostile, verdict: r.Verdict, delayed: r.Delayed, delayMS: r.DelayMS, https: r.HTTPSHijacked}
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(derived{}), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("resolver %s: expectation disagrees with the configuration (-derived +expect):\n%s", r.Server, diff)
				}
				if nx := s.Resolver.NXDomainRedirect; r.NXDomainRedirect != nil {
					if nx == nil || resolve(nx.To).String() != r.NXDomainRedirect.To || deriveResolverRole(r.Server) != "isp.resolver" {
						t.Errorf("resolver %s: nxdomain_redirect without the ISP resolver's rewriting", r.Server)
					}
					for _, p := range r.NXDomainRedirect.Parents {
						if !slices.ContainsFunc(nx.Zones, func(z string) bool { return dns.IsSubDomain(dns.Fqdn(z), dns.Fqdn(p)) }) {
							t.Errorf("resolver %s: parent %s is under no rewritten zone %v", r.Server, p, nx.Zones)
						}
					}
				}
				if r.Server == s.Expect.DHCPDNS[0] {
					if diff := cmp.Diff(r.Hijacked, s.Expect.Hijacked, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("expect.hijacked is not the DHCP primary's resolvers[].hijacked (-resolver +expect):\n%s", diff)
					}
				}
			}
		})
	}
}

// derived is what a resolver does according to the configuration.
type derived struct {
	hijacked, variant, unsigned, delayed, https []string
	delayMS                                     int
	hostile                                     bool
	verdict                                     string
}

// deriveResolverRole names the role whose address a is.
func deriveResolverRole(a string) string { return RoleOf(netip.MustParseAddr(a)) }

// deriveResolver works out, from the configuration alone, which canary
// names the resolver at addr answers differently from the trusted resolver
// (hijacked: to an address without a valid certificate; variant: to a
// legitimate server's), which corp.test names lose their RRSIGs, and the
// verdict the scenario documents: hostile → unknown; any hijacked name, or
// a variant answer that is also unsigned (forged in a signed zone) →
// hijacked; otherwise clean.
func deriveResolver(s *Scenario, addr netip.Addr) derived {
	var d derived
	answer := map[string]netip.Addr{}      // what the resolver answers
	unsigned := map[string]bool{}          // answered without RRSIG
	forward := func(upstream netip.Addr) { // names it passes through
		up := deriveResolver(s, upstream)
		for _, r := range records {
			answer[r.Name] = r.Addr
		}
		for _, n := range append(slices.Clone(up.hijacked), up.variant...) {
			answer[n] = s.answerOf(upstream, n)
		}
		for _, n := range up.unsigned {
			unsigned[n] = true
		}
	}
	switch role := RoleOf(addr); role {
	case "hostile.dns":
		return derived{hostile: true, verdict: VerdictUnknown}
	case "router.dns":
		forward(resolve(s.Forwarder.Upstream[0]))
	case "isp.resolver":
		for _, r := range records {
			answer[r.Name] = r.Addr
		}
		for _, rule := range s.Resolver.Answers {
			for _, n := range rule.Names {
				answer[n] = resolve(rule.To)
				if dns.IsSubDomain(SignedZone, dns.Fqdn(n)) {
					unsigned[n] = true // local-data is not signed
				}
			}
		}
	case "attacker.resolver", "attacker.resolver2", "attacker.resolver6", "attacker.dnsdist":
		forward(resolve(s.Attacker.Upstream))
		for _, h := range s.Attacker.Hijack {
			if h.DelayMS > 0 {
				d.delayed = append(d.delayed, h.Names...)
				d.delayMS = h.DelayMS
			}
			if h.HTTPS {
				d.https = append(d.https, h.Names...)
			}
		}
		for _, r := range records {
			inZone := dns.IsSubDomain(SignedZone, dns.Fqdn(r.Name))
			if to, ok := s.HijackTarget(r.Name); ok {
				answer[r.Name] = to
				unsigned[r.Name] = inZone // answered by the attacker, never signed
			}
			if s.Attacker.UnsignedZone && inZone {
				unsigned[r.Name] = true
			}
		}
	default:
		for _, r := range records {
			answer[r.Name] = r.Addr
		}
	}
	for _, r := range records {
		switch a := answer[r.Name]; {
		case a == r.Addr:
		case slices.Contains(legitAddrs(), a):
			d.variant = append(d.variant, r.Name)
		default:
			d.hijacked = append(d.hijacked, r.Name)
		}
		if unsigned[r.Name] {
			d.unsigned = append(d.unsigned, r.Name)
		}
	}
	d.verdict = VerdictClean
	if len(d.delayed) > 0 {
		d.verdict = VerdictSuspicious
	}
	forged := slices.ContainsFunc(d.variant, func(n string) bool { return slices.Contains(d.unsigned, n) })
	if len(d.hijacked) > 0 || len(d.https) > 0 || forged {
		d.verdict = VerdictHijacked
	}
	return d
}

// answerOf is what the resolver at addr answers for a canary name.
func (s *Scenario) answerOf(addr netip.Addr, name string) netip.Addr {
	switch RoleOf(addr) {
	case "isp.resolver":
		for _, rule := range s.Resolver.Answers {
			if slices.Contains(rule.Names, name) {
				return resolve(rule.To)
			}
		}
	case "attacker.resolver", "attacker.resolver2", "attacker.resolver6", "attacker.dnsdist":
		if to, ok := s.HijackTarget(name); ok {
			return to
		}
		return s.answerOf(resolve(s.Attacker.Upstream), name)
	case "router.dns":
		return s.answerOf(resolve(s.Forwarder.Upstream[0]), name)
	}
	for _, r := range records {
		if r.Name == name {
			return r.Addr
		}
	}
	return netip.Addr{}
}

func TestLoadScenarioUnknown(t *testing.T) {
	for _, n := range []string{"nope", "../clean", "", "APT28"} {
		if _, err := LoadScenario(n); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
			t.Errorf("LoadScenario(%q) = %v, want unknown scenario", n, err)
		}
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, n := range ScenarioNames() {
		b, _ := scenarioFS.ReadFile("scenarios/" + n + ".yaml")
		f.Add(b)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.yaml"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScenario("fuzz.yaml", data)
		if err != nil {
			return
		}
		// Whatever validates must be safe to render into configurations.
		for _, v := range []string{s.Identity.WebRealm, s.Identity.WebServer, s.Identity.SNMPSysDescr, s.Identity.UPnPModelName} {
			if strings.ContainsAny(v, "\"\n\\") {
				t.Errorf("validated identity string %q has a quoting character", v)
			}
		}
	})
}
