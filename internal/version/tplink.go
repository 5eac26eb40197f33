// SPDX-License-Identifier: Apache-2.0

package version

import (
	"cmp"
	"strings"
)

// maxModelWords bounds the model name before a TP-Link version ("Archer",
// "C7(EU)"). It is what separates a build name from a sentence.
const maxModelWords = 2

// parseTPLink reads the shapes TP-Link writes a firmware build in:
//
//	3.16.9 Build 200409 Rel.52498n               web UI status page (TL-WR841N)
//	3.12.5 Build 100929 Rel.53720n               TL-WR841N v6/v7, 2010-09-29
//	0.9.1 4.19 Build 260303 Rel.42399n           the second dotted group is ignored
//	0.9.1 Build 20231120 Rel.62366               eight-digit build date
//	1.1.4 Build 20230219                         no Rel. number
//	1.2.3 Build 20200424 rel.41389(4555)         lowercase rel, bracketed suffix ignored
//	TL-WA855RE V5 20200415-rel37464              CVE-2020-24363: date and rel in one word
//	(EU)_V5_200731                               fixed build named in TP-Link's advisory
//	V14_260303                                   CVE records: hardware revision + build date
//	US_V5_260419                                 region, hardware revision, date
//	Archer C7(EU)_V2_241108                      download page: model(region)_hw_date
//	Archer AX3000(JP)_V1_1.1.2 Build 20231115    model(region)_hw_version Build date
//	241108                                       a bare date, as in "lessThan 241108"
//
// Words are separated by spaces and underscores. Before the version may come
// at most two model words, each starting with an uppercase letter ("Archer",
// "TL-WR841N(EU)"), a region (2-3 uppercase letters in parentheses, or a bare
// "US" right before the hardware revision) and a hardware revision
// ("V14", delimited by '_' or a space). Anything else, such as "All versions
// prior to version 1.14 Build 20230219", is ErrSyntax.
//
// After the prefix: the first dotted group gives the numeric components, a
// second dotted group is ignored, then an optional date (bare, or after
// "Build", any case), then an optional "Rel." number whose trailing letter
// ("52498n") is ignored; "20200415-rel37464" gives date and Rel. at once. Six-digit dates are YYMMDD in 20YY. A version needs
// a build date or at least two numeric components, since otherwise it could
// not be ordered against anything, not even itself.
func (v *Version) parseTPLink(in string, start int) failure {
	l := lexer{s: in, i: start, underscore: true}
	if f := v.tplinkPrefix(&l); f.err != nil {
		return f
	}
	if f := v.tplinkBuild(&l); f.err != nil {
		return f
	}
	if v.date == 0 && v.n < 2 {
		return syntax("neither a build date nor a version with two or more numbers", start)
	}
	return failure{}
}

// tplinkPrefix reads the model, region and hardware revision, and leaves l
// at the first word that starts with a digit or is "Build".
func (v *Version) tplinkPrefix(l *lexer) failure {
	models, firstModel := 0, -1
	var candidate string // a bare "US" that is a region if a hardware revision follows
	for {
		save := *l
		w, at := l.next()
		switch {
		case w == "":
			return syntax("no version number or build date", at)
		case isDigit(w[0]) || strings.EqualFold(w, "build"):
			*l = save
			if models > maxModelWords {
				return syntax("free text, not a version: more than two words before it", firstModel)
			}
			return failure{}
		case v.hw != 0:
			return syntax("only the version may follow the hardware revision", at)
		}
		if hw, ok := hwRev(w); ok {
			if candidate != "" {
				if f := v.setRegion(candidate, at); f.err != nil {
					return f
				}
				models--
			}
			v.hw = hw
			continue
		}
		candidate = ""
		if r, ok := parenRegion(w); ok && len(w) == len(r)+2 {
			// A bare "(EU)" word.
			if f := v.setRegion(r, at); f.err != nil {
				return f
			}
			continue
		}
		if !isModelWord(w) {
			return syntax("free text, not a version: not a model name", at)
		}
		if r, ok := parenRegion(w); ok {
			if f := v.setRegion(r, at); f.err != nil {
				return f
			}
		} else if isRegion(w) {
			candidate = w
		}
		if models++; firstModel < 0 {
			firstModel = at
		}
	}
}

// Stages of tplinkBuild: each part may appear once, in this order.
const (
	tpStart = iota
	tpNums
	tpExtra
	tpDate
	tpRel
)

// tplinkBuild reads "3.16.9 4.19 Build 200409 Rel.52498n" or any suffix of
// it that keeps the order.
func (v *Version) tplinkBuild(l *lexer) failure {
	stage := tpStart
	for {
		w, at := l.next()
		if w == "" {
			return failure{}
		}
		switch {
		case isDigit(w[0]):
			if stage >= tpDate {
				return syntax("number after the build date", at)
			}
			if dash := strings.IndexByte(w, '-'); dash > 0 {
				if f := v.dateRel(w, dash, at); f.err != nil {
					return f
				}
				stage = tpRel
				continue
			}
			if d, ok := dateToken(w); ok {
				v.date = d
				stage = tpDate
				continue
			}
			if stage == tpNums && isDotted(w) {
				stage = tpExtra
				continue
			}
			if stage != tpStart {
				return syntax("unexpected number", at)
			}
			n, f := v.dotted(w, at)
			if f.err != nil {
				return f
			}
			if n != len(w) {
				return syntax("unexpected character in version number", at+n)
			}
			stage = tpNums
		case strings.EqualFold(w, "build"):
			if stage >= tpDate {
				return syntax("unexpected Build", at)
			}
			dw, dat := l.next()
			d, ok := dateToken(dw)
			if !ok {
				return syntax("Build must be followed by a date YYMMDD or YYYYMMDD", dat)
			}
			v.date = d
			stage = tpDate
		case len(w) >= 4 && strings.EqualFold(w[:4], "rel."):
			if stage >= tpRel {
				return syntax("unexpected Rel.", at)
			}
			body, bodyAt := w[4:], at+4
			if body == "" {
				// "Rel. 52498n"
				body, bodyAt = l.next()
			}
			if f := v.relNumber(body, bodyAt); f.err != nil {
				return f
			}
			stage = tpRel
		default:
			return syntax("unexpected word in TP-Link build", at)
		}
	}
}

// dateRel reads the date and Rel. number written as one word, as in the
// CVE-2020-24363 record "TP-Link TL-WA855RE V5 20200415-rel37464".
func (v *Version) dateRel(w string, dash, at int) failure {
	d, ok := dateToken(w[:dash])
	if !ok {
		return syntax("expected a build date before '-'", at)
	}
	rel := w[dash+1:]
	if len(rel) < 3 || !strings.EqualFold(rel[:3], "rel") {
		return syntax("expected rel after the build date and '-'", at+dash+1)
	}
	body, bodyAt := rel[3:], at+dash+4
	if body != "" && body[0] == '.' {
		body, bodyAt = body[1:], bodyAt+1
	}
	v.date = d
	return v.relNumber(body, bodyAt)
}

// relNumber reads the body of "Rel.52498n" or "rel.41389(4555)". The
// trailing letter and the bracketed number are not part of the order.
func (v *Version) relNumber(w string, at int) failure {
	j := digitRun(w)
	if j == 0 {
		return syntax("Rel. must be followed by a number", at)
	}
	n, ok := atou32(w[:j])
	if !ok {
		return syntax("number larger than 4294967295", at)
	}
	rest := w[j:]
	if rest != "" && isLetter(rest[0]) {
		rest = rest[1:]
	}
	if rest != "" && (len(rest) < 3 || rest[0] != '(' || rest[len(rest)-1] != ')' || !allDigits(rest[1:len(rest)-1])) {
		return syntax("unexpected text after the Rel. number", at+len(w)-len(rest))
	}
	v.rel = n
	v.flags |= fRel
	return failure{}
}

func (v *Version) setRegion(r string, at int) failure {
	if v.region[0] != 0 {
		if v.Region() == r {
			return failure{}
		}
		return syntax("two different regions", at)
	}
	copy(v.region[:], r)
	return failure{}
}

// hwRev reads a hardware revision word "V14" (or "v14"), 1-65535.
func hwRev(w string) (uint32, bool) {
	if len(w) < 2 || len(w) > 6 || (w[0] != 'V' && w[0] != 'v') || !allDigits(w[1:]) {
		return 0, false
	}
	n, ok := atou32(w[1:])
	if !ok || n == 0 || n > 65535 {
		return 0, false
	}
	return n, true
}

// isRegion reports whether w is a region code: 2-3 uppercase letters.
func isRegion(w string) bool {
	if len(w) < 2 || len(w) > 3 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isUpper(w[i]) {
			return false
		}
	}
	return true
}

// parenRegion returns the region in a word ending in "(EU)".
func parenRegion(w string) (string, bool) {
	if len(w) < 4 || w[len(w)-1] != ')' {
		return "", false
	}
	i := strings.LastIndexByte(w, '(')
	if i < 0 || !isRegion(w[i+1:len(w)-1]) {
		return "", false
	}
	return w[i+1 : len(w)-1], true
}

// isModelWord reports whether w can be part of a TP-Link model name:
// it starts with an uppercase letter and has only letters, digits, '-', '+',
// '/' and parentheses ("Archer", "C7(EU)", "TL-WR841N(EU)").
func isModelWord(w string) bool {
	if w == "" || !isUpper(w[0]) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '+' && c != '/' && c != '(' && c != ')' {
			return false
		}
	}
	return true
}

// isDotted reports whether w is digits(.digits)+, like the "4.19" that some
// builds carry after the firmware version.
func isDotted(w string) bool {
	dots := 0
	for i := 0; i < len(w); i++ {
		if w[i] == '.' {
			if i == 0 || i == len(w)-1 || w[i-1] == '.' {
				return false
			}
			dots++
		} else if !isDigit(w[i]) {
			return false
		}
	}
	return dots > 0
}

// compareTPLink orders two TP-Link builds.
//
// TP-Link's own CVE records name fixed builds by date ("lessThan 241108",
// "V14_260303"), and the date is the one thing every shape of the string
// shares, so it decides when both have one; then the version numbers, then
// the Rel. number. Without a date on both sides the numbers decide, but only
// when each side has at least two of them: "1.1.4" against "V2_241108"
// shares nothing. Builds for different hardware revisions or regions are
// different firmware lines and are never ordered against each other.
//
// A date-only build ("V2_241108") equals every build of that day, because
// that is what TP-Link means by it. So if one day saw two builds, "1.0.0
// Build 241108" < "1.0.1 Build 241108" while both equal "V2_241108": the
// order is consistent only on real firmware lines, where the date and the
// version number grow together.
func compareTPLink(a, b *Version) (int, bool) {
	if a.hw != 0 && b.hw != 0 && a.hw != b.hw {
		return 0, false
	}
	if a.region[0] != 0 && b.region[0] != 0 && a.region != b.region {
		return 0, false
	}
	if a.date != 0 && b.date != 0 {
		if c := cmp.Compare(a.date, b.date); c != 0 {
			return c, true
		}
		if a.n > 0 && b.n > 0 {
			if c := compareNums(a, b); c != 0 {
				return c, true
			}
		}
		return compareRel(a, b), true
	}
	if a.n < 2 || b.n < 2 {
		return 0, false
	}
	if c := compareNums(a, b); c != 0 {
		return c, true
	}
	return compareRel(a, b), true
}

// compareRel orders by Rel. number when both have one.
func compareRel(a, b *Version) int {
	if a.flags&fRel == 0 || b.flags&fRel == 0 {
		return 0
	}
	return cmp.Compare(a.rel, b.rel)
}
