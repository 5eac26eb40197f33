// SPDX-License-Identifier: Apache-2.0

package version

import "strings"

// parseRouterOS reads a MikroTik RouterOS version, as "/system resource
// print" and the download page write it:
//
//	6.49.6
//	7.16
//	7.15rc3              pre-release tag glued to the number
//	7.16beta2
//	6.49.7 (long-term)   release channel in parentheses
//	7.16 (stable)
//	v6.48.6
//	RouterOS 7.16.1
//
// The version has two to eight numbers; pre-releases order before the
// release ("7.16beta2" < "7.16rc1" < "7.16" < "7.16.1"). The channel is kept
// for Channel but does not take part in ordering. The old channel names
// "bugfix" and "current" are accepted as "long-term" and "stable".
func (v *Version) parseRouterOS(in string, start int) failure {
	l := lexer{s: in, i: start}
	w, at := l.next()
	if strings.EqualFold(w, "routeros") {
		if w, at = l.next(); w == "" {
			return syntax("no version after RouterOS", at)
		}
	}
	i := 0
	if len(w) > 1 && (w[0] == 'v' || w[0] == 'V') {
		i = 1
	}
	if !isDigit(w[i]) {
		return syntax("version must start with a digit or v and a digit", at)
	}
	n, f := v.dotted(w[i:], at+i)
	if f.err != nil {
		return f
	}
	if v.n < 2 {
		return syntax("RouterOS versions have at least two numbers", at)
	}
	i += n
	if i < len(w) {
		if f := v.glued(w[i:], at+i); f.err != nil {
			return f
		}
	}
	if w, at = l.next(); w != "" {
		if v.channel = channel(w); v.channel == chNone {
			return syntax("expected a release channel such as (stable)", at)
		}
		if w, at = l.next(); w != "" {
			return syntax("text after the release channel", at)
		}
	}
	return failure{}
}

// glued reads a pre-release tag written straight after the numbers, as in
// "7.15rc3" or "7.16beta2".
func (v *Version) glued(w string, at int) failure {
	j := letterRun(w)
	tag := preTag(w[:j])
	if tag == 0 {
		return syntax("expected alpha, beta or rc after the version number", at)
	}
	v.pre = tag
	if j == len(w) {
		return failure{}
	}
	if !allDigits(w[j:]) {
		return syntax("unexpected text after the pre-release tag", at+j)
	}
	n, ok := atou32(w[j:])
	if !ok {
		return syntax("number larger than 4294967295", at+j)
	}
	v.preNum = n
	return failure{}
}

// channel maps "(long-term)" and friends to a channel, or chNone.
func channel(w string) uint8 {
	if len(w) < 3 || w[0] != '(' || w[len(w)-1] != ')' {
		return chNone
	}
	switch c := w[1 : len(w)-1]; {
	case strings.EqualFold(c, "long-term"), strings.EqualFold(c, "bugfix"):
		return chLongTerm
	case strings.EqualFold(c, "stable"), strings.EqualFold(c, "current"):
		return chStable
	case strings.EqualFold(c, "testing"):
		return chTesting
	case strings.EqualFold(c, "development"):
		return chDevelopment
	}
	return chNone
}
