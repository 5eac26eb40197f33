// SPDX-License-Identifier: Apache-2.0

// Package dnshijack decides whether the resolvers a network hands out lie
// about the names that matter, the way the 2025-2026 APT28 campaign did:
// the router's DHCP DNS pointed at an attacker's dnsmasq that answered
// honestly except for a few login names, which went to servers with
// invalid certificates.
//
// The package has two halves. Measure gathers observations through the
// probes (dnsprobe for every DNS exchange and TLS proof; every packet
// through the netx.Dialer it is given): canary names through each
// resolver and through encrypted trusted resolvers, CHAOS fingerprints, a
// random name that must not exist, DNSSEC signatures, and — for every
// answer that differs from the trusted one — the certificate the answered
// address presents for the name. Judge is pure: it turns observations into
// a verdict per resolver (clean, suspicious, hijacked or unknown) with a
// confidence and every piece of evidence, findings with stable IDs
// (passes included, unknown with the reason when something could not be
// measured) and plain-words steps. Run does both.
//
// The contract, in the words of the threat brief: no false alarm for CDN
// variance (a differing answer whose address proves the name with a valid
// certificate is not an attack); weak signals (a dnsmasq-2.85 banner, a
// candidate IOC) raise confidence but never decide alone; exact
// addresses only, never ranges; nothing unmeasured reads as clean.
package dnshijack

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// DefaultTLSPort is where TLS proofs connect: HTTPS, where the user's
// browser would send the password.
const DefaultTLSPort = 443

// DialerOptions are the netx options a DNS run should use. A run sends
// about 30 small datagrams to each resolver under test and about 30 TLS
// exchanges to each trusted resolver, spread over several servers; the
// default rate limit (200 new connections/s, burst 50) exists to spare a
// small router's web UI and would alone add most of a second here. The
// router still gets only its ~30 questions.
func DialerOptions() netx.Options {
	return netx.Options{Rate: 1000, Burst: 200, Concurrency: 128}
}

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

// Input is everything one run needs. The dns command and the lab tests
// build it; zero fields take the defaults documented on each.
type Input struct {
	// Resolvers are the resolvers to test. Required.
	Resolvers []Resolver
	// Trusted are the encrypted resolvers whose answers are the
	// reference (DoH, DoT). Without one, comparisons are unknown.
	Trusted []dnsprobe.Server
	// Canaries are the names compared; nil means the embedded list.
	Canaries []Canary
	// DNSSECNames are signed names used to see whether signatures
	// survive the resolver; nil means the embedded list.
	DNSSECNames []string
	// NXParent is the zone under which a random label must not exist;
	// empty means the embedded one (example.com).
	NXParent string
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
	// Dialer carries every DNS exchange. Required.
	Dialer *netx.Dialer
	// ProofDialer returns a dialer whose scope also allows extra: the
	// addresses resolvers answered for canaries, which TLS proofs must
	// contact. Nil means proofs use Dialer (and addresses outside its
	// scope stay unproved).
	ProofDialer func(extra []netip.Addr) *netx.Dialer
	// TLSPort is the port TLS proofs connect to; 0 means 443. Tests and
	// labs set it.
	TLSPort uint16
	// RootCAs verifies TLS proofs; nil means the system roots.
	RootCAs *x509.CertPool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Early is the run's first round, begun with Start while discovery
	// was still listening; nil means Run asks everything itself. Its
	// questions and trusted resolvers replace Canaries, DNSSECNames,
	// NXParent and Trusted.
	Early *Early
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
