// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// Loopback addresses of the fake routers (audittest): fixed, so that
// scripts can name them (and write resume files for them).
var (
	fakeTPLink   = netip.MustParseAddr("127.0.0.51")
	fakeMikroTik = netip.MustParseAddr("127.0.0.52")
	fakeClosed   = netip.MustParseAddr("127.0.0.53")
)

// TestScriptCheck runs testdata/script/check_*.txtar and scan_*.txtar
// against loopback fakes: a legacy TP-Link ($TPLINK), a MikroTik
// ($MIKROTIK) and a router with every port closed ($CLOSED), all serving
// on one port map, plus an honest resolver ($HONEST) and a trusted DoH
// resolver ($DOH, CA in $CAFILE) for the DNS part of check. Scripts run
// routerwatch with "exitcodep N ARGS...": "exitcode" (script_test.go)
// with the fakes' --port flags appended, so that the probes reach the
// fakes and never the test machine's usual ports. Every target and
// resolver is named; nothing outside 127.0.0.0/8 is contacted.
func TestScriptCheck(t *testing.T) {
	var files []string
	for _, pat := range []string{"check_*.txtar", "scan_*.txtar"} {
		fs, err := filepath.Glob(filepath.Join("testdata", "script", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	if len(files) == 0 {
		t.Fatal("no check or scan scripts")
	}
	ports := audittest.FreePorts(t, fakeTPLink, fakeMikroTik, fakeClosed)
	audittest.TPLink(t, fakeTPLink, ports)
	audittest.MikroTik(t, fakeMikroTik, ports)
	audittest.Closed(t, fakeClosed, ports)
	portFlags := audittest.PortFlags(ports)

	// The DNS part: an honest resolver and a trusted DoH resolver that
	// agree on every canary name.
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		t.Fatal(err)
	}
	zone := &dnsprobetest.Zone{A: map[string][]netip.Addr{}, Signed: map[string]bool{}}
	for _, c := range data.Canaries {
		zone.A[dnsprobetest.Fqdn(c.Name)] = []netip.Addr{netip.MustParseAddr("192.0.2.80")}
	}
	ca := dnsprobetest.NewCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TPLINK":   fakeTPLink.String(),
		"MIKROTIK": fakeMikroTik.String(),
		"CLOSED":   fakeClosed.String(),
		"HTTPPORT": fmt.Sprint(ports["http"][0]),
		"HONEST":   dnsprobetest.NewServer(t, zone).Addr.String(),
		"DOH":      dnsprobetest.NewDoH(t, ca, zone).URL,
		"CAFILE":   caFile,
	}
	testscript.Run(t, testscript.Params{
		Files: files,
		Setup: func(e *testscript.Env) error {
			for k, v := range env {
				e.Setenv(k, v)
			}
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, "config"))
			e.Setenv("XDG_DATA_HOME", filepath.Join(e.WorkDir, "data"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"exitcodep": func(ts *testscript.TestScript, neg bool, args []string) {
				cmdExitCode(ts, neg, append(append([]string(nil), args...), portFlags...))
			},
		},
	})
}
