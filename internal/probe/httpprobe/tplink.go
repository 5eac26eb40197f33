// SPDX-License-Identifier: Apache-2.0

package httpprobe

import (
	"bytes"
	"strings"

	"github.com/routerwatch/routerwatch/internal/httpfp"
)

// Bounds for ParseArrays. A legacy TP-Link page carries about ten arrays
// of at most a few dozen items (rateTable, the longest, has 36).
const (
	maxArrays    = 64
	maxItems     = 256
	maxItemBytes = 512
)

// JSArray is one `var name = new Array(…)` block of a legacy TP-Link page,
// its items unquoted and the trailing "0,0" sentinel removed.
type JSArray struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// keepArrays are the arrays whose items identify the device
// (brief/CONFIGS.md §1.3): statusPara holds the firmware build and the
// hardware version on the Status page, softUpInf on the upgrade page.
// Other arrays hold configuration (WAN address, DNS, SSID), which is the
// device adapters' business, not identification's.
var keepArrays = map[string]bool{"statusPara": true, "softUpInf": true}

// ParseArrays finds the JavaScript arrays a legacy TP-Link httpd prepends
// to its pages (brief/CONFIGS.md §1.1). Sample, from a real TL-WR841N v6/v7
// StatusRpm.htm:
//
//	<SCRIPT language="javascript" type="text/javascript">
//	var statusPara = new Array(
//	1,
//	1,
//	21,
//	20000,
//	3303482,
//	"3.12.5 Build 100929 Rel.57776n ",
//	"WR841N v6/v7 00000000",
//	716632876,
//	0,0 );
//	</SCRIPT>
//
// Items are split on commas outside double quotes; quoted items lose
// their quotes and backslash escapes; positions are kept (they shift
// between firmware lines, so callers match values, not indexes).
func ParseArrays(body []byte) []JSArray {
	const marker = "new Array("
	var out []JSArray
	off := 0
	for len(out) < maxArrays {
		i := bytes.Index(body[off:], []byte(marker))
		if i < 0 {
			break
		}
		i += off
		name := arrayName(body[:i])
		vals, end := arrayItems(body[i+len(marker):])
		off = i + len(marker) + end
		if name == "" {
			continue
		}
		out = append(out, JSArray{Name: name, Values: vals})
	}
	return out
}

// arrayName reads the identifier in `var NAME = ` just before the marker.
func arrayName(before []byte) string {
	j := len(before)
	for j > 0 && (before[j-1] == ' ' || before[j-1] == '\t') {
		j--
	}
	if j == 0 || before[j-1] != '=' {
		return ""
	}
	j--
	for j > 0 && (before[j-1] == ' ' || before[j-1] == '\t') {
		j--
	}
	end := j
	for j > 0 && isIdent(before[j-1]) && end-j < 64 {
		j--
	}
	if j == end || (before[j] >= '0' && before[j] <= '9') {
		return ""
	}
	return string(before[j:end])
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// arrayItems reads items up to the closing parenthesis that is not inside
// a string, and returns them with the number of bytes consumed.
func arrayItems(b []byte) ([]string, int) {
	var (
		items  []string
		raw    []bool // item was unquoted
		cur    []byte
		quoted bool
		inStr  byte
		i      int
	)
	flush := func() {
		if len(items) < maxItems {
			v := string(cur)
			if !quoted {
				v = strings.TrimSpace(v)
			}
			items = append(items, httpfp.Text([]byte(v), maxItemBytes))
			raw = append(raw, !quoted)
		}
		cur, quoted = cur[:0], false
	}
loop:
	for i = 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr != 0:
			switch c {
			case '\\':
				if i+1 < len(b) {
					i++
					cur = appendBounded(cur, unescape(b[i]))
				}
			case inStr:
				inStr = 0
			default:
				cur = appendBounded(cur, c)
			}
		case c == '"' || c == '\'':
			inStr, quoted = c, true
			cur = cur[:0]
		case c == ',':
			flush()
		case c == ')':
			break loop
		case c == '\n' || c == '\r' || c == ' ' || c == '\t':
			if !quoted {
				cur = appendBounded(cur, c)
			}
		default:
			if !quoted {
				cur = appendBounded(cur, c)
			}
		}
	}
	if len(bytes.TrimSpace(cur)) > 0 || quoted {
		flush()
	}
	// The sentinel: the httpd ends every array with 0,0.
	if n := len(items); n >= 2 && raw[n-1] && raw[n-2] && items[n-1] == "0" && items[n-2] == "0" {
		items = items[:n-2]
	}
	return items, i
}

func appendBounded(b []byte, c byte) []byte {
	if len(b) >= maxItemBytes {
		return b
	}
	return append(b, c)
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}
