// SPDX-License-Identifier: Apache-2.0

package httpprobe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
)

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

func TestParseArrays(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []httpprobe.JSArray
	}{
		{
			name: "status_and_lan",
			in: "var statusPara = new Array(\n1,\n\"3.12.5 Build 100929 Rel.57776n \",\n\"WR841N v6/v7 00000000\",\n0,0 );\n" +
				"var lanPara = new Array(\n\"B0-48-7A-CA-FC-D0\", \"192.168.1.1\", \"255.255.255.0\", \n0,0 );",
			want: []httpprobe.JSArray{
				{Name: "statusPara", Values: []string{"1", "3.12.5 Build 100929 Rel.57776n ", "WR841N v6/v7 00000000"}},
				{Name: "lanPara", Values: []string{"B0-48-7A-CA-FC-D0", "192.168.1.1", "255.255.255.0"}},
			},
		},
		{
			name: "comma_and_paren_in_string",
			in:   `var wanPara = new Array(4, "213.57.2.5 , 0.0.0.0", "a)b", 'x\'y', 0,0 );`,
			want: []httpprobe.JSArray{{Name: "wanPara", Values: []string{"4", "213.57.2.5 , 0.0.0.0", "a)b", "x'y"}}},
		},
		{
			name: "quoted_zeros_are_not_the_sentinel",
			in:   `var a = new Array("0","0");`,
			want: []httpprobe.JSArray{{Name: "a", Values: []string{"0", "0"}}},
		},
		{name: "no_name", in: `x(new Array(1,2));`, want: nil},
		{name: "unterminated", in: `var a = new Array("abc`, want: []httpprobe.JSArray{{Name: "a", Values: []string{"abc"}}}},
		{name: "empty", in: `var a = new Array();`, want: []httpprobe.JSArray{{Name: "a"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, httpprobe.ParseArrays([]byte(tc.in))); diff != "" {
				t.Errorf("ParseArrays (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseArraysRealPage(t *testing.T) {
	got := httpprobe.ParseArrays(statusPage(t))
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	// The httpd prepends the first six; the template's own JavaScript
	// declares the rest.
	want := []string{"statusPara", "lanPara", "wlanPara", "statistList", "wanPara", "rateTable",
		"wanTypeStringArray", "wanLinkModeStringArray", "wanStatusStringArray", "wlanTypeStringArray",
		"IEEE8021xLoginStringArray", "DHCPStringArray", "maskArray", "wlanChannelWidthArray"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("array names (-want +got):\n%s", diff)
	}
	if w := got[4].Values[11]; w != "213.57.2.5 , 0.0.0.0" {
		t.Errorf("wanPara[11] = %q (the WAN DNS servers per CONFIGS.md §1.3)", w)
	}
}

func FuzzParseArrays(f *testing.F) {
	f.Add([]byte("var statusPara = new Array(\n1,\n\"3.12.5 Build 100929 Rel.57776n \",\n0,0 );"))
	f.Add([]byte(`var a = new Array("\`))
	f.Add([]byte(`= new Array(new Array(`))
	f.Fuzz(func(t *testing.T, b []byte) {
		arrs := httpprobe.ParseArrays(b)
		if len(arrs) > 64 {
			t.Fatalf("%d arrays, cap is 64", len(arrs))
		}
		for _, a := range arrs {
			if len(a.Values) > 256 || a.Name == "" {
				t.Fatalf("array %q with %d values", a.Name, len(a.Values))
			}
		}
	})
}

func BenchmarkParseArrays(b *testing.B) {
	page := []byte(strings.Repeat("var statusPara = new Array(\n1,\n\"3.12.5 Build 100929 Rel.57776n \",\n\"WR841N v6/v7 00000000\",\n0,0 );\n<p>text</p>\n", 20))
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		httpprobe.ParseArrays(page)
	}
}
