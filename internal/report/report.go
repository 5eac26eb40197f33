// SPDX-License-Identifier: Apache-2.0

// Package report renders a Report — run metadata, the subjects examined,
// findings and steps — as text for people, JSON for machines and HTML for
// sharing. It knows nothing about DNS or routers: the dns command and the
// check command build Reports from their own findings.
//
// The contract: the text form puts the verdict first, in words a home user
// understands, and uses colour only when asked (the caller decides whether
// stdout is a terminal); the JSON form has stable snake_case field names
// and a schema_version that changes when a field changes meaning; the HTML
// form is html/template from an embedded file, never hand-built. Renderers
// are deterministic: the same Report gives the same bytes.
package report

import (
	"fmt"
	"io"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// SchemaVersion is the version of the JSON form. Bump it when a field is
// removed or changes meaning; adding a field does not bump it.
const SchemaVersion = 1

// Level is the overall outcome of a run, for the first line.
type Level string

// Levels, worst last.
const (
	LevelOK         Level = "ok"         // nothing failed, everything was checked
	LevelIncomplete Level = "incomplete" // nothing failed, but something that matters (medium or above) could not be checked
	LevelWarning    Level = "warning"    // something failed below high severity
	LevelFail       Level = "fail"       // something failed at high severity or above
)

// Tool names the program that made the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Verdict is the report's first line.
type Verdict struct {
	Level Level `json:"level"`
	// Headline is one sentence; empty means Finish writes one from the
	// findings.
	Headline string `json:"headline"`
}

// Subject is one thing examined (a resolver, a router, a target).
type Subject struct {
	// ID matches the part of finding IDs after '@'.
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
	// Verdict is the subject's own verdict, when the producer has one
	// ("clean", "hijacked").
	Verdict    string             `json:"verdict,omitempty"`
	Attributes []finding.Evidence `json:"attributes,omitempty"`
}

// Change is one change of a router's settings, in words, with how much
// it matters.
type Change struct {
	// Path names the setting ("dhcp_dns[0]").
	Path     string           `json:"path"`
	Severity finding.Severity `json:"severity"`
	// Text says it: "DHCP DNS primary changed from 192.168.0.1 to
	// 203.0.113.66 — not in your allowed resolvers".
	Text string `json:"text"`
}

// Summary counts findings by status.
type Summary struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	Error   int `json:"error"`
}

// Report is everything one run found.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	Command       string    `json:"command"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// DurationSeconds is FinishedAt - StartedAt.
	DurationSeconds float64           `json:"duration_seconds"`
	Verdict         Verdict           `json:"verdict"`
	Summary         Summary           `json:"summary"`
	Subjects        []Subject         `json:"subjects"`
	Findings        []finding.Finding `json:"findings"`
	Steps           []finding.Step    `json:"steps"`
	// Changes are what changed in the router's settings since the last
	// reading (config pull, watch), most severe first.
	Changes []Change `json:"changes,omitempty"`
	// Notes are facts about the run itself (scope, data versions).
	Notes []string `json:"notes,omitempty"`
}

// Finish fills the derived fields: schema version, duration, summary,
// and the verdict level (and headline, when empty) from the findings.
// Call it once the findings are in.
func (r *Report) Finish() {
	r.SchemaVersion = SchemaVersion
	r.DurationSeconds = r.FinishedAt.Sub(r.StartedAt).Seconds()
	r.Summary = Summary{}
	worst := -1
	undecided := 0 // unknown or error at medium severity or above
	for _, f := range r.Findings {
		switch f.Status {
		case finding.StatusPass:
			r.Summary.Pass++
		case finding.StatusFail:
			r.Summary.Fail++
			worst = max(worst, int(f.Severity))
		case finding.StatusUnknown:
			r.Summary.Unknown++
		default:
			r.Summary.Error++
		}
		if f.Status >= finding.StatusUnknown && f.Severity >= finding.SeverityMedium {
			undecided++
		}
	}
	switch {
	case worst >= int(finding.SeverityHigh):
		r.Verdict.Level = LevelFail
	case worst >= 0:
		r.Verdict.Level = LevelWarning
	case undecided > 0:
		r.Verdict.Level = LevelIncomplete
	default:
		r.Verdict.Level = LevelOK
	}
	if r.Verdict.Headline == "" {
		r.Verdict.Headline = defaultHeadline(r)
	}
	if r.Subjects == nil {
		r.Subjects = []Subject{}
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	if r.Steps == nil {
		r.Steps = []finding.Step{}
	}
}

func defaultHeadline(r *Report) string {
	switch r.Verdict.Level {
	case LevelFail, LevelWarning:
		return fmt.Sprintf("%d problem(s) found.", r.Summary.Fail)
	case LevelIncomplete:
		return "Nothing failed, but some checks could not be completed."
	}
	return "Nothing wrong found."
}

// Failing counts failing findings at or above min.
func (r *Report) Failing(min finding.Severity) int {
	n := 0
	for i := range r.Findings {
		if r.Findings[i].Failing(min) {
			n++
		}
	}
	return n
}

// Format is an output format.
type Format string

// Formats.
const (
	FormatText Format = "text"
	FormatJSON Format = "json"
	FormatHTML Format = "html"
)

// ParseFormat reads "text", "json" or "html".
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON, FormatHTML:
		return f, nil
	}
	return "", fmt.Errorf("report: format %q is not one of text, json, html", s)
}

// Options tune the text form.
type Options struct {
	// Color adds ANSI colours; set it only for a terminal.
	Color bool
	// Verbose shows the evidence of passing findings too.
	Verbose bool
}

// Write renders r in format f.
func Write(w io.Writer, r *Report, f Format, o Options) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatHTML:
		return WriteHTML(w, r)
	}
	return WriteText(w, r, o)
}
