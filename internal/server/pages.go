// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/store"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var pageFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"seconds": func(d time.Duration) string {
		if d == 0 {
			return "default"
		}
		return d.String()
	},
	"addr": func(a fmt.Stringer) string {
		s := a.String()
		if s == "invalid IP" {
			return ""
		}
		return s
	},
	"minutes":    func(sec int64) int64 { return sec / 60 },
	"severities": func() []string { return []string{"critical", "high", "medium", "low", "info"} },
}

func parsePages() (*template.Template, error) {
	// The layout and every page are parsed together so that a mistake in
	// any of them fails New (and the tests), not a request.
	names, err := fs.Glob(templateFS, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	root := template.New("pages").Funcs(pageFuncs)
	layout, err := templateFS.ReadFile("templates/layout.tmpl")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".tmpl")
		if base == "layout" {
			continue
		}
		b, err := templateFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		// Each page is "page:NAME", the layout with the page's blocks
		// renamed into it.
		src := strings.ReplaceAll(string(layout), `{{template "content" .}}`, `{{template "content:`+base+`" .}}`)
		src = strings.ReplaceAll(src, `{{template "title" .}}`, `{{template "title:`+base+`" .}}`)
		body := strings.ReplaceAll(string(b), `{{define "content"}}`, `{{define "content:`+base+`"}}`)
		body = strings.ReplaceAll(body, `{{define "title"}}`, `{{define "title:`+base+`"}}`)
		if _, err := root.New("page:" + base).Parse(src + body); err != nil {
			return nil, fmt.Errorf("template %s: %w", base, err)
		}
	}
	return root, nil
}

// pageData is what every page gets.
type pageData struct {
	// Name is the page's name (its data-testid is "page-NAME").
	Name string
	P    auth.Principal
	// CSRF is the session's CSRF token for forms and htmx.
	CSRF string
	// Flash is a notice after a change; Error a problem to show.
	Flash, Error string
	Data         any
}

// Can reports whether the page's principal may do a (to show or hide
// controls; the routes check again).
func (d pageData) Can(a string) bool { return auth.Can(d.P, auth.Action(a)) }

// LoggedIn reports whether the page is shown to somebody logged in.
func (d pageData) LoggedIn() bool { return d.P.ID != "" }

// pageFunc is a dashboard handler; an error is shown as a page.
type pageFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			st, msg := statusOf(err)
			if st >= 500 {
				s.log.Error("page failed", "route", r.Pattern, "err", err)
			}
			s.renderError(w, r, st, msg)
		}
	})
}

// render writes page name with data, or a 500 when the template fails
// (buffered, so a half page is never sent).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.Name = name
	d.P, _ = auth.PrincipalFrom(r.Context())
	d.CSRF = auth.CSRFToken(r.Context())
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, "page:"+name, d); err != nil {
		s.log.Error("rendering a page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// renderFragment writes one named template (an htmx swap).
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, name string, d pageData) {
	d.P, _ = auth.PrincipalFrom(r.Context())
	d.CSRF = auth.CSRFToken(r.Context())
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, name, d); err != nil {
		s.log.Error("rendering a fragment failed", "fragment", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", pageData{Error: msg, Data: status})
}

// isHTMX reports whether htmx sent the request (it then gets a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// seeOther ends a form POST: back to a page (post/redirect/get).
func seeOther(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// --- login, logout, account ---

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "login", pageData{})
	return nil
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	_, err := s.auth.Login(w, r, r.PostFormValue("name"), r.PostFormValue("password"))
	if err != nil {
		status, msg := auth.LoginStatus(err)
		var le *auth.LimitedError
		if errors.As(err, &le) {
			w.Header().Set("Retry-After", strconv.Itoa(int(le.RetryAfter.Seconds())+1))
		}
		if status >= 500 {
			s.log.Error("login failed", "err", err)
		}
		s.render(w, r, status, "login", pageData{Error: msg})
		return nil
	}
	return seeOther(w, r, "/")
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.auth.Logout(w, r); err != nil {
		return err
	}
	return seeOther(w, r, "/login")
}

func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "account", pageData{})
	return nil
}

func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) error {
	err := s.auth.ChangePassword(w, r, r.PostFormValue("current"), r.PostFormValue("new"))
	if err != nil {
		status, msg := auth.LoginStatus(err)
		if status >= 500 {
			return err
		}
		s.render(w, r, status, "account", pageData{Error: msg})
		return nil
	}
	// A new session was started: its CSRF token is not the one this
	// request carried, so the next page must be loaded anew.
	return seeOther(w, r, "/account?changed=1")
}

// --- sites ---

func (s *Server) pageSites(w http.ResponseWriter, r *http.Request) error {
	sites, err := s.tenant(r).Sites(r.Context())
	if err != nil {
		return err
	}
	var vs []siteView
	for _, st := range sites {
		vs = append(vs, viewSite(st))
	}
	s.render(w, r, http.StatusOK, "sites", pageData{Data: vs})
	return nil
}

// formSite reads the site form (the schedule in minutes). A field the
// form did not send is left alone, as PATCH leaves an absent one.
func formSite(r *http.Request, withID bool) (siteInput, error) {
	var in siteInput
	field := func(name string) *string {
		if _, ok := r.PostForm[name]; !ok {
			return nil
		}
		v := strings.TrimSpace(r.PostForm.Get(name))
		return &v
	}
	if withID {
		in.ID = field("id")
	}
	in.Name, in.PublicAddr = field("name"), field("public_addr")
	if m := field("schedule_minutes"); m != nil && *m != "" {
		n, err := strconv.ParseInt(*m, 10, 64)
		if err != nil || n < 0 || n > int64(store.MaxSchedule/time.Minute) {
			return in, badRequest("the schedule must be a number of minutes")
		}
		sec := n * 60
		in.ScheduleSeconds = &sec
	}
	return in, nil
}

func (s *Server) postSite(w http.ResponseWriter, r *http.Request) error {
	_ = r.ParseForm() // a body over the bound is refused by the store's checks below as missing fields
	in, err := formSite(r, true)
	if err == nil {
		_, err = s.createSite(r, in)
	}
	if err != nil {
		st, msg := statusOf(err)
		if st >= 500 {
			return err
		}
		sites, lerr := s.tenant(r).Sites(r.Context())
		if lerr != nil {
			return lerr
		}
		var vs []siteView
		for _, x := range sites {
			vs = append(vs, viewSite(x))
		}
		s.render(w, r, st, "sites", pageData{Error: msg, Data: vs})
		return nil
	}
	return seeOther(w, r, "/sites/"+*in.ID)
}

// sitePage is the site page's data.
type sitePage struct {
	Status siteStatus
	Tokens []tokenView
	// NewToken is an agent token just made: its secret is shown once.
	NewToken *newTokenView
}

func (s *Server) sitePageData(r *http.Request, id string) (sitePage, error) {
	t := s.tenant(r)
	st, err := s.siteStatus(r.Context(), t, id)
	if err != nil {
		return sitePage{}, err
	}
	sp := sitePage{Status: st}
	if auth.Can(principal(r), auth.ActionAgentTokenManage) {
		ts, err := s.agentTokens(r.Context(), t, id)
		if err != nil {
			return sitePage{}, err
		}
		for _, tk := range ts {
			sp.Tokens = append(sp.Tokens, viewToken(tk))
		}
	}
	return sp, nil
}

func (s *Server) pageSite(w http.ResponseWriter, r *http.Request) error {
	sp, err := s.sitePageData(r, r.PathValue("site"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "site", pageData{Data: sp})
	return nil
}

func (s *Server) postSiteEdit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("site")
	_ = r.ParseForm()
	in, err := formSite(r, false)
	if err == nil {
		_, err = s.updateSite(r, id, in)
	}
	if err != nil {
		st, msg := statusOf(err)
		if st >= 500 || st == http.StatusNotFound {
			return err
		}
		sp, perr := s.sitePageData(r, id)
		if perr != nil {
			return perr
		}
		s.render(w, r, st, "site", pageData{Error: msg, Data: sp})
		return nil
	}
	return seeOther(w, r, "/sites/"+id+"?saved=1")
}

func (s *Server) postAgentToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("site")
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = "agent " + id
	}
	nt, err := s.createToken(r, tokenInput{Name: name}, id)
	if err != nil {
		return err
	}
	sp, err := s.sitePageData(r, id)
	if err != nil {
		return err
	}
	sp.NewToken = &nt
	// No redirect: the secret is in this answer only (and the answer is
	// not cached: Cache-Control no-store).
	s.render(w, r, http.StatusCreated, "site", pageData{Data: sp, Flash: "Agent token created. Copy it now: it is not shown again."})
	return nil
}

// --- devices ---

// devicePage is the device page's data.
type devicePage struct {
	Device store.Device
	Audits []auditView
	Alerts []store.Alert
	// HasReport says the report frame has something to show.
	HasReport bool
}

func (s *Server) pageDevice(w http.ResponseWriter, r *http.Request) error {
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	latest, err := latestAudits(r.Context(), t, d.ID)
	if err != nil {
		return err
	}
	dp := devicePage{Device: d}
	for _, a := range latest {
		dp.Audits = append(dp.Audits, viewAudit(a))
		if _, ok := decodeReport(a); ok {
			dp.HasReport = true
		}
	}
	if dp.Alerts, err = t.Alerts(r.Context(), store.AlertFilter{DeviceID: d.ID, State: store.AlertOpen}, store.Page{}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "device", pageData{Data: dp})
	return nil
}

// pageDeviceReport is the device's report exactly as `check --format
// html` writes it: internal/report's renderer on the stored report of
// the newest audit (?audit=ID picks another of the device's). It is a
// page of its own, framed by the device page, with a policy that allows
// its inline style and no script at all.
func (s *Server) pageDeviceReport(w http.ResponseWriter, r *http.Request) error {
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	var rep *report.Report
	if q := r.URL.Query().Get("audit"); q != "" {
		id, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return errNotFound
		}
		a, err := t.Audit(r.Context(), id)
		if err != nil {
			return err
		}
		if a.DeviceID != d.ID {
			return errNotFound
		}
		if rep, _ = decodeReport(a); rep == nil {
			return errNotFound
		}
	} else {
		latest, err := latestAudits(r.Context(), t, d.ID)
		if err != nil {
			return err
		}
		for _, a := range latest { // check first, then dns, then config
			if rep, _ = decodeReport(a); rep != nil {
				break
			}
		}
		if rep == nil {
			return errNotFound
		}
	}
	var b bytes.Buffer
	if err := report.WriteHTML(&b, rep); err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", reportCSP)
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
	return nil
}

// configPage is the configuration history's data.
type configPage struct {
	Device    store.Device
	Snapshots []store.SnapshotMeta
	Changes   []store.ChangeEvent
}

func (s *Server) pageDeviceConfig(w http.ResponseWriter, r *http.Request) error {
	t := s.tenant(r)
	d, err := t.Device(r.Context(), r.PathValue("device"))
	if err != nil {
		return err
	}
	cp := configPage{Device: d}
	if cp.Snapshots, err = t.Snapshots(r.Context(), d.ID, store.Page{}); err != nil {
		return err
	}
	if cp.Changes, err = t.ChangeEvents(r.Context(), d.ID, store.Page{}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "config", pageData{Data: cp})
	return nil
}

// --- alerts ---

// alertsPage is the alerts page's data.
type alertsPage struct {
	State  string
	Alerts []store.Alert
}

func (s *Server) pageAlerts(w http.ResponseWriter, r *http.Request) error {
	ap := alertsPage{State: r.URL.Query().Get("state")}
	f := store.AlertFilter{}
	switch ap.State {
	case "", "open":
		ap.State, f.State = "open", store.AlertOpen
	case "resolved":
		f.State = store.AlertResolved
	case "all":
	default:
		return badRequest("state must be open, resolved or all")
	}
	var err error
	if ap.Alerts, err = s.tenant(r).Alerts(r.Context(), f, store.Page{Limit: store.MaxLimit}); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "alerts", pageData{Data: ap})
	return nil
}

// alertDone answers an alert change: the alert's row for htmx, the page
// otherwise.
func (s *Server) alertDone(w http.ResponseWriter, r *http.Request, a store.Alert) error {
	if isHTMX(r) {
		s.renderFragment(w, r, "alert-row", pageData{Data: a})
		return nil
	}
	return seeOther(w, r, "/alerts")
}

func (s *Server) postAck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "alert")
	if err != nil {
		return err
	}
	a, err := s.ackAlert(r, id)
	if err != nil {
		return err
	}
	return s.alertDone(w, r, a)
}

func (s *Server) postSuppress(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "alert")
	if err != nil {
		return err
	}
	h, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil || h < 0 {
		return badRequest("hours must be a whole number")
	}
	a, err := s.suppressAlert(r, id, time.Duration(h)*time.Hour)
	if err != nil {
		return err
	}
	return s.alertDone(w, r, a)
}

// --- users, tokens, audit log (admin) ---

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, d pageData) error {
	us, err := s.tenant(r).Users(r.Context(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	d.Data = us
	s.render(w, r, status, "users", d)
	return nil
}

func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request) error {
	return s.renderUsers(w, r, http.StatusOK, pageData{})
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) error {
	_, err := s.createUser(r, userInput{Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: r.PostFormValue("role"), Password: r.PostFormValue("password")})
	if err != nil {
		st, msg := statusOf(err)
		if st >= 500 {
			return err
		}
		return s.renderUsers(w, r, st, pageData{Error: msg})
	}
	return seeOther(w, r, "/users")
}

func (s *Server) postUserEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "user")
	if err != nil {
		return err
	}
	var in userUpdateInput
	if v := r.PostFormValue("role"); v != "" {
		in.Role = &v
	}
	switch r.PostFormValue("disabled") {
	case "true":
		t := true
		in.Disabled = &t
	case "false":
		f := false
		in.Disabled = &f
	}
	if v := r.PostFormValue("password"); v != "" {
		in.Password = &v
	}
	if _, err := s.updateUser(r, id, in); err != nil {
		st, msg := statusOf(err)
		if st >= 500 || st == http.StatusNotFound {
			return err
		}
		return s.renderUsers(w, r, st, pageData{Error: msg})
	}
	return seeOther(w, r, "/users")
}

// tokensPage is the tokens page's data.
type tokensPage struct {
	Tokens   []tokenView
	NewToken *newTokenView
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, d pageData, nt *newTokenView) error {
	ts, err := s.tenant(r).Tokens(r.Context(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	tp := tokensPage{NewToken: nt}
	for _, t := range ts {
		tp.Tokens = append(tp.Tokens, viewToken(t))
	}
	d.Data = tp
	s.render(w, r, status, "tokens", d)
	return nil
}

func (s *Server) pageTokens(w http.ResponseWriter, r *http.Request) error {
	return s.renderTokens(w, r, http.StatusOK, pageData{}, nil)
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) error {
	in := tokenInput{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	if d := r.PostFormValue("expires_days"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return s.renderTokens(w, r, http.StatusBadRequest, pageData{Error: "the expiry must be a number of days"}, nil)
		}
		in.ExpiresInSeconds = n * 24 * 3600
	}
	nt, err := s.createToken(r, in, "")
	if err != nil {
		st, msg := statusOf(err)
		if st >= 500 {
			return err
		}
		return s.renderTokens(w, r, st, pageData{Error: msg}, nil)
	}
	return s.renderTokens(w, r, http.StatusCreated, pageData{Flash: "Token created. Copy it now: it is not shown again."}, &nt)
}

func (s *Server) postRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "token")
	if err != nil {
		return err
	}
	if _, err := s.revokeToken(r, id); err != nil {
		return err
	}
	return seeOther(w, r, "/tokens")
}

func (s *Server) pageAuditLog(w http.ResponseWriter, r *http.Request) error {
	pg, err := pageOf(r)
	if err != nil {
		return err
	}
	es, err := s.tenant(r).AuditLog(r.Context(), pg)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "auditlog", pageData{Data: pagedList(es, pg)})
	return nil
}

// --- range audits ---

func (s *Server) pageRanges(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.tenant(r).RangeScopes(r.Context(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "ranges", pageData{Data: sc})
	return nil
}

// rangePage is one scope's page.
type rangePage struct {
	Scope store.RangeScope
	Runs  []rangeRunView
}

type rangeRunView struct {
	store.RangeRun
	Summary []store.PrefixSummary
}

func (s *Server) pageRange(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt64(r, "scope")
	if err != nil {
		return err
	}
	t := s.tenant(r)
	sc, err := t.RangeScope(r.Context(), id)
	if err != nil {
		return err
	}
	runs, err := t.RangeRuns(r.Context(), id, store.Page{Limit: 20})
	if err != nil {
		return err
	}
	rp := rangePage{Scope: sc}
	for _, run := range runs {
		sum, err := t.RangeSummary(r.Context(), run.ID)
		if err != nil {
			return err
		}
		rp.Runs = append(rp.Runs, rangeRunView{RangeRun: run, Summary: sum})
	}
	s.render(w, r, http.StatusOK, "range", pageData{Data: rp})
	return nil
}

// WithData returns d carrying v instead (a row template gets the page's
// principal and CSRF token with its own record).
func (d pageData) WithData(v any) pageData {
	d.Data = v
	return d
}
