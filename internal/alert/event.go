// SPDX-License-Identifier: Apache-2.0

package alert

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/routerwatch/routerwatch/internal/finding"
)

// SchemaVersion is the version of the JSON form of an Event. Bump it when
// a field changes meaning or goes away; adding an optional field does not
// bump it.
const SchemaVersion = 1

// JSONSchema is the JSON Schema (draft 2020-12) of an Event, for the
// people who write webhook receivers.
//
//go:embed schema/event.v1.json
var JSONSchema []byte

// Kind is what happened to a problem.
type Kind string

// Kinds.
const (
	KindRaised   Kind = "raised"
	KindChanged  Kind = "changed"
	KindResolved Kind = "resolved"
)

// Device names the router a problem is about.
type Device struct {
	// Address is the address the audit reached (or the target as given).
	Address string `json:"address"`
	// Label is the owner's name for it, if any ("office router").
	Label string `json:"label,omitempty"`
}

// String is the label and the address, or the address alone.
func (d Device) String() string {
	switch {
	case d.Label == "":
		return d.Address
	case d.Address == "":
		return d.Label
	}
	return d.Label + " (" + d.Address + ")"
}

// Problem is one failing condition seen in a cycle: usually a failing
// finding of an audit, or "the router did not answer".
type Problem struct {
	Device Device `json:"device"`
	// ID names the problem on its device and is the same in every cycle:
	// a finding's ID ("dns.resolver_hijacked@203.0.113.66"). Empty means
	// CheckID, "@" and Subject.
	ID      string `json:"id,omitempty"`
	CheckID string `json:"check_id"`
	// Subject is what the check looked at, in words.
	Subject  string           `json:"subject,omitempty"`
	Severity finding.Severity `json:"severity"`
	// Title says what was found ("DHCP hands out a DNS server that lies
	// about login names"), never the passing condition.
	Title string `json:"title"`
	// Detail is plain words: the change sentence and the DNS verdict.
	Detail string `json:"detail,omitempty"`
	// Evidence holds small facts; never a secret.
	Evidence []finding.Evidence `json:"evidence,omitempty"`
}

// ProblemFromFinding makes the problem of a failing finding of device.
func ProblemFromFinding(device Device, f *finding.Finding) Problem {
	return Problem{
		Device:   device,
		ID:       f.ID,
		CheckID:  f.CheckID,
		Subject:  f.Subject,
		Severity: f.Severity,
		Title:    f.Title,
		Detail:   f.Detail,
		Evidence: f.Evidence,
	}
}

// Key is the de-duplication key of the problem.
func (p Problem) Key() string {
	id := p.ID
	if id == "" {
		id = p.CheckID + "@" + p.Subject
	}
	return Key(p.Device.Address, id)
}

// Key is the de-duplication key of the problem id on device: the same
// device and problem give the same key in every cycle and every run.
func Key(device, id string) string { return device + " " + id }

// Scope is a part of what a cycle looks at: one check on one device, or
// (CheckID empty) everything about one device.
type Scope struct {
	Device  string `json:"device"`
	CheckID string `json:"check_id,omitempty"`
}

// covers reports whether s includes the problem p.
func (s Scope) covers(p *Problem) bool {
	return s.Device == p.Device.Address && (s.CheckID == "" || s.CheckID == p.CheckID)
}

// Event is one change of state of one problem: what the channels send.
type Event struct {
	SchemaVersion int `json:"schema_version"`
	// ID is the same for every delivery of this event (retries included),
	// so that a receiver can drop duplicates.
	ID       string           `json:"id"`
	Kind     Kind             `json:"kind"`
	Key      string           `json:"key"`
	Device   Device           `json:"device"`
	CheckID  string           `json:"check_id"`
	Subject  string           `json:"subject,omitempty"`
	Severity finding.Severity `json:"severity"`
	// PreviousSeverity is set on changed events only.
	PreviousSeverity *finding.Severity `json:"previous_severity,omitempty"`
	Title            string            `json:"title"`
	// Detail is the problem's detail; on resolved events, as it was
	// last seen.
	Detail   string             `json:"detail,omitempty"`
	Evidence []finding.Evidence `json:"evidence,omitempty"`
	// Since is when the problem was first raised (for raised: Time).
	Since time.Time `json:"since"`
	// Time is when routerwatch saw the change (UTC).
	Time time.Time `json:"time"`
}

// newEvent makes the event of kind for the problem open since since.
func newEvent(kind Kind, p *Problem, since, now time.Time) Event {
	key := p.Key()
	now = now.UTC()
	return Event{
		SchemaVersion: SchemaVersion,
		ID:            eventID(key, kind, now),
		Kind:          kind,
		Key:           key,
		Device:        p.Device,
		CheckID:       p.CheckID,
		Subject:       p.Subject,
		Severity:      p.Severity,
		Title:         p.Title,
		Detail:        p.Detail,
		Evidence:      p.Evidence,
		Since:         since.UTC(),
		Time:          now,
	}
}

// eventID derives the id from what makes the event unique, so that it
// needs no random source and the same event always has the same id.
func eventID(key string, kind Kind, t time.Time) string {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(t.UnixNano(), 10)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Headline is the one-line summary every readable channel starts with:
//
//	RAISED high: <title> on <device>
//	CHANGED medium→high: <title> on <device>
//	RESOLVED (was high): no longer seen: <title> on <device>
//
// Control characters are not removed here; each renderer escapes for its
// medium.
func (e *Event) Headline() string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(string(e.Kind)))
	switch {
	case e.Kind == KindResolved:
		b.WriteString(" (was ")
		b.WriteString(e.Severity.String())
		b.WriteString("): no longer seen: ")
	case e.Kind == KindChanged && e.PreviousSeverity != nil:
		b.WriteString(" ")
		b.WriteString(e.PreviousSeverity.String())
		b.WriteString("→")
		b.WriteString(e.Severity.String())
		b.WriteString(": ")
	default:
		b.WriteString(" ")
		b.WriteString(e.Severity.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Title)
	if d := e.Device.String(); d != "" {
		b.WriteString(" on ")
		b.WriteString(d)
	}
	return b.String()
}

// currentDetail is the detail a one-line form shows: none for resolved
// events, whose detail describes the problem as it was last seen.
func (e *Event) currentDetail() string {
	if e.Kind == KindResolved {
		return ""
	}
	return e.Detail
}
