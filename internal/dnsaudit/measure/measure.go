// SPDX-License-Identifier: Apache-2.0

// Package measure is the DNS engine's measurer: it asks every canary
// question of every resolver under test — in each question profile
// (dnshijack.Profile: shaped like a stub's, like an EDNS client's without
// the DNSSEC bit, like a validating client's), since a rogue may lie only
// to the clients it targets — and of the trusted resolvers, the CHAOS
// fingerprints, the signed names and a random name that must not exist,
// then proves by TLS the answers the trusted side does not confirm and
// asks for the keys of the signed zones whose signatures a resolver
// dropped. A canary a resolver that answers other questions leaves
// unanswered gets a second chance (asked again, waited for up to
// secondChance within the run's deadline): a name held back past the
// usual timeout is then measured, with its delay, not lost. It returns dnshijack.Observations for the pure judge
// (check/dnshijack), which it also asks what an observation means for
// the second round (dnshijack.NeedsProof, dnshijack.StrippedZones).
//
// The contract: every packet goes through dnsprobe and the netx.Dialer
// it is given (the proofs through Input.ProofDialer); everything runs
// under the caller's context and is bounded in flight (a counting
// semaphore per kind of exchange) and per exchange (dnsprobe's
// timeouts); once the context is done no queued exchange starts, and
// what was not asked is recorded with the context's error, never as an
// answer. Measurement failures are observations; the error is reserved
// for an unusable Input. Start begins the first round early, while the
// engine's discovery still listens.
package measure

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
)

// DefaultTLSPort is where TLS proofs connect: HTTPS, where the user's
// browser would send the password.
const DefaultTLSPort = 443

// DialerOptions are the netx options a DNS run should use. A run sends
// about 90 small datagrams to each resolver under test (12 canaries in
// three profiles, the signed names, the random name, the CHAOS names) and
// about 30 TLS exchanges to each trusted resolver, spread over several
// servers: about 400 new sockets for three resolvers, all at once. The
// default rate limit (200 new connections/s, burst 50) exists to spare a
// small router's web UI and would alone add most of a second here; the
// burst covers a whole run, so no question waits for a token. The router
// still gets only its ~90 questions.
func DialerOptions() netx.Options {
	return netx.Options{Rate: 2000, Burst: 500, Concurrency: 384}
}

// Input is everything one measurement needs. The DNS engine and the
// tests build it; zero fields take the defaults documented on each.
type Input struct {
	// Resolvers are the resolvers to test. Required.
	Resolvers []dnshijack.Resolver
	// Trusted are the encrypted resolvers whose answers are the
	// reference (DoH, DoT). Without one, comparisons are unknown.
	Trusted []dnsprobe.Server
	// Canaries are the names compared; nil means the embedded list.
	Canaries []dnshijack.Canary
	// DNSSECNames are signed names used to see whether signatures
	// survive the resolver; nil means the embedded list.
	DNSSECNames []string
	// NXParent is the zone under which a random label must not exist;
	// empty means the embedded one (example.com).
	NXParent string
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
	// Profiles are the shapes every canary is asked in (dnshijack
	// Profile); nil means dnshijack.CanaryProfiles().
	Profiles []dnshijack.Profile
	// Early is the run's first round, begun with Start while discovery
	// was still listening; nil means Measure asks everything itself. Its
	// questions and trusted resolvers replace Canaries, DNSSECNames,
	// NXParent, Profiles and Trusted.
	Early *Early
	// Logger receives a debug line per phase with its duration; nil
	// discards them.
	Logger *slog.Logger
}

func (in *Input) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (in *Input) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// In-flight limits. QueryTimeout and ProofTimeout start when an exchange
// starts, so queueing here does not eat into them; the run as a whole is
// bounded by the caller's context.
const (
	// maxPlainInFlight bounds plain DNS exchanges at once: enough to ask
	// three resolvers everything (about 90 questions each: 12 canaries
	// in three profiles) in one round trip.
	maxPlainInFlight = 320
	// maxTLSInFlight bounds DoH/DoT exchanges and TLS proofs at once: a
	// TLS handshake costs CPU, and a small machine running a hundred at
	// once would push each past its timeout.
	maxTLSInFlight = 24
)

// limiter is a counting semaphore that gives up with the context.
type limiter chan struct{}

// do runs f once a slot is free. When ctx ends first, f never runs and do
// returns ctx's error: work queued behind the limit must not start after
// the run was cancelled or timed out (each exchange would fail at once,
// but a TLS proof or a retransmission could still leave a packet). A
// context already done wins over a free slot.
func (l limiter) do(ctx context.Context, f func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l }()
	// Both cases may have been ready; select picks either.
	if err := ctx.Err(); err != nil {
		return err
	}
	f()
	return nil
}

// maxProofs bounds the TLS proofs of one run: 3 resolvers × 12 canaries ×
// 2 families lie well under it; a resolver answering hundreds of
// addresses must not turn the check into a scan.
const maxProofs = 64

// plan is the normalised question list of a run.
type plan struct {
	canaries []dnshijack.Canary
	names    []string // canonical canary names
	dnssec   []string
	nxName   string
	profiles []dnshijack.Profile
}

// prepare validates in and fills its defaults. With in.Early the plan is
// the one its first round asked (the random NXDOMAIN label included).
func prepare(in *Input) (plan, error) {
	if in.Dialer == nil {
		return plan{}, errors.New("measure: Input.Dialer is required")
	}
	if len(in.Resolvers) == 0 {
		return plan{}, errors.New("measure: no resolver to test")
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
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		return p, err
	}
	p.profiles = in.Profiles
	if p.profiles == nil {
		p.profiles = dnshijack.CanaryProfiles()
	}
	p.canaries = in.Canaries
	if p.canaries == nil {
		p.canaries = data.Canaries
	}
	for _, c := range p.canaries {
		n, err := dnshijack.CanonicalName(c.Name)
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
		n, err := dnshijack.CanonicalName(d)
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
	if _, err := dnshijack.CanonicalName(parent); err != nil {
		return p, err
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return p, fmt.Errorf("measure: random label: %w", err)
	}
	// A fresh random label per run: no resolver can have it cached and
	// no wildcard-free zone has it.
	p.nxName = "rw-nx-" + hex.EncodeToString(rnd[:]) + "." + dns.Fqdn(strings.ToLower(parent))
	return p, nil
}

// resolverKeys returns every question asked of a resolver under test:
// each canary in every profile (its Types), the signed names and the
// random name.
func (p plan) resolverKeys() []dnshijack.Key {
	var ks []dnshijack.Key
	for _, n := range p.names {
		for _, pr := range p.profiles {
			for _, t := range pr.Types() {
				ks = append(ks, dnshijack.Key{Name: n, Type: t, Profile: pr})
			}
		}
	}
	return p.common(ks)
}

// trustedKeys returns every question asked of a trusted resolver: each
// canary once, A and AAAA (the reference whatever the shape of the
// question it is compared with), the signed names and the random name.
func (p plan) trustedKeys() []dnshijack.Key {
	var ks []dnshijack.Key
	for _, n := range p.names {
		ks = append(ks, dnshijack.Key{Name: n, Type: dns.TypeA}, dnshijack.Key{Name: n, Type: dns.TypeAAAA})
	}
	return p.common(ks)
}

func (p plan) common(ks []dnshijack.Key) []dnshijack.Key {
	for _, n := range p.dnssec {
		ks = append(ks, dnshijack.Key{Name: n, Type: dns.TypeA})
	}
	return append(ks, dnshijack.Key{Name: p.nxName, Type: dns.TypeA})
}

// isCanary reports a question about a canary name.
func (p plan) isCanary(k dnshijack.Key) bool { return slices.Contains(p.names, k.Name) }

// EDNS payload sizes of the profiles: glibc advertises 1200 with
// `options edns0` (RESOLV_EDNS_BUFFER_SIZE); the validating profile
// uses the DNS flag day 2020 value.
const ednsProfileSize = 1200

// queryOf shapes the question k the way its profile's clients ask it.
func queryOf(k dnshijack.Key) dnsprobe.Query {
	q := dnsprobe.Query{Name: k.Name, Type: k.Type}
	switch k.Profile {
	case dnshijack.ProfileStub:
		q.NoEDNS = true
	case dnshijack.ProfileEDNS:
		q.EDNSSize = ednsProfileSize
	default:
		q.DNSSEC = true
	}
	return q
}

// secondChance bounds how long a canary question a resolver leaves
// unanswered is waited for, its second ask included (dnsprobe
// Query.Timeout). glibc's stub waits 5 s (RES_TIMEOUT) for one server
// before it asks the next: a resolver that holds an answer back for less
// than that still reaches its victims, so a detector must wait as long.
const secondChance = 5 * time.Second

// afterQuestions is the part of the run's deadline the second chances
// leave for what follows the questions: the TLS proofs of late answers
// (well under a second on a LAN or a home line) and the judgement.
const afterQuestions = 1500 * time.Millisecond

// secondChanceFor is secondChance within ctx's deadline; 0 when the
// deadline leaves no time for a longer wait than dnsprobe.QueryTimeout.
func secondChanceFor(ctx context.Context) time.Duration {
	d := secondChance
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)-afterQuestions)
	}
	if d <= dnsprobe.QueryTimeout {
		return 0
	}
	return d
}

// Measure asks every question of every resolver and trusted resolver in
// parallel, then proves by TLS every canary answer the trusted side does
// not confirm. Everything runs under ctx; measurement failures are
// recorded in the observations, and the error is reserved for an unusable
// Input.
func Measure(ctx context.Context, in Input) (*dnshijack.Observations, error) {
	p, err := prepare(&in)
	if err != nil {
		return nil, err
	}
	return measure(ctx, &in, p), nil
}

func measure(ctx context.Context, in *Input, p plan) *dnshijack.Observations {
	e := in.Early
	if e == nil {
		e = begin(ctx, in, p)
	}
	// The trusted servers are those the first round asked, also for
	// the DNSSEC keys below.
	in.Trusted = e.trustedSrv
	obs := &dnshijack.Observations{Started: e.started, Canaries: p.canaries, Names: p.names, DNSSECNames: p.dnssec, NXName: p.nxName, Profiles: p.profiles}
	client := dnsprobe.NewClient(in.Dialer)
	log := in.logger()
	plain, tlsLim := e.plain, e.tlsLim

	// Resolvers under test: those the first round already asks are
	// reused; the others (named by a source that answered later) are
	// asked now.
	obs.Resolvers = make([]dnshijack.ResolverObs, len(in.Resolvers))
	rounds := make([]*serverRound, len(in.Resolvers))
	for i, res := range in.Resolvers {
		obs.Resolvers[i].Resolver = res
		if r, ok := e.resolvers[res.Addr]; ok {
			rounds[i] = r
			continue
		}
		rounds[i] = startServer(ctx, client, dnsprobe.Server{Transport: dnsprobe.UDP, Addr: res.Addr}, e.resolverKeys, e.p.isCanary, true, plain)
	}
	trusted := make([][]dnshijack.Answer, len(e.trusted))
	for i, r := range e.trusted {
		<-r.done
		trusted[i] = r.answers
	}
	obs.Trusted, obs.TrustedAns = dnshijack.MergeTrusted(serverNames(e.trustedSrv), e.trustedKeys, trusted)
	// A resolver the first round asked but the final list dropped still
	// ends before the run does: nothing outlives Run.
	e.wait()
	for i, r := range rounds {
		<-r.done
		ro := &obs.Resolvers[i]
		ro.Finger, ro.FingerErr = r.finger, r.fingerErr
		ro.Answers = make(map[dnshijack.Key]dnshijack.Answer, len(e.resolverKeys))
		for j, k := range e.resolverKeys {
			if k.Name == p.nxName {
				ro.NX = r.answers[j]
				continue
			}
			ro.Answers[k] = r.answers[j]
		}
	}
	log.Debug("dns: phase", "phase", "questions", "took", time.Since(e.started).Round(time.Millisecond), "resolvers", len(obs.Resolvers), "trusted", len(obs.Trusted))
	second := time.Now()
	// Second round, in parallel: TLS proofs of differing answers, and
	// the keys of signed zones whose signatures a resolver dropped.
	// Both only read obs until both are done.
	var wg2 sync.WaitGroup
	var proofs map[dnshijack.ProofKey]dnsprobe.Proof
	var skipped int
	var recordKeys func()
	wg2.Go(func() { proofs, skipped = prove(ctx, in, obs) })
	wg2.Go(func() { recordKeys = askKeys(ctx, in, client, obs, plain, tlsLim) })
	wg2.Wait()
	obs.Proofs, obs.ProofsSkipped = proofs, skipped
	recordKeys()
	log.Debug("dns: phase", "phase", "proofs", "took", time.Since(second).Round(time.Millisecond), "proofs", len(proofs), "key_zones", len(obs.KeyZones))
	obs.Finished = in.now()
	return obs
}

// maxKeyZones bounds the zones whose keys one run asks for: the signed
// canaries and DNSSEC names of a run live in a handful of zones.
const maxKeyZones = 8

// askKeys asks for the DNSKEY of every zone in which a resolver dropped
// signatures, through that resolver and the trusted resolvers. A
// forwarder that strips signatures still returns the keys (they are
// ordinary records); a resolver that answers the zone from its own
// unsigned copy says the zone has none. It only reads obs; the function
// it returns records the answers in obs.
func askKeys(ctx context.Context, in *Input, client *dnsprobe.Client, obs *dnshijack.Observations, plain, tlsLim limiter) func() {
	per := dnshijack.StrippedZones(obs)
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
	keys := make([]dnshijack.Key, len(zones))
	for i, z := range zones {
		keys[i] = dnshijack.Key{Name: z, Type: dns.TypeDNSKEY}
	}
	var wg sync.WaitGroup
	rounds := make([]*serverRound, len(in.Trusted))
	for i, srv := range in.Trusted {
		rounds[i] = startServer(ctx, client, srv, keys, nil, false, limiterFor(srv, plain, tlsLim))
	}
	answers := make([]map[dnshijack.Key]dnshijack.Answer, len(obs.Resolvers))
	var mu sync.Mutex
	for i := range obs.Resolvers {
		answers[i] = map[dnshijack.Key]dnshijack.Answer{}
		srv := dnsprobe.Server{Transport: dnsprobe.UDP, Addr: obs.Resolvers[i].Resolver.Addr}
		for _, z := range per[i] {
			if !slices.Contains(zones, z) {
				continue
			}
			k := dnshijack.Key{Name: z, Type: dns.TypeDNSKEY}
			wg.Go(func() {
				var a dnshijack.Answer
				if err := plain.do(ctx, func() {
					r, err := client.Exchange(ctx, srv, dnsprobe.Query{Name: k.Name, Type: k.Type, DNSSEC: true})
					a = dnshijack.AnswerOf(r, err)
				}); err != nil {
					a = dnshijack.AnswerOf(nil, err) // not asked: the run ended
				}
				mu.Lock()
				answers[i][k] = a
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	trusted := make([][]dnshijack.Answer, len(rounds))
	for i, r := range rounds {
		<-r.done
		trusted[i] = r.answers
	}
	return func() {
		obs.KeyZones = zones
		st, merged := dnshijack.MergeTrusted(serverNames(in.Trusted), keys, trusted)
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

// serverNames names each server the way a user writes it (credentials
// left out: dnsprobe.Server.String).
func serverNames(servers []dnsprobe.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.String()
	}
	return out
}

// prove runs the TLS proofs the judge asks for (dnshijack.NeedsProof)
// in parallel, at most maxProofs, through a dialer whose scope also
// holds the answered addresses.
func prove(ctx context.Context, in *Input, obs *dnshijack.Observations) (map[dnshijack.ProofKey]dnsprobe.Proof, int) {
	keys := dnshijack.NeedsProof(obs)
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
	out := make(map[dnshijack.ProofKey]dnsprobe.Proof, len(keys))
	var mu sync.Mutex
	var wg sync.WaitGroup
	now := in.now()
	lim := make(limiter, maxTLSInFlight)
	for _, k := range keys {
		wg.Go(func() {
			var p dnsprobe.Proof
			if err := lim.do(ctx, func() {
				p = dnsprobe.ProveTLS(ctx, d, netip.AddrPortFrom(k.Addr, port), k.Name, in.RootCAs, now)
			}); err != nil {
				// Not tried: the run ended. Inconclusive, with why.
				p = dnsprobe.Proof{Name: strings.TrimSuffix(k.Name, "."), Addr: netip.AddrPortFrom(k.Addr, port),
					Outcome: dnsprobe.ProofInconclusive, Reason: err.Error(), Status: dnsprobe.Classify(err)}
			}
			mu.Lock()
			out[k] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, skipped
}
