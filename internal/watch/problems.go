// SPDX-License-Identifier: Apache-2.0

package watch

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
)

// The judgement of what a result means for alerts is shared: watch runs
// the audits itself, and the server's agent endpoint (agentserver) gets
// the same results from an agent at a site; both turn them into problems
// with the functions below, so that a hijack is one problem with the same
// words wherever it was seen.

// Hijack gathers the parts of the one "DNS hijacked" problem: the DNS
// audit's verdict when it found a lying resolver, and the routers'
// settings that hand out a resolver that is not the owner's (with the DNS
// changes that made them so). The zero value is "nothing seen".
type Hijack struct {
	// Verdict is the DNS audit's headline when it found a lying (or
	// suspicious) resolver; empty otherwise.
	Verdict string `json:"verdict,omitempty"`
	// Severity is the worst part's severity.
	Severity finding.Severity `json:"severity,omitempty"`
	// Words are the settings' failing findings, "title: detail".
	Words []string `json:"words,omitempty"`
	// Changes are the DNS settings' changes, in words.
	Changes []string `json:"changes,omitempty"`
	// Any is true when some part says hijacked.
	Any bool `json:"any,omitempty"`
}

// Merge adds o's parts to h.
func (h *Hijack) Merge(o Hijack) {
	if o.Verdict != "" {
		h.Verdict = o.Verdict
	}
	h.Severity = max(h.Severity, o.Severity)
	h.Words = append(h.Words, o.Words...)
	h.Changes = append(h.Changes, o.Changes...)
	h.Any = h.Any || o.Any
}

func (h *Hijack) addSetting(sev finding.Severity, words string) {
	h.Any = true
	h.Severity = max(h.Severity, sev)
	h.Words = append(h.Words, words)
}

// Problem is the DNS hijack problem on dev, if any part says hijacked:
// dev is the router when the network has one router (the DNS of this
// network is its), else the network (NetworkDevice).
func (h *Hijack) Problem(dev alert.Device) (alert.Problem, bool) {
	if !h.Any {
		return alert.Problem{}, false
	}
	title := "DNS hijacked: a resolver this network is given is not yours"
	var detail []string
	detail = append(detail, h.Changes...)
	detail = append(detail, h.Words...)
	if h.Verdict != "" {
		title = "DNS hijacked: a resolver this network is given lies"
		detail = append(detail, "DNS audit: "+h.Verdict)
	}
	return alert.Problem{Device: dev, ID: CheckDNSHijack, CheckID: CheckDNSHijack, Subject: "DNS of " + dev.String(),
		Severity: h.Severity, Title: title, Detail: strings.Join(detail, "\n")}, true
}

// NetworkDevice names the problems of the DNS audit of a network, which
// is not one router's.
func NetworkDevice() alert.Device { return networkDevice }

// HijackFinding reports whether a check's failure is part of the DNS
// hijack problem rather than a problem of its own.
func HijackFinding(id string) bool {
	switch id {
	case "dns.resolver_hijacked", "dns.resolver_known_bad", "dns.dhcp_resolver_unknown", "dns.primary_secondary_disagree",
		"dns.answer_anomaly", "config.dhcp_dns_not_allowed", "config.wan_dns_not_allowed":
		return true
	}
	return false
}

// JudgeDNS splits a completed DNS audit into its part of the hijack
// problem (its overall verdict, and its headline as the words) and the
// problems of its own: the failing findings at or above alertOn that are
// not about the hijack, on dev.
func JudgeDNS(dev alert.Device, overall dnshijack.Verdict, headline string, findings []finding.Finding, alertOn finding.Severity) ([]alert.Problem, Hijack) {
	var h Hijack
	if overall == dnshijack.VerdictHijacked || overall == dnshijack.VerdictSuspicious {
		h.Verdict = headline
		h.Severity = finding.SeverityHigh
		if overall == dnshijack.VerdictHijacked {
			h.Severity = finding.SeverityCritical
		}
		h.Any = true
	}
	return findingProblems(dev, findings, alertOn, nil), h
}

// FindingProblems are the problems of an audit's failing findings at or
// above alertOn on dev, those about the DNS hijack left out (they are the
// hijack problem's).
func FindingProblems(dev alert.Device, findings []finding.Finding, alertOn finding.Severity) []alert.Problem {
	return findingProblems(dev, findings, alertOn, nil)
}

func findingProblems(dev alert.Device, findings []finding.Finding, alertOn finding.Severity, h *Hijack) []alert.Problem {
	var out []alert.Problem
	for i := range findings {
		f := &findings[i]
		if f.Status != finding.StatusFail || f.Severity < alertOn {
			continue
		}
		if HijackFinding(f.CheckID) {
			if h != nil {
				h.addSetting(f.Severity, f.Title+": "+f.Detail)
			}
			continue
		}
		out = append(out, alert.ProblemFromFinding(dev, f))
	}
	return out
}

// UnreachableProblem is the problem of a router whose settings could not
// be read; refused says the router refused the login (an answer, and a
// sign its password changed).
func UnreachableProblem(dev alert.Device, why string, refused bool) alert.Problem {
	sev := finding.SeverityMedium
	title := "Router settings could not be read"
	if refused {
		sev, title = finding.SeverityHigh, "Router refused the login: its password changed"
	}
	return alert.Problem{Device: dev, ID: CheckUnreachable, CheckID: CheckUnreachable, Subject: "router " + dev.Address,
		Severity: sev, Title: title, Detail: why}
}

// SettingsOptions say how to keep and judge one router's reading.
type SettingsOptions struct {
	// Store keeps the reading: a whole store, or one organisation's
	// data.
	Store store.Tenant
	// Device is the router's record; Device.ID is required.
	Device   store.Device
	Snapshot *device.Snapshot
	// Allowed are the owner's resolvers (policy.allowed_resolvers).
	Allowed []netip.Addr
	Index   *advisory.Index
	// AlertOn is the lowest severity of a failing finding that is a
	// problem.
	AlertOn finding.Severity
	// Alert names the router in problems.
	Alert alert.Device
	// Note is the baseline's note when the first reading becomes it.
	Note string
	// Now is the time of the reading (its audit's time); nil means
	// time.Now.
	Now func() time.Time
}

// Settings is one router's reading kept and judged.
type Settings struct {
	Record *configaudit.Result
	// Problems are the failing findings that are problems of their own.
	Problems []alert.Problem
	// Hijack is the reading's part of the DNS hijack problem.
	Hijack Hijack
	// BaselineSet: this first reading became the router's baseline.
	BaselineSet bool
	// BaselineErr is why it could not (the reading is kept regardless).
	BaselineErr error
}

// RecordSettings keeps a router's reading (configaudit.Record), makes the
// first reading of a router without a baseline its baseline (from then
// on its resolvers are the owner's, and any other is "not yours"), and
// splits the failing findings into the hijack part (with the DNS changes
// since the baseline, else since the last reading) and problems of their
// own.
func RecordSettings(ctx context.Context, o SettingsOptions) (*Settings, error) {
	if o.Store == nil || o.Device.ID == "" {
		return nil, errors.New("watch: a store and a device ID are needed to keep a reading")
	}
	rec, err := configaudit.Record(ctx, configaudit.RecordOptions{Store: o.Store, Snapshot: o.Snapshot, Allowed: o.Allowed, Index: o.Index,
		Device: o.Device, Now: o.Now})
	if err != nil {
		return nil, err
	}
	s := &Settings{Record: rec}
	if rec.BaselineID == 0 {
		if _, err := o.Store.SetBaseline(ctx, store.Baseline{DeviceID: o.Device.ID, SnapshotID: rec.Meta.ID, Note: o.Note}); err != nil {
			s.BaselineErr = err
		} else {
			s.BaselineSet = true
		}
	}
	dnsChanges := rec.SinceBaseline
	if rec.BaselineID == 0 {
		dnsChanges = rec.Changes
	}
	for _, g := range dnsChanges {
		if strings.HasPrefix(g.Path, "dhcp_dns") || strings.HasPrefix(g.Path, "wan_dns") {
			s.Hijack.Changes = append(s.Hijack.Changes, g.Sentence())
		}
	}
	s.Problems = findingProblems(o.Alert, rec.Findings, o.AlertOn, &s.Hijack)
	return s, nil
}
