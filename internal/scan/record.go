// SPDX-License-Identifier: Apache-2.0

// Package scan is the scan engine (Run) and what `routerwatch scan`
// writes: one Record per target (identity, open services, vulnerability
// verdict, exposure and firmware findings), its renderers — JSON Lines,
// CSV and text, each writing a record the moment it is complete — the
// summary table, the per-prefix summaries, the resume file and the
// progress bar.
//
// The engine sweeps large target lists first (SweepMode): a SYN (or a
// connect) per TCP port and a small request per UDP service, under a
// global and a per-prefix packet rate, with state bounded by the rate, not
// the range; then it audits only the addresses that answered, each as
// soon as its answers are in. Every packet goes through internal/netx and
// its scope. docs/scan.md has the design and the measurements.
//
// The contract: the JSON Lines form is the stable, versioned schema
// (schema_version; snake_case; a field changes meaning only with a new
// version); CSV has a fixed header and one row per record, for
// spreadsheets; renderers are deterministic. The resume file is the JSON
// Lines form appended one whole line per target with a single write; a
// crash can leave only a partial last line, which OpenResume drops.
package scan

import (
	"time"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/finding"
)

// SchemaVersion is the version of Record's JSON form.
const SchemaVersion = 1

// Target statuses.
const (
	StatusAnswered = "answered"  // the target answered on at least one port
	StatusSilent   = "no_answer" // it answered on none
	// StatusClosed: the sweep's TCP probes were all reset and no UDP
	// request was answered (a record only with Options.All).
	StatusClosed = "closed"
)

// Record is the result for one target.
type Record struct {
	SchemaVersion  int       `json:"schema_version"`
	Target         string    `json:"target"`
	Status         string    `json:"status"`
	Vantage        string    `json:"vantage"`
	StartedAt      time.Time `json:"started_at"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
	// DeadlineHit is true when the per-target deadline cut the probes.
	DeadlineHit   bool          `json:"deadline_hit"`
	Headline      string        `json:"headline"`
	Identity      Identity      `json:"identity"`
	Vulnerability Vulnerability `json:"vulnerability"`
	// Services are the ports that accepted connections or answered.
	Services []Service `json:"services"`
	// Summary counts the target's findings by status.
	Summary Counts `json:"summary"`
	// WorstSeverity is the highest severity of a failing finding, empty
	// when none fails.
	WorstSeverity string `json:"worst_severity,omitempty"`
	// Findings are the failing, unknown and error findings; passes are
	// only counted (Summary), to keep records of large scans small.
	Findings    []finding.Finding  `json:"findings"`
	ProbeErrors []audit.ProbeError `json:"probe_errors,omitempty"`
	// Sweep is what the sweep stage saw, when there was one.
	Sweep *SweepResult `json:"sweep,omitempty"`
}

// Identity is what the target was identified as.
type Identity struct {
	Identified bool   `json:"identified"`
	Vendor     string `json:"vendor,omitempty"`
	Model      string `json:"model,omitempty"`
	HWRev      string `json:"hw_rev,omitempty"`
	Firmware   string `json:"firmware,omitempty"`
	Region     string `json:"region,omitempty"`
	OS         string `json:"os,omitempty"`
	Confidence string `json:"confidence"`
}

// Vulnerability is the advisory verdict.
type Vulnerability struct {
	// Verdict is affected, unknown, fixed, not_affected, or unidentified
	// (no model: nothing could be matched).
	Verdict string `json:"verdict"`
	// Severity is the worst affected match's, when affected.
	Severity string `json:"severity,omitempty"`
	// Exploited is true when a CVE that affects or may affect the
	// target is exploited in the wild (CISA KEV or the advisory).
	Exploited bool `json:"exploited_in_the_wild"`
	EndOfLife bool `json:"end_of_life"`
	// CVEs are the CVEs the target is affected by; Undecided those that
	// depend on a detail the target did not show.
	CVEs      []string `json:"cves"`
	Undecided []string `json:"undecided_cves,omitempty"`
}

// Service is one open port.
type Service struct {
	Kind      string   `json:"kind"`
	Proto     string   `json:"proto"`
	Port      uint16   `json:"port"`
	Confirmed bool     `json:"confirmed"`
	Facts     []string `json:"facts,omitempty"`
}

// Counts counts findings by status.
type Counts struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	Error   int `json:"error"`
}

// FromDevice builds the record of an audited device.
func FromDevice(d *audit.Device) Record {
	r := Record{SchemaVersion: SchemaVersion, Target: d.Target.Addr.String(), Status: StatusSilent,
		Vantage: string(d.Vantage), StartedAt: d.Started.UTC(), ElapsedSeconds: round3(d.Elapsed.Seconds()),
		DeadlineHit: d.DeadlineHit, Headline: audit.Headline(d, false),
		Services: []Service{}, Findings: []finding.Finding{}, ProbeErrors: d.ProbeErrors}
	if d.Answered {
		r.Status = StatusAnswered
	}
	id := d.Identity
	r.Identity = Identity{Identified: id.Identified, Vendor: id.Identity.Vendor, Model: id.Identity.Model, HWRev: id.Identity.HWRev,
		Firmware: id.Identity.Firmware, Region: id.Identity.Region, OS: id.OS.Value, Confidence: id.Confidence.String()}
	r.Vulnerability = Vulnerability{Verdict: d.Verdict(), EndOfLife: d.EOL(), CVEs: d.AffectedCVEs()}
	if r.Vulnerability.CVEs == nil {
		r.Vulnerability.CVEs = []string{}
	}
	if a := d.Assessment; a != nil {
		r.Vulnerability.Exploited = a.Exploited
		if r.Vulnerability.Verdict == "affected" {
			r.Vulnerability.Severity = a.Severity.String()
		}
		for i := range a.Matches {
			if a.Matches[i].Status.String() == "unknown" {
				r.Vulnerability.Undecided = append(r.Vulnerability.Undecided, a.Matches[i].CVE())
			}
		}
	}
	for _, s := range d.Services {
		if s.State != "open" {
			continue
		}
		r.Services = append(r.Services, Service{Kind: string(s.Kind), Proto: s.Proto, Port: s.Port, Confirmed: s.Confirmed, Facts: s.Facts})
	}
	for _, f := range d.Findings {
		switch f.Status {
		case finding.StatusPass:
			r.Summary.Pass++
			continue
		case finding.StatusFail:
			r.Summary.Fail++
		case finding.StatusUnknown:
			r.Summary.Unknown++
		default:
			r.Summary.Error++
		}
		r.Findings = append(r.Findings, f)
	}
	if w, ok := d.Worst(); ok {
		r.WorstSeverity = w.String()
	}
	return r
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// Failing reports whether a finding of the record fails at or above min.
func (r *Record) Failing(min finding.Severity) bool {
	for i := range r.Findings {
		if r.Findings[i].Failing(min) {
			return true
		}
	}
	return false
}
