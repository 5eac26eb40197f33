// SPDX-License-Identifier: Apache-2.0

// Package labtest brings lab networks (package lab) up for tests and runs
// parts of a test inside a lab host. Import it only from _test.go files.
//
// # Root and CI
//
// Labs need root. Without root (or without the lab's programs) a test
// calling Up or RequireRoot is skipped, except when the environment has
// CI=true: there lab tests must run, so the test fails instead.
//
// # Running test code inside a lab host
//
// Go code can reach lab addresses from the test process through
// Lab.DialContext, Lab.Dialer and Lab.Exchange, which open sockets inside a
// host's namespace. Code that must really run on a lab host, for example
// code that reads the host's routes or uses the default dialer, runs in a
// re-executed copy of the test binary: RunIn starts
//
//	ip netns exec <namespace> /path/to/pkg.test -test.run=^TestName$ -test.v ...
//
// with environment variables that tell the child which lab and host it is
// on. The same test function runs in both processes; InChild tells the
// halves apart:
//
//	func TestResolvers(t *testing.T) {
//		if c := labtest.InChild(t); c != nil {
//			// In the client's namespace: plain net.Dial reaches the lab.
//			checkAnswers(t, c.Lab)
//			return
//		}
//		l := labtest.Up(t, "apt28")
//		labtest.RunIn(t, l, lab.Client, t.Name())
//	}
//
// RunIn fails the parent test if the child fails or does not run the test
// (a wrong name), and logs the child's output.
//
// # Fakes
//
// Scenarios with fakes (hostile-dns, hostile) start them from the
// routerwatch binary (`routerwatch lab fake`), which a test binary is not.
// UpOptions then uses Executable: $ROUTERWATCH_BIN if set, else a binary
// built once per test process with `go build` from this module.
package labtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/lab"
)

// Environment variables of a RunIn child.
const (
	// EnvHost names the host the child runs on; its presence marks a child.
	EnvHost = "ROUTERWATCH_LABTEST_HOST"
	// EnvLab names the lab.
	EnvLab = "ROUTERWATCH_LABTEST_LAB"
	// EnvStateDir is the lab's state directory.
	EnvStateDir = "ROUTERWATCH_LABTEST_STATE_DIR"
)

// childTimeout bounds a RunIn child (its -test.timeout).
const childTimeout = 2 * time.Minute

// RequireRoot skips t unless the process is root and the lab's programs for
// scenario are installed ("" checks root only). With CI=true it fails t
// instead of skipping: CI runs lab tests as root.
func RequireRoot(t testing.TB, scenario string) {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("lab tests need root (network namespaces); CI runs them as root")
		return
	}
	if scenario == "" {
		return
	}
	sc, err := lab.LoadScenario(scenario)
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.CheckDeps(sc); err != nil {
		skip("%v", err)
	}
}

var cleanupOnce sync.Once

// upSlots bounds the Ups running at once in a test process. Bringing a lab
// up is mostly the kernel creating namespaces and veths (under its global
// network lock) and daemons initialising (CPU): a dozen at once on two
// cores made each take 8-10 s instead of 0.3-0.5 s, and the whole no
// faster than two at a time. Tests still run their labs concurrently once
// they are up.
var upSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Up brings scenario up in DefaultStateDir for t and removes it when t and
// its subtests end. The first call in a process first removes the leftovers
// of crashed test runs (lab.Cleanup: only labs whose owner process is gone).
func Up(t testing.TB, scenario string) *lab.Lab {
	t.Helper()
	return UpOptions(t, lab.Options{Scenario: scenario})
}

// UpOptions is Up with every lab.Options field; Logger defaults to the
// test's output at debug level under -test.v.
func UpOptions(t testing.TB, opts lab.Options) *lab.Lab {
	t.Helper()
	RequireRoot(t, opts.Scenario)
	cleanupOnce.Do(func() {
		if removed, err := lab.Cleanup(context.Background(), opts.StateDir); err != nil {
			t.Logf("labtest: cleaning up crashed labs: %v", err)
		} else if len(removed) > 0 {
			t.Logf("labtest: removed crashed labs %v", removed)
		}
	})
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if sc, err := lab.LoadScenario(opts.Scenario); err == nil && sc.NeedsExecutable() && opts.Executable == "" {
		opts.Executable = Executable(t)
	}
	// Bounded: see upSlots.
	select {
	case upSlots <- struct{}{}:
	case <-t.Context().Done():
		t.Fatalf("labtest: up %s: %v", opts.Scenario, t.Context().Err())
	}
	l, err := lab.Up(t.Context(), opts)
	<-upSlots
	if err != nil {
		t.Fatalf("labtest: up %s: %v", opts.Scenario, err)
	}
	t.Cleanup(func() {
		if err := l.Down(context.Background()); err != nil {
			t.Errorf("labtest: down %s: %v", l.Name(), err)
		}
	})
	return l
}

// buildTimeout bounds building routerwatch: seconds with a warm build
// cache, a few minutes on a cold one.
const buildTimeout = 5 * time.Minute

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Executable returns a routerwatch binary for the lab's fakes:
// $ROUTERWATCH_BIN if set, else one built once per process from this
// module (`go build ./cmd/routerwatch`) into the user cache directory
// (routerwatch-labtest/routerwatch, replaced atomically, so test processes
// running at once do not disturb each other). It fails t if the build
// fails.
func Executable(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(lab.ExecutableEnv); p != "" {
		return p
	}
	buildOnce.Do(func() { buildPath, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("labtest: building routerwatch for the fakes: %v (or set %s)", buildErr, lab.ExecutableEnv)
	}
	return buildPath
}

func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "routerwatch-labtest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "routerwatch-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // gone after the rename
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp.Name(), "./cmd/routerwatch")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w: %s", err, bytes.TrimSpace(out))
	}
	// One binary per module checkout: test processes of other checkouts
	// (worktrees of the same repository, built from other code) run at
	// the same time and must not replace it under this one.
	sum := sha256.Sum256([]byte(root))
	final := filepath.Join(dir, "routerwatch-"+hex.EncodeToString(sum[:6]))
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, nil
}

// moduleRoot is the directory of the go.mod above the working directory
// (a test runs in its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func testLogger(t testing.TB) *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = t.Output()
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Child is the in-namespace half of a RunIn.
type Child struct {
	Lab  *lab.Lab
	Host lab.Host
}

// InChild returns the lab and host when this process is a RunIn child, nil
// otherwise.
func InChild(t testing.TB) *Child {
	t.Helper()
	h := os.Getenv(EnvHost)
	if h == "" {
		return nil
	}
	l, err := lab.Load(os.Getenv(EnvStateDir), os.Getenv(EnvLab))
	if err != nil {
		t.Fatalf("labtest: child: %v", err)
	}
	return &Child{Lab: l, Host: lab.Host(h)}
}

// RunIn runs test (a full test name as t.Name() returns it, "TestX" or
// "TestX/sub") in a copy of the test binary inside host's namespace, with
// extra environment env (KEY=value), and fails t if the child fails or does
// not pass that test.
func RunIn(t testing.TB, l *lab.Lab, host lab.Host, test string, env ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	args := []string{"netns", "exec", l.Namespace(host), exe,
		"-test.run=" + RunPattern(test), "-test.v", "-test.count=1",
		"-test.timeout=" + childTimeout.String()}
	cmd := exec.CommandContext(t.Context(), "ip", args...)
	cmd.Env = append(os.Environ(),
		EnvHost+"="+string(host), EnvLab+"="+l.Name(), EnvStateDir+"="+filepath.Dir(l.Dir()))
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("labtest: %s in %s (%s):\n%s", test, host, l.Namespace(host), indent(out.String()))
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		t.Errorf("labtest: %s in %s failed: %v", test, host, err)
	case err != nil:
		t.Fatalf("labtest: run %s in %s: %v", test, host, err)
	case !strings.Contains(out.String(), "--- PASS: "+test+" ("):
		t.Errorf("labtest: %s in %s: the child did not pass the test (wrong name, or skipped?)", test, host)
	}
}

// RunPattern turns a test name into an anchored -test.run pattern:
// "TestX/sub 1" → "^TestX$/^sub_1$" (t.Name() already has underscores).
func RunPattern(test string) string {
	parts := strings.Split(test, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(strings.ReplaceAll(p, " ", "_")) + "$"
	}
	return strings.Join(parts, "/")
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// AssertGone fails t if any of pids still runs (zombies count as gone: their
// parent may be an init that does not reap), if any of the lab's namespaces
// or /etc/netns directories still exists, or if its directory remains.
func AssertGone(t testing.TB, l *lab.Lab, pids []int) {
	t.Helper()
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			continue
		}
		t.Errorf("process %d still runs: %s", pid, b)
	}
	for _, h := range lab.Hosts() {
		ns := l.Namespace(h)
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			t.Errorf("namespace %s still exists", ns)
		}
		if _, err := os.Stat(filepath.Join("/etc/netns", ns)); err == nil {
			t.Errorf("/etc/netns/%s still exists", ns)
		}
	}
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil && bytes.Contains(out, []byte("rw-"+l.Name()+"-")) {
		t.Errorf("ip netns list still shows lab %s:\n%s", l.Name(), out)
	}
	if _, err := os.Stat(l.Dir()); err == nil {
		t.Errorf("lab directory %s still exists", l.Dir())
	}
}
