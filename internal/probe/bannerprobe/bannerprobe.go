// SPDX-License-Identifier: Apache-2.0

// Package bannerprobe reads what a device's TCP services say first: the
// SSH identification line, the telnet banner and login prompt (with IAC
// negotiation stripped), the FTP greeting, and the first bytes of any
// other configured port.
//
// The contract: it connects through the netx dialer, reads at most a few
// kilobytes per port, refuses every telnet option, sends FTP "QUIT" after
// the greeting and nothing else anywhere; it never logs in. Every read is
// bounded by the context and by a per-port limit, so a device dripping
// one byte a second ends at the deadline.
package bannerprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "banner"

// Services.
const (
	ServiceSSH    = "ssh"
	ServiceTelnet = "telnet"
	ServiceFTP    = "ftp"
	ServiceRaw    = "raw"
)

// Default ports: the services the advisories tell owners to switch off
// or restrict (brief/THREAT.md §5, brief/CONFIGS.md §3.3).
var (
	DefaultSSHPorts    = []uint16{22}
	DefaultTelnetPorts = []uint16{23}
	DefaultFTPPorts    = []uint16{21}
	// CampaignSSHPorts are the SSH ports reported on the campaign's actor
	// VPS nodes next to dnsmasq-2.85 (brief/THREAT.md §1.3, SECONDARY,
	// single source): an indicator for a suspected rogue resolver, never a
	// default for routers.
	CampaignSSHPorts = []uint16{56777, 35681}
)

const (
	// portTimeout bounds one port: a banner arrives within milliseconds of
	// the connection on a LAN device; five seconds covers a slow WAN path.
	portTimeout = 5 * time.Second
	// telnetIdle ends a telnet read that has data but no prompt: telnetd
	// sends banner and prompt together, then waits for us.
	telnetIdle = 1500 * time.Millisecond
	// rawIdle ends a raw read once the peer falls silent after sending.
	rawIdle = time.Second
	// rawWait is how long a raw port may stay silent before we note it
	// as open and silent (many services wait for the client).
	rawWait = 3 * time.Second
	// Size caps: an SSH identification is at most 255 bytes but may follow
	// other lines; telnet banners and FTP greetings are a few lines.
	maxSSHRead    = 8 << 10
	maxTelnetRead = 4 << 10
	maxFTPRead    = 8 << 10
	maxRawRead    = 1 << 10
)

// Prober is the banner probe.
type Prober struct {
	SSHPorts    []uint16 `json:"ssh_ports" yaml:"ssh_ports"`
	TelnetPorts []uint16 `json:"telnet_ports" yaml:"telnet_ports"`
	FTPPorts    []uint16 `json:"ftp_ports" yaml:"ftp_ports"`
	// RawPorts are read without speaking; none by default.
	RawPorts []uint16 `json:"raw_ports" yaml:"raw_ports"`
}

// New returns a Prober with the default ports.
func New() *Prober {
	return &Prober{SSHPorts: slices.Clone(DefaultSSHPorts), TelnetPorts: slices.Clone(DefaultTelnetPorts),
		FTPPorts: slices.Clone(DefaultFTPPorts)}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	all := slices.Concat(p.SSHPorts, p.TelnetPorts, p.FTPPorts, p.RawPorts)
	if len(all) == 0 {
		return errors.New("bannerprobe: no ports")
	}
	seen := map[uint16]bool{}
	for _, port := range all {
		if port == 0 || seen[port] {
			return fmt.Errorf("bannerprobe: port %d is zero or listed twice", port)
		}
		seen[port] = true
	}
	return nil
}

// Observation is what each port said.
type Observation struct {
	Addr      netip.Addr `json:"addr"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one port's result.
type Endpoint struct {
	probe.Exchange
	Service string `json:"service"`
	// Banner is the text received (telnet: negotiation removed), valid
	// UTF-8, at most a few kilobytes.
	Banner string `json:"banner,omitempty"`
	// Partial is true when the answer was cut by the deadline or the cap.
	Partial bool         `json:"partial,omitempty"`
	SSH     *SSHIdent    `json:"ssh,omitempty"`
	FTP     *FTPGreeting `json:"ftp,omitempty"`
	// TelnetOptions is the negotiation the server started ("DO 1").
	TelnetOptions []string `json:"telnet_options,omitempty"`
	// Prompt is "login" or "password" when the banner ends in one.
	Prompt string `json:"prompt,omitempty"`
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
		service string
		port    uint16
	}
	var jobs []job
	for _, s := range []struct {
		name  string
		ports []uint16
	}{{ServiceSSH, p.SSHPorts}, {ServiceTelnet, p.TelnetPorts}, {ServiceFTP, p.FTPPorts}, {ServiceRaw, p.RawPorts}} {
		for _, port := range s.ports {
			jobs = append(jobs, job{s.name, port})
		}
	}
	obs.Endpoints = make([]Endpoint, len(jobs))
	return obs, probe.NewOutcome(ID).Gather(ctx, len(jobs), func(i int) (err error) {
		obs.Endpoints[i], err = endpoint(ctx, d, t.Addr, jobs[i].service, jobs[i].port)
		return err
	})
}

func endpoint(ctx context.Context, d *netx.Dialer, addr netip.Addr, service string, port uint16) (Endpoint, error) {
	ep := Endpoint{Service: service, Exchange: probe.Exchange{Port: port}}
	start := time.Now()
	limit := probe.Deadline(ctx, portTimeout)
	dctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	c, err := d.Dial(dctx, "tcp", netip.AddrPortFrom(addr, port))
	if err != nil {
		err = fmt.Errorf("bannerprobe: %s %s: %w", service, netip.AddrPortFrom(addr, port), err)
		ep.Finish(start, err)
		return ep, err
	}
	defer c.Close()
	ep.Open = true
	// Cancellation (not only the deadline) must interrupt a blocked read.
	stop := context.AfterFunc(dctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	switch service {
	case ServiceSSH:
		err = readSSH(c, limit, &ep)
	case ServiceTelnet:
		err = readTelnet(c, limit, &ep)
	case ServiceFTP:
		err = readFTP(c, limit, &ep)
	default:
		err = readRaw(c, limit, &ep)
	}
	if err != nil {
		err = fmt.Errorf("bannerprobe: %s %s: %w", service, netip.AddrPortFrom(addr, port), probe.AfterConnect(err))
	}
	ep.Finish(start, err)
	return ep, err
}

// errEmpty reports a service that closed without a word.
var errEmpty = fmt.Errorf("closed without sending anything: %w", probe.ErrProtocol)

// session reads from c, handing each chunk to feed, until feed says the
// answer is complete, the peer closes, max bytes arrived, the limit
// passes, or (idle > 0) the peer falls silent for idle after sending.
// It returns how it ended: nil for complete, quiet or capped.
func session(c net.Conn, limit time.Time, idle time.Duration, max int, feed func([]byte) (bool, []byte, error)) (got int, capped bool, err error) {
	buf := make([]byte, 1024)
	for {
		rd := limit
		if idle > 0 && got > 0 {
			if t := time.Now().Add(idle); t.Before(rd) {
				rd = t
			}
		}
		c.SetReadDeadline(rd)
		n, rerr := c.Read(buf[:min(len(buf), max-got)])
		if n > 0 {
			got += n
			done, reply, ferr := feed(buf[:n])
			if len(reply) > 0 {
				c.SetWriteDeadline(limit)
				if _, werr := c.Write(reply); werr != nil && ferr == nil && !done {
					return got, false, werr
				}
			}
			if ferr != nil || done {
				return got, false, ferr
			}
			if got >= max {
				return got, true, nil
			}
		}
		if rerr != nil {
			var ne net.Error
			if idle > 0 && got > 0 && errors.As(rerr, &ne) && ne.Timeout() && time.Now().Before(limit) {
				return got, false, nil // quiet after talking: the answer is complete
			}
			return got, false, rerr
		}
	}
}

func readSSH(c net.Conn, limit time.Time, ep *Endpoint) error {
	var data []byte
	var id SSHIdent
	got, capped, err := session(c, limit, 0, maxSSHRead, func(b []byte) (bool, []byte, error) {
		data = append(data, b...)
		var ok bool
		var perr error
		id, ok, perr = ParseSSH(data)
		return ok, nil, perr
	})
	line := data
	if i := strings.Index(string(data), "SSH-"); i >= 0 {
		line = data[i:]
	}
	if j := strings.IndexByte(string(line), '\n'); j >= 0 {
		line = line[:j]
	}
	ep.Banner = strings.TrimRight(probe.Text(line, maxSSHLine), "\r")
	if id.Software != "" || id.Proto != "" {
		ep.SSH = &id
		return nil
	}
	ep.Partial = got > 0
	switch {
	case err != nil && got == 0 && errors.Is(err, io.EOF):
		return errEmpty
	case err != nil && errors.Is(err, io.EOF):
		return fmt.Errorf("no SSH identification before close: %w", probe.ErrProtocol)
	case err != nil:
		return err
	case capped:
		return fmt.Errorf("no SSH identification in %d bytes: %w", got, probe.ErrProtocol)
	}
	return fmt.Errorf("no SSH identification: %w", probe.ErrProtocol)
}

func readTelnet(c net.Conn, limit time.Time, ep *Endpoint) error {
	tel := NewTelnet(maxTelnetRead)
	got, capped, err := session(c, limit, telnetIdle, maxTelnetRead, func(b []byte) (bool, []byte, error) {
		reply := tel.Feed(b)
		return Prompt(string(tel.Text())) != "", reply, nil
	})
	ep.Banner = probe.Text(tel.Text(), maxTelnetRead)
	ep.TelnetOptions = tel.Options()
	ep.Prompt = Prompt(ep.Banner)
	ep.Partial = capped
	switch {
	case got == 0 && err != nil && errors.Is(err, io.EOF):
		return errEmpty
	case got > 0 && err != nil && errors.Is(err, io.EOF):
		return nil // banner, then close ("too many users"): still an answer
	case err != nil:
		ep.Partial = ep.Partial || got > 0
		return err
	}
	return nil
}

func readFTP(c net.Conn, limit time.Time, ep *Endpoint) error {
	var data []byte
	var g FTPGreeting
	got, capped, err := session(c, limit, 0, maxFTPRead, func(b []byte) (bool, []byte, error) {
		data = append(data, b...)
		var ok bool
		var perr error
		g, ok, perr = ParseFTP(data)
		return ok, nil, perr
	})
	ep.Banner = probe.Text(data, maxFTPRead)
	if len(g.Lines) > 0 {
		ep.FTP = &g
	}
	if err == nil && !capped && g.Code != 0 {
		// Say goodbye, as a client should; the answer does not matter.
		c.SetWriteDeadline(limit)
		c.Write([]byte("QUIT\r\n"))
		return nil
	}
	ep.Partial = got > 0
	switch {
	case err != nil && got == 0 && errors.Is(err, io.EOF):
		return errEmpty
	case err != nil && errors.Is(err, io.EOF):
		return fmt.Errorf("greeting cut by close: %w", probe.ErrProtocol)
	case err != nil:
		return err
	}
	return fmt.Errorf("greeting longer than %d bytes: %w", got, probe.ErrProtocol)
}

// readRaw records the first bytes of a port. A port that stays silent is
// open and silent (a measurement); the probe does not speak first.
func readRaw(c net.Conn, limit time.Time, ep *Endpoint) error {
	var data []byte
	if wait := time.Now().Add(rawWait); wait.Before(limit) {
		limit = wait
	}
	got, capped, err := session(c, limit, rawIdle, maxRawRead, func(b []byte) (bool, []byte, error) {
		data = append(data, b...)
		return false, nil, nil
	})
	ep.Banner = probe.Text(data, maxRawRead)
	ep.Partial = capped
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case got == 0 && errors.As(err, &ne) && ne.Timeout():
		return nil // open and silent
	case got > 0 && errors.Is(err, io.EOF):
		return nil
	case got == 0 && errors.Is(err, io.EOF):
		return nil // accepted and closed: open, says nothing
	}
	ep.Partial = got > 0
	return err
}

// Evidence implements probe.Observation.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	for _, ep := range o.Endpoints {
		where := netip.AddrPortFrom(o.Addr, ep.Port).String()
		switch {
		case ep.SSH != nil:
			v := ep.SSH.Software
			if ep.SSH.Comments != "" {
				v += " " + ep.SSH.Comments
			}
			c.Add(probe.FieldSSHBanner, v, where, "")
		case ep.FTP != nil:
			for _, l := range ep.FTP.Lines {
				c.Add(probe.FieldFTPBanner, strings.TrimSpace(l), where, "")
			}
		case ep.Service == ServiceTelnet:
			c.Add(probe.FieldTelnetBanner, strings.TrimSpace(ep.Banner), where, "")
		case ep.Service == ServiceRaw:
			c.Add(probe.FieldRawBanner, strings.TrimSpace(ep.Banner), where, "")
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
