// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Size limits on replies.
const (
	// MaxUDPReply is the largest UDP reply accepted. We advertise
	// ednsSize (1232, the 2020 DNS flag day value) and tolerate servers
	// that ignore it up to the common 4096; a larger datagram is not a
	// resolver's honest answer to one question.
	MaxUDPReply = 4096
	// MaxStreamReply is the largest reply over TCP, DoT or DoH: the
	// 16-bit length prefix allows no more.
	MaxStreamReply = 65535
	// maxRecords bounds the records in one reply. Canary answers carry a
	// handful; thousands are a resource attack on the parser's callers.
	maxRecords = 512
)

// Reply errors: why a reply was refused. Each *ReplyError wraps one.
var (
	ErrMalformed        = errors.New("malformed reply")
	ErrNotResponse      = errors.New("message is not a response")
	ErrIDMismatch       = errors.New("reply ID does not match the query")
	ErrQuestionMismatch = errors.New("reply question does not match the query")
	ErrOversized        = errors.New("reply larger than the limit")
	ErrTruncated        = errors.New("reply truncated on a stream transport")
)

// ReplyError is a reply that failed validation.
type ReplyError struct {
	Kind   error  // one of the Err values above
	Detail string // what exactly was wrong
}

func (e *ReplyError) Error() string {
	if e.Detail == "" {
		return "dnsprobe: " + e.Kind.Error()
	}
	return "dnsprobe: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap makes errors.Is(err, ErrMalformed) and friends work.
func (e *ReplyError) Unwrap() error { return e.Kind }

func replyErr(kind error, format string, args ...any) *ReplyError {
	return &ReplyError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// ValidateReply parses wire as the reply to query and checks it strictly:
// at most maxSize bytes, a well-formed message, the response bit, the same
// ID and opcode, and exactly the question that was asked (name compared
// case-insensitively, since resolvers may echo 0x20 case changes). Servers
// may omit the question only when refusing or failing the query
// (REFUSED, FORMERR, NOTIMP, SERVFAIL): there is nothing else to read then.
// A truncated (TC) reply is returned without error; the transport decides
// what truncation means.
func ValidateReply(query *dns.Msg, wire []byte, maxSize int) (*dns.Msg, error) {
	if len(wire) > maxSize {
		return nil, replyErr(ErrOversized, "%d bytes, limit %d", len(wire), maxSize)
	}
	if len(wire) < 12 {
		return nil, replyErr(ErrMalformed, "%d bytes, shorter than a DNS header", len(wire))
	}
	// Cheap header checks first, so a flood of junk is refused before
	// the full parse.
	id := uint16(wire[0])<<8 | uint16(wire[1])
	if id != query.Id {
		return nil, replyErr(ErrIDMismatch, "got %d, want %d", id, query.Id)
	}
	if wire[2]&0x80 == 0 {
		return nil, replyErr(ErrNotResponse, "QR bit clear")
	}
	r := new(dns.Msg)
	if err := r.Unpack(wire); err != nil {
		return nil, replyErr(ErrMalformed, "%v", err)
	}
	if r.Opcode != query.Opcode {
		return nil, replyErr(ErrQuestionMismatch, "opcode %d, want %d", r.Opcode, query.Opcode)
	}
	if n := len(r.Answer) + len(r.Ns) + len(r.Extra); n > maxRecords {
		return nil, replyErr(ErrOversized, "%d records, limit %d", n, maxRecords)
	}
	switch len(r.Question) {
	case 0:
		switch r.Rcode {
		case dns.RcodeRefused, dns.RcodeFormatError, dns.RcodeNotImplemented, dns.RcodeServerFailure:
			if len(r.Answer) == 0 {
				return r, nil
			}
		}
		return nil, replyErr(ErrQuestionMismatch, "no question section (rcode %s)", rcodeName(r.Rcode))
	case 1:
	default:
		return nil, replyErr(ErrQuestionMismatch, "%d questions", len(r.Question))
	}
	got, want := r.Question[0], query.Question[0]
	if !strings.EqualFold(got.Name, want.Name) || got.Qtype != want.Qtype || got.Qclass != want.Qclass {
		return nil, replyErr(ErrQuestionMismatch, "got %s %s %s, want %s %s %s",
			got.Name, dns.ClassToString[got.Qclass], dns.TypeToString[got.Qtype],
			want.Name, dns.ClassToString[want.Qclass], dns.TypeToString[want.Qtype])
	}
	if _, err := answerChain(got.Name, r.Answer); err != nil {
		return nil, err
	}
	return r, nil
}

// answerChain returns the owner names that answer qname: qname and every
// CNAME target reached from it through the answer section (RFC 1034
// §3.6.2), lowercase. Records owned by any other name answer nothing.
// A chain that comes back to a name already on it is an answer that
// never ends in data: ErrMalformed.
func answerChain(qname string, answer []dns.RR) (map[string]bool, error) {
	name := strings.ToLower(dns.Fqdn(qname))
	chain := map[string]bool{name: true}
	for {
		next := ""
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				next = strings.ToLower(dns.Fqdn(c.Target))
				break
			}
		}
		if next == "" {
			return chain, nil
		}
		if chain[next] {
			return nil, replyErr(ErrMalformed, "CNAME loop: %s points back to %s", name, next)
		}
		chain[next] = true
		name = next
	}
}

// rcodeName returns the mnemonic of an rcode ("NXDOMAIN"), or its number.
func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
