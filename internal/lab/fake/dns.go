// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNSBehavior is how the hostile resolver answers one query.
type DNSBehavior string

// The hostile resolver's behaviours. Every reply that carries addresses
// gives DNSConfig.Answer, so a client that accepts a bad reply ends up at
// that address (in the lab: the AitM server).
const (
	// DNSMalformed: the right ID and question, then an answer section that
	// claims more records than the packet holds and ends mid-record.
	DNSMalformed DNSBehavior = "malformed"
	// DNSGarbage: 12 to 512 random bytes (the ID almost never matches).
	DNSGarbage DNSBehavior = "garbage"
	// DNSTruncated: an empty reply with TC set. The fake has no TCP
	// listener, so the retry over TCP is refused.
	DNSTruncated DNSBehavior = "truncated"
	// DNSMismatchedID: a well-formed answer whose ID is not the query's,
	// and nothing else.
	DNSMismatchedID DNSBehavior = "mismatched_id"
	// DNSSpoofedSource: a well-formed answer sent from another address
	// (DNSConfig.SpoofFrom), and nothing from the queried one.
	DNSSpoofedSource DNSBehavior = "spoofed_source"
	// DNSOversized: a well-formed answer of about 64 KB (4000 A records)
	// over UDP without TC, whatever the client's EDNS buffer size.
	DNSOversized DNSBehavior = "oversized"
	// DNSSlow: a well-formed answer after SlowDelay.
	DNSSlow DNSBehavior = "slow"
	// DNSSilent: no reply at all.
	DNSSilent DNSBehavior = "silent"
	// DNSEmpty: a zero-length datagram.
	DNSEmpty DNSBehavior = "empty"
	// DNSWrongQuestion: the right ID, but the question and answer are for
	// another name (outlook.office365.com): an off-path poisoning attempt.
	DNSWrongQuestion DNSBehavior = "wrong_question"
	// DNSPointerLoop: the answer's owner name is a compression pointer to
	// itself.
	DNSPointerLoop DNSBehavior = "pointer_loop"
	// DNSCNAMELoop: the name is a CNAME of b.<name>, which is a CNAME of
	// the name; no address.
	DNSCNAMELoop DNSBehavior = "cname_loop"
	// DNSServfail: an empty reply with rcode SERVFAIL (a well-behaved
	// failure, for contrast).
	DNSServfail DNSBehavior = "servfail"
)

// DNSBehaviors lists the hostile resolver's behaviours.
func DNSBehaviors() []DNSBehavior {
	return []DNSBehavior{DNSMalformed, DNSGarbage, DNSTruncated, DNSMismatchedID, DNSSpoofedSource, DNSOversized,
		DNSSlow, DNSSilent, DNSEmpty, DNSWrongQuestion, DNSPointerLoop, DNSCNAMELoop, DNSServfail}
}

// SlowDelay is how long the slow behaviour waits before it answers: longer
// than any sensible per-query timeout, short enough for a test to see the
// late answer arrive.
const SlowDelay = 3 * time.Second

// OversizedRecords is how many A records the oversized behaviour sends.
const OversizedRecords = 4000

// WrongQuestionName is the name the wrong_question behaviour answers for.
const WrongQuestionName = "outlook.office365.com."

// maxPendingSlow bounds the slow replies waiting at once, so a flood of
// queries cannot grow the fake without bound.
const maxPendingSlow = 256

// DNSConfig configures the hostile resolver (KindDNS). It listens on UDP
// only.
type DNSConfig struct {
	// Listen is the UDP address it answers on.
	Listen netip.AddrPort `json:"listen"`
	// SpoofFrom is the address spoofed_source replies come from.
	SpoofFrom netip.AddrPort `json:"spoof_from"`
	// Answer is the address in every reply that carries one.
	Answer netip.Addr `json:"answer"`
	// Default is the behaviour for names not in Names.
	Default DNSBehavior `json:"default"`
	// Names maps lowercase names (no trailing dot) to behaviours; a rule
	// also covers the name's subdomains.
	Names map[string]DNSBehavior `json:"names"`
}

// Validate checks c.
func (c *DNSConfig) Validate() error {
	if !c.Listen.IsValid() || !c.SpoofFrom.IsValid() || !c.Answer.Is4() {
		return errors.New("listen, spoof_from and answer (IPv4) are required")
	}
	if !slices.Contains(DNSBehaviors(), c.Default) {
		return fmt.Errorf("default: unknown behaviour %q", c.Default)
	}
	for n, b := range c.Names {
		if !slices.Contains(DNSBehaviors(), b) {
			return fmt.Errorf("names[%s]: unknown behaviour %q", n, b)
		}
		if n != strings.ToLower(n) || strings.HasSuffix(n, ".") {
			return fmt.Errorf("names[%s]: want a lowercase name without trailing dot", n)
		}
	}
	return nil
}

// Behavior returns the behaviour for qname (any case, trailing dot or not).
func (c *DNSConfig) Behavior(qname string) DNSBehavior {
	n := strings.TrimSuffix(strings.ToLower(qname), ".")
	best, bestLen := c.Default, -1
	for rule, b := range c.Names {
		if (n == rule || strings.HasSuffix(n, "."+rule)) && len(rule) > bestLen {
			best, bestLen = b, len(rule)
		}
	}
	return best
}

type dnsServer struct {
	c       DNSConfig
	conn    *net.UDPConn
	spoof   *net.UDPConn
	logger  *slog.Logger
	mu      sync.Mutex // guards pending
	pending int
}

func runDNS(ctx context.Context, c DNSConfig, logger *slog.Logger) error {
	s, err := listenDNS(c, logger)
	if err != nil {
		return err
	}
	return s.serve(ctx)
}

// listenDNS opens the resolver's sockets: Listen, and SpoofFrom for the
// spoofed replies.
func listenDNS(c DNSConfig, logger *slog.Logger) (*dnsServer, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(c.Listen))
	if err != nil {
		return nil, fmt.Errorf("fake: %w", err)
	}
	spoof, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(c.SpoofFrom))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("fake: %w", err)
	}
	return &dnsServer{c: c, conn: conn, spoof: spoof, logger: logger}, nil
}

// serve answers queries until ctx is done, then closes the sockets.
func (s *dnsServer) serve(ctx context.Context) error {
	defer s.spoof.Close()
	defer s.conn.Close()
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	s.logger.Info("listening", "udp", s.conn.LocalAddr().String(), "spoof_from", s.spoof.LocalAddr().String(), "default", string(s.c.Default))
	buf := make([]byte, 65535)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fake: %w", err)
		}
		s.handle(slices.Clone(buf[:n]), from)
	}
}

// handle answers one query. A query that does not parse gets the default
// behaviour, with a zero question.
func (s *dnsServer) handle(pkt []byte, from netip.AddrPort) {
	q := new(dns.Msg)
	qname := ""
	if err := q.Unpack(pkt); err == nil && len(q.Question) == 1 {
		qname = q.Question[0].Name
	} else {
		q = new(dns.Msg)
		if len(pkt) >= 2 {
			q.Id = binary.BigEndian.Uint16(pkt)
		}
	}
	b := s.c.Behavior(qname)
	s.logger.Info("query", "name", qname, "from", from.String(), "behavior", string(b))
	reply, send := s.reply(q, b)
	switch b {
	case DNSSilent:
	case DNSSpoofedSource:
		_, _ = s.spoof.WriteToUDPAddrPort(reply, from)
	case DNSSlow:
		s.mu.Lock()
		if s.pending >= maxPendingSlow {
			s.mu.Unlock()
			return
		}
		s.pending++
		s.mu.Unlock()
		time.AfterFunc(SlowDelay, func() {
			_, _ = s.conn.WriteToUDPAddrPort(reply, from)
			s.mu.Lock()
			s.pending--
			s.mu.Unlock()
		})
	default:
		if send {
			_, _ = s.conn.WriteToUDPAddrPort(reply, from)
		}
	}
}

// reply builds the datagram for behaviour b; send is false when there is
// nothing to send.
func (s *dnsServer) reply(q *dns.Msg, b DNSBehavior) (pkt []byte, send bool) {
	answer := func(name string) *dns.Msg {
		r := new(dns.Msg)
		r.SetReply(q)
		r.RecursionAvailable = true
		if name != "" && (len(q.Question) == 0 || q.Question[0].Qtype == dns.TypeA) {
			r.Answer = append(r.Answer, aRecord(name, s.c.Answer))
		}
		return r
	}
	qname := ""
	if len(q.Question) == 1 {
		qname = q.Question[0].Name
	}
	switch b {
	case DNSSilent:
		return nil, false
	case DNSEmpty:
		return []byte{}, true
	case DNSGarbage:
		n := 12 + rand.IntN(501)
		out := make([]byte, n)
		for i := range out {
			out[i] = byte(rand.Uint32())
		}
		return out, true
	case DNSMalformed:
		r := answer(qname)
		r.Answer = append(r.Answer, aRecord(orRoot(qname), s.c.Answer), aRecord(orRoot(qname), s.c.Answer))
		p, err := r.Pack()
		if err != nil {
			return nil, false
		}
		binary.BigEndian.PutUint16(p[6:], uint16(len(r.Answer)+3)) // ANCOUNT: more than there are
		return p[:len(p)-7], true                                  // and cut the last record short
	case DNSTruncated:
		r := answer("")
		r.Truncated = true
		return mustPack(r)
	case DNSMismatchedID:
		r := answer(qname)
		r.Id = q.Id ^ 0x5a5a
		return mustPack(r)
	case DNSOversized:
		r := answer("")
		for range OversizedRecords {
			r.Answer = append(r.Answer, aRecord(orRoot(qname), s.c.Answer))
		}
		r.Compress = true
		return mustPack(r)
	case DNSWrongQuestion:
		r := answer("")
		r.Question = []dns.Question{{Name: WrongQuestionName, Qtype: dns.TypeA, Qclass: dns.ClassINET}}
		r.Answer = []dns.RR{aRecord(WrongQuestionName, s.c.Answer)}
		return mustPack(r)
	case DNSPointerLoop:
		r := answer("")
		r.Answer = nil
		p, err := r.Pack()
		if err != nil {
			return nil, false
		}
		binary.BigEndian.PutUint16(p[6:], 1) // ANCOUNT 1
		off := len(p)
		// Owner name: a pointer to its own offset; then type A, class IN,
		// TTL 300, RDLENGTH 4 and the address.
		p = append(p, 0xc0|byte(off>>8), byte(off))
		p = binary.BigEndian.AppendUint16(p, dns.TypeA)
		p = binary.BigEndian.AppendUint16(p, dns.ClassINET)
		p = binary.BigEndian.AppendUint32(p, 300)
		p = binary.BigEndian.AppendUint16(p, 4)
		p = append(p, s.c.Answer.AsSlice()...)
		return p, true
	case DNSCNAMELoop:
		r := answer("")
		name := orRoot(qname)
		other := "b." + name
		if name == "." {
			other = "b."
		}
		r.Answer = []dns.RR{
			&dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: other},
			&dns.CNAME{Hdr: dns.RR_Header{Name: other, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: name},
		}
		return mustPack(r)
	case DNSServfail:
		r := answer("")
		r.Rcode = dns.RcodeServerFailure
		return mustPack(r)
	default: // slow, spoofed_source: a well-formed answer
		return mustPack(answer(qname))
	}
}

func orRoot(name string) string {
	if name == "" {
		return "."
	}
	return name
}

func aRecord(name string, a netip.Addr) *dns.A {
	return &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: a.AsSlice()}
}

func mustPack(m *dns.Msg) ([]byte, bool) {
	p, err := m.Pack()
	if err != nil {
		return nil, false
	}
	return p, true
}
