// SPDX-License-Identifier: Apache-2.0

package advisory

import (
	"errors"
	"fmt"
	"strings"
)

// ParseVersRange reads a version range as CSAF's product_version_range
// writes it: the vers form "vers:generic/>=2.9|<=4.1" or the bare form
// CISA uses ("<= 5.4", "<4.10.0", ">=00.07.00|<=00.07.03.4"). It returns
// the vers scheme ("" for the bare form) and the ranges, each with status.
//
// Constraints are read left to right: a lower bound (">=", ">") opens an
// interval that the next upper bound ("<", "<=") closes; a bare or "="
// version is a single build; "*" is every build. ">" and "!=" cannot be
// represented exactly and are rejected rather than approximated.
func ParseVersRange(s string, status Status) (scheme string, out []Range, err error) {
	s = strings.TrimSpace(s)
	body := s
	if rest, ok := strings.CutPrefix(s, "vers:"); ok {
		i := strings.IndexByte(rest, '/')
		if i <= 0 {
			return "", nil, fmt.Errorf("%q: vers range without a scheme", s)
		}
		scheme, body = strings.ToLower(rest[:i]), rest[i+1:]
	}
	if strings.TrimSpace(body) == "" {
		return scheme, nil, fmt.Errorf("%q: empty range", s)
	}
	var cur *Range
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for c := range strings.SplitSeq(body, "|") {
		c = strings.TrimSpace(c)
		op, v := splitComparator(c)
		v = strings.TrimSpace(v)
		if v == "" && op != "*" {
			return scheme, nil, fmt.Errorf("%q: constraint %q has no version", s, c)
		}
		switch op {
		case "*":
			flush()
			out = append(out, Range{Status: status, All: true})
		case ">=":
			flush()
			cur = &Range{Status: status, Introduced: v}
		case "<", "<=":
			if cur == nil {
				cur = &Range{Status: status}
			}
			if op == "<" {
				cur.LessThan = v
			} else {
				cur.LessThanOrEqual = v
			}
			flush()
		case "=", "":
			flush()
			out = append(out, Range{Status: status, Exact: v})
		default:
			return scheme, nil, fmt.Errorf("%q: comparator %q is not supported", s, op)
		}
	}
	flush()
	if len(out) == 0 {
		return scheme, nil, errors.New("no constraint")
	}
	return scheme, out, nil
}

func splitComparator(c string) (op, v string) {
	if c == "*" {
		return "*", ""
	}
	for _, p := range []string{">=", "<=", "!=", ">", "<", "="} {
		if rest, ok := strings.CutPrefix(c, p); ok {
			return p, rest
		}
	}
	return "", c
}
