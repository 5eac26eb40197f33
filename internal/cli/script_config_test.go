// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
)

// Login of the fake router the config scripts read.
const (
	fakeRouterUser     = "admin"
	fakeRouterPassword = "script-pass-0c41"
)

// TestScriptConfig runs testdata/script/config_*.txtar against a loopback
// fake of a legacy TP-Link web UI (cookie login, one session at a time,
// built from synthetic stand-ins of the captured pages, so that no shared
// data is needed): $ROUTER is its address and $ROUTERPORT its port, and
// "routerset FIELD VALUE" changes its settings between two commands the
// way the owner or an attacker would ("routerset dns1 64.120.31.96").
func TestScriptConfig(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "script", "config_*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no config scripts: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Files: files,
		Setup: func(e *testscript.Env) error {
			r := tplinktest.New(t, tplinktest.SyntheticSamples(), tplinktest.Options{Scheme: tplinktest.Cookie,
				User: fakeRouterUser, Password: fakeRouterPassword})
			e.Values["router"] = r
			e.Setenv("ROUTER", r.Addr().Addr().String())
			e.Setenv("ROUTERPORT", fmt.Sprint(r.Addr().Port()))
			e.Setenv("ROUTERPASS", fakeRouterPassword)
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, "config"))
			e.Setenv("XDG_DATA_HOME", filepath.Join(e.WorkDir, "data"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"routerset": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: routerset dns1|dns2|remote|upnp VALUE")
				}
				r := ts.Value("router").(*tplinktest.Router)
				r.SetState(func(s *tplinktest.State) {
					switch args[0] {
					case "dns1":
						s.DHCP.DNS1 = args[1]
					case "dns2":
						s.DHCP.DNS2 = args[1]
					case "remote":
						s.Manage.IP = args[1]
					case "upnp":
						s.UPnP = args[1] == "on"
					default:
						ts.Fatalf("routerset: unknown field %q", args[0])
					}
				})
			},
		},
	})
}
