// SPDX-License-Identifier: Apache-2.0

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// fixture is a hijacked network, with documentation addresses.
func fixture() *Report {
	r := &Report{
		Tool: Tool{Name: "routerwatch", Version: "v0.0.0-test"}, Command: "dns",
		StartedAt: t0, FinishedAt: t0.Add(1234 * time.Millisecond),
		Verdict: Verdict{Headline: "DNS HIJACKED: resolver 203.0.113.66 (primary DHCPv4 DNS (eth0)) sends outlook.office365.com to 203.0.113.99."},
		Subjects: []Subject{
			{ID: "203.0.113.66", Kind: "resolver", Label: "203.0.113.66 (primary DHCPv4 DNS (eth0))", Verdict: "hijacked",
				Attributes: []finding.Evidence{{Key: "class", Value: "public_unknown"}}},
			{ID: "198.51.100.53", Kind: "resolver", Label: "198.51.100.53 (secondary DHCPv4 DNS (eth0))", Verdict: "clean"},
		},
		Findings: []finding.Finding{
			{ID: "dns.resolver_hijacked@203.0.113.66", CheckID: "dns.resolver_hijacked", Subject: "resolver 203.0.113.66 (primary DHCPv4 DNS (eth0))",
				Status: finding.StatusFail, Severity: finding.SeverityCritical, Confidence: finding.ConfidenceHigh,
				Title: "Resolver lies about login names", Detail: "It sends outlook.office365.com to servers whose certificates are not valid for those names: interception.",
				Remediation: "Reset the DNS settings where this resolver came from.",
				Evidence:    []finding.Evidence{{Key: "canary outlook.office365.com", Value: "intercepted: 203.0.113.99 (trusted: 198.51.100.10); ttl_0, aa; TLS 203.0.113.99:443 invalid: x509: certificate signed by unknown authority"}},
				References:  []finding.Reference{{Kind: "advisory", ID: "NCSC 2026-04-07", URL: "https://www.ncsc.gov.uk/news/apt28-exploit-routers-to-enable-dns-hijacking-operations"}},
				ObservedAt:  t0},
			{ID: "dns.nxdomain_rewritten@198.51.100.53", CheckID: "dns.nxdomain_rewritten", Subject: "resolver 198.51.100.53",
				Status: finding.StatusFail, Severity: finding.SeverityLow, Confidence: finding.ConfidenceHigh, Title: "Names that do not exist get an address",
				Detail: "A name that does not exist got an address <script>alert(1)</script>.", ObservedAt: t0},
			{ID: "dns.resolver_discovery@dhcpv4:eth0", CheckID: "dns.resolver_discovery", Subject: "resolver source dhcpv4 eth0",
				Status: finding.StatusUnknown, Severity: finding.SeverityInfo, Confidence: finding.ConfidenceHigh, Title: "Resolver source not read",
				Detail: "Could not be read: raw socket: operation not permitted.", ObservedAt: t0},
			{ID: "dns.resolver_hijacked@198.51.100.53", CheckID: "dns.resolver_hijacked", Subject: "resolver 198.51.100.53 (secondary DHCPv4 DNS (eth0))",
				Status: finding.StatusPass, Severity: finding.SeverityCritical, Confidence: finding.ConfidenceHigh, Title: "Resolver answers login names honestly",
				Detail: "It answered 12 of 12 canary names like the trusted resolvers.", Evidence: []finding.Evidence{{Key: "verdict", Value: "clean"}}, ObservedAt: t0},
		},
		Steps: []finding.Step{
			{Title: "Reset the DNS servers in your router", Detail: "Open your router's admin page (http://192.0.2.1/) and find the DHCP server (LAN) settings."},
			{Title: "Change the router's admin password and turn off remote management"},
		},
		Notes: []string{"scope: 192.0.2.1/32, 198.51.100.53/32, 203.0.113.66/32"},
	}
	r.Finish()
	return r
}

// withChanges turns the fixture into a config pull's report: the changes
// since the last reading come after the steps.
func withChanges(r *Report) *Report {
	r.Command = "config pull"
	r.Changes = []Change{
		{Path: "dhcp_dns[0]", Severity: finding.SeverityCritical, Text: "DHCP DNS primary changed from 192.168.0.1 to 203.0.113.66 — not in your allowed resolvers; a published attacker address (\x1b[31mtest list)"},
		{Path: "services.web.wan", Severity: finding.SeverityHigh, Text: "web from the Internet (remote management) changed from off to on — reachable from the Internet"},
		{Path: "identity.firmware", Severity: finding.SeverityInfo, Text: "firmware changed from 3.16.9 Build 200409 to 3.16.9 Build 201112"},
	}
	return r
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		write  func(*bytes.Buffer, *Report) error
	}{
		{name: "text", golden: "hijacked.txt.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteText(b, r, Options{}) }},
		{name: "text_color", golden: "hijacked.color.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteText(b, r, Options{Color: true}) }},
		{name: "text_verbose", golden: "hijacked.verbose.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteText(b, r, Options{Verbose: true}) }},
		{name: "json", golden: "hijacked.json.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, r) }},
		{name: "html", golden: "hijacked.html.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) }},
		{name: "config_text", golden: "config.txt.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteText(b, withChanges(r), Options{}) }},
		{name: "config_json", golden: "config.json.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, withChanges(r)) }},
		{name: "config_html", golden: "config.html.golden", write: func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, withChanges(r)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, fixture()); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, tt.golden, b.Bytes())
		})
	}
}

func TestTextHasNoColorByDefault(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, fixture(), Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("escape codes without Color")
	}
	if !strings.HasPrefix(b.String(), "✗ DNS HIJACKED") {
		t.Errorf("the verdict is not first:\n%s", b.String())
	}
}

// TestTextEscapesControlCharacters: strings from a device (a banner in
// evidence, a title a hostile page chose) reach the text report; their
// control characters are shown escaped, and with colour on the only
// escape sequences left are the renderer's own colours.
func TestTextEscapesControlCharacters(t *testing.T) {
	hostile := "\x1b]0;owned\a\x1b[2J\rPASS\u009b31m\x7f"
	for _, tc := range []struct {
		name  string
		set   func(r *Report)
		color bool
	}{
		{"headline", func(r *Report) { r.Verdict.Headline += hostile }, false},
		{"step", func(r *Report) { r.Steps[0].Detail += hostile }, false},
		{"title", func(r *Report) { r.Findings[0].Title += hostile }, true},
		{"subject", func(r *Report) { r.Findings[0].Subject += hostile }, true},
		{"detail", func(r *Report) { r.Findings[0].Detail += hostile }, false},
		{"remediation", func(r *Report) { r.Findings[0].Remediation += hostile }, false},
		{"evidence banner", func(r *Report) { r.Findings[0].Evidence[0].Value = "SSH-2.0-dropbear" + hostile }, true},
		{"reference", func(r *Report) { r.Findings[0].References[0].URL += hostile }, false},
		{"note", func(r *Report) { r.Notes = append(r.Notes, hostile) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture()
			tc.set(r)
			var b bytes.Buffer
			if err := WriteText(&b, r, Options{Color: tc.color, Verbose: true}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, code := range []string{ansiReset, ansiBold, ansiRed, ansiGreen, ansiYellow, ansiDim} {
				out = strings.ReplaceAll(out, code, "")
			}
			for _, r := range out {
				if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f {
					t.Fatalf("the text report holds %U:\n%q", r, b.String())
				}
			}
			if !strings.Contains(out, `\x1b]0;owned\x07\x1b[2J\rPASS\u009b31m\x7f`) {
				t.Errorf("the hostile string is not shown escaped:\n%s", out)
			}
		})
	}
}

func TestHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert") {
		t.Error("finding text reached the page unescaped")
	}
}

func TestJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"command", "duration_seconds", "findings", "finished_at", "notes", "schema_version", "started_at", "steps", "subjects", "summary", "tool", "verdict"}
	if diff := cmp.Diff(want, sorted(keys)); diff != "" {
		t.Errorf("top-level keys (-want +got):\n%s", diff)
	}
	if m["schema_version"] != float64(SchemaVersion) {
		t.Errorf("schema_version %v", m["schema_version"])
	}
}

func sorted(ss []string) []string {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j] < ss[j-1]; j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
	return ss
}

func TestFinishLevel(t *testing.T) {
	f := func(st finding.Status, sev finding.Severity) finding.Finding {
		return finding.Finding{Status: st, Severity: sev}
	}
	tests := []struct {
		name     string
		findings []finding.Finding
		want     Level
		headline string
	}{
		{name: "empty", want: LevelOK, headline: "Nothing wrong found."},
		{name: "passes", findings: []finding.Finding{f(finding.StatusPass, finding.SeverityCritical)}, want: LevelOK},
		{name: "unknown", findings: []finding.Finding{f(finding.StatusPass, 0), f(finding.StatusUnknown, finding.SeverityHigh)}, want: LevelIncomplete,
			headline: "Nothing failed, but some checks could not be completed."},
		{name: "unknown_below_medium_only", findings: []finding.Finding{f(finding.StatusPass, 0), f(finding.StatusUnknown, finding.SeverityLow)}, want: LevelOK},
		{name: "low_fail", findings: []finding.Finding{f(finding.StatusFail, finding.SeverityLow), f(finding.StatusUnknown, 0)}, want: LevelWarning},
		{name: "high_fail", findings: []finding.Finding{f(finding.StatusFail, finding.SeverityHigh)}, want: LevelFail, headline: "1 problem(s) found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Findings: tt.findings}
			r.Finish()
			if r.Verdict.Level != tt.want {
				t.Errorf("level %s, want %s", r.Verdict.Level, tt.want)
			}
			if tt.headline != "" && r.Verdict.Headline != tt.headline {
				t.Errorf("headline %q, want %q", r.Verdict.Headline, tt.headline)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "json", "html"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll", 20)
	want := []string{"aaa bbb ccc ddd eee", "fff ggg hhh iii jjj", "kkk lll"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrap (-want +got):\n%s", diff)
	}
}
