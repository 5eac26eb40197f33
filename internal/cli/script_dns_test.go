// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// TestScriptDNS runs testdata/script/dns_*.txtar against loopback fakes:
// resolvers (honest, the campaign's hijacker, an NXDOMAIN rewriter, a
// hostile one), trusted DoH and DoT resolvers with a test CA, and HTTPS
// servers for the TLS check. Their addresses are in the environment; every
// script names its resolvers with --resolver and its trusted resolvers
// with --trusted-*, so nothing outside 127.0.0.0/8 is ever contacted.
//
// Scripts use "exitcode N ARGS..." from script_test.go, which runs the CLI
// in process and pins the PRODUCT.md exit code.
func TestScriptDNS(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "script", "dns_*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dns scripts: %v", err)
	}
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range data.Canaries {
		names = append(names, c.Name)
	}
	ca := dnsprobetest.NewCA(t)
	web := dnsprobetest.NewWebServers(t, ca.Issue(t, names, nil), dnsprobetest.SelfSigned(t, names...))
	truth := func() *dnsprobetest.Zone {
		z := &dnsprobetest.Zone{A: map[string][]netip.Addr{}, Signed: map[string]bool{}}
		for _, n := range names {
			z.A[dnsprobetest.Fqdn(n)] = []netip.Addr{web.Addrs[0]}
		}
		z.A["ietf.org."] = []netip.Addr{netip.MustParseAddr("192.0.2.80")}
		z.Signed["ietf.org."] = true
		return z
	}
	hijack := truth()
	hijack.Hijack = map[string]netip.Addr{}
	for _, c := range data.Canaries {
		if c.Kind == dnshijack.KindCampaignTarget {
			hijack.Hijack[dnsprobetest.Fqdn(c.Name)] = web.Addrs[1]
		}
	}
	hijack.Chaos = map[string]string{"version.bind.": "dnsmasq-2.85"}
	nx := truth()
	nx.NXRewrite = netip.MustParseAddr("192.0.2.200")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	doh := dnsprobetest.NewDoH(t, ca, truth())
	dot := dnsprobetest.NewDoT(t, ca, "resolver.example.net", truth())
	env := map[string]string{
		"HONEST":    dnsprobetest.NewServer(t, truth()).Addr.String(),
		"HIJACKER":  dnsprobetest.NewServer(t, hijack).Addr.String(),
		"NXREWRITE": dnsprobetest.NewServer(t, nx).Addr.String(),
		"HOSTILE":   dnsprobetest.NewHostile(t, dnsprobetest.Malformed).Addr.String(),
		"DOH":       doh.URL,
		"DOT":       dot.Addr.String() + "#resolver.example.net",
		"CAFILE":    caFile,
		"TLSPORT":   strconv.Itoa(int(web.Port)),
		"AITM":      web.Addrs[1].String(),
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
		// exitcode N ARGS runs routerwatch ARGS in process and checks the
		// exit code (script_test.go).
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"exitcode": cmdExitCode},
	})
}
