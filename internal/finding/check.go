// SPDX-License-Identifier: Apache-2.0

package finding

import (
	"fmt"
	"regexp"
	"strings"
)

// Check describes one check: its stable ID, what its findings are called
// for each status, how much a failure matters and what makes it fail.
// Every family (firmware.*, exposure.*, dns.*) declares its checks with
// this one type, so documentation, tests and front ends read them alike.
//
// A title says what was found for the finding's status: a failing telnet
// check reads "Telnet answers on the LAN", never the passing condition
// "Telnet is off". A status the check never emits has an empty title. A
// title may hold one %s verb for what was found when it depends on the
// data ("Affected by %s" names the CVE); Title fills it.
type Check struct {
	// ID is "family.snake_case", stable across releases: JSON carries
	// it as check_id, and finding IDs start with it.
	ID string
	// Pass, Fail and Unknown are the titles of a finding of that
	// status; empty when the check never emits it. StatusError findings
	// use Unknown (the check could not decide either way).
	Pass, Fail, Unknown string
	// Severity is the severity of a failure, unless the finding says
	// otherwise (see Trigger).
	Severity Severity
	// Trigger says, in one sentence, what makes the check fail.
	Trigger string
	// Vantage names the vantage a check runs from ("lan", "wan") for
	// families that have one; empty means any.
	Vantage string
}

// checkIDRe is the form of a check ID: family, dot, snake_case name.
var checkIDRe = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// ValidCheckID reports whether id has the form family.snake_case.
func ValidCheckID(id string) bool { return checkIDRe.MatchString(id) }

// Family returns the part of the ID before the dot ("exposure").
func (c Check) Family() string {
	f, _, _ := strings.Cut(c.ID, ".")
	return f
}

// template returns the declared title for st.
func (c Check) template(st Status) string {
	switch st {
	case StatusPass:
		return c.Pass
	case StatusFail:
		return c.Fail
	}
	return c.Unknown
}

// Title returns the title of a finding with status st. When the declared
// title holds a %s verb, what fills it (a CVE ID, a service name) is
// what; otherwise what is ignored. A status the check does not declare
// gives the check ID, so that a finding never goes untitled.
func (c Check) Title(st Status, what ...string) string {
	t := c.template(st)
	switch {
	case t == "":
		return c.ID
	case strings.Contains(t, "%s"):
		return strings.Replace(t, "%s", strings.Join(what, " "), 1)
	}
	return t
}

// HasTitle reports whether title is a title Title gives for st, whatever
// fills the %s verb: the test that no finding carries the title of
// another status.
func (c Check) HasTitle(st Status, title string) bool {
	t := c.template(st)
	if t == "" {
		return false
	}
	before, after, ok := strings.Cut(t, "%s")
	if !ok {
		return title == t
	}
	return len(title) > len(before)+len(after) && strings.HasPrefix(title, before) && strings.HasSuffix(title, after)
}

// Validate checks the declaration: a well-formed ID, a trigger, at least
// one title, a different title for each declared status (a failing
// finding must not read like a passing one), at most one %s verb per
// title and no other verbs.
func (c Check) Validate() error {
	if !ValidCheckID(c.ID) {
		return fmt.Errorf("check ID %q is not family.snake_case", c.ID)
	}
	if c.Trigger == "" {
		return fmt.Errorf("%s: no trigger", c.ID)
	}
	if c.Pass == "" && c.Fail == "" && c.Unknown == "" {
		return fmt.Errorf("%s: no title", c.ID)
	}
	titles := []string{c.Pass, c.Fail, c.Unknown}
	for i, t := range titles {
		if strings.Count(t, "%") != strings.Count(t, "%s") || strings.Count(t, "%s") > 1 {
			return fmt.Errorf("%s: title %q: only one %%s verb is allowed", c.ID, t)
		}
		for _, u := range titles[i+1:] {
			if t != "" && t == u {
				return fmt.Errorf("%s: two statuses share the title %q", c.ID, t)
			}
		}
	}
	return nil
}

// Verify checks a finding against the declaration: it is c's, its status
// is one c declares, and its title is the one declared for its status.
func (c Check) Verify(f Finding) error {
	switch {
	case f.CheckID != c.ID:
		return fmt.Errorf("finding %s has check ID %q, want %s", f.ID, f.CheckID, c.ID)
	case c.template(f.Status) == "":
		return fmt.Errorf("finding %s: %s declares no title for status %s", f.ID, c.ID, f.Status)
	case !c.HasTitle(f.Status, f.Title):
		return fmt.Errorf("finding %s (%s) is titled %q; %s declares %q for %s", f.ID, f.Status, f.Title, c.ID, c.template(f.Status), f.Status)
	}
	return nil
}
