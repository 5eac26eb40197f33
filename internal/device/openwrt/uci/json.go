// SPDX-License-Identifier: Apache-2.0

package uci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// MaxValuesSize bounds a `uci get` reply: the JSON of a configuration is
// about twice its text, so four times the text bound leaves room.
const MaxValuesSize = 4 * MaxFileSize

// DecodeValues reads the object rpcd's `uci get {"config": name}`
// returns, {"values": {"<section>": {".anonymous": …, ".type": …,
// ".name": …, ".index": …, "<option>": "v" or ["v", …]}}}, into a
// package called name. Sections come in ".index" order when every
// section has one, else in the order of the reply. Every option value
// must be a string or an array of strings (rpcd writes nothing else).
func DecodeValues(name string, b []byte) (*Package, error) {
	if len(b) > MaxValuesSize {
		return nil, fmt.Errorf("%w: uci get reply is %d bytes, more than %d", ErrSyntax, len(b), MaxValuesSize)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	p := &Package{Name: name}
	if err := expectDelim(d, '{'); err != nil {
		return nil, err
	}
	seen := false
	for d.More() {
		key, err := stringToken(d)
		if err != nil {
			return nil, err
		}
		if key != "values" {
			if err := skipValue(d); err != nil {
				return nil, err
			}
			continue
		}
		if seen {
			return nil, fmt.Errorf("%w: two \"values\" members", ErrSyntax)
		}
		seen = true
		if err := decodeSections(d, p); err != nil {
			return nil, err
		}
	}
	if err := expectDelim(d, '}'); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the reply object", ErrSyntax)
	}
	if !seen {
		return nil, fmt.Errorf("%w: reply has no \"values\"", ErrSyntax)
	}
	return p, nil
}

func decodeSections(d *json.Decoder, p *Package) error {
	if err := expectDelim(d, '{'); err != nil {
		return err
	}
	type indexed struct {
		s   *Section
		idx int64
		has bool
	}
	var all []indexed
	names := map[string]bool{}
	for d.More() {
		key, err := stringToken(d)
		if err != nil {
			return err
		}
		if len(all) >= MaxSections {
			return fmt.Errorf("%w: more than %d sections", ErrSyntax, MaxSections)
		}
		if !ValidName(key) {
			return fmt.Errorf("%w: invalid section name %q", ErrSyntax, key)
		}
		if names[key] {
			return fmt.Errorf("%w: section %q appears twice", ErrSyntax, key)
		}
		names[key] = true
		s := &Section{Name: key}
		x := indexed{s: s}
		if err := expectDelim(d, '{'); err != nil {
			return err
		}
		opts := map[string]bool{}
		for d.More() {
			k, err := stringToken(d)
			if err != nil {
				return err
			}
			switch k {
			case ".anonymous":
				t, err := d.Token()
				if err != nil {
					return fmt.Errorf("%w: %v", ErrSyntax, err)
				}
				b, ok := t.(bool)
				if !ok {
					return fmt.Errorf("%w: .anonymous of %q is not a boolean", ErrSyntax, key)
				}
				s.Anonymous = b
			case ".type":
				t, err := stringToken(d)
				if err != nil {
					return err
				}
				if !ValidType(t) {
					return fmt.Errorf("%w: invalid section type %q", ErrSyntax, t)
				}
				s.Type = t
			case ".index":
				t, err := d.Token()
				if err != nil {
					return fmt.Errorf("%w: %v", ErrSyntax, err)
				}
				n, ok := t.(json.Number)
				if !ok {
					return fmt.Errorf("%w: .index of %q is not a number", ErrSyntax, key)
				}
				i, err := strconv.ParseInt(string(n), 10, 32)
				if err != nil {
					return fmt.Errorf("%w: .index of %q: %v", ErrSyntax, key, err)
				}
				x.idx, x.has = i, true
			default:
				if len(k) > 0 && k[0] == '.' {
					// ".name" repeats the key; other dotted members
					// are rpcd metadata this package does not need.
					if err := skipValue(d); err != nil {
						return err
					}
					continue
				}
				if !ValidName(k) {
					return fmt.Errorf("%w: invalid option name %q in %q", ErrSyntax, k, key)
				}
				if opts[k] {
					return fmt.Errorf("%w: option %q appears twice in %q", ErrSyntax, k, key)
				}
				if len(s.Options) >= MaxOptions {
					return fmt.Errorf("%w: more than %d options in %q", ErrSyntax, MaxOptions, key)
				}
				opts[k] = true
				o, err := decodeOption(d, k)
				if err != nil {
					return fmt.Errorf("%w (section %q)", err, key)
				}
				s.Options = append(s.Options, o)
			}
		}
		if err := expectDelim(d, '}'); err != nil {
			return err
		}
		if s.Type == "" {
			return fmt.Errorf("%w: section %q has no .type", ErrSyntax, key)
		}
		all = append(all, x)
	}
	if err := expectDelim(d, '}'); err != nil {
		return err
	}
	everyIndexed := len(all) > 0
	for _, x := range all {
		everyIndexed = everyIndexed && x.has
	}
	if everyIndexed {
		sort.SliceStable(all, func(i, j int) bool { return all[i].idx < all[j].idx })
	}
	for _, x := range all {
		p.Sections = append(p.Sections, x.s)
	}
	return nil
}

func decodeOption(d *json.Decoder, name string) (*Option, error) {
	t, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	switch v := t.(type) {
	case string:
		return &Option{Name: name, Values: []string{v}}, nil
	case json.Delim:
		if v != '[' {
			break
		}
		o := &Option{Name: name, List: true, Values: []string{}}
		for d.More() {
			s, err := stringToken(d)
			if err != nil {
				return nil, fmt.Errorf("%w: list %q: %v", ErrSyntax, name, err)
			}
			o.Values = append(o.Values, s)
		}
		if err := expectDelim(d, ']'); err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, fmt.Errorf("%w: option %q is neither a string nor a list of strings", ErrSyntax, name)
}

func expectDelim(d *json.Decoder, want json.Delim) error {
	t, err := d.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if got, ok := t.(json.Delim); !ok || got != want {
		return fmt.Errorf("%w: expected %q, found %v", ErrSyntax, want, t)
	}
	return nil
}

func stringToken(d *json.Decoder) (string, error) {
	t, err := d.Token()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	s, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("%w: expected a string, found %v", ErrSyntax, t)
	}
	return s, nil
}

// skipValue consumes one value of any kind.
func skipValue(d *json.Decoder) error {
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		if delim, ok := t.(json.Delim); ok {
			switch delim {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// EncodeValues writes p the way rpcd's `uci get` answers, with sections
// and options in order: the inverse of DecodeValues.
func EncodeValues(p *Package) []byte {
	var b bytes.Buffer
	b.WriteString(`{"values":{`)
	for i, s := range p.Sections {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(&b, s.Name)
		b.WriteString(`:{".anonymous":`)
		b.WriteString(strconv.FormatBool(s.Anonymous))
		b.WriteString(`,".type":`)
		writeJSON(&b, s.Type)
		b.WriteString(`,".name":`)
		writeJSON(&b, s.Name)
		b.WriteString(`,".index":`)
		b.WriteString(strconv.Itoa(i))
		for _, o := range s.Options {
			b.WriteByte(',')
			writeJSON(&b, o.Name)
			b.WriteByte(':')
			if o.List {
				writeJSON(&b, o.Values)
			} else {
				v := ""
				if len(o.Values) > 0 {
					v = o.Values[0]
				}
				writeJSON(&b, v)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString("}}")
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	// Strings and string slices always marshal (invalid UTF-8 becomes
	// U+FFFD), so there is no error to handle.
	out, _ := json.Marshal(v)
	b.Write(out)
}
