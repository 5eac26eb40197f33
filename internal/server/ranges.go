// SPDX-License-Identifier: Apache-2.0

package server

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/store"
)

// Range audits: the scopes an admin authorised, the runs internal/jobs
// works (an operator starts one), their reports and exports.

// errNoJobs answers the routes that start work when the server has no
// job queue.
var errNoJobs = &httpError{http.StatusServiceUnavailable, "this server has no job queue: start it with a database and workers"}

// startRangeRun starts a run of a scope of the organisation and
// enqueues it. The run is recorded before the job: a job that cannot be
// enqueued leaves a run that failed at once, not one that never ends.
func (s *Server) startRangeRun(r *http.Request, scopeID int64) (store.RangeRun, error) {
	if s.o.Jobs == nil {
		return store.RangeRun{}, errNoJobs
	}
	t := s.tenant(r)
	if _, err := t.RangeScope(r.Context(), scopeID); err != nil {
		return store.RangeRun{}, err
	}
	ctx, err := s.change(r, "range_run.start", "range scope "+strconv.FormatInt(scopeID, 10), "")
	if err != nil {
		return store.RangeRun{}, err
	}
	run, err := t.StartRangeRun(ctx, scopeID, time.Time{})
	if err != nil {
		return store.RangeRun{}, err
	}
	if _, err := s.o.Jobs.EnqueueRangeRun(r.Context(), principal(r).OrgID, run.ID); err != nil {
		if _, ferr := t.FinishRangeRun(r.Context(), run.ID, store.RangeFailed, time.Time{}); ferr != nil {
			s.log.Error("marking an unqueued range run failed", "run", run.ID, "err", ferr)
		}
		return store.RangeRun{}, fmt.Errorf("enqueueing range run %d: %w", run.ID, err)
	}
	return run, nil
}

func (s *Server) apiStartRangeRun(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "scope")
	if err != nil {
		return 0, nil, err
	}
	run, err := s.startRangeRun(r, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, run, nil
}

func (s *Server) postRangeRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "scope")
	if err != nil {
		return err
	}
	if _, err := s.startRangeRun(r, id); err != nil {
		return err
	}
	return seeOther(w, r, "/ranges/"+strconv.FormatInt(id, 10))
}

// wanCheck enqueues the check of a site's public address from outside.
func (s *Server) wanCheck(r *http.Request, siteID string) (int64, error) {
	if s.o.Jobs == nil {
		return 0, errNoJobs
	}
	t := s.tenant(r)
	site, err := t.Site(r.Context(), siteID)
	if err != nil {
		return 0, err
	}
	if !site.PublicAddr.IsValid() {
		return 0, &httpError{http.StatusConflict, "the site has no public address to check"}
	}
	e, err := s.auth.NewAuditEntry(r, "site.wan_check", "site "+site.ID, "address="+site.PublicAddr.String())
	if err != nil {
		return 0, err
	}
	if _, err := t.AppendAuditLog(r.Context(), storeAudit(e)); err != nil {
		return 0, err
	}
	return s.o.Jobs.EnqueueWANCheck(r.Context(), principal(r).OrgID, site.ID, site.PublicAddr)
}

func (s *Server) apiWANCheck(r *http.Request) (int, any, error) {
	job, err := s.wanCheck(r, r.PathValue("site"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, map[string]int64{"job_id": job}, nil
}

func (s *Server) postWANCheck(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("site")
	if _, err := s.wanCheck(r, id); err != nil {
		return err
	}
	return seeOther(w, r, "/sites/"+id+"?checking=1")
}

func (s *Server) apiRangeScopes(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	sc, err := s.tenant(r).RangeScopes(r.Context(), pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(sc, pg), nil
}

// rangeScopeInput is what authorising a scope takes.
type rangeScopeInput struct {
	Prefixes      []string `json:"prefixes"`
	Owner         string   `json:"owner"`
	Reason        string   `json:"reason"`
	PerPrefixRate float64  `json:"per_prefix_rate"`
}

// nonPublic are the address blocks a range scope may not reach unless
// the server allows private ranges: they are the server's own networks
// (or nobody's), not an ISP's customers on the Internet.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.168.0.0/16", "224.0.0.0/3", "::/127", "::ffff:0:0/96", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// publicPrefix reports whether p reaches none of nonPublic.
func publicPrefix(p netip.Prefix) bool {
	for _, n := range nonPublic {
		if p.Overlaps(n) {
			return false
		}
	}
	return true
}

// maxScopePrefixes bounds the prefixes of one scope given through the
// API.
const maxScopePrefixes = 4096

func (s *Server) apiCreateRangeScope(r *http.Request) (int, any, error) {
	var in rangeScopeInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Prefixes) == 0 || len(in.Prefixes) > maxScopePrefixes {
		return 0, nil, badRequest("prefixes must list 1 to %d prefixes", maxScopePrefixes)
	}
	sc := store.RangeScope{Owner: in.Owner, Reason: in.Reason, PerPrefixRate: in.PerPrefixRate, CreatedBy: principal(r).Name}
	for i, p := range in.Prefixes {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			return 0, nil, badRequest("prefixes[%d] is not a prefix (address/length)", i)
		}
		if !s.o.AllowPrivateRanges && !publicPrefix(pf) {
			return 0, nil, badRequest("prefixes[%d] reaches loopback, link-local, private or shared addresses: this server audits public address space only (serve --allow-private-ranges)", i)
		}
		sc.Prefixes = append(sc.Prefixes, pf)
	}
	ctx, err := s.change(r, "range_scope.create", "range scope", fmt.Sprintf("owner=%s prefixes=%d reason=%s", in.Owner, len(sc.Prefixes), in.Reason))
	if err != nil {
		return 0, nil, err
	}
	created, err := s.tenant(r).CreateRangeScope(ctx, sc)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, created, nil
}

func (s *Server) apiRangeScope(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "scope")
	if err != nil {
		return 0, nil, err
	}
	sc, err := s.tenant(r).RangeScope(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sc, nil
}

func (s *Server) apiRangeRuns(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "scope")
	if err != nil {
		return 0, nil, err
	}
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	t := s.tenant(r)
	if _, err := t.RangeScope(r.Context(), id); err != nil {
		return 0, nil, err
	}
	runs, err := t.RangeRuns(r.Context(), id, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(runs, pg), nil
}

func (s *Server) apiRangeRun(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "run")
	if err != nil {
		return 0, nil, err
	}
	run, err := s.tenant(r).RangeRun(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, run, nil
}

func (s *Server) apiRangeSummary(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "run")
	if err != nil {
		return 0, nil, err
	}
	t := s.tenant(r)
	if _, err := t.RangeRun(r.Context(), id); err != nil {
		return 0, nil, err
	}
	sum, err := t.RangeSummary(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if sum == nil {
		sum = []store.PrefixSummary{}
	}
	return http.StatusOK, map[string]any{"run_id": id, "prefixes": sum}, nil
}

func (s *Server) apiRangeRecords(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "run")
	if err != nil {
		return 0, nil, err
	}
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	var within netip.Prefix
	if w := r.URL.Query().Get("within"); w != "" {
		if within, err = netip.ParsePrefix(w); err != nil {
			return 0, nil, badRequest("within must be a prefix (address/length)")
		}
	}
	t := s.tenant(r)
	if _, err := t.RangeRun(r.Context(), id); err != nil {
		return 0, nil, err
	}
	recs, err := t.RangeRecords(r.Context(), id, within, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(recs, pg), nil
}

// exportDeadline is how long one export may take to stream: a run of a
// /8 has 16 million records.
const exportDeadline = time.Hour

// apiRangeExport streams a run's records for customer notification, as
// CSV (?format=csv, the default) or JSON lines (?format=json), without
// holding them in memory. The export itself is recorded in the audit
// log: it hands a list of vulnerable addresses out.
func (s *Server) apiRangeExport(w http.ResponseWriter, r *http.Request) {
	id, err := pathInt64(r, "run")
	if err != nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		writeError(w, http.StatusBadRequest, "format must be csv or json")
		return
	}
	t := s.tenant(r)
	run, err := t.RangeRun(r.Context(), id)
	if err != nil {
		st, msg := statusOf(err)
		writeError(w, st, msg)
		return
	}
	e, err := s.auth.NewAuditEntry(r, "range_run.export", "range run "+strconv.FormatInt(run.ID, 10), "format="+format)
	if err == nil {
		_, err = t.AppendAuditLog(r.Context(), storeAudit(e))
	}
	if err != nil {
		s.log.Error("recording an export failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportDeadline))
	name := fmt.Sprintf("range-run-%d.%s", run.ID, map[string]string{"csv": "csv", "json": "jsonl"}[format])
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/jsonl")
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	if format == "csv" {
		_ = cw.Write([]string{"address", "prefix", "live", "failing", "worst_severity", "model", "audited_at"})
	}
	for rec, err := range t.ExportRangeRecords(r.Context(), run.ID) {
		if err != nil {
			// The status is sent; a truncated file ends without its
			// last line, and the log says why.
			s.log.Error("range export stopped", "run", run.ID, "err", err)
			break
		}
		if format == "json" {
			if enc.Encode(rec) != nil {
				return
			}
			continue
		}
		_ = cw.Write([]string{rec.Address.String(), rec.Prefix.String(), strconv.FormatBool(rec.Live),
			strconv.Itoa(rec.Failing), csvCell(rec.WorstSeverity), csvCell(rec.Model), rec.At.UTC().Format(time.RFC3339)})
		if cw.Error() != nil {
			return
		}
	}
	cw.Flush()
}

// csvCell keeps a cell a device named (a model) from being read as a
// formula by a spreadsheet (CSV injection): a leading =, +, -, @, tab or
// carriage return gets a quote in front.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
