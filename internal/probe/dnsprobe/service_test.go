// SPDX-License-Identifier: Apache-2.0

package dnsprobe_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/target"
)

// handlerFunc answers every question with reply(q), nil for silence.
func handlerFunc(reply func(r *dns.Msg) *dns.Msg) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if m := reply(r); m != nil {
			w.WriteMsg(m)
		}
	})
}

// refusing answers like a resolver that serves only its LAN, asked from
// elsewhere (unbound access-control refuse, RouterOS with
// allow-remote-requests=no behind an accept rule): REFUSED, RA clear.
func refusing(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, dns.RcodeRefused)
	return m
}

// authoritativeOnly serves example.com. from its own zone, without
// recursion (an authoritative server): AA set, RA clear.
func authoritativeOnly(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	if q.Qtype == dns.TypeA && q.Qclass == dns.ClassINET {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: netip.MustParseAddr("192.0.2.80").AsSlice()})
	} else {
		m.Rcode = dns.RcodeRefused
	}
	return m
}

// hostileVersion answers version.bind with escape sequences, NULs and
// more than a kilobyte, and recursion with NXDOMAIN.
func hostileVersion(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	q := r.Question[0]
	if q.Qclass != dns.ClassCHAOS {
		m.Rcode = dns.RcodeNameError
		return m
	}
	chunk := "\x1b[31mdnsmasq\x00\u202e" + strings.Repeat("A", 200)
	m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{chunk, chunk, chunk, chunk, chunk, chunk}})
	return m
}

func openZone(t *testing.T) *dnsprobetest.Zone {
	return &dnsprobetest.Zone{
		A:     map[string][]netip.Addr{"example.com.": dnsprobetest.Addrs(t, "192.0.2.80")},
		Chaos: map[string]string{"version.bind.": "dnsmasq-2.90"},
	}
}

// truncatedUDPOnly answers over UDP with TC set, and nothing listens on
// TCP: the TCP fallback is refused after the UDP port answered.
func truncatedUDPOnly(t *testing.T) netip.AddrPort {
	a := dnsprobetest.LoopbackAddr()
	port := probetest.ServeUDP(t, a, func(req []byte, _ netip.AddrPort) [][]byte {
		q := new(dns.Msg)
		if q.Unpack(req) != nil {
			return nil
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Truncated = true
		b, err := m.Pack()
		if err != nil {
			return nil
		}
		return [][]byte{b}
	})
	return netip.AddrPortFrom(a, port)
}

func TestProber(t *testing.T) {
	type want struct {
		err       netx.Status // the probe's error status; ok for none
		recursion dnsprobe.Recursion
		why       string      // substring of RecursionWhy
		rcode     string      // of the recursive question
		status    netx.Status // of the recursive question's exchange
		open      bool
		text      string // version.bind
	}
	tests := []struct {
		name   string
		server func(t *testing.T) netip.AddrPort
		qname  string
		want   want
	}{
		{name: "open_resolver_answers", server: func(t *testing.T) netip.AddrPort { return dnsprobetest.NewServer(t, openZone(t)).Addr },
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionYes, why: "192.0.2.80 (RA set)", rcode: "NOERROR", status: netx.StatusOK, open: true, text: "dnsmasq-2.90"}},
		{name: "open_resolver_nxdomain", server: func(t *testing.T) netip.AddrPort { return dnsprobetest.NewServer(t, &dnsprobetest.Zone{}).Addr },
			qname: "nothing.example.org",
			want:  want{err: netx.StatusOK, recursion: dnsprobe.RecursionYes, why: "NXDOMAIN (RA set)", rcode: "NXDOMAIN", status: netx.StatusOK, open: true}},
		{name: "refusing", server: func(t *testing.T) netip.AddrPort { return dnsprobetest.NewServer(t, handlerFunc(refusing)).Addr },
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionNo, why: "REFUSED", rcode: "REFUSED", status: netx.StatusOK, open: true}},
		{name: "authoritative_only", server: func(t *testing.T) netip.AddrPort {
			return dnsprobetest.NewServer(t, handlerFunc(authoritativeOnly)).Addr
		},
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionNo, why: "own zone", rcode: "NOERROR", status: netx.StatusOK, open: true}},
		{name: "servfail", server: func(t *testing.T) netip.AddrPort {
			return dnsprobetest.NewServer(t, &dnsprobetest.Zone{Servfail: map[string]bool{"example.com.": true}}).Addr
		}, want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionUnknown, why: "SERVFAIL", rcode: "SERVFAIL", status: netx.StatusOK, open: true}},
		{name: "silent", server: func(t *testing.T) netip.AddrPort { return dnsprobetest.NewHostile(t, dnsprobetest.Slow).Addr },
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionUnknown, why: "timeout", status: netx.StatusTimeout}},
		{name: "closed", server: func(t *testing.T) netip.AddrPort {
			a := dnsprobetest.LoopbackAddr()
			return netip.AddrPortFrom(a, probetest.ClosedUDPPort(t, a))
		}, want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionUnknown, why: "connection_refused", status: netx.StatusRefused}},
		{name: "malformed", server: hostile(dnsprobetest.Malformed),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, why: "protocol_error", status: netx.StatusProtocol, open: true}},
		{name: "mismatched_id", server: hostile(dnsprobetest.MismatchedID),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "not_response", server: hostile(dnsprobetest.NotResponse),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "wrong_question", server: hostile(dnsprobetest.WrongQuestion),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "oversized", server: hostile(dnsprobetest.Oversized),
			want: want{err: netx.StatusTooLarge, recursion: dnsprobe.RecursionUnknown, status: netx.StatusTooLarge, open: true}},
		{name: "truncated_twice", server: hostile(dnsprobetest.Truncated),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "tcp_garbage_after_tc", server: hostile(dnsprobetest.TCPGarbage),
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "tc_then_tcp_refused", server: truncatedUDPOnly,
			want: want{err: netx.StatusProtocol, recursion: dnsprobe.RecursionUnknown, status: netx.StatusProtocol, open: true}},
		{name: "spoofed_from_elsewhere", server: hostile(dnsprobetest.Spoofed),
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionUnknown, status: netx.StatusTimeout}},
		{name: "hostile_version_text", server: func(t *testing.T) netip.AddrPort { return dnsprobetest.NewServer(t, handlerFunc(hostileVersion)).Addr },
			want: want{err: netx.StatusOK, recursion: dnsprobe.RecursionYes, rcode: "NXDOMAIN", status: netx.StatusOK, open: true, text: `\027[31mdnsmasq\000`}},
	}
	d := loopbackDialer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ap := tt.server(t)
			p := &dnsprobe.Prober{Port: ap.Port(), Name: tt.qname}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			obs, err := p.Measure(t.Context(), d, probe.Target{Addr: ap.Addr()})
			took := time.Since(start)
			if obs == nil {
				t.Fatal("nil observation")
			}
			if got := probe.Classify(err); got != tt.want.err {
				t.Errorf("probe error %v (%s), want %s", err, got, tt.want.err)
			}
			r := obs.Recursive
			if obs.Recursion != tt.want.recursion || !strings.Contains(obs.RecursionWhy, tt.want.why) {
				t.Errorf("recursion %s (%q), want %s containing %q", obs.Recursion, obs.RecursionWhy, tt.want.recursion, tt.want.why)
			}
			if r.Rcode != tt.want.rcode || r.Status != tt.want.status || r.Open != tt.want.open || r.Port != ap.Port() {
				t.Errorf("recursive exchange rcode %q status %s open %v port %d (%s); want %q %s %v %d",
					r.Rcode, r.Status, r.Open, r.Port, r.Error, tt.want.rcode, tt.want.status, tt.want.open, ap.Port())
			}
			if r.Answered != (r.Status == netx.StatusOK) || (r.Status != netx.StatusOK && r.Error == "") {
				t.Errorf("answered %v with status %s and error %q", r.Answered, r.Status, r.Error)
			}
			v := obs.VersionBind.Text
			if !strings.HasPrefix(v, tt.want.text) || (tt.want.text == "" && v != "") {
				t.Errorf("version.bind %q, want %q", v, tt.want.text)
			}
			if len(v) > 256 || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Errorf("version.bind text not sanitised: %q (%d bytes)", v, len(v))
			}
			ev := obs.Evidence()
			switch {
			case tt.want.text != "" && (len(ev) != 1 || ev[0].Field != probe.FieldDNSVersionBind || ev[0].Value != v):
				t.Errorf("evidence %+v, want one dns.version_bind %q", ev, v)
			case tt.want.text == "" && len(ev) != 0:
				t.Errorf("evidence %+v, want none", ev)
			}
			slack := time.Second
			if raceEnabled {
				slack = 3 * time.Second
			}
			if took > dnsprobe.QueryTimeout+slack {
				t.Errorf("took %v: both questions run in parallel within QueryTimeout", took)
			}
		})
	}
}

func hostile(b dnsprobetest.Behaviour) func(*testing.T) netip.AddrPort {
	return func(t *testing.T) netip.AddrPort { return dnsprobetest.NewHostile(t, b).Addr }
}

// TestProberOutOfScope: a target outside the dialer's scope is never
// asked; the probe says why.
func TestProberOutOfScope(t *testing.T) {
	z := openZone(t)
	srv := dnsprobetest.NewServer(t, z)
	d := netx.NewDialer(target.NewScope(netip.MustParsePrefix("192.0.2.0/24")), netx.Options{})
	obs, err := (&dnsprobe.Prober{Port: srv.Addr.Port()}).Measure(t.Context(), d, probe.Target{Addr: srv.Addr.Addr()})
	if got := probe.Classify(err); got != netx.StatusOutOfScope {
		t.Errorf("error %v (%s), want out_of_scope", err, got)
	}
	if obs.Recursion != dnsprobe.RecursionUnknown || obs.Recursive.Open || z.Queries.Load() != 0 {
		t.Errorf("observation %+v", obs)
	}
}

func TestProberValidate(t *testing.T) {
	for _, tt := range []struct {
		p       dnsprobe.Prober
		wantErr string
	}{
		{p: *dnsprobe.New()},
		{p: dnsprobe.Prober{Port: 5353, Name: "www.example.net"}},
		{p: dnsprobe.Prober{}, wantErr: "port 0"},
		{p: dnsprobe.Prober{Port: 53, Name: "."}, wantErr: "not a domain name"},
		{p: dnsprobe.Prober{Port: 53, Name: strings.Repeat("a", 64) + ".example"}, wantErr: "not a domain name"},
	} {
		err := tt.p.Validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.p, err, tt.wantErr)
		}
	}
	if p := dnsprobe.New(); p.ID() != "dns" || p.Port != 53 {
		t.Errorf("New() = %+v", p)
	}
}
