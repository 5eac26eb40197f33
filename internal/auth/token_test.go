// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

var tokenFormat = regexp.MustCompile(`^rw_[0-9a-f]{12}_[a-z2-7]{52}$`)

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := GenerateToken()
		if !tokenFormat.MatchString(tok.Plain) {
			t.Fatalf("token %q is not rw_<12 hex>_<52 base32>", tok.Plain)
		}
		if seen[tok.Plain] || seen[tok.Prefix] {
			t.Fatalf("token or prefix repeated after %d tokens", len(seen))
		}
		seen[tok.Plain], seen[tok.Prefix] = true, true
		secret := tok.Plain[len("rw_")+12+1:]
		// 52 base32 characters carry 260 bits, of which 256 are the
		// random bytes.
		if b, err := tokenB32.DecodeString(secret); err != nil || len(b) != 32 {
			t.Fatalf("secret decodes to %d bytes (%v), want 32", len(b), err)
		}
		want := sha256.Sum256([]byte(secret))
		if !bytes.Equal(tok.Hash, want[:]) {
			t.Fatal("Hash is not the SHA-256 of the secret")
		}
		prefix, hash, err := ParseToken(tok.Plain)
		if err != nil || prefix != tok.Prefix || !bytes.Equal(hash, tok.Hash) {
			t.Fatalf("ParseToken(generated) = %q, %x, %v", prefix, hash, err)
		}
	}
}

func TestNewTokenNeverPrints(t *testing.T) {
	tok := GenerateToken()
	secret := tok.Plain[len("rw_")+13:]
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("issued", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), tok.String(), logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("printed token shows its secret: %s", s)
		}
		if !strings.Contains(s, tok.Prefix) {
			t.Errorf("printed token lost its prefix: %s", s)
		}
	}
}

func TestParseToken(t *testing.T) {
	good := GenerateToken().Plain
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "generated", in: good, ok: true},
		{name: "empty", in: ""},
		{name: "upper_case_secret", in: good[:16] + strings.ToUpper(good[16:])},
		{name: "upper_case_prefix", in: "rw_" + strings.ToUpper(good[3:15]) + good[15:]},
		{name: "wrong_scheme", in: "gh_" + good[3:]},
		{name: "missing_separator", in: good[:15] + "x" + good[16:]},
		{name: "one_short", in: good[:len(good)-1]},
		{name: "one_long", in: good + "a"},
		{name: "base32_padding", in: good[:len(good)-1] + "="},
		{name: "digit_1_not_base32", in: good[:len(good)-1] + "1"},
		{name: "space_inside", in: good[:20] + " " + good[21:]},
		{name: "non_ascii", in: good[:len(good)-2] + "é"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseToken(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseToken error = %v, want ok %v", err, tc.ok)
			}
			if err != nil && (!errors.Is(err, ErrMalformedToken) || (len(tc.in) > 20 && strings.Contains(err.Error(), tc.in[16:]))) {
				t.Errorf("error %q is not ErrMalformedToken or shows the token", err)
			}
		})
	}
}

func TestCheckToken(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tok := GenerateToken()
	_, hash, _ := ParseToken(tok.Plain)
	other := GenerateToken()
	base := TokenRecord{ID: "t1", OrgID: "o", Prefix: tok.Prefix, Hash: tok.Hash, Role: RoleViewer}
	tests := []struct {
		name string
		mod  func(*TokenRecord)
		hash []byte
		want error
	}{
		{name: "valid", hash: hash},
		{name: "valid_until_later", mod: func(r *TokenRecord) { r.ExpiresAt = now.Add(time.Second) }, hash: hash},
		{name: "wrong_secret", hash: other.Hash, want: ErrTokenUnknown},
		{name: "empty_stored_hash", mod: func(r *TokenRecord) { r.Hash = nil }, hash: hash, want: ErrTokenUnknown},
		{name: "revoked", mod: func(r *TokenRecord) { r.Revoked = true }, hash: hash, want: ErrTokenRevoked},
		{name: "expired_now", mod: func(r *TokenRecord) { r.ExpiresAt = now }, hash: hash, want: ErrTokenExpired},
		{name: "expired_before", mod: func(r *TokenRecord) { r.ExpiresAt = now.Add(-time.Hour) }, hash: hash, want: ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := base
			if tc.mod != nil {
				tc.mod(&rec)
			}
			if err := checkToken(rec, tc.hash, now); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("checkToken = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTokenPrincipal(t *testing.T) {
	api := TokenRecord{ID: "t1", OrgID: "o1", Name: "ci", Role: RoleOperator}
	if p := api.principal(); p != (Principal{OrgID: "o1", Kind: KindToken, ID: "t1", Name: "ci", Role: RoleOperator}) {
		t.Errorf("API token principal = %+v", p)
	}
	agent := TokenRecord{ID: "t2", OrgID: "o1", Name: "site agent", Role: RoleAdmin, SiteID: "s9"}
	if p := agent.principal(); p != (Principal{OrgID: "o1", Kind: KindAgent, ID: "t2", Name: "site agent", SiteID: "s9"}) {
		t.Errorf("agent token principal = %+v (an agent must carry no role)", p)
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(GenerateToken().Plain)
	f.Add("rw_000000000000_" + strings.Repeat("a", 52))
	f.Add("rw__")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		prefix, hash, err := ParseToken(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("error %v is not ErrMalformedToken", err)
			}
			return
		}
		if !tokenFormat.MatchString(s) || len(hash) != sha256.Size || s[3:15] != prefix {
			t.Fatalf("accepted %q (prefix %q, hash %d bytes)", s, prefix, len(hash))
		}
	})
}

// BenchmarkVerifyToken measures what a bearer request costs auth besides
// the store lookup: parsing, hashing and the constant-time compare.
func BenchmarkVerifyToken(b *testing.B) {
	tok := GenerateToken()
	rec := TokenRecord{Prefix: tok.Prefix, Hash: tok.Hash, Role: RoleViewer}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, hash, err := ParseToken(tok.Plain)
		if err != nil {
			b.Fatal(err)
		}
		if err := checkToken(rec, hash, now); err != nil {
			b.Fatal(err)
		}
	}
}
