// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"math"
	"net/netip"
	"strings"
	"testing"
)

func TestSpread(t *testing.T) {
	for _, tt := range []struct {
		name   string
		prefix string
		n      int
	}{
		{"the default: 5,120 of a /19", "10.80.0.0/19", 5120},
		{"every address", "10.80.0.0/24", 256},
		{"one", "10.80.0.0/24", 1},
		{"odd", "10.80.0.0/22", 999},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := netip.MustParsePrefix(tt.prefix)
			got := spread(p, tt.n)
			if len(got) != tt.n {
				t.Fatalf("%d addresses, want %d", len(got), tt.n)
			}
			per24 := map[netip.Prefix]int{}
			seen := map[netip.Addr]bool{}
			for _, a := range got {
				if !p.Contains(a) || seen[a] {
					t.Fatalf("%s outside %s or twice", a, p)
				}
				seen[a] = true
				per24[netip.PrefixFrom(a, 24).Masked()]++
			}
			// Even: the /24s' shares differ by at most one.
			lo, hi := math.MaxInt, 0
			for _, n := range per24 {
				lo, hi = min(lo, n), max(hi, n)
			}
			if want := 1 << (24 - p.Bits()); tt.n >= want && (len(per24) != want || hi-lo > 1) {
				t.Errorf("shares per /24 %v: not even over %d /24s", per24, want)
			}
		})
	}
}

func TestParseProcesses(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"1,2,4", []int{1, 2, 4}, true},
		{" 3 ", []int{3}, true},
		{"0", nil, false},
		{"17", nil, false},
		{"1,,2", nil, false},
		{"two", nil, false},
	} {
		got, err := parseProcesses(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !equalInts(got, tt.want)) {
			t.Errorf("parseProcesses(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSummarise checks the table's arithmetic: medians over runs, the
// scaling against the first number of processes, CPU per audit, and that
// a run which missed or added an address is not correct.
func TestSummarise(t *testing.T) {
	ok := func(n, run int, secs, last, worker float64) config {
		return config{Processes: n, Run: run, Done: true, State: "done", Audited: 100, Expected: 100, Seconds: secs, LastSeconds: last,
			AuditsPerS: 100 / secs, AuditsPerSLast: 100 / last, WorkerCPU: worker, RowsPerAudit: 1.1, PeakRSSMB: []float64{float64(100 + run)}}
	}
	r := result{Runs: 2, Configs: []config{ok(1, 1, 10, 8, 1), ok(2, 1, 5, 4, 1), ok(1, 2, 20, 16, 3), ok(2, 2, 5, 4, 1)}}
	r.summarise([]int{1, 2})
	if len(r.Summary) != 2 {
		t.Fatalf("summary %+v", r.Summary)
	}
	one, two := r.Summary[0], r.Summary[1]
	// Medians of two runs are their means: (10 + 5) / 2 audits a second.
	if one.AuditsPerS != 7.5 || two.AuditsPerS != 20 || two.Scaling != 20/7.5 || one.Scaling != 1 {
		t.Errorf("rates %v %v, scaling %v %v", one.AuditsPerS, two.AuditsPerS, one.Scaling, two.Scaling)
	}
	if one.AuditsPerSLast != (12.5+6.25)/2 || two.ScalingLast != 25/one.AuditsPerSLast {
		t.Errorf("rates to the last audit %v, scaling %v", one.AuditsPerSLast, two.ScalingLast)
	}
	// (1 s + 3 s) / 2 over 100 audits: 20 ms an audit.
	if one.WorkerMS != 20 || one.PeakRSSMB != 102 {
		t.Errorf("worker %v ms an audit, peak %v MB", one.WorkerMS, one.PeakRSSMB)
	}
	if !r.correct() {
		t.Error("correct runs judged not correct")
	}
	var out bytes.Buffer
	r.print(&out)
	if strings.Contains(out.String(), "NOT CORRECT") {
		t.Errorf("print says NOT CORRECT:\n%s", out.String())
	}

	for name, broken := range map[string]func(*config){
		"missing": func(c *config) { c.MissingN, c.Missing, c.Audited = 1, []string{"10.80.0.1"}, 99 },
		"extra":   func(c *config) { c.ExtraN, c.Extra = 1, []string{"10.80.0.2"} },
		"timeout": func(c *config) { c.Done, c.State = false, "running" },
		"failed":  func(c *config) { c.State = "failed" },
	} {
		t.Run(name, func(t *testing.T) {
			bad := result{Runs: 1, Configs: []config{ok(1, 1, 10, 8, 1)}}
			broken(&bad.Configs[0])
			if bad.correct() {
				t.Error("judged correct")
			}
			var out bytes.Buffer
			bad.print(&out)
			if !strings.Contains(out.String(), "NOT CORRECT") {
				t.Errorf("print does not say NOT CORRECT:\n%s", out.String())
			}
		})
	}
}
