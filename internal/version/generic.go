// SPDX-License-Identifier: Apache-2.0

package version

// parseGeneric reads a semver-ish version, the fallback for vendors without
// a scheme of their own:
//
//	1.2.3
//	v2.07.2           a leading v is dropped
//	00.07.03.4        leading zeros are not significant: 0, 7, 3, 4
//	2.3.0.r5417       letters followed by a number separate: 2, 3, 0, 5417
//	V100R001C00       likewise: 100, 1, 0
//	1.0.0-rc1         alpha < beta < rc < release; 1.0.0-beta.2 numbers the tag
//	1.0.0+20240101    semver build metadata after '+' is ignored for ordering
//	Firmware 1.2.3    one name word may precede the version
//
// Missing trailing components count as zero, so "1.2" equals "1.2.0".
// A version must be one word containing a digit. More words, or letters that
// neither name a pre-release nor lead into a number ("1.0.2k", "1.2-final"),
// are ErrSyntax: what they mean for ordering would be a guess.
func (v *Version) parseGeneric(in string, start int) failure {
	l := lexer{s: in, i: start}
	w, at := l.next()
	if !hasDigit(w) {
		// A single product or vendor name may come first, never a sentence.
		next, nextAt := l.next()
		switch {
		case next == "":
			return syntax("no version number", at)
		case !isNameWord(w):
			return syntax("prefix is not a name (letters, '-', '_', parentheses)", at)
		case !hasDigit(next):
			return syntax("free text, not a version: more than one word before the number", nextAt)
		}
		w, at = next, nextAt
	}
	if rest, restAt := l.next(); rest != "" {
		return syntax("text after the version", restAt)
	}
	return v.genericWord(w, at)
}

// isNameWord reports whether w looks like a product or vendor name: letters
// with '-', '_' and parentheses, no digits.
func isNameWord(w string) bool {
	letters := false
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case isLetter(c):
			letters = true
		case c == '-' || c == '_' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return letters
}

// States of genericWord after a pre-release tag.
const (
	gNums   = iota // reading numeric components
	gTag           // just read alpha/beta/rc
	gTagSep        // read a separator after the tag: a number must follow
	gTagNum        // read the tag's number: only '+' metadata may follow
)

func (v *Version) genericWord(w string, at int) failure {
	i := 0
	if len(w) > 1 && (w[0] == 'v' || w[0] == 'V') && isDigit(w[1]) {
		i = 1
	}
	if !isDigit(w[i]) {
		return syntax("version must start with a digit or v and a digit", at)
	}
	state := gNums
	for i < len(w) {
		c := w[i]
		switch {
		case isDigit(c):
			j := i + digitRun(w[i:])
			switch state {
			case gNums:
				if f := v.push(w[i:j], at+i); f.err != nil {
					return f
				}
			case gTag, gTagSep:
				n, ok := atou32(w[i:j])
				if !ok {
					return syntax("number larger than 4294967295", at+i)
				}
				v.preNum = n
				state = gTagNum
			default:
				return syntax("text after the pre-release number", at+i)
			}
			i = j
		case c == '.' || c == '-' || c == '_':
			if i+1 >= len(w) || !(isDigit(w[i+1]) || isLetter(w[i+1])) {
				return syntax("separator not followed by a number or letter", at+i)
			}
			switch state {
			case gTag:
				state = gTagSep
			case gTagSep, gTagNum:
				return syntax("text after the pre-release number", at+i)
			}
			i++
		case isLetter(c):
			j := i + letterRun(w[i:])
			if state != gNums {
				return syntax("text after the pre-release tag", at+i)
			}
			if tag := preTag(w[i:j]); tag != 0 {
				v.pre = tag
				state = gTag
			} else if j == len(w) || !isDigit(w[j]) {
				// "2.3.0.r5417" is fine; "1.0.2k" would need a guess.
				return syntax("letters that are not alpha, beta or rc must lead into a number", at+i)
			}
			i = j
		case c == '+':
			// A separator is always followed by a letter or digit, so the
			// tag's number cannot be pending here.
			return buildMetadata(w[i+1:], at+i+1)
		default:
			return syntax("unexpected character", at+i)
		}
	}
	return failure{}
}

// buildMetadata checks semver build metadata ("+20240101.sha"), which does
// not take part in ordering.
func buildMetadata(m string, at int) failure {
	if m == "" {
		return syntax("empty build metadata after '+'", at)
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !isDigit(c) && !isLetter(c) && c != '.' && c != '-' {
			return syntax("unexpected character in build metadata", at+i)
		}
	}
	return failure{}
}
