// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/jobs"
)

// TestWANCheck checks a site's public address (the MikroTik fake, whose
// management and DNS answer): the audit is stored once under the job's
// key, judged from the Internet's side, and counted in the metrics.
func TestWANCheck(t *testing.T) {
	ports := fakes(t)
	ms := newMemStore()
	reg := prometheus.NewPedanticRegistry()
	m, err := jobs.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, jobs.Config{DSN: filepath.Join(t.TempDir(), "jobs"), Workers: 1, WAN: ms, Judge: audit.Options{Index: index(t)},
		Ports: ports, ScanTimeout: 10 * time.Second, FetchPoll: 100 * time.Millisecond, Metrics: m})
	reg.MustRegister(c.QueueCollector())
	id, err := c.EnqueueWANCheck(t.Context(), "org-a", "site-1", netip.MustParseAddr("127.0.0.62"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the WAN audit", 30*time.Second, func() bool {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		return len(ms.audits) == 1
	})
	ms.mu.Lock()
	a, ok := ms.audits["wan_check:"+strconv.FormatInt(id, 10)]
	keys := ms.putKeys
	ms.mu.Unlock()
	if !ok || len(keys) != 1 {
		t.Fatalf("audits under keys %v, want one under wan_check:%d", keys, id)
	}
	if a.Kind != jobs.AuditWAN || a.Verdict != jobs.WANFailing || a.DeviceID != "org-a/site-1" ||
		!strings.Contains(string(a.Report), "exposure.remote_management") || !strings.Contains(string(a.Report), "exposure.open_resolver") {
		t.Errorf("audit %+v", a)
	}
	waitFor(t, "the job's metrics", 10*time.Second, func() bool {
		return counter(t, reg, "routerwatch_jobs_total", "kind", jobs.KindWANCheck) == 1
	})
	if n := counter(t, reg, "routerwatch_audits_total", "type", "wan"); n != 1 {
		t.Errorf("audits_total{type=wan} = %v, want 1", n)
	}
	if n := counter(t, reg, "routerwatch_audit_failures_total", "check", "exposure.open_resolver"); n != 1 {
		t.Errorf("audit_failures_total{check=exposure.open_resolver} = %v, want 1", n)
	}
	if n := counter(t, reg, "routerwatch_jobs_queued", "queue", jobs.QueueDefault); n != 0 {
		t.Errorf("%v jobs queued after the job, want 0", n)
	}

	// The finished job is pruned once it is older than the cutoff.
	if n, err := c.Prune(t.Context(), time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("Prune(an hour ago) = %d, %v; want 0", n, err)
	}
	if n, err := c.Prune(t.Context(), time.Now().Add(time.Minute)); err != nil || n < 1 {
		t.Errorf("Prune(now) = %d, %v; want at least the WAN check", n, err)
	}
	if _, err := c.Job(t.Context(), id); err == nil {
		t.Errorf("the pruned job is still there")
	}
}

// TestScheduleWANChecks: each site with a schedule gets one check per
// period, at its slot; running the schedule again in the same period
// enqueues nothing; a site without a schedule or address gets none.
func TestScheduleWANChecks(t *testing.T) {
	ms := newMemStore()
	ms.sites = []jobs.WANSite{
		{OrgID: "org-a", SiteID: "s1", Addr: netip.MustParseAddr("192.0.2.1"), Every: time.Hour},
		{OrgID: "org-b", SiteID: "s2", Addr: netip.MustParseAddr("192.0.2.2"), Every: 24 * time.Hour},
		{OrgID: "org-b", SiteID: "off", Addr: netip.MustParseAddr("192.0.2.3")},
		{OrgID: "org-b", SiteID: "noaddr", Every: time.Hour},
	}
	// An insert-only client: nothing is worked, nothing is contacted.
	c, err := jobs.Open(t.Context(), jobs.Config{DSN: filepath.Join(t.TempDir(), "jobs"), WAN: ms})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Date(2026, 11, 30, 10, 20, 0, 0, time.UTC)
	if n, err := c.ScheduleWANChecks(t.Context(), now); err != nil || n != 2 {
		t.Fatalf("first schedule: %d, %v; want 2", n, err)
	}
	if n, err := c.ScheduleWANChecks(t.Context(), now.Add(30*time.Minute)); err != nil || n != 0 {
		t.Errorf("same period: %d, %v; want 0", n, err)
	}
	// The next hour is s1's next period, not s2's.
	if n, err := c.ScheduleWANChecks(t.Context(), now.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("next hour: %d, %v; want 1", n, err)
	}
	st, err := c.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if q := st.Jobs[jobs.QueueDefault]; q["scheduled"]+q["available"] != 3 {
		t.Errorf("stats %v, want 3 checks waiting", st.Jobs)
	}
}

// counter returns the value of family name's sample with label=value
// (0 when there is none).
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
