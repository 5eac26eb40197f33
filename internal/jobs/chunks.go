// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"fmt"
	"iter"
	"net/netip"
	"slices"

	"github.com/routerwatch/routerwatch/internal/target"
)

// Chunk sizes: a chunk is one /24 of IPv4 or one /120 of IPv6 (256
// addresses), or the scope's prefix when it is smaller. The per-prefix
// rate is a chunk's rate, so chunks never span two /24s.
const (
	chunkBits4 = 24
	chunkBits6 = 120
)

// Chunks returns the chunks of prefixes, in order, each once (prefixes
// that overlap are merged first). It refuses more than MaxRangeAddresses
// addresses, and IPv6 prefixes shorter than /104 (more than 2^24
// addresses: not a range to enumerate).
func Chunks(prefixes []netip.Prefix) ([]netip.Prefix, error) {
	ps := mergePrefixes(prefixes)
	total := 0
	for _, p := range ps {
		host := p.Addr().BitLen() - p.Bits()
		if host > 24 {
			return nil, fmt.Errorf("%w: prefix %s holds more than %d addresses", ErrInvalid, p, MaxRangeAddresses)
		}
		total += 1 << host
		if total > MaxRangeAddresses {
			return nil, fmt.Errorf("%w: the prefixes hold more than %d addresses", ErrInvalid, MaxRangeAddresses)
		}
	}
	var out []netip.Prefix
	for _, p := range ps {
		out = slices.AppendSeq(out, split(p))
	}
	return out, nil
}

// mergePrefixes masks the prefixes, sorts them and drops those inside
// another.
func mergePrefixes(in []netip.Prefix) []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if p.IsValid() {
			ps = append(ps, p.Masked())
		}
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Contains(p.Addr()) && out[n-1].Bits() <= p.Bits() {
			continue
		}
		out = append(out, p)
	}
	return out
}

// split yields p's chunks.
func split(p netip.Prefix) iter.Seq[netip.Prefix] {
	bits := chunkBits4
	if p.Addr().Is6() {
		bits = chunkBits6
	}
	return func(yield func(netip.Prefix) bool) {
		if p.Bits() >= bits {
			yield(p)
			return
		}
		n := 1 << (bits - p.Bits())
		a := p.Addr()
		for range n {
			c := netip.PrefixFrom(a, bits)
			if !yield(c) {
				return
			}
			a = lastOf(c).Next()
		}
	}
}

// lastOf returns p's last address.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// remaining returns the addresses of chunk not in done, as a set of
// ranges (empty when all are done).
func remaining(chunk netip.Prefix, done []netip.Addr) target.Set {
	skip := make(map[netip.Addr]bool, len(done))
	for _, a := range done {
		skip[a.Unmap()] = true
	}
	var rs []target.Range
	last := lastOf(chunk)
	for a := chunk.Masked().Addr(); ; a = a.Next() {
		if !skip[a] {
			if n := len(rs); n > 0 && rs[n-1].Last.Next() == a {
				rs[n-1].Last = a
			} else {
				rs = append(rs, target.Range{First: a, Last: a})
			}
		}
		if a == last {
			break
		}
	}
	return target.NewSet(rs...)
}
