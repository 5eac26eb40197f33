// SPDX-License-Identifier: Apache-2.0

package target

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func rng(s string) Range {
	sp, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return sp.Range()
}

func TestNewSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string // merged ranges
	}{
		{"empty", nil, ""},
		{"one_address", []string{"192.0.2.1"}, "192.0.2.1-192.0.2.1"},
		{"duplicates_merge", []string{"192.0.2.1", "192.0.2.1"}, "192.0.2.1-192.0.2.1"},
		{"adjacent_merge", []string{"192.0.2.1", "192.0.2.2", "192.0.2.0"}, "192.0.2.0-192.0.2.2"},
		{"overlap_merge", []string{"192.0.2.0/25", "192.0.2.100-200"}, "192.0.2.0-192.0.2.200"},
		{"contained", []string{"192.0.2.0/24", "192.0.2.7"}, "192.0.2.0-192.0.2.255"},
		{"gap_kept", []string{"192.0.2.1", "192.0.2.3"}, "192.0.2.1-192.0.2.1 192.0.2.3-192.0.2.3"},
		{"families_apart", []string{"2001:db8::1", "192.0.2.1"}, "192.0.2.1-192.0.2.1 2001:db8::1-2001:db8::1"},
		{"top_of_ipv4", []string{"255.255.255.255", "255.255.255.254"}, "255.255.255.254-255.255.255.255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []Range
			for _, s := range tc.in {
				rs = append(rs, rng(s))
			}
			var got []string
			for _, r := range NewSet(rs...).Ranges() {
				got = append(got, r.First.String()+"-"+r.Last.String())
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("NewSet(%v) = %q, want %q", tc.in, g, tc.want)
			}
		})
	}
}

func TestSetMembership(t *testing.T) {
	s := NewSet(rng("192.0.2.0/25"), rng("192.0.2.128/25"), rng("198.51.100.10-20"), rng("2001:db8::/126"))
	for _, tc := range []struct {
		name string
		addr string
		want bool
	}{
		{"first", "192.0.2.0", true},
		{"last_of_merged", "192.0.2.255", true},
		{"before", "192.0.1.255", false},
		{"between", "198.51.100.9", false},
		{"range_end", "198.51.100.20", true},
		{"after", "198.51.100.21", false},
		{"mapped_v4", "::ffff:192.0.2.9", true},
		{"v6_in", "2001:db8::3", true},
		{"v6_out", "2001:db8::4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("Contains(%s) = %v", tc.addr, got)
			}
		})
	}
	for _, tc := range []struct {
		name string
		r    string
		want bool
	}{
		{"covered_by_two_halves", "192.0.2.0/24", true},
		{"inside_range", "198.51.100.12-15", true},
		{"sticks_out", "198.51.100.15-25", false},
		{"spans_gap", "198.51.100.1-12", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.ContainsRange(rng(tc.r)); got != tc.want {
				t.Errorf("ContainsRange(%s) = %v", tc.r, got)
			}
		})
	}
	if n := s.Count(1000); n != 256+11+4 {
		t.Errorf("Count = %d, want %d", n, 256+11+4)
	}
	if n := s.Count(100); n != 101 {
		t.Errorf("Count(100) = %d, want 101 (over the bound)", n)
	}
	var all []netip.Addr
	for a := range s.All() {
		all = append(all, a)
	}
	if len(all) != 271 || !slices.IsSortedFunc(all, netip.Addr.Compare) {
		t.Errorf("All yielded %d addresses (sorted %v), want 271 in order", len(all), slices.IsSortedFunc(all, netip.Addr.Compare))
	}
}

func TestScopeString(t *testing.T) {
	var ps []netip.Prefix
	for i := range 20 {
		ps = append(ps, netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/32", i)))
	}
	s := NewScope(ps...).String()
	if !strings.HasPrefix(s, "192.0.2.0/32,192.0.2.1/32,") || !strings.HasSuffix(s, ",… (20 prefixes)") || strings.Contains(s, "192.0.2.19/32") {
		t.Errorf("String of 20 prefixes = %q, want the first %d and the count", s, maxScopeText)
	}
	if got := NewScope(netip.MustParsePrefix("192.0.2.0/24")).WithAddr(netip.MustParseAddr("198.51.100.1")).String(); got != "192.0.2.0/24,198.51.100.1/32" {
		t.Errorf("String = %q", got)
	}
}

// manyLines is a target file of n single addresses, in no order.
func manyLines(n int) string {
	var b strings.Builder
	for i := range n {
		j := (i * 7919) % n // a permutation: not sorted
		fmt.Fprintf(&b, "10.%d.%d.%d\n", j>>16&255, j>>8&255, j&255)
	}
	return b.String()
}

// TestBudgetManyTargets: a scan's target file of 200,000 lines becomes
// its scope and target set in well under the budget (the old Scope.With
// loop was quadratic: 100,000 lines took 104 s). Skipped under -race,
// which slows everything tenfold; CI runs the Budget tests without it.
func TestBudgetManyTargets(t *testing.T) {
	if raceEnabled {
		t.Skip("budget tests run without -race")
	}
	const n = 200_000
	text := manyLines(n)
	start := time.Now()
	specs, err := ParseList(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var ps []netip.Prefix
	for _, sp := range specs {
		ps = append(ps, sp.Prefixes()...)
	}
	scope := NewScope(ps...)
	set := Targets(specs)
	for _, sp := range specs {
		if !scope.Covers(sp) {
			t.Fatalf("%s not covered by its own scope", sp.Text)
		}
	}
	if c := set.Count(n); c != n {
		t.Fatalf("Count = %d, want %d", c, n)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("%d target lines took %.1f s, budget 5 s", n, el.Seconds())
	}
}

func BenchmarkScopeFromTargets(b *testing.B) {
	specs, err := ParseList(strings.NewReader(manyLines(100_000)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var ps []netip.Prefix
		for _, sp := range specs {
			ps = append(ps, sp.Prefixes()...)
		}
		s := NewScope(ps...)
		for _, sp := range specs {
			if !s.Covers(sp) {
				b.Fatal("not covered")
			}
		}
	}
}
