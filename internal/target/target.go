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
)

// Scope is an allow-list of prefixes. The zero Scope allows nothing.
type Scope struct {
	prefixes []netip.Prefix
}

// NewScope builds a scope from prefixes (masked; duplicates removed).
func NewScope(ps ...netip.Prefix) Scope {
	var s Scope
	for _, p := range ps {
		s = s.With(p)
	}
	return s
}

// With returns a copy of s that also allows p.
func (s Scope) With(p netip.Prefix) Scope {
	p = p.Masked()
	if !p.IsValid() || slices.Contains(s.prefixes, p) {
		return s
	}
	out := Scope{prefixes: append(slices.Clone(s.prefixes), p)}
	return out
}

// WithAddr returns a copy of s that also allows the single address a.
func (s Scope) WithAddr(a netip.Addr) Scope {
	a = a.Unmap()
	return s.With(netip.PrefixFrom(a, a.BitLen()))
}

// Contains reports whether a is allowed. IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry, so "::ffff:192.0.2.1" cannot slip
// past a scope that does not allow 192.0.2.1.
func (s Scope) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Prefixes returns the allowed prefixes.
func (s Scope) Prefixes() []netip.Prefix { return slices.Clone(s.prefixes) }

// IsEmpty reports whether s allows nothing.
func (s Scope) IsEmpty() bool { return len(s.prefixes) == 0 }

func (s Scope) String() string {
	parts := make([]string, len(s.prefixes))
	for i, p := range s.prefixes {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
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
