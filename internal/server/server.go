// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerwatch/routerwatch/internal/auth"
	"github.com/routerwatch/routerwatch/internal/store"
)

// DefaultListen is where serve listens unless told otherwise: loopback,
// so that a first start exposes nothing until the owner chooses an
// address.
const DefaultListen = "127.0.0.1:8443"

// Timeouts of the HTTP server, each bounding what one slow or idle
// client can hold.
const (
	// readHeaderTimeout stops a client that trickles its headers
	// (slowloris).
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request; bodies are at most
	// maxBody.
	readTimeout = 30 * time.Second
	// writeTimeout bounds writing an answer; a range export extends its
	// own deadline (http.ResponseController), since it streams.
	writeTimeout = 60 * time.Second
	// idleTimeout closes kept-alive connections nobody uses.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds the request headers.
	maxHeaderBytes = 64 << 10
	// shutdownGrace is how long requests in flight get to finish after
	// SIGTERM before their connections are closed.
	shutdownGrace = 10 * time.Second
	// sessionSweep is how often expired sessions are deleted from the
	// store (auth refuses them anyway; this keeps the table small).
	sessionSweep = 10 * time.Minute
)

// Options configure a Server. Store is required; the rest have defaults.
type Options struct {
	// Store holds everything; the server reaches an organisation's data
	// only through Store.ForOrg of the caller's organisation.
	Store store.Store
	// Logger receives the access log and the server's warnings; nil
	// discards them. Nothing secret is ever passed to it.
	Logger *slog.Logger
	// Listen is the address Serve listens on; "" means DefaultListen.
	Listen string
	// TLS, if set, is served as is (tests). Otherwise CertFile and
	// KeyFile, or a self-signed certificate kept in StateDir
	// (auth.TLSConfig).
	TLS               *tls.Config
	CertFile, KeyFile string
	StateDir          string
	TrustedProxies    []netip.Prefix
	TrustedOrigins    []string
	Hasher            *auth.Hasher
	Limiter           *auth.Limiter
	// Registry is /metrics' registry; nil makes a new one. The caller
	// passes its own to register internal/jobs' counters on it
	// (jobs.NewMetrics: audits run, failures by check, job latency)
	// before the jobs start.
	Registry *prometheus.Registry
	// Collectors are registered on the registry beside the server's own
	// (the jobs' queue depth: jobs.Client.QueueCollector).
	Collectors []prometheus.Collector
	// Jobs enqueues background work (internal/jobs' Client); nil answers
	// the routes that start work with 503.
	Jobs Jobs
	// AllowPrivateRanges lets admins authorise range scopes that reach
	// loopback, link-local, private or shared (CGNAT) addresses: an ISP
	// auditing its own inside. Off, a tenant cannot make the server scan
	// the server's own networks.
	AllowPrivateRanges bool
	// Agents are the agents' endpoints (internal/agentserver's handler at
	// internal/agentapi's base path): only agent tokens reach them, each
	// for its own site (the handler takes the site from the principal).
	Agents []AgentRoute
	// Public are handlers anyone may reach, mounted beside the routes
	// (the public lookup page and API, the CSAF provider directory).
	Public []PublicRoute
	// Ready, if set, is called with the listening address once Serve
	// listens.
	Ready func(net.Addr)
	// Now nil means time.Now.
	Now func() time.Time
}

// Jobs is what the server asks of internal/jobs: to enqueue a range run
// and a site's check from outside (the WAN vantage).
type Jobs interface {
	EnqueueRangeRun(ctx context.Context, orgID string, runID int64) (int64, error)
	EnqueueWANCheck(ctx context.Context, orgID, siteID string, addr netip.Addr) (int64, error)
}

// PublicRoute is a handler mounted without authentication, for every
// method of Pattern (a ServeMux pattern without a method: the handler
// refuses the methods it does not answer).
type PublicRoute struct {
	Pattern string
	Handler http.Handler
}

// AgentRoute is a handler only agent tokens reach, for every method of
// Pattern.
type AgentRoute struct {
	Pattern string
	Handler http.Handler
}

// Server is routerwatch's web server: dashboard, JSON API, /metrics.
type Server struct {
	o       Options
	st      store.Store
	auth    *auth.Authenticator
	log     *slog.Logger
	tls     *tls.Config
	cert    auth.CertInfo
	routes  []route
	handler http.Handler
	pages   *template.Template
	metrics *metrics
	now     func() time.Time
}

// New checks o, loads or makes the TLS certificate, and builds the
// handler.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("server: no store")
	}
	s := &Server{o: o, st: o.Store, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	as := authStore{st: o.Store}
	var err error
	s.auth, err = auth.New(auth.Config{
		Users: as, Tokens: as, Sessions: as, Audit: as,
		Hasher: o.Hasher, Limiter: o.Limiter,
		TrustedOrigins: o.TrustedOrigins, TrustedProxies: o.TrustedProxies,
		Unauthorized: http.HandlerFunc(s.unauthorized),
		Now:          o.Now, Logger: s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.tls = o.TLS
	if s.tls == nil {
		s.tls, s.cert, err = auth.TLSConfig(o.CertFile, o.KeyFile, o.StateDir, s.log)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.metrics, err = newMetrics(o.Registry, o.Collectors); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.routes = s.routeTable()
	s.handler, err = s.buildHandler()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// Handler returns the whole server as an http.Handler (tests serve it
// with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// TLSConfig returns the TLS configuration Serve uses.
func (s *Server) TLSConfig() *tls.Config { return s.tls }

// Certificate describes the certificate served (its fingerprint, for
// people to compare); zero when Options.TLS was given.
func (s *Server) Certificate() auth.CertInfo { return s.cert }

// Serve listens on Options.Listen and serves TLS until ctx ends, then
// shuts down gracefully: it stops accepting, lets requests in flight
// finish for up to shutdownGrace, and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	addr := s.o.Listen
	if addr == "" {
		addr = DefaultListen
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened (it is closed
// on return).
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.tls,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// TLS handshake errors and the like name a client's address
		// only; they go to the debug log.
		ErrorLog: log.New(debugWriter{s.log}, "", 0),
		BaseContext: func(net.Listener) context.Context {
			return context.WithoutCancel(ctx)
		},
	}
	if s.o.Ready != nil {
		s.o.Ready(ln.Addr())
	}
	stop := make(chan struct{})
	go s.sweepSessions(ctx, stop)
	defer close(stop)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(tls.NewListener(ln, s.tls)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// sweepSessions deletes expired sessions now and then.
func (s *Server) sweepSessions(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(sessionSweep)
	defer t.Stop()
	for {
		if n, err := s.st.DeleteExpiredSessions(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Warn("deleting expired sessions failed", "err", err)
		} else if n > 0 {
			s.log.Debug("expired sessions deleted", "count", n)
		}
		select {
		case <-t.C:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// debugWriter sends net/http's own log lines to the debug log.
type debugWriter struct{ l *slog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.l.Debug("http server", "msg", string(p[:min(len(p), 200)]))
	return len(p), nil
}
