// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// The real pages saved from a TL-WR841N v6/v7, firmware 3.12.5
// (../shared/data/router-samples/tplink-legacy/SOURCES.md).
const (
	sampleStatus = "wr841n-v6v7_3.12.5_talnir_StatusRpm.htm"
	sampleMenu   = "wr841n-v6v7_3.12.5_talnir_MenuRpm.htm"
	sampleIndex  = "wr841n-v6v7_3.12.5_talnir_Index.htm"
)

// sample reads one real page.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedData(tb), "router-samples", "tplink-legacy", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func texts(a *Array) []string {
	if a == nil {
		return nil
	}
	out := make([]string, len(a.Values))
	for i, v := range a.Values {
		out[i] = v.Text
	}
	return out
}

// TestParseRealPages checks every array of the real pages against the
// values read by hand from each file.
func TestParseRealPages(t *testing.T) {
	type want struct {
		values   []string // all values, when short enough to list
		count    int
		first    string
		last     string
		sentinel bool
	}
	for _, tc := range []struct {
		file    string
		names   []string          // arrays read, in page order
		skipped []string          // arrays not read
		arrays  map[string]want   // checked arrays
		spans   map[string]string // "array[i]" → the literal in the file
	}{
		{
			file: sampleStatus,
			names: []string{"statusPara", "lanPara", "wlanPara", "statistList", "wanPara", "rateTable",
				"wanTypeStringArray", "wanStatusStringArray", "wlanTypeStringArray", "IEEE8021xLoginStringArray",
				"DHCPStringArray", "maskArray", "wlanChannelWidthArray"},
			// The template's array of arrays is not runtime data.
			skipped: []string{"wanLinkModeStringArray"},
			arrays: map[string]want{
				// Lines 2-10: eight values, then "0,0 );".
				"statusPara": {values: []string{"1", "1", "21", "20000", "3303482",
					"3.12.5 Build 100929 Rel.57776n ", "WR841N v6/v7 00000000", "716632876"}, sentinel: true},
				// Line 15.
				"lanPara": {values: []string{"B0-48-7A-CA-FC-D0", "192.168.1.1", "255.255.255.0"}, sentinel: true},
				// Lines 20-30.
				"wlanPara": {values: []string{"1", "Cuca", "9", "5", "B0-48-7A-CA-FC-D0", "192.168.1.1",
					"2", "8", "71", "0", "6"}, sentinel: true},
				"statistList": {values: []string{"1786440166", "2051716577", "199268607", "223090336"}, sentinel: true},
				// Line 40: 21 values (statusPara[2] is the row stride, 21).
				"wanPara": {values: []string{"4", "B0-48-7A-CA-FC-D1", "149.78.64.152", "1", "255.255.252.0",
					"0", "0", "149.78.64.1", "1", "1", "0", "213.57.2.5 , 0.0.0.0", "", "0", "0",
					"0.0.0.0", "0.0.0.0", "0", "0", "0", "0"}, sentinel: true},
				// Line 45: 36 rates.
				"rateTable": {count: 36, first: "1Mbps", last: "300Mbps", sentinel: true},
				// Template arrays: no sentinel, escaped quotes and "<\/span>".
				"wanTypeStringArray":   {count: 9, first: " ", last: `<span id = "t_pptp">PPTP</span>`},
				"wanStatusStringArray": {count: 5, first: " ", last: `<span id = "t_link_up">Link Up</span>`},
				"wlanTypeStringArray":  {count: 7, first: " ", last: " "},
				// "//0" … "//3" comments after the elements.
				"IEEE8021xLoginStringArray": {count: 4, first: " ", last: `<span id = "t_longin_suc">Login successfully</span>`},
				"DHCPStringArray":           {count: 3, first: " ", last: `<span id = "t_unpluged_info" style="color:#FF0000">WAN port is unplugged!</span>`},
				"maskArray":                 {values: []string{"255.0.0.0", "255.255.0.0", "255.255.255.0"}},
				"wlanChannelWidthArray":     {values: []string{"", "20MHz", `<span id="t_automatic" name="t_automatic">Automatic</span>`, "40MHz"}},
			},
			spans: map[string]string{
				"statusPara[5]": `"3.12.5 Build 100929 Rel.57776n "`,
				"wanPara[11]":   `"213.57.2.5 , 0.0.0.0"`,
				"wanPara[3]":    `1`,
			},
		},
		{
			file:  sampleMenu,
			names: []string{"visibleMenuList"},
			arrays: map[string]want{
				// Lines 3-45: 43 page names.
				"visibleMenuList": {count: 43, first: "DiagnosticRpm", last: "WzdStartRpm", sentinel: true},
			},
		},
		{
			// The editor-added header before the array does not matter.
			file:  sampleIndex,
			names: []string{"framePara"},
			arrays: map[string]want{
				"framePara": {values: []string{"0", "main.htm"}, sentinel: true},
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := sample(t, tc.file)
			p, err := ParsePage(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.names, p.Names); d != "" {
				t.Errorf("arrays read (-want +got):\n%s", d)
			}
			var skipped []string
			for n := range p.Skipped {
				skipped = append(skipped, n)
			}
			if d := cmp.Diff(tc.skipped, skipped); d != "" {
				t.Errorf("arrays skipped (-want +got):\n%s (%v)", d, p.Skipped)
			}
			for name, w := range tc.arrays {
				a := p.Array(name)
				if a == nil {
					t.Errorf("%s: not read", name)
					continue
				}
				got := texts(a)
				if w.values != nil {
					if d := cmp.Diff(w.values, got); d != "" {
						t.Errorf("%s (-want +got):\n%s", name, d)
					}
				} else if len(got) != w.count || got[0] != w.first || got[len(got)-1] != w.last {
					t.Errorf("%s: %d values %q … %q, want %d values %q … %q", name, len(got), got[0], got[len(got)-1], w.count, w.first, w.last)
				}
				if a.Sentinel != w.sentinel {
					t.Errorf("%s: sentinel %v, want %v", name, a.Sentinel, w.sentinel)
				}
			}
			for ref, lit := range tc.spans {
				name, idx, _ := strings.Cut(strings.TrimSuffix(ref, "]"), "[")
				i := 0
				for _, c := range idx {
					i = i*10 + int(c-'0')
				}
				v := p.Array(name).Values[i]
				if got := string(b[v.Start:v.End]); got != lit {
					t.Errorf("%s spans %q, want %q", ref, got, lit)
				}
			}
		})
	}
}

func TestParseHostile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		page    string
		want    map[string][]string
		skipped []string
	}{
		{"empty", "", map[string][]string{}, nil},
		{"no_arrays", "<html>var x = 1; y = new Array(1,2);</html>", map[string][]string{}, nil},
		{"empty_array", "var a = new Array();", map[string][]string{"a": {}}, nil},
		{"only_sentinel", "var a = new Array(\n0,0 );", map[string][]string{"a": {}}, nil},
		{"sentinel_kept_when_quoted", `var a = new Array("0","0");`, map[string][]string{"a": {"0", "0"}}, nil},
		{"nested_quotes", `var a = new Array("he said \"hi\"", 'it\'s', "a,b", '"', "'", 0,0 );`,
			map[string][]string{"a": {`he said "hi"`, "it's", "a,b", `"`, "'"}}, nil},
		{"escapes", `var a = new Array("\x41\u0042\/\\\q", 0,0);`, map[string][]string{"a": {`AB/\q`}}, nil},
		{"comments", "var a = new Array( /* c */ 1, // x\n 2 /* ) */, 0,0);", map[string][]string{"a": {"1", "2"}}, nil},
		{"trailing_comma", "var a = new Array(1, 2,);", map[string][]string{"a": {"1", "2"}}, nil},
		{"negative_and_words", "var a = new Array(-1, 0x1F, true, 1.5, 0,0);", map[string][]string{"a": {"-1", "0x1F", "true", "1.5"}}, nil},
		{"unterminated_array", "var a = new Array(1, 2", map[string][]string{}, []string{"a"}},
		{"unterminated_string_does_not_swallow_the_page",
			"var a = new Array(\"abc\n, 0,0);\nvar b = new Array(7, 0,0);",
			map[string][]string{"b": {"7"}}, []string{"a"}},
		{"string_at_end_of_input", `var a = new Array("abc`, map[string][]string{}, []string{"a"}},
		{"backslash_at_end_of_input", `var a = new Array("abc\`, map[string][]string{}, []string{"a"}},
		{"nested_array", "var a = new Array(new Array(1), 0,0);", map[string][]string{}, []string{"a"}},
		{"expression", "var a = new Array(1+2*3);", map[string][]string{}, []string{"a"}},
		{"missing_comma", `var a = new Array("x" "y");`, map[string][]string{}, []string{"a"}},
		{"leading_comma", "var a = new Array(, 1);", map[string][]string{}, []string{"a"}},
		{"unterminated_block_comment", "var a = new Array(1 /* ", map[string][]string{}, []string{"a"}},
		{"duplicate_first_wins", "var a = new Array(1, 0,0);\nvar a = new Array(2, 0,0);", map[string][]string{"a": {"1"}}, nil},
		{"duplicate_after_a_bad_one", "var a = new Array(1;\nvar a = new Array(2, 0,0);", map[string][]string{"a": {"2"}}, nil},
		{"long_string", `var a = new Array("` + strings.Repeat("x", maxStringBytes+1) + `");`, map[string][]string{}, []string{"a"}},
		{"too_many_values", "var a = new Array(" + strings.Repeat("1,", maxValues+1) + "1);", map[string][]string{}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePage([]byte(tc.page))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, n := range p.Names {
				got[n] = texts(p.Array(n))
				if got[n] == nil {
					got[n] = []string{}
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("arrays (-want +got):\n%s", d)
			}
			var skipped []string
			for n := range p.Skipped {
				skipped = append(skipped, n)
			}
			if d := cmp.Diff(tc.skipped, skipped); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Run("page_too_large", func(t *testing.T) {
		_, err := ParsePage(make([]byte, MaxPageBytes+1))
		if !errors.Is(err, ErrPageTooLarge) {
			t.Fatalf("err = %v, want ErrPageTooLarge", err)
		}
	})
	t.Run("too_many_arrays", func(t *testing.T) {
		var sb strings.Builder
		for i := range maxArrays + 50 {
			sb.WriteString("var a")
			sb.WriteString(strings.Repeat("x", i%7))
			sb.WriteString(string(rune('a' + i%26)))
			sb.WriteString(string(rune('a' + i/26)))
			sb.WriteString(" = new Array(1, 0,0);\n")
		}
		p, err := ParsePage([]byte(sb.String()))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Names) > maxArrays {
			t.Errorf("read %d arrays, limit %d", len(p.Names), maxArrays)
		}
		if len(p.Names) < maxArrays-1 {
			t.Errorf("read only %d arrays", len(p.Names))
		}
	})
}

func TestArrayAccessors(t *testing.T) {
	p, err := ParsePage([]byte(`var a = new Array(" 12 ", "x", 0,0);`))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Array("a")
	if n, ok := a.Int(0); !ok || n != 12 {
		t.Errorf("Int(0) = %d, %v", n, ok)
	}
	if _, ok := a.Int(1); ok {
		t.Error("Int(1) of \"x\" is ok")
	}
	if _, ok := a.Str(2); ok {
		t.Error("Str(2) past the end is ok")
	}
	var none *Array
	if _, ok := none.Str(0); ok {
		t.Error("nil array Str is ok")
	}
	if p.Array("missing") != nil {
		t.Error("missing array is not nil")
	}
}

// hostileSeeds are fuzz seeds beside the real pages.
var hostileSeeds = []string{
	"var a = new Array(\"abc\n, 0,0);",
	`var a = new Array("he said \"hi\"", 'it\'s', 0,0);`,
	"var a = new Array(new Array(1), 0,0);",
	"var a = new Array(1 /* ",
	`var a = new Array("\x4`,
	`var a = new Array("\u00`,
	"var a = new Array(1,2",
}

func FuzzParsePage(f *testing.F) {
	for _, s := range []string{sampleStatus, sampleMenu, sampleIndex} {
		f.Add(sample(f, s))
	}
	for _, s := range hostileSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePage(b)
		if err != nil {
			if len(b) <= MaxPageBytes {
				t.Fatalf("error on a page within the limit: %v", err)
			}
			return
		}
		if len(p.Names) > maxArrays {
			t.Fatalf("%d arrays", len(p.Names))
		}
		for _, n := range p.Names {
			a := p.Array(n)
			if len(a.Values) > maxValues {
				t.Fatalf("%s: %d values", n, len(a.Values))
			}
			for i, v := range a.Values {
				if v.Start < 0 || v.End > len(b) || v.Start >= v.End {
					t.Fatalf("%s[%d]: span %d..%d of %d bytes", n, i, v.Start, v.End, len(b))
				}
				if v.Quoted && b[v.Start] != '"' && b[v.Start] != '\'' {
					t.Fatalf("%s[%d]: quoted value spans %q", n, i, b[v.Start:v.End])
				}
				if !v.Quoted && string(b[v.Start:v.End]) != v.Text {
					t.Fatalf("%s[%d]: bare value %q spans %q", n, i, v.Text, b[v.Start:v.End])
				}
			}
		}
	})
}

func BenchmarkParseStatusPage(b *testing.B) {
	page := sample(b, sampleStatus)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := ParsePage(page); err != nil {
			b.Fatal(err)
		}
	}
}
