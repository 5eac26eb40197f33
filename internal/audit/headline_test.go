// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"net/netip"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/check/firmware"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// device builds an audited device from an identity, as Judge would,
// without probes.
func device(t *testing.T, ix *advisory.Index, id advisory.Identity, vantage exposure.Vantage, extra ...finding.Finding) *audit.Device {
	t.Helper()
	r := identify.Result{Identity: id, Identified: id.Vendor != "", Confidence: finding.ConfidenceHigh,
		Vendor: identify.Field{Value: id.Vendor, Confidence: finding.ConfidenceHigh},
		Model:  identify.Field{Value: id.Model, Confidence: finding.ConfidenceHigh},
		HWRev:  identify.Field{Value: id.HWRev, Confidence: finding.ConfidenceHigh}}
	d := &audit.Device{Target: probe.Target{Addr: netip.MustParseAddr("192.0.2.1")}, Vantage: vantage, Identity: r, Answered: true}
	in := firmware.Input{Key: "192.0.2.1", Identity: r}
	if id.Model != "" {
		a := advisory.Assess(ix, id)
		d.Assessment = &a
		in.Assessment = a
	}
	d.Findings = append(firmware.Judge(in), extra...)
	return d
}

func TestHeadline(t *testing.T) {
	ix := index(t)
	remote := finding.Finding{ID: "exposure.remote_management@192.0.2.1/winbox", CheckID: "exposure.remote_management",
		Status: finding.StatusFail, Severity: finding.SeverityHigh, Remediation: "In RouterOS run: /ip service set winbox address=…"}
	tests := []struct {
		name  string
		dev   *audit.Device
		owner bool
		want  string
	}{
		{name: "eol_exploited_no_fix", owner: true,
			dev:  device(t, ix, advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}, exposure.LAN),
			want: "Your router TP-Link TL-WR841N V10 is end of life and exploited in the wild: replace it."},
		{name: "eol_exploited_fix", owner: true,
			dev:  device(t, ix, advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "240926"}, exposure.LAN),
			want: "Your router TP-Link Archer C7(EU) V2 is end of life and exploited in the wild: update its firmware to 241108 or later now and plan to replace it."},
		{name: "known_flaw_fix", owner: true,
			dev:  device(t, ix, advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "6.49.6"}, exposure.LAN),
			want: "Your router MikroTik RB951Ui-2HnD has a known flaw: update its firmware to 6.49.7 or later."},
		{name: "scan_wording", owner: false,
			dev:  device(t, ix, advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}, exposure.LAN),
			want: "Device 192.0.2.1 (TP-Link TL-WR841N V10) is end of life and exploited in the wild: replace it."},
		{name: "remote_management", owner: true,
			dev:  device(t, ix, advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "7.16"}, exposure.WAN, remote),
			want: "Your router MikroTik RB951Ui-2HnD can be managed from the Internet (MikroTik Winbox): turn remote management off."},
		{name: "unidentified", owner: true,
			dev:  device(t, ix, advisory.Identity{}, exposure.LAN),
			want: "Your router at 192.0.2.1 could not be identified by model, so it could not be checked against advisories."},
		{name: "silent", owner: true,
			dev: func() *audit.Device {
				d := device(t, ix, advisory.Identity{}, exposure.LAN)
				d.Answered = false
				return d
			}(),
			want: "Your router at 192.0.2.1 did not answer on any port: nothing could be checked."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.Headline(tt.dev, tt.owner); got != tt.want {
				t.Errorf("Headline:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestStepsOrder(t *testing.T) {
	ix := index(t)
	telnet := finding.Finding{ID: "exposure.telnet_open@192.0.2.1", CheckID: "exposure.telnet_open", Status: finding.StatusFail,
		Severity: finding.SeverityMedium, Remediation: "Turn off telnet in the router's settings."}
	d := device(t, ix, advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}, exposure.LAN, telnet)
	var titles []string
	for _, s := range audit.Steps(d) {
		titles = append(titles, s.Title)
	}
	want := []string{"Replace the router", "Turn off telnet", "Make sure the router's DNS settings were not changed"}
	if len(titles) != len(want) {
		t.Fatalf("steps %q, want %q", titles, want)
	}
	for i := range want {
		if titles[i] != want[i] {
			t.Errorf("step %d %q, want %q", i+1, titles[i], want[i])
		}
	}
}

// TestStepsToDecide: an unknown finding with advice becomes a step; its
// "Could not tell whether …" title reads as what to find out.
func TestStepsToDecide(t *testing.T) {
	ix := index(t)
	for _, tt := range []struct {
		name, title, want string
	}{
		{"could_not_tell", "Could not tell whether telnet answers on the LAN", "Find out whether telnet answers on the LAN"},
		{"other_title", "Resolver source not read", "To decide: Resolver source not read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unknown := finding.Finding{ID: "exposure.telnet_open@192.0.2.1", CheckID: "exposure.telnet_open", Status: finding.StatusUnknown,
				Severity: finding.SeverityMedium, Title: tt.title, Remediation: "Run the check again from the LAN."}
			d := device(t, ix, advisory.Identity{Vendor: "MikroTik", Model: "RB951Ui-2HnD", Firmware: "7.16"}, exposure.LAN, unknown)
			for _, s := range audit.Steps(d) {
				if s.Detail == unknown.Remediation {
					if s.Title != tt.want {
						t.Errorf("step %q, want %q", s.Title, tt.want)
					}
					return
				}
			}
			t.Errorf("no step for the unknown finding in %+v", audit.Steps(d))
		})
	}
}
