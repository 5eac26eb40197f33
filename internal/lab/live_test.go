// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/fake"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
)

// TestDNSChanger performs the published DNS-changer attack on the
// dns-changer lab and follows it to the client: the router's own page,
// the client's next DHCP lease and the DNS audit run on the client all
// show the attacker's resolver; the attack's last request shut remote
// management, so a second attack fails; the owner's fix through the same
// UI makes the next lease and the audit clean again.
func TestDNSChanger(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "dns-changer")
	ctx := t.Context()
	self, attacker := l.Addr("router.dns"), l.Addr("attacker.resolver")

	requireLease(t, l, self)
	requireRouterDNS(t, l, nil)

	if err := l.DNSChanger(ctx, attacker); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, attacker)
	requireRouterDNS(t, l, []netip.Addr{attacker})
	if b, err := os.ReadFile(filepath.Join(l.Dir(), "dhcp-opts")); err != nil || !strings.Contains(string(b), "\noption:dns-server,"+attacker.String()+"\n") {
		t.Errorf("dnsmasq's options file: %q (%v), want dns-server %v", b, err, attacker)
	}

	t.Run("remote_management_shut", func(t *testing.T) {
		mgmt := ownerPage(t, l, "ManageControlRpm.htm", "managementPara")
		if len(mgmt) < 2 || mgmt[0] != "31" || mgmt[1] != "0.0.0.0" {
			t.Errorf("managementPara = %v, want port 31, ip 0.0.0.0 (the attack's ManageControlRpm.htm?port=31&ip=)", mgmt)
		}
		if open, err := portOpen(ctx, l, lab.ISP, l.Addr("router.wan"), "tcp/80"); err != nil || open {
			t.Errorf("router.wan tcp/80 open=%v (%v), want closed", open, err)
		}
		if err := l.DNSChanger(ctx, attacker); err == nil {
			t.Error("a second DNSChanger succeeded with remote management off")
		}
	})

	if v := dnsAuditVerdicts(t, l); v[attacker.String()] != lab.VerdictHijacked {
		t.Errorf("routerwatch dns on the client after the attack: verdicts %v, want %v hijacked", v, attacker)
	}

	if err := l.SetDHCPDNS(ctx); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, self)
	requireRouterDNS(t, l, nil)
	v := dnsAuditVerdicts(t, l)
	if _, ok := v[attacker.String()]; ok || v[self.String()] != lab.VerdictClean {
		t.Errorf("routerwatch dns on the client after the fix: verdicts %v, want only %v clean", v, self)
	}
}

// TestRouterOSLive sets the routeros-live router's DHCP DNS through its
// API and checks the client's next lease, both ways.
func TestRouterOSLive(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "routeros-live")
	ctx := t.Context()
	self := l.Addr("router.dns")
	requireLease(t, l, self)
	requireRouterDNS(t, l, nil)

	set := []netip.Addr{l.Addr("attacker.resolver"), l.Addr("isp.resolver")}
	if err := l.SetDHCPDNS(ctx, set...); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, set...)
	requireRouterDNS(t, l, set)

	if err := l.SetDHCPDNS(ctx); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, self)
	requireRouterDNS(t, l, nil)
}

// TestTPLinkCookieLive drives the cookie-login TP-Link (tplink-cookie)
// as the owner: each change logs in and out again (the one administrator
// slot), and reaches the next lease; the attack cannot come in with
// remote management off.
func TestTPLinkCookieLive(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "tplink-cookie")
	ctx := t.Context()
	isp := l.Addr("isp.resolver")
	requireRouterDNS(t, l, nil)
	if err := l.SetDHCPDNS(ctx, isp); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, isp)
	requireRouterDNS(t, l, []netip.Addr{isp})
	if err := l.DNSChanger(ctx, l.Addr("router.dns")); err == nil {
		t.Error("DNSChanger got in with remote management off")
	}
	if err := l.SetDHCPDNS(ctx); err != nil {
		t.Fatal(err)
	}
	requireLease(t, l, l.Addr("router.dns"))
}

// TestLiveUICredentials: the live fakes get the router's credentials from
// a file only root reads, never on a command line.
func TestLiveUICredentials(t *testing.T) {
	t.Parallel()
	for _, sc := range []string{"dns-changer", "routeros-live", "tplink-cookie"} {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			l := labtest.Up(t, sc)
			for _, f := range []string{"tplink-ui.json", "routeros-api-live.json"} {
				fi, err := os.Stat(filepath.Join(l.Dir(), f))
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v (%v), want 0600", f, fi.Mode().Perm(), err)
				}
			}
			for _, pid := range l.PIDs() {
				b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
				if err != nil {
					continue
				}
				if _, pass := l.RouterLogin(); bytes.Contains(b, []byte(pass)) {
					t.Errorf("pid %d's command line %q holds the router's password", pid, b)
				}
			}
		})
	}
}

// requireLease runs a DHCP client on the client and checks option 6.
func requireLease(t *testing.T, l *lab.Lab, want ...netip.Addr) {
	t.Helper()
	lease, err := l.DHCP(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, lease.DNS, addrCmp); diff != "" {
		t.Fatalf("DHCP DNS servers of the next lease (-want +got):\n%s", diff)
	}
}

// requireRouterDNS checks what the router's UI shows the owner.
func requireRouterDNS(t *testing.T, l *lab.Lab, want []netip.Addr) {
	t.Helper()
	got, err := l.RouterDHCPDNS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, addrCmp, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("router's DHCP DNS as its UI shows it (-want +got):\n%s", diff)
	}
}

// ownerPage reads a page of the dns-changer router's UI from the client
// (Basic auth, with the Referer it needs) and returns one of its arrays.
func ownerPage(t *testing.T, l *lab.Lab, page, array string) []string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: l.Dialer(lab.Client)}}
	url := "http://" + l.Addr("router.lan").String() + "/userRpm/" + page
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	user, pass := l.RouterLogin()
	req.SetBasicAuth(user, pass)
	req.Header.Set("Referer", url)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	v, err := fake.ParseArray(body, array)
	if err != nil {
		t.Fatalf("%s: %s: %v", page, resp.Status, err)
	}
	return v
}

// dnsAuditVerdicts runs 'routerwatch dns' on the client, as lab demo does
// (against the lab's trusted resolver), and returns each resolver's
// verdict.
func dnsAuditVerdicts(t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	exe := labtest.Executable(t)
	trusted := l.Addr("trusted.resolver")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := l.Command(ctx, lab.Client, exe, "dns", "--format", "json",
		"--trusted-doh", "https://"+trusted.String()+lab.DoHPath+"#"+lab.TrustedResolverName,
		"--trusted-dot", netip.AddrPortFrom(trusted, 853).String()+"#"+lab.TrustedResolverName,
		"--trust-ca", l.CAFile(),
		"--canary", "login.example.org", "--canary", "login.corp.test",
		"--dnssec-name", "www.corp.test", "--nxdomain-parent", "example.invalid")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || !slices.Contains([]int{1, 3}, ee.ExitCode())) {
		t.Fatalf("routerwatch dns: %v: %s", err, stderr.String())
	}
	var rep struct {
		Subjects []struct {
			ID      string `json:"id"`
			Kind    string `json:"kind"`
			Verdict string `json:"verdict"`
		} `json:"subjects"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("routerwatch dns report: %v: %s", err, stderr.String())
	}
	out := map[string]string{}
	for _, s := range rep.Subjects {
		if s.Kind == "resolver" {
			out[s.ID] = s.Verdict
		}
	}
	return out
}
