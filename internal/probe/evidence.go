// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Evidence fields: the vocabulary identification rules are written in.
// A field names what a string is, not which probe saw it, so that one
// rule covers a Server header whether httpprobe or tr069probe read it.
const (
	FieldHTTPServer     = "http.server"           // Server header
	FieldHTTPWWWAuth    = "http.www_authenticate" // whole WWW-Authenticate value
	FieldHTTPRealm      = "http.realm"            // realm of a Basic/Digest challenge
	FieldHTTPTitle      = "http.title"            // <title> text
	FieldHTTPCookie     = "http.set_cookie"       // one Set-Cookie value
	FieldHTTPFaviconMD5 = "http.favicon_md5"      // hex MD5 of /favicon.ico
	// FieldHTTPFaviconMMH3 is the Shodan-style favicon hash, decimal.
	FieldHTTPFaviconMMH3 = "http.favicon_mmh3"
	// FieldTPLinkArray is one element of a legacy TP-Link page array
	// (statusPara, softUpInf), whose positions shift between builds.
	FieldTPLinkArray = "http.tplink_array"
	FieldTLSSubject  = "tls.subject" // certificate subject, RFC 2253 form
	FieldTLSIssuer   = "tls.issuer"  // certificate issuer, RFC 2253 form

	FieldUPnPServer       = "upnp.server" // SSDP or description SERVER header
	FieldUPnPManufacturer = "upnp.manufacturer"
	FieldUPnPModelName    = "upnp.model_name"
	FieldUPnPModelNumber  = "upnp.model_number"
	FieldUPnPModelDesc    = "upnp.model_description"
	FieldUPnPFriendlyName = "upnp.friendly_name"
	// FieldUPnPFirmware is a vendor-specific version element of a device
	// description (firmwareVersion, softwareVersion).
	FieldUPnPFirmware = "upnp.firmware"

	FieldSSHBanner    = "ssh.banner" // identification after "SSH-2.0-"
	FieldTelnetBanner = "telnet.banner"
	FieldFTPBanner    = "ftp.banner" // greeting text after the 220 code
	FieldRawBanner    = "tcp.banner" // first bytes of another TCP port

	FieldSNMPSysDescr    = "snmp.sys_descr"
	FieldSNMPSysObjectID = "snmp.sys_object_id" // dotted, no leading dot
	FieldSNMPSysName     = "snmp.sys_name"

	// FieldMikroTikAPI is the reply of the RouterOS API to a harmless
	// "/quit" ("!fatal session terminated on request").
	FieldMikroTikAPI = "mikrotik.api_reply"

	// FieldDNSVersionBind is the device's answer to CHAOS TXT
	// version.bind: its DNS server's software ("dnsmasq-2.90").
	FieldDNSVersionBind = "dns.version_bind"
)

var fields = []string{
	FieldHTTPServer, FieldHTTPWWWAuth, FieldHTTPRealm, FieldHTTPTitle, FieldHTTPCookie,
	FieldHTTPFaviconMD5, FieldHTTPFaviconMMH3, FieldTPLinkArray, FieldTLSSubject, FieldTLSIssuer,
	FieldUPnPServer, FieldUPnPManufacturer, FieldUPnPModelName, FieldUPnPModelNumber,
	FieldUPnPModelDesc, FieldUPnPFriendlyName, FieldUPnPFirmware,
	FieldSSHBanner, FieldTelnetBanner, FieldFTPBanner, FieldRawBanner,
	FieldSNMPSysDescr, FieldSNMPSysObjectID, FieldSNMPSysName,
	FieldMikroTikAPI,
	FieldDNSVersionBind,
}

// Fields returns the evidence vocabulary, sorted.
func Fields() []string {
	out := slices.Clone(fields)
	slices.Sort(out)
	return out
}

// KnownField reports whether f is in the vocabulary.
func KnownField(f string) bool { return slices.Contains(fields, f) }

// Collector builds an evidence list, dropping empty values and bounding
// each value so that a hostile device cannot make identification slow.
type Collector struct {
	Probe string
	list  []Evidence
}

// MaxEvidenceValue bounds one evidence value in bytes; identifying strings
// (banners, headers, titles) are far shorter.
const MaxEvidenceValue = 1024

// Add appends a value unless it is blank.
func (c *Collector) Add(field, value, where, group string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	if len(value) > MaxEvidenceValue {
		value = strings.ToValidUTF8(value[:MaxEvidenceValue], "")
	}
	c.list = append(c.list, Evidence{Probe: c.Probe, Field: field, Value: value, Where: where, Group: group})
}

// List returns what was collected.
func (c *Collector) List() []Evidence { return c.list }

// Text returns b as valid UTF-8 of at most max bytes: UTF-8 as is, anything
// else read as ISO-8859-1 (every byte a rune), which legacy router pages
// and banners use. Control characters other than tab, CR and LF are
// dropped, so that a device cannot put escape sequences on a terminal.
func Text(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	var sb strings.Builder
	if utf8.Valid(b) {
		sb.Grow(len(b))
		for _, r := range string(b) {
			if keep(r) {
				sb.WriteRune(r)
			}
		}
		return sb.String()
	}
	sb.Grow(min(len(b)*2, max))
	for _, c := range b {
		if !keep(rune(c)) {
			continue
		}
		if sb.Len()+utf8.RuneLen(rune(c)) > max {
			break // the result, too, stays within max bytes
		}
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

func keep(r rune) bool {
	switch {
	case r == '\t' || r == '\r' || r == '\n':
		return true
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return false
	}
	return true
}
