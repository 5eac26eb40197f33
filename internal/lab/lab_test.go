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
// the DNS servers a DHCP client receives, and which canary names the DHCP
// primary resolver answers differently from the trusted resolver. The
// resolver comparison runs inside the client's namespace, as a laptop's
// program would, through labtest.RunIn.
func TestScenarioExpectations(t *testing.T) {
	if c := labtest.InChild(t); c != nil {
		for _, n := range lab.ScenarioNames() {
			t.Run(n, func(t *testing.T) {
				t.Run("answers", func(t *testing.T) { checkAnswersInClient(t, c) })
			})
		}
		return
	}
	for _, name := range lab.ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := labtest.Up(t, name)
			sc := l.Scenario()
			if st := l.Status(); !st.Healthy() {
				t.Fatalf("status after Up is not healthy: %+v", st)
			}
			if !sc.HasService("dhcp") {
				return
			}
			lease, err := l.DHCP(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sc.ExpectedDHCPDNS(), lease.DNS, addrCmp); diff != "" {
				t.Errorf("DHCP DNS servers (-expect +lease):\n%s", diff)
			}
			if !lab.LANPrefix.Contains(lease.Addr.Addr()) || lease.Router != l.Addr("router.lan") {
				t.Errorf("lease %v via %v, want an address in %v via %v", lease.Addr, lease.Router, lab.LANPrefix, l.Addr("router.lan"))
			}
			if len(lease.DNS) == 0 || !sc.HasService("trusted-resolver") {
				return
			}
			t.Run("answers", func(t *testing.T) { labtest.RunIn(t, l, lab.Client, t.Name()) })
		})
	}
}

// checkAnswersInClient runs inside the client's namespace: plain sockets,
// the default route via the router, /etc/resolv.conf private to the lab.
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
	trusted := c.Lab.Addr("trusted.resolver")
	for _, r := range lab.Records() {
		got := lookup(t, primary, r.Name)
		want := lookup(t, trusted, r.Name)
		if !slices.Equal(want, []netip.Addr{r.Addr}) {
			t.Errorf("trusted resolver: %s = %v, want %v", r.Name, want, r.Addr)
		}
		hijacked := slices.Contains(sc.Expect.Hijacked, r.Name)
		if differs := !slices.Equal(got, want); differs != hijacked {
			t.Errorf("%s: primary %v answers %v, trusted %v; hijack expected: %v", r.Name, primary, got, want, hijacked)
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

	t.Run("router_services", func(t *testing.T) {
		id := l.Scenario().Identity
		router := l.Addr("router.lan")
		banner := func(port uint16, n int) []byte {
			conn, err := l.DialContext(ctx, lab.Client, "tcp", netip.AddrPortFrom(router, port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
			b := make([]byte, n)
			k, _ := io.ReadAtLeast(conn, b, n)
			return b[:k]
		}
		if b := banner(22, 24); !bytes.HasPrefix(b, []byte("SSH-2.0-dropbear")) {
			t.Errorf("SSH banner %q", b)
		}
		if b := banner(23, 3); !bytes.Equal(b, []byte{0xff, 0xfd, 0x01}) { // IAC DO ECHO
			t.Errorf("telnet starts with %x, want IAC DO ECHO", b)
		}
		client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: l.Dialer(lab.Client)}}
		resp, err := client.Get("http://" + router.String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Server") != id.WebServer ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="`+id.WebRealm+`"`) {
			t.Errorf("web UI: %s, Server %q, WWW-Authenticate %q", resp.Status, resp.Header.Get("Server"), resp.Header.Get("WWW-Authenticate"))
		}
		resp, err = client.Get("http://" + router.String() + ":5000/rootDesc.xml")
		if err != nil {
			t.Fatal(err)
		}
		desc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"<friendlyName>" + id.UPnPFriendlyName + "</friendlyName>", "<manufacturer>" + id.UPnPManufacturer + "</manufacturer>", "MiniUPnPd/"} {
			if !strings.Contains(string(desc)+resp.Header.Get("Server"), want) {
				t.Errorf("UPnP description lacks %q", want)
			}
		}
		if got := snmpGetSysDescr(t, l, router); got != id.SNMPSysDescr {
			t.Errorf("SNMP sysDescr = %q, want %q", got, id.SNMPSysDescr)
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

// snmpGetSysDescr sends a hand-built SNMPv2c GET of sysDescr.0 (community
// public) and returns the string in the reply.
func snmpGetSysDescr(t *testing.T, l *lab.Lab, router netip.Addr) string {
	t.Helper()
	oid := []byte{0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00} // 1.3.6.1.2.1.1.1.0
	varbind := append(append([]byte{0x30, byte(len(oid) + 2)}, oid...), 0x05, 0x00)
	vbl := append([]byte{0x30, byte(len(varbind))}, varbind...)
	pdu := append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}, vbl...) // id 1, no error
	pdu = append([]byte{0xa0, byte(len(pdu))}, pdu...)
	msg := append([]byte{0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}, pdu...) // v2c, "public"
	msg = append([]byte{0x30, byte(len(msg))}, msg...)
	conn, err := l.DialContext(t.Context(), lab.Client, "udp", netip.AddrPortFrom(router, 161).String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1500)
	n, err := conn.Read(b)
	if err != nil {
		t.Fatalf("SNMP: %v", err)
	}
	// The value is the last TLV: OCTET STRING (0x04) with a short length.
	b = b[:n]
	i := bytes.Index(b, oid)
	if i < 0 || i+len(oid)+2 > n || b[i+len(oid)] != 0x04 {
		t.Fatalf("SNMP reply without sysDescr: %x", b)
	}
	ln := int(b[i+len(oid)+1])
	return string(b[i+len(oid)+2 : min(n, i+len(oid)+2+ln)])
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

// TestIsolation checks the safety rules on a running lab: no default route
// in the ISP (the dead end), no lab address on the host, and the client's
// route leads only to the router.
func TestIsolation(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "clean")
	out, err := l.Command(t.Context(), lab.ISP, "ip", "route", "show", "default").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("ISP default route: %q, %v; want none", out, err)
	}
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ifs {
		p, err := netip.ParsePrefix(a.String())
		if err == nil && (lab.LANPrefix.Contains(p.Addr()) || lab.WANPrefix.Contains(p.Addr()) || lab.InternetPrefix.Contains(p.Addr())) {
			t.Errorf("host interface has lab address %v", p)
		}
	}
	out, err = l.Command(t.Context(), lab.Client, "ip", "route", "show", "default").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "via "+l.Addr("router.lan").String()) {
		t.Errorf("client default route %q, %v; want via the router", out, err)
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
