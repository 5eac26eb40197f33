// SPDX-License-Identifier: Apache-2.0

package advisory

import "strings"

// Text says what reason r means, in words a user reads, without the
// data a match adds to it ("this build is in a listed range"). Every
// front end (lookup, check, scan) explains a match with these words,
// through Match.Explain.
func (r Reason) Text() string {
	switch r {
	case ReasonInRange:
		return "this build is in a listed range"
	case ReasonAllBuilds:
		return "the source lists every build"
	case ReasonAtOrAfterFix:
		return "this build is at or after the fixed build"
	case ReasonOutsideRanges:
		return "this build is outside every listed range"
	case ReasonNeedFirmware, ReasonNeedHWRev, ReasonNeedRegion:
		return "it depends on the " + r.Missing()
	case ReasonHWNotListed:
		return "the advisory lists other hardware versions of this model, not this one"
	case ReasonRegionNotListed:
		return "the advisory lists another market variant of this model, not this one"
	case ReasonBadFirmware:
		return "the firmware build could not be read"
	case ReasonIncomparable:
		return "the firmware build cannot be compared with the listed builds"
	case ReasonFreeText:
		return "the source gives the versions only in words"
	case ReasonCampaign:
		return "the model is named as targeted by a campaign"
	}
	return r.String()
}

// Missing names the detail of the identity that would decide a match
// with reason r ("firmware build", "hardware version", "market
// variant"); "" when r does not wait on one. Front ends say how to give
// it (lookup's --fw) or that the device did not show it (check).
func (r Reason) Missing() string {
	switch r {
	case ReasonNeedFirmware:
		return "firmware build"
	case ReasonNeedHWRev:
		return "hardware version"
	case ReasonNeedRegion:
		return "market variant"
	}
	return ""
}

// Explain says why m has its status, in words, with what the reason
// depends on: the fixed build, the variant, the source's own words.
func (m *Match) Explain() string {
	affected := m.Status == StatusAffected
	switch m.Reason {
	case ReasonAllBuilds:
		switch {
		case affected && m.NoFix:
			return "every build is affected; the source says no fix exists"
		case affected:
			return "every build is affected; no fixed build is listed"
		}
		return "the source lists every build as " + strings.ReplaceAll(m.Status.String(), "_", " ")
	case ReasonInRange:
		if affected && m.FixedIn != "" {
			return "this build is before the fixed build " + m.FixedIn
		}
	case ReasonAtOrAfterFix:
		if m.FixedIn != "" {
			return "this build is at or after the fixed build " + m.FixedIn
		}
	case ReasonNeedFirmware:
		if m.FixedIn != "" {
			return "builds before " + m.FixedIn + " are affected"
		}
	case ReasonNeedRegion:
		if m.Region != "" {
			return "affected if this is the " + m.Region + " variant"
		}
	case ReasonFreeText:
		if m.Text != "" {
			return m.Reason.Text() + ": " + m.Text
		}
	}
	return m.Reason.Text()
}

// SourceURL returns where the facts of m can be read: the product
// statement's own source, else the advisory's, else its first reference.
// Only http and https URLs count (imported documents may carry anything
// in those fields); "" when there is none. Every front end links a match
// with it, so lookup and check name the same page.
func (m *Match) SourceURL() string {
	if m.Product != nil && isWebURL(m.Product.SourceURL) {
		return m.Product.SourceURL
	}
	if m.Advisory == nil {
		return ""
	}
	if isWebURL(m.Advisory.SourceURL) {
		return m.Advisory.SourceURL
	}
	for _, r := range m.Advisory.References {
		if isWebURL(r.URL) {
			return r.URL
		}
	}
	return ""
}

// Source is SourceURL for sentences: the URL, or "the advisory ID" when
// there is none.
func (m *Match) Source() string {
	if u := m.SourceURL(); u != "" {
		return u
	}
	if m.Advisory == nil {
		return "the advisory"
	}
	return "the advisory " + m.Advisory.ID
}

func isWebURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	return ok && rest != "" && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http")) &&
		!strings.ContainsAny(s, " \t\r\n")
}

// CVERecordURL is the CVE record's page on cve.org, the one place every
// CVE reference points to.
func CVERecordURL(cve string) string { return "https://www.cve.org/CVERecord?id=" + cve }

// KEVCatalogURL is where CISA publishes the Known Exploited
// Vulnerabilities catalog: the reference for a CVE listed in it.
const KEVCatalogURL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
