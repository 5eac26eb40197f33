// SPDX-License-Identifier: Apache-2.0

// Package snmpprobe asks a device's SNMP agent who it is: an SNMPv2c GET
// of sysDescr.0, sysObjectID.0 and sysName.0 with each of the well-known
// communities ("public", "private"), recording which community answered.
//
// The contract: GET requests only, never SET; every datagram goes through
// a connected netx UDP socket to the target; gosnmp is used only as the
// message codec (its own network code dials by itself, so it is not
// used). A community that gets no answer is a measurement, not an error.
package snmpprobe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// ID is the probe's identifier.
const ID = "snmp"

// OIDs of the system group (RFC 3418).
const (
	OIDSysDescr    = "1.3.6.1.2.1.1.1.0"
	OIDSysObjectID = "1.3.6.1.2.1.1.2.0"
	OIDSysName     = "1.3.6.1.2.1.1.5.0"
)

// DefaultPort is the SNMP agent port.
const DefaultPort = 161

// DefaultCommunities are the factory defaults the advisories warn about.
var DefaultCommunities = []string{"public", "private"}

const (
	// attemptWait is how long one request waits for its answer: a LAN
	// agent answers in tens of milliseconds (snmpget: 25 ms in the lab),
	// so 1.5 s covers a loaded router or a WAN path.
	attemptWait = 1500 * time.Millisecond
	// attempts: UDP may lose a datagram; one retry, no more (an agent
	// that ignores a community stays silent by design, RFC 3584 §5.2).
	attempts = 2
	// Once the agent has answered one community, its silence for another
	// is no longer a question of a slow path: it answered in rtt, and an
	// agent drops a wrong community at once (net-snmp does not delay it).
	// The remaining communities then wait settleFactor × rtt per attempt,
	// within [minSettle, attemptWait]: 150 ms on a LAN instead of 1.5 s,
	// with the retry kept for a lost datagram.
	settleFactor = 8
	minSettle    = 150 * time.Millisecond
	// maxValue bounds the strings kept from a response.
	maxValue = 1024
)

// Prober is the SNMP probe.
type Prober struct {
	Port uint16 `json:"port" yaml:"port"`
	// Communities to try. Names not in DefaultCommunities are treated as
	// secrets: they are sent but never recorded.
	Communities []string `json:"communities" yaml:"communities"`
}

// New returns a Prober with the defaults.
func New() *Prober {
	return &Prober{Port: DefaultPort, Communities: slices.Clone(DefaultCommunities)}
}

// ID implements probe.Probe.
func (p *Prober) ID() string { return ID }

// Validate implements probe.Validator.
func (p *Prober) Validate() error {
	if p.Port == 0 {
		return errors.New("snmpprobe: port 0")
	}
	if len(p.Communities) == 0 {
		return errors.New("snmpprobe: no communities")
	}
	for _, c := range p.Communities {
		if c == "" || len(c) > 255 {
			return errors.New("snmpprobe: empty or over-long community")
		}
	}
	return nil
}

// Observation is what each community got.
type Observation struct {
	Addr        netip.Addr  `json:"addr"`
	Port        uint16      `json:"port"`
	Communities []Community `json:"communities"`
}

// Community is the result for one community.
type Community struct {
	probe.Exchange
	// Name is the community when it is a well-known default, else
	// "configured-N" (a configured community may be a secret).
	Name string `json:"name"`
	// Answered is true when the agent answered this community.
	Answered bool `json:"answered"`
	// ErrorStatus is the agent's error-status when not noError.
	ErrorStatus string `json:"error_status,omitempty"`
	SysDescr    string `json:"sys_descr,omitempty"`
	SysObjectID string `json:"sys_object_id,omitempty"` // dotted, no leading dot
	SysName     string `json:"sys_name,omitempty"`
}

// ProbeID implements probe.Observation.
func (o *Observation) ProbeID() string { return ID }

// Probe implements probe.Probe.
func (p *Prober) Probe(ctx context.Context, d *netx.Dialer, t probe.Target) (probe.Observation, error) {
	return p.Measure(ctx, d, t)
}

// Measure is Probe with the concrete observation type.
func (p *Prober) Measure(ctx context.Context, d *netx.Dialer, t probe.Target) (*Observation, error) {
	obs := &Observation{Addr: t.Addr, Port: p.Port, Communities: make([]Community, len(p.Communities))}
	if err := p.Validate(); err != nil {
		return obs, probe.Wrap(ID, err)
	}
	// Silence is the normal answer to a wrong community, and a refused
	// port (ICMP unreachable) means no agent: both are measurements. The
	// probe failed only when a community failed for another reason and
	// none answered.
	st := &settle{answered: make(chan struct{})}
	return obs, probe.NewUDPOutcome(ctx, ID).Gather(ctx, len(p.Communities), func(i int) (err error) {
		obs.Communities[i], err = query(ctx, d, netip.AddrPortFrom(t.Addr, p.Port), p.Communities[i], i, st)
		return err
	})
}

// settle is what the communities of one agent share: whether, and how
// fast, the agent answered one of them.
type settle struct {
	once     sync.Once
	answered chan struct{} // closed at the first answer
	rtt      time.Duration // set before answered is closed
}

// answer records the first answer's round-trip time.
func (s *settle) answer(rtt time.Duration) {
	s.once.Do(func() {
		s.rtt = rtt
		close(s.answered)
	})
}

// wait is how long an attempt waits: attemptWait, or a few round trips
// once the agent has answered another community.
func (s *settle) wait() time.Duration {
	select {
	case <-s.answered:
		return min(max(settleFactor*s.rtt, minSettle), attemptWait)
	default:
		return attemptWait
	}
}

func displayName(comm string, i int) string {
	if slices.Contains(DefaultCommunities, comm) {
		return comm
	}
	return fmt.Sprintf("configured-%d", i+1)
}

// query sends a GET with one community and waits for its answer.
func query(ctx context.Context, d *netx.Dialer, ap netip.AddrPort, comm string, i int, st *settle) (Community, error) {
	res := Community{Name: displayName(comm, i), Exchange: probe.Exchange{Port: ap.Port()}}
	start := time.Now()
	var idb [4]byte
	rand.Read(idb[:])
	reqID := binary.BigEndian.Uint32(idb[:]) & 0x7fffffff
	req, err := Encode(comm, reqID)
	if err != nil {
		res.Finish(start, err)
		return res, err
	}
	c, err := d.Dial(ctx, "udp", ap)
	if err != nil {
		err = fmt.Errorf("snmpprobe: %s: %w", ap, err)
		res.Finish(start, err)
		return res, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	buf := make([]byte, 65535)
	var garbage error
	for range attempts {
		if ctx.Err() != nil {
			break
		}
		sent := time.Now()
		attemptLimit := probe.Deadline(ctx, st.wait())
		c.SetDeadline(attemptLimit)
		if _, err = c.Write(req); err != nil {
			break
		}
		// When another community is answered during this attempt, cut
		// its wait to the settle time (a deadline never moves later).
		shorten := make(chan struct{})
		go func() {
			select {
			case <-st.answered:
				if limit := sent.Add(st.wait()); limit.Before(attemptLimit) {
					c.SetReadDeadline(limit)
				}
			case <-shorten:
			}
		}()
		for {
			var n int
			n, err = c.Read(buf)
			if err != nil {
				break
			}
			res.Open = true
			r, derr := Decode(buf[:n], comm, reqID)
			if derr != nil {
				garbage = derr // keep waiting for the real answer
				continue
			}
			close(shorten)
			st.answer(time.Since(sent))
			res.Answered = true
			res.ErrorStatus, res.SysDescr, res.SysObjectID, res.SysName = r.ErrorStatus, r.SysDescr, r.SysObjectID, r.SysName
			res.Finish(start, nil)
			return res, nil
		}
		close(shorten)
		if probe.Classify(err) != netx.StatusTimeout {
			break
		}
	}
	if garbage != nil && probe.Classify(err) == netx.StatusTimeout {
		err = garbage
	}
	err = fmt.Errorf("snmpprobe: %s community %s: %w", ap, res.Name, err)
	res.Finish(start, err)
	return res, err
}

// Encode builds an SNMPv2c GetRequest for the system OIDs.
func Encode(community string, reqID uint32) ([]byte, error) {
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: community}
	// SnmpEncodePacket uses the next ID after the one set.
	g.SetRequestID(reqID - 1)
	pdus := []gosnmp.SnmpPDU{
		{Name: OIDSysDescr, Type: gosnmp.Null},
		{Name: OIDSysObjectID, Type: gosnmp.Null},
		{Name: OIDSysName, Type: gosnmp.Null},
	}
	b, err := g.SnmpEncodePacket(gosnmp.GetRequest, pdus, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("snmpprobe: encode: %w", err)
	}
	return b, nil
}

// Response is a decoded answer to the probe's GET.
type Response struct {
	ErrorStatus string
	SysDescr    string
	SysObjectID string
	SysName     string
}

// Decode reads an answer and checks it is the answer to our request: a
// v2c GetResponse with our request ID and community. Sample (hex) of the
// start of net-snmp's answer:
//
//	30 81 8f 02 01 01 04 06 70 75 62 6c 69 63 a2 81 81 02 04 <request-id> …
func Decode(b []byte, community string, reqID uint32) (Response, error) {
	var r Response
	if len(b) < 2 || b[0] != 0x30 {
		return r, fmt.Errorf("snmpprobe: not an SNMP message: %w", probe.ErrProtocol)
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: community}
	pkt, err := g.SnmpDecodePacket(b)
	if err != nil {
		return r, fmt.Errorf("snmpprobe: decode: %v: %w", err, probe.ErrProtocol)
	}
	switch {
	case pkt.PDUType != gosnmp.GetResponse:
		return r, fmt.Errorf("snmpprobe: PDU type %v, not a response: %w", pkt.PDUType, probe.ErrProtocol)
	case pkt.RequestID != reqID:
		return r, fmt.Errorf("snmpprobe: response to another request: %w", probe.ErrProtocol)
	case pkt.Community != community:
		return r, fmt.Errorf("snmpprobe: response with another community: %w", probe.ErrProtocol)
	}
	if pkt.Error != gosnmp.NoError {
		r.ErrorStatus = pkt.Error.String()
	}
	for _, v := range pkt.Variables {
		name := strings.TrimPrefix(v.Name, ".")
		switch name {
		case OIDSysDescr:
			r.SysDescr = text(v)
		case OIDSysObjectID:
			if s, ok := v.Value.(string); ok && v.Type == gosnmp.ObjectIdentifier {
				r.SysObjectID = probe.Text([]byte(strings.TrimPrefix(s, ".")), maxValue)
			}
		case OIDSysName:
			r.SysName = text(v)
		}
	}
	return r, nil
}

func text(v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok && v.Type == gosnmp.OctetString {
		return probe.Text(b, maxValue)
	}
	return ""
}

// Evidence implements probe.Observation. Each answering community's
// values are one group (they describe the same agent).
func (o *Observation) Evidence() []probe.Evidence {
	c := probe.Collector{Probe: ID}
	seen := map[string]bool{}
	for _, r := range o.Communities {
		if !r.Answered {
			continue
		}
		where := netip.AddrPortFrom(o.Addr, o.Port).String()
		for _, kv := range []struct{ field, value string }{
			{probe.FieldSNMPSysDescr, r.SysDescr}, {probe.FieldSNMPSysObjectID, r.SysObjectID}, {probe.FieldSNMPSysName, r.SysName},
		} {
			// Both communities usually see the same agent: report once.
			if seen[kv.field+"\x00"+kv.value] {
				continue
			}
			seen[kv.field+"\x00"+kv.value] = true
			c.Add(kv.field, kv.value, where, where)
		}
	}
	return c.List()
}

var (
	_ probe.Probe       = (*Prober)(nil)
	_ probe.Validator   = (*Prober)(nil)
	_ probe.Observation = (*Observation)(nil)
)
