// SPDX-License-Identifier: Apache-2.0

package upnpprobe

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/routerwatch/routerwatch/internal/probe"
)

// Bounds on a parsed description. An IGD describes a root device with two
// or three embedded devices and a handful of services each.
const (
	maxDevices  = 16
	maxServices = 32
	maxDepth    = 6
	maxField    = 512
	maxExtra    = 8
)

// Device is one UPnP device of a description (root or embedded). The
// serial number and UDN are deliberately not kept: they identify one unit,
// not a model, and the probe has no use for them.
type Device struct {
	DeviceType       string    `json:"device_type,omitempty"`
	FriendlyName     string    `json:"friendly_name,omitempty"`
	Manufacturer     string    `json:"manufacturer,omitempty"`
	ManufacturerURL  string    `json:"manufacturer_url,omitempty"`
	ModelDescription string    `json:"model_description,omitempty"`
	ModelName        string    `json:"model_name,omitempty"`
	ModelNumber      string    `json:"model_number,omitempty"`
	ModelURL         string    `json:"model_url,omitempty"`
	PresentationURL  string    `json:"presentation_url,omitempty"`
	Firmware         []KV      `json:"firmware,omitempty"` // vendor version elements
	Services         []Service `json:"services,omitempty"`
}

// KV is a vendor-specific element of a device ("firmwareVersion").
type KV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Service is one service of a device.
type Service struct {
	Type       string `json:"type"`
	ControlURL string `json:"control_url,omitempty"`
}

// xmlDevice mirrors the <device> element (UDA 1.1 §2.3).
type xmlDevice struct {
	DeviceType       string       `xml:"deviceType"`
	FriendlyName     string       `xml:"friendlyName"`
	Manufacturer     string       `xml:"manufacturer"`
	ManufacturerURL  string       `xml:"manufacturerURL"`
	ModelDescription string       `xml:"modelDescription"`
	ModelName        string       `xml:"modelName"`
	ModelNumber      string       `xml:"modelNumber"`
	ModelURL         string       `xml:"modelURL"`
	PresentationURL  string       `xml:"presentationURL"`
	Services         []xmlService `xml:"serviceList>service"`
	Devices          []xmlDevice  `xml:"deviceList>device"`
	Other            []xmlOther   `xml:",any"`
}

type xmlService struct {
	ServiceType string `xml:"serviceType"`
	ControlURL  string `xml:"controlURL"`
}

type xmlOther struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type xmlRoot struct {
	XMLName xml.Name  `xml:"root"`
	URLBase string    `xml:"URLBase"`
	Device  xmlDevice `xml:"device"`
}

// Description is a parsed device description.
type Description struct {
	URLBase string   `json:"url_base,omitempty"`
	Devices []Device `json:"devices"` // root first, then embedded, depth first
}

// firmwareElement matches vendor elements that carry a version: TP-Link,
// AVM and others add firmwareVersion, softwareVersion, hardwareVersion.
var firmwareElement = regexp.MustCompile(`(?i)(firmware|software|hardware)[_-]?(version|ver|rev)?$`)

var encodingDecl = regexp.MustCompile(`^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']`)

// ParseDescription reads a UPnP device description. Sample (the start of
// miniupnpd's rootDesc.xml, with the lab's TP-Link-like settings):
//
//	<?xml version="1.0"?>
//	<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337">
//	<specVersion><major>1</major><minor>1</minor></specVersion>
//	<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
//	<friendlyName>TL-WR841N</friendlyName><manufacturer>TP-LINK</manufacturer>
//	<modelName>TL-WR841N</modelName><modelNumber>10.0</modelNumber>…
//	<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
//	<controlURL>/ctl/IPConn</controlURL>…
//
// Entities: encoding/xml expands only the predefined and the HTML named
// entities given to it; a DOCTYPE's own entity definitions are never
// expanded, so "billion laughs" documents fail instead of growing. Bytes
// that are not valid in the declared encoding are replaced, not refused:
// ISO-8859-1 and Windows-1252 documents are decoded as ISO-8859-1, and
// invalid UTF-8 becomes U+FFFD.
func ParseDescription(b []byte) (*Description, error) {
	b = toUTF8(b)
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	// The body is already UTF-8; whatever the prolog declares, read it as is.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var root xmlRoot
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("upnpprobe: description: %v: %w", err, probe.ErrProtocol)
	}
	d := &Description{URLBase: clean(root.URLBase)}
	flatten(&root.Device, 0, &d.Devices)
	if r := &d.Devices[0]; r.DeviceType == "" && r.Manufacturer == "" && r.ModelName == "" && r.FriendlyName == "" && len(r.Services) == 0 {
		return d, fmt.Errorf("upnpprobe: description has an empty root device: %w", probe.ErrProtocol)
	}
	return d, nil
}

func toUTF8(b []byte) []byte {
	enc := ""
	if m := encodingDecl.FindSubmatch(b[:min(len(b), 256)]); m != nil {
		enc = strings.ToLower(string(m[1]))
	}
	switch enc {
	case "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii":
		if utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x80 }) {
			return b
		}
		out := make([]byte, 0, len(b)+len(b)/8)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return out
	}
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

func clean(s string) string {
	return strings.TrimSpace(probe.Text([]byte(strings.TrimSpace(s)), maxField))
}

func flatten(x *xmlDevice, depth int, out *[]Device) {
	if len(*out) >= maxDevices || depth > maxDepth {
		return
	}
	d := Device{
		DeviceType:       clean(x.DeviceType),
		FriendlyName:     clean(x.FriendlyName),
		Manufacturer:     clean(x.Manufacturer),
		ManufacturerURL:  clean(x.ManufacturerURL),
		ModelDescription: clean(x.ModelDescription),
		ModelName:        clean(x.ModelName),
		ModelNumber:      clean(x.ModelNumber),
		ModelURL:         clean(x.ModelURL),
		PresentationURL:  clean(x.PresentationURL),
	}
	for _, o := range x.Other {
		if len(d.Firmware) < maxExtra && firmwareElement.MatchString(o.XMLName.Local) && strings.TrimSpace(o.Value) != "" {
			d.Firmware = append(d.Firmware, KV{Name: clean(o.XMLName.Local), Value: clean(o.Value)})
		}
	}
	for _, s := range x.Services {
		if len(d.Services) >= maxServices {
			break
		}
		d.Services = append(d.Services, Service{Type: clean(s.ServiceType), ControlURL: clean(s.ControlURL)})
	}
	*out = append(*out, d)
	for i := range x.Devices {
		flatten(&x.Devices[i], depth+1, out)
	}
}
