// SPDX-License-Identifier: Apache-2.0

package dnshijack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// In-flight limits. QueryTimeout and ProofTimeout start when an exchange
// starts, so queueing here does not eat into them; the run as a whole is
// bounded by the caller's context.
const (
	// maxPlainInFlight bounds plain DNS exchanges at once: enough to ask
	// three resolvers everything in one round trip.
	maxPlainInFlight = 128
	// maxTLSInFlight bounds DoH/DoT exchanges and TLS proofs at once: a
	// TLS handshake costs CPU, and a small machine running a hundred at
	// once would push each past its timeout.
	maxTLSInFlight = 24
)

// limiter is a counting semaphore that gives up with the context.
type limiter chan struct{}

func (l limiter) do(ctx context.Context, f func()) {
	select {
	case l <- struct{}{}:
		defer func() { <-l }()
		f()
	case <-ctx.Done():
		f() // runs at once and fails with the context's error
	}
}

// maxProofs bounds the TLS proofs of one run: 3 resolvers × 12 canaries ×
// 2 families lie well under it; a resolver answering hundreds of
// addresses must not turn the check into a scan.
const maxProofs = 64

// Key is one question: a canonical name (lowercase, trailing dot) and a
// type.
type Key struct {
	Name string
	Type uint16
}

func (k Key) String() string { return strings.TrimSuffix(k.Name, ".") + " " + dns.TypeToString[k.Type] }

// Answer is one resolver's reply to one question, or why there is none.
type Answer struct {
	Resp   *dnsprobe.Response `json:"response,omitempty"`
	Err    string             `json:"error,omitempty"`
	Status string             `json:"status,omitempty"`
}

func answerOf(r *dnsprobe.Response, err error) Answer {
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

// Observations is everything Measure gathered.
type Observations struct {
	Started, Finished time.Time
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

// plan is the normalised question list of a run.
type plan struct {
	canaries []Canary
	names    []string // canonical canary names
	dnssec   []string
	nxName   string
}

// prepare validates in and fills its defaults. With in.Early the plan is
// the one its first round asked (the random NXDOMAIN label included).
func prepare(in *Input) (plan, error) {
	if in.Dialer == nil {
		return plan{}, errors.New("dnshijack: Input.Dialer is required")
	}
	if len(in.Resolvers) == 0 {
		return plan{}, errors.New("dnshijack: no resolver to test")
	}
	if in.Early != nil {
		return in.Early.p, nil
	}
	return newPlan(in)
}

// newPlan normalises the questions of in: canaries, DNSSEC names and a
// fresh random name that must not exist.
func newPlan(in *Input) (plan, error) {
	var p plan
	data, err := DefaultCanaries()
	if err != nil {
		return p, err
	}
	p.canaries = in.Canaries
	if p.canaries == nil {
		p.canaries = data.Canaries
	}
	for _, c := range p.canaries {
		n, err := CanonicalName(c.Name)
		if err != nil {
			return p, err
		}
		if !slices.Contains(p.names, n) {
			p.names = append(p.names, n)
		}
	}
	dnssecNames := in.DNSSECNames
	if dnssecNames == nil {
		for _, d := range data.DNSSECNames {
			dnssecNames = append(dnssecNames, d.Name)
		}
	}
	for _, d := range dnssecNames {
		n, err := CanonicalName(d)
		if err != nil {
			return p, err
		}
		if !slices.Contains(p.names, n) && !slices.Contains(p.dnssec, n) {
			p.dnssec = append(p.dnssec, n)
		}
	}
	parent := in.NXParent
	if parent == "" {
		parent = data.NXParent.Name
	}
	if _, err := CanonicalName(parent); err != nil {
		return p, err
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return p, fmt.Errorf("dnshijack: random label: %w", err)
	}
	// A fresh random label per run: no resolver can have it cached and
	// no wildcard-free zone has it.
	p.nxName = "rw-nx-" + hex.EncodeToString(rnd[:]) + "." + dns.Fqdn(strings.ToLower(parent))
	return p, nil
}

// keys returns every question asked of every server.
func (p plan) keys() []Key {
	var ks []Key
	for _, n := range p.names {
		ks = append(ks, Key{n, dns.TypeA}, Key{n, dns.TypeAAAA})
	}
	for _, n := range p.dnssec {
		ks = append(ks, Key{n, dns.TypeA})
	}
	return append(ks, Key{p.nxName, dns.TypeA})
}

// Measure asks every question of every resolver and trusted resolver in
// parallel, then proves by TLS every canary answer the trusted side does
// not confirm. Everything runs under ctx; measurement failures are
// recorded in the observations, and the error is reserved for an unusable
// Input.
func Measure(ctx context.Context, in Input) (*Observations, error) {
	p, err := prepare(&in)
	if err != nil {
		return nil, err
	}
	return measure(ctx, &in, p), nil
}

func measure(ctx context.Context, in *Input, p plan) *Observations {
	e := in.Early
	if e == nil {
		e = begin(ctx, in, p)
	}
	// The trusted servers are those the first round asked, also for
	// the DNSSEC keys below.
	in.Trusted = e.trustedSrv
	obs := &Observations{Started: e.started, Names: p.names, DNSSECNames: p.dnssec, NXName: p.nxName}
	client := dnsprobe.NewClient(in.Dialer)
	plain, tlsLim := e.plain, e.tlsLim

	// Resolvers under test: those the first round already asks are
	// reused; the others (named by a source that answered later) are
	// asked now.
	obs.Resolvers = make([]ResolverObs, len(in.Resolvers))
	rounds := make([]*serverRound, len(in.Resolvers))
	for i, res := range in.Resolvers {
		obs.Resolvers[i].Resolver = res
		if r, ok := e.resolvers[res.Addr]; ok {
			rounds[i] = r
			continue
		}
		rounds[i] = startServer(ctx, client, dnsprobe.Server{Transport: dnsprobe.UDP, Addr: res.Addr}, e.keys, true, plain)
	}
	trusted := make([][]Answer, len(e.trusted))
	for i, r := range e.trusted {
		<-r.done
		trusted[i] = r.answers
	}
	obs.Trusted, obs.TrustedAns = mergeTrusted(e.trustedSrv, e.keys, trusted)
	// A resolver the first round asked but the final list dropped still
	// ends before the run does: nothing outlives Run.
	e.wait()
	for i, r := range rounds {
		<-r.done
		ro := &obs.Resolvers[i]
		ro.Finger, ro.FingerErr = r.finger, r.fingerErr
		ro.Answers = make(map[Key]Answer, len(e.keys))
		for j, k := range e.keys {
			if k.Name == p.nxName {
				ro.NX = r.answers[j]
				continue
			}
			ro.Answers[k] = r.answers[j]
		}
	}
	// Second round, in parallel: TLS proofs of differing answers, and
	// the keys of signed zones whose signatures a resolver dropped.
	// Both only read obs until both are done.
	var wg2 sync.WaitGroup
	var proofs map[ProofKey]dnsprobe.Proof
	var skipped int
	var recordKeys func()
	wg2.Go(func() { proofs, skipped = prove(ctx, in, obs) })
	wg2.Go(func() { recordKeys = askKeys(ctx, in, client, obs, plain, tlsLim) })
	wg2.Wait()
	obs.Proofs, obs.ProofsSkipped = proofs, skipped
	recordKeys()
	obs.Finished = in.now()
	return obs
}

// maxKeyZones bounds the zones whose keys one run asks for: the signed
// canaries and DNSSEC names of a run live in a handful of zones.
const maxKeyZones = 8

// strippedZones returns, per resolver, the signed zones (trusted signers)
// of the names whose signatures it dropped: an answer with addresses and
// no RRSIG where the trusted answer is signed.
func strippedZones(obs *Observations) [][]string {
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

// askKeys asks for the DNSKEY of every zone in which a resolver dropped
// signatures, through that resolver and the trusted resolvers. A
// forwarder that strips signatures still returns the keys (they are
// ordinary records); a resolver that answers the zone from its own
// unsigned copy says the zone has none. It only reads obs; the function
// it returns records the answers in obs.
func askKeys(ctx context.Context, in *Input, client *dnsprobe.Client, obs *Observations, plain, tlsLim limiter) func() {
	per := strippedZones(obs)
	var zones []string
	for _, zs := range per {
		for _, z := range zs {
			if !slices.Contains(zones, z) && len(zones) < maxKeyZones {
				zones = append(zones, z)
			}
		}
	}
	if len(zones) == 0 {
		return func() {}
	}
	keys := make([]Key, len(zones))
	for i, z := range zones {
		keys[i] = Key{z, dns.TypeDNSKEY}
	}
	var wg sync.WaitGroup
	rounds := make([]*serverRound, len(in.Trusted))
	for i, srv := range in.Trusted {
		rounds[i] = startServer(ctx, client, srv, keys, false, limiterFor(srv, plain, tlsLim))
	}
	answers := make([]map[Key]Answer, len(obs.Resolvers))
	var mu sync.Mutex
	for i := range obs.Resolvers {
		answers[i] = map[Key]Answer{}
		srv := dnsprobe.Server{Transport: dnsprobe.UDP, Addr: obs.Resolvers[i].Resolver.Addr}
		for _, z := range per[i] {
			if !slices.Contains(zones, z) {
				continue
			}
			k := Key{z, dns.TypeDNSKEY}
			wg.Go(func() {
				plain.do(ctx, func() {
					r, err := client.Exchange(ctx, srv, dnsprobe.Query{Name: k.Name, Type: k.Type, DNSSEC: true})
					mu.Lock()
					answers[i][k] = answerOf(r, err)
					mu.Unlock()
				})
			})
		}
	}
	wg.Wait()
	trusted := make([][]Answer, len(rounds))
	for i, r := range rounds {
		<-r.done
		trusted[i] = r.answers
	}
	return func() {
		obs.KeyZones = zones
		st, merged := mergeTrusted(in.Trusted, keys, trusted)
		maps.Copy(obs.TrustedAns, merged)
		for i := range obs.Trusted {
			obs.Trusted[i].Answered += st[i].Answered
			obs.Trusted[i].Failed += st[i].Failed
			if obs.Trusted[i].Err == "" {
				obs.Trusted[i].Err, obs.Trusted[i].Status = st[i].Err, st[i].Status
			}
		}
		for i := range obs.Resolvers {
			maps.Copy(obs.Resolvers[i].Answers, answers[i])
		}
	}
}

// mergeTrusted folds the trusted resolvers' answers into one per key.
func mergeTrusted(servers []dnsprobe.Server, keys []Key, ans [][]Answer) ([]TrustedStatus, map[Key]TrustedAnswer) {
	st := make([]TrustedStatus, len(servers))
	merged := make(map[Key]TrustedAnswer, len(keys))
	for i, srv := range servers {
		st[i].Server = srv.String()
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

// needsProof lists, per address, the names whose answers the trusted side
// does not confirm (or cannot: when it has no answer, every canary
// address is proved, so a run without a trusted resolver still catches
// an interception).
func needsProof(obs *Observations) map[ProofKey]bool {
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
	return want
}

// sinkhole reports answers that block a name rather than redirect it:
// the unspecified addresses and the loopback addresses blockers (Pi-hole,
// AdGuard, hosts files) answer with. Nothing there is proved.
func sinkhole(a netip.Addr) bool {
	return a.IsUnspecified() || a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || a == netip.IPv6Loopback() ||
		a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// prove runs the TLS proofs in parallel, through a dialer whose scope
// also holds the answered addresses.
func prove(ctx context.Context, in *Input, obs *Observations) (map[ProofKey]dnsprobe.Proof, int) {
	want := needsProof(obs)
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
	skipped := 0
	if len(keys) > maxProofs {
		skipped = len(keys) - maxProofs
		keys = keys[:maxProofs]
	}
	d := in.Dialer
	if in.ProofDialer != nil && len(keys) > 0 {
		var extra []netip.Addr
		for _, k := range keys {
			if !slices.Contains(extra, k.Addr) {
				extra = append(extra, k.Addr)
			}
		}
		d = in.ProofDialer(extra)
	}
	port := in.TLSPort
	if port == 0 {
		port = DefaultTLSPort
	}
	out := make(map[ProofKey]dnsprobe.Proof, len(keys))
	var mu sync.Mutex
	var wg sync.WaitGroup
	now := in.now()
	lim := make(limiter, maxTLSInFlight)
	for _, k := range keys {
		wg.Go(func() {
			lim.do(ctx, func() {
				p := dnsprobe.ProveTLS(ctx, d, netip.AddrPortFrom(k.Addr, port), k.Name, in.RootCAs, now)
				mu.Lock()
				out[k] = p
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	return out, skipped
}
