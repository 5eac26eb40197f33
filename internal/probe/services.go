// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"

	"github.com/routerwatch/routerwatch/internal/netx"
)

// Kind names a service a device probe measures ("web", "ssh", "snmp").
// The probe that measures it declares it (Declaration.Services); the
// checks judge it by this name.
type Kind string

// State is what one port did when the probe reached for it.
type State string

// States. Closed and Filtered are measurements of absence; Unknown is
// none at all.
const (
	// StateOpen: a TCP connection was made, or something came back over
	// UDP. Service.Confirmed says whether it spoke the protocol.
	StateOpen State = "open"
	// StateClosed: refused (TCP reset, ICMP port unreachable). Nothing
	// listens there, from this vantage.
	StateClosed State = "closed"
	// StateFiltered: a TCP connection attempt got no answer at all.
	StateFiltered State = "filtered"
	// StateSilent: a UDP request got no answer. For SNMP with a wrong
	// community, and for SSDP and NAT-PMP, silence is how a service says
	// no; it is also what a firewall looks like.
	StateSilent State = "silent"
	// StateUnknown: not measured (the probe did not run, panicked, ran
	// out of time, or the address was out of scope). Reason says why.
	StateUnknown State = "unknown"
)

// Service is one port of one service kind, as measured: what a device
// probe's observation says about the services it declares.
type Service struct {
	Kind  Kind   `json:"kind"`
	Proto string `json:"proto"` // "tcp" or "udp"
	Port  uint16 `json:"port"`
	State State  `json:"state"`
	// Confirmed is true when the port spoke the service's protocol (an
	// HTTP answer, an SSH identification, an SNMP response...). Winbox is
	// confirmed by an open port alone: that is all mikrotikprobe asks.
	Confirmed bool `json:"confirmed"`
	// Status is the exchange's classification (netx.Status).
	Status netx.Status `json:"status,omitempty"`
	// Reason is why the state is what it is, for unknown and unconfirmed
	// ports ("timeout: …").
	Reason string `json:"reason,omitempty"`
	// Facts are small details for evidence ("HTTP 401", "realm …",
	// "community public answered"). Never secrets.
	Facts []string `json:"facts,omitempty"`
	// Authenticates is true when the answer asked for credentials (HTTP
	// 401 with a challenge): used by the TR-069 judgement.
	Authenticates bool `json:"authenticates,omitempty"`
	// Communities are the default SNMP communities that answered.
	Communities []string `json:"communities,omitempty"`
	// Recursion is, for DNS, whether the server resolved a name it does
	// not serve for us ("yes", "no", "unknown": dnsprobe.RecursionOf),
	// and RecursionWhy what decided it.
	Recursion    string `json:"recursion,omitempty"`
	RecursionWhy string `json:"recursion_why,omitempty"`
}

// Label is "tcp/8291".
func (s Service) Label() string { return fmt.Sprintf("%s/%d", s.Proto, s.Port) }

// ServiceSpec is one service kind a device probe measures.
type ServiceSpec struct {
	Kind  Kind
	Proto string // "tcp" or "udp"
}

// PortSpec is one set of ports a user may move with --port NAME=PORT:
// "https" moves the web probe's TLS ports, "ssdp" the UPnP probe's
// discovery port.
type PortSpec struct {
	// Name is the word used on the command line ("http", "api-ssl").
	Name  string
	Proto string // "tcp" or "udp"
	// Ports are the probe's current ports for this name (its defaults
	// until SetPorts changes them).
	Ports []uint16
	// Single is true when the probe takes exactly one port.
	Single bool
}

// Declaration is what a device probe says about itself.
type Declaration struct {
	// Services are the kinds its observation reports, in report order.
	Services []ServiceSpec
	// Ports are the port sets a user may move.
	Ports []PortSpec
}

// DeviceProbe is a probe of a device's services (the members of
// internal/probeset). Beyond measuring, it declares what it measures and
// on which ports, and accepts other ports: with this, adding a probe is
// its own package plus one line in probeset, and nothing that consumes
// services (port flags, exposure checks, scan records) switches on
// probe types.
type DeviceProbe interface {
	Probe
	// Declare returns the probe's services and port sets, with its
	// current ports.
	Declare() Declaration
	// SetPorts replaces the ports of the port set name (one of
	// Declare().Ports). Callers validate: ports are non-zero, and one
	// port for a Single set.
	SetPorts(name string, ports []uint16) error
}

// ServiceObservation is implemented by the observations of device
// probes: the ports measured, one Service each, of the kinds the probe
// declares.
type ServiceObservation interface {
	Observation
	Services() []Service
}

// TCPState turns a TCP exchange into a state, with the reason for
// states other than a plain open or closed.
func TCPState(x Exchange) (State, string) {
	if x.Open {
		return StateOpen, ExchangeReason(x)
	}
	switch x.Status {
	case netx.StatusRefused:
		return StateClosed, ""
	case netx.StatusTimeout:
		return StateFiltered, ExchangeReason(x)
	case "":
		return StateUnknown, "not measured"
	}
	// Unreachable, out of scope, canceled, too large before connecting,
	// errors: no statement about the port.
	return StateUnknown, ExchangeReason(x)
}

// UDPState turns a UDP request/response exchange into a state; answered
// says whether a well-formed answer came.
func UDPState(x Exchange, answered bool) (State, string) {
	switch {
	case answered, x.Open:
		return StateOpen, ExchangeReason(x)
	case x.Status == netx.StatusRefused:
		return StateClosed, ""
	case x.Status == netx.StatusTimeout:
		return StateSilent, ""
	case x.Status == "":
		return StateUnknown, "not measured"
	}
	return StateUnknown, ExchangeReason(x)
}

// ExchangeReason is "status: error" for an exchange that did not end
// well, empty for one that did.
func ExchangeReason(x Exchange) string {
	if x.Status == netx.StatusOK || x.Status == "" {
		return ""
	}
	if x.Error == "" {
		return string(x.Status)
	}
	return string(x.Status) + ": " + x.Error
}
