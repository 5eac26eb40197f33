// SPDX-License-Identifier: Apache-2.0

// Package tr069probe fingerprints a device's TR-069 (CWMP) connection-
// request port, TCP 7547: whether it answers, and the status, Server and
// authentication challenge of its HTTP answer.
//
// The contract: one unauthenticated GET of "/" per configured port through
// the netx HTTP client, no redirects followed, nothing else sent; an answer
// on 7547 is a fact for the exposure checks, not a verdict.
package tr069probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "tr069"

// DefaultPorts: 7547 is the CWMP connection-request port (TR-069 §3.2.2
// leaves it to the CPE; 7547 is the IANA-registered, near-universal one).
var DefaultPorts = []uint16{7547}

const (
	// maxBody caps the answer: a connection-request server sends an empty
	// body or a short error page.
	maxBody = 64 << 10
	// exchangeTimeout bounds one port's exchange.
	exchangeTimeout = 6 * time.Second
)

// Prober is the TR-069 probe.
type Prober struct {
	Ports []uint16 `json:"ports" yaml:"ports"`
}

// New returns a Prober with the default port.
func New() *Prober { return &Prober{Ports: slices.Clone(DefaultPorts)} }

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	if len(p.Ports) == 0 {
		return errors.New("tr069probe: no ports")
	}
	if slices.Contains(p.Ports, 0) {
		return errors.New("tr069probe: port 0")
	}
	return nil
}

// Observation is the answer of each port.
type Observation struct {
	Addr      netip.Addr `json:"addr"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one port's result.
type Endpoint struct {
	probe.Exchange
	Response *httpfp.Response `json:"response,omitempty"`
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Probe implements probe.Probe.
func (p *Prober) Probe(ctx context.Context, d *netx.Dialer, t probe.Target) (probe.Observation, error) {
	return p.Measure(ctx, d, t)
}

// Measure is Probe with the concrete observation type.
func (p *Prober) Measure(ctx context.Context, d *netx.Dialer, t probe.Target) (*Observation, error) {
	obs := &Observation{Addr: t.Addr, Endpoints: make([]Endpoint, len(p.Ports))}
	if err := p.Validate(); err != nil {
		return obs, probe.Wrap(ID, err)
	}
	return obs, probe.NewOutcome(ID).Gather(ctx, len(p.Ports), func(i int) (err error) {
		obs.Endpoints[i], err = endpoint(ctx, d, t, p.Ports[i])
		return err
	})
}

func endpoint(ctx context.Context, d *netx.Dialer, t probe.Target, port uint16) (Endpoint, error) {
	ep := Endpoint{Exchange: probe.Exchange{Port: port}}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, exchangeTimeout))
	defer cancel()
	var open atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{ConnectDone: func(_, _ string, err error) {
		if err == nil {
			open.Store(true)
		}
	}})
	// No redirects: the probe asks what this port is, not where it points.
	client := d.HTTPClient(netx.HTTPOptions{MaxBody: maxBody, MaxRedirects: -1})
	u := url.URL{Scheme: "http", Host: netip.AddrPortFrom(t.Addr, port).String(), Path: "/"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err == nil {
		if t.Name != "" {
			req.Host = t.Name
		}
		req.Header.Set("User-Agent", "routerwatch (device audit)")
		var resp *http.Response
		resp, err = client.Do(req)
		if err == nil {
			var body []byte
			var truncated bool
			body, truncated, err = httpfp.ReadBody(resp.Body)
			resp.Body.Close()
			ep.Response = fingerprint(resp, body, truncated)
		}
	}
	ep.Open = open.Load()
	if ep.Open {
		err = probe.AfterConnect(err)
	}
	if err != nil {
		err = fmt.Errorf("tr069probe: GET %s: %w", u.String(), err)
	}
	ep.Finish(start, err)
	return ep, err
}

// fingerprint summarizes one answer. Sample of what a CPE's connection-
// request server sends to an unauthenticated GET:
//
//	HTTP/1.1 401 Unauthorized
//	WWW-Authenticate: Digest realm="IGD", nonce="…", qop="auth"
//	Content-Length: 0
func fingerprint(resp *http.Response, body []byte, truncated bool) *httpfp.Response {
	r := httpfp.FromHTTP(resp, body, truncated)
	return &r
}

// Evidence implements probe.Observation.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	for _, ep := range o.Endpoints {
		r := ep.Response
		if r == nil {
			continue
		}
		where := fmt.Sprintf("http://%s/", netip.AddrPortFrom(o.Addr, ep.Port))
		c.Add(probe.FieldHTTPServer, r.Server, where, "")
		for _, v := range r.WWWAuthenticate {
			c.Add(probe.FieldHTTPWWWAuth, v, where, "")
		}
		for _, ch := range r.Challenges {
			c.Add(probe.FieldHTTPRealm, ch.Realm, where, "")
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
