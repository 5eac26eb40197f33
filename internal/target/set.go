// SPDX-License-Identifier: Apache-2.0

package target

import (
	"cmp"
	"iter"
	"net/netip"
	"slices"
)

// Range is an inclusive range of addresses of one family.
type Range struct {
	First, Last netip.Addr
}

// Set is a set of addresses held as sorted, disjoint ranges (adjacent
// ranges merged), so that membership is a binary search and a million
// target lines cost a sort, not a million scans of each other. The zero
// Set is empty. A Set is immutable once built.
type Set struct {
	rs []Range
}

// NewSet builds the set of the given ranges, in O(n log n). Invalid
// ranges (zero addresses, mixed families, end before start) are ignored.
func NewSet(rs ...Range) Set {
	var in []Range
	for _, r := range rs {
		r.First, r.Last = r.First.Unmap().WithZone(""), r.Last.Unmap().WithZone("")
		if !r.First.IsValid() || !r.Last.IsValid() || r.First.BitLen() != r.Last.BitLen() || r.First.Compare(r.Last) > 0 {
			continue
		}
		in = append(in, r)
	}
	slices.SortFunc(in, func(a, b Range) int {
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		return a.Last.Compare(b.Last)
	})
	var out []Range
	for _, r := range in {
		if n := len(out); n > 0 && out[n-1].First.BitLen() == r.First.BitLen() && touches(out[n-1].Last, r.First) {
			if r.Last.Compare(out[n-1].Last) > 0 {
				out[n-1].Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return Set{rs: out}
}

// touches reports whether a range ending at last overlaps or abuts one
// starting at first (same family).
func touches(last, first netip.Addr) bool {
	if first.Compare(last) <= 0 {
		return true
	}
	next := last.Next()
	return next.IsValid() && next == first
}

// Contains reports whether a is in the set.
func (s Set) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	i := s.search(a)
	return i < len(s.rs) && s.rs[i].First.Compare(a) <= 0
}

// ContainsRange reports whether every address of r is in the set.
func (s Set) ContainsRange(r Range) bool {
	first, last := r.First.Unmap().WithZone(""), r.Last.Unmap().WithZone("")
	i := s.search(first)
	return i < len(s.rs) && s.rs[i].First.Compare(first) <= 0 && s.rs[i].Last.Compare(last) >= 0
}

// search returns the index of the first range whose Last is not before a.
func (s Set) search(a netip.Addr) int {
	i, _ := slices.BinarySearchFunc(s.rs, a, func(r Range, a netip.Addr) int {
		return cmp.Compare(r.Last.Compare(a), 0)
	})
	return i
}

// Ranges returns the set's ranges, sorted.
func (s Set) Ranges() []Range { return slices.Clone(s.rs) }

// IsEmpty reports whether the set holds no address.
func (s Set) IsEmpty() bool { return len(s.rs) == 0 }

// Count returns how many addresses the set holds, or max+1 when it holds
// more than max (an IPv6 /64 does not fit a count).
func (s Set) Count(max int) int {
	n := 0
	for _, r := range s.rs {
		for a := r.First; ; a = a.Next() {
			n++
			if n > max || a == r.Last {
				break
			}
		}
		if n > max {
			return max + 1
		}
	}
	return n
}

// All yields every address once, in order, without holding them.
func (s Set) All() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		for _, r := range s.rs {
			for a := r.First; ; a = a.Next() {
				if !yield(a) || a == r.Last {
					break
				}
			}
		}
	}
}
