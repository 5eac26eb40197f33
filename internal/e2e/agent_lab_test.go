// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
	"github.com/routerwatch/routerwatch/internal/watch"
)

// agentLabToken is the lab site's agent token (the test's Authenticator
// knows it; real tokens are internal/auth's).
const agentLabToken = "rw_e2e_4d1f7c0a92b3e856-agent"

type labAuth struct{}

func (labAuth) AuthenticateAgent(r *http.Request) (agentserver.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer "+agentLabToken {
		return agentserver.Principal{}, agentserver.ErrUnauthenticated
	}
	return agentserver.Principal{OrgID: "msp", SiteID: "lab-office", Token: "e2e"}, nil
}

type labSite struct{ site agentserver.Site }

func (s labSite) AgentSite(context.Context, agentserver.Principal) (agentserver.Site, error) {
	return s.site, nil
}

// TestAgentDNSChanger is issue 10's agent in the lab: the real agent
// endpoint (over a real SQLite store) listens on the loopback of the
// dns-changer scenario's client, and `routerwatch agent --once` runs
// there on the site's schedule (the DNS audit, and the router's settings
// with the login from the agent's own credentials file). The first round
// reports a clean DNS audit and raises nothing; the DNS changer switches
// the router's DHCP DNS to the attacker's resolver; the next round is
// hijacked and the server raises exactly one alert, naming the change and
// the DNS verdict; a third round raises nothing new. The token and the
// router's password are in no output and no file of the agent.
func TestAgentDNSChanger(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "dns-changer")
	user, password := l.RouterLogin()
	router := l.Addr("router.lan")
	attacker := l.Addr("attacker.resolver")

	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateOrg(t.Context(), store.Org{ID: "msp", Name: "an MSP's customer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ForOrg("msp").PutSite(t.Context(), store.Site{ID: "lab-office", Name: "Lab office"}); err != nil {
		t.Fatal(err)
	}
	ten := st.ForOrg("msp")
	site := agentserver.Site{Name: "Lab office",
		Tasks:   []agentapi.Task{{Kind: agentapi.KindDNS, IntervalSeconds: 600}, {Kind: agentapi.KindConfigPull, IntervalSeconds: 600}},
		Routers: []agentapi.Router{{ID: "front", Address: router, Adapter: "tplink-legacy", Label: "lab router"}}}
	// Alerts at critical only, as in TestWatchDNSChanger: this router's
	// remote management is open (high) until the DNS changer closes it.
	h, err := agentserver.New(agentserver.Options{Auth: labAuth{}, Sites: labSite{site}, Store: st, AlertOn: finding.SeverityCritical})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := l.Do(lab.Client, func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()

	dir := t.TempDir()
	token := filepath.Join(dir, "agent.token")
	creds := filepath.Join(dir, "credentials.yaml")
	for name, body := range map[string]string{token: agentLabToken + "\n",
		creds: fmt.Sprintf("routers:\n  - user: %s\n    password: %q\n", user, password)} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(dir, "agent-state")
	args := append([]string{"--data-dir", filepath.Join(dir, "data"), "agent", "--server", "http://" + ln.Addr().String(),
		"--token-file", token, "--credentials", creds, "--state-dir", state, "--once"}, trustedDNS(l)...)
	var outputs [][]byte
	round := func(name string) {
		t.Helper()
		r := routerwatch(t, l, lab.Client, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != 0 {
			t.Fatalf("%s: agent --once exit %d\n%s", name, r.code, r.stderr)
		}
	}
	openAlerts := func() []store.Alert {
		t.Helper()
		as, err := ten.Alerts(t.Context(), store.AlertFilter{State: store.AlertOpen}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	lastDNS := func() store.Audit {
		t.Helper()
		as, err := ten.Audits(t.Context(), store.AuditFilter{DeviceID: "lab-office/network", Kind: "dns"}, store.Page{Limit: 1})
		if err != nil || len(as) != 1 {
			t.Fatalf("the server's DNS audits: %v %+v", err, as)
		}
		return as[0]
	}

	round("clean")
	if a := lastDNS(); a.Verdict != "clean" {
		t.Fatalf("first round: DNS %s %q, want clean", a.Verdict, a.Headline)
	}
	if as := openAlerts(); len(as) != 0 {
		t.Fatalf("the clean site raised %+v", as)
	}

	if err := l.DNSChanger(t.Context(), attacker); err != nil {
		t.Fatal(err)
	}
	round("hijacked")
	if a := lastDNS(); a.Verdict != "hijacked" || !strings.Contains(a.Headline, attacker.String()) {
		t.Errorf("after the attack: DNS %s %q, want hijacked naming %s", a.Verdict, a.Headline, attacker)
	}
	as := openAlerts()
	if len(as) != 1 {
		t.Fatalf("after the attack: %d open alerts, want exactly one: %+v", len(as), as)
	}
	a := as[0]
	wantChange := "DHCP DNS primary changed from " + router.String() + " to " + attacker.String()
	if a.Kind != watch.CheckDNSHijack || a.DeviceID != "lab-office/network" || a.Severity != finding.SeverityCritical ||
		!strings.Contains(a.Detail, wantChange) || !strings.Contains(a.Detail, "DNS audit: ") {
		t.Errorf("the alert: %s on %s, %s, %q; want %s naming %q and the DNS verdict", a.Kind, a.DeviceID, a.Severity, a.Detail, watch.CheckDNSHijack, wantChange)
	}

	round("hijacked again")
	if as := openAlerts(); len(as) != 1 || as[0].ID != a.ID {
		t.Errorf("the same state again: %+v, want the one alert still open and nothing new", as)
	}
	all, err := ten.Alerts(t.Context(), store.AlertFilter{}, store.Page{})
	if err != nil || len(all) != 1 {
		t.Errorf("alerts ever raised: %d (%v), want 1", len(all), err)
	}
	// Every result arrived once: three rounds of two results.
	for _, kind := range []string{"dns", "config"} {
		dev := "lab-office/network"
		if kind == "config" {
			dev = "front"
		}
		got, err := ten.Audits(t.Context(), store.AuditFilter{DeviceID: dev, Kind: kind}, store.Page{})
		if err != nil || len(got) != 3 {
			t.Errorf("%s audits at the server: %d (%v), want 3", kind, len(got), err)
		}
	}

	for _, out := range outputs {
		for _, secret := range []string{agentLabToken, password} {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("the agent printed a secret:\n%s", out)
			}
		}
	}
	grepTree(t, state, password)
	grepTree(t, state, agentLabToken)
}
