// SPDX-License-Identifier: Apache-2.0

//go:build linux

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
)

// labRun runs routerwatch with args and returns the exit code and output.
func labRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return labRunEnv(t, nil, args...)
}

// labRunEnv is labRun with extra environment variables.
func labRunEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		if k == "XDG_CONFIG_HOME" || k == "HOME" {
			return t.TempDir() // no user configuration
		}
		return env[k]
	}}
	code = a.Run(t.Context(), args)
	return code, out.String(), errOut.String()
}

func TestLabUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{name: "up_without_scenario", args: []string{"lab", "up"}, wantStderr: "lab up: --scenario is required (one of all-rogue, apt28, benign-forwarder, cdn-variance, clean, "},
		{name: "up_unknown_scenario", args: []string{"lab", "up", "--scenario", "nope"}, wantStderr: `unknown scenario "nope"`},
		{name: "up_bad_name", args: []string{"lab", "up", "--scenario", "clean", "--name", "Bad_Name"}, wantStderr: `bad lab name "Bad_Name"`},
		{name: "up_extra_arg", args: []string{"lab", "up", "apt28"}, wantStderr: "unknown command"},
		{name: "demo_without_scenario", args: []string{"lab", "demo"}, wantStderr: "lab demo: --scenario is required"},
		{name: "demo_unknown_scenario", args: []string{"lab", "demo", "--scenario", "apt29"}, wantStderr: `unknown scenario "apt29"`},
		{name: "exec_without_lab", args: []string{"lab", "exec", "--", "true"}, wantStderr: "--scenario or --name is required"},
		{name: "exec_bad_host", args: []string{"lab", "exec", "--scenario", "apt28", "--host", "cloud", "--", "true"}, wantStderr: `--host "cloud" is not one of client, router, isp`},
		{name: "exec_without_dash", args: []string{"lab", "exec", "--scenario", "apt28", "true"}, wantStderr: "put the command after --"},
		{name: "exec_without_command", args: []string{"lab", "exec", "--scenario", "apt28"}, wantStderr: "requires at least 1 arg"},
		{name: "exec_unknown_scenario", args: []string{"lab", "exec", "--scenario", "nope", "--", "true"}, wantStderr: `unknown scenario "nope"`},
		{name: "down_name_and_all", args: []string{"lab", "down", "--name", "x", "--all"}, wantStderr: "--name and --all are exclusive"},
		{name: "status_bad_name", args: []string{"lab", "status", "--name", "../etc"}, wantStderr: `bad lab name "../etc"`},
		{name: "unknown_subcommand", args: []string{"lab", "bogus"}, wantStderr: `unknown command "bogus"`},
		{name: "unknown_flag", args: []string{"lab", "up", "--scenari", "apt28"}, wantStderr: "unknown flag: --scenari"},
		{name: "fake_without_flags", args: []string{"lab", "fake"}, wantStderr: "lab fake: --kind and --config are required"},
		{name: "fake_bad_config", args: []string{"lab", "fake", "--kind", "hostile-dns", "--config", "/nonexistent/fake.json"}, wantStderr: "bad fake configuration"},
		{name: "attack_unknown", args: []string{"lab", "attack", "dns-swapper"}, wantStderr: `lab attack: unknown attack "dns-swapper" (one of dns-changer)`},
		{name: "attack_without_name", args: []string{"lab", "attack"}, wantStderr: "accepts 1 arg(s), received 0"},
		{name: "attack_bad_resolver", args: []string{"lab", "attack", "dns-changer", "--resolver", "nowhere"}, wantStderr: `--resolver: "nowhere" is neither an IPv4 address nor an IPv4 role`},
		{name: "attack_v6_resolver", args: []string{"lab", "attack", "dns-changer", "--resolver", "2001:db8::66"}, wantStderr: "2001:db8::66 is not an IPv4 address"},
		{name: "attack_bad_lab_name", args: []string{"lab", "attack", "dns-changer", "--name", "../x"}, wantStderr: `bad lab name "../x"`},
		{name: "router_dns_set_and_reset", args: []string{"lab", "router-dns", "--set", "isp.resolver", "--reset"}, wantStderr: "--set and --reset are exclusive"},
		{name: "router_dns_bad_set", args: []string{"lab", "router-dns", "--set", "isp.resolverx"}, wantStderr: `--set: "isp.resolverx" is neither`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := labRun(t, append(tt.args, "--state-dir", t.TempDir())...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d (usage); stderr:\n%s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

func TestLabScenarios(t *testing.T) {
	code, stdout, stderr := labRun(t, "lab", "scenarios")
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"apt28\n    APT28-style DNS hijack", "clean\n", "isp:    resolver, authoritative",
		"attacker.resolver   203.0.113.66", "trusted.dot         203.0.113.53", "attacker.resolver6  2001:db8:203::66"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestLabHelp(t *testing.T) {
	for _, sub := range []string{"up", "down", "status", "demo", "exec", "scenarios", "attack", "router-dns"} {
		t.Run(sub, func(t *testing.T) {
			code, stdout, _ := labRun(t, "lab", sub, "--help")
			if code != ExitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "routerwatch lab "+sub) {
				t.Errorf("lab %s --help: exit %d, output:\n%s", sub, code, stdout)
			}
		})
	}
}

func TestLabNotRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root")
	}
	code, _, stderr := labRun(t, "lab", "up", "--scenario", "clean", "--state-dir", t.TempDir())
	if code != ExitIncomplete || !strings.Contains(stderr, "needs root") {
		t.Errorf("exit %d, stderr %q; want %d and a root message", code, stderr, ExitIncomplete)
	}
}

// TestLabLifecycle runs up, status, exec and down as a user would.
func TestLabLifecycle(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "apt28")
	dir := t.TempDir()
	// Unique: namespaces are global, and a crashed run's would collide.
	name := fmt.Sprintf("cli%06x", rand.Uint32()&0xffffff)
	t.Cleanup(func() {
		if l, err := lab.Load(dir, name); err == nil {
			_ = l.Down(context.Background())
		}
	})
	code, stdout, stderr := labRun(t, "lab", "up", "--scenario", "apt28", "--name", name, "--state-dir", dir)
	if code != ExitOK {
		t.Fatalf("up: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"rw-" + name + "-cli", "rw-" + name + "-rtr", "rw-" + name + "-isp", "attacker-resolver", "Lab " + name + " is up"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("up output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, _ := labRun(t, "lab", "up", "--scenario", "apt28", "--name", name, "--state-dir", dir); code != ExitIncomplete {
		t.Errorf("second up with the same name: exit %d, want %d", code, ExitIncomplete)
	}
	code, stdout, _ = labRun(t, "lab", "status", "--state-dir", dir)
	if code != ExitOK || !strings.Contains(stdout, "lab "+name+": scenario apt28, up (healthy, kept)") {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = labRun(t, "lab", "exec", "--name", name, "--state-dir", dir, "--", "cat", "/etc/resolv.conf")
	if code != ExitOK || !strings.Contains(stdout, "nameserver 203.0.113.66") {
		t.Errorf("exec cat /etc/resolv.conf: exit %d\n%s%s", code, stdout, stderr)
	}
	// --scenario finds the running lab instead of starting another.
	code, stdout, stderr = labRun(t, "lab", "exec", "--scenario", "apt28", "--state-dir", dir, "--host", "isp", "--", "ip", "-4", "addr", "show", "dev", "lo")
	if code != ExitOK || !strings.Contains(stdout, "203.0.113.66/32") || strings.Contains(stderr, "started lab") {
		t.Errorf("exec on isp: exit %d\n%s%s", code, stdout, stderr)
	}
	// The command's exit status comes back as an exitStatusError.
	a := &App{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	root := a.newRootCmd()
	root.SetArgs([]string{"lab", "exec", "--name", name, "--state-dir", dir, "--", "sh", "-c", "exit 7"})
	err := root.ExecuteContext(t.Context())
	var es *exitStatusError
	if !errors.As(err, &es) || es.ExitCode() != 7 {
		t.Errorf("exec 'exit 7' = %v, want exit status 7", err)
	}
	code, stdout, stderr = labRun(t, "lab", "down", "--state-dir", dir)
	if code != ExitOK || !strings.Contains(stdout, "lab "+name+" (apt28) removed") {
		t.Errorf("down: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = labRun(t, "lab", "status", "--state-dir", dir)
	if code != ExitOK || !strings.Contains(stdout, "no lab is running") {
		t.Errorf("status after down: exit %d\n%s", code, stdout)
	}
}

// TestLabAttack runs the DNS-changer attack on a dns-changer lab from the
// command line, then puts the router's DNS back as its owner.
func TestLabAttack(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "dns-changer")
	dir := t.TempDir()
	name := fmt.Sprintf("cli%06x", rand.Uint32()&0xffffff)
	t.Cleanup(func() {
		if l, err := lab.Load(dir, name); err == nil {
			_ = l.Down(context.Background())
		}
	})
	env := map[string]string{lab.ExecutableEnv: labtest.Executable(t)}
	if code, _, stderr := labRunEnv(t, env, "lab", "up", "--scenario", "dns-changer", "--name", name, "--state-dir", dir); code != ExitOK {
		t.Fatalf("up: exit %d\n%s", code, stderr)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{name: "router_dns_clean", args: []string{"router-dns"}, want: "hands out itself (10.77.0.1) by DHCP"},
		{name: "attack", args: []string{"attack", "dns-changer"},
			want: "now hands out 203.0.113.66 (attacker.resolver) by DHCP (it handed out itself (10.77.0.1))"},
		{name: "router_dns_attacked", args: []string{"router-dns"}, want: "hands out 203.0.113.66 (attacker.resolver) by DHCP"},
		// The attack turned remote management off: it cannot run again.
		{name: "attack_again", args: []string{"attack", "dns-changer"}, wantCode: ExitIncomplete, want: "connection refused"},
		{name: "router_dns_set_two", args: []string{"router-dns", "--set", "isp.resolver", "--set", "203.0.113.53"},
			want: "hands out 198.51.100.53 (isp.resolver), 203.0.113.53 (trusted.resolver) by DHCP"},
		{name: "router_dns_reset", args: []string{"router-dns", "--reset"}, want: "hands out itself (10.77.0.1) by DHCP"},
	}
	for _, st := range steps {
		code, stdout, stderr := labRunEnv(t, env, append(append([]string{"lab"}, st.args...), "--name", name, "--state-dir", dir)...)
		if code != st.wantCode || !strings.Contains(stdout+stderr, st.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s%s", st.name, code, st.wantCode, st.want, stdout, stderr)
		}
	}
	// A lab without a live router UI: a usage error.
	other := fmt.Sprintf("cli%06x", rand.Uint32()&0xffffff)
	t.Cleanup(func() {
		if l, err := lab.Load(dir, other); err == nil {
			_ = l.Down(context.Background())
		}
	})
	if code, _, stderr := labRun(t, "lab", "up", "--scenario", "clean", "--name", other, "--state-dir", dir); code != ExitOK {
		t.Fatalf("up clean: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := labRun(t, "lab", "attack", "dns-changer", "--name", other, "--state-dir", dir); code != ExitUsage || !strings.Contains(stderr, "runs no live router UI") {
		t.Errorf("attack on clean: exit %d, want %d: %s", code, ExitUsage, stderr)
	}
}

// TestLabExecStartsScenario checks that exec brings a scenario up when none
// runs and removes it with --down.
func TestLabExecStartsScenario(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "clean")
	dir := t.TempDir()
	code, stdout, stderr := labRun(t, "lab", "exec", "--scenario", "clean", "--state-dir", dir, "--down", "--", "ip", "route", "show", "default")
	if code != ExitOK || !strings.Contains(stdout, "default via 10.77.0.1") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	if labs, _ := lab.List(dir); len(labs) != 0 {
		t.Errorf("%d lab(s) left after exec --down", len(labs))
	}
}

// TestLabDemo runs the demo of apt28: the lease, then the verdicts of
// the real DNS audit (routerwatch dns in the client's namespace, the
// binary labtest builds): the attacker's resolver hijacked, the ISP's
// clean.
func TestLabDemo(t *testing.T) {
	t.Parallel()
	labtest.RequireRoot(t, "apt28")
	dir := t.TempDir()
	env := map[string]string{lab.ExecutableEnv: labtest.Executable(t)}
	code, stdout, stderr := labRunEnv(t, env, "lab", "demo", "--scenario", "apt28", "--state-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Scenario apt28: APT28-style DNS hijack",
		"Daemons:",
		"dns      203.0.113.66    primary   attacker.resolver",
		"dns      198.51.100.53   secondary isp.resolver",
		"The DNS audit on the client ('routerwatch dns'",
		"removed in",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// The audit's own verdicts, one line per resolver.
	for _, re := range []string{
		`(?m)^  203\.0\.113\.66 +hijacked +high +attacker\.resolver +primary `,
		`(?m)^  198\.51\.100\.53 +clean +high +isp\.resolver +`,
		`(?m)^  203\.0\.113\.66: it sends .*outlook\.office365\.com`,
		`(?m)^DNS HIJACKED: `,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("demo output does not match %s:\n%s", re, stdout)
		}
	}
	// No second judge: the demo's own comparison table is gone.
	if strings.Contains(stdout, "HIJACKED (") {
		t.Errorf("demo output still has its own comparison table:\n%s", stdout)
	}
	if labs, _ := lab.List(dir); len(labs) != 0 {
		t.Errorf("%d lab(s) left after demo", len(labs))
	}
}

// TestLabFake runs the hidden `lab fake` command in process, as the lab
// starts it in a namespace: the hostile resolver on loopback answers a
// query as configured and the command ends with exit 0 when its context
// ends (SIGTERM, in the real binary).
func TestLabFake(t *testing.T) {
	free := func() string {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	listen, spoof := free(), free()
	cfg := fmt.Sprintf(`{"listen":%q,"spoof_from":%q,"answer":"203.0.113.99","default":"servfail","names":{}}`, listen, spoof)
	file := filepath.Join(t.TempDir(), "hostile-dns.json")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	code := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		a := &App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
		code <- a.Run(ctx, []string{"lab", "fake", "--kind", "hostile-dns", "--config", file})
	}()
	m := new(dns.Msg)
	m.SetQuestion("outlook.office365.com.", dns.TypeA)
	var r *dns.Msg
	var err error
	// Until the fake listens: a refused query returns at once, so the
	// wait is by the clock, not by a count of tries (on a loaded machine
	// the command takes a while to start).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r, _, err = (&dns.Client{Timeout: 100 * time.Millisecond}).ExchangeContext(t.Context(), m, listen); err == nil {
			break
		}
	}
	if err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Errorf("query: %v, %v; want SERVFAIL (the default)", r, err)
	}
	cancel()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit %d, want 0; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lab fake did not stop when its context ended")
	}
}
