// SPDX-License-Identifier: Apache-2.0

package dnsprobe

// The device probe: the DNS service on the router itself. It is the one
// part of dnsprobe that implements probe.Probe (internal/probeset runs it
// with the other device probes); everything it sends and reads goes
// through the Client above, so every reply passes ValidateReply.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the device probe's identifier.
const ID = "dns"

// DefaultPort is the DNS port the device probe asks on.
const DefaultPort = 53

// DefaultRecursiveName is the name of the recursive question. It must be
// a name no router serves from its own data, that every recursive
// resolver on the Internet can answer: example.com is reserved for
// documentation (RFC 2606 §3) and served by IANA, so it is never a
// router's local domain.
const DefaultRecursiveName = "example.com."

// VersionBindName is the CHAOS TXT name resolvers answer with their
// software and version ("dnsmasq-2.90", "9.18.28-1~deb12u2-Debian").
const VersionBindName = "version.bind."

const (
	// maxVersionText bounds the version.bind text kept: real answers are
	// a few dozen bytes; the rest of a long one is noise or an attack on
	// whoever renders it.
	maxVersionText = 256
	// maxKeptAddrs bounds the answer addresses kept for evidence: a
	// resolver gives example.com one or two; a hundred identical
	// records show nothing more than eight.
	maxKeptAddrs = 8
)

// Recursion says whether a DNS server resolves names it does not serve
// itself for whoever asks: a tri-state, because a reply does not always
// tell.
type Recursion string

// Recursion values.
const (
	// RecursionYes: it answered the recursive question with data or
	// NXDOMAIN, as a resolver does.
	RecursionYes Recursion = "yes"
	// RecursionNo: it refused the question, or said it does not recurse
	// and did not.
	RecursionNo Recursion = "no"
	// RecursionUnknown: no valid reply, or a reply that neither resolves
	// nor refuses (SERVFAIL, an empty NOERROR with RA set).
	RecursionUnknown Recursion = "unknown"
)

// Prober is the device probe of the DNS service on the target: on UDP
// Port (TCP only when a reply is truncated) it asks a recursive question
// (RD=1, Name A) and CHAOS TXT version.bind, in parallel.
type Prober struct {
	// Port is the DNS port; 0 is refused by Validate.
	Port uint16 `json:"port" yaml:"port"`
	// Name is the recursive question's name (type A); empty means
	// DefaultRecursiveName.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
}

// New returns a Prober with the defaults.
func New() *Prober { return &Prober{Port: DefaultPort} }

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator. It does not write p: the Runner
// probes many targets with one Prober at once.
func (p *Prober) Validate() error {
	if p.Port == 0 {
		return errors.New("dnsprobe: port 0")
	}
	name := p.name()
	if _, ok := dns.IsDomainName(name); !ok || dns.Fqdn(name) == "." {
		return fmt.Errorf("dnsprobe: recursive question %q is not a domain name below the root", name)
	}
	return nil
}

func (p *Prober) name() string {
	if p.Name == "" {
		return DefaultRecursiveName
	}
	return dns.Fqdn(p.Name)
}

// Observation is what the DNS service on the device answered.
type Observation struct {
	Addr netip.Addr `json:"addr"`
	Port uint16     `json:"port"`
	// Recursive is the answer to the recursive question.
	Recursive Answer `json:"recursive"`
	// VersionBind is the answer to CHAOS TXT version.bind.
	VersionBind Answer `json:"version_bind"`
	// Recursion is whether the server resolves for whoever asks, read
	// from Recursive (see RecursionOf); RecursionWhy says what decided it.
	Recursion    Recursion `json:"recursion"`
	RecursionWhy string    `json:"recursion_why"`
}

// Answer is one question's exchange. Exchange.Open is true when anything
// came back, valid or not; Answered only for a reply that passed
// ValidateReply.
type Answer struct {
	probe.Exchange
	// Question is what was asked ("example.com. A", "version.bind. CH TXT").
	Question string `json:"question"`
	// Answered is true when a valid DNS reply came (a refusal included).
	Answered bool `json:"answered"`
	// Rcode is the reply's response code ("NOERROR", "REFUSED").
	Rcode string `json:"rcode,omitempty"`
	// RA and AA are the reply's recursion-available and authoritative
	// bits.
	RA bool `json:"ra"`
	AA bool `json:"aa"`
	// Answers is the number of records in the answer section.
	Answers int `json:"answers"`
	// Addrs are the addresses that answer the question (on its CNAME
	// chain), at most maxKeptAddrs.
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// Text is the TXT answer (version.bind), made printable and at most
	// maxVersionText bytes.
	Text string `json:"text,omitempty"`
	// TCPFallback is set when the UDP reply was truncated and the answer
	// came over TCP.
	TCPFallback bool `json:"tcp_fallback,omitempty"`
	// Ignored counts replies that failed validation before the one
	// accepted (a spoofer or a broken middlebox racing the server).
	Ignored int `json:"ignored,omitempty"`
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Answered reports whether the server gave a valid reply to either
// question: the port speaks DNS.
func (o *Observation) Answered() bool { return o.Recursive.Answered || o.VersionBind.Answered }

// Evidence implements probe.Observation: the version.bind text.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	if o.VersionBind.Answered {
		where := netip.AddrPortFrom(o.Addr, o.Port).String()
		c.Add(probe.FieldDNSVersionBind, o.VersionBind.Text, where, where)
	}
	return c.List()
}

// Probe implements probe.Probe.
func (p *Prober) Probe(ctx context.Context, d *netx.Dialer, t probe.Target) (probe.Observation, error) {
	return p.Measure(ctx, d, t)
}

// Measure is Probe with the concrete observation type. Silence (a UDP
// question that times out while the target's context is alive) and a
// refused port are measurements, not errors, as for SNMP: a device that
// serves no DNS says so by either.
func (p *Prober) Measure(ctx context.Context, d *netx.Dialer, t probe.Target) (*Observation, error) {
	name := p.name()
	obs := &Observation{Addr: t.Addr, Port: p.Port, Recursion: RecursionUnknown}
	recQ := Query{Name: name, Type: dns.TypeA}
	verQ := Query{Name: VersionBindName, Type: dns.TypeTXT, Class: dns.ClassCHAOS}
	obs.Recursive.Question, obs.VersionBind.Question = questionText(recQ), questionText(verQ)
	if err := p.Validate(); err != nil {
		obs.RecursionWhy = "not asked: " + err.Error()
		return obs, probe.Wrap(ID, err)
	}
	if d == nil {
		err := errors.New("dnsprobe: no dialer")
		obs.RecursionWhy = "not asked: " + err.Error()
		return obs, probe.Wrap(ID, err)
	}
	c := NewClient(d)
	srv := Server{Transport: UDP, Addr: netip.AddrPortFrom(t.Addr.Unmap(), p.Port)}
	var (
		wg   sync.WaitGroup
		errs [2]error
	)
	wg.Go(func() { obs.Recursive, errs[0] = ask(ctx, c, srv, recQ) })
	wg.Go(func() { obs.VersionBind, errs[1] = ask(ctx, c, srv, verQ) })
	wg.Wait()
	obs.Recursion, obs.RecursionWhy = RecursionOf(obs.Recursive)

	out := probe.NewUDPOutcome(ctx, ID)
	for _, err := range errs {
		out.Add(err)
	}
	return obs, out.Err(ctx)
}

// questionText renders a question as dig does ("version.bind. CH TXT").
func questionText(q Query) string {
	if q.Class == dns.ClassCHAOS {
		return dns.Fqdn(q.Name) + " CH " + dns.TypeToString[q.Type]
	}
	return q.String()
}

// ask sends one question through c and records the exchange.
func ask(ctx context.Context, c *Client, srv Server, q Query) (Answer, error) {
	a := Answer{Exchange: probe.Exchange{Port: srv.Addr.Port()}, Question: questionText(q)}
	start := time.Now()
	r, err := c.Exchange(ctx, srv, q)
	if err != nil {
		err = measurementError(err)
		// A reply that failed validation, or a truncated one followed by
		// a failed TCP fallback, is still something that came back.
		var re *ReplyError
		var fe *FallbackError
		a.Open = errors.As(err, &re) || errors.As(err, &fe)
		a.Finish(start, err)
		return a, err
	}
	a.fill(q, r)
	a.Finish(start, nil)
	return a, nil
}

// fill records a validated reply r to q: the header bits, the counts, at
// most maxKeptAddrs addresses and, for a TXT question, the text made
// printable and bounded (a device's version.bind reaches terminals and
// HTML reports).
func (a *Answer) fill(q Query, r *Response) {
	a.Open, a.Answered = true, true
	a.Rcode, a.RA, a.AA = r.Rcode, r.RecursionAvailable, r.Authoritative
	a.Answers, a.TCPFallback, a.Ignored = len(r.Answers), r.FellBackToTCP, len(r.Ignored)
	a.Addrs = slices.Clone(r.Addrs[:min(len(r.Addrs), maxKeptAddrs)])
	if q.Type == dns.TypeTXT && len(r.TXT) > 0 {
		// miekg/dns has already escaped non-printable bytes (\DDD);
		// Text drops control characters and bounds the length.
		a.Text = strings.TrimSpace(probe.Text([]byte(strings.Join(r.TXT, " ")), maxVersionText))
	}
}

// measurementError gives dnsprobe's errors the statuses the device
// probes share (probe.Classify): a reply over the size limit is
// too_large, any other reply that failed validation is a protocol error,
// and a TCP fallback refused after a UDP reply is a protocol error too
// (the UDP port answered: it must not read as closed).
func measurementError(err error) error {
	var re *ReplyError
	var fe *FallbackError
	switch {
	case errors.Is(err, ErrOversized):
		return fmt.Errorf("%w (%w)", err, netx.ErrTooLarge)
	case errors.As(err, &re):
		return fmt.Errorf("%w (%w)", err, probe.ErrProtocol)
	case errors.As(err, &fe) && probe.Classify(err) == netx.StatusRefused:
		return &probe.Error{Probe: ID, Status: netx.StatusProtocol, Err: err}
	}
	return err
}

// RecursionOf reads from the answer to the recursive question whether the
// server resolves for whoever asks. Only a reply proves anything:
//   - REFUSED or NOTIMP: no (how BIND, unbound, dnsmasq and RouterOS
//     refuse clients they do not serve);
//   - an answer on the question's chain: yes when it is not
//     authoritative (data fetched or cached for someone else) or RA is set;
//     an authoritative answer without RA is the server's own zone: no;
//   - NXDOMAIN: yes with RA set (it resolved the name and found none),
//     no without (a non-recursive server's word on a zone it does not
//     serve proves nothing about resolving);
//   - an empty NOERROR: no without RA (a referral or an empty answer from
//     a server that does not recurse), unknown with RA set;
//   - SERVFAIL and anything else: unknown (a resolver whose upstream is
//     down and a server that fails what it will not do look the same).
func RecursionOf(a Answer) (Recursion, string) {
	ra := "RA clear"
	if a.RA {
		ra = "RA set"
	}
	switch {
	case !a.Answered:
		why := string(a.Status)
		if why == "" {
			why = "not asked"
		}
		return RecursionUnknown, "no valid reply to the recursive question (" + why + ")"
	case a.Rcode == "REFUSED" || a.Rcode == "NOTIMP":
		return RecursionNo, fmt.Sprintf("%s to the recursive question (%s)", a.Rcode, ra)
	case a.Rcode == "NOERROR" && len(a.Addrs) > 0:
		if a.AA && !a.RA {
			return RecursionNo, "an authoritative answer with RA clear: it serves the name from its own zone"
		}
		if !a.RA {
			return RecursionYes, fmt.Sprintf("answered %s with %s, not authoritatively, although RA is clear", a.Question, a.Addrs[0])
		}
		return RecursionYes, fmt.Sprintf("answered %s with %s (RA set)", a.Question, a.Addrs[0])
	case a.Rcode == "NXDOMAIN" && a.RA:
		return RecursionYes, fmt.Sprintf("answered %s with NXDOMAIN (RA set)", a.Question)
	case a.Rcode == "NXDOMAIN":
		return RecursionNo, "NXDOMAIN with RA clear: not a resolver's answer"
	case a.Rcode == "NOERROR" && !a.RA:
		return RecursionNo, "an empty NOERROR with RA clear (a referral or no data): it does not recurse"
	case a.Rcode == "NOERROR":
		return RecursionUnknown, "an empty NOERROR with RA set: neither resolved nor refused"
	}
	return RecursionUnknown, fmt.Sprintf("%s to the recursive question (%s): neither resolved nor refused", a.Rcode, ra)
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
