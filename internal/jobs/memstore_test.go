// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store"
)

// memStore is a RangeStore and WANStore in memory, keeping the contract:
// records keyed by (run, address), audits by key, runs per organisation.
// It counts every write so that tests see a duplicate even though the
// keys drop it.
type memStore struct {
	mu      sync.Mutex
	runs    map[int64]*memRun
	records map[int64]map[netip.Addr]jobs.RangeRecord
	writes  map[int64]map[netip.Addr]int
	sites   []jobs.WANSite
	audits  map[string]store.Audit
	putKeys []string
}

type memRun struct {
	org   string
	plan  jobs.RunPlan
	state string
	start time.Time
	end   time.Time
}

func newMemStore() *memStore {
	return &memStore{runs: map[int64]*memRun{}, records: map[int64]map[netip.Addr]jobs.RangeRecord{},
		writes: map[int64]map[netip.Addr]int{}, audits: map[string]store.Audit{}}
}

func (m *memStore) addRun(id int64, org string, plan jobs.RunPlan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[id] = &memRun{org: org, plan: plan, state: jobs.RunQueued}
	m.records[id] = map[netip.Addr]jobs.RangeRecord{}
	m.writes[id] = map[netip.Addr]int{}
}

func (m *memStore) run(org string, id int64) (*memRun, error) {
	r, ok := m.runs[id]
	if !ok || r.org != org {
		return nil, store.ErrNotFound
	}
	return r, nil
}

func (m *memStore) RangeRunPlan(_ context.Context, org string, id int64) (jobs.RunPlan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.run(org, id)
	if err != nil {
		return jobs.RunPlan{}, err
	}
	return r.plan, nil
}

func (m *memStore) RangeDone(_ context.Context, org string, id int64, p netip.Prefix) ([]netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.run(org, id); err != nil {
		return nil, err
	}
	var out []netip.Addr
	for a := range m.records[id] {
		if p.Contains(a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memStore) PutRangeRecords(_ context.Context, org string, id int64, recs []jobs.RangeRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.run(org, id); err != nil {
		return err
	}
	for _, r := range recs {
		m.writes[id][r.Address]++
		if _, ok := m.records[id][r.Address]; !ok {
			m.records[id][r.Address] = r
		}
	}
	return nil
}

func (m *memStore) SetRangeRunState(_ context.Context, org string, id int64, state string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.run(org, id)
	if err != nil {
		return err
	}
	if state == jobs.RunRunning && !r.start.IsZero() {
		return nil
	}
	r.state = state
	if state == jobs.RunRunning {
		r.start = at
	} else {
		r.end = at
	}
	return nil
}

func (m *memStore) state(id int64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[id].state
}

func (m *memStore) snapshot(id int64) (map[netip.Addr]jobs.RangeRecord, map[netip.Addr]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := map[netip.Addr]jobs.RangeRecord{}
	writes := map[netip.Addr]int{}
	for k, v := range m.records[id] {
		recs[k] = v
	}
	for k, v := range m.writes[id] {
		writes[k] = v
	}
	return recs, writes
}

func (m *memStore) WANSites(_ context.Context, each func(jobs.WANSite) error) error {
	m.mu.Lock()
	sites := append([]jobs.WANSite(nil), m.sites...)
	m.mu.Unlock()
	for _, s := range sites {
		if err := each(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) PutWANAudit(_ context.Context, org, site, key string, a store.Audit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putKeys = append(m.putKeys, key)
	if _, ok := m.audits[key]; !ok {
		a.DeviceID = org + "/" + site // the test reads it back
		m.audits[key] = a
	}
	return nil
}
