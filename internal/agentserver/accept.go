// SPDX-License-Identifier: Apache-2.0

package agentserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/configaudit"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/watch"
)

// Audit kinds the handler stores besides the engines' (dns, check,
// config).
const (
	// KindAgent is the kind of the audits that record the agent's own
	// events (results it gave up).
	KindAgent = "agent"
	// VerdictError is the verdict of an audit that could not complete
	// at the site; its headline says why.
	VerdictError = "error"
)

// Device IDs of a site. A site's devices are its network (the DNS audit,
// the DNS hijack problem), its routers (the devices of the site that its
// schedule names, by their own IDs), and its agent's default gateway when
// no router is named.
func networkID(p Principal) string { return p.SiteID + "/network" }

func gatewayID(p Principal) string { return p.SiteID + "/gateway" }

// target is the device and the audit kind a result is stored as.
func target(p Principal, r *agentapi.Result) (dev, kind string) {
	router := func() string {
		if r.Router == "" {
			return gatewayID(p)
		}
		return r.Router
	}
	switch r.Kind {
	case agentapi.KindDNS:
		return networkID(p), store.AuditDNS
	case agentapi.KindCheck:
		return router(), store.AuditCheck
	case agentapi.KindConfigPull:
		return router(), configaudit.AuditKind
	}
	return networkID(p), KindAgent
}

// ledger is one agent's progress at one site, kept in the store's state
// (one blob per organisation, site and agent ID).
//
// Storing a result is several store writes (the device, the audit, the
// snapshot and its changes, the alerts); the store makes each atomic, not
// all of them together. So before storing result N the ledger records it
// as Pending, with Mark, the greatest audit ID of its device and kind;
// every result stores exactly one audit, last but for the alerts. If the
// server stops before the ledger moves past N, the agent sends N again,
// and an audit of that device and kind newer than Mark, at the result's
// time, says it was stored: the ledger moves on without storing it twice
// (the alerts of such a result are reconciled by the next one).
type ledger struct {
	name string

	Org     string    `json:"org"`
	Site    string    `json:"site"`
	Agent   string    `json:"agent"`
	Last    uint64    `json:"last_seq"`
	Pending *pending  `json:"pending,omitempty"`
	Dropped uint64    `json:"dropped,omitempty"`
	Updated time.Time `json:"updated_at"`
}

type pending struct {
	Seq  uint64 `json:"seq"`
	Mark int64  `json:"mark"`
}

// stateName names a site's blob of a purpose: hashed, since IDs are long
// and the store's names are bounded.
func stateName(purpose string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "agentserver." + purpose + "." + hex.EncodeToString(h.Sum(nil)[:20])
}

func (h *Handler) loadLedger(ctx context.Context, p Principal, agentID string) (*ledger, error) {
	led := &ledger{name: stateName("ledger", p.OrgID, p.SiteID, agentID), Org: p.OrgID, Site: p.SiteID, Agent: agentID}
	b, err := h.o.Store.State(ctx, led.name)
	if errors.Is(err, store.ErrNotFound) {
		return led, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, led); err != nil {
		return nil, fmt.Errorf("the ledger does not decode: %w", err)
	}
	if led.Org != p.OrgID || led.Site != p.SiteID || led.Agent != agentID {
		return nil, errors.New("the ledger belongs to another agent")
	}
	return led, nil
}

func (h *Handler) saveLedger(ctx context.Context, led *ledger) error {
	led.Updated = store.Timestamp(h.o.Now())
	b, err := json.Marshal(led)
	if err != nil {
		return err
	}
	return h.o.Store.PutState(ctx, led.name, b)
}

// auditPage is how many of a device's newest audits are searched for a
// result stored before a crash: results are stored in order, so it is
// among the newest.
const auditPage = 100

// newestAudit returns the greatest audit ID of the device and kind.
func (h *Handler) newestAudit(ctx context.Context, t store.Tenant, dev, kind string) (int64, error) {
	as, err := t.Audits(ctx, store.AuditFilter{DeviceID: dev, Kind: kind}, store.Page{Limit: auditPage})
	if err != nil {
		return 0, err
	}
	var m int64
	for _, a := range as {
		m = max(m, a.ID)
	}
	return m, nil
}

// auditStored reports whether an audit of the device and kind newer than
// mark has the time at.
func (h *Handler) auditStored(ctx context.Context, t store.Tenant, dev, kind string, mark int64, at time.Time) (bool, error) {
	as, err := t.Audits(ctx, store.AuditFilter{DeviceID: dev, Kind: kind}, store.Page{Limit: auditPage})
	if err != nil {
		return false, err
	}
	at = store.Timestamp(at)
	for _, a := range as {
		if a.ID > mark && a.At.Equal(at) {
			return true, nil
		}
	}
	return false, nil
}

// accept stores one result that is the next of its agent and moves the
// ledger past it.
func (h *Handler) accept(ctx context.Context, p Principal, site *Site, agentID string, led *ledger, r *agentapi.Result) error {
	t := h.o.Store.ForOrg(p.OrgID)
	dev, kind := target(p, r)
	next := *led
	stored := false
	if led.Pending != nil && led.Pending.Seq == r.Seq {
		var err error
		if stored, err = h.auditStored(ctx, t, dev, kind, led.Pending.Mark, r.FinishedAt); err != nil {
			return err
		}
	} else {
		mark, err := h.newestAudit(ctx, t, dev, kind)
		if err != nil {
			return err
		}
		next.Pending = &pending{Seq: r.Seq, Mark: mark}
		if err := h.saveLedger(ctx, &next); err != nil {
			return err
		}
		*led = next
	}
	if stored {
		h.log.Info("agent endpoint: a result stored before the server stopped; not stored again", "site", p.SiteID, "agent", agentID, "seq", r.Seq)
	} else if err := h.store(ctx, t, p, site, agentID, r); err != nil {
		return err
	}
	next.Last, next.Pending = r.End(), nil
	if r.Kind == agentapi.KindDropped {
		next.Dropped += r.LastSeq - r.Seq + 1
	}
	if err := h.saveLedger(ctx, &next); err != nil {
		return err
	}
	*led = next
	return nil
}

// device returns the record of the device a result goes to: the
// device as stored (a router the site's operator added), else a new one
// of the site. A device of another site is refused (ok false): an agent
// reports for its own site only, whatever its results name.
func (h *Handler) device(ctx context.Context, t store.Tenant, p Principal, site *Site, r *agentapi.Result) (store.Device, bool, error) {
	dev, _ := target(p, r)
	d, err := t.Device(ctx, dev)
	switch {
	case err == nil:
		return d, d.Site == p.SiteID, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Device{}, false, err
	}
	d = store.Device{ID: dev, Site: p.SiteID}
	switch dev {
	case networkID(p):
		d.Label = site.Name + " network"
	case gatewayID(p):
		d.Label = site.Name + " gateway"
	default:
		d.Label = r.Router
		for _, rt := range site.Routers {
			if rt.ID == r.Router {
				d.Label, d.Adapter = firstNonEmpty(rt.Label, rt.ID), rt.Adapter
			}
		}
	}
	if r.Address.IsValid() && dev != networkID(p) {
		d.Address = r.Address.String()
	}
	return d, true, nil
}

// store keeps one result under the site's devices and reconciles the
// site's alerts.
func (h *Handler) store(ctx context.Context, t store.Tenant, p Principal, site *Site, agentID string, r *agentapi.Result) error {
	at := store.Timestamp(r.FinishedAt)
	dev, kind := target(p, r)
	record, ok, err := h.device(ctx, t, p, site, r)
	if err != nil {
		return err
	}
	if !ok {
		// Kept as an event of the site, so that the history says why
		// the result is missing.
		h.log.Warn("agent endpoint: a result for a device of another site refused", "site", p.SiteID, "agent", agentID, "seq", r.Seq, "device", dev)
		net, netOK, err := h.device(ctx, t, p, site, &agentapi.Result{Kind: agentapi.KindDNS})
		if err != nil || !netOK {
			return err // the site's network record is another site's device: nowhere to say it
		}
		if _, err := t.PutDevice(ctx, net); err != nil {
			return err
		}
		_, err = t.PutAudit(ctx, store.Audit{DeviceID: net.ID, Kind: KindAgent, At: at, Verdict: "refused",
			Headline: fmt.Sprintf("A %s result of the site's agent named %s, a device of another site; it was not kept.", r.Kind, dev)})
		return err
	}
	adev := alert.Device{Address: record.ID, Label: firstNonEmpty(record.Label, record.ID)}
	failed := func(words string) error {
		if _, err := t.PutDevice(ctx, record); err != nil {
			return err
		}
		_, err := t.PutAudit(ctx, store.Audit{DeviceID: dev, Kind: kind, At: at, Verdict: VerdictError, Headline: words})
		return err
	}
	switch r.Kind {
	case agentapi.KindDropped:
		n := r.LastSeq - r.Seq + 1
		h.log.Warn("agent endpoint: the agent gave up results", "site", p.SiteID, "agent", agentID, "from", r.Seq, "to", r.LastSeq, "count", n)
		if _, err := t.PutDevice(ctx, record); err != nil {
			return err
		}
		_, err := t.PutAudit(ctx, store.Audit{DeviceID: dev, Kind: KindAgent, At: at, Verdict: "dropped",
			Headline: fmt.Sprintf("%d result(s) of the site's agent were lost (numbers %d to %d): its outbox was full during a long outage, or this server lost them.", n, r.Seq, r.LastSeq)})
		return err

	case agentapi.KindDNS:
		if r.Error != nil {
			// Like watch: an audit that could not look resolves nothing.
			return failed("The DNS audit could not complete at the site: " + r.Error.Message)
		}
		if _, err := t.PutDevice(ctx, record); err != nil {
			return err
		}
		if _, err := t.PutAudit(ctx, store.Audit{DeviceID: dev, Kind: kind, At: at, Verdict: r.Verdict, Headline: r.Headline,
			Failing: r.Failing, Report: r.Report}); err != nil {
			return err
		}
		rep, err := decodeReport(r.Report)
		if err != nil {
			h.log.Warn("agent endpoint: a DNS report that does not decode; judged by its verdict alone", "site", p.SiteID, "seq", r.Seq, "error", err)
		}
		problems, part := watch.JudgeDNS(adev, dnshijack.Verdict(r.Verdict), r.Headline, rep.Findings, h.o.AlertOn)
		if err := h.reconcile(ctx, t, dev, kind, at, problems); err != nil {
			return err
		}
		return h.hijack(ctx, t, p, adev, at, func(s *hijackState) { s.DNS = part })

	case agentapi.KindCheck:
		if r.Error != nil {
			return failed("The router audit could not complete at the site: " + r.Error.Message)
		}
		if _, err := t.PutDevice(ctx, record); err != nil {
			return err
		}
		if _, err := t.PutAudit(ctx, store.Audit{DeviceID: dev, Kind: kind, At: at, Verdict: r.Verdict, Headline: r.Headline,
			Failing: r.Failing, Report: r.Report}); err != nil {
			return err
		}
		rep, err := decodeReport(r.Report)
		if err != nil {
			h.log.Warn("agent endpoint: a check report that does not decode; no alerts from it", "site", p.SiteID, "seq", r.Seq, "error", err)
			return nil
		}
		return h.reconcile(ctx, t, dev, kind, at, watch.FindingProblems(adev, rep.Findings, h.o.AlertOn))

	case agentapi.KindConfigPull:
		if r.Error != nil {
			if err := failed("The router's settings could not be read at the site: " + r.Error.Message); err != nil {
				return err
			}
			// Like watch: the router's own problems stay as they were;
			// "could not be read" is a problem of its own.
			up := watch.UnreachableProblem(adev, r.Error.Message, r.Error.Class == agentapi.ErrorAuth)
			return h.reconcile(ctx, t, dev, watch.CheckUnreachable, at, []alert.Problem{up})
		}
		var snap device.Snapshot
		if err := json.Unmarshal(r.Snapshot, &snap); err != nil || snap.Adapter == "" {
			h.log.Warn("agent endpoint: a snapshot that does not decode", "site", p.SiteID, "seq", r.Seq, "error", err)
			return failed("The router's settings were read at the site but did not decode on the server.")
		}
		if !snap.Target.IsValid() {
			snap.Target = r.Address
		}
		if snap.TakenAt.IsZero() {
			snap.TakenAt = at
		}
		record.Adapter = snap.Adapter
		s, err := watch.RecordSettings(ctx, watch.SettingsOptions{Store: t, Device: record, Snapshot: &snap, Allowed: site.Allowed,
			Index: h.o.Index, AlertOn: h.o.AlertOn, Alert: adev, Note: "first reading by the site's agent",
			Now: func() time.Time { return at }})
		if errors.Is(err, store.ErrInvalid) {
			h.log.Warn("agent endpoint: a snapshot the store refuses", "site", p.SiteID, "seq", r.Seq, "error", err)
			return failed("The router's settings were read at the site but the server cannot keep them: " + err.Error())
		}
		if err != nil {
			return err
		}
		if s.BaselineErr != nil {
			h.log.Error("agent endpoint: setting the first baseline", "site", p.SiteID, "device", dev, "error", s.BaselineErr)
		}
		if err := h.reconcile(ctx, t, dev, configaudit.AuditKind, at, s.Problems); err != nil {
			return err
		}
		if err := h.reconcile(ctx, t, dev, watch.CheckUnreachable, at, nil); err != nil {
			return err
		}
		net, netOK, err := h.device(ctx, t, p, site, &agentapi.Result{Kind: agentapi.KindDNS})
		if err != nil || !netOK {
			return err
		}
		if _, err := t.PutDevice(ctx, net); err != nil {
			return err
		}
		return h.hijack(ctx, t, p, alert.Device{Address: net.ID, Label: net.Label}, at, func(st *hijackState) {
			if st.Routers == nil {
				st.Routers = map[string]watch.Hijack{}
			}
			st.Routers[r.Router] = s.Hijack
		})
	}
	return fmt.Errorf("agentserver: unknown result kind %q", r.Kind)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// decodeReport reads an engine's report. It is not decoded strictly: an
// agent of a newer version may add fields (report.SchemaVersion changes
// only when a field changes meaning).
func decodeReport(b json.RawMessage) (report.Report, error) {
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return report.Report{}, err
	}
	if rep.SchemaVersion != report.SchemaVersion {
		return report.Report{}, fmt.Errorf("report schema version %d, this server reads %d", rep.SchemaVersion, report.SchemaVersion)
	}
	return rep, nil
}

// reconcile makes the device's open alerts of kind the problems.
func (h *Handler) reconcile(ctx context.Context, t store.Tenant, dev, kind string, at time.Time, ps []alert.Problem) error {
	byKey := map[string]store.Problem{}
	for _, p := range ps {
		key := p.ID
		if key == "" {
			key = p.CheckID + "@" + p.Subject
		}
		if old, ok := byKey[key]; ok && old.Severity >= p.Severity {
			continue
		}
		byKey[key] = store.Problem{Key: key, Title: p.Title, Severity: p.Severity, Detail: p.Detail}
	}
	present := slices.Collect(maps.Values(byKey))
	rec, err := t.ReconcileAlerts(ctx, dev, kind, at, present)
	if err != nil {
		return err
	}
	for _, a := range rec.Opened {
		h.log.Warn("agent endpoint: alert raised", "device", dev, "kind", kind, "key", a.Key, "severity", a.Severity, "title", a.Title)
	}
	for _, a := range rec.Resolved {
		h.log.Info("agent endpoint: alert resolved", "device", dev, "kind", kind, "key", a.Key)
	}
	return nil
}

// hijackState is a site's parts of the DNS hijack problem: the last DNS
// audit's and each router's last reading's, so that a DNS result and a
// config result, which come apart, still make one problem (watch has
// both in one cycle).
type hijackState struct {
	DNS     watch.Hijack            `json:"dns"`
	Routers map[string]watch.Hijack `json:"routers,omitempty"`
}

// hijack updates the site's hijack parts with edit and reconciles the
// one "DNS hijacked" problem on the site's network, net.
func (h *Handler) hijack(ctx context.Context, t store.Tenant, p Principal, net alert.Device, at time.Time, edit func(*hijackState)) error {
	name := stateName("hijack", p.OrgID, p.SiteID)
	var st hijackState
	b, err := h.o.Store.State(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("the site's hijack state does not decode: %w", err)
		}
	}
	edit(&st)
	if b, err = json.Marshal(st); err != nil {
		return err
	}
	if err := h.o.Store.PutState(ctx, name, b); err != nil {
		return err
	}
	var all watch.Hijack
	all.Merge(st.DNS)
	for _, id := range slices.Sorted(maps.Keys(st.Routers)) {
		all.Merge(st.Routers[id])
	}
	var ps []alert.Problem
	if pr, ok := all.Problem(net); ok {
		ps = append(ps, pr)
	}
	return h.reconcile(ctx, t, net.Address, watch.CheckDNSHijack, at, ps)
}
