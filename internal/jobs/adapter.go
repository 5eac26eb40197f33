// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// DefaultWANEvery is how often a site whose schedule is zero ("the
// server's default") is checked from outside.
const DefaultWANEvery = 24 * time.Hour

// wanRecent bounds the WAN audits of a site read to find a retried
// check's key: a retry comes minutes after its first attempt, when at
// most a few checks of the site have been stored.
const wanRecent = 20

// FromStore returns the store's range and WAN sides as the jobs see
// them. Every call goes through the organisation's Tenant, so a job can
// reach only its own organisation's data.
func FromStore(st store.Store) (RangeStore, WANStore) {
	a := &storeAdapter{st: st}
	return a, a
}

type storeAdapter struct{ st store.Store }

func (a *storeAdapter) RangeRunPlan(ctx context.Context, org string, runID int64) (RunPlan, error) {
	t := a.st.ForOrg(org)
	run, err := t.RangeRun(ctx, runID)
	if err != nil {
		return RunPlan{}, err
	}
	sc, err := t.RangeScope(ctx, run.ScopeID)
	if err != nil {
		return RunPlan{}, err
	}
	return RunPlan{Prefixes: sc.Prefixes, PerPrefixRate: sc.PerPrefixRate}, nil
}

func (a *storeAdapter) RangeDone(ctx context.Context, org string, runID int64, p netip.Prefix) ([]netip.Addr, error) {
	return a.st.ForOrg(org).RangeDone(ctx, runID, p)
}

func (a *storeAdapter) PutRangeRecords(ctx context.Context, org string, runID int64, recs []RangeRecord) error {
	out := make([]store.RangeRecord, len(recs))
	for i, r := range recs {
		out[i] = store.RangeRecord{RunID: runID, Address: r.Address, Prefix: r.Prefix, Record: r.Record, Live: r.Live,
			Failing: r.Failing, WorstSeverity: r.WorstSeverity, Model: r.Model, At: r.At}
	}
	return a.st.ForOrg(org).PutRangeRecords(ctx, runID, out)
}

func (a *storeAdapter) SetRangeRunState(ctx context.Context, org string, runID int64, state string, at time.Time) error {
	t := a.st.ForOrg(org)
	if state == RunRunning {
		// The store starts a run in the running state when it creates
		// it; the fan-out only checks that it is there.
		_, err := t.RangeRun(ctx, runID)
		return err
	}
	_, err := t.FinishRangeRun(ctx, runID, store.RangeState(state), at)
	return err
}

func (a *storeAdapter) WANSites(ctx context.Context, each func(WANSite) error) error {
	orgs, err := a.st.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		sites, err := a.st.ForOrg(o.ID).Sites(ctx)
		if err != nil {
			return err
		}
		for _, s := range sites {
			if !s.PublicAddr.IsValid() {
				continue
			}
			if err := each(WANSite{OrgID: o.ID, SiteID: s.ID, Addr: s.PublicAddr, Every: cmp.Or(s.Schedule, DefaultWANEvery)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// WANDevice is the ID of the device that stands for a site's public
// address in the store: its WAN checks are that device's audits.
func WANDevice(siteID string) string { return "wan:" + siteID }

// wanReport is what a WAN audit's report holds: the check's key (so a
// retried job finds it), the site, and the scan record.
type wanReport struct {
	Key    string          `json:"key"`
	Site   string          `json:"site"`
	Record json.RawMessage `json:"record"`
}

func (a *storeAdapter) PutWANAudit(ctx context.Context, org, site, key string, au store.Audit) error {
	t := a.st.ForOrg(org)
	s, err := t.Site(ctx, site)
	if err != nil {
		return err
	}
	dev := WANDevice(site)
	recent, err := t.Audits(ctx, store.AuditFilter{DeviceID: dev, Kind: AuditWAN}, store.Page{Limit: wanRecent})
	if err != nil {
		return err
	}
	needle := []byte(fmt.Sprintf("%q", key))
	for _, r := range recent {
		if bytes.Contains(r.Report, needle) {
			return nil // a retried check: stored already
		}
	}
	if _, err := t.Device(ctx, dev); err != nil {
		if _, err := t.PutDevice(ctx, store.Device{ID: dev, Site: s.ID, Address: s.PublicAddr.String(),
			Label: "public address of site " + s.Name}); err != nil {
			return err
		}
	}
	rep, err := json.Marshal(wanReport{Key: key, Site: site, Record: au.Report})
	if err != nil {
		return err
	}
	au.DeviceID, au.Report = dev, rep
	_, err = t.PutAudit(ctx, au)
	return err
}
