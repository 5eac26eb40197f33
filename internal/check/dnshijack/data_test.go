// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/finding"
)

func TestEmbeddedData(t *testing.T) {
	c, err := DefaultCanaries()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Canaries) != 12 {
		t.Errorf("%d canaries, want 12", len(c.Canaries))
	}
	kinds := map[string]int{}
	for _, x := range c.Canaries {
		kinds[x.Kind]++
	}
	if kinds[KindCampaignTarget] != 5 || kinds[KindControl] != 1 {
		t.Errorf("kinds %v: want the 5 Outlook names of THREAT-TABLES §3.2 and one control", kinds)
	}
	ix, err := DefaultIndicators()
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 182 {
		t.Errorf("%d indicators, want 182 (THREAT-TABLES §2.2, the six Lumen addresses among them)", ix.Len())
	}
	high := 0
	for _, in := range ix.byAddr {
		if in.Confidence == finding.ConfidenceHigh {
			high++
			if in.FirstSeen.IsZero() || in.LastSeen.IsZero() || in.SourceURL == "" {
				t.Errorf("%s: a primary indicator needs dates and a source URL", in.Address)
			}
		}
	}
	if high != 6 {
		t.Errorf("%d high-confidence indicators, want the 6 Lumen AitM addresses", high)
	}
	in, ok := ix.Lookup(netip.MustParseAddr("79.141.160.78"))
	if !ok || in.FirstSeen.Format("2006-01-02") != "2025-07-19" {
		t.Errorf("79.141.160.78 = %+v, want Lumen's first seen 2025-07-19 (not the write-up's 6 Aug)", in)
	}
	// Exact addresses only: a neighbour in the same shared-hosting /24
	// must not match (THREAT-TABLES §2.4).
	if _, ok := ix.Lookup(netip.MustParseAddr("79.141.160.83")); ok {
		t.Error("79.141.160.83 matched: indicators must be exact addresses")
	}
	pub, err := DefaultPublicResolvers()
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := pub.Lookup(netip.MustParseAddr("9.9.9.9")); !ok || r.Operator != "Quad9" {
		t.Errorf("9.9.9.9 = %+v, %v", r, ok)
	}
}

func TestLoadIndicatorsErrors(t *testing.T) {
	entry := func(fields string) string {
		return `{"schema_version":1,"updated":"x","note":"","entries":[{` + fields + `}]}`
	}
	ok := `"address":"192.0.2.1","role":"resolver","description":"d","list":"l","confidence":"low","source_url":"https://example.org","source":"","first_seen":"","last_seen":""`
	tests := []struct {
		name, doc, wantErr string
	}{
		{name: "valid", doc: entry(ok)},
		{name: "prefix", doc: entry(strings.Replace(ok, `"192.0.2.1"`, `"192.0.2.0/24"`, 1)), wantErr: "ranges and prefixes are not accepted"},
		{name: "no_source", doc: entry(strings.Replace(ok, `"https://example.org"`, `""`, 1)), wantErr: "source"},
		{name: "bad_confidence", doc: entry(strings.Replace(ok, `"low"`, `"certain"`, 1)), wantErr: "confidence"},
		{name: "bad_role", doc: entry(strings.Replace(ok, `"resolver"`, `"c2"`, 1)), wantErr: "role"},
		{name: "bad_date", doc: entry(strings.Replace(ok, `"first_seen":""`, `"first_seen":"19 Jul 2025"`, 1)), wantErr: "first_seen"},
		{name: "reversed_dates", doc: entry(strings.Replace(strings.Replace(ok, `"first_seen":""`, `"first_seen":"2026-01-02"`, 1), `"last_seen":""`, `"last_seen":"2026-01-01"`, 1)), wantErr: "before"},
		{name: "unknown_field", doc: entry(ok + `,"asn":"AS1"`), wantErr: "unknown field"},
		{name: "trailing", doc: entry(ok) + "{}", wantErr: "trailing"},
		{name: "schema", doc: strings.Replace(entry(ok), `"schema_version":1`, `"schema_version":2`, 1), wantErr: "schema_version"},
		// A user's --indicators file is read up to MaxDataFileSize, not
		// to the end of memory.
		{name: "too_large", doc: strings.Replace(entry(ok), `"updated":"x"`, `"updated":"`+strings.Repeat("x", MaxDataFileSize)+`"`, 1), wantErr: "larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadIndicators(strings.NewReader(tt.doc))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestUserCanary(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "SSO.Example.ORG", want: "sso.example.org"},
		{in: "login.corp.test.", want: "login.corp.test"},
		{in: "localhost", wantErr: "two labels"},
		{in: "bad name.example.org", wantErr: "not a domain"},
		{in: "", wantErr: "not a domain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := UserCanary(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Name != tt.want || c.Kind != KindUser {
				t.Errorf("UserCanary(%q) = %+v, %v", tt.in, c, err)
			}
		})
	}
}

func TestChecksUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "dns.") || c.Validate() != nil {
			t.Errorf("bad or duplicate check %+v", c)
		}
		seen[c.ID] = true
	}
}
