// SPDX-License-Identifier: Apache-2.0

// Package recog loads the rapid7 recog fingerprint database (its xml/
// directory of <fingerprints> files) and matches strings against it.
//
// The contract: the database is read from a directory the user names, never
// embedded; every file is decoded strictly (unknown elements or attributes
// are errors) and every pattern compiled at load, so a bad database fails
// at start-up with the file and fingerprint in the error. Recog patterns
// are Ruby regular expressions; each is compiled for Go's RE2 with (?m)
// (Ruby's ^ and $ match at line ends) and its flags mapped: REG_ICASE to
// (?i), REG_DOT_NEWLINE and REG_MULTILINE to (?s). Matching follows recog:
// within one file, the first fingerprint that matches wins.
package recog

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DB is a loaded recog database, safe for concurrent use.
type DB struct {
	sets map[string]*Set
	keys []string
}

// Set is the fingerprints of one file.
type Set struct {
	// Key is the file's "matches" attribute ("http_header.server"), or
	// its base name without extension when it has none (recog's rule).
	Key          string
	File         string
	Protocol     string
	Preference   float64
	Fingerprints []*Fingerprint
}

// Fingerprint is one <fingerprint>.
type Fingerprint struct {
	File        string
	Index       int // position in its file, from 0
	Description string
	Pattern     string // as written in the file
	Flags       string
	Certainty   float64 // 0 when the file gives none
	Params      []Param
	Examples    []Example
	re          *regexp.Regexp
}

// Param is one <param>: a fixed value (Pos 0) or a capture group.
type Param struct {
	Pos   int
	Name  string
	Value string
}

// Example is one <example>, decoded.
type Example struct {
	Text string
	// Want holds the parameters the example says a match yields.
	Want map[string]string
	// External is true for examples whose text lives in a file recog
	// keeps outside xml/ (_filename); Text is then empty.
	External bool
}

// Match is a fingerprint that matched, with its parameter values.
type Match struct {
	Fingerprint *Fingerprint
	Params      map[string]string
}

// Name identifies the fingerprint in sources: "http_servers.xml#12
// (TP-Link Router httpd …)".
func (f *Fingerprint) Name() string {
	return fmt.Sprintf("%s#%d (%s)", f.File, f.Index, f.Description)
}

// Regexp returns the compiled pattern.
func (f *Fingerprint) Regexp() *regexp.Regexp { return f.re }

// Load reads every *.xml file of dir.
func Load(dir string) (*DB, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("recog: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("recog: %s is not a directory", dir)
	}
	db, err := LoadFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("recog: %s: %w", dir, err)
	}
	return db, nil
}

// LoadFS reads every *.xml file at the root of fsys.
func LoadFS(fsys fs.FS) (*DB, error) {
	names, err := fs.Glob(fsys, "*.xml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no *.xml fingerprint files")
	}
	db := &DB{sets: map[string]*Set{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		set, err := Parse(name, b)
		if err != nil {
			return nil, err
		}
		if prev, dup := db.sets[set.Key]; dup {
			return nil, fmt.Errorf("%s: key %q already used by %s", name, set.Key, prev.File)
		}
		db.sets[set.Key] = set
		db.keys = append(db.keys, set.Key)
	}
	slices.Sort(db.keys)
	return db, nil
}

// xml mirror of fingerprints.xsd, with catch-alls that make unknown
// content an error.
type xmlFingerprints struct {
	XMLName      xml.Name         `xml:"fingerprints"`
	Matches      string           `xml:"matches,attr"`
	Protocol     string           `xml:"protocol,attr"`
	DatabaseType string           `xml:"database_type,attr"`
	Preference   string           `xml:"preference,attr"`
	Fingerprints []xmlFingerprint `xml:"fingerprint"`
	OtherAttrs   []xml.Attr       `xml:",any,attr"`
	Other        []xmlAny         `xml:",any"`
}

type xmlFingerprint struct {
	Pattern     string       `xml:"pattern,attr"`
	Flags       string       `xml:"flags,attr"`
	Certainty   string       `xml:"certainty,attr"`
	Description string       `xml:"description"`
	Examples    []xmlExample `xml:"example"`
	Params      []xmlParam   `xml:"param"`
	OtherAttrs  []xml.Attr   `xml:",any,attr"`
	Other       []xmlAny     `xml:",any"`
}

type xmlExample struct {
	Text  string     `xml:",chardata"`
	Attrs []xml.Attr `xml:",any,attr"`
}

type xmlParam struct {
	Pos        string     `xml:"pos,attr"`
	Name       string     `xml:"name,attr"`
	Value      *string    `xml:"value,attr"`
	OtherAttrs []xml.Attr `xml:",any,attr"`
}

type xmlAny struct {
	XMLName xml.Name
}

// Parse decodes and compiles one fingerprint file. Sample:
//
//	<fingerprints matches="http_header.server" protocol="http" database_type="service" preference="0.90">
//	  <fingerprint pattern="^Router Webserver$">
//	    <description>TP-Link Router httpd - seen on Wireless N and portable 3G routers</description>
//	    <example>Router Webserver</example>
//	    <param pos="0" name="hw.vendor" value="TP-LINK"/>
//	  </fingerprint>
func Parse(name string, b []byte) (*Set, error) {
	var x xmlFingerprints
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(x.OtherAttrs) > 0 || len(x.Other) > 0 {
		return nil, fmt.Errorf("%s: unknown attribute or element in <fingerprints>", name)
	}
	set := &Set{Key: x.Matches, File: name, Protocol: x.Protocol, Preference: 0.10}
	if set.Key == "" {
		set.Key = strings.TrimSuffix(path.Base(name), ".xml")
	}
	if x.Preference != "" {
		p, err := strconv.ParseFloat(x.Preference, 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("%s: preference %q is not in 0..1", name, x.Preference)
		}
		set.Preference = p
	}
	for i, xf := range x.Fingerprints {
		f, err := compile(name, i, xf)
		if err != nil {
			return nil, err
		}
		set.Fingerprints = append(set.Fingerprints, f)
	}
	return set, nil
}

// flagMap maps recog's flag names to Go flag letters.
var flagMap = map[string]string{
	"REG_ICASE":       "i",
	"REG_DOT_NEWLINE": "s",
	"REG_MULTILINE":   "s",
}

func compile(file string, i int, xf xmlFingerprint) (*Fingerprint, error) {
	where := fmt.Sprintf("%s: fingerprint %d (%q)", file, i, xf.Pattern)
	if len(xf.OtherAttrs) > 0 || len(xf.Other) > 0 {
		return nil, fmt.Errorf("%s: unknown attribute or element", where)
	}
	if xf.Pattern == "" {
		return nil, fmt.Errorf("%s: empty pattern", where)
	}
	f := &Fingerprint{File: file, Index: i, Description: strings.TrimSpace(xf.Description), Pattern: xf.Pattern, Flags: xf.Flags}
	flags := "m"
	for fl := range strings.SplitSeq(xf.Flags, ",") {
		fl = strings.TrimSpace(fl)
		if fl == "" {
			continue
		}
		g, ok := flagMap[fl]
		if !ok {
			return nil, fmt.Errorf("%s: unknown flag %q", where, fl)
		}
		if !strings.Contains(flags, g) {
			flags += g
		}
	}
	re, err := regexp.Compile("(?" + flags + ")" + xf.Pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	f.re = re
	if xf.Certainty != "" {
		c, err := strconv.ParseFloat(xf.Certainty, 64)
		if err != nil || c < 0 || c > 1 {
			return nil, fmt.Errorf("%s: certainty %q is not in 0..1", where, xf.Certainty)
		}
		f.Certainty = c
	}
	for _, xp := range xf.Params {
		if len(xp.OtherAttrs) > 0 {
			return nil, fmt.Errorf("%s: unknown attribute on param %q", where, xp.Name)
		}
		pos, err := strconv.Atoi(xp.Pos)
		if err != nil || pos < 0 || pos > re.NumSubexp() {
			return nil, fmt.Errorf("%s: param %q position %q is not 0..%d", where, xp.Name, xp.Pos, re.NumSubexp())
		}
		if xp.Name == "" {
			return nil, fmt.Errorf("%s: param without a name", where)
		}
		p := Param{Pos: pos, Name: xp.Name}
		if xp.Value != nil {
			p.Value = *xp.Value
		}
		if pos == 0 && xp.Value == nil {
			return nil, fmt.Errorf("%s: fixed param %q has no value", where, xp.Name)
		}
		f.Params = append(f.Params, p)
	}
	for j, xe := range xf.Examples {
		ex := Example{Want: map[string]string{}, Text: xe.Text}
		encoding := ""
		for _, a := range xe.Attrs {
			switch a.Name.Local {
			case "_encoding":
				encoding = a.Value
			case "_filename":
				ex.External = true
			default:
				ex.Want[a.Name.Local] = a.Value
			}
		}
		switch {
		case ex.External:
			ex.Text = ""
		case encoding == "base64":
			raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xe.Text), ""))
			if err != nil {
				return nil, fmt.Errorf("%s: example %d: base64: %w", where, j, err)
			}
			ex.Text = string(raw)
		case encoding != "":
			return nil, fmt.Errorf("%s: example %d: unknown encoding %q", where, j, encoding)
		}
		f.Examples = append(f.Examples, ex)
	}
	return f, nil
}

// Keys returns the set keys, sorted.
func (db *DB) Keys() []string { return db.keys }

// Set returns the set for key, or nil.
func (db *DB) Set(key string) *Set { return db.sets[key] }

// Stats counts files, fingerprints and examples.
func (db *DB) Stats() (files, fingerprints, examples int) {
	for _, s := range db.sets {
		files++
		fingerprints += len(s.Fingerprints)
		for _, f := range s.Fingerprints {
			examples += len(f.Examples)
		}
	}
	return files, fingerprints, examples
}

// Match returns the first fingerprint of set key that matches text.
func (db *DB) Match(key, text string) (Match, bool) {
	s := db.sets[key]
	if s == nil {
		return Match{}, false
	}
	for _, f := range s.Fingerprints {
		if m, ok := f.Match(text); ok {
			return m, true
		}
	}
	return Match{}, false
}

// Match applies one fingerprint to text.
func (f *Fingerprint) Match(text string) (Match, bool) {
	sub := f.re.FindStringSubmatchIndex(text)
	if sub == nil {
		return Match{}, false
	}
	params := make(map[string]string, len(f.Params))
	for _, p := range f.Params {
		if p.Pos == 0 {
			params[p.Name] = p.Value
			continue
		}
		if s, e := sub[2*p.Pos], sub[2*p.Pos+1]; s >= 0 {
			params[p.Name] = text[s:e]
		}
	}
	// Fixed values may name other parameters: "HDX {hw.model}".
	for _, p := range f.Params {
		if p.Pos == 0 && strings.Contains(p.Value, "{") {
			params[p.Name] = interpolation.ReplaceAllStringFunc(p.Value, func(ref string) string {
				return params[ref[1:len(ref)-1]]
			})
		}
	}
	return Match{Fingerprint: f, Params: params}, true
}

// interpolation finds "{param.name}" references in fixed values.
var interpolation = regexp.MustCompile(`\{[A-Za-z0-9_.]+\}`)
