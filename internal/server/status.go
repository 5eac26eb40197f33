// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
)

// deviceStatus is one device of a site as the site page shows it.
type deviceStatus struct {
	Device store.Device `json:"device"`
	// Audits is its newest audit of each kind.
	Audits []auditView `json:"audits"`
	// OpenAlerts counts its open alerts.
	OpenAlerts int `json:"open_alerts"`
}

// siteStatus is a site at a glance: its devices, the latest DNS verdict,
// the failing findings by severity, and when its agent last reported.
type siteStatus struct {
	Site    siteView       `json:"site"`
	Devices []deviceStatus `json:"devices"`
	// DNS is the newest DNS audit of the site's devices, if any.
	DNS *auditView `json:"dns,omitempty"`
	// BySeverity counts the failing findings of the devices' newest
	// audits, by severity.
	BySeverity map[string]int `json:"by_severity"`
	// LastAgentContact is the last use of one of the site's agent
	// tokens; LastReport the newest audit stored for its devices.
	LastAgentContact time.Time `json:"last_agent_contact,omitzero"`
	LastReport       time.Time `json:"last_report,omitzero"`
}

// maxSiteDevices bounds the devices a status reads the audits of; a
// site is an office, not a range.
const maxSiteDevices = 500

func (s *Server) siteStatus(ctx context.Context, t store.Tenant, id string) (siteStatus, error) {
	site, err := t.Site(ctx, id)
	if err != nil {
		return siteStatus{}, err
	}
	st := siteStatus{Site: viewSite(site), Devices: []deviceStatus{}, BySeverity: map[string]int{}}
	ds, err := t.Devices(ctx)
	if err != nil {
		return siteStatus{}, err
	}
	for _, d := range ds {
		if d.Site != site.ID || len(st.Devices) >= maxSiteDevices {
			continue
		}
		latest, err := latestAudits(ctx, t, d.ID)
		if err != nil {
			return siteStatus{}, err
		}
		alerts, err := t.Alerts(ctx, store.AlertFilter{DeviceID: d.ID, State: store.AlertOpen}, store.Page{Limit: store.MaxLimit})
		if err != nil {
			return siteStatus{}, err
		}
		dst := deviceStatus{Device: d, Audits: []auditView{}, OpenAlerts: len(alerts)}
		for _, a := range latest {
			v := viewAudit(a)
			dst.Audits = append(dst.Audits, v)
			if a.At.After(st.LastReport) {
				st.LastReport = a.At
			}
			if a.Kind == store.AuditDNS && (st.DNS == nil || a.At.After(st.DNS.At)) {
				st.DNS = &v
			}
			if rep, ok := decodeReport(a); ok {
				for _, f := range rep.Findings {
					if f.Status == finding.StatusFail {
						st.BySeverity[f.Severity.String()]++
					}
				}
			}
		}
		st.Devices = append(st.Devices, dst)
	}
	tokens, err := s.agentTokens(ctx, t, site.ID)
	if err != nil {
		return siteStatus{}, err
	}
	for _, tk := range tokens {
		if tk.LastUsed.After(st.LastAgentContact) {
			st.LastAgentContact = tk.LastUsed
		}
	}
	return st, nil
}
