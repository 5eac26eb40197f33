// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
	"github.com/routerwatch/routerwatch/internal/report"
	"github.com/routerwatch/routerwatch/internal/scan"
)

// runTimeout bounds one routerwatch run in a lab: check's own deadline is
// 30 s by default; anything longer is a hang.
const runTimeout = 90 * time.Second

// run is one routerwatch process inside a lab host.
type run struct {
	stdout, stderr []byte
	code           int
	elapsed        time.Duration
	// maxRSS is the child's peak resident set size in bytes (getrusage:
	// `ip netns exec` execs routerwatch in the same process).
	maxRSS int64
}

// routerwatch runs the binary with args in host's namespace, with a
// private data and config directory (no user advisory store).
func routerwatch(t *testing.T, l *lab.Lab, host lab.Host, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	home := t.TempDir()
	cmd := l.Command(ctx, host, labtest.Executable(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := run{stdout: out.Bytes(), stderr: errb.Bytes(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("routerwatch %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errb.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if bytes.Contains(r.stderr, []byte("panic")) || bytes.Contains(r.stdout, []byte("goroutine ")) {
		t.Errorf("routerwatch %s panicked:\n%s", strings.Join(args, " "), r.stderr)
	}
	t.Logf("routerwatch %s: exit %d in %s, peak RSS %.1f MB", strings.Join(args, " "), r.code, r.elapsed.Round(time.Millisecond), float64(r.maxRSS)/(1<<20))
	return r
}

func parseReport(t *testing.T, r run) *report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal(r.stdout, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return &rep
}

// statusOf returns "status severity" of the finding with id, or "".
func statusOf(rep *report.Report, id string) string {
	for _, f := range rep.Findings {
		if f.ID == id {
			return f.Status.String() + " " + f.Severity.String()
		}
	}
	return ""
}

// trustedDNS points the DNS checks at the lab's trusted resolver (DoT:
// the lab's unbound serves DoH over HTTP/2 only) and its CA.
func trustedDNS(l *lab.Lab) []string {
	return []string{"--trusted-dot", l.Addr("trusted.dot").String() + ":853#" + lab.TrustedResolverName, "--trust-ca", l.CAFile()}
}

// TestCheckTPLinkLegacy runs check in the client namespace of the
// tplink-legacy lab, as a home user would: it finds the router as the
// default gateway, names it TL-WR841N V10 (the revision from the UPnP
// modelNumber, at low confidence), lists the exposed services, gives the
// advisory verdict (end of life, exploited: replace it) and finds DNS clean; with --confirm the
// CVE-2023-50224 request gets the credential file, which is never shown.
func TestCheckTPLinkLegacy(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "tplink-legacy")
	router := l.Addr("router.lan").String()

	text := routerwatch(t, l, lab.Client, append([]string{"check"}, trustedDNS(l)...)...)
	first, _, _ := strings.Cut(string(text.stdout), "\n")
	if !strings.HasPrefix(first, "✗ Your router TP-Link TL-WR841N V10 is end of life and exploited in the wild") {
		t.Errorf("verdict line %q", first)
	}
	if text.code != 1 {
		t.Errorf("exit %d, want 1 (high vulnerability findings), stderr:\n%s", text.code, text.stderr)
	}

	r := routerwatch(t, l, lab.Client, append([]string{"check", "--format", "json"}, trustedDNS(l)...)...)
	rep := parseReport(t, r)
	want := map[string]string{
		"exposure.telnet_open@" + router:                          "fail medium",
		"exposure.snmp_default_community@" + router:               "fail medium",
		"exposure.web_ui@" + router:                               "pass info",
		"exposure.ssh@" + router:                                  "pass info",
		"exposure.upnp@" + router:                                 "pass info",
		"exposure.natpmp@" + router:                               "pass info",
		"exposure.dns_service@" + router:                          "pass info",
		"firmware.identity_unknown@" + router:                     "pass medium",
		"firmware.known_vulnerable@" + router + "/CVE-2023-50224": "fail high",
		"firmware.end_of_life@" + router:                          "fail high",
		"firmware.campaign_target@" + router + "/RW-2026-0009":    "fail medium",
		"dns.resolver_hijacked@" + router:                         "pass critical",
		"dns.trusted_resolver@trusted":                            "pass high",
	}
	for id, w := range want {
		if got := statusOf(rep, id); got != w {
			t.Errorf("%s: %q, want %q", id, got, w)
		}
	}
	var label string
	for _, s := range rep.Subjects {
		if s.Kind == "router" {
			label = s.Label
		}
	}
	if label != "router "+router+" (TP-Link TL-WR841N V10)" {
		t.Errorf("router subject %q", label)
	}

	c := routerwatch(t, l, lab.Client, "check", "--no-dns", "--confirm", "--format", "json", "--log-level", "debug")
	crep := parseReport(t, c)
	if got := statusOf(crep, "firmware.cve_2023_50224_confirmed@"+router); got != "fail critical" {
		t.Errorf("confirmation %q", got)
	}
	if got := statusOf(crep, "firmware.known_vulnerable@"+router+"/CVE-2023-50224"); got != "fail high" {
		t.Errorf("confirmed CVE %q", got)
	}
	if !strings.Contains(crep.Verdict.Headline, "hands out its admin password") || c.code != 1 {
		t.Errorf("headline %q, exit %d", crep.Verdict.Headline, c.code)
	}
	for _, out := range [][]byte{c.stdout, c.stderr} {
		if bytes.Contains(out, []byte("21232f297a57a5a743894a0e4a801fc3")) || bytes.Contains(out, []byte("username:admin")) {
			t.Error("the credential file reached the output")
		}
	}
}

// TestWANVantage runs check --wan-vantage and scan from the ISP
// namespace against the router's WAN address: mikrotik-exposed has its
// web UI, SSH, Winbox and API open to the Internet and its DNS forwarder
// resolves for anyone there; hardened has nothing.
func TestWANVantage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scenario string
		// remote lists the management services expected to fail.
		remote []string
		// openResolver: the router's DNS forwarder answers the WAN.
		openResolver bool
	}{
		{scenario: "mikrotik-exposed", remote: []string{"web", "ssh", "winbox", "api"}, openResolver: true},
		{scenario: "hardened"},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			l := labtest.Up(t, tt.scenario)
			wan := l.Addr("router.wan").String()

			r := routerwatch(t, l, lab.ISP, "check", "--wan-vantage", "--target", wan, "--format", "json")
			rep := parseReport(t, r)
			var failing []string
			for _, f := range rep.Findings {
				if f.Status == finding.StatusFail {
					failing = append(failing, f.ID)
				}
				if f.Status == finding.StatusUnknown && f.Detail == "" {
					t.Errorf("%s is unknown without a reason", f.ID)
				}
			}
			var want []string
			for _, k := range tt.remote {
				want = append(want, "exposure.remote_management@"+wan+"/"+k)
			}
			if tt.openResolver {
				want = append(want, "exposure.open_resolver@"+wan)
			}
			if strings.Join(failing, " ") != strings.Join(want, " ") {
				t.Errorf("failing findings %v, want %v", failing, want)
			}
			wantCode := 0
			if len(tt.remote) > 0 {
				wantCode = 1
				if !strings.Contains(rep.Verdict.Headline, "can be managed from the Internet") {
					t.Errorf("headline %q", rep.Verdict.Headline)
				}
			}
			if r.code != wantCode {
				t.Errorf("check exit %d, want %d; stderr:\n%s", r.code, wantCode, r.stderr)
			}

			// An ISP scanning its own address space sees the same.
			s := routerwatch(t, l, lab.ISP, "scan", "--wan-vantage", "--scope", "198.51.100.0/24", wan)
			recs := records(t, s.stdout)
			if len(recs) != 1 {
				t.Fatalf("%d scan records", len(recs))
			}
			var remote []string
			open := false
			for _, f := range recs[0].Findings {
				if f.CheckID == "exposure.remote_management" && f.Status == finding.StatusFail {
					_, k, _ := strings.Cut(f.ID, "/")
					remote = append(remote, k)
				}
				if f.CheckID == "exposure.open_resolver" {
					open = f.Status == finding.StatusFail
				}
			}
			if open != tt.openResolver {
				t.Errorf("scan: open resolver %v, want %v", open, tt.openResolver)
			}
			if strings.Join(remote, " ") != strings.Join(tt.remote, " ") {
				t.Errorf("scan: remote management %v, want %v", remote, tt.remote)
			}
			if s.code != wantCode {
				t.Errorf("scan exit %d, want %d", s.code, wantCode)
			}
		})
	}
}

func records(t *testing.T, b []byte) []scan.Record {
	t.Helper()
	var out []scan.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r scan.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not a JSON line: %v: %q", err, sc.Bytes())
		}
		out = append(out, r)
	}
	return out
}

// hostileDeadline is the --timeout given to check against the hostile
// device; the run must end within it (plus process start-up).
const hostileDeadline = 30 * time.Second

// maxRSS is the memory ceiling of the issue: a 50 MB UPnP description
// must not be buffered.
const maxRSS = 150 << 20

// TestCheckHostile runs check against the hostile device (garbage, drips,
// 100k headers, redirect loops, invalid UTF-8, a 50 MB and an
// entity-expansion UPnP description): it ends inside its deadline,
// without a panic, under 150 MB, with unknown findings that say why.
func TestCheckHostile(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "hostile")
	router := l.Addr("router.lan").String()
	args := append([]string{"check", "--target", router, "--format", "json", "--timeout", hostileDeadline.String()}, trustedDNS(l)...)
	r := routerwatch(t, l, lab.Client, args...)
	if r.elapsed > hostileDeadline+5*time.Second {
		t.Errorf("took %s, deadline %s", r.elapsed, hostileDeadline)
	}
	if r.maxRSS == 0 || r.maxRSS > maxRSS {
		t.Errorf("peak RSS %d bytes, limit %d", r.maxRSS, maxRSS)
	}
	if r.code == 2 || r.code > 3 {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	rep := parseReport(t, r)
	var unknown []string
	for _, f := range rep.Findings {
		if f.Status == finding.StatusUnknown || f.Status == finding.StatusError {
			if f.Detail == "" {
				t.Errorf("%s is %s without a reason", f.ID, f.Status)
			}
			unknown = append(unknown, f.ID)
		}
	}
	for _, id := range []string{"exposure.snmp_default_community@" + router, "firmware.identity_unknown@" + router} {
		if !contains(unknown, id) {
			t.Errorf("%s is not unknown (garbage SNMP, nothing identifying); unknown: %v", id, unknown)
		}
	}
	t.Logf("hostile: %d unknown/error findings; peak RSS %.1f MB; %s", len(unknown), float64(r.maxRSS)/(1<<20), r.elapsed.Round(time.Millisecond))
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
