// SPDX-License-Identifier: Apache-2.0

package dnsaudit

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/buildinfo"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/target"
)

// headlineUntested is the headline when no resolver was found to test.
const headlineUntested = "COULD NOT CHECK: no DNS resolver was found to test (see why below); name one with --resolver."

// Result is the outcome of one audit: the scope it ran in, the host
// facts, what discovery found and, when there was a resolver to test,
// the judge's result.
type Result struct {
	facts     *hostnet.Facts
	scope     target.Scope
	resolvers []dnshijack.Resolver
	discovery []dnshijack.SourceStatus
	// judged is nil when no resolver was found to test.
	judged   *dnshijack.Result
	ind      *dnshijack.Indicators
	finished time.Time
}

// Tested reports whether a resolver was tested; false means none was
// found (Findings says why).
func (r *Result) Tested() bool { return r.judged != nil }

// Judged returns the judge's result: verdicts per resolver, observations;
// nil when nothing was tested.
func (r *Result) Judged() *dnshijack.Result { return r.judged }

// Resolvers returns the resolvers tested (found or named).
func (r *Result) Resolvers() []dnshijack.Resolver { return r.resolvers }

// Discovery returns what each resolver source reported.
func (r *Result) Discovery() []dnshijack.SourceStatus { return r.discovery }

// Facts returns the host facts the audit used.
func (r *Result) Facts() *hostnet.Facts { return r.facts }

// Scope returns the addresses the audit was allowed to contact (the TLS
// proofs' answered addresses aside).
func (r *Result) Scope() target.Scope { return r.scope }

// Findings returns every finding; when nothing was tested, the discovery
// findings that say why.
func (r *Result) Findings() []finding.Finding {
	if r.judged != nil {
		return r.judged.Findings
	}
	return dnshijack.DiscoveryFindings(r.discovery, r.finished)
}

// Overall is the worst verdict over the resolvers; unknown when nothing
// was tested.
func (r *Result) Overall() dnshijack.Verdict {
	if r.judged == nil {
		return dnshijack.VerdictUnknown
	}
	return r.judged.Overall
}

// Headline is one sentence for the top of a report.
func (r *Result) Headline() string {
	if r.judged == nil {
		return headlineUntested
	}
	return r.judged.Headline
}

// Steps are what to do, in plain words; none when nothing was tested.
func (r *Result) Steps() []finding.Step {
	if r.judged == nil {
		return nil
	}
	return r.judged.Steps
}

// Note is one line about the run: the canaries and indicators used, or
// that nothing was tested.
func (r *Result) Note() string {
	if r.judged == nil {
		return "DNS checks: no resolver was found to test (see the discovery findings); name one with --resolver"
	}
	return fmt.Sprintf("canaries: %d names; indicators: %d addresses (list of %s)", len(r.judged.Canaries), r.ind.Len(), r.ind.Updated)
}

// Subjects describes the resolvers tested and the trusted resolvers.
func (r *Result) Subjects() []report.Subject {
	if r.judged == nil {
		return nil
	}
	var out []report.Subject
	for _, v := range r.judged.Verdicts {
		attrs := []finding.Evidence{{Key: "class", Value: string(v.Class)}, {Key: "class_note", Value: v.ClassNote}}
		if v.Verdict != dnshijack.VerdictUnknown {
			attrs = append(attrs, finding.Evidence{Key: "confidence", Value: v.Confidence.String()})
		}
		if v.Software != "" {
			attrs = append(attrs, finding.Evidence{Key: "software", Value: v.Software})
		}
		for _, x := range v.Reasons {
			attrs = append(attrs, finding.Evidence{Key: "reason", Value: x})
		}
		out = append(out, report.Subject{ID: v.Resolver.Key(), Kind: "resolver", Label: v.Resolver.Label(), Verdict: string(v.Verdict), Attributes: attrs})
	}
	for _, t := range r.judged.Trusted {
		out = append(out, report.Subject{ID: t.Server, Kind: "trusted_resolver", Label: t.Server,
			Attributes: []finding.Evidence{{Key: "answered", Value: fmt.Sprint(t.Answered)}, {Key: "failed", Value: fmt.Sprint(t.Failed)}}})
	}
	return out
}

// GatewaySubjects describes this host's default gateways.
func (r *Result) GatewaySubjects() []report.Subject {
	var out []report.Subject
	for _, g := range r.facts.Gateways {
		out = append(out, report.Subject{ID: g.Addr.String(), Kind: "gateway", Label: "router " + g.Addr.String() + " (default gateway)", Attributes: GatewayEvidence(g)})
	}
	return out
}

// GatewayAttributes describes the default gateway at addr (interface,
// MAC address, vendor), for a report's router subject; nil when addr is
// not a default gateway of this host.
func (r *Result) GatewayAttributes(addr netip.Addr) []finding.Evidence {
	var out []finding.Evidence
	for _, g := range r.facts.Gateways {
		if g.Addr == addr {
			out = append(out, GatewayEvidence(g)...)
		}
	}
	return out
}

// GatewayEvidence describes one default gateway: its interface, MAC
// address and vendor (or why the vendor is unknown).
func GatewayEvidence(g hostnet.Gateway) []finding.Evidence {
	attrs := []finding.Evidence{{Key: "interface", Value: g.Interface}}
	if g.MAC != nil {
		attrs = append(attrs, finding.Evidence{Key: "mac", Value: g.MAC.String()})
	}
	return append(attrs, finding.Evidence{Key: "vendor", Value: firstNonEmpty(g.Vendor, "unknown: "+firstNonEmpty(g.VendorNote, g.MACNote))})
}

// Report is the whole report of `routerwatch dns`, started at started:
// the scope, and either the gateways, resolvers, verdict, findings and
// steps, or (nothing tested) the discovery findings that say why.
func (r *Result) Report(started time.Time) *report.Report {
	rep := &report.Report{Tool: report.Tool{Name: "routerwatch", Version: buildinfo.String()}, Command: "dns", StartedAt: started}
	rep.Notes = append(rep.Notes, "scope: "+r.scope.String())
	rep.Verdict.Headline = r.Headline()
	rep.Findings = r.Findings()
	if r.judged != nil {
		rep.Subjects = append(r.GatewaySubjects(), r.Subjects()...)
		rep.Steps = r.Steps()
		rep.Notes = append(rep.Notes, r.Note())
	}
	rep.FinishedAt = r.finished
	rep.Finish()
	return rep
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
