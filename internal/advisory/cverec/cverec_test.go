// SPDX-License-Identifier: Apache-2.0

package cverec_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/cverec"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestSharedRecords imports every real record in ../shared/data/cve and
// checks what each must yield, including every free-text version.
func TestSharedRecords(t *testing.T) {
	dir := filepath.Join(testutil.SharedData(t), "cve")
	files, err := filepath.Glob(filepath.Join(dir, "CVE-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s: %v", dir, err)
	}
	type want struct {
		products int
		freeText []string // substrings, one per free-text version
		kev      string
		noProd   bool
	}
	wants := map[string]want{
		"CVE-2015-3035":  {noProd: true, kev: "2022-03-25"},
		"CVE-2018-14847": {noProd: true, kev: "2021-12-01"},
		"CVE-2020-24363": {noProd: true},
		"CVE-2023-1389":  {products: 1, freeText: []string{"All versions prior to version 1.14 Build 20230219"}},
		"CVE-2023-30799": {products: 1},
		"CVE-2023-33538": {noProd: true, kev: "2025-06-16"},
		"CVE-2023-50224": {products: 1},
		"CVE-2024-21833": {products: 5, freeText: []string{"Archer AX3000(JP)_V1_1.1.2", "Archer AX5400(JP)", "Archer AXE75(JP)_V1_231115", "Deco X50(JP)", "Deco XE200(JP)"}},
		"CVE-2025-9377":  {products: 3, kev: "2025-09-03"},
		"CVE-2026-3227":  {products: 3},
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(id, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := cverec.Load(b)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			w, ok := wants[id]
			if !ok {
				t.Fatalf("no expectation for %s; add one", id)
			}
			a := r.Advisory
			if a.ID != id || len(a.Products) != w.products {
				t.Errorf("ID %s with %d products; want %s with %d", a.ID, len(a.Products), id, w.products)
			}
			if len(r.FreeText) != len(w.freeText) {
				t.Errorf("free text %q; want %d entries like %q", r.FreeText, len(w.freeText), w.freeText)
			}
			for _, sub := range w.freeText {
				if !slices.ContainsFunc(r.FreeText, func(s string) bool { return strings.Contains(s, sub) }) {
					t.Errorf("free text %q lacks %q", r.FreeText, sub)
				}
			}
			gotKEV := ""
			if len(a.Exploited) > 0 {
				gotKEV = a.Exploited[0].DateAdded
			}
			if gotKEV != w.kev {
				t.Errorf("KEV date %q, want %q", gotKEV, w.kev)
			}
			if hasNA := slices.ContainsFunc(a.Warnings, func(s string) bool { return strings.Contains(s, "names no product") }); hasNA != w.noProd {
				t.Errorf("'names no product' warning = %v, want %v (%q)", hasNA, w.noProd, a.Warnings)
			}
		})
	}
}

// TestRecordSemantics checks the version rules of records whose ranges
// are machine-readable.
func TestRecordSemantics(t *testing.T) {
	dir := filepath.Join(testutil.SharedData(t), "cve")
	load := func(id string) advisory.Advisory {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := cverec.Load(b)
		if err != nil {
			t.Fatal(err)
		}
		return r.Advisory
	}
	a := load("CVE-2025-9377")
	var models []string
	for _, p := range a.Products {
		models = append(models, p.Model+"/"+p.Region+"/"+p.HWRev)
		if len(p.Ranges) != 1 || p.Ranges[0].Scheme != "date" || p.Ranges[0].LessThan != "241108" || p.Default != advisory.StatusNotAffected {
			t.Errorf("%s: ranges %+v default %s; want one date range < 241108, default not_affected", p.Model, p.Ranges, p.Default)
		}
	}
	slices.Sort(models)
	if got := strings.Join(models, " "); got != "Archer C7/EU/2 TL-WR841N/MS/9 TL-WR841ND/MS/9" {
		t.Errorf("products %q", got)
	}
	ros := load("CVE-2023-30799").Products[0]
	if ros.Model != "RouterOS" || len(ros.Ranges) != 2 || ros.Ranges[0].LessThan != "6.49.7" || ros.Ranges[1].LessThanOrEqual != "6.48.6" {
		t.Errorf("RouterOS product %+v", ros)
	}
	// CVE-2023-50224's old record: only the exact build 3.16.9 build 200409;
	// the CISA ADP "lessThan 12.0" guess must not become a rule.
	p := load("CVE-2023-50224").Products[0]
	if len(p.Ranges) != 1 || p.Ranges[0].Exact != "3.16.9 build 200409" || p.Default != advisory.StatusUnknown {
		t.Errorf("CVE-2023-50224 product %+v", p)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		is      error
	}{
		{name: "not_json", in: "{", wantErr: "not JSON"},
		{name: "csaf_not_cve", in: `{"document":{}}`, is: cverec.ErrNotCVERecord},
		{name: "old_format", in: `{"dataType":"CVE_RECORD","dataVersion":"4.0"}`, wantErr: "only CVE JSON 5.x"},
		{name: "bad_id", in: `{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-12"}}`, wantErr: "is not a CVE ID"},
		{name: "id_of_100000_digits", in: `{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2020-` + strings.Repeat("9", 100000) + `"}}`, wantErr: "is not a CVE ID"},
		{name: "rejected", in: `{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2020-0001","state":"REJECTED"}}`, is: cverec.ErrRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cverec.Load([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2025-9377"},"containers":{"cna":{"affected":[{"vendor":"TP-Link","product":"Archer C7(EU) V2","defaultStatus":"unaffected","versions":[{"version":"0","lessThan":"241108","status":"affected","versionType":"date"}]}]}}}`,
		`{"dataType":"CVE_RECORD","dataVersion":"5.0","cveMetadata":{"cveId":"CVE-2023-1389"},"containers":{"cna":{"affected":[{"vendor":"n/a","product":"TP-Link Archer AX21 (AX1800)","versions":[{"version":"All versions prior to version 1.14 Build 20230219","status":"affected"}]}]},"adp":[{"metrics":[{"other":{"type":"kev","content":{"dateAdded":"2023-05-01"}}}]}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := cverec.Load(b)
		if err != nil {
			return
		}
		// Whatever loads must compile into an index without panicking.
		ix := advisory.NewIndex(&advisory.Dataset{Advisories: []advisory.Advisory{r.Advisory}})
		for _, p := range r.Advisory.Products {
			ix.Match(nil, advisory.Identity{Vendor: p.Vendor, Model: p.Model, HWRev: p.HWRev, Firmware: "1.0 Build 20200101"})
		}
	})
}

// TestRecordRegions: a record naming a market variant TP-Link writes,
// such as (EN), keeps it, and matches only that variant. Before EN was a
// known tag, "(EN)" was taken for an alias and dropped: the record then
// held for every variant of the model. EN and EU are separate tags (no
// source says they are the same hardware), so neither record decides the
// other's devices.
func TestRecordRegions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "cve", "CVE-2025-9377.json"))
	if err != nil {
		t.Fatal(err)
	}
	eu, err := cverec.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	// The same record, for the (EN) variant instead of (EU).
	en, err := cverec.Load(bytes.ReplaceAll(b, []byte("Archer C7(EU) V2"), []byte("Archer C7(EN) V2")))
	if err != nil {
		t.Fatal(err)
	}
	en.Advisory.ID = "CVE-2025-9377-EN"
	var regions []string
	for _, p := range en.Advisory.Products {
		if p.Model == "Archer C7" {
			regions = append(regions, p.Region)
		}
	}
	if len(regions) != 1 || regions[0] != "EN" {
		t.Fatalf("Archer C7(EN) V2 product regions %q, want [EN]", regions)
	}
	for _, tt := range []struct {
		name, record, region string
		status               advisory.Status
		reason               advisory.Reason
	}{
		{"en_record_en_device", "en", "EN", advisory.StatusAffected, advisory.ReasonInRange},
		{"en_record_eu_device", "en", "EU", advisory.StatusNotAffected, advisory.ReasonRegionNotListed},
		{"en_record_us_device", "en", "US", advisory.StatusNotAffected, advisory.ReasonRegionNotListed},
		{"en_record_unknown_region", "en", "", advisory.StatusUnknown, advisory.ReasonNeedRegion},
		{"eu_record_en_device", "eu", "EN", advisory.StatusNotAffected, advisory.ReasonRegionNotListed},
		{"eu_record_us_device", "eu", "US", advisory.StatusNotAffected, advisory.ReasonRegionNotListed},
		{"eu_record_eu_device_lowercase", "eu", "eu", advisory.StatusAffected, advisory.ReasonInRange},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := eu.Advisory
			if tt.record == "en" {
				rec = en.Advisory
			}
			ix := advisory.NewIndex(&advisory.Dataset{Advisories: []advisory.Advisory{rec}})
			ms := ix.Match(nil, advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: tt.region, Firmware: "240926"})
			if len(ms) != 1 || ms[0].Status != tt.status || ms[0].Reason != tt.reason {
				t.Fatalf("matches %+v, want one %s (%s)", ms, tt.status, tt.reason)
			}
		})
	}
}
