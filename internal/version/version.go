// SPDX-License-Identifier: Apache-2.0

// Package version parses and orders router firmware versions the way each
// vendor writes them: TP-Link builds and build dates, MikroTik RouterOS
// releases, OpenWrt releases and snapshots, and semver-ish strings for
// everything else.
//
// The contract:
//
//   - Parse never allocates, on success or on error. Errors from Parse are
//     the sentinels ErrEmpty, ErrSyntax and ErrUnknownScheme; Explain gives
//     the precise reason and may allocate.
//   - Input longer than 256 bytes, more than 8 numeric components, or a
//     number above 4294967295 is ErrSyntax: nothing is truncated silently.
//   - A version string is a version, not a sentence. Each scheme allows only
//     a short, scheme-specific prefix (a product name such as "RouterOS" or
//     "OpenWrt Chaos Calmer", or a TP-Link model, region and hardware
//     revision); free text such as "All versions prior to version 1.14" is
//     ErrSyntax.
//   - Compare never guesses. It returns ok=false when two versions cannot be
//     ordered from the facts in the strings, for example a TP-Link build that
//     has only a date against one that has only a version number.
package version

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Scheme says how a vendor writes firmware versions.
type Scheme uint8

// The schemes. The zero Scheme is Generic.
const (
	Generic  Scheme = iota // semver-ish: 1.2.3, v2.07.2, 00.07.03.4, 2.3.0.r5417, 1.0.0-rc1
	TPLink                 // 3.16.9 Build 200409 Rel.52498n, V14_260303, Archer C7(EU)_V2_241108
	Date                   // a bare build date: 241108 (YYMMDD), 20241108 (YYYYMMDD)
	RouterOS               // MikroTik: 6.49.6, 7.15rc3, 6.49.7 (long-term), RouterOS 7.16.1
	OpenWrt                // 23.05.3, OpenWrt 23.05.3 r23809-234f1a2efa, 22.03.0-rc1, SNAPSHOT r26345-9e6ba5b43d
)

var schemeNames = [...]string{
	Generic:  "generic",
	TPLink:   "tplink",
	Date:     "date",
	RouterOS: "routeros",
	OpenWrt:  "openwrt",
}

// String returns the canonical lowercase name of s, as ParseScheme accepts it.
func (s Scheme) String() string {
	if int(s) < len(schemeNames) {
		return schemeNames[s]
	}
	return "Scheme(" + strconv.Itoa(int(s)) + ")"
}

// ParseScheme returns the scheme named by name, case-insensitively. Besides
// the names String returns it accepts the aliases "semver", "custom" and ""
// (Generic), "tp-link" (TPLink) and "mikrotik" (RouterOS).
func ParseScheme(name string) (Scheme, error) {
	n := strings.TrimSpace(name)
	for s, sn := range schemeNames {
		if strings.EqualFold(n, sn) {
			return Scheme(s), nil
		}
	}
	switch {
	case n == "", strings.EqualFold(n, "semver"), strings.EqualFold(n, "custom"):
		return Generic, nil
	case strings.EqualFold(n, "tp-link"):
		return TPLink, nil
	case strings.EqualFold(n, "mikrotik"):
		return RouterOS, nil
	}
	return Generic, fmt.Errorf("%w %q", ErrUnknownScheme, name)
}

// MarshalText implements encoding.TextMarshaler so a Scheme can sit in
// config and JSON as its name.
func (s Scheme) MarshalText() ([]byte, error) {
	if int(s) >= len(schemeNames) {
		return nil, fmt.Errorf("%w %d", ErrUnknownScheme, uint8(s))
	}
	return []byte(schemeNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseScheme, so an
// unknown scheme fails at decode time.
func (s *Scheme) UnmarshalText(text []byte) error {
	v, err := ParseScheme(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Errors returned by Parse. They are sentinels so that Parse does not
// allocate; use Explain for a message that says what is wrong and where.
var (
	ErrEmpty         = errors.New("version: empty version string")
	ErrSyntax        = errors.New("version: syntax error")
	ErrUnknownScheme = errors.New("version: unknown scheme")
)

const (
	maxInputLen   = 256
	maxComponents = 8
)

// Pre-release ranks. A released version ranks highest so that the plain
// numeric order of the rank is the version order; 0 only occurs in the zero
// Version.
const (
	preAlpha uint8 = iota + 1
	preBeta
	preRC
	preRelease
)

// RouterOS release channels.
const (
	chNone uint8 = iota
	chLongTerm
	chStable
	chTesting
	chDevelopment
)

// Flags on a Version.
const (
	fParsed   uint8 = 1 << iota // set by Parse: the zero Version is not a version
	fRel                        // TP-Link "Rel." number present
	fRNum                       // OpenWrt "r12345" revision present
	fSnapshot                   // OpenWrt snapshot build: no release number to order by
)

// Version is one parsed version string. It is a small value type: Parse
// fills it without allocating, and Raw refers to the caller's string.
// Versions are comparable with == but two spellings of the same version
// ("1.2" and "1.2.0") differ there; use Compare to order them.
type Version struct {
	Raw    string // the input, as given to Parse
	Scheme Scheme // the scheme it was parsed with

	nums    [maxComponents]uint32 // numeric components; unused ones stay zero, which gives "1.2" == "1.2.0"
	n       uint8                 // how many of nums were written
	pre     uint8                 // pre-release rank, preAlpha..preRelease
	channel uint8                 // RouterOS channel, chNone if not given
	flags   uint8
	preNum  uint32  // number after the pre-release tag: 3 in "7.15rc3"
	date    uint32  // build date as YYYYMMDD, 0 if none
	rel     uint32  // TP-Link "Rel." number, valid when fRel is set
	rnum    uint32  // OpenWrt r-number, valid when fRNum is set
	hw      uint32  // TP-Link hardware revision ("V14_260303" -> 14), 0 if none
	region  [4]byte // TP-Link region ("EU"), NUL-padded; an array so Parse does not allocate
}

// String returns Raw, so Parse(v.Scheme, v.String()) gives v back.
func (v Version) String() string { return v.Raw }

// HasDate reports whether v carries a build date.
func (v Version) HasDate() bool { return v.date != 0 }

// Date returns the build date, or zeros if v has none.
func (v Version) Date() (y, m, d int) {
	if v.date == 0 {
		return 0, 0, 0
	}
	return int(v.date / 10000), int(v.date / 100 % 100), int(v.date % 100)
}

// HWRev returns the hardware revision embedded in a TP-Link build name
// ("V14_260303" -> 14), or 0 if there is none.
func (v Version) HWRev() int { return int(v.hw) }

// Region returns the region embedded in a TP-Link build name
// ("Archer C7(EU)_V2_241108" -> "EU", "US_V5_260419" -> "US"), or "".
func (v Version) Region() string {
	n := 0
	for n < len(v.region) && v.region[n] != 0 {
		n++
	}
	return string(v.region[:n])
}

// Channel returns the RouterOS release channel written in the string:
// "long-term", "stable", "testing" or "development", or "" if none was given.
// The pre-2018 names "bugfix" and "current" are reported as "long-term" and
// "stable", which is what MikroTik renamed them to.
func (v Version) Channel() string {
	switch v.channel {
	case chLongTerm:
		return "long-term"
	case chStable:
		return "stable"
	case chTesting:
		return "testing"
	case chDevelopment:
		return "development"
	}
	return ""
}

// Parse parses raw as a version written in scheme s. It does not allocate.
// On error it returns the zero Version and ErrEmpty, ErrSyntax or
// ErrUnknownScheme; Explain says why.
func Parse(s Scheme, raw string) (Version, error) {
	v, f := parse(s, raw)
	if f.err != nil {
		return Version{}, f.err
	}
	return v, nil
}

// Explain returns nil if Parse(s, raw) succeeds, and otherwise an error that
// wraps the sentinel Parse returns and says what is wrong and at which byte.
// It allocates, so keep it off hot paths: call it after Parse failed.
func Explain(s Scheme, raw string) error {
	_, f := parse(s, raw)
	if f.err == nil {
		return nil
	}
	shown := raw
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	if f.at >= 0 {
		return fmt.Errorf("%w: %s %q: %s (byte %d)", f.err, s, shown, f.reason, f.at)
	}
	return fmt.Errorf("%w: %s %q: %s", f.err, s, shown, f.reason)
}

// failure is why a parse failed. It is returned by value with a constant
// reason so that the error path of Parse does not allocate.
type failure struct {
	err    error  // the sentinel Parse returns; nil on success
	reason string // constant text for Explain
	at     int    // byte offset into the input, or -1
}

func syntax(reason string, at int) failure {
	return failure{err: ErrSyntax, reason: reason, at: at}
}

func parse(s Scheme, raw string) (Version, failure) {
	if int(s) >= len(schemeNames) {
		return Version{}, failure{err: ErrUnknownScheme, reason: "unknown scheme", at: -1}
	}
	if len(raw) > maxInputLen {
		return Version{}, syntax("longer than 256 bytes", -1)
	}
	// Trailing newlines are tolerated because versions are often read from
	// command output; anything unprintable inside the string is not.
	start, end := 0, len(raw)
	for start < end && isBlank(raw[start]) {
		start++
	}
	for end > start && isBlank(raw[end-1]) {
		end--
	}
	if start == end {
		return Version{}, failure{err: ErrEmpty, reason: "empty", at: -1}
	}
	for i := start; i < end; i++ {
		if c := raw[i]; c != '\t' && (c < 0x20 || c > 0x7e) {
			return Version{}, syntax("control character or non-ASCII byte", i)
		}
	}
	v := Version{Raw: raw, Scheme: s, pre: preRelease, flags: fParsed}
	in := raw[:end]
	var f failure
	switch s {
	case Generic:
		f = v.parseGeneric(in, start)
	case TPLink:
		f = v.parseTPLink(in, start)
	case Date:
		f = v.parseDate(in, start)
	case RouterOS:
		f = v.parseRouterOS(in, start)
	case OpenWrt:
		f = v.parseOpenWrt(in, start)
	}
	if f.err != nil {
		return Version{}, f
	}
	return v, failure{}
}

// Compare orders a and b: c is -1, 0 or +1 as a is older than, the same as,
// or newer than b. ok is false when the two cannot be ordered honestly, and
// then c is 0. Compare never guesses:
//
//   - Versions of the same scheme are ordered by that scheme's rules (see
//     the parsers).
//   - A Date orders against a TPLink version that has a build date, by date.
//   - A Generic version orders against RouterOS and OpenWrt releases by
//     numbers and pre-release tag.
//   - Every other pair, and any Version not made by Parse, gives ok=false.
//
// Compare is antisymmetric: Compare(b, a) is (-c, ok).
func Compare(a, b Version) (c int, ok bool) {
	if a.flags&fParsed == 0 || b.flags&fParsed == 0 {
		return 0, false
	}
	// Put the pair in scheme order so each cross-scheme rule is written once
	// and antisymmetry holds by construction.
	if a.Scheme > b.Scheme {
		c, ok = compareOrdered(&b, &a)
		return -c, ok
	}
	return compareOrdered(&a, &b)
}

// compareOrdered compares a and b with a.Scheme <= b.Scheme.
func compareOrdered(a, b *Version) (int, bool) {
	switch {
	case a.Scheme == b.Scheme:
		switch a.Scheme {
		case Generic, RouterOS:
			// RouterOS channels are labels on a release, not part of its
			// order: "7.16 (stable)" is the same build as "7.16".
			return compareNumeric(a, b), true
		case TPLink:
			return compareTPLink(a, b)
		case Date:
			return cmp.Compare(a.date, b.date), true
		case OpenWrt:
			return compareOpenWrt(a, b)
		}
	case a.Scheme == TPLink && b.Scheme == Date:
		// TP-Link's CVE records give fixed builds as bare dates.
		if a.date == 0 {
			return 0, false
		}
		return cmp.Compare(a.date, b.date), true
	case a.Scheme == Generic && b.Scheme == RouterOS:
		return compareNumeric(a, b), true
	case a.Scheme == Generic && b.Scheme == OpenWrt:
		// A snapshot has no release number to compare with.
		if b.flags&fSnapshot != 0 {
			return 0, false
		}
		return compareNumeric(a, b), true
	}
	return 0, false
}

// compareNums orders the numeric components, missing ones counting as zero.
func compareNums(a, b *Version) int {
	for i := range max(a.n, b.n) {
		if c := cmp.Compare(a.nums[i], b.nums[i]); c != 0 {
			return c
		}
	}
	return 0
}

// compareNumeric orders by numeric components, then pre-release tag
// (alpha < beta < rc < release), then the number after the tag.
func compareNumeric(a, b *Version) int {
	if c := compareNums(a, b); c != 0 {
		return c
	}
	if c := cmp.Compare(a.pre, b.pre); c != 0 {
		return c
	}
	return cmp.Compare(a.preNum, b.preNum)
}

// push appends one numeric component given as ASCII digits.
func (v *Version) push(digits string, at int) failure {
	if int(v.n) == maxComponents {
		return syntax("more than 8 numeric components", at)
	}
	n, ok := atou32(digits)
	if !ok {
		return syntax("number larger than 4294967295", at)
	}
	v.nums[v.n] = n
	v.n++
	return failure{}
}

// dotted reads digits(.digits)* from the start of w into v.nums and returns
// how many bytes it used. A '.' not followed by a digit is left unread for
// the caller to reject or interpret.
func (v *Version) dotted(w string, at int) (int, failure) {
	i := 0
	for {
		j := i + digitRun(w[i:])
		if j == i {
			return i, syntax("expected a number", at+i)
		}
		if f := v.push(w[i:j], at+i); f.err != nil {
			return i, f
		}
		i = j
		if i+1 < len(w) && w[i] == '.' && isDigit(w[i+1]) {
			i++
			continue
		}
		return i, failure{}
	}
}

// lexer splits a version string into words without allocating.
type lexer struct {
	s          string // the input up to the end of its trimmed content
	i          int    // next byte to read
	underscore bool   // '_' separates words too, as in TP-Link "Archer C7(EU)_V2_241108"
}

func (l *lexer) isSep(c byte) bool {
	return c == ' ' || c == '\t' || (l.underscore && c == '_')
}

// next returns the next word and its byte offset, or "" at the end.
func (l *lexer) next() (string, int) {
	for l.i < len(l.s) && l.isSep(l.s[l.i]) {
		l.i++
	}
	at := l.i
	for l.i < len(l.s) && !l.isSep(l.s[l.i]) {
		l.i++
	}
	return l.s[at:l.i], at
}

func isBlank(c byte) bool  { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func letterRun(s string) int {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	return i
}

func allDigits(s string) bool { return s != "" && digitRun(s) == len(s) }

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// atou32 converts a non-empty run of ASCII digits. Leading zeros are fine
// ("00.07.03.4"); a value above 2^32-1 is not.
func atou32(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
		if n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), true
}

// preTag maps a pre-release word to its rank, or 0 if it is not one.
func preTag(w string) uint8 {
	switch {
	case strings.EqualFold(w, "alpha"):
		return preAlpha
	case strings.EqualFold(w, "beta"):
		return preBeta
	case strings.EqualFold(w, "rc"):
		return preRC
	}
	return 0
}
