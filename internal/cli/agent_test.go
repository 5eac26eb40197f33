// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/agentserver"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/store/sqlite"
)

const cliAgentToken = "rw_clitest_5f0c2a9e17b4d3c8-secret"

type cliAuth struct{}

func (cliAuth) AuthenticateAgent(r *http.Request) (agentserver.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer "+cliAgentToken {
		return agentserver.Principal{}, agentserver.ErrUnauthenticated
	}
	return agentserver.Principal{OrgID: "org", SiteID: "office", Token: "clitest"}, nil
}

type cliSite struct{ site agentserver.Site }

func (s cliSite) AgentSite(context.Context, agentserver.Principal) (agentserver.Site, error) {
	return s.site, nil
}

// TestAgentCommand runs `routerwatch agent --once` against the real
// agent endpoint on loopback, with a schedule that pulls the settings of
// a loopback fake router: the reading reaches the server's store under
// the site's router, the exit code is 0, and neither the token nor the
// router's password is printed; a token the server refuses exits 2.
func TestAgentCommand(t *testing.T) {
	r := tplinktest.New(t, tplinktest.SyntheticSamples(), tplinktest.Options{Scheme: tplinktest.Cookie, User: fakeRouterUser, Password: fakeRouterPassword})
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateOrg(t.Context(), store.Org{ID: "org", Name: "MSP customer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ForOrg("org").PutSite(t.Context(), store.Site{ID: "office", Name: "Office"}); err != nil {
		t.Fatal(err)
	}
	site := agentserver.Site{Name: "Office",
		Tasks:   []agentapi.Task{{Kind: agentapi.KindConfigPull, IntervalSeconds: 600}},
		Routers: []agentapi.Router{{ID: "front", Address: r.Addr().Addr(), Port: r.Addr().Port(), Adapter: "tplink-legacy"}}}
	h, err := agentserver.New(agentserver.Options{Auth: cliAuth{}, Sites: cliSite{site}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	dir := t.TempDir()
	tok := filepath.Join(dir, "agent.token")
	creds := filepath.Join(dir, "credentials.yaml")
	bad := filepath.Join(dir, "revoked.token")
	for name, body := range map[string]string{tok: cliAgentToken + "\n", bad: "rw_clitest_revoked\n",
		creds: fmt.Sprintf("routers:\n  - user: %s\n    password: %q\n", fakeRouterUser, fakeRouterPassword)} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(token string) (int, string) {
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		code := app.Run(t.Context(), []string{"--data-dir", filepath.Join(dir, "data"), "agent", "--server", srv.URL,
			"--token-file", token, "--credentials", creds, "--once", "--log-format", "json"})
		return code, out.String() + errb.String()
	}
	code, out := run(tok)
	if code != ExitOK {
		t.Fatalf("agent --once: exit %d\n%s", code, out)
	}
	as, err := st.ForOrg("org").Audits(t.Context(), store.AuditFilter{DeviceID: "front", Kind: "config"}, store.Page{})
	if err != nil || len(as) != 1 || as[0].Verdict == "error" {
		t.Fatalf("the server has %+v (%v), want one config reading of the router\n%s", as, err, out)
	}
	if n, err := st.ForOrg("org").CountSnapshots(t.Context(), "front"); err != nil || n != 1 {
		t.Errorf("%d snapshots (%v)", n, err)
	}
	for _, secret := range []string{cliAgentToken, fakeRouterPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("the output holds a secret:\n%s", out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "agent", "agent.json")); err != nil {
		t.Errorf("no state in the default state directory: %v", err)
	}

	code, out = run(bad)
	if code != ExitUsage || !strings.Contains(out, "revoked") {
		t.Errorf("a refused token: exit %d, want %d saying why\n%s", code, ExitUsage, out)
	}
}
