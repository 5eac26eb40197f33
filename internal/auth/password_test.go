// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"
)

// A real hash of "password" with m=64, t=1, p=1 (computed with
// argon2.IDKey; reproduced in TestParsePHCKnownHash).
func validPHC(t *testing.T) string {
	t.Helper()
	h := newHasher(tinyParams, argon2.IDKey)
	s, err := h.Hash(t.Context(), "password")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParsePHC(t *testing.T) {
	const salt = "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	const key = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI" // 32 bytes
	tests := []struct {
		name    string
		in      string
		wantErr string // "" for valid
		want    Params
	}{
		{name: "default_params", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key,
			want: Params{Memory: 65536, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}},
		{name: "owasp_minimum", in: "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
			want: Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{name: "empty", in: "", wantErr: "want $argon2id"},
		{name: "argon2i_refused", in: "$argon2i$v=19$m=65536,t=3,p=4$" + salt + "$" + key, wantErr: "not argon2id"},
		{name: "bcrypt_refused", in: "$2a$10$abcdefghijklmnopqrstuu5MvXy0", wantErr: "want $argon2id"},
		{name: "old_version_refused", in: "$argon2id$v=16$m=65536,t=3,p=4$" + salt + "$" + key, wantErr: "version"},
		{name: "missing_version", in: "$argon2id$m=65536,t=3,p=4$" + salt + "$" + key, wantErr: "want $argon2id"},
		{name: "params_out_of_order", in: "$argon2id$v=19$t=3,m=65536,p=4$" + salt + "$" + key, wantErr: "in that order"},
		{name: "extra_param", in: "$argon2id$v=19$m=65536,t=3,p=4,keyid=x$" + salt + "$" + key, wantErr: "in that order"},
		{name: "leading_zero", in: "$argon2id$v=19$m=065536,t=3,p=4$" + salt + "$" + key, wantErr: "leading zero"},
		{name: "negative", in: "$argon2id$v=19$m=-1,t=3,p=4$" + salt + "$" + key, wantErr: "decimal"},
		{name: "plus_sign", in: "$argon2id$v=19$m=+65536,t=3,p=4$" + salt + "$" + key, wantErr: "decimal"},
		{name: "memory_4GiB_refused", in: "$argon2id$v=19$m=4194304,t=3,p=4$" + salt + "$" + key, wantErr: "m=4194304 above"},
		{name: "memory_overflow_refused", in: "$argon2id$v=19$m=99999999999,t=3,p=4$" + salt + "$" + key, wantErr: "at most 10 digits"},
		{name: "memory_above_uint32", in: "$argon2id$v=19$m=4294967296,t=3,p=4$" + salt + "$" + key, wantErr: "too large"},
		{name: "time_1000_refused", in: "$argon2id$v=19$m=65536,t=1000,p=4$" + salt + "$" + key, wantErr: "t=1000 outside"},
		{name: "time_zero_refused", in: "$argon2id$v=19$m=65536,t=0,p=4$" + salt + "$" + key, wantErr: "t=0 outside"},
		{name: "threads_255_refused", in: "$argon2id$v=19$m=65536,t=3,p=255$" + salt + "$" + key, wantErr: "p=255 outside"},
		{name: "threads_zero_refused", in: "$argon2id$v=19$m=65536,t=3,p=0$" + salt + "$" + key, wantErr: "p=0 outside"},
		{name: "memory_below_8_per_lane", in: "$argon2id$v=19$m=16,t=3,p=4$" + salt + "$" + key, wantErr: "8 KiB per lane"},
		{name: "padded_base64_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "==$" + key, wantErr: "salt is not unpadded base64"},
		{name: "url_base64_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + strings.Replace(key, "M", "_", 1), wantErr: "hash is not unpadded base64"},
		{name: "newline_in_hash_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key[:10] + "\n" + key[10:], wantErr: "hash is not unpadded base64"},
		{name: "carriage_return_in_salt_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt[:4] + "\r" + salt[4:] + "$" + key, wantErr: "salt is not unpadded base64"},
		{name: "short_salt_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + key, wantErr: "salt of 4 bytes"},
		{name: "short_hash_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$MTIzNDU2Nzg", wantErr: "hash of 8 bytes"},
		{name: "trailing_field_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + key + "$", wantErr: "want $argon2id"},
		{name: "overlong_refused", in: "$argon2id$v=19$m=65536,t=3,p=4$" + strings.Repeat("A", 300) + "$" + key, wantErr: "longer than 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, salt, key, err := ParsePHC(tc.in)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformedHash) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePHC error = %v, want ErrMalformedHash containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p != tc.want || len(salt) != int(p.SaltLen) || len(key) != int(p.KeyLen) {
				t.Errorf("ParsePHC = %+v (salt %d, key %d), want %+v", p, len(salt), len(key), tc.want)
			}
			if got := encodePHC(p, salt, key); got != tc.in {
				t.Errorf("round trip = %q, want %q", got, tc.in)
			}
		})
	}
}

// TestAbsurdHashNeverHashed checks that an attacker-written hash with
// gigabytes of memory is refused before argon2 runs.
func TestAbsurdHashNeverHashed(t *testing.T) {
	var calls atomic.Int64
	h := newHasher(tinyParams, func(pw, salt []byte, tm, m uint32, p uint8, k uint32) []byte {
		calls.Add(1)
		return make([]byte, k)
	})
	for _, phc := range []string{
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI",
		"$argon2id$v=19$m=65536,t=4294967295,p=1$c2FsdHNhbHRzYWx0c2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI",
	} {
		ok, err := h.Verify(t.Context(), "x", phc)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformedHash", phc, ok, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("argon2 ran %d times on refused hashes", n)
	}
}

func TestHashAndVerify(t *testing.T) {
	h := newHasher(tinyParams, argon2.IDKey)
	a, err := h.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash(t.Context(), testPassword)
	if a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not in the PHC format with the hasher's parameters", a)
	}
	tests := []struct {
		name     string
		password string
		expected bool
	}{
		{name: "right_password", password: testPassword, expected: true},
		{name: "wrong_password", password: testPassword + "!", expected: false},
		{name: "empty_password", password: "", expected: false},
		{name: "case_matters", password: strings.ToUpper(testPassword), expected: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(t.Context(), tc.password, a)
			if err != nil || ok != tc.expected {
				t.Errorf("Verify = %v, %v; want %v", ok, err, tc.expected)
			}
		})
	}
}

// TestParsePHCKnownHash verifies a hash made independently (argon2.IDKey
// called directly), so Hash and ParsePHC cannot agree on a wrong format.
func TestParsePHCKnownHash(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("pw"), salt, 1, 64, 1, 32)
	phc := "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + phcB64.EncodeToString(key)
	ok, err := newHasher(tinyParams, argon2.IDKey).Verify(t.Context(), "pw", phc)
	if err != nil || !ok {
		t.Fatalf("Verify of an independently made hash = %v, %v", ok, err)
	}
}

func TestNeedsRehash(t *testing.T) {
	h := newHasher(tinyParams, argon2.IDKey)
	cur := validPHC(t)
	stronger := tinyParams
	stronger.Time = 2
	tests := []struct {
		name     string
		hasher   *Hasher
		phc      string
		expected bool
	}{
		{name: "same_params", hasher: h, phc: cur, expected: false},
		{name: "params_changed", hasher: newHasher(stronger, argon2.IDKey), phc: cur, expected: true},
		{name: "malformed", hasher: h, phc: "$argon2id$nonsense", expected: true},
		{name: "default_params_vs_tiny", hasher: newHasher(DefaultParams, argon2.IDKey), phc: cur, expected: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.hasher.NeedsRehash(tc.phc); got != tc.expected {
				t.Errorf("NeedsRehash = %v, want %v", got, tc.expected)
			}
		})
	}
}

func TestNewHasherParams(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		wantErr bool
	}{
		{name: "default", p: DefaultParams},
		{name: "owasp_m19_t2", p: Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{name: "owasp_m46_t1", p: Params{Memory: 47104, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{name: "too_little_memory", p: Params{Memory: 8192, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: true},
		{name: "one_pass_m19", p: Params{Memory: 19456, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: true},
		{name: "too_much_memory", p: Params{Memory: 1 << 20, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, wantErr: true},
		{name: "short_salt", p: Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, wantErr: true},
		{name: "short_key", p: Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}, wantErr: true},
		{name: "zero_threads", p: Params{Memory: 19456, Time: 2, Threads: 0, SaltLen: 16, KeyLen: 32}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHasher(tc.p)
			if (err != nil) != tc.wantErr {
				t.Errorf("NewHasher(%+v) error = %v, want error %v", tc.p, err, tc.wantErr)
			}
		})
	}
}

// TestHashConcurrencyBounded checks that no more than the semaphore's
// hashes run at once (the memory bound under a login flood), and that a
// waiting hash gives up when its context ends.
func TestHashConcurrencyBounded(t *testing.T) {
	var running, peak atomic.Int64
	release := make(chan struct{})
	h := newHasher(tinyParams, func(pw, salt []byte, tm, m uint32, p uint8, k uint32) []byte {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return make([]byte, k)
	})
	slots := cap(h.sem)
	done := make(chan error)
	for range slots + 3 {
		go func() { _, err := h.Hash(t.Context(), "x"); done <- err }()
	}
	// A hash with an ended context never runs.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for running.Load() < int64(slots) {
		runtime.Gosched() // wait until the slots are taken
	}
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with an ended context = %v, want context.Canceled", err)
	}
	close(release)
	for range slots + 3 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p > int64(slots) || slots > 2 {
		t.Errorf("peak %d concurrent hashes with %d slots; want at most 2", p, slots)
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng")
	f.Add("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$MTIzNDU2Nzg5MDEyMzQ1Ng")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := ParsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v is not ErrMalformedHash", err)
			}
			return
		}
		if p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
			p.Memory < 8*uint32(p.Threads) || len(salt) < minSalt || len(salt) > maxSalt || len(key) < minKey || len(key) > maxKey {
			t.Fatalf("accepted parameters out of bounds: %+v salt %d key %d", p, len(salt), len(key))
		}
		// One spelling per hash: what parses re-encodes to itself.
		if got := encodePHC(p, salt, key); got != s {
			t.Fatalf("accepted a non-canonical spelling %q (canonical %q)", s, got)
		}
	})
}

// BenchmarkHashPassword measures one argon2id hash with DefaultParams:
// the cost of a login on this machine.
func BenchmarkHashPassword(b *testing.B) {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Hash(b.Context(), testPassword); err != nil {
			b.Fatal(err)
		}
	}
}
