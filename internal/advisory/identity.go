// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"slices"
	"strings"

	"github.com/routerwatch/routerwatch/internal/version"
)

// Identity is what is known about one device. Empty fields are unknown.
type Identity struct {
	Vendor   string `json:"vendor,omitempty"`
	Model    string `json:"model,omitempty"`
	HWRev    string `json:"hw_rev,omitempty"`   // "10", "V10", "v10.0"
	Region   string `json:"region,omitempty"`   // market variant: "EU", "US", "MS"
	Firmware string `json:"firmware,omitempty"` // as the device shows it
}

// ProductName is a product name taken apart the way vendors write them:
// "TL-WR841N/ND(MS) V9" is the models TL-WR841N and TL-WR841ND, region MS,
// hardware revision 9.
type ProductName struct {
	Vendor string   // canonical vendor name when the text carried one
	Models []string // one or more model names, display form
	HWRev  string   // "9", "10.0"; empty when not given
	Region string   // "EU", "MS"; empty when not given
	Alias  string   // a parenthesised alias that is not a region: "AX1800"
}

// keyBuf is the stack buffer for model and vendor keys: product names up
// to this length are matched without allocating (router model names are
// far shorter; long CSAF product names still work, through the heap).
const keyBuf = 192

// knownVendors maps a lowercase alphanumeric prefix to the display name.
var knownVendors = []struct{ key, name string }{
	{"tplink", "TP-Link"},
	{"mikrotik", "MikroTik"},
	{"openwrt", "OpenWrt"},
}

// VendorKey returns the canonical key of a vendor name: "TP-LINK",
// "TP Link Systems Inc." and "tplink" are all "tplink". Unknown vendors
// keep their lowercase letters and digits, without company suffixes.
func VendorKey(s string) string {
	var buf [keyBuf]byte
	k := appendAlnumLower(buf[:0], s)
	for _, v := range knownVendors {
		if len(k) >= len(v.key) && string(k[:len(v.key)]) == v.key {
			return v.key
		}
	}
	out := string(k)
	for _, suf := range []string{"systemsinc", "inc", "ltd", "gmbh", "corporation", "corp", "co"} {
		if len(out) > len(suf)+2 && strings.HasSuffix(out, suf) {
			out = strings.TrimSuffix(out, suf)
			break
		}
	}
	return out
}

// SchemeFor returns how a vendor writes firmware builds: TP-Link builds
// and dates, RouterOS releases, OpenWrt releases, else the generic scheme.
func SchemeFor(vendor string) version.Scheme {
	switch VendorKey(vendor) {
	case "tplink":
		return version.TPLink
	case "mikrotik":
		return version.RouterOS
	case "openwrt":
		return version.OpenWrt
	}
	return version.Generic
}

// VendorName returns the display name for a vendor key, or s unchanged.
func VendorName(s string) string {
	k := VendorKey(s)
	for _, v := range knownVendors {
		if v.key == k {
			return v.name
		}
	}
	return s
}

// vendorKeyEqual reports whether a (any spelling) names vendor key k,
// without allocating.
func vendorKeyEqual(a, k string) bool {
	var buf [keyBuf]byte
	b := appendAlnumLower(buf[:0], a)
	for _, v := range knownVendors {
		if len(b) >= len(v.key) && string(b[:len(v.key)]) == v.key {
			return v.key == k
		}
	}
	return len(b) >= len(k) && string(b[:len(k)]) == k
}

// ModelKey returns the key models are compared by: lowercase letters and
// digits only, without a leading vendor name or TP-Link's "TL-" prefix.
// "TL-WR841N", "tl-wr841n" and "WR841N" share the key "wr841n".
func ModelKey(model string) string {
	var buf [keyBuf]byte
	return string(appendModelKey(buf[:0], model))
}

// appendModelKey is ModelKey without allocation when dst has room.
func appendModelKey(dst []byte, model string) []byte {
	start := len(dst)
	dst = appendAlnumLower(dst, model)
	k := dst[start:]
	for _, v := range knownVendors {
		if len(k) > len(v.key)+2 && string(k[:len(v.key)]) == v.key {
			n := copy(k, k[len(v.key):])
			dst = dst[:start+n]
			k = dst[start:]
			break
		}
	}
	// TP-Link writes "TL-WR841N"; people write "WR841N".
	if len(k) > 4 && k[0] == 't' && k[1] == 'l' && isLower(k[2]) {
		n := copy(k, k[2:])
		dst = dst[:start+n]
	}
	return dst
}

func appendAlnumLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			dst = append(dst, c)
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		}
	}
	return dst
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseHWRev reads a hardware revision as vendors and labels write it:
// "10", "V10", "v10.0", "Ver:8.4", "Ver. 2.0". It returns the major and
// minor numbers (minor -1 when absent) and false when s is not one.
func ParseHWRev(s string) (major, minor int, ok bool) {
	i := 0
	// Skip "ver", "ver:", "ver.", "v", "hw", "rev" prefixes and spaces.
	for i < len(s) && (s[i] == ' ' || s[i] == ':' || s[i] == '.' || (s[i] >= 'A' && s[i] <= 'Z') || isLower(s[i])) {
		i++
	}
	if i > 0 && !isHWPrefix(s[:i]) {
		return 0, -1, false
	}
	major, minor = -1, -1
	n, j := readUint(s, i)
	if j == i || n > 1000 {
		return 0, -1, false
	}
	major = n
	if j < len(s) && s[j] == '.' {
		m, k := readUint(s, j+1)
		if k == j+1 || m > 1000 {
			return 0, -1, false
		}
		minor, j = m, k
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j != len(s) {
		return 0, -1, false
	}
	return major, minor, true
}

func isHWPrefix(p string) bool {
	var buf [16]byte
	if len(p) > len(buf) {
		return false
	}
	k := appendAlnumLower(buf[:0], p)
	switch string(k) {
	case "", "v", "ver", "version", "hw", "hwver", "rev", "hardware", "hardwareversion", "hwrev":
		return true
	}
	return false
}

func readUint(s string, i int) (n, j int) {
	j = i
	for j < len(s) && isDigit(s[j]) && j-i < 6 {
		n = n*10 + int(s[j]-'0')
		j++
	}
	return n, j
}

// CanonicalHWRev renders a hardware revision as its major number, or
// major.minor when a minor is given: "V10" → "10", "v8.4" → "8.4",
// "v10.0" → "10". It returns s trimmed when s is not a revision.
func CanonicalHWRev(s string) string {
	maj, min, ok := ParseHWRev(strings.TrimSpace(s))
	if !ok {
		return strings.TrimSpace(s)
	}
	if min > 0 {
		return itoa(maj) + "." + itoa(min)
	}
	return itoa(maj)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// regions are the market-variant tags vendors put in parentheses after a
// model ("Archer C7(EU) V2", "TL-WR841N(UN)_V8_170210"). The list is
// every tag seen in TP-Link's own names and in the records about them:
//   - CVE records (CVEProject/cvelistV5): EU and MS (CVE-2025-9377,
//     "TL-WR841N/ND(MS) V9"), JP (CVE-2024-21833's fixed builds), UN
//     (the TL-WR841N V8 "TL-WR841N(UN)_V8_170210" build);
//   - the support lists TP-Link writes into its firmware images, as
//     openwrt/firmware-utils' tplink-safeloader.c copies them: the
//     region field (UN, US, EU, CA) and the special_id codes, two ASCII
//     letters (US, EU, CA, JP, AU, RU, KR, BR, TW, ID, AS, ES, AR, EG, SG,
//     FR, DE);
//   - EN, which issue 8 reports in TP-Link's firmware names and records
//     (none of the data above has it), and UK, IN, IT, CN and ISP
//     (ISP-supplied variants), kept from before.
//
// A tag is a label, compared for equality only: no source read says that
// two tags name the same hardware or firmware (EN and EU are separate
// codes; EN appears in none of the support lists, EU in most), so a
// record for (EU) does not decide an (EN) device, nor the reverse. A
// record without a tag covers every variant.
var regions = map[string]bool{
	"EU": true, "US": true, "UK": true, "JP": true, "MS": true, "RU": true, "CA": true,
	"AU": true, "BR": true, "TW": true, "IN": true, "DE": true, "FR": true, "ES": true,
	"IT": true, "UN": true, "KR": true, "CN": true, "ISP": true,
	"EN": true, "ID": true, "AS": true, "AR": true, "EG": true, "SG": true,
}

// Regions lists the known market-variant tags, sorted.
func Regions() []string {
	out := make([]string, 0, len(regions))
	for r := range regions {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// IsRegion reports whether s is a known market-variant tag.
func IsRegion(s string) bool { return regions[strings.ToUpper(strings.TrimSpace(s))] }

// ParseProductName takes a product name apart. Examples:
//
//	"TL-WR841N/ND(MS) V9"          → models TL-WR841N, TL-WR841ND; region MS; hw 9
//	"Archer C7(EU) V2"             → model Archer C7; region EU; hw 2
//	"TP-Link Archer AX21 (AX1800)" → vendor TP-Link; model Archer AX21; alias AX1800
//	"TL-WR841N v10"                → model TL-WR841N; hw 10
func ParseProductName(s string) ProductName {
	var p ProductName
	s = strings.Join(strings.Fields(s), " ")
	// Leading vendor name.
	for _, v := range []struct{ prefix, name string }{
		{"tp-link systems inc.", "TP-Link"}, {"tp link systems inc.", "TP-Link"},
		{"tp-link", "TP-Link"}, {"tp link", "TP-Link"}, {"tplink", "TP-Link"},
		{"mikrotik", "MikroTik"}, {"openwrt", "OpenWrt"},
	} {
		if len(s) > len(v.prefix) && strings.EqualFold(s[:len(v.prefix)], v.prefix) && s[len(v.prefix)] == ' ' {
			p.Vendor = v.name
			s = strings.TrimSpace(s[len(v.prefix):])
			break
		}
	}
	// Parenthesised parts: a region tag or an alias.
	for {
		open := strings.IndexByte(s, '(')
		if open < 0 {
			break
		}
		closing := strings.IndexByte(s[open:], ')')
		if closing < 0 {
			break
		}
		inner := strings.TrimSpace(s[open+1 : open+closing])
		if IsRegion(inner) && p.Region == "" {
			p.Region = strings.ToUpper(inner)
		} else if p.Alias == "" {
			p.Alias = inner
		}
		s = strings.TrimSpace(s[:open] + " " + s[open+closing+1:])
		s = strings.Join(strings.Fields(s), " ")
	}
	// Hardware revision: the last token that reads as one with a prefix
	// ("V9", "v10.0", "Ver:8.4"), or "hw 10".
	fields := strings.Fields(s)
	for i := len(fields) - 1; i >= 1; i-- {
		f := fields[i]
		if f[0] == 'v' || f[0] == 'V' {
			if _, _, ok := ParseHWRev(f); ok {
				p.HWRev = CanonicalHWRev(f)
				fields = append(fields[:i], fields[i+1:]...)
				break
			}
		}
		if i >= 2 && isHWPrefix(fields[i-1]) && fields[i-1] != "" {
			if _, _, ok := ParseHWRev(f); ok {
				p.HWRev = CanonicalHWRev(f)
				fields = append(fields[:i-1], fields[i+1:]...)
				break
			}
		}
	}
	// A trailing bare region word: "Archer C7 EU".
	if n := len(fields); n >= 2 && p.Region == "" && IsRegion(fields[n-1]) && fields[n-1] == strings.ToUpper(fields[n-1]) {
		p.Region = fields[n-1]
		fields = fields[:n-1]
	}
	s = strings.Join(fields, " ")
	// "TL-WR841N/ND": the base model and a variant that replaces its
	// trailing letters.
	for part := range strings.SplitSeq(s, "/") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(p.Models) > 0 && isAllLetters(part) {
			base := p.Models[0]
			j := len(base)
			for j > 0 && isLetter(base[j-1]) {
				j--
			}
			p.Models = append(p.Models, base[:j]+part)
			continue
		}
		p.Models = append(p.Models, part)
	}
	return p
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isAllLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return s != ""
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
