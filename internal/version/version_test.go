// SPDX-License-Identifier: Apache-2.0

package version

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	type want struct {
		nums    []uint32
		date    [3]int
		hw      int
		region  string
		channel string
		err     error
	}
	tests := []struct {
		name   string
		scheme Scheme
		raw    string
		want   want
	}{
		// TP-Link, real strings from status pages, CVE records and download pages.
		{name: "tplink_status_page", scheme: TPLink, raw: "3.16.9 Build 200409 Rel.52498n",
			want: want{nums: []uint32{3, 16, 9}, date: [3]int{2020, 4, 9}}},
		{name: "tplink_wr841n_v6_2010", scheme: TPLink, raw: "3.12.5 Build 100929 Rel.53720n",
			want: want{nums: []uint32{3, 12, 5}, date: [3]int{2010, 9, 29}}},
		{name: "tplink_cve_hw_date", scheme: TPLink, raw: "V14_260303",
			want: want{date: [3]int{2026, 3, 3}, hw: 14}},
		{name: "tplink_cve_hw_date_v11", scheme: TPLink, raw: "V11_211209",
			want: want{date: [3]int{2021, 12, 9}, hw: 11}},
		{name: "tplink_cve_hw_date_v4", scheme: TPLink, raw: "V4_250925",
			want: want{date: [3]int{2025, 9, 25}, hw: 4}},
		{name: "tplink_second_group_ignored", scheme: TPLink, raw: "0.9.1 4.19 Build 260303 Rel.42399n",
			want: want{nums: []uint32{0, 9, 1}, date: [3]int{2026, 3, 3}}},
		{name: "tplink_eight_digit_build", scheme: TPLink, raw: "1.1.4 Build 20230219",
			want: want{nums: []uint32{1, 1, 4}, date: [3]int{2023, 2, 19}}},
		{name: "tplink_rel_without_n", scheme: TPLink, raw: "0.9.1 Build 20231120 Rel.62366",
			want: want{nums: []uint32{0, 9, 1}, date: [3]int{2023, 11, 20}}},
		{name: "tplink_download_name", scheme: TPLink, raw: "Archer C7(EU)_V2_241108",
			want: want{date: [3]int{2024, 11, 8}, hw: 2, region: "EU"}},
		{name: "tplink_region_prefix", scheme: TPLink, raw: "US_V5_260419",
			want: want{date: [3]int{2026, 4, 19}, hw: 5, region: "US"}},
		{name: "tplink_model_hw_version_build", scheme: TPLink, raw: "Archer AX3000(JP)_V1_1.1.2 Build 20231115",
			want: want{nums: []uint32{1, 1, 2}, date: [3]int{2023, 11, 15}, hw: 1, region: "JP"}},
		{name: "tplink_dashed_model", scheme: TPLink, raw: "TL-WR841N(EU)_V14_230506",
			want: want{date: [3]int{2023, 5, 6}, hw: 14, region: "EU"}},
		{name: "tplink_bare_date", scheme: TPLink, raw: "241108",
			want: want{date: [3]int{2024, 11, 8}}},
		{name: "tplink_lowercase_build_rel", scheme: TPLink, raw: "1.2.3 build 20200424 rel.41389(4555)",
			want: want{nums: []uint32{1, 2, 3}, date: [3]int{2020, 4, 24}}},
		{name: "tplink_rel_after_space", scheme: TPLink, raw: "3.16.9 Build 200409 Rel. 52498n",
			want: want{nums: []uint32{3, 16, 9}, date: [3]int{2020, 4, 9}}},
		{name: "tplink_version_only", scheme: TPLink, raw: "1.1.4",
			want: want{nums: []uint32{1, 1, 4}}},
		{name: "tplink_space_delimited_hw", scheme: TPLink, raw: "Archer C7 v2 3.16.9 Build 200409",
			want: want{nums: []uint32{3, 16, 9}, date: [3]int{2020, 4, 9}, hw: 2}},
		{name: "tplink_cve_date_rel", scheme: TPLink, raw: "TL-WA855RE V5 20200415-rel37464",
			want: want{date: [3]int{2020, 4, 15}, hw: 5}},
		{name: "tplink_bare_date_rel", scheme: TPLink, raw: "20200415-rel37464",
			want: want{date: [3]int{2020, 4, 15}}},
		{name: "tplink_paren_region_first", scheme: TPLink, raw: "(EU)_V5_200731",
			want: want{date: [3]int{2020, 7, 31}, hw: 5, region: "EU"}},
		{name: "tplink_date_dash_not_rel", scheme: TPLink, raw: "20200415-37464",
			want: want{err: ErrSyntax}},
		{name: "tplink_bad_date_before_rel", scheme: TPLink, raw: "20201315-rel37464",
			want: want{err: ErrSyntax}},
		{name: "tplink_sentence", scheme: TPLink, raw: "All versions prior to version 1.14 Build 20230219",
			want: want{err: ErrSyntax}},
		{name: "tplink_three_model_words", scheme: TPLink, raw: "Archer C7 AC1750 3.16.9 Build 200409",
			want: want{err: ErrSyntax}},
		{name: "tplink_build_not_a_date", scheme: TPLink, raw: "3.16.9 Build 201399",
			want: want{err: ErrSyntax}},
		{name: "tplink_hw_number_not_a_date", scheme: TPLink, raw: "V2_999999",
			want: want{err: ErrSyntax}},
		{name: "tplink_two_dates", scheme: TPLink, raw: "V2_241108 Build 241109",
			want: want{err: ErrSyntax}},
		{name: "tplink_two_regions", scheme: TPLink, raw: "Archer C7(EU)_US_V2_241108",
			want: want{err: ErrSyntax}},
		{name: "tplink_rel_only", scheme: TPLink, raw: "Rel.52498n",
			want: want{err: ErrSyntax}},
		{name: "tplink_trailing_word", scheme: TPLink, raw: "3.16.9 Build 200409 Rel.52498n beta",
			want: want{err: ErrSyntax}},

		// Date, as TP-Link CVE records use with versionType "date".
		{name: "date_yymmdd", scheme: Date, raw: "241108", want: want{date: [3]int{2024, 11, 8}}},
		{name: "date_yyyymmdd", scheme: Date, raw: "20241108", want: want{date: [3]int{2024, 11, 8}}},
		{name: "date_iso", scheme: Date, raw: "2024-11-08", want: want{date: [3]int{2024, 11, 8}}},
		{name: "date_bad_month", scheme: Date, raw: "241308", want: want{err: ErrSyntax}},
		{name: "date_bad_day", scheme: Date, raw: "20241100", want: want{err: ErrSyntax}},
		{name: "date_year_out_of_range", scheme: Date, raw: "12341108", want: want{err: ErrSyntax}},
		{name: "date_seven_digits", scheme: Date, raw: "2411080", want: want{err: ErrSyntax}},
		{name: "date_with_text", scheme: Date, raw: "241108 Rel.1", want: want{err: ErrSyntax}},

		// RouterOS.
		{name: "routeros_three_numbers", scheme: RouterOS, raw: "6.49.6", want: want{nums: []uint32{6, 49, 6}}},
		{name: "routeros_two_numbers", scheme: RouterOS, raw: "7.16", want: want{nums: []uint32{7, 16}}},
		{name: "routeros_rc", scheme: RouterOS, raw: "7.15rc3", want: want{nums: []uint32{7, 15}}},
		{name: "routeros_beta", scheme: RouterOS, raw: "7.16beta2", want: want{nums: []uint32{7, 16}}},
		{name: "routeros_long_term", scheme: RouterOS, raw: "6.49.7 (long-term)",
			want: want{nums: []uint32{6, 49, 7}, channel: "long-term"}},
		{name: "routeros_stable", scheme: RouterOS, raw: "7.16 (stable)",
			want: want{nums: []uint32{7, 16}, channel: "stable"}},
		{name: "routeros_old_bugfix_name", scheme: RouterOS, raw: "6.40.9 (bugfix)",
			want: want{nums: []uint32{6, 40, 9}, channel: "long-term"}},
		{name: "routeros_v_prefix", scheme: RouterOS, raw: "v6.48.6", want: want{nums: []uint32{6, 48, 6}}},
		{name: "routeros_product_prefix", scheme: RouterOS, raw: "RouterOS 7.16.1", want: want{nums: []uint32{7, 16, 1}}},
		{name: "routeros_one_number", scheme: RouterOS, raw: "7", want: want{err: ErrSyntax}},
		{name: "routeros_unknown_channel", scheme: RouterOS, raw: "7.16 (weekly)", want: want{err: ErrSyntax}},
		{name: "routeros_dash_rc", scheme: RouterOS, raw: "7.16-rc1", want: want{err: ErrSyntax}},
		{name: "routeros_prefix_only", scheme: RouterOS, raw: "RouterOS", want: want{err: ErrSyntax}},

		// OpenWrt.
		{name: "openwrt_release", scheme: OpenWrt, raw: "23.05.3", want: want{nums: []uint32{23, 5, 3}}},
		{name: "openwrt_release_revision", scheme: OpenWrt, raw: "23.05.3 r23809-234f1a2efa", want: want{nums: []uint32{23, 5, 3}}},
		{name: "openwrt_description", scheme: OpenWrt, raw: "OpenWrt 23.05.3 r23809-234f1a2efa", want: want{nums: []uint32{23, 5, 3}}},
		{name: "openwrt_rc", scheme: OpenWrt, raw: "22.03.0-rc1", want: want{nums: []uint32{22, 3, 0}}},
		{name: "openwrt_snapshot", scheme: OpenWrt, raw: "SNAPSHOT r26345-9e6ba5b43d"},
		{name: "openwrt_branch_snapshot", scheme: OpenWrt, raw: "OpenWrt 23.05-SNAPSHOT r23630-842932a63d",
			want: want{nums: []uint32{23, 5}}},
		{name: "openwrt_two_numbers", scheme: OpenWrt, raw: "14.07", want: want{nums: []uint32{14, 7}}},
		{name: "openwrt_codename", scheme: OpenWrt, raw: "Chaos Calmer 15.05.1", want: want{nums: []uint32{15, 5, 1}}},
		{name: "openwrt_product_and_codename", scheme: OpenWrt, raw: "OpenWrt Barrier Breaker 14.07", want: want{nums: []uint32{14, 7}}},
		{name: "openwrt_svn_revision", scheme: OpenWrt, raw: "15.05.1 r48532", want: want{nums: []uint32{15, 5, 1}}},
		{name: "openwrt_snapshot_without_revision", scheme: OpenWrt, raw: "SNAPSHOT", want: want{err: ErrSyntax}},
		{name: "openwrt_unknown_codename", scheme: OpenWrt, raw: "Chaos Monkey 15.05.1", want: want{err: ErrSyntax}},
		{name: "openwrt_sentence", scheme: OpenWrt, raw: "versions before 23.05.3", want: want{err: ErrSyntax}},
		{name: "openwrt_bad_hash", scheme: OpenWrt, raw: "23.05.3 r23809-xyz", want: want{err: ErrSyntax}},

		// Generic.
		{name: "generic_semver", scheme: Generic, raw: "1.2.3", want: want{nums: []uint32{1, 2, 3}}},
		{name: "generic_v_prefix", scheme: Generic, raw: "v2.07.2", want: want{nums: []uint32{2, 7, 2}}},
		{name: "generic_leading_zeros", scheme: Generic, raw: "00.07.03.4", want: want{nums: []uint32{0, 7, 3, 4}}},
		{name: "generic_r_separator", scheme: Generic, raw: "2.3.0.r5417", want: want{nums: []uint32{2, 3, 0, 5417}}},
		{name: "generic_rc", scheme: Generic, raw: "1.0.0-rc1", want: want{nums: []uint32{1, 0, 0}}},
		{name: "generic_huawei_style", scheme: Generic, raw: "V100R001C00", want: want{nums: []uint32{100, 1, 0}}},
		{name: "generic_build_metadata", scheme: Generic, raw: "1.0.0+20240101.abc", want: want{nums: []uint32{1, 0, 0}}},
		{name: "generic_name_prefix", scheme: Generic, raw: "Firmware 1.2.3", want: want{nums: []uint32{1, 2, 3}}},
		{name: "generic_eight_components", scheme: Generic, raw: "1.2.3.4.5.6.7.8", want: want{nums: []uint32{1, 2, 3, 4, 5, 6, 7, 8}}},
		{name: "generic_max_component", scheme: Generic, raw: "4294967295.1", want: want{nums: []uint32{4294967295, 1}}},
		{name: "generic_trailing_newline", scheme: Generic, raw: "1.2.3\n", want: want{nums: []uint32{1, 2, 3}}},
		{name: "generic_empty", scheme: Generic, raw: "", want: want{err: ErrEmpty}},
		{name: "generic_blank", scheme: Generic, raw: " \t ", want: want{err: ErrEmpty}},
		{name: "generic_not_available", scheme: Generic, raw: "n/a", want: want{err: ErrSyntax}},
		{name: "generic_dash", scheme: Generic, raw: "-", want: want{err: ErrSyntax}},
		{name: "generic_sentence", scheme: Generic, raw: "All versions prior to version 1.14 Build 20230219", want: want{err: ErrSyntax}},
		{name: "generic_trailing_text", scheme: Generic, raw: "1.14 and later", want: want{err: ErrSyntax}},
		{name: "generic_openssl_letter", scheme: Generic, raw: "1.0.2k", want: want{err: ErrSyntax}},
		{name: "generic_unknown_tag", scheme: Generic, raw: "1.2-final", want: want{err: ErrSyntax}},
		{name: "generic_nine_components", scheme: Generic, raw: "1.2.3.4.5.6.7.8.9", want: want{err: ErrSyntax}},
		{name: "generic_component_overflow", scheme: Generic, raw: "4294967296.1", want: want{err: ErrSyntax}},
		{name: "generic_double_dot", scheme: Generic, raw: "1..2", want: want{err: ErrSyntax}},
		{name: "generic_trailing_dot", scheme: Generic, raw: "1.2.", want: want{err: ErrSyntax}},
		{name: "generic_nul_byte", scheme: Generic, raw: "1.2\x003", want: want{err: ErrSyntax}},
		{name: "generic_non_ascii", scheme: Generic, raw: "1.2\u00a0", want: want{err: ErrSyntax}},
		{name: "generic_too_long", scheme: Generic, raw: "1." + strings.Repeat("0", 255), want: want{err: ErrSyntax}},
		{name: "unknown_scheme", scheme: Scheme(9), raw: "1.2.3", want: want{err: ErrUnknownScheme}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse(tc.scheme, tc.raw)
			if !errors.Is(err, tc.want.err) {
				t.Fatalf("Parse(%v, %q) error = %v, want %v", tc.scheme, tc.raw, err, tc.want.err)
			}
			explained := Explain(tc.scheme, tc.raw)
			if !errors.Is(explained, tc.want.err) || (explained == nil) != (err == nil) {
				t.Errorf("Explain(%v, %q) = %v, want it to wrap %v", tc.scheme, tc.raw, explained, tc.want.err)
			}
			if err != nil {
				if v != (Version{}) {
					t.Errorf("Parse(%v, %q) returned %+v with an error, want the zero Version", tc.scheme, tc.raw, v)
				}
				return
			}
			if got := v.nums[:v.n]; !slices.Equal(got, tc.want.nums) && (len(got) != 0 || len(tc.want.nums) != 0) {
				t.Errorf("numbers = %v, want %v", got, tc.want.nums)
			}
			if y, m, d := v.Date(); [3]int{y, m, d} != tc.want.date {
				t.Errorf("Date() = %d-%d-%d, want %v", y, m, d, tc.want.date)
			}
			if got := v.HasDate(); got != (tc.want.date != [3]int{}) {
				t.Errorf("HasDate() = %v", got)
			}
			if got := v.HWRev(); got != tc.want.hw {
				t.Errorf("HWRev() = %d, want %d", got, tc.want.hw)
			}
			if got := v.Region(); got != tc.want.region {
				t.Errorf("Region() = %q, want %q", got, tc.want.region)
			}
			if got := v.Channel(); got != tc.want.channel {
				t.Errorf("Channel() = %q, want %q", got, tc.want.channel)
			}
			if v.String() != tc.raw || v.Scheme != tc.scheme {
				t.Errorf("String(), Scheme = %q, %v; want %q, %v", v.String(), v.Scheme, tc.raw, tc.scheme)
			}
		})
	}
}

// side is one operand of a comparison case.
type side struct {
	scheme Scheme
	raw    string
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		a, b   side
		want   int
		wantOK bool
	}{
		// TP-Link: the build date decides when both have one.
		{name: "tplink_status_page_before_cve_fix", a: side{TPLink, "3.16.9 Build 200409 Rel.52498n"}, b: side{TPLink, "V12_230317"}, want: -1, wantOK: true},
		{name: "tplink_cve_fix_after_status_page", a: side{TPLink, "V11_211209"}, b: side{TPLink, "3.16.9 Build 200409 Rel.52498n"}, want: 1, wantOK: true},
		{name: "tplink_2010_before_2020", a: side{TPLink, "3.12.5 Build 100929 Rel.53720n"}, b: side{TPLink, "3.16.9 Build 200409 Rel.52498n"}, want: -1, wantOK: true},
		{name: "tplink_newer_build", a: side{TPLink, "1.1.4 Build 20230219"}, b: side{TPLink, "1.1.3 Build 20220926"}, want: 1, wantOK: true},
		{name: "tplink_date_beats_rel", a: side{TPLink, "0.9.1 Build 20231120 Rel.62366"}, b: side{TPLink, "0.9.1 4.19 Build 260303 Rel.42399n"}, want: -1, wantOK: true},
		{name: "tplink_six_and_eight_digit_dates", a: side{TPLink, "1.0.0 Build 230219"}, b: side{TPLink, "1.0.0 Build 20230219"}, want: 0, wantOK: true},
		{name: "tplink_same_date_rel_decides", a: side{TPLink, "3.16.9 Build 200409 Rel.52498n"}, b: side{TPLink, "3.16.9 Build 200409 Rel.52499n"}, want: -1, wantOK: true},
		{name: "tplink_same_date_numbers_decide", a: side{TPLink, "3.16.10 Build 200409 Rel.1n"}, b: side{TPLink, "3.16.9 Build 200409 Rel.2n"}, want: 1, wantOK: true},
		{name: "tplink_rel_spacing_and_suffix", a: side{TPLink, "3.16.9 Build 200409 Rel. 52498n"}, b: side{TPLink, "3.16.9 build 200409 rel.52498"}, want: 0, wantOK: true},
		{name: "tplink_same_date_one_without_numbers", a: side{TPLink, "V2_241108"}, b: side{TPLink, "1.0.0 Build 241108"}, want: 0, wantOK: true},
		{name: "tplink_numbers_when_one_lacks_date", a: side{TPLink, "1.1.4"}, b: side{TPLink, "1.1.3 Build 20220101"}, want: 1, wantOK: true},
		{name: "tplink_numbers_without_dates", a: side{TPLink, "1.1.4"}, b: side{TPLink, "1.1.4.1"}, want: -1, wantOK: true},
		{name: "tplink_date_only_vs_numbers_only", a: side{TPLink, "1.1.4"}, b: side{TPLink, "V2_241108"}, wantOK: false},
		{name: "tplink_different_hardware", a: side{TPLink, "V14_260303"}, b: side{TPLink, "V12_230317"}, wantOK: false},
		{name: "tplink_different_region", a: side{TPLink, "Archer C7(EU)_V2_241108"}, b: side{TPLink, "Archer C7(US)_V2_241108"}, wantOK: false},
		{name: "tplink_cve_2020_24363_fixed_later", a: side{TPLink, "TL-WA855RE V5 20200415-rel37464"}, b: side{TPLink, "(EU)_V5_200731"}, want: -1, wantOK: true},
		{name: "tplink_same_day_rel_in_one_word", a: side{TPLink, "20200415-rel37464"}, b: side{TPLink, "1.0.0 Build 20200415 Rel.37465n"}, want: -1, wantOK: true},
		{name: "tplink_same_hardware", a: side{TPLink, "Archer C7(EU)_V2_240926"}, b: side{TPLink, "EU_V2_241108"}, want: -1, wantOK: true},

		// Date against TP-Link: by date.
		{name: "date_after_download_build", a: side{TPLink, "Archer C7(EU)_V2_240926"}, b: side{Date, "241108"}, want: -1, wantOK: true},
		{name: "date_equals_cve_build", a: side{TPLink, "V2_241108"}, b: side{Date, "241108"}, want: 0, wantOK: true},
		{name: "date_before_status_build", a: side{TPLink, "3.16.9 Build 250102 Rel.1234n"}, b: side{Date, "241108"}, want: 1, wantOK: true},
		{name: "date_first_operand", a: side{Date, "20241108"}, b: side{TPLink, "1.1.4 Build 20230219"}, want: 1, wantOK: true},
		{name: "date_vs_tplink_without_date", a: side{Date, "241108"}, b: side{TPLink, "1.1.4"}, wantOK: false},
		{name: "date_vs_date", a: side{Date, "241108"}, b: side{Date, "2024-11-09"}, want: -1, wantOK: true},
		{name: "date_formats_equal", a: side{Date, "241108"}, b: side{Date, "20241108"}, want: 0, wantOK: true},

		// RouterOS.
		{name: "routeros_patch", a: side{RouterOS, "6.49.7"}, b: side{RouterOS, "6.49.6"}, want: 1, wantOK: true},
		{name: "routeros_minor", a: side{RouterOS, "6.48.6"}, b: side{RouterOS, "6.49.7"}, want: -1, wantOK: true},
		{name: "routeros_rc_before_release", a: side{RouterOS, "7.15rc3"}, b: side{RouterOS, "7.15"}, want: -1, wantOK: true},
		{name: "routeros_channel_ignored", a: side{RouterOS, "7.16 (stable)"}, b: side{RouterOS, "7.16"}, want: 0, wantOK: true},
		{name: "routeros_beta_before_rc", a: side{RouterOS, "7.16beta2"}, b: side{RouterOS, "7.16rc1"}, want: -1, wantOK: true},
		{name: "routeros_release_before_patch", a: side{RouterOS, "7.16"}, b: side{RouterOS, "7.16.1"}, want: -1, wantOK: true},
		{name: "routeros_numeric_not_lexical", a: side{RouterOS, "6.49.6"}, b: side{RouterOS, "6.49.10"}, want: -1, wantOK: true},
		{name: "routeros_prefixes", a: side{RouterOS, "RouterOS 7.16.1"}, b: side{RouterOS, "v7.16.1 (stable)"}, want: 0, wantOK: true},
		{name: "routeros_rc_numbers", a: side{RouterOS, "7.15rc3"}, b: side{RouterOS, "7.15rc10"}, want: -1, wantOK: true},

		// OpenWrt.
		{name: "openwrt_newer_release", a: side{OpenWrt, "23.05.3 r23809-234f1a2efa"}, b: side{OpenWrt, "23.05.2"}, want: 1, wantOK: true},
		{name: "openwrt_rc_before_release", a: side{OpenWrt, "22.03.0-rc1"}, b: side{OpenWrt, "22.03.0"}, want: -1, wantOK: true},
		{name: "openwrt_revision_breaks_tie", a: side{OpenWrt, "23.05.3 r23809-234f1a2efa"}, b: side{OpenWrt, "23.05.3 r23810-0123456789"}, want: -1, wantOK: true},
		{name: "openwrt_missing_revision_is_same_release", a: side{OpenWrt, "23.05.3"}, b: side{OpenWrt, "OpenWrt 23.05.3 r23809-234f1a2efa"}, want: 0, wantOK: true},
		{name: "openwrt_revision_does_not_beat_release", a: side{OpenWrt, "23.05.2 r99999"}, b: side{OpenWrt, "23.05.3 r23809"}, want: -1, wantOK: true},
		{name: "openwrt_codename", a: side{OpenWrt, "14.07"}, b: side{OpenWrt, "Chaos Calmer 15.05.1"}, want: -1, wantOK: true},
		{name: "openwrt_snapshots", a: side{OpenWrt, "SNAPSHOT r26345-9e6ba5b43d"}, b: side{OpenWrt, "SNAPSHOT r26000-0123456789"}, want: 1, wantOK: true},
		{name: "openwrt_snapshot_vs_release", a: side{OpenWrt, "SNAPSHOT r26345-9e6ba5b43d"}, b: side{OpenWrt, "23.05.3 r23809-234f1a2efa"}, wantOK: false},
		{name: "openwrt_branch_vs_master_snapshot", a: side{OpenWrt, "23.05-SNAPSHOT r23630-842932a63d"}, b: side{OpenWrt, "SNAPSHOT r26345-9e6ba5b43d"}, wantOK: false},
		{name: "openwrt_branch_snapshot_vs_release", a: side{OpenWrt, "23.05-SNAPSHOT r23630-842932a63d"}, b: side{OpenWrt, "23.05.3"}, wantOK: false},

		// Generic.
		{name: "generic_fourth_component", a: side{Generic, "00.07.03.4"}, b: side{Generic, "00.07.03"}, want: 1, wantOK: true},
		{name: "generic_r_number", a: side{Generic, "2.3.0.r5417"}, b: side{Generic, "2.3.0.r5418"}, want: -1, wantOK: true},
		{name: "generic_alpha_before_rc", a: side{Generic, "1.0.0-alpha"}, b: side{Generic, "1.0.0-rc1"}, want: -1, wantOK: true},
		{name: "generic_rc_before_release", a: side{Generic, "1.0.0-rc1"}, b: side{Generic, "1.0.0"}, want: -1, wantOK: true},
		{name: "generic_beta_numbers", a: side{Generic, "1.0.0-beta.2"}, b: side{Generic, "1.0.0-beta.11"}, want: -1, wantOK: true},
		{name: "generic_trailing_zero", a: side{Generic, "1.2"}, b: side{Generic, "1.2.0"}, want: 0, wantOK: true},
		{name: "generic_v_and_zeros", a: side{Generic, "v2.07.2"}, b: side{Generic, "2.7.2"}, want: 0, wantOK: true},
		{name: "generic_metadata_ignored", a: side{Generic, "1.0.0+20240101"}, b: side{Generic, "1.0.0"}, want: 0, wantOK: true},
		{name: "generic_numeric_not_lexical", a: side{Generic, "1.10"}, b: side{Generic, "1.9"}, want: 1, wantOK: true},

		// Across schemes.
		{name: "generic_vs_routeros", a: side{Generic, "7.16"}, b: side{RouterOS, "7.16rc1"}, want: 1, wantOK: true},
		{name: "generic_vs_openwrt", a: side{Generic, "23.05.3"}, b: side{OpenWrt, "23.05.3 r23809-234f1a2efa"}, want: 0, wantOK: true},
		{name: "openwrt_vs_generic_rc", a: side{OpenWrt, "22.03.0-rc1"}, b: side{Generic, "22.03.0"}, want: -1, wantOK: true},
		{name: "generic_vs_openwrt_snapshot", a: side{Generic, "23.05.3"}, b: side{OpenWrt, "SNAPSHOT r26345-9e6ba5b43d"}, wantOK: false},
		{name: "generic_vs_tplink", a: side{Generic, "1.1.4"}, b: side{TPLink, "1.1.4 Build 20230219"}, wantOK: false},
		{name: "generic_vs_date", a: side{Generic, "241108"}, b: side{Date, "241108"}, wantOK: false},
		{name: "routeros_vs_openwrt", a: side{RouterOS, "7.16"}, b: side{OpenWrt, "7.16"}, wantOK: false},
		{name: "date_vs_routeros", a: side{Date, "241108"}, b: side{RouterOS, "7.16"}, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mustParse(t, tc.a.scheme, tc.a.raw)
			b := mustParse(t, tc.b.scheme, tc.b.raw)
			got, ok := Compare(a, b)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Compare(%v %q, %v %q) = %d, %v; want %d, %v", tc.a.scheme, tc.a.raw, tc.b.scheme, tc.b.raw, got, ok, tc.want, tc.wantOK)
			}
			rgot, rok := Compare(b, a)
			if rgot != -tc.want || rok != tc.wantOK {
				t.Errorf("Compare(b, a) = %d, %v; want %d, %v", rgot, rok, -tc.want, tc.wantOK)
			}
		})
	}
}

func TestCompareZeroVersion(t *testing.T) {
	v := mustParse(t, Generic, "1.2.3")
	for _, tc := range []struct {
		name string
		a, b Version
	}{
		{name: "zero_first", a: Version{}, b: v},
		{name: "zero_second", a: v, b: Version{}},
		{name: "both_zero", a: Version{}, b: Version{}},
		{name: "hand_built", a: Version{Raw: "1.2.3"}, b: v},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, ok := Compare(tc.a, tc.b); ok || c != 0 {
				t.Errorf("Compare = %d, %v; want 0, false", c, ok)
			}
		})
	}
}

func TestScheme(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Scheme
		wantErr bool
	}{
		{name: "generic", in: "generic", want: Generic},
		{name: "tplink", in: "tplink", want: TPLink},
		{name: "date", in: "date", want: Date},
		{name: "routeros", in: "routeros", want: RouterOS},
		{name: "openwrt", in: "openwrt", want: OpenWrt},
		{name: "case_insensitive", in: "OpenWrt", want: OpenWrt},
		{name: "alias_semver", in: "semver", want: Generic},
		{name: "alias_custom", in: "Custom", want: Generic},
		{name: "alias_empty", in: "", want: Generic},
		{name: "alias_tp_link", in: "TP-Link", want: TPLink},
		{name: "alias_mikrotik", in: "MikroTik", want: RouterOS},
		{name: "unknown", in: "cisco", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScheme(tc.in)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrUnknownScheme)) {
				t.Fatalf("ParseScheme(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got != tc.want {
				t.Errorf("ParseScheme(%q) = %v, want %v", tc.in, got, tc.want)
			}
			text, err := got.MarshalText()
			if err != nil {
				t.Fatalf("MarshalText: %v", err)
			}
			var back Scheme
			if err := back.UnmarshalText(text); err != nil || back != got || got.String() != string(text) {
				t.Errorf("text round trip: %q -> %v, %v", text, back, err)
			}
		})
	}
	if got := Scheme(9).String(); got != "Scheme(9)" {
		t.Errorf("Scheme(9).String() = %q", got)
	}
	if _, err := Scheme(9).MarshalText(); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("Scheme(9).MarshalText() error = %v, want ErrUnknownScheme", err)
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name   string
		scheme Scheme
		raw    string
		want   string
	}{
		{name: "sentence", scheme: TPLink, raw: "All versions prior to version 1.14 Build 20230219",
			want: `version: syntax error: tplink "All versions prior to version 1.14 Build 20230219": free text, not a version: not a model name (byte 4)`},
		{name: "empty", scheme: Generic, raw: "", want: `version: empty version string: generic "": empty`},
		{name: "overflow", scheme: RouterOS, raw: "7.99999999999", want: `version: syntax error: routeros "7.99999999999": number larger than 4294967295 (byte 2)`},
		{name: "valid", scheme: Date, raw: "241108", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := Explain(tc.scheme, tc.raw); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Explain(%v, %q) = %q, want %q", tc.scheme, tc.raw, got, tc.want)
			}
		})
	}
}

// allocCases are parsed in TestParseDoesNotAllocate and the benchmarks.
var allocCases = []struct {
	name   string
	scheme Scheme
	raw    string
}{
	{name: "tplink", scheme: TPLink, raw: "Archer AX3000(JP)_V1_1.1.2 Build 20231115"},
	{name: "tplink_rel", scheme: TPLink, raw: "3.16.9 Build 200409 Rel.52498n"},
	{name: "routeros", scheme: RouterOS, raw: "RouterOS 6.49.7 (long-term)"},
	{name: "openwrt", scheme: OpenWrt, raw: "OpenWrt 23.05.3 r23809-234f1a2efa"},
	{name: "generic", scheme: Generic, raw: "1.0.0-rc1"},
	{name: "date", scheme: Date, raw: "20241108"},
	{name: "tplink_error", scheme: TPLink, raw: "All versions prior to version 1.14 Build 20230219"},
	{name: "routeros_error", scheme: RouterOS, raw: "7.16 (weekly)"},
	{name: "openwrt_error", scheme: OpenWrt, raw: "SNAPSHOT"},
	{name: "generic_error", scheme: Generic, raw: "n/a"},
	{name: "date_error", scheme: Date, raw: "241399"},
	{name: "empty_error", scheme: Generic, raw: ""},
}

func TestParseDoesNotAllocate(t *testing.T) {
	for _, tc := range allocCases {
		t.Run(tc.name, func(t *testing.T) {
			var sink Version
			allocs := testing.AllocsPerRun(100, func() {
				v, err := Parse(tc.scheme, tc.raw)
				if err == nil {
					sink = v
				}
			})
			_ = sink
			if allocs != 0 {
				t.Errorf("Parse(%v, %q) allocates %v times, want 0", tc.scheme, tc.raw, allocs)
			}
		})
	}
	a := mustParse(t, TPLink, "3.16.9 Build 200409 Rel.52498n")
	b := mustParse(t, Date, "241108")
	if allocs := testing.AllocsPerRun(100, func() { Compare(a, b) }); allocs != 0 {
		t.Errorf("Compare allocates %v times, want 0", allocs)
	}
}

func mustParse(t testing.TB, s Scheme, raw string) Version {
	t.Helper()
	v, err := Parse(s, raw)
	if err != nil {
		t.Fatalf("Parse(%v, %q): %v", s, raw, Explain(s, raw))
	}
	return v
}

func BenchmarkParse(b *testing.B) {
	for _, tc := range allocCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Parse(tc.scheme, tc.raw)
			}
		})
	}
}

func BenchmarkCompare(b *testing.B) {
	for _, tc := range []struct {
		name string
		a, b side
	}{
		{name: "tplink", a: side{TPLink, "3.16.9 Build 200409 Rel.52498n"}, b: side{TPLink, "3.16.9 Build 200409 Rel.52499n"}},
		{name: "tplink_date", a: side{TPLink, "Archer C7(EU)_V2_240926"}, b: side{Date, "241108"}},
		{name: "routeros", a: side{RouterOS, "7.16beta2"}, b: side{RouterOS, "7.16rc1"}},
		{name: "openwrt", a: side{OpenWrt, "23.05.3 r23809-234f1a2efa"}, b: side{OpenWrt, "23.05.3 r23810-0123456789"}},
		{name: "generic", a: side{Generic, "1.2.3.4.5.6.7.8"}, b: side{Generic, "1.2.3.4.5.6.7.9"}},
	} {
		x := mustParse(b, tc.a.scheme, tc.a.raw)
		y := mustParse(b, tc.b.scheme, tc.b.raw)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Compare(x, y)
			}
		})
	}
}
