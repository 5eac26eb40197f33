// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/jobs"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

// TestFromStore runs a range run and a WAN check against the SQLite
// store through FromStore: the run is finished in the store with its
// records and summary, the WAN audit is the site's public address's, and
// another organisation sees none of it.
func TestFromStore(t *testing.T) {
	ports := fakes(t)
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "routerwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	for _, o := range []string{"isp", "other"} {
		if _, err := st.CreateOrg(ctx, store.Org{ID: o, Name: o}); err != nil {
			t.Fatal(err)
		}
	}
	isp := st.ForOrg("isp")
	sc, err := isp.CreateRangeScope(ctx, store.RangeScope{Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.60/30")},
		Owner: "Example ISP", Reason: "test", PerPrefixRate: 125})
	if err != nil {
		t.Fatal(err)
	}
	run, err := isp.StartRangeRun(ctx, sc.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	site, err := isp.PutSite(ctx, store.Site{ID: "hq", Name: "HQ", PublicAddr: netip.MustParseAddr("127.0.0.62")})
	if err != nil {
		t.Fatal(err)
	}
	rs, ws := jobs.FromStore(st)
	c := start(t, jobs.Config{DSN: jobs.JobsFile(filepath.Join(dir, "routerwatch.db")), Workers: 2, Range: rs, WAN: ws,
		Judge: audit.Options{Index: index(t)}, Ports: ports, ScanTimeout: 10 * time.Second, FetchPoll: 100 * time.Millisecond})

	// Another organisation's run is not this job's to audit.
	if _, err := c.EnqueueRangeRun(ctx, "other", run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnqueueRangeRun(ctx, "isp", run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnqueueWANCheck(ctx, "isp", site.ID, site.PublicAddr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run to finish", 60*time.Second, func() bool {
		r, err := isp.RangeRun(ctx, run.ID)
		return err == nil && r.State == store.RangeDone
	})
	sum, err := isp.RangeSummary(ctx, run.ID)
	if err != nil || len(sum) != 1 || sum[0].Addresses != 4 || sum[0].Live != 4 || sum[0].Failing != 2 {
		t.Errorf("summary %+v, %v; want one prefix, 4 addresses, 4 live, 2 failing", sum, err)
	}
	waitFor(t, "the WAN audit", 30*time.Second, func() bool {
		as, err := isp.Audits(ctx, store.AuditFilter{DeviceID: jobs.WANDevice("hq"), Kind: jobs.AuditWAN}, store.Page{})
		return err == nil && len(as) == 1 && as[0].Verdict == jobs.WANFailing
	})
	// The same key again stores nothing.
	if err := ws.PutWANAudit(ctx, "isp", "hq", "wan_check:1", store.Audit{Kind: jobs.AuditWAN, Verdict: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := ws.PutWANAudit(ctx, "isp", "hq", "wan_check:1", store.Audit{Kind: jobs.AuditWAN, Verdict: "x"}); err != nil {
		t.Fatal(err)
	}
	if as, _ := isp.Audits(ctx, store.AuditFilter{DeviceID: jobs.WANDevice("hq")}, store.Page{}); len(as) != 2 {
		t.Errorf("%d WAN audits, want 2 (the check's, and one for key wan_check:1)", len(as))
	}
	if recs, err := st.ForOrg("other").RangeRecords(ctx, run.ID, netip.Prefix{}, store.Page{}); err == nil && len(recs) > 0 {
		t.Errorf("another organisation reads %d records of the run", len(recs))
	}
}
