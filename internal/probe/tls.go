// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"
)

// TLSInfo is a negotiated TLS session as a probe records it: every probe
// that completes a handshake (httpprobe's HTTPS ports, mikrotikprobe's
// API-SSL) reports it with this one type, so that identification and
// reports read certificates the same way whichever port showed them.
type TLSInfo struct {
	Version     string       `json:"version"`
	CipherSuite string       `json:"cipher_suite"`
	Certificate *Certificate `json:"certificate,omitempty"`
}

// TLSInfoOf summarizes a completed handshake: its version, suite and the
// leaf certificate the device showed (never verified: routers use
// self-signed ones).
func TLSInfoOf(cs *tls.ConnectionState) *TLSInfo {
	info := &TLSInfo{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) > 0 {
		c := CertificateOf(cs.PeerCertificates[0])
		info.Certificate = &c
	}
	return info
}

// Certificate is what a TLS certificate says about the device.
type Certificate struct {
	Subject            string    `json:"subject"` // RFC 2253 form
	Issuer             string    `json:"issuer"`
	SerialNumber       string    `json:"serial_number,omitempty"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	SelfSigned         bool      `json:"self_signed"`
	SignatureAlgorithm string    `json:"signature_algorithm,omitempty"`
	PublicKeyAlgorithm string    `json:"public_key_algorithm,omitempty"`
	SHA256             string    `json:"sha256"` // of the DER certificate
}

// Bounds on what a Certificate keeps from a certificate the device chose.
const (
	maxSANs        = 32   // names and addresses kept
	maxCertNameLen = 1024 // subject and issuer, in bytes
	maxSANLen      = 256  // one DNS name, in bytes
)

// CertificateOf summarizes c; its strings are valid UTF-8 and bounded.
func CertificateOf(c *x509.Certificate) Certificate {
	sum := sha256.Sum256(c.Raw)
	out := Certificate{
		Subject:            Text([]byte(c.Subject.String()), maxCertNameLen),
		Issuer:             Text([]byte(c.Issuer.String()), maxCertNameLen),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		PublicKeyAlgorithm: c.PublicKeyAlgorithm.String(),
		SHA256:             hex.EncodeToString(sum[:]),
	}
	if c.SerialNumber != nil {
		out.SerialNumber = c.SerialNumber.Text(16)
	}
	for i, n := range c.DNSNames {
		if i == maxSANs {
			break
		}
		out.DNSNames = append(out.DNSNames, Text([]byte(n), maxSANLen))
	}
	for i, ip := range c.IPAddresses {
		if i == maxSANs {
			break
		}
		out.IPAddresses = append(out.IPAddresses, ip.String())
	}
	out.SelfSigned = selfSigned(c)
	return out
}

// selfSigned reports whether c was issued by itself and verifies with its
// own key. CheckSignatureFrom would also demand the CA flag, which router
// certificates often lack. Go refuses to verify SHA-1 and MD5 signatures,
// which old routers still use; for those, matching key identifiers (or
// none) stand in for the signature check.
func selfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	var weak x509.InsecureAlgorithmError
	if errors.As(err, &weak) {
		return len(c.AuthorityKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return err == nil
}
