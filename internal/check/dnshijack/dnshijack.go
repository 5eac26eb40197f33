// SPDX-License-Identifier: Apache-2.0

// Package dnshijack decides whether the resolvers a network hands out lie
// about the names that matter, the way the 2025-2026 APT28 campaign did:
// the router's DHCP DNS pointed at an attacker's dnsmasq that answered
// honestly except for a few login names, which went to servers with
// invalid certificates.
//
// It is a pure judge: observations in (Observations — canary names
// through each resolver and through encrypted trusted resolvers, CHAOS
// fingerprints, a random name that must not exist, DNSSEC signatures and
// zone keys, and the certificate each differing answer's address
// presented), verdicts, findings and steps out. It sends nothing: the DNS
// engine (internal/dnsaudit, its measurer internal/dnsaudit/measure)
// measures through dnsprobe and asks this package what an observation
// means for the next measurement (NeedsProof, StrippedZones). Judge turns
// observations into a verdict per resolver (clean, suspicious, hijacked
// or unknown) with a confidence and every piece of evidence, findings
// with stable IDs (passes included, unknown with the reason when
// something could not be measured) and plain-words steps; Discovery turns
// what the host and the link said into the resolvers to test.
//
// The contract, in the words of the threat brief: no false alarm for CDN
// variance (a differing answer whose address proves the name with a valid
// certificate is not an attack); weak signals (a dnsmasq-2.85 banner, a
// candidate IOC) raise confidence but never decide alone; exact
// addresses only, never ranges; nothing unmeasured reads as clean; the
// same observations always give the same result.
package dnshijack

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// SourceKind says where a resolver address came from.
type SourceKind string

// Sources of resolvers.
const (
	SourceOS           SourceKind = "os"            // the OS resolver configuration
	SourceDHCPv4       SourceKind = "dhcpv4"        // DHCPv4 option 6
	SourceRA           SourceKind = "ipv6_ra"       // IPv6 router advertisement RDNSS (RFC 8106)
	SourceDHCPv6       SourceKind = "dhcpv6"        // DHCPv6 option 23
	SourceUser         SourceKind = "user"          // named with --resolver
	SourceRouterConfig SourceKind = "router_config" // read from the router's settings (later)
	// SourceAll stands for every discovery source in a SourceStatus,
	// when all were skipped for one reason.
	SourceAll SourceKind = "all"
)

// Source is one place a resolver was named.
type Source struct {
	Kind SourceKind `json:"kind"`
	// Index is the position in that source's list: 0 is the primary.
	Index int `json:"index"`
	// Detail says which instance: the interface, the file, the DHCP
	// server's address.
	Detail string `json:"detail,omitempty"`
}

// Role names the position: "primary", "secondary", "3rd".
func (s Source) Role() string {
	switch s.Index {
	case 0:
		return "primary"
	case 1:
		return "secondary"
	case 2:
		return "3rd"
	}
	return fmt.Sprintf("%dth", s.Index+1)
}

// Group names the list the source belongs to ("dhcpv4 eth0"): primary and
// secondary are compared within a group.
func (s Source) Group() string {
	if s.Detail == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Detail
}

func (s Source) String() string {
	what := map[SourceKind]string{
		SourceOS: "OS resolver", SourceDHCPv4: "DHCPv4 DNS", SourceRA: "router advertisement RDNSS",
		SourceDHCPv6: "DHCPv6 DNS", SourceUser: "--resolver", SourceRouterConfig: "router setting",
	}[s.Kind]
	if what == "" {
		what = string(s.Kind)
	}
	if s.Kind == SourceUser {
		return what
	}
	out := s.Role() + " " + what
	if s.Detail != "" {
		out += " (" + s.Detail + ")"
	}
	return out
}

// Resolver is one resolver under test and every place it was named.
type Resolver struct {
	Addr    netip.AddrPort `json:"addr"`
	Sources []Source       `json:"sources"`
}

// Key is the stable name of the resolver in finding IDs: its address, and
// the port when it is not 53.
func (r Resolver) Key() string {
	if r.Addr.Port() == 53 {
		return r.Addr.Addr().String()
	}
	return r.Addr.String()
}

// Label describes the resolver for people: "203.0.113.66 (primary DHCPv4
// DNS (eth0))".
func (r Resolver) Label() string {
	parts := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		parts[i] = s.String()
	}
	if len(parts) == 0 {
		return r.Key()
	}
	return r.Key() + " (" + strings.Join(parts, "; ") + ")"
}

// fromDiscovery reports whether the resolver was found rather than named.
func (r Resolver) fromDiscovery() bool {
	for _, s := range r.Sources {
		if s.Kind != SourceUser {
			return true
		}
	}
	return false
}

// SourceStatus is what one discovery source reported, so that a source
// that could not be read becomes an "unknown" finding, not silence.
type SourceStatus struct {
	Kind SourceKind `json:"kind"`
	// Detail names the instance (interface, file).
	Detail string `json:"detail,omitempty"`
	// Found is how many resolvers it named.
	Found int `json:"found"`
	// Skipped is why it was not consulted ("--no-dhcp"), if it was not.
	Skipped string `json:"skipped,omitempty"`
	// Err is why it failed, if it did.
	Err string `json:"error,omitempty"`
}

// Input is what the judge needs besides the observations. Zero fields
// take the defaults documented on each.
type Input struct {
	// Gateways are this host's default gateways, to recognise the router
	// itself as a resolver.
	Gateways []netip.Addr
	// Indicators are known-bad addresses; nil means the embedded set.
	Indicators *Indicators
	// PublicResolvers are well-known public resolvers; nil means the
	// embedded table.
	PublicResolvers *PublicResolvers
	// Discovery is what each resolver source reported.
	Discovery []SourceStatus
	// Now is the clock (indicator staleness, finding times); nil means
	// time.Now.
	Now func() time.Time
}

func (in *Input) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// Verdict is the judgement on one resolver.
type Verdict string

// Verdicts, from best to worst; VerdictUnknown means it could not be
// judged.
const (
	VerdictClean      Verdict = "clean"
	VerdictSuspicious Verdict = "suspicious"
	VerdictHijacked   Verdict = "hijacked"
	VerdictUnknown    Verdict = "unknown"
)

// Class says what kind of address a resolver is.
type Class string

// Resolver classes.
const (
	ClassGateway       Class = "gateway"           // the router itself (a default gateway)
	ClassThisHost      Class = "this_host"         // loopback: a stub resolver on this machine
	ClassPrivate       Class = "private"           // another private or link-local address
	ClassPublicKnown   Class = "public_well_known" // a documented public resolver
	ClassPublicUnknown Class = "public_unknown"    // any other public address: often the ISP's, or a rented server
)

// Result is the outcome of one run.
type Result struct {
	// Headline is one sentence for the top of the report.
	Headline string `json:"headline"`
	// Overall is the worst verdict over all resolvers.
	Overall  Verdict           `json:"overall"`
	Verdicts []ResolverVerdict `json:"resolvers"`
	Findings []finding.Finding `json:"findings"`
	Steps    []finding.Step    `json:"steps,omitempty"`
	Obs      *Observations     `json:"-"`
	Canaries []Canary          `json:"-"`
	Trusted  []TrustedStatus   `json:"trusted"`
}
