// SPDX-License-Identifier: Apache-2.0

// Package csafsrc turns CSAF 2.0 documents into normalized advisories.
//
// The contract: Load validates the document against the CSAF 2.0 JSON
// schema (gocsaf/csaf's embedded copy, no network) and rejects it with the
// failing JSON paths when it is invalid; a valid document always converts,
// and whatever cannot be represented (an unsupported version range, a
// product without a name) becomes a warning on the Advisory rather than an
// error or a guess.
//
// Conventions routerwatch's own documents follow (docs/advisory-data.md):
// a document note titled "Confidence" whose text starts with high, medium
// or low; product names written as vendors write them ("TL-WR841N V10",
// "Archer C7(EU) V2"); firmware ranges in vers form with the schemes
// tplink, date, routeros, openwrt or generic; a product group whose
// summary starts with "End of life" lists end-of-life products; exploit
// status threats whose details start with "CISA KEV:" carry the KEV dates.
package csafsrc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/version"
)

// MaxDocumentSize bounds one document; the largest real CSAF advisories
// (Cisco's with hundreds of products) are well under 2 MB.
const MaxDocumentSize = 16 << 20

// SchemaError reports a document that is not valid CSAF 2.0.
type SchemaError struct {
	Problems []string // "/document/title: missing property" style
}

func (e *SchemaError) Error() string {
	const maxShown = 5
	p := e.Problems
	more := ""
	if len(p) > maxShown {
		more = fmt.Sprintf(" (and %d more)", len(p)-maxShown)
		p = p[:maxShown]
	}
	return "not valid CSAF 2.0: " + strings.Join(p, "; ") + more
}

// ErrNotCSAF reports input that is not a CSAF document at all.
var ErrNotCSAF = errors.New("not a CSAF document (no document.csaf_version)")

// Result is one loaded document.
type Result struct {
	Advisory  advisory.Advisory
	Lifecycle []advisory.Lifecycle
}

// Load validates and converts one CSAF 2.0 document; src says which kind
// of source it is.
func Load(data []byte, src advisory.SourceKind) (Result, error) {
	return load(data, src, true)
}

// LoadValidated converts a document that was already schema-checked: the
// embedded documents (checked by a test) and documents in the local store
// (checked when they were imported). It skips the schema validation that
// dominates Load's cost.
func LoadValidated(data []byte, src advisory.SourceKind) (Result, error) {
	return load(data, src, false)
}

func load(data []byte, src advisory.SourceKind, validate bool) (Result, error) {
	if len(data) > MaxDocumentSize {
		return Result{}, fmt.Errorf("document is %d bytes, above the %d byte limit", len(data), MaxDocumentSize)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return Result{}, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return Result{}, errors.New("trailing data after the JSON document")
	}
	if m, ok := generic.(map[string]any); !ok || m["document"] == nil {
		return Result{}, ErrNotCSAF
	}
	if validate {
		problems, err := csaf.ValidateCSAF(generic)
		if err != nil {
			return Result{}, fmt.Errorf("schema validation: %w", err)
		}
		if len(problems) > 0 {
			return Result{}, &SchemaError{Problems: problems}
		}
	}
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return Result{}, fmt.Errorf("decode: %w", err)
	}
	// The schema's CVE pattern has no upper bound on the digits.
	for i, v := range doc.Vulnerabilities {
		if v.CVE != "" && !advisory.IsCVEID(v.CVE) {
			return Result{}, &SchemaError{Problems: []string{fmt.Sprintf("/vulnerabilities/%d/cve: %.40q is not a CVE ID (CVE-YYYY- and 4 to %d digits)", i, v.CVE, advisory.MaxCVESequenceDigits)}}
		}
	}
	return convert(&doc, src), nil
}

// The CSAF subset routerwatch reads. Field names follow the schema.
type document struct {
	Document struct {
		Category  string `json:"category"`
		Title     string `json:"title"`
		Publisher struct {
			Name      string `json:"name"`
			Category  string `json:"category"`
			Namespace string `json:"namespace"`
		} `json:"publisher"`
		Tracking struct {
			ID                 string `json:"id"`
			InitialReleaseDate string `json:"initial_release_date"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
		Notes      []note      `json:"notes"`
		References []reference `json:"references"`
	} `json:"document"`
	ProductTree struct {
		Branches         []branch `json:"branches"`
		FullProductNames []struct {
			Name      string `json:"name"`
			ProductID string `json:"product_id"`
		} `json:"full_product_names"`
		Relationships []struct {
			FullProductName struct {
				Name      string `json:"name"`
				ProductID string `json:"product_id"`
			} `json:"full_product_name"`
		} `json:"relationships"`
		ProductGroups []struct {
			GroupID    string   `json:"group_id"`
			ProductIDs []string `json:"product_ids"`
			Summary    string   `json:"summary"`
		} `json:"product_groups"`
	} `json:"product_tree"`
	Vulnerabilities []vulnerability `json:"vulnerabilities"`
}

type note struct {
	Category string `json:"category"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

type reference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

type branch struct {
	Category string   `json:"category"`
	Name     string   `json:"name"`
	Branches []branch `json:"branches"`
	Product  *struct {
		Name      string `json:"name"`
		ProductID string `json:"product_id"`
	} `json:"product"`
}

type vulnerability struct {
	CVE   string `json:"cve"`
	Title string `json:"title"`
	IDs   []struct {
		SystemName string `json:"system_name"`
		Text       string `json:"text"`
	} `json:"ids"`
	Notes         []note      `json:"notes"`
	References    []reference `json:"references"`
	ProductStatus map[string][]string
	Scores        []struct {
		Products []string `json:"products"`
		CVSSv3   *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v3"`
		CVSSv2 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v2"`
	} `json:"scores"`
	Remediations []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		URL        string   `json:"url"`
		ProductIDs []string `json:"product_ids"`
		GroupIDs   []string `json:"group_ids"`
	} `json:"remediations"`
	Threats []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		Date       string   `json:"date"`
		ProductIDs []string `json:"product_ids"`
		GroupIDs   []string `json:"group_ids"`
	} `json:"threats"`
}

// UnmarshalJSON keeps product_status as a map of category → IDs.
func (v *vulnerability) UnmarshalJSON(b []byte) error {
	type plain vulnerability
	var aux struct {
		plain
		PS map[string][]string `json:"product_status"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*v = vulnerability(aux.plain)
	v.ProductStatus = aux.PS
	return nil
}

// leaf is one product of the tree with the branch path that names it.
type leaf struct {
	id      string
	vendor  string
	name    string // product_name or product_family
	version string // product_version
	vrange  string // product_version_range
	full    string
}

func collect(bs []branch, path leaf, out map[string]leaf) {
	for _, b := range bs {
		p := path
		switch b.Category {
		case "vendor":
			p.vendor = b.Name
		case "product_name":
			p.name = b.Name
		case "product_family":
			if p.name == "" {
				p.name = b.Name
			}
		case "product_version", "service_pack", "patch_level":
			p.version = b.Name
		case "product_version_range":
			p.vrange = b.Name
		}
		if b.Product != nil {
			p.id, p.full = b.Product.ProductID, b.Product.Name
			out[p.id] = p
		}
		collect(b.Branches, p, out)
	}
}

var kevDetails = regexp.MustCompile(`(?i)^CISA KEV:\s*added (\d{4}-\d{2}-\d{2})(?:,\s*due (\d{4}-\d{2}-\d{2}))?`)

func convert(d *document, src advisory.SourceKind) Result {
	a := advisory.Advisory{
		ID:        d.Document.Tracking.ID,
		Title:     d.Document.Title,
		Publisher: d.Document.Publisher.Name,
		Source:    src,
	}
	a.Published = parseTime(d.Document.Tracking.InitialReleaseDate)
	a.Updated = parseTime(d.Document.Tracking.CurrentReleaseDate)
	a.Confidence = defaultConfidence(d.Document.Publisher.Category)
	for _, n := range d.Document.Notes {
		if strings.EqualFold(n.Title, "confidence") {
			word, _, _ := strings.Cut(strings.TrimSpace(n.Text), ":")
			if c, ok := advisory.ParseConfidence(strings.Fields(word + " ")[0]); ok {
				a.Confidence = c
			}
			continue
		}
		if n.Category == "summary" && a.Summary == "" {
			a.Summary = n.Text
		}
	}
	for _, r := range d.Document.References {
		if r.Category == "self" {
			continue
		}
		a.References = append(a.References, advisory.Reference{URL: r.URL, Summary: r.Summary})
		if a.SourceURL == "" {
			a.SourceURL = r.URL
		}
	}

	leaves := map[string]leaf{}
	collect(d.ProductTree.Branches, leaf{}, leaves)
	for _, f := range d.ProductTree.FullProductNames {
		leaves[f.ProductID] = leaf{id: f.ProductID, name: f.Name, full: f.Name}
	}
	for _, r := range d.ProductTree.Relationships {
		f := r.FullProductName
		leaves[f.ProductID] = leaf{id: f.ProductID, name: f.Name, full: f.Name}
	}
	groups := map[string][]string{}
	var res Result
	for _, g := range d.ProductTree.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
		if strings.HasPrefix(strings.ToLower(g.Summary), "end of life") {
			for _, pid := range g.ProductIDs {
				l, ok := leaves[pid]
				if !ok {
					continue
				}
				pn := advisory.ParseProductName(l.name)
				for _, model := range pn.Models {
					res.Lifecycle = append(res.Lifecycle, advisory.Lifecycle{
						Vendor: vendorOf(l, pn), Model: model, HWRev: pn.HWRev, Region: pn.Region,
						EOL: true, Date: eolDate(g.Summary), Detail: eolDetail(g.Summary), Source: a.SourceURL,
						Doc: a.ID, Conf: a.Confidence,
					})
				}
			}
		}
	}

	b := newBuilder(&a, leaves)
	kind := advisory.KindVulnerability
	for _, v := range d.Vulnerabilities {
		if v.CVE != "" && !slices.Contains(a.CVEs, v.CVE) {
			a.CVEs = append(a.CVEs, v.CVE)
		}
		for _, s := range v.Scores {
			if s.CVSSv3 != nil && s.CVSSv3.BaseScore > a.CVSS {
				a.CVSS, a.CVSSVector = s.CVSSv3.BaseScore, s.CVSSv3.VectorString
			} else if s.CVSSv2 != nil && a.CVSS == 0 {
				a.CVSS, a.CVSSVector = s.CVSSv2.BaseScore, s.CVSSv2.VectorString
			}
		}
		if a.Summary == "" {
			for _, n := range v.Notes {
				if n.Category == "description" || n.Category == "summary" {
					a.Summary = n.Text
					break
				}
			}
		}
		for _, r := range v.References {
			if r.Category != "self" && !hasRef(a.References, r.URL) {
				a.References = append(a.References, advisory.Reference{URL: r.URL, Summary: r.Summary})
			}
		}
		for _, t := range v.Threats {
			switch t.Category {
			case "exploit_status":
				e := advisory.Exploitation{CVE: v.CVE, Details: t.Details, Conf: a.Confidence, SourceURL: a.SourceURL}
				if m := kevDetails.FindStringSubmatch(t.Details); m != nil {
					e.Source, e.DateAdded, e.DueDate = "CISA KEV", m[1], m[2]
				} else {
					e.Source = a.Publisher
					if tm := parseTime(t.Date); !tm.IsZero() {
						e.DateAdded = tm.Format(time.DateOnly)
					}
				}
				a.Exploited = append(a.Exploited, e)
			case "target_set":
				kind = advisory.KindCampaign
				for _, pid := range expand(t.ProductIDs, t.GroupIDs, groups) {
					b.add(pid, advisory.StatusAffected)
				}
			}
		}
		for cat, ids := range v.ProductStatus {
			st, ok := statusOf(cat)
			if !ok {
				continue
			}
			for _, pid := range ids {
				b.add(pid, st)
				if cat == "first_fixed" {
					b.fixedIn(pid)
				}
			}
		}
		for _, r := range v.Remediations {
			for _, pid := range expand(r.ProductIDs, r.GroupIDs, groups) {
				b.remediate(pid, r.Category, r.Details, r.URL)
			}
		}
	}
	a.Kind = kind
	a.Products = b.products()
	if a.ID == "" {
		a.ID = strings.Join(a.CVEs, ",")
	}
	res.Advisory = a
	return res
}

func hasRef(rs []advisory.Reference, url string) bool {
	for _, r := range rs {
		if r.URL == url {
			return true
		}
	}
	return false
}

func expand(pids, gids []string, groups map[string][]string) []string {
	out := slices.Clone(pids)
	for _, g := range gids {
		out = append(out, groups[g]...)
	}
	return out
}

func statusOf(cat string) (advisory.Status, bool) {
	switch cat {
	case "known_affected", "first_affected", "last_affected":
		return advisory.StatusAffected, true
	case "fixed", "first_fixed":
		return advisory.StatusFixed, true
	case "known_not_affected":
		return advisory.StatusNotAffected, true
	case "under_investigation":
		return advisory.StatusUnknown, true
	}
	return 0, false // "recommended" says nothing about being affected
}

func defaultConfidence(publisherCategory string) advisory.Confidence {
	switch publisherCategory {
	case "vendor", "coordinator", "discoverer":
		return advisory.ConfidenceHigh
	}
	return advisory.ConfidenceMedium
}

var eolDateRe = regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2})\b`)

func eolDate(s string) string {
	if m := eolDateRe.FindString(s); m != "" {
		return m
	}
	return ""
}

// eolDetail drops the "End of life:" marker from a group summary.
func eolDetail(s string) string {
	if len(s) >= len("end of life") {
		rest := strings.TrimLeft(s[len("end of life"):], " :-")
		if rest != "" {
			return strings.ToUpper(rest[:1]) + rest[1:]
		}
	}
	return s
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func vendorOf(l leaf, pn advisory.ProductName) string {
	if l.vendor != "" {
		return l.vendor
	}
	return pn.Vendor
}

// builder gathers per-product statements; one advisory.Product per
// (vendor, model, hardware revision, region).
type builder struct {
	a      *advisory.Advisory
	leaves map[string]leaf
	order  []string
	byKey  map[string]*advisory.Product
}

func newBuilder(a *advisory.Advisory, leaves map[string]leaf) *builder {
	return &builder{a: a, leaves: leaves, byKey: map[string]*advisory.Product{}}
}

func (b *builder) productsFor(pid string) ([]*advisory.Product, leaf, bool) {
	l, ok := b.leaves[pid]
	if !ok {
		b.warn(fmt.Sprintf("product_id %s is not in the product tree", pid))
		return nil, l, false
	}
	name := l.name
	if name == "" {
		name = l.full
	}
	pn := advisory.ParseProductName(name)
	vendor := vendorOf(l, pn)
	var out []*advisory.Product
	for _, model := range pn.Models {
		key := advisory.VendorKey(vendor) + "|" + advisory.ModelKey(model) + "|" + pn.HWRev + "|" + pn.Region
		p, ok := b.byKey[key]
		if !ok {
			p = &advisory.Product{Vendor: advisory.VendorName(vendor), Model: model, HWRev: pn.HWRev,
				Region: pn.Region, Scheme: advisory.SchemeFor(vendor), Default: advisory.StatusUnknown,
				SourceURL: b.a.SourceURL}
			b.byKey[key] = p
			b.order = append(b.order, key)
		}
		out = append(out, p)
	}
	return out, l, true
}

func (b *builder) add(pid string, st advisory.Status) {
	ps, l, ok := b.productsFor(pid)
	if !ok {
		return
	}
	var rs []advisory.Range
	var scheme string
	switch {
	case l.vrange != "":
		sc, parsed, err := advisory.ParseVersRange(l.vrange, st)
		if err != nil {
			b.warn(fmt.Sprintf("%s: %v", pid, err))
			rs = []advisory.Range{{Status: st, Text: l.vrange}}
		} else {
			rs, scheme = parsed, sc
		}
	case l.version != "":
		rs = []advisory.Range{{Status: st, Exact: l.version}}
	default:
		rs = []advisory.Range{{Status: st, All: true}}
	}
	for _, p := range ps {
		for _, r := range rs {
			if s, ok := versScheme(scheme); ok {
				if s == version.Date {
					r.Scheme = "date"
				} else {
					p.Scheme = s
				}
			}
			p.Ranges = append(p.Ranges, r)
		}
	}
}

func (b *builder) fixedIn(pid string) {
	ps, l, ok := b.productsFor(pid)
	if !ok || l.version == "" {
		return
	}
	for _, p := range ps {
		p.FixedIn = l.version
	}
}

func (b *builder) remediate(pid, category, details, url string) {
	ps, _, ok := b.productsFor(pid)
	if !ok {
		return
	}
	for _, p := range ps {
		switch category {
		case "no_fix_planned", "none_available":
			p.NoFix = true
		}
		if details != "" && !strings.Contains(p.Remediation, details) {
			if p.Remediation != "" {
				p.Remediation += " "
			}
			p.Remediation += details
		}
		if url != "" && category == "vendor_fix" {
			p.SourceURL = url
		}
	}
}

func (b *builder) warn(s string) {
	if !slices.Contains(b.a.Warnings, s) {
		b.a.Warnings = append(b.a.Warnings, s)
	}
}

// products finishes the products: builds outside every listed range are
// "not affected" when each affected range has an upper bound (the usual
// "< 4.10.0" advisory), else unknown.
func (b *builder) products() []advisory.Product {
	out := make([]advisory.Product, 0, len(b.order))
	for _, k := range b.order {
		p := b.byKey[k]
		bounded, any := true, false
		for _, r := range p.Ranges {
			if r.Status == advisory.StatusAffected {
				any = true
				if r.LessThan == "" && r.LessThanOrEqual == "" {
					bounded = false
				}
			}
		}
		if any && bounded {
			p.Default = advisory.StatusNotAffected
		}
		out = append(out, *p)
	}
	return out
}

func versScheme(name string) (version.Scheme, bool) {
	switch name {
	case "", "generic", "semver":
		return 0, false
	}
	s, err := version.ParseScheme(name)
	return s, err == nil
}
