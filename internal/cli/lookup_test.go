// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"testing"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// TestLookupRenderers pins the text and JSON output of lookup with golden
// files (go test ./internal/cli -run TestLookupRenderers -update).
func TestLookupRenderers(t *testing.T) {
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(ds)
	info := datastore.Info{BuiltinVersion: "TEST", BuiltinDocs: len(ds.Advisories)}
	tests := []struct {
		name string
		id   advisory.Identity
	}{
		{"wr841n_v10", advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N", HWRev: "10"}},
		{"archer_c7_eu_v2_old", advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "240926"}},
		{"archer_c7_eu_v2_fixed", advisory.Identity{Vendor: "TP-Link", Model: "Archer C7", HWRev: "2", Region: "EU", Firmware: "241108"}},
		{"wr841n_unknown_rev", advisory.Identity{Vendor: "TP-Link", Model: "TL-WR841N"}},
		{"unknown_model", advisory.Identity{Model: "WRT54G"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := advisory.Assess(ix, tc.id)
			var txt, js bytes.Buffer
			if err := writeLookupText(&txt, &as, info); err != nil {
				t.Fatal(err)
			}
			if err := writeLookupJSON(&js, &as, info); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "lookup/"+tc.name+".txt", txt.Bytes())
			testutil.Golden(t, "lookup/"+tc.name+".json", js.Bytes())
		})
	}
}
