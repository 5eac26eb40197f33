// SPDX-License-Identifier: Apache-2.0

package identify

import (
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/identify/recog"
	"github.com/routerwatch/routerwatch/internal/probe"
)

// recogKeys maps evidence fields to the recog sets that fingerprint the
// same kind of string. telnet_banners.xml has no "matches" attribute, so
// its key is its file name.
var recogKeys = map[string][]string{
	probe.FieldHTTPServer:      {"http_header.server"},
	probe.FieldUPnPServer:      {"http_header.server"},
	probe.FieldHTTPWWWAuth:     {"http_header.wwwauth"},
	probe.FieldHTTPTitle:       {"html_title"},
	probe.FieldHTTPCookie:      {"http_header.cookie"},
	probe.FieldHTTPFaviconMD5:  {"favicon.md5"},
	probe.FieldTLSSubject:      {"x509.subject"},
	probe.FieldTLSIssuer:       {"x509.issuer"},
	probe.FieldSSHBanner:       {"ssh.banner"},
	probe.FieldFTPBanner:       {"ftp.banner"},
	probe.FieldTelnetBanner:    {"telnet_banners"},
	probe.FieldSNMPSysDescr:    {"snmp.sys_description"},
	probe.FieldSNMPSysObjectID: {"snmp.sys_object_id"},
}

// RecogKeys returns the recog sets an evidence field is matched against.
func RecogKeys(field string) []string {
	if k, ok := strings.CutPrefix(field, "recog."); ok {
		return []string{k}
	}
	return slices.Clone(recogKeys[field])
}

// fromRecog matches one evidence string against recog, if loaded.
func (id *Identifier) fromRecog(cands []candidate, e probe.Evidence, all []probe.Evidence) []candidate {
	if id.recog == nil {
		return cands
	}
	value := e.Value
	if e.Field == probe.FieldSNMPSysObjectID {
		// recog's sysObjectID patterns read "<oid> <sysDescr>".
		for _, o := range all {
			if o.Group != "" && o.Group == e.Group && o.Field == probe.FieldSNMPSysDescr {
				value += " " + o.Value
				break
			}
		}
	}
	for _, key := range RecogKeys(e.Field) {
		m, ok := id.recog.Match(key, value)
		if !ok {
			continue
		}
		v := valuesFromRecog(m)
		if v == (Values{}) {
			continue
		}
		// recog is a broad community database, not vetted for this
		// tool's verdicts: its word is low confidence.
		src := Source{Probe: e.Probe, Evidence: e.Field, Value: e.Value, Where: e.Where,
			Rule: "recog:" + m.Fingerprint.Name(), Confidence: finding.ConfidenceLow}
		cands = addValues(cands, normalize(v), finding.ConfidenceLow, false, src)
	}
	return cands
}

// networkDevices are recog device kinds whose captured service.product is
// the device model (TP-Link's UPnP SERVER "ipos/7.0 UPnP/1.0 TL-WR841N/8.0").
var networkDevices = []string{"Router", "WAP", "Broadband Router", "Switch", "Firewall", "Modem", "Wireless Router"}

// firmwareOSes are recog os.product/os.family values whose os.version is
// the device firmware as advisories write it. Others (ipOS, Linux) are an
// embedded OS, whose version must not be mistaken for a firmware build.
var firmwareOSes = []string{"routeros", "swos"}

// valuesFromRecog maps recog parameters onto identity fields.
func valuesFromRecog(m recog.Match) Values {
	p := m.Params
	captured := func(name string) bool {
		for _, q := range m.Fingerprint.Params {
			if q.Name == name && q.Pos > 0 {
				return true
			}
		}
		return false
	}
	var v Values
	v.Vendor = firstOf(p["hw.vendor"], p["os.vendor"], p["service.vendor"])
	// A value captured from the string names this device; a fixed one
	// names a product family ("Softswitch" for a captured "SoftX3000").
	network := slices.Contains(networkDevices, p["hw.device"]) || slices.Contains(networkDevices, p["os.device"])
	switch {
	case p["hw.product"] != "" && captured("hw.product"):
		v.Model = p["hw.product"]
	case p["hw.model"] != "" && captured("hw.model"):
		v.Model = p["hw.model"]
	case p["os.product"] != "" && captured("os.product") && !strings.EqualFold(p["os.product"], p["os.family"]):
		// "RouterOS RB951-2n": recog puts the board in os.product.
		v.Model = p["os.product"]
	case p["service.product"] != "" && captured("service.product") && network:
		v.Model = p["service.product"]
	case p["hw.product"] != "":
		v.Model = p["hw.product"]
	case p["hw.model"] != "":
		v.Model = p["hw.model"]
	}
	osName := firstOf(p["os.family"], p["os.product"])
	if captured("os.product") && p["os.family"] == "" {
		osName = ""
	}
	if osName != "" && !strings.EqualFold(osName, v.Model) {
		v.OS = osName
	}
	if ver := p["os.version"]; ver != "" && slices.Contains(firmwareOSes, strings.ToLower(osName)) {
		v.Firmware = ver
	}
	return v
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
