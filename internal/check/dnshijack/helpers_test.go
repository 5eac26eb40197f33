// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// statuses maps finding ID → "status/severity/confidence" for compact
// comparisons.
func statuses(fs []finding.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.ID] = f.Status.String() + "/" + f.Severity.String() + "/" + f.Confidence.String()
	}
	return out
}

// outcomes maps canary → outcome for one verdict.
func outcomes(v ResolverVerdict) map[string]NameOutcome {
	out := map[string]NameOutcome{}
	for _, nr := range v.Names {
		out[nr.Name] = nr.Outcome
	}
	return out
}

// fixedNow is a clock for pure judge tests.
func fixedNow() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
