// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/agentapi"
	"github.com/routerwatch/routerwatch/internal/config"
	"github.com/routerwatch/routerwatch/internal/inputfile"
)

// requestTimeout bounds one request to the server: a batch is at most a
// few megabytes (sendBytes), which a slow site uplink of 1 Mbit/s sends
// in well under a minute.
const requestTimeout = 90 * time.Second

// sendBytes is about how much one batch carries: small enough to send in
// one go on a slow uplink, large enough that a long outage drains in a
// few requests.
const sendBytes = 4 << 20

// ErrRefused marks the server's refusal of the agent (its token is
// revoked or not an agent's, the URL is no agent endpoint): running on
// would not help, and the agent stops.
var ErrRefused = errors.New("the server refused this agent")

// ErrRejected marks the server's refusal of a result (a 4xx other than
// 401, 403, 404, 409 and 429): the outbox keeps it, and the agent stops
// so that a person looks, rather than dropping it or retrying forever.
var ErrRejected = errors.New("the server rejected a result")

// retryError is a failure worth retrying: the server is unreachable, or
// answered 5xx or 429. After, when set, is the server's Retry-After.
type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// gapError is the server's 409: it needs expected next.
type gapError struct {
	expected uint64
}

func (e *gapError) Error() string {
	return fmt.Sprintf("the server needs result %d next", e.expected)
}

// ServerOptions say how to reach the server.
type ServerOptions struct {
	// URL is the server's base URL (https://host[:port][/prefix]).
	URL string
	// Token is the site's agent token; it is sent in the Authorization
	// header only, and never logged.
	Token config.Secret
	// CAFile is a PEM file of the CA certificates that sign the server's
	// certificate (a self-signed server): only they are trusted.
	CAFile string
	// InsecureSkipVerify trusts any certificate: a test network only.
	InsecureSkipVerify bool
	// Transport replaces the HTTP transport (tests); TLS settings are
	// then its own.
	Transport http.RoundTripper
}

// client talks to the server.
type client struct {
	base    *url.URL
	token   config.Secret
	agentID string
	hc      *http.Client
}

// ParseServerURL checks a server URL: http or https, a host, no user
// information (a password in a URL ends up in logs), no query; plain
// http only to a loopback server, since the token and the site's results
// would otherwise cross the network in clear.
func ParseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("server URL: %v", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, errors.New("server URL: give an https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("server URL: no host")
	case u.User != nil:
		return nil, errors.New("server URL: no user or password in the URL; the agent authenticates with its token")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("server URL: no query or fragment")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, errors.New("server URL: plain http is allowed only to a loopback server; use https (with --ca-file for a self-signed server)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("server URL: invalid port")
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func newClient(o ServerOptions, agentID string) (*client, error) {
	u, err := ParseServerURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Token.Reveal() == "" {
		return nil, errors.New("no agent token")
	}
	rt := o.Transport
	if rt == nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // asked for by --insecure-skip-verify
		if o.CAFile != "" {
			pool, err := loadCA(o.CAFile)
			if err != nil {
				return nil, err
			}
			tc.RootCAs = pool
		}
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tc,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: requestTimeout,
			MaxIdleConns:          2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	hc := &http.Client{Transport: rt, Timeout: requestTimeout,
		// A redirect would carry the results elsewhere; the server never
		// sends one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{base: u, token: o.Token, agentID: agentID, hc: hc}, nil
}

// maxCAFile bounds the CA file: a bundle of a few certificates.
const maxCAFile = 1 << 20

func loadCA(path string) (*x509.CertPool, error) {
	b, err := inputfile.ReadAll(path, maxCAFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

func (c *client) url(path string) string {
	u := *c.base
	u.Path = c.base.Path + path
	return u.String()
}

func (c *client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	req.Header.Set(agentapi.AgentHeader, c.agentID)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The error names the URL (never the token) and the cause.
		return nil, &retryError{err: fmt.Errorf("server unreachable: %w", err)}
	}
	return resp, nil
}

// Schedule fetches the site's schedule.
func (c *client) Schedule(ctx context.Context) (*agentapi.Schedule, error) {
	resp, err := c.do(ctx, http.MethodGet, agentapi.SchedulePath, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, "schedule")
	}
	s, err := agentapi.DecodeSchedule(resp.Body)
	if err != nil {
		// A server of another version: a person must upgrade one side.
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	return s, nil
}

// Send posts results (consecutive, oldest first) and returns the last
// sequence number the server has.
func (c *client) Send(ctx context.Context, rs []agentapi.Result) (uint64, error) {
	body, err := json.Marshal(agentapi.Batch{Version: agentapi.Version, AgentID: c.agentID, Results: rs})
	if err != nil {
		return 0, err
	}
	resp, err := c.do(ctx, http.MethodPost, agentapi.ResultsPath, body)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		a, err := agentapi.DecodeAck(resp.Body)
		if err != nil {
			return 0, &retryError{err: fmt.Errorf("the server's answer: %w", err)}
		}
		return a.AckedSeq, nil
	case http.StatusConflict:
		a, err := agentapi.DecodeAck(resp.Body)
		if err != nil || a.ExpectedSeq == 0 {
			return 0, &retryError{err: fmt.Errorf("the server's 409 answer: %v", err)}
		}
		return 0, &gapError{expected: a.ExpectedSeq}
	}
	return 0, statusError(resp, "results")
}

// statusError classifies an answer other than 200: 401, 403 and 404 stop
// the agent (ErrRefused), 429 and 5xx are retried (with the server's
// Retry-After), other 4xx stop it (ErrRejected).
func statusError(resp *http.Response, what string) error {
	msg := fmt.Sprintf("%s: the server answered %s", what, resp.Status)
	if a, err := agentapi.DecodeAck(io.LimitReader(resp.Body, agentapi.MaxAckBytes)); err == nil && a.Error != "" {
		msg += ": " + a.Error
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s (the token is wrong, expired or revoked: ask the server's admin for a new agent token)", ErrRefused, msg)
	case code == http.StatusForbidden:
		return fmt.Errorf("%w: %s (the token is not an agent token of a site)", ErrRefused, msg)
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: %s (is --server the routerwatch server's base URL?)", ErrRefused, msg)
	case code == http.StatusTooManyRequests || code >= 500:
		return &retryError{err: errors.New(msg), after: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return fmt.Errorf("%w: %s", ErrRejected, msg)
}

// retryAfter reads a Retry-After header in seconds (the form the server
// sends); dates and nonsense count as none.
func retryAfter(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, 24*3600)) * time.Second
}

// drain reads a little of what is left so that the connection can be
// reused, then closes the body.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
