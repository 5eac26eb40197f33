// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
)

// Discovery is what the resolver sources reported: the OS configuration
// (hostnet) and the link's DHCPv4, router advertisements and DHCPv6
// (dhcpprobe). A nil source with a Skipped reason was not consulted.
type Discovery struct {
	// Facts are the host facts; nil means the OS source was skipped.
	Facts     *hostnet.Facts
	OSSkipped string
	// Interface is the interface the DHCP probes ran on.
	Interface string
	// DHCP is the probe result; nil means the DHCP sources were skipped.
	DHCP        *dhcpprobe.Result
	DHCPSkipped string
	// V6Skipped says why the IPv6 sources (RA, DHCPv6) were not probed
	// even though DHCP was.
	V6Skipped string
}

// Resolvers returns every resolver the sources name, each with all the
// places it was named (an address named twice is tested once), and the
// status of each source.
func (d Discovery) Resolvers() ([]Resolver, []SourceStatus) {
	var rs []Resolver
	var st []SourceStatus
	if d.Facts == nil && d.DHCP == nil && d.OSSkipped != "" && d.OSSkipped == d.DHCPSkipped {
		// One reason for all (resolvers named by the user): one line.
		return nil, []SourceStatus{{Kind: SourceAll, Skipped: d.OSSkipped}}
	}
	// Found counts each address once per source: a router that
	// advertises twice in the window (solicited, then unsolicited), or
	// two DHCP offers, name one resolver.
	type named struct {
		kind SourceKind
		addr netip.Addr
	}
	seen := map[named]bool{}
	add := func(a netip.Addr, src Source, s *SourceStatus) {
		rs = MergeResolvers(rs, []Resolver{{Addr: netip.AddrPortFrom(a, 53), Sources: []Source{src}}})
		if k := (named{src.Kind, a}); !seen[k] {
			seen[k] = true
			s.Found++
		}
	}

	// The OS configuration.
	switch {
	case d.Facts == nil:
		st = append(st, SourceStatus{Kind: SourceOS, Skipped: firstNonEmpty(d.OSSkipped, "not consulted")})
	default:
		s := SourceStatus{Kind: SourceOS}
		for _, p := range d.Facts.Problems {
			if p.Fact == "dns" {
				s.Err = p.Err.Error()
			}
		}
		for _, ns := range d.Facts.DNS.Nameservers {
			if ns.Ignored {
				continue
			}
			add(ns.Addr, Source{Kind: SourceOS, Index: ns.Index, Detail: ns.File}, &s)
		}
		st = append(st, s)
	}

	if d.DHCP == nil {
		reason := firstNonEmpty(d.DHCPSkipped, "not consulted")
		for _, k := range []SourceKind{SourceDHCPv4, SourceRA, SourceDHCPv6} {
			st = append(st, SourceStatus{Kind: k, Detail: d.Interface, Skipped: reason})
		}
		return rs, st
	}
	r := d.DHCP
	s := SourceStatus{Kind: SourceDHCPv4, Detail: d.Interface}
	if r.V4Err != nil {
		s.Err = r.V4Err.Error()
	} else if r.V4 != nil {
		for _, rep := range r.V4.Replies {
			detail := fmt.Sprintf("%s, DHCP server %s", d.Interface, firstValid(rep.ServerID, rep.From))
			for i, a := range rep.DNS {
				add(a, Source{Kind: SourceDHCPv4, Index: i, Detail: detail}, &s)
			}
		}
		if len(r.V4.Replies) == 0 {
			s.Err = "no DHCP server answered (" + r.V4.Method + ")"
		}
	}
	st = append(st, s)

	if d.V6Skipped != "" && r.RA == nil && r.V6 == nil {
		st = append(st, SourceStatus{Kind: SourceRA, Detail: d.Interface, Skipped: d.V6Skipped},
			SourceStatus{Kind: SourceDHCPv6, Detail: d.Interface, Skipped: d.V6Skipped})
		return rs, st
	}
	s = SourceStatus{Kind: SourceRA, Detail: d.Interface}
	switch {
	case r.RAErr != nil:
		s.Err = r.RAErr.Error()
	case r.RA != nil:
		for _, ra := range r.RA.RAs {
			for i, a := range ra.DNS() {
				add(a, Source{Kind: SourceRA, Index: i, Detail: fmt.Sprintf("%s, router %s", d.Interface, ra.From)}, &s)
			}
		}
	}
	st = append(st, s)
	s = SourceStatus{Kind: SourceDHCPv6, Detail: d.Interface}
	switch {
	case r.V6Err != nil:
		s.Err = r.V6Err.Error()
	case r.V6 != nil:
		for _, rep := range r.V6.Replies {
			for i, a := range rep.DNS {
				add(a, Source{Kind: SourceDHCPv6, Index: i, Detail: fmt.Sprintf("%s, DHCPv6 server %s", d.Interface, rep.From)}, &s)
			}
		}
	}
	return rs, append(st, s)
}

func firstValid(as ...netip.Addr) netip.Addr {
	for _, a := range as {
		if a.IsValid() {
			return a
		}
	}
	return netip.Addr{}
}

// MergeResolvers adds b to a: the same address and port becomes one
// resolver with the sources of both. Order is kept (first seen first).
func MergeResolvers(a, b []Resolver) []Resolver {
	out := slices.Clone(a)
	for _, r := range b {
		i := slices.IndexFunc(out, func(x Resolver) bool { return x.Addr == r.Addr })
		if i < 0 {
			out = append(out, Resolver{Addr: r.Addr, Sources: slices.Clone(r.Sources)})
			continue
		}
		for _, s := range r.Sources {
			if !slices.Contains(out[i].Sources, s) {
				out[i].Sources = append(out[i].Sources, s)
			}
		}
	}
	return out
}
