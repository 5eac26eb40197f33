// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestPrefixKeys(t *testing.T) {
	tests := []struct {
		name   string
		p      netip.Prefix
		lo, hi string
	}{
		{"IPv4 /24", netip.MustParsePrefix("192.0.2.0/24"), "00000000000000000000ffffc0000200", "00000000000000000000ffffc00002ff"},
		{"IPv4 /0 is the IPv4 space only", netip.MustParsePrefix("0.0.0.0/0"), "00000000000000000000ffff00000000", "00000000000000000000ffffffffffff"},
		{"IPv4 /32", netip.MustParsePrefix("198.51.100.7/32"), "00000000000000000000ffffc6336407", "00000000000000000000ffffc6336407"},
		{"IPv6 /32", netip.MustParsePrefix("2001:db8::/32"), "20010db8000000000000000000000000", "20010db8ffffffffffffffffffffffff"},
		{"IPv6 /63", netip.MustParsePrefix("2001:db8:0:2::/63"), "20010db8000000020000000000000000", "20010db800000003ffffffffffffffff"},
		{"the zero prefix is everything", netip.Prefix{}, "00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, err := PrefixKeys(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(lo) != tc.lo || hex.EncodeToString(hi) != tc.hi {
				t.Errorf("PrefixKeys(%v) = %x, %x; want %s, %s", tc.p, lo, hi, tc.lo, tc.hi)
			}
			// Every address of the prefix is between, and the neighbours
			// outside.
			if tc.p.IsValid() {
				for _, a := range []netip.Addr{tc.p.Addr(), tc.p.Addr().Next()} {
					k := AddrKey(a)
					if tc.p.Contains(a) && (bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) > 0) {
						t.Errorf("%v in %v has key %x outside", a, tc.p, k)
					}
				}
				if prev := tc.p.Addr().Prev(); prev.IsValid() && bytes.Compare(AddrKey(prev), lo) >= 0 {
					t.Errorf("%v before %v has key %x inside", prev, tc.p, AddrKey(prev))
				}
			}
		})
	}
	if _, _, err := PrefixKeys(netip.PrefixFrom(netip.MustParseAddr("192.0.2.0"), 33)); !errors.Is(err, ErrInvalid) {
		t.Errorf("an invalid prefix: %v, want ErrInvalid", err)
	}
}

func TestAddrKeyRoundTrip(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "::", "0.0.0.0"} {
		a := netip.MustParseAddr(s)
		got, err := AddrFromKey(AddrKey(a))
		if err != nil || got != a.Unmap() {
			t.Errorf("AddrFromKey(AddrKey(%v)) = %v, %v; want %v", a, got, err, a.Unmap())
		}
	}
	if _, err := AddrFromKey([]byte{1, 2, 3, 4}); err == nil {
		t.Error("a 4-byte key was read")
	}
}

func TestLoginKey(t *testing.T) {
	for in, want := range map[string]string{"Alice": "alice", "BOB-2": "bob-2", "Ünal": "Ünal", "ops@EXAMPLE.org": "ops@example.org"} {
		if got := LoginKey(in); got != want {
			t.Errorf("LoginKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckPasswordHash(t *testing.T) {
	tests := []struct {
		name string
		h    string
		ok   bool
	}{
		{"argon2id", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", true},
		{"a password", "correct horse battery staple", false},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", false},
		{"a NUL", "$argon2id$v=19\x00", false},
		{"non-ASCII", "$argon2id$v=19$ü", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPasswordHash(tc.h)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckPasswordHash = %v, want ok %v", err, tc.ok)
			}
			if err != nil && tc.h != "" && bytes.Contains([]byte(err.Error()), []byte(tc.h)) {
				t.Errorf("the error %q repeats the value", err)
			}
		})
	}
}

func TestContextAudit(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC) }
	if _, ok, err := ContextAudit(context.Background(), "acme", now); ok || err != nil {
		t.Errorf("no entry: ok %v, %v", ok, err)
	}
	ctx := WithAudit(context.Background(), AuditEntry{Actor: "user 1 a", Action: "site.put"})
	e, ok, err := ContextAudit(ctx, "acme", now)
	if !ok || err != nil || e.OrgID != "acme" || !e.At.Equal(Timestamp(now())) {
		t.Errorf("ContextAudit = %+v, %v, %v", e, ok, err)
	}
	ctx = WithAudit(context.Background(), AuditEntry{OrgID: "other", Actor: "a", Action: "b"})
	if _, _, err := ContextAudit(ctx, "acme", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("another organisation's entry: %v, want ErrInvalid", err)
	}
}
