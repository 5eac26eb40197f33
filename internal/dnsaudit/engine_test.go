// SPDX-License-Identifier: Apache-2.0

package dnsaudit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/check/dnshijack"
	"github.com/routerwatch/routerwatch/internal/dnsaudit"
	"github.com/routerwatch/routerwatch/internal/hostnet"
	"github.com/routerwatch/routerwatch/internal/probe/dhcpprobe"
	"github.com/routerwatch/routerwatch/internal/probe/dnsprobe/dnsprobetest"
)

// world is a loopback Internet for the engine: trusted DoH and DoT
// resolvers that tell the truth (test CA), HTTPS servers for the canary
// names (a legitimate one, and an AitM one with a self-signed
// certificate), an honest resolver and the campaign's rogue resolver on
// one port (as discovered resolvers all are, on 53 in real life).
type world struct {
	caFile, doh, dot string
	tlsPort          uint16
	aitm             netip.Addr
	rogue, clean     netip.AddrPort
	rogueZ, cleanZ   *dnsprobetest.Zone
}

func newWorld(t *testing.T) *world {
	t.Helper()
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
	w := &world{tlsPort: web.Port, aitm: web.Addrs[1], cleanZ: truth(), rogueZ: truth()}
	w.rogueZ.Hijack = map[string]netip.Addr{}
	for _, c := range data.Canaries {
		if c.Kind == dnshijack.KindCampaignTarget {
			w.rogueZ.Hijack[dnsprobetest.Fqdn(c.Name)] = w.aitm
		}
	}
	w.rogueZ.Chaos = map[string]string{"version.bind.": "dnsmasq-2.85"}
	srvs := dnsprobetest.NewServers(t, w.rogueZ, w.cleanZ)
	w.rogue, w.clean = srvs[0].Addr, srvs[1].Addr
	w.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(w.caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	w.doh = dnsprobetest.NewDoH(t, ca, truth()).URL
	w.dot = dnsprobetest.NewDoT(t, ca, "resolver.example.net", truth()).Addr.String() + "#resolver.example.net"
	return w
}

// host is a fake machine: its resolv.conf names nameservers, its IPv4
// default route goes through 192.0.2.1 on eth0 (a documentation address:
// it is put in scope, never contacted), eth0 has IPv4 and a link-local
// IPv6 address, and there is no IPv6 default route.
func host(nameservers ...netip.AddrPort) hostnet.Env {
	var rc strings.Builder
	for _, n := range nameservers {
		rc.WriteString("nameserver " + n.Addr().String() + "\n")
	}
	files := map[string]string{
		hostnet.ResolvConfPath: rc.String(),
		hostnet.ProcRoutePath: "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
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
			return []hostnet.Interface{
				{Name: "lo", Index: 1, Up: true, Loopback: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
				{Name: "eth0", Index: 2, Up: true, MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x10},
					Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24"), netip.MustParsePrefix("fe80::10/64")}},
			}, nil
		},
		OUIPath: "/nonexistent/oui.txt",
	}
}

// withFiles returns env with more files (the kernel's IPv6 state).
func withFiles(env hostnet.Env, files map[string]string) hostnet.Env {
	read := env.ReadFile
	env.ReadFile = func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return read(path)
	}
	return env
}

// TestEngineIPv6Window: how long the router solicitation listens follows
// what the kernel knows about routers on the link (issue 8 §3: 4 s spent
// on LANs without IPv6 routers). The kernel listening to advertisements
// and having learned none means no router advertises: the short window.
func TestEngineIPv6Window(t *testing.T) {
	w := newWorld(t)
	const (
		raRoute     = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00450003     eth0\n"
		staticRoute = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
		linkLocal   = "fe800000000000000000000000000010 02 40 20 80     eth0\n"
	)
	kernel := func(acceptRA, routes string) map[string]string {
		return map[string]string{
			"/proc/sys/net/ipv6/conf/eth0/accept_ra": acceptRA, "/proc/sys/net/ipv6/conf/eth0/forwarding": "0",
			hostnet.ProcIPv6RoutePath: routes, hostnet.ProcIfInet6Path: linkLocal,
		}
	}
	tests := []struct {
		name  string
		files map[string]string
		want  bool // NoRouterKnown
	}{
		{name: "ipv4_only_lan", files: kernel("1", ""), want: true},
		{name: "router_advertised", files: kernel("1", raRoute), want: false},
		// Static IPv6, the kernel not listening to advertisements:
		// it knows no router, the route says nothing about
		// advertisements.
		{name: "static_ipv6_with_route", files: kernel("0", staticRoute), want: true},
		{name: "kernel_state_unreadable", files: map[string]string{}, want: true},
		{name: "kernel_state_unreadable_ipv6_route", files: map[string]string{hostnet.ProcIPv6RoutePath: staticRoute}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := w.options(withFiles(host(w.clean), tt.files))
			var got atomic.Int32
			o.LinkProbe = func(_ context.Context, p *dhcpprobe.Prober, v6 bool) dhcpprobe.Result {
				if p.NoRouterKnown {
					got.Store(1)
				} else {
					got.Store(2)
				}
				return dhcpprobe.Result{V4: &dhcpprobe.V4Result{Method: "inform"}, RA: &dhcpprobe.RAResult{}, V6: &dhcpprobe.V6Result{}}
			}
			plan, err := dnsaudit.NewPlan(o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plan.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int32{true: 1, false: 2}[tt.want]; got.Load() != want {
				t.Errorf("NoRouterKnown %v, want %v", got.Load() == 1, tt.want)
			}
		})
	}
}

func (w *world) options(env hostnet.Env) dnsaudit.Options {
	return dnsaudit.Options{
		TrustedDoH: []string{w.doh}, TrustedDoT: []string{w.dot}, TrustCA: []string{w.caFile},
		DNSSECNames: []string{"ietf.org"}, NXParent: "example.com",
		TLSPort: w.tlsPort, ResolverPort: w.rogue.Port(), Env: env,
	}
}

func verdicts(t *testing.T, res *dnsaudit.Result) map[string]dnshijack.Verdict {
	t.Helper()
	if !res.Tested() {
		t.Fatalf("nothing tested; findings %+v", res.Findings())
	}
	out := map[string]dnshijack.Verdict{}
	for _, v := range res.Judged().Verdicts {
		out[v.Resolver.Addr.Addr().String()] = v.Verdict
	}
	return out
}

func sources(res *dnsaudit.Result) map[dnshijack.SourceKind]dnshijack.SourceStatus {
	out := map[dnshijack.SourceKind]dnshijack.SourceStatus{}
	for _, s := range res.Discovery() {
		out[s.Kind] = s
	}
	return out
}

// TestEngineAudit runs the DNS audit in process, without cobra, on a
// fake host whose configuration and link name loopback resolvers:
// discovery finds them, the rogue one is judged hijacked, the honest one
// clean, and the report says so.
func TestEngineAudit(t *testing.T) {
	w := newWorld(t)
	rogue, clean := w.rogue.Addr().String(), w.clean.Addr().String()

	t.Run("os_configuration", func(t *testing.T) {
		o := w.options(host(w.rogue, w.clean))
		o.NoLinkProbes = true
		plan, err := dnsaudit.NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		res, err := plan.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := verdicts(t, res); got[rogue] != dnshijack.VerdictHijacked || got[clean] != dnshijack.VerdictClean || len(got) != 2 {
			t.Errorf("verdicts %v, want %s hijacked and %s clean", got, rogue, clean)
		}
		if res.Overall() != dnshijack.VerdictHijacked || !strings.HasPrefix(res.Headline(), "DNS HIJACKED") {
			t.Errorf("overall %s, headline %q", res.Overall(), res.Headline())
		}
		st := sources(res)
		if st[dnshijack.SourceOS].Found != 2 || st[dnshijack.SourceDHCPv4].Skipped != "--no-dhcp" {
			t.Errorf("discovery %+v", res.Discovery())
		}
		// The scope: the gateway, the two resolvers, the two trusted
		// resolvers; never the AitM server (proofs get their own dialer).
		scope := res.Scope()
		for _, a := range []string{"192.0.2.1", rogue, clean} {
			if !scope.Contains(netip.MustParseAddr(a)) {
				t.Errorf("scope %s lacks %s", scope, a)
			}
		}
		if scope.Contains(w.aitm) {
			t.Errorf("scope %s holds the AitM address %s", scope, w.aitm)
		}
		rep := res.Report(started)
		kinds := map[string]string{}
		for _, s := range rep.Subjects {
			kinds[s.ID] = s.Kind + "/" + s.Verdict
		}
		// Resolver IDs carry the port when it is not 53.
		if kinds["192.0.2.1"] != "gateway/" || kinds[w.rogue.String()] != "resolver/hijacked" || kinds[w.clean.String()] != "resolver/clean" {
			t.Errorf("report subjects %v", kinds)
		}
		if rep.Command != "dns" || rep.Verdict.Level != "fail" || len(rep.Steps) == 0 {
			t.Errorf("report: command %q, level %q, %d steps", rep.Command, rep.Verdict.Level, len(rep.Steps))
		}
	})

	t.Run("dhcp_names_the_rogue", func(t *testing.T) {
		// The OS names only the honest resolver (asked early); DHCPv4
		// hands out the rogue one as primary.
		o := w.options(host(w.clean))
		var probed atomic.Int32
		o.LinkProbe = func(_ context.Context, p *dhcpprobe.Prober, v6 bool) dhcpprobe.Result {
			probed.Add(1)
			if p.Interface != "eth0" || p.IPv4 != netip.MustParseAddr("192.0.2.10") || !v6 {
				t.Errorf("prober on %s from %s, v6 %v; want eth0, 192.0.2.10, IPv6 on", p.Interface, p.IPv4, v6)
			}
			// No IPv6 default route (and no kernel state to read):
			// no router is known, so the solicitation listens for
			// the short window only.
			if !p.NoRouterKnown {
				t.Error("NoRouterKnown false without an IPv6 route")
			}
			gw := netip.MustParseAddr("192.0.2.1")
			return dhcpprobe.Result{
				V4: &dhcpprobe.V4Result{Method: "inform", Replies: []dhcpprobe.V4Reply{{From: gw, ServerID: gw, MessageType: "ACK",
					DNS: []netip.Addr{w.rogue.Addr(), w.clean.Addr()}}}},
				RA: &dhcpprobe.RAResult{}, V6: &dhcpprobe.V6Result{},
			}
		}
		plan, err := dnsaudit.NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if probed.Load() != 1 {
			t.Fatalf("link probed %d times", probed.Load())
		}
		if got := verdicts(t, res); got[rogue] != dnshijack.VerdictHijacked || got[clean] != dnshijack.VerdictClean {
			t.Errorf("verdicts %v, want %s hijacked and %s clean", got, rogue, clean)
		}
		for _, r := range res.Resolvers() {
			if r.Addr.Addr().String() == rogue && !slices.ContainsFunc(r.Sources, func(s dnshijack.Source) bool { return s.Kind == dnshijack.SourceDHCPv4 && s.Index == 0 }) {
				t.Errorf("rogue resolver sources %+v, want the primary DHCPv4 DNS", r.Sources)
			}
		}
		if st := sources(res)[dnshijack.SourceDHCPv4]; st.Found != 2 || st.Err != "" {
			t.Errorf("dhcpv4 source %+v", st)
		}
	})

	t.Run("named_resolver", func(t *testing.T) {
		o := w.options(host())
		o.Resolvers = []string{w.clean.String()}
		plan, err := dnsaudit.NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := verdicts(t, res); len(got) != 1 || got[clean] != dnshijack.VerdictClean {
			t.Errorf("verdicts %v, want only %s, clean", got, clean)
		}
	})

	t.Run("nothing_to_test", func(t *testing.T) {
		o := w.options(host())
		o.NoLinkProbes = true
		plan, err := dnsaudit.NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.Tested() || res.Overall() != dnshijack.VerdictUnknown || !strings.HasPrefix(res.Headline(), "COULD NOT CHECK") {
			t.Errorf("tested %v, overall %s, headline %q", res.Tested(), res.Overall(), res.Headline())
		}
		if len(res.Findings()) == 0 {
			t.Error("no discovery finding says why nothing was tested")
		}
	})

	t.Run("unknown_interface", func(t *testing.T) {
		before := w.rogueZ.Queries.Load() + w.cleanZ.Queries.Load()
		o := w.options(host(w.rogue, w.clean))
		o.Interface = "wlan9"
		o.LinkProbe = func(context.Context, *dhcpprobe.Prober, bool) dhcpprobe.Result {
			t.Error("link probed with an unknown interface")
			return dhcpprobe.Result{}
		}
		plan, err := dnsaudit.NewPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = plan.Run(t.Context())
		var ue *dnsaudit.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "wlan9") {
			t.Fatalf("Run = %v, want a usage error naming wlan9", err)
		}
		// Before any traffic.
		time.Sleep(50 * time.Millisecond)
		if after := w.rogueZ.Queries.Load() + w.cleanZ.Queries.Load(); after != before {
			t.Errorf("%d queries sent before the usage error", after-before)
		}
	})
}

// secret is a DoH password that must never be shown.
const secret = "s3cret-Pa55"

// TestEngineTrustedDoHCredentials: a trusted DoH URL with credentials
// (--trusted-doh https://user:pass@…) is used with them, and they appear
// nowhere the audit prints, logs or stores: report (JSON), subjects,
// findings, log lines, usage errors (issue 8 §5.3).
func TestEngineTrustedDoHCredentials(t *testing.T) {
	w := newWorld(t)
	ca := dnsprobetest.NewCA(t)
	doh := dnsprobetest.NewDoHAuth(t, ca, w.cleanZ, "alice", secret)
	caFile := filepath.Join(t.TempDir(), "ca2.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o := w.options(host())
	o.Resolvers = []string{w.clean.String()}
	o.TrustedDoH = []string{strings.Replace(doh.URL, "https://", "https://alice:"+secret+"@", 1)}
	o.TrustedDoT = nil
	o.TrustCA = append(o.TrustCA, caFile)
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	plan, err := dnsaudit.NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tr := res.Judged().Trusted; len(tr) != 1 || tr[0].Answered == 0 || tr[0].Failed != 0 {
		t.Fatalf("trusted resolver %+v: the credentials were not sent", tr)
	}
	out, err := json.Marshal(res.Report(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"report": string(out), "log": logs.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, "alice") {
			t.Errorf("the %s shows the credentials:\n%s", what, s)
		}
	}
	if !strings.Contains(string(out), `"id":"https://***@`) {
		t.Errorf("the report does not mark the trusted resolver's credentials:\n%s", out)
	}

	// Usage errors quote what was typed, credentials replaced.
	for _, bad := range []dnsaudit.Options{
		{TrustedDoH: []string{"http://alice:" + secret + "@192.0.2.53/dns-query"}},
		{TrustedDoH: []string{"https://alice:" + secret + "@dns.example.net/dns-query"}},
		{TrustedDoT: []string{"alice:" + secret + "@192.0.2.53:853"}},
	} {
		_, err := dnsaudit.NewPlan(bad)
		var ue *dnsaudit.UsageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "alice") {
			t.Errorf("NewPlan(%v) = %v, want a usage error without the credentials", bad, err)
		}
	}
}
