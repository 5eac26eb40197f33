// SPDX-License-Identifier: Apache-2.0

package uci

import "fmt"

// Parse reads UCI text: one /etc/config file, or `uci export` output
// with package statements. Sections before any package statement go to
// a first package with an empty Name. A package named twice is an error,
// as in libuci.
func Parse(b []byte) ([]*Package, error) {
	if len(b) > MaxFileSize {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("file is %d bytes, more than the %d a configuration file may have", len(b), MaxFileSize)}
	}
	p := &parser{b: b, line: 1}
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.pkgs, nil
}

type word struct {
	val    string
	span   Span
	quoted bool
}

type parser struct {
	b    []byte
	pos  int
	line int

	pkgs     []*Package
	cur      *Package
	sec      *Section
	sections int
	// Indexes keep parsing linear: a megabyte of option statements on
	// one section must not cost a scan of the section per statement.
	byName map[*Package]map[string]*Section
	opts   map[*Section]map[string]*Option
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Line: p.line, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) run() error {
	p.byName = map[*Package]map[string]*Section{}
	p.opts = map[*Section]map[string]*Option{}
	for {
		line := p.line
		words, eof, err := p.statement()
		if err != nil {
			return err
		}
		if len(words) > 0 {
			if err := p.exec(line, words); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// statement reads the words of one statement, up to a newline or ';'.
func (p *parser) statement() (words []word, eof bool, err error) {
	for {
		for p.pos < len(p.b) && isSpace(p.b[p.pos]) {
			p.pos++
		}
		if p.pos >= len(p.b) {
			return words, true, nil
		}
		switch c := p.b[p.pos]; c {
		case 0:
			return nil, false, p.errf("NUL byte: binary data, not UCI text")
		case '\n':
			p.pos++
			p.line++
			if len(words) > 0 {
				return words, false, nil
			}
		case ';':
			p.pos++
			if len(words) > 0 {
				return words, false, nil
			}
		case '#':
			p.skipComment()
		default:
			w, err := p.word()
			if err != nil {
				return nil, false, err
			}
			words = append(words, w)
		}
	}
}

func (p *parser) skipComment() {
	for p.pos < len(p.b) && p.b[p.pos] != '\n' {
		if p.b[p.pos] == 0 {
			return // statement() reports it
		}
		p.pos++
	}
}

// continuation reports whether a backslash at p.pos-1 ends its line
// (libuci then reads on in the next line) and steps over the newline.
func (p *parser) continuation() bool {
	switch {
	case p.pos >= len(p.b):
		return true
	case p.b[p.pos] == '\n':
		p.pos++
		p.line++
		return true
	case p.b[p.pos] == '\r' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '\n':
		p.pos += 2
		p.line++
		return true
	}
	return false
}

// word reads one word: unquoted and quoted parts up to whitespace, ';'
// or a comment.
func (p *parser) word() (word, error) {
	start := p.pos
	var val []byte
	quoted := false
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == 0:
			return word{}, p.errf("NUL byte: binary data, not UCI text")
		case c == '\'':
			quoted = true
			p.pos++
			for {
				if p.pos >= len(p.b) {
					return word{}, p.errf("unterminated '")
				}
				c := p.b[p.pos]
				p.pos++
				if c == '\'' {
					break
				}
				if c == 0 {
					return word{}, p.errf("NUL byte: binary data, not UCI text")
				}
				if c == '\n' {
					p.line++
				}
				val = append(val, c)
			}
		case c == '"':
			quoted = true
			p.pos++
			for {
				if p.pos >= len(p.b) {
					return word{}, p.errf("unterminated \"")
				}
				c := p.b[p.pos]
				p.pos++
				if c == '"' {
					break
				}
				if c == '\\' {
					if p.continuation() {
						continue
					}
					c = p.b[p.pos]
					p.pos++
				}
				if c == 0 {
					return word{}, p.errf("NUL byte: binary data, not UCI text")
				}
				if c == '\n' {
					p.line++
				}
				val = append(val, c)
			}
		case c == '\\':
			p.pos++
			if p.continuation() {
				continue
			}
			val = append(val, p.b[p.pos])
			p.pos++
		case c == '#':
			// libuci ends the word and the line here.
			end := p.pos
			p.skipComment()
			return word{val: string(val), span: Span{start, end}, quoted: quoted}, nil
		case c == ';' || c == '\n' || isSpace(c):
			return word{val: string(val), span: Span{start, p.pos}, quoted: quoted}, nil
		default:
			val = append(val, c)
			p.pos++
		}
	}
	return word{val: string(val), span: Span{start, p.pos}, quoted: quoted}, nil
}

// exec runs one statement.
func (p *parser) exec(line int, w []word) error {
	kw := w[0]
	if kw.quoted {
		return &SyntaxError{Line: line, Msg: "invalid command"}
	}
	args := w[1:]
	switch kw.val {
	case "package", "p":
		if len(args) != 1 {
			return p.arity(line, "package", args, 1, 1)
		}
		name := args[0].val
		if !ValidPackage(name) {
			return &SyntaxError{Line: line, Msg: fmt.Sprintf("invalid package name %q", name)}
		}
		for _, o := range p.pkgs {
			if o.Name == name {
				return &SyntaxError{Line: line, Msg: fmt.Sprintf("package %q appears twice", name)}
			}
		}
		p.cur = &Package{Name: name}
		p.pkgs = append(p.pkgs, p.cur)
		p.sec = nil
		return nil
	case "config", "c":
		if len(args) < 1 || len(args) > 2 {
			return p.arity(line, "config", args, 1, 2)
		}
		return p.config(line, args)
	case "option", "o", "list", "l":
		if len(args) < 1 || len(args) > 2 {
			return p.arity(line, kw.val, args, 1, 2)
		}
		if p.sec == nil {
			return &SyntaxError{Line: line, Msg: "option/list before the first section"}
		}
		name := args[0].val
		if !ValidName(name) {
			return &SyntaxError{Line: line, Msg: fmt.Sprintf("invalid option name %q", name)}
		}
		var v word
		if len(args) == 2 {
			v = args[1]
		}
		if kw.val == "list" || kw.val == "l" {
			return p.addList(line, name, v)
		}
		return p.setOption(line, name, v)
	}
	return &SyntaxError{Line: line, Msg: "invalid command"}
}

func (p *parser) arity(line int, kw string, args []word, lo, hi int) error {
	if len(args) < lo {
		return &SyntaxError{Line: line, Msg: kw + ": insufficient arguments"}
	}
	return &SyntaxError{Line: line, Msg: kw + ": too many arguments"}
}

func (p *parser) config(line int, args []word) error {
	typ := args[0].val
	if !ValidType(typ) {
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("invalid section type %q", typ)}
	}
	name := ""
	if len(args) == 2 {
		name = args[1].val
	}
	if name != "" && !ValidName(name) {
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("invalid section name %q", name)}
	}
	if p.cur == nil {
		p.cur = &Package{}
		p.pkgs = append(p.pkgs, p.cur)
	}
	if name != "" {
		if s := p.byName[p.cur][name]; s != nil {
			if s.Type != typ {
				return &SyntaxError{Line: line, Msg: fmt.Sprintf("section %q reopened with type %q (it is %q)", name, typ, s.Type)}
			}
			p.sec = s
			return nil
		}
	}
	if p.sections >= MaxSections {
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("more than %d sections", MaxSections)}
	}
	p.sections++
	s := &Section{Type: typ, Name: name, Anonymous: name == "", Line: line}
	p.cur.Sections = append(p.cur.Sections, s)
	if name != "" {
		if p.byName[p.cur] == nil {
			p.byName[p.cur] = map[string]*Section{}
		}
		p.byName[p.cur][name] = s
	}
	p.sec = s
	return nil
}

func (p *parser) option(name string) *Option { return p.opts[p.sec][name] }

func (p *parser) newOption(line int, o *Option) error {
	if len(p.sec.Options) >= MaxOptions {
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("more than %d options in one section", MaxOptions)}
	}
	p.sec.Options = append(p.sec.Options, o)
	if p.opts[p.sec] == nil {
		p.opts[p.sec] = map[string]*Option{}
	}
	p.opts[p.sec][o.Name] = o
	return nil
}

// setOption is libuci's uci_set on an option: an empty value removes it; another
// value replaces it (a list included) where it stands.
func (p *parser) setOption(line int, name string, v word) error {
	o := p.option(name)
	if v.val == "" {
		if o != nil {
			for i, x := range p.sec.Options {
				if x == o {
					p.sec.Options = append(p.sec.Options[:i], p.sec.Options[i+1:]...)
					break
				}
			}
			delete(p.opts[p.sec], name)
		}
		return nil
	}
	if o != nil {
		o.List, o.Values, o.Spans = false, []string{v.val}, []Span{v.span}
		return nil
	}
	return p.newOption(line, &Option{Name: name, Values: []string{v.val}, Spans: []Span{v.span}})
}

// addList is libuci's uci_add_list: an earlier option of the same name
// becomes the list's first element.
func (p *parser) addList(line int, name string, v word) error {
	if o := p.option(name); o != nil {
		o.List = true
		o.Values = append(o.Values, v.val)
		o.Spans = append(o.Spans, v.span)
		return nil
	}
	return p.newOption(line, &Option{Name: name, List: true, Values: []string{v.val}, Spans: []Span{v.span}})
}
