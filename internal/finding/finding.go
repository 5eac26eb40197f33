// SPDX-License-Identifier: Apache-2.0

// Package finding defines the verdicts routerwatch reports: a Finding with
// a stable check ID, a status (pass, fail, unknown, error), a severity, a
// confidence, evidence and plain-words remediation.
//
// The contract: a check that could not decide reports StatusUnknown with
// the reason in Detail, never a silent pass; Evidence never holds secrets.
// JSON field names are snake_case and stable (schema version in Report).
package finding

import (
	"fmt"
	"strings"
	"time"
)

// Status is the outcome of one check on one subject.
type Status uint8

// Statuses.
const (
	StatusPass    Status = iota // checked and fine
	StatusFail                  // checked and not fine
	StatusUnknown               // could not decide; Detail says why
	StatusError                 // the check itself broke; Detail says how
)

var statusNames = [...]string{"pass", "fail", "unknown", "error"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if string(b) == n {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("finding: unknown status %q", b)
}

// Severity orders how much a failing finding matters.
type Severity uint8

// Severities, lowest first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads a severity name (any case).
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("severity %q is not one of %s", name, strings.Join(severityNames[:], ", "))
}

// SeverityFromCVSS maps a CVSS base score to a severity with the CVSS v3
// qualitative bands; 0 (no score) is info.
func SeverityFromCVSS(score float64) Severity {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityInfo
}

// Confidence says how sure a finding is.
type Confidence uint8

// Confidence levels.
const (
	ConfidenceLow Confidence = iota
	ConfidenceMedium
	ConfidenceHigh
)

var confidenceNames = [...]string{"low", "medium", "high"}

func (c Confidence) String() string {
	if int(c) < len(confidenceNames) {
		return confidenceNames[c]
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so that findings
// written as JSON (scan's resume file) read back.
func (c *Confidence) UnmarshalText(b []byte) error {
	for i, n := range confidenceNames {
		if string(b) == n {
			*c = Confidence(i)
			return nil
		}
	}
	return fmt.Errorf("finding: unknown confidence %q", b)
}

// Evidence is one small fact behind a finding. Never a secret.
type Evidence struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Reference points at a CVE, a KEV entry or an advisory.
type Reference struct {
	Kind string `json:"kind"` // "cve", "kev", "advisory", "url"
	ID   string `json:"id,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Finding is one verdict of one check on one subject.
type Finding struct {
	// ID is stable across runs: the check ID plus the subject.
	ID          string      `json:"id"`
	CheckID     string      `json:"check_id"`
	Subject     string      `json:"subject"`
	Status      Status      `json:"status"`
	Severity    Severity    `json:"severity"`
	Confidence  Confidence  `json:"confidence"`
	Title       string      `json:"title"`
	Detail      string      `json:"detail,omitempty"`
	Remediation string      `json:"remediation,omitempty"`
	Evidence    []Evidence  `json:"evidence,omitempty"`
	References  []Reference `json:"references,omitempty"`
	ObservedAt  time.Time   `json:"observed_at,omitzero"`
}

// Failing reports whether f fails at or above min.
func (f *Finding) Failing(min Severity) bool {
	return f.Status == StatusFail && f.Severity >= min
}
