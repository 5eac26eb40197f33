// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/csafsrc"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// sharedSchema compiles the CSAF 2.0 schema from ../shared (the OASIS
// copy); the CVSS schemas it references come from gocsaf's module.
func sharedSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(testutil.SharedData(t), "csaf", "csaf_2.0", "json_schema")
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/gocsaf/csaf/v3").Output()
	if err != nil {
		t.Fatalf("locating gocsaf for the CVSS schemas: %v", err)
	}
	cvssDir := filepath.Join(strings.TrimSpace(string(out)), "csaf", "schema")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, file := range map[string]string{
		"https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json": filepath.Join(dir, "csaf_json_schema.json"),
		"https://www.first.org/cvss/cvss-v2.0.json":                        filepath.Join(cvssDir, "cvss-v2.0.json"),
		"https://www.first.org/cvss/cvss-v3.0.json":                        filepath.Join(cvssDir, "cvss-v3.0.json"),
		"https://www.first.org/cvss/cvss-v3.1.json":                        filepath.Join(cvssDir, "cvss-v3.1.json"),
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDocumentsAreValidCSAF validates every built-in document against the
// OASIS schema from ../shared and against gocsaf's embedded copy.
func TestDocumentsAreValidCSAF(t *testing.T) {
	schema := sharedSchema(t)
	docs, err := builtin.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 10 {
		t.Fatalf("only %d built-in documents", len(docs))
	}
	for name, b := range docs {
		t.Run(name, func(t *testing.T) {
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Errorf("OASIS schema: %v", err)
			}
			r, err := csafsrc.Load(b, advisory.SourceBuiltin)
			if err != nil {
				t.Fatalf("csafsrc.Load: %v", err)
			}
			if len(r.Advisory.Warnings) > 0 {
				t.Errorf("warnings: %v", r.Advisory.Warnings)
			}
			if r.Advisory.Confidence == advisory.ConfidenceUnknown {
				t.Error("no Confidence note")
			}
			if r.Advisory.SourceURL == "" {
				t.Error("no external reference to use as source")
			}
			want := strings.TrimSuffix(name, ".json")
			if strings.ToLower(r.Advisory.ID) != want {
				t.Errorf("tracking ID %s does not match the file name %s", r.Advisory.ID, name)
			}
		})
	}
}

// TestEveryValueHasASource checks that every product statement and every
// exploitation statement can be traced to a URL.
func TestEveryValueHasASource(t *testing.T) {
	rs, err := builtin.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for _, p := range r.Advisory.Products {
			if p.SourceURL == "" {
				t.Errorf("%s: %s %s has no source URL", r.Advisory.ID, p.Model, p.HWRev)
			}
		}
		for _, e := range r.Advisory.Exploited {
			if !strings.Contains(e.Details, "source:") {
				t.Errorf("%s: exploitation statement %q names no source", r.Advisory.ID, e.Details)
			}
		}
		for _, l := range r.Lifecycle {
			if l.Source == "" {
				t.Errorf("%s: end-of-life statement for %s has no source", r.Advisory.ID, l.Model)
			}
		}
	}
}

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(ds)
	if len(ix.Warnings) > 0 {
		t.Fatalf("built-in data does not compile cleanly: %v", ix.Warnings)
	}
	return ix
}

func find(a advisory.Assessment, cve string) (advisory.Match, bool) {
	for _, m := range a.Matches {
		for _, c := range m.Advisory.CVEs {
			if c == cve {
				return m, true
			}
		}
	}
	return advisory.Match{}, false
}

// TestVerdicts pins the verdicts the issue and THREAT.md ask for, on the
// built-in data alone.
func TestVerdicts(t *testing.T) {
	ix := index(t)
	tests := []struct {
		name     string
		id       advisory.Identity
		cve      string
		status   advisory.Status
		fixedIn  string
		kevSince string
		eol      bool
	}{
		{name: "wr841n_v10_affected_kev_eol", id: advisory.Identity{Model: "TL-WR841N", HWRev: "10"},
			cve: "CVE-2023-50224", status: advisory.StatusAffected, kevSince: "2025-09-03", eol: true},
		{name: "wr841n_v12_old_build", id: advisory.Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "3.16.9 Build 200409 Rel.52498n"},
			cve: "CVE-2023-50224", status: advisory.StatusAffected, fixedIn: "V12_230317", kevSince: "2025-09-03"},
		{name: "wr841n_v12_fixed_build", id: advisory.Identity{Model: "TL-WR841N", HWRev: "12", Firmware: "V12_230317"},
			cve: "CVE-2023-50224", status: advisory.StatusFixed, fixedIn: "V12_230317", kevSince: "2025-09-03"},
		{name: "wr841n_v14_not_in_readable_record", id: advisory.Identity{Model: "TL-WR841N", HWRev: "14"},
			cve: "CVE-2023-50224", status: advisory.StatusUnknown, kevSince: "2025-09-03"},
		{name: "wr840n_v2_unpatched", id: advisory.Identity{Model: "TL-WR840N", HWRev: "2"},
			cve: "CVE-2023-50224", status: advisory.StatusAffected, kevSince: "2025-09-03"},
		{name: "archer_c7_eu_v2_before_241108", id: advisory.Identity{Model: "Archer C7", Region: "EU", HWRev: "2", Firmware: "240926"},
			cve: "CVE-2025-9377", status: advisory.StatusAffected, fixedIn: "241108", kevSince: "2025-09-03", eol: true},
		{name: "archer_c7_eu_v2_at_241108", id: advisory.Identity{Model: "Archer C7", Region: "EU", HWRev: "2", Firmware: "241108"},
			cve: "CVE-2025-9377", status: advisory.StatusFixed, fixedIn: "241108", kevSince: "2025-09-03", eol: true},
		{name: "archer_c7_eu_v2_later_full_build", id: advisory.Identity{Model: "Archer C7", Region: "EU", HWRev: "2", Firmware: "Archer C7(EU)_V2_250301"},
			cve: "CVE-2025-9377", status: advisory.StatusFixed, fixedIn: "241108", kevSince: "2025-09-03", eol: true},
		{name: "wr841n_ms_v9", id: advisory.Identity{Model: "TL-WR841ND", Region: "MS", HWRev: "9", Firmware: "240101"},
			cve: "CVE-2025-9377", status: advisory.StatusAffected, fixedIn: "241108", kevSince: "2025-09-03", eol: true},
		{name: "wr841n_v14_cve_2026_3227", id: advisory.Identity{Model: "TL-WR841N", HWRev: "14", Firmware: "V14_250101"},
			cve: "CVE-2026-3227", status: advisory.StatusAffected, fixedIn: "V14_260303"},
		{name: "ax21_before_fix", id: advisory.Identity{Model: "Archer AX21", Firmware: "1.1.3 Build 20220926"},
			cve: "CVE-2023-1389", status: advisory.StatusAffected, fixedIn: "1.1.4 Build 20230219", kevSince: "2023-05-01"},
		{name: "routeros_6_42", id: advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.42"},
			cve: "CVE-2018-14847", status: advisory.StatusAffected, kevSince: "2021-12-01"},
		{name: "routeros_6_49_6", id: advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.49.6"},
			cve: "CVE-2023-30799", status: advisory.StatusAffected, fixedIn: "6.49.7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := advisory.Assess(ix, tc.id)
			m, ok := find(a, tc.cve)
			if !ok {
				t.Fatalf("no match for %s; matches: %v", tc.cve, summary(a))
			}
			since, _ := m.ExploitedSince()
			if m.Status != tc.status || m.FixedIn != tc.fixedIn || since != tc.kevSince {
				t.Errorf("%s: status %s, fixed %q, exploited since %q; want %s, %q, %q (reason %s)",
					tc.cve, m.Status, m.FixedIn, since, tc.status, tc.fixedIn, tc.kevSince, m.Reason)
			}
			if gotEOL := a.EOL != nil && a.EOL.EOL; gotEOL != tc.eol {
				t.Errorf("end of life = %v, want %v", gotEOL, tc.eol)
			}
		})
	}
}

func TestReplaceAdvice(t *testing.T) {
	ix := index(t)
	a := advisory.Assess(ix, advisory.Identity{Model: "TL-WR841N", HWRev: "10"})
	if a.Verdict != advisory.StatusAffected || !strings.Contains(a.Headline, "replace") {
		t.Errorf("headline %q, verdict %s: want affected and 'replace'", a.Headline, a.Verdict)
	}
	b, _ := json.Marshal(a.Steps)
	if !strings.Contains(string(b), "Replace the router") {
		t.Errorf("steps %s do not say to replace the router", b)
	}
}

func summary(a advisory.Assessment) string {
	var s []string
	for _, m := range a.Matches {
		s = append(s, fmt.Sprintf("%s=%s/%s", m.CVE(), m.Status, m.Reason))
	}
	return strings.Join(s, " ")
}
