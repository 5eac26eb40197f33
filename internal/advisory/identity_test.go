// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/version"
)

func TestParseProductName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ProductName
	}{
		{name: "cve_2025_9377_slash_variant", in: "TL-WR841N/ND(MS) V9",
			want: ProductName{Models: []string{"TL-WR841N", "TL-WR841ND"}, HWRev: "9", Region: "MS"}},
		{name: "archer_region_attached", in: "Archer C7(EU) V2",
			want: ProductName{Models: []string{"Archer C7"}, HWRev: "2", Region: "EU"}},
		{name: "vendor_prefix_and_alias", in: "TP-Link Archer AX21 (AX1800)",
			want: ProductName{Vendor: "TP-Link", Models: []string{"Archer AX21"}, Alias: "AX1800"}},
		{name: "lowercase_v", in: "TL-WR841N v10",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "10"}},
		{name: "revision_with_minor_zero", in: "TL-WR841N V10.0",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "10"}},
		{name: "revision_with_minor", in: "TL-WR841N v8.4",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "8.4"}},
		{name: "cve_2026_3227_lowercase", in: "TL-WR802N v4",
			want: ProductName{Models: []string{"TL-WR802N"}, HWRev: "4"}},
		{name: "bare_model", in: "wr841n", want: ProductName{Models: []string{"wr841n"}}},
		{name: "trailing_region_word", in: "Archer C7 v2 EU",
			want: ProductName{Models: []string{"Archer C7"}, HWRev: "2", Region: "EU"}},
		{name: "mikrotik_board", in: "MikroTik RB951Ui-2HnD",
			want: ProductName{Vendor: "MikroTik", Models: []string{"RB951Ui-2HnD"}}},
		{name: "model_ending_in_v_number_is_not_a_revision", in: "V5",
			want: ProductName{Models: []string{"V5"}}},
		{name: "extra_spaces", in: "  TL-WR840N   V2  ",
			want: ProductName{Models: []string{"TL-WR840N"}, HWRev: "2"}},
		{name: "hw_word", in: "TL-WR841N hw 10",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "10"}},
		// Market variants as TP-Link writes them (issue 8: "(EN)" was
		// taken for an alias and dropped).
		{name: "region_en", in: "TL-WR841N(EN) V14",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "14", Region: "EN"}},
		{name: "region_un_cve_record", in: "TL-WR841N(UN) V8",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "8", Region: "UN"}},
		{name: "region_jp_cve_2024_21833", in: "Archer AX3000(JP) V1",
			want: ProductName{Models: []string{"Archer AX3000"}, HWRev: "1", Region: "JP"}},
		{name: "region_ru", in: "TL-WR841N(RU) V14", want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "14", Region: "RU"}},
		{name: "region_ca", in: "Archer A7(CA) V5", want: ProductName{Models: []string{"Archer A7"}, HWRev: "5", Region: "CA"}},
		{name: "region_es", in: "Archer C6(ES) V2", want: ProductName{Models: []string{"Archer C6"}, HWRev: "2", Region: "ES"}},
		{name: "region_br", in: "Archer C6(BR) V3", want: ProductName{Models: []string{"Archer C6"}, HWRev: "3", Region: "BR"}},
		{name: "region_tw", in: "Archer C6(TW) V3", want: ProductName{Models: []string{"Archer C6"}, HWRev: "3", Region: "TW"}},
		{name: "region_lowercase", in: "TL-WR841N(en) v14", want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "14", Region: "EN"}},
		{name: "unknown_tag_stays_alias", in: "TL-WR841N(XX) V14", want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "14", Alias: "XX"}},
		{name: "trailing_region_word_en", in: "TL-WR841N v14 EN",
			want: ProductName{Models: []string{"TL-WR841N"}, HWRev: "14", Region: "EN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseProductName(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseProductName(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestModelKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"tl_prefix", "TL-WR841N", "wr841n"},
		{"no_prefix", "wr841n", "wr841n"},
		{"vendor_word", "TP-Link TL-WR841N", "wr841n"},
		{"archer", "Archer C7", "archerc7"},
		{"mikrotik_board", "RB951Ui-2HnD", "rb951ui2hnd"},
		{"punctuation_only", "--", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ModelKey(tc.in); got != tc.want {
				t.Errorf("ModelKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestVendorKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"cna_name", "TP-Link Systems Inc.", "tplink"},
		{"cna_name_without_dash", "TP Link Systems Inc.", "tplink"},
		{"upper", "TP-LINK", "tplink"},
		{"mikrotik", "MikroTik", "mikrotik"},
		{"other_vendor_suffix", "Sierra Wireless Inc", "sierrawireless"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := VendorKey(tc.in); got != tc.want {
				t.Errorf("VendorKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseHWRev(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		maj, min int
		ok       bool
	}{
		{"plain", "10", 10, -1, true},
		{"v_prefix", "V10", 10, -1, true},
		{"minor", "v10.0", 10, 0, true},
		{"label", "Ver:8.4", 8, 4, true},
		{"label_space", "Ver. 2.0", 2, 0, true},
		{"word", "ten", 0, -1, false},
		{"trailing_junk", "10x", 0, -1, false},
		{"empty", "", 0, -1, false},
		{"model_not_revision", "WR841N", 0, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maj, min, ok := ParseHWRev(tc.in)
			if ok != tc.ok || (ok && (maj != tc.maj || min != tc.min)) {
				t.Errorf("ParseHWRev(%q) = %d, %d, %v; want %d, %d, %v", tc.in, maj, min, ok, tc.maj, tc.min, tc.ok)
			}
		})
	}
}

func TestParseVersRange(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		scheme  string
		want    []Range
		wantErr bool
	}{
		{name: "vers_interval", in: "vers:generic/>=2.9|<=4.1", scheme: "generic",
			want: []Range{{Status: StatusAffected, Introduced: "2.9", LessThanOrEqual: "4.1"}}},
		{name: "cisa_bare_le", in: "<= 5.4", want: []Range{{Status: StatusAffected, LessThanOrEqual: "5.4"}}},
		{name: "cisa_bare_lt", in: "<4.10.0", want: []Range{{Status: StatusAffected, LessThan: "4.10.0"}}},
		{name: "cisa_pair", in: ">=00.07.00|<=00.07.03.4",
			want: []Range{{Status: StatusAffected, Introduced: "00.07.00", LessThanOrEqual: "00.07.03.4"}}},
		{name: "star", in: "vers:tplink/*", scheme: "tplink", want: []Range{{Status: StatusAffected, All: true}}},
		{name: "two_intervals", in: "vers:generic/>=1|<2|>=3|<4", scheme: "generic",
			want: []Range{{Status: StatusAffected, Introduced: "1", LessThan: "2"}, {Status: StatusAffected, Introduced: "3", LessThan: "4"}}},
		{name: "exact_list", in: "vers:generic/1.0|1.1", scheme: "generic",
			want: []Range{{Status: StatusAffected, Exact: "1.0"}, {Status: StatusAffected, Exact: "1.1"}}},
		{name: "open_lower_bound", in: "vers:routeros/>=6.49.7", scheme: "routeros",
			want: []Range{{Status: StatusAffected, Introduced: "6.49.7"}}},
		{name: "greater_than_rejected", in: "vers:generic/>1.0", wantErr: true},
		{name: "not_equal_rejected", in: "vers:generic/!=1.0", wantErr: true},
		{name: "no_scheme", in: "vers:/<1", wantErr: true},
		{name: "empty", in: "vers:generic/", wantErr: true},
		{name: "comparator_without_version", in: "<=", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scheme, got, err := ParseVersRange(tc.in, StatusAffected)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseVersRange(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if scheme != tc.scheme {
				t.Errorf("scheme = %q, want %q", scheme, tc.scheme)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsCVEID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"CVE-2023-50224", true},
		{"CVE-1999-0001", true},
		{"CVE-2024-1234567", true},
		{"CVE-2024-" + strings.Repeat("9", MaxCVESequenceDigits), true},
		{"CVE-2024-" + strings.Repeat("9", MaxCVESequenceDigits+1), false},
		{"CVE-2024-" + strings.Repeat("1", 100000), false},
		{"CVE-2024-123", false},
		{"CVE-24-1234", false},
		{"cve-2024-1234", false},
		{"CVE-2024_1234", false},
		{"CVE-2024-12a4", false},
		{"CVE-2024-١٢٣٤", false}, // Arabic-Indic digits are not ASCII digits
		{"", false},
	}
	for _, tc := range tests {
		if got := IsCVEID(tc.in); got != tc.want {
			t.Errorf("IsCVEID(%.30q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestIsRegion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"EN", true}, {"en", true}, {" EU ", true}, {"UN", true}, {"US", true}, {"MS", true}, {"JP", true},
		{"RU", true}, {"CA", true}, {"ES", true}, {"BR", true}, {"TW", true}, {"ISP", true},
		{"XX", false}, {"EUR", false}, {"", false}, {"E", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if got := IsRegion(tt.in); got != tt.want {
				t.Errorf("IsRegion(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	rs := Regions()
	if !slices.IsSorted(rs) || !slices.Contains(rs, "EN") || len(rs) != len(regions) {
		t.Errorf("Regions() = %v", rs)
	}
}

// TestRegionlessRecordMatchesEveryVariant: a product statement without a
// region holds for every variant, EN and UN included; one with a region
// only for that variant.
func TestRegionlessRecordMatchesEveryVariant(t *testing.T) {
	ds := &Dataset{Advisories: []Advisory{
		{ID: "ANY", CVEs: []string{"CVE-2000-0010"}, Products: []Product{
			{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "14", Scheme: version.TPLink, Ranges: []Range{{Status: StatusAffected, All: true}}}}},
		{ID: "EN-ONLY", CVEs: []string{"CVE-2000-0011"}, Products: []Product{
			{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "14", Region: "EN", Scheme: version.TPLink, Ranges: []Range{{Status: StatusAffected, All: true}}}}},
	}}
	ix := NewIndex(ds)
	for _, tt := range []struct {
		region       string
		any, enOnly  Status
		enOnlyReason Reason
	}{
		{"EN", StatusAffected, StatusAffected, ReasonAllBuilds},
		{"UN", StatusAffected, StatusNotAffected, ReasonRegionNotListed},
		{"EU", StatusAffected, StatusNotAffected, ReasonRegionNotListed},
		{"", StatusAffected, StatusUnknown, ReasonNeedRegion},
	} {
		t.Run("region_"+tt.region, func(t *testing.T) {
			got := map[string]Match{}
			for _, m := range ix.Match(nil, Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "14", Region: tt.region}) {
				got[m.Advisory.ID] = m
			}
			if got["ANY"].Status != tt.any {
				t.Errorf("regionless record: %s, want %s", got["ANY"].Status, tt.any)
			}
			if m := got["EN-ONLY"]; m.Status != tt.enOnly || m.Reason != tt.enOnlyReason {
				t.Errorf("(EN) record: %s (%s), want %s (%s)", m.Status, m.Reason, tt.enOnly, tt.enOnlyReason)
			}
		})
	}
}
