// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestLookupRenderers pins the text and JSON output of lookup with golden
// files (go test ./internal/cli -run TestLookupRenderers -update).
func TestLookupRenderers(t *testing.T) {
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(ds)
	info := datastore.Info{BuiltinVersion: "TEST", BuiltinDocs: len(ds.Advisories)}
	tests := []struct {
		name string
		id   advisory.Identity
	}{
		{"wr841n_v10", advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}},
		{"archer_c7_eu_v2_old", advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "240926"}},
		{"archer_c7_eu_v2_fixed", advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "241108"}},
		{"wr841n_unknown_rev", advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"}},
		{"unknown_model", advisory.Identity{Model: "WRT54G"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := advisory.Assess(ix, tc.id)
			var txt, js bytes.Buffer
			if err := writeLookupText(&txt, &as, info); err != nil {
				t.Fatal(err)
			}
			if err := writeLookupJSON(&js, &as, info); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "lookup/"+tc.name+".txt", txt.Bytes())
			testutil.Golden(t, "lookup/"+tc.name+".json", js.Bytes())
		})
	}
}

// TestLookupSourceURL: an advisory whose only link is a reference is
// linked in lookup's output as in check's findings (lookup's own copy of
// the helper ignored references and printed no source).
func TestLookupSourceURL(t *testing.T) {
	adv := &advisory.Advisory{ID: "RW-TEST-1", CVEs: []string{"CVE-2099-0001"}, Title: "a flaw",
		References: []advisory.Reference{{URL: "https://vendor.example/security/faq"}}}
	as := advisory.Assessment{Identity: advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"},
		Matches: []advisory.Match{{Advisory: adv, Status: advisory.StatusUnknown, Reason: advisory.ReasonNeedHWRev}},
		Campaigns: []advisory.Match{{Advisory: &advisory.Advisory{ID: "RW-TEST-2", Title: "a campaign",
			References: []advisory.Reference{{URL: "https://agency.example/alert"}}}, Status: advisory.StatusAffected, Reason: advisory.ReasonCampaign}}}
	j := toLookupJSON(&as, datastore.Info{})
	if got := j.Advisories[0].SourceURL; got != "https://vendor.example/security/faq" {
		t.Errorf("advisory source_url %q, want the reference", got)
	}
	if got := j.Campaigns[0].SourceURL; got != "https://agency.example/alert" {
		t.Errorf("campaign source_url %q, want the reference", got)
	}
	var txt bytes.Buffer
	if err := writeLookupText(&txt, &as, datastore.Info{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"source: https://vendor.example/security/faq (RW-TEST-1)", "it depends on the hardware version: give --hw"} {
		if !bytes.Contains(txt.Bytes(), []byte(want)) {
			t.Errorf("text output lacks %q:\n%s", want, txt.String())
		}
	}
}

// TestLookupRegions: every market variant TP-Link writes is accepted,
// from the model text or --region, kept in the identity and printed.
func TestLookupRegions(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		region  string
		wantErr string
	}{
		{name: "en_in_model", args: []string{"TL-WR841N(EN) V14"}, region: "EN"},
		{name: "en_flag", args: []string{"TL-WR841N"}, region: "en"},
		{name: "un_in_model", args: []string{"TL-WR841N(UN)", "V8"}, region: ""},
		{name: "ru_flag", args: []string{"TL-WR841N"}, region: "RU"},
		{name: "ca_flag", args: []string{"Archer A7"}, region: "CA"},
		{name: "es_flag", args: []string{"Archer C6"}, region: "ES"},
		{name: "br_flag", args: []string{"Archer C6"}, region: "BR"},
		{name: "ms_flag", args: []string{"TL-WR841N"}, region: "MS"},
		{name: "jp_flag", args: []string{"Archer AX3000"}, region: "JP"},
		{name: "tw_flag", args: []string{"Archer C6"}, region: "TW"},
		{name: "same_both_ways", args: []string{"TL-WR841N(EN) V14"}, region: "EN"},
		{name: "conflict", args: []string{"TL-WR841N(EN) V14"}, region: "EU", wantErr: "the model says region EN but --region says EU"},
		{name: "unknown_tag", args: []string{"TL-WR841N"}, region: "XX", wantErr: `--region: "XX" is not a known market variant (known: `},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, err := identityFromArgs(tt.args, lookupFlags{region: tt.region})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("identityFromArgs error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ToUpper(tt.region)
			if want == "" {
				want = "UN"
			}
			if id.Region != want {
				t.Fatalf("region %q, want %q", id.Region, want)
			}
			// Kept in the output, text and JSON.
			as := advisory.Assessment{Identity: id}
			var txt, js bytes.Buffer
			if err := writeLookupText(&txt, &as, datastore.Info{}); err != nil {
				t.Fatal(err)
			}
			if err := writeLookupJSON(&js, &as, datastore.Info{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(txt.String(), "region "+want) || !strings.Contains(txt.String(), "("+want+")") {
				t.Errorf("text output lacks region %s:\n%s", want, txt.String())
			}
			if !strings.Contains(js.String(), `"region": "`+want+`"`) {
				t.Errorf("JSON output lacks region %s:\n%s", want, js.String())
			}
		})
	}
}
