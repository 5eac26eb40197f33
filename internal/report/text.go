// SPDX-License-Identifier: Apache-2.0

package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// esc makes a string that came from a device, a document or the command
// line safe for a terminal; every such string goes through it before it
// is painted (the colours are the only escape sequences this file writes).
func esc(s string) string { return termtext.Text(s) }

// width is where text is wrapped: readable in any terminal.
const width = 78

// ANSI colours.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// wrapped writes s wrapped at width, every line indented by indent.
func (t *textWriter) wrapped(indent, s string) { t.hanging(indent, indent, s) }

// hanging writes s wrapped at width: the first line starts with first,
// the others with rest (which must be as wide as first looks).
func (t *textWriter) hanging(first, rest, s string) {
	prefix := first
	for _, para := range strings.Split(s, "\n") {
		for _, l := range wrap(para, width-visibleLen(rest)) {
			t.w.WriteString(prefix + l + "\n")
			prefix = rest
		}
	}
}

// WriteText renders r for people: the verdict, the steps, then the
// findings grouped as problems, checks that could not be completed, and
// passes.
func WriteText(w io.Writer, r *Report, o Options) error {
	t := &textWriter{w: bufio.NewWriter(w), color: o.Color}
	mark, code := levelMark(r.Verdict.Level)
	t.wrapped("", t.paint(ansiBold+code, mark+" "+esc(r.Verdict.Headline)))
	if len(r.Steps) > 0 {
		t.w.WriteString("\n" + t.paint(ansiBold, "What to do") + "\n")
		for i, s := range r.Steps {
			t.hanging(fmt.Sprintf("%2d. ", i+1), "    ", esc(s.Title))
			if s.Detail != "" {
				t.wrapped("    ", esc(s.Detail))
			}
		}
	}
	if len(r.Changes) > 0 {
		t.w.WriteString("\n" + t.paint(ansiBold, fmt.Sprintf("Changes (%d)", len(r.Changes))) + "\n")
		for _, c := range r.Changes {
			code := ansiDim
			if c.Severity >= finding.SeverityHigh {
				code = ansiRed
			} else if c.Severity >= finding.SeverityMedium {
				code = ansiYellow
			}
			tag := c.Severity.String()
			pad := strings.Repeat(" ", max(1, len(findingIndent)-2-len(tag)))
			t.hanging("  "+t.paint(code, tag)+pad, findingIndent, esc(c.Text))
		}
	}
	groups := []struct {
		title string
		keep  func(finding.Status) bool
		full  bool
	}{
		{"Problems", func(s finding.Status) bool { return s == finding.StatusFail }, true},
		{"Could not check", func(s finding.Status) bool { return s == finding.StatusUnknown || s == finding.StatusError }, true},
		{"Passed", func(s finding.Status) bool { return s == finding.StatusPass }, o.Verbose},
	}
	for _, g := range groups {
		var fs []*finding.Finding
		for i := range r.Findings {
			if g.keep(r.Findings[i].Status) {
				fs = append(fs, &r.Findings[i])
			}
		}
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(t.w, "\n%s\n", t.paint(ansiBold, fmt.Sprintf("%s (%d)", g.title, len(fs))))
		for _, f := range fs {
			t.finding(f, g.full)
		}
	}
	t.w.WriteString("\n" + t.paint(ansiDim, esc(footer(r))) + "\n")
	return t.w.Flush()
}

func levelMark(l Level) (string, string) {
	switch l {
	case LevelFail:
		return "✗", ansiRed
	case LevelWarning:
		return "!", ansiYellow
	case LevelIncomplete:
		return "?", ansiYellow
	}
	return "✓", ansiGreen
}

// findingIndent is where a finding's text starts, after "  FAIL critical ".
const findingIndent = "                 "

func (t *textWriter) finding(f *finding.Finding, full bool) {
	var tag, code string
	switch f.Status {
	case finding.StatusFail:
		tag, code = "FAIL "+f.Severity.String(), ansiRed
		if f.Severity < finding.SeverityMedium {
			code = ansiYellow
		}
	case finding.StatusUnknown:
		tag, code = "UNKNOWN", ansiYellow
	case finding.StatusError:
		tag, code = "ERROR", ansiYellow
	default:
		tag, code = "PASS", ansiGreen
	}
	title := esc(f.Title)
	if f.Status == finding.StatusFail {
		title += " [" + f.Confidence.String() + " confidence]"
	}
	pad := strings.Repeat(" ", len(findingIndent)-2-len(tag))
	t.hanging("  "+t.paint(code, tag)+pad, findingIndent, title)
	t.wrapped(findingIndent, t.paint(ansiDim, esc(f.Subject)+" · "+esc(f.CheckID)))
	if !full {
		return
	}
	if f.Detail != "" {
		t.wrapped(findingIndent, esc(f.Detail))
	}
	if f.Remediation != "" {
		t.hanging(findingIndent+"→ ", findingIndent+"  ", esc(f.Remediation))
	}
	// Evidence of an informational unknown ("not consulted") adds
	// nothing a reader needs; JSON and HTML keep it.
	if f.Status == finding.StatusFail || f.Severity > finding.SeverityInfo || full && f.Status == finding.StatusPass {
		for _, e := range f.Evidence {
			t.hanging(findingIndent+"- ", findingIndent+"  ", t.paint(ansiDim, esc(e.Key)+":")+" "+esc(e.Value))
		}
	}
	for _, ref := range f.References {
		t.hanging(findingIndent+"- ", findingIndent+"  ", t.paint(ansiDim, "see:")+" "+esc(strings.TrimSpace(ref.ID+" "+ref.URL)))
	}
}

func footer(r *Report) string {
	parts := []string{strings.TrimSpace(r.Tool.Name + " " + r.Command)}
	if r.Tool.Version != "" {
		parts[0] += " (" + r.Tool.Version + ")"
	}
	if !r.StartedAt.IsZero() {
		parts = append(parts, r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		parts = append(parts, (time.Duration(r.DurationSeconds*1000) * time.Millisecond).String())
	}
	parts = append(parts, fmt.Sprintf("%d pass, %d fail, %d unknown, %d error", r.Summary.Pass, r.Summary.Fail, r.Summary.Unknown, r.Summary.Error))
	out := strings.Join(parts, " · ")
	for _, n := range r.Notes {
		out += "\n" + n
	}
	return out
}

// wrap splits s into lines of at most n runes at spaces; a longer word
// gets a line of its own.
func wrap(s string, n int) []string {
	if n < 20 {
		n = 20
	}
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	cur := words[0]
	for _, w := range words[1:] {
		if visibleLen(cur)+1+visibleLen(w) > n {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur += " " + w
	}
	return append(lines, cur)
}

// visibleLen counts runes outside ANSI escape sequences.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			if r == 'm' {
				esc = false
			}
		case r == '\x1b':
			esc = true
		default:
			n++
		}
	}
	return n
}
