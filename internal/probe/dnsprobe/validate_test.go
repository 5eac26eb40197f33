// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"errors"
	"net"
	"testing"

	"github.com/miekg/dns"
)

func query(name string, t uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, t)
	m.Id = 4242
	m.SetEdns0(ednsSize, true)
	return m
}

func packed(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateReply(t *testing.T) {
	q := query("outlook.office365.com.", dns.TypeA)
	ok := func() *dns.Msg {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
		return r
	}
	tests := []struct {
		name    string
		wire    func(t *testing.T) []byte
		max     int
		wantErr error
	}{
		{name: "valid", wire: func(t *testing.T) []byte { return packed(t, ok()) }},
		{name: "valid_0x20_case", wire: func(t *testing.T) []byte {
			r := ok()
			r.Question[0].Name = "OutLook.Office365.COM."
			return packed(t, r)
		}},
		{name: "refused_without_question", wire: func(t *testing.T) []byte {
			r := new(dns.Msg)
			r.Id, r.Response, r.Rcode = q.Id, true, dns.RcodeRefused
			return packed(t, r)
		}},
		{name: "noerror_without_question", wire: func(t *testing.T) []byte {
			r := new(dns.Msg)
			r.Id, r.Response = q.Id, true
			return packed(t, r)
		}, wantErr: ErrQuestionMismatch},
		{name: "short", wire: func(*testing.T) []byte { return []byte{0x10, 0x92, 0x81} }, wantErr: ErrMalformed},
		{name: "id_mismatch", wire: func(t *testing.T) []byte { r := ok(); r.Id++; return packed(t, r) }, wantErr: ErrIDMismatch},
		{name: "not_response", wire: func(t *testing.T) []byte { return packed(t, q) }, wantErr: ErrNotResponse},
		{name: "other_type", wire: func(t *testing.T) []byte { r := ok(); r.Question[0].Qtype = dns.TypeAAAA; return packed(t, r) }, wantErr: ErrQuestionMismatch},
		{name: "other_class", wire: func(t *testing.T) []byte { r := ok(); r.Question[0].Qclass = dns.ClassCHAOS; return packed(t, r) }, wantErr: ErrQuestionMismatch},
		{name: "two_questions", wire: func(t *testing.T) []byte {
			r := ok()
			r.Question = append(r.Question, r.Question[0])
			return packed(t, r)
		}, wantErr: ErrQuestionMismatch},
		{name: "opcode", wire: func(t *testing.T) []byte { r := ok(); r.Opcode = dns.OpcodeNotify; return packed(t, r) }, wantErr: ErrQuestionMismatch},
		{name: "oversized", wire: func(t *testing.T) []byte { return packed(t, ok()) }, max: 20, wantErr: ErrOversized},
		{name: "cut_mid_record", wire: func(t *testing.T) []byte { b := packed(t, ok()); return b[:len(b)-3] }, wantErr: ErrMalformed},
		{name: "too_many_records", wire: func(t *testing.T) []byte {
			r := ok()
			for range maxRecords {
				r.Answer = append(r.Answer, r.Answer[0])
			}
			return packed(t, r)
		}, max: MaxStreamReply, wantErr: ErrOversized},
		{name: "cname_loop", wire: func(t *testing.T) []byte {
			r := ok()
			n := q.Question[0].Name
			r.Answer = []dns.RR{
				&dns.CNAME{Hdr: dns.RR_Header{Name: n, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "b." + n},
				&dns.CNAME{Hdr: dns.RR_Header{Name: "b." + n, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "OUTLOOK.office365.com."},
			}
			return packed(t, r)
		}, wantErr: ErrMalformed},
		{name: "cname_chain", wire: func(t *testing.T) []byte {
			r := ok()
			n := q.Question[0].Name
			r.Answer = []dns.RR{
				&dns.CNAME{Hdr: dns.RR_Header{Name: n, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "b.example.net."},
				&dns.CNAME{Hdr: dns.RR_Header{Name: "b.example.net.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "c.example.net."},
				&dns.A{Hdr: dns.RR_Header{Name: "c.example.net.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)},
			}
			return packed(t, r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = MaxUDPReply
			}
			r, err := ValidateReply(q, tt.wire(t), max)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ValidateReply error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && r == nil {
				t.Fatal("nil reply without error")
			}
			var re *ReplyError
			if err != nil && !errors.As(err, &re) {
				t.Errorf("error %T is not a *ReplyError", err)
			}
		})
	}
}

// FuzzValidateReply feeds arbitrary bytes as the reply to a fixed query:
// no input may panic, and an accepted reply must really answer the query.
func FuzzValidateReply(f *testing.F) {
	q := query("outlook.office365.com.", dns.TypeA)
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = true
	r.Answer = append(r.Answer,
		&dns.CNAME{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "x.example.net."},
		&dns.A{Hdr: dns.RR_Header{Name: "x.example.net.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0}, A: net.IPv4(192, 0, 2, 1)})
	r.SetEdns0(1232, true)
	good, _ := r.Pack()
	f.Add(good)
	f.Add(good[:len(good)-5])
	tc := r.Copy()
	tc.Truncated, tc.Answer = true, nil
	b, _ := tc.Pack()
	f.Add(b)
	f.Add([]byte{0x10, 0x92, 0x81, 0x80, 0, 1, 0, 7, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, wire []byte) {
		m, err := ValidateReply(q, wire, MaxUDPReply)
		if err != nil {
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *ReplyError", err)
			}
			return
		}
		if m.Id != q.Id || !m.Response {
			t.Fatalf("accepted reply with id %d response %v", m.Id, m.Response)
		}
		if len(m.Question) == 1 && m.Question[0].Qtype != dns.TypeA {
			t.Fatalf("accepted reply for type %d", m.Question[0].Qtype)
		}
		// What the probe builds from it must not panic either.
		newResponse(Server{}, m, exchangeMeta{size: len(wire)})
	})
}

// FuzzHTTPSReply feeds arbitrary bytes as the reply to an HTTPS (type
// 65) question: no input may panic, and the addresses taken from an
// accepted reply are hints of HTTPS records on the question's chain.
func FuzzHTTPSReply(f *testing.F) {
	q := query("outlook.office365.com.", dns.TypeHTTPS)
	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer, &dns.HTTPS{SVCB: dns.SVCB{
		Hdr:      dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeHTTPS, Class: dns.ClassINET, Ttl: 60},
		Priority: 1, Target: ".",
		Value: []dns.SVCBKeyValue{&dns.SVCBAlpn{Alpn: []string{"h2"}}, &dns.SVCBIPv4Hint{Hint: []net.IP{net.IPv4(192, 0, 2, 1)}},
			&dns.SVCBIPv6Hint{Hint: []net.IP{net.ParseIP("2001:db8::1")}}},
	}})
	good, _ := r.Pack()
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Fuzz(func(t *testing.T, wire []byte) {
		m, err := ValidateReply(q, wire, MaxUDPReply)
		if err != nil {
			return
		}
		resp := newResponse(Server{}, m, exchangeMeta{size: len(wire)})
		hints := 0
		for _, rr := range m.Answer {
			if h, ok := rr.(*dns.HTTPS); ok {
				hints += len(svcbHints(h.Value))
			}
		}
		if len(resp.Addrs) > hints {
			t.Fatalf("%d addresses from %d hints", len(resp.Addrs), hints)
		}
		for _, a := range resp.Addrs {
			if !a.IsValid() {
				t.Fatalf("invalid address from %x", wire)
			}
		}
	})
}

// TestResponseAddrs: only addresses on the CNAME chain from the question
// answer it; the RRSIGs' signers are kept.
func TestResponseAddrs(t *testing.T) {
	q := query("login.corp.test.", dns.TypeA)
	r := new(dns.Msg)
	r.SetReply(q)
	hdr := func(name string, typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: 300}
	}
	r.Answer = []dns.RR{
		&dns.CNAME{Hdr: hdr("Login.Corp.Test.", dns.TypeCNAME), Target: "edge.corp.test."},
		&dns.A{Hdr: hdr("edge.corp.test.", dns.TypeA), A: net.IPv4(203, 0, 113, 30)},
		&dns.A{Hdr: hdr("elsewhere.example.", dns.TypeA), A: net.IPv4(203, 0, 113, 99)},
		&dns.RRSIG{Hdr: hdr("edge.corp.test.", dns.TypeRRSIG), TypeCovered: dns.TypeA, SignerName: "Corp.Test."},
		&dns.RRSIG{Hdr: hdr("login.corp.test.", dns.TypeRRSIG), TypeCovered: dns.TypeCNAME, SignerName: "corp.test."},
	}
	m, err := ValidateReply(q, packed(t, r), MaxUDPReply)
	if err != nil {
		t.Fatal(err)
	}
	resp := newResponse(Server{}, m, exchangeMeta{})
	if len(resp.Addrs) != 1 || resp.Addrs[0].String() != "203.0.113.30" {
		t.Errorf("Addrs %v, want only 203.0.113.30 (the chain's)", resp.Addrs)
	}
	if len(resp.Signers) != 1 || resp.Signers[0] != "corp.test." || !resp.HasRRSIG {
		t.Errorf("Signers %q HasRRSIG %v, want [corp.test.]", resp.Signers, resp.HasRRSIG)
	}
}
