// SPDX-License-Identifier: Apache-2.0

// Package firmware judges whether a router is known to be vulnerable:
// from its identity (internal/identify) and the advisory assessment
// (advisory.Assess: matches, CISA KEV, end of life) it makes findings —
// identified or not, each advisory that names the model, end of life, the
// campaign it was targeted by — and, when the owner asked for it, the
// result of the CVE-2023-50224 confirming request (probe/confirmprobe).
//
// The contract: pure (no network, no files), deterministic; every verdict
// is a finding, passes included; an identity too thin to match (no model)
// gives unknown findings that say what is missing, never a pass.
// Severity comes from advisory.Match.Severity, which already raises
// exploited (KEV) CVEs and no-fix CVEs on end-of-life hardware to high;
// the end-of-life finding itself is medium, high when the device is also
// affected by an exploited CVE. Findings carry references: the CVE record,
// the KEV catalog when listed, the advisory's source.
package firmware

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/probe/confirmprobe"
)

// The checks, one literal list (STYLE.md R8). Titles say what was found
// for each status; firmware.known_vulnerable names the CVE in its title
// ("Affected by CVE-2023-50224 (exploited in the wild)"), or "any known
// vulnerability" when no advisory names the model.
var (
	checkIdentity = finding.Check{ID: "firmware.identity_unknown", Severity: finding.SeverityMedium,
		Pass:    "Router identified",
		Unknown: "Could not identify the router's model",
		Trigger: "never fails; unknown when the model could not be named from what the device shows (then no advisory can be matched)"}
	checkVulnerable = finding.Check{ID: "firmware.known_vulnerable", Severity: finding.SeverityHigh,
		Pass:    "Not affected by %s",
		Fail:    "Affected by %s",
		Unknown: "Could not tell whether this router is affected by %s",
		Trigger: "an advisory says this model, hardware revision and firmware build are affected (one finding per CVE; severity from CVSS, high when exploited in the wild or without a fix on end-of-life hardware); unknown when the advisory's answer depends on a detail the device did not show"}
	checkEOL = finding.Check{ID: "firmware.end_of_life", Severity: finding.SeverityMedium,
		Fail:    "Router is end of life",
		Unknown: "Could not tell whether the router is end of life",
		Trigger: "a source says the model (or this hardware revision) is end of life: medium, high when it is also affected by an exploited CVE; unknown when no source says either way"}
	checkCampaign = finding.Check{ID: "firmware.campaign_target", Severity: finding.SeverityMedium,
		Pass:    "Model not named in a known attack campaign",
		Fail:    "Model named in a known attack campaign",
		Trigger: "an advisory names the model as targeted by a campaign (the 2025-2026 APT28 DNS hijacking)"}
	checkConfirm = finding.Check{ID: "firmware.cve_2023_50224_confirmed", Severity: finding.SeverityCritical,
		Pass:    "Router did not hand out its credential file (CVE-2023-50224)",
		Fail:    "Router hands out its credential file (CVE-2023-50224)",
		Unknown: "Could not tell whether the router hands out its credential file (CVE-2023-50224)",
		Trigger: "only with --confirm: GET /loginFs/./dropbear/dropbearpwd answered with the credential file's shape (critical); unknown when the request could not be made"}
)

// anyVulnerability fills firmware.known_vulnerable's title when no single
// advisory is meant.
const anyVulnerability = "any known vulnerability"

// Checks lists every check, in report order.
func Checks() []finding.Check {
	return []finding.Check{checkIdentity, checkVulnerable, checkEOL, checkCampaign, checkConfirm}
}

// Confirm is the outcome of the opt-in confirming request.
type Confirm struct {
	// Observation is what the probe recorded; nil when it was not sent.
	Observation *confirmprobe.Observation
	// Err is the probe's error, if any.
	Err error
	// Skipped says why the request was not sent although asked for.
	Skipped string
}

// Input is one device's identity and assessment.
type Input struct {
	// Key identifies the device in finding IDs (its address).
	Key string
	// Subject names the device in findings.
	Subject string
	// Identity is the identification result.
	Identity identify.Result
	// Assessment is advisory.Assess of Identity.Identity; ignored when the
	// identity has no model.
	Assessment advisory.Assessment
	// Confirm is set when the owner asked for the confirming request.
	Confirm *Confirm
	// Now stamps the findings; zero means time.Now.
	Now time.Time
}

// Identified reports whether the identity can be matched: it names a model.
func Identified(r identify.Result) bool { return r.Identity.Model != "" }

// Judge returns every verdict for the device.
func Judge(in Input) []finding.Finding {
	e := &emitter{in: in, at: in.Now}
	if e.at.IsZero() {
		e.at = time.Now()
	}
	e.identity()
	if !Identified(in.Identity) {
		e.addTitled(checkVulnerable, anyVulnerability, "", finding.StatusUnknown, finding.SeverityHigh, finding.ConfidenceHigh,
			"Without the model, no advisory can be matched.",
			"Read the model and hardware version on the label under the router and run: routerwatch lookup MODEL --hw VERSION", nil)
		e.add(checkEOL, "", finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
			"Without the model, end of life cannot be looked up.", "", nil)
	} else {
		e.vulnerable()
		e.eol()
		e.campaign()
	}
	if in.Confirm != nil {
		e.confirm()
	}
	return e.out
}

type emitter struct {
	in  Input
	at  time.Time
	out []finding.Finding
}

func (e *emitter) add(c finding.Check, key string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence, refs ...finding.Reference) {
	e.addTitled(c, "", key, st, sev, conf, detail, fix, ev, refs...)
}

// addTitled is add for a check whose title names what was found (what
// fills its %s verb).
func (e *emitter) addTitled(c finding.Check, what, key string, st finding.Status, sev finding.Severity, conf finding.Confidence, detail, fix string, ev []finding.Evidence, refs ...finding.Reference) {
	id := c.ID + "@" + e.in.Key
	if key != "" {
		id += "/" + key
	}
	f := finding.Finding{ID: id, CheckID: c.ID, Subject: e.in.Subject, Status: st, Severity: sev,
		Confidence: conf, Title: c.Title(st, what), Detail: detail, Remediation: fix, Evidence: ev, References: refs, ObservedAt: e.at}
	if emitted != nil {
		emitted(c, f)
	}
	e.out = append(e.out, f)
}

// emitted, when set (by the package's tests), sees every finding the
// package makes, with the check that made it.
var emitted func(finding.Check, finding.Finding)

func ev(k, v string) finding.Evidence { return finding.Evidence{Key: k, Value: v} }

// identity reports what was identified and from what.
func (e *emitter) identity() {
	r := e.in.Identity
	var evs []finding.Evidence
	for _, f := range []struct {
		name string
		f    identify.Field
	}{{"vendor", r.Vendor}, {"model", r.Model}, {"hardware", r.HWRev}, {"firmware", r.Firmware}, {"region", r.Region}, {"os", r.OS}} {
		if f.f.Value == "" {
			continue
		}
		var from []string
		for _, s := range f.f.Sources {
			src := s.Probe + " " + s.Evidence
			if !slices.Contains(from, src) {
				from = append(from, src)
			}
		}
		evs = append(evs, ev(f.name, fmt.Sprintf("%s (%s confidence; from %s)", f.f.Value, f.f.Confidence, strings.Join(from, ", "))))
	}
	for _, c := range r.Conflicts {
		evs = append(evs, ev("conflicting "+c.Field, c.Value))
	}
	switch {
	case Identified(r):
		missing := missingFields(r)
		detail := fmt.Sprintf("Identified as %s.", r.Identity.DisplayName())
		if len(missing) > 0 {
			detail += fmt.Sprintf(" The device did not show its %s.", strings.Join(missing, " or "))
		}
		e.add(checkIdentity, "", finding.StatusPass, finding.SeverityMedium, r.Confidence, detail, "", evs)
	case r.Vendor.Value != "":
		e.add(checkIdentity, "", finding.StatusUnknown, finding.SeverityMedium, finding.ConfidenceHigh,
			fmt.Sprintf("Only the vendor is known (%s): the model could not be read from what the device shows, so advisories cannot be matched.", r.Vendor.Value),
			"Read the model on the label under the router and run: routerwatch lookup MODEL --hw VERSION", evs)
	default:
		e.add(checkIdentity, "", finding.StatusUnknown, finding.SeverityMedium, finding.ConfidenceHigh,
			"Nothing the device answered (web page, UPnP description, SNMP, SSH/telnet banners, MikroTik API) names its vendor or model.",
			"Read the model on the label under the router and run: routerwatch lookup MODEL --hw VERSION", evs)
	}
}

func missingFields(r identify.Result) []string {
	var out []string
	if r.Identity.HWRev == "" {
		out = append(out, "hardware version")
	}
	if r.Identity.Firmware == "" {
		out = append(out, "firmware build")
	}
	return out
}

// capConfidence lowers a verdict's confidence to the identity's: a match
// on a model the device only hinted at is no surer than the hint.
func (e *emitter) capConfidence(c finding.Confidence) finding.Confidence {
	r := e.in.Identity
	c = min(c, r.Model.Confidence)
	if r.Identity.HWRev != "" {
		c = min(c, r.HWRev.Confidence)
	}
	return c
}

func (e *emitter) eolFlag() bool { return e.in.Assessment.EOL != nil && e.in.Assessment.EOL.EOL }

// vulnerable reports one finding per advisory that names the model.
func (e *emitter) vulnerable() {
	a := &e.in.Assessment
	name := e.in.Identity.Identity.DisplayName()
	if len(a.Matches) == 0 {
		e.addTitled(checkVulnerable, anyVulnerability, "", finding.StatusPass, finding.SeverityHigh, finding.ConfidenceLow,
			fmt.Sprintf("No advisory routerwatch knows names %s. That does not prove it is safe: it may be that no one has looked, or that routerwatch's data is older than the news (routerwatch advisories update).", name),
			"", nil)
		return
	}
	eol := e.eolFlag()
	for i := range a.Matches {
		m := &a.Matches[i]
		cve := m.CVE()
		sev := m.Severity(eol)
		conf := e.capConfidence(confidence(m.Confidence))
		evs := []finding.Evidence{ev("advisory", m.Advisory.ID), ev("status", m.Status.String()), ev("reason", m.Reason.String())}
		if m.Advisory.CVSS > 0 {
			evs = append(evs, ev("cvss", fmt.Sprint(m.Advisory.CVSS)))
		}
		if m.FixedIn != "" {
			evs = append(evs, ev("fixed_in", m.FixedIn))
		}
		if since, ok := m.ExploitedSince(); ok {
			evs = append(evs, ev("exploited_in_the_wild", firstNonEmpty(since, "yes")))
		}
		refs := references(m)
		status := m.Status
		confirmed := cve == confirmprobe.CVE && e.in.Confirm != nil && e.in.Confirm.Observation != nil && e.in.Confirm.Observation.Leaked()
		if confirmed && status != advisory.StatusAffected {
			// The device answered the confirming request with its
			// credential file: it is affected, whatever the version data
			// could not decide.
			status = advisory.StatusAffected
			sev = max(sev, finding.SeverityHigh)
			conf = finding.ConfidenceHigh
			evs = append(evs, ev("confirmed", "by the --confirm request"))
		}
		switch status {
		case advisory.StatusAffected:
			why := explain(m)
			if confirmed && m.Status != advisory.StatusAffected {
				why = "confirmed: it handed out its credential file to the --confirm request"
			}
			detail := fmt.Sprintf("%s is affected by %s: %s (%s).", name, cve, m.Advisory.Title, why)
			if since, ok := m.ExploitedSince(); ok {
				detail += " It is exploited in the wild"
				if since != "" {
					detail += " (listed since " + since + ")"
				}
				detail += "."
			}
			what := cve
			if _, ok := m.ExploitedSince(); ok {
				what += " (exploited in the wild)"
			}
			e.addTitled(checkVulnerable, what, cve, finding.StatusFail, sev, conf, detail, fixFor(m, eol), evs, refs...)
		case advisory.StatusUnknown:
			e.addTitled(checkVulnerable, cve, cve, finding.StatusUnknown, sev, conf,
				fmt.Sprintf("%s may be affected by %s: %s (%s).", name, cve, m.Advisory.Title, explain(m)),
				unknownStep(m, e.in.Identity.Identity), evs, refs...)
		default:
			e.addTitled(checkVulnerable, cve, cve, finding.StatusPass, sev, conf,
				fmt.Sprintf("%s: %s for %s (%s).", cve, strings.ReplaceAll(m.Status.String(), "_", " "), name, explain(m)), "", evs, refs...)
		}
	}
}

// eol reports the end-of-life statement.
func (e *emitter) eol() {
	a := &e.in.Assessment
	name := e.in.Identity.Identity.DisplayName()
	if !e.eolFlag() {
		e.add(checkEOL, "", finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
			fmt.Sprintf("No source routerwatch has says whether %s is end of life.", name),
			"Check the vendor's support page for the model and hardware version.", nil)
		return
	}
	l := a.EOL
	sev := finding.SeverityMedium
	if ExploitedAffected(a) {
		sev = finding.SeverityHigh
	}
	detail := fmt.Sprintf("%s is end of life", name)
	if l.Date != "" {
		detail += " since " + l.Date
	}
	detail += ": it will not get security fixes."
	if l.Detail != "" {
		detail += " " + l.Detail
	}
	fix := "Plan to replace the router with a supported model."
	if sev == finding.SeverityHigh {
		fix = "Replace the router with a supported model: it is exploited in the wild and will not be fixed."
	}
	var refs []finding.Reference
	if l.Source != "" {
		refs = append(refs, finding.Reference{Kind: "url", URL: l.Source})
	}
	e.add(checkEOL, "", finding.StatusFail, sev, e.capConfidence(confidence(l.Conf)), detail, fix,
		[]finding.Evidence{ev("end_of_life", "yes"), ev("date", firstNonEmpty(l.Date, "not published"))}, refs...)
}

// campaign reports whether the model was named as targeted.
func (e *emitter) campaign() {
	a := &e.in.Assessment
	name := e.in.Identity.Identity.DisplayName()
	if len(a.Campaigns) == 0 {
		e.add(checkCampaign, "", finding.StatusPass, finding.SeverityMedium, finding.ConfidenceLow,
			fmt.Sprintf("No campaign advisory routerwatch knows names %s.", name), "", nil)
		return
	}
	for i := range a.Campaigns {
		m := &a.Campaigns[i]
		e.add(checkCampaign, m.Advisory.ID, finding.StatusFail, finding.SeverityMedium, e.capConfidence(confidence(m.Confidence)),
			fmt.Sprintf("%s is named among the models targeted by: %s. Being targeted is not being compromised: the DNS checks show whether this router's DNS was changed.", name, m.Advisory.Title),
			"Check that the router's DHCP DNS servers are the ones you expect (the DNS part of this report, or routerwatch dns), change the admin password, and turn off remote management.",
			[]finding.Evidence{ev("campaign", m.Advisory.ID)}, references(m)...)
	}
}

// confirm reports the confirming request.
func (e *emitter) confirm() {
	c := e.in.Confirm
	refs := []finding.Reference{{Kind: "cve", ID: confirmprobe.CVE, URL: advisory.CVERecordURL(confirmprobe.CVE)}}
	switch {
	case c.Skipped != "":
		e.add(checkConfirm, "", finding.StatusUnknown, finding.SeverityInfo, finding.ConfidenceHigh,
			"The confirming request was not sent: "+c.Skipped+".", "", nil, refs...)
		return
	case c.Observation == nil:
		e.add(checkConfirm, "", finding.StatusUnknown, finding.SeverityCritical, finding.ConfidenceHigh,
			"The confirming request could not be made: "+errText(c.Err)+".", "", nil, refs...)
		return
	}
	var evs []finding.Evidence
	answered := false
	for _, r := range c.Observation.Endpoints {
		where := fmt.Sprintf("%s port %d", r.Scheme, r.Port)
		if r.StatusCode == 0 {
			evs = append(evs, ev(where, "no answer: "+firstNonEmpty(r.Error, string(r.Status))))
			continue
		}
		answered = true
		evs = append(evs, ev(where, fmt.Sprintf("HTTP %d, Content-Type %q, credential-file shape %v", r.StatusCode, r.ContentType, r.CredentialShape)))
	}
	req := "GET " + confirmprobe.Path
	switch {
	case c.Observation.Leaked():
		fix := "Change the router's admin password now (the file gives it away to anyone on your network), turn off remote management, and "
		if a := e.in.Assessment; a.Verdict == advisory.StatusAffected && noFix(a) {
			fix += "replace the router: no fixed firmware is known for it."
		} else {
			fix += "install the vendor's fixed firmware, or replace the router if there is none."
		}
		e.add(checkConfirm, "", finding.StatusFail, finding.SeverityCritical, finding.ConfidenceHigh,
			"Confirmed: "+req+" returned the router's credential file (the admin user name and the MD5 of its password) without asking for a password. routerwatch did not keep or show its content.",
			fix, evs, refs...)
	case answered:
		e.add(checkConfirm, "", finding.StatusPass, finding.SeverityCritical, finding.ConfidenceMedium,
			"Not confirmed: "+req+" did not return the credential file. How a patched device answers is not documented, so this is not proof that the firmware is fixed.",
			"", evs, refs...)
	default:
		e.add(checkConfirm, "", finding.StatusUnknown, finding.SeverityCritical, finding.ConfidenceHigh,
			"The confirming request got no HTTP answer: "+errText(c.Err)+".", "", evs, refs...)
	}
}

// ExploitedAffected reports whether an affected match is exploited in the
// wild.
func ExploitedAffected(a *advisory.Assessment) bool {
	for i := range a.Matches {
		if _, ok := a.Matches[i].ExploitedSince(); ok && a.Matches[i].Status == advisory.StatusAffected {
			return true
		}
	}
	return false
}

// NoFixKnown reports whether an affected match has no known fix.
func NoFixKnown(a *advisory.Assessment) bool {
	for i := range a.Matches {
		if a.Matches[i].NoFixKnown() {
			return true
		}
	}
	return false
}

func noFix(a advisory.Assessment) bool {
	for i := range a.Matches {
		if a.Matches[i].CVE() == confirmprobe.CVE && a.Matches[i].NoFixKnown() {
			return true
		}
	}
	return false
}

// explain is the match's reason in words (advisory.Match.Explain), and
// which detail the device did not show when that is what is missing.
func explain(m *advisory.Match) string {
	if missing := m.Reason.Missing(); missing != "" {
		return m.Explain() + "; the device did not show its " + missing
	}
	return m.Explain()
}

// fixFor says what to do about an affected match.
func fixFor(m *advisory.Match, eol bool) string {
	switch {
	case m.NoFixKnown() && eol:
		return "Replace the router with a supported model: it is end of life and no fixed build is known. Until then, turn off remote management and change the admin password."
	case m.NoFixKnown():
		return "Replace the router with a supported model: no fixed build is known for this hardware. Until then, turn off remote management and change the admin password."
	case m.FixedIn != "":
		return fmt.Sprintf("Update the firmware to %s or later; download it only from the vendor's support site.", m.FixedIn)
	}
	return fmt.Sprintf("No fixed build is listed: check %s, and replace the router if no update exists.", m.Source())
}

// unknownStep says how to decide an unknown match.
func unknownStep(m *advisory.Match, id advisory.Identity) string {
	model := id.Model
	switch m.Reason {
	case advisory.ReasonNeedHWRev:
		return fmt.Sprintf("Read the hardware version on the label under the router (for example \"Ver: 10.0\") and run: routerwatch lookup %s --hw VERSION", quote(model))
	case advisory.ReasonNeedFirmware:
		return fmt.Sprintf("Read the firmware build on the router's status page and run: routerwatch lookup %s --fw BUILD", quote(model))
	case advisory.ReasonNeedRegion:
		return fmt.Sprintf("Check whether the router is the %s variant (label or box) and run: routerwatch lookup %s --region %s", m.Region, quote(model), m.Region)
	}
	return "Compare your firmware build by hand with " + m.Source() + "."
}

func quote(s string) string {
	if strings.ContainsAny(s, " ()") {
		return `"` + s + `"`
	}
	return s
}

func references(m *advisory.Match) []finding.Reference {
	var refs []finding.Reference
	for _, c := range m.Advisory.CVEs {
		refs = append(refs, finding.Reference{Kind: "cve", ID: c, URL: advisory.CVERecordURL(c)})
	}
	// The catalog itself is the KEV reference: a per-CVE source URL is
	// usually the CVE record, already referenced above.
	if m.KEV != nil {
		refs = append(refs, finding.Reference{Kind: "kev", ID: m.KEV.CVE, URL: advisory.KEVCatalogURL})
	} else if m.Exploited != nil && strings.Contains(strings.ToUpper(m.Exploited.Source), "KEV") {
		refs = append(refs, finding.Reference{Kind: "kev", ID: m.Exploited.CVE, URL: advisory.KEVCatalogURL})
	}
	if u := m.SourceURL(); u != "" {
		refs = append(refs, finding.Reference{Kind: "advisory", ID: m.Advisory.ID, URL: u})
	}
	return refs
}

func confidence(c advisory.Confidence) finding.Confidence {
	switch c {
	case advisory.ConfidenceHigh:
		return finding.ConfidenceHigh
	case advisory.ConfidenceMedium:
		return finding.ConfidenceMedium
	}
	return finding.ConfidenceLow
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "no reason recorded"
	}
	return err.Error()
}
