// SPDX-License-Identifier: Apache-2.0

// Package dnsprobe asks DNS servers questions and reports what they
// answered, as typed observations: plain DNS over UDP (falling back to TCP
// on truncation) and TCP, DNS over TLS (RFC 7858) and DNS over HTTPS
// (RFC 8484), CHAOS fingerprints (version.bind and friends) and the TLS
// certificate an answered address presents (ProveTLS). Prober (ID "dns",
// service.go) is the device probe built on the same Client: the DNS
// service on a router, whether it resolves names for whoever asks (an
// open resolver, seen from the WAN) and its version.bind.
//
// The contract: dnsprobe measures, it never judges. Every exchange goes
// through the netx.Dialer it is given, so only in-scope addresses are
// contacted and every read is bounded. Every reply is validated strictly
// (ValidateReply): a malformed, oversized, mismatched or truncated reply
// is a *ReplyError, never a half-trusted answer, and never a panic or a
// hang — each exchange is bounded by the caller's context and by
// QueryTimeout.
package dnsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// Timeouts.
const (
	// QueryTimeout bounds one exchange, retransmission and TCP fallback
	// included. A resolver answers a cached name on a LAN in
	// milliseconds and an uncached one through a slow ISP in well under
	// a second; one that needs more than 2 s is broken for its users too.
	QueryTimeout = 2 * time.Second
	// udpRetransmit is when an unanswered UDP query is sent once more:
	// one lost datagram must not turn into "unknown".
	udpRetransmit = 700 * time.Millisecond
	// badReplyGrace is how long to keep listening after a reply that
	// failed validation (wrong ID, garbage) for the genuine one. An
	// off-path spoofer must not win by being first; a server that only
	// sends garbage must not cost the full QueryTimeout.
	badReplyGrace = 250 * time.Millisecond
)

// ednsSize is the UDP payload size we advertise: the DNS flag day 2020
// value, which avoids IP fragmentation on every common path.
const ednsSize = 1232

// Transport is how a query reaches a server.
type Transport string

// Transports.
const (
	UDP Transport = "udp" // plain DNS over UDP, TCP when the reply is truncated
	TCP Transport = "tcp" // plain DNS over TCP
	DoT Transport = "dot" // DNS over TLS, RFC 7858
	DoH Transport = "doh" // DNS over HTTPS, RFC 8484 (POST application/dns-message)
)

// Server is a DNS server and how to reach it.
type Server struct {
	Transport Transport
	// Addr is the server's address; for DoH, the address in URL.
	Addr netip.AddrPort
	// URL is the DoH endpoint ("https://192.0.2.53/dns-query"); DoH only.
	URL string
	// ServerName is the TLS name to verify (DoT, DoH); empty means the
	// certificate must carry Addr's IP address.
	ServerName string
	// RootCAs verifies the server's certificate; nil means the system
	// roots.
	RootCAs *x509.CertPool
	// auth are the credentials of a DoH URL (https://user:pass@IP/...),
	// kept apart from URL so that no printed, logged or stored form of
	// the server carries them; they are sent as HTTP Basic
	// authentication (some DoH services, AdGuard's among them, accept
	// credentials this way). Only ParseDoH sets them.
	auth *url.Userinfo
}

// credentialsMark stands for the credentials of a DoH URL wherever the
// URL is shown: the user sees that some were given, never which.
const credentialsMark = "***@"

// String names the server the way a user writes it, credentials
// replaced by ***.
func (s Server) String() string {
	switch s.Transport {
	case DoH:
		u := s.URL
		if s.auth != nil {
			u = strings.Replace(u, "://", "://"+credentialsMark, 1)
		}
		if s.ServerName != "" {
			return u + "#" + s.ServerName
		}
		return u
	case DoT:
		if s.ServerName != "" {
			return "tls://" + s.Addr.String() + "#" + s.ServerName
		}
		return "tls://" + s.Addr.String()
	case TCP:
		return "tcp://" + s.Addr.String()
	}
	return s.Addr.String()
}

// ParsePlain reads a plain DNS server: "192.0.2.1", "192.0.2.1:5353",
// "2001:db8::1", "[2001:db8::1]:53" or "fe80::1%eth0". The port defaults to 53.
func ParsePlain(s string) (Server, error) {
	ap, err := parseAddrDefaultPort(s, 53)
	if err != nil {
		return Server{}, err
	}
	return Server{Transport: UDP, Addr: ap}, nil
}

// ParseDoT reads a DoT server: "IP", "IP:PORT", or either followed by
// "#servername" to verify the certificate against a name instead of the
// address. The port defaults to 853. Host names are refused: netx never
// resolves names, and resolving the trusted resolver's name through the
// resolver under test would defeat the point.
func ParseDoT(s string) (Server, error) {
	hostport, name, _ := strings.Cut(s, "#")
	hostport = strings.TrimPrefix(hostport, "tls://")
	ap, err := parseAddrDefaultPort(hostport, 853)
	if err != nil {
		return Server{}, err
	}
	return Server{Transport: DoT, Addr: ap, ServerName: name}, nil
}

// ParseDoH reads a DoH endpoint "https://IP[:PORT]/path", optionally
// followed by "#servername" for the certificate name. The URL must name
// an IP address, for the reason ParseDoT gives. Credentials in the URL
// ("https://user:pass@IP/path") are kept for the request and left out of
// the URL, of String and of every error message.
func ParseDoH(s string) (Server, error) {
	shown := RedactURL(s)
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the raw URL, and its reason may quote a part
		// of it ("invalid port \":pass\""): with credentials in the
		// text, neither is shown.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if shown != s {
			err = errors.New("not a valid URL")
		}
		return Server{}, fmt.Errorf("dnsprobe: DoH URL %q: %w", shown, err)
	}
	if u.Scheme != "https" {
		return Server{}, fmt.Errorf("dnsprobe: DoH URL %q: scheme must be https", shown)
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	if err != nil {
		return Server{}, fmt.Errorf("dnsprobe: DoH URL %q: %w: name the resolver by its IP address (add #%s to verify its certificate by name)", shown, netx.ErrNotAddress, host)
	}
	port := uint16(443)
	if p := u.Port(); p != "" {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n <= 0 || n > 65535 {
			return Server{}, fmt.Errorf("dnsprobe: DoH URL %q: bad port", shown)
		}
		port = uint16(n)
	}
	if u.Path == "" {
		u.Path = "/dns-query"
	}
	name := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	auth := u.User
	u.User = nil
	return Server{Transport: DoH, Addr: netip.AddrPortFrom(a.Unmap(), port), URL: u.String(), ServerName: name, auth: auth}, nil
}

// RedactURL replaces the credentials of a URL-like string ("scheme://
// user:pass@host/...", or "user:pass@host/..." without a scheme) with
// ***, for messages that must show what a user typed. It works on the
// text, so it also covers strings that do not parse as URLs: everything
// before the last "@" ahead of the query or fragment goes, even when a
// password holds a "/" (an "@" in a path costs only some of the path).
func RedactURL(s string) string {
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	head := rest
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		head = rest[:i]
	}
	at := strings.LastIndex(head, "@")
	if at < 0 {
		return s
	}
	return prefix + credentialsMark + rest[at+1:]
}

func parseAddrDefaultPort(s string, port uint16) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	ap, err := netx.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dnsprobe: %q is not IP or IP:PORT: %w", s, err)
	}
	return ap, nil
}

// Query is one question and the shape of the message that asks it.
// The zero shape is the one a validating resolver's client sends:
// EDNS0 with ednsSize. A resolver under test may answer differently
// depending on the shape (a rogue can lie only to queries that look like
// the clients it targets), so callers choose it: docs/dns.md says how
// each common client asks.
type Query struct {
	Name  string // with or without the trailing dot
	Type  uint16 // dns.TypeA, ...
	Class uint16 // 0 means IN
	// DNSSEC sets the DO bit (and AD), asking for signatures.
	DNSSEC bool
	// NoEDNS sends no OPT record at all, as the glibc, Android and
	// Chrome stubs do by default; DNSSEC and EDNSSize are then ignored.
	NoEDNS bool
	// EDNSSize is the UDP payload size of the OPT record; 0 means
	// ednsSize.
	EDNSSize uint16
	// Timeout, when longer than QueryTimeout, gives a plain-DNS question
	// that got no answer within QueryTimeout a second chance: it is asked
	// again (a new ID, on the same UDP socket, so that a late answer to
	// either question counts) and waited for until Timeout. Again, when
	// set, is consulted at that moment: false ends the exchange as if
	// Timeout were not set (the caller knows whether the server answers
	// anything at all). Other transports ignore both. The caller's
	// context bounds the exchange in any case.
	Timeout time.Duration
	Again   func() bool
}

func (q Query) String() string {
	return fmt.Sprintf("%s %s", dns.Fqdn(q.Name), dns.TypeToString[q.Type])
}

// Record is one answer record, simplified for evidence.
type Record struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"`
}

// Response is what a server answered to one query.
type Response struct {
	Server    string    `json:"server"`
	Transport Transport `json:"transport"`
	// Rcode is the response code ("NOERROR", "NXDOMAIN", ...).
	Rcode              string `json:"rcode"`
	Authoritative      bool   `json:"aa"`
	AuthenticatedData  bool   `json:"ad"`
	RecursionAvailable bool   `json:"ra"`
	// Answers is the answer section.
	Answers []Record `json:"answers,omitempty"`
	// Addrs are the addresses of the asked type (A or AAAA) that answer
	// the question: owned by the name or by a CNAME target reached from
	// it. Address records of other owners stay in Answers only. For an
	// HTTPS question they are the ipv4hint and ipv6hint addresses of the
	// name's HTTPS records.
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// MinTTL is the smallest TTL in the answer section; meaningful only
	// when Answers is not empty.
	MinTTL uint32 `json:"min_ttl"`
	// HasRRSIG reports an RRSIG in the answer section.
	HasRRSIG bool `json:"rrsig"`
	// Signers are the zones that signed the answer section (the RRSIGs'
	// signer names, lowercase with the trailing dot), in order of
	// appearance.
	Signers []string `json:"signers,omitempty"`
	// TXT holds the TXT strings of the answer (CHAOS fingerprints).
	TXT []string `json:"txt,omitempty"`
	// FellBackToTCP is set when the UDP reply was truncated and the
	// answer came over TCP.
	FellBackToTCP bool `json:"tcp_fallback,omitempty"`
	// Ignored lists replies that failed validation before the one
	// accepted (a spoofer or a broken middlebox racing the server).
	Ignored []string `json:"ignored,omitempty"`
	Size    int      `json:"size"`
	// RTT is the time from sending the question this reply answers to
	// the reply.
	RTT time.Duration `json:"rtt_ns"`
	// Reasked: no answer came within QueryTimeout, the question was
	// asked again (Query.Timeout), and this reply answers the second
	// question; a late reply to the first one has Reasked false and an
	// RTT above QueryTimeout.
	Reasked bool `json:"reasked,omitempty"`
}

// NoData reports NOERROR without an answer of the asked type.
func (r *Response) NoData() bool { return r.Rcode == "NOERROR" && len(r.Addrs) == 0 && len(r.TXT) == 0 }

// httpDoer is what DoH needs of an HTTP client; the only one ever used is
// netx.Dialer.HTTPClient's.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client sends queries through a netx.Dialer. It is safe for concurrent
// use; build it with NewClient.
type Client struct {
	dialer   *netx.Dialer
	sessions tls.ClientSessionCache

	mu  sync.Mutex          // guards doh
	doh map[string]httpDoer // DoH clients (netx.Dialer.HTTPClient) by server, built once
}

// NewClient returns a Client that reaches servers only through d, which
// must be non-nil.
func NewClient(d *netx.Dialer) *Client {
	return &Client{dialer: d, doh: make(map[string]httpDoer), sessions: tls.NewLRUClientSessionCache(64)}
}

// Exchange asks srv the question q and returns the validated answer. The
// exchange is bounded by ctx and QueryTimeout. A server that does not
// understand EDNS (FORMERR) is asked once more without it.
func (c *Client) Exchange(ctx context.Context, srv Server, q Query) (*Response, error) {
	if c == nil || c.dialer == nil {
		return nil, errors.New("dnsprobe: Client without a dialer")
	}
	if _, ok := dns.IsDomainName(q.Name); !ok || q.Name == "" {
		return nil, fmt.Errorf("dnsprobe: %q is not a domain name", q.Name)
	}
	var again *reask
	timeout := QueryTimeout
	if q.Timeout > QueryTimeout && (srv.Transport == UDP || srv.Transport == "") {
		timeout, again = q.Timeout, &reask{after: QueryTimeout, ok: q.Again}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	m := newQuery(srv, q, !q.NoEDNS)
	r, meta, err := c.exchange(ctx, srv, m, again)
	if err == nil && r.Rcode == dns.RcodeFormatError {
		m = newQuery(srv, q, false)
		r, meta, err = c.exchange(ctx, srv, m, again)
	}
	if err != nil {
		return nil, fmt.Errorf("dnsprobe: %s to %s: %w", q, srv, err)
	}
	resp := newResponse(srv, r, meta)
	resp.RTT = time.Since(start)
	if meta.reasked {
		// The reply answers the second question: its round trip
		// starts there, not at the first.
		resp.Reasked, resp.RTT = true, time.Since(meta.reaskedAt)
	}
	return resp, nil
}

// reask is when and whether a UDP exchange asks its question again
// (Query.Timeout).
type reask struct {
	after time.Duration // since the first send
	ok    func() bool   // nil: always
}

// newQuery builds the message for q. DoH queries carry ID 0 so caches can
// share them (RFC 8484 §4.1).
func newQuery(srv Server, q Query, edns bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.Name), q.Type)
	if q.Class != 0 {
		m.Question[0].Qclass = q.Class
	}
	m.RecursionDesired = true
	if edns {
		size := q.EDNSSize
		if size == 0 {
			size = ednsSize
		}
		m.SetEdns0(size, q.DNSSEC)
	}
	// AD in a query asks a validating resolver to report validation
	// (RFC 6840 §5.7); a stub without EDNS sends neither.
	m.AuthenticatedData = q.DNSSEC && edns
	if srv.Transport == DoH {
		m.Id = 0
	}
	return m
}

// FallbackError is a TCP fallback that failed after a truncated UDP
// reply. The server did answer over UDP, so whoever classifies the error
// must not read a refused TCP connection as a closed UDP port; errors.Is
// and Classify still see the TCP error through Unwrap.
type FallbackError struct {
	Err error // the TCP exchange's error
}

func (e *FallbackError) Error() string {
	return "TCP fallback after a truncated UDP reply: " + e.Err.Error()
}

// Unwrap returns the TCP exchange's error.
func (e *FallbackError) Unwrap() error { return e.Err }

// exchangeMeta is what the transport learned besides the message.
type exchangeMeta struct {
	size     int
	fellBack bool
	ignored  []string
	// reasked: the reply answers the question asked again at reaskedAt.
	reasked   bool
	reaskedAt time.Time
}

func (c *Client) exchange(ctx context.Context, srv Server, m *dns.Msg, again *reask) (*dns.Msg, exchangeMeta, error) {
	switch srv.Transport {
	case UDP, "":
		r, meta, err := c.exchangeUDP(ctx, srv.Addr, m, again)
		if err != nil || !r.Truncated {
			return r, meta, err
		}
		// RFC 7766: a truncated UDP answer is retried over TCP.
		r, meta2, err := c.exchangeTCP(ctx, srv.Addr, m)
		meta2.fellBack, meta2.ignored = true, append(meta.ignored, meta2.ignored...)
		if err != nil {
			err = &FallbackError{Err: err}
		}
		return r, meta2, err
	case TCP:
		return c.exchangeTCP(ctx, srv.Addr, m)
	case DoT:
		return c.exchangeDoT(ctx, srv, m)
	case DoH:
		return c.exchangeDoH(ctx, srv, m)
	}
	return nil, exchangeMeta{}, fmt.Errorf("dnsprobe: unknown transport %q", srv.Transport)
}

func newResponse(srv Server, r *dns.Msg, meta exchangeMeta) *Response {
	resp := &Response{
		Server: srv.String(), Transport: srv.Transport,
		Rcode:         rcodeName(r.Rcode),
		Authoritative: r.Authoritative, AuthenticatedData: r.AuthenticatedData, RecursionAvailable: r.RecursionAvailable,
		FellBackToTCP: meta.fellBack, Ignored: meta.ignored, Size: meta.size,
	}
	if resp.Transport == "" {
		resp.Transport = UDP
	}
	var qtype uint16
	var chain map[string]bool
	if len(r.Question) == 1 {
		qtype = r.Question[0].Qtype
		chain, _ = answerChain(r.Question[0].Name, r.Answer) // a loop was refused by ValidateReply
	}
	inChain := func(owner string) bool { return chain[strings.ToLower(owner)] }
	for i, rr := range r.Answer {
		h := rr.Header()
		data := strings.TrimPrefix(rr.String(), h.String())
		resp.Answers = append(resp.Answers, Record{Name: strings.ToLower(h.Name), Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl, Data: data})
		if i == 0 || h.Ttl < resp.MinTTL {
			resp.MinTTL = h.Ttl
		}
		switch v := rr.(type) {
		// Addresses of another type than asked are kept in Answers
		// only: an A record in an AAAA answer is not an answer.
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A); ok && qtype == dns.TypeA && inChain(h.Name) {
				resp.Addrs = append(resp.Addrs, a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok && qtype == dns.TypeAAAA && inChain(h.Name) {
				resp.Addrs = append(resp.Addrs, a)
			}
		case *dns.HTTPS:
			// A browser may connect to the hints of an HTTPS record
			// (RFC 9460 §7.3) under the name it asked for: they are
			// where this answer sends it.
			if qtype == dns.TypeHTTPS && inChain(h.Name) {
				resp.Addrs = append(resp.Addrs, svcbHints(v.Value)...)
			}
		case *dns.TXT:
			resp.TXT = append(resp.TXT, strings.Join(v.Txt, ""))
		case *dns.RRSIG:
			resp.HasRRSIG = true
			if z := strings.ToLower(dns.Fqdn(v.SignerName)); !slices.Contains(resp.Signers, z) {
				resp.Signers = append(resp.Signers, z)
			}
		}
	}
	return resp
}

// svcbHints returns the ipv4hint and ipv6hint addresses of SVCB/HTTPS
// parameters.
func svcbHints(kvs []dns.SVCBKeyValue) []netip.Addr {
	var out []netip.Addr
	for _, kv := range kvs {
		var ips []net.IP
		switch v := kv.(type) {
		case *dns.SVCBIPv4Hint:
			ips = v.Hint
		case *dns.SVCBIPv6Hint:
			ips = v.Hint
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				out = append(out, a.Unmap())
			}
		}
	}
	return out
}
