// SPDX-License-Identifier: Apache-2.0

// Package audit turns one device's probe results into a verdict: it
// identifies the device (internal/identify), assesses it against the
// advisories (advisory.Assess), and runs the firmware and exposure checks
// (check/firmware, check/exposure). check and scan share it: check audits
// the router and adds the DNS checks, scan audits many devices and
// streams one record each.
//
// The contract: Judge is pure (the probes already ran; Confirm is the one
// function that sends something, and only the opt-in confirming request,
// only when the owner asked for it, only to a device identified as
// TP-Link, only through the dialer it is given). Every device gets
// findings from both check families, passes included; Headline and Steps
// put the most urgent thing first in plain words.
package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/check/firmware"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
	"github.com/routerwatch/routerwatch/internal/probe/confirmprobe"
	"github.com/routerwatch/routerwatch/internal/probe/httpprobe"
)

// deadlineSlack is how close to the target deadline a target's probes may
// end and still count as cut by it: the Runner's own bookkeeping takes a
// few milliseconds after the deadline fires.
const deadlineSlack = 50 * time.Millisecond

// Options configures Judge.
type Options struct {
	// Vantage is where the probes ran from; empty means LAN.
	Vantage exposure.Vantage
	// Identifier names devices; nil means the built-in rules only.
	Identifier *identify.Identifier
	// Index is the advisory data. Required.
	Index *advisory.Index
	// Noun names the device in findings: "router" (check) or "device"
	// (scan); empty means "device".
	Noun string
	// TargetTimeout is the Runner's per-target deadline, to tell a probe
	// cut by it from a port that stayed silent; 0 means
	// probe.DefaultTargetTimeout.
	TargetTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Device is one audited device.
type Device struct {
	Target  probe.Target     `json:"target"`
	Vantage exposure.Vantage `json:"vantage"`
	// Subject names the device in findings ("router 192.0.2.1 (TP-Link
	// TL-WR841N V10)").
	Subject  string          `json:"subject"`
	Identity identify.Result `json:"identity"`
	// Assessment is the advisory verdict; nil when the model is unknown.
	Assessment *advisory.Assessment `json:"-"`
	Services   []exposure.Service   `json:"services"`
	// Answered is true when the device answered on at least one port.
	Answered bool `json:"answered"`
	// DeadlineHit is true when the target's deadline cut the probes.
	DeadlineHit bool              `json:"deadline_hit"`
	Findings    []finding.Finding `json:"findings"`
	// ProbeErrors are the probes that failed to measure, with why.
	ProbeErrors []ProbeError  `json:"probe_errors,omitempty"`
	Started     time.Time     `json:"started"`
	Elapsed     time.Duration `json:"-"`
}

// ProbeError is one probe's measurement failure.
type ProbeError struct {
	Probe  string      `json:"probe"`
	Status netx.Status `json:"status"`
	Error  string      `json:"error"`
}

// Judge audits one target from its probe report. confirm is the outcome of
// the confirming request, nil when the owner did not ask for it.
func Judge(rep probe.TargetReport, o Options, confirm *firmware.Confirm) Device {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now()
	timeout := o.TargetTimeout
	if timeout <= 0 {
		timeout = probe.DefaultTargetTimeout
	}
	d := Device{Target: rep.Target, Vantage: o.Vantage, Started: rep.Started, Elapsed: rep.Elapsed}
	if d.Vantage == "" {
		d.Vantage = exposure.LAN
	}
	d.DeadlineHit = rep.Elapsed >= timeout-deadlineSlack
	for _, r := range rep.Results {
		if errors.Is(r.Err, probe.ErrNoReturn) {
			d.DeadlineHit = true
		}
		if r.Err != nil {
			d.ProbeErrors = append(d.ProbeErrors, ProbeError{Probe: r.ProbeID, Status: r.Status, Error: r.Err.Error()})
		}
	}
	if o.Identifier != nil {
		d.Identity = o.Identifier.FromObservations(rep.Observations())
	} else {
		d.Identity = identify.FromObservations(rep.Observations())
	}
	if firmware.Identified(d.Identity) && o.Index != nil {
		a := advisory.Assess(o.Index, d.Identity.Identity)
		d.Assessment = &a
	}
	d.Subject = subject(o.Noun, rep.Target, d.Identity)
	d.Services = exposure.Services(rep.Results)
	d.Answered = exposure.HostAnswered(d.Services)

	fin := firmware.Input{Key: rep.Target.Addr.String(), Subject: d.Subject, Identity: d.Identity, Confirm: confirm, Now: at}
	if d.Assessment != nil {
		fin.Assessment = *d.Assessment
	}
	d.Findings = append(d.Findings, firmware.Judge(fin)...)
	d.Findings = append(d.Findings, exposure.Judge(exposure.Input{Target: rep.Target, Subject: d.Subject, Vantage: d.Vantage,
		Vendor: d.Identity.Identity.Vendor, Results: rep.Results, DeadlineHit: d.DeadlineHit, Now: at})...)
	return d
}

func subject(noun string, t probe.Target, id identify.Result) string {
	if noun == "" {
		noun = "device"
	}
	s := noun + " " + t.Addr.String()
	if name := Name(id); name != "" {
		s += " (" + name + ")"
	}
	return s
}

// Name is the device's display name ("TP-Link TL-WR841N V10"), the vendor
// alone when the model is unknown, or "" when nothing is known.
func Name(id identify.Result) string {
	switch {
	case id.Identity.Model != "":
		return id.Identity.DisplayName()
	case id.Identity.Vendor != "":
		return advisory.VendorName(id.Identity.Vendor)
	}
	return ""
}

// ConfirmNeeded reports why the confirming request would not be sent to
// d ("" when it would): it confirms a TP-Link flaw, so it goes only to a
// device identified as TP-Link that answered HTTP, and only from the LAN
// (brief THREAT.md §4.2: owner's own device, LAN only).
func ConfirmNeeded(d *Device) string {
	switch {
	case d.Vantage == exposure.WAN:
		return "it is sent only from the LAN, to the owner's own router (not with --wan-vantage)"
	case advisory.VendorKey(d.Identity.Identity.Vendor) != "tplink":
		return "the device was not identified as a TP-Link router, and the request confirms a TP-Link flaw"
	}
	return ""
}

// ConfirmEndpoints returns the web endpoints where the HTTP probe got an
// answer, for the confirming request.
func ConfirmEndpoints(rep probe.TargetReport) []confirmprobe.Endpoint {
	var out []confirmprobe.Endpoint
	for _, r := range rep.Results {
		o, ok := r.Observation.(*httpprobe.Observation)
		if !ok {
			continue
		}
		for _, ep := range o.Endpoints {
			if ep.Response != nil {
				out = append(out, confirmprobe.Endpoint{Scheme: ep.Scheme, Port: ep.Port})
			}
		}
	}
	return out
}

// Confirm sends the CVE-2023-50224 confirming request to the device's web
// endpoints through d, if ConfirmNeeded allows it, and returns the outcome
// for firmware.Judge. It must be called only when the owner asked for it.
func Confirm(ctx context.Context, d *netx.Dialer, dev *Device, rep probe.TargetReport) *firmware.Confirm {
	if why := ConfirmNeeded(dev); why != "" {
		return &firmware.Confirm{Skipped: why}
	}
	eps := ConfirmEndpoints(rep)
	if len(eps) == 0 {
		return &firmware.Confirm{Skipped: "no web admin page answered"}
	}
	obs, err := confirmprobe.New(eps...).Measure(ctx, d, rep.Target)
	return &firmware.Confirm{Observation: obs, Err: err}
}

// Failing returns the device's failing findings, worst first.
func (d *Device) Failing() []finding.Finding {
	var out []finding.Finding
	for _, f := range d.Findings {
		if f.Status == finding.StatusFail {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b finding.Finding) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// Worst returns the highest severity of a failing finding, and false when
// nothing fails.
func (d *Device) Worst() (finding.Severity, bool) {
	fs := d.Failing()
	if len(fs) == 0 {
		return 0, false
	}
	return fs[0].Severity, true
}

// Verdict is the advisory verdict in one word: "affected", "unknown",
// "fixed", "not_affected", or "unidentified" when the model is unknown.
func (d *Device) Verdict() string {
	if d.Assessment == nil {
		return "unidentified"
	}
	return d.Assessment.Verdict.String()
}

// EOL reports whether a source says the device is end of life.
func (d *Device) EOL() bool {
	return d.Assessment != nil && d.Assessment.EOL != nil && d.Assessment.EOL.EOL
}

// AffectedCVEs lists the CVEs the device is affected by.
func (d *Device) AffectedCVEs() []string {
	var out []string
	if d.Assessment == nil {
		return nil
	}
	for i := range d.Assessment.Matches {
		if m := &d.Assessment.Matches[i]; m.Status == advisory.StatusAffected {
			out = append(out, m.CVE())
		}
	}
	return out
}

// OpenServices lists the ports that accepted connections or answered, as
// "ssh tcp/22".
func (d *Device) OpenServices() []string {
	var out []string
	for _, s := range exposure.Open(d.Services) {
		out = append(out, fmt.Sprintf("%s %s", s.Kind, s.Label()))
	}
	return out
}
