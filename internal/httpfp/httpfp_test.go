// SPDX-License-Identifier: Apache-2.0

package httpfp_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/httpfp"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []httpfp.Challenge
	}{
		{name: "tplink_legacy", in: `Basic realm="TP-LINK Wireless N Router WR841N"`,
			want: []httpfp.Challenge{{Scheme: "Basic", Realm: "TP-LINK Wireless N Router WR841N"}}},
		{name: "lighttpd_charset", in: `Basic realm="TP-LINK Wireless N Router WR841N", charset="UTF-8"`,
			want: []httpfp.Challenge{{Scheme: "Basic", Realm: "TP-LINK Wireless N Router WR841N"}}},
		{name: "digest_then_basic", in: `Digest realm="a", nonce="n, with comma", qop="auth", Basic realm="b"`,
			want: []httpfp.Challenge{{Scheme: "Digest", Realm: "a"}, {Scheme: "Basic", Realm: "b"}}},
		{name: "escaped_quote", in: `Basic realm="say \"hi\""`,
			want: []httpfp.Challenge{{Scheme: "Basic", Realm: `say "hi"`}}},
		{name: "unquoted_realm", in: `Basic realm=router`,
			want: []httpfp.Challenge{{Scheme: "Basic", Realm: "router"}}},
		{name: "unterminated", in: `Basic realm="open`,
			want: []httpfp.Challenge{{Scheme: "Basic", Realm: "open"}}},
		{name: "token68", in: `Negotiate abc==, Basic realm="x"`,
			want: []httpfp.Challenge{{Scheme: "Negotiate"}, {Scheme: "Basic", Realm: "x"}}},
		{name: "no_realm", in: `Bearer`, want: []httpfp.Challenge{{Scheme: "Bearer"}}},
		{name: "empty", in: ``, want: nil},
		{name: "junk", in: `"""""`, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, httpfp.ParseChallenges(tc.in)); diff != "" {
				t.Errorf("ParseChallenges(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "tplink_upper", in: "<HTML>\n<HEAD><TITLE>TL-WR841N</TITLE>", want: "TL-WR841N"},
		{name: "attributes", in: `<title lang="en">  Router
			Login </title>`, want: "Router Login"},
		{name: "entities", in: "<title>AT&amp;T &#8211; Gateway</title>", want: "AT&T – Gateway"},
		{name: "latin1", in: "<title>Caf\xe9</title>", want: "Café"},
		{name: "not_a_title_tag", in: "<titles>x</titles><title>y</title>", want: "y"},
		{name: "unterminated", in: "<title>abc", want: "abc"},
		{name: "none", in: "<html></html>", want: ""},
		{name: "control_chars", in: "<title>a\x00b\x07c</title>", want: "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpfp.Title([]byte(tc.in)); got != tc.want {
				t.Errorf("Title(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFaviconHashes(t *testing.T) {
	// Expected values from an independent MurmurHash3 over Python's
	// base64.encodebytes output, and from md5sum.
	data := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 3)
	md5hex, mmh3 := httpfp.FaviconHashes(data)
	if md5hex != "e6899eaaf06fd702f3ed3f988eb19362" || mmh3 != 1836528006 {
		t.Errorf("FaviconHashes = %s, %d; want e6899eaaf06fd702f3ed3f988eb19362, 1836528006", md5hex, mmh3)
	}
	if _, h := httpfp.FaviconHashes(nil); h != 0 {
		t.Errorf("empty favicon hash %d, want 0", h)
	}
}

func TestFromHTTP(t *testing.T) {
	h := http.Header{}
	h.Set("Server", "Router Webserver")
	h.Add("WWW-Authenticate", `Basic realm="TP-LINK Wireless N Router WR841N"`)
	h.Set("Content-Type", "text/html")
	h.Set("X-Bad", "caf\xe9")
	for i := range 100 {
		h.Set("X-Many-"+strings.Repeat("a", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26)), "v")
	}
	resp := &http.Response{StatusCode: 401, Proto: "HTTP/1.1", Header: h}
	got := httpfp.FromHTTP(resp, []byte("<title>x</title>"), false)
	if got.Server != "Router Webserver" || got.Realm() != "TP-LINK Wireless N Router WR841N" || got.Title != "x" {
		t.Errorf("FromHTTP = server %q realm %q title %q", got.Server, got.Realm(), got.Title)
	}
	if len(got.Headers) != 64 {
		t.Errorf("kept %d headers, want the cap of 64", len(got.Headers))
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "utf8", in: "Café", want: "Café"},
		{name: "latin1", in: "Caf\xe9", want: "Café"},
		{name: "cut", in: strings.Repeat("a", 10), want: "aaaa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpfp.Text([]byte(tc.in), 4+len(tc.in)*boolInt(tc.name != "cut")); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{`Basic realm="TP-LINK Wireless N Router WR841N", charset="UTF-8"`, `Digest realm="a", nonce="b", Basic realm="c"`, `Negotiate abc==`, `Basic realm="\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs := httpfp.ParseChallenges(s)
		if len(cs) > 8 {
			t.Fatalf("%d challenges, cap is 8", len(cs))
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", s)
			}
		}
	})
}

func FuzzTitle(f *testing.F) {
	for _, s := range []string{"<HTML>\n<HEAD><TITLE>TL-WR841N</TITLE>", "<title>a&amp;b</title>", "<title", "<TiTlE >\xff\xfe</title"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := httpfp.Title(b)
		if len(got) > 512 {
			t.Fatalf("title of %d bytes, cap is 512", len(got))
		}
		if !strings.EqualFold(got, strings.ToValidUTF8(got, "")) {
			t.Fatalf("title %q is not valid UTF-8", got)
		}
	})
}

func BenchmarkTitle(b *testing.B) {
	page := []byte(strings.Repeat("<script>var a = 1;</script>\n", 500) + "<HEAD><TITLE>TL-WR841N</TITLE></HEAD>")
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if httpfp.Title(page) != "TL-WR841N" {
			b.Fatal("title not found")
		}
	}
}

func BenchmarkParseChallenges(b *testing.B) {
	for b.Loop() {
		httpfp.ParseChallenges(`Digest realm="a", nonce="abcdef", qop="auth", Basic realm="TP-LINK Wireless N Router WR841N", charset="UTF-8"`)
	}
}
