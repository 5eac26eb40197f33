// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config is what an Authenticator needs. Users, Tokens, Sessions and
// Audit are required; the rest have defaults.
type Config struct {
	Users    Users
	Tokens   Tokens
	Sessions Sessions
	Audit    AuditLog

	// Hasher nil means DefaultParams.
	Hasher *Hasher
	// Limiter nil means NewLimiter(DefaultLimiterSize, DefaultNamePolicy,
	// DefaultAddrPolicy).
	Limiter *Limiter
	// IdleTimeout and Lifetime zero mean DefaultIdleTimeout and
	// DefaultLifetime.
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// TrustedOrigins are origins ("https://rw.example.org") allowed to
	// send state-changing requests besides the request's own origin, for
	// a server behind a proxy that changes the Host.
	TrustedOrigins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; nil believes nobody.
	TrustedProxies []netip.Prefix
	// Unauthorized, if set, writes the 401 answer (a login page or a
	// redirect) after the WWW-Authenticate header is set; nil writes a
	// short text.
	Unauthorized http.Handler
	// Now nil means time.Now.
	Now func() time.Time
	// Logger receives warnings about best-effort writes (LastUsed,
	// LastSeen, rehashes) that failed; nil discards them. Nothing secret
	// is ever passed to it.
	Logger *slog.Logger
}

// Authenticator authenticates requests and logs users in. Its methods are
// safe for concurrent use.
type Authenticator struct {
	users    Users
	tokens   Tokens
	sessions Sessions
	audit    AuditLog
	hasher   *Hasher
	limiter  *Limiter

	idle, lifetime time.Duration
	origins        map[string]bool // normalised trusted origins
	proxies        []netip.Prefix
	cop            *http.CrossOriginProtection
	unauthorized   http.Handler
	now            func() time.Time
	log            *slog.Logger

	touchMu sync.Mutex           // guards following
	touched map[string]time.Time // key → last touch written by this process
}

// New checks cfg and returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Users == nil || cfg.Tokens == nil || cfg.Sessions == nil || cfg.Audit == nil {
		return nil, errors.New("auth: Users, Tokens, Sessions and Audit are required")
	}
	a := &Authenticator{
		users: cfg.Users, tokens: cfg.Tokens, sessions: cfg.Sessions, audit: cfg.Audit,
		hasher: cfg.Hasher, limiter: cfg.Limiter,
		idle: cfg.IdleTimeout, lifetime: cfg.Lifetime,
		origins: map[string]bool{}, proxies: cfg.TrustedProxies,
		cop: http.NewCrossOriginProtection(), unauthorized: cfg.Unauthorized,
		now: cfg.Now, log: cfg.Logger, touched: map[string]time.Time{},
	}
	if a.hasher == nil {
		h, err := NewHasher(DefaultParams)
		if err != nil {
			return nil, err
		}
		a.hasher = h
	}
	if a.limiter == nil {
		a.limiter = NewLimiter(DefaultLimiterSize, DefaultNamePolicy, DefaultAddrPolicy)
	}
	if a.idle <= 0 {
		a.idle = DefaultIdleTimeout
	}
	if a.lifetime <= 0 {
		a.lifetime = DefaultLifetime
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range cfg.TrustedOrigins {
		n, err := normaliseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted origin %q: %w", o, err)
		}
		if err := a.cop.AddTrustedOrigin(n); err != nil {
			return nil, fmt.Errorf("auth: trusted origin %q: %w", o, err)
		}
		a.origins[n] = true
	}
	// The default deny handler answers 403; we call Check ourselves.
	return a, nil
}

// Hasher returns the password hasher (for creating users).
func (a *Authenticator) Hasher() *Hasher { return a.hasher }

// The CSRF token's places in a request: a header (htmx sends it with
// hx-headers) or a form field.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// ErrCrossOrigin is the refusal of a state-changing browser request that
// fails the Origin/Referer check.
var ErrCrossOrigin = errors.New("cross-origin request refused")

// ErrCSRF is the refusal of a state-changing session request without the
// session's CSRF token.
var ErrCSRF = errors.New("missing or wrong CSRF token")

// authFailure is a 401: no credentials, or credentials that do not work.
type authFailure struct {
	reason error
	// token says a bearer token was presented (RFC 6750 error code).
	token bool
	// clearCookie says the session cookie should be deleted.
	clearCookie bool
}

func (e *authFailure) Error() string { return "authentication failed: " + e.reason.Error() }
func (e *authFailure) Unwrap() error { return e.reason }

// errNoCredentials is a request with neither a bearer token nor a session.
var errNoCredentials = errors.New("no credentials")

// Authenticate is the middleware every route but the login page and the
// public ones goes through. It accepts a bearer API token in
// Authorization (which then decides alone: a wrong token is a 401 even if
// a session cookie would do) or the session cookie. A session's
// state-changing request (anything but GET, HEAD and OPTIONS) must also
// pass CheckOrigin and carry the session's CSRF token, or gets 403.
// Bearer requests need no CSRF token: browsers never add the header on
// their own. The principal goes into the request's context.
func (a *Authenticator) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, sid, err := a.authenticate(r)
		var af *authFailure
		switch {
		case errors.As(err, &af):
			a.writeUnauthorized(w, r, af)
			return
		case err != nil:
			http.Error(w, "authentication unavailable", http.StatusInternalServerError)
			return
		}
		ctx := WithPrincipal(r.Context(), p)
		if sid != nil {
			if !safeMethod(r.Method) {
				if err := a.checkCSRF(r, *sid); err != nil {
					notePrincipal(r.Context(), p)
					http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
					return
				}
			}
			ctx = context.WithValue(ctx, csrfKey{}, sid.csrfToken())
		}
		notePrincipal(r.Context(), p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *Authenticator) writeUnauthorized(w http.ResponseWriter, r *http.Request, af *authFailure) {
	challenge := `Bearer realm="routerwatch"`
	if af.token {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if af.clearCookie {
		http.SetCookie(w, sessionCookie("", -1))
	}
	if a.unauthorized != nil {
		a.unauthorized.ServeHTTP(w, r)
		return
	}
	http.Error(w, "authentication required", http.StatusUnauthorized)
}

// authenticate returns the principal and, for a session, its ID.
func (a *Authenticator) authenticate(r *http.Request) (Principal, *sessionID, error) {
	if hs := r.Header.Values("Authorization"); len(hs) > 0 {
		p, err := a.bearer(r.Context(), hs)
		return p, nil, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Principal{}, nil, &authFailure{reason: errNoCredentials}
	}
	return a.session(r.Context(), c.Value)
}

func (a *Authenticator) bearer(ctx context.Context, hs []string) (Principal, error) {
	fail := func(err error) (Principal, error) { return Principal{}, &authFailure{reason: err, token: true} }
	if len(hs) != 1 {
		return fail(errors.New("more than one Authorization header"))
	}
	scheme, tok, ok := strings.Cut(hs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fail(errors.New("the Authorization header is not a Bearer token"))
	}
	prefix, hash, err := ParseToken(strings.TrimSpace(tok))
	if err != nil {
		return fail(err)
	}
	rec, err := a.tokens.TokenByPrefix(ctx, prefix)
	if errors.Is(err, ErrNotFound) {
		return fail(ErrTokenUnknown)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("looking up API token: %w", err)
	}
	now := a.now()
	if err := checkToken(rec, hash, now); err != nil {
		return fail(err)
	}
	a.touch("t:"+rec.ID, rec.LastUsed, now, func() error { return a.tokens.TouchToken(ctx, rec.ID, now) })
	return rec.principal(), nil
}

func (a *Authenticator) session(ctx context.Context, cookie string) (Principal, *sessionID, error) {
	fail := func(err error) (Principal, *sessionID, error) {
		return Principal{}, nil, &authFailure{reason: err, clearCookie: true}
	}
	id, err := parseSessionID(cookie)
	if err != nil {
		return fail(err)
	}
	h := id.hash()
	s, err := a.sessions.SessionByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return fail(errors.New("unknown session"))
	}
	if err != nil {
		return Principal{}, nil, fmt.Errorf("looking up session: %w", err)
	}
	now := a.now()
	if err := sessionState(s, now, a.idle, a.lifetime); err != nil {
		if derr := a.sessions.DeleteSession(ctx, h); derr != nil {
			a.log.Warn("deleting an expired session failed", "err", derr)
		}
		return fail(err)
	}
	// The user is read on every request, so a role change or a disabled
	// account takes effect at once.
	u, err := a.users.UserByID(ctx, s.UserID)
	if errors.Is(err, ErrNotFound) {
		return fail(errors.New("session of a deleted user"))
	}
	if err != nil {
		return Principal{}, nil, fmt.Errorf("looking up the session's user: %w", err)
	}
	if u.Disabled || u.OrgID != s.OrgID {
		return fail(errors.New("session of a disabled or moved user"))
	}
	a.touch("s:"+string(h), s.LastSeen, now, func() error { return a.sessions.TouchSession(ctx, h, now) })
	p := Principal{OrgID: u.OrgID, Kind: KindUser, ID: u.ID, Name: u.Name, Role: u.Role}
	return p, &id, nil
}

// touch writes a LastUsed/LastSeen at most once per touchInterval: the
// stored time says when the last write was, and a small per-process
// memory keeps concurrent requests from all writing at once.
func (a *Authenticator) touch(key string, last, now time.Time, write func() error) {
	if now.Sub(last) < touchInterval {
		return
	}
	a.touchMu.Lock()
	if t, ok := a.touched[key]; ok && now.Sub(t) < touchInterval {
		a.touchMu.Unlock()
		return
	}
	if len(a.touched) >= 10000 {
		clear(a.touched) // bounded memory; at worst one extra write each
	}
	a.touched[key] = now
	a.touchMu.Unlock()
	if err := write(); err != nil {
		a.log.Warn("recording the last use of a credential failed", "err", err)
	}
}

type csrfKey struct{}

// CSRFToken returns the CSRF token of the request's session, for pages to
// put in forms (field CSRFField) or in htmx's hx-headers (CSRFHeader);
// "" for bearer requests.
func CSRFToken(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey{}).(string)
	return s
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// maxFormMemory bounds what reading a multipart form for the CSRF field
// keeps in memory; the rest spills to temporary files as net/http does.
// The server bounds the body itself (http.MaxBytesReader).
const maxFormMemory = 1 << 20

func (a *Authenticator) checkCSRF(r *http.Request, id sessionID) error {
	if err := a.CheckOrigin(r); err != nil {
		return err
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "application/x-www-form-urlencoded":
			if r.ParseForm() == nil {
				got = r.PostForm.Get(CSRFField)
			}
		case "multipart/form-data":
			if r.ParseMultipartForm(maxFormMemory) == nil {
				got = r.PostFormValue(CSRFField)
			}
		}
	}
	if got == "" || !sameToken(got, id.csrfToken()) {
		return ErrCSRF
	}
	return nil
}

// CheckOrigin refuses a state-changing request that a browser sent from
// another origin. It runs net/http's CrossOriginProtection (the
// Sec-Fetch-Site header) and then requires an Origin header, or failing
// that a Referer, naming this server's own origin (scheme, host and port)
// or a trusted one: a request with neither is refused, as every browser
// sends Origin on a POST. Safe methods pass. Authenticate runs it for
// session requests and Login for logins; routes without a session that
// change state (none but the login, so far) call it themselves.
func (a *Authenticator) CheckOrigin(r *http.Request) error {
	if safeMethod(r.Method) {
		return nil
	}
	if err := a.cop.Check(r); err != nil {
		return fmt.Errorf("%w: %v", ErrCrossOrigin, err)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return fmt.Errorf("%w: no Origin or Referer header", ErrCrossOrigin)
		}
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("%w: unreadable Referer", ErrCrossOrigin)
		}
		origin = u.Scheme + "://" + u.Host
	}
	n, err := normaliseOrigin(origin)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCrossOrigin, err)
	}
	self, err := normaliseOrigin(a.scheme(r) + "://" + r.Host)
	if (err == nil && n == self) || a.origins[n] {
		return nil
	}
	return fmt.Errorf("%w: origin %s is not this server's", ErrCrossOrigin, n)
}

// normaliseOrigin returns scheme://host[:port] in lower case without a
// default port, or an error for anything else ("null" included).
func normaliseOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("not an http(s) origin")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// scheme is the scheme the browser used: https when the connection is
// TLS, or when a trusted proxy says so.
func (a *Authenticator) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if a.fromTrustedProxy(r) {
		if p := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto"))); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

func (a *Authenticator) trusted(ip netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *Authenticator) fromTrustedProxy(r *http.Request) bool {
	ip := peerAddr(r)
	return ip.IsValid() && a.trusted(ip)
}

// ClientAddr returns the address the request came from: the peer, or,
// when the peer is a trusted proxy, the right-most address in
// X-Forwarded-For that is not a trusted proxy (the left part of that
// header is whatever the client wrote). The zero Addr when unknown.
func (a *Authenticator) ClientAddr(r *http.Request) netip.Addr {
	ip := peerAddr(r)
	if !ip.IsValid() || !a.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip // an unreadable hop: stop at the last one we trust
		}
		ip = h.Unmap()
		if !a.trusted(ip) {
			return ip
		}
	}
	return ip
}

// ErrNeedsSession refuses a password change by anything but a logged-in
// user (an API token has no password).
var ErrNeedsSession = errors.New("changing a password needs a user's session")

// ErrBadCredentials is the one answer to an unknown login name, a wrong
// password, a disabled account or an unusable stored hash. Show only
// "wrong login name or password"; the wrapped detail is for server logs.
var ErrBadCredentials = errors.New("wrong login name or password")

// LimitedError is a refused login attempt: too many failures for the name
// or the address. The password was not looked at.
type LimitedError struct {
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many login attempts; try again in %d s", retrySeconds(e.RetryAfter))
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// maxLoginName bounds a login name looked up in the store.
const maxLoginName = 256

// Login checks a login form's name and password and, when they are right,
// starts a new session: any session the request carried is deleted first
// (no fixation), the new ID goes into the cookie, and the login is
// audited. Errors: ErrCrossOrigin (403: login CSRF), *LimitedError (429:
// the password was not checked), ErrBadCredentials (401), anything else
// a store failure (500). WriteLoginError answers each.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (Principal, error) {
	if err := a.CheckOrigin(r); err != nil {
		return Principal{}, err
	}
	ctx := r.Context()
	addr := a.ClientAddr(r)
	at, wait, ok := a.limiter.begin(name, addr, a.now())
	if !ok {
		return Principal{}, &LimitedError{RetryAfter: wait}
	}
	u, err := a.checkPassword(ctx, name, password)
	switch {
	case errors.Is(err, ErrBadCredentials):
		at.finish(failed)
		return Principal{}, err
	case err != nil:
		at.finish(noVerdict)
		return Principal{}, err
	}
	at.finish(succeeded)
	now := a.now()
	if a.hasher.NeedsRehash(u.PasswordHash) {
		if phc, err := a.hasher.Hash(ctx, password); err == nil {
			if err := a.users.SetPasswordHash(ctx, u.ID, phc); err != nil {
				a.log.Warn("storing a rehashed password failed", "user", u.ID, "err", err)
			}
		}
	}
	if err := a.users.RecordLogin(ctx, u.ID, now); err != nil {
		a.log.Warn("recording a login failed", "user", u.ID, "err", err)
	}
	p := Principal{OrgID: u.OrgID, Kind: KindUser, ID: u.ID, Name: u.Name, Role: u.Role}
	if err := a.startSession(w, r, u); err != nil {
		return Principal{}, err
	}
	a.auditBestEffort(ctx, p, addr, "session.login", "user:"+u.ID)
	return p, nil
}

// checkPassword returns the user when name and password match, and
// ErrBadCredentials (wrapping the detail) after the same argon2 work
// otherwise.
func (a *Authenticator) checkPassword(ctx context.Context, name, password string) (UserRecord, error) {
	if len(password) > MaxPasswordLen || len(name) > maxLoginName || name == "" {
		// No stored password is this long (the policy), and the
		// attacker knows the lengths already: no need to spend a hash.
		return UserRecord{}, fmt.Errorf("%w: name or password out of bounds", ErrBadCredentials)
	}
	u, err := a.users.UserByName(ctx, name)
	if errors.Is(err, ErrNotFound) {
		if err := a.hasher.verifyDummy(ctx, password); err != nil {
			return UserRecord{}, err
		}
		return UserRecord{}, fmt.Errorf("%w: unknown user", ErrBadCredentials)
	}
	if err != nil {
		return UserRecord{}, fmt.Errorf("looking up a user: %w", err)
	}
	return u, a.verifyUser(ctx, u, password)
}

// verifyUser checks password against u's stored hash; every refusal is
// ErrBadCredentials after one hash's work.
func (a *Authenticator) verifyUser(ctx context.Context, u UserRecord, password string) error {
	if len(password) > MaxPasswordLen {
		return fmt.Errorf("%w: password out of bounds", ErrBadCredentials)
	}
	ok, err := a.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrMalformedHash) {
		// Spend the work anyway, so a broken row does not answer faster.
		if derr := a.hasher.verifyDummy(ctx, password); derr != nil {
			return derr
		}
		return fmt.Errorf("%w: stored hash of user %s unusable: %w", ErrBadCredentials, u.ID, err)
	}
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: wrong password", ErrBadCredentials)
	}
	if u.Disabled {
		return fmt.Errorf("%w: account disabled", ErrBadCredentials)
	}
	return nil
}

// startSession deletes the request's session, if any, and starts a new
// one for u.
func (a *Authenticator) startSession(w http.ResponseWriter, r *http.Request, u UserRecord) error {
	ctx := r.Context()
	if c, err := r.Cookie(SessionCookie); err == nil {
		if old, err := parseSessionID(c.Value); err == nil {
			if err := a.sessions.DeleteSession(ctx, old.hash()); err != nil {
				return fmt.Errorf("deleting the previous session: %w", err)
			}
		}
	}
	now := a.now()
	id := newSessionID()
	rec := SessionRecord{
		Hash: id.hash(), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(a.lifetime),
		RemoteAddr: addrString(a.ClientAddr(r)),
	}
	if err := a.sessions.CreateSession(ctx, rec); err != nil {
		return fmt.Errorf("creating a session: %w", err)
	}
	// A session cookie (no Max-Age): the browser drops it on exit; the
	// server enforces the idle and absolute limits.
	http.SetCookie(w, sessionCookie(id.cookieValue(), 0))
	return nil
}

// Logout deletes the request's session and clears the cookie. Route it
// behind Authenticate, which checks the CSRF token of the POST.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, sessionCookie("", -1))
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	id, err := parseSessionID(c.Value)
	if err != nil {
		return nil
	}
	if err := a.sessions.DeleteSession(r.Context(), id.hash()); err != nil {
		return fmt.Errorf("deleting the session: %w", err)
	}
	if p, ok := PrincipalFrom(r.Context()); ok {
		a.auditBestEffort(r.Context(), p, a.ClientAddr(r), "session.logout", "user:"+p.ID)
	}
	return nil
}

// ChangePassword changes the logged-in user's password: current must be
// right (the attempt is rate limited like a login, as it is a way to guess
// it), next must pass the policy and differ from current. Every session
// of the user is ended and a new one started for this browser. Errors as
// Login's, plus the policy's.
func (a *Authenticator) ChangePassword(w http.ResponseWriter, r *http.Request, current, next string) error {
	p, ok := PrincipalFrom(r.Context())
	if !ok || p.Kind != KindUser {
		return ErrNeedsSession
	}
	if err := CheckNewPassword(p.Name, next); err != nil {
		return err
	}
	if current == next {
		return ErrPasswordUnchanged
	}
	ctx := r.Context()
	addr := a.ClientAddr(r)
	at, wait, ok := a.limiter.begin(p.Name, addr, a.now())
	if !ok {
		return &LimitedError{RetryAfter: wait}
	}
	// By ID: the session's user, whatever its login name is now.
	u, err := a.users.UserByID(ctx, p.ID)
	if err == nil {
		err = a.verifyUser(ctx, u, current)
	}
	switch {
	case errors.Is(err, ErrBadCredentials):
		at.finish(failed)
		return err
	case err != nil:
		at.finish(noVerdict)
		return err
	}
	at.finish(succeeded)
	phc, err := a.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := a.users.SetPasswordHash(ctx, u.ID, phc); err != nil {
		return fmt.Errorf("storing the new password hash: %w", err)
	}
	if err := a.sessions.DeleteUserSessions(ctx, u.ID); err != nil {
		return fmt.Errorf("ending the user's sessions: %w", err)
	}
	if err := a.startSession(w, r, u); err != nil {
		return err
	}
	return a.Audit(r, "user.password", "user:"+u.ID, "changed own password")
}

// HashNewPassword applies the policy to a password an admin sets for
// login and returns its hash, for creating a user or resetting a
// password (the caller then ends the user's sessions).
func (a *Authenticator) HashNewPassword(ctx context.Context, login, password string) (string, error) {
	if err := CheckNewPassword(login, password); err != nil {
		return "", err
	}
	return a.hasher.Hash(ctx, password)
}

// WriteLoginError answers a failed Login or ChangePassword with the
// status it calls for and a short text that reveals nothing (the same
// for an unknown name and a wrong password), and returns the status.
// A server that renders its own login page uses LoginStatus instead.
func WriteLoginError(w http.ResponseWriter, err error) int {
	status, msg := LoginStatus(err)
	var le *LimitedError
	if errors.As(err, &le) {
		w.Header().Set("Retry-After", fmt.Sprint(retrySeconds(le.RetryAfter)))
	}
	http.Error(w, msg, status)
	return status
}

// LoginStatus maps a Login error to its HTTP status and the text a person
// may see.
func LoginStatus(err error) (int, string) {
	var le *LimitedError
	switch {
	case errors.As(err, &le):
		return http.StatusTooManyRequests, le.Error()
	case errors.Is(err, ErrBadCredentials):
		return http.StatusUnauthorized, ErrBadCredentials.Error()
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden, "cross-origin request refused"
	case errors.Is(err, ErrNeedsSession):
		return http.StatusForbidden, ErrNeedsSession.Error()
	case errors.Is(err, ErrPasswordTooShort), errors.Is(err, ErrPasswordTooLong),
		errors.Is(err, ErrPasswordIsLogin), errors.Is(err, ErrPasswordNotUTF8),
		errors.Is(err, ErrPasswordHasCtrl), errors.Is(err, ErrPasswordUnchanged):
		return http.StatusBadRequest, err.Error()
	}
	return http.StatusInternalServerError, "login failed"
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
