// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// The fakes run end to end in the lab (internal/lab TestScenarioExpectations,
// scenarios hostile-dns and hostile); these tests cover their pieces.

func testDNSConfig() DNSConfig {
	return DNSConfig{
		Listen:    netip.MustParseAddrPort("127.0.0.1:53"),
		SpoofFrom: netip.MustParseAddrPort("127.0.0.2:53"),
		Answer:    netip.MustParseAddr("203.0.113.99"),
		Default:   DNSMalformed,
		Names:     map[string]DNSBehavior{"slow.hostile.test": DNSSlow, "hostile.test": DNSServfail},
	}
}

func TestDNSBehaviorByName(t *testing.T) {
	c := testDNSConfig()
	tests := []struct {
		name string
		in   string
		want DNSBehavior
	}{
		{name: "exact", in: "slow.hostile.test.", want: DNSSlow},
		{name: "case_and_no_dot", in: "SLOW.Hostile.Test", want: DNSSlow},
		{name: "subdomain_of_longest_rule", in: "a.slow.hostile.test.", want: DNSSlow},
		{name: "subdomain_of_parent_rule", in: "other.hostile.test.", want: DNSServfail},
		{name: "default", in: "outlook.office365.com.", want: DNSMalformed},
		{name: "unparsed_query", in: "", want: DNSMalformed},
		{name: "suffix_is_not_a_subdomain", in: "nothostile.test.", want: DNSMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Behavior(tt.in); got != tt.want {
				t.Errorf("Behavior(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestDNSReplies builds every behaviour's reply and checks it on the wire.
func TestDNSReplies(t *testing.T) {
	s := &dnsServer{c: testDNSConfig()}
	q := new(dns.Msg)
	q.SetQuestion("x.hostile.test.", dns.TypeA)
	answer := []netip.Addr{netip.MustParseAddr("203.0.113.99")}
	for _, b := range DNSBehaviors() {
		t.Run(string(b), func(t *testing.T) {
			pkt, send := s.reply(q, b)
			if b == DNSSilent {
				if send {
					t.Error("silent sends a reply")
				}
				return
			}
			if !send {
				t.Fatal("no reply")
			}
			r := new(dns.Msg)
			err := r.Unpack(pkt)
			addrs := func() []netip.Addr {
				var out []netip.Addr
				for _, rr := range r.Answer {
					if a, ok := rr.(*dns.A); ok {
						ad, _ := netip.AddrFromSlice(a.A)
						out = append(out, ad.Unmap())
					}
				}
				return out
			}
			ok := true
			switch b {
			case DNSMalformed, DNSPointerLoop:
				ok = err != nil && binary.BigEndian.Uint16(pkt) == q.Id
			case DNSGarbage:
				ok = len(pkt) >= 12 && len(pkt) <= 512
			case DNSEmpty:
				ok = len(pkt) == 0
			case DNSTruncated:
				ok = err == nil && r.Truncated && len(r.Answer) == 0
			case DNSMismatchedID:
				ok = err == nil && r.Id != q.Id && len(r.Answer) == 1
			case DNSOversized:
				ok = err == nil && !r.Truncated && len(r.Answer) == OversizedRecords && len(pkt) > 60000 && len(pkt) <= 65535
			case DNSWrongQuestion:
				ok = err == nil && r.Id == q.Id && r.Question[0].Name == WrongQuestionName
			case DNSCNAMELoop:
				ok = err == nil && len(r.Answer) == 2 && r.Answer[1].(*dns.CNAME).Target == q.Question[0].Name
			case DNSServfail:
				ok = err == nil && r.Rcode == dns.RcodeServerFailure
			case DNSSlow, DNSSpoofedSource:
				ok = err == nil && r.Id == q.Id && len(addrs()) == 1 && addrs()[0] == answer[0]
			}
			if !ok {
				t.Errorf("%s: reply %d bytes, unpack %v: %v", b, len(pkt), err, r)
			}
		})
	}
}

// TestDNSServe runs the resolver on loopback: the right reply reaches an
// ordinary client, a spoofed one does not (it comes from another address),
// and serve returns once the context ends.
func TestDNSServe(t *testing.T) {
	c := testDNSConfig()
	c.Listen = netip.MustParseAddrPort("127.0.0.1:0")
	c.SpoofFrom = netip.MustParseAddrPort("127.0.0.1:0")
	c.Names = map[string]DNSBehavior{"servfail.example": DNSServfail, "spoofed.example": DNSSpoofedSource}
	s, err := listenDNS(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx) }()
	server := s.conn.LocalAddr().String()
	cl := &dns.Client{Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("servfail.example.", dns.TypeA)
	if r, _, err := cl.ExchangeContext(t.Context(), m, server); err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Errorf("servfail.example: %v, %v; want SERVFAIL", r, err)
	}
	m.SetQuestion("spoofed.example.", dns.TypeA)
	if r, _, err := cl.ExchangeContext(t.Context(), m, server); err == nil {
		t.Errorf("spoofed.example: %v, want a timeout (the reply comes from another port)", r)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve = %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"listen":"127.0.0.1:53","bogus":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.json")
	if err := os.WriteFile(invalid, []byte(`{"addr":"10.77.0.1","tcp":{"22":"ssdp"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A valid configuration followed by a stray "]": the old decoder
	// (json.Decoder.More) took the "]" for the end of the input and
	// started the fake.
	trailing := filepath.Join(dir, "trailing.json")
	if err := os.WriteFile(trailing, []byte(`{"addr":"10.77.0.1","tcp":{"22":"garbage"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kind Kind
		file string
		want error
	}{
		{name: "unknown_kind", kind: "toaster", file: bad, want: ErrUnknownKind},
		{name: "trailing_bracket", kind: KindDevice, file: trailing, want: ErrConfig},
		{name: "missing_file", kind: KindDNS, file: filepath.Join(dir, "nope.json"), want: ErrConfig},
		{name: "unknown_field", kind: KindDNS, file: bad, want: ErrConfig},
		{name: "invalid_device", kind: KindDevice, file: invalid, want: ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Bounded: a configuration wrongly accepted would run the fake
			// until the context ends.
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if err := Run(ctx, tt.kind, tt.file, io.Discard); !errors.Is(err, tt.want) {
				t.Errorf("Run = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeviceConfigValidate(t *testing.T) {
	good := DeviceConfig{
		Addr: netip.MustParseAddr("10.77.0.1"),
		TCP:  map[uint16]DeviceBehavior{80: DevicePaths, 22: DeviceGarbage},
		UDP:  map[uint16]DeviceBehavior{1900: DeviceSSDP},
		HTTP: map[string]DeviceBehavior{"/rootDesc.xml": DeviceBillionLaughs},
		SSDP: []string{"80/rootDesc.xml"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *DeviceConfig)
		want   string
	}{
		{name: "no_addr", change: func(c *DeviceConfig) { c.Addr = netip.Addr{} }, want: "addr"},
		{name: "udp_behavior_on_tcp", change: func(c *DeviceConfig) { c.TCP[1900] = DeviceSSDP }, want: "tcp 1900"},
		{name: "ssdp_elsewhere", change: func(c *DeviceConfig) { c.UDP[1901] = DeviceSSDP }, want: "port 1900"},
		{name: "relative_path", change: func(c *DeviceConfig) { c.HTTP["x"] = DeviceDrip }, want: "not an absolute path"},
		{name: "ssdp_not_paths_port", change: func(c *DeviceConfig) { c.SSDP = []string{"22/rootDesc.xml"} }, want: "not a paths port"},
		{name: "ssdp_unknown_path", change: func(c *DeviceConfig) { c.SSDP = []string{"80/nope.xml"} }, want: "not in http"},
		{name: "ssdp_bad_location", change: func(c *DeviceConfig) { c.SSDP = []string{"eighty/x"} }, want: "want PORT/PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.TCP = map[uint16]DeviceBehavior{80: DevicePaths, 22: DeviceGarbage}
			c.UDP = map[uint16]DeviceBehavior{1900: DeviceSSDP}
			c.HTTP = map[string]DeviceBehavior{"/rootDesc.xml": DeviceBillionLaughs}
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestHTTPBehaviors serves each HTTP behaviour (except drip, which takes
// seconds per byte) over a pipe and parses the answer as a client would.
func TestHTTPBehaviors(t *testing.T) {
	for _, b := range HTTPBehaviors() {
		if b == DeviceDrip {
			continue
		}
		t.Run(string(b), func(t *testing.T) {
			srv, cli := net.Pipe()
			go func() {
				defer srv.Close()
				serveHTTP(srv, "/x", b)
			}()
			defer cli.Close()
			resp, err := http.ReadResponse(bufio.NewReader(cli), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			switch b {
			case DeviceHeaders100k:
				ok = resp.StatusCode == 200 && len(resp.Header) >= ManyHeaders
			case DeviceRedirectLoop:
				ok = resp.StatusCode == 302 && resp.Header.Get("Location") == "/x"
			case DeviceInvalidUTF8:
				ok = resp.StatusCode == 401 && !utf8.Valid(body) && !utf8.ValidString(resp.Header.Get("Server"))
			case DeviceBig50MB:
				ok = resp.StatusCode == 200 && len(body) == BigBodyBytes && bytes.HasSuffix(body, []byte("</root>\n"))
			case DeviceBillionLaughs:
				ok = resp.StatusCode == 200 && bytes.Count(body, []byte("<!ENTITY")) == 10
			}
			if !ok {
				t.Errorf("%s: %s, %d headers, %d bytes", b, resp.Status, len(resp.Header), len(body))
			}
		})
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "get", in: "GET /rootDesc.xml HTTP/1.1\r\nHost: x\r\n\r\n", want: "/rootDesc.xml", ok: true},
		{name: "query_dropped", in: "GET /a?b=c HTTP/1.1\r\n\r\n", want: "/a", ok: true},
		{name: "not_http", in: "\xff\xfe\r\n\r\n", want: "/", ok: true},
		{name: "partial_head", in: "GET /x HTTP/1.1\r\nHost", want: "/x", ok: true},
		{name: "nothing", in: "", want: "/", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli := net.Pipe()
			go func() {
				_, _ = io.WriteString(cli, tt.in)
				cli.Close()
			}()
			got, ok := readRequest(srv)
			if got != tt.want || ok != tt.ok {
				t.Errorf("readRequest(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFillGarbage(t *testing.T) {
	b := make([]byte, 4096)
	fillGarbage(b)
	if b[0] != 0xff || utf8.Valid(b) || bytes.ContainsAny(b, "\r\n") {
		t.Errorf("garbage starts %x, valid UTF-8 %v, has a line end %v", b[:4], utf8.Valid(b), bytes.ContainsAny(b, "\r\n"))
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		srv, cli := net.Pipe()
		go func() {
			_, _ = cli.Write(b)
			cli.Close()
		}()
		path, _ := readRequest(srv)
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "? \r\n") {
			t.Errorf("readRequest(%q) path = %q", b, path)
		}
	})
}
