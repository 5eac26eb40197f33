// SPDX-License-Identifier: Apache-2.0

package watch_test

import (
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/watch"
)

// TestJudgeDNS: the DNS audit's verdict makes the hijack part (critical
// when hijacked, high when suspicious, nothing when clean); its failing
// findings at or above the threshold are problems of their own unless
// they are about the hijack.
func TestJudgeDNS(t *testing.T) {
	fs := []finding.Finding{
		{ID: "dns.resolver_hijacked@192.0.2.53", CheckID: "dns.resolver_hijacked", Status: finding.StatusFail, Severity: finding.SeverityCritical, Title: "lies"},
		{ID: "dns.dnssec_stripped@192.0.2.53", CheckID: "dns.dnssec_stripped", Status: finding.StatusFail, Severity: finding.SeverityMedium, Title: "strips"},
		{ID: "dns.nxdomain_rewritten@192.0.2.53", CheckID: "dns.nxdomain_rewritten", Status: finding.StatusFail, Severity: finding.SeverityLow, Title: "rewrites"},
		{ID: "dns.open@192.0.2.53", CheckID: "dns.open", Status: finding.StatusPass, Severity: finding.SeverityHigh, Title: "fine"},
	}
	dev := watch.NetworkDevice()
	for _, tc := range []struct {
		name     string
		verdict  dnshijack.Verdict
		alertOn  finding.Severity
		hijacked bool
		sev      finding.Severity
		problems []string
	}{
		{"hijacked", dnshijack.VerdictHijacked, finding.SeverityMedium, true, finding.SeverityCritical, []string{"dns.dnssec_stripped@192.0.2.53"}},
		{"suspicious", dnshijack.VerdictSuspicious, finding.SeverityMedium, true, finding.SeverityHigh, []string{"dns.dnssec_stripped@192.0.2.53"}},
		{"clean", dnshijack.VerdictClean, finding.SeverityLow, false, 0, []string{"dns.dnssec_stripped@192.0.2.53", "dns.nxdomain_rewritten@192.0.2.53"}},
		{"unknown_critical_only", dnshijack.VerdictUnknown, finding.SeverityCritical, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, h := watch.JudgeDNS(dev, tc.verdict, "Resolver 192.0.2.53 lies", fs, tc.alertOn)
			var ids []string
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
			if strings.Join(ids, " ") != strings.Join(tc.problems, " ") {
				t.Errorf("problems %q, want %q", ids, tc.problems)
			}
			p, ok := h.Problem(dev)
			if ok != tc.hijacked {
				t.Fatalf("hijack problem: %v, want %v", ok, tc.hijacked)
			}
			if ok && (p.Severity != tc.sev || p.CheckID != watch.CheckDNSHijack || !strings.Contains(p.Detail, "DNS audit: Resolver 192.0.2.53 lies")) {
				t.Errorf("hijack problem %+v", p)
			}
		})
	}
}

// TestHijackMerge: the settings' words and changes and the DNS verdict
// make one problem, on the device given, with the changes first.
func TestHijackMerge(t *testing.T) {
	var h watch.Hijack
	h.Merge(watch.Hijack{Changes: []string{"DHCP DNS primary changed"}, Words: []string{"not yours"}, Severity: finding.SeverityHigh, Any: true})
	h.Merge(watch.Hijack{Verdict: "lies", Severity: finding.SeverityCritical, Any: true})
	p, ok := h.Problem(alert.Device{Address: "home"})
	if !ok || p.Severity != finding.SeverityCritical || p.Detail != "DHCP DNS primary changed\nnot yours\nDNS audit: lies" || p.Device.Address != "home" {
		t.Errorf("problem %v %+v", ok, p)
	}
	var none watch.Hijack
	none.Merge(watch.Hijack{Changes: []string{"DHCP DNS primary changed"}})
	if _, ok := none.Problem(alert.Device{Address: "home"}); ok {
		t.Error("a change alone, with nothing failing, made a hijack problem")
	}
}
