// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testApp is an App whose config and data live in a fresh directory.
type testApp struct {
	dir            string
	stdout, stderr bytes.Buffer
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return &testApp{dir: t.TempDir()}
}

// run runs one command line and returns its exit code.
func (ta *testApp) run(args ...string) int {
	ta.stdout.Reset()
	ta.stderr.Reset()
	env := map[string]string{
		"HOME":            filepath.Join(ta.dir, "home"),
		"XDG_DATA_HOME":   filepath.Join(ta.dir, "data"),
		"XDG_CONFIG_HOME": filepath.Join(ta.dir, "config"),
	}
	a := &App{Stdin: strings.NewReader(""), Stdout: &ta.stdout, Stderr: &ta.stderr, Getenv: func(k string) string { return env[k] }}
	return a.Run(context.Background(), args)
}

// miniKEV is a valid one-entry KEV catalog.
const miniKEV = `{"catalogVersion":"2026.01.02","dateReleased":"2026-01-02T00:00:00.000Z","count":1,"vulnerabilities":[{"cveID":"CVE-2023-1389","vendorProject":"TP-Link","product":"Archer AX21","vulnerabilityName":"x","dateAdded":"2023-05-01","dueDate":"2023-05-22"}]}`

// TestUpdateFlagValidation: numeric flags that make no sense are usage
// errors before anything is fetched (issue 8 §5.10).
func TestUpdateFlagValidation(t *testing.T) {
	fetched := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched = true
		w.Write([]byte(miniKEV))
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative timeout", []string{"--timeout", "-1s"}, "--timeout"},
		{"zero timeout", []string{"--timeout", "0s"}, "--timeout"},
		{"negative document limit", []string{"--max-documents", "-5"}, "--max-documents"},
		{"zero document limit", []string{"--max-documents", "0"}, "--max-documents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			args := append([]string{"advisories", "update", "--source", srv.URL + "/kev.json"}, tc.args...)
			if code := ta.run(args...); code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitUsage, ta.stderr.String())
			}
			if !strings.Contains(ta.stderr.String(), tc.want) {
				t.Errorf("stderr does not name %s:\n%s", tc.want, ta.stderr.String())
			}
			if fetched {
				t.Error("the source was fetched despite the usage error")
			}
		})
	}
}

// TestUpdateRedactsCredentials: a source with credentials downloads with
// them, and neither the output nor the store's manifest shows them
// (issue 8 §5.3).
func TestUpdateRedactsCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "mirror-user" || p != "s3cret-pass" || r.URL.Query().Get("api_key") != "k3y-value" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/kev.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(miniKEV))
	}))
	t.Cleanup(srv.Close)
	src := strings.Replace(srv.URL, "http://", "http://mirror-user:s3cret-pass@", 1) + "/kev.json?api_key=k3y-value"
	secrets := []string{"mirror-user", "s3cret-pass", "k3y-value"}
	ta := newTestApp(t)
	check := func(what, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q:\n%s", what, secret, s)
			}
		}
	}
	if code := ta.run("advisories", "update", "--source", src); code != ExitOK {
		t.Fatalf("update exit %d:\n%s", code, ta.stderr.String())
	}
	check("stdout", ta.stdout.String())
	check("stderr", ta.stderr.String())
	if !strings.Contains(ta.stdout.String(), "REDACTED") {
		t.Errorf("stdout does not name the source in its redacted form:\n%s", ta.stdout.String())
	}
	manifest, err := os.ReadFile(filepath.Join(ta.dir, "data", "routerwatch", "advisories", "current", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	check("the manifest", string(manifest))
	// A second update from the same source replaces what the first stored.
	if code := ta.run("advisories", "update", "--source", src); code != ExitOK {
		t.Fatalf("second update exit %d:\n%s", code, ta.stderr.String())
	}
	if !strings.Contains(ta.stdout.String(), "store now holds 1") {
		t.Errorf("the second update did not replace the first:\n%s", ta.stdout.String())
	}
	// Errors name the source redacted too.
	bad := strings.Replace(src, "/kev.json", "/missing.json", 1)
	srvErr := ta.run("advisories", "update", "--source", bad)
	if srvErr != ExitIncomplete {
		t.Errorf("a failing source: exit %d, want %d", srvErr, ExitIncomplete)
	}
	check("the error", ta.stderr.String())
	if code := ta.run("advisories", "update", "--source", strings.Replace(src, "127.0.0.1", "198.51.100.1", 1)); code != ExitUsage {
		t.Errorf("plain http off loopback: exit %d, want %d", code, ExitUsage)
	}
	check("the usage error", ta.stderr.String())
}

// hostileCSAF is a schema-valid CSAF document whose strings carry
// terminal escape sequences.
const hostileCSAF = `{"document":{"category":"csaf_base","csaf_version":"2.0","publisher":{"category":"other","name":"evil\u001b]0;owned\u0007","namespace":"https://example.org"},"title":"Title\u001b[2J\u001b[31mPASS\u009b","tracking":{"id":"EVIL-1\u001b[8m","status":"final","version":"1","initial_release_date":"2026-01-01T00:00:00Z","current_release_date":"2026-01-01T00:00:00Z","revision_history":[{"date":"2026-01-01T00:00:00Z","number":"1","summary":"s"}]}},"vulnerabilities":[{"cve":"CVE-2026-0001","notes":[{"category":"description","text":"Summary\r\u001b[1Afake line\u007f"}]}]}`

// noControls fails if s holds a control character other than newline
// and tab, or a C1 control.
func noControls(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			t.Errorf("%s holds %U:\n%q", what, r, s)
			return
		}
	}
}

// TestTextOutputEscapesControlCharacters: strings from imported documents
// and from arguments reach the terminal escaped (issue 8 §5.6); JSON
// output carries them intact, as encoding/json escapes them.
func TestTextOutputEscapesControlCharacters(t *testing.T) {
	ta := newTestApp(t)
	doc := filepath.Join(ta.dir, "evil.json")
	if err := os.WriteFile(doc, []byte(hostileCSAF), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := ta.run("advisories", "import", doc); code != ExitOK {
		t.Fatalf("import: exit %d\n%s", code, ta.stderr.String())
	}
	noControls(t, "import's report", ta.stdout.String())
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"list", []string{"advisories", "list"}, `Title\x1b[2J\x1b[31mPASS\u009b`},
		{"show", []string{"advisories", "show", "CVE-2026-0001"}, `Summary\r\x1b[1Afake line\x7f`},
		{"show unknown ID from the command line", []string{"advisories", "show", "X\x1b[2J"}, `\x1b[2J`},
		{"lookup with a hostile model", []string{"lookup", "Archer C7\x1b]0;owned\a", "--region", "EU", "--hw", "2"}, `\x1b]0;owned`},
		{"lookup with a hostile firmware", []string{"lookup", "Archer C7", "--region", "EU", "--hw", "2", "--fw", "241108\x1b[2J\r"}, `241108\x1b[2J`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta.run(tc.args...)
			noControls(t, "stdout", ta.stdout.String())
			noControls(t, "stderr", ta.stderr.String())
			if out := ta.stdout.String() + ta.stderr.String(); !strings.Contains(out, tc.want) {
				t.Errorf("output does not show %s escaped:\n%s", tc.want, out)
			}
		})
	}
	if code := ta.run("advisories", "list", "--format", "json"); code != ExitOK || !strings.Contains(ta.stdout.String(), `Title\u001b[2J`) {
		t.Errorf("JSON list: exit %d, want the title JSON-escaped:\n%s", code, ta.stdout.String())
	}
}

// runWithin runs a command line and fails the test if it has not ended
// after d (a FIFO read would block forever); it then opens the FIFO for
// writing so that the blocked run ends.
func (ta *testApp) runWithin(t *testing.T, d time.Duration, fifo string, args ...string) int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- ta.run(args...) }()
	select {
	case code := <-done:
		return code
	case <-time.After(d):
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
		t.Fatalf("routerwatch %s blocked on a FIFO", strings.Join(args, " "))
		return -1
	}
}

// TestFIFOsAreRefused: a FIFO named as a document, found in an imported
// directory or named as the config is refused at once (issue 8 §5.7).
func TestFIFOsAreRefused(t *testing.T) {
	ta := newTestApp(t)
	dir := filepath.Join(ta.dir, "feed")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte(miniKEV), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "b.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"import FIFO", []string{"advisories", "import", fifo}},
		{"import a directory holding a FIFO", []string{"advisories", "import", dir}},
		{"--config FIFO", []string{"--config", fifo, "advisories", "list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := ta.runWithin(t, 5*time.Second, fifo, tc.args...)
			if code != ExitUsage || !strings.Contains(ta.stderr.String(), "not a regular file (a FIFO)") {
				t.Errorf("exit %d, want %d and the FIFO named; stderr:\n%s", code, ExitUsage, ta.stderr.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(ta.dir, "data", "routerwatch", "advisories", "current")); err == nil {
		t.Error("something was imported")
	}
}

// TestConfigAndDataDirValidation: the flag obeys the file's rule, and the
// file's bounds give exit 2 with a clear message (issue 8 §5.5, §5.12).
func TestConfigAndDataDirValidation(t *testing.T) {
	ta := newTestApp(t)
	write := func(name, content string) string {
		p := filepath.Join(ta.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deep := write("deep.yaml", "data_dir: "+strings.Repeat("[", 100000)+"\n")
	twoDocs := write("two.yaml", "format: json\n---\nfail_on: low\n")
	nul := write("nul.yaml", "data_dir: \"/var/lib/rw\\0x\"\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"relative --data-dir", []string{"--data-dir", "relative/x", "advisories", "list"}, `--data-dir: "relative/x" must be an absolute path`},
		{"NUL in --data-dir", []string{"--data-dir", "/tmp/x\x00y", "advisories", "list"}, "control character U+0000"},
		{"NUL in data_dir", []string{"--config", nul, "advisories", "list"}, "data_dir: "},
		{"deeply nested config", []string{"--config", deep, "advisories", "list"}, "nests more than 64 levels"},
		{"second YAML document", []string{"--config", twoDocs, "advisories", "list"}, "second YAML document starts at line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			if code := ta.run(tc.args...); code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitUsage, ta.stderr.String())
			}
			if !strings.Contains(ta.stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, ta.stderr.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestImportDataValidation: an empty KEV catalog and an absurd CVE ID are
// refused, and the stored data is kept (issue 8 §5.11).
func TestImportDataValidation(t *testing.T) {
	ta := newTestApp(t)
	write := func(name, content string) string {
		p := filepath.Join(ta.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if code := ta.run("advisories", "import", write("kev.json", miniKEV)); code != ExitOK {
		t.Fatalf("import: exit %d\n%s", code, ta.stderr.String())
	}
	manifest := filepath.Join(ta.dir, "data", "routerwatch", "advisories", "current", "manifest.json")
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	longID := `{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2024-` + strings.Repeat("7", 100000) + `","state":"PUBLISHED"},"containers":{"cna":{"providerMetadata":{"orgId":"x"}}}}`
	for _, tc := range []struct{ name, file, content, want string }{
		{"empty KEV catalog", "empty-kev.json", `{"catalogVersion":"2026.02.01","count":0,"vulnerabilities":[]}`, "lists no vulnerabilities"},
		{"100,000-digit CVE ID", "long.json", longID, "is not a CVE ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := ta.run("advisories", "import", write(tc.file, tc.content)); code == ExitOK {
				t.Fatal("accepted")
			}
			if !strings.Contains(ta.stderr.String(), tc.want) || len(ta.stderr.String()) > 4000 {
				t.Errorf("stderr lacks %q or is huge (%d bytes):\n%.2000s", tc.want, ta.stderr.Len(), ta.stderr.String())
			}
			after, err := os.ReadFile(manifest)
			if err != nil || !bytes.Equal(before, after) {
				t.Errorf("the store changed (%v)", err)
			}
		})
	}
	if code := ta.run("version"); code != ExitOK || !strings.Contains(ta.stdout.String(), "CISA KEV catalog 2026.01.02 (1 entries)") {
		t.Errorf("the stored catalog is not the one in use:\n%s", ta.stdout.String())
	}
}
