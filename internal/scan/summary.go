// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// Summary aggregates records for the table printed at the end of a scan.
// The zero value is ready; it is not safe for concurrent use.
type Summary struct {
	Targets  int // records counted
	Resumed  int // of which were read from the resume file
	Answered int
	Silent   int
	Cut      int // deadline hit
	// Identified counts targets with a model.
	Identified int
	models     map[string]int
	verdicts   map[string]int
	checks     map[string]*checkCount
	exploited  int
	eol        int
	// Sweep is the sweep stage's counts, when there was one.
	Sweep *SweepCounts
	// Prefixes are the swept prefixes (the table lists those with a live
	// address).
	Prefixes []PrefixSummary
}

// maxPrefixRows bounds the prefix table: the JSON Lines output has every
// prefix.
const maxPrefixRows = 50

type checkCount struct {
	targets int
	worst   finding.Severity
}

// Add counts one record; resumed marks records read from the resume file.
func (s *Summary) Add(r *Record, resumed bool) {
	if s.models == nil {
		s.models, s.verdicts, s.checks = map[string]int{}, map[string]int{}, map[string]*checkCount{}
	}
	s.Targets++
	if resumed {
		s.Resumed++
	}
	if r.Status == StatusAnswered {
		s.Answered++
	} else {
		s.Silent++
	}
	if r.DeadlineHit {
		s.Cut++
	}
	if r.Identity.Model != "" {
		s.Identified++
		name := strings.TrimSpace(r.Identity.Vendor + " " + r.Identity.Model)
		if r.Identity.HWRev != "" {
			name += " V" + r.Identity.HWRev
		}
		s.models[name]++
	}
	s.verdicts[r.Vulnerability.Verdict]++
	if r.Vulnerability.Exploited && r.Vulnerability.Verdict == "affected" {
		s.exploited++
	}
	if r.Vulnerability.EndOfLife {
		s.eol++
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.Status != finding.StatusFail || seen[f.CheckID] {
			continue
		}
		seen[f.CheckID] = true
		c := s.checks[f.CheckID]
		if c == nil {
			c = &checkCount{}
			s.checks[f.CheckID] = c
		}
		c.targets++
		c.worst = max(c.worst, worstOf(r, f.CheckID))
	}
}

func worstOf(r *Record, check string) finding.Severity {
	var w finding.Severity
	for _, f := range r.Findings {
		if f.CheckID == check && f.Status == finding.StatusFail {
			w = max(w, f.Severity)
		}
	}
	return w
}

// Write renders the table. elapsed is the scan's wall time (0 omits it).
func (s *Summary) Write(w io.Writer, elapsed time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if sw := s.Sweep; sw != nil {
		fmt.Fprintf(tw, "Swept %d address(es) (%s): %d live (an open port), %d audited.\n", sw.Swept, sw.Mode, sw.Live, sw.Audited)
	}
	line := fmt.Sprintf("Scanned %d target(s)", s.Targets)
	if elapsed > 0 {
		line += " in " + elapsed.Round(10*time.Millisecond).String()
	}
	line += fmt.Sprintf(": %d answered, %d did not answer", s.Answered, s.Silent)
	if s.Cut > 0 {
		line += fmt.Sprintf(", %d cut by the per-target deadline", s.Cut)
	}
	if s.Resumed > 0 {
		line += fmt.Sprintf(" (%d from the resume file)", s.Resumed)
	}
	fmt.Fprintln(tw, line+".")
	fmt.Fprintf(tw, "Identified (model known): %d of %d.\n", s.Identified, s.Targets)
	fmt.Fprintf(tw, "Advisory verdicts: %s; exploited in the wild: %d; end of life: %d.\n", counts(s.verdicts,
		[]string{"affected", "unknown", "fixed", "not_affected", "unidentified"}), s.exploited, s.eol)
	if len(s.models) > 0 {
		fmt.Fprintln(tw, "\nMODEL\tTARGETS")
		for _, m := range sortedKeys(s.models) {
			fmt.Fprintf(tw, "%s\t%d\n", m, s.models[m])
		}
	}
	s.writePrefixes(tw)
	if len(s.checks) > 0 {
		fmt.Fprintln(tw, "\nFAILING CHECK\tTARGETS\tWORST")
		ids := make([]string, 0, len(s.checks))
		for id := range s.checks {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b string) int {
			ca, cb := s.checks[a], s.checks[b]
			if c := cmp.Compare(cb.worst, ca.worst); c != 0 {
				return c
			}
			if c := cmp.Compare(cb.targets, ca.targets); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for _, id := range ids {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", id, s.checks[id].targets, s.checks[id].worst)
		}
	}
	return tw.Flush()
}

// writePrefixes lists the swept prefixes that had a live address.
func (s *Summary) writePrefixes(tw io.Writer) {
	if len(s.Prefixes) == 0 {
		return
	}
	live := 0
	for _, p := range s.Prefixes {
		if p.Live > 0 {
			live++
		}
	}
	fmt.Fprintf(tw, "\nPrefixes swept: %d, with a live address: %d.\n", len(s.Prefixes), live)
	if live == 0 {
		return
	}
	rows := slices.Clone(s.Prefixes)
	slices.SortFunc(rows, func(a, b PrefixSummary) int {
		pa, _ := netip.ParsePrefix(a.Prefix)
		pb, _ := netip.ParsePrefix(b.Prefix)
		if c := pa.Addr().Compare(pb.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.First, b.First)
	})
	fmt.Fprintln(tw, "PREFIX\tSWEPT\tLIVE\tIDENTIFIED\tFAILING")
	n := 0
	for _, p := range rows {
		if p.Live == 0 {
			continue
		}
		if n++; n > maxPrefixRows {
			fmt.Fprintf(tw, "… and %d more (every prefix is a \"type\":\"prefix\" line of the JSON Lines output)\n", live-maxPrefixRows)
			break
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", p.Prefix, p.Swept, p.Live, p.Identified, p.Failing)
	}
}

func counts(m map[string]int, order []string) string {
	var out []string
	for _, k := range order {
		if m[k] > 0 {
			out = append(out, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), m[k]))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// sortedKeys orders by count, then name.
func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return ks
}
