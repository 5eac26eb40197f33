// SPDX-License-Identifier: Apache-2.0

// Package termtext makes untrusted strings safe to write to a terminal.
// Text routerwatch prints comes from devices (banners, page titles, UPnP
// descriptions), from advisory documents anyone can publish, and from the
// command line; a control character in it could move the cursor, clear the
// screen, retitle the window or hide what follows (ESC [ … sequences, OSC
// 52 clipboard writes, a bare CR overwriting the line).
//
// The contract: the result holds no C0 control character (U+0000–U+001F)
// except those the caller keeps for layout, no DEL (U+007F), no C1 control
// (U+0080–U+009F) and no invalid UTF-8; each one is shown as a visible Go
// escape (\x1b, \r, \u009b, \xff) instead, so nothing is lost and a
// reader sees that it was there. Every other rune is kept as it is. The
// text renderers (internal/report's text format, the CLI's own tables)
// pass every string that did not come from routerwatch itself through it;
// JSON output needs nothing more (encoding/json escapes C0) and HTML is
// escaped by html/template.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text escapes s for a terminal and keeps newlines and tabs: for
// multi-line text whose layout the caller wants.
func Text(s string) string { return escape(s, true) }

// Line escapes s for a terminal, newlines and tabs included: for a value
// that must stay on its line (a table cell, one field of a record), so
// that it cannot forge the lines after it.
func Line(s string) string { return escape(s, false) }

func escape(s string, keepLayout bool) string {
	if clean(s, keepLayout) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			if keepLayout {
				b.WriteRune(r)
			} else if r == '\n' {
				b.WriteString(`\n`)
			} else {
				b.WriteString(`\t`)
			}
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether s needs no escaping.
func clean(s string, keepLayout bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && !(keepLayout && (c == '\n' || c == '\t')) || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			// C1 controls are two-byte runes (C2 80 – C2 9F); any
			// non-ASCII text is checked rune by rune.
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r <= 0x9f {
				return false
			}
			i += n - 1
		}
	}
	return true
}
