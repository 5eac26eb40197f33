// SPDX-License-Identifier: Apache-2.0

package mikrotikprobe_test

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/mikrotikprobe"
	"github.com/routerwatch/routerwatch/internal/probe/probetest"
)

var addr = netip.MustParseAddr("127.0.0.1")

// routerOS plays the API: it reads one sentence and, if it is /quit,
// answers as RouterOS does (brief/CONFIGS.md §3.1; public API analyses).
// Any other command gets "!fatal not logged in".
func routerOS(c net.Conn) {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	words, err := mikrotikprobe.ReadSentence(c, 16, 4096)
	if err != nil {
		return
	}
	if len(words) == 1 && words[0] == "/quit" {
		c.Write(mikrotikprobe.EncodeSentence("!fatal", "session terminated on request"))
		return
	}
	c.Write(mikrotikprobe.EncodeSentence("!fatal", "not logged in"))
}

func TestMeasure(t *testing.T) {
	cert := probetest.SelfSignedCert(t, "MikroTik", addr)
	tests := []struct {
		name    string
		prober  func(*testing.T) *mikrotikprobe.Prober
		wantErr netx.Status
		check   func(*testing.T, *mikrotikprobe.Observation)
	}{
		{
			name: "routeros_all_open",
			prober: func(t *testing.T) *mikrotikprobe.Prober {
				return &mikrotikprobe.Prober{
					WinboxPort: probetest.ServeTCP(t, addr, func(net.Conn) {}),
					APIPort:    probetest.ServeTCP(t, addr, routerOS),
					APISSLPort: probetest.ServeTLS(t, addr, cert, routerOS),
				}
			},
			check: func(t *testing.T, o *mikrotikprobe.Observation) {
				if !o.Winbox.Open || !o.API.RouterOS || !o.APISSL.RouterOS || o.APISSL.TLS.Certificate.Subject != "CN=MikroTik" {
					t.Errorf("observation winbox %+v api %+v api-ssl %+v", o.Winbox, o.API, o.APISSL)
				}
				want := []string{"!fatal", "session terminated on request"}
				if diff := cmp.Diff(want, o.API.Reply); diff != "" {
					t.Errorf("reply (-want +got):\n%s", diff)
				}
				ev := o.Evidence()
				if len(ev) != 4 || ev[0].Field != probe.FieldMikroTikAPI || ev[0].Value != "!fatal session terminated on request" {
					t.Errorf("evidence %+v", ev)
				}
			},
		},
		{
			name: "all_closed",
			prober: func(t *testing.T) *mikrotikprobe.Prober {
				return &mikrotikprobe.Prober{WinboxPort: probetest.ClosedPort(t, addr), APIPort: probetest.ClosedPort(t, addr), APISSLPort: probetest.ClosedPort(t, addr)}
			},
			check: func(t *testing.T, o *mikrotikprobe.Observation) {
				for _, p := range []*mikrotikprobe.Port{o.Winbox, o.API, o.APISSL} {
					if p.Open || p.Status != netx.StatusRefused {
						t.Errorf("port %+v", p)
					}
				}
			},
		},
		{
			name: "api_port_speaks_http",
			prober: func(t *testing.T) *mikrotikprobe.Prober {
				return &mikrotikprobe.Prober{APIPort: probetest.ServeTCP(t, addr, func(c net.Conn) {
					c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
				})}
			},
			wantErr: netx.StatusProtocol,
			check: func(t *testing.T, o *mikrotikprobe.Observation) {
				if !o.API.Open || o.API.RouterOS {
					t.Errorf("api %+v", o.API)
				}
			},
		},
		{
			name: "api_ssl_plain_tcp",
			prober: func(t *testing.T) *mikrotikprobe.Prober {
				return &mikrotikprobe.Prober{APISSLPort: probetest.ServeTCP(t, addr, probetest.Garbage(2048))}
			},
			wantErr: netx.StatusProtocol,
			check: func(t *testing.T, o *mikrotikprobe.Observation) {
				if !o.APISSL.Open || o.APISSL.TLS != nil {
					t.Errorf("api-ssl %+v", o.APISSL)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := tc.prober(t).Measure(t.Context(), probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
			if got := probe.Classify(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && got != tc.wantErr) {
				t.Errorf("Measure error %v (%s), want %q", err, got, tc.wantErr)
			}
			tc.check(t, obs)
		})
	}
}

func TestSlowDrip(t *testing.T) {
	p := &mikrotikprobe.Prober{APIPort: probetest.ServeTCP(t, addr, probetest.SlowDrip([]byte{0x06, '!', 'f', 'a', 't', 'a', 'l', 0}, time.Second))}
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Measure(ctx, probetest.Dialer(t, netx.Options{}, addr), probe.Target{Addr: addr})
	if time.Since(start) > 2500*time.Millisecond || probe.Classify(err) != netx.StatusTimeout {
		t.Errorf("slow drip: %v after %v", err, time.Since(start))
	}
}

func TestSentenceRoundTrip(t *testing.T) {
	// A zero-length word ends a sentence, so words are never empty.
	for _, n := range []int{1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000} {
		w := strings.Repeat("a", n)
		b := mikrotikprobe.EncodeSentence("!re", w)
		got, err := mikrotikprobe.ReadSentence(bytes.NewReader(b), 4, 1<<23)
		if err != nil || len(got) != 2 || len(got[1]) != n {
			t.Errorf("length %d: %d words, err %v", n, len(got), err)
		}
	}
}

func TestReadSentenceRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "control_byte", in: []byte{0xf8}},
		{name: "too_many_words", in: bytes.Repeat([]byte{1, 'a'}, 20)},
		{name: "word_too_long", in: []byte{0xe0, 0xff, 0xff, 0xff}},
		{name: "cut", in: []byte{5, 'a', 'b'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := mikrotikprobe.ReadSentence(bytes.NewReader(tc.in), 8, 8192); probe.Classify(err) != netx.StatusProtocol {
				t.Errorf("ReadSentence(% x) error %v, want a protocol error", tc.in, err)
			}
		})
	}
}

func FuzzReadSentence(f *testing.F) {
	f.Add(mikrotikprobe.EncodeSentence("!fatal", "session terminated on request"))
	f.Add([]byte{0xf0, 0, 0, 0, 1, 'x', 0})
	f.Add([]byte{0x81, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		words, _ := mikrotikprobe.ReadSentence(bytes.NewReader(b), 8, 8192)
		total := 0
		for _, w := range words {
			total += len(w)
		}
		if len(words) > 8 || total > 8192*2 {
			t.Fatalf("%d words, %d bytes", len(words), total)
		}
	})
}

func BenchmarkReadSentence(b *testing.B) {
	in := mikrotikprobe.EncodeSentence("!fatal", "session terminated on request")
	for b.Loop() {
		mikrotikprobe.ReadSentence(bytes.NewReader(in), 8, 8192)
	}
}
