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

// Key is one question: a canonical name (lowercase, trailing dot) and a
// type.
type Key struct {
	Name string
	Type uint16
}

func (k Key) String() string { return strings.TrimSuffix(k.Name, ".") + " " + dns.TypeToString[k.Type] }

// Answer is one resolver's reply to one question, or why there is none.
// The zero Answer means the question was not asked.
type Answer struct {
	Resp   *dnsprobe.Response `json:"response,omitempty"`
	Err    string             `json:"error,omitempty"`
	Status string             `json:"status,omitempty"`
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
	// KeyZones are the signed zones whose keys (DNSKEY) were asked of
	// the trusted resolvers and of the resolvers that dropped signatures
	// in them; the answers are in TrustedAns and ResolverObs.Answers
	// under Key{zone, DNSKEY}.
	KeyZones []string
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
			k := Key{n, dns.TypeA}
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
// still catches an interception). Blocking answers (sinkholes) need
// none.
func NeedsProof(obs *Observations) []ProofKey {
	want := map[ProofKey]bool{}
	for _, ro := range obs.Resolvers {
		for _, n := range obs.Names {
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				k := Key{n, t}
				a := ro.Answers[k]
				if a.Resp == nil {
					continue
				}
				ta := obs.TrustedAns[k]
				for _, addr := range a.Resp.Addrs {
					if sinkhole(addr) || (ta.Answered && slices.Contains(ta.Addrs, addr)) {
						continue
					}
					want[ProofKey{addr, n}] = true
				}
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

// sinkhole reports answers that block a name rather than redirect it:
// the unspecified addresses and the loopback addresses blockers (Pi-hole,
// AdGuard, hosts files) answer with. Nothing there is proved.
func sinkhole(a netip.Addr) bool {
	return a.IsUnspecified() || a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || a == netip.IPv6Loopback() ||
		a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
