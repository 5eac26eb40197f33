// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerwatch/routerwatch/internal/testutil"
)

// checkerDomain is the provider's domain in the checker tests: a name
// under .example (RFC 2606), reached through the test's own proxy, so
// that the checker runs as it does against a real provider (domain form,
// port 443, the DNS path csaf.data.security.<domain>) while every byte
// stays on the loopback.
const checkerDomain = "routerwatch.example"

// buildChecker builds gocsaf's csaf_checker at the version go.mod pins
// (the `tool` directive keeps it in the module graph, so `go mod
// download` fetches it and the build needs no network after that).
func buildChecker(t *testing.T) string {
	t.Helper()
	// go test puts its own GOROOT/bin first in PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to build csaf_checker: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "csaf_checker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/gocsaf/csaf/v3/cmd/csaf_checker")
	cmd.Dir = testutil.ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build csaf_checker: %v\n%s", err, out)
	}
	return bin
}

// testPKI is a CA and a server certificate for the provider's names.
type testPKI struct {
	caFile string
	cert   tls.Certificate
}

func newTestPKI(t *testing.T, names ...string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "routerwatch test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return testPKI{caFile: caFile, cert: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}
}

// connectProxy is an HTTP CONNECT proxy on the loopback that sends the
// provider's names on port 443 to one loopback address and refuses
// everything else: it is the checker's only way out, so nothing it asks
// for can leave the machine.
type connectProxy struct {
	ln      net.Listener
	allowed map[string]bool // host:port
	target  string
	wg      sync.WaitGroup

	mu      sync.Mutex
	refused []string
}

func startConnectProxy(t *testing.T, target string, hosts ...string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln, allowed: map[string]bool{}, target: target}
	for _, h := range hosts {
		p.allowed[h+":443"] = true
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect || !p.allowed[req.Host] {
		p.mu.Lock()
		p.refused = append(p.refused, req.Method+" "+req.Host)
		p.mu.Unlock()
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	<-done
}

// checkerReport is the part of csaf_checker's JSON report the tests read.
type checkerReport struct {
	Domains []struct {
		Name         string `json:"name"`
		Role         string `json:"role"`
		Passed       bool   `json:"passed"`
		Requirements []struct {
			Num         int    `json:"num"`
			Description string `json:"description"`
			Messages    []struct {
				Type int    `json:"type"`
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"requirements"`
	} `json:"domains"`
}

// runChecker serves d over HTTPS for checkerDomain and runs the checker
// against the domain; it returns the report and its raw text.
func runChecker(t *testing.T, checker string, d *Directory) (checkerReport, string) {
	t.Helper()
	pki := newTestPKI(t, checkerDomain, DNSPathPrefix+checkerDomain)
	srv := httptest.NewUnstartedServer(d)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	proxy := startConnectProxy(t, srv.Listener.Addr().String(), checkerDomain, DNSPathPrefix+checkerDomain)

	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, checker, "--format", "json", "--output", out, "--client_timeout", "30s", checkerDomain)
	cmd.Dir = dir
	// A clean environment: no config file from HOME, no proxy but ours,
	// and trust in the test CA only (Go reads SSL_CERT_FILE on Unix), so
	// the TLS checks are real checks, not --insecure.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HTTPS_PROXY=http://" + proxy.ln.Addr().String(),
		"SSL_CERT_FILE=" + pki.caFile, "SSL_CERT_DIR=" + dir}
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("csaf_checker: %v\n%s", err, log)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("csaf_checker wrote no report: %v\n%s", err, log)
	}
	var rep checkerReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, raw)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.refused) > 0 {
		t.Errorf("the checker asked the proxy for other places: %v", proxy.refused)
	}
	if len(rep.Domains) != 1 {
		t.Fatalf("report has %d domains:\n%s\n%s", len(rep.Domains), raw, log)
	}
	return rep, string(raw)
}

// checkerMessages lists a report's messages of one type as "N: text".
func checkerMessages(rep checkerReport, typ int) []string {
	var out []string
	for _, r := range rep.Domains[0].Requirements {
		for _, m := range r.Messages {
			if m.Type == typ {
				out = append(out, fmt.Sprintf("%d %s: %s", r.Num, r.Description, m.Text))
			}
		}
	}
	return out
}

// TestCSAFCheckerAccepts runs gocsaf's own csaf_checker (v3.7.0, built
// from the module cache) against the served directory, found from the
// domain alone as a consumer would: well-known URL, security.txt, DNS
// path, both distributions (directory and ROLIE), hashes and signatures.
// Published: the built-in documents (unlabeled) and the shared CISA
// advisories (TLP:WHITE, 2020-2023) imported into a store.
//
// Signed as a trusted provider, the checker must report no error and no
// warning in any of its 20 requirements. Unsigned as a provider, it must
// pass the role, and its only errors must be the missing signatures, which
// CSAF 2.0 asks of trusted providers only (csaf_checker checks them for
// every role, and calls a ROLIE entry with hashes but no signature an
// error of requirement 15): the test pins that list.
func TestCSAFCheckerAccepts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs csaf_checker")
	}
	checker := buildChecker(t)
	docs := sourcesWithSharedStore(t)
	base := Options{BaseURL: "https://" + checkerDomain, ListOnAggregators: true, MirrorOnAggregators: true,
		Publisher:        Publisher{Category: "other", Name: "routerwatch project", Namespace: "https://github.com/routerwatch/routerwatch"},
		SecurityContacts: []string{"https://github.com/routerwatch/routerwatch/issues"}}

	t.Run("signed_trusted_provider", func(t *testing.T) {
		o := base
		o.Role = RoleTrustedProvider
		o.SigningKey = testSigningKey(t)
		d, err := Build(docs, o)
		if err != nil {
			t.Fatal(err)
		}
		rep, raw := runChecker(t, checker, d)
		t.Logf("csaf_checker report:\n%s", raw)
		dom := rep.Domains[0]
		if !dom.Passed || dom.Role != RoleTrustedProvider {
			t.Errorf("domain passed=%v role=%s, want passed as %s", dom.Passed, dom.Role, RoleTrustedProvider)
		}
		if errs := checkerMessages(rep, 2); len(errs) > 0 {
			t.Errorf("checker errors:\n%s", strings.Join(errs, "\n"))
		}
		if warns := checkerWarnings(rep, true); len(warns) > 0 {
			t.Errorf("checker warnings:\n%s", strings.Join(warns, "\n"))
		}
		assertCheckedEverything(t, rep, d)
		infos := strings.Join(checkerMessages(rep, 0), "\n")
		for _, want := range []string{
			"10 DNS path: https://csaf.data.security.DOMAIN is available and serves the provider-metadata.json.",
			"15 ROLIE feed: All checked ROLIE feeds validated fine.",
			"18 Integrity: All checksums match.",
			"19 Signatures: All signatures verified.",
			"20 Public OpenPGP Key: 1 public OpenPGP key(s) loaded.",
		} {
			if !strings.Contains(infos, want) {
				t.Errorf("report lacks %q", want)
			}
		}

		// The harness can fail: a hash file that does not match is an
		// error the checker reports.
		bad := d.Published[0].URL[len("https://"+checkerDomain):] + ".sha512"
		d.files[bad].data = []byte(strings.Repeat("0", 128) + "  x.json\n")
		rep, _ = runChecker(t, checker, d)
		if errs := strings.Join(checkerMessages(rep, 2), "\n"); !strings.Contains(errs, "18 Integrity: SHA512 hash of") {
			t.Errorf("a wrong hash file went unreported; errors:\n%s", errs)
		}
	})

	t.Run("unsigned_provider", func(t *testing.T) {
		d, err := Build(docs, base)
		if err != nil {
			t.Fatal(err)
		}
		rep, raw := runChecker(t, checker, d)
		t.Logf("csaf_checker report:\n%s", raw)
		dom := rep.Domains[0]
		if !dom.Passed || dom.Role != RoleProvider {
			t.Errorf("domain passed=%v role=%s, want passed as %s", dom.Passed, dom.Role, RoleProvider)
		}
		var unexpected []string
		for _, e := range checkerMessages(rep, 2) {
			switch {
			case e == "15 ROLIE feed: ROLIE feed based distribution was not used.":
			case strings.HasPrefix(e, "19 Signatures: Fetching https://"+checkerDomain+WellKnown) && strings.HasSuffix(e, ".asc failed: status code 404 (404 Not Found)"):
			default:
				unexpected = append(unexpected, e)
			}
		}
		if len(unexpected) > 0 {
			t.Errorf("checker errors other than the missing signatures:\n%s", strings.Join(unexpected, "\n"))
		}
		if warns := checkerWarnings(rep, false); len(warns) > 0 {
			t.Errorf("checker warnings:\n%s", strings.Join(warns, "\n"))
		}
		assertCheckedEverything(t, rep, d)
	})
}

// checkerWarnings lists the report's warnings but the one about the
// checker's own configuration: it validates documents remotely only when
// given a validator service's URL, a network service this test does not
// reach. Unsigned, a directory without ROLIE also gets the checker's
// warnings that it has no ROLIE service and category documents.
func checkerWarnings(rep checkerReport, rolie bool) []string {
	var out []string
	for _, w := range checkerMessages(rep, 1) {
		switch {
		case w == "1 Valid CSAF documents: No remote validator configured":
		case !rolie && (w == "16 ROLIE service document: No ROLIE service document found." || w == "17 ROLIE category document: No ROLIE category document found."):
		default:
			out = append(out, w)
		}
	}
	return out
}

// assertCheckedEverything: the checker looked at every requirement and
// found every published document (so a pass cannot come from checking
// nothing).
func assertCheckedEverything(t *testing.T, rep checkerReport, d *Directory) {
	t.Helper()
	var nums []int
	for _, r := range rep.Domains[0].Requirements {
		nums = append(nums, r.Num)
	}
	for n := 1; n <= 20; n++ {
		if !slices.Contains(nums, n) {
			t.Errorf("requirement %d is not in the report", n)
		}
	}
	infos := strings.Join(checkerMessages(rep, 0), "\n")
	for _, want := range []string{
		"8 security.txt: Found valid security.txt within the well-known directory",
		"12 index.txt: Found https://" + checkerDomain + WellKnown + "white/index.txt",
		"13 changes.csv: Found https://" + checkerDomain + WellKnown + "unlabeled/changes.csv",
	} {
		if !strings.Contains(infos, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if len(d.Published) < 18 {
		t.Errorf("only %d documents published", len(d.Published))
	}
}
