// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/browsertest"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/publish/lookuppage"
	"github.com/routerwatch/routerwatch/internal/server"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/watch"
)

// The people of the browser tests: the owner (an admin of the MSP's
// customer "msp", made as `serve adduser` makes the first admin), a
// viewer the owner adds in the users page, and the admin of another
// organisation.
const (
	ownerOrg      = "msp"
	ownerLogin    = "olive-owner"
	ownerPassword = "olive-correct-horse-7"
	viewerLogin   = "victor-viewer"
	viewerPass    = "victor-battery-staple-3"
	otherOrg      = "globex"
	otherLogin    = "gil-globex"
	otherPassword = "gil-globex-tr0ub4dor-9"
	labSiteID     = "lab-office"
	// routerID is the site's router as the schedule names it.
	routerID = "front"
)

// testParams are the weakest argon2id parameters auth accepts (OWASP's
// minimum): the logins stay real but cost little on a loaded machine.
var testParams = auth.Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// browserStep bounds one page action (a navigation, a form, a poll):
// pages answer in milliseconds, Chromium renders in well under a second.
const browserStep = 20 * time.Second

// TestBrowserFleet is issue 10's fleet in a real browser, in the lab: the
// server (the dashboard, the agents' endpoint as serve mounts it, the
// public lookup page, over a real SQLite store) runs in the dns-changer
// scenario's client namespace on the client's LAN address, with HTTPS
// from a self-signed certificate that Chromium trusts by its key's hash
// and the agent by --ca-file. Chromium, in the same namespace:
//
//   - owner: logs in; adds the site; creates its agent token and reads it
//     from the page; adds the site's router (front) in the site page's
//     form; `routerwatch agent --once` reports from the site and
//     the site page shows the clean DNS verdict; `lab attack dns-changer`
//     rewrites the router's DHCP DNS; after the next report the alerts
//     page (polled) shows the hijack alert; the owner acknowledges it, the
//     row says so without a reload, after a reload too, and the store says
//     so; every device and configuration page the alerts link to opens;
//     the owner adds a viewer in the users page.
//   - viewer: sees the sites, the site and the alerts but no control to
//     change them; a crafted POST from its session with a valid CSRF
//     token is refused 403 and the store is unchanged.
//   - other organisation: its admin sees no site, device or alert of the
//     first, and the first's URLs answer 404.
//
// With ROUTERWATCH_SCREENSHOTS=docs/screenshots (a path from the
// repository's root) it writes the docs' screenshots of every page.
func TestBrowserFleet(t *testing.T) {
	if c := labtest.InChild(t); c != nil {
		browserFleetChild(t, c.Lab)
		return
	}
	t.Parallel()
	browsertest.Chromium(t)
	l := labtest.Up(t, "dns-changer")
	env := []string{lab.ExecutableEnv + "=" + labtest.Executable(t)}
	if dir := os.Getenv(browsertest.EnvScreenshots); dir != "" && !filepath.IsAbs(dir) {
		// The child runs in this package's directory too; a relative
		// directory is the repository's, as the docs say.
		env = append(env, browsertest.EnvScreenshots+"="+filepath.Join("..", "..", dir))
	}
	labtest.RunIn(t, l, lab.Client, t.Name(), env...)
}

// fleet is the child's state shared by the subtests.
type fleet struct {
	l      *lab.Lab
	st     store.Store
	base   string // https://10.77.0.10:port
	caFile string
	ctx    context.Context // the browser's tab
}

func browserFleetChild(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hasher, err := auth.NewHasher(testParams)
	if err != nil {
		t.Fatal(err)
	}
	addUser(t, st, hasher, ownerOrg, ownerLogin, ownerPassword, store.RoleAdmin)
	addUser(t, st, hasher, otherOrg, otherLogin, otherPassword, store.RoleAdmin)

	// The server as serve wires it: the agents' endpoint behind auth,
	// judged with the advisory data (the built-in documents here), and
	// the public lookup page.
	ds, info, err := datastore.Open(datastore.New(filepath.Join(dir, "data")))
	if err != nil {
		t.Fatal(err)
	}
	ix := advisory.NewIndex(ds)
	ah, err := agentserver.New(agentserver.Options{Auth: agentserver.AuthPrincipal{},
		Sites: agentserver.StoreSites{Store: st}, Store: st, Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := lookuppage.New(lookuppage.Options{Data: func() (*advisory.Index, datastore.Info, error) { return ix, info, nil }})
	if err != nil {
		t.Fatal(err)
	}
	clientAddr := l.Addr("client.lan")
	certFile, keyFile, spki := selfSignedCert(t, dir, clientAddr)
	ready := make(chan net.Addr, 1)
	srv, err := server.New(server.Options{Store: st, Hasher: hasher, Listen: net.JoinHostPort(clientAddr.String(), "0"),
		CertFile: certFile, KeyFile: keyFile,
		Agents: []server.AgentRoute{{Pattern: agentapi.BasePath, Handler: ah}},
		Public: []server.PublicRoute{{Pattern: lookuppage.PagePath, Handler: lp}, {Pattern: lookuppage.APIPath, Handler: lp}},
		Ready:  func(a net.Addr) { ready <- a }})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	case <-time.After(browserStep):
		t.Fatal("the server did not listen")
	}

	f := &fleet{l: l, st: st, base: "https://" + addr.String(), caFile: certFile,
		ctx: browsertest.New(t, browsertest.Options{TrustSPKI: []string{spki}})}
	if !t.Run("owner", f.owner) {
		return
	}
	t.Run("viewer", f.viewer)
	t.Run("other_organisation", f.otherOrganisation)
}

// owner is the owner's flow, from the login to the acknowledged hijack
// alert.
func (f *fleet) owner(t *testing.T) {
	f.do(t, "the login page", chromedp.Navigate(f.base+"/"), chromedp.WaitVisible("#login-form"))
	browsertest.Screenshot(t, f.ctx, "login")
	f.login(t, ownerLogin, ownerPassword)
	f.do(t, "the empty sites page", chromedp.WaitVisible("#no-sites"))

	f.do(t, "adding the site",
		chromedp.SendKeys("#site-id", labSiteID),
		chromedp.SendKeys("#site-name", "Lab office"),
		chromedp.Click("#site-add-submit"),
		chromedp.WaitVisible("#no-devices"))
	if got := f.text(t, "#site-title"); !strings.Contains(got, "Lab office") {
		t.Errorf("after adding the site the page is %q", got)
	}
	f.do(t, "creating the agent token",
		chromedp.SendKeys("#agent-token-name", "lab agent"),
		chromedp.Click("#agent-token-submit"),
		chromedp.WaitVisible("#new-token-secret"))
	token := strings.TrimSpace(f.text(t, "#new-token-secret"))
	if !strings.HasPrefix(token, "rw_") {
		t.Fatalf("the agent token on the page: %q", token)
	}
	// Shown once: the site page does not show it again.
	f.do(t, "the site page again", chromedp.Navigate(f.base+"/sites/"+labSiteID), chromedp.WaitVisible("#agent-tokens"))
	if f.exists(t, "#new-token-secret") {
		t.Error("the agent token's secret is shown again")
	}

	// The site's router, as its owner registers it in the site page's
	// form: the agents' schedule names the site's devices with an
	// address, with their adapter.
	f.do(t, "adding the router",
		chromedp.SendKeys("#router-address", f.l.Addr("router.lan").String()),
		chromedp.SetValue("#router-adapter", "tplink-legacy"),
		chromedp.SendKeys("#router-label", "lab router"),
		chromedp.SendKeys("#router-id", routerID),
		chromedp.Click("#router-add-submit"),
		chromedp.WaitVisible(`#site-devices tr[data-device="`+routerID+`"]`))
	if f.exists(t, "#router-add-error") {
		t.Errorf("adding the router: %s", f.text(t, "#router-add-error"))
	}
	ten := f.st.ForOrg(ownerOrg)
	if d, err := ten.Device(t.Context(), routerID); err != nil || d.Site != labSiteID || d.Address != f.l.Addr("router.lan").String() ||
		d.Adapter != "tplink-legacy" || d.Label != "lab router" {
		t.Fatalf("the router the form added, in the store: %+v (%v)", d, err)
	}

	agent := f.agent(t, token)
	agent("clean")
	f.do(t, "the site after the first report", chromedp.Navigate(f.base+"/sites/"+labSiteID), chromedp.WaitVisible("#site-devices"))
	if dns := f.text(t, "#site-dns"); !strings.HasPrefix(dns, "clean") {
		t.Fatalf("the site's DNS after a clean report: %q", dns)
	}
	browsertest.Screenshot(t, f.ctx, "site")
	f.do(t, "the alerts page", chromedp.Navigate(f.base+"/alerts"), chromedp.WaitReady("body"))
	if rows := f.alertRows(t); strings.Contains(rows, "DNS hijacked") {
		t.Fatalf("a clean site has a hijack alert:\n%s", rows)
	}

	attacker := f.l.Addr("attacker.resolver")
	if err := f.l.DNSChanger(t.Context(), attacker); err != nil {
		t.Fatal(err)
	}
	agent("hijacked")
	id := f.pollHijackAlert(t)
	row := f.text(t, "#alert-"+id)
	wantChange := "DHCP DNS primary changed from " + f.l.Addr("router.lan").String() + " to " + attacker.String()
	if !strings.Contains(row, wantChange) || !strings.Contains(row, "DNS audit: ") || !strings.Contains(row, "open") {
		t.Errorf("the hijack alert's row:\n%s\nwant it open, naming %q and the DNS verdict", row, wantChange)
	}
	browsertest.Screenshot(t, f.ctx, "alerts-hijack")

	f.do(t, "acknowledging the alert", chromedp.Click("#alert-ack-"+id))
	state, err := chromedp.Run(f.ctx, chromedp.Poll[string](
		`(() => { const e = document.querySelector('#alert-`+id+` [data-testid="alert-state"]'); return e && e.textContent.includes("acknowledged") ? e.textContent : null })()`,
		chromedp.WithPollingTimeout(browserStep)))
	if err != nil {
		t.Fatalf("the acknowledged row did not appear: %v", err)
	}
	if !strings.Contains(state, "acknowledged by "+ownerLogin) {
		t.Errorf("the row's state after acknowledging: %q", state)
	}
	browsertest.Screenshot(t, f.ctx, "alerts-acknowledged")
	f.do(t, "the alerts page again", chromedp.Navigate(f.base+"/alerts?state=all"), chromedp.WaitVisible("#alert-"+id))
	if s := f.text(t, `#alert-`+id+` [data-testid="alert-state"]`); !strings.Contains(s, "acknowledged by "+ownerLogin) {
		t.Errorf("after a reload the row says %q", s)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	a, err := ten.Alert(t.Context(), n)
	if err != nil || a.AckedBy != ownerLogin || a.Kind != watch.CheckDNSHijack || a.AckedAt.IsZero() {
		t.Errorf("the store's alert %s: %s acked by %q at %v (%v); want %s acked by %s", id, a.Kind, a.AckedBy, a.AckedAt, err, watch.CheckDNSHijack, ownerLogin)
	}

	// The site page says hijacked now; every device page opens.
	f.do(t, "the site after the attack", chromedp.Navigate(f.base+"/sites/"+labSiteID), chromedp.WaitVisible("#site-devices"))
	if dns := f.text(t, "#site-dns"); !strings.HasPrefix(dns, "hijacked") || !strings.Contains(dns, attacker.String()) {
		t.Errorf("the site's DNS after the attack: %q", dns)
	}
	links := f.hrefs(t, `#site-devices a[data-testid="device-link"]`)
	if len(links) < 2 {
		t.Fatalf("the site's device links: %q, want the network and the router", links)
	}
	for _, href := range links {
		f.do(t, "device page "+href, chromedp.Navigate(f.base+href), chromedp.WaitVisible("#device-title"))
	}
	f.do(t, "the router's page", chromedp.Navigate(f.base+"/devices/"+routerID), chromedp.WaitVisible("#device-report"))
	browsertest.Screenshot(t, f.ctx, "device")
	f.do(t, "the router's report", chromedp.Navigate(f.base+"/devices/"+routerID+"/report"), chromedp.WaitReady("body"))
	if body := f.text(t, "body"); !strings.Contains(body, "TL-WR841N") {
		t.Errorf("the router's report does not name its model:\n%.1000s", body)
	}
	f.do(t, "the router's configuration history", chromedp.Navigate(f.base+"/devices/"+routerID), chromedp.Click("#device-config-link"),
		chromedp.WaitVisible(`[data-testid="change-event"]`))
	if ch := f.text(t, `[data-testid="change-event"]`); !strings.Contains(ch, wantChange) {
		t.Errorf("the configuration history's change:\n%s\nwant %q", ch, wantChange)
	}
	browsertest.Screenshot(t, f.ctx, "config-history")

	// The owner adds the viewer, and an API token.
	f.do(t, "adding the viewer", chromedp.Click("#nav-users"), chromedp.WaitVisible("#user-add-form"),
		chromedp.SendKeys("#user-name", viewerLogin),
		chromedp.SetValue("#user-role", "viewer"),
		chromedp.SendKeys("#user-password", viewerPass),
		chromedp.Click("#user-add-submit"),
		chromedp.WaitVisible(`tr[data-name="`+viewerLogin+`"]`))
	if u, err := f.st.UserByLogin(t.Context(), viewerLogin); err != nil || u.Role != store.RoleViewer || u.OrgID != ownerOrg {
		t.Errorf("the store's viewer: %+v (%v)", u, err)
	}
	browsertest.Screenshot(t, f.ctx, "users")
	f.do(t, "creating an API token", chromedp.Click("#nav-tokens"), chromedp.WaitVisible("#token-add-form"),
		chromedp.SendKeys("#token-name", "monitoring"),
		chromedp.Click("#token-add-submit"),
		// Only the answer has the secret (the page before it lists the
		// agent's token already, so a row would not tell them apart).
		chromedp.WaitVisible("#new-token-secret"))
	browsertest.Screenshot(t, f.ctx, "tokens")
	f.do(t, "the audit log", chromedp.Click("#nav-audit-log"), chromedp.WaitVisible("#audit-log"))
	log := f.text(t, "#audit-log")
	for _, want := range []string{"site.create", "device.create", "alert.ack", "user.create"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log has no %s:\n%s", want, log)
		}
	}
	browsertest.Screenshot(t, f.ctx, "audit-log")
	f.do(t, "the range audits", chromedp.Click("#nav-ranges"), chromedp.WaitVisible(`[data-testid="page-ranges"]`))
	browsertest.Screenshot(t, f.ctx, "ranges")
	f.do(t, "the sites page", chromedp.Click("#nav-sites"), chromedp.WaitVisible(`tr[data-site="`+labSiteID+`"]`))
	browsertest.Screenshot(t, f.ctx, "sites")
	f.do(t, "the public lookup page", chromedp.Navigate(f.base+lookuppage.PagePath+"?model=TL-WR841N&hw=10"), chromedp.WaitReady("body"))
	if body := f.text(t, "body"); !strings.Contains(body, "CVE-2023-50224") {
		t.Errorf("the lookup of TL-WR841N V10 does not name CVE-2023-50224:\n%.1000s", body)
	}
	browsertest.Screenshot(t, f.ctx, "lookup")
	f.logout(t)
}

// viewer: the same organisation's pages without their controls, and a
// forged change refused.
func (f *fleet) viewer(t *testing.T) {
	f.do(t, "the login page", chromedp.Navigate(f.base+"/login"), chromedp.WaitVisible("#login-form"))
	f.login(t, viewerLogin, viewerPass)
	f.do(t, "the sites page", chromedp.WaitVisible(`tr[data-site="`+labSiteID+`"]`))
	if f.exists(t, "#site-add-form") {
		t.Error("the viewer's sites page has the form to add a site")
	}
	for _, nav := range []string{"#nav-users", "#nav-tokens", "#nav-audit-log"} {
		if f.exists(t, nav) {
			t.Errorf("the viewer's menu has %s", nav)
		}
	}
	f.do(t, "the site page", chromedp.Navigate(f.base+"/sites/"+labSiteID), chromedp.WaitVisible("#site-devices"))
	for _, form := range []string{"#site-edit-form", "#router-add-form", "#agent-token-form", "#agent-tokens"} {
		if f.exists(t, form) {
			t.Errorf("the viewer's site page has %s", form)
		}
	}
	f.do(t, "the alerts page", chromedp.Navigate(f.base+"/alerts?state=all"), chromedp.WaitVisible("#alerts"))
	if f.exists(t, `[data-testid="alert-ack"]`) || f.exists(t, `[data-testid="alert-suppress"]`) {
		t.Error("the viewer's alerts page has acknowledge or suppress buttons")
	}
	ids := f.attrs(t, `tr[data-testid="alert-row"]`, "data-alert")
	if len(ids) == 0 {
		t.Fatal("the viewer sees no alert of its organisation")
	}
	ten := f.st.ForOrg(ownerOrg)
	n, _ := strconv.ParseInt(ids[0], 10, 64)
	before, err := ten.Alert(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	sitesBefore, err := ten.Sites(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	// Forged from the viewer's page, with its session and its valid CSRF
	// token (the one htmx sends): the role check refuses them.
	for _, c := range []struct{ path, body string }{
		{"/alerts/" + ids[0] + "/ack", ""},
		{"/alerts/" + ids[0] + "/suppress", "hours=168"},
		{"/sites", "id=forged&name=forged"},
		{"/sites/" + labSiteID + "/agent-tokens", "name=forged"},
		{"/sites/" + labSiteID + "/devices", "id=forged&address=10.0.0.99"},
		{"/users", "name=mallory-forged&role=admin&password=mallory-forged-pass-1"},
	} {
		status := f.post(t, c.path, c.body)
		if status != 403 {
			t.Errorf("the viewer's POST %s: %d, want 403", c.path, status)
		}
	}
	// The token was valid: a change the viewer may make (its own
	// password), sent the same way with a wrong current password, passes
	// the CSRF check and fails on the password.
	if status := f.post(t, "/account/password", "current=not-the-password&new=short"); status == 403 || status < 400 {
		t.Errorf("the viewer's own password change, sent the same way: %d, want a refusal other than 403", status)
	}
	after, err := ten.Alert(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if after.AckedBy != before.AckedBy || !after.AckedAt.Equal(before.AckedAt) || !after.SuppressedUntil.Equal(before.SuppressedUntil) {
		t.Errorf("the viewer's forged POSTs changed the alert: %+v → %+v", before, after)
	}
	if sitesAfter, err := ten.Sites(t.Context()); err != nil || len(sitesAfter) != len(sitesBefore) {
		t.Errorf("sites after the viewer's POSTs: %d (%v), want %d", len(sitesAfter), err, len(sitesBefore))
	}
	if _, err := ten.Device(t.Context(), "forged"); err == nil {
		t.Error("the viewer's forged POST added a router")
	}
	if _, err := f.st.UserByLogin(t.Context(), "mallory-forged"); err == nil {
		t.Error("the viewer's forged POST made a user")
	}
	f.logout(t)
}

// otherOrganisation: another organisation's admin sees nothing of the
// first.
func (f *fleet) otherOrganisation(t *testing.T) {
	f.do(t, "the login page", chromedp.Navigate(f.base+"/login"), chromedp.WaitVisible("#login-form"))
	f.login(t, otherLogin, otherPassword)
	f.do(t, "the sites page", chromedp.WaitVisible("#no-sites"))
	f.do(t, "the alerts page", chromedp.Navigate(f.base+"/alerts?state=all"), chromedp.WaitVisible("#no-alerts"))
	devs, err := f.st.ForOrg(ownerOrg).Devices(t.Context())
	if err != nil || len(devs) == 0 {
		t.Fatalf("the first organisation's devices: %v %v", devs, err)
	}
	as, err := f.st.ForOrg(ownerOrg).Alerts(t.Context(), store.AlertFilter{}, store.Page{})
	if err != nil || len(as) == 0 {
		t.Fatalf("the first organisation's alerts: %v %v", as, err)
	}
	paths := []string{"/sites/" + labSiteID, "/api/v1/sites/" + labSiteID}
	for _, d := range devs {
		paths = append(paths, devicePath(d.ID), devicePath(d.ID)+"/config", devicePath(d.ID)+"/report")
	}
	for _, a := range as {
		paths = append(paths, fmt.Sprintf("/api/v1/alerts/%d", a.ID))
	}
	for _, p := range paths {
		if status := f.get(t, p); status != 404 {
			t.Errorf("the other organisation's GET %s: %d, want 404", p, status)
		}
	}
	// A page of the first organisation, opened by URL, says not found.
	f.do(t, "the first's site by URL", chromedp.Navigate(f.base+"/sites/"+labSiteID), chromedp.WaitVisible(`[data-testid="error-status"]`))
	if body := f.text(t, "main"); strings.Contains(body, "Lab office") {
		t.Errorf("the other organisation's page for the first's site shows it:\n%s", body)
	}
	for _, a := range as {
		status := f.post(t, fmt.Sprintf("/alerts/%d/suppress", a.ID), "hours=1")
		if status != 404 {
			t.Errorf("the other organisation's POST to the first's alert %d: %d, want 404", a.ID, status)
		}
	}
	f.logout(t)
}

// devicePath is a device page's path (a device ID may have a '/': the
// site's network is SITE/network).
func devicePath(id string) string {
	return "/devices/" + strings.ReplaceAll(id, "/", "%2F")
}

func (f *fleet) login(t *testing.T, name, password string) {
	t.Helper()
	f.do(t, "logging in as "+name,
		chromedp.SendKeys("#login-name", name),
		chromedp.SendKeys("#login-password", password),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible(`[data-testid="page-sites"]`))
}

func (f *fleet) logout(t *testing.T) {
	t.Helper()
	f.do(t, "logging out", chromedp.Navigate(f.base+"/"), chromedp.Click("#logout"), chromedp.WaitVisible("#login-form"))
}

// agent returns a function that runs one `routerwatch agent --once` at
// the site (the client namespace, which this process is in).
func (f *fleet) agent(t *testing.T, token string) func(string) {
	dir := t.TempDir()
	user, password := f.l.RouterLogin()
	tokenFile := filepath.Join(dir, "agent.token")
	creds := filepath.Join(dir, "credentials.yaml")
	for name, body := range map[string]string{tokenFile: token + "\n",
		creds: fmt.Sprintf("routers:\n  - user: %s\n    password: %q\n", user, password)} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"--data-dir", filepath.Join(dir, "data"), "agent", "--server", f.base,
		"--token-file", tokenFile, "--ca-file", f.caFile, "--credentials", creds,
		"--state-dir", filepath.Join(dir, "state"), "--once"}, trustedDNS(f.l)...)
	return func(name string) {
		t.Helper()
		r := routerwatch(t, f.l, lab.Client, args...)
		if r.code != 0 {
			t.Fatalf("%s: agent --once exit %d\n%s", name, r.code, r.stderr)
		}
	}
}

// pollHijackAlert reloads the alerts page until a hijack alert is listed
// and returns its ID.
func (f *fleet) pollHijackAlert(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(browserStep)
	for {
		f.do(t, "the alerts page", chromedp.Navigate(f.base+"/alerts"), chromedp.WaitReady("body"))
		id, err := chromedp.Run(f.ctx, chromedp.Evaluate[string](`(() => {
			for (const r of document.querySelectorAll('tr[data-testid="alert-row"]')) {
				if (r.textContent.includes("DNS hijacked")) return r.dataset.alert;
			}
			return "";
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if id != "" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hijack alert on the alerts page after %s:\n%s", browserStep, f.alertRows(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (f *fleet) alertRows(t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(f.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('tr[data-testid="alert-row"]')).map(r => r.textContent.replace(/\s+/g, " ")).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// post sends a form POST from the page, as a script of the page could,
// with the session's cookie and the page's CSRF token (the header htmx
// sends), and returns the status.
func (f *fleet) post(t *testing.T, path, body string) int {
	t.Helper()
	return f.fetch(t, fmt.Sprintf(`(() => {
		const h = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
		if (!h["X-CSRF-Token"]) throw new Error("the page has no CSRF token");
		return fetch(%q, {method: "POST", headers: {"X-CSRF-Token": h["X-CSRF-Token"], "Content-Type": "application/x-www-form-urlencoded"}, body: %q, redirect: "manual"}).then(r => r.status);
	})()`, path, body))
}

// get fetches path from the page with the session and returns the status.
func (f *fleet) get(t *testing.T, path string) int {
	t.Helper()
	return f.fetch(t, fmt.Sprintf(`fetch(%q, {redirect: "manual"}).then(r => r.status)`, path))
}

func (f *fleet) fetch(t *testing.T, expr string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, browserStep)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return n
}

// do runs steps, bounded, failing t with what was being done.
func (f *fleet) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(f.ctx, chromedp.Location())
		body, _ := chromedp.Run(f.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v\nat %s:\n%.2000s", what, err, loc, body)
	}
}

func (f *fleet) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, browserStep)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (f *fleet) exists(t *testing.T, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(f.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func (f *fleet) attrs(t *testing.T, sel, attr string) []string {
	t.Helper()
	vs, err := chromedp.Run(f.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.getAttribute(%q))`, sel, attr)))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func (f *fleet) hrefs(t *testing.T, sel string) []string { return f.attrs(t, sel, "href") }

// addUser makes a user as `serve adduser` does: the organisation when
// missing, the password checked and hashed by auth (with h's
// parameters).
func addUser(t *testing.T, st store.Store, h *auth.Hasher, org, login, password string, role store.Role) {
	t.Helper()
	ctx := t.Context()
	if _, err := st.Org(ctx, org); err != nil {
		octx := store.WithAudit(ctx, store.AuditEntry{Actor: "test adduser", Action: "org.create", Object: "org " + org})
		if _, err := st.CreateOrg(octx, store.Org{ID: org, Name: org}); err != nil {
			t.Fatal(err)
		}
	}
	if err := auth.CheckNewPassword(login, password); err != nil {
		t.Fatal(err)
	}
	phc, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	uctx := store.WithAudit(ctx, store.AuditEntry{Actor: "test adduser", Action: "user.create", Object: "user " + login})
	if _, err := st.ForOrg(org).CreateUser(uctx, store.User{Name: login, Role: role, PasswordHash: phc}); err != nil {
		t.Fatal(err)
	}
}

// selfSignedCert writes a self-signed ECDSA certificate for addr (what
// an owner passes to serve --tls-cert) and returns its files and the
// base64 SHA-256 of its public key, which Chromium is told to trust.
func selfSignedCert(t *testing.T, dir string, addr netip.Addr) (certFile, keyFile, spki string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "routerwatch browser test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IP(addr.AsSlice())}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return certFile, keyFile, base64.StdEncoding.EncodeToString(sum[:])
}
