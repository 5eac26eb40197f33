// SPDX-License-Identifier: Apache-2.0

// Package kev loads the CISA Known Exploited Vulnerabilities catalog
// (https://www.cisa.gov/known-exploited-vulnerabilities-catalog, JSON feed).
//
// The contract: Load accepts the catalog as CISA publishes it, rejects a
// document without catalogVersion or vulnerabilities, an empty catalog,
// and any entry whose cveID (advisory.IsCVEID) or dateAdded is malformed,
// naming the entry, so that a corrupted download never replaces good data.
package kev

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
)

// MaxCatalogSize bounds the catalog; the 2025 catalog is 1.3 MB.
const MaxCatalogSize = 64 << 20

// ErrNotKEV reports input that is not the KEV catalog.
var ErrNotKEV = errors.New("not the CISA KEV catalog (no catalogVersion / vulnerabilities)")

// ErrEmpty reports a catalog without any entry.
var ErrEmpty = errors.New("an empty catalog is refused (the stored one, if any, is kept)")

// Catalog is a loaded KEV catalog.
type Catalog struct {
	Version  string // catalogVersion, e.g. "2025.08.25"
	Released string // dateReleased
	Entries  map[string]advisory.KEVEntry
}

type catalog struct {
	Title           string  `json:"title"`
	CatalogVersion  string  `json:"catalogVersion"`
	DateReleased    string  `json:"dateReleased"`
	Count           int     `json:"count"`
	Vulnerabilities []entry `json:"vulnerabilities"`
}

type entry struct {
	CVEID                      string `json:"cveID"`
	VendorProject              string `json:"vendorProject"`
	Product                    string `json:"product"`
	VulnerabilityName          string `json:"vulnerabilityName"`
	DateAdded                  string `json:"dateAdded"`
	DueDate                    string `json:"dueDate"`
	KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
}

// Load parses and checks the catalog.
func Load(data []byte) (*Catalog, error) {
	if len(data) > MaxCatalogSize {
		return nil, fmt.Errorf("kev: catalog is %d bytes, above the %d byte limit", len(data), MaxCatalogSize)
	}
	var c catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("kev: not JSON: %w", err)
	}
	if c.CatalogVersion == "" || c.Vulnerabilities == nil {
		return nil, ErrNotKEV
	}
	if len(c.Vulnerabilities) == 0 {
		// CISA's catalog has held over a thousand entries since 2022; an
		// empty one is a broken download or a hostile mirror, and storing
		// it would silently drop every "exploited in the wild" fact.
		return nil, fmt.Errorf("kev: catalog %.40q lists no vulnerabilities: %w", c.CatalogVersion, ErrEmpty)
	}
	if c.Count != 0 && c.Count != len(c.Vulnerabilities) {
		return nil, fmt.Errorf("kev: count says %d entries, the file has %d (truncated?)", c.Count, len(c.Vulnerabilities))
	}
	out := &Catalog{Version: c.CatalogVersion, Released: c.DateReleased,
		Entries: make(map[string]advisory.KEVEntry, len(c.Vulnerabilities))}
	for i, e := range c.Vulnerabilities {
		if !advisory.IsCVEID(e.CVEID) {
			return nil, fmt.Errorf("kev: vulnerabilities[%d]: cveID %.40q is not a CVE ID (CVE-YYYY- and 4 to %d digits)", i, e.CVEID, advisory.MaxCVESequenceDigits)
		}
		if _, err := time.Parse(time.DateOnly, e.DateAdded); err != nil {
			return nil, fmt.Errorf("kev: vulnerabilities[%d] (%s): dateAdded %q is not a date", i, e.CVEID, e.DateAdded)
		}
		if e.DueDate != "" {
			if _, err := time.Parse(time.DateOnly, e.DueDate); err != nil {
				return nil, fmt.Errorf("kev: vulnerabilities[%d] (%s): dueDate %q is not a date", i, e.CVEID, e.DueDate)
			}
		}
		out.Entries[e.CVEID] = advisory.KEVEntry{
			CVE: e.CVEID, Vendor: e.VendorProject, Product: e.Product, Name: e.VulnerabilityName,
			DateAdded: e.DateAdded, DueDate: e.DueDate, Ransomware: e.KnownRansomwareCampaignUse,
		}
	}
	return out, nil
}

// ByVendor returns the entries whose vendorProject has the vendor key k
// ("tplink", "mikrotik"), sorted by CVE.
func (c *Catalog) ByVendor(k string) []advisory.KEVEntry {
	var out []advisory.KEVEntry
	for _, e := range c.Entries {
		if advisory.VendorKey(e.Vendor) == k {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b advisory.KEVEntry) int { return cmp.Compare(a.CVE, b.CVE) })
	return out
}
