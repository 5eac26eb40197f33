// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// openAdvisories loads the embedded data and the local store and builds
// the index. A damaged store is reported once on stderr and skipped.
func (a *App) openAdvisories() (*advisory.Index, datastore.Info, error) {
	ds, info, err := datastore.Open(datastore.New(a.cfg.DataDir))
	if err != nil {
		return nil, info, fmt.Errorf("advisory data: %w", err)
	}
	if info.Fallback != "" {
		fmt.Fprintf(a.Stderr, "routerwatch: warning: the local advisory store is unusable, using the built-in data only: %s\n", termtext.Line(info.Fallback))
	}
	ix := advisory.NewIndex(ds)
	for _, w := range ix.Warnings {
		a.logger.Debug("advisory data", "problem", w)
	}
	return ix, info, nil
}

// dataVersionLine describes the advisory data in one line; the catalog
// version comes from the imported file and is escaped.
func dataVersionLine(info datastore.Info) string {
	s := fmt.Sprintf("built-in %s (%d documents)", info.BuiltinVersion, info.BuiltinDocs)
	if info.StoreDocs > 0 {
		s += fmt.Sprintf("; local store %d documents, updated %s", info.StoreDocs, info.StoreUpdated)
	}
	if info.KEVVersion != "" {
		s += fmt.Sprintf("; CISA KEV catalog %s (%d entries)", termtext.Line(info.KEVVersion), info.KEVEntries)
	} else {
		s += "; no KEV catalog imported (run 'routerwatch advisories update')"
	}
	if info.Fallback != "" {
		s += "; local store unusable"
	}
	return s
}
