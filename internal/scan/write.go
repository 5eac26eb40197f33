// SPDX-License-Identifier: Apache-2.0

package scan

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/termtext"
)

// Format is an output format of scan.
type Format string

// Formats.
const (
	FormatJSONL Format = "jsonl"
	FormatCSV   Format = "csv"
	FormatText  Format = "text"
)

// ParseFormat reads "jsonl", "csv" or "text".
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatJSONL, FormatCSV, FormatText:
		return f, nil
	}
	return "", fmt.Errorf("scan: format %q is not one of jsonl, csv, text", s)
}

// Writer writes records one at a time, each complete on the output when
// Write returns (streaming: a reader sees a target as soon as it is done).
type Writer interface {
	Write(r *Record) error
}

// NewWriter returns the writer for f.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case FormatCSV:
		return NewCSV(w)
	case FormatText:
		return &TextWriter{w: w}, nil
	}
	return &JSONLWriter{w: w}, nil
}

// JSONLWriter writes one JSON document per line.
type JSONLWriter struct{ w io.Writer }

// Write implements Writer.
func (j *JSONLWriter) Write(r *Record) error {
	b, err := MarshalLine(r)
	if err != nil {
		return err
	}
	_, err = j.w.Write(b)
	return err
}

// MarshalLine renders r as one JSON line, newline included.
func MarshalLine(r *Record) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("scan: encode record %s: %w", r.Target, err)
	}
	return []byte(sb.String()), nil
}

// MarshalPrefixLine renders a prefix summary as one JSON line.
func MarshalPrefixLine(ps *PrefixSummary) ([]byte, error) {
	b, err := json.Marshal(ps)
	if err != nil {
		return nil, fmt.Errorf("scan: encode prefix %s: %w", ps.Prefix, err)
	}
	return append(b, '\n'), nil
}

// CSVHeader is the CSV form's fixed header.
var CSVHeader = []string{"target", "status", "vendor", "model", "hw_rev", "firmware", "identity_confidence",
	"verdict", "severity", "exploited_in_the_wild", "end_of_life", "cves", "open_services",
	"failing_checks", "worst_severity", "unknown_checks", "elapsed_seconds", "deadline_hit"}

// CSVWriter writes the header, then one row per record.
type CSVWriter struct {
	w  io.Writer
	cw *csv.Writer
}

// NewCSV writes the header and returns the writer.
func NewCSV(w io.Writer) (*CSVWriter, error) {
	c := &CSVWriter{w: w, cw: csv.NewWriter(w)}
	if err := c.cw.Write(CSVHeader); err != nil {
		return nil, err
	}
	c.cw.Flush()
	return c, c.cw.Error()
}

// Write implements Writer.
func (c *CSVWriter) Write(r *Record) error {
	var services, failing, unknown []string
	for _, s := range r.Services {
		services = append(services, fmt.Sprintf("%s %s/%d", s.Kind, s.Proto, s.Port))
	}
	for _, f := range r.Findings {
		name := f.CheckID
		if _, key, ok := strings.Cut(f.ID, "/"); ok {
			name += "/" + key
		}
		switch f.Status {
		case finding.StatusFail:
			failing = append(failing, name+":"+f.Severity.String())
		default:
			unknown = append(unknown, name)
		}
	}
	row := []string{r.Target, r.Status, r.Identity.Vendor, r.Identity.Model, r.Identity.HWRev, r.Identity.Firmware,
		r.Identity.Confidence, r.Vulnerability.Verdict, r.Vulnerability.Severity, fmt.Sprint(r.Vulnerability.Exploited),
		fmt.Sprint(r.Vulnerability.EndOfLife), strings.Join(r.Vulnerability.CVEs, " "), strings.Join(services, "; "),
		strings.Join(failing, " "), r.WorstSeverity, strings.Join(unknown, " "), fmt.Sprint(r.ElapsedSeconds), fmt.Sprint(r.DeadlineHit)}
	for i, v := range row {
		row[i] = csvSafe(v)
	}
	if err := c.cw.Write(row); err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

// csvSafe keeps a spreadsheet from reading a device's text as a formula
// (OWASP CSV injection): a value that starts with = + - @ or a tab/CR is
// prefixed with a quote. Device-controlled text reaches the CSV through
// the model and firmware fields.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// TextWriter writes a few lines per record, for people.
type TextWriter struct{ w io.Writer }

// Write implements Writer.
func (t *TextWriter) Write(r *Record) error {
	bw := bufio.NewWriter(t.w)
	// The headline names the target ("Device 192.0.2.1 (…) is …"), with
	// the model the device claimed: escaped, like every string a device
	// chose, before it reaches a terminal.
	fmt.Fprintf(bw, "%s\n", termtext.Line(r.Headline))
	var open []string
	for _, s := range r.Services {
		open = append(open, fmt.Sprintf("%s %s/%d", s.Kind, s.Proto, s.Port))
	}
	if len(open) > 0 {
		fmt.Fprintf(bw, "    open: %s\n", strings.Join(open, ", "))
	}
	for _, f := range r.Findings {
		tag := strings.ToUpper(f.Status.String())
		if f.Status == finding.StatusFail {
			tag += " " + f.Severity.String()
		}
		name := f.CheckID
		if _, key, ok := strings.Cut(f.ID, "/"); ok {
			name += " " + key
		}
		fmt.Fprintf(bw, "    %-13s %s\n", tag, termtext.Line(name))
	}
	return bw.Flush()
}
