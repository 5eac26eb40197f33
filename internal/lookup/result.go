// SPDX-License-Identifier: Apache-2.0

package lookup

import (
	"encoding/json"
	"io"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
)

// SchemaVersion is the version of the Result's JSON form.
const SchemaVersion = 1

// Result is the answer in the shape every front end emits: stable
// snake_case JSON, versioned by schema_version.
type Result struct {
	SchemaVersion int               `json:"schema_version"`
	Identity      advisory.Identity `json:"identity"`
	Verdict       string            `json:"verdict"`
	Severity      string            `json:"severity,omitempty"`
	Exploited     bool              `json:"exploited_in_the_wild"`
	EndOfLife     EOL               `json:"end_of_life"`
	Headline      string            `json:"headline"`
	Advisories    []Match           `json:"advisories"`
	Campaigns     []Campaign        `json:"campaigns"`
	Steps         []string          `json:"steps"`
	Data          DataInfo          `json:"data"`
}

// EOL is the end-of-life statement for the device.
type EOL struct {
	Status     string `json:"status"` // "yes" or "unknown"
	Date       string `json:"date,omitempty"`
	Detail     string `json:"detail,omitempty"`
	SourceURL  string `json:"source_url,omitempty"`
	Confidence string `json:"confidence,omitempty"`
}

// Exploitation says who reports the CVE exploited in the wild.
type Exploitation struct {
	Source    string `json:"source"`
	DateAdded string `json:"date_added,omitempty"`
	DueDate   string `json:"due_date,omitempty"`
}

// Match is one advisory's verdict for the device.
type Match struct {
	ID          string        `json:"id"`
	CVEs        []string      `json:"cves"`
	Title       string        `json:"title"`
	Status      string        `json:"status"`
	Reason      string        `json:"reason"`
	Confidence  string        `json:"confidence"`
	Severity    string        `json:"severity"`
	CVSS        float64       `json:"cvss,omitempty"`
	FixedIn     string        `json:"fixed_in,omitempty"`
	NoFix       bool          `json:"no_fix"`
	Region      string        `json:"depends_on_region,omitempty"`
	Text        string        `json:"free_text_version,omitempty"`
	Exploited   *Exploitation `json:"exploited,omitempty"`
	Remediation string        `json:"remediation,omitempty"`
	SourceURL   string        `json:"source_url,omitempty"`
	Source      string        `json:"source"`
	// Why is the reason in words (advisory.Match.Explain), for the
	// human-readable front ends; the JSON carries Reason instead.
	Why string `json:"-"`
}

// Campaign is a statement that the model was targeted.
type Campaign struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Confidence string `json:"confidence"`
	SourceURL  string `json:"source_url,omitempty"`
}

// DataInfo says which advisory data answered.
type DataInfo struct {
	Builtin      string `json:"builtin"`
	StoreDocs    int    `json:"store_documents"`
	StoreUpdated string `json:"store_updated,omitempty"`
	KEVCatalog   string `json:"kev_catalog,omitempty"`
}

// NewResult renders an assessment made on the data info describes.
func NewResult(as *advisory.Assessment, info datastore.Info) Result {
	eol := as.EOL != nil && as.EOL.EOL
	out := Result{
		SchemaVersion: SchemaVersion, Identity: as.Identity, Verdict: as.Verdict.String(),
		Exploited: as.Exploited, Headline: as.Headline, Steps: as.Steps,
		Advisories: []Match{}, Campaigns: []Campaign{},
		EndOfLife: EOL{Status: "unknown"},
		Data: DataInfo{Builtin: info.BuiltinVersion, StoreDocs: info.StoreDocs,
			StoreUpdated: info.StoreUpdated, KEVCatalog: info.KEVVersion},
	}
	if as.Steps == nil {
		out.Steps = []string{}
	}
	if as.Verdict == advisory.StatusAffected {
		out.Severity = as.Severity.String()
	}
	if eol {
		out.EndOfLife = EOL{Status: "yes", Date: as.EOL.Date, Detail: as.EOL.Detail,
			SourceURL: as.EOL.Source, Confidence: as.EOL.Conf.String()}
	}
	for i := range as.Matches {
		m := &as.Matches[i]
		mj := Match{
			ID: m.Advisory.ID, CVEs: m.Advisory.CVEs, Title: m.Advisory.Title, Status: m.Status.String(),
			Reason: m.Reason.String(), Confidence: m.Confidence.String(), Severity: m.Severity(eol).String(),
			CVSS: m.Advisory.CVSS, FixedIn: m.FixedIn, NoFix: m.NoFix, Region: m.Region, Text: m.Text,
			SourceURL: m.SourceURL(), Source: m.Advisory.Source.String(), Why: m.Explain(),
		}
		if mj.CVEs == nil {
			mj.CVEs = []string{}
		}
		if m.Product != nil {
			mj.Remediation = m.Product.Remediation
		}
		switch {
		case m.KEV != nil:
			mj.Exploited = &Exploitation{Source: "CISA KEV catalog", DateAdded: m.KEV.DateAdded, DueDate: m.KEV.DueDate}
		case m.Exploited != nil:
			mj.Exploited = &Exploitation{Source: m.Exploited.Source + " (per " + m.Advisory.ID + ")", DateAdded: m.Exploited.DateAdded, DueDate: m.Exploited.DueDate}
		}
		out.Advisories = append(out.Advisories, mj)
	}
	for i := range as.Campaigns {
		m := &as.Campaigns[i]
		out.Campaigns = append(out.Campaigns, Campaign{ID: m.Advisory.ID, Title: m.Advisory.Title,
			Confidence: m.Confidence.String(), SourceURL: m.SourceURL()})
	}
	return out
}

// WriteJSON writes r as `routerwatch lookup --format json` does: indented
// by two spaces, one trailing newline.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// DecidingField is the field that would decide a match waiting on a detail
// the question did not give (need_firmware → fw), "" for other reasons.
func DecidingField(reason string) Field {
	switch reason {
	case advisory.ReasonNeedFirmware.String():
		return FieldFirmware
	case advisory.ReasonNeedHWRev.String():
		return FieldHW
	case advisory.ReasonNeedRegion.String():
		return FieldRegion
	}
	return ""
}
