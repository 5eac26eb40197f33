// SPDX-License-Identifier: Apache-2.0

// Package findingtest checks, in a check family's tests, that every
// finding the family made while its tests ran is titled as its check
// declares for its status: a failing finding never carries the passing
// title ("FAIL — Telnet is off"), whatever fixture produced it.
//
// A family hands its package-level finding hook to TitleMain from its
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(findingtest.TitleMain(m, Checks(), &emitted)) }
package findingtest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// TitleMain sets *hook to record every finding, runs the tests, then
// checks each recorded finding against checks (declared, titled for its
// status). It returns the exit code: m.Run's, or 1 when a finding is
// wrong. With -test.v it lists which check and status pairs the tests
// produced.
func TitleMain(m *testing.M, checks []finding.Check, hook *func(finding.Check, finding.Finding)) int {
	byID := map[string]finding.Check{}
	for _, c := range checks {
		byID[c.ID] = c
	}
	var (
		mu   sync.Mutex
		errs []string
		seen = map[string]bool{}
	)
	*hook = func(c finding.Check, f finding.Finding) {
		mu.Lock()
		defer mu.Unlock()
		seen[f.CheckID+" "+f.Status.String()] = true
		declared, ok := byID[f.CheckID]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("%s: check %s is not in the family's Checks()", f.ID, f.CheckID))
		case declared != c:
			errs = append(errs, fmt.Sprintf("%s: made by a check that differs from the declared %s", f.ID, f.CheckID))
		default:
			if err := c.Verify(f); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if testing.Verbose() {
		pairs := make([]string, 0, len(seen))
		for p := range seen {
			pairs = append(pairs, p)
		}
		slices.Sort(pairs)
		fmt.Printf("findingtest: the tests produced %d check/status pairs:\n  %s\n", len(pairs), strings.Join(pairs, "\n  "))
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		errs = slices.Compact(errs)
		fmt.Fprintf(os.Stderr, "findingtest: %d finding(s) titled against their check's declaration:\n  %s\n", len(errs), strings.Join(errs, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	return code
}
