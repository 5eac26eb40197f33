// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// certLifetime bounds the lab's certificates: a lab lives minutes, and a
// short validity keeps a leaked lab CA harmless.
const certLifetime = 7 * 24 * time.Hour

// File names in the lab directory.
const (
	caFile        = "ca.pem"          // the lab CA certificate (trust it with --trust-ca)
	trustedPEM    = "trusted.pem"     // trusted resolver: certificate
	trustedKey    = "trusted.key"     // trusted resolver: key
	legitPEM      = "legit-https.pem" // legit HTTPS: certificate + key (lighttpd)
	aitmPEM       = "aitm-https.pem"  // AitM HTTPS: self-signed certificate + key
	aitmCertOnly  = "aitm-cert.pem"   // AitM certificate alone, for tests
	pkiCommonName = "routerwatch lab CA"
)

// The attacker dnsdist's DoT certificate and key (dnsdist reads them from
// two files), self-signed like the AitM server's.
const (
	attackerDoTPEM = "attacker-dot.pem"
	attackerDoTKey = "attacker-dot.key"
)

// writePKI generates the lab CA (ECDSA P-256, fast) and the leaf
// certificates: the trusted resolver's and the legit HTTPS server's are
// signed by the lab CA; the AitM server's and the attacker dnsdist's are
// self-signed, so a client that trusts only the lab CA rejects them, as a
// browser would reject the attacker's.
func writePKI(dir, labName string, now time.Time) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: pkiCommonName + " " + labName, Organization: []string{"routerwatch lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, caFile), pemBlock("CERTIFICATE", caDER)); err != nil {
		return err
	}

	trustedIP, _ := roleByName("trusted.resolver")
	cert, key, err := leaf(ca, caKey, now, "trusted resolver", []string{TrustedResolverName}, []netip.Addr{trustedIP.addr})
	if err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, trustedPEM), cert); err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, trustedKey), key); err != nil {
		return err
	}

	var names []string
	for _, r := range records {
		names = append(names, r.Name)
	}
	cert, key, err = leaf(ca, caKey, now, "legit https", names, legitAddrs())
	if err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, legitPEM), cert, key); err != nil {
		return err
	}

	aitm, _ := roleByName("aitm.https")
	cert, key, err = leaf(nil, nil, now, "aitm https", names, []netip.Addr{aitm.addr})
	if err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, aitmCertOnly), cert); err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, aitmPEM), cert, key); err != nil {
		return err
	}

	cert, key, err = leaf(nil, nil, now, "attacker dot", []string{AttackerDoTName}, []netip.Addr{RoleAddr("attacker.dnsdist")})
	if err != nil {
		return err
	}
	if err := writePEMs(filepath.Join(dir, attackerDoTPEM), cert); err != nil {
		return err
	}
	return writePEMs(filepath.Join(dir, attackerDoTKey), key)
}

// leaf makes a server certificate signed by ca, or self-signed if ca is nil.
func leaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, cn string, names []string, ips []netip.Addr) (certPEM, keyPEM *pem.Block, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"routerwatch lab"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	for _, a := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
	}
	parent, signer := ca, caKey
	if ca == nil {
		parent, signer = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120)) // crypto/rand never fails
	return n
}

func pemBlock(typ string, b []byte) *pem.Block { return &pem.Block{Type: typ, Bytes: b} }

func writePEMs(path string, blocks ...*pem.Block) error {
	var out []byte
	mode := os.FileMode(0o644)
	for _, b := range blocks {
		out = append(out, pem.EncodeToMemory(b)...)
		if b.Type == "PRIVATE KEY" {
			mode = 0o600
		}
	}
	if err := os.WriteFile(path, out, mode); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
