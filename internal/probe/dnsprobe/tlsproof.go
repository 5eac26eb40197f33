// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/netip"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// ProofTimeout bounds one TLS proof: a TCP handshake and a TLS handshake
// to a web server that serves the name, which takes well under a second
// anywhere the user could log in from.
const ProofTimeout = 3 * time.Second

// ProofOutcome is what a TLS proof showed.
type ProofOutcome string

// Outcomes.
const (
	// ProofValid: the address presented a certificate for the name that
	// chains to a trusted root. Whoever answers there holds the name's
	// key: a CDN or load-balancer address, not an interception.
	ProofValid ProofOutcome = "valid"
	// ProofInvalid: the handshake completed but the certificate is not
	// valid for the name (untrusted issuer, self-signed, wrong name,
	// expired). That is what an adversary-in-the-middle server presents.
	ProofInvalid ProofOutcome = "invalid"
	// ProofInconclusive: no certificate to judge (nothing listens, no
	// TLS, handshake refused, timeout).
	ProofInconclusive ProofOutcome = "inconclusive"
)

// Proof is the result of connecting to an answered address with the
// name as SNI.
type Proof struct {
	Name    string         `json:"name"`
	Addr    netip.AddrPort `json:"addr"`
	Outcome ProofOutcome   `json:"outcome"`
	// Reason says why the certificate is invalid or the proof
	// inconclusive.
	Reason string `json:"reason,omitempty"`
	// Status classifies an inconclusive proof's error (see Classify).
	Status     string    `json:"status,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	SelfSigned bool      `json:"self_signed,omitempty"`
}

// ProveTLS connects to addr through d, sends name as SNI and judges the
// certificate against roots (nil: the system roots) at the time now.
// Nothing is sent after the handshake.
func ProveTLS(ctx context.Context, d *netx.Dialer, addr netip.AddrPort, name string, roots *x509.CertPool, now time.Time) Proof {
	name = strings.TrimSuffix(name, ".")
	p := Proof{Name: name, Addr: addr}
	ctx, cancel := context.WithTimeout(ctx, ProofTimeout)
	defer cancel()
	// Verification is done below, by hand, so that an invalid
	// certificate is still read and reported as evidence instead of
	// ending the handshake with a bare error.
	cfg := &tls.Config{ServerName: name, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	conn, err := d.DialTLS(ctx, addr, cfg)
	if err != nil {
		p.Outcome, p.Reason, p.Status = ProofInconclusive, err.Error(), Classify(err)
		return p
	}
	certs := conn.ConnectionState().PeerCertificates
	conn.Close()
	if len(certs) == 0 {
		p.Outcome, p.Reason = ProofInconclusive, "no certificate presented"
		return p
	}
	leaf := certs[0]
	p.Subject, p.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	p.DNSNames, p.NotAfter = leaf.DNSNames, leaf.NotAfter
	p.SelfSigned = bytes.Equal(leaf.RawSubject, leaf.RawIssuer) && leaf.CheckSignatureFrom(leaf) == nil
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter, CurrentTime: now})
	if err != nil {
		p.Outcome, p.Reason = ProofInvalid, err.Error()
		return p
	}
	p.Outcome = ProofValid
	return p
}
