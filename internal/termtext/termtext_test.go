// SPDX-License-Identifier: Apache-2.0

package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, text, line string
	}{
		{"plain ASCII", "TL-WR841N v14", "TL-WR841N v14", "TL-WR841N v14"},
		{"UTF-8 kept", "Zürich ✓ 路由器", "Zürich ✓ 路由器", "Zürich ✓ 路由器"},
		{"CSI clear screen", "a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"OSC 52 clipboard write", "\x1b]52;c;ZXZpbA==\a", `\x1b]52;c;ZXZpbA==\x07`, `\x1b]52;c;ZXZpbA==\x07`},
		{"carriage return overwrites the line", "FAIL\rPASS", `FAIL\rPASS`, `FAIL\rPASS`},
		{"newline and tab", "a\n\tb", "a\n\tb", `a\n\tb`},
		{"NUL, BEL, backspace", "\x00\a\b", `\x00\x07\x08`, `\x00\x07\x08`},
		{"DEL", "a\x7fb", `a\x7fb`, `a\x7fb`},
		{"C1 CSI as a rune", "a\u009b2Jb", `a\u009b2Jb`, `a\u009b2Jb`},
		{"C1 NEL", "a\u0085b", `a\u0085b`, `a\u0085b`},
		{"raw 8-bit CSI byte (invalid UTF-8)", "a\x9b2Jb", `a\x9b2Jb`, `a\x9b2Jb`},
		{"latin-1 byte", "caf\xe9", `caf\xe9`, `caf\xe9`},
		{"first rune after C1 kept", "\u00a0x", "\u00a0x", "\u00a0x"},
		{"empty", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.text {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
			}
			if got := Line(tc.in); got != tc.line {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
			}
		})
	}
}

// FuzzEscape: whatever the input, the output is valid UTF-8 with no
// control character but the kept layout ones, and clean input is
// returned unchanged.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "abc", "\x1b[31mred", "\u009b", "\xff\xfe", "a\nb\tc\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, keep := range []bool{true, false} {
			out := escape(s, keep)
			if !utf8.ValidString(out) {
				t.Fatalf("escape(%q, %v) = %q: invalid UTF-8", s, keep, out)
			}
			for _, r := range out {
				if (r < 0x20 && !(keep && (r == '\n' || r == '\t'))) || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
					t.Fatalf("escape(%q, %v) = %q: holds %U", s, keep, out, r)
				}
			}
			if clean(s, keep) && out != s {
				t.Fatalf("escape changed clean input %q to %q", s, out)
			}
			if !strings.Contains(s, `\`) && out == s && !clean(s, keep) {
				t.Fatalf("escape left %q unchanged though it is not clean", s)
			}
		}
	})
}
