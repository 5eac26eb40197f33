// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// The observations the judge reads. The DNS engine's measurer
// (internal/dnsaudit/measure) fills them through dnsprobe; tests build
// them by hand. The helpers below are pure: they say what an
// observation means for the next measurement (which answers need a TLS
// proof, which zones' keys to ask for) without sending anything.

// Key is one question: a canonical name (lowercase, trailing dot), a
// type, and the profile it is asked in (the zero profile for every
// question but the canaries' other shapes).
type Key struct {
	Name    string
	Type    uint16
	Profile Profile
}

func (k Key) String() string {
	s := strings.TrimSuffix(k.Name, ".") + " " + dns.TypeToString[k.Type]
	if k.Profile != ProfileValidating {
		s += " (" + string(k.Profile) + ")"
	}
	return s
}

// Profile is the shape of a canary question: how one kind of client asks
// (docs/dns.md, "How clients ask"). A rogue resolver may lie only to
// questions shaped like those of the clients it wants to fool, and answer
// a detector honestly; so each canary is asked in every profile of
// CanaryProfiles, and a name is judged by its worst answer.
type Profile string

// Profiles. The trusted resolvers are asked in the zero profile only:
// their answers are the reference whatever the shape.
const (
	// ProfileValidating: EDNS0 (1232 bytes) with the DO and AD bits, as
	// a validating client asks (systemd-resolved at its default feature
	// level). The zero value: the DNSSEC test (which needs DO), the
	// signed names, the random name and the DNSKEY questions use it.
	ProfileValidating Profile = ""
	// ProfileStub: RD set, no OPT record, no DO, no AD: glibc's
	// getaddrinfo, Android with private DNS off, Chrome's built-in
	// resolver and macOS's mDNSResponder for ordinary lookups. Most
	// lookups on a home network look like this.
	ProfileStub Profile = "stub"
	// ProfileEDNS: EDNS0 with a 1200-byte payload and no DO bit: glibc
	// with `options edns0`, and systemd-resolved once it has given up
	// DNSSEC with a resolver.
	ProfileEDNS Profile = "edns"
)

// CanaryProfiles lists the profiles every canary is asked in, the most
// common client first.
func CanaryProfiles() []Profile {
	return []Profile{ProfileStub, ProfileEDNS, ProfileValidating}
}

// Types returns the question types a canary is asked in profile p: A and
// AAAA; in the stub profile also HTTPS (type 65), which browsers ask
// alongside (Chrome's built-in resolver, Firefox through the system
// stub).
func (p Profile) Types() []uint16 {
	if p == ProfileStub {
		return []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS}
	}
	return []uint16{dns.TypeA, dns.TypeAAAA}
}

// Describe says in words how a question of profile p is shaped.
func (p Profile) Describe() string {
	switch p {
	case ProfileStub:
		return "stub-shaped (no EDNS, as glibc, Android, Chrome and macOS ask)"
	case ProfileEDNS:
		return "EDNS without the DNSSEC bit"
	}
	return "validating (EDNS with the DNSSEC bit)"
}

// name is the profile as evidence shows it.
func (p Profile) name() string {
	if p == ProfileValidating {
		return "validating"
	}
	return string(p)
}

// Answer is one resolver's reply to one question, or why there is none.
// The zero Answer means the question was not asked.
type Answer struct {
	Resp   *dnsprobe.Response `json:"response,omitempty"`
	Err    string             `json:"error,omitempty"`
	Status string             `json:"status,omitempty"`
	// Waited is how long an unanswered question was waited for (its
	// second chance included); the time an answer took is Resp.RTT.
	Waited time.Duration `json:"waited_ns,omitempty"`
}

// AnswerOf records an exchange's outcome: the response, or the error and
// its class (dnsprobe.Classify).
func AnswerOf(r *dnsprobe.Response, err error) Answer {
	if err != nil {
		return Answer{Err: err.Error(), Status: dnsprobe.Classify(err)}
	}
	return Answer{Resp: r}
}

// TrustedStatus is how one trusted resolver fared.
type TrustedStatus struct {
	Server   string `json:"server"`
	Answered int    `json:"answered"`
	Failed   int    `json:"failed"`
	// Err is the first failure, Status its class.
	Err    string `json:"error,omitempty"`
	Status string `json:"status,omitempty"`
}

// TrustedAnswer is the trusted resolvers' merged answer to one question.
type TrustedAnswer struct {
	// Addrs is the union of addresses over the trusted resolvers (they
	// may see different CDN nodes).
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// Answered: at least one trusted resolver gave a valid reply.
	Answered bool `json:"answered"`
	// NXDomain: a trusted resolver said the name does not exist and
	// none gave records.
	NXDomain bool `json:"nxdomain,omitempty"`
	// Signed: a trusted reply carried an RRSIG.
	Signed bool `json:"signed,omitempty"`
	// Signers are the zones whose signatures the trusted replies carried
	// (lowercase, trailing dot).
	Signers []string `json:"signers,omitempty"`
	// Data: a trusted reply had records of the asked type (for DNSKEY
	// questions: the zone has keys).
	Data bool `json:"data,omitempty"`
	// Rcodes lists the response codes seen.
	Rcodes []string `json:"rcodes,omitempty"`
}

// ResolverObs is everything measured about one resolver.
type ResolverObs struct {
	Resolver Resolver             `json:"resolver"`
	Answers  map[Key]Answer       `json:"-"`
	NX       Answer               `json:"nx"`
	Finger   dnsprobe.Fingerprint `json:"fingerprint"`
	// FingerErr is set when no CHAOS query got any reply.
	FingerErr string `json:"fingerprint_error,omitempty"`
}

// ProofKey names one TLS proof: an address and the name sent as SNI.
type ProofKey struct {
	Addr netip.Addr
	Name string
}

// Observations is everything one measurement gathered.
type Observations struct {
	Started, Finished time.Time
	// Canaries are the canaries asked; nil means the embedded list.
	Canaries []Canary
	// Names are the canary names, DNSSECNames the signed ones, NXName
	// the random name that must not exist (all canonical).
	Names       []string
	DNSSECNames []string
	NXName      string
	Trusted     []TrustedStatus
	TrustedAns  map[Key]TrustedAnswer
	Resolvers   []ResolverObs
	Proofs      map[ProofKey]dnsprobe.Proof
	// ProofsSkipped counts differing answers not proved (limit, scope).
	ProofsSkipped int
	// Profiles are the profiles the canaries were asked in; nil means
	// the validating profile only.
	Profiles []Profile
	// KeyZones are the signed zones whose keys (DNSKEY) were asked of
	// the trusted resolvers and of the resolvers that dropped signatures
	// in them; the answers are in TrustedAns and ResolverObs.Answers
	// under Key{Name: zone, Type: DNSKEY}.
	KeyZones []string
}

// profiles returns the profiles the canaries were asked in.
func (obs *Observations) profiles() []Profile {
	if len(obs.Profiles) == 0 {
		return []Profile{ProfileValidating}
	}
	return obs.Profiles
}

// MergeTrusted folds the trusted resolvers' answers into one per key:
// servers names each trusted resolver, ans[i][j] is server i's answer to
// keys[j].
func MergeTrusted(servers []string, keys []Key, ans [][]Answer) ([]TrustedStatus, map[Key]TrustedAnswer) {
	st := make([]TrustedStatus, len(servers))
	merged := make(map[Key]TrustedAnswer, len(keys))
	for i, srv := range servers {
		st[i].Server = srv
		for j, k := range keys {
			a := ans[i][j]
			ta := merged[k]
			if a.Resp == nil {
				st[i].Failed++
				if st[i].Err == "" {
					st[i].Err, st[i].Status = a.Err, a.Status
				}
				merged[k] = ta
				continue
			}
			st[i].Answered++
			ta.Answered = true
			if !slices.Contains(ta.Rcodes, a.Resp.Rcode) {
				ta.Rcodes = append(ta.Rcodes, a.Resp.Rcode)
			}
			for _, addr := range a.Resp.Addrs {
				if !slices.Contains(ta.Addrs, addr) {
					ta.Addrs = append(ta.Addrs, addr)
				}
			}
			ta.Signed = ta.Signed || a.Resp.HasRRSIG
			for _, z := range a.Resp.Signers {
				if !slices.Contains(ta.Signers, z) {
					ta.Signers = append(ta.Signers, z)
				}
			}
			ta.Data = ta.Data || hasType(a.Resp, k.Type)
			merged[k] = ta
		}
	}
	for k, ta := range merged {
		ta.NXDomain = slices.Contains(ta.Rcodes, "NXDOMAIN") && len(ta.Addrs) == 0
		merged[k] = ta
	}
	return st, merged
}

// hasType reports whether r's answer section holds a record of type t.
func hasType(r *dnsprobe.Response, t uint16) bool {
	name := dns.TypeToString[t]
	return slices.ContainsFunc(r.Answers, func(rec dnsprobe.Record) bool { return rec.Type == name })
}

// StrippedZones returns, per resolver, the signed zones (trusted
// signers) of the names whose signatures it dropped: an answer with
// addresses and no RRSIG where the trusted answer is signed. Their keys
// tell a forwarder that strips signatures (it passes the keys on) from a
// resolver that answers the zone from its own copy (it has none).
func StrippedZones(obs *Observations) [][]string {
	out := make([][]string, len(obs.Resolvers))
	for i, ro := range obs.Resolvers {
		for _, n := range append(slices.Clone(obs.Names), obs.DNSSECNames...) {
			k := Key{Name: n, Type: dns.TypeA}
			ta := obs.TrustedAns[k]
			r := ro.Answers[k].Resp
			if !ta.Signed || r == nil || len(r.Addrs) == 0 || r.HasRRSIG {
				continue
			}
			for _, z := range ta.Signers {
				if !slices.Contains(out[i], z) {
					out[i] = append(out[i], z)
				}
			}
		}
	}
	return out
}

// NeedsProof lists, sorted by address then name, the canary answers the
// trusted side does not confirm (or cannot: when it has no answer, every
// canary address needs a proof, so a run without a trusted resolver
// still catches an interception), in every profile, the hints of HTTPS
// answers included. Blocking answers (sinkholes) need none.
func NeedsProof(obs *Observations) []ProofKey {
	want := map[ProofKey]bool{}
	for _, ro := range obs.Resolvers {
		for k, a := range ro.Answers {
			if a.Resp == nil || !slices.Contains(obs.Names, k.Name) ||
				(k.Type != dns.TypeA && k.Type != dns.TypeAAAA && k.Type != dns.TypeHTTPS) {
				continue
			}
			ref, answered := obs.reference(k)
			for _, addr := range a.Resp.Addrs {
				if sinkhole(addr) || (answered && slices.Contains(ref, addr)) {
					continue
				}
				want[ProofKey{addr, k.Name}] = true
			}
		}
	}
	keys := make([]ProofKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ProofKey) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return keys
}

// reference returns the trusted addresses an answer to k is compared
// with, and whether a trusted resolver answered: for A and AAAA the
// trusted answer of that type; for HTTPS (whose hints may be of either
// family) the trusted addresses of all three.
func (obs *Observations) reference(k Key) ([]netip.Addr, bool) {
	if k.Type != dns.TypeHTTPS {
		ta := obs.TrustedAns[Key{Name: k.Name, Type: k.Type}]
		return ta.Addrs, ta.Answered
	}
	var out []netip.Addr
	answered := false
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS} {
		ta := obs.TrustedAns[Key{Name: k.Name, Type: t}]
		out = append(out, ta.Addrs...)
		answered = answered || ta.Answered
	}
	return out, answered
}

// sinkhole reports answers that block a name rather than redirect it:
// the unspecified addresses and the loopback addresses blockers (Pi-hole,
// AdGuard, hosts files) answer with. Nothing there is proved.
func sinkhole(a netip.Addr) bool {
	return a.IsUnspecified() || a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || a == netip.IPv6Loopback() ||
		a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
