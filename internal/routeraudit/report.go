// SPDX-License-Identifier: Apache-2.0

package routeraudit

import (
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/buildinfo"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/report"
)

// Report is the report of `routerwatch check`: the most urgent headline
// (a hijacked or suspicious DNS first: it is an attack in progress; else
// the worst router's), the steps in that order, then every finding, the
// routers and resolvers as subjects, and notes on the scope and vantage.
func (r *Result) Report() *report.Report {
	rep := &report.Report{Tool: report.Tool{Name: "routerwatch", Version: buildinfo.String()}, Command: "check",
		StartedAt: r.Started, FinishedAt: r.Finished}
	scope := r.Scope
	for i := range r.Devices {
		d := &r.Devices[i]
		rep.Subjects = append(rep.Subjects, r.deviceSubject(d))
		rep.Findings = append(rep.Findings, d.Findings...)
	}
	// The worst router speaks first.
	worst := -1
	for i := range r.Devices {
		if worst < 0 || rank(&r.Devices[i]) > rank(&r.Devices[worst]) {
			worst = i
		}
	}
	if worst >= 0 {
		rep.Verdict.Headline = audit.Headline(&r.Devices[worst], true)
		rep.Steps = append(rep.Steps, audit.Steps(&r.Devices[worst])...)
		for i := range r.Devices {
			if i == worst {
				continue
			}
			for _, s := range audit.Steps(&r.Devices[i]) {
				rep.Steps = append(rep.Steps, finding.Step{Title: s.Title + " (" + r.Devices[i].Target.Addr.String() + ")", Detail: s.Detail})
			}
		}
	}
	for _, st := range r.Settings {
		rep.Findings = append(rep.Findings, st.Findings...)
		rep.Subjects = append(rep.Subjects, st.Report().Subjects...)
		for _, f := range st.Findings {
			if f.Status != finding.StatusFail || f.CheckID != "config.dhcp_dns_not_allowed" && f.CheckID != "config.wan_dns_not_allowed" {
				continue
			}
			// The settings prove what the DNS audit can only infer:
			// this comes first.
			rep.Verdict.Headline = "The router's DNS settings were changed: " + f.Detail + " " + rep.Verdict.Headline
			rep.Steps = append([]finding.Step{{Title: "Put the router's DNS settings back",
				Detail: "routerwatch fix " + st.Device.Address + " --dns baseline (or --dns router) shows the exact change; add --apply to make it. Then change the router's admin password."}},
				rep.Steps...)
			break
		}
	}
	for _, t := range r.Targets {
		if err, ok := r.SettingsErrors[t]; ok {
			rep.Notes = append(rep.Notes, "settings of "+t.String()+" not read: "+err.Error())
		}
	}
	rep.Notes = append(rep.Notes, "vantage: "+string(r.Vantage))
	switch dns := r.DNS; {
	case dns == nil:
		rep.Notes = append(rep.Notes, r.DNSSkipped)
	default:
		for _, p := range dns.Scope().Prefixes() {
			scope = scope.With(p)
		}
		rep.Findings = append(rep.Findings, dns.Findings()...)
		if dns.Tested() {
			rep.Subjects = append(rep.Subjects, dns.Subjects()...)
			dnsSteps := dns.Steps()
			if o := dns.Overall(); o == dnshijack.VerdictHijacked || o == dnshijack.VerdictSuspicious {
				// An attack in progress comes before the router's flaws.
				rep.Verdict.Headline = dns.Headline() + " " + rep.Verdict.Headline
				rep.Steps = append(slices.Clone(dnsSteps), rep.Steps...)
			} else {
				rep.Steps = append(rep.Steps, dnsSteps...)
			}
		}
		rep.Notes = append(rep.Notes, dns.Note())
	}
	rep.Notes = append([]string{"scope: " + scope.String()}, rep.Notes...)
	rep.Finish()
	return rep
}

// rank orders devices by how urgent their headline is.
func rank(d *audit.Device) int {
	if !d.Answered {
		return 0
	}
	if w, ok := d.Worst(); ok {
		return 2 + int(w)
	}
	return 1
}

// deviceSubject describes one router: its identity with confidences,
// vantage, open services and, for a default gateway, its interface, MAC
// and vendor.
func (r *Result) deviceSubject(d *audit.Device) report.Subject {
	s := report.Subject{ID: d.Target.Addr.String(), Kind: "router", Label: d.Subject, Verdict: d.Verdict()}
	id := d.Identity
	for _, fl := range []struct {
		key string
		f   identify.Field
	}{{"vendor", id.Vendor}, {"model", id.Model}, {"hardware", id.HWRev}, {"firmware", id.Firmware}, {"region", id.Region}} {
		v := "unknown"
		if fl.f.Value != "" {
			v = fl.f.Value + " (" + fl.f.Confidence.String() + " confidence)"
		}
		s.Attributes = append(s.Attributes, finding.Evidence{Key: fl.key, Value: v})
	}
	open := strings.Join(d.OpenServices(), ", ")
	if open == "" {
		open = "none"
	}
	s.Attributes = append(s.Attributes, finding.Evidence{Key: "vantage", Value: string(d.Vantage)},
		finding.Evidence{Key: "open", Value: open})
	for _, g := range r.Facts.Gateways {
		if g.Addr == d.Target.Addr {
			s.Attributes = append(s.Attributes, dnsaudit.GatewayEvidence(g)...)
		}
	}
	return s
}
