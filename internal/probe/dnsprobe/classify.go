// SPDX-License-Identifier: Apache-2.0

package dnsprobe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// Measurement statuses beyond netx's.
const (
	StatusMalformed        = "malformed"
	StatusNotResponse      = "not_response"
	StatusIDMismatch       = "id_mismatch"
	StatusQuestionMismatch = "question_mismatch"
	StatusOversized        = "oversized"
	StatusTruncated        = "truncated"
	StatusTLS              = "tls_error"
)

// Classify names why an exchange failed, for findings that say why: the
// reply errors of this package, TLS failures, then netx's classes
// ("timeout", "connection_refused", "out_of_scope", ...).
func Classify(err error) string {
	var ce *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ad tls.AlertError
	switch {
	case err == nil:
		return string(netx.StatusOK)
	case errors.Is(err, ErrMalformed):
		return StatusMalformed
	case errors.Is(err, ErrNotResponse):
		return StatusNotResponse
	case errors.Is(err, ErrIDMismatch):
		return StatusIDMismatch
	case errors.Is(err, ErrQuestionMismatch):
		return StatusQuestionMismatch
	case errors.Is(err, ErrOversized):
		return StatusOversized
	case errors.Is(err, ErrTruncated):
		return StatusTruncated
	case errors.As(err, &ce), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ad):
		return StatusTLS
	}
	return string(netx.Classify(err))
}
