// SPDX-License-Identifier: Apache-2.0

// Package confirmprobe sends the opt-in confirming request for
// CVE-2023-50224 (ZDI-23-1808), the TP-Link TL-WR841N credential leak the
// 2025-2026 APT28 campaign used: an unauthenticated
//
//	GET /loginFs/./dropbear/dropbearpwd
//
// which a vulnerable httpd answers with the web admin's user name and the
// unsalted MD5 of the password (brief THREAT.md §4.1).
//
// The contract, stricter than other probes because the answer is a
// secret:
//   - it is never in the default probe set: the caller runs it only when
//     the owner asked for it (`check --confirm`) for their own device;
//   - it sends that one GET per configured endpoint, through the netx
//     HTTP client, no redirects followed, nothing else;
//   - of the answer it records only the status code, the Content-Type and
//     whether the body has the shape of the credential file
//     ("username:" then a "password:" line); the body is read into a small
//     buffer, inspected, and overwritten before the function returns. It is
//     never stored, hashed, logged or put in an error;
//   - it measures and never judges (check/firmware turns it into a
//     finding).
package confirmprobe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
const ID = "confirm.cve_2023_50224"

// CVE is the vulnerability the request confirms.
const CVE = "CVE-2023-50224"

// Path is the request of the published proof of concept (THREAT.md §4.1).
const Path = "/loginFs/./dropbear/dropbearpwd"

const (
	// maxBody is how much of the answer is read: the credential file is
	// 56 bytes on the published sample; a few lines more at most
	// (isFactoryDefault, loginMode). Anything longer is not that file.
	maxBody = 1024
	// exchangeTimeout bounds the request on one endpoint: a LAN router
	// answers at once.
	exchangeTimeout = 5 * time.Second
	// maxContentType bounds the recorded Content-Type.
	maxContentType = 128
)

// Endpoint names where to send the request.
type Endpoint struct {
	Scheme string `json:"scheme" yaml:"scheme"` // "http" or "https"
	Port   uint16 `json:"port" yaml:"port"`
}

// Prober is the confirming probe. Its exported fields are its
// configuration.
type Prober struct {
	// Endpoints are the web UI endpoints to ask; the caller passes the
	// ones where the HTTP probe got an answer.
	Endpoints []Endpoint `json:"endpoints" yaml:"endpoints"`
}

// New returns a Prober for the given endpoints (none means http:80, the
// port ZDI names).
func New(eps ...Endpoint) *Prober {
	if len(eps) == 0 {
		eps = []Endpoint{{Scheme: "http", Port: 80}}
	}
	return &Prober{Endpoints: slices.Clone(eps)}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	if len(p.Endpoints) == 0 {
		return errors.New("confirmprobe: no endpoints")
	}
	for _, e := range p.Endpoints {
		if (e.Scheme != "http" && e.Scheme != "https") || e.Port == 0 {
			return fmt.Errorf("confirmprobe: endpoint %s:%d: want http or https and a port", e.Scheme, e.Port)
		}
	}
	return nil
}

// Observation is what each endpoint answered, without the body.
type Observation struct {
	Addr      netip.Addr `json:"addr"`
	Endpoints []Result   `json:"endpoints"`
}

// Result is one endpoint's answer.
type Result struct {
	probe.Exchange
	Scheme string `json:"scheme"`
	// StatusCode is the HTTP status; 0 when no answer came.
	StatusCode int `json:"status_code"`
	// ContentType is the Content-Type header, as sent (sanitized).
	ContentType string `json:"content_type,omitempty"`
	// CredentialShape is true when the body starts with "username:" and
	// has a line starting with "password:": the credential file.
	CredentialShape bool `json:"credential_shape"`
}

// Leaked reports whether any endpoint handed out the credential file.
func (o *Observation) Leaked() bool {
	for _, r := range o.Endpoints {
		if r.CredentialShape {
			return true
		}
	}
	return false
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Evidence implements probe.Observation: the answer identifies nothing.
func (o *Observation) Evidence() []probe.Evidence { return nil }

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
	obs.Endpoints = make([]Result, len(p.Endpoints))
	return obs, probe.NewOutcome(ID).Gather(ctx, len(p.Endpoints), func(i int) (err error) {
		obs.Endpoints[i], err = ask(ctx, d, t, p.Endpoints[i])
		return err
	})
}

// ask sends the request to one endpoint.
func ask(ctx context.Context, d *netx.Dialer, t probe.Target, e Endpoint) (Result, error) {
	res := Result{Scheme: e.Scheme, Exchange: probe.Exchange{Port: e.Port}}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, exchangeTimeout))
	defer cancel()
	var open atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{ConnectDone: func(_, _ string, err error) {
		if err == nil {
			open.Store(true)
		}
	}})
	client := d.HTTPClient(netx.HTTPOptions{TLS: httpfp.TLSConfig(t.Name), MaxRedirects: -1, MaxBody: maxBody})
	// net/url keeps the "./" segment (it never removes dot segments), so
	// the path goes on the wire as written: the flaw is in how the httpd
	// matches that exact path.
	u := &url.URL{Scheme: e.Scheme, Host: netip.AddrPortFrom(t.Addr, e.Port).String(), Path: Path}
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		if t.Name != "" {
			req.Host = t.Name
		}
		req.Header.Set("User-Agent", "routerwatch (device audit, owner-requested confirmation)")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		res.StatusCode = resp.StatusCode
		res.ContentType = probe.Text([]byte(resp.Header.Get("Content-Type")), maxContentType)
		shape, err := inspect(resp.Body)
		res.CredentialShape = shape
		return err
	}()
	res.Open = open.Load()
	if res.Open {
		err = probe.AfterConnect(err)
	}
	if err != nil {
		// The URL is ours and safe to name; the body never reaches an
		// error (inspect returns only I/O errors).
		err = fmt.Errorf("confirmprobe: GET %s%s: %w", netip.AddrPortFrom(t.Addr, e.Port), Path, err)
	}
	res.Finish(start, err)
	return res, err
}

// inspect reads at most maxBody bytes into a local buffer, reports whether
// they have the credential file's shape, and overwrites the buffer. A body
// over the cap is not the credential file (and is not an error). Only I/O
// errors are returned, never anything derived from the content.
func inspect(r io.Reader) (bool, error) {
	var buf [maxBody]byte
	defer clear(buf[:])
	n, err := io.ReadFull(r, buf[:])
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		err = nil
	case err == nil, errors.Is(err, netx.ErrTooLarge):
		// Filled the buffer: longer than the credential file.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return CredentialShape(buf[:n]), nil
}

// CredentialShape reports whether b looks like the dropbear credential
// file: it starts with "username:" and a later line starts with
// "password:". Sample (THREAT.md §4.1; the hash is MD5("admin")):
//
//	username:admin
//	password:21232f297a57a5a743894a0e4a801fc3
func CredentialShape(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("username:")) {
		return false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("password:")) {
			return true
		}
	}
	return false
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
