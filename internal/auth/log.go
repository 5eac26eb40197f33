// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// secretHeaders are the request and response headers that carry
// credentials. Compared case-insensitively.
var secretHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", CSRFHeader,
}

// Redacted replaces a secret header's value in logs.
const Redacted = "[REDACTED]"

// RedactHeaders returns a copy of h whose credential headers
// (Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-CSRF-Token)
// read Redacted, for any code that logs headers.
func RedactHeaders(h http.Header) http.Header {
	c := h.Clone()
	for k := range c {
		for _, s := range secretHeaders {
			if strings.EqualFold(k, s) {
				c[k] = []string{Redacted}
			}
		}
	}
	return c
}

// logSlot lets the access log, which wraps Authenticate, learn the
// principal Authenticate found further in.
type logSlot struct {
	mu sync.Mutex // guards following
	p  Principal
	ok bool
}

type logSlotKey struct{}

func notePrincipal(ctx context.Context, p Principal) {
	if s, ok := ctx.Value(logSlotKey{}).(*logSlot); ok {
		s.mu.Lock()
		s.p, s.ok = p, true
		s.mu.Unlock()
	}
}

// AccessLog wraps the whole server (outside Authenticate) and logs one
// line per request: method, path, status, size, duration, client address
// and the principal. It never logs the query string (a token pasted in a
// URL), headers, form values or bodies; code that must log headers uses
// RedactHeaders.
func (a *Authenticator) AccessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		slot := &logSlot{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logSlotKey{}, slot)))
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", addrString(a.ClientAddr(r))),
		}
		slot.mu.Lock()
		if slot.ok {
			attrs = append(attrs, slog.Any("principal", slot.p))
		}
		slot.mu.Unlock()
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// statusRecorder notes the status and size of an answer. Unwrap lets
// http.ResponseController reach the real writer (Flush, deadlines).
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
