// SPDX-License-Identifier: Apache-2.0

package firmware

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/confirmprobe"
)

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

func ident(vendor, model, hw, fw string) identify.Result {
	r := identify.Result{Identity: advisory.Identity{Vendor: vendor, Model: model, HWRev: hw, Firmware: fw},
		Identified: vendor != "", Confidence: finding.ConfidenceHigh}
	src := []identify.Source{{Probe: "upnp", Evidence: "upnp.model_name", Value: model, Rule: "routerwatch:test"}}
	r.Vendor = identify.Field{Value: vendor, Confidence: finding.ConfidenceHigh, Sources: src}
	r.Model = identify.Field{Value: model, Confidence: finding.ConfidenceHigh, Sources: src}
	r.HWRev = identify.Field{Value: hw, Confidence: finding.ConfidenceHigh, Sources: src}
	r.Firmware = identify.Field{Value: fw}
	return r
}

func summary(fs []finding.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.ID] = fmt.Sprintf("%s %s %s", f.Status, f.Severity, f.Confidence)
	}
	return out
}

func TestJudge(t *testing.T) {
	ix := index(t)
	tests := []struct {
		name    string
		id      identify.Result
		confirm *Confirm
		want    map[string]string
	}{
		{name: "tplink_wr841n_v10", id: ident("TP-Link", "TL-WR841N", "10", ""), want: map[string]string{
			"firmware.identity_unknown@192.0.2.1":                "pass medium high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2023-50224": "fail high high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2023-33538": "fail high medium",
			"firmware.known_vulnerable@192.0.2.1/CVE-2025-9377":  "pass high high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2026-3227":  "pass medium high",
			"firmware.end_of_life@192.0.2.1":                     "fail high medium",
			"firmware.campaign_target@192.0.2.1/RW-2026-0009":    "fail medium medium",
		}},
		{name: "low_confidence_hw_caps", id: func() identify.Result {
			r := ident("TP-Link", "TL-WR841N", "10", "")
			r.HWRev.Confidence = finding.ConfidenceLow
			return r
		}(), want: map[string]string{
			"firmware.identity_unknown@192.0.2.1":                "pass medium high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2023-50224": "fail high low",
			"firmware.known_vulnerable@192.0.2.1/CVE-2023-33538": "fail high low",
			"firmware.known_vulnerable@192.0.2.1/CVE-2025-9377":  "pass high low",
			"firmware.known_vulnerable@192.0.2.1/CVE-2026-3227":  "pass medium low",
			"firmware.end_of_life@192.0.2.1":                     "fail high low",
			"firmware.campaign_target@192.0.2.1/RW-2026-0009":    "fail medium low",
		}},
		{name: "mikrotik_no_firmware", id: ident("MikroTik", "RB951Ui-2HnD", "", ""), want: map[string]string{
			"firmware.identity_unknown@192.0.2.1":                "pass medium high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2023-30799": "unknown critical high",
			"firmware.known_vulnerable@192.0.2.1/CVE-2018-14847": "unknown high high",
			"firmware.end_of_life@192.0.2.1":                     "unknown info high",
			"firmware.campaign_target@192.0.2.1":                 "pass medium low",
		}},
		{name: "unknown_device", id: identify.Result{}, want: map[string]string{
			"firmware.identity_unknown@192.0.2.1": "unknown medium high",
			"firmware.known_vulnerable@192.0.2.1": "unknown high high",
			"firmware.end_of_life@192.0.2.1":      "unknown info high",
		}},
		{name: "vendor_only", id: func() identify.Result { r := ident("TP-Link", "", "", ""); return r }(), want: map[string]string{
			"firmware.identity_unknown@192.0.2.1": "unknown medium high",
			"firmware.known_vulnerable@192.0.2.1": "unknown high high",
			"firmware.end_of_life@192.0.2.1":      "unknown info high",
		}},
		{name: "confirmed_leak", id: ident("TP-Link", "TL-WR841N", "10", ""),
			confirm: &Confirm{Observation: &confirmprobe.Observation{Endpoints: []confirmprobe.Result{{Scheme: "http",
				Exchange: probe.Exchange{Port: 80, Open: true, Status: netx.StatusOK}, StatusCode: 200, ContentType: "text/plain", CredentialShape: true}}}},
			want: map[string]string{"firmware.cve_2023_50224_confirmed@192.0.2.1": "fail critical high"}},
		{name: "not_confirmed", id: ident("TP-Link", "TL-WR841N", "10", ""),
			confirm: &Confirm{Observation: &confirmprobe.Observation{Endpoints: []confirmprobe.Result{{Scheme: "http",
				Exchange: probe.Exchange{Port: 80, Open: true, Status: netx.StatusOK}, StatusCode: 401}}}},
			want: map[string]string{"firmware.cve_2023_50224_confirmed@192.0.2.1": "pass critical medium"}},
		{name: "confirm_failed", id: ident("TP-Link", "TL-WR841N", "10", ""),
			confirm: &Confirm{Observation: &confirmprobe.Observation{Endpoints: []confirmprobe.Result{{Scheme: "http",
				Exchange: probe.Exchange{Port: 80, Status: netx.StatusTimeout, Error: "i/o timeout"}}}}, Err: errors.New("confirm probe: timeout")},
			want: map[string]string{"firmware.cve_2023_50224_confirmed@192.0.2.1": "unknown critical high"}},
		{name: "confirm_skipped", id: ident("MikroTik", "RB951Ui-2HnD", "", ""), confirm: &Confirm{Skipped: "the router is not a TP-Link"},
			want: map[string]string{"firmware.cve_2023_50224_confirmed@192.0.2.1": "unknown info high"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Key: "192.0.2.1", Subject: "router 192.0.2.1", Identity: tt.id, Confirm: tt.confirm}
			if Identified(tt.id) {
				in.Assessment = advisory.Assess(ix, tt.id.Identity)
			}
			fs := Judge(in)
			got := summary(fs)
			if tt.confirm != nil {
				// Only the confirmation is pinned here.
				for k := range got {
					if !strings.HasPrefix(k, "firmware.cve_2023_50224_confirmed") {
						delete(got, k)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Status == finding.StatusFail && f.Remediation == "" {
					t.Errorf("%s fails without a remediation", f.ID)
				}
				if f.CheckID == checkVulnerable.ID && f.Status == finding.StatusFail && len(f.References) == 0 {
					t.Errorf("%s fails without references", f.ID)
				}
			}
		})
	}
}

func TestReferencesAndSteps(t *testing.T) {
	ix := index(t)
	id := ident("TP-Link", "TL-WR841N", "10", "")
	fs := Judge(Input{Key: "192.0.2.1", Subject: "router", Identity: id, Assessment: advisory.Assess(ix, id.Identity)})
	var f *finding.Finding
	for i := range fs {
		if fs[i].ID == "firmware.known_vulnerable@192.0.2.1/CVE-2023-50224" {
			f = &fs[i]
		}
	}
	if f == nil {
		t.Fatal("no CVE-2023-50224 finding")
	}
	var kinds []string
	for _, r := range f.References {
		kinds = append(kinds, r.Kind+" "+r.ID)
	}
	if diff := cmp.Diff([]string{"cve CVE-2023-50224", "kev CVE-2023-50224", "advisory RW-2026-0001"}, kinds); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	for _, re := range []string{`exploited in the wild`, `every build`} {
		if !regexp.MustCompile(re).MatchString(f.Detail) {
			t.Errorf("detail %q lacks %q", f.Detail, re)
		}
	}
	if !strings.HasPrefix(f.Remediation, "Replace the router") {
		t.Errorf("remediation %q", f.Remediation)
	}

	// An unknown match says what to read and which command decides it.
	mk := ident("MikroTik", "RB951Ui-2HnD", "", "")
	for _, f := range Judge(Input{Key: "k", Identity: mk, Assessment: advisory.Assess(ix, mk.Identity)}) {
		if f.Status == finding.StatusUnknown && f.CheckID == checkVulnerable.ID && !strings.Contains(f.Remediation, "routerwatch lookup RB951Ui-2HnD --fw BUILD") {
			t.Errorf("%s: remediation %q", f.ID, f.Remediation)
		}
	}
}

func TestChecksUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] || !regexp.MustCompile(`^firmware\.[a-z0-9_]+$`).MatchString(c.ID) {
			t.Errorf("check ID %q duplicated or malformed", c.ID)
		}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		seen[c.ID] = true
	}
}
