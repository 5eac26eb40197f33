// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// An API token reads rw_<prefix>_<secret>:
//   - "rw_" lets people and secret scanners recognise it;
//   - prefix is 12 lowercase hex digits (48 random bits), not secret: the
//     store looks the token up by it and lists show it;
//   - secret is 52 lowercase base32 characters (32 random bytes, 256
//     bits). Only its SHA-256 is stored: a fast hash is enough for 256
//     random bits, which no one guesses, and it keeps verification cheap
//     on every API request.
const (
	tokenScheme    = "rw_"
	tokenPrefixLen = 12
	tokenSecretLen = 52
	tokenLen       = len(tokenScheme) + tokenPrefixLen + 1 + tokenSecretLen
)

var tokenB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrMalformedToken is returned for a string that is not a routerwatch
// API token. It never contains the string.
var ErrMalformedToken = errors.New("not a routerwatch API token (rw_<prefix>_<secret>)")

// NewToken is a freshly issued API token. Plain is shown to the person who
// asked for it once and never stored; the store keeps Prefix and Hash.
type NewToken struct {
	Plain  string
	Prefix string
	Hash   []byte // SHA-256 of the secret part
}

// String and LogValue keep Plain out of prints and logs.
func (t NewToken) String() string { return tokenScheme + t.Prefix + "_[REDACTED]" }

// LogValue implements slog.LogValuer.
func (t NewToken) LogValue() slog.Value { return slog.StringValue(t.String()) }

// GenerateToken returns a new random API token.
func GenerateToken() NewToken {
	var p [tokenPrefixLen / 2]byte
	var s [32]byte
	rand.Read(p[:]) // never fails (crypto/rand since Go 1.24)
	rand.Read(s[:])
	prefix := hex.EncodeToString(p[:])
	secret := tokenB32.EncodeToString(s[:])
	return NewToken{Plain: tokenScheme + prefix + "_" + secret, Prefix: prefix, Hash: hashSecret(secret)}
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ParseToken splits a token into its prefix and the SHA-256 of its
// secret, refusing anything not exactly in the format (so garbage never
// reaches the store).
func ParseToken(s string) (prefix string, hash []byte, err error) {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenScheme) || s[len(tokenScheme)+tokenPrefixLen] != '_' {
		return "", nil, ErrMalformedToken
	}
	prefix = s[len(tokenScheme) : len(tokenScheme)+tokenPrefixLen]
	secret := s[len(tokenScheme)+tokenPrefixLen+1:]
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", nil, ErrMalformedToken
		}
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return "", nil, ErrMalformedToken
		}
	}
	return prefix, hashSecret(secret), nil
}

// TokenRecord is what the store keeps of an API token.
type TokenRecord struct {
	ID    string
	OrgID string
	// Name is the label its creator gave it.
	Name string
	// Role is what the token may do; ignored for agent tokens.
	Role Role
	// SiteID makes it an agent token for that site.
	SiteID string
	Prefix string
	// Hash is the SHA-256 of the secret part.
	Hash      []byte
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt zero means it never expires.
	ExpiresAt time.Time
	// LastUsed zero means never used.
	LastUsed time.Time
	Revoked  bool
}

// The reasons a token is refused; Authenticate answers 401 to each, with
// the same body, so a caller learns only that the token does not work.
var (
	ErrTokenUnknown = errors.New("unknown API token")
	ErrTokenRevoked = errors.New("API token revoked")
	ErrTokenExpired = errors.New("API token expired")
)

// checkToken compares a parsed token with its record, in constant time
// for the secret, and says why it is refused.
func checkToken(rec TokenRecord, hash []byte, now time.Time) error {
	if subtle.ConstantTimeCompare(rec.Hash, hash) != 1 {
		return ErrTokenUnknown
	}
	if rec.Revoked {
		return ErrTokenRevoked
	}
	if !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt) {
		return ErrTokenExpired
	}
	return nil
}

// principal is who a valid token acts as.
func (rec TokenRecord) principal() Principal {
	p := Principal{OrgID: rec.OrgID, Kind: KindToken, ID: rec.ID, Name: rec.Name, Role: rec.Role}
	if rec.SiteID != "" {
		p.Kind, p.Role, p.SiteID = KindAgent, "", rec.SiteID
	}
	return p
}
