// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/version"
)

// testDataset is a small hand-made dataset with one example of each kind
// of statement the matcher must handle.
func testDataset() *Dataset {
	return &Dataset{
		Advisories: []Advisory{
			{ID: "A", CVEs: []string{"CVE-2000-0001"}, Confidence: ConfidenceHigh, CVSS: 6.5, Products: []Product{
				{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "8", Scheme: version.TPLink, Ranges: []Range{{Status: StatusAffected, All: true}}},
				{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "12", Scheme: version.TPLink, Ranges: []Range{
					{Status: StatusAffected, LessThan: "V12_230317"}, {Status: StatusFixed, Introduced: "V12_230317"}}},
				{Vendor: "TP-Link", Model: "TL-WR841N", Scheme: version.TPLink, Ranges: []Range{{Status: StatusUnknown, All: true}}},
			}},
			{ID: "B", CVEs: []string{"CVE-2000-0002"}, Confidence: ConfidenceHigh, Products: []Product{
				{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Scheme: version.TPLink, Default: StatusNotAffected,
					Ranges: []Range{{Status: StatusAffected, LessThan: "241108", Scheme: "date"}}},
			}},
			{ID: "C", CVEs: []string{"CVE-2000-0003"}, Confidence: ConfidenceHigh, CVSS: 9.1, Products: []Product{
				{Vendor: "MikroTik", Model: "RouterOS", Scheme: version.RouterOS, Default: StatusNotAffected,
					Ranges: []Range{{Status: StatusAffected, LessThan: "6.49.7"}}},
			}},
			{ID: "D", CVEs: []string{"CVE-2000-0004"}, Confidence: ConfidenceHigh, Products: []Product{
				{Vendor: "TP-Link", Model: "Archer AX21", Scheme: version.TPLink,
					Ranges: []Range{{Status: StatusAffected, Text: "All versions prior to version 1.14 Build 20230219"}}},
			}},
			{ID: "E", CVEs: []string{"CVE-2000-0005"}, Confidence: ConfidenceMedium, Products: []Product{
				{Vendor: "TP-Link", Model: "TL-WR940N", HWRev: "2", Scheme: version.TPLink, NoFix: true,
					Ranges: []Range{{Status: StatusAffected, All: true}}},
			}},
		},
		KEV:       map[string]KEVEntry{"CVE-2000-0001": {CVE: "CVE-2000-0001", DateAdded: "2025-09-03"}},
		Lifecycle: []Lifecycle{{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "8", EOL: true, Source: "https://example.org/eol", Conf: ConfidenceMedium}},
	}
}

func TestIndexMatch(t *testing.T) {
	ix := NewIndex(testDataset())
	if len(ix.Warnings) > 0 {
		t.Fatalf("warnings compiling the test dataset: %v", ix.Warnings)
	}
	type want struct {
		adv     string
		status  Status
		reason  Reason
		fixedIn string
		region  string
		kev     bool
	}
	tests := []struct {
		name string
		id   Identity
		want []want
	}{
		{name: "every_build_affected", id: Identity{Model: "wr841n", HWRev: "V8"},
			want: []want{{adv: "A", status: StatusAffected, reason: ReasonAllBuilds, kev: true}}},
		{name: "build_before_fix", id: Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "3.16.9 Build 200409 Rel.52498n"},
			want: []want{{adv: "A", status: StatusAffected, reason: ReasonInRange, fixedIn: "V12_230317", kev: true}}},
		{name: "fixed_build", id: Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "V12_230317"},
			want: []want{{adv: "A", status: StatusFixed, reason: ReasonAtOrAfterFix, fixedIn: "V12_230317", kev: true}}},
		{name: "firmware_needed", id: Identity{Model: "TL-WR841N", HWRev: "12"},
			want: []want{{adv: "A", status: StatusUnknown, reason: ReasonNeedFirmware, fixedIn: "V12_230317", kev: true}}},
		{name: "unlisted_revision_falls_to_generic_rule", id: Identity{Model: "TL-WR841N", HWRev: "14"},
			want: []want{{adv: "A", status: StatusUnknown, reason: ReasonAllBuilds, kev: true}}},
		{name: "revision_unknown", id: Identity{Model: "TL-WR841N"},
			want: []want{{adv: "A", status: StatusUnknown, reason: ReasonNeedHWRev, kev: true}}},
		{name: "date_range_affected", id: Identity{Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "240926"},
			want: []want{{adv: "B", status: StatusAffected, reason: ReasonInRange, fixedIn: "241108"}}},
		{name: "date_range_fixed", id: Identity{Model: "Archer C7", HWRev: "2", Region: "eu", Firmware: "Archer C7(EU)_V2_241108"},
			want: []want{{adv: "B", status: StatusFixed, reason: ReasonAtOrAfterFix, fixedIn: "241108"}}},
		{name: "other_region_not_listed", id: Identity{Model: "Archer C7", HWRev: "2", Region: "US", Firmware: "240926"},
			want: []want{{adv: "B", status: StatusNotAffected, reason: ReasonRegionNotListed}}},
		{name: "region_unknown", id: Identity{Model: "Archer C7", HWRev: "2", Firmware: "240926"},
			want: []want{{adv: "B", status: StatusUnknown, reason: ReasonNeedRegion, fixedIn: "241108", region: "EU"}}},
		{name: "other_revision_not_listed", id: Identity{Model: "Archer C7", HWRev: "3", Region: "EU"},
			want: []want{{adv: "B", status: StatusNotAffected, reason: ReasonHWNotListed}}},
		{name: "platform_rule_by_vendor", id: Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.49.6"},
			want: []want{{adv: "C", status: StatusAffected, reason: ReasonInRange, fixedIn: "6.49.7"}}},
		{name: "platform_rule_fixed", id: Identity{Vendor: "mikrotik", Model: "RB951Ui-2HnD", Firmware: "6.49.7 (long-term)"},
			want: []want{{adv: "C", status: StatusFixed, reason: ReasonAtOrAfterFix, fixedIn: "6.49.7"}}},
		{name: "platform_by_os_name", id: Identity{Model: "RouterOS", Firmware: "7.16"},
			want: []want{{adv: "C", status: StatusFixed, reason: ReasonAtOrAfterFix, fixedIn: "6.49.7"}}},
		{name: "unreadable_firmware", id: Identity{Vendor: "MikroTik", Model: "hAP", Firmware: "garbage!"},
			want: []want{{adv: "C", status: StatusUnknown, reason: ReasonBadFirmware, fixedIn: "6.49.7"}}},
		{name: "free_text_never_decides", id: Identity{Model: "Archer AX21", Firmware: "1.1.3 Build 20220101"},
			want: []want{{adv: "D", status: StatusUnknown, reason: ReasonFreeText}}},
		{name: "incomparable_build", id: Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "1.2"},
			want: []want{{adv: "A", status: StatusUnknown, reason: ReasonIncomparable, fixedIn: "V12_230317", kev: true}}},
		{name: "no_fix_statement", id: Identity{Model: "TL-WR940N", HWRev: "2", Firmware: "3.16.9 Build 150122"},
			want: []want{{adv: "E", status: StatusAffected, reason: ReasonAllBuilds}}},
		{name: "unknown_model", id: Identity{Model: "WRT54G"}, want: nil},
		{name: "same_model_name_other_vendor", id: Identity{Vendor: "Netgear", Model: "TL-WR841N", HWRev: "8"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ix.Match(nil, tc.id)
			if len(got) != len(tc.want) {
				t.Fatalf("Match(%+v) gave %d matches, want %d: %+v", tc.id, len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Advisory.ID != w.adv || g.Status != w.status || g.Reason != w.reason || g.FixedIn != w.fixedIn || g.Region != w.region || (g.KEV != nil) != w.kev {
					t.Errorf("match %d = {adv %s, %s, %s, fixed %q, region %q, kev %v}; want %+v",
						i, g.Advisory.ID, g.Status, g.Reason, g.FixedIn, g.Region, g.KEV != nil, w)
				}
			}
		})
	}
}

func TestIndexLifecycle(t *testing.T) {
	ix := NewIndex(testDataset())
	tests := []struct {
		name string
		id   Identity
		want bool
	}{
		{"listed_revision", Identity{Model: "TL-WR841N", HWRev: "8.0"}, true},
		{"other_revision", Identity{Model: "TL-WR841N", HWRev: "9"}, false},
		{"revision_unknown_is_not_eol", Identity{Model: "TL-WR841N"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := ix.Lifecycle(tc.id)
			if ok != tc.want {
				t.Errorf("Lifecycle(%+v) = %v, want %v", tc.id, ok, tc.want)
			}
		})
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	ix := NewIndex(testDataset())
	ids := []Identity{
		{Model: "TL-WR841N", HWRev: "12", Firmware: "3.16.9 Build 200409 Rel.52498n"},
		{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.49.6"},
		{Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "240926"},
		{Model: "unknown-model"},
	}
	dst := make([]Match, 0, 16)
	for _, id := range ids {
		allocs := testing.AllocsPerRun(100, func() {
			dst = ix.Match(dst[:0], id)
			_, _ = ix.Lifecycle(id)
		})
		if allocs != 0 {
			t.Errorf("Match(%+v) allocates %.1f times per call, want 0", id, allocs)
		}
	}
}

func TestAssess(t *testing.T) {
	ix := NewIndex(testDataset())
	tests := []struct {
		name     string
		id       Identity
		verdict  Status
		severity string
		steps    int
	}{
		{"eol_no_fix_kev", Identity{Model: "TL-WR841N", HWRev: "8"}, StatusAffected, "high", 2},
		{"fixed", Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "V12_230317"}, StatusFixed, "info", 0},
		{"needs_more", Identity{Model: "TL-WR841N"}, StatusUnknown, "info", 1},
		{"unknown_model", Identity{Model: "WRT54G"}, StatusUnknown, "info", 0},
		{"critical_cvss", Identity{Vendor: "MikroTik", Model: "hAP", Firmware: "6.40"}, StatusAffected, "critical", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(ix, tc.id)
			if a.Verdict != tc.verdict || a.Severity.String() != tc.severity || len(a.Steps) != tc.steps {
				t.Errorf("Assess(%+v) = verdict %s severity %s, %d steps %q; want %s %s %d",
					tc.id, a.Verdict, a.Severity, len(a.Steps), a.Steps, tc.verdict, tc.severity, tc.steps)
			}
			if a.Headline == "" {
				t.Error("empty headline")
			}
		})
	}
}
