// SPDX-License-Identifier: Apache-2.0

package fake

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The legacy TP-Link page format (CONFIGS.md §1.1): the httpd prepends one
// block per array to a static template,
//
//	<SCRIPT language="javascript" type="text/javascript">
//	var DHCPPara = new Array(
//	1,
//	"192.168.0.100",
//	...
//	0,0 );
//	</SCRIPT>
//
// and the template's JavaScript fills the form from the arrays. Strings are
// double-quoted, numbers bare, and every array ends with the sentinel 0,0.

// jsValue is one element of a page array.
type jsValue struct {
	text   string // unquoted text
	quoted bool   // a JavaScript string (else a bare number)
}

func jsStr(s string) jsValue { return jsValue{text: s, quoted: true} }
func jsNum(n int) jsValue    { return jsValue{text: strconv.Itoa(n)} }

func (v jsValue) String() string {
	if v.quoted {
		return `"` + v.text + `"`
	}
	return v.text
}

// jsArray is one named page array, without its sentinel.
type jsArray struct {
	name string
	vals []jsValue
}

// scriptOpen starts every array block.
const scriptOpen = `<SCRIPT language="javascript" type="text/javascript">` + "\n"

// render writes the block as the firmware does: one element a line, the
// sentinel on the last.
func (a jsArray) render() string {
	var b strings.Builder
	b.WriteString(scriptOpen)
	b.WriteString("var " + a.name + " = new Array(\n")
	for _, v := range a.vals {
		b.WriteString(v.String() + ",\n")
	}
	b.WriteString("0,0 );\n</SCRIPT>\n")
	return b.String()
}

// span is an element's place in a page: [start, end) of its text, quotes
// included.
type span struct{ start, end int }

// arraySpans finds `var name = new Array(` in page and returns the spans of
// its elements, sentinel included, splitting on commas outside double
// quotes. ok is false if the array is missing or unterminated.
func arraySpans(page []byte, name string) (spans []span, ok bool) {
	head := []byte("var " + name + " = new Array(")
	i := bytes.Index(page, head)
	if i < 0 {
		return nil, false
	}
	i += len(head)
	start, inQuote := i, false
	elem := func(end int) {
		s, e := start, end
		for s < e && isSpace(page[s]) {
			s++
		}
		for e > s && isSpace(page[e-1]) {
			e--
		}
		if s < e {
			spans = append(spans, span{s, e})
		}
	}
	for ; i < len(page); i++ {
		switch c := page[i]; {
		case c == '"' && (i == 0 || page[i-1] != '\\'):
			inQuote = !inQuote
		case inQuote:
		case c == ',':
			elem(i)
			start = i + 1
		case c == ')':
			elem(i)
			return spans, true
		}
	}
	return nil, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// ParseArray returns the elements of the page array name without quotes
// and without the 0,0 sentinel (CONFIGS.md §1.1: find `var X = new
// Array(`, split on commas outside quotes, strip the trailing 0,0).
func ParseArray(page []byte, name string) ([]string, error) {
	spans, ok := arraySpans(page, name)
	if !ok {
		return nil, fmt.Errorf("page has no array %s", name)
	}
	var out []string
	for _, s := range spans {
		out = append(out, strings.Trim(string(page[s.start:s.end]), `"`))
	}
	if n := len(out); n >= 2 && out[n-2] == "0" && out[n-1] == "0" {
		return out[:n-2], nil
	}
	return nil, fmt.Errorf("array %s has no 0,0 sentinel", name)
}

// errNoIndex: an override names an element the captured array lacks.
var errNoIndex = errors.New("no such element")

// overrideArrays returns page with elements of its arrays replaced
// (array name → index → value); everything else, the captured formatting
// included, stays byte for byte.
func overrideArrays(page []byte, over map[string]map[int]jsValue) ([]byte, error) {
	type edit struct {
		sp span
		v  string
	}
	var edits []edit
	for name, idx := range over {
		spans, ok := arraySpans(page, name)
		if !ok {
			return nil, fmt.Errorf("page has no array %s", name)
		}
		for i, v := range idx {
			if i < 0 || i >= len(spans)-2 { // the sentinel is not a value
				return nil, fmt.Errorf("%s[%d]: %w", name, i, errNoIndex)
			}
			edits = append(edits, edit{spans[i], v.String()})
		}
	}
	// Apply from the end so earlier offsets stay valid.
	slices.SortFunc(edits, func(a, b edit) int { return b.sp.start - a.sp.start })
	out := bytes.Clone(page)
	for _, e := range edits {
		out = append(out[:e.sp.start], append([]byte(e.v), out[e.sp.end:]...)...)
	}
	return out, nil
}
