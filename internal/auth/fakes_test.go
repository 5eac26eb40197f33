// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// fakeStore implements Users, Tokens, Sessions and AuditLog with maps and
// counts the writes the tests care about.
type fakeStore struct {
	mu       sync.Mutex
	users    map[string]UserRecord // by ID
	tokens   map[string]TokenRecord
	sessions map[string]SessionRecord // by string(hash)
	audit    []AuditEntry
	fail     error // returned by every read when set
	touchErr error // returned by TouchToken when set

	tokenTouches, sessionTouches, logins, rehashes int
}

func newFakeStore() *fakeStore {
	return &fakeStore{users: map[string]UserRecord{}, tokens: map[string]TokenRecord{}, sessions: map[string]SessionRecord{}}
}

func (f *fakeStore) UserByName(_ context.Context, name string) (UserRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return UserRecord{}, f.fail
	}
	for _, u := range f.users {
		if u.Name == name {
			return u, nil
		}
	}
	return UserRecord{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
}

func (f *fakeStore) UserByID(_ context.Context, id string) (UserRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return UserRecord{}, f.fail
	}
	u, ok := f.users[id]
	if !ok {
		return UserRecord{}, ErrNotFound
	}
	return u, nil
}

func (f *fakeStore) SetPasswordHash(_ context.Context, id, phc string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return ErrNotFound
	}
	u.PasswordHash = phc
	f.users[id] = u
	f.rehashes++
	return nil
}

func (f *fakeStore) RecordLogin(context.Context, string, time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	return nil
}

func (f *fakeStore) TokenByPrefix(_ context.Context, prefix string) (TokenRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return TokenRecord{}, f.fail
	}
	for _, t := range f.tokens {
		if t.Prefix == prefix {
			return t, nil
		}
	}
	return TokenRecord{}, ErrNotFound
}

func (f *fakeStore) TouchToken(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.touchErr != nil {
		return f.touchErr
	}
	t := f.tokens[id]
	t.LastUsed = at
	f.tokens[id] = t
	f.tokenTouches++
	return nil
}

func (f *fakeStore) CreateSession(_ context.Context, s SessionRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[string(s.Hash)] = s
	return nil
}

func (f *fakeStore) SessionByHash(_ context.Context, h []byte) (SessionRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return SessionRecord{}, f.fail
	}
	s, ok := f.sessions[string(h)]
	if !ok {
		return SessionRecord{}, ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) TouchSession(_ context.Context, h []byte, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[string(h)]
	if !ok {
		return ErrNotFound
	}
	s.LastSeen = at
	f.sessions[string(h)] = s
	f.sessionTouches++
	return nil
}

func (f *fakeStore) DeleteSession(_ context.Context, h []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, string(h))
	return nil
}

func (f *fakeStore) DeleteUserSessions(_ context.Context, userID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, s := range f.sessions {
		if s.UserID == userID {
			delete(f.sessions, k)
		}
	}
	return nil
}

func (f *fakeStore) AppendAudit(_ context.Context, e AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, e)
	return nil
}

func (f *fakeStore) sessionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tinyParams make argon2 fast for tests that count hashes, not time them.
var tinyParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// countingHasher returns a Hasher with tiny parameters that counts how
// often argon2 ran.
func countingHasher() (*Hasher, *atomic.Int64) {
	n := new(atomic.Int64)
	h := newHasher(tinyParams, func(pw, salt []byte, t, m uint32, p uint8, k uint32) []byte {
		n.Add(1)
		return argon2.IDKey(pw, salt, t, m, p, k)
	})
	return h, n
}

// testEnv is an Authenticator over a fake store with a fake clock.
type testEnv struct {
	a      *Authenticator
	store  *fakeStore
	clock  *fakeClock
	hashes *atomic.Int64
}

const (
	testPassword = "correct horse battery staple"
	testOrigin   = "https://rw.example.org"
	testHost     = "rw.example.org"
)

func newTestEnv(t *testing.T, mod ...func(*Config)) *testEnv {
	t.Helper()
	st := newFakeStore()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	h, n := countingHasher()
	cfg := Config{
		Users: st, Tokens: st, Sessions: st, Audit: st,
		Hasher: h, Now: clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{a: a, store: st, clock: clock, hashes: n}
	for _, u := range []UserRecord{
		{ID: "u-admin", OrgID: "org-a", Name: "alice", Role: RoleAdmin},
		{ID: "u-op", OrgID: "org-a", Name: "oscar", Role: RoleOperator},
		{ID: "u-view", OrgID: "org-a", Name: "victor", Role: RoleViewer},
		{ID: "u-b", OrgID: "org-b", Name: "bob", Role: RoleAdmin},
		{ID: "u-off", OrgID: "org-a", Name: "olga", Role: RoleAdmin, Disabled: true},
	} {
		phc, err := h.Hash(t.Context(), testPassword)
		if err != nil {
			t.Fatal(err)
		}
		u.PasswordHash = phc
		st.users[u.ID] = u
	}
	n.Store(0)
	return env
}

// addToken stores a token and returns its plain text.
func (e *testEnv) addToken(rec TokenRecord) string {
	tok := GenerateToken()
	rec.Prefix, rec.Hash = tok.Prefix, tok.Hash
	e.store.mu.Lock()
	e.store.tokens[rec.ID] = rec
	e.store.mu.Unlock()
	return tok.Plain
}

var errStoreDown = errors.New("store unavailable")
