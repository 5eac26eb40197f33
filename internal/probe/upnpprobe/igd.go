// SPDX-License-Identifier: Apache-2.0

package upnpprobe

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/huin/goupnp/soap"

	"github.com/routerwatch/routerwatch/internal/netx"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// WAN connection services that answer the IGD read actions (IGD:1 and
// IGD:2, UPnP-gw-WANIPConnection §2.4).
var wanServices = []string{
	"urn:schemas-upnp-org:service:WANIPConnection:2",
	"urn:schemas-upnp-org:service:WANIPConnection:1",
	"urn:schemas-upnp-org:service:WANPPPConnection:1",
}

const (
	// DefaultMaxMappings bounds the GetGenericPortMappingEntry loop: a home
	// router holds a few dozen mappings; a list without end is a bug or an
	// attack, and the loop must end well inside the deadline.
	DefaultMaxMappings = 64
	// maxSOAPBody caps one SOAP answer; a port mapping entry is ~1 KB.
	maxSOAPBody = 64 << 10
	// igdTimeout bounds all IGD actions together: 65 small SOAP calls take
	// well under a second on a LAN router.
	igdTimeout = 8 * time.Second
)

// IGD is what the gateway's WAN connection service says, read only.
type IGD struct {
	probe.Exchange
	ServiceType string `json:"service_type"`
	ControlURL  string `json:"control_url"`
	// ExternalIP is GetExternalIPAddress's answer, as sent.
	ExternalIP string `json:"external_ip,omitempty"`
	// ExternalIPFault is the SOAP fault when the action was refused.
	ExternalIPFault string `json:"external_ip_fault,omitempty"`
	// Mappings are the entries of GetGenericPortMappingEntry 0, 1, ….
	Mappings []PortMapping `json:"port_mappings,omitempty"`
	// MappingsTruncated is true when the list went on past the limit.
	MappingsTruncated bool `json:"port_mappings_truncated,omitempty"`
	// MappingsEnd is the fault that ended the list ("713 SpecifiedArrayIndexInvalid").
	MappingsEnd string `json:"port_mappings_end,omitempty"`
}

// PortMapping is one GetGenericPortMappingEntry answer.
type PortMapping struct {
	RemoteHost     string `xml:"NewRemoteHost" json:"remote_host,omitempty"`
	ExternalPort   string `xml:"NewExternalPort" json:"external_port"`
	Protocol       string `xml:"NewProtocol" json:"protocol"`
	InternalPort   string `xml:"NewInternalPort" json:"internal_port"`
	InternalClient string `xml:"NewInternalClient" json:"internal_client"`
	Enabled        string `xml:"NewEnabled" json:"enabled"`
	Description    string `xml:"NewPortMappingDescription" json:"description,omitempty"`
	LeaseDuration  string `xml:"NewLeaseDuration" json:"lease_duration,omitempty"`
}

func (m *PortMapping) clean() {
	for _, f := range []*string{&m.RemoteHost, &m.ExternalPort, &m.Protocol, &m.InternalPort, &m.InternalClient, &m.Enabled, &m.Description, &m.LeaseDuration} {
		*f = clean(*f)
	}
}

// readIGD runs the read-only IGD actions on one WAN connection service.
func readIGD(ctx context.Context, d *netx.Dialer, control *url.URL, serviceType string, maxMappings int) IGD {
	res := IGD{ServiceType: serviceType, ControlURL: control.String()}
	port, _ := strconv.Atoi(control.Port())
	res.Port = uint16(port)
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, probe.Deadline(ctx, igdTimeout))
	defer cancel()
	hc := d.HTTPClient(netx.HTTPOptions{MaxBody: maxSOAPBody, MaxRedirects: -1})
	sc := soap.SOAPClient{EndpointURL: *control, HTTPClient: *hc}

	var ext struct {
		NewExternalIPAddress string
	}
	err := sc.PerformActionCtx(ctx, serviceType, "GetExternalIPAddress", nil, &ext)
	var fault *soap.SOAPFaultError
	switch {
	case err == nil:
		res.Open = true
		res.ExternalIP = clean(ext.NewExternalIPAddress)
	case errors.As(err, &fault):
		res.Open = true
		res.ExternalIPFault = faultText(fault)
		err = nil
	default:
		err = soapError("GetExternalIPAddress", err)
		res.Finish(start, err)
		return res
	}

	for i := 0; ; i++ {
		if i == maxMappings {
			res.MappingsTruncated = true
			break
		}
		in := struct{ NewPortMappingIndex string }{strconv.Itoa(i)}
		var m PortMapping
		merr := sc.PerformActionCtx(ctx, serviceType, "GetGenericPortMappingEntry", &in, &m)
		if errors.As(merr, &fault) {
			// 713 SpecifiedArrayIndexInvalid (or 714, 402 on some stacks)
			// is how the list ends.
			res.MappingsEnd = faultText(fault)
			break
		}
		if merr != nil {
			err = soapError("GetGenericPortMappingEntry", merr)
			break
		}
		m.clean()
		res.Mappings = append(res.Mappings, m)
	}
	res.Finish(start, err)
	return res
}

func faultText(f *soap.SOAPFaultError) string {
	if f.Detail.UPnPError.Errorcode == 0 {
		return clean(f.FaultString)
	}
	return clean(strconv.Itoa(f.Detail.UPnPError.Errorcode) + " " + f.Detail.UPnPError.ErrorDescription)
}

// soapError keeps the cause classifiable: goupnp formats transport and
// decoding errors with %v, so the text is all there is.
func soapError(action string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "error decoding response body"), strings.Contains(msg, "error unmarshalling"),
		strings.Contains(msg, "got HTTP"):
		return fmt.Errorf("upnpprobe: %s: %v: %w", action, err, probe.ErrProtocol)
	case strings.Contains(msg, netx.ErrTooLarge.Error()):
		return fmt.Errorf("upnpprobe: %s: %v: %w", action, err, netx.ErrTooLarge)
	case strings.Contains(msg, "deadline exceeded"), strings.Contains(msg, "timeout"):
		return fmt.Errorf("upnpprobe: %s: %v: %w", action, err, context.DeadlineExceeded)
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "connection reset"):
		// The description named this control URL: refusing it is a
		// protocol failure, not a closed port.
		return fmt.Errorf("upnpprobe: %s: %v: %w", action, err, probe.ErrProtocol)
	}
	return fmt.Errorf("upnpprobe: %s: %w", action, err)
}
