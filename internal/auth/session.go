// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"
)

// SessionCookie is the session cookie's name. The __Host- prefix makes
// browsers refuse it unless it is Secure, has Path=/ and no Domain, so a
// sibling subdomain or a plain-HTTP page cannot plant or overwrite it
// (session fixation through cookie injection).
const SessionCookie = "__Host-rw_session"

// Session lifetimes (OWASP Session Management Cheat Sheet: idle 15-30
// minutes, absolute 4-8 hours for ordinary applications; a monitoring
// dashboard is left open during a working day).
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultLifetime    = 12 * time.Hour
)

// touchInterval is how stale LastUsed and LastSeen may get: writing them
// on every request would make every read a write.
const touchInterval = time.Minute

// sessionIDLen is the random part of a session ID: 256 bits.
const sessionIDLen = 32

var cookieB64 = base64.RawURLEncoding.Strict()

// sessionID is the secret a browser holds.
type sessionID [sessionIDLen]byte

func newSessionID() sessionID {
	var id sessionID
	rand.Read(id[:]) // never fails (crypto/rand since Go 1.24)
	return id
}

func (id sessionID) cookieValue() string { return cookieB64.EncodeToString(id[:]) }

func (id sessionID) hash() []byte {
	h := sha256.Sum256(id[:])
	return h[:]
}

// csrfToken is the synchronizer token of the session: an HMAC of a fixed
// label keyed by the session ID. It needs no storage, changes with every
// new session (so with every login), and showing it in a page reveals
// nothing of the session ID.
func (id sessionID) csrfToken() string {
	m := hmac.New(sha256.New, id[:])
	m.Write([]byte("routerwatch csrf v1"))
	return cookieB64.EncodeToString(m.Sum(nil))
}

var errBadCookie = errors.New("malformed session cookie")

func parseSessionID(v string) (sessionID, error) {
	var id sessionID
	if len(v) != cookieB64.EncodedLen(sessionIDLen) {
		return id, errBadCookie
	}
	b, err := cookieB64.DecodeString(v)
	if err != nil || len(b) != sessionIDLen {
		return id, errBadCookie
	}
	copy(id[:], b)
	return id, nil
}

func sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// sameToken compares two CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sessionState says whether a stored session is still good at now.
func sessionState(s SessionRecord, now time.Time, idle, lifetime time.Duration) error {
	switch {
	case !now.Before(s.CreatedAt.Add(lifetime)), !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt):
		return errors.New("session past its lifetime")
	case !now.Before(s.LastSeen.Add(idle)):
		return errors.New("session idle too long")
	}
	return nil
}
