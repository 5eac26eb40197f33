// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"slices"
	"strings"
	"time"
)

// Open is a problem that was raised and is not resolved yet: the state
// Track carries from one cycle to the next.
type Open struct {
	Problem
	// Key is Problem.Key(), kept so that stored state reads back the same.
	Key string `json:"key"`
	// Since is when the problem was raised.
	Since time.Time `json:"since"`
}

// Cycle is what one watch cycle saw.
type Cycle struct {
	// Problems are the failing conditions seen now. Two with the same key
	// count once, at the highest severity.
	Problems []Problem
	// Skipped are the parts the cycle could not look at (the router did
	// not answer, an audit could not complete). An open problem in a
	// skipped scope that is not in Problems stays open and raises nothing.
	Skipped []Scope
}

// skipped reports whether the cycle did not look at p.
func (c *Cycle) skipped(p *Problem) bool {
	for _, s := range c.Skipped {
		if s.covers(p) {
			return true
		}
	}
	return false
}

// Track is the de-duplication state machine. Given the problems open
// after the last cycle and what this cycle saw, it returns the problems
// open now (sorted by key) and the events to send, in this order: raised
// and changed in the order of c.Problems, then resolved in key order.
//
//   - seen, not open: raised;
//   - seen, open, same severity: nothing (title, detail and evidence are
//     updated silently);
//   - seen, open, other severity: one changed event with the previous
//     severity; Since is kept;
//   - open, not seen, not skipped: resolved;
//   - open, not seen, skipped: nothing, still open.
//
// Track is pure: it reads no clock (now is the time of the cycle) and
// changes neither argument.
func Track(prev []Open, c Cycle, now time.Time) (next []Open, events []Event) {
	open := make(map[string]*Open, len(prev))
	for i := range prev {
		o := prev[i]
		if o.Key == "" {
			o.Key = o.Problem.Key()
		}
		open[o.Key] = &o
	}
	seen := dedupe(c.Problems)
	seenKeys := make(map[string]bool, len(seen))
	for i := range seen {
		p := &seen[i]
		key := p.Key()
		seenKeys[key] = true
		o, wasOpen := open[key]
		switch {
		case !wasOpen:
			events = append(events, newEvent(KindRaised, p, now, now))
			next = append(next, Open{Problem: *p, Key: key, Since: now.UTC()})
		case o.Severity != p.Severity:
			ev := newEvent(KindChanged, p, o.Since, now)
			prevSev := o.Severity
			ev.PreviousSeverity = &prevSev
			events = append(events, ev)
			next = append(next, Open{Problem: *p, Key: key, Since: o.Since})
		default:
			next = append(next, Open{Problem: *p, Key: key, Since: o.Since})
		}
	}
	keys := make([]string, 0, len(open))
	for k := range open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if seenKeys[k] {
			continue
		}
		o := open[k]
		if c.skipped(&o.Problem) {
			next = append(next, *o)
			continue
		}
		events = append(events, newEvent(KindResolved, &o.Problem, o.Since, now))
	}
	slices.SortFunc(next, func(a, b Open) int { return strings.Compare(a.Key, b.Key) })
	return next, events
}

// dedupe keeps one problem per key, the first at the highest severity, in
// the order of first appearance.
func dedupe(ps []Problem) []Problem {
	out := make([]Problem, 0, len(ps))
	at := make(map[string]int, len(ps))
	for _, p := range ps {
		k := p.Key()
		if i, ok := at[k]; ok {
			if p.Severity > out[i].Severity {
				out[i] = p
			}
			continue
		}
		at[k] = len(out)
		out = append(out, p)
	}
	return out
}
