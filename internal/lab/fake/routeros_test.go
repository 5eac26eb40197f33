// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLengthEncoding checks each length class at its bounds against the
// encoding CONFIGS.md §3.1 gives.
func TestLengthEncoding(t *testing.T) {
	tests := []struct {
		name string
		n    uint32
		want string // hex
	}{
		{name: "zero", n: 0, want: "00"},
		{name: "one_byte_max", n: 0x7f, want: "7f"},
		{name: "two_bytes_min", n: 0x80, want: "8080"},
		{name: "two_bytes_max", n: 0x3fff, want: "bfff"},
		{name: "three_bytes_min", n: 0x4000, want: "c04000"},
		{name: "three_bytes_max", n: 0x1fffff, want: "dfffff"},
		{name: "four_bytes_min", n: 0x200000, want: "e0200000"},
		{name: "four_bytes_max", n: 0xfffffff, want: "efffffff"},
		{name: "five_bytes_min", n: 0x10000000, want: "f010000000"},
		{name: "five_bytes_max", n: 0xffffffff, want: "f0ffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendLength(nil, tt.n)
			if hex.EncodeToString(got) != tt.want {
				t.Errorf("AppendLength(%#x) = %x, want %s", tt.n, got, tt.want)
			}
			n, err := ReadLength(bufio.NewReader(bytes.NewReader(got)))
			if err != nil || n != tt.n {
				t.Errorf("ReadLength(%x) = %#x, %v; want %#x", got, n, err, tt.n)
			}
		})
	}
}

func TestReadSentence(t *testing.T) {
	long := strings.Repeat("x", 200) // a two-byte length
	tests := []struct {
		name    string
		in      []byte
		want    []string
		wantErr error
	}{
		{name: "login", in: EncodeSentence("/login", "=name=admin", "=password=admin"), want: []string{"/login", "=name=admin", "=password=admin"}},
		{name: "long_word", in: EncodeSentence("/x", long), want: []string{"/x", long}},
		{name: "empty_sentence", in: []byte{0}, want: nil},
		{name: "eof_before", in: nil, wantErr: io.EOF},
		{name: "eof_inside_word", in: []byte{5, 'a', 'b'}, wantErr: io.ErrUnexpectedEOF},
		{name: "eof_after_word", in: []byte{1, 'a'}, wantErr: io.ErrUnexpectedEOF},
		{name: "eof_inside_length", in: []byte{0x80}, wantErr: io.ErrUnexpectedEOF},
		{name: "control_byte", in: []byte{0xf8}, wantErr: ErrControlByte},
		{name: "reserved_f1", in: []byte{0xf1, 0, 0, 0, 0}, wantErr: ErrControlByte},
		{name: "word_too_long", in: AppendLength(nil, MaxWordLen+1), wantErr: ErrWordTooLong},
		{name: "too_many_words", in: bytes.Repeat([]byte{1, 'a'}, MaxSentenceWords+1), wantErr: ErrTooManyWords},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSentence(bufio.NewReader(bytes.NewReader(tt.in)))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && !slices.Equal(got, tt.want)) {
				t.Errorf("ReadSentence = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzReadSentence(f *testing.F) {
	f.Add(EncodeSentence("/login", "=name=admin", "=password=admin"))
	f.Add(EncodeSentence("!re", "=.id=*1", "=dns-server=203.0.113.66,198.51.100.53"))
	f.Add([]byte{0xf0, 0, 0, 0, 1, 'a', 0})
	f.Add([]byte{0xc0, 0x40, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for range 8 {
			words, err := ReadSentence(r)
			if err != nil {
				return
			}
			for _, w := range words {
				if len(w) == 0 || len(w) > MaxWordLen {
					t.Fatalf("word of %d bytes", len(w))
				}
			}
			again, err := ReadSentence(bufio.NewReader(bytes.NewReader(EncodeSentence(words...))))
			if err != nil || !slices.Equal(again, words) {
				t.Fatalf("re-encoded %q reads as %q, %v", words, again, err)
			}
		}
	})
}

func testRouterOSConfig() RouterOSConfig {
	return RouterOSConfig{
		Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, User: "admin", Password: "s3cret",
		DNSServers: []netip.Addr{netip.MustParseAddr("198.51.100.53")}, AllowRemoteRequests: true,
		Network: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.1"),
		Services: []RouterOSService{{Name: "telnet", Port: 23, Disabled: true}, {Name: "api", Port: 8728}},
		Resource: map[string]string{"version": "6.49.6 (long-term)", "board-name": "RB951Ui-2HnD"},
	}
}

// rosHarness runs a routerOS on loopback.
type rosHarness struct {
	ros  *routerOS
	dns  *fakeDnsmasq
	addr string
	logs *bytes.Buffer
}

func startRouterOS(t *testing.T) *rosHarness {
	t.Helper()
	dns := newFakeDnsmasq(t)
	cfg := testRouterOSConfig()
	cfg.DHCP = dns.cfg
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ros := newRouterOS(cfg, dns.dhcpServer, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = ros.accept(t.Context(), ln, make(chan struct{}, rosMaxConns), &wg) })
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return &rosHarness{ros: ros, dns: dns, addr: ln.Addr().String(), logs: &logs}
}

// rosConn is a test client.
type rosConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (h *rosHarness) dial(t *testing.T) *rosConn {
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rosConn{t: t, c: c, r: bufio.NewReader(c)}
}

// send sends a command and returns every reply sentence up to !done or
// !fatal.
func (c *rosConn) send(words ...string) [][]string {
	c.t.Helper()
	if _, err := c.c.Write(EncodeSentence(words...)); err != nil {
		c.t.Fatal(err)
	}
	var out [][]string
	for {
		s, err := ReadSentence(c.r)
		if err != nil {
			c.t.Fatalf("%s: %v after %q", words[0], err, out)
		}
		out = append(out, s)
		if s[0] == "!done" || s[0] == "!fatal" {
			return out
		}
	}
}

func TestRouterOSSession(t *testing.T) {
	h := startRouterOS(t)
	c := h.dial(t)
	tests := []struct {
		name  string
		words []string
		want  [][]string
	}{
		{name: "before_login", words: []string{"/ip/dns/print"},
			want: [][]string{{"!trap", "=message=not logged in"}, {"!done"}}},
		{name: "wrong_password", words: []string{"/login", "=name=admin", "=password=admin"},
			want: [][]string{{"!trap", "=message=invalid user name or password (6)"}, {"!done"}}},
		{name: "login", words: []string{"/login", "=name=admin", "=password=s3cret"}, want: [][]string{{"!done"}}},
		{name: "dhcp_network", words: []string{"/ip/dhcp-server/network/print"},
			want: [][]string{{"!re", "=.id=*1", "=address=10.77.0.0/24", "=gateway=10.77.0.1", "=dns-server=", "=comment=defconf"}, {"!done"}}},
		{name: "tag_and_proplist", words: []string{"/ip/dns/print", ".tag=7", "=.proplist=servers,allow-remote-requests"},
			want: [][]string{{"!re", ".tag=7", "=servers=198.51.100.53", "=allow-remote-requests=true"}, {"!done", ".tag=7"}}},
		{name: "query", words: []string{"/ip/service/print", "?name=api", ".proplist=name,port,disabled"},
			want: [][]string{{"!re", "=name=api", "=port=8728", "=disabled=false"}, {"!done"}}},
		{name: "resource", words: []string{"/system/resource/print", "=.proplist=board-name,version"},
			want: [][]string{{"!re", "=version=6.49.6 (long-term)", "=board-name=RB951Ui-2HnD"}, {"!done"}}},
		{name: "user", words: []string{"/user/print"},
			want: [][]string{{"!re", "=.id=*1", "=name=admin", "=group=full", "=address=", "=disabled=false"}, {"!done"}}},
		{name: "unknown_prefix", words: []string{"/interface/wireless/print"},
			want: [][]string{{"!trap", "=message=no such command prefix"}, {"!done"}}},
		{name: "unknown_verb", words: []string{"/ip/dns/remove"},
			want: [][]string{{"!trap", "=message=no such command"}, {"!done"}}},
		{name: "set_bad_value", words: []string{"/ip/dhcp-server/network/set", "=.id=*1", "=dns-server=evil.example"},
			want: [][]string{{"!trap", "=message=invalid value for argument dns-server"}, {"!done"}}},
		{name: "set_unknown_item", words: []string{"/ip/dhcp-server/network/set", "=.id=*2", "=dns-server=203.0.113.66"},
			want: [][]string{{"!trap", "=message=no such item"}, {"!done"}}},
		{name: "set_unknown_parameter", words: []string{"/ip/dhcp-server/network/set", "=.id=*1", "=netmask=8"},
			want: [][]string{{"!trap", "=message=unknown parameter netmask"}, {"!done"}}},
		{name: "set_dns_server", words: []string{"/ip/dhcp-server/network/set", "=.id=*1", "=dns-server=203.0.113.66,198.51.100.53"},
			want: [][]string{{"!done"}}},
		{name: "printed_after_set", words: []string{"/ip/dhcp-server/network/print", "=.proplist=dns-server"},
			want: [][]string{{"!re", "=dns-server=203.0.113.66,198.51.100.53"}, {"!done"}}},
		{name: "set_service_state_only", words: []string{"/ip/service/set", "=numbers=telnet", "=disabled=no"}, want: [][]string{{"!done"}}},
		{name: "service_printed", words: []string{"/ip/service/print", "?name=telnet", "=.proplist=disabled"},
			want: [][]string{{"!re", "=disabled=false"}, {"!done"}}},
		{name: "quit", words: []string{"/quit"}, want: [][]string{{"!fatal", "session terminated on request"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			got := c.send(tt.words...)
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("reply %q, want %q", got, tt.want)
			}
		})
	}
	want := OptsContent([]netip.Addr{netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.53")}, netip.Addr{})
	if got := h.dns.opts(t); got != want || h.dns.count() != 1 {
		t.Errorf("dnsmasq options %q after %d SIGHUPs, want %q after 1", got, h.dns.count(), want)
	}
	if _, err := ReadSentence(c.r); !errors.Is(err, io.EOF) {
		t.Errorf("after /quit: %v, want the connection closed", err)
	}
	if strings.Contains(h.logs.String(), "s3cret") {
		t.Error("the log holds the password")
	}
}

func TestRouterOSEmptyDNSIsTheRouter(t *testing.T) {
	h := startRouterOS(t)
	c := h.dial(t)
	c.send("/login", "=name=admin", "=password=s3cret")
	c.send("/ip/dhcp-server/network/set", "=numbers=0", "=dns-server=203.0.113.66")
	if got := c.send("/ip/dhcp-server/network/set", "=.id=*1", "=dns-server="); got[0][0] != "!done" {
		t.Fatalf("set dns-server= : %q", got)
	}
	if got, want := h.dns.opts(t), OptsContent(nil, netip.MustParseAddr("10.77.0.1")); got != want {
		t.Errorf("options %q, want %q (the router itself)", got, want)
	}
	h.dns.mu.Lock()
	h.dns.fail = errors.New("gone")
	h.dns.mu.Unlock()
	got := c.send("/ip/dhcp-server/network/set", "=.id=*1", "=dns-server=203.0.113.68")
	if got[0][0] != "!trap" {
		t.Errorf("a set dnsmasq did not take answered %q, want !trap", got)
	}
	if p := c.send("/ip/dhcp-server/network/print", "=.proplist=dns-server"); !slices.Equal(p[0], []string{"!re", "=dns-server="}) {
		t.Errorf("after a failed set: %q, want the old value", p)
	}
}

func TestRouterOSGarbageClosesConnection(t *testing.T) {
	h := startRouterOS(t)
	c := h.dial(t)
	if _, err := c.c.Write([]byte{0xf8, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after a control byte: %v, want the connection closed", err)
	}
	// The server still serves others.
	c2 := h.dial(t)
	if got := c2.send("/login", "=name=admin", "=password=s3cret"); got[0][0] != "!done" {
		t.Errorf("login after another client's garbage: %q", got)
	}
}
