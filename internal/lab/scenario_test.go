// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			wantErr: `scenario invalid-unknown-service.yaml: services.router[1]: unknown service "sshd" (known: aitm-https, attacker-resolver, authoritative, dhcp, dns-forwarder, legit-https, resolver, snmp, ssh, telnet, trusted-resolver, upnp, web)`},
		{name: "wrong_host", file: "invalid-wrong-host.yaml",
			wantErr: `scenario invalid-wrong-host.yaml: services.router[0]: service "attacker-resolver" runs on host isp, not router`},
		{name: "duplicate_service", file: "invalid-duplicate-service.yaml",
			wantErr: `scenario invalid-duplicate-service.yaml: services.router[1]: service "dhcp" listed twice`},
		{name: "bad_address", file: "invalid-bad-address.yaml",
			wantErr: `scenario invalid-bad-address.yaml: dhcp.dns[0]: "203.0.113.666" is neither an IP address nor a role (roles: aitm.https, attacker.resolver, client.lan, isp.auth, isp.resolver, isp.wan, legit.https, router.dns, router.lan, router.wan, trusted.doh, trusted.dot, trusted.resolver)`},
		{name: "role_not_served", file: "invalid-role-not-served.yaml",
			wantErr: `scenario invalid-role-not-served.yaml: dhcp.dns[0]: role attacker.resolver needs service attacker-resolver, which is not in services.isp`},
		{name: "section_without_service", file: "invalid-section-without-service.yaml",
			wantErr: `scenario invalid-section-without-service.yaml: attacker: configured, but service attacker-resolver is not in services.isp`},
		{name: "dhcp_without_dns", file: "invalid-dhcp-without-dns.yaml",
			wantErr: `scenario invalid-dhcp-without-dns.yaml: dhcp.dns: service dhcp needs at least one DNS server`},
		{name: "bad_hijack_name", file: "invalid-bad-hijack-name.yaml",
			wantErr: `scenario invalid-bad-hijack-name.yaml: attacker.hijack[0].names[0]: "outlook..office365.com" is not a lowercase DNS name`},
		{name: "identity_quote", file: "invalid-identity-quote.yaml",
			wantErr: `scenario invalid-identity-quote.yaml: identity.web_realm: "TP-LINK \"WR841N\"": control characters, quotes, backslashes, $ and ` + "`" + ` are not allowed`},
		{name: "bad_oid", file: "invalid-bad-oid.yaml",
			wantErr: `scenario invalid-bad-oid.yaml: identity.snmp_sys_object_id: "enterprises.14988" is not a dotted OID such as .1.3.6.1.4.1.11863.1`},
		{name: "expect_role", file: "invalid-expect-role.yaml",
			wantErr: `scenario invalid-expect-role.yaml: expect.dhcp_dns[0]: "attacker.resolver" is not an IP address`},
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
	for _, want := range []string{"apt28", "clean"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
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
			var dhcp []string
			for _, a := range s.DHCP.DNS {
				dhcp = append(dhcp, resolve(a).String())
			}
			if diff := cmp.Diff(dhcp, s.Expect.DHCPDNS); diff != "" {
				t.Errorf("expect.dhcp_dns disagrees with dhcp.dns (-resolved +expect):\n%s", diff)
			}
			hijacked := map[string]bool{}
			if s.HasService("attacker-resolver") && len(s.DHCP.DNS) > 0 && resolve(s.DHCP.DNS[0]) == RoleAddr("attacker.resolver") {
				for _, h := range s.Attacker.Hijack {
					for _, n := range h.Names {
						hijacked[n] = true
					}
				}
			}
			var want []string
			for _, r := range records {
				if hijacked[r.Name] {
					want = append(want, r.Name)
				}
			}
			if diff := cmp.Diff(want, s.Expect.Hijacked, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
				t.Errorf("expect.hijacked disagrees with attacker.hijack (-derived +expect):\n%s", diff)
			}
		})
	}
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
