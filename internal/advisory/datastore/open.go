// SPDX-License-Identifier: Apache-2.0

package datastore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/csafsrc"
	"github.com/routerwatch/routerwatch/internal/advisory/cverec"
	"github.com/routerwatch/routerwatch/internal/advisory/kev"
)

// Parsed is one document recognised and checked.
type Parsed struct {
	Item Item
	CSAF *csafsrc.Result
	CVE  *cverec.Result
	KEV  *kev.Catalog
}

// ErrUnknownFormat reports a JSON document that is none of CSAF 2.0, CVE
// JSON 5 or the KEV catalog.
var ErrUnknownFormat = errors.New("not a CSAF 2.0 document, a CVE JSON 5 record or the CISA KEV catalog")

// Parse recognises a document by its content, checks it fully (CSAF
// against the schema) and converts it. source is the path or URL it came
// from.
func Parse(data []byte, source string) (Parsed, error) {
	var probe struct {
		Document *struct {
			CSAFVersion string `json:"csaf_version"`
		} `json:"document"`
		DataType       string `json:"dataType"`
		CatalogVersion string `json:"catalogVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Parsed{}, fmt.Errorf("not JSON: %w", err)
	}
	switch {
	case probe.Document != nil:
		if probe.Document.CSAFVersion != "2.0" {
			return Parsed{}, fmt.Errorf("document.csaf_version %q: only CSAF 2.0 is supported", probe.Document.CSAFVersion)
		}
		r, err := csafsrc.Load(data, advisory.SourceCSAF)
		if err != nil {
			return Parsed{}, err
		}
		if r.Advisory.ID == "" {
			return Parsed{}, errors.New("CSAF document without document.tracking.id")
		}
		return Parsed{Item: Item{Kind: KindCSAF, ID: r.Advisory.ID, Source: source, Data: data}, CSAF: &r}, nil
	case probe.DataType == "CVE_RECORD":
		r, err := cverec.Load(data)
		if err != nil {
			return Parsed{}, err
		}
		return Parsed{Item: Item{Kind: KindCVE, ID: r.Advisory.ID, Source: source, Data: data}, CVE: &r}, nil
	case probe.CatalogVersion != "":
		c, err := kev.Load(data)
		if err != nil {
			return Parsed{}, err
		}
		return Parsed{Item: Item{Kind: KindKEV, ID: "kev", Source: source, Data: data}, KEV: c}, nil
	}
	return Parsed{}, ErrUnknownFormat
}

// Info describes where the loaded data came from.
type Info struct {
	BuiltinVersion string
	BuiltinDocs    int
	StoreDir       string
	StoreUpdated   string // RFC 3339, "" when nothing was imported
	StoreDocs      int
	KEVVersion     string
	KEVEntries     int
	// Fallback is set when the store could not be read and only the
	// embedded data is in use; it says why.
	Fallback string
}

// Open assembles the dataset: the embedded documents, then the store's
// documents (a stored document with the same ID as an embedded one
// replaces it). A damaged store is skipped with Info.Fallback set; a store
// that exists but cannot be read is an error wrapping *ReadError, and so
// is a broken binary (embedded data that does not load).
func Open(s *Store) (*advisory.Dataset, Info, error) {
	info := Info{BuiltinVersion: builtin.DataVersion, StoreDir: s.Dir}
	ds := &advisory.Dataset{KEV: map[string]advisory.KEVEntry{}}
	bi, err := builtin.Load()
	if err != nil {
		return nil, info, err
	}
	byID := map[string]int{}
	add := func(r csafsrc.Result) {
		if i, ok := byID[r.Advisory.ID]; ok {
			ds.Advisories[i] = r.Advisory
		} else {
			byID[r.Advisory.ID] = len(ds.Advisories)
			ds.Advisories = append(ds.Advisories, r.Advisory)
		}
		ds.Lifecycle = append(ds.Lifecycle, r.Lifecycle...)
	}
	for _, r := range bi {
		add(r)
	}
	info.BuiltinDocs = len(bi)

	stored, err := loadStore(s)
	var re *ReadError
	if errors.As(err, &re) {
		return nil, info, fmt.Errorf("the advisory store %s cannot be read (%w); make it readable (chmod -R a+rX %s) or use another --data-dir", s.Dir, err, s.Dir)
	}
	if err != nil {
		info.Fallback = err.Error()
		return ds, info, nil
	}
	for _, p := range stored.parsed {
		switch {
		case p.CSAF != nil:
			add(*p.CSAF)
		case p.CVE != nil:
			add(csafsrc.Result{Advisory: p.CVE.Advisory, Lifecycle: p.CVE.Lifecycle})
		case p.KEV != nil:
			ds.KEV, ds.KEVVersion = p.KEV.Entries, p.KEV.Version
		}
	}
	info.StoreDocs = len(stored.parsed)
	info.StoreUpdated = stored.updated
	info.KEVVersion, info.KEVEntries = ds.KEVVersion, len(ds.KEV)
	return ds, info, nil
}

type storeContent struct {
	parsed  []Parsed
	updated string
}

// loadStore reads every stored document from one snapshot. When a Put
// replaces the snapshot while it is read (the old one is removed), it
// reads the new one.
func loadStore(s *Store) (storeContent, error) {
	const attempts = 3
	for i := 1; ; i++ {
		dir, err := s.snapshot()
		if err != nil || dir == "" {
			return storeContent{}, err
		}
		c, err := loadSnapshot(dir)
		if err == nil || i == attempts || !errors.Is(err, fs.ErrNotExist) {
			return c, err
		}
		if now, _ := s.snapshot(); now == dir {
			return c, err // not replaced: a file is really missing
		}
	}
}

// loadSnapshot reads every document of the snapshot in dir. Stored
// documents were checked on import, so CSAF is converted without
// repeating the schema check; the content hash in the manifest guards
// against changes since.
func loadSnapshot(dir string) (storeContent, error) {
	m, err := readManifest(dir)
	if err != nil {
		return storeContent{}, err
	}
	var out storeContent
	if !m.Updated.IsZero() {
		out.updated = m.Updated.Format("2006-01-02T15:04:05Z")
	}
	for _, e := range m.Entries {
		b, err := readEntry(dir, e)
		if err != nil {
			return storeContent{}, err
		}
		var p Parsed
		switch e.Kind {
		case KindCSAF:
			r, err := csafsrc.LoadValidated(b, advisory.SourceCSAF)
			if err != nil {
				return storeContent{}, fmt.Errorf("%s: %w", e.File, err)
			}
			p.CSAF = &r
		case KindCVE:
			r, err := cverec.Load(b)
			if err != nil {
				return storeContent{}, fmt.Errorf("%s: %w", e.File, err)
			}
			p.CVE = &r
		case KindKEV:
			c, err := kev.Load(b)
			if err != nil {
				return storeContent{}, fmt.Errorf("%s: %w", e.File, err)
			}
			p.KEV = c
		default:
			return storeContent{}, fmt.Errorf("%s: unknown kind %q in the manifest", e.File, e.Kind)
		}
		p.Item = Item{Kind: e.Kind, ID: e.ID, Source: e.Source}
		out.parsed = append(out.parsed, p)
	}
	return out, nil
}
