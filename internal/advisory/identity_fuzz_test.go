// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"strings"
	"testing"
)

// FuzzParseProductName covers the parser of model names from users, CVE
// records and CSAF documents: it must never panic, and what it returns
// must be usable as index keys.
func FuzzParseProductName(f *testing.F) {
	for _, s := range []string{"TL-WR841N/ND(MS) V9", "Archer C7(EU) V2", "TP-Link Archer AX21 (AX1800)",
		"TL-WR841N v10.0", "wr841n", "((((", "a/b/c/d", "Ver:8.4", "TL-WR841N hw 10", "x (EU) (US) v1 v2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseProductName(s)
		for _, m := range p.Models {
			if strings.TrimSpace(m) == "" {
				t.Fatalf("%q: empty model in %+v", s, p)
			}
			_ = ModelKey(m)
		}
		if p.HWRev != "" {
			if _, _, ok := ParseHWRev(p.HWRev); !ok {
				t.Fatalf("%q: hardware revision %q does not parse back", s, p.HWRev)
			}
		}
		if p.Region != "" && !IsRegion(p.Region) {
			t.Fatalf("%q: region %q is not a region", s, p.Region)
		}
	})
}
