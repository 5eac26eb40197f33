// SPDX-License-Identifier: Apache-2.0

// Package cverec turns CVE JSON 5.x records (as published in
// CVEProject/cvelistV5) into normalized advisories.
//
// The contract: the CNA container is the source of product and version
// statements; ADP containers are read only for CISA's KEV entry (the
// "kev" metric), never for version rules, because ADP product data are
// CPE-style guesses (THREAT-TABLES.md §1.1). A version the scheme parsers
// cannot read ("All versions prior to version 1.14 Build 20230219") is
// kept verbatim as unknown-with-text and listed in Result.FreeText; it
// never becomes a guessed bound.
package cverec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/version"
)

// MaxRecordSize bounds one record; real records are a few kilobytes.
const MaxRecordSize = 4 << 20

// ErrNotCVERecord reports input that is not a CVE JSON 5 record.
var ErrNotCVERecord = errors.New("not a CVE JSON 5 record (dataType is not CVE_RECORD)")

// ErrRejected reports a record whose CVE was rejected by its CNA.
var ErrRejected = errors.New("the CVE record is REJECTED")

// Result is one converted record.
type Result struct {
	Advisory advisory.Advisory
	// FreeText lists every version statement kept as text, as
	// "product: text".
	FreeText []string
	// Lifecycle holds end-of-life statements found in the record, which
	// are not structured in CVE JSON; none are derived today.
	Lifecycle []advisory.Lifecycle
}

type record struct {
	DataType    string `json:"dataType"`
	DataVersion string `json:"dataVersion"`
	Meta        struct {
		CVEID         string `json:"cveId"`
		State         string `json:"state"`
		Assigner      string `json:"assignerShortName"`
		DatePublished string `json:"datePublished"`
		DateUpdated   string `json:"dateUpdated"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA cna   `json:"cna"`
		ADP []adp `json:"adp"`
	} `json:"containers"`
}

type cna struct {
	Title        string `json:"title"`
	Descriptions []struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"descriptions"`
	Affected   []affected `json:"affected"`
	Metrics    []metric   `json:"metrics"`
	References []struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	} `json:"references"`
	Provider struct {
		ShortName string `json:"shortName"`
	} `json:"providerMetadata"`
}

type affected struct {
	Vendor        string    `json:"vendor"`
	Product       string    `json:"product"`
	DefaultStatus string    `json:"defaultStatus"`
	Versions      []verItem `json:"versions"`
}

type verItem struct {
	Version         string `json:"version"`
	Status          string `json:"status"`
	LessThan        string `json:"lessThan"`
	LessThanOrEqual string `json:"lessThanOrEqual"`
	VersionType     string `json:"versionType"`
}

type cvss struct {
	BaseScore    float64 `json:"baseScore"`
	VectorString string  `json:"vectorString"`
}

type metric struct {
	V40   *cvss `json:"cvssV4_0"`
	V31   *cvss `json:"cvssV3_1"`
	V30   *cvss `json:"cvssV3_0"`
	V20   *cvss `json:"cvssV2_0"`
	Other *struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
	} `json:"other"`
}

type adp struct {
	Metrics []metric `json:"metrics"`
}

// Load converts one record.
func Load(data []byte) (Result, error) {
	if len(data) > MaxRecordSize {
		return Result{}, fmt.Errorf("record is %d bytes, above the %d byte limit", len(data), MaxRecordSize)
	}
	var r record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return Result{}, fmt.Errorf("not JSON: %w", err)
	}
	if r.DataType != "CVE_RECORD" {
		return Result{}, ErrNotCVERecord
	}
	if !strings.HasPrefix(r.DataVersion, "5.") {
		return Result{}, fmt.Errorf("dataVersion %q: only CVE JSON 5.x is supported", r.DataVersion)
	}
	if !advisory.IsCVEID(r.Meta.CVEID) {
		return Result{}, fmt.Errorf("cveMetadata.cveId %.40q is not a CVE ID (CVE-YYYY- and 4 to %d digits)", r.Meta.CVEID, advisory.MaxCVESequenceDigits)
	}
	if r.Meta.State == "REJECTED" {
		return Result{}, fmt.Errorf("%s: %w", r.Meta.CVEID, ErrRejected)
	}
	id := r.Meta.CVEID
	c := &r.Containers.CNA
	a := advisory.Advisory{
		ID:         id,
		CVEs:       []string{id},
		Title:      c.Title,
		Publisher:  publisher(r.Meta.Assigner, c.Provider.ShortName),
		Source:     advisory.SourceCVE,
		SourceURL:  advisory.CVERecordURL(id),
		Published:  parseTime(r.Meta.DatePublished),
		Updated:    parseTime(r.Meta.DateUpdated),
		Confidence: advisory.ConfidenceHigh, // the CNA's own record
	}
	for _, d := range c.Descriptions {
		if strings.HasPrefix(d.Lang, "en") {
			a.Summary = strings.TrimSpace(d.Value)
			break
		}
	}
	if a.Title == "" {
		a.Title = firstSentence(a.Summary, id)
	}
	for _, m := range c.Metrics {
		if s, v := m.score(); s > a.CVSS {
			a.CVSS, a.CVSSVector = s, v
		}
	}
	for _, ref := range c.References {
		a.References = append(a.References, advisory.Reference{URL: ref.URL, Summary: ref.Name})
	}
	for _, ad := range r.Containers.ADP {
		for _, m := range ad.Metrics {
			if m.Other == nil || m.Other.Type != "kev" {
				continue
			}
			var k struct {
				DateAdded string `json:"dateAdded"`
				Reference string `json:"reference"`
			}
			if err := json.Unmarshal(m.Other.Content, &k); err == nil && k.DateAdded != "" {
				a.Exploited = append(a.Exploited, advisory.Exploitation{
					CVE: id, Source: "CISA KEV", DateAdded: k.DateAdded, SourceURL: k.Reference,
					Conf: advisory.ConfidenceHigh,
				})
			}
		}
	}
	res := Result{}
	for _, af := range c.Affected {
		convertAffected(&a, &res, af)
	}
	res.Advisory = a
	return res, nil
}

func (m metric) score() (float64, string) {
	for _, c := range []*cvss{m.V31, m.V30, m.V40, m.V20} {
		if c != nil && c.BaseScore > 0 {
			return c.BaseScore, c.VectorString
		}
	}
	return 0, ""
}

func publisher(assigner, provider string) string {
	if assigner != "" {
		return assigner + " (CNA)"
	}
	return provider
}

func isNA(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "n/a", "na", "unknown", "-":
		return true
	}
	return false
}

func statusOf(s string) advisory.Status {
	switch s {
	case "affected":
		return advisory.StatusAffected
	case "unaffected":
		return advisory.StatusNotAffected
	}
	return advisory.StatusUnknown
}

func convertAffected(a *advisory.Advisory, res *Result, af affected) {
	if isNA(af.Product) {
		a.Warnings = append(a.Warnings, "an affected entry names no product (\""+af.Product+"\"); only the description says what is affected")
		return
	}
	pn := advisory.ParseProductName(af.Product)
	vendor := af.Vendor
	if isNA(vendor) {
		vendor = pn.Vendor
	}
	scheme := advisory.SchemeFor(vendor)
	base := advisory.Product{
		Vendor: advisory.VendorName(vendor), HWRev: pn.HWRev, Region: pn.Region,
		Scheme: scheme, Default: statusOf(af.DefaultStatus), SourceURL: a.SourceURL,
	}
	var ranges []advisory.Range
	for _, v := range af.Versions {
		rg, text := convertVersion(scheme, v)
		if text != "" {
			res.FreeText = append(res.FreeText, af.Product+": "+text)
			a.Warnings = append(a.Warnings, fmt.Sprintf("%s: version %q is free text; kept as unknown", af.Product, text))
		}
		ranges = append(ranges, rg)
	}
	for _, model := range pn.Models {
		p := base
		p.Model = model
		p.Ranges = append([]advisory.Range(nil), ranges...)
		a.Products = append(a.Products, p)
	}
}

// convertVersion turns one versions[] item into a Range. text is set when
// the item had to be kept as free text.
func convertVersion(scheme version.Scheme, v verItem) (advisory.Range, string) {
	rg := advisory.Range{Status: statusOf(v.Status)}
	boundScheme := scheme
	if strings.EqualFold(v.VersionType, "date") {
		rg.Scheme, boundScheme = "date", version.Date
	}
	parses := func(s string) bool {
		_, err := version.Parse(boundScheme, s)
		return err == nil
	}
	upper := v.LessThan
	if upper == "" {
		upper = v.LessThanOrEqual
	}
	switch {
	case upper != "":
		if upper == "*" {
			rg.All = true
			break
		}
		if !parses(upper) {
			rg.Text = describe(v)
			return rg, rg.Text
		}
		rg.LessThan, rg.LessThanOrEqual = v.LessThan, v.LessThanOrEqual
		if lo := strings.TrimSpace(v.Version); lo != "" && lo != "0" && lo != "*" {
			if !parses(lo) {
				rg.Text = describe(v)
				rg.LessThan, rg.LessThanOrEqual = "", ""
				return rg, rg.Text
			}
			rg.Introduced = lo
		}
	case strings.TrimSpace(v.Version) == "*":
		rg.All = true
	case isNA(v.Version):
		rg.Text = v.Version
		if rg.Text == "" {
			rg.Text = "(no version given)"
		}
		return rg, rg.Text
	default:
		if !parses(v.Version) {
			rg.Text = v.Version
			return rg, rg.Text
		}
		rg.Exact = v.Version
	}
	return rg, ""
}

func describe(v verItem) string {
	var b strings.Builder
	b.WriteString(v.Version)
	if v.LessThan != "" {
		b.WriteString(" < " + v.LessThan)
	}
	if v.LessThanOrEqual != "" {
		b.WriteString(" <= " + v.LessThanOrEqual)
	}
	return b.String()
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func firstSentence(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	if i := strings.Index(s, ". "); i > 0 && i < 160 {
		return s[:i]
	}
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}
