// SPDX-License-Identifier: Apache-2.0

// Package browsertest drives a real Chromium (Debian's package) with
// chromedp for the web tests, and only inside a network namespace that is
// not the host's.
//
// A browser makes connections of its own (updates, safe browsing, field
// trials, DNS prefetch). This machine must send nothing beyond loopback, so
// New refuses to start Chromium in the host's network namespace: a test
// either runs in a lab namespace (labtest.RunIn) or calls Isolate, which runs
// the test again in a fresh namespace that has nothing but its own loopback.
// The background-networking switches below are a second fence, not the
// first.
//
// In CI (CI=true) a missing Chromium fails the test instead of skipping it.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvIsolated marks a test process that Isolate started in its own
// network namespace.
const EnvIsolated = "ROUTERWATCH_BROWSERTEST_ISOLATED"

// EnvScreenshots names a directory; when set, Screenshot writes PNG files
// there (the docs' screenshots are made this way), otherwise it writes
// nothing.
const EnvScreenshots = "ROUTERWATCH_SCREENSHOTS"

// childTimeout bounds a re-executed test: Chromium starts in a second or
// two, and a page flow takes seconds.
const childTimeout = 5 * time.Minute

// Chromium finds Debian's chromium, failing the test in CI and skipping it
// elsewhere when it is missing.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("browsertest: chromium is not installed (scripts/install-lab-deps installs Debian's package)")
	}
	t.Skip("browsertest: chromium is not installed (apt-get install chromium)")
	return ""
}

// envParentNS carries the network namespace Isolate started from, so that
// the copy can prove it runs somewhere else.
const envParentNS = "ROUTERWATCH_BROWSERTEST_PARENT_NS"

// envLabHost is labtest.EnvHost: set in a test that labtest.RunIn runs
// inside a lab namespace (lab namespaces have no link to the host's).
const envLabHost = "ROUTERWATCH_LABTEST_HOST"

// Contained says why this process may start a browser: it is a copy that
// Isolate started in a new namespace (and its namespace differs from its
// parent's), or a test that labtest.RunIn started in a lab namespace. Any
// other process gets an error.
func Contained() error {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if parent := os.Getenv(envParentNS); parent != "" {
		if parent == self {
			return fmt.Errorf("the isolated copy shares its parent's network namespace %s", self)
		}
		return nil
	}
	if os.Getenv(envLabHost) != "" {
		return nil
	}
	return errors.New("this test runs in the host's network namespace: use browsertest.Isolate or labtest.RunIn")
}

// Isolate runs the calling test again in a copy of the test binary inside a
// new, empty network namespace (loopback only) and returns false; in that
// copy it brings loopback up and returns true. Use it as
//
//	if !browsertest.Isolate(t) { return }
//
// at the top of a test whose servers are all in-process. Needs root.
func Isolate(t *testing.T) bool {
	t.Helper()
	if os.Getenv(EnvIsolated) == t.Name() {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("browsertest: bring loopback up: %v: %s", err, out)
		}
		return true
	}
	Chromium(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("browsertest: a new network namespace needs root")
		}
		t.Skip("browsertest: a new network namespace needs root")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-test.run=" + runPattern(t.Name()), "-test.v", "-test.count=1",
		"-test.timeout=" + childTimeout.String()}
	cmd := exec.CommandContext(t.Context(), exe, args...)
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), EnvIsolated+"="+t.Name(), envParentNS+"="+self)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("browsertest: %s in its own network namespace:\n%s", t.Name(), indent(out.String()))
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		t.Errorf("browsertest: %s failed in its namespace: %v", t.Name(), err)
	case err != nil:
		t.Fatalf("browsertest: run %s in a new namespace: %v", t.Name(), err)
	case !strings.Contains(out.String(), "--- PASS: "+t.Name()+" ("):
		t.Errorf("browsertest: %s did not pass in its namespace (skipped?)", t.Name())
	}
	return false
}

// Options tune the browser.
type Options struct {
	// TrustSPKI lists base64 SHA-256 hashes of certificates' public keys
	// that Chromium accepts without a CA (the server's self-signed one).
	TrustSPKI []string
	// Width and Height of the window; 1280×900 when zero.
	Width, Height int
}

// New starts Chromium (headless) and returns a chromedp context for one tab;
// everything is stopped when the test ends. It fails the test in the host's
// network namespace.
func New(t testing.TB, o Options) context.Context {
	t.Helper()
	bin := Chromium(t)
	if err := Contained(); err != nil {
		t.Fatalf("browsertest: refusing to start Chromium: %v", err)
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.DisableGPU,
		// Root in CI: Chromium's sandbox refuses to run as root.
		chromedp.NoSandbox,
		// The second fence against traffic of the browser's own (the
		// defaults already disable background networking and sync).
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("dns-prefetch-disable", true),
	)
	if len(o.TrustSPKI) > 0 {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(o.TrustSPKI, ",")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now so that a broken installation fails here, with
	// a clear message, and not inside the first page action. No timeout on
	// this first call: the browser lives as long as its context (the test
	// binary's -test.timeout bounds a hang).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	return ctx
}

// Screenshot saves a full-page PNG named name (letters, digits, '-')
// into $ROUTERWATCH_SCREENSHOTS when it is set.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return
	}
	if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(name) {
		t.Fatalf("browsertest: screenshot name %q: use lower-case letters, digits and '-'", name)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("browsertest: screenshot %s (%d bytes)", path, len(png))
}

func runPattern(test string) string {
	parts := strings.Split(test, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
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
