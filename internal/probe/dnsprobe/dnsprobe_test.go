// SPDX-License-Identifier: Apache-2.0

package dnsprobe_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
	"github.com/routerwatch/routerwatch/internal/target"
)

func loopbackDialer() *netx.Dialer {
	return netx.NewDialer(target.NewScope(netip.MustParsePrefix("127.0.0.0/8")), netx.Options{Rate: -1})
}

func honestZone(t *testing.T) *dnsprobetest.Zone {
	return &dnsprobetest.Zone{
		A:      map[string][]netip.Addr{"www.example.org.": dnsprobetest.Addrs(t, "192.0.2.10", "192.0.2.11")},
		AAAA:   map[string][]netip.Addr{"www.example.org.": dnsprobetest.Addrs(t, "2001:db8::10")},
		Signed: map[string]bool{"www.example.org.": true},
		Hijack: map[string]netip.Addr{"login.example.org.": netip.MustParseAddr("203.0.113.66")},
		Chaos:  map[string]string{"version.bind.": "dnsmasq-2.85", "servers.bind.": "198.51.100.53#53 2 0"},
	}
}

func TestExchangeTransports(t *testing.T) {
	ca := dnsprobetest.NewCA(t)
	z := honestZone(t)
	plain := dnsprobetest.NewServer(t, z)
	dot := dnsprobetest.NewDoT(t, ca, "resolver.example.net", z)
	doh := dnsprobetest.NewDoH(t, ca, z)
	dohSrv, err := dnsprobe.ParseDoH(doh.URL)
	if err != nil {
		t.Fatal(err)
	}
	dohSrv.RootCAs = ca.Pool()
	servers := map[string]dnsprobe.Server{
		"udp":         {Transport: dnsprobe.UDP, Addr: plain.Addr},
		"tcp":         {Transport: dnsprobe.TCP, Addr: plain.Addr},
		"dot_by_ip":   {Transport: dnsprobe.DoT, Addr: dot.Addr, RootCAs: ca.Pool()},
		"dot_by_name": {Transport: dnsprobe.DoT, Addr: dot.Addr, ServerName: "resolver.example.net", RootCAs: ca.Pool()},
		"doh":         dohSrv,
	}
	tests := []struct {
		name string
		q    dnsprobe.Query
		want dnsprobe.Response
	}{
		{
			name: "a_signed",
			q:    dnsprobe.Query{Name: "WWW.example.org", Type: dns.TypeA, DNSSEC: true},
			want: dnsprobe.Response{Rcode: "NOERROR", AuthenticatedData: true, RecursionAvailable: true, HasRRSIG: true, MinTTL: 300, Signers: []string{"www.example.org."},
				Addrs: dnsprobetest.Addrs(t, "192.0.2.10", "192.0.2.11")},
		},
		{
			name: "aaaa_without_do",
			q:    dnsprobe.Query{Name: "www.example.org.", Type: dns.TypeAAAA},
			want: dnsprobe.Response{Rcode: "NOERROR", RecursionAvailable: true, MinTTL: 300, Addrs: dnsprobetest.Addrs(t, "2001:db8::10")},
		},
		{
			name: "hijacked_ttl0_aa",
			q:    dnsprobe.Query{Name: "login.example.org", Type: dns.TypeA, DNSSEC: true},
			want: dnsprobe.Response{Rcode: "NOERROR", Authoritative: true, RecursionAvailable: true, MinTTL: 0, Addrs: dnsprobetest.Addrs(t, "203.0.113.66")},
		},
		{
			name: "hijacked_aaaa_nodata",
			q:    dnsprobe.Query{Name: "login.example.org", Type: dns.TypeAAAA},
			want: dnsprobe.Response{Rcode: "NOERROR", Authoritative: true, RecursionAvailable: true},
		},
		{
			name: "nxdomain",
			q:    dnsprobe.Query{Name: "nx.example.org", Type: dns.TypeA},
			want: dnsprobe.Response{Rcode: "NXDOMAIN", RecursionAvailable: true},
		},
	}
	c := dnsprobe.NewClient(loopbackDialer())
	for sname, srv := range servers {
		for _, tt := range tests {
			t.Run(sname+"/"+tt.name, func(t *testing.T) {
				got, err := c.Exchange(t.Context(), srv, tt.q)
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				ignore := cmpopts.IgnoreFields(dnsprobe.Response{}, "Server", "Transport", "Answers", "Size", "RTT")
				if diff := cmp.Diff(tt.want, *got, ignore, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
				if got.Transport != srv.Transport {
					t.Errorf("transport %q, want %q", got.Transport, srv.Transport)
				}
			})
		}
	}
}

// truncatingHandler answers with TC over UDP and in full over TCP.
type truncatingHandler struct{ z *dnsprobetest.Zone }

func (h truncatingHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	h.z.ServeDNS(w, r)
}

func TestExchangeTCPFallback(t *testing.T) {
	srv := dnsprobetest.NewServer(t, truncatingHandler{honestZone(t)})
	c := dnsprobe.NewClient(loopbackDialer())
	got, err := c.Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if err != nil {
		t.Fatal(err)
	}
	if !got.FellBackToTCP || len(got.Addrs) != 2 {
		t.Errorf("got fallback=%v addrs=%v, want TCP fallback with 2 addresses", got.FellBackToTCP, got.Addrs)
	}
}

func TestExchangeHostile(t *testing.T) {
	tests := []struct {
		name       string
		behaviour  dnsprobetest.Behaviour
		transport  dnsprobe.Transport
		wantStatus string
		wantText   string
	}{
		{name: "malformed", behaviour: dnsprobetest.Malformed, wantStatus: dnsprobe.StatusMalformed},
		{name: "truncated_twice", behaviour: dnsprobetest.Truncated, wantStatus: dnsprobe.StatusTruncated},
		{name: "tcp_garbage_after_tc", behaviour: dnsprobetest.TCPGarbage, wantStatus: dnsprobe.StatusMalformed},
		{name: "mismatched_id", behaviour: dnsprobetest.MismatchedID, wantStatus: dnsprobe.StatusIDMismatch},
		{name: "oversized", behaviour: dnsprobetest.Oversized, wantStatus: dnsprobe.StatusOversized},
		{name: "spoofed_from_elsewhere", behaviour: dnsprobetest.Spoofed, wantStatus: "timeout"},
		{name: "slow", behaviour: dnsprobetest.Slow, wantStatus: "timeout"},
		{name: "slow_tcp", behaviour: dnsprobetest.Slow, transport: dnsprobe.TCP, wantStatus: "timeout"},
		{name: "not_response", behaviour: dnsprobetest.NotResponse, wantStatus: dnsprobe.StatusNotResponse},
		{name: "wrong_question", behaviour: dnsprobetest.WrongQuestion, wantStatus: dnsprobe.StatusQuestionMismatch, wantText: "other.example.net"},
	}
	c := dnsprobe.NewClient(loopbackDialer())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := dnsprobetest.NewHostile(t, tt.behaviour)
			start := time.Now()
			_, err := c.Exchange(t.Context(), dnsprobe.Server{Transport: tt.transport, Addr: srv.Addr}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
			took := time.Since(start)
			if err == nil {
				t.Fatal("Exchange accepted a hostile reply")
			}
			if got := dnsprobe.Classify(err); got != tt.wantStatus {
				t.Errorf("Classify(%v) = %q, want %q", err, got, tt.wantStatus)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			slack := 500 * time.Millisecond
			if raceEnabled {
				slack = 3 * time.Second
			}
			if took > dnsprobe.QueryTimeout+slack {
				t.Errorf("took %v, longer than QueryTimeout", took)
			}
		})
	}
}

func TestExchangeOutOfScope(t *testing.T) {
	srv := dnsprobetest.NewServer(t, honestZone(t))
	d := netx.NewDialer(target.NewScope(netip.MustParsePrefix("192.0.2.0/24")), netx.Options{})
	_, err := dnsprobe.NewClient(d).Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if got := dnsprobe.Classify(err); got != "out_of_scope" {
		t.Errorf("Classify(%v) = %q, want out_of_scope", err, got)
	}
}

func TestExchangeDoTUntrusted(t *testing.T) {
	ca, other := dnsprobetest.NewCA(t), dnsprobetest.NewCA(t)
	dot := dnsprobetest.NewDoT(t, ca, "", honestZone(t))
	_, err := dnsprobe.NewClient(loopbackDialer()).Exchange(t.Context(),
		dnsprobe.Server{Transport: dnsprobe.DoT, Addr: dot.Addr, RootCAs: other.Pool()}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if got := dnsprobe.Classify(err); got != dnsprobe.StatusTLS {
		t.Errorf("Classify(%v) = %q, want %q", err, got, dnsprobe.StatusTLS)
	}
}

func TestFingerprint(t *testing.T) {
	c := dnsprobe.NewClient(loopbackDialer())
	srv := dnsprobetest.NewServer(t, honestZone(t))
	fp, err := c.Fingerprint(t.Context(), dnsprobe.Server{Addr: srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	want := dnsprobe.Fingerprint{Entries: []dnsprobe.ChaosEntry{
		{Name: "version.bind", Value: "dnsmasq-2.85", Rcode: "NOERROR"},
		{Name: "servers.bind", Value: "198.51.100.53#53 2 0", Rcode: "NOERROR"},
		{Name: "id.server", Rcode: "REFUSED"},
		{Name: "hostname.bind", Rcode: "REFUSED"},
	}}
	if diff := cmp.Diff(want, fp); diff != "" {
		t.Errorf("fingerprint (-want +got):\n%s", diff)
	}
	dead := dnsprobetest.NewHostile(t, dnsprobetest.Slow)
	if _, err := c.Fingerprint(t.Context(), dnsprobe.Server{Addr: dead.Addr}); err == nil {
		t.Error("Fingerprint of a silent server returned no error")
	}
}

func TestProveTLS(t *testing.T) {
	ca := dnsprobetest.NewCA(t)
	ws := dnsprobetest.NewWebServers(t,
		ca.Issue(t, []string{"outlook.office365.com"}, nil),
		dnsprobetest.SelfSigned(t, "outlook.office365.com"),
		ca.Issue(t, []string{"other.example.net"}, nil),
	)
	closed := dnsprobetest.LoopbackAddr()
	tests := []struct {
		name        string
		addr        netip.Addr
		wantOutcome dnsprobe.ProofOutcome
		wantReason  string
	}{
		{name: "valid_cdn", addr: ws.Addrs[0], wantOutcome: dnsprobe.ProofValid},
		{name: "self_signed_aitm", addr: ws.Addrs[1], wantOutcome: dnsprobe.ProofInvalid, wantReason: "unknown authority"},
		{name: "wrong_name", addr: ws.Addrs[2], wantOutcome: dnsprobe.ProofInvalid, wantReason: "not outlook.office365.com"},
		{name: "nothing_listens", addr: closed, wantOutcome: dnsprobe.ProofInconclusive, wantReason: "refused"},
	}
	d := loopbackDialer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dnsprobe.ProveTLS(t.Context(), d, netip.AddrPortFrom(tt.addr, ws.Port), "outlook.office365.com.", ca.Pool(), time.Now())
			if p.Outcome != tt.wantOutcome || !strings.Contains(p.Reason, tt.wantReason) {
				t.Errorf("outcome %q reason %q; want %q containing %q", p.Outcome, p.Reason, tt.wantOutcome, tt.wantReason)
			}
		})
	}
}

func TestParseServers(t *testing.T) {
	tests := []struct {
		name    string
		parse   func(string) (dnsprobe.Server, error)
		in      string
		want    string
		wantErr string
	}{
		{name: "plain_default_port", parse: dnsprobe.ParsePlain, in: "192.0.2.1", want: "192.0.2.1:53"},
		{name: "plain_port", parse: dnsprobe.ParsePlain, in: "192.0.2.1:5353", want: "192.0.2.1:5353"},
		{name: "plain_v6", parse: dnsprobe.ParsePlain, in: "2001:db8::1", want: "[2001:db8::1]:53"},
		{name: "plain_v6_port", parse: dnsprobe.ParsePlain, in: "[2001:db8::1]:5353", want: "[2001:db8::1]:5353"},
		{name: "plain_name", parse: dnsprobe.ParsePlain, in: "dns.example.net", wantErr: "not IP"},
		{name: "dot_ip", parse: dnsprobe.ParseDoT, in: "1.1.1.1", want: "tls://1.1.1.1:853"},
		{name: "dot_name", parse: dnsprobe.ParseDoT, in: "1.1.1.1:853#cloudflare-dns.com", want: "tls://1.1.1.1:853#cloudflare-dns.com"},
		{name: "dot_hostname", parse: dnsprobe.ParseDoT, in: "dns.example.net:853", wantErr: "literal IP"},
		{name: "doh", parse: dnsprobe.ParseDoH, in: "https://9.9.9.9/dns-query", want: "https://9.9.9.9/dns-query"},
		{name: "doh_name", parse: dnsprobe.ParseDoH, in: "https://203.0.113.53:8443/q#resolver.example.net", want: "https://203.0.113.53:8443/q#resolver.example.net"},
		{name: "doh_http", parse: dnsprobe.ParseDoH, in: "http://9.9.9.9/dns-query", wantErr: "https"},
		{name: "doh_hostname", parse: dnsprobe.ParseDoH, in: "https://dns.example.net/dns-query", wantErr: "IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tt.want {
				t.Errorf("got %q, want %q", s.String(), tt.want)
			}
		})
	}
}

// TestExchangeShapes checks the message each query shape sends: a rogue
// resolver may answer differently depending on it, so the shapes must be
// exactly those of the clients they stand for (docs/dns.md).
func TestExchangeShapes(t *testing.T) {
	tests := []struct {
		name     string
		q        dnsprobe.Query
		wantOPT  bool
		wantSize uint16
		wantDO   bool
		wantAD   bool
	}{
		{name: "stub_no_edns", q: dnsprobe.Query{NoEDNS: true}},
		{name: "stub_ignores_dnssec", q: dnsprobe.Query{NoEDNS: true, DNSSEC: true}},
		{name: "edns_without_do", q: dnsprobe.Query{EDNSSize: 1200}, wantOPT: true, wantSize: 1200},
		{name: "validating", q: dnsprobe.Query{DNSSEC: true}, wantOPT: true, wantSize: 1232, wantDO: true, wantAD: true},
		{name: "default_edns", q: dnsprobe.Query{}, wantOPT: true, wantSize: 1232},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := honestZone(t)
			z.Record = true
			srv := dnsprobetest.NewServer(t, z)
			q := tt.q
			q.Name, q.Type = "www.example.org", dns.TypeA
			if _, err := dnsprobe.NewClient(loopbackDialer()).Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, q); err != nil {
				t.Fatal(err)
			}
			asked := z.Asked()
			if len(asked) != 1 {
				t.Fatalf("%d questions arrived, want 1", len(asked))
			}
			m := asked[0]
			if !m.RecursionDesired || m.CheckingDisabled || m.AuthenticatedData != tt.wantAD {
				t.Errorf("flags RD=%v CD=%v AD=%v, want RD=true CD=false AD=%v", m.RecursionDesired, m.CheckingDisabled, m.AuthenticatedData, tt.wantAD)
			}
			if m.Question[0].Name != "www.example.org." {
				t.Errorf("question %q: the name goes as given (no 0x20 mixed case, which clients do not send)", m.Question[0].Name)
			}
			opt := m.IsEdns0()
			switch {
			case (opt != nil) != tt.wantOPT:
				t.Errorf("OPT record %v, want %v", opt != nil, tt.wantOPT)
			case opt != nil && (opt.UDPSize() != tt.wantSize || opt.Do() != tt.wantDO || len(opt.Option) != 0):
				t.Errorf("OPT size %d DO %v options %v, want %d %v none", opt.UDPSize(), opt.Do(), opt.Option, tt.wantSize, tt.wantDO)
			}
		})
	}
}

// TestExchangeSecondChance checks Query.Timeout: a question unanswered
// within QueryTimeout is asked again and waited for, a late answer to
// the first question counts (with its true delay), an answer to the
// second question tells a lost question from a delayed one, and Again
// (false) or no Timeout keep the old bound.
func TestExchangeSecondChance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits several seconds")
	}
	const delay = 2500 * time.Millisecond
	tests := []struct {
		name        string
		zone        func(z *dnsprobetest.Zone)
		q           dnsprobe.Query
		wantErr     bool
		wantReasked bool
		minRTT      time.Duration
		maxRTT      time.Duration
	}{
		{
			name: "late_answer_to_the_first_question",
			zone: func(z *dnsprobetest.Zone) { z.Delay = map[string]time.Duration{"www.example.org.": delay} },
			q:    dnsprobe.Query{Timeout: 5 * time.Second}, minRTT: delay, maxRTT: delay + time.Second,
		},
		{
			name: "lost_first_question_answered_when_asked_again",
			zone: func(z *dnsprobetest.Zone) { z.LoseFirst = map[string]bool{"www.example.org.": true} },
			q:    dnsprobe.Query{Timeout: 5 * time.Second}, wantReasked: true, maxRTT: 500 * time.Millisecond,
		},
		{
			name:    "no_second_chance_without_timeout",
			zone:    func(z *dnsprobetest.Zone) { z.Delay = map[string]time.Duration{"www.example.org.": delay} },
			wantErr: true,
		},
		{
			name:    "again_false_keeps_query_timeout",
			zone:    func(z *dnsprobetest.Zone) { z.Delay = map[string]time.Duration{"www.example.org.": delay} },
			q:       dnsprobe.Query{Timeout: 5 * time.Second, Again: func() bool { return false }},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := honestZone(t)
			tt.zone(z)
			srv := dnsprobetest.NewServer(t, z)
			q := tt.q
			q.Name, q.Type, q.NoEDNS = "www.example.org", dns.TypeA, true
			start := time.Now()
			r, err := dnsprobe.NewClient(loopbackDialer()).Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, q)
			took := time.Since(start)
			if tt.wantErr {
				if err == nil || dnsprobe.Classify(err) != "timeout" {
					t.Fatalf("Exchange = %v, %v; want a timeout", r, err)
				}
				if took > dnsprobe.QueryTimeout+time.Second {
					t.Errorf("took %v: without a second chance the bound is QueryTimeout", took)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Reasked != tt.wantReasked || r.RTT < tt.minRTT || r.RTT > tt.maxRTT || len(r.Addrs) != 2 {
				t.Errorf("reasked %v RTT %v addrs %v; want reasked %v, RTT in [%v, %v], 2 addresses", r.Reasked, r.RTT, r.Addrs, tt.wantReasked, tt.minRTT, tt.maxRTT)
			}
		})
	}
}

// TestExchangeHTTPSHints checks that the hints of an HTTPS answer are its
// addresses: where a browser may connect for the name.
func TestExchangeHTTPSHints(t *testing.T) {
	z := honestZone(t)
	z.HTTPS = map[string][]netip.Addr{"www.example.org.": dnsprobetest.Addrs(t, "192.0.2.10", "2001:db8::10")}
	srv := dnsprobetest.NewServer(t, z)
	c := dnsprobe.NewClient(loopbackDialer())
	r, err := c.Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeHTTPS, NoEDNS: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dnsprobetest.Addrs(t, "192.0.2.10", "2001:db8::10"), r.Addrs, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("hints (-want +got):\n%s", diff)
	}
	// An A question never takes an HTTPS record's hints.
	r, err = c.Exchange(t.Context(), dnsprobe.Server{Addr: srv.Addr}, dnsprobe.Query{Name: "www.example.org", Type: dns.TypeA})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dnsprobetest.Addrs(t, "192.0.2.10", "192.0.2.11"), r.Addrs, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("A answer (-want +got):\n%s", diff)
	}
}
