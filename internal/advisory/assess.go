// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// Assessment is the answer to "is this router affected, and what do I
// do?" for one identity.
type Assessment struct {
	Identity Identity
	// Matches are the vulnerability advisories that name the model, most
	// urgent first. Several sources on one CVE are merged into one Match.
	Matches []Match
	// Campaigns are statements that the model was targeted.
	Campaigns []Match
	// EOL is the most specific end-of-life statement, nil when none.
	EOL *Lifecycle
	// Verdict is affected when any match is, else unknown when any is,
	// else fixed or not_affected.
	Verdict  Status
	Severity finding.Severity
	// Exploited is set when an affected (or possibly affected) CVE is
	// exploited in the wild.
	Exploited bool
	Headline  string
	Steps     []string
}

// Severity rates one match: the CVSS band, raised to high when the CVE is
// exploited in the wild, or when the device is end of life with no fix.
func (m *Match) Severity(eol bool) finding.Severity {
	s := finding.SeverityFromCVSS(m.Advisory.CVSS)
	if m.Advisory.CVSS == 0 {
		s = finding.SeverityMedium // unknown score: do not under-rate
	}
	if (m.KEV != nil || m.Exploited != nil) && s < finding.SeverityHigh {
		s = finding.SeverityHigh
	}
	if eol && m.NoFixKnown() && s < finding.SeverityHigh {
		s = finding.SeverityHigh
	}
	return s
}

// NoFixKnown reports that no fixed build exists for this identity as far
// as the sources say: a source says so, or every build is affected.
func (m *Match) NoFixKnown() bool {
	return m.Status == StatusAffected && (m.NoFix || (m.FixedIn == "" && m.Reason == ReasonAllBuilds))
}

// CVE returns the first CVE of the advisory, or its ID.
func (m *Match) CVE() string {
	if len(m.Advisory.CVEs) > 0 {
		return m.Advisory.CVEs[0]
	}
	return m.Advisory.ID
}

// ExploitedSince returns the date the CVE was added to KEV (or the
// advisory's own exploitation date) and whether it is exploited at all.
func (m *Match) ExploitedSince() (string, bool) {
	switch {
	case m.KEV != nil:
		return m.KEV.DateAdded, true
	case m.Exploited != nil:
		return m.Exploited.DateAdded, true
	}
	return "", false
}

// Assess matches id and turns the matches into a verdict and steps.
func Assess(ix *Index, id Identity) Assessment {
	a := Assessment{Identity: id}
	raw := ix.Match(nil, id)
	if l, ok := ix.Lifecycle(id); ok {
		a.EOL = l
	}
	eol := a.EOL != nil && a.EOL.EOL
	byKey := map[string]int{}
	for _, m := range raw {
		if m.Advisory.Kind == KindCampaign {
			a.Campaigns = append(a.Campaigns, m)
			continue
		}
		key := m.CVE()
		if i, ok := byKey[key]; ok {
			a.Matches[i] = merge(a.Matches[i], m)
			continue
		}
		byKey[key] = len(a.Matches)
		a.Matches = append(a.Matches, m)
	}
	slices.SortStableFunc(a.Matches, func(x, y Match) int {
		if c := cmp.Compare(rank(y.Status), rank(x.Status)); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Severity(eol), x.Severity(eol)); c != 0 {
			return c
		}
		return cmp.Compare(x.CVE(), y.CVE())
	})
	a.Verdict = StatusNotAffected
	if len(a.Matches) == 0 {
		a.Verdict = StatusUnknown
	}
	anyFixed := false
	for i := range a.Matches {
		m := &a.Matches[i]
		switch m.Status {
		case StatusAffected:
			a.Verdict = StatusAffected
		case StatusUnknown:
			if a.Verdict != StatusAffected {
				a.Verdict = StatusUnknown
			}
		case StatusFixed:
			anyFixed = true
		}
		if m.Status == StatusAffected || m.Status == StatusUnknown {
			if _, ok := m.ExploitedSince(); ok {
				a.Exploited = true
			}
			if m.Status == StatusAffected {
				a.Severity = max(a.Severity, m.Severity(eol))
			}
		}
	}
	if a.Verdict == StatusNotAffected && anyFixed {
		a.Verdict = StatusFixed
	}
	a.Headline = headline(&a, eol)
	a.Steps = steps(&a, eol)
	return a
}

func rank(s Status) int {
	switch s {
	case StatusAffected:
		return 3
	case StatusUnknown:
		return 2
	case StatusFixed:
		return 1
	}
	return 0
}

// merge combines two sources on the same CVE: the more confident wins; on
// a tie the more definite status wins; exploitation facts are kept.
func merge(a, b Match) Match {
	win, lose := a, b
	if b.Confidence > a.Confidence || (b.Confidence == a.Confidence && definite(b.Status) > definite(a.Status)) {
		win, lose = b, a
	}
	if win.KEV == nil {
		win.KEV = lose.KEV
	}
	if win.Exploited == nil {
		win.Exploited = lose.Exploited
	}
	if win.FixedIn == "" && win.Status != StatusNotAffected {
		win.FixedIn = lose.FixedIn
	}
	return win
}

func definite(s Status) int {
	if s == StatusUnknown {
		return 0
	}
	return 1
}

// DisplayName renders the identity the way a label would.
func (id Identity) DisplayName() string {
	var b strings.Builder
	if id.Vendor != "" {
		b.WriteString(VendorName(id.Vendor))
		b.WriteByte(' ')
	}
	b.WriteString(id.Model)
	if id.Region != "" {
		fmt.Fprintf(&b, "(%s)", strings.ToUpper(id.Region))
	}
	if id.HWRev != "" {
		fmt.Fprintf(&b, " V%s", CanonicalHWRev(id.HWRev))
	}
	return b.String()
}

func headline(a *Assessment, eol bool) string {
	name := a.Identity.DisplayName()
	if a.Identity.Firmware != "" {
		name += " (firmware " + a.Identity.Firmware + ")"
	}
	var affected, unknown []string
	noFix := false
	for i := range a.Matches {
		m := &a.Matches[i]
		switch m.Status {
		case StatusAffected:
			affected = append(affected, m.CVE())
			if m.NoFixKnown() {
				noFix = true
			}
		case StatusUnknown:
			unknown = append(unknown, m.CVE())
		}
	}
	var s string
	switch a.Verdict {
	case StatusAffected:
		s = fmt.Sprintf("%s is affected by %s", name, strings.Join(affected, ", "))
		if a.Exploited {
			s += ", exploited in the wild"
		}
		switch {
		case eol && noFix:
			s += "; it is end of life and no fixed build is known: replace it"
		case noFix:
			s += "; no fixed build is known for this hardware: replace it"
		case eol:
			s += "; it is end of life: update now and plan to replace it"
		default:
			s += ": update the firmware"
		}
	case StatusUnknown:
		if len(a.Matches) == 0 {
			s = fmt.Sprintf("No advisory routerwatch knows names %s; that does not prove it is safe", name)
		} else {
			s = fmt.Sprintf("%s may be affected by %s: more details are needed to decide", name, strings.Join(unknown, ", "))
		}
	case StatusFixed:
		s = fmt.Sprintf("%s runs a fixed build for every advisory routerwatch knows", name)
	default:
		s = fmt.Sprintf("%s is not affected by the advisories routerwatch knows", name)
	}
	if eol && a.Verdict != StatusAffected {
		s += "; it is end of life, so future flaws will not be fixed: plan to replace it"
	}
	return s + "."
}

func steps(a *Assessment, eol bool) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	var noFix, unpatched []string
	for i := range a.Matches {
		m := &a.Matches[i]
		if m.Status == StatusAffected && m.NoFixKnown() {
			if m.NoFix {
				unpatched = append(unpatched, m.CVE())
			} else {
				noFix = append(noFix, m.CVE())
			}
		}
	}
	switch {
	case len(unpatched) > 0 && len(noFix) > 0:
		add(fmt.Sprintf("Replace the router with a supported model: the vendor leaves %s unpatched on this hardware and no fixed build is known for %s.", strings.Join(unpatched, ", "), strings.Join(noFix, ", ")))
	case len(unpatched) > 0:
		add(fmt.Sprintf("Replace the router with a supported model: the vendor leaves %s unpatched on this hardware.", strings.Join(unpatched, ", ")))
	case len(noFix) > 0:
		add(fmt.Sprintf("Replace the router with a supported model: no fixed build is known for %s on this hardware.", strings.Join(noFix, ", ")))
	}
	for i := range a.Matches {
		m := &a.Matches[i]
		switch m.Status {
		case StatusAffected:
			switch {
			case m.NoFixKnown():
				// Covered by the replace step above.
			case m.FixedIn != "":
				add(fmt.Sprintf("Update the firmware to %s or later (%s); download it only from the vendor's support site.", m.FixedIn, m.CVE()))
			default:
				add(fmt.Sprintf("No fixed build is known for %s: see %s, and replace the router if no update exists.", m.CVE(), m.Source()))
			}
		case StatusUnknown:
			switch m.Reason {
			case ReasonNeedHWRev:
				add("Read the hardware version on the label under the router (for example \"Ver: 10.0\") and run lookup again with --hw.")
			case ReasonNeedFirmware:
				add("Read the firmware build on the router's status page (for example \"3.16.9 Build 200409 Rel.52498n\") and run lookup again with --fw.")
			case ReasonNeedRegion:
				add(fmt.Sprintf("Check whether the router is the %s variant (label or box) and run lookup again with --region.", m.Region))
			case ReasonBadFirmware, ReasonIncomparable:
				add(fmt.Sprintf("The firmware build %q could not be compared with the builds listed for %s: check it against %s.", a.Identity.Firmware, m.CVE(), m.Source()))
			case ReasonFreeText:
				add(fmt.Sprintf("The source gives the affected versions of %s only in words (%q): compare your build by hand at %s.", m.CVE(), m.Text, m.Source()))
			default:
				add(fmt.Sprintf("No source says whether this build is affected by %s: check %s.", m.CVE(), m.Source()))
			}
		}
	}
	if eol && len(out) == 0 {
		add("Plan to replace the router: it is end of life and will not get security fixes.")
	}
	if len(a.Campaigns) > 0 || a.Verdict == StatusAffected {
		add("Turn off remote (WAN) management, use a strong unique admin password, and allow the admin page only from your own network.")
	}
	if len(a.Campaigns) > 0 {
		add("Check that the router's DHCP DNS servers are the ones you expect (routerwatch dns).")
	}
	return out
}
