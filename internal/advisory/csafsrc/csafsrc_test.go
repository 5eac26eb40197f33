// SPDX-License-Identifier: Apache-2.0

package csafsrc_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/csafsrc"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func sharedDocs(t *testing.T) []string {
	t.Helper()
	base := filepath.Join(testutil.SharedData(t), "csaf")
	var out []string
	for _, pat := range []string{"csaf_2.0/examples/csaf/*.json", "csaf_2.0/examples/csaf/csaf_vex/*.json", "cisa/*.json"} {
		m, err := filepath.Glob(filepath.Join(base, pat))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 25 {
		t.Fatalf("found only %d CSAF documents under %s", len(out), base)
	}
	return out
}

// TestSharedExamples loads every OASIS example and CISA router advisory.
func TestSharedExamples(t *testing.T) {
	for _, f := range sharedDocs(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := csafsrc.Load(b, advisory.SourceCSAF)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if r.Advisory.ID == "" {
				t.Error("no ID")
			}
			ix := advisory.NewIndex(&advisory.Dataset{Advisories: []advisory.Advisory{r.Advisory}})
			for _, w := range ix.Warnings {
				t.Logf("index warning: %s", w)
			}
		})
	}
}

// TestCISARanges checks that CISA's bare ranges ("<= 5.4") decide builds.
func TestCISARanges(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "csaf", "cisa", "icsa-20-196-02.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := csafsrc.Load(b, advisory.SourceCSAF)
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(&advisory.Dataset{Advisories: []advisory.Advisory{r.Advisory}})
	tests := []struct {
		fw   string
		want advisory.Status
	}{
		{"5.4", advisory.StatusAffected},
		{"5.3.1", advisory.StatusAffected},
		{"5.5", advisory.StatusNotAffected},
	}
	for _, tc := range tests {
		ms := ix.Match(nil, advisory.Identity{Vendor: "Moxa", Model: "EDR-G902 Series", Firmware: tc.fw})
		if len(ms) != 1 || ms[0].Status != tc.want {
			t.Errorf("EDR-G902 %s: %+v, want %s", tc.fw, ms, tc.want)
		}
	}
}

// TestCorruptedDocument breaks a valid example in ways a download or an
// editor could and checks each is refused with the failing JSON path.
func TestCorruptedDocument(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "csaf", "csaf_2.0", "examples", "csaf", "bsi-2022-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	doc := func(m map[string]any) map[string]any { return m["document"].(map[string]any) }
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{name: "truncated", in: b[:len(b)/2], wantErr: "not JSON"},
		{name: "trailing_garbage", in: append(append([]byte{}, b...), []byte("{}")...), wantErr: "trailing data"},
		{name: "missing_title", in: mutate(func(m map[string]any) { delete(doc(m), "title") }), wantErr: "/document"},
		{name: "wrong_category_type", in: mutate(func(m map[string]any) { doc(m)["category"] = 42 }), wantErr: "/document/category"},
		{name: "bad_cve_id", in: mutate(func(m map[string]any) {
			m["vulnerabilities"].([]any)[0].(map[string]any)["cve"] = "CVE-22-1"
		}), wantErr: "/vulnerabilities/0/cve"},
		{name: "cve_id_of_100000_digits", in: mutate(func(m map[string]any) {
			m["vulnerabilities"].([]any)[0].(map[string]any)["cve"] = "CVE-2022-" + strings.Repeat("1", 100000)
		}), wantErr: "/vulnerabilities/0/cve"},
		{name: "bad_tracking_date", in: mutate(func(m map[string]any) {
			doc(m)["tracking"].(map[string]any)["current_release_date"] = "last tuesday"
		}), wantErr: "/document/tracking/current_release_date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := csafsrc.Load(tc.in, advisory.SourceCSAF)
			if err == nil {
				t.Fatal("corrupted document accepted")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not name %q", err, tc.wantErr)
			}
			var se *csafsrc.SchemaError
			if strings.HasPrefix(tc.wantErr, "/") && !errors.As(err, &se) {
				t.Errorf("error %T is not a SchemaError", err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"document":{"category":"csaf_base","csaf_version":"2.0","publisher":{"category":"other","name":"x","namespace":"https://example.org"},"title":"t","tracking":{"id":"X-1","status":"final","version":"1","initial_release_date":"2026-01-01T00:00:00Z","current_release_date":"2026-01-01T00:00:00Z","revision_history":[{"date":"2026-01-01T00:00:00Z","number":"1","summary":"s"}]}},"product_tree":{"branches":[{"category":"vendor","name":"TP-Link","branches":[{"category":"product_name","name":"TL-WR841N V12","branches":[{"category":"product_version_range","name":"vers:tplink/<V12_230317","product":{"name":"p","product_id":"P1"}}]}]}]},"vulnerabilities":[{"cve":"CVE-2023-50224","product_status":{"known_affected":["P1"]}}]}`))
	f.Add([]byte(`{"document":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The conversion must survive anything the schema lets through,
		// so fuzz it without the schema gate too.
		r, err := csafsrc.LoadValidated(b, advisory.SourceCSAF)
		if err != nil {
			return
		}
		ix := advisory.NewIndex(&advisory.Dataset{Advisories: []advisory.Advisory{r.Advisory}, Lifecycle: r.Lifecycle})
		for _, p := range r.Advisory.Products {
			ix.Match(nil, advisory.Identity{Vendor: p.Vendor, Model: p.Model, HWRev: p.HWRev, Region: p.Region, Firmware: "V12_230101"})
		}
	})
}
