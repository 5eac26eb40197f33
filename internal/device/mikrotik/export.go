// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Export limits. The largest real exports (routers with big address lists
// and scripts) are a few megabytes; a logical line is one command.
const (
	MaxExportBytes  = 16 << 20
	maxLineBytes    = 1 << 20
	maxCommands     = 500_000
	maxPropsPerLine = 1024
	maxWarnings     = 50
)

// errSyntax marks a line the parser could not read.
var errSyntax = errors.New("syntax error")

// Export is a parsed RouterOS /export file.
type Export struct {
	// From the header: "# sep/19/2022 19:12:47 by RouterOS 6.49.6",
	// "# software id = …", "# model = 951Ui-2HnD", "# serial number = …".
	HasHeader  bool
	Date       string
	Version    string
	SoftwareID string
	Model      string
	Serial     string

	Commands []Command
	// Damaged are the menus (canonical keys) with a line that did not
	// parse: their omitted values are not defaulted.
	Damaged  map[string]bool
	Warnings []string
}

// Command is one logical line: a verb in a menu.
type Command struct {
	// Line is the physical line (1-based) where the command starts.
	Line int
	// Menu is the canonical menu key: "ip/dhcp-server/network".
	Menu string
	// Verb is "add", "set", "remove", "disable", "enable", ….
	Verb string
	// Target is the item named after the verb ("telnet", "0", "*0",
	// "telnet,ftp"); empty when none.
	Target string
	// targetStart and targetEnd are Target's raw byte span.
	targetStart, targetEnd int
	// Find holds the conditions of a "[ find … ]" target.
	Find []Prop
	// HasFind is true for a "[ find … ]" target, even an empty one.
	HasFind bool
	Props   []Prop
}

// Prop is one name=value argument.
type Prop struct {
	Name  string
	Value string
	// Unset marks "!name": the property has no value (verbose exports).
	Unset bool
	// valStart and valEnd are the raw byte span of the value in the
	// input, for redaction; valStart < 0 when there is no value.
	valStart, valEnd int
}

// Get returns the value of the first property named name.
func (c *Command) Get(name string) (string, bool) {
	for _, p := range c.Props {
		if p.Name == name && !p.Unset {
			return p.Value, true
		}
	}
	return "", false
}

var (
	headerRe = regexp.MustCompile(`^#\s*(.*?)\s*by RouterOS\s+(\S+)`)
	promptRe = regexp.MustCompile(`^\s*\[[^\]]*@[^\]]*\]\s*>`)
)

// verbs are the console commands that can follow a menu path.
var verbs = map[string]bool{
	"add": true, "set": true, "remove": true, "disable": true, "enable": true,
	"unset": true, "reset": true, "print": true, "export": true, "edit": true,
	"comment": true, "move": true, "find": true,
}

// ParseExport parses an export. It fails (wrapping errSyntax) only when
// the input is too large or holds no RouterOS line at all; a line it
// cannot read becomes a warning and marks its menu damaged.
func ParseExport(b []byte) (*Export, error) {
	if len(b) > MaxExportBytes {
		return nil, fmt.Errorf("export is %d bytes, more than the %d allowed: %w", len(b), MaxExportBytes, errSyntax)
	}
	e := &Export{Damaged: map[string]bool{}}
	lx := &lexer{b: b, line: 1}
	if strings.HasPrefix(string(b[:min(len(b), 3)]), "\xef\xbb\xbf") {
		lx.pos = 3 // a UTF-8 byte order mark
	}
	menu := ""
	sawCommand := false
	for !lx.eof() {
		toks, startLine, err := lx.logicalLine()
		if err != nil {
			e.warn(fmt.Sprintf("line %d: %v", startLine, err))
			if menu != "" {
				e.Damaged[menu] = true
			}
			continue
		}
		if len(toks) == 0 {
			continue
		}
		first := toks[0]
		switch {
		case first.comment:
			if !sawCommand {
				e.header(first.raw)
			}
			continue
		case first.raw == "[" && promptRe.MatchString(lx.rawLine(first.start)):
			// A console prompt saved with the output (one real sample
			// ends with "[admin@…] > "): not a command.
			continue
		}
		var rest []token
		if strings.HasPrefix(first.raw, "/") {
			path, n, verb := menuPath(toks)
			menu = path
			rest = toks[n:]
			if verb != "" {
				rest = append([]token{{text: verb, raw: verb, eq: -1, valStart: -1}}, rest...)
			}
			if len(rest) == 0 {
				continue
			}
		} else {
			rest = toks
		}
		if menu == "" {
			e.warn(fmt.Sprintf("line %d: command outside any menu", startLine))
			continue
		}
		if strings.HasPrefix(rest[0].raw, ":") {
			e.warn(fmt.Sprintf("line %d: script command %q not read", startLine, rest[0].text))
			continue
		}
		cmd, err := parseCommand(menu, rest, startLine)
		if err != nil {
			e.warn(fmt.Sprintf("line %d: %v", startLine, err))
			e.Damaged[menu] = true
			continue
		}
		if len(e.Commands) >= maxCommands {
			return nil, fmt.Errorf("more than %d commands: %w", maxCommands, errSyntax)
		}
		sawCommand = true
		e.Commands = append(e.Commands, cmd)
	}
	if !e.HasHeader && len(e.Commands) == 0 {
		return nil, fmt.Errorf("no RouterOS header and no command: %w", errSyntax)
	}
	return e, nil
}

func (e *Export) warn(s string) {
	if len(e.Warnings) < maxWarnings {
		e.Warnings = append(e.Warnings, s)
	} else if len(e.Warnings) == maxWarnings {
		e.Warnings = append(e.Warnings, "more warnings not shown")
	}
}

// header reads one comment line of the header block.
func (e *Export) header(line string) {
	line = strings.TrimRight(line, "\r\n ")
	if m := headerRe.FindStringSubmatch(line); m != nil {
		e.HasHeader = true
		e.Date, e.Version = m[1], m[2]
		return
	}
	k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), "=")
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	switch strings.TrimSpace(k) {
	case "software id":
		e.SoftwareID = v
	case "model":
		e.Model = v
	case "serial number":
		e.Serial = v
	}
}

// menuPath reads "/ip dhcp-server network" (or "/ip/dhcp-server/network")
// from the start of toks and returns the canonical key, how many tokens
// it used, and a verb written in the slash form ("/ip/dns/set").
func menuPath(toks []token) (string, int, string) {
	var parts []string
	n := 0
	slashForm := strings.Contains(toks[0].text[1:], "/")
	for i, t := range toks {
		if i > 0 && (slashForm || verbs[t.text] || strings.ContainsAny(t.raw, "=[]\"!") || strings.HasPrefix(t.raw, "/")) {
			break
		}
		for _, p := range strings.Split(t.text, "/") {
			if p != "" {
				parts = append(parts, p)
			}
		}
		n = i + 1
	}
	verb := ""
	if len(parts) > 1 && verbs[parts[len(parts)-1]] && slashForm {
		verb = parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "/"), n, verb
}

// parseCommand reads "verb [target] props…".
func parseCommand(menu string, toks []token, line int) (Command, error) {
	c := Command{Line: line, Menu: menu, Verb: toks[0].text}
	if !verbs[c.Verb] {
		return c, fmt.Errorf("unknown command %q: %w", c.Verb, errSyntax)
	}
	toks = toks[1:]
	// The target: "[ find … ]", or a bare word (a name, a number, *id).
	if len(toks) > 0 && toks[0].raw == "[" {
		c.HasFind = true
		end := -1
		for i, t := range toks {
			if t.raw == "]" {
				end = i
				break
			}
		}
		if end < 0 {
			return c, fmt.Errorf("unterminated [ find ]: %w", errSyntax)
		}
		for _, t := range toks[1:end] {
			if t.text == "find" || t.text == "where" {
				continue
			}
			c.Find = append(c.Find, t.prop())
		}
		toks = toks[end+1:]
	} else if len(toks) > 0 && toks[0].eq < 0 && !strings.HasPrefix(toks[0].raw, "!") {
		c.Target = toks[0].text
		c.targetStart, c.targetEnd = toks[0].start, toks[0].end
		toks = toks[1:]
	}
	if len(toks) > maxPropsPerLine {
		return c, fmt.Errorf("more than %d properties: %w", maxPropsPerLine, errSyntax)
	}
	for _, t := range toks {
		if t.raw == "[" || t.raw == "]" {
			return c, fmt.Errorf("unexpected %q: %w", t.raw, errSyntax)
		}
		c.Props = append(c.Props, t.prop())
	}
	return c, nil
}

// token is one whitespace-separated word of a logical line.
type token struct {
	// text is the word with quotes removed and escapes applied; raw is
	// its source text (continuations removed), for syntax checks.
	text, raw string
	// eq is the index in text of the '=' that ends the name, or -1.
	eq int
	// start and end are its raw byte span; valStart the raw offset where
	// the value starts (after '=').
	start, end, valStart int
	// comment marks a "#" line; raw holds the whole line.
	comment bool
	// noName: a quote, backslash or leading '!' came before any '=', so
	// the word has no name=value split.
	noName bool
}

func (t token) prop() Prop {
	if t.eq < 0 {
		if strings.HasPrefix(t.text, "!") {
			return Prop{Name: t.text[1:], Unset: true, valStart: -1}
		}
		return Prop{Name: t.text, valStart: -1}
	}
	return Prop{Name: t.text[:t.eq], Value: t.text[t.eq+1:], valStart: t.valStart, valEnd: t.end}
}

// lexer splits the input into logical lines of tokens. A backslash at the
// end of a physical line continues the logical line; RouterOS indents the
// continuation by four spaces, which are not part of the text (a wrap may
// fall inside a word: "disabled=\" + "    no").
type lexer struct {
	b    []byte
	pos  int
	line int
}

func (l *lexer) eof() bool { return l.pos >= len(l.b) }

// rawLine returns the physical line that starts at or contains off.
func (l *lexer) rawLine(off int) string {
	start := off
	for start > 0 && l.b[start-1] != '\n' {
		start--
	}
	end := off
	for end < len(l.b) && l.b[end] != '\n' {
		end++
	}
	return string(l.b[start:end])
}

// continuation reports whether a backslash at i starts a line
// continuation and returns the offset after it (and its indent).
func (l *lexer) continuation(i int) (int, bool) {
	j := i + 1
	if j < len(l.b) && l.b[j] == '\r' {
		j++
	}
	if j >= len(l.b) || l.b[j] != '\n' {
		return 0, false
	}
	j++
	for k := 0; k < 4 && j < len(l.b) && l.b[j] == ' '; k++ {
		j++
	}
	return j, true
}

// logicalLine returns the tokens of the next logical line and the
// physical line it starts on. On a syntax error it skips to the end of
// the logical line.
func (l *lexer) logicalLine() ([]token, int, error) {
	startLine := l.line
	var toks []token
	var text, raw strings.Builder
	inTok, quoted := false, false
	var cur token
	lineBytes := 0
	finish := func(end int) {
		if !inTok {
			return
		}
		cur.text, cur.raw, cur.end = text.String(), raw.String(), end
		toks = append(toks, cur)
		text.Reset()
		raw.Reset()
		inTok = false
	}
	begin := func(at int) {
		if !inTok {
			cur = token{start: at, eq: -1, valStart: -1}
			inTok = true
		}
	}
	for l.pos < len(l.b) {
		i := l.pos
		c := l.b[i]
		lineBytes++
		if lineBytes > maxLineBytes {
			l.skipLine()
			return nil, startLine, fmt.Errorf("logical line longer than %d bytes: %w", maxLineBytes, errSyntax)
		}
		if c == '\\' {
			if next, ok := l.continuation(i); ok {
				l.pos = next
				l.line++
				continue
			}
		}
		if c == '\n' {
			l.pos++
			l.line++
			if quoted {
				return nil, startLine, fmt.Errorf("unterminated quoted value: %w", errSyntax)
			}
			finish(i)
			return toks, startLine, nil
		}
		if !quoted && (c == ' ' || c == '\t' || c == '\r') {
			finish(i)
			l.pos++
			continue
		}
		if c == '#' && len(toks) == 0 && !inTok {
			// A comment runs to the end of the physical line; its text
			// is not RouterOS syntax (quotes need not pair).
			end := i
			for end < len(l.b) && l.b[end] != '\n' {
				end++
			}
			line := string(l.b[i:end])
			l.pos = end
			if end < len(l.b) {
				l.pos++
				l.line++
			}
			return []token{{raw: line, text: line, start: i, end: end, eq: -1, valStart: -1, comment: true}}, startLine, nil
		}
		if !quoted && (c == '[' || c == ']') {
			// Brackets are tokens of their own: "[ find … ]" and
			// "[find …]".
			finish(i)
			toks = append(toks, token{start: i, end: i + 1, eq: -1, valStart: -1, text: string(c), raw: string(c)})
			l.pos++
			continue
		}
		begin(i)
		switch {
		case c == '"':
			quoted = !quoted
			if cur.eq < 0 {
				cur.noName = true
			}
			raw.WriteByte(c)
			l.pos++
		case c == '\\':
			if cur.eq < 0 {
				cur.noName = true
			}
			r, n := unescape(l.b[i+1:])
			text.WriteString(r)
			raw.Write(l.b[i : i+1+n])
			l.pos += 1 + n
		case !quoted && c == '=' && cur.eq < 0 && raw.Len() > 0 && !cur.noName:
			// The first bare '=' ends the name ("!name" marks an unset
			// property and has no value).
			cur.eq = text.Len()
			cur.valStart = i + 1
			text.WriteByte(c)
			raw.WriteByte(c)
			l.pos++
		default:
			if c == '!' && raw.Len() == 0 {
				cur.noName = true
			}
			text.WriteByte(c)
			raw.WriteByte(c)
			l.pos++
		}
	}
	if quoted {
		return nil, startLine, fmt.Errorf("unterminated quoted value at end of file: %w", errSyntax)
	}
	finish(l.pos)
	return toks, startLine, nil
}

func (l *lexer) skipLine() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if c == '\\' {
			if next, ok := l.continuation(l.pos); ok {
				l.pos = next
				l.line++
				continue
			}
		}
		l.pos++
		if c == '\n' {
			l.line++
			return
		}
	}
}

// unescape reads the escape after a backslash (b starts after it) and
// returns its text and how many bytes it used. RouterOS escapes: \" \\
// \n \r \t \$ \? \_ (space) \a \b \f \v and two hex digits for a byte.
func unescape(b []byte) (string, int) {
	if len(b) == 0 {
		return `\`, 0
	}
	// Hex escapes are upper case ("\C3\A9"), so "\ab" is a bell and a "b".
	if len(b) >= 2 && isHex(b[0]) && isHex(b[1]) {
		return string([]byte{hexVal(b[0])<<4 | hexVal(b[1])}), 2
	}
	switch b[0] {
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 't':
		return "\t", 1
	case '_':
		return " ", 1
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'f':
		return "\f", 1
	case 'v':
		return "\v", 1
	case '\n', '\r':
		// A backslash at the end of the file's last line.
		return "", 0
	}
	return string(b[:1]), 1
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
