// SPDX-License-Identifier: Apache-2.0

package snmpprobe_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
	"github.com/routerwatch/routerwatch/internal/probe/snmpprobe"
)

var addr = netip.MustParseAddr("127.0.0.1")

// agent answers GETs for the communities it knows, like net-snmp with
// the lab's snmpd.conf (sysDescr from a recog example).
func agent(communities []string, mangle func(*gosnmp.SnmpPacket)) func([]byte, netip.AddrPort) [][]byte {
	return func(req []byte, _ netip.AddrPort) [][]byte {
		for _, comm := range communities {
			g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: comm}
			pkt, err := g.SnmpDecodePacket(req)
			if err != nil || pkt.Community != comm || pkt.PDUType != gosnmp.GetRequest {
				continue
			}
			pkt.PDUType = gosnmp.GetResponse
			pkt.Variables = []gosnmp.SnmpPDU{
				{Name: "." + snmpprobe.OIDSysDescr, Type: gosnmp.OctetString, Value: []byte("RouterOS RB951Ui-2HnD")},
				{Name: "." + snmpprobe.OIDSysObjectID, Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.14988.1"},
				{Name: "." + snmpprobe.OIDSysName, Type: gosnmp.OctetString, Value: []byte("MikroTik")},
			}
			if mangle != nil {
				mangle(pkt)
			}
			b, err := pkt.MarshalMsg()
			if err != nil {
				return nil
			}
			return [][]byte{b}
		}
		return nil
	}
}

func TestMeasure(t *testing.T) {
	routeros := snmpprobe.Community{Name: "public", Answered: true, SysDescr: "RouterOS RB951Ui-2HnD", SysObjectID: "1.3.6.1.4.1.14988.1", SysName: "MikroTik"}
	tests := []struct {
		name        string
		reply       func([]byte, netip.AddrPort) [][]byte
		closed      bool
		communities []string
		want        []snmpprobe.Community // without Exchange
		wantErr     netx.Status
	}{
		{
			name:  "public_answers_private_silent",
			reply: agent([]string{"public"}, nil),
			want:  []snmpprobe.Community{routeros, {Name: "private"}},
		},
		{
			name:  "both_answer",
			reply: agent([]string{"public", "private"}, nil),
			want:  []snmpprobe.Community{routeros, func() snmpprobe.Community { c := routeros; c.Name = "private"; return c }()},
		},
		{
			name:        "configured_community_not_recorded",
			reply:       agent([]string{"s3cret"}, nil),
			communities: []string{"s3cret"},
			want:        []snmpprobe.Community{func() snmpprobe.Community { c := routeros; c.Name = "configured-1"; return c }()},
		},
		{
			name: "error_status_kept",
			reply: agent([]string{"public"}, func(p *gosnmp.SnmpPacket) {
				p.Error = gosnmp.NoSuchName
				p.Variables = p.Variables[:1]
			}),
			communities: []string{"public"},
			want:        []snmpprobe.Community{{Name: "public", Answered: true, ErrorStatus: "NoSuchName", SysDescr: "RouterOS RB951Ui-2HnD"}},
		},
		{
			name:        "reply_to_another_request_ignored",
			reply:       agent([]string{"public"}, func(p *gosnmp.SnmpPacket) { p.RequestID++ }),
			communities: []string{"public"},
			want:        []snmpprobe.Community{{Name: "public"}},
			wantErr:     netx.StatusProtocol,
		},
		{
			name:        "garbage",
			reply:       func([]byte, netip.AddrPort) [][]byte { return [][]byte{probetest.GarbageBytes(300)} },
			communities: []string{"public"},
			want:        []snmpprobe.Community{{Name: "public"}},
			wantErr:     netx.StatusProtocol,
		},
		{
			name:        "no_agent",
			closed:      true,
			communities: []string{"public"},
			want:        []snmpprobe.Community{{Name: "public"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var port uint16
			if tc.closed {
				port = probetest.ClosedUDPPort(t, addr)
			} else {
				port = probetest.ServeUDP(t, addr, tc.reply)
			}
			p := &snmpprobe.Prober{Port: port, Communities: tc.communities}
			if p.Communities == nil {
				p.Communities = slices.Clone(snmpprobe.DefaultCommunities)
			}
			obs, err := p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
			if got := probe.Classify(err); got != tc.wantErr && !(tc.wantErr == "" && err == nil) {
				t.Errorf("Measure error %v (%s), want %q", err, got, tc.wantErr)
			}
			var got []snmpprobe.Community
			for _, c := range obs.Communities {
				c.Exchange = probe.Exchange{}
				got = append(got, c)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("communities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvidenceOncePerValue(t *testing.T) {
	obs := &snmpprobe.Observation{Addr: addr, Port: 161, Communities: []snmpprobe.Community{
		{Name: "public", Answered: true, SysDescr: "RouterOS RB951Ui-2HnD", SysObjectID: "1.3.6.1.4.1.14988.1"},
		{Name: "private", Answered: true, SysDescr: "RouterOS RB951Ui-2HnD", SysObjectID: "1.3.6.1.4.1.14988.1"},
	}}
	want := []probe.Evidence{
		{Probe: "snmp", Field: probe.FieldSNMPSysDescr, Value: "RouterOS RB951Ui-2HnD", Where: "127.0.0.1:161", Group: "127.0.0.1:161"},
		{Probe: "snmp", Field: probe.FieldSNMPSysObjectID, Value: "1.3.6.1.4.1.14988.1", Where: "127.0.0.1:161", Group: "127.0.0.1:161"},
	}
	if diff := cmp.Diff(want, obs.Evidence()); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	req, err := snmpprobe.Encode("public", 7)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(req)
	for _, r := range agent([]string{"public"}, func(p *gosnmp.SnmpPacket) { p.RequestID = 7 })(req, netip.AddrPort{}) {
		f.Add(r)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := snmpprobe.Decode(b, "public", 7)
		if err == nil && len(r.SysDescr) > 1024 {
			t.Fatalf("sysDescr of %d bytes", len(r.SysDescr))
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	req, _ := snmpprobe.Encode("public", 7)
	resp := agent([]string{"public"}, func(p *gosnmp.SnmpPacket) { p.RequestID = 7 })(req, netip.AddrPort{})[0]
	for b.Loop() {
		if _, err := snmpprobe.Decode(resp, "public", 7); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSettleAfterAnswer: once the agent answered "public", its silence
// for "private" is judged within a few round trips, not after two full
// 1.5 s waits (3 s that every check of a LAN router spent waiting). A
// silent agent still gets the full waits: nothing has shown how fast it
// is.
func TestSettleAfterAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		reply       func([]byte, netip.AddrPort) [][]byte
		below, over time.Duration
	}{
		{"public_answered", agent([]string{"public"}, nil), time.Second, 0},
		{"silent_agent", func([]byte, netip.AddrPort) [][]byte { return nil }, 0, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := probetest.ServeUDP(t, addr, tc.reply)
			p := &snmpprobe.Prober{Port: port, Communities: slices.Clone(snmpprobe.DefaultCommunities)}
			obs, _ := p.Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
			private := time.Duration(obs.Communities[1].Elapsed)
			if obs.Communities[1].Answered {
				t.Fatal("private answered")
			}
			if tc.below > 0 && private >= tc.below {
				t.Errorf("private waited %v after public answered, want under %v", private, tc.below)
			}
			if tc.over > 0 && private < tc.over {
				t.Errorf("private waited only %v on a silent agent, want the full waits (over %v)", private, tc.over)
			}
		})
	}
}
