// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters and the sizes of a hash.
type Params struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the parallelism (lanes).
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are RFC 9106's second recommended option (§4: 64 MiB,
// 3 passes, 4 lanes, 128-bit salt, 256-bit tag), stronger than OWASP's
// minimum (19 MiB, 2 passes, 1 lane). On the 2-core development machine
// one hash took 52 ms idle and 58-120 ms while other builds ran
// (BenchmarkHashPassword; 100 ms idle with one lane; OWASP's minimum took
// 20 ms): a cost a login can pay and a guesser cannot. With the hash
// concurrency bounded to two (Hasher), a login flood holds at most
// 128 MiB.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// minParams is OWASP's minimum for argon2id (Password Storage Cheat
// Sheet: m=19456 KiB, t=2, p=1); NewHasher refuses anything weaker so no
// configuration creates weak new hashes. Stored hashes below it still
// verify, and NeedsRehash upgrades them at the next login.
var minParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on a stored hash's parameters. A hash comes from the store,
// which an attacker may have written to (a restored backup, an import,
// SQL injection elsewhere): verifying it must not allocate gigabytes or
// spin for minutes. The worst hash these allow costs 256 MiB and about a
// second and a half, and Hasher runs at most two at once.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 10
	maxThreads = 16
	minSalt    = 8 // RFC 9106 §3.1: at least 8 bytes; we generate 16
	maxSalt    = 64
	minKey     = 16 // shorter tags collide too easily; we generate 32
	maxKey     = 64
	// maxPHCLen bounds the string before any parsing: a 64-byte salt and
	// a 64-byte tag in base64 with the largest parameters fit in 200.
	maxPHCLen = 256
)

// ErrMalformedHash is returned (wrapped, with the reason) for a stored
// password hash that is not an argon2id PHC string within the bounds.
var ErrMalformedHash = errors.New("malformed password hash")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
}

// argonVersion is the only version produced since 2016 (0x13).
const argonVersion = argon2.Version

// phcB64 is the PHC string format's base64: standard alphabet, no
// padding, strict (no stray bits, so each hash has one spelling).
var phcB64 = base64.RawStdEncoding.Strict()

// encodePHC writes the PHC string of a hash.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonVersion, p.Memory, p.Time, p.Threads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}

// ParsePHC parses an argon2id PHC string
// ($argon2id$v=19$m=M,t=T,p=P$salt$hash) strictly: the fields in that
// order, decimal numbers without sign or leading zero, canonical
// unpadded base64, and every parameter within the bounds above. The
// returned Params carry the salt's and hash's lengths.
func ParsePHC(s string) (p Params, salt, key []byte, err error) {
	if len(s) > maxPHCLen {
		return Params{}, nil, nil, malformed("longer than %d bytes", maxPHCLen)
	}
	parts := strings.Split(s, "$")
	// "" argon2id v=19 m=..,t=..,p=.. salt hash
	if len(parts) != 6 || parts[0] != "" {
		return Params{}, nil, nil, malformed("want $argon2id$v=19$m=M,t=T,p=P$salt$hash")
	}
	if parts[1] != "argon2id" {
		return Params{}, nil, nil, malformed("algorithm %q is not argon2id", truncate(parts[1]))
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return Params{}, nil, nil, malformed("no version field")
	}
	if n, err := phcUint(v, 0xff); err != nil || n != argonVersion {
		return Params{}, nil, nil, malformed("version %q is not %d", truncate(v), argonVersion)
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return Params{}, nil, nil, malformed("want the parameters m, t and p, in that order")
	}
	var vals [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		raw, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return Params{}, nil, nil, malformed("want the parameters m, t and p, in that order")
		}
		n, err := phcUint(raw, 1<<32-1)
		if err != nil {
			return Params{}, nil, nil, malformed("parameter %s: %v", name, err)
		}
		vals[i] = uint32(n)
	}
	p = Params{Memory: vals[0], Time: vals[1]}
	switch {
	case vals[2] < 1 || vals[2] > maxThreads:
		return Params{}, nil, nil, malformed("p=%d outside 1..%d", vals[2], maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return Params{}, nil, nil, malformed("t=%d outside 1..%d", p.Time, maxTime)
	case p.Memory > maxMemory:
		return Params{}, nil, nil, malformed("m=%d above %d KiB", p.Memory, maxMemory)
	case p.Memory < 8*vals[2]:
		// argon2 needs 8 KiB per lane (RFC 9106 §3.1).
		return Params{}, nil, nil, malformed("m=%d below 8 KiB per lane", p.Memory)
	}
	p.Threads = uint8(vals[2])
	salt, err = phcDecode(parts[4])
	if err != nil {
		return Params{}, nil, nil, malformed("salt is not unpadded base64")
	}
	if len(salt) < minSalt || len(salt) > maxSalt {
		return Params{}, nil, nil, malformed("salt of %d bytes outside %d..%d", len(salt), minSalt, maxSalt)
	}
	key, err = phcDecode(parts[5])
	if err != nil {
		return Params{}, nil, nil, malformed("hash is not unpadded base64")
	}
	if len(key) < minKey || len(key) > maxKey {
		return Params{}, nil, nil, malformed("hash of %d bytes outside %d..%d", len(key), minKey, maxKey)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// phcDecode decodes the PHC base64 of a salt or hash. encoding/base64
// skips \r and \n even when strict, which would give one hash many
// spellings (found by FuzzParsePHC), so only the alphabet is allowed.
func phcDecode(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, errors.New("not base64")
		}
	}
	return phcB64.DecodeString(s)
}

// phcUint parses a PHC decimal: digits only, no leading zero, at most max.
func phcUint(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 10 {
		return 0, errors.New("not a number of at most 10 digits")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, errors.New("too large")
	}
	return n, nil
}

// truncate keeps an attacker-chosen string short in an error.
func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// keyFunc is argon2.IDKey's signature; tests inject a counting one.
type keyFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies passwords with one set of parameters. Its
// methods are safe for concurrent use. At most a few hashes run at once
// (the rest wait, or give up when their context ends), which bounds the
// memory a login flood can take.
type Hasher struct {
	params Params
	key    keyFunc
	// sem holds a slot per running hash.
	sem chan struct{}

	dummyOnce sync.Once
	dummy     string // a hash of a random password, for unknown users
}

// NewHasher returns a Hasher creating hashes with p, refusing parameters
// weaker than OWASP's minimum or outside the bounds a stored hash may
// have.
func NewHasher(p Params) (*Hasher, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return newHasher(p, argon2.IDKey), nil
}

// newHasher skips the strength check: tests use it with tiny parameters
// and a counting key function.
func newHasher(p Params, key keyFunc) *Hasher {
	n := min(runtime.GOMAXPROCS(0), 2)
	return &Hasher{params: p, key: key, sem: make(chan struct{}, n)}
}

func (p Params) check() error {
	switch {
	case p.Memory < minParams.Memory || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB outside %d..%d", p.Memory, minParams.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("argon2id parallelism %d outside 1..%d", p.Threads, maxThreads)
	case p.Time < minParams.Time && p.Memory < 47104:
		// OWASP: one pass needs at least 46 MiB to match m=19 MiB, t=2.
		return fmt.Errorf("argon2id with %d pass(es) needs at least 47104 KiB", p.Time)
	case p.SaltLen < minParams.SaltLen || p.SaltLen > maxSalt:
		return fmt.Errorf("salt length %d outside %d..%d", p.SaltLen, minParams.SaltLen, maxSalt)
	case p.KeyLen < minParams.KeyLen || p.KeyLen > maxKey:
		return fmt.Errorf("hash length %d outside %d..%d", p.KeyLen, minParams.KeyLen, maxKey)
	}
	return nil
}

// Params returns the parameters new hashes get.
func (h *Hasher) Params() Params { return h.params }

func (h *Hasher) run(ctx context.Context, password, salt []byte, p Params) ([]byte, error) {
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	return h.key(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// Hash returns the PHC string of password with a new random salt. It
// does not apply the password policy: see [CheckNewPassword].
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key, err := h.run(ctx, []byte(password), salt, h.params)
	if err != nil {
		return "", err
	}
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, comparing
// in constant time. An error means the hash itself is unusable
// (ErrMalformedHash) or ctx ended; a wrong password is (false, nil).
func (h *Hasher) Verify(ctx context.Context, password, phc string) (bool, error) {
	p, salt, want, err := ParsePHC(phc)
	if err != nil {
		return false, err
	}
	got, err := h.run(ctx, []byte(password), salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether phc was made with other parameters than
// the ones h makes now (or cannot be parsed): after a successful login the
// caller stores a new hash of the password it just verified.
func (h *Hasher) NeedsRehash(phc string) bool {
	p, _, _, err := ParsePHC(phc)
	return err != nil || p != h.params
}

// verifyDummy spends the same work as verifying a real password, against
// a hash of a random password made once with the current parameters, so
// an unknown login name takes as long as a wrong password.
func (h *Hasher) verifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		rand.Read(salt)
		// The dummy's own hash never needs to be a real argon2 output:
		// it is compared with, never matched (a random 32-byte tag).
		key := make([]byte, h.params.KeyLen)
		rand.Read(key)
		h.dummy = encodePHC(h.params, salt, key)
	})
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}
