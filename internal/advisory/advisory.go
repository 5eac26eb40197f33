// SPDX-License-Identifier: Apache-2.0

// Package advisory holds the normalized advisory model, product identity,
// and the Index that matches an identity against advisories, the CISA KEV
// catalog and end-of-life statements.
//
// The contract: the package is pure (no I/O). Loaders in the sub-packages
// turn CSAF 2.0 documents, CVE JSON 5 records and the KEV catalog into a
// Dataset; NewIndex compiles a Dataset once; Index.Match answers for one
// identity without allocating beyond the caller's slice. A value that no
// source gives stays unknown: the matcher says "unknown" and why rather
// than guessing.
package advisory

import (
	"time"

	"github.com/routerwatch/routerwatch/internal/version"
)

// Status is the verdict for one product against one advisory.
type Status uint8

// Statuses, from least to most informative for the user.
const (
	StatusUnknown     Status = iota // no source decides it for this identity
	StatusNotAffected               // the advisory says this product or build is not affected
	StatusFixed                     // the build is at or past the fixed build
	StatusAffected                  // the build (or every build) is affected
)

var statusNames = [...]string{"unknown", "not_affected", "fixed", "affected"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Confidence says how far a value can be trusted, after THREAT.md's tags:
// High for a primary source (vendor, CNA record, government text), Medium
// for secondary sources that agree or a primary source we have reason to
// doubt, Low for a single secondary source or an inference.
type Confidence uint8

// Confidence levels.
const (
	ConfidenceUnknown Confidence = iota
	ConfidenceLow
	ConfidenceMedium
	ConfidenceHigh
)

var confidenceNames = [...]string{"unknown", "low", "medium", "high"}

func (c Confidence) String() string {
	if int(c) < len(confidenceNames) {
		return confidenceNames[c]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseConfidence reads "high", "medium", "low" (any case).
func ParseConfidence(s string) (Confidence, bool) {
	for i, n := range confidenceNames {
		if i > 0 && equalFold(s, n) {
			return Confidence(i), true
		}
	}
	return ConfidenceUnknown, false
}

// Kind says what sort of statement an Advisory is.
type Kind uint8

// Kinds of advisory.
const (
	KindVulnerability Kind = iota // one or more CVEs with affected products
	KindCampaign                  // products named as targeted by a campaign; no version rule
)

// SourceKind says which loader produced an Advisory.
type SourceKind uint8

// Source kinds.
const (
	SourceBuiltin SourceKind = iota // embedded in the binary
	SourceCSAF                      // an imported or downloaded CSAF 2.0 document
	SourceCVE                       // an imported CVE JSON 5 record
)

var sourceNames = [...]string{"builtin", "csaf", "cve"}

func (s SourceKind) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (s SourceKind) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Advisory is one normalized advisory document.
type Advisory struct {
	ID        string     `json:"id"`    // tracking ID (CSAF) or CVE ID (CVE record)
	Title     string     `json:"title"` // one line
	Kind      Kind       `json:"-"`
	CVEs      []string   `json:"cves,omitempty"`
	Publisher string     `json:"publisher,omitempty"`
	Source    SourceKind `json:"source"`
	// SourceURL is where the facts came from (the CVE record, the vendor
	// page); References lists the rest.
	SourceURL  string      `json:"source_url,omitempty"`
	Published  time.Time   `json:"published,omitzero"`
	Updated    time.Time   `json:"updated,omitzero"`
	CVSS       float64     `json:"cvss,omitempty"` // base score, 0 when no source gives one
	CVSSVector string      `json:"cvss_vector,omitempty"`
	Summary    string      `json:"summary,omitempty"`
	Confidence Confidence  `json:"confidence"`
	References []Reference `json:"references,omitempty"`
	Products   []Product   `json:"products"`
	// Exploited lists exploitation statements carried by the advisory
	// itself (CSAF exploit_status threats, CVE-record KEV entries).
	Exploited []Exploitation `json:"exploited,omitempty"`
	// Warnings are things a loader could not interpret, kept so the user
	// can see them (for example a free-text version).
	Warnings []string `json:"warnings,omitempty"`
}

// Reference is a link with a short description.
type Reference struct {
	URL     string `json:"url"`
	Summary string `json:"summary,omitempty"`
}

// MaxCVESequenceDigits bounds the sequence number of a CVE ID. The CVE
// ID syntax allows 4 or more digits and today's IDs have at most 7; 20
// leaves room for decades while refusing a 100,000-digit "ID" that a
// hostile document uses to make every later step (index keys, output,
// the store's file names) pay for its size.
const MaxCVESequenceDigits = 20

// IsCVEID reports whether s is a CVE ID: "CVE-", a four-digit year, "-",
// then 4 to MaxCVESequenceDigits digits. Only ASCII digits count.
func IsCVEID(s string) bool {
	const prefix = len("CVE-YYYY-")
	if len(s) < prefix+4 || len(s) > prefix+MaxCVESequenceDigits || s[:4] != "CVE-" || s[8] != '-' {
		return false
	}
	for i := 4; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// Exploitation is one statement that a CVE is exploited in the wild.
type Exploitation struct {
	CVE       string     `json:"cve"`
	Source    string     `json:"source"` // e.g. "CISA KEV"
	DateAdded string     `json:"date_added,omitempty"`
	DueDate   string     `json:"due_date,omitempty"`
	Details   string     `json:"details,omitempty"`
	SourceURL string     `json:"source_url,omitempty"`
	Ransom    string     `json:"known_ransomware_use,omitempty"`
	Conf      Confidence `json:"confidence"`
}

// Product is one product an advisory speaks about, with the version rules
// that decide the status of a given build.
type Product struct {
	Vendor string `json:"vendor"`
	Model  string `json:"model"`
	// HWRev is the hardware revision ("10", "2"); empty means every
	// revision of the model.
	HWRev string `json:"hw_rev,omitempty"`
	// Region is the market variant ("EU", "US", "MS"); empty means every
	// variant.
	Region string `json:"region,omitempty"`
	// Scheme says how the firmware versions in Ranges are written.
	Scheme version.Scheme `json:"-"`
	Ranges []Range        `json:"ranges,omitempty"`
	// Default is the status of builds no range covers.
	Default Status `json:"default"`
	// FixedIn is the first fixed build when a source gives one.
	FixedIn string `json:"fixed_in,omitempty"`
	// NoFix records a source saying that no fix exists or is planned.
	NoFix bool `json:"no_fix,omitempty"`
	// Remediation is the source's own advice for this product.
	Remediation string `json:"remediation,omitempty"`
	// Confidence overrides the advisory's when set.
	Confidence Confidence `json:"confidence,omitempty"`
	SourceURL  string     `json:"source_url,omitempty"`
}

// Range is one version rule: builds it contains have Status.
type Range struct {
	Status Status `json:"status"`
	// All, when set, contains every build.
	All bool `json:"all,omitempty"`
	// Exact contains only this build.
	Exact string `json:"exact,omitempty"`
	// Introduced (inclusive) and LessThan / LessThanOrEqual bound the range;
	// an empty bound is open.
	Introduced      string `json:"introduced,omitempty"`
	LessThan        string `json:"less_than,omitempty"`
	LessThanOrEqual string `json:"less_than_or_equal,omitempty"`
	// Text is a version the source wrote in words that no parser can read
	// ("All versions prior to version 1.14 Build 20230219"). It never
	// decides a status: a match on such a product is unknown, with Text.
	Text string `json:"text,omitempty"`
	// Scheme names the version scheme of the bounds when it differs from
	// the product's: "date" for TP-Link's date-typed CVE ranges
	// ("lessThan 241108") compared against full builds.
	Scheme string `json:"scheme,omitempty"`
}

// KEVEntry is one CISA Known Exploited Vulnerabilities entry.
type KEVEntry struct {
	CVE        string `json:"cve"`
	Vendor     string `json:"vendor"`
	Product    string `json:"product"`
	Name       string `json:"name"`
	DateAdded  string `json:"date_added"`
	DueDate    string `json:"due_date,omitempty"`
	Ransomware string `json:"known_ransomware_use,omitempty"`
}

// Lifecycle is an end-of-life statement about a product.
type Lifecycle struct {
	Vendor string `json:"vendor"`
	Model  string `json:"model"`
	HWRev  string `json:"hw_rev,omitempty"`   // empty: every revision
	Region string `json:"region,omitempty"`   // empty: every variant
	EOL    bool   `json:"eol"`                // the source says end of life / end of support
	Date   string `json:"date,omitempty"`     // YYYY-MM-DD when a source gives it
	Detail string `json:"detail,omitempty"`   // the source's words
	Source string `json:"source_url"`         // where it is said
	Doc    string `json:"document,omitempty"` // advisory ID that carried it
	Conf   Confidence
}

// Dataset is everything the Index is built from.
type Dataset struct {
	Advisories []Advisory
	KEV        map[string]KEVEntry // by CVE ID
	// KEVVersion is the catalogVersion of the KEV catalog in KEV, "" when
	// none was loaded.
	KEVVersion string
	Lifecycle  []Lifecycle
}
