// SPDX-License-Identifier: Apache-2.0

package probe_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// selfSignedCert makes a router-like self-signed certificate.
func selfSignedCert(t *testing.T) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234),
		Subject:      pkix.Name{CommonName: "TP-LINK CA", Organization: []string{"TP-LINK Technologies CO., LTD."}, Country: []string{"CN"}},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"tplinkwifi.net"},
		IPAddresses:  []net.IP{net.ParseIP("192.0.2.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}
}

func TestCertificateOf(t *testing.T) {
	c, _ := selfSignedCert(t)
	got := probe.CertificateOf(c)
	want := `CN=TP-LINK CA,O=TP-LINK Technologies CO.\, LTD.,C=CN`
	if got.Subject != want || got.Issuer != want || !got.SelfSigned || got.SerialNumber != "1234" {
		t.Errorf("CertificateOf = %+v, want subject=issuer=%s, self-signed", got, want)
	}
	if diff := cmp.Diff([]string{"192.0.2.1"}, got.IPAddresses); diff != "" {
		t.Errorf("IPs (-want +got):\n%s", diff)
	}
	if len(got.SHA256) != 64 {
		t.Errorf("SHA256 %q is not a hex SHA-256", got.SHA256)
	}
}

// TestTLSInfoOf runs a real handshake in memory (net.Pipe: no socket)
// and checks what a probe would record, and its JSON shape, which
// observation files and the probeset golden rely on.
func TestTLSInfoOf(t *testing.T) {
	_, cert := selfSignedCert(t)
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	// A probe records the certificate, never trusts it.
	cli := tls.Client(cc, &tls.Config{InsecureSkipVerify: true})
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs := cli.ConnectionState()
	info := probe.TLSInfoOf(&cs)
	if info.Version != "TLS 1.2" || info.CipherSuite == "" || info.Certificate == nil || !info.Certificate.SelfSigned {
		t.Fatalf("TLSInfoOf = %+v", info)
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version":"TLS 1.2"`, `"cipher_suite":`, `"certificate":{"subject":"CN=TP-LINK CA`, `"self_signed":true`, `"sha256":"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
	none := probe.TLSInfoOf(&tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256})
	if none.Certificate != nil || none.Version != "TLS 1.3" || none.CipherSuite != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("TLSInfoOf without a peer certificate = %+v", none)
	}
}
