// SPDX-License-Identifier: Apache-2.0

// Package mikrotikprobe measures the MikroTik RouterOS management ports:
// whether Winbox (TCP 8291), the API (8728) and API-SSL (8729) accept
// connections, and whether the API ports speak the RouterOS API.
//
// The contract: no credentials are ever sent. Winbox is only connected
// to. On the API ports the probe sends one sentence, "/quit", which needs
// no login and ends the session; RouterOS answers "!fatal" with "session
// terminated on request", which identifies the API without logging in.
// API-SSL is reached with a TLS handshake that records, never trusts, the
// certificate.
package mikrotikprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/httpfp"
	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "mikrotik"

// Default ports (brief/CONFIGS.md §3.1, §3.3).
const (
	DefaultWinboxPort = 8291
	DefaultAPIPort    = 8728
	DefaultAPISSLPort = 8729
)

const (
	// portTimeout bounds one port's exchange; the API answers /quit at
	// once on a LAN router.
	portTimeout = 4 * time.Second
	// maxReplyBytes and maxWords bound what is read of the answer: the
	// answer to /quit is two short words.
	maxReplyBytes = 8 << 10
	maxWords      = 8
)

// Prober is the MikroTik probe. A zero port skips that service.
type Prober struct {
	WinboxPort uint16 `json:"winbox_port" yaml:"winbox_port"`
	APIPort    uint16 `json:"api_port" yaml:"api_port"`
	APISSLPort uint16 `json:"api_ssl_port" yaml:"api_ssl_port"`
}

// New returns a Prober with the default ports.
func New() *Prober {
	return &Prober{WinboxPort: DefaultWinboxPort, APIPort: DefaultAPIPort, APISSLPort: DefaultAPISSLPort}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	if p.WinboxPort == 0 && p.APIPort == 0 && p.APISSLPort == 0 {
		return errors.New("mikrotikprobe: no ports")
	}
	return nil
}

// Observation is what each management port did.
type Observation struct {
	Addr   netip.Addr `json:"addr"`
	Winbox *Port      `json:"winbox,omitempty"`
	API    *Port      `json:"api,omitempty"`
	APISSL *Port      `json:"api_ssl,omitempty"`
}

// Port is one management port's result.
type Port struct {
	probe.Exchange
	// Reply is the API's answer to "/quit", word by word.
	Reply []string `json:"reply,omitempty"`
	// RouterOS is true when the reply is a RouterOS API sentence.
	RouterOS bool           `json:"routeros"`
	TLS      *probe.TLSInfo `json:"tls,omitempty"`
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
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(dst **Port, port uint16, f func(context.Context, *netx.Dialer, netip.AddrPort) (*Port, error)) {
		if port == 0 {
			return
		}
		wg.Go(func() {
			res, err := f(ctx, d, netip.AddrPortFrom(t.Addr, port))
			mu.Lock()
			defer mu.Unlock()
			*dst = res
			errs = append(errs, err)
		})
	}
	run(&obs.Winbox, p.WinboxPort, winbox)
	run(&obs.API, p.APIPort, api)
	run(&obs.APISSL, p.APISSLPort, apiSSL)
	wg.Wait()
	out := probe.NewOutcome(ID)
	for _, err := range errs {
		out.Add(err)
	}
	return obs, out.Err(ctx)
}

func winbox(ctx context.Context, d *netx.Dialer, ap netip.AddrPort) (*Port, error) {
	res := &Port{Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, portTimeout))
	defer cancel()
	c, err := d.Dial(ctx, "tcp", ap)
	if err != nil {
		err = fmt.Errorf("mikrotikprobe: winbox %s: %w", ap, err)
	} else {
		res.Open = true
		c.Close()
	}
	res.Finish(start, err)
	return res, err
}

func api(ctx context.Context, d *netx.Dialer, ap netip.AddrPort) (*Port, error) {
	res := &Port{Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	limit := probe.Deadline(ctx, portTimeout)
	ctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	c, err := d.Dial(ctx, "tcp", ap)
	if err == nil {
		res.Open = true
		err = probe.AfterConnect(quit(ctx, c, limit, res))
		c.Close()
	}
	if err != nil {
		err = fmt.Errorf("mikrotikprobe: api %s: %w", ap, err)
	}
	res.Finish(start, err)
	return res, err
}

func apiSSL(ctx context.Context, d *netx.Dialer, ap netip.AddrPort) (*Port, error) {
	res := &Port{Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	limit := probe.Deadline(ctx, portTimeout)
	ctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	c, err := d.Dial(ctx, "tcp", ap)
	if err != nil {
		err = fmt.Errorf("mikrotikprobe: api-ssl %s: %w", ap, err)
		res.Finish(start, err)
		return res, err
	}
	defer c.Close()
	res.Open = true
	cfg := httpfp.TLSConfig("")
	// The handshake is bounded by the connection deadline (and a cancel
	// moves it to now) rather than by HandshakeContext, whose own close
	// on cancel would race with ours on the netx connection.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(limit)
	tc := tls.Client(c, cfg)
	if err := probe.AfterConnect(tc.Handshake()); err != nil {
		// RouterOS without a certificate offers only anonymous DH, which
		// Go does not implement: the handshake fails, and that is all we
		// can learn.
		err = fmt.Errorf("mikrotikprobe: api-ssl %s: TLS handshake (RouterOS without a certificate allows only anonymous DH): %w", ap, err)
		res.Finish(start, err)
		return res, err
	}
	cs := tc.ConnectionState()
	res.TLS = probe.TLSInfoOf(&cs)
	err = probe.AfterConnect(quit(ctx, tc, limit, res))
	if err != nil {
		err = fmt.Errorf("mikrotikprobe: api-ssl %s: %w", ap, err)
	}
	res.Finish(start, err)
	return res, err
}

// quit sends "/quit" and reads the answer sentence into res.
func quit(ctx context.Context, c net.Conn, limit time.Time, res *Port) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(limit)
	if _, err := c.Write(EncodeSentence("/quit")); err != nil {
		return err
	}
	words, err := ReadSentence(c, maxWords, maxReplyBytes)
	res.Reply = words
	if err != nil {
		return err
	}
	if len(words) == 0 || !isReplyWord(words[0]) {
		return fmt.Errorf("answer %q is not a RouterOS API reply: %w", strings.Join(words, " "), probe.ErrProtocol)
	}
	res.RouterOS = true
	return nil
}

func isReplyWord(w string) bool {
	switch w {
	case "!done", "!trap", "!fatal", "!re", "!empty":
		return true
	}
	return false
}

// Evidence implements probe.Observation.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	for _, p := range []*Port{o.API, o.APISSL} {
		if p == nil {
			continue
		}
		where := netip.AddrPortFrom(o.Addr, p.Port).String()
		if p.RouterOS {
			c.Add(probe.FieldMikroTikAPI, strings.Join(p.Reply, " "), where, "")
		}
		if p.TLS != nil && p.TLS.Certificate != nil {
			c.Add(probe.FieldTLSSubject, p.TLS.Certificate.Subject, where, "")
			c.Add(probe.FieldTLSIssuer, p.TLS.Certificate.Issuer, where, "")
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
