// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
)

// Sources returns the documents routerwatch's advisories offer for
// publication: the built-in CSAF documents (unless withBuiltin is false: a
// vendor or CERT publishing only what it imported), then every CSAF
// document of the local store (CVE records and the KEV catalog are not CSAF and are
// not published). A stored document replaces a built-in one with the same
// tracking ID, as it does for lookup. store may be nil (built-in only). A
// store that cannot be read is an error: publishing less than the
// operator imported must not look like success.
func Sources(store *datastore.Store, withBuiltin bool) ([]Document, error) {
	bi, err := builtin.Documents()
	if err != nil {
		return nil, fmt.Errorf("built-in documents: %w", err)
	}
	names := make([]string, 0, len(bi))
	for n := range bi {
		names = append(names, n)
	}
	sort.Strings(names)
	var docs []Document
	byID := map[string]int{}
	if withBuiltin {
		for _, n := range names {
			byID[trackingID(bi[n])] = len(docs)
			docs = append(docs, Document{Source: "built-in " + n, Data: bi[n]})
		}
	}
	if store == nil {
		return docs, nil
	}
	m, err := store.Manifest()
	if err != nil {
		return nil, fmt.Errorf("advisory store: %w", err)
	}
	for _, e := range m.Entries {
		if e.Kind != datastore.KindCSAF {
			continue
		}
		b, err := store.Read(e)
		if err != nil {
			return nil, fmt.Errorf("advisory store: %w", err)
		}
		doc := Document{Source: "store " + e.ID + " (from " + e.Source + ")", Data: b}
		if i, ok := byID[e.ID]; ok && e.ID != "" {
			docs[i] = doc
			continue
		}
		byID[e.ID] = len(docs)
		docs = append(docs, doc)
	}
	return docs, nil
}

// trackingID reads a document's tracking ID ("" when it has none; Build
// then refuses it with the reason).
func trackingID(data []byte) string {
	var d struct {
		Document struct {
			Tracking struct {
				ID string `json:"id"`
			} `json:"tracking"`
		} `json:"document"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.Document.Tracking.ID
}
