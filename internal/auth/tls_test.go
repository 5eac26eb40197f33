// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSSelfSignedKeptAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg, info, err := TLSConfig("", "", dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !info.SelfSigned || !info.Generated {
		t.Errorf("first start: %+v, want a generated self-signed certificate", info)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", cfg.MinVersion)
	}
	leaf := cfg.Certificates[0].Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() || leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("key %v signed %v, want ECDSA P-256 with SHA-256", leaf.PublicKeyAlgorithm, leaf.SignatureAlgorithm)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 826*24*time.Hour {
		t.Errorf("valid for %v, want at most 825 days", d)
	}
	if !strings.Contains(logs.String(), info.Fingerprint) || len(info.Fingerprint) != 32*3-1 {
		t.Errorf("fingerprint %q not logged as 32 hex pairs: %s", info.Fingerprint, logs.String())
	}
	for path, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, SelfSignedKeyFile): 0o600, filepath.Join(dir, SelfSignedCertFile): 0o644,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", filepath.Base(path), st.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("state dir holds %d files, want the two (no temporary files left)", len(entries))
	}

	// The next start reuses it: same fingerprint, pins keep working.
	_, again, err := TLSConfig("", "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Generated || again.Fingerprint != info.Fingerprint {
		t.Errorf("second start: %+v, want the same certificate %s", again, info.Fingerprint)
	}

	// A real handshake: the client sees the logged fingerprint, and a
	// TLS 1.1 client is refused.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw); got != info.Fingerprint {
		t.Errorf("served fingerprint %s, logged %s", got, info.Fingerprint)
	}
	conn.Close()
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
}

func TestTLSSelfSignedRenewedNearExpiry(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	_, old, err := selfSigned(dir, start.Add(-selfSignedValidity+3*24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := TLSConfig("", "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Generated || !info.NotAfter.After(start.Add(800*24*time.Hour)) {
		t.Errorf("a certificate 3 days from its end was kept: %+v (old %+v)", info, old)
	}
}

func TestTLSRefusals(t *testing.T) {
	given := t.TempDir()
	certPEM, keyPEM, err := newSelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(given, "c.pem"), filepath.Join(given, "k.pem")
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, keyPEM, 0o600)

	loose := t.TempDir()
	if _, _, err := TLSConfig("", "", loose, nil); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(loose, SelfSignedKeyFile), 0o644)

	tests := []struct {
		name, cert, key, dir string
		wantErr              string // "" for success
	}{
		{name: "given_pair", cert: certFile, key: keyFile},
		{name: "cert_without_key", cert: certFile, wantErr: "both"},
		{name: "key_without_cert", key: keyFile, wantErr: "both"},
		{name: "missing_files", cert: certFile + ".x", key: keyFile, wantErr: "loading the TLS certificate"},
		{name: "swapped_files", cert: keyFile, key: certFile, wantErr: "loading the TLS certificate"},
		{name: "nothing_at_all", wantErr: "no state directory"},
		{name: "readable_key", dir: loose, wantErr: "may be read by others"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, info, err := TLSConfig(tc.cert, tc.key, tc.dir, nil)
			if tc.wantErr == "" {
				if err != nil || info.SelfSigned || info.Fingerprint == "" {
					t.Fatalf("TLSConfig = %+v, %v", info, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestTLSSelfSignedRecoversFromHalfWrite(t *testing.T) {
	dir := t.TempDir()
	_, first, err := TLSConfig("", "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A crash after the new key was renamed in but before the cert was:
	// the pair no longer matches.
	_, keyPEM, err := newSelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SelfSignedKeyFile), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, info, err := TLSConfig("", "", dir, nil)
	if err != nil {
		t.Fatalf("after a half-written renewal: %v", err)
	}
	if !info.Generated || info.Fingerprint == first.Fingerprint {
		t.Errorf("after a half-written renewal: %+v, want a new certificate", info)
	}
}

// TestSelfSignedNames: the names clients reach the server by go into the
// self-signed certificate; a kept one lacking a name asked for is
// replaced, one that has them all is kept (the pin stays valid).
func TestSelfSignedNames(t *testing.T) {
	dir := t.TempDir()
	_, first, err := TLSConfig("", "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"10.77.0.10", "rw.example.net", "2001:db8::10"}
	cfg, second, err := TLSConfig("", "", dir, nil, names...)
	if err != nil {
		t.Fatal(err)
	}
	if second.Fingerprint == first.Fingerprint || !second.Generated {
		t.Errorf("a certificate without %v was kept: %+v", names, second)
	}
	leaf := cfg.Certificates[0].Leaf
	for _, n := range append([]string{"localhost", "127.0.0.1"}, names...) {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("the new certificate is not valid for %s: %v", n, err)
		}
	}
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"same_names", names},
		{"fewer_names", names[:1]},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, again, err := TLSConfig("", "", dir, nil, tc.names...)
			if err != nil || again.Fingerprint != second.Fingerprint || again.Generated {
				t.Errorf("%v %+v: want the kept certificate %s", err, again, second.Fingerprint)
			}
		})
	}
	for _, bad := range []string{"", "-bad.example", "a b", "fe80::1%eth0", "x_y.example", strings.Repeat("a", 64) + ".example"} {
		if _, _, err := TLSConfig("", "", dir, nil, bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	certPEM, keyPEM, err := newSelfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(t.TempDir(), "c.pem"), filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(cf, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := TLSConfig(cf, kf, "", nil, "rw.example.net"); err == nil {
		t.Error("names with a given certificate accepted")
	}
}
