// SPDX-License-Identifier: Apache-2.0

// Package uci reads OpenWrt's Unified Configuration Interface in its two
// shapes: the text files of /etc/config (also what `uci export` prints,
// several packages one after the other), and the "values" object that
// rpcd's `uci get` returns over ubus.
//
// The contract:
//   - Parse follows libuci's own reader (openwrt/uci file.c): the
//     statements package, config, option and list (and their one-letter
//     forms p, c, o, l); values unquoted, 'single quoted' (no escapes) or
//     "double quoted" (a backslash takes the next character as it is),
//     quoted parts joined within one word; a backslash at the end of a
//     line continues it; '#' outside quotes starts a comment to the end
//     of the line; ';' ends a statement; a quoted value may span lines.
//     It is strict the way the uci tool is by default: an unknown
//     statement, an option before any section, a name with characters
//     libuci refuses or a statement with too many words is an error.
//   - Meaning is libuci's: an option set twice keeps the last value; a
//     list statement appends, turning an earlier option of the same name
//     into the list's first element; an option set to an empty value is removed; a
//     named section opened twice is the same section (with another type
//     it is an error).
//   - Input is bounded: MaxFileSize bytes, MaxSections sections,
//     MaxOptions options per section. Nothing panics on any input (the
//     fuzz targets hold it).
//   - Parse records where each value's word lies in the input (Span), so
//     a caller can replace secrets in the bytes without re-rendering the
//     file.
package uci

import (
	"errors"
	"fmt"
	"strings"
)

// Bounds. Real /etc/config files are a few kilobytes (the largest
// shipped, firewall, is under 10 kB); a file of a megabyte is not a
// router configuration.
const (
	MaxFileSize = 1 << 20
	MaxSections = 4096
	MaxOptions  = 1024
)

// ErrSyntax is wrapped by every *SyntaxError.
var ErrSyntax = errors.New("uci: not a valid UCI file")

// SyntaxError reports where a file stops being UCI.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("uci: line %d: %s", e.Line, e.Msg) }

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Span is a byte range [Start, End) of the input: the whole word of a
// value, quotes included.
type Span struct{ Start, End int }

// Option is one option or list of a section.
type Option struct {
	Name string
	// List: declared with list statements (a UCI list), even of one
	// element.
	List bool
	// Values holds the option's one value, or the list's elements.
	Values []string
	// Spans are where each value's word lies in the parsed input, in
	// step with Values; nil for a package decoded from JSON.
	Spans []Span
}

// Section is one config section.
type Section struct {
	Type string
	// Name is the section's name: as written in a file (empty for an
	// anonymous section there), or as rpcd reports it ("cfg02e48a" for
	// an anonymous one).
	Name      string
	Anonymous bool
	Options   []*Option
	// Line is where the section's config statement is (1-based), 0 for
	// a package decoded from JSON.
	Line int
}

// Option returns the option called name, or nil.
func (s *Section) Option(name string) *Option {
	for _, o := range s.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Get returns an option's value. A list reads as its elements joined by
// single spaces, which is what OpenWrt's shell config_get gives scripts.
func (s *Section) Get(name string) (string, bool) {
	o := s.Option(name)
	if o == nil {
		return "", false
	}
	return strings.Join(o.Values, " "), true
}

// Values returns a list's elements, or an option's single value as a
// list of one (what config_list_foreach iterates), or nil.
func (s *Section) Values(name string) []string {
	o := s.Option(name)
	if o == nil {
		return nil
	}
	return o.Values
}

// Package is one configuration file ("dhcp", "network").
type Package struct {
	// Name is the package's name; empty when a file did not say (a file
	// is named by its path, not its content).
	Name     string
	Sections []*Section
}

// Section returns the section called name (named or as rpcd named an
// anonymous one), or nil.
func (p *Package) Section(name string) *Section {
	for _, s := range p.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// OfType returns the sections of type t, in order.
func (p *Package) OfType(t string) []*Section {
	var out []*Section
	for _, s := range p.Sections {
		if s.Type == t {
			out = append(out, s)
		}
	}
	return out
}

// Path names s the way the uci tool does: "dhcp.lan" for a named
// section, "dhcp.@dnsmasq[0]" for an anonymous one (its position among
// the sections of its type). It is the same for a file and for rpcd's
// reply of the same configuration.
func (p *Package) Path(s *Section) string {
	if !s.Anonymous {
		return p.Name + "." + s.Name
	}
	i := 0
	for _, o := range p.Sections {
		if o == s {
			break
		}
		if o.Type == s.Type {
			i++
		}
	}
	return fmt.Sprintf("%s.@%s[%d]", p.Name, s.Type, i)
}

// Clone returns a deep copy of p.
func (p *Package) Clone() *Package {
	c := &Package{Name: p.Name, Sections: make([]*Section, len(p.Sections))}
	for i, s := range p.Sections {
		cs := *s
		cs.Options = make([]*Option, len(s.Options))
		for j, o := range s.Options {
			co := *o
			co.Values = append([]string(nil), o.Values...)
			co.Spans = append([]Span(nil), o.Spans...)
			cs.Options[j] = &co
		}
		c.Sections[i] = &cs
	}
	return c
}

// ValidName reports whether s is a name libuci accepts for a section or
// an option: letters, digits and '_'.
func ValidName(s string) bool { return validStr(s, true, false) }

// ValidType reports whether s is a section type libuci accepts:
// printable ASCII without spaces.
func ValidType(s string) bool { return validStr(s, false, false) }

// ValidPackage reports whether s is a package name libuci accepts:
// letters, digits, '_' and '-'.
func ValidPackage(s string) bool { return validStr(s, true, true) }

// validStr is libuci's uci_validate_str.
func validStr(s string, name, pkg bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			continue
		case c == '-' && pkg:
			continue
		case name || c < 33 || c > 126:
			return false
		}
	}
	return true
}
