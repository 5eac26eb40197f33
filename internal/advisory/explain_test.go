// SPDX-License-Identifier: Apache-2.0

package advisory_test

import (
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
)

// TestMatchSourceURL covers the cases on which the three copies of this
// helper disagreed: lookup's ignored the references (an advisory whose
// only link is a reference had no source in lookup, one in check), and
// check's took any string starting with "http" while assess's took any
// string at all (a reference "mailto:…" became the page to "check").
func TestMatchSourceURL(t *testing.T) {
	adv := func(src string, refs ...string) *advisory.Advisory {
		a := &advisory.Advisory{ID: "RW-1", SourceURL: src}
		for _, r := range refs {
			a.References = append(a.References, advisory.Reference{URL: r})
		}
		return a
	}
	for _, tt := range []struct {
		name       string
		m          advisory.Match
		want, text string
	}{
		{"product source wins", advisory.Match{Advisory: adv("https://a.example/adv"), Product: &advisory.Product{SourceURL: "https://a.example/product"}},
			"https://a.example/product", "https://a.example/product"},
		{"advisory source", advisory.Match{Advisory: adv("https://www.cve.org/CVERecord?id=CVE-2023-50224"), Product: &advisory.Product{}},
			"https://www.cve.org/CVERecord?id=CVE-2023-50224", "https://www.cve.org/CVERecord?id=CVE-2023-50224"},
		{"references only (lookup had none)", advisory.Match{Advisory: adv("", "https://vendor.example/faq")},
			"https://vendor.example/faq", "https://vendor.example/faq"},
		{"first web reference, not the first reference", advisory.Match{Advisory: adv("", "mailto:psirt@vendor.example", "", "https://vendor.example/faq")},
			"https://vendor.example/faq", "https://vendor.example/faq"},
		{"a non-web product source is skipped", advisory.Match{Advisory: adv("http://a.example/adv"), Product: &advisory.Product{SourceURL: "javascript:alert(1)"}},
			"http://a.example/adv", "http://a.example/adv"},
		{"a prefix is not a URL", advisory.Match{Advisory: adv("httpfoo", "https:/broken", "HTTPS://VENDOR.EXAMPLE/x")},
			"HTTPS://VENDOR.EXAMPLE/x", "HTTPS://VENDOR.EXAMPLE/x"},
		{"spaces are not in URLs", advisory.Match{Advisory: adv("https://a.example/see below")}, "", "the advisory RW-1"},
		{"nothing", advisory.Match{Advisory: adv("")}, "", "the advisory RW-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.SourceURL(); got != tt.want {
				t.Errorf("SourceURL() = %q, want %q", got, tt.want)
			}
			if got := tt.m.Source(); got != tt.text {
				t.Errorf("Source() = %q, want %q", got, tt.text)
			}
		})
	}
}

func TestCVERecordURL(t *testing.T) {
	if got, want := advisory.CVERecordURL("CVE-2023-50224"), "https://www.cve.org/CVERecord?id=CVE-2023-50224"; got != want {
		t.Errorf("CVERecordURL = %q, want %q", got, want)
	}
}

// TestReasonText: every reason has words; none falls back to its JSON
// name.
func TestReasonText(t *testing.T) {
	for r := advisory.ReasonInRange; r <= advisory.ReasonCampaign; r++ {
		txt := r.Text()
		if txt == "" || txt == r.String() || strings.Contains(txt, "_") {
			t.Errorf("Reason %s has no words: %q", r, txt)
		}
	}
}

func TestMatchExplain(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    advisory.Match
		want string
	}{
		{"all builds, no fix", advisory.Match{Status: advisory.StatusAffected, Reason: advisory.ReasonAllBuilds, NoFix: true}, "every build is affected; the source says no fix exists"},
		{"all builds, none listed", advisory.Match{Status: advisory.StatusAffected, Reason: advisory.ReasonAllBuilds}, "every build is affected; no fixed build is listed"},
		{"all builds not affected", advisory.Match{Status: advisory.StatusNotAffected, Reason: advisory.ReasonAllBuilds}, "the source lists every build as not affected"},
		{"in range before the fix", advisory.Match{Status: advisory.StatusAffected, Reason: advisory.ReasonInRange, FixedIn: "241108"}, "this build is before the fixed build 241108"},
		// check's copy said "before the fixed build" whatever the status.
		{"in a not-affected range", advisory.Match{Status: advisory.StatusNotAffected, Reason: advisory.ReasonInRange, FixedIn: "241108"}, "this build is in a listed range"},
		{"at or after the fix", advisory.Match{Status: advisory.StatusFixed, Reason: advisory.ReasonAtOrAfterFix, FixedIn: "241108"}, "this build is at or after the fixed build 241108"},
		{"needs the build", advisory.Match{Reason: advisory.ReasonNeedFirmware, FixedIn: "3.16.9 Build 200409"}, "builds before 3.16.9 Build 200409 are affected"},
		{"needs the build, no fix known", advisory.Match{Reason: advisory.ReasonNeedFirmware}, "it depends on the firmware build"},
		{"needs the revision", advisory.Match{Reason: advisory.ReasonNeedHWRev}, "it depends on the hardware version"},
		{"needs the region", advisory.Match{Reason: advisory.ReasonNeedRegion, Region: "EU"}, "affected if this is the EU variant"},
		{"free text", advisory.Match{Reason: advisory.ReasonFreeText, Text: "before 1.14 Build 20230219"}, "the source gives the versions only in words: before 1.14 Build 20230219"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Explain(); got != tt.want {
				t.Errorf("Explain() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReasonMissing(t *testing.T) {
	for r, want := range map[advisory.Reason]string{
		advisory.ReasonNeedFirmware: "firmware build", advisory.ReasonNeedHWRev: "hardware version",
		advisory.ReasonNeedRegion: "market variant", advisory.ReasonInRange: "", advisory.ReasonFreeText: "",
	} {
		if got := r.Missing(); got != want {
			t.Errorf("%s.Missing() = %q, want %q", r, got, want)
		}
	}
}
