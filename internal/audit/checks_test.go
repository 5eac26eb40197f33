// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"testing"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/check/firmware"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// families lists every check family with the ID prefix it owns. A new
// family joins here: its IDs must not collide with another family's.
var families = []struct {
	family string
	checks []finding.Check
}{
	{"firmware", firmware.Checks()},
	{"exposure", exposure.Checks()},
	{"dns", dnshijack.Checks()},
}

// TestCheckIDsUniqueAcrossFamilies: check IDs name findings in JSON,
// finding IDs, --fail-on decisions and documentation; two families
// declaring the same ID would make one finding indistinguishable from
// the other's.
func TestCheckIDsUniqueAcrossFamilies(t *testing.T) {
	owner := map[string]string{}
	for _, fam := range families {
		if len(fam.checks) == 0 {
			t.Errorf("family %s declares no checks", fam.family)
		}
		for _, c := range fam.checks {
			if err := c.Validate(); err != nil {
				t.Errorf("family %s: %v", fam.family, err)
			}
			if c.Family() != fam.family {
				t.Errorf("family %s declares %s, outside its prefix %s.", fam.family, c.ID, fam.family)
			}
			if prev, dup := owner[c.ID]; dup {
				t.Errorf("check %s is declared by %s and again by %s", c.ID, prev, fam.family)
			}
			owner[c.ID] = fam.family
		}
	}
}
