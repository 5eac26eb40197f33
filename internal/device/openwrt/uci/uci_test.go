// SPDX-License-Identifier: Apache-2.0

package uci

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// flat renders parsed packages compactly for comparison:
// "pkg|type name|opt=v1,v2;list*=a,b".
func flat(pkgs []*Package) []string {
	var out []string
	for _, p := range pkgs {
		for _, s := range p.Sections {
			line := p.Name + "|" + s.Type + " " + s.Name + "|"
			var opts []string
			for _, o := range s.Options {
				n := o.Name
				if o.List {
					n += "*"
				}
				opts = append(opts, n+"="+strings.Join(o.Values, ","))
			}
			out = append(out, line+strings.Join(opts, ";"))
		}
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"quoting_styles", "config dhcp 'lan'\n\toption a 'x y'\n\toption b \"x y\"\n\toption c xy\n", []string{"|dhcp lan|a=x y;b=x y;c=xy"}},
		{"anonymous_section", "config dnsmasq\n\toption domain 'lan'\n", []string{"|dnsmasq |domain=lan"}},
		{"short_keywords", "c zone z\no name wan\nl network wan\n", []string{"|zone z|name=wan;network*=wan"}},
		{"list_appends", "config a x\n\tlist s '1'\n\tlist s '2'\n", []string{"|a x|s*=1,2"}},
		{"list_after_option_takes_it_as_first", "config a x\n\toption s '1'\n\tlist s '2'\n", []string{"|a x|s*=1,2"}},
		{"option_after_list_replaces_it", "config a x\n\tlist s '1'\n\toption s '2'\n", []string{"|a x|s=2"}},
		{"option_twice_keeps_last_in_place", "config a x\n\toption s 1\n\toption t 2\n\toption s 3\n", []string{"|a x|s=3;t=2"}},
		{"empty_value_removes", "config a x\n\toption s 1\n\toption t 2\n\toption s ''\n", []string{"|a x|t=2"}},
		{"option_without_value_removes", "config a x\n\toption s 1\n\toption s\n", []string{"|a x|"}},
		{"comments_and_blank_lines", "# head\n\nconfig a x # trailing\n\t#option s 1\n\toption t 2 # why\n", []string{"|a x|t=2"}},
		{"hash_inside_unquoted_word_ends_it", "config a x\n\toption s 127.0.0.1#5453\n", []string{"|a x|s=127.0.0.1"}},
		{"hash_inside_quotes_is_data", "config a x\n\tlist server '127.0.0.1#5453'\n", []string{"|a x|server*=127.0.0.1#5453"}},
		{"semicolon_separates", "config a x; option s 1; option t '2;3'\n", []string{"|a x|s=1;t=2;3"}},
		{"joined_quoted_parts", "config a x\n\toption s ab'c d'\"e\"f\n", []string{"|a x|s=abc def"}},
		{"backslash_escapes_outside_single_quotes", "config a x\n\toption s \"a\\\"b\"\n\toption t 'a\\b'\n\toption u a\\ b\n", []string{`|a x|s=a"b;t=a\b;u=a b`}},
		{"backslash_newline_continues", "config a x\n\toption s ab\\\ncd\n", []string{"|a x|s=abcd"}},
		{"quoted_value_spans_lines", "config a x\n\toption s 'a\nb'\n\toption t 1\n", []string{"|a x|s=a\nb;t=1"}},
		{"crlf_line_ends", "config a x\r\n\toption s '1'\r\n", []string{"|a x|s=1"}},
		{"tabs_and_trailing_blanks", "config zone\n\toption name\t\twan \t\n\toption input\t\tREJECT\t\t\t\n", []string{"|zone |name=wan;input=REJECT"}},
		{"named_section_reopened", "config a x\n\toption s 1\nconfig b y\nconfig a x\n\toption t 2\n", []string{"|a x|s=1;t=2", "|b y|"}},
		{"packages_of_uci_export", "package dhcp\n\nconfig dnsmasq\n\toption a '1'\n\npackage network\n\nconfig interface 'lan'\n", []string{"dhcp|dnsmasq |a=1", "network|interface lan|"}},
		{"empty_file", "", nil},
		{"type_may_hold_punctuation", "config wifi-iface 'default_radio0'\n", []string{"|wifi-iface default_radio0|"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, flat(pkgs)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"option_before_section", "option a b\n", 1, "before the first section"},
		{"unknown_statement", "config a x\n\tset s 1\n", 2, "invalid command"},
		{"quoted_keyword", "'config' a x\n", 1, "invalid command"},
		{"too_many_words", "config a x\n\toption s 1 2\n", 2, "too many arguments"},
		{"config_without_type", "config\n", 1, "insufficient arguments"},
		{"option_without_name", "config a x\n\toption\n", 2, "insufficient arguments"},
		{"bad_option_name", "config a x\n\toption s.t 1\n", 2, "invalid option name"},
		{"bad_section_name", "config a 'x y'\n", 1, "invalid section name"},
		{"bad_type", "config 'a b'\n", 1, "invalid section type"},
		{"reopened_with_other_type", "config a x\nconfig b x\n", 2, "reopened"},
		{"unterminated_single", "config a x\n\toption s 'abc\n", 3, "unterminated '"},
		{"unterminated_double", "config a x\n\toption s \"abc\\\"\n", 3, "unterminated \""},
		{"nul_byte", "config a x\n\toption s a\x00b\n", 2, "NUL"},
		{"package_twice", "package a\npackage a\n", 2, "appears twice"},
		{"bad_package_name", "package 'a.b'\n", 1, "invalid package name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %v, want a *SyntaxError", err)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error does not wrap ErrSyntax")
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse = line %d %q, want line %d containing %q", se.Line, se.Msg, tc.line, tc.msg)
			}
		})
	}
}

func TestParseBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		msg  string
	}{
		{"file_too_large", strings.Repeat("#", MaxFileSize+1), "more than"},
		{"too_many_sections", strings.Repeat("config a\n", MaxSections+1), "sections"},
		{"too_many_options", "config a x\n" + func() string {
			var b strings.Builder
			for i := range MaxOptions + 1 {
				b.WriteString("option o")
				b.WriteString(strings.Repeat("x", i%7))
				b.WriteString(string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)) + " 1\n")
			}
			return b.String()
		}(), "options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Parse = %v, want an error about %q", err, tc.msg)
			}
		})
	}
}

func TestSpans(t *testing.T) {
	in := "config interface 'wan'\n\toption password 'se cret'\n\tlist key \"a\" # c\n\toption x a'b'\n"
	pkgs, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := pkgs[0].Sections[0]
	for _, tc := range []struct{ opt, want string }{
		{"password", "'se cret'"},
		{"key", `"a"`},
		{"x", "a'b'"},
	} {
		sp := s.Option(tc.opt).Spans[0]
		if got := in[sp.Start:sp.End]; got != tc.want {
			t.Errorf("span of %s = %q, want %q", tc.opt, got, tc.want)
		}
	}
}

func TestPath(t *testing.T) {
	pkgs, err := Parse([]byte("config dnsmasq\nconfig dhcp 'lan'\nconfig host\nconfig host\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := pkgs[0]
	p.Name = "dhcp"
	var got []string
	for _, s := range p.Sections {
		got = append(got, p.Path(s))
	}
	want := []string{"dhcp.@dnsmasq[0]", "dhcp.lan", "dhcp.@host[0]", "dhcp.@host[1]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Path (-want +got):\n%s", diff)
	}
}

// samples returns the real OpenWrt UCI files of the shared data.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join(testutil.SharedData(t), "router-samples", "openwrt")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if !strings.Contains(e.Name(), "_etc-config-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	if len(out) != 17 {
		t.Fatalf("found %d UCI samples in %s, want the 17 SOURCES.md lists", len(out), dir)
	}
	return out
}

// TestRealSamplesParse: every real file parses, with as many config
// statements as the file has (counted by hand, commented ones excluded).
func TestRealSamplesParse(t *testing.T) {
	sections := map[string]int{
		"netgear-r6220_openwrt-2023_nazreinkaram_etc-config-dhcp":     16, // dnsmasq, odhcpd, 2 dhcp, 10 host, 2 domain
		"netgear-r6220_openwrt-2023_nazreinkaram_etc-config-dropbear": 1,
		"netgear-r6220_openwrt-2023_nazreinkaram_etc-config-firewall": 7, // defaults, 3 zone, 3 forwarding
		"netgear-r6220_openwrt-2023_nazreinkaram_etc-config-system":   3,
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-dhcp":          4,
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-dropbear":      1,
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-firewall":      22, // defaults, 4 zone, 3 forwarding, 10 rule, 1 redirect, 3 include
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-network":       10, // 4 interface, globals, switch, 4 switch_vlan
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-system":        2,
		"tl-wdr4300_openwrt14.07_katallaxie_etc-config-uhttpd":        2,
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-dhcp":      8,
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-dropbear":  1,
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-firewall":  15, // defaults, 3 zone, 3 forwarding, 6 rule, include, redirect
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-network":   8,  // 5 interface, globals, switch, switch_vlan
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-rpcd":      1,
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-system":    8, // system, timeserver, 6 led
		"tl-wr841nd_openwrt-trunk2015_annbigbig_etc-config-uhttpd":    2,
	}
	for name, b := range samples(t) {
		t.Run(name, func(t *testing.T) {
			pkgs, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(pkgs) != 1 {
				t.Fatalf("Parse gave %d packages, want 1", len(pkgs))
			}
			if got := len(pkgs[0].Sections); got != sections[name] {
				t.Errorf("%d sections, want %d", got, sections[name])
			}
		})
	}
}

// TestRealSampleValues checks values of the file with the oddest layout
// (tl-wdr4300 firewall: unquoted values, tab runs, trailing blanks,
// commented-out sections) against the file, read by hand.
func TestRealSampleValues(t *testing.T) {
	b := samples(t)["tl-wdr4300_openwrt14.07_katallaxie_etc-config-firewall"]
	pkgs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p := pkgs[0]
	p.Name = "firewall"
	get := func(s *Section, o string) string { v, _ := s.Get(o); return v }
	rules := p.OfType("rule")
	zones := p.OfType("zone")
	redirects := p.OfType("redirect")
	for _, tc := range []struct{ what, got, want string }{
		{"defaults disable_ipv6 (line 7)", get(p.OfType("defaults")[0], "disable_ipv6"), "1"},
		{"zone 1 name (line 18)", get(zones[1], "name"), "wan"},
		{"zone 1 input (line 21)", get(zones[1], "input"), "REJECT"},
		{"zone 2 network is an option (line 29)", get(zones[2], "network"), "voip"},
		{"zone 2 input lower case (line 30)", get(zones[2], "input"), "accept"},
		{"zone 3 network list (line 40)", get(zones[3], "network"), "vpn"},
		{"redirect src_dip (line 69)", get(redirects[0], "src_dip"), "!10.0.83.1"},
		{"redirect dest_ip with trailing tabs (line 71)", get(redirects[0], "dest_ip"), "10.0.83.1"},
		{"rule 1 name with spaces (line 78)", get(rules[1], "name"), "Dont rack NETBIOS Service"},
		{"Drop-HTTPS target before blank and tab (line 144)", get(rules[9], "target"), "DROP"},
		{"Drop-SSH dest_port (line 127)", get(rules[7], "dest_port"), "22"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.what, tc.got, tc.want)
		}
	}
	if n := len(rules); n != 10 {
		t.Errorf("%d rules, want 10 (7 commented-out ones excluded)", n)
	}
	if n := len(redirects); n != 1 {
		t.Errorf("%d redirects, want 1 (2 commented-out ones excluded)", n)
	}
}

func TestValuesRoundTrip(t *testing.T) {
	for name, b := range samples(t) {
		t.Run(name, func(t *testing.T) {
			pkgs, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			p := pkgs[0]
			p.Name = "x"
			for i, s := range p.Sections {
				if s.Anonymous {
					s.Name = "cfg" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				}
			}
			got, err := DecodeValues("x", EncodeValues(p))
			if err != nil {
				t.Fatalf("DecodeValues(EncodeValues): %v", err)
			}
			if diff := cmp.Diff(p, got, cmpopts.IgnoreFields(Option{}, "Spans"), cmpopts.IgnoreFields(Section{}, "Line")); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		err  string
	}{
		// Shape of rpcd uci.c rpc_uci_dump_section: the dotted members
		// first, strings and arrays of strings for options.
		{"index_orders_sections", `{"values":{"lan":{".anonymous":false,".type":"dhcp",".name":"lan",".index":1,"start":"100"},"cfg01e48a":{".anonymous":true,".type":"dnsmasq",".name":"cfg01e48a",".index":0,"server":["192.0.2.53"]}}}`,
			[]string{"x|dnsmasq cfg01e48a|server*=192.0.2.53", "x|dhcp lan|start=100"}, ""},
		{"without_index_reply_order", `{"values":{"b":{".type":"t"},"a":{".type":"t"}}}`, []string{"x|t b|", "x|t a|"}, ""},
		{"other_members_ignored", `{"other":[1,{"x":2}],"values":{}}`, nil, ""},
		{"empty_list", `{"values":{"a":{".type":"t","l":[]}}}`, []string{"x|t a|l*="}, ""},
		{"no_values", `{}`, nil, "no \"values\""},
		{"number_option", `{"values":{"a":{".type":"t","o":1}}}`, nil, "neither a string"},
		{"nested_list", `{"values":{"a":{".type":"t","o":[["x"]]}}}`, nil, "list \"o\""},
		{"missing_type", `{"values":{"a":{"o":"1"}}}`, nil, "no .type"},
		{"bad_option_name", `{"values":{"a":{".type":"t","o.p":"1"}}}`, nil, "invalid option name"},
		{"duplicate_section", `{"values":{"a":{".type":"t"},"a":{".type":"t"}}}`, nil, "twice"},
		{"trailing_data", `{"values":{}} {}`, nil, "after the reply"},
		{"not_json", `<html>`, nil, "invalid character"},
		{"truncated", `{"values":{"a":{".type":"t"`, nil, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodeValues("x", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("DecodeValues = %v, want an ErrSyntax containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, flat([]*Package{p})); diff != "" {
				t.Errorf("DecodeValues (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range samples(f) {
		f.Add(b)
	}
	f.Add([]byte("config a x; option s 'a\nb' # c\n\tlist l \"q\\\"\" \\\n"))
	f.Add([]byte("package p\nconfig a\npackage q\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		for _, p := range pkgs {
			for _, s := range p.Sections {
				if !ValidType(s.Type) || (!s.Anonymous && !ValidName(s.Name)) {
					t.Fatalf("accepted section %q %q", s.Type, s.Name)
				}
				for _, o := range s.Options {
					if !ValidName(o.Name) || len(o.Values) == 0 || len(o.Values) != len(o.Spans) {
						t.Fatalf("bad option %+v", o)
					}
					for _, sp := range o.Spans {
						if sp.Start < 0 || sp.End > len(b) || sp.Start > sp.End {
							t.Fatalf("span %v outside input of %d", sp, len(b))
						}
					}
				}
			}
		}
	})
}

func FuzzDecodeValues(f *testing.F) {
	for _, b := range samples(f) {
		if pkgs, err := Parse(b); err == nil {
			p := pkgs[0]
			for i, s := range p.Sections {
				if s.Anonymous {
					s.Name = "cfg" + string(rune('a'+i%26))
				}
			}
			f.Add(EncodeValues(p))
		}
	}
	f.Add([]byte(`{"values":{"a":{".type":"t",".index":"x"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeValues("x", b)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		// What decodes encodes and decodes to the same package.
		again, err := DecodeValues("x", EncodeValues(p))
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
