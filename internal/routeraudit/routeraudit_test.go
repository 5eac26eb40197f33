// SPDX-License-Identifier: Apache-2.0

package routeraudit_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/advisory/builtin"
	"github.com/routerwatch/routerwatch/internal/audit"
	"github.com/routerwatch/routerwatch/internal/audit/audittest"
	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/check/exposure"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/device"
	"github.com/routerwatch/routerwatch/internal/device/tplink/tplinktest"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
	"github.com/routerwatch/routerwatch/internal/routeraudit"
)

func index(t *testing.T) *advisory.Index {
	t.Helper()
	ds, err := builtin.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return advisory.NewIndex(ds)
}

// host is a fake Linux machine whose IPv4 default route goes through gw
// (a loopback address, where the fake router listens) and whose
// resolv.conf names nameservers.
func host(gw netip.Addr, nameservers ...netip.Addr) hostnet.Env {
	b := gw.As4()
	var rc strings.Builder
	for _, n := range nameservers {
		rc.WriteString("nameserver " + n.String() + "\n")
	}
	files := map[string]string{
		hostnet.ResolvConfPath: rc.String(),
		// /proc/net/route holds the gateway as a little-endian hex word.
		hostnet.ProcRoutePath: "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			fmt.Sprintf("eth0\t00000000\t%08X\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", binary.LittleEndian.Uint32(b[:])),
		hostnet.ProcIPv6RoutePath: "",
		hostnet.ProcARPPath:       "IP address       HW type     Flags       HW address            Mask     Device\n",
	}
	return hostnet.Env{
		GOOS: "linux",
		ReadFile: func(path string) ([]byte, error) {
			if s, ok := files[path]; ok {
				return []byte(s), nil
			}
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		},
		Interfaces: func() ([]hostnet.Interface, error) {
			return []hostnet.Interface{{Name: "eth0", Index: 2, Up: true, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x10},
				Prefixes: []netip.Prefix{netip.PrefixFrom(gw, 8)}}}, nil
		},
		OUIPath: "/nonexistent/oui.txt",
	}
}

// TestRunEngine audits one router in process, without a command line:
// the host's default gateway (from a fake /proc/net/route) is a loopback
// fake of a legacy TP-Link, and the DNS audit beside it asks the
// resolver resolv.conf names, an honest fake, against a trusted DoT fake.
// The router is found as the gateway, named, judged, and the report puts
// its headline first; the DNS is clean.
func TestRunEngine(t *testing.T) {
	gw := netip.MustParseAddr("127.0.0.81")
	ports := audittest.FreePorts(t, gw)
	audittest.TPLink(t, gw, ports)

	ca := dnsprobetest.NewCA(t)
	data, err := dnshijack.DefaultCanaries()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range data.Canaries {
		names = append(names, c.Name)
	}
	web := dnsprobetest.NewWebServers(t, ca.Issue(t, names, nil))
	zone := &dnsprobetest.Zone{A: map[string][]netip.Addr{}, Signed: map[string]bool{}}
	for _, n := range names {
		zone.A[dnsprobetest.Fqdn(n)] = []netip.Addr{web.Addrs[0]}
	}
	resolver := dnsprobetest.NewServer(t, zone)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	dot := dnsprobetest.NewDoT(t, ca, "resolver.example.net", zone)
	env := host(gw, resolver.Addr.Addr())
	plan, err := dnsaudit.NewPlan(dnsaudit.Options{
		TrustedDoT: []string{dot.Addr.String() + "#resolver.example.net"}, TrustCA: []string{caFile},
		NoLinkProbes: true, TLSPort: web.Port, ResolverPort: resolver.Addr.Port(), Env: env,
		DNSSECNames: []string{"ietf.org"}, NXParent: "example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		last  routeraudit.Progress
		calls int
	)
	res, err := routeraudit.Run(t.Context(), routeraudit.Options{
		Ports: ports, Index: index(t), DNS: plan, Env: env, Timeout: 20 * time.Second,
		Progress: func(p routeraudit.Progress) { mu.Lock(); last, calls = p, calls+1; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 1 || res.Targets[0] != gw || len(res.Devices) != 1 {
		t.Fatalf("targets %v, devices %d; want the gateway %s", res.Targets, len(res.Devices), gw)
	}
	d := res.Devices[0]
	if !d.Answered || d.Identity.Model.Value != "TL-WR841N" {
		t.Errorf("answered %v, model %q; want TL-WR841N", d.Answered, d.Identity.Model.Value)
	}
	if res.DNS == nil || !res.DNS.Tested() || res.DNS.Overall() != dnshijack.VerdictClean {
		t.Fatalf("DNS %+v, want tested and clean", res.DNS)
	}
	if last.ProbesDone != last.ProbesTotal || last.ProbesTotal != len(audit.Probes(nil)) || last.DNS != "done" || calls < last.ProbesTotal {
		t.Errorf("last progress %+v after %d calls", last, calls)
	}
	names = nil
	for _, p := range res.Phases {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ", "); !strings.Contains(got, "host facts") || !strings.Contains(got, "device probes") || !strings.Contains(got, "judging") {
		t.Errorf("phases %q", got)
	}
	rep := res.Report()
	if !strings.Contains(rep.Verdict.Headline, "TL-WR841N") {
		t.Errorf("headline %q does not name the router", rep.Verdict.Headline)
	}
	var telnet, resolverSubject bool
	for _, f := range rep.Findings {
		telnet = telnet || f.CheckID == "exposure.telnet_open" && f.Status == finding.StatusFail
	}
	for _, s := range rep.Subjects {
		resolverSubject = resolverSubject || s.Kind == "resolver" && s.Verdict == string(dnshijack.VerdictClean)
	}
	if !telnet || !resolverSubject {
		t.Errorf("report: telnet failing %v, clean resolver subject %v", telnet, resolverSubject)
	}
	if !strings.HasPrefix(rep.Notes[0], "scope: ") || !strings.Contains(rep.Notes[0], gw.String()) {
		t.Errorf("first note %q, want the scope with the router", rep.Notes[0])
	}
}

// TestRunRefuses: options that cannot be run are refused before anything
// is sent, and a host without a gateway is told to name the router.
func TestRunRefuses(t *testing.T) {
	ix := index(t)
	lo := netip.MustParseAddr("127.0.0.82")
	for _, tc := range []struct {
		name string
		o    routeraudit.Options
		want error
	}{
		{"no_index", routeraudit.Options{Targets: []netip.Addr{lo}}, routeraudit.ErrInvalid},
		{"wan_without_target", routeraudit.Options{Index: ix, Vantage: exposure.WAN}, routeraudit.ErrInvalid},
		{"wan_confirm", routeraudit.Options{Index: ix, Vantage: exposure.WAN, Targets: []netip.Addr{lo}, Confirm: true}, routeraudit.ErrInvalid},
		{"bad_ports", routeraudit.Options{Index: ix, Targets: []netip.Addr{lo}, Ports: audit.Ports{"snmp": {1, 2}}}, routeraudit.ErrInvalid},
		{"no_gateway", routeraudit.Options{Index: ix, Env: hostnet.Env{GOOS: "linux",
			ReadFile:   func(p string) ([]byte, error) { return nil, fs.ErrNotExist },
			Interfaces: func() ([]hostnet.Interface, error) { return nil, nil }}}, routeraudit.ErrNoGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := routeraudit.Run(t.Context(), tc.o)
			if !errors.Is(err, tc.want) || res != nil {
				t.Errorf("Run = %v, %v; want %v and no result", res, err, tc.want)
			}
		})
	}
}

// TestRunWithSettings: with the owner's login, check also reads the
// router's settings; a DHCP DNS switched to a published attacker address
// puts the settings' finding in the report and its words first in the
// headline, with the step to put it back.
func TestRunWithSettings(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	ports := audittest.FreePorts(t, lo)
	audittest.TPLink(t, lo, ports)
	web := tplinktest.New(t, tplinktest.SyntheticSamples(), tplinktest.Options{Scheme: tplinktest.Cookie, User: "admin", Password: "pw-settings"})
	web.SetState(func(s *tplinktest.State) { s.DHCP.DNS1 = "64.120.31.96" })
	res, err := routeraudit.Run(t.Context(), routeraudit.Options{Targets: []netip.Addr{lo}, Ports: ports, Index: index(t), Timeout: 20 * time.Second,
		Settings: &routeraudit.SettingsOptions{Adapter: "tplink-legacy", Port: web.Addr().Port(),
			Credentials: device.Credentials{User: "admin", Password: config.NewSecret("pw-settings")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Settings) != 1 || len(res.SettingsErrors) != 0 {
		t.Fatalf("settings %d, errors %v", len(res.Settings), res.SettingsErrors)
	}
	rep := res.Report()
	if !strings.HasPrefix(rep.Verdict.Headline, "The router's DNS settings were changed: primary 64.120.31.96 is a published attacker address") {
		t.Errorf("headline %q", rep.Verdict.Headline)
	}
	if len(rep.Steps) == 0 || rep.Steps[0].Title != "Put the router's DNS settings back" {
		t.Errorf("first step %+v", rep.Steps)
	}
	var found bool
	for _, f := range rep.Findings {
		found = found || f.CheckID == "config.dhcp_dns_not_allowed" && f.Status == finding.StatusFail && f.Severity == finding.SeverityCritical
	}
	if !found {
		t.Error("no failing config.dhcp_dns_not_allowed in the report")
	}
}
