// SPDX-License-Identifier: Apache-2.0

// Package probe defines how routerwatch measures a device: the Probe
// contract, the Observation a probe returns, the Evidence strings an
// observation exposes to identification, and the Runner that runs probes
// against many targets with bounded concurrency and deadlines.
//
// The contract, for every probe:
//   - it has a stable, unique, lowercase ID ("http", "upnp");
//   - it reaches the network only through the *netx.Dialer it is given
//     (never net.Dial, http.Get or a library that dials by itself);
//   - it honours the context's deadline and never sleeps on its own clock;
//   - it measures and never judges: no severity, no pass/fail;
//   - it always returns a non-nil Observation, also with an error; the
//     error is about measuring only and is classified with Classify;
//   - it never panics on purpose (the Runner still recovers, and reports
//     a panic as an error result).
//
// The family's members are listed in one place, internal/probeset.
package probe

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// Probe measures one aspect of one device.
type Probe interface {
	// ID returns the probe's stable identifier ("http", "snmp").
	ID() string
	// Probe measures t through d. It returns a non-nil Observation in
	// every case; err is nil when the probe could measure (a closed port
	// is a measurement), else a classified error (see Classify).
	Probe(ctx context.Context, d *netx.Dialer, t Target) (Observation, error)
}

// Validator is implemented by probes whose configuration can be wrong.
// Validate runs once, before any probe runs; it applies defaults.
type Validator interface {
	Validate() error
}

// Target is one device to measure.
type Target struct {
	// Addr is the device's address. It must be in the dialer's scope.
	Addr netip.Addr `json:"addr"`
	// Name is an optional host name sent as the HTTP Host header and TLS
	// server name. It is never resolved: Addr is what gets dialed.
	Name string `json:"name,omitempty"`
}

// String returns the address, with the name when there is one.
func (t Target) String() string {
	if t.Name != "" {
		return fmt.Sprintf("%s (%s)", t.Addr, t.Name)
	}
	return t.Addr.String()
}

// Observation is what one probe measured on one target: plain data that
// can be stored and rendered. Each probe package defines its own type.
type Observation interface {
	// ProbeID returns the ID of the probe that made the observation.
	ProbeID() string
	// Evidence returns the identifying strings the observation holds,
	// for internal/identify. It never returns secrets.
	Evidence() []Evidence
}

// Evidence is one identifying string a probe saw, named by a field from
// the vocabulary in evidence.go.
type Evidence struct {
	// Probe is the ID of the probe that saw the value.
	Probe string `json:"probe"`
	// Field names what the value is ("http.realm", "snmp.sys_descr").
	Field string `json:"field"`
	// Value is the text as seen, made valid UTF-8.
	Value string `json:"value"`
	// Where is the endpoint or URL it came from ("192.0.2.1:80").
	Where string `json:"where,omitempty"`
	// Group ties values that describe one object: the manufacturer and
	// model name of one UPnP device share a Group. Empty means none.
	Group string `json:"group,omitempty"`
}

// None is the observation the Runner reports for a probe that returned no
// data: it panicked, ignored its deadline, or its target was out of scope.
// For a DeviceProbe it still lists the probe's services, each unknown with
// the reason, so that nothing the probe should have measured goes silent.
type None struct {
	Probe string `json:"probe"`

	declared []ServiceSpec
	status   netx.Status
	reason   string
}

// NoneFor is the observation of probe p that returned nothing, with the
// status and error of why.
func NoneFor(p Probe, status netx.Status, err error) *None {
	n := &None{status: status, reason: "the probe did not run"}
	if p != nil {
		n.Probe = p.ID()
		if dp, ok := p.(DeviceProbe); ok {
			n.declared = dp.Declare().Services
		}
	}
	if err != nil {
		n.reason = err.Error()
	}
	return n
}

// ProbeID implements Observation.
func (n *None) ProbeID() string { return n.Probe }

// Evidence implements Observation: there is none.
func (n *None) Evidence() []Evidence { return nil }

// Services implements ServiceObservation: every service the probe
// declares, unknown, with why.
func (n *None) Services() []Service {
	var out []Service
	for _, s := range n.declared {
		out = append(out, Service{Kind: s.Kind, Proto: s.Proto, State: StateUnknown, Status: n.status, Reason: n.reason})
	}
	return out
}

// idPattern is what a probe ID looks like: lowercase, dotted.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:\.[a-z][a-z0-9_]*)*$`)

// CheckSet validates a list of probes: IDs well formed and unique, and
// each Validator's configuration accepted. The Runner calls it once.
func CheckSet(ps []Probe) error {
	if len(ps) == 0 {
		return fmt.Errorf("probe: no probes")
	}
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		if p == nil {
			return fmt.Errorf("probe: probe %d is nil", i)
		}
		id := p.ID()
		if !idPattern.MatchString(id) {
			return fmt.Errorf("probe: ID %q is not lowercase and dotted", id)
		}
		if seen[id] {
			return fmt.Errorf("probe: duplicate ID %q", id)
		}
		seen[id] = true
		if v, ok := p.(Validator); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("probe %s: %w", id, err)
			}
		}
	}
	return nil
}

var _ ServiceObservation = (*None)(nil)
