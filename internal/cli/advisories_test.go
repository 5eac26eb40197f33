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
	"testing"
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
