// SPDX-License-Identifier: Apache-2.0

// Package httpprobe fingerprints a device's web interfaces over HTTP and
// HTTPS: status, headers, Server, WWW-Authenticate realm, page title,
// favicon hashes, the TLS certificate, and the identifying arrays legacy
// TP-Link pages carry.
//
// The contract: one unauthenticated GET of "/" (and of "/favicon.ico")
// per configured port, through the netx HTTP client (body and header caps,
// at most three in-scope redirects); certificates are recorded, never
// trusted or rejected; nothing is ever sent but those GETs; it measures
// and never judges.
package httpprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "http"

// Defaults. Router web UIs listen on 80/443; 8080/8443 are the usual
// remote-management ports.
var (
	DefaultHTTPPorts  = []uint16{80, 8080}
	DefaultHTTPSPorts = []uint16{443, 8443}
)

const (
	// DefaultMaxBody caps a page: router pages are tens of kilobytes (the
	// real TL-WR841N Status page is 18 KB); the title and arrays sit at
	// the top, so a longer page is cut, not refused.
	DefaultMaxBody = 512 << 10
	// maxFavicon caps /favicon.ico; router icons are a few kilobytes.
	maxFavicon = 256 << 10
	// exchangeTimeout bounds one port's exchanges (page and favicon), so
	// that one slow port cannot use up the target's whole deadline.
	exchangeTimeout = 8 * time.Second
	// userAgent names the tool honestly in the device's logs.
	userAgent = "routerwatch (device audit)"
)

// Prober is the HTTP probe. Its exported fields are its configuration.
type Prober struct {
	HTTPPorts  []uint16 `json:"http_ports" yaml:"http_ports"`
	HTTPSPorts []uint16 `json:"https_ports" yaml:"https_ports"`
	// MaxBody caps each page in bytes; 0 means DefaultMaxBody.
	MaxBody int64 `json:"max_body" yaml:"max_body"`
}

// New returns a Prober with the default ports.
func New() *Prober {
	return &Prober{HTTPPorts: slices.Clone(DefaultHTTPPorts), HTTPSPorts: slices.Clone(DefaultHTTPSPorts)}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator. It only reads the configuration,
// so that concurrent runs may call it.
func (p *Prober) Validate() error {
	if len(p.HTTPPorts)+len(p.HTTPSPorts) == 0 {
		return errors.New("httpprobe: no ports")
	}
	seen := map[uint16]bool{}
	for _, port := range slices.Concat(p.HTTPPorts, p.HTTPSPorts) {
		if port == 0 || seen[port] {
			return fmt.Errorf("httpprobe: port %d is zero or listed twice", port)
		}
		seen[port] = true
	}
	if p.MaxBody < 0 {
		return errors.New("httpprobe: negative max_body")
	}
	return nil
}

// Observation is what the probe saw on each port.
type Observation struct {
	Addr      netip.Addr `json:"addr"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one port's result.
type Endpoint struct {
	probe.Exchange
	Scheme   string           `json:"scheme"` // "http" or "https"
	Response *httpfp.Response `json:"response,omitempty"`
	TLS      *probe.TLSInfo   `json:"tls,omitempty"`
	Favicon  *httpfp.Favicon  `json:"favicon,omitempty"`
	// Arrays are the identifying legacy TP-Link page arrays (statusPara,
	// softUpInf) found on the page.
	Arrays []JSArray `json:"tplink_arrays,omitempty"`
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Probe implements probe.Probe.
func (p *Prober) Probe(ctx context.Context, d *netx.Dialer, t probe.Target) (probe.Observation, error) {
	return p.Measure(ctx, d, t)
}

// Measure is Probe with the concrete observation type.
func (p *Prober) Measure(ctx context.Context, d *netx.Dialer, t probe.Target) (*Observation, error) {
	obs := &Observation{Addr: t.Addr}
	if err := p.Validate(); err != nil {
		return obs, probe.Wrap(ID, err)
	}
	type job struct {
		scheme string
		port   uint16
	}
	var jobs []job
	for _, port := range p.HTTPPorts {
		jobs = append(jobs, job{"http", port})
	}
	for _, port := range p.HTTPSPorts {
		jobs = append(jobs, job{"https", port})
	}
	obs.Endpoints = make([]Endpoint, len(jobs))
	return obs, probe.NewOutcome(ID).Gather(ctx, len(jobs), func(i int) (err error) {
		obs.Endpoints[i], err = p.endpoint(ctx, d, t, jobs[i].scheme, jobs[i].port)
		return err
	})
}

// endpoint fetches "/" and "/favicon.ico" from one port.
func (p *Prober) endpoint(ctx context.Context, d *netx.Dialer, t probe.Target, scheme string, port uint16) (Endpoint, error) {
	ep := Endpoint{Scheme: scheme, Exchange: probe.Exchange{Port: port}}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, exchangeTimeout))
	defer cancel()

	var (
		open    atomic.Bool
		stateMu sync.Mutex
		state   *tls.ConnectionState
	)
	trace := &httptrace.ClientTrace{ConnectDone: func(_, _ string, err error) {
		if err == nil {
			open.Store(true)
		}
	}}
	ctx = httptrace.WithClientTrace(ctx, trace)
	tlsCfg := httpfp.TLSConfig(t.Name)
	tlsCfg.VerifyConnection = func(cs tls.ConnectionState) error {
		stateMu.Lock()
		defer stateMu.Unlock()
		if state == nil {
			state = &cs
		}
		return nil
	}
	client := d.HTTPClient(netx.HTTPOptions{TLS: tlsCfg, MaxBody: p.maxBody()})
	base := url.URL{Scheme: scheme, Host: netip.AddrPortFrom(t.Addr, port).String(), Path: "/"}

	resp, body, truncated, err := get(ctx, client, base.String(), t.Name)
	ep.Open = open.Load()
	if ep.Open {
		err = probe.AfterConnect(err)
	}
	stateMu.Lock()
	if state != nil {
		ep.TLS = probe.TLSInfoOf(state)
	}
	stateMu.Unlock()
	if resp != nil {
		r := httpfp.FromHTTP(resp, body, truncated)
		ep.Response = &r
		for _, a := range ParseArrays(body) {
			if keepArrays[a.Name] {
				ep.Arrays = append(ep.Arrays, a)
			}
		}
	}
	if err == nil {
		ep.Favicon = favicon(ctx, d, tlsCfg, base, t.Name)
	}
	ep.Finish(start, err)
	return ep, err
}

func (p *Prober) maxBody() int64 {
	if p.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return p.MaxBody
}

// doer is the netx HTTP client, as get uses it.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// get performs one GET and reads the body. A response whose body failed
// mid-way is returned with the part read and the error.
func get(ctx context.Context, c doer, u, host string) (*http.Response, []byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, false, err
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, false, fmt.Errorf("httpprobe: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, truncated, err := httpfp.ReadBody(resp.Body)
	if err != nil {
		err = fmt.Errorf("httpprobe: GET %s: body: %w", u, err)
	}
	return resp, body, truncated, err
}

// favicon fetches /favicon.ico; any failure just means no favicon.
func favicon(ctx context.Context, d *netx.Dialer, cfg *tls.Config, base url.URL, host string) *httpfp.Favicon {
	client := d.HTTPClient(netx.HTTPOptions{TLS: cfg, MaxBody: maxFavicon})
	base.Path = "/favicon.ico"
	resp, body, truncated, err := get(ctx, client, base.String(), host)
	if err != nil || resp == nil || resp.StatusCode != http.StatusOK || len(body) == 0 || truncated {
		return nil
	}
	f := &httpfp.Favicon{StatusCode: resp.StatusCode, Bytes: len(body)}
	f.MD5, f.MMH3 = httpfp.FaviconHashes(body)
	return f
}

// Evidence implements probe.Observation.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	for _, ep := range o.Endpoints {
		where := fmt.Sprintf("%s://%s/", ep.Scheme, netip.AddrPortFrom(o.Addr, ep.Port))
		if r := ep.Response; r != nil {
			c.Add(probe.FieldHTTPServer, r.Server, where, "")
			for _, v := range r.WWWAuthenticate {
				c.Add(probe.FieldHTTPWWWAuth, v, where, "")
			}
			for _, ch := range r.Challenges {
				c.Add(probe.FieldHTTPRealm, ch.Realm, where, "")
			}
			c.Add(probe.FieldHTTPTitle, r.Title, where, "")
			for _, v := range r.SetCookie {
				c.Add(probe.FieldHTTPCookie, v, where, "")
			}
		}
		if f := ep.Favicon; f != nil {
			c.Add(probe.FieldHTTPFaviconMD5, f.MD5, where+"favicon.ico", "")
			c.Add(probe.FieldHTTPFaviconMMH3, httpfp.FormatMMH3(f.MMH3), where+"favicon.ico", "")
		}
		for _, a := range ep.Arrays {
			for _, v := range a.Values {
				c.Add(probe.FieldTPLinkArray, v, where+"#"+a.Name, where+"#"+a.Name)
			}
		}
		if ep.TLS != nil && ep.TLS.Certificate != nil {
			c.Add(probe.FieldTLSSubject, ep.TLS.Certificate.Subject, where, "")
			c.Add(probe.FieldTLSIssuer, ep.TLS.Certificate.Issuer, where, "")
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
