// SPDX-License-Identifier: Apache-2.0

package tplink

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parser limits. Real pages are a few tens of kilobytes with a dozen
// arrays (the saved WR841N StatusRpm is 17.9 kB with 14); anything far
// larger is broken or hostile and is refused or cut, never buffered
// without bound.
const (
	// MaxPageBytes bounds one page.
	MaxPageBytes = 1 << 20
	// maxArrays bounds the arrays read from one page.
	maxArrays = 256
	// maxValues bounds the elements of one array (the longest real one,
	// rateTable, has 36).
	maxValues = 4096
	// maxStringBytes bounds one string element (SSIDs are 32 bytes,
	// version strings about 40).
	maxStringBytes = 4096
)

// ErrPageTooLarge reports a page over MaxPageBytes.
var ErrPageTooLarge = errors.New("tplink: page larger than the parser's limit")

// Value is one element of a page array.
type Value struct {
	// Text is the decoded text of a string literal, or the literal token
	// itself for a number or a bare word.
	Text string
	// Quoted: the element was a string literal.
	Quoted bool
	// Start and End are the byte offsets of the literal in the page, so
	// that a redactor can replace it without re-serializing the page.
	Start, End int
}

// Array is one "var Name = new Array(…);" block.
type Array struct {
	Name string
	// Values are the elements, without the trailing 0,0 sentinel.
	Values []Value
	// Sentinel: the array ended with the 0,0 the httpd appends to the
	// arrays it generates (the template's own arrays do not have it).
	Sentinel bool
}

// Str returns element i as text, and whether it exists.
func (a *Array) Str(i int) (string, bool) {
	if a == nil || i < 0 || i >= len(a.Values) {
		return "", false
	}
	return a.Values[i].Text, true
}

// Int returns element i as an integer, and whether it exists and is one.
func (a *Array) Int(i int) (int, bool) {
	s, ok := a.Str(i)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return n, true
}

// Page is the arrays of one page, by name.
type Page struct {
	arrays map[string]*Array
	// Names are the arrays read, in page order.
	Names []string
	// Skipped says, per array name, why an array was not read (nested
	// arrays of the template, an unterminated literal, a limit).
	Skipped map[string]string
}

// Array returns the array called name, or nil.
func (p *Page) Array(name string) *Array {
	if p == nil {
		return nil
	}
	return p.arrays[name]
}

// arrayStart finds "var Name = new Array(". Go's regexp runs in linear
// time, so a hostile page cannot make this slow.
var arrayStart = regexp.MustCompile(`var[ \t\r\n]+([A-Za-z_$][A-Za-z0-9_$]*)[ \t\r\n]*=[ \t\r\n]*new[ \t\r\n]+Array[ \t\r\n]*\(`)

// ParsePage reads the arrays of a legacy TP-Link page: each
// "var Name = new Array(" … ")" whose elements are string literals,
// numbers or bare words, split on the commas outside quotes, with the
// trailing 0,0 sentinel removed. Arrays it cannot read (nested arrays,
// unterminated strings, over a limit) are listed in Skipped and the
// rest of the page is still read. When a name occurs twice the first
// wins: the httpd puts its arrays before the static template.
func ParsePage(b []byte) (*Page, error) {
	if len(b) > MaxPageBytes {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrPageTooLarge, len(b), MaxPageBytes)
	}
	p := &Page{arrays: map[string]*Array{}, Skipped: map[string]string{}}
	for _, m := range arrayStart.FindAllSubmatchIndex(b, maxArrays+1) {
		name := string(b[m[2]:m[3]])
		if len(p.Names)+len(p.Skipped) >= maxArrays {
			p.Skipped[name] = fmt.Sprintf("more than %d arrays on the page", maxArrays)
			break
		}
		if _, dup := p.arrays[name]; dup {
			continue
		}
		vals, err := scanElements(b, m[1])
		if err != nil {
			if _, seen := p.Skipped[name]; !seen {
				p.Skipped[name] = err.Error()
			}
			continue
		}
		a := &Array{Name: name, Values: vals}
		if n := len(vals); n >= 2 && isZero(vals[n-2]) && isZero(vals[n-1]) {
			a.Values, a.Sentinel = vals[:n-2], true
		}
		p.arrays[name] = a
		p.Names = append(p.Names, name)
		delete(p.Skipped, name)
	}
	return p, nil
}

func isZero(v Value) bool { return !v.Quoted && v.Text == "0" }

// scanElements reads the elements after "new Array(" at i up to the
// closing parenthesis.
func scanElements(b []byte, i int) ([]Value, error) {
	var vals []Value
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ')' {
		return vals, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, errors.New("unterminated array")
		}
		if len(vals) >= maxValues {
			return nil, fmt.Errorf("more than %d elements", maxValues)
		}
		var v Value
		var err error
		switch c := b[i]; {
		case c == '"' || c == '\'':
			v, i, err = scanString(b, i)
		case isWordByte(c):
			start := i
			for i < len(b) && isWordByte(b[i]) {
				i++
			}
			v = Value{Text: string(b[start:i]), Start: start, End: i}
			if v.Text == "new" {
				return nil, errors.New("nested array or object (not a runtime data array)")
			}
		case c == ')':
			// A trailing comma before the parenthesis, as JavaScript
			// allows: the array is complete.
			if len(vals) == 0 {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			return vals, nil
		default:
			return nil, fmt.Errorf("unexpected %q at byte %d", c, i)
		}
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, errors.New("unterminated array")
		}
		switch b[i] {
		case ',':
			i++
		case ')':
			return vals, nil
		default:
			return nil, fmt.Errorf("unexpected %q after element %d", b[i], len(vals)-1)
		}
	}
}

// isWordByte accepts the bytes of numbers and bare words ("-1", "0x1F",
// "1.5", "true").
func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '_' || c == '$' || c == '.' || c == '-' || c == '+'
}

// skipSpace skips white space and JavaScript comments (the template's
// arrays carry "//" comments after their elements).
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch {
		case b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == '\f' || b[i] == '\v':
			i++
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return len(b)
			}
			i += 2 + end + 2
		default:
			return i
		}
	}
	return i
}

// scanString reads a quoted literal at i and returns it decoded, with
// the index after the closing quote. A raw line break ends the literal
// with an error (JavaScript forbids it), so an unterminated quote cannot
// swallow the rest of the page.
func scanString(b []byte, i int) (Value, int, error) {
	q := b[i]
	start := i
	i++
	var sb strings.Builder
	for i < len(b) {
		c := b[i]
		switch {
		case c == q:
			return Value{Text: sb.String(), Quoted: true, Start: start, End: i + 1}, i + 1, nil
		case c == '\n' || c == '\r':
			return Value{}, i, errors.New("unterminated string literal")
		case c == '\\':
			if i+1 >= len(b) {
				return Value{}, i, errors.New("unterminated string literal")
			}
			n, adv := unescape(b[i+1:])
			sb.WriteString(n)
			i += 1 + adv
		default:
			sb.WriteByte(c)
			i++
		}
		if sb.Len() > maxStringBytes {
			return Value{}, i, fmt.Errorf("string longer than %d bytes", maxStringBytes)
		}
	}
	return Value{}, i, errors.New("unterminated string literal")
}

// unescape decodes the escape after a backslash; it returns the text and
// how many bytes it used.
func unescape(b []byte) (string, int) {
	switch b[0] {
	case 'n':
		return "\n", 1
	case 't':
		return "\t", 1
	case 'r':
		return "\r", 1
	case 'b':
		return "\b", 1
	case 'f':
		return "\f", 1
	case 'v':
		return "\v", 1
	case '0':
		return "\x00", 1
	case 'x':
		if len(b) >= 3 {
			if n, err := strconv.ParseUint(string(b[1:3]), 16, 8); err == nil {
				return string(rune(n)), 3
			}
		}
	case 'u':
		if len(b) >= 5 {
			if n, err := strconv.ParseUint(string(b[1:5]), 16, 16); err == nil {
				return string(rune(n)), 5
			}
		}
	case '\n':
		// A line continuation.
		return "", 1
	}
	// Any other escaped character stands for itself ("\/", "\"", "\\").
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return string(b[:1]), 1
	}
	return string(r), size
}
