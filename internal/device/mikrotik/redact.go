// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// redacted replaces a secret value.
const redacted = "(redacted)"

// secretParts are fragments of property names that hold secrets:
// passwords (users, PPP, PPPoE/L2TP/SSTP/OVPN clients, e-mail, hotspot,
// SMB, SNMPv3), shared secrets (PPP, RADIUS, IPsec), Wi-Fi keys
// (pre-shared-key, passphrase, static-key-N, management-protection-key),
// WireGuard keys, routing authentication keys, the SIM PIN, RoMON secrets.
var secretParts = []string{
	"password", "secret", "passphrase", "pre-shared-key", "preshared-key",
	"private-key", "static-key-", "protection-key", "md5-key",
	"authentication-key", "auth-key", "sim-pin",
}

// secretNames are whole property names that hold secrets.
var secretNames = []string{"key", "pin", "psk"}

// notSecret are properties whose names contain a secret fragment but
// which hold settings (the verbose sample's /ip ssh has the first).
var notSecret = []string{"always-allow-password-login", "password-prompt"}

// isSecretProp reports whether property name of menu holds a secret
// whatever its value.
func isSecretProp(name string) bool {
	if slices.Contains(notSecret, name) {
		return false
	}
	if slices.Contains(secretNames, name) {
		return true
	}
	for _, p := range secretParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// embeddedSecret finds a console command with a credential inside a
// value: a script's source, a scheduler's on-event, a lease script
// ("/tool fetch user=u password=p …").
var embeddedSecret = regexp.MustCompile(`(?i)(password|passwd|secret|pre-shared-key|passphrase|private-key)\s*=\s*[^\s=]`)

// isSecretValue reports whether value v of property name in menu is a
// secret: any non-empty value of a secret property, a value that embeds
// a command with a credential (the whole value goes: a script cannot be
// redacted piecemeal safely), and SNMP community names that are not a
// well-known default (a community is a password).
func isSecretValue(menu, name, v string) bool {
	if v == "" {
		return false
	}
	if isSecretProp(name) || embeddedSecret.MatchString(v) {
		return true
	}
	switch {
	case menu == "snmp/community" && name == "name",
		menu == "snmp" && name == "trap-community":
		return !slices.Contains(defaultCommunities, v)
	}
	return false
}

// redactExport returns the export with every secret value replaced, and
// how many it replaced.
func redactExport(b []byte, e *Export) ([]byte, int) {
	type span struct{ start, end int }
	var spans []span
	for _, c := range e.Commands {
		if c.Menu == "snmp/community" && c.Target != "" && !slices.Contains(defaultCommunities, c.Target) && !isIndex(c.Target) {
			spans = append(spans, span{c.targetStart, c.targetEnd})
		}
		for _, ps := range [][]Prop{c.Props, c.Find} {
			for _, p := range ps {
				if p.valStart >= 0 && isSecretValue(c.Menu, p.Name, p.Value) {
					spans = append(spans, span{p.valStart, p.valEnd})
				}
			}
		}
	}
	if len(spans) == 0 {
		return slices.Clone(b), 0
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var out []byte
	last := 0
	n := 0
	for _, s := range spans {
		if s.start < last || s.end > len(b) || s.start > s.end {
			continue
		}
		out = append(out, b[last:s.start]...)
		out = append(out, '"')
		out = append(out, redacted...)
		out = append(out, '"')
		last = s.end
		n++
	}
	out = append(out, b[last:]...)
	return out, n
}

// redactRow replaces the secrets of one printed row in place and returns
// how many it replaced.
func redactRow(menu string, props map[string]string) int {
	n := 0
	for k, v := range props {
		if isSecretValue(menu, k, v) {
			props[k] = redacted
			n++
		}
	}
	return n
}

// isIndex reports whether a set target is a position ("0") or an
// internal id ("*1") rather than a name.
func isIndex(s string) bool {
	if strings.HasPrefix(s, "*") {
		return true
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
