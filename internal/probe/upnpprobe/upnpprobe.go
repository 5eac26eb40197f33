// SPDX-License-Identifier: Apache-2.0

// Package upnpprobe measures a device's UPnP and NAT port-mapping
// services: SSDP discovery, the device description (manufacturer, model,
// firmware fields), the Internet Gateway Device's external address and
// port mappings (read only), NAT-PMP's external address and whether PCP
// answers.
//
// The contract: M-SEARCH goes by unicast to the target, and to the SSDP
// multicast group only when the dialer's scope contains that group;
// descriptions and control URLs are fetched only from the target's own
// address; IGD actions are the read-only GetExternalIPAddress and
// GetGenericPortMappingEntry (bounded); nothing is ever mapped, deleted
// or changed. XML is parsed strictly, without expanding a document's own
// entities, from bodies capped by netx.
package upnpprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "upnp"

// DefaultSSDPPort is the SSDP port.
const DefaultSSDPPort = 1900

const (
	// ssdpWait bounds discovery: UDA asks devices to answer a unicast
	// search at once and a multicast one within MX (1 s).
	ssdpWait = 2 * time.Second
	// ssdpResend is when the search is sent again if nothing came back
	// (UDP loss).
	ssdpResend = 500 * time.Millisecond
	// ssdpQuiet ends discovery this long after the last answer: a device
	// sends its answers in one burst.
	ssdpQuiet = 300 * time.Millisecond
	// maxLocations bounds the descriptions fetched per device.
	maxLocations = 4
	// maxDescription caps a description: real ones are 2–20 KB; a 50 MB
	// one must be refused, not parsed.
	maxDescription = 1 << 20
	// fetchTimeout bounds one description fetch.
	fetchTimeout = 5 * time.Second
)

// Prober is the UPnP probe.
type Prober struct {
	SSDPPort uint16 `json:"ssdp_port" yaml:"ssdp_port"`
	// Multicast also sends M-SEARCH to the SSDP group when the scope
	// contains MulticastGroup.
	Multicast  bool   `json:"multicast" yaml:"multicast"`
	NATPMPPort uint16 `json:"natpmp_port" yaml:"natpmp_port"`
	// MaxMappings bounds the port mappings read; 0 means the default.
	MaxMappings int `json:"max_mappings" yaml:"max_mappings"`
}

// New returns a Prober with the defaults.
func New() *Prober {
	return &Prober{SSDPPort: DefaultSSDPPort, Multicast: true, NATPMPPort: DefaultNATPMPPort, MaxMappings: DefaultMaxMappings}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	if p.SSDPPort == 0 || p.NATPMPPort == 0 {
		return fmt.Errorf("upnpprobe: port 0")
	}
	if p.MaxMappings < 0 || p.MaxMappings > 4096 {
		return fmt.Errorf("upnpprobe: max_mappings %d out of 0..4096", p.MaxMappings)
	}
	return nil
}

// Observation is what the device's UPnP and NAT-PMP/PCP services said.
type Observation struct {
	Addr         netip.Addr          `json:"addr"`
	SSDP         SSDP                `json:"ssdp"`
	Descriptions []DescriptionResult `json:"descriptions,omitempty"`
	IGD          *IGD                `json:"igd,omitempty"`
	NATPMP       NATPMP              `json:"natpmp"`
	PCP          PCP                 `json:"pcp"`
}

// SSDP is the discovery result.
type SSDP struct {
	probe.Exchange
	// Multicast is true when the search also went to the SSDP group.
	Multicast bool           `json:"multicast"`
	Responses []SSDPResponse `json:"responses,omitempty"`
}

// DescriptionResult is one fetched description.
type DescriptionResult struct {
	probe.Exchange
	URL string `json:"url"`
	// Server is the Server header of the description's HTTP answer.
	Server      string       `json:"server,omitempty"`
	Description *Description `json:"description,omitempty"`
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Probe implements probe.Probe.
func (p *Prober) Probe(ctx context.Context, d *netx.Dialer, t probe.Target) (probe.Observation, error) {
	return p.Measure(ctx, d, t)
}

// Measure is Probe with the concrete observation type. Unlike the
// multi-port probes, its error reports any sub-step that failed other
// than by silence or a closed port (a 50 MB description, garbage on
// SSDP), even when another step answered: the steps are one service.
func (p *Prober) Measure(ctx context.Context, d *netx.Dialer, t probe.Target) (*Observation, error) {
	obs := &Observation{Addr: t.Addr}
	if err := p.Validate(); err != nil {
		return obs, probe.Wrap(ID, err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { obs.NATPMP = natpmp(ctx, d, netip.AddrPortFrom(t.Addr, p.NATPMPPort)) })
	wg.Go(func() { obs.PCP = pcp(ctx, d, netip.AddrPortFrom(t.Addr, p.NATPMPPort)) })
	obs.SSDP = p.discover(ctx, d, t.Addr)
	for _, loc := range locations(obs.SSDP.Responses, t.Addr) {
		obs.Descriptions = append(obs.Descriptions, describe(ctx, d, loc))
	}
	if ctl, st, ok := findWAN(obs.Descriptions, t.Addr); ok {
		max := p.MaxMappings
		if max == 0 {
			max = DefaultMaxMappings
		}
		igd := readIGD(ctx, d, ctl, st, max)
		obs.IGD = &igd
	}
	wg.Wait()

	// Silence on UDP and closed ports are measurements; anything else
	// that failed (a TCP timeout, garbage, a description over the cap)
	// is the probe's error.
	var first error
	note := func(x probe.Exchange, udp bool) {
		switch {
		case first != nil, x.Status == "", x.Status == netx.StatusOK, x.Status == netx.StatusRefused:
		case udp && x.Status == netx.StatusTimeout && !x.Open:
		default:
			first = &probe.Error{Probe: ID, Status: x.Status, Err: errors.New(x.Error)}
		}
	}
	note(obs.SSDP.Exchange, true)
	for _, dr := range obs.Descriptions {
		note(dr.Exchange, false)
	}
	if obs.IGD != nil {
		note(obs.IGD.Exchange, false)
	}
	note(obs.NATPMP.Exchange, true)
	note(obs.PCP.Exchange, true)
	if first != nil {
		return obs, first
	}
	answered := obs.SSDP.Answered() || obs.NATPMP.Answered || obs.PCP.Answered
	if err := ctx.Err(); err != nil && !answered {
		return obs, probe.Wrap(ID, err)
	}
	return obs, nil
}

// discover sends M-SEARCH and collects the target's answers.
func (p *Prober) discover(ctx context.Context, d *netx.Dialer, addr netip.Addr) SSDP {
	res := SSDP{Exchange: probe.Exchange{Port: p.SSDPPort}}
	start := time.Now()
	network := "udp6"
	if addr.Is4() {
		network = "udp4"
	}
	pc, err := d.ListenUDP(ctx, network)
	if err != nil {
		res.Finish(start, fmt.Errorf("upnpprobe: SSDP socket: %w", err))
		return res
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.SetDeadline(time.Now()) })
	defer stop()

	unicast := netip.AddrPortFrom(addr, p.SSDPPort)
	group := netip.AddrPortFrom(MulticastGroup, DefaultSSDPPort)
	res.Multicast = p.Multicast && addr.Is4() && d.Check(MulticastGroup) == nil
	send := func() error {
		if _, err := pc.WriteTo(MSearch(unicast, false), unicast); err != nil {
			return err
		}
		if res.Multicast {
			if _, err := pc.WriteTo(MSearch(group, true), group); err != nil {
				return err
			}
		}
		return nil
	}
	if err := send(); err != nil {
		res.Finish(start, fmt.Errorf("upnpprobe: M-SEARCH: %w", err))
		return res
	}
	rs, open, bad, err := collect(ctx, pc, addr, send)
	res.Open = open
	for _, r := range rs {
		if len(res.Responses) < maxResponses {
			res.Responses = append(res.Responses, r)
		}
	}
	switch {
	case len(res.Responses) > 0:
		err = nil
	case bad != nil:
		err = bad
	case err != nil:
		err = fmt.Errorf("upnpprobe: no SSDP answer from %s: %w", unicast, err)
	}
	res.Finish(start, err)
	return res
}

// collect reads the answers addr sends until it falls quiet after its
// burst, ssdpWait passes, or ctx ends; when nothing came by ssdpResend it
// searches once more. It returns the answers, whether anything came from
// addr, the last unparseable answer, and the read error that ended it
// (nil after a quiet gap).
func collect(ctx context.Context, pc *netx.PacketConn, addr netip.Addr, resend func() error) (rs []SSDPResponse, open bool, bad, err error) {
	limit := probe.Deadline(ctx, ssdpWait)
	again := time.Now().Add(ssdpResend)
	var last time.Time
	buf := make([]byte, 8192)
	for len(rs) < maxResponses {
		rd := limit
		switch {
		case !last.IsZero():
			rd = minTime(rd, last.Add(ssdpQuiet))
		case !again.IsZero():
			rd = minTime(rd, again)
		}
		pc.SetDeadline(rd)
		n, from, rerr := pc.ReadFrom(buf)
		if rerr != nil {
			if probe.Classify(rerr) != netx.StatusTimeout || !time.Now().Before(limit) || ctx.Err() != nil {
				return rs, open, bad, rerr
			}
			if !last.IsZero() {
				return rs, open, bad, nil // quiet after the burst
			}
			if !again.IsZero() {
				again = time.Time{}
				pc.SetDeadline(limit) // the read deadline just passed; let the write through
				if werr := resend(); werr != nil {
					return rs, open, bad, fmt.Errorf("upnpprobe: M-SEARCH: %w", werr)
				}
			}
			continue
		}
		if from.Addr() != addr {
			continue // another in-scope device answering the multicast search
		}
		open = true
		r, perr := ParseSSDP(buf[:n])
		if perr != nil {
			bad = perr
			continue
		}
		r.From = from.String()
		rs = append(rs, r)
		last = time.Now()
	}
	return rs, open, bad, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// locations returns the distinct description URLs the target gave that
// point at the target itself, over plain HTTP.
func locations(rs []SSDPResponse, addr netip.Addr) []*url.URL {
	var out []*url.URL
	seen := map[string]bool{}
	for _, r := range rs {
		u, ok := onTarget(r.Location, nil, addr)
		if !ok || seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		out = append(out, u)
		if len(out) == maxLocations {
			break
		}
	}
	return out
}

// onTarget resolves ref (against base when non-nil) and accepts it only
// when it is an http URL naming addr as an IP literal.
func onTarget(ref string, base *url.URL, addr netip.Addr) (*url.URL, bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	a, err := netip.ParseAddr(u.Hostname())
	if u.Scheme != "http" || err != nil || a.Unmap() != addr.Unmap() {
		return nil, false
	}
	if u.Port() == "" {
		u.Host = netip.AddrPortFrom(a, 80).String()
	}
	return u, true
}

// describe fetches and parses one description.
func describe(ctx context.Context, d *netx.Dialer, u *url.URL) DescriptionResult {
	res := DescriptionResult{URL: u.String()}
	port, _ := netip.ParseAddrPort(u.Host)
	res.Port = port.Port()
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, fetchTimeout))
	defer cancel()
	c := d.HTTPClient(netx.HTTPOptions{MaxBody: maxDescription, MaxRedirects: -1})
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "routerwatch UPnP/1.1 audit/1")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		res.Open = true
		res.Server = clean(resp.Header.Get("Server"))
		body, err := readAll(resp)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %w", resp.StatusCode, probe.ErrProtocol)
		}
		desc, err := ParseDescription(body)
		res.Description = desc
		return err
	}()
	if err != nil {
		// The device announced this URL: refusing it is not "closed".
		err = fmt.Errorf("upnpprobe: description %s: %w", u, probe.AfterConnect(err))
	}
	res.Finish(start, err)
	return res
}

// readAll reads a capped body; unlike a page, a cut description is
// useless, so the cap (netx.ErrTooLarge) is an error.
func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }

// findWAN returns the control URL of the first WAN connection service.
func findWAN(ds []DescriptionResult, addr netip.Addr) (*url.URL, string, bool) {
	for _, st := range wanServices {
		for _, dr := range ds {
			if dr.Description == nil {
				continue
			}
			base, err := url.Parse(dr.URL)
			if err != nil {
				continue
			}
			if dr.Description.URLBase != "" {
				if b, ok := onTarget(dr.Description.URLBase, nil, addr); ok {
					base = b
				}
			}
			for _, dev := range dr.Description.Devices {
				for _, s := range dev.Services {
					if s.Type != st || s.ControlURL == "" {
						continue
					}
					if u, ok := onTarget(s.ControlURL, base, addr); ok {
						return u, st, true
					}
				}
			}
		}
	}
	return nil, "", false
}

// Answered reports whether discovery got an answer.
func (s *SSDP) Answered() bool { return len(s.Responses) > 0 }

// Evidence implements probe.Observation.
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	seen := map[string]bool{}
	for _, r := range o.SSDP.Responses {
		if !seen[r.Server] {
			seen[r.Server] = true
			c.Add(probe.FieldUPnPServer, r.Server, r.From, "")
		}
	}
	for _, dr := range o.Descriptions {
		if !seen[dr.Server] {
			seen[dr.Server] = true
			c.Add(probe.FieldUPnPServer, dr.Server, dr.URL, "")
		}
		if dr.Description == nil {
			continue
		}
		for i, dev := range dr.Description.Devices {
			g := fmt.Sprintf("%s#%d", dr.URL, i)
			c.Add(probe.FieldUPnPManufacturer, dev.Manufacturer, dr.URL, g)
			c.Add(probe.FieldUPnPModelName, dev.ModelName, dr.URL, g)
			c.Add(probe.FieldUPnPModelNumber, dev.ModelNumber, dr.URL, g)
			c.Add(probe.FieldUPnPModelDesc, dev.ModelDescription, dr.URL, g)
			c.Add(probe.FieldUPnPFriendlyName, dev.FriendlyName, dr.URL, g)
			for _, kv := range dev.Firmware {
				c.Add(probe.FieldUPnPFirmware, kv.Value, dr.URL+"#"+kv.Name, g)
			}
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
