// SPDX-License-Identifier: Apache-2.0

package openwrt

import (
	"sort"
	"strings"

	"github.com/routerwatch/routerwatch/internal/device/openwrt/uci"
)

// redacted replaces a secret value in raw artifacts.
const redacted = "<redacted>"

// secretWords: an option whose name holds one of these carries a
// credential (network password and PPPoE/3G pincode, wireless key and
// sae_password, wireguard private_key and preshared_key, ddns password,
// radius auth_secret/acct_secret, …).
var secretWords = []string{"password", "passwd", "secret", "psk", "private_key", "privkey", "preshared", "pincode", "token"}

// secret reports whether an option's value is a credential to redact.
func secret(sectionType, option, value string) bool {
	if value == "" {
		return false
	}
	o := strings.ToLower(option)
	switch {
	case sectionType == "login" && o == "password" && strings.HasPrefix(value, "$p$"):
		// rpcd: "use the system password of this user", not a secret.
		return false
	case o == "key", o == "key1", o == "key2", o == "key3", o == "key4", o == "pin", o == "wps_pin":
		// uhttpd's key is the path of its TLS key, not the key.
		return sectionType != "uhttpd"
	case strings.HasSuffix(o, "auth"):
		// dropbear's PasswordAuth and RootPasswordAuth are switches.
		return false
	case o == "username" && sectionType == "interface":
		// PPPoE, PPTP, L2TP and 3G account names: half a credential.
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(o, w) {
			return true
		}
	}
	return false
}

// redactText replaces every secret value's word in b, which pkgs were
// parsed from, and counts them.
func redactText(b []byte, pkgs []*uci.Package) ([]byte, int) {
	var spans []uci.Span
	for _, p := range pkgs {
		for _, s := range p.Sections {
			for _, o := range s.Options {
				for i, v := range o.Values {
					if secret(s.Type, o.Name, v) && i < len(o.Spans) {
						spans = append(spans, o.Spans[i])
					}
				}
			}
		}
	}
	if len(spans) == 0 {
		return b, 0
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	var out []byte
	last := 0
	for _, sp := range spans {
		if sp.Start < last {
			continue // not possible for words; keeps the copy sane
		}
		out = append(out, b[last:sp.Start]...)
		out = append(out, "'"+redacted+"'"...)
		last = sp.End
	}
	out = append(out, b[last:]...)
	return out, len(spans)
}

// redactPackage returns a copy of p with secret values replaced.
func redactPackage(p *uci.Package) (*uci.Package, int) {
	c := p.Clone()
	n := 0
	for _, s := range c.Sections {
		for _, o := range s.Options {
			for i, v := range o.Values {
				if secret(s.Type, o.Name, v) {
					o.Values[i] = redacted
					n++
				}
			}
		}
	}
	return c, n
}
