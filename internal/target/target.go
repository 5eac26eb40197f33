// SPDX-License-Identifier: Apache-2.0

// Package target defines what routerwatch may contact: a Scope (an
// allow-list of address prefixes) and the parsing of target lists
// (addresses, CIDRs, ranges, files) into it.
//
// The contract: nothing outside a Scope is ever dialed (netx enforces it);
// a Scope is built only from what the user named or what the host says is
// its own gateway and resolvers; parsing refuses anything it cannot read
// exactly, with the offending text in the error.
package target

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/inputfile"
)

// Scope is an allow-list of prefixes. The zero Scope allows nothing.
// Membership is a binary search over the merged prefixes, so a scope of a
// million single addresses (a scan's target file) costs no more to ask
// than one of a few prefixes.
type Scope struct {
	prefixes []netip.Prefix // as given, masked, without duplicates
	set      Set
}

// NewScope builds a scope from prefixes (masked; duplicates and invalid
// prefixes removed), in O(n log n): build large scopes with one call, not
// with With in a loop.
func NewScope(ps ...netip.Prefix) Scope {
	seen := make(map[netip.Prefix]bool, len(ps))
	var s Scope
	rs := make([]Range, 0, len(ps))
	for _, p := range ps {
		p = p.Masked()
		if !p.IsValid() || seen[p] {
			continue
		}
		seen[p] = true
		s.prefixes = append(s.prefixes, p)
		rs = append(rs, Range{First: p.Addr(), Last: lastOf(p)})
	}
	s.set = NewSet(rs...)
	return s
}

// With returns a copy of s that also allows p. It rebuilds the scope:
// fine for the few additions of a DNS run, not for a target list.
func (s Scope) With(p netip.Prefix) Scope {
	p = p.Masked()
	if !p.IsValid() || slices.Contains(s.prefixes, p) {
		return s
	}
	return NewScope(append(slices.Clone(s.prefixes), p)...)
}

// WithAddr returns a copy of s that also allows the single address a.
func (s Scope) WithAddr(a netip.Addr) Scope {
	a = a.Unmap()
	return s.With(netip.PrefixFrom(a, a.BitLen()))
}

// Contains reports whether a is allowed. IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry, so "::ffff:192.0.2.1" cannot slip
// past a scope that does not allow 192.0.2.1.
func (s Scope) Contains(a netip.Addr) bool { return s.set.Contains(a) }

// ContainsRange reports whether every address of r is allowed.
func (s Scope) ContainsRange(r Range) bool { return s.set.ContainsRange(r) }

// Covers reports whether every address of sp is allowed (by one prefix
// or by several that together cover it).
func (s Scope) Covers(sp Spec) bool { return s.set.ContainsRange(sp.Range()) }

// Prefixes returns the allowed prefixes.
func (s Scope) Prefixes() []netip.Prefix { return slices.Clone(s.prefixes) }

// IsEmpty reports whether s allows nothing.
func (s Scope) IsEmpty() bool { return len(s.prefixes) == 0 }

// maxScopeText is how many prefixes String lists before it summarises: a
// scan's scope can hold a million.
const maxScopeText = 16

// String lists the prefixes, comma-separated; a long scope is cut after
// the first few, with the count.
func (s Scope) String() string {
	n := min(len(s.prefixes), maxScopeText)
	parts := make([]string, n)
	for i, p := range s.prefixes[:n] {
		parts[i] = p.String()
	}
	out := strings.Join(parts, ",")
	if len(s.prefixes) > n {
		out += fmt.Sprintf(",… (%d prefixes)", len(s.prefixes))
	}
	return out
}

// MaxExpand bounds how many addresses one range or CIDR may expand to in
// a target list (a /16); larger sweeps must be split deliberately.
const MaxExpand = 1 << 16

// ErrTooLarge reports a range above MaxExpand addresses.
var ErrTooLarge = errors.New("target: range too large")

// Spec is one parsed target-list entry: an inclusive address range.
type Spec struct {
	First, Last netip.Addr
	Text        string
}

// Range returns the addresses the spec names.
func (sp Spec) Range() Range { return Range{First: sp.First, Last: sp.Last} }

// Prefixes returns the smallest list of prefixes covering the range.
func (sp Spec) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	cur := sp.First
	for {
		bits := cur.BitLen()
		// Grow the prefix while it stays aligned and inside the range.
		p := netip.PrefixFrom(cur, bits)
		for b := bits - 1; b >= 0; b-- {
			q := netip.PrefixFrom(cur, b)
			if q.Masked().Addr() != cur || lastOf(q).Compare(sp.Last) > 0 {
				break
			}
			p = q
		}
		out = append(out, p)
		end := lastOf(p)
		if end.Compare(sp.Last) >= 0 {
			return out
		}
		cur = end.Next()
	}
}

// Count returns the number of addresses, capped at MaxExpand+1.
func (sp Spec) Count() int {
	n := 0
	for a := sp.First; n <= MaxExpand; a = a.Next() {
		n++
		if a == sp.Last {
			break
		}
	}
	return n
}

func lastOf(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// ParseSpec reads one entry: "192.0.2.1", "192.0.2.0/24",
// "192.0.2.10-192.0.2.20", "192.0.2.10-20", "2001:db8::1".
func ParseSpec(s string) (Spec, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return Spec{}, errors.New("target: empty entry")
	}
	sp := Spec{Text: text}
	switch {
	case strings.Contains(text, "/"):
		p, err := netip.ParsePrefix(text)
		if err != nil {
			return Spec{}, fmt.Errorf("target: %q is not a CIDR prefix: %w", text, err)
		}
		if p.Masked() != p {
			return Spec{}, fmt.Errorf("target: %q has host bits set; did you mean %s?", text, p.Masked())
		}
		sp.First, sp.Last = p.Addr(), lastOf(p)
	case strings.Contains(text, "-"):
		lo, hi, _ := strings.Cut(text, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return Spec{}, fmt.Errorf("target: %q: start of range: %w", text, err)
		}
		hi = strings.TrimSpace(hi)
		last, err := netip.ParseAddr(hi)
		if err != nil && first.Is4() && !strings.ContainsAny(hi, ".:") {
			// "192.0.2.10-20": the last octet only.
			b := first.As4()
			var n int
			if _, e := fmt.Sscanf(hi, "%d", &n); e == nil && n >= 0 && n <= 255 && fmt.Sprint(n) == hi {
				b[3] = byte(n)
				last, err = netip.AddrFrom4(b), nil
			}
		}
		if err != nil {
			return Spec{}, fmt.Errorf("target: %q: end of range is not an address", text)
		}
		if first.BitLen() != last.BitLen() || first.Compare(last) > 0 {
			return Spec{}, fmt.Errorf("target: %q: range end before its start", text)
		}
		sp.First, sp.Last = first, last
	default:
		a, err := netip.ParseAddr(text)
		if err != nil {
			return Spec{}, fmt.Errorf("target: %q is not an IP address, CIDR or range (host names are not accepted: name the address)", text)
		}
		sp.First, sp.Last = a.WithZone(""), a.WithZone("")
	}
	sp.First, sp.Last = sp.First.Unmap(), sp.Last.Unmap()
	if sp.Count() > MaxExpand {
		return Spec{}, fmt.Errorf("%w: %q has more than %d addresses", ErrTooLarge, text, MaxExpand)
	}
	return sp, nil
}

// ParseList reads one entry per line from r; blank lines and text after
// '#' are ignored. Errors name the line.
func ParseList(r io.Reader) ([]Spec, error) {
	var out []Spec
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		if strings.TrimSpace(t) == "" {
			continue
		}
		sp, err := ParseSpec(t)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, sp)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// Targets is the set of addresses the specs name: each address once,
// however many specs name it, in address order when iterated.
func Targets(specs []Spec) Set {
	rs := make([]Range, len(specs))
	for i, sp := range specs {
		rs[i] = sp.Range()
	}
	return NewSet(rs...)
}

// ScopeOf is the scope of exactly the addresses the specs name.
func ScopeOf(specs []Spec) Scope {
	var ps []netip.Prefix
	for _, sp := range specs {
		ps = append(ps, sp.Prefixes()...)
	}
	return NewScope(ps...)
}

// ParseScope reads scope entries: CIDR prefixes or single addresses,
// each entry possibly a comma-separated list.
func ParseScope(entries []string) (Scope, error) {
	var ps []netip.Prefix
	for _, e := range entries {
		for _, part := range strings.Split(e, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return Scope{}, fmt.Errorf("target: scope %q: give CIDR prefixes (198.51.100.0/24) or addresses", part)
				}
				a = a.Unmap().WithZone("")
				p = netip.PrefixFrom(a, a.BitLen())
			}
			ps = append(ps, p)
		}
	}
	return NewScope(ps...), nil
}

// ErrOutOfScope is returned by CheckCovered.
var ErrOutOfScope = errors.New("target outside the scope")

// CheckCovered returns an error naming the first spec not wholly inside
// scope.
func CheckCovered(scope Scope, specs []Spec) error {
	for _, sp := range specs {
		if !scope.Covers(sp) {
			return fmt.Errorf("%w: %s is outside %s", ErrOutOfScope, sp.Text, scope)
		}
	}
	return nil
}

// maxListFile bounds a target file: a million lines of addresses is
// about 16 MB.
const maxListFile = 64 << 20

// ReadList reads a target file (ParseList): a regular file only, so that
// a FIFO or a device cannot block or flood the run.
func ReadList(path string) ([]Spec, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxListFile {
		return nil, fmt.Errorf("%s: %d bytes: a target file may hold at most %d (split it)", path, st.Size(), maxListFile)
	}
	specs, err := ParseList(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return specs, nil
}
