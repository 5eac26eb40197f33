// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a stderr the test reads while serve writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	servingLine = regexp.MustCompile(`serving https://([0-9.:]+)/`)
	fingerprint = regexp.MustCompile(`TLS certificate SHA-256 ([0-9A-F:]+)`)
)

// startServe runs `routerwatch serve` in the background on a free
// loopback port and returns its address, the fingerprint it printed, its
// stderr and a stop function returning the exit code.
func startServe(t *testing.T, env map[string]string, args ...string) (addr, fp string, errs *lockedBuffer, stop func() int) {
	t.Helper()
	errs = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	app := &App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: errs, Getenv: func(k string) string { return env[k] }}
	done := make(chan int, 1)
	go func() { done <- app.Run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(errs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d before serving:\n%s", code, errs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", errs)
		}
	}
	if m := fingerprint.FindStringSubmatch(errs.String()); m != nil {
		fp = m[1]
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop within 30 s:\n%s", errs)
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, fp, errs, stop
}

// pinnedClient trusts only the certificate with the printed
// fingerprint, as a user who compared it would.
func pinnedClient(fp string) *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // the fingerprint is checked below instead
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				sum := sha256.Sum256(raw[0])
				var parts []string
				for _, b := range sum {
					parts = append(parts, fmt.Sprintf("%02X", b))
				}
				if strings.Join(parts, ":") != fp {
					return errors.New("certificate fingerprint differs from the printed one")
				}
				return nil
			},
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// TestServe starts the real command on loopback: the first admin made by
// adduser logs in, the API refuses a request without credentials,
// /metrics answers loopback, SIGTERM (the context) stops it with exit 0,
// and a second start serves the same self-signed certificate.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_DATA_HOME": filepath.Join(dir, "data"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"HOME": dir, envNewPassword: "a long enough password"}
	app := &App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
	if code := app.Run(context.Background(), []string{"serve", "adduser", "--org", "acme", "--user", "alice", "--role", "admin"}); code != 0 {
		t.Fatalf("adduser: exit %d", code)
	}
	addr, fp, errs, stop := startServe(t, env, "--workers", "1")
	if fp == "" {
		t.Fatalf("no fingerprint printed:\n%s", errs)
	}
	c := pinnedClient(fp)
	base := "https://" + addr
	get := func(path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := get("/api/v1/openapi.json", nil); resp.StatusCode != 200 {
		t.Errorf("openapi.json: %d", resp.StatusCode)
	}
	if resp, body := get("/api/v1/sites", nil); resp.StatusCode != 401 || !strings.Contains(body, `"unauthorized"`) {
		t.Errorf("sites without credentials: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"name": {"alice"}, "password": {"a long enough password"}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rw_session" && ck.Secure && ck.HttpOnly {
			session = ck.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("login: %d, session cookie %v", resp.StatusCode, resp.Cookies())
	}
	resp, body := get("/", map[string]string{"Cookie": "__Host-rw_session=" + session})
	if resp.StatusCode != 200 || !strings.Contains(body, `data-testid="page-sites"`) {
		t.Errorf("dashboard: %d\n%s", resp.StatusCode, body)
	}
	// The page's CSRF token, as htmx sends it.
	var csrf string
	if m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body); m != nil {
		csrf = m[1]
	}
	// A site and its agent token, made through the API with the session;
	// the agent then reads its schedule at the mounted agents' endpoint.
	post := func(path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		req.Header.Set("Cookie", "__Host-rw_session="+session)
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := post("/api/v1/sites", `{"id":"branch-1","name":"Branch office"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create site: %d %s", resp.StatusCode, body)
	}
	resp, body = post("/api/v1/sites/branch-1/agent-tokens", `{"name":"branch-1 agent"}`)
	var tok struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
		t.Fatalf("create agent token: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/api/v1/agent/schedule", map[string]string{"Authorization": "Bearer " + tok.Token}); resp.StatusCode != 200 || !strings.Contains(body, `"dns"`) {
		t.Errorf("agent schedule with the agent token: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/api/v1/agent/schedule", map[string]string{"Cookie": "__Host-rw_session=" + session}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent schedule with a user's session: %d %s, want 403", resp.StatusCode, body)
	}
	if resp, body := get("/api/v1/agent/schedule", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("agent schedule without a token: %d %s, want 401", resp.StatusCode, body)
	}
	if resp, body := get("/metrics", nil); resp.StatusCode != 200 || !strings.Contains(body, "routerwatch_http_requests_total") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics from loopback: %d\n%s", resp.StatusCode, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d on the signal:\n%s", code, errs)
	}
	if strings.Contains(errs.String(), "a long enough password") || strings.Contains(errs.String(), session) {
		t.Errorf("serve's log holds a secret:\n%s", errs)
	}
	addr2, fp2, _, stop2 := startServe(t, env, "--workers", "0", "--public-lookup",
		"--csaf-base-url", "https://psirt.example", "--csaf-publisher-name", "Example PSIRT", "--csaf-publisher-namespace", "https://psirt.example",
		"--csaf-security-contact", "mailto:psirt@psirt.example")
	if fp2 != fp {
		t.Errorf("second start serves certificate %s, first %s", fp2, fp)
	}
	// The public lookup answers without login, as `lookup --format json`.
	base = "https://" + addr2
	if resp, body := get("/api/v1/lookup?model=TL-WR841N&hw=10", nil); resp.StatusCode != 200 || !strings.Contains(body, "CVE-2023-33538") {
		t.Errorf("public lookup API: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := get("/lookup?model=TL-WR841N&hw=10", nil); resp.StatusCode != 200 || !strings.Contains(body, "CVE-2023-33538") {
		t.Errorf("public lookup page: %d\n%s", resp.StatusCode, body)
	}
	// The CSAF provider directory, public too.
	if resp, body := get("/.well-known/csaf/provider-metadata.json", nil); resp.StatusCode != 200 || !strings.Contains(body, `"canonical_url": "https://psirt.example/.well-known/csaf/provider-metadata.json"`) {
		t.Errorf("CSAF provider metadata: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := get("/.well-known/security.txt", nil); resp.StatusCode != 200 || !strings.Contains(body, "CSAF: https://psirt.example/.well-known/csaf/provider-metadata.json") {
		t.Errorf("security.txt: %d\n%s", resp.StatusCode, body)
	}
	if code := stop2(); code != 0 {
		t.Errorf("second serve exited %d", code)
	}
}

// TestServePostgresUnreachable: a PostgreSQL store that cannot be
// reached fails the start with the server named and the password not.
func TestServePostgresUnreachable(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_DATA_HOME": dir, "HOME": dir}
	errs := &lockedBuffer{}
	app := &App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: errs, Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), []string{"serve", "--db", "postgres://rw:Sup3rS3cret@127.0.0.1:1/rw?connect_timeout=5"})
	if code == 0 || strings.Contains(errs.String(), "Sup3rS3cret") || !strings.Contains(errs.String(), "127.0.0.1:1") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}
