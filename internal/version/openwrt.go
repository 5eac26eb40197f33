// SPDX-License-Identifier: Apache-2.0

package version

import (
	"cmp"
	"strings"
)

// parseOpenWrt reads an OpenWrt (or LEDE) version as /etc/openwrt_release
// (DISTRIB_RELEASE, DISTRIB_REVISION, DISTRIB_DESCRIPTION) and the banner
// write it:
//
//	23.05.3
//	23.05.3 r23809-234f1a2efa
//	OpenWrt 23.05.3 r23809-234f1a2efa
//	22.03.0-rc1
//	SNAPSHOT r26345-9e6ba5b43d           master snapshot: no release number
//	OpenWrt 23.05-SNAPSHOT r23630-842932a63d   branch snapshot
//	14.07
//	Chaos Calmer 15.05.1                 release codename before the number
//
// A leading "OpenWrt" or "LEDE" and one of the historical codenames are
// allowed before the number; other words are ErrSyntax. The r-number may
// carry a commit hash and a "+N" count of local commits, both ignored.
// A snapshot must have its r-number: it is the only thing it orders by.
func (v *Version) parseOpenWrt(in string, start int) failure {
	l := lexer{s: in, i: start}
	w, at := l.next()
	if strings.EqualFold(w, "openwrt") || strings.EqualFold(w, "lede") {
		w, at = l.next()
	}
	if n := codename(w, &l); n > 0 {
		w, at = l.next()
	}
	switch {
	case w == "":
		return syntax("no version number", at)
	case strings.EqualFold(w, "snapshot"):
		v.flags |= fSnapshot
	case isDigit(w[0]):
		if f := v.openwrtRelease(w, at); f.err != nil {
			return f
		}
	default:
		return syntax("free text, not a version: expected a version number or SNAPSHOT", at)
	}
	if w, at = l.next(); w != "" {
		if f := v.revision(w, at); f.err != nil {
			return f
		}
		if w, at = l.next(); w != "" {
			return syntax("text after the revision", at)
		}
	}
	if v.flags&fSnapshot != 0 && v.flags&fRNum == 0 {
		return syntax("a snapshot without an r-number cannot be ordered", start)
	}
	return failure{}
}

// codename consumes a release codename such as "Chaos Calmer" and returns
// how many words it had, or 0 (consuming nothing) if w does not start one.
func codename(w string, l *lexer) int {
	for _, one := range [...]string{"kamikaze", "backfire", "reboot"} {
		if strings.EqualFold(w, one) {
			return 1
		}
	}
	for _, two := range [...][2]string{
		{"attitude", "adjustment"},
		{"barrier", "breaker"},
		{"chaos", "calmer"},
		{"designated", "driver"},
	} {
		if strings.EqualFold(w, two[0]) {
			save := *l
			if next, _ := l.next(); strings.EqualFold(next, two[1]) {
				return 2
			}
			*l = save
			return 0
		}
	}
	return 0
}

// openwrtRelease reads "23.05.3", "22.03.0-rc1" or the branch snapshot
// "23.05-SNAPSHOT".
func (v *Version) openwrtRelease(w string, at int) failure {
	n, f := v.dotted(w, at)
	if f.err != nil {
		return f
	}
	if v.n < 2 {
		return syntax("OpenWrt releases have at least two numbers", at)
	}
	rest := w[n:]
	switch {
	case rest == "":
	case strings.EqualFold(rest, "-snapshot"):
		v.flags |= fSnapshot
	case len(rest) > 3 && strings.EqualFold(rest[:3], "-rc") && allDigits(rest[3:]):
		num, ok := atou32(rest[3:])
		if !ok {
			return syntax("number larger than 4294967295", at+n+3)
		}
		v.pre, v.preNum = preRC, num
	default:
		return syntax("expected -rcN or -SNAPSHOT after the version number", at+n)
	}
	return failure{}
}

// revision reads "r23809-234f1a2efa", "r23809+5-234f1a2efa" or "r48532".
func (v *Version) revision(w string, at int) failure {
	if len(w) < 2 || w[0] != 'r' {
		return syntax("expected an r-number such as r23809-234f1a2efa", at)
	}
	j := 1 + digitRun(w[1:])
	num, ok := atou32(w[1:j])
	if !ok {
		return syntax("expected an r-number such as r23809-234f1a2efa", at)
	}
	rest := w[j:]
	if len(rest) > 1 && rest[0] == '+' {
		k := 1 + digitRun(rest[1:])
		if k == 1 {
			return syntax("expected a number after '+'", at+j+1)
		}
		rest = rest[k:]
	}
	if rest != "" {
		if len(rest) < 2 || rest[0] != '-' || !isHex(rest[1:]) {
			return syntax("expected a commit hash after the r-number", at+len(w)-len(rest))
		}
	}
	v.rnum = num
	v.flags |= fRNum
	return failure{}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// compareOpenWrt orders two OpenWrt builds. Releases order by number and
// "-rcN"; the r-number breaks a tie only when both have one, since it counts
// commits on the build's branch and the same release built twice is still
// the same release. A snapshot has no release number: it orders only against
// a snapshot of the same branch, by r-number.
func compareOpenWrt(a, b *Version) (int, bool) {
	as, bs := a.flags&fSnapshot != 0, b.flags&fSnapshot != 0
	if as || bs {
		if !as || !bs || a.n != b.n || compareNums(a, b) != 0 {
			return 0, false
		}
		return cmp.Compare(a.rnum, b.rnum), true
	}
	if c := compareNumeric(a, b); c != 0 {
		return c, true
	}
	if a.flags&fRNum != 0 && b.flags&fRNum != 0 {
		return cmp.Compare(a.rnum, b.rnum), true
	}
	return 0, true
}
