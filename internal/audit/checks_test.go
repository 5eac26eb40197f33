// SPDX-License-Identifier: Apache-2.0

package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/check/firmware"
	"github.com/routerwatch/routerwatch/internal/check/hardening"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// families lists every check family with the ID prefix it owns. A new
// family joins here: its IDs must not collide with another family's.
var families = []struct {
	family string
	checks []finding.Check
	doc    string // the document that lists the family's checks and titles
}{
	{"firmware", firmware.Checks(), "docs/check.md"},
	{"exposure", exposure.Checks(), "docs/check.md"},
	{"dns", dnshijack.Checks(), "docs/dns.md"},
	{"config", hardening.Checks(), "docs/config.md"},
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

// TestChecksDocumented: every check ID and every title a check declares
// (the words around a %s verb) is in the family's document, so that the
// documented titles follow the code.
func TestChecksDocumented(t *testing.T) {
	root := testutil.ModuleRoot(t)
	for _, fam := range families {
		b, err := os.ReadFile(filepath.Join(root, fam.doc))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, c := range fam.checks {
			if !strings.Contains(doc, "`"+c.ID+"`") {
				t.Errorf("%s does not list %s", fam.doc, c.ID)
			}
			for _, title := range []string{c.Fail, c.Pass, c.Unknown} {
				for part := range strings.SplitSeq(title, "%s") {
					if part = strings.TrimSpace(part); part != "" && !strings.Contains(doc, part) {
						t.Errorf("%s does not give %s's title %q", fam.doc, c.ID, title)
					}
				}
			}
		}
	}
}
