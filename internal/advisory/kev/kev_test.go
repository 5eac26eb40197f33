// SPDX-License-Identifier: Apache-2.0

package kev_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory/kev"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

func TestSnapshot(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(t), "kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kev.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2025.08.25" || len(c.Entries) != 1404 {
		t.Errorf("catalog %s with %d entries, want 2025.08.25 with 1404", c.Version, len(c.Entries))
	}
	var got []string
	for _, e := range c.ByVendor("tplink") {
		got = append(got, e.CVE+"@"+e.DateAdded)
	}
	if want := "CVE-2015-3035@2022-03-25 CVE-2023-1389@2023-05-01 CVE-2023-33538@2025-06-16"; strings.Join(got, " ") != want {
		t.Errorf("TP-Link entries %q, want %q", got, want)
	}
	if _, ok := c.Entries["CVE-2023-50224"]; ok {
		t.Error("the 2025.08.25 snapshot predates CVE-2023-50224's KEV entry; finding it means the wrong file was read")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		is             error
	}{
		{name: "not_json", in: "[", want: "not JSON"},
		{name: "other_json", in: `{"a":1}`, is: kev.ErrNotKEV},
		{name: "truncated", in: `{"catalogVersion":"1","count":2,"vulnerabilities":[{"cveID":"CVE-2020-0001","dateAdded":"2020-01-01"}]}`, want: "count says 2"},
		{name: "bad_cve", in: `{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-20","dateAdded":"2020-01-01"}]}`, want: `vulnerabilities[0]: cveID "CVE-20"`},
		{name: "cve_id_of_100000_digits", in: `{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2020-` + strings.Repeat("1", 100000) + `","dateAdded":"2020-01-01"}]}`, want: "is not a CVE ID"},
		{name: "cve_id_of_21_digits", in: `{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2020-` + strings.Repeat("1", 21) + `","dateAdded":"2020-01-01"}]}`, want: "is not a CVE ID"},
		{name: "empty_catalog", in: `{"catalogVersion":"2026.01.01","count":0,"vulnerabilities":[]}`, is: kev.ErrEmpty},
		{name: "bad_date", in: `{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2020-0001","dateAdded":"yesterday"}]}`, want: "dateAdded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kev.Load([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"catalogVersion":"2025.08.25","count":1,"vulnerabilities":[{"cveID":"CVE-2023-1389","vendorProject":"TP-Link","product":"Archer AX21","dateAdded":"2023-05-01","dueDate":"2023-05-22"}]}`))
	f.Add([]byte(`{"catalogVersion":"x","vulnerabilities":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := kev.Load(b)
		if err != nil {
			return
		}
		for id, e := range c.Entries {
			if id != e.CVE || e.DateAdded == "" {
				t.Fatalf("entry %q = %+v", id, e)
			}
		}
	})
}
