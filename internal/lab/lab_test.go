// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
)

// Lab integration tests need root; labtest skips them otherwise (and fails
// them with CI=true).

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestScenarioExpectations brings every embedded scenario up (in parallel:
// this also shows that labs do not collide) and checks its expect block:
// the DNS servers a DHCP client receives and the RDNSS of the router's
// advertisements; per resolver, which canary names differ from the trusted
// resolver and whether the answered addresses serve valid certificates,
// RRSIGs, NXDOMAIN rewriting, version.bind and DoT; the router's open and
// closed ports from the client and from the ISP; web UI answers; what the
// router's services announce; the fakes' documented behaviours. Then it
// takes the lab down and checks that nothing is left. The canary comparison
// also runs inside the client's namespace, as a laptop's program would,
// through labtest.RunIn.
func TestScenarioExpectations(t *testing.T) {
	if c := labtest.InChild(t); c != nil {
		for _, n := range lab.ScenarioNames() {
			t.Run(n, func(t *testing.T) {
				t.Run("answers", func(t *testing.T) { checkAnswersInClient(t, c) })
			})
		}
		return
	}
	t.Parallel()
	runConcurrently(t, lab.ScenarioNames(), func(t *testing.T, name string) {
		l := labtest.Up(t, name)
		sc := l.Scenario()
		if st := l.Status(); !st.Healthy() {
			t.Fatalf("status after Up is not healthy: %+v", st)
		}
		if sc.HasService("dhcp") {
			t.Run("dhcp", func(t *testing.T) { checkDHCP(t, l) })
		}
		if sc.IPv6 {
			t.Run("ra", func(t *testing.T) { checkRA(t, l) })
		}
		for _, r := range sc.Expect.Resolvers {
			t.Run("resolver_"+r.Server, func(t *testing.T) {
				if r.Hostile {
					checkHostileDNS(t, l)
				} else {
					checkResolver(t, l, r)
				}
			})
		}
		if sc.Expect.Exposure != nil {
			t.Run("exposure", func(t *testing.T) { checkExposure(t, l) })
		}
		if len(sc.Expect.HTTP) > 0 {
			t.Run("http", func(t *testing.T) { checkHTTP(t, l) })
		}
		t.Run("identity", func(t *testing.T) { checkIdentity(t, l) })
		if sc.HasService("hostile-device") {
			t.Run("hostile_device", func(t *testing.T) { checkHostileDevice(t, l) })
		}
		if dns := sc.DHCPDNS(); len(dns) > 0 && sc.HasService("trusted-resolver") && !isHostile(sc, dns[0]) {
			t.Run("answers", func(t *testing.T) { labtest.RunIn(t, l, lab.Client, t.Name()) })
		}
		t.Run("down", func(t *testing.T) {
			pids := l.PIDs()
			if err := l.Down(context.WithoutCancel(t.Context())); err != nil {
				t.Fatal(err)
			}
			labtest.AssertGone(t, l, pids)
		})
	})
}

// runConcurrently runs fn as the subtest name for every name, all at once.
// t.Parallel would do the same but only -test.parallel (GOMAXPROCS: 2 on
// CI) at a time, and lab checks mostly wait on daemons and timeouts, not
// on the CPU. testing allows t.Run from several goroutines.
func runConcurrently(t *testing.T, names []string, fn func(t *testing.T, name string)) {
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() { t.Run(name, func(t *testing.T) { fn(t, name) }) })
	}
	wg.Wait()
}

// checkDHCP runs a DHCP client on the client and checks the lease: the DNS
// servers of expect.dhcp_dns, in order, and an address via the router.
func checkDHCP(t *testing.T, l *lab.Lab) {
	lease, err := l.DHCP(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l.Scenario().ExpectedDHCPDNS(), lease.DNS, addrCmp); diff != "" {
		t.Errorf("DHCP DNS servers (-expect +lease):\n%s", diff)
	}
	if !lab.LANPrefix.Contains(lease.Addr.Addr()) || lease.Router != l.Addr("router.lan") {
		t.Errorf("lease %v via %v, want an address in %v via %v", lease.Addr, lease.Router, lab.LANPrefix, l.Addr("router.lan"))
	}
	if b, err := os.ReadFile(l.DHCPLeaseFile()); err != nil || !bytes.Contains(b, []byte(" "+lease.Addr.Addr().String()+" ")) {
		t.Errorf("lease table %q (%v) lacks %v", b, err, lease.Addr.Addr())
	}
	if d := l.Scenario().Forwarder.LocalDomain; d != "" && lease.Domain != d {
		t.Errorf("lease domain %q, want %q", lease.Domain, d)
	}
}

// checkRA solicits a router advertisement on the client and checks its
// RDNSS against expect.ra_rdnss, and the LAN prefix.
func checkRA(t *testing.T, l *lab.Lab) {
	sc := l.Scenario()
	ra, err := l.RouterAdvertisement(t.Context())
	if !sc.HasService("ra") {
		if err == nil {
			t.Errorf("router advertisement %+v, want none (no ra service)", ra)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var want []netip.Addr
	for _, a := range sc.Expect.RARDNSS {
		want = append(want, netip.MustParseAddr(a))
	}
	if diff := cmp.Diff(want, ra.RDNSS, addrCmp); diff != "" {
		t.Errorf("RA RDNSS (-expect +got):\n%s", diff)
	}
	if ra.Source != netip.MustParseAddr("fe80::1") || ra.RouterLifetime == 0 {
		t.Errorf("RA from %v, router lifetime %v; want fe80::1 as a default router", ra.Source, ra.RouterLifetime)
	}
	if len(ra.Prefixes) != 1 || ra.Prefixes[0].Prefix != lab.LAN6Prefix || !ra.Prefixes[0].Autonomous {
		t.Errorf("RA prefixes %+v, want %v with the A flag", ra.Prefixes, lab.LAN6Prefix)
	}
}

// isHostile reports whether a is the hostile resolver of the scenario.
func isHostile(sc *lab.Scenario, a netip.Addr) bool {
	r, ok := sc.ResolverExpectation(a)
	return ok && r.Hostile
}

// checkAnswersInClient runs inside the client's namespace: plain sockets,
// the default route via the router, /etc/resolv.conf private to the lab.
// The DHCP primary must answer every canary name as the trusted resolver
// does, except its expected hijacked and variant names.
func checkAnswersInClient(t *testing.T, c *labtest.Child) {
	sc := c.Lab.Scenario()
	if c.Lab.ScenarioName() != strings.Split(t.Name(), "/")[1] {
		t.Skipf("child of lab %s", c.Lab.ScenarioName())
	}
	// ip netns exec bind-mounted the lab's resolv.conf over the host's.
	rc, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rc), "routerwatch lab "+c.Lab.Name()) {
		t.Errorf("/etc/resolv.conf in the client is not the lab's:\n%s", rc)
	}
	primary := sc.DHCPDNS()[0]
	exp, _ := sc.ResolverExpectation(primary)
	trusted := c.Lab.Addr("trusted.resolver")
	for _, r := range lab.Records() {
		got := lookup(t, primary, r.Name)
		want := lookup(t, trusted, r.Name)
		if !slices.Equal(want, []netip.Addr{r.Addr}) {
			t.Errorf("trusted resolver: %s = %v, want %v", r.Name, want, r.Addr)
		}
		hijacked := slices.Contains(sc.Expect.Hijacked, r.Name)
		if hijacked != slices.Contains(exp.Hijacked, r.Name) {
			t.Errorf("%s: expect.hijacked and the primary's resolvers[].hijacked disagree", r.Name)
		}
		differs := hijacked || slices.Contains(exp.Variant, r.Name)
		if got := !slices.Equal(got, want); got != differs {
			t.Errorf("%s: primary %v answers %v, trusted %v; difference expected: %v", r.Name, primary, got, want, differs)
		}
		if to, ok := sc.HijackTarget(r.Name); hijacked && ok && !slices.Equal(got, []netip.Addr{to}) {
			t.Errorf("%s: hijacked to %v, want %v", r.Name, got, to)
		}
	}
}

// lookup asks server for name's A records with miekg/dns over the default
// network stack (of whichever namespace the process is in).
func lookup(t *testing.T, server netip.Addr, name string) []netip.Addr {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	cl := &dns.Client{Timeout: 3 * time.Second}
	r, _, err := cl.ExchangeContext(t.Context(), m, netip.AddrPortFrom(server, 53).String())
	if err != nil {
		t.Fatalf("query %s @%s: %v", name, server, err)
	}
	var out []netip.Addr
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ad, _ := netip.AddrFromSlice(a.A)
			out = append(out, ad.Unmap())
		}
	}
	return out
}

// TestAPT28 checks the pieces of the apt28 lab that detectors rely on.
func TestAPT28(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "apt28")
	ctx := t.Context()

	t.Run("dot_trusted_resolver", func(t *testing.T) {
		for _, r := range lab.Records() {
			got, err := l.LookupDoT(ctx, lab.Client, r.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []netip.Addr{r.Addr}) {
				t.Errorf("DoT %s = %v, want %v", r.Name, got, r.Addr)
			}
		}
	})

	t.Run("doh_trusted_resolver", func(t *testing.T) {
		cfg, err := l.TLSConfig(lab.TrustedResolverName)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: l.Dialer(lab.Client), TLSClientConfig: cfg, ForceAttemptHTTP2: true,
		}}
		m := new(dns.Msg)
		m.SetQuestion("outlook.office365.com.", dns.TypeA)
		m.Id = 0 // RFC 8484 section 4.1
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		url := fmt.Sprintf("https://%s%s?dns=%s", l.Addr("trusted.doh"), lab.DoHPath, base64.RawURLEncoding.EncodeToString(wire))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", "application/dns-message")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/dns-message" {
			t.Fatalf("DoH: %s %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		var r dns.Msg
		if err := r.Unpack(body); err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "203.0.113.10" {
			t.Errorf("DoH answer %v, want outlook.office365.com A 203.0.113.10", r.Answer)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("DoH over %s, want HTTP/2", resp.Proto)
		}
	})

	t.Run("https_certificates", func(t *testing.T) {
		cfg, err := l.TLSConfig("outlook.office365.com")
		if err != nil {
			t.Fatal(err)
		}
		dial := func(addr netip.Addr) error {
			conn, err := l.DialContext(ctx, lab.Client, "tcp", netip.AddrPortFrom(addr, 443).String())
			if err != nil {
				return err
			}
			tc := tls.Client(conn, cfg)
			defer tc.Close()
			return tc.HandshakeContext(ctx)
		}
		if err := dial(l.Addr("legit.https")); err != nil {
			t.Errorf("legit server: %v", err)
		}
		var ua x509.UnknownAuthorityError
		if err := dial(l.Addr("aitm.https")); !errors.As(err, &ua) {
			t.Errorf("AitM server: handshake error %v, want an unknown-authority error", err)
		}
	})

	t.Run("dnssec", func(t *testing.T) {
		ask := func(server, name string) *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.SetEdns0(1232, true)
			r, err := l.Exchange(ctx, lab.Client, "udp", netip.AddrPortFrom(l.Addr(server), 53), m)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := ask("isp.resolver", "www.corp.test."); !r.AuthenticatedData || !hasType(r, dns.TypeRRSIG) {
			t.Errorf("isp.resolver www.corp.test: AD=%v, RRSIG=%v; want a validated, signed answer", r.AuthenticatedData, hasType(r, dns.TypeRRSIG))
		}
		if r := ask("attacker.resolver", "www.corp.test."); !hasType(r, dns.TypeRRSIG) {
			t.Error("attacker.resolver www.corp.test: no RRSIG, want the forwarded signed answer")
		}
		if r := ask("attacker.resolver", "login.corp.test."); hasType(r, dns.TypeRRSIG) || r.AuthenticatedData {
			t.Error("attacker.resolver login.corp.test: signed or AD answer, want the rewritten, unsigned one")
		}
		if r := ask("isp.resolver", "nx.corp.test."); r.Rcode != dns.RcodeNameError || !r.AuthenticatedData {
			t.Errorf("isp.resolver nx.corp.test: %s AD=%v, want a validated NXDOMAIN", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
		}
	})

	t.Run("chaos_version_bind", func(t *testing.T) {
		for server, prefix := range map[string]string{"attacker.resolver": "dnsmasq-", "isp.resolver": "unbound "} {
			m := new(dns.Msg)
			m.SetQuestion("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			r, err := l.Exchange(ctx, lab.Client, "udp", netip.AddrPortFrom(l.Addr(server), 53), m)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Answer) != 1 || !strings.HasPrefix(strings.Join(r.Answer[0].(*dns.TXT).Txt, ""), prefix) {
				t.Errorf("%s version.bind = %v, want %q...", server, r.Answer, prefix)
			}
		}
	})
}

func hasType(r *dns.Msg, t uint16) bool {
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

// TestDownRemovesEverything checks that Down leaves no namespace, process,
// /etc/netns directory or state behind, and that it is idempotent, also
// through a second Lab value loaded from the state file (as `lab down` in
// another process would).
func TestDownRemovesEverything(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "clean")
	stateDir := t.TempDir()
	l, err := lab.Up(t.Context(), lab.Options{Scenario: "clean", StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	// A process started with Command, not recorded: Down must find it in
	// the namespace.
	stray := l.Command(context.Background(), lab.ISP, "sleep", "60")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	strayDone := make(chan error, 1)
	go func() { strayDone <- stray.Wait() }()
	pids := append(l.PIDs(), stray.Process.Pid)
	if len(pids) < 5 {
		t.Fatalf("only %d processes recorded", len(pids))
	}
	loaded, err := lab.Load(stateDir, l.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Down(t.Context()); err != nil {
		t.Fatalf("Down: %v", err)
	}
	select {
	case <-strayDone:
	case <-time.After(5 * time.Second):
		t.Error("the stray process in the ISP namespace was not killed")
	}
	if err := l.Down(t.Context()); err != nil { // reaps l's children
		t.Fatalf("second Down: %v", err)
	}
	labtest.AssertGone(t, l, pids)
	if _, err := lab.Load(stateDir, l.Name()); !errors.Is(err, lab.ErrNoLab) {
		t.Errorf("Load after Down = %v, want ErrNoLab", err)
	}
}

// TestCrashCleanup kills (SIGKILL) a process while or after it runs Up and
// checks that Cleanup removes what it left: daemons, namespaces, files.
func TestCrashCleanup(t *testing.T) {
	if os.Getenv("LABTEST_CRASH_CHILD") != "" {
		crashChild(t)
		return
	}
	for _, when := range []string{"during_up", "after_up"} {
		t.Run(when, func(t *testing.T) {
			t.Parallel()
			labtest.RequireRoot(t, "apt28")
			stateDir := t.TempDir()
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestCrashCleanup$", "-test.v")
			cmd.Env = append(os.Environ(), "LABTEST_CRASH_CHILD="+stateDir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var name string
			deadline := time.After(30 * time.Second)
		wait:
			for name == "" {
				select {
				case line, ok := <-lines:
					if !ok {
						break wait
					}
					if n, ok := strings.CutPrefix(line, "LAB UP "); ok && when == "after_up" {
						name = n
					}
				case <-time.After(2 * time.Millisecond):
					// Kill once some daemons run and others are starting.
					if when == "during_up" {
						name = labWithProcesses(stateDir, 3)
					}
				case <-deadline:
					break wait
				}
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			go func() {
				for range lines { // drain
				}
			}()
			_ = cmd.Wait()
			if name == "" {
				t.Fatal("the child never started a lab")
			}
			l, err := lab.Load(stateDir, name)
			if err != nil {
				t.Fatal(err)
			}
			pids := l.PIDs()
			t.Logf("crashed %s: lab %s, %d processes, status %s", when, name, len(pids), l.Status().Phase)
			removed, err := lab.Cleanup(t.Context(), stateDir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(removed, []string{name}) {
				t.Errorf("Cleanup removed %v, want [%s]", removed, name)
			}
			labtest.AssertGone(t, l, pids)
		})
	}
}

// labWithProcesses returns the lab in stateDir that has recorded at least n
// started processes, "" if none has yet.
func labWithProcesses(stateDir string, n int) string {
	labs, _ := lab.List(stateDir)
	for _, l := range labs {
		if len(l.PIDs()) >= n {
			return l.Name()
		}
	}
	return ""
}

// crashChild runs Up and then waits to be killed.
func crashChild(t *testing.T) {
	stateDir := os.Getenv("LABTEST_CRASH_CHILD")
	fmt.Println("CHILD STARTED")
	l, err := lab.Up(context.Background(), lab.Options{Scenario: "apt28", StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("LAB UP " + l.Name())
	time.Sleep(time.Minute) // killed by the parent long before
	t.Fatal("not killed")
}

// TestCleanupKeepsLiveLabs checks that Cleanup leaves labs whose owner runs
// and labs made to be kept.
func TestCleanupKeepsLiveLabs(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "clean")
	stateDir := t.TempDir()
	l, err := lab.Up(t.Context(), lab.Options{Scenario: "clean", StateDir: stateDir, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Down(context.Background()) })
	removed, err := lab.Cleanup(t.Context(), stateDir)
	if err != nil || len(removed) != 0 {
		t.Fatalf("Cleanup = %v, %v; want nothing removed", removed, err)
	}
	if !l.Status().Healthy() {
		t.Error("lab not healthy after Cleanup")
	}
}

func TestUpErrors(t *testing.T) {
	if _, err := lab.Up(t.Context(), lab.Options{Scenario: "nope"}); !errors.Is(err, lab.ErrUnknownScenario) {
		t.Errorf("Up(nope) = %v, want ErrUnknownScenario", err)
	}
	if os.Geteuid() != 0 {
		if _, err := lab.Up(t.Context(), lab.Options{Scenario: "clean"}); !errors.Is(err, lab.ErrNotRoot) {
			t.Errorf("Up as non-root = %v, want ErrNotRoot", err)
		}
		return
	}
	labtest.RequireRoot(t, "clean")
	stateDir := t.TempDir()
	if _, err := lab.Up(t.Context(), lab.Options{Scenario: "clean", Name: "Bad_Name", StateDir: stateDir}); !errors.Is(err, lab.ErrBadName) {
		t.Errorf("Up(Bad_Name) = %v, want ErrBadName", err)
	}
	if err := os.Mkdir(filepath.Join(stateDir, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Up(t.Context(), lab.Options{Scenario: "clean", Name: "taken", StateDir: stateDir}); !errors.Is(err, lab.ErrExists) {
		t.Errorf("Up(taken) = %v, want ErrExists", err)
	}
}

// TestParallelLabsIsolated runs two apt28 labs at once and checks that they
// have their own namespaces and do not see each other's traffic: a DNS
// query in one is logged by that lab's attacker only. (Concurrent Up calls
// run in TestScenarioExpectations and the other parallel tests.)
func TestParallelLabsIsolated(t *testing.T) {
	t.Parallel()
	a := labtest.Up(t, "apt28")
	b := labtest.Up(t, "apt28")
	if a.Namespace(lab.Client) == b.Namespace(lab.Client) {
		t.Fatalf("both labs use namespace %s", a.Namespace(lab.Client))
	}
	if _, err := a.LookupA(t.Context(), lab.Client, a.Addr("attacker.resolver"), "www.example.org"); err != nil {
		t.Fatal(err)
	}
	logOf := func(l *lab.Lab) string {
		b, _ := os.ReadFile(filepath.Join(l.Dir(), "attacker-resolver.log"))
		return string(b)
	}
	if !strings.Contains(logOf(a), "query[A] www.example.org") {
		t.Error("lab A's attacker did not log the query")
	}
	if strings.Contains(logOf(b), "query[A] www.example.org") {
		t.Error("lab B's attacker saw lab A's query")
	}
}

// TestIsolation checks the safety rules on a running lab, with IPv6 too: no
// default route in the ISP (the dead end), no lab address on the host, and
// the client's routes lead only to the router.
func TestIsolation(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "ipv6-rdnss")
	for _, family := range []string{"-4", "-6"} {
		out, err := l.Command(t.Context(), lab.ISP, "ip", family, "route", "show", "default").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("ISP default route (%s): %q, %v; want none", family, out, err)
		}
	}
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	prefixes := []netip.Prefix{lab.LANPrefix, lab.WANPrefix, lab.InternetPrefix, lab.LAN6Prefix, lab.WAN6Prefix, lab.Internet6Prefix}
	for _, a := range ifs {
		p, err := netip.ParsePrefix(a.String())
		if err == nil && slices.ContainsFunc(prefixes, func(lp netip.Prefix) bool { return lp.Contains(p.Addr()) }) {
			t.Errorf("host interface has lab address %v", p)
		}
	}
	for family, via := range map[string]netip.Addr{"-4": l.Addr("router.lan"), "-6": l.Addr("router.lan6")} {
		out, err := l.Command(t.Context(), lab.Client, "ip", family, "route", "show", "default").CombinedOutput()
		if err != nil || strings.Count(string(out), "default") != 1 || !strings.Contains(string(out), "via "+via.String()) {
			t.Errorf("client default route (%s) %q, %v; want one, via the router", family, out, err)
		}
	}
}

// BenchmarkUpDownAPT28 measures bringing the apt28 lab up and down (target:
// at most 2 s per iteration).
func BenchmarkUpDownAPT28(b *testing.B) {
	labtest.RequireRoot(b, "apt28")
	stateDir := b.TempDir()
	var up, down time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		l, err := lab.Up(b.Context(), lab.Options{Scenario: "apt28", StateDir: stateDir})
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := l.Down(b.Context()); err != nil {
			b.Fatal(err)
		}
		up, down, n = up+mid.Sub(start), down+time.Since(mid), n+1
	}
	b.ReportMetric(up.Seconds()/float64(n), "up-s/op")
	b.ReportMetric(down.Seconds()/float64(n), "down-s/op")
}
