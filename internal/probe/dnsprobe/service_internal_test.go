// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// TestRecursionOf pins the decision table of what proves recursion.
func TestRecursionOf(t *testing.T) {
	a := func(rcode string, ra, aa bool, addrs ...string) Answer {
		x := Answer{Question: "example.com. A", Answered: true, Rcode: rcode, RA: ra, AA: aa,
			Exchange: probe.Exchange{Port: 53, Open: true, Status: netx.StatusOK}}
		for _, s := range addrs {
			x.Addrs = append(x.Addrs, netip.MustParseAddr(s))
		}
		x.Answers = len(x.Addrs)
		return x
	}
	tests := []struct {
		name string
		in   Answer
		want Recursion
	}{
		{"answer_ra", a("NOERROR", true, false, "192.0.2.80"), RecursionYes},
		{"answer_without_ra_not_authoritative", a("NOERROR", false, false, "192.0.2.80"), RecursionYes},
		{"local_data_with_ra", a("NOERROR", true, true, "192.0.2.80"), RecursionYes},
		{"own_zone_without_ra", a("NOERROR", false, true, "192.0.2.80"), RecursionNo},
		{"nxdomain_ra", a("NXDOMAIN", true, false), RecursionYes},
		{"nxdomain_without_ra", a("NXDOMAIN", false, true), RecursionNo},
		{"refused", a("REFUSED", false, false), RecursionNo},
		{"refused_even_with_ra", a("REFUSED", true, false), RecursionNo},
		{"notimp", a("NOTIMP", false, false), RecursionNo},
		{"referral_without_ra", a("NOERROR", false, false), RecursionNo},
		{"empty_with_ra", a("NOERROR", true, false), RecursionUnknown},
		{"servfail_ra", a("SERVFAIL", true, false), RecursionUnknown},
		{"servfail_without_ra", a("SERVFAIL", false, false), RecursionUnknown},
		{"formerr", a("FORMERR", true, false), RecursionUnknown},
		{"no_reply", Answer{Exchange: probe.Exchange{Port: 53, Status: netx.StatusTimeout}}, RecursionUnknown},
		{"zero", Answer{}, RecursionUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := RecursionOf(tt.in)
			if got != tt.want || why == "" {
				t.Errorf("RecursionOf = %s (%q), want %s with a reason", got, why, tt.want)
			}
		})
	}
}

// FuzzServiceAnswer feeds arbitrary bytes as the reply to each of the
// device probe's two questions, through the path the probe takes
// (ValidateReply, newResponse, Answer.fill, RecursionOf): no input may
// panic, and what is kept stays bounded and printable.
func FuzzServiceAnswer(f *testing.F) {
	queries := []Query{
		{Name: DefaultRecursiveName, Type: dns.TypeA},
		{Name: VersionBindName, Type: dns.TypeTXT, Class: dns.ClassCHAOS},
	}
	msgs := make([]*dns.Msg, len(queries))
	for i, q := range queries {
		m := newQuery(Server{}, q, true)
		m.Id = 4242
		msgs[i] = m
	}
	// Seeds: an open resolver's answer, a refusal, a version.bind answer
	// with control bytes, and a truncated header.
	open := new(dns.Msg)
	open.SetReply(msgs[0])
	open.RecursionAvailable = true
	for i := range 12 {
		open.Answer = append(open.Answer, &dns.A{Hdr: dns.RR_Header{Name: DefaultRecursiveName, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A: net.IPv4(192, 0, 2, byte(i))})
	}
	b, _ := open.Pack()
	f.Add(uint8(0), b)
	refused := new(dns.Msg)
	refused.SetRcode(msgs[0], dns.RcodeRefused)
	b, _ = refused.Pack()
	f.Add(uint8(0), b)
	ver := new(dns.Msg)
	ver.SetReply(msgs[1])
	ver.Answer = append(ver.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: VersionBindName, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
		Txt: []string{"dnsmasq-2.90\x1b[2J", strings.Repeat("\xff", 250)}})
	b, _ = ver.Pack()
	f.Add(uint8(1), b)
	f.Add(uint8(1), b[:13])
	f.Fuzz(func(t *testing.T, which uint8, wire []byte) {
		i := int(which) % len(queries)
		m, err := ValidateReply(msgs[i], wire, MaxUDPReply)
		if err != nil {
			return
		}
		var a Answer
		a.Question = questionText(queries[i])
		a.fill(queries[i], newResponse(Server{}, m, exchangeMeta{size: len(wire)}))
		if !a.Answered || !a.Open {
			t.Fatal("a validated reply not recorded as answered")
		}
		if len(a.Text) > maxVersionText || !utf8.ValidString(a.Text) ||
			strings.ContainsFunc(a.Text, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
			t.Fatalf("text not bounded or not printable: %q", a.Text)
		}
		if len(a.Addrs) > maxKeptAddrs {
			t.Fatalf("%d addresses kept", len(a.Addrs))
		}
		if a.Text != "" && queries[i].Type != dns.TypeTXT {
			t.Fatalf("text %q from an A question", a.Text)
		}
		switch rec, why := RecursionOf(a); rec {
		case RecursionYes, RecursionNo, RecursionUnknown:
			if why == "" {
				t.Fatal("recursion without a reason")
			}
		default:
			t.Fatalf("recursion %q", rec)
		}
	})
}
