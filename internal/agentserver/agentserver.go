// SPDX-License-Identifier: Apache-2.0

// Package agentserver is the server's agent endpoint: an http.Handler the
// server mounts at /api/v1/agent/ (agentapi.BasePath). Agents at the
// sites fetch their site's schedule from it and post their results to it
// (the protocol: internal/agentapi).
//
// The contract:
//
//   - Every request is authenticated (Authenticator; AuthPrincipal when
//     the handler is mounted behind internal/auth's middleware): the token
//     names the organisation and the site, and nothing in a message can
//     name another. Results are written through that organisation's
//     store.Tenant, under that site's devices only: its network
//     ("SITE/network"), its routers (the site's devices, by their own
//     IDs) and its agent's default gateway ("SITE/gateway"); a result that
//     names a device of another site is not kept.
//   - Results are taken in each agent's order, once: per (organisation,
//     site, agent ID) the handler keeps the last sequence number stored (a
//     ledger in the store's state). A duplicate is acked without being
//     stored again; a result past the next is refused with 409 and the
//     sequence number needed. Each result is stored before the ledger
//     moves past it, and a result whose storing was cut short (a crash
//     between its records and the ledger) is recognised when the agent
//     sends it again (see ledger), so a crash stores neither twice nor
//     never.
//   - Results are judged the way watch judges its own (watch.JudgeDNS,
//     watch.RecordSettings, watch.Hijack): a DNS audit that finds a
//     lying resolver and a router whose DHCP DNS is not the owner's make
//     one "DNS hijacked" problem on the site's network, and the site's
//     alerts are reconciled in the store (store.AlertStore): a problem
//     raises one alert when it appears and resolves it when it is gone.
//   - Request bodies are bounded (agentapi.MaxBatchBytes), each site is
//     rate-limited, and storing outlives a client that hangs up (it runs
//     to its end under its own deadline, so that nothing is half-stored
//     because a connection dropped).
//   - Nothing secret is logged: the token is the Authenticator's business,
//     and logs name the site, the agent ID and sequence numbers.
//
// Requests of one site are handled one at a time in this process. Several
// server processes behind one database need the store to serialise them
// (a lock per site); until it does, run one process per site's agents.
package agentserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/routerwatch/routerwatch/internal/advisory"
	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/store"
	"github.com/routerwatch/routerwatch/internal/strictjson"
)

// Principal is the agent a request comes from, as its token says.
type Principal struct {
	OrgID  string
	SiteID string
	// Token names the token for logs (its ID or non-secret prefix, never
	// the secret).
	Token string
}

// Authentication errors an Authenticator returns.
var (
	// ErrUnauthenticated: no token, or a token that is not valid
	// (unknown, expired, revoked): 401.
	ErrUnauthenticated = errors.New("no valid agent token")
	// ErrForbidden: a valid token that is not an agent token of a site
	// (a user's API token): 403.
	ErrForbidden = errors.New("the token is not an agent token of a site")
)

// Authenticator turns a request into its agent principal: the bearer
// token, verified. Its errors wrap ErrUnauthenticated or ErrForbidden;
// any other error is the server's (503).
type Authenticator interface {
	AuthenticateAgent(r *http.Request) (Principal, error)
}

// Site is what the handler needs of a site's settings.
type Site struct {
	// Name is the site's name, for the agent's log.
	Name string
	// Tasks are what the site's agent runs, and Routers the routers.
	Tasks   []agentapi.Task
	Routers []agentapi.Router
	// Allowed are the site owner's resolvers (policy.allowed_resolvers):
	// a router handing out another is "not yours".
	Allowed []netip.Addr
}

// Sites reads the site of a principal (StoreSites reads the store's); an
// unknown site wraps store.ErrNotFound.
type Sites interface {
	AgentSite(ctx context.Context, p Principal) (Site, error)
}

// Defaults.
const (
	// DefaultRate and DefaultBurst limit each site's requests: an agent
	// makes a few a round, and one catching up after an outage sends its
	// batches back to back (64 results each).
	DefaultRate  = 2
	DefaultBurst = 30
	// storeTimeout bounds storing one batch once it is read, whatever the
	// client does meanwhile.
	storeTimeout = 2 * time.Minute
	// maxLimiters bounds the per-site rate limiters kept in memory.
	maxLimiters = 100000
)

// Options configure a Handler.
type Options struct {
	Auth  Authenticator
	Sites Sites
	// Store keeps the results and the alerts (in each organisation's
	// Tenant) and the ledgers (in its state). Required.
	Store store.Store
	// Index is the advisory data for judging a router's firmware; nil
	// leaves that check unknown.
	Index *advisory.Index
	// AlertOn is the lowest severity of a failing finding that is a
	// problem; 0 means medium (watch's default).
	AlertOn finding.Severity
	// Rate (requests per second) and Burst limit each site; 0 means the
	// defaults.
	Rate  rate.Limit
	Burst int
	// Logger receives one line per batch and per refusal; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the agent endpoint.
type Handler struct {
	o   Options
	log *slog.Logger
	mux *http.ServeMux

	// siteLocks serialise one site's batches (striped: bounded memory).
	siteLocks [256]sync.Mutex

	limMu    sync.Mutex
	limiters map[string]*siteLimiter
}

type siteLimiter struct {
	l    *rate.Limiter
	used time.Time
}

// New checks o and returns the handler.
func New(o Options) (*Handler, error) {
	if o.Auth == nil || o.Sites == nil || o.Store == nil {
		return nil, errors.New("agentserver: an authenticator, the sites and a store are required")
	}
	if o.AlertOn == 0 {
		o.AlertOn = finding.SeverityMedium
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst == 0 {
		o.Burst = DefaultBurst
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o, log: log, mux: http.NewServeMux(), limiters: map[string]*siteLimiter{}}
	h.mux.HandleFunc("GET "+agentapi.SchedulePath, h.authed(h.schedule))
	h.mux.HandleFunc("POST "+agentapi.ResultsPath, h.authed(h.results))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		// The mux's own 404 and 405 are text; agents read JSON.
		code := http.StatusNotFound
		if r.URL.Path == agentapi.SchedulePath || r.URL.Path == agentapi.ResultsPath {
			code = http.StatusMethodNotAllowed
			allow := http.MethodGet
			if r.URL.Path == agentapi.ResultsPath {
				allow = http.MethodPost
			}
			w.Header().Set("Allow", allow)
		}
		reply(w, code, agentapi.Ack{Error: http.StatusText(code)})
		return
	}
	h.mux.ServeHTTP(w, r)
}

func reply(w http.ResponseWriter, code int, a agentapi.Ack) {
	a.Version = agentapi.Version
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(a)
}

// authed authenticates the request and applies the site's rate limit.
func (h *Handler) authed(next func(http.ResponseWriter, *http.Request, Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.o.Auth.AuthenticateAgent(r)
		switch {
		case errors.Is(err, ErrUnauthenticated):
			w.Header().Set("WWW-Authenticate", `Bearer realm="routerwatch agent"`)
			reply(w, http.StatusUnauthorized, agentapi.Ack{Error: ErrUnauthenticated.Error()})
			return
		case errors.Is(err, ErrForbidden):
			reply(w, http.StatusForbidden, agentapi.Ack{Error: ErrForbidden.Error()})
			return
		case err != nil:
			h.log.Error("agent endpoint: authentication failed", "error", err)
			reply(w, http.StatusServiceUnavailable, agentapi.Ack{Error: "the server cannot check tokens now"})
			return
		case !agentapi.ValidName(p.SiteID, agentapi.MaxSiteIDLen):
			h.log.Error("agent endpoint: the authenticator gave a principal without a valid site", "token", p.Token)
			reply(w, http.StatusForbidden, agentapi.Ack{Error: ErrForbidden.Error()})
			return
		}
		if !h.allow(p) {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, 1/float64(h.o.Rate)))))
			reply(w, http.StatusTooManyRequests, agentapi.Ack{Error: "too many requests from this site"})
			return
		}
		next(w, r, p)
	}
}

// allow takes a token from the site's bucket.
func (h *Handler) allow(p Principal) bool {
	key := p.OrgID + "\x00" + p.SiteID
	now := h.o.Now()
	h.limMu.Lock()
	defer h.limMu.Unlock()
	l, ok := h.limiters[key]
	if !ok {
		if len(h.limiters) >= maxLimiters {
			// Forget the sites idle long enough for their bucket to be
			// full again: forgetting them changes nothing.
			full := time.Duration(float64(h.o.Burst)/float64(h.o.Rate)*float64(time.Second)) + time.Second
			for k, v := range h.limiters {
				if now.Sub(v.used) > full {
					delete(h.limiters, k)
				}
			}
		}
		l = &siteLimiter{l: rate.NewLimiter(h.o.Rate, h.o.Burst)}
		if len(h.limiters) < maxLimiters {
			h.limiters[key] = l
		}
	}
	l.used = now
	return l.l.AllowN(now, 1)
}

func (h *Handler) lockSite(p Principal) func() {
	m := &h.siteLocks[fnv(p.OrgID+"\x00"+p.SiteID)%uint32(len(h.siteLocks))]
	m.Lock()
	return m.Unlock
}

func fnv(s string) uint32 {
	x := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		x ^= uint32(s[i])
		x *= 16777619
	}
	return x
}

// schedule answers GET /api/v1/agent/schedule.
func (h *Handler) schedule(w http.ResponseWriter, r *http.Request, p Principal) {
	site, err := h.o.Sites.AgentSite(r.Context(), p)
	if errors.Is(err, store.ErrNotFound) {
		reply(w, http.StatusForbidden, agentapi.Ack{Error: "the token's site no longer exists"})
		return
	}
	if err != nil {
		h.log.Error("agent endpoint: reading the site", "site", p.SiteID, "error", err)
		reply(w, http.StatusServiceUnavailable, agentapi.Ack{Error: "the server cannot read the site now"})
		return
	}
	s := agentapi.Schedule{Version: agentapi.Version, Site: p.SiteID, SiteName: site.Name, Tasks: site.Tasks, Routers: site.Routers}
	if s.Tasks == nil {
		s.Tasks = []agentapi.Task{}
	}
	if err := s.Validate(); err != nil {
		h.log.Error("agent endpoint: the site's schedule is invalid", "site", p.SiteID, "error", err)
		reply(w, http.StatusInternalServerError, agentapi.Ack{Error: "the site's schedule is invalid; ask the server's admin"})
		return
	}
	h.log.Debug("agent endpoint: schedule", "site", p.SiteID, "agent", agentHeader(r))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(s)
}

func agentHeader(r *http.Request) string {
	if id := r.Header.Get(agentapi.AgentHeader); agentapi.ValidID(id) {
		return id
	}
	return ""
}

// results answers POST /api/v1/agent/results.
func (h *Handler) results(w http.ResponseWriter, r *http.Request, p Principal) {
	body := http.MaxBytesReader(w, r.Body, agentapi.MaxBatchBytes)
	b, err := agentapi.DecodeBatch(body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || errors.Is(err, strictjson.ErrTooLarge):
		reply(w, http.StatusRequestEntityTooLarge, agentapi.Ack{Error: fmt.Sprintf("the batch is larger than %d bytes", agentapi.MaxBatchBytes)})
		return
	case err != nil:
		h.log.Warn("agent endpoint: a malformed batch", "site", p.SiteID, "error", err)
		reply(w, http.StatusBadRequest, agentapi.Ack{Error: err.Error()})
		return
	}
	io.Copy(io.Discard, io.LimitReader(body, 1)) // nothing is left: DecodeBatch read to the end

	// From here the batch is the server's: store it whatever the client
	// does (a dropped connection must not cut a result in half).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
	defer cancel()
	site, err := h.o.Sites.AgentSite(ctx, p)
	if errors.Is(err, store.ErrNotFound) {
		reply(w, http.StatusForbidden, agentapi.Ack{Error: "the token's site no longer exists"})
		return
	}
	if err != nil {
		h.log.Error("agent endpoint: reading the site", "site", p.SiteID, "error", err)
		reply(w, http.StatusServiceUnavailable, agentapi.Ack{Error: "the server cannot read the site now"})
		return
	}
	unlock := h.lockSite(p)
	defer unlock()
	led, err := h.loadLedger(ctx, p, b.AgentID)
	if err != nil {
		h.log.Error("agent endpoint: reading the ledger", "site", p.SiteID, "agent", b.AgentID, "error", err)
		reply(w, http.StatusServiceUnavailable, agentapi.Ack{Error: "the server cannot store results now"})
		return
	}
	stored, dups := 0, 0
	for i := range b.Results {
		res := &b.Results[i]
		switch {
		case res.End() <= led.Last:
			dups++
			continue
		case res.Seq > led.Last+1:
			h.log.Warn("agent endpoint: a gap in an agent's results", "site", p.SiteID, "agent", b.AgentID, "got", res.Seq, "expected", led.Last+1)
			reply(w, http.StatusConflict, agentapi.Ack{AckedSeq: led.Last, ExpectedSeq: led.Last + 1,
				Error: fmt.Sprintf("result %d follows %d: send from %d", res.Seq, led.Last, led.Last+1)})
			return
		}
		if err := h.accept(ctx, p, &site, b.AgentID, led, res); err != nil {
			h.log.Error("agent endpoint: storing a result", "site", p.SiteID, "agent", b.AgentID, "seq", res.Seq, "kind", res.Kind, "error", err)
			reply(w, http.StatusServiceUnavailable, agentapi.Ack{AckedSeq: led.Last, Error: "the server cannot store results now"})
			return
		}
		stored++
	}
	h.log.Info("agent endpoint: results", "site", p.SiteID, "agent", b.AgentID, "stored", stored, "duplicates", dups, "acked", led.Last)
	reply(w, http.StatusOK, agentapi.Ack{AckedSeq: led.Last})
}
