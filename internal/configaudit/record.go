// SPDX-License-Identifier: Apache-2.0

package configaudit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/buildinfo"
	"github.com/routerwatch/routerwatch/internal/check/hardening"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
)

// AuditKind is the kind of the audits Record stores.
const AuditKind = "config"

// RecordOptions say what to keep and how to judge it.
type RecordOptions struct {
	// Store keeps the reading (a whole store is its default
	// organisation's data; the fleet passes one organisation's); nil
	// judges without keeping (an imported file, a dry look).
	Store store.Tenant
	// Device is the router's record (ID, address, adapter, label); its
	// ID is required with a Store.
	Device store.Device
	// Snapshot is the reading.
	Snapshot *device.Snapshot
	// Allowed are the owner's resolvers (policy.allowed_resolvers).
	Allowed []netip.Addr
	// Index is the advisory data; nil leaves the firmware check unknown.
	Index *advisory.Index
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result is one reading, kept and judged.
type Result struct {
	Device   store.Device
	Snapshot *device.Snapshot
	// Meta is the stored snapshot's ID and hash; zero without a Store.
	Meta store.SnapshotMeta
	// PreviousID and BaselineID are the snapshots compared with; 0 when
	// there was none.
	PreviousID, BaselineID int64
	// Unchanged: the configuration is the same as the previous one.
	Unchanged bool
	// Changes are what changed since the previous reading, graded;
	// SinceBaseline since the baseline.
	Changes, SinceBaseline []hardening.Graded
	// Findings are the policy findings on this reading.
	Findings []finding.Finding
	Started  time.Time
	Finished time.Time
}

// Record keeps and judges a reading: the previous snapshot and the
// baseline are read first, then the new snapshot is stored, then the
// change event (when something changed) and the audit that point to it.
func Record(ctx context.Context, o RecordOptions) (*Result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r := &Result{Device: o.Device, Snapshot: o.Snapshot, Started: now()}
	if o.Snapshot == nil {
		return nil, errors.New("configaudit: no snapshot")
	}
	var prev, base *device.Config
	if o.Store != nil {
		if o.Device.ID == "" {
			return nil, errors.New("configaudit: a device ID is needed to keep the reading")
		}
		d, err := o.Store.PutDevice(ctx, o.Device)
		if err != nil {
			return nil, err
		}
		r.Device = d
		if p, err := o.Store.LatestSnapshot(ctx, d.ID); err == nil {
			prev, r.PreviousID = &p.Snapshot.Config, p.Meta.ID
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if b, err := o.Store.Baseline(ctx, d.ID); err == nil {
			bs, err := o.Store.Snapshot(ctx, b.SnapshotID)
			if err != nil {
				return nil, err
			}
			base, r.BaselineID = &bs.Snapshot.Config, b.SnapshotID
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if r.Meta, err = o.Store.PutSnapshot(ctx, d.ID, o.Snapshot); err != nil {
			return nil, err
		}
	}
	pol, err := Policy(o.Allowed, base)
	if err != nil {
		return nil, err
	}
	cfg := &o.Snapshot.Config
	if prev != nil {
		r.Changes = sortGraded(hardening.Grade(device.Diff(prev, cfg), cfg, pol))
		r.Unchanged = len(r.Changes) == 0
	}
	if base != nil && r.BaselineID != r.PreviousID {
		r.SinceBaseline = sortGraded(hardening.Grade(device.Diff(base, cfg), cfg, pol))
	} else if base != nil {
		r.SinceBaseline = r.Changes
	}
	key := o.Device.ID
	if key == "" && o.Snapshot.Target.IsValid() {
		key = o.Snapshot.Target.String()
	}
	r.Findings = hardening.Judge(hardening.Input{Key: key, Subject: subject(o.Device, o.Snapshot), Config: cfg, Policy: pol, Index: o.Index, Now: now()})
	r.Finished = now()
	if o.Store == nil {
		return r, nil
	}
	if len(r.Changes) > 0 {
		ev := store.ChangeEvent{DeviceID: r.Device.ID, FromSnapshot: r.PreviousID, ToSnapshot: r.Meta.ID, At: o.Snapshot.TakenAt}
		for _, g := range r.Changes {
			ev.Changes = append(ev.Changes, store.Change{Change: g.Change, Severity: g.Severity, Words: g.Sentence()})
		}
		if _, err := o.Store.PutChanges(ctx, ev); err != nil {
			return nil, err
		}
	}
	rep := r.Report()
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	_, err = o.Store.PutAudit(ctx, store.Audit{DeviceID: r.Device.ID, Kind: AuditKind, At: r.Finished,
		Verdict: string(rep.Verdict.Level), Headline: rep.Verdict.Headline, Failing: rep.Summary.Fail, Report: b})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sortGraded puts the most severe changes first, keeping Diff's order
// among equals.
func sortGraded(gs []hardening.Graded) []hardening.Graded {
	slices.SortStableFunc(gs, func(a, b hardening.Graded) int { return int(b.Severity) - int(a.Severity) })
	return gs
}

func subject(d store.Device, s *device.Snapshot) string {
	name := "router"
	if d.Label != "" {
		name += " " + d.Label
	}
	if s.Target.IsValid() {
		name += " " + s.Target.String()
	} else if d.ID != "" {
		name += " " + d.ID
	}
	return name + " (settings via " + s.Adapter + ")"
}

// Report is the report of a reading: the policy findings, the changes
// since the previous reading (and since the baseline when it is older),
// and the settings that matter as the router's subject.
func (r *Result) Report() *report.Report {
	rep := &report.Report{Tool: report.Tool{Name: "routerwatch", Version: buildinfo.String()}, Command: "config pull",
		StartedAt: r.Started, FinishedAt: r.Finished, Findings: r.Findings}
	for _, g := range r.Changes {
		rep.Changes = append(rep.Changes, report.Change{Path: g.Path, Severity: g.Severity, Text: g.Sentence()})
	}
	rep.Subjects = append(rep.Subjects, report.Subject{ID: r.Device.ID, Kind: "router_settings", Label: subject(r.Device, r.Snapshot),
		Attributes: Summary(&r.Snapshot.Config)})
	switch {
	case r.PreviousID == 0 && r.Meta.ID != 0:
		rep.Verdict.Headline = "First reading of this router's settings: nothing to compare with yet."
	case r.Unchanged:
		rep.Verdict.Headline = "The router's settings have not changed since the last reading."
	case len(r.Changes) > 0:
		rep.Verdict.Headline = fmt.Sprintf("%d setting(s) changed since the last reading: %s.", len(r.Changes), r.Changes[0].Sentence())
	default:
		rep.Verdict.Headline = "The router's settings, as read."
	}
	if n := failing(r.Findings, finding.SeverityHigh); n > 0 {
		rep.Verdict.Headline += fmt.Sprintf(" %d problem(s) need attention.", n)
	}
	if r.BaselineID != 0 && r.BaselineID != r.PreviousID && len(r.SinceBaseline) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("since the baseline (snapshot %d): %d change(s)", r.BaselineID, len(r.SinceBaseline)))
		for _, g := range r.SinceBaseline {
			rep.Notes = append(rep.Notes, "  "+g.Severity.String()+": "+g.Sentence())
		}
	}
	if r.Meta.ID != 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("stored as snapshot %d of device %s (%s)", r.Meta.ID, r.Device.ID, r.Meta.ConfigHash))
	}
	for _, w := range r.Snapshot.Warnings {
		rep.Notes = append(rep.Notes, "warning: "+w)
	}
	rep.Finish()
	return rep
}

func failing(fs []finding.Finding, min finding.Severity) int {
	n := 0
	for _, f := range fs {
		if f.Status == finding.StatusFail && f.Severity >= min {
			n++
		}
	}
	return n
}

// Summary lists the settings that matter, in words, for a report's
// subject: unknown ones say so.
func Summary(c *device.Config) []finding.Evidence {
	var out []finding.Evidence
	add := func(k string, known bool, v string) {
		if !known {
			v = "unknown"
		}
		out = append(out, finding.Evidence{Key: k, Value: v})
	}
	id := c.Identity
	add("model", id.Model.Known, strings.TrimSpace(id.Vendor.Value+" "+id.Model.Value+" "+id.Hardware.Value))
	add("firmware", id.Firmware.Known, id.Firmware.Value)
	add("dhcp_dns", c.DHCPDNS.Known, addrList(c.DHCPDNS.Value))
	dnsMode := "set by hand"
	if c.WANDNSAuto.Value {
		dnsMode = "from the ISP"
	}
	add("wan_dns", c.WANDNS.Known || c.WANDNSAuto.Known, strings.TrimSpace(addrList(c.WANDNS.Value)+" ("+dnsMode+")"))
	var remote []string
	for name, s := range c.Services {
		if s.WAN.Known && s.WAN.Value && (!s.Enabled.Known || s.Enabled.Value) {
			remote = append(remote, name)
		}
	}
	slices.Sort(remote)
	rm := "off, as far as the settings show"
	if len(remote) > 0 {
		rm = "on: " + strings.Join(remote, ", ")
	}
	add("remote_management", true, rm)
	return out
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}
