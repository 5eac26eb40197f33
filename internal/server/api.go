// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
)

// apiFunc is a JSON API handler: the status and value to answer, or an
// error that statusOf maps.
type apiFunc func(r *http.Request) (int, any, error)

func (s *Server) api(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, v, err := fn(r)
		if err != nil {
			st, msg := statusOf(err)
			if st >= 500 {
				s.log.Error("api request failed", "route", r.Pattern, "err", err)
			}
			writeError(w, st, msg)
			return
		}
		writeJSON(w, status, v)
	})
}

// principal returns the request's principal; routes behind a guard
// always have one.
func principal(r *http.Request) auth.Principal {
	p, _ := auth.PrincipalFrom(r.Context())
	return p
}

// tenant is the caller's organisation's data: the organisation comes
// from the principal, never from the request.
func (s *Server) tenant(r *http.Request) store.Tenant {
	return s.st.ForOrg(principal(r).OrgID)
}

// change returns a context under which the store writes the audit entry
// for this change in the change's own transaction.
func (s *Server) change(r *http.Request, action, object, detail string) (context.Context, error) {
	e, err := s.auth.NewAuditEntry(r, action, object, detail)
	if err != nil {
		return nil, err
	}
	return store.WithAudit(r.Context(), storeAudit(e)), nil
}

// siteView is a site in the API: the schedule in seconds, the address
// as text.
type siteView struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	PublicAddr      string    `json:"public_addr,omitempty"`
	ScheduleSeconds int64     `json:"schedule_seconds"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func viewSite(s store.Site) siteView {
	v := siteView{ID: s.ID, Name: s.Name, ScheduleSeconds: int64(s.Schedule / time.Second),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.PublicAddr.IsValid() {
		v.PublicAddr = s.PublicAddr.String()
	}
	return v
}

// siteInput is what POST and PATCH take; absent fields are left alone
// by PATCH.
type siteInput struct {
	ID              *string `json:"id"`
	Name            *string `json:"name"`
	PublicAddr      *string `json:"public_addr"`
	ScheduleSeconds *int64  `json:"schedule_seconds"`
}

// cgnat is RFC 6598's shared address space: a carrier's, never a site's
// public address.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether a may be a site's public address. The
// server's WAN check probes it, so an organisation must not be able to
// point the server at loopback, link-local, private or shared addresses
// (its own networks, or the cloud's metadata service).
func publicAddr(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

// siteIDPattern keeps site IDs to what reads well in a URL.
var siteIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// minSchedule is the shortest schedule a site may ask for: audits more
// often than every five minutes only load the routers.
const minSchedule = 5 * time.Minute

// apply sets in's fields on site.
func (in siteInput) apply(site *store.Site) error {
	if in.Name != nil {
		site.Name = *in.Name
	}
	if in.PublicAddr != nil {
		site.PublicAddr = netip.Addr{}
		if *in.PublicAddr != "" {
			a, err := netip.ParseAddr(*in.PublicAddr)
			if err != nil || a.Zone() != "" {
				return badRequest("public_addr must be an IP address")
			}
			if a = a.Unmap(); !publicAddr(a) {
				return badRequest("public_addr must be a public address: the server checks it from outside, and does not probe its own networks for an organisation")
			}
			site.PublicAddr = a
		}
	}
	if in.ScheduleSeconds != nil {
		d := time.Duration(*in.ScheduleSeconds) * time.Second
		if *in.ScheduleSeconds != 0 && (d < minSchedule || d > store.MaxSchedule || *in.ScheduleSeconds < 0) {
			return badRequest("schedule_seconds must be 0 (the default) or from %d to %d", int(minSchedule.Seconds()), int64(store.MaxSchedule.Seconds()))
		}
		site.Schedule = d
	}
	return nil
}

func (s *Server) apiMe(r *http.Request) (int, any, error) {
	p := principal(r)
	return http.StatusOK, map[string]string{"org_id": p.OrgID, "kind": string(p.Kind), "id": p.ID, "name": p.Name, "role": string(p.Role)}, nil
}

func (s *Server) apiSites(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	sites, err := s.tenant(r).Sites(r.Context())
	if err != nil {
		return 0, nil, err
	}
	var out []siteView
	for _, st := range window(sites, pg) {
		out = append(out, viewSite(st))
	}
	return http.StatusOK, pagedList(out, pg), nil
}

func (s *Server) apiSite(r *http.Request) (int, any, error) {
	site, err := s.tenant(r).Site(r.Context(), r.PathValue("site"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewSite(site), nil
}

// createSite adds a site for the request's organisation (API and
// dashboard).
func (s *Server) createSite(r *http.Request, in siteInput) (store.Site, error) {
	if in.ID == nil || !siteIDPattern.MatchString(*in.ID) {
		return store.Site{}, badRequest("id must be 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if in.Name == nil {
		return store.Site{}, badRequest("name is required")
	}
	t := s.tenant(r)
	if _, err := t.Site(r.Context(), *in.ID); err == nil {
		return store.Site{}, &httpError{http.StatusConflict, "a site with this id exists"}
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Site{}, err
	}
	site := store.Site{ID: *in.ID}
	if err := in.apply(&site); err != nil {
		return store.Site{}, err
	}
	ctx, err := s.change(r, "site.create", "site "+site.ID, "name="+site.Name)
	if err != nil {
		return store.Site{}, err
	}
	return t.PutSite(ctx, site)
}

func (s *Server) apiCreateSite(r *http.Request) (int, any, error) {
	var in siteInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	site, err := s.createSite(r, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, viewSite(site), nil
}

// updateSite changes a site's name, address or schedule.
func (s *Server) updateSite(r *http.Request, id string, in siteInput) (store.Site, error) {
	if in.ID != nil && *in.ID != id {
		return store.Site{}, badRequest("a site's id cannot change")
	}
	t := s.tenant(r)
	site, err := t.Site(r.Context(), id)
	if err != nil {
		return store.Site{}, err
	}
	if err := in.apply(&site); err != nil {
		return store.Site{}, err
	}
	detail := fmt.Sprintf("name=%s public_addr=%s schedule=%s", site.Name, site.PublicAddr, site.Schedule)
	ctx, err := s.change(r, "site.update", "site "+site.ID, detail)
	if err != nil {
		return store.Site{}, err
	}
	return t.PutSite(ctx, site)
}

func (s *Server) apiUpdateSite(r *http.Request) (int, any, error) {
	var in siteInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	site, err := s.updateSite(r, r.PathValue("site"), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewSite(site), nil
}

func (s *Server) apiSiteStatus(r *http.Request) (int, any, error) {
	st, err := s.siteStatus(r.Context(), s.tenant(r), r.PathValue("site"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, st, nil
}

// tokenView is a token in the API: never its hash.
type tokenView struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	SiteID    string    `json:"site_id,omitempty"`
	Prefix    string    `json:"prefix"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func viewToken(t store.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Role: string(t.Role), SiteID: t.SiteID, Prefix: t.Prefix,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, LastUsed: t.LastUsed, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

// newTokenView is the answer to creating a token: the only time the
// secret is shown.
type newTokenView struct {
	tokenView
	Token string `json:"token"`
}

// tokenInput is what creating a token takes.
type tokenInput struct {
	Name string `json:"name"`
	// Role is admin, operator or viewer (API tokens only).
	Role string `json:"role"`
	// ExpiresInSeconds zero means it never expires.
	ExpiresInSeconds int64 `json:"expires_in_seconds"`
}

// maxTokenLifetime bounds an expiry: two years.
const maxTokenLifetime = 2 * 366 * 24 * time.Hour

// createToken issues a token (an agent's when site is set) and returns
// it with its secret.
func (s *Server) createToken(r *http.Request, in tokenInput, site string) (newTokenView, error) {
	p := principal(r)
	t := s.tenant(r)
	tok := store.Token{Name: in.Name, CreatedBy: p.Name, SiteID: site}
	action, object := "token.create", "token "+in.Name
	if site != "" {
		if in.Role != "" {
			return newTokenView{}, badRequest("an agent token has no role")
		}
		if _, err := t.Site(r.Context(), site); err != nil {
			return newTokenView{}, err
		}
		tok.Role = store.RoleAgent
		action, object = "agent_token.create", "site "+site
	} else {
		role, err := auth.ParseRole(in.Role)
		if err != nil {
			return newTokenView{}, badRequest("role must be admin, operator or viewer")
		}
		tok.Role = store.Role(role)
	}
	if in.ExpiresInSeconds < 0 || time.Duration(in.ExpiresInSeconds)*time.Second > maxTokenLifetime {
		return newTokenView{}, badRequest("expires_in_seconds must be from 0 (never) to %d", int64(maxTokenLifetime.Seconds()))
	}
	if in.ExpiresInSeconds > 0 {
		tok.ExpiresAt = s.now().Add(time.Duration(in.ExpiresInSeconds) * time.Second)
	}
	// A prefix collision (48 random bits) is retried with a new token.
	for range 3 {
		nt := auth.GenerateToken()
		tok.Prefix, tok.Hash = nt.Prefix, nt.Hash
		ctx, err := s.change(r, action, object, "prefix="+nt.Prefix+" role="+string(tok.Role))
		if err != nil {
			return newTokenView{}, err
		}
		created, err := t.CreateToken(ctx, tok)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return newTokenView{}, err
		}
		return newTokenView{tokenView: viewToken(created), Token: nt.Plain}, nil
	}
	return newTokenView{}, errors.New("could not make a unique token")
}

func (s *Server) apiTokens(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	ts, err := s.tenant(r).Tokens(r.Context(), pg)
	if err != nil {
		return 0, nil, err
	}
	var out []tokenView
	for _, t := range ts {
		out = append(out, viewToken(t))
	}
	return http.StatusOK, pagedList(out, pg), nil
}

func (s *Server) apiCreateToken(r *http.Request) (int, any, error) {
	var in tokenInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	nt, err := s.createToken(r, in, "")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nt, nil
}

func (s *Server) apiToken(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "token")
	if err != nil {
		return 0, nil, err
	}
	t, err := s.tenant(r).Token(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewToken(t), nil
}

// revokeToken revokes a token of the organisation.
func (s *Server) revokeToken(r *http.Request, id int64) (store.Token, error) {
	t := s.tenant(r)
	tok, err := t.Token(r.Context(), id)
	if err != nil {
		return store.Token{}, err
	}
	ctx, err := s.change(r, "token.revoke", "token "+strconv.FormatInt(id, 10), "prefix="+tok.Prefix)
	if err != nil {
		return store.Token{}, err
	}
	return t.RevokeToken(ctx, id, time.Time{})
}

func (s *Server) apiRevokeToken(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "token")
	if err != nil {
		return 0, nil, err
	}
	tok, err := s.revokeToken(r, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewToken(tok), nil
}

// agentTokens lists a site's agent tokens.
func (s *Server) agentTokens(ctx context.Context, t store.Tenant, site string) ([]store.Token, error) {
	if _, err := t.Site(ctx, site); err != nil {
		return nil, err
	}
	var out []store.Token
	for off := 0; ; off += store.MaxLimit {
		ts, err := t.Tokens(ctx, store.Page{Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, tk := range ts {
			if tk.SiteID == site {
				out = append(out, tk)
			}
		}
		if len(ts) < store.MaxLimit {
			return out, nil
		}
	}
}

func (s *Server) apiAgentTokens(r *http.Request) (int, any, error) {
	ts, err := s.agentTokens(r.Context(), s.tenant(r), r.PathValue("site"))
	if err != nil {
		return 0, nil, err
	}
	out := []tokenView{}
	for _, t := range ts {
		out = append(out, viewToken(t))
	}
	// The whole list at once: a site has a few agent tokens.
	return http.StatusOK, list[tokenView]{Items: out, Limit: len(out)}, nil
}

func (s *Server) apiCreateAgentToken(r *http.Request) (int, any, error) {
	var in tokenInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	nt, err := s.createToken(r, in, r.PathValue("site"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nt, nil
}

func (s *Server) apiDevices(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	ds, err := s.tenant(r).Devices(r.Context())
	if err != nil {
		return 0, nil, err
	}
	if site := r.URL.Query().Get("site"); site != "" {
		ds = slices.DeleteFunc(ds, func(d store.Device) bool { return d.Site != site })
	}
	return http.StatusOK, pagedList(window(ds, pg), pg), nil
}

func (s *Server) apiDevice(r *http.Request) (int, any, error) {
	d, err := s.tenant(r).Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, d, nil
}

// findingsView is a device's findings from its latest audit of each
// kind.
type findingsView struct {
	DeviceID string            `json:"device_id"`
	Audits   []auditView       `json:"audits"`
	Findings []finding.Finding `json:"findings"`
	// BySeverity counts the failing findings.
	BySeverity map[string]int `json:"by_severity"`
}

func (s *Server) apiDeviceFindings(r *http.Request) (int, any, error) {
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return 0, nil, err
	}
	latest, err := latestAudits(r.Context(), t, d.ID)
	if err != nil {
		return 0, nil, err
	}
	v := findingsView{DeviceID: d.ID, Audits: []auditView{}, Findings: []finding.Finding{}, BySeverity: map[string]int{}}
	for _, a := range latest {
		v.Audits = append(v.Audits, viewAudit(a))
		rep, ok := decodeReport(a)
		if !ok {
			continue
		}
		for _, f := range rep.Findings {
			v.Findings = append(v.Findings, f)
			if f.Status == finding.StatusFail {
				v.BySeverity[f.Severity.String()]++
			}
		}
	}
	return http.StatusOK, v, nil
}

// auditKinds are the kinds a device page shows, in order.
var auditKinds = []string{store.AuditCheck, store.AuditDNS, store.AuditConfig}

// latestAudits returns the device's newest audit of each kind it has.
func latestAudits(ctx context.Context, t store.Tenant, deviceID string) ([]store.Audit, error) {
	var out []store.Audit
	for _, k := range auditKinds {
		as, err := t.Audits(ctx, store.AuditFilter{DeviceID: deviceID, Kind: k}, store.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// decodeReport reads an audit's stored report; false when it has none
// or it is not a report.
func decodeReport(a store.Audit) (*report.Report, bool) {
	if len(a.Report) == 0 {
		return nil, false
	}
	var rep report.Report
	if err := json.Unmarshal(a.Report, &rep); err != nil || rep.SchemaVersion == 0 {
		return nil, false
	}
	return &rep, true
}

func (s *Server) apiSnapshots(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return 0, nil, err
	}
	ss, err := t.Snapshots(r.Context(), d.ID, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(ss, pg), nil
}

func (s *Server) apiChanges(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return 0, nil, err
	}
	es, err := t.ChangeEvents(r.Context(), d.ID, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(es, pg), nil
}

// auditView is an audit in a list: without its report.
type auditView struct {
	ID       int64     `json:"id"`
	DeviceID string    `json:"device_id,omitempty"`
	Kind     string    `json:"kind"`
	At       time.Time `json:"at"`
	Verdict  string    `json:"verdict"`
	Headline string    `json:"headline,omitempty"`
	Failing  int       `json:"failing"`
	// HasReport says the dashboard can show the audit's report.
	HasReport bool `json:"-"`
}

func viewAudit(a store.Audit) auditView {
	// Only whether there is one: decoding every report of a list would
	// cost more than the list.
	return auditView{ID: a.ID, DeviceID: a.DeviceID, Kind: a.Kind, At: a.At, Verdict: a.Verdict, Headline: a.Headline, Failing: a.Failing, HasReport: len(a.Report) > 0}
}

// maxFilterLen bounds a query filter value before the store sees it.
const maxFilterLen = store.MaxIDLen

func filterValue(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if len(v) > maxFilterLen {
		return "", badRequest("%s is too long", name)
	}
	return v, nil
}

func (s *Server) apiAudits(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	var f store.AuditFilter
	if f.DeviceID, err = filterValue(r, "device"); err != nil {
		return 0, nil, err
	}
	if f.Kind, err = filterValue(r, "kind"); err != nil {
		return 0, nil, err
	}
	as, err := s.tenant(r).Audits(r.Context(), f, pg)
	if err != nil {
		return 0, nil, err
	}
	var out []auditView
	for _, a := range as {
		out = append(out, viewAudit(a))
	}
	return http.StatusOK, pagedList(out, pg), nil
}

func (s *Server) apiAudit(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "audit")
	if err != nil {
		return 0, nil, err
	}
	a, err := s.tenant(r).Audit(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if len(a.Report) > 0 && !json.Valid(a.Report) {
		a.Report = nil // never answer broken JSON
	}
	return http.StatusOK, a, nil
}

func (s *Server) apiAlerts(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	var f store.AlertFilter
	if f.DeviceID, err = filterValue(r, "device"); err != nil {
		return 0, nil, err
	}
	if f.Kind, err = filterValue(r, "kind"); err != nil {
		return 0, nil, err
	}
	switch st := r.URL.Query().Get("state"); st {
	case "", string(store.AlertOpen), string(store.AlertResolved):
		f.State = store.AlertState(st)
	default:
		return 0, nil, badRequest("state must be open or resolved")
	}
	as, err := s.tenant(r).Alerts(r.Context(), f, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(as, pg), nil
}

func (s *Server) apiAlert(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "alert")
	if err != nil {
		return 0, nil, err
	}
	a, err := s.tenant(r).Alert(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}

// ackAlert acknowledges an alert of the organisation.
func (s *Server) ackAlert(r *http.Request, id int64) (store.Alert, error) {
	t := s.tenant(r)
	if _, err := t.Alert(r.Context(), id); err != nil {
		return store.Alert{}, err
	}
	ctx, err := s.change(r, "alert.ack", "alert "+strconv.FormatInt(id, 10), "")
	if err != nil {
		return store.Alert{}, err
	}
	return t.AckAlert(ctx, id, principal(r).Name, time.Time{})
}

// maxSuppress bounds a suppression: 90 days, so a forgotten one ends.
const maxSuppress = 90 * 24 * time.Hour

// suppressAlert suppresses an alert's notifications for d (0 lifts it).
func (s *Server) suppressAlert(r *http.Request, id int64, d time.Duration) (store.Alert, error) {
	if d < 0 || d > maxSuppress {
		return store.Alert{}, badRequest("a suppression lasts from 0 (lift it) to %d seconds", int64(maxSuppress.Seconds()))
	}
	t := s.tenant(r)
	if _, err := t.Alert(r.Context(), id); err != nil {
		return store.Alert{}, err
	}
	var until time.Time
	if d > 0 {
		until = s.now().Add(d)
	}
	ctx, err := s.change(r, "alert.suppress", "alert "+strconv.FormatInt(id, 10), "for "+d.String())
	if err != nil {
		return store.Alert{}, err
	}
	return t.SuppressAlert(ctx, id, until)
}

func (s *Server) apiAckAlert(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "alert")
	if err != nil {
		return 0, nil, err
	}
	a, err := s.ackAlert(r, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}

// suppressInput is what suppressing an alert takes.
type suppressInput struct {
	// Seconds is how long; 0 lifts the suppression.
	Seconds int64 `json:"seconds"`
}

func (s *Server) apiSuppressAlert(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "alert")
	if err != nil {
		return 0, nil, err
	}
	var in suppressInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Seconds < 0 || in.Seconds > int64(maxSuppress.Seconds()) {
		return 0, nil, badRequest("seconds must be from 0 (lift it) to %d", int64(maxSuppress.Seconds()))
	}
	a, err := s.suppressAlert(r, id, time.Duration(in.Seconds)*time.Second)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a, nil
}

func (s *Server) apiUsers(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	us, err := s.tenant(r).Users(r.Context(), pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(us, pg), nil
}

// userInput is what creating a user takes.
type userInput struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// createUser adds a user to the organisation.
func (s *Server) createUser(r *http.Request, in userInput) (store.User, error) {
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return store.User{}, badRequest("role must be admin, operator or viewer")
	}
	if err := store.CheckID("name", in.Name); err != nil {
		return store.User{}, badRequest("name must be 1-%d characters without control characters", store.MaxIDLen)
	}
	phc, err := s.auth.HashNewPassword(r.Context(), in.Name, in.Password)
	if err != nil {
		if st, msg := auth.LoginStatus(err); st == http.StatusBadRequest {
			return store.User{}, badRequest("password: %s", msg)
		}
		return store.User{}, err
	}
	ctx, err := s.change(r, "user.create", "user "+in.Name, "role="+string(role))
	if err != nil {
		return store.User{}, err
	}
	u, err := s.tenant(r).CreateUser(ctx, store.User{Name: in.Name, Role: store.Role(role), PasswordHash: phc})
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, &httpError{http.StatusConflict, "this login name is taken"}
	}
	return u, err
}

func (s *Server) apiCreateUser(r *http.Request) (int, any, error) {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	u, err := s.createUser(r, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, u, nil
}

func (s *Server) apiUser(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "user")
	if err != nil {
		return 0, nil, err
	}
	u, err := s.tenant(r).User(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

// userUpdateInput is what PATCH takes; absent fields are left alone.
type userUpdateInput struct {
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// updateUser changes a user's role, disables or enables them, or resets
// the password (which ends their sessions, as disabling does).
func (s *Server) updateUser(r *http.Request, id int64, in userUpdateInput) (store.User, error) {
	t := s.tenant(r)
	u, err := t.User(r.Context(), id)
	if err != nil {
		return store.User{}, err
	}
	var up store.UserUpdate
	var detail []string
	if in.Role != nil {
		role, err := auth.ParseRole(*in.Role)
		if err != nil {
			return store.User{}, badRequest("role must be admin, operator or viewer")
		}
		up.Role = store.Role(role)
		detail = append(detail, "role="+string(role))
	}
	if in.Disabled != nil {
		up.Disabled = in.Disabled
		detail = append(detail, "disabled="+strconv.FormatBool(*in.Disabled))
	}
	if in.Password != nil {
		phc, err := s.auth.HashNewPassword(r.Context(), u.Name, *in.Password)
		if err != nil {
			if st, msg := auth.LoginStatus(err); st == http.StatusBadRequest {
				return store.User{}, badRequest("password: %s", msg)
			}
			return store.User{}, err
		}
		up.PasswordHash = phc
		detail = append(detail, "password reset")
	}
	if len(detail) == 0 {
		return u, nil
	}
	if strconv.FormatInt(id, 10) == principal(r).ID && principal(r).Kind == auth.KindUser &&
		((up.Role != "" && up.Role != store.RoleAdmin) || (up.Disabled != nil && *up.Disabled)) {
		// The last admin locking themselves out is a support call.
		return store.User{}, &httpError{http.StatusConflict, "you cannot lower your own role or disable yourself"}
	}
	ctx, err := s.change(r, "user.update", "user "+u.Name, fmt.Sprint(detail))
	if err != nil {
		return store.User{}, err
	}
	return t.UpdateUser(ctx, id, up)
}

func (s *Server) apiUpdateUser(r *http.Request) (int, any, error) {
	id, err := pathInt64(r, "user")
	if err != nil {
		return 0, nil, err
	}
	var in userUpdateInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, nil, err
	}
	u, err := s.updateUser(r, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

func (s *Server) apiAuditLog(r *http.Request) (int, any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	es, err := s.tenant(r).AuditLog(r.Context(), pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pagedList(es, pg), nil
}
